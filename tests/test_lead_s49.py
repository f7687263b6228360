"""Session 49, lead: small PyTorch names and fixes found while merging."""
import numpy as np

import gpujit as torch


def test_fork_wait_and_parse_ir_at_the_top_level():
    # torch exports torch._C's fork / wait / parse_ir at the top level (torch.fork is torch.jit.fork)
    fut = torch.fork(lambda x: x + 1, torch.ones(2))
    assert isinstance(fut, torch.Future)
    np.testing.assert_array_equal(torch.wait(fut).numpy(), [2.0, 2.0])
    g = torch.parse_ir("graph(%a : Tensor):\n  %b : Tensor = aten::relu(%a)\n  return (%b)\n")
    assert "aten::relu" in str(g)
    assert torch.parse_ir is torch._C.parse_ir


def test_mps_and_xpu_namespaces_are_torch_without_those_devices():
    # values and words of torch 2.13's CPU build on Linux
    import pytest
    assert torch.mps.is_available() is False and torch.mps.device_count() == 0
    assert torch.mps.manual_seed(0) is None
    with pytest.raises(RuntimeError, match=r"Cannot execute deviceSynchronize\(\) without MPS backend"):
        torch.mps.synchronize()
    with pytest.raises(RuntimeError, match="getDefaultGenerator"):
        torch.mps.get_rng_state()
    assert torch.xpu.is_available() is False and torch.xpu.device_count() == 0
    assert torch.xpu.manual_seed_all(0) is None and torch.xpu.seed() is None
    assert torch.xpu.memory_allocated() == 0 and dict(torch.xpu.memory_stats()) == {}
    assert torch.xpu.get_arch_list() == [] and torch.xpu.is_bf16_supported() is False
    for call in (torch.xpu.synchronize, torch.xpu.current_device, torch.xpu.get_device_name):
        with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
            call()
    device = "mps" if torch.mps.is_available() else "xpu" if torch.xpu.is_available() else "cpu"
    assert torch.ones(2, device=device).device == torch.device("cpu")
