"""Scripted programs' run-time values (helper a37, session 37), checked against
torch.jit.script 2.13 (x86-64); the expected values and words are torch's, written out.

1. TorchScript's DCE drops a list write nothing can see, by its AliasDb: a new list's
   (`ys = list(xs)`, `xs + xs`, `[1, 2]` extended by `+= xs`) `del ys[3]` / `append` with
   ys unused after it goes, so a failing `del` never raises (torch returns 1; gpujit raised
   IndexError: its alias analysis took list(xs) / xs + xs / extend's result for a part of
   the argument xs, a graph input). And a list's `+=` is aten::add_.t, whose schema
   `(t[](a!) self, t[] b) -> t[]` has no alias annotation on its return: TorchScript's
   AliasDb takes the name's new value for a new list, so a later `del xs[0]` or
   `xs.append(2)` that nothing reads is dropped even on the caller's list
   (`xs += list(xs + xs); del xs[0]; if v or True: raise RuntimeError("oops")` with
   xs = [] raises "oops": GPUJIT_PROGRAM_FUZZ_SEED=36051, test_program_fuzz_s24b k=91,
   gpujit raised IndexError; `ys = xs; xs += [1]; xs.append(2); return len(ys)` is 2).
   `xs *= 2` (aten::mul_.t, `-> t[](a!)`) and a direct `del xs[0]` of the argument stay.
"""
from typing import List

import pytest

import gpujit as torch


# ---------------------------------------------------------------- 1. DCE of list writes

def _iadd_then_del(xs: List[int], v: bool) -> List[int]:
    xs += list(xs + xs)
    del xs[0]
    if v or True:
        raise RuntimeError("oops")
    return xs


def _iadd_then_append(xs: List[int]) -> int:
    ys = xs
    xs += [1]
    xs.append(2)
    return len(ys)


def _iadd_then_append_returned(xs: List[int]) -> List[int]:
    ys = xs
    xs += [1]
    xs.append(2)
    return ys


def _iadd_then_del_unused(xs: List[int]) -> int:
    xs += [1]
    del xs[7]
    return 1


def _copy_then_del(xs: List[int]) -> int:
    ys = list(xs)
    del ys[3]
    return 1


def _literal_extended_then_del(xs: List[int]) -> int:
    ys = [1, 2]
    ys += xs
    del ys[7]
    return 1


def _sum_then_append_del(xs: List[int]) -> int:
    ys = xs + xs
    ys.append(1)
    del ys[7]
    return 1


def _del_of_the_argument(xs: List[int], v: bool) -> List[int]:
    del xs[0]
    if v or True:
        raise RuntimeError("oops")
    return xs


def _imul_then_del(xs: List[int]) -> int:
    xs *= 2
    del xs[7]
    return 1


def _pop_of_the_argument(xs: List[int], v: bool) -> int:
    xs.pop(0)
    if v or True:
        raise RuntimeError("oops")
    return 1


def _local_del_then_raise(xs: List[int], v: bool) -> List[int]:
    ys = list(xs)
    del ys[0]
    if v or True:
        raise RuntimeError("oops")
    return xs


def _nested_copy_element_written(xs: List[List[int]]) -> int:
    ys = list(xs)
    ys[0].append(5)          # (an element of the caller's list: stays)
    return 0


def test_dead_writes_to_a_list_torch_takes_for_new_are_dropped():
    for fn in (_iadd_then_del, _local_del_then_raise):
        f = torch.jit.script(fn)
        for _ in range(2):          # (the profiling run and an optimized one)
            with pytest.raises(torch.jit.Error, match="oops"):
                f([], True)
    for fn in (_iadd_then_del_unused, _copy_then_del, _literal_extended_then_del,
               _sum_then_append_del):
        f = torch.jit.script(fn)
        assert f([5]) == 1 and f([5]) == 1
    f = torch.jit.script(_iadd_then_append)
    assert f([5]) == 2 and f([5]) == 2
    f = torch.jit.script(_iadd_then_append_returned)
    assert f([5]) == [5, 1] and f([5]) == [5, 1]
    assert "aten::pop" not in str(torch.jit.script(_copy_then_del).graph)


def test_writes_to_the_argument_or_its_elements_stay():
    for fn in (_del_of_the_argument, _pop_of_the_argument):
        f = torch.jit.script(fn)
        with pytest.raises(RuntimeError) as e:
            f([], True)
        assert not isinstance(e.value, torch.jit.Error)
    f = torch.jit.script(_imul_then_del)
    with pytest.raises(RuntimeError, match="out of range"):
        f([5])
    xs = [[1], [2]]
    f = torch.jit.script(_nested_copy_element_written)
    assert f(xs) == 0
    assert "aten::append" in str(f.graph)
