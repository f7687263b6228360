"""Session 40 (e40): eager autograd fidelity against PyTorch 2.13 (torch's answers written
out; no torch import).

1. The edges of autograd's not-implemented fallback node (NotImplemented: ops PyTorch's
   derivatives.yaml does not name: floor_divide, heaviside, bincount, histogram(dd),
   scatter with reduce=, linalg.ldl_solve, binomial...) are the tensors that require grad,
   Tensor[] elements included, in argument order: torch.floor_divide(x, y) of an x
   requiring grad has one edge (AccumulateGrad), bincount(ints, weights) one,
   histogramdd(x, [b0, b1]) with x and b1 requiring grad two, scatter(x, 0, index, src,
   reduce='add') with src requiring grad one. gpujit gave an edge per Tensor argument
   ((None, 0) for an index, a None weight or a tensor needing no grad) and none for a
   Tensor[]'s elements. The backward still raises "derivative for aten::<op> is not
   implemented".
2. torch._standard_gamma records StandardGammaBackward0 (edge to its input), whose
   gradient is grad * torch._standard_gamma_grad(alpha, sample) (a registry op now, ATen's
   standard_gamma_grad_one in double: gamma_grad([0.3, 2.5, 30], [0.1, 2.4, 20]) =
   [0.7894044031433252, 1.046918038539682, 0.8154193264259489]; its own backward raises
   NotImplementedError "the derivative for '_standard_gamma_grad' is not implemented.");
   torch._sample_dirichlet records the NotImplemented fallback node ("derivative for
   aten::_sample_dirichlet is not implemented"). gpujit recorded neither (no grad_fn) and
   had no torch._standard_gamma_grad. Gamma(c, rate).rsample() is
   _standard_gamma(c) / rate (DivBackward0 -> [StandardGammaBackward0, None]; the clamp to
   the smallest normal is not recorded); gpujit's was AddBackward0 -> DivBackward0.
3. Library functions in scripted code (torch compiles their Python source):
   F.adaptive_max_pool{1,2,3}d_with_indices and F.fractional_max_pool{2,3}d_with_indices
   compile (gpujit: "has no function"; they return (values, indices) whatever
   return_indices says); nn.init.uniform_ / normal_ / constant_ / ones_ / zeros_ /
   xavier_uniform_ / xavier_normal_ compile and write under no_grad (a leaf requiring grad
   keeps requires_grad, no grad_fn, _version 1; gpujit refused the call, or, for uniform_
   / normal_, ran the in-place op with grad: "a leaf Variable that requires grad is being
   used in an in-place operation"); torch.lu compiles (boolean dispatch on get_infos:
   (LU, pivots) or (LU, pivots, infos)). torch.lu / torch._lu_with_info never raise for a
   singular matrix (ATen ignores check_errors: torch.lu(zeros(3, 3)) gives pivots
   [1, 2, 3], info 1; gpujit raised linalg.lu_factor's "U[1,1] is zero"), and the
   deprecation warning comes from _lu_with_info (so the scripted call warns too).
4. F.sigmoid and F.tanh are Python functions of `input` in torch (not torch.sigmoid's
   binding): F.sigmoid(input=x) works eagerly (gpujit: TypeError), F.sigmoid(self=x) and
   F.sigmoid(x, out=y) are refused eagerly and in scripted code (gpujit accepted both).
   More generally scripted F.<name>(...) keywords are the Python function's parameters:
   F.relu(self=x) / F.silu(self=x) / F.hardsigmoid(self=x) are refused by torch's
   compiler ("relu(Tensor input, bool inplace=False) -> Tensor: Argument input not
   provided"); gpujit bound them to the op's schema. torch's C++ builtins keep their
   schema names (F.logsigmoid(self=x) compiles in both).
5. F.batch_norm's running-statistics update leaves their version counters alone (ATen's
   kernel writes them directly): rm._version stays 0 after F.batch_norm(x, rm, rv,
   training=True), an nn.BatchNorm1d's running_mean stays at 1 (its reset's zero_) over
   forwards while num_batches_tracked counts each add_; gpujit bumped both stats per call.
   instance_norm's update is a copy_ (one bump per call) in torch; gpujit bumped twice
   when the input required grad (its recording composite's copy_ and F.instance_norm's).
6. torch 2.13's F.mse_loss / l1_loss / huber_loss take weight= (a tensor of the input's
   size): the elementwise loss times weight; 'sum' sums it, 'mean' divides the sum by
   weight.sum() (mse, l1) or averages (huber); nodes MulBackward0 / SumBackward0 /
   DivBackward0 / MeanBackward0; ValueError "Weights and input must have the same size."
   and "Invalid reduction mode: bad. Expected one of 'none', 'mean', 'sum'."; scripted
   calls giving weight= compile (torch's Python source). gpujit: TypeError (no weight).
7. grad_fn names: torch.fft's complex-to-real transforms (irfft, irfft2, irfftn, hfft,
   hfft2, hfftn) record ATen's _fft_c2r node, FftC2RBackward0 (gpujit FftIrfftBackward0
   ...; torch's edge leads to the complex copy of the input, which gpujit cannot make);
   torch.norm_except_dim(v, pow, dim) is NormBackward0 for dim -1, else ViewBackward0
   (gpujit NormExceptDimBackward0); torch._standard_gamma_grad(alpha, x) has one edge
   (alpha; x is not differentiable: no grad_fn when only x requires grad).
8. F.soft_margin_loss is ATen's soft_margin_loss (a registry op now): one
   SoftMarginLossBackward0 node with an edge to the input (gpujit: MeanBackward0 ->
   Log1PBackward0 ... of its composite), the backward ATen's
   (target * z * -norm) / (z + 1) * grad; traced as aten::soft_margin_loss. Likewise
   F.multi_margin_loss is ATen's multi_margin_loss (MultiMarginLossBackward0, one edge;
   the weight takes none), F.multilabel_margin_loss ATen's multilabel_margin_loss
   (MultilabelMarginLossBackward0).
"""
import warnings

import numpy as np
import pytest

import gpujit as torch


def _names(y):
    g = y.grad_fn
    return type(g).__name__, [type(n).__name__ if n is not None else None
                              for n, _ in g.next_functions]


def _leaf(*shape):
    return torch.rand(*shape, requires_grad=True)


@pytest.mark.parametrize("call, want", [
    (lambda a, b: torch.floor_divide(a, b), ["AccumulateGrad"]),
    (lambda a, b: torch.floor_divide(b, a), ["AccumulateGrad"]),
    (lambda a, b: torch.heaviside(b, a), ["AccumulateGrad"]),
    (lambda a, b: torch.bincount(torch.tensor([0, 1, 1]), a), ["AccumulateGrad"]),
    (lambda a, b: torch.histogram(a, torch.tensor([0., .5, 1.]))[0], ["AccumulateGrad"]),
    (lambda a, b: torch.histogram(b, torch.tensor([0., .5, 1.], requires_grad=True),
                                  weight=a)[0], ["AccumulateGrad", "AccumulateGrad"]),
    (lambda a, b: torch.histogramdd(a.view(3, 1), [torch.tensor([0., 1.])])[0],
     ["ViewBackward0"]),
    (lambda a, b: torch.histogramdd(
        b.view(3, 1).expand(3, 2).contiguous(),
        [torch.tensor([0., 1.]), torch.tensor([0., .5, 1.], requires_grad=True)])[0],
     ["AccumulateGrad"]),
    (lambda a, b: torch.scatter(b, 0, torch.tensor([0, 2]), a[:2], reduce="add"),
     ["SliceBackward0"]),
    (lambda a, b: torch.scatter(a, 0, torch.tensor([0, 2]), 1.5, reduce="multiply"),
     ["AccumulateGrad"]),
    (lambda a, b: torch.binomial(torch.full((3,), 5.), a), ["AccumulateGrad"]),
])
def test_not_implemented_fallback_edges(call, want):
    a, b = _leaf(3), torch.rand(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = call(a, b)
    assert _names(y) == ("NotImplemented", want)
    with pytest.raises(RuntimeError, match=r"derivative for aten::\w+ is not implemented"):
        y.sum().backward()


def test_not_implemented_edges_lead_to_the_inputs():
    a = _leaf(4, 2)
    bins = [torch.tensor([0., 1.]), torch.tensor([0., .5, 1.], requires_grad=True)]
    h = torch.histogramdd(a, bins)[0]
    nf = h.grad_fn.next_functions
    assert len(nf) == 2
    assert nf[0][0].variable is a and nf[1][0].variable is bins[1]
    ld = torch.tensor([[2., 0.], [0.5, 3.]])
    piv = torch.tensor([1, 2], dtype=torch.int32)
    B = _leaf(2, 1)
    y = torch.linalg.ldl_solve(ld, piv, B)
    assert _names(y) == ("NotImplemented", ["AccumulateGrad"])
    assert y.grad_fn.next_functions[0][0].variable is B


def test_standard_gamma_records_its_backward():
    torch.manual_seed(0)
    a = torch.tensor([0.3, 1.0, 2.5, 10.0, 30.0], requires_grad=True)
    y = torch._standard_gamma(a)
    assert _names(y) == ("StandardGammaBackward0", ["AccumulateGrad"])
    y.sum().backward()
    want = torch._standard_gamma_grad(a.detach(), y.detach())
    np.testing.assert_array_equal(a.grad.numpy(), want.numpy())
    g = torch._standard_gamma_grad(a, y)
    assert type(g.grad_fn).__name__ == "StandardGammaGradBackward0"
    with pytest.raises(NotImplementedError, match="the derivative for "
                       "'_standard_gamma_grad' is not implemented."):
        g.sum().backward()
    got = torch._standard_gamma_grad(torch.tensor([0.3, 2.5, 30.0], dtype=torch.float64),
                                     torch.tensor([0.1, 2.4, 20.0], dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), [0.7894044031433252, 1.046918038539682,
                                             0.8154193264259489], rtol=1e-13)


def test_sample_dirichlet_records_not_implemented():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = torch._sample_dirichlet(a)
    assert _names(d) == ("NotImplemented", ["AccumulateGrad"])
    with pytest.raises(RuntimeError, match="derivative for aten::_sample_dirichlet is not "
                       "implemented"):
        d.sum().backward()


def test_gamma_rsample_graph():
    torch.manual_seed(0)
    c = torch.tensor([0.5, 2.0, 9.0], requires_grad=True)
    r = torch.distributions.Gamma(c, torch.tensor(2.0)).rsample()
    assert _names(r) == ("DivBackward0", ["StandardGammaBackward0", None])
    r.sum().backward()
    want = torch._standard_gamma_grad(c.detach(), (r * 2).detach()) / 2
    np.testing.assert_allclose(c.grad.numpy(), want.numpy(), rtol=1e-6)


def test_scripted_with_indices_pools():
    F = torch.nn.functional

    def f(x, r, r3):
        a = F.adaptive_max_pool1d_with_indices(x[0], 2, False)
        b = F.adaptive_max_pool2d_with_indices(x, [2, 3])
        c = F.adaptive_max_pool3d_with_indices(x.unsqueeze(0), 2)
        d = F.fractional_max_pool2d_with_indices(x, 2, output_size=2, _random_samples=r)
        e = F.fractional_max_pool3d_with_indices(x.unsqueeze(0), 1, output_size=2,
                                                 _random_samples=r3, return_indices=False)
        return a, b, c, d, e

    x = torch.arange(48.).reshape(1, 3, 4, 4).sin()
    r, r3 = torch.full((1, 3, 2), 0.3), torch.full((1, 1, 3), 0.3)
    got = torch.jit.script(f)(x, r, r3)
    want = f(x, r, r3)
    assert [len(t) for t in got] == [2] * 5
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    # torch 2.13's indices
    assert got[3][1].flatten()[:6].tolist() == [1, 2, 8, 14, 4, 3]
    assert got[4][1].flatten()[:6].tolist() == [0, 3, 12, 15, 32, 35]
    assert got[0][1].flatten()[:6].tolist() == [1, 2, 0, 3, 0, 2]


def _init_calls(x):
    I = torch.nn.init
    a = I.uniform_(x[0], -1.0, 1.0)
    b = I.normal_(x[1], 0.0, 2.0)
    I.constant_(x[2], 0.5)
    I.ones_(x[3])
    return a, b


def test_scripted_nn_init_runs_without_grad():
    I = torch.nn.init
    for fn in (I.uniform_, I.normal_, I.xavier_uniform_, I.xavier_normal_, I.zeros_,
               I.ones_):
        w = torch.zeros(4, 3, requires_grad=True)
        s = torch.jit.script(fn)
        torch.manual_seed(0)
        r = s(w)
        assert r.requires_grad and r.grad_fn is None and w._version == 1
        w2 = torch.zeros(4, 3, requires_grad=True)
        torch.manual_seed(0)
        np.testing.assert_array_equal(fn(w2).detach().numpy(), r.detach().numpy())
    # torch 2.13's numbers after manual_seed(0) (scripted xavier_uniform_(w, gain=2.0))

    def xu(x):
        return torch.nn.init.xavier_uniform_(x, gain=2.0)

    torch.manual_seed(0)
    r = torch.jit.script(xu)(torch.zeros(4, 3, requires_grad=True))
    np.testing.assert_allclose(r.detach().flatten()[:4].numpy(),
                               [-0.0139, 0.9933, -1.524, -1.3627], atol=1e-4)

    def c(x):
        return torch.nn.init.constant_(x, 0.5)

    w = torch.zeros(2, 2, requires_grad=True)
    assert torch.jit.script(c)(w).detach().tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert w.grad_fn is None and w._version == 1


def test_scripted_lu_and_singular_lu():
    def f(x):
        return torch.lu(x)

    def g(x):
        return torch.lu(x, get_infos=True)

    x = torch.tensor([[4., 3., 1.], [6., 3., 2.], [1., 5., 9.]])
    # (ATen warns once per process, as gpujit: an earlier torch.lu in this process had it;
    # set_warn_always shows it again)
    was = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            a = torch.jit.script(f)(x)
            b = torch.jit.script(g)(x)
    finally:
        torch.set_warn_always(was)
    assert any("torch.lu is deprecated" in str(m.message) for m in w)
    assert len(a) == 2 and len(b) == 3
    assert [t.dtype for t in b] == [torch.float32, torch.int32, torch.int32]
    np.testing.assert_allclose(a[0].flatten()[:4].numpy(), [6.0, 3.0, 2.0, 1 / 6], rtol=1e-6)
    assert a[1].tolist() == [2, 3, 3] and b[2].tolist() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu, piv = torch.lu(torch.zeros(3, 3))
        assert piv.tolist() == [1, 2, 3] and lu.abs().sum().item() == 0
        assert torch._lu_with_info(torch.zeros(3, 3)).info.tolist() == 1
        assert torch.jit.script(f)(torch.zeros(2, 2))[1].tolist() == [1, 2]


def test_functional_sigmoid_tanh_are_python_functions():
    F = torch.nn.functional
    x = torch.tensor([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(F.sigmoid(input=x).numpy(), 1 / (1 + np.exp(-x.numpy())),
                               rtol=1e-6)
    np.testing.assert_allclose(F.tanh(input=x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    for call in (lambda: F.sigmoid(self=x), lambda: F.tanh(self=x),
                 lambda: F.sigmoid(x, out=x)):
        with pytest.raises(TypeError):
            call()


def _sig_self(x):
    return torch.nn.functional.sigmoid(self=x)


def _sig_out(x):
    return torch.nn.functional.sigmoid(x, out=x)


def _relu_self(x):
    return torch.nn.functional.relu(self=x)


def _silu_self(x):
    return torch.nn.functional.silu(self=x)


def _sig_input(x):
    return torch.nn.functional.sigmoid(input=x) + torch.sigmoid(input=x)


def _logsigmoid_self(x):
    return torch.nn.functional.logsigmoid(self=x)


@pytest.mark.parametrize("fn", [_sig_self, _sig_out, _relu_self, _silu_self])
def test_scripted_functional_keywords_are_the_python_functions(fn):
    with pytest.raises(Exception, match="input|out|self"):
        torch.jit.script(fn)


def test_scripted_functional_keywords_accepted():
    x = torch.tensor([-1.0, 0.0, 2.0])
    s = torch.jit.script(_sig_input)
    np.testing.assert_allclose(s(x).numpy(), 2 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    assert "aten::sigmoid" in str(s.graph)
    np.testing.assert_allclose(torch.jit.script(_logsigmoid_self)(x).numpy(),
                               -np.log1p(np.exp(-x.numpy())), rtol=1e-6)


def test_batch_norm_running_stats_versions():
    F = torch.nn.functional
    x = torch.arange(24.).reshape(4, 3, 2).sin()
    rm, rv = torch.zeros(3), torch.ones(3)
    F.batch_norm(x, rm, rv, training=True)
    F.batch_norm(x.requires_grad_(), rm, rv, torch.ones(3, requires_grad=True),
                 training=True)
    assert (rm._version, rv._version) == (0, 0)
    assert not np.allclose(rm.numpy(), 0)       # (it was updated)
    m = torch.nn.BatchNorm1d(3)
    m(x)
    assert (m.running_mean._version, m.running_var._version,
            m.num_batches_tracked._version) == (1, 1, 2)
    m(x)
    assert (m.running_mean._version, m.num_batches_tracked._version) == (1, 3)
    F.instance_norm(x, rm, rv, use_input_stats=True)      # (x requires grad)
    assert (rm._version, rv._version) == (1, 1)
    F.instance_norm(x.detach(), rm, rv, use_input_stats=True)
    assert (rm._version, rv._version) == (2, 2)


_WX = [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]]
_WY = [[0.0, 1.0, 1.0], [1.0, 0.5, -3.0]]
_WW = [[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]]
# torch 2.13: (value(s), grad of the sum in x, grad_fn)
_WEIGHTED = {
    ("mse_loss", "none"): ([0.25, 8.0, 0.5, 0.0, 0.25, 18.75],
                           [1.0, -8.0, 1.0, 0.0, -1.0, 15.0], "MulBackward0"),
    ("mse_loss", "sum"): ([27.75], [1.0, -8.0, 1.0, 0.0, -1.0, 15.0], "SumBackward0"),
    ("mse_loss", "mean"): ([3.7], [0.13333, -1.06667, 0.13333, 0.0, -0.13333, 2.0],
                           "DivBackward0"),
    ("l1_loss", "none"): ([0.5, 4.0, 0.5, 0.0, 0.5, 7.5], [1.0, -2.0, 0.5, 0.0, -1.0, 3.0],
                          "MulBackward0"),
    ("l1_loss", "mean"): ([1.73333], [0.13333, -0.26667, 0.06667, 0.0, -0.13333, 0.4],
                          "DivBackward0"),
    ("huber_loss", "none"): ([0.125, 3.0, 0.25, 0.0, 0.125, 6.0],
                             [0.5, -2.0, 0.5, 0.0, -0.5, 3.0], "MulBackward0"),
    ("huber_loss", "sum"): ([9.5], [0.5, -2.0, 0.5, 0.0, -0.5, 3.0], "SumBackward0"),
    ("huber_loss", "mean"): ([1.58333], [0.08333, -0.33333, 0.08333, 0.0, -0.08333, 0.5],
                             "MeanBackward0"),
}


@pytest.mark.parametrize("name, reduction", sorted(_WEIGHTED))
def test_weighted_pointwise_losses(name, reduction):
    want, want_grad, node = _WEIGHTED[name, reduction]
    x = torch.tensor(_WX, requires_grad=True)
    r = getattr(torch.nn.functional, name)(x, torch.tensor(_WY), reduction=reduction,
                                           weight=torch.tensor(_WW))
    assert type(r.grad_fn).__name__ == node
    g, = torch.autograd.grad(r.sum(), x)
    np.testing.assert_allclose(r.detach().numpy().ravel(), want, rtol=1e-4)
    np.testing.assert_allclose(g.numpy().ravel(), want_grad, rtol=1e-4, atol=1e-6)


def test_weighted_losses_errors_and_script():
    F = torch.nn.functional
    x, y, w = torch.tensor(_WX), torch.tensor(_WY), torch.tensor(_WW)
    for f in (F.mse_loss, F.l1_loss, F.huber_loss):
        with pytest.raises(ValueError, match="Weights and input must have the same size."):
            f(x, y, weight=w[0])
        with pytest.raises(ValueError, match="Invalid reduction mode: bad. Expected one of "
                                             "'none', 'mean', 'sum'."):
            f(x, y, weight=w, reduction="bad")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert abs(F.mse_loss(x, y[0], weight=w).item() - 2.200000047683716) < 1e-6
    assert abs(F.huber_loss(x, y, weight=w, delta=0.5).item() - 0.9270833134651184) < 1e-6

    def s(a, b, c):
        return (F.mse_loss(a, b, weight=c) + F.l1_loss(a, b, weight=c, reduction="sum")
                + F.huber_loss(a, b, weight=c))

    assert abs(torch.jit.script(s)(x, y, w).item() - 18.283334732055664) < 1e-5

    def plain(a, b):
        return F.mse_loss(a, b) + F.l1_loss(a, b, weight=None, reduction="sum")

    # (torch 2.13's graph calls F.mse_loss / F.l1_loss, prim::CallFunction; their bodies
    # call the ops)
    text = str(torch.jit.script(plain).inlined_graph)
    assert "aten::mse_loss(" in text and "aten::l1_loss(" in text


@pytest.mark.parametrize("call", [
    lambda x: torch.fft.irfft(x), lambda x: torch.fft.irfft(x, n=7, norm="ortho"),
    lambda x: torch.fft.hfft(x, dim=0), lambda x: torch.fft.irfft2(x),
    lambda x: torch.fft.irfftn(x, s=(4, 6)), lambda x: torch.fft.hfft2(x),
    lambda x: torch.fft.hfftn(x, norm="forward")])
def test_fft_c2r_node_name(call):
    y = call(torch.rand(3, 4, 5, requires_grad=True))
    assert type(y.grad_fn).__name__ == "FftC2RBackward0"


def test_norm_except_dim_and_gamma_grad_nodes():
    v = torch.rand(3, 4, requires_grad=True)
    assert type(torch.norm_except_dim(v, 3, -1).grad_fn).__name__ == "NormBackward0"
    assert type(torch.norm_except_dim(v, 2, 1).grad_fn).__name__ == "ViewBackward0"
    assert type(torch.norm_except_dim(v).grad_fn).__name__ == "ViewBackward0"
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    x = torch.tensor([0.5, 3.0], requires_grad=True)
    assert _names(torch._standard_gamma_grad(a, x)) == ("StandardGammaGradBackward0",
                                                         ["AccumulateGrad"])
    assert torch._standard_gamma_grad(a.detach(), x).grad_fn is None


def test_soft_margin_loss_node_and_values():
    F = torch.nn.functional
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], dtype=torch.float64,
                     requires_grad=True)
    t = torch.tensor([[1.0, -1.0, -1.0], [1.0, 1.0, -1.0]], dtype=torch.float64)
    for red in ("mean", "sum", "none"):
        y = F.soft_margin_loss(x, t, reduction=red)
        assert _names(y) == ("SoftMarginLossBackward0", ["AccumulateGrad"])
        g, = torch.autograd.grad(y.sum(), x)
        z = np.exp(-t.numpy() * x.detach().numpy())
        want = np.log1p(z)
        norm = 1 / 6 if red == "mean" else 1.0
        np.testing.assert_allclose(y.detach().numpy(), want if red == "none" else
                                   want.mean() if red == "mean" else want.sum(), rtol=1e-12)
        np.testing.assert_allclose(g.numpy(), -t.numpy() * z / (1 + z) * norm, rtol=1e-12)
    tr = torch.jit.trace(lambda a, b: F.soft_margin_loss(a, b), (x.detach(), t))
    assert "aten::soft_margin_loss" in [n.kind() for n in tr.graph.nodes()]


# torch 2.13: F.multi_margin_loss(x, [0, 3, 4, 1], p, margin=0.7, weight) (x below, float64)
_MM_X = [[1.624345, -0.611756, -0.528172, -1.072969, 0.865408],
         [-2.301539, 1.744812, -0.761207, 0.319039, -0.24937],
         [1.462108, -2.060141, -0.322417, -0.384054, 1.133769],
         [-1.099891, -0.172428, -0.877858, 0.042214, 0.582815]]


def test_multi_margin_loss_node_and_grad():
    F = torch.nn.functional
    x = torch.tensor(_MM_X, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0, 3, 4, 1])
    w = torch.tensor([0.6, 1.2, 0.9, 1.5, 0.7], dtype=torch.float64)
    for p in (1, 2):
        for weight in (None, w):
            for red in ("none", "mean", "sum"):
                y = F.multi_margin_loss(x, t, p=p, margin=0.7, weight=weight, reduction=red)
                assert _names(y) == ("MultiMarginLossBackward0", ["AccumulateGrad"])
                scale = torch.arange(1., y.numel() + 1, dtype=torch.float64).reshape(y.shape)
                g, = torch.autograd.grad((y * scale).sum(), x)
                # the reference: loss_i = sum_{j != y_i} max(0, m - x_iy + x_ij)^p w_y / c
                xa, ya = x.detach().numpy(), t.numpy()
                z = np.maximum(0.7 - xa[np.arange(4), ya][:, None] + xa, 0)
                z[np.arange(4), ya] = 0
                wy = np.ones(4) if weight is None else w.numpy()[ya]
                per = (z ** p).sum(1) * wy / 5
                s = scale.numpy().reshape(-1)
                ds = s if red == "none" else np.full(4, s[0] / (4 if red == "mean" else 1))
                h = (np.ones_like(z) if p == 1 else 2 * z) * (z > 0) * (wy * ds)[:, None] / 5
                want_g = h.copy()
                want_g[np.arange(4), ya] = -h.sum(1)
                want = per if red == "none" else per.mean() if red == "mean" else per.sum()
                np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12)
                np.testing.assert_allclose(g.numpy(), want_g, rtol=1e-12, atol=1e-15)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument "
                                           "'weight'"):
        F.multi_margin_loss(x, t, weight=w.clone().requires_grad_())
    assert F.multi_margin_loss(x[0], torch.tensor(2), reduction="none").shape == ()
    assert F.multi_margin_loss(x[0], torch.tensor([2]), reduction="none").shape == (1,)


def test_multilabel_margin_loss_node_and_grad():
    # torch 2.13: loss [0.96, 0, 0]; gradient of (y * [1, 2, 3]) in row 0 [-.6, .4, .4, -.6, .4]
    x = torch.tensor([[0.4, -0.1, 0.3, 0.0, -0.2], [0.1, 0.2, 0.3, 0.4, 0.5],
                      [0.3, 0.2, 0.1, 0.0, -0.1]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 2, 3, 0, 0]])
    y = torch.nn.functional.multilabel_margin_loss(x, t, reduction="none")
    assert _names(y) == ("MultilabelMarginLossBackward0", ["AccumulateGrad"])
    # row 0: targets {3, 0}, non-targets {1, 2, 4}: pairs 1 - x[j] + x[i]
    xa = x.detach().numpy()[0]
    want0 = sum(max(0.0, 1 - xa[j] + xa[i]) for j in (3, 0) for i in (1, 2, 4)) / 5
    np.testing.assert_allclose(y.detach().numpy(), [want0, 0.0, 0.0], rtol=1e-12)
    g, = torch.autograd.grad((y * torch.tensor([1., 2., 3.], dtype=torch.float64)).sum(), x)
    np.testing.assert_allclose(g.numpy()[0], [-0.6, 0.4, 0.4, -0.6, 0.4], rtol=1e-12)
    assert not g.numpy()[1:].any()
