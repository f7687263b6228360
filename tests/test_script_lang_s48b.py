"""Session 48 (i48): scripted .code / .graph fidelity, part 2, checked against torch 2.13
(the expected text is torch's; the tests compare with torch itself when it is importable)."""

import io
from typing import Dict, List, Optional, Tuple, Union

import pytest

import gpujit

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs torch")


def _control_outputs(graph, kind):
    """The debug names (without the .N suffix) of the outputs of the first node of kind."""
    for n in graph.nodes():
        if n.kind() == kind:
            return [o.debugName().split(".")[0] for o in n.outputs()]
    raise AssertionError(f"no {kind}")


# ---------------------------------------------------------------- 1. If / Loop outputs ordered
# by their first use (torch's CanonicalizeOutputs), not by assignment
def _if_xzy(x: int, y: int, z: int, c: bool) -> int:
    if c:
        x -= 1
        z += 1
        y += x
    return x + y + z


def _if_names(c: bool) -> int:
    if c:
        q = 1
        p = 2
    else:
        q = 3
        p = 4
    return p + q


def _if_unsorted(c: bool, x: int) -> int:
    if c:
        zz = 1
        aa = 2
        mm = 3
        x = 4
    else:
        zz = 3
        aa = 4
        mm = 5
    return zz + aa + mm + x


def _loop_xzy(n: int, x: int, y: int, z: int) -> int:
    for i in range(n):
        x -= 1
        z += 1
        y += x
    return x + y + z


def _loop_read_backwards(n: int, a: int, b: int, c: int) -> int:
    for i in range(n):
        a += 1
        b += 2
        c += 3
    return c * 100 + b * 10 + a


_IF_XZY_CODE = """def _if_xzy(x: int,
    y: int,
    z: int,
    c: bool) -> int:
  if c:
    x1 = torch.sub(x, 1)
    z1 = torch.add(z, 1)
    x0, y0, z0 = x1, torch.add(y, x1), z1
  else:
    x0, y0, z0 = x, y, z
  return torch.add(torch.add(x0, y0), z0)
"""

_CASES = [
    (_if_xzy, "prim::If", ["x", "y", "z"], (3, 4, 5, True), 14),
    (_if_names, "prim::If", ["p", "q"], (False,), 7),
    (_if_unsorted, "prim::If", ["zz", "aa", "mm", "x"], (True, 9), 10),
    (_loop_xzy, "prim::Loop", ["x", "y", "z"], (2, 10, 0, 0), 27),
    (_loop_read_backwards, "prim::Loop", ["c", "b", "a"], (2, 0, 0, 0), 642),
]


@pytest.mark.parametrize("fn,kind,names,args,expected", _CASES,
                         ids=[c[0].__name__ for c in _CASES])
def test_control_outputs_in_order_of_first_use(fn, kind, names, args, expected):
    s = gpujit.jit.script(fn)
    assert _control_outputs(s.graph, kind) == names
    assert s(*args) == expected == fn(*args)


@needs_torch
@pytest.mark.parametrize("fn,kind,names,args,expected", _CASES,
                         ids=[c[0].__name__ for c in _CASES])
def test_control_outputs_order_is_torchs(fn, kind, names, args, expected):
    t = _torch.jit.script(fn)
    assert _control_outputs(t.graph, kind) == names
    assert t(*args) == expected


def test_if_outputs_code_is_torchs():
    assert gpujit.jit.script(_if_xzy).code == _IF_XZY_CODE
    if _torch is not None:
        assert _torch.jit.script(_if_xzy).code == _IF_XZY_CODE


def _nested(n: int, xs: List[int]) -> int:
    b = 0
    a = 0
    for i in range(n):
        if i > 1:
            b += i
            a += 1
        xs.append(a - b)
    return a * 1000 + b


def test_nested_blocks_ordered_inner_after_outer():
    # the loop's carried values follow the uses after the loop (a, then b); the If's inside
    # follow the uses after it inside the loop body (a - b: a first)
    s = gpujit.jit.script(_nested)
    assert _control_outputs(s.graph, "prim::Loop") == ["a", "b"]
    loop = next(n for n in s.graph.nodes() if n.kind() == "prim::Loop")
    inner = next(n for n in next(iter(loop.blocks())).nodes() if n.kind() == "prim::If")
    assert [o.debugName().split(".")[0] for o in inner.outputs()] == ["a", "b"]
    assert s(4, []) == 2005 == _nested(4, [])
    if _torch is not None:
        t = _torch.jit.script(_nested)
        assert _control_outputs(t.graph, "prim::Loop") == ["a", "b"]
        assert t.code == s.code


# ---------------------------------------------------------------- 2. dict(a=..., b=...)
def _dict_kwargs() -> Dict[str, int]:
    return dict(a=1, b=2)


def _dict_kwargs_value(x: float) -> Dict[str, float]:
    return dict(a=x, b=2.5)


def _dict_copy_kwargs(d: Dict[str, int]) -> Dict[str, int]:
    return dict(d, baz=3)


def _dict_list_kwargs(xs: List[Tuple[str, int]]) -> Dict[str, int]:
    return dict(xs, a=1)


_DICT_KWARGS_CODE = """def _dict_kwargs() -> Dict[str, int]:
  _0 = [("a", 1), ("b", 2)]
  _1 = annotate(Dict[str, int], {})
  for _2 in range(torch.len(_0)):
    _3, _4, = _0[_2]
    torch._set_item(_1, _3, _4)
  return _1
"""

_DICT_KWARGS_VALUE_CODE = """def _dict_kwargs_value(x: float) -> Dict[str, float]:
  _0 = [("a", x), ("b", 2.5)]
  _1 = annotate(Dict[str, float], {})
  for _2 in range(torch.len(_0)):
    _3, _4, = _0[_2]
    torch._set_item(_1, _3, _4)
  return _1
"""


@pytest.mark.parametrize("fn,code,args,expected", [
    (_dict_kwargs, _DICT_KWARGS_CODE, (), {"a": 1, "b": 2}),
    (_dict_kwargs_value, _DICT_KWARGS_VALUE_CODE, (0.5,), {"a": 0.5, "b": 2.5}),
])
def test_dict_of_keywords_loops_over_their_tuples(fn, code, args, expected):
    # TorchScript's dict(a=1, b=2) is dict() of the list [("a", 1), ("b", 2)]: a loop
    # setting each item (gpujit set the items one by one)
    s = gpujit.jit.script(fn)
    assert s.code == code
    assert s(*args) == expected
    kinds = [n.kind() for n in s.graph.nodes()]
    assert "prim::Loop" in kinds and "prim::ListConstruct" in kinds
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    assert gpujit.jit.load(io.BytesIO(buf.getvalue()))(*args) == expected
    if _torch is not None:
        assert _torch.jit.script(fn).code == code
        assert _torch.jit.load(io.BytesIO(buf.getvalue()))(*args) == expected


def test_dict_copy_with_keywords_sets_them_at_their_place():
    s = gpujit.jit.script(_dict_copy_kwargs)
    assert s({"q": 1}) == {"q": 1, "baz": 3}
    (set_item,) = [ln for ln in str(s.graph).splitlines() if "aten::_set_item" in ln]
    col = _dict_copy_kwargs.__code__.co_firstlineno + 1
    assert set_item.endswith(f":{col}:23")          # the keyword's value, as torch's
    if _torch is not None:
        t = _torch.jit.script(_dict_copy_kwargs)
        (t_item,) = [ln for ln in str(t.graph).splitlines() if "aten::_set_item" in ln]
        assert t_item.endswith(f":{col}:23")


def test_dict_of_a_list_takes_no_keywords():
    with pytest.raises(RuntimeError, match="dict takes no keyword arguments"):
        gpujit.jit.script(_dict_list_kwargs)
    if _torch is not None:
        with pytest.raises(RuntimeError, match="dict takes no keyword arguments"):
            _torch.jit.script(_dict_list_kwargs)


# ---------------------------------------------------------------- 3. dict(d): aten::dict
def _dict_of_dict(d: Dict[str, int]) -> Dict[str, int]:
    e = dict(d)
    e["z"] = 26
    return e


def test_dict_of_a_dict_is_aten_dict():
    s = gpujit.jit.script(_dict_of_dict)
    assert "aten::dict(" in str(s.graph) and "aten::copy" not in str(s.graph)
    assert "  e = torch.dict(d)\n" in s.code
    d = {"a": 1}
    assert s(d) == {"a": 1, "z": 26} and d == {"a": 1}      # a new dict
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    back = gpujit.jit.load(io.BytesIO(buf.getvalue()))
    assert "aten::dict(" in str(back.graph)
    assert back({"b": 2}) == {"b": 2, "z": 26}
    if _torch is not None:
        assert _torch.jit.script(_dict_of_dict).code == s.code
        assert _torch.jit.load(io.BytesIO(buf.getvalue()))({"b": 2}) == {"b": 2, "z": 26}


# ---------------------------------------------------------------- 4. `a and b` carries its range
def _and_in_if(x: Optional[int]) -> int:
    if x is not None and x > 2:
        return x
    return 0


def _range_of(graph, needle):
    """The `line:col` each line of graph's text holding needle ends with."""
    return [ln.rsplit(":", 2)[-2:] for ln in str(graph).splitlines() if needle in ln]


def test_short_circuit_if_has_the_expressions_source_range():
    # TorchScript's emitShortCircuitLogical: the prim::If of `and` and its False constant
    # are at the `and` expression (column 7 here), not at the `if` statement (column 4)
    line = str(_and_in_if.__code__.co_firstlineno + 1)
    s = gpujit.jit.script(_and_in_if)
    ifs = _range_of(s.graph, "prim::If(")
    assert ifs == [[line, "7"], [line, "4"]]
    assert _range_of(s.graph, "bool = prim::Constant[value=0]()") == [[line, "7"]]
    assert s(5) == 5 and s(1) == 0 and s(None) == 0
    if _torch is not None:
        t = _torch.jit.script(_and_in_if)
        assert _range_of(t.graph, "prim::If(") == ifs
        assert _range_of(t.graph, "bool = prim::Constant[value=0]()") == [[line, "7"]]


# ---------------------------------------------------------------- 5. xs += ys / xs *= n
def _list_iadd_imul(xs: List[int], n: int) -> List[int]:
    ys = xs
    xs += [n]
    xs *= 2
    ys.append(7)
    return xs


def _list_iadd_len(xs: List[int], ys: List[int]) -> int:
    xs += ys
    return len(xs)


def _list_imul_negative(xs: List[int], n: int) -> List[int]:
    xs *= n
    return xs


_LIST_IADD_CODE = """def _list_iadd_imul(xs: List[int],
    n: int) -> List[int]:
  xs0 = torch.add_(xs, [n])
  xs1 = torch.mul_(xs0, 2)
  _0 = torch.append(xs, 7)
  return xs1
"""


def test_list_augmented_assignment_is_add_and_mul_inplace():
    # TorchScript's aten::add_.t / aten::mul_.t (gpujit wrote aten::extend, and a
    # mul + clear + extend for *=)
    s = gpujit.jit.script(_list_iadd_imul)
    assert s.code == _LIST_IADD_CODE
    kinds = [n.kind() for n in s.graph.nodes()]
    assert "aten::add_" in kinds and "aten::mul_" in kinds
    assert "aten::extend" not in kinds and "aten::clear" not in kinds
    assert s([1, 2], 3) == [1, 2, 3, 1, 2, 3, 7]            # ys is xs: one list
    g = gpujit.jit.script(_list_iadd_len)
    assert "  xs0 = torch.add_(xs, ys)\n  return torch.len(xs0)\n" in g.code
    assert g([1], [2, 3]) == 3
    neg = gpujit.jit.script(_list_imul_negative)
    assert neg([1, 2], -1) == [] and neg([1, 2], 0) == [] and neg([1, 2], 2) == [1, 2, 1, 2]
    for f, args, want in ((s, ([1, 2], 3), [1, 2, 3, 1, 2, 3, 7]), (g, ([1], [2, 3]), 3)):
        buf = io.BytesIO()
        gpujit.jit.save(f, buf)
        back = gpujit.jit.load(io.BytesIO(buf.getvalue()))
        assert "aten::add_" in [n.kind() for n in back.graph.nodes()]
        assert back(*args) == want
        if _torch is not None:
            assert _torch.jit.load(io.BytesIO(buf.getvalue()))(*args) == want
    if _torch is not None:
        t = _torch.jit.script(_list_iadd_imul)
        assert t.code == _LIST_IADD_CODE and t([1, 2], 3) == [1, 2, 3, 1, 2, 3, 7]
        assert _torch.jit.script(_list_iadd_len).code == g.code
        tn = _torch.jit.script(_list_imul_negative)
        assert tn([1, 2], -1) == [] and tn([1, 2], 2) == [1, 2, 1, 2]


def _tensor_iadd(x: gpujit.Tensor, xs: List[int]) -> gpujit.Tensor:
    y = x.clone()
    y += 1
    y *= 2
    xs += [1]
    return y + len(xs)


def test_tensor_inplace_ops_stay_tensor_ops():
    s = gpujit.jit.script(_tensor_iadd)
    nodes = [n for n in s.graph.nodes() if n.kind() in ("aten::add_", "aten::mul_")]
    assert len(nodes) == 3
    out = s(gpujit.tensor([1.0, 2.0]), [5])
    assert out.tolist() == [6.0, 8.0]


class _AttrList(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.xs: List[int] = [1]

    def forward(self, n: int) -> List[int]:
        self.xs += [n]
        self.xs *= 2
        return self.xs


def test_list_attribute_augmented_assignment_sets_the_attribute():
    m = gpujit.jit.script(_AttrList())
    assert "  self.xs = torch.add_(xs, [n])\n" in m.code
    assert "  self.xs = torch.mul_(xs0, 2)\n" in m.code
    assert m(3) == [1, 3, 1, 3] and m(4) == [1, 3, 1, 3, 4, 1, 3, 1, 3, 4]
    if _torch is not None:
        class TM(_torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.xs: List[int] = [1]

            def forward(self, n: int) -> List[int]:
                self.xs += [n]
                self.xs *= 2
                return self.xs
        assert _torch.jit.script(TM()).code == m.code


# ---------------------------------------------------------------- 6. `c: Optional[T] = None`
def _optional_none_if(x: gpujit.Tensor, b: bool) -> gpujit.Tensor:
    c: Optional[gpujit.Tensor] = None
    if b:
        c = x
    if c is None:
        return x
    return c + 1


def _optional_none_if_int(x: int, b: bool) -> int:
    c: Optional[int] = None
    if b:
        c = x
    if c is None:
        return x
    return c + 1


def _optional_none_loop(n: int) -> int:
    c: Optional[int] = None
    while n > 0:
        n -= 1
        c = n
    return -1 if c is None else c


_OPTIONAL_LOOP_CODE = """def _optional_none_loop(n: int) -> int:
  c: Optional[int] = None
  n0 = n
  _0 = torch.gt(n, 0)
  while _0:
    n1 = torch.sub(n0, 1)
    _0, c, n0 = torch.gt(n1, 0), n1, n1
  if torch.__is__(c, None):
    _1 = -1
  else:
    _1 = unchecked_cast(int, c)
  return _1
"""


def _none_constants(graph):
    return [ln.strip() for ln in str(graph).splitlines() if "= prim::Constant()" in ln]


def test_optional_annotated_none_is_a_nonetype_constant():
    # TorchScript's: the None literal's NoneType constant (its column: 33), which the
    # `c is None` test shares, the If / Loop outputs of the declared Optional type; gpujit
    # made a `Tensor?` constant at the statement and a second None for the test
    s = gpujit.jit.script(_optional_none_if)
    line = _optional_none_if.__code__.co_firstlineno + 1
    (none,) = _none_constants(s.graph)
    assert none.startswith("%c.1 : NoneType = prim::Constant()") and \
        none.endswith(f":{line}:33")
    assert [str(o.type()) for n in s.graph.nodes() if n.kind() == "prim::If"
            for o in n.outputs()][:1] == ["Tensor?"]
    x = gpujit.tensor([1.0, 2.0])
    assert s(x, True).tolist() == [2.0, 3.0] and s(x, False).tolist() == [1.0, 2.0]
    loop = gpujit.jit.script(_optional_none_loop)
    assert loop.code == _OPTIONAL_LOOP_CODE          # (no widening cast in the loop body)
    assert len(_none_constants(loop.graph)) == 1
    assert loop(3) == 0 and loop(0) == -1
    s_int = gpujit.jit.script(_optional_none_if_int)
    line_int = _optional_none_if_int.__code__.co_firstlineno + 1
    (none,) = _none_constants(s_int.graph)
    assert none.startswith("%c.1 : NoneType = prim::Constant()") and \
        none.endswith(f":{line_int}:23")
    assert s_int(3, True) == 4 and s_int(3, False) == 3
    if _torch is not None:
        t = _torch.jit.script(_optional_none_if_int)
        (t_none,) = _none_constants(t.graph)
        assert t_none.split(" = ")[0].split(" : ")[1] == "NoneType"
        assert t_none.endswith(f":{line_int}:23")
        assert t.code == s_int.code
        assert _torch.jit.script(_optional_none_loop).code == _OPTIONAL_LOOP_CODE


# ---------------------------------------------------------------- 7. `and` / `or` narrowing
def _and_chain(x: Optional[int], z: Optional[int]) -> int:
    if x is not None and z is not None and x > z:
        return x - z
    return 0


def _or_value(x: Optional[int]) -> bool:
    y = x is None or x < 0
    return y


def _narrowed_in_while(x: Optional[int]) -> int:
    while x is not None and x > 0:
        x = x - 1
    return 0 if x is None else x


_AND_CHAIN_CODE = """def _and_chain(x: Optional[int],
    z: Optional[int]) -> int:
  if torch.__isnot__(x, None):
    x1 = unchecked_cast(int, x)
    _0, x0 = torch.__isnot__(z, None), x1
  else:
    _0, x0 = False, x
  if _0:
    x3 = unchecked_cast(int, x0)
    z1 = unchecked_cast(int, z)
    _1, x2, z0 = torch.gt(x3, z1), x3, z1
  else:
    _1, x2, z0 = False, x0, z
  if _1:
    x4 = unchecked_cast(int, x2)
    z2 = unchecked_cast(int, z0)
    _2 = torch.sub(x4, z2)
  else:
    _2 = 0
  return _2
"""


def test_and_or_narrowed_variables_are_outputs_of_their_if():
    # TorchScript's emitShortCircuitLogical stores the narrowed variable in the operand's
    # block: the If outputs it (the cast there, the variable itself on the other path) and
    # what follows reads that output; gpujit cast the variable before the chain again
    s = gpujit.jit.script(_and_chain)
    assert s.code == _AND_CHAIN_CODE
    assert s(5, 2) == 3 and s(1, 2) == 0 and s(None, 2) == 0 and s(5, None) == 0
    o = gpujit.jit.script(_or_value)
    assert "prim::If" in str(o.graph) and o(-1) and o(None) and not o(3)
    # the loop's condition narrows x for the condition only: the body's `x - 1` reads an
    # Optional[int], which torch 2.13 refuses too
    with pytest.raises(RuntimeError, match="sub"):
        gpujit.jit.script(_narrowed_in_while)
    if _torch is not None:
        assert _torch.jit.script(_and_chain).code == _AND_CHAIN_CODE
        assert _torch.jit.script(_or_value).code == o.code
        with pytest.raises(RuntimeError):
            _torch.jit.script(_narrowed_in_while)


# ---------------------------------------------------------------- 8. the declared return type
def _returns_narrower(x: int) -> Optional[int]:
    return x


def _returns_annotated_local(x: int) -> Optional[int]:
    y: Optional[int] = x
    return y


def _returns_str_for_union(x: int) -> Union[int, str]:
    return "b"


def _calls_narrower(x: int) -> int:
    y = _returns_narrower(x)
    if y is None:
        return 0
    return y + 1


def _adds_to_optional(x: int) -> int:
    y = _returns_narrower(x)
    return y + 1


def test_schema_and_code_say_the_declared_return_type():
    # TorchScript's schema and .code signature are the annotation's (`-> int?`), its graph
    # returns the value as it is (no unchecked_cast); gpujit's said the output's own type
    # (`-> int`) or kept a widening cast on the return
    for fn, schema in ((_returns_narrower, "(int x) -> int?"),
                       (_returns_annotated_local, "(int x) -> int?"),
                       (_returns_str_for_union, "(int x) -> Union(int, str)")):
        s = gpujit.jit.script(fn)
        assert s.schema == fn.__name__ + schema
        assert "unchecked_cast" not in str(s.graph)
        ann = "Optional[int]" if "?" in schema else "Union[int, str]"
        assert f"{fn.__name__}(x: int) -> {ann}:" in s.code
        buf = io.BytesIO()
        gpujit.jit.save(s, buf)
        back = gpujit.jit.load(io.BytesIO(buf.getvalue()))
        assert back.schema.endswith(schema.split(") ", 1)[1]) and back(3) == fn(3)
        if _torch is not None:
            t = _torch.jit.script(fn)
            assert str(t.schema) == str(s.schema) and t.code == s.code
            assert _torch.jit.load(io.BytesIO(buf.getvalue()))(3) == fn(3)
    # a caller sees the declared Optional[int], as torch's (refining it works, adding to
    # it is refused)
    c = gpujit.jit.script(_calls_narrower)
    assert c(3) == 4
    with pytest.raises(RuntimeError):
        gpujit.jit.script(_adds_to_optional)
    if _torch is not None:
        assert _torch.jit.script(_calls_narrower).code == c.code
        with pytest.raises(RuntimeError):
            _torch.jit.script(_adds_to_optional)
