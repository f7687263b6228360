"""Memory formats (torch.contiguous_format, preserve_format, channels_last,
channels_last_3d): the strides of clone / contiguous / to / empty / the *_like factories,
is_contiguous(memory_format=...), in eager, scripted and fused code, on the CPU and (cuda
marked) on the GPU. The expected strides are PyTorch 2.13's, written out."""
import numpy as np
import pytest

import gpujit as torch

cl = torch.channels_last
cl3d = torch.channels_last_3d
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def _rand(*size, device="cpu"):
    return torch.rand(*size, device=device)


# name -> (make the input, its sizes, its strides as PyTorch has them)
INPUTS = {
    "t_slice": (lambda d: _rand(6, 4, device=d).t()[:, ::2], (4, 3), (1, 8)),
    "slice": (lambda d: _rand(4, 6, device=d)[:, ::2], (4, 3), (6, 2)),
    "cl": (lambda d: _rand(2, 3, 4, 5, device=d).contiguous(memory_format=cl),
           (2, 3, 4, 5), (60, 1, 15, 3)),
    "cl_slice": (lambda d: _rand(2, 3, 4, 6, device=d).contiguous(memory_format=cl)[..., ::2],
                 (2, 3, 4, 3), (72, 1, 18, 6)),
    "perm_slice": (lambda d: _rand(2, 3, 4, 6, device=d).permute(0, 3, 1, 2)[:, ::2],
                   (2, 3, 3, 4), (72, 2, 24, 6)),
    "expand": (lambda d: _rand(3, 1, device=d).expand(3, 4), (3, 4), (1, 0)),
    "cl_expand": (lambda d: _rand(2, 3, 1, 1, device=d).contiguous(memory_format=cl)
                  .expand(2, 3, 4, 5), (2, 3, 4, 5), (3, 1, 0, 0)),
    "bcast": (lambda d: _rand(4, 1, 5, device=d).expand(4, 3, 5), (4, 3, 5), (5, 0, 1)),
    "cl_c1": (lambda d: _rand(2, 1, 4, 5, device=d).contiguous(memory_format=cl),
              (2, 1, 4, 5), (20, 20, 5, 1)),
    "perm_3d": (lambda d: _rand(2, 3, 4, 5, 6, device=d).permute(0, 2, 3, 4, 1),
                (2, 4, 5, 6, 3), (360, 30, 6, 1, 120)),
    "cl3d": (lambda d: _rand(2, 3, 4, 5, 6, device=d).contiguous(memory_format=cl3d),
             (2, 3, 4, 5, 6), (360, 1, 90, 18, 3)),
    "perm": (lambda d: _rand(2, 3, 4, 5, device=d).permute(2, 0, 3, 1),
             (4, 2, 5, 3), (5, 60, 1, 20)),
    "perm_slice2": (lambda d: _rand(2, 3, 4, 6, device=d).permute(2, 0, 3, 1)[:, :, ::2],
                    (4, 2, 3, 3), (6, 72, 2, 24)),
}

# what PyTorch answers for each input: preserve_format results (empty_like, clone, to(dtype),
# randint_like, x + 1 ...), contiguous(memory_format=channels_last) (None: rank is not 4),
# to(memory_format=channels_last), to(memory_format=contiguous_format), is_contiguous() and
# is_contiguous(memory_format=channels_last / channels_last_3d)
EXPECTED = {
    "t_slice": ((1, 4), None, None, (1, 8), False, False, False),
    "slice": ((3, 1), None, None, (6, 2), False, False, False),
    "cl": ((60, 1, 15, 3), (60, 1, 15, 3), (60, 1, 15, 3), (60, 20, 5, 1), False, True, False),
    "cl_slice": ((36, 1, 9, 3), (36, 1, 9, 3), (72, 1, 18, 6), (36, 12, 3, 1), False, False,
                 False),
    "perm_slice": ((36, 1, 12, 3), (36, 1, 12, 3), (72, 2, 24, 6), (36, 12, 4, 1), False,
                   False, False),
    "expand": ((4, 1), None, None, (1, 0), False, False, False),
    "cl_expand": ((60, 20, 5, 1), (60, 1, 15, 3), (60, 1, 15, 3), (3, 1, 0, 0), False, False,
                  False),
    "bcast": ((15, 5, 1), None, None, (5, 0, 1), False, False, False),
    "cl_c1": ((20, 20, 5, 1), (20, 20, 5, 1), (20, 1, 5, 1), (20, 20, 5, 1), True, True, False),
    "perm_3d": ((360, 30, 6, 1, 120), None, None, (360, 30, 6, 1, 120), False, False, False),
    "cl3d": ((360, 1, 90, 18, 3), None, None, (360, 120, 30, 6, 1), False, False, True),
    "perm": ((5, 60, 1, 20), (30, 1, 6, 2), (30, 1, 6, 2), (5, 60, 1, 20), False, False, False),
    "perm_slice2": ((3, 36, 1, 12), (18, 1, 6, 2), (18, 1, 6, 2), (6, 72, 2, 24), False, False,
                    False),
}


def _input(name, device):
    make, shape, strides = INPUTS[name]
    x = make(device)
    assert tuple(x.shape) == shape and x.stride() == strides
    return x


def _values(t):
    return np.asarray(t.cpu()._data)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_preserve_format_results_keep_the_layout_as_torch(name, device):
    x = _input(name, device)
    want = EXPECTED[name][0]
    results = {
        "empty_like": torch.empty_like(x), "zeros_like": torch.zeros_like(x),
        "ones_like": torch.ones_like(x), "full_like": torch.full_like(x, 2.5),
        "rand_like": torch.rand_like(x), "randn_like": torch.randn_like(x),
        "randint_like": torch.randint_like(x, 7), "clone": x.clone(),
        "clone(preserve)": x.clone(memory_format=torch.preserve_format),
        "to(float64)": x.to(torch.float64), "to(int32)": x.to(torch.int32),
        "empty_like(int32)": torch.empty_like(x, dtype=torch.int32),
        "to(memory_format=preserve, copy)": x.to(memory_format=torch.preserve_format,
                                                 copy=True),
    }
    for what, r in results.items():
        assert r.stride() == want, what
        assert r.device == x.device and tuple(r.shape) == tuple(x.shape), what
    np.testing.assert_array_equal(_values(results["clone"]), _values(x))
    np.testing.assert_array_equal(_values(results["zeros_like"]), 0)
    np.testing.assert_array_equal(_values(results["full_like"]), 2.5)
    np.testing.assert_array_equal(_values(results["to(float64)"]), _values(x).astype(np.float64))
    r = _values(results["randint_like"])
    assert r.min() >= 0 and r.max() < 7


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_explicit_formats_and_is_contiguous_as_torch(name, device):
    x = _input(name, device)
    _, ccl, tocl, toc, is_c, is_cl, is_cl3d = EXPECTED[name]
    assert x.is_contiguous() is is_c
    assert x.is_contiguous(memory_format=torch.contiguous_format) is is_c
    assert x.is_contiguous(memory_format=cl) is is_cl
    assert x.is_contiguous(memory_format=cl3d) is is_cl3d
    assert x.to(memory_format=torch.contiguous_format).stride() == toc
    assert x.contiguous().stride() == x.contiguous(memory_format=torch.contiguous_format).stride()
    assert x.contiguous().is_contiguous()
    for r in (x.contiguous(), x.clone(memory_format=torch.contiguous_format),
              torch.empty_like(x, memory_format=torch.contiguous_format)):
        assert r.is_contiguous()
    if ccl is None:
        for f in (lambda: x.contiguous(memory_format=cl), lambda: x.clone(memory_format=cl),
                  lambda: x.to(memory_format=cl), lambda: torch.empty_like(x, memory_format=cl),
                  lambda: torch.rand_like(x, memory_format=cl)):
            with pytest.raises(RuntimeError, match="required rank 4 tensor to use "
                                                   "channels_last format"):
                f()
        return
    y = x.contiguous(memory_format=cl)
    assert y.stride() == ccl and y.is_contiguous(memory_format=cl)
    np.testing.assert_array_equal(_values(y), _values(x))
    assert x.to(memory_format=cl).stride() == tocl
    # a copy laid out in the format: PyTorch's strides for it, whatever the input's
    fmt = (60, 1, 15, 3) if x.shape == (2, 3, 4, 5) else None
    for r in (x.clone(memory_format=cl), torch.empty_like(x, memory_format=cl),
              torch.zeros_like(x, memory_format=cl), torch.rand_like(x, memory_format=cl),
              torch.full_like(x, 1, memory_format=cl), x.to(torch.float64, memory_format=cl)):
        assert r.is_contiguous(memory_format=cl)
        if fmt is not None:
            assert r.stride() == fmt
    np.testing.assert_array_equal(_values(x.to(torch.float64, memory_format=cl)),
                                  _values(x).astype(np.float64))


@pytest.mark.parametrize("device", DEVICES)
def test_channels_last_factories(device):
    e = torch.empty(2, 3, 4, 5, memory_format=cl, device=device)
    assert e.stride() == (60, 1, 15, 3) and e.device.type == device
    assert torch.empty(2, 3, 4, 5, 6, memory_format=cl3d, device=device).stride() == \
        (360, 1, 90, 18, 3)
    assert torch.empty(2, 3, memory_format=torch.contiguous_format).stride() == (3, 1)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
        torch.empty(2, 3, memory_format=cl)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d"):
        torch.empty(2, 3, 4, 5, memory_format=cl3d)
    with pytest.raises(RuntimeError, match="unsupported memory format Preserve"):
        torch.empty(2, 3, memory_format=torch.preserve_format)
    # size-1 dims: channels-last strides as PyTorch lays them out
    assert torch.empty(2, 1, 4, 5, memory_format=cl).stride() == (20, 1, 5, 1)
    assert torch.empty(2, 3, 1, 1, memory_format=cl).stride() == (3, 1, 3, 3)
    x = _rand(2, 3, 1, 1, device=device)
    assert x.to(memory_format=cl).stride() == (3, 1, 3, 3)


def test_contiguous_and_to_return_self_when_nothing_changes():
    x = torch.rand(2, 3, 4, 5)
    y = x.contiguous(memory_format=cl)
    assert y.contiguous(memory_format=cl).stride() == y.stride()
    assert x.contiguous(memory_format=torch.preserve_format).stride() == (60, 20, 5, 1)
    with pytest.raises(RuntimeError, match="preserve memory format is unsupported by the "
                                           "contiguous operator"):
        torch.rand(3, 4).t().contiguous(memory_format=torch.preserve_format)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d"):
        x.contiguous(memory_format=cl3d)
    # to(memory_format=f) aliases when f is the format suggested by the strides
    t = x.transpose(2, 3)
    assert t.to(memory_format=torch.contiguous_format) is t
    assert y.to(memory_format=cl) is y and x.to(memory_format=torch.preserve_format) is x
    assert y.to(memory_format=torch.contiguous_format).stride() == (60, 20, 5, 1)
    assert x.to(memory_format=cl) is not x
    assert not x.is_contiguous(memory_format=cl) and not torch.rand(2, 3, 4).is_contiguous(
        memory_format=cl)


def test_channels_last_results_are_not_views():
    """An in-place op under autograd is refused on views; a channels-last copy is not one."""
    x = torch.rand(2, 3, 4, 5, requires_grad=True)
    y = x.contiguous(memory_format=cl) * 1
    for z in (y.clone(), x.clone(memory_format=cl), torch.zeros_like(y) + y):
        z.mul_(2)
        assert z.stride() == (60, 1, 15, 3)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones((2, 3, 4, 5)))
    assert torch.empty_like(y)._data.base is None


def test_memory_formats_in_scripted_code():
    @torch.jit.script
    def f(x):
        y = x.contiguous(memory_format=torch.channels_last)
        return (y, y.is_contiguous(memory_format=torch.channels_last),
                x.is_contiguous(memory_format=torch.channels_last), x.is_contiguous(),
                y.is_contiguous())

    x = torch.rand(2, 3, 4, 5)
    y, a, b, c, d = f(x)
    assert y.stride() == (60, 1, 15, 3) and (a, b, c, d) == (True, False, True, False)

    @torch.jit.script
    def g(x):
        return (torch.empty(2, 3, 4, 5, memory_format=torch.channels_last),
                torch.empty_like(x, memory_format=torch.channels_last),
                torch.rand_like(x, memory_format=torch.channels_last),
                x.clone(memory_format=torch.channels_last),
                x.to(memory_format=torch.channels_last),
                x.to(torch.float64, memory_format=torch.channels_last),
                x.to(dtype=torch.float64, memory_format=torch.channels_last),
                x.unsqueeze(2).contiguous(memory_format=torch.channels_last_3d),
                x.clone(memory_format=torch.preserve_format))

    r = g(x)
    for t in r[:7]:
        assert t.stride() == (60, 1, 15, 3)
    assert r[5].dtype == torch.float64 and r[6].dtype == torch.float64
    np.testing.assert_array_equal(r[5].numpy(), x.numpy().astype(np.float64))
    assert r[7].stride() == (60, 1, 60, 15, 3)
    assert r[8].stride() == (60, 20, 5, 1)

    @torch.jit.script
    def bad(x):
        return x[0].contiguous(memory_format=torch.channels_last)

    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
        bad(x)


def test_memory_format_ints_of_torchscript_graphs():
    """A TorchScript graph spells the formats as ints (c10::MemoryFormat)."""
    from gpujit.ops import OPS
    x = torch.rand(2, 3, 4, 5)
    assert OPS["aten::contiguous"].public(x, memory_format=2).stride() == (60, 1, 15, 3)
    assert OPS["aten::clone"].public(x, memory_format=2).stride() == (60, 1, 15, 3)
    assert OPS["aten::empty_like"].public(x, memory_format=2).stride() == (60, 1, 15, 3)
    assert x.is_contiguous(memory_format=0) and not x.is_contiguous(memory_format=2)
    with pytest.raises(TypeError, match="memory_format must be a memory format"):
        x.contiguous(memory_format="nhwc")


@pytest.mark.parametrize("device", DEVICES)
def test_fused_results_of_channels_last_inputs_are_channels_last(device):
    @torch.jit.script
    def f(x, y):
        return (x * 2).relu() + y, torch.sigmoid(x) * y

    @torch.jit.script
    def g(x):
        y = x.contiguous(memory_format=torch.channels_last)
        return y * 2 + 1

    @torch.jit.script
    def h(x):
        return torch.zeros_like(x) + x.clone() * 3

    x = _rand(2, 3, 4, 5, device=device).contiguous(memory_format=cl)
    y = _rand(2, 3, 4, 5, device=device).contiguous(memory_format=cl)
    xc = _rand(2, 3, 4, 5, device=device)
    for _ in range(3):                  # profile, then run the fused kernels
        a, b = f(x, y)
        c = g(xc)
        e = h(x)
    for r in (a, b, c, e):
        assert r.stride() == (60, 1, 15, 3)
    np.testing.assert_allclose(_values(a), np.maximum(_values(x) * 2, 0) + _values(y),
                               rtol=1e-6)
    np.testing.assert_allclose(_values(c), _values(xc) * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(_values(e), _values(x) * 3, rtol=1e-6)
    assert "TensorExprGroup" in str(torch.jit.last_executed_optimized_graph())


@pytest.mark.cuda
def test_device_moves_keep_or_set_the_format():
    x = torch.rand(2, 3, 4, 5)
    g = x.to("cuda", memory_format=cl)
    assert g.device.type == "cuda" and g.stride() == (60, 1, 15, 3)
    np.testing.assert_array_equal(g.cpu().numpy(), x.numpy())
    assert g.cpu().stride() == (60, 1, 15, 3)            # preserve_format
    assert g.to("cpu", memory_format=torch.contiguous_format).stride() == (60, 20, 5, 1)
    s = x.permute(0, 3, 1, 2)[:, ::2]                     # not dense: its strides' order
    assert s.cuda().stride() == (36, 1, 12, 3)


def test_module_to_channels_last_converts_4d_parameters():
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), torch.nn.BatchNorm2d(6))
    w = m[0].weight
    assert m.to(memory_format=cl) is m
    assert m[0].weight.stride() == (27, 1, 9, 3) and m[0].bias.stride() == (1,)
    assert isinstance(m[0].weight, torch.nn.Parameter) and m[0].weight.requires_grad
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), w.detach().numpy())
    m.to(torch.float64, memory_format=cl)
    assert m[0].weight.stride() == (27, 1, 9, 3) and m[0].weight.dtype == torch.float64


def test_conv2d_of_channels_last_input_or_weight_is_channels_last():
    F = torch.nn.functional
    x, w, b = torch.rand(2, 3, 6, 7), torch.rand(4, 3, 3, 3), torch.rand(4)
    xc, wc = x.contiguous(memory_format=cl), w.contiguous(memory_format=cl)
    want = F.conv2d(x, w, b).numpy()
    for r in (F.conv2d(xc, w, b), F.conv2d(x, wc, b), F.conv2d(xc, wc, b)):
        assert r.stride() == (80, 1, 20, 4)
        np.testing.assert_allclose(r.numpy(), want, rtol=1e-5)
    assert F.conv2d(xc, w, padding=1).stride() == (168, 1, 28, 4)
    assert F.conv2d(torch.rand(2, 6, 6, 7).contiguous(memory_format=cl), w[:, :3], groups=2) \
        .stride() == (80, 1, 20, 4)
    assert F.conv2d(x, w).stride() == (80, 20, 5, 1)
    assert F.conv2d(x[0], wc).stride() == (1, 20, 4)     # (a channels-last result's [0])
    m = torch.nn.Conv2d(3, 4, 3).to(memory_format=cl)
    assert m(x).stride() == (80, 1, 20, 4)


def _torch_and_gpujit_strides(build, fn):
    """fn's result strides on the same inputs under torch (the oracle) and gpujit."""
    real = pytest.importorskip("torch")
    out = []
    for T in (real, torch):
        args = build(T)
        out.append((fn(T, *args).stride(), [tuple(a.stride()) for a in args]))
    return out


def _operand(T, rng, shape, perm, kind):
    """A tensor of `shape` laid out in `perm` (outermost first), then sliced or expanded."""
    inv = [perm.index(i) for i in range(len(perm))]
    if kind == "slice":
        big = [n * 2 for n in shape]
        t = T.tensor(rng.rand(*[big[p] for p in perm])).permute(*inv)
        return t[tuple(slice(None, None, 2) for _ in shape)]
    if kind == "expand":
        small = [1 if n > 1 and i % 2 else n for i, n in enumerate(shape)]
        t = T.tensor(rng.rand(*[small[p] for p in perm])).permute(*inv)
        return t.expand(*shape)
    return T.tensor(rng.rand(*[shape[p] for p in perm])).permute(*inv)


def test_elementwise_results_are_laid_out_as_torch_tensor_iterator():
    """add / mul / where / addcmul / lt / maximum / neg of permuted, sliced, expanded and
    lower-rank operands: the result's strides are PyTorch's (the first operand that
    orders the dims decides, TensorIterator's reorder_dimensions), not NumPy's order="K"
    (x.permute(2, 0, 1) * 2 + y with y C-contiguous was C-contiguous)."""
    pytest.importorskip("torch")
    import itertools
    import random
    ops = [(2, lambda T, a, b: a * 2 + b), (2, lambda T, a, b: T.mul(a, b)),
           (2, lambda T, a, b: a < b), (2, lambda T, a, b: T.maximum(a, b)),
           (3, lambda T, c, a, b: T.where(c > 0.5, a, b)),
           (3, lambda T, a, b, c: T.addcmul(a, b, c)), (1, lambda T, a: -a)]
    rnd = random.Random(0)
    checked = 0
    for _ in range(400):
        rank = rnd.randint(2, 4)
        full = tuple(rnd.choice((2, 3, 4, 5)) for _ in range(rank))
        k, fn = rnd.choice(ops)
        specs = []
        for _ in range(k):
            r = rnd.choice((rank, rank, rank - 1))
            shape = full[rank - r:]
            perm = list(range(r))
            rnd.shuffle(perm)
            specs.append((shape, tuple(perm), rnd.choice(("dense", "dense", "slice", "expand"))))

        def build(T, specs=specs):
            rng = np.random.RandomState(1)
            return [_operand(T, rng, *s) for s in specs]
        (want, win), (got, gin) = _torch_and_gpujit_strides(build, fn)
        assert win == gin, specs
        assert got == want, specs
        checked += 1
    assert checked == 400
    # the brief's case, and a number or a lower-rank operand next to a permuted one
    real = pytest.importorskip("torch")
    for T in (real, torch):
        x = T.ones(4, 3, 12).permute(2, 0, 1)
        assert (x * 2 + T.ones(12, 4, 3)).stride() == (1, 36, 12)
        assert (T.ones(12, 4, 3) + x * 2).stride() == (12, 3, 1)
        assert (x + T.ones(3)).stride() == (1, 36, 12)
        assert (x + 1).stride() == (1, 36, 12)


def test_expand_keeps_the_stride_of_size_1_dims_as_torch():
    x = torch.zeros(3, 1)
    assert x.expand(2, 3, 1).stride() == (0, 1, 1)
    assert x.expand(1, 3, 1).stride() == (3, 1, 1)
    assert x.expand(1, 1, 3, 4).stride() == (3, 3, 1, 0)
    assert torch.zeros(2, 1).t().expand(1, 1, 2).stride() == (1, 1, 1)
    assert torch.zeros(()).expand(1, 3).stride() == (0, 0)
    y = torch.zeros(2, 1).t().expand(3, 1, 2)
    np.testing.assert_array_equal(y.numpy(), np.zeros((3, 1, 2)))


REDUCTIONS = {
    "sum": lambda x, k: x.sum(1, keepdim=k), "sum2": lambda x, k: x.sum((0, 2), keepdim=k),
    "mean": lambda x, k: x.mean(-1, keepdim=k), "amax": lambda x, k: x.amax(0, keepdim=k),
    "prod": lambda x, k: x.prod(2, keepdim=k), "var": lambda x, k: x.var(1, keepdim=k),
    "std": lambda x, k: x.std((1, 3), keepdim=k), "norm": lambda x, k: x.norm(dim=1, keepdim=k),
    "max": lambda x, k: x.max(3, keepdim=k)[0], "argmax": lambda x, k: x.argmax(1, keepdim=k),
    "logsumexp": lambda x, k: x.logsumexp(1, keepdim=k),
    "cumsum": lambda x, k: x.cumsum(1), "softmax": lambda x, k: x.softmax(2),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_of_permuted_inputs_are_contiguous_as_torch(name):
    """PyTorch's reductions (scans, softmaxes) return C-contiguous results whatever the
    input's layout; NumPy's kept the input's dim order (x.permute(...).sum(-1))."""
    x = torch.rand(5, 4, 6, 3)
    for t in (x.permute(2, 0, 3, 1), x.contiguous(memory_format=cl), x[:, ::2],
              x.transpose(1, 2)):
        for keepdim in (False, True):
            r = REDUCTIONS[name](t, keepdim)
            assert r.is_contiguous() and r.stride() == torch.empty(r.shape).stride()

    @torch.jit.script
    def f(x):
        return (x.permute(2, 0, 3, 1) * 2).sum(-1), (x.permute(2, 0, 3, 1) + 1).amax(1)

    for _ in range(3):              # profiled, then compiled
        for r in f(x):
            assert r.stride() == torch.empty(r.shape).stride()


def test_contiguous_returns_self_when_already_contiguous():
    """x.contiguous() is x for a contiguous x (as PyTorch), in the format asked for; a
    copy otherwise; x.to(x.dtype) / to(x.device) / type_as(x) are x too."""
    x = torch.rand(2, 3, 4, 5)
    assert x.contiguous() is x and x.contiguous(memory_format=torch.preserve_format) is x
    y = x.contiguous(memory_format=cl)
    assert y is not x and y.contiguous(memory_format=cl) is y
    assert y.contiguous() is not y and y.contiguous().stride() == (60, 20, 5, 1)
    g = torch.rand(3, 4, requires_grad=True)
    assert g.contiguous() is g
    t = g.t()
    assert t.contiguous() is not t and t.contiguous().is_contiguous()
    assert x.to(x.dtype) is x and x.to("cpu") is x and x.type_as(x) is x and x.float() is x
    assert x.to(x.dtype, copy=True) is not x
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
        torch.rand(3, 4).contiguous(memory_format=cl)

    def f(x):
        return x.contiguous() * 2

    traced = torch.jit.trace(f, (torch.rand(3, 4),))
    assert "aten::contiguous" in str(traced.graph)
    m = torch.rand(4, 3)
    np.testing.assert_allclose(traced(m.t()).numpy(), (m.t() * 2).numpy())


def _chain1(a, b):
    return a * 2 + b


def _chain2(a, b):
    return (a + b).relu() * b


def _chain3(a, b):
    return b + a.sigmoid()


def _chain4(a, b):
    return (a * b, a - b)


def _chain5(a, b):
    return (b * a).tanh() + (a - 1)


def test_fused_results_are_laid_out_as_eager_and_torch():
    """A scripted elementwise chain on permuted / sliced / expanded / lower-rank inputs:
    the profiling call (eager ops) and the fused calls return torch's strides (the fused
    kernel runs in the dim order eager's ops give the outputs, node by node: the first
    operand that orders the dims decides; x.permute(2, 0, 1) * 2 + y with y C-contiguous
    was C-contiguous fused)."""
    import random
    import types
    real = pytest.importorskip("torch")
    fns = [_chain1, _chain2, _chain3, _chain4, _chain5]
    rnd = random.Random(5)
    for _ in range(40):
        rank = rnd.randint(2, 4)
        full = tuple(rnd.choice((2, 3, 4, 5)) for _ in range(rank))
        fn = rnd.choice(fns)
        specs = []
        for _ in range(2):
            r = rnd.choice((rank, rank, rank - 1))
            perm = list(range(r))
            rnd.shuffle(perm)
            specs.append((full[rank - r:], tuple(perm),
                          rnd.choice(("dense", "dense", "slice", "expand"))))
        want = fn(*[_operand(real, np.random.RandomState(1), *s) for s in specs])
        want = [t.stride() for t in (want if isinstance(want, tuple) else (want,))]
        args = [_operand(torch, np.random.RandomState(1), *s) for s in specs]
        sf = torch.jit.script(types.FunctionType(fn.__code__, globals(), fn.__name__))
        for call in range(3):
            out = sf(*args)
            got = [t.stride() for t in (out if isinstance(out, tuple) else (out,))]
            assert got == want, (fn.__name__, specs, call)


def test_dynamic_fused_kernels_keep_eagers_layout_for_each_argument_order():
    """One DYNAMIC kernel served every non-contiguous layout of an argument; the layout
    eager gives the result follows that argument's dim order, so a later call in another
    order got the first one's (a * 2 + b with a sliced in several dim orders)."""
    real = pytest.importorskip("torch")

    @torch.jit.script
    def f(a, b):
        return a * 2 + b

    def sliced(T, perm):
        inv = [perm.index(i) for i in range(3)]
        big = [8, 6, 10]
        return T.ones(*[big[p] for p in perm]).permute(*inv)[::2, ::2, ::2]

    for perm in [(0, 1, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0), (1, 0, 2), (0, 2, 1), (2, 0, 1)]:
        want = (sliced(real, list(perm)) * 2 + real.ones(4, 3, 5)).stride()
        assert f(sliced(torch, list(perm)), torch.ones(4, 3, 5)).stride() == want, perm


def test_results_of_permuted_inputs_laid_out_as_torch_beyond_elementwise():
    """masked_fill / tril / triu / roll / stack / layer_norm / group_norm / cosine_similarity
    / cdist / one_hot return C-contiguous results (PyTorch clones contiguous or allocates
    empty; roll, stack and group_norm channels-last ones for channels-last inputs): gpujit
    kept the input's order, so
    x.permute(...).masked_fill(m, 0).view(-1) raised; flip and sort keep the input's
    layout, as PyTorch's empty_like (they were C-contiguous)."""
    real = pytest.importorskip("torch")

    def cases(T):
        x = T.arange(60.0).reshape(4, 3, 5).permute(2, 0, 1)
        c = T.arange(120.0).reshape(2, 4, 3, 5).contiguous(memory_format=T.channels_last)
        return {
            "masked_fill": x.masked_fill(x > 20, 0.0),
            "masked_fill_t": x.masked_fill(x > 20, T.tensor(1.0)),
            "tril": x.tril(), "triu": x.triu(1), "roll": x.roll(1, 0),
            "roll_flat": x.roll(2), "stack": T.stack([x, x], 1),
            "layer_norm": T.nn.functional.layer_norm(x, (3,)),
            "flip": x.flip(0), "sort": x.sort(1)[0], "sort_idx": x.sort(1)[1],
            "argsort": x.argsort(2), "group_norm": T.nn.functional.group_norm(x, 2),
            "cosine": T.nn.functional.cosine_similarity(x, x + 1, dim=1),
            "cdist": T.cdist(x, x + 1), "one_hot": T.nn.functional.one_hot(x.long() % 7, 7),
            # channels-last inputs: roll, stack and group_norm keep channels-last
            "cl_roll": c.roll(1, 1), "cl_stack": T.stack([c, c]),
            "cl_group_norm": T.nn.functional.group_norm(c, 2), "cl_tril": c.tril(),
            "cl_layer_norm": T.nn.functional.layer_norm(c, (5,)), "cl_flip": c.flip(1),
        }
    want = {k: (v.stride(), v.tolist()) for k, v in cases(real).items()}
    got = cases(torch)
    for k, v in got.items():
        assert v.stride() == want[k][0], k
        np.testing.assert_allclose(np.array(v.tolist()), np.array(want[k][1]), rtol=1e-4, atol=1e-4,
                                   err_msg=k)
        if v.is_contiguous():
            assert v.view(-1).shape == (v.numel(),)

    @torch.jit.script
    def f(x, m):
        return x.masked_fill(m, 0.0).view(-1), (x * 2).masked_fill(m, 1.0).view(-1)

    x = torch.rand(4, 3, 5).permute(2, 0, 1)
    for _ in range(3):              # profiled, then compiled (and fused)
        a, b = f(x, x > 0.5)
        np.testing.assert_allclose(a.numpy(), np.where(x.numpy() > 0.5, 0, x.numpy()).ravel())


def test_cat_family_layout_as_compute_output_memory_format():
    """cat / hstack / vstack / dstack / stack of 4-D inputs are channels-last only when all
    inputs are (PyTorch's compute_output_memory_format), else C-contiguous: transposed or
    mixed channels-last/contiguous inputs kept NumPy's layout (view(-1) raised) and
    hstack of permuted 3-D inputs came out permuted. Strides are PyTorch 2.13's."""
    x = _rand(2, 3, 4, 5)
    c = x.contiguous(memory_format=cl)
    t = _rand(2, 3, 5, 4).transpose(2, 3)
    e = _rand(2, 1, 4, 5).expand(2, 3, 4, 5)
    assert torch.cat([t, t], 1).stride() == (120, 20, 5, 1)
    assert torch.cat([c, e], 1).stride() == (120, 20, 5, 1)
    assert torch.cat([e, c], 0).stride() == (60, 20, 5, 1)
    assert torch.cat([c, c], 1).stride() == (120, 1, 30, 6)
    assert torch.hstack([t, t]).stride() == (120, 20, 5, 1)
    assert torch.vstack([c, e]).stride() == (60, 20, 5, 1)
    assert torch.dstack([t, t]).stride() == (120, 40, 5, 1)
    assert torch.stack([c, x], 1).stride() == (120, 60, 20, 5, 1)
    assert torch.stack([c, c], 4).stride() == (120, 40, 10, 2, 1)
    p = _rand(4, 2, 3).permute(1, 2, 0)
    h = torch.hstack([p, p])
    assert h.stride() == (24, 4, 1) and h.view(-1).shape == (48,)
    np.testing.assert_array_equal(h.numpy(), np.concatenate([p.numpy()] * 2, 1))
    np.testing.assert_array_equal(torch.cat([c, e], 1).numpy(),
                                  np.concatenate([c.numpy(), e.numpy()], 1))


def test_norm_and_pool_results_in_suggested_format():
    """batch_norm, max_pool2d (values and indices) and adaptive_avg_pool2d lay 4-D results
    out in input.suggest_memory_format() as PyTorch's CPU kernels, instance_norm
    C-contiguous: a transposed input's layout leaked into batch_norm / max_pool2d
    (.view(2, -1) raised) and instance_norm kept channels-last. Strides: PyTorch 2.13's."""
    F = torch.nn.functional
    t = _rand(2, 3, 5, 4).transpose(2, 3)
    c = _rand(2, 3, 6, 6).contiguous(memory_format=cl)
    rm, rv = torch.zeros(3), torch.ones(3)
    y = F.batch_norm(t, rm, rv, training=True)
    assert y.stride() == (60, 20, 5, 1) and y.view(2, -1).shape == (2, 60)
    assert F.batch_norm(c, rm, rv).stride() == (108, 1, 18, 3)
    assert F.max_pool2d(t, 2).stride() == (12, 4, 2, 1)
    v, i = F.max_pool2d(c, 2, return_indices=True)
    assert v.stride() == i.stride() == (27, 1, 9, 3)
    assert F.adaptive_avg_pool2d(c, 2).stride() == (12, 1, 6, 3)
    assert F.instance_norm(c).stride() == (108, 36, 6, 1)
    xs = t.numpy()
    m = xs.mean(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y.numpy(), (xs - m) / np.sqrt(
        xs.var(axis=(0, 2, 3), keepdims=True) + 1e-5), rtol=1e-4, atol=1e-5)
