"""Session 49 (d49): what scripted `raise` and `assert` raise, checked against torch 2.13:
torch.jit.Error whose message is TorchScript's traceback (the statement's frame, underlined
as far as torch's source range of it goes) and then "<class>: <message>"; the
prim::RaiseException TorchScript emits for each form of `raise` (the expected texts are
torch 2.13's; the tests compare with torch itself when it is importable)."""

import inspect
from typing import List, Optional, Union

import pytest

import gpujit

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs torch")

_HEAD = ("The following operation failed in the TorchScript interpreter.\n"
         "Traceback of TorchScript (most recent call last):\n")


def _frame(fn, stmt, width, called=None, at=None):
    """TorchScript's frame of the statement of fn whose line starts with `stmt`: the line
    with two lines of fn either side, `width` characters of it underlined (from `at`)."""
    lines, first = inspect.getsourcelines(fn)
    k = next(i for i, ln in enumerate(lines) if ln.strip().startswith(stmt))
    text = lines[k].rstrip("\n")
    col = len(text) - len(text.lstrip()) if at is None else text.index(at)
    out = [f'  File "{__file__}", line {first + k}, in {called or fn.__name__}']
    out += [ln.rstrip("\n") for ln in lines[max(0, k - 2):k]]
    out += [text, " " * col + "~" * width + " <--- HERE"]
    out += [ln.rstrip("\n") for ln in lines[k + 1:k + 3]]
    return "\n".join(out) + "\n"


def _message(call):
    with pytest.raises(Exception) as e:
        call()
    return e.value, str(e.value)


# ---------------------------------------------------------------- 1. messages
def _raises_value_error(x: int) -> int:
    a = x + 1
    if x > 1:
        raise ValueError("x")
    b = a + 2
    c = b + 3
    return c


def _raises_built_message(x: int) -> int:
    if x > 1:
        raise ValueError("bad " + str(x))
    return x


def _raises_formatted(x: int) -> int:
    if x > 1:
        raise Exception(f"bad {x}")
    return x


def _asserts_with_message(x: int) -> int:
    assert x > 0, "x must be positive"
    return x


def _asserts_bare(x: int) -> int:
    assert x > 0
    return x


def _asserts_formatted(x: int) -> int:
    assert x > 0, f"bad {x}"
    return x


# (fn, argument, the statement, torch's underline width, the message's last line, classes)
_CASES = [
    (_raises_value_error, 3, "raise", 19, "builtins.ValueError: x", (ValueError,)),
    (_raises_built_message, 3, "raise", 31, "builtins.ValueError: bad 3", (ValueError,)),
    (_raises_formatted, 3, "raise", 24, "builtins.Exception: bad 3", ()),
    (_asserts_with_message, -1, "assert", 33, "RuntimeError: AssertionError: x must be positive",
     (AssertionError,)),
    (_asserts_bare, -1, "assert", 12, "RuntimeError: AssertionError: ", (AssertionError,)),
    (_asserts_formatted, -2, "assert", 22, "RuntimeError: AssertionError: bad -2",
     (AssertionError,)),
]


@pytest.mark.parametrize("fn,arg,stmt,width,last,classes", _CASES,
                         ids=[c[0].__name__ for c in _CASES])
def test_raise_and_assert_say_torchs_traceback_and_class(fn, arg, stmt, width, last, classes):
    want = _HEAD + _frame(fn, stmt, width) + last + "\n"
    f = gpujit.jit.script(fn)
    for _ in range(3):      # (the interpreter's first runs, then the generated code's)
        f(0 if arg < 0 else 1) if arg >= 0 else f(1)
        e, text = _message(lambda: f(arg))
        assert text == want
        assert isinstance(e, gpujit.jit.Error) and not isinstance(e, AssertionError) or \
            AssertionError in classes
        for cls in classes:             # (gpujit's error is also of the class raised)
            assert isinstance(e, cls)


@needs_torch
@pytest.mark.parametrize("fn,arg,stmt,width,last,classes", _CASES,
                         ids=[c[0].__name__ for c in _CASES])
def test_raise_and_assert_messages_are_torchs(fn, arg, stmt, width, last, classes):
    e, text = _message(lambda: _torch.jit.script(fn)(arg))
    assert isinstance(e, _torch.jit.Error)
    assert text == _HEAD + _frame(fn, stmt, width) + last + "\n"


# ---------------------------------------------------------------- 2. the forms of raise
def _bare_class(x: int) -> int:
    if x > 1:
        raise ValueError
    return x


def _assertion_error(x: int) -> int:
    if x > 1:
        raise AssertionError(f"x {x}")
    return x


def _assertion_error_empty(x: int) -> int:
    if x > 1:
        raise AssertionError()
    return x


def _two_arguments(x: int) -> int:
    if x > 1:
        raise ValueError("a", x)
    return x


def _int_argument(x: int) -> int:
    if x > 1:
        raise KeyError(x)
    return x


class _MyError(Exception):
    pass


def _own_class(x: int) -> int:
    if x > 1:
        raise _MyError("mine")
    return x


def _code(fn, raise_line):
    return (f"def {fn.__name__}(x: int) -> int:\n  if torch.gt(x, 1):\n    {raise_line}\n"
            f"  else:\n    pass\n  return x\n")


_FORMS = [
    # a bare class: no message, no class ("RuntimeError: ")
    (_bare_class, 'ops.prim.RaiseException("")', "RuntimeError: ", RuntimeError),
    # AssertionError's message says the class, as an assert's; none is named
    (_assertion_error, '_0 = torch.add("AssertionError: ", torch.format("x {}", x))\n'
     '    ops.prim.RaiseException(_0)', "RuntimeError: AssertionError: x 3", AssertionError),
    (_assertion_error_empty, 'ops.prim.RaiseException("AssertionError: ")',
     "RuntimeError: AssertionError: ", AssertionError),
    # several arguments: the str of their tuple
    (_two_arguments, 'ops.prim.RaiseException(str(("a", x)), "builtins.ValueError")',
     "builtins.ValueError: (a, 3)", ValueError),
    (_int_argument, 'ops.prim.RaiseException(str(x), "builtins.KeyError")',
     "builtins.KeyError: 3", KeyError),
    (_own_class, f'ops.prim.RaiseException("mine", "{__name__}._MyError")',
     f"{__name__}._MyError: mine", _MyError),
]


@pytest.mark.parametrize("fn,line,last,cls", _FORMS, ids=[c[0].__name__ for c in _FORMS])
def test_each_form_of_raise_is_torchs(fn, line, last, cls):
    f = gpujit.jit.script(fn)
    assert f.code == _code(fn, line)
    assert f(1) == 1
    e, text = _message(lambda: f(3))
    assert isinstance(e, gpujit.jit.Error) and isinstance(e, cls)
    assert text.startswith(_HEAD) and text.endswith("\n" + last + "\n"), text
    raises = [ln for ln in str(f.graph).splitlines() if "prim::RaiseException" in ln]
    assert len(raises) == 1
    if _torch is not None:
        t = _torch.jit.script(fn)
        assert t.code == f.code
        te, ttext = _message(lambda: t(3))
        assert ttext == text


def test_a_bare_class_names_no_class_in_the_graph():
    g = str(gpujit.jit.script(_bare_class).graph)
    # torch 2.13: `%6 : NoneType = prim::Constant()` (no source range) for the class
    none = [ln.strip() for ln in g.splitlines() if ": NoneType = prim::Constant()" in ln]
    assert len(none) == 1 and "#" not in none[0], g
    assert 'value="builtins.ValueError"' not in g


# ---------------------------------------------------------------- 3. where the frame points
def _inner(x: int) -> int:
    a = 1
    b = 2
    if x > 1:
        raise ValueError("inner bad")
    c = 3
    d = 4
    return x + a + b + c + d


def _outer(x: int) -> int:
    y = x + 1
    return _inner(y)


def test_an_inlined_functions_raise_is_framed_in_the_called_function():
    # torch 2.13: one frame, named after the function called, showing the inlined
    # function's lines
    want = _HEAD + _frame(_inner, "raise", 27, called="_outer") + \
        "builtins.ValueError: inner bad\n"
    f = gpujit.jit.script(_outer)
    assert f(0) == 11
    for _ in range(3):
        e, text = _message(lambda: f(5))
        assert text == want
    if _torch is not None:
        assert _message(lambda: _torch.jit.script(_outer)(5))[1] == want


class _Checked(gpujit.nn.Module):
    def helper(self, x: int) -> int:
        if x == 7:
            raise KeyError("seven")
        return x

    def forward(self, x: int) -> int:
        assert x < 10, "too big"
        return self.helper(x)


def test_a_methods_raise_is_framed_in_forward():
    m = gpujit.jit.script(_Checked())
    assert m(3) == 3
    e, text = _message(lambda: m(7))
    assert isinstance(e, KeyError) and isinstance(e, gpujit.jit.Error)
    assert text == _HEAD + _frame(_Checked.helper, "raise", 21, called="forward") + \
        "builtins.KeyError: seven\n"
    e, text = _message(lambda: m(12))
    assert isinstance(e, AssertionError)
    assert text == _HEAD + _frame(_Checked.forward, "assert", 23) + \
        "RuntimeError: AssertionError: too big\n"


def _long_condition(xs: List[int]) -> int:
    assert len(xs) > 2 and xs[0] == 1 and \
        xs[1] == 2, "no"
    return xs[0]


def test_a_statement_over_two_lines_is_underlined_on_both():
    f = gpujit.jit.script(_long_condition)
    e, text = _message(lambda: f([5]))
    lines, first = inspect.getsourcelines(_long_condition)
    assert text.startswith(_HEAD + f'  File "{__file__}", line {first + 1}, in '
                                   f'_long_condition\n')
    body = text[len(_HEAD):].splitlines()
    # (torch 2.13: each line of the range underlined, the last one marked)
    assert body[2] == lines[1].rstrip("\n") and body[3] == "    " + "~" * 39
    assert body[4] == lines[2].rstrip("\n") and body[5] == " " * 8 + "~" * 15 + " <--- HERE"
    assert body[6] == lines[3].rstrip("\n") and body[7] == "RuntimeError: AssertionError: no"
    if _torch is not None:
        assert _message(lambda: _torch.jit.script(_long_condition)([5]))[1] == text


def _bound_then_raised(x: int) -> int:
    e = AssertionError("bad")
    v = ValueError("vv", x)
    if x > 1:
        raise e
    if x < -1:
        raise v
    return x


_BOUND_CODE = """def _bound_then_raised(x: int) -> int:
  _0 = ("vv", x)
  if torch.gt(x, 1):
    ops.prim.RaiseException("AssertionError: bad")
  else:
    pass
  if torch.lt(x, -1):
    ops.prim.RaiseException(str(_0), "builtins.ValueError")
  else:
    pass
  return x
"""


def test_an_exception_bound_to_a_name_is_made_a_str_where_raised():
    # torch 2.13: `e = ValueError("vv", x)` holds the tuple; the raise str()s it
    f = gpujit.jit.script(_bound_then_raised)
    assert f.code == _BOUND_CODE
    assert f(0) == 0
    assert _message(lambda: f(3))[1].endswith("\nRuntimeError: AssertionError: bad\n")
    assert _message(lambda: f(-3))[1].endswith("\nbuiltins.ValueError: (vv, -3)\n")
    if _torch is not None:
        assert _torch.jit.script(_bound_then_raised).code == _BOUND_CODE


# ---------------------------------------------------------------- 4. returns inside loops
def _find_from(xs: List[int], t: int) -> int:
    for x in xs:
        if x == t:
            return x
        t += 1
    return -1


def _first_square_over(n: int) -> int:
    i = 0
    while i < n:
        if i * i > n:
            return i
        i += 1
    return n


def _nested_find(xs: List[List[int]]) -> int:
    for row in xs:
        for v in row:
            if v > 3:
                return v
    return 0


_FIND_FROM_CODE = """def _find_from(xs: List[int],
    t: int) -> int:
  _0 = uninitialized(int)
  _1 = torch.len(xs)
  _2 = False
  _3 = _0
  t0 = t
  _4 = 0
  _5 = torch.gt(_1, 0)
  while _5:
    x = xs[_4]
    if torch.eq(x, t0):
      _6, _7, _8, _9 = False, True, x, _0
    else:
      _6, _7, _8, _9 = True, False, _0, torch.add(t0, 1)
    _10 = torch.add(_4, 1)
    _11 = torch.__and__(torch.lt(_10, _1), _6)
    _5, _2, _3, t0, _4 = _11, _7, _8, _9, _10
  if _2:
    _12 = _3
  else:
    _12 = -1
  return _12
"""

_FIRST_SQUARE_CODE = """def _first_square_over(n: int) -> int:
  _0 = uninitialized(int)
  _1 = False
  _2 = _0
  i = 0
  _3 = torch.lt(0, n)
  while _3:
    if torch.gt(torch.mul(i, i), n):
      _4, _5, _6, _7 = False, True, i, _0
    else:
      i0 = torch.add(i, 1)
      _4, _5, _6, _7 = torch.lt(i0, n), False, _0, i0
    _3, _1, _2, i = _4, _5, _6, _7
  if _1:
    _8 = _2
  else:
    _8 = n
  return _8
"""

_NESTED_FIND_CODE = """def _nested_find(xs: List[List[int]]) -> int:
  _0 = uninitialized(int)
  _1 = torch.len(xs)
  _2 = False
  _3 = _0
  _4 = 0
  _5 = torch.gt(_1, 0)
  while _5:
    row = xs[_4]
    _6 = torch.len(row)
    _7 = False
    _8 = _0
    _9 = 0
    _10 = torch.gt(_6, 0)
    while _10:
      v = row[_9]
      if torch.gt(v, 3):
        _11, _12, _13 = False, True, v
      else:
        _11, _12, _13 = True, False, _0
      _14 = torch.add(_9, 1)
      _15 = torch.__and__(torch.lt(_14, _6), _11)
      _10, _7, _8, _9 = _15, _12, _13, _14
    if _7:
      _16 = False
    else:
      _16 = True
    _17 = torch.add(_4, 1)
    _18 = torch.__and__(torch.lt(_17, _1), _16)
    _5, _2, _3, _4 = _18, _7, _8, _17
  if _2:
    _19 = _3
  else:
    _19 = 0
  return _19
"""

_LOOP_RETURNS = [
    (_find_from, _FIND_FROM_CODE, [(([3, 5, 6], 4), 5), (([1, 1], 5), -1), (([], 0), -1)]),
    (_first_square_over, _FIRST_SQUARE_CODE, [((10,), 4), ((0,), 0), ((1,), 1)]),
    (_nested_find, _NESTED_FIND_CODE, [(([[1], [2, 5, 9]],), 5), (([[1], []],), 0)]),
]


@pytest.mark.parametrize("fn,code,calls", _LOOP_RETURNS,
                         ids=[c[0].__name__ for c in _LOOP_RETURNS])
def test_a_return_in_a_loop_is_torchs_exit_transform(fn, code, calls):
    # torch 2.13: on the path that returns, the loop's carried variables go out
    # uninitialized (`_0`), and an inner loop's returned flag and value go on out of the
    # outer loop's body as they are (gpujit carried the variables' values, and the flag and
    # value through an if of three outputs)
    f = gpujit.jit.script(fn)
    assert f.code == code
    for _ in range(3):
        for args, want in calls:
            assert f(*args) == want == fn(*args)
    if _torch is not None:
        assert _torch.jit.script(fn).code == code


# ---------------------------------------------------------------- 5. narrowed variables
def _narrowed_then_read(x: Optional[int]) -> Optional[int]:
    if x is not None:
        x + 1
    return x


def _asserted(x: Optional[int]) -> int:
    assert x is not None, "need x"
    y = x * 2
    return x + y


def _isinstance_both_ways(x: Union[int, str]) -> str:
    if isinstance(x, int):
        x + 1
    return str(x)


def _narrowed_and_assigned(x: Optional[int]) -> int:
    if x is not None:
        y = x + 1
    else:
        y = 0
    if x is None:
        x = 3
    return x + y


_NARROWED_CODES = {
    _narrowed_then_read: """def _narrowed_then_read(x: Optional[int]) -> Optional[int]:
  if torch.__isnot__(x, None):
    x0 : Optional[int] = unchecked_cast(int, x)
  else:
    x0 = x
  return x0
""",
    _asserted: """def _asserted(x: Optional[int]) -> int:
  _0 = uninitialized(int)
  if torch.__isnot__(x, None):
    x0 = unchecked_cast(int, x)
  else:
    ops.prim.RaiseException("AssertionError: need x")
    x0 = _0
  y = torch.mul(x0, 2)
  return torch.add(x0, y)
""",
    _isinstance_both_ways: """def _isinstance_both_ways(x: Union[int, str]) -> str:
  _0 = isinstance(x, int)
  if _0:
    x0 : Union[int, str] = unchecked_cast(int, x)
  else:
    x0 = unchecked_cast(str, x)
  return str(x0)
""",
    _narrowed_and_assigned: """def _narrowed_and_assigned(x: Optional[int]) -> int:
  if torch.__isnot__(x, None):
    x1 = unchecked_cast(int, x)
    x0, y = x1, torch.add(x1, 1)
  else:
    x0, y = x, 0
  if torch.__is__(x0, None):
    x2 = 3
  else:
    x2 = unchecked_cast(int, x0)
  return torch.add(x2, y)
""",
}

_NARROWED_CALLS = {
    _narrowed_then_read: [((None,), None), ((4,), 4)],
    _asserted: [((3,), 9)],
    _isinstance_both_ways: [((3,), "3"), (("a",), "a")],
    _narrowed_and_assigned: [((None,), 3), ((2,), 5)],
}


@pytest.mark.parametrize("fn", list(_NARROWED_CODES), ids=lambda f: f.__name__)
def test_a_narrowed_variable_is_an_output_of_its_if(fn):
    # torch 2.13 stores the cast in the branch (insertRefinements): the if outputs the
    # variable where something after it reads it; an assert's if too (gpujit read the
    # variable from before the if, cast again after it)
    f = gpujit.jit.script(fn)
    assert f.code == _NARROWED_CODES[fn]
    for _ in range(3):
        for args, want in _NARROWED_CALLS[fn]:
            assert f(*args) == want == fn(*args)
    if fn is _asserted:
        e, text = _message(lambda: f(None))
        assert isinstance(e, AssertionError)
        assert text.endswith("\nRuntimeError: AssertionError: need x\n")
    if _torch is not None:
        assert _torch.jit.script(fn).code == f.code


def _narrowed_unused(x: Optional[int]) -> int:
    if x is not None:
        return x + 1
    return 0


def test_a_narrowing_nothing_reads_after_the_if_leaves_no_output():
    f = gpujit.jit.script(_narrowed_unused)
    ifs = [ln for ln in str(f.graph).splitlines() if "prim::If(" in ln]
    assert len(ifs) == 1 and ifs[0].lstrip().startswith("%"), str(f.graph)
    assert ifs[0].count(" : ") == 1     # (the return value only)
    assert f(3) == 4 and f(None) == 0


def _narrowed_in_a_loop(x: Optional[int], n: int) -> int:
    s = 0
    for i in range(n):
        if x is not None:
            s += x
    return s


def _asserted_in_a_while(x: Optional[int], n: int) -> int:
    s = 0
    while n > 0:
        assert x is not None
        s += x
        n -= 1
    return s


def _optional_carried(x: Optional[int], n: int) -> Optional[int]:
    for i in range(n):
        if i == 2:
            x = None
    return x


_NARROWED_IN_LOOP_CODE = """def _narrowed_in_a_loop(x: Optional[int],
    n: int) -> int:
  s = 0
  x0: Optional[int] = x
  for i in range(n):
    if torch.__isnot__(x0, None):
      x2 = unchecked_cast(int, x0)
      s0, x1 = torch.add(s, x2), x2
    else:
      s0, x1 = s, x0
    s, x0 = s0, x1
  return s
"""

_ASSERTED_IN_WHILE_CODE = """def _asserted_in_a_while(x: Optional[int],
    n: int) -> int:
  _0 = uninitialized(int)
  s = 0
  n0 = n
  x0: Optional[int] = x
  _1 = torch.gt(n, 0)
  while _1:
    if torch.__isnot__(x0, None):
      x1 = unchecked_cast(int, x0)
    else:
      ops.prim.RaiseException("AssertionError: ")
      x1 = _0
    s0 = torch.add(s, x1)
    n1 = torch.sub(n0, 1)
    _1, s, n0, x0 = torch.gt(n1, 0), s0, n1, x1
  return s
"""

_OPTIONAL_CARRIED_CODE = """def _optional_carried(x: Optional[int],
    n: int) -> Optional[int]:
  x0: Optional[int] = x
  for i in range(n):
    if torch.eq(i, 2):
      x1 : Optional[int] = None
    else:
      x1 = x0
    x0 = x1
  return x0
"""

_LOOP_NARROWING = [
    (_narrowed_in_a_loop, _NARROWED_IN_LOOP_CODE, [((None, 3), 0), ((2, 3), 6)]),
    (_asserted_in_a_while, _ASSERTED_IN_WHILE_CODE, [((2, 3), 6), ((None, 0), 0)]),
    (_optional_carried, _OPTIONAL_CARRIED_CODE, [((5, 2), 5), ((5, 3), None)]),
]


@pytest.mark.parametrize("fn,code,calls", _LOOP_NARROWING,
                         ids=[c[0].__name__ for c in _LOOP_NARROWING])
def test_a_variable_narrowed_in_a_loop_is_carried(fn, code, calls):
    # torch 2.13: the body stores the cast, so the loop carries the variable; an Optional
    # / Union loop-carried variable's first value says its type (`x0: Optional[int] = x`)
    f = gpujit.jit.script(fn)
    assert f.code == code
    for _ in range(3):
        for args, want in calls:
            assert f(*args) == want == fn(*args)
    if _torch is not None:
        assert _torch.jit.script(fn).code == code


# ---------------------------------------------------------------- 6. the tutorial's MyRNNLoop
class _Cell(gpujit.nn.Module):
    def forward(self, x, h):
        new_h = gpujit.tanh(x + h)
        return new_h, new_h


class _RNNLoop(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = gpujit.jit.trace(_Cell(), (gpujit.rand(3, 4), gpujit.rand(3, 4)))

    def forward(self, xs):
        h, y = gpujit.zeros(3, 4), gpujit.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


def test_a_traced_submodules_call_has_its_schemas_types():
    # torch 2.13: `%32 : (Tensor, Tensor) = prim::CallMethod[name="forward"](%cell, ...)`,
    # the traced method's schema types; gpujit's said the traced graph's Float(3, 4, ...)
    m = gpujit.jit.script(_RNNLoop())
    calls = [ln.strip() for ln in str(m.graph).splitlines() if "prim::CallMethod" in ln]
    assert len(calls) == 1 and ": (Tensor, Tensor) = prim::CallMethod" in calls[0], calls
    unpack = [ln.strip() for ln in str(m.graph).splitlines() if "prim::TupleUnpack" in ln]
    assert unpack and "Float(" not in unpack[0]
    xs = gpujit.rand(2, 3, 4)
    y, h = m(xs)
    want = gpujit.zeros(3, 4)
    for i in range(2):
        want = gpujit.tanh(xs[i] + want)
    assert gpujit.allclose(y, want) and gpujit.allclose(h, want)


class _WithUnused(gpujit.nn.Module):
    @gpujit.jit.unused
    def helper(self, x: int) -> int:
        return x + 1

    def forward(self, x: int) -> int:
        if x > 2:
            return self.helper(x)
        return x


def test_an_unused_methods_call_raises_torchs_error():
    # torch 2.13: the @unused method's call is a raise of "This Python function is
    # annotated to be ignored and cannot be run", framed as a raise, `self.helper` marked
    m = gpujit.jit.script(_WithUnused())
    assert m(1) == 1
    e, text = _message(lambda: m(5))
    assert isinstance(e, gpujit.jit.Error) and isinstance(e, RuntimeError)
    assert text == _HEAD + _frame(_WithUnused.forward, "return self.helper", 11,
                                    at="self.helper") + \
        "RuntimeError: This Python function is annotated to be ignored and cannot be run\n"


_WITH_UNUSED_CODE = """def forward(self,
    x: int) -> int:
  _0 = "This Python function is annotated to be ignored and cannot be run"
  if torch.gt(x, 2):
    ops.prim.RaiseException(_0)
  else:
    pass
  return x
"""


def test_returning_an_unused_call_is_a_raise_without_a_return():
    # torch 2.13's exit transform: `return self.helper(x)` raises before it returns, so the
    # if carries no value and the function returns x after it (gpujit's if returned an
    # uninitialized value on that branch)
    m = gpujit.jit.script(_WithUnused())
    assert m.code == _WITH_UNUSED_CODE
    assert all(ln.lstrip().startswith("= prim::If(") for ln in str(m.graph).splitlines()
               if "prim::If(" in ln)
