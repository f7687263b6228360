"""The 'meta' device (session 51): tensors with sizes, strides and a dtype but no data, as
PyTorch's. Expected values were computed with torch 2.13 (CPU build) unless a test compares
with torch itself."""
import copy
import warnings

import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F


def meta(*shape, **kw):
    return gpujit.empty(*shape, device="meta", **kw)


# ---------------------------------------------------------------- factories and metadata

def test_device_and_factories():
    d = gpujit.device("meta")
    assert (d.type, d.index, str(d)) == ("meta", None, "meta")
    assert repr(d) == "device(type='meta')"
    assert gpujit.device("meta:0").index == 0
    assert gpujit.empty(2, device="meta:0").device is d        # (torch: 'meta')
    for t in (meta(2, 3), gpujit.zeros(2, 3, device="meta"), gpujit.ones(2, 3, device="meta"),
              gpujit.randn(2, 3, device="meta"), gpujit.full((2, 3), 1.5, device="meta"),
              gpujit.rand(2, 3, device=d)):
        assert t.is_meta and t.device is d
        assert (tuple(t.shape), t.dtype, t.stride()) == ((2, 3), gpujit.float32, (3, 1))
    a = gpujit.arange(5, device="meta")
    assert (a.shape, a.dtype) == (gpujit.Size([5]), gpujit.int64)
    assert gpujit.arange(0, 1, 0.25, device="meta").shape == (4,)
    assert gpujit.zeros(2, 3, dtype=gpujit.int64, device="meta").dtype is gpujit.int64
    assert gpujit.tensor([[1.0, 2.0]], device="meta").shape == (1, 2)
    x = gpujit.randn(2, 3)
    assert not x.is_meta
    e = gpujit.empty_like(x, device="meta")
    assert e.is_meta and e.shape == (2, 3)
    z = gpujit.zeros_like(meta(4, 5))
    assert z.is_meta and z.shape == (4, 5)
    assert meta(4).new_zeros(2).is_meta
    assert gpujit.empty_strided((2, 3), (1, 2), device="meta").stride() == (1, 2)


def test_repr_and_sizes():
    assert repr(meta(2, 3)) == "tensor(..., device='meta', size=(2, 3))"
    assert str(meta(2, 3)) == "tensor(..., device='meta', size=(2, 3))"
    assert repr(meta(())) == "tensor(..., device='meta', size=())"
    assert repr(meta(0, 3)) == "tensor(..., device='meta', size=(0, 3))"
    assert repr(meta(2, dtype=gpujit.int64)) == \
        "tensor(..., device='meta', size=(2,), dtype=gpujit.int64)"
    assert repr(meta(3, requires_grad=True)) == \
        "tensor(..., device='meta', size=(3,), requires_grad=True)"
    assert repr(meta(3, requires_grad=True) * 2) == \
        "tensor(..., device='meta', size=(3,), grad_fn=<MulBackward0>)"
    big = meta(10 ** 6, 10 ** 6)         # (no memory: 4 TB as a CPU tensor)
    assert repr(big) == "tensor(..., device='meta', size=(1000000, 1000000))"
    assert big.numel() == 10 ** 12 and big.nbytes == 4 * 10 ** 12
    m = meta(4, 5)
    assert (m.element_size(), m.dim(), m.data_ptr(), m.storage_offset()) == (4, 2, 0, 0)
    assert m.untyped_storage().nbytes() == 80
    assert m.untyped_storage().device.type == "meta"


def test_python_protocols_on_meta():
    s = meta(())
    assert f"{s}" == "tensor(..., device='meta', size=())"        # (no item(): its repr)
    assert s.get_device() == -1 and len(meta(2, 3)) == 2
    assert nn.utils.skip_init(nn.Linear, 4, 3).weight.device.type == "cpu"
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        np.asarray(meta(2))


def test_to_meta_keeps_layout():
    x = gpujit.randn(3, 4)
    m = x.to("meta")
    assert m.is_meta and m.shape == (3, 4) and m.stride() == (4, 1)
    assert x.t().to("meta").stride() == (1, 4)        # (preserve_format)
    assert m.to("meta") is m
    assert m.to(gpujit.float16).dtype is gpujit.float16
    assert m.double().is_meta


# ---------------------------------------------------------------- ops

def test_ops_shapes_dtypes_strides():
    m = meta(4, 5)
    assert (m + 1).dtype is gpujit.float32
    assert (gpujit.ones(3, dtype=gpujit.int32, device="meta") + 1.5).dtype is gpujit.float32
    assert (m * meta(5)).shape == (4, 5)
    assert (m == m).dtype is gpujit.bool
    mm = m @ meta(5, 7)
    assert mm.is_meta and mm.shape == (4, 7)
    t = m.t()
    assert t.stride() == (1, 5) and not t.is_contiguous()
    assert (t + 1).stride() == (1, 5)           # (TensorIterator's layout, as torch)
    assert t.contiguous().stride() == (4, 1)
    assert t.reshape(20).stride() == (1,)
    assert m.clone().stride() == (5, 1)
    assert m.sum(0).shape == (5,) and m.sum().shape == ()
    assert m.mean(1, keepdim=True).shape == (4, 1)
    assert m.view(20).shape == (20,)
    s = m[1:, ::2]
    assert (s.shape, s.stride(), s.storage_offset()) == ((3, 3), (5, 2), 5)
    assert m[2].storage_offset() == 10
    assert meta(1, 3).expand(4, 3).stride() == (0, 1)
    assert meta(2, 3, 4).permute(2, 0, 1).stride() == (1, 12, 4)
    assert m.unsqueeze(1).stride() == (5, 5, 1)
    assert [p.storage_offset() for p in m.split(2, 1)] == [0, 2, 4]
    assert [p.storage_offset() for p in m.unbind(0)] == [0, 5, 10, 15]
    assert gpujit.cat([m, m], 1).shape == (4, 10)
    v, i = m.max(1)
    assert (v.shape, i.dtype, i.is_meta) == ((4,), gpujit.int64, True)
    assert m.argmax().shape == ()
    assert gpujit.where(m > 0, m, 0.0).shape == (4, 5)
    assert m[gpujit.tensor([0, 1], device="meta")].shape == (2, 5)
    assert m[gpujit.tensor([0, 1])].shape == (2, 5)          # (a CPU index tensor)
    assert (m + gpujit.tensor(1.0)).is_meta and (gpujit.tensor(1.0) + m).is_meta
    assert gpujit.rand_like(m).is_meta


def test_layouts_of_lapack_complex_and_per_input_views():
    m = meta(4, 5)
    assert gpujit.linalg.inv(meta(3, 3)).stride() == (1, 3)       # (column-major, as LAPACK)
    q, r = gpujit.linalg.qr(meta(4, 3))
    assert (q.stride(), r.stride()) == ((1, 4), (1, 3))
    c = meta(3, dtype=gpujit.complex64)
    assert (c.real.stride(), c.imag.stride(), c.imag.storage_offset()) == ((2,), (2,), 1)
    assert m.view(gpujit.float16).shape == (4, 10)
    a, b = gpujit.broadcast_tensors(meta(3, 1), meta(4))
    assert (a.stride(), b.stride()) == ((1, 0), (0, 1)) and a._base is not None
    x, y = gpujit.meshgrid(meta(3), meta(4), indexing="ij")
    assert (x.stride(), y.stride()) == ((1, 0), (0, 1))
    assert F.embedding_bag(meta(2, 3, dtype=gpujit.int64), meta(10, 4)).shape == (2, 4)
    assert meta(1).expand(0).shape == (0,) and meta(()).movedim(0, 0).shape == ()
    assert gpujit.atleast_3d([meta(2, 3)])[0].stride() == (3, 1, 1)
    p = m.unsafe_split(2, 1)
    assert [x.storage_offset() for x in p] == [0, 2, 4] and p[0]._version == 0
    assert m.mH.stride() == (1, 5) and gpujit.linalg.diagonal(meta(2, 3, 3)).stride() == (9, 4)
    assert m.is_same_size(meta(4, 5)) and not m.is_conj()
    with pytest.raises(NotImplementedError):
        gpujit.where(m > 0)         # (sizes that hang on the data)


def test_inplace_ops_on_meta():
    m = meta(4, 5)
    v = m._version
    assert m.add_(1) is m and m._version == v + 1
    assert m.fill_(1) is m and m.copy_(gpujit.ones(4, 5)) is m and m.is_meta
    assert m.normal_() is m
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        meta(2, dtype=gpujit.int64).add_(1.5)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the "
                                           r"broadcast shape \[3, 2\]"):
        meta(2).add_(meta(3, 2))
    u = meta(2, 3)
    u.t_()
    assert (u.shape, u.stride()) == ((3, 2), (1, 3))


def test_nn_functional_on_meta():
    x = meta(1, 3, 8, 8)
    assert F.conv2d(x, meta(4, 3, 3, 3)).shape == (1, 4, 6, 6)
    assert F.linear(meta(4, 5), meta(3, 5)).shape == (4, 3)
    assert F.softmax(meta(4, 5), -1).shape == (4, 5)
    assert F.layer_norm(meta(4, 5), (5,)).shape == (4, 5)
    e = F.embedding(meta(2, 3, dtype=gpujit.long), meta(10, 4))
    assert e.shape == (2, 3, 4) and e.is_meta
    assert F.cross_entropy(meta(3, 5), meta(3, dtype=gpujit.long)).shape == ()
    assert F.dropout(meta(3, 5), 0.5).shape == (3, 5)
    out, h = nn.GRU(4, 4, batch_first=True, device="meta")(meta(2, 3, 4))
    assert out.stride() == (4, 8, 1) and h.shape == (1, 2, 4)     # (torch 2.13's strides)
    assert nn.LSTM(4, 5, device="meta")(meta(3, 2, 4))[0].stride() == (10, 5, 1)


def test_shape_errors_as_on_cpu():
    m = meta(4, 5)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        m * meta(3)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        m @ meta(4, 7)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        gpujit.cat([m, meta(3, 3)], 1)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        m.t().view(20)
    for f in (lambda: m.transpose(0, 5), lambda: m.sum(5), lambda: m.select(1, 7),
              lambda: meta(()).select(0, 0)):
        with pytest.raises(IndexError):         # (the meta rule's error, as on the CPU)
            f()
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        m.sum((0, -2))
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean"):
        gpujit.where(m, m, 0.0)
    with pytest.raises(RuntimeError, match="narrow\\(\\) cannot be applied to a 0-dim"):
        meta(()).narrow(0, 0, 1)
    with pytest.raises(RuntimeError, match="a Tensor with 20 elements cannot be converted"):
        m.item()
    with pytest.raises(RuntimeError, match="^invalid gradient at index 0 - expected device "
                                           "meta but got cpu$"):
        (meta(2, requires_grad=True) * 2).backward(gpujit.ones(2))


# ---------------------------------------------------------------- no data

def test_reading_data_raises_torchs_errors():
    m = meta(4, 5)
    s = meta(())
    for f in (lambda: m.sum().item(), lambda: bool(s), lambda: float(s)):
        with pytest.raises(RuntimeError, match=r"^Tensor.item\(\) cannot be called on meta "
                                               r"tensors$"):
            f()
    for f in (m.tolist, m.cpu, lambda: m.to("cpu"), lambda: gpujit.ones(4, 5).copy_(m)):
        with pytest.raises(NotImplementedError, match=r"^Cannot copy out of meta tensor; "
                                                      r"no data!$"):
            f()
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        m.numpy()
    with pytest.raises(NotImplementedError, match="no data"):      # (moves to the CPU)
        m.type_as(gpujit.ones(1, dtype=gpujit.float64))
    assert m.type_as(meta(1, dtype=gpujit.float64)).dtype is gpujit.float64
    with pytest.raises(NotImplementedError, match="aten::equal"):
        gpujit.equal(m, m)
    for f in (m.nonzero, lambda: m[m > 0]):      # (sizes that hang on the data)
        with pytest.raises(NotImplementedError):
            f()


def test_meta_and_cpu_mixing():
    m = meta(4, 5)
    c = gpujit.ones(4, 5)
    with pytest.raises(RuntimeError, match="^Tensor on device cpu is not on the expected "
                                           "device meta!$"):
        m + c
    with pytest.raises(RuntimeError, match="^Tensor on device meta is not on the expected "
                                           "device cpu!$"):
        c + m
    with pytest.raises(RuntimeError, match="Tensor on device cpu is not on the expected "
                                           "device meta!"):
        gpujit.cat([m, c])


# ---------------------------------------------------------------- autograd

def test_autograd_on_meta():
    w = meta(3, 4, requires_grad=True)
    x = meta(2, 4)
    y = (x @ w.t()).relu().sum()
    assert y.grad_fn.name() == "SumBackward0" and y.is_meta
    y.backward()
    assert w.grad.is_meta and w.grad.shape == (3, 4)
    g, = gpujit.autograd.grad((w * 2).sum(), w)
    assert g.is_meta and g.shape == (3, 4)
    assert not w.detach().requires_grad
    y = w * 1
    y[0].mul_(2)                     # (an in-place write through a view: CopySlices)
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    g, = gpujit.autograd.grad(y.sum(), w)
    assert g.is_meta and g.shape == (3, 4)
    x = gpujit.ones(2, 3, requires_grad=True)
    assert x.to("meta").grad_fn.name() == "ToCopyBackward0"


# ---------------------------------------------------------------- modules

def test_modules_on_meta_then_materialize():
    lin = nn.Linear(4, 3, device="meta")
    assert lin.weight.is_meta and lin.bias.is_meta and lin.weight.requires_grad
    assert repr(lin.weight) == ("Parameter containing:\ntensor(..., device='meta', "
                                "size=(3, 4), requires_grad=True)")
    assert nn.Conv2d(3, 8, 3, device="meta").weight.shape == (8, 3, 3, 3)
    assert nn.Embedding(10, 4, device="meta").weight.is_meta
    assert nn.LayerNorm(5, device="meta").weight.is_meta
    assert nn.BatchNorm1d(5, device="meta").running_mean.is_meta
    assert sum(p.numel() for p in nn.Linear(4000, 3000, device="meta").parameters()) == \
        12003000
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to("meta")
    out = model(meta(3, 4))
    assert out.is_meta and out.shape == (3, 2) and out.grad_fn.name() == "AddmmBackward0"
    model.to_empty(device="cpu")
    assert model[0].weight.device.type == "cpu" and type(model[0].weight) is nn.Parameter
    gpujit.manual_seed(0)
    for layer in model.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    w = model[0].weight.detach().numpy()
    # nn.Linear(4, 8)'s kaiming_uniform_ draws under manual_seed(0) (torch 2.13)
    np.testing.assert_allclose(w[0], [-0.0037434101, 0.2682217956, -0.4115225673, -0.3679695129],
                               atol=1e-6)
    assert model(gpujit.ones(3, 4)).shape == (3, 2)


def test_load_state_dict_into_meta_module():
    sd = {"weight": gpujit.ones(3, 4), "bias": gpujit.zeros(3)}
    m = nn.Linear(4, 3, device="meta")
    m.load_state_dict(sd, assign=True)
    assert m.weight.device.type == "cpu" and type(m.weight) is nn.Parameter
    assert m.weight.requires_grad and m.weight.sum().item() == 12.0
    m2 = nn.Linear(4, 3, device="meta")
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        m2.load_state_dict(sd)
    assert [str(w.message).split(" in the current")[0] for w in got] == [
        "for weight: copying from a non-meta parameter in the checkpoint to a meta parameter",
        "for bias: copying from a non-meta parameter in the checkpoint to a meta parameter"]
    assert m2.weight.is_meta


def test_device_context_builds_on_meta():
    with gpujit.device("meta"):
        lin = nn.Linear(4, 3)
        t = gpujit.ones(2)
    assert lin.weight.is_meta and t.is_meta
    assert not gpujit.ones(1).is_meta
    assert copy.deepcopy(lin).weight.is_meta


def test_init_functions_on_meta():
    for f in (nn.init.kaiming_uniform_, nn.init.normal_, nn.init.trunc_normal_,
              nn.init.xavier_uniform_, nn.init.zeros_, nn.init.orthogonal_):
        t = meta(3, 4)
        assert f(t) is t and t.is_meta


# ---------------------------------------------------------------- torch.func ensembling

def test_model_ensembling_with_meta_base():
    from gpujit.func import stack_module_state, functional_call, vmap
    gpujit.manual_seed(0)
    models = [nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)) for _ in range(3)]
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def fmodel(p, b, x):
        return functional_call(base, (p, b), (x,))

    x = gpujit.randn(6, 4)
    out = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    assert out.shape == (3, 6, 2) and not out.is_meta
    for k, mdl in enumerate(models):
        np.testing.assert_allclose(out[k].detach().numpy(), mdl(x).detach().numpy(),
                                   rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- compared with torch

def test_strides_match_torch():
    torch = pytest.importorskip("torch")
    progs = [lambda T, m: m.t().reshape(20), lambda T, m: m.t() * 2,
             lambda T, m: m[:, 1::2].unsqueeze(0), lambda T, m: m.diagonal(),
             lambda T, m: m.unfold(1, 2, 1), lambda T, m: m.t().flatten(),
             lambda T, m: m.expand(2, 4, 5).transpose(0, 2),
             lambda T, m: T.cat([m, m]).movedim(0, 1), lambda T, m: m.narrow(1, 1, 3),
             lambda T, m: T.linalg.inv(m[:4, :4]), lambda T, m: T.linalg.qr(m.t())[0],
             lambda T, m: T.view_as_real(m.to(T.complex64)).select(-1, 1),
             lambda T, m: m.to(T.complex64).t().imag, lambda T, m: m.view(T.float16)[1:],
             lambda T, m: T.broadcast_tensors(m[:, :1], m[0])[0],
             lambda T, m: T.meshgrid(m[0], m[:, 0], indexing="xy")[1],
             lambda T, m: T.nn.functional.embedding_bag(m[:2, :3].long(), m),
             lambda T, m: m.flatten().view(T.float64)]
    for p in progs:
        r = p(torch, torch.empty(4, 5, device="meta"))
        g = p(gpujit, meta(4, 5))
        assert (tuple(g.shape), g.stride(), g.storage_offset()) == \
            (tuple(r.shape), r.stride(), r.storage_offset())


# ---------------------------------------------------------------- more of the tensor API

def test_setitem_out_memory_format_type_on_meta():
    m = meta(4, 5)
    m[0] = 1.0
    m[1:3] = meta(2, 5)
    assert m.is_meta and m._version == 2
    out = meta(0)
    assert gpujit.add(m, 1, out=out) is out and out.shape == (4, 5) and out.is_meta
    x = meta(1, 3, 4, 4)
    cl = x.contiguous(memory_format=gpujit.channels_last)
    assert cl.stride() == (48, 1, 12, 3) and cl.clone().stride() == (48, 1, 12, 3)
    assert meta(1, 3, 4, 4, memory_format=gpujit.channels_last).stride() == (48, 1, 12, 3)
    assert m.type() == "torch.meta.FloatTensor"
    assert x.to(memory_format=gpujit.channels_last).stride() == (48, 1, 12, 3)
    h = cl.to(gpujit.float16)        # (a new tensor, its input's layout kept)
    assert h.stride() == (48, 1, 12, 3) and h._base is None and h._vc is not cl._vc
    assert m.to("meta", copy=True)._vc is not m._vc
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
        m.to(memory_format=gpujit.channels_last)


def test_pickle_and_save_meta_tensors(tmp_path):
    import pickle
    m = meta(2, 3).t()
    r = pickle.loads(pickle.dumps(m))
    assert r.is_meta and r.shape == (3, 2) and r.stride() == (1, 3)
    p = tmp_path / "m.pt"
    gpujit.save({"w": nn.Linear(2, 3, device="meta").weight, "t": m}, p)
    got = gpujit.load(p, weights_only=True)
    assert got["w"].is_meta and type(got["w"]) is nn.Parameter and got["w"].requires_grad
    assert got["t"].stride() == (1, 3)


def test_assert_close_on_meta_compares_metadata():
    gpujit.testing.assert_close(meta(2, 3), meta(2, 3))
    with pytest.raises(AssertionError, match="attribute 'shape'"):
        gpujit.testing.assert_close(meta(2, 3), meta(3, 2))
    with pytest.raises(AssertionError, match="attribute 'device'"):
        gpujit.testing.assert_close(meta(2, 3), gpujit.zeros(2, 3))


# ---------------------------------------------------------------- scripted and traced code

@gpujit.jit.script
def _scripted(x, y):
    z = x @ y.t() + 1
    if x.is_meta:
        return z.relu().sum(1)
    return z


def test_scripted_and_traced_code_on_meta():
    m = meta(4, 5)
    for _ in range(2):          # (the profiling run, then the specialization's)
        r = _scripted(m, meta(3, 5))
        assert r.is_meta and r.shape == (4,)
    assert _scripted(gpujit.ones(2, 5), gpujit.ones(3, 5)).shape == (2, 3)
    lin = gpujit.jit.script(nn.Linear(5, 3, device="meta"))
    assert lin(m).shape == (4, 3) and lin(m).is_meta

    def g(x):
        return (x * 2).sin().mean(0)
    tr = gpujit.jit.trace(g, (m,))
    assert tr(meta(7, 2)).shape == (2,) and tr(meta(7, 2)).is_meta


# ---------------------------------------------------------------- training steps on meta

def test_optimizers_and_clipping_on_meta():
    m = nn.Linear(4, 3, device="meta")
    m(meta(2, 4)).sum().backward()
    opt = gpujit.optim.Adam(m.parameters())
    opt.step()
    opt.step()
    st = opt.state[m.weight]
    assert list(st) == ["step", "exp_avg", "exp_avg_sq"]        # (torch 2.13's order)
    assert st["step"].item() == 2.0 and not st["step"].is_meta and st["exp_avg"].is_meta
    gpujit.optim.SGD(m.parameters(), lr=0.1, momentum=0.9).step()
    assert m.weight.is_meta
    total = nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    assert total.is_meta and total.shape == () and m.weight.grad.is_meta
    with pytest.raises(RuntimeError, match="cannot be called on meta tensors"):
        nn.utils.clip_grad_norm_(m.parameters(), 1.0, error_if_nonfinite=True)
    nn.utils.clip_grad_value_(m.parameters(), 0.5)


def test_module_conversions_to_and_from_meta():
    lin = nn.Linear(2, 2)
    w = lin.weight
    lin.to("meta")
    assert lin.weight.is_meta and lin.weight is not w    # (a new Parameter, as torch's)
    with pytest.raises(NotImplementedError, match=r"no data! Please use "
                                                  r"torch.nn.Module.to_empty\(\) instead"):
        lin.to("cpu")
    seq = nn.Sequential(nn.Linear(2, 2, device="meta"))
    assert seq.to_empty(device="cpu", recurse=True)[0].bias.device.type == "cpu"
    with pytest.raises(RuntimeError, match="incompatible tensor type"):
        nn.Linear(2, 2).weight.data = meta(2, 2)
