"""Session 53 (c53): scripted functions that index tensors, lists and tuples, unpack
tuples, and loop over enumerate() / zip() / range(start, stop) / a tensor's rows / a dict's
keys print torch 2.13's value names and numbers in .graph (`%y.1`, `%13`):
gpujit/frontend/script/torch_names.py replays torch's emitSubscript (emitMultidimSlicing's
aten::select / slice / unsqueeze / index, the index emitted again and dropped, emitSliceOp's
start / end left to the schema's defaults, prim::TupleIndex), emitTupleAssign's unpacks with
LowerSimpleTuples, and emitFor's RangeValue / IterableTree (aten::__range_length, prim::min
of the lengths, aten::__derive_index, a SugaredTupleValue's tuple).

The expected texts were computed with torch 2.13 (`str(torch.jit.script(f).graph)`, the
`# file:line:col` comments dropped); with torch importable the tests also compare with
torch itself, comments and .code included."""

import re
import types
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import gpujit
import gpujit as torch

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs torch")


def select_ints(x, n: int):
    y = x[0]
    z = x[n + 1]
    return y + z + x[-1]


def slices(x, n: int):
    y = x[1:]
    z = x[:, 0]
    w = x[n:, :n]
    return y.sum() + z.sum() + w.sum()


def multidim(x):
    return x[None, 1:3, ..., 0]


def tensor_index(x, i):
    return x[:, i] + x[i, 0]


def list_slices(xs: List[int]):
    ys = xs[1:]
    return ys[::2]


def tuple_items(t: Tuple[int, int, int], x):
    a, b, c = t
    return x * a + t[-1]


def unpack_chunk(x):
    a, b = x.chunk(2)
    p = (a, b + 1)
    u, v = p
    return u - v + p[0]


def enumerate_loop(xs: List[int], x):
    for i, v in enumerate(xs, 1):
        x = x + i * v
    return x


def zip_loop(xs: List[int], ys: List[int]):
    s = 0
    for a, b in zip(xs, ys):
        s += a * b
    return s


def pairs_loop(xs: List[Tuple[int, int]]):
    s = 0
    for a, b in xs:
        s += a - b
    return s


def range_step(x, n: int):
    for i in range(1, n, 2):
        x = x * i
    return x


def rows_and_keys(x, d: Dict[str, int]):
    for row in x:
        x = x + row
    s = 0
    for k in d:
        s += d[k]
    return x * s


def while_true(x, n: int):
    while True:
        n -= 1
        if n < 0:
            break
        x = x + 1
    return x


def zip_ranges(x, n: int, xs: List[int]):
    for i, j in zip(range(n), range(2, n + 2)):
        x = x + i * j
    return x, [a * b for a, b in zip(range(1, n, 2), xs)]


def not_and_dtype(x, b: bool, c: bool):
    if b and not c:
        x = x.to(torch.float64)
    return x, "n={}".format(not b)


def set_items(x, y, xs: List[int], n: int):
    x[0] = 1.0
    x[n:, 1] = y[0]
    x[y > 0] = 2
    xs[n] = n + 1
    return x, xs


def isinstance_optional(x: Optional[int], n: int):
    if not isinstance(x, int):
        x = n
    return x * 2


_FNS = {f.__name__: f for f in (isinstance_optional, set_items, select_ints, slices, multidim, tensor_index, list_slices,
                                 tuple_items, unpack_chunk, enumerate_loop, zip_loop,
                                 pairs_loop, range_step, rows_and_keys, while_true,
                                 zip_ranges, not_and_dtype)}

# str(torch.jit.script(f).graph) under torch 2.13, comments dropped
_EXPECTED = {
    "select_ints": """graph(%x.1 : Tensor,
      %n.1 : int):
  %26 : int = prim::Constant[value=-1]()
  %3 : int = prim::Constant[value=0]()
  %8 : int = prim::Constant[value=1]()
  %y.1 : Tensor = aten::select(%x.1, %3, %3)
  %13 : int = aten::add(%n.1, %8)
  %z.1 : Tensor = aten::select(%x.1, %3, %13)
  %19 : Tensor = aten::add(%y.1, %z.1, %8)
  %28 : Tensor = aten::select(%x.1, %3, %26)
  %30 : Tensor = aten::add(%19, %28, %8)
  return (%30)
""",
    "slices": """graph(%x.1 : Tensor,
      %n.1 : int):
  %6 : NoneType = prim::Constant()
  %4 : int = prim::Constant[value=1]()
  %9 : int = prim::Constant[value=0]()
  %y.1 : Tensor = aten::slice(%x.1, %9, %4, %6, %4)
  %14 : Tensor = aten::slice(%x.1, %9, %6, %6, %4)
  %z.1 : Tensor = aten::select(%14, %4, %9)
  %22 : Tensor = aten::slice(%x.1, %9, %n.1, %6, %4)
  %w.1 : Tensor = aten::slice(%22, %4, %6, %n.1, %4)
  %30 : Tensor = aten::sum(%y.1, %6)
  %33 : Tensor = aten::sum(%z.1, %6)
  %35 : Tensor = aten::add(%30, %33, %4)
  %38 : Tensor = aten::sum(%w.1, %6)
  %40 : Tensor = aten::add(%35, %38, %4)
  return (%40)
""",
    "tensor_index": """graph(%x.1 : Tensor,
      %i.1 : Tensor):
  %7 : NoneType = prim::Constant()
  %6 : int = prim::Constant[value=1]()
  %16 : int = prim::Constant[value=0]()
  %9 : Tensor = aten::slice(%x.1, %16, %7, %7, %6)
  %11 : Tensor?[] = prim::ListConstruct(%7, %i.1)
  %12 : Tensor = aten::index(%9, %11)
  %18 : Tensor = aten::select(%x.1, %6, %16)
  %19 : Tensor?[] = prim::ListConstruct(%i.1)
  %20 : Tensor = aten::index(%18, %19)
  %22 : Tensor = aten::add(%12, %20, %6)
  return (%22)
""",
    "tuple_items": """graph(%t.1 : (int, int, int),
      %x.1 : Tensor):
  %14 : int = prim::Constant[value=1]()
  %12 : int = prim::Constant[value=-1]()
  %a.1 : int, %b : int, %c : int = prim::TupleUnpack(%t.1)
  %8 : Tensor = aten::mul(%x.1, %a.1)
  %13 : int = prim::TupleIndex(%t.1, %12)
  %15 : Tensor = aten::add(%8, %13, %14)
  return (%15)
""",
    "unpack_chunk": """graph(%x.1 : Tensor):
  %3 : int = prim::Constant[value=0]()
  %2 : int = prim::Constant[value=2]()
  %9 : int = prim::Constant[value=1]()
  %4 : Tensor[] = aten::chunk(%x.1, %2, %3)
  %a.1 : Tensor, %b.1 : Tensor = prim::ListUnpack(%4)
  %11 : Tensor = aten::add(%b.1, %9, %9)
  %19 : Tensor = aten::sub(%a.1, %11, %9)
  %24 : Tensor = aten::add(%19, %a.1, %9)
  return (%24)
""",
    "enumerate_loop": """graph(%xs.1 : int[],
      %x.1 : Tensor):
  %10 : bool = prim::Constant[value=1]()
  %36 : int = prim::Constant[value=9223372036854775806]()
  %2 : int = prim::Constant[value=1]()
  %7 : int = aten::len(%xs.1)
  %8 : int[] = prim::ListConstruct(%36, %7)
  %9 : int = prim::min(%8)
  %x : Tensor = prim::Loop(%9, %10, %x.1)
    block0(%11 : int, %x.11 : Tensor):
      %i.1 : int = aten::__derive_index(%11, %2, %2)
      %v.1 : int = aten::__getitem__(%xs.1, %11)
      %18 : int = aten::mul(%i.1, %v.1)
      %x.5 : Tensor = aten::add(%x.11, %18, %2)
      -> (%10, %x.5)
  return (%x)
""",
    "zip_loop": """graph(%xs.1 : int[],
      %ys.1 : int[]):
  %9 : bool = prim::Constant[value=1]()
  %s.1 : int = prim::Constant[value=0]()
  %5 : int = aten::len(%xs.1)
  %6 : int = aten::len(%ys.1)
  %7 : int[] = prim::ListConstruct(%5, %6)
  %8 : int = prim::min(%7)
  %s : int = prim::Loop(%8, %9, %s.1)
    block0(%10 : int, %s.11 : int):
      %a.1 : int = aten::__getitem__(%xs.1, %10)
      %b.1 : int = aten::__getitem__(%ys.1, %10)
      %17 : int = aten::mul(%a.1, %b.1)
      %s.5 : int = aten::add(%s.11, %17)
      -> (%9, %s.5)
  return (%s)
""",
    "rows_and_keys": """graph(%x.1 : Tensor,
      %d.1 : Dict(str, int)):
  %10 : int = prim::Constant[value=1]()
  %4 : bool = prim::Constant[value=1]()
  %s.1 : int = prim::Constant[value=0]()
  %3 : int = aten::len(%x.1)
  %x : Tensor = prim::Loop(%3, %4, %x.1)
    block0(%5 : int, %x.13 : Tensor):
      %row.1 : Tensor = aten::select(%x.1, %s.1, %5)
      %x.7 : Tensor = aten::add(%x.13, %row.1, %10)
      -> (%4, %x.7)
  %15 : str[] = aten::keys(%d.1)
  %16 : int = aten::len(%15)
  %s : int = prim::Loop(%16, %4, %s.1)
    block0(%18 : int, %s.11 : int):
      %k.1 : str = aten::__getitem__(%15, %18)
      %23 : int = aten::__getitem__(%d.1, %k.1)
      %s.5 : int = aten::add(%s.11, %23)
      -> (%4, %s.5)
  %28 : Tensor = aten::mul(%x, %s)
  return (%28)
""",
}


def _bare(text):
    return re.sub(r" # [^\n]*", "", text)


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_graph_names_are_torchs(name):
    g = torch.jit.script(_FNS[name]).graph
    assert _bare(str(g)) == _EXPECTED[name], str(g)


def _t(a):
    return gpujit.from_numpy(np.asarray(a, np.float32))


def test_indexing_computes_as_numpy():
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    np.testing.assert_allclose(torch.jit.script(select_ints)(_t(x), 1).numpy(),
                               x[0] + x[2] + x[-1])
    np.testing.assert_allclose(torch.jit.script(slices)(_t(x), 2).numpy(),
                               x[1:].sum() + x[:, 0].sum() + x[2:, :2].sum())
    x3 = x.reshape(4, 3, 2)
    np.testing.assert_allclose(torch.jit.script(multidim)(_t(x3)).numpy(),
                               x3[None, 1:3, ..., 0])
    i = gpujit.from_numpy(np.array([2, 0]))
    np.testing.assert_allclose(torch.jit.script(tensor_index)(_t(x), i).numpy(),
                               x[:, [2, 0]] + x[[2, 0], 0])
    assert torch.jit.script(list_slices)([1, 2, 3, 4, 5, 6]) == [2, 4, 6]
    np.testing.assert_allclose(torch.jit.script(tuple_items)((2, 3, 5), _t(x)).numpy(),
                               x * 2 + 5)
    a, b = np.split(x, 2)
    np.testing.assert_allclose(torch.jit.script(unpack_chunk)(_t(x)).numpy(), a - (b + 1) + a)


def test_loops_compute_as_python():
    x = np.arange(3, dtype=np.float32)
    np.testing.assert_allclose(torch.jit.script(enumerate_loop)([4, 5], _t(x)).numpy(),
                               enumerate_loop([4, 5], x.copy()))
    assert torch.jit.script(zip_loop)([1, 2, 3], [4, 5]) == 14
    assert torch.jit.script(pairs_loop)([(5, 1), (2, 7)]) == -1
    np.testing.assert_allclose(torch.jit.script(range_step)(_t(x), 6).numpy(), x * 15)
    m = np.ones((2, 2), np.float32)
    np.testing.assert_allclose(torch.jit.script(rows_and_keys)(_t(m), {"a": 2, "b": 3}).numpy(),
                               rows_and_keys(m.copy(), {"a": 2, "b": 3}))
    np.testing.assert_allclose(torch.jit.script(while_true)(_t(x), 3).numpy(), x + 3)
    out, s = torch.jit.script(not_and_dtype)(_t(x), True, False)
    assert out.dtype == torch.float64 and s == "n=False"


def test_set_items_compute_as_numpy():
    x = np.zeros((3, 3), np.float32)
    y = np.array([-1.0, 2.0, 3.0], np.float32)
    out, xs = torch.jit.script(set_items)(_t(x), _t(y), [5, 5, 5], 1)
    want = x.copy()
    want[0] = 1.0
    want[1:, 1] = y[0]
    want[y > 0] = 2
    np.testing.assert_allclose(out.numpy(), want)
    assert xs == [5, 2, 5]
    text = _bare(str(torch.jit.script(set_items).graph))
    # torch 2.13: the number made a tensor of the view's dtype and device, copied in
    assert "%9 : int = prim::dtype(%8)" in text
    assert "%12 : Tensor = aten::tensor(%4, %9, %10, %11)" in text
    assert " = aten::index_put_(%x.1, %" in text


def test_zip_of_ranges():
    # zip(range(n), range(a, b)) in a for loop or a comprehension (gpujit refused range()
    # there: "range cannot be used as a value"); torch 2.13's graph: prim::min of n and
    # aten::__range_length, aten::__derive_index of the loop index
    s = torch.jit.script(zip_ranges)
    x = np.zeros(2, np.float32)
    for n, xs in ((4, [1, 2, 3]), (0, [5]), (7, [1])):
        out, lst = s(_t(x), n, xs)
        want, wlst = zip_ranges(x.copy(), n, xs)
        np.testing.assert_allclose(out.numpy(), want)
        assert lst == wlst
    text = _bare(str(s.graph))
    assert "prim::ListConstruct(%n.1, %" in text and "aten::__derive_index(%i.1, %" in text


def test_isinstance_of_optional():
    # torch 2.13: prim::isinstance[types=[int]] (not `x is not None`), x refined where
    # it holds; .code `isinstance(x, int)`
    s = torch.jit.script(isinstance_optional)
    text = _bare(str(s.graph))
    assert "%3 : bool = prim::isinstance[types=[int]](%x.1)" in text
    assert "%x.15 : int = prim::unchecked_cast(%x.1)" in text
    assert "isinstance(x, int)" in s.code
    assert s(None, 4) == 8 and s(3, 4) == 6


def test_negative_tuple_index_kept():
    # torch 2.13 keeps t[-1]'s -1 in prim::TupleIndex (.code `(t)[-1]`)
    s = torch.jit.script(tuple_items)
    assert "prim::TupleIndex(%t.1, %" in str(s.graph)
    assert "(t)[-1]" in s.code
    assert any(n.kind == "prim::Constant" and n.attrs.get("value") == -1
               for n in s.graph.nodes)


def test_tensor_index_fills_with_none():
    # torch 2.13: the dims not indexed by a tensor get createNone's NoneType constant
    text = _bare(str(torch.jit.script(tensor_index).graph))
    assert "Tensor? = prim::Constant()" not in text
    assert re.search(r"%(\d+) : Tensor\?\[\] = prim::ListConstruct\(%(\d+), %i\.1\)", text)


def test_names_numbered_once():
    for name in ("slices", "enumerate_loop", "unpack_chunk"):
        g = torch.jit.script(_FNS[name]).graph
        names = [v.debug_name for n in g.walk() for v in n.outputs] + \
            [v.debug_name for v in g.inputs]
        assert len(names) == len(set(names)), name
        v = g.copy().insert_constant(7)
        assert v.debug_name not in names


def _torch_twin(fn):
    """fn with `torch` bound to torch itself (same code, same source lines)."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, "torch": _torch},
                              fn.__name__, fn.__defaults__)


@needs_torch
@pytest.mark.parametrize("name", sorted(_FNS))
def test_graph_and_code_equal_torchs(name):
    fn = _FNS[name]
    mine, theirs = torch.jit.script(fn), _torch.jit.script(_torch_twin(fn))
    assert str(mine.graph) == str(theirs.graph)
    assert mine.code == theirs.code


@needs_torch
def test_expected_texts_are_torchs():
    for name, text in _EXPECTED.items():
        assert _bare(str(_torch.jit.script(_torch_twin(_FNS[name])).graph)) == text
