"""Programs the fuzzers found in session 32 (helper a32, seeds 32001..32012), minimised;
expected layouts are PyTorch 2.13's (eager / torch.jit.script / torch.jit.trace, x86-64),
written out.

- test_fuzz_finds_s27's mode 6 (GPUJIT_PROGRAM_FUZZ_SEED=32007, seed
  32007*100003+2700144): `torch.pow(s, v)` of a transposed v, later `.view(-1)` of a
  result computed from it: PyTorch's pow.Scalar (a Python number base) allocates its
  output with no strides (set_output_raw_strided(exp.sizes(), {}), then redispatches to
  the Tensor overload), so 2.0 ** x.t() is C-contiguous where torch.tensor(2.0) ** x.t()
  and x.t() ** 2.0 are laid out as x.t(); gpujit laid every pow out as TensorIterator does,
  and the view raised "view size is not compatible". float_power.Scalar calls pow.Scalar:
  the same. A registry op names such parameters (`contiguous_numbers`); eager entry
  points, the executor's unfused ops and the fuser's output layouts read it.
- the same seed (seed 32007*100003+2700040) met `x1.floor_divide_(v4)` with v4 = x1[:1]
  and x1 transposed: PyTorch's overlap check cannot tell ("too hard") and its CPU loop
  reads elements it has already written; a fuzzer false positive: the generator reads
  such an operand through .clone() (tests/program_fuzz_gen_f.py).
- test_program_fuzz_s23's gradient check (GPUJIT_PROGRAM_FUZZ_SEED=32010, seed
  32010*100003+2301+33): `v2 = x1[1::2]` of a leaf x1, then `x1.float().detach_()` (x1
  itself): a backward through v2 reached x1's AccumulateGrad and gpujit stored x1.grad;
  PyTorch's AccumulateGrad::apply returns when the leaf no longer requires grad."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit


def _t(n=3, m=4):
    # a (4, 3) tensor with strides (1, 4): transposed
    return gpujit.from_numpy(np.arange(n * m, dtype=np.float32).reshape(n, m) / 7).t()


@pytest.mark.parametrize("fn, strides", [
    (lambda x: gpujit.pow(2.0, x), (3, 1)),
    (lambda x: 2.0 ** x, (3, 1)),
    (lambda x: gpujit.pow(1.0, x), (3, 1)),
    (lambda x: gpujit.float_power(2.0, x), (3, 1)),
    (lambda x: 2 ** (x * 4).long(), (3, 1)),      # (an int64 tensor laid out as x)
    (lambda x: gpujit.pow(gpujit.tensor(2.0), x), (1, 4)),
    (lambda x: x ** 2.0, (1, 4)),
    (lambda x: x.pow(0.5), (1, 4)),
    (lambda x: gpujit.xlogy(2.0, x), (1, 4)),
    (lambda x: gpujit.remainder(2.0, x), (1, 4)),
])
def test_pow_of_a_number_base_is_contiguous_as_pytorch(fn, strides):
    x = _t()
    r = fn(x)
    assert tuple(r.shape) == (4, 3)
    assert r.stride() == strides
    if strides == (3, 1):
        np.testing.assert_allclose(r.numpy(), fn(x.contiguous()).numpy(), rtol=1e-6)
        assert tuple(r.view(-1).shape) == (12,)


def test_int_pow_of_a_number_base_is_contiguous():
    xi = gpujit.from_numpy(np.arange(12).reshape(3, 4)).t()
    r = 2 ** xi
    assert r.stride() == (3, 1)
    np.testing.assert_array_equal(r.numpy(), 2 ** np.arange(12).reshape(3, 4).T)


def _f(x, y):
    a = 2.0 ** x
    b = gpujit.pow(2.0, x) + 1
    c = gpujit.float_power(2.0, x)
    d = gpujit.pow(gpujit.tensor(2.0), x)
    e = (x * 2).sin() + gpujit.pow(3.0, y)
    g = (gpujit.pow(2.0, x * 3) + 1).view(-1)
    return a, b, c, d, e, g


# torch 2.13: eager, torch.jit.script (after profiling: fused) and torch.jit.trace alike
_WANT = [(3, 1), (3, 1), (3, 1), (1, 4), (1, 4), (1,)]


@pytest.mark.filterwarnings("ignore::gpujit.jit.TracerWarning")
def test_pow_of_a_number_base_is_contiguous_in_script_and_trace():
    x = _t()
    assert [o.stride() for o in _f(x, x)] == _WANT
    s = gpujit.jit.script(_f)
    for _ in range(3):              # the profiling call, then the fused ones
        outs = s(x, x)
        assert [o.stride() for o in outs] == _WANT
    want = _f(x, x)
    for o, w in zip(outs, want):
        np.testing.assert_allclose(o.numpy(), w.numpy(), rtol=1e-6)
    t = gpujit.jit.trace(_f, (x, x))
    for _ in range(2):
        assert [o.stride() for o in t(x, x)] == _WANT


def _fuzz_32007_144(x0, x2, s: float):
    v2 = x0.t().contiguous().t()
    a = x2.clamp(min=gpujit.pow(s, v2.clamp(-4, 4)))
    v11 = gpujit.div(gpujit.copysign(a, -1.0).half(), -2, rounding_mode='trunc')
    return v11.view(-1)


def test_fuzz_program_viewing_a_pow_of_a_number():
    # (mode 6, GPUJIT_PROGRAM_FUZZ_SEED=32007, seed 32007*100003+2700144, call 8: x0
    # expanded, x2 of stride 0); PyTorch: v11 is contiguous and the view succeeds
    x0 = gpujit.from_numpy(np.array([[0.5, -1.0, 2.0]], np.float32)).expand(4, 3)
    x2 = gpujit.from_numpy(np.array([0.25], np.float32)).expand(3)
    want = np.trunc(-np.maximum(0.25, 2.0 ** np.clip(np.array([0.5, -1.0, 2.0]), -4, 4)) / -2)
    want = np.tile(want.astype(np.float16), 4)
    for fn in (_fuzz_32007_144, gpujit.jit.script(_fuzz_32007_144)):
        for _ in range(3):
            r = fn(x0, x2, 2.0)
            assert tuple(r.shape) == (12,) and r.dtype == gpujit.float16
            np.testing.assert_array_equal(r.numpy(), want)


def test_the_mode_6_generator_clones_an_operand_viewing_the_written_tensor():
    import os
    import sys
    sys.path.insert(0, os.path.dirname(__file__))
    from program_fuzz_gen_f import program_f
    src, _ = program_f(32007 * 100003 + 2700040)
    assert "x1.floor_divide_(v4.clone())" in src
    assert "v4 = x1[:1]" in src


# ------------------------------------------------------------------ detach_ of a leaf

def test_a_leaf_detached_in_place_after_joining_the_graph_gets_no_grad():
    # (test_program_fuzz_s23's gradient check, GPUJIT_PROGRAM_FUZZ_SEED=32010, seed
    # 32010*100003+2301+33) v2 = x1[1::2] joined the graph, then x1.float() (x1 itself)
    # .detach_(): PyTorch's AccumulateGrad::apply returns when the leaf no longer requires
    # grad, so x1.grad stays None; gpujit stored the gradient
    x1 = gpujit.from_numpy(np.arange(12, dtype=np.float32).reshape(4, 3) / 5)
    x1.requires_grad_(True)
    v2 = x1[1::2]
    x1.float().detach_()
    assert not x1.requires_grad and v2.requires_grad and x1.is_leaf
    v4 = v2.type_as(v2) * x1.mean()
    assert v4.requires_grad
    v4.sum().backward()
    assert x1.grad is None


def test_a_leaf_that_stopped_requiring_grad_gets_no_grad():
    x = gpujit.ones(3, requires_grad=True)
    y = (x * 2).sum()
    x.requires_grad_(False)
    y.backward()
    assert x.grad is None
    z = gpujit.ones(3, requires_grad=True)
    (z * 2).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [2.0, 2.0, 2.0])
