"""torch.nn.functional's interpolate and the deprecated upsample, upsample_nearest and
upsample_bilinear (re-exported by functional.py, which imports this module at its end).

F.interpolate picks the aten::upsample_* op (the `.vec` overloads, which take either the
output size or the scale factors) by mode and input.dim(), as PyTorch's Python function;
mode="area" is adaptive average pooling. Each function is a composite that scripted code
compiles from its own source (`_from_source`), as TorchScript compiles PyTorch's.
"""
import math as _math
import warnings as _warnings
from typing import List, Optional, Union

from .._jit_internal import _overload
from ..tensor import Tensor
from .functional import (_from_source, _op, adaptive_avg_pool1d, adaptive_avg_pool2d,
                         adaptive_avg_pool3d)

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_upsample_nearest1d = _op("aten::upsample_nearest1d.vec")
_upsample_nearest2d = _op("aten::upsample_nearest2d.vec")
_upsample_nearest3d = _op("aten::upsample_nearest3d.vec")
_upsample_nearest_exact1d = _op("aten::_upsample_nearest_exact1d.vec")
_upsample_nearest_exact2d = _op("aten::_upsample_nearest_exact2d.vec")
_upsample_nearest_exact3d = _op("aten::_upsample_nearest_exact3d.vec")
_upsample_linear1d = _op("aten::upsample_linear1d.vec")
_upsample_bilinear2d = _op("aten::upsample_bilinear2d.vec")
_upsample_trilinear3d = _op("aten::upsample_trilinear3d.vec")
_upsample_bicubic2d = _op("aten::upsample_bicubic2d.vec")
_upsample_bilinear2d_aa = _op("aten::_upsample_bilinear2d_aa.vec")
_upsample_bicubic2d_aa = _op("aten::_upsample_bicubic2d_aa.vec")
_upsample_lanczos2d_aa = _op("aten::_upsample_lanczos2d_aa.vec")


@_from_source
def _interp_output_size(input, size: Optional[Union[int, List[int]]],
                        scale_factor: Optional[Union[float, List[float]]],
                        recompute_scale_factor: Optional[bool], mode: str):
    """(output_size, scale_factors) F.interpolate passes on: exactly one is not None."""
    dim = input.dim() - 2
    output_size: Optional[List[int]] = None
    scale_factors: Optional[List[float]] = None
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    elif size is not None:
        if not isinstance(size, (list, tuple)):
            sizes = [size for _ in range(dim)]
        else:
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial "
                                 "dimensions, but got input with spatial dimensions of "
                                 + str(list(input.shape[2:])) + " and output size of " + str(size)
                                 + ". Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 "format and output size in (o1, o2, ...,oK) format.")
            sizes = [s for s in size]     # (a traced size stays traced)
        for s in sizes:
            if isinstance(s, float):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, "
                                "int] or Tuple[int, int, int], but got size with types "
                                "[<class 'float'>]")
        output_size = sizes
    elif scale_factor is not None:
        if not isinstance(scale_factor, (list, tuple)):
            scale_factors = [float(scale_factor) for _ in range(dim)]
        else:
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial "
                                 "dimensions, but got input with spatial dimensions of "
                                 + str(list(input.shape[2:])) + " and scale_factor of shape "
                                 + str(scale_factor) + ". Please provide input tensor in (N, "
                                 "C, d1, d2, ...,dK) format and scale_factor in (s1, s2, "
                                 "...,sK) format.")
            scale_factors = [float(s) for s in scale_factor]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor is not None and recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor is not None and recompute_scale_factor:
        assert scale_factors is not None
        sf = scale_factors
        output_size = [int(_math.floor(float(input.size(i + 2)) * sf[i]))
                       for i in range(dim)]
        scale_factors = None
    return output_size, scale_factors


# torch.nn.functional's declarations of interpolate (scripted calls pick one by the types
# of size and scale_factor, and refuse others in TorchScript's words: scale_factor=2)
@_overload
def interpolate(input: Tensor, size: Optional[int] = None,  # noqa: F811
                scale_factor: Optional[List[float]] = None, mode: str = "nearest",
                align_corners: Optional[bool] = None,
                recompute_scale_factor: Optional[bool] = None,
                antialias: bool = False) -> Tensor:
    pass


@_overload
def interpolate(input: Tensor, size: Optional[List[int]] = None,  # noqa: F811
                scale_factor: Optional[List[float]] = None, mode: str = "nearest",
                align_corners: Optional[bool] = None,
                recompute_scale_factor: Optional[bool] = None,
                antialias: bool = False) -> Tensor:
    pass


@_overload
def interpolate(input: Tensor, size: Optional[int] = None,  # noqa: F811
                scale_factor: Optional[float] = None, mode: str = "nearest",
                align_corners: Optional[bool] = None,
                recompute_scale_factor: Optional[bool] = None,
                antialias: bool = False) -> Tensor:
    pass


@_overload
def interpolate(input: Tensor, size: Optional[List[int]] = None,  # noqa: F811
                scale_factor: Optional[float] = None, mode: str = "nearest",
                align_corners: Optional[bool] = None,
                recompute_scale_factor: Optional[bool] = None,
                antialias: bool = False) -> Tensor:
    pass


@_from_source
def interpolate(input, size: Optional[Union[int, List[int]]] = None,  # noqa: F811
                scale_factor: Optional[Union[float, List[float]]] = None,
                mode: str = "nearest", align_corners: Optional[bool] = None,
                recompute_scale_factor: Optional[bool] = None, antialias: bool = False):
    """Resample input (N, C, d1[, d2[, d3]]) to `size` or by `scale_factor` with `mode`
    (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area; lanczos and
    antialias=True on 4-D input), as PyTorch."""
    ac = False
    if mode == "nearest" or mode == "area" or mode == "nearest-exact":
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is not None:
        ac = align_corners
    output_size, scale_factors = _interp_output_size(input, size, scale_factor,
                                                     recompute_scale_factor, mode)
    nd = input.dim()
    if antialias and not ((mode == "bilinear" or mode == "bicubic" or mode == "lanczos")
                          and nd == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if nd == 3 and mode == "nearest":
        return _upsample_nearest1d(input, output_size, scale_factors)
    if nd == 4 and mode == "nearest":
        return _upsample_nearest2d(input, output_size, scale_factors)
    if nd == 5 and mode == "nearest":
        return _upsample_nearest3d(input, output_size, scale_factors)
    if nd == 3 and mode == "nearest-exact":
        return _upsample_nearest_exact1d(input, output_size, scale_factors)
    if nd == 4 and mode == "nearest-exact":
        return _upsample_nearest_exact2d(input, output_size, scale_factors)
    if nd == 5 and mode == "nearest-exact":
        return _upsample_nearest_exact3d(input, output_size, scale_factors)
    if nd == 3 and mode == "area":
        assert output_size is not None
        return adaptive_avg_pool1d(input, output_size)
    if nd == 4 and mode == "area":
        assert output_size is not None
        return adaptive_avg_pool2d(input, output_size)
    if nd == 5 and mode == "area":
        assert output_size is not None
        return adaptive_avg_pool3d(input, output_size)
    if nd == 3 and mode == "linear":
        return _upsample_linear1d(input, output_size, ac, scale_factors)
    if nd == 4 and mode == "bilinear":
        if antialias:
            return _upsample_bilinear2d_aa(input, output_size, ac, scale_factors)
        return _upsample_bilinear2d(input, output_size, ac, scale_factors)
    if nd == 5 and mode == "trilinear":
        return _upsample_trilinear3d(input, output_size, ac, scale_factors)
    if nd == 4 and mode == "bicubic":
        if antialias:
            return _upsample_bicubic2d_aa(input, output_size, ac, scale_factors)
        return _upsample_bicubic2d(input, output_size, ac, scale_factors)
    if nd == 4 and mode == "lanczos":
        if ac:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
        return _upsample_lanczos2d_aa(input, output_size, ac, scale_factors)
    if nd == 3 and mode == "bilinear":
        raise NotImplementedError("Got 3D input, but bilinear mode needs 4D input")
    if nd == 3 and mode == "trilinear":
        raise NotImplementedError("Got 3D input, but trilinear mode needs 5D input")
    if nd == 4 and mode == "linear":
        raise NotImplementedError("Got 4D input, but linear mode needs 3D input")
    if nd == 4 and mode == "trilinear":
        raise NotImplementedError("Got 4D input, but trilinear mode needs 5D input")
    if nd == 5 and mode == "linear":
        raise NotImplementedError("Got 5D input, but linear mode needs 3D input")
    if nd == 5 and mode == "bilinear":
        raise NotImplementedError("Got 5D input, but bilinear mode needs 4D input")
    raise NotImplementedError("Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                              + str(nd) + "D) for the modes: nearest | linear | bilinear | "
                              "bicubic | trilinear | lanczos | area | nearest-exact (got "
                              + mode + ")")


# torch.nn.functional's declarations of upsample / upsample_nearest / upsample_bilinear
@_overload
def upsample(input: Tensor, size: Optional[int] = None,  # noqa: F811
             scale_factor: Optional[float] = None,
             mode: str = "nearest", align_corners: Optional[bool] = None) -> Tensor:
    pass


@_overload
def upsample(input: Tensor, size: Optional[List[int]] = None,  # noqa: F811
             scale_factor: Optional[float] = None,
             mode: str = "nearest", align_corners: Optional[bool] = None) -> Tensor:
    pass


@_from_source
def upsample(input, size: Optional[Union[int, List[int]]] = None,
             scale_factor: Optional[Union[float, List[float]]] = None,
             mode: str = "nearest", align_corners: Optional[bool] = None):
    """Deprecated: F.interpolate."""
    _warnings.warn("`nn.functional.upsample` is deprecated. Use "
                   "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


@_overload
def upsample_nearest(input: Tensor, size: Optional[int] = None,  # noqa: F811
                     scale_factor: Optional[float] = None) -> Tensor:
    pass


@_overload
def upsample_nearest(input: Tensor, size: Optional[List[int]] = None,  # noqa: F811
                     scale_factor: Optional[float] = None) -> Tensor:
    pass


@_from_source
def upsample_nearest(input, size: Optional[Union[int, List[int]]] = None,
                     scale_factor: Optional[Union[float, List[float]]] = None):
    """Deprecated: F.interpolate(..., mode='nearest')."""
    _warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                   "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


@_overload
def upsample_bilinear(input: Tensor, size: Optional[int] = None,  # noqa: F811
                      scale_factor: Optional[float] = None) -> Tensor:
    pass


@_overload
def upsample_bilinear(input: Tensor, size: Optional[List[int]] = None,  # noqa: F811
                      scale_factor: Optional[float] = None) -> Tensor:
    pass


@_overload
def upsample_bilinear(input: Tensor, size: Optional[int] = None,  # noqa: F811
                      scale_factor: Optional[List[float]] = None) -> Tensor:
    pass


@_overload
def upsample_bilinear(input: Tensor, size: Optional[List[int]] = None,  # noqa: F811
                      scale_factor: Optional[List[float]] = None) -> Tensor:
    pass


@_from_source
def upsample_bilinear(input, size: Optional[Union[int, List[int]]] = None,
                      scale_factor: Optional[Union[float, List[float]]] = None):
    """Deprecated: F.interpolate(..., mode='bilinear', align_corners=True)."""
    _warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                   "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
