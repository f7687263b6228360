"""max_pool1d/3d, avg_pool1d/3d, adaptive_max_pool*, lp_pool*, max_unpool*, conv3d,
conv_transpose1d/2d/3d, unfold / fold: values, indices, gradients, modules, scripting.
NumPy references run everywhere; the PyTorch comparisons skip without torch."""
import itertools

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F

rng = np.random.default_rng(0)


def _t(a, grad=False):
    return gpujit.tensor(np.asarray(a), requires_grad=grad)


# ---------------------------------------------------------------------- NumPy references

def _ref_pool(x, k, s, p, reduce, fill):
    """Loops over output positions: (N, C, *S) -> (N, C, *out), no ceil_mode."""
    nd = len(k)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p), constant_values=fill)
    out = [(n + 2 * q - kk) // ss + 1 for n, q, kk, ss in zip(x.shape[2:], p, k, s)]
    r = np.empty(x.shape[:2] + tuple(out), x.dtype)
    for pos in itertools.product(*(range(o) for o in out)):
        sl = tuple(slice(i * ss, i * ss + kk) for i, ss, kk in zip(pos, s, k))
        r[(Ellipsis,) + pos] = reduce(xp[(slice(None), slice(None)) + sl],
                                      axis=tuple(range(2, 2 + nd)))
    return r


def _ref_conv(x, w, s, p):
    """Direct N-d cross-correlation, groups=1."""
    nd = w.ndim - 2
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p))
    k = w.shape[2:]
    out = [(n + 2 * q - kk) // ss + 1 for n, q, kk, ss in zip(x.shape[2:], p, k, s)]
    r = np.zeros((x.shape[0], w.shape[0]) + tuple(out))
    for pos in itertools.product(*(range(o) for o in out)):
        sl = tuple(slice(i * ss, i * ss + kk) for i, ss, kk in zip(pos, s, k))
        win = xp[(slice(None), slice(None)) + sl]
        r[(Ellipsis,) + pos] = np.tensordot(win, w, axes=([1] + list(range(2, 2 + nd)),
                                                          [1] + list(range(2, 2 + nd))))
    return r


def _ref_conv_transpose(x, w, s, p):
    """Scatter form: each input pixel adds x * w into the output; groups=1."""
    nd = w.ndim - 2
    k = w.shape[2:]
    full = [(n - 1) * ss + kk for n, ss, kk in zip(x.shape[2:], s, k)]
    r = np.zeros((x.shape[0], w.shape[1]) + tuple(full))
    for pos in itertools.product(*(range(n) for n in x.shape[2:])):
        sl = tuple(slice(i * ss, i * ss + kk) for i, ss, kk in zip(pos, s, k))
        r[(slice(None), slice(None)) + sl] += np.tensordot(x[(Ellipsis,) + pos], w, (1, 0))
    crop = tuple(slice(q, f - q) for q, f in zip(p, full))
    return r[(slice(None), slice(None)) + crop[:nd]]


@pytest.mark.parametrize("nd", [1, 3])
def test_max_avg_pool_numpy(nd):
    x = rng.standard_normal((2, 3) + (7, 6, 5)[:nd])
    k, s, p = (3,) * nd, (2,) * nd, (1,) * nd
    fn = getattr(F, f"max_pool{nd}d")
    np.testing.assert_allclose(fn(_t(x), 3, 2, 1).numpy(),
                               _ref_pool(x, k, s, p, np.max, -np.inf))
    avg = getattr(F, f"avg_pool{nd}d")
    np.testing.assert_allclose(avg(_t(x), 3, 2, 1).numpy(),
                               _ref_pool(x, k, s, p, np.sum, 0) / 3 ** nd)
    # stride defaults to kernel_size; unbatched input
    np.testing.assert_allclose(fn(_t(x[0]), 2).numpy(),
                               _ref_pool(x, (2,) * nd, (2,) * nd, (0,) * nd, np.max, 0)[0])


def test_max_pool_indices_numpy():
    x = rng.standard_normal((2, 2, 4, 5, 6))
    v, i = F.max_pool3d(_t(x), 2, return_indices=True)
    flat = x.reshape(2, 2, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, i.numpy().reshape(2, 2, -1), -1)
                                  .reshape(v.shape), v.numpy())
    assert i.dtype == gpujit.int64
    x1 = np.array([[[1., 5., 2., 2., 7., 0.]]])
    v, i = F.max_pool1d(_t(x1), 2, return_indices=True)
    assert v.numpy().tolist() == [[[5., 2., 7.]]]
    assert i.numpy().tolist() == [[[1, 2, 4]]]


def test_avg_pool_int_truncates():
    x = gpujit.tensor([[-3, -4, 5, 6, 7, 1]])
    assert F.avg_pool1d(x, 2).tolist() == [[-3, 5, 4]]
    assert F.avg_pool1d(x, 2).dtype == gpujit.int64


def test_adaptive_max_pool_numpy():
    x = rng.standard_normal((2, 3, 10))
    v, i = F.adaptive_max_pool1d(_t(x), 4, return_indices=True)
    bounds = [(0, 3), (2, 5), (5, 8), (7, 10)]      # floor(i*10/4), ceil((i+1)*10/4)
    ref = np.stack([x[..., a:b].max(-1) for a, b in bounds], -1)
    refi = np.stack([x[..., a:b].argmax(-1) + a for a, b in bounds], -1)
    np.testing.assert_allclose(v.numpy(), ref)
    np.testing.assert_array_equal(i.numpy(), refi)
    y = rng.standard_normal((3, 5, 6, 7))
    out = F.adaptive_max_pool3d(_t(y), (1, None, 1))
    np.testing.assert_allclose(out.numpy(), y.max(axis=(1, 3), keepdims=True))


def test_conv3d_numpy():
    x = rng.standard_normal((2, 3, 5, 6, 4))
    w = rng.standard_normal((4, 3, 3, 2, 3))
    b = rng.standard_normal(4)
    out = F.conv3d(_t(x), _t(w), _t(b), 2, 1)
    ref = _ref_conv(x, w, (2,) * 3, (1,) * 3) + b.reshape(1, 4, 1, 1, 1)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-10)
    same = F.conv3d(_t(x), _t(w[..., :1]), None, padding="same")
    assert same.shape == (2, 4, 5, 6, 4)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_numpy(nd):
    x = rng.standard_normal((2, 3) + (4, 3, 2)[:nd])
    w = rng.standard_normal((3, 2) + (3,) * nd)
    fn = getattr(F, f"conv_transpose{nd}d")
    out = fn(_t(x), _t(w), None, 2, 1)
    np.testing.assert_allclose(out.numpy(), _ref_conv_transpose(x, w, (2,) * nd, (1,) * nd),
                               atol=1e-10)


def test_unfold_fold_numpy():
    x = rng.standard_normal((2, 3, 5, 6))
    cols = F.unfold(_t(x), (2, 3), padding=1, stride=2)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    blocks = [xp[:, :, i:i + 2, j:j + 3].reshape(2, -1)
              for i in range(0, 6, 2) for j in range(0, 6, 2)]
    np.testing.assert_allclose(cols.numpy(), np.stack(blocks, -1))
    # fold(unfold(x)) counts each pixel once per block covering it
    ones = F.fold(F.unfold(gpujit.ones(1, 1, 4, 4), 2), (4, 4), 2)
    assert ones.numpy()[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2],
                                           [1, 2, 2, 1]]


def test_max_unpool_roundtrip():
    x = np.abs(rng.standard_normal((1, 2, 4, 6))) + 0.1
    v, i = F.max_pool2d(_t(x), 2, return_indices=True)
    u = F.max_unpool2d(v, i, 2)
    assert u.shape == (1, 2, 4, 6)
    np.testing.assert_allclose(F.max_pool2d(u, 2).numpy(), v.numpy())
    assert (u.numpy() != 0).sum() == v.numel()
    v1, i1 = F.max_pool1d(_t(x[0]), 2, return_indices=True)
    assert F.max_unpool1d(v1, i1, 2, output_size=[7]).shape == (2, 4, 7)
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool2d(v, i + 100, 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(v, i, 2, output_size=[9, 9])


def test_lp_pool_numpy():
    x = np.abs(rng.standard_normal((2, 3, 8)))
    ref = (x.reshape(2, 3, 4, 2) ** 3).sum(-1) ** (1 / 3)
    np.testing.assert_allclose(F.lp_pool1d(_t(x), 3, 2).numpy(), ref)
    np.testing.assert_allclose(F.lp_pool1d(_t(x), float("inf"), 2).numpy(),
                               x.reshape(2, 3, 4, 2).max(-1))


def _fd_check(fn, *arrays):
    """Autograd against a float64 central finite difference of sum(fn * seed)."""
    ts = [_t(a, True) for a in arrays]
    out = fn(*ts)
    seed = rng.standard_normal(tuple(out.shape))
    (out * _t(seed)).sum().backward()
    for a, t in zip(arrays, ts):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            d = np.zeros_like(a)
            d[idx] = 1e-6
            hi = fn(*[_t(b + d if b is a else b) for b in arrays]).numpy()
            lo = fn(*[_t(b - d if b is a else b) for b in arrays]).numpy()
            num[idx] = ((hi - lo) * seed).sum() / 2e-6
        np.testing.assert_allclose(t.grad.numpy(), num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", [
    lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.adaptive_max_pool1d(x, 3),
    lambda x: F.lp_pool1d(x, 2, 2),
    lambda x: F.fold(F.unfold(x.unsqueeze(2), (1, 2)), (1, 7), (1, 2)),
    lambda x: F.conv_transpose1d(x, x[:2, :, :3] * 1.0, None, 2, 1, 1),
])
def test_grad_finite_difference(case):
    _fd_check(case, rng.standard_normal((2, 2, 7)))


def test_grad_conv3d_transpose3d_fd():
    x = rng.standard_normal((1, 2, 3, 3, 2))
    w = rng.standard_normal((2, 2, 2, 2, 1))
    _fd_check(lambda a, b: F.conv3d(a, b, None, 1, 1), x, w)
    _fd_check(lambda a, b: F.conv_transpose3d(a, b, None, 2, 0, 1), x, w)


def test_double_backward_conv_transpose():
    x = _t(rng.standard_normal((1, 2, 4)), True)
    w = _t(rng.standard_normal((2, 3, 3)), True)
    (gx,) = gpujit.autograd.grad(F.conv_transpose1d(x, w, stride=2).pow(2).sum(), [x],
                                 create_graph=True)
    gx.sum().backward()
    assert w.grad is not None and w.grad.shape == (2, 3, 3)


def test_errors():
    with pytest.raises(RuntimeError, match="padding should be at most half of kernel size"):
        F.max_pool1d(gpujit.randn(1, 5), 2, padding=2)
    with pytest.raises(RuntimeError, match="non-empty 4D or 5D"):
        F.max_pool3d(gpujit.randn(1, 1, 1), 2)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either "
                                           "stride or dilation"):
        F.conv_transpose2d(gpujit.randn(1, 2, 3, 3), gpujit.randn(2, 2, 3, 3),
                           output_padding=1)
    with pytest.raises(RuntimeError, match="Given transposed=1"):
        F.conv_transpose2d(gpujit.randn(1, 3, 3, 3), gpujit.randn(2, 2, 3, 3))
    with pytest.raises(RuntimeError, match="calculated number of sliding blocks"):
        F.fold(gpujit.randn(1, 4, 5), (3, 3), 2)
    with pytest.raises(ValueError, match="Only \"zeros\" padding mode"):
        gpujit.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="requested an output size of"):
        gpujit.nn.ConvTranspose2d(2, 2, 3, stride=2)(gpujit.randn(1, 2, 4, 4), [20, 20])


# ---------------------------------------------------------------------- against PyTorch

def _cmp(g, t, tol=1e-5):
    if isinstance(t, tuple):
        for a, b in zip(g, t):
            _cmp(a, b, tol)
        return
    a, b = g.detach().numpy(), t.detach().numpy()
    assert a.shape == b.shape and str(a.dtype) == str(b.dtype)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


_FN_CASES = [
    ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                   return_indices=True)),
    ("max_pool1d", (3, 9), dict(kernel_size=2, dilation=2, ceil_mode=True)),
    ("max_pool3d", (2, 2, 5, 6, 7), dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=1,
                                         return_indices=True)),
    ("max_pool3d", (2, 5, 6, 7), dict(kernel_size=2, dilation=2, ceil_mode=True,
                                      return_indices=True)),
    ("avg_pool1d", (2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool1d", (3, 10), dict(kernel_size=3, padding=1, count_include_pad=False)),
    ("avg_pool3d", (2, 2, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1,
                                         ceil_mode=True, count_include_pad=False)),
    ("avg_pool3d", (2, 5, 6, 7), dict(kernel_size=2, divisor_override=3)),
    ("adaptive_max_pool1d", (2, 3, 10), dict(output_size=4, return_indices=True)),
    ("adaptive_max_pool2d", (2, 3, 7, 9), dict(output_size=(3, None), return_indices=True)),
    ("adaptive_max_pool3d", (3, 5, 6, 7), dict(output_size=(2, 3, 4))),
    ("lp_pool1d", (2, 3, 10), dict(norm_type=2, kernel_size=3, stride=2)),
    ("lp_pool2d", (2, 3, 7, 8), dict(norm_type=1.5, kernel_size=(2, 3), ceil_mode=True)),
    ("lp_pool3d", (2, 3, 4, 4, 4), dict(norm_type=3, kernel_size=2)),
    ("unfold", (2, 3, 7, 8), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=2)),
]


@pytest.mark.parametrize("name,shape,kw", _FN_CASES)
def test_functional_vs_torch(name, shape, kw):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape)
    if name.startswith("lp_pool"):
        x = np.abs(x)
    g = _t(x, True)
    t = torch.tensor(x, requires_grad=True)
    go = getattr(F, name)(g, **kw)
    to = getattr(torch.nn.functional, name)(t, **kw)
    _cmp(go, to, 1e-10)
    go, to = (go[0], to[0]) if isinstance(to, tuple) else (go, to)
    seed = rng.standard_normal(tuple(to.shape))
    go.backward(_t(seed))
    to.backward(torch.tensor(seed))
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("nd,kw,wshape", [
    (1, dict(), (4, 3, 3)),
    (2, dict(stride=2, padding=1, output_padding=1, groups=2), (4, 3, 2, 2)),
    (3, dict(stride=3, padding=2, output_padding=1, dilation=2, groups=4), (4, 1, 3, 3, 3)),
    (2, dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2)), (4, 2, 3, 2)),
])
def test_conv_transpose_vs_torch(nd, kw, wshape):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 4) + (5, 6, 4)[:nd])
    w = rng.standard_normal(wshape)
    b = rng.standard_normal(wshape[1] * kw.get("groups", 1))
    gs = [_t(a, True) for a in (x, w, b)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    name = f"conv_transpose{nd}d"
    go = getattr(F, name)(*gs, **kw)
    to = getattr(torch.nn.functional, name)(*ts, **kw)
    _cmp(go, to, 1e-10)
    seed = rng.standard_normal(tuple(to.shape))
    go.backward(_t(seed))
    to.backward(torch.tensor(seed))
    for a, c in zip(gs, ts):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), atol=1e-9)
    _cmp(getattr(F, name)(gs[0][0], gs[1], None, **kw),
         getattr(torch.nn.functional, name)(ts[0][0], ts[1], None, **kw), 1e-10)


@pytest.mark.parametrize("kw", [dict(stride=(1, 2, 1), padding=1, dilation=(2, 1, 1), groups=2),
                                dict(padding="same", dilation=(1, 2, 1))])
def test_conv3d_vs_torch(kw):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 4, 5, 6, 7))
    w = rng.standard_normal((6, 4 // kw.get("groups", 1), 3, 2, 3))
    b = rng.standard_normal(6)
    gs = [_t(a, True) for a in (x, w, b)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    go, to = F.conv3d(*gs, **kw), torch.nn.functional.conv3d(*ts, **kw)
    _cmp(go, to, 1e-10)
    seed = rng.standard_normal(tuple(to.shape))
    go.backward(_t(seed))
    to.backward(torch.tensor(seed))
    for a, c in zip(gs, ts):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), atol=1e-9)


_MODULES = [
    ("Conv3d", (4, 6, 3), dict(stride=2, padding=1, groups=2), (2, 4, 5, 6, 7), ()),
    ("Conv3d", (4, 6, (2, 3, 3)), dict(padding="same"), (2, 4, 5, 6, 7), ()),
    ("Conv3d", (4, 6, 3), dict(padding=1, padding_mode="circular", bias=False), (4, 5, 6, 7),
     ()),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 7), ()),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, dilation=2), (2, 4, 5, 7), ()),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1), (2, 4, 5, 7), ([10, 14],)),
    ("ConvTranspose3d", (4, 6, 3), dict(stride=2), (2, 4, 3, 4, 5), ()),
    ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9), ()),
    ("MaxPool1d", (3,), dict(return_indices=True), (2, 3, 9), ()),
    ("MaxPool2d", (2,), dict(return_indices=True), (2, 3, 9, 7), ()),
    ("MaxPool3d", (3,), dict(stride=2, padding=1), (2, 3, 5, 6, 7), ()),
    ("AvgPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9), ()),
    ("AvgPool3d", (3,), dict(stride=2, padding=1, divisor_override=2), (2, 3, 5, 6, 7), ()),
    ("AdaptiveMaxPool1d", (4,), dict(), (2, 3, 9), ()),
    ("AdaptiveMaxPool2d", ((3, None),), dict(), (2, 3, 9, 7), ()),
    ("AdaptiveMaxPool3d", (2,), dict(return_indices=True), (2, 3, 9, 7, 5), ()),
    ("AdaptiveAvgPool1d", (4,), dict(), (2, 3, 9), ()),
    ("AdaptiveAvgPool3d", (2,), dict(), (2, 3, 9, 7, 5), ()),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 9), ()),
    ("LPPool2d", (1.5, 3), dict(), (2, 3, 9, 9), ()),
    ("LPPool3d", (2, 2), dict(), (2, 3, 4, 4, 4), ()),
    ("Unfold", ((2, 3),), dict(padding=1), (2, 3, 5, 6), ()),
    ("Fold", ((5, 6), (2, 3)), dict(padding=1), (2, 18, 36), ()),
]


@pytest.mark.parametrize("cls,args,kw,shape,extra", _MODULES)
def test_modules_state_dict_and_script_vs_torch(cls, args, kw, shape, extra):
    torch = pytest.importorskip("torch")
    tm = getattr(torch.nn, cls)(*args, **kw)
    gm = getattr(gpujit.nn, cls)(*args, **kw)
    sd = tm.state_dict()
    if sd:
        gm.load_state_dict({k: gpujit.tensor(v.numpy()) for k, v in sd.items()})
    x = rng.standard_normal(shape).astype(np.float32)
    if cls.startswith("LPPool"):
        x = np.abs(x)
    want = tm(torch.tensor(x), *extra)
    _cmp(gm(gpujit.tensor(x), *extra), want, 1e-4)
    if args and isinstance(args[0], tuple) and None in args[0]:
        # torch 2.13 refuses to script it: F.adaptive_max_pool2d's output_size is
        # BroadcastingList2[int], and (3, None) is a Tuple[int, NoneType]
        with pytest.raises(Exception, match="for argument 'output_size'"):
            gpujit.jit.script(gm)
    else:
        _cmp(gpujit.jit.script(gm)(gpujit.tensor(x), *extra), want, 1e-4)
    assert repr(gm) == repr(tm)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_modules_vs_torch(nd):
    torch = pytest.importorskip("torch")
    x = torch.randn((1, 2) + (6, 4, 5)[:nd])
    v, i = getattr(torch.nn, f"MaxPool{nd}d")(2, return_indices=True)(x)
    size = list(x.shape[2:])
    tu = getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    gu = getattr(gpujit.nn, f"MaxUnpool{nd}d")(2)
    _cmp(gu(gpujit.tensor(v.numpy()), gpujit.tensor(i.numpy()), size), tu(v, i, size))
    if nd < 3:
        _cmp(gu(gpujit.tensor(v.numpy()), gpujit.tensor(i.numpy())), tu(v, i))
    else:   # the default size (4x4x4) is too small for the last input plane's indices
        with pytest.raises(RuntimeError) as g_err:
            gu(gpujit.tensor(v.numpy()), gpujit.tensor(i.numpy()))
        with pytest.raises(RuntimeError) as t_err:
            tu(v, i)
        # (which invalid index ATen names depends on its parallel scan)
        assert str(g_err.value).split(":")[0] == str(t_err.value).split(":")[0]
        assert str(g_err.value).endswith("(output volumes are of size 6x4x4)")
