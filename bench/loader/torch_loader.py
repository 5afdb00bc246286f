"""The input pipeline of `locolab bench --loader-only` in torchvision: decode, SimCLR's
augmentation (the same recipe locolab picks for the folder: ImageNet's above 64 px, CIFAR's at
or below) into two views, a DataLoader with K workers; prints images/s like locolab does.

    python bench/loader/torch_loader.py --data DIR --input 224 --batch 64 --workers 2 --batches 20
"""
import argparse
import json
import os
import time

import torch
from PIL import Image
from torchvision import datasets, transforms as T

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def recipe(size, large):
    if large:  # SimCLR ImageNet (colour strength 1.0), as LoCo
        k = int(0.1 * size) // 2 * 2 + 1
        return T.Compose([
            T.RandomResizedCrop(size, scale=(0.08, 1.0)),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
            T.RandomGrayscale(p=0.2),
            T.RandomApply([T.GaussianBlur(k, sigma=(0.1, 2.0))], p=0.5),
            T.ToTensor(),
            T.Normalize(MEAN, STD),
        ])
    return T.Compose([
        T.RandomResizedCrop(size, scale=(0.2, 1.0)),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])


class TwoViews:
    def __init__(self, t):
        self.t = t

    def __call__(self, x):
        return self.t(x), self.t(x)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="image-folder tree; its train/ is read")
    p.add_argument("--input", type=int, default=224)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    train = os.path.join(a.data, "train")
    first_class = sorted(os.listdir(train))[0]
    first = Image.open(os.path.join(train, first_class, sorted(os.listdir(os.path.join(train, first_class)))[0]))
    large = max(first.size) > 64
    ds = datasets.ImageFolder(train, transform=TwoViews(recipe(a.input, large)))
    dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True,
                                     persistent_workers=a.workers > 0)
    it = iter(dl)
    # Steady state: drain what the workers prefetched while starting (prefetch_factor 2 each),
    # as locolab's bench does with its queue.
    warmup = 2 * a.workers + 3
    need = warmup + a.batches
    if need > len(dl):
        raise SystemExit(f"{train} has {len(dl)} batches of {a.batch}; need {need}")
    for _ in range(warmup):
        next(it)
    t0 = time.perf_counter()
    for _ in range(a.batches):
        next(it)
    rate = a.batches * a.batch / (time.perf_counter() - t0)
    if a.json:
        print(json.dumps({"images_per_sec": rate}))
    else:
        print(f"torchvision: {rate:.1f} images/s (two {a.input}x{a.input} views each, batch {a.batch}, {a.workers} workers)")


if __name__ == "__main__":
    main()
