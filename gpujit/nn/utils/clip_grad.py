"""Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).

Like the optimizers, clipping works on the raw grad arrays: it records no autograd, and
bumps each modified grad's version counter.
"""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from ... import dtypes as _dt
from ...device import cpu as _cpu, xp_for
from ...ops.registry import wrap as _wrap
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _on_device(dev):
    if dev is _cpu:
        return contextlib.nullcontext()
    return xp_for(dev).cuda.Device(dev.index)


def _to_cuda(a, dev):
    cp = xp_for(dev)
    with cp.cuda.Device(dev.index):
        return cp.asarray(a)


_NORM2_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_NORM2 = []


def _vector_norm(xp, a, norm_type):
    """The norm of all elements of `a` as a 0-dim array of a's dtype (float16 accumulates
    in float32, as PyTorch does). The 2-norm of float32 / float64 in the order of torch's
    CPU kernel (ops/linalg_norms.aten_norm2_rows: the same bits)."""
    if norm_type == 2 and xp is np and a.dtype in _NORM2_DTYPES and a.ndim and a.size:
        if not _NORM2:
            from ...ops.linalg_norms import aten_norm2_rows
            _NORM2.append(aten_norm2_rows)
        return _NORM2[0](np.ascontiguousarray(a).reshape(1, -1)).reshape(())
    if norm_type == 1 and xp is np and a.dtype in _NORM2_DTYPES and 0 < a.size < 32768:
        # (torch's: |x| added one by one in order, below its kernel's thread grain)
        return np.cumsum(np.abs(a).ravel())[-1:].reshape(())
    x = a.astype(np.float32) if a.dtype == np.float16 else a
    # (a complex tensor's norm is real, its moduli's norm, as torch's vector_norm)
    real = a.real.dtype if a.dtype.kind == "c" else a.dtype
    if norm_type == math.inf:
        r = xp.abs(x).max() if x.size else xp.zeros((), x.dtype)
    elif norm_type == -math.inf:
        r = xp.abs(x).min() if x.size else xp.full((), math.inf, x.dtype)
    elif norm_type == 0:
        r = xp.count_nonzero(x)
    elif norm_type == 1:
        r = xp.abs(x).sum()
    elif norm_type == 2:
        r = xp.sqrt(xp.vdot(x.ravel(), x.ravel()).real)
    else:
        r = (xp.abs(x) ** norm_type).sum() ** (1.0 / norm_type)
    return xp.asarray(r, dtype=real)


def _rows_norms(arrays, norm_type):
    """_vector_norm(np, a, norm_type) of each array (norm_type 1 or 2), the same bits, in
    one call per size (the arrays of one size as the rows of a matrix: a model's many
    same-shaped parameters cost one kernel call, not one each)."""
    by_size = {}
    for i, a in enumerate(arrays):
        by_size.setdefault(a.size, []).append(i)
    out = [None] * len(arrays)
    for n, idx in by_size.items():
        first = arrays[idx[0]]
        if first.dtype not in _NORM2_DTYPES or not n or (norm_type == 1 and n >= 32768):
            for i in idx:
                out[i] = _vector_norm(np, arrays[i], norm_type)
            continue
        rows = np.ascontiguousarray(first).reshape(1, -1) if len(idx) == 1 else \
            np.stack([arrays[i].reshape(-1) for i in idx])
        if norm_type == 2:
            if not _NORM2:
                from ...ops.linalg_norms import aten_norm2_rows
                _NORM2.append(aten_norm2_rows)
            r = _NORM2[0](rows)
        else:       # (torch's: |x| added one by one in order, below its thread grain)
            r = np.cumsum(np.abs(rows), axis=1)[:, -1]
        for j, i in enumerate(idx):
            out[i] = r[j:j + 1].reshape(())
    return out


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors` (as if all were concatenated into one vector),
    as a 0-dim Tensor on the first tensor's device (a float32 CPU zero when there are
    none). PyTorch takes one norm per tensor (torch._foreach_norm), then the norm of
    those; for other norm types than 0, 1 and 2 the norm of one (device, dtype)'s
    concatenation is the same value up to rounding, which the default (foreach) path takes
    at once. The 0-"norm" counts: of the per-tensor counts it is the number of tensors
    holding a nonzero, as torch's, not the number of nonzero elements; the 1- and 2-norms
    are taken per tensor in the order of torch's kernels (the same bits)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _wrap(np.zeros((), np.float32), _dt.float32, _cpu)
    first = tensors[0]._device
    if first.type == "meta":    # (torch's norms of meta tensors: a meta scalar)
        if error_if_nonfinite:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        import gpujit
        return gpujit.empty((), dtype=tensors[0].dtype, device=first)
    if any(t._dtype is _dt.bfloat16 for t in tensors):
        return _total_norm_tensors(tensors, norm_type, error_if_nonfinite)
    buckets = {}
    for t in tensors:
        try:
            a = t._data
        except NotImplementedError:
            # a sparse gradient (embedding(sparse=True)): PyTorch's vector_norm has no
            # sparse kernel
            from ..._sparse_coo import not_implemented
            raise not_implemented("aten::linalg_vector_norm", t._device) from None
        buckets.setdefault((t._device, t._dtype), []).append(a)
    norms = []
    for (dev, _), arrays in buckets.items():
        xp = xp_for(dev)
        with _on_device(dev):
            if xp is np and norm_type in (1, 2) and foreach is not False:
                norms += _rows_norms(arrays, norm_type)
            elif foreach is False or norm_type in (0, 1, 2):
                norms += [_vector_norm(xp, a, norm_type) for a in arrays]
            else:
                flat = arrays[0].ravel() if len(arrays) == 1 else xp.concatenate(
                    [a.ravel() for a in arrays])
                norms.append(_vector_norm(xp, flat, norm_type))
    xp = xp_for(first)
    with _on_device(first):
        if first is _cpu:
            stacked = np.stack([_host(n) for n in norms])
        else:
            stacked = xp.stack([_to_cuda(n, first) for n in norms])
        total = _vector_norm(xp, stacked, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(_NONFINITE.format(norm_type))
    return _wrap(total, _dt.from_numpy_dtype(total.dtype), first)


_NONFINITE = ("The total norm of order {} for gradients from `parameters` is non-finite, so it "
              "cannot be clipped. To disable this error and scale the gradients by the "
              "non-finite norm anyway, set `error_if_nonfinite=False`")


def _total_norm_tensors(tensors, norm_type, error_if_nonfinite):
    """get_total_norm of bfloat16 grads in Tensor ops, as torch's: each norm a bfloat16
    number (their float32 carriers: ops/bfloat16_support.py), then the norm of their
    stack."""
    import gpujit
    first = tensors[0]._device
    with gpujit.no_grad():
        norms = [gpujit.linalg.vector_norm(t, norm_type).to(first) for t in tensors]
        total = gpujit.linalg.vector_norm(gpujit.stack(norms), norm_type)
    if error_if_nonfinite and not bool(total.isfinite()):
        raise RuntimeError(_NONFINITE.format(norm_type))
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the grads of `parameters` by min(1, max_norm / (total_norm + 1e-6)) in place."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    if total_norm._device.type == "meta":       # (no values: each grad "written")
        for g in grads:
            g._vc[0] += 1
        return
    if total_norm._dtype is _dt.bfloat16 or any(g._dtype is _dt.bfloat16 for g in grads):
        # in Tensor ops, as torch's: bfloat16 grads stay bfloat16 numbers
        import gpujit
        with gpujit.no_grad():
            coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
            for g in grads:
                g.mul_(coef.to(g._device))
        return
    xp = xp_for(total_norm._device)
    with _on_device(total_norm._device):   # clamped on the norm's device: no host sync
        # torch's float(max_norm) / (total_norm + 1e-6) is Tensor.__rdiv__: the
        # reciprocal, times max_norm (each rounded in the norm's dtype)
        recip = xp.reciprocal(total_norm._data + 1e-6)
        if recip.dtype == np.float16:
            # (ATen multiplies a Half tensor by a number in float, the number unrounded)
            coef = (recip.astype(np.float32) * np.float32(max_norm)).astype(np.float16)
        else:
            coef = recip * float(max_norm)
        coef = xp.minimum(coef, 1.0)
    coefs = {}
    for g in grads:
        dev = g._device
        c = coefs.get(dev)
        if c is None:
            c = coefs[dev] = _host(coef) if dev is _cpu else _to_cuda(coef, dev)
        with _on_device(dev):
            g._data *= c
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the grads of `parameters` (Tensors, or one Tensor) in place so that their
    total norm is at most max_norm; return the total norm before clipping (0-dim Tensor).
    Parameters without a grad are skipped."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated alias of clip_grad_norm_ (as in PyTorch)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp the grads of `parameters` to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is None:
            continue
        if g._device.type == "meta":
            g._vc[0] += 1
            continue
        try:
            a = g._data
        except NotImplementedError:
            # a sparse gradient: PyTorch's clamp_min_ has no sparse kernel
            from ..._sparse_coo import not_implemented
            raise not_implemented("aten::clamp_min_", g._device) from None
        xp = xp_for(g._device)
        with _on_device(g._device):
            xp.clip(a, -clip_value, clip_value, out=a)
            if g._dtype is _dt.bfloat16:    # (the bounds, as clamp_ stores them: bfloat16)
                from ...ops.bfloat16_support import round_in_place
                round_in_place(a)
        g._vc[0] += 1
