"""Small PyTorch-fidelity fixes of session 20: f-string formatting of 0-dim tensors, and
which outputs of broadcast_tensors / meshgrid require grad."""
import pytest

import gpujit as torch


def test_zero_dim_tensor_formats_as_its_number():
    assert f"{torch.tensor(1.5)}" == "1.5"
    assert f"{torch.tensor(3)}" == "3"
    assert f"{torch.tensor(2.0):.3f}" == "2.000"
    assert "{}".format(torch.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    p = torch.nn.Parameter(torch.tensor(2.0))
    assert f"{p}".startswith("Parameter containing:")
    assert repr(torch.distributions.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"


def test_broadcast_tensors_and_meshgrid_outputs_require_grad_per_input():
    a = torch.ones(2, requires_grad=True)
    x, y = torch.broadcast_tensors(a, torch.ones(3, 1))
    assert x.requires_grad and not y.requires_grad and y.grad_fn is None
    m1, m2 = torch.meshgrid(a, torch.ones(3), indexing="ij")
    assert m1.requires_grad and not m2.requires_grad
    (x.sum() * 2 + (m1 * 3).sum()).backward()
    assert a.grad.tolist() == [15.0, 15.0]
    b = torch.ones(3, requires_grad=True)
    n1, n2 = torch.meshgrid(a, b, indexing="xy")
    assert n1.requires_grad and n2.requires_grad
    (n2 * 5).sum().backward()
    assert b.grad.tolist() == [10.0, 10.0, 10.0]


def test_against_torch():
    ref = pytest.importorskip("torch")
    for lib in (torch, ref):
        a = lib.ones(2, requires_grad=True)
        outs = lib.broadcast_tensors(lib.ones(1), a, lib.zeros(2, 1))
        assert [o.requires_grad for o in outs] == [False, True, False]


def _where_pick(x2: torch.Tensor, o: torch.Tensor):
    return torch.where(o > 0, o, x2)


def test_in_place_on_a_fused_output_laid_out_as_a_transposed_input():
    # the fused group's output follows the transposed input's layout (a transposed buffer:
    # a NumPy view of memory nothing else sees); an in-place op on it under autograd was
    # refused as an unrecorded view
    s = torch.jit.script(_where_pick)
    x2 = torch.randn(3, 4)
    o_data = torch.randn(4, 3)
    grads = []
    for scripted in (False, True, True, True):
        o = o_data.t().detach().requires_grad_(True)
        r = (s if scripted else _where_pick)(x2, o)
        r.mul_(2)
        (r * r).sum().backward()
        grads.append(o.grad.numpy().copy())
    for g in grads[1:]:
        assert (abs(g - grads[0]) < 1e-5).all()
    # a tensor over another tensor's memory that autograd did not record stays refused
    base = torch.zeros(4, 3)
    alias = torch.from_numpy(base.numpy().T)
    with pytest.raises(RuntimeError, match="did not record the view"):
        alias.mul_(torch.ones(3, 4, requires_grad=True))
