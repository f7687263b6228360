"""torch.autograd.forward_ad (session 43): dual tensors, tangents of common ops checked
against central finite differences (and against PyTorch when it is importable), in-place
updates of tangents, non-differentiable outputs, custom Function.jvp, scripted functions,
errors with PyTorch's classes and words."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as gj
import gpujit.autograd.forward_ad as fwAD
from gpujit.ops import registry as _reg

F = gj.nn.functional


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _x():
    return (gj.arange(24, dtype=gj.float64).reshape(2, 3, 4) / 10 - 1.05)


def _t():
    return gj.arange(24, dtype=gj.float64).reshape(2, 3, 4).cos()


def _fd(f, x, t, eps=1e-6):
    """Central difference of f at x along t (f returns one tensor)."""
    return (f(x + eps * t) - f(x - eps * t)) / (2 * eps)


# (name, f); f takes the (2, 3, 4) float64 input
OPS = [
    ("sin_mul", lambda a: a.sin() * a),
    ("exp_sum", lambda a: a.exp().sum()),
    ("matmul", lambda a: a @ gj.arange(20, dtype=gj.float64).reshape(4, 5).cos()),
    ("softmax", lambda a: gj.softmax(a, -1)),
    ("log_softmax", lambda a: a.log_softmax(1)),
    ("layer_norm", lambda a: F.layer_norm(a, (4,))),
    ("batch_norm", lambda a: F.batch_norm(a, None, None, training=True)),
    ("conv1d", lambda a: F.conv1d(a, gj.arange(12, dtype=gj.float64).reshape(2, 3, 2).sin())),
    ("linear", lambda a: F.linear(a, gj.ones(5, 4, dtype=gj.float64), gj.ones(5, dtype=gj.float64))),
    ("amax", lambda a: a.amax(1)),
    ("var", lambda a: a.var(1)),
    ("cumsum", lambda a: a.cumsum(2)),
    ("logcumsumexp", lambda a: a.logcumsumexp(1)),      # (a forward formula: see ops)
    ("tanh_pow", lambda a: a.tanh() ** 3),
    ("div", lambda a: 1 / (a + 3)),
    ("gelu", lambda a: F.gelu(a)),
    ("mse", lambda a: F.mse_loss(a, gj.zeros(2, 3, 4, dtype=gj.float64))),
    ("cat", lambda a: gj.cat([a, a * 2], 1)),
    ("where", lambda a: gj.where(a > 0, a * a, -a)),
    ("gather", lambda a: a.gather(2, gj.tensor([[[1, 0]] * 3] * 2))),
    ("transpose_contiguous", lambda a: a.transpose(0, 2).contiguous() * 1),
    ("einsum", lambda a: gj.einsum("ijk,ijk->i", a, a)),
    ("inv", lambda a: gj.linalg.inv(a[0, :, :3] + 3 * gj.eye(3, dtype=gj.float64))),
]


@pytest.mark.parametrize("name,f", OPS, ids=[n for n, _ in OPS])
def test_tangent_matches_finite_differences(name, f):
    x, t = _x(), _t()
    with fwAD.dual_level():
        out = f(fwAD.make_dual(x, t))
        primal, tangent = fwAD.unpack_dual(out)
    expected = _fd(f, x, t)
    assert tangent is not None and tangent.dtype == gj.float64
    assert tuple(tangent.shape) == tuple(primal.shape)
    np.testing.assert_allclose(primal.numpy(), f(x).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,f", OPS, ids=[n for n, _ in OPS])
def test_tangent_matches_torch(name, f):
    torch = pytest.importorskip("torch")
    x, t = _x(), _t()
    with fwAD.dual_level():
        got = fwAD.unpack_dual(f(fwAD.make_dual(x, t))).tangent
    # the same program with torch: the module's gj and F stand for torch's while it runs
    g = f.__globals__
    old = g["gj"], g["F"]
    g["gj"], g["F"] = torch, torch.nn.functional
    try:
        with torch.autograd.forward_ad.dual_level():
            tx, tt = torch.tensor(x.numpy()), torch.tensor(t.numpy())
            ref = torch.autograd.forward_ad.unpack_dual(
                f(torch.autograd.forward_ad.make_dual(tx, tt))).tangent
    finally:
        g["gj"], g["F"] = old
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


def test_make_dual_unpack_dual_basics():
    x, t = _x(), _t()
    assert fwAD.unpack_dual(x) == (x, None)
    assert _reg.dispatch_state.forward_ad is None
    with fwAD.dual_level() as level:
        assert level == 0
        assert _reg.dispatch_state.forward_ad is not None
        d = fwAD.make_dual(x, t)
        assert d._base is x and not d.requires_grad and d.grad_fn is None
        u = fwAD.unpack_dual(d)
        assert type(u).__name__ == "UnpackedDualTensor"
        assert u.tangent is t                      # as it is (same layout)
        assert u.primal._base is x
        assert fwAD.unpack_dual(u.primal).tangent is None
        assert fwAD.unpack_dual(d.detach()).tangent is None
        assert fwAD.unpack_dual(x * 3).tangent is None
        keep = d * 2
        assert "tangent=tensor(" in repr(keep)
    assert fwAD.unpack_dual(keep).tangent is None  # deleted with the level
    assert "tangent" not in repr(keep)
    assert _reg.dispatch_state.forward_ad is None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(keep).tangent is None


def test_errors_as_torch():
    x, t = _x(), _t()
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(x, t)
    with pytest.raises(RuntimeError, match="^Dual level must be a positive number.$"):
        fwAD.exit_dual_level()
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="^Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(ValueError, match="Expected primal to be floating point or "
                                             "complex, but got: .*int64"):
            fwAD.make_dual(gj.arange(3), t[0, 0, :3])
        with pytest.raises(ValueError, match="Expected tangent to be floating point"):
            fwAD.make_dual(x, gj.ones(2, 3, 4, dtype=gj.int64))
        with pytest.raises(RuntimeError, match=r"different size than that of the original "
                                               r"Tensor.*size \[2, 3, 4\] while the given "
                                               r"forward gradient is of size \[3\]"):
            fwAD.make_dual(x, gj.ones(3, dtype=gj.float64))
        d = fwAD.make_dual(x, t)
        with pytest.raises(RuntimeError, match="already has a forward gradient at the same "
                                               "level 0 is not supported"):
            fwAD.make_dual(d, t)
    torch = _torch()
    if torch is not None:
        with pytest.raises(RuntimeError, match="^Nested forward mode AD"):
            with torch.autograd.forward_ad.dual_level():
                torch.autograd.forward_ad.enter_dual_level()


def test_non_differentiable_outputs_have_no_tangent():
    x, t = _x(), _t()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        assert fwAD.unpack_dual(d.argmax()).tangent is None
        assert fwAD.unpack_dual(d > 0).tangent is None
        assert fwAD.unpack_dual(gj.zeros_like(d)).tangent is None
        # an output that does not depend on the dual input through a derivative: zeros
        w = fwAD.unpack_dual(gj.where(x > 0, d, x)).tangent
        np.testing.assert_array_equal(w.numpy(), np.where(x.numpy() > 0, t.numpy(), 0))
        # float32 from float64: the tangent is cast as the primal
        f = fwAD.unpack_dual(d.float()).tangent
        assert f.dtype == gj.float32
        np.testing.assert_allclose(f.numpy(), t.numpy().astype(np.float32))


def test_no_grad_and_reverse_mode_together():
    x, t = _x(), _t()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        with gj.no_grad():
            got = fwAD.unpack_dual(d * d).tangent
        np.testing.assert_allclose(got.numpy(), 2 * x.numpy() * t.numpy())
        w = gj.ones(4, dtype=gj.float64, requires_grad=True)
        out = (d * w).sum()
        assert out.requires_grad
        # (w requires grad: the tangent is differentiable, as PyTorch's)
        assert fwAD.unpack_dual(out).tangent.requires_grad
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.item(), t.sum().item())
        (g,) = gj.autograd.grad(out, w)
        np.testing.assert_allclose(g.numpy(), x.numpy().sum((0, 1)))


def test_in_place_updates_the_tangent_in_place():
    x = gj.tensor([-1.0, 0.5, 2.0], dtype=gj.float64)
    t = gj.tensor([1.0, 2.0, 3.0], dtype=gj.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x.clone(), t)
        d += 1
        d.relu_()
        assert fwAD.unpack_dual(d).tangent is t         # updated in place, as PyTorch's
        np.testing.assert_array_equal(t.numpy(), [0.0, 2.0, 3.0])
        d.mul_(3)
        np.testing.assert_array_equal(t.numpy(), [0.0, 6.0, 9.0])
        # a view written without a tangent of its own: its base gets a zero tangent
        g = gj.zeros(3, dtype=gj.float64)
        g[1:] = d[1:] * 2
        np.testing.assert_array_equal(fwAD.unpack_dual(g).tangent.numpy(), [0.0, 12.0, 18.0])
        h = gj.zeros(3, dtype=gj.float64)
        h.copy_(d)
        np.testing.assert_array_equal(fwAD.unpack_dual(h).tangent.numpy(), [0.0, 6.0, 9.0])
        e = x.clone()
        de = fwAD.make_dual(e, gj.ones(3, dtype=gj.float64))
        de[0] = 7.0
        np.testing.assert_array_equal(fwAD.unpack_dual(de).tangent.numpy(), [0.0, 1.0, 1.0])
        assert fwAD.unpack_dual(e).tangent is None       # (as PyTorch: make_dual's base)
    torch = _torch()
    if torch is not None:
        with torch.autograd.forward_ad.dual_level():
            tt = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
            td = torch.autograd.forward_ad.make_dual(
                torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64), tt)
            td += 1
            td.relu_()
            td.mul_(3)
            assert tt.tolist() == [0.0, 6.0, 9.0]
            tg = torch.zeros(3, dtype=torch.float64)
            tg[1:] = td[1:] * 2
            assert torch.autograd.forward_ad.unpack_dual(tg).tangent.tolist() == \
                [0.0, 12.0, 18.0]


def test_view_tangent_is_a_view_of_the_tangent():
    x, t = _x(), _t()
    with fwAD.dual_level():
        d = fwAD.make_dual(x.clone(), t)
        v = d[1]
        vt = fwAD.unpack_dual(v).tangent
        np.testing.assert_array_equal(vt.numpy(), t[1].numpy())
        d.mul_(2)                   # the view's tangent follows, as its primal does
        np.testing.assert_array_equal(vt.numpy(), t[1].numpy())
        np.testing.assert_array_equal(fwAD.unpack_dual(d).tangent.numpy(),
                                      2 * _t().numpy())
        parts = [fwAD.unpack_dual(p).tangent for p in d.unbind(1)]
        np.testing.assert_array_equal(parts[2].numpy(), 2 * _t().numpy()[:, 2])


def test_dropout_tangent_uses_the_primal_mask():
    x, t = _x(), _t()
    gj.manual_seed(3)
    with fwAD.dual_level():
        out = F.dropout(fwAD.make_dual(x, t), 0.5)
        primal, tangent = fwAD.unpack_dual(out)
    scale = primal.numpy() / x.numpy()
    assert set(np.round(np.unique(scale), 12)) <= {0.0, 2.0}
    np.testing.assert_allclose(tangent.numpy(), scale * t.numpy())
    gj.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), primal.numpy())


class _Square(gj.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 2 * a * g


class _SquareJvp(gj.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_forward(a)
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 2 * a * g

    @staticmethod
    def jvp(ctx, ta):
        (a,) = ctx.saved_tensors
        return 3 * a * ta          # (not the derivative: shows that jvp is what is used)


def test_custom_function_jvp():
    x, t = _x(), _t()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        with pytest.raises(NotImplementedError, match="You must implement the jvp function "
                                                      "for custom autograd.Function to use "
                                                      "it with forward mode AD."):
            _Square.apply(d)
        got = fwAD.unpack_dual(_SquareJvp.apply(d)).tangent
        np.testing.assert_allclose(got.numpy(), 3 * x.numpy() * t.numpy())
        # no dual input: jvp is not called
        assert fwAD.unpack_dual(_Square.apply(x)).tangent is None
    xr = x.clone().requires_grad_()
    _SquareJvp.apply(xr).sum().backward()
    np.testing.assert_allclose(xr.grad.numpy(), 2 * x.numpy())


def test_scripted_function_and_module():
    x, t = _x(), _t()

    def f(a):
        return a.sin() * 2 + a

    sf = gj.jit.script(f)
    sf(x)
    sf(x)
    lin = gj.nn.Linear(4, 2).double()
    sm = gj.jit.script(lin)
    with fwAD.dual_level():
        got = fwAD.unpack_dual(sf(fwAD.make_dual(x, t))).tangent
        np.testing.assert_allclose(got.numpy(), 2 * np.cos(x.numpy()) * t.numpy() + t.numpy())
        got = fwAD.unpack_dual(sm(fwAD.make_dual(x, t))).tangent.detach()
        np.testing.assert_allclose(got.numpy(), t.numpy() @ lin.weight.detach().numpy().T)


def test_dual_level_decorator_and_explicit_levels():
    x, t = _x(), _t()

    @fwAD.dual_level()
    def jvp_of_exp(a, v):
        return fwAD.unpack_dual(fwAD.make_dual(a, v).exp()).tangent

    np.testing.assert_allclose(jvp_of_exp(x, t).numpy(), np.exp(x.numpy()) * t.numpy())
    assert _reg.dispatch_state.forward_ad is None
    level = fwAD.enter_dual_level()
    try:
        d = fwAD.make_dual(x, t, level=level)
        assert fwAD.unpack_dual(d, level=level).tangent is t
    finally:
        fwAD.exit_dual_level(level=level)
    assert fwAD.unpack_dual(d).tangent is None


def test_tangents_are_not_aliased_and_in_place_ops_without_derivative():
    x = gj.tensor([0.5, -1.0, 2.0], dtype=gj.float64)
    t = gj.tensor([1.0, 2.0, 3.0], dtype=gj.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        c = d.clone()
        ct = fwAD.unpack_dual(c).tangent
        assert ct is not t
        c.mul_(2)                   # (clone's tangent is its own: t is left alone)
        assert t.tolist() == [1.0, 2.0, 3.0] and ct.tolist() == [2.0, 4.0, 6.0]
        e = d.clone()
        e.uniform_()
        assert fwAD.unpack_dual(e).tangent.tolist() == [0.0, 0.0, 0.0]
        e = d.clone()
        e.fill_(2.0)
        assert fwAD.unpack_dual(e).tangent.tolist() == [0.0, 0.0, 0.0]
        e = d.clone()
        e.detach_()
        assert fwAD.unpack_dual(e).tangent is None
        with pytest.raises(NotImplementedError, match="^Trying to use forward AD with "
                                                      "sin_out that does not support it "
                                                      "because it is an out= function$"):
            gj.sin(d, out=gj.zeros(3, dtype=gj.float64))
    torch = _torch()
    if torch is not None:
        with torch.autograd.forward_ad.dual_level():
            td = torch.autograd.forward_ad.make_dual(torch.ones(3, dtype=torch.float64),
                                                     torch.ones(3, dtype=torch.float64))
            with pytest.raises(NotImplementedError, match="sin_out that does not support"):
                torch.sin(td, out=torch.zeros(3, dtype=torch.float64))
            e = td.clone()
            e.detach_()
            assert torch.autograd.forward_ad.unpack_dual(e).tangent is None


class _ExpJvp(gj.autograd.Function):
    """The forward-mode AD tutorial's Function: jvp reads what forward kept on ctx."""

    @staticmethod
    def forward(ctx, foo):
        result = gj.exp(foo)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, g_in):
        g_out = g_in * ctx.result
        del ctx.result
        return g_out


class _WrongJvp(gj.autograd.Function):
    @staticmethod
    def forward(ctx, foo):
        return foo * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2

    @staticmethod
    def jvp(ctx, g):
        return g * 3


def test_forward_ad_tutorial_programs():
    gj.manual_seed(0)
    model = gj.nn.Linear(5, 5).double()
    inp = gj.arange(80, dtype=gj.float64).reshape(16, 5).sin()
    w, b = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
    expected = inp.numpy() @ (0.5 * np.ones_like(w)).T + 0.5 * np.ones_like(b)
    params = {name: p for name, p in model.named_parameters()}
    tangents = {name: gj.ones_like(p) * 0.5 for name, p in params.items()}
    with fwAD.dual_level():
        dual = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
        out = gj.func.functional_call(model, dual, inp)
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(), expected)
        assert out.requires_grad      # (the parameters require grad: reverse mode too)
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fwAD.make_dual(p, tangents[name]))
        out = model(inp)
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(), expected)
    primal = gj.arange(10, dtype=gj.float64) / 10
    with fwAD.dual_level():
        d = fwAD.make_dual(primal, gj.ones(10, dtype=gj.float64))
        got = fwAD.unpack_dual(_ExpJvp.apply(d)).tangent
    np.testing.assert_allclose(got.numpy(), np.exp(primal.numpy()))


def test_gradcheck_check_forward_ad():
    x = (gj.arange(10, dtype=gj.float64) / 10).requires_grad_()
    assert gj.autograd.gradcheck(_ExpJvp.apply, (x,), check_forward_ad=True,
                                 check_backward_ad=False, check_undefined_grad=False,
                                 check_batched_grad=False)
    assert gj.autograd.gradcheck(gj.sin, (x,), check_forward_ad=True)
    # a jvp that is not the derivative: found, with PyTorch's words
    assert not gj.autograd.gradcheck(_WrongJvp.apply, (x,), check_forward_ad=True,
                                     raise_exception=False)
    with pytest.raises(gj.autograd.GradcheckError,
                       match="^Jacobian computed with forward mode mismatch for output 0 "
                             "with respect to input 0,\nnumerical:"):
        gj.autograd.gradcheck(_WrongJvp.apply, (x,), check_forward_ad=True)
    # (its backward is right: reverse mode alone passes)
    assert gj.autograd.gradcheck(_WrongJvp.apply, (x,))


# ------------------------------------------------------------------ vmap's refusals

_ITEM = r"^vmap: It looks like you're calling \.item\(\) on a Tensor\. We don't support vmap"
_FLOW = r"^vmap: It looks like you're attempting to use a Tensor in some data-dependent"
_INPLACE = (r"^vmap: inplace arithmetic\(self, \*extra_args\) is not possible because there "
            r"exists a Tensor `other` in extra_args that has more elements than `self`")


def _vmap_cases(lib):
    x = lib.arange(6, dtype=lib.float64).reshape(2, 3)
    c = lib.zeros(3, dtype=lib.float64)

    def copy_into(a):
        c.copy_(a)
        return a

    def mul_into(a):
        c.mul_(a)
        return a

    def setitem(a):
        c[0] = a[0]
        return a

    return x, [
        ("item", lambda: lib.vmap(lambda a: a.sum().item())(x), _ITEM),
        ("float", lambda: lib.vmap(lambda a: a * float(a.sum()))(x), _ITEM),
        ("bool", lambda: lib.vmap(lambda a: a if a.sum() > 0 else -a)(x), _FLOW),
        ("is_nonzero", lambda: lib.vmap(lambda a: a * a.sum().is_nonzero())(x), _FLOW),
        ("copy_", lambda: lib.vmap(copy_into)(x), _INPLACE),
        ("mul_", lambda: lib.vmap(mul_into)(x), _INPLACE),
        ("setitem", lambda: lib.vmap(setitem)(x), _INPLACE),
        ("nonzero", lambda: lib.vmap(lambda a: a.nonzero())(x),
         r"^vmap: We do not support batching operators that can output dynamic shape\. "
         r"Attempted to vmap over aten::nonzero\."),
        ("masked_select", lambda: lib.vmap(lambda a: a.masked_select(a > 1))(x),
         r"^vmap: Attempted to vmap over `mask` in torch\.masked_select"),
        ("tolist", lambda: lib.vmap(lambda a: a * a.tolist()[0])(x),
         r"^Cannot access data pointer of Tensor that doesn't have storage$"),
        ("out=", lambda: lib.vmap(lambda a: lib.sin(a, out=c))(x),
         r"^Batching rule not implemented for aten::sin\.out; the fallback path doesn't "
         r"work on out= or view ops\.$"),
    ]


@pytest.mark.parametrize("case", range(11))
def test_vmap_refuses_what_a_batched_tensor_refuses(case):
    _, cases = _vmap_cases(gj)
    name, f, pattern = cases[case]
    with pytest.raises(RuntimeError, match=pattern):
        f()
    assert _reg.dispatch_state.vmap is None       # (the layer is gone after the error)
    torch = _torch()
    if torch is not None:
        _, tcases = _vmap_cases(torch)
        with pytest.raises(RuntimeError, match=pattern):
            tcases[case][1]()


def test_vmap_allows_what_is_not_batched():
    x = gj.arange(6, dtype=gj.float64).reshape(2, 3)
    c = gj.ones(3, dtype=gj.float64)
    # .item() / bool() of tensors that do not depend on the mapped input are fine
    out = gj.vmap(lambda a: a * gj.tensor(2.0).item() if gj.tensor(1.0) > 0 else a)(x)
    np.testing.assert_array_equal(out.numpy(), 2 * x.numpy())
    # an in-place write of a batched tensor, and of an unbatched one by unbatched values
    out = gj.vmap(lambda a: a.clone().add_(c))(x)
    np.testing.assert_array_equal(out.numpy(), x.numpy() + 1)
    # batch_norm's running stats (written by the op only in training) in eval mode
    bn = F.batch_norm(x.view(2, 3, 1), gj.zeros(3, dtype=gj.float64),
                      gj.ones(3, dtype=gj.float64))
    out = gj.vmap(lambda a: F.batch_norm(a.view(1, 3, 1), gj.zeros(3, dtype=gj.float64),
                                         gj.ones(3, dtype=gj.float64)))(x)
    np.testing.assert_allclose(out.numpy().reshape(2, 3), bn.numpy().reshape(2, 3))
    # nested: the inner vmap's element depends on the outer one's
    with pytest.raises(RuntimeError, match=_ITEM):
        gj.vmap(gj.vmap(lambda a: a.item()))(x)
    assert gj.vmap(gj.vmap(lambda a: a * gj.tensor(3.0).item()))(x).tolist() == \
        (3 * x).tolist()


def test_vmap_out_dims_none_refuses_a_batched_output():
    x = gj.arange(6, dtype=gj.float64).reshape(2, 3)
    # every element gives the same zeros, but they depend on the mapped input (PyTorch
    # refuses by batchedness, not by value)
    with pytest.raises(ValueError, match="can not return a BatchedTensor when out_dim is None"):
        gj.vmap(lambda a: a * 0, out_dims=None)(x)
    ones = gj.ones(2, dtype=gj.float64)
    a, b = gj.vmap(lambda a: (a, ones * 2), out_dims=(0, None))(x)
    assert a.tolist() == x.tolist() and b.tolist() == [2.0, 2.0]
    torch = _torch()
    if torch is not None:
        with pytest.raises(ValueError, match="can not return a BatchedTensor when out_dim"):
            torch.vmap(lambda a: a * 0, out_dims=None)(torch.ones(2, 3))


# ------------------------------------------------------------------ torch.func details

def test_func_treespec_prints_as_torch():
    import collections
    from gpujit.func._tree import tree_flatten
    P = collections.namedtuple("P", "a b")
    dd = collections.defaultdict(list)
    dd["k"] = 1
    dd["j"] = (2, 3)
    trees = [(1, 2), (1, [2, (3, 4)], {"a": 5, "b": (6,)}), P(1, (2, 3)), dd, [], (1,)]
    expected = [
        "TreeSpec(tuple, None, [*,\n  *])",
        "TreeSpec(tuple, None, [*,\n  TreeSpec(list, None, [*,\n    TreeSpec(tuple, None, "
        "[*,\n      *])]),\n  TreeSpec(dict, ['a', 'b'], [*,\n    TreeSpec(tuple, None, "
        "[*])])])",
        f"TreeSpec(namedtuple, {P}, [*,\n  TreeSpec(tuple, None, [*,\n    *])])",
        "TreeSpec(defaultdict, [<class 'list'>, ['k', 'j']], [*,\n  TreeSpec(tuple, None, "
        "[*,\n    *])])",
        "TreeSpec(list, None, [])",
        "TreeSpec(tuple, None, [*])",
    ]
    assert [repr(tree_flatten(t)[1]) for t in trees] == expected
    torch = _torch()
    if torch is not None:
        from torch.utils._pytree import tree_flatten as ttf
        assert [repr(ttf(t)[1]) for t in trees] == expected
    x = gj.ones(3, dtype=gj.float64)
    with pytest.raises(RuntimeError, match=r"^Expected the tangents TreeSpec\(tuple, None, "
                                           r"\[\*,\n  \*\]\) to have the same argspec as "
                                           r"the primals TreeSpec\(tuple, None, \[\*\]\)$"):
        gj.func.linearize(lambda a: a.sin(), x)[1](x, x)


class _Tied(gj.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = gj.nn.Linear(3, 3, bias=False).double()
        self.b = gj.nn.Linear(3, 3, bias=False).double()
        self.b.weight = self.a.weight

    def forward(self, z):
        return self.b(self.a(z))


def test_functional_call_refuses_different_values_for_tied_weights():
    m = _Tied()
    w = gj.eye(3, dtype=gj.float64) * 2
    y = gj.arange(3, dtype=gj.float64)
    msg = (r"^functional_call got multiple values for keys \['a.weight', 'b.weight'\], "
           r"which are tied. Consider using tie_weights=False$")
    with pytest.raises(ValueError, match=msg):
        gj.func.functional_call(m, {"a.weight": w, "b.weight": w * 3}, (y,))
    # the same tensor for both, or one of them: tied as given
    assert gj.func.functional_call(m, {"a.weight": w, "b.weight": w}, (y,)).tolist() == \
        [0.0, 4.0, 8.0]
    assert gj.func.functional_call(m, {"a.weight": w}, (y,)).tolist() == [0.0, 4.0, 8.0]
    out = gj.func.functional_call(m, {"a.weight": w, "b.weight": w * 3}, (y,),
                                  tie_weights=False)
    assert out.tolist() == [0.0, 12.0, 24.0]
    torch = _torch()
    if torch is not None:
        class TTied(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Linear(3, 3, bias=False).double()
                self.b = torch.nn.Linear(3, 3, bias=False).double()
                self.b.weight = self.a.weight

            def forward(self, z):
                return self.b(self.a(z))

        tw = torch.eye(3, dtype=torch.float64) * 2
        with pytest.raises(ValueError, match=msg):
            torch.func.functional_call(TTied(), {"a.weight": tw, "b.weight": tw * 3},
                                       (torch.arange(3, dtype=torch.float64),))


def test_jvp_and_jacfwd_refuse_integer_primals_and_tangents_as_make_dual():
    y = gj.arange(3, dtype=gj.float64)
    cases = [
        (lambda lib: lib.func.jvp(lambda a: a * 2, (lib.arange(3),), (lib.ones(3),)),
         r"^Expected primal to be floating point or complex, but got: \w+\.int64$"),
        (lambda lib: lib.func.jvp(lambda a: a, (lib.ones(3),), (lib.arange(3),)),
         r"^Expected tangent to be floating point or complex, but got: \w+\.int64$"),
        (lambda lib: lib.func.jacfwd(lambda a: a * 2.0)(lib.arange(3)),
         r"^Expected primal to be floating point or complex, but got: \w+\.int64$"),
    ]
    for f, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            f(gj)
    assert gj.func.jvp(lambda a: a * 2, (y,), (gj.ones(3, dtype=gj.float64),))[1].tolist() \
        == [2.0, 2.0, 2.0]
    torch = _torch()
    if torch is not None:
        for f, pattern in cases:
            with pytest.raises(ValueError, match=pattern):
                f(torch)


def test_forward_ad_computations_are_unseen_by_trace_and_vmap():
    x = gj.arange(4, dtype=gj.float64) / 3

    def f(a):
        return a.sin() * a

    with fwAD.dual_level():
        d = fwAD.make_dual(x, gj.ones(4, dtype=gj.float64))
        traced = gj.jit.trace(f, (d,))
        got = fwAD.unpack_dual(traced(d)).tangent
    # (the trace records the primal's ops only, as PyTorch's)
    assert [n.kind() for n in traced.graph.nodes()] == ["aten::sin", "aten::mul"]
    xn = x.numpy()
    np.testing.assert_allclose(got.numpy(), np.cos(xn) * xn + np.sin(xn))

    def tangent_of_sin(a):
        with fwAD.dual_level():
            dd = fwAD.make_dual(a, gj.ones_like(a))
            out = dd.sin()
            out.mul_(2)             # (an in-place op: its tangent is updated in place)
            return fwAD.unpack_dual(out).tangent

    got = gj.vmap(tangent_of_sin)(x.view(2, 2))
    np.testing.assert_allclose(got.numpy(), 2 * np.cos(xn).reshape(2, 2))


def test_forward_ad_under_autocast_takes_the_cast_tangents():
    a = gj.arange(6, dtype=gj.float32).reshape(2, 3) / 7
    b = gj.arange(12, dtype=gj.float32).reshape(3, 4) / 5
    with fwAD.dual_level():
        d = fwAD.make_dual(a, gj.ones(2, 3))
        with gj.autocast("cpu", dtype=gj.float16):
            primal, tangent = fwAD.unpack_dual(d @ b)
    # (the matmul runs in float16 on float16 casts of both operands and of the tangent)
    assert primal.dtype == gj.float16 and tangent.dtype == gj.float16
    expected = np.ones((2, 3), np.float16) @ b.numpy().astype(np.float16)
    np.testing.assert_allclose(tangent.numpy().astype(np.float32),
                               expected.astype(np.float32), rtol=2e-3)
    torch = _torch()
    if torch is not None:
        with torch.autograd.forward_ad.dual_level():
            td = torch.autograd.forward_ad.make_dual(torch.tensor(a.numpy()), torch.ones(2, 3))
            with torch.autocast("cpu", dtype=torch.float16):
                ref = torch.autograd.forward_ad.unpack_dual(td @ torch.tensor(b.numpy()))
        assert ref.tangent.dtype == torch.float16
        np.testing.assert_array_equal(tangent.numpy(), ref.tangent.numpy())


def test_explicit_levels_as_torch():
    def program(lib, ad):
        x = lib.ones(2)
        out = [ad.unpack_dual(x, level=0).tangent, ad.unpack_dual(x, level=3).tangent]
        for lv in (0, 1):
            try:
                ad.make_dual(x, x, level=lv)
            except RuntimeError as e:
                out.append(str(e))
        with ad.dual_level():
            d = ad.make_dual(x, x * 2, level=0)
            try:
                ad.make_dual(x, x, level=1)
            except RuntimeError as e:
                out.append(str(e))
            try:
                ad.unpack_dual(d, level=1)
            except RuntimeError as e:
                out.append(str(e))
            out.append(ad.unpack_dual(d, level=-1).primal is d)
            out.append(ad.unpack_dual(d, level=0).tangent.tolist())
        return out

    expected = [None, None,
                "Trying to access a forward AD level with an invalid index. This index was "
                "either not created or is already deleted.",
                "Invalid level given to _make_dual", "Invalid level given to _make_dual",
                "Invalid level given to _fw_primal", True, [2.0, 2.0]]
    assert program(gj, fwAD) == expected
    torch = _torch()
    if torch is not None:
        assert program(torch, torch.autograd.forward_ad) == expected


def test_functional_call_sets_a_parametrized_tensor_through_its_parametrization():
    from gpujit.nn.utils import parametrize

    class Scale(gj.nn.Module):
        def forward(self, X):
            return X * 2

        def right_inverse(self, W):
            return W / 2

    class Sym(gj.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

    m = gj.nn.Linear(3, 3, bias=False).double()
    parametrize.register_parametrization(m, "weight", Scale())
    orig = m.parametrizations.weight.original.detach().clone()
    w = gj.arange(9, dtype=gj.float64).reshape(3, 3)
    x = gj.ones(3, dtype=gj.float64)
    # (the value given is the weight the module uses, as PyTorch's: through right_inverse)
    assert gj.func.functional_call(m, {"weight": w}, (x,)).tolist() == [3.0, 12.0, 21.0]
    assert gj.equal(m.parametrizations.weight.original, orig)
    assert gj.func.functional_call(
        m, {"parametrizations.weight.original": w}, (x,)).tolist() == [6.0, 24.0, 42.0]
    m2 = gj.nn.Linear(3, 3, bias=False).double()
    parametrize.register_parametrization(m2, "weight", Sym())
    with pytest.raises(RuntimeError, match="^parametrization Sym does not implement "
                                           "right_inverse.$"):
        gj.func.functional_call(m2, {"weight": w}, (x,))


class _Counter(gj.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("foo", gj.zeros(()))

    def forward(self, x):
        self.foo = self.foo + 1
        return x + self.foo


def test_functional_call_writes_reassigned_buffers_back_into_the_dict():
    mod = _Counter()
    a = {"foo": gj.zeros(())}
    out = gj.func.functional_call(mod, a, gj.ones(()))
    assert out.item() == 2.0 and mod.foo.item() == 0.0
    assert a["foo"].item() == 1.0           # (PyTorch's documented example)
    b = {"foo": gj.zeros(())}
    gj.func.functional_call(mod, (b,), gj.ones(()))
    assert b["foo"].item() == 0.0           # (a tuple of dicts: merged into a new one)
    torch = _torch()
    if torch is not None:
        class Foo(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("foo", torch.zeros(()))

            def forward(self, x):
                self.foo = self.foo + 1
                return x + self.foo

        ta, tb = {"foo": torch.zeros(())}, {"foo": torch.zeros(())}
        torch.func.functional_call(Foo(), ta, torch.ones(()))
        torch.func.functional_call(Foo(), (tb,), torch.ones(()))
        assert (ta["foo"].item(), tb["foo"].item()) == (1.0, 0.0)


def test_forward_over_reverse_gives_hessian_vector_products():
    x = gj.tensor([0.5, 1.0, 2.0], dtype=gj.float64)
    v = gj.tensor([1.0, -0.5, 0.25], dtype=gj.float64)

    def f(a):
        return (a.sin() * a.exp()).sum() + a.exp().sum() + (a * a).prod()

    xn, vn = x.numpy(), v.numpy()
    # hessian: diag(2 e^a cos a + e^a) + the product term's
    p = np.prod(xn ** 2)
    H = np.diag(2 * np.exp(xn) * np.cos(xn) + np.exp(xn))
    H += 4 * p / np.outer(xn, xn) - np.diag(2 * p / xn ** 2)
    expected = H @ vn
    for create_graph in (True, False):
        with fwAD.dual_level():
            w = x.clone().requires_grad_()
            (g,) = gj.autograd.grad(f(fwAD.make_dual(w, v)), w, create_graph=create_graph)
            got = fwAD.unpack_dual(g).tangent.detach()
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    with fwAD.dual_level():
        g = gj.func.grad(f)(fwAD.make_dual(x, v))      # (a transform keeps tangents)
        np.testing.assert_allclose(fwAD.unpack_dual(g).tangent.detach().numpy(), expected,
                                   rtol=1e-10)
    np.testing.assert_allclose(gj.func.hessian(f)(x).numpy(), H, rtol=1e-10)


def test_logcumsumexp_tangent_with_leading_minus_infinities():
    lo = gj.finfo(gj.float64).min
    t = gj.tensor([1.0, 2.0, 3.0], dtype=gj.float64)
    with fwAD.dual_level():
        a = fwAD.unpack_dual(fwAD.make_dual(gj.tensor([lo, lo, -1.0], dtype=gj.float64),
                                            t).logcumsumexp(0)).tangent
        b = fwAD.unpack_dual(fwAD.make_dual(gj.tensor([-np.inf, -1.0, 0.5],
                                                      dtype=gj.float64),
                                            t).logcumsumexp(0)).tangent
    # (nothing summed yet: zero, as PyTorch's; then the softmax-weighted tangents)
    assert a.tolist() == [0.0, 0.0, 3.0]
    w = np.exp([-1.0, 0.5]) / np.exp([-1.0, 0.5]).sum()
    np.testing.assert_allclose(b.numpy(), [0.0, 2.0, w @ [2.0, 3.0]])
    # forward over reverse through logcumsumexp's backward (which makes such entries)
    x = gj.tensor([0.5, -1.0, 2.0], dtype=gj.float64)
    with fwAD.dual_level():
        w_ = x.clone().requires_grad_()
        (g,) = gj.autograd.grad(fwAD.make_dual(w_, gj.tensor([1.0, 0.0, 0.0],
                                                               dtype=gj.float64))
                                .logcumsumexp(0).sum(), w_, create_graph=True)
        got = fwAD.unpack_dual(g).tangent.detach()
    ref = gj.autograd.functional.hessian(lambda a: a.logcumsumexp(0).sum(), x)[0]
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12)


def test_autograd_functional_forward_mode_strategies_use_forward_ad():
    AF = gj.autograd.functional
    x = gj.tensor([0.5, -1.0, 2.0], dtype=gj.float64)
    jac = AF.jacobian(lambda a: a.logcumsumexp(0), x, vectorize=True,
                      strategy="forward-mode")
    xn = x.numpy()
    expected = np.tril(np.exp(xn[None, :] - np.logaddexp.accumulate(xn)[:, None]))
    np.testing.assert_allclose(jac.numpy(), expected, rtol=1e-12)
    hess = AF.hessian(lambda a: a.logcumsumexp(0).sum(), x, vectorize=True,
                      outer_jacobian_strategy="forward-mode")
    assert hess.requires_grad       # (as PyTorch's: its inner jacobian has a graph)
    np.testing.assert_allclose(hess.detach().numpy(),
                               AF.hessian(lambda a: a.logcumsumexp(0).sum(), x).numpy(),
                               rtol=1e-12)
    # a custom Function without jvp cannot be pushed forward, as in PyTorch
    with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
        AF.jacobian(_Square.apply, x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(
        AF.jacobian(_SquareJvp.apply, x, vectorize=True, strategy="forward-mode").numpy(),
        np.diag(3 * xn))
    with pytest.raises(RuntimeError, match='`strict=True` and `strategy="forward-mode"` '
                                           'are not supported together'):
        AF.jacobian(lambda a: a, x, vectorize=True, strategy="forward-mode", strict=True)
    torch = _torch()
    if torch is not None:
        tj = torch.autograd.functional.jacobian(
            lambda a: a.logcumsumexp(0), torch.tensor(xn), vectorize=True,
            strategy="forward-mode")
        np.testing.assert_allclose(jac.numpy(), tj.numpy(), rtol=1e-12)


def test_reverse_over_forward_tangents_are_differentiable():
    def f(a):
        return (a.sin() * a.exp()).sum() + a.logcumsumexp(0).sum() + (a * a).sum()

    x0 = gj.tensor([0.5, 1.0, 2.0], dtype=gj.float64)
    v0 = gj.tensor([1.0, -0.5, 0.25], dtype=gj.float64)
    x, v = x0.clone().requires_grad_(), v0.clone().requires_grad_()
    with fwAD.dual_level():
        t = fwAD.unpack_dual(f(fwAD.make_dual(x, v))).tangent
        assert t.requires_grad
        gx, gv = gj.autograd.grad(t, (x, v))
    # d(J v)/dv = J (the gradient), d(J v)/dx = H v
    # (hvp's double-backward trick is NaN for logcumsumexp, as PyTorch's: the Hessian)
    hv = gj.autograd.functional.hessian(f, x0) @ v0
    xr = x0.clone().requires_grad_()
    (grad_f,) = gj.autograd.grad(f(xr), xr)
    np.testing.assert_allclose(gv.detach().numpy(), grad_f.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.detach().numpy(), hv.numpy(), rtol=1e-10)
    # nothing requires grad: tangents stay plain tensors
    with fwAD.dual_level():
        t = fwAD.unpack_dual(f(fwAD.make_dual(x0, v0))).tangent
        assert not t.requires_grad and t.grad_fn is None
    torch = _torch()
    if torch is not None:
        tx = torch.tensor(x0.numpy(), requires_grad=True)
        tv = torch.tensor(v0.numpy(), requires_grad=True)
        with torch.autograd.forward_ad.dual_level():
            d = torch.autograd.forward_ad.make_dual(tx, tv)
            tt = torch.autograd.forward_ad.unpack_dual((d.sin() * d).sum()).tangent
            rx, rv = torch.autograd.grad(tt, (tx, tv))
        x2, v2 = x0.clone().requires_grad_(), v0.clone().requires_grad_()
        with fwAD.dual_level():
            d = fwAD.make_dual(x2, v2)
            gt = fwAD.unpack_dual((d.sin() * d).sum()).tangent
            qx, qv = gj.autograd.grad(gt, (x2, v2))
        np.testing.assert_allclose(qx.detach().numpy(), rx.numpy(), rtol=1e-12)
        np.testing.assert_allclose(qv.detach().numpy(), rv.numpy(), rtol=1e-12)


def test_in_place_tangents_of_tensors_that_require_grad():
    x = gj.tensor([0.5, 1.0, 2.0], dtype=gj.float64, requires_grad=True)
    v = gj.tensor([1.0, 2.0, 3.0], dtype=gj.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v) * 1
        d.mul_(d.detach() + 1)          # (the factor is detached: no tangent of its own)
        d.sin_()
        t = fwAD.unpack_dual(d).tangent
    xn, vn = x.detach().numpy(), v.numpy()
    np.testing.assert_allclose(t.detach().numpy(),
                               np.cos(xn * (xn + 1)) * (xn + 1) * vn, rtol=1e-12)
    assert t.requires_grad      # (its gradient: refused, the tangent was written in
    # place after being saved, as PyTorch refuses such graphs)


def test_vmap_randomness_refusals_as_torch():
    def cases(lib):
        x = lib.zeros(3, 16)
        return [
            ("same", lambda a: lib.bernoulli(a + 0.5), "same randomness with a batched"),
            ("same", lambda a: lib.multinomial(a + 1, 2), "same randomness with a batched"),
            ("different", lambda a: a + lib.zeros(16).uniform_(), "different inplace "
                                                                 "randomness on an unbatched"),
            ("different", lambda a: a * lib.empty(16).normal_(), "different inplace "
                                                                 "randomness on an unbatched"),
        ], x

    for lib in [gj] + ([_torch()] if _torch() is not None else []):
        refused, x = cases(lib)
        for mode, f, words in refused:
            with pytest.raises(RuntimeError, match=words):
                lib.vmap(f, randomness=mode)(x)
        # allowed: in-place draws into batched tensors, *_like factories, unbatched draws
        # under 'same' (one draw for every element) and dropout either way
        r = lib.vmap(lambda a: a.clone().uniform_(), randomness="same")(x)
        assert bool((r[0] == r[1]).all())
        r = lib.vmap(lambda a: a.clone().uniform_(), randomness="different")(x)
        assert not bool((r[0] == r[1]).all())
        r = lib.vmap(lambda a: a + lib.zeros(16).uniform_(), randomness="same")(x)
        assert bool((r[0] == r[2]).all())
        r = lib.vmap(lambda a: lib.randn_like(a), randomness="same")(x)
        assert bool((r[0] == r[1]).all())
        r = lib.vmap(lambda a: lib.nn.functional.dropout(a + 1, 0.5),
                     randomness="different")(x)
        assert not bool((r[0] == r[1]).all())


def test_vmap_in_place_refusal_words_follow_the_op():
    def refusals(lib):
        x = lib.arange(6.0).reshape(2, 3)
        out = []
        for f in (lambda c, a: c.add_(a), lambda c, a: c.pow_(a), lambda c, a: c.fill_(a[0]),
                  lambda c, a: c.div_(a + 1)):
            c = lib.zeros(3)
            try:
                lib.vmap(lambda a: f(c, a))(x)
            except RuntimeError as e:
                out.append(str(e))
        return out

    got = refusals(gj)
    assert got[0] == "output with shape [3] doesn't match the broadcast shape [2, 3]"
    assert got[1].startswith("vmap: aten::pow_(self, *extra_args) is not possible") and \
        "not being vmapped over at level 1. Please try to use out-of-place operators " \
        "instead of aten::pow_." in got[1]
    assert got[2].startswith("vmap: fill_(self, *extra_args) is not possible")
    assert got[3].startswith("vmap: inplace arithmetic(self, *extra_args)")
    torch = _torch()
    if torch is not None:
        assert refusals(torch) == got


def _square_functions(lib):
    class Old(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    class New(lib.autograd.Function):
        @staticmethod
        def forward(a):
            return a * a

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    class Gen(New):
        generate_vmap_rule = True

    return Old, New, Gen


def test_custom_functions_under_torch_func_transforms():
    def program(lib):
        Old, New, Gen = _square_functions(lib)
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
        runs = {
            "grad": lambda f: lib.func.grad(lambda a: f(a).sum())(x),
            "vmap": lambda f: lib.func.vmap(f)(x.view(3, 1)),
            "jacrev": lambda f: lib.func.jacrev(f)(x),
            "jvp": lambda f: lib.func.jvp(f, (x,), (x,))[1],
        }
        out = {}
        for name, cls in (("old", Old), ("new", New), ("gen", Gen)):
            for tname, run in runs.items():
                try:
                    out[name, tname] = run(cls.apply).tolist()
                except (RuntimeError, NotImplementedError) as e:
                    out[name, tname] = (type(e).__name__, str(e)[:60])
        return out

    got = program(gj)
    setup = ("RuntimeError", "In order to use an autograd.Function with functorch "
                             "transforms (vmap, grad, jvp, jacrev, ...), it must override "
                             "the setup_context staticmethod."[:60])
    assert all(got["old", t] == setup for t in ("grad", "vmap", "jacrev", "jvp"))
    assert got["new", "grad"] == [2.0, 4.0, 6.0]
    assert got["new", "vmap"] == ("RuntimeError", "You tried to vmap over New, but it does "
                                                  "not have vmap support. Please override"[:60])
    assert got["gen", "vmap"] == [[1.0], [4.0], [9.0]]
    assert got["new", "jvp"][0] == "NotImplementedError"
    torch = _torch()
    if torch is not None:
        assert program(torch) == got


def test_module_with_backward_hooks_under_transforms():
    def program(lib):
        m = lib.nn.Linear(3, 1)
        m.register_full_backward_hook(lambda mod, gi, go: None)
        out = []
        try:
            lib.func.grad(lambda a: m(a).sum())(lib.ones(3))
        except RuntimeError as e:
            out.append(str(e)[:40])
        out.append(tuple(lib.func.vmap(m)(lib.ones(2, 3)).shape))
        return out

    got = program(gj)
    assert got == ["In order to use an autograd.Function wit", (2, 1)]
    torch = _torch()
    if torch is not None:
        assert program(torch) == got


def test_transforms_differentiate_inside_inference_mode():
    def program(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64)
        f = lambda a: (a ** 3).sum()                       # noqa: E731
        with lib.inference_mode():
            return [lib.func.grad(f)(x).tolist(),
                    lib.func.jacrev(lambda a: a ** 3)(x).tolist(),
                    lib.func.jvp(lambda a: a ** 3, (x,), (lib.ones(2, dtype=lib.float64),))[1]
                    .tolist(),
                    lib.func.hessian(f)(x).tolist()]

    got = program(gj)
    assert got == [[3.0, 12.0], [[3.0, 0.0], [0.0, 12.0]], [3.0, 12.0],
                   [[6.0, 0.0], [0.0, 12.0]]]
    torch = _torch()
    if torch is not None:
        assert program(torch) == got


def test_functional_call_strict_after_tying_and_accessor_errors():
    m = _Tied()
    w = gj.eye(3, dtype=gj.float64) * 2
    y = gj.ones(3, dtype=gj.float64)
    # one name of a tied pair given: the other is filled before strict's key check
    assert gj.func.functional_call(m, {"a.weight": w}, (y,), strict=True).tolist() == \
        [4.0, 4.0, 4.0]
    assert gj.func.functional_call(m, {"b.weight": w}, (y,), strict=True).tolist() == \
        [4.0, 4.0, 4.0]
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'b.weight'."):
        gj.func.functional_call(m, {"a.weight": w}, (y,), strict=True, tie_weights=False)
    with pytest.raises(AttributeError, match="^_Tied has no attribute `c`$"):
        gj.func.functional_call(m, {"c.weight": w}, (y,))
    with pytest.raises(TypeError, match="^3.0 is not an instance of torch.Tensor$"):
        gj.func.functional_call(m, {"a.weight": 3.0}, (y,))
    assert gj.equal(m.a.weight, m.b.weight)         # (restored after each call)
