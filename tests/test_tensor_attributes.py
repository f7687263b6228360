"""Tensor attributes TorchScript reads (x.ndim, x.T, x.mT, x.H, x.mH, x.data, x.grad,
x.is_leaf, x.itemsize, x.nbytes, x.layout): eager, scripted (interpreted while gradients
record, generated and fused code otherwise), traced and saved, against NumPy."""
import io

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor
from gpujit.frontend.script import FrontendError


def views(x: Tensor, y: Tensor):
    a = x.T * 2.0 + 1.0
    b = x.mT - x.H
    c = y.mT.sigmoid()
    d = y.mH + 0.0
    n = x.ndim + y.ndim * 10 + x.itemsize * 100 + y.nbytes * 1000
    return a, b, c, d, y.T, n, x.layout == torch.strided, x.layout


def test_view_attributes_scripted_match_numpy():
    x = torch.arange(6.0).reshape(2, 3)
    y = torch.rand(2, 3, 4)
    s = torch.jit.script(views)
    xn, yn = x.numpy(), y.numpy()
    for _ in range(3):                  # profiled, then generated code with fusion groups
        a, b, c, d, yt, n, strided, layout = s(x, y)
        np.testing.assert_allclose(a.numpy(), xn.T * 2 + 1)
        np.testing.assert_allclose(b.numpy(), np.zeros((3, 2)))
        np.testing.assert_allclose(c.numpy(), 1 / (1 + np.exp(-yn.swapaxes(-1, -2))),
                                   rtol=1e-6)
        np.testing.assert_allclose(d.numpy(), yn.swapaxes(-1, -2))
        np.testing.assert_allclose(yt.numpy(), yn.transpose())
        assert n == 2 + 30 + 400 + 96000 and strided is True and layout == 0
    e = views(x, y)                     # eager: the same values (layout is torch.strided)
    np.testing.assert_allclose(e[0].numpy(), xn.T * 2 + 1)
    assert e[5] == n and e[7] is torch.strided and repr(e[7]) == "torch.strided"
    assert "aten::numpy_T" in str(s.graph) and "aten::mT" in str(s.graph)


def test_view_attributes_are_views_and_differentiate():
    x = torch.arange(6.0).reshape(2, 3)
    x.T[0, 1] = 10.0
    x.mT[2, 0] = 20.0
    assert x.tolist() == [[0.0, 1.0, 20.0], [10.0, 4.0, 5.0]]
    w = torch.arange(6.0, requires_grad=True)
    g = torch.arange(6.0).reshape(3, 2)
    (w.view(2, 3).T * g).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), g.numpy().T.reshape(-1))
    w.grad = None
    (w.view(2, 3).mH * g + w.view(2, 3).H).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), g.numpy().T.reshape(-1) + 1)
    assert torch.adjoint(torch.ones(4, 2, 3)).shape == (4, 3, 2)


@pytest.mark.parametrize("attr,shape,msg", [
    ("mT", (3,), "tensor.mT is only supported on matrices or batches of matrices. Got 1-D"),
    # (a 0-dim tensor is taken, the identity with a deprecation warning: PyTorch 2.x)
    ("mH", (4,), "tensor.mH is only supported on matrices or batches of matrices. Got 1-D"),
    ("H", (2, 2, 2), "tensor.H is only supported on matrices (2-D tensors). Got 3-D"),
])
def test_matrix_attributes_reject_other_ranks_as_pytorch(attr, shape, msg):
    with pytest.raises(RuntimeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        getattr(torch.zeros(shape), attr)


def test_traced_view_attributes_record_their_ops():
    def fn(a):
        return a.T * 3.0 + a.mT.sum()
    t = torch.jit.trace(fn, (torch.rand(2, 3),))
    assert "aten::numpy_T" in str(t.graph) and "aten::mT" in str(t.graph)
    x = torch.rand(4, 5)
    for _ in range(3):
        np.testing.assert_allclose(t(x).numpy(), x.numpy().T * 3 + x.numpy().sum(), rtol=1e-5)


def autograd_state(x: Tensor):
    y = x * 2.0
    g = x.grad
    s = torch.zeros(1)
    if g is not None:
        s = g.sum() + 0.0
    d = x.data
    return y.is_leaf, x.is_leaf, s, d.requires_grad, d * 1.0


def test_data_grad_is_leaf_scripted_as_eager():
    s = torch.jit.script(autograd_state)
    x = torch.ones(2, 2, requires_grad=True)
    for _ in range(2):                              # recording: the interpreter
        y_leaf, x_leaf, gs, d_rg, d = s(x)
        assert (y_leaf, x_leaf, d_rg) == (False, True, False) and gs.tolist() == [0.0]
        assert not d.requires_grad and d.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    x.grad = torch.full((2, 2), 3.0)
    assert s(x)[2].item() == 12.0
    with torch.no_grad():
        for _ in range(3):                          # generated code reads x.grad per call
            assert s(x)[:2] == (True, True) and s(x)[2].item() == 12.0
        x.grad = torch.full((2, 2), 1.0)
        assert s(x)[2].item() == 4.0
        x.grad = None
        assert s(x)[2].tolist() == [0.0]
    assert s(x.detach() * 2)[:2] == (True, True)
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    assert loaded(x)[:2] == (False, True)


def test_data_is_a_view_in_scripted_code():
    def fill(x: Tensor):
        x.data.fill_(2.0)
        return x.data.sum()
    s = torch.jit.script(fill)
    x = torch.zeros(3)
    assert s(x).item() == 6.0 and x.tolist() == [2.0, 2.0, 2.0]


def test_unknown_tensor_attribute_names_itself_and_the_line():
    def bad(x: Tensor):
        return x.not_an_attribute
    with pytest.raises(FrontendError, match="no attribute 'not_an_attribute'") as e:
        torch.jit.script(bad)
    assert "return x.not_an_attribute" in str(e.value)
