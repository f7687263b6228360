"""What a kernel is specialized on (ArgSpec, KernelSpec) and the iteration-space layout
derived from it: which dims broadcast, which inputs can be read with the flat index, and
the shape of each output.

The layout is a pure function of the specs, so the code generator, the launcher and the
cache key all read the same facts. STATIC specs carry exact sizes and strides (baked into
the kernel as literals); DYNAMIC specs carry only rank, dtype, contiguity and the
broadcast pattern, and the kernel takes sizes and strides at run time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpujit import dtypes as _dt

__all__ = ["ArgSpec", "KernelSpec", "arg_spec", "check_args", "Layout", "KernelBuildError"]


class KernelBuildError(RuntimeError):
    """A fusion group the kernel layer cannot compile (the fuser runs it unfused)."""


@dataclass(frozen=True)
class ArgSpec:
    """One input of a fusion group, as a kernel is specialized on it."""
    kind: str                       # "tensor" or "scalar" (a Python number passed at run time)
    dtype: object                   # gpujit dtype (a scalar: int64 / float64 / bool)
    ndim: int = 0
    sizes: tuple | None = None      # STATIC: exact sizes; DYNAMIC: None
    strides: tuple | None = None    # STATIC: exact element strides; DYNAMIC: None
    contiguous: bool = False        # C-contiguous
    broadcast: tuple = ()           # per dim: True where this input has size 1
    fixed: tuple = ()               # DYNAMIC: (dim, size) of dims whose size is baked in
                                    # all the same (the dims chunks cut: kernels/chunks.py)

    def __post_init__(self):
        if self.kind not in ("tensor", "scalar"):
            raise ValueError(f"ArgSpec.kind must be 'tensor' or 'scalar', not {self.kind!r}")
        if self.kind == "tensor" and len(self.broadcast) != self.ndim:
            raise ValueError(f"ArgSpec: broadcast {self.broadcast} does not have ndim="
                             f"{self.ndim} entries")


@dataclass(frozen=True)
class KernelSpec:
    subgraph: object                # gpujit.ir.Graph (inputs in ArgSpec order)
    inputs: tuple                   # ArgSpec per subgraph input
    device: object                  # gpujit device
    static: bool                    # STATIC (sizes/strides baked in) or DYNAMIC


_SCALAR_DTYPES = ((bool, _dt.bool), (np.bool_, _dt.bool), (int, _dt.int64),
                  (np.integer, _dt.int64), (float, _dt.float64), (np.floating, _dt.float64))


def arg_spec(x, static: bool) -> ArgSpec:
    """The ArgSpec of one kernel argument: a NumPy/CuPy array (or 0-dim array) is a tensor,
    a Python or NumPy number a scalar (typed by its Python kind, as the kernel receives it)."""
    if hasattr(x, "shape") and hasattr(x, "strides") and not isinstance(x, np.generic):
        dt = _dt.from_numpy_dtype(x.dtype)
        shape = tuple(int(s) for s in x.shape)
        item = x.itemsize
        strides = tuple(int(s) // item for s in x.strides)
        return ArgSpec("tensor", dt, len(shape),
                       shape if static else None, strides if static else None,
                       bool(x.flags.c_contiguous), tuple(s == 1 for s in shape))
    for py, dt in _SCALAR_DTYPES:
        if isinstance(x, py):
            return ArgSpec("scalar", dt)
    raise TypeError(f"a kernel argument must be an array or a number, not {type(x).__name__}")


def check_args(spec: KernelSpec, args, array_type):
    """Raise TypeError/ValueError unless `args` are what the kernel of `spec` was built for
    (its code reads memory by the sizes, strides and dtypes of the spec: an array that
    does not match would be read wrongly, not rejected)."""
    if len(args) != len(spec.inputs):
        raise TypeError(f"the kernel takes {len(spec.inputs)} arguments, got {len(args)}")
    for k, (s, a) in enumerate(zip(spec.inputs, args)):
        if s.kind == "scalar":
            if not isinstance(a, (bool, int, float, np.bool_, np.number)):
                raise TypeError(f"kernel argument {k} must be a number, not "
                                f"{type(a).__name__}")
            continue
        if not isinstance(a, array_type):
            raise TypeError(f"kernel argument {k} must be a {array_type.__module__}."
                            f"{array_type.__name__}, not {type(a).__name__}")
        if not a.dtype.isnative or _dt.from_numpy_dtype(a.dtype) is not s.dtype:
            raise TypeError(f"kernel argument {k} has dtype {a.dtype}; the kernel was built "
                            f"for {np.dtype(s.dtype.np)}")
        have = arg_spec(a, spec.static)
        if have.ndim != s.ndim or have.broadcast != s.broadcast:
            raise ValueError(f"kernel argument {k} has shape {tuple(a.shape)}; the kernel was "
                             f"built for rank {s.ndim} with size-1 dims {s.broadcast}")
        if spec.static and (have.sizes, have.strides) != (s.sizes, s.strides):
            raise ValueError(f"kernel argument {k} has shape {have.sizes} and strides "
                             f"{have.strides}; the STATIC kernel was built for {s.sizes} and "
                             f"{s.strides}")
        for d, size in s.fixed:
            if a.shape[d] != size:
                raise ValueError(f"kernel argument {k} has size {a.shape[d]} at dimension "
                                 f"{d}; the kernel was built for {size} there")
        if s.contiguous and not have.contiguous:
            raise ValueError(f"kernel argument {k} is not C-contiguous; the kernel was built "
                             f"for a contiguous one")


# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InputPlan:
    index: int            # position in the kernel's argument list (pieces: after them all)
    kind: str             # "scalar", "one" (a single element), "flat" (indexed by i),
                          # "strided", "base" (a group input read only through pieces)
    dtype: object
    ndim: int
    bcast: tuple          # padded to the iteration rank (missing leading dims broadcast)
    source: int = -1      # a piece: the group input it is read from
    piece: object = None  # a piece: its kernels.chunks.Piece


@dataclass(frozen=True)
class OutputPlan:
    kind: str             # "full" (the iteration shape, written at i), "one", "partial"
    dtype: object
    ndim: int
    bcast: tuple          # padded to the iteration rank


class Layout:
    """The iteration space of a kernel: rank R, the dims where every input broadcasts
    (size 1, skipped by the index arithmetic), the plan of each input and output, and
    whether the flat fast path applies (no strided input, no partially broadcast output)."""

    def __init__(self, inputs, output_deps, output_dtypes, static, pieces=(),
                 bases=frozenset()):
        n_in = len(inputs)
        inputs = tuple(inputs) + tuple(p.spec for p in pieces)     # logical inputs
        walked = [s for k, s in enumerate(inputs) if s.kind == "tensor" and k not in bases]
        self.rank = R = max((s.ndim for s in walked), default=0)
        self.static = static
        padded = [(True,) * (R - s.ndim) + tuple(s.broadcast)
                  if s.kind == "tensor" and k not in bases else None
                  for k, s in enumerate(inputs)]
        self.unit = tuple(all(p[d] for p in padded if p is not None) for d in range(R))
        self.dims = tuple(d for d in range(R) if not self.unit[d])   # dims the index walks
        self.sizes = None
        if static:
            self.sizes = self._static_sizes(walked)
        plans = []
        for k, (s, p) in enumerate(zip(inputs, padded)):
            piece = pieces[k - n_in] if k >= n_in else None
            extra = {} if piece is None else {"source": piece.source, "piece": piece}
            if s.kind == "scalar":
                plans.append(InputPlan(k, "scalar", s.dtype, 0, ()))
            elif p is None:
                plans.append(InputPlan(k, "base", s.dtype, s.ndim, (True,) * R))
            elif all(p) and (self.dims or not (s.contiguous and s.ndim == R)
                             or piece is not None):
                plans.append(InputPlan(k, "one", s.dtype, s.ndim, p, **extra))
            elif s.contiguous and s.ndim == R and p == self.unit and piece is None:
                # (also a one-element input of a one-element iteration space: read at i,
                # which is 0, its kernel is the flat one of any other size, one compile)
                plans.append(InputPlan(k, "flat", s.dtype, s.ndim, p))
            else:
                plans.append(InputPlan(k, "strided", s.dtype, s.ndim, p, **extra))
        self.inputs = tuple(plans)
        outs = []
        for deps, dt in zip(output_deps, output_dtypes):
            dep_pads = [padded[k] for k in deps if padded[k] is not None]
            ndim = max((inputs[k].ndim for k in deps if inputs[k].kind == "tensor"), default=0)
            bc = tuple(all(p[d] for p in dep_pads) for d in range(R))
            if bc == self.unit:
                kind = "full"          # (leading dims of size 1 may be missing)
            elif all(bc):
                kind = "one"
            else:
                kind = "partial"
            outs.append(OutputPlan(kind, dt, ndim, bc))
        self.outputs = tuple(outs)
        self.flat = (not any(p.kind == "strided" for p in self.inputs)
                     and not any(o.kind == "partial" for o in self.outputs))

    def _static_sizes(self, inputs):
        R = self.rank
        sizes = [1] * R
        for s in inputs:
            if s.kind != "tensor":
                continue
            if s.sizes is None or s.strides is None:
                raise KernelBuildError("a STATIC kernel needs exact sizes and strides for "
                                       "every tensor input")
            padded = (1,) * (R - s.ndim) + tuple(s.sizes)
            for d, n in enumerate(padded):
                if n != 1:
                    if sizes[d] not in (1, n):
                        raise KernelBuildError(
                            f"input sizes {[a.sizes for a in inputs if a.kind == 'tensor']} "
                            f"do not broadcast at dimension {d}")
                    sizes[d] = n
        return tuple(sizes)

    def output_shape(self, o: OutputPlan, sizes):
        """The shape of output o for iteration sizes `sizes`."""
        full = tuple(1 if o.bcast[d] else sizes[d] for d in range(self.rank))
        return full[self.rank - o.ndim:]
