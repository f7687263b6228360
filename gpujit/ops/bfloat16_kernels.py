"""ATen's bfloat16 kernels where they round otherwise than "compute in float32, round
once" (ops/bfloat16_support.py's rule), or where the array-level impl cannot tell bfloat16
from its float32 carrier: Tensor-level implementations the generated entry point of an
opted-in op runs first for a call with bfloat16 operands or dtype= (TENSOR_IMPLS, by
qualified op name; NotImplemented from one runs the op's own impl). Each says which ATen
behaviour it follows; tests/test_bfloat16_s45.py compares them with torch 2.13. More live
in bfloat16_composites.py (session 46), whose TENSOR_IMPLS this one takes in."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .bfloat16_support import BF16, round_bf16, bits_of, from_bits, _new_tensor, _xp

__all__ = ["TENSOR_IMPLS"]


def _view_dtype(self, dtype):
    """x.view(dtype) where x or dtype is bfloat16: the bits read as the other dtype, as
    PyTorch's view of the same bytes; a copy here (the float32 carrier holds other bytes:
    bfloat16_support's docstring), so writes through it do not reach x."""
    from .registry import wrap
    if dtype is self._dtype:
        return NotImplemented
    a, dev = self._data, self._device
    xp = _xp(a)
    if self._dtype is BF16:
        bits = bits_of(xp, a).view(np.int16)
        t = wrap(bits, _dt.int16, dev)
        return t if dtype is _dt.int16 else t.view(dtype)
    # (another dtype read as bfloat16: its bytes as int16 first, with view(dtype)'s rules)
    t = self if self._dtype is _dt.int16 else self.view(_dt.int16)
    return wrap(from_bits(xp, t._data), BF16, dev)


def _to_dtype(self, dtype, non_blocking=False, copy=False, memory_format=None):
    """x.to(torch.bfloat16) of a real non-bfloat16 tensor: in x's layout (preserve_format),
    rounded as ATen's copy kernel rounds; its vectorized float32 conversion makes every NaN
    0xFFFF, the scalar one of other dtypes 0x7FC0."""
    if dtype is not BF16 or self._dtype is BF16 or memory_format is not None \
            or self._dtype.cplx:
        return NotImplemented
    from .conversion import to_dtype
    a = self._data
    xp = _xp(a)
    f = to_dtype(xp, a, _dt.float32, copy=True)     # (a new array, self's layout)
    f[...] = round_bf16(xp, f, 0xFFFF if self._dtype is _dt.float32 else 0x7FC0)
    return _new_tensor(self, f, BF16)


def _same_dtype(message):
    """A check, before a matrix product's array impl (which sees float32 for bfloat16), that
    its tensors have one dtype, with the product's own error words (message(d1, d2))."""
    def check(*args):
        ds = [a._dtype for a in args if hasattr(a, "_dtype")]
        for d in ds[1:]:
            if d is not ds[0]:
                raise RuntimeError(message(ds[0], d))
        return NotImplemented
    return check


def _cpp(d):
    return _dt.CPP_NAMES[d.name]


_MM = _same_dtype(lambda a, b: f"expected m1 and m2 to have the same dtype, but got: "
                               f"{_cpp(a)} != {_cpp(b)}")

def _cross_entropy(self, target, weight=None, reduction=1, ignore_index=-100,
                   label_smoothing=0.0):
    """cross_entropy of bfloat16 logits with class indices as ATen's composite runs it:
    log_softmax rounded to bfloat16, then nll_loss of that (accumulated in float, rounded
    once)."""
    if label_smoothing or target._dtype.category == _dt.FLOATING or self._data.ndim == 0:
        return NotImplemented
    from .registry import OPS
    lsm = OPS["aten::log_softmax.int"].eager(self, 1 if self._data.ndim > 1 else 0)
    return OPS["aten::nll_loss_nd"].eager(lsm, target, weight, reduction, ignore_index)


def _autocast_reduced(self, cuda_enabled, cpu_enabled, cuda_dtype, cpu_dtype):
    """A scripted autocast region's cast of a float32 tensor to its bfloat16 (the array
    impl cannot tell the carrier's float32 from float32)."""
    cuda = self._device.type == "cuda"
    to = cuda_dtype if cuda else cpu_dtype
    if to is not BF16 and self._dtype is not BF16:
        return NotImplemented
    if not (cuda_enabled if cuda else cpu_enabled) or self._dtype is not _dt.float32:
        return self
    return _to_dtype(self, BF16)


def _autocast_full(self, cuda_enabled, cpu_enabled):
    """A region's cast back to float32: bfloat16 tensors too, as ATen's."""
    if self._dtype is not BF16:
        return NotImplemented
    if not (cuda_enabled if self._device.type == "cuda" else cpu_enabled):
        return self
    return _new_tensor(self, self._data.copy(), _dt.float32)


def _index_add_into(a, dim, index, source, alpha):
    """ATen's CPU index_add_ of bfloat16: self's slice at index[i] += alpha * source's
    slice i, one at a time, each sum rounded (a repeated index adds in turn: 256 + 1 + 1
    stays 256); done here in rounds of distinct indices, which keeps that order."""
    xp = _xp(a)
    idx = index._data
    idx = (idx if xp is np else idx.get()).reshape(-1).astype(np.int64)
    n = a.shape[dim] if a.ndim else 1
    idx = np.where(idx < 0, idx + n, idx)
    dst = xp.moveaxis(a, dim, 0) if a.ndim else a.reshape(1)
    src = source._data
    src = xp.moveaxis(src, dim, 0) if src.ndim else src.reshape(1)
    al = np.float32(round_bf16(np, np.float32(alpha))[()])
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_idx)) + 1]
    rank = np.empty(len(idx), np.int64)     # which occurrence of its index each i is
    rank[order] = np.arange(len(idx)) - np.repeat(first, np.diff(np.r_[first, len(idx)]))
    for r in range(int(rank.max()) + 1 if len(idx) else 0):
        sel = np.flatnonzero(rank == r)
        at = idx[sel]
        sel_x, at_x = (sel, at) if xp is np else (xp.asarray(sel), xp.asarray(at))
        dst[at_x] = round_bf16(xp, dst[at_x] + src[sel_x] * al)


def _index_add(self, dim, index, source, alpha=1):
    if self._dtype is not BF16 or getattr(source, "_dtype", None) is not BF16:
        if getattr(source, "_dtype", BF16) is not self._dtype:
            raise RuntimeError(f"index_add(): self ({self._dtype.short_name}) and source "
                               f"({source._dtype.short_name}) must have the same scalar type")
        return NotImplemented
    a = self._data.copy()
    _index_add_into(a, dim, index, source, alpha)
    return _new_tensor(self, a, BF16)


def _index_add_(self, dim, index, source, alpha=1):
    if self._dtype is not BF16 or getattr(source, "_dtype", None) is not BF16:
        if getattr(source, "_dtype", BF16) is not self._dtype:
            raise RuntimeError(f"index_add_(): self ({self._dtype.short_name}) and source "
                               f"({source._dtype.short_name}) must have the same scalar type")
        return NotImplemented
    _index_add_into(self._data, dim, index, source, alpha)
    self._vc[0] += 1
    return self


def _softmax(self, dim, dtype=None, log=False):
    """softmax / log_softmax of bfloat16 as ATen's CPU kernels round: over the last dim
    (inner size 1) softmax is exp(x - max) / sum in float, rounded once, and log_softmax
    stores the sum and its log in bfloat16 (x - max - bf16(log(bf16(sum)))); over another
    dim softmax stores exp(x - max) in bfloat16 before dividing by the float sum, and
    log_softmax is x - max - log(sum) rounded once."""
    if self._dtype is not BF16 or (dtype is not None and dtype is not BF16):
        return NotImplemented
    a = self._data
    if a.ndim == 0 or a.size == 0 or type(dim) is not int:
        return NotImplemented
    xp = _xp(a)
    d = dim % a.ndim
    last = int(np.prod(a.shape[d + 1:])) == 1
    with np.errstate(all="ignore"):
        m = a.max(d, keepdims=True)
        e = xp.exp(a - m)
        s = e.sum(d, keepdims=True, dtype=np.float32)
        if log:
            ls = round_bf16(xp, xp.log(round_bf16(xp, s))) if last else xp.log(s)
            out = a - m - ls
        else:
            out = (e if last else round_bf16(xp, e)) / s
    return _new_tensor(self, round_bf16(xp, out), BF16)


def _log_softmax(self, dim, dtype=None):
    return _softmax(self, dim, dtype, log=True)


def _rb(x):
    """A Python float rounded to float32, then to bfloat16 (c10::BFloat16 arithmetic)."""
    return float(round_bf16(np, np.float32(x))[()])


def _nll_loss(self, target, weight=None, reduction=1, ignore_index=-100):
    """nll_loss of bfloat16 log-probabilities (N, C), mean or sum, as ATen's CPU
    nll_loss_out_frame adds them: in bfloat16, each add rounded, over its cascade of
    partial sums (8 levels; level j flushed into level j + 1 where the batch index's
    bits j*p .. (j+1)*p - 1 are zero, p = max(4, ceil(log2 N) / 4))."""
    if (self._dtype is not BF16 or weight is not None or reduction not in (1, 2)
            or self._data.ndim != 2 or getattr(target, "_dtype", None) is None):
        return NotImplemented
    a = self._data if type(self._data) is np.ndarray else self._data.get()
    t = target._data if type(target._data) is np.ndarray else target._data.get()
    n = a.shape[0]
    if t.shape != (n,) or not n:
        return NotImplemented
    t = t.astype(np.int64)
    ok = t != ignore_index
    if ((t[ok] < 0) | (t[ok] >= a.shape[1])).any():
        return NotImplemented           # (the op's own error)
    picked = a[np.arange(n), np.where(ok, t, 0)].astype(np.float64).tolist()
    ok = ok.tolist()
    levels = 8
    power = max(4, (int(n - 1).bit_length() if n > 1 else 0) // 4)
    mask = (1 << power) - 1
    part = [0.0] * levels
    for b in range(n):
        if not ok[b]:
            continue
        part[0] = _rb(part[0] - picked[b])
        for j in range(levels - 1):
            if b & (mask << (j * power)):
                break
            part[j + 1] = _rb(part[j + 1] + part[j])
            part[j] = 0.0
    out = 0.0
    for v in part:
        out = _rb(out + v)
    if reduction == 1:
        out = _rb(out / _rb(float(sum(ok))))
    xp = _xp(self._data)
    return _new_tensor(self, xp.asarray(np.float32(out)), BF16)


def _like(name, dtype_at):
    """rand_like / randn_like of a bfloat16 tensor: drawn as dtype=bfloat16 (the impl
    would read its float32 array's dtype: ATen's float stream, not its bfloat16 one)."""
    def like(*args):
        if args[0]._dtype is not BF16 or args[dtype_at] is not None:
            return NotImplemented
        from .registry import OPS
        args = list(args)
        args[dtype_at] = BF16
        return OPS[name].eager(*args)
    return like


def _mse_loss(self, target, reduction=1):
    """mse_loss(reduction='none') of bfloat16: (x - y) rounded, then squared and rounded
    (ATen's composite in bfloat16); the reductions' fused kernel rounds once."""
    if reduction != 0 or self._dtype is not BF16 or getattr(target, "_dtype", None) is not BF16:
        return NotImplemented
    a, b = self._data, target._data
    xp = _xp(a)
    try:
        d = round_bf16(xp, a - b)
    except ValueError:
        return NotImplemented           # (shapes: the op's own error)
    return _new_tensor(self, round_bf16(xp, d * d), BF16)


def _logsumexp(self, dim, keepdim=False):
    """logsumexp of bfloat16 as ATen's composite runs it, each step rounded: max,
    x - max, exp, sum (in float), log, + max."""
    if self._dtype is not BF16 or self._data.size == 0 or self._data.ndim == 0:
        return NotImplemented
    a = self._data
    xp = _xp(a)
    dims = tuple(d % a.ndim for d in (dim if isinstance(dim, (list, tuple)) else [dim]))
    if not dims:
        return NotImplemented
    with np.errstate(all="ignore"):
        m = a.max(dims, keepdims=True)
        m = xp.where(xp.isinf(m), np.float32(0), m)
        e = round_bf16(xp, xp.exp(round_bf16(xp, a - m)))
        s = round_bf16(xp, e.sum(dims, keepdims=True, dtype=np.float32))
        r = round_bf16(xp, round_bf16(xp, xp.log(s)) + m)
    if not keepdim:
        r = r.reshape([n for i, n in enumerate(a.shape) if i not in dims])
    return _new_tensor(self, r, BF16)


def _prod_along(xp, a, axis):
    out = a.take(0, axis=axis)
    for j in range(1, a.shape[axis]):
        out = round_bf16(xp, out * a.take(j, axis=axis))
    return out


def _prod(self, dtype=None):
    """prod of bfloat16: a product rounded after each factor, in order (ATen's bfloat16
    reduction multiplies in bfloat16)."""
    if self._dtype is not BF16 or dtype not in (None, BF16) or not self._data.size:
        return NotImplemented
    a = self._data
    xp = _xp(a)
    return _new_tensor(self, xp.asarray(_prod_along(xp, a.reshape(-1), 0)), BF16)


def _prod_dim(self, dim, keepdim=False, dtype=None):
    if self._dtype is not BF16 or dtype not in (None, BF16) or not self._data.size \
            or self._data.ndim == 0:
        return NotImplemented
    a = self._data
    xp = _xp(a)
    d = dim % a.ndim
    r = _prod_along(xp, a, d)
    return _new_tensor(self, xp.expand_dims(r, d) if keepdim else r, BF16)


def _index_put(self, indices, values, accumulate=False):
    """index_put(_) with bfloat16 on one side only: PyTorch's dtype error (the arrays'
    float32 carrier hid it)."""
    vd = getattr(values, "_dtype", None)
    if vd is not None and vd is not self._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, "
                           f"got {self._dtype.short_name} for the destination and "
                           f"{vd.short_name} for the source.")
    return NotImplemented


def _copy_(self, src, non_blocking=False):
    """x.copy_(float32 tensor) into bfloat16 x: rounded as ATen's vectorized copy (a NaN
    becomes 0xFFFF, as x.to(torch.bfloat16))."""
    if (self._dtype is not BF16 or getattr(src, "_dtype", None) is not _dt.float32
            or src._device is not self._device):
        return NotImplemented
    a = self._data
    if 0 in a.strides or not a.size:
        return NotImplemented           # (an expanded self, no elements: the op's checks)
    xp = _xp(a)
    try:
        b = xp.broadcast_to(src._data, a.shape)
    except ValueError:
        return NotImplemented           # (the op's own error)
    a[...] = round_bf16(xp, b, 0xFFFF)
    self._vc[0] += 1
    return self


def _bf(x):
    """c10::BFloat16 of a Python number (through float)."""
    return float(round_bf16(np, np.float32(x))[()])


def _linspace(start, end, steps, dtype=None, layout=None, device=None, pin_memory=None):
    """linspace(dtype=bfloat16) as ATen's CPU kernel: start, end and step in bfloat16
    arithmetic (each operation rounded, an int operand cast to bfloat16 first: step =
    (end - start) / (steps - 1)), each value start + step * i below halfway and
    end - step * (steps - i - 1) from there (bit for bit torch's, whole vectors included)."""
    if dtype is not BF16 or isinstance(start, complex) or isinstance(end, complex) or \
            hasattr(start, "_data") or hasattr(end, "_data") or steps < 0:
        return NotImplemented
    s, e = _bf(float(start)), _bf(float(end))
    out = np.empty(steps, np.float32)
    if steps == 1:
        out[0] = s
    elif steps > 1:
        step = _bf(_bf(e - s) / _bf(steps - 1))
        half = steps // 2
        i = np.arange(steps)
        lo = round_bf16(np, np.float32(s) + round_bf16(np, np.float32(step) * round_bf16(
            np, i.astype(np.float32))))
        hi = round_bf16(np, np.float32(e) - round_bf16(np, np.float32(step) * round_bf16(
            np, (steps - i - 1).astype(np.float32))))
        out[...] = np.where(i < half, lo, hi)
    from ..device import resolve, cpu
    from .registry import wrap
    dev = cpu if device is None else resolve(device)
    if dev is not cpu:
        import cupy
        with cupy.cuda.Device(dev.index):
            return wrap(cupy.asarray(out), BF16, dev)
    return wrap(out, BF16, dev)


def _normal_(self, mean=0, std=1, generator=None):
    """normal_ of a bfloat16 tensor: ATen's bfloat16 stream (ops/random.py's BF16), in
    the order TensorIterator walks self."""
    if self._dtype is not BF16:
        return NotImplemented
    from . import random_ops as R
    from .random import BF16 as MARK
    R._check_std(std)
    a = self._data
    g = R._gen_like(a, None, generator)
    contiguous = bool(a.flags.c_contiguous)
    R._write_serial(a, lambda s: g.normal(s, MARK, float(mean), float(std),
                                          contiguous=contiguous))
    self._vc[0] += 1
    return self


def _uniform_(self, from_=0, to=1, generator=None):
    """uniform_ of a bfloat16 tensor: float uniforms rounded (ops/random.py's BF16)."""
    if self._dtype is not BF16:
        return NotImplemented
    from . import random_ops as R
    from .random import BF16 as MARK
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_} > to={to}")
    a = self._data
    g = R._gen_like(a, None, generator)
    R._write_serial(a, lambda s: g.uniform(s, MARK, float(from_), float(to)))
    self._vc[0] += 1
    return self


def _mvlgamma_(self, p):
    """x.mvlgamma_(p) of bfloat16 x: the out-of-place op's bfloat16 steps
    (bfloat16_pointwise.STEPPED), written into x, as ATen's mvlgamma_ (its composite, then
    copy_)."""
    if self._dtype is not BF16:
        return NotImplemented
    from .registry import OPS
    r = OPS["aten::mvlgamma"].public(self, p)
    self._data[...] = r._data
    self._vc[0] += 1
    return self


def _flash_attention(query, key, value, dropout_p=0.0, is_causal=False, attn_mask=None,
                     scale=None):
    """F.scaled_dot_product_attention's CPU flash kernel of bfloat16 operands: its float
    computation with the unnormalized exp rounded to bfloat16 for the product with value
    (nn.functional_attention._sdpa_bfloat16), the logsumexp in float."""
    from .nn_sdpa import _flash_forward
    return _flash_forward(query, key, value, dropout_p, is_causal, attn_mask, scale)


TENSOR_IMPLS = {
    "aten::_scaled_dot_product_flash_attention_for_cpu": _flash_attention,
    "aten::mvlgamma_": _mvlgamma_,
    "aten::normal_": _normal_, "aten::uniform_": _uniform_,
    "aten::linspace": _linspace,
    "aten::index_put": _index_put, "aten::index_put_": _index_put, "aten::copy_": _copy_,
    "aten::mse_loss": _mse_loss, "aten::logsumexp": _logsumexp, "aten::prod": _prod,
    "aten::prod.dim_int": _prod_dim,
    "aten::rand_like": _like("aten::rand_like", 1),
    "aten::randn_like": _like("aten::randn_like", 1),
    "aten::rand_like.generator": _like("aten::rand_like.generator", 2),
    "aten::randn_like.generator": _like("aten::randn_like.generator", 2),
    "aten::nll_loss": _nll_loss, "aten::nll_loss_nd": _nll_loss,
    "aten::softmax.int": _softmax, "aten::log_softmax.int": _log_softmax,
    "aten::index_add": _index_add, "aten::index_add_": _index_add_,
    "aten::_autocast_to_reduced_precision": _autocast_reduced,
    "aten::_autocast_to_full_precision": _autocast_full,
    "aten::cross_entropy_loss": _cross_entropy,
    "aten::view.dtype": _view_dtype, "aten::to.dtype": _to_dtype,
    "aten::mm": _MM, "aten::matmul": _MM, "aten::linear": _MM,
    "aten::bmm": _same_dtype(lambda a, b: f"expected scalar type {a.short_name} but found "
                                          f"{b.short_name}"),
    "aten::dot": _same_dtype(lambda a, b: f"dot : expected both vectors to have same dtype, "
                                          f"but found {a.short_name} and {b.short_name}"),
    "aten::addmm": _same_dtype(lambda a, b: f"self and mat2 must have the same dtype, but got "
                                            f"{a.short_name} and {b.short_name}"),
}



from .bfloat16_composites import TENSOR_IMPLS as _COMPOSITES     # noqa: E402
TENSOR_IMPLS.update(_COMPOSITES)
from .bfloat16_norms import TENSOR_IMPLS as _NORMS     # noqa: E402
TENSOR_IMPLS.update(_NORMS)
