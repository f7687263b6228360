"""Session 32 (f32): traced modules keep submodule calls as method calls, as torch 2.13
(expected text checked against torch 2.13's output for the same programs)."""
import io

import numpy as np

import gpujit as torch


class MyCell(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


def _traced():
    torch.manual_seed(0)
    m = MyCell()
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    return m, torch.jit.trace(m, (x, h)), x, h


def test_submodule_call_is_a_method_call():
    m, t, x, h = _traced()
    g = str(t.graph)
    assert 'prim::CallMethod[name="forward"](%linear, %x)' in g
    assert "aten::linear" not in g
    # torch 2.13's code for the same module
    assert t.code == ("def forward(self,\n    x: Tensor,\n    h: Tensor) -> Tuple[Tensor, Tensor]:\n"
                      "  linear = self.linear\n"
                      "  _0 = torch.tanh(torch.add((linear).forward(x, ), h))\n"
                      "  return (_0, _0)\n")
    assert "aten::linear" in str(t.linear.graph)
    assert "return torch.linear(" in t.linear.code
    inl = str(t.inlined_graph)
    assert "prim::CallMethod" not in inl and "aten::linear" in inl
    a, b = t(x, h)
    e, _ = m(x, h)
    np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=1e-6)


def test_fusion_still_sees_the_inlined_call():
    m, t, x, h = _traced()
    with torch.no_grad():
        t(x, h)
        t(x, h)
        g = str(t.graph_for(x, h))
    assert "prim::CallMethod" not in g


def test_save_load_round_trip_keeps_the_call():
    m, t, x, h = _traced()
    buf = io.BytesIO()
    torch.jit.save(t, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    assert "(linear).forward(x, )" in loaded.code
    np.testing.assert_allclose(loaded(x, h)[0].detach().numpy(),
                               m(x, h)[0].detach().numpy(), rtol=1e-6)


def test_second_call_is_forward1():
    class Top(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(x) + self.lin(x * 2)

    torch.manual_seed(0)
    m = Top()
    x = torch.rand(2, 3)
    t = torch.jit.trace(m, (x,))
    assert "(lin).forward(x, )" in t.code and "(lin).forward1(" in t.code
    np.testing.assert_allclose(t(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


def test_call_using_a_caller_value_stays_inline():
    class Sub(torch.nn.Module):
        def forward(self, x):
            return x * self.scale

    class Top(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = Sub()

        def forward(self, x):
            self.sub.scale = x.sum()     # a traced value the call does not get
            return self.sub(x)

    m = Top()
    x = torch.rand(2, 3)
    t = torch.jit.trace(m, (x,), check_trace=False)
    assert "prim::CallMethod" not in str(t.graph)
    y = torch.rand(2, 3)
    np.testing.assert_allclose(t(y).numpy(), m(y).numpy(), rtol=1e-6)


def test_script_if_tracing_bakes_a_size_argument():
    # torch 2.13 passes the traced size as a Python int: a constant in the trace
    @torch.jit.script_if_tracing
    def helper(x, n: int):
        for _ in range(n):
            x = x + 1
        return x

    def f(x):
        return helper(x, x.shape[0])

    t = torch.jit.trace(f, (torch.zeros(2),))
    np.testing.assert_array_equal(t(torch.zeros(3)).numpy(), [2.0, 2.0, 2.0])
