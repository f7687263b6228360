"""Session 48 (c48): eager speed. Per-op recorders (autograd/recording_fast.py): the
planned recording of an op written out as a function of its own must make the node the
general path makes (name, edges, saved values, output marks, gradients), on every branch
it has (a leaf's edge, a node's edge, a Python number operand in eager and in scripted
code, a view op, a derivative reading only what the needed gradients need), against the
general path (the recorders removed) and against PyTorch where installed."""
import numpy as np
import pytest

import gpujit
from gpujit.autograd import recording
from gpujit.ops import node_names, registry

try:
    import torch
except ImportError:           # CI has no torch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch")


def _F(t):
    return gpujit.nn.functional if isinstance(t, gpujit.Tensor) else torch.nn.functional


def _edges(t):
    return [(None if n is None else type(n).__name__, nr) for n, nr in t.grad_fn.next_functions]


# (name, program of x, y (leaves requiring grad) and a non-leaf z = x * 1.5)
_PROGRAMS = [
    ("add", lambda x, y, z: x + y),
    ("add_alpha", lambda x, y, z: x.add(z, alpha=2.0)),
    ("mul", lambda x, y, z: x * z),
    ("mul_number", lambda x, y, z: z * 2.0),
    ("rmul_number", lambda x, y, z: 3 * x),
    ("add_number", lambda x, y, z: x + 1),
    ("rsub_number", lambda x, y, z: 1 - z),
    ("sub_number", lambda x, y, z: z - 0.5),
    ("div_number", lambda x, y, z: z / 4.0),
    ("pow_number", lambda x, y, z: z ** 2),
    ("tanh", lambda x, y, z: z.tanh()),
    ("exp", lambda x, y, z: x.exp()),
    ("sigmoid", lambda x, y, z: y.sigmoid()),
    ("sum", lambda x, y, z: z.sum()),
    ("sum_dim", lambda x, y, z: z.sum(1)),
    ("mean", lambda x, y, z: x.mean()),
    ("matmul", lambda x, y, z: x.t() @ z),
    ("select", lambda x, y, z: z[1]),
    ("view", lambda x, y, z: z.view(6)),
    ("t", lambda x, y, z: x.t()),
    ("unsqueeze", lambda x, y, z: z.unsqueeze(0)),
    ("relu", lambda x, y, z: (z - 1).relu()),
    ("matmul_t", lambda x, y, z: x @ y.t()),
    ("mul_no_grad_other", lambda x, y, z: x * y.detach()),
    # (named per call, a composite's one node: the recorder names the call)
    ("linear", lambda x, y, z: _F(x).linear(z, y[:2], y[2])),
    ("linear_3d", lambda x, y, z: _F(x).linear(z.view(3, 1, 2), y[:2], y[2])),
    ("linear_no_bias", lambda x, y, z: _F(x).linear(z, y[:2])),
    ("reshape", lambda x, y, z: z.reshape(2, 3)),
    ("reshape_copy", lambda x, y, z: z.t().reshape(6)),
    ("pow_tensor", lambda x, y, z: z.abs() ** y),
    ("rdiv_number", lambda x, y, z: 2.0 / (z.abs() + 1)),
    ("rpow_number", lambda x, y, z: 2.0 ** z),
    ("where_cond_only", lambda x, y, z: (z > 0).float() * 2),
]


def _run(lib, prog):
    rng = np.random.default_rng(48)
    xv = rng.standard_normal((3, 2)).astype(np.float32)
    yv = rng.standard_normal((3, 2)).astype(np.float32)
    if lib is gpujit:
        x, y = gpujit.from_numpy(xv.copy()), gpujit.from_numpy(yv.copy())
    else:
        x, y = lib.from_numpy(xv.copy()), lib.from_numpy(yv.copy())
    x.requires_grad_()
    y.requires_grad_()
    z = x * 1.5
    out = prog(x, y, z)
    if out.dim() == 2 and out.shape[0] == out.shape[1] == 3:
        out = out.sum(1)
    return x, y, out


def _facts(out):
    if out.grad_fn is None:
        return (None, out.requires_grad)
    return (out.grad_fn.name(), _edges(out), out.requires_grad, out.is_leaf)


def _grads(lib, x, y, out):
    if not out.requires_grad:
        return None
    out.sum().backward() if out.dim() else out.backward()
    return [None if t.grad is None else t.grad.numpy() for t in (x, y)]


@pytest.mark.parametrize("name,prog", _PROGRAMS, ids=[p[0] for p in _PROGRAMS])
def test_recorder_makes_the_general_paths_node(name, prog):
    _run(gpujit, prog)          # (the first call plans the op and makes its recorder)
    x, y, out = _run(gpujit, prog)
    fast = _facts(out), _grads(gpujit, x, y, out)
    saved = dict(recording._RECORDERS)
    try:
        recording._RECORDERS.clear()
        x, y, out = _run(gpujit, prog)
        general = _facts(out), _grads(gpujit, x, y, out)
    finally:
        recording._RECORDERS.clear()
        recording._RECORDERS.update(saved)
    assert fast[0] == general[0]
    if fast[1] is None:
        assert general[1] is None
    else:
        for a, b in zip(fast[1], general[1]):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b)


@needs_torch
@pytest.mark.parametrize("name,prog", _PROGRAMS, ids=[p[0] for p in _PROGRAMS])
def test_recorded_node_as_torch(name, prog):
    _run(gpujit, prog)
    x, y, out = _run(gpujit, prog)
    tx, ty, tout = _run(torch, prog)
    assert _facts(out) == _facts(tout)
    mine, theirs = _grads(gpujit, x, y, out), _grads(torch, tx, ty, tout)
    if theirs is None:
        assert mine is None
        return
    for a, b in zip(mine, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_common_ops_get_a_recorder():
    x = gpujit.ones(2, 2, requires_grad=True)
    for _ in range(2):
        (x + x).sum()
        x.tanh()
        x * 2.0
        x[0]
    for name in ("aten::add.Tensor", "aten::sum", "aten::tanh", "aten::mul.Tensor",
                 "aten::select.int"):
        assert recording._RECORDERS.get(registry.OPS[name]) is not None, name


def test_number_operand_named_per_pattern_and_per_scripted_mode():
    # x * 2.0 in eager code: MulBackward0 with an edge to None for the wrapped number; in
    # ATen's composites (node_names.aten_scalars) mul.Scalar's MulBackward1 without it;
    # the recorder keeps one name per (number pattern, mode) and mixes none of them up
    x = gpujit.ones(2, requires_grad=True)
    for _ in range(3):
        z = x * 1.0
        y = z * 2.0
        assert y.grad_fn.name() == "MulBackward0"
        assert _edges(y) == [("MulBackward0", 0), (None, 0)]
        with node_names.aten_scalars():
            y = z * 2.0
        assert y.grad_fn.name() == "MulBackward1"
        assert _edges(y) == [("MulBackward0", 0)]
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
        x.grad = None
        y = z * z
        assert _edges(y) == [("MulBackward0", 0), ("MulBackward0", 0)]
        y = 1 - z
        assert y.grad_fn.name() == "RsubBackward1"
        assert _edges(y) == [("MulBackward0", 0)]


def test_recorder_runs_unrecorded_when_only_non_wrt_args_require_grad():
    # where(cond, a, b): the condition takes no gradient; expand_as(other): other none
    x = gpujit.ones(2, 3)
    o = gpujit.ones(2, 3, requires_grad=True)
    for _ in range(2):
        r = gpujit.ones(3).expand_as(o)
        assert r.grad_fn is None and not r.requires_grad
        r = x.add(x) + o
        assert r.grad_fn.name() == "AddBackward0"


def test_recorder_saves_what_the_needed_gradients_read():
    # mul saves other only for self's gradient: with only self requiring grad, the saved
    # self is dropped (None) and the node still differentiates
    x = gpujit.tensor([1.0, 2.0], requires_grad=True)
    c = gpujit.tensor([3.0, 4.0])
    for _ in range(2):
        y = x * c
        assert y.grad_fn._saved_self is None
        np.testing.assert_array_equal(y.grad_fn._saved_other.numpy(), [3.0, 4.0])
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
        x.grad = None


def test_recorder_version_check_and_saved_result():
    # tanh saves its result (as an output: no cycle): an in-place change of it is refused
    x = gpujit.tensor([0.5, -0.25], requires_grad=True)
    for _ in range(2):
        y = x.tanh()
        assert y.grad_fn._saved_result is y
        y2 = x.tanh()
        y2.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y2.sum().backward()
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh([0.5, -0.25]) ** 2,
                                   rtol=1e-6)
        x.grad = None


def test_recorder_view_is_a_recorded_view():
    x = gpujit.zeros(2, 3, requires_grad=True)
    for _ in range(2):
        z = x * 1.0
        v = z[0]
        assert v._base is z
        v.mul_(2)           # (an in-place write through the view: CopySlices on z)
        assert z.grad_fn.name() == "torch::autograd::CopySlices"
        z.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [[2, 2, 2], [1, 1, 1]])
        x.grad = None


def test_recorder_follows_a_new_derivative():
    # a derivative registered after the recorder was made: the general path plans anew
    op = registry.OPS["aten::tanh"]
    x = gpujit.tensor([0.5], requires_grad=True)
    x.tanh()
    assert recording._RECORDERS.get(op) is not None
    old = op.derivative
    from gpujit.ops.derivatives import Derivative
    try:
        op.derivative = Derivative(lambda grad: grad * 7, ("self",), ())
        recording._PLANS.pop(op, None)
        y = x.tanh()
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [7.0])
    finally:
        op.derivative = old
        recording._PLANS.pop(op, None)
    x.grad = None
    x.tanh().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 - np.tanh(0.5) ** 2], rtol=1e-6)


def test_recorder_source_is_kept():
    x = gpujit.ones(2, requires_grad=True)
    x.exp()
    x.exp()
    rec = recording._RECORDERS[registry.OPS["aten::exp"]]
    assert "def recorder(args):" in rec.source
    assert "_op.eager(*args)" in rec.source


def test_saved_output_shadow_keeps_the_flags_it_has():
    # graph._shadow (a saved output kept without its grad_fn) reads the rarely-set flags
    # only where they can be set; each it has is carried, none is made up
    from gpujit.autograd.graph import _shadow
    plain = _shadow(gpujit.ones(2, 2))
    for k in ("_detached", "_nograd_view", "_zero_strides"):
        assert getattr(plain, k, None) is None, k
    base = gpujit.ones(3, 2, requires_grad=True)
    with gpujit.no_grad():
        v = base[0]
    assert getattr(v, "_nograd_view", None) is True
    s = _shadow(v)
    assert s._nograd_view is True and s._base is base and s._vc is v._vc
    d = base.detach()
    assert _shadow(d)._detached is True
    z = gpujit.from_numpy(np.zeros((0, 3), np.float32))
    assert z.stride() == (0, 0)
    sz = _shadow(z)
    assert sz._zero_strides is True and sz.stride() == (0, 0)


def test_saved_output_of_a_recorded_view_after_the_view_dies():
    # tanh of a view saves its result; once the result is freed, backward unpacks the
    # shadow (its base and version counter kept)
    x = gpujit.tensor([[0.5, 1.0], [-1.0, 2.0]], requires_grad=True)
    y = (x * 1.0)[0].tanh()
    node = y.grad_fn
    s = y.sum()
    del y
    s.backward()
    assert node.name() == "TanhBackward0"
    np.testing.assert_allclose(x.grad.numpy()[0], 1 - np.tanh([0.5, 1.0]) ** 2, rtol=1e-6)
    np.testing.assert_array_equal(x.grad.numpy()[1], [0.0, 0.0])


# ---------------------------------------------------------------- small totals (c48)
# reduction_cascade._small_total: the sum of all values of a small contiguous array while
# numba is not loaded, one np.add.accumulate per sequential sum of ATen's kernel

def _small_cases():
    rng = np.random.default_rng(7)
    for dt in (np.float32, np.float64):
        from gpujit.ops import reduction_cascade as rc
        L = rc.lanes(dt)
        if not L:
            return
        for n in list(range(1, 40)) + [63, 64, 65, 127, 128, 129, 255, 256, 300, 4 * 16 * L - 1]:
            if n >= 4 * 16 * L:
                continue
            for kind in range(3):
                if kind == 0:       # magnitudes 1e-8 .. 1e8: any other order shows
                    x = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)
                elif kind == 1:
                    x = rng.standard_normal(n) + 1e4
                else:               # signed zeros: the result is +0.
                    x = np.where(rng.random(n) < 0.5, -0.0, 0.0)
                yield dt, x.astype(dt)


def test_small_totals_are_the_block_paths_bits():
    from gpujit.ops import reduction_cascade as rc
    n_checked = 0
    for dt, x in _small_cases():
        L = rc.lanes(dt)
        shapes = [(x.size,)] + [(d, x.size // d) for d in (2, 3) if x.size % d == 0]
        for sh in shapes:
            for order in "CF":
                a = np.asarray(x.reshape(sh), order=order)
                for keep in (False, True):
                    with np.errstate(all="ignore"):
                        want = rc._cascade_sum(a, None, keep, False, L, None)
                    got = rc._small_total(a, keep, L)
                    assert got.shape == want.shape and got.dtype == want.dtype
                    assert got.tobytes() == want.tobytes(), (dt, sh, order, keep)
                    n_checked += 1
    assert n_checked > 500


def test_small_totals_of_inf_nan_and_overflow_warn_nothing(monkeypatch):
    import warnings
    from gpujit.ops import reduction_cascade as rc
    rc._kernel(0)
    monkeypatch.setattr(rc._KERNEL[0], "force", "numpy")
    big = np.full(40, np.finfo(np.float32).max / 3, np.float32)
    x = np.arange(20, dtype=np.float64)
    x[3], x[11] = np.inf, -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rc.cascade_sum(big, None, False) == np.inf
        assert np.isnan(rc.cascade_sum(x, None, False))
        assert rc.cascade_sum(np.array([-0.0], np.float32), None, False).tobytes() == \
            np.float32(0).tobytes()


def test_small_totals_taken_before_numba(monkeypatch):
    # the public sums take the small path while the kernel is not loaded (forced NumPy)
    from gpujit.ops import reduction_cascade as rc
    rc._kernel(0)
    monkeypatch.setattr(rc._KERNEL[0], "force", "numpy")
    calls = []
    real = rc._small_total
    monkeypatch.setattr(rc, "_small_total", lambda *a: calls.append(a) or real(*a))
    v = np.random.default_rng(3).standard_normal((4, 4)).astype(np.float32)
    t = gpujit.from_numpy(v)
    got = [t.sum(), t.mean(), t.sum(dim=(0, 1), keepdim=True)]
    assert len(calls) == 3
    with np.errstate(all="ignore"):
        want = rc._cascade_sum(v, None, False, False, 8, None)
    assert got[0].numpy().tobytes() == want.tobytes()
    assert tuple(got[2].shape) == (1, 1)
    t.sum(0)                    # (a partial sum: the general path)
    assert len(calls) == 3


@needs_torch
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_small_totals_are_torchs(dt):
    from gpujit.ops import reduction_cascade as rc
    for d, x in _small_cases():
        if np.dtype(d).name != dt:
            continue
        got = rc._small_total(x, False, rc.lanes(d))
        want = torch.from_numpy(x).sum().numpy()
        assert got.tobytes() == want.tobytes(), x.size


# ---------------------------------------------------------------- float16 libm tables (c48)

@pytest.mark.parametrize("name", ["exp", "expm1", "log", "log1p", "sin", "cos", "tan", "asin",
                                  "atanh", "cosh", "asinh", "log10"])
def test_half_libm_table_is_the_per_element_ufunc(name, monkeypatch):
    from gpujit.ops import half_libm
    pytest.importorskip("numba")
    monkeypatch.setattr(half_libm, "_TABLES", {})
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 1 << 16, (600, 240), dtype=np.uint16)  # NaNs and infs among them
    a = bits.view(np.float16)
    small = a[:3, :5]
    got_small = half_libm.call(np, name, small)         # (below the size: no table yet)
    assert name not in half_libm._TABLES
    strided = a[::2, ::3]                               # (a view: its bits looked up)
    assert strided.size >= half_libm._TABLE_MIN
    got = half_libm.call(np, name, strided)
    assert name in half_libm._TABLES
    want = half_libm._per_element(name, strided)
    assert got.dtype == np.float16 and got.shape == strided.shape and got.flags.c_contiguous
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))
    np.testing.assert_array_equal(got_small.view(np.uint16),
                                  half_libm.call(np, name, small).view(np.uint16))
    z = half_libm.call(np, name, np.float16(0.5))      # (a 0-d value: a NumPy scalar)
    assert type(z) is np.float16 and z == half_libm._per_element(name, np.asarray(np.float16(0.5)))
    # every half: the table is the ufunc's value of each
    all_bits = np.arange(1 << 16, dtype=np.uint16)
    np.testing.assert_array_equal(
        half_libm.call(np, name, all_bits.view(np.float16)).view(np.uint16),
        half_libm._per_element(name, all_bits.view(np.float16)).view(np.uint16))


@needs_torch
@pytest.mark.parametrize("name", ["exp", "log", "tanh", "cos"])
def test_half_libm_eager_is_torchs(name):
    pytest.importorskip("numba")
    v = (np.random.default_rng(5).standard_normal(1 << 15) * 3).astype(np.float16)
    if name == "log":
        v = np.abs(v)
    got = getattr(gpujit.from_numpy(v), name)().numpy()
    want = getattr(torch.from_numpy(v), name)().numpy()
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


def test_recorder_of_a_composite_while_tracing():
    # F.linear of a 1-d input decomposes when recorded eagerly (torch's matmul of the
    # weight's t()), but a trace records the op itself: the recorder keeps both
    F = gpujit.nn.functional
    w = gpujit.randn(3, 4, requires_grad=True)
    x = gpujit.randn(4, requires_grad=True)
    F.linear(x, w)
    F.linear(gpujit.randn(2, 4, requires_grad=True), w)       # (the op's own node)
    assert recording._RECORDERS.get(registry.OPS["aten::linear"]) is not None
    y = F.linear(x, w)
    assert y.grad_fn.name() != "AddmmBackward0"
    eager_name = y.grad_fn.name()
    traced = gpujit.jit.trace(lambda a, b: F.linear(a, b), (x, w))
    assert "aten::linear" in str(traced.graph)
    out = traced(x, w)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w.detach().numpy().sum(0), rtol=1e-6)
    if torch is not None:
        tw = torch.from_numpy(w.detach().numpy()).requires_grad_()
        tx = torch.from_numpy(x.detach().numpy()).requires_grad_()
        assert torch.nn.functional.linear(tx, tw).grad_fn.name() == eager_name


# ---------------------------------------------------------------- select / slice backward (c48)
# SelectBackward0 / SliceBackward0 (and narrow's) write the gradient into zeros
# (select_scatter / slice_scatter) as ATen's select_backward / slice_backward: no
# np.add.at, and a -0. gradient stays -0.

_VIEW_PROGRAMS = [
    ("select", lambda x: x[1]),
    ("select_neg", lambda x: x.select(1, -1)),
    ("slice", lambda x: x[:, 1:3]),
    ("slice_step", lambda x: x[::2]),
    ("slice_empty", lambda x: x[:, 3:1]),
    ("narrow", lambda x: x.narrow(1, 1, 2)),
    ("unbind", lambda x: x.unbind(0)[2]),
    ("chunk", lambda x: x.chunk(2, 1)[1]),
]


def _view_grad(lib, prog, dt, sign=1.0):
    x = lib.from_numpy(np.arange(12, dtype=np.float64).reshape(3, 4) + 1).to(
        getattr(lib, dt)).requires_grad_()
    y = prog(x)
    w = lib.from_numpy(np.full(tuple(y.shape), sign)).to(getattr(lib, dt))
    (y * w).sum().abs().backward() if dt.startswith("complex") else (y * w).sum().backward()
    return x.grad


@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "bfloat16", "complex64"])
@pytest.mark.parametrize("name,prog", _VIEW_PROGRAMS, ids=[p[0] for p in _VIEW_PROGRAMS])
def test_view_backward_writes_into_zeros(name, prog, dt):
    g = _view_grad(gpujit, prog, dt)
    assert g.dtype == getattr(gpujit, dt)
    # the expected gradient: 1 (or the complex abs's unit) where the view reads, else 0
    mask = np.zeros((3, 4))
    prog(gpujit.from_numpy(mask)).fill_(1.0)
    got = g.to(gpujit.complex128 if dt.startswith("complex") else gpujit.float64).numpy()
    if dt.startswith("complex"):        # (|sum|'s gradient: a unit complex where read)
        got = np.abs(got)
        assert (got[mask == 0] == 0).all() and np.allclose(got[mask != 0], 1, rtol=1e-6)
    else:
        np.testing.assert_array_equal(got, mask)
    if torch is not None:
        tg = _view_grad(torch, prog, dt)
        np.testing.assert_array_equal(
            g.to(gpujit.complex128 if dt.startswith("complex") else gpujit.float64).numpy(),
            tg.to(torch.complex128 if dt.startswith("complex") else torch.float64).numpy())


@pytest.mark.parametrize("name,prog", _VIEW_PROGRAMS[:6], ids=[p[0] for p in _VIEW_PROGRAMS[:6]])
def test_view_backward_keeps_negative_zero(name, prog):
    g = _view_grad(gpujit, prog, "float32", sign=-0.0).numpy()
    mask = np.zeros((3, 4))
    prog(gpujit.from_numpy(mask)).fill_(1.0)
    assert (np.signbit(g) == (mask != 0)).all()        # -0. where read, +0. elsewhere
    if torch is not None:
        tg = _view_grad(torch, prog, "float32", sign=-0.0).numpy()
        assert (np.signbit(g) == np.signbit(tg)).all()


def test_view_backward_double_backward():
    x = gpujit.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=gpujit.float64, requires_grad=True)
    (g,) = gpujit.autograd.grad((x[1] ** 3).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [[0, 0], [27, 48]])
    (h,) = gpujit.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), [[0, 0], [18, 24]])
    (g,) = gpujit.autograd.grad((x[:, 1:] ** 2).sum(), x, create_graph=True)
    (h,) = gpujit.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), [[0, 2], [0, 2]])


def test_anomaly_traceback_skips_the_recorder_frame():
    # a node made by a recorder under detect_anomaly keeps the user's line last, as the
    # general path's (the recorder's generated frame is gpujit's own)
    x = gpujit.tensor([4.0], requires_grad=True)
    x.sqrt()
    x.sqrt()
    assert recording._RECORDERS.get(registry.OPS["aten::sqrt"]) is not None
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with gpujit.autograd.detect_anomaly():
            y = x.sqrt()  # the user's line
    tb = y.grad_fn.metadata["traceback_"]
    assert "y = x.sqrt()  # the user's line" in tb[-1]


@pytest.mark.parametrize("shape,dims", [((512, 128), (0,)), ((8, 64, 128), (0, 1)),
                                        ((300, 130), (0,)), ((1000, 70), (1,))])
def test_large_partial_sums_keep_their_thread_loops(shape, dims, monkeypatch):
    # reduction_cascade._FAST keeps a >= GRAIN_SIZE partial sum's parallel_dim_reduction
    # loops: the cached call adds exactly as the uncached one, per thread count
    pytest.importorskip("numba")
    from gpujit.ops import reduction_cascade as rc
    rc._kernel(0)
    rc._KERNEL[0].load()
    monkeypatch.setattr(rc._KERNEL[0], "force", None)
    monkeypatch.setattr(rc, "_FAST", {})
    monkeypatch.setattr(rc, "_threads", lambda: 2)
    rng = np.random.default_rng(13)
    for order in "CF":
        a = np.asarray(rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, shape),
                       np.float32, order=order)
        want = rc.cascade_sum(a, dims, False)       # (the loops worked out, then kept)
        key = (a.shape, a.strides, a.dtype, dims, False)
        assert len(rc._FAST[key]) == 9 and rc._FAST[key][7] == 2
        assert rc.cascade_sum(a, dims, False).tobytes() == want.tobytes()
        assert rc.cascade_sum(a, dims, True).tobytes() == want.tobytes()
        monkeypatch.setattr(rc, "_threads", lambda: 3)     # (other loops: not the kept ones)
        three = rc.cascade_sum(a, dims, False)
        monkeypatch.setattr(rc, "_FAST", {})
        assert rc.cascade_sum(a, dims, False).tobytes() == three.tobytes()
        monkeypatch.setattr(rc, "_threads", lambda: 2)
        if torch is not None and torch.get_num_threads() == 2:
            t = torch.from_numpy(a).sum(dims).numpy()
            assert t.tobytes() == want.tobytes()
