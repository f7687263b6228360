"""Train an MLP classifier on two interleaved spirals, the PyTorch way, with gpujit.

    python examples/train_mlp.py                       # eager, CPU (or --device cuda)
    python examples/train_mlp.py --script              # the model compiled with gpujit.jit.script
    python examples/train_mlp.py --trace               # the model traced with gpujit.jit.trace
    python examples/train_mlp.py --epochs 30 --points 10000

Prints one line per epoch (loss, held-out accuracy, time) and exits non-zero if the
held-out accuracy stays under --target (95% by default).
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import gpujit as torch
import gpujit.nn as nn
import gpujit.nn.functional as F


def spirals(n, noise=0.02, turns=1.75, seed=0):
    """n points on two interleaved spirals (classes 0 and 1), shuffled."""
    rng = np.random.default_rng(seed)
    k = n // 2
    t = np.sqrt(rng.random(k)) * turns * 2 * math.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (turns * 2 * math.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0, noise, size=(2 * k, 2))
    y = np.concatenate([np.zeros(k, np.int64), np.ones(k, np.int64)])
    order = rng.permutation(2 * k)
    return x[order].astype(np.float32), y[order]


class MLP(nn.Module):
    def __init__(self, width=64, depth=3):
        super().__init__()
        layers, d = [], 2
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.Tanh()]
            d = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, 2)

    def forward(self, x):
        return self.head(self.body(x))


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(points=10000, epochs=25, batch=128, lr=1e-2, device="cpu", trace=False, seed=0,
          log=print, script=False):
    """Returns (final held-out accuracy, model)."""
    torch.manual_seed(seed)
    xs, ys = spirals(points, seed=seed)
    n_test = points // 5
    x_test = torch.tensor(xs[:n_test], device=device)
    y_test = torch.tensor(ys[:n_test], device=device)
    x_train = torch.tensor(xs[n_test:], device=device)
    y_train = torch.tensor(ys[n_test:], device=device)
    model = MLP().to(device)
    if script:
        net = torch.jit.script(model)
    elif trace:
        net = torch.jit.trace(model, x_train[:batch])
    else:
        net = model
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    n = x_train.shape[0]
    acc = 0.0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n, device=device)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(net(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * idx.shape[0]
        sched.step()
        acc = accuracy(net, x_test, y_test)
        log(f"epoch {epoch:3d}  loss {total / n:.4f}  held-out accuracy {100 * acc:5.1f}%  "
            f"{time.perf_counter() - t0:5.2f} s")
    return acc, model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--points", type=int, default=10000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--script", action="store_true", help="train the gpujit.jit.script'ed model")
    p.add_argument("--trace", action="store_true", help="train the gpujit.jit.trace'd model")
    p.add_argument("--target", type=float, default=0.95)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    acc, _ = train(args.points, args.epochs, args.batch, args.lr, args.device, args.trace,
                   script=args.script)
    print(f"held-out accuracy {100 * acc:.1f}% after {args.epochs} epochs, "
          f"{time.perf_counter() - t0:.1f} s")
    if acc < args.target:
        sys.exit(f"accuracy {100 * acc:.1f}% is under the target {100 * args.target:.0f}%")


if __name__ == "__main__":
    main()
