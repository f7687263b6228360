"""Scalar code generation: each node of a fusion group becomes one typed Python expression
(numba-able, the same text for every target) over the values before it.

Per node, as eager gpujit computes: `op.compute_types` gives (compute dtype, out dtype)
from the operand kinds; operands are cast to the compute dtype (float16 then computes in
float32, PyTorch's "opmath", and rounds once per op), the op's scalar expression
(ops/scalar.py) is translated with explicit casts so that numba, the CUDA target and the
simulator all round the same way, and the result is cast to the out dtype.

Typing inside an expression follows NumPy 2 (what the eager bodies run): a Python number
("weak") takes the dtype of the array it meets, except that a float meeting an integer
array gives float64 and an int meeting a bool array gives int64. Everything known at
codegen time is folded: `ifnone(...)`, string comparisons (`rounding_mode`,
`approximate`), arithmetic on constants, `where` on a constant condition.

Functions and integer/float division helpers are emitted as calls of named primitives
(`_exp_f32`, `_ifloordiv`, ...) that each target's module header binds (kernels/prims.py).
"""
from __future__ import annotations

import ast
import math
import re

import numpy as np

from gpujit import dtypes as _dt
from gpujit.ops import registry as _reg
from gpujit.ops.half_libm import fused_libm as _fused_libm
from gpujit.ops.scalar import check_expression, ScalarForm, FUNCTIONS as _NP_FUNCTIONS

from .spec import KernelBuildError
from .prims import HALF_STAGED
from .prims_special import UNARY as _SPECIAL_UNARY, BINARY as _SPECIAL_BINARY

__all__ = ["E", "ScalarCodegen", "CTOR", "SUFFIX", "literal"]

_RUNTIME = object()         # E.const of a value only known when the kernel runs

CTOR = {_dt.uint8: "_u8", _dt.int8: "_i8", _dt.int16: "_i16", _dt.int32: "_i32",
        _dt.int64: "_i64", _dt.float16: "_f32", _dt.float32: "_f32", _dt.float64: "_f64"}
SUFFIX = {_dt.float16: "f32", _dt.float32: "f32", _dt.float64: "f64"}
_WEAK_DTYPE = {"bool": _dt.bool, "int": _dt.int64, "float": _dt.float64}
_WEAK_RANK = {"bool": 0, "int": 1, "float": 2}
_SIMPLE = re.compile(r"[\w.]+|_\w+\(-?[\w.]+\)|\(-math\.inf\)")   # a name or a literal

# functions of one float argument, by their scalar-language name
FLOAT_UNARY = ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos",
               "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
               "atanh", "erf", "erfc", "erfinv", "lgamma", "digamma") + _SPECIAL_UNARY
FLOAT_BINARY = ("atan2", "pow", "fmod", "copysign", "nextafter", "hypot") + _SPECIAL_BINARY
ROUNDING = {"floor": "floor", "ceil": "ceil", "trunc": "trunc", "round": "rint"}


class E:
    """A translated (sub)expression. ty: a gpujit dtype (a concrete value; float16 is held
    in a float32 variable), "bool"/"int"/"float" (a Python number, weak in promotion), or
    None (a str / None / dtype constant). const: the value when known at codegen time."""
    __slots__ = ("code", "ty", "const")

    def __init__(self, code, ty, const=_RUNTIME):
        self.code, self.ty, self.const = code, ty, const

    @property
    def known(self):
        return self.const is not _RUNTIME

    @classmethod
    def constant(cls, v):
        if isinstance(v, bool) or isinstance(v, np.bool_):
            return cls(None, "bool", bool(v))
        if isinstance(v, (int, np.integer)):
            return cls(None, "int", int(v))
        if isinstance(v, (float, np.floating)):
            return cls(None, "float", float(v))
        return cls(None, None, v)

    def __repr__(self):
        return f"E({self.code!r}, {self.ty!r}, {self.const if self.known else '<runtime>'})"


def _is_concrete(t):
    return isinstance(t, _dt.dtype)


def _float_literal(f):
    if f != f:
        return "math.nan"
    if f in (math.inf, -math.inf):
        return "math.inf" if f > 0 else "(-math.inf)"
    return repr(f)


def _wrap_int(v, T):
    bits = 8 * T.itemsize
    v &= (1 << bits) - 1
    if T.is_signed and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


def literal(v, T) -> str:
    """A Python value as a literal of dtype T (wrapped as a NumPy cast would)."""
    if T is _dt.bool:
        return "True" if v else "False"
    if T.category == _dt.FLOATING:
        f = float(v)
        if T is _dt.float16:
            with np.errstate(over="ignore"):
                f = float(np.float16(f))
        s = _float_literal(f)
        return s if T is _dt.float64 else f"_f32({s})"
    if isinstance(v, float):
        if v != v or v in (math.inf, -math.inf):
            raise KernelBuildError(f"cannot convert {v} to {T.name}")
        v = int(v)
    return f"{CTOR[T]}({_wrap_int(int(v), T)})"


def unify(a, b):
    """The type two operands compute in (NumPy 2 rules for weak Python numbers)."""
    if _is_concrete(a) and _is_concrete(b):
        return _dt.promote_types(a, b)
    if _is_concrete(a) or _is_concrete(b):
        T, w = (a, b) if _is_concrete(a) else (b, a)
        if w == "float" and T.category != _dt.FLOATING:
            return _dt.float64
        if w == "int" and T is _dt.bool:
            return _dt.int64
        return T
    if a is None or b is None:
        raise KernelBuildError("a non-numeric constant used as a number")
    return a if _WEAK_RANK[a] >= _WEAK_RANK[b] else b


def _is_float(T):
    return T.category == _dt.FLOATING if _is_concrete(T) else T == "float"


def _is_bool(T):
    return T is _dt.bool or T == "bool"


def _opmath(T):
    return _dt.float32 if T is _dt.float16 else T


def _narrow(code, T):
    """numba computes small ints in int64: cast back so the value wraps as in NumPy."""
    if _is_concrete(T) and T.category == _dt.INTEGRAL and T is not _dt.int64:
        return f"{CTOR[T]}({code})"
    return code


def _expression(op, args, ct, one_element=None):
    """The op's scalar expression for this use: its registry hook's form where it has one
    (OpDef.scalar_for, given an ops/scalar.ScalarForm), else `scalar`. one_element(name):
    whether that operand reads one element (True, False, or the name of a bool known at
    run time)."""
    base = op.inplace_of or op
    if base.scalar_for is None:
        return op.scalar
    form = ScalarForm(op.scalar, {n: e.ty for n, (e, _) in args.items()}, ct,
                      {n: e.const for n, (e, _) in args.items() if e.known}, one_element)
    expr = base.scalar_for(form)
    return op.scalar if expr is None else expr


class ScalarCodegen:
    """Translates one group's nodes into statements. `lines` collects them; `prims` the
    primitive names they call; `zero_division` whether an integer division was emitted
    (the CPU kernel counts zero divisors and the launcher raises, as eager gpujit)."""

    def __init__(self):
        self.lines = []
        self.prims = set()
        self.zero_division = False
        self._tmp = 0
        self._half = False        # the node being translated computes in float16
        self._half_out = False    # ... or gives float16 (computing in float32)
        self._half_libm = None    # the libm function of the node's op in float16 (half_libm)
        self._libm_all = False    # ... in float32 and float64 too (SCALAR_KERNEL_OPS)
        # per graph Value, whether it reads one element as PyTorch's TensorIterator sees
        # an operand (is_scalar: a stride of 0 wherever its size is not 1): True, False,
        # or the code of that test on a DYNAMIC kernel's stride arguments (evaluated
        # once, before the loop, into `hoisted` when an expression needs it)
        self.one_element = {}
        self.hoisted = []
        self.types = {}           # each variable of `lines` -> its E.ty

    # ------------------------------------------------------------------ plumbing
    def use(self, name):
        self.prims.add(name)
        return name

    def tmp(self, e: E) -> E:
        """e as a variable (for operands used more than once)."""
        if e.known or _SIMPLE.fullmatch(e.code):
            return e
        self._tmp += 1
        name = f"t{self._tmp}"
        return self.assign(name, e)

    def assign(self, name, e: E) -> E:
        self.lines.append(f"{name} = {e.code}")
        self.types[name] = e.ty
        return E(name, e.ty)

    def cast(self, code, S, T) -> str:
        if S is T:
            return code
        if T is _dt.bool:
            return f"({code} != 0)"
        if T is _dt.float16:
            src = code if S in (_dt.float16, _dt.float32) else f"_f32({code})"
            return f"{self.use('_rh')}({src})"
        if S is _dt.float16 and T is _dt.float32:
            return code
        if S.category == _dt.FLOATING and T.category == _dt.INTEGRAL:
            return f"{CTOR[T]}({self.use('_f2i_' + T.name)}({code}))"
        return f"{CTOR[T]}({code})"

    def as_type(self, e: E, T) -> str:
        """The code of e as a value of concrete dtype T."""
        if e.known:
            if e.ty is None:
                raise KernelBuildError(f"the constant {e.const!r} is not a number")
            return literal(e.const, T)
        S = e.ty if _is_concrete(e.ty) else _WEAK_DTYPE[e.ty]
        return self.cast(e.code, S, T)

    def as_weak(self, e: E, kind) -> str:
        """The code of a weak value as Python kind `kind` (numba float64/int64/bool)."""
        if e.known:
            v = {"bool": bool, "int": int, "float": float}[kind](e.const)
            return _float_literal(v) if kind == "float" else repr(v)
        return e.code if e.ty == kind else self.cast(e.code, _WEAK_DTYPE[e.ty], _WEAK_DTYPE[kind])

    def operands(self, a: E, b: E, T=None):
        """(type, code a, code b) for a binary operation computed in T (by default the
        type the two operands promote to)."""
        T = unify(a.ty, b.ty) if T is None else T
        if _is_concrete(T):
            return T, self.as_type(a, T), self.as_type(b, T)
        return T, self.as_weak(a, T), self.as_weak(b, T)

    # ------------------------------------------------------------------ translation
    def translate(self, expr: str, env: dict, half: bool) -> E:
        """Translate a scalar expression; env maps placeholder names to E values."""
        text = expr.format(**{k: (v.const.name if isinstance(v.const, _dt.dtype) else k)
                              for k, v in env.items()})
        tree = check_expression(text, list(env))
        self.env = env
        self._half = half
        return self.visit(tree.body)

    def visit(self, node) -> E:
        if isinstance(node, ast.Constant):
            return E.constant(node.value)
        if isinstance(node, ast.Name):
            return self.env[node.id]
        if isinstance(node, ast.UnaryOp):
            return self.unary(node.op, self.visit(node.operand))
        if isinstance(node, ast.BinOp):
            return self.binary(type(node.op).__name__, self.visit(node.left),
                               self.visit(node.right))
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise KernelBuildError("chained comparisons are not in the scalar language")
            return self.compare(type(node.ops[0]).__name__, self.visit(node.left),
                                self.visit(node.comparators[0]))
        if isinstance(node, ast.Call):
            return self.call(node.func.id, node.args)
        raise KernelBuildError(f"cannot translate {ast.dump(node)}")

    # ------------------------------------------------------------------ operators
    def unary(self, op, a: E) -> E:
        name = type(op).__name__
        if a.known:
            fn = {"USub": lambda v: -v, "UAdd": lambda v: +v, "Invert": lambda v: ~v}[name]
            return E.constant(fn(a.const))
        if name == "UAdd":
            return a
        T = a.ty
        if name == "USub":
            if _is_bool(T):
                raise KernelBuildError("negation of a bool is not supported (as in PyTorch)")
            if T is _dt.int64:
                return E(f"{self.use('_wneg')}({a.code})", T)
            return E(_narrow(f"(-{a.code})", T), _opmath(T) if _is_concrete(T) else T)
        if _is_bool(T):
            return E(f"(not {a.code})", T)
        if _is_float(T):
            raise KernelBuildError("bitwise not of a float")
        return E(_narrow(f"(~{a.code})", T), T)

    def scalar_power(self, A, b: E, B, T) -> E:
        """A ** b for a Python-number exponent b (B: its code as T): PyTorch's special
        cases (0.5 is sqrt, -1 a reciprocal...), as eager computes them."""
        s, F = SUFFIX[T], "_f32" if SUFFIX[T] == "f32" else "_f64"
        if self._half_out and T in (_dt.float16, _dt.float32):
            # float16 (as eager and PyTorch's CPU kernel): plain pow, no special cases, of
            # the exponent rounded to float16 (x ** 1.7 is x ** 1.7001953125)
            if b.known:
                B = literal(b.const, _dt.float16)
            return E(f"_f32({self.use('_hpow_f32')}({A}, {B}))", _opmath(T))
        if not b.known:
            return E(f"{self.use('_spow_' + s)}({A}, {B})", _opmath(T))
        X = self.tmp(E(A, T)).code
        sqrt = self.use(f"_sqrt_{s}")
        form = {0.5: f"{F}({sqrt}({X}))", -0.5: f"({F}(1.0) / {F}({sqrt}({X})))",
                2.0: f"({X} * {X})", 3.0: f"({X} * {X} * {X})", -1.0: f"({F}(1.0) / {X})",
                -2.0: f"({F}(1.0) / ({X} * {X}))"}.get(float(b.const))
        if form is None:
            form = f"{F}({self.use('_pow_' + s)}({X}, {B}))"
        return E(form, _opmath(T))

    _PY = {"Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "FloorDiv": "//", "Mod": "%",
           "Pow": "**", "BitAnd": "&", "BitOr": "|", "BitXor": "^", "LShift": "<<",
           "RShift": ">>"}

    def binary(self, name, a: E, b: E) -> E:
        sym = self._PY[name]
        if a.known and b.known:
            try:
                return E.constant(eval(f"a {sym} b", {}, {"a": a.const, "b": b.const}))
            except ArithmeticError:
                pass          # 1/0 and the like: leave it to the run time (inf, nan)
        if name == "Mult" and (a.known and a.const == 1 or b.known and b.const == 1):
            one, x = (a, b) if a.known and a.const == 1 else (b, a)
            T = unify(one.ty, x.ty)
            if _is_concrete(T) and T is not _dt.bool and x.ty is T:
                return x                # alpha=1 and the like: x * 1 is x, also inf/nan/-0
        T, A, B = self.operands(a, b)
        concrete = _is_concrete(T)
        is_bool, is_float = _is_bool(T), _is_float(T)
        if name == "Div":
            if not is_float:
                T, A, B = self.operands(a, b, _dt.float64 if concrete else "float")
            T = _opmath(T) if concrete else T
            return E(f"({A} / {B})", T)
        if name == "Pow" and is_bool and concrete:
            # (a bool tensor to a Python bool, the one bool pow PyTorch computes)
            return E(f"({A} | (not {B}))", T)
        if name in ("FloorDiv", "Mod", "Pow"):
            if is_bool:
                raise KernelBuildError(f"{sym} on bools is not supported")
            if not concrete:
                return E(f"({A} {sym} {B})", T)
            if is_float and name == "Pow" and b.ty in ("float", "int"):
                return self.scalar_power(A, b, B, T)
            if is_float and name == "Pow" and self._half and _opmath(T) is _dt.float32:
                # (NumPy's float16 power: libm's powf, not the float32 loop's SVML)
                return E(f"_f32({self.use('_pow_h')}({A}, {B}))", _dt.float32)
            if is_float:
                prim = {"FloorDiv": "_floordiv", "Mod": "_remainder", "Pow": "_pow"}[name]
                return E(f"{self.use(f'{prim}_{SUFFIX[T]}')}({A}, {B})", _opmath(T))
            if name != "Pow":
                self.zero_division = True
                B_ = self.tmp(E(B, T)).code
                self.lines.append(f"zd += _i64({B_} == 0)")
                prim = "_ifloordiv" if name == "FloorDiv" else "_imod"
                return E(_narrow(f"{self.use(prim)}({A}, {B_})", T), T)
            return E(_narrow(f"{self.use('_ipow')}({A}, {B})", T), T)
        if name in ("Add", "Sub", "Mult"):
            if is_bool and concrete and name == "Sub":
                # only inside an expression (isclose): the `sub` op itself rejects bools;
                # NumPy's isclose computes bools as numbers
                T, A, B = self.operands(a, b, _dt.int64)
                return E(f"({A} - {B})", T)
            if is_bool and concrete:
                return E(f"({A} {'|' if name == 'Add' else '&'} {B})", T)
            if is_bool:
                T = "int"
            if T is _dt.int64:
                prim = {"Add": "_wadd", "Sub": "_wsub", "Mult": "_wmul"}[name]
                return E(f"{self.use(prim)}({A}, {B})", T)
            return E(_narrow(f"({A} {sym} {B})", T), _opmath(T) if concrete else T)
        if name in ("BitAnd", "BitOr", "BitXor"):
            if is_float:
                raise KernelBuildError(f"{sym} on floats is not supported")
            return E(_narrow(f"({A} {sym} {B})", T), T)
        # shifts: NumPy's (and PyTorch's) results for shift counts outside [0, bits)
        if is_float or is_bool:
            raise KernelBuildError(f"{sym} needs integers")
        if not concrete:
            return E(f"({A} {sym} {B})", T)
        prim = self.use("_shl" if name == "LShift" else "_shr")
        return E(_narrow(f"{prim}({A}, {B}, {8 * T.itemsize})", T), T)

    _CMP = {"Eq": "==", "NotEq": "!=", "Lt": "<", "LtE": "<=", "Gt": ">", "GtE": ">="}

    def compare(self, name, a: E, b: E) -> E:
        sym = self._CMP[name]
        if a.known and b.known:
            return E.constant(bool(eval(f"a {sym} b", {}, {"a": a.const, "b": b.const})))
        T, A, B = self.operands(a, b)
        return E(f"({A} {sym} {B})", _dt.bool)

    # ------------------------------------------------------------------ functions
    def call(self, fname, args) -> E:
        if fname == "where":
            c = self.visit(args[0])
            if c.known:
                return self.visit(args[1] if c.const else args[2])
            if c.ty == _dt.uint8:
                # (eager where()'s deprecated uint8 condition: nonzero is true)
                c = E(f"({c.code} != 0)", _dt.bool)
            elif c.ty not in (_dt.bool, "bool"):
                raise KernelBuildError(f"where expected a boolean condition, got {c.ty}")
            a, b = self.visit(args[1]), self.visit(args[2])
            T, A, B = self.operands(a, b)
            return E(f"{self.use('_sel')}({c.code}, {A}, {B})", T)
        if fname == "ifnone":
            x = self.visit(args[0])
            return self.visit(args[1]) if x.known and x.const is None else x
        if fname.startswith("cast_"):
            T = _dt.to_dtype(fname[5:])
            x = self.visit(args[0])
            return E(self.as_type(x, T), T) if not x.known else E(literal(x.const, T), T)
        vals = [self.visit(a) for a in args]
        if all(v.known for v in vals) and fname in _NP_FUNCTIONS:
            with np.errstate(all="ignore"):
                r = _NP_FUNCTIONS[fname](*[np.float64(v.const) if v.ty == "float" else v.const
                                           for v in vals])
            return E.constant(r.item() if hasattr(r, "item") else r)
        if fname == "fma":
            # float64 a * b + c rounded once (prims._fma_f64)
            A, B, C = (self.as_type(v, _dt.float64) for v in vals)
            return E(f"{self.use('_fma_f64')}({A}, {B}, {C})", _dt.float64)
        if fname == "floordiv_half":
            # (both operands float16 values, held in float32)
            A, B = (self.as_type(v, _dt.float32) for v in vals)
            return E(f"{self.use('_floordiv_h')}({A}, {B})", _dt.float32)
        if fname in ("abs", "fabs"):
            return self.f_abs(vals[0])
        if fname in ("minimum", "maximum", "fmin", "fmax"):
            return self.f_minmax(fname, *vals)
        if fname in ("isnan", "isinf", "isfinite"):
            return self.f_test(fname, vals[0])
        if fname in ROUNDING:
            return self.f_round(ROUNDING[fname], vals[0])
        if fname in FLOAT_UNARY:
            T = self.float_type(vals[0].ty)
            if self._half_libm == fname and T is _dt.float32 and self._half and (
                    fname in HALF_STAGED or fname == "exp") and not self._libm_all:
                # (the float16 op exp, tanh, sin ...: the same halves as libm's float
                # function from NumPy's float32 loop, staged; prims.HALF_STAGED. Not
                # sinc & co., whose float value of sin is not rounded to half)
                prim = "_exp_f32" if fname == "exp" else f"_{fname}_hs"
                return E(f"_f32({self.use(prim)}({self.as_type(vals[0], T)}))", T)
            if self._half_libm == fname and T is _dt.float32 and (
                    self._half or self._libm_all):
                # (the float16 op exp, log ...: libm's float function, ops/half_libm.py)
                return E(f"_f32({self.use('_' + fname + '_h')}({self.as_type(vals[0], T)}))", T)
            if self._half_libm == fname and T is _dt.float64 and self._libm_all:
                return E(f"_f64({self.use('_' + fname + '_d')}({self.as_type(vals[0], T)}))", T)
            return self.prim_call(fname, T, self.as_type(vals[0], T))
        if fname in FLOAT_BINARY:
            return self.f_binary(fname, *vals)
        if fname == "ldexp":
            return self.f_ldexp(*vals)
        raise KernelBuildError(f"no code generation for the scalar function {fname!r}")

    @staticmethod
    def float_type(t):
        if _is_concrete(t):
            return _opmath(t) if t.category == _dt.FLOATING else _dt.float64
        return _dt.float64

    def prim_call(self, fname, T, *codes) -> E:
        """A float primitive, its result cast back to T (the simulator's NumPy and
        Python's math may widen; on CPU and CUDA the cast is a no-op)."""
        prim = self.use(f"_{fname}_{SUFFIX[T]}")
        return E(f"{CTOR[T]}({prim}({', '.join(codes)}))", T)

    def f_ldexp(self, x: E, n: E) -> E:
        """C's ldexp: x (a float) times 2 ** n exactly, rounded once; n an integer taken as
        a C int (an int64 wraps to int32, as PyTorch's ldexp kernel reads it)."""
        if not _is_float(x.ty) or _is_float(n.ty) or _is_bool(n.ty):
            raise KernelBuildError("ldexp takes a float and an integer")
        T = self.float_type(x.ty)
        return self.prim_call("ldexp", T, self.as_type(x, T), self.as_type(n, _dt.int32))

    def f_abs(self, x: E) -> E:
        T = x.ty
        if _is_bool(T):
            return x
        return E(_narrow(f"abs({x.code})", T), T)

    def f_minmax(self, fname, a: E, b: E) -> E:
        T = unify(a.ty, b.ty)
        a2, b2 = (self.tmp(E(c, T)) for c in self.operands(a, b, T)[1:])
        A, B = a2.code, b2.code
        is_float = _is_float(T)
        sel = self.use("_sel")          # (no branch: prims._sel)
        if fname in ("maximum", "minimum"):
            ge = ">=" if fname == "maximum" else "<="
            nan = f" | ({A} != {A})" if is_float else ""
            return E(f"{sel}(({A} {ge} {B}){nan}, {A}, {B})", T)
        ge = ">=" if fname == "fmax" else "<="
        if not is_float:
            return E(f"{sel}({A} {ge} {B}, {A}, {B})", T)
        return E(f"{sel}({A} != {A}, {B}, {sel}(({A} {ge} {B}) | ({B} != {B}), {A}, {B}))", T)

    def f_test(self, fname, x: E) -> E:
        T = x.ty
        is_float = _is_float(T)
        if not is_float:
            return E.constant(fname == "isfinite")
        x = self.tmp(x)
        X = x.code
        code = {"isnan": f"({X} != {X})", "isinf": f"(abs({X}) == math.inf)",
                "isfinite": f"(abs({X}) < math.inf)"}[fname]
        return E(code, _dt.bool)

    def f_round(self, prim, x: E) -> E:
        T = x.ty
        is_float = _is_float(T)
        if not is_float:
            return x                    # integers are already integral
        T = _opmath(T) if _is_concrete(T) else _dt.float64
        return self.prim_call(prim, T, self.as_type(x, T))

    def f_binary(self, fname, a: E, b: E) -> E:
        T = unify(a.ty, b.ty)
        if _is_concrete(T) and T.category != _dt.FLOATING and fname == "fmod":
            if T is _dt.bool:
                raise KernelBuildError("fmod of bools is not supported")
            self.zero_division = True
            A, B = self.as_type(a, T), self.tmp(E(self.as_type(b, T), T)).code
            self.lines.append(f"zd += _i64({B} == 0)")
            return E(_narrow(f"{self.use('_ifmod')}({A}, {B})", T), T)
        if _is_concrete(T) and T.category != _dt.FLOATING and fname == "pow":
            return self.binary("Pow", a, b)
        T = self.float_type(T) if _is_concrete(T) else _dt.float64
        if fname in ("pow", "atan2") and self._half and T is _dt.float32:
            # (NumPy's float16 loops: libm's float function, not the float32 loop's SVML)
            return E(f"_f32({self.use('_' + fname + '_h')}({self.as_type(a, T)}, "
                     f"{self.as_type(b, T)}))", T)
        if fname == "nextafter" and self._half:
            # the next float16, not the next float32 (nan_to_num's largest finite value)
            return E(f"{self.use('_nextafter_f16')}({self.as_type(a, T)}, "
                     f"{self.as_type(b, T)})", T)
        return self.prim_call(fname, T, self.as_type(a, T), self.as_type(b, T))

    # ------------------------------------------------------------------ one node
    def node(self, node, values: dict, ranks: dict, name: str):
        """Translate one aten node; `values` maps graph Values to E, `ranks` to their rank
        (tensors) or None (numbers). Returns the E of its output (assigned to `name`)."""
        op = node.op
        if op is None or not op.scalar:
            raise KernelBuildError(f"{node.kind} has no scalar expression and cannot be fused")
        params = op.schema.arguments
        if len(node.inputs) > len(params):
            raise KernelBuildError(f"{node.kind}: too many inputs for {op.schema}")
        args = {}
        for p, v in zip(params, node.inputs):
            e = values[v]
            if p.type.base == "ScalarType" and not p.type.is_list and e.known and \
                    type(e.const) is int:
                # a dtype as TorchScript's int (a frozen `self.dt`, a `d: int` folded to
                # a constant): the dtype of that ScalarType code
                if e.const not in _dt.SCALAR_TYPE_CODES:
                    raise KernelBuildError(f"{node.kind}: {e.const} is no ScalarType code")
                e = E.constant(_dt.SCALAR_TYPE_CODES[e.const])
            args[p.name] = (e, ranks.get(v))
        for p in params[len(node.inputs):]:
            if not p.has_default:
                raise KernelBuildError(f"{node.kind}: missing argument {p.name}")
            args[p.name] = (E.constant(p.default), None)
        operands = [n for n in op.operands          # (an optional operand may be None)
                    if not (args[n][0].known and args[n][0].const is None)]
        if op.operands:
            kinds = tuple(self._kind(*args[n]) for n in operands)
            extras = [self._sample(args[p.name][0]) for p in params
                      if p.name not in op.operands]
            try:
                ct, ot = (op.compute_types(kinds, *extras) if callable(op.promote)
                          else op.compute_types(kinds))
            except (RuntimeError, TypeError, ValueError) as e:
                raise KernelBuildError(f"{node.kind}: {e}") from None
        else:                                       # aten::to: no promotion
            ct, ot = None, getattr(node.outputs[0].type, "dtype", None)
            if ot is None and "dtype" in args:
                ot = args["dtype"][0].const
        if op.inplace_of is not None:
            ot = args[params[0].name][0].ty
        env = {}
        base = op.inplace_of or op
        for pname, (e, rank) in args.items():
            # a Python number some ops take otherwise (OpDef.number_args, the registry)
            rule = base.number_args.get(pname) if rank is None and not _is_concrete(e.ty) \
                else None
            if rule == "weak" and ct is not None and ct.category == _dt.FLOATING:
                env[pname] = e        # pow's exponent: sqrt for 0.5 & co. (scalar_power)
            elif rule == "int_in_int" and ct is not None and ct.category == _dt.INTEGRAL \
                    and e.ty == "float":
                env[pname] = (E.constant(int(e.const)) if e.known
                              else E(f"{self.use('_f2i_int64')}({e.code})", "int"))
            elif rule == "opmath" and ct is _dt.float16:
                env[pname] = E(self.as_type(e, _dt.float32), _dt.float32)
            elif pname in operands and ct is not None and pname not in base.own_dtype:
                env[pname] = E(self.as_type(e, ct), _opmath(ct))
            else:
                env[pname] = e
        self._half_out = ot is _dt.float16

        def one_element(pname):
            v = node.inputs[[p.name for p in params].index(pname)]
            one = self.one_element.get(v, False)
            if isinstance(one, str):        # a test of run-time strides: a bool, hoisted
                flag = f"one_{pname}_{len(self.hoisted)}"
                self.hoisted.append(f"{flag} = {one}")
                env[flag] = E(flag, _dt.bool)
                return flag
            return one
        self._half_libm, self._libm_all = _fused_libm(base)
        try:
            r = self.translate(_expression(op, args, ct, one_element), env,
                               half=ct is _dt.float16)
        finally:
            self._half_libm = None
        return self.assign(name, E(self.as_type(r, ot), ot))

    @staticmethod
    def _kind(e: E, rank):
        if rank is not None:
            return (e.ty, _dt.ZERO_DIM if rank == 0 else _dt.DIM)
        if e.known:
            return _reg.scalar_kind(e.const)
        return _reg.scalar_kind({"bool": False, "int": 0, "float": 0.0}[e.ty])

    @staticmethod
    def _sample(e: E):
        """The value compute_types sees for a non-operand argument (a runtime number is
        represented by one of its kind: only strings like rounding_mode change types)."""
        if e.known:
            return e.const
        if _is_concrete(e.ty):
            return None
        return {"bool": False, "int": 1, "float": 1.0}[e.ty]
