"""OpInfos of the ops over Generator objects (gpujit/ops/random_ops.py): aten::Generator,
aten::manual_seed.generator, aten::seed and aten::initial_seed, what scripted
`torch.Generator(...)` and `g.manual_seed(n)` / `g.seed()` / `g.initial_seed()` compile to
(tests/test_jit_generator_port_s25.py checks them in scripted code). The results are
generators and seeds, checked by `check` (no tensors: no meta, GPU or gradient checks)."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample


def _draws(g):
    return G.rand(4, generator=g).numpy()


def _check_new(sample, out):
    assert isinstance(out, G.Generator), out
    seed = sample.kwargs.get("seed")
    want = G.Generator()
    want.manual_seed(67280421310721 if seed is None else seed)   # PyTorch's default seed
    assert out.initial_seed() == want.initial_seed()
    np.testing.assert_array_equal(_draws(out), _draws(want))


def _check_manual_seed(sample, out):
    g, seed = sample.args
    assert out is g and g.initial_seed() == seed
    want = G.Generator()
    want.manual_seed(seed)
    np.testing.assert_array_equal(_draws(out), _draws(want))


def _check_seed(sample, out):
    # (the ops are TorchScript's: an int64, a uint64 seed past 2**63 negative; the
    # Generator's Python method gives the unsigned value)
    g = sample.args[0]
    assert type(out) is int and -(1 << 63) <= out < 1 << 63
    assert g.initial_seed() == out % (1 << 64)


def _check_initial_seed(sample, out):
    assert -(1 << 63) <= out < 1 << 63 and out % (1 << 64) == sample.args[0].initial_seed()


def _seeded(n):
    g = G.Generator()
    g.manual_seed(n)
    return g


OPINFOS = [
    OpInfo("aten::Generator", samples=lambda: [Sample(), Sample(seed=7),
                                                Sample(device="cpu", seed=2 ** 40)],
           check=_check_new, meta=False, gpu=False, grad=False),
    OpInfo("aten::manual_seed.generator",
           samples=lambda: [Sample(G.Generator(), 3), Sample(_seeded(1), 2023)],
           check=_check_manual_seed, meta=False, gpu=False, grad=False),
    OpInfo("aten::seed", samples=lambda: [Sample(G.Generator()), Sample(_seeded(5))],
           check=_check_seed, meta=False, gpu=False, grad=False),
    OpInfo("aten::initial_seed", samples=lambda: [Sample(_seeded(11)), Sample(G.Generator())],
           check=_check_initial_seed, meta=False, gpu=False, grad=False),
]
