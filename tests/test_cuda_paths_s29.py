"""Session 29's review of the CUDA paths after session 28's device changes (devices never
equal strings, Tensor.__array__ is numpy(), the CPU generator rewrite): `@pytest.mark.cuda`
tests that run on a GPU and, through test_fake_gpu.py's session, against
tests/fakecupy (a NumPy-backed CuPy) on machines without one; the rest run everywhere."""
from __future__ import annotations

import io

import numpy as np
import pytest

import gpujit

cuda = pytest.mark.cuda
two_gpus = pytest.mark.two_gpus      # (cuda:1: skipped where one GPU is visible)


# (its cuda-marked tests run against the NumPy-backed CuPy in test_fake_gpu.py's session)


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


@two_gpus
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


@two_gpus
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

@two_gpus
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


@two_gpus
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


@two_gpus
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


# ------------------------------------------------------------------ coverage of s28's changes

@cuda
@pytest.mark.parametrize("spec", ["cuda", *(pytest.param(v, marks=two_gpus)
                                           for v in ("cuda:1", ("cuda", 1), 1))])
def test_factories_moves_and_is_cuda_with_every_device_spelling(spec):
    d = gpujit.device(*spec) if isinstance(spec, tuple) else spec
    want = gpujit.device("cuda:1") if spec != "cuda" else gpujit.device("cuda:0")
    x = gpujit.arange(4.0)
    made = [gpujit.zeros(2, device=d), gpujit.randn(2, device=d), gpujit.full((2,), 3.0, device=d),
            gpujit.tensor([1, 2], device=d), gpujit.empty_like(x, device=d),
            x.new_zeros(2, device=d), x.to(d), x.cuda(d), x.to(d, non_blocking=True),
            x.pin_memory().to(d, non_blocking=True)]
    for t in made:
        assert t.device is want and t.is_cuda and t.device != str(want)
        assert t.device.type == "cuda"
    assert x.to(d).cpu().device.type == "cpu"
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        x.cuda().pin_memory()


@cuda
def test_a_cuda_tensor_refuses_numpy_conversion_as_torch():
    y = gpujit.arange(3.0, device="cuda")
    msg = (r"can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu\(\) to copy "
           r"the tensor to host memory first.")
    for conv in (np.asarray, np.array, lambda t: np.asarray(t, dtype=np.float64),
                 lambda t: np.sin(t), lambda t: np.add(t, 1), lambda t: t.numpy()):
        with pytest.raises(TypeError, match=msg):
            conv(y)
    assert y.tolist() == [0.0, 1.0, 2.0] and float(y[1]) == 1.0
    np.testing.assert_array_equal(np.asarray(y.cpu()), [0.0, 1.0, 2.0])


@cuda
def test_cuda_generators_seeds_states_and_fork_rng():
    gpujit.cuda.manual_seed(1)
    a = gpujit.randn(4, device="cuda")
    gpujit.cuda.manual_seed(1)
    assert gpujit.equal(a, gpujit.randn(4, device="cuda"))
    for dev in (None, "cuda", "cuda:0", gpujit.device("cuda"), 0):
        s = gpujit.cuda.get_rng_state() if dev is None else gpujit.cuda.get_rng_state(dev)
        assert s.dtype is gpujit.uint8 and s.device.type == "cpu"
        b = gpujit.rand(3, device="cuda")
        gpujit.cuda.set_rng_state(s) if dev is None else gpujit.cuda.set_rng_state(s, dev)
        assert gpujit.equal(b, gpujit.rand(3, device="cuda"))
    g = gpujit.Generator(device="cuda")
    assert g.device is gpujit.device("cuda:0")
    assert gpujit.Generator(device=gpujit.device("cuda", 1)).device is gpujit.device("cuda:1")
    g.manual_seed(3)
    r1 = gpujit.randn(4, device="cuda", generator=g)
    g.manual_seed(3)
    assert gpujit.equal(r1, gpujit.randn(4, device="cuda", generator=g))
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator"):
        gpujit.randn(4, device="cuda", generator=gpujit.Generator())
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator"):
        gpujit.randn(4, generator=g)
    x = gpujit.ones(1000, device="cuda")
    gpujit.manual_seed(0)
    d1 = gpujit.nn.functional.dropout(x, 0.5)
    gpujit.manual_seed(0)
    d2 = gpujit.nn.functional.dropout(x, 0.5)
    assert d1.device is x.device and gpujit.equal(d1, d2)
    assert set(np.unique(d1.cpu().numpy()).tolist()) == {0.0, 2.0}
    for devices in ([0], [gpujit.device("cuda:0")], ["cuda:0"], None):
        with gpujit.random.fork_rng(devices=devices):
            f1 = gpujit.randn(3, device="cuda")
        assert gpujit.equal(f1, gpujit.randn(3, device="cuda"))


@two_gpus
@cuda
def test_state_dicts_optimizers_and_autocast_on_cuda():
    m = gpujit.nn.Linear(3, 2)
    buf = io.BytesIO()
    gpujit.save(m.state_dict(), buf)
    mc = gpujit.nn.Linear(3, 2).cuda(1)
    buf.seek(0)
    mc.load_state_dict(gpujit.load(buf))
    assert mc.weight.device is gpujit.device("cuda:1")
    np.testing.assert_array_equal(mc.weight.detach().cpu().numpy(), m.weight.detach().numpy())
    o = gpujit.optim.Adam(mc.parameters(), lr=0.1)
    mc(gpujit.randn(4, 3, device="cuda:1")).sum().backward()
    o.step()
    assert o.state[mc.weight]["exp_avg"].device is gpujit.device("cuda:1")
    x = gpujit.randn(4, 4, device="cuda")
    with gpujit.autocast("cuda"):
        assert (x @ x).dtype is gpujit.float16
        assert (x.cpu() @ x.cpu()).dtype is gpujit.float32

    @gpujit.jit.script
    def ac(a, b):
        with gpujit.autocast(device_type="cuda"):
            return a @ b

    assert ac(x, x).dtype is gpujit.float16 and ac(x.cpu(), x.cpu()).dtype is gpujit.float32


def test_cuda_default_generators_is_a_tuple():
    gens = gpujit.cuda.default_generators
    assert isinstance(gens, tuple) and len(gens) == gpujit.cuda.device_count()


@two_gpus
@cuda
def test_cuda_default_generators_are_the_devices_generators():
    gens = gpujit.cuda.default_generators
    assert [g.device for g in gens] == [gpujit.device("cuda", i) for i in range(len(gens))]
    gens[1].manual_seed(5)
    a = gpujit.randn(3, device="cuda:1")
    gpujit.cuda.manual_seed_all(5)
    assert gpujit.equal(a, gpujit.randn(3, device="cuda:1"))
    assert gpujit.cuda.default_generators[0] is gens[0]
