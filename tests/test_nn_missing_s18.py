"""F.bilinear / nn.Bilinear, F.pdist (torch.pdist), F.embedding_bag / nn.EmbeddingBag,
F.affine_grid, F.grid_sample, F.gumbel_softmax, F.conv_tbc, F.fractional_max_pool2d/3d /
nn.FractionalMaxPool2d/3d, nn.CrossMapLRN2d and nn.AdaptiveLogSoftmaxWithLoss (session 18:
they were missing) against
NumPy references and literal values; float64 gradients by gradcheck; each also scripted and
traced (three calls equal to eager). A few torch-oracle tests at the end (skipped without
torch)."""
import itertools
import math
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.autograd.gradcheck import gradcheck

F = torch.nn.functional
rng = np.random.default_rng(18)


def t(a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


def npy(x):
    return x.detach().numpy()


def script_and_trace(fn, args, n=3):
    """fn scripted and traced, called n times each, equal to eager (float32: to a few
    ulps, as a fused kernel may contract a * b + c into one FMA)."""
    want = npy(fn(*args))
    atol = 1e-6 if want.dtype == np.float32 else 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for compiled in (torch.jit.script(fn), torch.jit.trace(fn, args)):
            for _ in range(n):
                np.testing.assert_allclose(npy(compiled(*args)), want, rtol=1e-6, atol=atol)


# ---------------------------------------------------------------------- bilinear

def test_bilinear_values_shapes_and_grad():
    x1, x2 = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    w, b = rng.standard_normal((5, 2, 3)), rng.standard_normal(5)
    y = F.bilinear(t(x1), t(x2), t(w), t(b))
    np.testing.assert_allclose(npy(y), np.einsum("nbi,oij,nbj->nbo", x1, w, x2) + b)
    assert tuple(y.shape) == (2, 4, 5) and y.dtype == torch.float64
    y1 = torch.bilinear(t(x1[0, 0]), t(x2[0, 0]), t(w), None)     # unbatched
    np.testing.assert_allclose(npy(y1), np.einsum("i,oij,j->o", x1[0, 0], w, x2[0, 0]))
    assert gradcheck(F.bilinear, (t(x1[0], True), t(x2[0], True), t(w, True), t(b, True)))


@pytest.mark.parametrize("shapes,msg", [
    (((3, 2), (4, 3), (5, 2, 3), None),
     "input batch dimensions do not match at dim 0: got 3 and 4"),
    (((3, 4), (3, 3), (5, 2, 3), None),
     "input1 size does not match weight size: got 4 but expected 2"),
    (((3, 2), (3, 4), (5, 2, 3), None),
     "input2 size does not match weight size: got 4 but expected 3"),
    (((3, 2), (3, 3), (5, 2, 3), (4,)),
     "bias size does not match weight size: got 4 but expected 5"),
])
def test_bilinear_errors(shapes, msg):
    args = [None if s is None else torch.randn(*s) for s in shapes]
    with pytest.raises(RuntimeError, match="bilinear\\(\\): " + msg):
        F.bilinear(*args)


def test_bilinear_module_init_and_script():
    torch.manual_seed(0)
    m = torch.nn.Bilinear(4, 3, 2)
    bound = 1 / math.sqrt(4)
    assert tuple(m.weight.shape) == (2, 4, 3) and tuple(m.bias.shape) == (2,)
    assert float(m.weight.abs().max()) <= bound and float(m.bias.abs().max()) <= bound
    a, b = torch.randn(5, 4), torch.randn(5, 3)
    script_and_trace(m, (a, b))
    assert "in1_features=4, in2_features=3, out_features=2, bias=True" in repr(m)


# ---------------------------------------------------------------------- pdist

def _np_pdist(x, p):
    out = []
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            d = np.abs(x[i] - x[j])
            out.append(np.count_nonzero(d) if p == 0 else d.max() if p == math.inf
                       else (d ** p).sum() ** (1 / p))
    return np.array(out)


@pytest.mark.parametrize("p", [0., 0.5, 1., 1.5, 2., 3., math.inf])
def test_pdist_values_and_grad(p):
    x = rng.standard_normal((5, 3))
    np.testing.assert_allclose(npy(F.pdist(t(x), p)), _np_pdist(x, p), rtol=1e-12)
    assert gradcheck(lambda a: F.pdist(a, p), (t(x, True),))


def test_pdist_zero_distance_and_ties_gradients():
    x = t([[1., 2, 0], [1, 2, 0], [0, 1, 3]], True)
    F.pdist(x).sum().backward()        # the equal rows' distance passes no gradient
    d = np.array([1., 1, -3]) / math.sqrt(11)
    np.testing.assert_allclose(npy(x.grad), [d, d, -2 * d])
    x = t([[1., 2], [0, 1]], True)
    F.pdist(x, math.inf).backward()   # every tied coordinate gets the gradient (ATen)
    np.testing.assert_allclose(npy(x.grad), [[1., 1], [-1, -1]])
    y = torch.pdist(torch.randn(1, 3, dtype=torch.float32))
    assert tuple(y.shape) == (0,) and y.dtype == torch.float32


@pytest.mark.parametrize("x,p,msg", [
    (lambda: torch.randn(3, 2, 2), 2., "pdist only supports 2D tensors, got: 3D"),
    (lambda: torch.randn(3, 2), -1., "pdist only supports non-negative p values"),
    (lambda: torch.arange(6).reshape(3, 2), 2., "pdist only supports floating-point dtypes"),
])
def test_pdist_errors(x, p, msg):
    with pytest.raises(RuntimeError, match=msg):
        F.pdist(x(), p)


def test_pdist_cdist_pairwise_cosine_exist_and_script():
    def f(x, y):
        return (F.pdist(x, 3.) .sum() + torch.cdist(x, y).sum() +
                F.pairwise_distance(x, y).sum() + F.cosine_similarity(x, y).sum())
    script_and_trace(f, (torch.randn(4, 3), torch.randn(4, 3)))


# ---------------------------------------------------------------------- embedding_bag

def _np_bag(idx, w, offsets, mode, psw=None, last=False, pad=None):
    """PyTorch's bags (its CPU kernel): the last bag runs to the end of idx, except that
    with include_last_offset, float32/float16 sum and mean without padding_idx add its
    entries only up to offsets[-1] (mean still divides by the count to the end)."""
    n = len(offsets) - 1 if last else len(offsets)
    bounds = list(offsets[:n]) + [len(idx)]
    out = np.zeros((n, w.shape[1]))
    for b in range(n):
        ks = [k for k in range(bounds[b], bounds[b + 1]) if idx[k] != pad]
        if not ks:
            continue
        count = len(ks)
        if last and pad is None and mode != "max" and b == n - 1 and w.dtype != np.float64:
            ks = [k for k in ks if k < offsets[n]]
        rows = w[[idx[k] for k in ks]] * (1 if psw is None else psw[ks][:, None])
        out[b] = rows.sum(0) if mode == "sum" else rows.sum(0) / count if mode == "mean" \
            else rows.max(0)
    return out


@pytest.mark.parametrize("mode,last,pad", list(itertools.product(
    ["sum", "mean", "max"], [False, True], [None, 4, -6])))
def test_embedding_bag_values_and_grad(mode, last, pad):
    w = rng.standard_normal((10, 3))
    idx, offs = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 2, 2, 5])
    got = F.embedding_bag(t(idx), t(w), t(offs), mode=mode, include_last_offset=last,
                          padding_idx=pad)
    want = _np_bag(idx, w, offs, mode, last=last, pad=None if pad is None else pad % 10)
    np.testing.assert_allclose(npy(got), want, rtol=1e-12)
    w32 = w.astype(np.float32)        # ATen's float32 kernel reads include_last_offset
    got = F.embedding_bag(t(idx), t(w32), t(offs), mode=mode, include_last_offset=last,
                          padding_idx=pad)
    want = _np_bag(idx, w32, offs, mode, last=last, pad=None if pad is None else pad % 10)
    np.testing.assert_allclose(npy(got), want, rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda a: F.embedding_bag(t(idx), a, t(offs), mode=mode,
                                               include_last_offset=last, padding_idx=pad),
                     (t(w, True),))


def test_embedding_bag_2d_per_sample_weights_and_grads():
    w, psw = rng.standard_normal((6, 4)), rng.standard_normal((2, 3))
    idx = np.array([[0, 5, 2], [1, 1, 3]])
    got = F.embedding_bag(t(idx), t(w), mode="sum", per_sample_weights=t(psw))
    want = _np_bag(idx.reshape(-1), w, [0, 3], "sum", psw.reshape(-1))
    np.testing.assert_allclose(npy(got), want, rtol=1e-12)
    assert gradcheck(lambda a, s: F.embedding_bag(t(idx), a, mode="sum",
                                                  per_sample_weights=s),
                     (t(w, True), t(psw, True)))
    np.testing.assert_allclose(npy(F.embedding_bag(t(idx), t(w))), w[idx].mean(1))


@pytest.mark.parametrize("call,exc,msg", [
    (lambda w: F.embedding_bag(torch.tensor([[1, 2]]), w, torch.tensor([0])), ValueError,
     "if input is 2D, then offsets has to be None"),
    (lambda w: F.embedding_bag(torch.tensor([1, 2]), w), ValueError,
     "offsets has to be a 1D Tensor but got None"),
    (lambda w: F.embedding_bag(torch.tensor([[[1]]]), w), ValueError,
     "input has to be 1D or 2D Tensor, but got Tensor of dimension 3"),
    (lambda w: F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([0]), mode="prod"),
     ValueError, "mode has to be one of sum, mean or max"),
    (lambda w: F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([0]), mode="mean",
                               per_sample_weights=torch.ones(2)), NotImplementedError,
     "per_sample_weights is only supported for mode='sum' \\(got mode='mean'\\)"),
    (lambda w: F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([1])), RuntimeError,
     "offsets\\[0\\] has to be 0"),
    (lambda w: F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([0, 5])), RuntimeError,
     "offsets\\[-1\\] can not be greater than input's length 2 but got offsets\\[-1\\] of 5"),
    (lambda w: F.embedding_bag(torch.tensor([1, 2]), w, torch.tensor([0]), padding_idx=10),
     RuntimeError, "padding_idx must be within the number of embeddings, -10 through 9, "
     "but got 10"),
    (lambda w: F.embedding_bag(torch.tensor([1]), w, torch.tensor([], dtype=torch.int64),
                               include_last_offset=True), RuntimeError,
     "include_last_offset: number of offset should be at least 1"),
])
def test_embedding_bag_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call(torch.randn(10, 3))


def test_embedding_bag_module():
    torch.manual_seed(0)
    m = torch.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-1)
    assert m.padding_idx == 9 and float(m.weight[9].abs().sum()) == 0
    assert repr(m) == "EmbeddingBag(10, 3, mode='sum', padding_idx=9)"
    idx, offs = torch.tensor([1, 9, 4, 5]), torch.tensor([0, 2])
    w = npy(m.weight)
    np.testing.assert_allclose(npy(m(idx, offs)), [w[1], w[4] + w[5]], rtol=1e-6)
    script_and_trace(m, (idx, offs))
    emb = torch.tensor([[1., 2], [3, 4], [5, 6]])
    bag = torch.nn.EmbeddingBag.from_pretrained(emb, mode="max")
    assert not bag.weight.requires_grad
    np.testing.assert_allclose(npy(bag(torch.tensor([[0, 2], [1, 0]]))), [[5., 6], [3, 4]])
    assert torch.nn.EmbeddingBag.from_pretrained(emb, freeze=False).weight.requires_grad


# ---------------------------------------------------------------------- affine_grid

def _np_lin(n, ac):
    if n <= 1:
        return np.zeros(n)
    r = np.linspace(-1, 1, n)
    return r if ac else r * (n - 1) / n


@pytest.mark.parametrize("ac", [False, True])
def test_affine_grid_2d_3d(ac):
    th = rng.standard_normal((2, 2, 3))
    ys, xs = np.meshgrid(_np_lin(4, ac), _np_lin(5, ac), indexing="ij")
    base = np.stack([xs, ys, np.ones_like(xs)], -1)
    got = F.affine_grid(t(th), [2, 3, 4, 5], align_corners=ac)
    np.testing.assert_allclose(npy(got), np.einsum("hwk,nck->nhwc", base, th), rtol=1e-12)
    th3 = rng.standard_normal((1, 3, 4))
    zs, ys, xs = np.meshgrid(_np_lin(2, ac), _np_lin(3, ac), _np_lin(4, ac), indexing="ij")
    base = np.stack([xs, ys, zs, np.ones_like(xs)], -1)
    got = F.affine_grid(t(th3), [1, 1, 2, 3, 4], align_corners=ac)
    np.testing.assert_allclose(npy(got), np.einsum("dhwk,nck->ndhwc", base, th3), rtol=1e-12)
    assert gradcheck(lambda a: F.affine_grid(a, [2, 1, 3, 2], align_corners=ac),
                     (t(th, True),))


def test_affine_grid_errors_and_warning():
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape "
                                         "Nx2x3 for size"):
        F.affine_grid(torch.randn(1, 3, 4), [1, 1, 2, 2], align_corners=False)
    with pytest.raises(ValueError, match="Expected theta to have floating point type"):
        F.affine_grid(torch.ones(1, 2, 3, dtype=torch.int64), [1, 1, 2, 2], False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D"):
        F.affine_grid(torch.randn(1, 2, 3), [1, 1, 2], align_corners=False)
    with pytest.raises(ValueError, match="Expected non-zero, positive output size"):
        F.affine_grid(torch.randn(1, 2, 3), [1, 0, 2, 2], align_corners=False)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.affine_grid(torch.randn(1, 2, 3), [1, 1, 2, 2])


# ---------------------------------------------------------------------- grid_sample

def _np_source(c, n, pad, ac):
    c = (c + 1) / 2 * (n - 1) if ac else ((c + 1) * n - 1) / 2
    if pad == "reflection":
        lo, hi = (0, 2 * (n - 1)) if ac else (-1, 2 * n - 1)
        if lo == hi:
            c = 0.0
        else:
            mn, span = lo / 2, (hi - lo) / 2
            c = abs(c - mn)
            extra, flips = math.fmod(c, span), math.floor(c / span)
            c = extra + mn if flips % 2 == 0 else span - extra + mn
    if pad in ("border", "reflection"):
        c = min(max(c, 0), n - 1)
    return c


def _np_grid_sample(x, g, mode, pad, ac):
    n, ch, h, w = x.shape
    out = np.zeros((n, ch) + g.shape[1:3])
    for b, i, j in itertools.product(range(n), range(g.shape[1]), range(g.shape[2])):
        ix, iy = _np_source(g[b, i, j, 0], w, pad, ac), _np_source(g[b, i, j, 1], h, pad, ac)

        def at(yy, xx):
            return x[b, :, yy, xx] if 0 <= yy < h and 0 <= xx < w else 0
        if mode == "nearest":
            out[b, :, i, j] = at(int(np.rint(iy)), int(np.rint(ix)))
            continue
        x0, y0 = math.floor(ix), math.floor(iy)
        fx, fy = ix - x0, iy - y0
        out[b, :, i, j] = (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy)
                           + at(y0 + 1, x0) * (1 - fx) * fy + at(y0 + 1, x0 + 1) * fx * fy)
    return out


@pytest.mark.parametrize("mode,pad,ac", list(itertools.product(
    ["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True])))
def test_grid_sample_2d(mode, pad, ac):
    x, g = rng.standard_normal((2, 3, 4, 5)), rng.uniform(-1.4, 1.4, (2, 3, 4, 2))
    got = F.grid_sample(t(x), t(g), mode=mode, padding_mode=pad, align_corners=ac)
    np.testing.assert_allclose(npy(got), _np_grid_sample(x, g, mode, pad, ac), rtol=1e-10,
                               atol=1e-12)
    if mode == "bilinear":
        assert gradcheck(lambda a, b: F.grid_sample(a, b, mode=mode, padding_mode=pad,
                                                    align_corners=ac),
                         (t(x[:1, :2], True), t(g[:1, :2, :2], True)))


def test_grid_sample_3d_identity_and_half_pixel():
    x = torch.randn(1, 2, 3, 4, 5, dtype=torch.float64)
    eye = torch.tensor([[[1., 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]], dtype=torch.float64)
    for ac in (False, True):
        grid = F.affine_grid(eye, [1, 2, 3, 4, 5], align_corners=ac)
        for mode in ("bilinear", "nearest"):
            np.testing.assert_allclose(npy(F.grid_sample(x, grid, mode=mode, align_corners=ac)),
                                       npy(x), rtol=1e-12, atol=1e-12)
    x2 = torch.tensor([[[[1., 3]]]], dtype=torch.float64)     # (1, 1, 1, 2)
    mid = torch.zeros(1, 1, 1, 2, dtype=torch.float64)
    assert float(F.grid_sample(x2, mid, align_corners=True)) == 2.0
    assert float(F.grid_sample(x2, mid, mode="nearest", align_corners=True)) == 1.0  # to even


def test_grid_sample_errors():
    x = torch.randn(1, 2, 3, 3)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or "
                                         "'bicubic', but got: 'area'"):
        F.grid_sample(x, torch.rand(1, 2, 2, 2), mode="area", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or "
                                         "'reflection', but got: 'wrap'"):
        F.grid_sample(x, torch.rand(1, 2, 2, 2), padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
        F.grid_sample(x, torch.rand(2, 2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
        F.grid_sample(x, torch.rand(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="expected input to have non-empty spatial "
                                           "dimensions, but input has sizes \\[1, 2, 0, 3\\] "
                                           "with dimension 2 being empty"):
        F.grid_sample(torch.randn(1, 2, 0, 3), torch.rand(1, 2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(torch.randn(1, 1, 2, 2, 2), torch.rand(1, 1, 1, 1, 3), mode="bicubic",
                      align_corners=False)


def test_sampling_script_and_trace():
    def f(x, th):
        g = F.affine_grid(th, [2, 3, 4, 5], align_corners=False)
        return F.grid_sample(x, g, mode="bilinear", padding_mode="reflection",
                             align_corners=False)

    def f3(x, g):
        return F.grid_sample(x, g, mode="nearest", padding_mode="border", align_corners=True)
    script_and_trace(f, (torch.randn(2, 3, 4, 5), torch.randn(2, 2, 3)))
    script_and_trace(f3, (torch.randn(1, 2, 3, 4, 2), torch.rand(1, 2, 3, 2, 3) * 2 - 1))

    def fb(w, i, o, s):
        return F.embedding_bag(i, w, o, mode="sum", per_sample_weights=s) + \
            F.embedding_bag(i, w, o, mode="max", padding_idx=2)
    script_and_trace(fb, (torch.randn(10, 3), torch.tensor([1, 2, 4, 5, 4]),
                          torch.tensor([0, 2, 2]), torch.rand(5)))

    def fp(x, a, b, w):
        return torch.pdist(x).sum() + torch.bilinear(a, b, w, None).sum()
    script_and_trace(fp, (torch.randn(4, 3), torch.randn(2, 3), torch.randn(2, 4),
                          torch.randn(5, 3, 4)))


# ---------------------------------------------------------------------- gumbel_softmax

@pytest.mark.parametrize("tau,dim", [(1.0, -1), (0.5, 0)])
def test_gumbel_softmax_soft_and_hard(tau, dim):
    logits = torch.randn(4, 6, dtype=torch.float64)
    torch.manual_seed(3)
    g = -torch.empty_like(logits).exponential_().log()
    torch.manual_seed(3)
    soft = F.gumbel_softmax(logits, tau=tau, dim=dim)
    np.testing.assert_allclose(npy(soft), npy(((logits + g) / tau).softmax(dim)), rtol=1e-12)
    torch.manual_seed(3)
    x = logits.clone().requires_grad_(True)
    hard = F.gumbel_softmax(x, tau=tau, hard=True, dim=dim)
    want = np.zeros((4, 6))
    np.put_along_axis(want, np.expand_dims(npy(soft).argmax(dim), dim), 1.0, dim)
    np.testing.assert_allclose(npy(hard), want, atol=1e-12)
    wts = torch.randn(4, 6, dtype=torch.float64)
    (hard * wts).sum().backward()           # straight-through: the soft sample's gradient
    x2 = logits.clone().requires_grad_(True)
    torch.manual_seed(3)
    (F.gumbel_softmax(x2, tau=tau, dim=dim) * wts).sum().backward()
    np.testing.assert_allclose(npy(x.grad), npy(x2.grad), rtol=1e-10)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(logits, eps=1e-5)


def test_gumbel_softmax_script_and_trace():
    def f(x):
        return F.gumbel_softmax(x, tau=0.5, hard=True).sum(-1)
    script_and_trace(f, (torch.randn(4, 6),))


# ---------------------------------------------------------------------- conv_tbc

@pytest.mark.parametrize("pad", [0, 1, 2])
def test_conv_tbc(pad):
    x, w, b = rng.standard_normal((6, 2, 3)), rng.standard_normal((3, 3, 4)), rng.standard_normal(4)
    xp = np.pad(x, ((pad, pad), (0, 0), (0, 0)))
    want = np.stack([np.einsum("kbi,kio->bo", xp[s:s + 3], w) + b
                     for s in range(len(xp) - 2)])
    got = torch.conv_tbc(t(x), t(w), t(b), pad)
    np.testing.assert_allclose(npy(got), want, rtol=1e-12)
    assert gradcheck(lambda a, c, d: F.conv_tbc(a, c, d, pad), (t(x, True), t(w, True),
                                                                 t(b, True)))
    with pytest.raises(RuntimeError, match="Input dim 2 \\(input channels\\) is not == dim 1"):
        F.conv_tbc(torch.randn(5, 2, 2), torch.randn(3, 3, 4), torch.randn(4))


# ---------------------------------------------------------------------- fractional max pool

def _np_starts(u, n_in, n_out, k, dt):
    if n_out == 1:
        return [n_in - k]
    alpha = dt(n_in - k) / dt(n_out - 1)
    return [int((dt(i) + u) * alpha) - int(u * alpha) for i in range(n_out - 1)] + [n_in - k]


def test_fractional_max_pool2d_values_indices_grad():
    x, u = rng.standard_normal((2, 3, 7, 8)), rng.random((2, 3, 2))
    y, idx = F.fractional_max_pool2d(t(x), (2, 3), output_size=(3, 4), return_indices=True,
                                     _random_samples=t(u))
    for n, c in itertools.product(range(2), range(3)):
        hs = _np_starts(u[n, c, 1], 7, 3, 2, np.float64)     # samples: (W, H), as ATen
        ws = _np_starts(u[n, c, 0], 8, 4, 3, np.float64)
        for i, j in itertools.product(range(3), range(4)):
            win = x[n, c, hs[i]:hs[i] + 2, ws[j]:ws[j] + 3]
            r, q = np.unravel_index(win.argmax(), win.shape)
            assert npy(y)[n, c, i, j] == win.max()
            assert int(idx[n, c, i, j]) == (hs[i] + r) * 8 + ws[j] + q
    assert idx.dtype == torch.int64
    assert gradcheck(lambda a: F.fractional_max_pool2d(a, 2, output_ratio=0.5,
                                                       _random_samples=t(u)), (t(x, True),))
    y3 = F.fractional_max_pool3d(torch.randn(3, 5, 6, 7), 2, output_size=(2, 3, 4))
    assert tuple(y3.shape) == (3, 2, 3, 4)                       # unbatched, samples drawn


def test_fractional_max_pool_errors_module_script():
    x = torch.randn(2, 3, 7, 8)
    with pytest.raises(ValueError, match="requires specifying either an output_size or an "
                                         "output_ratio"):
        F.fractional_max_pool2d(x, 3)
    with pytest.raises(RuntimeError, match="pool height 3 too large relative to input "
                                           "height 7"):
        F.fractional_max_pool2d(x, 3, output_size=(6, 6))
    with pytest.raises(RuntimeError, match="no less then input batch size"):
        F.fractional_max_pool2d(x, 3, output_size=3, _random_samples=torch.rand(1, 3, 2))
    with pytest.raises(RuntimeError, match="same dtype as input"):
        F.fractional_max_pool2d(x, 3, output_size=3,
                                _random_samples=torch.rand(2, 3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        torch.nn.FractionalMaxPool2d(3, output_ratio=1.5)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        torch.nn.FractionalMaxPool2d(3, output_ratio=0.5, output_size=2)
    u = torch.rand(2, 3, 2)
    m = torch.nn.FractionalMaxPool2d(2, output_ratio=0.5, return_indices=True,
                                     _random_samples=u)
    y, i = m(x)
    assert tuple(y.shape) == (2, 3, 3, 4) and "_random_samples" in dict(m.named_buffers())
    s = torch.jit.script(m)
    for _ in range(3):
        ys, is_ = s(x)
        assert bool((ys == y).all()) and bool((is_ == i).all())

    def f(a, v):
        return F.fractional_max_pool2d(a, 2, output_size=[3, 3], _random_samples=v)
    script_and_trace(f, (x, u))


# ---------------------------------------------------------------------- CrossMapLRN2d

def _np_cross_map(x, size, alpha, beta, k, g):
    """PyTorch's legacy loops: forward window (channel 0 never dropped), backward window."""
    c = x.shape[1]
    pre = int((size - 1) / 2 + 1)
    ipp = int(size - (size - 1) / 2)
    sq = x * x
    scale = np.stack([sq[:, [i for i in range(c) if i <= ch + pre - 1 and
                             (i == 0 or i >= ch - pre + 1)]].sum(1) for ch in range(c)], 1)
    scale = scale * alpha / size + k
    out = x * scale ** -beta
    ratio = g * out / scale
    acc = np.stack([ratio[:, [j for j in range(c) if ch - ipp <= j <= ch + size - 1 - ipp]]
                    .sum(1) for ch in range(c)], 1)
    return out, scale ** -beta * g - 2 * alpha * beta / size * x * acc


@pytest.mark.parametrize("size,c", [(3, 6), (5, 6), (2, 4), (4, 2)])
def test_cross_map_lrn2d(size, c):
    x, g = rng.standard_normal((2, c, 3, 2)), rng.standard_normal((2, c, 3, 2))
    m = torch.nn.CrossMapLRN2d(size, 0.3, 0.75, 2)
    a = t(x, True)
    y = m(a)
    (y * t(g)).sum().backward()
    want_y, want_g = _np_cross_map(x, size, 0.3, 0.75, 2, g)
    np.testing.assert_allclose(npy(y), want_y, rtol=1e-12)
    np.testing.assert_allclose(npy(a.grad), want_g, rtol=1e-10, atol=1e-12)
    assert repr(m) == f"CrossMapLRN2d({size}, alpha=0.3, beta=0.75, k=2)"
    script_and_trace(m, (torch.randn(2, c, 3, 3),))
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D"):
        m(torch.randn(c, 3, 3))


# ---------------------------------------------------------------------- adaptive softmax

def _logsm(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def test_adaptive_log_softmax_with_loss():
    torch.manual_seed(0)
    m = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], div_value=2., head_bias=True)
    m = m.double()
    assert [tuple(p.shape) for p in m.parameters()] == [(7, 8), (7,), (4, 8), (6, 4), (2, 8),
                                                        (5, 2), (1, 8), (5, 1)]
    x, y = rng.standard_normal((6, 8)), np.array([0, 5, 12, 19, 3, 16])
    hw, hb = npy(m.head.weight), npy(m.head.bias)
    head = _logsm(x @ hw.T + hb)
    full = [head[:, :4]]
    for i, seq in enumerate(m.tail):
        full.append(_logsm(x @ npy(seq[0].weight).T @ npy(seq[1].weight).T) + head[:, 4 + i:5 + i])
    full = np.concatenate(full, 1)
    a = t(x, True)
    out = m(a, t(y))
    np.testing.assert_allclose(npy(out.output), full[np.arange(6), y], rtol=1e-10)
    np.testing.assert_allclose(float(out.loss), -full[np.arange(6), y].mean(), rtol=1e-10)
    np.testing.assert_allclose(npy(m.log_prob(t(x))), full, rtol=1e-10)
    np.testing.assert_allclose(np.exp(full).sum(1), 1.0, rtol=1e-10)
    assert npy(m.predict(t(x))).tolist() == full.argmax(1).tolist()
    np.testing.assert_allclose(float(m(t(x[2]), t(y[2])).output), full[2, y[2]], rtol=1e-10)
    out.loss.backward()
    assert a.grad is not None and m.tail[1][0].weight.grad is not None
    with pytest.raises(RuntimeError, match="Target values should be in \\[0, 19\\]"):
        m(t(x[:3]), t([0, 1, 25]))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        m(t(x[:1]), t([[0]]))
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique, positive"):
        torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 25])


# ---------------------------------------------------------------------- torch oracle

def test_torch_oracle_grid_sample_embedding_bag_grads():
    real = pytest.importorskip("torch")
    x, g = rng.standard_normal((2, 3, 4, 5)), rng.uniform(-1.2, 1.2, (2, 3, 4, 2))
    for pad in ("zeros", "border", "reflection"):
        outs = []
        for lib in (torch, real):
            a = lib.tensor(x, requires_grad=True)
            b = lib.tensor(g, requires_grad=True)
            y = lib.nn.functional.grid_sample(a, b, padding_mode=pad, align_corners=False)
            (y * lib.tensor(np.arange(y.numel()).reshape(tuple(y.shape)) % 7)).sum().backward()
            outs.append([y.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
        for m, n in zip(*outs):
            np.testing.assert_allclose(m, n, rtol=1e-10, atol=1e-12)
    w = rng.standard_normal((10, 3))
    for mode in ("sum", "mean", "max"):
        outs = []
        for lib in (torch, real):
            wt = lib.tensor(w, requires_grad=True)
            y = lib.nn.functional.embedding_bag(lib.tensor([3, 1, 7, 7, 0]), wt,
                                                lib.tensor([0, 1, 1, 4]), mode=mode,
                                                padding_idx=0)
            y.pow(2).sum().backward()
            outs.append([y.detach().numpy(), wt.grad.numpy()])
        for m, n in zip(*outs):
            np.testing.assert_allclose(m, n, rtol=1e-12)
