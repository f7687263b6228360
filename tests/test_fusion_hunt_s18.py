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
`where(x > 0, 1, 0) - where(x < 0, 1, 0)` is a Python int under the simulator); atan2's
derivative was NaN at (0, 0) (PyTorch: 0), eagerly and in fused groups' backward.

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
from fusion_asserts import find_fusion_groups

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


# ------------------------------------------------------------------ layouts, aliasing

def inplace_on_a_local(x):
    y = x.clone()
    y.mul_(2)
    y.add_(1)
    return y.relu() * y


def inplace_through_a_view(x):
    y = x * 2
    v = y.view(-1)
    v.add_(1)
    return y.relu() + 1


def views_of_group_outputs(x):
    y = (x * 2).relu()
    return y.t() + 1, y[1:, ::2] * 3, y.reshape(-1)


def transposed_in(x):
    y = x.t()
    return (y * 2 + 1).relu()


def expanded_in(x):
    y = x.expand(3, 7, 13)
    return (y * 2).sigmoid() + y


def sliced_in(x):
    y = x[:, 1:12:3]
    return (y * 2).sigmoid() + y


def broadcast_pair(x, y):
    return ((x + y) * 2).relu()


def eight_dims(x, y):
    return (x * y + x).relu() - y


ODD = _R.standard_normal((7, 13)).astype(np.float32)
B8 = _R.standard_normal((3, 2, 5, 1, 4, 3, 7, 11)).astype(np.float32)
B8R = _R.standard_normal((1, 2, 1, 6, 4, 1, 7, 1)).astype(np.float32)
BIG = _R.standard_normal((67, 1031)).astype(np.float32)     # (the thread pool's chunks)

LAYOUTS = [
    (inplace_on_a_local, [(ODD,), (np.zeros((0, 5), np.float32),), (np.array(1.5, np.float32),)],
     lambda x: np.maximum(x * 2 + 1, 0) * (x * 2 + 1)),
    (inplace_through_a_view, [(ODD,), (B8,)], lambda x: np.maximum(x * 2 + 1, 0) + 1),
    (views_of_group_outputs, [(ODD,)],
     lambda x: (np.maximum(x * 2, 0).T + 1, np.maximum(x * 2, 0)[1:, ::2] * 3,
                np.maximum(x * 2, 0).reshape(-1))),
    (transposed_in, [(ODD,), (BIG,), (BIG.astype(np.float16),)],
     lambda x: np.maximum(x.T * x.dtype.type(2) + x.dtype.type(1), 0)),
    (expanded_in, [(ODD,)],
     lambda x: _sig(np.broadcast_to(x, (3, 7, 13)) * 2).astype(np.float32) + x),
    (sliced_in, [(ODD,), (BIG[:, :13],)],
     lambda x: _sig(x[:, 1:12:3] * 2).astype(np.float32) + x[:, 1:12:3]),
    (broadcast_pair, [(ODD, ODD[0]), (ODD[:, :1].copy(), ODD[0]), (np.array(0.5, np.float32), ODD),
                      (BIG, BIG[0])],
     lambda x, y: np.maximum((x + y) * 2, 0)),
    (eight_dims, [(B8, B8R)], lambda x, y: np.maximum(x * y + x, 0) - y),
]


@pytest.mark.parametrize("fn,calls,ref", LAYOUTS, ids=[c[0].__name__ for c in LAYOUTS])
def test_layouts_and_inplace_locals_match_numpy(fn, calls, ref):
    check(fn, calls, ref)


def bias_relu(x, b):
    return (x * 2 + b).relu()


def test_a_channels_last_input_gives_a_channels_last_result():
    a = _R.standard_normal((4, 16, 9, 11)).astype(np.float32)
    b = _R.standard_normal((16, 1, 1)).astype(np.float32)
    s = torch.jit.script(bias_relu)
    for _ in range(4):
        x = torch.from_numpy(a).contiguous(memory_format=torch.channels_last)
        out = s(x, torch.from_numpy(b))
        assert out.is_contiguous(memory_format=torch.channels_last), out.stride()
        np.testing.assert_allclose(out.numpy(), np.maximum(a * 2 + b, 0), rtol=1e-6)


def returns_input(x):
    return x


def group_output_and_its_views(x):
    y = (x * 2).relu()
    return y, y.view(-1), y[0]


def input_view_and_group(x):
    return x.view(-1), x * 2


def same_output_twice(x):
    a = (x * 2).relu()
    return a, a


@pytest.mark.parametrize("how", ["script", "trace"])
def test_outputs_alias_as_in_eager(how):
    fns = (returns_input, group_output_and_its_views, input_view_and_group, same_output_twice)
    for fn in fns:
        f = torch.jit.script(fn) if how == "script" else torch.jit.trace(fn, (torch.randn(3, 4),))
        for _ in range(4):
            x = torch.randn(3, 4)
            out = f(x)
            if fn is returns_input:
                assert out is x
            elif fn is group_output_and_its_views:
                out[0].add_(100)
                assert float(out[1][0]) == float(out[0][0, 0]) == float(out[2][0])
            elif fn is input_view_and_group:
                np.testing.assert_allclose(out[1].numpy(), x.numpy() * 2, rtol=1e-6)
                out[0].add_(100)
                assert float(x[0, 0]) == float(out[0][0])
            else:
                assert out[0] is out[1]


def mutate_first(x, y):
    x.add_(1)
    return (x * y).relu()


def read_then_mutate(x, y):
    z = (x * y).relu()
    x.mul_(2)
    return z + y


def mutate_in_loop(x, y):
    for _ in range(3):
        x.mul_(0.5)
        y.add_(x * 2)
    return (x + y).tanh()


def mutate_through_transpose(x, y):
    t = x.t()
    t.mul_(2)
    return (x * y) - 1


def _np_inputs(kind):
    """(x, y, base) as NumPy arrays where y aliases x as it would for the tensors."""
    a = ODD[:4, :6].copy()
    if kind == "same":
        return a, a, a
    if kind == "overlap":
        b = np.concatenate([a, a])
        return b[0:4], b[1:5], b
    return a, a * 2, a


def _np_run(fn, x, y):
    if fn is mutate_first:
        x += 1
        return np.maximum(x * y, 0)
    if fn is read_then_mutate:
        z = np.maximum(x * y, 0)
        x *= 2
        return z + y
    if fn is mutate_in_loop:
        for _ in range(3):
            x *= 0.5
            y += x * 2
        return np.tanh(x + y)
    x *= 2
    return x * y - 1


@pytest.mark.filterwarnings("ignore:There are .* live references")    # (as PyTorch's tracer)
@pytest.mark.parametrize("how", ["script", "trace"])
@pytest.mark.parametrize("kind", ["same", "overlap", "distinct"])
@pytest.mark.parametrize("fn", [mutate_first, read_then_mutate, mutate_in_loop,
                                mutate_through_transpose])
def test_inplace_on_aliased_inputs_is_seen_by_the_caller(fn, kind, how):
    def tensors():
        x, y, base = _np_inputs(kind)
        tb = torch.from_numpy(base.copy())
        if kind == "same":
            return tb, tb, tb
        if kind == "overlap":
            return tb[0:4], tb[1:5], tb
        return tb, torch.from_numpy(y.copy()), tb
    f = torch.jit.script(fn) if how == "script" else torch.jit.trace(fn, tensors()[:2])
    for _ in range(4):
        x, y, base = _np_inputs(kind)
        base = base.copy()
        if kind == "overlap":
            x, y = base[0:4], base[1:5]
        elif kind == "same":
            x = y = base
        else:
            x, y = base, y.copy()
        want = _np_run(fn, x, y)
        tx, ty, tb = tensors()
        got = f(tx, ty)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(tb.numpy(), base, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ty.numpy(), y, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ control flow

def loop_body_fuses(x, n: int):
    y = x
    for _ in range(n):
        y = (y * 0.5 + x).sigmoid()
    return y


def growing_loop(x, n: int):
    for _ in range(n):
        x = torch.cat([x, x * 0.5], 0)
        x = (x * 2 + 1).tanh()
    return x


def branches(x, c: bool):
    if c:
        y = (x * 2).relu() + 1
    else:
        y = (x - 1).sigmoid() * 3
    return y * x


def early_return(x, n: int):
    acc = torch.zeros_like(x)
    for k in range(n):
        acc = acc + (x * k).sigmoid()
        if k == 2:
            return acc * 2
    return acc


def after_a_matmul(x, w):
    y = (x * 2 + 1).relu()
    z = torch.mm(y, w)
    return z.sigmoid() * 2 + y.sum()


def dtype_changes_in_loop(x, n: int):
    y = x
    for k in range(n):
        y = (y * 2).to(torch.float64) if k % 2 == 0 else (y * 3).float()
        y = y.sigmoid() + 1
    return y


def _np_loop_body(x, n):
    y = x
    for _ in range(n):
        y = _sig(y * np.float32(0.5) + x).astype(np.float32)
    return y


def _np_growing(x, n):
    for _ in range(n):
        x = np.concatenate([x, x * np.float32(0.5)])
        x = np.tanh(x * 2 + 1).astype(np.float32)
    return x


def _np_early(x, n):
    acc = np.zeros_like(x)
    for k in range(n):
        acc = acc + _sig(x * k).astype(np.float32)
        if k == 2:
            return acc * 2
    return acc


def _np_dtype_loop(x, n):
    y = x
    for k in range(n):
        y = (y * 2).astype(np.float64) if k % 2 == 0 else (y * 3).astype(np.float32)
        y = _sig(y).astype(y.dtype) + 1
    return y


@pytest.mark.parametrize("fn,calls,ref", [
    (loop_body_fuses, [(ODD, 3), (ODD, 0), (B8, 2)], _np_loop_body),
    (growing_loop, [(ODD, 3), (ODD, 1), (ODD, 0), (ODD, 2)], _np_growing),
    (branches, [(ODD, True), (ODD, False), (B8, True)],
     lambda x, c: (np.maximum(x * 2, 0) + 1 if c else _sig(x - 1).astype(np.float32) * 3) * x),
    (early_return, [(ODD, 5), (ODD, 2), (ODD, 3)], _np_early),
    (after_a_matmul, [(ODD, ODD.T.copy())],
     lambda x, w: _sig(np.maximum(x * 2 + 1, 0) @ w).astype(np.float32) * 2
     + np.maximum(x * 2 + 1, 0).sum(dtype=np.float32)),
    (dtype_changes_in_loop, [(ODD, 3), (ODD, 2), (ODD, 1), (ODD, 4)], _np_dtype_loop),
], ids=lambda v: getattr(v, "__name__", "_"))
def test_groups_inside_control_flow_match_numpy(fn, calls, ref):
    check(fn, calls, ref, trace=False, fused=False)


def atan2_chain(x, y):
    return torch.atan2(x, y) * 2 + 1


def test_atan2_gradient_at_the_origin_is_zero_as_pytorch():
    # the derivative was grad * other / (self^2 + other^2): NaN at (0, 0) where PyTorch
    # answers 0 (its reciprocal is 0 where the sum is 0); a tiny nonzero sum still
    # gives inf / NaN as in PyTorch
    x = np.array([0.0, -0.0, 1e-30, 1e-20, 1.0, -2.0], np.float32)
    y = np.array([0.0, 0.0, 1e-30, 0.0, 2.0, 1.0], np.float32)
    with np.errstate(all="ignore"):
        den = x * x + y * y                     # (float32: 0 at (1e-30, 1e-30))
        want_x = np.where(den == 0, 0, y * (1 / den))
        want_y = np.where(den == 0, 0, -x * (1 / den))
    want_x[3], want_y[3] = np.nan, -np.inf      # (1e-20)^2 is a float32 subnormal
    for f in (atan2_chain, torch.jit.script(atan2_chain), torch.jit.script(atan2_chain),
              torch.jit.script(atan2_chain)):
        tx, ty = _t(x).requires_grad_(), _t(y).requires_grad_()
        f(tx, ty).sum().backward()
        np.testing.assert_allclose(tx.grad.numpy(), 2 * want_x, rtol=1e-5)
        np.testing.assert_allclose(ty.grad.numpy(), 2 * want_y, rtol=1e-5)

# ------------------------------------------------------------------ a training loop

class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(6, 8)
        self.l2 = torch.nn.Linear(8, 3)
        self.scale = torch.nn.Parameter(torch.ones(8) * 0.5)

    def forward(self, x):
        h = self.l1(x)
        h = torch.sigmoid(h * self.scale + 1.0) * torch.tanh(h) + torch.nn.functional.gelu(h) * 0.1
        if self.training:
            h = h * 1.5
        y = self.l2(h)
        return (y * y + torch.nn.functional.silu(y)).mean(), y


def test_a_scripted_training_loop_matches_the_module_run_eagerly():
    """Batch size changing each step (STATIC specializations spent, then DYNAMIC), train /
    eval, an input that requires grad or not, no_grad and inference_mode steps, SGD with
    momentum: losses, outputs and every gradient equal the same module run eagerly."""
    torch.manual_seed(0)
    eager = _Net()
    scripted_net = _Net()
    scripted_net.load_state_dict(eager.state_dict())
    s = torch.jit.script(scripted_net)
    opt_e = torch.optim.SGD(eager.parameters(), lr=0.1, momentum=0.9)
    opt_s = torch.optim.SGD(s.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(1)
    sizes = [4, 4, 4, 5, 3, 7, 2, 6, 1, 4, 4, 8, 9, 4, 3]
    for step, n in enumerate(sizes):
        x = rng.standard_normal((n, 6)).astype(np.float32)
        mode = step % 5
        eager.train(mode != 3)
        s.train(mode != 3)
        xe, xs = _t(x), _t(x)
        if mode == 2:
            xe.requires_grad_(True)
            xs.requires_grad_(True)
        if mode == 4:
            with torch.no_grad():
                (le, ye), (ls, ys) = eager(xe), s(xs)
            assert not ls.requires_grad
            np.testing.assert_allclose(ls.numpy(), le.numpy(), rtol=1e-5, atol=1e-6)
            with torch.inference_mode():
                (le, ye), (ls, ys) = eager(xe), s(xs)
            np.testing.assert_allclose(ys.numpy(), ye.numpy(), rtol=1e-5, atol=1e-6)
            continue
        opt_e.zero_grad()
        opt_s.zero_grad()
        (le, ye), (ls, ys) = eager(xe), s(xs)
        np.testing.assert_allclose(ls.detach().numpy(), le.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=f"loss, step {step}")
        (le + ye.sum() * 0.1).backward()
        (ls + ys.sum() * 0.1).backward()
        ps = dict(s.named_parameters())
        for name, p in eager.named_parameters():
            np.testing.assert_allclose(ps[name].grad.numpy(), p.grad.numpy(), rtol=1e-4,
                                       atol=1e-6, err_msg=f"grad of {name}, step {step}")
        if mode == 2:
            np.testing.assert_allclose(xs.grad.numpy(), xe.grad.numpy(), rtol=1e-4, atol=1e-6)
        opt_e.step()
        opt_s.step()
    g = s.graph_for(_t(x))
    # (the groups inside the DifferentiableGraph regions graph_for shows)
    assert find_fusion_groups(g), str(g)


# ------------------------------------------------------------------ settings and threads

def sig_chain(x, y):
    return (x * y + 1).sigmoid() * x - y.relu()


def _np_sig_chain(x, y):
    return (_sig(x * y + 1) * x - np.maximum(y, 0)).astype(np.float32)


@pytest.mark.filterwarnings("ignore:.*has made all the specializations")
def test_the_fusion_strategy_changed_between_calls():
    s = torch.jit.script(sig_chain)
    shapes = [(3, 4), (5, 4), (2, 2), (3, 4), (7,), (1, 9), (3, 4), (2, 3, 4), (0, 3)]
    strategies = [[("STATIC", 2)], [("DYNAMIC", 3)], [("STATIC", 0)],
                  [("STATIC", 1), ("DYNAMIC", 1)], [("DYNAMIC", 20)]]
    old = torch.jit.set_fusion_strategy(strategies[0])
    try:
        rng = np.random.default_rng(2)
        for k, sh in enumerate(shapes * 3):
            if k % 5 == 4:
                torch.jit.set_fusion_strategy(strategies[(k // 5) % len(strategies)])
            x, y = (rng.standard_normal(sh).astype(np.float32) for _ in range(2))
            np.testing.assert_allclose(s(_t(x), _t(y)).numpy(), _np_sig_chain(x, y),
                                       rtol=1e-5, atol=1e-6)
    finally:
        torch.jit.set_fusion_strategy(old)


def test_eight_threads_call_one_function_with_different_shapes():
    s = torch.jit.script(sig_chain)
    errors = []

    def work(k):
        rng = np.random.default_rng(k)
        try:
            for j in range(25):
                sh = [(3, 4), (5,), (2, 3, 4), (k + 1, 2), (0, 3)][(j + k) % 5]
                x, y = (rng.standard_normal(sh).astype(np.float32) for _ in range(2))
                out = s(_t(x), _t(y))
                assert out.shape == sh
                np.testing.assert_allclose(out.numpy(), _np_sig_chain(x, y), rtol=1e-5,
                                           atol=1e-6)
        except Exception as e:      # (reported by the main thread)
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def nested_strict(x):
    with torch.jit.strict_fusion():
        with torch.jit.strict_fusion():
            y = (x * 2).relu()
        z = y.sigmoid()
    return z


def strict_then_raise(x):
    with torch.jit.strict_fusion():
        y = (x * 2).relu()
        if bool(y.sum() > 100):
            raise ValueError("big")
    return y


def strict_ok(x):
    with torch.jit.strict_fusion():
        y = (x * 2).relu() + 1
    return y


def test_strict_fusion_nested_or_around_a_raise_refuses_clearly_and_leaves_others_alone():
    # PyTorch refuses both too ("Found unfused operators"); gpujit names the op and why
    for fn, what in ((nested_strict, "aten::sigmoid"), (strict_then_raise, "aten::sum")):
        s = torch.jit.script(fn)
        with pytest.raises(fusers.StrictFusionError, match=what):
            for _ in range(3):
                s(torch.ones(3))
    ok = torch.jit.script(strict_ok)
    for _ in range(3):
        np.testing.assert_array_equal(ok(torch.ones(3)).numpy(), [3, 3, 3])
    # eagerly the block is a plain context manager: an exception leaves it cleanly
    with pytest.raises(ValueError):
        with torch.jit.strict_fusion():
            raise ValueError("inside")
    np.testing.assert_array_equal(strict_ok(torch.ones(2)).numpy(), [3, 3])


# ------------------------------------------------------------------ the CUDA simulator

SIM_SCRIPT = r"""
import test_fusion_hunt_s18 as h

for fn, calls, ref in h.PROMOTION + h.LAYOUTS:
    # (the simulator runs each thread as Python: small calls only)
    calls = [c for c in calls if all(np.size(a) <= 256 for a in c)]
    if calls:
        h.check(fn, calls, ref, trace=False)
for fn in (h.int_div_chain, h.int_rem_chain):
    s = torch.jit.script(fn)
    x, y = torch.from_numpy(h.I64.copy()), torch.from_numpy(h.NZ64.copy())
    for _ in range(3):
        np.testing.assert_array_equal(s(x, y).numpy(), fn(x, y).numpy())
assert SIM_KERNELS, "no group ran on the simulated CUDA target"
print(f"simulator: {{len(SIM_KERNELS)}} kernels passed")
"""


@pytest.mark.sim
def test_promotion_and_layout_cases_on_the_simulated_cuda_target():
    # sign / sgn of an int64 tensor in arithmetic failed there ("Python integer -1 out of
    # bounds for uint64": the wrapping int64 multiply took a Python int) and ran unfused
    from test_fusion_sim_fuzz import PRELUDE, run_sim
    from test_kernels import session_cache_dir
    out = run_sim((PRELUDE + SIM_SCRIPT).format(tests=os.path.dirname(__file__)),
                  session_cache_dir())
    assert "kernels passed" in out, out
