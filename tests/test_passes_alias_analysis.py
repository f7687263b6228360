"""Alias analysis: which values may share memory, who writes it, and when."""
import textwrap

from gpujit.ir import parse_ir
from gpujit.passes.alias_analysis import AliasDb, is_mutable_type
from gpujit.ir import types as T
from gpujit.ops.schema import parse_schema


def ir(text):
    return textwrap.dedent(text).lstrip("\n")


def values(g):
    """name -> Value, for every value in g (block inputs too)."""
    out = {v.debug_name: v for v in g.inputs}
    for n in g.walk():
        for v in n.outputs:
            out[v.debug_name] = v
        for b in n.blocks:
            out.update({v.debug_name: v for v in b.inputs})
    return out


def node(g, name):
    return next(n for n in g.walk() if any(v.debug_name == name for v in n.outputs))


VIEWS = ir("""
    graph(%x : Tensor,
          %y : Tensor):
      %1 : int = prim::Constant[value=1]()
      %s : int[] = prim::Constant[value=[-1]]()
      %t : Tensor = aten::mul(%x, %1)
      %u : Tensor = aten::mul(%x, %x)
      %v : Tensor = aten::view(%t, %s)
      %w : Tensor = aten::relu_(%v)
      %c : Tensor = aten::contiguous(%u)
      %n : int = aten::dim(%t)
      return (%w, %c, %n)
    """)

CONTAINERS = ir("""
    graph(%x : Tensor):
      %0 : int = prim::Constant[value=0]()
      %a : Tensor = aten::neg(%x)
      %b : Tensor = aten::exp(%x)
      %c : Tensor = aten::tanh(%x)
      %l : Tensor[] = prim::ListConstruct(%a, %b)
      %l.1 : Tensor[] = aten::append(%l, %c)
      %e : Tensor = aten::__getitem__(%l, %0)
      %k : Tensor = aten::sigmoid(%x)
      %p : (Tensor, int) = prim::TupleConstruct(%k, %0)
      %q : Tensor, %r : int = prim::TupleUnpack(%p)
      %z : Tensor = aten::zero_(%q)
      return (%e, %z)
    """)

SPLIT = ir("""
    graph(%x : Tensor):
      %2 : int = prim::Constant[value=2]()
      %t : Tensor = aten::exp(%x)
      %parts : Tensor[] = aten::split(%t, %2)
      %p0 : Tensor, %p1 : Tensor = prim::ListUnpack(%parts)
      %f : Tensor = aten::exp(%x)
      return (%p0, %p1, %f)
    """)

CONTROL = ir("""
    graph(%x : Tensor,
          %c : bool,
          %n : int):
      %t : bool = prim::Constant[value=1]()
      %1 : int = prim::Constant[value=1]()
      %a : Tensor = aten::exp(%x)
      %b : Tensor = aten::tanh(%x)
      %y : Tensor = prim::If(%c)
        block0():
          -> (%a)
        block1():
          %d : Tensor = aten::neg(%x)
          -> (%d)
      %h : Tensor = prim::Loop(%n, %t, %b)
        block0(%i : int, %h.1 : Tensor):
          %r : Tensor = aten::sigmoid(%h.1)
          %w : Tensor = aten::mul_(%r, %1)
          -> (%t, %w)
      %g : Tensor = aten::relu(%x)
      return (%y, %h, %g)
    """)

LOOP_LIST = ir("""
    graph(%x : Tensor,
          %n : int):
      %t : bool = prim::Constant[value=1]()
      %0 : int = prim::Constant[value=0]()
      %a : Tensor = aten::exp(%x)
      %l : Tensor[] = prim::ListConstruct(%a)
       = prim::Loop(%n, %t)
        block0(%i : int):
          %e : Tensor = aten::__getitem__(%l, %0)
          %z : Tensor = aten::zero_(%e)
          %b : Tensor = aten::neg(%x)
          %l.1 : Tensor[] = aten::append(%l, %b)
          -> (%t)
      return (%a)
    """)

CALLS = ir("""
    graph(%x : Tensor,
          %m : __torch__.AliasModule):
      %a : Tensor = aten::exp(%x)
      %b : Tensor = aten::neg(%x)
      %l : Tensor[] = prim::ListConstruct(%b)
      %r : Tensor = prim::CallMethod[name="forward"](%m, %l)
      %c : Tensor = aten::tanh(%x)
      %w : Tensor = prim::GetAttr[name="weight"](%m)
      %k : int[] = prim::Constant[value=[1]]()
      %tup : (int[], Tensor) = prim::TupleConstruct(%k, %c)
      return (%tup, %r, %a, %w)
    """)

WRITE_A_LIST = ir("""
    graph(%x : Tensor):
      %a : Tensor = aten::exp(%x)
      %b : Tensor = aten::neg(%x)
      %l : Tensor[] = prim::ListConstruct(%a, %b)
       = test::zero_all_(%l)
      %c : Tensor = aten::tanh(%x)
      return (%c)
    """)

GRAPHS = [VIEWS, CONTAINERS, SPLIT, CONTROL, LOOP_LIST, CALLS, WRITE_A_LIST]


def db_of(text):
    g = parse_ir(text)
    g.lint()
    return g, values(g), AliasDb(g)


def test_mutable_types():
    assert is_mutable_type(T.TENSOR) and is_mutable_type(T.ListType(T.INT))
    assert is_mutable_type(T.OptionalType(T.TENSOR))
    assert is_mutable_type(T.TupleType((T.INT, T.TENSOR)))
    assert not is_mutable_type(T.INT) and not is_mutable_type(T.TupleType((T.INT, T.FLOAT)))


def test_views_and_in_place_writes():
    g, v, db = db_of(VIEWS)
    # graph inputs may be the same tensor
    assert db.may_alias(v["x"], v["y"]) and db.is_wildcard(v["x"])
    # a fresh result aliases nothing; a view and an in-place result alias their base
    assert not db.may_alias(v["t"], v["x"]) and not db.may_alias(v["t"], v["u"])
    assert db.may_alias(v["v"], v["t"]) and db.may_alias(v["w"], v["t"])
    # contiguous() may return self (schema `Tensor(a) self -> Tensor(a)`)
    assert db.may_alias(v["c"], v["u"])
    # ints alias nothing
    assert not db.may_alias(v["n"], v["n"])
    relu_ = node(g, "w")
    assert db.writes_to(relu_) == {v["v"]}
    assert db.writers(v["t"]) == [relu_] and db.has_writers(v["v"])
    assert not db.has_writers(v["u"]) and not db.has_writers(v["x"])
    assert db.writes_to_alias(relu_, [v["t"]]) and not db.writes_to_alias(relu_, [v["u"]])
    # written between the two reads of %t?
    assert db.is_mutated_between([v["t"]], node(g, "v"), node(g, "n"))
    assert not db.is_mutated_between([v["t"]], node(g, "w"), node(g, "n"))
    assert not db.is_mutated_between([v["u"]], node(g, "v"), node(g, "n"))


def test_containers_hold_their_elements():
    g, v, db = db_of(CONTAINERS)
    append = node(g, "l.1")
    # appending writes the list, not its elements
    assert db.writes_to(append) == {v["l"]}
    assert not db.has_writers(v["a"]) and db.has_writers(v["l"])
    assert not db.may_alias(v["l"], v["a"])
    assert db.may_alias(v["l.1"], v["l"])      # append returns its list
    # an element read back may be any element, appended ones too
    for name in ("a", "b", "c"):
        assert db.may_alias(v["e"], v[name])
    assert not db.may_alias(v["e"], v["k"])
    # through a tuple: zero_ on the unpacked element writes %k
    assert db.may_alias(v["q"], v["k"]) and db.has_writers(v["k"])
    assert not db.may_alias(v["q"], v["a"])


def test_list_returning_views():
    g, v, db = db_of(SPLIT)
    assert db.may_alias(v["p0"], v["t"]) and db.may_alias(v["p1"], v["t"])
    assert not db.may_alias(v["f"], v["t"])


def test_control_flow():
    g, v, db = db_of(CONTROL)
    # an If output may be either block's result
    assert db.may_alias(v["y"], v["a"]) and db.may_alias(v["y"], v["d"])
    assert not db.may_alias(v["y"], v["b"])
    # a carried value is one class through the loop; the write in the body reaches %b
    for name in ("h", "h.1", "w"):
        assert db.may_alias(v[name], v["b"])
    assert db.may_alias(v["r"], v["b"])     # mul_ returns its self, %r, as the carried value
    assert db.has_writers(v["b"]) and not db.has_writers(v["a"])
    # the loop holds a write to %r: between the loop's start and %g, and inside the
    # loop a write later in the body runs before an earlier node on the next trip
    loop = node(g, "h")
    assert db.writes_to(loop) == {v["r"]}
    assert db.is_mutated_between([v["r"]], node(g, "b"), node(g, "g"))
    assert not db.is_mutated_between([v["a"]], node(g, "a"), node(g, "g"))


def test_a_loop_reads_what_a_later_trip_appended():
    g, v, db = db_of(LOOP_LIST)
    # %e may be %b, appended at the end of the previous trip
    assert db.may_alias(v["e"], v["b"]) and db.may_alias(v["e"], v["a"])
    assert db.has_writers(v["b"]) and db.has_writers(v["a"])


def test_opaque_calls_and_escapes():
    g, v, db = db_of(CALLS)
    call = node(g, "r")
    # what a call receives (and what it holds) may be kept and written by the callee
    assert db.is_wildcard(v["b"]) and db.is_wildcard(v["r"]) and db.is_wildcard(v["l"])
    assert db.writes_to_alias(call, [v["x"]]) and db.writes_to_alias(call, [v["b"]])
    assert not db.is_wildcard(v["a"]) and not db.writes_to_alias(call, [v["a"]])
    assert db.writes_to(call) == {v["m"], v["l"]}
    # module attributes are parts of the module (a graph input)
    assert db.may_alias(v["w"], v["m"])
    # returned values, and values inside returned containers, escape
    assert db.escapes(v["k"]) and db.escapes(v["a"]) and db.escapes(v["c"])
    assert db.escapes(v["x"])       # a graph input: the caller holds it


class FakeOp:
    """An op that writes the tensors of a list (the registry has none yet)."""
    schema = parse_schema("test::zero_all_(Tensor(a!)[] tensors) -> ()")
    name = schema.qualified_name
    tags = frozenset({"inplace"})


def test_writing_a_tensor_list_writes_its_tensors():
    g = parse_ir(WRITE_A_LIST)
    zero = next(n for n in g.nodes if n.kind == "test::zero_all_")
    zero.op = FakeOp()
    v = values(g)
    db = AliasDb(g)
    assert db.writes_to(zero) == {v["l"]}
    assert db.writers(v["a"]) == [zero] and db.writers(v["b"]) == [zero]
    assert db.writes_to_alias(zero, [v["a"]]) and not db.has_writers(v["c"])
