"""Session 30 (l30): the per-op recording plan (autograd/recording.py: _make_plan,
_record_planned), SumBackward0's raw expansion of a 0-dim gradient, and saved values
that a record-time compute hands back as the op's output (no reference cycle).
Expected names and values checked against torch 2.13."""
import gc
import weakref

import numpy as np
import pytest

import gpujit as torch
from gpujit.autograd import recording
from gpujit.ops import registry
from gpujit.ops.reduction import _sum_grad_raw
from gpujit.ops.views import expand

F = torch.nn.functional

X = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
W = [[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]]


def _xw():
    return (torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True),
            torch.tensor([0.5, -0.5], requires_grad=True))


# name, call, grad_fn name (torch 2.13), x.grad after y.sum().backward() (torch 2.13)
CASES = [
    ("relu", lambda x, w, b: torch.relu(x), "ReluBackward0",
     [1.0, 0.0, 1.0, 1.0, 1.0, 0.0]),
    ("mul", lambda x, w, b: x * w, "MulBackward0", [0.1, 0.2, 0.3, 0.4, -0.5, 0.6]),
    ("mul number", lambda x, w, b: torch.mul(x, 2), "MulBackward0", [2.0] * 6),
    ("pow scalar", lambda x, w, b: torch.pow(x, 2), "PowBackward0",
     [1.0, -2.0, 4.0, 3.0, 0.5, -1.5]),
    ("pow number base", lambda x, w, b: torch.pow(2, x), "PowBackward2",
     [0.9803, 0.3466, 2.7726, 1.9605, 0.8243, 0.4121]),
    ("linear", lambda x, w, b: F.linear(x, w, b), "AddmmBackward0",
     [0.5, -0.3, 0.9, 0.5, -0.3, 0.9]),
    ("linear no bias", lambda x, w, b: F.linear(x, w), "MmBackward0",
     [0.5, -0.3, 0.9, 0.5, -0.3, 0.9]),
    ("linear 1-d", lambda x, w, b: F.linear(x[0], w, b), "ViewBackward0",
     [0.5, -0.3, 0.9, 0.0, 0.0, 0.0]),
    ("add alpha", lambda x, w, b: torch.add(x, w, alpha=2), "AddBackward0", [1.0] * 6),
]


@pytest.mark.parametrize("name,call,node,xgrad", CASES, ids=[c[0] for c in CASES])
def test_planned_recording_names_and_gradients(name, call, node, xgrad):
    x, w, b = _xw()
    y = call(x, w, b)
    assert type(y.grad_fn).__name__ == node
    assert y.grad_fn.name() == node
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy().ravel(), xgrad, atol=1e-4)


def test_plans_are_made_once_and_cover_the_common_ops():
    x, w, b = _xw()
    torch.relu(x)
    F.linear(x, w, b)
    # (F.linear of a matrix records torch's addmm of weight.t(), c49)
    for name in ("aten::relu", "aten::addmm", "aten::t", "aten::mul.Tensor", "aten::sum"):
        assert recording._PLANS.get(registry.OPS[name]) not in (None, False), name
    # in-place ops and ops computing at record time keep the general path (view ops of
    # one output are planned since session 36, their output attached as a recorded view;
    # ops of several views are not)
    assert recording._make_plan(registry.OPS["aten::t"])[-1] == "one"
    for name in ("aten::relu_", "aten::cross_entropy_loss", "aten::unbind.int"):
        op = registry.OPS[name]
        assert recording._make_plan(op) is False, name


def test_planned_recording_keeps_saved_tensor_checks():
    x, w, b = _xw()
    y = x * w
    with torch.no_grad():
        w.mul_(2)
    # (torch 2.13 names no node for a leaf's write: "... modified by an inplace operation:
    # [torch.FloatTensor [2, 3]] is at version 1; expected version 0 instead. Hint: ...")
    with pytest.raises(RuntimeError, match="modified by an inplace operation: .* is at "
                                           "version 1; expected version 0 instead"):
        y.sum().backward()
    # relu's saved output written in place (torch 2.13 names the saving node in its
    # message, gpujit the output's grad_fn now: only the error is checked)
    x, w, b = _xw()
    h = x * 1
    r = torch.relu(h)
    r.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        r.sum().backward()


def test_planned_recording_with_saved_tensor_hooks_and_anomaly_mode():
    x, w, b = _xw()
    packed = []

    def pack(t):
        packed.append(tuple(t.shape))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = F.linear(x, w, b)
    assert packed == [(2, 3), (3, 2)]      # (torch 2.13's addmm saves x and w.t())
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[2.0, -0.75, 1.25]] * 2)
    with torch.autograd.detect_anomaly(check_nan=False):
        z = torch.relu(x)
    assert "traceback_" in z.grad_fn.metadata


def test_planned_recording_no_grad_and_hooks():
    x, w, b = _xw()
    with torch.no_grad():
        assert torch.relu(x).grad_fn is None
    with torch.inference_mode():
        assert not F.linear(x, w, b).requires_grad
    y = torch.tanh(x)
    seen = []
    y.register_hook(lambda g: seen.append(g.shape))
    y.retain_grad()
    y.sum().backward()
    assert seen == [(2, 3)] and y.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh(np.array(X, np.float32)) ** 2,
                               rtol=1e-6)


def test_planned_output_is_freed_without_the_gc():
    x, w, b = _xw()
    gc.disable()
    try:
        for f in (lambda: torch.relu(x), lambda: F.linear(x, w, b), lambda: x * w):
            y = f()
            r = weakref.ref(y.grad_fn)
            del y
            assert r() is None
    finally:
        gc.enable()


# ---- SumBackward0's raw expansion -----------------------------------------------------

@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 1), (1, 1), (0, 3), (4, 1, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_sum_raw_expansion_is_expands(shape, dtype):
    g = np.array(2.5, dtype)
    a = _sum_grad_raw(np, g, shape)
    b = expand(np, g, list(shape))
    assert a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
    assert not a.flags.writeable
    np.testing.assert_array_equal(a, b)


def test_sum_backward_accumulates_into_a_fresh_grad():
    x = torch.randn(4, 3, requires_grad=True)
    x.sum().backward()
    assert x.grad._data.flags.writeable and x.grad.stride() == (3, 1)
    x.sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((4, 3), 5.0, np.float32))
    x.grad.add_(1)          # (.grad owns its memory: no broadcast view was kept)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((4, 3), 6.0, np.float32))
    # two leaves fed by the one expanded gradient
    a = torch.ones(2, requires_grad=True)
    (a.sum() + a.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])


# ---- record-time computes that hand back the output --------------------------------------

@pytest.mark.parametrize("call", [
    lambda a, w, t: torch.linalg.norm(a),
    lambda a, w, t: torch.linalg.norm(a, "fro"),
    lambda a, w, t: torch.linalg.matrix_norm(a),
    lambda a, w, t: torch.linalg.matrix_power(a, -1),
    lambda a, w, t: torch.linalg.eigvalsh(a @ a.mT),
], ids=["norm", "norm_fro", "matrix_norm", "matrix_power", "eigvalsh"])
def test_computed_saved_output_is_no_cycle(call):
    a = torch.tensor([[2.0, 0.5, 0.1, 0.0], [0.3, 1.5, 0.2, 0.1], [0.0, 0.4, 1.8, 0.2],
                      [0.1, 0.0, 0.3, 1.2]], requires_grad=True)
    w = torch.tensor([0.5, 1.0, 1.5, 2.0], requires_grad=True)
    t = torch.tensor([0, 1, 2, 3])
    gc.disable()
    try:
        y = call(a, w, t)
        r = weakref.ref(y.grad_fn)
        del y
        assert r() is None
    finally:
        gc.enable()


def test_computed_saved_output_gradients_and_version_check():
    a = torch.tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True)
    y = torch.linalg.norm(a)
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    z = torch.linalg.norm(a)
    z.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
