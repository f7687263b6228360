"""torch.gradient (central differences, PyTorch's edge formulas; aten::gradient's overloads
as registry ops, so it scripts, traces and is differentiable) and torch.histogramdd (counts over a grid
of bins, on the host array's module: NumPy or CuPy).
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta
from .registry import op, OPS
from .derivatives import not_implemented as _not_implemented
from .stats_ops import replay_derivative

PUBLIC = {}


def _g():
    import gpujit
    return gpujit


# ------------------------------------------------------------------ gradient
# aten::gradient's seven overloads (spacing: none, a scalar, scalars, or coordinate tensors;
# dim: none, an int, or ints), each a registry op returning Tensor[]; the eager body and the
# derivative's replay run the same formulas (PyTorch's gradient_helper / _float), over
# arrays or over Tensors.

def _wrap(d, n):
    if not -max(n, 1) <= d < max(n, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}],"
                         f" but got {d})")
    return d + n if d < 0 else d


def _is_tensorlike(v):
    return hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, numbers.Number)


def _normalize(ndim, shape, spacing, dim, edge_order):
    """(dims, spacings) with PyTorch's checks (pre_check_gradient)."""
    given_dim = dim is not None
    if dim is None:
        dims = list(range(ndim))
    elif isinstance(dim, numbers.Integral):
        dims = [_wrap(int(dim), ndim)]
    else:
        dims = [_wrap(int(d), ndim) for d in dim]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    if isinstance(spacing, (list, tuple)):
        sp = list(spacing)
        if len(sp) != len(dims):
            if given_dim:
                raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a "
                                   f"scalar or it's spacing and dim arguments to have the "
                                   f"same length, but got a spacing argument of length "
                                   f"{len(sp)} and a dim argument of length {len(dims)}.")
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, "
                               f"or a list of length equal to 'self.dim() = {ndim}', since dim "
                               f"argument was not given, but got a list of length {len(sp)}")
    else:
        sp = [1 if spacing is None else spacing] * len(dims)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if shape[d] is not None and shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    for h in sp:
        if _is_tensorlike(h) and len(h.shape) != 1:
            raise RuntimeError(f"torch.gradient expected each element of spacing to have "
                               f"one dimension, but got an element with {len(h.shape)} "
                               f"dimensions!")
    return dims, sp


def _no_uint8(dt):
    """PyTorch's first check (pre_check_gradient), before the dims and the spacing."""
    if _dtn(dt) is _dt.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")


def _out_dtype(self_dt, sp):
    # (PyTorch's formulas subtract the samples and negate the coordinates' differences:
    # its bool refusals of `-`)
    if _dtn(self_dt) is _dt.bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    dt = self_dt
    for h in sp:
        if _is_tensorlike(h):
            if _dtn(h.dtype) is _dt.bool:
                raise RuntimeError("Negation, the `-` operator, on a bool tensor is not "
                                   "supported. If you are trying to invert a mask, use the "
                                   "`~` or `logical_not()` operator instead.")
            dt = _dt.promote_types(dt, _dtn(h.dtype))
    return dt if dt.category == _dt.FLOATING else _dt.get_default_dtype()


def _dtn(d):
    return d if isinstance(d, _dt.dtype) else _dt.from_numpy_dtype(d)


def _slicer(f, d):
    n = f.shape[d]

    def s(a, b=None):
        idx = [slice(None)] * len(f.shape)
        idx[d] = slice(a, n if b is None else b)
        return f[tuple(idx)]
    return s, n


def _uniform(f, d, h, edge_order, cat):
    """PyTorch's gradient_helper_float: spacing h along dim d."""
    s, n = _slicer(f, d)
    center = (s(2) - s(0, n - 2)) / h / 2
    if edge_order == 1:
        pre = (s(1, 2) - s(0, 1)) / h
        app = (s(n - 1) - s(n - 2, n - 1)) / h
    else:
        pre = (-1.5 * s(0, 1) + 2 * s(1, 2) - 0.5 * s(2, 3)) / h
        app = (0.5 * s(n - 3, n - 2) - 2 * s(n - 2, n - 1) + 1.5 * s(n - 1)) / h
    return cat([pre, center, app], d)


def _coordinates(f, d, x, edge_order, cat):
    """PyTorch's gradient_helper: the sample coordinates x along dim d."""
    s, n = _slicer(f, d)
    shape = [1] * len(f.shape)
    shape[d] = -1
    dx = x[1:] - x[:-1]
    dx1, dx2 = dx[:-1], dx[1:]
    a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
    b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
    c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
    center = a * s(0, n - 2) + b * s(1, n - 1) + c * s(2)
    if edge_order == 1:
        pre = (s(1, 2) - s(0, 1)) / dx[0]
        app = (s(n - 1) - s(n - 2, n - 1)) / dx[-1]
    else:
        a = -(2.0 * dx[0] + dx[1]) / (dx[0] * (dx[0] + dx[1]))
        b = (dx[0] + dx[1]) / (dx[0] * dx[1])
        c = (-dx[0]) / (dx[1] * (dx[0] + dx[1]))
        pre = a * s(0, 1) + b * s(1, 2) + c * s(2, 3)
        a = dx[-1] / (dx[-2] * (dx[-1] + dx[-2]))
        b = -(dx[-1] + dx[-2]) / (dx[-1] * dx[-2])
        c = (2 * dx[-1] + dx[-2]) / (dx[-1] * (dx[-1] + dx[-2]))
        app = a * s(n - 3, n - 2) + b * s(n - 2, n - 1) + c * s(n - 1)
    return cat([pre, center, app], d)


def _gradient_meta(self, spacing=None, dim=None, edge_order=1):
    _no_uint8(self.dtype)
    dims, sp = _normalize(len(self.shape), tuple(self.shape), spacing, dim, edge_order)
    dt = _out_dtype(self.dtype, sp)
    return [TensorMeta(dt, tuple(self.shape), self.device) for _ in dims]


def _gradient_eager(xp, self, spacing=None, dim=None, edge_order=1):
    _no_uint8(self.dtype)
    dims, sp = _normalize(self.ndim, self.shape, spacing, dim, edge_order)
    out_np = _out_dtype(_dtn(self.dtype), sp).np
    # integer samples stay integers: PyTorch subtracts them in their own dtype (wrapping:
    # int8 [100, -100, ...] starts with (-100 - 100) = 56) before dividing by the spacing
    integral = _dtn(self.dtype).category != _dt.FLOATING
    f = self if integral else self.astype(np.float64)
    cat = lambda parts, d: xp.concatenate(parts, axis=d)  # noqa: E731
    out = []
    for d, h in zip(dims, sp):
        if _is_tensorlike(h):
            r = _coordinates(f, d, h.astype(np.float64), edge_order, cat)
        else:
            r = _uniform(f, d, float(h), edge_order, cat)
        out.append(r.astype(out_np))
    return out


def _gradient_compose(self, spacing=None, dim=None, edge_order=1):
    """The same formulas over Tensors (registry ops), for the derivative."""
    g = _g()
    dims, sp = _normalize(self.dim(), tuple(self.shape), spacing, dim, edge_order)
    cat = lambda parts, d: g.cat(parts, d)  # noqa: E731
    return tuple(_coordinates(self, d, h, edge_order, cat) if isinstance(h, g.Tensor)
                 else _uniform(self, d, h, edge_order, cat) for d, h in zip(dims, sp))


_GRAD_OVERLOADS = [
    ("scalarint", "Scalar? spacing=None, int? dim=None"),
    ("scalararray", "Scalar spacing, int[] dim"),
    ("array", "int[] dim"),
    ("scalarrayint", "Scalar[] spacing, int? dim=None"),
    ("scalarrayarray", "Scalar[] spacing, int[] dim"),
    ("tensorarrayint", "Tensor[] spacing, int? dim=None"),
    ("tensorarray", "Tensor[] spacing, int[] dim"),
]


def _declare_gradient(overload, args):
    params = ["self"] + [a.split()[1].split("=")[0] for a in args.split(", ")] + ["edge_order"]

    if "spacing" not in args:           # gradient.array(Tensor self, *, int[] dim, ...)
        def meta(self, dim, edge_order=1):
            return _gradient_meta(self, None, dim, edge_order)

        def body(xp, self, dim, edge_order=1):
            return _gradient_eager(xp, self, None, dim, edge_order)
    else:
        meta = _gradient_meta

        def body(xp, self, spacing=None, dim=None, edge_order=1):
            return _gradient_eager(xp, self, spacing, dim, edge_order)

    impl = op(f"aten::gradient.{overload}(Tensor self, *, {args}, int edge_order=1) -> "
              f"Tensor[]", method=False, name="gradient", meta=meta, contiguous=True)(body)
    # to self (and to each coordinate tensor): the formulas run at forward with gradients
    # recorded, as PyTorch's composite, so backward keeps what its ops keep (a write into
    # the input or the coordinates after the op is an error only where PyTorch's is)
    wrt = ("self", "spacing") if "Tensor[] spacing" in args else ("self",)
    replay_derivative(impl.op, lambda **kw: _gradient_compose(**kw), wrt, tuple(params),
                      at_forward=True)
    # recording gradients: those formulas themselves, PyTorch's composite (CatBackward0 ->
    # (DivBackward1 -> SubBackward0 -> SliceBackward0s, ...)), with the numbers as the
    # C++ code's Scalar arguments (center / 2, `/ spacing`: DivBackward1)
    if "spacing" not in args:
        def composite(self, dim, edge_order=1):
            return _gradient_composite(self, None, dim, edge_order)
    else:
        def composite(self, spacing=None, dim=None, edge_order=1):
            return _gradient_composite(self, spacing, dim, edge_order)
    impl.op.composite = composite
    return impl


def _gradient_composite(self, spacing, dim, edge_order):
    from .node_names import aten_scalars
    _gradient_meta(self, spacing, dim, edge_order)
    with aten_scalars():
        return list(_gradient_compose(self, spacing, dim, edge_order))


for _ov, _args in _GRAD_OVERLOADS:
    _declare_gradient(_ov, _args)


def _spacing_ok(spacing, tensor):
    """Does one of torch.gradient's signatures take spacing (None, a Scalar, a list of
    Scalars or of Tensors)? A str ('2') was taken as a number by the arithmetic."""
    def number(v):
        return isinstance(v, numbers.Number) or (isinstance(v, tensor) and v.dim() == 0)
    if spacing is None or number(spacing):
        return True
    if isinstance(spacing, (list, tuple)):
        if any(isinstance(v, tensor) for v in spacing):     # (then a tuple of Tensors)
            return all(isinstance(v, tensor) for v in spacing)
        return all(number(v) for v in spacing)
    return False


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative of the sampled function `input` along each of `dim` (all dims by
    default): central differences inside, one-sided differences of order edge_order at the
    ends; spacing is one number, one per dim, or each dim's sample coordinates (1-D
    tensors). A tuple of tensors, one per dim."""
    g = _g()
    if not isinstance(input, g.Tensor):
        raise TypeError(f"gradient(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if isinstance(spacing, g.Tensor) and spacing.dim() == 0:
        spacing = spacing.item()        # (a 0-dim Tensor is a Scalar to torch's parser)
    if isinstance(spacing, g.Tensor):
        raise TypeError("gradient(): argument 'spacing' must be a number, a tuple of numbers "
                        "or a tuple of Tensors, not Tensor")
    if not _spacing_ok(spacing, g.Tensor):
        if isinstance(spacing, (list, tuple)):
            # (the parser's last try, a tuple of Tensors: its words)
            j, v = next((j, v) for j, v in enumerate(spacing) if not isinstance(v, g.Tensor))
            raise TypeError(f"expected Tensor as element {j} in argument 1, but got "
                            f"{type(v).__name__}")
        # (torch.gradient's binding, checked_bindings, words it as torch's parser)
        raise TypeError(f"gradient(): spacing must be a number or a tuple, not "
                        f"{type(spacing).__name__}")
    _no_uint8(input.dtype)
    dims, sp = _normalize(input.dim(), tuple(input.shape), spacing, dim, edge_order)
    for h in sp:
        if isinstance(h, g.Tensor) and h.device != input.device:
            raise RuntimeError(f"torch.gradient expected each tensor to be on the same "
                               f"device, but got devices {input.device} and {h.device}!")
    if any(isinstance(h, g.Tensor) for h in sp):
        r = OPS["aten::gradient.tensorarray"].public(input, spacing=sp, dim=dims,
                                                     edge_order=edge_order)
    else:
        r = OPS["aten::gradient.scalarrayarray"].public(input, spacing=sp, dim=dims,
                                                        edge_order=edge_order)
    return tuple(r)


PUBLIC["gradient"] = gradient


# ------------------------------------------------------------------ histogramdd

def histogramdd_result(hist, bin_edges):
    from ..return_types import make     # (torch.return_types.histogramdd, printed so)
    return make("histogramdd", ["hist", "bin_edges"])(hist, bin_edges)


def _hdd_edges(xp, pts, bins, range, dt):
    """The float64 edges of each dim for int bin counts (the points' min and max, or
    range; a point range widened by 1/2 each side), rounded through the input dtype."""
    edges = []
    for k, b in enumerate(bins):
        if range is not None:
            lo, hi = float(range[2 * k]), float(range[2 * k + 1])
        elif pts.shape[0]:
            lo, hi = float(pts[:, k].min()), float(pts[:, k].max())
        else:
            lo, hi = 0.0, 1.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(xp.linspace(lo, hi, int(b) + 1).astype(dt).astype(np.float64))
    return edges


def _hdd_counts(xp, self, edges, weight, density):
    D = self.shape[-1]
    pts = self.reshape(-1, D).astype(np.float64)
    w = None if weight is None else weight.reshape(-1).astype(np.float64)
    hist, _ = xp.histogramdd(pts, bins=edges, weights=w, density=bool(density))
    return hist.astype(self.dtype)


def _hdd_meta(self, bins, range=None, weight=None, density=False):
    return TensorMeta(self.dtype, tuple(int(b) for b in bins), self.device)


@op("aten::_histogramdd_bin_edges(Tensor self, int[] bins, *, float[]? range=None, "
    "Tensor? weight=None, bool density=False) -> Tensor[]", tags={"linalg"}, method=False,
    meta=lambda self, bins, range=None, weight=None, density=False: [
        TensorMeta(self.dtype, (int(b) + 1,), self.device) for b in bins])
def _histogramdd_bin_edges(xp, self, bins, range=None, weight=None, density=False):
    """The edges torch.histogramdd gives for int bin counts, one 1-D tensor per dim."""
    pts = self.reshape(-1, self.shape[-1]).astype(np.float64)
    return [e.astype(self.dtype) for e in _hdd_edges(xp, pts, bins, range, self.dtype)]


@op("aten::_histogramdd_from_bin_cts(Tensor self, int[] bins, *, float[]? range=None, "
    "Tensor? weight=None, bool density=False) -> Tensor", tags={"linalg"}, method=False,
    meta=_hdd_meta)
def _histogramdd_from_bin_cts(xp, self, bins, range=None, weight=None, density=False):
    """torch.histogramdd's counts for int bin counts."""
    pts = self.reshape(-1, self.shape[-1]).astype(np.float64)
    return _hdd_counts(xp, self, _hdd_edges(xp, pts, bins, range, self.dtype), weight,
                       density)


@op("aten::_histogramdd_from_bin_tensors(Tensor self, Tensor[] bins, *, Tensor? weight=None, "
    "bool density=False) -> Tensor", tags={"linalg"}, method=False,
    meta=lambda self, bins, weight=None, density=False: TensorMeta(
        self.dtype, tuple(None if b.shape[0] is None else b.shape[0] - 1 for b in bins),
        self.device))
def _histogramdd_from_bin_tensors(xp, self, bins, weight=None, density=False):
    """torch.histogramdd's counts for given edges (one increasing 1-D tensor per dim)."""
    return _hdd_counts(xp, self, [b.reshape(-1).astype(np.float64) for b in bins], weight,
                       density)


# (counts over bins: PyTorch records them, their outputs require grad, and refuses the
# backward in these words)
for _name in ("_histogramdd_bin_edges", "_histogramdd_from_bin_cts",
              "_histogramdd_from_bin_tensors"):
    _not_implemented(f"aten::{_name}",
                     message=f"derivative for aten::{_name} is not implemented")


def histogramdd(input, bins=10, *, range=None, weight=None, density=False):
    """Counts (weight sums; a density with density=True) of the points input[..., :] in a
    D-dimensional grid of bins: `bins` an int (each dim), D ints, or D 1-D edge tensors.
    Returns (hist, bin_edges) as torch.return_types.histogramdd, composed as
    torch.histogramdd composes it: _histogramdd_bin_edges and _histogramdd_from_bin_cts,
    or _histogramdd_from_bin_tensors and the given edges (differentiable in PyTorch's
    way: recorded, the backward refused)."""
    g = _g()
    if not isinstance(input, g.Tensor):
        raise TypeError(f"histogramdd(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    dt = input.dtype
    if dt.category != _dt.FLOATING:
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{dt.short_name}'")
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    D = input.shape[-1]
    if isinstance(bins, g.Tensor):
        bins = [bins]
    if isinstance(bins, numbers.Integral):
        bins = [int(bins)] * D
    bins = list(bins)
    if len(bins) != D:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    if range is not None and len(range) != 2 * D:
        raise RuntimeError("torch.histogramdd: range should have 2 elements per dimension, "
                           f"but got {len(range)} elements for {D} dimensions")
    if weight is not None and tuple(weight.shape) != tuple(input.shape[:-1]):
        raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should "
                           f"have the same shape as the input tensor excluding its "
                           f"innermost dimension, but got input with shape "
                           f"{list(input.shape)} and weight with shape "
                           f"{list(weight.shape)}")
    tensors = all(isinstance(b, g.Tensor) for b in bins)
    for k, b in enumerate(bins):
        if isinstance(b, g.Tensor):
            if b.dtype is not dt:
                raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should "
                                   f"have the same dtype, but got input with dtype "
                                   f"{dt.name} and bins for dimension {k} with dtype "
                                   f"{b.dtype.name}")
            continue
        b = int(b)
        if b <= 0:
            raise RuntimeError(f"torch.histogramdd(): bins must be > 0, but got {b} for "
                               f"dimension {k}")
        if range is not None:
            lo, hi = float(range[2 * k]), float(range[2 * k + 1])
            if lo > hi:
                raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got"
                                   f" min {lo:g} max {hi:g} for dimension {k}")
    kw = {} if weight is None else {"weight": weight}
    if tensors:
        hist = OPS["aten::_histogramdd_from_bin_tensors"].public(input, bins, density=density,
                                                                  **kw)
        if not hist.requires_grad and g.is_grad_enabled() and any(
                b.requires_grad for b in bins):
            # (an edge tensor that requires grad is an input PyTorch records too; gpujit's
            # derivative inputs are the Tensor arguments: the refused backward, added)
            leaf = input.detach()
            leaf._set_requires_grad(True)
            hist = OPS["aten::_histogramdd_from_bin_tensors"].public(
                leaf, bins, density=density, **kw)
        return histogramdd_result(hist, tuple(bins))
    bins = [int(b) for b in bins]
    rk = {} if range is None else {"range": [float(r) for r in range]}
    edges = OPS["aten::_histogramdd_bin_edges"].public(input, bins, density=density, **rk,
                                                        **kw)
    hist = OPS["aten::_histogramdd_from_bin_cts"].public(input, bins, density=density, **rk,
                                                          **kw)
    return histogramdd_result(hist, tuple(edges))


PUBLIC["histogramdd"] = histogramdd
