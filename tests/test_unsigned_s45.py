"""Session 45 (b45): the unsigned integer types of PyTorch's limited support (uint16 /
uint32 / uint64) and the unsigned conversions of Python numbers; each behaviour is checked
against hand-written / NumPy values (CI has no torch) and against torch 2.13 where it is
importable."""
import numpy as np
import pytest

import gpujit

try:
    import torch
except ImportError:        # (CI)
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")


def _outcome(f):
    """('ok', value) or (exception class name, first line of its message)."""
    try:
        r = f()
    except Exception as e:          # noqa: BLE001 - the class is what is compared
        cls = "NotImplementedError" if isinstance(e, NotImplementedError) else type(e).__name__
        return cls, str(e).splitlines()[0]
    if hasattr(r, "tolist"):
        return "ok", (str(r.dtype).split(".")[-1], r.tolist())
    return "ok", r


# ---------------------------------------------------------------- c10's checked conversion
# of a float fill value to an unsigned type: a negative float never fits (only a negative
# int wraps, -1 -> 255)

_NEG_FLOAT_FILLS = [
    lambda t, u: t.full((2,), -1.0, dtype=t.uint8),
    lambda t, u: u.clone().fill_(-0.5),
    lambda t, u: u.index_fill(0, t.tensor([0]), -1.0),
    lambda t, u: u.masked_fill(t.tensor([True, False]), -2.0),
    lambda t, u: u.clone().__setitem__(0, -1.0),
]


@pytest.mark.parametrize("k", range(len(_NEG_FLOAT_FILLS)))
def test_negative_float_fill_of_uint8_overflows(k):
    u = gpujit.tensor([1, 2], dtype=gpujit.uint8)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t "
                                           "without overflow"):
        _NEG_FLOAT_FILLS[k](gpujit, u)


def test_negative_int_fill_of_uint8_still_wraps():
    assert gpujit.full((2,), -1, dtype=gpujit.uint8).tolist() == [255, 255]
    assert gpujit.tensor([1, 2], dtype=gpujit.uint8).masked_fill(
        gpujit.tensor([True, False]), -255).tolist() == [1, 2]
    assert gpujit.tensor([1, 2], dtype=gpujit.uint8).fill_(255.0).tolist() == [255, 255]


@needs_torch
@pytest.mark.parametrize("k", range(len(_NEG_FLOAT_FILLS)))
def test_negative_float_fill_of_uint8_as_torch(k):
    f = _NEG_FLOAT_FILLS[k]
    assert _outcome(lambda: f(gpujit, gpujit.tensor([1, 2], dtype=gpujit.uint8))) == \
        _outcome(lambda: f(torch, torch.tensor([1, 2], dtype=torch.uint8)))


# ================================================================ uint16 / uint32 / uint64

UNSIGNED = ("uint16", "uint32", "uint64")
BITS = {"uint16": 16, "uint32": 32, "uint64": 64}


def _pair(t, name):
    d = getattr(t, name)
    return (t.tensor([[3, 1, 2], [5, 4, 0]], dtype=d),
            t.tensor([[1, 2, 3], [2, 1, 7]], dtype=d))


@pytest.mark.parametrize("name", UNSIGNED)
def test_dtype_facts(name):
    d = getattr(gpujit, name)
    assert d is gpujit.dtypes.to_dtype(name) is gpujit.dtypes.to_dtype("torch." + name)
    assert repr(d) == f"gpujit.{name}" and not d.is_signed and not d.is_floating_point
    assert not d.is_complex and d.itemsize == BITS[name] // 8
    assert d.short_name == "UInt" + name[4:]
    info = gpujit.iinfo(d)
    assert (info.min, info.max, info.bits) == (0, 2 ** BITS[name] - 1, BITS[name])
    assert d not in gpujit.dtypes.ALL          # (limited support: ops opt in)
    assert gpujit.dtypes.from_numpy_dtype(np.dtype(name)) is d
    code = {"uint16": 27, "uint32": 28, "uint64": 29}[name]
    assert gpujit.dtypes.scalar_type_code(d) == code
    assert gpujit.dtypes.scalar_type_arg(code) is d


def test_promotion_of_unsigned_types():
    u16, u32, f16, f32, f64 = (gpujit.uint16, gpujit.uint32, gpujit.float16, gpujit.float32,
                               gpujit.float64)
    assert gpujit.promote_types(u16, u16) is u16
    for f in (f16, f32, f64):
        assert gpujit.promote_types(u32, f) is f and gpujit.promote_types(f, u32) is f
    for other in ("bool", "uint8", "int8", "int16", "int32", "int64", "complex64",
                  "uint32", "uint64"):
        o = getattr(gpujit, other)
        with pytest.raises(RuntimeError, match=f"Promotion for uint16, uint32, uint64 types is "
                                               f"not supported, attempted to promote UInt16 "
                                               f"and {o.short_name}"):
            gpujit.promote_types(u16, o)
    u = gpujit.tensor([1, 2], dtype=u16)
    # a number or a 0-dim tensor of another category does not promote with it: as ints do
    assert gpujit.result_type(u, 3) is u16 and gpujit.result_type(u, 2.5) is f32
    assert gpujit.result_type(u, gpujit.tensor(3)) is u16
    assert gpujit.result_type(u, True) is u16
    assert (u * -1).tolist() == [65535, 65534] and (u * 70000).tolist() == [4464, 8928]
    with pytest.raises(RuntimeError, match="attempted to promote UInt16 and Long"):
        u * gpujit.tensor([1, 2])


@needs_torch
def test_promotion_table_as_torch():
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
             "float64", "complex64", "complex128", "uint16", "uint32", "uint64"]
    for u in UNSIGNED:
        for n in names:
            for a, b in ((u, n), (n, u)):
                assert _outcome(lambda: gpujit.promote_types(getattr(gpujit, a),
                                                             getattr(gpujit, b)).name) == \
                    _outcome(lambda: str(torch.promote_types(getattr(torch, a),
                                                             getattr(torch, b)))[6:])


# -------------------------------------------------------------------- making and reading

@pytest.mark.parametrize("name", UNSIGNED)
def test_creation_and_reading(name):
    d, top = getattr(gpujit, name), 2 ** BITS[name] - 1
    t = gpujit.tensor([top, 0, 7], dtype=d)
    assert t.dtype is d and t.tolist() == [top, 0, 7] and t[0].item() == top
    assert type(t[0].item()) is int and int(t[2]) == 7 and float(t[2]) == 7.0
    assert t.numpy().dtype == np.dtype(name) and t.element_size() == BITS[name] // 8
    assert not t.is_signed() and not t.is_floating_point()
    pad = " " * (len(str(top)) - 1)
    sep = ",\n       " if name == "uint64" else ", "      # (past 80 columns)
    assert repr(t) == f"tensor([{top}, {pad}0, {pad}7]{sep}dtype=gpujit.{name})"
    assert repr(gpujit.tensor(5, dtype=d)) == f"tensor(5, dtype=gpujit.{name})"
    assert t.type() == f"torch.UInt{BITS[name]}Tensor"
    assert t.storage_type() is None          # (no legacy storage class, as PyTorch's)
    assert gpujit.zeros(2, dtype=d).tolist() == [0, 0]
    assert gpujit.ones(2, dtype=d).dtype is d
    assert gpujit.full((2,), -1, dtype=d).tolist() == [top, top]     # (an int wraps)
    assert gpujit.tensor([-1], dtype=d).tolist() == [top] if name != "uint64" else True
    assert gpujit.zeros_like(t).dtype is d and gpujit.empty(3, dtype=d).dtype is d
    r = gpujit.randint(0, 5, (50,), dtype=d)
    assert r.dtype is d and 0 <= int(r.to(gpujit.int64).min()) and int(
        r.to(gpujit.int64).max()) < 5


def test_uint64_from_python_numbers():
    u64 = gpujit.uint64
    assert gpujit.tensor([2 ** 64 - 1, 2 ** 63, True], dtype=u64).tolist() == \
        [2 ** 64 - 1, 2 ** 63, 1]
    # (PyTorch stores them through PyLong_AsUnsignedLongLong)
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        gpujit.tensor([-5], dtype=u64)
    with pytest.raises(OverflowError, match="int too big to convert"):
        gpujit.tensor([2 ** 64], dtype=u64)
    with pytest.raises(TypeError, match="an integer is required"):
        gpujit.tensor([1.5], dtype=u64)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint16 without "
                                           "overflow"):
        gpujit.tensor([70000], dtype=gpujit.uint16)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint16_t without "
                                           "overflow"):
        gpujit.full((1,), 70000, dtype=gpujit.uint16)


@pytest.mark.parametrize("name", UNSIGNED)
def test_from_numpy_and_back(name):
    a = np.arange(10, dtype=name) * 3
    t = gpujit.from_numpy(a)
    assert t.dtype is getattr(gpujit, name) and t.tolist() == a.tolist()
    a[0] = 9
    assert t[0].item() == 9                       # (shares memory)
    # a nanoGPT-style loader: uint16 tokens from a memmap-like array made int64
    x = gpujit.from_numpy(a[2:6].astype(np.int64))
    assert x.dtype is gpujit.int64 and x.tolist() == [6, 9, 12, 15]
    assert np.array_equal(t.numpy(), a)


def test_conversions_both_ways():
    f = gpujit.tensor([1.5, -1.5, 70000.7, 3e9])
    assert f.to(gpujit.uint16).tolist() == [1, 65535, 4464, 0]
    assert f.to(gpujit.uint32).tolist() == [1, 4294967295, 70000, 3000000000]
    g = gpujit.tensor([1.5, -1.5, 1e19, 2e19])
    assert g.to(gpujit.uint64).tolist() == [1, 2 ** 64 - 1, 9999999980506447872, 0]
    assert gpujit.tensor([-1, 70000, 2 ** 40]).to(gpujit.uint16).tolist() == [65535, 4464, 0]
    big = gpujit.tensor([2 ** 64 - 1, 2 ** 63], dtype=gpujit.uint64)
    assert big.to(gpujit.int64).tolist() == [-1, -2 ** 63]
    assert big.to(gpujit.float64).tolist() == [2.0 ** 64, 2.0 ** 63]
    assert gpujit.tensor([65535], dtype=gpujit.uint16).to(gpujit.int16).tolist() == [-1]
    assert gpujit.tensor([True, False]).to(gpujit.uint32).tolist() == [1, 0]
    u = gpujit.tensor([3, 0], dtype=gpujit.uint16)
    assert u.bool().tolist() == [True, False] and u.float().dtype is gpujit.float32
    assert u.to(gpujit.uint64).dtype is gpujit.uint64
    assert u.clone().copy_(gpujit.tensor([-1, 70000])).tolist() == [65535, 4464]
    assert u.view(gpujit.int16).dtype is gpujit.int16
    assert gpujit.tensor([1, 2], dtype=gpujit.int32).view(gpujit.uint32).tolist() == [1, 2]


# ------------------------------------------------------------------------------ the ops

@pytest.mark.parametrize("name", UNSIGNED)
def test_ops_torch_computes(name):
    a, b = _pair(gpujit, name)
    na, nb = a.numpy(), b.numpy()
    d, top = getattr(gpujit, name), 2 ** BITS[name] - 1

    def same(t, expected, dt=d):
        assert t.dtype is dt and np.array_equal(t.numpy(), expected)
    same(a * b, na * nb)
    same(a * 3, na * 3)
    same(gpujit.tensor([top], dtype=d) * gpujit.tensor([3], dtype=d), np.array([top - 2]))
    same(a & b, na & nb)
    same(a | b, na | nb)
    same(a ^ 5, na ^ 5)
    same(a == b, na == nb, gpujit.bool)
    same(a != 1, na != 1, gpujit.bool)
    same(a / 2, (na / 2).astype(np.float32), gpujit.float32)
    same(a * 1.5, (na * 1.5).astype(np.float32), gpujit.float32)
    same(a.sum(), np.int64(na.sum()), gpujit.int64)
    same(a.sum(1, keepdim=True), na.sum(1, keepdims=True).astype(np.int64), gpujit.int64)
    same(a.prod(), np.int64(0), gpujit.int64)
    same(a.cumsum(0), na.cumsum(0).astype(np.int64), gpujit.int64)
    same(a.cumprod(1), na.cumprod(1).astype(np.int64), gpujit.int64)
    same(a.sort().values, np.sort(na))
    same(a.argsort(), np.argsort(na, kind="stable"), gpujit.int64)
    same(a.unique(), np.unique(na))
    same(gpujit.cat([a, b]), np.concatenate([na, nb]))
    same(gpujit.stack([a, b]), np.stack([na, nb]))
    same(a.t().contiguous(), na.T)
    same(a[1, 1:], na[1, 1:])
    same(a[gpujit.tensor([1, 0])], na[[1, 0]])
    same(gpujit.where(a == 0, b, a), np.where(na == 0, nb, na))
    same(a.index_select(1, gpujit.tensor([2, 0])), na[:, [2, 0]])
    same(a.floor(), na)
    same(a.any(), np.bool_(True), gpujit.bool)
    same(gpujit.outer(a[0], b[0]), np.outer(na[0], nb[0]))
    same(a.repeat(2, 1), np.tile(na, (2, 1)))
    same(a.sqrt(), np.sqrt(na.astype(np.float32)), gpujit.float32)
    c = a.clone()
    c[0] = 7
    same(c, np.array([[7, 7, 7], [5, 4, 0]]))
    c.mul_(2)
    same(c, np.array([[14, 14, 14], [10, 8, 0]]))


# (op, its kernel in PyTorch's error): the ops PyTorch 2.13 refuses for the unsigned types
_REFUSED = [
    (lambda a, b: a + b, "add_stub"), (lambda a, b: a - 1, "add_stub"),
    (lambda a, b: a.clone().add_(b), "add_stub"), (lambda a, b: a // b, "div_floor_cpu"),
    (lambda a, b: a % b, "remainder_cpu"), (lambda a, b: a ** 2, "pow"),
    (lambda a, b: -a, "neg_cpu"), (lambda a, b: a.abs(), "abs_cpu"),
    (lambda a, b: a < b, "lt_cpu"), (lambda a, b: a >= 1, "ge_cpu"),
    (lambda a, b: ~a, "bitwise_not_cpu"), (lambda a, b: a << b, "lshift_cpu"),
    (lambda a, b: a.max(), "max_all"), (lambda a, b: a.max(0), "max_cpu"),
    (lambda a, b: a.amin(), "min_values_cpu"), (lambda a, b: a.argmax(), "argmax_cpu"),
    (lambda a, b: gpujit.maximum(a, b), "maximum_cpu"), (lambda a, b: a.topk(1), "topk_cpu"),
    (lambda a, b: a.gather(1, gpujit.tensor([[0], [1]])), "scatter_gather_tensor_cpu"),
    (lambda a, b: a.masked_fill(a == 1, 0), "masked_fill"),
    (lambda a, b: a.clone().__setitem__(gpujit.tensor([1]), 7), "index_put"),
    (lambda a, b: a.nonzero(), "nonzero_count_cpu"), (lambda a, b: a.tril(), "tril"),
    (lambda a, b: a.clamp(1, 3), "clamp_scalar_cpu"), (lambda a, b: a.sign(), "sign_cpu"),
    (lambda a, b: a @ b.t(), "addmm_impl_cpu_"), (lambda a, b: a.sum(dtype=a.dtype), "sum_cpu"),
    (lambda a, b: a.cumsum(0, dtype=a.dtype), "cumsum_out_cpu"),
    (lambda a, b: gpujit.arange(3, dtype=a.dtype), "arange_cpu"),
    (lambda a, b: gpujit.rand(2, dtype=a.dtype), "check_uniform_bounds"),
    (lambda a, b: gpujit.eye(2, dtype=a.dtype), "eye"),
    (lambda a, b: gpujit.div(a, b, rounding_mode="trunc"), "div_trunc_cpu"),
    (lambda a, b: a.flip(1), "flip_cpu"), (lambda a, b: a.logical_not(), "logical_not_cpu"),
]


@pytest.mark.parametrize("name", UNSIGNED)
@pytest.mark.parametrize("k", range(len(_REFUSED)))
def test_ops_torch_refuses(name, k):
    f, kernel = _REFUSED[k]
    a, b = _pair(gpujit, name)
    with pytest.raises(NotImplementedError) as e:
        f(a, b)
    assert str(e.value) == f"\"{kernel}\" not implemented for 'UInt{BITS[name]}'"


def test_own_checks_and_index_refusals():
    u = gpujit.tensor([[3, 1], [2, 4]], dtype=gpujit.uint16)
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype. Input "
                                           r"dtype must be either a floating point or complex "
                                           r"dtype. Got: UInt16"):
        u.mean()
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        u.var()
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        gpujit.nn.functional.one_hot(u)
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or "
                                         "bool tensors"):
        gpujit.arange(5)[gpujit.tensor([1, 2], dtype=gpujit.uint32)]
    with pytest.raises(IndexError, match="tensors used as indices must be"):
        gpujit.arange(5).index_put((gpujit.tensor([1], dtype=gpujit.uint64),),
                                   gpujit.tensor(3))
    assert gpujit.arange(9)[u[1, 1]].item() == 4       # (a 0-dim one is a number)


def test_not_fused_and_scripted():
    @gpujit.jit.script
    def f(x, y):
        return (x * y) * 3

    @gpujit.jit.script
    def g(x, y):
        return x + y

    u = gpujit.tensor([60000, 1, 2], dtype=gpujit.uint16)
    for _ in range(3):
        r = f(u, u)
    assert r.dtype is gpujit.uint16 and r.tolist() == [(60000 ** 2 * 3) % 2 ** 16, 3, 12]
    assert "TensorExprGroup" not in str(f.graph_for(u, u))
    i = gpujit.tensor([6, 1, 2], dtype=gpujit.int16)
    for _ in range(3):
        f(i, i)
    assert "TensorExprGroup" in str(f.graph_for(i, i))      # (int16: fused)
    with pytest.raises(NotImplementedError, match="\"add_stub\" not implemented for 'UInt16'"):
        g(u, u)
    s = gpujit.jit.script(_to_u32)
    assert "prim::Constant[value=28]" in str(s.graph)
    assert s(u).dtype is gpujit.uint32


def _to_u32(x):
    return x.to(gpujit.uint32)


@pytest.mark.parametrize("name", UNSIGNED)
def test_save_load_round_trip(name, tmp_path):
    a, _ = _pair(gpujit, name)
    gpujit.save({"a": a, "row": a[1]}, tmp_path / "u.pt")
    r = gpujit.load(tmp_path / "u.pt")
    assert r["a"].dtype is a.dtype and r["a"].tolist() == a.tolist()
    assert r["row"].tolist() == a[1].tolist() and r["row"].storage_offset() == 3


# the probe of PyTorch 2.13's support, op by op (expressions of t: the library, a, b: two
# tensors of the dtype); values, dtypes and errors (class, words) compared with torch
_PROBE = [
    "a + b", "a + 1", "a - b", "a * b", "a * 3", "a / b", "a / 2", "a // b", "a % b", "a ** 2",
    "-a", "a.abs()", "a == b", "a != b", "a < b", "a <= b", "a > b", "a >= b", "a == 1",
    "a < 1", "a & b", "a | b", "a ^ b", "~a", "a << b", "a >> b", "a & 1", "a.sum()",
    "a.sum(0)", "a.prod()", "a.mean()", "a.cumsum(0)", "a.cumprod(0)", "a.max()", "a.max(0)",
    "a.min()", "a.amax()", "a.amin()", "a.argmax()", "a.argmin()", "t.maximum(a, b)",
    "t.minimum(a, b)", "a.sort()", "a.argsort()", "a.topk(1)", "a.unique()", "t.msort(a)",
    "a.to(t.float32)", "a.to(t.int64)", "a.to(t.uint8)", "a.to(t.bool)", "a.float()",
    "a.clone()", "a.t().contiguous()", "a.clone().copy_(b)", "t.cat([a, b])",
    "t.stack([a, b])", "a[0, 1:]", "a[t.tensor([1, 0])]", "a[a == 1]", "a.view(3, 2)",
    "a.reshape(-1)", "a.permute(1, 0)", "a.roll(1)", "a.repeat(2, 1)", "a[:1].expand(3, 3)",
    "a.unsqueeze(0)", "a.narrow(1, 0, 2)", "a.select(0, 1)", "a.chunk(2)", "a.split(1)",
    "a.unbind()", "a.gather(1, t.tensor([[0], [1]]))", "a.scatter_add(1, t.tensor([[0], [1]]), b[:, :1])",
    "a.index_select(1, t.tensor([0, 2]))", "a.index_add(0, t.tensor([0, 1]), b)",
    "a.index_fill(0, t.tensor([0]), 9)", "a.index_copy(0, t.tensor([1, 0]), b)",
    "a.masked_fill(a == 1, 7)", "t.where(a == 1, a, b)", "t.where(a == 1, a, 0)",
    "a.nonzero()", "a.count_nonzero()", "a.any()", "a.all()", "a.take(t.tensor([0, 4]))",
    "a.masked_select(a == 1)", "a.tril()", "a.diag()", "a.diagonal()", "a.trace()",
    "a.clone().fill_(3)", "a.clone().zero_()", "t.zeros_like(a)", "t.ones_like(a)",
    "t.full_like(a, 7)", "t.zeros(2, dtype=a.dtype)", "t.full((2,), 7, dtype=a.dtype)",
    "t.arange(5, dtype=a.dtype)", "t.linspace(0, 4, 5, dtype=a.dtype)",
    "t.rand(2, dtype=a.dtype)", "t.randn(2, dtype=a.dtype)", "t.eye(2, dtype=a.dtype)",
    "t.randperm(4, dtype=a.dtype)", "a.new_zeros(2)", "a.new_tensor([1, 2])", "a.clamp(1, 3)",
    "a.sign()", "a.sqrt()", "a.sigmoid()", "a.square()", "a.reciprocal()", "a.floor()",
    "a.round()", "a.trunc()", "t.relu(a)", "a @ b.t()", "t.dot(a[0], b[0])",
    "t.bmm(a[None], b.t()[None])", "t.outer(a[0], b[0])", "a.fmod(b)", "a.remainder(b)",
    "a.isnan()", "a.isinf()", "a.isfinite()", "t.equal(a, b)", "t.allclose(a, b)",
    "t.isclose(a, b)", "a.reshape(-1).bincount()", "a.var()", "a.std()", "a.norm()",
    "a.logical_not()", "a.logical_and(b)", "a.bitwise_not()", "a * 1.5", "a + 1.5",
    "a + b.long()", "a * b.to(t.uint8)", "a * b.float()", "a * b.short()", "a * b.bool()",
    "a.clone().mul_(b)", "a.clone().mul_(2)", "a[0, 0].item()", "a.tolist()", "int(a[0, 0])",
    "float(a[0, 0])", "bool(a[0, 0])", "t.arange(9)[a[0, 0]]", "a.lerp(b, 0.5)",
    "a.addcmul(a, b)", "t.searchsorted(a[0].sort()[0], b[0])", "a.kthvalue(1)", "a.median()",
    "a.mode()", "a.logsumexp(0)", "a.softmax(0)", "a.cummax(0)", "a.diff()", "a.flatten()",
    "a.unfold(1, 2, 1)", "a.as_strided((2,), (1,))", "t.nn.functional.pad(a, (1, 1))",
    "t.nn.functional.one_hot(a)", "a.is_signed()", "a.element_size()", "a.nbytes",
    "a == 1.5", "a.min(0)", "t.aminmax(a)", "a.clamp(b, b)", "5 - a", "6 / a", "6 // a",
    "t.true_divide(a, b)", "t.div(a, b, rounding_mode='floor')", "t.gcd(a, b)",
    "b.float().type_as(a)", "a.unique_consecutive()", "a.tile(2)", "a.repeat_interleave(2)",
    "a.rot90()", "t.kron(a, b)", "t.linalg.cross(a, b)", "a.nansum()", "a.sum(dtype=a.dtype)",
    "a.sum(1, keepdim=True)", "a.cumsum(0, dtype=a.dtype)", "a.prod(dtype=a.dtype)",
    "a.masked_scatter(a == 1, b)", "a.clone().put_(t.tensor([0]), b[0, :1])",
    "t.take_along_dim(a, t.tensor([[0], [1]]), 1)", "t.block_diag(a, b)",
    "t.meshgrid(a[0], b[0], indexing='ij')", "a << 1", "a >> 1", "a.sgn()", "a.signbit()",
    "t.heaviside(a, b)", "a.nan_to_num()", "a.positive()", "a.conj()", "a.real",
    "t.dist(a, b)", "t.tensordot(a, b.t(), 1)", "t.einsum('ij,kj->ik', a, b)", "a ^ 3",
    "t.isin(a, b[0])", "t.multinomial(a, 1)", "a.type()", "a.float().type(a.dtype)",
    "a.float_power(2)", "a.xlogy(b)", "a.copysign(b)", "a.hypot(b)", "a.frac()",
    "a.isposinf()", "a.isreal()", "a.fix()", "t.diag_embed(a)", "t.diagflat(a)",
    "t.column_stack([a, b])", "t.vdot(a[0], b[0])", "a.logical_or(b)", "a.unique(dim=0)",
    "a.unique(return_inverse=True, return_counts=True)", "a.sort(stable=True, descending=True)",
    "t.mul(a, 2, out=t.empty(0, dtype=t.int64))", "t.randint_like(a, 5).dtype",
    "t.empty_strided((2,), (1,), dtype=a.dtype).dtype", "a * 1j", "a * True",
    "t.cat([a, a.long()])", "t.cat([a, a.float()])", "t.full((1,), -1, dtype=a.dtype)",
    "a.clone().copy_(t.tensor([[-1, 70000, 3], [1, 2, 3]]))", "a.clone().fill_(-1)",
    "a.view(t.int16 if a.element_size() == 2 else t.int32 if a.element_size() == 4 else t.int64)",
    "t.tensor([[1, 2]], dtype=t.int64).view(a.dtype) if a.element_size() == 8 else None",
    "t.arange(5)[t.tensor([1, 2], dtype=a.dtype)]", "a < t.tensor(1)", "a == t.tensor([1, 2, 3])",
    "t.tensor([-1.5, 70000.7, 3.9, 3e9]).to(a.dtype)", "t.tensor([-1, 70000, 2 ** 40]).to(a.dtype)",
    "t.tensor([-1], dtype=a.dtype)", "t.tensor([70000], dtype=a.dtype)",
    "t.full((1,), 70000, dtype=a.dtype)", "t.full((1,), -1.0, dtype=a.dtype)",
    # flip: refused ("flip_cpu") but where PyTorch copies rows with memcpy
    "a.flip(0)", "a.flip(1)", "a[0].flip(0)", "a.t().flip(0)", "a.t().flip(1)", "a.flip(0, 1)",
    "a[:1].flip(0)", "a.flipud()", "a.fliplr()", "a[:, :1].fliplr()", "a[:, ::2].flip(0)",
    "a.reshape(2, 3, 1).flip(0)", "a.reshape(1, 2, 3).flip(1)",
    "a.reshape(2, 1, 3).permute(1, 2, 0).flip(1)",
    # matmul: the kernel of the ranks
    "a[0] @ b[0]", "a @ b[0]", "a[0] @ b.t()", "a[None] @ b.t()[None]", "a[None] @ b.t()",
    "a[None] @ b[0]", "a[0] @ b.t()[None]",
    # clamp: the kernel of the bounds given
    "a.clamp(min=1)", "a.clamp(max=1)", "a.clamp(b)", "a.clamp(max=b)", "a.clone().clamp_(min=1)",
    "a.clip(max=3)", "a.clip(b, b)", "t.clamp(a, min=0.5)",
    # more ops, computed or refused by argument
    "t.nn.functional.linear(a, a)", "t.nn.functional.pad(a, (1, 1), mode='reflect')",
    "t.nn.functional.pad(a[None], (1, 1), mode='replicate')",
    "t.nn.functional.pad(a[None], (1, 1), mode='circular')",
    "t.nn.functional.interpolate(a[None], scale_factor=2)", "a.logcumsumexp(0)",
    "t.bincount(t.tensor([0, 1, 1]), weights=a[0])", "a.quantile(0.5)", "t.trapezoid(a)",
    "t.cdist(a, a)", "t.searchsorted(t.tensor([1, 2, 3]), a)", "t.searchsorted(a[0], b[0])",
    "a.median(0)", "a.nanmedian()", "t.combinations(a[0])", "t.cartesian_prod(a[0], b[0])",
    "t.rot90(a, 3)", "t.rot90(a, 0)", "t.rot90(a, 2)", "t.rot90(a, -1)",
    "a.clone().__setitem__(a == 1, 9)", "a.clone().__setitem__(a == 1, b[0, :1])",
    "a.clone().index_put_((a == 1,), t.tensor(1, dtype=a.dtype), accumulate=True)",
    "t.nn.functional.conv1d(a[None], a.t()[:, :, None])", "t.nn.functional.avg_pool1d(a[None], 2)",
    # einsum: computed unless a contraction needs bmm
    "t.einsum('ij->j', a)", "t.einsum('ij->ji', a)", "t.einsum('ij->', a)",
    "t.einsum('ij,ij->ij', a, b)", "t.einsum('ij,kj->ik', a, b)", "t.einsum('i,j->ij', a[0], b[0])",
    "t.einsum('i,i->', a[0], b[0])", "t.einsum('ij,j->i', a, b[0])", "t.einsum('ij,ij', a, b)",
    "t.einsum('i,j', a[0], b[0])", "t.einsum('ij,ij,ij->ij', a, b, a)",
    "t.einsum('ij,ij,ij->', a, b, a)", "t.einsum('...j->j', a)", "t.einsum('ij,ik->ijk', a, b)",
    "t.einsum('ij,ij->ij', a, b.float())",
]



def _probe_value(r):
    if isinstance(r, (tuple, list)) and r and hasattr(r[0], "tolist"):
        return tuple(_probe_value(x) for x in r)
    if hasattr(r, "tolist") and hasattr(r, "dtype"):
        return (str(r.dtype).split(".")[-1], r.tolist())
    if type(r).__module__ in ("torch", "gpujit.dtypes") or "dtype" in type(r).__name__:
        return str(r).split(".")[-1]
    return r


@needs_torch
@pytest.mark.parametrize("name", UNSIGNED)
@pytest.mark.parametrize("expr", _PROBE)
def test_probe_as_torch(name, expr):
    import warnings

    def run(t):
        a, b = _pair(t, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _outcome(lambda: _probe_value(eval(expr, {"t": t, "a": a, "b": b})))
    mine, theirs = run(gpujit), run(torch)
    if theirs[0] == "ok" and mine[0] == "ok" and expr in ("a.sqrt()", "a.sigmoid()",
                                                         "a.reciprocal()", "a.logsumexp(0)",
                                                         "t.dist(a, b)"):
        assert mine[1][0] == theirs[1][0]
        np.testing.assert_allclose(mine[1][1], theirs[1][1], rtol=2e-7)
        return
    assert mine == theirs


@needs_torch
@pytest.mark.parametrize("name", UNSIGNED)
def test_save_load_with_torch(name, tmp_path):
    a, _ = _pair(gpujit, name)
    gpujit.save({"a": a, "row": a[1]}, tmp_path / "g.pt")
    t = torch.load(tmp_path / "g.pt")
    assert t["a"].dtype is getattr(torch, name) and t["a"].tolist() == a.tolist()
    assert t["row"].tolist() == a[1].tolist()
    t["a"] = torch.tensor([[2 ** BITS[name] - 1, 1, 2], [5, 4, 0]], dtype=t["a"].dtype)
    torch.save(t, tmp_path / "t.pt")
    r = gpujit.load(tmp_path / "t.pt")
    assert r["a"].dtype is a.dtype and r["a"][0, 0].item() == 2 ** BITS[name] - 1
    assert r["row"].tolist() == a[1].tolist()


# ------------------------------------------------------------------- torch.hash_tensor

def _np_hash(a, axis=None):
    """NumPy's xor of the elements' 64-bit patterns (float64 / int64 / value)."""
    k = a.dtype.kind
    b = (a.astype(np.float64).view(np.uint64) if k == "f" else
         a.astype(np.int64).view(np.uint64) if k == "i" else a.astype(np.uint64))
    return np.bitwise_xor.reduce(b, axis=axis)


def test_hash_tensor_values():
    x = np.array([[1.5, -2.0, 3.25], [0.0, -0.0, 7.0]], np.float32)
    t = gpujit.from_numpy(x)
    h = gpujit.hash_tensor(t)
    assert h.dtype is gpujit.uint64 and h.shape == () and h.item() == int(_np_hash(x))
    assert h.item() == 9218305487273984000
    assert gpujit.hash_tensor(t, 0).tolist() == _np_hash(x, 0).tolist()
    assert gpujit.hash_tensor(t, 1, keepdim=True).tolist() == \
        _np_hash(x, 1)[:, None].tolist()
    assert gpujit.hash_tensor(t.t(), 1).tolist() == _np_hash(x.T, 1).tolist()
    assert t.hash_tensor().item() == h.item()
    i = np.array([[1, 2, 3], [-1, 5, 6]])
    assert gpujit.hash_tensor(gpujit.from_numpy(i)).item() == 2 ** 64 - 4
    assert gpujit.hash_tensor(gpujit.tensor([-3, 4], dtype=gpujit.int8)).item() == \
        int(_np_hash(np.array([-3, 4], np.int8)))
    assert gpujit.hash_tensor(gpujit.tensor([1, 2], dtype=gpujit.uint8)).item() == 3
    assert gpujit.hash_tensor(gpujit.tensor([True, False, True])).item() == 0
    assert gpujit.hash_tensor(gpujit.tensor(5)).shape == ()
    assert gpujit.hash_tensor(gpujit.tensor([float("nan")])).item() == 0x7FF8000000000000
    a = np.arange(24.0).reshape(2, 3, 4)
    assert gpujit.hash_tensor(gpujit.from_numpy(a), (0, 2)).tolist() == \
        _np_hash(a, (0, 2)).tolist()
    assert gpujit.hash_tensor(gpujit.tensor([1.0, 2.0], requires_grad=True)).grad_fn is None


def test_hash_tensor_errors():
    x = gpujit.ones(2, 3)
    with pytest.raises(RuntimeError, match="Unknown hash_tensor mode: 1"):
        gpujit.hash_tensor(x, mode=1)
    with pytest.raises(RuntimeError, match="hash_tensor: Expected reduction dim to be "
                                           "specified for input.numel\\(\\) == 0"):
        gpujit.hash_tensor(gpujit.tensor([]))
    with pytest.raises(IndexError, match="hash_tensor: Expected reduction dim 1 to have "
                                         "non-zero size"):
        gpujit.hash_tensor(gpujit.zeros(2, 0), 1)
    assert gpujit.hash_tensor(gpujit.zeros(2, 0), 0).shape == (0,)
    with pytest.raises(RuntimeError, match="Expected result to be of dtype uint64, but got "
                                           "Long"):
        gpujit.hash_tensor(x, out=gpujit.empty(0, dtype=gpujit.int64))
    with pytest.raises(NotImplementedError, match="\"xor_sum_cpu\" not implemented for "
                                                  "'UInt16'"):
        gpujit.hash_tensor(gpujit.tensor([1], dtype=gpujit.uint16))


def test_hash_tensor_scripted_and_traced():
    def h(x):
        return gpujit.hash_tensor(x, [1])
    x = gpujit.tensor([[1.5, -2.0, 3.25], [0.0, -0.0, 7.0]])
    s = gpujit.jit.script(h)
    assert "aten::hash_tensor(%x.1, %3, %4, %5)" in str(s.graph)
    assert s(x).tolist() == gpujit.hash_tensor(x, 1).tolist()
    t = gpujit.jit.trace(h, (x,))
    assert "UInt64(2, strides=[1], requires_grad=0, device=cpu) = aten::hash_tensor" in \
        str(t.graph)


_HASH_PROBE = [
    "t.hash_tensor(x)", "t.hash_tensor(x, 0)", "t.hash_tensor(x, 1, keepdim=True)",
    "t.hash_tensor(x, (0, 1))", "t.hash_tensor(i)", "t.hash_tensor(i, 1)",
    "t.hash_tensor(t.tensor([]))", "t.hash_tensor(t.tensor([]), 0)", "t.hash_tensor(t.tensor(5))",
    "t.hash_tensor(t.tensor(5.0), 0)", "t.hash_tensor(x, mode=1)", "t.hash_tensor(x.t(), 1)",
    "t.hash_tensor(t.tensor([float('nan'), float('inf')]))",
    "t.hash_tensor(t.tensor([2 ** 63 - 1, -2 ** 63]))", "t.hash_tensor(t.zeros(2, 0), 1)",
    "t.hash_tensor(t.zeros(2, 0), 0)", "t.hash_tensor(x, 2)", "t.hash_tensor(x, (0, 0))",
    "t.hash_tensor(x, -1, keepdim=True)", "x.hash_tensor()",
    "t.hash_tensor(x, out=t.empty(0, dtype=t.uint64))",
    "t.hash_tensor(x, out=t.empty(0, dtype=t.int64))",
    "t.hash_tensor(t.tensor([1, 2], dtype=t.uint8))",
    "t.hash_tensor(t.tensor([1, 2], dtype=t.uint32))",
    "t.hash_tensor(t.tensor([True, False, True]))",
    "t.hash_tensor(t.tensor([1.5, -2], dtype=t.float16))",
    "t.hash_tensor(t.tensor([-3, 4], dtype=t.int8))",
    "t.hash_tensor(t.arange(24.).reshape(2, 3, 4), (0, 2))",
    "t.hash_tensor(t.arange(24).reshape(2, 3, 4), (2, 0), keepdim=True)",
]


@needs_torch
@pytest.mark.parametrize("expr", _HASH_PROBE)
def test_hash_tensor_as_torch(expr):
    def run(t):
        x = t.tensor([[1.5, -2.0, 3.25], [0.0, -0.0, 7.0]])
        i = t.tensor([[1, 2, 3], [-1, 5, 6]])
        return _outcome(lambda: _probe_value(eval(expr, {"t": t, "x": x, "i": i})))
    assert run(gpujit) == run(torch)


def test_float_to_wide_unsigned_on_cupy(monkeypatch):
    """The CuPy path of float -> uint32 / uint64 (CuPy's astype saturates; gpujit converts
    as x86 does, as NumPy and PyTorch's CPU): its arithmetic, run on NumPy arrays under a
    stand-in cupy module of where()."""
    import sys
    import types
    from gpujit.ops import conversion
    monkeypatch.setitem(sys.modules, "cupy", types.SimpleNamespace(where=np.where))
    f = np.array([0.0, 1.5, 3e9, 4294967295.0, -1.5], np.float64)
    r = conversion._float_to_int_as_host(f, gpujit.uint32)
    assert r.dtype == np.uint32 and r.tolist() == [0, 1, 3000000000, 4294967295, 4294967295]
    g = np.array([1.5, -1.5, 1e19, 2.0 ** 63, 2e19, 2.0 ** 64 - 2048], np.float64)
    r = conversion._float_to_int_as_host(g, gpujit.uint64)
    assert r.dtype == np.uint64
    assert r.tolist() == [1, 2 ** 64 - 1, 10 ** 19, 2 ** 63, 0, 2 ** 64 - 2048]
    g32 = np.array([1e19, 3e9], np.float32)
    assert conversion._float_to_int_as_host(g32, gpujit.uint64).tolist() == \
        [9999999980506447872, 3000000000]
    # the CPU's conversions, which NumPy's astype makes
    assert gpujit.from_numpy(g).to(gpujit.uint64).tolist() == \
        [1, 2 ** 64 - 1, 10 ** 19, 2 ** 63, 0, 2 ** 64 - 2048]
    assert gpujit.from_numpy(f).to(gpujit.uint32).tolist() == \
        [0, 1, 3000000000, 4294967295, 4294967295]


# ------------------------------------------- randint / random_ streams of wide ranges

def test_randint_wide_range_takes_64_bit_words():
    # torch 2.13 draws random64() for a range >= 2**28 (random() below)
    gpujit.manual_seed(3)
    assert gpujit.randint(0, 2 ** 31, (3,)).tolist() == [303761048, 1460070019, 521102280]
    gpujit.manual_seed(3)
    assert gpujit.randint(0, 2 ** 28, (3,)).tolist() == [35325592, 117892739, 252666824]
    gpujit.manual_seed(3)
    assert gpujit.randint(0, 2 ** 28 - 1, (3,)).tolist() == [218175346, 35325593, 88681732]
    gpujit.manual_seed(3)
    assert gpujit.zeros(3, dtype=gpujit.int32).random_(0, 2 ** 30).tolist() == \
        [303761048, 386328195, 521102280]


@needs_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint32", "uint64", "float64"])
@pytest.mark.parametrize("high", [10, 2 ** 24, 2 ** 28 - 1, 2 ** 28, 2 ** 30 + 3, 2 ** 31])
def test_random_streams_as_torch(dtype, high):
    def run(t):
        t.manual_seed(7)
        a = t.zeros(5, dtype=getattr(t, dtype)).random_(0, high).tolist()
        t.manual_seed(7)
        return a, t.randint(0, high, (2, 3), dtype=getattr(t, dtype)).tolist()
    if dtype == "int32" and high > 2 ** 31 - 1:
        return
    assert run(gpujit) == run(torch)


_RANDOM_BOUNDS = [("int16", (5, 2 ** 40), "to - 1 is out of bounds for short int"),
                  ("int16", (-2 ** 20, 3), "from is out of bounds for short int"),
                  ("uint8", (-1, 5), "from is out of bounds for unsigned char"),
                  ("uint8", (0, 257), "to - 1 is out of bounds for unsigned char"),
                  ("bool", (0, 3), "to - 1 is out of bounds for bool"),
                  ("uint16", (0, 2 ** 16 + 1), "to - 1 is out of bounds for short unsigned int"),
                  ("uint32", (0, 2 ** 32 + 1), "to - 1 is out of bounds for unsigned int"),
                  ("uint64", (0, None), "to - 1 is out of bounds for long unsigned int"),
                  ("uint64", (-1, 5), "from is out of bounds for long unsigned int"),
                  ("float16", (0, 70000), "to - 1 is out of bounds for c10::Half"),
                  ("int32", (2 ** 33, None), "from is out of bounds for int")]


@pytest.mark.parametrize("dtype,args,words", _RANDOM_BOUNDS)
def test_random_bounds_checked(dtype, args, words):
    t = gpujit.zeros(3, dtype=getattr(gpujit, dtype))
    with pytest.raises(RuntimeError, match=words):
        t.random_(*args)


def test_random_on_unsigned_types():
    u = gpujit.zeros(3, dtype=gpujit.uint16)
    with pytest.raises(NotImplementedError, match="\"random_kernel_cpu\" not implemented for "
                                                  "'UInt16'"):
        u.random_()
    gpujit.manual_seed(3)
    assert u.random_(10).tolist() == [6, 8, 7]
    gpujit.manual_seed(3)
    assert u.random_(0, None).tolist() == [5994, 1688, 11513]
    gpujit.manual_seed(3)
    assert gpujit.zeros(3, dtype=gpujit.uint64).random_(5, 2 ** 40).tolist() == \
        [455616498704, 1073113814116, 790819487604]
    with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]. Due "
                                         r"to precision limitations float can support"):
        gpujit.zeros(2).random_(0, 2 ** 25)


@needs_torch
@pytest.mark.parametrize("dtype", ["int16", "uint8", "bool", "int64", "uint16", "uint32",
                                   "uint64", "float16", "float64"])
def test_random_bounds_as_torch(dtype):
    import warnings
    calls = [(5, 2 ** 40), (-1, 5), (0, 2 ** 16 + 1), (0, 2 ** 16), (0, 2 ** 32 + 1), (0, None),
             (2 ** 33, None), (2 ** 62, 2 ** 63 - 1), (2 ** 31,), (0,), (3, 2)]

    def run(t):
        out = []
        for args in calls:
            t.manual_seed(3)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(_outcome(lambda: t.zeros(3, dtype=getattr(t, dtype)).random_(
                    *args).tolist()))
        return out
    assert run(gpujit) == run(torch)


@pytest.mark.parametrize("name", UNSIGNED)
def test_make_tensor_of_unsigned_types(name):
    d = getattr(gpujit, name)
    gpujit.manual_seed(0)
    t = gpujit.testing.make_tensor((4,), dtype=d, device="cpu")
    assert t.dtype is d and t.tolist() == [4, 9, 3, 0]      # (torch's, seed 0)
    gpujit.manual_seed(0)
    assert gpujit.testing.make_tensor((4,), dtype=d, device="cpu", low=-5, high=3).tolist() \
        == [2, 0, 2, 0]
    with pytest.raises(ValueError, match="The value interval specified by `low` and `high`"):
        gpujit.testing.make_tensor((4,), dtype=d, device="cpu", low=-9, high=-1)


@pytest.mark.parametrize("name", ["int8", "int16", "uint8", "uint16", "uint32", "uint64"])
def test_python_int_past_uint64_refused_as_torchs_parser(name):
    t = gpujit.tensor([1], dtype=getattr(gpujit, name))
    with pytest.raises(OverflowError, match="int too big to convert"):
        t * 2 ** 64
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        t == -2 ** 63 - 1
    bits = np.iinfo(name).bits
    assert (t * (2 ** 64 - 1)).tolist() == [2 ** bits - 1 if name[0] == "u" else -1]
    assert (t | 2 ** 63).tolist() == [2 ** 63 + 1 if name == "uint64" else 1]


@pytest.mark.parametrize("name", ["int16", "uint8", "uint64", "int64", "float32"])
def test_scalar_ints_past_64_bits(name):
    d = getattr(gpujit, name)
    for f in (lambda v: gpujit.full((1,), v, dtype=d), lambda v: gpujit.zeros(1, dtype=d).fill_(v)):
        with pytest.raises(OverflowError, match="int too big to convert"):
            f(2 ** 64)
        with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
            f(-2 ** 63 - 1)
    # x[i] = v reads v as an int64 (PyTorch's valueToTensor), whatever x's dtype
    for v in (2 ** 63, 2 ** 64 - 1, -2 ** 63 - 1):
        with pytest.raises(ValueError, match="Overflow when unpacking long long"):
            gpujit.zeros(1, dtype=d)[0] = v
    assert gpujit.full((1,), 2 ** 63, dtype=gpujit.uint64).tolist() == [2 ** 63]


def test_iinfo_repr_and_bool():
    assert repr(gpujit.iinfo(gpujit.uint16)) == "iinfo(min=0, max=65535, dtype=uint16)"
    assert str(gpujit.iinfo(gpujit.uint32)) == "iinfo(min=0, max=4.29497e+09, dtype=uint32)"
    assert repr(gpujit.iinfo(gpujit.int64)) == \
        "iinfo(min=-9.22337e+18, max=9.22337e+18, dtype=int64)"
    with pytest.raises(TypeError, match="torch.bool is not supported by torch.iinfo"):
        gpujit.iinfo(gpujit.bool)


@needs_torch
@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64", "uint16",
                                  "uint32", "uint64", "bool"])
def test_iinfo_as_torch(name):
    def run(t):
        return _outcome(lambda: (repr(t.iinfo(getattr(t, name))), t.iinfo(getattr(t, name)).max,
                                 t.iinfo(getattr(t, name)).bits))
    assert run(gpujit) == run(torch)


def test_random_bounds_past_int64():
    u = gpujit.zeros(2, dtype=gpujit.uint64)
    for f in (lambda: gpujit.randint(0, 2 ** 63, (2,)), lambda: gpujit.randint(2 ** 63, (2,)),
              lambda: gpujit.randint(-2 ** 63 - 1, 0, (2,)),
              lambda: gpujit.randint_like(u, 2 ** 63), lambda: u.random_(0, 2 ** 63),
              lambda: u.random_(2 ** 63)):
        with pytest.raises(ValueError, match="Overflow when unpacking long long"):
            f()
    assert gpujit.randint(0, 2 ** 63 - 1, (2,), dtype=gpujit.uint64).dtype is gpujit.uint64
    assert gpujit.zeros(2, dtype=gpujit.int64).random_().dtype is gpujit.int64


@pytest.mark.parametrize("name", ["int8", "int16", "uint16", "uint32", "uint64"])
def test_index_tensor_dtypes_as_torchs_check(name):
    a = gpujit.arange(5)
    i = gpujit.tensor([1, 0], dtype=getattr(gpujit, name))
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or "
                                         "bool tensors"):
        a[i]
    with pytest.raises(IndexError, match="tensors used as indices must be"):
        a.clone()[i] = 7
    assert a[i.to(gpujit.int32)].tolist() == [1, 0]


@pytest.mark.parametrize("name,shown", [("int16", "torch.ShortTensor"), ("uint16", "CPUUInt16Type"),
                                        ("bool", "CPUBoolType"), ("float32", "torch.FloatTensor"),
                                        ("uint64", "CPUUInt64Type")])
def test_embedding_index_type_named_as_aten(name, shown):
    idx = gpujit.tensor([1, 0]).to(getattr(gpujit, name))
    with pytest.raises(RuntimeError, match=f"scalar types: Long, Int; but got {shown} instead "
                                           f"\\(while checking arguments for embedding\\)"):
        gpujit.nn.functional.embedding(idx, gpujit.ones(3, 2))


def test_finfo_repr_resolution_and_integer_refusal():
    f = gpujit.finfo(gpujit.float16)
    assert f.resolution == 0.001            # (10 ** -3 in double, not float16's 0.0010004)
    assert repr(f) == ("finfo(resolution=0.001, min=-65504, max=65504, eps=0.000976562, "
                       "smallest_normal=6.10352e-05, tiny=6.10352e-05, dtype=float16)")
    assert repr(gpujit.finfo()) == ("finfo(resolution=1e-06, min=-3.40282e+38, max=3.40282e+38, "
                                    "eps=1.19209e-07, smallest_normal=1.17549e-38, "
                                    "tiny=1.17549e-38, dtype=float32)")
    for d in (gpujit.int64, gpujit.uint16, gpujit.bool):
        with pytest.raises(TypeError, match=r"torch.finfo\(\) requires a floating point input "
                                            r"type. Use torch.iinfo to handle 'torch.finfo'"):
            gpujit.finfo(d)


@needs_torch
@pytest.mark.parametrize("name", ["float16", "float32", "float64", "complex64", "complex128"])
def test_finfo_as_torch(name):
    def run(t):
        f = t.finfo(getattr(t, name))
        return (repr(f), f.resolution, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.bits,
                f.dtype)
    assert run(gpujit) == run(torch)
