"""Session 52 (d52): eager training speed part 4, same graphs and values.

* F.cross_entropy of a float32 / float64 CPU (N, C) input with class indices (no weight,
  no label smoothing) is recorded by a hand-written recorder
  (autograd/recording_fast.HAND_WRITTEN) that makes torch's composite's two nodes,
  NllLossBackward0 -> LogSoftmaxBackward0, as the log_softmax and nll_loss_nd recorders
  make them (saved values, dropped target edge, saved output): the tests compare it with
  the composite recorded op by op (the recorder removed), and with torch 2.13."""
import numpy as np
import pytest

import gpujit
from gpujit.autograd import recording as R
from gpujit.ops import registry

F = gpujit.nn.functional
CE = registry.OPS["aten::cross_entropy_loss"]


def _r(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _structure(fn):
    """(name, class, saved values, skip, inputs_meta, out_meta, children) of a graph."""
    if fn is None:
        return None
    saved = {}
    for k, v in (getattr(fn, "saved", None) or {}).items():
        if hasattr(v, "unpack"):
            t = v.unpack()
            saved[k] = ("T", tuple(t.shape), tuple(t.stride()), t.dtype,
                        v.out_of is not None, v.had_grad_fn)
        else:
            saved[k] = v
    return (fn.name(), type(fn).__name__, saved, getattr(fn, "skip", None),
            getattr(fn, "inputs_meta", None), getattr(fn, "out_meta", None),
            [_structure(n) for n, _ in fn.next_functions])


class _Decomposed:
    """cross_entropy recorded op by op (log_softmax, nll_loss_nd): the recorder off."""

    def __init__(self, on):
        self.on = on

    def __enter__(self):
        self.prev = R._HAND_WRITTEN
        self.rec = R._RECORDERS.pop(CE, None)
        if self.on:
            R._HAND_WRITTEN = frozenset(R._HAND_WRITTEN - {"aten::cross_entropy_loss"})

    def __exit__(self, *exc):
        R._HAND_WRITTEN = self.prev
        R._RECORDERS.pop(CE, None)
        if self.rec is not None:
            R._RECORDERS[CE] = self.rec


def _ce_run(decomposed, xv, tv, kw, through=False):
    x = gpujit.from_numpy(xv.copy()).requires_grad_()
    t = gpujit.from_numpy(tv.copy())
    with _Decomposed(decomposed):
        for _ in range(2):          # (the second call: the installed recorder)
            inp = x * 2 if through else x
            loss = F.cross_entropy(inp, t, **kw)
        used = type(R._RECORDERS.get(CE)).__name__ == "function" and \
            R._RECORDERS[CE].__qualname__.startswith("_ce_recorder")
    st = _structure(loss.grad_fn)
    lv = loss.detach().numpy().copy()
    (loss.sum() if loss.dim() else loss).backward()
    return st, lv, x.grad.numpy().copy(), used


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                {"ignore_index": 2}, {"reduction": "none", "ignore_index": 0}])
def test_cross_entropy_recorder_equals_the_composite(dt, kw):
    xv, tv = _r(6, 5, dtype=dt), np.array([0, 4, 2, 1, 2, 3], np.int64)
    s1, l1, g1, used = _ce_run(False, xv, tv, kw, through=kw == {})
    s2, l2, g2, used2 = _ce_run(True, xv, tv, kw, through=kw == {})
    assert used and not used2
    assert s1 == s2
    assert s1[0] == "NllLossBackward0" and s1[6][0][0] == "LogSoftmaxBackward0"
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(g1, g2)
    # (the values: log_softmax then the picked entries)
    z = xv.astype(np.float64) * (2 if kw == {} else 1)
    lp = z - np.log(np.exp(z).sum(1, keepdims=True))
    ign = kw.get("ignore_index", -100)
    picked = np.where(tv == ign, 0.0, -lp[np.arange(6), np.where(tv == ign, 0, tv)])
    want = {"none": picked, "sum": picked.sum()}.get(kw.get("reduction"),
                                                     picked.sum() / (tv != ign).sum())
    np.testing.assert_allclose(l1, want, rtol=1e-5 if dt == np.float32 else 1e-12)


def test_cross_entropy_recorder_other_calls_take_the_composite():
    # weights, label smoothing, probabilities, 1-D and 3-D inputs: the composite's nodes
    x = gpujit.from_numpy(_r(4, 3)).requires_grad_()
    t = gpujit.tensor([0, 2, 1, 1])
    w = gpujit.tensor([1.0, 2.0, 0.5])
    for _ in range(2):
        assert F.cross_entropy(x, t).grad_fn.name() == "NllLossBackward0"
        assert F.cross_entropy(x, t, weight=w).grad_fn.name() == "NllLossBackward0"
        assert F.cross_entropy(x, t, label_smoothing=0.1).grad_fn.name() == "AddBackward0"
        assert F.cross_entropy(x, x.detach().softmax(1)).grad_fn.name() == "DivBackward1"
        g = F.cross_entropy(x[0], t[0]).grad_fn
        assert [g.name(), g.next_functions[0][0].name()] == ["NllLossBackward0",
                                                             "LogSoftmaxBackward0"]
        x3 = gpujit.from_numpy(_r(2, 3, 4)).requires_grad_()
        assert F.cross_entropy(x3, gpujit.tensor([[0, 1, 2, 0], [1, 1, 0, 2]])) \
            .grad_fn.name() == "NllLoss2DBackward0"
    with pytest.raises(IndexError, match="Target 3 is out of bounds."):
        F.cross_entropy(x, gpujit.tensor([0, 3, 1, 1]))
    with pytest.raises(RuntimeError, match=r"expected target dtype to be Long or Byte"):
        F.cross_entropy(x, gpujit.tensor([0, 2, 1, 1], dtype=gpujit.int32))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target "
                                         r"batch_size \(3\)"):
        F.cross_entropy(x, gpujit.tensor([0, 2, 1]))


def test_cross_entropy_recorder_pack_hooks_and_in_place_error():
    x = gpujit.from_numpy(_r(3, 4)).requires_grad_()
    t = gpujit.tensor([1, 0, 3])
    F.cross_entropy(x, t)
    packed = []

    def pack(v):
        packed.append((tuple(v.shape), v.dtype))
        return v

    with gpujit.autograd.graph.saved_tensors_hooks(pack, lambda v: v):
        loss = F.cross_entropy(x, t)
    # (log_softmax's result, then nll_loss's self (the same tensor) and target)
    assert packed == [((3, 4), gpujit.float32), ((3, 4), gpujit.float32),
                      ((3,), gpujit.int64)]
    loss.backward()
    assert x.grad is not None
    msgs = []
    for decomposed in (False, True):
        with _Decomposed(decomposed):
            for _ in range(2):
                loss = F.cross_entropy(x, t)
        loss.grad_fn.next_functions[0][0]._saved_result.mul_(2)
        with pytest.raises(RuntimeError, match="is at version 1; expected version 0") as e:
            loss.backward()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_cross_entropy_recorder_matches_torch():
    torch = pytest.importorskip("torch")
    xv, tv = _r(5, 4, seed=3), np.array([3, 0, 1, 3, 2], np.int64)
    for kw in ({}, {"reduction": "sum", "ignore_index": 3}):
        res = []
        for m in (torch, gpujit):
            x = m.from_numpy(xv.copy()).requires_grad_()
            for _ in range(2):
                loss = m.nn.functional.cross_entropy(x, m.from_numpy(tv.copy()), **kw)
            g = loss.grad_fn
            names = [g.name(), g.next_functions[0][0].name(),
                     g.next_functions[0][0].next_functions[0][0].name()]
            saved = (g._saved_reduction, g._saved_ignore_index, g._saved_self.shape)
            loss.backward()
            res.append((names, saved, loss.detach().numpy(), x.grad.numpy()))
        assert res[0][0] == res[1][0]
        # (torch 2.13 reads _saved_ignore_index -100 back as 2 ** 64 - 100: not compared)
        assert res[0][1][0] == res[1][1][0] and tuple(res[0][1][2]) == tuple(res[1][1][2])
        np.testing.assert_allclose(res[1][2], res[0][2], rtol=1e-6)
        np.testing.assert_allclose(res[1][3], res[0][3], rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- 3-D F.linear without bias
LINEAR = registry.OPS["aten::linear"]


class _LinearDecomposed:
    """F.linear recorded op by op (t(), view, mm, _unsafe_view): the recorder off."""

    def __init__(self, on):
        self.on = on

    def __enter__(self):
        self.prev = R._HAND_WRITTEN
        self.rec = R._RECORDERS.pop(LINEAR, None)
        if self.on:
            R._HAND_WRITTEN = frozenset(R._HAND_WRITTEN - {"aten::linear"})

    def __exit__(self, *exc):
        R._HAND_WRITTEN = self.prev
        R._RECORDERS.pop(LINEAR, None)
        if self.rec is not None:
            R._RECORDERS[LINEAR] = self.rec


def _seq(fn, out):
    """(name, sequence number) of every node, depth first: the order nodes were made."""
    if fn is not None and fn.name() != "torch::autograd::AccumulateGrad":
        out.append((fn.name(), fn.sequence_nr))
        for n, _ in fn.next_functions:
            _seq(n, out)
    return out


def _lin_run(decomposed, xv, wv, need, g, input_view=None):
    x = gpujit.from_numpy(xv.copy())
    w = gpujit.from_numpy(wv.copy())
    x.requires_grad_(need[0])
    w.requires_grad_(need[1])
    xin = input_view(x) if input_view else x
    with _LinearDecomposed(decomposed):
        for _ in range(2):          # (the second call: the installed recorder)
            y = F.linear(xin, w)
    st = _structure(y.grad_fn)
    seq = _seq(y.grad_fn, [])
    order = [n for n, _ in sorted(seq, key=lambda p: p[1])]
    flags = (y._base is None, y.is_contiguous(), y._ag.view is None)
    yv = y.detach().numpy().copy()
    y.backward(gpujit.from_numpy(g))
    grads = [None if t.grad is None else t.grad.numpy().copy() for t in (x, w)]
    return st, order, flags, yv, grads


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("need", [(True, True), (False, True), (True, False)])
def test_batched_linear_without_bias_equals_the_decomposition(dt, need):
    xv, wv, g = _r(2, 3, 4, dtype=dt), _r(5, 4, seed=1, dtype=dt), _r(2, 3, 5, seed=2, dtype=dt)
    a = _lin_run(False, xv, wv, need, g)
    b = _lin_run(True, xv, wv, need, g)
    assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2]
    assert a[0][0] == "UnsafeViewBackward0" and a[0][6][0][0] == "MmBackward0"
    np.testing.assert_array_equal(a[3], b[3])
    np.testing.assert_allclose(a[3], xv @ wv.T, rtol=1e-5, atol=1e-6)
    for p, q in zip(a[4], b[4]):
        assert (p is None) == (q is None)
        if p is not None:
            np.testing.assert_array_equal(p, q)


def test_batched_linear_without_bias_4d_view_and_noncontiguous_inputs():
    wv = _r(3, 4, seed=1)
    for xv, g, view in ((_r(2, 2, 3, 4), _r(2, 2, 3, 3, seed=3), None),
                        (_r(3, 3, 4), _r(2, 3, 3, seed=5), lambda t: t[1:]),
                        (_r(2, 4, 3), _r(2, 3, 3, seed=4), lambda t: t.transpose(1, 2))):
        a = _lin_run(False, xv, wv, (True, True), g, view)
        b = _lin_run(True, xv, wv, (True, True), g, view)
        assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2]
        np.testing.assert_array_equal(a[3], b[3])
        for p, q in zip(a[4], b[4]):
            np.testing.assert_array_equal(p, q)


def test_batched_linear_without_bias_graph_as_torch():
    # torch 2.13, nn.Linear(16, 8, bias=False) on (2, 4, 16): UnsafeViewBackward0
    # (self_sym_sizes (8, 8)) -> MmBackward0 -> (ViewBackward0 (self_sym_sizes (2, 4, 16)),
    # TBackward0); made in the order TBackward0, ViewBackward0, MmBackward0, UnsafeView...
    lin = gpujit.nn.Linear(16, 8, bias=False)
    x = gpujit.from_numpy(_r(2, 4, 16)).requires_grad_()
    for _ in range(2):
        y = lin(x)
    fn = y.grad_fn
    assert fn.name() == "UnsafeViewBackward0" and fn._saved_self_sym_sizes == (8, 8)
    mm = fn.next_functions[0][0]
    assert [n.name() for n, _ in mm.next_functions] == ["ViewBackward0", "TBackward0"]
    assert mm.next_functions[0][0]._saved_self_sym_sizes == (2, 4, 16)
    assert [n for n, _ in sorted(_seq(fn, []), key=lambda p: p[1])] == [
        "TBackward0", "ViewBackward0", "MmBackward0", "UnsafeViewBackward0"]
    assert y._base is None and tuple(y.shape) == (2, 4, 8) and y.is_contiguous()
    assert mm._saved_self._base is x and tuple(mm._saved_self.shape) == (8, 16)


# ---------------------------------------------------------------- the backward pass
def test_bias_gradient_is_kept_not_copied_and_accumulates_in_place():
    # the bias's gradient (the sum over the batch rows) is the array the sum made: kept
    # as .grad without a copy, then added into in place by the next backward
    lin = gpujit.nn.Linear(4, 3)
    xv = _r(5, 4)
    x = gpujit.from_numpy(xv)
    lin(x).sum().backward()
    g = lin.bias.grad
    assert g._data.base is None and g._data.flags.owndata and tuple(g.shape) == (3,)
    np.testing.assert_array_equal(g.numpy(), np.full(3, 5, np.float32))
    ptr = g.data_ptr()
    (lin(x) * 2).sum().backward()
    assert lin.bias.grad is g and g.data_ptr() == ptr
    np.testing.assert_array_equal(g.numpy(), np.full(3, 15, np.float32))
    # a bias shared by two uses: the two gradients summed, each leaf's .grad its own
    b = gpujit.zeros(3, requires_grad=True)
    y = gpujit.from_numpy(_r(2, 3)) + b
    z = gpujit.from_numpy(_r(4, 3)) + b
    (y.sum() + z.sum()).backward()
    np.testing.assert_array_equal(b.grad.numpy(), np.full(3, 6, np.float32))


@pytest.mark.parametrize("dt", [gpujit.float32, gpujit.float64, gpujit.bfloat16,
                                gpujit.float16])
def test_scalar_loss_backward_implicit_gradient(dt):
    x = gpujit.tensor([1.0, 2.0, 3.0], dtype=dt, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    assert x.grad.dtype is dt
    np.testing.assert_array_equal(x.grad.float().numpy(), np.array([2.0, 4.0, 6.0], np.float32))
    # the implicit gradient is the engine's own: a hook sees 1, and writing it changes
    # nothing the user holds
    seen = []
    y = x.detach().requires_grad_()
    out = (y * 3).sum()
    out.register_hook(lambda g: seen.append((g.dtype, tuple(g.shape), float(g))))
    out.backward()
    assert seen == [(dt, (), 1.0)]
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           "outputs"):
        (x * 2).backward()


def test_modified_saved_input_still_raises_in_backward():
    x = gpujit.from_numpy(_r(3, 4)).requires_grad_()
    w = gpujit.from_numpy(_r(4, 2, seed=1)).requires_grad_()
    h = x * 1
    y = h.mm(w)
    h.mul_(2)
    # (torch 2.13's words: "[torch.FloatTensor [3, 4]], which is output 0 of Mul, is at
    # version 1; expected version 0 instead")
    with pytest.raises(RuntimeError, match=r"\[gpujit.FloatTensor \[3, 4\]\], which is output "
                                           r"0 of Mul, is at version 1; expected "
                                           r"version 0 instead"):
        y.sum().backward()


def test_bfloat16_gradients_reaching_one_input_are_summed_in_bfloat16():
    # two gradients of one input added by the engine: bfloat16's sum rounded to bfloat16
    # and labelled so (the float32 arrays that carry bfloat16 values are not its dtype);
    # torch 2.13: x.grad of (x * x).mean() for x = [1, 2, 3] bfloat16 is
    # [0.66796875, 1.3359375, 2.] bfloat16
    x = gpujit.tensor([1.0, 2.0, 3.0], dtype=gpujit.bfloat16, requires_grad=True)
    (x * x).mean().backward()
    assert x.grad.dtype is gpujit.bfloat16
    np.testing.assert_array_equal(x.grad.float().numpy(),
                                  np.array([0.66796875, 1.3359375, 2.0], np.float32))
    av, bv = _r(64, seed=4), _r(64, seed=5)
    a = gpujit.from_numpy(av).to(gpujit.bfloat16)
    b = gpujit.from_numpy(bv).to(gpujit.bfloat16)
    x = gpujit.ones(64, dtype=gpujit.bfloat16, requires_grad=True)
    (x * a + x * b).sum().backward()
    want = (a.float() + b.float()).to(gpujit.bfloat16)
    assert x.grad.dtype is gpujit.bfloat16
    np.testing.assert_array_equal(x.grad.float().numpy(), want.float().numpy())


def test_bfloat16_grad_accumulated_across_backwards_rounds_to_bfloat16():
    # AccumulateGrad's .grad += new gradient in bfloat16 (torch 2.13 rounds the sum)
    av, bv = _r(64, seed=6), _r(64, seed=7)
    a = gpujit.from_numpy(av).to(gpujit.bfloat16)
    b = gpujit.from_numpy(bv).to(gpujit.bfloat16)
    x = gpujit.ones(64, dtype=gpujit.bfloat16, requires_grad=True)
    (x * a).sum().backward()
    g = x.grad
    (x * b).sum().backward()
    assert x.grad is g and g.dtype is gpujit.bfloat16
    want = (a.float() + b.float()).to(gpujit.bfloat16)
    np.testing.assert_array_equal(g.float().numpy(), want.float().numpy())
    # float32 accumulates in place as before
    y = gpujit.ones(64, requires_grad=True)
    (y * gpujit.from_numpy(av)).sum().backward()
    gy = y.grad
    (y * gpujit.from_numpy(bv)).sum().backward()
    assert y.grad is gy
    np.testing.assert_array_equal(gy.numpy(), av + bv)


# ---------------------------------------------------------------- edgeless arguments' edges
@pytest.mark.parametrize("case", ["nll", "nll_w", "nll_wgrad", "bce_w",
                                  "bcel_pw"])
def test_generated_recorder_drops_edgeless_edges_as_the_general_path(case):
    # nll_loss's target / weight, binary_cross_entropy's weight: no edge where they need
    # no gradient (kept per pattern by the op's recorder), as _record_planned drops them
    def call():
        x = gpujit.from_numpy(_r(4, 3)).requires_grad_()
        w = gpujit.from_numpy(np.abs(_r(3, seed=1)) + 0.5)
        if case.endswith("wgrad"):
            w.requires_grad_()
        if case.startswith("nll"):
            lp = x.log_softmax(1)
            t = gpujit.tensor([0, 2, 1, 1])
            out = F.nll_loss(lp, t, weight=w if "w" in case[3:] else None) \
                if case != "nll_wgrad" else None
            if case == "nll_wgrad":
                with pytest.raises(RuntimeError):
                    F.nll_loss(lp, t, weight=w)
                out = F.nll_loss(lp, t)
        elif case.startswith("bce_"):
            p = x.sigmoid()
            out = F.binary_cross_entropy(p, p.detach().round(), weight=w.expand(4, 3))
        else:
            out = F.binary_cross_entropy_with_logits(x, x.detach().sigmoid().round(),
                                                     pos_weight=w)
        st = _structure(out.grad_fn)
        out.backward()
        return st, x.grad.numpy().copy(), None if w.grad is None else w.grad.numpy().copy()

    call()
    a = call()                      # (the op's recorder)
    ops = [registry.OPS[n] for n in ("aten::nll_loss_nd", "aten::binary_cross_entropy",
                                     "aten::binary_cross_entropy_with_logits")]
    saved = {o: R._RECORDERS.pop(o) for o in ops if o in R._RECORDERS}
    try:
        b = call()                  # (_record_planned)
    finally:
        R._RECORDERS.update(saved)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    assert (a[2] is None) == (b[2] is None)
    if a[2] is not None:
        np.testing.assert_array_equal(a[2], b[2])
    if case == "nll":
        assert len(a[0][6]) == 1 and a[0][3] == (1, 2)
