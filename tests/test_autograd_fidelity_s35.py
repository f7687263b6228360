"""Autograd behaviour against torch 2.13 (session 35; 30 probes of backward/grad/hooks/
retain_grad/in-place checks, 28 already the same).

1. Reading `.grad` of a non-leaf tensor that does not retain its gradient: torch warns
   (UserWarning "The .grad attribute of a Tensor that is not a leaf Tensor is being
   accessed. Its .grad attribute won't be populated during autograd.backward(). ...")
   and returns None; gpujit returned None silently. No warning for leaves, tensors that
   need no grad, or ones that retain their grad.
2. `y.backward(g)` with a gradient of another shape: torch says "Mismatch in shape:
   grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape of
   torch.Size([])." (Size reprs); gpujit printed lists ([2], []).
3. A custom autograd.Function whose backward returns more gradients than forward took
   inputs: torch raises "function BadBackward returned an incorrect number of gradients
   (expected 1, got 2)" unless the extra ones are all None (dropped); gpujit ignored the
   extras.

Left: inference tensors (torch.inference_mode makes tensors whose is_inference() is
True, that cannot be saved for backward or written in place outside the mode); gpujit's
inference_mode is no_grad and is_inference() is always False.
"""
from __future__ import annotations

import warnings

import pytest

import gpujit as torch


def test_a_non_leaf_grad_read_warns_as_torch():
    x = torch.tensor([1., 2.], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match=r"The \.grad attribute of a Tensor that is not a "
                                         r"leaf Tensor is being accessed"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None                       # a leaf
        assert torch.ones(2).grad is None           # needs no grad
        z = x * 3
        z.retain_grad()
        assert z.grad is None                       # retains it: filled at backward
        (z * z).sum().backward()
        assert z.grad.tolist() == [6.0, 12.0]
        assert x.grad.tolist() == [18.0, 36.0]


def test_a_gradient_of_another_shape_names_both_sizes():
    x = torch.tensor([1., 2.], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape "
                                           r"of \w+\.Size\(\[2\]\) and output\[0\] has a "
                                           r"shape of \w+\.Size\(\[\]\)\."):
        x.sum().backward(torch.tensor([1., 2.]))


class _Bad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g, g


class _ExtraNone(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2, None, None


def test_a_function_returning_too_many_gradients_raises_unless_the_extras_are_none():
    x = torch.tensor([1., 2.], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function _BadBackward returned an incorrect "
                                           r"number of gradients \(expected 1, got 2\)"):
        _Bad.apply(x).sum().backward()
    _ExtraNone.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
