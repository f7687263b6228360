"""The trace API surface against torch.jit.trace (torch 2.13): example_kwarg_inputs and how
the traced function is called, check_trace / check_inputs / check_tolerance and
TracingCheckError, trace_module with several methods, gpujit.tensor inside a trace,
unpacking a tensor, _force_outplace. NumPy is the reference; torch is not needed.

Where gpujit deliberately differs from PyTorch's tracer:
- the graph of a function traced with example_kwarg_inputs keeps its inputs' shapes
  (`Float(3, ...)`), as a positional trace does (PyTorch's prints plain `Tensor`);
- example_inputs and example_kwarg_inputs given together are both used, the positional
  ones first (PyTorch uses only the keyword ones for a function, only the positional ones
  for a module, and the call then fails for want of an argument);
- a keyword-only or **kwargs parameter named in example_kwarg_inputs is refused with a
  NameError when tracing (PyTorch traces it as a constant and then fails its own check,
  "expected at most 1 argument(s) but received 2");
- check_inputs given as tuples with example_kwarg_inputs are taken as positional inputs
  (PyTorch's pybind call refuses them with a TypeError);
- a submodule of a traced module can be called (`traced.sub(x)`, its graph is that of its
  first call; PyTorch raises "Trace submodules cannot be called.");
- scripted functions and submodules called in a trace are inlined (their control flow
  kept), where PyTorch's graph shows a prim::CallFunction / CallMethod;
- torch.tensor(x.size(0)) warns the TracerWarning but not PyTorch's UserWarning about
  copy-constructing from a tensor (gpujit's size is an int, not a 0-dim tensor);
- `x.new_tensor(data)` and `gpujit.FloatTensor(data)` in a trace warn gpujit's
  "recorded as a constant" TracerWarning where the tensor is used (PyTorch is silent).
"""
import io
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.jit import TracerWarning, TracingCheckError


def _warns(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(x.message) for x in w if issubclass(x.category, TracerWarning)]


def _in_types(g):
    return [str(v.type) for v in g.inputs]


A3 = np.arange(3, dtype=np.float32) + 1
B1 = np.array([4.0], dtype=np.float32)


def f_xy(x, y):
    return x + 2 * y


# ------------------------------------------------------------------ example_kwarg_inputs
def test_kwarg_inputs_follow_the_signature_order_not_the_dicts():
    a, b = torch.tensor(A3), torch.tensor(B1)
    t = torch.jit.trace(f_xy, example_kwarg_inputs={"y": b, "x": a})
    assert [v.debug_name for v in t.graph.inputs] == ["x", "y"]
    assert _in_types(t.graph)[0].startswith("Float(3")
    assert _in_types(t.graph)[1].startswith("Float(1")
    want = A3 + 2 * B1
    np.testing.assert_allclose(t(a, b).numpy(), want)
    np.testing.assert_allclose(t(y=b, x=a).numpy(), want)
    np.testing.assert_allclose(t(a, y=b).numpy(), want)


def test_kwarg_inputs_with_positional_inputs_and_defaults():
    def g(x, y=None, z=None):
        return x * z if y is None else x + y
    a, c = torch.tensor(A3), torch.tensor(B1)
    t = torch.jit.trace(g, example_kwarg_inputs={"z": c, "x": a})
    assert [v.debug_name for v in t.graph.inputs] == ["x", "z"]
    np.testing.assert_allclose(t(a, c).numpy(), A3 * B1)
    t2 = torch.jit.trace(g, (a,), example_kwarg_inputs={"z": c})
    assert [v.debug_name for v in t2.graph.inputs] == ["x", "z"]
    np.testing.assert_allclose(t2(a * 2, z=c).numpy(), 2 * A3 * B1)


def test_kwarg_inputs_naming_no_parameter():
    a = torch.tensor(A3)
    with pytest.raises(TypeError, match="f_xy\\(\\) got an unexpected keyword argument 'z'"):
        torch.jit.trace(f_xy, example_kwarg_inputs={"x": a, "z": a})

    def kwo(x, *, y):
        return x * y
    with pytest.raises(NameError, match="'y' is not a positional-or-keyword argument"):
        torch.jit.trace(kwo, example_kwarg_inputs={"x": a, "y": a})


def test_kwarg_inputs_must_be_a_dict():
    a = torch.tensor(A3)
    with pytest.raises(TypeError, match="example_kwarg_inputs should be a dict"):
        torch.jit.trace(f_xy, example_kwarg_inputs=[a, a])

    class M(torch.nn.Module):
        def forward(self, a):
            return a + 1
    with pytest.raises(RuntimeError, match="example_kwarg_inputs should be a dict"):
        torch.jit.trace(M(), example_kwarg_inputs=a)


class _Sub(torch.nn.Module):
    def forward(self, a, b=None):
        return a - b

    def other(self, p, q):
        return p * q


def test_module_kwarg_inputs_and_check_inputs():
    a, b = torch.tensor(A3), torch.tensor(B1)
    m = _Sub()
    tm = torch.jit.trace(m, example_kwarg_inputs={"b": b, "a": a},
                         check_inputs=[{"a": a * 2, "b": b}])
    assert [v.debug_name for v in tm.graph.inputs][1:] == ["a", "b"]
    np.testing.assert_allclose(tm(a, b).numpy(), A3 - B1)
    np.testing.assert_allclose(tm(b=b, a=a).numpy(), A3 - B1)
    # (torch 2.13's message breaks the line after "arguments," and indents)
    with pytest.raises(NameError, match="'c' is not in forward\\(\\) method's arguments,"
                                        "\n {25}valid arguments name are \\[a,b\\]"):
        torch.jit.trace(m, example_kwarg_inputs={"c": a, "a": a})


def test_trace_module_example_inputs_is_kwarg():
    a, b = torch.tensor(A3), torch.tensor(B1)
    tm = torch.jit.trace_module(_Sub(), {"forward": {"b": b, "a": a},
                                         "other": {"q": b, "p": a}},
                                example_inputs_is_kwarg=True,
                                check_inputs=[{"forward": {"a": a, "b": b * 3},
                                               "other": {"p": a, "q": b * 3}}])
    assert [v.debug_name for v in tm.other.graph.inputs][1:] == ["p", "q"]
    np.testing.assert_allclose(tm.other(a, b).numpy(), A3 * B1)
    np.testing.assert_allclose(tm(a, b).numpy(), A3 - B1)


def test_kwarg_traced_module_saves_and_loads():
    a, b = torch.tensor(A3), torch.tensor(B1)
    tm = torch.jit.trace(_Sub(), example_kwarg_inputs={"b": b, "a": a})
    buf = io.BytesIO()
    torch.jit.save(tm, buf)
    buf.seek(0)
    lm = torch.jit.load(buf)
    np.testing.assert_allclose(lm(a, b=b).numpy(), A3 - B1)


# ------------------------------------------------------------------ check_trace
def test_check_raises_when_running_the_trace_fails():
    # int() bakes the size in: the trace's view(12) cannot run on 8 elements
    def f(x):
        return x.view(int(x.shape[0]) * 4)
    with pytest.raises(TracingCheckError) as ei:
        _warns(lambda: torch.jit.trace(f, (torch.ones(3, 4),),
                                       check_inputs=[(torch.ones(2, 4),)]))
    msg = str(ei.value)
    assert msg.startswith("Tracing failed sanity checks!\nencountered an exception while "
                          "running the trace with test inputs.\nException:\n\t")
    assert "shape '[12]' is invalid for input of size 8" in msg
    assert "ERROR: Graphs differed across invocations!" in msg
    assert "First diverging operator:" in msg


def test_check_names_the_first_diverging_operator():
    def cf(x):
        if x.sum() > 0:
            return x + 1
        return x - 1
    with pytest.raises(TracingCheckError) as ei:
        _warns(lambda: torch.jit.trace(cf, (torch.ones(2),),
                                       check_inputs=[(-torch.ones(2),)]))
    msg = str(ei.value)
    i = msg.index("First diverging operator:\n\tNode diff:\n")
    # (session 28) as torch 2.13: the first node that differs is `1`'s constant, which
    # carries its line (`# file:5:0` / `# file:6:0`) as every node the tracer records;
    # (session 44) a tensor constant, the number wrapped as torch's (`value={1}`)
    first, second = msg[i:].splitlines()[2:4]
    assert "prim::Constant[value={1}]()" in first and "prim::Constant[value={1}]()" in second
    assert first.split(":")[-2] != second.split(":")[-2]

    def cf2(x):
        if x.sum() > 0:
            return x.neg()
        return x.abs()
    with pytest.raises(TracingCheckError) as ei:
        _warns(lambda: torch.jit.trace(cf2, (torch.ones(2),),
                                       check_inputs=[(-torch.ones(2),)]))
    msg = str(ei.value)
    i = msg.index("First diverging operator:\n\tNode diff:\n")
    assert "aten::neg" in msg[i:].splitlines()[2] and "aten::abs" in msg[i:].splitlines()[3]


def test_check_output_mismatch_warns_assert_close_words():
    def nd(x):
        return x + torch.rand(3, 4)
    _, ws = _warns(lambda: torch.jit.trace(nd, (torch.ones(3, 4),)))
    assert ws[0].startswith("Trace had nondeterministic nodes.")
    # (the nodes as PyTorch lists them: printed, with their source line)
    assert "Nodes:\n\t%" in ws[0] and "= aten::rand(" in ws[0] and "test_trace_api_s23" in ws[0]
    assert ws[1].startswith("Output nr 1. of the traced function does not match the "
                            "corresponding output of the Python function. Detailed error:\n"
                            "Tensor-likes are not close!\n\nMismatched elements: ")
    assert "(up to 1e-05 allowed)" in ws[1]


def test_check_tolerance_is_relative_atol_stays_the_dtypes():
    # PyTorch compares with rtol=check_tolerance and atol the dtype's default (1e-5
    # for float32): values near zero that differ by ~1e-3 still fail a loose rtol
    torch.manual_seed(0)
    _, ws = _warns(lambda: torch.jit.trace(lambda x: x * 0 + 1e-3 * torch.rand(8),
                                           (torch.ones(8),), check_tolerance=0.1))
    assert any(w.startswith("Output nr 1.") for w in ws)
    _, ws = _warns(lambda: torch.jit.trace(lambda x: x * (1 + 1e-4 * torch.rand(2)),
                                           (torch.ones(2) * 100,), check_tolerance=1e-2))
    assert not any("Output nr" in w for w in ws)


def test_check_inputs_single_tensors_and_tuples():
    t = torch.jit.trace(lambda x: x + 1, (torch.ones(2),),
                        check_inputs=[torch.ones(3), (torch.ones(4),)])
    np.testing.assert_allclose(t(torch.zeros(5)).numpy(), np.ones(5))


# ------------------------------------------------------------------ torch.tensor in a trace
_CONSTRUCTOR = ("torch.tensor results are registered as constants in the trace. You can "
                "safely ignore this warning if you use this function to create tensors out "
                "of constant variables that would be the same every time you call this "
                "function. In any other case, this might cause the trace to be incorrect.")


def test_torch_tensor_warns_pytorchs_text_once():
    def mk(x):
        return x + torch.tensor([1.0, 2.0, 3.0, 4.0])
    t, ws = _warns(lambda: torch.jit.trace(mk, (torch.ones(3, 4),), check_trace=False))
    assert ws == [_CONSTRUCTOR]
    np.testing.assert_allclose(t(torch.zeros(2, 4)).numpy(), np.tile([1, 2, 3, 4], (2, 1)))
    _, ws = _warns(lambda: torch.jit.trace(
        lambda x: x + torch.as_tensor([1.0, 2.0]), (torch.ones(2),), check_trace=False))
    assert ws == [_CONSTRUCTOR.replace("torch.tensor", "torch.as_tensor")]
    _, ws = _warns(lambda: torch.jit.trace(
        lambda x: x + torch.from_numpy(np.ones(2, np.float32)), (torch.ones(2),),
        check_trace=False))
    assert ws == [_CONSTRUCTOR.replace("torch.tensor", "torch.from_numpy")]


@pytest.mark.parametrize("fn, ref, dtype", [
    (lambda x: x + torch.tensor(x.shape[0]), lambda a: a + a.shape[0], "float32"),
    (lambda x: torch.tensor(x.shape[0]) * 1, lambda a: np.int64(a.shape[0]), "int64"),
    (lambda x: x + torch.tensor(x.shape[0] / 2), lambda a: a + a.shape[0] / 2, "float32"),
    (lambda x: torch.tensor(x.size(1), dtype=torch.float64) * 1,
     lambda a: np.float64(a.shape[1]), "float64"),
])
def test_torch_tensor_of_a_traced_size_follows_the_size(fn, ref, dtype):
    t, ws = _warns(lambda: torch.jit.trace(fn, (torch.ones(3, 4),)))
    assert set(ws) == {_CONSTRUCTOR}      # (the trace, then check_trace's second trace)
    for shape in ((5, 2), (3, 4)):
        a = np.zeros(shape, np.float32)
        got = t(torch.tensor(a))
        assert str(got.dtype) == f"gpujit.{dtype}"
        np.testing.assert_allclose(got.numpy(), ref(a))


# ------------------------------------------------------------------ unpacking a tensor
def test_unpacking_a_tensor_rerun_with_another_first_size():
    def unpack(t):
        p, q, r = t
        return p + q * r
    t, ws = _warns(lambda: torch.jit.trace(unpack, (torch.ones(3, 4),)))
    assert ws and ws[0].startswith("Iterating over a tensor might cause the trace")
    np.testing.assert_allclose(t(torch.ones(3, 2)).numpy(), [2.0, 2.0])
    for n in (4, 2, 4):         # (the interpreted first call, then the compiled code)
        with pytest.raises(RuntimeError, match=f"Expected 3 elements in a list but found {n}"):
            t(torch.ones(n, 2))


# ------------------------------------------------------------------ _force_outplace
def _inplace(x, y):
    x.add_(y)
    return x * 2


@pytest.mark.parametrize("outplace", [False, True])
def test_force_outplace(outplace):
    t = torch.jit.trace(_inplace, (torch.ones(2), torch.ones(2)), _force_outplace=outplace)
    kinds = [n.kind for n in t.graph.nodes()]
    assert ("aten::add" in kinds, "aten::add_" in kinds) == (outplace, not outplace)
    a = torch.zeros(2)
    np.testing.assert_allclose(t(a, torch.ones(2)).numpy(), [2.0, 2.0])
    np.testing.assert_allclose(a.numpy(), [0.0, 0.0] if outplace else [1.0, 1.0])


# ------------------------------------------------------------------ trace_module
def test_trace_module_missing_method():
    with pytest.raises(AttributeError, match="'_Sub' object has no attribute 'nosuch'"):
        torch.jit.trace_module(_Sub(), {"nosuch": (torch.ones(2),)})


def test_module_with_forward_hook_checks_against_its_call():
    class H(torch.nn.Module):
        def forward(self, x):
            return x * 3
    h = H()
    h.register_forward_hook(lambda m, i, o: o + 1)
    h.register_forward_pre_hook(lambda m, i: (i[0] * 2,))
    t, ws = _warns(lambda: torch.jit.trace(h, (torch.ones(2),)))
    assert ws == []             # (the check ran forward alone, without the hooks)
    np.testing.assert_allclose(t(torch.ones(2)).numpy(), [7.0, 7.0])


# ------------------------------------------------------------------ is_tracing
def _is_tracing_branch(x):
    if torch.jit.is_tracing():
        return x + 100
    return x


def test_is_tracing_is_false_in_scripted_code_called_from_a_trace():
    sf = torch.jit.script(_is_tracing_branch)

    def f(x):
        return sf(x) + (1 if torch.jit.is_tracing() else 2)
    t, ws = _warns(lambda: torch.jit.trace(f, (torch.zeros(2),)))
    assert ws[0].startswith("Output nr 1.")   # (eager f, not traced, adds 2, as in torch)
    np.testing.assert_allclose(t(torch.zeros(2)).numpy(), [1.0, 1.0])
    np.testing.assert_allclose(sf(torch.zeros(2)).numpy(), [0.0, 0.0])
    assert not torch.jit.is_tracing()
