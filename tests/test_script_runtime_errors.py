"""Runtime errors of scripted code name the scripted line (the generated executor and the
reference interpreter alike), as TorchScript's traceback does."""
from typing import Dict, List

import pytest

import gpujit as torch
from gpujit.frontend.script import compile_function
from gpujit.runtime import interpret


def checks(x, n: int, xs: List[int], d: Dict[str, int]):
    assert n > 0, "n must be positive"
    if n > 10:
        raise ValueError("n is too big")
    return x * xs[n] + d["k"]


def _line(fn, text):
    import inspect
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, ln in enumerate(lines) if text in ln)


@pytest.mark.parametrize("runner", ["executor", "interpreter"])
def test_failed_assert_raise_index_and_key_errors_carry_the_line(runner):
    f = torch.jit.script(checks)
    g = compile_function(checks)

    def run(*args):
        return f(*args) if runner == "executor" else interpret(g, *args)
    x = torch.ones(2)
    run(x, 1, [1, 2], {"k": 1})                      # profiles; fine
    cases = [((x, 0, [1], {"k": 1}), AssertionError, "n must be positive", "assert n > 0"),
             ((x, 11, [1], {"k": 1}), ValueError, "n is too big", "raise ValueError"),
             ((x, 3, [1], {"k": 1}), IndexError, "out of range", "return x * xs[n]"),
             ((x, 1, [1, 2], {"j": 1}), KeyError, "k", "return x * xs[n]")]
    for args, exc, words, source in cases:
        with pytest.raises(exc) as e:
            run(*args)
        msg = str(e.value)
        assert words in msg
        if exc in (AssertionError, ValueError) or runner == "executor":
            # (an op's failure leaving a compiled call: torch 2.13's interpreter report)
            # the scripted raise / assert: TorchScript's traceback frame (torch 2.13)
            assert f'  File "{__file__}", line {_line(checks, source)}, in checks\n' \
                in msg and source in msg, msg
        else:
            assert f"in scripted code at {__file__}:{_line(checks, source)}: {source}" \
                in msg, msg
