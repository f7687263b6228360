"""A fake, NumPy-backed `cupy` for exercising gpujit's CuPy code paths without a GPU.

Mimics real CuPy where gpujit could go wrong:
  * cupy.ndarray is NOT a numpy.ndarray (a wrapper); np.asarray(x) raises TypeError
    ("Implicit conversion to a NumPy array is not allowed"), as CuPy's __array__ does.
  * ufuncs / cupy functions given a numpy.ndarray raise TypeError (Unsupported type),
    as CuPy's kernel argument preprocessing does; Python/NumPy scalars are accepted.
  * numpy functions on cupy arrays dispatch through __array_function__ only when CuPy
    has a function of that name (else numpy's "no implementation found" TypeError).
  * reductions / indexing return 0-dim cupy arrays, never NumPy scalars.
  * no __index__ (range(cupy_0d) fails as with CuPy).
  * .data.ptr is the host address of element 0 (so emulated kernels read the memory).
  * who holds what, as CuPy: an array keeps its MemoryPointer (`.data`, the same object
    each time), a MemoryPointer its allocation (`.mem`, shared by `ptr + k`), a view its
    base array (`.base`), an array made over `memptr=` only that MemoryPointer (so
    reference counts, which gpujit's output recycling reads, are CuPy's).
  * out-of-bounds integer index arrays WRAP AROUND (a[idx], a[idx] = v, take, put,
    ufunc.at, take/put_along_axis), as CuPy's take/scatter kernels do; NumPy raises.
    Scalar indices still raise IndexError (CuPy checks those on the host).
  * assignment through an index that repeats a position writes the FIRST value there
    (CuPy: undefined, its threads race; NumPy: the last), so relying on last-wins fails.
  * cupy.cuda.function.Module: launches are EMULATED from the kernel's Python text,
    recovered by hooking gpujit.kernels.targets.compile_ptx (see _emulate.py).
  * float -> integer astype is CUDA's conversion (truncate, clamp, nan -> 0), not x86's.
  * array() / asarray() of a sequence concatenate only cupy arrays of one shape; a
    sequence mixing them with scalars or numpy arrays raises TypeError, as CuPy's
    numpy.array fallback does.
  * ElementwiseKernel: CuPy's type rules (an array of a fixed-type parameter must have
    that dtype exactly); only the operations _elementwise.py whitelists are evaluated.
Names that real CuPy does not export (per cupy/__init__.py of upstream master) raise
AttributeError. Events that look suspicious but are allowed are logged to $FAKECUPY_LOG
when it is set.
"""
from __future__ import annotations

import ctypes as _ctypes
import os as _os
import warnings as _warnings

import numpy as _np

_HERE = _os.path.dirname(__file__)
with open(_os.path.join(_os.path.dirname(_HERE), "cupy_names.txt")) as _f:
    _CUPY_NAMES = frozenset(_f.read().split())
with open(_os.path.join(_os.path.dirname(_HERE), "ndarray_names.txt")) as _f:
    _ND_NAMES = frozenset(_f.read().split()) | {
        "sum", "mean", "prod", "var", "std", "argmax", "argmin", "astype", "trace", "base",
        "nonzero", "dtype", "shape", "size", "data", "__array_priority__", "cumsum",
        "cumprod", "round", "conj", "view", "nbytes"}

_LOG = _os.environ.get("FAKECUPY_LOG")

import json as _json  # noqa: E402
with open(_os.path.join(_os.path.dirname(_HERE), "cupy_signatures.json")) as _f:
    _SIGS = _json.load(_f)      # CuPy's parameter names (NumPy's functions take more)


def _check_signature(qualname, params, args, kwargs):
    """TypeError, as CuPy's function would raise, for arguments that CuPy's `qualname`
    (parameter names `params`) does not take though NumPy's does."""
    if params is None or any(p.startswith("**") for p in params):
        return
    positional = []
    for p in params:
        if p == "/":
            continue
        if p.startswith("*"):
            positional = None
            break
        positional.append(p)
    if positional is not None and len(args) > len(positional):
        raise TypeError(f"{qualname}() takes at most {len(positional)} positional "
                        f"arguments ({len(args)} given) (fake cupy: CuPy's signature is "
                        f"({', '.join(params)}))")
    names = {p.lstrip("*") for p in params}
    for k in kwargs:
        if k not in names:
            raise TypeError(f"{qualname}() got an unexpected keyword argument '{k}' (fake "
                            f"cupy: CuPy's signature is ({', '.join(params)}))")


def _log(msg):
    if not _LOG:
        return
    import traceback
    stack = "".join(traceback.format_stack(limit=8)[:-2])
    with open(_LOG, "a") as f:
        f.write(f"=== {msg}\n{stack}\n")


# ----------------------------------------------------------------------------- memory

class _Memory:
    """An allocation (CuPy's Memory / PooledMemory): only MemoryPointers refer to it; `ptr`
    is where it starts, `size` its bytes, `device_id` its device (as CuPy's); `_owner`
    the NumPy buffer (for MemoryPointer(mem, offset))."""
    __slots__ = ("ptr", "size", "device_id", "_owner")

    def __init__(self, ptr=0, size=0, device_id=0, owner=None):
        self.ptr, self.size, self.device_id = int(ptr), int(size), int(device_id)
        self._owner = owner


class MemoryPointer:
    """A device pointer: the host address of a NumPy buffer (kept alive by `_owner`) in
    allocation `mem`. CuPy's constructor, MemoryPointer(mem, offset), works too."""
    __slots__ = ("_owner", "ptr", "_lo", "_hi", "device_id", "mem")

    def __init__(self, owner, ptr, lo=None, hi=None, device_id=0, mem=None):
        if isinstance(owner, _Memory) and lo is None:        # (CuPy's: mem, offset)
            mem, offset = owner, int(ptr)
            if not 0 <= offset <= mem.size:
                raise ValueError(f"fake cupy: offset {offset} outside the allocation")
            owner, ptr, lo, hi, device_id = (mem._owner, mem.ptr + offset, mem.ptr,
                                             mem.ptr + mem.size, mem.device_id)
        self._owner, self.ptr, self._lo, self._hi = owner, int(ptr), lo, hi
        self.device_id = device_id
        self.mem = _Memory(lo, hi - lo, device_id, owner) if mem is None else mem

    @property
    def device(self):
        from .cuda import Device
        return Device(self.device_id)

    def __add__(self, k):
        return MemoryPointer(self._owner, self.ptr + int(k), self._lo, self._hi, self.device_id,
                             self.mem)

    __radd__ = __add__

    def __sub__(self, k):
        return MemoryPointer(self._owner, self.ptr - int(k), self._lo, self._hi, self.device_id,
                             self.mem)

    def __int__(self):
        return self.ptr

    def copy_from_device(self, src, size):
        _ctypes.memmove(self.ptr, src.ptr, size)

    def copy_to_host(self, dst, size):
        _ctypes.memmove(dst, self.ptr, size)

    def memset(self, value, size):
        _ctypes.memset(self.ptr, value, size)


def _root(a):
    r = a
    while isinstance(r.base, _np.ndarray):
        r = r.base
    return r


def _memptr(a, dev):
    r = _root(a)
    lo = r.__array_interface__["data"][0]
    if r.size:
        lo = min(lo, lo + sum((n - 1) * s for n, s in zip(r.shape, r.strides) if s < 0))
        hi = lo + r.nbytes if (r.flags.c_contiguous or r.flags.f_contiguous) else \
            lo + sum((n - 1) * abs(s) for n, s in zip(r.shape, r.strides)) + r.itemsize
    else:
        hi = lo
    from ._emulate import register_alloc
    register_alloc(lo, r)
    return MemoryPointer(r, a.__array_interface__["data"][0], lo, hi, dev)


# ----------------------------------------------------------------------------- devices

import threading as _threading  # noqa: E402


class _ThreadState(_threading.local):
    """The current device, per thread (as CUDA's: a new thread starts on device 0)."""
    current = 0


_State = _ThreadState()


def _ndev():
    return int(_os.environ.get("FAKECUPY_NDEV", "1"))


# ----------------------------------------------------------------------------- wrapping

def _wrap(r, dev=None):
    if isinstance(r, ndarray):
        return r
    if isinstance(r, _np.ndarray):
        return ndarray._from_np(r, dev)
    if isinstance(r, _np.generic):
        return ndarray._from_np(_np.asarray(r), dev)
    if isinstance(r, tuple):
        return tuple(_wrap(x, dev) for x in r)
    if isinstance(r, list):
        return [_wrap(x, dev) for x in r]
    return r


def _unwrap(x, what, allow_host=False):
    """numpy values of cupy arrays (recursively through lists/tuples); numpy arrays
    raise TypeError unless allow_host (as CuPy's argument preprocessing does)."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _np.ndarray):
        if not allow_host:
            raise TypeError(f"Unsupported type {type(x)} (fake cupy: a numpy.ndarray "
                            f"passed to cupy {what}; real CuPy rejects host arrays)")
        return x
    if isinstance(x, (list, tuple)):
        t = [_unwrap(v, what, allow_host) for v in x]
        return tuple(t) if isinstance(x, tuple) else t
    if isinstance(x, MemoryPointer):
        raise TypeError(f"fake cupy: MemoryPointer passed to {what}")
    return x


def _check_devices(xs, what):
    for x in xs:
        if isinstance(x, ndarray) and x._dev != _State.current:
            _log(f"cross-device: {what} on an array of cuda:{x._dev} while the current "
                 f"device is cuda:{_State.current} (CuPy: peer access or ValueError; the "
                 f"result is allocated on cuda:{_State.current})")
            if _os.environ.get("FAKECUPY_STRICT_DEVICE"):
                raise ValueError(f"The device where the array resides ({x._dev}) is different "
                                 f"from the current device ({_State.current}).")


def _check_operand(x):
    return isinstance(x, (ndarray, _np.ndarray, _np.generic, int, float, complex, bool))


def _advanced(idx):
    idx = idx if isinstance(idx, tuple) else (idx,)
    return any(isinstance(i, (ndarray, _np.ndarray, list)) for i in idx)


def _check_scatter_source(a, idx, value, what):
    """CuPy's assignment through an advanced index (and ufunc.at) is a scatter kernel that
    writes `a` while it reads `value` (an ElementwiseKernel with a raw output: no copy of
    an overlapping input, unlike its ufuncs and basic-slice copies): elements that are
    both read and written get whatever the threads' order leaves. NumPy copies such a
    value first; the fake refuses it so code relying on that is caught."""
    if isinstance(value, ndarray) and value.size and a.size and _advanced(idx) and \
            _np.shares_memory(a._a, value._a):
        raise RuntimeError(f"fake cupy: {what} through an advanced index from a value that "
                           f"shares memory with the array (CuPy's scatter kernel reads it "
                           f"while writing: the result is undefined)")


# ----------------------------------------------------------------------------- out of bounds

def _oob_wrap(shape, idx, what):
    """`idx` (an unwrapped index) with its integer arrays taken modulo the size of the
    axis each indexes, as CuPy's take / scatter kernels do (_take_kernel_core,
    _create_scatter_kernel, _prepare_array_indexing in cupy/_core/_routines_indexing.pyx):
    an out-of-bounds index array does not raise in CuPy, it wraps around silently.
    Scalar ints still raise IndexError (CuPy checks them on the host), so do bool masks
    of the wrong shape and non-empty takes from a size-0 axis."""
    items = idx if isinstance(idx, tuple) else (idx,)
    ndim = len(shape)
    consumed = 0
    for i in items:
        if i is None or i is Ellipsis or isinstance(i, (bool, _np.bool_)):
            continue
        if isinstance(i, (_np.ndarray, list)):
            arr = _np.asarray(i)
            consumed += arr.ndim if arr.dtype == _np.bool_ else 1
        else:
            consumed += 1
    out, axis, changed = [], 0, False
    for i in items:
        if i is None or isinstance(i, (bool, _np.bool_)):
            out.append(i)
            continue
        if i is Ellipsis:
            out.append(i)
            axis += max(ndim - consumed, 0)
            continue
        if isinstance(i, (_np.ndarray, list)):
            arr = _np.asarray(i)
            if arr.dtype == _np.bool_:
                out.append(i)
                axis += arr.ndim
                continue
            if arr.dtype.kind in "iu" and arr.size and axis < ndim and shape[axis] > 0:
                n = shape[axis]
                if int(arr.min()) < -n or int(arr.max()) >= n:   # (in range: as NumPy)
                    _log(f"out-of-bounds index wrapped in {what} (CuPy wraps, NumPy raises)")
                    i, changed = _np.mod(arr, n), True
            out.append(i)
            axis += 1
            continue
        out.append(i)
        axis += 1
    if not changed:
        return idx
    return tuple(out) if isinstance(idx, tuple) else out[0]


def _setitem_first_wins(a, idx, value):
    """a[idx] = value where idx repeats a position: CuPy's scatter kernel leaves which
    value lands undefined (NumPy: the last). The fake writes the FIRST, so code that
    relies on NumPy's last-wins is caught. Returns False when idx repeats nothing."""
    if not _advanced(idx):
        return False
    pos = _np.arange(a.size, dtype=_np.int64).reshape(a.shape)
    tgt = pos[idx]
    if tgt.size < 2 or _np.unique(tgt).size == tgt.size:
        return False
    _log("duplicate indices in an advanced-index assignment (CuPy: which value lands is "
         "undefined; the fake writes the first)")
    v = _np.broadcast_to(_np.asarray(value).astype(a.dtype, copy=False), tgt.shape)
    a[_np.unravel_index(tgt.ravel()[::-1], a.shape)] = v.ravel()[::-1]
    return True


def _put(a, ind, v, mode="wrap"):
    """CuPy's put: mode 'wrap' by default (NumPy's: 'raise'), 'raise' raises IndexError
    ('invalid entry in indices array'), 'clip'; values repeat cyclically; a repeated
    index leaves which value lands undefined (the fake: the first)."""
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError("clipmode not understood")
    ind = _np.asarray(ind).ravel()
    v = _np.asarray(v)
    if v.size == 0:
        return
    n = a.size
    if mode == "raise":
        if ind.size and (int(ind.min()) < -n or int(ind.max()) >= n):
            raise IndexError("invalid entry in indices array")
        ind = _np.where(ind < 0, ind + n, ind)
    elif mode == "wrap":
        ind = _np.mod(ind, n) if n else ind
    else:
        ind = _np.clip(ind, 0, n - 1)
    vals = _np.resize(v.astype(a.dtype, copy=False), ind.shape)
    if ind.size and _np.unique(ind).size != ind.size:
        ind, vals = ind[::-1], vals[::-1]
    _np.put(a, ind, vals)


import weakref as _weakref  # noqa: E402
_ALLOCS = _weakref.WeakValueDictionary()
_OWNERS = _weakref.WeakValueDictionary()    # id(numpy root) -> the array that owns it


class ndarray:
    """cupy.ndarray(shape, dtype=float, memptr=None, strides=None, order='C')."""
    __slots__ = ("_a", "_dev", "_mp", "_base", "__weakref__")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if isinstance(shape, int):
            shape = (shape,)
        dtype = _np.dtype(dtype)
        if memptr is None:
            a = _np.empty(shape, dtype, order=order)
            if strides is not None:
                raise NotImplementedError("fake cupy: strides without memptr")
        else:
            nbytes = memptr._hi - memptr._lo
            buf = (_ctypes.c_char * max(nbytes, 1)).from_address(memptr._lo)
            a = _np.ndarray(shape, dtype, buffer=_np.frombuffer(buf, _np.uint8),
                            offset=memptr.ptr - memptr._lo, strides=strides, order=order)
            # keep the owner alive
            a = _KeepAlive(a, memptr._owner)
        self._a = a
        self._dev = _State.current if memptr is None else memptr.device_id
        self._mp, self._base = memptr, None          # (CuPy: no base, the memptr held)
        _OWNERS[id(_root(a))] = self

    @classmethod
    def _from_np(cls, a, dev=None):
        r = _root(a)
        try:
            if id(r) not in _ALLOCS:
                _ALLOCS[id(r)] = r
                cuda.memory._allocated(r.nbytes)
        except TypeError:
            pass
        dev = _State.current if dev is None else dev
        owner = _OWNERS.get(id(r))
        if owner is not None and _root(owner._a) is not r:
            owner = None
        if owner is not None and owner._a is a and owner._dev == dev:
            return owner                             # (CuPy returns the same array)
        self = object.__new__(cls)
        self._a = a
        self._dev = dev
        self._mp = None
        self._base = owner if r is not a else None   # a view keeps its base alive
        if owner is None and r is a:
            _OWNERS[id(r)] = self
        return self

    # ---- attributes
    @property
    def shape(self):
        return self._a.shape

    @shape.setter
    def shape(self, s):
        self._a.shape = s

    @property
    def strides(self):
        return self._a.strides

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    @property
    def itemsize(self):
        return self._a.itemsize

    @property
    def nbytes(self):
        return self._a.nbytes

    @property
    def flags(self):
        return self._a.flags

    @property
    def _c_contiguous(self):
        return self._a.flags.c_contiguous

    @property
    def _f_contiguous(self):
        return self._a.flags.f_contiguous

    @property
    def data(self):
        mp = self._mp
        if mp is None:                               # made once, kept (as CuPy's field)
            mp = _memptr(self._a, self._dev)
            if self._base is not None:               # the base's allocation
                mp.mem = self._base.data.mem
            self._mp = mp
        return mp

    @property
    def device(self):
        from .cuda import Device
        return Device(self._dev)

    @property
    def base(self):
        if self._base is not None:
            return self._base
        if self._mp is not None:
            return None                  # (CuPy: an array made on a memptr has no base)
        b = self._a.base
        return ndarray._from_np(b, self._dev) if isinstance(b, _np.ndarray) else None

    @property
    def T(self):
        return ndarray._from_np(self._a.T, self._dev)

    @property
    def mT(self):
        return ndarray._from_np(self._a.mT, self._dev)

    @property
    def real(self):
        return ndarray._from_np(self._a.real, self._dev)

    @property
    def imag(self):
        return ndarray._from_np(self._a.imag, self._dev)

    @property
    def __cuda_array_interface__(self):
        self.data                 # (registers the allocation: foreign views find it)
        a = self._a
        return {"shape": a.shape, "typestr": a.dtype.str,
                "data": (a.__array_interface__["data"][0], False),
                "strides": None if a.flags.c_contiguous else a.strides, "version": 3}

    def __dlpack_device__(self):
        return (2, self._dev)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        if stream is not None and not isinstance(stream, int):
            raise TypeError(f"stream must be an int, got {type(stream)}")
        # (a CPU capsule: only the fake from_dlpack reads it). CuPy's capsule holds the
        # array itself (its manager context): so does this one, through a view of it
        return _KeepAlive(self._a, self).__dlpack__(max_version=max_version)

    # ---- conversions
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is not None:
            out[...] = self._a
            return out
        return _np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        if not isinstance(arr, _np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, not {type(arr)}")
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError("Shape/dtype mismatch in set()")
        self._a[...] = arr

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def __int__(self):
        return int(self.get())

    def __float__(self):
        return float(self.get())

    def __complex__(self):
        return complex(self.get())

    def __bool__(self):
        if self.size == 0:
            _warnings.warn("The truth value of an empty array is ambiguous.",
                           DeprecationWarning)
            return False
        if self.size == 1:
            return bool(self._a.reshape(()))
        raise ValueError("The truth value of an array with more than one element is "
                         "ambiguous. Use a.any() or a.all()")

    def __repr__(self):
        return repr(self.get())

    def __str__(self):
        return str(self.get())

    def __format__(self, spec):
        return format(self.get(), spec)

    def __reduce__(self):
        return array, (self.get(),)

    def __copy__(self):
        return ndarray._from_np(self._a.copy(), self._dev)

    def __deepcopy__(self, memo):
        return ndarray._from_np(self._a.copy(), self._dev)

    @classmethod
    def __class_getitem__(cls, item):
        from types import GenericAlias
        return GenericAlias(cls, item)

    # ---- containers
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, idx):
        idx = _oob_wrap(self.shape, _unwrap(idx, "indexing", allow_host=True), "indexing")
        return _wrap(self._a[idx], self._dev)

    def __setitem__(self, idx, value):
        _check_scatter_source(self, idx, value, "__setitem__")
        idx = _unwrap(idx, "indexing", allow_host=True)
        if isinstance(value, _np.ndarray) and value.size > 1:
            _log(f"host->device copy in __setitem__ of a numpy array {value.shape} (allowed "
                 f"by CuPy: core.array(value))")
        value = _unwrap(value, "setitem", allow_host=True)
        if isinstance(value, (_np.ndarray, _np.floating)) and _saturates(value.dtype, self.dtype):
            value = _device_cast(value, self.dtype)      # (CuPy's copy kernel: CUDA's cast)
        idx = _oob_wrap(self.shape, idx, "__setitem__")
        if not _setitem_first_wins(self._a, idx, value):
            self._a[idx] = value

    # ---- numpy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        if name not in _CUPY_NAMES:
            return NotImplemented
        for x in inputs:
            if not _check_operand(x):
                return NotImplemented
        if method == "__call__":
            _check_ufunc_kwargs(name, kwargs)
        ins = _unwrap(inputs, f"ufunc {name}")
        out = kwargs.get("out")
        if out is not None:
            if not isinstance(out, tuple):
                out = (out,)
            for o in out:
                if o is not None and not isinstance(o, ndarray):
                    raise TypeError(f"fake cupy: out= of ufunc {name} must be cupy.ndarray, "
                                    f"not {type(o)}")
            kwargs["out"] = tuple(o._a if o is not None else None for o in out)
        _check_devices(inputs + tuple(out or ()), f"ufunc {name}")
        if method == "__call__" and out is None:
            kwargs["order"] = "C"    # CuPy allocates ufunc results C-contiguous (not "K")
        r = getattr(ufunc, method)(*ins, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(r)          # CuPy allocates results on the current device

    def __array_function__(self, func, types, args, kwargs):
        mod = func.__module__.split(".")[1:]
        target = _this
        try:
            for m in mod:
                target = getattr(target, m)
            cf = getattr(target, func.__name__)
        except AttributeError:
            return NotImplemented
        for t in types:
            if not issubclass(t, (ndarray, _np.ndarray)):
                return NotImplemented
        return cf(*args, **kwargs)

    # ---- operators
    def __eq__(self, other):
        if other is None or type(other).__eq__ is object.__eq__:
            return zeros(self.shape, dtype=_np.bool_)
        if not _check_operand(other):
            return NotImplemented
        return _np.equal(self, other)

    def __ne__(self, other):
        if other is None or type(other).__eq__ is object.__eq__:
            return ones(self.shape, dtype=_np.bool_)
        if not _check_operand(other):
            return NotImplemented
        return _np.not_equal(self, other)

    def __neg__(self):
        return _np.negative(self)

    def __pos__(self):
        return _np.positive(self)

    def __abs__(self):
        return _np.absolute(self)

    def __invert__(self):
        return _np.invert(self)

    def __divmod__(self, o):
        return _np.divmod(self, o)

    def __rdivmod__(self, o):
        return _np.divmod(o, self)


class _KeepAlive(_np.ndarray):
    """A numpy view on raw memory that keeps the owning buffer alive."""

    def __new__(cls, a, owner):
        v = a.view(cls)
        v._owner = owner
        return v

    def __array_finalize__(self, obj):
        self._owner = getattr(obj, "_owner", None)


def _make_binop(uf):
    def op(self, other):
        if not _check_operand(other):
            return NotImplemented
        return uf(self, other)

    def rop(self, other):
        if not _check_operand(other):
            return NotImplemented
        return uf(other, self)

    def iop(self, other):
        if not _check_operand(other):
            return NotImplemented
        uf(self, other, out=(self,))
        return self
    return op, rop, iop


for _name, _uf in [("add", _np.add), ("sub", _np.subtract), ("mul", _np.multiply),
                   ("truediv", _np.true_divide), ("floordiv", _np.floor_divide),
                   ("mod", _np.remainder), ("pow", _np.power), ("lshift", _np.left_shift),
                   ("rshift", _np.right_shift), ("and", _np.bitwise_and),
                   ("or", _np.bitwise_or), ("xor", _np.bitwise_xor),
                   ("matmul", _np.matmul)]:
    _op, _rop, _iop = _make_binop(_uf)
    setattr(ndarray, f"__{_name}__", _op)
    setattr(ndarray, f"__r{_name}__", _rop)
    setattr(ndarray, f"__i{_name}__", _iop)
for _name, _uf in [("lt", _np.less), ("le", _np.less_equal), ("gt", _np.greater),
                   ("ge", _np.greater_equal)]:
    setattr(ndarray, f"__{_name}__", _make_binop(_uf)[0])


def _saturates(src, dst):
    """Whether CuPy's cast of src to dst is CUDA's float -> integer conversion."""
    return _np.dtype(src).kind == "f" and _np.dtype(dst).kind in "iu"


def _device_cast(a, dtype):
    """CUDA's float -> integer conversion (PTX cvt.rzi: truncate, clamp to the target's
    range, nan -> 0), which CuPy's astype and copies compile to; NumPy's C cast on x86
    gives the `indefinite` value (INT_MIN) or wraps instead (-1.5 -> uint8: 255 on the
    host, 0 on the GPU)."""
    dtype = _np.dtype(dtype)
    info = _np.iinfo(dtype)
    with _np.errstate(invalid="ignore"):
        t = _np.trunc(_np.asarray(a, _np.float64))       # (float16/32 exact in float64)
        hi = t >= float(info.max) + 1.0                  # (2**63 exact: no rounding)
        lo = t < float(info.min)
        nan = _np.isnan(t)
        mid = ~(hi | lo | nan)
        out = _np.zeros(t.shape, dtype)
        out[mid] = t[mid].astype(dtype)
    out[hi], out[lo] = info.max, info.min
    if (hi | lo | nan).any():
        _log(f"float -> {dtype} conversion saturated (CUDA clamps, x86 does not)")
    return out


def _make_method(name):
    sig = _SIGS["ndarray"].get(name)

    def method(self, *args, **kwargs):
        _check_signature(f"cupy.ndarray.{name}", sig, args, kwargs)
        args = _unwrap(args, f"ndarray.{name}", allow_host=True)
        kwargs = {k: _unwrap(v, f"ndarray.{name}", allow_host=True) for k, v in kwargs.items()}
        out = kwargs.get("out")
        if name == "astype" and "order" not in kwargs:
            kwargs["order"] = "K"
        if name in ("sort", "argsort"):
            if kwargs.get("kind") not in (None, "stable"):
                raise NotImplementedError(f"cupy {name}: only kind='stable' is supported")
            kwargs["kind"] = "stable"
        if name in ("item", "tolist", "tobytes"):
            return getattr(self._a, name)(*args, **kwargs)
        if name == "astype" and _saturates(self.dtype, args[0] if args else kwargs["dtype"]):
            return _wrap(_device_cast(self._a, args[0] if args else kwargs["dtype"]),
                         self._dev)
        if name == "take":
            kwargs["mode"] = "wrap"          # (CuPy's take wraps out-of-bounds indices)
        if name == "put":
            return _put(self._a, *args, **kwargs)
        r = getattr(self._a, name)(*args, **kwargs)
        if name == "fill":
            return None
        if name in _C_RESULT and out is None and isinstance(r, _np.ndarray):
            r = r if r.flags.c_contiguous else r.copy(order="C")
        return _wrap(r, self._dev)
    method.__name__ = name
    return method


for _name in sorted(_ND_NAMES):
    if _name.startswith("_") or _name in ndarray.__dict__:
        continue
    if callable(getattr(_np.ndarray, _name, None)):
        setattr(ndarray, _name, _make_method(_name))
ndarray.__module__ = "cupy"


def _check_ufunc_kwargs(name, kwargs):
    """CuPy's ufuncs take out=, dtype= and casting= only (no where=, order=, subok=)."""
    bad = {k: v for k, v in kwargs.items() if k not in ("out", "dtype", "casting")}
    if bad:
        raise TypeError(f"Wrong arguments {bad} (fake cupy: cupy.{name} takes out=, dtype=, "
                        f"casting= only)")


class ufunc:
    """A cupy ufunc over numpy's: rejects host arrays; .at/.reduce/.accumulate as CuPy."""
    _AT = {"add": ("add", (_np.int32, _np.int64, _np.float16, _np.float32, _np.float64,
                           _np.uint32, _np.uint64)),
           "subtract": ("sub", (_np.int32, _np.uint32)),
           "maximum": ("max", (_np.int32, _np.int64, _np.float32, _np.float64, _np.uint32,
                               _np.uint64)),
           "minimum": ("min", (_np.int32, _np.int64, _np.float32, _np.float64, _np.uint32,
                               _np.uint64)),
           "bitwise_and": ("and", (_np.int32, _np.int64, _np.uint32, _np.uint64)),
           "bitwise_or": ("or", (_np.int32, _np.int64, _np.uint32, _np.uint64)),
           "bitwise_xor": ("xor", (_np.int32, _np.int64, _np.uint32, _np.uint64))}

    def __init__(self, uf):
        self._uf = uf
        self.__name__ = uf.__name__
        self.nin, self.nout, self.nargs = uf.nin, uf.nout, uf.nargs
        self.types = uf.types

    def __repr__(self):
        return f"<ufunc 'cupy_{self.__name__}'>"

    def __call__(self, *args, **kwargs):
        _check_ufunc_kwargs(self.__name__, kwargs)
        for x in args:
            if not _check_operand(x):
                raise TypeError(f"Unsupported type {type(x)}")
        return self._uf(*args, **kwargs)    # dispatches to ndarray.__array_ufunc__

    def at(self, a, indices, b=None):
        if self.__name__ not in self._AT:
            raise NotImplementedError(f"`{self.__name__}.at` is not supported yet")
        if not isinstance(a, ndarray):
            raise TypeError(f"fake cupy: {self.__name__}.at on {type(a)}")
        if not issubclass(a.dtype.type, self._AT[self.__name__][1]):
            raise TypeError(f"cupy.{self.__name__}.at only supports "
                            f"{self._AT[self.__name__][1]} as data type, not {a.dtype}")
        if isinstance(b, _np.ndarray) and b.ndim > 0:
            _log(f"host array value in cupy.{self.__name__}.at (CuPy copies it: core.array)")
        _check_scatter_source(a, indices, b, f"{self.__name__}.at")
        idx = _oob_wrap(a.shape, _unwrap(indices, "at", allow_host=True),
                        f"{self.__name__}.at")
        b = _unwrap(b, "at", allow_host=True)
        self._uf.at(a._a, idx, _np.asarray(b).astype(a.dtype, copy=False))

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        if self.__name__ == "add":
            return array.sum(axis, dtype, out, keepdims)
        if self.__name__ == "multiply":
            return array.prod(axis, dtype, out, keepdims)
        raise NotImplementedError(f"`{self.__name__}.reduce` is not supported yet")

    def accumulate(self, array, axis=0, dtype=None, out=None):
        if self.__name__ == "add":
            return array.cumsum(axis, dtype, out)
        if self.__name__ == "multiply":
            return array.cumprod(axis, dtype, out)
        raise NotImplementedError(f"`{self.__name__}.accumulate` is not supported yet")

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        if self.__name__ == "add":
            return _wrap(_np.add.reduceat(_unwrap(array, "reduceat"),
                                          _unwrap(indices, "reduceat"), axis, dtype))
        raise NotImplementedError(f"`{self.__name__}.reduceat` is not supported yet")

    def outer(self, A, B, **kwargs):
        return self._uf.outer(A, B, **kwargs)


# ----------------------------------------------------------------------------- functions

_HOST_OK = {"array", "asarray", "asanyarray", "asnumpy", "get_array_module"}
# functions and methods that are CuPy ufuncs underneath: C-contiguous results (NumPy's
# keep their operands' layout)
_C_RESULT = {"where", "clip", "nan_to_num", "round", "around", "fix", "real_if_close"}


def _wrap_func(name, f, allow_host=False):
    sig = _SIGS["functions"].get(name)

    def w(*args, **kwargs):
        _check_signature(f"cupy.{name}", sig, args, kwargs)
        if name in ("sort", "argsort"):
            if kwargs.get("kind") not in (None, "stable"):
                raise NotImplementedError(f"cupy {name}: only kind='stable' is supported")
            kwargs["kind"] = "stable"
        _check_devices(tuple(a for a in args if isinstance(a, ndarray)), name)
        args = _unwrap(args, name, allow_host)
        out = kwargs.get("out")
        kwargs = {k: _unwrap(v, name, allow_host) for k, v in kwargs.items()}
        r = f(*args, **kwargs)
        if isinstance(out, ndarray):
            return out
        if name in _C_RESULT and isinstance(r, _np.ndarray):
            r = r if r.flags.c_contiguous else r.copy(order="C")
        return _wrap(r)
    w.__name__ = name
    w.__qualname__ = name
    w.__module__ = "cupy"
    w._fake_of = f
    return w


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, **kw):
    dev = None
    if isinstance(obj, ndarray):
        dev = obj._dev
        obj = obj._a
    elif isinstance(obj, (list, tuple)):
        if _has_device_array(obj) and _concat_shape(obj) is None:
            # (CuPy concatenates a nested sequence only of cupy arrays of one shape; any
            # other goes through numpy.array, which calls __array__ on the cupy arrays)
            raise TypeError("Implicit conversion to a NumPy array is not allowed. Please "
                            "use `.get()` to construct a NumPy array explicitly. (fake "
                            "cupy: a sequence mixing cupy arrays with scalars, numpy "
                            "arrays or other shapes)")
        obj = _unwrap(obj, "array", allow_host=True)
    elif hasattr(obj, "__cuda_array_interface__"):
        view = _from_cuda_array_interface(obj)
        if not copy and (dtype is None or _np.dtype(dtype) == view.dtype) and not ndmin:
            return view
        dev, obj = view._dev, view._a
    a = _np.array(obj, dtype=dtype, copy=True if copy else None, order=order, ndmin=ndmin)
    if a.dtype == object:
        raise ValueError("Unsupported dtype object")
    if a is obj and not copy:
        return ndarray._from_np(a, dev)
    return ndarray._from_np(a, dev)


def _has_device_array(obj):
    if isinstance(obj, ndarray):
        return True
    return isinstance(obj, (list, tuple)) and any(_has_device_array(v) for v in obj)


def _concat_shape(obj):
    """The shape CuPy's array() concatenates a nested sequence of arrays to (all cupy or
    all numpy arrays, one shape: _compute_concat_info_impl in cupy/_core/core.pyx), or
    None (then numpy.array converts it)."""
    def info(o):
        if isinstance(o, (ndarray, _np.ndarray)):
            return o.shape, type(o)
        if isinstance(o, (list, tuple)) and len(o):
            first = info(o[0])
            if first is None or any(info(e) != first for e in o[1:]):
                return None
            return (len(o),) + first[0], first[1]
        return None
    r = info(obj)
    return None if r is None else r[0]


def _from_cuda_array_interface(obj):
    """An array over a foreign object's device memory (CuPy: over UnownedMemory, which
    holds the object)."""
    cai = obj.__cuda_array_interface__
    ptr, dtype = cai["data"][0], _np.dtype(cai["typestr"])
    shape, strides = tuple(cai["shape"]), cai.get("strides")
    if not ptr or not _np.prod(shape):
        return ndarray._from_np(_np.empty(shape, dtype))
    from ._emulate import _LIVE, _LIVE_LOCK
    with _LIVE_LOCK:
        live = list(_LIVE.items())
    for lo, r in live:
        if lo <= ptr < lo + r.nbytes:
            owner = _OWNERS.get(id(r))
            dev = owner._dev if owner is not None else _State.current
            mp = MemoryPointer((r, obj), ptr, lo, lo + r.nbytes, dev)
            return ndarray(shape, dtype, memptr=mp, strides=strides)
    raise ValueError(f"fake cupy: __cuda_array_interface__ pointer {ptr:#x} is not in a "
                     f"fake device allocation")


def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray):
        if a._dev != _State.current:     # CuPy copies an array of another GPU to this one
            return ndarray._from_np(_np.array(a._a, dtype=dtype, order=order or "K",
                                              copy=True))
        if (dtype is None or _np.dtype(dtype) == a.dtype) and order in (None, "K", "A"):
            return a
        return ndarray._from_np(_np.asarray(a._a, dtype=dtype, order=order), a._dev)
    if isinstance(a, _np.ndarray):       # host -> device: always a copy
        return ndarray._from_np(_np.array(a, dtype=dtype, order=order or "K", copy=True))
    return array(a, dtype=dtype, copy=False, order=order or "K")


asanyarray = asarray


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out)
    if hasattr(a, "__cuda_array_interface__"):
        raise NotImplementedError("fake cupy: asnumpy of a foreign CUDA array")
    return _np.asarray(a, order=order)


def get_array_module(*args):
    for a in args:
        if isinstance(a, ndarray):
            return _this
    return _np


def empty(shape, dtype=float, order="C"):
    return ndarray._from_np(_np.empty(shape, dtype, order=order))


def zeros(shape, dtype=float, order="C"):
    return ndarray._from_np(_np.zeros(shape, dtype, order=order))


def ones(shape, dtype=float, order="C"):
    return ndarray._from_np(_np.ones(shape, dtype, order=order))


class _AsHost:
    def __init__(self, x):
        self.x = x

    def __dlpack__(self, **k):
        return self.x.__dlpack__(max_version=k.get("max_version"))

    def __dlpack_device__(self):
        return (1, 0)


def from_dlpack(x, *, device=None, copy=None):
    if not hasattr(x, "__dlpack_device__"):
        raise TypeError("from_dlpack: object has no __dlpack_device__")
    kind, dev = x.__dlpack_device__()
    if int(kind) not in (2, 13):
        raise ValueError(f"fake cupy.from_dlpack: device type {kind} is not CUDA")
    return ndarray._from_np(_np.from_dlpack(_AsHost(x)), int(dev))


def fuse(*a, **k):
    """cupy.fuse: here the function itself (NumPy computes it)."""
    if a and callable(a[0]) and not k:
        return a[0]
    return lambda f: f


class _Pool:
    _limit = 0

    def malloc(self, size):
        """The default allocator (see cuda/memory.py): the new array is already counted;
        past the limit, CuPy's OutOfMemoryError."""
        used = self.used_bytes()
        if self._limit and used > self._limit:
            from .cuda.memory import OutOfMemoryError
            raise OutOfMemoryError(int(size), used - int(size), self._limit)
        return MemoryPointer(None, 0, 0, int(size), _State.current)

    def set_limit(self, size=None, fraction=None):
        if size is not None and fraction is not None:
            raise ValueError("size and fraction cannot be specified at one time")
        if fraction is not None:
            if not 0 <= fraction <= 1:
                raise ValueError(f"memory limit fraction out of range: {fraction}")
            size = int((141 << 30) * fraction)      # (Device.mem_info's total)
        self._limit = int(size or 0)

    def get_limit(self):
        return self._limit

    def used_bytes(self):
        while True:     # (other threads allocate meanwhile: take a snapshot)
            try:
                return sum(r.nbytes for r in list(_ALLOCS.values()))
            except RuntimeError:
                continue

    def total_bytes(self):
        return self.used_bytes()

    def free_all_blocks(self, stream=None):
        pass

    def n_free_blocks(self):
        return 0


_POOL, _PINNED = _Pool(), _Pool()


def get_default_memory_pool():
    return _POOL


def get_default_pinned_memory_pool():
    return _PINNED


from . import cuda  # noqa: E402
from . import random  # noqa: E402
from . import lib  # noqa: E402
from . import linalg  # noqa: E402
from . import fft  # noqa: E402
from . import testing  # noqa: E402
from ._elementwise import ElementwiseKernel  # noqa: E402

import sys as _sys  # noqa: E402

_this = _sys.modules[__name__]

_DTYPE_LIKE = (type,)
_cache = {}


def _writable_broadcast_to(array, shape, subok=False):
    # CuPy's broadcast_to is a writable view (CuPy has no read-only arrays); NumPy's is not
    b = _np.broadcast_to(array, shape)
    return _np.lib.stride_tricks.as_strided(array, b.shape, b.strides)


def _take(a, indices, axis=None, out=None):
    return _np.take(a, indices, axis, out, mode="wrap")


def _take_along_axis(a, indices, axis):
    return a[_oob_wrap(a.shape, _along_axis_index(a.shape, indices, axis), "take_along_axis")]


def _put_along_axis(arr, indices, values, axis):
    # (CuPy: arr[fancy] = values, the scatter kernel: wraps; which of duplicates lands is
    # undefined; an overlapping source is read while written)
    if isinstance(values, _np.ndarray) and values.size and arr.size and \
            _np.shares_memory(arr, values):
        raise RuntimeError("fake cupy: put_along_axis from a value that shares memory with "
                           "the array (CuPy's scatter kernel reads it while writing)")
    idx = _oob_wrap(arr.shape, _along_axis_index(arr.shape, indices, axis), "put_along_axis")
    if not _setitem_first_wins(arr, idx, values):
        arr[idx] = values


def _along_axis_index(shape, indices, axis):
    """CuPy's _make_along_axis_idx: the fancy index that take/put_along_axis use."""
    if indices.dtype.kind not in "iu":
        raise IndexError("`indices` must be an integer array")
    if axis is None:
        raise NotImplementedError("fake cupy: take/put_along_axis with axis=None")
    if len(shape) != indices.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    axis = axis % len(shape)
    fancy = []
    for d, n in enumerate(shape):
        if d == axis:
            fancy.append(indices)
        else:
            fancy.append(_np.arange(n).reshape((1,) * d + (-1,) + (1,) * (len(shape) - d - 1)))
    return tuple(fancy)


_OVERRIDES = {"broadcast_to": _writable_broadcast_to, "take": _take, "put": _put,
              "take_along_axis": _take_along_axis, "put_along_axis": _put_along_axis}


def __getattr__(name):
    if name in _OVERRIDES and name not in _cache:
        f = _wrap_func(name, _OVERRIDES[name])
        _cache[name] = f
    if name in _cache:
        return _cache[name]
    if name not in _CUPY_NAMES or not hasattr(_np, name):
        raise AttributeError(f"fake cupy: module 'cupy' has no attribute {name!r}")
    obj = getattr(_np, name)
    if isinstance(obj, _np.ufunc):
        obj = ufunc(obj)
    elif (callable(obj) and not isinstance(obj, type)):
        obj = _wrap_func(name, obj, allow_host=name in _HOST_OK)
    _cache[name] = obj
    return obj
