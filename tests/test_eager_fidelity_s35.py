"""Eager tensor fidelity against PyTorch 2.13, session 35 (helper c35). torch's answers are
written out (no torch import); each test's docstring gives the minimised find.

1. Strides of tensors without elements. NumPy makes every empty array it allocates
   all-zero strides, and its views (a transpose, a step, an index) keep the zeros, so
   gpujit reported torch.empty(0, 3).t().stride() == (1, 1) (stride()'s fallback: a new
   empty tensor's strides) where torch computes (1, 3) from the (3, 1) of the tensor it
   views; 30 of 86 probes differed (session 34). registry.wrap (and wrap_array, wrap_view,
   the generated code's wrap_statements) now give such an array torch's strides of a new
   tensor (registry.empty_layout), so views compute theirs as torch's do.
"""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as torch

E = torch.empty


# (expression, torch 2.13's (shape, stride()))
EMPTY_STRIDES = [
    ("E(0, 3)", ((0, 3), (3, 1))),
    ("E(3, 0)", ((3, 0), (1, 1))),
    ("torch.zeros((2, 0, 3))", ((2, 0, 3), (3, 3, 1))),
    ("E(0, 3).t()", ((3, 0), (1, 3))),
    ("E(0, 3).t().contiguous()", ((3, 0), (1, 3))),
    ("E(2, 0, 3).permute(2, 0, 1)", ((3, 2, 0), (1, 3, 3))),
    ("E(2, 0, 3).transpose(0, 2)", ((3, 0, 2), (1, 3, 3))),
    ("E(2, 0, 3).mT", ((2, 3, 0), (3, 1, 3))),
    ("E(2, 0, 3).movedim(0, 2)", ((0, 3, 2), (3, 1, 3))),
    ("E(0, 1).expand(0, 4)", ((0, 4), (1, 0))),
    ("E(1, 0).expand(3, 0)", ((3, 0), (0, 1))),
    ("E(0, 1, 3).expand(0, 5, 3)", ((0, 5, 3), (3, 0, 1))),
    ("E(0, 3).unsqueeze(0)", ((1, 0, 3), (0, 3, 1))),
    ("E(0, 3)[None]", ((1, 0, 3), (0, 3, 1))),
    ("E(0, 3).t().unsqueeze(1)", ((3, 1, 0), (1, 0, 3))),
    ("E(3, 0).t().unsqueeze(0)", ((1, 0, 3), (0, 1, 1))),
    ("E(0).unsqueeze(0)", ((1, 0), (0, 1))),
    ("E(2, 0, 3)[:, :, 1]", ((2, 0), (3, 3))),
    ("E(0, 6).split(2, 1)[1]", ((0, 2), (6, 1))),
    ("E(0, 3).diagonal()", ((0,), (4,))),
    ("E(4, 6)[:, 3:3:2]", ((4, 0), (6, 2))),
    ("E(4, 6)[5:5:3]", ((0, 6), (18, 1))),
    ("E(0, 3).t() + 1", ((3, 0), (1, 3))),
    ("E(2, 0, 3).permute(2, 0, 1) * 2", ((3, 2, 0), (1, 0, 3))),
    ("E(4, 0, 1) - 3.0", ((4, 0, 1), (0, 1, 0))),
    ("-E(0, 3).t()", ((3, 0), (1, 1))),
    ("E(0, 3).t().clone()", ((3, 0), (1, 3))),
    ("E(2, 0, 3).permute(2, 0, 1).clone()", ((3, 2, 0), (1, 3, 3))),
    ("torch.empty_like(E(0, 3).t())", ((3, 0), (1, 3))),
    ("torch.zeros_like(E(2, 0, 3).permute(2, 0, 1))", ((3, 2, 0), (1, 3, 3))),
    ("E(0, 3).t().double()", ((3, 0), (1, 3))),
    ("E(2, 3, 0, 4).contiguous(memory_format=torch.channels_last)", ((2, 3, 0, 4), (0, 1, 12, 3))),
    ("E((2, 0, 3, 4), memory_format=torch.channels_last)", ((2, 0, 3, 4), (0, 1, 0, 0))),
    ("E((2, 3, 0, 4, 1), memory_format=torch.channels_last_3d)", ((2, 3, 0, 4, 1), (0, 1, 12, 3, 3))),
    ("torch.cat([E(0, 3).t(), E(0, 3).t()], 0)", ((6, 0), (1, 1))),
    ("torch.stack([E(0, 3), E(0, 3)], 1)", ((0, 2, 3), (6, 3, 1))),
    ("E(0, 3).sum(1, keepdim=True)", ((0, 1), (1, 1))),
    ("torch.empty_strided((0, 3), (0, 0))", ((0, 3), (0, 0))),
]


@pytest.mark.parametrize("expr, want", EMPTY_STRIDES, ids=[e for e, _ in EMPTY_STRIDES])
def test_strides_of_tensors_without_elements(expr, want):
    """Each expression's shape and stride() as torch 2.13's (find 1); every one of them is
    is_contiguous() (torch: a tensor without elements always is)."""
    t = eval(expr)
    assert (tuple(t.shape), t.stride()) == want
    assert t.is_contiguous()


def test_view_dtype_of_a_transposed_empty_tensor():
    """torch.empty(0, 4).t().view(torch.int16): torch 2.13 raises RuntimeError
    "self.stride(-1) must be 1 to view Float as Short (different element sizes), but got 4"
    (the strides of an empty tensor count); gpujit gave a (4, 0) tensor."""
    with pytest.raises(RuntimeError, match=r"^self\.stride\(-1\) must be 1 to view Float as "
                                           r"Short \(different element sizes\), but got 4$"):
        E(0, 4).t().view(torch.int16)
    assert E(0, 4).view(torch.int16).stride() == (8, 1)
    assert E(0, 4).t().view(torch.int32).stride() == (1, 4)


def test_channels_last_contiguity_of_empty_tensors():
    """torch.empty(2, 3, 0, 4).is_contiguous(memory_format=torch.channels_last) is False in
    torch 2.13 (its channels-last strides, (0, 1, 12, 3), are not the (12, 4, 4, 1) of the
    new tensor); the channels-last copy is both."""
    x = E(2, 3, 0, 4)
    assert not x.is_contiguous(memory_format=torch.channels_last)
    y = x.contiguous(memory_format=torch.channels_last)
    assert y.is_contiguous() and y.is_contiguous(memory_format=torch.channels_last)


def test_unsqueeze_strides_of_non_contiguous_tensors():
    """unsqueeze's new dim takes size * stride of the dim it lands before (1 at the end),
    as torch's inferUnsqueezeGeometry, where NumPy's reshape gave the stride of the dim
    inside it: torch.empty(2, 3).t().unsqueeze(2).stride() == (1, 3, 1) (gpujit said
    (1, 3, 3)); the in-place unsqueeze_ too."""
    assert E(2, 3).t().unsqueeze(2).stride() == (1, 3, 1)
    assert E(2, 3).t().unsqueeze(1).stride() == (1, 6, 3)
    assert E(3, 1, 2)[:, :, :1].unsqueeze(1).stride() == (2, 2, 2, 1)
    x = E(2, 3).t()
    x.unsqueeze_(2)
    assert x.stride() == (1, 3, 1)
    # values and writes through the view as before
    a = torch.arange(6.).reshape(2, 3)
    v = a.t().unsqueeze(2)
    np.testing.assert_array_equal(v.numpy()[:, :, 0], np.arange(6.).reshape(2, 3).T)
    v[1, 0, 0] = 100.
    assert a[0, 1].item() == 100.


def test_views_of_empty_intermediates_keep_strides():
    """A result without elements (a sum, a pointwise op) viewed again: torch computes the
    view's strides from the result's (3, 1), (torch.zeros(0, 3) + 1).t().stride() == (1, 3)."""
    assert (torch.zeros(0, 3) + 1).t().stride() == (1, 3)
    assert torch.zeros(2, 0, 3).sum(2).t().stride() == (1, 1)
    assert torch.zeros(0, 4).exp().unsqueeze(0).stride() == (0, 4, 1)


def test_scripted_empty_pointwise_layout_as_eager():
    """A scripted x.t() + 1 of an empty x (run unfused: no kernel for 0-size inputs) lays
    its result out as eager's and torch's: (1, 3)."""
    @torch.jit.script
    def f(x):
        return x.t() + 1.0

    for _ in range(3):
        assert f(torch.zeros(0, 3)).stride() == (1, 3)


def _f16_sequential(x, axis):
    """NumPy's float16 multiply rounds each product to float16: the products along axis one
    after the other, as torch 2.13's CPU prod of an outer (non-contiguous) dim."""
    x = np.moveaxis(x, axis, 0)
    r = x[0].copy()
    for k in range(1, x.shape[0]):
        r = r * x[k]
    return r


def test_float16_prod_over_a_long_outer_dim():
    """2. float16 prod over a long outer dim ((100000, 4).prod(0)) multiplied one NumPy
    call per row (0.3 s); now a numba loop rounding each product to float16 as float16's
    multiply does (11 significant bits, half to even, subnormals, inf past 65504), with
    the values of torch 2.13 (checked equal on (100000, 4), (3, 5000), (7, 300, 5)).
    torch 2.13 on the columns of the second case below:
    [300] * 3 + [0] + [1] * 96 -> nan; [1e-3] * 100 -> 0.0; [-1e-3] * 99 + [1] -> -0.0
    (gpujit said 0.0: a rounded underflow lost its sign); [2**-14] + [0.75] * 99 ->
    1.1921e-07 (the float16 bits of the four: fe00 0000 8000 0002)."""
    rng = np.random.default_rng(35)
    with np.errstate(all="ignore"):
        for shape, dim in [((3000, 4), 0), ((7, 300, 5), 1), ((200, 3), 0)]:
            x = (1 + rng.standard_normal(shape) * 1e-2).astype(np.float16)
            got = torch.tensor(x).prod(dim).numpy()
            np.testing.assert_array_equal(got, _f16_sequential(x, dim))
        # overflow to inf, then inf * 0 -> nan; underflow through the subnormals to 0;
        # signs of zero
        col = np.array([300.] * 3 + [0.] + [1.] * 96, np.float16)
        under = np.array([1e-3] * 100, np.float16)
        neg = np.array([-1e-3] * 99 + [1.], np.float16)
        sub = np.array([2.0 ** -14] + [0.75] * 99, np.float16)
        x = np.stack([col, under, neg, sub], 1)
        got = torch.tensor(x).prod(0).numpy()
        want = _f16_sequential(x, 0)
        np.testing.assert_array_equal(got, want)
        assert got.view(np.uint16).tolist() == [0xfe00, 0x0000, 0x8000, 0x0002]


def test_scripted_views_of_intermediates_have_base_on_every_call():
    """3a. A scripted `return (x * 2).t()`: torch 2.13's result is a view of the product
    (_base set, _is_view() True) on every call; gpujit's from the second call on (the
    generated code's) had _base None. `return y.t(), y`: the first one's _base is y."""
    @torch.jit.script
    def f(x):
        return (x * 2).t()

    @torch.jit.script
    def g(x):
        y = x * 2
        return y.t(), y

    @torch.jit.script
    def h(x):
        return (x * 2).t().unsqueeze(2)

    x = torch.ones(2, 3)
    for _ in range(4):
        u = h(x)        # (torch: strides (1, 3, 1), _base the (2, 3) product)
        assert u.stride() == (1, 3, 1) and tuple(u._base.shape) == (2, 3)
        r = f(x)
        assert r._is_view() and r._base is not None
        assert tuple(r._base.shape) == (2, 3)
        r._base.add_(1)                 # (the base is the product's memory)
        assert r.tolist() == [[3.0, 3.0]] * 3 and r._version == r._base._version
        a, b = g(x)
        assert a._base is b and a._is_view() and not b._is_view()
        a.mul_(2)
        assert b._version == 1 and b.tolist() == [[4.0] * 3] * 2


def test_views_made_in_no_grad_mode_require_grad_as_their_base():
    """3b. torch 2.13: a view made under no_grad of a tensor that requires grad itself
    requires grad (is_leaf, no grad_fn; gradients reaching it go nowhere); gpujit said
    requires_grad False and ops on it recorded nothing:
        w = torch.ones(3, requires_grad=True)
        with torch.no_grad(): v = w[:2]
        v.requires_grad, v.is_leaf, v.grad_fn -> True, True, None
        y = (v * 2).sum(); y.requires_grad, y.grad_fn -> True, SumBackward0
        y.backward(); w.grad, v.grad -> None, None
    and v.requires_grad = False is accepted, v.requires_grad stays True; v.mul_(2) in grad
    mode raises (as before); a no_grad view of x that does not require grad follows x
    once x.requires_grad_() (True); of a non-leaf z = w * 1 too; detach() does not."""
    w = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        v = w[:2]
        v2 = v[:1]
        d = w.detach()
        p = w * 2
    assert v.requires_grad and v.is_leaf and v.grad_fn is None and v._base is w
    assert v2.requires_grad and v2._base is w
    assert not d.requires_grad and not p.requires_grad
    y = (v * 2).sum()
    assert y.requires_grad and y.grad_fn.name() == "SumBackward0"
    y.backward()
    assert w.grad is None and v.grad is None
    y2 = (torch.ones(2) + v).sum()      # (the view as a later argument)
    assert y2.requires_grad
    v.requires_grad = False
    assert v.requires_grad
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
        v.mul_(2)
    x = torch.ones(3)
    with torch.no_grad():
        u = x[:2]
    assert not u.requires_grad
    x.requires_grad_()
    assert u.requires_grad and u.is_leaf
    z = w * 1
    with torch.no_grad():
        v6 = z[:2]
    assert v6.requires_grad and v6.is_leaf and v6._base is z
    with torch.inference_mode():
        v7 = w[:2]
    assert v7.requires_grad


def test_median_of_empty_bool_and_empty_reduced_dims():
    """torch 2.13 checks for no elements before it refuses bool: torch.zeros(0,
    dtype=torch.bool).median() and .nanmedian() -> tensor(True) (NaN as bool; gpujit
    raised NotImplementedError "median_cpu" not implemented for 'Bool'), and
    torch.zeros(3, 0, dtype=torch.bool).median(1) -> IndexError "median(): Expected
    reduction dim 1 to have non-zero size." (gpujit: the bool NotImplementedError).
    A bool tensor with elements is still refused, as torch's."""
    for f in ("median", "nanmedian"):
        r = getattr(torch.zeros(0, 3, dtype=torch.bool), f)()
        assert r.dtype == torch.bool and r.shape == () and r.item() is True
    with pytest.raises(IndexError, match=r"median\(\): Expected reduction dim 1 to have "
                                         r"non-zero size"):
        torch.zeros(3, 0, dtype=torch.bool).median(1)
    with pytest.raises(IndexError, match="Expected reduction dim 0"):
        torch.zeros(0, 3, dtype=torch.bool).nanmedian(0)
    with pytest.raises(NotImplementedError, match="\"median_out\" not implemented for 'Bool'"):
        torch.zeros(0, 3, dtype=torch.bool).median(1)
    with pytest.raises(NotImplementedError, match="\"median_cpu\" not implemented for 'Bool'"):
        torch.tensor([True, False]).median()
    assert torch.zeros(0, dtype=torch.int32).median().item() == -2147483648


def test_reductions_compute_in_outs_dtype():
    """torch 2.13's sum / prod / cumsum / cumprod with out= take out's dtype as their
    dtype (the input converted to it first); gpujit refused what its result type could not
    cast to ("result type Float can't be cast to the desired output type Long"):
        x = torch.tensor([[0.6, 0.6, 1.7], [2.5, -0.6, 0.4]])
        torch.sum(x, 1, out=long2) -> [1, 2]; torch.prod(x, 1, out=long2) -> [0, 0]
        torch.sum(x, 1, out=bool2) -> [True, True]; uint8 -> [1, 2]
        torch.cumsum(x, 1, out=long23) -> [[0, 0, 1], [2, 2, 2]]
        torch.sum(x, 1, out=half2) -> [2.900390625, 2.30078125]
        torch.sum(x, 1, out=long2, dtype=torch.float32) -> RuntimeError "Expected out
            tensor to have dtype float, but got long int instead"
        torch.cumsum(x, 1, out=bool23) -> NotImplementedError
            "cumsum_out_cpu" not implemented for 'Bool'"""
    x = torch.tensor([[0.6, 0.6, 1.7], [2.5, -0.6, 0.4]])

    def out(dt, *shape):
        return torch.empty(*shape, dtype=dt)

    assert torch.sum(x, 1, out=out(torch.int64, 2)).tolist() == [1, 2]
    assert torch.sum(x, 1, out=out(torch.int32, 2)).tolist() == [1, 2]
    assert torch.prod(x, 1, out=out(torch.int64, 2)).tolist() == [0, 0]
    assert torch.sum(x, 1, out=out(torch.bool, 2)).tolist() == [True, True]
    assert torch.prod(x, 1, out=out(torch.bool, 2)).tolist() == [True, True]
    assert torch.sum(x, 1, out=out(torch.uint8, 2)).tolist() == [1, 2]
    assert torch.cumsum(x, 1, out=out(torch.int64, 2, 3)).tolist() == [[0, 0, 1], [2, 2, 2]]
    assert torch.sum(x, 1, out=out(torch.float16, 2)).tolist() == [2.900390625, 2.30078125]
    i = torch.tensor([[1, 2, 3], [4, 5, 6]])
    r = torch.sum(i, 1, out=out(torch.int8, 2))
    assert r.dtype == torch.int8 and r.tolist() == [6, 15]
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float, but got "
                                           "long int instead"):
        torch.sum(x, 1, out=out(torch.int64, 2), dtype=torch.float32)
    with pytest.raises(NotImplementedError, match="\"cumsum_out_cpu\" not implemented for "
                                                  "'Bool'"):
        torch.cumsum(x, 1, out=out(torch.bool, 2, 3))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        torch.mean(x, 1, out=out(torch.int64, 2))


@pytest.mark.parametrize("name, args", [
    ("neg", ()), ("abs", ()), ("sign", ()), ("sgn", ()), ("floor", ()), ("ceil", ()),
    ("round", ()), ("trunc", ()), ("frac", ()), ("bitwise_not", ()), ("clamp", (0,)),
    ("clip", (0,)), ("clamp_min", (0,))])
def test_unary_ops_want_out_of_their_dtype(name, args):
    """torch 2.13's unary_op family (and clamp with number bounds) wants every operand,
    out too, of one dtype: torch.neg(int32_x, out=int64_t) -> RuntimeError "Found dtype
    Long but expected Int" (gpujit cast into out); torch.clamp(int32_x, 0.5, out=long) ->
    "... expected Float" (the number promotes it); abs(bool_x, out=uint8_t) -> "Found
    dtype Byte but expected Bool" before the bool refusal; neg(bool_x, out=long) keeps
    neg's own bool error; nan_to_num's words are its own."""
    f = getattr(torch, name)
    x = torch.tensor([1, -2, 3], dtype=torch.int32)
    with pytest.raises(RuntimeError, match="^Found dtype Long but expected Int$"):
        f(x, *args, out=torch.empty(3, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="^Found dtype Double but expected Float$"):
        f(x.float(), *args, out=torch.empty(3, dtype=torch.float64))
    if name == "frac":      # ("frac_cpu" not implemented for 'Int')
        with pytest.raises(NotImplementedError):
            f(x, *args, out=torch.empty(3, dtype=torch.int32))
        return
    r = f(x, *args, out=torch.empty(3, dtype=torch.int32))
    assert r.dtype == torch.int32


def test_unary_out_dtype_special_cases():
    """(the cases of test_unary_ops_want_out_of_their_dtype's docstring)"""
    x = torch.tensor([1, 2, 3], dtype=torch.int32)
    with pytest.raises(RuntimeError, match="^Found dtype Long but expected Float$"):
        torch.clamp(x, 0.5, out=torch.empty(3, dtype=torch.int64))
    assert torch.clamp(x, 0.5, out=torch.empty(3)).tolist() == [1.0, 2.0, 3.0]
    # clamp with Tensor bounds casts into out
    assert torch.clamp(x, torch.zeros(3), out=torch.empty(3, dtype=torch.float64)).dtype == \
        torch.float64
    with pytest.raises(RuntimeError, match="^Found dtype Byte but expected Bool$"):
        torch.abs(torch.ones(3, dtype=torch.bool), out=torch.empty(3, dtype=torch.uint8))
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        torch.neg(torch.ones(3, dtype=torch.bool), out=torch.empty(3, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="^nan_to_num: dtype of out: Long should be same "
                                           "as input: Int$"):
        torch.nan_to_num(x, out=torch.empty(3, dtype=torch.int64))
    # float ops cast into out as before
    assert torch.sin(x.float(), out=torch.empty(3, dtype=torch.float64)).dtype == \
        torch.float64


def test_index_reduce_inplace_on_bool():
    """torch 2.13's in-place index_reduce_ takes bool for prod / amax / amin with
    include_self (gpujit refused every bool: "index_func_" not implemented), the
    out-of-place index_reduce refuses it:
        s = [[True, False, True], [False, True, True]]; src = [[T, T, F], [F, T, T], [T, F, F]]
        s.index_reduce_(0, [1, 0, 1], src, "prod") -> [[F, F, T], [F, F, F]]
        ... "amax" -> all True; "amin" -> [[F, F, T], [F, F, F]]
        ... "mean" -> NotImplementedError "div_floor_cpu" not implemented for 'Bool'
        ... include_self=False -> "index_reduce_func_exclude_input_init" not implemented
        s.index_reduce(...) -> "index_func_" not implemented for 'Bool'"""
    import warnings
    warnings.simplefilter("ignore", UserWarning)    # (index_reduce is in beta)
    idx = torch.tensor([1, 0, 1])
    src = torch.tensor([[True, True, False], [False, True, True], [True, False, False]])

    def s():
        return torch.tensor([[True, False, True], [False, True, True]])

    F, T = False, True
    assert s().index_reduce_(0, idx, src, "prod").tolist() == [[F, F, T], [F, F, F]]
    assert s().index_reduce_(0, idx, src, "amax").tolist() == [[T, T, T], [T, T, T]]
    assert s().index_reduce_(0, idx, src, "amin").tolist() == [[F, F, T], [F, F, F]]
    with pytest.raises(NotImplementedError, match="\"div_floor_cpu\" not implemented"):
        s().index_reduce_(0, idx, src, "mean")
    for f in ("index_reduce_", "index_reduce"):
        with pytest.raises(NotImplementedError,
                           match="\"index_reduce_func_exclude_input_init\" not implemented"):
            getattr(s(), f)(0, idx, src, "amax", include_self=False)
    with pytest.raises(NotImplementedError, match="\"index_func_\" not implemented"):
        s().index_reduce(0, idx, src, "amax")


def test_cat_of_no_tensors_is_a_value_error():
    """torch 2.13: torch.cat([]) (and concat, concatenate, with dim or out=) raises
    ValueError "torch.cat(): expected a non-empty list of Tensors" (TORCH_CHECK_VALUE);
    gpujit raised RuntimeError. torch.stack([]) stays a RuntimeError ("stack expects a
    non-empty TensorList")."""
    for f in (torch.cat, torch.concat, torch.concatenate):
        with pytest.raises(ValueError, match=r"^torch\.cat\(\): expected a non-empty list of "
                                             r"Tensors$"):
            f([])
    with pytest.raises(ValueError):
        torch.cat((), 1)
    with pytest.raises(ValueError):
        torch.cat([], dim=0, out=torch.empty(0))
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        torch.stack([])


def test_arange_with_integer_and_bool_dtypes():
    """torch 2.13's arange computes in the accumulation type: for an integer dtype start
    and step truncated to int64 first (values start + i * step there), its size from the
    truncated values for int64 and from ceil((end - start) / step) in double otherwise;
    float64 values with the multiply-add rounded once; bool is refused. gpujit computed
    start + i * step in float and truncated, and took bool:
        arange(0, 3, 1.5, dtype=int64) -> [0, 1, 2] (gpujit [0, 1])
        arange(1.9, 5.2, 1.1, dtype=int64) -> [1, 2, 3, 4]; int32 -> [1, 2, 3] ([1, 3, 4])
        arange(0, 5, 0.9, dtype=int32) -> [0] * 6; int64 -> ValueError "step must be nonzero"
        arange(-1.5, 1, dtype=int64) -> [-1, 0]; int32 -> [-1, 0, 1]
        arange(0, -3, -1.5, dtype=uint8) -> [0, 255]
        arange(-0.5, 2, 0.7, dtype=float64)[3] -> 1.5999999999999999 (gpujit ...96)
        arange(5, dtype=bool) -> NotImplementedError "arange_cpu" not implemented for 'Bool'
        arange(0, -3, 1) -> "upper bound and lower bound inconsistent with step sign"
        arange(0, inf) -> "unsupported range: 0 -> inf"; arange(0, 5, 0) "step must be
        nonzero" (RuntimeErrors)"""
    A = torch.arange
    assert A(0, 3, 1.5, dtype=torch.int64).tolist() == [0, 1, 2]
    assert A(1.9, 5.2, 1.1, dtype=torch.int64).tolist() == [1, 2, 3, 4]
    assert A(1.9, 5.2, 1.1, dtype=torch.int32).tolist() == [1, 2, 3]
    assert A(0, 3, 1.5, dtype=torch.int16).tolist() == [0, 1]
    assert A(0, 5, 0.9, dtype=torch.int32).tolist() == [0] * 6
    with pytest.raises(ValueError, match="^step must be nonzero$"):
        A(0, 5, 0.9, dtype=torch.int64)
    assert A(-1.5, 1, dtype=torch.int64).tolist() == [-1, 0]
    assert A(-1.5, 1, dtype=torch.int32).tolist() == [-1, 0, 1]
    assert A(0, -3, -1.5, dtype=torch.uint8).tolist() == [0, 255]
    assert A(5.5, dtype=torch.int64).tolist() == [0, 1, 2, 3, 4]
    assert A(-0.5, 2, 0.7, dtype=torch.float64).tolist() == [
        -0.5, 0.19999999999999996, 0.8999999999999999, 1.5999999999999999]
    assert A(-0.5, 2, 0.7).tolist() == [-0.5, 0.20000000298023224, 0.8999999761581421,
                                        1.600000023841858]
    with pytest.raises(NotImplementedError, match="\"arange_cpu\" not implemented for 'Bool'"):
        A(5, dtype=torch.bool)
    with pytest.raises(RuntimeError, match="^upper bound and lower bound inconsistent with "
                                           "step sign$"):
        A(0, -3, 1)
    with pytest.raises(RuntimeError, match="^unsupported range: 0 -> inf$"):
        A(0, float("inf"))
    with pytest.raises(RuntimeError, match="^step must be nonzero$"):
        A(0, 5, 0)


def test_tensor_of_ints_past_int64():
    """torch 2.13 stores a Python int past int64 through double for a floating dtype and
    as True for bool, and otherwise raises ValueError "Overflow when unpacking long long";
    gpujit said "expected a sequence of equal-length sequences (got ragged nested lists)"
    (NumPy's object array) or RuntimeError "value cannot be converted to type int64
    without overflow":
        torch.tensor(2**70, dtype=torch.float32) -> 1.1805916207174113e+21
        torch.tensor([[2**70, 1]], dtype=torch.float16) -> [[inf, 1.0]]
        torch.tensor([2**64], dtype=torch.bool) -> [True]
        torch.tensor([2**63]), torch.tensor([1, 2**64]), torch.tensor(2**63,
            dtype=torch.uint8) -> ValueError"""
    assert torch.tensor(2 ** 70, dtype=torch.float32).item() == 1.1805916207174113e+21
    assert torch.tensor([[2 ** 70, 1]], dtype=torch.float16).tolist() == [[float("inf"), 1.0]]
    assert torch.tensor([-2 ** 63 - 1], dtype=torch.float64).tolist() == [
        -9.223372036854776e+18]
    assert torch.tensor([10 ** 30], dtype=torch.float32).tolist() == [1.0000000150474662e+30]
    assert torch.tensor([2 ** 64], dtype=torch.bool).tolist() == [True]
    assert torch.as_tensor([2 ** 64], dtype=torch.float64).tolist() == [1.8446744073709552e+19]
    for data, kw in [(2 ** 63, {}), ([2 ** 63], {}), ([1, 2 ** 64], {}), ([[1], [2 ** 64]], {}),
                     ([True, 2 ** 64], {}), (2 ** 63, {"dtype": torch.uint8})]:
        with pytest.raises(ValueError, match="^Overflow when unpacking long long$"):
            torch.tensor(data, **kw)
    assert torch.tensor([2 ** 63 - 1]).dtype == torch.int64
    with pytest.raises(ValueError, match=r"^expected sequence of length 1 at dim 1 \(got 2\)$"):
        torch.tensor([[1], [2, 3]])
