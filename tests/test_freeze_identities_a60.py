"""jit.freeze drops `x + 0` / `x - 0` / `x * 1` as torch 2.13's freezing does (a60): its
runOptimization's PeepholeOptimize runs before and after unrolling constant loops, sees
the first unrolled copy's counter (0) and literals but not the later counters (still
`i + 1` nodes until constant propagation), and a rewrite leaves x and the result stale
(`(x + 0) * 1 - 0` keeps the mul). gpujit kept every `+ 0` (the first iteration's of
`y = y + i` too). Expected node lists are torch 2.13's frozen graphs."""
import numpy as np

import gpujit as torch


class Chain(torch.nn.Module):
    def forward(self, x):
        return (x + 0) * 1 - 0


class AddCounter(torch.nn.Module):
    def forward(self, x):
        y = x
        for i in range(3):
            y = y + i
        return y


class MulPlusZero(torch.nn.Module):
    def forward(self, x):
        y = x
        for i in range(3):
            y = y * (i + 1) + 0
        return y


class MulCounter(torch.nn.Module):
    def forward(self, x):
        y = x * 2
        for i in range(3):
            y = y * i + 0
        return y


def _ops(graph):
    """(kind, the constant operands) of each op node of the frozen forward."""
    out = []
    for n in graph.nodes:
        if n.kind == "prim::Constant":
            continue
        out.append((n.kind, [v.node.attrs.get("value") for v in n.inputs
                             if v.node.kind == "prim::Constant"]))
    return out


# torch 2.13's torch.jit.freeze(torch.jit.script(M()).eval()).graph, by node
EXPECTED = {
    Chain: [("aten::mul", [1])],
    AddCounter: [("aten::add", [1, 1]), ("aten::add", [2, 1])],
    MulPlusZero: [("aten::mul", [1]), ("aten::mul", [2]), ("aten::mul", [3])],
    MulCounter: [("aten::mul", [2]), ("aten::mul", [0]), ("aten::mul", [1]),
                 ("aten::mul", [2])],
}


def test_frozen_identities_as_torch():
    x = torch.tensor([1.0, -2.0, 3.0])
    for cls, ops in EXPECTED.items():
        m = cls()
        f = torch.jit.freeze(torch.jit.script(m).eval())
        assert _ops(f.graph) == ops, cls.__name__
        for _ in range(2):
            np.testing.assert_allclose(f(x).numpy(), m(x).numpy())


def test_a_written_or_returned_input_keeps_its_op():
    class Returned(torch.nn.Module):
        def forward(self, x):
            return x + 0, x        # (both reach the caller: the add stays, as torch's)

    f = torch.jit.freeze(torch.jit.script(Returned()).eval())
    assert [k for k, _ in _ops(f.graph)] == ["aten::add", "prim::TupleConstruct"]
    x = torch.ones(2)
    a, b = f(x)
    assert a is not b
