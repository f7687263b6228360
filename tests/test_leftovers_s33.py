"""Session 33 (helper c33): view / alias fidelity and numeric leftovers, against PyTorch 2.13.

ldexp with a bool exponent tensor. PyTorch 2.13 gives a floating-point self scaled by an
integer-tensor exponent its own kernel (ldexp_cpu_exp: exact, no 2.0 ** other in between),
and that kernel has no bool case:
    torch.ldexp(torch.tensor([1.]), torch.tensor([True]))
    -> NotImplementedError: "ldexp_cpu_exp" not implemented for 'Bool'
(also float16 / float64 self, a 0-dim exponent, ldexp_, out=, and in TorchScript), while an
integer or bool self takes the self * 2.0 ** other path and works:
    torch.ldexp(torch.tensor([3]), torch.tensor([True]))  -> tensor([6.])  (float32)
    torch.ldexp(torch.tensor([True]), torch.tensor([True])) -> tensor([2.])
gpujit computed 2.0 for every one of them.
"""
import numpy as np
import pytest

import gpujit as torch

_WORDS = "\"ldexp_cpu_exp\" not implemented for 'Bool'"


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("zero_dim", [False, True])
def test_ldexp_float_self_bool_exponent_raises(dtype, zero_dim):
    x = torch.tensor([1.0], dtype=getattr(torch, dtype))
    e = torch.tensor(True) if zero_dim else torch.tensor([True])
    with pytest.raises(NotImplementedError) as ei:
        torch.ldexp(x, e)
    assert _WORDS in str(ei.value)
    with pytest.raises(NotImplementedError, match="ldexp_cpu_exp"):
        x.ldexp(e)
    with pytest.raises(NotImplementedError, match="ldexp_cpu_exp"):
        x.clone().ldexp_(e)
    with pytest.raises(NotImplementedError, match="ldexp_cpu_exp"):
        torch.ldexp(x, e, out=torch.empty(1, dtype=x.dtype))


def test_ldexp_integer_or_bool_self_bool_exponent_works():
    r = torch.ldexp(torch.tensor([3]), torch.tensor([True]))
    assert r.dtype == torch.float32
    np.testing.assert_array_equal(r.numpy(), np.array([6.0], np.float32))
    r = torch.ldexp(torch.tensor([True]), torch.tensor([True]))
    assert r.dtype == torch.float32
    np.testing.assert_array_equal(r.numpy(), np.array([2.0], np.float32))
    r = torch.ldexp(torch.tensor([True]), torch.tensor([2.0]))
    np.testing.assert_array_equal(r.numpy(), np.array([4.0], np.float32))
    # an integer exponent with a float self is the exact kernel: 1e-4 * 2 ** 20 in float16
    r = torch.ldexp(torch.tensor([1e-4], dtype=torch.float16), torch.tensor([20], dtype=torch.int8))
    assert r.dtype == torch.float16
    np.testing.assert_array_equal(r.numpy(), np.array([104.875], np.float16))


@torch.jit.script
def _scripted_ldexp(x, y):
    return torch.ldexp(x * 2, y)


def test_ldexp_bool_exponent_scripted():
    for _ in range(2):      # (the profiling run and the optimized one)
        with pytest.raises(Exception, match="ldexp_cpu_exp"):
            _scripted_ldexp(torch.tensor([1.0]), torch.tensor([True]))
    np.testing.assert_array_equal(_scripted_ldexp(torch.tensor([1.0]), torch.tensor([3])).numpy(),
                                  np.array([16.0], np.float32))


# Tensor._is_view() did not exist, and a view of a tensor that requires grad (recorded by
# autograd) had _base None. PyTorch 2.13:
#     l = torch.ones(2, 3, requires_grad=True)
#     l[1:]._base is l, l[1:]._is_view()               -> True, True
#     x = torch.ones(2, 3); x[1:]._is_view(), x.t()._is_view(), x.unbind(0)[0]._is_view()
#                                                       -> True, True, True
#     x.detach()._is_view(), x.data._is_view(), x.clone()._is_view(), x._is_view()
#                                                       -> False (all)
#     x.t().reshape(6)._is_view(), x.contiguous()._is_view() -> False (copy / self)
#     l.detach()[1:]._base                              -> the detach()ed tensor
def test_is_view_and_base_of_views():
    x = torch.ones(2, 3)
    for v in (x[1:], x.view(-1), x.t(), x.T, x.mT, x.unbind(0)[0], x.split(1)[0],
              x.diagonal(), x.expand(2, 2, 3), x.reshape(3, 2), x[1:][0], x.unsqueeze(0)):
        assert v._is_view() is True
        assert v._base is x
    for t in (x, x.detach(), x.data, x.clone(), x[1:].detach(), x.t().reshape(6),
              x.contiguous()):
        assert t._is_view() is False
        assert t._base is None
    leaf = torch.ones(2, 3, requires_grad=True)
    v = leaf[1:]
    assert v._is_view() and v._base is leaf
    assert v.grad_fn.name() == "SliceBackward0"
    assert v.t()._base is leaf          # (the root of the view chain, as PyTorch)
    d = leaf.detach()
    assert not d._is_view() and d._base is None
    assert d[1:]._base is d
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad "
                                           "is being used in an in-place operation"):
        v.add_(1)
    # a view of a non-leaf: the in-place write goes through (CopySlices), grads as torch
    y = leaf * 2
    w = y[1:]
    assert w._base is y
    w.mul_(3)
    y.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), np.array([[2, 2, 2], [6, 6, 6]], np.float32))


# A view made in no_grad mode had _base None (PyTorch 2.13: the base, _is_view() True; it
# still cannot be written with gradients), and so had a view of an input returned by a
# scripted function from its second (optimized) call on:
#     @torch.jit.script
#     def f(x): return x.transpose(0, 1)
#     x = torch.ones(2, 3); f(x)._base is x  -> True on every call
def test_nograd_view_base():
    x = torch.ones(2, 3)
    with torch.no_grad():
        v = x[1:]
    assert v._base is x and v._is_view() and not v.requires_grad and v.grad_fn is None
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        v.detach_()
    leaf = torch.ones(2, 3, requires_grad=True)
    y = leaf * 2
    with torch.no_grad():
        w = y[1:]
    assert w._base is y and w.grad_fn is None
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being "
                                           "modified inplace with grad mode enabled"):
        w.add_(1)


@torch.jit.script
def _script_slice(x):
    return x[1:]


@torch.jit.script
def _script_transpose(x):
    return x.transpose(0, 1)


@torch.jit.script
def _script_unbind(x):
    return x.unbind(0)[0]


@pytest.mark.parametrize("fn", [_script_slice, _script_transpose, _script_unbind])
def test_scripted_view_of_input_base(fn):
    for _ in range(3):
        x = torch.ones(2, 3)
        r = fn(x)
        assert r._base is x and r._is_view()
        r.add_(1)                       # the write is seen in x, and both versions count it
        assert x._version == 1 and r._version == 1
        assert float(x.sum()) == 6 + r.numel()
    for _ in range(3):
        leaf = torch.ones(2, 3, requires_grad=True)
        r = fn(leaf)
        assert r._base is leaf and r.requires_grad


# An in-place write with gradients into an output of unbind / split / chunk /
# split_with_sizes (or a view of one) went through; PyTorch 2.13 refuses it:
#     y = torch.ones(4, 2, requires_grad=True) * 2
#     y.unbind(0)[0].add_(1)  -> RuntimeError: Output 0 of Unbind is a view and is being
#         modified inplace. This view is the output of a function that returns multiple
#         views. Such functions do not allow the output views to be modified inplace. ...
#     y.chunk(2)[1].add_(1) -> 'Output 1 of Split ...'; y.split([1, 3])[0] -> SplitWithSizes;
#     y.unbind(0)[0][0:1].add_(1) -> 'Output 0 of Slice ...'; a leaf's unbind: the same words
# (not the leaf-view error); tensor_split / hsplit / unsafe_split outputs, writes in
# no_grad mode and tensors without gradients are written as before.
_MULTI = ("is a view and is being modified inplace. This view is the output of a function "
          "that returns multiple views. Such functions do not allow the output views to be "
          "modified inplace. You should replace the inplace operation by an out-of-place one.")


@pytest.mark.parametrize("take, words", [
    (lambda y: y.unbind(0)[0], "Output 0 of Unbind "),
    (lambda y: y.split(2)[0], "Output 0 of Split "),
    (lambda y: y.chunk(2)[1], "Output 1 of Split "),
    (lambda y: y.split([1, 3])[0], "Output 0 of SplitWithSizes "),
    (lambda y: y.unbind(0)[0][0:1], "Output 0 of Slice "),
])
def test_multi_output_view_inplace_with_grad_raises(take, words):
    leaf = torch.ones(4, 2, requires_grad=True)
    for y in (leaf * 2, leaf):
        with pytest.raises(RuntimeError) as ei:
            take(y).add_(1)
        assert str(ei.value) == words + _MULTI


def test_multi_output_view_inplace_allowed_cases():
    leaf = torch.ones(4, 2, requires_grad=True)
    y = leaf * 2
    for take in (lambda t: t.tensor_split(2)[0], lambda t: t.hsplit(2)[0],
                 lambda t: torch.unsafe_split(t, 2)[0]):
        take(y).add_(1)
    u = y.unbind(0)
    with torch.no_grad():
        u[0].add_(1)
    x = torch.ones(4, 2)
    x.unbind(0)[0].add_(1)
    x.split(2)[1].mul_(3)
    np.testing.assert_array_equal(x.numpy(), np.array([[2, 2], [1, 1], [3, 3], [3, 3]],
                                                      np.float32))
