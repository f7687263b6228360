"""OpInfos of dtype/device conversion, copies and value reads (gpujit/ops/conversion.py).
PyTorch's casts: float -> int truncates toward zero, anything -> bool is `!= 0` (NaN is
True), int -> narrower int wraps; fill_ and copy_ cast the same way."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, ALL_DTYPES

F16, F32, F64, I64, I32, U8, B = (np.float16, np.float32, np.float64, np.int64, np.int32,
                                  np.uint8, np.bool_)
_GD = {np.dtype(d): getattr(G, np.dtype(d).name) for d in ALL_DTYPES}


def _cast(x, npdt):
    npdt = np.dtype(npdt)
    if npdt == B:
        return x != 0
    if npdt.kind in "iu" and x.dtype.kind == "f":
        return np.trunc(x).astype(np.int64).astype(npdt)
    return x.astype(npdt)


def _to_dtype_samples():
    # float64 results first: gradcheck (tests/test_autograd_registry.py) checks the first
    # few samples, and finite differences are only exact enough in a float64 output
    out = [Sample(rand(3, 4, dtype=F32), G.float64), Sample(rand(2, 3, dtype=F64).T, G.float64),
           Sample(rand(3, dtype=F16), G.float64, copy=True)]
    for src in ALL_DTYPES:
        for dst in (B, U8, I32, I64, F16, F32, F64):
            out.append(Sample(rand(3, 4, dtype=src, low=-3, high=3), _GD[np.dtype(dst)])
                       .expect_dtype(_GD[np.dtype(dst)]))
    out += [Sample(rand(2, 2), G.float32, copy=True), Sample(rand(), G.int64),
            Sample(rand(0, 2), G.float16), Sample(np.array([np.nan, 0.0, -0.0]), G.bool),
            Sample(rand(3, dtype=I64, low=250, high=260), G.uint8),
            Sample(rand(3), G.float64, False, False)]
    return out


TO_DTYPE = OpInfo("aten::to.dtype", ref=lambda x, dtype, *a, **k: _cast(x, dtype.np),
                  samples=_to_dtype_samples)

TO_DEVICE = OpInfo(
    "aten::to.device",
    ref=lambda x, device, dtype=None, *a, **k: x if dtype is None else _cast(x, dtype.np),
    samples=[Sample(rand(3, 4), G.device("cpu")), Sample(rand(3, 4), "cpu", G.float64),
             Sample(rand(3, dtype=I32), G.device("cpu"), dtype=G.bool, copy=True),
             Sample(rand(), G.device("cpu"), None, False, True)])

# TorchScript's x.to(...) overloads with Optional device / dtype (int? dtype: a ScalarType code
# in scripted code, a dtype eagerly)
TO_PRIM_DEVICE = OpInfo(
    "aten::to.prim_Device",
    ref=lambda x, device=None, dtype=None, *a, **k: x if dtype is None else _cast(x, dtype.np),
    samples=[Sample(rand(3, 4), G.device("cpu")), Sample(rand(3, 4), None),
             Sample(rand(3, dtype=I32), G.device("cpu"), G.float64),
             Sample(rand(2, 2), None, G.float64, False, True),
             Sample(rand(), G.device("cpu"), None, False, True)])

TO_PRIM_DTYPE = OpInfo(
    "aten::to.prim_dtype",
    ref=lambda x, dtype=None, *a, **k: x if dtype is None else _cast(x, dtype.np),
    samples=[Sample(rand(3, 4), G.float64), Sample(rand(3, 4)),
             Sample(rand(3, dtype=I32), G.bool, False, True), Sample(rand(), None, False, True)])

TO_PRIM_OTHER = OpInfo(
    "aten::to.prim_other", ref=lambda x, *a, **k: x,
    samples=[Sample(rand(3, 4)), Sample(rand(2, 3), False, True), Sample(rand(3, dtype=I32))])

TO_DTYPE_LAYOUT = OpInfo(
    "aten::to.dtype_layout",
    ref=lambda x, dtype=None, *a, **k: x if dtype is None else _cast(x, dtype.np),
    # float64 results first (gradcheck checks the first few samples)
    samples=[Sample(rand(2, 3, 4, 5), memory_format="channels_last"),
             Sample(rand(2, 3, 4, 5), dtype=G.float64, memory_format="channels_last"),
             Sample(rand(3, 4).T, dtype=G.float64, memory_format="contiguous_format"),
             Sample(rand(2, 3, 4, 5), dtype=G.int32, memory_format=0),
             Sample(rand(3, 4).T, dtype=G.float16),
             Sample(rand(3, 4), device=G.device("cpu"), copy=True),
             Sample(rand(2, 3, 4, 5, 6), memory_format="channels_last_3d")],
    errors=[ErrorSample(rand(2, 3), memory_format="channels_last",
                        match="required rank 4 tensor to use channels_last format")])

_ALL = [Sample(rand(3, 4, dtype=d)) for d in ALL_DTYPES] + [
    Sample(rand()), Sample(rand(0, 3)), Sample(rand(4, 3).T)]

_FORMATS = [Sample(rand(2, 3, 4, 5), memory_format="channels_last"),
            Sample(rand(2, 4, 5, 3).transpose(0, 3, 1, 2), memory_format="contiguous_format"),
            Sample(rand(2, 3, 4, 5, 6), memory_format="channels_last_3d"),
            Sample(rand(2, 3, 4, 5), memory_format=2)]        # (TorchScript's int)
CLONE = OpInfo("aten::clone", ref=lambda x, **k: x,
               samples=_ALL + _FORMATS + [Sample(rand(2, 3).T, memory_format="contiguous_format"),
                                          Sample(rand(2, 3).T, memory_format="preserve_format")],
               errors=[ErrorSample(rand(2, 3), memory_format="channels_last",
                                   match="required rank 4 tensor to use channels_last format")])
CONTIGUOUS = OpInfo(
    "aten::contiguous", ref=lambda x, **k: x, samples=_ALL + _FORMATS,
    errors=[ErrorSample(rand(2, 3, 4), memory_format="channels_last_3d",
                        match="required rank 5 tensor to use channels_last_3d format"),
            ErrorSample(rand(2, 3).T, memory_format="preserve_format",
                        match="preserve memory format is unsupported")])
DETACH = OpInfo("aten::detach", ref=lambda x: x, samples=_ALL)

ITEM = OpInfo(
    "aten::item", ref=lambda x: x.reshape(()).item(),
    samples=[Sample(rand()), Sample(rand(1, 1)), Sample(np.array(3, dtype=I64)),
             Sample(np.array([True])), Sample(np.array(2.5, dtype=F16))],
    errors=[ErrorSample(rand(2), exc=(RuntimeError, ValueError))])


def _copy_ref(x, src, non_blocking=False):
    return _cast(np.broadcast_to(np.asarray(src), x.shape), x.dtype)


COPY_ = OpInfo(
    "aten::copy_", ref=_copy_ref,
    samples=[Sample(rand(3, 4), rand(3, 4)), Sample(rand(3, 4), rand(4)),
             Sample(rand(3, 4), rand()),
             Sample(rand(3, dtype=I32), rand(3)), Sample(rand(3, dtype=B), rand(3)),
             Sample(rand(3, dtype=F16), rand(3, dtype=I64)), Sample(rand(2, 3), rand(3, 1).T),
             Sample(rand(0, 3), rand(3)), Sample(rand(3), rand(3), True)],
    errors=[ErrorSample(rand(3), rand(4), match=r"size of tensor a \(3\) must match"),
            ErrorSample(rand(3), rand(2, 3), match=r"output with shape \[3\] doesn't match the "
                                                   r"broadcast shape \[2, 3\]")])


def _fill_ref(x, value):
    return _cast(np.full(x.shape, value, dtype=np.float64 if isinstance(value, float)
                         else np.int64), x.dtype)


FILL_ = OpInfo(
    "aten::fill_.Scalar", ref=_fill_ref,
    samples=[Sample(rand(3, 4), 2.5), Sample(rand(3, 4, dtype=I32), 2.7),
             Sample(rand(3, dtype=U8), -1), Sample(rand(3, dtype=B), 2), Sample(rand(), 7),
             Sample(rand(0, 2), 1.0), Sample(rand(2, dtype=I64), True),
             *[Sample(rand(2, 3, dtype=d), 1) for d in ALL_DTYPES]])

FILL_TENSOR_ = OpInfo(
    "aten::fill_.Tensor", ref=lambda x, value: _fill_ref(x, value.item()),
    samples=[Sample(rand(3, 4), rand()), Sample(rand(3, 4, dtype=I32), rand()),
             Sample(rand(), rand(dtype=F64)), Sample(rand(0, 2), rand()),
             *[Sample(rand(2, 3, dtype=d), rand(dtype=d)) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(3), rand(2), match="fill_ only supports 0-dimension value tensor")])

ZERO_ = OpInfo("aten::zero_", ref=lambda x: np.zeros_like(x), samples=_ALL)



def _cast_info(suffix, npdt):
    # every dtype in; gradcheck (float64 finite differences) only where the result is
    # float64: a float32/float16 result is too coarse for them (the derivative is
    # to.dtype's, checked there with float64 results)
    return OpInfo(f"aten::_cast_{suffix}", ref=lambda x, non_blocking=False: _cast(x, npdt),
                  grad=np.dtype(npdt) == F64,
                  samples=[Sample(rand(3, 4, dtype=F64, low=-3, high=3))] + [
                      Sample(rand(3, 4, dtype=d, low=-3, high=3)).expect_dtype(
                          _GD[np.dtype(npdt)]) for d in ALL_DTYPES] + [
                      Sample(rand()), Sample(rand(0, 2)), Sample(rand(4, 3).T, True),
                      Sample(rand(3, dtype=I64, low=250, high=260))])


CASTS = [_cast_info(k, v) for k, v in (("Byte", U8), ("Char", np.int8), ("Short", np.int16),
                                       ("Int", I32), ("Long", I64), ("Half", F16),
                                       ("Float", F32), ("Double", F64))]



def _reduced_ref(x, cuda_enabled, cpu_enabled, cuda_dtype, cpu_dtype):
    # float32 only is cast, to the region's dtype (the samples enable both devices alike:
    # the same answer on either, as test_op_cuda_matches_cpu compares)
    return x.astype(cpu_dtype.np) if cpu_enabled and x.dtype == F32 else x


def _full_ref(x, cuda_enabled, cpu_enabled):
    return x.astype(F32) if cpu_enabled and x.dtype == F16 else x


# the casts the scripted autocast pass inserts (passes/autocast.py): float64 first
# (gradcheck reads the first samples), then the cases a region meets; a region of the
# other device type only (a no-op here) is tests/test_jit_autocast_port.py's
AUTOCAST_REDUCED = OpInfo(
    "aten::_autocast_to_reduced_precision", ref=_reduced_ref,
    samples=[Sample(rand(3, dtype=F64), True, True, G.float16, G.float16),
             Sample(rand(2, 3), True, True, G.float16, G.float16).expect_dtype(G.float16),
             Sample(rand(2, 3), False, False, G.float16, G.float16),
             Sample(rand(3, dtype=F16), True, True, G.float16, G.float16),
             Sample(rand(3, dtype=I64), True, True, G.float16, G.float16)])
AUTOCAST_FULL = OpInfo(
    "aten::_autocast_to_full_precision", ref=_full_ref,
    samples=[Sample(rand(3, dtype=F64), True, True),
             Sample(rand(2, 3, dtype=F16), True, True).expect_dtype(G.float32),
             Sample(rand(2, 3, dtype=F16), False, False),
             Sample(rand(3), True, True), Sample(rand(3, dtype=I32), True, True)])

# x.to(other): other's dtype (and device; other's values unused)
TO_OTHER = OpInfo(
    "aten::to.other", ref=lambda x, other, *a, **k: _cast(x, other.dtype),
    samples=[Sample(rand(3, 4), rand(2, dtype=np.float64)),
             Sample(rand(3, dtype=I32), rand(1), False, True),
             Sample(rand(3, 4), rand(3, 4), copy=True),
             Sample(rand(2, 3, 4, 5), rand(1, dtype=np.float16),
                    memory_format="channels_last"),
             Sample(rand(), rand(2, dtype=np.bool_)),
             Sample(rand(4, 3).T, rand(0, dtype=np.int64))],
    errors=[ErrorSample(rand(2, 3), rand(1), memory_format="channels_last",
                        match="required rank 4 tensor to use channels_last format")])

# TorchScript's x.cpu() / x.cuda() (the GPU tier, tests/test_cuda_paths_s29.py, moves
# between devices; a CPU tensor's cpu() is itself)
CPU = OpInfo("aten::cpu", ref=lambda x: x, gpu=False,
             samples=[Sample(rand(3, 4)), Sample(rand(2, 3, 4, dtype=np.float64)),
                      Sample(rand(5, dtype=I32)), Sample(rand())])


def _on_cuda(sample, out):
    assert out.is_cuda and out.device.index == G.cuda.current_device(), out.device
    np.testing.assert_array_equal(out.cpu().numpy(), sample.args[0])


CUDA = OpInfo("aten::cuda", check=_on_cuda, gpu=False,
              samples=lambda: [Sample(rand(3, 4)), Sample(rand(2, 3, dtype=np.float64)),
                               Sample(rand(4, dtype=I32))] if G.cuda.is_available() else [
                  ErrorSample(rand(3), match="Torch not compiled with CUDA enabled")])

# x.type_as(other): other's dtype (other's device and values unused)
TYPE_AS = OpInfo(
    "aten::type_as", ref=lambda x, other: _cast(x, other.dtype),
    samples=[Sample(rand(3, 4), rand(2, dtype=np.float64)),
             Sample(rand(3, dtype=I32), rand(1)),
             Sample(rand(3, 4), rand(3, 4)),
             Sample(rand(), rand(2, dtype=np.bool_)),
             Sample(rand(4, 3).T, rand(0, dtype=np.int64))])

OPINFOS = [TO_DTYPE, TO_DEVICE, TO_DTYPE_LAYOUT, TO_OTHER, TO_PRIM_DEVICE, TO_PRIM_DTYPE, TO_PRIM_OTHER,
           TYPE_AS, CPU, CUDA, CLONE, CONTIGUOUS, DETACH, ITEM, COPY_, FILL_, FILL_TENSOR_,
           ZERO_, AUTOCAST_REDUCED, AUTOCAST_FULL] + CASTS
