"""Guards: what a specialization's kernel assumes about its arguments, checked per call.

A tensor argument is checked for its dtype and rank, and then for a STATIC specialization
its exact sizes and (byte) strides (for CuPy arrays whose strides were C-contiguous: the
sizes and CuPy's contiguity flag, the same test without building a tuple), for a DYNAMIC
one which dims have size 1 (they broadcast) and that the others have more (a 0-size
tensor runs unfused), the exact size of the dims the group's chunks
cut (kernels/chunks.py) and whether it is C-contiguous; a scalar argument for its Python type; and every
guard checks the default float dtype (Python floats and integer true division promote to
it). All tensors must be of the target's array type (numpy for "cpu"/"sim", cupy for
"cuda") and, on a machine with several GPUs, on the group's GPU.

The check runs on every call, so it is generated as straight-line Python, one `if` per
specialization, comparing attributes with values bound once (dtype objects by identity);
no allocation, no loops, no dict building. `Guard.mismatch` is the same check written out
for the slow path: it says which condition failed, in words, for GPUJIT_DUMP=recompile.
"""
from __future__ import annotations

from .. import dtypes as _dt
from .._inline import inline_body
from ..ops.meta import is_c_contiguous
from .kernel_api import call_hit
from .specialize import in_layout, in_layout_expr, checks_range, number_fits

__all__ = ["ArgGuard", "Guard", "build_dispatcher", "display_name"]


def stride_order(a):
    """How array a's strides order its dims, as what decides the layout eager code gives
    results (memory_format.iterator_strides): per dim, 0 for a stride of 0 (a broadcast
    dim: it orders nothing), else 1 + the rank of its (stride, size) among the other dims'
    with a non-zero stride, smallest first. An expanded [[a, b]] * 5 (strides 0, 1) and a
    transposed 5x2 (strides 1, 5) differ: eager lays x + y out as y for the first, as x
    for the second. Equal strides (dims that overlap: as_strided) are ordered by size, as
    eager's layout orders them: 2x5x3 and 2x5x1031 with strides 1, 1, 1 differ."""
    pairs = tuple(zip(a.strides, a.shape))
    ranks = {p: k for k, p in enumerate(sorted({p for p in pairs if p[0]}), 1)}
    return tuple(ranks[p] if p[0] else 0 for p in pairs)


def display_name(v) -> str:
    """`x` for %x.1, `%3` for a numbered value (how messages name a group input)."""
    name = v.debug_name
    base, _, suffix = name.rpartition(".")
    if not (base and suffix.isdigit()):
        base = name
    return f"%{name}" if base.isdigit() else base


class ArgGuard:
    """Expectations about one argument (None fields are not checked)."""
    __slots__ = ("kind", "np_dtype", "ndim", "shape", "strides", "broadcast", "contiguous",
                 "pytype", "fixed", "order", "checks")

    def __init__(self, kind, np_dtype=None, ndim=0, shape=None, strides=None, broadcast=(),
                 contiguous=None, pytype=None, fixed=()):
        self.kind, self.np_dtype, self.ndim = kind, np_dtype, ndim
        self.shape, self.strides, self.broadcast = shape, strides, broadcast
        self.contiguous, self.pytype = contiguous, pytype
        self.fixed = fixed          # DYNAMIC: (dim, size) pairs checked all the same
        # DYNAMIC, an argument not contiguous (in the kernel's dim order): how its
        # strides order its dims (`stride_order`), which with the others' contiguity fixes the dim order
        # eager lays the outputs out in (specialize.eager_perm)
        self.order = None
        # a scalar an op converts range-checked (specialize.scalar_checks): out of range,
        # eager's call raises PyTorch's error, which the kernel would not
        self.checks = ()

    @classmethod
    def of(cls, a, static, is_tensor, fixed_dims=()):
        if not is_tensor:
            return cls("scalar", pytype=type(a))
        shape = tuple(a.shape)
        return cls("tensor", a.dtype, len(shape), shape if static else None,
                   tuple(a.strides) if static else None, tuple(s == 1 for s in shape),
                   None if static else bool(a.flags.c_contiguous),
                   fixed=() if static else tuple((d, shape[d]) for d in sorted(fixed_dims)))


class Guard:
    """The guard of one specialization: an ArgGuard per argument, and the default float
    dtype when the group's results depend on it."""

    def __init__(self, args, static, default_float=None, device_id=None, perm=None):
        self.args = tuple(args)
        self.static = static
        # the dim order the kernel runs in (specialize.layout_perm): a DYNAMIC guard's
        # contiguity is that of the arguments transposed by it
        self.perm = perm
        self.default_float = default_float
        self.device_id = device_id

    def mismatch(self, args, names, array_type, ranges=True) -> str | None:
        """None when the guard accepts args, else the first failed check in words
        (`ranges`: the range checks of scalars too, tested last)."""
        if self.default_float is not None and _dt._default_float is not self.default_float:
            return (f"the default dtype is {_dt._default_float.name}, not "
                    f"{self.default_float.name}")
        for g, a, name in zip(self.args, args, names):
            if g.kind == "scalar":
                if type(a) is not g.pytype:
                    return f"{name} is a {type(a).__name__}, not a {g.pytype.__name__}"
                continue
            if type(a) is not array_type:
                return f"{name} is a {type(a).__module__}.{type(a).__name__}"
            if self.device_id is not None and a.device.id != self.device_id:
                return f"{name} is on cuda:{a.device.id}, not cuda:{self.device_id}"
            if a.dtype != g.np_dtype:
                return f"{name} dtype {a.dtype} != {g.np_dtype}"
            shape = tuple(a.shape)
            if len(shape) != g.ndim:
                return f"{name} rank {len(shape)} != {g.ndim}"
            if g.shape is not None and shape != g.shape:
                return f"{name} sizes {list(shape)} != {list(g.shape)}"
            if g.strides is not None and tuple(a.strides) != g.strides:
                item = a.itemsize
                return (f"{name} strides {[s // item for s in a.strides]} != "
                        f"{[s // item for s in g.strides]}")
            if g.shape is None and 0 in shape:
                return f"{name} dim {shape.index(0)} has size 0 (nothing to compute)"
            bcast = tuple(s == 1 for s in shape)
            if bcast != g.broadcast:
                dims = [i for i, (x, y) in enumerate(zip(bcast, g.broadcast)) if x != y]
                return (f"{name} dim {dims[0]} has size {shape[dims[0]]} (the kernel "
                        f"{'broadcasts' if g.broadcast[dims[0]] else 'does not broadcast'} "
                        f"it)")
            for d, size in g.fixed:
                if shape[d] != size:
                    return (f"{name} dim {d} has size {shape[d]}, not {size} (a chunk or "
                            f"cat of the group cuts it)")
            t = a if self.perm is None else in_layout(a, self.perm)
            if g.contiguous is not None and bool(t.flags.c_contiguous) != g.contiguous:
                return (f"{name} is {'not ' if g.contiguous else ''}contiguous (the kernel "
                        f"assumes it is{'' if g.contiguous else ' not'})")
            if g.order is not None and stride_order(a) != g.order:
                return (f"{name} orders its dims by stride as {list(stride_order(a))} "
                        f"(ranked by stride and size, 0: a stride 0), not "
                        f"{list(g.order)} (the results' layout follows it)")
        if ranges:
            return self.range_mismatch(args, names)
        return None

    def range_mismatch(self, args, names) -> str | None:
        """The first scalar out of the range its op checks it against, in words."""
        for g, a, name in zip(self.args, args, names):
            if g.kind == "scalar" and g.checks and not number_fits(g.checks, a):
                op, pname, npt = next(c for c in g.checks if not number_fits((c,), a))
                return (f"{name} = {a} is out of the range {op.name}'s '{pname}' takes for "
                        f"{npt} (eager's call raises)")
        return None

    def conditions(self, i, ns, contiguity):
        """The Python conditions of this guard (names bound into ns) for dispatcher i."""
        out = []
        if self.default_float is not None:
            ns[f"_g{i}_df"] = self.default_float
            out.append(f"_df is _g{i}_df")
        for j, g in enumerate(self.args):
            a, c = f"a{j}", f"_g{i}_{j}"
            if g.kind == "scalar":
                ns[c + "p"] = g.pytype
                out.append(f"type({a}) is {c}p")
                if g.checks:        # (an in-range number costs two comparisons)
                    ns[c + "l"], ns[c + "h"] = checks_range(g.checks)
                    ns[c + "f"], ns[c + "c"] = number_fits, g.checks
                    out.append(f"({c}l <= {a} <= {c}h or {c}f({c}c, {a}))")
                continue
            ns[c + "d"] = g.np_dtype
            out.append(f"d{j} is {c}d")
            if g.shape is not None:
                ns[c + "s"], ns[c + "t"] = g.shape, g.strides
                if "._c_contiguous" in contiguity and is_c_contiguous(
                        g.shape, g.strides, g.np_dtype.itemsize):
                    # CuPy keeps the flag: cheaper than building the strides tuple, and
                    # the same test (C-contiguous strides are fixed by the sizes, but for
                    # dims of size 1, which no index uses)
                    out.append(f"s{j} == {c}s and {contiguity.format(a)}")
                else:
                    out.append(f"s{j} == {c}s and {a}.strides == {c}t")
                continue
            out.append(f"len(s{j}) == {g.ndim}")
            fixed = dict(g.fixed)
            for k, b in enumerate(g.broadcast):
                if k in fixed:
                    out.append(f"s{j}[{k}] == {fixed[k]}")
                else:
                    # (> 1, not != 1: a 0-size dim fails the guard, so a 0-size tensor
                    # runs unfused, as before a first specialization (_decide's
                    # ZERO_SIZE): eager code gives its result the strides TensorIterator
                    # computes for an empty space, (5, 0, 1) -> (0, 1, 0), not C order's)
                    out.append(f"s{j}[{k}] {'== 1' if b else '> 1'}")
            if g.contiguous is not None:
                t = a if self.perm is None else in_layout_expr(a, g.ndim, self.perm)
                out.append(("" if g.contiguous else "not ") + contiguity.format(t))
            if g.order is not None:
                ns["_order"], ns[c + "o"] = stride_order, g.order
                out.append(f"_order({a}) == {c}o")
        return out


def build_dispatcher(name, kinds, specs, array_type, miss, fail, contiguity,
                     device_id=None):
    """Generate `call(a0, a1, ...)`: try each specialization's guard in order and call its
    kernel, else `miss(*args)`; a kernel that raises goes to `fail(i, exc, args)`.
    Returns (function, source)."""
    params = ", ".join(f"a{j}" for j in range(len(kinds)))
    tup = f"({params}{',' if len(kinds) == 1 else ''})"
    ns = {"_miss": miss, "_fail": fail, "_A": array_type, "_dt": _dt, "_hit": call_hit}
    lines = [f"def {name}({params}):"]
    tensors = [j for j, k in enumerate(kinds) if k == "tensor"]
    if specs and tensors:
        checks = [f"type(a{j}) is not _A" for j in tensors]
        if device_id is not None:
            ns["_dev"] = device_id
            checks += [f"a{j}.device.id != _dev" for j in tensors]
        lines.append(f"    if {' or '.join(checks)}:")
        lines.append(f"        return _miss({params})")
        for j in tensors:
            lines.append(f"    d{j} = a{j}.dtype")
            lines.append(f"    s{j} = a{j}.shape")
    if any(s.guard.default_float is not None for s in specs):
        lines.append("    _df = _dt._default_float")
    for i, spec in enumerate(specs):
        conds = spec.guard.conditions(i, ns, contiguity) or ["True"]
        lines.append(f"    if {' and '.join(conds)}:")
        lines.append("        _hit()")        # (a cache hit: cache_info())
        lines.append("        try:")
        body = inlined_launcher(spec.fn, len(kinds), f"_L{i}", ns)
        if body is None:
            ns[f"_k{i}"] = spec.fn
            body = [f"return _k{i}({params})"]
        lines += ["            " + b for b in body]
        lines.append("        except Exception as e:")
        lines.append(f"            return _fail({i}, e, {tup})")
    lines.append(f"    return _miss({params})")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<gpujit fusion group {name}>", "exec"), ns)
    return ns[name], source


def inlined_launcher(fn, arity, prefix, ns):
    """The body lines of launcher `fn` (kernels/launch.py: `fn.inlinable`) to run in place
    of `return fn(a0, a1, ...)` in a dispatcher (one Python call less a kernel call,
    ~0.05 µs; gpujit/_inline.py), or None where fn is not such a launcher."""
    if not getattr(fn, "inlinable", False):
        return None
    return inline_body(fn, getattr(fn, "source", None), arity, prefix, ns)
