"""torch.nn.functional's pdist, embedding_bag, affine_grid, grid_sample,
gumbel_softmax and conv_tbc, composed of registry ops (re-exported by functional.py).

Each is a composite that scripted code compiles from its own source (`_from_source`), so
scripting, tracing and autograd see the ops themselves; the gradients are the compositions'
(ATen's special cases are kept where they matter: pdist's zero distances give a zero
gradient, p=inf's gradient reaches every tied coordinate, embedding_bag's padding_idx rows
and empty bags get none). Argument checks and messages follow PyTorch 2.13.
"""
import warnings as _warnings
from typing import List, Optional

import gpujit as _gpujit
from ..ops.parser_errors import scalar_args as _scalar_args, tensor_args as _tensor_args

__all__ = ["pdist", "embedding_bag", "affine_grid", "grid_sample",
           "gumbel_softmax", "conv_tbc"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


# ---------------------------------------------------------------------- pdist

@_from_source
def pdist(input, p: float = 2.0):
    """The p-norm distances of the rows of a 2-D input, pair (i, j) for i < j in row-major
    order; a zero distance (or, for p < 1, a zero coordinate difference) passes no
    gradient, as ATen's PdistBackward."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("pdist", "input", input)
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if not input.is_cuda and input.dtype == _gpujit.float16:
        raise NotImplementedError("\"pdist\" not implemented for 'Half'")   # (CPU kernel)
    if not input.is_cuda and input.dtype == _gpujit.bfloat16:
        raise NotImplementedError("\"pdist\" not implemented for 'BFloat16'")
    x = input
    if x.dtype == _gpujit.float16 or x.dtype == _gpujit.bfloat16:
        x = x.float()                   # (CUDA: cdist's kernels are float32 / float64)
    # the distances of every pair (cdist's differences, x's rows a block at a time, its
    # gradient: none through a zero distance, or for p < 1 a zero coordinate difference),
    # then the pairs i < j: (n, n) values held where differences of every pair held
    # (n * (n - 1) / 2, m): 3000 rows of 64 took 6 GB
    n = x.size(0)
    full = _gpujit.cdist(x.unsqueeze(0), x.unsqueeze(0), p, "donot_use_mm_for_euclid_dist")
    ij = _gpujit.triu_indices(n, n, 1, device=input.device)
    return full.reshape(-1).index_select(0, ij[0] * n + ij[1]).to(input.dtype)


# ---------------------------------------------------------------------- embedding_bag

@_from_source
def embedding_bag(input, weight, offsets: Optional[_gpujit.Tensor] = None,
                  max_norm: Optional[float] = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Optional[_gpujit.Tensor] = None,
                  include_last_offset: bool = False, padding_idx: Optional[int] = None):
    """Sums, means or maxima of bags of embeddings: bag b holds input[offsets[b]:
    offsets[b + 1]] (a 2-D input: its rows; the last bag runs to the end of input, with
    include_last_offset as ATen's CPU kernel reads it: see torch.embedding_bag). Indices
    equal to padding_idx are left out of every bag; an empty bag gives zeros."""
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) "
                         f"is not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    psw = per_sample_weights
    if input.dim() == 2:
        if offsets is not None:
            type_str = "<unknown>"      # (scripted code: torch's words too)
            if not _gpujit.jit.is_scripting():
                type_str = str(type(offsets))
            raise ValueError("if input is 2D, then offsets has to be None, as input is "
                             "treated is a mini-batch of fixed length sequences. However, "
                             "found offsets of type " + type_str)
        offs = _gpujit.arange(0, input.numel(), max(input.size(1), 1), dtype=input.dtype,
                              device=input.device)
        if input.size(1) == 0:
            offs = _gpujit.zeros(input.size(0), dtype=input.dtype, device=input.device)
        include_last_offset = False
        input = input.reshape(-1)
        if psw is not None:
            psw = psw.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        offs = offsets
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the "
                             "frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode != "sum" and mode != "mean":
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:
        # (through weight.detach() as torch's _no_grad_embedding_renorm_: a trace records
        # the write on a detached alias, and the lookup below reads the weight itself)
        with _gpujit.no_grad():
            _gpujit.embedding_renorm_(weight.detach(), input, max_norm, norm_type)
    if psw is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    n = input.numel()
    if include_last_offset and offs.numel() < 1:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    check = True
    if not _gpujit.jit.is_scripting():      # the data checks are not traced
        check = not _gpujit.jit.is_tracing()
    if check and offs.numel() > 0 and not offs.is_meta:     # (meta offsets: no values)
        first = int(offs[0].item())
        if first != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                               f"mini-batch has to start from position 0. However, got "
                               f"{first}")
        last = int(offs[-1].item())
        if last > n:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but "
                               f"got offsets[-1] of {last}")
    # as PyTorch: the bags are torch.embedding_bag's (ATen's form, its CPU kernel's
    # quirks included: nn/_torch_functional.py)
    code = 0 if mode == "sum" else (1 if mode == "mean" else 2)
    return _gpujit.embedding_bag(weight, input, offs, scale_grad_by_freq, code, sparse, psw,
                                 include_last_offset, padding_idx)[0]


# ---------------------------------------------------------------------- affine_grid

@_from_source
def _base_coords(n: int, align_corners: bool, theta):
    """ATen's linspace_from_neg_one: n points over [-1, 1] (pixel centres unless
    align_corners); one point: 0."""
    if n <= 1:
        return _gpujit.zeros(n, dtype=theta.dtype, device=theta.device)
    r = _gpujit.linspace(-1.0, 1.0, n, dtype=theta.dtype, device=theta.device)
    if not align_corners:
        r = r * ((n - 1) / n)
    return r


@_from_source
def affine_grid(theta, size: List[int], align_corners: Optional[bool] = None):
    """The sampling grid (N, H, W, 2) / (N, D, H, W, 3) of a batch of affine matrices."""
    if not _gpujit.jit.is_scripting() and align_corners is not None:
        _scalar_args("affine_grid_generator", "align_corners:bool:3", align_corners)
    if align_corners is None:
        _warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                       "align_corners=False since 1.3.0. Please specify align_corners=True "
                       "if the old behavior is desired. See the documentation of "
                       "grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or theta.size(-2) != 2 or theta.size(-1) != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for "
                             f"size {size}. Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.size(-2) != 3 or theta.size(-1) != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for "
                             f"size {size}. Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        _warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                       "grids when align_corners=True. This is not an intended use case of "
                       "affine_grid. See the documentation of affine_grid for details.",
                       stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    coords: List[_gpujit.Tensor] = []
    for k in range(len(spatial)):                     # x varies along the last dim
        coords.append(_base_coords(spatial[len(spatial) - 1 - k], align_corners, theta))
    mesh = _gpujit.meshgrid(coords[::-1], indexing="ij")
    parts: List[_gpujit.Tensor] = []
    for k in range(len(mesh)):
        parts.append(mesh[len(mesh) - 1 - k])
    parts.append(_gpujit.ones_like(mesh[0]))
    base = _gpujit.stack(parts, -1).reshape(-1, len(spatial) + 1)
    out_shape: List[int] = [size[0]] + list(spatial) + [len(spatial)]
    return _gpujit.matmul(base, theta.transpose(1, 2)).reshape(out_shape)


# ---------------------------------------------------------------------- gumbel_softmax

@_from_source
def gumbel_softmax(logits, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1):
    """softmax((logits + Gumbel(0, 1) noise) / tau); hard=True: the one-hot of its argmax,
    with the soft sample's gradient (straight-through)."""
    if eps != 1e-10:
        _warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -_gpujit.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = _gpujit.zeros_like(logits).scatter_(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft


# ---------------------------------------------------------------------- conv_tbc

@_from_source
def conv_tbc(input, weight, bias, pad: int = 0):
    """1-D convolution of a (time, batch, in_channels) input with a (kernel_width,
    in_channels, out_channels) weight: conv1d over the time dim."""
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.size(2) != weight.size(1):
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if bias.size(0) != weight.size(2):
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output "
                           "channels).")
    t_out = input.size(0) + 2 * pad - weight.size(0) + 1
    if t_out < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {t_out}: "
                           f"[{t_out}, {input.size(1)}, {weight.size(2)}]")
    if t_out == 0:
        return _gpujit.zeros(0, input.size(1), weight.size(2), dtype=input.dtype,
                             device=input.device) + bias * 0
    if weight.size(0) == 0:     # no taps: the bias at every step (ATen's loop never runs)
        return _gpujit.zeros(t_out, input.size(1), weight.size(2), dtype=input.dtype,
                             device=input.device) + bias
    y = _gpujit.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, 1, pad)
    return y.permute(2, 0, 1).contiguous()


from .functional_grid_sample import grid_sample  # noqa: E402,F401
