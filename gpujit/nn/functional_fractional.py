"""torch.nn.functional.fractional_max_pool2d / 3d composed of registry ops (re-exported by
functional.py).

The pooling windows start at ATen's generate_intervals of the random samples (per batch and
channel: (W, H) for 2-D, (T, H, W) for 3-D, as ATen reads them; computed in the input's
dtype as ATen's scalar_t): start[i] = int((i + u) * alpha) - int(u * alpha),
alpha = (in - k) / (out - 1), and the last window ends at the input's edge. Each output is the first maximum of its window, read by a
gather from the flattened plane (its index: the flat position in the plane, as ATen's), so
the gradient reaches the input through the gather.
"""
from typing import List, Optional, Tuple

import gpujit as _gpujit
from gpujit._jit_internal import BroadcastingList2, BroadcastingList3

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d",
           "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


@_from_source
def _ints(v: List[int], nd: int, what: str, name: str) -> List[int]:
    """A size argument as nd ints: an int (eager), a one-element list repeated (scripted
    code's BroadcastingList), or nd ints."""
    if not _gpujit.jit.is_scripting() and isinstance(v, int):
        return [v for _ in range(nd)]
    if len(v) == 1:
        return [int(v[0]) for _ in range(nd)]
    if len(v) != nd:
        raise RuntimeError(f"{name}: {what} must either be a single Int or tuple of Ints")
    return [int(e) for e in v]


@_from_source
def _ratios(v: List[float], nd: int) -> List[float]:
    if not _gpujit.jit.is_scripting() and isinstance(v, (int, float)):
        return [float(v) for _ in range(nd)]
    if len(v) == 1:
        return [float(v[0]) for _ in range(nd)]
    return [float(e) for e in v]


@_from_source
def _starts(u, n_in: int, n_out: int, k: int):
    """ATen's generate_intervals for samples u (N, C): (N, C, n_out) int64 window starts."""
    shape: List[int] = list(u.shape)
    shape.append(1)
    last = _gpujit.full(shape, n_in - k, dtype=_gpujit.int64, device=u.device)
    if n_out <= 1:
        return last
    alpha = _gpujit.full([], float(n_in - k), dtype=u.dtype, device=u.device) / (n_out - 1)
    i = _gpujit.arange(n_out - 1, dtype=u.dtype, device=u.device)
    us = u.unsqueeze(-1)
    seq = ((i + us) * alpha).to(_gpujit.int64) - (us * alpha).to(_gpujit.int64)
    return _gpujit.cat([seq, last], -1)


@_from_source
def _fractional(input, kernel_size: List[int], output_size: Optional[List[int]],
                output_ratio: Optional[List[float]], samples: Optional[_gpujit.Tensor],
                nd: int) -> Tuple[_gpujit.Tensor, _gpujit.Tensor]:
    name = "fractional_max_pool" + str(nd) + "d"
    if output_size is None and output_ratio is None:    # (PyTorch checks it first)
        raise ValueError(f"{name} requires specifying either an output_size or an "
                         f"output_ratio")
    k = _ints(kernel_size, nd, "kernel_size", name)
    if input.dim() != nd + 1 and input.dim() != nd + 2:
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    spatial: List[int] = list(input.shape[-nd:])
    out: List[int] = []
    if output_size is not None:
        out = _ints(output_size, nd, "output_size", name)
    elif output_ratio is not None:
        ratio = _ratios(output_ratio, nd)
        for d in range(nd):
            out.append(int(spatial[d] * ratio[d]))
    dims = ["depth", "height", "width"][3 - nd:]
    for d in range(nd):
        if out[d] + k[d] - 1 > spatial[d]:
            raise RuntimeError(f"{name}(): pool {dims[d]} {k[d]} too large relative to "
                               f"input {dims[d]} {spatial[d]}")
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    n = x.size(0)
    c = x.size(1)
    if samples is None:
        u = _gpujit.rand(n, c, nd, dtype=input.dtype, device=input.device)
    else:
        u = samples
    if u.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if u.dim() == 3 and u.size(0) < n:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if u.dim() != 3 or u.size(1) != c or u.size(2) != nd:
        raise RuntimeError(f"Expect _random_samples of shape [{n}, {c}, {nd}], got "
                           f"{list(u.shape)}")
    u = u[:n]
    lin = _gpujit.zeros([n, c] + [1] * (2 * nd), dtype=_gpujit.int64, device=input.device)
    for d in range(nd):     # ATen's sample order: 2-D (W, H), 3-D (T, H, W)
        st = _starts(u[:, :, 1 - d if nd == 2 else d], spatial[d], out[d], k[d])
        pos = st.unsqueeze(-1) + _gpujit.arange(k[d], device=input.device)   # (N, C, o, k)
        shape = [n, c] + [1] * (2 * nd)
        shape[2 + d] = out[d]
        shape[2 + nd + d] = k[d]
        lin = lin * spatial[d] + pos.reshape(shape)
    lin = lin.expand([n, c] + out + k).reshape(n, c, -1)
    vals = x.reshape(n, c, -1).gather(2, lin).reshape([n, c] + out + [-1])
    y, arg = vals.max(-1)
    idx = lin.reshape([n, c] + out + [-1]).gather(-1, arg.unsqueeze(-1)).squeeze(-1)
    if not batched:
        y = y.squeeze(0)
        idx = idx.squeeze(0)
    return y, idx


def _fmp2_indices(input, kernel_size: BroadcastingList2[int],
                  output_size: Optional[BroadcastingList2[int]] = None,
                  output_ratio: Optional[BroadcastingList2[float]] = None,
                  return_indices: bool = False,
                  _random_samples: Optional[_gpujit.Tensor] = None):
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2)


def _fmp2_values(input, kernel_size: BroadcastingList2[int],
                 output_size: Optional[BroadcastingList2[int]] = None,
                 output_ratio: Optional[BroadcastingList2[float]] = None,
                 return_indices: bool = False,
                 _random_samples: Optional[_gpujit.Tensor] = None):
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2)[0]


def _fmp3_indices(input, kernel_size: BroadcastingList3[int],
                  output_size: Optional[BroadcastingList3[int]] = None,
                  output_ratio: Optional[BroadcastingList3[float]] = None,
                  return_indices: bool = False,
                  _random_samples: Optional[_gpujit.Tensor] = None):
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3)


def _fmp3_values(input, kernel_size: BroadcastingList3[int],
                 output_size: Optional[BroadcastingList3[int]] = None,
                 output_ratio: Optional[BroadcastingList3[float]] = None,
                 return_indices: bool = False,
                 _random_samples: Optional[_gpujit.Tensor] = None):
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3)[0]


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """2-D fractional max pooling (Graham): windows of kernel_size at pseudo-random
    fractional strides; output_size or output_ratio gives the output's size."""
    y, idx = _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2)
    return (y, idx) if return_indices else y


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """3-D fractional max pooling."""
    y, idx = _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3)
    return (y, idx) if return_indices else y


for _fn, _t, _f in ((fractional_max_pool2d, _fmp2_indices, _fmp2_values),
                    (fractional_max_pool3d, _fmp3_indices, _fmp3_values)):
    _t.__gpujit_script_source__ = True
    _f.__gpujit_script_source__ = True
    # (torch's names for the two bodies: scripted code calls them so)
    _t.__name__ = _t.__qualname__ = _fn.__name__ + "_with_indices"
    _f.__name__ = _f.__qualname__ = "_" + _fn.__name__
    _fn.__gpujit_boolean_dispatch__ = ("return_indices", 4, False, _t, _f)
# (F.fractional_max_pool*d_with_indices in scripted code: the indices variant, whatever
# return_indices says, as torch's)
fractional_max_pool2d_with_indices.__gpujit_boolean_dispatch__ = (
    "return_indices", 4, False, _fmp2_indices, _fmp2_indices)
fractional_max_pool3d_with_indices.__gpujit_boolean_dispatch__ = (
    "return_indices", 4, False, _fmp3_indices, _fmp3_indices)
del _fn, _t, _f
