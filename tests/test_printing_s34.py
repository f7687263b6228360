"""Graph and code printing fidelity against PyTorch 2.13 (session 34, helper d34).

Each test scripts or traces a small program and compares gpujit's printed text with
the text torch 2.13 prints for the same program, written out here (value numbering and
source-range comments are normalised away: `%x.1` / `%5` -> `%_`, `# file:l:c` dropped).

Finds:
1. NamedTuple value types: torch's graphs show a NamedTuple by its fields,
   `%p.1 : NamedTuple(a : Tensor, q : NamedTuple(t : (int, float), o : Tensor?))`
   (also inside lists and tuples); gpujit printed the class name `__torch__.P`.
2. Interface types: torch's graphs show `InterfaceType<I>` (the short name, for module
   and class interfaces); gpujit printed `__torch__.I`.
   Both print back through gpujit.ir.parser (`NamedTuple(...)` finds the one known
   NamedTuple of that shape; `InterfaceType<I>` the one interface named I).
"""
import re
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

import gpujit as torch
from gpujit.ir.parser import parse_ir


def norm(text):
    """Graph text without value numbering and source-range comments."""
    out = []
    for line in str(text).splitlines():
        line = re.sub(r"\s+# \S+:\d+:\d+$", "", line)
        line = re.sub(r"%[A-Za-z_0-9.]+", "%_", line)
        out.append(line.rstrip())
    return "\n".join(l for l in out if l)


class Q34(NamedTuple):
    t: Tuple[int, float]
    o: Optional[torch.Tensor]


class P34(NamedTuple):
    a: torch.Tensor
    q: Q34


def nt_fn(x: torch.Tensor, l: List[P34]) -> Tuple[P34, List[Q34]]:
    p = l[0]
    return p, [p.q]


def test_namedtuple_types_print_their_fields():
    f = torch.jit.script(nt_fn)
    g = norm(f.graph)
    # torch 2.13:
    #   %l.1 : NamedTuple(a : Tensor, q : NamedTuple(t : (int, float), o : Tensor?))[]
    #   %10 : NamedTuple(t : (int, float), o : Tensor?) = prim::TupleIndex(%p.1, %9)
    #   %11 : NamedTuple(t : (int, float), o : Tensor?)[] = prim::ListConstruct(%10)
    q = "NamedTuple(t : (int, float), o : Tensor?)"
    p = f"NamedTuple(a : Tensor, q : {q})"
    assert f"%_ : {p}[]):" in g
    assert f"%_ : {q} = prim::TupleIndex(%_, %_)" in g
    assert f"%_ : {q}[] = prim::ListConstruct(%_)" in g
    assert f"%_ : ({p}, {q}[]) = prim::TupleConstruct(%_, %_)" in g
    assert "__torch__" not in g
    # the text reads back: the NamedTuple types are the known ones
    back = parse_ir(str(f.graph))
    assert back.inputs[1].type.elem.name.endswith(".P34")
    assert norm(back) == g


@torch.jit.interface
class Iface34(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass


@torch.jit.interface
class ClassIface34:
    def go(self, x: int) -> int:
        pass


class Impl34(torch.nn.Module):
    def forward(self, x):
        return x + 1


class Holder34(torch.nn.Module):
    sub: Iface34

    def __init__(self):
        super().__init__()
        self.sub = Impl34()

    def forward(self, x) -> List[Iface34]:
        return [self.sub]


def use_class_iface(c: ClassIface34, x: int) -> int:
    return c.go(x)


def test_interface_types_print_as_torch():
    m = torch.jit.script(Holder34())
    # torch 2.13:
    #   %sub : InterfaceType<Iface34> = prim::GetAttr[name="sub"](%self)
    #   %4 : InterfaceType<Iface34>[] = prim::ListConstruct(%sub)
    g = norm(m.graph)
    assert "%_ : InterfaceType<Iface34> = prim::GetAttr[name=\"sub\"](%_)" in g
    assert "%_ : InterfaceType<Iface34>[] = prim::ListConstruct(%_)" in g
    f = torch.jit.script(use_class_iface)
    # torch 2.13: graph(%c.1 : InterfaceType<ClassIface34>,
    assert norm(f.graph).startswith("graph(%_ : InterfaceType<ClassIface34>,")
    back = parse_ir(str(f.graph))
    assert type(back.inputs[0].type).__name__ == "InterfaceType"
    assert back.inputs[0].type.name.endswith(".ClassIface34")


def new_factories(x, n: int):
    return x.new_zeros([2]), x.new_ones(2, n), x.new_full([2], 1.5), x.new_empty([1])


def test_scripted_new_factories_are_the_aten_ops():
    """3. Scripted x.new_zeros(size) & co. were decomposed into aten::zeros(size,
    prim::dtype(x), None, prim::device(x), None); torch 2.13 records the ops themselves:
        %12 : Tensor = aten::new_zeros(%x.1, %7, %8, %8, %8, %8)
        %20 : Tensor = aten::new_ones(%x.1, %15, %8, %8, %8, %8)
        %28 : Tensor = aten::new_full(%x.1, %22, %23, %8, %8, %8, %8)
        %36 : Tensor = aten::new_empty(%x.1, %31, %8, %8, %8, %8)
    and `.code` says torch.new_zeros(x, [2]) ... ."""
    f = torch.jit.script(new_factories)
    g = norm(f.graph)
    for name, nargs in (("new_zeros", 6), ("new_ones", 6), ("new_full", 7),
                        ("new_empty", 6)):
        assert f"%_ : Tensor = aten::{name}({', '.join(['%_'] * nargs)})" in g
    assert "prim::dtype" not in g and "prim::device" not in g
    assert "aten::zeros" not in g
    code = f.code
    assert "torch.new_zeros(x, [2])" in code and "torch.new_ones(x, [2, n])" in code
    assert "torch.new_full(x, [2], 1.5)" in code and "torch.new_empty(x, [1])" in code
    x = torch.ones(3, dtype=torch.float64)
    for _ in range(3):
        z, o, fl, e = f(x, 4)
    assert z.dtype == o.dtype == fl.dtype == e.dtype == torch.float64
    assert o.shape == (2, 4) and fl.tolist() == [1.5, 1.5] and z.tolist() == [0.0, 0.0]


def refine_opt(y: Optional[int]) -> int:
    if y is not None:
        return y * 2
    return 0


def refine_union(y: Union[int, List[int]]) -> int:
    if isinstance(y, int):
        return y + 1
    return len(y)


def test_refinements_print_as_torch():
    """4. A refined Optional / Union variable: torch 2.13 names the prim::unchecked_cast
    after the variable (%y.7) and .code writes it `y0 = unchecked_cast(int, y)` on a line
    of its own; an isinstance test is assigned before the `if` that refines with it.
    gpujit inlined `ops.prim.unchecked_cast(y)` into its use and the isinstance into the
    `if`. torch 2.13's code, written out:"""
    assert torch.jit.script(refine_opt).code.strip() == "\n".join([
        "def refine_opt(y: Optional[int]) -> int:",
        "  if torch.__isnot__(y, None):",
        "    y0 = unchecked_cast(int, y)",
        "    _0 = torch.mul(y0, 2)",
        "  else:",
        "    _0 = 0",
        "  return _0"])
    f = torch.jit.script(refine_union)
    assert f.code.strip() == "\n".join([
        "def refine_union(y: Union[List[int], int]) -> int:",
        "  _0 = isinstance(y, int)",
        "  if _0:",
        "    y0 = unchecked_cast(int, y)",
        "    _1 = torch.add(y0, 1)",
        "  else:",
        "    y1 = unchecked_cast(List[int], y)",
        "    _1 = torch.len(y1)",
        "  return _1"])
    assert f(3) == 4 and f([1, 2]) == 2


def type_as_fn(x, y):
    return (x * 2).type_as(y) + 1


def same_dtype_type_as(x, y):
    return x.type_as(y)


def test_type_as_is_the_aten_op_scripted_and_traced():
    """5. x.type_as(y) was decomposed into aten::to(x, prim::dtype(y), False, False,
    None) when scripted and traced; torch 2.13 records the op:
        %4 : Tensor = aten::type_as(%x.1, %y.1)               (scripted)
        %16 : Double(2, 4, ...) = aten::type_as(%15, %y)       (traced)
    and .code says torch.type_as(x, y). The optimizer still casts with a fusible aten::to
    (the fused group holds the cast), and the trace follows y's dtype."""
    f = torch.jit.script(type_as_fn)
    assert "%_ : Tensor = aten::type_as(%_, %_)" in norm(f.graph)
    assert "prim::dtype" not in str(f.graph)
    assert "torch.type_as(torch.mul(x, 2), y)" in f.code
    x, y = torch.ones(3), torch.ones(3, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(3):
            r = f(x, y)
        g = str(f.graph_for(x, y))
    assert r.dtype == torch.float64 and r.tolist() == [3.0, 3.0, 3.0]
    assert "prim::TensorExprGroup" in g and "aten::type_as" not in g
    t = torch.jit.trace(type_as_fn, (torch.ones(2, 4), torch.ones(2, 4, dtype=torch.float64)))
    assert ("%_ : Double(2, 4, strides=[4, 1], requires_grad=0, device=cpu) = "
            "aten::type_as(%_, %_)") in norm(t.graph)
    assert t(torch.ones(2), torch.ones(2, dtype=torch.int32)).dtype == torch.int32
    a = torch.ones(2)
    assert a.type_as(torch.zeros(1)) is a             # (as PyTorch: self itself,
    same = torch.jit.script(same_dtype_type_as)      # also scripted)
    for _ in range(3):
        assert same(a, a) is a
    xg = torch.ones(3, requires_grad=True)
    out = xg.type_as(y)
    out.sum().backward()
    assert out.grad_fn.name() == "ToCopyBackward0" and xg.grad.dtype == torch.float32


def raise_if(x):
    if x.dim() != 2:
        raise ValueError("expected 2d")
    return x


def test_an_empty_else_prints_pass():
    """6. torch 2.13's printer writes every `else:` of an if, an empty one as `pass`;
    gpujit left an empty else out. torch's code:"""
    assert torch.jit.script(raise_if).code.strip() == "\n".join([
        "def raise_if(x: Tensor) -> Tensor:",
        "  if torch.ne(torch.dim(x), 2):",
        '    ops.prim.RaiseException("expected 2d", "builtins.ValueError")',
        "  else:",
        "    pass",
        "  return x"])


def while_loop(x, n: int):
    i = 0
    while i < n:
        x = x.relu()
        i += 1
    return x


def dict_forms(d: Dict[str, int], l: List[int], s: str):
    k = list(d.keys())
    return len(d) + len(l) + len(s), k, d.values(), d.items(), list(l)


def test_loop_counter_and_container_calls_print_as_torch():
    """7. A while loop's trip counter has no name in torch 2.13 (`%8 : int`), so the
    loop condition prints as `_0`; gpujit named the counter `i` and the condition
    printed as `i0` (and the user's i became i1). 8. len/list/keys/values/items print
    as torch.len(d), torch.list(...), torch.keys(d), torch.values(d), torch.items(d)
    (gpujit: len(d), list(...), d.keys() ...). torch's code, written out:"""
    assert torch.jit.script(while_loop).code.strip() == "\n".join([
        "def while_loop(x: Tensor,",
        "    n: int) -> Tensor:",
        "  x0 = x",
        "  i = 0",
        "  _0 = torch.lt(0, n)",
        "  while _0:",
        "    x1 = torch.relu(x0)",
        "    i0 = torch.add(i, 1)",
        "    _0, x0, i = torch.lt(i0, n), x1, i0",
        "  return x0"])
    code = torch.jit.script(dict_forms).code
    assert "  k = torch.list(torch.keys(d))" in code
    assert "torch.add(torch.add(torch.len(d), torch.len(l)), torch.len(s))" in code
    assert "torch.values(d)" in code and "torch.items(d)" in code
    assert "torch.list(l)" in code


def float_constants(x: float):
    return x + 0.1, x * 1e-5, x + 1.0, x + 2.5, x + 1e20, x - 0.7, x + 100.0, x + 1e16


def test_float_constants_print_with_17_digits():
    """9. torch 2.13 writes a float constant as IValue::repr does: a whole number under
    1e10 as `1.`, any other with 17 significant digits, in graphs and code alike;
    gpujit wrote Python's shortest repr (0.1, 1e-05, 0.7). torch's graph constants:"""
    g = str(torch.jit.script(float_constants).graph)
    for text in ("0.10000000000000001", "1.0000000000000001e-05", "1.", "2.5", "1e+20",
                 "0.69999999999999996", "100.", "10000000000000000"):
        assert f"float = prim::Constant[value={text}]()" in g
    code = torch.jit.script(float_constants).code
    assert "torch.add(x, 0.10000000000000001)" in code
    assert "torch.mul(x, 1.0000000000000001e-05)" in code
    # (torch writes 1e16 `10000000000000000` in code too; gpujit keeps it a float there,
    # `10000000000000000.`, so the code compiles back to a float)
    assert "torch.add(x, 10000000000000000.)" in code
    assert float_constants(1.0) == torch.jit.script(float_constants)(1.0)


def test_tensor_constants_print_their_item_with_6_digits():
    """10. A one-element tensor constant shows its item as C++'s stream does (6
    significant digits): torch 2.13 prints {0.1}, {0.333333}, {1e-05}, {2}, {1.23457e+11},
    {nan}, {-0}, a bool {1}; gpujit printed Python's repr ({0.3333333432674408},
    {9.9999997473787516e-06}, {2.}, {123456789012}...)."""
    consts = [torch.tensor(0.1, dtype=torch.float64), torch.tensor(1 / 3),
              torch.tensor(1e-5), torch.tensor(2.0),
              torch.tensor(123456789012.0, dtype=torch.float64), torch.tensor(float("nan")),
              torch.tensor(-0.0), torch.tensor(7)]

    def fn(x):
        for c in consts:
            x = x + c
        return x

    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = str(torch.jit.trace(fn, torch.ones(2)).graph)
    for text in ("{0.1}", "{0.333333}", "{1e-05}", "{2}", "{1.23457e+11}", "{nan}", "{-0}",
                 "{7}"):
        assert f"prim::Constant[value={text}]()" in g, text
    assert back_and_forth(g) == g


def back_and_forth(text):
    return str(parse_ir(text))


class Attrs34(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2)

    def forward(self, x, y: Optional[torch.Tensor], t: Tuple[int, int], xs: List[int]):
        s = 0
        for v in xs:
            s += v
        if y is not None:
            x = x + y
        a, b = t
        return [x, self.lin.weight], (x.dtype, x.device, x.requires_grad, a + b + s), x.add(1)


def no_result(x):
    x.add_(1)


def test_source_ranges_shown_as_torch():
    """11. torch 2.13 shows no `# file:line:col` on the nodes its emitter makes without
    one: prim::GetAttr, ListConstruct, TupleConstruct, TupleUnpack, TupleIndex,
    unchecked_cast, EnumValue/EnumName, tensor property reads (prim::dtype, prim::device,
    prim::requires_grad) and the constants of schema defaults (the `1` of add's alpha);
    a for loop's element read (aten::__getitem__) has the for statement's range and the
    implicit `return None` constant the def's. gpujit showed ranges on all of these."""
    g = str(torch.jit.script(Attrs34()).graph)
    lines = g.splitlines()

    def comment_of(pattern):
        found = [l for l in lines if re.search(pattern, l)]
        assert found, pattern
        return [l.split(" # ")[1] if " # " in l else None for l in found]

    for pattern in (r"prim::GetAttr\[name=\"lin\"\]", r"prim::GetAttr\[name=\"weight\"\]",
                    r"= prim::ListConstruct\(", r"= prim::TupleConstruct\(",
                    r"prim::TupleUnpack\(", r"prim::unchecked_cast\(", r"prim::dtype\(",
                    r"prim::device\(", r"prim::requires_grad\("):
        assert comment_of(pattern) == [None] * len(comment_of(pattern)), pattern
    # torch: the for statement `for v in xs:` (its line, column 8)
    src = open(__file__).read().splitlines()
    for_line = 1 + next(i for i, l in enumerate(src) if l.strip() == "for v in xs:")
    (elem,) = comment_of(r"aten::__getitem__\(")
    assert elem.endswith(f":{for_line}:8"), elem
    # add's alpha: a default, no range; the user's `1` of x.add(1) keeps its own
    ones = [l for l in lines if "int = prim::Constant[value=1]()" in l]
    assert len(ones) == 1 and " # " in ones[0]      # (pooled: the user's literal)
    h = str(torch.jit.script(no_result).graph)
    (none,) = [l for l in h.splitlines() if "NoneType = prim::Constant()" in l]
    assert none.endswith(f":{no_result.__code__.co_firstlineno}:0"), none


def traced_factories(x):
    return x + torch.zeros(3, 4) + torch.full((3, 4), 2.0) + x.new_zeros(4) + \
        torch.zeros_like(x)


def test_traced_factories_record_device_and_pin_memory_as_torch():
    """12. torch 2.13's tracer records a factory call as its Python binding passes it:
    pin_memory=False (not None), and device=torch.device("cpu") where none was given
    (the `_like` and `new_` factories keep device=None). torch's code:
      _0 = torch.zeros([3, 4], dtype=None, layout=None, device=torch.device("cpu"), pin_memory=False)
      _4 = torch.full([3, 4], 2., dtype=None, layout=None, device=torch.device("cpu"), pin_memory=False)
      ... torch.new_zeros(x, [4], dtype=None, layout=None, device=None, pin_memory=False)
      ... torch.zeros_like(x, dtype=None, layout=None, device=None, pin_memory=False)
    gpujit recorded None for both, which printed as torch.zeros([3, 4])."""
    t = torch.jit.trace(traced_factories, torch.ones(3, 4))
    code = t.code
    for call in ('torch.zeros([3, 4], dtype=None, layout=None, device=torch.device("cpu"), '
                 'pin_memory=False)',
                 'torch.full([3, 4], 2., dtype=None, layout=None, device=torch.device("cpu"), '
                 'pin_memory=False)',
                 'torch.new_zeros(x, [4], dtype=None, layout=None, device=None, '
                 'pin_memory=False)',
                 'torch.zeros_like(x, dtype=None, layout=None, device=None, pin_memory=False)'):
        assert call in code, call
    g = norm(t.graph)
    assert '%_ : Device = prim::Constant[value="cpu"]()' in g
    assert "%_ : bool = prim::Constant[value=0]()" in g
    assert t(torch.ones(3, 4)).tolist() == traced_factories(torch.ones(3, 4)).tolist()


@torch.jit.script
class Box34:
    def __init__(self, x: int):
        self.x = x


class Color34(__import__("enum").Enum):
    RED = 1


def tuple_enum_class(p: P34, c: Box34, e: Color34, t: Tuple[int, int]):
    return [p.q], c.x + e.value, t[1]


def test_tuple_index_enum_and_class_attribute_code():
    """13. torch 2.13's code writes a tuple index `(t)[1]` (also a NamedTuple field,
    `(p)[1]`), an enum's value `(e).value`, and names a script object's attribute read
    after it (`x = c.x`); gpujit wrote t[1], e.value and inlined c.x. torch's body:
      _0 = [(p)[1]]
      x = c.x
      return (_0, torch.add(x, (e).value), (t)[1])"""
    code = torch.jit.script(tuple_enum_class).code
    assert code.splitlines()[-3:] == [
        "  _0 = [(p)[1]]",
        "  x = c.x",
        "  return (_0, torch.add(x, (e).value), (t)[1])"], code


def ranges(n: int):
    t = 0
    for i in range(1, n):
        t += i
    for j in range(2, n, 3):
        t += j
    return t


def test_range_elements_are_derive_index():
    """14. A loop over range(start, stop[, step]) reads its element with
    aten::__derive_index(index, start, step) in torch 2.13, whatever the step; gpujit
    wrote it as add(start, mul(index, step)) (add(start, index) for step 1). torch:
      for _0 in range(torch.__range_length(1, n, 1)):
        i = torch.__derive_index(_0, 1, 1)
      ...
      for _1 in range(torch.__range_length(2, n, 3)):
        j = torch.__derive_index(_1, 2, 3)"""
    f = torch.jit.script(ranges)
    code = f.code
    assert "    i = torch.__derive_index(_0, 1, 1)" in code
    assert "    j = torch.__derive_index(_1, 2, 3)" in code
    assert f(10) == ranges(10) and f(0) == 0


def test_code_names_classes_by_their_qualified_name():
    """15. torch 2.13's `.code` names a class, NamedTuple, enum or interface by its
    qualified name: `def f(x: Tensor, l: List[__torch__.P], c: __torch__.C,
    e: __torch__.Color) -> Tuple[__torch__.P, List[__torch__.Q], int]`, `(c).go(x, )` with
    `c: __torch__.CI`; gpujit wrote the short names (P, C, Color)."""
    code = torch.jit.script(tuple_enum_class).code
    mod = __name__
    assert code.splitlines()[:4] == [
        f"def tuple_enum_class(p: __torch__.{mod}.P34,",
        f"    c: __torch__.{mod}.Box34,",
        f"    e: __torch__.{mod}.Color34,",
        f"    t: Tuple[int, int]) -> Tuple[List[__torch__.{mod}.Q34], int, int]:"]
    assert f"def use_class_iface(c: __torch__.{mod}.ClassIface34," in \
        torch.jit.script(use_class_iface).code


def call_helper(x):
    return helper34(x, 2) + helper34(x, 3)


def helper34(x, k: int):
    return x * k


def test_code_calls_functions_by_their_qualified_name():
    """16. torch 2.13's `.code` calls a scripted function by its qualified name:
    `torch.add(__torch__.<module>.helper34(x, 2, ), ...)`; gpujit wrote helper34(x, 2, ).
    (torch's graph passes the function as a `Function` constant input of
    prim::CallFunction; gpujit's names it in an attribute: left as it is.)"""
    code = torch.jit.script(call_helper).code
    assert code.splitlines()[1:] == [             # (long calls: each on its own line)
        f"  _0 = __torch__.{__name__}.helper34(x, 2, )",
        f"  _1 = __torch__.{__name__}.helper34(x, 3, )",
        "  return torch.add(_0, _1)"], code


def casts(x):
    return x.to(torch.float64), x.float().sum(0, keepdim=True)


def test_dtypes_print_as_ints_in_graphs():
    """17. A dtype is an int in torch 2.13's graphs (`%3 : int = prim::Constant[value=7]()`
    for torch.float64, scripted and traced); gpujit printed its ScalarType constants as
    `ScalarType = prim::Constant[value=torch.float64]()` (the value keeps gpujit's
    ScalarType type inside: only the text is torch's)."""
    g = norm(torch.jit.script(casts).graph)
    assert "%_ : int = prim::Constant[value=7]()" in g
    assert "ScalarType" not in g and "torch.float" not in g
    t = norm(torch.jit.trace(casts, torch.ones(2, 3, dtype=torch.float16)).graph)
    assert "%_ : int = prim::Constant[value=7]()" in t
    assert "%_ : int = prim::Constant[value=6]()" in t
    assert "ScalarType" not in t
    assert back_and_forth(str(torch.jit.script(casts).graph)) == \
        str(torch.jit.script(casts).graph)
