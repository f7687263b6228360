"""Session 30's PyTorch-fidelity leftovers: the matrix products' mixed-device errors in the
words of PyTorch's CUDA wrappers (gpujit/ops/device_checks.py), the optimizers' step
tensors. `@pytest.mark.cuda` tests run on a GPU and, through
test_fake_gpu.py's session, against tests/fakecupy on machines without one.

The expected texts follow torch 2.13's generated wrappers (torchgen's
gen_device_check over native_functions.yaml: check_and_update_common_device per tensor
argument, `wrapper_CUDA_<name>` for structured kernels, `wrapper_CUDA__<name>` for the
others) and its composites (LinearAlgebra.cpp's _matmul_impl / mv, Linear.cpp's linear)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import gpujit

cuda = pytest.mark.cuda


# (its cuda-marked tests run against the NumPy-backed CuPy in test_fake_gpu.py's session)


# ------------------------------------------------------------------ mixed devices

def _msg(arg, dev, common, wrapper):
    return re.escape(f"Expected all tensors to be on the same device, but got {arg} is on "
                     f"{dev}, different from other tensors on {common} (when checking "
                     f"argument in method {wrapper})")


def _cases():
    g = gpujit
    F = g.nn.functional
    m = g.randn(2, 2)
    v = g.randn(2)
    b3 = g.randn(3, 2, 2)
    mc, vc, b3c = m.cuda(), v.cuda(), b3.cuda()
    s0 = g.tensor(1.0)            # a 0-dim CPU tensor: no exception for these kernels
    C, G = "cpu", "cuda:0"
    return [
        (lambda: mc @ m, "mat2", C, G, "wrapper_CUDA_mm"),
        (lambda: m @ mc, "mat2", G, C, "wrapper_CUDA_mm"),
        (lambda: g.mm(mc, m), "mat2", C, G, "wrapper_CUDA_mm"),
        (lambda: mc.mm(m), "mat2", C, G, "wrapper_CUDA_mm"),
        (lambda: g.bmm(b3c, b3), "mat2", C, G, "wrapper_CUDA_bmm"),
        (lambda: g.addmm(mc, mc, m), "mat2", C, G, "wrapper_CUDA_addmm"),
        (lambda: g.addmm(mc, m, mc), "mat1", C, G, "wrapper_CUDA_addmm"),
        (lambda: g.addmm(m, mc, mc), "mat1", G, C, "wrapper_CUDA_addmm"),
        (lambda: g.addmm(s0, mc, mc), "mat1", G, C, "wrapper_CUDA_addmm"),
        (lambda: mc.clone().addmm_(m, mc), "mat1", C, G, "wrapper_CUDA_addmm_"),
        (lambda: g.baddbmm(b3c, b3c, b3), "batch2", C, G, "wrapper_CUDA_baddbmm"),
        (lambda: g.baddbmm(b3, b3c, b3c), "batch1", G, C, "wrapper_CUDA_baddbmm"),
        (lambda: g.addbmm(mc, b3c, b3), "batch2", C, G, "wrapper_CUDA__addbmm"),
        (lambda: g.addmv(vc, mc, v), "vec", C, G, "wrapper_CUDA_addmv"),
        (lambda: g.addmv(v, mc, vc), "mat", G, C, "wrapper_CUDA_addmv"),
        (lambda: g.addr(mc, vc, v), "vec2", C, G, "wrapper_CUDA__addr"),
        # mv(self, vec) is addmv_(empty on vec's device, self, vec)
        (lambda: g.mv(mc, v), "mat", G, C, "wrapper_CUDA_addmv_"),
        (lambda: g.mv(m, vc), "mat", C, G, "wrapper_CUDA_addmv_"),
        (lambda: mc @ v, "mat", G, C, "wrapper_CUDA_addmv_"),
        (lambda: g.dot(vc, v), "tensor", C, G, "wrapper_CUDA__dot"),
        (lambda: vc @ v, "tensor", C, G, "wrapper_CUDA__dot"),
        (lambda: g.vdot(v, vc), "other", G, C, "wrapper_CUDA__vdot"),
        # matmul: 1-D @ 2-D and a folded 3-D @ 2-D are mm, 2-D @ 3-D (no grad) is bmm
        (lambda: vc @ m, "mat2", C, G, "wrapper_CUDA_mm"),
        (lambda: b3c @ m, "mat2", C, G, "wrapper_CUDA_mm"),
        (lambda: b3c @ v, "mat", G, C, "wrapper_CUDA_addmv_"),
        (lambda: mc @ b3, "mat2", C, G, "wrapper_CUDA_bmm"),
        (lambda: b3c @ b3, "mat2", C, G, "wrapper_CUDA_bmm"),
        # linear: addmm(bias, input, weight.t()) with a bias, else matmul(input, weight.t())
        (lambda: F.linear(mc, m), "mat2", C, G, "wrapper_CUDA_mm"),
        (lambda: F.linear(mc, mc, v), "mat1", G, C, "wrapper_CUDA_addmm"),
        (lambda: F.linear(mc, m, vc), "mat2", C, G, "wrapper_CUDA_addmm"),
        (lambda: F.linear(b3c, m, vc), "mat2", C, G, "wrapper_CUDA_addmm"),
        (lambda: F.linear(mc, mc, s0), "mat1", G, C, "wrapper_CUDA_addmm"),
        (lambda: g.inner(mc, m), "mat2", C, G, "wrapper_CUDA_mm"),
        (lambda: g.tensordot(mc, m, dims=1), "mat2", C, G, "wrapper_CUDA_mm"),
    ]


@cuda
def test_matrix_products_mixed_devices_in_the_cuda_wrappers_words():
    for k, (f, arg, dev, common, wrapper) in enumerate(_cases()):
        with pytest.raises(RuntimeError, match=_msg(arg, dev, common, wrapper)):
            f()


@cuda
def test_matrix_products_with_gradients_and_scripted_give_the_same_error():
    m = gpujit.randn(2, 2, requires_grad=True)
    mc = gpujit.randn(2, 2, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match=_msg("mat2", "cpu", "cuda:0", "wrapper_CUDA_mm")):
        mc @ m
    with pytest.raises(RuntimeError, match=_msg("mat1", "cuda:0", "cpu",
                                                "wrapper_CUDA_addmm")):
        gpujit.nn.Linear(2, 2)(mc)

    @gpujit.jit.script
    def f(x, y):
        return gpujit.addmm(y, x, x)

    x = gpujit.randn(2, 2, device="cuda")
    assert f(x, x).device.type == "cuda"
    for _ in range(2):          # (the profiled run and the optimized one)
        with pytest.raises(RuntimeError, match=_msg("mat1", "cuda:0", "cpu",
                                                    "wrapper_CUDA_addmm")):
            f(x, gpujit.tensor(1.0))


@cuda
def test_a_0dim_cpu_tensor_still_joins_what_torch_lets_it_join():
    x = gpujit.randn(2, 3, 2, device="cuda")
    w = gpujit.randn(2, 2, device="cuda")
    s0 = gpujit.tensor(1.0)
    # linear of a 3-D input with a 0-dim bias: matmul, then add_ (TensorIterator)
    r = gpujit.nn.functional.linear(x, w, s0)
    assert r.device == gpujit.device("cuda:0")
    np.testing.assert_allclose(r.cpu().numpy(), x.cpu().numpy() @ w.cpu().numpy().T + 1,
                               rtol=1e-5)
    assert (s0 * x).device == gpujit.device("cuda:0")
    assert gpujit.inner(s0, x).device == gpujit.device("cuda:0")   # (self * other)
    with pytest.raises(RuntimeError, match=re.escape(
            "both arguments to matmul need to be at least 1D, but they are 0D and 3D")):
        s0 @ x


def test_same_device_matrix_products_are_unchanged():
    m = gpujit.randn(2, 2)
    np.testing.assert_allclose((m @ m).numpy(), m.numpy() @ m.numpy(), rtol=1e-6)
    r = gpujit.addmm(gpujit.tensor(1.0), m, m)          # all on the CPU: fine
    np.testing.assert_allclose(r.numpy(), m.numpy() @ m.numpy() + 1, rtol=1e-6)


# ------------------------------------------------------------------ optimizers' step tensors

# torch 2.13's _init_group: which state scalars sit on the parameter's device
_DEVICE_SCALARS = [
    ("Adam", {}, ()), ("Adam", {"fused": True}, ("step",)),
    ("Adam", {"capturable": True}, ("step",)),
    ("Adam", {"fused": True, "capturable": True}, ("step",)),
    ("AdamW", {"fused": True}, ("step",)), ("Adagrad", {"fused": True}, ("step",)),
    ("Adagrad", {}, ()), ("RMSprop", {"capturable": True}, ("step",)),
    ("NAdam", {"capturable": True}, ("step", "mu_product")), ("NAdam", {}, ()),
    ("ASGD", {}, ("step", "eta", "mu")), ("RAdam", {"capturable": True}, ("step",)),
    ("Adadelta", {"capturable": True}, ("step",)), ("Rprop", {"capturable": True}, ("step",)),
]


@cuda
@pytest.mark.parametrize("name,kw,on_device", _DEVICE_SCALARS)
def test_fused_or_capturable_state_scalars_live_on_the_parameters_device(name, kw, on_device):
    ps = [gpujit.nn.Parameter(gpujit.ones(2, device="cuda") * k) for k in (1, 2, 3)]
    ref = [gpujit.nn.Parameter(gpujit.ones(2) * k) for k in (1, 2, 3)]
    o = getattr(gpujit.optim, name)(ps, **kw)
    oref = getattr(gpujit.optim, name)(ref)
    for _ in range(3):
        for p, q in zip(ps, ref):
            p.grad = gpujit.ones_like(p) * 0.5
            q.grad = gpujit.ones_like(q) * 0.5
        o.step()
        oref.step()
    for p, q in zip(ps, ref):
        st = o.state[p]
        for k, v in st.items():
            if v.dim() == 0:
                want = "cuda" if k in on_device else "cpu"
                assert v.device.type == want, (k, v.device)
                assert v.dtype == gpujit.float32 and v.shape == ()
                np.testing.assert_allclose(float(v), float(oref.state[q][k]), rtol=1e-6)
        assert float(st["step"]) == 3.0
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().numpy(), rtol=1e-5)


def test_the_step_tensor_on_the_cpu_as_torch():
    # torch 2.13: a 0-dim float32 CPU tensor with fused=True or neither flag; capturable
    # alone refuses CPU parameters at the step (with fused=True the fused CPU kernel runs)
    for kw in ({}, {"fused": True}, {"capturable": True}, {"fused": True, "capturable": True}):
        p = gpujit.nn.Parameter(gpujit.ones(2))
        o = gpujit.optim.Adam([p], **kw)
        p.grad = gpujit.ones_like(p)
        if kw == {"capturable": True}:
            with pytest.raises(AssertionError, match=re.escape(
                    "If capturable=True, params and state_steps must be on supported "
                    "devices: ['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'].")):
                o.step()
            continue
        o.step()
        st = o.state[p]["step"]
        assert (st.dtype, st.shape, st.device.type, float(st)) == \
            (gpujit.float32, (), "cpu", 1.0)
