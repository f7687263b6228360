"""TorchScript language against torch.jit.script 2.13 (session 37, helper b37): small
programs run under `import torch` and `import gpujit as torch`; torch's answers are
written out here.

Finds, minimised:

1. TorchScript's schema matching packs the trailing positional arguments into one list
   where the schema's last positional parameter is a list of a concrete type (not int[N],
   not t[]) and the argument there is no list or tuple (its second pass,
   varargsCanBeUsedAsList): `len(3)` is 1 (aten::len.any(Any[] a) of [3]), `len(1, 2)`
   2, `len(None)` 1, `len(x, 1)` of a Tensor 2 (len(x) of an unrefined Union[int,
   List[int]] 1, whichever it holds); `sum(3)` 3, `sum(1, 2)` 3, `sum(True)` 1
   (sum.int, the bool converted), `sum(1.5, True)` 2.5; `min(xs, 0)` of a List[int] is
   prim::min.int_list(xs, [0]) = [0], `max(xs, 5, 6)` [5, 6], `min(3)` 3, `min(True)`
   1, `max(True, False, True)` 1; `any(True)`, `any("")` False (any.str of [""]),
   `all(1, 0)` False; `sorted(3, 1, 2)` [1, 2, 3], `sorted(True)` [1], `sorted("ba")`
   ['ba'] (sorted.str of ["ba"]); `torch.linalg.multi_dot(a, b)` is multi_dot([a, b]).
   gpujit refused all of them (and sorted("ba") gave ['a', 'b']). Still refused by both:
   `len([1, 2], 3)`, `len((1, 2), 3)`, `sum(1, 2.5)` (an int is no float element),
   `min(xs, 0)` of a List[float], `all("a")` (no all.str), `torch.tensor(1, 2)`
   (aten::tensor's `t[] data` is a type variable's list, never packed; gpujit made
   tensor([1, 2])). A 0-dim Tensor packed into an int list is its value
   (aten::IntImplicit): `x.view(torch.tensor(6))`, `torch.randn(torch.tensor(2), 3)`,
   `x.permute(torch.tensor(1), 0)` compile and run in torch 2.13 (a non-0-dim one: "Cannot
   input a tensor of dimension other than 0 as a scalar argument" when it runs); gpujit
   refused them.
   The builtin sum / any / all of a Tensor is aten::sum / any / all: `sum(x)` is x.sum(),
   `sum(x, 1)` x.sum([1]), `any(x)` tensor(True); gpujit refused them. min / max with a
   Tensor among numbers convert it as TorchScript's schema matching does:
   `min(x, y)` / `min(3, x)` is prim::min.int of aten::IntImplicit (2 for tensor(2);
   tensor(2.5): RuntimeError "Cannot input a tensor of type Float as an integral
   argument"; tensor([1, 2]): "Cannot input a tensor of dimension other than 0 as a scalar
   argument"), `max(2.5, x)` prim::max.float of FloatImplicit, `min(x)` self_int of
   [IntImplicit(x)]; gpujit refused them.

2. A failed assert's message is TorchScript's "AssertionError: " + msg (torch raises
   torch.jit.Error whose text ends "RuntimeError: AssertionError: msg here"); a bare
   `assert c` says "AssertionError: ". gpujit said "msg here" (a bare one "assert c").
   The class stays AssertionError and torch.jit.Error both.

3. `x.pin_memory()` in scripted code: torch 2.13 compiles it (aten::pin_memory) and, on a
   machine without an accelerator, raises RuntimeError "Cannot access accelerator device
   when none is available." when it runs; gpujit refused the method ("gpujit has no
   Tensor method pin_memory"). Now a registry op: eager pin_memory's pinned copy.

4. str methods are TorchScript's C++ ones, not Python's (ASCII text): `s.split()` /
   `s.split(None, 1)` split at C whitespace (" \t\n\v\f\r", not \x1c-\x1f) and ignore
   max ("a b c".split(None, 1) is ['a', 'b', 'c']); `s.rsplit()` splits at " " alone
   (its schema's separator=" ": "  a b".rsplit() is ['', '', 'a', 'b'], rsplit(None) is
   refused); strip / lstrip / rstrip remove " \n\t\f\v" by default (not \r:
   "a\r ".strip() is 'a\r'); isspace is C's ('\x1f'.isspace() is False);
   `s.splitlines()` ends a piece at each of \n \r \v \f \x1c \x1d \x1e on its own
   ("a\r\nb" gives ['a', '', 'b']) and keepends gives each break a piece of its own
   (['a', '\r', '', '\n', 'b']). gpujit computed Python's. Their keywords are
   TorchScript's: `s.split(" ", max=1)`, `s.replace("a", "b", max=2)` (Python's
   maxsplit= / count= / sep= are refused); gpujit took Python's names.

5. `list(Color)` of an Enum class: torch 2.13 gives the list of its members (as `for c in
   Color` iterates them); gpujit refused it ("EnumClass cannot be used as a value").

6. Script class errors in torch 2.13's words: reading a class attribute (`k = 3` in the
   class body) "'__torch__.W' object has no attribute or method 'k'. 'k' is defined as a
   class attribute which currently is not supported. Consider converting this to an
   instance attribute."; an attribute __init__ never set "... object has no attribute or
   method 'zz'. Did you forget to initialize an attribute in __init__()?"; calling a class
   without an __init__ "Class NoInit does not have an __init__ function defined". gpujit
   said "class 'W' has no attribute 'k'" and "calling 'NoInit' is not supported yet".

7. Augmented assignment to a tuple variable: torch 2.13 emits aten::add / aten::mul on
   the lists of its elements, so `t = (1,); t += (2,)` leaves t the list [1, 2] (`t *= 2`
   of (1.5,) is [1.5, 1.5]; a tuple of mixed element types is refused; `t = t + (2,)`
   stays a tuple); gpujit kept a tuple.

8. isinstance(b, int) of a bool is False in TorchScript (its bool is no subtype of int):
   `isinstance(True, int)`, a bool parameter, a Union[int, bool] or an Any holding True;
   gpujit answered True, as Python.
"""
from enum import Enum
from typing import Any, List, Optional, Tuple, Union

import pytest

import gpujit as torch


def _len_int():
    return len(3)


def _len_two():
    return len(1, 2)


def _len_none(a: Optional[int]):
    return len(a)


def _len_tensor_and_int(x: torch.Tensor):
    return len(x, 1)


def _len_union(x: Union[int, List[int]]):
    return len(x)


def _len_dict_and_int():
    return len({"a": 1}, 3)


def _sum_int():
    return sum(3)


def _sum_ints():
    return sum(1, 2)


def _sum_bool():
    return sum(True)


def _sum_float_bool():
    return sum(1.5, True)


def _min_list_int(xs: List[int]):
    return min(xs, 0)


def _max_list_ints(xs: List[int]):
    return max(xs, 5, 6)


def _max_list_floats(xs: List[float]):
    return max(xs, 2.0, 0.5)


def _min_bool_list(xs: List[bool]):
    return min(xs, True)


def _min_one():
    return min(3)


def _max_one_float():
    return max(2.5)


def _min_bool():
    return min(True)


def _max_bools():
    return max(True, False, True)


def _any_bool():
    return any(True)


def _any_empty_str():
    return any("")


def _any_str():
    return any("a")


def _any_floats():
    return any(0.0, 0.5)


def _all_ints():
    return all(1, 0)


def _sorted_ints():
    return sorted(3, 1, 2)


def _sorted_bool():
    return sorted(True)


def _sorted_str():
    return sorted("ba")


def _sorted_floats():
    return sorted(2.5, 1.5)


@pytest.mark.parametrize("fn, args, want", [
    (_len_int, (), 1), (_len_two, (), 2), (_len_none, (None,), 1), (_len_none, (4,), 1),
    (_len_tensor_and_int, (torch.zeros(5),), 2), (_len_dict_and_int, (), 2),
    (_len_union, ([1, 2, 3],), 1), (_len_union, (3,), 1),
    (_sum_int, (), 3), (_sum_ints, (), 3), (_sum_bool, (), 1),
    (_sum_float_bool, (), 2.5),
    (_min_list_int, ([3, 1],), [0]), (_max_list_ints, ([3, 1],), [5, 6]),
    (_max_list_floats, ([1.0],), [2.0, 0.5]), (_min_bool_list, ([True, False],), [True]),
    (_min_one, (), 3), (_max_one_float, (), 2.5), (_min_bool, (), 1),
    (_max_bools, (), 1), (_any_bool, (), True), (_any_empty_str, (), False),
    (_any_str, (), True), (_any_floats, (), True), (_all_ints, (), False),
    (_sorted_ints, (), [1, 2, 3]), (_sorted_bool, (), [1]), (_sorted_str, (), ["ba"]),
    (_sorted_floats, (), [1.5, 2.5])])
def test_trailing_arguments_are_packed_into_a_list(fn, args, want):
    got = torch.jit.script(fn)(*args)
    assert got == want and type(got) is type(want), (got, want)


def _len_list_and_int():
    return len([1, 2], 3)


def _len_tuple_and_int():
    return len((1, 2), 3)


def _sum_int_float():
    return sum(1, 2.5)


def _sum_list_and_start():
    return sum([1, 2], 3)


def _min_floats_and_int(xs: List[float]):
    return min(xs, 0)


def _all_str():
    return all("a")


def _sorted_list_and_int():
    return sorted([2, 1], 3)


@pytest.mark.parametrize("fn", [_len_list_and_int, _len_tuple_and_int, _sum_int_float,
                                _sum_list_and_start, _min_floats_and_int, _all_str,
                                _sorted_list_and_int])
def test_what_torch_does_not_pack_is_still_refused(fn):
    with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
        torch.jit.script(fn)


def _multi_dot(a: torch.Tensor, b: torch.Tensor):
    return torch.linalg.multi_dot(a, b)


def _tensor_of_two():
    return torch.tensor(1, 2)


def test_torch_tensor_packs_nothing():
    # torch 2.13's aten::tensor(t[] data) is a type variable's list: never packed
    with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
        torch.jit.script(_tensor_of_two)


def test_tensors_are_packed_into_a_tensor_list():
    a, b = torch.ones(2, 3), torch.ones(3, 4)
    assert torch.jit.script(_multi_dot)(a, b).tolist() == [[3.0] * 4] * 2


def _sum_tensor(x: torch.Tensor):
    return sum(x), sum(x, 1)


def _any_all_tensor(x: torch.Tensor):
    return any(x), all(x)


def test_builtin_sum_any_all_of_a_tensor():
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    s, s1 = torch.jit.script(_sum_tensor)(x)
    assert s.item() == 6.0 and s1.tolist() == [1.0, 5.0]
    a, b = torch.jit.script(_any_all_tensor)(x)
    assert a.dtype == torch.bool and a.item() is True and b.item() is False


def _assert_msg(a: int):
    assert a > 3, "msg here"
    return a


def _assert_bare(a: int):
    assert a > 3
    return a


def _assert_value(a: int):
    assert a > 3, "a was " + str(a)
    return a


def _assert_int(a: int):
    assert a > 3, a
    return a


@pytest.mark.parametrize("fn, first", [(_assert_msg, "AssertionError: msg here"),
                                       (_assert_bare, "AssertionError: "),
                                       (_assert_value, "AssertionError: a was 1"),
                                       (_assert_int, "AssertionError: 1")])
def test_assert_message_is_torchscripts(fn, first):
    s = torch.jit.script(fn)
    assert s(5) == 5
    with pytest.raises(AssertionError) as e:
        s(1)
    assert isinstance(e.value, torch.jit.Error)
    # (TorchScript's message: its traceback, then "RuntimeError: AssertionError: ...")
    assert str(e.value).split("\n")[-2] == "RuntimeError: " + first


def _pin(x: torch.Tensor):
    p = x.pin_memory()
    return p, p.is_pinned()


def test_pin_memory_in_scripted_code(monkeypatch):
    # torch 2.13 scripts x.pin_memory() (aten::pin_memory(Tensor(a) self, Device? device
    # =None)); on a machine without an accelerator it raises when it runs
    s = torch.jit.script(_pin)
    assert "aten::pin_memory" in str(s.graph)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError,
                       match="\nRuntimeError: Cannot access accelerator device when none is "
                             "available."):
        s(torch.ones(2))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    x = torch.arange(6.0).reshape(2, 3).t()
    p, pinned = s(x)
    assert pinned and p.is_pinned() and not x.is_pinned()
    assert p.tolist() == x.tolist() and p.stride() == x.stride()
    p2, _ = s(p)
    assert p2.tolist() == p.tolist() and p2.is_pinned()


def _str_methods(s: str):
    return (s.split(), s.split(None, 1), s.rsplit(), s.rsplit(" ", 1), s.strip(),
            s.lstrip(), s.rstrip(), s.isspace(), s.splitlines(), s.splitlines(True))


@pytest.mark.parametrize("s, want", [
    ("  a  b  ", (["a", "b"], ["a", "b"], ["", "", "a", "", "b", "", ""], ["  a  b ", ""],
                  "a  b", "a  b  ", "  a  b", False, ["  a  b  "], ["  a  b  "])),
    ("a\rb\nc\r\nd", (["a", "b", "c", "d"], ["a", "b", "c", "d"], ["a\rb\nc\r\nd"],
                      ["a\rb\nc\r\nd"], "a\rb\nc\r\nd", "a\rb\nc\r\nd", "a\rb\nc\r\nd",
                      False, ["a", "b", "c", "", "d"],
                      ["a", "\r", "b", "\n", "c", "\r", "", "\n", "d"])),
    ("\t\n\x0b\x0c\r ", ([], [], ["\t\n\x0b\x0c\r", ""], ["\t\n\x0b\x0c\r", ""], "\r",
                         "\r ", "\t\n\x0b\x0c\r", True, ["\t", "", "", "", " "],
                         ["\t", "\n", "", "\x0b", "", "\x0c", "", "\r", " "])),
    ("\x1f", (["\x1f"], ["\x1f"], ["\x1f"], ["\x1f"], "\x1f", "\x1f", "\x1f", False,
              ["\x1f"], ["\x1f"])),
    ("", ([], [], [""], [""], "", "", "", False, [], [])),
    ("x\n", (["x"], ["x"], ["x\n"], ["x\n"], "x", "x\n", "x", False, ["x"], ["x", "\n"]))])
def test_str_methods_are_torchscripts(s, want):
    assert torch.jit.script(_str_methods)(s) == want


def _rsplit_none(s: str):
    return s.rsplit(None)


def test_rsplit_takes_no_none():
    with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
        torch.jit.script(_rsplit_none)


class _Color(Enum):
    RED = 1
    GREEN = 2


def _enum_list():
    xs = list(_Color)
    xs.append(_Color.RED)
    return xs, [c.value for c in xs]


def test_list_of_an_enum_class_is_its_members():
    s = torch.jit.script(_enum_list)
    for _ in range(2):      # (a new list each call: the first call's append stays its own)
        xs, vals = s()
        assert xs == [_Color.RED, _Color.GREEN, _Color.RED] and vals == [1, 2, 1]


class _WithClassAttr:
    k = 3

    def __init__(self):
        self.a = 1


class _NoInit:
    def f(self) -> int:
        return 1


def _class_attr():
    return _WithClassAttr().k


def _missing_attr():
    return _WithClassAttr().zz


def _no_init():
    return _NoInit().f()


@pytest.mark.parametrize("fn, words", [
    (_class_attr, "'__torch__._WithClassAttr' object has no attribute or method 'k'. 'k' is "
                  "defined as a class attribute which currently is not supported. Consider "
                  "converting this to an instance attribute."),
    (_missing_attr, "'__torch__._WithClassAttr' object has no attribute or method 'zz'. Did "
                    "you forget to initialize an attribute in __init__()?"),
    (_no_init, "Class _NoInit does not have an __init__ function defined")])
def test_script_class_errors_in_torchs_words(fn, words):
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(fn)
    assert str(e.value).startswith(words), str(e.value)
    assert "<--- HERE" in str(e.value)


def _min_tensors(x: torch.Tensor, y: torch.Tensor):
    return min(x, y), min(3, x), max(2.5, y), min(x)


def test_min_max_convert_a_tensor_to_a_number():
    s = torch.jit.script(_min_tensors)
    got = s(torch.tensor(2), torch.tensor(4))
    assert got == (2, 2, 4.0, 2) and [type(v) for v in got] == [int, int, float, int]
    with pytest.raises(RuntimeError, match="Cannot input a tensor of type Float as an "
                                           "integral argument"):
        s(torch.tensor(2.5), torch.tensor(1))
    with pytest.raises(RuntimeError, match="Cannot input a tensor of dimension other than 0 "
                                           "as a scalar argument"):
        s(torch.tensor([1, 2]), torch.tensor(1))


def _tuple_aug(p: Tuple[int, int]):
    t = (1,)
    t += (2,)
    f = (1.5,)
    f *= 2
    p += (3,)
    q = (4,)
    q = q + (5,)
    return t, f, p, q


def test_tuple_augmented_assignment_makes_a_list():
    assert torch.jit.script(_tuple_aug)((7, 8)) == ([1, 2], [1.5, 1.5], [7, 8, 3], (4, 5))


def _tuple_aug_mixed():
    t = (1, "a")
    t += (2,)
    return t


def test_tuple_augmented_assignment_of_mixed_elements_is_refused():
    with pytest.raises(RuntimeError):
        torch.jit.script(_tuple_aug_mixed)


def _isinstance_bool(b: bool, x: Union[int, bool], a: Any):
    return isinstance(b, int), isinstance(True, int), isinstance(x, int), \
        isinstance(a, int), isinstance(a, bool)


def test_a_bool_is_no_int_to_isinstance():
    s = torch.jit.script(_isinstance_bool)
    assert s(True, True, True) == (False, False, False, False, True)
    assert s(False, 3, 3) == (False, False, True, True, False)


def _str_keywords():
    return "a b c".split(" ", max=1), "a,b".split(separator=","), "aaa".replace("a", "b", max=2)


def _split_maxsplit():
    return "a b c".split(" ", maxsplit=1)


def _replace_count():
    return "aaa".replace("a", "b", count=2)


def test_str_method_keywords_are_torchscripts():
    assert torch.jit.script(_str_keywords)() == (["a", "b c"], ["a", "b"], "bba")
    for fn in (_split_maxsplit, _replace_count):
        with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
            torch.jit.script(fn)


def _sizes_of_tensors(x: torch.Tensor):
    return x.view(torch.tensor(6)).shape, torch.randn(torch.tensor(2), 3).shape, \
        x.permute(torch.tensor(1), 0).shape


def _zeros_of_a_tensor(x: torch.Tensor):
    return torch.zeros(x)


def test_a_tensor_packed_into_sizes_is_its_value():
    x = torch.arange(6.0).reshape(2, 3)
    assert torch.jit.script(_sizes_of_tensors)(x) == ([6], [2, 3], [3, 2])
    s = torch.jit.script(_zeros_of_a_tensor)
    assert s(torch.tensor(3)).shape == (3,)
    with pytest.raises(RuntimeError, match="Cannot input a tensor of dimension other than 0 "
                                           "as a scalar argument"):
        s(x)
