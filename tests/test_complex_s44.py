"""Complex dtypes, part 1 (session 44): complex64 / complex128 tensors, their promotion,
creation, conversion, printing and save/load, and the refusal of every op that has not
opted in to them (ops/complex_support.py). Compared with NumPy everywhere and with PyTorch
where it is installed."""
from __future__ import annotations

import math
from typing import List
import pickle
import warnings

import numpy as np
import pytest

import gpujit


def _torch():
    return pytest.importorskip("torch")


def _warns_real_part(fn):
    """fn() with PyTorch's complex -> real warning recorded: (result, [messages])."""
    was = gpujit.is_warn_always_enabled()
    gpujit.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = fn()
    finally:
        gpujit.set_warn_always(was)
    return r, [(x.category, str(x.message), x.filename) for x in w]


# ---------------------------------------------------------------- dtypes and promotion

def test_dtypes_and_their_facts():
    g = gpujit
    assert g.cfloat is g.complex64 and g.cdouble is g.complex128
    assert g.complex64.is_complex and not g.complex64.is_floating_point
    assert g.complex64.to_real() is g.float32 and g.complex128.to_real() is g.float64
    assert g.float32.to_complex() is g.complex64
    assert g.complex64.itemsize == 8 and g.complex128.itemsize == 16
    assert g.complex64 not in g.dtypes.ALL         # every op refuses it until it opts in
    assert g.finfo(g.complex64).dtype == "float32" and g.finfo(g.complex128).eps == \
        np.finfo(np.float64).eps
    assert g.dtypes.to_dtype("torch.complex64") is g.complex64
    assert g.dtypes.scalar_type_arg(9) is g.complex64 and g.dtypes.scalar_type_code(
        g.complex128) == 10
    with pytest.raises(TypeError, match="no complex32 tensors .*NumPy has no complex32"):
        g.zeros(2, dtype=g.chalf)
    with pytest.raises(TypeError, match="only floating-point types are supported"):
        g.set_default_dtype(g.complex64)


def test_promotion_as_torch():
    g = gpujit
    pt = [(g.complex64, g.float64, g.complex128), (g.complex128, g.float32, g.complex128),
          (g.int8, g.complex64, g.complex64), (g.bool, g.complex128, g.complex128),
          (g.complex64, g.float16, g.complex64), (g.complex64, g.complex128, g.complex128)]
    for a, b, r in pt:
        assert g.promote_types(a, b) is r and g.promote_types(b, a) is r
    f32, f64, i32 = g.ones(2), g.ones(2, dtype=g.float64), g.ones(2, dtype=g.int32)
    assert g.result_type(f32, 1j) is g.complex64          # a Python complex: category only
    assert g.result_type(f64, 1j) is g.complex128
    assert g.result_type(i32, 1j) is g.complex64
    c128_0d = g.tensor(1j, dtype=g.complex128)
    assert g.result_type(f32, c128_0d) is g.complex64     # a 0-dim one keeps the float's width
    assert g.result_type(i32, c128_0d) is g.complex128
    assert g.result_type(g.tensor([1j]), 1.5) is g.complex64
    assert not g.can_cast(g.complex64, g.float64) and g.can_cast(g.float64, g.complex64)
    with pytest.raises(TypeError, match="complex32"):
        g.result_type(g.ones(2, dtype=g.float16), 1j)
    g.set_default_dtype(g.float64)
    try:
        assert g.tensor([1j]).dtype is g.complex128 and g.result_type(i32, 1j) is g.complex128
    finally:
        g.set_default_dtype(g.float32)
    torch = _torch()
    for a, b, r in pt:
        assert str(torch.promote_types(getattr(torch, a.name), getattr(torch, b.name))) == \
            "torch." + r.name


# ---------------------------------------------------------------- creation and conversion

def test_tensor_from_python_and_numpy():
    x = gpujit.tensor([1 + 2j, 3])
    assert x.dtype is gpujit.complex64 and x.is_complex() and not x.is_floating_point()
    assert gpujit.is_complex(x) and x.element_size() == 8
    np.testing.assert_array_equal(x.numpy(), np.array([1 + 2j, 3], np.complex64))
    a = np.array([[1 + 1j, -2j]], np.complex128)
    y = gpujit.from_numpy(a)
    assert y.dtype is gpujit.complex128 and np.shares_memory(y.numpy(), a)
    assert gpujit.as_tensor(a.astype(np.complex64)).dtype is gpujit.complex64
    assert gpujit.tensor([1, 2], dtype=gpujit.cdouble).numpy().tolist() == [1 + 0j, 2 + 0j]
    assert gpujit.tensor([np.complex64(1j), 2]).dtype is gpujit.complex64
    assert x.tolist() == [1 + 2j, 3 + 0j]
    with pytest.raises(TypeError, match="must be real number, not complex"):
        gpujit.tensor([1.5, 1j], dtype=gpujit.float64)
    with pytest.raises(TypeError, match="'complex' object cannot be interpreted as an integer"):
        gpujit.tensor([1j], dtype=gpujit.int64)
    assert gpujit.tensor([0j, 1j], dtype=gpujit.bool).tolist() == [False, True]


def test_factories():
    g = gpujit
    for dt in (g.complex64, g.complex128):
        assert g.zeros(2, dtype=dt).numpy().dtype == dt.np and \
            g.ones(3, dtype=dt).numpy().tolist() == [1 + 0j] * 3
        assert g.empty(2, 3, dtype=dt).shape == (2, 3)
    assert g.full((2,), 1 + 1j).dtype is g.complex64           # the default complex dtype
    assert g.full((2,), 2.0, dtype=g.cfloat).numpy().tolist() == [2 + 0j, 2 + 0j]
    assert g.zeros(2, dtype=g.complex64).fill_(1 + 2j).numpy().tolist() == [1 + 2j] * 2
    assert g.zeros_like(g.tensor([1j])).dtype is g.complex64
    assert g.ones_like(g.tensor([1j]), dtype=g.float32).dtype is g.float32
    assert g.scalar_tensor(1 + 2j, dtype=g.complex64).item() == 1 + 2j
    with pytest.raises(RuntimeError, match="value cannot be converted to type float without "
                                           "overflow"):
        g.zeros(2).fill_(1 + 2j)
    with pytest.raises(RuntimeError, match="value cannot be converted to type float"):
        g.scalar_tensor(1 + 2j)


def test_random_factories_draw_the_real_view_as_torch():
    """randn complex: the (…, 2) real view drawn as normal_(0, 1/sqrt(2)); rand: uniform_
    of it (ATen's normal_impl_ / uniform_impl_), bit for bit PyTorch's stream."""
    g = gpujit
    g.manual_seed(0)
    z = g.randn(20000, dtype=g.complex64).numpy()
    assert z.dtype == np.complex64
    assert abs(z.real.std() - 1 / math.sqrt(2)) < 0.02 and abs(z.imag.std() - 0.7071) < 0.02
    g.manual_seed(0)
    r = g.randn(20000, 2, dtype=g.float32).numpy().reshape(-1)
    g.manual_seed(0)
    r2 = g.normal(0.0, 1 / math.sqrt(2), (20000, 2)).numpy().reshape(-1)
    np.testing.assert_array_equal(z.view(np.float32), r2)
    assert not np.array_equal(z.view(np.float32), r)
    g.manual_seed(0)
    u = g.rand(5, dtype=g.complex128).numpy()
    g.manual_seed(0)
    np.testing.assert_array_equal(u.view(np.float64), g.rand(10, dtype=g.float64).numpy())
    torch = _torch()
    for n in (3, 20):
        for name in ("complex64", "complex128"):
            for f in ("randn", "rand"):
                torch.manual_seed(0)
                g.manual_seed(0)
                a = getattr(torch, f)(n, dtype=getattr(torch, name)).numpy()
                b = getattr(g, f)(n, dtype=getattr(g, name)).numpy()
                np.testing.assert_array_equal(a, b)
            torch.manual_seed(0)
            g.manual_seed(0)
            np.testing.assert_array_equal(
                torch.randn_like(torch.zeros(n, dtype=getattr(torch, name))).numpy(),
                g.randn_like(g.zeros(n, dtype=getattr(g, name))).numpy())


def test_conversions_and_the_discarded_imaginary_part():
    x = gpujit.tensor([1 + 2j, 3])
    r, w = _warns_real_part(lambda: x.to(gpujit.float32))
    assert r.dtype is gpujit.float32 and r.numpy().tolist() == [1.0, 3.0]
    assert w == [(UserWarning, "Casting complex values to real discards the imaginary part",
                  __file__)]
    r, w = _warns_real_part(lambda: x.to(gpujit.int64))
    assert r.numpy().tolist() == [1, 3] and len(w) == 1
    r, w = _warns_real_part(lambda: gpujit.zeros(2).copy_(x))
    assert r.numpy().tolist() == [1.0, 3.0] and len(w) == 1
    strided = gpujit.from_numpy(np.array([[1 + 2j, 3]], np.complex64).T)
    r, w = _warns_real_part(lambda: strided.double())
    assert r.numpy().tolist() == [[1.0], [3.0]] and len(w) == 1
    assert gpujit.tensor([0j, 1j]).to(gpujit.bool).numpy().tolist() == [False, True]
    assert gpujit.ones(2).cfloat().dtype is gpujit.complex64 and \
        gpujit.ones(2).cdouble().dtype is gpujit.complex128
    c = gpujit.zeros(2, dtype=gpujit.complex64).copy_(gpujit.ones(2))
    assert c.numpy().tolist() == [1 + 0j, 1 + 0j]
    assert x.type() == "torch.ComplexFloatTensor"
    assert x.type("torch.ComplexDoubleTensor").dtype is gpujit.complex128
    assert gpujit.ones(1).type("torch.ComplexFloatTensor").dtype is gpujit.complex64


def test_python_numbers_of_a_complex_tensor():
    assert gpujit.tensor(1 + 2j).item() == 1 + 2j and type(gpujit.tensor(1j).item()) is complex
    assert complex(gpujit.tensor(1 + 2j)) == 1 + 2j
    assert float(gpujit.tensor(2 + 0j)) == 2.0 and bool(gpujit.tensor(1j))
    with pytest.raises(RuntimeError, match="value cannot be converted to type double without "
                                           "overflow"):
        float(gpujit.tensor(1 + 2j))
    with pytest.raises(RuntimeError, match="to type int64_t without overflow"):
        int(gpujit.tensor(1 + 2j))
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [0, 1][gpujit.tensor(1 + 0j)]


# ---------------------------------------------------------------- printing

REPRS = [
    ("[1+2j, 3]", None, "tensor([1.+2.j, 3.+0.j])"),
    ("[1+2j]", "complex128", "tensor([1.+2.j], dtype=torch.complex128)"),
    ("[1.123456789+1e-5j, 1e5+2j, -3j]", None,
     "tensor([1.1235e+00+1.0000e-05j, 1.0000e+05+2.0000e+00j, -0.0000e+00-3.0000e+00j])"),
    ("[1e10+1j, 1e-10]", None, "tensor([1.0000e+10+1.j, 1.0000e-10+0.j])"),
    ("[1+2j, 3-4j, 100j]", None, "tensor([1.+2.j, 3.-4.j, 0.+100.j])"),
    ("[complex(float('nan'), 1), complex(1, float('inf'))]", None, "tensor([nan+1.j, 1.+infj])"),
    ("1+2j", None, "tensor(1.+2.j)"),
    ("-1.5-2j", None, "tensor(-1.5000-2.j)"),
    ("[[1+2j, 3], [4j, -5.5]]", None,
     "tensor([[ 1.0000+2.j,  3.0000+0.j],\n        [ 0.0000+4.j, -5.5000+0.j]])"),
]


@pytest.mark.parametrize("data,dt,expected", REPRS)
def test_repr_as_torch(data, dt, expected):
    x = gpujit.tensor(eval(data), dtype=getattr(gpujit, dt) if dt else None)
    assert repr(x) == expected.replace("torch.", "gpujit.")
    assert str(x) == repr(x)


def test_repr_matches_torch_wide_and_summarized():
    torch = _torch()
    a = (np.arange(30) * 1.37 - 7).astype(np.float32) + 1j * (np.arange(30) % 7 - 3)
    for arr in (a, a.reshape(5, 6), np.tile(a, 50), a.astype(np.complex128)):
        assert repr(gpujit.from_numpy(arr.copy())) == \
            repr(torch.from_numpy(arr.copy())).replace("torch.", "gpujit.")
    gpujit.set_default_dtype(gpujit.float64)
    try:
        assert repr(gpujit.tensor([1j])) == "tensor([0.+1.j])"
        assert repr(gpujit.tensor([1j], dtype=gpujit.complex64)) == \
            "tensor([0.+1.j], dtype=gpujit.complex64)"
    finally:
        gpujit.set_default_dtype(gpujit.float32)


# ---------------------------------------------------------------- save / load

def test_save_load_round_trips(tmp_path):
    x = gpujit.tensor([[1 + 2j, 3], [4j, -1]])
    y = x.to(gpujit.complex128)
    p = tmp_path / "g.pt"
    gpujit.save({"a": x, "b": y}, p)
    d = gpujit.load(p)
    assert d["a"].dtype is gpujit.complex64 and d["b"].dtype is gpujit.complex128
    np.testing.assert_array_equal(d["a"].numpy(), x.numpy())
    np.testing.assert_array_equal(d["b"].numpy(), y.numpy())
    z = pickle.loads(pickle.dumps(x))
    np.testing.assert_array_equal(z.numpy(), x.numpy())
    torch = _torch()
    d = torch.load(p)
    assert d["a"].dtype == torch.complex64 and d["b"].dtype == torch.complex128
    np.testing.assert_array_equal(d["a"].numpy(), x.numpy())
    q = tmp_path / "t.pt"
    torch.save({"a": torch.tensor([1 + 2j, 3]),
                "b": torch.tensor([[1j, 2]], dtype=torch.complex128).t()}, q)
    d = gpujit.load(q)
    assert d["a"].dtype is gpujit.complex64 and d["b"].shape == (2, 1)
    assert d["b"].numpy().tolist() == [[1j], [2 + 0j]]


# ---------------------------------------------------------------- refusals

def test_ops_not_opted_in_refuse_complex_in_words():
    x = gpujit.tensor([1 + 2j, 3])
    for f in (lambda: x.sort(), lambda: gpujit.ones(2).softmax(0, dtype=gpujit.complex64),
              lambda: gpujit.clamp(gpujit.ones(2), min=1j), lambda: x.cummax(0),
              lambda: gpujit.nn.functional.relu(x)):
        with pytest.raises(NotImplementedError, match=r"not implemented for 'ComplexFloat': "
                                                      r"gpujit computes complex tensors in "
                                                      r"some ops only"):
            f()
    with pytest.raises(RuntimeError, match="not implemented for 'ComplexDouble'"):
        x.to(gpujit.complex128).argmax()
    # (a pointwise op whose promotion maps every dtype to a real one: refused, not computed
    # on the real parts)
    with pytest.raises(RuntimeError, match="\"float_power\" not implemented for "
                                           "'ComplexFloat'"):
        gpujit.float_power(x, x)


def test_autograd_refuses_complex_where_not_conjugate_aware():
    # (session 45: complex tensors require grad and the ops of ops/complex_autograd.py
    # record; an op whose derivative is not conjugate-aware yet refuses, never a wrong
    # gradient; tests/test_complex_s45.py compares the gradients with torch)
    z = gpujit.zeros(2, 2, dtype=gpujit.complex64, requires_grad=True)
    assert z.requires_grad and z.grad_fn is None
    # (session 46: geqrf is the one op refusing, as PyTorch refuses it)
    with pytest.raises(RuntimeError, match="geqrf does not support automatic "
                                           "differentiation for outputs with complex dtype"):
        gpujit.geqrf(z)
    w = gpujit.ones(2, requires_grad=True)
    assert type(w.to(gpujit.complex64).grad_fn).__name__ == "ToCopyBackward0"
    assert w.to(gpujit.float64).grad_fn is not None          # (real: recorded as before)


# ---------------------------------------------------------------- views and shape ops

def _c(rows):
    return np.array(rows, np.complex64)


X = [[1 + 2j, 3 - 1j, -2j], [4, 5 + 5j, 0.5j]]


def test_views_and_shape_ops_move_complex_elements():
    a = _c(X)
    x = gpujit.tensor(X)
    checks = [
        (x.reshape(3, 2), a.reshape(3, 2)), (x.view(-1), a.reshape(-1)), (x.t(), a.T),
        (x.permute(1, 0), a.T), (x.flatten(), a.reshape(-1)), (x.unsqueeze(0), a[None]),
        (x[1], a[1]), (x[:, 1:], a[:, 1:]), (x[0, 1], a[0, 1]), (x[[1, 0]], a[[1, 0]]),
        (x[x.real > 1], a[a.real > 1]), (gpujit.cat([x, x]), np.concatenate([a, a])),
        (gpujit.cat([x, gpujit.ones(1, 3)]), np.concatenate([a, np.ones((1, 3))])),
        (gpujit.stack([x[0], x[1]]), a), (x.t().contiguous(), a.T), (x.flip(1), a[:, ::-1]),
        (x.roll(1, 1), np.roll(a, 1, 1)), (x[0:1].expand(3, 3), np.repeat(a[:1], 3, 0)),
        (x.index_select(1, gpujit.tensor([2, 0])), a[:, [2, 0]]),
        (x.gather(1, gpujit.tensor([[0], [2]])), a[[[0], [1]], [[0], [2]]]),
        (x.diagonal(), np.diagonal(a)), (x.narrow(1, 1, 2), a[:, 1:]),
        (x.movedim(0, 1), a.T), (x[0].repeat(2), np.tile(a[0], 2)),
        (gpujit.tensor([0j, 1j, 1]).nonzero(), np.array([[1], [2]])),
    ]
    for got, want in checks:
        assert got.dtype is (gpujit.complex64 if want.dtype.kind == "c" else gpujit.int64)
        np.testing.assert_array_equal(got.numpy(), want)
    for part, want in zip(x.chunk(3, 1), np.split(a, 3, 1)):
        np.testing.assert_array_equal(part.numpy(), want)
    m = gpujit.tensor([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(x.masked_fill(m, 1j).numpy(), np.where(m.numpy(), 1j, a))
    np.testing.assert_array_equal(x.masked_fill(m, 2.5).numpy(), np.where(m.numpy(), 2.5, a))
    np.testing.assert_array_equal(gpujit.where(m, x, gpujit.zeros(2, 3)).numpy(),
                                  np.where(m.numpy(), a, 0))
    with pytest.raises(RuntimeError, match="value cannot be converted to type float without "
                                           "overflow"):
        gpujit.zeros(2, 3).masked_fill(m, 1j)


def test_setitem():
    y = gpujit.tensor(X)
    y[0, 0] = 7 + 1j
    y[1] = gpujit.tensor([1j, 2j, 3j])
    y[:, 2] = 5
    assert y.numpy().tolist() == [[7 + 1j, 3 - 1j, 5], [1j, 2j, 5]]
    z = gpujit.zeros(3, dtype=gpujit.complex64)
    z[1:] = gpujit.tensor([1.0, 2.0])
    z[gpujit.tensor([0])] = gpujit.tensor([3j])
    assert z.numpy().tolist() == [3j, 1, 2]
    with pytest.raises(RuntimeError, match="Index put requires the source and destination "
                                           "dtypes match, got ComplexFloat for the destination "
                                           "and Float for the source"):
        z[gpujit.tensor([0, 2])] = gpujit.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="value cannot be converted to type float without "
                                           "overflow"):
        gpujit.zeros(3)[0] = 1j


def test_real_and_imag_are_views():
    x = gpujit.tensor(X)
    a = _c(X)
    np.testing.assert_array_equal(x.real.numpy(), a.real)
    np.testing.assert_array_equal(x.imag.numpy(), a.imag)
    assert x.real.dtype is gpujit.float32 and x.real._base is x and x.imag._base is x
    assert x.real.stride() == (6, 2) and x.imag.storage_offset() == 1
    assert x.imag.data_ptr() - x.data_ptr() == 4
    y = x.clone()
    y.real[0] = 5
    y.imag[1, 1] = -9
    assert y.numpy().tolist() == [[5 + 2j, 5 - 1j, 5 - 2j], [4, 5 - 9j, 0.5j]]
    z = gpujit.zeros(2, dtype=gpujit.cfloat)
    z.real = gpujit.ones(2)                     # (the setters copy, as torch's)
    z.imag = gpujit.tensor([3., 4.])
    assert z.numpy().tolist() == [1 + 3j, 1 + 4j]
    assert gpujit.view_as_real_copy(z).numpy().tolist() == [[1, 3], [1, 4]]
    assert gpujit.view_as_complex_copy(gpujit.ones(2, 2)).is_contiguous()
    t = gpujit.ones(2)
    assert t.real is t and gpujit.real(t) is t
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                                           "non-complex dtypes"):
        t.imag


def test_view_as_real_and_view_as_complex():
    x = gpujit.tensor(X)
    r = gpujit.view_as_real(x)
    assert r.shape == (2, 3, 2) and r.stride() == (6, 2, 1) and r._base is x
    assert gpujit.view_as_real(x.t()).stride() == (2, 6, 1)
    np.testing.assert_array_equal(r.numpy(), _c(X).view(np.float32).reshape(2, 3, 2))
    c = gpujit.view_as_complex(gpujit.arange(8.).reshape(2, 2, 2))
    assert c.numpy().tolist() == [[1j, 2 + 3j], [4 + 5j, 6 + 7j]]
    a = gpujit.zeros(2, 2)
    gpujit.view_as_complex(a)[0] = 1 + 2j            # a view: writes reach a
    assert a.numpy().tolist() == [[1, 2], [0, 0]]
    s = gpujit.view_as_complex(gpujit.arange(12.).reshape(3, 4)[:, 2:])
    assert s.numpy().tolist() == [2 + 3j, 6 + 7j, 10 + 11j]
    assert gpujit.view_as_complex(gpujit.tensor([1., 2.])).item() == 1 + 2j
    back = gpujit.view_as_real(gpujit.view_as_complex(gpujit.arange(8.).reshape(4, 2))[1:3])
    assert back.numpy().tolist() == [[2, 3], [4, 5]]
    for bad, msg in (
            (gpujit.arange(9.).reshape(3, 3), "Tensor must have a last dimension of size 2"),
            (gpujit.arange(8.).reshape(2, 2, 2).transpose(0, 2),
             "Tensor must have a last dimension with stride 1"),
            (gpujit.arange(12.).as_strided((2, 2), (3, 1)),
             "Tensor must have a stride divisible by 2 for all but last dimension"),
            (gpujit.arange(12.)[1:5].reshape(2, 2),
             "Tensor must have a storage_offset divisible by 2"),
            (gpujit.arange(8).reshape(4, 2), "view_as_complex is only supported for half, "
                                             "float and double tensors, but got a tensor of "
                                             "scalar type: Long")):
        with pytest.raises(RuntimeError, match=msg):
            gpujit.view_as_complex(bad)
    with pytest.raises(RuntimeError, match="view_as_real is only supported for complex "
                                           "tensors"):
        gpujit.view_as_real(gpujit.ones(2))


def test_complex_polar_and_parts():
    inf = float("inf")
    c = gpujit.complex(gpujit.tensor([1., 2.]), gpujit.tensor([3., inf]))
    assert c.dtype is gpujit.complex64 and c.numpy().tolist() == [1 + 3j, complex(2, inf)]
    c = gpujit.complex(gpujit.tensor([[1.], [2.]], dtype=gpujit.float64),
                       gpujit.tensor([3., 4.], dtype=gpujit.float64))
    assert c.dtype is gpujit.complex128 and c.numpy().tolist() == [[1 + 3j, 1 + 4j],
                                                                   [2 + 3j, 2 + 4j]]
    with pytest.raises(RuntimeError, match="Expected object of scalar type Float but got "
                                           "scalar type Double for second argument"):
        gpujit.complex(gpujit.ones(1), gpujit.ones(1, dtype=gpujit.float64))
    with pytest.raises(RuntimeError, match="Expected both inputs to be Half, Float or Double "
                                           "tensors but got Long and Long"):
        gpujit.complex(gpujit.tensor([1]), gpujit.tensor([3]))
    r, th = np.array([1., 2., 0.5], np.float32), np.array([0., 1.5707, -2.], np.float32)
    p = gpujit.polar(gpujit.from_numpy(r), gpujit.from_numpy(th)).numpy()
    np.testing.assert_allclose(p, r * np.exp(1j * th.astype(np.float64)), rtol=1e-6, atol=1e-7)
    x = gpujit.tensor(X)
    a = _c(X)
    np.testing.assert_array_equal(x.conj().numpy(), a.conj())
    np.testing.assert_array_equal(gpujit.conj_physical(x).numpy(), a.conj())
    assert not x.conj().is_conj() and x.resolve_conj() is x    # (no conjugate bit)
    np.testing.assert_array_equal(x.mH.numpy(), a.conj().T)
    np.testing.assert_array_equal(x.adjoint().numpy(), a.conj().T)
    np.testing.assert_array_equal(x.H.numpy(), a.conj().T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # (the 0-dim deprecation warnings)
        assert gpujit.tensor(1 + 1j).mH.item() == 1 - 1j
        assert gpujit.tensor(1 + 1j).adjoint().item() == 1 - 1j
    np.testing.assert_allclose(x.angle().numpy(), np.angle(a), rtol=1e-6)
    assert x.angle().dtype is gpujit.float32 and x.abs().dtype is gpujit.float32
    np.testing.assert_allclose(x.abs().numpy(), np.abs(a), rtol=1e-6)
    assert x.to(gpujit.complex128).abs().dtype is gpujit.float64
    s = gpujit.tensor([0j, 3 + 4j, -2j]).sgn().numpy()
    assert s.tolist() == [0j, 0.6 + 0.8j, -1j] or np.allclose(s, [0, 0.6 + 0.8j, -1j])
    with pytest.raises(NotImplementedError, match="Unlike NumPy, torch.sign is not intended "
                                                  "to support complex numbers"):
        x.sign()
    y = x.clone()
    y.conj_physical_()
    np.testing.assert_array_equal(y.numpy(), a.conj())


def test_views_and_parts_match_torch():
    torch = _torch()
    xt = torch.tensor(X)
    xg = gpujit.tensor(X)
    for f in (lambda t, m: t.real, lambda t, m: t.imag, lambda t, m: m.view_as_real(t),
              lambda t, m: m.view_as_real(t.t()), lambda t, m: t.conj().resolve_conj(),
              lambda t, m: t.angle(), lambda t, m: t.abs(), lambda t, m: t.sgn(),
              lambda t, m: m.polar(t.abs(), t.angle()), lambda t, m: t.mH.resolve_conj(),
              lambda t, m: m.complex(t.real, t.imag), lambda t, m: t[t.real > 1],
              lambda t, m: m.cat([t, m.ones(1, 3)])):
        a, b = f(xt, torch), f(xg, gpujit)
        assert str(a.dtype).split(".")[1] == b.dtype.name and tuple(a.shape) == b.shape
        assert tuple(a.stride()) == b.stride()
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=2e-7, atol=0)
    assert repr(gpujit.view_as_real(xg)) == repr(torch.view_as_real(xt))


def _conj_twice(x):
    return x.conj() * 2


def _conj(x):
    return x.conj()


def test_scripted_conj_of_a_real_tensor_still_fuses_and_of_a_complex_one_conjugates():
    f = gpujit.jit.script(_conj_twice)
    for _ in range(3):
        f(gpujit.ones(3))
    assert not any(n.kind == "aten::conj" for n in f.graph_for(gpujit.ones(3)).walk())
    g = gpujit.jit.script(_conj)
    c = gpujit.tensor([1 + 2j, -1j])
    for _ in range(3):
        assert g(c).numpy().tolist() == [1 - 2j, 1j]
        assert g(gpujit.ones(2)).numpy().tolist() == [1, 1]


# ---------------------------------------------------------------- arithmetic and math

def _pair(dt=np.complex64, shape=(5, 7), seed=0):
    rng = np.random.default_rng(seed)
    r = np.float32 if dt == np.complex64 else np.float64
    mk = lambda: (rng.standard_normal(shape).astype(r)  # noqa: E731
                  + 1j * rng.standard_normal(shape).astype(r)).astype(dt)
    return mk(), mk()


MATH = {
    "add": (lambda m, x, y: x + y, lambda x, y: x + y),
    "sub": (lambda m, x, y: x - y, lambda x, y: x - y),
    "mul": (lambda m, x, y: x * y, lambda x, y: x * y),
    "div": (lambda m, x, y: x / y, lambda x, y: x / y),
    "rdiv": (lambda m, x, y: 1 / x, lambda x, y: 1 / x),
    "neg": (lambda m, x, y: -x, lambda x, y: -x),
    "pow2": (lambda m, x, y: x ** 2, lambda x, y: x * x),
    "pow_half": (lambda m, x, y: x ** 0.5, lambda x, y: np.sqrt(x)),
    "pow_c": (lambda m, x, y: x ** y, lambda x, y: x ** y),
    "reciprocal": (lambda m, x, y: x.reciprocal(), lambda x, y: 1 / x),
    "exp": (lambda m, x, y: x.exp(), np.exp), "log": (lambda m, x, y: x.log(), np.log),
    "sqrt": (lambda m, x, y: x.sqrt(), np.sqrt),
    "rsqrt": (lambda m, x, y: x.rsqrt(), lambda x, y: 1 / np.sqrt(x)),
    "sin": (lambda m, x, y: x.sin(), np.sin), "cos": (lambda m, x, y: x.cos(), np.cos),
    "tanh": (lambda m, x, y: x.tanh(), np.tanh),
    "sigmoid": (lambda m, x, y: x.sigmoid(), lambda x, y: 1 / (1 + np.exp(-x))),
    "mul_1j": (lambda m, x, y: x.real * 1j, lambda x, y: x.real * 1j),
    "exp_i_theta": (lambda m, x, y: m.exp(1j * x.real), lambda x, y: np.exp(1j * x.real)),
    "sum": (lambda m, x, y: x.sum(), lambda x, y: x.sum()),
    "sum0": (lambda m, x, y: x.sum(0), lambda x, y: x.sum(0)),
    "mean": (lambda m, x, y: x.mean(1), lambda x, y: x.mean(1)),
    "prod": (lambda m, x, y: x[:3].prod(0), lambda x, y: x[:3].prod(0)),
    "cumsum": (lambda m, x, y: x.cumsum(1), lambda x, y: x.cumsum(1)),
    "matmul": (lambda m, x, y: x @ y.t(), lambda x, y: x @ y.T),
    "bmm": (lambda m, x, y: m.bmm(x[None], y.t()[None]), lambda x, y: (x @ y.T)[None]),
    "einsum": (lambda m, x, y: m.einsum("ij,kj->ik", x, y), lambda x, y: x @ y.T),
    "outer": (lambda m, x, y: m.outer(x[0], y[0]), lambda x, y: np.outer(x[0], y[0])),
    "vdot": (lambda m, x, y: m.vdot(x[0], y[0]), lambda x, y: np.vdot(x[0], y[0])),
    "abs": (lambda m, x, y: x.abs(), lambda x, y: np.abs(x)),
}


@pytest.mark.parametrize("name", sorted(MATH))
@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
def test_math_against_numpy_and_torch(name, dt):
    f, ref = MATH[name]
    a, b = _pair(dt)
    got = f(gpujit, gpujit.from_numpy(a.copy()), gpujit.from_numpy(b.copy())).numpy()
    want = ref(a.astype(np.complex128), b.astype(np.complex128))
    assert got.dtype == (np.dtype(dt) if np.iscomplexobj(want) else np.dtype(dt).type(0).real.dtype)
    tol = 2e-5 if dt == np.complex64 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    torch = pytest.importorskip("torch")
    t = f(torch, torch.from_numpy(a.copy()), torch.from_numpy(b.copy())).numpy()
    assert t.dtype == got.dtype
    np.testing.assert_allclose(got, t, rtol=tol, atol=tol)


def test_python_complex_scalars_and_mixed_dtypes():
    f = gpujit.tensor([1., 2.])
    assert (f * 1j).dtype is gpujit.complex64 and (f * 1j).numpy().tolist() == [1j, 2j]
    assert (1j + f).numpy().tolist() == [1 + 1j, 2 + 1j]
    assert (f.double() * 1j).dtype is gpujit.complex128
    assert (gpujit.tensor([1, 2]) * 1j).dtype is gpujit.complex64
    x = gpujit.tensor([1 + 1j, 2])
    assert (x + gpujit.ones(2, dtype=gpujit.float64)).dtype is gpujit.complex128
    assert gpujit.add(x, x, alpha=2j).numpy().tolist() == [-1 + 3j, 2 + 4j]
    assert (1 / gpujit.tensor([4 + 0j])).numpy().view(np.float32).tolist() == [0.25, 0.0]
    assert math.copysign(1, gpujit.tensor([4 + 0j]).reciprocal().numpy()[0].imag) == 1
    assert x.clone().mul_(1j).numpy().tolist() == [-1 + 1j, 2j]
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the "
                                           "desired output type Float"):
        gpujit.ones(2).add_(x)
    with pytest.raises(RuntimeError, match="In-place abs is not supported for complex "
                                           "tensors"):
        x.clone().abs_()
    # (abs's out= takes the real dtype or the input's, as ATen's complex-to-float unary op)
    assert gpujit.abs(x, out=gpujit.empty(2)).numpy().tolist() == [np.float32(math.sqrt(2)), 2]
    assert gpujit.abs(x, out=gpujit.empty(2, dtype=gpujit.cfloat)).dtype is gpujit.complex64
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the "
                                           "desired output type Float"):
        gpujit.add(x, x, out=gpujit.empty(2))
    with pytest.raises(NotImplementedError, match="\"div_trunc_cpu\" not implemented for "
                                                  "'ComplexFloat'"):
        gpujit.div(x, x, rounding_mode="trunc")


def test_comparisons_and_predicates():
    nan, inf = float("nan"), float("inf")
    x = gpujit.tensor([1 + 2j, 3, complex(nan, 1), complex(0, -inf)])
    y = gpujit.tensor([1 + 2j, 3 + 1j, 0, 0])
    assert (x == y).numpy().tolist() == [True, False, False, False]
    assert (x != 3).numpy().tolist() == [True, False, True, True]
    assert x.isnan().numpy().tolist() == [False, False, True, False]
    assert x.isinf().numpy().tolist() == [False, False, False, True]
    assert x.isfinite().numpy().tolist() == [True, True, False, False]
    assert gpujit.tensor([1 + 0j, 1j]).isreal().numpy().tolist() == [True, False]
    assert gpujit.isclose(y[:2], y[:2] + 1e-7j).all() and gpujit.allclose(y, y + 1e-9j)
    assert gpujit.isclose(y, y + 1e-7j).numpy().tolist() == [True, True, False, False]
    assert not gpujit.allclose(y, y + 1e-3j)
    assert gpujit.isclose(x, x, equal_nan=True).numpy().tolist() == [True] * 4
    assert gpujit.equal(y, y.clone()) and not gpujit.equal(y, y.conj())
    gpujit.testing.assert_close(y, y + 1e-7j)
    with pytest.raises(AssertionError, match="Tensor-likes are not close"):
        gpujit.testing.assert_close(y, y + 1e-2j)
    for f, msg in ((lambda: x < y, '"lt_cpu" not implemented for \'ComplexFloat\''),
                   (lambda: x >= 1, '"ge_cpu" not implemented for \'ComplexFloat\''),
                   (lambda: x.max(), "not implemented for 'ComplexFloat'")):
        with pytest.raises(NotImplementedError, match=msg):
            f()


def test_reductions_with_dtype():
    x = gpujit.tensor([1 + 1j, 2])
    assert x.sum(dtype=gpujit.complex128).dtype is gpujit.complex128
    assert gpujit.ones(2, dtype=gpujit.int32).sum(dtype=gpujit.complex64).item() == 2
    assert gpujit.tensor([1j, 2]).mean(dtype=gpujit.complex128).item() == 1 + 0.5j
    r, w = _warns_real_part(lambda: x.sum(dtype=gpujit.float32))
    assert r.item() == 3.0 and len(w) == 1


def test_matmul_of_mixed_dtypes_refuses_as_torch():
    x, f = gpujit.tensor([[1 + 1j, 2]]), gpujit.ones(2, 1)
    with pytest.raises(RuntimeError, match=r"expected m1 and m2 to have the same dtype, but "
                                           r"got: c10::complex<float> != float"):
        x @ f
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype, "
                                           "but found ComplexFloat and Float"):
        gpujit.dot(x[0], f[:, 0])


# ---------------------------------------------------------------- programs: LLaMA's RoPE

def precompute_freqs_cis(dim: int, end: int, theta: float = 10000.0):
    freqs = 1.0 / (theta ** (gpujit.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = gpujit.arange(end, device=freqs.device)
    freqs = gpujit.outer(t, freqs).float()
    freqs_cis = gpujit.polar(gpujit.ones_like(freqs), freqs)
    return freqs_cis


def apply_rotary_emb(xq: gpujit.Tensor, xk: gpujit.Tensor, freqs_cis: gpujit.Tensor):
    shp: List[int] = xq.shape[:-1]
    xq_ = gpujit.view_as_complex(xq.float().reshape(shp + [-1, 2]))
    xk_ = gpujit.view_as_complex(xk.float().reshape(shp + [-1, 2]))
    freqs_cis = freqs_cis.view(1, xq.shape[1], 1, xq_.shape[-1])
    xq_out = gpujit.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = gpujit.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


def _rope_reference(x, dim, seqlen, theta=10000.0):
    """NumPy: pairs (x0, x1) rotated by angle t * theta ** (-2i / dim), in float64."""
    i = np.arange(0, dim, 2)[: dim // 2].astype(np.float32)
    freqs = (1.0 / (np.float32(theta) ** (i / np.float32(dim)))).astype(np.float64)
    ang = np.outer(np.arange(seqlen), freqs)
    c = x.astype(np.float64).reshape(*x.shape[:-1], -1, 2)
    z = (c[..., 0] + 1j * c[..., 1]) * np.exp(1j * ang)[None, :, None, :]
    return np.stack([z.real, z.imag], -1).reshape(x.shape)


def test_llama_rope_eager_scripted_and_traced():
    rng = np.random.default_rng(0)
    xq = rng.standard_normal((2, 5, 3, 8)).astype(np.float32)
    xk = rng.standard_normal((2, 5, 3, 8)).astype(np.float32)
    fc = precompute_freqs_cis(8, 10)[:5]
    assert fc.dtype is gpujit.complex64 and fc.shape == (5, 4)
    q, k = apply_rotary_emb(gpujit.from_numpy(xq), gpujit.from_numpy(xk), fc)
    assert q.dtype is gpujit.float32 and q.shape == (2, 5, 3, 8)
    np.testing.assert_allclose(q.numpy(), _rope_reference(xq, 8, 5), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(k.numpy(), _rope_reference(xk, 8, 5), rtol=1e-5, atol=1e-5)
    pf = gpujit.jit.script(precompute_freqs_cis)
    ar = gpujit.jit.script(apply_rotary_emb)
    for _ in range(3):
        fcs = pf(8, 10)[:5]
        qs, ks = ar(gpujit.from_numpy(xq), gpujit.from_numpy(xk), fcs)
    np.testing.assert_array_equal(fcs.numpy(), fc.numpy())
    np.testing.assert_array_equal(qs.numpy(), q.numpy())
    np.testing.assert_array_equal(ks.numpy(), k.numpy())
    g = str(ar.graph_for(gpujit.from_numpy(xq), gpujit.from_numpy(xk), fcs))
    assert "ComplexFloat(2, 5, 3, 4" in g and "aten::view_as_complex" in g
    tr = gpujit.jit.trace(apply_rotary_emb, (gpujit.from_numpy(xq), gpujit.from_numpy(xk), fc))
    np.testing.assert_array_equal(tr(gpujit.from_numpy(xq), gpujit.from_numpy(xk), fc)[0].numpy(),
                                  q.numpy())
    torch = pytest.importorskip("torch")
    t_fc = torch.polar(torch.ones(5, 4), torch.from_numpy(np.angle(fc.numpy())))
    tq = torch.view_as_real(torch.view_as_complex(torch.from_numpy(xq).reshape(2, 5, 3, 4, 2))
                            * t_fc.view(1, 5, 1, 4)).flatten(3)
    np.testing.assert_allclose(q.numpy(), tq.numpy(), rtol=1e-6, atol=1e-6)


def _complex_chain(x, y):
    return (x * y + x).exp() * 2 - y


def test_scripted_complex_chain_runs_unfused_and_after_a_real_specialization():
    from fusion_asserts import find_fusion_groups
    f = gpujit.jit.script(_complex_chain)
    a = gpujit.tensor([1 + 1j, 2 - 0.5j, -1j])
    b = gpujit.tensor([0.5j, 1, 2 + 2j])
    an, bn = a.numpy(), b.numpy()
    want = np.exp(an * bn + an) * 2 - bn
    for _ in range(3):
        np.testing.assert_allclose(f(a, b).numpy(), want, rtol=1e-6)
    assert find_fusion_groups(f.graph_for(a, b)) == []      # complex never fuses
    x = gpujit.ones(3)
    for _ in range(3):
        f(x, x)
    assert len(find_fusion_groups(f.graph_for(x, x))) == 1
    np.testing.assert_allclose(f(a, b).numpy(), want, rtol=1e-6)   # the guard falls back


def _complex_dtypes_in_script(x):
    y = x.to(gpujit.complex64) * 2
    z = gpujit.zeros(2, dtype=gpujit.cdouble)
    return y, y.dtype == gpujit.complex64, y.real, y.is_complex(), z, y.dtype


def test_complex_dtype_constants_in_script():
    f = gpujit.jit.script(_complex_dtypes_in_script)
    for _ in range(3):
        y, same, re, isc, z, dt = f(gpujit.ones(2))
    assert y.numpy().tolist() == [2, 2] and same and isc and z.dtype is gpujit.complex128
    assert re.dtype is gpujit.float32 and dt == 9
    assert "torch.to(x, 9)" in f.code and "dtype=10" in f.code


# ---------------------------------------------------------------- torch.fft

def _fft_inputs():
    rng = np.random.default_rng(1)
    xr = rng.standard_normal((4, 6, 5)).astype(np.float32)
    xc = (rng.standard_normal((4, 6, 5)) + 1j * rng.standard_normal((4, 6, 5))).astype(
        np.complex64)
    return xr, xc


_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _np_fft(name, x, kw):
    """NumPy's transform named as torch's (ihfft2/ihfftn and hfft2/hfftn from rfftn /
    irfftn), in double precision."""
    one = name[-1] not in "2n"
    nkw = {("axis" if one else "axes") if k == "dim" else k: v for k, v in kw.items()}
    x = x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
    base = name.rstrip("2n") if not one else name
    if not one and "axes" not in nkw:
        nkw["axes"] = (-2, -1) if name.endswith("2") else (
            tuple(range(-len(nkw["s"]), 0)) if "s" in nkw else None)
    if base == "ihfft":
        norm = _SWAP[nkw.pop("norm", None)]
        f = np.fft.rfft if one else np.fft.rfftn
        return np.conj(f(x, **nkw, norm=norm))
    if base == "hfft" and not one:
        return np.fft.irfftn(np.conj(x), **{**nkw, "norm": _SWAP[nkw.get("norm")]})
    return getattr(np.fft, name)(x, **nkw)


FFT_CASES = [(n, kw) for n in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
             for kw in ({}, {"n": 8}, {"dim": 0}, {"dim": 1, "norm": "ortho"},
                        {"norm": "forward", "n": 7, "dim": -2})] + \
    [(n, kw) for n in ("fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2", "fftn", "ifftn",
                       "rfftn", "irfftn", "hfftn", "ihfftn")
     for kw in ({}, {"s": (3, 8)}, {"dim": (2, 0), "norm": "ortho"}, {"norm": "forward"})]


@pytest.mark.parametrize("name,kw", FFT_CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                    enumerate(FFT_CASES)])
def test_fft_against_numpy_and_torch(name, kw):
    xr, xc = _fft_inputs()
    real_only = name.startswith(("rfft", "ihfft"))
    for x in ((xr,) if real_only else (xr, xc)):
        got = getattr(gpujit.fft, name)(gpujit.from_numpy(x.copy()), **kw)
        want = _np_fft(name, x, kw)
        c2r = name.startswith(("irfft", "hfft"))
        assert got.dtype is (gpujit.float32 if c2r else gpujit.complex64)
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want, rtol=2e-5,
                                   atol=2e-5 * max(1.0, np.abs(want).max()))
        torch = pytest.importorskip("torch")
        t = getattr(torch.fft, name)(torch.from_numpy(x.copy()), **kw).resolve_conj()
        assert tuple(t.stride()) == got.stride()
        np.testing.assert_allclose(got.numpy(), t.numpy(), rtol=2e-6,
                                   atol=2e-6 * max(1.0, np.abs(want).max()))


def test_fft_dtypes_and_errors():
    assert gpujit.fft.fft(gpujit.arange(3)).dtype is gpujit.complex64
    assert gpujit.fft.fft(gpujit.ones(3, dtype=gpujit.float64)).dtype is gpujit.complex128
    assert gpujit.fft.irfft(gpujit.ones(3, dtype=gpujit.complex128)).dtype is gpujit.float64
    assert gpujit.fft.fftn(gpujit.ones(3), dim=[]).numpy().tolist() == [1, 1, 1]
    # hfft of a complex input conjugates it (numpy.fft.hfft)
    h = gpujit.fft.hfft(gpujit.tensor([1 + 1j, 2 - 1j, 3])).numpy()
    np.testing.assert_allclose(h, np.fft.hfft(np.array([1 + 1j, 2 - 1j, 3])), atol=1e-5)
    for f, msg in ((lambda: gpujit.fft.rfft(gpujit.ones(3, dtype=gpujit.cfloat)),
                    "rfft expects a real input tensor, but got ComplexFloat"),
                   (lambda: gpujit.fft.rfft2(gpujit.ones(2, 2, dtype=gpujit.cfloat)),
                    "rfftn expects a real-valued input tensor, but got ComplexFloat"),
                   (lambda: gpujit.fft.ihfftn(gpujit.ones(2, 2, dtype=gpujit.cfloat)),
                    "Only supports floating-point dtypes, but found: ComplexFloat"),
                   (lambda: gpujit.fft.fft(gpujit.ones(3, dtype=gpujit.half)),
                    "Unsupported dtype Half"),
                   (lambda: gpujit.fft.fft(gpujit.ones(3), norm="bad"),
                    'Invalid normalization mode: "bad"'),
                   (lambda: gpujit.fft.fft(gpujit.ones(3), n=0),
                    r"Invalid number of data points \(0\) specified")):
        with pytest.raises(RuntimeError, match=msg):
            f()
    w = gpujit.ones(4, requires_grad=True)
    # (session 45: recorded, torch's node; gradients in tests/test_complex_s45.py)
    assert type(gpujit.fft.fft(w).grad_fn).__name__ == "FftR2CBackward0"


# ---------------------------------------------------------------- stft / istft / Whisper

def _np_stft(x, n_fft, hop, window):
    """NumPy's reference: reflect-pad n_fft // 2, frames every hop, windowed, rfft."""
    p = np.pad(x.astype(np.float64), n_fft // 2, mode="reflect")
    n = 1 + (len(p) - n_fft) // hop
    frames = np.stack([p[i * hop: i * hop + n_fft] for i in range(n)]) * window
    return np.fft.rfft(frames, axis=-1).T


def test_stft_complex_and_istft_round_trip():
    rng = np.random.default_rng(3)
    a = rng.standard_normal(1000).astype(np.float32)
    w = gpujit.hann_window(64)
    s = gpujit.stft(gpujit.from_numpy(a), 64, 16, window=w, return_complex=True)
    assert s.dtype is gpujit.complex64 and s.shape == (33, 63) and s.stride() == (1, 33)
    np.testing.assert_allclose(s.numpy(), _np_stft(a, 64, 16, w.numpy().astype(np.float64)),
                               rtol=1e-4, atol=1e-4)
    r = gpujit.stft(gpujit.from_numpy(a), 64, 16, window=w, return_complex=False)
    np.testing.assert_array_equal(gpujit.view_as_real(s).numpy(), r.numpy())
    y = gpujit.istft(s, 64, 16, window=w)
    assert y.shape == (992,) and y.dtype is gpujit.float32
    np.testing.assert_allclose(y.numpy(), a[:992], rtol=1e-4, atol=1e-5)
    y = s.istft(64, 16, window=w, length=1000)
    np.testing.assert_allclose(y.numpy(), a, rtol=1e-4, atol=1e-5)
    two = gpujit.stft(gpujit.from_numpy(a), 64, 16, window=w, return_complex=True,
                      onesided=False)
    np.testing.assert_allclose(gpujit.istft(two, 64, 16, window=w).numpy(), a[:992],
                               rtol=1e-4, atol=1e-5)
    c = gpujit.from_numpy(a).to(gpujit.cfloat) * (1 + 0.5j)
    sc = gpujit.stft(c, 64, 16, window=w, return_complex=True)
    assert sc.shape == (64, 63)
    yc = gpujit.istft(sc, 64, 16, window=w, return_complex=True)
    np.testing.assert_allclose(yc.numpy(), (a[:992] * (1 + 0.5j)), rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="Cannot have onesided output if window or input "
                                           "is complex"):
        gpujit.stft(c, 64, 16, window=w, return_complex=True, onesided=True)
    with pytest.raises(RuntimeError, match="istft requires a complex-valued input tensor"):
        gpujit.istft(gpujit.ones(33, 10), 64)
    bad = gpujit.stft(gpujit.from_numpy(a), 64, 16, window=w, return_complex=True,
                      center=False)
    with pytest.raises(RuntimeError, match=r"istft\(CPUComplexFloatType\[33, 59\], n_fft=64, "
                                           r"hop_length=16, .*window overlap add min: 1"):
        gpujit.istft(bad, 64, 16, window=w, center=False)
    x = gpujit.from_numpy(a).requires_grad_()
    # (session 45: differentiable; |stft|^2's gradient: tests/test_complex_s45.py)
    assert gpujit.stft(x, 64, 16, window=w, return_complex=True).requires_grad


def test_stft_and_istft_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 900)).astype(np.float32)
    for kw in ({}, {"normalized": True, "center": False}, {"win_length": 48}):
        wl = kw.get("win_length", 64)
        args = dict(n_fft=64, hop_length=16, return_complex=True, **kw)
        t = torch.stft(torch.from_numpy(a), window=torch.hann_window(wl), **args)
        g = gpujit.stft(gpujit.from_numpy(a), window=gpujit.hann_window(wl), **args)
        assert tuple(t.shape) == g.shape and tuple(t.stride()) == g.stride()
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-5, atol=2e-5)
        if kw.get("center", True):
            ikw = {k: v for k, v in kw.items() if k != "center"}
            ti = torch.istft(t, 64, 16, window=torch.hann_window(wl), **ikw)
            gi = gpujit.istft(g, 64, 16, window=gpujit.hann_window(wl), **ikw)
            np.testing.assert_allclose(gi.numpy(), ti.numpy(), rtol=1e-5, atol=1e-5)


def _log_mel_spectrogram(m, audio, filters):
    """openai/whisper's whisper/audio.py log_mel_spectrogram (N_FFT 400, HOP_LENGTH 160),
    its mel filters given."""
    audio = m.nn.functional.pad(audio, (0, 480))
    window = m.hann_window(400).to(audio.device)
    stft = m.stft(audio, 400, 160, window=window, return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    mel_spec = filters @ magnitudes
    log_spec = m.clamp(mel_spec, min=1e-10).log10()
    log_spec = m.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def test_whisper_log_mel_spectrogram():
    rng = np.random.default_rng(5)
    audio = (rng.standard_normal(16000) * 0.1).astype(np.float32)
    filters = (np.abs(rng.standard_normal((80, 201))) * 0.01).astype(np.float32)
    g = _log_mel_spectrogram(gpujit, gpujit.from_numpy(audio), gpujit.from_numpy(filters))
    assert g.shape == (80, 103) and g.dtype is gpujit.float32
    spec = _np_stft(np.pad(audio, (0, 480)), 400, 160,
                    gpujit.hann_window(400).numpy().astype(np.float64))
    mel = filters.astype(np.float64) @ (np.abs(spec[..., :-1]) ** 2)
    ref = np.log10(np.maximum(mel, 1e-10))
    ref = (np.maximum(ref, ref.max() - 8.0) + 4.0) / 4.0
    np.testing.assert_allclose(g.numpy(), ref, rtol=1e-5, atol=1e-5)
    torch = pytest.importorskip("torch")
    t = _log_mel_spectrogram(torch, torch.from_numpy(audio), torch.from_numpy(filters))
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- CUDA (CuPy) paths

@pytest.mark.cuda
def test_complex_on_cuda_matches_the_cpu():
    rng = np.random.default_rng(6)
    a = (rng.standard_normal((4, 6)) + 1j * rng.standard_normal((4, 6))).astype(np.complex64)
    c, g = gpujit.from_numpy(a.copy()), gpujit.from_numpy(a.copy()).to("cuda")
    fs = [lambda x: x * x.conj() + 1j, lambda x: x.abs(), lambda x: x.angle(),
          lambda x: x.sgn(), lambda x: x.real.clone(), lambda x: x.imag.clone(),
          lambda x: gpujit.view_as_real(x).clone(), lambda x: x.exp().sum(0),
          lambda x: x @ x.mH, lambda x: gpujit.fft.fft(x), lambda x: gpujit.fft.irfft(x),
          lambda x: gpujit.fft.rfft2(x.real), lambda x: x.masked_fill(x.real > 0, 2j),
          lambda x: gpujit.polar(x.abs(), x.angle()), lambda x: x.reciprocal(),
          lambda x: gpujit.view_as_complex(gpujit.view_as_real(x).contiguous())]
    for f in fs:
        np.testing.assert_allclose(f(g).cpu().numpy(), f(c).numpy(), rtol=1e-5, atol=1e-5)
    y = g.clone()
    y.real[0] = 5
    assert y.cpu().numpy()[0].real.tolist() == [5.0] * 6
    gpujit.manual_seed(0)
    r = gpujit.randn(1000, dtype=gpujit.complex64, device="cuda")
    assert r.dtype is gpujit.complex64 and abs(float(r.real.std()) - 0.7071) < 0.1
    assert repr(g[0, :2]).startswith("tensor([") and "device='cuda:0'" in repr(g[0, :2])
    w = gpujit.hann_window(64, device="cuda")
    s = gpujit.stft(g[0].real.repeat(40), 64, 16, window=w, return_complex=True)
    np.testing.assert_allclose(gpujit.istft(s, 64, 16, window=w).cpu().numpy(),
                               np.tile(a[0].real, 40), rtol=1e-4, atol=1e-4)


# (its cuda-marked tests run against the NumPy-backed CuPy in test_fake_gpu.py's session)


# ---------------------------------------------------------------- traced constants, jit.save

_C = None


def _times_constant(x):
    return x * _C


class _ComplexBuffer(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("c", gpujit.tensor([1j, 2]))

    def forward(self, x):
        return gpujit.view_as_real(x.to(gpujit.complex64) * self.c)


def test_traced_complex_constant_prints_as_torch_and_script_module_saves(tmp_path):
    global _C
    _C = gpujit.tensor([1j, 2.5 - 1j])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = gpujit.jit.trace(_times_constant, (gpujit.ones(2),))
    # (at::print of a complex tensor shows the real parts, as torch's graph does)
    assert "prim::Constant[value= 0.0000  2.5000 [ CPUComplexFloatType{2} ]]()" in str(tr.graph)
    assert tr(gpujit.ones(2)).numpy().tolist() == [1j, 2.5 - 1j]
    m = gpujit.jit.script(_ComplexBuffer())
    p = tmp_path / "m.pt"
    gpujit.jit.save(m, str(p))
    m2 = gpujit.jit.load(str(p))
    assert m2.c.dtype is gpujit.complex64
    np.testing.assert_array_equal(m2(gpujit.ones(2)).numpy(), [[0, 1], [2, 0]])


# ---------------------------------------------------------------- more structural ops, norms

def test_structural_ops_and_vector_norm():
    a = np.array([[1 + 2j, 3 - 1j, -2j], [4, 5 + 5j, 0.5j], [1, 2j, -1]], np.complex64)
    x = gpujit.from_numpy(a.copy())
    checks = [(gpujit.eye(3, dtype=gpujit.cfloat), np.eye(3)), (x.tril(), np.tril(a)),
              (gpujit.triu(x, 1), np.triu(a, 1)), (x.diag(), np.diag(a)),
              (gpujit.diag(x[0]), np.diag(a[0])), (gpujit.diagflat(x[0]), np.diagflat(a[0])),
              (gpujit.kron(x[:2, :2], x[:2, :2]), np.kron(a[:2, :2], a[:2, :2])),
              (x.rot90(), np.rot90(a)), (gpujit.diff(x), np.diff(a)),
              (x[0].repeat_interleave(2), np.repeat(a[0], 2)),
              (x.index_fill(0, gpujit.tensor([1]), 2j), np.where(np.arange(3)[:, None] == 1,
                                                                   2j, a)),
              (gpujit.full_like(x, 2j), np.full((3, 3), 2j)),
              (gpujit.linalg.vector_norm(x), np.linalg.norm(a.ravel())),
              (x.norm(), np.linalg.norm(a.ravel())),
              (gpujit.linalg.vector_norm(x, ord=1, dim=0), np.abs(a).sum(0)),
              (gpujit.linalg.vector_norm(x, ord=float("inf")), np.abs(a).max()),
              (x.var(), a.real.var(ddof=1) + a.imag.var(ddof=1)),
              (x.std(0), np.sqrt(a.real.var(0, ddof=1) + a.imag.var(0, ddof=1))),
              (gpujit.var_mean(x, 1)[1], a.mean(1))]
    for got, want in checks:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)
    assert gpujit.linalg.vector_norm(x).dtype is gpujit.float32
    assert gpujit.linalg.vector_norm(x, dtype=gpujit.cdouble).dtype is gpujit.float64
    assert x.trace().item() == a.trace() and x.trace().dtype is gpujit.complex64
    # (session 45: matrix norms of complex matrices, real: tests/test_complex_s45.py)
    fro = gpujit.linalg.norm(x, "fro")
    assert fro.dtype is gpujit.float32
    np.testing.assert_allclose(fro.item(), np.linalg.norm(a), rtol=1e-6)
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(a.copy())
    for f in (lambda m, v: m.linalg.vector_norm(v, ord=3, dim=1), lambda m, v: v.norm(),
              lambda m, v: m.block_diag(v, m.ones(2, 2)), lambda m, v: m.diag_embed(v),
              lambda m, v: v.var(), lambda m, v: v.std(dim=0),
              lambda m, v: m.var_mean(v, 1)[0], lambda m, v: m.var_mean(v, 1)[1],
              lambda m, v: m.std_mean(v, correction=0)[0]):
        r, g = f(torch, t), f(gpujit, x)
        assert str(r.dtype).split(".")[1] == g.dtype.name
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-6, atol=1e-6)


def _times_1j(x):
    return x * 1j + (2.5 - 1j)


def test_traced_python_complex_is_torchs_wrapped_complexdouble_constant(tmp_path):
    from gpujit.ir import parse_ir
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # (no TracerWarning, no discarded imaginary part)
        tr = gpujit.jit.trace(_times_1j, (gpujit.ones(2),))
    g = str(tr.graph)
    assert "ComplexDouble(requires_grad=0, device=cpu) = prim::Constant[value={(0,1)}]()" in g
    assert "prim::Constant[value={(2.5,-1)}]()" in g
    assert "ComplexFloat(2, strides=[1], requires_grad=0, device=cpu) = aten::mul" in g
    back = parse_ir(g)          # (the constant reads back as a complex tensor)
    assert "{(0,1)}" in str(back) and "{(2.5,-1)}" in str(back)
    r = tr(gpujit.arange(3.))
    assert r.dtype is gpujit.complex64 and r.numpy().tolist() == [2.5 - 1j, 2.5, 2.5 + 1j]
    p = tmp_path / "t.pt"
    gpujit.jit.save(tr, str(p))
    assert gpujit.jit.load(str(p))(gpujit.ones(1)).numpy().tolist() == [2.5]
    torch = pytest.importorskip("torch")
    t = torch.jit.trace(_torch_times_1j(torch), (torch.ones(2),))
    assert str(t.graph).split("\n")[1].split("#")[0] == g.split("\n")[1].split("#")[0]


def _torch_times_1j(torch):
    def f(x):
        return x * 1j + (2.5 - 1j)
    return f


def _script_literals(x):
    return x * 1j + gpujit.tensor(2.5 - 1j) * (1 - 2j)


def test_scripted_complex_literals(tmp_path):
    f = gpujit.jit.script(_script_literals)
    g = str(f.graph)
    assert "complex = prim::Constant[value=0.+1.j]()" in g
    assert "complex = prim::Constant[value=2.5-1.j]()" in g and "value=1.-2.j" in g
    assert "torch.mul(x, 0.+1.j)" in f.code and "torch.tensor(2.5-1.j)" in f.code
    want = np.arange(3.) * 1j + (2.5 - 1j) * (1 - 2j)
    for _ in range(3):
        r = f(gpujit.arange(3.))
    assert r.dtype is gpujit.complex64
    np.testing.assert_allclose(r.numpy(), want, rtol=1e-6)
    from gpujit.ir import parse_ir
    assert "value=0.+1.j" in str(parse_ir(g))
    p = tmp_path / "f.pt"
    gpujit.jit.save(f, str(p))
    np.testing.assert_allclose(gpujit.jit.load(str(p))(gpujit.arange(3.)).numpy(), want,
                               rtol=1e-6)
    torch = pytest.importorskip("torch")
    t = torch.jit.script(_torch_literals(torch))
    assert t.code.replace("def f(", "def _script_literals(") == f.code
    np.testing.assert_allclose(t(torch.arange(3.)).numpy(), r.numpy(), rtol=1e-6)


def _torch_literals(torch):
    def f(x):
        return x * 1j + torch.tensor(2.5 - 1j) * (1 - 2j)
    return f


def test_complex_pow_as_torch():
    """c10's exp(y * log(x)) after ATen's scalar-exponent shortcuts: 0 ** 0 of complex
    tensors is nan (NumPy: 1), 0 ** -1 is inf + nan j, x ** 2 is x * x."""
    inf = float("inf")
    z = gpujit.tensor([0j, 1 + 1j])
    r = (z ** z).numpy()
    assert np.isnan(r[0].real) and np.isnan(r[0].imag)
    np.testing.assert_allclose(r[1], (1 + 1j) ** (1 + 1j), rtol=1e-6)
    r = (z ** -1).numpy()
    assert r[0].real == inf and np.isnan(r[0].imag) and r[1] == 0.5 - 0.5j
    assert (z ** 0).numpy().tolist() == [1, 1] and (z ** 2).numpy().tolist() == [0, 2j]
    assert (z ** 1).numpy().tolist() == [0, 1 + 1j]
    np.testing.assert_allclose((2 ** z).numpy(), [1, 2 ** (1 + 1j)], rtol=1e-6)
    torch = pytest.importorskip("torch")
    a = np.array([0j, 1 + 1j, -2 + 0.5j, -0j, 3, -1, 1e-3j, complex(inf, 0), -2j],
                 np.complex64)
    for e in (2, 3, 0.5, -1, -2, -0.5, 2.5, 0, 1, 1j, 2 + 0j):
        np.testing.assert_allclose((gpujit.from_numpy(a.copy()) ** e).numpy(),
                                   (torch.from_numpy(a.copy()) ** e).numpy(),
                                   rtol=2e-6, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose((gpujit.from_numpy(a.copy()) ** gpujit.from_numpy(a[::-1].copy())
                                ).numpy(), (torch.from_numpy(a.copy()) **
                                            torch.from_numpy(a[::-1].copy())).numpy(),
                               rtol=2e-6, atol=1e-6, equal_nan=True)


def test_make_tensor_complex():
    gpujit.manual_seed(0)
    a = gpujit.testing.make_tensor(3, 2, dtype=gpujit.cfloat, device="cpu")
    assert a.dtype is gpujit.complex64 and a.shape == (3, 2)
    assert (np.abs(a.numpy().real) <= 9).all() and (np.abs(a.numpy().imag) <= 9).all()
    b = gpujit.testing.make_tensor(4, dtype=gpujit.cdouble, device="cpu", low=-1, high=1,
                                   noncontiguous=True)
    assert not b.is_contiguous() and (np.abs(gpujit.view_as_real(b).numpy()) <= 1).all()
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t = torch.testing.make_tensor(3, 2, dtype=torch.cfloat, device="cpu")
    np.testing.assert_array_equal(a.numpy(), t.numpy())     # (the same stream, as torch's)


def test_complex_log1p_keeps_small_values():
    """c10's complex log1p (NumPy's is log(1 + z): log1p(1e-8 + 0j) was 0)."""
    a = np.array([1e-8, 1e-4j, -1e-5 + 2e-5j, 1e20, 0.3 + 0.3j], np.complex64)
    got = gpujit.log1p(gpujit.from_numpy(a)).numpy()
    # (|1 + 1e-4 j| = sqrt(1 + 1e-8): a real part of 0.5 log1p(1e-8))
    for i, want in ((0, 1e-8), (1, 0.5 * np.log1p(1e-8) + 1e-4j), (3, np.log(1e20)),
                    (4, np.log(1.3 + 0.3j))):
        np.testing.assert_allclose(got[i], want, rtol=1e-6)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(got, torch.log1p(torch.from_numpy(a)).numpy(), rtol=3e-7)
