"""Session 45 (f45): what the CPU speed work changed, checked for values and for the
launch decisions it made (the timings are in benchmarks/, never asserted here).

- CPU launches run on the calling thread below ATen's grain size (2^15 elements, as
  torch's pointwise kernels), in chunks on the native pool from there up;
- fused results stay the eager results bit for bit on both sides of the threshold and on
  any number of threads (the causal-mask group of nanoGPT's attention among them)."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit import kernels as K
from gpujit.kernels import emit, threads

from test_kernels import _R, traced, reference, assert_same


@pytest.fixture
def num_threads():
    old = threads.get_num_threads()
    yield threads.set_num_threads
    threads.set_num_threads(old)


def _chain(a, b):
    return (a * 0.5 + b).tanh() * (a - b).sigmoid() + a.relu()


def test_the_serial_threshold_is_atens_grain_size():
    assert emit.PARALLEL_MIN == 32768          # at::internal::GRAIN_SIZE


@pytest.mark.parametrize("n, parallel", [(1 << 14, False), ((1 << 15) - 1, False),
                                         (1 << 15, True)])
def test_static_launchers_go_parallel_from_the_grain_size(n, parallel):
    x = _R.standard_normal(n).astype(np.float32)
    y = _R.standard_normal(n).astype(np.float32)
    g = traced(_chain, x, y)
    k = K.build(K.spec_for(g, (x, y), static=True), "cpu")
    assert ("_par(_kern, n," in k.launcher_source) is parallel
    assert ("_kern(0, n," in k.launcher_source) is not parallel
    assert_same(k(x, y)[0], reference(g, (x, y))[0])


def test_dynamic_launchers_test_the_grain_size_per_call(num_threads):
    x = _R.standard_normal(1 << 15).astype(np.float32)
    y = _R.standard_normal(1 << 15).astype(np.float32)
    g = traced(_chain, x, y)
    k = K.build(K.spec_for(g, (x, y), static=False), "cpu")
    assert "if n < 32768 else _par(_kern, n," in k.launcher_source
    num_threads(2)
    for m in (1 << 14, (1 << 15) - 1, 1 << 15, (1 << 16) + 5):
        xs, ys = (_R.standard_normal(m).astype(np.float32) for _ in range(2))
        assert_same(k(xs, ys)[0], reference(g, (xs, ys))[0], f"{m} elements")


def _masked_scores(att, keep):
    # nanoGPT's causal attention scores: scale, then -inf where the mask is False
    return (att * 0.25).masked_fill(keep.logical_not(), float("-inf"))


@pytest.mark.parametrize("shape", [(4, 4, 32, 32), (2, 4, 64, 64), (1, 2, 128, 128)])
@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_causal_mask_group_fused_equals_eager_and_numpy(shape, nthreads, num_threads):
    num_threads(nthreads)
    T = shape[-1]
    a = _R.standard_normal(shape).astype(np.float32)
    keep = np.tril(np.ones((T, T), bool))
    att, mask = gpujit.from_numpy(a), gpujit.from_numpy(keep)
    fn = gpujit.jit.trace(_masked_scores, (att, mask))
    with gpujit.no_grad():
        for _ in range(3):                   # profiled, then optimized and fused
            got = fn(att, mask).numpy()
    assert "TensorExprGroup" in str(gpujit.jit.last_executed_optimized_graph())
    want = np.where(keep, a * np.float32(0.25), np.float32(-np.inf))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, _masked_scores(att, mask).numpy())


def test_causal_mask_group_matches_torch():
    torch = pytest.importorskip("torch")
    a = _R.standard_normal((2, 4, 64, 64)).astype(np.float32)
    keep = np.tril(np.ones((64, 64), bool))
    att, mask = gpujit.from_numpy(a), gpujit.from_numpy(keep)
    fn = gpujit.jit.trace(_masked_scores, (att, mask))
    for _ in range(3):
        got = fn(att, mask).numpy()
    want = _masked_scores(torch.from_numpy(a), torch.from_numpy(keep)).numpy()
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------- scripted code on the fast path
# The executor's generated code calls an op's impl directly when the profile fixes every
# input's type, else the op's boxed eager entry (`_op_<name>(...)`: argument binding,
# promotion, wrapping), and everything downstream of an unknown value went that way too.

def _ops_called_boxed(fn):
    src = fn._executable.specializations[-1].source
    return sorted({w.split("(")[0] for w in src.split("= _op_")[1:]})


def _causal_scores(x):
    keep = gpujit.ones([x.size(-2), x.size(-1)], dtype=gpujit.bool, device=x.device).tril()
    return (x * 0.5).masked_fill(keep.logical_not(), float("-inf")).softmax(-1) @ x


def test_a_device_read_from_a_tensor_is_a_constant_of_the_optimized_graph():
    s = gpujit.jit.script(_causal_scores)
    a = _R.standard_normal((2, 3, 8, 8)).astype(np.float32)
    x = gpujit.from_numpy(a)
    with gpujit.no_grad():
        outs = [s(x) for _ in range(3)]
    assert _ops_called_boxed(s) == []        # (ones(device=x.device) and all after it were)
    keep = np.tril(np.ones((8, 8), bool))
    sc = np.where(keep, a * np.float32(0.5), np.float32(-np.inf))
    e = np.exp(sc - sc.max(-1, keepdims=True))
    want = (e / e.sum(-1, keepdims=True)) @ a
    for out in outs:
        np.testing.assert_array_equal(out.numpy(), _causal_scores(x).numpy())
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)


def test_scripted_causal_sdpa_runs_on_the_fast_path():
    F = gpujit.nn.functional

    def attend(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = gpujit.jit.script(attend)
    q, k, v = (gpujit.from_numpy(_R.standard_normal((2, 2, 16, 8)).astype(np.float32))
               for _ in range(3))
    with gpujit.no_grad():
        outs = [s(q, k, v) for _ in range(3)]
    boxed = _ops_called_boxed(s)
    # (what is left is in the argument checks' raising branches, never profiled)
    assert not {"ones", "tril", "softmax", "matmul"} & set(boxed), boxed
    for out in outs:
        np.testing.assert_array_equal(out.numpy(), attend(q, k, v).numpy())


def _scaled(x, n: int):
    if n > 0:
        s = 1.0 / float(n)
    else:
        s = 1.0
    return ((x * s).relu() - x * 0.5).cumsum(0)


def test_a_number_from_a_branch_not_profiled_keeps_its_type():
    s = gpujit.jit.script(_scaled)
    a = _R.standard_normal(64).astype(np.float32)
    x = gpujit.from_numpy(a)
    for n in (4, 4, 4):
        np.testing.assert_array_equal(s(x, n).numpy(), _scaled(x, n).numpy())
    assert _ops_called_boxed(s) == []        # (the float s was unknown: cumsum boxed)
    for n in (0, 0, 3, 0):                   # the other branch: a new profile, same values
        got = s(x, n).numpy()
        np.testing.assert_array_equal(got, _scaled(x, n).numpy())
        sv = np.float32(1.0 / n if n > 0 else 1.0)
        v = np.maximum(a * sv, np.float32(0)) - a * np.float32(0.5)
        # (a float32 cumsum accumulates in double, as ATen's CPU kernel)
        np.testing.assert_array_equal(got, np.cumsum(v.astype(np.float64)).astype(np.float32))


def test_scripted_causal_sdpa_matches_torch():
    torch = pytest.importorskip("torch")
    qs = [_R.standard_normal((2, 2, 16, 8)).astype(np.float32) for _ in range(3)]

    def attend(q, k, v):
        return gpujit.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = gpujit.jit.script(attend)
    for _ in range(3):
        got = s(*[gpujit.from_numpy(a) for a in qs]).numpy()
    want = torch.nn.functional.scaled_dot_product_attention(
        *[torch.from_numpy(a) for a in qs], is_causal=True).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------- layer_norm: PyTorch's CPU order
# float32 / float64 layer_norm follow ATen's CPU kernel (ops/_layer_norm_kernel.py): Welford
# moments over 8 lanes (float64: 4) in chunks of 16 vectors, rstd = 1 / sqrt(var + eps), y = fma((x - mean) * rstd,
# gamma, beta). The NumPy transcription below covers rows of one chunk (< 136 elements).

def _ln_args(M, N, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((M, N)) * 2 + 0.5).astype(np.float32)
    w = rng.standard_normal(N).astype(np.float32)
    b = rng.standard_normal(N).astype(np.float32)
    return x, w, b


def _ln_reference(x, w, b, eps=1e-5):
    # the same order of operations written out in NumPy for one-chunk rows (N < 136):
    # 8 lanes of Welford (each step one FMA: float64 products of float32s are exact, and
    # the rare double rounding does not occur on these inputs), the tail, the lanes merged
    f32, f64 = np.float32, np.float64

    def fma(a, b_, c):
        return (np.asarray(a, f64) * np.asarray(b_, f64) + np.asarray(c, f64)).astype(f32)
    M, N = x.shape
    n = N // 8
    m1v = np.zeros((M, 8), f32)
    m2v = np.zeros((M, 8), f32)
    for j in range(n):
        xv = x[:, j * 8:(j + 1) * 8]
        d = xv - m1v
        m1v = fma(d, f32(1) / f32(j + 1), m1v)
        m2v = fma(d, xv - m1v, m2v)
    m0, m1, m2 = 0, np.zeros(M, f32), np.zeros(M, f32)
    for i in range(n * 8, N):
        d = x[:, i] - m1
        m0 += 1
        m1 = m1 + d / f32(m0)
        m2 = m2 + d * (x[:, i] - m1)
    for lane in range(8):
        t = m0 + n
        c = f32(0) if t == 0 else f32(n) / f32(t)
        d = m1v[:, lane] - m1
        m2 = m2 + fma(d * d * c, f32(m0), m2v[:, lane])
        m1 = fma(c, d, m1)
        m0 = t
    rstd = f32(1) / np.sqrt(m2 / f32(N) + f32(eps))
    return fma((x - m1[:, None]) * rstd[:, None], w, b)


@pytest.mark.parametrize("N", [5, 8, 16, 17, 64, 100, 128, 135])
def test_layer_norm_float32_in_atens_order(N):
    x, w, b = _ln_args(300, N)
    got = gpujit.nn.functional.layer_norm(gpujit.from_numpy(x), [N], gpujit.from_numpy(w),
                                          gpujit.from_numpy(b)).numpy()
    np.testing.assert_array_equal(got, _ln_reference(x, w, b))
    plain = gpujit.nn.functional.layer_norm(gpujit.from_numpy(x), [N]).numpy()
    np.testing.assert_array_equal(plain, _ln_reference(x, np.ones(N, np.float32),
                                                       np.zeros(N, np.float32)))
    x64 = x.astype(np.float64)          # and close to the exact normalization
    exact = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(got, exact * w + b, rtol=1e-5, atol=1e-5)


def test_layer_norm_pinned_values():
    x = np.array([[0.1, -1.7, 2.3, 0.45, 3.125, -0.6, 1.9, -2.2, 0.7, 1.1]], np.float32)
    got = gpujit.nn.functional.layer_norm(gpujit.from_numpy(x), [10]).numpy()
    # torch 2.13 CPU: torch.nn.functional.layer_norm(torch.tensor(x), [10])
    want = np.array([[-0.25897151231765747, -1.375495433807373, 1.1056686639785767,
                      -0.04186967760324478, 1.6174088716506958, -0.6931752562522888,
                      0.8575522303581238, -1.6856409311294556, 0.11320307105779648,
                      0.36131948232650757]], np.float32)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape, ns", [((4, 32, 64), (64,)), ((2, 3, 40), (40,)),
                                       ((2, 6, 4, 5), (4, 5)), ((50, 128), (128,)),
                                       ((7, 9), (9,)), ((20, 300), (300,))])
def test_layer_norm_equals_torch(shape, ns, dt):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 3 - 1).astype(dt)
    w = rng.standard_normal(ns).astype(dt)
    b = rng.standard_normal(ns).astype(dt)
    for W, B in ((None, None), (w, None), (w, b)):
        got = gpujit.nn.functional.layer_norm(
            gpujit.from_numpy(x), list(ns), None if W is None else gpujit.from_numpy(W),
            None if B is None else gpujit.from_numpy(B)).numpy()
        want = torch.nn.functional.layer_norm(
            torch.from_numpy(x), list(ns), None if W is None else torch.from_numpy(W),
            None if B is None else torch.from_numpy(B)).numpy()
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("N", [136, 300, 768, 2100])
def test_layer_norm_long_rows_equal_torch(N):
    # several chunks of 16 vectors per row: AddMomentsVec's cascade stack
    torch = pytest.importorskip("torch")
    x, w, b = _ln_args(200, N, seed=5)
    got = gpujit.nn.functional.layer_norm(gpujit.from_numpy(x), [N], gpujit.from_numpy(w),
                                          gpujit.from_numpy(b)).numpy()
    want = torch.nn.functional.layer_norm(torch.from_numpy(x), [N], torch.from_numpy(w),
                                          torch.from_numpy(b)).numpy()
    np.testing.assert_array_equal(got, want)


def test_layer_norm_long_rows_close_to_numpy():
    x, w, b = _ln_args(50, 3000, seed=6)
    got = gpujit.nn.functional.layer_norm(gpujit.from_numpy(x), [3000], gpujit.from_numpy(w),
                                          gpujit.from_numpy(b)).numpy()
    x64 = x.astype(np.float64)
    exact = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(got, exact * w + b, rtol=1e-5, atol=1e-5)


def test_layer_norm_float64_pinned_values():
    x = np.array([[0.1, -1.7, 2.3, 0.45, 3.125, -0.6, 1.9, -2.2, 0.7, 1.1]])
    got = gpujit.nn.functional.layer_norm(gpujit.from_numpy(x), [10]).numpy()
    # torch 2.13 CPU: torch.nn.functional.layer_norm(torch.tensor(x), [10]), float64
    want = np.array([[-0.2589715060168957, -1.3754953642933323, 1.10566876520986,
                      -0.041869644685366345, 1.6174088669198938, -0.6931752286799544,
                      0.8575523522595409, -1.6856408804812317, 0.11320311340858316,
                      0.3613195263589025]])
    np.testing.assert_array_equal(got, want)
    x64 = x - x.mean()
    np.testing.assert_allclose(got, x64 / np.sqrt((x64 * x64).mean() + 1e-5), rtol=1e-14)


def test_layer_norm_traced_and_scripted_equal_eager():
    m = gpujit.nn.LayerNorm(64)
    with gpujit.no_grad():
        m.weight.copy_(gpujit.from_numpy(np.linspace(0.5, 1.5, 64, dtype=np.float32)))
    x = gpujit.from_numpy(_ln_args(32, 64, seed=7)[0].reshape(4, 8, 64))
    want = m(x).detach().numpy()
    for f in (gpujit.jit.trace(m, (x,)), gpujit.jit.script(m)):
        for _ in range(3):
            np.testing.assert_array_equal(f(x).detach().numpy(), want)


# ------------------------------------------------------------- group_norm: PyTorch's CPU order
# the same moments per (sample, group); rstd in double rounded once; affine as two FMAs

@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape, G", [((4, 8, 5, 5), 2), ((2, 32, 16, 16), 8), ((8, 64, 10), 4),
                                      ((6, 12), 3), ((2, 6, 30, 30), 3)])
def test_group_norm_equals_torch(shape, G, dt):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dt)
    w = rng.standard_normal(shape[1]).astype(dt)
    b = rng.standard_normal(shape[1]).astype(dt)
    for W, B in ((None, None), (w, None), (None, b), (w, b)):
        got = gpujit.nn.functional.group_norm(
            gpujit.from_numpy(x), G, None if W is None else gpujit.from_numpy(W),
            None if B is None else gpujit.from_numpy(B)).numpy()
        want = torch.nn.functional.group_norm(
            torch.from_numpy(x), G, None if W is None else torch.from_numpy(W),
            None if B is None else torch.from_numpy(B)).numpy()
        np.testing.assert_array_equal(got, want)


def test_group_norm_pinned_values_and_numpy():
    x = (np.arange(24, dtype=np.float32).reshape(2, 4, 3) * np.float32(0.37)
         - np.float32(2.1)) ** 2
    w = np.array([0.5, -1.5, 2.0, 1.0], np.float32)
    b = np.array([0.25, 0.0, -1.0, 3.0], np.float32)
    got = gpujit.nn.functional.group_norm(gpujit.from_numpy(x), 2, gpujit.from_numpy(w),
                                          gpujit.from_numpy(b)).numpy()
    # torch 2.13 CPU: torch.nn.functional.group_norm(torch.tensor(x), 2, w, b)
    want = np.array([1.113048791885376, 0.6480345129966736, 0.27286624908447266,
                     0.7873675227165222, 1.373795509338379, 1.6906851530075073,
                     -3.165407180786133, -2.8344929218292236, -2.102142572402954,
                     3.015822172164917, 3.7834343910217285, 4.75176477432251,
                     -0.42432332038879395, -0.198680117726326, 0.06002802401781082,
                     -0.3054008483886719, -1.2799115180969238, -2.3536157608032227,
                     -3.792651414871216, -2.780792474746704, -1.6900328397750854,
                     3.239813804626465, 3.86409592628479, 4.527827739715576], np.float32).reshape(2, 4, 3)
    np.testing.assert_array_equal(got, want)
    g = x.astype(np.float64).reshape(2, 2, 6)
    norm = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 1e-5))
    np.testing.assert_allclose(got, norm.reshape(2, 4, 3) * w[:, None] + b[:, None],
                               rtol=1e-5, atol=1e-5)


def test_group_norm_channels_last_keeps_its_layout():
    x = gpujit.randn(2, 4, 3, 3).contiguous(memory_format=gpujit.channels_last)
    y = gpujit.nn.functional.group_norm(x, 2)
    assert y.is_contiguous(memory_format=gpujit.channels_last)
    np.testing.assert_allclose(y.numpy(), gpujit.nn.functional.group_norm(
        x.contiguous(), 2).numpy(), rtol=1e-5, atol=1e-6)


def _native_ln(x, w, b):
    return gpujit.native_layer_norm(x, [40], w, b, 1e-5)


def test_native_layer_norm_output_is_layer_norms():
    x, w, b = (gpujit.from_numpy(a) for a in _ln_args(16, 40, seed=8))
    x.requires_grad_()
    out, mean, rstd = gpujit.native_layer_norm(x, [40], w, b, 1e-5)
    assert out.grad_fn.name() == "NativeLayerNormBackward0"      # (torch's; was AddBackward0)
    assert not mean.requires_grad and not rstd.requires_grad
    np.testing.assert_array_equal(out.detach().numpy(),
                                  gpujit.nn.functional.layer_norm(x, [40], w, b).detach().numpy())
    x64 = x.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(mean.numpy(), x64.mean(1, keepdims=True), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(rstd.numpy(), 1 / np.sqrt(x64.var(1, keepdims=True) + 1e-5),
                               rtol=1e-5)
    s = gpujit.jit.script(_native_ln)
    for _ in range(3):
        got = s(x.detach(), w, b)
    for g, e in zip(got, gpujit.native_layer_norm(x.detach(), [40], w, b, 1e-5)):
        np.testing.assert_array_equal(g.numpy(), e.numpy())


def test_native_layer_norm_output_equals_torch():
    torch = pytest.importorskip("torch")
    x, w, b = _ln_args(16, 40, seed=8)
    got = gpujit.native_layer_norm(gpujit.from_numpy(x), [40], gpujit.from_numpy(w),
                                   gpujit.from_numpy(b), 1e-5)
    want = torch.native_layer_norm(torch.from_numpy(x), [40], torch.from_numpy(w),
                                   torch.from_numpy(b), 1e-5)
    np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())
    for g, t in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)


def test_native_group_norm():
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((2, 6, 5)) * 2 + 1).astype(np.float32)
    w = rng.standard_normal(6).astype(np.float32)
    x, W = gpujit.from_numpy(a), gpujit.from_numpy(w)
    out, mean, rstd = gpujit.native_group_norm(x.requires_grad_(), W, None, 2, 6, 5, 3, 1e-5)
    assert out.grad_fn.name() == "NativeGroupNormBackward0"
    assert tuple(mean.shape) == (2, 3) and tuple(rstd.shape) == (2, 3)
    np.testing.assert_array_equal(out.detach().numpy(), gpujit.nn.functional.group_norm(
        x, 3, W).detach().numpy())
    g = a.astype(np.float64).reshape(2, 3, 10)
    np.testing.assert_allclose(mean.numpy(), g.mean(2), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(rstd.numpy(), 1 / np.sqrt(g.var(2) + 1e-5), rtol=1e-5)
    with pytest.raises(RuntimeError, match=r"Expected X.numel\(\) == N \* C \* HxW to be true"):
        gpujit.native_group_norm(x, None, None, 2, 6, 4, 3, 1e-5)


def test_native_group_norm_equals_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((2, 6, 5)) * 2 + 1).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    got = gpujit.native_group_norm(gpujit.from_numpy(a), None, gpujit.from_numpy(b), 2, 6, 5,
                                   3, 1e-5)
    want = torch.native_group_norm(torch.from_numpy(a), None, torch.from_numpy(b), 2, 6, 5, 3,
                                   1e-5)
    np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())
    for g, t in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)
