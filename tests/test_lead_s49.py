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
