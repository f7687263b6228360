"""More of ATen's bfloat16 kernels as Tensor-level implementations (bfloat16_kernels.py's
TENSOR_IMPLS takes these in: the same contract, NotImplemented runs the op's own impl):
float accumulation of scans, ops torch refuses with its own errors, compositions ATen runs
op by op in bfloat16 (cross_entropy with label smoothing, nanmean, trapezoid, multi_dot),
kernels computing in c10::BFloat16 steps (cross, addr, huber_loss, binary_cross_entropy,
renorm's factor), range / logspace / normal factories. Each is compared with torch 2.13 in
tests/test_bfloat16_s46.py."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .bfloat16_support import BF16, round_bf16, _new_tensor, _xp

__all__ = ["TENSOR_IMPLS"]

TENSOR_IMPLS = {}


def _bf(x):
    """c10::BFloat16 of a Python number (through float)."""
    return float(round_bf16(np, np.float32(x))[()])


def _scan(name):
    """cumsum / logcumsumexp of bfloat16 as ATen's CPU scan: accumulated in float from
    +0 (or -inf), in order, each partial result rounded (gpujit's float32 rule accumulates
    in double; a first element -0.0 gave -0.0, ATen's 0 + -0.0 is +0.0)."""
    def scan(self, dim, dtype=None):
        if self._dtype is not BF16 or dtype not in (None, BF16) or self._data.ndim == 0:
            return NotImplemented
        a = self._data
        xp = _xp(a)
        d = dim % a.ndim
        with np.errstate(all="ignore"):
            if name == "cumsum":
                r = xp.cumsum(a, axis=d, dtype=np.float32)
            else:
                r = xp.logaddexp.accumulate(a, axis=d, dtype=np.float32)
            r = r + np.float32(0)
        return _new_tensor(self, round_bf16(xp, r), BF16)
    return scan


TENSOR_IMPLS.update({"aten::cumsum": _scan("cumsum"), "aten::logcumsumexp": _scan("lcse")})


def _refuses(error, message, cpu_only=True):
    """An op ATen has no bfloat16 kernel for (on the CPU: cpu_only): its own error."""
    def refuse(self, *args):
        if cpu_only and getattr(self, "_device", None) is not None and \
                self._device.type != "cpu":
            return NotImplemented
        raise error(message)
    return refuse


_FFT_REFUSES = _refuses(RuntimeError, "Unsupported dtype BFloat16", cpu_only=False)
TORCH_REFUSES = {
    "aten::cdist": _refuses(NotImplementedError, "\"cdist\" not implemented for 'BFloat16'"),
    "aten::avg_pool3d": _refuses(NotImplementedError,
                                 "\"avg_pool3d_out_frame\" not implemented for 'BFloat16'"),
}
TORCH_REFUSES.update({f"aten::fft_{n}": _FFT_REFUSES for n in (
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
    "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn")})
TENSOR_IMPLS.update(TORCH_REFUSES)


def _cross_entropy_smoothed(self, target, weight=None, reduction=1, ignore_index=-100,
                            label_smoothing=0.0):
    """cross_entropy of bfloat16 logits with class indices and label smoothing as ATen's
    cross_entropy_loss_label_smoothing composes it, each op in bfloat16: log_softmax, its
    nll_loss, -sum over the classes (0 where ignored), mean as sum / (numel - ignored),
    then (1 - ls) * nll + smooth * (ls / n_classes). (gpujit computed it in float32 and
    rounded once: 1 ulp off.)"""
    if not label_smoothing or weight is not None or self._dtype is not BF16 or \
            target._dtype.category == _dt.FLOATING or self._data.ndim == 0:
        from .bfloat16_kernels import _cross_entropy
        return _cross_entropy(self, target, weight, reduction, ignore_index, label_smoothing)
    from .registry import OPS
    cdim = 1 if self._data.ndim > 1 else 0
    inp = OPS["aten::log_softmax.int"].eager(self, cdim)
    nll = OPS["aten::nll_loss_nd"].eager(inp, target, None, reduction, ignore_index)
    mask = target == ignore_index
    smooth = (-inp.sum(cdim)).masked_fill_(mask, 0.0)
    if reduction == 1:
        smooth = smooth.sum() / (target.numel() - mask.sum())
    elif reduction == 2:
        smooth = smooth.sum()
    n = self.shape[cdim]
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n)


TENSOR_IMPLS["aten::cross_entropy_loss"] = _cross_entropy_smoothed


def _normal_float_float(mean, std, size, generator=None, dtype=None, layout=None,
                        device=None, pin_memory=None):
    """normal(mean, std, size, dtype=bfloat16): empty(size).normal_(mean, std), as ATen."""
    if dtype is not BF16:
        return NotImplemented
    from .registry import OPS
    from .bfloat16_kernels import _normal_
    t = OPS["aten::zeros"].eager(size, dtype=BF16, device=device)
    return _normal_(t, mean, std, generator)


def _range_step(start, end, step=1, dtype=None, layout=None, device=None, pin_memory=None):
    """range(dtype=bfloat16): ATen's range_cpu in its accscalar_t, float for bfloat16: the
    size (end - start) / step + 1 in float (range(1, 2, 0.001) has 1000 elements, float32's
    1001), start + i * step in float, each value rounded once; the errors the float32
    op's."""
    if dtype is not BF16:
        return NotImplemented
    from .registry import OPS
    t = OPS["aten::range.step"].eager(start, end, step, dtype=_dt.float32, device=device)
    xp = _xp(t._data)
    f = [np.float32(float(getattr(v, "item", lambda: v)())) for v in (start, end, step)]
    with np.errstate(all="ignore"):
        n = int((f[1] - f[0]) / f[2] + np.float32(1))
    i = xp.arange(max(n, 0), dtype=np.float32)
    return _new_tensor(t, round_bf16(xp, f[0] + i * f[2]), BF16)


def _logspace(start, end, steps, base=10.0, dtype=None, layout=None, device=None,
              pin_memory=None):
    """logspace(dtype=bfloat16) as ATen's logspace_cpu: start and end as bfloat16, the
    step (end - start, in bfloat16) / (steps - 1) in double, pow(base, start + step * i)
    below halfway and pow(base, end - step * (steps - i - 1)) from there in double, each
    value through float to bfloat16."""
    if dtype is not BF16 or hasattr(start, "_data") or hasattr(end, "_data") or \
            isinstance(start, complex) or isinstance(end, complex) or steps < 0:
        return NotImplemented
    import math
    s, e = _bf(float(start)), _bf(float(end))
    b = float(base)
    vals = []
    if steps == 1:
        vals = [math.pow(b, s)]
    elif steps > 1:
        step = _bf(e - s) / (steps - 1)
        half = steps // 2
        for i in range(steps):
            x = s + step * i if i < half else e - step * (steps - i - 1)
            try:
                vals.append(math.pow(b, x))
            except OverflowError:
                vals.append(math.inf)
            except ValueError:
                vals.append(math.nan)
    with np.errstate(all="ignore"):
        out = round_bf16(np, np.asarray(vals, np.float64).astype(np.float32))
    from ..device import resolve, cpu
    from .registry import wrap
    dev = cpu if device is None else resolve(device)
    if dev is not cpu:
        import cupy
        with cupy.cuda.Device(dev.index):
            return wrap(cupy.asarray(out), BF16, dev)
    return wrap(out, BF16, dev)


TENSOR_IMPLS.update({
    "aten::normal.float_float": _normal_float_float, "aten::range.step": _range_step,
    "aten::logspace": _logspace,
})


def _nanmean(self, dim=None, keepdim=False, dtype=None):
    """nanmean of bfloat16 as ATen composes it: nansum (rounded to bfloat16) divided by the
    count of non-NaN elements (an int64 tensor), rounded again (gpujit's float32 rule
    divided before rounding: 1 ulp off)."""
    if self._dtype is not BF16 or dtype not in (None, BF16):
        return NotImplemented
    from .registry import OPS
    s = OPS["aten::nansum"].eager(self, dim, keepdim)
    ok = OPS["aten::logical_not"].eager(OPS["aten::isnan"].eager(self))
    n = OPS["aten::sum.dim_IntList"].eager(ok, dim, keepdim)
    return OPS["aten::div.Tensor"].eager(s, n)


TENSOR_IMPLS["aten::nanmean"] = _nanmean


def _cross(self, other, dim=-1, legacy=False):
    """cross of bfloat16 as ATen's cross kernel computes it in c10::BFloat16: each of
    a[i] * b[j] and a[j] * b[i] rounded, then their difference (rounding once is 1 ulp
    off); broadcasting, the dim checks and errors the op's own (its float32 result's
    shape)."""
    if self._dtype is not BF16 or getattr(other, "_dtype", None) is not BF16:
        return NotImplemented
    from .registry import OPS
    if legacy and dim is None:      # (torch.cross's deprecated default: the first size 3)
        from .linalg_matfn import _cross_default_dim
        from .._frames import warn_at_user_frame
        dim = _cross_default_dim(self.shape, other.shape)
        warn_at_user_frame("Using torch.cross without specifying the dim arg is deprecated."
                           "\nPlease either pass the dim explicitly or simply use "
                           "torch.linalg.cross.\nThe default value of dim will change to "
                           "agree with that of linalg.cross in a future release.")
    ref = OPS["aten::linalg_cross"].eager(self.float(), other.float(), dim)   # (checks)
    a, b = self._data, other._data
    xp = _xp(a)
    a, b = xp.broadcast_arrays(a, b)
    d = dim % a.ndim
    a, b = xp.moveaxis(a, d, -1), xp.moveaxis(b, d, -1)
    i, j = [1, 2, 0], [2, 0, 1]
    r = round_bf16(xp, round_bf16(xp, a[..., i] * b[..., j]) -
                   round_bf16(xp, a[..., j] * b[..., i]))
    r = xp.ascontiguousarray(xp.moveaxis(r, -1, d))
    assert r.shape == ref._data.shape
    return _new_tensor(self, r, BF16)


TENSOR_IMPLS["aten::linalg_cross"] = _cross
TENSOR_IMPLS["aten::cross"] = lambda self, other, dim=None: _cross(self, other, dim, True)


def _reduced(loss, reduction):
    """apply_loss_reduction: the elementwise bfloat16 loss, its mean or sum (accumulated
    in float, rounded once)."""
    from .registry import OPS
    if reduction == 1:
        return OPS["aten::mean"].eager(loss)
    if reduction == 2:
        return OPS["aten::sum"].eager(loss)
    return loss


def _huber_loss(self, target, reduction=1, delta=1.0):
    """huber_loss of bfloat16 as ATen's kernel computes it in c10::BFloat16 (delta cast to
    bfloat16; z = |x - y|; z < delta: 0.5 * z * z, else delta * (z - 0.5 * delta), each
    step rounded), then the reduction."""
    if self._dtype is not BF16 or getattr(target, "_dtype", None) is not BF16:
        return NotImplemented
    a, b = self._data, target._data
    xp = _xp(a)
    try:
        a, b = xp.broadcast_arrays(a, b)
    except ValueError:
        return NotImplemented
    d = np.float32(_bf(delta))
    h = np.float32(0.5)
    with np.errstate(all="ignore"):
        z = round_bf16(xp, xp.abs(round_bf16(xp, a - b)))
        v = xp.where(z < d, round_bf16(xp, round_bf16(xp, h * z) * z),
                     round_bf16(xp, d * round_bf16(xp, z - round_bf16(xp, h * d))))
    return _reduced(_new_tensor(self, v.astype(np.float32), BF16), reduction)


def _bce(self, target, weight=None, reduction=1):
    """binary_cross_entropy of bfloat16 as ATen's kernel computes it in c10::BFloat16:
    (y - 1) * max(log1p(-x), -100) - y * max(log(x), -100), each step rounded; times the
    weight (rounded), then the reduction. Out-of-range inputs: the op's own error."""
    if self._dtype is not BF16 or getattr(target, "_dtype", None) is not BF16 or \
            (weight is not None and weight._dtype is not BF16):
        return NotImplemented
    x, y = self._data, target._data
    xp = _xp(x)
    if x.shape != y.shape or bool(((x < 0) | (x > 1) | (x != x)).any()):
        return NotImplemented
    one, floor = np.float32(1), np.float32(-100)
    with np.errstate(all="ignore"):
        v = round_bf16(xp, round_bf16(xp, round_bf16(xp, y - one) *
                                      xp.maximum(round_bf16(xp, xp.log1p(-x)), floor)) -
                       round_bf16(xp, y * xp.maximum(round_bf16(xp, xp.log(x)), floor)))
        if weight is not None:
            v = round_bf16(xp, v * weight._data)
    return _reduced(_new_tensor(self, v.astype(np.float32), BF16), reduction)


TENSOR_IMPLS.update({"aten::huber_loss": _huber_loss, "aten::binary_cross_entropy": _bce})


def _trapezoid(cumulative):
    """trapezoid / cumulative_trapezoid with a spacing dx of bfloat16 as ATen composes them,
    each op in bfloat16: (y.sum(dim) - (y[0] + y[-1]) * 0.5) * dx, and
    (dx / 2 * (y[:-1] + y[1:])).cumsum(dim) (rounding once was 1 ulp off)."""
    def impl(y, dx=1, dim=-1):
        if y._dtype is not BF16 or hasattr(dx, "_data") or not y._data.ndim:
            return NotImplemented
        n = y._data.shape[dim % y._data.ndim]
        if n < 2:
            return NotImplemented
        if cumulative:
            s = y.narrow(dim, 0, n - 1) + y.narrow(dim, 1, n - 1)
            return (float(dx) / 2.0 * s).cumsum(dim)
        return (y.sum(dim) - (y.select(dim, 0) + y.select(dim, -1)) * 0.5) * float(dx)
    return impl


TENSOR_IMPLS.update({"aten::trapezoid.dx": _trapezoid(False), "aten::trapz.dx": _trapezoid(False),
                     "aten::cumulative_trapezoid.dx": _trapezoid(True)})


def _addr(self, vec1, vec2, beta=1, alpha=1):
    """addr of bfloat16 as ATen's addr kernel computes it in c10::BFloat16: beta and alpha
    cast to bfloat16, beta * self + (alpha * vec1) * vec2, each step rounded (beta == 0:
    self ignored, NaN included); the op's own checks on a float32 copy first."""
    if any(getattr(t, "_dtype", None) is not BF16 for t in (self, vec1, vec2)) or \
            isinstance(beta, complex) or isinstance(alpha, complex):
        return NotImplemented
    from .registry import OPS
    ref = OPS["aten::addr"].eager(self.float(), vec1.float(), vec2.float(), beta=beta,
                                  alpha=alpha)                  # (checks, shape)
    xp = _xp(self._data)
    r = lambda a: round_bf16(xp, a)     # noqa: E731
    b, a = np.float32(_bf(float(beta))), np.float32(_bf(float(alpha)))
    with np.errstate(all="ignore"):
        prod = r(r(a * vec1._data)[:, None] * vec2._data[None, :])
        out = prod if beta == 0 else r(r(b * self._data) + prod)
    out = xp.ascontiguousarray(xp.broadcast_to(out, ref._data.shape)).astype(np.float32)
    return _new_tensor(self, out, BF16)


TENSOR_IMPLS["aten::addr"] = _addr


def _renorm_factor(self, p, dim, maxnorm):
    """ATen's renorm of bfloat16: each slice's p-norm in float, the factor maxnorm /
    (norm + 1e-7) where it exceeds maxnorm (else 1) computed in float and rounded to
    bfloat16, the slice times it rounded. None where another path must run."""
    import math
    a = self._data
    p = float(p)
    if self._dtype is not BF16 or a.ndim < 2 or not a.size or not (p > 0) or \
            isinstance(maxnorm, complex):
        return None
    xp = _xp(a)
    d = dim % a.ndim
    other = tuple(i for i in range(a.ndim) if i != d)
    with np.errstate(all="ignore"):
        if math.isinf(p):
            nrm = xp.abs(a).max(other, keepdims=True)
        else:
            nrm = ((xp.abs(a) ** np.float32(p)).sum(other, keepdims=True, dtype=np.float32)
                   ** np.float32(1 / p)).astype(np.float32)
        mx = np.float32(float(maxnorm))
        fac = xp.where(nrm > mx, mx / (nrm + np.float32(1e-7)), np.float32(1))
        return round_bf16(xp, a * round_bf16(xp, fac.astype(np.float32)))


def _renorm(self, p, dim, maxnorm):
    r = _renorm_factor(self, p, dim, maxnorm)
    if r is None:
        return NotImplemented
    from .registry import OPS
    OPS["aten::renorm"].eager(self.float(), p, dim, maxnorm)      # (the op's checks)
    return _new_tensor(self, r, BF16)


def _renorm_(self, p, dim, maxnorm):
    r = _renorm_factor(self, p, dim, maxnorm)
    if r is None:
        return NotImplemented
    from .registry import OPS
    OPS["aten::renorm"].eager(self.float(), p, dim, maxnorm)      # (the op's checks)
    self._data[...] = r
    self._vc[0] += 1
    return self


TENSOR_IMPLS.update({"aten::renorm": _renorm, "aten::renorm_": _renorm_})


def _multi_dot(tensors):
    """linalg.multi_dot of bfloat16 matrices in ATen's order (linalg_matfn._chain_order),
    each product a bfloat16 mm (rounded), as ATen multiplies them (the float32 chain
    rounded once was off)."""
    if not tensors or any(getattr(t, "_dtype", None) is not BF16 for t in tensors):
        return NotImplemented
    from .linalg_matfn import _multi_dot_check, _chain_order, _as_matrices
    from .registry import OPS
    shape = _multi_dot_check([tuple(t.shape) for t in tensors], [t._dtype for t in tensors])
    mats = _as_matrices(list(tensors), lambda t, d: t.unsqueeze(d))
    if any(0 in tuple(m.shape) for m in mats):
        return NotImplemented           # (no elements: the op's own zeros)
    mm = OPS["aten::mm"].eager

    def product(node):
        return mats[node] if isinstance(node, int) else mm(product(node[0]),
                                                           product(node[1]))
    return product(_chain_order([tuple(m.shape) for m in mats])).reshape(shape)


TENSOR_IMPLS["aten::linalg_multi_dot"] = _multi_dot


def _bicubic(self, output_size, align_corners, *rest):
    """upsample_bicubic2d of bfloat16: align_corners=False computes in float and rounds
    once, bit for bit ATen's; align_corners=True does not match ATen's bfloat16 kernel
    yet: refused in gpujit's words rather than 1 ulp off."""
    if self._dtype is BF16 and align_corners:
        from .registry import OPS, bf16_refused
        raise bf16_refused(OPS["aten::upsample_bicubic2d"])
    return NotImplemented


TENSOR_IMPLS.update({"aten::upsample_bicubic2d": _bicubic,
                     "aten::upsample_bicubic2d.vec": _bicubic})


def _histc(self, bins=100, min=0, max=0):
    """histc of bfloat16 as ATen's histogram kernel bins it: the edges and each element's
    bin (x - min) * bins / (max - min) in c10::BFloat16 arithmetic, every step rounded
    (binning in float put elements in the neighbouring bin); the counts exact, rounded to
    bfloat16 once. (ATen adds the counts in bfloat16 per thread, so past 256 in one bin its
    totals stop growing and depend on the thread count: not followed.)"""
    if self._dtype is not BF16 or not self._data.size:
        return NotImplemented
    from .registry import OPS
    ref = OPS["aten::histc"].eager(self.float(), bins, min, max)      # (the op's checks)
    a = self._data
    xp = _xp(a)
    lo, hi = float(min), float(max)
    if lo == hi:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    lo, hi = np.float32(_bf(lo)), np.float32(_bf(hi))
    x = a.reshape(-1)
    x = x[(x >= lo) & (x <= hi)]
    r = lambda v: round_bf16(xp, v)     # noqa: E731
    with np.errstate(all="ignore"):
        pos = r(r(r(x - lo) * np.float32(_bf(bins))) / r(hi - lo)).astype(np.int64)
    pos = xp.where(pos == bins, bins - 1, pos)
    counts = xp.bincount(pos, minlength=int(bins))[:int(bins)].astype(np.float32)
    return _new_tensor(ref, round_bf16(xp, counts), BF16)


TENSOR_IMPLS["aten::histc"] = _histc


def _bilinear(input1, input2, weight, bias=None):
    """F.bilinear of bfloat16 as ATen's _trilinear runs it: input1 with the weight first
    (a product accumulated in float, rounded to bfloat16), then with input2 (rounded), then
    the bias added (rounded); the op's checks and shape from a float32 copy."""
    ts = (input1, input2, weight) + (() if bias is None else (bias,))
    if any(getattr(t, "_dtype", None) is not BF16 for t in ts):
        return NotImplemented
    from .registry import OPS
    ref = OPS["aten::bilinear"].eager(*[t.float() for t in (input1, input2, weight)],
                                      None if bias is None else bias.float())
    xp = _xp(input1._data)
    a = input1._data.reshape(-1, input1._data.shape[-1])
    b = input2._data.reshape(-1, input2._data.shape[-1])
    w = weight._data
    with np.errstate(all="ignore"):
        t1 = round_bf16(xp, xp.einsum("bi,oij->boj", a, w).astype(np.float32))
        out = round_bf16(xp, xp.einsum("boj,bj->bo", t1, b).astype(np.float32))
        if bias is not None:
            out = round_bf16(xp, out + bias._data)
    return _new_tensor(ref, out.reshape(ref._data.shape).astype(np.float32), BF16)


TENSOR_IMPLS["aten::bilinear"] = _bilinear
