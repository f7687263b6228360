"""Session 48 (e48): training-loop infrastructure as torch 2.13 has it (optimizers,
lr schedulers, data utilities, nn.utils, nn.init, autograd.functional, checkpoint).

Each test compares with hand-computed / NumPy values (CI has no torch) and, where torch is
importable, with torch itself."""
import math

import numpy as np
import pytest

import gpujit


def _torch():
    return pytest.importorskip("torch")


def _same_as_torch(got, want, torch, dtype):
    """got == want, bit for bit where torch runs its AVX512 kernels (those the expected
    bits were read from) or in float64; elsewhere torch's AVX2 float32 loops round some
    elements differently (addcdiv: a vector body without FMA over the first 8 elements,
    a contracted scalar tail), so float32 agrees to rounding only."""
    if dtype == "float64" or torch.backends.cpu.get_cpu_capability() == "AVX512":
        assert got == want
        return

    def flat(v):
        if isinstance(v, dict):
            return [x for k in sorted(v) for x in flat(v[k])]
        if isinstance(v, (list, tuple)):
            return [x for i in v for x in flat(i)]
        return [float(v)]
    np.testing.assert_allclose(flat(got), flat(want), rtol=1e-5, atol=1e-7)


# ---- clip_grad_norm_ / get_total_norm with norm_type=0 ----------------------------------

def _grads(lib, foreach):
    a = lib.nn.Parameter(lib.ones(3, 4))
    b = lib.nn.Parameter(lib.ones(5))
    a.grad = lib.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4))   # 11 nonzeros
    b.grad = lib.tensor(np.array([0.0, 2.0, 0.0, -3.0, 0.5], np.float32))  # 3 nonzeros
    return [a, b]


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_zero_norm_counts_tensors(foreach):
    # torch takes one norm per tensor (torch._foreach_norm), then the norm of the stacked
    # norms: the 0-"norm" of [11, 3] is 2 (tensors holding a nonzero), not 14 or 1
    ps = _grads(gpujit, foreach)
    total = gpujit.nn.utils.clip_grad_norm_(ps, 1.0, norm_type=0, foreach=foreach)
    assert total.dtype == gpujit.float32 and total.item() == 2.0
    coef = np.float32(1.0) / (np.float32(2.0) + np.float32(1e-6))
    np.testing.assert_array_equal(ps[1].grad.numpy(),
                                  np.array([0.0, 2.0, 0.0, -3.0, 0.5], np.float32) * coef)
    assert gpujit.nn.utils.get_total_norm([p.grad for p in ps], 0.0,
                                          foreach=foreach).item() == 2.0


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_zero_norm_vs_torch(foreach):
    torch = _torch()
    out = []
    for lib in (torch, gpujit):
        ps = _grads(lib, foreach)
        total = lib.nn.utils.clip_grad_norm_(ps, 1.0, norm_type=0, foreach=foreach)
        out.append((total.item(), [p.grad.numpy().tolist() for p in ps]))
    assert out[0] == out[1]


# ---- utils.checkpoint(use_reentrant=True): PyTorch's CheckpointFunction ----------------

def _ck_linear(lib, input_grad, reentrant):
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]))
        lin.bias.fill_(0.1)
    x = lib.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3) / 7,
                   requires_grad=input_grad)
    y = lib.utils.checkpoint.checkpoint(lin, x, use_reentrant=reentrant)
    return lin, x, y


def test_reentrant_checkpoint_node_and_gradients():
    lin, x, y = _ck_linear(gpujit, True, True)
    assert type(y.grad_fn).__name__ == "CheckpointFunctionBackward"
    y.sum().backward()
    xs = np.arange(12.0).reshape(4, 3) / 7
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.tile(xs.sum(0), (2, 1)), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), np.tile([2.0, -0.75, 1.5], (4, 1)), rtol=1e-6)


def test_reentrant_checkpoint_without_input_grad():
    # PyTorch's reentrant variant: the output depends on no input requiring grad, so it
    # does not require grad (the parameters inside get no gradient) and it warns
    with pytest.warns(UserWarning, match="^None of the inputs have requires_grad=True. "
                                         "Gradients will be None$"):
        lin, x, y = _ck_linear(gpujit, False, True)
    assert not y.requires_grad and y.grad_fn is None
    # the non-reentrant variant records the parameters' use
    lin, x, y = _ck_linear(gpujit, False, False)
    assert y.requires_grad
    y.sum().backward()
    assert lin.weight.grad is not None


def test_reentrant_checkpoint_refuses_grad_and_backward_inputs():
    msg = ("^When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad\\(\\) "
           "or passing an `inputs` parameter to .backward\\(\\)")
    lin, x, y = _ck_linear(gpujit, True, True)
    with pytest.raises(RuntimeError, match=msg):
        gpujit.autograd.grad(y.sum(), x)
    lin, x, y = _ck_linear(gpujit, True, True)
    with pytest.raises(RuntimeError, match=msg):
        y.sum().backward(inputs=[x])
    assert gpujit.autograd._is_checkpoint_valid()
    lin, x, y = _ck_linear(gpujit, True, False)        # non-reentrant: fine
    g, = gpujit.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(g.numpy(), np.tile([2.0, -0.75, 1.5], (4, 1)), rtol=1e-6)


def test_reentrant_checkpoint_tuple_outputs_and_nested():
    x = gpujit.tensor([1.0, 2.0], requires_grad=True)
    y = gpujit.tensor([3.0, 4.0], requires_grad=True)
    out = gpujit.utils.checkpoint.checkpoint(lambda a, k, b: (a * k, b.exp(), "tag", a + b),
                                             x, 3, y, use_reentrant=True)
    assert out[2] == "tag"
    (out[0].sum() + out[3].prod()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 6, 3 + 4])
    np.testing.assert_allclose(y.grad.numpy(), [6, 4])
    ck = gpujit.utils.checkpoint.checkpoint
    z = gpujit.tensor([1.0, 2.0], requires_grad=True)
    w = ck(lambda a: ck(lambda b: b.sin() * 2, a, use_reentrant=True) ** 2, z,
           use_reentrant=True)
    w.sum().backward()
    zs = np.array([1.0, 2.0])
    np.testing.assert_allclose(z.grad.numpy(), 8 * np.sin(zs) * np.cos(zs), rtol=1e-6)


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_variants_vs_torch(reentrant):
    torch = _torch()
    got = []
    for lib in (torch, gpujit):
        with __import__("warnings").catch_warnings(record=True) as rec:
            __import__("warnings").simplefilter("always")
            res = []
            for input_grad in (True, False):
                lin, x, y = _ck_linear(lib, input_grad, reentrant)
                res.append((y.requires_grad, type(y.grad_fn).__name__))
                if y.requires_grad:
                    y.sum().backward()
                res.append([None if t is None else t.numpy().tolist()
                            for t in (lin.weight.grad, x.grad)])
        got.append((res, [str(w.message) for w in rec]))
    assert got[0][0] == got[1][0]
    assert got[0][1] == got[1][1]


# ---- foreach=True: torch's multi-tensor formulas (ASGD, NAdam, RAdam) -------------------

def _fma(a, b, c):
    """float64 a * b + c rounded once (exact rational arithmetic)."""
    from fractions import Fraction
    return float(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))


def _asgd_multi_reference(p, grads, lr, lambd, alpha, t0):
    """torch 2.13's _multi_tensor_asgd for one float64 parameter (eta and mu float32
    tensors, eta's update in float32 steps)."""
    p = [float(v) for v in p]
    ax = list(p)
    eta, mu = np.float32(lr), np.float32(1.0)
    for step, g in enumerate(grads, 1):
        inter = [_fma(lambd, pi, gi) for pi, gi in zip(p, g)]          # g.add(p, alpha)
        p = [_fma(-ii, float(eta), pi) for ii, pi in zip(inter, p)]     # addcmul_(.., -1)
        ax = [_fma(pi - ai, float(mu), ai) for pi, ai in zip(p, ax)]    # addcmul_(.., mu)
        f = np.float32
        eta = f(f(1) / (f(1) + f(lambd * lr) * f(step)) ** f(alpha)) * f(lr)
        mu = np.float32(1 / max(1, step - t0))
    return np.array(p), np.array(ax), eta, mu


def _step_with(lib, name, kw, p0, grads, dtype):
    p = lib.tensor(p0, dtype=getattr(lib, dtype), requires_grad=True)
    opt = getattr(lib.optim, name)([p], **kw)
    for g in grads:
        p.grad = lib.tensor(g, dtype=getattr(lib, dtype))
        opt.step()
    return p, opt


def test_asgd_foreach_is_torch_multi_tensor_formula():
    rng = np.random.RandomState(3)
    p0 = rng.randn(5)
    grads = [rng.randn(5) for _ in range(6)]
    kw = dict(lr=0.05, lambd=0.01, alpha=0.6, t0=2)
    p, opt = _step_with(gpujit, "ASGD", dict(kw, foreach=True), p0, grads, "float64")
    ep, eax, eeta, emu = _asgd_multi_reference(p0, grads, **kw)
    np.testing.assert_array_equal(p.detach().numpy(), ep)
    np.testing.assert_array_equal(opt.state[p]["ax"].numpy(), eax)
    assert opt.state[p]["eta"].item() == float(eeta)
    assert opt.state[p]["mu"].item() == float(emu)
    q, _ = _step_with(gpujit, "ASGD", dict(kw, foreach=False), p0, grads, "float64")
    assert not np.array_equal(q.detach().numpy(), ep)     # the single-tensor order differs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", [
    ("ASGD", dict(lr=0.01, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.6, t0=2)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
])
def test_multi_tensor_optimizers_vs_torch(name, kw, dtype):
    torch = _torch()

    def run(lib, foreach):
        rng = np.random.RandomState(0)
        w = lib.tensor(rng.randn(4, 3) * 0.5, dtype=getattr(lib, dtype), requires_grad=True)
        b = lib.tensor(rng.randn(3), dtype=getattr(lib, dtype), requires_grad=True)
        x = lib.tensor(rng.randn(5, 4) * 0.3, dtype=getattr(lib, dtype))
        opt = getattr(lib.optim, name)([w, b], **kw, foreach=foreach)
        for _ in range(12):          # (RAdam's rectified steps start at the 6th)
            opt.zero_grad()
            y = (x[:, :, None] * w).sum(1) + b     # (no BLAS: its rounding varies by machine)
            ((y * y - 1) * (y * y - 1)).sum().backward()
            opt.step()
        st = [{k: v.numpy().tolist() if hasattr(v, "numpy") else v for k, v in s.items()}
              for s in opt.state.values()]
        return w.detach().numpy().tolist(), b.detach().numpy().tolist(), st
    for foreach in (False, True):
        _same_as_torch(run(gpujit, foreach), run(torch, foreach), torch, dtype)


# ---- optimizer state: torch's key order --------------------------------------------------

_STATE_KEYS = [
    ("Adam", {}, ["step", "exp_avg", "exp_avg_sq"]),
    ("Adam", {"amsgrad": True}, ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    ("AdamW", {}, ["step", "exp_avg", "exp_avg_sq"]),
    ("RMSprop", {"momentum": 0.9, "centered": True},
     ["step", "square_avg", "momentum_buffer", "grad_avg"]),
    ("Adadelta", {}, ["step", "square_avg", "acc_delta"]),
    ("Adamax", {}, ["step", "exp_avg", "exp_inf"]),
    ("NAdam", {}, ["step", "mu_product", "exp_avg", "exp_avg_sq"]),
    ("RAdam", {}, ["step", "exp_avg", "exp_avg_sq"]),
    ("ASGD", {}, ["step", "eta", "mu", "ax"]),
    ("Rprop", {}, ["step", "prev", "step_size"]),
    ("Adagrad", {}, ["step", "sum"]),
]


@pytest.mark.parametrize("name,kw,keys", _STATE_KEYS)
def test_optimizer_state_key_order(name, kw, keys):
    # torch's _init_group creates 'step' (and the other scalars) first: the order of
    # optimizer.state[p] and of state_dict()['state'][i]
    p = gpujit.nn.Parameter(gpujit.ones(3))
    opt = getattr(gpujit.optim, name)([p], lr=0.1, **kw)
    p.grad = gpujit.ones(3)
    opt.step()
    assert list(opt.state[p]) == keys
    assert list(opt.state_dict()["state"][0]) == keys
    q = gpujit.nn.Parameter(gpujit.ones(3))
    opt2 = getattr(gpujit.optim, name)([q], lr=0.1, **kw)
    opt2.load_state_dict(opt.state_dict())
    assert list(opt2.state[q]) == keys


@pytest.mark.parametrize("name,kw,keys", _STATE_KEYS)
def test_optimizer_state_key_order_vs_torch(name, kw, keys):
    torch = _torch()
    p = torch.nn.Parameter(torch.ones(3))
    opt = getattr(torch.optim, name)([p], lr=0.1, **kw)
    p.grad = torch.ones(3)
    opt.step()
    assert list(opt.state[p]) == keys


# ---- a Tensor lr: torch's arithmetic on it rounds to its dtype ---------------------------

def test_adam_tensor_lr_step_size_rounds_to_float32():
    # torch keeps a Tensor lr a 0-dim float32 tensor: step_size = lr / bias_correction1 is
    # float32, so a float64 parameter moves by the float32-rounded step size
    g = np.array([0.5, -1.25, 2.0, 3.0e-3])
    p0 = np.array([1.0, 2.0, -3.0, 0.25])

    def one_step(lr):
        p = gpujit.tensor(p0, dtype=gpujit.float64, requires_grad=True)
        opt = gpujit.optim.Adam([p], lr=lr)
        p.grad = gpujit.tensor(g, dtype=gpujit.float64)
        opt.step()
        return p.detach().numpy()
    got = one_step(gpujit.tensor(0.013))
    m = 0.1 * g                                       # (lerp from 0: one rounding)
    v = (0.001 * g) * g
    denom = np.sqrt(v) / math.sqrt(1 - 0.999) + 1e-8
    step_size = float(np.float32(np.float32(0.013) / np.float32(1 - 0.9)))
    np.testing.assert_array_equal(got, p0 + (-step_size * m) / denom)
    lr32 = float(np.float32(0.013))
    assert not np.array_equal(one_step(lr32), got)    # a float lr divides in float64


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", [
    ("Adam", {}), ("Adam", {"amsgrad": True}), ("AdamW", {}),
    ("Adam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adamax", {}), ("NAdam", {}), ("NAdam", {"weight_decay": 0.1,
                                              "decoupled_weight_decay": True}),
    ("RAdam", {}), ("ASGD", {}), ("SGD", {"momentum": 0.9}), ("Adadelta", {}),
    ("Rprop", {}), ("RMSprop", {}),
])
def test_tensor_lr_vs_torch(name, kw, dtype):
    torch = _torch()

    def run(lib):
        rng = np.random.RandomState(0)
        w = lib.tensor(rng.randn(4, 3) * 0.5, dtype=getattr(lib, dtype), requires_grad=True)
        b = lib.tensor(rng.randn(3), dtype=getattr(lib, dtype), requires_grad=True)
        x = lib.tensor(rng.randn(5, 4) * 0.3, dtype=getattr(lib, dtype))
        opt = getattr(lib.optim, name)([w, b], lr=lib.tensor(0.013), **kw)
        for _ in range(12):
            opt.zero_grad()
            y = (x[:, :, None] * w).sum(1) + b     # (no BLAS: its rounding varies by machine)
            ((y * y - 1) * (y * y - 1)).sum().backward()
            opt.step()
        return w.detach().numpy().tolist(), b.detach().numpy().tolist()
    _same_as_torch(run(gpujit), run(torch), torch, dtype)


# ---- lr_scheduler classes name torch's module ---------------------------------------------

def test_lr_scheduler_classes_module():
    L = gpujit.optim.lr_scheduler
    for name in L.__all__ + ["_LRScheduler"]:
        assert getattr(L, name).__module__ == "gpujit.optim.lr_scheduler", name
    opt = gpujit.optim.SGD([gpujit.nn.Parameter(gpujit.zeros(2))], lr=0.1)
    assert repr(L.StepLR(opt, 2)).startswith("<gpujit.optim.lr_scheduler.StepLR object at ")
    torch = pytest.importorskip("torch")
    assert torch.optim.lr_scheduler.StepLR.__module__ == "torch.optim.lr_scheduler"


# ---- DataLoader's single-process iterator ------------------------------------------------

def _iterable(lib, n, reported):
    base = lib.utils.data.IterableDataset
    return type("ItDS", (base,), {"__iter__": lambda self: iter(range(n)),
                                  "__len__": lambda self: reported,
                                  "__repr__": lambda self: "ItDS"})()


def test_single_process_iterator_has_len():
    U = gpujit.utils.data
    ds = U.TensorDataset(gpujit.arange(10.0))
    it = iter(U.DataLoader(ds, batch_size=3))
    assert type(it).__name__ == "_SingleProcessDataLoaderIter"
    assert iter(it) is it and len(it) == 4
    assert next(it)[0].tolist() == [0.0, 1.0, 2.0]
    assert len(it) == 4 and it._num_yielded == 1
    assert [b[0].tolist() for b in it] == [[3.0, 4.0, 5.0], [6.0, 7.0, 8.0], [9.0]]
    with pytest.raises(StopIteration):
        next(it)


def test_iterable_dataset_longer_than_reported_warns():
    import warnings
    dl = gpujit.utils.data.DataLoader(_iterable(gpujit, 9, 3), batch_size=2)
    assert len(dl) == 2
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        batches = [b.tolist() for b in dl]
    assert batches == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    # (torch compares the batches yielded with the reported length in samples)
    assert [str(w.message) for w in rec] == [
        f"Length of IterableDataset ItDS was reported to be 3(when accessing len(dataloader)), "
        f"but {k} samples have been fetched. " for k in (4, 5)]
    with warnings.catch_warnings(record=True) as rec:       # len() never asked: silent
        warnings.simplefilter("always")
        list(gpujit.utils.data.DataLoader(_iterable(gpujit, 9, 3), batch_size=2))
    assert rec == []


def test_dataloader_iterator_vs_torch():
    torch = _torch()
    import warnings
    out = []
    for lib in (torch, gpujit):
        U = lib.utils.data
        it = iter(U.DataLoader(U.TensorDataset(lib.arange(10.0)), batch_size=3))
        res = [type(it).__name__, len(it), next(it)[0].tolist(), len(it)]
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            dl = U.DataLoader(_iterable(lib, 7, 3), batch_size=2)
            res += [len(dl), [b.tolist() for b in dl]]
        out.append((res, [str(w.message) for w in rec]))
    assert out[0] == out[1]


# ---- clip_grad_norm_'s coefficient: max_norm / (norm + 1e-6) as Tensor.__rdiv__ -----------

@pytest.mark.parametrize("total", [7.0, 10.0])
def test_clip_coefficient_is_reciprocal_times_max_norm(total):
    # a one-element grad: its norm is |g| exactly; torch's number / Tensor is the tensor's
    # reciprocal times the number (0.3 / 10.000001 rounds otherwise in float32)
    p = gpujit.nn.Parameter(gpujit.zeros(1))
    p.grad = gpujit.tensor([-total])
    n = gpujit.nn.utils.clip_grad_norm_([p], 0.3)
    f = np.float32
    d = f(total) + f(1e-6)
    coef = (f(1) / d) * f(0.3)
    assert coef != f(0.3) / d
    assert n.item() == total
    assert p.grad.numpy().tolist() == [float(f(-total) * coef)]
    q = gpujit.nn.Parameter(gpujit.zeros(1))         # (torch takes float(max_norm))
    q.grad = gpujit.tensor([-total])
    gpujit.nn.utils.clip_grad_norm_([q], gpujit.tensor(0.3))
    assert q.grad.numpy().tolist() == [float(f(-total) * (f(1) / d) * f(f(0.3)))]


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_clip_coefficient_vs_torch(dtype):
    torch = _torch()
    vals = np.linspace(0.37, 41.3, 97)
    out = []
    for lib in (torch, gpujit):
        res = []
        for v in vals:
            for max_norm in (0.3, 5.0, lib.tensor(0.7)):
                p = lib.nn.Parameter(lib.zeros(1, dtype=getattr(lib, dtype)))
                p.grad = lib.tensor([v], dtype=getattr(lib, dtype))
                lib.nn.utils.clip_grad_norm_([p], max_norm, norm_type=float("inf"))
                res.append(p.grad.item())
        out.append(res)
    assert out[0] == out[1]


def test_optimizer_base_step_is_not_implemented():
    opt = gpujit.optim.Optimizer([gpujit.nn.Parameter(gpujit.ones(1))], {})
    with pytest.raises(NotImplementedError) as e:
        opt.step()
    assert str(e.value) == ""      # torch 2.13: a bare NotImplementedError


def test_stateless_functional_call_deprecation_words():
    lin = gpujit.nn.Linear(2, 1)
    params = {"weight": gpujit.ones(1, 2), "bias": gpujit.zeros(1)}
    with pytest.warns(FutureWarning) as rec:
        out = gpujit.nn.utils.stateless.functional_call(lin, params, gpujit.ones(3, 2))
    assert out.tolist() == [[2.0], [2.0], [2.0]]
    assert [str(w.message) for w in rec] == [
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will "
        "be removed in a future version of PyTorch. Please use `torch.func.functional_call` "
        "instead which is a drop-in replacement."]
    assert rec[0].filename == __file__


# ---- the 2-norm in the order of ATen's CPU kernel (vector_norm, clip_grad_norm_) ----------

def _fma32_exact(a, b, c):
    from fractions import Fraction
    v = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    f = np.float32(float(v))
    near = [np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))]
    return min(near, key=lambda q: abs(Fraction(float(q)) - v))


def _norm2_model(x):
    """ATen's reduce-lastdim 2-norm of a float32 vector: 8 lanes of rounded squares added
    in order, the lanes added in order, the tail's multiples of 4 as rounded squares, the
    rest fused multiply-adds; sqrt."""
    f = np.float32
    n = len(x)
    m = n - n % 8
    acc = [f(0)] * 8
    for i in range(0, m, 8):
        for j in range(8):
            acc[j] = f(acc[j] + f(x[i + j] * x[i + j]))
    t = acc[0]
    for j in range(1, 8):
        t = f(t + acc[j])
    k = m + (n - m) // 4 * 4
    for d in range(m, k):
        t = f(t + f(x[d] * x[d]))
    for d in range(k, n):
        t = _fma32_exact(x[d], x[d], t)
    return np.sqrt(t)


@pytest.mark.parametrize("force", ["numpy", "numba"])
def test_vector_norm2_in_aten_order(force):
    from gpujit.ops import linalg_norms
    linalg_norms._norm2_kernel(1)
    kernel = linalg_norms._KERNEL[0]
    kernel.force = force
    try:
        rng = np.random.RandomState(7)
        differs = 0
        for n in (1, 2, 3, 5, 7, 8, 9, 12, 13, 15, 16, 23, 37, 100):
            for _ in range(6):
                x = rng.randn(n).astype(np.float32)
                want = _norm2_model(x)
                assert gpujit.linalg.vector_norm(gpujit.tensor(x)).item() == float(want)
                differs += float(want) != float(np.sqrt(np.dot(x, x)))
        assert differs          # (NumPy's order differs on some)
        rows = rng.randn(4, 13).astype(np.float32)
        got = gpujit.linalg.vector_norm(gpujit.tensor(rows), dim=-1, keepdim=True)
        assert got.shape == (4, 1)
        assert got.numpy().ravel().tolist() == [float(_norm2_model(r)) for r in rows]
    finally:
        kernel.force = None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_vector_norm2_and_clip_vs_torch(dtype):
    torch = _torch()
    rng = np.random.RandomState(0)
    for shape, dim in [((5,), None), ((3, 4), None), ((1000,), None), ((40003,), None),
                       ((3, 37), -1), ((4, 5, 6), (1, 2)), ((2, 9), 1), ((64, 300), -1)]:
        for _ in range(3):
            x = rng.randn(*shape).astype(dtype)
            a = torch.linalg.vector_norm(torch.tensor(x), dim=dim).numpy()
            b = gpujit.linalg.vector_norm(gpujit.tensor(x), dim=dim).numpy()
            assert a.shape == b.shape and np.array_equal(a, b), (shape, dim)
    for shape in [(7, 13), (3, 5, 9)]:          # matrix_norm 'fro': vector_norm(2)
        x = rng.randn(*shape).astype(dtype)
        for keepdim in (False, True):
            a = torch.linalg.matrix_norm(torch.tensor(x), keepdim=keepdim).numpy()
            b = gpujit.linalg.matrix_norm(gpujit.tensor(x), keepdim=keepdim).numpy()
            assert a.shape == b.shape and np.array_equal(a, b), shape
    for _ in range(20):
        shapes = [tuple(rng.randint(1, 40, size=2)) for _ in range(rng.randint(1, 6))]
        shapes.append((int(rng.randint(1, 9)),))
        gs = [(rng.randn(*s) * rng.rand()).astype(dtype) for s in shapes]
        out = []
        for lib in (torch, gpujit):
            ps = [lib.nn.Parameter(lib.zeros(*s, dtype=getattr(lib, dtype))) for s in shapes]
            for p, g in zip(ps, gs):
                p.grad = lib.tensor(g)
            total = lib.nn.utils.clip_grad_norm_(ps, 0.7)
            out.append((total.item(), [p.grad.numpy().tolist() for p in ps]))
        assert out[0] == out[1]


def test_vector_norm1_adds_in_order():
    # torch's ord=1 kernel adds |x| one by one in float32 (below its 32768-element grain)
    rng = np.random.RandomState(11)
    differs = 0
    for n in (13, 100, 5000):
        x = rng.randn(n).astype(np.float32)
        want = np.float32(0)
        for v in np.abs(x):
            want = np.float32(want + v)
        assert gpujit.linalg.vector_norm(gpujit.tensor(x), 1).item() == float(want)
        differs += float(want) != float(np.abs(x).sum())
    assert differs
    x = rng.randn(4, 5, 6).astype(np.float32)
    got = gpujit.linalg.vector_norm(gpujit.tensor(x), 1, dim=(0, 2), keepdim=True)
    want = np.cumsum(np.abs(x).transpose(1, 0, 2).reshape(5, -1), axis=1)[:, -1]
    assert got.shape == (1, 5, 1) and got.numpy().ravel().tolist() == want.tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_vector_norm1_and_clip_vs_torch(dtype):
    torch = _torch()
    rng = np.random.RandomState(1)
    for shape, dim in [((17,), None), ((1000,), None), ((3, 37), -1), ((4, 5, 6), (0, 2)),
                       ((3, 4), 0), ((30000,), None)]:
        x = rng.randn(*shape).astype(dtype)
        a = torch.linalg.vector_norm(torch.tensor(x), 1, dim=dim).numpy()
        b = gpujit.linalg.vector_norm(gpujit.tensor(x), 1, dim=dim).numpy()
        assert a.shape == b.shape and np.array_equal(a, b), (shape, dim)
    for _ in range(10):
        shapes = [tuple(rng.randint(1, 40, size=2)) for _ in range(rng.randint(1, 6))]
        gs = [(rng.randn(*s) * rng.rand()).astype(dtype) for s in shapes]
        out = []
        for lib in (torch, gpujit):
            ps = [lib.nn.Parameter(lib.zeros(*s, dtype=getattr(lib, dtype))) for s in shapes]
            for p, g in zip(ps, gs):
                p.grad = lib.tensor(g)
            total = lib.nn.utils.clip_grad_norm_(ps, 0.7, norm_type=1)
            out.append((total.item(), [p.grad.numpy().tolist() for p in ps]))
        assert out[0] == out[1]
