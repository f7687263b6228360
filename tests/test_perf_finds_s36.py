"""Session 36 (d36): the eager dispatch's fast paths keep PyTorch 2.13's answers.

- `x[:, 1]`, `x[1:3, 0]`, `x[0, -1]`: an index tuple of ints and slices only now goes
  straight to select / slice (ops/indexing.py: getitem) instead of _decompose's scans
  (~11 -> ~3 µs for x[:, 1] on 4x4); the same views, nodes, bounds errors and version
  sharing as before (torch 2.13: `x[:, :]` is a new tensor with AliasBackward0, an int out
  of range raises IndexError "index 5 is out of bounds for dimension 1 with size 4", too
  many ints "too many indices for tensor of dimension 2").
- A view op with one output recorded with gradients (`x[0]`, `x.t()`, `x.view(...)`) now
  takes the planned recording path (autograd/recording.py: _record_planned, its output
  attached as a recorded view of its input's base) instead of _record's general one
  (~21 -> ~9 µs for a select of a tensor that requires grad); torch 2.13's behaviour of
  views kept: a write to the base regenerates the view's grad_fn as AsStridedBackward0, an
  in-place op on the view makes the base's grad_fn CopySlices, a view of an output of
  chunk refuses in-place writes with "Output 0 of Select is a view and is being modified
  inplace. This view is the output of a function that returns multiple views. ...".
- CPU kernels of strided layouts (a chunk's gates, a transposed or broadcast operand) run
  row by row (kernels/emit.py): the outer indices once per row of the last dim, the last
  one `i - base`, so the loop is affine and LLVM vectorizes it (an LSTM cell's fused
  gates on 16x32: ~20 -> ~4.3 µs per call); the same values as the unfused ops, for
  chunks of a threaded launch that start and end inside a row too.

Correctness finds on the way (factories given a negative size):
- torch.zeros(2, -1) raises "zeros: Dimension size must be non-negative." in torch 2.13
  (zeros' own check; ones / empty / full / rand keep check_size_nonnegative's "Trying to
  create tensor with negative dimension -1: [2, -1]"); gpujit gave the latter for zeros.
- Scripted factories (`torch.ones(s)` with s = [2, -1] in a scripted function, x.new_zeros,
  torch.eye(n) with n = -1) raised NumPy's ValueError "negative dimensions are not
  allowed"; torch raises RuntimeError with the words above, eye "n must be greater or
  equal to 0, got -1" (eager torch.eye(-1) and torch.eye(2, -1), "m must be ...", did the
  same): the entry points now put NumPy's error in PyTorch's words (registry.py:
  negative_size_error).
- torch.randperm(-1) raises "Trying to create tensor with negative dimension -1: [-1]"
  (with out=: "n must be non-negative, got-1", no space); gpujit said "n must be
  non-negative, got -1" for both.
"""
from typing import List

import numpy as np
import pytest

import gpujit as torch
from gpujit import kernels as K

from test_kernels import assert_same, reference, traced


def _x():
    return torch.arange(12.).reshape(3, 4).requires_grad_()


def test_int_slice_tuples_index_as_numpy_and_share_memory():
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    x = torch.from_numpy(a.copy())
    for idx in [(slice(None), 1), (slice(1, 3), 0), (0, -1), (1, slice(None, None, 2)),
                (slice(None), slice(1, 4)), (2,), (-1, 0), (slice(None), -1)]:
        got = x[idx]
        np.testing.assert_array_equal(got.numpy(), a[idx])
        assert got.shape == a[idx].shape
        assert got.stride() == tuple(s // 4 for s in a[idx].strides)
        assert got._version == x._version
    col = x[:, 1]
    x.add_(1)           # a view: the write shows through it, the version is shared
    np.testing.assert_array_equal(col.numpy(), a[:, 1] + 1)
    assert col._version == x._version == 1
    full = x[:, :]
    assert full is not x and full.data_ptr() == x.data_ptr()


def test_int_slice_tuple_errors_are_torchs():
    x = torch.zeros(3, 4)
    with pytest.raises(IndexError, match=r"^index 5 is out of bounds for dimension 1 with "
                                         r"size 4$"):
        x[:, 5]
    with pytest.raises(IndexError, match=r"^index -4 is out of bounds for dimension 0 with "
                                         r"size 3$"):
        x[-4, 0]
    with pytest.raises(IndexError, match=r"^too many indices for tensor of dimension 2$"):
        x[0, 0, 0]
    # a bool is no int: x[True, 0] adds a dim (PyTorch: shape [1])
    assert x[True, 0].shape == (1, 4)


def test_int_slice_tuples_record_torchs_nodes():
    x = _x()
    assert x[:, :].grad_fn.name() == "AliasBackward0"
    assert x[:, 1].grad_fn.name() == "SelectBackward0"
    assert x[1:3, 0].grad_fn.name() == "SelectBackward0"
    assert x[0, -1].grad_fn.name() == "SelectBackward0"
    assert x[1:, 2:].grad_fn.name() == "SliceBackward0"
    x[1:, 2:].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]])


def test_planned_views_write_through_base_and_view():
    x = _x()
    b = x.clone()
    v = b[:, 1]
    b.add_(1)
    assert v.grad_fn.name() == "AsStridedBackward0"
    v.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0, 0]] * 3)
    x.grad = None
    b = x.clone()
    v = b[0]
    v.mul_(2)
    assert b.grad_fn.name() == "torch::autograd::CopySlices"
    assert v.grad_fn.name() == "AsStridedBackward0"
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2] * 4, [1] * 4, [1] * 4])
    np.testing.assert_array_equal(b.detach().numpy()[0], [0, 2, 4, 6])


def test_planned_view_of_a_multi_view_output_refuses_in_place_writes():
    x = _x()
    w = x.clone().chunk(2, 1)[0][0]
    with pytest.raises(RuntimeError, match=r"^Output 0 of Select is a view and is being "
                                           r"modified inplace\. This view is the output of "
                                           r"a function that returns multiple views\."):
        w.mul_(2)


def test_planned_views_keep_view_and_grad_facts():
    x = _x()
    t = x.t()
    assert t.grad_fn.name() == "TBackward0" and t.requires_grad and not t.is_leaf
    assert t._base is x._base           # (x is a view of arange's result)
    v = x.view(12)
    assert v.grad_fn.name() == "ViewBackward0"
    (v * torch.arange(12.)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(), np.arange(12.))
    with torch.no_grad():
        nv = x[0]
    assert not nv.requires_grad and nv.grad_fn is None
    d = x.detach()[:, 2]
    assert d._base is not None and not d.requires_grad
    # a view of a leaf that requires grad, written in place: PyTorch's leaf-view error
    leaf = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad "
                                           "is being used in an in-place operation"):
        leaf[0].add_(1)


def test_negative_sizes_raise_torchs_errors():
    cases = [
        (lambda: torch.zeros(2, -1), "zeros: Dimension size must be non-negative."),
        (lambda: torch.zeros([2, -3], dtype=torch.int64),
         "zeros: Dimension size must be non-negative."),
        (lambda: torch.ones(2, -1), "Trying to create tensor with negative dimension -1: [2, -1]"),
        (lambda: torch.eye(-1), "n must be greater or equal to 0, got -1"),
        (lambda: torch.eye(2, -1), "m must be greater or equal to 0, got -1"),
        (lambda: torch.randperm(-1), "Trying to create tensor with negative dimension -1: [-1]"),
        (lambda: torch.randperm(-2, out=torch.empty(0, dtype=torch.int64)),
         "n must be non-negative, got-2"),
    ]
    for call, words in cases:
        with pytest.raises(RuntimeError) as info:
            call()
        assert str(info.value) == words


def _ones(s: List[int]):
    return torch.ones(s)


def _zeros(s: List[int]):
    return torch.zeros(s)


def _full(s: List[int]):
    return torch.full(s, 1.0)


def _new_zeros(x: torch.Tensor, s: List[int]):
    return x.new_zeros(s)


def _eye(n: int):
    return torch.eye(n)


def test_scripted_factories_refuse_negative_sizes_as_torch():
    neg = "Trying to create tensor with negative dimension -1: [2, -1]"
    for fn, args, words in [(_ones, ([2, -1],), neg), (_full, ([2, -1],), neg),
                            (_zeros, ([2, -1],), "zeros: Dimension size must be non-negative."),
                            (_new_zeros, (torch.ones(1), [2, -1]), neg),
                            (_eye, (-1,), "n must be greater or equal to 0, got -1")]:
        f = torch.jit.script(fn)
        with pytest.raises(RuntimeError) as info:
            f(*args)
        # (torch.jit.script: the same words as the last line of its interpreter's report)
        assert str(info.value).strip().splitlines()[-1].endswith(words), fn.__name__


def _gates(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.exp(-x)


def _chunked(g, c):
    i, f, o = g.chunk(3, 1)
    c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(o)
    return c2, torch.tanh(c2) * torch.sigmoid(o)


@pytest.mark.parametrize("static", [True, False], ids=["static", "dynamic"])
def test_row_by_row_cpu_kernels_match_the_unfused_ops(static):
    rng = np.random.default_rng(36)
    # (3, 70, 101) transposed in its last two dims with a broadcast (70, 101) operand:
    # 21210 elements, run in chunks on the thread pool whose bounds fall inside rows
    x = rng.standard_normal((3, 101, 70)).astype(np.float32).transpose(0, 2, 1)
    y = rng.standard_normal((70, 101)).astype(np.float32)
    g = rng.standard_normal((16, 96)).astype(np.float32)
    c = rng.standard_normal((16, 32)).astype(np.float32)
    p = rng.standard_normal((2, 5, 3, 4)).astype(np.float32).transpose(3, 1, 0, 2)
    q = rng.standard_normal((5, 1, 3)).astype(np.float32)
    for fn, args in [(_gates, (x, y)), (_gates, (p, q)), (_gates, (x[:, :1], y[:1]))]:
        graph = traced(fn, *args)
        k = K.build(K.spec_for(graph, args, static=static), "cpu")
        if not k.layout.flat and len(k.layout.dims) > 1:
            assert "i - base" in k.source
        for got, want in zip(k(*args), reference(graph, args)):
            assert_same(got, want, fn.__name__)
    if static:      # (the fuser's ConstantChunk: its pieces read through strided offsets)
        f = torch.jit.script(_chunked)
        want = [t.numpy() for t in _chunked(torch.from_numpy(g), torch.from_numpy(c))]
        for _ in range(3):          # (profiling runs, then the fused plan)
            got = f(torch.from_numpy(g), torch.from_numpy(c))
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.numpy(), b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_raw_pointwise_derivatives_give_the_formulas_bits(dtype):
    """tanh, sigmoid and mul's backward on the arrays (Derivative.raw, outside
    create_graph) against their Tensor formulas (run under create_graph): the same bits."""
    rng = np.random.default_rng(7)
    dt = getattr(torch, dtype)
    a = rng.standard_normal((6, 5)) * 4
    a[0, :3] = [0.0, 30.0, -30.0]
    b = rng.standard_normal((6, 5))
    g = torch.from_numpy(rng.standard_normal((6, 5))).to(dt)
    cases = [lambda x, y: x.tanh(), lambda x, y: torch.sigmoid(x), lambda x, y: x * y,
             lambda x, y: y * x.detach(), lambda x, y: x * 3.0,
             lambda x, y: x * y[0], lambda x, y: x.t().tanh() * y.t()]
    for k, f in enumerate(cases * 2):
        grads = []
        for create in (False, True):
            x = torch.from_numpy(a).to(dt).requires_grad_()
            y = torch.from_numpy(b).to(dt).requires_grad_()
            out = f(x, y)
            if k >= len(cases):     # (sum()'s gradient: expanded from one number)
                out, gg = out.sum(), None
            else:
                gg = g if out.shape == g.shape else g.t()
            res = torch.autograd.grad(out, [x, y], gg, create_graph=create, allow_unused=True)
            grads.append([None if r is None else r.detach().numpy() for r in res])
        for r0, r1 in zip(*grads):
            assert (r0 is None) == (r1 is None), k
            if r0 is not None:
                assert r0.dtype == r1.dtype == np.dtype(dtype)
                np.testing.assert_array_equal(r0, r1, err_msg=str(k))
