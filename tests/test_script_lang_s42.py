"""Session 42: TorchScript language leftovers checked against torch 2.13."""
from __future__ import annotations

import pytest

import gpujit

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None


_NOT_ALL_PATHS = ("^Function was not annotated as having type None, but does not return "
                  "along all paths")


def _while_true_returns(x: int) -> int:
    while True:
        x += 1
        if x > 10:
            return x


def _while_cond_returns(x: int) -> int:
    while x < 100:
        x += 1
        if x > 10:
            return x


def _while_true_then_return(x: int) -> int:
    while True:
        x += 1
        if x > 10:
            return x
    return -1


def _while_true_breaks(x: int) -> int:
    while True:
        x += 1
        if x > 10:
            break
    return x


@pytest.mark.parametrize("fn", [_while_true_returns, _while_cond_returns])
def test_a_loop_that_only_returns_does_not_end_the_function(fn):
    # torch 2.13 does not special-case `while True:` (gpujit accepted the first)
    with pytest.raises(RuntimeError, match=_NOT_ALL_PATHS):
        gpujit.jit.script(fn)
    if _torch is not None:
        with pytest.raises(RuntimeError, match="\n" + _NOT_ALL_PATHS[1:]):
            _torch.jit.script(fn)


@pytest.mark.parametrize("fn, want", [(_while_true_then_return, 11), (_while_true_breaks, 11)])
def test_while_true_loops_that_run(fn, want):
    assert gpujit.jit.script(fn)(3) == want == fn(3)
    if _torch is not None:
        assert _torch.jit.script(fn)(3) == want
