"""x.unsqueeze(d) inside fusion groups (NNC fuses it; fusers/views.py): the unsqueezes move
onto the group inputs and the kernel reads views of them. Values against NumPy, what
fuses, strict_fusion, guards and new shapes, aliasing, gradients, and the simulated CUDA
target in a subprocess."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit import fusers

_R = np.random.default_rng(7)


def _t(*shape, dtype=np.float32):
    return torch.from_numpy(_R.standard_normal(shape).astype(dtype))


def _groups(graph):
    return str(graph).split("\nwith ")[0].count("= prim::TensorExprGroup_")


def _outside(graph, kind="aten::unsqueeze"):
    return str(graph).split("\nwith ")[0].count(kind)


def _run(f, *args):
    s = torch.jit.script(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fusers.FusionWarning)   # no kernel may fail
        for _ in range(3):
            out = s(*args)
    return s, out


def _same(out, ref):
    outs = out if isinstance(out, tuple) else (out,)
    refs = ref if isinstance(ref, tuple) else (ref,)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        r = np.asarray(r)
        assert tuple(o.shape) == r.shape, (tuple(o.shape), r.shape)
        np.testing.assert_allclose(o.numpy(), r, rtol=1e-5, atol=1e-6)


def outer_scale(x, y):
    return x.unsqueeze(1) * y + 1


def inner_then_unsqueeze(x, y):
    return (x * 2 - 1).unsqueeze(-1) * y


def twice(x, y):
    return (x.unsqueeze(0) * 2).unsqueeze(2) + y.unsqueeze(1)


def pairwise(x, y):
    return torch.sigmoid(x.unsqueeze(1) - y.unsqueeze(0))


def mask_eq(x):
    return x.unsqueeze(1) == 0


def _np_sigmoid(v):
    return 1 / (1 + np.exp(-v))


CASES = [
    (outer_scale, lambda: (_t(3), _t(3, 4)), lambda x, y: x[:, None] * y + 1),
    (inner_then_unsqueeze, lambda: (_t(5), _t(5, 2)), lambda x, y: (x * 2 - 1)[:, None] * y),
    (twice, lambda: (_t(3, 4), _t(3, 4)),
     lambda x, y: (x[None] * 2)[:, :, None] + y[:, None]),
    (pairwise, lambda: (_t(5), _t(6)), lambda x, y: _np_sigmoid(x[:, None] - y[None])),
]


@pytest.mark.parametrize("f,make,ref", CASES, ids=[c[0].__name__ for c in CASES])
def test_unsqueezes_fuse_with_their_readers(f, make, ref):
    args = make()
    s, out = _run(f, *args)
    _same(out, ref(*[a.numpy() for a in args]))
    g = s.graph_for(*args)
    assert _groups(g) == 1 and _outside(g) == 0, g


def test_bool_mask_unsqueeze_compare():
    x = torch.from_numpy(_R.random(4) > 0.5)
    s, out = _run(mask_eq, x)
    assert out.dtype is torch.bool and tuple(out.shape) == (4, 1)
    np.testing.assert_array_equal(out.numpy(), (x.numpy() == 0)[:, None])
    assert _outside(s.graph_for(x)) == 0


def test_strict_fusion_region_with_an_unsqueeze_passes():
    @torch.jit.script
    def f(x, y):
        with torch.jit.strict_fusion():
            return x.unsqueeze(0) * y + 1
    x, y = _t(4), _t(3, 4)
    for _ in range(3):
        out = f(x, y)
    np.testing.assert_allclose(out.numpy(), x.numpy()[None] * y.numpy() + 1, rtol=1e-6)


def test_new_shapes_layouts_and_sizes_after_the_first():
    s = torch.jit.script(outer_scale)
    cases = [(_t(3), _t(3, 4)), (_t(5), _t(5, 7)), (_t(1), _t(1, 3)), (_t(0), _t(0, 3)),
             (_t(6)[::2], _t(4, 3).t()), (_t(3), _t(3, 1)), (_t(3), _t(1)),
             (_t(3, dtype=np.float64), _t(3, 4)), (_t(3).half(), _t(3, 2).half())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fusers.FusionWarning)    # (the budget is spent)
        for x, y in cases:
            for _ in range(2):
                out = s(x, y)
            want = x.numpy()[:, None] * y.numpy() + 1
            assert out.dtype == torch.promote_types(x.dtype, y.dtype)
            # (atol: x * y + 1 cancels to near 0 for some draws; the kernel contracts to an
            # FMA, eager rounds the product first)
            tol = 2e-3 if x.dtype is torch.float16 else 1e-6
            np.testing.assert_allclose(out.numpy(), want, rtol=tol, atol=tol)


def test_input_of_another_rank_gets_the_right_answer():
    s = torch.jit.script(outer_scale)
    for _ in range(2):
        s(_t(3), _t(3, 4))
    x, y = _t(2, 3), _t(2, 4, 3)      # rank 2: x.unsqueeze(1) is [2, 1, 3]
    out = s(x, y)
    np.testing.assert_allclose(out.numpy(), x.numpy()[:, None] * y.numpy() + 1, rtol=1e-6)


def test_zero_dim_operand_keeps_promoting_as_a_number():
    def f(x, t):
        return (x * t).unsqueeze(-1) + 1
    x, t = _t(3).half(), torch.tensor(2.5)
    s, out = _run(f, x, t)
    assert out.dtype is torch.float16 and tuple(out.shape) == (3, 1)
    np.testing.assert_allclose(out.numpy(), (x.numpy() * np.float16(2.5))[:, None] + 1,
                               rtol=2e-3)


def test_an_unsqueeze_read_outside_the_group_too_stays_a_view():
    def f(x, y):
        a = x.unsqueeze(0)
        return a * y, a
    x, y = _t(4), _t(3, 4)
    s, (p, a) = _run(f, x, y)
    np.testing.assert_allclose(p.numpy(), x.numpy()[None] * y.numpy(), rtol=1e-6)
    a.add_(1)                          # a view of x, as eager returns it
    np.testing.assert_allclose(x.numpy(), a.numpy()[0])


def test_an_unsqueeze_written_in_place_is_not_fused():
    def f(x, y):
        a = x.unsqueeze(0)
        a.mul_(2)
        return a * y
    x, y = _t(4), _t(3, 4)
    x0 = x.numpy().copy()
    s = torch.jit.script(f)
    out = s(x.clone(), y)
    for _ in range(2):
        xx = torch.from_numpy(x0.copy())
        out = s(xx, y)
        np.testing.assert_allclose(xx.numpy(), x0 * 2)     # the write reached x
    np.testing.assert_allclose(out.numpy(), (x0 * 2)[None] * y.numpy(), rtol=1e-6)


def test_gradients_through_a_fused_unsqueeze():
    def f(b, d):
        return (b + d.unsqueeze(1) * 42.0) / 42.0
    s = torch.jit.script(f)
    B, D = _R.standard_normal((5, 6)), _R.standard_normal(5)
    for _ in range(3):
        b = torch.tensor(B, requires_grad=True)
        d = torch.tensor(D, requires_grad=True)
        out = s(b, d)
        (out * out).sum().backward()
        o = (B + D[:, None] * 42.0) / 42.0
        np.testing.assert_allclose(out.detach().numpy(), o, rtol=1e-12)
        np.testing.assert_allclose(b.grad.numpy(), 2 * o / 42.0, rtol=1e-12)
        np.testing.assert_allclose(d.grad.numpy(), (2 * o).sum(1), rtol=1e-12)


def test_traced_unsqueezes_fuse():
    def us(x, y):
        return torch.unsqueeze(x, 0) + torch.unsqueeze(y, 0)
    a, b = _t(8, 8), _t(8, 8)
    t = torch.jit.trace(us, (a, b))
    for _ in range(3):
        out = t(a, b)
    np.testing.assert_allclose(out.numpy(), (a.numpy() + b.numpy())[None], rtol=1e-6)
    g = t.graph_for(a, b)
    assert _groups(g) == 1 and _outside(g) == 0, g


def test_dynamic_strategy():
    old = torch.jit.set_fusion_strategy([("DYNAMIC", 4)])
    try:
        s = torch.jit.script(pairwise)
        for n, m in ((3, 4), (5, 2), (1, 7), (6, 1)):
            x, y = _t(n), _t(m)
            for _ in range(2):
                out = s(x, y)
            np.testing.assert_allclose(out.numpy(),
                                       _np_sigmoid(x.numpy()[:, None] - y.numpy()[None]),
                                       rtol=1e-6)
        assert _outside(s.graph_for(x, y)) == 0
    finally:
        torch.jit.set_fusion_strategy(old)


def test_specialization_labels_give_the_kernels_sizes():
    # the label names the sizes the kernel runs over (x: [3] read as [3, 1]), not the
    # group's own arguments aligned right (that gave STATIC(3x*) for a 3x4 kernel)
    from gpujit import kernels

    def labelled(x, y):
        return x.unsqueeze(1) * y + 1
    t = torch.jit.trace(labelled, (_t(3), _t(3, 4)))
    for n, m in ((3, 4), (5, 7), (6, 2)):
        x, y = _t(n), _t(n, m)
        for _ in range(3):
            out = t(x, y)
        _same(out, x.numpy()[:, None] * y.numpy() + 1)
    assert kernels.cache_info().specializations["labelled"] == [
        "STATIC(3x4)", "STATIC(5x7)", "DYNAMIC(*x*)"]


SIM_SCRIPT = r"""
import test_fusion_unsqueeze as U
for f, make, ref in U.CASES:
    for static in (True, False):
        old = torch.jit.set_fusion_strategy([("STATIC" if static else "DYNAMIC", 2)])
        try:
            args = make()
            s = torch.jit.script(f)
            for _ in range(3):
                out = s(*args)
            U._same(out, ref(*[a.numpy() for a in args]))
        finally:
            torch.jit.set_fusion_strategy(old)
assert SIM_KERNELS, "no group ran on the simulated CUDA target"
print("unsqueeze on the simulator:", len(SIM_KERNELS), "kernels")
"""


@pytest.mark.sim
def test_unsqueezes_on_the_simulated_cuda_target():
    from test_fusion_sim_fuzz import PRELUDE, run_sim
    from test_kernels import session_cache_dir
    code = PRELUDE.format(tests=os.path.dirname(__file__)) + SIM_SCRIPT
    out = run_sim(code, session_cache_dir())
    assert "unsqueeze on the simulator" in out


@pytest.mark.cuda
def test_unsqueezes_fused_on_cuda_match_cpu():
    for f, make, ref in CASES:
        args = make()
        s = torch.jit.script(f)
        dev = [a.cuda() for a in args]
        for _ in range(3):
            out = s(*dev)
        outs = out if isinstance(out, tuple) else (out,)
        want = ref(*[a.numpy() for a in args])
        for o, w in zip(outs, want if isinstance(want, tuple) else (want,)):
            assert o.device.type == "cuda"
            np.testing.assert_allclose(o.cpu().numpy(), w, rtol=1e-5, atol=1e-6)
        assert _outside(s.graph_for(*dev)) == 0


def test_an_input_read_only_through_unsqueezes_and_numbers():
    # (found by the fuzz with unsqueezes: the kernel's arguments then start with the
    # number, and the guard read the contiguity of that number instead of the input's)
    def f(x0, s: float):
        return torch.unsqueeze(x0, 0) * s
    s = torch.jit.script(f)
    for x in (torch.tensor(1.5), torch.tensor(2.5, dtype=torch.float64), _t(3), _t(4, 2).t()):
        for _ in range(2):
            out = s(x, 0.5)
        assert tuple(out.shape) == (1,) + tuple(x.shape) and out.dtype == x.dtype
        np.testing.assert_allclose(out.numpy(), x.numpy()[None] * 0.5)
