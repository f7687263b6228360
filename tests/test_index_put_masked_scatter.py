"""Tensor.index_put / index_put_ / torch.index_put, masked_scatter / masked_scatter_ and
Tensor.type against torch: values, gradients, PyTorch's errors, scripted and traced."""
import numpy as np
import pytest

import gpujit

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)


def pair(a, grad=False):
    return (gpujit.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad))


def same(g, t):
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert str(g.dtype).split(".")[1] == str(t.dtype).split(".")[1]


def raises_alike(fg, ft):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value), match=_esc(str(et.value).split("\n")[0])):
        fg()


def _esc(s):
    import re
    return re.escape(s)


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_matches_torch_with_gradients(accumulate):
    x = RNG.standard_normal((4, 3, 5)).astype(np.float64)
    cases = [((np.array([0, 2, 0]),), (3, 3, 5)),
             ((np.array([1, 3]), None, np.array([4, 0])), (2, 3)),
             ((None, np.array([[0], [2]]), np.array([1, 0, 3])), (4, 2, 3)),
             ((np.array([1, 1]),), (1, 5)),                     # broadcast values
             ((x > 0.5,), ())]
    for idx, vshape in cases:
        v = RNG.standard_normal(vshape)
        (xg, xt), (vg, vt) = pair(x, True), pair(v, True)
        ig = tuple(None if i is None else gpujit.tensor(i) for i in idx)
        it = tuple(None if i is None else torch.tensor(i) for i in idx)
        if any(i is None for i in it):   # torch's Python binding refuses None (`:` here)
            tdims = tuple(slice(None) if i is None else i for i in it)
            base = xt.detach().clone()
            base[tdims] = (base[tdims] + vt.detach()) if accumulate else vt.detach()
            # (the schema's Tensor?[] takes None: torch.ops.aten's entry computes)
            same(gpujit.ops.aten.index_put(xg, list(ig), vg, accumulate), base)
            with pytest.raises(TypeError, match="expected Tensor as element .* in argument 0, "
                                                "but got NoneType"):
                xg.index_put(ig, vg, accumulate)
            continue
        yg, yt = xg.index_put(ig, vg, accumulate), xt.index_put(it, vt, accumulate)
        same(yg, yt)
        same(gpujit.index_put(xg, list(ig), vg, accumulate=accumulate),
             torch.index_put(xt, it, vt, accumulate=accumulate))
        w = RNG.standard_normal(x.shape)
        (yg * gpujit.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        same(xg.grad, xt.grad)
        same(vg.grad, vt.grad)
        assert np.array_equal(xg.detach().numpy(), x)       # out of place
    a = gpujit.tensor(x[:2, :2, :2], requires_grad=True)
    b = gpujit.tensor(RNG.standard_normal((2, 2)), requires_grad=True)
    assert gpujit.autograd.gradcheck(
        lambda a, b: a.index_put((gpujit.tensor([1, 1] if accumulate else [1, 0]),), b,
                                 accumulate), (a, b))


def test_index_put_errors_as_torch():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    (xg, xt) = pair(x)
    i = np.array([0, 2])
    bad = [((i,), np.array([1.0, 2.0, 3.0], np.float32)),
           ((i,), np.array([1, 2, 3, 4])),
           ((np.array([5]),), np.array(1.0, np.float32)),
           ((i, i, i), np.array(1.0, np.float32)),
           ((np.array([0, 1]), np.array([0, 1, 2])), np.array(1.0, np.float32)),
           ((np.array([0.0]),), np.array(1.0, np.float32))]
    for idx, v in bad:
        raises_alike(lambda: xg.index_put(tuple(gpujit.tensor(a) for a in idx),
                                          gpujit.tensor(v)),
                     lambda: xt.index_put(tuple(torch.tensor(a) for a in idx),
                                          torch.tensor(v)))
    with pytest.raises(TypeError, match="index_put\\(\\): argument 'indices' .*must be tuple "
                                        "of Tensors, not Tensor"):
        xg.index_put(gpujit.tensor(i), gpujit.tensor(1.0))
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        gpujit.cat(xg)
    # x[idx] = tensor of another dtype: PyTorch's error too; a number is converted
    with pytest.raises(RuntimeError, match="Index put requires the source and destination "
                                           "dtypes match"):
        xg[gpujit.tensor(i)] = gpujit.tensor([1, 2])
    xg[gpujit.tensor(i)] = 7
    xt[torch.tensor(i)] = 7
    same(xg, xt)


def test_index_put_scripted_and_traced():
    def f(x, i, v):
        y = x.index_put((i,), v, True)
        z = gpujit.index_put(y, [i], v)
        x[i] = 2
        return y + z

    def ft(x, i, v):
        y = x.index_put((i,), v, True)
        z = torch.index_put(y, [i], v)
        x[i] = 2
        return y + z

    x = RNG.standard_normal((4, 3)).astype(np.float32)
    i = np.array([1, 1, 3])
    v = RNG.standard_normal(3).astype(np.float32)
    s = gpujit.jit.script(f)
    assert "aten::index_put(" in str(s.graph) and "aten::index_put_(" in str(s.graph)
    (xg, xt), (vg, vt) = pair(x), pair(v)
    same(s(xg, gpujit.tensor(i), vg), ft(xt, torch.tensor(i), vt))
    same(xg, xt)
    tr = gpujit.jit.trace(f, (gpujit.tensor(x), gpujit.tensor(i), gpujit.tensor(v)))
    (xg, xt) = pair(x)
    same(tr(xg, gpujit.tensor(i), vg), ft(xt, torch.tensor(i), vt))

    @gpujit.jit.script
    def g(x, m):
        x[m] = 1                  # a number into an int tensor: a tensor of x's dtype
        return x

    xi = np.arange(6).reshape(2, 3)
    out = g(gpujit.tensor(xi), gpujit.tensor(xi > 2))
    assert out.dtype == gpujit.int64 and out.tolist() == [[0, 1, 2], [1, 1, 1]]


def test_masked_scatter_matches_torch_with_gradients():
    x = RNG.standard_normal((3, 4))
    for mshape, src_shape in (((3, 4), (12,)), ((4,), (4, 5)), ((2, 3, 4), (25,))):
        m = RNG.random(mshape) > 0.4
        (xg, xt), (sg, st) = pair(x, True), pair(RNG.standard_normal(src_shape), True)
        mg, mt = pair(m)
        yg, yt = xg.masked_scatter(mg, sg), xt.masked_scatter(mt, st)
        same(yg, yt)
        same(gpujit.masked_scatter(xg, mg, sg), torch.masked_scatter(xt, mt, st))
        w = RNG.standard_normal(yt.shape)
        (yg * gpujit.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        same(xg.grad, xt.grad)
        same(sg.grad, st.grad)
        if mshape != (2, 3, 4):
            cg, ct = xg.detach().clone(), xt.detach().clone()
            same(cg.masked_scatter_(mg, sg.detach()), ct.masked_scatter_(mt, st.detach()))
            same(cg, ct)
    assert gpujit.autograd.gradcheck(
        lambda a, b: a.masked_scatter(gpujit.tensor([[True, False], [True, True]]), b),
        (gpujit.tensor(RNG.standard_normal((2, 2)), requires_grad=True),
         gpujit.tensor(RNG.standard_normal(5), requires_grad=True)))


def test_masked_scatter_errors_as_torch():
    (xg, xt) = pair(np.zeros((2, 3), np.float32))
    m = np.ones((2, 3), bool)
    for mask, src in ((m, np.ones(6)), (m.astype(np.int32), np.ones(6, np.float32)),
                      (m, np.ones(2, np.float32)), (np.ones(4, bool), np.ones(6, np.float32))):
        raises_alike(lambda: xg.masked_scatter(gpujit.tensor(mask), gpujit.tensor(src)),
                     lambda: xt.masked_scatter(torch.tensor(mask), torch.tensor(src)))
    with pytest.raises(RuntimeError, match="The expanded size of the tensor \\(3\\) must match "
                                           "the existing size \\(4\\)"):
        xg.masked_scatter_(gpujit.ones(4, dtype=gpujit.bool), gpujit.ones(6))


def test_masked_scatter_scripted():
    @gpujit.jit.script
    def f(x, m, s):
        return x.masked_scatter(m, s) + gpujit.masked_scatter(x, m, s)

    x, m, s = RNG.standard_normal((3, 4)), RNG.random((3, 4)) > 0.5, RNG.standard_normal(12)
    assert "aten::masked_scatter" in str(f.graph)
    got = f(gpujit.tensor(x), gpujit.tensor(m), gpujit.tensor(s))
    want = torch.tensor(x).masked_scatter(torch.tensor(m), torch.tensor(s)) * 2
    same(got, want)


def test_tensor_type_strings():
    for dt in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
               "bool"):
        g = gpujit.zeros(2, dtype=getattr(gpujit, dt))
        t = torch.zeros(2, dtype=getattr(torch, dt))
        assert g.type() == t.type()
        assert g.type(t.type()) is g
        assert g.type(getattr(gpujit, dt)) is g
    g, t = gpujit.zeros(2), torch.zeros(2)
    assert g.type("torch.DoubleTensor").dtype == gpujit.float64
    assert g.type("torch.LongTensor").type() == "torch.LongTensor"
    assert g.type(gpujit.int32, non_blocking=True).dtype == gpujit.int32
    for bad in ("torch.Foo", "float", "torch.FloatTensorX"):
        raises_alike(lambda: g.type(bad), lambda: t.type(bad))


@pytest.mark.cuda
def test_on_cuda_matches_cpu():
    if not gpujit.cuda.is_available():
        pytest.skip("no CUDA device")
    x = gpujit.tensor(RNG.standard_normal((4, 3)).astype(np.float32))
    i = gpujit.tensor([1, 1, 3])
    v = gpujit.tensor(RNG.standard_normal(3).astype(np.float32))
    m = gpujit.tensor(RNG.random((4, 3)) > 0.5)
    s = gpujit.tensor(RNG.standard_normal(12).astype(np.float32))
    for acc in (False, True):
        got = x.cuda().index_put((i.cuda(),), v.cuda(), acc)
        assert got.device.type == "cuda"
        np.testing.assert_allclose(got.cpu().numpy(), x.index_put((i,), v, acc).numpy())
    got = x.cuda().masked_scatter(m.cuda(), s.cuda())
    assert got.device.type == "cuda"
    np.testing.assert_allclose(got.cpu().numpy(), x.masked_scatter(m, s).numpy())
    c = x.cuda()
    assert c.type() == "torch.cuda.FloatTensor"
    assert c.type("torch.cuda.DoubleTensor").device.type == "cuda"
    back = c.type("torch.FloatTensor")
    assert back.device.type == "cpu" and back.dtype == gpujit.float32
    assert x.type("torch.cuda.LongTensor").device.type == "cuda"
