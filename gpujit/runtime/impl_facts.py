"""Facts about an op's eager impl that the code generator uses to emit less.

`direct_call`: many impls are one call into the array namespace (`return xp.multiply(self,
other)`), sometimes behind a test of an argument against a constant (`if alpha is _ONE:
return xp.add(self, other)`). Read from the impl's source once, such a body lets the
generated code call `numpy.multiply` itself instead of the impl (one Python frame less per
node). Anything else in the body, or a test the node's constant arguments do not decide,
and the impl is called as it is.

`probe`: the dtype a pointwise impl returns for operands of given dtypes, found by running
it on 1-element NumPy arrays of those dtypes (pointwise ops compute the same per element,
so the result dtype does not depend on the size). It also tells whether a Python-scalar
constant operand may be passed as a 0-dim array of the computation dtype instead (NumPy
converts such arrays faster than Python scalars): only when the impl gives the same result
both ways. Random ops are never probed (a probe would advance the generator).
"""
from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np

from .assume import NO_CONSTANT

__all__ = ["direct_call", "probe", "ProbeResult"]

_SHAPES: dict = {}      # impl -> list of (test or None, (function name, arg names)) or None


def _call_shape(node, xp, params, names):
    """(function name, [param positions]) of `xp.NAME(p, q)` / `getattr(xp, NAME)(p, q)`."""
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    f = node.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == xp:
        fname = f.attr
    elif (isinstance(f, ast.Call) and isinstance(f.func, ast.Name) and f.func.id == "getattr"
          and len(f.args) == 2 and isinstance(f.args[0], ast.Name) and f.args[0].id == xp
          and isinstance(f.args[1], ast.Name) and isinstance(names.get(f.args[1].id), str)):
        fname = names[f.args[1].id]
    else:
        return None
    if not all(isinstance(a, ast.Name) and a.id in params for a in node.args):
        return None
    return fname, [params[a.id] for a in node.args]


_CONSTANT_TYPES = (int, float, str, bool, type(None))


def _test_shape(node, params, names):
    """(param position, op, constant) of `p == c`, `p != c`, `p is None`, `p is not None`,
    c a literal or a module constant (`alpha is _ONE`: pointwise.add)."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1
            and isinstance(node.left, ast.Name) and node.left.id in params):
        return None
    c = node.comparators[0]
    if isinstance(c, ast.Constant):
        value = c.value
    elif isinstance(c, ast.Name) and isinstance(names.get(c.id), _CONSTANT_TYPES):
        value = names[c.id]
    else:
        return None
    kind = type(node.ops[0])
    if kind not in (ast.Eq, ast.NotEq, ast.Is, ast.IsNot):
        return None
    return params[node.left.id], kind, value


def _complex_guard(stmt, names) -> bool:
    """Is stmt an impl's `if <x.dtype.kind == "c"> or ...: ...` (ops/pointwise.add's test
    of complex operands): a path for complex operands only, which the shape of real calls
    skips (codegen_calls makes no direct call for complex operands)?"""
    if not isinstance(stmt, ast.If):
        return False
    tests = stmt.test.values if isinstance(stmt.test, ast.BoolOp) and \
        isinstance(stmt.test.op, ast.Or) else [stmt.test]
    return any(isinstance(t, ast.Compare) and isinstance(t.left, ast.Attribute) and
               t.left.attr == "kind" and len(t.comparators) == 1 and
               isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value == "c"
               for t in tests)


def _shape(impl):
    if impl in _SHAPES:
        return _SHAPES[impl]
    shape = None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(impl)))
        fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
        cv = inspect.getclosurevars(impl)
        names = {**cv.globals, **cv.nonlocals}
    except (OSError, TypeError, StopIteration, SyntaxError):
        fn = None
    code = getattr(impl, "__code__", None)
    if fn is not None and (code is None or fn.name != code.co_name or
                           [a.arg for a in fn.args.args] !=
                           list(code.co_varnames[:code.co_argcount])):
        # the text on disk is not the function that runs (its file changed after import:
        # inspect reads the file again): trust nothing of it
        fn = None
    if fn is not None and fn.args.args:
        # impls are called positionally in schema order: a parameter is its position
        xp = fn.args.args[0].arg
        params = {a.arg: i for i, a in enumerate(fn.args.args[1:])}
        body = fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]                                   # the docstring
        entries = []
        for stmt in body:
            if _complex_guard(stmt, names):
                continue        # (complex operands: the codegen calls the impl for them)
            if isinstance(stmt, ast.Return):
                call = _call_shape(stmt.value, xp, params, names)
                if call is not None:
                    entries.append((None, call))
                break
            if (isinstance(stmt, ast.If) and not stmt.orelse and len(stmt.body) == 1
                    and isinstance(stmt.body[0], ast.Return)):
                test = _test_shape(stmt.test, params, names)
                call = _call_shape(stmt.body[0].value, xp, params, names)
                if test is None or call is None:
                    break
                entries.append((test, call))
                continue
            break
        shape = entries or None
    _SHAPES[impl] = shape
    return shape


def _holds(test, value):
    _, kind, c = test
    if kind is ast.Eq:
        return value == c
    if kind is ast.NotEq:
        return value != c
    if kind is ast.Is:
        return value is c
    return value is not c


def direct_call(op, constants):
    """(function name, [schema argument names]) when the op's impl, given the node's
    constant arguments ({name: value}, NO_CONSTANT where not constant), is that one call."""
    shape = _shape(op.impl)
    if shape is None:
        return None
    names = [a.name for a in op.schema.arguments]
    if any(i >= len(names) for _, (_, pos) in shape for i in pos):
        return None
    for test, (fname, pos) in shape:
        if test is not None:
            if test[0] >= len(names):
                return None
            value = constants.get(names[test[0]], NO_CONSTANT)
            if value is NO_CONSTANT:
                return None
            try:
                if not _holds(test, value):
                    continue
            except Exception:     # a comparison that cannot be decided: call the impl
                return None
        return fname, [names[i] for i in pos]
    return None


class ProbeResult:
    """raw_dtype: the NumPy dtype the impl returns (None: unknown); array_constants: the
    operand names whose constant may be passed as a NumPy scalar of the compute dtype
    (converted once, not per call; a scalar, not a 0-dim array: NumPy runs array-by-0-dim
    array ufuncs through a slow broadcasting loop, ~4x slower at 2^20 elements)."""
    __slots__ = ("raw_dtype", "array_constants")

    def __init__(self, raw_dtype, array_constants):
        self.raw_dtype = raw_dtype
        self.array_constants = array_constants


def _sample(spec_dtype, ndim, fill=1):
    with np.errstate(all="ignore"):
        return np.full((1,) * (1 if ndim is None else ndim), fill).astype(spec_dtype)


# the values a constant's NumPy scalar must answer as its Python number on (not only at 1:
# pow's exponent 0.5 takes sqrt as a number, NumPy's pow as a NumPy scalar: -inf ** 0.5)
_CHECK_FILLS = {"f": (1.0, -np.inf, np.inf, -0.0, np.nan, -2.5, 0.5, 3.0),
                "i": (1, 0, -3, 7), "u": (1, 0, 7), "b": (True, False)}


def probe(op, ct_np, args):
    """Run op.impl on 1-element stand-ins. args: one entry per schema argument, in order:
    ('tensor', numpy dtype, ndim) for an operand cast to ct_np or an aux tensor,
    ('scalar', value, is_constant) for a Python-number operand, ('value', value) for an
    extra argument. None when the impl cannot be probed."""
    if op.tags & {"random", "nondeterministic"}:
        return None
    names = [a.name for a in op.schema.arguments]
    plain, arrays, consts = [], [], []
    for name, a in zip(names, args):
        if a[0] == "tensor":
            x = _sample(a[1], a[2])
            plain.append(x)
            arrays.append(x)
        elif a[0] == "scalar":
            plain.append(a[1])
            # (float16 ops keep a Python number in float32: PyTorch's opmath, pointwise.py)
            if a[2] and _fits(a[1], ct_np) and ct_np != np.float16:
                arrays.append(ct_np.type(a[1]))
                consts.append(name)
            else:
                arrays.append(a[1])
        else:
            plain.append(a[1])
            arrays.append(a[1])
    try:
        with np.errstate(all="ignore"):
            r = np.asarray(op.impl(np, *plain))
            ok = ()
            if consts and _same_answers(op, args, plain, arrays):
                ok = tuple(consts)
    except Exception:
        return None
    return ProbeResult(r.dtype, ok)


def _same_answers(op, args, plain, arrays):
    """Whether the impl answers the same with the constants as NumPy scalars (`arrays`) as
    with Python numbers (`plain`), on tensor samples holding each of _CHECK_FILLS."""
    tensors = [k for k, a in enumerate(args) if a[0] == "tensor"]
    # every tensor at each value in turn (the others at 1), then all at the same value
    kinds = [np.dtype(args[k][1]).kind for k in tensors]
    combos = [[1] * len(tensors)]
    for j, kind in enumerate(kinds):
        for v in _CHECK_FILLS.get(kind, (1,)):
            combos.append([v if i == j else 1 for i in range(len(tensors))])
    for combo in combos:
        p, a = list(plain), list(arrays)
        for k, v in zip(tensors, combo):
            p[k] = a[k] = _sample(args[k][1], args[k][2], v)
        try:
            r = np.asarray(op.impl(np, *p))
        except Exception:
            continue                      # not defined there: the two must both raise
        try:
            r2 = np.asarray(op.impl(np, *a))
        except Exception:
            return False
        if not (r2.dtype == r.dtype and r2.shape == r.shape and np.array_equal(
                r, r2, equal_nan=r.dtype.kind in "fc")):
            return False
    return True


def _fits(value, ct_np):
    """Does a Python number convert to ct_np without NumPy's out-of-bounds error?"""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return isinstance(value, bool)
    if isinstance(value, int) and ct_np.kind in "iu":
        info = np.iinfo(ct_np)
        return info.min <= value <= info.max
    if isinstance(value, float) and ct_np.kind in "biu":
        return False
    return True
