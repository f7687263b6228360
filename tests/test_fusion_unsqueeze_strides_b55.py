"""A fused group that unsqueezes its input gives its outputs eager's strides in their
size-1 dims (session 55, b55). The kernel reads NumPy views made with None, whose new dim
has stride 0; eager's unsqueeze gives it size[d] * stride[d] (1 past the last dim), and
the elementwise ops after it order the size-1 dim by that stride: a fused
`x.unsqueeze(0) * 2.0 + 1.0` of a transposed (5, 2) gave strides (10, 1, 5) from the
second call on, where torch 2.13 (and gpujit's own profiling call) give (5, 1, 5).
Expected strides are torch 2.13's eager ones."""
import pytest

import gpujit as torch
from fusion_asserts import find_fusion_groups


@torch.jit.script
def _unsq0(x):
    return x.unsqueeze(0) * 2.0 + 1.0


@torch.jit.script
def _unsq1(x):
    return x.unsqueeze(1) * 2.0 + 1.0


@torch.jit.script
def _unsq2(x):
    return x.unsqueeze(2) * 2.0 + 1.0


@torch.jit.script
def _unsq3(x):
    return x.unsqueeze(3) * 2.0 + 1.0


def _transposed():
    return torch.ones(2, 5).t()             # (5, 2), strides (1, 5)


def _stepped():
    return torch.ones(4, 6)[::2, ::3]       # (2, 2), strides (12, 3)


def _permuted():
    return torch.ones(3, 1, 4).permute(2, 1, 0)     # (4, 1, 3), strides (1, 4, 4)


@pytest.mark.parametrize("fn, make, strides", [
    (_unsq0, _transposed, (5, 1, 5)),
    (_unsq1, _transposed, (1, 10, 5)),
    (_unsq2, _transposed, (1, 5, 1)),
    (_unsq0, _stepped, (4, 2, 1)),
    (_unsq1, _stepped, (2, 2, 1)),
    (_unsq2, _stepped, (2, 1, 1)),
    (_unsq0, _permuted, (4, 1, 4, 4)),
    (_unsq1, _permuted, (1, 4, 4, 4)),
    (_unsq2, _permuted, (1, 4, 12, 4)),
    (_unsq3, _permuted, (1, 4, 4, 1)),
], ids=lambda v: getattr(v, "__name__", None) or str(v))
def test_fused_unsqueeze_output_has_eager_strides(fn, make, strides):
    x = make()
    for _ in range(3):          # the profiling call, the one that builds, a fused one
        out = fn(x)
        assert out.stride() == strides
        torch.testing.assert_close(out, torch.full(out.shape, 3.0))
    assert len(find_fusion_groups(fn.graph_for(x))) == 1


@pytest.mark.cuda
def test_fused_unsqueeze_output_strides_on_cuda():
    # (CuPy views: eager_args restrides them with cupy's as_strided)
    x = _transposed().cuda()
    for _ in range(3):
        out = _unsq0(x)
        assert out.device.type == "cuda" and out.stride() == (5, 1, 5)
    torch.testing.assert_close(out.cpu(), torch.full((1, 5, 2), 3.0))
