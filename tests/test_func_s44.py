"""torch.func / vmap fidelity, part 2 (session 44): side effects of a vmapped function on
tensors it does not map happen once, as PyTorch's vmap (which runs f once on batched
tensors) does. Compared with PyTorch when it is importable, and with hand-written values."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as gj


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


# ------------------------------------------------ vmap: writes into unmapped tensors

def _side_effect_cases(lib):
    """(name, thunk) pairs; each thunk returns a list of tensors to compare."""
    vmap = lib.func.vmap

    def once():
        c = lib.ones(3)
        r = vmap(lambda x: c.mul_(2) + x)(lib.zeros(4, 3))
        return [c, r]

    def read_before_write():
        c = lib.ones(3)

        def f(x):
            y = c * 3
            c.mul_(2)
            return y + x + c
        r = vmap(f)(lib.arange(8.).reshape(4, 2)[:, :1].expand(4, 3))
        return [c, r]

    def nested():
        c = lib.ones(3)
        r = vmap(vmap(lambda x: c.add_(1) + x))(lib.zeros(2, 4, 3))
        return [c, r]

    def nested_inner_call():
        c = lib.ones(3)

        def outer(y):
            return vmap(lambda x: c.add_(1) + x)(lib.zeros(2, 3)) + y
        return [c, vmap(outer)(lib.zeros(4, 3))]

    def local_returned():
        def f(x):
            z = lib.zeros(3)
            z.add_(1)
            return z, x + z
        return list(vmap(f, out_dims=(None, 0))(lib.zeros(4, 3))) + \
            [vmap(lambda x: lib.zeros(2).add_(3))(lib.ones(3, 2))]

    def setitem_and_out():
        c = lib.zeros(3)
        d = lib.zeros(3)

        def f(x):
            c[0] = 5
            c[1] += 1
            lib.add(d, 1, out=d)
            return x + c + d
        r = vmap(f)(lib.zeros(2, 3))
        return [c, d, r, lib.tensor(c._version)]

    def inner_writes_outer_row():
        c = lib.zeros(2, 3)

        def outer(row):
            vmap(lambda x: row.add_(1) * x)(lib.zeros(4))
            return row * 1
        return [vmap(outer)(c), c]

    def random_same():
        lib.manual_seed(0)
        c = lib.zeros(3)
        r = vmap(lambda x: x + c.normal_(), randomness="same")(lib.zeros(2, 3))
        return [r[0] == r[1], r[0] == c]

    def with_grad():
        w = lib.ones(3, requires_grad=True)
        c = w * 1
        r = vmap(lambda x: x * c.mul_(3))(lib.ones(2, 3))
        r.sum().backward()
        return [c.detach(), w.grad]

    return [once, read_before_write, nested, nested_inner_call, local_returned,
            setitem_and_out, inner_writes_outer_row, random_same, with_grad]


_EXPECTED = {
    "once": [[2.] * 3, [[2.] * 3] * 4],
    # y = 3 (read before the write), c = 2 after it, x = 0, 2, 4, 6
    "read_before_write": [[2.] * 3, [[5. + 2 * i] * 3 for i in range(4)]],
    "nested": [[2.] * 3, [[[2.] * 3] * 4] * 2],
    "nested_inner_call": [[2.] * 3, [[[2.] * 3] * 2] * 4],
    "local_returned": [[1.] * 3, [[1.] * 3] * 4, [[3., 3.]] * 3],
    # (c's version: 3 writes, as after one call of f; the element loop wrote it 6 times)
    "setitem_and_out": [[5., 1., 0.], [1.] * 3, [[6., 2., 1.]] * 2, 3],
    "inner_writes_outer_row": [[[1.] * 3] * 2, [[1.] * 3] * 2],
    "random_same": [[True] * 3, [True] * 3],
    "with_grad": [[3.] * 3, [6.] * 3],
}


@pytest.mark.parametrize("k", range(len(_EXPECTED)))
def test_vmap_write_into_unmapped_tensor_happens_once(k):
    case = _side_effect_cases(gj)[k]
    got = case()
    want = _EXPECTED[case.__name__]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), np.array(w))
    torch = _torch()
    if torch is not None:
        ref = _side_effect_cases(torch)[k]()
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(g.numpy(), r.numpy())


def test_vmap_write_with_mapped_operand_still_refused():
    c = gj.ones(3)
    with pytest.raises(RuntimeError, match="inplace arithmetic"):
        gj.func.vmap(lambda x: c.mul_(x))(gj.zeros(4, 3))
    # (the refusal comes before the write: c is untouched)
    np.testing.assert_array_equal(c.numpy(), np.ones(3))


def test_vmap_mapped_input_written_per_element():
    # a write into the mapped input itself reaches each element's slice (not rewound)
    x = gj.zeros(3, 2)
    gj.func.vmap(lambda r: r.add_(gj.ones(2)))(x)
    np.testing.assert_array_equal(x.numpy(), np.ones((3, 2)))


# ------------------------------------------------ a custom Function's vmap staticmethod

def _rule_functions(lib):
    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y * 10, g * x        # (x's gradient: 10 times the true one)

        @staticmethod
        def vmap(info, in_dims, x, y):
            xd, yd = in_dims
            x = x.movedim(xd, 0) if xd is not None else x
            y = y.movedim(yd, 0) if yd is not None else y
            return x * y + 100, 0           # (not forward's value: the rule is used)

    class NoPair(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g

        @staticmethod
        def vmap(info, in_dims, x):
            return x * 2

    class Both(NoPair):
        generate_vmap_rule = True

        @staticmethod
        def vmap(info, in_dims, x):
            return x * 7, 0
    return Mul, NoPair, Both


def _rule_cases(lib):
    Mul, _, _ = _rule_functions(lib)
    vmap, grad = lib.func.vmap, lib.func.grad
    a = lib.arange(6.).reshape(2, 3)
    b = lib.ones(3) * 2

    def backward():
        x = a.clone().requires_grad_()
        vmap(Mul.apply, in_dims=(0, None))(x, b).sum().backward()
        return x.grad
    return {
        "both_mapped": lambda: vmap(Mul.apply)(a, a),
        "one_mapped": lambda: vmap(Mul.apply, in_dims=(0, None))(a, b),
        "unmapped_call": lambda: vmap(lambda x: Mul.apply(b, b) + x)(a),
        # the vmap innermost: the rule's ops are differentiated (x * y: y)
        "grad_of_vmap": lambda: grad(lambda x: vmap(Mul.apply, in_dims=(0, None))(x, b).sum())(a),
        "backward": backward,
        # a grad inside the vmap: the Function's backward (10 * y), forward by the rule
        "vmap_of_grad": lambda: vmap(grad(lambda x, y: Mul.apply(x, y).sum()))(a, a * 0 + 2),
    }


_RULE_EXPECTED = {
    "both_mapped": np.arange(6.).reshape(2, 3) ** 2 + 100,
    "one_mapped": np.arange(6.).reshape(2, 3) * 2 + 100,
    "unmapped_call": np.arange(6.).reshape(2, 3) + 4,
    "grad_of_vmap": np.full((2, 3), 2.),
    "backward": np.full((2, 3), 2.),
    "vmap_of_grad": np.full((2, 3), 20.),
}


@pytest.mark.parametrize("name", sorted(_RULE_EXPECTED))
def test_custom_function_vmap_staticmethod_is_used(name):
    got = _rule_cases(gj)[name]()
    np.testing.assert_array_equal(got.numpy(), _RULE_EXPECTED[name])
    torch = _torch()
    if torch is not None:
        np.testing.assert_array_equal(got.numpy(), _rule_cases(torch)[name]().numpy())


def test_custom_function_vmap_staticmethod_errors():
    _, NoPair, Both = _rule_functions(gj)
    with pytest.raises(RuntimeError, match=r"^Expected the vmap staticmethod to have two "
                       r"returns, an output and out_dims with pytree structure compatible "
                       r"with the output. Got a <class 'gpujit.Tensor'> instead$"):
        gj.func.vmap(NoPair.apply)(gj.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"^You tried to vmap over Both, but it has both "
                       r"generate_vmap_rule=True and an overridden vmap staticmethod. Please "
                       r"set generate_vmap_rule=False or delete the overridden vmap "
                       r"staticmethod to avoid ambiguity. For more details"):
        gj.func.vmap(Both.apply)(gj.ones(2, 3))
    torch = _torch()
    if torch is not None:
        _, NoPair, Both = _rule_functions(torch)
        with pytest.raises(RuntimeError, match="Expected the vmap staticmethod to have two"):
            torch.func.vmap(NoPair.apply)(torch.ones(2, 3))
        with pytest.raises(RuntimeError, match="You tried to vmap over Both, but it has both"):
            torch.func.vmap(Both.apply)(torch.ones(2, 3))


# ------------------------------------------------ func.jvp by forward-mode AD

def _lcse_tangent(x, t):
    """Hand tangent of logcumsumexp along dim 0: sum_{j<=i} exp(x_j - y_i) t_j."""
    y = np.logaddexp.accumulate(x)
    return np.array([sum(np.exp(x[j] - y[i]) * t[j] for j in range(i + 1))
                     for i in range(len(x))])


def test_jvp_uses_forward_formulas():
    # the double-vjp trick gave NaN here (logcumsumexp's backward is singular at a zero
    # cotangent); PyTorch's jvp pushes the tangent with the op's forward formula
    xs = np.array([0.5, -1.0, 2.0])
    ts = np.array([1.0, 0.5, -2.0])
    x, t = gj.tensor(xs), gj.tensor(ts)
    out, tan = gj.func.jvp(lambda a: a.logcumsumexp(0), (x,), (t,))
    np.testing.assert_allclose(tan.numpy(), _lcse_tangent(xs, ts), rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), np.logaddexp.accumulate(xs), rtol=1e-12)
    torch = _torch()
    if torch is not None:
        ref = torch.func.jvp(lambda a: a.logcumsumexp(0), (torch.tensor(xs),),
                             (torch.tensor(ts),))
        np.testing.assert_allclose(tan.numpy(), ref[1].numpy(), rtol=1e-12)


def _jvp_function(lib):
    class Twice(lib.autograd.Function):
        generate_vmap_rule = True       # (jacfwd is PyTorch's vmap over jvp)

        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def jvp(ctx, t):
            return t * 100          # (not the derivative: shows which one is used)
    return Twice


def test_jvp_uses_custom_function_jvp():
    x = gj.ones(2, dtype=gj.float64)
    out, tan = gj.func.jvp(_jvp_function(gj).apply, (x,), (x,))
    np.testing.assert_array_equal(out.numpy(), [2., 2.])
    np.testing.assert_array_equal(tan.numpy(), [100., 100.])
    torch = _torch()
    if torch is not None:
        ref = torch.func.jvp(_jvp_function(torch).apply, (torch.ones(2, dtype=torch.float64),),
                             (torch.ones(2, dtype=torch.float64),))
        np.testing.assert_array_equal(tan.numpy(), ref[1].numpy())


def _jvp_compositions(lib):
    F = lib.func
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
    t = lib.tensor([1.0, 0.5, -2.0], dtype=lib.float64)
    f = lambda a: (a.sin() * a.exp()).cumsum(0)          # noqa: E731
    return {
        "in_vmap": lambda: F.vmap(lambda p, q: F.jvp(f, (p,), (q,))[1])(
            lib.stack([x, t]), lib.stack([t, x])),
        "of_vmap": lambda: F.jvp(F.vmap(f), (lib.stack([x, t]),), (lib.stack([t, x]),))[1],
        "grad_of_jvp": lambda: F.grad(lambda a: F.jvp(f, (a,), (t,))[1].sum())(x),
        "hvp": lambda: F.jvp(F.grad(lambda a: (a.sin() * a).sum()), (x,), (t,))[1],
        "nested": lambda: F.jvp(lambda a: F.jvp(f, (a,), (t,))[1], (x,), (t,))[1],
        "aux": lambda: F.jvp(lambda a: (f(a), a * 2), (x,), (t,), has_aux=True)[2],
    }


def _jvp_composition_expected():
    x = np.array([0.5, -1.0, 2.0])
    t = np.array([1.0, 0.5, -2.0])
    d1 = lambda a: np.exp(a) * (np.sin(a) + np.cos(a))                  # noqa: E731
    d2 = lambda a: 2 * np.exp(a) * np.cos(a)                            # noqa: E731
    return {
        "in_vmap": np.stack([np.cumsum(d1(x) * t), np.cumsum(d1(t) * x)]),
        "of_vmap": np.stack([np.cumsum(d1(x) * t), np.cumsum(d1(t) * x)]),
        # d/dx_i of sum_k cumsum(d1(x) t)_k = d2(x_i) t_i (3 - i)
        "grad_of_jvp": d2(x) * t * np.array([3., 2., 1.]),
        "hvp": (2 * np.cos(x) - x * np.sin(x)) * t,
        "nested": np.cumsum(d2(x) * t * t),
        "aux": x * 2,
    }


@pytest.mark.parametrize("name", sorted(_jvp_composition_expected()))
def test_jvp_compositions(name):
    got = _jvp_compositions(gj)[name]()
    np.testing.assert_allclose(got.numpy(), _jvp_composition_expected()[name], rtol=1e-12)
    torch = _torch()
    if torch is not None:
        np.testing.assert_allclose(got.numpy(), _jvp_compositions(torch)[name]().numpy(),
                                   rtol=1e-12)


def _lcse_jacobian(x):
    y = np.logaddexp.accumulate(x)
    return np.array([[np.exp(x[j] - y[i]) if j <= i else 0. for j in range(len(x))]
                     for i in range(len(x))])


def _forward_rule_cases(lib):
    F = lib.func
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
    t = lib.tensor([1.0, 0.5, -2.0], dtype=lib.float64)
    lcse = lambda a: a.logcumsumexp(0)          # noqa: E731
    twice = _jvp_function(lib).apply
    return {
        "jacfwd": lambda: F.jacfwd(lcse)(x),
        "linearize": lambda: F.linearize(lcse, x)[1](t),
        "hessian": lambda: F.hessian(lambda a: lcse(a).sum())(x),
        "jacfwd_custom_jvp": lambda: F.jacfwd(lambda a: twice(a) + a, randomness="same")(x),
        "linearize_custom_jvp": lambda: F.linearize(twice, x)[1](t),
    }


def _forward_rule_expected():
    x = np.array([0.5, -1.0, 2.0])
    t = np.array([1.0, 0.5, -2.0])
    J = _lcse_jacobian(x)
    # d2/dx_j dx_k of sum_i y_i = sum_i p_ij (delta_jk - p_ik) [k, j <= i], p = J
    H = sum(np.diag(J[i]) - np.outer(J[i], J[i]) for i in range(3))
    return {
        "jacfwd": J,
        "linearize": J @ t,
        "hessian": H,
        "jacfwd_custom_jvp": np.eye(3) * 101,
        "linearize_custom_jvp": t * 100,
    }


@pytest.mark.parametrize("name", sorted(_forward_rule_expected()))
def test_forward_mode_where_an_op_has_its_own_rule(name):
    # jacfwd / linearize / hessian use the double-vjp trick, except when f's graph holds
    # a node with a forward rule of its own (NaN for logcumsumexp before; a custom
    # Function's jvp unused): then forward-mode AD, as PyTorch's
    got = _forward_rule_cases(gj)[name]()
    np.testing.assert_allclose(got.numpy(), _forward_rule_expected()[name], rtol=1e-10,
                               atol=1e-14)
    torch = _torch()
    if torch is not None:
        np.testing.assert_allclose(got.numpy(), _forward_rule_cases(torch)[name]().numpy(),
                                   rtol=1e-10, atol=1e-14)


def test_linearize_forward_mode_draws_what_the_recording_drew():
    gj.manual_seed(3)
    x = gj.tensor([0.5, -1.0, 2.0], dtype=gj.float64)
    out, fn = gj.func.linearize(lambda a: (a * gj.rand(3, dtype=gj.float64)).logcumsumexp(0), x)
    state = gj.get_rng_state()
    tan = fn(gj.ones(3, dtype=gj.float64))
    assert gj.equal(gj.get_rng_state(), state)          # (the generator did not move)
    gj.manual_seed(3)
    gj.rand(3, dtype=gj.float64)                         # (linearize's first run of f)
    r = gj.rand(3, dtype=gj.float64).numpy()             # (its recording's draw)
    xs = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(tan.numpy(), _lcse_jacobian(xs * r) @ r, rtol=1e-12)


def _linearize_constants(lib):
    x = lib.tensor([1.0, 2.0], dtype=lib.float64)
    t = lib.tensor([1.0, -1.0], dtype=lib.float64)
    res = []
    for f in (lambda a: (a.sin(), 3), lambda a: {"a": a * 2, "b": [a.exp(), 3.5, None]},
              lambda a: "s", lambda a: (a.logcumsumexp(0), None)):
        out, fn = lib.func.linearize(f, x)
        res.append((out, fn(t)))
    return res


def test_linearize_passes_non_tensor_outputs_through():
    # (PyTorch's linearize traces f: what is not a tensor is a constant of the trace;
    # gpujit refused it with jvp's "expected f(*primals) to return only tensors")
    got = _linearize_constants(gj)
    xs, ts = np.array([1.0, 2.0]), np.array([1.0, -1.0])
    assert got[0][0][1] == 3 and got[0][1][1] == 3
    np.testing.assert_allclose(got[0][1][0].numpy(), np.cos(xs) * ts)
    assert got[1][1]["b"][1:] == [3.5, None]
    np.testing.assert_allclose(got[1][1]["b"][0].numpy(), np.exp(xs) * ts)
    assert got[2] == ("s", "s")
    assert got[3][1][1] is None
    np.testing.assert_allclose(got[3][1][0].numpy(), _lcse_jacobian(xs) @ ts)
    torch = _torch()
    if torch is not None:
        for (o, j), (ro, rj) in zip(got, _linearize_constants(torch)):
            fo, _ = gj.func._tree.tree_flatten((o, j))
            fr = torch.utils._pytree.tree_leaves((ro, rj), is_leaf=lambda v: v is None)
            assert len(fo) == len(fr)
            for a, b in zip(fo, fr):
                if isinstance(a, gj.Tensor):
                    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
                else:
                    assert a == b


# ------------------------------------------------ node names of unwrapped primals

def _primal_nodes(lib):
    fw = lib.autograd.forward_ad
    w = lib.ones(3, requires_grad=True)
    with fw.dual_level():
        d = fw.make_dual(w, lib.ones(3))
        p = fw.unpack_dual(d).primal
        q = fw.unpack_dual(d.exp()).primal
        names = [p.grad_fn.name(), q.grad_fn.name(), p.requires_grad]
    out = lib.func.jvp(lambda a: a.exp(), (w,), (lib.ones(3),))[0]
    return names + [out.grad_fn.name()]


def test_unwrapped_primal_nodes_are_pytorchs():
    # unpack_dual's primal is aten::_fw_primal (node torch::autograd::Identity), jvp's
    # outputs are aliases (AliasBackward0); both were ViewBackward0
    want = ["torch::autograd::Identity", "torch::autograd::Identity", True, "AliasBackward0"]
    assert _primal_nodes(gj) == want
    torch = _torch()
    if torch is not None:
        assert _primal_nodes(torch) == want
    w = gj.ones(3, requires_grad=True)
    with gj.autograd.forward_ad.dual_level():
        p = gj.autograd.forward_ad.unpack_dual(w * 2).primal
        (p * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6., 6., 6.])


# ------------------------------------------------ transforms are per thread

def _two_threads(lib):
    """Thread A is inside vmap(f) (randomness='error'), grad and jvp while thread B draws
    random numbers, writes a tensor in place and runs its own vmap."""
    import threading
    inside, done = threading.Event(), threading.Event()
    res = {}

    def a():
        def f(x):
            if not inside.is_set():
                inside.set()
                done.wait(10)
            return x * 2
        res["a"] = lib.func.vmap(f)(lib.ones(3, 2)).sum().item()

    def b():
        inside.wait(10)
        out = []
        try:
            out.append(list(lib.rand(2).shape))
            c = lib.ones(3)
            c.add_(1)
            out.append(c.tolist())
            out.append(lib.func.vmap(lambda r: r.sum())(lib.ones(4, 2)).tolist())
        except Exception as e:          # noqa: BLE001
            out.append(repr(e))
        res["b"] = out
        done.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return res


def test_vmap_in_one_thread_does_not_reach_another():
    # (PyTorch's functorch levels are per thread; here thread B's random draw was refused
    # with vmap's randomness='error' words while thread A ran a vmap)
    want = {"a": 12.0, "b": [[2], [2.0, 2.0, 2.0], [2.0] * 4]}
    assert _two_threads(gj) == want
    torch = _torch()
    if torch is not None:
        assert _two_threads(torch) == want


def test_function_checks_are_per_thread():
    # thread A inside jvp (a forward level): thread B's old-style Function runs outside
    # any transform (it was refused with 'must override the setup_context staticmethod')
    import threading

    class Old(gj.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g * 3

    inside, done = threading.Event(), threading.Event()
    res = {}

    def a():
        def f(x):
            inside.set()
            done.wait(10)
            return x * 2
        res["a"] = gj.func.jvp(f, (gj.ones(2),), (gj.ones(2),))[1].tolist()

    def b():
        inside.wait(10)
        try:
            res["b"] = Old.apply(gj.ones(2)).tolist()
        except Exception as e:          # noqa: BLE001
            res["b"] = repr(e)
        done.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert res == {"a": [2.0, 2.0], "b": [3.0, 3.0]}


# ------------------------------------------------ vmap's level numbers

def _level_words(lib):
    import re
    import warnings
    F = lib.func
    c = lib.ones(3)
    cases = [
        lambda: F.vmap(lambda x: c.pow_(x))(lib.ones(2, 3)),
        lambda: F.grad(lambda y: F.vmap(lambda x: c.pow_(x))(y).sum())(lib.ones(2, 3)),
        lambda: F.vmap(F.vmap(lambda x: c.pow_(x)))(lib.ones(2, 2, 3)),
        lambda: F.jvp(F.vmap(lambda x: c.pow_(x)), (lib.ones(2, 3),), (lib.ones(2, 3),)),
        lambda: F.grad(lambda z: F.vmap(F.vmap(lambda x: c.pow_(x)))(z).sum())(
            lib.ones(2, 2, 3)),
        # (the operand batched at the outer vmap only: refused there)
        lambda: F.vmap(lambda x: F.vmap(lambda y: c.pow_(x) + y)(lib.ones(4, 3)))(
            lib.ones(2, 3)),
    ]
    out = []
    for case in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # (PyTorch's fallback performance warning)
            with pytest.raises(RuntimeError) as e:
                case()
        out.append(int(re.search(r"not being vmapped over at level (\d+)\.",
                                 str(e.value)).group(1)))
    return out


def test_vmap_refusal_numbers_every_transform_level():
    # PyTorch numbers the transforms running, grad and jvp levels too (gpujit counted
    # vmaps only, and named the innermost where an outer vmap refused)
    want = [1, 2, 2, 2, 3, 1]
    assert _level_words(gj) == want
    torch = _torch()
    if torch is not None:
        assert _level_words(torch) == want


# ------------------------------------------------ .data and requires_grad_() under transforms

_REQUIRES_GRAD_WORDS = (
    "You are attempting to call Tensor.requires_grad_() (or perhaps using "
    "torch.autograd.functional.* APIs) inside of a function being transformed by a functorch "
    "transform. This is unsupported, please attempt to use the functorch transforms (e.g. "
    "grad, vjp, jacrev, jacfwd, hessian) or call requires_grad_() outside of a function being "
    "transformed instead.")


def _refusals(lib):
    F = lib.func
    x = lib.ones(3, 2)
    cases = {
        "data_batched": lambda: F.vmap(lambda r: r.data)(x),
        "requires_grad_vmap": lambda: F.vmap(lambda r: r.clone().requires_grad_())(x),
        "requires_grad_false": lambda: F.vmap(lambda r: r.clone().requires_grad_(False))(x),
        "requires_grad_grad": lambda: F.grad(
            lambda r: (lib.ones(2).requires_grad_() * r).sum())(lib.ones(2)),
        "requires_grad_jvp": lambda: F.jvp(
            lambda r: r.detach().requires_grad_() * r, (lib.ones(2),), (lib.ones(2),)),
        "functional_in_vmap": lambda: F.vmap(
            lambda r: lib.autograd.functional.jacobian(lambda a: a.sin(), r))(x),
    }
    out = {}
    for name, case in cases.items():
        try:
            case()
            out[name] = None
        except RuntimeError as e:
            out[name] = str(e)
    # allowed: .data of an unbatched tensor, factories' requires_grad=, the setter
    out["allowed"] = [F.vmap(lambda r: r + lib.ones(2).data)(x).sum().item(),
                      F.grad(lambda r: (r * lib.ones(2, requires_grad=True)).sum())(
                          lib.ones(2)).tolist()]
    return out


def test_data_and_requires_grad_refused_as_pytorch():
    data = "accessing `data` under vmap transform is not allowed"
    want = {"data_batched": data, "requires_grad_vmap": _REQUIRES_GRAD_WORDS,
            "requires_grad_false": _REQUIRES_GRAD_WORDS,
            "requires_grad_grad": _REQUIRES_GRAD_WORDS,
            "requires_grad_jvp": _REQUIRES_GRAD_WORDS,
            "functional_in_vmap": _REQUIRES_GRAD_WORDS,
            "allowed": [12.0, [1.0, 1.0]]}
    assert _refusals(gj) == want
    torch = _torch()
    if torch is not None:
        assert _refusals(torch) == want
    # outside any transform both work as ever
    t = gj.ones(2)
    assert t.requires_grad_().requires_grad and t.data.requires_grad is False


# ------------------------------------------------ leaves made inside a transformed function

def _inside_leaves(lib):
    F = lib.func
    y0 = lib.ones(2, requires_grad=True)

    def made_inside(x):
        y = lib.ones(2, requires_grad=True)
        return (x * y).sum()

    def set_inside(x):
        y = lib.full((2,), 3.)
        y.requires_grad = True
        return (x * y).sum()
    res = [F.grad(made_inside)(lib.ones(2)), F.grad(set_inside)(lib.ones(2)),
           F.vjp(made_inside, lib.ones(2))[1](lib.tensor(1.))[0],
           F.grad(lambda x: lib.nn.Linear(2, 1)(x * 0).sum() * 0 + (x * x).sum())(lib.ones(2)),
           F.grad(lambda x: (x * y0).sum())(lib.ones(2))]
    return [(r.tolist(), r.grad_fn is not None) for r in res]


def test_leaves_made_inside_belong_to_the_transform():
    # (a leaf made inside f was treated as the user's: the gradient kept a graph to it)
    want = [([1.0, 1.0], False), ([3.0, 3.0], False), ([1.0, 1.0], False),
            ([2.0, 2.0], False),
            ([1.0, 1.0], True)]         # (a leaf from outside: still connected)
    assert _inside_leaves(gj) == want
    torch = _torch()
    if torch is not None:
        assert _inside_leaves(torch) == want


# ------------------------------------------------ running statistics under vmap

def _norm_cases(lib):
    F = lib.func
    fn = lib.nn.functional
    x = lib.arange(24.).reshape(4, 2, 3) / 10
    bn = lib.nn.BatchNorm1d(3)
    out = {}
    for name, case in {
        "module": lambda: F.vmap(bn)(x),
        "functional": lambda: F.vmap(lambda r: fn.batch_norm(r, lib.zeros(3), None,
                                                             training=True))(x),
        "instance": lambda: F.vmap(lambda r: fn.instance_norm(
            r[None], lib.zeros(3), lib.ones(3), use_input_stats=True))(x.transpose(1, 2)),
    }.items():
        try:
            case()
            out[name] = "ran"
        except RuntimeError as e:
            out[name] = str(e)
    out["stats"] = (bn.running_mean.tolist(), int(bn.num_batches_tracked))
    # allowed: no running stats, eval mode
    out["no_stats"] = F.vmap(lambda r: fn.batch_norm(r, None, None, training=True))(x).shape
    bn.eval()
    out["eval"] = F.vmap(bn)(x).shape
    return out


def test_vmap_refuses_unbatched_running_stats_with_batched_input():
    # (gpujit ran it: the running stats took element 0's batch statistics)
    from gpujit.func._vmap import _STATS_UNBATCHED
    got = _norm_cases(gj)
    assert got == {"module": _STATS_UNBATCHED, "functional": _STATS_UNBATCHED,
                   "instance": _STATS_UNBATCHED, "stats": ([0.0, 0.0, 0.0], 1),
                   "no_stats": (4, 2, 3), "eval": (4, 2, 3)}
    torch = _torch()
    if torch is not None:
        ref = _norm_cases(torch)
        assert {k: v for k, v in ref.items() if k not in ("no_stats", "eval")} == \
            {k: v for k, v in got.items() if k not in ("no_stats", "eval")}
        assert tuple(ref["no_stats"]) == tuple(got["no_stats"])


def _cube(lib, generate):
    class Cube(lib.autograd.Function):
        generate_vmap_rule = generate

        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

        @staticmethod
        def jvp(ctx, t):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * t
    return Cube


def _vmap_support(lib):
    F = lib.func
    x = lib.tensor([1., 2.], dtype=lib.float64)
    out = {}
    for generate in (False, True):
        C = _cube(lib, generate)
        for name, case in {
            "jacfwd": lambda: F.jacfwd(C.apply)(x),
            "jacfwd_different": lambda: F.jacfwd(C.apply, randomness="different")(x),
            "hessian": lambda: F.hessian(lambda a: C.apply(a).sum())(x),
            "vmap_of_jvp": lambda: F.vmap(lambda t: F.jvp(C.apply, (x,), (t,))[1])(
                lib.eye(2, dtype=lib.float64)),
            "jacrev": lambda: F.jacrev(C.apply)(x),      # (no vmap over the Function)
        }.items():
            try:
                out[name, generate] = case().tolist()
            except RuntimeError as e:
                out[name, generate] = str(e)[:60]
    return out


def test_jacfwd_wants_vmap_support_of_a_custom_function():
    # (PyTorch's jacfwd / hessian are vmaps over jvp: a Function without vmap support is
    # refused there; gpujit's jacfwd, which is no vmap, ran it)
    refusal = "You tried to vmap over Cube, but it does not have vmap suppo"
    jac, hess = [[3.0, 0.0], [0.0, 12.0]], [[6.0, 0.0], [0.0, 12.0]]
    want = {("jacfwd", False): refusal, ("jacfwd_different", False): refusal,
            ("hessian", False): refusal, ("vmap_of_jvp", False): refusal,
            ("jacrev", False): jac,
            ("jacfwd", True): jac, ("jacfwd_different", True): jac, ("hessian", True): hess,
            ("vmap_of_jvp", True): jac, ("jacrev", True): jac}
    assert _vmap_support(gj) == want
    torch = _torch()
    if torch is not None:
        assert _vmap_support(torch) == want


# ------------------------------------------------ more of what vmap refuses

def _more_refusals(lib):
    import warnings
    F = lib.func
    x = lib.tensor([[1., -2., 3., 0.], [0., 5., -6., 7.]])
    mask = lib.tensor([True, False, True, False])
    cases = {
        "bool_index": lambda r: r[r > 0],
        "bool_index_unbatched_self": lambda r: lib.arange(4.)[r > 0],
        "bool_setitem": lambda r: r.clone().__setitem__(r > 0, 0.),
        "where_one_arg": lambda r: lib.where(r > 0),
        "nonzero_tuple": lambda r: r.nonzero(as_tuple=True),
        "tensor_split_tensor": lambda r: lib.tensor_split(r, lib.tensor([1, 2])),
        "contains": lambda r: lib.tensor(3. in r),
        "allclose": lambda r: lib.tensor(lib.allclose(r, lib.ones(4))),
        "equal": lambda r: lib.tensor(lib.equal(r, r)),
        "index_put_words": lambda r: lib.zeros(4).index_put_((lib.tensor([0, 2]),), r[:2]),
        "index_fill_words": lambda r: lib.zeros(4).index_fill_(0, lib.tensor([0]), r[0]),
        # allowed: an unbatched mask
        "unbatched_mask": lambda r: r[mask].sum(),
        "unbatched_mask_put": lambda r: r.clone().index_put_((mask,), lib.tensor(0.)).sum(),
    }
    out = {}
    for name, case in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out[name] = F.vmap(case)(x).tolist()
            except RuntimeError as e:
                out[name] = str(e)
    return out


def test_vmap_refuses_more_as_pytorch():
    mask = ("vmap: We do not support batching operators that can support dynamic shape. "
            "Attempting to batch over indexing with a boolean mask.")

    def bare(name):
        return (f"vmap: {name}(self, *extra_args) is not possible because there exists a "
                f"Tensor `other` in extra_args that has more elements than `self`. This "
                f"happened due to `other` being vmapped over but `self` not being vmapped "
                f"over in a vmap. Please try to use out-of-place operators instead of {name}. "
                f"If said operator is being called inside the PyTorch framework, please file "
                f"a bug report instead.")
    want = {
        "bool_index": mask, "bool_index_unbatched_self": mask, "bool_setitem": mask,
        "where_one_arg": "vmap: We do not support batching operators that can output dynamic "
                         "shape. Attempted to vmap over aten::where. Please file an issue at "
                         "https://github.com/pytorch/pytorch/issues if you need this feature.",
        "nonzero_tuple": "Batching rule not implemented for aten::nonzero_numpy. We could not "
                         "generate a fallback.",
        "tensor_split_tensor": "Batching rule not implemented for "
                               "aten::tensor_split.tensor_indices_or_sections. We could not "
                               "generate a fallback.",
        "contains": "vmap: It looks like you're calling .item() on a Tensor. We don't support "
                    "vmap over calling .item() on a Tensor, please try to rewrite what you're "
                    "doing with other operations. If error is occurring somewhere inside "
                    "PyTorch internals, please file a bug report.",
        "allclose": "vmap over torch.allclose isn't supported yet. Please file an issue at "
                    "https://github.com/pytorch/pytorch/issues if you need this feature.",
        "equal": "Batching rule not implemented for aten::equal. We could not generate a "
                 "fallback.",
        "index_put_words": bare("index_put_"), "index_fill_words": bare("index_fill_"),
        "unbatched_mask": [4.0, -6.0], "unbatched_mask_put": [-2.0, 12.0],
    }
    assert _more_refusals(gj) == want
    torch = _torch()
    if torch is not None:
        assert _more_refusals(torch) == want


def test_contains_as_pytorch():
    t = gj.tensor([1., 2.])
    assert (np.float32(2) in t, 3 in t, gj.tensor(2.) in t) == (True, False, True)
    with pytest.raises(RuntimeError, match=r"^Tensor.__contains__ only supports Tensor or "
                       r"scalar, but you passed in a <class 'str'>.$"):
        "a" in t                                            # noqa: B015


def _format_refusals(lib):
    import warnings
    F = lib.func
    x = lib.ones(2, 3, 4, 5, 6)
    cases = {
        "moveaxis_int": lambda r: lib.moveaxis(r, 0, 1),
        "chain_matmul": lambda r: lib.chain_matmul(r[0, 0], r[0, 0].T),
        "contiguous_cl": lambda r: r.contiguous(memory_format=lib.channels_last),
        "contiguous_preserve": lambda r: r.contiguous(memory_format=lib.preserve_format),
        "is_contiguous_cl": lambda r: lib.tensor(r.is_contiguous(memory_format=lib.channels_last)),
        "clone_cl": lambda r: r.clone(memory_format=lib.channels_last),
        # allowed
        "moveaxis_tuple": lambda r: lib.moveaxis(r, (0, 1), (1, 0)),
        "is_contiguous": lambda r: lib.tensor(r.is_contiguous()),
        "clone_preserve": lambda r: r.clone(memory_format=lib.preserve_format),
        "unbatched_cl": lambda r: lib.ones(1, 2, 3, 4).contiguous(
            memory_format=lib.channels_last) + r.sum(),
    }
    out = {}
    for name, case in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out[name] = tuple(F.vmap(case)(x).shape)
            except RuntimeError as e:
                out[name] = str(e)
    return out


def test_vmap_refuses_views_and_formats_as_pytorch():
    want = {
        "moveaxis_int": "Batching rule not implemented for aten::moveaxis.int; the fallback "
                        "path doesn't work on out= or view ops.",
        "chain_matmul": "Batching rule not implemented for aten::chain_matmul. We could not "
                        "generate a fallback.",
        "contiguous_cl": "NYI: querying is_contiguous inside of vmap for memory_format other "
                         "than torch.contiguous_format",
        "contiguous_preserve": "NYI: querying is_contiguous inside of vmap for memory_format "
                               "other than torch.contiguous_format",
        "is_contiguous_cl": "NYI: querying is_contiguous inside of vmap for memory_format "
                            "other than torch.contiguous_format",
        "clone_cl": "NYI: Tensor.clone(memory_format) inside vmap is only supported with "
                    "memory_format torch.preserve_format or torch.contiguous_format (got "
                    "ChannelsLast)",
        "moveaxis_tuple": (2, 4, 3, 5, 6), "is_contiguous": (2,),
        "clone_preserve": (2, 3, 4, 5, 6), "unbatched_cl": (2, 1, 2, 3, 4),
    }
    assert _format_refusals(gj) == want
    torch = _torch()
    if torch is not None:
        assert _format_refusals(torch) == want


def _one_hot_cases(lib):
    F = lib.func
    idx = lib.tensor([[0, 1], [1, 0]])
    out = []
    for nc in (-1, 0, 3):
        try:
            out.append(F.vmap(lambda r: lib.nn.functional.one_hot(r, nc))(idx).tolist())
        except RuntimeError as e:
            out.append(str(e))
    return out


def test_vmap_one_hot_wants_num_classes():
    # (without it each element's class count came from its own values: the stack failed
    # when they differed, or gave a silently narrower result)
    words = ("When vmap-ing torch.nn.functional.one_hot, please provide an explicit positive "
             "num_classes argument.")
    want = [words, words, [[[1, 0, 0], [0, 1, 0]], [[0, 1, 0], [1, 0, 0]]]]
    assert _one_hot_cases(gj) == want
    torch = _torch()
    if torch is not None:
        assert _one_hot_cases(torch) == want


# ------------------------------------------------ ops PyTorch has no forward formula for

def _no_forward(lib):
    import re
    fw = lib.autograd.forward_ad
    x = lib.tensor([0.5, -1.5, 2.0, 0.25], dtype=lib.float64)
    sq = lib.tensor([[4., 1.], [1., 3.]], dtype=lib.float64)
    cases = {
        "unique": lambda d: lib.unique(d),
        "histogram": lambda d: lib.histogram(d, 3),
        "heaviside": lambda d: lib.heaviside(d, d),
        "cholesky": lambda d: lib.cholesky(sq * d[0]),
        "cdist": lambda d: lib.cdist(d[:, None], d[:, None]),
        "bincount": lambda d: lib.bincount(lib.tensor([0, 1, 1, 2]), d),
        # allowed: linalg.cholesky has one; an op without one on tensors without tangents
        "linalg_cholesky": lambda d: lib.linalg.cholesky(sq * d[0]),
        "cholesky_no_dual": lambda d: lib.cholesky(sq) * d[0],
    }
    out = {}
    for name, case in cases.items():
        try:
            with fw.dual_level():
                case(fw.make_dual(x.clone(), lib.ones(4, dtype=lib.float64)))
            out[name] = "ok"
        except NotImplementedError as e:
            m = re.fullmatch(r"Trying to use forward AD with (\S+) that does not support "
                             r"it(.*)", str(e), re.S)
            short = m.group(2) == "."
            assert short == m.group(1).startswith("aten::")
            assert short or m.group(2).startswith(" because it has not been implemented "
                                                  "yet.\nPlease file an issue to PyTorch")
            out[name] = m.group(1)
    try:
        lib.func.jacfwd(lambda a: lib.cdist(a[:, None], a[:, None]))(x)
        out["jacfwd_cdist"] = "ok"
    except NotImplementedError:
        out["jacfwd_cdist"] = "refused"
    return out


def test_forward_ad_refuses_ops_without_forward_formula():
    # (gpujit pushed tangents through cholesky / cdist, which PyTorch has no forward
    # formula for, and refused ops without a derivative with reverse mode's RuntimeError)
    want = {"unique": "_unique2", "histogram": "aten::histogram",
            "heaviside": "aten::heaviside", "cholesky": "cholesky", "cdist": "_cdist_forward",
            "bincount": "aten::bincount", "linalg_cholesky": "ok", "cholesky_no_dual": "ok",
            "jacfwd_cdist": "refused"}
    assert _no_forward(gj) == want
    torch = _torch()
    if torch is not None:
        assert _no_forward(torch) == want


def _backward_inside(lib):
    F = lib.func
    w = lib.ones(3, requires_grad=True)

    def bw(y):
        (y * w).sum().backward()
        return y
    out = []
    for case in (lambda: F.vmap(bw)(lib.ones(2, 3)),
                 lambda: F.grad(lambda y: bw(y).sum())(lib.ones(3)),
                 lambda: F.jvp(bw, (lib.ones(3),), (lib.ones(3),)),
                 lambda: F.vmap(lambda y: lib.autograd.backward([(y * w).sum()], inputs=[w]))(
                     lib.ones(2, 3))):
        try:
            case()
            out.append("ran")
        except RuntimeError as e:
            out.append(str(e))
    (w * 2).sum().backward()        # (outside: as ever)
    return out, w.grad.tolist()


def test_backward_refused_inside_transforms():
    # (it ran, accumulating into w.grad once per vmap element)
    words = ("backward() called inside a functorch transform. This is not supported, please "
             "use functorch.grad or functorch.vjp instead or call backward() outside of "
             "functorch transforms.")
    want = ([words] * 4, [2.0, 2.0, 2.0])
    assert _backward_inside(gj) == want
    torch = _torch()
    if torch is not None:
        assert _backward_inside(torch) == want


# ------------------------------------------------ what user code reads of a batched tensor

def _seen_inside(lib):
    F = lib.func
    x = lib.ones(2, 3, requires_grad=True)
    w = lib.ones(3, requires_grad=True)
    seen = []

    def f(y):
        z = y * w
        seen.append(("vmap", y.requires_grad, y.grad_fn is None, y.is_leaf, z.requires_grad,
                     z.grad_fn is None, z.is_leaf, w.requires_grad))
        return z

    def g(y):
        seen.append(("vmap_of_grad", y.requires_grad))
        return (y ** 2).sum()

    def h(y):
        seen.append(("grad_of_vmap", y.requires_grad))
        return y * 2
    out = F.vmap(f)(x * 1)
    out.sum().backward()
    F.vmap(F.grad(g))(x.detach())
    F.grad(lambda a: F.vmap(h)(a).sum())(x.detach())
    return sorted(set(seen)), out.grad_fn is not None, x.grad.tolist()


def test_batched_tensor_reports_as_pytorchs():
    # user code inside vmap sees PyTorch's BatchedTensor: requires_grad False, grad_fn None,
    # is_leaf True, unless a grad-like transform runs inside the vmap (its tensors
    # require grad); gradients still flow through the vmap (were True / a node / False)
    want = ([("grad_of_vmap", False), ("vmap", False, True, True, False, True, True, True),
             ("vmap_of_grad", True)], True, [[1.0] * 3] * 2)
    assert _seen_inside(gj) == want
    torch = _torch()
    if torch is not None:
        assert _seen_inside(torch) == want


def _hooks_inside(lib):
    F = lib.func
    x = lib.ones(2, 3, requires_grad=True)
    res = []

    def attempt(y):
        for fn in (lambda: y.retain_grad(), lambda: y.register_hook(lambda g: g)):
            try:
                fn()
                res.append("ok")
            except RuntimeError as e:
                res.append(str(e))

    def f(y):
        attempt(y)
        return y * 2

    def g(y):
        attempt(y)
        return (y * 2).sum()
    F.vmap(f)(x * 1)
    F.vmap(F.grad(g))(x.detach())
    y = x * 1
    y.retain_grad()             # (outside: as ever)
    return sorted(set(res))     # (gpujit's vmap runs f once per element)


def test_retain_grad_and_hooks_inside_transforms():
    want = ["can't retain_grad on Tensor that has requires_grad=False",
            "cannot register a hook on a tensor that doesn't require gradient",
            "You are attempting to call Tensor.retain_grad() inside of a function being "
            "transformed by a functorch transform. This is unsupported, please attempt to use "
            "the functorch transforms (e.g. grad, vjp, jacrev, jacfwd, hessian) or call "
            "retain_grad() outside of a function being transformed instead.", "ok"]
    want = sorted(want)
    assert _hooks_inside(gj) == want
    torch = _torch()
    if torch is not None:
        assert _hooks_inside(torch) == want


def _numpy_inside(lib):
    F = lib.func
    x = lib.tensor([1., 2., 3.])
    out = {}
    for tname, t in (("grad", lambda g: F.grad(lambda a: g(a).sum())(x)),
                     ("jvp", lambda g: F.jvp(g, (x,), (x,))[1]),
                     ("jacrev", lambda g: F.jacrev(g)(x)),
                     ("vmap", lambda g: F.vmap(g)(lib.ones(2, 3)))):
        for gname, g in (("local", lambda a: a * float(lib.ones(2).numpy().sum())),
                         ("captured", lambda a: a * float(np.asarray(x).sum()))):
            try:
                t(g)
                out[tname, gname] = "ok"
            except RuntimeError as e:
                out[tname, gname] = str(e)
    return out


def test_numpy_refused_inside_grad_transforms():
    # (PyTorch's tensors inside grad / jvp / jacrev are wrappers without storage; under
    # vmap an unbatched tensor's numpy() is fine)
    words = "Cannot access data pointer of Tensor that doesn't have storage"
    want = {(t, g): words for t in ("grad", "jvp", "jacrev") for g in ("local", "captured")}
    want.update({("vmap", "local"): "ok", ("vmap", "captured"): "ok"})
    assert _numpy_inside(gj) == want
    torch = _torch()
    if torch is not None:
        assert _numpy_inside(torch) == want
    # gpujit's own code still reads arrays inside transforms (nll_loss's weights)
    x = gj.tensor([1., 2., 3.])
    g = gj.func.grad(lambda a: gj.nn.functional.nll_loss(
        a[None].log_softmax(-1), gj.tensor([1]), weight=gj.ones(3)))(x)
    p = np.exp(np.array([1., 2., 3.])) / np.exp(np.array([1., 2., 3.])).sum()
    np.testing.assert_allclose(g.numpy(), p - np.array([0., 1., 0.]), rtol=1e-6)


def test_vmap_bool_in_dims_as_pytorch():
    # (PyTorch takes a bool in_dim as an int and size(True) refuses it; gpujit raised a
    # ValueError of its own)
    for lib in filter(None, (gj, _torch())):
        for in_dims in (True, (False,)):
            with pytest.raises(TypeError, match=r"^size\(\): argument 'dim' \(position 1\) "
                               r"must be int, not bool$"):
                lib.func.vmap(lambda a: a * 2, in_dims=in_dims)(lib.ones(2, 3))


def _sparse_under_transforms(lib):
    F = lib.func
    s = lib.sparse_coo_tensor(lib.tensor([[0, 1]]), lib.tensor([1., 2.]), (3,))
    m = lib.sparse_coo_tensor(lib.tensor([[0], [1]]), lib.tensor([2.]), (1, 3))
    return [F.grad(lambda a: (s.to_dense() * a).sum())(lib.ones(3)).tolist(),
            F.vmap(lambda a: s.to_dense() * a)(lib.ones(2, 3)).tolist(),
            F.grad(lambda v: lib.sparse_coo_tensor(lib.tensor([[0, 1]]), v, (3,))
                   .to_dense().sum())(lib.ones(2)).tolist(),
            F.vmap(lambda a: lib.sparse.mm(m, a[:, None]))(lib.ones(2, 3)).tolist()]


def test_sparse_ops_run_under_transforms():
    # (gpujit's sparse kernels are autograd Functions without setup_context: they were
    # refused with the user-Function words under grad / vmap; PyTorch's ops run)
    want = [[1.0, 2.0, 0.0], [[1.0, 2.0, 0.0]] * 2, [1.0, 1.0], [[[2.0]], [[2.0]]]]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _sparse_under_transforms(gj) == want
        torch = _torch()
        if torch is not None:
            assert _sparse_under_transforms(torch) == want
