"""PyTorch reference of LoCo Lab's training step, for `bench/pytorch/compare.py`.

Same network (presnet-cifar, from src/model/arch.rs), same methods (SimCLR, GIM, LoCo with
hard sharing), same decoders (conv-mlp: one residual block with stride 2, global average pool,
2-layer MLP; the top stage gets the MLP only), same NT-Xent loss, same optimizer (Adam with
L2 weight decay) and the same update rule as src/method/mod.rs: units run one at a time
(forward, loss, backward, graph freed), a unit's input is the detached output of the stage
below it, and a parameter is stepped as soon as no later unit adds to its gradient (LoCo's
shared stage waits for the upper unit; the optimizer sums the two).

Input is CIFAR-10 from the official binary files with a random crop + flip per view (the
augmentation does not enter the timed region: views are prepared before each step, as the
Rust side does in `Trainer::batch_views`; its cost is small next to the step on both sides).

Prints one JSON object per method (with --json) or a table: peak memory of a step above the
resting level (peak RSS from /proc/self/status, with /proc/self/clear_refs resetting it) and
images/s (median of the measured steps after one warm-up step).
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# (kind, width, out, blocks, groups, grouped_last_1x1, size): src/model/arch.rs PRESNET_CIFAR.
PRESNET_CIFAR = [
    ("basic", 16, 16, 2, 1, False, 32),
    ("basic", 32, 32, 2, 1, False, 22),
    ("bott", 32, 128, 2, 1, False, 16),
    ("bott", 48, 192, 2, 2, True, 12),
    ("bott", 64, 256, 2, 4, True, 8),
    ("bott", 96, 384, 2, 8, True, 6),
]
PRESNET_TINY = [
    ("basic", 16, 16, 1, 1, False, 32),
    ("basic", 24, 24, 1, 1, False, 22),
    ("bott", 16, 64, 1, 1, False, 16),
    ("bott", 24, 96, 1, 2, True, 12),
    ("bott", 32, 128, 1, 4, True, 8),
    ("bott", 48, 192, 1, 8, True, 6),
]
# PResNet-50 as the LoCo paper describes it: src/model/arch.rs PRESNET50 (native input 224).
PRESNET50 = [
    ("basic", 56, 56, 3, 1, False, 56),
    ("basic", 96, 96, 3, 1, False, 36),
    ("bott", 144, 576, 3, 1, False, 24),
    ("bott", 256, 1024, 3, 2, True, 16),
    ("bott", 512, 2048, 3, 16, True, 12),
    ("bott", 1024, 4096, 3, 128, True, 8),
]
ARCHS = {"presnet-cifar": PRESNET_CIFAR, "presnet-tiny": PRESNET_TINY, "presnet50": PRESNET50}
# (kernel, stride, channels, max pool) of the stem, and the native input: src/model/arch.rs ARCHS.
STEMS = {"presnet-cifar": (3, 1, 16, False), "presnet-tiny": (3, 1, 16, False), "presnet50": (7, 2, 32, True)}
INPUTS = {"presnet-cifar": 32, "presnet-tiny": 32, "presnet50": 224}
MAX_HIDDEN = 2048


class ConvBn(nn.Sequential):
    def __init__(self, cin, cout, k, stride=1, groups=1):
        super().__init__(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout))


class Block(nn.Module):
    def __init__(self, kind, cin, width, out, stride=1, groups=1, last_groups=1):
        super().__init__()
        if kind == "basic":
            self.convs = nn.ModuleList([ConvBn(cin, width, 3, stride, groups), ConvBn(width, out, 3, 1, groups)])
        else:
            self.convs = nn.ModuleList(
                [ConvBn(cin, width, 1), ConvBn(width, width, 3, stride, groups), ConvBn(width, out, 1, 1, last_groups)]
            )
        self.shortcut = ConvBn(cin, out, 1, stride) if (cin != out or stride != 1) else None

    def forward(self, x):
        identity = self.shortcut(x) if self.shortcut is not None else x
        h = x
        for i, c in enumerate(self.convs):
            h = c(h)
            if i < len(self.convs) - 1:
                h = F.relu(h)
        return F.relu(h + identity)


class Stage(nn.Module):
    def __init__(self, row, cin):
        super().__init__()
        kind, width, out, blocks, groups, grouped_last, size = row
        self.size = size
        self.blocks = nn.ModuleList(
            Block(kind, cin if b == 0 else out, width, out, 1, groups, groups if grouped_last and b > 0 else 1)
            for b in range(blocks)
        )

    def forward(self, x):
        if x.shape[-1] != self.size:
            # PResNet downsamples by bilinear interpolation (half-pixel centres, as ours).
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        for b in self.blocks:
            x = b(x)
        return x


class Decoder(nn.Module):
    def __init__(self, kind, block_kind, channels, proj_dim):
        super().__init__()
        width = channels if block_kind == "basic" else max(channels // 4, 1)
        self.block = Block(block_kind, channels, width, channels, 2) if kind == "conv-mlp" else None
        hidden = min(channels, MAX_HIDDEN)
        self.fc1, self.fc2 = nn.Linear(channels, hidden), nn.Linear(hidden, proj_dim)

    def forward(self, x):
        if self.block is not None:
            x = self.block(x)
        return self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3)))))


def nt_xent(z, t):
    """src/loss.rs: mean over 2N rows of -s(i, p(i)) + logsumexp_{j != i} s(i, j), s = cos / t."""
    two_n = z.shape[0]
    z = F.normalize(z, dim=1, eps=1e-12)
    sim = z @ z.t() / t
    sim = sim - torch.eye(two_n, device=z.device) * 1e9
    target = (torch.arange(two_n, device=z.device) + two_n // 2) % two_n
    return F.cross_entropy(sim, target)


def plan(method, n_stages):
    """Units as stage ranges and the top stage of each decoder (src/method/{simclr,gim,loco}.rs)."""
    if method == "simclr":
        return [range(0, n_stages)]
    if method == "gim":
        return [range(k, k + 1) for k in range(n_stages)]
    if method == "loco":
        return [range(k, k + 2) for k in range(n_stages - 1)]
    raise SystemExit(f"unknown method {method}")


class Net(nn.Module):
    def __init__(self, rows, method, decoder, proj_dim, stem=(3, 1, 16, False)):
        super().__init__()
        k, stride, channels, max_pool = stem
        # relu(pool(conv)) = pool(relu(conv)) (both monotone), so forward's relu after the pool is ours.
        self.stem = nn.Sequential(ConvBn(3, channels, k, stride), *([nn.MaxPool2d(3, 2, 1)] if max_pool else []))
        cins = [channels] + [r[2] for r in rows[:-1]]
        self.stages = nn.ModuleList(Stage(r, c) for r, c in zip(rows, cins))
        self.units = plan(method, len(rows))
        heads = []
        for u in self.units:
            top = u[-1]
            kind = "mlp" if top == len(rows) - 1 else decoder
            heads.append(Decoder(kind, rows[top][0], rows[top][2], proj_dim))
        self.heads = nn.ModuleList(heads)


class Engine:
    """Unit-by-unit step with per-parameter release, as `Plan::begin` / `Plan::next_unit`."""

    def __init__(self, net, lr, weight_decay, temperature):
        self.net, self.t = net, temperature
        units = net.units
        last = lambda pred: max(i for i, u in enumerate(units) if pred(u))
        groups = [[] for _ in units]
        groups[last(lambda u: u.start == 0)] += list(net.stem.parameters())
        for s, stage in enumerate(net.stages):
            groups[last(lambda u, s=s: s in u)] += list(stage.parameters())
        for u, head in enumerate(net.heads):
            groups[u] += list(head.parameters())
        # One Adam per release group: Adam is per-parameter, so this equals one Adam over all.
        self.optims = [torch.optim.Adam(g, lr=lr, weight_decay=weight_decay) if g else None for g in groups]
        self.last_reader = {}
        for i, u in enumerate(units):
            if u.start > 0:
                self.last_reader[u.start - 1] = i

    def step(self, views):
        net, cache, losses = self.net, {}, []
        for i, unit in enumerate(net.units):
            if unit.start == 0:
                x = F.relu(net.stem(views))
            else:
                x = cache.pop(unit.start - 1) if self.last_reader[unit.start - 1] == i else cache[unit.start - 1]
                x = x.detach()
            for s in unit:
                x = net.stages[s](x)
                if self.last_reader.get(s, -1) > i and s not in cache:
                    cache[s] = x.detach()
            loss = nt_xent(net.heads[i](x), self.t)
            loss.backward()
            del x
            value = loss.item()
            if not np.isfinite(value):
                raise SystemExit(f"unit {i} has loss {value}")
            losses.append(value)
            if self.optims[i] is not None:
                self.optims[i].step()
                self.optims[i].zero_grad(set_to_none=True)
        return losses


def load_cifar(root):
    files = [f for f in sorted(os.listdir(root)) if f.endswith(".bin") and "test" not in f]
    raw = np.concatenate([np.fromfile(os.path.join(root, f), dtype=np.uint8) for f in files])
    if raw.size % 3073:
        raise SystemExit(f"{root}: not CIFAR-10 binary records of 3073 bytes")
    rec = raw.reshape(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0


def views(images, batch, rng, side=32):
    """Two random crops (pad 4) with horizontal flips per image: [2N, 3, side, side]."""
    idx = rng.integers(0, len(images), batch)
    pad = np.pad(images[idx], ((0, 0), (0, 0), (4, 4), (4, 4)), mode="reflect")
    out = np.empty((2 * batch, 3, side, side), np.float32)
    for v in range(2):
        for j in range(batch):
            y, x = rng.integers(0, 9, 2)
            crop = pad[j, :, y : y + side, x : x + side]
            out[v * batch + j] = crop[:, :, ::-1] if rng.random() < 0.5 else crop
    return torch.from_numpy(out)


def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def reset_peak_rss():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def bench(args, method, images):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dev = torch.device(args.device)
    net = Net(ARCHS[args.arch], method, args.decoder, args.proj_dim, STEMS[args.arch]).train().to(dev)
    eng = Engine(net, args.lr, args.weight_decay, args.temperature)
    side = INPUTS[args.arch]
    sized = lambda v: v if side == 32 else F.interpolate(v, size=(side, side), mode="bilinear", align_corners=False)
    eng.step(sized(views(images, args.batch, rng)).to(dev))  # warm-up: optimizer state exists from here on
    cuda = dev.type == "cuda"
    peak, secs, losses = 0, [], None
    for _ in range(args.steps):
        v = sized(views(images, args.batch, rng))  # made outside the timed step; uploaded inside it
        if cuda:
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        else:
            base = rss_kib("VmRSS")
            reset_peak_rss()
        t0 = time.perf_counter()
        losses = eng.step(v.to(dev))  # loss.item() syncs after each unit
        if cuda:
            torch.cuda.synchronize()
        secs.append(time.perf_counter() - t0)
        if cuda:
            peak = max(peak, (torch.cuda.max_memory_allocated() - base) // 1024)
        else:
            peak = max(peak, rss_kib("VmHWM") - base)
    med = statistics.median(secs)
    return {
        "method": method,
        "units": len(net.units),
        "step_peak_bytes": peak * 1024,
        "images_per_sec": args.batch / med,
        "median_step_seconds": med,
        "losses": losses,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", default="presnet-cifar", choices=sorted(ARCHS))
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--methods", default="simclr,gim,loco")
    p.add_argument("--decoder", default="conv-mlp", choices=["conv-mlp", "mlp"])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-6)
    p.add_argument("--temperature", type=float, default=0.5)
    p.add_argument("--proj-dim", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/cifar10"))
    p.add_argument("--device", default="cpu", help="cpu or cuda (GPU step peak = CUDA allocator's)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.batch < 2 or args.steps < 1:
        raise SystemExit("--batch must be >= 2 and --steps >= 1")
    torch.set_num_threads(args.threads)
    images = load_cifar(args.data)
    rows = [bench(args, m, images) for m in args.methods.split(",")]
    if args.json:
        print(json.dumps({"torch": torch.__version__, "threads": args.threads, "device": args.device, "rows": rows}))
        return
    print(f"torch {torch.__version__}, {args.threads} threads, {args.arch} batch {args.batch}")
    for r in rows:
        print(f"{r['method']:8} {r['step_peak_bytes'] / 2**20:8.1f} MiB {r['images_per_sec']:7.1f} img/s")


if __name__ == "__main__":
    sys.exit(main())
