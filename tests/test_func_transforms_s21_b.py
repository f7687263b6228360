"""torch.func with modules and compiled code (session 21): the tutorial's per-sample
gradients (vmap(grad(loss)) over functional_call), model ensembling with
stack_module_state, gpujit.script'd functions inside grad / vmap / jacrev, modules with
dropout inside vmap, and torch.utils._pytree, compared with PyTorch."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import gpujit as gj
from gpujit import func as gf
from gpujit.utils import _pytree as gpt
from gpujit.func import _tree as gft   # (the transforms' own trees: None is a leaf)

T = pytest.importorskip("torch")
tf = T.func
tpt = T.utils._pytree


def copy_into(tmod, gmod):
    """gmod's parameters and buffers set to tmod's values."""
    with gj.no_grad():
        for (n, p) in list(gmod.named_parameters()) + list(gmod.named_buffers()):
            src = dict(list(tmod.named_parameters()) + list(tmod.named_buffers()))[n]
            p.copy_(gj.tensor(src.detach().numpy()))


def close(ref, got, tol=1e-5):
    lr, _ = tpt.tree_flatten(ref)
    lg, _ = gpt.tree_flatten(got)
    assert len(lr) == len(lg)
    for a, b in zip(lr, lg):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=tol, atol=tol)


def models():
    T.manual_seed(0)
    tm = T.nn.Sequential(T.nn.Linear(5, 8), T.nn.Tanh(), T.nn.Linear(8, 3))
    gm = gj.nn.Sequential(gj.nn.Linear(5, 8), gj.nn.Tanh(), gj.nn.Linear(8, 3))
    copy_into(tm, gm)
    return tm, gm


def data(n=6):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return (T.tensor(x), T.tensor(y)), (gj.tensor(x), gj.tensor(y))


def test_per_sample_gradients_tutorial():
    """torch.func's per-sample-gradients tutorial, line for line, in both libraries."""
    tm, gm = models()
    (tx, ty), (gx, gy) = data()
    res = []
    for lib, fn, model, x, y in ((T, tf, tm, tx, ty), (gj, gf, gm, gx, gy)):
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def compute_loss(params, buffers, sample, target):
            batch = sample.unsqueeze(0)
            targets = target.unsqueeze(0)
            predictions = fn.functional_call(model, (params, buffers), (batch,))
            return lib.nn.functional.cross_entropy(predictions, targets)

        ft_compute_grad = fn.grad(compute_loss)
        ft_compute_sample_grad = fn.vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
        res.append(ft_compute_sample_grad(params, buffers, x, y))
        # the same as one backward per sample
        for i in range(2):
            model.zero_grad()
            lib.nn.functional.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
            for k, p in model.named_parameters():
                np.testing.assert_allclose(res[-1][k][i].numpy(), p.grad.numpy(), rtol=1e-5,
                                           atol=1e-6)
    close(res[0], res[1])
    assert not any(v.requires_grad for v in res[1].values())


def test_model_ensembling_with_stack_module_state():
    pairs = [models() for _ in range(3)]
    for k, (tm, gm) in enumerate(pairs):          # different weights per member
        with T.no_grad():
            for p in tm.parameters():
                p.mul_(1 + k)
        copy_into(tm, gm)
    (tx, _), (gx, _) = data(4)
    res = []
    for lib, fn, ms, x in ((T, tf, [p[0] for p in pairs], tx),
                           (gj, gf, [p[1] for p in pairs], gx)):
        params, buffers = fn.stack_module_state(ms)
        assert all(v.is_leaf and v.requires_grad for v in params.values())
        assert list(params) == ["0.weight", "0.bias", "2.weight", "2.bias"]
        base = ms[0]

        def fmodel(params, buffers, x):
            return fn.functional_call(base, (params, buffers), (x,))
        same_data = fn.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
        split_data = fn.vmap(fmodel)(params, buffers, x.expand(3, 4, 5))
        same_data.sum().backward()                 # the stacked leaves are optimizable
        res.append((same_data, split_data, params["0.weight"].grad))
    close(res[0], res[1], tol=1e-4)


@pytest.mark.parametrize("case", [
    lambda lib, fn: fn.stack_module_state([]),
    lambda lib, fn: fn.stack_module_state([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2).eval()]),
    lambda lib, fn: fn.stack_module_state([lib.nn.Linear(2, 2), lib.nn.Tanh()]),
    lambda lib, fn: fn.stack_module_state([lib.nn.Linear(2, 2),
                                           lib.nn.Linear(2, 2).requires_grad_(False)]),
])
def test_stack_module_state_errors_as_torch(case):
    errs = []
    for lib, fn in ((T, tf), (gj, gf)):
        with pytest.raises(RuntimeError) as ei:
            case(lib, fn)
        errs.append(str(ei.value))
    assert errs[0] == errs[1]


def test_stack_module_state_buffers_and_frozen_params():
    for lib, fn in ((T, tf), (gj, gf)):
        ms = [lib.nn.BatchNorm1d(3).requires_grad_(False) for _ in range(2)]
        params, buffers = fn.stack_module_state(ms)
        assert sorted(buffers) == ["num_batches_tracked", "running_mean", "running_var"]
        assert buffers["running_var"].shape == (2, 3)
        assert not params["weight"].requires_grad


def test_scripted_function_inside_transforms():
    def body(x, w):
        return gj.tanh(x * w).sum() + (x ** 3).mean()

    scripted = gj.jit.script(body)
    tbody = lambda x, w: T.tanh(x * w).sum() + (x ** 3).mean()   # noqa: E731
    a = np.random.default_rng(2).standard_normal((4, 3))
    w = np.linspace(-1, 1, 3)
    gx, gw, tx, tw = gj.tensor(a), gj.tensor(w), T.tensor(a), T.tensor(w)
    for _ in range(3):                            # past the profiling runs: fused code
        got = (gf.grad(scripted, argnums=(0, 1))(gx, gw),
               gf.vmap(scripted, in_dims=(0, None))(gx, gw),
               gf.vmap(gf.grad(scripted), in_dims=(0, None))(gx, gw),
               gf.jacrev(gf.grad(scripted))(gx[0], gw),
               gf.jvp(scripted, (gx, gw), (gj.ones_like(gx), gj.zeros_like(gw)))[1])
    ref = (tf.grad(tbody, argnums=(0, 1))(tx, tw),
           tf.vmap(tbody, in_dims=(0, None))(tx, tw),
           tf.vmap(tf.grad(tbody), in_dims=(0, None))(tx, tw),
           tf.jacrev(tf.grad(tbody))(tx[0], tw),
           tf.jvp(tbody, (tx, tw), (T.ones_like(tx), T.zeros_like(tw)))[1])
    close(ref, got, tol=1e-10)


def test_scripted_module_with_functional_call_under_grad():
    tm, gm = models()
    (tx, ty), (gx, gy) = data()
    res = []
    for lib, fn, model, x in ((T, tf, tm, tx), (gj, gf, gm, gx)):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p):
            return fn.functional_call(model, p, (x,)).pow(2).mean()
        res.append(fn.grad(loss)(params))
    close(res[0], res[1])


def test_dropout_module_in_vmap():
    for lib, fn in ((T, tf), (gj, gf)):
        m = lib.nn.Dropout(0.5)
        x = lib.ones(3, 4)
        with pytest.raises(RuntimeError, match="randomness error mode"):
            fn.vmap(m)(x)
        r = fn.vmap(m, randomness="same")(x)
        assert (r == r[0]).all()
        m.eval()
        assert (fn.vmap(m)(x) == x).all()


def test_pytree_flatten_unflatten_as_torch():
    P = collections.namedtuple("P", "a b")
    tree = ((1, [2, 3]), {"b": 4, "a": None}, P(5, (6,)),
            collections.OrderedDict(z=7), [])
    lt, st = tpt.tree_flatten(tree)
    lg, sg = gpt.tree_flatten(tree)
    assert lt == lg
    assert gpt.tree_unflatten(lg, sg) == tree
    assert type(gpt.tree_unflatten(lg, sg)[2]) is P
    st_f, sg_f = tpt.tree_structure(tree), gft.tree_structure(tree)
    assert tpt.treespec_pprint(st_f) == gft.treespec_pprint(sg_f)
    assert gpt.tree_map(lambda v: None if v is None else v * 2, tree)[0] == (2, [4, 6])
    for prefix in [(0, None, 0, 1, 0), 0, (0, None), ((0, 1), {"b": 1, "a": 2}, 0, 0, 0)]:
        assert tpt._broadcast_to_and_flatten(prefix, st) == \
            gft._broadcast_to_and_flatten(prefix, sg_f)
    with pytest.raises(ValueError):
        gpt.tree_unflatten([1, 2], sg)


def test_vmap_dict_in_dims_matched_by_key():
    """in_dims' dict keys in another order than the input's: matched by key (PyTorch 2.13
    pairs them by position, mapping 'a' with 'b''s in_dim: a deliberate difference)."""
    d = {"a": gj.arange(3.0), "b": gj.ones(3, 2)}
    out = gf.vmap(lambda p: p["a"] + p["b"], in_dims=({"b": 1, "a": None},))(d)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(np.arange(3.0), (2, 3)) + 1)
    assert gft._broadcast_to_and_flatten(({"b": 1, "a": None},),
                                         gft.tree_structure((d,))) == [None, 1]
