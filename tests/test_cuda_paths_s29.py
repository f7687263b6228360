"""Session 29's review of the CUDA paths after session 28's device changes (devices never
equal strings, Tensor.__array__ is numpy(), the CPU generator rewrite): `@pytest.mark.cuda`
tests that run on a GPU and, through test_cuda_paths_on_the_fake_gpu below, against
tests/fakecupy (a NumPy-backed CuPy) on machines without one; the rest run everywhere."""
from __future__ import annotations

import io

import numpy as np
import pytest

import gpujit

cuda = pytest.mark.cuda


def test_cuda_paths_on_the_fake_gpu(tmp_path):
    if gpujit.cuda.is_available():
        pytest.skip("a GPU (or the fake CuPy) is here: the cuda-marked tests run directly")
    from test_fake_gpu import run_fake_tier
    run_fake_tier(tmp_path, ["test_cuda_paths_s29.py"])


# ------------------------------------------------------------------ save / load

@cuda
@pytest.mark.parametrize("where", ["cuda", "cuda:0", "dev", "dict", "dict_dev", "callable"])
def test_load_with_a_map_location_to_cuda_gives_indexed_devices(where):
    # the storages' device was 'cuda' itself (no index): the tensors printed
    # device='cuda', equalled no cuda:0 tensor's device and mixing them with one failed
    # ("found at least two devices, cuda and cuda:0")
    ml = {"cuda": "cuda", "cuda:0": "cuda:0", "dev": gpujit.device("cuda"),
          "dict": {"cpu": "cuda"}, "dict_dev": {"cpu": gpujit.device("cuda")},
          "callable": lambda s, loc: s.cuda()}[where]
    m = gpujit.nn.Linear(3, 2)
    buf = io.BytesIO()
    gpujit.save(m.state_dict(), buf)
    buf.seek(0)
    sd = gpujit.load(buf, map_location=ml)
    w = sd["weight"]
    assert w.device == gpujit.device("cuda", 0) and w.device.index == 0
    assert "device='cuda:0'" in repr(w)
    r = w + gpujit.ones(2, 3, device="cuda")
    np.testing.assert_allclose(r.cpu().numpy(), m.weight.detach().numpy() + 1, rtol=1e-6)


@cuda
def test_load_of_cuda_storages_remapped_to_cuda_is_indexed():
    buf = io.BytesIO()
    gpujit.save({"a": gpujit.arange(3.0, device="cuda:1")}, buf)
    buf.seek(0)
    a = gpujit.load(buf, map_location={"cuda:1": "cuda"})["a"]
    assert a.device is gpujit.device("cuda:0")
    buf.seek(0)
    locs = []
    a = gpujit.load(buf, map_location=lambda s, loc: locs.append(loc))["a"]
    assert locs == ["cuda:1"] and a.device is gpujit.device("cuda:1")


# ------------------------------------------------------------------ with torch.device(...)

def test_a_device_is_a_context_manager_for_factories():
    with gpujit.device("cpu") as d:
        assert d is gpujit.device("cpu")
        assert gpujit.zeros(2).device.type == "cpu"
    assert gpujit.get_default_device() is gpujit.device("cpu")


@cuda
def test_with_a_cuda_device_the_factories_and_layers_make_cuda_tensors():
    with gpujit.device("cuda"):
        assert gpujit.zeros(2).device is gpujit.device("cuda:0")
        assert gpujit.arange(3).device is gpujit.device("cuda:0")
        assert gpujit.tensor([1.0]).device is gpujit.device("cuda:0")
        assert gpujit.nn.Linear(2, 2).weight.device is gpujit.device("cuda:0")
        assert gpujit.get_default_device() is gpujit.device("cuda:0")
        with gpujit.device("cuda", 1):
            assert gpujit.ones(2).device is gpujit.device("cuda:1")
            with gpujit.device("cpu"):
                assert gpujit.ones(2).device.type == "cpu"
            assert gpujit.ones(2).device is gpujit.device("cuda:1")
        assert gpujit.ones(2).device is gpujit.device("cuda:0")
    assert gpujit.ones(2).device.type == "cpu"
    assert gpujit.get_default_device() is gpujit.device("cpu")


# ------------------------------------------------------------------ mixed devices

@cuda
def test_mixed_device_errors_in_pytorchs_words():
    x = gpujit.ones(3)
    with pytest.raises(RuntimeError, match=r"Expected all tensors to be on the same device, "
                       r"but found at least two devices, cpu and cuda:0!"):
        x + x.cuda()
    with pytest.raises(RuntimeError, match=r"Expected all tensors to be on the same device, "
                       r"but found at least two devices, cuda:0 and cuda:1!"):
        gpujit.cat([x.cuda(0), x.cuda(1)])
    assert (gpujit.tensor(2.0) + x.cuda()).device is gpujit.device("cuda:0")  # 0-dim CPU


@cuda
def test_to_other_follows_others_device_eager_scripted_and_in_torch_ops():
    # aten::to.other's result was wrapped on self's device: x.to(y) in scripted code and
    # torch.ops.aten.to.other crashed for a CPU self and a CUDA other (NumPy conversion of a
    # CuPy array) and said cuda:1 for a cuda:1 tensor moved to a CPU or cuda:0 one
    x, y = gpujit.arange(3.0), gpujit.ones(1, dtype=gpujit.float64, device="cuda:1")

    @gpujit.jit.script
    def f(a, b):
        return a.to(b)

    for a, b in ((x, y), (y, x), (y, y.cuda(0)), (x.cuda(0), y)):
        for r in (f(a, b), gpujit.ops.aten.to.other(a, b), a.to(b)):
            assert r.device is b.device and r.dtype is b.dtype
            np.testing.assert_allclose(r.cpu().numpy(), a.cpu().numpy())
    x.requires_grad_()
    gpujit.ops.aten.to.other(x, y).sum().backward()
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------------ scripted x.cpu() / x.cuda()

def test_scripted_cpu_is_aten_cpu_and_returns_a_cpu_tensor_itself():
    # TorchScript has aten::cpu / aten::cuda (x.cpu(), x.cuda()): "gpujit has no Tensor
    # method 'cpu'" before
    @gpujit.jit.script
    def f(x):
        return x.cpu()

    assert "aten::cpu(" in str(f.graph)
    x = gpujit.arange(3.0)
    assert f(x) is x
    assert gpujit.ops.aten.cpu(x) is x


@cuda
def test_scripted_cuda_and_cpu_move_tensors_with_gradients():
    @gpujit.jit.script
    def to_gpu(x):
        return x.cuda() * 2

    @gpujit.jit.script
    def to_host(x):
        return x.cpu() + 1

    @gpujit.jit.script
    def both(x):
        return x.cuda(), x.cpu()

    assert "aten::cuda(" in str(to_gpu.graph)
    x = gpujit.arange(3.0, requires_grad=True)
    for a in (x, x.cuda(0), x.cuda(1)):
        r = to_gpu(a)
        assert r.device is gpujit.device("cuda:0")      # the current device, as torch's
        assert r.tolist() == [0.0, 2.0, 4.0]
        h = to_host(a)
        assert h.device.type == "cpu" and h.tolist() == [1.0, 2.0, 3.0]
    y = x.detach().cuda()
    g, c = both(y)
    assert g is y and c.device.type == "cpu"
    d = x.detach()
    g, c = both(d)
    assert g.device is gpujit.device("cuda:0") and c is d
    to_gpu(x).sum().backward()
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [2.0, 2.0, 2.0]
    x.grad = None
    to_host(x.cuda(1)).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    with gpujit.cuda.device(1):
        assert to_gpu(x).device is gpujit.device("cuda:1")
        assert gpujit.ops.aten.cuda(x).device is gpujit.device("cuda:1")
