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

2. Syntax TorchScript refuses raises torch.jit.frontend.UnsupportedNodeError (`try`,
   lambda, nested def, `:=`) or NotSupportedError (`for/while ... else`), not a plain
   RuntimeError; gpujit had neither class (section 2 below).

3. An empty list literal passed to a builtin takes the list type of the builtin's first
   overload (prim::EmptyListLiteral): torch `any([]) -> False`, `all([]) -> True`,
   `sum([]) -> 0` (an int), `max([])` compiles and raises 'max() arg is an empty
   sequence' when run.  gpujit typed `[]` as a List[Tensor] and refused all four
   ('any() with (a List[Tensor]) is not supported', 'max() of an empty list').

4. A module whose forward is @torch.jit.unused runs its Python forward (gpujit crashed
   while scripting); assigning a __constants__ / Final attribute raises "Can't set
   constant 'k' which has value:3" (gpujit accepted it).

5. `x = []` in an if branch or loop body for a list variable of an enclosing block takes
   that variable's type: the everyday `if x is None: x = []` for `x: Optional[List[int]]`
   compiles in torch 2.13 (returns []); gpujit refused ("Variable 'x' is a List[Tensor]
   on one branch and a List[int] on the other").  torch gives no such hint to a `[]` in
   the variable's own block (`x = [1]; x = []; return x` -> 'Return value was annotated
   as having type List[int] but is actually of type List[Tensor]') nor to `d = {}`
   ("Variable 'd' previously had type Optional[Dict[str, int]] but is now being assigned
   to a value of type Dict[str, Tensor]").

6. A type hint reaches both values of a conditional expression: torch 2.13 compiles
   `def f(b: bool) -> List[int]: return [1] if b else []` (f(False) == []) and
   `-> Dict[str, int]: return {} if b else {"a": 1}`; gpujit refused ('the two values of
   a conditional expression have different types (a List[int] and a List[Tensor])').
   Without a hint torch refuses too: "if-expression's true branch has type List[Tensor]
   but false branch has type List[int]".

7. `xs == []` / `xs != []` for `xs: List[int]`: torch 2.13 matches the empty literal to
   aten::eq.int_list (xs == [] is False for [1], True for []); gpujit refused ("no
   variant of 'eq' accepts (List[int], List[Tensor])").
"""
from typing import Dict, Final, List, Optional

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


_TYPING_NAMES_THE_COMMENTS_USE = (List, Optional)


# --------------------------------------------- 2. torch.jit.frontend's exception classes
#
# Unsupported syntax raises torch.jit.frontend.UnsupportedNodeError ("try blocks aren't
# supported", "Lambda aren't supported", "function definitions aren't supported",
# "NamedExpr aren't supported") or NotSupportedError ("else branches of for loops aren't
# supported"), both torch.jit.frontend.FrontendError; gpujit had no such classes (every
# refusal a plain RuntimeError), so `except torch.jit.frontend.NotSupportedError` missed.

def un_try() -> int:
    try:
        return 1
    except Exception:
        return 2


def un_lambda() -> int:
    f = lambda x: x + 1     # noqa: E731
    return f(1)


def un_def() -> int:
    def g(x: int) -> int:
        return x + 1
    return g(1)


def un_walrus() -> int:
    if (n := 3) > 2:
        return n
    return 0


def un_for_else() -> int:
    for i in range(3):
        pass
    else:
        return 5
    return 0


def un_while_else() -> int:
    # (torch 2.13 itself crashes here with a TypeError from its own frontend,
    # '__init__(): incompatible constructor arguments'; for-else's NotSupportedError is
    # what it means)
    i = 0
    while i < 3:
        i += 1
    else:
        i = 100
    return i


@pytest.mark.parametrize("fn,words,line", [
    (un_try, "try blocks aren't supported", "try:"),
    (un_lambda, "Lambda aren't supported", "f = lambda x: x + 1"),
    (un_def, "function definitions aren't supported", "def g(x: int) -> int:"),
    (un_walrus, "NamedExpr aren't supported", "if (n := 3) > 2:"),
])
def test_unsupported_nodes_raise_torchs_unsupported_node_error(fn, words, line):
    with pytest.raises(torch.jit.frontend.UnsupportedNodeError) as ei:
        torch.jit.script(fn)
    assert isinstance(ei.value, torch.jit.frontend.NotSupportedError)
    assert isinstance(ei.value, torch.jit.frontend.FrontendError)
    msg = str(ei.value)
    assert msg.startswith(words) and line in msg


@pytest.mark.parametrize("fn,words,line", [
    (un_for_else, "else branches of for loops aren't supported", "for i in range(3):"),
    (un_while_else, "else branches of while loops aren't supported", "while i < 3:"),
])
def test_loop_else_raises_not_supported_error(fn, words, line):
    with pytest.raises(torch.jit.frontend.NotSupportedError) as ei:
        torch.jit.script(fn)
    assert not isinstance(ei.value, torch.jit.frontend.UnsupportedNodeError)
    assert str(ei.value).startswith(words) and line in str(ei.value)


# --------------------------------------------- 3. `[]` passed to any / all / sum / max

def el_any_all() -> List[bool]:
    return [any([]), all([])]


def el_sum() -> int:
    return sum([])


def el_max(n: int) -> int:
    if n > 0:
        return n
    return max([])


def el_min() -> int:
    return min([])


def test_empty_list_literal_in_builtins_takes_the_first_overloads_type():
    assert torch.jit.script(el_any_all)() == [False, True]
    s = torch.jit.script(el_sum)()
    assert s == 0 and type(s) is int
    f = torch.jit.script(el_max)
    assert f(3) == 3
    with pytest.raises(RuntimeError, match="max\\(\\) arg is an empty sequence"):
        f(0)
    with pytest.raises(RuntimeError, match="min\\(\\) arg is an empty sequence"):
        torch.jit.script(el_min)()


# ------------------------------- 4. @unused forward; assigning a module constant
#
# torch 2.13: a module whose forward is @torch.jit.unused scripts, has no compiled
# forward, and calling it runs the Python forward (m(3) == 3); gpujit crashed while
# scripting (AttributeError: property 'forward' ... has no setter).  Assigning a
# `__constants__` / `Final` attribute of a scripted module raises RuntimeError "Can't set
# constant 'k' which has value:3"; gpujit let the assignment through (the compiled code
# kept the old value).

class UnusedForward(torch.nn.Module):
    @torch.jit.unused
    def forward(self, x: int) -> int:
        return x + 1


class WithConstants(torch.nn.Module):
    __constants__ = ["k"]
    scale: Final[int]

    def __init__(self):
        super().__init__()
        self.k = 3
        self.scale = 2
        self.n = 1

    def forward(self, x: int) -> int:
        return x * self.k * self.scale + self.n


def test_unused_forward_runs_in_python():
    m = torch.jit.script(UnusedForward())
    assert m(3) == 4 and m.forward(4) == 5


def test_assigning_a_constant_of_a_scripted_module_raises():
    m = torch.jit.script(WithConstants())
    assert m(1) == 7
    with pytest.raises(RuntimeError, match="Can't set constant 'k' which has value:3"):
        m.k = 5
    with pytest.raises(RuntimeError, match="Can't set constant 'scale' which has value:2"):
        m.scale = 5
    m.n = 10                     # a plain attribute: assignable
    assert m(1) == 16 and m.k == 3


# ---------------------------------------- 5. `x = []` for a list variable of an outer block

def eb_opt_default(x: Optional[List[int]] = None) -> List[int]:
    if x is None:
        x = []
    x.append(7)
    return x


def eb_loop_reset() -> List[int]:
    acc = [0]
    out: List[int] = []
    for i in range(4):
        acc.append(i)
        if len(acc) > 2:
            out.append(len(acc))
            acc = []
    return out + acc


def eb_same_block() -> List[int]:
    x = [1]
    x = []
    return x


def eb_opt_dict(d: Optional[Dict[str, int]] = None) -> int:
    if d is None:
        d = {}
    return len(d)


def test_empty_list_assigned_in_a_block_takes_the_outer_variables_type():
    f = torch.jit.script(eb_opt_default)
    assert f(None) == [7] and f([1]) == [1, 7]
    assert torch.jit.script(eb_loop_reset)() == [3, 2, 3]
    msg = _err(eb_same_block)
    assert ("Return value was annotated as having type List[int] but is actually of "
            "type List[Tensor]") in msg
    msg = _err(eb_opt_dict)
    assert "Dict[str, Tensor]" in msg and "d = {}" in msg


# ------------------------------------------- 6. a type hint reaches both values of `a if c else b`

def te_list(b: bool) -> List[int]:
    return [1] if b else []


def te_dict(b: bool) -> Dict[str, int]:
    return {} if b else {"a": 1}


def te_ann(b: bool) -> int:
    x: List[int] = [] if b else [1]
    return len(x)


def te_unhinted(b: bool) -> int:
    x = [] if b else [1]
    return len(x)


def test_conditional_expression_values_take_the_type_hint():
    f = torch.jit.script(te_list)
    assert f(True) == [1] and f(False) == []
    assert torch.jit.script(te_dict)(True) == {} and torch.jit.script(te_dict)(False) == {"a": 1}
    assert torch.jit.script(te_ann)(True) == 0
    msg = _err(te_unhinted)
    assert "List[Tensor]" in msg and "List[int]" in msg and "x = [] if b else [1]" in msg


# ------------------------------------------------------------ 7. `xs == []`

def cmp_empty(xs: List[int]) -> List[bool]:
    return [xs == [], [] != xs]


def test_comparing_a_list_with_an_empty_list_literal():
    f = torch.jit.script(cmp_empty)
    assert f([1]) == [False, True] and f([]) == [True, False]
