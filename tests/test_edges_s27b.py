"""Op edges, part 2 (session 27, helper i27): einsum's dtypes with bool / integer operands,
local_response_norm / grid_sample / pooling dtype errors, histogramdd's autograd,
kthvalue's tie rule, i0 / i1 at +-inf, triangular_solve's checks, convolutions without
input channels, trapezoid's formulas. Expected values and messages were read from
PyTorch 2.13 (CPU); the torch comparisons at the end run only where torch is installed."""
import math

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F


def _ones(shape, dt):
    return torch.ones(shape, dtype=getattr(torch, dt))


# ------------------------------------------------------------------ einsum

# (equation, operand shapes, dtypes) -> result dtype name or (error class, message)
EINSUM = [
    ("i->", [(3,)], ["bool"], "int64"),
    ("i->", [(0,)], ["bool"], "int64"),
    ("i->i", [(0,)], ["bool"], "bool"),
    ("ij->i", [(2, 3)], ["int32"], "int64"),
    ("ij->i", [(2, 1)], ["bool"], "int64"),
    ("ii->i", [(2, 2)], ["int32"], "int32"),
    ("ii->", [(2, 2)], ["int32"], "int64"),
    ("ij->", [(2, 3)], ["uint8"], "int64"),
    ("ij->", [(2, 3)], ["float16"], "float16"),
    ("ij->ji", [(2, 3)], ["bool"], "bool"),
    ("i,i->", [(3,), (3,)], ["bool", "bool"],
     (NotImplementedError, "\"bmm\" not implemented for 'Bool'")),
    ("i,i->", [(1,), (1,)], ["bool", "bool"], "bool"),
    ("i,i->", [(1,), (3,)], ["bool", "bool"], "int64"),
    ("i,i->", [(0,), (0,)], ["bool", "bool"], "bool"),
    ("i,i->", [(0,), (0,)], ["int32", "int64"], "int64"),
    ("i,i->", [(2,), (2,)], ["int32", "int32"], "int32"),
    ("i,j->", [(2,), (3,)], ["int32", "int32"], "int64"),
    ("i,j->i", [(2,), (3,)], ["bool", "bool"], "int64"),
    ("i,j->ij", [(2,), (3,)], ["bool", "bool"], "bool"),
    ("ij,j->", [(2, 2), (2,)], ["int32", "int32"],
     (RuntimeError, "expected scalar type Long but found Int")),
    ("ij,j->", [(2, 0), (0,)], ["int32", "int32"], "int32"),
    ("ij,jk->ik", [(2, 2), (2, 2)], ["int32", "float32"],
     (RuntimeError, "expected scalar type Int but found Float")),
    # sumproduct_pair swaps the sides when the right's own dims come first in the output
    ("ik,kj->ji", [(3, 4), (4, 2)], ["int32", "float32"],
     (RuntimeError, "expected scalar type Float but found Int")),
    ("jk,ik->ij", [(3, 2), (1, 2)], ["int32", "float32"],
     (RuntimeError, "expected scalar type Float but found Int")),
    ("kij,k->ij", [(0, 1, 3), (0,)], ["float16", "int32"], "float16"),
    ("i,i,i->", [(2,), (2,), (2,)], ["int32", "int32", "int32"], "int32"),
    ("bij,bjk->bik", [(1, 2, 2), (1, 2, 2)], ["bool", "bool"],
     (NotImplementedError, "\"bmm\" not implemented for 'Bool'")),
]


@pytest.mark.parametrize("eq,shapes,dts,want", EINSUM)
def test_einsum_dtypes_follow_pytorchs_contraction(eq, shapes, dts, want):
    ops = [_ones(s, d) for s, d in zip(shapes, dts)]
    if isinstance(want, tuple):
        with pytest.raises(want[0], match=want[1]):
            torch.einsum(eq, *ops)
        return
    r = torch.einsum(eq, *ops)
    assert r.dtype is getattr(torch, want)
    ref = np.einsum(eq, *[np.ones(s, dtype=np.int64) for s in shapes])
    np.testing.assert_array_equal(r.to(torch.int64).numpy(), ref.astype(np.int64) if
                                  r.dtype is not torch.bool else ref.astype(bool))


def test_einsum_bool_sum_counts():
    b = torch.tensor([True, False, True])
    r = torch.einsum("i->", b)
    assert r.dtype is torch.int64 and int(r) == 2


def test_einsum_scripted_meta_dtype():
    @torch.jit.script
    def f(x):
        return torch.einsum("ij->i", x)
    r = f(torch.ones(2, 3, dtype=torch.int32))
    assert r.dtype is torch.int64 and r.tolist() == [3, 3]


def test_bilinear_bool_refused_int_kept():
    with pytest.raises(NotImplementedError, match="\"bmm\" not implemented for 'Bool'"):
        F.bilinear(_ones((2, 3), "bool"), _ones((2, 3), "bool"), _ones((4, 3, 3), "bool"))
    r = F.bilinear(_ones((2, 3), "int32"), _ones((2, 3), "int32"), _ones((4, 3, 3), "int32"))
    assert r.dtype is torch.int32 and r.tolist() == [[9] * 4] * 2


# ------------------------------------------------------------------ pooling, sampling

@pytest.mark.parametrize("shape,dt,kernel", [
    ((1, 3, 4), "bool", "avg_pool2d"), ((1, 3, 4), "int32", "avg_pool2d"),
    ((1, 3, 4), "uint8", "avg_pool2d"), ((1, 3, 4, 4), "bool", "avg_pool3d_out_frame"),
    ((1, 3, 4, 4, 2), "int16", "avg_pool3d_out_frame"),
    ((1, 3, 4, 4), "float16", "avg_pool3d_out_frame")])
def test_local_response_norm_refuses_what_its_pooling_refuses(shape, dt, kernel):
    name = {"bool": "Bool", "int32": "Int", "uint8": "Byte", "int16": "Short",
            "float16": "Half"}[dt]
    with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for "
                                                  f"'{name}'"):
        F.local_response_norm(_ones(shape, dt), 2)


def test_local_response_norm_kept_dtypes():
    assert F.local_response_norm(_ones((1, 3, 4), "float16"), 2).dtype is torch.float16
    assert F.local_response_norm(_ones((1, 3, 4, 4), "int64"), 2).dtype is torch.float32
    assert F.local_response_norm(_ones((0, 3, 4), "bool"), 2).dtype is torch.bool
    m = torch.jit.script(torch.nn.LocalResponseNorm(2))
    with pytest.raises(NotImplementedError, match="\"avg_pool2d\" not implemented for "
                                                  "'Bool'"):
        m(_ones((1, 3, 4), "bool"))


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: F.avg_pool1d(_ones((1, 1, 3), "int32"), 2), NotImplementedError,
     "\"avg_pool2d\" not implemented for 'Int'"),
    (lambda: F.avg_pool3d(_ones((1, 1, 3, 4, 2), "float16"), (2, 1, 1)),
     NotImplementedError, "\"avg_pool3d_out_frame\" not implemented for 'Half'"),
    (lambda: F.avg_pool3d(_ones((1, 1, 3, 4, 2), "bool"), (2, 1, 1)),
     NotImplementedError, "\"avg_pool3d_out_frame\" not implemented for 'Bool'"),
    (lambda: F.max_pool1d(_ones((1, 1, 4), "bool"), 2), NotImplementedError,
     "\"max_pool1d_impl\" not implemented for 'Bool'"),
    (lambda: F.max_pool1d(_ones((1, 1, 4), "bool"), 2, return_indices=True),
     NotImplementedError, "\"max_pool2d\" not implemented for 'Bool'"),
    (lambda: F.adaptive_avg_pool1d(_ones((1, 1, 4), "bool"), 2), NotImplementedError,
     "\"adaptive_avg_pool2d\" not implemented for 'Bool'"),
    (lambda: F.adaptive_avg_pool3d(_ones((1, 1, 4, 4, 4), "bool"), 2), NotImplementedError,
     "\"adaptive_avg_pool3d_cpu\" not implemented for 'Bool'"),
    (lambda: F.adaptive_max_pool1d(_ones((1, 1, 4), "int32"), 2), NotImplementedError,
     "\"adaptive_max_pool2d\" not implemented for 'Int'"),
    (lambda: F.adaptive_max_pool3d(_ones((1, 1, 4, 4, 4), "int32"), 2), NotImplementedError,
     "\"adaptive_max_pool3d_cpu\" not implemented for 'Int'"),
])
def test_pooling_dtype_errors_name_pytorchs_cpu_kernels(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def _gs(x_shape, xdt, g_shape, gdt, **kw):
    return F.grid_sample(_ones(x_shape, xdt), torch.zeros(g_shape, dtype=getattr(torch, gdt)),
                         align_corners=False, **kw)


@pytest.mark.parametrize("args,exc,msg", [
    (((1, 1, 2, 2), "bool", (1, 2, 2, 2), "float32"), NotImplementedError,
     "\"grid_sampler_2d_cpu_kernel_impl\" not implemented for 'Bool'"),
    (((1, 1, 2, 2), "int32", (1, 2, 2, 2), "int32"), NotImplementedError,
     "\"grid_sampler_2d_cpu_kernel_impl\" not implemented for 'Int'"),
    (((1, 1, 2, 2, 2), "bool", (1, 2, 2, 2, 3), "float32"), NotImplementedError,
     "\"grid_sampler3d_cpu\" not implemented for 'Bool'"),
    (((1, 1, 2, 2), "float32", (1, 2, 2, 2), "bool"), RuntimeError,
     "expected scalar type Float but found Bool"),
    (((1, 1, 2, 2), "float64", (1, 2, 2, 2), "float32"), RuntimeError,
     "expected scalar type Double but found Float"),
    (((1, 1, 2, 2), "bool", (1, 2, 2, 2, 3), "float32"), RuntimeError,
     r"expected grid to have size 2 in last dimension"),
    (((1, 1, 2, 2), "bool", (2, 2, 2, 2), "float32"), RuntimeError,
     "expected grid and input to have same batch size"),
    (((1, 1, 2, 2), "float32", (1, 2, 2), "float32"), RuntimeError,
     r"expected 4D input and grid with same number of dimensions"),
    (((1, 1, 2), "float32", (1, 2, 1), "float32"), RuntimeError,
     r"expected 5D input and grid with same number of dimensions"),
])
def test_grid_sample_checks_in_pytorchs_order(args, exc, msg):
    with pytest.raises(exc, match=msg):
        _gs(*args)


def test_grid_sample_empty_output_reads_no_dtype():
    r = _gs((1, 0, 2, 2), "bool", (1, 2, 2, 2), "float32")
    assert r.dtype is torch.bool and tuple(r.shape) == (1, 0, 2, 2)
    r = _gs((1, 1, 2, 2), "float32", (1, 0, 2, 2), "float64")
    assert r.dtype is torch.float32 and tuple(r.shape) == (1, 1, 0, 2)


# ------------------------------------------------------------------ histogramdd

def test_histogramdd_records_autograd_and_refuses_backward():
    x = torch.rand(4, 2, requires_grad=True)
    h = torch.histogramdd(x, bins=2)
    assert h.hist.requires_grad and all(e.requires_grad for e in h.bin_edges)
    with pytest.raises(RuntimeError, match="derivative for aten::_histogramdd_from_bin_cts "
                                           "is not implemented"):
        h.hist.sum().backward()
    with pytest.raises(RuntimeError, match="derivative for aten::_histogramdd_bin_edges "
                                           "is not implemented"):
        h.bin_edges[0].sum().backward()
    w = torch.rand(4, requires_grad=True)
    h = torch.histogramdd(torch.rand(4, 2), bins=2, weight=w)
    assert h.hist.requires_grad and h.bin_edges[1].requires_grad
    h = torch.histogramdd(torch.rand(4, 2), bins=2)
    assert not h.hist.requires_grad and not h.bin_edges[0].requires_grad
    e0 = torch.tensor([0., .5, 1.], requires_grad=True)
    h = torch.histogramdd(torch.rand(4, 2), bins=[e0, torch.tensor([0., 1.])])
    assert h.hist.requires_grad
    assert [e.requires_grad for e in h.bin_edges] == [True, False]
    with pytest.raises(RuntimeError, match="_histogramdd_from_bin_tensors is not impl"):
        h.hist.sum().backward()


def test_histogramdd_values():
    pts = torch.tensor([[0., 0.], [1., 1.], [0.5, 0.2]])
    h = torch.histogramdd(pts, bins=[2, 3])
    assert h.hist.tolist() == [[1., 0., 0.], [1., 0., 1.]]
    np.testing.assert_allclose(h.bin_edges[1].numpy(), [0, 1 / 3, 2 / 3, 1], rtol=1e-6)
    h = torch.histogramdd(pts, bins=[2, 3], range=[0., 2., 0., 1.],
                          weight=torch.tensor([1., 2., 3.]), density=True)
    np.testing.assert_allclose(h.hist.numpy(), [[2, 0, 0], [0, 0, 1]], rtol=1e-6)
    assert type(h).__name__ == "histogramdd" and repr(h).startswith(
        "gpujit.return_types.histogramdd(\nhist=")


# ------------------------------------------------------------------ kthvalue

@pytest.mark.parametrize("vals,k,value,index", [
    ([1., 1., 1.], 2, 1., 0), ([1., 1., 1.], 1, 1., 1), ([1., 1., 1.], 3, 1., 2),
    ([2., 1., 1., 2., 1.], 2, 1., 4), ([2., 1., 1., 2., 1.], 4, 2., 3),
    ([math.nan, 1., math.nan], 3, math.nan, 2)])
def test_kthvalue_ties_follow_pytorchs_quickselect(vals, k, value, index):
    for dt in (torch.float32, torch.float64, torch.float16):
        r = torch.tensor(vals, dtype=dt).kthvalue(k)
        assert int(r.indices) == index
        assert (math.isnan(float(r.values)) and math.isnan(value)) or float(r.values) == value


def test_kthvalue_ties_along_dims():
    r = torch.tensor([[1., 1., 1.], [0., 0., 0.]]).kthvalue(2, dim=1)
    assert r.indices.tolist() == [0, 0] and r.values.tolist() == [1., 0.]
    r = torch.tensor([[3, 1, 3, 3], [2, 2, 2, 2]], dtype=torch.int64).kthvalue(3, 1, True)
    assert r.indices.tolist() == [[2], [2]] and r.values.tolist() == [[3], [2]]
    r = torch.tensor([[1., 1., 1.], [1., 1., 1.]]).t().kthvalue(2, dim=1)
    assert r.indices.tolist() == [1, 1, 1]


# ------------------------------------------------------------------ i0 / i1 at +-inf

def test_bessel_i0_i1_of_infinities_are_nan():
    x = torch.tensor([math.inf, -math.inf, 1.])
    for fn in (torch.i0, torch.special.i0, torch.special.i1):
        for dt in (torch.float32, torch.float64, torch.float16):
            r = fn(x.to(dt)).to(torch.float64).tolist()
            assert math.isnan(r[0]) and math.isnan(r[1]) and math.isfinite(r[2])
    assert torch.special.i0e(x).tolist()[:2] == [0., 0.]
    r = torch.special.i1e(x).tolist()
    assert r[0] == 0. and r[1] == 0. and math.copysign(1, r[1]) < 0
    # finite arguments beyond the range still overflow to +-inf
    r = torch.special.i1(torch.tensor([100., -100.])).tolist()
    assert r == [math.inf, -math.inf]


# ------------------------------------------------------------------ triangular_solve

_DEPRECATED = pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")


@_DEPRECATED
@pytest.mark.parametrize("b,A,msg", [
    ((), (), "torch.triangular_solve: Expected b to have at least 2 dimensions, but it has 0 "
             "dimensions instead"),
    ((2,), (2, 2), "Expected b to have at least 2 dimensions, but it has 1 dimensions"),
    ((2, 2), (2,), "Expected A to have at least 2 dimensions, but it has 1 dimensions"),
    ((3, 1), (2, 2), "Incompatible matrix sizes for triangular_solve: each A matrix is 2 by 2 "
                     "but each b matrix is 3 by 1"),
    ((2, 1), (2, 3), "A must be batches of square matrices, but they are 2 by 3 matrices"),
    ((2, 2, 1), (3, 2, 2), r"The size of tensor a \(2\) must match the size of tensor b "
                           r"\(3\) at non-singleton dimension 0"),
])
def test_triangular_solve_checks(b, A, msg):
    with pytest.raises(RuntimeError, match=msg):
        torch.triangular_solve(torch.ones(b), torch.ones(A))


@_DEPRECATED
def test_triangular_solve_dtype_check():
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype, but "
                                           "found b of type Float and A of type Double"):
        torch.triangular_solve(torch.ones(2, 1), torch.ones(2, 2, dtype=torch.float64))


# ------------------------------------------------------------------ convolutions

@pytest.mark.parametrize("fn,x,w,kw,out", [
    (F.conv1d, (1, 0, 5), (2, 0, 3), {}, (1, 0, 3)),
    (F.conv1d, (0, 5), (2, 0, 3), {}, (0, 3)),
    (F.conv1d, (2, 0, 5), (3, 0, 3), dict(padding=1), (2, 0, 5)),
    (F.conv2d, (1, 0, 5, 5), (4, 0, 3, 3), dict(groups=2), (1, 0, 3, 3)),
    (F.conv2d, (3, 0, 5, 4), (2, 0, 3, 1), dict(padding=(1, 2)), (3, 0, 5, 8)),
    (F.conv2d, (1, 0, 5, 5), (2, 0, 3, 3), dict(stride=2), (1, 0, 2, 2)),
    (F.conv3d, (1, 0, 3, 3, 3), (2, 0, 1, 1, 1), {}, (1, 0, 3, 3, 3)),
])
def test_conv_without_input_channels(fn, x, w, kw, out):
    xt = torch.ones(x, requires_grad=True)
    wt = torch.ones(w, requires_grad=True)
    bt = torch.ones(w[0], requires_grad=True)
    r = fn(xt, wt, bt, **kw)
    assert tuple(r.shape) == out
    r.sum().backward()
    assert tuple(xt.grad.shape) == x and tuple(wt.grad.shape) == w
    assert bt.grad.tolist() == [0.] * w[0]


def test_conv_without_channels_still_checks_bias_and_transposed_weight():
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 2 "
                                           "elements, but got bias of size \\[3\\]"):
        F.conv1d(torch.ones(1, 0, 5), torch.ones(2, 0, 3), torch.ones(3))
    with pytest.raises(RuntimeError, match="Given groups=1, expected weight to be at least 1 "
                                           "at dimension 0, but got weight of size "
                                           "\\[0, 2, 3, 3\\] instead"):
        F.conv_transpose2d(torch.ones(1, 0, 5, 5), torch.ones(0, 2, 3, 3))
    with pytest.raises(RuntimeError, match="divisible by 2 at dimension 0, but got weight "
                                           "of size \\[\\[3, 2, 3, 3\\]\\] instead"):
        F.conv_transpose2d(torch.ones(1, 2, 5, 5), torch.ones(3, 2, 3, 3), groups=2)


# ------------------------------------------------------------------ trapezoid

def test_trapezoid_formulas_and_infinities():
    inf, nan = math.inf, math.nan
    t = torch.tensor
    assert math.isnan(float(torch.trapezoid(t([1.]), dx=inf)))
    assert math.isnan(float(torch.trapz(t([1.]), dx=inf)))
    assert float(torch.trapezoid(t([1., 2.]), dx=inf)) == inf
    assert math.isnan(float(torch.trapezoid(t([1., inf]))))
    assert math.isnan(float(torch.trapezoid(t([inf, 1., 2.]))))
    assert torch.cumulative_trapezoid(t([1., 2., 3.]), dx=inf).tolist() == [inf, inf]
    y = t([0.1, 0.2, 0.7], dtype=torch.float64)
    assert float(torch.trapezoid(y, dx=0.3)) == 0.18000000000000002
    x = t([0.0, 0.3, 0.65], dtype=torch.float64)
    assert float(torch.trapezoid(y, x)) == pytest.approx(0.2025, rel=1e-12)
    y1 = torch.ones(1, requires_grad=True)
    r = torch.trapezoid(y1, dx=inf)
    r.backward()
    assert math.isnan(float(r)) and math.isnan(y1.grad.tolist()[0])
    y2 = torch.ones(2, requires_grad=True)
    torch.trapezoid(y2, dx=inf).backward()
    assert all(math.isnan(v) for v in y2.grad.tolist())
    del nan


def test_trapezoid_of_no_samples():
    r = torch.trapezoid(torch.ones(0, dtype=torch.int32))
    assert r.dtype is torch.int32 and int(r) == 0
    r = torch.trapezoid(torch.ones(0, dtype=torch.bool))
    assert r.dtype is torch.bool and not bool(r)
    r = torch.trapezoid(torch.ones(2, 0, dtype=torch.int32), torch.ones(0))
    assert r.dtype is torch.int32 and r.tolist() == [0, 0]
    assert torch.trapezoid(torch.ones(3, dtype=torch.int32)).dtype is torch.float32


# ------------------------------------------------------------------ against torch

def test_einsum_dtypes_against_torch_fuzz():
    T = pytest.importorskip("torch")
    import random
    rng = random.Random(27)
    dts = ["bool", "int32", "int64", "float16", "float32", "uint8"]
    for _ in range(300):
        n = rng.choice([1, 2, 2, 3])
        terms = ["".join(rng.sample("ijk", rng.randint(0, 3))) for _ in range(n)]
        used = sorted(set("".join(terms)))
        eq = ",".join(terms) + "->" + "".join(c for c in used if rng.random() < 0.4)
        sizes = {c: rng.choice([0, 1, 2, 3]) for c in used}
        shapes = [[sizes[c] if rng.random() < 0.8 else 1 for c in t] for t in terms]
        kinds = [rng.choice(dts) for _ in range(n)]

        def go(m):
            try:
                r = m.einsum(eq, *[m.ones(s, dtype=getattr(m, d))
                                   for s, d in zip(shapes, kinds)])
                return str(r.dtype).split(".")[-1], tuple(r.shape), \
                    r.to(m.float64).sum().item()
            except Exception as e:       # noqa: BLE001 - the class and words compared
                return type(e).__name__, str(e)
        assert go(T) == go(torch), (eq, shapes, kinds)


def test_kthvalue_against_torch_fuzz():
    T = pytest.importorskip("torch")
    import random
    rng = random.Random(5)
    for _ in range(150):
        n, rows = rng.randint(1, 10), rng.randint(1, 3)
        dt = rng.choice(["float32", "int64", "float64"])
        pool = [0, 1, 2, 3] + ([math.nan] if dt != "int64" else [])
        vals = [[rng.choice(pool) for _ in range(n)] for _ in range(rows)]
        k = rng.randint(1, n)
        a = T.tensor(vals, dtype=getattr(T, dt)).kthvalue(k, 1)
        b = torch.tensor(vals, dtype=getattr(torch, dt)).kthvalue(k, 1)
        assert a.indices.tolist() == b.indices.tolist(), (vals, k)


# ------------------------------------------------------------------ matmul family

@pytest.mark.parametrize("fn,sa,sb,da,db,want", [
    ("bmm", (1, 2, 2), (1, 2, 2), "int32", "int64",
     (RuntimeError, "expected scalar type Int but found Long")),
    ("bmm", (1, 2, 2), (1, 2, 2), "bool", "int32",
     (NotImplementedError, "\"bmm\" not implemented for 'Bool'")),
    ("bmm", (1, 2, 2), (1, 2, 2), "int32", "bool",
     (RuntimeError, "expected scalar type Int but found Bool")),
    ("bmm", (1, 2, 0), (1, 0, 2), "int32", "int64", "int64"),     # empty: mat2's dtype
    ("bmm", (1, 0, 2), (1, 2, 3), "float16", "float32", "float32"),
    ("bmm", (0, 2, 2), (0, 2, 2), "bool", "bool", "bool"),
    ("mm", (2, 2), (2, 2), "bool", "bool",
     (NotImplementedError, "\"addmm_impl_cpu_\" not implemented for 'Bool'")),
    ("mm", (2, 0), (0, 2), "bool", "bool", "bool"),
    ("mm", (2, 0), (0, 2), "int32", "int64",
     (RuntimeError, "expected m1 and m2 to have the same dtype, but got: int != long int")),
    ("mm", (2, 2), (0, 2), "int32", "int64",
     (RuntimeError, r"mat1 and mat2 shapes cannot be multiplied \(2x2 and 0x2\)")),
    ("mv", (2, 2), (2,), "int64", "int32",
     (RuntimeError, "addmv input tensors must have the same dtype, but got Int, Long, and "
                    "Int")),
    ("mv", (2, 2), (2,), "bool", "bool",
     (NotImplementedError, "\"addmv_impl_cpu\" not implemented for 'Bool'")),
    ("mv", (2, 0), (0,), "bool", "bool", "bool"),
    ("matmul", (3, 2, 2), (3, 2, 2), "int32", "int64",
     (RuntimeError, "expected scalar type Int but found Long")),
    ("matmul", (3, 2, 2), (2,), "int64", "int32",
     (RuntimeError, "addmv input tensors must have the same dtype, but got Int, Long, and "
                    "Int")),
    ("matmul", (2,), (0, 2, 2), "int32", "int64",
     (RuntimeError, "addmv input tensors must have the same dtype, but got Int, Long, and "
                    "Int")),
    ("matmul", (2,), (3, 2, 2), "bool", "bool",
     (NotImplementedError, "\"bmm\" not implemented for 'Bool'")),
    ("matmul", (3, 2, 2), (2, 2), "bool", "bool",
     (NotImplementedError, "\"addmm_impl_cpu_\" not implemented for 'Bool'")),
    ("matmul", (2, 2), (2,), "int32", "int64",
     (RuntimeError, "addmv input tensors must have the same dtype, but got Long, Int, and "
                    "Long")),
    ("matmul", (2, 2), (3, 2, 0), "bool", "bool", "bool"),
    ("matmul", (1, 2, 0), (1, 0, 2), "int32", "int64", "int64"),
    ("matmul", (2,), (0,), "int32", "int64",
     (RuntimeError, "dot : expected both vectors to have same dtype, but found Int and Long")),
    ("matmul", (3, 2, 2), (0,), "float32", "float32",
     (RuntimeError, r"size mismatch, got input \(6\), mat \(6x2\), vec \(0\)")),
])
def test_products_check_as_pytorchs_kernels(fn, sa, sb, da, db, want):
    a, b = _ones(sa, da), _ones(sb, db)
    if isinstance(want, tuple):
        with pytest.raises(want[0], match=want[1]):
            getattr(torch, fn)(a, b)
        return
    assert getattr(torch, fn)(a, b).dtype is getattr(torch, want)


def test_matmul_of_a_transposed_batch_is_a_bmm():
    a = torch.ones(3, 2, 2, dtype=torch.int32).transpose(0, 1)
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of "
                                           r"batch2 tensor to be: \[2, 2\] but got: \[2, 0\]"):
        torch.matmul(a, torch.ones(0, dtype=torch.int64))


def test_products_against_torch_fuzz():
    T = pytest.importorskip("torch")
    import itertools
    shapes = [(2,), (0,), (2, 2), (2, 0), (0, 2), (3, 2, 2), (0, 2, 2), (3, 2, 0),
              (1, 2, 2)]
    kinds = [("int32", "int64"), ("bool", "bool"), ("float16", "float32"),
             ("float32", "float32"), ("int32", "bool")]

    def go(m, f, sa, sb, da, db):
        try:
            r = getattr(m, f)(m.ones(sa, dtype=getattr(m, da)), m.ones(sb, dtype=getattr(m, db)))
            return str(r.dtype).split(".")[-1], tuple(r.shape)
        except Exception as e:       # noqa: BLE001 - the class and words compared
            return type(e).__name__, str(e)
    for f in ("matmul", "mm", "bmm", "mv"):
        for (sa, sb), (da, db) in itertools.product(itertools.product(shapes, shapes), kinds):
            assert go(T, f, sa, sb, da, db) == go(torch, f, sa, sb, da, db), (f, sa, sb, da, db)


# ------------------------------------------------------------------ integer convolutions

def test_integer_convolutions_on_the_cpu():
    x = torch.arange(-20, 20, dtype=torch.int8).reshape(1, 2, 20)
    w = torch.full((1, 2, 3), 100, dtype=torch.int8)
    r = F.conv1d(x, w)        # int8 arithmetic wraps, as PyTorch's kernel
    assert r.dtype is torch.int8
    assert r.tolist()[0][0][:6] == [-24, 64, -104, -16, 72, -96]
    r = F.conv1d(x.long(), w.long(), torch.tensor([7]), stride=2, padding=1, dilation=2)
    assert r.tolist() == [[[-3193, -4193, -2993, -1793, -593, 607, 1807, 3007, 4207]]]
    r = F.conv2d(torch.arange(32).reshape(1, 2, 4, 4), torch.arange(8).reshape(4, 1, 1, 2),
                 groups=2, padding=(0, 1))
    assert r.dtype is torch.int64 and r[0, 3].tolist()[0] == [112, 215, 228, 241, 114]
    assert F.conv3d(_ones((1, 2, 3, 3, 3), "int16"), _ones((2, 2, 2, 2, 2), "int16")
                    ).tolist()[0][0][0][0] == [16, 16]
    r = F.conv_transpose1d(_ones((1, 2, 5), "int64"), _ones((2, 3, 2), "int64"))
    assert r.dtype is torch.int64 and r.tolist()[0][0][:3] == [2, 4, 4]


@pytest.mark.parametrize("call,msg", [
    (lambda: F.conv2d(_ones((1, 2, 4, 4), "bool"), _ones((3, 2, 2, 2), "bool")),
     "\"slow_conv2d_cpu\" not implemented for 'Bool'"),
    (lambda: F.conv1d(_ones((1, 2, 6), "bool"), _ones((3, 2, 2), "bool")),
     "\"slow_conv2d_cpu\" not implemented for 'Bool'"),
    (lambda: F.conv3d(_ones((1, 2, 3, 3, 3), "bool"), _ones((2, 2, 2, 2, 2), "bool")),
     "\"compute_columns3d\" not implemented for 'Bool'"),
    (lambda: F.conv2d(_ones((1, 2, 5, 5), "int32"), _ones((2, 2, 2, 2), "int32"),
                      dilation=2), "\"slow_conv_dilated<>\" not implemented for 'Int'"),
    (lambda: F.conv_transpose2d(_ones((1, 2, 3, 3), "int32"), _ones((2, 3, 2, 2), "int32")),
     "\"slow_conv_transpose2d_out_cpu\" not implemented for 'Int'"),
    (lambda: F.conv_transpose1d(_ones((1, 2, 5), "uint8"), _ones((2, 3, 2), "uint8")),
     "\"slow_conv_transpose2d_out_cpu\" not implemented for 'Byte'"),
    (lambda: F.conv_transpose3d(_ones((1, 2, 2, 2, 2), "bool"), _ones((2, 1, 2, 2, 2), "bool")),
     "\"slow_conv_transpose3d_out_cpu\" not implemented for 'Bool'"),
])
def test_convolution_dtype_errors(call, msg):
    with pytest.raises(NotImplementedError, match=msg):
        call()


@pytest.mark.parametrize("fn,shapes,dts,msg", [
    ("addmm", [(2, 2)] * 3, ["int32", "int32", "int64"],
     "self and mat2 must have the same dtype, but got Int and Long"),
    ("addmm", [(2, 2)] * 3, ["int32", "int64", "int32"],
     "mat1 and mat2 must have the same dtype, but got Long and Int"),
    ("addbmm", [(2, 2), (1, 2, 2), (1, 2, 2)], ["int64", "float32", "int64"],
     "mat1 and mat2 must have the same dtype, but got Float and Long"),
    ("addbmm", [(2, 2), (1, 2, 2), (1, 2, 2)], ["int64", "int32", "int32"],
     "self and mat2 must have the same dtype, but got Long and Int"),
    ("baddbmm", [(1, 2, 2)] * 3, ["int32", "int64", "int64"],
     "Input dtypes must be the same, got: input int, batch1: long int, batch2: long int"),
    ("baddbmm", [(1, 2, 2)] * 3, ["float32", "float32", "int64"],
     "expected scalar type Float but found Long"),
])
def test_addmm_family_dtype_errors(fn, shapes, dts, msg):
    with pytest.raises(RuntimeError, match=msg):
        getattr(torch, fn)(*[_ones(s, d) for s, d in zip(shapes, dts)])


@pytest.mark.parametrize("call,msg", [
    (lambda: torch.baddbmm(*[_ones((1, 2, 2), "bool")] * 3), "\"baddbmm\" not implemented"),
    (lambda: _ones((2, 2), "bool").matrix_power(3), "\"addmm_impl_cpu_\" not implemented"),
    (lambda: _ones((2, 2, 2), "bool").matrix_power(2), "\"bmm\" not implemented"),
    (lambda: torch.linalg.multi_dot([_ones((2,), "bool"), _ones((2, 2), "bool")]),
     "\"addmm_impl_cpu_\" not implemented"),
])
def test_bool_products_name_pytorchs_kernels(call, msg):
    with pytest.raises(NotImplementedError, match=msg + " for 'Bool'"):
        call()
    assert torch.linalg.multi_dot([_ones((2, 0), "bool"), _ones((0, 2), "bool")]).tolist() \
        == [[False, False], [False, False]]


# ------------------------------------------------------------------ reductions' words

@pytest.mark.parametrize("call,exc,msg", [
    (lambda: torch.var_mean(_ones((3,), "int32")), RuntimeError,
     "var_mean only support floating point and complex dtypes"),
    (lambda: torch.std_mean(_ones((3,), "bool"), 0), RuntimeError,
     "std_mean only support floating point and complex dtypes"),
    (lambda: torch.var(_ones((3,), "int32")), RuntimeError,
     "std and var only support floating point and complex dtypes"),
    (lambda: _ones((3,), "bool").dist(_ones((3,), "bool")), RuntimeError,
     "Subtraction, the `-` operator, with two bool tensors is not supported"),
    (lambda: _ones((3,), "int32").dist(_ones((3,), "bool")), RuntimeError,
     "Subtraction, the `-` operator, with a bool tensor is not supported"),
    (lambda: _ones((3,), "int32").dist(_ones((3,), "int32")), RuntimeError,
     "norm\\(\\): input dtype should be either floating point or complex. Got Int instead."),
    (lambda: _ones((3,), "bool").histc(), NotImplementedError,
     "\"linspace_cpu\" not implemented for 'Bool'"),
    (lambda: _ones((3,), "int32").histc(), NotImplementedError,
     "\"histogram_cpu\" not implemented for 'Int'"),
])
def test_reduction_dtype_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


@pytest.mark.parametrize("call,msg", [
    (lambda: F.unfold(_ones((1, 1, 4, 4), "int32"), 2), "\"im2col_out_cpu\" not implemented "
                                                        "for 'Int'"),
    (lambda: F.fold(_ones((1, 4, 4), "uint8"), (3, 3), 2), "\"col2im_out_cpu\" not "
                                                           "implemented for 'Byte'"),
    (lambda: F.max_unpool1d(_ones((1, 1, 2), "bool"), torch.zeros(1, 1, 2, dtype=torch.int64),
                            2), "\"max_unpool2d\" not implemented for 'Bool'"),
    (lambda: F.max_unpool3d(_ones((1, 1, 2, 2, 2), "int64"),
                            torch.zeros(1, 1, 2, 2, 2, dtype=torch.int64), 2),
     "\"max_unpool3d\" not implemented for 'Long'"),
])
def test_fold_and_unpool_dtype_errors(call, msg):
    with pytest.raises(NotImplementedError, match=msg):
        call()
    assert F.unfold(_ones((1, 1, 4, 4), "bool"), 2).dtype is torch.bool
    assert F.fold(_ones((1, 4, 4), "float16"), (3, 3), 2).dtype is torch.float16
