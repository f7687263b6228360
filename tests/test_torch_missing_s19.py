"""torch names user code writes that gpujit lacked (session 19): the constants (pi, e,
inf, nan, newaxis, also in scripted code), Tensor flags (is_sparse ..., output_nr,
dim_order, register_post_accumulate_grad_hook, untyped_storage / storage), torch.gradient,
poisson / binomial, histogramdd, the legacy norms (nuclear_norm, frobenius_norm,
norm_except_dim), matrix_rank's removal error, as_strided_, resize_as_, empty_permuted,
set_default_tensor_type, set_warn_always, the deterministic debug mode, and nn.Buffer,
nn.DataParallel, nn.NLLLoss2d, nn.attention, torch.compiler, torch.distributed,
torch.func.functional_call and torch.signal.windows. References are NumPy or literal
values; a few compare with PyTorch where it is installed."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
from gpujit.autograd import gradcheck

F64 = dict(dtype=torch.float64)


def t(a, **kw):
    return torch.tensor(np.asarray(a), **kw)


def close(a, b, tol=1e-5):
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    np.testing.assert_allclose(a, np.asarray(b), rtol=tol, atol=tol)


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ------------------------------------------------------------------ constants

def test_constants_values_and_types():
    assert torch.pi == math.pi and torch.e == math.e
    assert torch.inf == math.inf and math.isnan(torch.nan) and torch.newaxis is None
    assert all(type(v) is float for v in (torch.pi, torch.e, torch.inf, torch.nan))
    x = torch.arange(3.)
    assert x[torch.newaxis].shape == (1, 3) and x[:, torch.newaxis].shape == (3, 1)


def test_constants_in_scripted_code():
    def f(x):
        return x * torch.pi + torch.e

    def g(x):
        return x[torch.newaxis, :, torch.newaxis]

    def h(x):
        return torch.clamp(x, max=torch.inf) + torch.nan * 0 + torch.inf

    s = torch.jit.script(f)
    close(s(torch.ones(2)), [math.pi + math.e] * 2)
    assert torch.jit.script(g)(torch.ones(3)).shape == (1, 3, 1)
    r = torch.jit.script(h)(torch.ones(2))
    assert bool(torch.isnan(r).all())


# ------------------------------------------------------------------ tensor flags

FLAGS = ["is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_meta", "is_mkldnn",
         "is_xpu", "is_mps", "is_vulkan", "is_ipu", "is_maia", "is_mtia", "is_xla"]


@pytest.mark.parametrize("name", FLAGS)
def test_backend_flags_false(name):
    x = torch.ones(2, requires_grad=True)
    assert getattr(x, name) is False and getattr(x * 2, name) is False


def test_backend_flags_in_scripted_code():
    def f(x):
        return x.is_sparse or x.is_quantized or x.is_meta or x.is_nested or x.is_xla

    s = torch.jit.script(f)
    assert s(torch.ones(2)) is False


def test_output_nr_and_dim_order():
    x = torch.randn(2, 3, 4, requires_grad=True)
    assert x.output_nr == 0
    a, b, c = x.unbind(0) + (None,)
    assert (a.output_nr, b.output_nr) == (0, 1)
    v, i = x.max(0)
    assert (v.output_nr, i.output_nr) == (0, 0)
    assert x.dim_order() == (0, 1, 2)
    assert x.permute(2, 0, 1).dim_order() == (1, 2, 0)
    assert x.transpose(0, 1).dim_order() == (1, 0, 2)
    assert torch.ones(2, 1, 3).dim_order() == (0, 1, 2)
    assert torch.tensor(1.).dim_order() == ()
    assert torch.empty(3, 4)[:, :2].dim_order() == (0, 1)


def test_post_accumulate_grad_hook():
    x = torch.randn(2, 3, requires_grad=True)
    seen = []
    h = x.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.clone()))
    x.sum().backward()
    assert len(seen) == 1
    close(seen[0], np.ones((2, 3)))
    (x * 2).sum().backward()
    close(seen[1], np.full((2, 3), 3.))           # called after accumulation
    h.remove()
    x.sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        torch.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    x.register_post_accumulate_grad_hook(lambda p: 5)
    with pytest.raises(TypeError):
        x.sum().backward()


def test_optimizer_step_in_hook():
    w = torch.ones(3, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.5)

    def step(p):
        opt.step()
        opt.zero_grad()

    w.register_post_accumulate_grad_hook(step)
    (w * t([1., 2., 3.])).sum().backward()
    close(w, [0.5, 0., -0.5])


def test_storages():
    s = torch.ones(3, 4).untyped_storage()
    assert s.nbytes() == 48 and s.size() == 48 and len(s) == 48
    v = torch.ones(3, 4)[1:]
    assert v.untyped_storage().nbytes() == 48
    assert v.untyped_storage().data_ptr() == v.data_ptr() - 16
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        ts = v.storage()
    assert ts.size() == 12 and ts.dtype == torch.float32 and ts.nbytes() == 48
    assert torch.is_storage(s)


# ------------------------------------------------------------------ gradient

def test_gradient_uniform_matches_numpy():
    a = rnd(5, 6)
    for kw, npkw in [({}, {}), ({"spacing": 2.}, {}), ({"spacing": (2., 3.)}, {}),
                     ({"edge_order": 2}, {"edge_order": 2}),
                     ({"dim": 1, "spacing": 0.5}, {"axis": 1})]:
        got = torch.gradient(t(a), **kw)
        sp = kw.get("spacing", 1.)
        sp = list(sp) if isinstance(sp, tuple) else [sp] * (1 if "dim" in kw else 2)
        want = np.gradient(a, *sp, **npkw)
        want = list(want) if isinstance(want, (list, tuple)) else [want]
        assert len(got) == len(want)
        for g_, w_ in zip(got, want):
            close(g_, w_, 1e-10)


def test_gradient_coordinates_and_ints():
    a = rnd(4, 5)
    x = np.array([0., 1., 1.5, 3.5, 4.])
    for eo in (1, 2):
        (g1,) = torch.gradient(t(a), spacing=[t(x)], dim=1, edge_order=eo)
        close(g1, np.gradient(a, x, axis=1, edge_order=eo), 1e-10)
    (gi,) = torch.gradient(torch.tensor([1, 4, 9]), spacing=[torch.tensor([1, 2, 4])])
    close(gi, [3., 17 / 6, 2.5])
    (gs,) = torch.gradient(torch.tensor([1, 4, 9]), spacing=2)
    assert gs.dtype == torch.float32
    close(gs, [1.5, 2., 2.5])


def test_gradient_errors_and_grad():
    x = torch.ones(2, 4)
    with pytest.raises(RuntimeError, match="only supports edge_order=1 and edge_order=2"):
        torch.gradient(x, edge_order=3)
    with pytest.raises(RuntimeError, match="a list of length equal to 'self.dim\\(\\) = 2'"):
        torch.gradient(x, spacing=[1., 2., 3.])
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        torch.gradient(x, dim=0, edge_order=2)
    with pytest.raises(TypeError):
        torch.gradient(x, spacing=torch.ones(4))
    a = t(rnd(5), **F64).requires_grad_()
    assert gradcheck(lambda v: torch.gradient(v, edge_order=2)[0], (a,))


def test_gradient_traces():
    f = torch.jit.trace(lambda v: torch.gradient(v, spacing=2.)[0], (torch.randn(6),))
    x = torch.randn(6)
    close(f(x), np.gradient(x.numpy(), 2.))


# ------------------------------------------------------------------ poisson, binomial

def test_poisson():
    g = torch.Generator().manual_seed(3)
    a = torch.poisson(torch.full((2000,), 4.), generator=g)
    g.manual_seed(3)
    b = torch.poisson(torch.full((2000,), 4.), generator=g)
    assert torch.equal(a, b) and a.dtype == torch.float32
    assert abs(a.mean().item() - 4) < 0.3 and bool((a == a.round()).all())
    x = torch.tensor([1., 2.], requires_grad=True)
    y = torch.poisson(x)
    assert y.requires_grad
    y.sum().backward()
    close(x.grad, [0., 0.])
    with pytest.raises(NotImplementedError, match="'Long'"):
        torch.poisson(torch.tensor([5, 6]))
    with pytest.raises(RuntimeError, match="non-negative"):
        torch.poisson(torch.tensor([-1.]))

    def f(v):
        return torch.poisson(v)

    assert torch.jit.script(f)(torch.zeros(3)).tolist() == [0.] * 3


def test_binomial():
    r = torch.binomial(torch.full((4000,), 10.), torch.full((4000,), 0.3))
    assert abs(r.mean().item() - 3) < 0.2 and bool(((r >= 0) & (r <= 10)).all())
    close(torch.binomial(torch.tensor([-5., 4.]), torch.tensor([0.5, 1.])), [0., 4.])
    assert torch.binomial(torch.tensor([5., 3.]), torch.tensor([0.5])).shape == (2,)
    with pytest.raises(ValueError, match="floating-point dtypes for count, got: Long"):
        torch.binomial(torch.tensor([5]), torch.tensor([0.5]))
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        torch.binomial(torch.tensor([5.]), torch.tensor([0.5], **F64))


# ------------------------------------------------------------------ histogramdd

def test_histogramdd_matches_numpy():
    pts = rnd(50, 2)
    h, e = torch.histogramdd(t(pts), bins=[3, 4])
    nh, ne = np.histogramdd(pts, bins=[3, 4])
    close(h, nh)
    for a, b in zip(e, ne):
        close(a, b, 1e-10)
    w = np.abs(rnd(50, seed=1))
    r = torch.histogramdd(t(pts), bins=3, range=[-1., 1., -2., 2.], weight=t(w), density=True)
    nh, _ = np.histogramdd(pts, bins=3, range=[(-1, 1), (-2, 2)], weights=w, density=True)
    close(r.hist, nh, 1e-8)
    r = torch.histogramdd(torch.tensor([[0., 0.], [1., 1.]]),
                          bins=[torch.tensor([0., 1., 2.]), torch.tensor([0., 2.])])
    close(r.hist, [[1.], [1.]])
    r = torch.histogramdd(torch.tensor([[1., 1.]]), bins=2)
    close(r.bin_edges[0], [0.5, 1., 1.5])


def test_histogramdd_errors():
    with pytest.raises(NotImplementedError, match="'Long'"):
        torch.histogramdd(torch.tensor([[1, 1]]), bins=2)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        torch.histogramdd(torch.tensor([1., 1.]), bins=2)
    with pytest.raises(RuntimeError, match="size of bins must be equal"):
        torch.histogramdd(torch.tensor([[1., 1.]]), bins=[2, 2, 2])


# ------------------------------------------------------------------ legacy norms etc.

def test_nuclear_and_frobenius_norm():
    a = rnd(3, 4)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        close(torch.nuclear_norm(t(a)), np.linalg.norm(a, "nuc"))
        assert torch.nuclear_norm(t(a), keepdim=True).shape == (1, 1)
        b = rnd(2, 3, 4)
        close(torch.nuclear_norm(t(b), dim=(1, 2)), [np.linalg.norm(m, "nuc") for m in b])
        close(torch.frobenius_norm(t(a), dim=[0, 1]), np.linalg.norm(a))
        close(torch.frobenius_norm(t(a), [0], True), np.linalg.norm(a, axis=0, keepdims=True))
        close(torch.frobenius_norm(t(a), []), np.linalg.norm(a))
    with pytest.raises(RuntimeError, match="Expected at most 2 dimensions"):
        torch.frobenius_norm(t(rnd(2, 3, 4)), [0, 1, 2])
    with pytest.raises(RuntimeError, match="Got Long instead"):
        torch.frobenius_norm(torch.tensor([1, 2]), [0])
    x = t(rnd(3, 4), **F64).requires_grad_()
    assert gradcheck(lambda v: torch.nuclear_norm(v), (x,))
    assert gradcheck(lambda v: torch.frobenius_norm(v, [1]), (x,))

    def f(v):
        return torch.frobenius_norm(v, [0, 1]) + torch.nuclear_norm(v) * 0

    s = torch.jit.script(f)
    close(s(t(a)), np.linalg.norm(a))


def test_warn_once_and_warn_always():
    from gpujit.ops import legacy_extra
    legacy_extra._warned.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.nuclear_norm(torch.eye(2))
        torch.nuclear_norm(torch.eye(2))
    assert len([x for x in w if "nuclear_norm is deprecated" in str(x.message)]) == 1
    assert torch.is_warn_always_enabled() is False
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            torch.nuclear_norm(torch.eye(2))
            torch.nuclear_norm(torch.eye(2))
        assert len(w) == 2
    finally:
        torch.set_warn_always(False)


def test_norm_except_dim():
    a = rnd(3, 4, 5)
    close(torch.norm_except_dim(t(a), 2, 0), np.sqrt((a ** 2).sum((1, 2), keepdims=True)))
    close(torch.norm_except_dim(t(a), 2, 1), np.sqrt((a ** 2).sum((0, 2), keepdims=True)))
    close(torch.norm_except_dim(t(a), 3, 2),
          (np.abs(a) ** 3).sum((0, 1), keepdims=True) ** (1 / 3))
    r = torch.norm_except_dim(torch.tensor([3., 4.]), 2, -1)
    assert r.shape == () and r.item() == 5.
    with pytest.raises(IndexError):
        torch.norm_except_dim(t(a), 2, 5)
    x = t(rnd(3, 4), **F64).requires_grad_()
    assert gradcheck(lambda v: torch.norm_except_dim(v, 2, 1), (x,))

    def f(v):
        return torch.norm_except_dim(v, 2, 0)

    s = torch.jit.script(f)
    close(s(t(a)), np.sqrt((a ** 2).sum((1, 2), keepdims=True)))


def test_matrix_rank_removed():
    with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"):
        torch.matrix_rank(torch.eye(3))


def test_as_strided_inplace_and_resize_as():
    x = torch.arange(6.)
    y = torch.as_strided_(x, (2, 2), (1, 2), 1)
    assert y is x and x.stride() == (1, 2) and x.storage_offset() == 1
    close(x, [[1., 3.], [2., 4.]])
    leaf = torch.arange(6., requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.as_strided_((2, 2), (1, 2))
    z = leaf * 1
    z.as_strided_((2, 2), (1, 2), 1)
    z.sum().backward()
    close(leaf.grad, [0., 1., 1., 1., 1., 0.])
    r = torch.resize_as_(torch.ones(2, 3), torch.ones(6))
    assert r.shape == (6,)


def test_empty_permuted():
    e = torch.empty_permuted((2, 3, 5), (0, 2, 1))
    assert e.shape == (2, 3, 5) and e.stride() == (15, 1, 3)
    assert torch.empty_permuted((2, 3), (1, 0), dtype=torch.int32).dtype == torch.int32
    with pytest.raises(RuntimeError, match="Duplicate dim not allowed"):
        torch.empty_permuted((2, 3), (0, 0))
    with pytest.raises(RuntimeError, match="does not match the length of the physical_layout"):
        torch.empty_permuted((2, 3), (0,))
    with pytest.raises(RuntimeError, match="Dimension out of range"):
        torch.empty_permuted((2, 3), (0, 2))


# ------------------------------------------------------------------ process switches

def test_set_default_tensor_type():
    try:
        with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
            torch.set_default_tensor_type(torch.DoubleTensor)
        assert torch.get_default_dtype() == torch.float64 and torch.ones(1).dtype == torch.float64
        with pytest.warns(UserWarning):
            torch.set_default_tensor_type("torch.FloatTensor")
        assert torch.get_default_dtype() == torch.float32
        with pytest.warns(UserWarning), pytest.raises(TypeError, match="only floating-point"):
            torch.set_default_tensor_type(torch.IntTensor)
    finally:
        torch.set_default_dtype(torch.float32)


def test_deterministic_debug_mode():
    try:
        assert torch.get_deterministic_debug_mode() == 0
        torch.set_deterministic_debug_mode("warn")
        assert torch.get_deterministic_debug_mode() == 1
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        torch.set_deterministic_debug_mode(2)
        assert torch.get_deterministic_debug_mode() == 2
        assert not torch.is_deterministic_algorithms_warn_only_enabled()
        torch.set_deterministic_debug_mode("default")
        assert torch.get_deterministic_debug_mode() == 0
        with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`"):
            torch.set_deterministic_debug_mode("x")
        with pytest.raises(RuntimeError, match="expected 0, 1, or 2, but got 3"):
            torch.set_deterministic_debug_mode(3)
        with pytest.raises(TypeError, match="debug_mode must be str or int"):
            torch.set_deterministic_debug_mode(1.0)
    finally:
        torch.use_deterministic_algorithms(False)


# ------------------------------------------------------------------ nn and namespaces

class _WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Buffer(torch.ones(2))
        self.b = nn.Buffer(torch.zeros(1), persistent=False)
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * self.w + self.a.sum()


def test_buffer():
    b = nn.Buffer(torch.ones(2), persistent=False)
    assert isinstance(b, nn.Buffer) and b.persistent is False
    assert not isinstance(torch.ones(1), nn.Buffer)
    assert nn.Buffer().shape == (0,)
    assert nn.Buffer(torch.ones(2, requires_grad=True)).requires_grad
    m = _WithBuffers()
    assert list(m.state_dict()) == ["w", "a"]
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]
    assert type(m.a) is torch.Tensor
    close(torch.jit.script(m)(torch.ones(2)), [3., 3.])
    m.a = torch.zeros(3)
    close(m._buffers["a"], [0., 0., 0.])
    m.c = nn.Buffer(torch.ones(1))
    assert list(m.state_dict()) == ["w", "a", "c"]


def test_data_parallel_and_nllloss2d():
    m = _WithBuffers()
    d = nn.DataParallel(m)
    close(d(torch.ones(2)), [3., 3.])
    assert d.module is m
    assert list(d.state_dict()) == ["module.w", "module.a"]
    assert [n for n, _ in d.named_parameters()] == ["module.w"]
    assert nn.parallel.DataParallel is nn.DataParallel
    with pytest.warns(FutureWarning, match="NLLLoss2d` has been deprecated"):
        loss = nn.NLLLoss2d()
    assert isinstance(loss, nn.NLLLoss)
    logp = torch.log_softmax(torch.randn(2, 3, 4, 4), 1)
    tgt = torch.randint(0, 3, (2, 4, 4))
    close(loss(logp, tgt), torch.nn.functional.nll_loss(logp, tgt))


def test_attention_sdpa_kernel():
    from gpujit.nn.attention import SDPBackend, sdpa_kernel
    assert SDPBackend.MATH == 0 and SDPBackend.FLASH_ATTENTION == 1
    q = torch.randn(1, 2, 3, 4)
    ref = torch.nn.functional.scaled_dot_product_attention(q, q, q)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        close(torch.nn.functional.scaled_dot_product_attention(q, q, q), ref)
    with sdpa_kernel(SDPBackend.MATH):
        pass
    with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
        with sdpa_kernel("math"):
            pass


def test_compiler_and_distributed():
    assert torch.compiler.is_compiling() is False

    @torch.compiler.disable
    def f(x):
        return x + 1

    assert f(1) == 2 and torch.compiler.disable(recursive=False)(f)(2) == 3
    # (a one-rank torch.distributed since session 41: tests/test_lead_s41.py)
    assert torch.distributed.is_available() is True
    assert torch.distributed.is_initialized() is False


def test_functional_call():
    from gpujit.func import functional_call
    lin = nn.Linear(2, 1)
    W = torch.ones(1, 2, requires_grad=True)
    B = torch.zeros(1, requires_grad=True)
    x = torch.tensor([[1., 2.]])
    out = functional_call(lin, {"weight": W, "bias": B}, (x,))
    close(out, [[3.]])
    out.sum().backward()
    close(W.grad, [[1., 2.]])
    assert lin.weight.grad is None
    assert lin.weight is not W and isinstance(lin.weight, nn.Parameter)
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    close(functional_call(lin, ({"weight": W}, {"bias": B + 1}), x), [[4.]])
    close(functional_call(lin, {"weight": W, "bias": B}, kwargs={"input": x}), [[3.]])
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(lin, ({"weight": W}, {"weight": W}), x)
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
        functional_call(lin, {"weight": W}, x, strict=True)
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    p = {k: torch.zeros_like(v) for k, v in seq.named_parameters()}
    close(functional_call(seq, p, x), [[0.]])
    m = _WithBuffers()
    close(functional_call(m, {"a": torch.full((2,), 5.)}, torch.ones(2)), [11., 11.])
    close(m.a, [1., 1.])


def test_signal_windows():
    W = torch.signal.windows
    close(W.hann(5), np.hanning(5))
    close(W.hamming(6), np.hamming(6))
    close(W.blackman(7, **F64), np.blackman(7), 1e-10)
    close(W.bartlett(5), np.bartlett(5))
    close(W.kaiser(6, beta=8.0, **F64), np.kaiser(6, 8.0), 1e-10)
    close(W.hann(4, sym=False), np.hanning(5)[:4])
    n = np.arange(6)
    close(W.gaussian(6, std=1.5), np.exp(-0.5 * ((n - 2.5) / 1.5) ** 2))
    close(W.cosine(5), np.sin(np.pi * (n[:5] + 0.5) / 5))
    close(W.exponential(5, tau=2.), np.exp(-np.abs(n[:5] - 2) / 2))
    close(W.general_hamming(5, alpha=0.5), np.hanning(5))
    a = [0.3635819, 0.4891775, 0.1365995, 0.0106411]
    k = 2 * np.pi * n / 5
    close(W.nuttall(6), sum((-1) ** i * c * np.cos(i * k) for i, c in enumerate(a)))
    assert W.hann(0).shape == (0,) and W.gaussian(1).tolist() == [1.]
    with pytest.raises(ValueError, match="requires non-negative window length"):
        W.hann(-1)
    with pytest.raises(ValueError, match="expects float32 or float64"):
        W.cosine(3, dtype=torch.int64)
    with pytest.raises(ValueError, match="Center must be None"):
        W.exponential(3, center=1.)
    assert W.gaussian(4, requires_grad=True).requires_grad


def test_against_torch():
    real = pytest.importorskip("torch")
    a = rnd(4, 5)
    got = torch.gradient(t(a), spacing=[t(np.array([0., 1, 3, 4])), t(np.arange(5.))],
                         edge_order=2)
    want = real.gradient(real.tensor(a), spacing=[real.tensor([0., 1, 3, 4]).double(),
                                                   real.arange(5.).double()], edge_order=2)
    for g_, w_ in zip(got, want):
        close(g_, w_.numpy(), 1e-10)
    pts = rnd(30, 3).astype(np.float32)
    h, e = torch.histogramdd(t(pts), bins=[2, 3, 4])
    rh, re = real.histogramdd(real.tensor(pts), bins=[2, 3, 4])
    close(h, rh.numpy())
    for x, y in zip(e, re):
        close(x, y.numpy())
    for name in ["gaussian", "cosine", "exponential", "nuttall", "hann", "kaiser"]:
        for sym in (True, False):
            close(getattr(torch.signal.windows, name)(7, sym=sym),
                  getattr(real.signal.windows, name)(7, sym=sym).numpy(), 1e-6)


def test_gradient_scripts_each_overload():
    from typing import List

    def f1(x):
        return torch.gradient(x)

    def f2(x):
        return torch.gradient(x, spacing=2.0, dim=[1])

    def f3(x):
        return torch.gradient(x, spacing=[2.0, 3.0], edge_order=2)

    def f4(x, c: List[torch.Tensor]):
        return torch.gradient(x, spacing=c, dim=[1])

    a = rnd(4, 5)
    x = t(a)
    for f, want in [(f1, np.gradient(a)), (f2, [np.gradient(a, 2., axis=1)]),
                    (f3, np.gradient(a, 2., 3., edge_order=2))]:
        got = torch.jit.script(f)(x)
        assert len(got) == len(want)
        for g_, w_ in zip(got, want):
            close(g_, w_, 1e-10)
    c = np.array([0., 1., 1.5, 3.5, 4.])
    (g1,) = torch.jit.script(f4)(x, [t(c)])
    close(g1, np.gradient(a, c, axis=1), 1e-10)


def test_gradient_dtypes():
    assert torch.gradient(torch.arange(4))[0].dtype == torch.float32
    x = torch.arange(4.)
    assert torch.gradient(x, spacing=[torch.arange(4.).double()])[0].dtype == torch.float64
    assert torch.gradient(x.double(), spacing=2)[0].dtype == torch.float64


# ------------------------------------------------------------------ on a CUDA device

@pytest.mark.cuda
def test_cuda_samplers_histogramdd_and_data_parallel():
    dev = torch.device("cuda", 0)
    g = torch.Generator(device="cuda").manual_seed(5)
    p = torch.poisson(torch.full((2000,), 3., device=dev), generator=g)
    assert p.device == dev and abs(p.mean().item() - 3) < 0.3
    b = torch.binomial(torch.full((2000,), 10., device=dev), torch.full((2000,), .5, device=dev))
    assert b.device == dev and abs(b.mean().item() - 5) < 0.3
    pts = rnd(40, 2)
    h, e = torch.histogramdd(t(pts).to(dev), bins=[3, 2])
    assert h.device == dev
    close(h.cpu(), np.histogramdd(pts, bins=[3, 2])[0])
    (gr,) = torch.gradient(t(rnd(6)).to(dev), spacing=[torch.arange(6.).double().to(dev)])
    assert gr.device == dev
    m = nn.Linear(2, 1).to(dev)
    d = nn.DataParallel(m, device_ids=[0])
    out = d(torch.ones(3, 2))                    # the input is moved to device_ids[0]
    assert out.device == dev and out.shape == (3, 1)
    with pytest.raises(RuntimeError, match="parameters and buffers on device cuda:0"):
        nn.DataParallel(nn.Linear(2, 1), device_ids=[0])(torch.ones(3, 2))
    assert torch.empty_permuted((2, 3), (1, 0), device=dev).stride() == (1, 2)
