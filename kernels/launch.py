"""Host-side launchers: generated Python that turns a call's arrays and numbers into the
kernel's arguments, allocates the outputs and launches.

Each kernel gets its own launcher source, specialized like the kernel: a STATIC launcher
has the output shapes and element count as literals; a DYNAMIC one reads the iteration
sizes from the inputs that do not broadcast (checking that the others agree). The CUDA
launcher packs arguments as numba's kernel ABI expects (NOTES-numba-cupy.md): each array
is (meminfo=0, parent=0, nitems, itemsize, data, shape, stride-in-bytes) for our 1-D
arrays, one value per scalar, and launches the loaded PTX's function itself, so numba's
dispatcher is not on the call path. CuPy's `Function.__call__` boxes each of those ~20
arguments in a NumPy scalar (~12 µs a launch on the H200 machine); instead each launcher
owns a parameter block (one 8-byte slot per parameter, `cuLaunchKernel`'s kernelParams
pointing at them): constants are written once, each call writes only what changes (data
pointers; DYNAMIC sizes and strides; numbers) under a lock and calls the driver's
cuLaunchKernel (`cupy.cuda.driver.launchKernel`) on the current CuPy stream (~6 µs).
`unpack_kernel_params` reads such a block back (tests, debugging). STATIC launchers also
recycle small outputs whose last user is gone (RECYCLE_FREE below), saving CuPy's
allocation.
"""
from __future__ import annotations

import ctypes
import linecache
import math
import os
import sys
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gpujit import dtypes as _dt

from .emit import PARALLEL_MIN, KernelSource
from .threads import run_chunks

__all__ = ["make_launcher", "ShapeMismatch", "EmptySpace", "LauncherBusy", "base_view", "cuda_base", "unpack_kernel_params"]

THREADS = 256

# Output recycling (CUDA, STATIC launchers, outputs of at most RECYCLE_MAX_BYTES): CuPy's
# allocation of an output is ~2 µs of a ~10 µs small launch (the H200 host). A launcher
# instead keeps the last two buffers of each small output, and reuses one when nothing
# else refers to its memory any more (the user dropped the tensor: CuPy would have
# returned the memory to the pool) and it was last written on the current stream (the
# pool's rule: work queued on that stream before is ordered before the new kernel).
# Nothing can tell a reused buffer from a new one: nothing refers to its memory.
# "Nothing refers to its memory" is three reference counts, as CuPy holds memory: the
# array (views, DLPack capsules and Tensors hold it), its MemoryPointer `.data` (arrays
# made over `memptr=x.data`, as cupy's as_strided makes them, hold only that) and the
# allocation `.data.mem` (pointers `x.data + k` and arrays over them hold only that).
# Each must be what sys.getrefcount reports for an object held by one slot and the
# generated code's local (RECYCLE_FREE: measured once below on the same code shape;
# interpreters that borrow stack references count fewer). Off (RECYCLE_FREE = None)
# outside CPython, on free-threaded builds, or with GPUJIT_RECYCLE=0.
# The kept buffers (<= 2 x 64 KiB per output) count as allocated memory for as long as
# the kernel lives (the memory cache and the compiled functions using it hold it).
RECYCLE_MAX_BYTES = 1 << 16


def _free_counts():
    """What sys.getrefcount reports, read as the generated launchers read them, for an
    array held only by a list slot and a local, its `.data` and its `.data.mem` (each
    held only by its owner's field)."""
    class Held:
        pass
    o = Held()
    o.data = Held()
    o.data.mem = Held()
    ns = {"_rc": sys.getrefcount, "_r0": [o]}
    del o
    exec("def probe():\n    o0 = _r0[0]\n"
         "    return _rc(o0), _rc(o0.data), _rc(o0.data.mem)\n", ns)
    return ns["probe"]()


RECYCLE_FREE = (_free_counts() if sys.implementation.name == "cpython"
                and getattr(sys, "_is_gil_enabled", lambda: True)()   # (free-threaded: off)
                and os.environ.get("GPUJIT_RECYCLE", "1") != "0" else None)
_KIND = {_dt.float64: "float", _dt.int64: "int", _dt.bool: "bool"}


class ShapeMismatch(RuntimeError):
    """A DYNAMIC kernel was called with inputs whose sizes do not broadcast together."""


class EmptySpace(RuntimeError):
    """A DYNAMIC kernel was called with sizes that make its iteration space empty while an
    output broadcast along the empty dim is not (`a = x2 * 2; b = a + x0` with x0 of
    size 0: a still has x2's elements); the kernel computes nothing, so the group runs
    such inputs unfused."""


class LauncherBusy(RuntimeError):
    """A launcher was called from inside its own call on the same thread (a finalizer or
    a signal handler that ran there calls the same function): its parameter block is
    being filled, so this call must run another way (the fused group runs it unfused)."""


def _elem_strides(x):
    item = x.itemsize
    return tuple(s // item for s in x.strides)


def _extent(x, t):
    lo = hi = 0
    for n, s in zip(x.shape, t):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi


def base_view(x):
    """(1-D view of x's memory starting at its lowest address, shift, element strides):
    element (i_0, ...) of x is view[sum(i_d * strides_d) + shift]."""
    t = _elem_strides(x)
    lo, hi = _extent(x, t)
    if lo:
        x = x[tuple(slice(None, None, -1) if s < 0 else slice(None) for s in t)]
    return as_strided(x, (hi - lo + 1,), (x.itemsize,)), -lo, t


def cuda_base(x):
    """(device pointer of x's lowest address, span in elements, shift, element strides)."""
    t = _elem_strides(x)
    lo, hi = _extent(x, t)
    return x.data.ptr + lo * x.itemsize, hi - lo + 1, -lo, t


def _size_expr(k, p, d):
    """The size along dim d of input k (plan p) as launcher code: a piece's size where the
    kernel fixes it (a chunked dim), else the array's."""
    if p.piece is not None:
        known = p.piece.known[d]
        return str(known) if known is not None else f"a{p.source}.shape[{d}]"
    return f"a{k}.shape[{d}]"


def _zero_division_error():
    """Eager gpujit's error for an integer division by zero on the CPU."""
    from gpujit.ops.pointwise import IntegerDivisionByZero
    return IntegerDivisionByZero("ZeroDivisionError")


def _bind_context(index):
    """bind(error): re-raise a launch error unless it is the driver's finding no current
    context on this thread, then make device `index`'s primary context current here.
    cuLaunchKernel is a driver call: a thread that has made no CUDA runtime call has no
    current context (CUDA_ERROR_INVALID_CONTEXT). CuPy binds one before its own launches
    through its memory pool's allocation (cupy#72, cupy#606), which a launch whose
    outputs are all recycled (RECYCLE_FREE) never makes."""
    def bind(error):
        if "CUDA_ERROR_INVALID_CONTEXT" not in str(error):
            raise error
        import cupy
        cupy.cuda.runtime.setDevice(index)
        cupy.cuda.runtime.memGetInfo()     # a runtime call: the primary context, current
    return bind


def make_launcher(ks: KernelSource, spec, launch_fn, *, sm_count=None, empty=None,
                  launch_kernel=None, stream=None, bind_context=None):
    """The launcher function of kernel source `ks` (its source is `launcher.source`).
    launch_fn: the compiled kernel (cpu: the ctypes function; sim: the simulator kernel;
    cuda: the CuPy function of the loaded PTX). empty: the output allocator (default
    numpy.empty, cupy.empty for cuda). A cuda launch_fn with an int `ptr` (its CUfunction)
    is launched with launch_kernel(f, gx, gy, gz, bx, by, bz, shared, stream, params,
    extra) (default cupy.cuda.driver.launchKernel) on stream() (default CuPy's current
    stream), and once more after bind_context(error) (default _bind_context) returned
    for its error; without one, by calling launch_fn(grid, block, args) as CuPy's
    Function."""
    direct = ks.target == "cuda" and type(getattr(launch_fn, "ptr", None)) is int
    L = _LauncherWriter(ks, spec, sm_count, direct)
    src = L.write(guard=ks.target == "cuda" and empty is None and _several_gpus())
    ns = {"_kern": launch_fn, "_np": np, "_base": base_view, "_cbase": cuda_base,
          "_f64": np.float64, "_i64": np.int64, "_bool": np.bool_,
          "_zde": _zero_division_error, "_Mismatch": ShapeMismatch, "_min": min,
          "_Empty": EmptySpace,
          "_par": run_chunks}
    for j, o in enumerate(ks.layout.outputs):
        ns[f"_odt{j}"] = o.dtype.np
    if empty is not None:
        ns["_empty"] = empty
    elif ks.target == "cuda":
        import cupy
        ns["_empty"] = cupy.ndarray    # = cupy.empty(shape, dtype), one Python call less
        from gpujit.device import make_current      # ('cuda' keeps meaning the device
        ns["_getdev"], ns["_setdev"] = cupy.cuda.runtime.getDevice, make_current  # before)
    else:
        ns["_empty"] = np.empty
    if ks.target == "sim":
        from numba import cuda
        ns["_In"] = cuda.In
    if direct:
        if launch_kernel is None or stream is None:
            import cupy
            launch_kernel = launch_kernel or cupy.cuda.driver.launchKernel
            stream = stream or cupy.cuda.get_current_stream
        vals = np.zeros(max(len(L.slots), 1), np.int64)
        for j, value in L.constants.items():
            vals[j] = value
        ptrs = np.array([vals.ctypes.data + 8 * j for j in range(len(vals))], np.uint64)
        ns.update(_v=vals, _vf=vals.view(np.float64), _m=memoryview(vals), _pv=ptrs,
                  _pp=ptrs.ctypes.data,
                  _fp=launch_fn.ptr, _launch=launch_kernel, _stream=stream,
                  _bind=bind_context or _bind_context(spec.device.index or 0))
        # an RLock, and `_busy`: a call from inside this thread's own launch (a finalizer
        # run by the collector there...) raises LauncherBusy instead of waiting for ever
        lock = threading.RLock()
        ns["_acquire"], ns["_release"] = lock.acquire, lock.release
        ns["_busy"], ns["_Busy"] = [0], LauncherBusy
        ns["_rc"] = sys.getrefcount
        for j in L.recycled:      # two buffers per recycled output (None: none yet)
            ns[f"_r{j}"], ns[f"_rs{j}"] = [None, None], [None, None]
    filename = f"<gpujit launcher {id(ks):x}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec"), ns)
    fn = ns["launch"]
    fn.source = src
    fn.inlinable = True         # a dispatcher may run its source in place of calling it
    return fn                   # (fusers/guards.py: inlined_launcher)


def _several_gpus():
    """Whether launches must make their GPU current (with one, it always is: ~0.1 µs a
    call saved)."""
    import cupy
    return cupy.cuda.runtime.getDeviceCount() > 1


class _LauncherWriter:
    def __init__(self, ks, spec, sm_count, direct=False):
        self.ks, self.spec, self.layout = ks, spec, ks.layout
        self.target = ks.target
        self.sm_count = sm_count
        self.direct = direct
        self.lines = []
        self.known = {}         # launcher variables whose value is a literal (STATIC)
        self.slots = []         # direct launch: (expression, "i" | "f") per 8-byte slot
        self.constants = {}     # direct launch: slot -> int written once
        self.ptrs = {}          # cuda: array name -> the local holding its data pointer
        self.indent = 0         # lines written inside the launch lock's try: one level more
        self.recycled = ()      # the outputs it recycles (see _recycled_outputs)

    def emit(self, line, indent=1):
        self.lines.append("    " * (indent + self.indent) + line)

    def write(self, guard=False):
        lay, spec = self.layout, self.spec
        args = [f"a{k}" if s.kind == "tensor" else f"p{k}" for k, s in enumerate(spec.inputs)]
        self.lines.append(f"def launch({', '.join(args)}):")
        if guard:       # the kernel's module lives on its device: allocate and launch there
            index = spec.device.index or 0
            self.emit(f"if _getdev() != {index}:")
            self.emit(f"_setdev({index})", 2)
        R = lay.rank
        if lay.static:
            sizes = {d: str(lay.sizes[d]) for d in range(R)}
            n = str(math.prod(lay.sizes))
            self.emit(f"n = {n}")
            self.known["n"] = n
        else:
            sizes = {d: "1" for d in range(R)}
            for d in lay.dims:
                holders = [(k, p) for k, p in enumerate(lay.inputs)
                           if p.kind in ("flat", "strided") and not p.bcast[d]]
                k0, p0 = holders[0]
                self.emit(f"s{d} = {_size_expr(k0, p0, d - (R - p0.ndim))}")
                sizes[d] = f"s{d}"
                for k, p in holders[1:]:
                    self.emit(f"if {_size_expr(k, p, d - (R - p.ndim))} != s{d}:")
                    self.emit(f"raise _Mismatch('the sizes of the fused inputs do not broadcast "
                              f"at dimension {d}')", 2)
            self.emit(f"n = {' * '.join(f's{d}' for d in lay.dims) or '1'}")
        outs = []
        self.recycled = self._recycled_outputs(sizes) if RECYCLE_FREE is not None else ()
        if self.recycled:        # take the lock first: a free buffer goes to one call only
            self.emit("_sp = _stream().ptr")
            self._lock()
            self.indent = 1
        for j, o in enumerate(lay.outputs):
            shape = lay.output_shape(o, [sizes[d] for d in range(R)])
            alloc = f"_empty(({''.join(f'{s}, ' for s in shape)}), _odt{j})"
            if j in self.recycled:
                self._recycle(j, alloc)
            else:
                self.emit(f"o{j} = {alloc}")
            outs.append(f"o{j}")
        ret = f"({', '.join(outs)},)"
        if not (lay.static and int(n)):
            self.emit("if n == 0:")
            # an output without some dim of the space may have elements: not computed
            part = [f"o{j}.size" for j, o in enumerate(lay.outputs)
                    if o.ndim < R or any(o.bcast)]
            if part:
                self.emit(f"if {' or '.join(part)}:", 2)
                self.emit("raise _Empty('an empty iteration space, an output with "
                          "elements')", 3)
            self.emit(f"return {ret}", 2)
        for k, p in enumerate(lay.inputs):
            if p.kind not in ("strided", "base") or f"a{k}" not in self.ks.params:
                continue
            if self.target == "cpu":      # element strides, from the data pointer
                if not lay.static:
                    self.emit(f"t{k} = a{k}.strides")
            elif self.target != "cuda":
                self.emit(f"b{k}, sh{k}, t{k} = _base(a{k})")
            elif lay.static:          # the lowest address and the span are known
                s = spec.inputs[k]
                lo = sum((n - 1) * st for n, st in zip(s.sizes, s.strides) if st < 0)
                hi = sum((n - 1) * st for n, st in zip(s.sizes, s.strides) if st > 0)
                off = f" - {-lo * p.dtype.itemsize}" if lo else ""
                self.emit(f"b{k} = a{k}.data.ptr{off}")
                self.emit(f"span{k} = {hi - lo + 1}")
                self.known[f"span{k}"] = str(hi - lo + 1)
            else:
                self.emit(f"b{k}, span{k}, sh{k}, t{k} = _cbase(a{k})")
        if self.target == "cuda" and "vec" in self.ks.params:
            for a in self._vector_arrays():     # read once: a kernel argument and the
                self.ptrs[a] = f"d{a}"          # alignment test both need them
                self.emit(f"d{a} = {a}.data.ptr")
        call_args = [", ".join(self.fields(name)) for name in self.ks.params
                     if name not in ("start", "stop")]
        if self.target == "cpu":
            args = ", ".join(call_args)
            if lay.static and int(n) < PARALLEL_MIN:
                call = f"_kern(0, n, {args})"
            elif lay.static:
                call = f"_par(_kern, n, {args})"
            else:
                call = f"(_kern(0, n, {args}) if n < {PARALLEL_MIN} else _par(_kern, n, {args}))"
            if self.ks.zero_division:
                self.emit(f"if {call}:")
                self.emit("raise _zde()", 2)
            else:
                self.emit(call)
        elif self.target == "sim":
            if self.ks.zero_division:
                self.emit("zdv = _np.zeros(1, _np.int64)")
            # (numba's simulator runs each CUDA thread as a Python thread of its own: 8 a
            # block, at most 2 blocks; a tiny input's elements beyond 16 take the
            # grid-stride loop, as on a GPU, where 64 threads started 48 idle ones)
            self.emit(f"_kern[_min((n + 7) // 8, 2), 8]({', '.join(call_args)})")
            if self.ks.zero_division:
                self.emit("if zdv[0]:")
                self.emit("raise _zde()", 2)
        else:
            # threads: one per element (a vector loop: per 4), at most 32 blocks per SM
            # (64 with the vector loop: its loads are wider; both were the fastest in a
            # sweep of grid caps on an H200, 2026-11-30)
            per = THREADS * (4 if "vec" in self.ks.params else 1)
            cap = (64 if "vec" in self.ks.params else 32) * (self.sm_count or 1)
            grid = (str(min((int(n) + per - 1) // per, cap)) if lay.static
                    else f"_min((n + {per - 1}) // {per}, {cap})")
            if self.direct:
                self._direct_launch(grid)
            else:
                self.emit(f"_kern(({grid},), ({THREADS},), "
                          f"({''.join(a + ', ' for a in call_args)}))")
        self.emit(f"return {ret}")
        if self.recycled:
            self.indent = 0
            self._unlock()
        return "\n".join(self.lines) + "\n"

    def _lock(self):
        """Take the launch lock and open its try: (see LauncherBusy)."""
        self.emit("_acquire()")
        self.emit("if _busy[0]:")
        self.emit("_release()", 2)
        self.emit("raise _Busy('called again from inside its own launch')", 2)
        self.emit("_busy[0] = 1")
        self.emit("try:")

    def _unlock(self):
        self.emit("finally:")
        self.emit("_busy[0] = 0", 2)
        self.emit("_release()", 2)

    def _recycled_outputs(self, sizes):
        """The outputs this launcher recycles: those of 1 to RECYCLE_MAX_BYTES bytes of a
        STATIC launch of the parameter block's kind."""
        lay = self.layout
        if not (self.direct and lay.static):
            return ()
        return tuple(j for j, o in enumerate(lay.outputs)
                     if 0 < math.prod(lay.output_shape(o, [int(sizes[d]) for d in
                                                           range(lay.rank)]))
                     * o.dtype.itemsize <= RECYCLE_MAX_BYTES)

    def _recycle(self, j, alloc):
        """o{j}: one of the two buffers this launcher keeps for output j when nothing but
        the launcher refers to it any more and it was last written on this stream, else a
        new one, kept in place of the older (see RECYCLE_FREE)."""
        a, p, m = RECYCLE_FREE
        free = f"_rc(o{j}) == {a} and _rc(o{j}.data) == {p} and _rc(o{j}.data.mem) == {m}"
        self.emit(f"o{j} = _r{j}[0]          # a buffer only this launcher still holds?")
        self.emit(f"if not ({free} and _rs{j}[0] == _sp):")
        self.emit(f"o{j} = _r{j}[1]", 2)
        self.emit(f"if not ({free} and _rs{j}[1] == _sp):", 2)
        self.emit(f"o{j} = {alloc}", 3)
        self.emit(f"_r{j}[0], _r{j}[1], _rs{j}[0], _rs{j}[1] = o{j}, _r{j}[0], _sp, "
                  f"_rs{j}[0]", 2)        # the newest first

    def _direct_launch(self, grid):
        """Write the parameter block's changing slots and call cuLaunchKernel."""
        writes = []
        for name in self.ks.params:
            kind = "i"
            if name.startswith("p"):
                kind = "f" if _KIND[self.spec.inputs[int(name[1:])].dtype] == "float" else "i"
            for expr in self.fields(name, packed=False):
                j = len(self.slots)
                self.slots.append((expr, kind))
                literal = self.known.get(expr, expr)
                if kind == "i" and literal.lstrip("-").isdigit():
                    self.constants[j] = int(literal)
                elif name.startswith("p"):      # a number: NumPy's conversion (its
                    # OverflowError for an int past int64); a bool's slot 0 or 1 (the
                    # kernel reads its low byte: 256 given for a bool would read False)
                    if _KIND[self.spec.inputs[int(name[1:])].dtype] == "bool":
                        expr = f"(1 if {expr} else 0)"
                    writes.append(f"{'_vf' if kind == 'f' else '_v'}[{j}] = {expr}")
                else:   # a pointer, size or stride: through a memoryview (~20 ns less)
                    writes.append(f"_m[{j}] = {expr}")
        if self.recycled:         # the lock is held since the outputs were taken
            for w in writes:
                self.emit(w)
            self._emit_launch(f"_launch(_fp, {grid}, 1, 1, {THREADS}, 1, 1, 0, _sp, _pp, 0)", 1)
            return
        # one launch at a time fills this kernel's parameter block (acquire/release: half
        # the cost of `with lock:`)
        self._lock()
        for w in writes:
            self.emit(w, 2)
        self._emit_launch(f"_launch(_fp, {grid}, 1, 1, {THREADS}, 1, 1, 0, _stream().ptr, "
                          f"_pp, 0)", 2)
        self._unlock()

    def _emit_launch(self, call, indent):
        """The cuLaunchKernel call, made again once after binding the device's context
        to this thread where the driver found none current (_bind_context)."""
        self.emit("try:", indent)
        self.emit(call, indent + 1)
        self.emit("except Exception as e:", indent)
        self.emit("_bind(e)", indent + 1)
        self.emit(call, indent + 1)

    def _vector_arrays(self):
        """The arrays a vector loop reads and writes 4 elements at a time."""
        lay = self.layout
        return ([f"a{k}" for k, p in enumerate(lay.inputs)
                 if p.kind == "flat" and f"a{k}" in self.ks.params]
                + [f"o{j}" for j in range(len(lay.outputs))])

    def fields(self, name, packed=True):
        """The values passed for kernel parameter `name`: seven for an array (numba's ABI),
        one for a number (packed: as a NumPy scalar of its exact width, for CuPy's
        Function; else the plain value, written into an 8-byte slot)."""
        if self.target == "cuda" and name[0] in "ao" and name[1:].isdigit():
            return self.arg(name).split(", ")
        if name.startswith("p") and not packed:
            return [name]
        return [self.arg(name)]

    def arg(self, name):
        """The value passed for kernel parameter `name` (an array's seven joined by ', ')."""
        lay, target = self.layout, self.target
        if name in ("n", "zdv") or name.startswith("s") and name[1:].isdigit():
            return name
        if name.startswith("sh"):
            k = int(name[2:])
            p = lay.inputs[k]
            if p.piece is None:
                return name
            # a piece: its first element, from where its input's 1-D array starts
            src = p.source
            terms = [f"{a} * t{src}[{d}]" for d, a in enumerate(p.piece.starts) if a]
            if target == "cpu":
                return (f"({' + '.join(terms)}) // {p.dtype.itemsize}" if terms else "0")
            return " + ".join([f"sh{src}"] + terms)
        if name == "vec":               # the vector loop's accesses need 16-byte alignment
            ptrs = [self.ptrs[a] if target == "cuda" else f"{a}.ctypes.data"
                    for a in self._vector_arrays()]
            return f"(0 if ({' | '.join(ptrs)}) & 15 else 1)"
        if name.startswith("st"):
            k, d = (int(x) for x in name[2:].split("_"))
            p = lay.inputs[k]
            src = p.source if p.piece is not None else k
            if target == "cpu":
                return f"t{src}[{d - (lay.rank - p.ndim)}] // {p.dtype.itemsize}"
            return f"t{src}[{d - (lay.rank - p.ndim)}]"
        if name.startswith("p"):
            k = int(name[1:])
            kind = _KIND[self.spec.inputs[k].dtype]
            if target == "cpu":
                return f"{kind}({name})"
            return {"float": "_f64", "int": "_i64", "bool": "_bool"}[kind] + f"({name})"
        if target == "cpu" and name[0] in "ao":
            return name                   # the ndarray: the kernel reads its data pointer
        if name.startswith("a"):
            k = int(name[1:])
            p = lay.inputs[k]
            item = p.dtype.itemsize
            if target == "cuda":
                if p.kind in ("strided", "base"):
                    return f"0, 0, span{k}, {item}, b{k}, span{k}, {item}"
                count = "1" if p.kind == "one" else "n"
                ptr = self.ptrs.get(name, f"{name}.data.ptr")
                return f"0, 0, {count}, {item}, {ptr}, {count}, {item}"
            view = f"b{k}" if p.kind in ("strided", "base") else f"{name}.reshape(-1)"
            if target == "sim":        # copied in, never back (it may be a read-only view)
                view = f"_In({view})"
            return view
        if name.startswith("o"):
            j = int(name[1:])
            o = lay.outputs[j]
            item = o.dtype.itemsize
            if target == "cuda":
                count = {"full": "n", "one": "1"}.get(o.kind, f"{name}.size")
                ptr = self.ptrs.get(name, f"{name}.data.ptr")
                return f"0, 0, {count}, {item}, {ptr}, {count}, {item}"
            view = f"{name}.reshape(-1)"
            return view
        raise AssertionError(f"unknown kernel parameter {name}")


_SCALAR_READ = {"float64": ctypes.c_double, "int64": ctypes.c_int64,
                "boolean": ctypes.c_uint8}


def unpack_kernel_params(kernel_params, signature):
    """The arguments that cuLaunchKernel with `kernel_params` (the address of an array of
    pointers, one per parameter of numba's kernel ABI) passes to a kernel of numba
    signature `signature`, as CuPy's Function takes them: seven ints per `T[::1]` array
    (meminfo, parent, nitems, itemsize, data, shape, stride), an int or a NumPy scalar of
    the parameter's width per number."""
    kinds = [t.strip() for t in signature[signature.index("(") + 1:-1].split(",")]
    count = sum(7 if k.endswith("[::1]") else 1 for k in kinds)
    ptrs = (ctypes.c_void_p * count).from_address(kernel_params)
    out, j = [], 0
    for kind in kinds:
        if kind.endswith("[::1]"):
            out += [ctypes.c_int64.from_address(ptrs[j + f]).value for f in range(7)]
            j += 7
        else:
            v = _SCALAR_READ[kind].from_address(ptrs[j]).value
            out.append({"float64": np.float64, "boolean": np.bool_}.get(kind, int)(v))
            j += 1
    return tuple(out)
