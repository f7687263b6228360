"""Session 40 (b40): TorchScript language details against torch.jit.script 2.13.

1. torch.nn.functional's Python-level functions declare `float` parameters, and a
   scripted call converts no int to them (nor to a `bool`): `F.hardtanh(x, 0, 6.0)`,
   `F.elu(x, n)` with `n: int`, `torch.jit.script(nn.Hardtanh(0, 6))` raise
       hardtanh(Tensor input, float min_val=-1., float max_val=1., bool inplace=False) -> Tensor:
       Expected a value of type 'float' for argument 'min_val' but instead found type 'int'.
   pointing at the call (swept over every float parameter of every scriptable F function
   in torch 2.13: all refuse an int). gpujit accepted (its calls bind registry ops taking a
   Scalar); now refused in torch's words from torch's F signatures
   (library_functions._F_SCHEMAS). F's C++ builtins (F.softplus(x, 2, 20)) and a bool for a
   float (F.hardtanh(x, True, 1.0)) still compile, as in torch.

2. `a is b` of values other than None, tensors, lists/dicts/objects: gpujit compiled
   strings, ints, floats, devices to aten::eq (.code `torch.eq(a, b)`), folded an int and a
   float to False, and refused tuples, `Tensor is int`, `Optional[str] is str` ("`is` /
   `is not` is supported for comparing with None only"). torch 2.13 emits aten::__is__
   for all of them (.code `torch.__is__(a, b)`; only two bools become aten::eq), whose
   answer is IValue identity: ints, floats, devices by value of one kind (`x is 1000`
   True, `3 is 3.0` False, nan is nan False), strings / tuples by object (`a is a` True,
   `s is "x"` with s an input "x" False, `a + "y" is "xy"` False); constant propagation
   makes each constant string / tuple / Enum member an IValue of its own: `"x" is "x"`,
   `s = "x"; t = s; s is t`, `(1, 2) is (1, 2)`, `Color.RED is Color.RED` all fold to False.
   gpujit now does the same (conditions.compare, constant_propagation.same_identity).
   Left: a scripted function's arguments are Python's objects, so `a is b` of two str
   arguments "x", "x" is True (Python interns them; torch False), `x is Color.RED` of the
   argument Color.RED True (members are singletons; torch False).

3. `y: Optional[int] = None; y = 3; if c: y = None`: torch refuses, "Variable 'y'
   previously had type int but is now being assigned to a value of type NoneType" (an
   unannotated assignment stores the value's own type; a nested block's assignment must
   fit the enclosing block's type); so do `y = 3; if c: y = None` (else branch too),
   `x = t; if c: x = None` (Tensor), and `if y is not None: if c: y = None` (y narrowed to
   int). gpujit unified them into Optional[int]; now refused in those words.

4. An op given None for a Tensor in scripted code (`x.grad.sum()`, `x.grad + 1`,
   `x * x.grad` where x has no gradient): torch 2.13 raises RuntimeError "Expected a proper
   Tensor but got None (or an undefined Tensor in C++) for argument #0 'self'" (#1 'other'
   for mul's second); gpujit said the eager op's "sum(): argument 'input' (position 1) must
   be Tensor, not NoneType" / "add(): expected at least one Tensor argument". Now torch's
   words (interpreter.as_runtime_error), the error still also a TypeError.

5. .code as torch 2.13 prints it where the graphs agree: `s[1:]` is aten::slice(s, 1,
   None, 1), `torch.slice(s, 1)` (gpujit passed step None: `torch.slice(s, 1, None,
   None)`); `"%d and %s" % (x, s)` is `torch.percentFormat("%d and %s", (x, s))` (gpujit
   passed a location constant and the values spread); `d.get(k)` / `d.get(k, v)` are
   aten::get, `torch.get(d, "b", 3)` (gpujit: an if on `torch.__contains__`), and a default
   not of the values' type is refused ("Arguments for call are not valid", torch 2.13:
   `d.get("b", 3)` of a Dict[str, float], `d.get("b", None)`).
   Left: list mutators (torch: `_0 = torch.append(xs, x)`, `torch._set_item(d, "c", 4)`,
   `torch.insert(xs, 0, 5)` with no result; gpujit threads the list through append's
   output and prints `xs.append(x)`), `xs.pop()` / `xs.remove(1)` / `d.pop("a")` (gpujit
   passes a location constant), `d.update(e)` (gpujit: a loop of _set_item).

6. The language reference (seed 000): a `# type: (float) -> float` comment on the def's own
   line is refused by torch 2.13, "expected type comment but found 'def' here:" (it reads
   the line after the header only); gpujit took it. Its EmptyDataStructures appends
   `(i, x.item())` to a List[Tuple[int, float]]: torch converts the number to the element
   type (aten::Float / aten::Int, `float(torch.item(x))`) in append, insert and item
   assignment of lists and dicts, so an int tensor's item is 2.0 in a List[float]; gpujit
   stored the int 2 (and 2.5 in a Dict[str, int]).

7. `F.lp_pool1d(x, 2, 2)`: torch 2.13's norm_type is Union[int, float]; gpujit's `float`
   refused the int ("Expected a value of type 'float' for argument 'norm_type'").

8. An int for a `float` parameter of an ATen op that takes a Tensor: torch 2.13 refuses
   `torch.dropout(x, 0, False)`, `torch.isclose(x, x, 0, 0)`, `torch.layer_norm(x, [3],
   None, None, 0)`, `F.cosine_similarity(x, x, 1, 1)` ("Expected a value of type 'float' for
   argument 'p' but instead found type 'int'."); gpujit took the int (a lenient match meant
   for math.sqrt(n), whose int overloads gpujit's registry folds into the float one).
   Swept: every float parameter of gpujit's Tensor-taking registry ops is a float (not a
   Scalar) in torch 2.13's schema; Scalar parameters (torch.celu(x, 1)) and math's
   functions still take ints.
"""
import math
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional
nn = torch.nn
Tensor = torch.Tensor


def _refusal(fn):
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(fn)
    return str(e.value)


def _hardtanh_int(x: Tensor):
    return F.hardtanh(x, 0, 6.0)


def _elu_int_var(x: Tensor, n: int):
    return F.elu(x, n)


def _dropout_int_flag(x: Tensor):
    return F.dropout(x, 0.5, 1)


def _embedding_max_norm(x: Tensor, w: Tensor):
    return F.embedding(x, w, max_norm=1)


def _layer_norm_eps(x: Tensor):
    return F.layer_norm(x, [3], eps=0)


def _dropout1d_int(x: Tensor):      # (gpujit compiles F.dropout1d from its own source)
    return F.dropout1d(x, 0)


def _threshold_int(x: Tensor):
    return F.threshold(x, 1.0, 2)


def test_int_for_float_parameter_refused_as_torch():
    msg = _refusal(_hardtanh_int)
    assert msg.startswith(
        "hardtanh(Tensor input, float min_val=-1., float max_val=1., bool inplace=False) "
        "-> Tensor:\nExpected a value of type 'float' for argument 'min_val' but instead "
        "found type 'int'."), msg
    assert "return F.hardtanh(x, 0, 6.0)" in msg
    msg = _refusal(_elu_int_var)
    assert "elu(Tensor input, float alpha=1., bool inplace=False) -> Tensor:\nExpected a " \
           "value of type 'float' for argument 'alpha' but instead found type 'int'." in msg
    assert "Expected a value of type 'bool' for argument 'training' but instead found type " \
           "'int'." in _refusal(_dropout_int_flag)
    assert "Expected a value of type 'Optional[float]' for argument 'max_norm' but instead " \
           "found type 'int'." in _refusal(_embedding_max_norm)
    assert "layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, Tensor? " \
           "bias=None, float eps=1.0000000000000001e-05) -> Tensor:" in \
           _refusal(_layer_norm_eps)
    msg = _refusal(_dropout1d_int)
    assert msg.startswith("dropout1d(Tensor input, float p=0.5, bool training=True, bool "
                          "inplace=False) -> Tensor:\nExpected a value of type 'float' for "
                          "argument 'p' but instead found type 'int'."), msg
    assert "_threshold(Tensor input, float threshold, float value, bool inplace=False) -> " \
           "Tensor:\nExpected a value of type 'float' for argument 'value'" in \
           _refusal(_threshold_int)


def test_modules_with_int_arguments_refused_as_torch():
    # torch 2.13: nn.Hardtanh(0, 6) keeps the ints; its forward's F.hardtanh refuses them
    for m, head, arg in ((nn.Hardtanh(0, 6), "hardtanh(", "min_val"),
                         (nn.LeakyReLU(0), "leaky_relu(", "negative_slope"),
                         (nn.Dropout(0), "dropout(", "p"),
                         (nn.GroupNorm(1, 3, eps=0), "group_norm(", "eps")):
        msg = _refusal(m)
        assert msg.startswith(head) and f"for argument '{arg}' but instead found type " \
            f"'int'." in msg, msg
    s = torch.jit.script(nn.Hardtanh(0.0, 6.0))
    assert s(torch.tensor([-1.0, 3.0, 9.0])).tolist() == [0.0, 3.0, 6.0]
    torch.jit.script(nn.Softplus(2, 20))     # (F.softplus: a C++ builtin taking a Scalar)


def _softplus_ints(x: Tensor):
    return F.softplus(x, 2, 20)


def _hardtanh_bool(x: Tensor):
    return F.hardtanh(x, True, 2.0)


def _hardtanh_floats(x: Tensor):
    return F.hardtanh(x, min_val=0.0, max_val=6.0)


def test_what_torch_accepts_still_compiles():
    x = torch.tensor([-1.0, 0.5, 3.0, 9.0])
    assert torch.jit.script(_hardtanh_floats)(x).tolist() == [0.0, 0.5, 3.0, 6.0]
    assert torch.jit.script(_hardtanh_bool)(x).tolist() == [1.0, 1.0, 2.0, 2.0]
    y = torch.jit.script(_softplus_ints)(x)
    assert abs(y[1].item() - 0.6566) < 1e-3


# ---------------------------------------------------------------- 2. `is` / `is not`

# (written to a module of their own when the test runs: `is` with a literal is what is
# tested, which pyflakes flags in this file)
_IS_SOURCE = """
import enum
from typing import Optional, Tuple

import gpujit as torch

Tensor = torch.Tensor


class _Color(enum.Enum):
    RED = 1
    GREEN = 2


def _is_values(a: int, b: float, s: str, t: Tuple[int, int], d: torch.device):
    u = t
    return (a is 1000, a is b, b is 2.5, s is s, s is "xy", s + "y" is "xyy",
            t is u, t is (1, 2), d is torch.device("cpu"), a is not 1000)


def _is_constants():
    s = "x"
    t = s
    return "x" is "x", s is t, (1, 2) is (1, 2), _Color.RED is _Color.RED, 3 is 3, \\
        2.0 is 2


def _is_mixed(x: Tensor, n: int, o: Optional[str], f: float):
    return x is n, o is "ab", f is f


def _is_bools(a: bool, b: bool):
    return a is b, a is not True
"""


def _is_module(tmp_path):
    import importlib.util
    import sys
    import warnings
    path = tmp_path / "is_programs_s40.py"
    path.write_text(_IS_SOURCE)
    spec = importlib.util.spec_from_file_location("is_programs_s40", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        spec.loader.exec_module(mod)
    return mod


def test_is_of_values_as_torch(tmp_path):
    m = _is_module(tmp_path)
    s = torch.jit.script(m._is_values)
    for _ in range(3):
        # ("xy" made when running: gpujit passes Python's objects, and a literal "xy"
        # here would be the very object of the constant "xy", interned; torch's IValues
        # never are)
        xy = "".join(["x", "y"])
        assert s(1000, 1000.0, xy, (1, 2), torch.device("cpu")) == \
            (True, False, False, True, False, False, True, False, True, False)
        assert s(3, 2.5, "q", (3, 4), torch.device("cpu")) == \
            (False, False, True, True, False, False, True, False, True, True)
    code = s.code
    assert "torch.__is__(a, 1000)" in code and "torch.__is__(a, b)" in code and \
        "torch.__is__(s, s)" in code and "torch.__is__(t, t)" in code and \
        "torch.__isnot__(a, 1000)" in code and "torch.eq(" not in code, code
    c = torch.jit.script(m._is_constants)
    assert c() == (False, False, False, False, True, False)
    assert "__is__" not in c.code
    x = torch.jit.script(m._is_mixed)
    nan = float("nan")
    assert x(torch.ones(1), 1, "".join(["a", "b"]), nan) == (False, False, False)
    assert x(torch.ones(1), 1, None, 1.0) == (False, False, True)
    b = torch.jit.script(m._is_bools)
    assert b(True, True) == (True, False) and b(False, True) == (False, True)
    assert "torch.eq(a, b)" in b.code and "torch.ne(a, True)" in b.code


# ------------------------------------------- 3. a variable's type in a nested block

def _rebound_then_none(c: bool) -> Optional[int]:
    y: Optional[int] = None
    y = 3
    if c:
        y = None
    return y


def _int_then_none_else(c: bool) -> Optional[int]:
    y = 3
    if c:
        pass
    else:
        y = None
    return y


def _tensor_then_none(c: bool, x: Tensor) -> Optional[Tensor]:
    y = x
    if c:
        y = None
    return y


def _narrowed_then_none(c: bool, y: Optional[int]) -> Optional[int]:
    if y is not None:
        if c:
            y = None
    return y


def _branch_rebinds_then_none(c: bool) -> Optional[int]:
    y: Optional[int] = None
    if c:
        y = 3
        if c:
            y = None
    return y


def _annotated_widens(c: bool, y: Optional[int]) -> Optional[int]:
    z: Optional[int] = 3
    if c:
        z = None
    if y is not None:
        y = None
    w: Optional[int] = None
    if c:
        w = 4
    return z if w is None else w


def test_nested_assignment_fits_enclosing_type_as_torch():
    for fn, line, was, now in (
            (_rebound_then_none, "        y = None", "int", "NoneType"),
            (_int_then_none_else, "        y = None", "int", "NoneType"),
            (_tensor_then_none, "        y = None", "Tensor", "NoneType"),
            (_narrowed_then_none, "        y = None", "int", "NoneType"),
            (_branch_rebinds_then_none, "        y = None", "int", "NoneType")):
        msg = _refusal(fn)
        assert msg.startswith(f"Variable 'y' previously had type {was} but is now being "
                              f"assigned to a value of type {now}"), (fn.__name__, msg)
        assert line in msg, (fn.__name__, msg)
    s = torch.jit.script(_annotated_widens)
    assert s(True, 1) == 4 and s(False, None) == 3


# --------------------------------------------------------------- 4. .code spellings

def _slices(s: str, xs: List[int]):
    return s[1:], s[:2], s[::2], xs[1:], xs[1:3:2], s[1:-1]


def _percent(x: int, s: str, t: Tuple[int, str]) -> str:
    return "%d and %s" % (x, s) + "%d" % x + "%d-%s" % t


def _bad_percent(x: int) -> str:
    fmt = "%d %d"           # (a variable: pyflakes flags the literal's missing value)
    return fmt % (x,)


def _dict_get(d: Dict[str, int], e: Dict[int, Tensor], x: Tensor):
    return d.get("a"), d.get("b", 3), e.get(1, x)


def _dict_get_int_for_float(d: Dict[str, float]) -> float:
    return d.get("b", 3)


def test_code_spellings_as_torch():
    # torch 2.13's .code of these programs (the slice's step 1 and end None are defaults
    # left out; a percent format's values are one tuple; dict.get is aten::get)
    s = torch.jit.script(_slices)
    assert "(torch.slice(s, 1), torch.slice(s, None, 2), torch.slice(s, None, None, 2), " \
           "torch.slice(xs, 1), torch.slice(xs, 1, 3, 2), torch.slice(s, 1, -1))" in s.code
    assert s("abcd", [1, 2, 3, 4]) == ("bcd", "ab", "ac", [2, 3, 4], [2], "bc")
    p = torch.jit.script(_percent)
    code = p.code
    assert 'torch.percentFormat("%d and %s", (x, s))' in code and \
        'torch.percentFormat("%d", x)' in code and 'torch.percentFormat("%d-%s", t)' in code
    assert p(1, "q", (2, "r")) == "1 and q12-r"
    b = torch.jit.script(_bad_percent)
    with pytest.raises(RuntimeError, match="Too few arguments for format string") as e:
        b(1)
    assert "return fmt % (x,)" in str(e.value)
    g = torch.jit.script(_dict_get)
    assert 'torch.get(d, "a"), torch.get(d, "b", 3), torch.get(e, 1, x)' in g.code
    t = torch.ones(1)
    assert g({"a": 1}, {}, t)[:2] == (1, 3) and g({"b": 2}, {}, t)[:2] == (None, 2)
    assert g({}, {}, t)[2] is t
    # torch 2.13: "Arguments for call are not valid." (the default is no float)
    assert "Arguments for call are not valid" in _refusal(_dict_get_int_for_float)


# ------------------------------------------------------ 4. None for a Tensor when running

def _grad_sum(x: Tensor):
    return x.grad.sum()


def _grad_add(x: Tensor):
    return x.grad + 1


def _grad_mul(x: Tensor):
    return x * x.grad


def test_none_for_a_tensor_when_running_as_torch():
    for fn, k, name in ((_grad_sum, 0, "self"), (_grad_add, 0, "self"),
                        (_grad_mul, 1, "other")):
        s = torch.jit.script(fn)
        with pytest.raises(RuntimeError) as e:
            s(torch.ones(2))
        # (the last line of torch 2.13's interpreter report)
        assert str(e.value).endswith(
            f"\nRuntimeError: Expected a proper Tensor but got None (or an undefined Tensor "
            f"in C++) for argument #{k} '{name}'\n"), fn.__name__


# ------------------------------------------- 6. the language reference's type comments

def _type_comment_on_def_line(x):  # type: (float) -> float
    return x * 2


def _type_comment_after_def(x):
    # type: (float) -> float
    return x * 2


def test_type_comment_on_the_def_line_refused_as_torch():
    # torch 2.13 takes the comment from the line after the header only
    assert _refusal(_type_comment_on_def_line).startswith(
        "expected type comment but found 'def' here:")
    assert torch.jit.script(_type_comment_after_def)(1.5) == 3.0


# ------------------------- 7. a number stored in a container of floats / ints (the seed's
# EmptyDataStructures: `my_list.append((i, x.item()))` into a List[Tuple[int, float]])

def _item_into_containers(x: Tensor):
    pairs: List[Tuple[int, float]] = []
    pairs.append((1, x.item()))
    xs: List[float] = [0.0]
    xs.append(x.item())
    xs[0] = x.item()
    xs.insert(0, x.item())
    d: Dict[str, int] = {}
    d["a"] = x.item()
    return pairs, xs, d


def test_number_stored_in_a_container_is_converted_as_torch():
    # torch 2.13: aten::Float / aten::Int of the number (`float(torch.item(x))`), so an
    # int tensor's item is 2.0 in a List[float] and a float's 2 in a Dict[str, int]
    s = torch.jit.script(_item_into_containers)
    pairs, xs, d = s(torch.tensor(2))
    assert pairs == [(1, 2.0)] and type(pairs[0][1]) is float
    assert xs == [2.0, 2.0, 2.0] and all(type(v) is float for v in xs)
    _, _, d = s(torch.tensor(2.5))
    assert d == {"a": 2} and type(d["a"]) is int
    assert "pairs.append((1, float(torch.item(x))))" in s.code or \
        "torch.append(pairs, (1, float(torch.item(x))))" in s.code, s.code


def _lp_pool_int_norm(x: Tensor, n: int):
    return F.lp_pool1d(x, 2, 2), F.lp_pool1d(x, n, 2)


def test_lp_pool_takes_an_int_norm_type_as_torch():
    # torch 2.13's F.lp_pool1d declares norm_type: Union[int, float] (gpujit: float,
    # refusing the int 2)
    x = torch.arange(1.0, 9.0).reshape(1, 2, 4)
    a, b = torch.jit.script(_lp_pool_int_norm)(x, 1)
    assert np.allclose(a.numpy(), [[[5 ** 0.5, 5.0], [61 ** 0.5, 113 ** 0.5]]])
    assert b.tolist() == [[[3.0, 7.0], [11.0, 15.0]]]


# ------------------------- 8. an int for a `float` of an ATen op that takes a Tensor

def _dropout_int(x: Tensor):
    return torch.dropout(x, 0, False)


def _isclose_ints(x: Tensor):
    return torch.isclose(x, x, 0, 0)


def _layer_norm_int_eps(x: Tensor):
    return torch.layer_norm(x, [3], None, None, 0)


def _cosine_int_eps(x: Tensor):
    return F.cosine_similarity(x, x, 1, 1)


def _scalars_take_ints(x: Tensor, n: int):
    # (Scalar parameters, and math's functions of an int, as torch 2.13)
    return torch.celu(x, 1), torch.threshold(x, 1, 0), F.softshrink(x, 1), math.sqrt(n)


def test_int_for_a_tensor_ops_float_refused_as_torch():
    # torch 2.13: "aten::dropout(Tensor input, float p, bool train) -> Tensor:\nExpected a
    # value of type 'float' for argument 'p' but instead found type 'int'." (isclose's
    # rtol, layer_norm's eps, cosine_similarity's eps alike)
    for fn, arg in ((_dropout_int, "p"), (_isclose_ints, "rtol"),
                    (_layer_norm_int_eps, "eps"), (_cosine_int_eps, "eps")):
        msg = _refusal(fn)
        assert f"Expected a value of type 'float' for argument '{arg}' but instead found " \
               f"type 'int'." in msg, (fn.__name__, msg)
    x = torch.ones(2, 3)
    r = torch.jit.script(_scalars_take_ints)(x, 4)
    assert r[0].tolist() == x.tolist() and r[3] == 2.0
