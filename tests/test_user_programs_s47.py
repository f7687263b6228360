"""User programs of session 47 (f47): realistic scripts run with gpujit and, where torch is
importable, compared with torch 2.13 (values, op kinds of graphs, errors). Expected values
are also pinned by hand / NumPy so that the tests run without torch (CI has none)."""
import numpy as np
import pytest

import gpujit
import gpujit.nn as nn


def _torch():
    return pytest.importorskip("torch")


def _kinds(graph):
    return [n.kind() for n in graph.nodes() if n.kind() != "prim::Constant"]


# ------------------------------------------------------------------ freezing: linear + bn

class _LinBN(object):
    """An MLP head: Linear -> BatchNorm1d -> ReLU -> Linear (bias-less) -> BatchNorm1d."""

    @staticmethod
    def build(lib):
        torch = lib
        lib.manual_seed(0)
        m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                                torch.nn.Linear(4, 2, bias=False), torch.nn.BatchNorm1d(2))
        with torch.no_grad():
            m[0].weight.copy_(torch.arange(12.).reshape(4, 3) / 10 - 0.5)
            m[0].bias.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
            m[1].running_mean.copy_(torch.tensor([0.5, -0.5, 1.0, 0.0]))
            m[1].running_var.copy_(torch.tensor([1.0, 4.0, 0.25, 2.0]))
            m[1].weight.copy_(torch.tensor([1.0, 2.0, -1.0, 0.5]))
            m[1].bias.copy_(torch.tensor([0.0, 0.1, 0.2, 0.3]))
            m[3].weight.copy_(torch.tensor([[1.0, -1.0, 0.5, 2.0], [0.0, 1.0, 1.0, -1.0]]))
            m[4].running_mean.copy_(torch.tensor([0.25, -1.0]))
            m[4].running_var.copy_(torch.tensor([2.0, 0.5]))
        return m.eval()


def _linbn_expected(x):
    w0 = np.arange(12.).reshape(4, 3) / 10 - 0.5
    b0 = np.array([0.1, -0.2, 0.3, 0.0])
    h = x @ w0.T + b0
    h = (h - [0.5, -0.5, 1.0, 0.0]) / np.sqrt(np.array([1.0, 4.0, 0.25, 2.0]) + 1e-5) * \
        [1.0, 2.0, -1.0, 0.5] + [0.0, 0.1, 0.2, 0.3]
    h = np.maximum(h, 0)
    h = h @ np.array([[1.0, -1.0, 0.5, 2.0], [0.0, 1.0, 1.0, -1.0]]).T
    return (h - [0.25, -1.0]) / np.sqrt(np.array([2.0, 0.5]) + 1e-5)


def test_freeze_folds_batchnorm1d_into_the_linear_before_it():
    # torch 2.13's frozen graph folds an eval BatchNorm1d into the Linear before it
    # (FoldFrozenLinearBatchnorm): no aten::batch_norm is left; gpujit kept it
    m = _LinBN.build(gpujit)
    x = gpujit.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]])
    fz = gpujit.jit.freeze(gpujit.jit.script(m))
    kinds = _kinds(fz.graph)
    assert "aten::batch_norm" not in kinds
    assert kinds.count("aten::linear") == 2
    np.testing.assert_allclose(fz(x).numpy(), _linbn_expected(x.numpy().astype(np.float64)),
                               rtol=1e-5, atol=1e-5)
    # optimize_numerics=False leaves the norms
    nf = gpujit.jit.freeze(gpujit.jit.script(m), optimize_numerics=False)
    assert _kinds(nf.graph).count("aten::batch_norm") == 2
    # saved and loaded, the folded weights come back
    import io
    buf = io.BytesIO()
    gpujit.jit.save(fz, buf)
    buf.seek(0)
    ld = gpujit.jit.load(buf)
    assert ld(x).tolist() == fz(x).tolist()


def test_freeze_linear_bn_fold_skips_norms_it_cannot_fold():
    # features neither the linear's outputs nor 1: left as it is (torch checks the same);
    # a norm without running statistics too
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 4)
            self.bn = nn.BatchNorm1d(4, track_running_stats=False)

        def forward(self, x):
            return self.bn(self.lin(x))
    fz = gpujit.jit.freeze(gpujit.jit.script(M().eval()))
    assert "aten::batch_norm" in _kinds(fz.graph)

    class Shared(nn.Module):    # the linear's output is read again: not folded
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 4)
            self.bn = nn.BatchNorm1d(4)

        def forward(self, x):
            y = self.lin(x)
            return self.bn(y) + y
    m = Shared().eval()
    fz = gpujit.jit.freeze(gpujit.jit.script(m))
    assert "aten::batch_norm" in _kinds(fz.graph)
    x = gpujit.ones(2, 3)
    assert fz(x).tolist() == m(x).tolist()


def test_freeze_linear_bn_matches_torch():
    torch = _torch()
    tm, gm = _LinBN.build(torch), _LinBN.build(gpujit)
    xs = [[1.0, 2.0, -1.0], [0.5, -0.5, 3.0], [0.0, 0.0, 0.0]]
    tf = torch.jit.freeze(torch.jit.script(tm))
    gf = gpujit.jit.freeze(gpujit.jit.script(gm))
    assert _kinds(gf.graph) == _kinds(tf.graph)
    np.testing.assert_allclose(gf(gpujit.tensor(xs)).numpy(), tf(torch.tensor(xs)).numpy(),
                               rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ freezing: conv dim()

def _conv_net(lib):
    """Conv2d -> BatchNorm2d (its `input.dim() != 4` check) -> dims of the outputs."""
    class ConvNet(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = lib.nn.Conv2d(3, 4, 1)
            self.bn = lib.nn.BatchNorm2d(4)
            self.c1 = lib.nn.Conv1d(3, 2, 1)

        def forward(self, x, z):
            y = self.bn(self.c(x))
            w = self.c1(z)
            return y, y.dim(), w.dim(), w.relu().dim()
    return ConvNet().eval()


def test_freeze_folds_dim_of_a_convolution_output():
    # torch 2.13's frozen graph knows aten::conv1d/2d/3d's output rank (3/4/5): dim() of
    # it is a constant and BatchNorm2d's rank check after a Conv2d goes away; dim() of
    # what follows (relu; the norm, folded into the conv or not, as torch's) stays
    m = _conv_net(gpujit)
    for numerics in (True, False):
        fz = gpujit.jit.freeze(gpujit.jit.script(m), optimize_numerics=numerics)
        kinds = _kinds(fz.graph)
        assert kinds.count("aten::dim") == 2, kinds
        assert "prim::If" not in kinds and "prim::RaiseException" not in kinds
        x, z = gpujit.ones(1, 3, 2, 2), gpujit.ones(1, 3, 5)
        y, d4, d3, r3 = fz(x, z)
        assert (d4, d3, r3) == (4, 3, 3)
        np.testing.assert_allclose(y.numpy(), m(x, z)[0].detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    # not frozen: the check is still there
    assert "aten::dim" in _kinds(gpujit.jit.script(m).inlined_graph)

    class Tr(nn.Module):    # a traced convolution (aten::_convolution) keeps its dim()
        def __init__(self):
            super().__init__()
            self.t = gpujit.jit.trace(nn.Conv2d(3, 4, 1), gpujit.ones(1, 3, 2, 2))

        def forward(self, x):
            return self.t(x).dim()
    assert "aten::dim" in _kinds(gpujit.jit.freeze(gpujit.jit.script(Tr().eval())).graph)


def test_freeze_conv_dim_matches_torch():
    torch = _torch()
    torch.manual_seed(0)
    tm = _conv_net(torch)
    gm = _conv_net(gpujit)
    gm.load_state_dict({k: gpujit.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tf = torch.jit.freeze(torch.jit.script(tm))
    gf = gpujit.jit.freeze(gpujit.jit.script(gm))
    assert _kinds(gf.graph) == _kinds(tf.graph)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(1, 3, 2, 2)
    z = np.linspace(-1, 1, 15, dtype=np.float32).reshape(1, 3, 5)
    ty, gy = tf(torch.tensor(x), torch.tensor(z)), gf(gpujit.tensor(x), gpujit.tensor(z))
    assert ty[1:] == gy[1:]
    np.testing.assert_allclose(gy[0].numpy(), ty[0].numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ scripted module API

def _hooked_module(lib):
    class Sub(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)
            self.n = None

        def forward(self, x):
            return self.lin(x)
    return Sub()


_REFUSED = [("register_forward_hook", (lambda m, i, o: o,)),
            ("register_forward_pre_hook", (lambda m, i: None,)),
            ("register_full_backward_hook", (lambda m, gi, go: None,)),
            ("register_backward_hook", (lambda m, gi, go: None,)),
            ("requires_grad_", (False,)), ("get_submodule", ("lin",)),
            ("get_parameter", ("lin.weight",)), ("bfloat16", ()),
            ("register_state_dict_pre_hook", (lambda *a: None,)),
            ("to_empty", ()), ("set_submodule", ("lin", None))]


@pytest.mark.parametrize("name,args", _REFUSED, ids=[n for n, _ in _REFUSED])
def test_scripted_module_refuses_what_torch_refuses(name, args):
    # torch 2.13's RecursiveScriptModule replaces these nn.Module methods with a stub that
    # raises "<name> is not supported on ScriptModules" (gpujit ran Python hooks on it)
    s = gpujit.jit.script(_hooked_module(gpujit))
    with pytest.raises(RuntimeError, match=f"^{name} is not supported on ScriptModules$"):
        getattr(s, name)(*args)
    import io
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    buf.seek(0)
    with pytest.raises(RuntimeError, match="is not supported on ScriptModules"):
        getattr(gpujit.jit.load(buf), name)(*args)
    # the allowed ones still work; a traced module keeps them all
    s.eval().train()
    assert len(list(s.parameters())) == 2
    tr = gpujit.jit.trace(_hooked_module(gpujit), gpujit.ones(1, 3))
    assert tr.get_submodule("lin") is not None
    h = tr.register_forward_hook(lambda m, i, o: o * 0)
    assert tr(gpujit.ones(1, 3)).abs().sum().item() == 0
    h.remove()


def test_scripted_module_refusals_match_torch():
    torch = _torch()
    for lib in (torch, gpujit):
        s = lib.jit.script(_hooked_module(lib))
        for name, args in _REFUSED:
            with pytest.raises(RuntimeError) as e:
                getattr(s, name)(*args)
            assert str(e.value) == f"{name} is not supported on ScriptModules"


def test_setting_a_none_attribute_words():
    # an attribute scripted as None is NoneType: torch 2.13 refuses another value with
    # "Cannot cast <value> to None" (gpujit gave pybind11's generic words)
    s = gpujit.jit.script(_hooked_module(gpujit))
    for v, text in [(3, "3"), ("a", "a"), ([1], "[1]"), (gpujit.ones(2), "tensor([1., 1.])")]:
        with pytest.raises(RuntimeError) as e:
            s.n = v
        assert str(e.value) == \
            f"Could not cast attribute 'n' to type NoneType: Cannot cast {text} to None"
    s.n = None
    assert s.n is None


# ------------------------------------------------------------------ fork: arguments first

def _fork_module(lib):
    class Par(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 2)
            self.b = lib.nn.Linear(2, 2)

        def forward(self, x):
            fa = lib.jit.fork(self.a, x + 1)
            fb = lib.jit.fork(lib.neg, x * 2)
            fc = lib.jit.fork(self.b, input=x)
            return lib.jit.wait(fa) + lib.jit.wait(fb) - lib.jit.wait(fc)
    return Par()


def test_fork_evaluates_its_submodule_and_arguments_before_the_closure():
    # torch 2.13's emitForkExpr evaluates `self.a` and the arguments where the fork is; the
    # closure only calls: aten::add / aten::mul / prim::GetAttr at the top of the graph
    # (gpujit compiled them inside the forked block)
    gpujit.manual_seed(0)
    m = _fork_module(gpujit)
    s = gpujit.jit.script(m)
    kinds = _kinds(s.graph)
    assert kinds == ["prim::GetAttr", "aten::add", "prim::fork", "aten::mul", "prim::fork",
                     "prim::GetAttr", "prim::fork", "aten::wait", "aten::wait", "aten::add",
                     "aten::wait", "aten::sub"], kinds
    forks = [n for n in s.graph.nodes() if n.kind() == "prim::fork"]
    assert [[k.kind() for k in next(iter(f.blocks())).nodes()] for f in forks] == \
        [["prim::CallMethod"], ["aten::neg"], ["prim::CallMethod"]]
    code = s.code
    assert "  a = self.a\n  _0 = torch.add(x, 1)\n  def __forked_function():\n" \
           "    return (a).forward(_0, )\n" in code, code
    x = gpujit.tensor([[1.0, -2.0]])
    want = m.a(x + 1) - 2 * x - m.b(x)
    np.testing.assert_allclose(s(x).detach().numpy(), want.detach().numpy(), rtol=1e-6)
    import io
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    buf.seek(0)
    assert gpujit.jit.load(buf)(x).tolist() == s(x).tolist()


def test_fork_code_matches_torch():
    torch = _torch()
    t = torch.jit.script(_fork_module(torch))
    g = gpujit.jit.script(_fork_module(gpujit))
    assert _kinds(g.graph) == _kinds(t.graph)
    assert g.code == t.code


# ------------------------------------------------------------------ trace: size op Tensor

def _size_first(x):
    n = x.shape[0]
    h = n / 2
    return n * x, x * n, n + x, n - x, x.size(1) / x, h * x, n // x, n ** x


def _inputs_of(graph):
    return [(n.kind(), [i.debugName() for i in n.inputs()]) for n in graph.nodes()
            if n.kind() in ("aten::mul", "aten::add", "aten::sub", "aten::rsub", "aten::div",
                            "aten::reciprocal", "aten::floor_divide", "aten::pow")]


def test_trace_records_a_size_times_a_tensor_with_the_size_first():
    # PyTorch's traced size is a 0-dim tensor: `n * x` is n's own operator, aten::mul(n, x)
    # (aten::add(n, x, 1), aten::sub(n, x, 1), aten::div(n, x)); gpujit recorded Python's
    # reflected x.__rmul__(n): aten::mul(x, n), aten::rsub(x, n), reciprocal(x) * n
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = gpujit.jit.trace(_size_first, gpujit.ones(2, 3) * 2)
    ins = _inputs_of(t.graph)
    assert ins[0] == ("aten::div", ["n", ins[0][1][1]])         # h = n / 2
    assert [(k, a[:2]) for k, a in ins[1:]] == [
        ("aten::mul", ["n", "x"]), ("aten::mul", ["x", "n"]), ("aten::add", ["n", "x"]),
        ("aten::sub", ["n", "x"]), ("aten::div", [ins[5][1][0], "x"]),
        ("aten::mul", ["h", "x"]), ("aten::floor_divide", ["n", "x"]),
        ("aten::pow", ["n", "x"])]
    x = gpujit.full((4, 5), 3.0)
    got = [r.numpy() for r in t(x)]
    a = np.full((4, 5), 3.0)
    want = [4 * a, a * 4, 4 + a, 4 - a, 5 / a, 2 * a, 4 // a, 4.0 ** a]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
        assert g.dtype == np.float32
    # gradients flow to x through the size-first product
    x = gpujit.ones(2, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt = gpujit.jit.trace(lambda x: x.shape[1] * x, x)
    y = tt(x)
    y.sum().backward()
    assert x.grad.tolist() == [[3.0] * 3] * 2 and y.grad_fn.name() == "MulBackward0"


def test_trace_size_first_matches_torch():
    torch = _torch()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt = torch.jit.trace(_size_first, torch.ones(2, 3) * 2)
        gt = gpujit.jit.trace(_size_first, gpujit.ones(2, 3) * 2)
    assert _inputs_of(gt.graph) == _inputs_of(tt.graph)
    for a, b in zip(gt(gpujit.full((4, 5), 3.0)), tt(torch.full((4, 5), 3.0))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


# ------------------------------------------------------------------ isinstance(x, list)

from typing import Any, List, Tuple, Union  # noqa: E402


def _kind_of(x: Any) -> int:
    if isinstance(x, list):
        return 1
    if isinstance(x, tuple):
        return 3
    if isinstance(x, (str, float)):
        return 4
    return 0


def _union_sum(x: Union[int, List[int], Tuple[int, int], str]) -> int:
    if isinstance(x, int):
        return x
    elif isinstance(x, list):
        return sum(x)
    elif isinstance(x, tuple):
        return x[0] + x[1]
    return len(x)


def _isinstance_attrs(graph):
    out = []
    for n in graph.walk() if hasattr(graph, "walk") else graph.nodes():
        if n.kind == "prim::isinstance":
            out.append(list(n.attrs["types"]))
    return out


def test_isinstance_of_any_with_bare_list_and_tuple():
    # torch 2.13 tests an Any value against `list` / `tuple` (any list / tuple; its
    # AnyListType / AnyTupleType); gpujit refused them ("isinstance() of an Any value is
    # supported with ...")
    s = gpujit.jit.script(_kind_of)
    assert [s([1]), s([gpujit.ones(1)]), s((1, "a")), s("x"), s(1.5), s(3), s(None)] == \
        [1, 1, 3, 4, 4, 0, 0]
    code = s.code
    assert "isinstance(x, list)" in code and "isinstance(x0, tuple)" in code or \
        "isinstance(x, tuple)" in code, code
    # the classes as written, in the order TorchScript's Union keeps them, no source range
    assert _isinstance_attrs(s.graph) == [["list"], ["tuple"], ["float", "str"]]
    assert "prim::isinstance[types=[float, str]](" in str(s.graph)
    line = [ln for ln in str(s.graph).splitlines() if "prim::isinstance[types=[list]]" in ln]
    assert line and "#" not in line[0]
    import io
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    buf.seek(0)
    ld = gpujit.jit.load(buf)
    assert [ld([1]), ld((1, 2)), ld("x"), ld(2)] == [1, 3, 4, 0]


def test_isinstance_of_a_union_spells_the_class():
    # isinstance(x, list) of a Union[..., List[int], ...] is prim::isinstance[types=[list]]
    # in torch 2.13 (.code `isinstance(x0, list)`); gpujit spelled the member it matched,
    # int[] (`isinstance(x0, List[int])`)
    s = gpujit.jit.script(_union_sum)
    assert [s(4), s([1, 2, 3]), s((5, 6)), s("abc")] == [4, 6, 11, 3]
    assert _isinstance_attrs(s.graph) == [["int"], ["list"], ["tuple"]]
    assert "isinstance(x0, list)" in s.code and "List[int])" not in s.code.split(
        "isinstance")[2]


def test_isinstance_of_any_false_branch_reads_it_as_any():
    # torch 2.13 refines an Any variable in the false branch of isinstance() to Any
    # again: `x0 = unchecked_cast(Any, x)` before the next test reads it
    s = gpujit.jit.script(_kind_of)
    code = s.code
    assert "    x0 = unchecked_cast(Any, x)\n    _2 = isinstance(x0, tuple)\n" in code, code
    assert "      x1 = unchecked_cast(Any, x0)\n      _4 = isinstance(x1, (float, str))\n" \
        in code, code
    assert [s([1]), s((1, 2)), s(2.5), s(3)] == [1, 3, 4, 0]


def test_isinstance_spelling_matches_torch():
    torch = _torch()
    assert gpujit.jit.script(_kind_of).code == torch.jit.script(_kind_of).code
    for f in (_kind_of, _union_sum):
        t, g = torch.jit.script(f), gpujit.jit.script(f)
        for spelled in (", list)", ", tuple)", "List[int])"):
            assert (spelled in g.code) == (spelled in t.code), spelled
        tt = [str(n).split("prim::isinstance")[1].split("(")[0]
              for n in t.graph.nodes() if n.kind() == "prim::isinstance"]
        gt = [str(n).split("prim::isinstance")[1].split("(")[0]
              for n in g.graph.nodes() if n.kind() == "prim::isinstance"]
        assert gt == tt


# ------------------------------------------------------------------ warn / _assert in .code

import warnings  # noqa: E402
from typing import Optional  # noqa: E402

_lib = gpujit       # (the library _checks is scripted with: gpujit or torch)


def _checks(x: _lib.Tensor) -> _lib.Tensor:
    _lib._assert(x.sum() > 0, f"bad sum {x.dim()}")
    _lib._assert(True, "always")
    _lib._assert(x.dim() == 1, "must be 1d")
    warnings.warn("plain")
    warnings.warn("deeper", stacklevel=3)
    return x


def test_torch_assert_is_inlined_and_warn_drops_its_default_stacklevel():
    # torch 2.13's .code inlines torch._assert (its arguments, then `if bool(_0): pass
    # else: ops.prim.RaiseException(...)`; a constant True leaves nothing) and writes
    # warnings.warn("x") as torch.warn("x") (stacklevel 2 is the default); gpujit called
    # __torch__.torch._asserts._assert and wrote torch.warn("plain", 2)
    s = gpujit.jit.script(_checks)
    code = s.code
    assert "_asserts" not in code and 'torch.warn("plain")\n' in code and \
        'torch.warn("deeper", 3)' in code, code
    assert "if bool(_0):" in code and '"AssertionError: must be 1d"' in code
    kinds = _kinds(s.graph)
    assert "prim::CallFunction" not in kinds and kinds.count("prim::If") == 2, kinds
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert s(gpujit.ones(2)).tolist() == [1.0, 1.0]
    assert [str(x.message) for x in w] == ["plain", "deeper"]
    with pytest.raises(AssertionError, match="\nRuntimeError: AssertionError: bad sum 1\n$"):
        s(-gpujit.ones(2))
    with pytest.raises(AssertionError, match="\nRuntimeError: AssertionError: must be 1d\n$"):
        s(gpujit.ones(1, 2))
    with pytest.raises(gpujit.jit.Error):
        s(-gpujit.ones(2))
    import io
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    buf.seek(0)
    ld = gpujit.jit.load(buf)
    with pytest.raises(AssertionError, match="bad sum"):
        ld(-gpujit.ones(2))


def test_torch_assert_does_not_refine():
    # as torch 2.13: torch._assert(y is not None, ...) is a call, no refinement of y
    def f(x: gpujit.Tensor, y: Optional[gpujit.Tensor]) -> gpujit.Tensor:
        gpujit._assert(y is not None, "y needed")
        return x + y
    with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
        gpujit.jit.script(f)


def test_assert_and_warn_code_match_torch():
    global _lib
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _lib = torch
        try:
            t = torch.jit.script(_checks)
        finally:
            _lib = gpujit
    g = gpujit.jit.script(_checks)
    assert [k for k in _kinds(g.graph)] == [k for k in _kinds(t.graph)]
    assert g.code == t.code        # (s48: the assert's raise names no class, as torch's)


# ------------------------------------------------------------------ Tensor for a number

def _length_mask(lengths: gpujit.Tensor) -> gpujit.Tensor:
    return gpujit.arange(lengths.max())[None, :] < lengths[:, None]


def _narrowed(x: gpujit.Tensor, n: gpujit.Tensor) -> gpujit.Tensor:
    return x.narrow(0, 0, n) * 2


def test_tensor_for_a_number_argument_has_no_requires_grad_branch():
    # torch 2.13's graph converts a Tensor passed for a number with aten::IntImplicit /
    # ScalarImplicit alone (its kernel refuses a tensor that requires grad); gpujit put a
    # prim::requires_grad + prim::If + RaiseException before each (the common length-mask
    # idiom `torch.arange(lengths.max())` showed it)
    s = gpujit.jit.script(_length_mask)
    kinds = _kinds(s.graph)
    assert "prim::If" not in kinds and "prim::requires_grad" not in kinds, kinds
    assert kinds[:3] == ["aten::max", "aten::ScalarImplicit", "aten::arange"], kinds
    assert "torch.arange(annotate(number, torch.max(lengths)))" in s.code, s.code
    for _ in range(3):
        assert s(gpujit.tensor([3, 1])).tolist() == [[True, True, True], [True, False, False]]
    n = gpujit.jit.script(_narrowed)
    assert _kinds(n.graph) == ["aten::IntImplicit", "aten::narrow", "aten::mul"]
    for _ in range(4):          # profiled, then the generated code
        assert n(gpujit.ones(3), gpujit.tensor(2)).tolist() == [2.0, 2.0]
    # the op still refuses a tensor that requires grad, with or without grad recording
    for ctx in (gpujit.enable_grad, gpujit.no_grad):
        with ctx():
            for _ in range(2):
                # (the last line of torch 2.13's interpreter report)
                with pytest.raises(RuntimeError, match="\nRuntimeError: Cannot input a tensor "
                                                       "that requires grad as a scalar "
                                                       "argument"):
                    n(gpujit.ones(3), gpujit.tensor(2.0, requires_grad=True))
    with pytest.raises(RuntimeError, match="Cannot input a tensor of type Float as an "
                                           "integral argument"):
        n(gpujit.ones(3), gpujit.tensor(2.0))


def test_tensor_for_a_number_matches_torch():
    torch = _torch()
    src = ("def mask(lengths: torch.Tensor) -> torch.Tensor:\n"
           "    return torch.arange(lengths.max())[None, :] < lengths[:, None]\n"
           "def narrowed(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:\n"
           "    return x.narrow(0, 0, n) * 2\n")
    import importlib.util
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        got = []
        for k, lib in enumerate((torch, gpujit)):
            path = os.path.join(d, f"prog{k}.py")
            with open(path, "w") as f:
                f.write(("import torch\n" if lib is torch else "import gpujit as torch\n")
                        + src)
            spec = importlib.util.spec_from_file_location(f"prog_s47_{k}", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got.append([(lib.jit.script(mod.mask), lib.jit.script(mod.narrowed))])
        (tm, tn), = got[0]
        (gm, gn), = got[1]
        assert _kinds(gm.graph) == _kinds(tm.graph)
        assert _kinds(gn.graph) == _kinds(tn.graph)
        assert gm.code == tm.code and gn.code == tn.code


# ------------------------------------------------------------------ warnings shown once

def _warn_here():
    warnings.warn("shown once per location", UserWarning)


def test_scripting_does_not_show_default_filtered_warnings_again():
    # constant propagation caught the warnings of the ops it folds with
    # warnings.catch_warnings, which bumps the filters' version: every module's registry
    # of warnings already shown was dropped, and after scripting anything a warning the
    # default filter shows once per location showed again (torch shows it once)
    shown = []
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *a, **k: shown.append(str(message))
        for k in range(3):
            _warn_here()

            def f(x: gpujit.Tensor) -> gpujit.Tensor:
                return x * (2 + 3) - len("abc")
            assert gpujit.jit.script(f)(gpujit.ones(1)).tolist() == [2.0]
    assert shown.count("shown once per location") == 1, shown


def test_folding_still_leaves_a_warning_op_for_run_time():
    from gpujit.passes.constant_propagation import _warnings_recorded
    before = list(warnings.filters)
    with _warnings_recorded() as caught:
        warnings.warn("seen", UserWarning)
        warnings.warn("also", DeprecationWarning)
    assert [str(w.message) for w in caught] == ["seen", "also"]
    assert warnings.filters == before


# ------------------------------------------------------------------ class-level Final lists

def _final_module(lib):
    from typing import Final

    class Heads(lib.nn.Module):
        scales: Final[List[float]] = [0.5, 1.0, 2.0]

        def __init__(self):
            super().__init__()
            self.heads = lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x, i: int):
            out = lib.zeros_like(x)
            for s in self.scales:
                out = out + x * s
            for k, h in enumerate(self.heads):
                out = out + h(x) * self.scales[k]
            return out, self.scales, self.scales[i]
    return Heads()


def test_class_level_final_list_is_a_tuple_constant():
    # torch 2.13 stores a Final / __constants__ list as a tuple, also one set in the class
    # body: `for s in self.scales` is unrolled and self.scales[k] a constant; gpujit kept
    # a class-level one a List[float] (a prim::Loop over [0.5, 1., 2.])
    gpujit.manual_seed(0)
    m = _final_module(gpujit)
    s = gpujit.jit.script(m)
    assert "prim::Loop" not in _kinds(s.graph)
    x = gpujit.ones(1, 2)
    out, scales, one = s(x, 2)
    assert scales == (0.5, 1.0, 2.0) and one == 2.0 and s.scales == (0.5, 1.0, 2.0)
    want = x.numpy() * 3.5 + sum(h(x).detach().numpy() * k
                                 for h, k in zip(m.heads, (0.5, 1.0, 2.0)))
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-6)
    assert "Tuple[Tensor, Tuple[float, float, float], float]" in s.code


def test_class_level_final_list_matches_torch():
    torch = _torch()
    t, g = torch.jit.script(_final_module(torch)), gpujit.jit.script(_final_module(gpujit))
    assert _kinds(g.graph) == _kinds(t.graph)
    assert g.code == t.code


# ------------------------------------------------------------------ non-persistent buffers

def _rope_module(lib):
    class Rope(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("inv_freq", lib.arange(2.0), persistent=False)
            self.lin = lib.nn.Linear(2, 2)
            self.register_buffer("keep", lib.ones(2))

        def forward(self, x):
            return self.lin(x) + self.inv_freq + self.keep
    return Rope()


def test_scripted_and_traced_state_dict_list_non_persistent_buffers():
    # torch 2.13's scripted, traced and loaded modules keep no persistence flag: their
    # state_dict lists a register_buffer(..., persistent=False) buffer too, so loading the
    # eager state_dict into them strictly misses it (gpujit copied the eager module's set)
    m = _rope_module(gpujit)
    assert list(m.state_dict()) == ["keep", "lin.weight", "lin.bias"]
    import io
    s = gpujit.jit.script(m)
    t = gpujit.jit.trace(m, gpujit.ones(1, 2))
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    buf.seek(0)
    ld = gpujit.jit.load(buf)
    for c in (s, t, ld):
        assert list(c.state_dict()) == ["inv_freq", "keep", "lin.weight", "lin.bias"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "inv_freq"'):
        s.load_state_dict(m.state_dict())
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "inv_freq"'):
        m.load_state_dict(s.state_dict())
    s.load_state_dict(t.state_dict())
    m.load_state_dict(s.state_dict(), strict=False)


def test_non_persistent_buffers_match_torch():
    torch = _torch()
    for lib in (torch, gpujit):
        m = _rope_module(lib)
        import warnings as _w
        with _w.catch_warnings():
            _w.simplefilter("ignore")
            keys = [list(lib.jit.script(m).state_dict()),
                    list(lib.jit.trace(m, lib.ones(1, 2)).state_dict())]
        if lib is torch:
            want = keys
        else:
            assert keys == want


# ------------------------------------------------------------------ zip / enumerate loops

def _zip_loops(a: List[int], b: List[str], c: List[float]) -> List[str]:
    out: List[str] = []
    for x, y, w in zip(a, b, c):
        out.append(y + str(x + w))
    for i, v in enumerate(a):
        out.append(str(i + v))
    for i, (x, y) in enumerate(zip(a, b)):
        out.append(y + str(i))
    for p in zip(a, b):
        out.append(p[1])
    return out


def test_zip_and_enumerate_loops_index_their_lists():
    # torch 2.13 runs `for x, y in zip(a, b)` / enumerate(a) / enumerate(zip(a, b)) as an
    # IterableTree: the trip count is ops.prim.min of the lengths ([INT64_MAX, len(a)] for
    # enumerate, whose index is the loop counter `i`), and each element a[i]; gpujit built
    # the list of pairs (aten::zip / aten::enumerate) and unpacked its items
    s = gpujit.jit.script(_zip_loops)
    args = ([1, 2, 3], ["a", "b"], [0.5, 1.5, 2.5])
    assert s(*args) == _zip_loops(*args) == ["a1.5", "b3.5", "1", "3", "5", "a0", "b1",
                                             "a", "b"]
    assert s([], [], []) == []
    kinds = [n.kind for n in s.graph.walk()]
    assert "aten::zip" not in kinds and "aten::enumerate" not in kinds
    assert kinds.count("prim::min") == 4 and kinds.count("prim::Loop") == 4
    code = s.code
    assert "  for _1 in range(ops.prim.min(_0)):\n    x = a[_1]\n    y = b[_1]\n" in code, code
    assert "ops.prim.min([9223372036854775807, torch.len(a)])" in code
    assert "  for i in range(_3):\n    v = a[i]\n" in code


def test_zip_and_enumerate_loops_match_torch():
    torch = _torch()
    t = torch.jit.script(_zip_loops)
    g = gpujit.jit.script(_zip_loops)
    args = ([1, 2, 3], ["a", "b"], [0.5, 1.5, 2.5])
    assert g(*args) == t(*args)
    tk = [n.kind() for n in t.graph.nodes()]
    gk = [n.kind() for n in g.graph.nodes()]
    assert [k for k in gk if k != "prim::Constant"] == [k for k in tk if k != "prim::Constant"]
    # (the rest of the text differs only where gpujit carries the mutated list `out`)
    import re
    norm = "".join(ln for ln in g.code.splitlines(True)
                   if not re.fullmatch(r"\s+out\d* = out\d*\n", ln))
    norm = re.sub(r"\bout\d+\b", "out", norm)
    assert norm == t.code


# ------------------------------------------------------------------ sorted()

from typing import Dict  # noqa: E402


def _sorted_keys(xs: List[int], d: Dict[str, int]) -> List[str]:
    a = sorted(xs)
    b = sorted(d.keys())
    xs.sort()
    return b + [str(a[0]), str(xs[-1])]


def test_sorted_takes_the_list_alone():
    # torch 2.13's aten::sorted(t[] input) takes the list only and its code writes
    # `sorted(xs)`; gpujit passed a reverse flag: `torch.sorted(xs, False)`
    s = gpujit.jit.script(_sorted_keys)
    assert s([3, 1, 2], {"b": 1, "a": 2}) == ["a", "b", "1", "3"]
    code = s.code
    assert "a = sorted(xs)\n" in code and "b = sorted(torch.keys(d))\n" in code, code
    assert [len(list(n.inputs)) for n in s.graph.walk() if n.kind == "aten::sorted"] == [1, 1]
    import io
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    buf.seek(0)
    assert gpujit.jit.load(buf)([5, 4], {"z": 0}) == ["z", "4", "5"]


def test_sorted_code_matches_torch():
    torch = _torch()
    assert gpujit.jit.script(_sorted_keys).code == torch.jit.script(_sorted_keys).code


# ------------------------------------------------------------------ eager jit.isinstance

def test_eager_jit_isinstance_warns_for_empty_containers_and_refuses_any():
    # torch 2.13's eager torch.jit.isinstance warns for an empty list / dict / tuple where
    # the type names a container (its inner type is lost), nested ones too, and hands
    # typing.Any to Python's isinstance (TypeError); gpujit was silent and answered True
    from typing import Any
    for obj, t, want, n in [([], List[int], True, 1), ({}, Dict[str, int], True, 1),
                            ([[]], List[List[int]], True, 1), ([1], List[int], True, 0),
                            ({"a": []}, Dict[str, List[int]], True, 1),
                            ((1, []), Tuple[int, List[int]], True, 1),
                            ([], Optional[List[int]], True, 1), (None, Optional[List[int]],
                                                                 True, 0)]:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert gpujit.jit.isinstance(obj, t) is want
        got = [str(x.message) for x in w]
        assert got == ["The inner type of a container is lost when calling "
                       "torch.jit.isinstance in eager mode. For example, List[int] would "
                       "become list and therefore falsely return True for List[float] or "
                       "List[str]."] * n, (obj, t, got)
        assert all(x.category is UserWarning for x in w)
    with pytest.raises(TypeError, match="typing.Any cannot be used with isinstance"):
        gpujit.jit.isinstance(3, Any)


def test_eager_jit_isinstance_matches_torch():
    torch = _torch()
    cases = [([], List[int]), ([[]], List[List[int]]), ({"a": []}, Dict[str, List[int]]),
             ((1, []), Tuple[int, List[int]]), ([1.0], List[int]), ({"a": 1}, Dict[str, int])]
    for obj, t in cases:
        res = []
        for lib in (torch, gpujit):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                r = lib.jit.isinstance(obj, t)
            res.append((r, [str(x.message) for x in w]))
        assert res[0] == res[1], (obj, t, res)


# ------------------------------------------------------------------ dict.setdefault

def _grouped(keys: List[str]) -> Dict[str, List[int]]:
    d: Dict[str, List[int]] = {}
    for i, k in enumerate(keys):
        d.setdefault(k, [0]).append(i)
    c: Dict[str, float] = {}
    c.setdefault("x", 1.0)
    d["n"] = [int(c.setdefault("x", 5.0))]
    return d


def test_dict_setdefault_is_torchs_op():
    # torch 2.13 compiles d.setdefault(k, v) to aten::setdefault (`torch.setdefault(d, k,
    # v)` in .code); gpujit wrote `if k not in d: d[k] = v` and then d[k]
    s = gpujit.jit.script(_grouped)
    for _ in range(3):          # profiled, then the generated code
        assert s(["a", "b", "a"]) == {"a": [0, 0, 2], "b": [0, 1], "n": [1]}
    kinds = [n.kind for n in s.graph.walk()]
    assert kinds.count("aten::setdefault") == 3 and "aten::__contains__" not in kinds
    code = s.code
    assert "torch.setdefault(d, k, [0])" in code and "torch.setdefault(c, \"x\", 1.)" in code
    import io
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    buf.seek(0)
    assert gpujit.jit.load(buf)(["z"]) == {"z": [0, 0], "n": [1]}


def test_dict_setdefault_matches_torch():
    torch = _torch()
    t, g = torch.jit.script(_grouped), gpujit.jit.script(_grouped)
    assert g(["a", "b", "a"]) == t(["a", "b", "a"])
    assert [k for k in _kinds(g.graph) if k != "prim::Loop"] == \
        [k for k in _kinds(t.graph) if k != "prim::Loop"]
