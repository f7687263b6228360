"""Session 31 (lead): strict_fusion stays honest about traced functions whose check_trace
run profiled them with grad mode off (as PyTorch's _check_trace, @torch.no_grad): calls
that record gradients run op by op (TanhBackward0, as torch 2.13), which strict_fusion
reports instead of passing silently."""
import numpy as np
import pytest

import gpujit as torch


def _cell(x, h):
    return torch.tanh(x * 2 + h)


def test_checked_trace_records_per_op_and_strict_fusion_says_why():
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    t = torch.jit.trace(_cell, (x, h))          # check_trace=True: profiled without grad
    xg = x.clone().requires_grad_()
    for _ in range(3):
        out = t(xg, h)
        assert type(out.grad_fn).__name__ == "TanhBackward0"
    np.testing.assert_allclose(out.detach().numpy(), np.tanh(x.numpy() * 2 + h.numpy()),
                               rtol=1e-6)
    with pytest.raises(torch.fusers.StrictFusionError, match="profiled with grad mode off"):
        with torch.jit.strict_fusion():
            t(xg, h)
    with torch.jit.strict_fusion():             # calls without gradients run fused
        t(x, h)


def test_unchecked_trace_trains_fused_under_strict_fusion():
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    xg = x.clone().requires_grad_()
    t = torch.jit.trace(_cell, (xg, h), check_trace=False)
    t(xg, h)                                    # the profiling call
    with torch.jit.strict_fusion():
        for _ in range(2):
            out = t(xg, h)
    out.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), 2 * (1 - np.tanh(x.numpy() * 2 + h.numpy()) ** 2),
                               rtol=1e-5)
