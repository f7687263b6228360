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
