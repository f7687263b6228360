"""gpujit.nn.functional's rms_norm, local_response_norm and the channel-wise and alpha
dropouts (re-exported by functional.py through _functional_losses), as PyTorch 2.13
computes them, composed of registry ops (`_from_source`: scripted code compiles them)."""
import warnings
from typing import List, Optional

import gpujit as _gpujit
from ._dtype_names import short_dtype_name, c_type_name as _c_type_name


__all__ = ["rms_norm", "local_response_norm", "dropout1d", "dropout2d", "dropout3d",
           "alpha_dropout", "feature_alpha_dropout"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


@_from_source
def rms_norm(input, normalized_shape: List[int], weight: Optional[_gpujit.Tensor] = None,
             eps: Optional[float] = None):
    """x / sqrt(mean(x^2 over the normalized dims) + eps) * weight; eps defaults to the
    machine epsilon of the input's (opmath) dtype, as ATen's rms_norm."""
    ns: List[int] = [int(d) for d in normalized_shape]
    nd = len(ns)
    if nd < 1:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = "
                           + str(ns))
    if weight is not None:
        if list(weight.size()) != ns:
            raise RuntimeError("Expected weight to be of same shape as normalized_shape, but "
                               "got weight of shape " + str(list(weight.size()))
                               + " and normalized_shape = " + str(ns))
    shape = list(input.size())
    ok = input.dim() >= nd
    if ok:
        for i in range(nd):
            if shape[input.dim() - nd + i] != ns[i]:
                ok = False
    if not ok:
        raise RuntimeError("Given normalized_shape=" + str(ns)
                           + ", expected input with shape [*"
                           + str(ns)[1:] + ", but got input of size"
                           + str(shape))
    if weight is not None and weight.dtype != input.dtype:
        # (ATen warns, then takes its composite path, whose result has the input's dtype)
        _warn("Mismatch dtype between input and weight: input dtype = "
              + _c_type_name(input.dtype) + ", weight dtype = " + _c_type_name(weight.dtype)
              + ", Cannot dispatch to fused implementation.")
    if not input.is_floating_point():
        raise NotImplementedError("\"rms_norm\" not implemented for '"
                                  + short_dtype_name(input.dtype) + "'")
    x = input
    low = input.dtype == _gpujit.float16 or input.dtype == _gpujit.bfloat16
    if low:
        x = input.float()
    if eps is None:     # numeric_limits<opmath_t>::epsilon()
        e = 2.220446049250313e-16 if x.dtype == _gpujit.float64 else 1.1920928955078125e-07
    else:
        e = eps
    dims = [input.dim() - 1 - i for i in range(nd)]
    y = x * (x.pow(2).mean(dims, keepdim=True) + e).rsqrt()
    if weight is not None:
        # (ATen's fused CPU kernel and, for a weight of another dtype, its composite path
        # both multiply before rounding to the input's dtype: a float16 / bfloat16 input
        # in float, times the weight in the dtype they promote to)
        y = y * weight
    return y.to(input.dtype)


@_from_source
def _lrn_pool_check(input):
    """PyTorch's local_response_norm sums the squares with avg_pool2d (3-D input) or
    avg_pool3d (more dims), whose kernels refuse integer types but int64 (and float16
    for the CPU's avg_pool3d): their errors, for the device's kernel."""
    dt = input.dtype
    if dt == _gpujit.float32 or dt == _gpujit.float64 or dt == _gpujit.int64:
        return
    if (dt == _gpujit.float16 or dt == _gpujit.bfloat16) and (input.dim() == 3 or
                                                                 input.is_cuda):
        return
    if input.dim() == 3:
        kernel = "avg_pool2d_out_cuda_frame" if input.is_cuda else "avg_pool2d"
    else:
        kernel = "avg_pool3d_out_cuda" if input.is_cuda else "avg_pool3d_out_frame"
    raise NotImplementedError("\"" + kernel + "\" not implemented for '"
                              + short_dtype_name(dt) + "'")


@_from_source
def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0):
    """input / (k + alpha / size * sum of input^2 over `size` neighbouring channels)^beta
    (the window zero-padded: size // 2 channels before, (size - 1) // 2 after)."""
    dim = input.dim()
    if dim < 3:
        raise ValueError("Expected 3D or higher dimensionality                          "
                         "input (got " + str(dim) + " dimensions)")
    if input.numel() == 0:
        return input
    c = input.size(1)
    if size <= 0:
        # (PyTorch pads the channels by size // 2 and (size - 1) // 2, cropping where
        # negative, then pools with a kernel of size: their errors, in that order)
        if c + size - 1 < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        if dim == 3:
            raise RuntimeError("kernel size should be greater than zero, but got kH: "
                               + str(size) + " kW: 1")
        raise RuntimeError("kernel size should be greater than zero, but got kT: "
                           + str(size) + " kH: 1 kW: 1")
    _lrn_pool_check(input)
    sq = input * input
    front = list(input.size())
    front[1] = size // 2
    back = list(input.size())
    back[1] = (size - 1) // 2
    padded = _gpujit.cat([sq.new_zeros(front), sq, sq.new_zeros(back)], 1)
    div = padded.narrow(1, 0, c)
    for j in range(1, size):
        div = div + padded.narrow(1, j, c)
    div = (div / size * alpha + k).pow(beta)
    return input / div


@_from_source
def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of a (N, C, L) or (C, L) input with probability p."""
    if p < 0.0 or p > 1.0:
        raise ValueError("dropout probability has to be between 0 and 1, but got "
                         + str(p))
    inp_dim = input.dim()
    if inp_dim not in (2, 3):
        raise RuntimeError(
            "dropout1d: Expected 2D or 3D input, but received a " + str(inp_dim)
            + "D input. Note that dropout1d exists to provide channel-wise dropout on inputs "
            "with 1 spatial dimension, a channel dimension, and an optional batch dimension "
            "(i.e. 2D or 3D inputs).")
    # (PyTorch's structure: the batchless input unsqueezed, torch.feature_dropout(_),
    # squeezed back; a trace records those ops)
    is_batched = inp_dim == 3
    if not is_batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    result = (_gpujit.feature_dropout_(input, p, training) if inplace
              else _gpujit.feature_dropout(input, p, training))
    if not is_batched:
        result = result.squeeze_(0) if inplace else result.squeeze(0)
    return result


@_from_source
def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of a (N, C, H, W) input with probability p (a 3-D input is
    taken as (N, C, L), as PyTorch does, with its warning)."""
    if p < 0.0 or p > 1.0:
        raise ValueError("dropout probability has to be between 0 and 1, but got "
                         + str(p))
    inp_dim = input.dim()
    if inp_dim not in (3, 4):
        warnings_msg = (
            "dropout2d: Received a " + str(inp_dim) + "-D input to dropout2d, which is "
            "deprecated and will result in an error in a future release. To retain the "
            "behavior and silence this warning, please use dropout instead. Note that "
            "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
            "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or "
            "4D inputs).")
        _warn(warnings_msg)
    if inp_dim == 3:
        _warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
              "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
              "where C is the channel dim. This behavior will change in a future release to "
              "interpret the input as one without a batch dimension, i.e. shape (C, H, W). "
              "To maintain the 1D channel-wise dropout behavior, please switch to using "
              "dropout1d instead.")
    if inplace:
        return _gpujit.feature_dropout_(input, p, training)
    return _gpujit.feature_dropout(input, p, training)


@_from_source
def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of a (N, C, D, H, W) or (C, D, H, W) input with probability p
    (any other input is taken as batchless, as PyTorch does, with its warning)."""
    if p < 0.0 or p > 1.0:
        raise ValueError("dropout probability has to be between 0 and 1, but got "
                         + str(p))
    inp_dim = input.dim()
    if inp_dim not in (4, 5):
        _warn("dropout3d: Received a " + str(inp_dim) + "-D input to dropout3d, which is "
              "deprecated and will result in an error in a future release. To retain the "
              "behavior and silence this warning, please use dropout instead. Note that "
              "dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
              "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or "
              "5D inputs).")
    # (as PyTorch: any input but a 5-D one is taken as batchless and unsqueezed, so a
    # deprecated 2-D or 3-D input drops whole rows of dim 0, not single elements)
    is_batched = inp_dim == 5
    if not is_batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    result = (_gpujit.feature_dropout_(input, p, training) if inplace
              else _gpujit.feature_dropout(input, p, training))
    if not is_batched:
        result = result.squeeze_(0) if inplace else result.squeeze(0)
    return result


@_from_source
def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout that keeps a SELU network's zero mean and unit variance: dropped elements
    take SELU's negative saturation value, then an affine map restores the moments."""
    if p < 0.0 or p > 1.0:
        raise ValueError("dropout probability has to be between 0 and 1, but got "
                         + str(p))
    if inplace:
        return _gpujit.alpha_dropout_(input, p, training)
    return _gpujit.alpha_dropout(input, p, training)


@_from_source
def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False):
    """alpha_dropout of whole channels."""
    if p < 0.0 or p > 1.0:
        raise ValueError("dropout probability has to be between 0 and 1, but got "
                         + str(p))
    if inplace:
        return _gpujit.feature_alpha_dropout_(input, p, training)
    return _gpujit.feature_alpha_dropout(input, p, training)


@_from_source
def _warn(msg: str):
    warnings.warn(msg, stacklevel=3)
