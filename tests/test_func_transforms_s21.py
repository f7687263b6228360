"""torch.func transforms (session 21): grad, grad_and_value, vjp, jvp, linearize, jacrev,
jacfwd, hessian, vmap, stack_module_state, and torch.utils._pytree, each compared with
PyTorch's torch.func on the same data: values, shapes, dtypes, requires_grad of the
results, and the errors' types and wording. Also their composition: nested transforms,
vmap(grad(f)) per-sample gradients with functional_call (the torch.func tutorial), model
ensembling with stack_module_state, and gpujit.script'd functions called inside.

Deliberate differences, kept (documented in gpujit/func's modules):
- jvp/jacfwd/linearize use the double-vjp trick (no forward-mode AD): exact values, but a
  tangent of another dtype than its primal is cast to the primal's (PyTorch's tangent
  output follows the tangent's dtype).
- vmap runs f once per batch element: f may call `.item()` or branch on data (PyTorch
  refuses); an out_dims=None output is refused only when it differs between elements;
  randomness='different' draws other numbers than PyTorch's batched draw.
- linearize's jvp_fn stays differentiable with respect to tensors f closes over (PyTorch's
  make_fx-traced jvp_fn gives results off any graph).
- A parameter created inside the transformed function (`grad(lambda x: nn.Linear(3, 1)(x)
  .sum())`) leaves the result requiring grad; PyTorch treats it as a constant.
"""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as gj
from gpujit import func as gf
from gpujit.utils import _pytree as gpt

T = pytest.importorskip("torch")
tf = T.func
tpt = T.utils._pytree


def pair(*shape, seed=0, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return T.tensor(a), gj.tensor(a)


def same(ref, got, tol=1e-6):
    """ref (PyTorch's pytree) and got (gpujit's) hold equal leaves in the same structure."""
    lr, sr = tpt.tree_flatten(ref)
    lg, sg = gpt.tree_flatten(got)
    assert len(lr) == len(lg), (sr, sg)
    for a, b in zip(lr, lg):
        if isinstance(a, T.Tensor):
            assert isinstance(b, gj.Tensor), type(b)
            assert tuple(a.shape) == tuple(b.shape)
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
            assert a.requires_grad == b.requires_grad
            np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=tol,
                                       atol=tol)
        else:
            assert a == b


def both(fn, *arrays):
    """fn(lib, func, *tensors) with PyTorch and with gpujit, on the same data."""
    return (fn(T, tf, *[a[0] for a in arrays]), fn(gj, gf, *[a[1] for a in arrays]))


def raises_like(fn):
    """fn(lib, func) raises the same exception type with the same message in both."""
    errs = []
    for lib, fun in ((T, tf), (gj, gf)):
        with pytest.raises(Exception) as ei:
            fn(lib, fun)
        errs.append(ei.value)
    assert type(errs[0]) is type(errs[1]), errs
    msg_t = str(errs[0]).replace("torch.", "gpujit.")
    assert str(errs[1]).startswith(msg_t.split("TreeSpec(")[0]), errs


X, Y = pair(3, 4), pair(4, seed=1)


# ------------------------------------------------------------------ grad

@pytest.mark.parametrize("argnums", [0, 1, -1, (0, 1), (1, 0)])
def test_grad_and_value_argnums(argnums):
    def f(lib, fn, x, y):
        return fn.grad_and_value(lambda x, y: (lib.sin(x) @ y).pow(2).sum(),
                                 argnums=argnums)(x, y)
    same(*both(f, X, Y))


def test_grad_pytree_input_has_aux_and_kwargs():
    def f(lib, fn, x, y):
        def loss(p, scale=1.0):
            out = (lib.tanh(p["w"]) @ p["b"][0]).sum() * scale
            return out, {"out": out * 2, "pair": (p["w"] * 3,)}
        return fn.grad(loss, has_aux=True)({"w": x, "b": [y]}, scale=2.0)
    same(*both(f, X, Y))


@pytest.mark.parametrize("case", [
    lambda lib, fn: fn.grad(lambda a: a.sum(), argnums=(0, 0))(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: a.sum(), argnums=())(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: a.sum(), argnums=1)(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: a.sum(), argnums=-2)(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: a.sum(), argnums=[0])(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: a)(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: 1.0)(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: (a.sum(), a.sum()))(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: a.sum(), has_aux=True)(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: (a.sum(), 1.0), has_aux=True)(lib.ones(3)),
    lambda lib, fn: fn.grad(lambda a: a[0].sum())([lib.ones(3), 1.0]),
])
def test_grad_errors_as_torch(case):
    raises_like(case)


def test_grad_of_int_input_refused():
    for lib, fn in ((T, tf), (gj, gf)):
        with pytest.raises(RuntimeError, match="floating point"):
            fn.grad(lambda a: a.sum())(lib.ones(3, dtype=lib.long))


def test_nested_grad_third_derivative_and_no_grad():
    x = (T.tensor(0.7, dtype=T.float64), gj.tensor(0.7, dtype=gj.float64))

    def f(lib, fn, x):
        g3 = fn.grad(fn.grad(fn.grad(lambda a: lib.sin(a) * a ** 3)))(x)
        with lib.no_grad():                        # the transform ignores the outer no_grad
            g1 = fn.grad(lambda a: lib.exp(a) * a)(x)

        def inner_no_grad(a):                      # and respects the inner one
            with lib.no_grad():
                c = a ** 2
            return a - c
        return g3, g1, fn.grad(inner_no_grad)(x)
    same(*both(f, x))


def test_results_differentiable_only_when_connected_outside():
    for lib, fn in ((T, tf), (gj, gf)):
        x = lib.ones(3, dtype=lib.float64)
        assert not fn.grad(lambda a: (a ** 2).sum())(x).requires_grad
        assert not fn.jacrev(lambda a: a ** 2)(x).requires_grad
    # a closed-over parameter and an input that requires grad stay on the caller's graph
    res = []
    for lib, fn in ((T, tf), (gj, gf)):
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        g = fn.grad(lambda a: (lib.sin(a) * w).sum())(x)
        assert g.requires_grad
        (g * lib.arange(3, dtype=lib.float64)).sum().backward()
        res.append((w.grad.numpy().copy(), x.grad.numpy().copy()))
    np.testing.assert_allclose(res[1][0], res[0][0])
    np.testing.assert_allclose(res[1][1], res[0][1])


def test_nested_levels_results_not_left_on_a_graph():
    """An inner transform's leaves belong to the transforms it runs in: grad over
    vmap(grad(f)) gives a plain tensor, as PyTorch; a vjp_fn used later under another
    transform still differentiates with respect to that transform's input."""
    def f(lib, fn, x, y):
        inner = fn.grad(lambda a, w: (lib.sin(a) * w).sum() ** 2)
        g = fn.grad(lambda w: fn.vmap(inner, in_dims=(0, None))(x, w).sum())(y)
        _, vjp_fn = fn.vjp(lambda a: lib.sin(a) * 2, x[0])
        h = fn.grad(lambda c: (vjp_fn(c)[0] ** 2).sum())(lib.cos(x[1]))
        return g, h, fn.grad(fn.grad(lambda a: lib.sin(a) * a))(y[0])
    same(*both(f, X, Y))


# ------------------------------------------------------------------ vjp / jvp / linearize

def test_vjp_pytree_outputs_and_aux():
    def f(lib, fn, x, y):
        out, vjp_fn, aux = fn.vjp(lambda a, b: ({"p": lib.exp(a) * b, "q": (a.sum(),)},
                                                b * 2), x, y, has_aux=True)
        ct = {"p": lib.ones_like(out["p"]) * 0.5, "q": (lib.tensor(2.0, dtype=x.dtype),)}
        return out, vjp_fn(ct), aux
    same(*both(f, X, Y))


@pytest.mark.parametrize("case", [
    lambda lib, fn: fn.vjp(lambda a: (a, a), lib.ones(3))[1](lib.ones(3)),
    lambda lib, fn: fn.vjp(lambda a: a.long(), lib.ones(3)),
    lambda lib, fn: fn.vjp(lambda a: [], lib.ones(3)),
    lambda lib, fn: fn.vjp(lambda a: a, lib.ones(3), has_aux=True),
    lambda lib, fn: fn.jvp(lambda a: a, lib.ones(3), lib.ones(3)),
    lambda lib, fn: fn.jvp(lambda a: a, (lib.ones(3),), (lib.ones(3), lib.ones(3))),
    lambda lib, fn: fn.jvp(lambda a: a, (lib.ones(3),), (lib.ones(4),)),
    lambda lib, fn: fn.jvp(lambda a: a, (lib.ones(3),), (1.0,)),
    lambda lib, fn: fn.jvp(lambda a: lib.ones(3), (lib.ones(3),), (lib.ones(3),),
                           strict=True),
    lambda lib, fn: fn.jvp(lambda a: 2, (lib.ones(3),), (lib.ones(3),)),
])
def test_vjp_jvp_errors_as_torch(case):
    raises_like(case)


def test_jvp_values_structures_and_independent_outputs():
    def f(lib, fn, x, y):
        return fn.jvp(lambda a, b: ((lib.tanh(a) * b, a.sum()), lib.ones(2), a.long()),
                      (x, y), (lib.cos(x), y * 3))
    same(*both(f, X, Y))

    def g(lib, fn, x, y):
        return fn.jvp(lambda a, b: (a @ b, {"aux": a}), (x, y), (x, y), has_aux=True)
    same(*both(g, X, Y))


def test_linearize_matches_and_checks_tangents():
    outs = []
    for lib, fn, x in ((T, tf, X[0]), (gj, gf, X[1])):
        out, jvp_fn = fn.linearize(lambda a: lib.sin(a) * a.sum(), x)
        outs.append((out, jvp_fn(lib.ones_like(x)), jvp_fn(x * 2)))
        with pytest.raises(RuntimeError, match="doesn't match the shape"):
            jvp_fn(lib.ones(4, 3, dtype=x.dtype))
        with pytest.raises(RuntimeError, match="same argspec"):
            jvp_fn(x, x)
    same(*outs)


# ------------------------------------------------------------------ jacobians

@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobians_argnums_and_output_trees(name, argnums):
    def f(lib, fn, x, y):
        def h(a, b):
            return {"m": lib.tanh(a) @ b, "s": (a * b).sum()}, b.exp()
        return getattr(fn, name)(h, argnums=argnums)(x, y)
    same(*both(f, X, Y))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobians_dict_input_and_aux(name):
    def f(lib, fn, x, y):
        def h(p):
            out = lib.sigmoid(p["w"]) * p["v"].sum()
            return out, {"aux": out.mean()}
        return getattr(fn, name)(h, has_aux=True)({"w": x, "v": y})
    same(*both(f, X, Y))


def test_jacrev_chunk_size_and_empty_output():
    def f(lib, fn, x, y):
        return (fn.jacrev(lambda a: a.sin() * 2, chunk_size=5)(x),
                fn.jacrev(lambda a: a.sin()[:0])(x),
                fn.jacrev(lambda a: a.sum())(x))
    same(*both(f, X, Y))
    raises_like(lambda lib, fn: fn.jacrev(lambda a: a, chunk_size=0))


def test_hessian_equals_jacrev_jacrev_and_torch():
    def f(lib, fn, x, y):
        def h(a, b):
            return (lib.tanh(a) @ b).pow(3).sum()
        return (fn.hessian(h)(x, y), fn.jacrev(fn.jacrev(h))(x, y),
                fn.hessian(h, argnums=(0, 1))(x, y), fn.jacfwd(fn.jacfwd(h, 1), 1)(x, y))
    ref, got = both(f, X, Y)
    same(ref, got)
    np.testing.assert_allclose(got[0].numpy(), got[1].numpy(), rtol=1e-10, atol=1e-12)


def test_jacfwd_randomness():
    raises_like(lambda lib, fn: fn.jacfwd(lambda a: a * lib.rand(3))(lib.ones(3)))
    raises_like(lambda lib, fn: fn.jacfwd(lambda a: a, randomness="x")(lib.ones(2)))
    for lib, fn in ((T, tf), (gj, gf)):
        lib.manual_seed(0)
        j = fn.jacfwd(lambda a: a * lib.rand(3), randomness="same")(lib.ones(3))
        assert np.count_nonzero(j.numpy() - np.diag(np.diag(j.numpy()))) == 0
        j = fn.jacfwd(lambda a: a * lib.rand(3), randomness="different")(lib.ones(3))
        assert j.shape == (3, 3)


# ------------------------------------------------------------------ vmap

@pytest.mark.parametrize("case", [
    (lambda lib: lambda a, b: a * b, dict(in_dims=(1, None), out_dims=1), 0),
    (lambda lib: lambda a, b: a * b, dict(in_dims=(-1, None), out_dims=-1), 0),
    (lambda lib: lambda a, b: (a.sum(), b), dict(in_dims=(0, None), out_dims=(0, None)), 0),
    (lambda lib: lambda a, b: {"s": a + b[:3], "t": [a]}, dict(in_dims=(1, 0)), 1),
    (lambda lib: lambda a, b: lib.outer(a, b), dict(), 2),
])
def test_vmap_in_and_out_dims(case):
    mk, kw, which = case
    y_for = [pair(4, 1), pair(4, 7), pair(3, 2)][which]

    def f(lib, fn, x, y):
        return fn.vmap(mk(lib), **kw)(x, y)
    same(*both(f, X, y_for))


def test_vmap_nested_pytrees_kwargs_and_nested_vmap():
    def f(lib, fn, x, y):
        a = fn.vmap(lambda p, s=1.0: p[0]["a"] * p[1] * s,
                    in_dims=(({"a": 1}, None),))(({"a": x}, y[:3]), s=y[:3])
        b = fn.vmap(fn.vmap(lambda u, v: u * v, in_dims=(0, None)), in_dims=(1, None))(x,
                                                                                   y[:3])
        c = fn.vmap(lambda u: u.sum(0), out_dims=0)(x[:0])
        return a, b, c
    same(*both(f, X, Y))


@pytest.mark.parametrize("case", [
    lambda lib, fn: fn.vmap(lambda a: a, in_dims=[0])(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: a, in_dims=(0, 0))(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: a, in_dims=(1.0,))(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: a, in_dims=2)(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: a, in_dims=(None,))(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: a)(3),
    lambda lib, fn: fn.vmap(lambda: 1)(),
    lambda lib, fn: fn.vmap(lambda a, b: a + b)(lib.ones(2, 3), lib.ones(3, 3)),
    lambda lib, fn: fn.vmap(lambda a: a, out_dims="a")(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: a, out_dims=2)(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: a, out_dims=-3)(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: (a, 3))(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(lambda a: (a, a.sum()), out_dims=(0, None))(lib.ones(2, 3) *
                                                                        lib.arange(2.)[:, None]),
    lambda lib, fn: fn.vmap(lambda a: a, randomness="x"),
    lambda lib, fn: fn.vmap(lambda a: a, chunk_size=0),
    lambda lib, fn: fn.vmap(lambda a: a + lib.rand(()))(lib.ones(2)),
    lambda lib, fn: fn.vmap(lambda a: lib.nn.functional.dropout(a, 0.5))(lib.ones(2, 3)),
    lambda lib, fn: fn.vmap(fn.vmap(lambda a: a + lib.rand(()), randomness="different"))(
        lib.ones(2, 2)),
])
def test_vmap_errors_as_torch(case):
    raises_like(case)


def test_vmap_randomness_same_and_different():
    for lib, fn in ((T, tf), (gj, gf)):
        x = lib.zeros(4, 3)
        r = fn.vmap(lambda a: a + lib.rand(3), randomness="same")(x)
        assert (r == r[0]).all()
        r = fn.vmap(lambda a: a + lib.rand(3), randomness="different")(x)
        assert len({tuple(row.tolist()) for row in r}) == 4
        r = fn.vmap(fn.vmap(lambda a: a + lib.rand(()), randomness="same"),
                    randomness="different")(x)
        assert (r == r[:, :1]).all() and len(set(r[:, 0].tolist())) == 4
    # 'same' leaves the generator as one unbatched draw would
    gj.manual_seed(3)
    fn_out = gf.vmap(lambda a: a + gj.rand(2), randomness="same")(gj.zeros(5, 2))
    after = gj.rand(1)
    gj.manual_seed(3)
    np.testing.assert_array_equal(fn_out[0].numpy(), gj.rand(2).numpy())
    np.testing.assert_array_equal(after.numpy(), gj.rand(1).numpy())


def test_vmap_of_grad_jacrev_hessian():
    def f(lib, fn, x, y):
        def h(a, b):
            return (lib.sin(a) * b).sum() ** 2
        return (fn.vmap(fn.grad(h), in_dims=(0, None))(x, y),
                fn.vmap(fn.jacrev(lambda a: lib.sin(a) * a.sum()))(x),
                fn.vmap(fn.hessian(h), in_dims=(0, None))(x, y),
                fn.vmap(fn.jacfwd(lambda a: lib.cos(a) * a.sum()))(x),
                fn.grad(lambda w: fn.vmap(lambda a: (a * w).sum() ** 2)(x).sum())(y))
    same(*both(f, X, Y))


def test_torch_vmap_alias():
    assert gj.vmap is gf.vmap
