"""TorchScript differences left by session 25, fixed in session 26 (helper C26).
torch 2.13's TorchScript is the spec; each expected value here is what it answers.

- The str methods count, find, rfind, index, rindex, startswith and endswith take
  TorchScript's optional start/end (`aten::count(str self, str substr, int start=0,
  int end=-1) -> int`) with its semantics: a negative end is one past Python's (end=-1 is
  the whole str), a start past the str is std::string::substr's RuntimeError, count counts
  matches that begin before end ("abab".count("ab", 0, 3) is 2).
- `.code` leaves out the trailing arguments of an op call that are constants equal to
  their schema defaults, as TorchScript's printer does (`torch.add(x, y)`,
  `torch.sum(x, [0])`, `torch.zeros([2, 3])`); saved archives compile back the same ops.
- aten::tensor of a nested list (`int[][]`, `float[][][]`) in a graph parsed from IR text
  runs (TorchScript's `aten::tensor(t[] data, *, ScalarType? dtype=None, Device? device=None,
  bool requires_grad=False)`), with its error for a ragged list.
- jit.save of a module holding a torch.Generator attribute raises RuntimeError with
  TorchScript's words ("Unknown IValue type for pickling: Generator"), as torch does.
- A list literal of mixed element types is a List of their Union, with TorchScript's
  warning ([1, "a"] is a List[Union[int, str]], [1, 2.0] a List[Union[float, int]],
  [(1, 2), (1, "a")] a List[Tuple[int, Union[int, str]]]); a dict literal's values too;
  mixed dict keys are TorchScript's error ("Dict keys must contain only a single type").
- Sorting a float list with a nan or a -0.0 of any length follows libstdc++'s std::sort
  (introsort, heapsort fallback, final insertion sort), as TorchScript's list sort: the
  order of a nan among more than 16 floats, and of 0.0 / -0.0 (std::sort is not stable).
- An op's ScalarType argument takes TorchScript's int code of a dtype (6 is float32, 7
  float64, 4 int64, 11 bool), as TorchScript's graphs and scripted code pass it
  (`torch.zeros([2], dtype=6)`, `%d : int = prim::Constant[value=7]()` in IR text).
- aten::to.dtype / aten::to.device take TorchScript's `MemoryFormat? memory_format=None`
  (a TorchScript graph's `aten::to(%x, %dtype, %false, %false, %none)` runs; scripted
  `x.to(torch.float64, memory_format=...)` is to.dtype, as TorchScript resolves it).
"""
from __future__ import annotations

from typing import List

import io
import warnings

import numpy as np
import pytest

import gpujit as torch


# ------------------------------------------------------------------ 1. str start/end

def test_str_methods_take_start_and_end():
    @torch.jit.script
    def f(s: str) -> List[int]:
        return [s.count("a"), s.count("a", 2), s.count("a", 2, 5), s.count("a", -4, -1),
                s.find("a", 2), s.find("a", 2, 4), s.rfind("a", 0, 4), s.rfind("a", -3),
                s.index("a", 1), s.rindex("a", 0, 5)]

    @torch.jit.script
    def g(s: str) -> List[bool]:
        return [s.startswith("a", 1), s.startswith("b", 1, 3), s.endswith("a", 0, 4),
                s.endswith("b", 1), s.endswith("ab", -3, -1)]

    # torch 2.13's answers (s.count("a", -4, -1) is 2: end=-1 is the str's end there)
    assert f("abaabca") == [4, 3, 2, 2, 2, 2, 3, 6, 2, 3]
    assert g("abaabca") == [False, True, True, False, False]


_CASES = [("abab", "ab", 0, 3), ("abcd", "c", 2, 1), ("abcd", "a", -10, -1),
          ("abcd", "d", 0, -2), ("abcd", "", 0, 0), ("abcd", "cd", 1, 100),
          ("abcd", "", 2, 1), ("abcd", "b", 1, 1), ("aaaa", "aa", 0, -1), ("abcd", "", 4, -1)]
# torch 2.13's answers for _CASES, method by method
_EXPECTED = {
    "count": [2, 0, 1, 0, 0, 1, 0, 0, 2, 0],
    "startswith": [True, True, True, False, True, False, True, False, True, True],
    "endswith": [False, False, False, False, True, True, True, False, True, True],
    "find": [0, -1, 0, -1, 0, 2, 2, -1, 0, 4],
    "rfind": [0, -1, 0, -1, 0, 2, 2, -1, 2, 4],
    "index": [0, None, 0, None, 0, 2, 2, None, 0, 4],
    "rindex": [0, None, 0, None, 0, 2, 2, None, 2, 4],
}


def _scripted(method):
    ret = "bool" if method.endswith("with") else "int"
    src = (f"def fn(s: str, sub: str, a: int, b: int) -> {ret}:\n"
           f"    return s.{method}(sub, a, b)\n")
    return torch.jit.CompilationUnit(src).fn


@pytest.mark.parametrize("method", sorted(_EXPECTED))
def test_str_start_end_edge_cases(method):
    fn = _scripted(method)
    for case, want in zip(_CASES, _EXPECTED[method]):
        if want is None:
            with pytest.raises(RuntimeError, match="substring not found"):
                fn(*case)
        else:
            assert fn(*case) == want, (method, case)


@pytest.mark.parametrize("method", ["startswith", "endswith", "find", "rfind", "index"])
def test_str_start_past_the_end_is_substr_error(method):
    fn = _scripted(method)
    with pytest.raises(RuntimeError, match="substr"):
        fn("abcd", "d", 5, 9)
    assert _scripted("count")("abcd", "d", 5, 9) == 0


def test_str_count_of_empty_substr_terminates():
    # TorchScript's loop never ends for an empty substr before end; gpujit answers Python's
    # count on the window; where TorchScript's loop ends it answers 0 as TorchScript does
    fn = _scripted("count")
    assert fn("abcd", "", 1, 3) == 3
    assert fn("abcd", "", 0, -1) == 5
    assert fn("", "", 0, -1) == 0
    assert fn("abcd", "", 5, 9) == 0


# ------------------------------------------------------------------ 2. .code drops defaults

def _defaults_fn(x, y):
    a = torch.add(x, y)
    b = torch.add(x, y, alpha=2)
    c = x.sum(0)
    d = x.sum(0, True)
    e = torch.softmax(x, 0)
    g = x[1:]
    h = x.transpose(0, 1).contiguous()
    i = torch.zeros([2, 3])
    k = torch.max(x, 1)[0]
    m = torch.mean(x)
    n = torch.std(x, [0])
    p = x.view(-1).split(2)
    q = torch.sum(x, dtype=torch.float64)
    return a, b, c, d, e, g, h, i, k, m, n, p, q


# torch 2.13's text for these calls (`.code` of the same function)
_TORCH_LINES = ["a = torch.add(x, y)", "b = torch.add(x, y, alpha=2)",
                "c = torch.sum(x, [0])", "d = torch.sum(x, [0], True)",
                "e = torch.softmax(x, 0)", "g = torch.slice(x, 0, 1)",
                "h = torch.contiguous(torch.transpose(x, 0, 1))", "i = torch.zeros([2, 3])",
                "_0, _1 = torch.max(x, 1)", "m = torch.mean(x)", "n = torch.std(x, [0])",
                "p = torch.split(torch.view(x, [-1]), 2)"]


def test_code_leaves_out_trailing_default_arguments():
    f = torch.jit.script(_defaults_fn)
    lines = [s.strip() for s in f.code.splitlines()]
    for want in _TORCH_LINES:
        assert want in lines, (want, f.code)
    # a non-default keyword argument stays (a dtype is its ScalarType number, as torch's)
    assert "q = torch.sum(x, dtype=7)" in lines
    # and the code compiles back to the same ops with the same results
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    buf.seek(0)
    g = torch.jit.load(buf)
    x, y = torch.randn(4, 4), torch.randn(4, 4)
    for r1, r2 in zip(f(x, y), g(x, y)):
        if isinstance(r1, (list, tuple)):
            assert all(np.array_equal(u.numpy(), v.numpy()) for u, v in zip(r1, r2))
        else:
            assert np.array_equal(r1.numpy(), r2.numpy())
    schemas = [[str(n.op.schema) for n in h.graph.walk() if n.op is not None]
               for h in (f, g)]
    assert schemas[0] == schemas[1]


def test_code_keeps_a_default_of_another_type_and_out_arguments():
    @torch.jit.script
    def f(x, o):
        return torch.add(x, 1, alpha=1.0), torch.add(x, x, out=o)
    text = f.code
    # alpha=1. is a float, the default 1 an int: TorchScript's IValue == tells them apart
    assert "torch.add(x, 1, alpha=1.)" in text
    assert "torch.add(x, x, out=o)" in text


def test_code_drops_defaults_as_torch_does_differential():
    real = pytest.importorskip("torch")
    ours = torch.jit.script(_defaults_fn).code
    theirs = real.jit.script(_torch_version(real)).code
    for line in _TORCH_LINES:
        assert line in [s.strip() for s in theirs.splitlines()]
        assert line in [s.strip() for s in ours.splitlines()]


def _torch_version(real):
    """_defaults_fn with `torch` bound to PyTorch."""
    import types
    return types.FunctionType(_defaults_fn.__code__, {**_defaults_fn.__globals__,
                                                      "torch": real})


def test_chain_prints_three_calls_a_line_as_torch():
    lines = ["graph(%x : Tensor):", "  %one : int = prim::Constant[value=1]()"]
    prev = "x"
    for k in range(6):
        lines.append(f"  %{k} : Tensor = aten::add(%{prev}, %one, %one)")
        prev = str(k)
    lines.append(f"  return (%{prev})")
    g = torch._C.parse_ir("\n".join(lines) + "\n")
    code = torch._C._create_function_from_graph("f", g).code
    # torch 2.13's text
    assert code.splitlines()[1:] == ["  _0 = torch.add(torch.add(torch.add(x, 1), 1), 1)",
                                     "  _1 = torch.add(torch.add(torch.add(_0, 1), 1), 1)",
                                     "  return _1"]


# ------------------------------------------------------------------ 3. aten::tensor nested

# PyTorch's test/jit/test_ignorable_args.py test_slice_ignorable_args_for_slice: its graph
_IGNORABLE = """graph():
    %15 : int = prim::Constant[value=9223372036854775807]()
    %13 : int = prim::Constant[value=0]()
    %10 : bool = prim::Constant[value=0]()
    %8 : NoneType = prim::Constant()
    %0 : int = prim::Constant[value=1]()
    %1 : int = prim::Constant[value=2]()
    %2 : int = prim::Constant[value=3]()
    %3 : int = prim::Constant[value=4]()
    %4 : int = prim::Constant[value=9]()
    %5 : int[] = prim::ListConstruct(%0, %1, %2, %3, %4, %4)
    %6 : int[] = prim::ListConstruct(%0, %1, %2, %3, %4, %4)
    %7 : int[][] = prim::ListConstruct(%5, %6)
    %val.1 : Tensor = aten::tensor(%7, %8, %8, %10)
    %16 : Tensor = aten::slice(%val.1, %13, %1, %15, %0)
    %20 : Tensor = aten::slice(%16, %0, %13, %0, %0)
    return (%20)"""


def test_slice_ignorable_args_for_slice():
    fn = torch._C._create_function_from_graph("forward", torch._C.parse_ir(_IGNORABLE))
    src = fn.code
    # torch 2.13 prints end=9223372036854775807 (its slice's end default is None now) and
    # drops step=1 (dim 0) and step=1 (dim 1)
    assert "torch.slice(_1, 1, 0, 1)" in src
    assert "torch.slice(val, 0, 2, 9223372036854775807)" in src or \
        "torch.slice(torch.tensor(_0), 0, 2, 9223372036854775807)" in src
    assert "torch.tensor(_0)" in src
    out = fn()
    assert out.shape == (0, 1) and out.dtype == torch.int64
    buf = io.BytesIO()
    torch.jit.save(fn, buf)
    buf.seek(0)
    assert torch.jit.load(buf)().shape == (0, 1)


def test_parse_ir_tensor_of_nested_lists():
    g = torch._C.parse_ir("""graph(%x : float[][][], %y : int[][], %z : bool[][]):
  %n : NoneType = prim::Constant()
  %f : bool = prim::Constant[value=0]()
  %a : Tensor = aten::tensor(%x, %n, %n, %f)
  %b : Tensor = aten::tensor(%y, %n, %n, %f)
  %c : Tensor = aten::tensor(%z, %n, %n, %f)
  return (%a, %b, %c)""")
    fn = torch._C._create_function_from_graph("forward", g)
    a, b, c = fn([[[1.0], [2.0]], [[3.0], [4.5]]], [[1, 2, 3]], [[True], [False]])
    assert a.dtype == torch.float32 and a.shape == (2, 2, 1)
    assert np.array_equal(a.numpy().ravel(), [1.0, 2.0, 3.0, 4.5])
    assert b.dtype == torch.int64 and b.tolist() == [[1, 2, 3]]
    assert c.dtype == torch.bool and c.tolist() == [[True], [False]]
    # torch 2.13's error for a ragged list
    with pytest.raises(RuntimeError, match=r"Expected sequence of length 2 at dim 1 \(got 1\)"):
        fn([[[1.0], [2.0]], [[3.0]]], [[1]], [[True]])


def test_tensor_of_a_list_of_non_numbers_fails_when_it_runs():
    # TorchScript compiles these (aten::tensor takes any t[]) and fails at run time
    cu = torch.jit.CompilationUnit("""
def f():
    return torch.tensor([None])

def g():
    return torch.tensor(["a"])
""")
    with pytest.raises(RuntimeError, match="Input must be of ints, floats, or bools, "
                                           "got NoneType"):
        cu.f()
    with pytest.raises(RuntimeError, match="got str"):
        cu.g()


def test_scripted_tensor_of_flat_lists_keeps_its_overloads():
    @torch.jit.script
    def f(y: List[float]):
        return torch.tensor(y), torch.tensor([1, 2])
    kinds = [str(n.op.schema).split("(")[0] for n in f.graph.walk()
             if n.kind == "aten::tensor"]
    assert kinds == ["aten::tensor.float_list", "aten::tensor.int_list"]


# ------------------------------------------------------------------ 4. Generator attribute

class _WithGenerator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gen = torch.Generator().manual_seed(3)

    def forward(self, x):
        return x + torch.rand(x.shape, generator=self.gen)


@pytest.mark.no_save_roundtrip
def test_save_of_a_generator_attribute_is_runtime_error():
    m = torch.jit.script(_WithGenerator())
    assert m(torch.zeros(2)).shape == (2,)
    with pytest.raises(RuntimeError, match="Unknown IValue type for pickling: Generator"):
        torch.jit.save(m, io.BytesIO())


# ------------------------------------------------------------------ 5. mixed list literals

# (source, the return type torch 2.13 infers)
_MIXED = [
    ("def f():\n    return [1, 'a']\n", "List[Union[int, str]]", [1, "a"]),
    ("def f():\n    return [1, 2.0]\n", "List[Union[float, int]]", [1, 2.0]),
    ("def f():\n    return [True, 1]\n", "List[Union[int, bool]]", [True, 1]),
    ("def f():\n    return [1, 2.0, 'a', True]\n", "List[Union[float, int, str, bool]]",
     [1, 2.0, "a", True]),
    ("def f():\n    return [[1], [2.0]]\n", "List[Union[List[float], List[int]]]",
     [[1], [2.0]]),
    ("def f():\n    return [(1, 2), (1, 'a')]\n", "List[Tuple[int, Union[int, str]]]",
     [(1, 2), (1, "a")]),
    ("def f():\n    return [x for x in [1, 'a']]\n", "List[Union[int, str]]", [1, "a"]),
    ("def f():\n    return {'a': 1, 'b': 'x'}\n", "Dict[str, Union[int, str]]",
     {"a": 1, "b": "x"}),
]


@pytest.mark.parametrize("src, annotation, value", _MIXED)
def test_mixed_literal_is_a_union_container(src, annotation, value):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn = torch.jit.CompilationUnit(src).f
    assert fn.graph.outputs[0].type.annotation() == annotation
    assert fn() == value
    if "Tuple" not in annotation:
        assert any("heterogeneous types" in str(x.message) and
                   "assert isinstance" in str(x.message) for x in w)


def test_mixed_list_with_a_tensor_and_refinement():
    src = """
def f(t: Tensor) -> float:
    xs = [t, 1]
    ys = [1, 2.0]
    y = ys[1]
    assert isinstance(y, float)
    a = xs[1]
    assert isinstance(a, int)
    return y + a
"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = torch.jit.CompilationUnit(src).f
    assert fn(torch.ones(2)) == 3.0


def test_mixed_list_element_needs_refinement():
    src = "def f() -> int:\n    xs = [1, 'a']\n    return xs[0] + 1\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match=r"Union\[int, str\]"):
            torch.jit.CompilationUnit(src)


def test_mixed_dict_keys_are_an_error():
    with pytest.raises(RuntimeError, match="Dict keys must contain only a single type. "
                                           "Expected: str but found int instead"):
        torch.jit.CompilationUnit("def f():\n    return {'a': 1, 2: 1}\n")


def test_append_to_a_union_list_checks_the_element():
    src = "def f():\n    x = [1, 'a']\n    x.append(2.0)\n    return x\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="append"):
            torch.jit.CompilationUnit(src)


# ------------------------------------------------------------------ 6. float sort

_SORT = """
def srt(xs: List[float], r: bool) -> List[float]:
    xs.sort(reverse=r)
    return xs

def sd(xs: List[float]) -> List[float]:
    return sorted(xs)
"""
_NAN = float("nan")
# (input, torch 2.13's sorted() of it)
_SORTED_WITH_NAN = [
    ([5.0, 8.0, _NAN, 3.0, 2.0, _NAN, 3.0, 1.0, 0.0, 6.0, 6.0, _NAN, 2.0, 7.0, _NAN, _NAN, 3.0],
     [0.0, 2.0, 3.0, _NAN, _NAN, 2.0, _NAN, 1.0, 3.0, 6.0, 6.0, _NAN, 3.0, 7.0, _NAN, 5.0, 8.0]),
    ([2.0, 4.0, 3.0, 3.0, _NAN, 3.0, 6.0, 5.0, 2.0, 5.0, 9.0, 9.0, 5.0, _NAN, 4.0, 5.0, _NAN,
      2.0, _NAN, 0.0, 5.0, 0.0, 6.0, 9.0],
     [0.0, 0.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0, 5.0, _NAN, 2.0, _NAN, 2.0, 4.0, 5.0, _NAN, 5.0,
      5.0, 6.0, 9.0, 9.0, _NAN, 6.0, 9.0]),
    ([7.0, _NAN, _NAN, 3.0, _NAN, _NAN, 7.0, 5.0, 4.0, 1.0, 5.0, 0.0, 1.0, _NAN, 5.0, 5.0, 8.0,
      _NAN, 4.0, _NAN, _NAN, _NAN, 7.0, _NAN, _NAN, 8.0, 0.0, _NAN, 4.0, 6.0, _NAN, 0.0, 5.0,
      2.0, 9.0, 6.0, _NAN, 2.0, _NAN, 2.0],
     [_NAN, _NAN, 7.0, _NAN, _NAN, 0.0, 8.0, _NAN, 4.0, 6.0, _NAN, 0.0, 2.0, 5.0, 6.0, 9.0,
      _NAN, 2.0, _NAN, 2.0, 5.0, _NAN, 4.0, _NAN, 3.0, _NAN, _NAN, 0.0, 1.0, 1.0, 4.0, 5.0,
      7.0, _NAN, 5.0, 5.0, 7.0, 8.0, _NAN, _NAN]),
]


@pytest.mark.parametrize("xs, want", _SORTED_WITH_NAN)
def test_float_sort_with_nan_longer_than_16_is_torchscripts(xs, want):
    cu = torch.jit.CompilationUnit(_SORT)
    assert repr(cu.sd(list(xs))) == repr(want)
    assert repr(cu.srt(list(xs), False)) == repr(want)


def test_float_sort_of_signed_zeros_is_std_sort():
    # 17 elements: std::sort's partition moves 0.0 and -0.0 past each other (torch 2.13)
    xs = [0.0, -0.0] * 8 + [1.0]
    cu = torch.jit.CompilationUnit(_SORT)
    got = cu.srt(list(xs), False)
    assert got == sorted(xs)
    assert repr(got) == repr(_std_sorted_reference(xs, False))


def _std_sorted_reference(xs, reverse):
    from gpujit.runtime.container_ops import _std_sort
    return _std_sort(xs, lambda a, b: a != b and (a < b) != reverse)


def test_std_sort_sorts_a_strict_weak_order():
    import random
    from gpujit.runtime.container_ops import _std_sort
    rng = random.Random(0)
    for n in list(range(0, 40)) + [100, 257, 1000]:
        xs = [rng.randint(0, 9) for _ in range(n)]
        assert _std_sort(xs, lambda a, b: a < b) == sorted(xs)
    organ = list(range(500)) + list(range(500, 0, -1))       # deep recursion: heapsort
    assert _std_sort(organ, lambda a, b: a < b) == sorted(organ)


def test_float_sort_differential():
    real = pytest.importorskip("torch")
    import random
    rng = random.Random(3)
    ours = torch.jit.CompilationUnit(_SORT)
    theirs = real.jit.CompilationUnit(_SORT)
    for _ in range(40):
        n = rng.choice([5, 16, 17, 30, 80])
        xs = [rng.choice([_NAN, 0.0, -0.0, 1.0, 2.0, float(rng.randint(0, 9))])
              for _ in range(n)]
        assert repr(ours.srt(list(xs), False)) == repr(theirs.srt(list(xs), False))
        if n <= 16 or not any(x != x for x in xs):
            # (a reverse sort of more than 16 floats with a nan reads past the list in
            # TorchScript: it fails or crashes)
            assert repr(ours.srt(list(xs), True)) == repr(theirs.srt(list(xs), True))


# ------------------------------------------------------------------ 7. ScalarType int codes

def test_scalar_type_int_codes_in_scripted_code():
    cu = torch.jit.CompilationUnit("""
def f(x: Tensor):
    y = torch.zeros([2], dtype=7) + x
    return y * 2, torch.ones([2], dtype=4), x.to(11)
""")
    for _ in range(3):           # (profiled, then specialized and fused)
        a, b, c = cu.f(torch.ones(2))
        assert a.dtype == torch.float64 and a.tolist() == [2.0, 2.0]
        assert b.dtype == torch.int64 and c.dtype == torch.bool


def test_scalar_type_int_codes_in_parsed_ir():
    g = torch._C.parse_ir("""graph(%y : int[][]):
  %n : NoneType = prim::Constant()
  %f : bool = prim::Constant[value=0]()
  %d : int = prim::Constant[value=7]()
  %s : int[] = prim::ListConstruct()
  %e : Tensor = aten::tensor(%y, %d, %n, %f)
  %z : Tensor = aten::zeros(%s, %d, %n, %n, %n)
  return (%e, %z)""")
    fn = torch._C._create_function_from_graph("forward", g)
    e, z = fn([[1, 2]])
    assert e.dtype == torch.float64 and e.tolist() == [[1.0, 2.0]]
    assert z.dtype == torch.float64 and z.shape == ()


def test_scalar_type_code_gpujit_lacks():
    cu = torch.jit.CompilationUnit("def f():\n    return torch.zeros([2], dtype=12)\n")
    # (since s49 a quantized dtype is a ScalarType argument; factories refuse it in words)
    with pytest.raises((TypeError, RuntimeError),
                       match=r"ScalarType 12 \(QInt8\)|makes qint8 tensors only with"):
        cu.f()
    # (15, BFloat16, is a dtype since session 45)
    cu = torch.jit.CompilationUnit("def f():\n    return torch.zeros([2], dtype=15)\n")
    assert cu.f().dtype is torch.bfloat16


# ------------------------------------------------------------------ 8. to's memory_format

def test_to_dtype_of_a_torchscript_graph():
    g = torch._C.parse_ir("""graph(%x : Tensor):
  %n : NoneType = prim::Constant()
  %f : bool = prim::Constant[value=0]()
  %d : int = prim::Constant[value=7]()
  %c : Device = prim::Constant[value="cpu"]()
  %y : Tensor = aten::to(%x, %d, %f, %f, %n)
  %z : Tensor = aten::to(%x, %c, %d, %f, %f, %n)
  return (%y, %z)""")
    fn = torch._C._create_function_from_graph("forward", g)
    y, z = fn(torch.ones(2))
    assert y.dtype == z.dtype == torch.float64 and y.tolist() == [1.0, 1.0]


def test_scripted_to_dtype_with_memory_format():
    @torch.jit.script
    def f(x):
        return x.to(torch.float64, memory_format=torch.channels_last)
    kinds = [str(n.op.schema).split("(")[0] for n in f.graph.walk() if n.kind == "aten::to"]
    assert kinds == ["aten::to.dtype"]
    x = torch.randn(1, 2, 3, 3)
    for _ in range(3):
        y = f(x)
        assert y.dtype == torch.float64
        assert y.is_contiguous(memory_format=torch.channels_last)
        np.testing.assert_array_equal(y.numpy(), x.numpy().astype(np.float64))
