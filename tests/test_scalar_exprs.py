"""Every pointwise op's scalar expression (what the fuser emits per element) is in the
scalar language and, evaluated with NumPy on the op's OpInfo samples, agrees with the op's
eager result. A pointwise op without an expression, or without samples, fails."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit import dtypes as dt
from gpujit.ops import registry
from gpujit.ops.pointwise import reads_one_element
from gpujit.ops.scalar import ScalarForm, check_expression, evaluate

from opinfo import all_opinfos, ErrorSample

INFOS = all_opinfos()
POINTWISE = sorted(n for n, o in registry.OPS.items()
                   if o.is_pointwise and o.inplace_of is None and o.operands
                   and "no_fuse" not in o.tags)     # no_fuse: pointwise, run eagerly only

# The expression runs step by step in the computation dtype, the eager body may round
# once (float16 math in float32) or use another formula (logaddexp for log1p(exp)):
# a few units in the last place apart.
TOLERANCES = {dt.float16: (1e-2, 2e-3), dt.float32: (2e-5, 1e-6), dt.float64: (1e-10, 1e-12)}
# float16 step-by-step evaluation through a cancellation: gelu_backward (tanh form) near its
# zero at x ~ -0.75 came out 3e-3 from eager's float32-computed value for a sample drawn
# with NumPy 2.4 (absolute error in float16 steps, ~4 ulps of the terms that cancel)
_HALF_CANCELLING = {"aten::gelu_backward": 6e-3}


def _tensors(v):
    if isinstance(v, np.ndarray):
        return gpujit.from_numpy(v.copy())
    if isinstance(v, (list, tuple)):
        return type(v)(_tensors(x) for x in v)
    return v


def _kind(v):
    if isinstance(v, gpujit.Tensor):
        return (v.dtype, dt.ZERO_DIM if v.dim() == 0 else dt.DIM)
    return registry.scalar_kind(v)


_WEAK = {"bool": "bool", "int": "int", "float": "float"}   # a Python number's kind


def _expression_values(op, bound):
    """The expression's inputs: operands cast to the computation dtype (an own_dtype
    operand in its own), the other tensor arguments (a condition, a mask) as arrays,
    everything else as the Python value; and the expression (scalar_for's for the
    operands' dtypes where the op has one, as the fuser takes it)."""
    names = [a.name for a in op.schema.arguments]
    vals = dict(zip(names, bound))
    kinds = tuple(_kind(vals[n]) for n in op.operands if vals[n] is not None)
    extras = [vals[n] for n in names if n not in op.operands]
    ct, ot = (op.compute_types(kinds, *extras) if callable(op.promote)
              else op.compute_types(kinds))
    values = {}
    for n, v in vals.items():
        if isinstance(v, gpujit.Tensor):
            a = v.numpy()
            values[n] = (a.astype(ct.np) if n in op.operands and n not in op.own_dtype
                         else a)
        else:
            values[n] = v
    expr = op.scalar
    if op.scalar_for is not None:
        form = ScalarForm(
            op.scalar, {n: (v.dtype if isinstance(v, gpujit.Tensor) else
                            _WEAK.get(type(v).__name__)) for n, v in vals.items()}, ct,
            {n: v for n, v in vals.items() if not isinstance(v, gpujit.Tensor)},
            lambda n: isinstance(vals[n], gpujit.Tensor) and reads_one_element(values[n]))
        expr = op.scalar_for(form) or op.scalar
    return values, ot, expr


@pytest.mark.parametrize("name", POINTWISE)
def test_scalar_expression(name):
    op = registry.OPS[name]
    assert op.scalar, f"{name} is pointwise but has no scalar expression"
    check_expression(op.scalar, [a.name for a in op.schema.arguments])
    info = INFOS.get(name)
    assert info is not None, f"{name} has no OpInfo in tests/opinfo/"
    samples = [s for s in info.get_samples() if not isinstance(s, ErrorSample)]
    assert samples, f"{name}: OpInfo has no samples"
    for sample in samples:
        args = _tensors(sample.args)
        kwargs = {k: _tensors(v) for k, v in sample.kwargs.items()}
        out = op.public(*args, **kwargs)
        values, ot, expr = _expression_values(op, op.bind(args, kwargs))
        with np.errstate(all="ignore"):
            got = np.asarray(evaluate(expr, values))
            got = np.broadcast_to(got, tuple(out.shape)).astype(ot.np)
        eager = out.numpy()
        where = f"{name} on {sample}: scalar {expr!r}"
        if ot.category == dt.FLOATING:
            rtol, atol = TOLERANCES[ot]
            if ot is dt.float16 and name in _HALF_CANCELLING:
                atol = _HALF_CANCELLING[name]
            np.testing.assert_allclose(got, eager, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=where)
        else:
            np.testing.assert_array_equal(got, eager, err_msg=where)


def test_a_pointwise_op_without_expression_is_caught():
    op = registry.OPS["aten::add.Tensor"]
    saved = op.scalar
    op.scalar = None
    try:
        with pytest.raises(AssertionError, match="no scalar expression"):
            test_scalar_expression("aten::add.Tensor")
    finally:
        op.scalar = saved


def test_expressions_outside_the_language_are_rejected():
    with pytest.raises(ValueError, match="unknown function"):
        check_expression("expit({self})", ["self"])
    with pytest.raises(ValueError, match="not allowed"):
        check_expression("{self} if {self} > 0 else 0", ["self"])
    with pytest.raises(ValueError, match="unknown name"):
        check_expression("{self} + y", ["self"])


def test_special_functions_compile_on_first_use():
    """erf & co. are numba ufuncs; importing gpujit must not import numba."""
    import subprocess
    import sys
    code = ("import sys, gpujit\n"
            "assert 'numba' not in sys.modules, 'numba imported by import gpujit'\n"
            "print(gpujit.erf(gpujit.tensor([0.5])).item())\n"
            "assert 'numba' in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert abs(float(r.stdout) - 0.5204998778) < 1e-6
