"""TorchScript language against torch.jit.script 2.13 (session 36, helper b36): small
programs run under `import torch` and `import gpujit as torch`; torch's answers are
written out here.

Finds, minimised:

1. A Tensor in str() / print / str.format / an f-string of scripted code: torch 2.13
   writes ATen's C++ printer's text (at::print), not Python's repr: `str(x)` of
   tensor([1.5, 2.0]) is ' 1.5000\\n 2.0000\\n[ CPUFloatType{2} ]', of tensor(3) is
   '3\\n[ CPULongType{} ]', of a 2-d one rows (`Columns 1 to 10` blocks past 80
   characters), of a 3-d one `(1,.,.) = ` matrices, with a scale line `0.001 *` where
   the values call for one; a Tensor inside a list, tuple, dict or Optional likewise
   (`str([x, x])`, `"{}".format(opt)`, `print((x, 1))`).  gpujit wrote eager's
   `tensor([1.5000, 2.0000])` and refused a List[Tensor] / Optional[Tensor] ("cannot be
   formatted in scripted code").

2. torch.tensor(data) of a list whose element type is no number: `torch.tensor([])` (the
   literal is a List[Tensor]) raises when it runs, "Input must be of ints, floats, or
   bools, got Tensor\\nEmpty lists default to List[Tensor]. ..."; `[[], []]` the same
   without the hint; `[True, 1]` (a List[Union[int, bool]]) "... got Union[int, bool]";
   `[1, 2.0]` "Add new condition, expected Float, Complex, Int, or Bool but
   gotUnion(float, int)".  gpujit made float32 tensors of them.  A ragged literal
   `[[1], [2, 3]]`: "Expected sequence of length 1 at dim 1 (got 2)"; gpujit's words were
   stack's ("stack expects each tensor to be equal size").  `torch.tensor(xs)` of an
   empty List[int] warns as torch does ("Creating a tensor from an empty intlist will
   create a tensor of default floating point type ...").

3. A list or dict method that returns nothing used as a value: TorchScript's schemas
   return `()` (aten::sort, reverse, extend, insert, remove, clear, dict.update), so
   `return xs.sort()` returns an empty tuple and `print(xs.sort())` prints `()`, while
   aten::append returns its list (`y = xs.append(1)` is xs); gpujit gave None.

4. sorted(xs, reverse=True) and reversed(xs) of a list or str: torch 2.13 refuses them
   ("Arguments for call are not valid ... aten::sorted.any(t[](a) self) -> t[]: Keyword
   argument reverse unknown"; "reversed(Tensor 0) -> Tensor 0: Expected a value of type
   'Tensor' for argument '0' but instead found type 'List[int]'"); gpujit compiled them.
   (xs.sort(reverse=True) stays.)  sum(t) / min(t) / max(t) of a tuple of one element
   type: torch 2.13 takes it as its list (`sum((3, 1, 2))` is 6); gpujit refused.

5. A scripted module's method returning a list or dict attribute (`return self.xs,
   self.d`): torch 2.13 converts it into a new Python list / dict at the call's return,
   so a later call appending to self.xs leaves the first result as it was; gpujit
   returned the module's own object (the first result then showed the later calls'
   items).  (`m.xs` read from Python still gives the module's own list in gpujit; torch
   gives a copy each time: left.)

6. Rebinding a buffer or parameter in scripted code (`self.running_mean = 0.9 *
   self.running_mean + 0.1 * m`, `self.w = self.w * 2`): torch 2.13 compiles it, the
   module's buffer (state_dict, save/load) holds the new Tensor and a parameter's slot the
   plain Tensor (`type(m.w)` is Tensor, still in named_parameters); gpujit refused it
   ("cannot assign to the buffer 'b' ... in scripted code").  A submodule is still
   refused ("Wrong type for attribute assignment").

7. Hook signature errors name the module as torch 2.13 does: "Pre-hook 'pre' on module
   'Identity' is missing a return annotation" (gpujit wrote "on Identity").  Assigning
   a `__constants__` attribute or one __init__ did not set, of a module or of a script
   class object: "Tried to set nonexistent attribute: k. Did you forget to initialize it
   in __init__()?" (gpujit: "'k' of K is a constant", "class 'P' has no attribute 'z'").

8. A constant index out of a ModuleList's range / a missing ModuleDict key: torch 2.13's
   words "Index 5 out of range of length 2" / "Key Error, zz" (gpujit: "index 5 is out of
   range for a ModuleList of 2 modules" / "the ModuleDict has no module 'zz'").

9. print(obj) / "{}".format(obj) / f"{obj}" of an object of a script class: TorchScript
   writes its IValue text `<__torch__.P object at 0x...>` and calls no __str__ (a
   scripted str(obj) does); gpujit called __str__.  hash(obj) likewise calls no __hash__:
   torch 2.13 raises when it runs, "unhashable type: '__torch__.P'" (gpujit called
   __hash__).

10. @torch.jit.interface: a method declared without a return annotation (nor a type
    comment) is refused when the class is declared, "interface declarations must have a
    return type annotated." (gpujit took it as returning a Tensor); a module held by an
    interface-typed attribute that has no method the interface declares: Python's
    AttributeError "'Bad' object has no attribute 'extra'", as torch 2.13 raises it (gpujit:
    a RuntimeError "is not compatible with interface").

11. The schema of a scripted function returning a tuple (`f.schema`, the `Declaration:`
    of an argument error): torch 2.13 writes its one tuple return in parentheses,
    `f(int x) -> ((int, str))`; gpujit wrote `-> (int, str)`, as for two returns.

12. A missing dict key (`d["missing"]`, `d.pop("missing")`, `del d["nope"]`, int keys
    too): torch 2.13's words "KeyError: missing"; gpujit wrote "key 'missing' is not in
    the dict".

13. Compile errors now lead with torch 2.13's words (gpujit's own explanation follows):
    "undefined value y", "Function was not annotated as having type None, but does not
    return along all paths", "'int' object has no attribute or method 'foo'.", "'Tensor'
    object has no attribute or method 'frob'.", "Tuple index out of range. Tuple is
    length 2 and index is 2", "Unsupported operation: indexing tensor with unsupported
    index type 'str'. Only ints, slices, lists and tensors are supported", "print
    doesn't accept any keyword arguments" (`print(x, end="")`).

14. x.storage_offset() in scripted code: torch 2.13 has it (aten::storage_offset);
    gpujit had no such Tensor method in scripted code.

15. A module attribute that is a list or dict of Tensors changed in place by a scripted
    method (`self.outs.append(x * 2)`, `self.state[k] = self.state[k] + x`): from the
    second call on (the generated code) gpujit changed an unboxed copy of it, so the
    module kept its first call's contents (len(m.outs) stayed 1; the dict's value stayed
    1.0) where torch 2.13 gives 1, 2, 3, 4 (a wrong answer, not a refusal; also without
    the torch comparison). Such a method now runs op by op on the module's objects.
    Also such a list inside a dict, list, tuple or Optional attribute (`self.t[0].append(x)`
    of a Tuple[List[Tensor], int]: gpujit [2, 2, 2, 2], torch [2, 3, 4, 5]).
"""
from typing import Dict, List, Optional, Tuple

import pytest

import gpujit as torch
nn = torch.nn


def _run_err(fn, *args, cls=RuntimeError):
    s = torch.jit.script(fn)
    with pytest.raises(cls) as ei:
        s(*args)
    return str(ei.value)


# ------------------------------------------------------------------ 1. str of a Tensor

def s_str(x: torch.Tensor) -> str:
    return str(x)


def s_fmt(x: torch.Tensor, n: int) -> str:
    return "v={} n={}".format(x, n)


def s_fstr(x: torch.Tensor) -> str:
    return f"<{x}>"


def s_list(xs: List[torch.Tensor]) -> str:
    return str(xs)


def s_opt(x: Optional[torch.Tensor]) -> str:
    return "{}".format(x)


def s_dict(d: Dict[str, torch.Tensor]) -> str:
    return str(d)


def s_tuple(x: torch.Tensor) -> str:
    return str((x, 1))


def s_sum(x: torch.Tensor) -> str:
    return "{}".format(x.sum())


_F = float("nan")


@pytest.mark.parametrize("make,want", [
    (lambda: torch.tensor(2.5), "2.5\n[ CPUFloatType{} ]"),
    (lambda: torch.tensor(3.0), "3\n[ CPUFloatType{} ]"),
    (lambda: torch.tensor(1e15, dtype=torch.float64), "1000000000000000\n[ CPUDoubleType{} ]"),
    (lambda: torch.tensor(1e16, dtype=torch.float64), "1e+16\n[ CPUDoubleType{} ]"),
    (lambda: torch.tensor(1e-5, dtype=torch.float64), "1e-05\n[ CPUDoubleType{} ]"),
    (lambda: torch.tensor(1 / 3), "0.3333333432674408\n[ CPUFloatType{} ]"),
    (lambda: torch.tensor(-0.0), "-0\n[ CPUFloatType{} ]"),
    (lambda: torch.tensor(True), "1\n[ CPUBoolType{} ]"),
    (lambda: torch.tensor(7, dtype=torch.int8), "7\n[ CPUCharType{} ]"),
    (lambda: torch.tensor(7, dtype=torch.uint8), "7\n[ CPUByteType{} ]"),
    (lambda: torch.tensor([1.0, float("inf"), -float("inf"), _F]),
     " 1\ninf\n-inf\nnan\n[ CPUFloatType{4} ]"),
    (lambda: torch.tensor([123456.5, 1.5]), " 1.2346e+05\n 1.5000e+00\n[ CPUFloatType{2} ]"),
    (lambda: torch.tensor([1e-3, 2e-3]), "0.001 *\n 1.0000\n 2.0000\n[ CPUFloatType{2} ]"),
    (lambda: torch.tensor([1e120, 1.5], dtype=torch.float64),
     " 1.0000e+120\n  1.5000e+00\n[ CPUDoubleType{2} ]"),
    (lambda: torch.tensor([-5.5, 3.25]), "-5.5000\n 3.2500\n[ CPUFloatType{2} ]"),
    (lambda: torch.tensor([-100.0, 1.0]), "-100\n   1\n[ CPUFloatType{2} ]"),
    (lambda: torch.tensor([True, False]), " 1\n 0\n[ CPUBoolType{2} ]"),
    (lambda: torch.tensor([-3, 7], dtype=torch.int32), "-3\n 7\n[ CPUIntType{2} ]"),
    (lambda: torch.tensor([-1e-5, 1e-5]), "1e-06 *\n-10.0000\n10.0000\n[ CPUFloatType{2} ]"),
    (lambda: torch.tensor([1.0, 2.0], dtype=torch.float16), " 1\n 2\n[ CPUHalfType{2} ]"),
    (lambda: torch.tensor([99999.5, 1.0]), " 99999.5000\n     1.0000\n[ CPUFloatType{2} ]"),
    (lambda: torch.zeros(2, 0), "[ CPUFloatType{2,0} ]"),
    (lambda: torch.zeros(0), "[ CPUFloatType{0} ]"),
    (lambda: torch.tensor([[1e6 + 0.5, 1]]), " 1.0000e+06  1.0000e+00\n[ CPUFloatType{1,2} ]"),
    (lambda: torch.arange(30.0).reshape(2, 15) / 7,
     "Columns 1 to 10 0.0000  0.1429  0.2857  0.4286  0.5714  0.7143  0.8571  1.0000  "
     "1.1429  1.2857\n 2.1429  2.2857  2.4286  2.5714  2.7143  2.8571  3.0000  3.1429  "
     "3.2857  3.4286\n\nColumns 11 to 15 1.4286  1.5714  1.7143  1.8571  2.0000\n 3.5714  "
     "3.7143  3.8571  4.0000  4.1429\n[ CPUFloatType{2,15} ]"),
    (lambda: torch.arange(24).reshape(2, 3, 4),
     "(1,.,.) = \n  0   1   2   3\n   4   5   6   7\n   8   9  10  11\n\n(2,.,.) = \n"
     " 12  13  14  15\n  16  17  18  19\n  20  21  22  23\n[ CPULongType{2,3,4} ]"),
    (lambda: torch.arange(8.0).reshape(2, 2, 2) * 1000.5,
     "(1,.,.) = \n    0.0000  1000.5000\n  2001.0000  3001.5000\n\n(2,.,.) = \n"
     " 4002.0000  5002.5000\n  6003.0000  7003.5000\n[ CPUFloatType{2,2,2} ]"),
    (lambda: torch.ones(1, 1, 1, 2), "(1,1,.,.) = \n 1  1\n[ CPUFloatType{1,1,1,2} ]"),
    (lambda: torch.arange(12).reshape(1, 12) * 123456789,
     "Columns 1 to 6 0.0000e+00  1.2346e+08  2.4691e+08  3.7037e+08  4.9383e+08  "
     "6.1728e+08\n\nColumns 7 to 12 7.4074e+08  8.6420e+08  9.8765e+08  1.1111e+09  "
     "1.2346e+09  1.3580e+09\n[ CPULongType{1,12} ]"),
])
def test_str_of_a_tensor_is_atens_cpp_text(make, want):
    assert torch.jit.script(s_str)(make()) == want


def test_tensor_text_in_format_print_and_containers(capsys):
    x = torch.tensor([1.5, 2.0])
    t = " 1.5000\n 2.0000\n[ CPUFloatType{2} ]"
    assert torch.jit.script(s_fmt)(x, 3) == f"v={t} n=3"
    assert torch.jit.script(s_fstr)(torch.tensor(4)) == "<4\n[ CPULongType{} ]>"
    assert torch.jit.script(s_list)([torch.tensor([1.0]), torch.tensor([2])]) == \
        "[ 1\n[ CPUFloatType{1} ],  2\n[ CPULongType{1} ]]"
    assert torch.jit.script(s_opt)(None) == "None"
    assert torch.jit.script(s_opt)(torch.tensor([True])) == " 1\n[ CPUBoolType{1} ]"
    assert torch.jit.script(s_dict)({"a": torch.tensor(4)}) == "{a: 4\n[ CPULongType{} ]}"
    assert torch.jit.script(s_tuple)(torch.tensor(4)) == "(4\n[ CPULongType{} ], 1)"
    assert torch.jit.script(s_sum)(torch.ones(2, dtype=torch.float64)) == \
        "2\n[ CPUDoubleType{} ]"

    def p(x: torch.Tensor, n: int):
        print(x, n)
        print([x, x])

    capsys.readouterr()
    torch.jit.script(p)(x, 3)
    assert capsys.readouterr().out == f"{t} 3\n[{t}, {t}]\n"


# ------------------------------------------------------------------ 2. torch.tensor(data)

def t_empty():
    return torch.tensor([])


def t_empty2():
    return torch.tensor([[], []])


def t_empty3():
    return torch.tensor([[[]]], dtype=torch.int64)


def t_int_bool():
    return torch.tensor([True, 1])


def t_float_bool():
    return torch.tensor([True, 2.5])


def t_int_float():
    return torch.tensor([1, 2.0])


def t_args(b: bool, i: int):
    return torch.tensor([b, i])


def t_ragged():
    return torch.tensor([[1], [2, 3]])


def t_ragged2():
    return torch.tensor([[1, 2], [3]])


def t_ragged3():
    return torch.tensor([[[1, 2]], [[3, 4, 5]]])


def t_ok(a: List[int]):
    return torch.tensor([[1, 2], a]), torch.tensor([[1.5, 2.0]]), torch.tensor([True, False])


def t_annotated():
    x: List[int] = []
    y: List[List[float]] = []
    return torch.tensor(x), torch.tensor(y)


_NOT_NUM = "Input must be of ints, floats, or bools, got "


@pytest.mark.filterwarnings("ignore:List consists of heterogeneous types")
@pytest.mark.parametrize("fn,args,want", [
    (t_empty, (), _NOT_NUM + "Tensor\nEmpty lists default to List[Tensor]. Add a variable "
     "annotation to the assignment to create an empty list of another type "
     "(torch.jit.annotate(List[T, []]) where T is the type of elements in the list for "
     "Python 2)"),
    (t_empty2, (), _NOT_NUM + "Tensor"),
    (t_empty3, (), _NOT_NUM + "Tensor"),
    (t_int_bool, (), _NOT_NUM + "Union[int, bool]"),
    (t_float_bool, (), _NOT_NUM + "Union[float, bool]"),
    (t_args, (True, 3), _NOT_NUM + "Union[int, bool]"),
    (t_int_float, (), "Add new condition, expected Float, Complex, Int, or Bool but "
     "gotUnion(float, int)"),
    (t_ragged, (), "Expected sequence of length 1 at dim 1 (got 2)"),
    (t_ragged2, (), "Expected sequence of length 2 at dim 1 (got 1)"),
    (t_ragged3, (), "Expected sequence of length 2 at dim 2 (got 3)"),
])
def test_tensor_of_a_list_of_no_numbers_raises_when_run(fn, args, want):
    # (torch 2.13 compiles each; the line raises when it runs, reported as aten::tensor's
    # failure: the TorchScript traceback, the line marked, then its words)
    msg = _run_err(fn, *args)
    assert msg.startswith("The following operation failed in the TorchScript interpreter.\n"
                          "Traceback of TorchScript (most recent call last):\n"), msg
    assert "<--- HERE\n" in msg and msg.endswith(f"\nRuntimeError: {want}\n"), msg


def t_int_list(x: List[int]):
    return torch.tensor(x)


def test_tensor_of_an_empty_int_list_warns():
    # torch 2.13's TORCH_WARN (register_special_ops.cpp), on each call of an empty one
    with pytest.warns(UserWarning, match=r"Creating a tensor from an empty intlist will "
                      r"create a tensor of default floating point type  \(currently Float\) "
                      r"in python but a tensor of type int in torchscript.\nPass in a dtype "
                      r"argument to ensure consistent behavior"):
        r = torch.jit.script(t_int_list)([])
    assert r.dtype is torch.int64 and tuple(r.shape) == (0,)


def t_ragged_var(a: List[List[int]]):
    return torch.tensor(a)


@pytest.mark.filterwarnings("ignore:Creating a tensor from an empty intlist")
def test_tensor_of_a_ragged_list_variable():
    # (an empty one warns as an empty List[int] does, as torch 2.13's)
    with pytest.raises(RuntimeError, match=r"Expected sequence of length 1 at dim 1 "
                                           r"\(got 2\)"):
        torch.jit.script(t_ragged_var)([[1], [2, 3]])
    assert torch.jit.script(t_ragged_var)([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert tuple(torch.jit.script(t_ragged_var)([]).shape) == (0,)


@pytest.mark.filterwarnings("ignore:Creating a tensor from an empty intlist")
def test_tensor_of_lists_that_are_fine():
    a, b, c = torch.jit.script(t_ok)([3, 4])
    assert a.tolist() == [[1, 2], [3, 4]] and a.dtype is torch.int64
    assert b.tolist() == [[1.5, 2.0]] and b.dtype is torch.float32
    assert c.dtype is torch.bool
    x, y = torch.jit.script(t_annotated)()
    assert x.dtype is torch.int64 and tuple(x.shape) == (0,)
    assert y.dtype is torch.float32 and tuple(y.shape) == (0,)


# ------------------------------------------------------------------ 3. void methods

def v_sort(xs: List[int]):
    return xs.sort()


def v_append(xs: List[int]):
    y = xs.append(1)
    return y


def v_many(xs: List[int], d: Dict[str, int]):
    return xs.insert(0, 5), xs.extend([7]), xs.reverse(), xs.remove(7), d.clear(), xs


def v_clear(xs: List[int]):
    z = xs.clear()
    return z


def v_print(xs: List[int]):
    print(xs.sort())
    return xs


def test_void_methods_as_values(capsys):
    assert torch.jit.script(v_sort)([2, 1]) == ()
    assert torch.jit.script(v_append)([1, 2]) == [1, 2, 1]
    assert torch.jit.script(v_many)([1], {"a": 1}) == ((), (), (), (), (), [1, 5])
    assert torch.jit.script(v_clear)([1]) == ()
    capsys.readouterr()
    assert torch.jit.script(v_print)([2, 1]) == [1, 2]
    assert capsys.readouterr().out == "()\n"


def v_statements(xs: List[int]):
    xs.append(3)
    xs.sort()
    xs.reverse()
    return xs


def test_void_methods_as_statements_leave_no_tuple():
    s = torch.jit.script(v_statements)
    assert s([2, 1]) == [3, 2, 1]
    assert "prim::TupleConstruct" not in str(s.graph)


# ------------------------------------------------------------------ 4. sorted / reversed

def r_sorted_rev(xs: List[int]):
    return sorted(xs, reverse=True)


def r_sorted_rev_str(xs: List[str]):
    return sorted(xs, reverse=True)


def r_reversed(xs: List[int]):
    return list(reversed(xs))


def r_reversed_loop(xs: List[int]):
    out: List[int] = []
    for v in reversed(xs):
        out.append(v)
    return out


def r_reversed_str(s: str):
    return reversed(s)


@pytest.mark.parametrize("fn,words", [
    (r_sorted_rev, "Keyword argument reverse unknown"),
    (r_sorted_rev_str, "Keyword argument reverse unknown"),
    (r_reversed, "Expected a value of type 'Tensor' for argument '0' but instead found "
                 "type 'List[int]'"),
    (r_reversed_loop, "Expected a value of type 'Tensor' for argument '0' but instead found "
                      "type 'List[int]'"),
    (r_reversed_str, "Expected a value of type 'Tensor' for argument '0' but instead found "
                     "type 'str'"),
])
def test_sorted_reverse_and_reversed_of_a_list_are_refused(fn, words):
    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(fn)
    msg = str(ei.value)
    assert words in msg and ("Arguments for call are not valid" in msg or
                             "reversed(Tensor 0) -> Tensor 0" in msg), msg


def r_sort_method(xs: List[int], ys: List[float]):
    xs.sort(reverse=True)
    ys.sort(reverse=False)
    return xs, ys, sorted(xs)


def r_tuple(x: Tuple[int, int, int], y: Tuple[float, float]):
    return sum(x), min(x), max(x), sorted(x), sum(y), max(y)


def test_sort_reverse_and_tuples_of_numbers():
    assert torch.jit.script(r_sort_method)([1, 3, 2], [2.0, 1.0]) == \
        ([3, 2, 1], [1.0, 2.0], [1, 2, 3])
    assert torch.jit.script(r_tuple)((3, 1, 2), (1.5, 2.5)) == (6, 1, 3, [1, 2, 3], 4.0, 2.5)


# ------------------------------------------------------------------ 5. results are copies

class _Keeps(nn.Module):
    xs: List[int]
    d: Dict[str, int]

    def __init__(self):
        super().__init__()
        self.xs = [1]
        self.d = {}

    def forward(self, x: int):
        self.xs.append(x)
        self.d["a"] = x
        return self.xs, self.d

    @torch.jit.export
    def get(self):
        return self.xs


def test_a_returned_attribute_container_is_a_copy():
    m = torch.jit.script(_Keeps())
    a = m(5)
    b = m(6)
    assert a == ([1, 5], {"a": 5}) and b == ([1, 5, 6], {"a": 6})
    g1, g2 = m.get(), m.get()
    assert g1 == g2 == [1, 5, 6] and g1 is not g2
    g1.append(100)
    assert m.get() == [1, 5, 6]


# ------------------------------------------------------------------ 6. buffers, parameters

class _BN(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("rm", torch.zeros(3))
        self.register_buffer("n", torch.tensor(0))
        self.w = nn.Parameter(torch.ones(3))

    def forward(self, x):
        if self.training:
            m = x.mean(0)
            self.rm = 0.9 * self.rm + 0.1 * m
            self.n = self.n + 1
            return (x - m) * self.w
        return (x - self.rm) * self.w


class _Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = _BN()
        self.register_buffer("calls", torch.zeros(1))

    def forward(self, x):
        self.calls = self.calls + 1
        return self.bn(x).sum(), self.bn.rm


def test_buffers_rebound_in_scripted_code():
    import io
    m = torch.jit.script(_Outer())
    x = torch.arange(6.0).reshape(2, 3)
    rms = [m(x + i)[1].tolist() for i in range(5)]
    # (torch 2.13's values)
    want = [[0.15, 0.25, 0.35], [0.385, 0.575, 0.765], [0.6965, 0.9675, 1.2385],
            [1.07685, 1.42075, 1.76465], [1.519165, 1.928675, 2.338185]]
    for got, w in zip(rms, want):
        assert got == pytest.approx(w, rel=1e-5)
    assert m.bn.n.item() == 5 and m.calls.tolist() == [5.0]
    m.eval()
    assert m(x)[0].item() == pytest.approx(3.42795, rel=1e-5)
    assert m.bn.n.item() == 5
    m.train()
    loss, _ = m(x)
    loss.backward()
    assert m.bn.w.grad.tolist() == [0.0, 0.0, 0.0]
    assert m.state_dict()["bn.rm"].tolist() == pytest.approx([1.5172484, 1.9858074, 2.4543664])
    b = io.BytesIO()
    torch.jit.save(m, b)
    b.seek(0)
    m2 = torch.jit.load(b)
    assert m2.bn.rm.tolist() == pytest.approx([1.5172484, 1.9858074, 2.4543664])
    assert m2.calls.tolist() == [7.0]


class _Doubles(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(2))

    def forward(self, x):
        y = (x * self.w).sum()
        self.w = self.w * 2
        return y


class _SetsSub(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = nn.ReLU()

    def forward(self, x):
        self.sub = x
        return x


class _SetsBufferInt(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("b", torch.ones(1))

    def forward(self, x: int):
        self.b = x
        return x


def test_parameter_rebound_holds_the_plain_tensor():
    m = torch.jit.script(_Doubles())
    got = [m(torch.ones(2)).item() for _ in range(4)]
    assert got == [2.0, 4.0, 8.0, 16.0]
    assert m.w.tolist() == [16.0, 16.0] and type(m.w) is torch.Tensor
    assert [n for n, _ in m.named_parameters()] == ["w"]


def test_a_submodule_or_a_non_tensor_is_still_refused():
    with pytest.raises(RuntimeError, match="Wrong type for attribute assignment"):
        torch.jit.script(_SetsSub())
    with pytest.raises(RuntimeError, match="Wrong type for attribute assignment. Expected "
                                           "Tensor but got int"):
        torch.jit.script(_SetsBufferInt())


# ------------------------------------------------------------------ 7. hook words

class _HasHooked(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Identity()

    def forward(self, x):
        return self.lin(x) + 1


def _pre_unannotated(mod, inp: Tuple[torch.Tensor]):
    return (inp[0] * 10,)


def _post_not_tuple(mod, inp: torch.Tensor, out: torch.Tensor):
    return None


@pytest.mark.parametrize("pre,post,words", [
    (_pre_unannotated, None, "Pre-hook '_pre_unannotated' on module 'Identity' is missing "
                             "a return annotation. Return annotations are required, please "
                             "add one."),
    (None, _post_not_tuple, "Hook '_post_not_tuple' on module 'Identity' expected the input "
                            "argument to be typed as a Tuple but found type: 'Tensor' "
                            "instead."),
])
def test_hook_errors_name_the_module(pre, post, words):
    m = _HasHooked()
    if pre is not None:
        m.lin.register_forward_pre_hook(pre)
    if post is not None:
        m.lin.register_forward_hook(post)
    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(m)
    assert words in str(ei.value)


class _K(nn.Module):
    __constants__ = ["k"]

    def __init__(self):
        super().__init__()
        self.k = 3

    def forward(self, x: int):
        self.k = x
        return self.k


def test_assigning_a_constant_attribute_words():
    with pytest.raises(RuntimeError, match="Tried to set nonexistent attribute: k. Did you "
                                           "forget to initialize it in __init__"):
        torch.jit.script(_K())


# ------------------------------------------------------------------ 8. containers' words

class _PastEnd(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.ModuleList([nn.ReLU(), nn.Tanh()])

    def forward(self, x):
        return self.a[5](x)


class _NoKey(nn.Module):
    def __init__(self):
        super().__init__()
        self.d = nn.ModuleDict({"x": nn.ReLU()})

    def forward(self, x):
        return self.d["zz"](x)


@pytest.mark.parametrize("cls,words", [(_PastEnd, "Index 5 out of range of length 2"),
                                       (_NoKey, "Key Error, zz")])
def test_module_container_index_words(cls, words):
    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(cls())
    assert str(ei.value).startswith(words), str(ei.value)


# ------------------------------------------------------------------ 9. objects' text

@torch.jit.script
class _Pt:
    def __init__(self, x: int):
        self.x = x

    def __str__(self) -> str:
        return "Pt(" + str(self.x) + ")"


def o_text(a: int):
    p = _Pt(a)
    print(p)
    return str(p), f"{p}", "{}".format(p)


def o_setattr(a: int):
    p = _Pt(a)
    p.z = 3
    return p.x


def test_print_and_format_of_an_object_write_its_ivalue_text(capsys):
    import re
    capsys.readouterr()
    s, f, g = torch.jit.script(o_text)(3)
    out = capsys.readouterr().out
    assert s == "Pt(3)"                 # (str() calls __str__)
    want = r"<__torch__\.(\w+\.)*_Pt object at 0x[0-9a-f]+>"
    assert re.fullmatch(want, f) and f == g, f
    assert re.fullmatch(want + "\n", out), out


def test_setting_an_attribute_init_did_not_words():
    with pytest.raises(RuntimeError, match="Tried to set nonexistent attribute: z. Did you "
                                           "forget to initialize it in __init__"):
        torch.jit.script(o_setattr)


# ------------------------------------------------------------------ 10. interfaces

def test_interface_method_needs_a_return_annotation():
    with pytest.raises(RuntimeError, match="interface declarations must have a return type "
                                           "annotated"):
        @torch.jit.interface
        class NoAnn(nn.Module):
            def forward(self, x):
                pass


@torch.jit.interface
class _TwoI(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass

    def extra(self, n: int) -> int:
        pass


class _Impl(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1

    @torch.jit.export
    def extra(self, n: int) -> int:
        return n * 3


class _Lacks(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class _Holds(nn.Module):
    impl: _TwoI

    def __init__(self, m):
        super().__init__()
        self.impl = m

    def forward(self, x):
        return self.impl(x), self.impl.extra(2)


def test_interface_module_lacking_a_method_raises_attribute_error():
    y, n = torch.jit.script(_Holds(_Impl()))(torch.ones(1))
    assert y.tolist() == [2.0] and n == 6
    with pytest.raises(AttributeError, match="'_Lacks' object has no attribute 'extra'"):
        torch.jit.script(_Holds(_Lacks()))


# ------------------------------------------------------------------ 11. schema of a tuple

def sc_tuple(x: int) -> Tuple[int, str]:
    return x, "a"


def sc_nested(x: int):
    return x, (x, 1)


def sc_one(x: int) -> int:
    return x


def test_schema_writes_a_tuple_return_in_parentheses():
    assert str(torch.jit.script(sc_tuple).schema) == "sc_tuple(int x) -> ((int, str))"
    assert str(torch.jit.script(sc_nested).schema) == \
        "sc_nested(int x) -> ((int, (int, int)))"
    assert str(torch.jit.script(sc_one).schema) == "sc_one(int x) -> int"
    with pytest.raises(RuntimeError, match=r"Declaration: sc_tuple\(int x\) -> "
                                           r"\(\(int, str\)\)"):
        torch.jit.script(sc_tuple)()


# ------------------------------------------------------------------ 12. KeyError words

def k_get(d: Dict[str, int]):
    return d["missing"]


def k_pop(d: Dict[str, int]):
    return d.pop("missing")


def k_del(d: Dict[int, int]):
    del d[7]
    return d


@pytest.mark.parametrize("fn,arg,words", [(k_get, {"a": 1}, "KeyError: missing"),
                                          (k_pop, {"a": 1}, "KeyError: missing"),
                                          (k_del, {1: 1}, "KeyError: 7")])
def test_missing_key_words(fn, arg, words):
    with pytest.raises(KeyError) as ei:
        torch.jit.script(fn)(arg)
    # (torch 2.13's interpreter report ends "RuntimeError: KeyError: missing")
    assert str(ei.value).endswith(f"\nRuntimeError: {words}\n"), str(ei.value)


# ------------------------------------------------------------------ 13. compile-error words

def w_falls_off(x: int) -> int:
    if x > 0:
        return 1


def w_int_attr(x: int):
    return x.foo


def w_tensor_method(x: torch.Tensor):
    return x.frob_s36()


def w_tuple_index(x: Tuple[int, int]):
    return x[2]


def w_tensor_str_index(x: torch.Tensor):
    return x[None, "a"]


def test_undefined_value_words():
    with pytest.raises(RuntimeError) as ei:
        torch.jit.CompilationUnit("def f(x: int):\n    return y_undefined\n")
    assert str(ei.value).startswith("undefined value y_undefined"), str(ei.value)


def w_print_end(x: int):
    print(x, end="")
    return x


@pytest.mark.parametrize("fn,words", [
    (w_print_end, "print doesn't accept any keyword arguments"),
    (w_falls_off, "Function was not annotated as having type None, but does not return "
                  "along all paths"),
    (w_int_attr, "'int' object has no attribute or method 'foo'."),
    (w_tensor_method, "'Tensor' object has no attribute or method 'frob_s36'."),
    (w_tuple_index, "Tuple index out of range. Tuple is length 2 and index is 2"),
    (w_tensor_str_index, "Unsupported operation: indexing tensor with unsupported index type "
                         "'str'. Only ints, slices, lists and tensors are supported"),
])
def test_compile_errors_lead_with_torchs_words(fn, words):
    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(fn)
    assert str(ei.value).startswith(words), str(ei.value)


# ------------------------------------------------------------------ 14. storage_offset

def so_views(x: torch.Tensor):
    y = x * 2
    return (x.storage_offset(), x[1:].storage_offset(), x[:, 2:].storage_offset(),
            x[1, 1:].storage_offset(), y[2:].storage_offset())


def test_storage_offset_in_scripted_code():
    s = torch.jit.script(so_views)
    for _ in range(3):          # (profiled, then optimized runs; torch 2.13's values)
        assert s(torch.ones(3, 4)) == (0, 4, 2, 5, 8)
    assert s(torch.ones(4, 4)[1:]) == (4, 8, 6, 9, 8)


# ------------------------------------------------------------------ 15. attribute containers

class _Acc(nn.Module):
    outs: List[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.outs = []

    def forward(self, x):
        self.outs.append(x * 2)
        return len(self.outs), torch.stack(self.outs).sum()


class _State(nn.Module):
    state: Dict[str, torch.Tensor]

    def __init__(self):
        super().__init__()
        self.state = {}

    def forward(self, k: str, x):
        if k in self.state:
            self.state[k] = self.state[k] + x
        else:
            self.state[k] = x
        return self.state[k]


@pytest.mark.filterwarnings("ignore:gpujit. forward runs unfused")
def test_attribute_containers_of_tensors_changed_in_place_keep_the_changes():
    m = torch.jit.script(_Acc())
    got = [m(torch.ones(1)) for _ in range(4)]
    assert [(n, s.item()) for n, s in got] == [(1, 2.0), (2, 4.0), (3, 6.0), (4, 8.0)]
    assert len(m.outs) == 4 and all(isinstance(t, torch.Tensor) for t in m.outs)
    s = torch.jit.script(_State())
    assert [s("a", torch.ones(1)).item() for _ in range(4)] == [1.0, 2.0, 3.0, 4.0]
    assert s("b", torch.ones(1)).item() == 1.0
    assert sorted(s.state) == ["a", "b"] and s.state["a"].item() == 4.0


@torch.jit.script
class _Buf:
    def __init__(self):
        self.items: List[torch.Tensor] = []

    def add(self, x: torch.Tensor):
        self.items.append(x)


class _HoldsBuf(nn.Module):
    def __init__(self):
        super().__init__()
        self.buf = _Buf()

    def forward(self, x):
        self.buf.add(x)
        return len(self.buf.items)


def _local_buf(x: torch.Tensor, n: int):
    b = _Buf()
    for i in range(n):
        b.add(x + i)
    return torch.stack(b.items).sum(), len(b.items)


@pytest.mark.filterwarnings("ignore:gpujit. forward runs unfused")
def test_an_attribute_object_list_changed_in_place():
    m = torch.jit.script(_HoldsBuf())
    assert [m(torch.ones(1)) for _ in range(4)] == [1, 2, 3, 4]      # (torch 2.13's)


def test_a_local_object_list_stays_generated_code():
    import warnings
    s = torch.jit.script(_local_buf)
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # (no fallback: an object made here is fine)
        got = [s(torch.ones(1), 3) for _ in range(4)]
    assert [(t.item(), n) for t, n in got] == [(6.0, 3)] * 4


class _TupleList(nn.Module):
    t: Tuple[List[torch.Tensor], int]

    def __init__(self):
        super().__init__()
        self.t = ([torch.zeros(1)], 1)

    def forward(self, x):
        self.t[0].append(x)
        return len(self.t[0])


class _OptList(nn.Module):
    o: Optional[List[torch.Tensor]]

    def __init__(self):
        super().__init__()
        self.o = [torch.zeros(1)]

    def forward(self, x):
        o = self.o
        if o is not None:
            o.append(x)
            return len(o)
        return -1


class _DictOfLists(nn.Module):
    d: Dict[str, List[torch.Tensor]]

    def __init__(self):
        super().__init__()
        self.d = {"a": [torch.zeros(1)]}

    def forward(self, x):
        self.d["a"].append(x)
        return len(self.d["a"])


@pytest.mark.filterwarnings("ignore:gpujit. forward runs unfused")
@pytest.mark.parametrize("cls", [_TupleList, _OptList, _DictOfLists])
def test_tensor_lists_inside_attribute_containers_changed_in_place(cls):
    m = torch.jit.script(cls())
    assert [m(torch.ones(1)) for _ in range(4)] == [2, 3, 4, 5]      # (torch 2.13's)


@torch.jit.script
class _Hashy:
    def __init__(self, x: int):
        self.x = x

    def __hash__(self) -> int:
        return self.x


def h_obj(a: int):
    return hash(_Hashy(a))


def test_hash_of_a_script_object_is_refused_when_run():
    s = torch.jit.script(h_obj)          # (compiles, as in torch 2.13)
    with pytest.raises(RuntimeError, match=r"unhashable type: '__torch__\.(\w+\.)*_Hashy'"):
        s(3)
