"""The graph IR: types print as TorchScript's, graphs print and parse back, lint catches
broken graphs, names stay unique, copies and inlining keep the structure."""
import pytest

import gpujit as torch
from gpujit import ir
from gpujit.ir import types as T
from gpujit.ir import parse_ir, parse_type, LintError, IRParseError

SEED_GRAPH = """\
graph(%len.1 : int):
  %24 : int = prim::Constant[value=1]()
  %17 : bool = prim::Constant[value=1]() # test.py:10:5
  %12 : bool? = prim::Constant()
  %10 : Device? = prim::Constant()
  %6 : int? = prim::Constant()
  %1 : int = prim::Constant[value=3]() # test.py:9:22
  %2 : int = prim::Constant[value=4]() # test.py:9:25
  %20 : int = prim::Constant[value=10]() # test.py:11:16
  %23 : float = prim::Constant[value=1.]() # test.py:12:23
  %4 : int[] = prim::ListConstruct(%1, %2)
  %rv.1 : Tensor = aten::zeros(%4, %6, %6, %10, %12) # test.py:9:10
  %rv : Tensor = prim::Loop(%len.1, %17, %rv.1) # test.py:10:5
    block0(%i.1 : int, %rv.14 : Tensor):
      %21 : bool = aten::lt(%i.1, %20) # test.py:11:12
      %rv.13 : Tensor = prim::If(%21) # test.py:11:9
        block0():
          %rv.3 : Tensor = aten::sub(%rv.14, %23, %24) # test.py:12:18
          -> (%rv.3)
        block1():
          %rv.6 : Tensor = aten::add(%rv.14, %23, %24) # test.py:14:18
          -> (%rv.6)
      -> (%17, %rv.13)
  return (%rv)
"""


def test_seed_graph_round_trips_and_lints():
    g = parse_ir(SEED_GRAPH)
    g.lint()
    assert str(g) == SEED_GRAPH
    assert str(g.copy()) == SEED_GRAPH
    loop = next(n for n in g.nodes if n.kind == "prim::Loop")
    assert [v.debug_name for v in loop.blocks[0].inputs] == ["i.1", "rv.14"]
    assert loop.source_range.line == 10 and loop.source_range.col == 5
    zeros = next(n for n in g.nodes if n.kind == "aten::zeros")
    assert zeros.op.name == "aten::zeros"
    sub = next(n for n in g.walk() if n.kind == "aten::sub")
    assert sub.op is not None and sub.op.schema.base_name == "sub"


@pytest.mark.parametrize("text, annotation", [
    ("Tensor", "Tensor"),
    ("Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)", "Tensor"),
    ("Long(*, 4, device=cpu)", "Tensor"),
    ("DoubleTensor(requires_grad=1)", "Tensor"),
    ("LongTensor", "Tensor"),
    ("Float(requires_grad=0, device=cpu)", "Tensor"),
    ("int[]", "List[int]"),
    ("Tensor?", "Optional[Tensor]"),
    ("(Tensor, int)", "Tuple[Tensor, int]"),
    ("Dict(str, Tensor)", "Dict[str, Tensor]"),
    ("Union(int, str)", "Union[int, str]"),
    ("int?[]", "List[Optional[int]]"),
    ("__torch__.MyCell", "MyCell"),
    ("NoneType", "NoneType"),
    ("Device", "Device"),
])
def test_types_print_parse_and_annotate(text, annotation):
    t = parse_type(text)
    assert str(t) == text
    assert t.annotation() == annotation


def test_tensor_type_of_a_real_tensor():
    x = torch.rand(3, 4)
    t = T.TensorType.of(x)
    assert str(t) == "Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)"
    assert str(T.TensorType.of(x.t())) == "Float(4, 3, strides=[1, 4], requires_grad=0, device=cpu)"
    assert str(T.TensorType.of(torch.tensor(3))) == \
        "Long(requires_grad=0, device=cpu)"
    assert parse_type(str(T.TensorType.of(torch.tensor(3)))).sizes == ()
    assert t.is_subtype_of(T.TENSOR) and not T.TENSOR.is_subtype_of(t)
    assert T.INT.is_subtype_of(T.OptionalType(T.INT)) and T.NONE.is_subtype_of(T.OptionalType(T.INT))


def test_constants_of_every_kind_round_trip():
    g = ir.Graph()
    values = [1, 2.5, 1.0, True, "a\"b", None, [1, 2], [1.5, 2.0], (1, "x"), torch.float16,
              torch.device("cpu"), float("inf"), -float("inf"), 1e-5]
    outs = [g.insert_constant(v) for v in values]
    t0 = g.insert_constant(torch.tensor(2.5))
    g.register_output(g.insert_node("prim::TupleConstruct", outs + [t0],
                                    output_types=[T.TupleType(tuple(o.type for o in outs + [t0]))]).output)
    g.lint()
    text = str(g)
    assert "prim::Constant[value=1.]()" in text and 'value="a\\"b"' in text
    # (a dtype is its ScalarType code, an int, as in TorchScript's graphs: float16 is 5)
    assert "int = prim::Constant[value=5]()" in text and 'value="cpu"' in text and \
        "value={2.5}" in text
    g2 = parse_ir(text)
    assert str(g2) == text
    parsed = [n.attrs.get("value") for n in g2.nodes if n.kind == "prim::Constant"]
    assert parsed[:5] == [1, 2.5, 1.0, True, "a\"b"]
    assert parsed[3] is True and isinstance(parsed[2], float)
    # (the dtype reads back as TorchScript's graphs hold it: its int code)
    assert parsed[9] == 5 and parsed[10] == torch.device("cpu")
    assert parsed[14].item() == 2.5


def test_unique_names_get_suffixes():
    g = ir.Graph()
    a = g.add_input("x")
    b = g.add_input("x")
    c = g.add_input("x.1")
    assert (a.debug_name, b.debug_name) == ("x", "x.1")
    assert c.debug_name == "x.2"
    n = g.insert_node("aten::mul", [a, b])
    assert n.output.debug_name.isdigit()
    g.register_output(n.output)
    g.lint()


def test_lint_catches_broken_graphs():
    g = parse_ir("""\
graph(%x : Tensor):
  %1 : Tensor = aten::neg(%x)
  %2 : Tensor = aten::neg(%1)
  return (%2)
""")
    n1, n2 = g.nodes
    n2.move_before(n1)              # use before definition
    with pytest.raises(LintError, match="used before it is defined"):
        g.lint()
    n2.move_after(n1)
    g.lint()
    n1.outputs[0].uses.clear()       # a missing use record
    with pytest.raises(LintError, match="lacks a use record"):
        g.lint()
    g = parse_ir("""\
graph(%c : bool, %x : Tensor):
  %y : Tensor = prim::If(%c)
    block0():
      -> (%x)
    block1():
      -> (%x)
  return (%y)
""")
    g.lint()
    g.nodes[0].blocks[1].register_output(g.inputs[1])
    with pytest.raises(LintError, match="prim::If block"):
        g.lint()


def test_destroy_refuses_used_values_and_cleans_up():
    g = parse_ir("""\
graph(%x : Tensor):
  %1 : Tensor = aten::neg(%x)
  %2 : Tensor = aten::relu(%1)
  return (%1)
""")
    relu = g.nodes[1]
    relu.destroy()
    g.lint()
    with pytest.raises(LintError, match="is used"):
        g.nodes[0].destroy()
    assert len(g.inputs[0].uses) == 1


def test_insert_graph_inlines_a_callee():
    callee = parse_ir("""\
graph(%a : Tensor, %b : Tensor):
  %s : Tensor = aten::mul(%a, %b)
  %r : Tensor = aten::tanh(%s)
  return (%r)
""")
    g = parse_ir("""\
graph(%x : Tensor):
  %y : Tensor = aten::neg(%x)
  return (%y)
""")
    with g.inserting_before(g.nodes[0]):
        (out,) = g.insert_graph(callee, [g.inputs[0], g.inputs[0]])
    g.nodes[-1].replace_input(0, out)
    g.lint()
    assert str(g) == """\
graph(%x : Tensor):
  %s : Tensor = aten::mul(%x, %x)
  %r : Tensor = aten::tanh(%s)
  %y : Tensor = aten::neg(%r)
  return (%y)
"""


def test_subgraph_attribute_prints_as_with_section():
    text = """\
graph(%x : Tensor):
  %1 : Tensor = prim::TensorExprGroup_0(%x)
  return (%1)
with prim::TensorExprGroup_0 = graph(%a : Tensor):
  %b : Tensor = aten::relu(%a)
  return (%b)
"""
    g = parse_ir(text)
    g.lint()
    n = g.nodes[0]
    assert n.kind == "prim::TensorExprGroup"
    assert str(n.attrs[ir.SUBGRAPH_ATTR].nodes[0].kind) == "aten::relu"
    assert str(g) == text


def test_parse_errors_say_where():
    with pytest.raises(IRParseError, match="used before it is defined") as ei:
        parse_ir("graph(%x : Tensor):\n  %1 : Tensor = aten::neg(%y)\n  return (%1)\n")
    assert "line 2" in str(ei.value)
    with pytest.raises(IRParseError, match="defined twice"):
        parse_ir("graph(%x : Tensor):\n  %x : Tensor = aten::neg(%x)\n  return (%x)\n")


def test_overloads_resolve_from_types():
    g = parse_ir("""\
graph(%x : Tensor, %y : Tensor, %d : int):
  %1 : int = prim::Constant[value=1]()
  %a : Tensor = aten::add(%x, %y, %1)
  %m : Tensor = aten::mul(%x, %1)
  %s : Tensor = aten::sum(%x)
  %v : Tensor, %i : Tensor = aten::max(%x, %d)
  return (%a, %m, %s, %v, %i)
""")
    ops = [n.op.name for n in g.nodes if n.kind != "prim::Constant"]
    assert ops[0] == "aten::add.Tensor"
    assert ops[1].startswith("aten::mul")
    assert ops[3] == "aten::max.dim"


def test_side_effects():
    g = parse_ir("""\
graph(%x : Tensor):
  %1 : int = prim::Constant[value=1]()
  %a : Tensor = aten::add_(%x, %x, %1)
  %s : int[] = prim::Constant[value=[2]]()
  %r : Tensor = aten::rand(%s)
  %n : Tensor = aten::neg(%x)
  return (%n)
""")
    kinds = {n.kind: ir.has_side_effects(n) for n in g.nodes}
    assert kinds["aten::add_"] and kinds["aten::rand"]
    assert not kinds["aten::neg"] and not kinds["prim::Constant"]
    assert ir.is_mutating(g.nodes[1]) and ir.is_nondeterministic(g.nodes[3])


def _fused_for_graph_api(x, y):
    z = torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)
    return z.sum()


def test_torch_c_graph_api_spelling():
    """Code written for torch._C's graphs (PyTorch's fuser tests: assertAllFused) calls
    methods where gpujit's passes read attributes; both work on the same objects."""
    f = torch.jit.script(_fused_for_graph_api)
    x, y = torch.rand(4, 4), torch.rand(4, 4)
    for _ in range(3):
        f(x, y)
    g = torch.jit.last_executed_optimized_graph()
    # the group behind its guard, as TorchScript shows it (PyTorch's assertAllFused walks
    # this: a guard, the prim::If after it, the group in the If's first block)
    assert [n.kind() for n in g.nodes()] == ["prim::Constant", "prim::TypeCheck", "prim::If",
                                             "aten::sum"]
    assert [n.kind for n in g.nodes] == [n.kind() for n in g.nodes()]
    assert type(g.nodes[0].kind()) is str and g.nodes[0].kind == "prim::Constant"
    check, branch = g.nodes[1], g.nodes[2]
    assert branch.prev() is check and check.next() is branch
    assert g.nodes[0].prev().kind() == "prim::Param" and g.nodes[3].next().kind() == "prim::Return"
    assert [v.debugName() for v in check.inputs()] == ["x.1", "y.1"]     # (torch's names)
    assert branch.inputsAt(0) is check.outputsAt(2) and check.outputsAt(2).type().kind() == "BoolType"
    fast, slow = branch.blocks()
    group = g.findNode("prim::TensorExprGroup")
    assert list(fast.nodes()) == [group] and g.findNode("aten::mul") is None
    assert g.findNode("prim::TensorExprGroup", recurse=False) is None
    assert list(group.inputs()) == list(check.outputs())[:2]
    assert [n.kind() for n in slow.nodes()] == ["prim::Constant", "prim::CallFunction",
                                                "prim::TupleUnpack"]
    out = group.output()
    assert out is next(group.outputs()) and out.node() is group
    assert out.type().kind() == "TensorType" and out.type().scalarType() == "Float"
    assert out.type().varyingSizes() == [4, 4] and out.type().isComplete()
    assert [u.user.kind() for u in out.uses()] == ["prim::Return"]
    assert [u.user.kind() for u in branch.output().uses()] == ["aten::sum"]
    sub = group.g("Subgraph")
    assert len(sub.findAllNodes("aten::mul")) == 2
    assert sub.findNode("aten::tanh").schema() == "aten::tanh(Tensor self) -> Tensor"
    c = sub.findNode("prim::Constant")
    assert c.hasAttribute("value") and c.attributeNames() == ["value"]
    assert c.f("value") in (0.5, 1)
    assert g.param_node().kind() == "prim::Param" and g.return_node().kind() == "prim::Return"
    assert list(g.inputs())[0].type().kind() == "TensorType"
    assert T.IntType().kind() == "IntType" and T.StrType().kind() == "StringType"
    # a kind rewritten by a pass or read by the parser is callable too
    h = parse_ir("graph(%x : Tensor):\n  %y : Tensor = prim::TensorExprGroup_0(%x)\n"
                 "  return (%y)\nwith prim::TensorExprGroup_0 = graph(%a : Tensor):\n"
                 "  %b : Tensor = aten::relu(%a)\n  return (%b)\n")
    assert [n.kind() for n in h.nodes()] == ["prim::TensorExprGroup"]
    assert isinstance(g, torch._C.Graph) and isinstance(group, torch._C.Node)
    assert isinstance(out, torch._C.Value) and isinstance(g.block(), torch._C.Block)
    assert list(g.block().nodes()) == g.nodes and g.str() == str(g)
    # str(node): the node's lines of the graph's text, as torch._C.Node's
    assert str(g.findNode("aten::sum")) in str(g)
    assert str(g.findNode("aten::sum")).startswith("%") and str(group).count("\n") > 2
    assert str(group).splitlines()[0] in str(g) and "with prim::TensorExprGroup_0" in str(group)
