"""gpujit.nn.init: in-place parameter initializers, as torch.nn.init.

Each writes the tensor through the registry's in-place ops (`uniform_`, `normal_`, `fill_`,
`copy_` ...) outside autograd and returns it.
"""
from __future__ import annotations

import math
import warnings
from typing import Optional, Tuple

import gpujit as _gpujit
from .module import _no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_"]


def _gen(generator):
    return {} if generator is None else {"generator": generator}


def _from_source(fn):
    """An initializer torch.jit.script compiles from torch's Python source (uniform_,
    xavier_uniform_, zeros_ ...): scripted code compiles this one from its own source,
    under no_grad as eager (the others torch refuses: kaiming_* and calculate_gain for
    their Literal annotations, eye_ / dirac_ / orthogonal_ / sparse_ for ndimension,
    trunc_normal_ for its nested function)."""
    fn.__gpujit_script_source__ = True
    return fn


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (torch.nn.init.calculate_gain)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


@_from_source
def _calculate_fan_in_and_fan_out(tensor: _gpujit.Tensor) -> Tuple[int, int]:
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return tensor.size(1) * receptive_field_size, tensor.size(0) * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


@_from_source
def uniform_(tensor: _gpujit.Tensor, a: float = 0.0, b: float = 1.0,
             generator: Optional[_gpujit.Generator] = None) -> _gpujit.Tensor:
    """Fill with values drawn from U(a, b)."""
    with _gpujit.no_grad():
        return tensor.uniform_(a, b, generator=generator)


@_from_source
def normal_(tensor: _gpujit.Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Optional[_gpujit.Generator] = None) -> _gpujit.Tensor:
    """Fill with values drawn from N(mean, std^2)."""
    with _gpujit.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) truncated to [a, b], by rejection sampling (as torch 2.13)."""
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    import gpujit
    g = _gen(generator)
    if tensor.is_meta:      # (no values to draw: torch's in-place steps leave it as it is)
        return tensor
    with _no_grad():
        # torch 2.13's sampler (so one seed gives its numbers): rejection from N(mean, std)
        # when [a, b] holds over 30% of the mass, else from U(a, b) against the density
        p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
        if p > 0.3:
            lo = tensor.new_tensor(a, device="cpu").item()
            hi = tensor.new_tensor(b, device="cpu").item()
            result = tensor.normal_(mean, std, **g)
            while True:
                mask = (result < lo) | (result > hi)
                if not mask.any():
                    break
                result = gpujit.where(mask, gpujit.empty_like(result).normal_(mean, std, **g),
                                      result)
            if tensor is not result:
                tensor.copy_(result)
            return tensor
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        candidates = gpujit.empty_like(tensor)
        accept_buf = gpujit.empty_like(tensor)
        tensor.uniform_(a, b, **g)
        candidates.copy_(tensor)
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
        pending = accept_buf.uniform_(**g).log_().gt(candidates)
        if pending.any():
            result = tensor
            while True:
                candidates.uniform_(a, b, **g)
                result = gpujit.where(pending, candidates, result)
                candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
                pending = gpujit.where(pending, accept_buf.uniform_(**g).log_().gt(candidates),
                                       pending)
                if not pending.any():
                    break
            tensor.copy_(result)
        return tensor


@_from_source
def constant_(tensor: _gpujit.Tensor, val: float) -> _gpujit.Tensor:
    """Fill with the value val."""
    with _gpujit.no_grad():
        return tensor.fill_(val)


@_from_source
def ones_(tensor: _gpujit.Tensor) -> _gpujit.Tensor:
    with _gpujit.no_grad():
        return tensor.fill_(1.0)


@_from_source
def zeros_(tensor: _gpujit.Tensor) -> _gpujit.Tensor:
    with _gpujit.no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    import gpujit
    with _no_grad():
        return tensor.copy_(gpujit.eye(tensor.size(0), tensor.size(1), dtype=tensor.dtype,
                                       device=tensor.device))


def dirac_(tensor, groups=1):
    """Fill a 3/4/5-D tensor with the Dirac delta (identity convolution) per group."""
    dimensions = tensor.ndimension()
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.size()
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    with _no_grad():
        tensor.zero_()
        centre = tuple(s // 2 for s in sizes[2:])
        for g in range(groups):
            for d in range(min_dim):
                tensor[(g * out_chans_per_grp + d, d) + centre] = 1
    return tensor


@_from_source
def xavier_uniform_(tensor: _gpujit.Tensor, gain: float = 1.0,
                    generator: Optional[_gpujit.Generator] = None) -> _gpujit.Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


@_from_source
def xavier_normal_(tensor: _gpujit.Tensor, gain: float = 1.0,
                   generator: Optional[_gpujit.Generator] = None) -> _gpujit.Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan_mode)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan_mode)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix from the QR decomposition of a normal matrix."""
    import gpujit
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flattened = tensor.new_empty((rows, cols)).normal_(0, 1, **_gen(generator))
    if rows < cols:
        flattened = flattened.t()
    q, r = gpujit.linalg.qr(flattened)
    d = gpujit.einsum("ii->i", r)      # the diagonal of r
    q = q * d.sign()
    if rows < cols:
        q = q.t()
    with _no_grad():
        tensor.view_as(q).copy_(q)
        tensor.mul_(gain)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor with N(0, std^2) values, then zero a fraction `sparsity` of the
    entries of every column (chosen at random per column)."""
    import gpujit
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    with _no_grad():
        tensor.normal_(0, std, **_gen(generator))
        # PyTorch's: per column, the first num_zeros rows of a randperm (drawn from the
        # default generator, as torch 2.13 does whatever `generator` is) are zeroed
        for col_idx in range(cols):
            zero_indices = gpujit.randperm(rows, device=tensor.device)[:num_zeros]
            tensor[zero_indices, col_idx] = 0
    return tensor


def _make_deprecate(meth):
    """The pre-0.4 name of an initializer (`nn.init.normal`): a FutureWarning, then the
    in-place one, as torch.nn.init keeps them."""
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = (f"{old_name}(...): deprecated in favor of "
                               f"gpujit.nn.init.{new_name}.")
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
