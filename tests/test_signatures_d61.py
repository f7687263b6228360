"""Eager call forms as torch 2.13's Python bindings take them (helper d61): a number for
`other` by keyword (torch.div(x, other=2)), the deprecated Scalar-first forms old optimizer
code uses (p.add_(-lr, g), v.addcmul_(1 - b, g, g), torch.addmm(beta, M, alpha, a, b)) with
torch's one warning, and subtract / rsub's positional alpha. Expected values: NumPy or
torch 2.13's outputs written down."""
import warnings

import numpy as np
import pytest

import gpujit as torch


def _t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float32).copy())


@pytest.fixture
def warn_always():
    torch.set_warn_always(True)
    try:
        yield
    finally:
        torch.set_warn_always(False)


@pytest.mark.parametrize("call", [
    lambda x: torch.div(x, other=2), lambda x: x.div(other=2),
    lambda x: torch.true_divide(x, other=2), lambda x: torch.divide(x, other=2),
    lambda x: x.true_divide(other=2), lambda x: x.clone().div_(other=2),
    lambda x: x.clone().divide_(other=2)])
def test_number_other_by_keyword(call):
    a = np.array([[3.0, -5.0], [7.0, 1.0]], np.float32)
    r = call(_t(a))
    assert r.dtype == torch.float32
    np.testing.assert_array_equal(r.numpy(), a / 2)


def test_number_other_by_keyword_int_and_mode():
    x = torch.tensor([7, -7, 4])
    r = torch.div(x, other=2)
    assert r.dtype == torch.float32                     # true division of ints
    np.testing.assert_array_equal(r.numpy(), [3.5, -3.5, 2.0])
    r = torch.div(x, other=2, rounding_mode="floor")
    assert r.dtype == torch.int64
    np.testing.assert_array_equal(r.numpy(), [3, -4, 2])
    with pytest.raises(TypeError):
        torch.div(x, other="a")


def test_deprecated_add_sub_forms(warn_always):
    g = np.array([1.0, 2.0, -3.0], np.float32)
    p = np.array([0.5, 0.25, 1.0], np.float32)
    x = _t(p)
    with pytest.warns(UserWarning) as w:
        r = x.add_(-0.1, _t(g))
    assert r is x
    np.testing.assert_allclose(x.numpy(), p + np.float32(-0.1) * g, rtol=1e-6)
    assert str(w[0].message).startswith(
        "This overload of add_ is deprecated:\n\tadd_(Number alpha, Tensor other)\n"
        "Consider using one of the following signatures instead:\n"
        "\tadd_(Tensor other, *, Number alpha = 1)")
    with pytest.warns(UserWarning) as w:
        r = torch.sub(_t(p), 2, _t(g))
    np.testing.assert_allclose(r.numpy(), p - 2 * g)
    assert "\tsub(Tensor input, Number alpha, Tensor other, *, Tensor out = None)\n" \
        in str(w[0].message)
    with pytest.warns(UserWarning):
        out = torch.empty(3)
        r = torch.add(_t(p), 2, _t(g), out=out)
    assert r is out
    np.testing.assert_allclose(out.numpy(), p + 2 * g)
    with pytest.warns(UserWarning):
        # (torch 2.13: a number for other too; x + 2 * 0.5)
        np.testing.assert_allclose(torch.add(_t(p), 2, 0.5).numpy(), p + 1.0)
        np.testing.assert_allclose(_t(p).sub(2, _t(g)).numpy(), p - 2 * g)


def test_deprecated_warns_once_a_process():
    import gpujit.ops.deprecated_signatures as ds
    saved = list(ds._warned)
    ds._warned.clear()
    try:
        x = _t([1.0, 2.0])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            x.add_(2, x)
            x.addcmul_(0.5, x, x)
            torch.addmm(0.5, _t(np.eye(2)), _t(np.eye(2)), _t(np.eye(2)))
        assert len(w) == 1 and "add_" in str(w[0].message)
    finally:
        ds._warned[:] = saved or [True]


def test_deprecated_addcmul_addcdiv_old_adam(warn_always):
    # an Adam step as pre-1.5 optimizer code wrote it
    rng = np.random.default_rng(0)
    p0, g = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    p, m, v = _t(p0), torch.zeros(5), torch.zeros(5)
    with pytest.warns(UserWarning):
        m.mul_(0.9).add_(1 - 0.9, _t(g))
        v.mul_(0.999).addcmul_(1 - 0.999, _t(g), _t(g))
        denom = v.sqrt().add_(1e-8)
        p.addcdiv_(-0.01, m, denom)
    m_ref = np.float32(0.1) * g
    v_ref = np.float32(0.001) * g * g
    np.testing.assert_allclose(m.numpy(), m_ref, rtol=1e-5)
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-5)
    np.testing.assert_allclose(p.numpy(), p0 - 0.01 * m_ref / (np.sqrt(v_ref) + 1e-8),
                               rtol=1e-5)
    with pytest.warns(UserWarning):
        r = torch.addcmul(_t(p0), 0.5, _t(g), _t(g))
        np.testing.assert_allclose(r.numpy(), p0 + 0.5 * g * g, rtol=1e-6)
        r = _t(p0).addcdiv(2, _t(g), _t([2.0] * 5))
        np.testing.assert_allclose(r.numpy(), p0 + g, rtol=1e-6)


def test_deprecated_beta_alpha_forms(warn_always):
    M = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    a = np.array([[1.0, 0.0], [1.0, 1.0]], np.float32)
    v = np.array([1.0, -1.0], np.float32)
    with pytest.warns(UserWarning) as w:
        r = torch.addmm(0.5, _t(M), 2.0, _t(a), _t(M))
    np.testing.assert_allclose(r.numpy(), 0.5 * M + 2 * a @ M)
    assert str(w[0].message).endswith(
        "\taddmm(Tensor input, Tensor mat1, Tensor mat2, *, Number beta = 1, Number alpha = 1,"
        " Tensor out = None)\n\taddmm(Tensor input, Tensor mat1, Tensor mat2, torch.dtype "
        "out_dtype, *, Number beta = 1, Number alpha = 1, Tensor out = None)")
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(torch.addmm(0.5, _t(M), _t(a), _t(M)).numpy(),
                                   0.5 * M + a @ M)
        x = _t(M)
        assert x.addmm_(0.5, 2.0, _t(a), _t(a)) is x
        np.testing.assert_allclose(x.numpy(), 0.5 * M + 2 * a @ a)
        np.testing.assert_allclose(torch.addmv(0.5, _t(v), 2.0, _t(M), _t(v)).numpy(),
                                   0.5 * v + 2 * M @ v)
        np.testing.assert_allclose(torch.addr(0.5, _t(M), _t(v), _t(v)).numpy(),
                                   0.5 * M + np.outer(v, v))
        B = np.stack([M, a])
        np.testing.assert_allclose(torch.baddbmm(0.5, _t(B), 2.0, _t(B), _t(B)).numpy(),
                                   0.5 * B + 2 * B @ B, rtol=1e-6)
        np.testing.assert_allclose(torch.addbmm(0.5, _t(M), _t(B), _t(B)).numpy(),
                                   0.5 * M + (B @ B).sum(0), rtol=1e-6)


def test_subtract_rsub_positional_alpha_no_warning():
    x = _t([3.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(torch.subtract(x, 2, 0.5).numpy(), [2.0, 0.0])
        np.testing.assert_array_equal(torch.rsub(x, 2, 0.5).numpy(), [0.5, 1.5])


@pytest.mark.parametrize("call", [
    lambda x: x.add(x, x, x),
    lambda x: torch.subtract(x, x, 2),
    lambda x: torch.rsub(x, x, 2),
    lambda x: x.addcmul(2, x, x, x),
    lambda x: torch.addmm("a", x, x, x),
])
def test_other_calls_still_refused(call):
    with pytest.raises(TypeError):
        call(_t(np.eye(2)))


# ---------------------------------------------------------------- optimizers (item 3)

def test_load_state_dict_shares_state_tensors_as_torch():
    # torch 2.13's load_state_dict casts with Tensor.to: a tensor already of the
    # parameter's dtype / device is taken as it is (shared with the other optimizer)
    p, q = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    o = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.ones(3)
    o.step()
    o2 = torch.optim.Adam([q], lr=0.1)
    o2.load_state_dict(o.state_dict())
    assert o2.state[q]["exp_avg"] is o.state[p]["exp_avg"]
    assert o2.state[q]["step"] is o.state[p]["step"]
    o.state[p]["exp_avg"].mul_(2)                     # mutate one, read the other
    np.testing.assert_allclose(o2.state[q]["exp_avg"].numpy(), [0.2] * 3, rtol=1e-6)
    # another dtype: a converted copy
    r = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    o3 = torch.optim.Adam([r])
    o3.load_state_dict(o.state_dict())
    assert o3.state[r]["exp_avg"].dtype == torch.float64
    assert o3.state[r]["step"] is o.state[p]["step"]   # ('step' stays as saved)
    q.grad = torch.ones(3)
    o2.step()                                           # steps on the loaded values
    np.testing.assert_allclose(o2.state[q]["exp_avg"].numpy(), [0.28] * 3, rtol=1e-6)
    assert float(o2.state[q]["step"]) == 2.0


def _swap_setup():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
    b = torch.nn.Parameter(torch.tensor([0.5]))
    opt = torch.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)
    w.grad, b.grad = torch.tensor([0.1, -0.2, 0.3]), torch.tensor([1.0])
    opt.step()
    sd = opt.state_dict()
    osd = {"state": {k: {kk: vv.clone() for kk, vv in v.items()} for k, v in sd["state"].items()},
           "param_groups": [dict(g) for g in sd["param_groups"]]}
    osd["param_groups"][0]["lr"] = 0.5
    return w, b, opt, osd


def test_swap_in_optimizer_params_and_state():
    # expected values: torch 2.13's on the same program
    w, b, opt, osd = _swap_setup()
    w2 = torch.nn.Parameter(torch.tensor([10.0, 20.0, 30.0]))
    b2 = torch.nn.Parameter(torch.tensor([5.0]))
    w2.grad, b2.grad = torch.ones(3), torch.tensor([-1.0])
    ea = osd["state"][0]["exp_avg"]
    with torch.optim.swap_in_optimizer_params_and_state(opt, {"w": w2, "b": b2}, osd):
        assert opt.param_groups[0]["params"][0] is w2 and opt.param_groups[0]["lr"] == 0.5
        opt.step()
        # in-place state updates reach the given state's tensors, at once
        np.testing.assert_allclose(ea.numpy(), [0.109, 0.082, 0.127], rtol=1e-6)
    np.testing.assert_allclose(w2.detach().numpy(), [9.596456527709961, 19.700822830200195,
                                                     29.547382354736328], rtol=1e-6)
    np.testing.assert_allclose(b2.detach().numpy(), [5.000526428222656], rtol=1e-6)
    assert osd["state"][0]["exp_avg"] is ea
    np.testing.assert_allclose(osd["state"][0]["exp_avg_sq"].numpy(),
                               [0.00100999, 0.00103996, 0.00108991], rtol=1e-5)
    assert float(osd["state"][1]["step"]) == 2.0
    # the live optimizer restored, its state untouched
    assert opt.param_groups[0]["params"][0] is w and opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_allclose(opt.state[w]["exp_avg"].numpy(), [0.01, -0.02, 0.03], rtol=1e-6)
    assert float(opt.state[w]["step"]) == 1.0
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 2.2, 2.8], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [0.48], rtol=1e-6)
    assert "swap_in_optimizer_params_and_state" in torch.optim.__all__


def test_swap_in_refusals():
    w, b, opt, osd = _swap_setup()
    w2 = torch.nn.Parameter(torch.ones(3))
    swap = torch.optim.swap_in_optimizer_params_and_state
    with pytest.raises(RuntimeError, match="requires initialized optimizer state"):
        with swap(torch.optim.SGD([w], lr=0.1), {"w": w2}, osd):
            pass
    with pytest.raises(RuntimeError, match="different number of parameter groups"):
        with swap(opt, {"w": w2}, {"state": {}, "param_groups": [{"params": [0]}]}):
            pass
    with pytest.raises(RuntimeError, match="to match optimizer.param_groups ordering"):
        with swap(opt, {"w": w2}, osd):
            pass
    assert opt.param_groups[0]["params"][0] is w


# ------------------------------------------- arguments of a type torch's parser refuses

@pytest.mark.parametrize("call, msg", [
    # (torch 2.13's words; gpujit's Python bodies leaked "'<' not supported between
    # instances of 'str' and 'int'", "unsupported operand type(s) for +", shape errors)
    (lambda x: torch.pdist(x, "2"), "pdist(): argument 'p' (position 2) must be float, not str"),
    (lambda x: torch.pdist(x, p="2"), "pdist(): argument 'p' must be float, not str"),
    (lambda x: torch.pdist(x, 2, 3),
     "pdist() takes from 1 to 2 positional arguments but 3 were given"),
    (lambda x: torch.margin_ranking_loss(x, x, x, "2"),
     "margin_ranking_loss(): argument 'margin' (position 4) must be float, not str"),
    (lambda x: torch.cosine_embedding_loss(x, x, x, "2"),
     "cosine_embedding_loss(): argument 'margin' (position 4) must be float, not str"),
    (lambda x: torch.conv_tbc(x, "2", x),
     "conv_tbc(): argument 'weight' (position 2) must be Tensor, not str"),
    (lambda x: torch.hinge_embedding_loss(x, "2"),
     "hinge_embedding_loss(): argument 'target' (position 2) must be Tensor, not str"),
    (lambda x: torch.embedding_bag(x, "a", x),
     "embedding_bag(): argument 'indices' (position 2) must be Tensor, not str"),
    (lambda x: torch.rms_norm(x, [4], eps="a"), "rms_norm(): argument 'eps' must be float, not str"),
    (lambda x: torch.channel_shuffle(x, 2.5),
     "channel_shuffle(): argument 'groups' (position 2) must be int, not float"),
    (lambda x: torch.ctc_loss(x, x, [1], "a"),
     "ctc_loss() received an invalid combination of arguments - got (Tensor, Tensor, list, str)"),
])
def test_python_level_functions_refuse_as_torch(call, msg):
    with pytest.raises(TypeError) as e:
        call(torch.ones(3, 4))
    assert str(e.value).startswith(msg), str(e.value)


def test_python_level_functions_still_work_and_keep_their_errors():
    x = torch.from_numpy(np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]], np.float32))
    np.testing.assert_allclose(torch.pdist(x).numpy(), [5.0, 10.0, 5.0], rtol=1e-6)
    np.testing.assert_allclose(torch.pdist(x, 1).numpy(), [7.0, 14.0, 7.0], rtol=1e-6)
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors"):
        torch.pdist(torch.ones(3))
    assert torch.pdist.__wrapped__ is not None


def test_small_fidelity_fixes():
    # torch.conj_physical_ at top level; index_fill's 2-d index a RuntimeError (torch's
    # words); ormqr of a vector torch's rank error, not an IndexError from the body
    x = torch.ones(2)
    assert torch.conj_physical_(x) is x
    with pytest.raises(RuntimeError, match="^Index has to be a vector/scalar$"):
        torch.ones(3, 4).index_fill(1, torch.zeros(2, 2, dtype=torch.int64), 2.0)
    with pytest.raises(RuntimeError, match="torch.ormqr: input must have at least 2 dimensions"):
        torch.ormqr(x, x, x)
    with pytest.raises(RuntimeError, match="torch.ormqr: other must have at least 2 dimensions"):
        torch.ormqr(torch.ones(3, 2), torch.ones(2), torch.ones(3))


@pytest.mark.parametrize("src, name", [("2", "str"), ([1.5, 2.5, 3.5], "list"),
                                       (np.ones(3), "numpy.ndarray")])
def test_copy_refuses_what_is_no_tensor_or_number(src, name):
    # (gpujit took them through np.asarray(v, int64): x.copy_([1.5, 2.5, 3.5]) wrote 1, 2, 3)
    x = torch.zeros(3)
    with pytest.raises(TypeError, match=f"^copy_\\(\\): argument '\\w+' \\(position 1\\) must "
                                        f"be Tensor, not {name}$"):
        x.copy_(src)
    assert x.tolist() == [0.0, 0.0, 0.0]
    assert x.copy_(2.5).tolist() == [2.5] * 3 and x.copy_(np.float32(1.5)).tolist() == [1.5] * 3
    assert x.copy_(True).tolist() == [1.0] * 3


def test_norm_out():
    # (gpujit refused out=: "norm(): out= is not supported by gpujit")
    x = _t([[3.0, 4.0], [6.0, 8.0]])
    o = torch.empty(0)
    assert torch.norm(x, out=o) is o
    np.testing.assert_allclose(o.numpy(), np.sqrt(125.0), rtol=1e-6)
    o = torch.empty(0)
    assert torch.norm(x, 1, dim=0, out=o) is o and o.tolist() == [9.0, 12.0]
    o = torch.empty(0)
    torch.norm(x, "nuc", out=o)
    np.testing.assert_allclose(o.numpy(), np.linalg.norm(x.numpy(), "nuc"), rtol=1e-5)


def test_out_resize_warning_from_code_run_by_eval():
    # code run by exec / eval under globals with no __name__: the warning was dropped
    # (warnings.warn_explicit(module=None)); torch 2.13 shows it
    x = torch.ones(2, 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = eval("torch.add(x, x, out=o)", {"torch": torch, "x": x, "o": torch.zeros(3)})
    assert r.shape == (2, 2)
    assert [str(m.message)[:56] for m in w] == [
        "An output with one or more elements was resized since it"]


def test_linspace_logspace_out_of_as_many_elements_keeps_its_shape():
    # torch 2.13 (as its arange): out of 4 elements, shape (2, 2), stays (2, 2)
    o = torch.zeros(2, 2)
    assert torch.linspace(0, 1, 4, out=o) is o and tuple(o.shape) == (2, 2)
    np.testing.assert_allclose(o.numpy().ravel(), [0, 1 / 3, 2 / 3, 1], rtol=1e-6)
    o = torch.zeros(2, 2)
    torch.logspace(0, 1, 4, out=o)
    assert tuple(o.shape) == (2, 2)
    np.testing.assert_allclose(o.numpy().ravel(), 10 ** np.linspace(0, 1, 4), rtol=1e-6)
    o = torch.zeros(2, 2)
    torch.linspace(0, 1, 3, out=o)              # (other sizes: resized)
    assert tuple(o.shape) == (3,)


def test_tensordot_int_dims_error_names_negative_dims():
    # torch 2.13's tensordot(a, b, n) contracts a's dims range(-n, 0): its error says -2
    x = torch.ones(2, 3, 4)
    with pytest.raises(RuntimeError, match="^contracted dimensions need to match, but first "
                                           "has size 3 in dim -2 and second has size 2 in dim 0$"):
        torch.tensordot(x, x, dims=2)
    r = torch.tensordot(torch.ones(2, 3, 4), torch.ones(3, 4, 5), 2)
    assert tuple(r.shape) == (2, 5) and r.tolist()[0][0] == 12.0
