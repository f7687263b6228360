"""TorchScript differences left by session 25, fixed in session 26 (helper C26).
torch 2.13's TorchScript is the spec; each expected value here is what it answers.

- The str methods count, find, rfind, index, rindex, startswith and endswith take
  TorchScript's optional start/end (`aten::count(str self, str substr, int start=0,
  int end=-1) -> int`) with its semantics: a negative end is one past Python's (end=-1 is
  the whole str), a start past the str is std::string::substr's RuntimeError, count counts
  matches that begin before end ("abab".count("ab", 0, 3) is 2).
"""
from __future__ import annotations

from typing import List

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
