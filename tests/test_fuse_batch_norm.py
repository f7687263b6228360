"""aten::batch_norm in inference inside fusion groups (NNC fuses it: fusers/batch_norm.py).

With `training` a constant False and running statistics given, batch_norm is pointwise per
channel and joins the group of the pointwise ops around it. Values against NumPy
(x - m) / sqrt(v + eps) * w + b, what fuses (and what stays out: training, a module's
non-constant self.training), strict_fusion, guards (new channel count, new dtype), gradients
through the group, and the simulated CUDA target in a subprocess."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
import gpujit.nn.functional as F
from gpujit import fusers

_R = np.random.default_rng(11)
EPS = 1e-5


def _a(*shape, dtype=np.float32, positive=False):
    a = _R.standard_normal(shape)
    return (np.abs(a) + 0.1 if positive else a).astype(dtype)


def _stats(c, dtype=np.float32):
    return _a(c, dtype=dtype), _a(c, dtype=dtype, positive=True), _a(c, dtype=dtype), \
        _a(c, dtype=dtype)


def _ref(x, m, v, w=None, b=None, eps=EPS):
    """NumPy, in float64 (the tolerances say how close float32 and float16 come)."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)

    def r(p):
        return p.astype(np.float64).reshape(shape)
    out = (x.astype(np.float64) - r(m)) / np.sqrt(r(v) + eps)
    if w is not None:
        out = out * r(w)
    if b is not None:
        out = out + r(b)
    return out


def _groups(graph):
    return len(graph.findAllNodes("prim::TensorExprGroup"))


def _in_groups(graph, kind="aten::batch_norm"):
    return sum(1 for g in graph.findAllNodes("prim::TensorExprGroup")
               for n in g.g("Subgraph").nodes if n.kind == kind)


def _outside(graph, kind="aten::batch_norm"):
    return str(graph).split("\nwith ")[0].count(kind)


def _calls(f, *args, n=3):
    with warnings.catch_warnings():
        warnings.simplefilter("error", fusers.FusionWarning)   # no kernel may fail
        for _ in range(n):
            out = f(*args)
    return out


def _close(out, ref, dtype=np.float32):
    o = out.numpy()
    assert o.dtype == dtype and o.shape == ref.shape
    tol = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3}[dtype]
    np.testing.assert_allclose(o.astype(np.float64), ref, rtol=tol, atol=tol)


def _t(*arrays):
    return [None if a is None else torch.from_numpy(a) for a in arrays]


# ------------------------------------------------------------------ scripted functions

def bn_relu(x, m, v, w, b):
    return F.relu(F.batch_norm(x, m, v, w, b, False, 0.1, 1e-5)) * 2.0


def bn_no_affine(x, m, v):
    return F.batch_norm(x, m, v, None, None, False, 0.1, 1e-5).sigmoid()


def bn_runtime_eps(x, m, v, w, b, eps: float, momentum: float):
    return F.batch_norm(x, m, v, w, b, False, momentum, eps) + 1.0


def bn_after_unsqueeze(x, m, v, w, b):
    return F.batch_norm(x.unsqueeze(1) * 2.0, m, v, w, b, False, 0.1, 1e-5).unsqueeze(0) + 1.0


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 7), (2, 4, 5, 6), (2, 4, 3, 3, 3)])
def test_scripted_function_fuses_batch_norm_with_relu(shape):
    x = _a(*shape)
    m, v, w, b = _stats(4)
    s = torch.jit.script(bn_relu)
    out = _calls(s, *_t(x, m, v, w, b))
    _close(out, np.maximum(_ref(x, m, v, w, b), 0) * 2)
    g = s.graph_for(*_t(x, m, v, w, b))
    assert _groups(g) == 1 and _in_groups(g) == 1 and _outside(g) == 0


def test_weight_and_bias_none():
    x = _a(2, 3, 4, 5)
    m, v, _, _ = _stats(3)
    s = torch.jit.script(bn_no_affine)
    out = _calls(s, *_t(x, m, v))
    _close(out, 1 / (1 + np.exp(-_ref(x, m, v))))
    assert _in_groups(s.graph_for(*_t(x, m, v))) == 1


def test_eps_and_momentum_passed_at_run_time():
    x = _a(2, 3, 4)
    m, v, w, b = _stats(3)
    s = torch.jit.script(bn_runtime_eps)
    for eps in (1e-5, 0.5):
        out = _calls(s, *_t(x, m, v, w, b), eps, 0.3)
        _close(out, _ref(x, m, v, w, b, eps=eps) + 1)
    assert _in_groups(s.graph_for(*_t(x, m, v, w, b), 0.5, 0.3)) == 1


def test_batch_norm_next_to_unsqueezes():
    # x [4, 5] unsqueezed to [4, 1, 5]: one channel; the result unsqueezed again at 0
    x = _a(4, 5)
    m, v, w, b = _stats(1)
    s = torch.jit.script(bn_after_unsqueeze)
    out = _calls(s, *_t(x, m, v, w, b))
    _close(out, (_ref(x[:, None] * 2, m, v, w, b) + 1)[None])
    assert _in_groups(s.graph_for(*_t(x, m, v, w, b))) == 1


def test_float64():
    x = _a(2, 3, 4, 4, dtype=np.float64)
    m, v, w, b = _stats(3, np.float64)
    out = _calls(torch.jit.script(bn_relu), *_t(x, m, v, w, b))
    _close(out, np.maximum(_ref(x, m, v, w, b), 0) * 2, np.float64)


@pytest.mark.parametrize("pdtype", [np.float16, np.float32])
def test_float16_input_computes_in_float32(pdtype):
    # float16 parameters or float32 ones (PyTorch's CPU rule): computed in float32, the
    # result float16, rounded once (eager's answer, but for the kernel's FMA contraction:
    # its float32 value may differ from eager's in the last bit, which can round the
    # float16 result the other way for some draws)
    x = _a(2, 3, 5, 5, dtype=np.float16)
    m, v, w, b = _stats(3, pdtype)
    args = _t(x, m, v, w, b)
    s = torch.jit.script(bn_no_affine_f)
    out = _calls(s, *args)
    eager = F.batch_norm(args[0], args[1], args[2], args[3], args[4], False, 0.1, 1e-5)
    assert out.dtype == torch.float16
    np.testing.assert_array_max_ulp(out.numpy(), eager.numpy(), maxulp=1)
    _close(out, _ref(x, m, v, w, b), np.float16)
    assert _in_groups(s.graph_for(*args)) == 1


def bn_no_affine_f(x, m, v, w, b):
    return F.batch_norm(x, m, v, w, b, False, 0.1, 1e-5) * 1.0


def test_mixed_dtypes_still_raise_as_eager():
    x = _a(2, 3, 4)
    m, v, w, b = _stats(3, np.float64)
    s = torch.jit.script(bn_relu)
    with pytest.raises(RuntimeError, match="mixed dtype"):
        s(*_t(x, m, v, w, b))


def test_channels_last_and_transposed_inputs():
    x = _a(2, 3, 4, 5)
    m, v, w, b = _stats(3)
    s = torch.jit.script(bn_relu)
    for xt in (torch.from_numpy(x).contiguous(memory_format=torch.channels_last),
               torch.from_numpy(x.transpose(0, 1, 3, 2).copy()).transpose(2, 3)):
        out = _calls(s, xt, *_t(m, v, w, b))
        _close(out, np.maximum(_ref(x, m, v, w, b), 0) * 2)


def chained_unsqueeze(x, y):
    return x.unsqueeze(-1).unsqueeze(-1) * y + 1.0


def test_chained_unsqueezes_of_an_input():
    # (the kernel was also handed the [C, 1] view the second unsqueeze read, and its
    # build failed: the sizes did not broadcast; and the partitioner left the first
    # unsqueeze out, lining x up with the [C, 1] it makes, not the [C, 1, 1] read)
    x, y = _a(4), _a(2, 4, 3, 5)
    s = torch.jit.script(chained_unsqueeze)
    out = _calls(s, *_t(x, y))
    _close(out, x[:, None, None] * y + 1)
    assert _outside(s.graph_for(*_t(x, y)), "aten::unsqueeze") == 0


# ------------------------------------------------------------------ modules

def _block(bn, conv=None):
    layers = ([conv] if conv is not None else []) + [bn, nn.ReLU()]
    mod = nn.Sequential(*layers)
    for p in bn.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        bn.running_mean.copy_(torch.from_numpy(_a(bn.num_features)))
        bn.running_var.copy_(torch.from_numpy(_a(bn.num_features, positive=True)))
        bn.weight.copy_(torch.from_numpy(_a(bn.num_features)))
        bn.bias.copy_(torch.from_numpy(_a(bn.num_features)))
    return mod.eval()


def _bn_ref(bn, x):
    return np.maximum(_ref(x, bn.running_mean.numpy(), bn.running_var.numpy(),
                           bn.weight.detach().numpy(), bn.bias.detach().numpy(), bn.eps), 0)


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.BatchNorm1d(5), (4, 5)),
    (lambda: nn.BatchNorm1d(5), (4, 5, 6)),
    (lambda: nn.BatchNorm2d(5), (2, 5, 4, 3)),
    (lambda: nn.BatchNorm3d(5), (2, 5, 3, 2, 4)),
])
def test_traced_eval_modules(make, shape):
    bn = make()
    mod = _block(bn)
    x = _a(*shape)
    t = torch.jit.trace(mod, (torch.from_numpy(x),))
    with torch.no_grad():
        out = _calls(t, torch.from_numpy(x))
    _close(out, _bn_ref(bn, x))
    g = t.graph_for(torch.from_numpy(x))
    assert _groups(g) == 1 and _in_groups(g) == 1 and _outside(g) == 0


def test_traced_conv_bn_relu_one_group_after_the_conv():
    conv = nn.Conv2d(3, 4, 3)
    for p in conv.parameters():
        p.requires_grad_(False)
    mod = _block(nn.BatchNorm2d(4), conv)
    x = torch.from_numpy(_a(2, 3, 8, 8))
    t = torch.jit.trace(mod, (x,))
    with torch.no_grad():
        out = _calls(t, x)
        conv_out = conv(x).numpy()
    _close(out, _bn_ref(mod[1], conv_out))
    g = t.graph_for(x)
    assert _groups(g) == 1 and _in_groups(g) == 1 and _in_groups(g, "aten::relu") == 1
    assert _outside(g, "aten::conv2d") + _outside(g, "aten::_convolution") == 1
    lines = str(t.fusion_report(x)).splitlines()
    assert not [ln for ln in lines if ln.startswith("unfused") and "aten::batch_norm" in ln]
    assert [ln for ln in lines if ln.startswith("fused") and "aten::batch_norm" in ln]


def test_strict_fusion_around_conv_bn_relu_reports_only_the_conv():
    def block(x, cw, m, v, w, b):
        with torch.jit.strict_fusion():
            y = F.conv2d(x, cw)
            y = F.batch_norm(y, m, v, w, b, False, 0.1, 1e-5)
            return F.relu(y) + 1.0
    s = torch.jit.script(block)
    m, v, w, b = _stats(4)
    args = _t(_a(2, 3, 6, 6), _a(4, 3, 3, 3), m, v, w, b)
    with pytest.raises(Exception) as e:
        _calls(s, *args)
    msg = str(e.value)
    assert "aten::conv2d" in msg
    assert "aten::batch_norm" not in msg and "aten::relu" not in msg and "aten::add" not in msg


def test_frozen_scripted_module_fuses_batch_norm():
    # freezing makes self.training and the parameters constants (no conv to fold into)
    bn = nn.BatchNorm2d(4)
    mod = _block(bn)
    x = _a(2, 4, 5, 5)
    f = torch.jit.freeze(torch.jit.script(mod))
    with torch.no_grad():
        out = _calls(f, torch.from_numpy(x))
    _close(out, _bn_ref(bn, x))
    g = f.graph_for(torch.from_numpy(x))
    assert _groups(g) == 1 and _in_groups(g) == 1 and _outside(g) == 0


def test_scripted_module_in_eval_mode_keeps_batch_norm_out_with_a_reason():
    # self.training is an attribute read at run time (as in TorchScript, where NNC does not
    # fuse it either): batch_norm runs unfused and the report says why; values are right
    bn = nn.BatchNorm2d(3)
    mod = _block(bn)
    s = torch.jit.script(mod)
    x = _a(2, 3, 4, 4)
    with torch.no_grad():
        out = _calls(s, torch.from_numpy(x))
    _close(out, _bn_ref(bn, x))
    report = str(s.fusion_report(torch.from_numpy(x)))
    assert "training" in report


# ------------------------------------------------------------------ training stays out

def bn_train(x, m, v, w, b):
    return F.relu(F.batch_norm(x, m, v, w, b, True, 0.1, 1e-5)) * 2.0


def test_training_mode_stays_unfused_and_updates_the_running_stats():
    x = _a(4, 3, 5)
    m, v, w, b = _stats(3)
    s = torch.jit.script(bn_train)
    ts = _t(x, m.copy(), v.copy(), w, b)
    out = s(*ts)
    g = s.graph_for(*ts)
    assert _in_groups(g) == 0 and _outside(g) == 1
    mean, var = x.mean((0, 2)), x.var((0, 2))
    xhat = (x - mean[None, :, None]) / np.sqrt(var[None, :, None] + EPS)
    _close(out, np.maximum(xhat * w[None, :, None] + b[None, :, None], 0) * 2)
    np.testing.assert_allclose(ts[1].numpy(), 0.9 * m + 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ts[2].numpy(), 0.9 * v + 0.1 * x.var((0, 2), ddof=1),
                               rtol=1e-5, atol=1e-6)


def test_traced_module_in_training_mode_stays_unfused():
    bn = nn.BatchNorm1d(3)
    mod = nn.Sequential(bn, nn.ReLU()).train()
    x = torch.from_numpy(_a(4, 3))
    t = torch.jit.trace(mod, (x,))
    g = t.graph_for(x)
    assert _in_groups(g) == 0


# ------------------------------------------------------------------ guards

def test_new_channel_count_and_new_dtype():
    old = torch.jit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 2)])
    try:
        s = torch.jit.script(bn_relu)
        for c, dt in ((4, np.float32), (6, np.float32), (3, np.float32), (5, np.float64),
                      (4, np.float16)):
            x = _a(2, c, 3, 3, dtype=dt)
            m, v, w, b = _stats(c, dt)
            out = _calls(s, *_t(x, m, v, w, b), n=2)
            _close(out, np.maximum(_ref(x, m, v, w, b), 0) * 2, dt)
    finally:
        torch.jit.set_fusion_strategy(old)


@pytest.mark.parametrize("kind", ["STATIC", "DYNAMIC"])
def test_parameters_of_the_wrong_size_raise_as_eager(kind):
    old = torch.jit.set_fusion_strategy([(kind, 4)])
    try:
        s = torch.jit.script(bn_relu)
        m, v, w, b = _stats(4)
        _calls(s, *_t(_a(2, 4, 3), m, v, w, b))
        _calls(s, *_t(_a(3, 4, 5), m, v, w, b))
        m1, v1, w1, b1 = _stats(1)          # would broadcast silently in a kernel
        for _ in range(2):
            with pytest.raises(RuntimeError, match="should contain 4 elements not 1"):
                s(*_t(_a(2, 4, 3), m1, v1, w1, b1))
        m5, v5, w5, b5 = _stats(5)
        with pytest.raises(RuntimeError, match="should contain 4 elements not 5"):
            s(*_t(_a(2, 4, 3), m5, v5, w5, b5))
    finally:
        torch.jit.set_fusion_strategy(old)


# ------------------------------------------------------------------ gradients

def bn_relu_for_grad(x, m, v, w, b):
    return F.relu(F.batch_norm(x, m, v, w, b, False, 0.1, 1e-5)) * 2.0


def test_running_stats_requiring_grad_are_refused():
    # (session 39: PyTorch's native_batch_norm has no derivative for the running
    # statistics: check_no_requires_grad refuses them, eager and scripted)
    x, (m, v, w, b) = _a(2, 3, 4), _stats(3)
    s = torch.jit.script(bn_relu_for_grad)
    for fn in (bn_relu_for_grad, s, s):
        ts = _t(x, m, v, w, b)
        for t in ts:
            t.requires_grad_(True)
        with pytest.raises(RuntimeError, match="The function 'native_batch_norm' is not "
                                               "differentiable with respect to argument "
                                               "'running_mean'"):
            fn(*ts)


@pytest.mark.parametrize("needs", [(0, 3, 4), (0, 4), (3,)])
def test_gradients_through_the_group_match_eager(needs, monkeypatch):
    # the group's kernel runs forward and records one backward node, whose backward
    # applies batch_norm's registry derivative: eager's gradients. (DifferentiableGraph
    # regions off: with them on, a group holding ops TorchScript leaves out of regions,
    # batch_norm here, runs as its ops, as torch's NativeBatchNormBackward0 -> ..., h48)
    from gpujit.runtime import executor
    monkeypatch.setattr(executor, "_whole_graph", [False])
    x, (m, v, w, b) = _a(2, 3, 4), _stats(3)

    def run(fn):
        ts = _t(x, m, v, w, b)
        for i in needs:
            ts[i].requires_grad_(True)
        out = fn(*ts)
        (out * torch.from_numpy(np.arange(out.numel(), dtype=np.float32).reshape(
            out.shape))).sum().backward()
        return out.detach().numpy(), [ts[i].grad.numpy() for i in needs]
    s = torch.jit.script(bn_relu_for_grad)
    for _ in range(3):
        got = run(s)
    ref = run(bn_relu_for_grad)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-5, atol=1e-6)
    for a, r in zip(got[1], ref[1]):
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-5)
    exe = s._get_executable()
    groups = [g for spec in exe._active.values() for g in spec.groups]
    assert any(g.specializations for g in groups)
    assert all(g.fallback_calls == 0 for g in groups)


# ------------------------------------------------------------------ simulated CUDA target

SIM_SCRIPT = r"""
import test_fuse_batch_norm as B
for static in (True, False):
    old = torch.jit.set_fusion_strategy([("STATIC" if static else "DYNAMIC", 2)])
    try:
        for shape in ((3, 4), (2, 4, 3), (2, 4, 2, 3)):
            x = B._a(*shape)
            m, v, w, b = B._stats(4)
            s = torch.jit.script(B.bn_relu)
            for _ in range(3):
                out = s(*B._t(x, m, v, w, b))
            B._close(out, np.maximum(B._ref(x, m, v, w, b), 0) * 2)
        x = B._a(2, 3, 2, 2, dtype=np.float16)
        m, v, w, b = B._stats(3, np.float32)
        s = torch.jit.script(B.bn_no_affine_f)
        for _ in range(3):
            out = s(*B._t(x, m, v, w, b))
        B._close(out, B._ref(x, m, v, w, b), np.float16)
    finally:
        torch.jit.set_fusion_strategy(old)
assert SIM_KERNELS, "no group ran on the simulated CUDA target"
print("batch_norm on the simulator:", len(SIM_KERNELS), "kernels")
"""


@pytest.mark.sim
def test_batch_norm_on_the_simulated_cuda_target():
    from test_fusion_sim_fuzz import PRELUDE, run_sim
    from test_kernels import session_cache_dir
    code = PRELUDE.format(tests=os.path.dirname(__file__)) + SIM_SCRIPT
    out = run_sim(code, session_cache_dir())
    assert "batch_norm on the simulator" in out


@pytest.mark.cuda
def test_batch_norm_fused_on_cuda_matches_numpy():
    for shape, dt, pdt in (((3, 4), np.float32, np.float32),
                           ((2, 4, 5, 6), np.float32, np.float32),
                           ((2, 4, 5, 6), np.float16, np.float32),
                           ((2, 4, 3, 3, 3), np.float64, np.float64)):
        x = _a(*shape, dtype=dt)
        m, v, w, b = _stats(4, pdt)
        dev = [t.cuda() for t in _t(x, m, v, w, b)]
        s = torch.jit.script(bn_relu)
        out = _calls(s, *dev)
        assert out.device.type == "cuda"
        _close(out.cpu(), np.maximum(_ref(x, m, v, w, b), 0) * 2, dt)
        assert _in_groups(s.graph_for(*dev)) == 1
