"""torch.nn.functional's pooling / convolution adapters beyond functional.py's: max_pool1d/3d,
avg_pool1d/3d, adaptive_max_pool1d/2d/3d, lp_pool1d/2d/3d, max_unpool1d/2d/3d, unfold /
fold (conv3d and conv_transpose1d/2d/3d are the registry ops themselves). Each takes
PyTorch's Python arguments (stride=None meaning kernel_size, return_indices, output_size)
and calls registry ops, so tracing, scripting and autograd see the ops."""
from typing import List, Optional, Union

import gpujit as _gpujit

from ..ops.registry import OPS as _OPS
from .._jit_internal import BroadcastingList1, BroadcastingList2, BroadcastingList3
from .functional import max_pool2d as _max_pool2d_fn  # (functional.py imports this last)
from .functional import _sizes_with_default

__all__ = ["max_pool1d", "max_pool1d_with_indices", "max_pool3d", "max_pool3d_with_indices",
           "avg_pool1d", "avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
           "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d",
           "max_unpool3d", "unfold", "fold"]


def _op(name):
    return _OPS[name].public


_OP_MP = {n: _OPS[f"aten::max_pool{n}d_with_indices"].public for n in (1, 2, 3)}
_OP_MP_VALUES = {n: _OPS[f"aten::max_pool{n}d"].public for n in (1, 2, 3)}
_OP_AMP = {n: _OPS[f"aten::adaptive_max_pool{n}d"].public for n in (1, 2, 3)}
_mp1_i, _mp2_i, _mp3_i = _OP_MP[1], _OP_MP[2], _OP_MP[3]
_mp1_v, _mp2_v, _mp3_v = _OP_MP_VALUES[1], _OP_MP_VALUES[2], _OP_MP_VALUES[3]
_amp1, _amp2, _amp3 = _OP_AMP[1], _OP_AMP[2], _OP_AMP[3]


_im2col, _col2im = _OPS["aten::im2col"].public, _OPS["aten::col2im"].public
_ap1, _ap2, _ap3 = (_OPS[f"aten::avg_pool{n}d"].public for n in (1, 2, 3))


def _ntuple(v, n):
    if isinstance(v, (list, tuple)):
        return list(v) * n if len(v) == 1 else list(v)
    return [v] * n


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _op("aten::max_pool1d_with_indices")(
        input, kernel_size, [] if stride is None else stride, padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling; with return_indices=True also the indices."""
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation,
                                       ceil_mode)
    return _op("aten::max_pool1d")(input, kernel_size, [] if stride is None else stride,
                                   padding, dilation, ceil_mode)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _op("aten::max_pool3d_with_indices")(
        input, kernel_size, [] if stride is None else stride, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling; with return_indices=True also the indices."""
    if return_indices:
        return max_pool3d_with_indices(input, kernel_size, stride, padding, dilation,
                                       ceil_mode)
    return _op("aten::max_pool3d")(input, kernel_size, [] if stride is None else stride,
                                   padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _op("aten::avg_pool1d")(input, kernel_size, () if stride is None else stride,
                                   padding, ceil_mode, count_include_pad)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _op("aten::avg_pool3d")(input, kernel_size, () if stride is None else stride,
                                   padding, ceil_mode, count_include_pad, divisor_override)


def _adaptive_size(nd, output_size):
    if nd == 1 and isinstance(output_size, (list, tuple)) and len(output_size) != 1:
        raise RuntimeError(f"adaptive_max_pool1d() argument 'output_size' should contain one "
                           f"int (got {len(output_size)})")
    return output_size


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _op("aten::adaptive_max_pool1d")(input, _adaptive_size(1, output_size))


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _op("aten::adaptive_max_pool2d")(input, _sizes_with_default(input, output_size))


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _op("aten::adaptive_max_pool3d")(input, _sizes_with_default(input, output_size))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    r = adaptive_max_pool1d_with_indices(input, output_size)
    return r if return_indices else r[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    r = adaptive_max_pool2d_with_indices(input, output_size)
    return r if return_indices else r[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    r = adaptive_max_pool3d_with_indices(input, output_size)
    return r if return_indices else r[0]


def _kernel_numel(kernel_size: List[int], nd: int) -> int:
    """prod(kernel_size), a one-element list standing for all nd dims."""
    n = 1
    if not _gpujit.jit.is_scripting() and isinstance(kernel_size, int):   # eager: an int
        for i in range(nd):
            n *= kernel_size
        return n
    for i in range(nd):
        n *= kernel_size[0] if len(kernel_size) == 1 else kernel_size[i]
    return n


def _lp_finish(out, n: int, norm_type: float):
    return (_gpujit.sign(out) * _gpujit.relu(_gpujit.abs(out))).mul(n).pow(1.0 / norm_type)


def _lp_eager_args(input, norm_type, kernel_size, nd: int):
    """torch 2.13's first failures of an eager lp_pool call, in its order: lp_pool2d / 3d
    unpack kernel_size (`kw, kh = _pair(kernel_size)`: Python's ValueError for a sequence
    of another length, '2' too), then input.pow(norm_type) parses norm_type (a str or None:
    pow()'s TypeError), where gpujit's float(norm_type) would take '2'."""
    if nd > 1 and isinstance(kernel_size, (list, tuple, str)) and len(kernel_size) != nd:
        n = len(kernel_size)
        raise ValueError(f"not enough values to unpack (expected {nd}, got {n})" if n < nd
                         else f"too many values to unpack (expected {nd})")
    if not isinstance(norm_type, (int, float)):
        y = input.pow(norm_type)
        if y.is_complex():          # (a complex norm_type: avg_pool's dtype error)
            (_ap1, _ap2, _ap3)[nd - 1](y, kernel_size)


def lp_pool1d(input, norm_type: Union[int, float], kernel_size: int,
              stride: Optional[BroadcastingList1[int]] = None, ceil_mode: bool = False):
    """Power-average pooling: (sum over each window of x^p)^(1/p)."""
    if not _gpujit.jit.is_scripting():
        _lp_eager_args(input, norm_type, kernel_size, 1)
    # (torch 2.13's kernel_size: an int, as scripted callers pass it; eager also a tuple)
    if isinstance(kernel_size, int):
        k = [kernel_size]
    else:
        k = list(kernel_size)
    p = float(norm_type)    # (torch 2.13's norm_type: Union[int, float], an int 2 too)
    s = k if stride is None else stride
    if p == float("inf"):
        return _mp1_v(input.abs(), k, s, 0, 1, ceil_mode)
    if p == -float("inf"):
        return -_mp1_v(-input.abs(), k, s, 0, 1, ceil_mode)
    out = _ap1(input.pow(p), k, s, 0, ceil_mode, True)
    return _lp_finish(out, _kernel_numel(k, 1), p)


def lp_pool2d(input, norm_type: Union[int, float], kernel_size: BroadcastingList2[int],
              stride: Optional[BroadcastingList2[int]] = None, ceil_mode: bool = False):
    """2-D power-average pooling."""
    if not _gpujit.jit.is_scripting():
        _lp_eager_args(input, norm_type, kernel_size, 2)
    p = float(norm_type)    # (torch 2.13's norm_type: Union[int, float], an int 2 too)
    s = kernel_size if stride is None else stride
    if p == float("inf"):
        return _mp2_v(input.abs(), kernel_size, s, 0, 1, ceil_mode)
    if p == -float("inf"):
        return -_mp2_v(-input.abs(), kernel_size, s, 0, 1, ceil_mode)
    out = _ap2(input.pow(p), kernel_size, s, 0, ceil_mode, True, None)
    return _lp_finish(out, _kernel_numel(kernel_size, 2), p)


def lp_pool3d(input, norm_type: Union[int, float], kernel_size: BroadcastingList3[int],
              stride: Optional[BroadcastingList3[int]] = None, ceil_mode: bool = False):
    """3-D power-average pooling."""
    if not _gpujit.jit.is_scripting():
        _lp_eager_args(input, norm_type, kernel_size, 3)
    p = float(norm_type)    # (torch 2.13's norm_type: Union[int, float], an int 2 too)
    s = kernel_size if stride is None else stride
    if p == float("inf"):
        return _mp3_v(input.abs(), kernel_size, s, 0, 1, ceil_mode)
    if p == -float("inf"):
        return -_mp3_v(-input.abs(), kernel_size, s, 0, 1, ceil_mode)
    out = _ap3(input.pow(p), kernel_size, s, 0, ceil_mode, True, None)
    return _lp_finish(out, _kernel_numel(kernel_size, 3), p)


for _f in (_kernel_numel, _lp_finish, lp_pool1d, lp_pool2d, lp_pool3d):
    _f.__gpujit_script_source__ = True


def _unpool_output_size(input, kernel_size: List[int], stride: List[int],
                        padding: List[int], output_size: Optional[List[int]]) -> List[int]:
    input_size = input.size()
    default_size: List[int] = []
    for d in range(len(kernel_size)):
        default_size.append((input_size[-len(kernel_size) + d] - 1) * stride[d]
                            + kernel_size[d] - 2 * padding[d])
    if output_size is None:
        ret = default_size
    else:
        out_size = [int(e) for e in output_size]
        if len(out_size) == len(kernel_size) + 2:
            out_size = out_size[2:]
        if len(out_size) != len(kernel_size):
            raise ValueError(f"output_size should be a sequence containing "
                             f"{len(kernel_size)} or {len(kernel_size) + 2} elements, but it "
                             f"has a length of '{len(out_size)}'")
        for d in range(len(kernel_size)):
            min_size = default_size[d] - stride[d]
            max_size = default_size[d] + stride[d]
            if not (min_size < out_size[d] < max_size):
                raise ValueError(f'invalid output_size "{out_size}" (dim {d} must be '
                                 f'between {min_size} and {max_size})')
        ret = out_size
    for d in range(len(kernel_size)):
        if ret[d] < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={ret[d]}")
    return [int(r) for r in ret]


def _unpool_list(v: List[int], nd: int) -> List[int]:
    """A size argument as nd ints: an int (eager) or a one-element list repeated (script's
    BroadcastingList: max_unpool2d(x, i, 2) passes [2]), a list or tuple as it is."""
    if not _gpujit.jit.is_scripting() and isinstance(v, int):          # eager: an int
        return [v for _ in range(nd)]
    if len(v) == 1:
        return [v[0] for _ in range(nd)]
    return [int(e) for e in v]


def max_unpool1d(input, indices, kernel_size: BroadcastingList1[int],
                 stride: Optional[List[int]] = None, padding: BroadcastingList1[int] = 0,
                 output_size: Optional[List[int]] = None):
    """Partial inverse of max_pool1d: values put back at their indices, zeros elsewhere."""
    k = _unpool_list(kernel_size, 1)
    s = k if stride is None else _unpool_list(stride, 1)
    size = _unpool_output_size(input, k, s, _unpool_list(padding, 1), output_size)
    return _unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), size + [1]).squeeze(-1)


def max_unpool2d(input, indices, kernel_size: BroadcastingList2[int],
                 stride: Optional[List[int]] = None, padding: BroadcastingList2[int] = 0,
                 output_size: Optional[List[int]] = None):
    """Partial inverse of max_pool2d."""
    k = _unpool_list(kernel_size, 2)
    s = k if stride is None else _unpool_list(stride, 2)
    size = _unpool_output_size(input, k, s, _unpool_list(padding, 2), output_size)
    return _unpool2d(input, indices, size)


def max_unpool3d(input, indices, kernel_size: BroadcastingList3[int],
                 stride: Optional[List[int]] = None, padding: BroadcastingList3[int] = 0,
                 output_size: Optional[List[int]] = None):
    """Partial inverse of max_pool3d."""
    k = _unpool_list(kernel_size, 3)
    s = k if stride is None else _unpool_list(stride, 3)
    p = _unpool_list(padding, 3)
    size = _unpool_output_size(input, k, s, p, output_size)
    return _unpool3d(input, indices, size, s, p)


_unpool2d, _unpool3d = _OPS["aten::max_unpool2d"].public, _OPS["aten::max_unpool3d"].public
for _f in (_unpool_output_size, _unpool_list, max_unpool1d, max_unpool2d, max_unpool3d):
    _f.__gpujit_script_source__ = True


def unfold(input, kernel_size: BroadcastingList2[int], dilation: BroadcastingList2[int] = 1,
           padding: BroadcastingList2[int] = 0, stride: BroadcastingList2[int] = 1):
    """Sliding local blocks: (N, C, H, W) -> (N, C * prod(kernel_size), L)."""
    return _im2col(input, kernel_size, dilation, padding, stride)


def fold(input, output_size: BroadcastingList2[int], kernel_size: BroadcastingList2[int],
         dilation: BroadcastingList2[int] = 1, padding: BroadcastingList2[int] = 0,
         stride: BroadcastingList2[int] = 1):
    """Sums sliding local blocks (N, C * prod(kernel_size), L) into (N, C, *output_size)."""
    return _col2im(input, output_size, kernel_size, dilation, padding, stride)


unfold.__gpujit_script_source__ = True
fold.__gpujit_script_source__ = True


# ---------------------------------------------------------------------- scripting
# TorchScript's boolean dispatch: a call whose return_indices is a literal or a module
# constant compiles the variant it selects (compiled from source, calling the op).

def _max_pool1d_indices(input, kernel_size: List[int],
                        stride: Optional[List[int]] = None,
                        padding: List[int] = [0], dilation: List[int] = [1],  # noqa: B006
                        ceil_mode: bool = False,
                        return_indices: bool = False):
    s = kernel_size if stride is None else stride
    return _mp1_i(input, kernel_size, s, padding, dilation, ceil_mode)


def _max_pool1d_values(input, kernel_size: List[int],
                       stride: Optional[List[int]] = None,
                       padding: List[int] = [0], dilation: List[int] = [1],  # noqa: B006
                       ceil_mode: bool = False,
                       return_indices: bool = False):
    s = kernel_size if stride is None else stride
    return _mp1_v(input, kernel_size, s, padding, dilation, ceil_mode)


def _max_pool2d_indices(input, kernel_size: List[int],
                        stride: Optional[List[int]] = None,
                        padding: List[int] = [0], dilation: List[int] = [1],  # noqa: B006
                        ceil_mode: bool = False,
                        return_indices: bool = False):
    s = kernel_size if stride is None else stride
    return _mp2_i(input, kernel_size, s, padding, dilation, ceil_mode)


def _max_pool2d_values(input, kernel_size: List[int],
                       stride: Optional[List[int]] = None,
                       padding: List[int] = [0], dilation: List[int] = [1],  # noqa: B006
                       ceil_mode: bool = False,
                       return_indices: bool = False):
    s = kernel_size if stride is None else stride
    return _mp2_v(input, kernel_size, s, padding, dilation, ceil_mode)


def _max_pool3d_indices(input, kernel_size: List[int],
                        stride: Optional[List[int]] = None,
                        padding: List[int] = [0], dilation: List[int] = [1],  # noqa: B006
                        ceil_mode: bool = False,
                        return_indices: bool = False):
    s = kernel_size if stride is None else stride
    return _mp3_i(input, kernel_size, s, padding, dilation, ceil_mode)


def _max_pool3d_values(input, kernel_size: List[int],
                       stride: Optional[List[int]] = None,
                       padding: List[int] = [0], dilation: List[int] = [1],  # noqa: B006
                       ceil_mode: bool = False,
                       return_indices: bool = False):
    s = kernel_size if stride is None else stride
    return _mp3_v(input, kernel_size, s, padding, dilation, ceil_mode)


def _list_with_default(out: List[Optional[int]], defaults: List[int]) -> List[int]:
    """output_size with None entries taken from the input's trailing sizes."""
    k = len(out)
    r: List[int] = []
    for i in range(k):
        v = out[i]
        r.append(defaults[len(defaults) - k + i] if v is None else v)
    return r


_list_with_default.__gpujit_script_source__ = True


def _adaptive_max_pool1d_indices(input, output_size: List[int], return_indices: bool = False):
    return _amp1(input, output_size)


def _adaptive_max_pool1d_values(input, output_size: List[int], return_indices: bool = False):
    return _amp1(input, output_size)[0]


def _adaptive_max_pool2d_indices(input, output_size: List[Optional[int]],
                                 return_indices: bool = False):
    return _amp2(input, _list_with_default(output_size, input.size()))


def _adaptive_max_pool2d_values(input, output_size: List[Optional[int]],
                                return_indices: bool = False):
    return _amp2(input, _list_with_default(output_size, input.size()))[0]


def _adaptive_max_pool3d_indices(input, output_size: List[Optional[int]],
                                 return_indices: bool = False):
    return _amp3(input, _list_with_default(output_size, input.size()))


def _adaptive_max_pool3d_values(input, output_size: List[Optional[int]],
                                return_indices: bool = False):
    return _amp3(input, _list_with_default(output_size, input.size()))[0]


def _dispatch(fn, pos, if_true, if_false, with_indices=None):
    if_true.__gpujit_script_source__ = True
    if_false.__gpujit_script_source__ = True
    fn.__gpujit_boolean_dispatch__ = ("return_indices", pos, False, if_true, if_false)
    if with_indices is not None:    # (F.*_with_indices: the indices variant, whatever the flag)
        with_indices.__gpujit_boolean_dispatch__ = ("return_indices", pos, False, if_true,
                                                    if_true)


_dispatch(max_pool1d, 6, _max_pool1d_indices, _max_pool1d_values)
_dispatch(max_pool3d, 6, _max_pool3d_indices, _max_pool3d_values)
_dispatch(_max_pool2d_fn, 6, _max_pool2d_indices, _max_pool2d_values)
_dispatch(adaptive_max_pool1d, 2, _adaptive_max_pool1d_indices, _adaptive_max_pool1d_values,
          adaptive_max_pool1d_with_indices)
_dispatch(adaptive_max_pool2d, 2, _adaptive_max_pool2d_indices, _adaptive_max_pool2d_values,
          adaptive_max_pool2d_with_indices)
_dispatch(adaptive_max_pool3d, 2, _adaptive_max_pool3d_indices, _adaptive_max_pool3d_values,
          adaptive_max_pool3d_with_indices)


for _f, _name in ((avg_pool1d, "aten::avg_pool1d"), (avg_pool3d, "aten::avg_pool3d"),
                  (max_pool1d, "aten::max_pool1d"), (max_pool3d, "aten::max_pool3d")):
    _f.op = _OPS[_name]
del _f, _name
