"""Every differentiable op in the registry has a derivative that passes gradcheck on its
OpInfo samples (CPU, float64), or is marked non-differentiable with a reason (issue 7)."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit import dtypes as dt
from gpujit.ops import registry

from opinfo import all_opinfos, ErrorSample

INFOS = all_opinfos()
NAMES = sorted(n for n, d in registry.OPS.items() if d.inplace_of is None
               and not n.startswith(("aten::add.int", "aten::sub.int")))
MAX_ELEMENTS = 120          # finite differences cost one call per input element
MAX_SAMPLES = 3


def _to_inputs(v, wrt_mask):
    """float arrays -> float64 tensors that require grad; other arrays -> tensors."""
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "f":
            return gpujit.from_numpy(v.astype(np.float64)).requires_grad_(wrt_mask)
        return gpujit.from_numpy(v.copy())
    if isinstance(v, list):
        return [_to_inputs(x, wrt_mask) for x in v]
    if isinstance(v, tuple):
        return tuple(_to_inputs(x, wrt_mask) for x in v)
    return v


def _size(v):
    if isinstance(v, np.ndarray):
        return v.size
    if isinstance(v, (list, tuple)):
        return sum(_size(x) for x in v)
    return 0


def _floating_out(out):
    if isinstance(out, gpujit.Tensor):
        return out.dtype.category == dt.FLOATING
    if isinstance(out, (tuple, list)):
        return any(_floating_out(o) for o in out)
    return False


def _flat_tensors(v):
    if isinstance(v, gpujit.Tensor):
        return [v]
    if isinstance(v, (list, tuple)):
        return [t for x in v for t in _flat_tensors(x)]
    return []


@pytest.mark.parametrize("name", NAMES)
def test_derivative_or_reason(name):
    op = registry.OPS[name]
    info = INFOS.get(name)
    if info is None:
        pytest.skip("no OpInfo (test_opinfo fails for it)")
    d = op.derivative
    if d is None and op.tags & {"factory", "random"}:
        return            # new tensors (zeros_like, rand): autograd never records them
    if isinstance(d, registry.NonDifferentiable):
        assert d.reason and len(d.reason) > 10, f"{name}: give a real reason"
        return
    if getattr(d, "not_implemented", None):     # (recorded, its backward refused: PyTorch's)
        assert "not implemented" in d.not_implemented, name
        return
    samples = [s for s in info.get_samples() if not isinstance(s, ErrorSample)]
    floating = False
    checked = 0
    for s in samples:
        with gpujit.no_grad():
            args = _to_inputs(s.args, False)
            kwargs = {k: _to_inputs(v, False) for k, v in s.kwargs.items()}
            try:
                out = op.public(*args, **kwargs)
            except Exception:
                continue
        if not _floating_out(out):
            continue
        floating = True
        if d is None:
            pytest.fail(f"{name} returns floating-point tensors but has no derivative: add "
                        f"@derivative(...) next to it, or nondifferentiable(..., reason=...)")
        if not info.grad or not s.grad or checked >= MAX_SAMPLES or _size(s.args) + _size(
                list(s.kwargs.values())) > MAX_ELEMENTS:
            continue
        args = list(_to_inputs(s.args, True))
        kwargs = {k: _to_inputs(v, True) for k, v in s.kwargs.items()}
        # arguments PyTorch's autograd refuses to differentiate (nll_loss's weight): as
        # they are, without grad
        refused = getattr(op.refuse_grad, "args", ())
        for i, a in enumerate(op.schema.arguments):
            if a.name in refused:
                if i < len(args) and isinstance(args[i], gpujit.Tensor):
                    args[i] = args[i].detach()
                if isinstance(kwargs.get(a.name), gpujit.Tensor):
                    kwargs[a.name] = kwargs[a.name].detach()
        leaves = [t for t in _flat_tensors(list(args) + list(kwargs.values()))
                  if t.requires_grad]
        if not leaves:
            continue
        names = [a.name for a in op.schema.arguments]

        def fn(*xs):
            it = iter(xs)

            def sub(v):
                if isinstance(v, gpujit.Tensor) and v.requires_grad:
                    return next(it)
                if isinstance(v, list):
                    return [sub(x) for x in v]
                if isinstance(v, tuple):
                    return tuple(sub(x) for x in v)
                return v
            a2 = [sub(v) for v in args]
            k2 = {k: sub(v) for k, v in kwargs.items()}
            # an in-place op cannot write a leaf that requires grad: give it a copy
            if (op.schema.arguments[0].type.is_write and a2 and
                    isinstance(a2[0], gpujit.Tensor) and a2[0].requires_grad):
                a2[0] = a2[0].clone()
            return op.public(*a2, **k2)

        del names
        assert gpujit.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-5, rtol=1e-3), \
            f"{name}: gradcheck failed on {s!r}"
        checked += 1
    if floating and d is None:
        pytest.fail(f"{name} has no derivative")
