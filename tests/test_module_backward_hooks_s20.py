"""Module backward hooks (register_full_backward_hook, register_full_backward_pre_hook,
register_backward_hook) against PyTorch 2.13: what the hooks see (grad_input, grad_output),
replacing them, the order of calls, inputs that do not require grad, multiple outputs,
removal.

Where gpujit differs on purpose: the deprecated register_backward_hook runs as a full
backward hook (PyTorch passes the gradients of the inputs of the forward's last autograd
node, an implementation detail the deprecation warns about)."""
import numpy as np
import pytest

import gpujit as torch

ref = pytest.importorskip("torch")


def _pair(lib, seed):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    return net


def _copy(ours, theirs):
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.copy_(torch.tensor(q.detach().numpy()))


def _np(v):
    if v is None:
        return None
    return v.detach().numpy()


def _run(lib, net, x, log, replace=None, x_grad=True):
    def full(m, gi, go):
        log.append(("full", type(m).__name__, [_np(g) for g in gi], [_np(g) for g in go]))
        if replace == "full" and isinstance(m, lib.nn.Tanh):
            return tuple(g * 0.5 if g is not None else None for g in gi)

    def pre(m, go):
        log.append(("pre", type(m).__name__, [_np(g) for g in go]))
        if replace == "pre" and isinstance(m, lib.nn.Linear):
            return tuple(g * 2 for g in go)

    hs = []
    for m in net:
        hs.append(m.register_full_backward_hook(full))
        hs.append(m.register_full_backward_pre_hook(pre))
    xt = lib.tensor(x, requires_grad=x_grad)
    out = net(xt)
    out.sum().backward()
    return hs, xt, out


def _same_logs(a, b):
    assert len(a) == len(b), ([e[:2] for e in a], [e[:2] for e in b])
    for ea, eb in zip(a, b):
        assert ea[:2] == eb[:2]
        for la, lb in zip(ea[2:], eb[2:]):
            assert len(la) == len(lb)
            for u, v in zip(la, lb):
                assert (u is None) == (v is None)
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("replace", [None, "full", "pre"])
@pytest.mark.parametrize("x_grad", [True, False])
def test_full_backward_hooks_as_torch(replace, x_grad):
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    tn, gn = _pair(ref, 0), _pair(torch, 0)
    _copy(gn, tn)
    lt, lg = [], []
    _, xt, _ = _run(ref, tn, x, lt, replace, x_grad)
    hs, xg, _ = _run(torch, gn, x, lg, replace, x_grad)
    _same_logs(lg, lt)
    for p, q in zip(gn.parameters(), tn.parameters()):
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-5, atol=1e-6)
    if x_grad:
        np.testing.assert_allclose(_np(xg.grad), _np(xt.grad), rtol=1e-5, atol=1e-6)
    for h in hs:
        h.remove()
    lg.clear()
    gn(torch.tensor(x, requires_grad=True)).sum().backward()
    assert lg == []


def test_multiple_outputs_and_non_tensor_args():
    class Split(ref.nn.Module):
        def forward(self, x, k: int):
            return x[:, :k] * 2, x[:, k:] * 3

    class GSplit(torch.nn.Module):
        def forward(self, x, k: int):
            return x[:, :k] * 2, x[:, k:] * 3

    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    logs = []
    for lib, M in ((ref, Split), (torch, GSplit)):
        log = []
        m = M()
        m.register_full_backward_hook(
            lambda mod, gi, go: log.append(([_np(g) for g in gi], [_np(g) for g in go])))
        xt = lib.tensor(x, requires_grad=True)
        a, b = m(xt, 1)
        a.sum().backward()          # b unused: its grad_output entry is None
        logs.append((log, _np(xt.grad)))
    (lt, gt), (lg, gg) = logs
    assert len(lg) == len(lt) == 1
    gi_t, go_t = lt[0]
    gi_g, go_g = lg[0]
    assert len(gi_g) == len(gi_t) == 2 and gi_g[1] is None and gi_t[1] is None
    np.testing.assert_allclose(gi_g[0], gi_t[0])
    assert [g is None for g in go_g] == [g is None for g in go_t]
    np.testing.assert_allclose(go_g[0], go_t[0])
    np.testing.assert_allclose(gg, gt)


def test_hook_errors_and_deprecated_form():
    m = torch.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but "
                                           "expected 1"):
        m(torch.ones(1, 2, requires_grad=True)).sum().backward()
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
        m.register_backward_hook(lambda *a: None)
    seen = []
    m2 = torch.nn.Linear(2, 1)
    m2.register_backward_hook(lambda mod, gi, go: seen.append(_np(go[0])))
    m2(torch.ones(3, 2)).sum().backward()
    np.testing.assert_allclose(seen[0], np.ones((3, 1)))
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
        m2.register_full_backward_hook(lambda *a: None)


def test_no_grad_forward_runs_no_hook():
    m = torch.nn.Linear(2, 2)
    calls = []
    m.register_full_backward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        y = m(torch.ones(1, 2))
    assert y.grad_fn is None and calls == []
