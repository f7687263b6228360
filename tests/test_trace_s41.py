"""Tracing against torch.jit.trace 2.13 (session 41, c41).

Finds, minimised, with torch 2.13's behaviour:

1. squeeze's three overloads: torch 2.13 has aten::squeeze(Tensor self),
   squeeze.dim(Tensor self, int dim) and squeeze.dims(Tensor self, int[] dim) (and so
   squeeze_ / squeeze_copy), so a trace or a script of `x.squeeze(1)` records
   `aten::squeeze(%x, %1)` with an int (`.code`: `torch.squeeze(x, 1)`) and `x.squeeze()`
   `aten::squeeze(%x)`. gpujit had one merged `squeeze.dims(Tensor self, int[]? dim=None)`
   and recorded `squeeze(%x, [1])` / `squeeze(%x, None)` (`torch.squeeze(x, [1])` in the
   scripted code); `x.squeeze(None)` is torch's TypeError.
2. Writing a Python number through an index (`y[0] = 5`, `y[1:] = 2.5`, `y[mask] = 1`):
   torch makes the number a 0-dim tensor of y's dtype outside the dispatcher (a tensor
   constant in the trace, `CONSTANTS.c0`, unwarned) and writes it with copy_ where the
   sizes agree (`torch.copy_(torch.select(y, 0, 0), CONSTANTS.c0)`), else fill_(Tensor)
   or index_put_; gpujit recorded `fill_(view, 5)` (Scalar) and, for an advanced index,
   `torch.full([], 1, dtype=6, ...)`. A list index (`x[[0, 1]]`) is torch's
   indexing_tensor_from_data, recorded as the data then `aten::to(c, device, 4)`
   (`torch.to(CONSTANTS.c0, torch.device("cpu"), 4)`); gpujit recorded the constant
   alone. A value view's sizes (`y[0:2] = ones(1, 2)`) are numbers: `torch.view(v, [2])`.
3. `.code`'s tensor constants: torch 2.13 writes every tensor constant, 0-dim ones too,
   as `CONSTANTS.c<k>`, one entry for equal tensors of one dtype and device
   (getOrAddConstant); gpujit wrote a 0-dim one as `torch.tensor(5.)` and gave each tensor
   object its own entry.
4. torch.jit.load of a saved function (scripted or traced): torch 2.13 saves it as the
   `forward` of a `__torch__.PlaceholderModule` (ScriptFunction.save's
   addFunctionToModule) and loads a RecursiveScriptModule (`.code` `def forward(self,
   a: Tensor, ...`, `original_name` PlaceholderModule); gpujit loaded a ScriptFunction.
   (torch's loaded forward also loses the function's defaults, "forward() is missing
   value for argument 'n'"; gpujit keeps them.)
5. torch.arange records the overload of the bounds given: `aten::arange(end, ...)`,
   `arange.start(start, end, ...)`, `arange.start_step` only with a step (1 too); gpujit
   recorded start_step always (`torch.arange(0, 2, 1, ...)` for arange(2)) and took
   `arange(5, step=2)` (torch's TypeError) as arange(0, 5, 2).
6. `x.split(x.size(0) // 2)` in a trace: torch's Tensor.split makes the traced size an
   int, so the trace holds `torch.split(x, 2)` and replays it for other shapes (a
   two-way unpack of three pieces fails); gpujit kept the size traced and split a [6, 3]
   input in halves of 3.
7. A tensor made from a NumPy array in a trace: torch 2.13 records its constant through
   `aten::lift_fresh` (`torch.add(x, torch.lift_fresh(CONSTANTS.c0))` for from_numpy;
   `torch.to(torch.lift_fresh(c), device, 6)` for as_tensor; torch.tensor's aten::to
   copies, `..., 6, False, True)`, then detach); gpujit recorded the constant alone (and
   from_numpy's bare).
8. torch.randint without a dtype: torch's binding passes its default long, so a trace
   records `dtype=4`; gpujit recorded None.
"""
import io
import warnings

import numpy as np
import pytest

import gpujit as torch


def _torch():
    return pytest.importorskip("torch")


def _quiet_trace(tr, fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tr.jit.trace(fn, *args, **kw)


def _node_inputs(graph, kind):
    """For each `kind` node of graph (gpujit's or torch's), its inputs' types, a tensor's
    as "Tensor" (str() of a type is its annotation in torch, `List[int]`, and its IR text
    in gpujit, `int[]`)."""
    out = []
    for n in graph.nodes():
        if n.kind() == kind:
            types = [str(v.type()) for v in n.inputs()]
            out.append(["Tensor" if "(" in t or t == "Tensor" else
                        {"List[int]": "int[]"}.get(t, t) for t in types])
    return out


# ------------------------------------------------------------------ 1. squeeze overloads
_SQUEEZES = [
    (lambda x: x.squeeze(), "torch.squeeze(x)", ["Tensor"], (3,)),
    (lambda x: x.squeeze(1), "torch.squeeze(x, 1)", ["Tensor", "int"], (3, 1)),
    (lambda x: torch.squeeze(x, dim=-1), "torch.squeeze(x, -1)", ["Tensor", "int"], (3, 1)),
    (lambda x: x.squeeze((1, 2)), "torch.squeeze(x, [1, 2])", ["Tensor", "int[]"], (3,)),
]


@pytest.mark.parametrize("i", range(len(_SQUEEZES)))
def test_traced_squeeze_records_torchs_overload(i):
    fn, code, types, shape = _SQUEEZES[i]
    t = _quiet_trace(torch, fn, torch.zeros(3, 1, 1))
    assert t.code.strip().splitlines()[-1] == "  return " + code
    (ins,) = _node_inputs(t.graph, "aten::squeeze")
    assert ins == types
    assert tuple(t(torch.zeros(5, 1, 1)).shape) == (5,) + shape[1:]


def test_traced_squeeze_graph_as_torchs():
    tt = _torch()
    for text in ("x.squeeze()", "x.squeeze(1)", "x.squeeze((1, 2))"):
        got = _quiet_trace(torch, eval("lambda x: " + text), torch.zeros(3, 1, 1))
        want = _quiet_trace(tt, eval("lambda x: " + text), tt.zeros(3, 1, 1))
        assert _node_inputs(got.graph, "aten::squeeze") == _node_inputs(want.graph,
                                                                         "aten::squeeze")
        assert got.code == want.code


def test_scripted_squeeze_overloads():
    @torch.jit.script
    def f(x, d: int):
        return x.squeeze(d) + x.squeeze() + torch.squeeze(x, [0])

    code = f.code
    assert "torch.squeeze(x, d)" in code and "torch.squeeze(x))" in code
    assert "torch.squeeze(x, [0])" in code
    np.testing.assert_array_equal(f(torch.ones(1, 1), 1).numpy(), [3.0])


@pytest.mark.parametrize("args,name,shape", [
    ((), "SqueezeBackward0", (3,)), ((1,), "SqueezeBackward1", (3, 1)),
    (([1, 2],), "SqueezeBackward2", (3,))])
def test_squeeze_overloads_eager(args, name, shape):
    x = torch.ones(3, 1, 1, requires_grad=True)
    r = x.squeeze(*args)
    assert tuple(r.shape) == shape and r.grad_fn.name() == name
    r.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 1, 1)))
    y = x.clone()
    y.squeeze_(*args)
    assert tuple(y.shape) == shape
    assert y.grad_fn.name() == "SqueezeBackward" + str(3 + int(name[-1]))
    assert tuple(torch.squeeze_copy(x, *args).shape) == shape


def test_squeeze_none_dim_is_a_type_error():
    x = torch.ones(3, 1)
    with pytest.raises(TypeError, match=r"squeeze\(\) received an invalid combination"):
        x.squeeze(None)


# ------------------------------------------------------------------ 2. writes of numbers
def _writes(y_src):
    def f(x):
        y = x.clone()
        y[0] = 5
        y[1:] = 2.5
        y[x > 0] = 1
        y[[0, 1]] = 3
        y[0:2] = y_src(2)
        return y
    return f


def test_setitem_of_numbers_traces_as_torchs():
    f = _writes(lambda n: torch.ones(1, n))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = torch.jit.trace(f, torch.tensor([1.0, -2.0, 3.0]))
    assert not [w for w in caught if "constant" in str(w.message)]
    body = [ln.strip() for ln in t.code.splitlines()[1:] if ln.strip()]
    assert body == [
        "y = torch.clone(x)",
        "_0 = torch.copy_(torch.select(y, 0, 0), CONSTANTS.c0)",
        "_1 = torch.slice(y, 0, 1, 9223372036854775807)",
        "_2 = torch.fill_(_1, CONSTANTS.c1)",
        "_3 = annotate(List[Optional[Tensor]], [torch.gt(x, 0)])",
        "y0 = torch.index_put_(y, _3, CONSTANTS.c2)",
        '_4 = torch.to(CONSTANTS.c3, torch.device("cpu"), 4)',
        "_5 = annotate(List[Optional[Tensor]], [_4])",
        "y1 = torch.index_put_(y0, _5, CONSTANTS.c4)",
        "_6 = torch.ones([1, 2], dtype=None, layout=None, device=torch.device(\"cpu\"), "
        "pin_memory=False)",
        "_7 = torch.copy_(torch.slice(y1, 0, 0, 2), torch.view(_6, [2]))",
        "return y1"]
    consts = [n for n in t.graph.nodes() if n.kind() == "prim::Constant"
              and str(n.output().type()).startswith(("Float", "Long"))]
    assert [str(n.output().type()) for n in consts] == [
        "Float(requires_grad=0, device=cpu)"] * 3 + [
        "Long(2, strides=[1], requires_grad=0, device=cpu)",
        "Float(requires_grad=0, device=cpu)"]
    out = t(torch.tensor([-1.0, 4.0, 2.0, 7.0]))
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 1.0, 1.0])
    out = t(torch.tensor([-1.0, -4.0, -2.0]))
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 2.5])


def test_setitem_of_numbers_code_as_torchs():
    tt = _torch()
    got = _quiet_trace(torch, _writes(lambda n: torch.ones(1, n)), torch.tensor([1.0, -2.0, 3.0]))
    want = _quiet_trace(tt, _writes(lambda n: tt.ones(1, n)), tt.tensor([1.0, -2.0, 3.0]))
    assert got.code == want.code
    kinds = lambda g: [n.kind() for n in g.nodes()]   # noqa: E731
    assert kinds(got.graph) == kinds(want.graph)


def test_list_index_read_traces_as_torchs():
    def f(x):
        return x[[0, 2]] * 2

    t = _quiet_trace(torch, f, torch.tensor([1.0, 2.0, 3.0]))
    to = [n for n in t.graph.nodes() if n.kind() == "aten::to"]
    assert len(to) == 1 and next(to[0].inputs()).node().kind() == "prim::Constant"
    assert '_0 = torch.to(CONSTANTS.c0, torch.device("cpu"), 4)' in t.code
    np.testing.assert_array_equal(t(torch.tensor([5.0, 6.0, 7.0])).numpy(), [10.0, 14.0])


@pytest.mark.parametrize("dtype,value,want", [
    ("uint8", -1, 255), ("int32", 1.7, 1), ("int32", -1.7, -1), ("float16", 1e10, np.inf),
    ("bool", 2, True), ("int64", 2.5, 2)])
@pytest.mark.parametrize("index", [0, slice(1, None), [1], "mask"])
def test_setitem_of_a_number_converts_as_torch(dtype, value, want, index):
    y = torch.zeros(3, dtype=getattr(torch, dtype))
    idx = torch.tensor([True, False, True]) if index == "mask" else index
    y[idx] = value
    expect = np.zeros(3, dtype=np.dtype(dtype if dtype != "bool" else np.bool_))
    expect[np.array([True, False, True]) if index == "mask" else index] = want
    np.testing.assert_array_equal(y.numpy(), expect)
    assert y._version == 1


def test_setitem_of_a_number_overflow_and_overlap_errors():
    y = torch.zeros(3, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t "
                                           "without overflow"):
        y[0] = 300
    e = torch.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor "
                                           "refers to a single memory location"):
        e[:, 0] = 2


def test_setitem_of_a_number_keeps_autograd():
    a = torch.zeros(3, requires_grad=True)
    y = a * 1
    y[0] = 5
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    y[[1]] = 1
    assert y.grad_fn.name() == "IndexPutBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 1.0])


# ------------------------------------------------------------------ 3. tensor constants
def test_code_writes_tensor_constants_to_the_table_equal_ones_once():
    def f(x):
        return x + torch.tensor(2.0) * torch.tensor(2.0) - torch.tensor([1.0, 2.0]) \
            + torch.tensor([1.0, 2.0], dtype=torch.float64)

    t = _quiet_trace(torch, f, torch.ones(2))
    code = t.code
    assert "torch.tensor(" not in code
    assert code.count("CONSTANTS.c0") == 2 and "CONSTANTS.c3" not in code
    buf = io.BytesIO()
    torch.jit.save(t, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    np.testing.assert_allclose(loaded(torch.ones(2)).numpy(), [5.0, 5.0])


# ------------------------------------------------------------------ 4. saved functions
def _round_trip(tr, m):
    buf = io.BytesIO()
    tr.jit.save(m, buf)
    buf.seek(0)
    return tr.jit.load(buf)


def _add_pair(a, b):
    return a + b, a * b


def test_saved_function_loads_as_a_placeholder_module():
    t = _quiet_trace(torch, _add_pair, (torch.ones(2), torch.ones(2)))
    loaded = _round_trip(torch, t)
    assert type(loaded).__name__ == "RecursiveScriptModule"
    assert loaded.original_name == "PlaceholderModule" and loaded.training
    assert loaded.code == ("def forward(self,\n    a: Tensor,\n    b: Tensor) -> "
                           "Tuple[Tensor, Tensor]:\n  return (torch.add(a, b), "
                           "torch.mul(a, b))\n")
    # (torch 2.13: a.1, b.1 — the loaded code compiled by the frontend, as c51 names them)
    assert [v.debug_name for v in loaded.graph.inputs][1:] == ["a.1", "b.1"]
    assert str(loaded.graph.inputs[0].type).endswith("PlaceholderModule")
    s, p = loaded(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(s.numpy(), [4.0, 6.0])
    np.testing.assert_array_equal(p.numpy(), [3.0, 8.0])
    again = _round_trip(torch, loaded)      # (a loaded one saves as the module it is)
    assert again.code == loaded.code


def test_saved_function_code_as_torchs():
    tt = _torch()
    want = _round_trip(tt, _quiet_trace(tt, _add_pair, (tt.ones(2), tt.ones(2))))
    got = _round_trip(torch, _quiet_trace(torch, _add_pair, (torch.ones(2), torch.ones(2))))
    assert type(got).__name__ == type(want).__name__
    assert got.original_name == want.original_name and got.code == want.code


@torch.jit.script
def _scaled(x, n: int = 3, y: float = 0.5):
    return x * n + y


def test_saved_scripted_function_keeps_its_defaults():
    """(torch 2.13's PlaceholderModule forward loses them: `forward() is missing value
    for argument 'n'`; gpujit keeps what the function declared)"""
    loaded = _round_trip(torch, _scaled)
    assert "def forward(self,\n    x: Tensor,\n    n: int=3,\n    y: float=0.5)" in loaded.code
    np.testing.assert_array_equal(loaded(torch.ones(2)).numpy(), [3.5, 3.5])
    np.testing.assert_array_equal(loaded(torch.ones(2), 1, y=2.0).numpy(), [3.0, 3.0])


# ------------------------------------------------------------------ 5. arange overloads
@pytest.mark.parametrize("call,code", [
    ("torch.arange(3)", "torch.arange(3, dtype=None"),
    ("torch.arange(1, 4)", "torch.arange(1, 4, dtype=None"),
    ("torch.arange(1, 7, 2)", "torch.arange(1, 7, 2, dtype=None"),
    ("torch.arange(0, 3, 1)", "torch.arange(0, 3, 1, dtype=None"),
    ("torch.arange(end=3)", "torch.arange(3, dtype=None")])
def test_traced_arange_records_the_overload_of_the_bounds_given(call, code):
    fn = eval("lambda x: " + call + " + x", {"torch": torch})
    t = _quiet_trace(torch, fn, torch.ones(3))
    assert t.code.splitlines()[1].startswith("  _0 = " + code)
    assert t(torch.zeros(3)).tolist() == eval(call, {"torch": torch}).tolist()


def test_arange_with_a_step_but_no_end_is_a_type_error():
    with pytest.raises(TypeError, match=r"arange\(\) received an invalid combination of "
                                        r"arguments - got \(int, step=int\)"):
        torch.arange(5, step=2)
    assert torch.arange(0, 5, step=2).tolist() == [0, 2, 4]


# ------------------------------------------------------------------ 6. split of a traced size
def _halves(x):
    a, b = x.split(x.size(0) // 2)
    return a + b


def test_split_of_a_traced_size_bakes_the_size_in():
    """PyTorch's Tensor.split turns the traced size (a 0-dim tensor) into an int: the trace
    holds `torch.split(x, 2)` and replays 2 for other shapes (a [6, 3] input splits in
    three, and the two-way unpack fails), where a list of sizes stays traced."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = torch.jit.trace(_halves, torch.ones(4, 3))
    assert not [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
    assert "a, b, = torch.split(x, 2)" in t.code
    assert [n.kind() for n in t.graph.nodes()].count("aten::size") == 0
    np.testing.assert_array_equal(t(torch.ones(4, 2)).numpy(), np.full((2, 2), 2.0))
    with pytest.raises(RuntimeError, match="Expected 2 elements in a list but found 3"):
        t(torch.ones(6, 3))

    def sized(x):
        a, b = x.split([x.size(0) // 2, x.size(0) - x.size(0) // 2])
        return a.sum() + b.sum()
    ts = _quiet_trace(torch, sized, torch.ones(4, 3))
    assert "torch.split_with_sizes(x, [" in ts.code and "torch.size(x, 0)" in ts.code
    assert float(ts(torch.ones(6, 3))) == 18.0


def test_split_of_a_traced_size_code_as_torchs():
    tt = _torch()
    got = _quiet_trace(torch, _halves, torch.ones(4, 3))
    want = _quiet_trace(tt, _halves, tt.ones(4, 3))
    assert got.code == want.code


# ------------------------------------------------------------------ 7. tensors from NumPy
_NP = np.array([1.0, 2.0], dtype=np.float32)
_FROM_NUMPY = [
    ("torch.from_numpy(_NP)", "torch.add(x, torch.lift_fresh(CONSTANTS.c0))",
     ["aten::lift_fresh", "aten::add"]),
    ("torch.as_tensor(_NP)", 'torch.to(torch.lift_fresh(CONSTANTS.c0), torch.device("cpu"), 6)',
     ["aten::lift_fresh", "aten::to", "aten::add"]),
    ("torch.tensor(_NP)",
     'torch.to(torch.lift_fresh(CONSTANTS.c0), torch.device("cpu"), 6, False, True)',
     ["aten::lift_fresh", "aten::to", "aten::detach", "aten::add"]),
    ("torch.tensor([1.0, 2.0])", 'torch.to(CONSTANTS.c0, torch.device("cpu"), 6)',
     ["aten::to", "aten::detach", "aten::add"]),
]


@pytest.mark.parametrize("i", range(len(_FROM_NUMPY)))
def test_tensor_from_numpy_traces_through_lift_fresh(i):
    made, code, kinds = _FROM_NUMPY[i]
    fn = eval("lambda x: x + " + made, {"torch": torch, "_NP": _NP})
    t = _quiet_trace(torch, fn, torch.ones(2))
    assert code in t.code
    assert [n.kind() for n in t.graph.nodes() if n.kind() != "prim::Constant"] == kinds
    np.testing.assert_array_equal(t(torch.zeros(2)).numpy(), [1.0, 2.0])


def test_tensor_from_numpy_code_as_torchs():
    tt = _torch()
    for made, _, _ in _FROM_NUMPY:
        env = {"_NP": _NP, "__name__": __name__}
        got = _quiet_trace(torch, eval("lambda x: x + " + made, dict(env, torch=torch)),
                           torch.ones(2))
        want = _quiet_trace(tt, eval("lambda x: x + " + made, dict(env, torch=tt)), tt.ones(2))
        assert got.code == want.code, made


# ------------------------------------------------------------------ 8. randint's dtype
def test_traced_randint_records_the_long_dtype():
    t = _quiet_trace(torch, lambda x: torch.randint(0, 5, (2,)) + x, torch.ones(2),
                     check_trace=False)
    assert "dtype=4," in t.code
    (r,) = [n for n in t.graph.nodes() if n.kind() == "aten::randint"]
    assert str(r.output().type()).startswith("Long(2")
    assert t(torch.zeros(2)).dtype == torch.float32
