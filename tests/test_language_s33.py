"""TorchScript language-reference programs (session 33, helper f33), checked against
torch.jit.script 2.13's answers, written out here.

Finds, minimised:

1. PEP 484's multi-line signature comment -- one `# type: T` comment per parameter and a
   `# type: (...) -> R` line after the header -- is how the language reference types a
   long parameter list.  torch 2.13 pastes the parameter comments into the `...`:

       def f(a,  # type: int
             b,  # type: float
             ):
           # type: (...) -> float
           return a * b              # torch: f(2, 1.5) == 3.0, inputs (int, float)

   gpujit ignored the per-parameter comments, typed a and b as Tensors and refused the
   function ('declared to return a float but returns a Tensor').  torch's errors around
   the form: a parameter comment missing -> 'Number of type annotations (1) did not match
   the number of function parameters (2)'; parameter comments without the `(...) -> R`
   line (none, a full `(int, int) -> int` line, or a Python 3 `-> float`) -> "Return type
   line '# type: (...) -> ...' not found on multiline type annotation".
"""
from typing import List, Optional

import pytest

import gpujit as torch


def _err(fn):
    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(fn)
    return str(ei.value)


# ------------------------------------------------------- 1. per-parameter type comments

def mp_mul(a,  # type: int
           b,  # type: float
           ):
    # type: (...) -> float
    return a * b


def mp_opt(a,  # type: int
           b  # type: Optional[float]
           ):
    # type: (...) -> float
    if b is None:
        return 0.0
    return a * b


def mp_list(xs,  # type: List[int]
            k,  # type: int
            ):
    # type: (...) -> List[int]
    return [x * k for x in xs]


def mp_missing(a,  # type: int
               b,
               ):
    # type: (...) -> int
    return a


def mp_no_return_line(a,  # type: int
                      b,  # type: float
                      ):
    return a * b


def mp_full_line(a,  # type: int
                 b,  # type: float
                 ):
    # type: (int, int) -> int
    return a


def mp_py3_return(a,  # type: int
                  b,  # type: float
                  ) -> float:
    return a * b


def test_per_parameter_type_comments_type_the_parameters():
    f = torch.jit.script(mp_mul)
    assert f(2, 1.5) == 3.0 and type(f(2, 1.5)) is float
    assert [str(i.type()) for i in f.graph.inputs()] == ["int", "float"]
    g = torch.jit.script(mp_opt)
    assert g(2, None) == 0.0 and g(2, 2.5) == 5.0
    assert torch.jit.script(mp_list)([1, 2], 3) == [3, 6]
    with pytest.raises(RuntimeError):
        f(torch.ones(2), 1.5)           # a is an int, not a Tensor


def test_per_parameter_type_comments_errors_are_torchs():
    msg = _err(mp_missing)
    assert ("Number of type annotations (1) did not match the number of function "
            "parameters (2)") in msg
    for fn in (mp_no_return_line, mp_full_line, mp_py3_return):
        msg = _err(fn)
        assert ("Return type line '# type: (...) -> ...' not found on multiline type "
                "annotation") in msg, fn.__name__
        assert f"def {fn.__name__}(a,  # type: int" in msg      # the user's line


class MpMod(torch.nn.Module):
    def forward(self,
                x,  # type: torch.Tensor
                n,  # type: int
                ):
        # type: (...) -> torch.Tensor
        return x * n


def test_per_parameter_type_comments_on_a_method():
    m = torch.jit.script(MpMod())
    assert m(torch.ones(2), 3).tolist() == [3.0, 3.0]
