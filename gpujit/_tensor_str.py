"""Tensor printing, ported from PyTorch's torch/_tensor_str.py so that gpujit prints what
PyTorch prints: the same formatter modes (int, integral float `1.`, fixed `0.1000`,
scientific `1.0000e-05`), column alignment, summarization with `...` above `threshold`
elements, line wrapping at `linewidth` under the `tensor(` indentation, and the suffixes
(`device=`, `dtype=`, `size=`, `grad_fn=`/`requires_grad=`).

Printing works on a NumPy copy of (only) the data that will be shown: a summarized CUDA
tensor copies its edge items to the host, not the whole array.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy as np

from . import dtypes as _dt
from .device import cupy_or_none

__all__ = ["tensor_repr", "set_printoptions", "get_printoptions", "printoptions"]


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """As torch.set_printoptions: `profile` ('default', 'short', 'full') sets all four
    numeric options first; `sci_mode` True/False forces scientific notation on/off and None
    (the default, and what every call without it restores) lets the formatter decide."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected one of "
                             f"{', '.join(_PROFILES)}")
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode   # as in PyTorch: every call resets it


def get_printoptions() -> dict:
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options: `with gpujit.printoptions(precision=2): ...`"""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one format for all elements (from the values that will be shown) and the
    common width they are right-aligned to."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
        else:
            f = flat.astype(np.float64)
            nz = f[np.isfinite(f) & (f != 0)]
            if nz.size:
                absv = np.abs(nz)
                vmin, vmax = float(absv.min()), float(absv.max())
                p = PRINT_OPTS.precision
                self.int_mode = bool(np.all(nz == np.ceil(nz)))
                vals = nz.tolist()
                # (set_printoptions(sci_mode=) decides before the widths are measured, as
                # PyTorch's: sci_mode=False measures the fixed-point strings)
                self.sci_mode = (vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4) \
                    if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode
                if self.sci_mode:
                    self.max_width = max(len(f"{v:.{p}e}") for v in vals)
                elif self.int_mode:     # one more for the '.' that marks a float
                    self.max_width = max(len(f"{v:.0f}") + 1 for v in vals)
                else:
                    self.max_width = max(len(f"{v:.{p}f}") for v in vals)
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating_dtype:
            p = PRINT_OPTS.precision
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


class _ComplexFormatter:
    """PyTorch's two formatters of a complex tensor, one chosen from the real parts, one
    from the imaginary parts: an element prints as `real+imagj` (the imaginary part's
    padding dropped, its sign joining the two)."""

    def __init__(self, values: np.ndarray):
        self.real = _Formatter(values.real, True)
        self.imag = _Formatter(values.imag, True)

    def width(self):
        return self.real.width() + self.imag.width() + 1     # (+1: the 'j')

    def format(self, value):
        real_str = self.real.format(value.real)
        imag_str = (self.imag.format(value.imag) + "j").lstrip()
        if imag_str[0] in "+-":
            return real_str + imag_str
        return real_str + "+" + imag_str


def _summarized(a, edge):
    """The elements that a summarized print shows: along every dim longer than 2*edge,
    the first and last `edge` entries (NumPy or CuPy array in, same kind out)."""
    xp = np if isinstance(a, np.ndarray) else cupy_or_none()
    for axis, n in enumerate(a.shape):
        if n > 2 * edge:
            idx = (slice(None),) * axis
            a = xp.concatenate((a[idx + (slice(0, edge),)], a[idx + (slice(n - edge, n),)]),
                               axis=axis)
    return a


def _vector_str(a, shape, indent, summarize, fmt):
    # a holds the shown elements; shape is the tensor's real shape (for summarization)
    element_length = fmt.width() + 2
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    edge = PRINT_OPTS.edgeitems
    vals = a.tolist()
    if summarize and not edge:
        data = ["..."]
    elif summarize and shape[0] > 2 * edge:
        data = ([fmt.format(v) for v in vals[:edge]] + [" ..."]
                + [fmt.format(v) for v in vals[-edge:]])
    else:
        data = [fmt.format(v) for v in vals]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a, shape, indent, summarize, fmt):
    dim = len(shape)
    if dim == 0:
        return fmt.format(a.item())
    if dim == 1:
        return _vector_str(a, shape, indent, summarize, fmt)
    edge = PRINT_OPTS.edgeitems
    sub = shape[1:]
    if summarize and shape[0] > 2 * edge:
        slices = ([_tensor_str_with_formatter(a[i], sub, indent + 1, summarize, fmt)
                   for i in range(edge)] + ["..."]
                  + [_tensor_str_with_formatter(a[i], sub, indent + 1, summarize, fmt)
                     for i in range(a.shape[0] - edge, a.shape[0])])
    else:
        slices = [_tensor_str_with_formatter(a[i], sub, indent + 1, summarize, fmt)
                  for i in range(shape[0])]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _host(a):
    return a if isinstance(a, np.ndarray) else a.get()


def _tensor_str(t, indent):
    arr = t._data
    if arr.size == 0:
        return "[]"
    shape = tuple(arr.shape)
    summarize = arr.size > PRINT_OPTS.threshold
    shown = _host(_summarized(arr, PRINT_OPTS.edgeitems) if summarize else arr)
    if t._dtype is _dt.float16:
        shown = shown.astype(np.float32)
    if t._dtype.cplx:
        fmt = _ComplexFormatter(shown)
    else:
        fmt = _Formatter(shown, t._dtype.category == _dt.FLOATING)
    return _tensor_str_with_formatter(shown, shape, indent, summarize, fmt)


def _add_suffixes(tensor_str, suffixes, indent, force_newline=False):
    parts = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _grad_fn_name(grad_fn):
    name = getattr(grad_fn, "name", None)
    if callable(name):
        return str(name()).rsplit("::", 1)[-1]
    return type(grad_fn).__name__


def tensor_repr(t) -> str:
    """repr(tensor), as PyTorch prints it."""
    from .tensor import Tensor
    cls = type(t)
    plain = cls is Tensor or cls.__name__ == "Parameter"
    prefix = "tensor(" if plain else f"{cls.__name__}("
    indent = len(prefix)
    suffixes = []
    dev = t._device
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")
    dt = t._dtype
    default = _dt.get_default_dtype()
    # (a complex tensor of the default complex dtype shows none either)
    default_complex = _dt.complex128 if default is _dt.float64 else _dt.complex64
    if dev.type == "meta":      # (no data: its size and any dtype not the default, as torch)
        suffixes.append(f"size={tuple(t._data.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt!r}")
        tensor_str = "..."
    elif t._data.size == 0:
        if t._data.ndim != 1:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if dt is not default:   # no elements tell the kind, so any non-default dtype shows
            suffixes.append(f"dtype={dt!r}")
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if dt not in (default, default_complex, _dt.int64, _dt.bool):
            suffixes.append(f"dtype={dt!r}")
        tensor_str = _tensor_str(t, indent)
    grad_fn = t.grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    from .autograd import forward_ad
    if forward_ad._TANGENTS:
        tangent = forward_ad._tangent_of(t)
        if tangent is not None:
            suffixes.append(f"tangent={tangent!r}")
    return _add_suffixes(prefix + tensor_str, suffixes, indent)



def _sparse_parts(t, named_parts, layout):
    """(parts, suffixes) of a sparse tensor's repr: each named part as `name=tensor(...)`,
    then size, nnz, a dtype not the default and the layout, as PyTorch prints them."""
    indent = len("tensor(")
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    parts = []
    for name, part in named_parts:
        prefix = f"{name}=tensor("
        s = _tensor_str(part, indent + len(prefix))
        if part._data.size == 0:
            s += f", size={tuple(part._data.shape)}"
        parts.append(prefix + s + ")")
    suffixes.append(f"size={tuple(t._sp_size)}")
    suffixes.append(f"nnz={t._nnz()}")
    if t._dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool):
        suffixes.append(f"dtype={t._dtype!r}")
    suffixes.append(f"layout=torch.{layout}")
    return parts, suffixes


def compressed_repr(t) -> str:
    """repr of a compressed sparse tensor, as PyTorch prints it: crow_indices, col_indices
    (ccol_indices, row_indices of CSC / BSC) and values, then size, nnz, a dtype not the
    default, layout (on the values' line while they fit)."""
    indent = len("tensor(")
    layout = str(t.layout)[len("torch."):]
    comp, plain = (("crow_indices", "col_indices") if layout in ("sparse_csr", "sparse_bsr")
                   else ("ccol_indices", "row_indices"))
    parts, suffixes = _sparse_parts(t, ((comp, t._csr_crow), (plain, t._csr_col),
                                        ("values", t._csr_v)), layout)
    return _add_suffixes("tensor(" + (",\n" + " " * indent).join(parts), suffixes, indent)


def sparse_repr(t) -> str:
    """repr of a sparse COO tensor, as PyTorch prints it: its indices and values, then
    size, nnz, a dtype not the default, layout."""
    indent = len("tensor(")
    parts, suffixes = _sparse_parts(t, (("indices", t._sp_i), ("values", t._sp_v)),
                                    "sparse_coo")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(t.grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes("tensor(" + (",\n" + " " * indent).join(parts), suffixes, indent,
                         force_newline=True)
