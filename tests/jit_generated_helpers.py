"""Helpers of tests/test_jit_generated_port.py (PyTorch's TestJitGeneratedModule /
TestJitGeneratedFunctional): a scripted callable run three times (profiling run, then
the optimized plan) against the same callable run eagerly, values and the gradients
of the sum of its floating outputs w.r.t. its differentiable inputs and parameters."""
import numpy as np

import gpujit as torch

S, M = 5, 10


class T:
    """A tensor argument: ``shape`` (random float64) or a ``make()`` callable;
    ``grad``: the test differentiates w.r.t. it."""

    def __init__(self, shape=None, grad=True, make=None, dtype=None):
        self.shape, self.grad, self._make, self.dtype = shape, grad, make, dtype

    def make(self):
        if self._make is not None:
            t = self._make()
        else:
            t = torch.randn(*self.shape, dtype=self.dtype or torch.float64)
        if self.grad and t.dtype.is_floating_point:
            t = t.detach().requires_grad_(True)
        return t


def nd(make):
    """A non-differentiable tensor argument (PyTorch's ``non_differentiable``)."""
    return T(make=make, grad=False)


def literal(v):
    """TorchScript source of a constant argument."""
    if isinstance(v, torch.dtype):
        return "torch." + str(v).split(".")[-1]
    if isinstance(v, (list, tuple)):
        inner = ", ".join(literal(x) for x in v)
        return "[" + inner + "]" if isinstance(v, list) else "(" + inner + ("," if len(v) == 1 else "") + ")"
    return repr(v)


def _tol(dtype):
    if dtype == torch.float64:
        return 1e-7, 1e-9
    if dtype == torch.float16:
        return 1e-2, 1e-2
    return 1e-5, 1e-6


def _flat_tensors(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flat_tensors(o)]
    return []


def assert_close(a, b, what):
    assert tuple(a.shape) == tuple(b.shape), (what, tuple(a.shape), tuple(b.shape))
    assert a.dtype == b.dtype, (what, a.dtype, b.dtype)
    rtol, atol = _tol(a.dtype)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg=what)


def run_once(fn, inputs, params, seed):
    """Outputs and gradients of ``fn(*inputs)`` (gradient of the sum of its floating
    outputs w.r.t. the inputs and params that require grad; None where unused)."""
    torch.manual_seed(seed)
    out = fn(*inputs)
    outs = _flat_tensors(out)
    wrt = [t for t in list(inputs) + list(params)
           if isinstance(t, torch.Tensor) and t.requires_grad]
    diff = [o for o in outs if o.requires_grad]
    grads = []
    if wrt and diff:
        total = sum(o.sum() for o in diff)
        grads = torch.autograd.grad(total, wrt, allow_unused=True)
    return outs, grads


def check_against_eager(scripted, eager, inputs, params=(), calls=3):
    ref_out, ref_grads = run_once(eager, inputs, params, seed=123)
    for i in range(calls):
        outs, grads = run_once(scripted, inputs, params, seed=123)
        assert len(outs) == len(ref_out), (i, len(outs), len(ref_out))
        for k, (a, b) in enumerate(zip(outs, ref_out)):
            assert_close(a, b, "call %d output %d" % (i, k))
        assert len(grads) == len(ref_grads), (i, len(grads), len(ref_grads))
        for k, (a, b) in enumerate(zip(grads, ref_grads)):
            assert (a is None) == (b is None), ("call %d grad %d" % (i, k), a, b)
            if a is not None:
                assert_close(a, b, "call %d grad %d" % (i, k))
    return ref_out
