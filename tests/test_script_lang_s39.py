"""TorchScript language against torch.jit.script 2.13 (session 39, helper b39): small
programs run under `import torch` and `import gpujit as torch`; torch's answers are
written out here.

Finds, minimised:

1. A list of ints is no `float[]` in TorchScript's schema matching, nor a tuple holding
   an int: `[1] == [1.0]`, `[1] != [1.0]`, `(1, 2.0) == (1, 2.0)`, a NamedTuple of an
   int and a float == another, `a == a` of a Tuple[int, float] are all refused by torch
   2.13 ("Arguments for call are not valid. ... aten::eq.float_list(float[] a, float[]
   b) -> bool: Expected a value of type 'List[float]' for argument 'a' but instead found
   type 'List[int]'"), as `[1.0] + [1]` is. A tuple of ints alone is an int list there
   ((1, 2) == (1, 2), P(1, 2) == P(1, 2) of ints, (1.0,) == (1.0,): True). gpujit took
   an int list (or a tuple with an int) for a float list and answered.

2. An `if` that narrows a variable narrows it after the if only where the other branch
   returns or raises (TorchScript's exit blocks: a return / raise, an if both of whose
   branches exit, a with whose body does); a `continue` or `break` is no such exit:
   `for x in xs: if x is None: continue` then `s += x` is refused by torch 2.13
   ("Arguments for call are not valid" for aten::add of Optional[int]), as are
   `while True: if x is None: break` then `x + 1`, and `if x is not None: pass else:
   continue` then `x + 1`. gpujit (which compiles what follows an exiting if into both
   branches) narrowed it there too.
"""
from typing import List, NamedTuple, Optional, Tuple

import pytest

import gpujit as torch
from gpujit.frontend.script.errors import FrontendError


# ---------------------------------------------------------------- 1. int lists for float[]
class _IF(NamedTuple):
    a: int
    b: float


class _II(NamedTuple):
    a: int
    b: int


def _eq_int_float_lists():
    return [1] == [1.0]


def _ne_int_float_lists():
    return [1] != [1.0]


def _eq_mixed_tuples():
    return (1, 2.0) == (1, 2.0)


def _eq_mixed_namedtuples():
    return _IF(1, 2.0) == _IF(1, 2.0)


def _eq_mixed_tuple_arg(a: Tuple[int, float]):
    return a == a


@pytest.mark.parametrize("fn", [_eq_int_float_lists, _ne_int_float_lists, _eq_mixed_tuples,
                                _eq_mixed_namedtuples, _eq_mixed_tuple_arg])
def test_int_list_is_no_float_list(fn):
    with pytest.raises(RuntimeError, match="Arguments for call are not valid") as e:
        torch.jit.script(fn)
    msg = str(e.value)
    assert "return" in msg and ("==" in msg or "!=" in msg)      # the user's line
    assert "no variant of 'eq'" in msg or "no variant of 'ne'" in msg


def _eq_int_tuples():
    return (1, 2) == (1, 2), _II(1, 2) == _II(1, 2), (1.0,) == (1.0,), [1] == (1,), \
        [1.0] == [1.0], (True,) == (True,)


def test_homogeneous_tuples_compare_as_lists():
    assert torch.jit.script(_eq_int_tuples)() == (True, True, True, True, True, True)


# ---------------------------------------------------------------- 2. refinement after exits
def _refine_after_continue(xs: List[Optional[int]]):
    s = 0
    for x in xs:
        if x is None:
            continue
        s += x
    return s


def _refine_after_break(x: Optional[int]):
    while True:
        if x is None:
            break
        return x + 1
    return 0


def _refine_after_else_continue(x: Optional[int]):
    for i in range(1):
        if x is not None:
            pass
        else:
            continue
        return x + 1
    return 0


def _refine_after_elif_continue(x: Optional[int], c: bool):
    while True:
        if x is None:
            break
        x = x + 1
        return x
    return 0


@pytest.mark.parametrize("fn", [_refine_after_continue, _refine_after_break,
                                _refine_after_else_continue, _refine_after_elif_continue])
def test_no_refinement_after_continue_or_break(fn):
    with pytest.raises(FrontendError, match="Arguments for call are not valid") as e:
        torch.jit.script(fn)
    assert "Optional[int]" in str(e.value) and "x" in str(e.value)


def _refine_after_return(x: Optional[int]):
    if x is None:
        return 0
    return x + 1


def _refine_after_nested_returns(x: Optional[int], c: bool):
    if x is None:
        if c:
            return 1
        else:
            return 2
    return x + 1


def _refine_after_raise_in_loop(x: Optional[int]):
    for i in range(1):
        if x is None:
            raise ValueError("a")
        return x + 1
    return 0


def _refine_after_return_with_continue(x: Optional[int], c: bool):
    for i in range(2):
        if x is None:
            return 0
        elif c:
            continue
        return x + 1
    return 1


def _refine_inside_continue_branch(xs: List[Optional[int]]):
    s = 0
    for x in xs:
        if x is not None:
            s += x
            continue
        s -= 1
    return s


def _refine_after_return_in_with(x: Optional[int]):
    if x is None:
        with torch.no_grad():
            return 1
    return x + 1


def test_refinement_after_return_or_raise_still_holds():
    assert torch.jit.script(_refine_after_return)(1) == 2
    assert torch.jit.script(_refine_after_return)(None) == 0
    assert torch.jit.script(_refine_after_nested_returns)(1, True) == 2
    assert torch.jit.script(_refine_after_raise_in_loop)(1) == 2
    assert torch.jit.script(_refine_after_return_with_continue)(1, False) == 2
    assert torch.jit.script(_refine_after_return_with_continue)(1, True) == 1
    assert torch.jit.script(_refine_inside_continue_branch)([1, None, 2]) == 2
    assert torch.jit.script(_refine_after_return_in_with)(1) == 2
