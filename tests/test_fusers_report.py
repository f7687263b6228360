"""fusion_report, unfused_nodes, strict_fusion and StrictFusionError's message."""
import textwrap
import threading

import pytest

from gpujit import fusers
from gpujit.fusers import StrictFusionError, strict_fusion, strict_fusion_active
from gpujit.ir import parse_ir, SourceRange

F = "Float(4, 4, strides=[4, 1], requires_grad=0, device=cpu)"
C = "Float(4, 4, strides=[4, 1], requires_grad=0, device=cuda:0)"

MODEL = '''\
import gpujit as torch
def f(x, w):
    with gpujit.strict_fusion():
        y = torch.matmul(x, w)
        return torch.relu(y) + x
'''


@pytest.fixture
def model(tmp_path):
    p = tmp_path / "model.py"
    p.write_text(MODEL)
    return str(p)


def graph_of(model, dev_type=F):
    g = parse_ir(textwrap.dedent(f"""
        graph(%x : {dev_type},
              %w : {dev_type}):
          %one : int = prim::Constant[value=1]()
          %y : {dev_type} = aten::matmul(%x, %w) # {model}:4:12
          %r : {dev_type} = aten::relu(%y) # {model}:5:15
          %o : {dev_type} = aten::add(%r, %x, %one) # {model}:5:15
          return (%o)
        """))
    fusers.fuse(g)
    g.lint()
    return g


def test_fusion_report_lists_groups_and_reasons_with_source_lines(model):
    g = graph_of(model)
    report = fusers.fusion_report(g)
    assert [(n.kind, fused, why) for n, fused, why in report] == [
        ("aten::matmul", False, "not pointwise (runs on NumPy)"),
        ("prim::TensorExprGroup", True, "aten::relu, aten::add"),
    ]
    assert str(report) == (
        "unfused aten::matmul             not pointwise (runs on NumPy)  model.py:4\n"
        "fused   prim::TensorExprGroup_0  aten::relu, aten::add          model.py:5")
    assert fusers.format_fusion_report(g) == str(report)
    assert "runs on CuPy" in str(fusers.fusion_report(graph_of(model, C)))


def test_report_of_an_unfused_graph_says_why(model):
    g = parse_ir(f"graph(%x : {F}):\n  %a : {F} = aten::sin(%x)\n  return (%a)\n")
    ((n, fused, why),) = fusers.fusion_report(g)
    assert not fused and why == "fusible, but the graph was not fused"


def test_unfused_nodes_skip_bookkeeping():
    g = parse_ir(textwrap.dedent(f"""
        graph(%x : {F},
              %c : bool):
          %z : int = prim::Constant[value=0]()
          %n : int = aten::size(%x, %z)
          %m : int = aten::mul(%n, %n)
          %l : int[] = prim::ListConstruct(%n, %m)
          %t : (Tensor, int) = prim::TupleConstruct(%x, %n)
          %a : Tensor, %b : int = prim::TupleUnpack(%t)
          %v : {F} = aten::view(%x, %l)
          %i : Scalar = aten::item(%x)
          %r : {F} = prim::If(%c)
            block0():
              %q : {F} = aten::matmul(%x, %x)
              -> (%q)
            block1():
              -> (%x)
          return (%r, %v, %i, %a, %b)
        """))
    fusers.fuse(g)
    assert [n.kind for n in fusers.unfused_nodes(g)] == ["aten::view", "aten::item",
                                                         "aten::matmul"]
    assert fusers.unfused_nodes([g.nodes[1], g.nodes[2]]) == []


def test_strict_fusion_error_names_each_node_its_line_and_the_region(model):
    g = graph_of(model)
    where = SourceRange(model, 3, 9, "    with gpujit.strict_fusion():")
    with pytest.raises(StrictFusionError) as info:
        fusers.check_strict_fusion(g, where)
    assert str(info.value) == (
        "Found unfused operators inside strict_fusion:\n"
        "  aten::matmul(Tensor self, Tensor other) -> Tensor    model.py:4    "
        "y = torch.matmul(x, w)\n"
        "      not fused: not pointwise (runs on NumPy)\n"
        f'  File "{model}", line 3\n'
        "        with gpujit.strict_fusion():\n"
        "             ~~~~~~~~~~~~~~~~~~~~~~ <--- HERE")
    assert [n.kind for n in info.value.nodes] == ["aten::matmul"]


def test_strict_fusion_error_without_schema_or_source():
    g = parse_ir(f"graph(%x : {F}):\n  %a : {F} = prim::NumToTensor(%x)\n  return (%a)\n")
    err = StrictFusionError(g.nodes, where="a call of f", reasons={g.nodes[0]: "custom"})
    assert str(err) == ("Found unfused operators inside strict_fusion:\n"
                        "  prim::NumToTensor\n"
                        "      not fused: custom\n"
                        "  in a call of f")
    assert isinstance(err, RuntimeError)


def test_a_fully_fused_graph_passes_the_strict_check(model):
    g = parse_ir(f"graph(%x : {F}):\n  %a : {F} = aten::sin(%x)\n  %b : {F} = "
                 f"aten::cos(%a)\n  return (%b)\n")
    fusers.fuse(g)
    fusers.check_strict_fusion(g)


def test_strict_fusion_flag_nests_is_per_thread_and_resets_on_errors():
    assert not strict_fusion_active()
    seen = []
    with strict_fusion():
        with strict_fusion():
            assert strict_fusion_active()
        assert strict_fusion_active()
        t = threading.Thread(target=lambda: seen.append(strict_fusion_active()))
        t.start()
        t.join()
    assert seen == [False] and not strict_fusion_active()
    with pytest.raises(KeyError):
        with strict_fusion():
            raise KeyError("x")
    assert not strict_fusion_active()

    @strict_fusion()
    def decorated():
        return strict_fusion_active()
    assert decorated() and not strict_fusion_active()
