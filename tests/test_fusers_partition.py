"""The NNC-style partitioner (gpujit.fusers.fuse): IR text in, IR text out.

Types are abbreviated in the test text: F4 is a complete Float(4) type on the CPU, C4 the
same on cuda:0 (the partitioner reads types only, so no GPU is needed), L4 a Long(4)."""
import textwrap

import pytest

from gpujit.ir import parse_ir
from gpujit import fusers
from gpujit.fusers.partition import FUSION_META

ABBREV = {
    "F44": "Float(4, 4, strides=[4, 1], requires_grad=0, device=cpu)",
    "F4": "Float(4, strides=[1], requires_grad=0, device=cpu)",
    "C4": "Float(4, strides=[1], requires_grad=0, device=cuda:0)",
    "L4": "Long(4, strides=[1], requires_grad=0, device=cpu)",
    "B4": "Bool(4, strides=[1], requires_grad=0, device=cpu)",
    "F0": "Float(requires_grad=0, device=cpu)",
}


def expand(text):
    text = textwrap.dedent(text).lstrip("\n")
    for k in sorted(ABBREV, key=len, reverse=True):
        text = text.replace(f": {k}", f": {ABBREV[k]}")
    return text


def parse(text):
    g = parse_ir(expand(text))
    g.lint()
    return g


def fuse(text, **kw):
    """(fused graph text, group nodes); lints the graph and every subgraph."""
    g = parse(text)
    groups = fusers.fuse(g, **kw)
    g.lint()
    for n in groups:
        n.attrs["Subgraph"].lint()
    return str(g), groups, g


def reasons(g):
    return {n.outputs[0].debug_name if n.outputs else n.kind: n.meta.get(FUSION_META)
            for n in g.walk() if n.kind not in ("prim::Constant", "prim::TensorExprGroup")}


def test_chain_becomes_one_group_named_as_torchscript():
    out, groups, _ = fuse("""
        graph(%x : F44,
              %y : F44):
          %c : float = prim::Constant[value=0.5]()
          %one : int = prim::Constant[value=1]()
          %a : F44 = aten::mul(%x, %c)
          %b : F44 = aten::add(%a, %y, %one)
          %t : F44 = aten::tanh(%b)
          %d : F44 = aten::sub(%x, %y, %one)
          %s : F44 = aten::sigmoid(%d)
          %m : F44 = aten::mul(%t, %s)
          %r : F44 = aten::relu(%x)
          %o : F44 = aten::add(%m, %r, %one)
          %mm : F44 = aten::matmul(%o, %x)
          return (%mm, %a)
        """)
    assert len(groups) == 1
    assert out == expand("""
        graph(%x : F44,
              %y : F44):
          %a : F44, %o : F44 = prim::TensorExprGroup_0(%x, %y)
          %mm : F44 = aten::matmul(%o, %x)
          return (%mm, %a)
        with prim::TensorExprGroup_0 = graph(%x : F44,
              %y : F44):
          %c : float = prim::Constant[value=0.5]()
          %one : int = prim::Constant[value=1]()
          %a : F44 = aten::mul(%x, %c)
          %b : F44 = aten::add(%a, %y, %one)
          %t : F44 = aten::tanh(%b)
          %d : F44 = aten::sub(%x, %y, %one)
          %s : F44 = aten::sigmoid(%d)
          %m : F44 = aten::mul(%t, %s)
          %r : F44 = aten::relu(%x)
          %o : F44 = aten::add(%m, %r, %one)
          return (%a, %o)
        """)


def test_group_outputs_keep_the_numbers_of_the_values_they_replace():
    out, _, _ = fuse("""
        graph(%0 : F4):
          %1 : F4 = aten::sin(%0)
          %2 : F4 = aten::cos(%1)
          %3 : F4 = aten::matmul(%2, %1)
          return (%3)
        """)
    assert out == expand("""
        graph(%0 : F4):
          %1 : F4, %2 : F4 = prim::TensorExprGroup_0(%0)
          %3 : F4 = aten::matmul(%2, %1)
          return (%3)
        with prim::TensorExprGroup_0 = graph(%0 : F4):
          %1 : F4 = aten::sin(%0)
          %2 : F4 = aten::cos(%1)
          return (%1, %2)
        """)


def test_a_node_between_that_reads_the_producer_and_feeds_the_consumer_blocks_the_merge():
    text = """
        graph(%x : F4,
              %w : F44):
          %a : F4 = aten::mul(%x, %x)
          %b : F4 = aten::matmul(%w, %a)
          %c : F4 = aten::add(%a, %b)
          return (%c)
        """
    out, groups, g = fuse(text)
    assert groups == [] and out == expand(text)
    r = reasons(g)
    assert "would make a cycle" in r["a"] and "aten::matmul" in r["a"]
    assert r["b"] == "not pointwise (runs on NumPy)"


def test_a_node_between_that_only_reads_the_producer_moves_after_the_group():
    out, _, _ = fuse("""
        graph(%x : F4,
              %y : F4,
              %w : F44):
          %a : F4 = aten::mul(%x, %y)
          %m : F4 = aten::matmul(%w, %a)
          %c : F4 = aten::add(%a, %y)
          %d : F4 = aten::sin(%c)
          return (%d, %m)
        """)
    assert out == expand("""
        graph(%x : F4,
              %y : F4,
              %w : F44):
          %a : F4, %d : F4 = prim::TensorExprGroup_0(%x, %y)
          %m : F4 = aten::matmul(%w, %a)
          return (%d, %m)
        with prim::TensorExprGroup_0 = graph(%x : F4,
              %y : F4):
          %a : F4 = aten::mul(%x, %y)
          %c : F4 = aten::add(%a, %y)
          %d : F4 = aten::sin(%c)
          return (%a, %d)
        """)


def test_nothing_moves_across_a_side_effect():
    text = """
        graph(%x : F4,
              %y : F4):
          %a : F4 = aten::mul(%x, %y)
           = prim::Print(%x)
          %c : F4 = aten::add(%a, %y)
          return (%c)
        """
    out, groups, g = fuse(text)
    assert groups == [] and out == expand(text)
    assert reasons(g)["a"] == ("fusible, but it would move across prim::Print, which has "
                               "side effects")


def test_nothing_moves_across_an_aliasing_write():
    # the write to %y must stay between the read of %y (mul) and the add
    text = """
        graph(%x : F4,
              %y : F4):
          %one : int = prim::Constant[value=1]()
          %a : F4 = aten::mul(%x, %y)
          %w : F4 = aten::add_(%y, %x, %one)
          %c : F4 = aten::add(%a, %y, %one)
          %d : F4 = aten::sin(%c)
          return (%d, %w)
        """
    out, groups, g = fuse(text)
    assert out == expand("""
        graph(%x : F4,
              %y : F4):
          %one : int = prim::Constant[value=1]()
          %a : F4 = aten::mul(%x, %y)
          %w : F4 = aten::add_(%y, %x, %one)
          %d : F4 = prim::TensorExprGroup_0(%y, %a)
          return (%d, %w)
        with prim::TensorExprGroup_0 = graph(%y : F4,
              %a : F4):
          %one : int = prim::Constant[value=1]()
          %c : F4 = aten::add(%a, %y, %one)
          %d : F4 = aten::sin(%c)
          return (%d)
        """)
    r = reasons(g)
    assert r["w"] == "in-place op on a graph input"
    # (the write is no barrier by itself: the AliasDb orders it; here it must stay after
    # the mul and before the add, so the mul cannot join the add's group)
    assert "aten::add_" in r["a"] and "memory accesses conflict" in r["a"]


def test_view_results_whose_memory_is_written_stay_unfused():
    out, groups, g = fuse("""
        graph(%x : F4):
          %f : bool = prim::Constant[value=0]()
          %dt : ScalarType = prim::Constant[value=torch.float32]()
          %s : F4 = aten::sin(%x)
          %p : F4 = aten::positive(%s)
          %c : F4 = aten::to(%s, %dt, %f, %f)
          %w : F4 = aten::mul_(%p, %s)
          return (%w, %c)
        """)
    r = reasons(g)
    assert groups == []
    for name in ("p", "c"):
        assert r[name] == ("its result may share memory with its input, and that memory "
                           "is written in place")
    assert r["w"] == "in-place op (writes its input)"


def test_a_dtype_conversion_fuses_when_nothing_writes_its_memory():
    out, groups, _ = fuse("""
        graph(%x : F4):
          %f : bool = prim::Constant[value=0]()
          %dt : ScalarType = prim::Constant[value=torch.int64]()
          %s : F4 = aten::sin(%x)
          %c : L4 = aten::to(%s, %dt, %f, %f)
          return (%c)
        """)
    assert out == expand("""
        graph(%x : F4):
          %c : L4 = prim::TensorExprGroup_0(%x)
          return (%c)
        with prim::TensorExprGroup_0 = graph(%x : F4):
          %f : bool = prim::Constant[value=0]()
          %dt : int = prim::Constant[value=4]()
          %s : F4 = aten::sin(%x)
          %c : L4 = aten::to(%s, %dt, %f, %f)
          return (%c)
        """)


def test_scalar_inputs_become_group_inputs_and_constants_are_copied_once():
    out, _, g = fuse("""
        graph(%x : F4,
              %n : int,
              %s : float):
          %one : int = prim::Constant[value=1]()
          %h : float = prim::Constant[value=0.5]()
          %a : F4 = aten::mul(%x, %n)
          %b : F4 = aten::add(%a, %s, %one)
          %c : F4 = aten::mul(%b, %h)
          %d : F4 = aten::add(%c, %h, %one)
          return (%d, %one)
        """)
    # %one is still returned, so it stays outside as well; %h is only used in the group
    assert out == expand("""
        graph(%x : F4,
              %n : int,
              %s : float):
          %one : int = prim::Constant[value=1]()
          %d : F4 = prim::TensorExprGroup_0(%x, %n, %s)
          return (%d, %one)
        with prim::TensorExprGroup_0 = graph(%x : F4,
              %n : int,
              %s : float):
          %one : int = prim::Constant[value=1]()
          %h : float = prim::Constant[value=0.5]()
          %a : F4 = aten::mul(%x, %n)
          %b : F4 = aten::add(%a, %s, %one)
          %c : F4 = aten::mul(%b, %h)
          %d : F4 = aten::add(%c, %h, %one)
          return (%d)
        """)


def test_arguments_the_kernel_cannot_take_keep_nodes_out():
    _, groups, g = fuse("""
        graph(%x : F4,
              %y : F4,
              %al : int,
              %t : Tensor,
              %ms : float?):
          %a : F4 = aten::add(%x, %y, %al)
          %i : Scalar = aten::item(%t)
          %b : F4 = aten::mul(%x, %i)
          %e : Tensor = aten::sin(%t)
          %c : F4 = aten::clamp(%x, %ms)
          return (%a, %b, %e, %c)
        """)
    r = reasons(g)
    assert groups == []
    assert r["a"] == "argument 'alpha' (%al) is not a constant"
    assert r["b"].startswith("scalar %i of unknown type (a Scalar, e.g. from .item()")
    assert r["e"] == "unknown shape of input %t"
    assert r["c"] == "argument 'min' (%ms) may be None at run time"


def test_dtypes_mix_inside_a_group_and_unknown_types_stay_out():
    out, groups, g = fuse("""
        graph(%i : L4,
              %f : F4,
              %u : Tensor(4, strides=[1], requires_grad=0, device=cpu)):
          %a : F4 = aten::mul(%i, %f)
          %b : B4 = aten::gt(%a, %i)
          %c : Tensor(4, strides=[1], requires_grad=0, device=cpu) = aten::neg(%u)
          return (%b, %c)
        """)
    assert len(groups) == 1
    assert "prim::TensorExprGroup_0(%i, %f)" in out
    assert reasons(g)["c"] == "unknown dtype of input %u"


def test_groups_never_span_devices():
    out, groups, g = fuse("""
        graph(%x : F4,
              %y : C4,
              %z : F0):
          %a : F4 = aten::sin(%x)
          %b : F4 = aten::cos(%a)
          %c : C4 = aten::sin(%y)
          %d : C4 = aten::cos(%c)
          %e : C4 = aten::mul(%d, %z)
          return (%b, %e)
        """)
    assert [g_.outputs[0].debug_name for g_ in groups] == ["b", "d"]
    assert reasons(g)["e"] == "mixed devices (cpu, cuda:0)"
    assert expand("%b : F4 = prim::TensorExprGroup_0(%x)") in out
    assert expand("%d : C4 = prim::TensorExprGroup_1(%y)") in out


def test_adjacent_independent_groups_merge():
    out, groups, _ = fuse("""
        graph(%x : F4,
              %y : F4,
              %w : F44):
          %a : F4 = aten::sin(%x)
          %b : F4 = aten::cos(%a)
          %m : F44 = aten::matmul(%w, %w)
          %c : F4 = aten::exp(%y)
          %d : F4 = aten::log(%c)
          return (%b, %d, %m)
        """)
    # the earlier group moves down to the later one (nothing in between depends on it)
    assert out == expand("""
        graph(%x : F4,
              %y : F4,
              %w : F44):
          %m : F44 = aten::matmul(%w, %w)
          %b : F4, %d : F4 = prim::TensorExprGroup_0(%x, %y)
          return (%b, %d, %m)
        with prim::TensorExprGroup_0 = graph(%x : F4,
              %y : F4):
          %a : F4 = aten::sin(%x)
          %b : F4 = aten::cos(%a)
          %c : F4 = aten::exp(%y)
          %d : F4 = aten::log(%c)
          return (%b, %d)
        """)


def test_groups_whose_sizes_do_not_broadcast_stay_apart():
    """One kernel walks one iteration space: box areas of shape [4] and corner pairs of
    shape [4, 2] never share a group (the kernel could not be built); [4] and [4, 4] do."""
    out, groups, g = fuse("""
        graph(%x : F4,
              %p : Float(4, 2, strides=[2, 1], requires_grad=0, device=cpu),
              %w : F44):
          %a : F4 = aten::sin(%x)
          %b : F4 = aten::cos(%a)
          %c : Float(4, 2, strides=[2, 1], requires_grad=0, device=cpu) = aten::exp(%p)
          %d : Float(4, 2, strides=[2, 1], requires_grad=0, device=cpu) = aten::log(%c)
          %e : F44 = aten::tanh(%w)
          %f : F44 = aten::mul(%e, %b)
          return (%f, %d)
        """)
    assert len(groups) == 2
    ins = sorted(sorted(v.debug_name for v in n.inputs) for n in groups)
    assert ins == [["p"], ["w", "x"]]


def test_blocks_fuse_inside_and_an_unprofiled_branch_does_not_block_the_rest():
    out, groups, g = fuse("""
        graph(%x : F4,
              %c : bool):
          %h : float = prim::Constant[value=0.5]()
          %a : F4 = aten::sin(%x)
          %b : F4 = aten::cos(%a)
          %r : F4 = prim::If(%c)
            block0():
              %p : F4 = aten::mul(%b, %h)
              %q : F4 = aten::sigmoid(%p)
              -> (%q)
            block1():
              %u : Tensor = aten::exp(%b)
              %v : Tensor = aten::neg(%u)
              -> (%v)
          %z : F4 = aten::relu(%r)
          return (%z)
        """)
    assert out == expand("""
        graph(%x : F4,
              %c : bool):
          %b : F4 = prim::TensorExprGroup_0(%x)
          %r : F4 = prim::If(%c)
            block0():
              %q : F4 = prim::TensorExprGroup_1(%b)
              -> (%q)
            block1():
              %u : Tensor = aten::exp(%b)
              %v : Tensor = aten::neg(%u)
              -> (%v)
          %z : F4 = aten::relu(%r)
          return (%z)
        with prim::TensorExprGroup_0 = graph(%x : F4):
          %a : F4 = aten::sin(%x)
          %b : F4 = aten::cos(%a)
          return (%b)
        with prim::TensorExprGroup_1 = graph(%b : F4):
          %h : float = prim::Constant[value=0.5]()
          %p : F4 = aten::mul(%b, %h)
          %q : F4 = aten::sigmoid(%p)
          return (%q)
        """)
    r = reasons(g)
    assert r["u"] == "unknown shape of its result %u"
    assert r["r"] == "control flow (the ops in its blocks fuse among themselves)"
    assert r["z"].startswith("fusible, but no fusible op next to it")


def test_min_group_size():
    text = """
        graph(%x : F4):
          %a : F4 = aten::sin(%x)
          %b : F4 = aten::cos(%a)
          %c : F4 = aten::exp(%x)
          %m : F4 = aten::matmul(%c, %c)
          return (%b, %m)
        """
    out, groups, g = fuse(text, min_group_size=3)
    assert groups == [] and out == expand(text)      # put back exactly as it was
    assert reasons(g)["a"] == "its group had fewer than 3 ops (min_group_size)"
    out, groups, _ = fuse(text, min_group_size=1)
    assert [len(n.attrs["Subgraph"].nodes) for n in groups] == [2, 1]
    assert expand("%c : F4 = prim::TensorExprGroup_1(%x)") in out
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="min_group_size"):
            fusers.fuse(parse(text), min_group_size=bad)


def test_constants_do_not_count_toward_the_group_size():
    text = """
        graph(%x : F4):
          %h : float = prim::Constant[value=0.5]()
          %a : F4 = aten::mul(%x, %h)
          %m : F4 = aten::matmul(%a, %a)
          return (%m)
        """
    out, groups, _ = fuse(text)
    assert groups == [] and out == expand(text)


def test_a_group_stays_within_128_inputs_and_outputs():
    n = 140
    lines = [f"graph({', '.join(f'%x{i} : F4' for i in range(n))}):",
             "  %a0 : F4 = aten::mul(%x0, %x1)"]
    for i in range(2, n):
        lines.append(f"  %a{i - 1} : F4 = aten::mul(%a{i - 2}, %x{i})")
    lines.append(f"  return (%a{n - 2})")
    g = parse_ir(expand("\n".join(lines)))
    groups = fusers.fuse(g)
    g.lint()
    assert len(groups) == 2
    for grp in groups:
        assert len(grp.inputs) + len(grp.outputs) <= fusers.MAX_GROUP_ARGS
    assert sum(len(grp.attrs["Subgraph"].nodes) for grp in groups) == n - 1


def test_in_place_ops_on_fresh_intermediates_fuse_as_out_of_place_ops():
    out, groups, g = fuse("""
        graph(%x : F4,
              %y : F4):
          %one : int = prim::Constant[value=1]()
          %a : F4 = aten::mul(%x, %y)
          %b : F4 = aten::relu_(%a)
          %c : F4 = aten::add_(%x, %a, %one)
          %d : F4 = aten::sin(%a)
          return (%d, %a, %c)
        """)
    # relu_ writes a fresh %a that nothing else aliases: later readers of %a read %b;
    # add_ writes the graph input %x and stays, and sin (which reads no memory add_
    # writes) moves above it into the group
    assert out == expand("""
        graph(%x : F4,
              %y : F4):
          %one : int = prim::Constant[value=1]()
          %b : F4, %d : F4 = prim::TensorExprGroup_0(%x, %y)
          %c : F4 = aten::add_(%x, %b, %one)
          return (%d, %b, %c)
        with prim::TensorExprGroup_0 = graph(%x : F4,
              %y : F4):
          %a : F4 = aten::mul(%x, %y)
          %b : F4 = aten::relu(%a)
          %d : F4 = aten::sin(%b)
          return (%b, %d)
        """)


def test_a_chain_of_in_place_ops_on_a_fresh_intermediate_fuses():
    # z = x * y; z.relu_(); z.neg_(): the first write became out-of-place only when it
    # was the one writer of %a, so a chain of writes never fused
    out, groups, g = fuse("""
        graph(%x : F4,
              %y : F4):
          %a : F4 = aten::mul(%x, %y)
          %b : F4 = aten::relu_(%a)
          %c : F4 = aten::neg_(%a)
          %d : F4 = aten::sin(%a)
          return (%b, %c, %d)
        """)
    # every later reader of %a (and of %b, the first write's alias) reads the last value
    assert out == expand("""
        graph(%x : F4,
              %y : F4):
          %c : F4, %d : F4 = prim::TensorExprGroup_0(%x, %y)
          return (%c, %c, %d)
        with prim::TensorExprGroup_0 = graph(%x : F4,
              %y : F4):
          %a : F4 = aten::mul(%x, %y)
          %b : F4 = aten::relu(%a)
          %c : F4 = aten::neg(%b)
          %d : F4 = aten::sin(%c)
          return (%c, %d)
        """)


@pytest.mark.parametrize("body", [
    # written again through a view of it
    """%b : F4 = aten::relu_(%a)
          %v : F4 = aten::positive(%a)
          %c : F4 = aten::neg_(%v)""",
    # a view of it exists
    """%v : F4 = aten::positive(%a)
          %b : F4 = aten::relu_(%a)
          %c : F4 = aten::neg(%v)""",
    # the out-of-place result would be Double, not Float
    """%b : F4 = aten::mul_(%a, %dd)
          %c : F4 = aten::neg(%a)""",
])
def test_in_place_ops_that_someone_could_observe_stay(body):
    text = f"""
        graph(%x : F4,
              %dd : Double(4, strides=[1], requires_grad=0, device=cpu)):
          %a : F4 = aten::mul(%x, %x)
          {body}
          return (%c)
        """
    _, _, g = fuse(text)
    kinds = [n.kind for n in g.walk()]
    assert any(k.endswith("_") for k in kinds), kinds


def test_dead_results_make_no_groups():
    out, groups, _ = fuse("""
        graph(%x : F4,
              %y : F4):
          %one : int = prim::Constant[value=1]()
          %a : F4 = aten::sub(%x, %y, %one)
          %b : F4 = aten::mul_(%a, %a)
          %c : F4 = aten::sin(%y)
          %d : F4 = aten::cos(%c)
          %e : F4 = aten::exp(%y)
          %f : F4 = aten::matmul(%e, %e)
          return (%f)
        """)
    # the write to %a is never read: it and what fed it go; sin/cos are dead as well
    assert groups == [] and out == expand("""
        graph(%x : F4,
              %y : F4):
          %e : F4 = aten::exp(%y)
          %f : F4 = aten::matmul(%e, %e)
          return (%f)
        """)
