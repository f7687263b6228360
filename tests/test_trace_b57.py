"""Session 57 (b57): tracing as torch 2.13's torch.jit.trace does it.

- torch.tensor(t) / t.new_tensor(u) of a tensor the trace follows records the copy
  (`aten::detach`, `aten::to(..., copy=True)`, `aten::detach`): the traced function copies
  its new inputs (it baked the traced call's values in). torch.as_tensor(t) warns as
  torch's tracer does; new_tensor of Python data is recorded as torch.tensor's, unwarned.
- trace_module's check of each method traces every method of the check inputs again
  (torch's _check_trace is a trace_module of the whole dict): a BatchNorm another method
  calls counts those runs too.
"""
import warnings

import numpy as np
import pytest

import gpujit
from gpujit.jit import TracerWarning

_CONST = "results are registered as constants in the trace"
_COPY = "To copy construct from a tensor"


def _trace(fn, x):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = gpujit.jit.trace(fn, x)
    return t, [(c.category, str(c.message)) for c in w]


def _x(n=3, m=4):
    return gpujit.arange(float(n * m)).reshape(n, m)


def test_torch_tensor_of_an_input_follows_new_inputs():
    t, ws = _trace(lambda x: gpujit.tensor(x) * 2, gpujit.ones(3, 4))
    np.testing.assert_array_equal(t(_x()).numpy(), np.arange(12.).reshape(3, 4) * 2)
    # torch 2.13: the tracer's warning then the copy's, for the trace and its check
    # retrace, then the copy's once more for the check's eager run
    kinds = [(c, _CONST in m, _COPY in m) for c, m in ws]
    assert kinds == [(TracerWarning, True, False), (UserWarning, False, True)] * 2 + [
        (UserWarning, False, True)]
    code = t.code
    assert 'torch.to(torch.detach(x), torch.device("cpu"), 6, False, True)' in code
    assert "torch.detach(_0)" in code


def test_torch_tensor_of_an_input_dtype_and_requires_grad():
    t, _ = _trace(lambda x: gpujit.tensor(x, dtype=gpujit.float64, requires_grad=True) * 2,
                  gpujit.ones(3, 4))
    r = t(_x())
    assert r.dtype is gpujit.float64
    np.testing.assert_array_equal(r.numpy(), np.arange(12.).reshape(3, 4) * 2)
    assert "torch.device(\"cpu\"), 7, False, True)" in t.code


def test_new_tensor_of_a_view_of_an_input():
    t, ws = _trace(lambda x: x.new_tensor(x[0]) + x, gpujit.ones(3, 4))
    a = np.arange(12.).reshape(3, 4)
    np.testing.assert_array_equal(t(_x()).numpy(), a[0] + a)
    # no TracerWarning (torch's new_tensor has none), its own copy warning three times
    assert [c for c, _ in ws] == [UserWarning] * 3
    assert all("rather than tensor.new_tensor(sourceTensor)" in m for _, m in ws)
    assert "torch.detach(torch.select(x, 0, 0))" in t.code


def test_new_tensor_of_python_data_is_recorded_unwarned():
    t, ws = _trace(lambda x: x.new_tensor([1, 2]) + x[:, :2], gpujit.ones(3, 4))
    assert ws == []
    np.testing.assert_array_equal(t(_x()).numpy(), np.arange(12.).reshape(3, 4)[:, :2]
                                  + [1, 2])
    g = str(t.graph)
    assert "aten::to(" in g and "aten::detach(" in g
    assert t(_x()).dtype is gpujit.float32


def test_new_tensor_eager_warns_and_keeps_self_dtype():
    x = gpujit.ones(2)
    with pytest.warns(UserWarning, match=r"rather than tensor\.new_tensor\(sourceTensor\)"):
        r = x.new_tensor(gpujit.tensor([1, 2]))
    assert r.dtype is gpujit.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.new_tensor([1, 2]).dtype is gpujit.float32


def test_as_tensor_of_an_input_warns_and_follows():
    t, ws = _trace(lambda x: gpujit.as_tensor(x, dtype=gpujit.float64) * 2,
                   gpujit.ones(3, 4))
    assert [(c, _CONST in m and m.startswith("torch.as_tensor")) for c, m in ws] == [
        (TracerWarning, True)] * 2
    np.testing.assert_array_equal(t(_x()).numpy(), np.arange(12.).reshape(3, 4) * 2)


def test_torch_tensor_of_a_parameter_in_a_traced_module():
    class M(gpujit.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = gpujit.nn.Parameter(gpujit.ones(4))

        def forward(self, x):
            return x * gpujit.tensor(self.w)

    m = M()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = gpujit.jit.trace(m, gpujit.ones(3, 4))
    with gpujit.no_grad():
        m.w.mul_(3)
    # the copy reads the parameter at each call (torch's `detach(self.w)`)
    np.testing.assert_array_equal(tm(_x()).numpy(), np.arange(12.).reshape(3, 4) * 3)


def test_trace_module_check_retraces_every_method():
    calls = []

    class C(gpujit.nn.Module):
        def forward(self, x):
            calls.append("C")
            return x + 1

    class M(gpujit.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = C()

        def forward(self, x):
            calls.append("f")
            return self.c(x)

        def other(self, x, y):
            calls.append("o")
            return self.c(x) * y

    x = gpujit.ones(2)
    gpujit.jit.trace_module(M(), {"forward": (x,), "other": (x, x)})
    # torch 2.13: each method traced, and its check traces forward and other again
    # before the eager run: 4 runs of each method, 8 of the shared submodule
    assert sorted(calls) == sorted(["f", "C"] * 4 + ["o", "C"] * 4)
    assert calls.count("f") == 4 and calls.count("o") == 4


def test_trace_module_batchnorm_counts_every_check_run():
    class M(gpujit.nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = gpujit.nn.BatchNorm1d(2)

        def forward(self, x):
            return self.bn(x)

        def other(self, x):
            return x * 2

    m = M()
    x = gpujit.arange(8.).reshape(4, 2)
    gpujit.jit.trace_module(m, {"forward": (x,), "other": (x,)})
    # torch 2.13: 6 (trace, retrace, repeated trace, traced run, eager run; forward's
    # retrace in other's check)
    assert int(m.bn.num_batches_tracked) == 6
    m2 = M()
    gpujit.jit.trace_module(m2, {"forward": (x,)})
    assert int(m2.bn.num_batches_tracked) == 5


def test_traced_list_unpack_failure_is_torchscripts_report():
    def d(x):
        a, b = x.unbind(0)
        return a * b

    t = gpujit.jit.trace(d, gpujit.ones(2, 3))
    with pytest.raises(RuntimeError) as ei:
        t(gpujit.ones(3, 3))
    # torch 2.13's words: the report with no frame (the unpack has no recorded stack)
    assert str(ei.value) == (
        "The following operation failed in the TorchScript interpreter.\n"
        "Traceback of TorchScript (most recent call last):\n"
        "RuntimeError: Expected 2 elements in a list but found 3\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TracerWarning)
        t2 = gpujit.jit.trace(lambda x: gpujit.stack([r * 2 for r in x]), gpujit.ones(3, 4))
    with pytest.raises(RuntimeError, match=r"(?s)^The following operation failed.*"
                       r"RuntimeError: Expected 3 elements in a list but found 5\n$"):
        t2(gpujit.ones(5, 4))


def test_kwarg_input_not_a_parameter_names_forward_as_torch():
    class A(gpujit.nn.Module):
        def forward(self, x, y=None):
            return x

        def other(self, x, z=None):
            return x * 2

    x = gpujit.ones(2)
    want = ("'q' is not in forward() method's arguments,\n" + " " * 25
            + "valid arguments name are [x,z]")
    with pytest.raises(NameError) as ei:
        gpujit.jit.trace_module(A(), {"other": {"x": x, "q": x}},
                                example_inputs_is_kwarg=True)
    assert str(ei.value) == want
    with pytest.raises(NameError) as ei:
        gpujit.jit.trace(A(), example_kwarg_inputs={"x": x, "q": x})
    assert str(ei.value) == want.replace("[x,z]", "[x,y]")


@pytest.mark.parametrize("strict", [True, False])
def test_output_typed_first_as_torch(strict):
    x = gpujit.ones(2)
    cases = [
        (lambda x: (x, []), "Tracer cannot infer type of (tensor([1., 1.]), [])\n"
                            ":List trace inputs must have elements"),
        (lambda x: [x, []], "Tracer cannot infer type of [tensor([1., 1.]), []]\n"
                            ":Could not infer type of list element: List trace inputs must "
                            "have elements"),
        (lambda x: {"a": []}, "Tracer cannot infer type of {'a': []}\n"
                              ":List trace inputs must have elements"),
        (lambda x: [], "Tracer cannot infer type of []\n:List trace inputs must have elements"),
        (lambda x: {}, "Tracer cannot infer type of {}\n:Dictionary inputs must have entries"),
        (lambda x: [x, (x,)], "Tracer cannot infer type of [tensor([1., 1.]), "
                              "(tensor([1., 1.]),)]\n:List inputs to traced functions must "
                              "have consistent element type. Found Tensor and Tuple[Tensor]"),
        # (the mixed dict is typed before strict refuses a dict)
        (lambda x: {"a": x, "b": [x]}, "Tracer cannot infer type of {'a': tensor([1., 1.]), "
                                       "'b': [tensor([1., 1.])]}\n:Dictionary inputs to traced "
                                       "functions must have consistent type. Found Tensor and "
                                       "List[Tensor]"),
        (lambda x: (x, None), "Only tensors, lists, tuples of tensors, or dictionary of "
                              "tensors can be output from traced functions"),
        (lambda x: [None], "Only tensors, lists, tuples of tensors, or dictionary of "
                           "tensors can be output from traced functions"),
    ]
    for f, want in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError) as ei:
                gpujit.jit.trace(f, x, strict=strict)
        assert str(ei.value) == want


@pytest.mark.parametrize("strict", [True, False])
def test_list_output_holding_a_traced_size(strict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = gpujit.jit.trace(lambda x: [x, x.size(0)], gpujit.ones(2), strict=strict)
        t2 = gpujit.jit.trace(lambda x: (x, [x.size(0)]), gpujit.ones(2), strict=strict)
    a, n = t(gpujit.ones(3))
    assert n.dtype is gpujit.int64 and n.shape == () and int(n) == 3
    assert int(t2(gpujit.ones(5))[1][0]) == 5


def test_submodule_tuple_result_values_named_by_their_use():
    class Block(gpujit.nn.Module):
        def forward(self, x):
            return x * 2 + 1

    class Two(gpujit.nn.Module):
        def forward(self, x):
            return x.sin(), x.cos()

    class M(gpujit.nn.Module):
        def __init__(self):
            super().__init__()
            self.two, self.b2, self.block = Two(), Block(), Block()

        def forward(self, h):
            a, b = self.two(h)
            return self.b2(a) + self.block(b)

    t = gpujit.jit.trace(M(), gpujit.ones(2, 3))
    # torch 2.13: the tuple's tensors are named after Block.forward's parameter
    assert t.two.code == ("def forward(self,\n    h: Tensor) -> Tuple[Tensor, Tensor]:\n"
                          "  x = torch.sin(h)\n  x0 = torch.cos(h)\n  return (x, x0)\n")


def test_get_trace_graph_of_a_function_and_a_module():
    assert gpujit.jit._get_trace_graph is gpujit.jit._trace._get_trace_graph
    g, outs = gpujit.jit._get_trace_graph(lambda x, y: (x * y, x + 1),
                                          (gpujit.ones(2), gpujit.full((2,), 3.)))
    assert [v.debug_name for v in g.inputs] == ["0", "1"]
    assert isinstance(outs, tuple)
    np.testing.assert_array_equal(outs[0].numpy(), [3, 3])
    assert "aten::mul(%0, %1)" in str(g)
    m = gpujit.nn.Sequential(gpujit.nn.Linear(2, 2), gpujit.nn.ReLU())
    g, outs = gpujit.jit._get_trace_graph(m, (gpujit.ones(1, 2),))
    # torch 2.13's: the argument, then the Linear's weight and bias as inputs; no self
    text = str(g)
    assert text.startswith(
        "graph(%0 : Float(1, 2, strides=[2, 1], requires_grad=0, device=cpu),\n"
        "      %1 : Float(2, 2, strides=[2, 1], requires_grad=1, device=cpu),\n"
        "      %2 : Float(2, strides=[1], requires_grad=1, device=cpu)):\n")
    assert "aten::linear(%0, %1, %2)" in text and "GetAttr" not in text
    assert "scope:" not in text
    assert outs.shape == (1, 2)


def test_traced_module_missing_attribute_words():
    class A(gpujit.nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = gpujit.nn.Linear(2, 2)

        def forward(self, x):
            return self.sub(x)

    ta = gpujit.jit.trace(A(), gpujit.ones(1, 2))
    for o in (ta, ta.sub):      # (torch 2.13 names the C++ module's class)
        with pytest.raises(AttributeError) as ei:
            o.nope
        assert str(ei.value) == "'RecursiveScriptModule' object has no attribute 'nope'"
    assert not hasattr(ta.sub, "encode")


def test_check_input_of_another_type_refused_with_torchs_words():
    def f(x, y):
        return x * y

    with pytest.raises(ValueError) as ei:
        gpujit.jit.trace(f, (gpujit.ones(2), gpujit.ones(2)),
                         check_inputs=[(gpujit.ones(3), 2)])
    assert str(ei.value) == ("Auto nesting doesn't know how to process an input object of "
                             "type int. Accepted types: tensors, or lists/tuples of them")


def test_traced_self_names_as_torch():
    nn = gpujit.nn

    class B(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.ReLU(), nn.Tanh()

        def forward(self, x):
            return self.b(self.a(x))

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.l, self.blk, self.t = nn.Linear(2, 2), B(), nn.Tanh()
            self.s = gpujit.jit.script(nn.ReLU())

        def forward(self, x):
            return self.t(self.blk(self.l(x))) + self.blk(self.s(x)) + self.l(x)

    t = gpujit.jit.trace(M(), gpujit.ones(1, 2))
    # torch 2.13: every call's `self` displaces the one before, in the order the calls
    # began (a compiled submodule's call makes none); the last keeps `self`
    heads = {k: str(g).split(" :", 1)[0] for k, g in [
        ("top", t.graph), ("l", t.l.graph), ("blk", t.blk.graph), ("a", t.blk.a.graph),
        ("b", t.blk.b.graph), ("t", t.t.graph), ("blk1", t.blk.forward1.graph),
        ("a1", t.blk.a.forward1.graph), ("b1", t.blk.b.forward1.graph),
        ("l1", t.l.forward1.graph)]}
    assert heads == {"top": "graph(%self.1", "l": "graph(%self.3", "blk": "graph(%self.5",
                     "a": "graph(%self.7", "b": "graph(%self.9", "t": "graph(%self.11",
                     "blk1": "graph(%self.13", "a1": "graph(%self.15",
                     "b1": "graph(%self.17", "l1": "graph(%self"}
    assert t.code.startswith("def forward(self,\n")
    plain = gpujit.jit.trace(nn.Linear(2, 2), gpujit.ones(1, 2))
    assert str(plain.graph).startswith("graph(%self : ")
