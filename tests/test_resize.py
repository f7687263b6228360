"""Tensor.resize_ / resize_as_ (registry ops aten::resize_ / aten::resize_as_): PyTorch's
storage semantics (the memory from the first element on, in memory order), scripted and
traced code, save/load, and its errors."""
import io

import numpy as np
import pytest

import gpujit as torch


def test_same_count_reinterprets_memory_order():
    x = torch.arange(6.).view(2, 3).t()           # non-contiguous: memory is 0..5
    np.testing.assert_array_equal(x.resize_(2, 3).numpy(), [[0, 1, 2], [3, 4, 5]])
    assert x.is_contiguous() and x.shape == (2, 3)
    x = torch.arange(6.)[::2]
    np.testing.assert_array_equal(x.resize_(3, 1).numpy(), [[0], [1], [2]])


def test_smaller_or_fitting_sizes_share_the_memory():
    b = torch.arange(6.)
    x = b[1:3]
    x.resize_(4)                  # fits in b's memory from element 1: a view of it
    x[3] = 100
    np.testing.assert_array_equal(b.numpy(), [0, 1, 2, 3, 100, 5])
    y = torch.arange(6.)
    y.resize_([2, 2])
    np.testing.assert_array_equal(y.numpy(), [[0, 1], [2, 3]])


def test_growing_keeps_the_old_elements_first():
    x = torch.arange(3.)
    r = x.resize_(2, 3)
    assert r is x and x.shape == (2, 3)
    np.testing.assert_array_equal(x.numpy()[0], [0, 1, 2])
    x.resize_as_(torch.empty(5))
    assert x.shape == (5,)
    np.testing.assert_array_equal(x.numpy()[:3], [0, 1, 2])


def test_errors_in_pytorchs_words():
    with pytest.raises(RuntimeError, match=r"negative dimension: \[-1, 2\]"):
        torch.ones(3).resize_(-1, 2)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        torch.ones(3, requires_grad=True).resize_(4)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        (torch.ones(3, requires_grad=True) * 2).resize_(4)


def _roundtrip(m):
    b = io.BytesIO()
    torch.jit.save(m, b)
    b.seek(0)
    return torch.jit.load(b)


def test_scripted_resize_is_seen_by_later_reads():
    @torch.jit.script
    def f(x):
        x.resize_([4, 4])
        return x.dim(), x.shape[0], x.numel()

    @torch.jit.script
    def g(x, t):
        y = x + 1
        y.resize_as_(t)
        return y

    for fn in (f, _roundtrip(f)):
        for _ in range(3):                   # profiling, then the optimized plan
            z = torch.zeros(2, 2)
            assert fn(z) == (2, 4, 16)
            assert z.shape == (4, 4)         # the caller's tensor was resized
    for _ in range(3):
        y = g(torch.zeros(6), torch.ones(3, 2))
        np.testing.assert_array_equal(y.numpy(), np.ones((3, 2)))


def test_traced_resize_records_the_op():
    def f(x):
        y = x.clone()
        y.resize_(2, 3)
        return y * 2

    x = torch.arange(6.)
    t = torch.jit.trace(f, (x,))
    assert any(n.kind() == "aten::resize_" for n in t.graph.nodes())
    for fn in (t, _roundtrip(t)):
        np.testing.assert_array_equal(fn(x).numpy(), np.arange(6.).reshape(2, 3) * 2)


def test_out_resize_advice_works():
    """PyTorch's out= warning says: reuse an out tensor by resizing it to zero elements."""
    o = torch.ones(2)
    o.resize_(0)
    r = torch.add(torch.ones(3), 1, out=o)
    assert r is o
    np.testing.assert_array_equal(o.numpy(), [2, 2, 2])
