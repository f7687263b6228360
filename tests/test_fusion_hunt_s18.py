"""Fusion as a PyTorch user meets it when scripting / tracing training and inference code:
promotion corner cases inside fusion groups (0-dim tensors of another category, bool
arithmetic, Python scalars, integer division / remainder / fmod with negatives and zero
divisors, integer pow, shifts, sign of integers, NaN through relu / clamp / maximum / fmax,
inf through sigmoid / tanh / softplus / log1p / expm1, float16 rounded per op), layouts
(transposed, sliced, expanded, channels_last, 8-D, 0-size, 0-dim), in-place ops on locals
and on (aliased) inputs, outputs that alias inputs, control flow around groups, a scripted
training loop with changing batch sizes, train/eval, requires_grad and no_grad against the
same module run eagerly, the fusion strategy changed between calls, strict_fusion nested
and 8 threads calling one function. Scripted and traced, 3+ calls each so the optimized
plan runs; a few on the CUDA simulator target in a subprocess. References are NumPy or
literal values. (tests/test_fusion_hunt_s11.py / _s14.py are the random-program hunts.)

Found and fixed here: the int64 wrapping add / sub / mul / neg of kernels/prims.py made
the CUDA simulator's kernel fail ("Python integer -1 out of bounds for uint64", the group
ran unfused) for sign / sgn of an int64 tensor in arithmetic (its weakly typed
`where(x > 0, 1, 0) - where(x < 0, 1, 0)` is a Python int under the simulator).

As TorchScript, not eager: a Python bool operand of add / where is converted to int in
scripted code (aten::Int), so `bool_tensor + True` and `torch.where(c, True, False)` give
int64 when scripted (PyTorch's TorchScript answers the same); not tested here."""
from __future__ import annotations

import os
import threading
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit import fusers

_R = np.random.default_rng(18)
F32 = _R.standard_normal((4, 5)).astype(np.float32)
F32B = _R.standard_normal((4, 5)).astype(np.float32)
F16 = _R.standard_normal((4, 5)).astype(np.float16)
I64 = _R.integers(-7, 8, (4, 5)).astype(np.int64)
NZ64 = np.where(I64 == 0, 3, I64)
I32 = _R.integers(-7, 8, (4, 5)).astype(np.int32)
U8 = _R.integers(0, 256, (4, 5)).astype(np.uint8)
I8 = _R.integers(-128, 128, (4, 5)).astype(np.int8)
BOOL = _R.standard_normal((4, 5)) > 0
BOOL2 = _R.standard_normal((4, 5)) > 0
SPECIAL = np.array([np.nan, np.inf, -np.inf, 100, -100, 0.0, -1.0, 0.5], np.float32)


def _t(a):
    return torch.from_numpy(np.array(a, copy=True)) if isinstance(a, np.ndarray) else a


def _np(r):
    if isinstance(r, (tuple, list)):
        return [_np(x) for x in r]
    return r.numpy()


def _close(got, want, what):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want), what
        for g, w in zip(got, want):
            _close(g, w, what)
        return
    want = np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, want {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        tol = 1e-3 if want.dtype == np.float16 else 1e-5
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol,
                                   atol=tol, equal_nan=True, err_msg=what)


def check(fn, calls, ref, trace=True, fused=True):
    """fn scripted (and traced with the first call's arguments), each call made 3 times,
    against ref(*numpy arguments); no fusion group may fail to build."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", fusers.FusionWarning)
        compiled = [("script", torch.jit.script(fn))]
        if trace:
            compiled.append(("trace", torch.jit.trace(fn, tuple(_t(a) for a in calls[0]))))
        for how, f in compiled:
            for k, args in enumerate(calls):
                with np.errstate(all="ignore"):
                    want = ref(*args)
                for rep in range(3):
                    got = _np(f(*[_t(a) for a in args]))
                    _close(got, want, f"{fn.__name__} {how} call {k} run {rep}")
            if fused:
                g = f.graph_for(*[_t(a) for a in calls[0]])
                assert g.findAllNodes("prim::TensorExprGroup"), f"{fn.__name__}: no group"


# ------------------------------------------------------------------ promotion

def int_times_0dim_float(x, s):
    return (x * s).relu() + 1


def half_plus_0dim_double(x, s):
    return (x + s).sigmoid() * x


def bool_mul_int(b, i):
    return (b * i + 1) * 2


def int_true_div(x, y):
    return (x / y) + 1


def floor_rem_fmod(x, y):
    return (x // y) * 2 + (x % y) - torch.fmod(x, y)


def by_negative_constants(x):
    return (x // -2) * 3 + (x % -3) + torch.fmod(x, -2)


def int_pow(x):
    return (x ** 2) * x + (x.abs() ** 0) - (2 ** x.abs())


def shifts_and_bits(x, y):
    return ((x << 2) | (y >> 1)) ^ (~x)


def sign_of_ints(x):
    return torch.sign(x) * x.sgn() * 3 - torch.sign(x)


def wrapping_ints(x):
    return -(x * 3 + 200) * x + x.abs()


def compare_then_arith(x, y):
    return (x > y) * x + (x < 0) - (x == y).float()


def where_scalars(x):
    return torch.where(x > 0, 1.5, 0) * 2 + torch.where(x > 0, x, 2.5)


def clamp_min_above_max(x):
    return torch.clamp(x * 2, 1.0, -1.0) + torch.clamp(x, min=0.25)


def nan_through_max(x, y):
    return (x.relu() + torch.clamp(x, -0.5, 0.5), torch.maximum(x, y) * 2,
            torch.fmax(x, y) - torch.fmin(x, y), torch.minimum(x, y) + 1)


def inf_through_activations(x):
    return (torch.sigmoid(x) + torch.tanh(x), torch.nn.functional.softplus(x) * 2,
            torch.log1p(x) + torch.expm1(x))


def half_per_op(x):
    return (x * 600) - x * 599 + (x + 0.1 + 0.1 + 0.1) - x


def _sig(v):
    return 1 / (1 + np.exp(-v))


def _softplus(v):
    v = v.astype(np.float64)
    return np.where(v > 20, v, np.log1p(np.exp(np.minimum(v, 20))))


def _fmod(a, b):
    return np.fmod(a, b)


PROMOTION = [
    (int_times_0dim_float, [(I32, np.array(2.5)), (I64, np.array(1.5, np.float32))],
     # (a 0-dim tensor of a higher category gives its own dtype: float64, float32)
     lambda x, s: np.maximum(x.astype(s.dtype) * s, 0) + s.dtype.type(1)),
    (half_plus_0dim_double, [(F16, np.array(2.5)), (F16, np.array(-1.25))],
     lambda x, s: (_sig((x + np.float16(s)).astype(np.float32)).astype(np.float16) * x)),
    (bool_mul_int, [(BOOL, I32), (BOOL, I64)], lambda b, i: (b * i + 1) * 2),
    (int_true_div, [(I64, NZ64), (I32, NZ64)],
     lambda x, y: (x / y).astype(np.float32) + np.float32(1)),
    (floor_rem_fmod, [(I64, NZ64), (F32, F32B)],
     lambda x, y: (x // y) * 2 + (x % y) - _fmod(x, y)),
    (by_negative_constants, [(I64,), (F32,)],
     lambda x: (x // -2) * 3 + (x % -3) + _fmod(x, x.dtype.type(-2))),
    (int_pow, [(I64,), (I32,)],
     lambda x: (x ** 2) * x + np.ones_like(x) - (2 ** np.abs(x)).astype(x.dtype)),
    (shifts_and_bits, [(I64, np.abs(I64)), (I32, np.abs(I32))],
     lambda x, y: ((x << 2) | (y >> 1)) ^ (~x)),
    (sign_of_ints, [(I64,), (I32,), (F32,)],
     lambda x: np.sign(x) * np.sign(x) * 3 - np.sign(x)),
    (wrapping_ints, [(U8,), (I8,)],
     # (200 wraps to the tensor's dtype, as PyTorch; the int64 computation wraps alike)
     lambda x: (-(x.astype(np.int64) * 3 + 200) * x + np.abs(x.astype(np.int64))).astype(
         x.dtype)),
    (compare_then_arith, [(F32, F32B), (I64, I64[::-1].copy())],
     lambda x, y: ((x > y) * x + (x < 0) - (x == y).astype(np.float32)).astype(
         np.float32 if x.dtype.kind == "f" else np.float32)),
    (where_scalars, [(F32,), (F16,)],
     # (where of two Python numbers is float32, whatever x's dtype)
     lambda x: np.where(x > 0, np.float32(1.5), np.float32(0)) * 2
     + np.where(x > 0, x, x.dtype.type(2.5))),
    (clamp_min_above_max, [(F32,)],
     lambda x: np.full_like(x, -1.0) + np.maximum(x, np.float32(0.25))),
    (nan_through_max, [(SPECIAL, SPECIAL[::-1].copy())],
     lambda x, y: (np.maximum(x, 0) + np.clip(x, -0.5, 0.5), np.maximum(x, y) * 2,
                   np.fmax(x, y) - np.fmin(x, y), np.minimum(x, y) + 1)),
    (inf_through_activations, [(SPECIAL,)],
     lambda x: ((_sig(x.astype(np.float64)) + np.tanh(x)).astype(np.float32),
                (_softplus(x) * 2).astype(np.float32),
                (np.log1p(x) + np.expm1(x)).astype(np.float32))),
    (half_per_op, [(F16 * 100,), (F16,)],
     lambda x: (x * np.float16(600) - x * np.float16(599)
                + (x + np.float16(0.1) + np.float16(0.1) + np.float16(0.1)) - x)),
]


@pytest.mark.parametrize("fn,calls,ref", PROMOTION, ids=[c[0].__name__ for c in PROMOTION])
def test_promotion_and_special_values_in_groups_match_numpy(fn, calls, ref):
    check(fn, calls, ref)


def int_div_chain(x, y):
    return (x // y) * 2 + 1


def int_rem_chain(x, y):
    return (x % y) * 2 + 1


def int_fmod_chain(x, y):
    return torch.fmod(x, y) * 2 + 1


@pytest.mark.parametrize("fn", [int_div_chain, int_rem_chain, int_fmod_chain])
def test_integer_division_by_zero_in_a_group_raises_as_pytorch_on_the_cpu(fn):
    s = torch.jit.script(fn)
    x, y = torch.from_numpy(I64.copy()), torch.from_numpy(NZ64.copy())
    for _ in range(3):
        s(x, y)                     # the optimized plan with a fused kernel
    z = torch.from_numpy(I64.copy())        # holds zeros
    for _ in range(2):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            s(x, z)
    np.testing.assert_array_equal(s(x, y).numpy(), fn(x, y).numpy())   # still fine after


def test_integer_negative_power_raises_as_pytorch():
    def neg_pow(x):
        return (x ** -2) + 1
    s = torch.jit.script(neg_pow)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
            s(torch.from_numpy(I64.copy()))
