"""Tracing, scripted / traced modules and training against torch 2.13 (session 38, d38).

Finds, minimised, with torch 2.13's behaviour:

1. A submodule called twice in a row on the same input (`self.a(x) + self.a(x)`: nothing
   recorded between the two calls) kept its second call inline: torch 2.13 prints
   `_0 = torch.add((a).forward(x, ), (a).forward1(x, ))` and gives the submodule a
   `forward1`; gpujit printed the second call's ops (`torch.relu(torch.linear(x, weight,
   bias))`). Folding the first call into its prim::CallMethod destroyed the node the
   second call had marked as its start, so the second call's region was skipped as if
   folded into an outer call.
2. Where a traced module's GetAttr chains go. torch 2.13's tracer gives each object it
   reads (a submodule it calls, a parameter) a chain of its own from self, placed at the
   start of the graph, so the last read prints first: the tutorial's MyCell
   (`self.dg(self.linear(x))`) prints
   `dg = self.dg / linear = self.linear / _0 = torch.add((dg).forward((linear).forward(x,
   ), ), h) / _1 = torch.tanh(_0) / return (_1, _1)`, and nn.Linear's own forward
   `bias = self.bias / weight = self.weight / return torch.linear(x, weight, bias)`;
   gpujit placed each GetAttr at its first use (`x0 = (linear).forward(x, ) / dg =
   self.dg / ...`, `weight` before `bias`) and reused the chains the submodule's own ops
   had read (`self.a.w` read after `self.a(x)` took the call's chain: torch prints
   `a = self.a / w = a.w` first, above the chains read before it).
3. A call's result is unnamed (torch builds it afresh when it turns the call into a
   method): gpujit gave it the name the callee's local gave the value (`x0 =
   (linear).forward(x, )`, MyDecisionGate's parameter `x`).
4. A submodule method's parameters are named after the values the caller passed
   (`forward1(self, x, inp)` for `self.s(x, y)` where y is first read inside the call as
   `inp`), `argument_1`, `argument_2`... for unnamed ones (MyDecisionGate's
   `forward(self, argument_1)`); gpujit used the callee's Python parameter names.
5. Dropout when not training. torch's `torch.dropout(x, 0.5, False)` is x itself (ATen's
   early `return input`; grad_fn None for a leaf), gpujit's was a new tensor with a
   MulBackward0 node. A trace records the call (`F.dropout(x, 0.3, training=False)` ->
   `aten::dropout(%x, 0.3, False)`), so an eval model's nn.Dropout stays a method call:
   torch 2.13 prints `_0 = torch.add((d).forward((l).forward(x, ), ), torch.relu(x))` and
   the Dropout's forward
   `return torch.dropout(argument_1, 0.5, False)`; gpujit recorded nothing and left the
   call out. As TorchScript's SchemaInfo, aten::dropout with a constant train=False is
   deterministic (no "Trace had nondeterministic nodes" warning; DCE may drop it).
"""
import numpy as np

import gpujit as torch

nn = torch.nn


def N(t):
    return np.asarray(t.detach().cpu().numpy())


class _Sub(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return self.lin(x).relu()


class _Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = _Sub()

    def forward(self, x):
        return self.a(x) + self.a(x)


class _Chain(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)

    def forward(self, x):
        return self.b(self.a(x)) + self.a(x)


def _np_linear(lin, x):
    return x @ N(lin.weight).T + N(lin.bias)


def test_submodule_called_twice_back_to_back_gets_forward1():
    torch.manual_seed(0)
    m = _Twice()
    x = torch.randn(3, 2)
    t = torch.jit.trace(m, (x,))
    assert t.code == (
        "def forward(self,\n"
        "    x: Tensor) -> Tensor:\n"
        "  a = self.a\n"
        "  _0 = torch.add((a).forward(x, ), (a).forward1(x, ))\n"
        "  return _0\n")
    assert t.a.forward1.code == (
        "def forward1(self,\n"
        "    x: Tensor) -> Tensor:\n"
        "  lin = self.lin\n"
        "  return torch.relu((lin).forward1(x, ))\n")
    y = torch.randn(4, 2, requires_grad=True)
    out = t(y)
    ref = 2 * np.maximum(_np_linear(m.a.lin, N(y)), 0)
    np.testing.assert_allclose(N(out), ref, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert y.grad is not None and m.a.lin.weight.grad is not None


def test_second_call_after_another_submodule_is_a_method_call():
    torch.manual_seed(0)
    m = _Chain()
    x = torch.randn(3, 2)
    t = torch.jit.trace(m, (x,))
    # torch 2.13: `_0 = torch.add((b).forward((a).forward(x, ), ), (a).forward1(x, ))`
    assert "(a).forward1(x, )" in t.code and "torch.linear" not in t.code
    assert [n.kind() for n in t.graph.nodes()].count("prim::CallMethod") == 3
    y = torch.randn(5, 2)
    ref = _np_linear(m.b, _np_linear(m.a, N(y))) + _np_linear(m.a, N(y))
    np.testing.assert_allclose(N(t(y)), ref, rtol=1e-5, atol=1e-6)


class _Gate(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class _MyCell(nn.Module):
    def __init__(self):
        super().__init__()
        self.dg = _Gate()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


def _trace_quiet(m, args):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.trace(m, args)


def test_tutorial_cell_code_as_torch_prints_it():
    torch.manual_seed(0)
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    t = _trace_quiet(_MyCell(), (x, h))
    assert t.code == (
        "def forward(self,\n"
        "    x: Tensor,\n"
        "    h: Tensor) -> Tuple[Tensor, Tensor]:\n"
        "  dg = self.dg\n"
        "  linear = self.linear\n"
        "  _0 = torch.add((dg).forward((linear).forward(x, ), ), h)\n"
        "  _1 = torch.tanh(_0)\n"
        "  return (_1, _1)\n")
    assert t.dg.code == (
        "def forward(self,\n"
        "    argument_1: Tensor) -> Tensor:\n"
        "  return torch.neg(argument_1)\n")
    assert t.linear.code == (
        "def forward(self,\n"
        "    x: Tensor) -> Tensor:\n"
        "  bias = self.bias\n"
        "  weight = self.weight\n"
        "  return torch.linear(x, weight, bias)\n")
    # torch 2.13: %dg = GetAttr; %linear = GetAttr; %31 = CallMethod(%linear, %x.1);
    # %32 = CallMethod(%dg, %31) (the call's result unnamed)
    n = list(t.graph.nodes())[:4]
    assert [k.kind() for k in n] == ["prim::GetAttr"] * 2 + ["prim::CallMethod"] * 2
    assert [k.s("name") for k in n] == ["dg", "linear", "forward", "forward"]
    assert list(n[2].inputs())[0] is n[1].output() and list(n[3].inputs()) == \
        [n[0].output(), n[2].output()]
    assert n[2].output().debugName().isdigit()
    y, h2 = torch.rand(2, 4), torch.rand(2, 4)
    lin = N(t.linear(y))        # (the gate's branch is baked in: x.sum() > 0 when traced)
    ref = np.tanh((lin if N(t.linear(x)).sum() > 0 else -lin) + N(h2))
    np.testing.assert_allclose(N(t(y, h2)[0]), ref, rtol=1e-5, atol=1e-6)


class _SubW(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.w = nn.Parameter(torch.ones(2))

    def forward(self, x):
        return self.lin(x).relu() * self.w


class _Reads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = _SubW()
        self.p = nn.Parameter(torch.ones(2))
        self.q = nn.Parameter(torch.ones(2))
        self.b = nn.Linear(2, 2)

    def forward(self, x):
        y = x * self.q
        z = self.a(y) + self.p
        return self.b(z) * self.a.lin.weight[0] + self.a.w


def test_each_read_gets_its_own_chain_at_the_graph_start():
    torch.manual_seed(0)
    m = _Reads()
    t = _trace_quiet(m, (torch.ones(2, 2),))
    # torch 2.13's graph starts (names aside):
    #   a = self.a; w = a.w; a.3 = self.a; lin = a.3.lin; weight = lin.weight;
    #   b = self.b; p = self.p; a.1 = self.a; q = self.q; input.1 = aten::mul(x, q) ...
    reads = []
    for n in t.graph.nodes():
        if n.kind() != "prim::GetAttr":
            break
        reads.append(n.s("name"))
    assert reads == ["a", "w", "a", "lin", "weight", "b", "p", "a", "q"]
    code = t.code.splitlines()
    assert code[2:11] == ["  a = self.a", "  w = a.w", "  a0 = self.a", "  lin = a0.lin",
                          "  weight = lin.weight", "  b = self.b", "  p = self.p",
                          "  a1 = self.a", "  q = self.q"]
    assert t.a.code.splitlines()[2:4] == ["  w = self.w", "  lin = self.lin"]
    y = torch.randn(3, 2)
    a = m.a
    inner = np.maximum(_np_linear(a.lin, N(y) * N(m.q)), 0) * N(a.w) + N(m.p)
    ref = _np_linear(m.b, inner) * N(a.lin.weight)[0] + N(a.w)
    np.testing.assert_allclose(N(t(y)), ref, rtol=1e-5, atol=1e-6)


class _Two(nn.Module):
    def forward(self, inp, other):
        return inp.relu() + other


class _Names(nn.Module):
    def __init__(self):
        super().__init__()
        self.s = _Two()

    def forward(self, x, h):
        y = x * 2
        z = h.neg()
        w = z + 1
        return self.s(y, w) + self.s(x, y) + self.s(x * 3, z)


def test_method_parameters_named_after_the_callers_values():
    t = _trace_quiet(_Names(), (torch.ones(2), torch.ones(2)))
    heads = [getattr(t.s, m).code.splitlines()[:3] for m in ("forward", "forward1", "forward2")]
    # torch 2.13
    assert heads == [
        ["def forward(self,", "    inp: Tensor,", "    other: Tensor) -> Tensor:"],
        ["def forward1(self,", "    x: Tensor,", "    inp: Tensor) -> Tensor:"],
        ["def forward2(self,", "    inp: Tensor,", "    z: Tensor) -> Tensor:"]]
    assert "(s).forward(inp, other, ), (s).forward1(x, inp, )" in t.code
    a, b = torch.randn(2), torch.randn(2)
    ya, za = N(a) * 2, -N(b)
    ref = (np.maximum(ya, 0) + za + 1) + (np.maximum(N(a), 0) + ya) + \
        (np.maximum(N(a) * 3, 0) + za)
    np.testing.assert_allclose(N(t(a, b)), ref, rtol=1e-6)


def test_dropout_not_training_is_its_input():
    x = torch.randn(3, requires_grad=True)
    y = torch.dropout(x, 0.5, False)
    assert y is x and y.grad_fn is None
    z = x * 2
    assert torch.dropout(z, 0.5, False) is z and torch.dropout(z, 0.0, True) is z
    assert nn.functional.dropout(z, 0.5, training=False) is z
    w = torch.dropout(z, 0.5, True)         # (training: a new tensor, as before)
    assert w is not z and type(w.grad_fn).__name__ == "MulBackward0"


class _EvalDrop(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.Linear(4, 4)
        self.d = nn.Dropout(0.5)

    def forward(self, x):
        return self.d(self.l(x)) + x.relu()


def test_eval_dropout_is_traced_as_a_call():
    import warnings
    torch.manual_seed(0)
    m = _EvalDrop().eval()
    x = torch.randn(3, 4)
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        t = torch.jit.trace(m, (x,))
    assert not [w for w in ws if "nondeterministic" in str(w.message)]
    assert t.code == (
        "def forward(self,\n"
        "    x: Tensor) -> Tensor:\n"
        "  d = self.d\n"
        "  l = self.l\n"
        "  _0 = torch.add((d).forward((l).forward(x, ), ), torch.relu(x))\n"
        "  return _0\n")
    assert t.d.code == (
        "def forward(self,\n"
        "    argument_1: Tensor) -> Tensor:\n"
        "  return torch.dropout(argument_1, 0.5, False)\n")
    y = torch.randn(5, 4)
    ref = _np_linear(m.l, N(y)) + np.maximum(N(y), 0)
    for _ in range(3):      # (profiling run, then the optimized graph)
        np.testing.assert_allclose(N(t(y)), ref, rtol=1e-5, atol=1e-6)


def test_functional_dropout_not_training_recorded():
    def f(x):
        return nn.functional.dropout(x * 2, 0.3, training=False) + 1
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error")
        t = torch.jit.trace(f, (torch.ones(2),))
    nodes = [n for n in t.graph.nodes() if n.kind() == "aten::dropout"]
    assert len(nodes) == 1
    assert [i.toIValue() for i in list(nodes[0].inputs())[1:]] == [0.3, False]
    np.testing.assert_array_equal(N(t(torch.arange(3.0))), [1.0, 3.0, 5.0])
