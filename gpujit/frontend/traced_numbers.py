"""The numbers a trace follows: an int computed from a tensor's size (`x.size(0)`,
`x.shape[1]`, `x.numel()`) is a TracedInt, and arithmetic on it is recorded, so
`x.view(x.size(0), -1)` and `x * (x.shape[1] / 2)` keep working for other shapes. As in
PyTorch, whose tracer hands out sizes as 0-dim tensors, a size's Values are the int64
tensor `prim::NumToTensor(aten::size(x, 0))` and its arithmetic is that tensor's (`n * 2`
aten::mul(n, CONSTANTS.c0), `n // 2` aten::floor_divide ...); an op's int argument takes
`aten::Int` of it (tracer.Recorder.number_of). A true division (or arithmetic with a
float) gives a TracedFloat, followed the same way. A number standing for an int Value
(`aten::Int` of a tensor) records int arithmetic (aten::mul.int ...).

Turning one into a plain Python value where the user's code does it bakes the value in,
with PyTorch's TracerWarning: `float(n)` / `math.sqrt(n)` ("a Python float"), `int(n)`
("a Python integer"), a comparison or `if n:` ("a Python boolean"). Index use
(`range(n)`, `xs[n]`) is silent, as PyTorch's tracer is. gpujit's own code converts them
silently (the op bodies compute on plain numbers).
"""
from __future__ import annotations

import math
import operator as _operator
import sys

from .._frames import _PKG_DIR, TRACED_COMPARISONS
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
        warn_at_user(conversion_warning(what), state=True)


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


def _tensor_of(x):
    """The 0-dim tensor a traced size stands for in PyTorch's trace (bound to its Values),
    or None for a number whose Values are ints / floats."""
    from .trace_hooks import tensor_of_number
    return tensor_of_number(x)


def _operand(x, t):
    """The other operand of arithmetic on a traced size t, as PyTorch's Tensor operators
    take it: a traced number's tensor, a Python number as the 0-dim tensor the trace keeps
    as a constant (`torch.mul(_0, CONSTANTS.c0)`). PyTorch's is a wrapped number (int64,
    float64), which does not widen t's dtype: gpujit's constant has the dtype that keeps
    replays computing what torch's do (a float's: t's if t is floating, else the default
    float dtype: `x.size(0) * 0.1` is a float32 product, with 0.1 rounded to float32)."""
    if is_traced_number(x):
        from .trace_hooks import _number_tensor
        return _number_tensor(x)
    import numpy as np
    from .. import dtypes as _dt
    from ..device import cpu
    if isinstance(x, bool):
        dt = _dt.bool
    elif isinstance(x, int):
        dt = _dt.int64
    else:
        dt = t.dtype if t.dtype.is_floating_point else _dt.get_default_dtype()
    return _own_constant(_reg.wrap(np.asarray(x, dtype=dt.np), dt, cpu))


def _own_constant(c):
    """c, a tensor the trace made for a Python number, registered as the trace's own
    constant (no TracerWarning; kept alive so its id stays its own while the trace runs)."""
    from .tracer import _Active
    s = _Active.session
    s.announced.add(id(c))
    s.own_constants.add(id(c))
    for rec in s.recorders:
        rec.keep.append(c)
    return c


def wrapped_complex(x):
    """A Python complex number a traced op was given, as the tensor PyTorch's tracer
    records for it: 0-dim complex128 (a wrapped number: its dtype does not widen a
    tensor's), owned by the trace (no TracerWarning)."""
    return _own_constant(_reg.wrapped_number(x))


def _traced_result(r):
    """A 0-dim tensor the trace computed from sizes as the traced number it stands for."""
    from .tracer import _Active
    s = _Active.session
    values = {id(rec): rec.env[id(r)] for rec in s.recorders if id(r) in rec.env}
    v = r._data.item()
    out = (TracedFloat if isinstance(v, float) else TracedInt)(
        int(v) if isinstance(v, bool) else v, values)
    for rec in s.recorders:
        rec.keep.append(out)
    return out


_NAMED = {False: frozenset({"add", "sub", "mul", "truediv", "mod"}),
          True: frozenset({"add", "mul"})}


def _tensor_arith(self_, t, other, name, reverse):
    """Arithmetic on a traced size recorded as PyTorch records it, the Tensor operators of
    the 0-dim tensor a size is there: `n * 2` aten::mul(n, c) of a constant tensor, `n // 2`
    aten::floor_divide, `2 - n` aten::rsub(n, c), `2 / n` reciprocal(n) * c, `n ** 0.5`
    aten::pow(n, 0.5) of the number."""
    OPS = _reg.OPS
    if name in _NAMED[reverse]:
        # (torch's operator is C++ called from the user's frame, whose locals name the
        # size; its floordiv / pow / reflected ones are Python in torch/_tensor.py)
        from .tracer import _Active, _name_values
        _name_values(_Active.session.recorders, (self_, other))
    if name == "pow":
        r = OPS["aten::pow.Tensor_Tensor"].public(
            *((_operand(other, t), t) if reverse else (t, plain(other) if is_traced_number(
                other) and _tensor_of(other) is None else (
                    _operand(other, t) if is_traced_number(other) else other))))
        return _traced_result(r)
    if name == "mod" or (name == "sub" and reverse):
        # (torch's `n % 3`, `3 % n` and `10 - n` pass the number as a Scalar: rsub(n, 10))
        o = _operand(other, t) if is_traced_number(other) else other
        op = OPS["aten::rsub.Tensor" if name == "sub" else "aten::remainder.Tensor"]
        return _traced_result(op.public(*((o, t) if reverse and name == "mod" else (t, o))))
    o = _operand(other, t)
    if not reverse or name in ("add", "mul"):
        r = {"add": lambda: t + o, "sub": lambda: t - o, "mul": lambda: t * o,
             "truediv": lambda: t / o,
             "floordiv": lambda: OPS["aten::floor_divide"].public(t, o)}[name]()
    else:
        r = {"truediv": lambda: t.reciprocal() * o,
             "floordiv": lambda: OPS["aten::floor_divide"].public(o, t)}[name]()
    return _traced_result(r)


class _Traced:
    """What TracedInt and TracedFloat share: recorded arithmetic, warned conversions."""
    __slots__ = ()

    def _arith(self, other, name, reverse=False):
        base = int if isinstance(self, int) else float
        if not _number(other):
            t = None if reverse or not isinstance(other, _reg._Tensor) else _tensor_of(self)
            if t is not None:
                # `n * x` with x a Tensor: the size's own tensor operator, as PyTorch's
                # trace records it (aten::mul(n, x), aten::sub(n, x, 1), aten::div(n, x);
                # Python's reflected x.__rmul__(n) recorded aten::mul(x, n), rsub, ...)
                if name in _NAMED[False]:
                    from .tracer import _Active, _name_values
                    _name_values(_Active.session.recorders, (self, other))
                return getattr(_operator, name)(t, other)
            return getattr(base, f"__{'r' if reverse else ''}{name}__")(self, other)
        t = _tensor_of(self)
        if t is not None:
            return _tensor_arith(self, t, other, name, reverse)
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

    def div(self, other, *, rounding_mode=None):
        """Tensor.div of the 0-dim tensor a traced size is in PyTorch's trace (its
        multi_head_attention_forward divides a traced embed_dim so:
        `torch.div(embed_dim, CONSTANTS.c0, rounding_mode="trunc")`)."""
        t = _tensor_of(self)
        if t is None:
            return self // other if rounding_mode is not None else self / other
        return _traced_result(t.div(_operand(other, t), rounding_mode=rounding_mode))

    def __neg__(self):
        t = _tensor_of(self)
        if t is not None:
            return _traced_result(-t)
        return _rec("aten::neg.int" if isinstance(self, int) else "aten::neg.float", self)

    def __pos__(self):
        return self

    def __abs__(self):
        t = _tensor_of(self)
        if t is not None:
            return _traced_result(abs(t))
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

    def _compare(self, other, fn, name):
        if not isinstance(other, (int, float)):
            return NotImplemented               # (a Tensor compares itself to the number)
        user = _from_user(3)
        if user or sys._getframe(2).f_code in TRACED_COMPARISONS:
            t = _tensor_of(self)
            if t is not None and not is_traced_number(other):
                # (torch's trace compares the size's 0-dim tensor: `n == 1` records
                # aten::eq(n, 1), dead after, whose values take numbers; then the bool is
                # baked in)
                getattr(_operator, name)(t, other)
            if user:
                _warn_conversion("a Python boolean")
        return fn(plain(self), plain(other))

    def __lt__(self, o): return self._compare(o, lambda a, b: a < b, "lt")
    def __le__(self, o): return self._compare(o, lambda a, b: a <= b, "le")
    def __gt__(self, o): return self._compare(o, lambda a, b: a > b, "gt")
    def __ge__(self, o): return self._compare(o, lambda a, b: a >= b, "ge")

    def __eq__(self, o):
        return self._compare(o, lambda a, b: a == b, "eq")

    def __ne__(self, o):
        return self._compare(o, lambda a, b: a != b, "ne")

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
