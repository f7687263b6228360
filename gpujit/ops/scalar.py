"""The scalar-expression language of pointwise ops (what the fuser emits per element).

A pointwise op's `scalar` is a Python expression over its arguments written as `{name}`
placeholders, e.g. `"1 / (1 + exp(-{self}))"`. Operands arrive already cast to the op's
computation dtype (except an op's `own_dtype` operands, which keep theirs); non-tensor
arguments (alpha, min, rounding_mode ...) are substituted as constants. Where one
expression does not compute what eager computes for every dtype or argument (float16's
rounding steps, a constant's dtype, an operand's own dtype), the op's `scalar_for(form)`
gives the expression for that case from a `ScalarForm` (the operands' dtypes, the
computation dtype, the constant arguments, which operands read one element); the fuser
asks only the op, so every per-op, per-dtype rule lives next to the op. Allowed: numbers, `+ - * / // % **`, comparisons, `& | ^ ~` (bitwise on ints,
logical on bools), `and/or/not` are NOT allowed (use & | ~ on bools), and the functions
in `FUNCTIONS` below. `where(c, a, b)` is the only conditional; `cast_<dtype>(x)` converts.
The kernels issue maps each name to numba.cuda / CPU code; `evaluate` maps them to NumPy
so the tests check every op's scalar expression against its eager implementation now.
"""
from __future__ import annotations

import ast
from math import copysign as _copysign

import numpy as np

__all__ = ["FUNCTIONS", "evaluate", "check_expression", "ScalarForm"]


def _where(c, a, b):
    return np.where(c, a, b)


def _special_fn(name):
    def fn(x):
        from . import special
        return getattr(special, name)(np, x)
    fn.__name__ = name
    return fn


def _special_more_fn(name):
    """torch.special's functions of special_more.py (ndtri, the Bessel functions, the
    polynomials ...): their eager implementations over NumPy."""
    def fn(*args):
        from . import special_more
        return special_more.SCALAR_FUNCTIONS[name](np, *args)
    fn.__name__ = name
    return fn


# (special_more.py's scalar-language names; kernels/prims_special.py defines them per target)
_SPECIAL_MORE = ("ndtri", "erfcx", "log_ndtr", "bessel_j0", "bessel_j1", "bessel_y0",
                 "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
                 "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
                 "spherical_bessel_j0", "airy_ai",
                 *(f"{s}chebyshev_polynomial_{k}" for s in ("", "shifted_") for k in "tuvw"),
                 "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
                 "legendre_polynomial_p")


# float itemsize -> (the unsigned int of its bits, its sign bit)
_BITS = {2: (np.uint16, np.uint16(1 << 15)), 4: (np.uint32, np.uint32(1 << 31)),
         8: (np.uint64, np.uint64(1 << 63))}


def tie_first(xp, name, a, b):
    """xp.<name>(a, b) for name in maximum, minimum, fmax, fmin, returning a on ties, as
    PyTorch and the fused kernels do (maximum(-0., 0.) is -0.): NumPy returns either zero,
    by dtype and by SIMD lane."""
    r = getattr(xp, name)(a, b)
    if r.dtype.kind != "f":
        return r
    if xp is np and not isinstance(b, np.ndarray) and b != 0:
        return r            # (a number other than 0, NaN included: no zero to tie with)
    if xp is np and isinstance(a, np.ndarray) and isinstance(r, np.ndarray) and \
            a.dtype.itemsize in _BITS:
        # only a tie of zeros of opposite signs can take b's sign. Zeros are common
        # (clamp(relu(x), 0, 6)'s input), -0. next to +0. is not: a compare of a's bits
        # finds the zeros of the sign b has not (the sign test of every tie of zeros
        # made clamp(x, 0, 6) of such x 1.35x slower on 2^20 floats)
        ut, sign = _BITS[a.dtype.itemsize]
        if isinstance(b, np.ndarray):
            zero = a == 0
            if not zero.any():
                return r
            if b.dtype != a.dtype:
                b = b.astype(a.dtype)
            wrong = (a.view(ut) ^ b.view(ut)) == sign   # a is -b bit for bit, and zero
            wrong &= zero
        else:               # b is +0. or -0.: a's zeros of the other sign
            wrong = a.view(ut) == (0 if _copysign(1.0, b) < 0 else sign)
        if wrong.any():
            np.copyto(r, a, where=wrong)
        return r
    # a tie of zeros that took b's sign (a may be a NumPy/Python number next to a CuPy
    # array: compared through xp's ufuncs, its sign read on the host)
    sa = xp.signbit(a) if isinstance(a, xp.ndarray) else bool(np.signbit(a))
    wrong = xp.logical_and(xp.equal(a, b), xp.not_equal(xp.signbit(r), sa))
    if xp is np and not wrong.any():
        return r
    return xp.where(wrong, a, r)


def _tie_first_np(name):
    def fn(a, b):
        return tie_first(np, name, a, b)
    fn.__name__ = name
    return fn


def _floordiv_half(a, b):
    from .pointwise import _floordiv_half
    return _floordiv_half(np, a, b)


def _fma(a, b, c):
    from . import fma
    return fma.fma64(a, b, c, xp=np)


def _ifnone(x, default):
    return default if x is None else x


FUNCTIONS = {
    # float math (argument and result in the computation dtype)
    "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "atan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh, "erf": _special_fn("erf"),
    "erfc": _special_fn("erfc"), "erfinv": _special_fn("erfinv"), "nextafter": np.nextafter,
    "lgamma": _special_fn("lgamma"), "digamma": _special_fn("digamma"), "hypot": np.hypot,
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": np.rint,
    "fabs": np.abs, "abs": np.abs, "pow": np.power, "fmod": np.fmod, "copysign": np.copysign,
    "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
    # NaN-propagating, as torch; the first operand on ties (signed zeros)
    **{n: _tie_first_np(n) for n in ("minimum", "maximum", "fmin", "fmax")},
    **{n: _special_more_fn(n) for n in _SPECIAL_MORE},
    # C's ldexp(x, n): x * 2 ** n exactly, rounded once; the exponent a C int (int32)
    "ldexp": lambda x, n: np.ldexp(x, np.asarray(n).astype(np.int32)),
    "where": _where,
    # float16 floor division as PyTorch's CPU Vectorized<Half> loop, each step rounded to
    # half (ops/pointwise._floordiv_half; the kernels' prims._floordiv_h)
    "floordiv_half": _floordiv_half,
    # fma(a, b, c): float64 a * b + c rounded once (lerp's fmadd)
    "fma": _fma,
    # ifnone(c, d): an optional constant argument (clamp's min, logit's eps, ...) with its
    # default; the fuser resolves it when it substitutes the constants
    "ifnone": _ifnone,
    # casts
    **{f"cast_{n}": (lambda t: (lambda x: np.asarray(x).astype(t)))(getattr(np, n))
       for n in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                 "float64")},
}

_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.Name,
                  ast.Load, ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv,
                  ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Invert, ast.BitAnd, ast.BitOr,
                  ast.BitXor, ast.LShift, ast.RShift, ast.Eq, ast.NotEq, ast.Lt, ast.LtE,
                  ast.Gt, ast.GtE)


def check_expression(expr: str, arg_names) -> ast.Expression:
    """Parse a scalar expression (placeholders filled with the bare names) and reject
    anything outside the language."""
    text = expr.format(**{n: n for n in arg_names})
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"scalar expression {expr!r}: {type(node).__name__} is not "
                             f"allowed in the scalar language")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ValueError(f"scalar expression {expr!r}: unknown function "
                                 f"{ast.unparse(node.func)}")
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS and node.id not in arg_names:
            raise ValueError(f"scalar expression {expr!r}: unknown name {node.id!r}")
    return tree


def evaluate(expr: str, values: dict):
    """Evaluate a scalar expression elementwise with NumPy (test reference for the fuser)."""
    tree = check_expression(expr, list(values))
    return eval(compile(tree, "<scalar>", "eval"), {"__builtins__": {}, **FUNCTIONS},
                dict(values))


class ScalarForm:
    """What an op's `scalar_for(form)` hook reads to choose its expression (it returns an
    expression, or None for the op's own `scalar`):

    - `scalar`: the op's own expression (OpDef.scalar);
    - `dtypes`: argument name -> its dtype, or the weak kind "int"/"float"/"bool" of a
      Python number, None for a str / None / dtype constant (before any cast: an
      own_dtype operand arrives so, the others cast to `ct`);
    - `ct`: the computation dtype (None for an op without type promotion);
    - `constants`: argument name -> value, for the arguments known when the expression is
      generated (rounding_mode, a None weight, a constant number);
    - `one_element(name)`: whether that operand reads one element as PyTorch's
      TensorIterator sees it (is_scalar: 0-dim, one element, or expanded): True, False, or
      the name of a bool known only at run time, which the expression may use (a
      DYNAMIC kernel's stride test); ask only when the answer matters (a run-time
      answer costs a test before the loop).
    """
    __slots__ = ("scalar", "dtypes", "ct", "constants", "_one_element")

    def __init__(self, scalar, dtypes, ct, constants=None, one_element=None):
        self.scalar, self.dtypes, self.ct = scalar, dtypes, ct
        self.constants = {} if constants is None else constants
        self._one_element = one_element

    def one_element(self, name):
        return False if self._one_element is None else self._one_element(name)

    def is_none(self, name):
        """Whether argument `name` is a None constant (an optional operand left out)."""
        return name in self.constants and self.constants[name] is None

    def by_one_element(self, name, one, several):
        """Expression `one` where operand `name` reads one element, `several` where it does
        not (a where() on the run-time test when only the kernel knows)."""
        flag = self.one_element(name)
        if flag is True:
            return one
        if flag is False:
            return several
        return f"where({flag}, {one}, {several})"
