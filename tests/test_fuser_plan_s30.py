"""A fusion group holding a batch_norm and an unsqueezed parameter: the fuser typed each
node of the group as the broadcast of its inputs, so `p.unsqueeze(0)` ([C] -> [1, C]) was
typed [C] and planning the kernel raised IndexError out of the user's call (found by
test_fusion_hunt_s14's fuzzer with GPUJIT_FUZZ_SEED=3030). Nodes are now typed by their own
shape rule; and a fault in planning a kernel runs the group unfused with a FusionWarning
(StrictFusionError under strict_fusion) instead of failing the call."""
import warnings

import numpy as np
import pytest

import gpujit as torch
import gpujit.fusers as fusers
import gpujit.nn.functional as F


def two_norms_and_a_scaled_input(x, rm, rv, w, b, p):
    v0 = F.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-5)
    v1 = F.batch_norm(v0, rm, rv, w, b, False, 0.1, 1e-5)
    v2 = x * p.unsqueeze(0).unsqueeze(-1)
    return v2, v1


def _args(shape, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    return [x] + [torch.from_numpy((rng.random(c) + 0.5).astype(np.float32)) for _ in range(5)]


def _same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("strategy", ["STATIC", "DYNAMIC"])
def test_batch_norm_with_an_unsqueezed_parameter_fuses_and_answers_as_eager(strategy):
    f = torch.jit.script(two_norms_and_a_scaled_input)
    old = torch.jit.set_fusion_strategy([(strategy, 10)])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", fusers.FusionWarning)
            for k, shape in enumerate([(1, 1, 1), (2, 4, 3), (2, 4, 3), (3, 5, 7), (1, 4, 1),
                                       (2, 1, 5)]):
                for rep in range(2):                # profiling, then optimized
                    a = _args(shape, 10 * k + rep)
                    _same(f(*a), two_norms_and_a_scaled_input(*a))
                with torch.jit.strict_fusion():     # really fused
                    _same(f(*a), two_norms_and_a_scaled_input(*a))
        groups = f.graph_for(*a).findAllNodes("prim::TensorExprGroup")
        assert len(groups) == 1
    finally:
        torch.jit.set_fusion_strategy(old)


def scaled_chunks(x, p):
    a, b = (x * p.unsqueeze(-1)).chunk(2, dim=1)
    return torch.tanh(a) + b


def test_a_fault_in_planning_a_kernel_runs_unfused_and_warns(monkeypatch):
    from gpujit.fusers.group import FusedGroup

    def broken(self, args):
        raise IndexError("tuple index out of range")

    f = torch.jit.script(scaled_chunks)
    x, p = torch.randn(3, 4), torch.randn(3)
    want = scaled_chunks(x, p)
    f(x, p)                                         # profiling
    monkeypatch.setattr(FusedGroup, "_decide", broken)
    with pytest.warns(fusers.FusionWarning, match="planning a kernel failed: IndexError"):
        got = f(x, p)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fusers.FusionWarning)    # said once
        np.testing.assert_allclose(f(x, p).numpy(), want.numpy(), rtol=1e-6)
    with pytest.raises(torch.jit.StrictFusionError, match="planning its kernel failed"):
        with torch.jit.strict_fusion():
            f(x, p)
    with pytest.raises(RuntimeError, match="size of tensor a"):    # the user's error
        f(torch.randn(3, 4), torch.randn(5))
