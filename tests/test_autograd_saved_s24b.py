"""Derivatives that save values computed at forward time (session 24, helper c24): the
`computes` option of @derivative (gpujit/ops/derivatives.py) saves what PyTorch's
composite kernels save, an intermediate computed from the inputs (ndtr's x / sqrt 2,
l1_loss's difference, cross_entropy's log_softmax...) instead of the input itself, and
`<arg>_needs_grad` says which tensors of a Tensor[] argument need a gradient. Writing an
input in place after the op is then no error at backward where PyTorch answers, and the
gradient is the one without the write (checked against NumPy / finite differences in
float64). An operand a needed gradient does read still fails the version check.

Found by a write-after-op differential sweep over the registry's OpInfo samples against
PyTorch (each floating argument written after the op, the others requiring grad or not)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gpujit

_rng = np.random.default_rng(2424)
MODIFIED = "modified by an inplace operation"
F = gpujit.nn.functional


def _rand(*shape, low=-1.0, high=1.0):
    return _rng.uniform(low, high, shape)


def _weights(o, k):
    return np.linspace(0.5, 1.5, max(o.numel(), 1)).reshape(tuple(o.shape)) + k


def _grads(fn, arrays, i, write, others=False):
    """Gradients of sum(out * w) w.r.t. the float64 inputs (`arrays`; a list entry is a
    Tensor[] argument, None passes through), input i (an index, or (list index, element))
    entering as a non-leaf `x * 1` that is written (add_(1)) after the op when `write`;
    the other inputs require grad when `others`."""
    leaves, written = [], []

    def make(a, here):
        x = gpujit.tensor(np.asarray(a, dtype=np.float64), requires_grad=here or others)
        leaves.append(x)
        if here:
            y = x * 1
            written.append(y)
            return y
        return x

    ys = []
    for j, a in enumerate(arrays):
        if a is None:
            ys.append(None)
        elif isinstance(a, list):
            ys.append([make(e, i == (j, k)) for k, e in enumerate(a)])
        else:
            ys.append(make(a, i == j))
    out = fn(*ys)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    loss = 0
    for k, o in enumerate(outs):
        if isinstance(o, gpujit.Tensor) and o.requires_grad:
            loss = loss + (o * gpujit.tensor(_weights(o, k))).sum()
    if write:
        written[0].add_(1)
    loss.backward()
    return [None if x.grad is None else x.grad.numpy().copy() for x in leaves]


def _check_write_ok(fn, arrays, i, others=False):
    want = _grads(fn, arrays, i, False, others)
    got = _grads(fn, arrays, i, True, others)
    assert len(want) == len(got)
    for a, b in zip(want, got):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    return want


def _check_write_raises(fn, arrays, i, others=False):
    with pytest.raises(RuntimeError, match=MODIFIED):
        _grads(fn, arrays, i, True, others)


def _numeric(fn, arrays, j, k=None, eps=1e-6):
    """Central-difference gradient of sum(fn(...) * w) w.r.t. input j (element k of a
    Tensor[] argument), in float64 without autograd."""
    def loss(args):
        ts = [None if a is None else [gpujit.tensor(e) for e in a] if isinstance(a, list)
              else gpujit.tensor(a) for a in args]
        out = fn(*ts)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        return sum(float((o * gpujit.tensor(_weights(o, n))).sum())
                   for n, o in enumerate(outs) if o.is_floating_point())
    base = [None if a is None else [np.array(e, dtype=np.float64) for e in a]
            if isinstance(a, list) else np.array(a, dtype=np.float64) for a in arrays]
    target = base[j] if k is None else base[j][k]
    g = np.zeros_like(target)
    for idx in np.ndindex(target.shape):
        old = target[idx]
        target[idx] = old + eps
        hi = loss(base)
        target[idx] = old - eps
        lo = loss(base)
        target[idx] = old
        g[idx] = (hi - lo) / (2 * eps)
    return g


def _check_against_numeric(fn, arrays, i, others=False, rtol=1e-5, atol=1e-7):
    """The gradient with the write equals the gradient without it, and the numeric one."""
    got = _check_write_ok(fn, arrays, i, others)
    pos = []
    for j, a in enumerate(arrays):
        if a is None:
            continue
        for k in (range(len(a)) if isinstance(a, list) else (None,)):
            pos.append((j, k))
    for (j, k), g in zip(pos, got):
        if g is not None:
            np.testing.assert_allclose(g, _numeric(fn, arrays, j, k), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- ndtr

def test_ndtr_saves_x_over_sqrt2_not_x():
    a = _rand(3, 4, low=-2, high=2)
    got = _check_write_ok(lambda x: gpujit.special.ndtr(x), [a], 0)
    want = np.exp(-a * a / 2) / math.sqrt(2 * math.pi) * _weights(gpujit.tensor(a), 0)
    np.testing.assert_allclose(got[0], want, rtol=1e-12)


def test_ndtr_double_backward_goes_through_the_saved_intermediate():
    a = np.array([0.3, -1.2, 2.0])
    x = gpujit.tensor(a, requires_grad=True)
    g, = gpujit.autograd.grad(gpujit.special.ndtr(x * 1).sum(), x, create_graph=True)
    g2, = gpujit.autograd.grad(g.sum(), x)
    pdf = np.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(g.detach().numpy(), pdf, rtol=1e-12)
    np.testing.assert_allclose(g2.numpy(), -a * pdf, rtol=1e-12)


def test_ldexp_keeps_the_exponent_only_for_the_mantissa_gradient():
    # (PyTorch's LdexpBackward0: other for self's gradient, result for other's)
    m, e = _rand(3), np.array([1.0, -2.0, 0.5])
    _check_write_ok(lambda a, b: gpujit.ldexp(a, b), [m, e], 1)
    _check_write_raises(lambda a, b: gpujit.ldexp(a, b), [m, e], 1, True)


@gpujit.jit.script
def _s_ndtr(x, w):
    return gpujit.special.ndtr(x * 2.0) * w + 1.0


def _scripted(f):
    def run(*xs):
        for _ in range(2):          # (profiling run, then the optimized graph)
            out = f(*xs)
        return out
    return run


def test_scripted_ndtr_fusion_group_backward_computes_the_saved_value():
    a, w = _rand(5, low=-2, high=2), _rand(5)
    x = gpujit.tensor(a, requires_grad=True)
    wt = gpujit.tensor(w, requires_grad=True)
    out = _scripted(_s_ndtr)(x, wt)
    assert type(out.grad_fn).__name__ == "CppFunction"      # (as torch 2.13)
    out.sum().backward()
    pdf = np.exp(-(2 * a) ** 2 / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(x.grad.numpy(), 2 * pdf * w, rtol=1e-12)
    np.testing.assert_allclose(wt.grad.numpy(), 0.5 * (1 + np.vectorize(math.erf)(
        2 * a / math.sqrt(2))), rtol=1e-12)


# ---------------------------------------------------------------- losses

def _probs(*shape):
    p = _rand(*shape, low=0.1, high=1.0)
    return p / p.sum(1, keepdims=True)


_IDX = np.array([0, 3, 1, 2, 3])

LOSSES = [
    ("l1_loss_input", lambda x, t: F.l1_loss(x, t), [_rand(3, 4), _rand(3, 4)], 0, True),
    ("l1_loss_target", lambda x, t: F.l1_loss(x, t, reduction="sum"),
     [_rand(3, 4), _rand(3, 4)], 1, True),
    ("l1_loss_none", lambda x, t: F.l1_loss(x, t, reduction="none"),
     [_rand(2, 3), _rand(2, 3)], 0, False),
    ("cross_entropy_index", lambda x: F.cross_entropy(x, gpujit.tensor(_IDX)),
     [_rand(5, 4)], 0, False),
    ("cross_entropy_index_weight_smoothing",
     lambda x, w: F.cross_entropy(x, gpujit.tensor(_IDX), weight=w, label_smoothing=0.2),
     [_rand(5, 4), _rand(4, low=0.5)], 0, False),
    ("cross_entropy_probs_input", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
     [_rand(5, 4), _probs(5, 4)], 0, True),
    ("cross_entropy_probs_target", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
     [_rand(5, 4), _probs(5, 4)], 1, True),
    ("cross_entropy_probs_target_alone", lambda x, t: F.cross_entropy(x, t),
     [_rand(5, 4), _probs(5, 4)], 1, False),
    ("cross_entropy_probs_weight_alone",
     lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction="sum"),
     [_rand(2, 4, 3), _probs(2, 4, 3), _rand(4, low=0.5)], 2, False),
    ("cross_entropy_unbatched", lambda x, t: F.cross_entropy(x, t),
     [_rand(4), _probs(1, 4)[0]], 0, True),
    ("kl_div_log_target_input", lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True),
     [_rand(3, 4), _rand(3, 4)], 0, True),
    ("kl_div_log_target_target",
     lambda x, t: F.kl_div(x, t, reduction="batchmean", log_target=True),
     [_rand(3, 4), _rand(3, 4)], 1, True),
    ("kl_div_log_target_target_alone",
     lambda x, t: F.kl_div(x, t, reduction="none", log_target=True),
     [_rand(3, 4), _rand(3, 4)], 1, False),
]


@pytest.mark.parametrize("name,f,arrays,i,others", LOSSES, ids=[c[0] for c in LOSSES])
def test_losses_save_the_intermediate_not_the_input(name, f, arrays, i, others):
    _check_against_numeric(f, arrays, i, others)


def test_losses_still_check_what_a_needed_gradient_reads():
    probs = [_rand(5, 4), _probs(5, 4)]
    # the input's gradient reads the target; the weight's (probabilities) the target
    with pytest.raises(RuntimeError, match=MODIFIED):
        x = gpujit.tensor(probs[0], requires_grad=True)
        t = gpujit.tensor(probs[1]) * 1
        out = F.cross_entropy(x, t)
        t.add_(1)
        out.backward()
    _check_write_raises(lambda x, t, w: F.cross_entropy(x, t, weight=w),
                        [_rand(5, 4), _probs(5, 4), _rand(4, low=0.5)], 2, True)
    # kl_div without log_target keeps the input for the target's gradient
    _check_write_raises(lambda x, t: F.kl_div(x, t, reduction="sum"),
                        [_rand(3, 4), _rand(3, 4, low=0.1)], 0, True)


def test_cross_entropy_double_backward_goes_through_the_saved_log_probabilities():
    a = _rand(5, 4)
    x = gpujit.tensor(a, requires_grad=True)
    v = gpujit.tensor(_rand(5, 4))
    g, = gpujit.autograd.grad(F.cross_entropy(x * 1, gpujit.tensor(_IDX)), x,
                              create_graph=True)
    hv, = gpujit.autograd.grad((g * v).sum(), x)
    # Hessian-vector product of mean_n(-logsoftmax(x_n)[t_n]): (diag(p) - p p^T) v / N
    p = np.exp(a) / np.exp(a).sum(1, keepdims=True)
    vv = v.numpy()
    want = (p * vv - p * (p * vv).sum(1, keepdims=True)) / 5
    np.testing.assert_allclose(hv.numpy(), want, rtol=1e-10, atol=1e-13)


@gpujit.jit.script
def _s_losses(x, t, y):
    return gpujit.nn.functional.l1_loss(x, t) + gpujit.nn.functional.cross_entropy(y, t)


def test_scripted_losses_save_the_intermediate_not_the_input():
    arrays = [_rand(5, 4), _probs(5, 4), _rand(5, 4)]
    _check_write_ok(_scripted(_s_losses), arrays, 0, True)
    _check_write_ok(_scripted(_s_losses), arrays, 2, True)
    _check_write_raises(_scripted(_s_losses), arrays, 1, True)


# ---------------------------------------------------------------- composites replayed at forward

def _lu_solve(b, a):
    lu, piv = gpujit.linalg.lu_factor(a.detach())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # (lu_solve's deprecation)
        return gpujit.lu_solve(b, lu, piv)


REPLAYED = [
    ("trapezoid_dx", lambda y: gpujit.trapezoid(y, dx=0.5, dim=0), [_rand(3, 5)], 0, False),
    ("trapezoid_x_y", lambda y, x: gpujit.trapezoid(y, x), [_rand(3, 5), _rand(5)], 0, True),
    ("trapezoid_x_x", lambda y, x: gpujit.trapezoid(y, x), [_rand(3, 5), _rand(5)], 1, True),
    ("trapz_x", lambda y, x: gpujit.trapz(y, x), [_rand(3, 5), _rand(5)], 0, False),
    ("cumulative_trapezoid", lambda y: gpujit.cumulative_trapezoid(y, dx=3.0, dim=0),
     [_rand(4, 3)], 0, False),
    ("cumulative_trapezoid_x", lambda y, x: gpujit.cumulative_trapezoid(y, x),
     [_rand(3, 5), _rand(5)], 1, True),
    ("gradient", lambda y: gpujit.gradient(y, spacing=2.0, dim=1, edge_order=2),
     [_rand(4, 5)], 0, False),
    ("gradient_dims", lambda y: gpujit.gradient(y, spacing=[0.5, 2.0], dim=[0, 1]),
     [_rand(4, 5)], 0, False),
    ("cov", lambda a: gpujit.cov(a), [_rand(3, 6)], 0, False),
    ("cov_correction", lambda a: gpujit.cov(a, correction=0), [_rand(6)], 0, False),
    ("corrcoef", lambda a: gpujit.corrcoef(a), [_rand(3, 6)], 0, False),
    ("lu_solve", _lu_solve, [_rand(3, 2), _rand(3, 3) + 3 * np.eye(3)], 0, False),
]


@pytest.mark.parametrize("name,f,arrays,i,others", REPLAYED, ids=[c[0] for c in REPLAYED])
def test_composites_save_what_their_recorded_forward_saves(name, f, arrays, i, others):
    _check_against_numeric(f, arrays, i, others)


def test_replayed_composite_double_backward_and_retain_graph():
    a = _rand(3, 6)
    x = gpujit.tensor(a, requires_grad=True)
    out = gpujit.cov(x * 1)
    v = gpujit.tensor(_rand(3, 3))
    g, = gpujit.autograd.grad((out * v).sum(), x, create_graph=True, retain_graph=True)
    # d/dx sum(V * cov(x)) = (V + V^T) (x - mean) / (n - 1): its gradient along u is
    # linear in u; check the Hessian-vector product against a finite difference
    u = _rand(3, 6)
    hv, = gpujit.autograd.grad((g * gpujit.tensor(u)).sum(), x)
    vv = v.numpy()
    sym = vv + vv.T
    def grad_at(z):
        return sym @ (z - z.mean(1, keepdims=True)) / 5
    np.testing.assert_allclose(g.detach().numpy(), grad_at(a), rtol=1e-10)
    want = (grad_at(a + 1e-6 * u) - grad_at(a - 1e-6 * u)) / 2e-6   # (symmetric Hessian)
    np.testing.assert_allclose(hv.numpy(), want, rtol=1e-6, atol=1e-8)
    # the node runs again with retain_graph, and the write-free gradient is the same
    y = gpujit.tensor(a, requires_grad=True)
    o = gpujit.corrcoef(y * 1).sum()
    o.backward(retain_graph=True)
    first = y.grad.numpy().copy()
    o.backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * first, rtol=1e-12)


def test_replayed_composite_still_checks_what_its_graph_saves():
    # lu_solve is linalg.lu_solve, which keeps LU (and the solution) for LU's gradient
    a = _rand(3, 3) + 3 * np.eye(3)
    lu, piv = gpujit.linalg.lu_factor(gpujit.tensor(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # (lu_solve's deprecation)
        _check_write_raises(lambda b, m: gpujit.lu_solve(b, m, piv),
                            [_rand(3, 2), lu.numpy()], 1, True)


@gpujit.jit.script
def _s_cov_trap(a, y):
    return gpujit.cov(a).sum() + gpujit.trapezoid(y, dx=0.5, dim=0).sum()


def test_scripted_replayed_composites():
    arrays = [_rand(3, 6), _rand(3, 5)]
    _check_write_ok(_scripted(_s_cov_trap), arrays, 0, True)
    _check_write_ok(_scripted(_s_cov_trap), arrays, 1, True)


# ---------------------------------------------------------------- Tensor[] arguments: per element

EINSUM = [
    ("einsum_matmul_first", lambda a, b: gpujit.einsum("ij,jk->ik", a, b),
     [_rand(2, 3), _rand(3, 4)], 0, False),
    ("einsum_matmul_second", lambda a, b: gpujit.einsum("...ij,...jk->...ik", a, b),
     [_rand(2, 3, 4), _rand(4, 2)], 1, False),
    ("einsum_mul", lambda a, b: gpujit.einsum("ij,ij->ij", a, b),
     [_rand(1, 3), _rand(2, 3)], 0, False),
    ("einsum_diagonal", lambda a: gpujit.einsum("ii->i", a), [_rand(4, 4)], 0, True),
]


@pytest.mark.parametrize("name,f,arrays,i,others", EINSUM, ids=[c[0] for c in EINSUM])
def test_einsum_keeps_only_the_operands_a_needed_gradient_reads(name, f, arrays, i, others):
    # (`tensors_needs_grad`: which operands need a gradient, element by element)
    _check_against_numeric(f, arrays, i, others)


def test_einsum_still_checks_the_other_operand():
    _check_write_raises(lambda a, b: gpujit.einsum("ij,jk->ik", a, b),
                        [_rand(2, 3), _rand(3, 4)], 0, True)
    x = gpujit.tensor(_rand(2, 3), requires_grad=True)
    b = gpujit.tensor(_rand(3, 4)) * 1
    out = gpujit.einsum("ij,jk->ik", x, b)
    b.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED):
        out.sum().backward()
