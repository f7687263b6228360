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
