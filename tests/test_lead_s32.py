"""Session 32 lead fixes.

An op's result requires grad only when an argument its derivative takes requires grad
(torch's autograd: `other` of expand_as / view_as / reshape_as and the condition of
where are not differentiable inputs). Found by a32's program fuzz (mode 6, seed
32003*100003+2800268: a loss went nan because x2.expand_as(x0) required grad)."""
import numpy as np
import pytest

import gpujit as torch


def _other():
    return torch.ones(3, 2, requires_grad=True)


@pytest.mark.parametrize("make", [
    lambda o: torch.ones(2).expand_as(o),
    lambda o: torch.ones(3, 2).view_as(o),
    lambda o: torch.ones(6).reshape_as(o),
    lambda o: torch.where(o > 0, torch.ones(3, 2), torch.zeros(3, 2)),
    lambda o: torch.ones(2).expand_as(o).exp(),
])
def test_non_differentiable_argument_alone_gives_no_grad(make):
    r = make(_other())
    assert r.requires_grad is False and r.grad_fn is None


def test_differentiable_argument_still_records():
    o = _other()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.expand_as(o)
    assert y.requires_grad and type(y.grad_fn).__name__ == "ExpandBackward0"
    (y * o).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert o.grad is not None
    v = torch.ones(2).expand_as(o)          # still a view of its input
    assert v._base is not None


def test_composite_view_node_names_are_torchs():
    x = torch.ones(2, requires_grad=True)
    y = torch.ones(6, requires_grad=True)
    o = torch.ones(3, 2)
    names = [type(t.grad_fn).__name__ for t in (
        x.expand_as(o), torch.broadcast_to(x, (3, 2)), y.view_as(o), y.reshape_as(o))]
    assert names == ["ExpandBackward0", "ExpandBackward0", "ViewBackward0", "ViewBackward0"]


def test_a_view_of_a_non_grad_base_stays_a_view():
    base = torch.zeros(6)
    v = base.view_as(torch.ones(2, 3, requires_grad=True))
    v.add_(1.0)
    assert base.sum().item() == 6.0 and not v.requires_grad


def _scripted(a, b):
    return a.expand_as(b) * 2.0 + 1.0


@pytest.mark.parametrize("compile_", ["script", "trace"])
def test_compiled_paths_agree(compile_):
    o = _other()
    f = torch.jit.script(_scripted) if compile_ == "script" else \
        torch.jit.trace(_scripted, (torch.ones(2), o))
    for _ in range(3):              # profiling, then optimized calls
        r = f(torch.ones(2), o)
        assert r.requires_grad is False
        np.testing.assert_array_equal(r.numpy(), np.full((3, 2), 3.0))
    x = torch.ones(2, requires_grad=True)
    for _ in range(3):
        r = f(x, o)
        assert r.requires_grad
    r.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])     # 3 rows x 2


def test_traced_submodule_returning_its_input_saves_and_runs():
    """A traced submodule call whose result is its argument (Dropout in eval) stays inline
    (f32's method calls folded it with the caller's later uses rebound to the wrong value:
    saving the traced MNIST net failed, '%16 is used before it is defined')."""
    import io
    nn, F = torch.nn, torch.nn.functional

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, kernel_size=3)
            self.drop = nn.Dropout2d()

        def forward(self, x):
            return F.relu(self.drop(self.conv(x)))

    torch.manual_seed(0)
    m = M().eval()
    x = torch.rand(2, 1, 6, 6)
    t = torch.jit.trace(m, (x,))
    assert "prim::CallMethod" in str(t.graph) and "(conv).forward(x, )" in t.code
    buf = io.BytesIO()
    torch.jit.save(t, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    for f in (t, loaded):
        np.testing.assert_allclose(f(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


def test_jit_load_errors_as_torch(tmp_path):
    """torch.jit.load's classes and words for a missing path and a directory; an archive
    in the layout PyTorch writes whose data.pkl holds no module of its code says so
    (gpujit reads PyTorch's archives since session 45: tests/test_torch_archive_s45.py)."""
    import zipfile
    with pytest.raises(ValueError, match="The provided filename .*nope.pt does not exist"):
        torch.jit.load(str(tmp_path / "nope.pt"))
    with pytest.raises(ValueError, match="is a directory"):
        torch.jit.load(tmp_path)
    p = tmp_path / "from_torch.pt"          # the layout torch.jit.save writes
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("from_torch/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("from_torch/code/__torch__.py", "def forward(self):\n  pass\n")
        z.writestr("from_torch/version", "3\n")
    with pytest.raises(RuntimeError, match="data.pkl does not hold a module of the archive"):
        torch.jit.load(str(p))
