"""torch.nn.functional.grid_sample composed of registry ops (re-exported by functional.py).

The input (N, C, *spatial) is read at the grid's points (N, *out, nd), x first: each point's
coordinates are unnormalized as ATen's grid_sampler_unnormalize, folded by the padding mode
(border: clamped; reflection: reflected about the edges then clamped, ATen's
reflect_coordinates) and read by gathers from the flattened input: the 2**nd corners with
the linear weights (bilinear / trilinear), or the nearest point (round half to even, as
std::nearbyint), or (bicubic, 4-D only) the 4 x 4 points around it with ATen's cubic
coefficients. A corner outside the input reads zero. Gradients reach the input through
the gathers and, for bilinear and bicubic, the grid through the weights.
"""
import warnings as _warnings
from typing import List, Optional

import gpujit as _gpujit
from ..ops.parser_errors import scalar_args as _scalar_args, tensor_args as _tensor_args

from ._dtype_names import short_dtype_name as _dtype_short

__all__ = ["grid_sample"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


@_from_source
def _reflect(x, twice_low: int, twice_high: int):
    """ATen's reflect_coordinates."""
    if twice_low == twice_high:
        return _gpujit.zeros_like(x)
    lo = twice_low / 2.0
    span = (twice_high - twice_low) / 2.0
    x = (x - lo).abs()
    extra = x.fmod(span)
    flips = (x / span).floor().detach()
    even = flips.fmod(2) == 0
    return _gpujit.where(even, extra + lo, (span - extra) + lo)


@_from_source
def _unnormalize(coord, size: int, align_corners: bool):
    """ATen's grid_sampler_unnormalize."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


@_from_source
def _source_index(coord, size: int, padding: str, align_corners: bool):
    """ATen's grid_sampler_compute_source_index."""
    return _padded(_unnormalize(coord, size, align_corners), size, padding, align_corners)


@_from_source
def _padded(coord, size: int, padding: str, align_corners: bool):
    """ATen's compute_coordinates: a coordinate folded by the padding mode."""
    if padding == "border":
        coord = coord.clamp(0, size - 1)
    elif padding == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        coord = coord.clamp(0, size - 1)
    return coord


@_from_source
def _read(flat, pos: List[_gpujit.Tensor], sizes: List[int], n: int, c: int, m: int):
    """flat (N, C, prod(sizes)) at integer positions pos[k] (N, M) along spatial dim k:
    (N, C, M), zero where a position is outside; also the in-bounds mask (N, 1, M)."""
    lin = _gpujit.zeros_like(pos[0])
    ok = _gpujit.ones_like(pos[0], dtype=_gpujit.bool)
    for k in range(len(sizes)):
        p = pos[k]
        ok = ok & (p >= 0) & (p < sizes[k])
        lin = lin * sizes[k] + p.clamp(0, sizes[k] - 1)
    vals = flat.gather(2, lin.unsqueeze(1).expand(n, c, m))
    return vals, ok.unsqueeze(1)


@_from_source
def _grid_sample_dtypes(input, grid, nd: int):
    """The kernel's dtype errors: floating inputs only (its dispatch), then a grid of the
    input's dtype (read as the input's scalar type)."""
    if not input.is_floating_point():
        if nd == 2:
            kernel = "grid_sampler_2d_cuda" if input.is_cuda else \
                "grid_sampler_2d_cpu_kernel_impl"
        else:
            kernel = "grid_sampler_3d_cuda" if input.is_cuda else "grid_sampler3d_cpu"
        raise NotImplementedError("\"" + kernel + "\" not implemented for '"
                                  + _dtype_short(input.dtype) + "'")
    if grid.dtype != input.dtype:
        raise RuntimeError("expected scalar type " + _dtype_short(input.dtype)
                           + " but found " + _dtype_short(grid.dtype))


@_from_source
def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: Optional[bool] = None):
    """Samples input (N, C, H, W) / (N, C, D, H, W) at grid (N, Ho, Wo, 2) /
    (N, Do, Ho, Wo, 3) of normalized coordinates in [-1, 1]."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("grid_sampler", "input grid", input, grid)
        if align_corners is not None:   # (grid_sampler's `bool align_corners`: 'a' / 1 refused)
            _scalar_args("grid_sampler", "align_corners:bool:5", align_corners)
    if mode != "bilinear" and mode != "nearest" and mode != "bicubic":
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode != "zeros" and padding_mode != "border" and \
            padding_mode != "reflection":
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        _warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                       "align_corners=False since 1.3.0. Please specify align_corners=True "
                       "if the old behavior is desired. See the documentation of "
                       "grid_sample for details.", stacklevel=2)
        align_corners = False
    ins: List[int] = list(input.shape)
    gs: List[int] = list(grid.shape)
    # PyTorch's order: the checks common to 2-D and 3-D sampling, then the rank the
    # sampler the input's rank picks wants (4-D: 2-D sampling, else 3-D); the dtypes are
    # only read by the kernel, which an empty output never runs
    if ins[0] != gs[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch "
                           f"size, but got input with sizes {ins} and grid with sizes {gs}")
    if gs[-1] != len(ins) - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {len(ins) - 2} in "
                           f"last dimension, but got grid with sizes {gs}")
    for k in range(2, len(ins)):
        if ins[k] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {ins} with dimension {k} "
                               f"being empty")
    want = 4 if len(ins) == 4 else 5
    if len(ins) != want or len(gs) != want:
        raise RuntimeError(f"grid_sampler(): expected {want}D input and grid with same "
                           f"number of dimensions, but got input with sizes {ins} and grid "
                           f"with sizes {gs}")
    nd = len(ins) - 2
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    out_n = ins[0] * ins[1]
    for s in gs[1:-1]:
        out_n = out_n * s
    if out_n == 0:
        return _gpujit.empty([ins[0], ins[1]] + gs[1:-1], dtype=input.dtype,
                             device=input.device)
    _grid_sample_dtypes(input, grid, nd)
    n = ins[0]
    c = ins[1]
    sizes: List[int] = ins[2:]
    out_sp: List[int] = gs[1:-1]
    m = 1
    for s in out_sp:
        m = m * s
    flat = input.reshape(n, c, -1)
    g = grid.reshape(n, m, nd)
    out_shape: List[int] = [n, c] + out_sp
    if mode == "bicubic":
        return _bicubic(flat, g, sizes, padding_mode, align_corners, n, c, m).reshape(
            out_shape)
    coords: List[_gpujit.Tensor] = []            # per spatial dim (D, H, W order)
    for k in range(nd):
        coords.append(_source_index(g[:, :, nd - 1 - k], sizes[k], padding_mode,
                                    align_corners))
    if mode == "nearest":
        pos: List[_gpujit.Tensor] = []
        for k in range(nd):
            pos.append(coords[k].round().detach().to(_gpujit.int64))
        vals, ok = _read(flat, pos, sizes, n, c, m)
        return _gpujit.where(ok, vals, _gpujit.zeros_like(vals)).reshape(out_shape)
    lows: List[_gpujit.Tensor] = []
    fracs: List[_gpujit.Tensor] = []
    for k in range(nd):
        lo = coords[k].floor().detach()
        lows.append(lo.to(_gpujit.int64))
        fracs.append(coords[k] - lo)
    out = _gpujit.zeros(n, c, m, dtype=input.dtype, device=input.device)
    for corner in range(1 << nd):
        pos2: List[_gpujit.Tensor] = []
        w = _gpujit.ones_like(fracs[0])
        for k in range(nd):
            if (corner >> (nd - 1 - k)) & 1 == 1:
                pos2.append(lows[k] + 1)
                w = w * fracs[k]
            else:
                pos2.append(lows[k])
                w = w * (1 - fracs[k])
        vals, ok = _read(flat, pos2, sizes, n, c, m)
        out = out + _gpujit.where(ok, vals * w.unsqueeze(1), _gpujit.zeros_like(vals))
    return out.reshape(out_shape)


@_from_source
def _cubic_coefficients(t) -> List[_gpujit.Tensor]:
    """ATen's get_cubic_upsample_coefficients (A = -0.75) for the 4 taps around a point at
    fraction t past the second one."""
    a = -0.75
    x1 = t + 1
    x2 = 1 - t
    x3 = 2 - t
    return [((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * x2 - (a + 3)) * x2 * x2 + 1,
            ((a * x3 - 5 * a) * x3 + 8 * a) * x3 - 4 * a]


@_from_source
def _bicubic(flat, g, sizes: List[int], padding: str, align_corners: bool, n: int, c: int,
             m: int):
    """ATen's bicubic grid sampler: the 4 x 4 input points around each unnormalized grid
    point (not folded by the padding), weighted by the cubic coefficients of its fractions;
    each tap's coordinates are folded by the padding mode (get_value_bounded), a tap still
    outside reads zero. Gradients reach the grid through the coefficients."""
    ix = _unnormalize(g[:, :, 0], sizes[1], align_corners)
    iy = _unnormalize(g[:, :, 1], sizes[0], align_corners)
    x0 = ix.floor().detach()
    y0 = iy.floor().detach()
    cx = _cubic_coefficients(ix - x0)
    cy = _cubic_coefficients(iy - y0)
    xs: List[_gpujit.Tensor] = []
    ys: List[_gpujit.Tensor] = []
    for i in range(4):
        xs.append(_padded(x0 + (i - 1), sizes[1], padding, align_corners).to(_gpujit.int64))
        ys.append(_padded(y0 + (i - 1), sizes[0], padding, align_corners).to(_gpujit.int64))
    out = _gpujit.zeros(n, c, m, dtype=flat.dtype, device=flat.device)
    for j in range(4):
        row = _gpujit.zeros(n, c, m, dtype=flat.dtype, device=flat.device)
        for i in range(4):
            vals, ok = _read(flat, [ys[j], xs[i]], sizes, n, c, m)
            row = row + _gpujit.where(ok, vals * cx[i].unsqueeze(1), _gpujit.zeros_like(vals))
        out = out + row * cy[j].unsqueeze(1)
    return out
