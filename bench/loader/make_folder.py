"""Write an ImageNet-sized image folder for the loader benchmark: CIFAR JPEGs upscaled to
500x375 (bicubic), saved as JPEG quality 90, in the same train/<class>/ and test/<class>/ layout.

    python bench/loader/make_folder.py --src ~/.cache/locolab-data/cifar10-jpeg-17959276 \
        --out /tmp/locolab-imagenet-like --per-class 100
"""
import argparse
import os

from PIL import Image


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--src", required=True, help="an image-folder tree (train/<class>/*.jpg, test/<class>/*.jpg)")
    p.add_argument("--out", required=True)
    p.add_argument("--per-class", type=int, default=100, help="train images per class (test: a fifth)")
    p.add_argument("--size", default="500x375")
    a = p.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    for split, n in (("train", a.per_class), ("test", max(1, a.per_class // 5))):
        for cls in sorted(os.listdir(os.path.join(a.src, split))):
            src = os.path.join(a.src, split, cls)
            dst = os.path.join(a.out, split, cls)
            os.makedirs(dst, exist_ok=True)
            for name in sorted(os.listdir(src))[:n]:
                out = os.path.join(dst, name)
                if not os.path.exists(out):
                    Image.open(os.path.join(src, name)).convert("RGB").resize((w, h), Image.BICUBIC).save(out, quality=90)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
