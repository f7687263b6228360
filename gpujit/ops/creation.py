"""Tensor creation: `tensor`, `as_tensor`, `from_numpy`, `from_dlpack`, and the factory ops
(`zeros`, `ones`, `full`, `empty`, `*_like`, `arange`, `linspace`, `eye`).

Factory ops are registry ops (the tracer and the script compiler see them); their public
Python functions take PyTorch's varargs sizes (`zeros(2, 3)`, `zeros((2, 3))`) and
`requires_grad`, and are listed in `PUBLIC` for `gpujit/__init__.py`.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence as _Sequence

import numpy as np

from .. import dtypes as _dt
from .. import runtime_flags as _rflags
from ..device import default_device as _default_device
from ..device import cpu as _cpu, resolve as _resolve, device_of_array, xp_for, require_cupy
from . import fma as _fma
from . import kernel_names as _kernel_names
from . import memory_format as _mf
from . import registry as _reg
from .meta import TensorMeta
from .registry import op, OPS, scalar_to

PUBLIC = {}


def public(fn):
    PUBLIC[fn.__name__] = fn
    return fn


def _default(dtype):
    return _dt.get_default_dtype() if dtype is None else dtype


def check_sizes(size, name=None):
    """size, or PyTorch's error for a negative size of a factory (`name`): torch.zeros'
    "zeros: Dimension size must be non-negative.", the others' "Trying to create tensor
    with negative dimension -1: [-1, 2]". The factory ops check it themselves, so that
    scripted code (which calls them with the size it computed) raises it too, not
    NumPy's ValueError."""
    for s in size:
        if s < 0:       # (the words of the ops that word it their own way: registry's)
            raise RuntimeError(_reg._NEGATIVE_SIZE_WORDS.get(
                f"aten::{name}", f"Trying to create tensor with negative dimension {s}: "
                                 f"{list(size)}"))
    return size


def _size_arg(size, name=None):
    for s in size:      # (the common call, zeros(4, 4): plain non-negative ints)
        if type(s) is not int or s < 0:
            break
    else:
        return list(size)
    if len(size) == 1 and isinstance(size[0], _reg._Tensor):    # zeros(t): a bare Tensor
        d = size[0]._data
        if d.size != 1 or d.dtype.kind not in "iub":
            raise TypeError(f"{name or 'size'}(): argument 'size' (position 1) must be "
                            f"tuple of ints, not Tensor")
    given = size
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            if isinstance(s, _reg._Tensor):     # (PyTorch reads a Tensor's int)
                return _size_arg(_tensor_sizes(size, name), name)
            if name is not None:     # PyTorch's parser TypeError for its `size` argument
                from .._tensor_conversions import _method_sizes
                _method_sizes(name, given)
            raise TypeError(f"size must be a sequence of ints, got {list(size)!r}")
        if s < 0:
            check_sizes(size, name)
    # ints stay the objects given (a traced size keeps its graph value); NumPy ints convert
    return [s if isinstance(s, int) else int(s) for s in size]


def _no_size(name):
    """zeros() / ones() / empty(): no size (PyTorch's parser error; torch.zeros(()) is a
    0-dim tensor)."""
    raise TypeError(f'{name}() missing 1 required positional arguments: "size"')


def keyword_size(name, sizes, size):
    """The sizes of a factory taking `*sizes` called with `size=` (PyTorch's parser's
    name for its `tuple of ints size` parameter: torch.zeros(size=(2, 3)),
    x.new_ones(size=[2])): a size both ways, or one that is no sequence of ints, is its
    TypeError. (The ordinary call pays one `is` test.)"""
    if sizes:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    if not isinstance(size, (list, tuple)):
        from .parser_errors import _typename
        raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not "
                        f"{_typename(size)}")
    for i, s in enumerate(size):
        if (not isinstance(s, (int, np.integer)) or isinstance(s, bool)) and not (
                isinstance(s, _reg._Tensor) and s._data.size == 1
                and s._data.dtype.kind in "iub"):
            from .parser_errors import _typename
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos "
                            f"{i + 1} with error \"type must be tuple of ints,but got "
                            f"{_typename(s)}\"")
    return (tuple(size),)


_MISSING = object()


def _sequence_size(size, name, arg="size", pos=1):
    """PyTorch's TypeError for a bare int or Tensor given as the int[] `size` of a factory
    that takes more than one positional argument (full(3, 1.0): no varargs there)."""
    if isinstance(size, (int, np.integer, _reg._Tensor)) and not isinstance(size, bool):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be tuple of ints, "
                        f"not {'Tensor' if isinstance(size, _reg._Tensor) else 'int'}")


def _tensor_sizes(size, name):
    """A size holding Tensors as PyTorch's argument parser reads it: a Tensor with one
    integral element (bool included) is its int; a lone other Tensor, or a float one among
    the sizes, its TypeError."""
    out = []
    where = f"{name}(): argument 'size' (position 1)" if name else "argument 'size'"
    for i, s in enumerate(size):
        if isinstance(s, _reg._Tensor):
            d = s._data
            if d.size != 1 or d.dtype.kind not in "iub":
                if i:       # (PyTorch's parser's unpacking of an element past the first)
                    raise TypeError(f"{name}(): argument 'size' failed to unpack the object "
                                    f"at pos {i + 1} with error \"type must be tuple of "
                                    f"ints,but got Tensor\"")
                raise TypeError(f"{where} must be tuple of ints, but found element of type "
                                f"Tensor at pos {i}")
            if d.dtype.kind == "b":     # (passes the parser of a SymInt[], not its cast)
                raise RuntimeError(_reg._BOOL_SYMINT_LIST)
            s = int(d.reshape(()).item())
        out.append(s)
    return out


def _finish(t, requires_grad, out=None, name=None):
    """A factory's result; with out= it is written into out (resized to its shape, in
    out's dtype and device, which the factory was asked to use) and out is returned.
    Factory `name` called with out= ends as PyTorch's Python binding does
    (`.set_requires_grad(requires_grad)`: an out that is a leaf is left requiring grad only
    when requires_grad=True; written under no_grad, one that required grad no longer
    does), after its autograd fallback (an out with a history gets a NotImplemented
    grad_fn)."""
    if requires_grad.__class__ is not bool:
        raise TypeError(f"{name or 'tensor'}(): argument 'requires_grad' must be bool, not "
                        f"{_reg.type_name(requires_grad)}")
    if out is not None:
        from ..autograd.grad_mode import no_grad
        from .out_variants import resize_output
        with no_grad():     # (one write of out, one version, as PyTorch's)
            if name in ("arange", "range", "linspace", "logspace") and \
                    out._data.size == t._data.size:
                # (RangeFactories, linspace / logspace: an out of as many elements keeps
                # its shape)
                if out._data.shape != t._data.shape:
                    t = t.reshape(tuple(out._data.shape))
            elif out._data.shape != t._data.shape:    # (raw sizes: a trace records none)
                if name == "arange" and out._data.size:
                    from .._frames import warn_at_user_frame
                    n = t._data.size
                    warn_at_user_frame(
                        f"The number of elements in the out tensor of shape "
                        f"{list(out._data.shape)} is {out._data.size} which does not match "
                        f"the computed number of elements {n}. Note that this may occur as "
                        f"a result of rounding error. The out tensor will be resized to a "
                        f"tensor of shape ({n},).")
                resize_output(out, t._data.shape)
            if t is not out:        # (empty(5, out=o): no write, o._version stays)
                out.copy_(t)
        t = out
        if name is not None:
            ag = out._ag
            if ag is not None and ag.requires_grad:
                if ag.grad_fn is None:
                    if not requires_grad:
                        ag.requires_grad = False
                else:
                    from .out_variants import fallback_grad_fn
                    fallback_grad_fn(name, (), (out,))
    if requires_grad:
        t._factory_requires_grad()
    return t


def check_pin_memory(name, pin_memory, args=(), named=None, none_ok=True):
    """A factory's pin_memory as PyTorch's parser reads it: a bool, or None where the
    schema says `bool?` (tensor() / nested_tensor() say `bool`): pin_memory='a' / 1 is its
    TypeError, not ignored. A factory of several Python signatures (rand, arange) gives
    the parser's "invalid combination" error over them."""
    if pin_memory is True:
        import gpujit
        if not gpujit.cuda.is_available():   # (torch 2.13's words without an accelerator)
            raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; "
                               "no pinned memory allocator is available on this system.")
        return
    if pin_memory.__class__ is bool or (pin_memory is None and none_ok):
        return
    from .parser_errors import _SIGNATURES
    if name in _SIGNATURES:
        from .random_ops import _refused
        e = _refused(name, args, dict(named or {}, pin_memory=pin_memory))
        if e is not None:
            raise e
    raise TypeError(f"{name}(): argument 'pin_memory' must be bool, not "
                    f"{_reg.type_name(pin_memory)}")


def _out_dtype_device(out, dtype, device, name=None, resizes=False):
    """dtype and device of a factory called with out= (out's, which dtype must match),
    after PyTorch's autograd checks of factory `name`'s out: one that requires grad cannot
    be resized (`resizes`: randn and empty resize out before filling it), and with grad
    mode on a leaf that requires grad is refused."""
    if out is None:
        return dtype, device
    if name is not None and out.requires_grad:
        if resizes:
            raise RuntimeError("cannot resize variables that require grad")
        from ..autograd.grad_mode import is_grad_enabled
        if is_grad_enabled():
            from .out_variants import check_fallback_out
            check_fallback_out(name, (out,))
    if dtype is not None and dtype != out.dtype:
        raise RuntimeError(f"dtype {dtype} does not match the dtype of the out= tensor "
                           f"({out.dtype})")
    return out.dtype, out.device


def _factory_meta(size, dtype=None, layout=None, device=None, pin_memory=None):
    return TensorMeta(_default(dtype), tuple(size), device or _cpu)


_FACTORY_TAIL = "ScalarType? dtype=None, Layout? layout=None, Device? device=None, " \
                "bool? pin_memory=None) -> Tensor"


@op(f"aten::zeros(SymInt[] size, *, {_FACTORY_TAIL}", tags={"factory"}, function=False,
    method=False, meta=_factory_meta)
def _zeros(xp, size, dtype=None, layout=None, device=None, pin_memory=None):
    return xp.zeros(check_sizes(size, "zeros"), dtype=_default(dtype).np)


@op(f"aten::ones(SymInt[] size, *, {_FACTORY_TAIL}", tags={"factory"}, function=False,
    method=False, meta=_factory_meta)
def _ones(xp, size, dtype=None, layout=None, device=None, pin_memory=None):
    return xp.ones(check_sizes(size), dtype=_default(dtype).np)


@op(f"aten::empty.memory_format(SymInt[] size, *, {_FACTORY_TAIL[:-11]}, "
    "MemoryFormat? memory_format=None) -> Tensor", tags={"factory"}, function=False,
    method=False, meta=lambda size, dtype=None, layout=None, device=None, pin_memory=None,
    memory_format=None: _factory_meta(size, dtype, device=device))
def _empty(xp, size, dtype=None, layout=None, device=None, pin_memory=None,
           memory_format=None):
    fmt = _mf.canonical(memory_format, _mf.CONTIGUOUS)
    if fmt == _mf.PRESERVE:
        raise RuntimeError("unsupported memory format Preserve")
    out = _mf.empty(xp, check_sizes(size), _default(dtype).np, _mf.format_order(fmt, len(size)))
    if _rflags._state["deterministic"]:
        uninitialized(out)
    return out


def uninitialized(out):
    """out, an array of uninitialized memory: filled as torch fills it when deterministic
    algorithms and torch.utils.deterministic.fill_uninitialized_memory are on (NaN for
    floating and complex dtypes, the largest value for integers, True for bool)."""
    st = _rflags._state
    if st["deterministic"] and st["fill_uninitialized_memory"] and out.size:
        k = out.dtype.kind
        out.fill(math.nan if k in "fc" else True if k == "b" else np.iinfo(out.dtype).max)
    return out


def _fill_dtype(fill_value, dtype):
    if dtype is not None:
        return dtype
    return _reg.scalar_kind(fill_value)[0]


@op(f"aten::full(SymInt[] size, Scalar fill_value, *, {_FACTORY_TAIL}", tags={"factory"},
    function=False, method=False,
    meta=lambda size, fill_value, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_fill_dtype(fill_value, dtype), tuple(size), device or _cpu))
def _full(xp, size, fill_value, dtype=None, layout=None, device=None, pin_memory=None):
    from .shape_index import cast_scalar     # wraps like PyTorch (uint8 fill -1 -> 255)
    npdt = _fill_dtype(fill_value, dtype).np
    return xp.full(check_sizes(size), cast_scalar(fill_value, npdt), dtype=npdt)


# `torch.tensor(x)` / `torch.as_tensor(x)` in scripted code, on a number or a list of
# numbers (gpujit.tensor itself takes any data in Python): the overload fixes the dtype
# rule, as PyTorch infers it (float -> the default float dtype, int -> int64, bool -> bool)
# (a float accepts an int; "complex": the default complex dtype, read at call time)
_TENSOR_KINDS = {"bool": _dt.bool, "int": _dt.int64, "float": None, "complex": "complex"}


def _inferred_dtype(inferred):
    if inferred == "complex":
        return _dt.get_default_complex_dtype()
    return inferred or _dt.get_default_dtype()


def c_cast_int(v, npdt):
    """A Python number stored into an integer dtype as TorchScript's torch.tensor(x,
    dtype=...) does (a C cast, no overflow check): a float truncated toward zero (nan, inf
    and values past int64 become int64's minimum, as x86 converts them), then wrapped to
    the dtype's width (300 -> uint8 44, -1 -> 255, -0.5 -> 0)."""
    if isinstance(v, float):
        v = int(v) if v == v and -2.0 ** 63 <= v < 2.0 ** 63 else -2 ** 63
    bits = npdt.itemsize * 8
    v = int(v) & ((1 << bits) - 1)
    return v - (1 << bits) if npdt.kind == "i" and v >> (bits - 1) else v


def _tensor_data(xp, t, dtype, inferred):
    """The array of torch.tensor(t, dtype=dtype) in scripted code for a number or a flat
    list t whose elements' kind gives the dtype `inferred` (None: the default dtype)."""
    dt = dtype if dtype is not None else _inferred_dtype(inferred)
    if inferred is _dt.int64 and dtype is None and isinstance(t, list) and not t:
        # (torch 2.13's TORCH_WARN in register_special_ops.cpp, its words as they are)
        import warnings
        warnings.warn(f"Creating a tensor from an empty intlist will create a tensor of "
                      f"default floating point type  (currently "
                      f"{_dt.get_default_dtype().short_name}) in python but a tensor of "
                      f"type int in torchscript.\nPass in a dtype argument to ensure "
                      f"consistent behavior", UserWarning, stacklevel=2)
    npdt = np.dtype(dt.np)
    # (TorchScript stores float data in the default dtype first and casts that
    # tensor to dtype: its torch.tensor([0.1], dtype=torch.float64) is float32's
    # 0.1 and a float32 overflow raises; gpujit keeps eager's values, as
    # torch.tensor in Python gives them: scripted and eager code agree)
    if inferred is _dt.int64 and npdt.kind not in "iub":
        # (an int64 tensor cast: int64 -> float32 rounds once, as C's cast)
        return xp.asarray(np.asarray(t, dtype=np.int64).astype(npdt))
    if npdt.kind in "iu":
        t = [c_cast_int(v, npdt) for v in t] if isinstance(t, list) else \
            c_cast_int(t, npdt)
    return xp.asarray(t, dtype=npdt)


def _nested_sizes(data):
    """The sizes and the flat elements of a nested list of numbers (TorchScript's
    aten::tensor of an int[][] ...), with its error for a ragged one."""
    sizes, level = [], data
    while isinstance(level, list):
        sizes.append(len(level))
        if not level:
            break
        level = level[0]
    flat, stack = [], [(data, 0)]
    while stack:
        x, dim = stack.pop()
        if dim == len(sizes):
            if isinstance(x, list):
                raise RuntimeError(f"Expected sequence of length 0 at dim {dim} "
                                   f"(got {len(x)})")
            if not isinstance(x, (bool, int, float)):
                # TorchScript's words (torch.tensor([None]) compiles: t[] takes any list)
                name = {type(None): "NoneType", str: "str"}.get(type(x), type(x).__name__)
                raise RuntimeError(f"Input must be of ints, floats, or bools, got {name}")
            flat.append(x)
            continue
        if not isinstance(x, list) or len(x) != sizes[dim]:
            got = len(x) if isinstance(x, list) else "a number"
            raise RuntimeError(f"Expected sequence of length {sizes[dim]} at dim {dim} "
                               f"(got {got})")
        stack.extend((e, dim + 1) for e in reversed(x))
    return sizes, flat


def _leaf_dtype(flat):
    """The dtype TorchScript infers from a list's elements: bool, int64, or the default
    float dtype (also for no elements)."""
    if flat and all(isinstance(v, bool) for v in flat):
        return _dt.bool
    if flat and all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                    for v in flat):
        return _dt.int64
    return None


def _tensor_list_meta(data, dtype=None, device=None, requires_grad=False):
    sizes, flat = _nested_sizes(data)
    return TensorMeta(dtype if dtype is not None else
                      (_leaf_dtype(flat) or _dt.get_default_dtype()), tuple(sizes),
                      device or _cpu)


def _declare_tensor_ops():
    for kind, inferred in _TENSOR_KINDS.items():
        for name, is_list in ((f"{kind}", False), (f"{kind}_list", True)):
            arg = f"{kind}[]" if is_list else kind

            def meta(t, dtype=None, device=None, requires_grad=False, _inferred=inferred,
                     _is_list=is_list):
                dt = dtype if dtype is not None else _inferred_dtype(_inferred)
                return TensorMeta(dt, (len(t),) if _is_list else (), device or _cpu)

            def impl(xp, t, dtype=None, device=None, requires_grad=False,
                     _inferred=inferred):
                # (requires_grad: the entry point sets it on the result)
                return _tensor_data(xp, t, dtype, _inferred)
            for fn_name in ("tensor", "as_tensor"):
                # aten::tensor.int(int t, *, ScalarType? dtype=None, Device? device=None,
                # bool requires_grad=False); as_tensor has no requires_grad
                rg = ", bool requires_grad=False" if fn_name == "tensor" else ""
                op(f"aten::{fn_name}.{name}({arg} t, *, ScalarType? dtype=None, "
                   f"Device? device=None{rg}) -> Tensor", tags={"factory"}, function=False,
                   method=False, meta=meta)(impl)


_declare_tensor_ops()


# (after the typed overloads: scripted torch.tensor([1, 2]) keeps resolving to those)
@op("aten::tensor(t[] data, *, ScalarType? dtype=None, Device? device=None, "
    "bool requires_grad=False) -> Tensor", tags={"factory"}, function=False, method=False,
    meta=_tensor_list_meta)
def tensor_nested(xp, data, dtype=None, device=None, requires_grad=False):
    """TorchScript's aten::tensor of a list of any depth (an int[][] in a graph parsed
    from TorchScript's IR text; gpujit's own scripted torch.tensor([[...]]) stacks the
    rows' tensors): a rectangular nested list of numbers, its dtype inferred from them."""
    # (requires_grad: the entry point sets it on the result)
    sizes, flat = _nested_sizes(data)
    return _tensor_data(xp, flat, dtype, _leaf_dtype(flat)).reshape(sizes)


@op("aten::as_tensor.list(t[] data, *, ScalarType? dtype=None, Device? device=None) -> "
    "Tensor", tags={"factory"}, function=False, method=False, meta=_tensor_list_meta)
def as_tensor_nested(xp, data, dtype=None, device=None):
    """TorchScript's aten::as_tensor of a list of any depth (torch.as_tensor(v) of a
    List[List[float]] in scripted code; flat lists keep the typed overloads above): as
    aten::tensor of it, the data copied."""
    sizes, flat = _nested_sizes(data)
    return _tensor_data(xp, flat, dtype, _leaf_dtype(flat)).reshape(sizes)


@public
def zeros(*sizes, size=_MISSING, dtype=None, device=None, requires_grad=False,
          layout=None, out=None, pin_memory=False):
    check_pin_memory("zeros", pin_memory)
    size = sizes if size is _MISSING else keyword_size("zeros", sizes, size)
    dtype, device = _out_dtype_device(out, dtype, device, "zeros")
    return _finish(OPS["aten::zeros"].public(_size_arg(size or _no_size("zeros"), "zeros"), dtype=dtype, layout=layout, device=device),
                   requires_grad, out, "zeros")


@public
def ones(*sizes, size=_MISSING, dtype=None, device=None, requires_grad=False,
         layout=None, out=None, pin_memory=False):
    check_pin_memory("ones", pin_memory)
    size = sizes if size is _MISSING else keyword_size("ones", sizes, size)
    dtype, device = _out_dtype_device(out, dtype, device, "ones")
    return _finish(OPS["aten::ones"].public(_size_arg(size or _no_size("ones"), "ones"), dtype=dtype, layout=layout, device=device),
                   requires_grad, out, "ones")


@public
def empty(*sizes, size=_MISSING, dtype=None, device=None, requires_grad=False,
          layout=None, out=None,
          memory_format=None, pin_memory=False):
    check_pin_memory("empty", pin_memory)
    size = sizes if size is _MISSING else keyword_size("empty", sizes, size)
    if not size:
        _no_size("empty")
    if out is not None:           # PyTorch only resizes out; its values are left as they are
        _out_dtype_device(out, dtype, device, "empty", resizes=True)
        out.resize_(_size_arg(size, "empty"))
        return _finish(out, requires_grad, out, "empty")
    return _finish(OPS["aten::empty.memory_format"].public(
        _size_arg(size, "empty"), dtype=dtype, layout=layout, device=device,
        memory_format=memory_format),
        requires_grad, None, "empty")


@public
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
         out=None, pin_memory=False):
    check_pin_memory("full", pin_memory)
    _sequence_size(size, "full")
    dtype, device = _out_dtype_device(out, dtype, device, "full")
    return _finish(OPS["aten::full"].public(_size_arg((size,), "full"), fill_value, dtype=dtype,
                                            layout=layout, device=device), requires_grad, out, "full")


def _like_meta(self, *args, dtype=None, layout=None, device=None, pin_memory=None,
               memory_format=None):
    return TensorMeta(dtype or self.dtype, tuple(self.shape), device or self.device)


_LIKE_TAIL = "ScalarType? dtype=None, Layout? layout=None, Device? device=None, " \
             "bool? pin_memory=None, MemoryFormat? memory_format=None) -> Tensor"


def _like_np(self, dtype):
    return (dtype.np if dtype is not None else self.dtype)


def like_order(self, memory_format):
    """The memory order of a *_like factory's result: self's (preserve_format, the
    default: PyTorch's empty_like) or memory_format's."""
    return _mf.order_for(self, _mf.canonical(memory_format))


def _like_strides(xp, out, self, memory_format):
    """A preserve_format result with self's own strides where PyTorch's empty_like copies
    them (a tensor with no elements, the strides of size-1 dims)."""
    if _mf.canonical(memory_format) != _mf.PRESERVE:
        return out
    return _mf.keep_strides(xp, out, self)


def like_alloc(xp, make, self, memory_format):
    """make(sizes) (values in C order) laid out as a *_like factory's result."""
    return _like_strides(xp, _mf.alloc(xp, make, self.shape, like_order(self, memory_format)),
                         self, memory_format)


def like_contiguous(self, memory_format):
    """Whether a *_like factory's result is contiguous (randn_like's normal_ then takes
    ATen's vectorized fill, else its scalar sampler in memory order)."""
    return _mf.contiguous_order(self.shape, like_order(self, memory_format))


def _like_filled(xp, self, npdt, memory_format, value):
    out = _like_strides(xp, _mf.empty(xp, self.shape, npdt, like_order(self, memory_format)),
                        self, memory_format)
    if value is not None:
        out.fill(value)
    return out


def _new_meta(self, size, dtype=None, layout=None, device=None, pin_memory=None):
    return TensorMeta(dtype or self.dtype, tuple(size), device or self.device)


def _new_full_meta(self, size, fill_value, dtype=None, layout=None, device=None,
                   pin_memory=None):
    return _new_meta(self, size, dtype, device=device)


# x.new_zeros(size) & co.: self's dtype and device unless given. Ops of their own (as in
# TorchScript), so a trace records them on x and follows the dtype and device of its input
@op(f"aten::new_zeros(Tensor self, SymInt[] size, *, {_FACTORY_TAIL}", tags={"factory"},
    function=False, method=False, meta=_new_meta)
def _new_zeros(xp, self, size, dtype=None, layout=None, device=None, pin_memory=None):
    return xp.zeros(check_sizes(size), dtype=_like_np(self, dtype))


@op(f"aten::new_ones(Tensor self, SymInt[] size, *, {_FACTORY_TAIL}", tags={"factory"},
    function=False, method=False, meta=_new_meta)
def _new_ones(xp, self, size, dtype=None, layout=None, device=None, pin_memory=None):
    return xp.ones(check_sizes(size), dtype=_like_np(self, dtype))


@op(f"aten::new_empty(Tensor self, SymInt[] size, *, {_FACTORY_TAIL}", tags={"factory"},
    function=False, method=False, meta=_new_meta)
def _new_empty(xp, self, size, dtype=None, layout=None, device=None, pin_memory=None):
    out = xp.empty(check_sizes(size), dtype=_like_np(self, dtype))
    if _rflags._state["deterministic"]:
        uninitialized(out)
    return out


@op(f"aten::new_full(Tensor self, SymInt[] size, Scalar fill_value, *, {_FACTORY_TAIL}",
    tags={"factory"}, function=False, method=False, meta=_new_full_meta)
def _new_full(xp, self, size, fill_value, dtype=None, layout=None, device=None,
              pin_memory=None):
    from .shape_index import cast_scalar
    npdt = _like_np(self, dtype)
    return xp.full(check_sizes(size), cast_scalar(fill_value, npdt), dtype=npdt)


@op(f"aten::zeros_like(Tensor self, *, {_LIKE_TAIL}", tags={"factory"}, method=False,
    meta=lambda self, dtype=None, layout=None, device=None, pin_memory=None,
    memory_format=None: _like_meta(self, dtype=dtype, device=device))
def zeros_like(xp, self, dtype=None, layout=None, device=None, pin_memory=None,
               memory_format=None):
    return _like_filled(xp, self, _like_np(self, dtype), memory_format, 0)


@op(f"aten::ones_like(Tensor self, *, {_LIKE_TAIL}", tags={"factory"}, method=False,
    meta=lambda self, dtype=None, layout=None, device=None, pin_memory=None,
    memory_format=None: _like_meta(self, dtype=dtype, device=device))
def ones_like(xp, self, dtype=None, layout=None, device=None, pin_memory=None,
              memory_format=None):
    return _like_filled(xp, self, _like_np(self, dtype), memory_format, 1)


@op(f"aten::empty_like(Tensor self, *, {_LIKE_TAIL}", tags={"factory"}, method=False,
    meta=lambda self, dtype=None, layout=None, device=None, pin_memory=None,
    memory_format=None: _like_meta(self, dtype=dtype, device=device))
def empty_like(xp, self, dtype=None, layout=None, device=None, pin_memory=None,
               memory_format=None):
    out = _like_filled(xp, self, _like_np(self, dtype), memory_format, None)
    if _rflags._state["deterministic"]:
        uninitialized(out)
    return out


@op(f"aten::full_like(Tensor self, Scalar fill_value, *, {_LIKE_TAIL}", tags={"factory"},
    method=False,
    meta=lambda self, fill_value, dtype=None, layout=None, device=None, pin_memory=None,
    memory_format=None: _like_meta(self, dtype=dtype, device=device))
def full_like(xp, self, fill_value, dtype=None, layout=None, device=None, pin_memory=None,
              memory_format=None):
    from .shape_index import cast_scalar
    npdt = _like_np(self, dtype)
    return _like_filled(xp, self, npdt, memory_format, cast_scalar(fill_value, npdt))


def _arange_dtype(start, end, step, dtype):
    if dtype is not None:
        return dtype
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
           for v in (start, end, step)):
        return _dt.int64
    return _dt.get_default_dtype()


def _arange_len(start, end, step, dtype=None):
    """torch 2.13's arange size (RangeUtils.h compute_arange_size): checks on the values
    as doubles; an int64 result takes start, end and step truncated to int64 first
    (arange(0, 3, 1.5, dtype=torch.int64) has 3 elements, step 1; a step truncated to 0 is
    its ValueError), any other dtype ceil((end - start) / step) in double."""
    ds, de, dst = float(start), float(end), float(step)
    if dst == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(ds) and math.isfinite(de)):
        raise RuntimeError(f"unsupported range: {_range_words(start)} -> {_range_words(end)}")
    if (dst > 0 and de < ds) or (dst < 0 and de > ds):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is _dt.int64:
        xs, xe, xst = int(start), int(end), int(step)
        if any(type(v) is int and not -(1 << 63) <= v < (1 << 63) for v in (start, end, step)):
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
        if xst == 0:
            raise ValueError("step must be nonzero")
        sgn = (xst > 0) - (xst < 0)
        # (C++'s int64 arithmetic, which wraps: arange(0, 2**63 - 1, 2**62) overflows to a
        # negative size; its integer division: toward zero)
        num = (xe - xs + xst - sgn + (1 << 63)) % (1 << 64) - (1 << 63)
        q = abs(num) // abs(xst)
        q = q if (num >= 0) == (xst > 0) else -q
        if q < 0 and num != xe - xs + xst - sgn:
            raise RuntimeError("invalid size, possible overflow?")
        return max(0, q)
    size = math.ceil((de - ds) / dst)
    if size > 9223372036854775807:      # (arange(1e20): more than int64 counts)
        raise RuntimeError("invalid size, possible overflow?")
    return max(0, size)


def _range_words(v):
    """A bound as the C++ stream prints it in arange's "unsupported range" (inf, nan)."""
    return f"{float(v):g}"      # (C++'s default float format: 0, 0.5, inf, 1e+20)


@op(f"aten::arange.start_step(Scalar start, Scalar end, Scalar step=1, *, {_FACTORY_TAIL}",
    tags={"factory"}, function=False, method=False,
    meta=lambda start, end, step=1, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_arange_dtype(start, end, step, dtype),
               (_arange_len(start, end, step, _arange_dtype(start, end, step, dtype)),),
               device or _cpu))
def _arange(xp, start, end, step=1, dtype=None, layout=None, device=None, pin_memory=None):
    """start + i * step in the accumulation type (torch's acc_type: int64 for integer
    dtypes, start and step truncated to it first; double for floating ones, the multiply-add
    rounded once as x86 builds contract it), then cast to the dtype."""
    dt = _arange_dtype(start, end, step, dtype)
    if dt is _dt.bool:
        raise _kernel_names.not_implemented("arange_cpu", xp, "Bool")
    n = _arange_len(start, end, step, dt)
    i = xp.arange(n, dtype=np.int64)
    if dt.category != _dt.FLOATING:
        r = int(start) + i * int(step)
    else:
        r = _fma.fma64(float(step), i.astype(np.float64), float(start), xp)
    return r.astype(dt.np)


@op(f"aten::arange(Scalar end, *, {_FACTORY_TAIL}", tags={"factory"}, function=False,
    method=False,
    meta=lambda end, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_arange_dtype(0, end, 1, dtype),
               (_arange_len(0, end, 1, _arange_dtype(0, end, 1, dtype)),), device or _cpu))
def _arange_end(xp, end, dtype=None, layout=None, device=None, pin_memory=None):
    """torch.arange(n): the overload PyTorch's binding calls (and a trace records,
    `torch.arange(3, dtype=None, ...)`) for one bound."""
    return _arange(xp, 0, end, 1, dtype)


@op(f"aten::arange.start(Scalar start, Scalar end, *, {_FACTORY_TAIL}", tags={"factory"},
    function=False, method=False,
    meta=lambda start, end, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_arange_dtype(start, end, 1, dtype),
               (_arange_len(start, end, 1, _arange_dtype(start, end, 1, dtype)),),
               device or _cpu))
def _arange_start(xp, start, end, dtype=None, layout=None, device=None, pin_memory=None):
    """torch.arange(a, b): PyTorch's overload for two bounds (start_step only with a step
    given, 1 too)."""
    return _arange(xp, start, end, 1, dtype)


def _arange_call(start, end, step, extra, kw, named):
    """arange's call with an argument too many, a keyword it has no parameter for, or
    no `start`: PyTorch's parser TypeError, or the `end` of arange(end=...)."""
    from .random_ops import _refused
    if start is _MISSING:
        args = ()
        kw = dict(kw, **{k: v for k, v in (("end", end), ("step", step))
                         if not (k == "end" and v is None or k == "step" and v == 1)})
    else:
        args = (start,) if end is None and step == 1 and not extra else \
            (start, end) + ((step,) if step != 1 or extra else ()) + tuple(extra)
    e = _refused("arange", args, dict(named, **kw))
    if e is not None:
        raise e
    if "end" in kw and not args and set(kw) <= {"end"}:
        return kw["end"]
    raise TypeError("arange() received an invalid combination of arguments")


_NO_STEP = object()     # (no step given: a given one, 1 too, makes it start_step)
_NO_END = object()      # (no end given: arange(5); an end of None is refused)


@public
def arange(start=_MISSING, end=_NO_END, step=_NO_STEP, *_a, dtype=None, device=None,
           requires_grad=False, layout=None, out=None, pin_memory=False, **_kw):
    check_pin_memory("arange", pin_memory, tuple(v for v in (start, end, step) if v not in (
        _MISSING, _NO_END, _NO_STEP)) + _a, dict(_kw, dtype=dtype, device=device, layout=layout,
                                                  out=out, requires_grad=requires_grad))
    stepped = step is not _NO_STEP
    if end is None:
        # (an end of None, no end omitted: no overload of PyTorch's parser takes it)
        from .random_ops import _refused
        raise _refused("arange", (start, None) + ((step,) if stepped else ()), dict(
            dtype=dtype, device=device, layout=layout, out=out, requires_grad=requires_grad)
        ) or TypeError("arange(): argument 'end' must be Number, not NoneType")
    end = None if end is _NO_END else end
    step = 1 if not stepped else step
    if stepped and end is None and start is not _MISSING:     # arange(5, step=2)
        _kw, step = dict(_kw, step=step), 1
    if _a or _kw or start is _MISSING:
        # (PyTorch's parser over arange's three signatures: arange(0, 10, 2, 1) and
        # arange() are its "invalid combination"; arange(end=5) is arange(5))
        start = _arange_call(start, end, step, _a, _kw, dict(
            dtype=dtype, device=device, layout=layout, out=out, requires_grad=requires_grad))
        end = None
    # (PyTorch's overload by the bounds given: arange(end), arange.start(start, end),
    # arange.start_step(start, end, step), which a trace records)
    given = (start,) if end is None else (start, end) if not stepped else (start, end, step)
    vals = [v.item() if isinstance(v, _reg._Tensor) else v for v in given]
    name = ("aten::arange", "aten::arange.start", "aten::arange.start_step")[len(given) - 1]
    try:
        dtype, device = _out_dtype_device(out, dtype, device, "arange")
        return _finish(OPS[name].public(*vals, dtype=dtype, layout=layout, device=device),
                       requires_grad, out, "arange")
    except TypeError:
        # (PyTorch's parser error, over arange's three Python signatures: arange('a') is
        # "argument 'end' (position 1)")
        from .random_ops import _reraise_refused
        _reraise_refused("arange", given, dict(dtype=dtype, device=device, layout=layout,
                                               out=out, requires_grad=requires_grad))


def _linspace_dtype(start, end, dtype):
    """dtype, else the default dtype; a complex start or end: the default complex one."""
    if isinstance(start, complex) or isinstance(end, complex):
        if dtype is None:
            return _dt.get_default_complex_dtype()
        if not dtype.is_complex:
            raise RuntimeError(f"torch.linspace(): inferred dtype c10::complex<float> can't be "
                               f"safely cast to passed dtype {dtype.short_name}")
    return _default(dtype)


@op(f"aten::linspace(Scalar start, Scalar end, int steps, *, {_FACTORY_TAIL}",
    tags={"factory"}, function=False, method=False,
    meta=lambda start, end, steps, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_linspace_dtype(start, end, dtype), (steps,), device or _cpu))
def _linspace(xp, start, end, steps, dtype=None, layout=None, device=None, pin_memory=None):
    """ATen's linspace kernel: the first half counts up from `start`, the second down from
    `end`, each value `start + step * i` with the multiply-add rounded once (x86 builds and
    nvcc contract it into an FMA); floats compute in their own dtype (float16 rounding
    each operation, as c10::Half), integers in double and truncate."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _dt.to_dtype(_linspace_dtype(start, end, dtype))
    npt = dt.np
    if npt.kind == "b":
        raise _kernel_names.not_implemented("linspace_cpu", xp, "Bool")
    if npt.kind == "c":
        # (ATen's complex kernel: step = (end - start) / (steps - 1) and start + step * i
        # / end - step * (steps - i - 1), in complex arithmetic)
        t = npt.type
        s, e = t(complex(start)), t(complex(end))
        if steps <= 1:
            return xp.full(steps, s if steps else 0, dtype=npt)
        step = (e - s) / t(steps - 1)
        half = steps // 2
        up = xp.arange(half).astype(npt)
        down = xp.arange(steps - half - 1, -1, -1).astype(npt)
        return xp.concatenate([s + step * up, e - step * down])
    if steps <= 1:                      # (fill_(start): `end` is never converted)
        return xp.full(steps, scalar_to(start, npt) if steps else 0, dtype=npt)
    s, e = scalar_to(start, npt), scalar_to(end, npt)
    half = steps // 2
    up = xp.arange(half, dtype=np.int64)                    # i below halfway
    down = xp.arange(steps - half - 1, -1, -1, dtype=np.int64)   # steps - i - 1 above it
    if npt.kind == "f" and npt.itemsize == 2:              # Half: each operation rounded
        t = npt.type
        step = t(t(e - s) / t(steps - 1))
        return xp.concatenate([s + up.astype(npt) * step, e - down.astype(npt) * step])
    if npt.kind == "f":
        t = npt.type
        step = t(t(e - s) / t(steps - 1))
        lo = _fma.fma(step, up.astype(npt), s, npt, xp)
        hi = _fma.fma(-step, down.astype(npt), e, npt, xp)
        return xp.concatenate([lo, hi])
    step = (float(e) - float(s)) / (steps - 1)               # integers: double
    lo = _fma.fma64(step, up.astype(np.float64), float(s), xp)
    hi = _fma.fma64(-step, down.astype(np.float64), float(e), xp)
    return _truncate(xp.concatenate([lo, hi]), npt, xp)


def _truncate(a, npt, xp):
    """double -> an integer dtype as ATen's C cast (toward zero; out of range as the host
    converts: NumPy's cast is that C cast, CuPy's saturates and is corrected)."""
    if xp is np:
        return a.astype(npt)
    from .conversion import _float_to_int_as_host
    return _float_to_int_as_host(a, _dt.from_numpy_dtype(npt)) if _dt.HOST_X86_CONVERSIONS \
        else a.astype(npt)


@public
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, layout=None,
             out=None, pin_memory=False):
    check_pin_memory("linspace", pin_memory)
    dtype, device = _out_dtype_device(out, dtype, device, "linspace")
    return _finish(OPS["aten::linspace"].public(start, end, steps, dtype=dtype, layout=layout,
                                                   device=device),
                   requires_grad, out, "linspace")


@op(f"aten::eye.m(SymInt n, SymInt m, *, {_FACTORY_TAIL}", tags={"factory"}, function=False,
    method=False,
    meta=lambda n, m, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_default(dtype), (n, m), device or _cpu))
def _eye(xp, n, m, dtype=None, layout=None, device=None, pin_memory=None):
    return xp.eye(n, m, dtype=_default(dtype).np)


@op(f"aten::eye(SymInt n, *, {_FACTORY_TAIL}", tags={"factory"}, function=False,
    method=False,
    meta=lambda n, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_default(dtype), (n, n), device or _cpu))
def _eye_n(xp, n, dtype=None, layout=None, device=None, pin_memory=None):
    # (torch.eye(n): PyTorch's own overload, `aten::eye(%n, ...)` in graphs and
    # `torch.eye(n)` in .code, not eye.m(n, n))
    return xp.eye(n, n, dtype=_default(dtype).np)


@public
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, layout=None, out=None,
        pin_memory=False):
    check_pin_memory("eye", pin_memory)
    dtype, device = _out_dtype_device(out, dtype, device, "eye")
    t = OPS["aten::eye"].public(n, dtype=dtype, layout=layout, device=device) if m is None \
        else OPS["aten::eye.m"].public(n, m, dtype=dtype, layout=layout, device=device)
    return _finish(t, requires_grad, out, "eye")


# ------------------------------------------------------------------ from data

def _other_sequence(x):
    """A Python sequence besides list and tuple (range, deque...): PyTorch reads any
    sequence as a list (torch.tensor(range(3)), x[range(2)])."""
    return isinstance(x, _Sequence) and not isinstance(x, (str, bytes, list, tuple))


def _as_lists(data):
    if isinstance(data, (list, tuple)) or _other_sequence(data):
        return [_as_lists(x) for x in data]
    return data


def _infer_dtype(data):
    """PyTorch's inference (infer_scalar_type): bools -> bool, ints -> int64, floats ->
    the default dtype, an empty sequence the default dtype, a Tensor, an ndarray or a
    NumPy scalar its own dtype; the dtypes of a sequence's items promoted
    (torch.tensor([np.float64(1.5), 2]) is float64). Returns (dtype, whether a sequence
    other than a list or tuple was seen, whether a Tensor, an ndarray or a NumPy scalar
    was seen: those go through _store_slow, element by element, as PyTorch's)."""
    kind = -1   # no element at all: the default dtype, as torch.tensor([])
    other = slow = False
    dtypes = None
    stack = [data]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is float:
            kind = max(kind, 2)
        elif t is int:
            kind = max(kind, 1)
        elif t is list or t is tuple:
            if x:
                stack.extend(x)
            else:
                kind = max(kind, 2)
        elif t is bool:
            kind = max(kind, 0)
        elif t is complex:
            kind = 3
        elif isinstance(x, (_reg._Tensor, np.ndarray, np.generic)):
            slow = True
            d = x.dtype if isinstance(x, _reg._Tensor) else _dt.from_numpy_dtype(x.dtype)
            dtypes = dtypes or set()
            dtypes.add(d)
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
            kind = kind if x else max(kind, 2)
        elif isinstance(x, bool):
            kind = max(kind, 0)
        elif isinstance(x, int):
            kind = max(kind, 1)
        elif isinstance(x, float):
            kind = max(kind, 2)
        elif isinstance(x, complex):
            kind = 3
        elif isinstance(x, numbers.Number):
            raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")
        elif isinstance(x, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
        elif _other_sequence(x):
            if len(x):
                stack.extend(x)
            else:
                kind = max(kind, 2)
            other = True
        else:
            raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")
    dt = None if kind < 0 else (_dt.bool, _dt.int64, _dt.get_default_dtype(),
                                _dt.get_default_complex_dtype)[kind]
    if kind == 3:
        dt = dt()
    for d in dtypes or ():
        dt = d if dt is None else _dt.promote_types(dt, d)
    return (dt or _dt.get_default_dtype()), other, slow


def _is_seq(x):
    """What PyTorch's compute_sizes / recursive_store read as a sequence (PySequence_Check):
    lists, tuples, ranges..., ndarrays; a Tensor is not one (its items are stored as
    scalars: torch.tensor([torch.ones(2)]) refuses)."""
    return isinstance(x, (list, tuple, np.ndarray)) or _other_sequence(x)


def _store_slow(data, dt):
    """An ndarray of dtype dt from nested sequences holding Tensors, ndarrays or NumPy
    scalars, as PyTorch's compute_sizes + recursive_store: the shape from the first item
    at each level, every leaf converted as store_scalar converts it (a float dtype by
    __float__, an integer or bool one by __index__, a Python float truncated):
    torch.tensor([torch.tensor(1.), 2]) is [1., 2.], torch.tensor([torch.ones(2)])
    raises ValueError, torch.tensor([torch.tensor(1.)], dtype=torch.int64) TypeError."""
    sizes = []
    seq = data
    while _is_seq(seq):
        if isinstance(seq, np.ndarray) and seq.ndim == 0:
            raise TypeError("len() of unsized object")
        sizes.append(len(seq))
        if not len(seq):
            break
        seq = seq[0]
    ndim = len(sizes)
    kind = np.dtype(dt.np).kind
    flat = []

    def leaf(x):
        if kind == "c" and hasattr(type(x), "__complex__"):
            return complex(x)
        if kind in "fc":
            if isinstance(x, float):
                return x
            if hasattr(type(x), "__float__"):
                return float(x)
            if hasattr(type(x), "__index__"):
                return float(x.__index__())
            raise TypeError(f"must be real number, not {type(x).__name__}")
        if kind == "b":
            if isinstance(x, (np.bool_, float)):
                return bool(x)
            return bool(_index(x))
        return x if isinstance(x, float) else _index(x)

    def store(obj, dim):
        if dim == ndim:
            flat.append(leaf(obj))
            return
        if not (_is_seq(obj) or isinstance(obj, _reg._Tensor)):
            raise TypeError("not a sequence")
        items = list(obj)
        if len(items) != sizes[dim]:
            raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} "
                             f"(got {len(items)})")
        for item in items:
            store(item, dim + 1)

    store(data, 0)
    a = np.asarray(flat)
    if a.size and kind in "iu" and a.dtype.kind in "fiu":
        _check_overflow(a, dt)
    return a.astype(dt.np).reshape(sizes)


def _index(x):
    import operator
    return operator.index(x)


def _huge_ints(data, dt):
    """The array of nested lists `data` that hold Python ints past int64 (NumPy makes
    them object or uint64 arrays), as torch 2.13 stores them: through double for a
    floating or complex dtype (torch.tensor(2**70, dtype=torch.float32)), nonzero as True
    for bool, else its ValueError "Overflow when unpacking long long" (torch.tensor([2**63]))
    or, when a float misfits first, _check_overflow's RuntimeError."""
    try:
        if dt.category == _dt.FLOATING:
            return np.asarray(data, dtype=np.float64)
        if dt.cplx:             # (through complex double: torch.tensor([2**70, 1j]))
            return np.asarray(data, dtype=np.complex128)
        if dt is _dt.bool:
            return np.asarray(data, dtype=object).astype(bool)
    except (TypeError, ValueError, OverflowError):
        pass
    else:
        if _first_misfit_is_huge_int(data, dt) is False:   # (a float first: [1e300, 2**70])
            raise RuntimeError(f"value cannot be converted to type {dt.name} without "
                               f"overflow")
        raise ValueError("Overflow when unpacking long long")
    raise ValueError("expected a sequence of equal-length sequences (got ragged nested "
                     "lists)")


def _first_misfit_is_huge_int(data, dt):
    """Whether the first item of nested lists `data` (in PyTorch's storing order) that
    _check_overflow refuses for dtype dt is a Python int outside int64's range."""
    for x in (data if isinstance(data, (list, tuple)) else [data]):
        if isinstance(x, (list, tuple)):
            r = _first_misfit_is_huge_int(x, dt)
            if r is not None:
                return r
            continue
        if type(x) is int and not -(1 << 63) <= x < 1 << 63:
            return True
        try:
            _check_overflow(np.asarray([x]), dt)
        except (RuntimeError, TypeError, ValueError):
            return False
    return None


def _uint64_array(data):
    """Python numbers (nested lists) stored as uint64, as PyTorch stores them: through
    CPython's PyLong_AsUnsignedLongLong (its OverflowErrors for a negative int or one past
    2**64, its TypeError for a float)."""
    o = np.asarray(data, dtype=object)
    for v in o.ravel():
        if isinstance(v, (float, np.floating)):
            raise TypeError("an integer is required")
        if v < 0:
            raise OverflowError("can't convert negative int to unsigned")
        if int(v) >> 64:
            raise OverflowError("int too big to convert")
    return np.array([int(v) for v in o.ravel()], dtype=np.uint64).reshape(o.shape)


def _array_from(data, dtype, dev, copy):
    """An array on dev with dtype from arbitrary data (nested lists, arrays, tensors)."""
    a, dt, d = _array_of(data, dtype, dev, copy)
    if dt is _dt.bfloat16 and not isinstance(data, _reg._Tensor) and d.type != "meta":
        # (numbers stored as c10's BFloat16(float(x)): ops/bfloat16_support.py)
        from .bfloat16_support import round_bf16
        a = round_bf16(np if d is _cpu else xp_for(d), a)
    return a, dt, d


def _array_of(data, dtype, dev, copy):
    if isinstance(data, _reg._Tensor):
        if type(data) is not _reg._Tensor and _reg.dispatch_state.torch_function is not None:
            # (a subclass's __torch_function__ does not see torch.tensor(x) read x: the
            # data of PyTorch's C++ call)
            from ..overrides import DisableTorchFunctionSubclass
            with DisableTorchFunctionSubclass():
                t = data.to(device=dev or data.device, dtype=dtype or data.dtype)
                if copy and t is data:
                    t = t.clone()
            return t._data, t._dtype, t._device
        t = data.to(device=dev or data.device, dtype=dtype or data.dtype)
        if copy and t is data:
            t = t.clone()
        return t._data, t._dtype, t._device
    if hasattr(data, "__cuda_array_interface__") or type(data).__module__.startswith("cupy"):
        cp = require_cupy()
        if not isinstance(data, cp.ndarray):   # a foreign CUDA array (numba, PyTorch...):
            data = cp.asarray(data)            # CuPy's view of its memory, holding it
        dt = dtype or _dt.from_numpy_dtype(data.dtype)
        src_dev = device_of_array(data)
        target = dev or src_dev
        xp = xp_for(target)
        from .conversion import transfer
        a = transfer(xp, data, target) if target is not src_dev else data
        a = a.astype(dt.np, copy=copy)
        return a, dt, target
    if isinstance(data, np.ndarray):
        a = np.asarray(data)
        dt = dtype or _dt.from_numpy_dtype(a.dtype)
    elif isinstance(data, np.generic):   # converted as PyTorch's store_scalar converts
        dt = dtype or _dt.from_numpy_dtype(data.dtype)   # (an np.float32 has no __index__)
        a = _store_slow(data, dt)
    elif type(data).__module__ == "torch":
        from .dlpack import from_dlpack
        return _array_of(from_dlpack(data), dtype, dev, copy)
    else:
        try:
            inferred, other, slow = _infer_dtype(data)
        except TypeError as e:
            if str(e).startswith("new(): invalid data type"):
                _str_dims(data)
            raise
        dt = dtype or inferred
        if slow:
            a = _store_slow(data, dt)
        else:
            if other:
                data = _as_lists(data)
            ragged = _ragged(data)
            if ragged is not None:
                raise ragged[0](ragged[1])
            a = np.asarray(data) if dt is not _dt.uint64 else _uint64_array(data)
            if a.dtype.kind == "c" and not dt.cplx and dt is not _dt.bool:
                # (PyTorch's store_scalar reads a Python complex as a double or an int)
                raise TypeError("must be real number, not complex" if dt.category ==
                                _dt.FLOATING else "'complex' object cannot be interpreted "
                                "as an integer")
            if a.dtype == object or (a.dtype == np.uint64 and a.size and dt is not _dt.uint64):
                a = _huge_ints(data, dt)
            if a.size and np.dtype(dt.np).kind in "iu" and a.dtype.kind in "fiu":
                try:
                    _check_overflow(a, dt)
                except RuntimeError:
                    # (NumPy made [2**63, 1] float64; PyTorch stores the items in order
                    # and reads an int as a long long: its ValueError, as _huge_ints has
                    # it, when such an int is the first item that does not fit)
                    if a.dtype.kind == "f" and _first_misfit_is_huge_int(data, dt):
                        raise ValueError("Overflow when unpacking long long") from None
                    raise
    if a.dtype != dt.np:
        if a.dtype.kind == "c" and not dt.cplx:
            from .conversion import discard_imaginary, _convert
            a = _convert(a, dt) if dt is _dt.bool else discard_imaginary(a)
        a = a.astype(dt.np)
    elif copy:
        a = a.copy()
    target = dev or _cpu
    if target.type == "meta":       # (torch.tensor(data, device='meta'): its sizes only)
        from .._meta import MetaArray
        return MetaArray(a.shape, a.dtype), dt, target
    if target is not _cpu:
        from .conversion import transfer
        a = transfer(xp_for(target), a, target)
    return a, dt, target


def _str_dims(data):
    """A str reached through the first items of nested sequences: PyTorch's
    compute_sizes descends into it (a str is a sequence) until "too many dimensions"."""
    if isinstance(data, (str, bytes)):
        return
    while isinstance(data, (list, tuple)) or _other_sequence(data):
        if not len(data):
            return
        data = data[0]
    if isinstance(data, (str, bytes)):
        raise ValueError(f"too many dimensions '{type(data).__name__}'")


def _ragged(data, dim=0):
    """(exception class, PyTorch's words) for nested lists of unequal lengths ("expected
    sequence of length 2 at dim 1 (got 1)"), or None when they are rectangular."""
    if not isinstance(data, (list, tuple)) or not data:
        return None
    seqs = [isinstance(x, (list, tuple)) for x in data]
    if not any(seqs):
        return None
    if not all(seqs):          # numbers and lists mixed: PyTorch's TypeErrors
        return (TypeError, "not a sequence" if seqs[0] else
                "'list' object cannot be interpreted as an integer")
    n = len(data[0])
    for x in data[1:]:
        if len(x) != n:
            return ValueError, f"expected sequence of length {n} at dim {dim + 1} " \
                               f"(got {len(x)})"
    for x in data:
        why = _ragged(x, dim + 1)
        if why is not None:
            return why
    return None


def _check_overflow(a, dt):
    """Python numbers stored into an integer dtype: PyTorch's checked conversion (c10's
    `overflows`): a float must lie within the dtype's range (nan and inf never do); an
    int within it too, but an unsigned dtype also takes negatives down to -max, which
    wrap (torch.tensor(-1, dtype=torch.uint8) is 255)."""
    info = np.iinfo(dt.np)
    if a.dtype.kind == "f":     # (int64's max is no float: compare with 2**63 itself)
        hi = a.max() > info.max if info.bits < 53 else a.max() >= 2.0 ** (info.bits - (
            info.min < 0))
        bad = not np.isfinite(a).all() or a.min() < info.min or hi
    elif info.min == 0:
        bad = a.max() > info.max or a.min() < -int(info.max)
    else:
        bad = a.min() < info.min or a.max() > info.max
    if bad:
        raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")


_COPY_CONSTRUCT = ("To copy construct from a tensor, it is recommended to use "
                   "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                   ".requires_grad_(True), rather than torch.tensor(sourceTensor).")


def _plain_strided(t):
    """A dense tensor of plain values (no float8 bits, quantized, nested or sparse one)."""
    return not (t._dtype in _dt.FLOAT8_TYPES or t.is_quantized or t.is_nested
                or t.layout is not _dt.strided)


@public
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """gpujit.tensor(data): always copies, infers dtype as PyTorch does."""
    check_pin_memory("tensor", pin_memory, none_ok=False)
    escape = _reg.dispatch_state.escape
    followed = False
    if isinstance(data, _reg._Tensor):
        import sys
        from .._frames import warn_if_user_called
        # (a trace's warning first, as torch's tracer gives it before the copy's)
        followed = escape is not None and escape(data, "copy:torch.tensor")
        warn_if_user_called(_COPY_CONSTRUCT, sys._getframe(1))
    dtype = None if dtype is None else _dt.dtype_param(dtype, "tensor(): argument 'dtype'")
    dev = _default_device() if device is None else _resolve(device)
    if followed and _plain_strided(data) and dtype not in _dt.FLOAT8_TYPES:
        # a tensor the trace follows: recorded as torch's internal_new_from_data copies
        # it (`detach`, `to(device, dtype, copy=True)`, `detach`), so the traced function
        # copies its new inputs instead of baking in the traced call's values
        t = _reg.get("aten::to.device").public(
            data.detach(), data.device if device is None else dev,
            dtype or data._dtype, False, True, None)
        return _reg.host_made(_finish(t.detach(), requires_grad))
    if _reg.dispatch_state.escape is not None and isinstance(data, (int, float)) and \
            type(data) not in (int, float, bool):
        # a number a trace follows (a traced size, `x.size(0) / 2`): made by
        # aten::scalar_tensor of it, so the trace records where it came from (as
        # PyTorch's records its NumToTensor) instead of baking the value in
        t = _reg.get("aten::scalar_tensor").public(
            data, dtype=dtype or (_dt.int64 if isinstance(data, int)
                                  else _dt.get_default_dtype()), device=dev)
        return _announce(_finish(t, requires_grad), "torch.tensor")
    if isinstance(data, _reg._Tensor) and data._dtype in _dt.FLOAT8_TYPES:
        data, dtype = _float8_data(data, dtype)     # (its values: ops/float8.py)
    if dtype in _dt.FLOAT8_TYPES:     # (the values through float32: ops/float8.py)
        from .float8 import from_values
        t = from_values(tensor(data, dtype=_dt.float32, device=dev), dtype)
        return _announce(_finish(t, requires_grad), "torch.tensor")
    try:
        a, dt, d = _array_from(data, dtype, dev, copy=True)
    except Exception:
        # (a list holding 0-dim float8 tensors, which NumPy cannot read: looked for only
        # then, so that other data pays no walk)
        try:
            f8 = _float8_data(data, dtype)
        except RuntimeError as e:       # (c10's promotion error, alone)
            raise e from None
        if f8 is None:
            raise
    else:
        f8 = None
    if f8 is not None:
        return tensor(f8[0], dtype=f8[1], device=device, requires_grad=requires_grad)
    return _announce(_finish(_reg.wrap(a, dt, d), requires_grad), "torch.tensor",
                     isinstance(data, np.ndarray))


def _float8_data(data, dtype):
    """(data, dtype) for torch.tensor(data) where data is a float8 tensor or a list holding
    one-element ones (ops/float8.py: their arrays are the bits, never values): each float8 tensor
    replaced by its values (float32, exact), and the dtype PyTorch infers, that float8 type,
    where none was given; mixed with other numbers, c10's promotion error (its elements'
    types promoted left to right). None where data holds no float8 tensor."""
    if isinstance(data, _reg._Tensor):
        if data._dtype not in _dt.FLOAT8_TYPES:
            return None
        return data.detach().float(), dtype or data._dtype
    if not isinstance(data, (list, tuple)):
        return None
    kinds = []

    def walk(v):
        if isinstance(v, (list, tuple)):
            return type(v)(walk(x) for x in v)
        if isinstance(v, _reg._Tensor) and v._dtype in _dt.FLOAT8_TYPES:
            if v.numel() != 1:      # (an element is a number: PyTorch's words)
                raise ValueError("only one element tensors can be converted to Python "
                                 "scalars")
            kinds.append(v._dtype)
            return float(v.item())
        kinds.append(v._dtype if isinstance(v, _reg._Tensor) else
                     _dt.bool if isinstance(v, bool) else _dt.int64 if isinstance(v, int)
                     else _dt.get_default_dtype() if isinstance(v, float) else None)
        return v
    values = walk(data)
    if not any(k in _dt.FLOAT8_TYPES for k in kinds):
        return None
    if dtype is None:
        acc = None
        for k in kinds:
            if k is None or acc is k:
                continue
            acc = k if acc is None else _dt.promote_types(acc, k)
        dtype = acc
    return values, dtype


def _announce(t, name, from_ndarray=False):
    """A tensor made from Python data: a trace recording now is told (it warns, as
    PyTorch's tracer does, that it holds the tensor as a constant; from_ndarray: made from
    a NumPy array, which PyTorch's records through aten::lift_fresh); inside inference
    mode it is an inference tensor."""
    escape = _reg.dispatch_state.escape
    if escape is not None:
        if from_ndarray:
            escape(t, name, lifted=True)
        else:
            escape(t, name)
    return _reg.host_made(t)


@public
def as_tensor(data, dtype=None, device=None):
    """Share memory with an ndarray/CuPy array/Tensor when dtype and device allow."""
    dtype = None if dtype is None else _dt.dtype_param(dtype, "as_tensor(): argument 'dtype'")
    dev = _default_device() if device is None else _resolve(device)
    if isinstance(data, _reg._Tensor):
        if _reg.dispatch_state.escape is not None:      # (a trace's warning, as torch's)
            _reg.dispatch_state.escape(data, "copy:torch.as_tensor")
        return data.to(device=dev or data.device, dtype=dtype or data.dtype)
    if dtype in _dt.FLOAT8_TYPES:     # (ops/float8.py)
        return tensor(data, dtype=dtype, device=dev)
    a, dt, d = _array_from(data, dtype, dev, copy=False)
    return _announce(_reg.wrap(a, dt, d), "torch.as_tensor", isinstance(data, np.ndarray))


_READONLY_WARNED = []


@public
def from_numpy(array):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if not array.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte "
                         "order. Conversion between byte orders is currently not supported.")
    if array.dtype.kind not in "biufc":
        # (PyTorch's words; a number dtype gpujit lacks: from_numpy_dtype's)
        raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype.type.__name__}. "
                        "The only supported types are: float64, float32, float16, complex64, "
                        "complex128, int64, int32, int16, int8, uint64, uint32, uint16, "
                        "uint8, and bool.")
    if not array.flags.writeable and not _READONLY_WARNED:
        _READONLY_WARNED.append(True)       # (once a process, as PyTorch's TORCH_WARN_ONCE)
        from .._frames import warn_at_user_frame
        warn_at_user_frame(
            "The given NumPy array is not writable, and PyTorch does not support non-writable "
            "tensors. This means writing to this tensor will result in undefined behavior. You "
            "may want to copy the array to protect its data or make it writable before "
            "converting it to a tensor. This type of warning will be suppressed for the rest "
            "of this program.")
    t = _reg.wrap(array, _dt.from_numpy_dtype(array.dtype), _cpu)
    if not array.size and array.ndim and not any(array.strides):
        # an array without elements keeps NumPy's strides, all 0 for one NumPy made (as
        # PyTorch's from_numpy: np.zeros((0, 3)) gives strides (0, 0)), where wrap gave
        # it those of a new empty tensor
        t._data = array
        t._zero_strides = True
    return _announce(t, "torch.from_numpy", True)
