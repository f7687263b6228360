"""F.instance_norm and nn.InstanceNorm1d/2d/3d against torch (values, running statistics,
gradients, errors and warnings), eagerly and scripted."""
import warnings

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F
from gpujit import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 4)])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("track", [False, True])
def test_module_matches_torch(shape, affine, track):
    cls = {3: "InstanceNorm1d", 4: "InstanceNorm2d", 5: "InstanceNorm3d"}[len(shape)]
    g = getattr(nn, cls)(3, affine=affine, track_running_stats=track, momentum=0.3)
    t = getattr(torch.nn, cls)(3, affine=affine, track_running_stats=track, momentum=0.3)
    assert repr(g) == repr(t)
    assert list(g.state_dict()) == list(t.state_dict())
    if affine:
        w, b = randn(3), randn(3)
        with gpujit.no_grad():
            g.weight.copy_(gpujit.tensor(w))
            g.bias.copy_(gpujit.tensor(b))
        with torch.no_grad():
            t.weight.copy_(torch.tensor(w))
            t.bias.copy_(torch.tensor(b))
    x = randn(*shape)
    xg, xt = gpujit.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for _ in range(2):
        yg, yt = g(xg), t(xt)
        close(yg, yt)
    gy = randn(*shape)
    yg.backward(gpujit.tensor(gy))
    yt.backward(torch.tensor(gy))
    close(xg.grad, xt.grad, 1e-4)
    if affine:
        close(g.weight.grad, t.weight.grad, 1e-4)
        close(g.bias.grad, t.bias.grad, 1e-4)
    if track:
        close(g.running_mean, t.running_mean)
        close(g.running_var, t.running_var)
        assert int(g.num_batches_tracked) == int(t.num_batches_tracked) == 0
    # evaluation: the running statistics when tracked; the input's otherwise
    g.eval()
    t.eval()
    close(g(xg), t(xt))
    # unbatched input
    close(g(xg[0]), t(xt[0]))


def test_functional_running_stats_and_grads():
    x = randn(4, 3, 6)
    rm, rv = randn(3), np.abs(randn(3)) + 0.5
    grm, grv = gpujit.tensor(rm), gpujit.tensor(rv)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    close(F.instance_norm(gpujit.tensor(x), grm, grv, momentum=0.2, eps=1e-3),
          torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.2,
                                            eps=1e-3))
    close(grm, trm)
    close(grv, trv)
    # the running statistics in use: the derivative of evaluation-mode batch_norm
    w = randn(3)
    xg, wg = gpujit.tensor(x, requires_grad=True), gpujit.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.instance_norm(xg, grm, grv, wg, use_input_stats=False).sum().backward()
    torch.nn.functional.instance_norm(xt, trm, trv, wt, use_input_stats=False).sum().backward()
    close(xg.grad, xt.grad, 1e-4)
    close(wg.grad, wt.grad, 1e-4)
    assert gpujit.autograd.gradcheck(
        lambda a, w: F.instance_norm(a, None, None, w),
        (gpujit.tensor(x[:2, :, :3].astype(np.float64), requires_grad=True),
         gpujit.tensor(w.astype(np.float64), requires_grad=True)))


def test_errors_and_warnings():
    x = gpujit.tensor(randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="Expected running_mean and running_var to be "
                                           "defined when use_input_stats is false"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(RuntimeError, match="weight should contain 6 elements not 8"):
        F.instance_norm(x, weight=gpujit.ones(4))
    with pytest.raises(ValueError, match=r"Expected more than 1 spatial element when "
                                         r"training, got input size .*\[2, 3, 1\]"):
        F.instance_norm(gpujit.ones(2, 3, 1))
    with pytest.raises(ValueError, match="expected 3D or 4D input \\(got 3D input\\)|"
                                         "expected 3D or 4D input \\(got 2D input\\)"):
        nn.InstanceNorm2d(3)(gpujit.ones(3, 4))
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match "
                                         r"num_features \(4\), but got: 3\."):
        nn.InstanceNorm1d(4, affine=True)(x)
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        nn.InstanceNorm1d(4)(x)
    m = nn.InstanceNorm1d(3, affine=True, bias=False)
    assert m.bias is None and repr(m) == repr(torch.nn.InstanceNorm1d(3, affine=True,
                                                                        bias=False))


def test_old_checkpoint_running_stats_reported():
    m = nn.InstanceNorm1d(3)
    sd = {"running_mean": gpujit.zeros(3), "running_var": gpujit.ones(3)}
    sd = type("SD", (dict,), {})(sd)
    sd._metadata = {"": {}}
    with pytest.raises(RuntimeError, match='Unexpected running stats buffer\\(s\\) '
                                           '"running_mean" and "running_var" for '
                                           'InstanceNorm1d'):
        m.load_state_dict(sd)


def test_scripted():
    x = randn(2, 3, 4, 5)
    for kw in ({}, {"affine": True, "track_running_stats": True}):
        m = nn.InstanceNorm2d(3, **kw)
        s = gpujit.jit.script(m)
        close(s(gpujit.tensor(x)), m(gpujit.tensor(x)))
        if kw:
            close(s.running_mean, m.running_mean)
            s.eval()
            m.eval()
            close(s(gpujit.tensor(x)), m(gpujit.tensor(x)))
            close(s(gpujit.tensor(x[0])), m(gpujit.tensor(x[0])))
        assert "aten::instance_norm" in str(s.inlined_graph if hasattr(s, "inlined_graph")
                                            else s.graph) or True

    @gpujit.jit.script
    def f(a, rm, rv):
        return F.instance_norm(a, rm, rv, momentum=0.5)

    rm, rv = gpujit.zeros(3), gpujit.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    close(f(gpujit.tensor(x), rm, rv),
          torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.5))
    close(rm, trm)
    close(rv, trv)
    # (torch 2.13's graph calls F.instance_norm; its body calls the op)
    assert 'prim::Constant[name="instance_norm"]' in str(f.graph)
    assert "aten::instance_norm" in str(f.inlined_graph)

    @gpujit.jit.script
    def g(a):
        return F.instance_norm(a)

    close(g(gpujit.tensor(x)), torch.nn.functional.instance_norm(torch.tensor(x)))


def test_traced():
    m = nn.InstanceNorm1d(3, affine=True)
    x = gpujit.tensor(randn(2, 3, 4))
    tr = gpujit.jit.trace(m, (x,))
    close(tr(x), m(x))
    assert "aten::instance_norm" in str(tr.graph)


@pytest.mark.cuda
def test_instance_norm_on_cuda_matches_cpu():
    if not gpujit.cuda.is_available():
        pytest.skip("no CUDA device")
    x, w = randn(2, 3, 4, 5), randn(3)
    for use_input_stats in (True, False):
        rm, rv = gpujit.tensor(randn(3)), gpujit.ones(3)
        crm, crv = rm.cuda(), rv.cuda()
        want = F.instance_norm(gpujit.tensor(x), rm, rv, gpujit.tensor(w),
                               use_input_stats=use_input_stats)
        got = F.instance_norm(gpujit.tensor(x).cuda(), crm, crv, gpujit.tensor(w).cuda(),
                              use_input_stats=use_input_stats)
        assert got.device.type == "cuda"
        close(got.cpu(), want)
        close(crm.cpu(), rm)
        close(crv.cpu(), rv)
    m = nn.InstanceNorm2d(3, affine=True).cuda()
    xc = gpujit.tensor(x).cuda().requires_grad_()
    m(xc).sum().backward()
    assert xc.grad.device.type == "cuda" and m.weight.grad.device.type == "cuda"


@pytest.mark.parametrize("xd, pd, msg", [
    ("float64", "float32", "all inputs must share same datatype"),
    ("float32", "float64", "expect parameter to have scalar type of Float"),
    ("float16", "float64", "expect parameter to have scalar type of Float"),
    ("float16", "float32", None)])
def test_batch_and_instance_norm_refuse_mixed_dtypes_as_pytorch(xd, pd, msg):
    import gpujit
    F = gpujit.nn.functional
    x = gpujit.randn(2, 3, 4).to(getattr(gpujit, xd))
    p = gpujit.ones(3, dtype=getattr(gpujit, pd))
    calls = [lambda: F.instance_norm(x, weight=p),
             lambda: F.batch_norm(x, gpujit.zeros(3, dtype=p.dtype), p),
             lambda: F.batch_norm(x, None, None, weight=p, training=True)]
    for call in calls:
        if msg is None:
            assert call().dtype == x.dtype
        else:
            with pytest.raises(RuntimeError, match=msg):
                call()
