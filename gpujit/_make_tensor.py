"""torch.testing.make_tensor: a tensor of a shape, dtype and device filled with values
drawn uniformly from [low, high), with PyTorch's default ranges per dtype:

    bool [0, 2)    unsigned integers [0, 10)    signed integers [-9, 10)    floats [-9, 9)

low/high outside the dtype's finite range are clamped to it (integer bounds are rounded
up); `noncontiguous` gives a strided view (every other element of a twice-as-long last
dimension, starting at the second), `memory_format` a tensor laid out in it,
`exclude_zero` replaces zeros by 1 (bool, integers) or the dtype's smallest normal number.
Errors are PyTorch's: ValueError for NaN bounds, low >= high, an interval outside the
dtype, requires_grad on bool/integer dtypes, noncontiguous with memory_format; TypeError
for a dtype make_tensor does not support.
"""
from __future__ import annotations

import collections.abc
import math
import warnings

from . import dtypes as _dt

__all__ = ["make_tensor"]

_FLOATING = ("float16", "float32", "float64")


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    import gpujit as _g
    if not isinstance(dtype, _dt.dtype):
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        f"gpujit.testing.make_tensor().")
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    name = dtype.name
    is_bool = name == "bool"
    is_complex = name in ("complex64", "complex128")
    is_float = name in _FLOATING or is_complex     # (complex: its real view drawn)
    is_int = not is_bool and not is_float and name in ("uint8", "int8", "int16", "int32", "int64",
                                                       "uint16", "uint32", "uint64")
    if not (is_bool or is_int or is_float):
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        f"gpujit.testing.make_tensor().")
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    if requires_grad and not is_float:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={dtype}")

    def bounds(lowest, highest_excl, default_low, default_high):
        lo = default_low if low is None else low
        hi = default_high if high is None else high
        if any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
        if lo == hi and is_float:
            warnings.warn("Passing `low==high` to `gpujit.testing.make_tensor` for floating "
                          "types is deprecated (as in PyTorch 2.1). Use `gpujit.full(...)` "
                          "instead.", FutureWarning, stacklevel=3)
        elif lo >= hi:
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        elif hi < lowest or lo >= highest_excl:
            raise ValueError(f"The value interval specified by `low` and `high` is "
                             f"[{lo}, {hi}), but {dtype} only supports "
                             f"[{lowest}, {highest_excl})")
        lo, hi = min(max(lo, lowest), highest_excl), min(max(hi, lowest), highest_excl)
        if not is_float:      # integer draws: [ceil(low), ceil(high))
            return math.ceil(lo), math.ceil(hi)
        return lo, hi

    n = math.prod(shape)
    noncontiguous = noncontiguous and n > 1
    if noncontiguous:
        shape = shape[:-1] + (2 * shape[-1],)
    if is_bool:
        lo, hi = bounds(0, 2, 0, 2)
        result = _g.randint(lo, hi, shape, device=device, dtype=dtype)
    elif is_int:
        info = _dt.iinfo(dtype)
        lo, hi = bounds(info.min, info.max + (name != "int64"),
                        0 if info.min == 0 else -9, 10)
        result = _g.randint(lo, hi, shape, device=device, dtype=dtype)
    else:
        fmax = _dt.finfo(dtype).max
        lo, hi = bounds(-fmax, fmax, -9, 9)
        result = _g.empty(shape, device=device, dtype=dtype)
        # (a complex tensor: its view_as_real drawn, real and imaginary parts alike)
        drawn = _g.view_as_real(result) if is_complex else result
        if hi - lo >= fmax:      # the width overflows: draw over half and double
            drawn.uniform_(lo / 2, hi / 2).mul_(2)
        else:
            drawn.uniform_(lo, hi)
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = _dt.finfo(dtype).tiny if is_float else 1
    if is_float:
        result.requires_grad_(requires_grad)
    return result
