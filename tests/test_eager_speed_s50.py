"""Session 50 (b50): eager recording speed, same graphs.

* F.linear of a float32 / float64 CPU matrix is recorded by one hand-written recorder
  (autograd/recording_fast.HAND_WRITTEN) that makes what torch's composite,
  addmm(bias, input, weight.t()) / mm(input, weight.t()), records through the t() and
  addmm / mm recorders: the same nodes (AddmmBackward0 / MmBackward0 -> TBackward0), saved
  values (mat1 / mat2 / strides / needs_grad), view marks of weight.t(), pack-hook order
  and gradients, bit for bit. The tests compare it with the decomposition recorded op by
  op (the recorder removed)."""
import numpy as np
import pytest

import gpujit
from gpujit.autograd import recording as R
from gpujit.ops import registry

F = gpujit.nn.functional
LINEAR = registry.OPS["aten::linear"]


def _r(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _names(fn):
    return [None if n is None else n.name() for n, _ in fn.next_functions]


def _structure(fn, depth=0):
    """(name, saved values (strides, needs_grad, shapes of tensors), children) of a graph."""
    if fn is None:
        return None
    saved = {}
    for k, v in (getattr(fn, "saved", None) or {}).items():
        if hasattr(v, "unpack"):
            t = v.unpack()
            saved[k] = ("T", tuple(t.shape), tuple(t.stride()))
        else:
            saved[k] = v
    return (fn.name(), saved, [_structure(n, depth + 1) for n, _ in fn.next_functions])


class _Decomposed:
    """F.linear recorded op by op (t(), addmm / mm): the hand-written recorder off."""

    def __enter__(self):
        self.prev = R._HAND_WRITTEN
        self.rec = R._RECORDERS.pop(LINEAR, None)
        R._HAND_WRITTEN = frozenset()

    def __exit__(self, *exc):
        R._HAND_WRITTEN = self.prev
        R._RECORDERS.pop(LINEAR, None)
        if self.rec is not None:
            R._RECORDERS[LINEAR] = self.rec


def _run(xv, wv, bv, need, g, weight_t=False, input_t=False):
    """y = F.linear(x, w, b), y.backward(g): (structure, output, grads) per path."""
    out = []
    for decomposed in (False, True):
        ts = []
        for v, n in zip((xv, wv, bv), need):
            if v is None:
                ts.append(None)
                continue
            t = gpujit.from_numpy(v.copy())
            ts.append(t.requires_grad_() if n else t)
        x, w, b = ts
        if weight_t:                    # (a column-major weight: a view of a leaf)
            w = w.t()
        if input_t:                     # (a column-major input: mat1_strides (1, rows))
            x = x.t()
        ctx = _Decomposed() if decomposed else None
        if ctx:
            ctx.__enter__()
        try:
            for _ in range(2):          # (the second call: the installed recorder)
                y = F.linear(x, w, b)
        finally:
            if ctx:
                ctx.__exit__()
        st = _structure(y.grad_fn)
        yv = y.detach().numpy().copy()
        y.backward(gpujit.from_numpy(g))
        grads = [None if t is None or t.grad is None else t.grad.numpy().copy()
                 for t in ts]
        out.append((st, yv, grads))
    return out


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("need", [(True, True, True), (False, True, True),
                                  (True, False, True), (True, True, False),
                                  (False, True, False), (True, False, False)])
def test_linear_recorder_equals_the_decomposition(dt, need):
    xv, wv, bv, g = _r(5, 4, dtype=dt), _r(3, 4, seed=1, dtype=dt), _r(3, seed=2, dtype=dt), \
        _r(5, 3, seed=3, dtype=dt)
    (s1, y1, g1), (s2, y2, g2) = _run(xv, wv, bv, need, g)
    assert s1 == s2
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, xv @ wv.T + bv)
    for a, b in zip(g1, g2):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("need", [(True, True), (False, True), (True, False)])
def test_linear_without_bias_equals_the_decomposition(need):
    xv, wv, g = _r(6, 4), _r(2, 4, seed=1), _r(6, 2, seed=2)
    (s1, y1, g1), (s2, y2, g2) = _run(xv, wv, None, need + (False,), g)
    assert s1 == s2 and s1[0] == "MmBackward0"
    np.testing.assert_array_equal(y1, y2)
    for a, b in zip(g1, g2):
        if a is not None:
            np.testing.assert_array_equal(a, b)


def test_linear_of_a_column_major_weight():
    # w = W.t() (a view of a leaf): w.t() is then C-contiguous, mat2_strides (4, 1)
    xv, wv, bv, g = _r(5, 4), _r(4, 3, seed=1), _r(3, seed=2), _r(5, 3, seed=3)
    (s1, y1, g1), (s2, y2, g2) = _run(xv, wv, bv, (True, True, True), g, weight_t=True)
    assert s1 == s2
    assert s1[1]["mat2_strides"] == (3, 1)
    np.testing.assert_array_equal(y1, y2)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)


def test_linear_of_a_column_major_input():
    xv, wv, bv, g = _r(4, 5), _r(3, 4, seed=1), _r(3, seed=2), _r(5, 3, seed=3)
    (s1, y1, g1), (s2, y2, g2) = _run(xv, wv, bv, (True, True, False), g, input_t=True)
    assert s1 == s2 and s1[1]["mat1_strides"] == (1, 5)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(y1, xv.T @ wv.T + bv)
    for a, b in zip(g1, g2):
        if a is not None:
            np.testing.assert_array_equal(a, b)


def test_linear_graph_as_torch():
    # torch 2.13: AddmmBackward0 -> (AccumulateGrad(b), AccumulateGrad(x), TBackward0 ->
    # AccumulateGrad(w)); saved mat1 is x, mat2 is w.t() (a view of w: _base w, w's
    # version counter), strides of each
    x = gpujit.from_numpy(_r(2, 3)).requires_grad_()
    lin = gpujit.nn.Linear(3, 4)
    for _ in range(2):
        y = lin(x)
    fn = y.grad_fn
    acc = "torch::autograd::AccumulateGrad"
    assert fn.name() == "AddmmBackward0" and _names(fn) == [acc, acc, "TBackward0"]
    assert fn.next_functions[0][0].variable is lin.bias
    assert fn.next_functions[2][0].next_functions[0][0].variable is lin.weight
    assert fn._saved_mat1 is x
    wt = fn._saved_mat2
    assert wt._base is lin.weight and tuple(wt.shape) == (3, 4) and wt.stride() == (1, 3)
    assert wt.grad_fn is fn.next_functions[2][0]
    assert fn._saved_mat1_strides == (3, 1) and fn._saved_mat2_strides == (1, 3)
    assert fn._saved_beta == 1 and fn._saved_alpha == 1
    assert y.requires_grad and y.is_leaf is False and y.dtype == gpujit.float32
    assert R._RECORDERS[LINEAR].generic is None or callable(R._RECORDERS[LINEAR].generic)


def test_linear_saved_tensor_hooks_and_version_check():
    x = gpujit.from_numpy(_r(2, 3)).requires_grad_()
    w = gpujit.from_numpy(_r(2, 3, seed=1)).requires_grad_()
    b = gpujit.zeros(2, requires_grad=True)
    F.linear(x, w, b)
    packed = []
    with gpujit.autograd.graph.saved_tensors_hooks(
            lambda t: packed.append(tuple(t.shape)) or t, lambda t: t):
        y = F.linear(x, w, b)
    assert packed == [(2, 3), (3, 2)]       # (torch 2.13: x, then w.t())
    with gpujit.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_linear_retain_graph_and_double_backward():
    xv, wv, bv = _r(4, 3), _r(2, 3, seed=1), _r(2, seed=2)
    x = gpujit.from_numpy(xv).requires_grad_()
    w = gpujit.from_numpy(wv).requires_grad_()
    b = gpujit.from_numpy(bv).requires_grad_()
    F.linear(x, w, b)
    y = (F.linear(x, w, b) ** 2).sum()
    gx, gw = gpujit.autograd.grad(y, (x, w), create_graph=True)
    yv = xv.astype(np.float64) @ wv.T + bv
    np.testing.assert_allclose(gw.detach().numpy(), 2 * yv.T @ xv, rtol=1e-5)
    np.testing.assert_allclose(gx.detach().numpy(), 2 * yv @ wv, rtol=1e-5)
    gw.sum().backward()        # (the backward was recorded: second derivatives)
    assert x.grad is not None and b.grad is not None
    # (d/db of sum(2 y.T @ x): 2 * x.sum() for each output)
    np.testing.assert_allclose(b.grad.numpy(), np.full(2, 2 * xv.astype(np.float64).sum()),
                               rtol=1e-5)


def test_linear_other_calls_keep_their_paths():
    # 3-D input (the op's one node), float16 / integer refusal words, shape errors, a
    # broadcast bias, no grad: as without the recorder
    w = gpujit.ones(5, 4, requires_grad=True)
    F.linear(gpujit.ones(2, 4), w)
    y = F.linear(gpujit.ones(2, 3, 4), w, gpujit.zeros(5, requires_grad=True))
    assert y.grad_fn.name() == "ViewBackward0"
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(3x4 and 5x6\)"):
        F.linear(gpujit.ones(3, 4, requires_grad=True), gpujit.ones(6, 5))
    y = F.linear(gpujit.ones(3, 4), w, gpujit.zeros(1, 5, requires_grad=True))
    assert y.grad_fn.name() == "AddmmBackward0"
    np.testing.assert_array_equal(y.detach().numpy(), np.full((3, 5), 4.0))
    with gpujit.no_grad():
        assert F.linear(gpujit.ones(3, 4), w).grad_fn is None
    h = F.linear(gpujit.ones(3, 4, dtype=gpujit.float64),
                 w.detach().double().requires_grad_())
    assert h.grad_fn.name() == "MmBackward0" and h.dtype == gpujit.float64


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_linear_in_inference_mode_and_anomaly_mode():
    w = gpujit.ones(2, 3, requires_grad=True)
    x = gpujit.ones(4, 3)
    F.linear(x, w)
    with gpujit.inference_mode():
        y = F.linear(x, w)
    assert y.grad_fn is None and not y.requires_grad
    with gpujit.autograd.detect_anomaly():
        y = F.linear(x, w)
    assert y.grad_fn.name() == "MmBackward0"
    assert "traceback_" in y.grad_fn.metadata


def test_linear_profiler_sees_the_decomposition():
    w = gpujit.ones(2, 3, requires_grad=True)
    x = gpujit.ones(4, 3)
    F.linear(x, w, gpujit.zeros(2))
    with gpujit.profiler.profile() as prof:
        F.linear(x, w, gpujit.zeros(2))
    names = {e.name for e in prof.events()}
    assert {"aten::linear", "aten::t", "aten::addmm"} <= names


# ---------------------------------------------------------------- float32 softmax over the last dim
# (ops/_softmax_kernel: one compiled loop per row, the exp inlined and vectorized; ATen's
# order of operations, so torch 2.13's bits)

def _np_softmax(x, log):
    x = x.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        z = x - x.max(-1, keepdims=True)
        s = np.exp(z).sum(-1, keepdims=True)
        return z - np.log(s) if log else np.exp(z) / s


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("n", [1, 7, 16, 33, 300])
def test_softmax_lastdim_values_and_special_rows(log, n):
    x = _r(5, n) * 8
    if n > 2:
        x[1, 1] = np.nan            # a NaN: the row is NaN
        x[2, :] = -np.inf           # all -inf: NaN (x - max is -inf - -inf)
        x[3, 0] = np.inf            # +inf: NaN
        x[4, 0] = -np.inf           # one -inf: 0 (log_softmax: -inf) there
    fn = F.log_softmax if log else F.softmax
    y = fn(gpujit.from_numpy(x), -1).numpy()
    ref = _np_softmax(x, log)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    np.testing.assert_allclose(y, ref, rtol=2e-6, atol=1e-6 if not log else 1e-5)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_lastdim_backward_values(log):
    xv, gv = _r(4, 37) * 3, _r(4, 37, seed=1)
    x = gpujit.from_numpy(xv).requires_grad_()
    fn = F.log_softmax if log else F.softmax
    fn(x, -1).backward(gpujit.from_numpy(gv))
    p = _np_softmax(xv, False)
    g64 = gv.astype(np.float64)
    ref = g64 - p * g64.sum(-1, keepdims=True) if log else \
        (g64 - (g64 * p).sum(-1, keepdims=True)) * p
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_lastdim_bits_as_torch(log):
    torch = pytest.importorskip("torch")
    for n in (1, 5, 16, 17, 100, 1000):
        xv = _r(6, n, seed=n) * 10
        gv = _r(6, n, seed=n + 1)
        if n > 3:
            xv[1, 2], xv[2, :], xv[3, 0] = np.nan, -np.inf, np.inf
        out = []
        for T in (torch, gpujit):
            x = T.from_numpy(xv.copy()).requires_grad_()
            y = (T.log_softmax if log else T.softmax)(x, -1)
            y.backward(T.from_numpy(gv.copy()))
            out.append((y.detach().numpy().view(np.int32).copy(),
                        x.grad.numpy().view(np.int32).copy()))
        (ty, tg), (gy, gg) = out
        same = ~np.isnan(ty.view(np.float32))      # (NaN payloads aside)
        np.testing.assert_array_equal(np.isnan(gy.view(np.float32)), ~same)
        np.testing.assert_array_equal(gy[same], ty[same])
        fin = ~np.isnan(tg.view(np.float32))
        np.testing.assert_array_equal(gg[fin], tg[fin])
