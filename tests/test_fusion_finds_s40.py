"""Session 40's fuser / numerics hunt (helper a40), against eager PyTorch 2.13 (CPU) and
TorchScript with NNC; torch's values are written out (no torch import).

- Design (DESIGN.md: one op registry every layer reads): kernels/scalar_codegen._expression
  kept a chain of per-op, per-dtype special forms (float16 trunc / floor division with the
  one-element rule, lerp's fmadd / fma, float16 ndtr / entr / xlogy / xlog1py / deg2rad /
  rad2deg, hardshrink's lambd, masked_fill's integral value, logit, _batch_norm_lined_up)
  beside the registry's `scalar`. Each is now the op's `scalar_for(form)` hook next to its
  declaration (form: gpujit.ops.scalar.ScalarForm: the operands' dtypes, the computation
  dtype, the constant arguments, one_element(name)); the generator names no op. The
  generated kernels were byte-identical before and after (GPUJIT_DUMP=kernels over 129
  kernels covering every form, CPU and simulator targets, STATIC and DYNAMIC).

- float16 nll_loss / cross_entropy with reduction 'mean' / 'sum' (and float32 / float64's
  last bits): torch 2.13's CPU kernels (nll_loss_out_frame, nll_loss2d_forward_out_frame)
  add the picked log-probabilities (times the class weight, rounded) and the weights in a
  cascade sum of 8 levels (level 0 flushed into level 1 after every target index that is a
  multiple of 16, ... skipped targets flush nothing) in the input's dtype -- Half: every
  add rounded to half -- and divide in it; cross_entropy is nll_loss of the half
  log_softmax. gpujit summed in float32 (NumPy's pairwise sum): nll_loss of a float16
  (37, 4) input was 0.099853515625, torch's 0.0999755859375; 8 of 9 probes differed.
  float16 cross_entropy 'none' (nll_loss of the half log_softmax: -logp[t] * w[t] rounded
  to half) and with label_smoothing (torch's composite on Half tensors, each op rounded)
  were computed in float32 and rounded once: 59 of 66 'none' and 39 of 67 smoothed means
  differed; 0 of 300 random probes (1-D, N-D, weights, ignore_index) now.
  Their float16 gradients: torch's _log_softmax_backward_data / _softmax_backward_data
  compute in float and round once (gpujit's derivatives rounded every registry op: 99
  of 100 log_softmax gradients, nearly every cross_entropy one differed), and nll_loss's
  'mean' divides by its forward's half cascade total weight (45 of 100 weighted
  gradients differed).

- float16 add / sub / rsub with alpha != 1 (CPU): torch's TensorIterator loop computes
  fmadd in float (one rounding) in vectorized steps of 32 elements of its coalesced inner
  run and the rest (run % 32, or all of a run it cannot vectorize: strided operands) in
  Half arithmetic, alpha * b rounded to half first (AVX2 and AVX512 builds alike). gpujit
  computed every element the vectorized way: 238 of 600 random probes differed.
  (float16 rsqrt likewise: the scalar code computes 1 / std::sqrt(c10::Half), the root
  rounded to half first, 6 of 31 elements one ulp apart; left: gpujit rounds once, as its
  fused kernels do, which TorchScript's NNC port tests check bit for bit.)

- Fuzz (seeds 40001..): a fusion group's add / sub / rsub with alpha != 1 rounded
  a + alpha * b twice; eager (and torch) round once (fmadd): 8 of 37 float32 elements of
  torch.add(a, b, alpha=0.3) differed fused vs eager. The ops' scalar_for now gives the
  fmadd form for float32 / float64.
"""
from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest

import gpujit as torch
from gpujit import dtypes as dt
from gpujit.ops import registry
from gpujit.ops.fused_norm import BATCH_NORM_LINED_UP
from gpujit.ops.scalar import ScalarForm, check_expression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------- per-dtype scalar forms live in the registry

def test_the_kernel_generator_names_no_op():
    """scalar_codegen asks the OpDef (scalar_for) for every special form: no op name in
    its code (a comment may mention one)."""
    with open(os.path.join(_ROOT, "kernels", "scalar_codegen.py")) as f:
        code = [ln.split("#")[0] for ln in f]
    named = [ln.strip() for ln in code if re.search(r"[\"']aten::", ln)]
    assert named == [], named
    assert not any(".name ==" in ln or ".name in" in ln for ln in code)


def _op(name):
    # (aten::_batch_norm_lined_up is the fuser's own OpDef, not a public op)
    return BATCH_NORM_LINED_UP if name == BATCH_NORM_LINED_UP.name else registry.OPS[name]


def _form(name, dtypes, ct, constants=None, one=None):
    op = _op(name)
    form = ScalarForm(op.scalar, dtypes, ct, constants or {}, one)
    return op, op.scalar_for(form) if op.scalar_for is not None else None


H, F, D, I64 = dt.float16, dt.float32, dt.float64, dt.int64


@pytest.mark.parametrize("name,dtypes,ct,constants,one,want", [
    # float16 trunc division: one-element divisor / several / known only at run time
    ("aten::div.Tensor_mode", {"self": H, "other": H}, H, {"rounding_mode": "trunc"},
     lambda n: True, "trunc({self} / {other})"),
    ("aten::div.Tensor_mode", {"self": H, "other": H}, H, {"rounding_mode": "trunc"},
     lambda n: False, "trunc(cast_float16({self} / {other}))"),
    ("aten::div.Tensor_mode", {"self": H, "other": H}, H, {"rounding_mode": "trunc"},
     lambda n: "one_other_0", "where(one_other_0, trunc({self} / {other}), "
                              "trunc(cast_float16({self} / {other})))"),
    ("aten::div.Tensor_mode", {"self": F, "other": F}, F, {"rounding_mode": "trunc"},
     None, "trunc({self} / {other})"),
    ("aten::div.Tensor_mode", {"self": I64, "other": I64}, I64, {"rounding_mode": "trunc"},
     None, None),
    ("aten::div.Tensor_mode", {"self": H, "other": H}, H, {"rounding_mode": "floor"},
     lambda n: False, "floordiv_half({self}, {other})"),
    ("aten::div.Tensor_mode", {"self": H, "other": H}, H, {"rounding_mode": None},
     None, None),
    ("aten::floor_divide", {"self": H, "other": H}, H, {}, lambda n: True,
     "{self} // {other}"),
    ("aten::floor_divide", {"self": H, "other": "float"}, H, {}, lambda n: False, None),
    ("aten::lerp.Scalar", {"self": D, "end": D, "weight": "float"}, D, {}, None,
     "fma(where(abs({weight}) < 0.5, {weight}, {weight} - 1), {end} - {self}, "
     "where(abs({weight}) < 0.5, {self}, {end}))"),
    ("aten::hardshrink", {"self": F, "lambd": "float"}, F, {"lambd": 0.5}, None,
     "where(({self} >= -cast_float32({lambd})) & ({self} <= cast_float32({lambd})), 0, "
     "{self})"),
    ("aten::hardshrink", {"self": D, "lambd": "float"}, D, {"lambd": 0.5}, None, None),
    ("aten::masked_fill.Scalar", {"self": I64, "mask": dt.bool, "value": "float"}, I64,
     {}, None, "where({mask}, cast_int64({value}), {self})"),
    ("aten::masked_fill.Scalar", {"self": F, "mask": dt.bool, "value": "float"}, F,
     {}, None, None),
    ("aten::special_entr", {"self": F}, F, {}, None, None),
    ("aten::_batch_norm_lined_up", {"input": F, "weight": None, "bias": F,
                                    "running_mean": F, "running_var": F, "eps": "float"},
     F, {"weight": None}, None,
     "({input} - {running_mean}) * (1 / sqrt({running_var} + {eps})) + {bias}"),
])
def test_scalar_for_gives_each_special_form(name, dtypes, ct, constants, one, want):
    op, got = _form(name, dtypes, ct, constants, one)
    assert got == want
    if got is not None:
        check_expression(got, [a.name for a in op.schema.arguments] + ["one_other_0"])


def test_every_special_form_is_in_the_scalar_language():
    """Each op with a scalar_for hook: its form for float16 / float32 / float64 operands
    (one element or not) parses in the scalar language."""
    hooked = [n for n, o in registry.OPS.items() if o.scalar_for is not None] + [
        BATCH_NORM_LINED_UP.name]
    assert {"aten::div.Tensor_mode", "aten::floor_divide", "aten::lerp.Tensor",
            "aten::special_ndtr", "aten::logit", "aten::ldexp.Tensor",
            "aten::masked_fill.Tensor", "aten::xlogy.Tensor", "aten::special_xlog1py",
            "aten::deg2rad", "aten::rad2deg", "aten::_batch_norm_lined_up"} <= set(hooked)
    for n in hooked:
        op = _op(n)
        names = [a.name for a in op.schema.arguments]
        for T in (H, F, D):
            for one in (True, False):
                form = ScalarForm(op.scalar, {a: T for a in names}, T,
                                  {"rounding_mode": "floor"}, lambda _, one=one: one)
                e = op.scalar_for(form)
                if e is not None:
                    check_expression(e, names)


# ------------------------------------------- nll_loss / cross_entropy: torch's cascade sum

def _inp(shape, d):
    n = int(np.prod(shape))
    return torch.from_numpy((np.sin(np.arange(n) * 1.3) * 3).reshape(shape).astype(d))


def _tgt(shape, c):
    n = int(np.prod(shape))
    return torch.from_numpy(((np.arange(n) * 7 + np.arange(n) // 3) % c).reshape(shape)
                            .astype(np.int64))


# (function, input shape, target shape, dtype, kwargs, with a weight, torch 2.13's bits)
_NLL = [
    ("nll_loss", (37, 4), (37,), np.float16, {}, False, 11878),
    ("nll_loss", (37, 4), (37,), np.float16, {}, True, 45066),
    ("nll_loss", (300, 5), (300,), np.float16, {"ignore_index": 1}, False, 9903),
    ("nll_loss", (300, 5), (300,), np.float16, {"reduction": "sum", "ignore_index": 2},
     True, 18855),
    ("nll_loss", (17, 3, 5), (17, 5), np.float16, {}, False, 11720),
    ("nll_loss", (600, 7), (600,), np.float32, {}, False, 3144493245),
    ("cross_entropy", (5, 3), (5,), np.float16, {}, False, 17032),
    ("cross_entropy", (64, 10), (64,), np.float16, {}, True, 17228),
    ("cross_entropy", (8, 4, 3, 3), (8, 3, 3), np.float16, {"ignore_index": 0}, False,
     16792),
]


@pytest.mark.parametrize("fn,shape,tshape,d,kw,weighted,bits", _NLL)
def test_nll_loss_adds_as_pytorch_cascade_sum(fn, shape, tshape, d, kw, weighted, bits):
    kw = dict(kw)
    if weighted:
        kw["weight"] = torch.from_numpy((np.arange(shape[1]) * 0.37 + 0.2).astype(d))
    r = getattr(torch.nn.functional, fn)(_inp(shape, d), _tgt(tshape, shape[1]), **kw)
    assert r.dtype == torch.from_numpy(np.zeros(1, d)).dtype and r.shape == ()
    u = np.uint16 if d == np.float16 else np.uint32
    assert int(r.numpy().view(u)) == bits, (float(r), np.array(bits, u).view(d))


def test_nll_loss_all_ignored_and_one_element():
    """every target ignored: 0 / 0 (nan) for 'mean', 0 for 'sum', as torch; one target."""
    x = _inp((4, 3), np.float16)
    t = torch.tensor([1, 1, 1, 1])
    F_ = torch.nn.functional
    assert np.isnan(float(F_.nll_loss(x, t, ignore_index=1)))
    s = F_.nll_loss(x, t, ignore_index=1, reduction="sum")
    assert float(s) == 0.0 and not np.signbit(float(s))
    x1 = torch.tensor([0.5, -0.25, 2.0], dtype=torch.float16)
    assert float(F_.nll_loss(x1, torch.tensor(1))) == 0.25


# ------------------------------------------- float16 add / sub with alpha: the loop's tail

def _h(shape, k):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n) * k + 0.3) * 150).reshape(shape).astype(np.float16)


def _models(a, b, alpha=3.3):
    al = np.float32(np.float16(alpha))
    a32, b32 = a.astype(np.float32), np.asarray(b).astype(np.float32)
    fused = (a32 + al * b32).astype(np.float16)
    half = (a32 + (al * b32).astype(np.float16).astype(np.float32)).astype(np.float16)
    return fused, half


@pytest.mark.parametrize("case", ["contiguous", "row", "number", "strided", "rsub", "add_"])
def test_float16_add_with_alpha_half_steps_in_the_loop_tail(case):
    """torch 2.13's CPU loop computes float16 a + alpha * b vectorized (one rounding) in
    steps of 32 elements of its coalesced inner run and the rest (run % 32, or all of a run
    it cannot vectorize) in Half arithmetic, alpha * b rounded first. torch's values at the
    elements where the two differ are written out."""
    a4, b4 = _h((4, 10), 1.1), _h((4, 10), 0.7)
    if case == "contiguous":            # one run of 40: the last 8 elements
        r = torch.add(torch.from_numpy(a4), torch.from_numpy(b4), alpha=3.3).numpy()
        a, b, tail = a4, b4, (slice(3, 4), slice(2, 10))
        assert r[3, 5] == -28.0 and r[3, 7] == 410.0
    elif case == "row":                 # a run per row of 40: its last 8
        a, b = _h((40, 40), 1.1), _h((40,), 0.7)
        r = torch.add(torch.from_numpy(a), torch.from_numpy(b), alpha=3.3).numpy()
        tail = (slice(None), slice(32, 40))
        assert r[0, 35] == -28.0 and r[0, 37] == 410.0 and r[1, 35] == -26.875
    elif case == "number":              # a Python number: stride 0, vectorized too
        a, b = _h((40,), 1.1), np.float16(2.7001)
        r = torch.add(torch.from_numpy(a), 2.7001, alpha=3.3).numpy()
        tail = (slice(32, 40),)
        assert r[32] == -112.5 and r[33] == -124.75 and r[39] == -96.875
    elif case == "strided":             # not vectorized: every element
        x, y = torch.from_numpy(_h((3, 80), 1.1)), torch.from_numpy(_h((3, 80), 0.7))
        a, b = x.numpy()[:, ::2], y.numpy()[:, ::2]
        r = torch.add(x[:, ::2], y[:, ::2], alpha=3.3).numpy()
        tail = (slice(None),)
        assert r[0, 0] == 190.5 and r[0, 1] == 581.0 and r[0, 8] == -556.0
    elif case == "rsub":                # other - alpha * self: the same loop
        r = torch.rsub(torch.from_numpy(b4), torch.from_numpy(a4), alpha=-3.3).numpy()
        a, b, tail = a4, b4, (slice(3, 4), slice(2, 10))
        assert r[3, 5] == -28.0 and r[3, 7] == 410.0
    else:                               # in place: the same
        x = torch.from_numpy(a4.copy())
        x.add_(torch.from_numpy(b4), alpha=3.3)
        r, a, b, tail = x.numpy(), a4, b4, (slice(3, 4), slice(2, 10))
    fused, half = _models(a, b)
    want = fused.copy()
    want[tail] = half[tail]
    np.testing.assert_array_equal(r, want)
    assert (fused != half).any()


# ------------------------------------------- fused add / sub / rsub with alpha: one rounding

def _add_alpha(a, b):
    return torch.add(a * 1.0, b, alpha=0.3) * 1.0


def _sub_alpha(a, b):
    return torch.sub(a * 1.0, b, alpha=-2.7) * 1.0


def _rsub_alpha(a, b):
    return torch.rsub(a * 1.0, b, alpha=3.3) * 1.0


@pytest.mark.parametrize("fn", [_add_alpha, _sub_alpha, _rsub_alpha])
@pytest.mark.parametrize("d", [np.float32, np.float64])
def test_fused_add_with_alpha_rounds_once_as_eager(fn, d):
    """a + alpha * b in a fusion group rounded the product and the sum (8 of 37 float32
    elements of torch.add(a, b, alpha=0.3) one ulp off eager, which computes PyTorch's
    fmadd: one rounding). The kernels now take the op's fmadd form (float64: a true FMA,
    float32: the float64 sum of the exact product)."""
    rng = np.random.default_rng(40002)
    a = (rng.standard_normal(4096) * 3).astype(d)
    b = (rng.standard_normal(4096) * 3).astype(d)
    A, B = torch.from_numpy(a), torch.from_numpy(b)
    s = torch.jit.script(fn)
    for _ in range(3):
        got = s(A, B)
    assert "prim::TensorExprGroup" in str(torch.jit.last_executed_optimized_graph())
    want = fn(A, B).numpy()
    np.testing.assert_array_equal(got.numpy(), want)
    # (two roundings differ: the test can fail)
    al = {_add_alpha: 0.3, _sub_alpha: 2.7, _rsub_alpha: -3.3}[fn]
    x, y = (b, a) if fn is _rsub_alpha else (a, b)
    twice = (x + (d(al) * y).astype(d)).astype(d)
    assert np.count_nonzero(twice != want) > 10


# ------------------------------------------- float16 cross_entropy: PyTorch's Half ops

def test_float16_cross_entropy_none_and_label_smoothing_as_pytorch_half_ops():
    """torch 2.13's cross_entropy of float16 (class indices): nll_loss of the half
    log_softmax ('none': -logp[t] * w[t] rounded to half), and with label_smoothing its
    composite on Half tensors ((1 - ls) * nll + smooth * (ls / C), each op rounded).
    gpujit computed in float32 and rounded once (59 of 66 'none', 39 of 67 smoothed means
    differed). torch's bits written out."""
    x, t = _inp((6, 5), np.float16), _tgt((6,), 5)
    w = torch.from_numpy((np.arange(5) * 0.37 + 0.2).astype(np.float16))
    F_ = torch.nn.functional

    def bits(r):
        assert r.dtype is torch.float16
        return r.numpy().view(np.uint16).tolist()
    assert bits(F_.cross_entropy(x, t, reduction="none")) == [16985, 16512, 17667, 17142,
                                                              17289, 15450]
    assert bits(F_.cross_entropy(x, t, w, reduction="none")) == [14612, 16443, 18486, 17035,
                                                                 18004, 14582]
    want = {"mean": (17333, 16968), "sum": (19444, 19638),
            "none": ([15259, 0, 18424, 0, 17938, 15206],
                     [16994, 16690, 17506, 17082, 17168, 16169])}
    for red, (weighted, plain) in want.items():
        assert bits(F_.cross_entropy(x, t, w, reduction=red, label_smoothing=0.1,
                                     ignore_index=2)) == weighted, red
        assert bits(F_.cross_entropy(x, t, reduction=red, label_smoothing=0.35)) == plain, red


# ------------------------------------------- float16 gradients: log_softmax, softmax, nll

_GO = (np.cos(np.arange(30) * 0.7)).reshape(6, 5).astype(np.float16)
# torch 2.13's float16 gradients (bits) of log_softmax(1) / softmax(1) of _inp((6, 5)) for
# the output gradient _GO, and of cross_entropy(_inp((6, 5)), _tgt((6,), 5))
_LSM_GRAD = [15318, 13916, 11455, 47119, 48013, 48083, 47972, 12330, 14896, 15355, 15297,
             15699, 46839, 48013, 47966, 48197, 48495, 14780, 15349, 14777, 15687, 15164,
             47938, 47961, 46684, 48666, 45418, 15304, 14796, 39559]
_SM_GRAD = [9110, 11706, 44541, 40517, 40142, 43233, 43237, 11328, 7222, 7702, 11568, 42960,
            43302, 39394, 40873, 45165, 11962, 9675, 6218, 8268, 12634, 45253, 41486, 38416,
            40187, 44988, 12308, 7532, 4638, 41616]
_CE_GRAD = [45340, 12293, 10289, 4935, 4105, 8855, 12370, 45253, 4251, 4511, 9768, 12342,
            8403, 3808, 45388, 10649, 12130, 45355, 3589, 6178, 11420, 11675, 6588, 3583,
            45365, 11902, 44818, 5686, 3714, 8022]
# the distinct gradient bits of nll_loss(_inp((n, c)), _tgt((n,), c), w) (class weights)
_NLL_GRAD = {(64, 10): [0, 39596, 39656, 39718, 42021, 42037, 42053, 42069, 42828, 42837,
                        42846],
             (300, 9): [0, 37247, 37297, 37348, 39637, 39663, 39690, 40452, 40459, 40466]}


def test_float16_softmax_log_softmax_cross_entropy_gradients_round_once():
    """torch 2.13's _log_softmax_backward_data / _softmax_backward_data compute a float16
    gradient in float and round once; gpujit's derivatives ran registry ops on half
    tensors, each rounded (99 of 100 random log_softmax gradients differed, every
    cross_entropy one). nll_loss's 'mean' divides by its forward's total weight, the
    cascade sum in half (45 of 100 weighted nll_loss gradients differed)."""
    def grad_bits(fn, shape=(6, 5)):
        x = _inp(shape, np.float16).requires_grad_()
        fn(x).backward(*(() if fn(x).dim() == 0 else (torch.from_numpy(_GO),)))
        assert x.grad.dtype is torch.float16
        return x.grad.numpy().view(np.uint16).ravel().tolist()
    assert grad_bits(lambda x: x.log_softmax(1)) == _LSM_GRAD
    assert grad_bits(lambda x: x.softmax(1)) == _SM_GRAD
    assert grad_bits(lambda x: torch.nn.functional.cross_entropy(x, _tgt((6,), 5))) == \
        _CE_GRAD
    for (n, c), want in _NLL_GRAD.items():
        w = torch.from_numpy((np.sin(np.arange(c) * 2.1) * 0.45 + 0.5).astype(np.float16))
        g = grad_bits(lambda x: torch.nn.functional.nll_loss(x, _tgt((n,), c), w), (n, c))
        assert sorted(set(g)) == want, (n, c)

