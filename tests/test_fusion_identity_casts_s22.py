"""`x.to(dtype)` to the dtype x was profiled with is x itself in an optimized graph, as
eager's aten::to hands back its input: two such casts made a fusion group whose kernel
returned a copy, where PyTorch (eager and TorchScript) returns the input (program fuzz
seed 2128: the output no longer shared the input's memory)."""
import numpy as np

import gpujit as torch


def _casts(x, y):
    a = x.to(torch.float32).to(torch.float32)
    return a, (y * 2).to(torch.float64)


def test_same_dtype_casts_hand_back_the_input():
    f = torch.jit.script(_casts)
    for _ in range(4):
        x, y = torch.randn(3, 4), torch.randn(3, 4)
        a, b = f(x, y)
        assert a is x
        assert b.dtype == torch.float64
        np.testing.assert_allclose(b.numpy(), y.numpy().astype(np.float64) * 2, rtol=1e-6)
    graph = str(f.graph_for(x, y))
    assert graph.count("aten::to") <= 1     # (the float64 cast may fuse with the mul)
    x = torch.randn(3, 4, dtype=torch.float64)        # another dtype: a real cast
    a, _ = f(x, y)
    assert a.dtype == torch.float32 and a is not x
    np.testing.assert_allclose(a.numpy(), x.numpy().astype(np.float32))
