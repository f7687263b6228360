"""Autocast (torch.autocast / torch.amp.autocast) over the registry's dispatch hook.

While a region is enabled, `dispatch_state.autocast` is `_hook`: it sits in front of the
tracer's and autograd's hooks, casts the arguments of the ops on the region's device that
PyTorch's lists name (gpujit/amp/lists.py) with `Tensor.to` on the public path (so a trace
records the casts and autograd sends gradients back in the original dtype), then calls
the op as it would have been called. With no region enabled the hook is absent and eager
calls pay nothing. The state is per thread, as PyTorch's: the hook is installed while any
thread has a region enabled, and in the other threads it changes nothing (each thread
starts with autocast off and PyTorch's default dtypes).

CPU autocast's default dtype is bfloat16, as PyTorch's (ops/bfloat16_support.py: the ops
its lists lower to bfloat16 take it); float16 works too.
"""
from __future__ import annotations

import functools
import threading
import warnings

from .. import dtypes as _dt
from ..autograd.forward_ad import _flags as _fw_flags
from ..ops import registry as _reg
from ..tensor import Tensor
from .lists import POLICIES, BANNED_MESSAGE

__all__ = ["autocast", "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
           "set_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
           "clear_autocast_cache", "autocast_increment_nesting", "autocast_decrement_nesting",
           "is_autocast_available", "custom_fwd", "custom_bwd"]

_DEVICE_TYPES = ("cpu", "cuda")
# device types PyTorch knows that gpujit does not run on
_TORCH_DEVICE_TYPES = ("xpu", "mps", "hpu", "mtia", "xla", "ipu", "maia", "meta", "lazy",
                       "vulkan", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
                       "privateuseone")



class _AutocastState(threading.local):
    """This thread's autocast state (PyTorch's is thread-local too: a region in one thread
    must not cast another thread's ops, and two threads' regions must not restore each
    other's state on exit)."""

    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": _dt.bfloat16, "cuda": _dt.float16}
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}     # id(weight) -> (weight, its cast): leaf weights cast once a region
        self.active = {}    # device type -> dtype, for the enabled devices (what _hook reads)
        self.counted = False    # counted in _regions


_state = _AutocastState()
_regions = [0]              # threads with a region enabled: the hook is installed while any has
_regions_lock = threading.Lock()
_base = {}                  # op.name -> 'aten::name' without the overload


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type in _DEVICE_TYPES:
        return
    if device_type in _TORCH_DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    from ..device import device
    device(device_type)          # raises PyTorch's "Expected one of ..." for a bad string
    raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")


def is_autocast_available(device_type: str) -> bool:
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    _check_device_type(device_type)
    return _state.enabled[device_type]


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:                 # torch's legacy set_autocast_enabled(bool): CUDA
        device_type, enabled = "cuda", device_type
    _check_device_type(device_type)
    _state.enabled[device_type] = bool(enabled)
    _install()


def get_autocast_dtype(device_type: str):
    _check_device_type(device_type)
    return _state.dtype[device_type]


def set_autocast_dtype(device_type, dtype):
    _check_device_type(device_type)
    _state.dtype[device_type] = dtype
    _install()


def is_autocast_cache_enabled() -> bool:
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool):
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache():
    _state.cache.clear()


def autocast_increment_nesting() -> int:
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting() -> int:
    _state.nesting -= 1
    return _state.nesting


def _install():
    """Recompute this thread's enabled devices; install the hook while any thread has
    one, remove it when the last region closes."""
    st = _state
    st.active = {d: st.dtype[d] for d, on in st.enabled.items()
                 if on and st.dtype[d] is not None}
    on = bool(st.active)
    if on == st.counted:
        return
    with _regions_lock:
        st.counted = on
        _regions[0] += 1 if on else -1
        s = _reg.dispatch_state
        s.autocast = _hook if _regions[0] else None
        s.autocast_compute = _compute
        s.refresh()


# ------------------------------------------------------------------------ the hook

def _eligible(t, dev):
    return (isinstance(t, Tensor) and t._dtype.category == _dt.FLOATING
            and t._dtype is not _dt.float64 and t.device.type == dev)


def _cast(t, to, fast):
    if t._dtype is to:
        return t
    st = _state
    if (to is fast and t._dtype is _dt.float32 and st.cache_enabled and t.requires_grad
            and t.is_leaf):
        hit = st.cache.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        r = t.to(to)
        st.cache[id(t)] = (t, r)
        return r
    return t.to(to)


def _on(args, dev):
    for a in args:
        if isinstance(a, Tensor):
            if a.device.type == dev:
                return True
        elif type(a) in (list, tuple):
            for x in a:
                if isinstance(x, Tensor) and x.device.type == dev:
                    return True
    return False


def _map(args, fn):
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = fn(a)
        elif type(a) in (list, tuple) and any(isinstance(x, Tensor) for x in a):
            a = type(a)(fn(x) if isinstance(x, Tensor) else x for x in a)
        out.append(a)
    return tuple(out)


def _tensors(args):
    for a in args:
        if isinstance(a, Tensor):
            yield a
        elif type(a) in (list, tuple):
            for x in a:
                if isinstance(x, Tensor):
                    yield x


def _policy_args(op, args):
    name = _base.get(op.name)
    if name is None:
        name = _base[op.name] = op.name.split(".")[0]
    for dev, fast in _state.active.items():
        pol = POLICIES[dev].get(name)
        if pol is None or not _on(args, dev):
            continue
        if pol == "lower":
            to = fast
        elif pol == "fp32":
            to = _dt.float32
        elif pol == "fp32_dtype":
            names = [a.name for a in op.schema.arguments]
            if "dtype" in names and names.index("dtype") < len(args) \
                    and args[names.index("dtype")] is not None:
                continue
            to = _dt.float32
        elif pol == "promote":
            to = fast
            for t in _tensors(args):
                if _eligible(t, dev):
                    to = _dt.promote_types(to, t._dtype)
        else:
            raise RuntimeError(BANNED_MESSAGE)
        args = _map(args, lambda t: _cast(t, to, fast) if _eligible(t, dev) else t)
    return args


def _hook(op, args):
    s = _reg.dispatch_state
    if not _fw_flags.hidden:       # (forward AD's own computations run as they are)
        args = _policy_args(op, args)
    # (forward AD's layer below: the tangents of the cast arguments, as PyTorch's)
    inner = s.forward_ad or s.inner
    return inner(op, args) if inner is not None else op.eager(*args)


def _compute(op, args):
    """dispatch_state.compute inside a region: the interpreter's and the tracer's call."""
    args = _policy_args(op, args)
    ds = _reg.dispatch_state
    # (forward AD's layer, else inference mode's, else autograd's)
    ag = ds.forward_ad_compute or ds.grad_call
    return ag(op, args) if ag is not None else op.eager(*args)


def active() -> bool:
    """Is an autocast region enabled now in this thread (compiled code then runs node by
    node)?"""
    return bool(_state.active)


# ------------------------------------------------------------------ the context manager

def _cuda_available():
    from .. import cuda
    return cuda.is_available()


class autocast:
    """torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None): a context
    manager and decorator; ops on `device_type` inside follow PyTorch's autocast lists."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled=None):
        _check_device_type(device_type)
        self.device = device_type
        if dtype is None:       # (cpu's default: bfloat16, as PyTorch's)
            dtype = get_autocast_dtype(device_type)
        self.fast_dtype = dtype
        self._cache_enabled = (is_autocast_cache_enabled() if cache_enabled is None
                               else cache_enabled)
        name = device_type.upper()
        if enabled and isinstance(dtype, _dt.MissingDtype):
            raise dtype.error()
        if enabled:
            if device_type == "cuda":
                if not _cuda_available():
                    warnings.warn("CUDA is not available or torch_xla is imported. "
                                  "Disabling autocast.", stacklevel=2)
                    enabled = False
            elif dtype is not _dt.float16 and dtype is not _dt.bfloat16:
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                              f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                              f"torch.bfloat16, torch.float16 currently.", stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = _state.enabled[self.device]
        self.prev_fastdtype = _state.dtype[self.device]
        _state.enabled[self.device] = bool(self._enabled)
        _state.dtype[self.device] = self.fast_dtype
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        _install()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        _state.enabled[self.device] = self.prev
        _state.dtype[self.device] = self.prev_fastdtype
        set_autocast_cache_enabled(self.prev_cache_enabled)
        _install()
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                f"Did you mean to use autocast as a context manager? For example:\n"
                f"    with torch.autocast(device_type=...):\n"
                f"        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        # (set by name: written as an attribute inside the class it would be mangled)
        setattr(decorate_autocast, "__script_unsupported",
                "@autocast() decorator is not supported in script mode")
        return decorate_autocast


def _cast_value(value, device_type, dtype):
    if isinstance(value, Tensor):
        ok = (value.is_floating_point() and value.device.type == device_type
              and value.dtype is not _dt.float64)
        return value.to(dtype) if ok else value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, dict):
        return {_cast_value(k, device_type, dtype): _cast_value(v, device_type, dtype)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_value(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """torch.amp.custom_fwd: for a custom autograd.Function's forward. With cast_inputs,
    floating inputs on device_type are cast to it and forward runs with autocast off."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = _state.dtype[device_type]
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        on = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if on:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast_value(args, device_type, cast_inputs),
                           **_cast_value(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """torch.amp.custom_bwd: backward runs with the autocast state forward ran with."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast,
                      dtype=args[0]._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd


def is_autocast_cpu_enabled() -> bool:
    """torch's legacy spelling of is_autocast_enabled('cpu')."""
    return _state.enabled["cpu"]


def get_autocast_gpu_dtype():
    return get_autocast_dtype("cuda")


def get_autocast_cpu_dtype():
    return get_autocast_dtype("cpu")
