"""PyTorch's test/jit/test_typing.py: what tests/test_jit_lang_port.py and
test_jit_lang_port_b.py (which port the rest of the file) left out (session 25, helper
H25) -- test_optional_conversion with torch.jit._unwrap_optional, which gpujit now has:
eagerly it returns its argument or raises AssertionError("Unwrapping null optional"); in
scripted code it narrows an Optional[T] to T, raising a RuntimeError with the same words
on None (TorchScript's aten::_unwrap_optional; gpujit compiles it to an `is None` check,
a raise and prim::unchecked_cast, so .code writes it back as that).

Still skipped: test_tuple_specialization (graph_for's input types: gpujit does not
specialize a graph to the types inside a tuple argument).
"""
from typing import List, Optional, Tuple

import pytest

import gpujit as torch
from gpujit._jit_internal import BroadcastingList2

_IN_TYPE_COMMENTS = (List, Tuple, BroadcastingList2)     # (the `# type:` comments name them)


@torch.jit.script
def _other_fn(x=None):
    # type: (Optional[int]) -> int
    return torch.jit._unwrap_optional(x)


@torch.jit.script
def _calls_other_fn(x):
    # type: (int) -> int
    return _other_fn(x)


@torch.jit.script
def _unify_to_optional(x):
    # type: (bool) -> Optional[int]
    if x:
        a = None
    else:
        a = 2
    return a


@torch.jit.script
def _opt_list(x):
    # type: (Optional[List[float]]) -> int
    return 2


@torch.jit.script
def _broadcast_opt_list(x):
    # type: (Optional[BroadcastingList2[float]]) -> int
    return 2


@torch.jit.script
def _opt_list_tuple_caller(x):
    # type: (Tuple[float, float]) -> int
    return _opt_list(x) + _broadcast_opt_list(x)


def test_optional_conversion():
    assert _calls_other_fn(2) == 2
    assert _unify_to_optional(True) is None
    assert _unify_to_optional(False) == 2
    assert _opt_list_tuple_caller((2.0, 3.0)) == 4


def test_unwrap_optional_of_none_raises():
    with pytest.raises(RuntimeError, match="Unwrapping null optional"):
        _other_fn()
    with pytest.raises(RuntimeError, match="Unwrapping null optional"):
        _other_fn(None)
    with pytest.raises(AssertionError, match="Unwrapping null optional"):
        torch.jit._unwrap_optional(None)          # eagerly
    assert torch.jit._unwrap_optional(3) == 3


def test_unwrap_optional_narrows_the_type():
    def f(x: Optional[torch.Tensor]) -> torch.Tensor:
        return torch.jit._unwrap_optional(x) + 1     # (a Tensor method needs the narrowing)
    s = torch.jit.script(f)
    assert s(torch.ones(2)).tolist() == [2.0, 2.0]
    assert "Optional" not in str(s.graph).split("unchecked_cast")[1].split("\n")[0]
    with pytest.raises(RuntimeError, match="Unwrapping null optional"):
        s(None)

    def g(x: int) -> int:              # not an Optional: the value itself
        return torch.jit._unwrap_optional(x)
    sg = torch.jit.script(g)
    assert sg(5) == 5
    assert "Unwrapping" not in str(sg.graph)


def test_unwrap_optional_wrong_calls():
    def none_only():
        return torch.jit._unwrap_optional(None)
    with pytest.raises(RuntimeError, match="always None"):
        torch.jit.script(none_only)

    def two(x: Optional[int]):
        return torch.jit._unwrap_optional(x, x)
    with pytest.raises(RuntimeError, match="one argument"):
        torch.jit.script(two)
