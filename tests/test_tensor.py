"""The Tensor API (issue 3): metadata, conversions, Python values, operators, in-place
semantics, memory sharing of views, dtype inference and device checks, as in PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit.ops import registry


def arr(t):
    return t.cpu().numpy()


def shares(a, b):
    return np.shares_memory(arr(a), arr(b))


def ar(*shape, dtype=gpujit.float32):
    n = int(np.prod(shape)) if shape else 1
    return gpujit.arange(n, dtype=dtype).reshape(shape)


# ------------------------------------------------------------------ metadata

def test_shape_size_and_dims():
    x = gpujit.zeros(2, 3, 4)
    assert isinstance(x.shape, gpujit.Size) and isinstance(x.size(), gpujit.Size)
    assert x.shape == (2, 3, 4) and x.size() == gpujit.Size([2, 3, 4])
    assert x.size(1) == 3 and x.size(-1) == 4 and x.shape[1:] == (3, 4)
    assert isinstance(x.shape[1:], gpujit.Size)
    assert x.dim() == x.ndim == x.ndimension() == 3
    assert x.numel() == x.nelement() == 24 and x.shape.numel() == 24
    assert x.element_size() == 4 and x.nbytes == 96
    assert repr(gpujit.Size([2, 3])) == "gpujit.Size([2, 3])"
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)
    s = gpujit.tensor(5.0)
    assert s.shape == () and s.dim() == 0 and s.numel() == 1


def test_dtype_device_and_predicates():
    x = gpujit.zeros(2, dtype=gpujit.float64)
    assert x.dtype is gpujit.float64 and x.device == gpujit.device("cpu") and x.device == gpujit.device("cpu")
    assert x.is_cpu and not x.is_cuda and x.is_floating_point() and x.is_signed()
    assert not gpujit.zeros(2, dtype=gpujit.int32).is_floating_point()
    assert not gpujit.zeros(2, dtype=gpujit.uint8).is_signed()


def test_strides_in_elements_like_torch():
    x = gpujit.zeros(3, 4)
    assert x.stride() == (4, 1) and x.stride(0) == 4 and x.stride(-1) == 1
    assert x.t().stride() == (1, 4)
    assert x[:, ::2].stride() == (4, 2)
    assert x[1].stride() == (1,) and gpujit.tensor(1.0).stride() == ()
    assert gpujit.zeros(3, 1).expand(3, 5).stride() == (1, 0)
    assert x.permute(1, 0).stride() == (1, 4)
    assert gpujit.zeros(2, 3, 4, dtype=gpujit.float64).stride() == (12, 4, 1)
    # new tensors without elements: C order with each size taken as at least 1 (NumPy
    # says 0 for all); slices keep their strides
    assert gpujit.zeros(0, 3).stride() == (3, 1) and gpujit.rand(2, 0, 3).stride() == (3, 3, 1)
    assert gpujit.empty(0).stride() == (1,) and x.t()[2:2].stride() == (1, 4)


def test_is_contiguous():
    x = gpujit.zeros(3, 4)
    assert x.is_contiguous() and not x.t().is_contiguous()
    assert x.t().contiguous().is_contiguous()
    assert x[:, :2].is_contiguous() is False and x[1:].is_contiguous()
    assert gpujit.zeros(4, 1).t().is_contiguous()       # size-1 dims do not count
    c = x.contiguous()
    assert c is x or shares(c, x)
    y = x.t().contiguous()
    assert not shares(y, x) and np.array_equal(arr(y), arr(x).T)


# ------------------------------------------------------------------ Python values

def test_item_tolist_and_scalar_conversions():
    assert gpujit.tensor(2.5).item() == 2.5 and isinstance(gpujit.tensor(2.5).item(), float)
    assert isinstance(gpujit.tensor([3]).item(), int) and gpujit.tensor([[3]]).item() == 3
    assert gpujit.tensor(True).item() is True
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to "
                                           "Scalar"):
        gpujit.tensor([1, 2]).item()
    assert ar(2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert gpujit.tensor(4).tolist() == 4
    assert float(gpujit.tensor([1.5])) == 1.5 and int(gpujit.tensor(2.9)) == 2
    assert bool(gpujit.tensor([0])) is False and bool(gpujit.tensor(3)) is True
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gpujit.tensor([1, 2]))
    for fn in (int, float, complex):      # ValueError, as PyTorch's
        with pytest.raises(ValueError, match="only one element tensors can be converted"):
            fn(gpujit.tensor([1, 2]))
    assert [10, 20, 30][gpujit.tensor(1)] == 20            # __index__
    with pytest.raises(TypeError):
        [1, 2][gpujit.tensor(1.0)]
    assert len(gpujit.zeros(4, 2)) == 4
    with pytest.raises(TypeError, match="0-d"):
        len(gpujit.tensor(1))
    rows = list(ar(3, 2))
    assert len(rows) == 3 and rows[2].tolist() == [4.0, 5.0]
    assert 3.0 in ar(2, 2) and 7.0 not in ar(2, 2)
    assert f"{gpujit.tensor(2.5):.2f}" == "2.50"


def test_numpy_shares_memory_and_cpu_is_identity():
    x = gpujit.zeros(3)
    a = x.numpy()
    a[1] = 7
    assert x.tolist() == [0.0, 7.0, 0.0]
    assert x.cpu() is x
    n = np.arange(4.0)
    t = gpujit.from_numpy(n)
    t.add_(1)
    assert n.tolist() == [1.0, 2.0, 3.0, 4.0] and t.dtype is gpujit.float64
    w = gpujit.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert np.shares_memory(w.detach().numpy(), w._data)


def test_to_and_type_conversions():
    x = ar(2, 3)
    assert x.to(gpujit.float32) is x and x.to("cpu") is x and x.to(x) is x
    y = x.to(gpujit.float64)
    assert y.dtype is gpujit.float64 and not shares(x, y)
    z = x.to(copy=True)
    assert z is not x and not shares(x, z) and np.array_equal(arr(z), arr(x))
    assert x.to("cpu", gpujit.int64).dtype is gpujit.int64
    assert x.to(dtype=gpujit.float16, device="cpu").dtype is gpujit.float16
    assert x.to(gpujit.zeros(1, dtype=gpujit.int32)).dtype is gpujit.int32
    assert x.to(gpujit.device("cpu"), dtype=gpujit.bool).dtype is gpujit.bool
    for m, d in [("float", gpujit.float32), ("double", gpujit.float64),
                 ("half", gpujit.float16), ("int", gpujit.int32), ("long", gpujit.int64),
                 ("bool", gpujit.bool), ("short", gpujit.int16), ("byte", gpujit.uint8),
                 ("char", gpujit.int8)]:
        assert getattr(x, m)().dtype is d
    assert gpujit.tensor([-1.7, 2.7]).long().tolist() == [-1, 2]      # truncation
    assert gpujit.tensor([0.0, 0.5, float("nan")]).bool().tolist() == [False, True, True]
    assert x.type_as(gpujit.zeros(1, dtype=gpujit.int64)).dtype is gpujit.int64
    # (torch 2.13's parser words)
    with pytest.raises(TypeError, match=r"to\(\) received an invalid combination of "
                                        r"arguments - got \(list\)"):
        x.to([1])


def test_clone_detach_contiguous_memory():
    x = ar(2, 3)
    c = x.clone()
    assert not shares(c, x) and np.array_equal(arr(c), arr(x))
    c.fill_(5)
    assert x[0, 0].item() == 0.0
    d = x.detach()
    assert shares(d, x) and d is not x
    d[0, 0] = 9
    assert x[0, 0].item() == 9
    tc = x.t().clone()
    assert tc.stride() == (1, 3) and not tc.is_contiguous()     # preserve_format, as torch


def test_requires_grad_is_stored():
    x = gpujit.zeros(2)
    assert x.requires_grad is False and x.is_leaf
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    assert gpujit.ones(2, requires_grad=True).requires_grad
    assert gpujit.tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        gpujit.zeros(2, dtype=gpujit.int64).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        gpujit.tensor([1, 2], requires_grad=True)
    gpujit.zeros(2, dtype=gpujit.int64).requires_grad_(False)      # fine


# ------------------------------------------------------------------ operators

def test_arithmetic_operators_match_numpy():
    a = gpujit.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    b = gpujit.tensor([2.0, 4.0, -8.0])
    na, nb = arr(a), arr(b)
    cases = [(a + b, na + nb), (a - b, na - nb), (a * b, na * nb), (a / b, na / nb),
             (a + 1, na + 1), (2 - a, 2 - na), (2 * a, 2 * na), (1 / b, 1 / nb),
             (a // b, na // nb), (a % b, np.mod(na, nb)), (a ** 2, na ** 2), (2 ** b, 2 ** nb),
             (-a, -na), (abs(a), np.abs(na)), (+a, na), (a @ b, na @ nb)]
    for got, want in cases:
        np.testing.assert_allclose(arr(got), want, rtol=1e-6)
    assert (a @ a.t()).shape == (2, 2)
    i = gpujit.tensor([7, -7])
    assert (i // 2).tolist() == [3, -4] and (i % 3).tolist() == [1, 2]   # floor semantics
    assert (i / 2).dtype is gpujit.float32 and (i + 1.5).dtype is gpujit.float32
    assert (i * 2).dtype is gpujit.int64 and (a + i[:1]).dtype is gpujit.float32


def test_comparison_and_bitwise_operators():
    a = gpujit.tensor([1, 2, 3])
    b = gpujit.tensor([3, 2, 1])
    assert (a < b).tolist() == [True, False, False] and (a <= b).tolist() == [True, True, False]
    assert (a > b).tolist() == [False, False, True] and (a >= 2).tolist() == [False, True, True]
    assert (a == b).tolist() == [False, True, False] and (a != b).tolist() == [True, False, True]
    assert (a == b).dtype is gpujit.bool
    assert (a == None) is False and (a != None) is True        # noqa: E711
    assert (a & b).tolist() == [1, 2, 1] and (a | b).tolist() == [3, 2, 3]
    assert (a ^ b).tolist() == [2, 0, 2] and (~a).tolist() == [-2, -3, -4]
    m = gpujit.tensor([True, False])
    assert (~m).tolist() == [False, True] and (m & True).tolist() == [True, False]
    assert (m | gpujit.tensor([False, True])).tolist() == [True, True]
    assert (3 & a).tolist() == [1, 2, 3]
    with pytest.raises(TypeError):
        gpujit.tensor([1.0]) & gpujit.tensor([1.0])


def test_in_place_operators_keep_identity_and_write_through_views():
    x = gpujit.zeros(2, 3)
    y = x
    x += 1
    x -= 0.5
    x *= 4
    x /= 2
    assert x is y and x.tolist() == [[1.0] * 3] * 2
    row = x[1]
    row += 10
    assert x[1].tolist() == [11.0] * 3
    col = x[:, 1]
    col *= 2
    assert x[:, 1].tolist() == [2.0, 22.0]
    before = x._version
    x.add_(1)
    assert x._version == before + 1
    i = gpujit.tensor([4, 6])
    i //= 2
    assert i.tolist() == [2, 3] and i.dtype is gpujit.int64
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        i /= 2
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += 1.5
    with pytest.raises(RuntimeError):
        gpujit.zeros(3).add_(gpujit.zeros(2, 3))          # the result would not fit self


# ------------------------------------------------------------------ views share memory

VIEWS = [
    ("view", lambda x: x.view(6, 4)), ("view_varargs", lambda x: x.view((3, 8))),
    ("reshape", lambda x: x.reshape(-1)), ("t", lambda x: x[0].t()),
    ("transpose", lambda x: x.transpose(0, 2)), ("permute", lambda x: x.permute(2, 0, 1)),
    ("expand", lambda x: x[:, :1].expand(2, 5, 4)), ("squeeze", lambda x: x[:, :1].squeeze(1)),
    ("unsqueeze", lambda x: x.unsqueeze(1)), ("flatten", lambda x: x.flatten(1)),
    ("narrow", lambda x: x.narrow(1, 1, 2)), ("select", lambda x: x.select(2, 3)),
    ("unfold", lambda x: x.unfold(2, 2, 1)), ("getitem", lambda x: x[1, ::2]),
    ("detach", lambda x: x.detach()), ("split", lambda x: x.split(1)[1]),
    ("chunk", lambda x: x.chunk(3, 1)[2]), ("unbind", lambda x: x.unbind(2)[0]),
    ("movedim", lambda x: x.movedim(0, -1)), ("swapaxes", lambda x: x.swapaxes(0, 1)),
    ("view_as", lambda x: x.view_as(gpujit.zeros(24))), ("T", lambda x: x[0].T),
    ("diag_select", lambda x: x[0, 1]),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_share_memory_and_write_through(name, fn):
    x = ar(2, 3, 4)
    v = fn(x)
    assert shares(v, x), f"{name} must be a view"
    if name not in ("expand", "unfold"):       # those two overlap: no write-through count
        v.fill_(-1)
        assert (arr(x) == -1).sum() == v.numel()


def test_non_views_copy():
    x = ar(3, 4)
    for y in (x.t().reshape(-1), x.flip(0), x.clone(), x.repeat(1, 1), x[gpujit.tensor([0, 1])],
              x[x > 2], x.contiguous().float().double(), gpujit.cat([x]), x.roll(1)):
        assert not shares(y, x)


def test_view_of_incompatible_layout_raises_and_points_to_reshape():
    x = ar(3, 4).t()
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*\.reshape\("):
        x.view(12)
    assert np.array_equal(arr(x.reshape(12)), arr(x).reshape(12))
    assert x.view(4, 3).shape == (4, 3)          # same shape: still a valid view
    with pytest.raises(RuntimeError, match="invalid for input of size 12"):
        ar(3, 4).view(5, -1)


def test_varargs_methods():
    x = ar(2, 3)
    assert x.view(3, 2).shape == (3, 2) and x.view([6]).shape == (6,)
    assert x.reshape(3, -1).shape == (3, 2) and x.permute(1, 0).shape == (3, 2)
    assert x[:1].expand(4, -1).shape == (4, 3) and x.repeat(2, 3).shape == (4, 9)
    assert x.tile(2).shape == (2, 6) and x.flip(0).tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    assert x.flip(0, 1).tolist()[0] == [5.0, 4.0, 3.0]


def test_sort_and_split_return_torch_types():
    x = gpujit.tensor([3.0, 1.0, 2.0])
    r = x.sort()
    assert r.values.tolist() == [1.0, 2.0, 3.0] and r.indices.tolist() == [1, 2, 0]
    v, i = gpujit.topk(x, 2)
    assert v.tolist() == [3.0, 2.0] and i.tolist() == [0, 2]
    assert isinstance(gpujit.split(x, 2), tuple) and isinstance(x.chunk(2), tuple)
    assert isinstance(x.unbind(), tuple)
    assert [t.tolist() for t in gpujit.split(x, [1, 2])] == [[3.0], [1.0, 2.0]]
    assert [t.tolist() for t in x.nonzero(as_tuple=True)] == [[0, 1, 2]]
    assert gpujit.nonzero(gpujit.tensor([0, 5])).tolist() == [[1]]


def test_topk_results_are_c_contiguous():
    """topk's values and indices are C-contiguous as torch's (the indices were a slice of
    the argsort, so i.view(-1) raised)."""
    x = gpujit.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32))
    for t in (x, x.permute(1, 2, 0)):
        for d in range(3):
            v, i = t.topk(2, d)
            assert v.is_contiguous() and i.is_contiguous()
            assert i.view(-1).shape == (i.numel(),)
            np.testing.assert_array_equal(np.take_along_axis(t.numpy(), i.numpy(), d),
                                          v.numpy())


# ------------------------------------------------------------------ creation and dtypes

def test_tensor_infers_dtypes_like_torch():
    assert gpujit.tensor([1, 2]).dtype is gpujit.int64
    assert gpujit.tensor([1.0]).dtype is gpujit.float32
    assert gpujit.tensor([1, 2.0]).dtype is gpujit.float32
    assert gpujit.tensor([True]).dtype is gpujit.bool
    assert gpujit.tensor([True, 2]).dtype is gpujit.int64
    assert gpujit.tensor([]).dtype is gpujit.float32 and gpujit.tensor([]).shape == (0,)
    assert gpujit.tensor(3).shape == () and gpujit.tensor(3).dtype is gpujit.int64
    assert gpujit.tensor(np.zeros(2)).dtype is gpujit.float64      # NumPy dtype kept
    assert gpujit.tensor(np.zeros(2, np.int32)).dtype is gpujit.int32
    assert gpujit.tensor([[1, 2], [3, 4]], dtype=gpujit.float16).dtype is gpujit.float16
    assert gpujit.tensor([gpujit.tensor(1.0), gpujit.tensor(2.0)]).tolist() == [1.0, 2.0]
    n = np.ones(3, np.float32)
    t = gpujit.tensor(n)
    assert not np.shares_memory(arr(t), n)                       # tensor() copies
    assert np.shares_memory(arr(gpujit.as_tensor(n)), n)         # as_tensor shares
    with pytest.raises(ValueError):
        gpujit.tensor([[1, 2], [3]])


def test_default_dtype():
    assert gpujit.get_default_dtype() is gpujit.float32
    try:
        gpujit.set_default_dtype(gpujit.float64)
        assert gpujit.get_default_dtype() is gpujit.float64
        assert gpujit.tensor([1.0]).dtype is gpujit.float64
        assert gpujit.zeros(2).dtype is gpujit.float64 and gpujit.arange(0.0, 1.0).dtype \
            is gpujit.float64
        assert (gpujit.tensor([1]) / 2).dtype is gpujit.float64
        assert (gpujit.tensor([1]) + 0.5).dtype is gpujit.float64
    finally:
        gpujit.set_default_dtype(gpujit.float32)
    assert gpujit.tensor([1.0]).dtype is gpujit.float32
    with pytest.raises(TypeError, match="floating-point"):
        gpujit.set_default_dtype(gpujit.int64)


def test_factories_take_varargs_and_keywords():
    assert gpujit.zeros(2, 3).shape == gpujit.zeros((2, 3)).shape == gpujit.zeros([2, 3]).shape
    assert gpujit.ones(2, dtype=gpujit.int32).dtype is gpujit.int32
    assert gpujit.full((2,), 7).dtype is gpujit.int64 and gpujit.full((2,), 7.0).dtype \
        is gpujit.float32
    assert gpujit.arange(5).dtype is gpujit.int64 and gpujit.arange(5.0).dtype is gpujit.float32
    assert gpujit.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    x = ar(2, 2)
    assert x.new_zeros(3).dtype is gpujit.float32 and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_full((2,), 3.0).tolist() == [3.0, 3.0] and x.new_tensor([1]).dtype \
        is gpujit.float32


# ------------------------------------------------------------------ devices

def test_mixing_devices_names_both():
    x = gpujit.ones(3)
    fake = registry.wrap(np.ones(3, np.float32), gpujit.float32, gpujit.device("cuda", 0))
    with pytest.raises(RuntimeError, match="cpu and cuda:0"):
        x + fake
    with pytest.raises(RuntimeError, match="cpu and cuda:0"):
        gpujit.cat([x, fake])
    with pytest.raises(RuntimeError, match="cuda:0 and cpu"):
        fake * x


@pytest.mark.cuda
def test_cuda_tensor_round_trip():
    if not gpujit.cuda.is_available():
        pytest.skip("no CUDA GPU")
    x = ar(2, 3)
    c = x.cuda()
    assert c.device == gpujit.device("cuda", 0) and c.is_cuda
    assert c.to("cpu").tolist() == x.tolist() and c.cpu().device == gpujit.device("cpu")
    with pytest.raises(TypeError, match="cpu"):
        c.numpy()
    with pytest.raises(RuntimeError, match="cuda:0 and cpu|cpu and cuda:0"):
        c + x
    assert (c + gpujit.tensor(1.0)).device == c.device        # 0-dim CPU tensors may join
    v = c.view(3, 2)
    v.fill_(1)
    assert c.cpu().tolist() == [[1.0] * 3] * 2


@pytest.mark.cuda
def test_copy_across_devices():
    """x_cpu.copy_(x_cuda) and back, as torch allows."""
    a = gpujit.zeros(2, 3)
    g = gpujit.arange(6.0).reshape(2, 3).cuda()
    a.copy_(g)
    assert a.device.type == "cpu" and a.tolist() == g.cpu().tolist()
    h = gpujit.zeros(2, 3, device="cuda")
    h.copy_(gpujit.ones(2, 3))
    assert h.device.type == "cuda" and h.cpu().tolist() == [[1.0] * 3] * 2


def test_resize_in_place_as_torch():
    """The torch.jit page's `torch.tensor([...]).resize_(1, 3, 1, 1)`: the same number of
    elements keeps the values; more keeps the old ones first; the tensor object stays."""
    t = gpujit.tensor([103.939, 116.779, 123.68])
    r = t.resize_(1, 3, 1, 1)
    assert r is t and t.shape == (1, 3, 1, 1) and t.is_contiguous()
    np.testing.assert_allclose(t.numpy().ravel(), [103.939, 116.779, 123.68], rtol=1e-6)
    p = gpujit.nn.Parameter(gpujit.tensor([1.0, 2.0, 3.0]).resize_([1, 3, 1, 1]))
    assert p.shape == (1, 3, 1, 1) and p.requires_grad
    g = gpujit.arange(6).reshape(2, 3).t()       # not contiguous: memory order, as torch
    g.resize_(6)
    assert g.tolist() == [0, 1, 2, 3, 4, 5]
    u = gpujit.arange(4.0)
    v = u.resize_(2, 3)
    assert v.shape == (2, 3) and v.reshape(-1)[:4].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert gpujit.zeros(2, 2).resize_as_(gpujit.ones(4)).shape == (4,)
    with pytest.raises(RuntimeError, match="require grad"):
        gpujit.zeros(3, requires_grad=True).resize_(4)
    with pytest.raises(RuntimeError, match="negative dimension"):
        gpujit.zeros(3).resize_(-1)


def _check_writes_through_expand(device):
    x = gpujit.ones(1, 4, device=device)
    y = x.expand(3, 4)
    for write in (lambda: y.add_(1), lambda: y.relu_(), lambda: y.mul_(y),
                  lambda: y.copy_(gpujit.rand(3, 4, device=device))):
        with pytest.raises(RuntimeError, match="more than one element of the written-to "
                           "tensor refers to a single memory location"):
            write()
    assert x.tolist() == [[1.0] * 4]               # nothing was written
    y.fill_(2)                                     # PyTorch writes these through
    assert x.tolist() == [[2.0] * 4]
    y[0] = 5
    assert x.tolist() == [[5.0] * 4]
    y[1].add_(1)                                   # a row of it has no overlap
    assert x.tolist() == [[6.0] * 4]
    y.zero_()
    assert x.tolist() == [[0.0] * 4]
    assert gpujit.ones(1, 0, device=device).expand(3, 0).add_(1).shape == (3, 0)
    z = gpujit.ones(2, 1, device=device).expand(2, 3)
    z[:, 0].copy_(gpujit.tensor([7.0, 8.0], device=device))
    assert z.tolist() == [[7.0] * 3, [8.0] * 3]


def test_in_place_writes_to_expanded_tensors_follow_pytorch():
    """In-place ops on a tensor whose elements share memory (expand) raise PyTorch's
    error (NumPy's 'assignment destination is read-only' leaked out); fill_, zero_ and
    writes to parts without overlap go through to the memory, as in PyTorch."""
    _check_writes_through_expand("cpu")


@pytest.mark.cuda
def test_in_place_writes_to_expanded_tensors_on_cuda():
    _check_writes_through_expand("cuda")


def test_copies_of_expanded_tensors_are_c_ordered_as_pytorch():
    """A cast or clone of an expanded tensor is C-contiguous, as PyTorch's (NumPy's 'K'
    order laid an expanded row out transposed: strides (1, 3))."""
    a = gpujit.arange(12).reshape(3, 4)[:1].expand(3, 4)
    for r, k in ((a.to(gpujit.int8), 1), (a.clone(), 1), (a.float(), 1),
                 (a + a.to(gpujit.int8), 2)):
        assert r.stride() == (4, 1) and r.is_contiguous()
        assert r.view(-1).tolist() == [0, k, 2 * k, 3 * k] * 3
    t = gpujit.rand(3, 1).t().expand(5, 3)
    assert t.double().stride() == (3, 1)
    x = gpujit.rand(3, 4).t()                   # dense: the copy keeps its layout
    assert x.clone().stride() == (1, 4) and x.double().stride() == (1, 4)


def test_new_empty():
    # new_empty looked up 'aten::empty', which the registry names aten::empty.memory_format
    x = gpujit.ones(2, dtype=gpujit.float64)
    e = x.new_empty(3, 4)
    assert tuple(e.shape) == (3, 4) and e.dtype is gpujit.float64
    assert tuple(x.new_empty((2, 5)).shape) == (2, 5)


@pytest.mark.parametrize("value, dtype, fits", [
    (1e10, gpujit.float16, False), (float("inf"), gpujit.float16, True),
    (float("nan"), gpujit.float16, True), (300, gpujit.uint8, False), (-1, gpujit.uint8, True),
    (-256, gpujit.uint8, False), (-129, gpujit.int8, False), (2 ** 63, gpujit.int64, False),
    (float("inf"), gpujit.int32, False), (1e39, gpujit.float32, False),
    (3.4e38, gpujit.float32, True)])
def test_fill_values_that_overflow_the_dtype_raise_as_pytorch(value, dtype, fits):
    """c10's checked conversion: fill_/full/full_like of a value the dtype cannot hold
    raise (they filled inf or wrapped: full((2,), 300, dtype=uint8) gave 44); inf/NaN go
    into floating types and -1 into unsigned ones (all ones), as in PyTorch."""
    for make in (lambda: gpujit.full((2,), value, dtype=dtype),
                 lambda: gpujit.zeros(2, dtype=dtype).fill_(value),
                 lambda: gpujit.full_like(gpujit.zeros(2, dtype=dtype), value)):
        if fits:
            make()
        else:
            with pytest.raises(RuntimeError, match="value cannot be converted to type .* "
                               "without overflow"):
                make()


def test_torch_top_level_inplace_functions():
    """torch.relu_(x), torch.clamp_(x, ...), torch.zero_(x)...: torch's top-level in-place
    functions are the Tensor methods (they were missing); torch has no torch.add_."""
    x = gpujit.tensor([-1.0, 2.0, 0.25])
    assert gpujit.relu_(x) is x and x.tolist() == [0.0, 2.0, 0.25]
    gpujit.clamp_(x, max=1.0)
    gpujit.sqrt_(x)
    assert x.tolist() == [0.0, 1.0, 0.5]
    gpujit.zero_(x)
    assert x.tolist() == [0.0, 0.0, 0.0]
    assert not hasattr(gpujit, "add_")
