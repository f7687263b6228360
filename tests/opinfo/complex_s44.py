"""OpInfos of the complex ops of session 44 (gpujit/ops/complex_parts.py): complex, polar,
imag, view_as_real, view_as_complex. No gradient checks: gpujit refuses to differentiate
complex tensors (tests/test_complex_s44.py)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

F32, F64, C64, C128 = np.float32, np.float64, np.complex64, np.complex128


def crand(*shape, dtype=C64):
    real = np.float32 if dtype == C64 else np.float64
    return np.asarray(rand(*shape, dtype=real) + 1j * rand(*shape, dtype=real)).astype(dtype)


def _complex_ref(real, imag):
    real, imag = np.broadcast_arrays(real, imag)
    out = np.empty(real.shape, np.complex128)
    out.real, out.imag = real, imag
    return out


def _polar_ref(abs, angle):
    return _complex_ref(abs * np.cos(angle), abs * np.sin(angle))


def _pair(ref_name):
    return [Sample(rand(3, 4), rand(3, 4)), Sample(rand(2, 1, dtype=F64), rand(3, dtype=F64)),
            Sample(rand(5), np.array([0., np.inf, -np.inf, np.nan, 1.], F32))]


_PAIR_ERRORS = [ErrorSample(rand(2), rand(2, dtype=F64), match="Expected object of scalar "
                            "type Float but got scalar type Double for second argument"),
                ErrorSample(rand(2, dtype=np.int64), rand(2, dtype=np.int64),
                            match="Expected both inputs to be Half, Float or Double tensors")]

OPINFOS = [
    OpInfo("aten::complex", ref=_complex_ref, samples=_pair("complex"), errors=_PAIR_ERRORS,
           grad=False),
    OpInfo("aten::polar", ref=_polar_ref, grad=False,
           samples=[Sample(np.abs(rand(3, 4)), rand(3, 4)).tol(1e-5, 1e-6),
                    Sample(np.abs(rand(4, dtype=F64)), rand(4, dtype=F64))],
           errors=_PAIR_ERRORS),
    OpInfo("aten::imag", ref=lambda x: x.imag, grad=False,
           samples=[Sample(crand(3, 4)), Sample(crand(5, dtype=C128))],
           errors=[ErrorSample(rand(3), match="imag is not implemented for tensors with "
                                             "non-complex dtypes")]),
    OpInfo("aten::view_as_real", ref=lambda x: np.stack([x.real, x.imag], -1), grad=False,
           samples=[Sample(crand(3, 4)), Sample(crand(2, dtype=C128)), Sample(crand())],
           errors=[ErrorSample(rand(3), match="view_as_real is only supported for complex "
                                             "tensors")]),
    # (no non-contiguous samples: a last dim of stride 1 is the op's own requirement)
    OpInfo("aten::view_as_complex", ref=lambda x: x[..., 0] + 1j * x[..., 1], grad=False,
           noncontiguous=False,
           samples=[Sample(rand(3, 2)), Sample(rand(2, 4, 2, dtype=F64)), Sample(rand(2))],
           errors=[ErrorSample(rand(3, 3), match="Tensor must have a last dimension of size 2"),
                   ErrorSample(rand(2, 2, dtype=np.int64), match="view_as_complex is only "
                               "supported for half, float and double tensors")]),
]


# ------------------------------------------------------------------ torch.fft, complex parts

_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _ihfftn(x, s=None, axes=None, norm=None):
    return np.conj(np.fft.rfftn(x, s=s, axes=axes, norm=_SWAP[norm]))


def _fft_ref(name):
    f = getattr(np.fft, name) if hasattr(np.fft, name) else _ihfftn
    if name == "ihfft2":
        f = lambda x, s=None, axes=(-2, -1), norm=None: _ihfftn(x, s, axes, norm)  # noqa: E731

    def ref(x, *args, **kw):
        nkw = {}
        one = name[-1] not in "2n"
        if args:
            nkw["n" if one else "s"] = args[0]
        for k, v in kw.items():
            nkw[{"dim": "axis" if one else "axes"}.get(k, k)] = v
        if not one and nkw.get("s") is not None and nkw.get("axes") is None:
            nkw["axes"] = list(range(x.ndim - len(nkw["s"]), x.ndim))
        return f(x.astype(np.complex128) if x.dtype.kind == "c" else x.astype(np.float64), **nkw)
    return ref


def _fft_samples(name):
    one = name[-1] not in "2n"
    real_in = name.lstrip("i").startswith(("rfft", "hfft")) and name.startswith(("r", "ih"))
    c2r = name.startswith(("irfft", "hfft"))
    x = rand(4, 6) if real_in else crand(4, 6)
    out = [Sample(x).tol(2e-5, 2e-5), Sample(rand(3, 6, dtype=F64)),
           Sample(x, norm="ortho").tol(2e-5, 2e-5)]
    if one:
        out.append(Sample(x, 5, dim=0, norm="forward").tol(2e-5, 2e-5))
    else:
        out.append(Sample(x, (3, 8) if not c2r else (3, 6), dim=(0, 1)).tol(2e-5, 2e-5))
    if not real_in:
        out.append(Sample(crand(5, dtype=C128) if one else crand(2, 3, dtype=C128)))
    return out


OPINFOS += [
    OpInfo(f"aten::fft_{n}", ref=_fft_ref(n), samples=_fft_samples(n), grad=False)
    for n in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "rfft2", "rfftn",
              "ihfft", "ihfft2", "ihfftn")
]
OPINFOS[-6].errors = [ErrorSample(crand(3), match="rfft expects a real input tensor, but "
                                                  "got ComplexFloat")]


# ------------------------------------------------------------------ scripted torch.tensor(1j)

def _complex_tensor_info(name, samples):
    def ref(t, dtype=None, **kw):
        return np.asarray(t, dtype=C64 if dtype is None else dtype.np)
    return OpInfo(f"aten::{name}", ref=ref, samples=samples, grad=False)


OPINFOS += [
    _complex_tensor_info(f"{fn}.complex{suffix}", samples)
    for fn in ("tensor", "as_tensor")
    for suffix, samples in (("", [Sample(1 + 2j), Sample(2.5 - 1j)]),
                            ("_list", [Sample([1j, 2 + 0j]), Sample([3 - 1j])]))]
