"""Small fixes of session 24.

- Backward of ops that need only an input's shape (value-selecting reductions max/min.dim,
  median, kthvalue, mode, topk; index_select, x[idx], cat/stack family, trace, diff,
  scatter's src, masked_scatter's source, embedding's weight, im2col) keeps the shape, not
  the tensor, as PyTorch's autograd does; products (mv, dot, outer, kron, tensordot,
  cross, baddbmm) keep only the operand the needed gradient reads. An in-place write into
  an input after such an op is then no error at backward (it raised "modified by an
  inplace operation"), and the gradient is the one of the values the op saw.
- tanh of a 0-dim float32 tensor beyond the saturation threshold raised TypeError.
- special.i1 / i0 of a tensor holding NaN raised ValueError (the series' term count).
- special.i0e / special.i1e exist (exp(-|x|) I0 / I1, with derivatives).
"""
import numpy as np
import pytest

import gpujit as torch

pytestmark = pytest.mark.filterwarnings("ignore:Using torch.cross without")

X = (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.37) % 1.3 - 0.6


def _grad_after_write(fn):
    """x.grad of fn(y).sum() where y = x * 1 is written in place after fn ran."""
    x = torch.tensor(X, requires_grad=True)
    y = x * 1
    out = fn(y)
    y.add_(1)
    out.sum().backward()
    return x.grad.numpy()


def _grad_plain(fn):
    x = torch.tensor(X, requires_grad=True)
    fn(x * 1).sum().backward()
    return x.grad.numpy()


SHAPE_ONLY = {
    "max.dim": lambda y: y.max(1)[0],
    "min.dim": lambda y: y.min(0, keepdim=True)[0],
    "median.dim": lambda y: y.median(1)[0],
    "nanmedian.dim": lambda y: y.nanmedian(1)[0],
    "kthvalue": lambda y: y.kthvalue(2, 1)[0],
    "mode": lambda y: y.mode(1)[0],
    "topk": lambda y: y.topk(2, 1)[0],
    "index_select": lambda y: y.index_select(1, torch.tensor([0, 2, 2])),
    "index": lambda y: y[torch.tensor([0, 2, 0])],
    "index_2d": lambda y: y[torch.tensor([0, 1]), torch.tensor([2, 3])],
    "cat": lambda y: torch.cat([y, y * 2], 1),
    "hstack": lambda y: torch.hstack([y, y]),
    "vstack": lambda y: torch.vstack([y[0], y]),
    "trace": lambda y: y[:, :3].trace(),
    "diff": lambda y: y.diff(),
    "diff_prepend": lambda y: torch.diff(y, dim=0, prepend=y[:1]),
    "scatter_src": lambda y: torch.zeros(3, 4).scatter(1, torch.tensor([[0], [1], [2]]),
                                                       y[:, :1]),
    "scatter_add_src": lambda y: torch.zeros(3, 4).scatter_add(
        1, torch.tensor([[0], [1], [2]]), y[:, :1]),
    "masked_scatter": lambda y: torch.zeros(4).masked_scatter(
        torch.tensor([True, False, True, False]), y[0]),
    "embedding": lambda y: torch.nn.functional.embedding(torch.tensor([0, 2, 2]), y),
    "unfold_im2col": lambda y: torch.nn.functional.unfold(y.reshape(1, 1, 3, 4), (2, 2)),
    "mv": lambda y: y.mv(torch.ones(4)),
    "dot": lambda y: y[0].dot(torch.arange(4.0)),
    "outer": lambda y: torch.outer(y[0], torch.ones(2)),
    "kron": lambda y: torch.kron(y, torch.ones(2, 2)),
    "tensordot": lambda y: torch.tensordot(y, torch.ones(4, 2), 1),
    "cross": lambda y: torch.linalg.cross(y[:, :3], torch.ones(3, 3)),
    "cross_default_dim": lambda y: torch.cross(y[:, :3], torch.ones(3, 3)),
    "baddbmm": lambda y: torch.baddbmm(torch.ones(1, 3, 2), y[None], torch.ones(1, 4, 2)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_ONLY))
def test_writing_into_the_input_after_a_shape_only_backward(name):
    fn = SHAPE_ONLY[name]
    np.testing.assert_allclose(_grad_after_write(fn), _grad_plain(fn), rtol=1e-6)


def test_an_operand_the_needed_gradient_reads_is_still_checked():
    x = torch.tensor(X, requires_grad=True)
    v = torch.ones(4, requires_grad=True)
    y = x * 1
    out = y.mv(v)           # v's gradient reads y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_cat_gradient_of_each_input_and_skipped_empty_inputs():
    a = torch.ones(2, 3, requires_grad=True)
    b = torch.ones(2, 1, requires_grad=True)
    e = torch.ones(0, requires_grad=True)
    w = torch.arange(8.0).reshape(2, 4)
    (torch.cat([a, e, b], 1) * w).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0, 1, 2], [4, 5, 6]])
    np.testing.assert_array_equal(b.grad.numpy(), [[3], [7]])


def test_scripted_cat_backward_after_a_write():
    @torch.jit.script
    def f(a, b):
        return torch.cat([a * 2, b], 0)

    a = torch.ones(2, 2, requires_grad=True)
    b = torch.ones(1, 2, requires_grad=True)
    for _ in range(3):
        out = f(a, b)
        out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 2), 6.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full((1, 2), 3.0))


@pytest.mark.parametrize("v", [50.0, -12.0, 9.5, 0.5])
def test_tanh_of_a_0_dim_tensor(v):
    for dt in (torch.float32, torch.float64, torch.float16):
        r = torch.tanh(torch.tensor(v, dtype=dt))
        assert r.shape == () and r.dtype is dt
        np.testing.assert_allclose(float(r), np.tanh(v), rtol=1e-3)
    assert float(torch.tensor(50.0).tanh()) == 1.0
    x = torch.tensor(-50.0)
    x.tanh_()
    assert float(x) == -1.0


def test_bessel_of_nan_and_inf():
    for fn in (torch.i0, torch.special.i1, torch.special.i0e, torch.special.i1e):
        r = fn(torch.tensor([float("nan"), 1.0])).numpy()
        assert np.isnan(r[0]) and np.isfinite(r[1])
    # PyTorch 2.13 gives NaN at +-inf (its Chebyshev forms), not inf (corrected in s27)
    assert np.isnan(float(torch.i0(torch.tensor(float("inf")))))


# exp(-|x|) I0(x), exp(-|x|) I1(x) (PyTorch 2.13's special.i0e / i1e in float64)
I0E = {0.0: 1.0, 1.0: 0.46575960759364043, -2.5: 0.27004644161220276,
       29.9: 0.07326921904600191, 30.5: 0.07253878407077907, 100.0: 0.03994437929909668,
       800.0: 0.014106945005869183}
I1E = {0.0: 0.0, 1.0: 0.2079104153497085, -2.5: -0.20658464953126654,
       29.9: 0.0720333749118688, 30.5: 0.07133953928526199, 100.0: 0.03974415302513025,
       800.0: 0.014098125406526996}


def test_i0e_i1e_values():
    xs = list(I0E)
    np.testing.assert_allclose(torch.special.i0e(torch.tensor(xs, dtype=torch.float64))
                               .numpy(), [I0E[x] for x in xs], rtol=2e-7)
    xs = list(I1E)
    np.testing.assert_allclose(torch.special.i1e(torch.tensor(xs, dtype=torch.float64))
                               .numpy(), [I1E[x] for x in xs], rtol=2e-7)
    # the two branches of the scaled series meet
    a = torch.special.i0e(torch.tensor([29.999999, 30.000001], dtype=torch.float64))
    assert abs(float(a[0]) - float(a[1])) < 1e-8
    small = np.array([0.3, -1.7, 4.0, 12.0])
    np.testing.assert_allclose(
        torch.special.i0e(torch.tensor(small)).numpy(),
        (torch.i0(torch.tensor(small, dtype=torch.float64)).numpy()
         * np.exp(-np.abs(small))).astype(np.float32), rtol=1e-6)
    assert torch.special.i1e(torch.tensor([1.0], dtype=torch.float16)).dtype is torch.float16


def test_i0e_i1e_gradients_match_finite_differences():
    for fn in (torch.special.i0e, torch.special.i1e):
        x = torch.tensor([0.0, 0.3, -2.0, 40.0, -50.0], dtype=torch.float64,
                         requires_grad=True)
        fn(x).sum().backward()
        xs = x.detach().numpy()
        h = 1e-6
        num = (fn(torch.tensor(xs + h)).numpy() - fn(torch.tensor(xs - h)).numpy()) / (2 * h)
        if fn is torch.special.i0e:
            num[0] = 0.0        # |x| has no derivative at 0: PyTorch's sgn(0) = 0 there
        np.testing.assert_allclose(x.grad.numpy(), num, rtol=1e-5, atol=1e-8)


def test_i0e_in_scripted_code():
    @torch.jit.script
    def f(x):
        return torch.special.i0e(x) + torch.special.i1e(x) * 2

    x = torch.tensor([1.0, 50.0, -3.0])
    ref = torch.special.i0e(x) + torch.special.i1e(x) * 2
    for _ in range(3):
        np.testing.assert_allclose(f(x).numpy(), ref.numpy(), rtol=1e-6)


def test_traced_graph_drops_dead_pure_nodes():
    """As TorchScript's tracer, a trace keeps no node that nothing uses and that has no
    effect (F.linear's size() reads of its shape check; x.size(0) read and dropped), but
    keeps in-place writes into inputs and random draws."""
    def g(x, y):
        x.size(0)           # read and dropped
        y.add_(1)
        return x * 2

    tg = torch.jit.trace(g, (torch.ones(3), torch.zeros(3)))
    kinds = [n.kind() for n in tg.graph.nodes()]
    assert "aten::size" not in kinds and "aten::add_" in kinds
    y = torch.zeros(3)
    np.testing.assert_array_equal(tg(torch.ones(3), y).numpy(), [2, 2, 2])
    np.testing.assert_array_equal(y.numpy(), [1, 1, 1])

    lin = torch.nn.Linear(4, 2)
    tl = torch.jit.trace(lin, (torch.ones(3, 4),))
    assert "aten::size" not in str(tl.graph) and "torch.size" not in tl.code
    np.testing.assert_allclose(tl(torch.ones(3, 4)).detach().numpy(),
                               lin(torch.ones(3, 4)).detach().numpy())


def test_impl_facts_ignore_a_source_file_changed_after_import(tmp_path, monkeypatch):
    """The code generator reads a direct NumPy call from an impl's source; when the file
    changed after import (inspect reads it again), the text is not the code that runs:
    it is not trusted (a shifted file made scripted atan2 of bools call another op's
    NumPy function while tests ran during an edit)."""
    import importlib
    import linecache
    import sys

    from gpujit.runtime import impl_facts

    mod = tmp_path / "impl_mod_s24.py"
    mod.write_text("def impl(xp, self, other):\n    return xp.arctan2(self, other)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    m = importlib.import_module("impl_mod_s24")
    try:
        assert impl_facts._shape(m.impl) == [(None, ("arctan2", [0, 1]))]
        impl_facts._SHAPES.pop(m.impl)
        mod.write_text("def other(xp, a):\n    return xp.negative(a)\n"
                       "def impl(xp, self, other):\n    return xp.arctan2(self, other)\n")
        linecache.checkcache(str(mod))
        assert impl_facts._shape(m.impl) is None
    finally:
        impl_facts._SHAPES.pop(m.impl, None)
        sys.modules.pop("impl_mod_s24", None)


def test_rrelu_backward_after_a_write_into_its_output():
    """rrelu's backward reads the slopes its forward drew (its stash), not its result:
    writing into the output before backward (an in-place op after nn.RReLU) is no error,
    as in PyTorch, whose rrelu saves the noise."""
    x = torch.tensor(np.linspace(-2, 2, 9), requires_grad=True)
    y = x * 1
    r = torch.nn.functional.rrelu(y, training=True)
    slopes = (r / y).detach().numpy()[:4]
    r.add_(1)
    r.sum().backward()
    g = x.grad.numpy()
    np.testing.assert_allclose(g[:4], slopes)
    assert ((g[:4] >= 0.125) & (g[:4] <= 1 / 3)).all()
    np.testing.assert_array_equal(g[5:], 1.0)

    class M(torch.nn.Module):
        def forward(self, a):
            return torch.nn.functional.rrelu(a * 2, 0.1, 0.1, True) + 1

    m = torch.jit.script(M())
    for _ in range(3):
        x.grad = None
        out = m(x)
        out.mul_(1)
        out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.where(x.detach().numpy() > 0, 2, 0.2))


def test_user_modules_whose_name_begins_with_gpujit(tmp_path, monkeypatch):
    """A user module named gpujit_<something> holds the user's functions and classes, not
    gpujit's ops: scripting a function that calls one of its helpers compiles the helper
    (it raised "gpujit has no function 'h0'")."""
    import importlib
    import sys

    (tmp_path / "gpujit_user_mod_s24.py").write_text(
        "import gpujit as torch\n\n\n"
        "def h0(a: int) -> int:\n    return a * 3\n\n\n"
        "class Acc:\n    def __init__(self, v: int):\n        self.v = v\n\n\n"
        "def f(a: int) -> int:\n    acc = Acc(a)\n    return h0(acc.v) + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        m = importlib.import_module("gpujit_user_mod_s24")
        assert torch.jit.script(m.f)(4) == 13
    finally:
        sys.modules.pop("gpujit_user_mod_s24", None)


def test_format_with_too_few_arguments():
    @torch.jit.script
    def f(x: float) -> str:
        return "<{}|{}>".format(x)

    with pytest.raises(RuntimeError, match="Too few arguments for format string: <{}|{}>"):
        f(1.0)
