"""Session 51 (d51): eager recording speed, part 3, the same graphs as torch 2.13.

* F.linear of a contiguous input of 3+ dims with a 1-D bias (nn.Linear on a batch of
  sequences) is recorded by the hand-written linear recorder: torch's _flatten_nd_linear,
  ViewBackward0 -> AddmmBackward0 -> (bias, ViewBackward0 -> input, TBackward0 -> weight),
  made with the view op's own recorded calls around the recorder's matrix path. The tests
  compare it with the decomposition recorded op by op (the recorder removed).
* The linear recorder made the plans of t / addmm / mm without their recorders, so every
  later t(), addmm and mm call took the general recording path: they get them now.
* A recorded view is no `_nograd_view` (the recorders run the op with grad mode off);
  a base keeps weak references to its recorded views in a list pruned as it grows (not a
  WeakSet), so a parameter viewed on every call (weight.t()) keeps a short list.
"""
import gc

import numpy as np
import pytest

import gpujit
from gpujit.autograd import recording as R
from gpujit.ops import registry

F = gpujit.nn.functional
LINEAR = registry.OPS["aten::linear"]


def _r(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _structure(fn):
    """(name, saved non-tensor values and tensors' shapes / strides, children)."""
    if fn is None:
        return None
    saved = {}
    for k, v in (getattr(fn, "saved", None) or {}).items():
        if hasattr(v, "unpack"):
            t = v.unpack()
            saved[k] = ("T", tuple(t.shape), tuple(t.stride()))
        else:
            saved[k] = v
    return (fn.name(), saved, [_structure(n) for n, _ in fn.next_functions])


class _Decomposed:
    """F.linear recorded op by op (view, t(), addmm): the hand-written recorder off."""

    def __enter__(self):
        self.prev = R._HAND_WRITTEN
        self.rec = R._RECORDERS.pop(LINEAR, None)
        R._HAND_WRITTEN = frozenset()

    def __exit__(self, *exc):
        R._HAND_WRITTEN = self.prev
        R._RECORDERS.pop(LINEAR, None)
        if self.rec is not None:
            R._RECORDERS[LINEAR] = self.rec


def _run(xv, wv, bv, need, g, input_view=None):
    out = []
    for decomposed in (False, True):
        ts = []
        for v, n in zip((xv, wv, bv), need):
            t = gpujit.from_numpy(v.copy())
            ts.append(t.requires_grad_() if n else t)
        x, w, b = ts
        xin = input_view(x) if input_view else x
        ctx = _Decomposed() if decomposed else None
        if ctx:
            ctx.__enter__()
        try:
            for _ in range(2):          # (the second call: the installed recorder)
                y = F.linear(xin, w, b)
        finally:
            if ctx:
                ctx.__exit__()
        st = _structure(y.grad_fn)
        base = None if y._base is None else (tuple(y._base.shape), y._base.grad_fn.name())
        yv = y.detach().numpy().copy()
        y.backward(gpujit.from_numpy(g))
        grads = [None if t.grad is None else t.grad.numpy().copy() for t in ts]
        out.append((st, base, yv, grads))
    return out


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("need", [(True, True, True), (False, True, True),
                                  (True, False, False), (False, False, True)])
def test_batched_linear_recorder_equals_the_decomposition(dt, need):
    xv, wv, bv = _r(2, 3, 4, dtype=dt), _r(5, 4, seed=1, dtype=dt), _r(5, seed=2, dtype=dt)
    g = _r(2, 3, 5, seed=3, dtype=dt)
    (s1, b1, y1, g1), (s2, b2, y2, g2) = _run(xv, wv, bv, need, g)
    assert s1 == s2 and b1 == b2
    assert s1[0] == "ViewBackward0" and s1[2][0][0] == "AddmmBackward0"
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_allclose(y1, xv @ wv.T + bv, rtol=1e-5, atol=1e-6)
    for a, b in zip(g1, g2):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)


def test_batched_linear_4d_and_noncontiguous_input():
    xv, wv, bv = _r(2, 2, 3, 4), _r(3, 4, seed=1), _r(3, seed=2)
    (s1, b1, y1, g1), (s2, b2, y2, g2) = _run(xv, wv, bv, (True, True, True),
                                              _r(2, 2, 3, 3, seed=3))
    assert s1 == s2 and b1 == b2 == ((12, 3), "AddmmBackward0")
    np.testing.assert_array_equal(y1, y2)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)
    # a contiguous input that is itself a recorded view of a leaf (x[1:]): its rows' view
    # is a view of the leaf
    xv = _r(3, 3, 4)
    (s1, b1, y1, g1), (s2, b2, y2, g2) = _run(xv, wv, bv, (True, True, True),
                                              _r(2, 3, 3, seed=5), input_view=lambda t: t[1:])
    assert s1 == s2 and b1 == b2 and s1[2][0][2][1][0] == "ViewBackward0"
    np.testing.assert_array_equal(y1, y2)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)
    # a transposed (non-contiguous) input: torch's matmul then add_ (the op's general path)
    xv = _r(2, 4, 3)
    (s1, _, y1, g1), (s2, _, y2, g2) = _run(xv, wv, bv, (True, True, True), _r(2, 3, 3, seed=4),
                                            input_view=lambda t: t.transpose(1, 2))
    assert s1 == s2 and s1[0] != "ViewBackward0"
    np.testing.assert_array_equal(y1, y2)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)


def test_batched_linear_graph_as_torch():
    # torch 2.13, nn.Linear(4, 5) on (2, 3, 4): ViewBackward0 (self_sym_sizes (6, 5)) ->
    # AddmmBackward0 -> (AccumulateGrad(bias), ViewBackward0 (self_sym_sizes (2, 3, 4)) ->
    # AccumulateGrad(x), TBackward0 -> AccumulateGrad(weight)); y._base: the (6, 5) product
    lin = gpujit.nn.Linear(4, 5)
    x = gpujit.from_numpy(_r(2, 3, 4)).requires_grad_()
    for _ in range(2):
        y = lin(x)
    fn = y.grad_fn
    assert fn.name() == "ViewBackward0" and fn._saved_self_sym_sizes == (6, 5)
    add = fn.next_functions[0][0]
    assert add.name() == "AddmmBackward0"
    names = [n.name() for n, _ in add.next_functions]
    assert names == ["torch::autograd::AccumulateGrad", "ViewBackward0", "TBackward0"]
    assert add.next_functions[0][0].variable is lin.bias
    xv = add.next_functions[1][0]
    assert xv._saved_self_sym_sizes == (2, 3, 4) and xv.next_functions[0][0].variable is x
    mat1 = add._saved_mat1
    assert tuple(mat1.shape) == (6, 4) and mat1._base is x
    assert tuple(y._base.shape) == (6, 5) and y._base.grad_fn is add
    assert y.is_contiguous() and tuple(y.shape) == (2, 3, 5)


def test_batched_linear_saved_tensor_hooks_order():
    lin = gpujit.nn.Linear(4, 2)
    x = gpujit.from_numpy(_r(2, 3, 4)).requires_grad_()
    lin(x)
    packed = []
    with gpujit.autograd.graph.saved_tensors_hooks(
            lambda t: packed.append(tuple(t.shape)) or t, lambda t: t):
        lin(x)
    assert packed == [(6, 4), (4, 2)]       # (torch 2.13: input's rows, weight.t())


def test_linear_installs_recorders_of_t_addmm_mm():
    # F.linear first (its recorder makes the plans of t / addmm / mm), then each on its own
    lin = gpujit.nn.Linear(3, 3)
    lin(gpujit.ones(2, 3))
    for name in ("aten::t", "aten::addmm", "aten::mm", "aten::view"):
        assert registry.OPS[name] in R._RECORDERS, name
    a = gpujit.from_numpy(_r(3, 3)).requires_grad_()
    y = gpujit.addmm(lin.bias, a, a.t()) + a.mm(a)
    assert y.grad_fn.next_functions[0][0].name() == "AddmmBackward0"
    y.sum().backward()
    av = _r(3, 3).astype(np.float64)
    ones = np.ones((3, 3))
    ref = ones @ av + ones.T @ av + ones @ av.T + av.T @ ones
    np.testing.assert_allclose(a.grad.numpy(), ref, rtol=1e-5)


def test_recorded_view_is_not_a_no_grad_view():
    base = gpujit.ones(3, 4, requires_grad=True)
    for make in (lambda t: t[0], lambda t: t.view(12), lambda t: t.t(), lambda t: t.chunk(2)[1]):
        for _ in range(2):              # (the general path, then the op's recorder)
            v = make(base)
        assert getattr(v, "_nograd_view", False) is False
        assert v._base is base and v.requires_grad and v.grad_fn is not None
    with gpujit.no_grad():
        u = base[0]
    assert u._nograd_view is True and u.grad_fn is None
    # an in-place write with grad mode on through a recorded view of a non-leaf: CopySlices
    h = base * 1
    v = h[1]
    v.mul_(2)
    assert h.grad_fn.name() == "torch::autograd::CopySlices"
    h.sum().backward()
    ref = np.ones((3, 4), np.float32)
    ref[1] = 2
    np.testing.assert_array_equal(base.grad.numpy(), ref)


def test_view_references_stay_few():
    w = gpujit.ones(4, 4, requires_grad=True)
    kept = []
    for i in range(300):
        v = w.t()
        if i % 50 == 0:
            kept.append(v)
    del v
    gc.collect()
    refs = w._ag.view_refs
    assert len(refs) < 2 * len(kept) + 16
    from gpujit.autograd.views import live_views
    assert sorted(map(id, live_views(w._ag))) == sorted(map(id, kept))


def test_inplace_on_a_base_with_many_dead_views():
    # (recording._shares_memory counts the live recorded views of a base: dead ones in the
    # list are not counted)
    x = gpujit.from_numpy(_r(4, 4)).requires_grad_()
    h = x * 1
    for _ in range(40):
        h[0] * 2
    keep = h[1]
    h.add_(1)
    (h.sum() + keep.sum()).backward()
    ref = np.ones((4, 4), np.float32)
    ref[1] += 1
    np.testing.assert_array_equal(x.grad.numpy(), ref)


def test_batched_linear_bits_as_torch():
    torch = pytest.importorskip("torch")
    xv, wv, bv, gv = _r(2, 5, 8), _r(6, 8, seed=1), _r(6, seed=2), _r(2, 5, 6, seed=3)
    out = []
    for T in (torch, gpujit):
        x, w, b = (T.from_numpy(v.copy()).requires_grad_() for v in (xv, wv, bv))
        T.nn.functional.linear(x, w, b)
        y = T.nn.functional.linear(x, w, b)
        y.backward(T.from_numpy(gv.copy()))
        out.append([y.detach().numpy().copy()] + [t.grad.numpy().copy() for t in (x, w, b)])
    from torch_bits import assert_torch_bits
    for a, b in zip(*out):
        assert_torch_bits(b, a, torch, atol=1e-6)


# ---------------------------------------------------------------- nll_loss / cross_entropy
# (every target a class, none ignored, no weights: the cascade sum of ATen's CPU kernel
# without _nll_cascade's masks; the same additions, so the same bits)

@pytest.mark.parametrize("dt", [np.float32, np.float64, np.float16])
def test_nll_common_case_equals_the_cascade(dt):
    from gpujit.ops import nn_loss_nll as M
    rng = np.random.default_rng(5)
    for n in (1, 2, 16, 17, 300):
        for fill in (None, -0.0, np.inf, np.nan):
            lp = rng.standard_normal((n, 4)).astype(dt)
            if fill is not None:
                lp[rng.random((n, 4)) < 0.5] = fill
            t = rng.integers(0, 4, n)
            for red, name in ((1, "mean"), (2, "sum")):
                got = M._nll(np, lp, t, None, red, -100, dt)
                ref = M._nll_cascade(lp, t, t != -100, None, name, dt)
                assert got.tobytes() == ref.tobytes(), (n, fill, name)


def test_cross_entropy_values_and_errors():
    x = gpujit.from_numpy(_r(5, 3)).requires_grad_()
    t = gpujit.tensor([0, 2, 1, 1, 0])
    y = F.cross_entropy(x, t)
    xv = _r(5, 3).astype(np.float64)
    lp = xv - np.log(np.exp(xv).sum(1, keepdims=True))
    np.testing.assert_allclose(y.item(), -lp[np.arange(5), [0, 2, 1, 1, 0]].mean(), rtol=1e-6)
    assert y.grad_fn.name() == "NllLossBackward0"
    with pytest.raises(IndexError, match="Target 3 is out of bounds."):
        F.cross_entropy(x, gpujit.tensor([0, 3, 1, 1, 0]))
    # an ignored target, a class weight: their paths
    z = F.cross_entropy(x, gpujit.tensor([0, -100, 1, 1, 0]), reduction="sum")
    np.testing.assert_allclose(z.item(), -lp[[0, 2, 3, 4], [0, 1, 1, 0]].sum(), rtol=1e-6)


def test_cross_entropy_bits_as_torch():
    torch = pytest.importorskip("torch")
    xv, tv = _r(7, 5, seed=3) * 4, np.random.default_rng(4).integers(0, 5, 7)
    out = []
    for T in (torch, gpujit):
        x = T.from_numpy(xv.copy()).requires_grad_()
        y = T.nn.functional.cross_entropy(x, T.from_numpy(tv.copy()))
        y.backward()
        out.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)
