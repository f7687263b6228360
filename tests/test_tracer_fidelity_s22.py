"""Tracing fidelity against torch.jit.trace (torch 2.13): which uses of a traced size are
recorded, which are baked in with a TracerWarning, what a trace returns and how
check_trace warns. NumPy is the reference; torch is not needed.

Where gpujit deliberately differs from PyTorch's tracer (it hands out sizes as 0-dim
tensors, gpujit as int subclasses, TracedInt / TracedFloat):
- a float on the left of an operator (`0.5 * x.size(1)`, `2.0 + n`) is computed by
  float's own operator, so the value is baked in silently (PyTorch records it); with the
  size on the left (`x.size(1) * 0.5`) it is recorded;
- `math.sqrt(x.size(1) / 2)` (a math function of a traced float) reads the float's value
  without a warning (`math.sqrt(x.size(1))`, of a traced int, warns);
- `x.size(1) ** -1` is Python's 0.25 (PyTorch's Long tensor power raises "Integers to
  negative integer powers are not allowed."); `round(x.size(0) / 2)` works, with the
  "Python float" warning (PyTorch's Tensor has no __round__);
- a traced float returned is a float64 0-dim tensor (TorchScript's prim::NumToTensor),
  where PyTorch's is float32.
"""
import math
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.jit import TracerWarning

R = np.random.RandomState(0)
X34 = R.randn(3, 4).astype(np.float32)
X56 = R.randn(5, 6).astype(np.float32)


def _trace(fn, *ex, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.jit.trace(fn, tuple(torch.tensor(a) for a in ex), **kw)
    return t, [str(x.message) for x in w if issubclass(x.category, TracerWarning)]


def _np(t):
    return t.numpy() if hasattr(t, "numpy") else t


# ------------------------------------------------------------------ recorded size arithmetic
@pytest.mark.parametrize("fn, ref", [
    (lambda x: x * (x.shape[1] / 2), lambda a: a * (a.shape[1] / 2)),
    (lambda x: x * (1 / x.size(1)), lambda a: a * (1 / a.shape[1])),
    (lambda x: x * x.size(1) ** 2, lambda a: a * a.shape[1] ** 2),
    (lambda x: x * (x.size(1) + 0.5), lambda a: a * (a.shape[1] + 0.5)),
    (lambda x: x * ((x.size(0) / 2) / (x.size(1) / 3)),
     lambda a: a * ((a.shape[0] / 2) / (a.shape[1] / 3))),
    (lambda x: (x.size(1) / 2) * x, lambda a: (a.shape[1] / 2) * a),
    (lambda x: x * -(x.size(0) / 2), lambda a: a * -(a.shape[0] / 2)),
    (lambda x: x.view(-1)[: x.numel() // 2], lambda a: a.reshape(-1)[: a.size // 2]),
])
def test_size_arithmetic_is_recorded_and_follows_new_shapes(fn, ref):
    t, ws = _trace(fn, X34)
    assert ws == []
    np.testing.assert_allclose(_np(t(torch.tensor(X56))), ref(X56), rtol=1e-6)
    np.testing.assert_allclose(_np(t(torch.tensor(X34))), ref(X34), rtol=1e-6)


# ------------------------------------------------------------------ baked in, with a warning
@pytest.mark.parametrize("fn, what", [
    (lambda x: x / math.sqrt(x.shape[-1]), "a Python float"),
    (lambda x: x * float(x.size(1)), "a Python float"),
    (lambda x: x[: math.floor(x.shape[0] / 2)], "a Python float"),
    (lambda x: x.view(int(x.size(0)), -1), "a Python integer"),
    (lambda x: x + 1 if x.size(0) > 3 else x - 1, "a Python boolean"),
    (lambda x: x + 1 if x.size(0) else x, "a Python boolean"),
    (lambda x: x + 1 if x.shape == (3, 4) else x, "a Python boolean"),
])
def test_size_turned_into_python_value_warns(fn, what):
    t, ws = _trace(fn, X34, check_trace=False)
    assert ws and ws[0].startswith(f"Converting a tensor to {what} might cause the trace "
                                   f"to be incorrect.")
    assert all(w == ws[0] for w in ws)


def test_sqrt_of_size_is_baked_in_as_torch_does():
    t, ws = _trace(lambda q: (q @ q.transpose(0, 1)) / math.sqrt(q.size(-1)), X34)
    assert len(ws) == 2 and "Python float" in ws[0]      # (the trace and its check)
    np.testing.assert_allclose(_np(t(torch.tensor(X56))), X56 @ X56.T / 2.0, rtol=1e-5)


def test_warning_points_at_the_users_line_once_per_site():
    def f(x):
        return x / math.sqrt(x.shape[-1])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("default")
        torch.jit.trace(f, torch.tensor(X34))
    tw = [x for x in w if issubclass(x.category, TracerWarning)]
    assert len(tw) == 1 and tw[0].filename == __file__
    assert tw[0].lineno == f.__code__.co_firstlineno + 1


def test_len_of_tensor_warns():
    t, ws = _trace(lambda x: x * len(x), X34, check_trace=False)
    assert ws == ["Using len to get tensor shape might cause the trace to be incorrect. "
                  "Recommended usage would be tensor.shape[0]. Passing a tensor of different "
                  "shape might lead to errors or silently give incorrect results."]
    np.testing.assert_allclose(_np(t(torch.tensor(X56))), X56 * 3)


def test_index_uses_and_max_of_size():
    # range(n) / max(n, 2): silent index use, and max's comparison warns (as torch)
    t, ws = _trace(lambda x: x[:max(x.size(0), 2)] + sum(x[i] for i in range(x.size(0))),
                   X34, check_trace=False)
    assert ws and all("Python boolean" in w for w in ws)
    got = _np(t(torch.tensor(X56[:, :4])))
    assert got.shape == (5, 4)      # the slice followed the size; the loop stayed 3 long
    np.testing.assert_allclose(got, X56[:, :4] + X56[:3, :4].sum(0), rtol=1e-5)


def test_gpujit_internal_size_use_does_not_warn():
    t, ws = _trace(lambda x: torch.nn.functional.layer_norm(x, x.shape[-1:]).softmax(
        x.dim() - 1), X34)
    assert ws == []


# ------------------------------------------------------------------ outputs
def test_returned_size_is_a_tensor_following_the_shape():
    t, ws = _trace(lambda x: x.size(0), X34)
    r = t(torch.tensor(X56))
    assert isinstance(r, torch.Tensor) and r.dtype == torch.int64 and r.item() == 5
    t, _ = _trace(lambda x: (x.size(0) * 2, x + 1), X34, check_trace=False)
    assert t(torch.tensor(X56))[0].item() == 10
    t, _ = _trace(lambda x: x.shape, X34)
    assert [v.item() for v in t(torch.tensor(X56))] == [5, 6]


def test_returned_plain_int_still_refused():
    with pytest.raises(RuntimeError, match="Only tensors, lists, tuples of tensors"):
        _trace(lambda x: (x, 3), X34)


def test_none_output_error_is_torchs():
    with pytest.raises(RuntimeError, match="The traced function didn't return any values! "
                       "Side-effects are not captured in traces, so it would be a no-op."):
        _trace(lambda x: None, X34)


# ------------------------------------------------------------------ check_trace
def test_nondeterministic_warning_is_separate_from_output_mismatch():
    _, ws = _trace(lambda x: x + torch.rand(3, 4), X34)
    assert len(ws) == 2
    assert ws[0].startswith("Trace had nondeterministic nodes. Did you forget call .eval()")
    assert ws[0].endswith("pass check_trace=False to gpujit.trace()")
    assert ws[1].startswith("Output nr 1. of the traced function does not match")


def test_interpolate_to_traced_sizes_follows_new_shapes():
    """(R22's leftover: F.interpolate(size=(x.size(2) * 2, ...)) int()ed the traced sizes,
    so the trace kept the example's output size; PyTorch's trace follows the new shape.)"""
    import warnings
    F = torch.nn.functional

    def f(x):
        return F.interpolate(x, size=(x.size(2) * 2, x.size(3) * 2), mode="nearest")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.jit.trace(f, torch.ones(1, 1, 2, 2))
    assert tuple(t(torch.ones(1, 1, 3, 4)).shape) == (1, 1, 6, 8)
