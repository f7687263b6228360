"""Autograd saves what PyTorch saves (session 24, helper a24): an op's backward keeps only
what the needed gradients read (an input's shape where that is all they need, the other
operand of a product, the result where PyTorch keeps it), so writing an input in place
after the op is no error at backward where PyTorch answers, and the gradient is the one
without the write. An operand a needed gradient does read still fails the version check.

Found by a write-after-op differential sweep over the registry's OpInfo samples against
PyTorch (each floating argument written after the op, the others requiring grad or not)."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit

_rng = np.random.default_rng(24)
MODIFIED = "modified by an inplace operation"


def _rand(*shape, low=-1.0, high=1.0):
    return _rng.uniform(low, high, shape)


def _grads(fn, arrays, i, write, others=False):
    """Gradients of sum(out * w) w.r.t. the float64 inputs (`arrays`; None entries pass
    through), input i entering as a non-leaf `x * 1` that is written (add_(1)) after the
    op when `write`; the other inputs require grad when `others`."""
    xs = [None if a is None else gpujit.tensor(np.asarray(a, dtype=np.float64),
                                               requires_grad=(j == i or others))
          for j, a in enumerate(arrays)]
    ys = [x * 1 if j == i else x for j, x in enumerate(xs)]
    out = fn(*ys)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    loss = 0
    for k, o in enumerate(outs):
        if isinstance(o, gpujit.Tensor) and o.requires_grad:
            w = np.linspace(0.5, 1.5, max(o.numel(), 1)).reshape(tuple(o.shape)) + k
            loss = loss + (o * gpujit.tensor(w)).sum()
    if write:
        ys[i].add_(1)
    loss.backward()
    return [None if x is None or x.grad is None else x.grad.numpy().copy() for x in xs]


def _check_write_ok(fn, arrays, i, others=False):
    want = _grads(fn, arrays, i, False, others)
    got = _grads(fn, arrays, i, True, others)
    assert len(want) == len(got)
    for a, b in zip(want, got):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def _check_write_raises(fn, arrays, i, others=False):
    with pytest.raises(RuntimeError, match=MODIFIED):
        _grads(fn, arrays, i, True, others)


F = gpujit.nn.functional

# ---------------------------------------------------------------- shape-only backward

SHAPE_ONLY = [
    ("deg2rad", lambda a: gpujit.deg2rad(a), [(3, 4)], 0),
    ("rad2deg", lambda a: gpujit.rad2deg(a), [(3, 4)], 0),
    ("atleast_1d", lambda a: gpujit.atleast_1d(a), [()], 0),
    ("atleast_2d", lambda a: gpujit.atleast_2d(a), [(3,)], 0),
    ("atleast_3d", lambda a: gpujit.atleast_3d(a), [(2, 3)], 0),
    ("block_diag", lambda a, b: gpujit.block_diag(a, b), [(2, 3), (3, 1)], 1),
    ("meshgrid", lambda a, b: gpujit.meshgrid(a, b, indexing="xy"), [(3,), (4,)], 0),
    ("meshgrid_ij", lambda a, b: gpujit.meshgrid(a, b, indexing="ij"), [(3,), (4,)], 1),
    ("cartesian_prod", lambda a, b: gpujit.cartesian_prod(a, b), [(3,), (2,)], 1),
    ("tensor_split", lambda a: gpujit.tensor_split(a, 3, 1), [(2, 5)], 0),
    ("hsplit", lambda a: gpujit.hsplit(a, 2), [(3, 4)], 0),
    ("vsplit", lambda a: gpujit.vsplit(a, [1]), [(3, 4)], 0),
    ("dsplit", lambda a: gpujit.dsplit(a, 2), [(2, 2, 4)], 0),
    ("repeat_interleave_int", lambda a: a.repeat_interleave(2, 1), [(2, 3)], 0),
    ("repeat_interleave_flat", lambda a: a.repeat_interleave(3), [(2, 3)], 0),
    ("repeat_interleave_tensor",
     lambda a: a.repeat_interleave(gpujit.tensor([1, 0, 2]), 0), [(3, 2)], 0),
    ("irfft", lambda a: gpujit.fft.irfft(a, 6), [(2, 4)], 0),
    ("hfft", lambda a: gpujit.fft.hfft(a), [(2, 4)], 0),
    ("irfftn", lambda a: gpujit.fft.irfftn(a, (3, 4)), [(3, 3)], 0),
    ("hfft2", lambda a: gpujit.fft.hfft2(a), [(3, 3)], 0),
    ("max_unpool2d", lambda a: F.max_unpool2d(a, gpujit.tensor([[[[0, 3], [8, 10]]]]), 2),
     [(1, 1, 2, 2)], 0),
    ("max_unpool3d",
     lambda a: F.max_unpool3d(a, gpujit.tensor([[[[[0]], [[17]]]]]), 2, output_size=(4, 2, 3)),
     [(1, 1, 2, 1, 1)], 0),
    ("conv1d_bias", lambda x, w, b: F.conv1d(x, w, b), [(2, 3, 5), (4, 3, 2), (4,)], 2),
    ("conv2d_bias", lambda x, w, b: F.conv2d(x, w, b, padding=1),
     [(1, 2, 3, 3), (2, 2, 2, 2), (2,)], 2),
    ("conv3d_bias", lambda x, w, b: F.conv3d(x, w, b), [(1, 1, 3, 3, 3), (2, 1, 2, 2, 2), (2,)], 2),
    ("conv_transpose1d_bias", lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2),
     [(1, 2, 3), (2, 3, 2), (3,)], 2),
    ("conv_transpose2d_bias", lambda x, w, b: F.conv_transpose2d(x, w, b),
     [(1, 2, 3, 3), (2, 1, 2, 2), (1,)], 2),
    ("group_norm_bias", lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)], 2),
]


@pytest.mark.parametrize("others", [False, True])
@pytest.mark.parametrize("name,fn,shapes,i", SHAPE_ONLY, ids=[c[0] for c in SHAPE_ONLY])
def test_shape_only_backward_allows_a_later_write(name, fn, shapes, i, others):
    _check_write_ok(fn, [_rand(*s) for s in shapes], i, others)


def test_shape_only_ops_still_check_what_they_read():
    # conv's input gradient reads the weight, its weight gradient the input
    arrays = [_rand(2, 3, 5), _rand(4, 3, 2), _rand(4)]
    _check_write_raises(lambda x, w, b: F.conv1d(x, w, b), arrays, 1)
    _check_write_raises(lambda x, w, b: F.conv1d(x, w, b), arrays, 0, others=True)
    # group_norm's input gradient reads the input (its statistics) and the weight
    arrays = [_rand(2, 4, 3), _rand(4), _rand(4)]
    _check_write_raises(lambda x, w, b: F.group_norm(x, 2, w, b), arrays, 0)
    _check_write_raises(lambda x, w, b: F.group_norm(x, 2, w, b), arrays, 1, others=True)


# ---------------------------------------------------------------- products: `reads`

PRODUCTS = [
    # (name, fn, shapes, written input, the inputs requiring grad besides it, or None
    # when only it does)
    ("addmv_vec", lambda s, m, v: gpujit.addmv(s, m, v, beta=0.5, alpha=2.0),
     [(3,), (3, 4), (4,)], 2, None),
    ("addmv_mat", lambda s, m, v: gpujit.addmv(s, m, v), [(3,), (3, 4), (4,)], 1, None),
    ("addmv_self", lambda s, m, v: gpujit.addmv(s, m, v), [(3,), (3, 4), (4,)], 0, "all"),
    ("addr_vec1", lambda s, a, b: gpujit.addr(s, a, b, alpha=3.0), [(3, 2), (3,), (2,)], 1, None),
    ("addr_vec2", lambda s, a, b: gpujit.addr(s, a, b), [(3, 2), (3,), (2,)], 2, None),
    ("addbmm_b1", lambda s, a, b: gpujit.addbmm(s, a, b, alpha=0.5), [(2, 4), (3, 2, 5), (3, 5, 4)],
     1, None),
    ("addbmm_b2", lambda s, a, b: gpujit.addbmm(s, a, b), [(2, 4), (3, 2, 5), (3, 5, 4)], 2, None),
    ("addbmm_self", lambda s, a, b: gpujit.addbmm(s, a, b), [(2, 4), (3, 2, 5), (3, 5, 4)], 0,
     "all"),
    ("vecdot_x", lambda x, y: gpujit.linalg.vecdot(x, y, dim=0), [(3, 2), (3, 1)], 0, None),
    ("vecdot_y", lambda x, y: gpujit.linalg.vecdot(x, y), [(3, 2), (2,)], 1, None),
    ("vdot", lambda x, y: gpujit.vdot(x, y), [(4,), (4,)], 0, None),
    ("inner", lambda x, y: gpujit.inner(x, y), [(2, 3, 4), (5, 4)], 1, None),
    ("inner_0d", lambda x, y: gpujit.inner(x, y), [(), (2, 3)], 0, None),
    ("linear_bias", lambda x, w, b: F.linear(x, w, b), [(2, 5, 3), (4, 3), (4,)], 2, "all"),
]


@pytest.mark.parametrize("name,fn,shapes,i,others", PRODUCTS, ids=[c[0] for c in PRODUCTS])
def test_product_keeps_only_what_the_needed_gradient_reads(name, fn, shapes, i, others):
    _check_write_ok(fn, [_rand(*s) for s in shapes], i, others == "all")


def test_product_still_checks_the_operand_a_needed_gradient_reads():
    a = [_rand(3), _rand(3, 4), _rand(4)]
    _check_write_raises(lambda s, m, v: gpujit.addmv(s, m, v), a, 2, others=True)
    a = [_rand(2, 4), _rand(3, 2, 5), _rand(3, 5, 4)]
    _check_write_raises(lambda s, x, y: gpujit.addbmm(s, x, y), a, 1, others=True)
    _check_write_raises(lambda x, y: gpujit.inner(x, y), [_rand(2, 4), _rand(4)], 0, True)
    _check_write_raises(lambda x, y: gpujit.vdot(x, y), [_rand(4), _rand(4)], 1, True)


# ---------------------------------------------------------------- losses, linalg

def _spd(n):
    a = _rand(n, n)
    return a @ a.T + n * np.eye(n)


LOSS_LINALG = [
    ("kl_div_input", lambda x, t: F.kl_div(x, t, reduction="batchmean"),
     [_rand(3, 4), _rand(3, 4, low=0.1, high=1.0)], 0, False),
    ("kl_div_input_log_target", lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True),
     [_rand(3, 4), _rand(3, 4)], 0, False),
    ("kl_div_input_none", lambda x, t: F.kl_div(x, t, reduction="none"),
     [_rand(3, 4), _rand(3, 4, low=0.1, high=1.0)], 0, False),
    ("solve_B", lambda a, b: gpujit.linalg.solve(a, b), [_spd(3), _rand(3, 2)], 1, True),
    ("solve_B_vector", lambda a, b: gpujit.linalg.solve(a, b), [_spd(3), _rand(3)], 1, True),
    ("solve_B_right", lambda a, b: gpujit.linalg.solve(a, b, left=False),
     [_spd(3), _rand(2, 3)], 1, True),
    ("solve_ex_B", lambda a, b: gpujit.linalg.solve_ex(a, b)[0], [_spd(3), _rand(3, 2)], 1, True),
    ("lu_unpack", lambda lu: gpujit.lu_unpack(lu, gpujit.tensor([1, 2, 3], dtype=gpujit.int32))[1:],
     [_rand(3, 3)], 0, False),
    ("svd", lambda a: gpujit.svd(a), [_rand(4, 3)], 0, False),
]


@pytest.mark.parametrize("name,fn,arrays,i,others", LOSS_LINALG, ids=[c[0] for c in LOSS_LINALG])
def test_losses_and_linalg_keep_only_what_backward_reads(name, fn, arrays, i, others):
    _check_write_ok(fn, arrays, i, others)


def test_losses_and_linalg_still_check_what_backward_reads():
    arrays = [_rand(3, 4), _rand(3, 4, low=0.1, high=1.0)]
    _check_write_raises(lambda x, t: F.kl_div(x, t), arrays, 1)          # input's gradient
    _check_write_raises(lambda x, t: F.kl_div(x, t), arrays, 0, True)    # target's
    _check_write_raises(lambda a, b: gpujit.linalg.solve(a, b), [_spd(3), _rand(3, 2)], 0)


# ---------------------------------------------------------------- scripted functions

@gpujit.jit.script
def _s_addmv(s, m, v):
    return gpujit.addmv(s, m, v) * 2.0


@gpujit.jit.script
def _s_solve(a, b):
    return gpujit.linalg.solve(a, b)


@gpujit.jit.script
def _s_block_diag(a, b):
    return gpujit.block_diag(a, b)


@gpujit.jit.script
def _s_repeat_interleave(a):
    return a.repeat_interleave(2, 1)


def _scripted(f):
    def run(*xs):
        for _ in range(2):          # (profiling run, then the optimized graph)
            out = f(*xs)
        return out
    return run


SCRIPTED = [
    ("addmv", _s_addmv, [_rand(3), _rand(3, 4), _rand(4)], 2, False),
    ("solve", _s_solve, [_spd(3), _rand(3, 2)], 1, True),
    ("block_diag", _s_block_diag, [_rand(2, 2), _rand(1, 3)], 0, True),
    ("repeat_interleave", _s_repeat_interleave, [_rand(2, 3)], 0, False),
]


@pytest.mark.parametrize("name,f,arrays,i,others", SCRIPTED, ids=[c[0] for c in SCRIPTED])
def test_scripted_graph_autodiff_keeps_what_the_derivative_reads(name, f, arrays, i, others):
    _check_write_ok(_scripted(f), arrays, i, others)


def test_scripted_graph_autodiff_still_checks_what_it_reads():
    _check_write_raises(_scripted(_s_addmv), [_rand(3), _rand(3, 4), _rand(4)], 2, True)
