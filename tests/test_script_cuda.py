"""The GPU tier of gpujit.script: scripted and loaded models run on CUDA and agree with
the same models on the CPU. Skipped without CuPy and an NVIDIA GPU (@pytest.mark.cuda)."""
import copy
import io

import numpy as np
import pytest

import gpujit as torch

nn = torch.nn
pytestmark = pytest.mark.cuda


class Gate(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.dg = Gate()
        self.linear = nn.Linear(4, 4)
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Tanh()])

    def forward(self, xs, h, k: int):
        for i in range(xs.size(0)):
            h = torch.tanh(self.dg(self.linear(xs[i])) + h)
            h = self.layers[k](h)
        return h, [h * 2, h.sum(1)]


def _close(a, b, tol=1e-4):
    if isinstance(a, (list, tuple)):
        for x, y in zip(a, b):
            _close(x, y, tol)
        return
    np.testing.assert_allclose(a.cpu().detach().numpy(), b.cpu().detach().numpy(),
                               rtol=tol, atol=tol)


def test_scripted_module_on_cuda_matches_cpu():
    torch.manual_seed(0)
    cpu = torch.jit.script(Cell())
    gpu = torch.jit.script(copy.deepcopy(Cell())).cuda()
    gpu.load_state_dict(cpu.state_dict())
    xs, h = torch.rand(5, 3, 4) - 0.5, torch.rand(3, 4)
    for k in (0, 1):
        for _ in range(3):           # profiling, then the optimized (fused) code
            _close(gpu(xs.cuda(), h.cuda(), k), cpu(xs, h, k))


def test_scripted_function_fuses_on_cuda_and_matches_cpu():
    @torch.jit.script
    def chain(x, y):
        return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)
    x, y = torch.rand(1 << 12), torch.rand(1 << 12)
    want = chain(x, y)
    for _ in range(3):
        _close(chain(x.cuda(), y.cuda()), want, 1e-5)
    g = chain.graph_for(x.cuda(), y.cuda())
    assert "prim::TensorExprGroup" in str(g)


def test_loaded_model_with_map_location_cuda():
    torch.manual_seed(1)
    m = torch.jit.script(Cell())
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf, map_location="cuda")
    assert loaded.linear.weight.device.type == "cuda"
    xs, h = torch.rand(5, 3, 4) - 0.5, torch.rand(3, 4)
    _close(loaded(xs.cuda(), h.cuda(), 1), m(xs, h, 1))
