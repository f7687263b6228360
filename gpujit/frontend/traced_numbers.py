"""The numbers a trace follows: an int computed from a tensor's size (`x.size(0)`,
`x.shape[1]`, `x.numel()`) is a TracedInt, and arithmetic on it is recorded (aten::mul.int,
aten::div.int ...), so `x.view(x.size(0), -1)` and `x * (x.shape[1] / 2)` keep working for
other shapes, as in PyTorch, whose tracer hands out sizes as 0-dim tensors. A true
division (or arithmetic with a float) gives a TracedFloat, followed the same way.

Turning one into a plain Python value where the user's code does it bakes the value in,
with PyTorch's TracerWarning: `float(n)` / `math.sqrt(n)` ("a Python float"), `int(n)`
("a Python integer"), a comparison or `if n:` ("a Python boolean"). Index use
(`range(n)`, `xs[n]`) is silent, as PyTorch's tracer is. gpujit's own code converts them
silently (the op bodies compute on plain numbers).
"""
from __future__ import annotations

import math
import sys

from .._frames import _PKG_DIR
from ..ops import registry as _reg

__all__ = ["TracedInt", "TracedFloat", "is_traced_number", "plain"]


def _from_user(depth=2):
    """Whether the frame `depth` above the caller is the user's code (not gpujit's)."""
    f = sys._getframe(depth)
    return f is not None and not f.f_code.co_filename.startswith(_PKG_DIR)


def _warn_conversion(what):
    from .tracer import _Active, conversion_warning, warn_at_user
    s = _Active.session
    if s is not None and not s.paused:
        warn_at_user(conversion_warning(what))


def _rec(name, *args):
    return _reg.OPS[name].public(*args)


def plain(x):
    """x as a plain int / float (a traced number's value, without a warning)."""
    if isinstance(x, TracedInt):
        return int.__int__(x)
    if isinstance(x, TracedFloat):
        return float.__float__(x)
    return x


def is_traced_number(x):
    return isinstance(x, (TracedInt, TracedFloat))


def _as_float(x):
    """x as a float operand of a recorded float op: a TracedInt through aten::Float.int."""
    if isinstance(x, TracedInt):
        return _rec("aten::Float.int", x)
    return x if isinstance(x, float) else float(x)


_OPS = {"add": "add", "sub": "sub", "mul": "mul", "floordiv": "floordiv", "mod": "remainder",
        "truediv": "div", "pow": "pow"}


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class _Traced:
    """What TracedInt and TracedFloat share: recorded arithmetic, warned conversions."""
    __slots__ = ()

    def _arith(self, other, name, reverse=False):
        base = int if isinstance(self, int) else float
        if not _number(other):
            return getattr(base, f"__{'r' if reverse else ''}{name}__")(self, other)
        a, b = (other, self) if reverse else (self, other)
        if name == "truediv" and isinstance(a, int) and isinstance(b, int):
            return _rec("aten::div.int", a, b)
        if name == "pow" and isinstance(a, int) and isinstance(b, int):
            if b >= 0:                           # (Python: int ** non-negative int is an int)
                return _rec("aten::pow.int_to_int", a, b)
            return _rec("aten::pow.int", a, b)
        if isinstance(a, int) and isinstance(b, int):
            return _rec(f"aten::{_OPS[name]}.int", a, b)
        return _rec(f"aten::{_OPS[name]}.float", _as_float(a), _as_float(b))

    def __add__(self, o): return self._arith(o, "add")
    def __radd__(self, o): return self._arith(o, "add", True)
    def __sub__(self, o): return self._arith(o, "sub")
    def __rsub__(self, o): return self._arith(o, "sub", True)
    def __mul__(self, o): return self._arith(o, "mul")
    def __rmul__(self, o): return self._arith(o, "mul", True)
    def __floordiv__(self, o): return self._arith(o, "floordiv")
    def __rfloordiv__(self, o): return self._arith(o, "floordiv", True)
    def __mod__(self, o): return self._arith(o, "mod")
    def __rmod__(self, o): return self._arith(o, "mod", True)
    def __truediv__(self, o): return self._arith(o, "truediv")
    def __rtruediv__(self, o): return self._arith(o, "truediv", True)

    def __pow__(self, o, mod=None):
        if mod is not None:
            return pow(plain(self), o, mod)
        return self._arith(o, "pow")

    def __rpow__(self, o, mod=None):
        if mod is not None:
            return pow(o, plain(self), mod)
        return self._arith(o, "pow", True)

    def __neg__(self):
        return _rec("aten::neg.int" if isinstance(self, int) else "aten::neg.float", self)

    def __pos__(self):
        return self

    def __abs__(self):
        if isinstance(self, int):
            return _rec("prim::abs.int", self)
        return self if float.__float__(self) >= 0 else -self

    # ---------------------------------------------------------- baked-in conversions
    def __float__(self):
        if _from_user():
            _warn_conversion("a Python float")
        return float(plain(self))

    def __int__(self):
        if _from_user():
            _warn_conversion("a Python integer")
        return int(plain(self))

    def __bool__(self):
        if _from_user():
            _warn_conversion("a Python boolean")
        return bool(plain(self))

    def _compare(self, other, fn):
        if not isinstance(other, (int, float)):
            return NotImplemented               # (a Tensor compares itself to the number)
        if _from_user(3):
            _warn_conversion("a Python boolean")
        return fn(plain(self), plain(other))

    def __lt__(self, o): return self._compare(o, lambda a, b: a < b)
    def __le__(self, o): return self._compare(o, lambda a, b: a <= b)
    def __gt__(self, o): return self._compare(o, lambda a, b: a > b)
    def __ge__(self, o): return self._compare(o, lambda a, b: a >= b)

    def __eq__(self, o):
        return self._compare(o, lambda a, b: a == b)

    def __ne__(self, o):
        return self._compare(o, lambda a, b: a != b)

    def _rounded(self, fn, *args):
        if _from_user(3):
            _warn_conversion("a Python float")
        return fn(plain(self), *args)

    def __floor__(self): return self._rounded(math.floor)
    def __ceil__(self): return self._rounded(math.ceil)
    def __trunc__(self): return self._rounded(math.trunc)
    def __round__(self, n=None): return self._rounded(round, *(() if n is None else (n,)))

    def __repr__(self):
        return repr(plain(self))

    __str__ = __repr__


class TracedInt(_Traced, int):
    """An int the trace computed from a tensor's size (or from other traced numbers): ops
    that take it record the Value it stands for (`id(recorder) -> Value`)."""

    def __new__(cls, value, values):
        self = int.__new__(cls, value)
        self._values = values
        return self

    # hashed by identity, as PyTorch's traced sizes (0-dim tensors) are: a cache keyed by
    # shapes (einops' lru_cache'd recipe) must not hand one trace's numbers to another
    # trace, or to a later call of the same trace, where they are constants (the trace
    # check failed: "Graphs differed across invocations!")
    __hash__ = object.__hash__

    def __index__(self):            # (range(n), xs[n]: silent, as in PyTorch)
        return int.__int__(self)


class TracedFloat(_Traced, float):
    """A float the trace computed from traced numbers (`x.size(1) / 2`)."""

    def __new__(cls, value, values):
        self = float.__new__(cls, value)
        self._values = values
        return self

    __hash__ = object.__hash__          # (as TracedInt's)
