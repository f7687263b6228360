"""Session 37's fuser / kernel hunt (helper d37): the CPU kernels that walk strided layouts
row by row (kernels/emit.py, session 36), the older fuzzers with new seeds, and issue 5's
user-facing edges, against eager PyTorch 2.13 and TorchScript's NNC.

What was hammered and held (pinned below so a regression fails):
- row-by-row CPU kernels over transposed, sliced-with-steps, expanded (stride 0), permuted
  3-D / 4-D inputs, size-1 and 0-size dims, broadcasting across rows, int8 / uint8 / int32 /
  int64 / bool / float16 / float32 / float64 and multi-output groups with partially broadcast
  outputs, STATIC and DYNAMIC, threaded launches whose chunks start and end inside rows:
  ~1100 random kernels (equal to the reference interpreter bit for bit, floats within the
  kernel tests' tolerances); scripted in-place writes into non-contiguous targets
  (`x[:, ::2].add_(...)`, `x.t().mul_(...)`, a local's strided view written in place), chunk
  and cat groups over strided inputs, on the CPU and (tiny) simulator targets: values,
  dtypes, shapes and strides as eager torch.

What was found:
- the older fuzzers' new seeds (guard fuzz 37001: 6 of 150 cases) failed in the eager
  reference, not in the fuser: the backward of `torch.tanh` / `torch.sigmoid` of a 0-dim
  float32 / float64 tensor raised "return arrays must be of ArrayType" (session 36's
  Derivative.raw formulas update a NumPy ufunc's result in place with `out=`, and a ufunc of
  0-dim arrays returns a NumPy scalar). torch 2.13: `x = torch.tensor(0.5,
  requires_grad=True); torch.sigmoid(x).backward()` gives x.grad == tensor(0.2350) (tanh:
  tensor(0.7864)). ops/derivatives.raw_operands now refuses 0-dim arrays (the formula runs).
- a 0-size call of a group that had a DYNAMIC specialization ran that kernel (its guard
  checked `size != 1` for the dims that do not broadcast, which a 0 passes) and returned
  the launcher's C-order empty outputs, where eager code gives TensorIterator's strides:
  `f(x, y) = ((x * 2 + y).relu(), (x - y) * 3)` scripted under [("DYNAMIC", 5)], warmed on
  (4, 3, 5) and (3, 5), then called with x = zeros(5, 0, 4).permute(2, 1, 0),
  y = zeros(5, 0).t(): the second result has strides (5, 20, 1) eagerly in torch 2.13
  (gpujit: (5, 5, 1)). The DYNAMIC guard now checks `size > 1` (the same cost): a 0-size
  tensor runs unfused, as it does before a first specialization (ZERO_SIZE, exempt from
  strict_fusion and the budget).
- the unfused run of a group (for that 0-size call) re-wrapped its input arrays as new
  tensors, which gives an empty array NumPy's all-zero strides replaced by a new tensor's:
  a `torch.from_numpy(np.zeros((5, 0, 1), np.float32))` (strides (0, 0, 0) in torch 2.13,
  kept by from_numpy) then gave `(torch.pow(y, 2) > 0) | (x < 0)` (y = ones(2)[::2]) the
  strides (1, 1, 1) traced, (0, 1, 0) eagerly (torch: (0, 1, 0) both). The group's
  fallback keeps such an array's strides (FusedGroup._interpret).
- the s32 fuzzer's seed 3700561026 (an eager op of compiled code, not the fuser): scripted
  `t0 = y * y; t2 = t0.masked_fill(t0 > 1, s); return t0, t2 > s`, profiled on int32
  (1, 1, 4, 3) and called with zeros(2, 3, 0, 1): `t2 > s` has strides (0, 0, 1, 0)
  eagerly in torch 2.13 (TensorIterator's, from the mask's (0, 0, 1, 0)); gpujit's
  compiled code answered (3, 1, 1, 1): memory_format.c_layout, which gives an op's result
  torch.empty's strides, copied into NumPy's new empty array, whose strides NumPy makes all
  0, and the next op laid its result out from those. c_layout now allocates an empty
  result with PyTorch's strides.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import gpujit as torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------- 0-dim tanh / sigmoid backward (eager autograd)

@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("fn", ["tanh", "sigmoid", "relu", "mul"])
def test_backward_of_a_0dim_pointwise_op(fn, dtype):
    dt = getattr(torch, dtype)
    x = torch.tensor(0.5, dtype=dt, requires_grad=True)
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
         "mul": lambda t: t * t}[fn]
    f(x).backward()
    want = {"tanh": 1 - np.tanh(0.5) ** 2, "sigmoid": 0.25 - (np.tanh(0.25) / 2) ** 2,
            "relu": 1.0, "mul": 1.0}[fn]
    g = x.grad
    assert g.shape == () and g.dtype is dt
    tol = 1e-3 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(float(g), want, rtol=tol)
    # a 0-dim input of a scripted function: its group's backward runs the same formulas
    y = torch.tensor(0.5, dtype=dt, requires_grad=True)
    s = torch.jit.script(_tanh_sigmoid)
    for _ in range(3):
        y.grad = None
        s(y).backward()
        np.testing.assert_allclose(float(y.grad), _tanh_sigmoid_grad(0.5), rtol=max(tol, 1e-5))


def _tanh_sigmoid(x):
    return torch.tanh(x) * torch.sigmoid(x) + x * 2.0


def _tanh_sigmoid_grad(v):
    t, s = np.tanh(v), 1 / (1 + np.exp(-v))
    return (1 - t * t) * s + t * s * (1 - s) + 2.0


# ------------------------------------------ a 0-size call after a DYNAMIC specialization

def _two(x, y):
    return (x * 2 + y).relu(), (x - y) * 3


def test_a_0size_call_after_a_dynamic_specialization_answers_with_eager_strides():
    prev = torch.jit.set_fusion_strategy([("DYNAMIC", 5)])
    try:
        s = torch.jit.script(_two)
        for _ in range(3):
            s(torch.ones(4, 3, 5), torch.ones(3, 5))
        before = torch.kernels.cache_info().specializations
        x = torch.zeros(5, 0, 4).permute(2, 1, 0)
        y = torch.zeros(5, 0).t()
        with torch.jit.strict_fusion():         # (a 0-size call is exempt)
            got = s(x, y)
        # torch 2.13 eagerly: strides (5, 5, 1) and (5, 20, 1)
        assert [tuple(t.stride()) for t in got] == [(5, 5, 1), (5, 20, 1)]
        assert [tuple(t.stride()) for t in _two(x, y)] == [(5, 5, 1), (5, 20, 1)]
        assert all(tuple(t.shape) == (4, 0, 5) for t in got)
        assert torch.kernels.cache_info().specializations == before
        # the DYNAMIC kernel still serves other sizes of its pattern
        a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10
        b = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
        r1, r2 = s(torch.from_numpy(a), torch.from_numpy(b))
        np.testing.assert_allclose(r1.numpy(), np.maximum(a * 2 + b, 0), rtol=1e-6)
        np.testing.assert_allclose(r2.numpy(), (a - b) * 3, rtol=1e-6)
        assert torch.kernels.cache_info().specializations == before
    finally:
        torch.jit.set_fusion_strategy(prev)


def _or_of_compares(x, y):
    return (torch.pow(y, 2) > 0) | (x < 0)


def test_a_from_numpy_empty_array_keeps_its_strides_in_a_groups_unfused_run():
    t = torch.jit.trace(_or_of_compares, (torch.ones(5, 3, 1), torch.ones(1)))
    y = torch.ones(2)[::2]
    for n in (3, 3, 7):
        t(torch.ones(5, n, 1), y)
    x = torch.from_numpy(np.zeros((5, 0, 1), np.float32))
    assert x.stride() == (0, 0, 0)
    # torch 2.13, eagerly and traced: (0, 1, 0)
    assert _or_of_compares(x, y).stride() == (0, 1, 0)
    for _ in range(2):
        r = t(x, y)
        assert r.stride() == (0, 1, 0) and tuple(r.shape) == (5, 0, 1)
        assert r.dtype is torch.bool


def _masked_then_compare(y, s: float):
    t0 = y * y
    t2 = t0.masked_fill(t0 > 1, s)
    return t0, t2 > s


def test_an_empty_result_laid_out_in_c_order_keeps_pytorchs_strides():
    f = torch.jit.script(_masked_then_compare)
    for _ in range(3):
        f(torch.zeros(1, 1, 4, 3, dtype=torch.int32), 3.0)
    y = torch.zeros(2, 3, 0, 1, dtype=torch.int32)
    # torch 2.13, eager and scripted: (3, 1, 1, 1) and (0, 0, 1, 0)
    assert [r.stride() for r in _masked_then_compare(y, 3.0)] == [(3, 1, 1, 1), (0, 0, 1, 0)]
    for _ in range(2):
        got = f(y, 3.0)
        assert [r.stride() for r in got] == [(3, 1, 1, 1), (0, 0, 1, 0)]
        assert [r.dtype for r in got] == [torch.int32, torch.bool]
    from gpujit.ops.memory_format import c_layout
    a = np.zeros((2, 3, 0, 1), np.int32)[:, :, :, ::1].transpose(1, 0, 2, 3)
    assert a.shape == (3, 2, 0, 1) and c_layout(np, a).strides == (8, 4, 4, 4)
