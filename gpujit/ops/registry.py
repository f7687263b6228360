"""The one op registry. Every op is declared once with `@op(schema, ...)`:

    @op("aten::sigmoid(Tensor self) -> Tensor", tags={"pointwise"}, promote="float",
        scalar="1 / (1 + exp(-{self}))")
    def sigmoid(xp, self):
        return 1 / (1 + xp.exp(-self))

From that declaration the registry generates the eager Python entry point (the public
`gpujit.sigmoid`, the `Tensor.sigmoid` method, the in-place `Tensor.sigmoid_`, the
`nn.functional` name), and exposes the schema, the meta rule, the tags, the scalar
expression for the fuser and the derivative slot to the tracer, the script compiler, the
fuser and autograd. Nothing else in gpujit lists ops.

Eager entry points are generated Python source (see `OpDef.source`, `GPUJIT_DUMP=ops`) so
the per-call cost stays near the raw NumPy/CuPy call: argument binding is Python's own,
type promotion is one cached dict lookup, and there is no per-call loop over arguments.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import dtypes as _dt
from .. import return_types as _return_types
from ..device import cpu as _cpu, xp_for as _xp_for
from .schema import parse_schema, Schema
from .number_operands import number_operands as _number_operands
from .overlap import (assert_no_partial_overlap, expanded_warning, has_internal_overlap,
                      internal_overlap_error, on_expanded_policy, write_changes,
                      writable_target)
# the eager entry points' code generation, and the derivative records/declarations: their
# own modules (entry_codegen reads this module's helpers when it compiles, not at import)
from .entry_codegen import build_entry_points
from .derivatives import (Derivative, NonDifferentiable, derivative,  # noqa: F401
                          nondifferentiable, shape_param, strides_param, run_computes,
                          stash_for_backward, stashed)

__all__ = ["op", "OpDef", "OPS", "OVERLOADS", "get", "dispatch_state", "TAGS", "derivative",
           "shape_param", "strides_param", "run_computes", "stash_for_backward", "stashed",
           "nondifferentiable", "Derivative", "NonDifferentiable"]

# NumPy warns on log(0), 0/0, overflow ...; PyTorch computes silently (inf/nan). The filter
# costs nothing until a warning is raised, unlike np.errstate around every call.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"gpujit\.ops(\.|$)")

TAGS = frozenset({"pointwise", "reduction", "view", "inplace", "random", "nondeterministic",
                  "factory", "linalg", "shape", "nn", "comparison", "no_fuse",
                  "inplace_view",    # t_, squeeze_: the impl returns self's new view
                  "output_per_input",  # Tensor[] -> Tensor[], output i from input i only
                  "returns_input",  # a view op that may hand back its input itself (flatten)
                  "untracked_view",  # results share self's memory, no views to autograd
                  #                    (unsafe_split; registry.wrap_untracked)
                  "undefined_results",  # a Tensor result may be undefined: None
                  "out"})           # out= variants (out_variants.py)

OPS: dict = {}           # qualified name 'aten::add.Tensor' -> OpDef
OVERLOADS: dict = {}     # 'aten::add' -> [OpDef, ...] in declaration order
_PUBLIC: dict = {}       # binding target -> {python name: [OpDef, ...]}


class _DispatchState:
    """`hook`, when set, receives every op call on the public path: hook(opdef, args) where
    args are the schema's arguments in order. Two layers install one: the tracer (while it
    records) and autograd (once any tensor requires grad). `refresh()` makes `hook` the
    tracer's when tracing, else autograd's, else None (eager calls then pay nothing), and
    `compute(op, args)` autograd's recording call when autograd is on, else op.eager: the
    tracer computes through it, so a traced run records gradients too. `escape`, when set,
    is told when a tensor's data leaves as Python values outside any op (tolist, numpy).
    `autocast`, set only while an autocast region is enabled (gpujit/amp), sits in front of
    both: it casts the arguments of the ops on its lists, then calls `inner` (the tracer's
    or autograd's hook, or the op's eager body), so its casts are recorded ops; `compute`
    is then `autocast_compute` (the same casts, then autograd's call or the eager body), so
    graphs run node by node (the interpreter) follow the region too."""
    __slots__ = ("hook", "escape", "tracing", "autograd", "compute", "autocast", "inner",
                 "autocast_compute", "profiler", "inference", "grad_call", "torch_function",
                 "below_autograd", "forward_ad", "forward_ad_compute", "vmap", "transforms")

    def __init__(self):
        # below_autograd: set by an op's `traced` decomposition around a call PyTorch's
        # tracer records below autograd (conv2d's aten::_convolution, reached through
        # convolution's autograd kernel): the trace types its outputs requires_grad=0
        self.below_autograd = False
        self.hook = None
        self.escape = None
        self.tracing = None
        self.autograd = None
        # inference: inference mode's layer (autograd/inference.py), installed for good
        # the first time an inference_mode region is entered; it sits in front of
        # autograd. grad_call: that layer, else autograd's call, else None
        self.inference = None
        self.grad_call = None
        self.compute = _eager_call
        self.autocast = None
        self.inner = None
        self.autocast_compute = None
        self.profiler = None
        # torch_function: the __torch_function__ layer (gpujit/overrides.py), first of all
        # once a Tensor subclass with an active __torch_function__ exists
        self.torch_function = None
        # forward_ad: forward-mode AD's layer (autograd/forward_ad.py) while a dual level
        # is open: it gives the outputs of an op with a dual argument their tangents
        self.forward_ad = None
        self.forward_ad_compute = None
        # vmap: torch.func.vmap's layer while a vmap runs (func/_vmap.py): it marks what
        # depends on the mapped inputs and refuses what PyTorch's BatchedTensor refuses
        self.vmap = None
        # transforms: the first of vmap's, autocast's, forward AD's layer and `inner`
        # (what the profiler's and __torch_function__'s layers call next)
        self.transforms = None

    def refresh(self):
        self.grad_call = self.inference or self.autograd
        self.inner = self.tracing or self.grad_call
        # (the profiler, while one records, in front of everything: it times the call)
        self.transforms = self.vmap or self.autocast or self.forward_ad or self.inner
        self.hook = self.torch_function or self.profiler or self.transforms
        self.compute = (self.autocast_compute if self.autocast is not None
                        else self.forward_ad_compute or self.grad_call or _eager_call)


class SparseOperand(NotImplementedError):
    """Raised by a sparse tensor's `_data` (gpujit/_sparse_coo.py) read in the entry point
    of `op`: PyTorch's NotImplementedError for the sparse backend, which the op's public
    entry point catches to run the op's sparse kernel (`sparse_call`) where it has one."""

    def __init__(self, msg, op):
        super().__init__(msg)
        self.op = op


class TensorLikeOperand(SparseOperand):
    """Raised where op's entry point finds an argument that is no Tensor but a tensor-like
    (its type has a __torch_function__: the torch.overrides docs' ScalarTensor): the entry
    point's `except SparseOperand` hands the call to its __torch_function__ (sparse_call).
    `method`: the entry point was Tensor.<name> (x.add(p), x + p), whose method the
    handler receives as func, as PyTorch's (TensorBase.add), not the function torch.add."""

    def __init__(self, msg, op, method=False):
        super().__init__(msg, op)
        self.method = method


class NestedOperand(SparseOperand):
    """Raised by a nested tensor's `_data` (gpujit/nested/_tensor.py) read in the entry
    point of `op`: the entry point's `except SparseOperand` runs op's nested kernel
    (sparse_call: gpujit/nested/_ops.py), or raises PyTorch's NotImplementedError."""


def sparse_call(e, args):
    """op(*args) (schema order) given a sparse operand: the sparse kernel registered for
    e.op in gpujit/_sparse_coo.py, else e, PyTorch's NotImplementedError. A tensor-like
    operand: its __torch_function__'s answer."""
    if isinstance(e, TensorLikeOperand):
        from ..overrides import tensor_like_call
        return tensor_like_call(e.op, args, e.method)
    if isinstance(e, NestedOperand):
        from .float8 import Float8Operand, float8_call      # (a float8 operand: ops/float8.py)
        if isinstance(e, Float8Operand):
            return float8_call(e, args)
        from ..quantized import QuantizedOperand, quantized_call     # (gpujit/quantized.py)
        if isinstance(e, QuantizedOperand):
            return quantized_call(e, args)
        from ..nested._ops import nested_call
        return nested_call(e, args)
    from .._sparse_coo import sparse_kernel
    fn = sparse_kernel(e.op, args)
    if fn is None:
        raise NotImplementedError(e.args[0]) from None
    try:
        return fn(*args)
    except BaseException as err:
        # (raised while the entry point handles e: the SparseOperand, gpujit's own
        # signal, stays out of the traceback the user sees)
        if err.__context__ is e:
            err.__suppress_context__ = True
        raise


def _eager_call(op, args):
    return op.eager(*args)


class InferenceVersion(list):
    """The version counter of an inference tensor (one made inside torch.inference_mode by
    an op that is not a view of a normal tensor): a one-item list as every Tensor's `_vc`,
    so the code that reads and bumps versions runs unchanged, whose type marks the tensor,
    and its views and detach()es, which share it, as PyTorch's inference tensors
    (autograd/inference.py). `live` counts them (one per counter, which a tensor and its
    views share); when the last goes, `on_last()` (inference.py's: inference mode's layer
    leaves the hook path when no region is open either, so eager calls pay nothing)."""
    __slots__ = ()
    live = [0]
    on_last = None

    def __init__(self, v=(0,)):
        list.__init__(self, v)
        self.live[0] += 1

    def __del__(self):
        live = self.live
        live[0] -= 1
        if not live[0] and InferenceVersion.on_last is not None:
            InferenceVersion.on_last()


class TrackedInferenceVersion(InferenceVersion):
    """The version counter of an inference tensor that has one, as PyTorch gives one to
    every tensor made outside inference mode: an inference tensor's `.data`, and its
    detach() outside the mode. Still an inference tensor (is_inference(), refused
    requires_grad_() and saving for backward), but written in place outside the mode and
    its `_version` read as a normal tensor's; the code that refuses those tests the exact
    type InferenceVersion."""
    __slots__ = ()


dispatch_state = _DispatchState()

_Tensor = None   # set by gpujit.tensor at import (the registry sits below Tensor)


def _set_tensor_class(cls):
    global _Tensor
    _Tensor = cls


# --------------------------------------------------------------------------------------
# helpers the generated code calls

_new = object.__new__


def empty_layout(a):
    """Array a, which has no elements, with PyTorch's strides of a new tensor of its shape
    (meta.empty_strides) where NumPy made them all 0 (every empty array NumPy allocates:
    its views, a transpose, an unsqueeze, a step, would all say 0 too, where PyTorch's
    views of a new empty tensor compute theirs from (3, 1)); else a itself. Every Tensor's
    array passes here when it has no elements (wrap, wrap_array, wrap_view and the
    generated code's wrap_statements), so views of it take PyTorch's strides."""
    if not a.ndim or any(a.strides) or a.__class__.__name__ == "MetaArray":
        return a        # (a meta tensor's strides are its own: gpujit/_meta.py)
    from .meta import empty_strides
    st = tuple(s * a.itemsize for s in empty_strides(a.shape))
    if type(a) is np.ndarray:       # (on a buffer it keeps: NumPy keeps the strides)
        return np.ndarray(a.shape, a.dtype, buffer=np.empty(0, a.dtype), strides=st)
    import cupy
    return cupy.ndarray(a.shape, a.dtype, memptr=cupy.empty(0, a.dtype).data, strides=st)


def wrap(a, dt, dev):
    """Wrap an ndarray (already of dtype `dt`, on `dev`) as a Tensor without copying."""
    t = _new(_Tensor)
    if not a.size:
        a = empty_layout(a)
    t._data = a
    t._dtype = dt
    t._device = dev
    t._vc = [0]
    t._ag = None
    t._base = None
    return t


# the module name entry_codegen gives the namespaces of the entry points it compiles
GENERATED_ENTRY = "gpujit.ops.generated"


def entry_op_of(frame):
    """The registry op whose generated entry point `frame` runs, else None: an array read
    of a sparse / nested / float8 / quantized operand is that op's (entry_codegen binds
    `_op` in its namespace; other generated code binding `_op`, as autograd's per-op
    recorders, is no entry point)."""
    g = frame.f_globals
    if g.get("__name__") != GENERATED_ENTRY:
        return None
    op = g.get("_op")
    return op if isinstance(op, OpDef) else None


def wrap_any(a, dt, dev):
    """wrap, where dt may be a float8 dtype, whose array is the uint8 carrier of the bits:
    a Float8Tensor then (ops/float8.py), never a tensor labelled float8 whose ops would
    read the integers (an alias, a copy or a gradient of a float8 tensor `x`:
    wrap_any(x._data, x._dtype, x._device))."""
    if dt.__class__ is _dt._Float8:
        from .float8 import make
        return make(a, dt, dev)
    return wrap(a, dt, dev)


def wrap_checked(a, dt, dev):
    """wrap, for generated code whose types come from a profiled run: an array of another
    dtype than the profile's (an op whose result dtype hangs on sizes the guards do not
    check, as bincount's of an empty input) keeps its own, never a label that lies."""
    if a.dtype != dt.np:
        dt = _dt._FROM_NP[a.dtype]
    return wrap(a, dt, dev)


def wrap_statements(t, a, dt, dev):
    """`t = wrap(a, dt, dev)` as one line of statements, for generated code that inlines
    it (one Python call less, ~0.03 µs); its namespace binds _new (object.__new__) and
    _T (Tensor). Keep it in step with wrap above (and wrap_array, wrap_view below)."""
    return (f"{t} = _new(_T); {t}._data = {a} if {a}.size else _empty_layout({a}); "
            f"{t}._dtype = {dt}; {t}._device = {dev}; "
            f"{t}._vc = [0]; {t}._ag = None; {t}._base = None")


def wrap_array(a, dev):
    """Wrap an array whose gpujit dtype must be looked up (and numpy scalars made arrays)."""
    if type(a) is not np.ndarray and dev is _cpu:
        a = np.asarray(a)
    t = _new(_Tensor)       # (wrap, inline: one Python call less)
    if not a.size:
        a = empty_layout(a)
    t._data = a
    t._dtype = _dt._FROM_NP[a.dtype]
    t._device = dev
    t._vc = [0]
    t._ag = None
    t._base = None
    return t


def wrap_untracked(a, dev):
    """wrap_array for a result that shares an argument's memory which autograd never
    treats as a view, with its own version counter (PyTorch's unsafe_split /
    unsafe_chunk): marked `_detached`, so an in-place write with gradients into it is a
    plain in-place op, as PyTorch's."""
    t = wrap_array(a, dev)
    t._detached = True
    return t


grad_state = None     # autograd's grad-mode state (per thread), set by autograd/recording


def host_made(t):
    """t, a Tensor made outside any op (from Python data, NumPy, a buffer, DLPack, a
    file): inside torch.inference_mode an inference tensor, as an op's new tensors are
    (autograd/inference.py). Returns t."""
    if dispatch_state.inference is not None and grad_state.inference and \
            type(t._vc) is list:
        t._vc = InferenceVersion(t._vc)
    return t


def wrap_view(a, dev, src, track=True):
    """Wrap the result of an op whose schema says it may alias its first argument (a view
    op, or reshape / contiguous / to): when it shares src's memory it shares src's version
    counter, as PyTorch's views and detach() do, so that an in-place write through either
    is seen by autograd's saved tensors of the other; a copy (reshape of a transposed
    tensor) gets its own. `track`: the view also remembers the root of its view chain
    (`_base`), which autograd rebases when an in-place op with gradients writes the view
    (autograd/recording.py); without it (detach()) the result is marked `_detached`."""
    # (wrap_array / wrap and shares_memory's base tests inline: one Python call a view)
    if type(a) is not np.ndarray and dev is _cpu:
        a = np.asarray(a)
    if not a.size:
        a = empty_layout(a)
    t = _new(_Tensor)
    t._data = a
    t._dtype = _dt._FROM_NP[a.dtype]
    t._device = dev
    t._ag = None
    t._base = None
    if not isinstance(src, _Tensor):
        t._vc = [0]
        return t
    s = src._data
    b = getattr(a, "base", None)
    # (an empty result shares no memory, but PyTorch's view is one all the same; a view
    # made in no_grad mode has its _base as PyTorch's, but is `_nograd_view`: autograd
    # never follows it to its base, as PyTorch refuses to write it with gradients)
    if a is s or (b is not None and (b is s or b is s.base)) or shares_memory(a, s) or (
            a.size == 0 and a.dtype == s.dtype and dev is src._device):
        t._vc = src._vc
        # (not a detach(), which autograd never follows to src; nor a view made in
        # no_grad mode, which PyTorch refuses to write with gradients)
        if not track:
            t._detached = True
        else:
            root = getattr(src, "_base", None)
            t._base = src if root is None else root
            if grad_state is not None and not grad_state.enabled:
                t._nograd_view = True
    else:
        t._vc = [0]
    return t


def shares_memory(a, s) -> bool:
    """Do arrays a and s overlap in memory (a view of the other, or of a common base)?
    (The base tests first: they answer for views at no cost; then the bounds.)"""
    if a is s:
        return True
    b = getattr(a, "base", None)
    if b is not None and (b is s or b is s.base):
        return True
    if not a.size or not s.size or type(a) is not type(s):
        return False
    if type(a) is np.ndarray:
        return bool(np.may_share_memory(a, s))
    if hasattr(a, "shares_memory"):     # (a meta tensor's MetaArray: gpujit/_meta.py)
        return a.shares_memory(s)
    if a.device != s.device:
        return False
    import cupy
    return bool(cupy.may_share_memory(a, s))


def _device_mismatch(op, d1, d2):
    if d1.type == "meta" or d2.type == "meta":      # (a meta kernel's device check)
        return RuntimeError(f"Tensor on device {d2} is not on the expected device {d1}!")
    # PyTorch's TensorIterator words it so (capital E, '!'; no op name before it)
    return RuntimeError(
        f"Expected all tensors to be on the same device, but found at "
        f"least two devices, {d1} and {d2}!")


def _join_device(op, dev, t):
    """Combine the device so far with tensor t's. A 0-dim CPU tensor may join a CUDA op
    (as in PyTorch: it is read as a scalar)."""
    d = t._device
    if dev is None or dev is d:
        return d
    if d is _cpu and t._data.ndim == 0:
        return dev
    if dev is _cpu:
        raise _DevMismatchRetry(d)
    raise _device_mismatch(op, dev, d)


class _DevMismatchRetry(Exception):
    """dev was set by a 0-dim CPU tensor, and a CUDA tensor came later: the caller re-joins."""


def unwrap_for(t, dev):
    """The array of tensor t to compute on dev (0-dim CPU tensors move to the GPU)."""
    a = t._data
    if t._device is not dev:
        if dev is _cpu:
            a = a.get()
        elif dev.type == "meta":    # (a 0-dim CPU tensor, an index, copy_'s source)
            from .._meta import MetaArray
            a = MetaArray(a.shape, a.dtype)
        else:
            a = _xp_for(dev).asarray(a)
    return a


def _operand_device(op, xs):
    """The device of an op call from all Tensor operands (slow path, for mixed devices)."""
    dev, zero_cpu = None, False
    for x in xs:
        if isinstance(x, _Tensor):
            d = x._device
            if d is _cpu and x._data.ndim == 0:
                zero_cpu = True
                continue
            if dev is None:
                dev = d
            elif dev is not d:
                raise _operands_mismatch(op, xs, dev, d)
        elif isinstance(x, (list, tuple)):
            for y in x:
                if isinstance(y, _Tensor):
                    d = y._device
                    if dev is None:
                        dev = d
                    elif dev is not d:
                        raise _device_mismatch(op, dev, d)
    if dev is None:
        dev = _cpu if zero_cpu else None
    elif zero_cpu and dev is not _cpu and op.device_check is not None:
        # (a kernel that checks its devices exactly takes no 0-dim CPU tensor either)
        e = op.device_check(xs)
        if e is not None:
            raise e
    return dev


def _operands_mismatch(op, xs, d1, d2):
    """The error of tensors xs on two devices: the op's own words where it checks them
    exactly (op.device_check: ops/device_checks.py), TensorIterator's otherwise."""
    if op.device_check is not None:
        e = op.device_check(xs)
        if e is not None:
            return e
    return _device_mismatch(op, d1, d2)


def _index_devices(op, dev, indices):
    """Index tensors must be on the CPU or on the indexed tensor's device (PyTorch's
    rule: CPU index tensors move to it)."""
    if indices is None:
        return
    for x in indices:
        if isinstance(x, _Tensor) and x._device is not dev and x._device is not _cpu:
            raise RuntimeError(
                f"indices should be either on cpu or on the same device as "
                f"the indexed tensor ({dev})")


def scalar_kind(x):
    """(dtype, SCALAR) of a Python number; the common types are tested first (hot path),
    the rest follow dtypes' wrapped-number rule."""
    t = type(x)
    if t is float:
        return (_dt._default_float, _dt.SCALAR)
    if t is int:
        # (PyTorch's parser makes an int in [2**63, 2**64) a uint64 Scalar: a bool
        # tensor's promotion with it raises, an integer tensor's dtype wins)
        return (_dt.uint64 if x >> 63 == 1 else _dt.int64, _dt.SCALAR)
    if t is bool:
        return (_dt.bool, _dt.SCALAR)
    if x is None:
        raise TypeError("None is not a number")
    return (_dt._scalar_dtype(x), _dt.SCALAR)


def wrapped_number(x):
    """A Python number as the tensor PyTorch's argument parser wraps it in for a Tensor
    parameter (scalar_to_tensor, marked is_wrapped_number): 0-dim on the CPU, float64 for
    a float, int64 for an int, bool, complex128 for a complex. It promotes as the number
    (zero_dim_operand_kind); a trace records it as a constant (`Double(requires_grad=0,
    device=cpu) = prim::Constant[value={2.5}]`)."""
    t = type(x)
    d = _dt.bool if t is bool or t is np.bool_ else _dt.complex128 if isinstance(
        x, (complex, np.complexfloating)) else _dt.float64 if isinstance(
        x, (float, np.floating)) else _dt.int64
    r = wrap(np.asarray(x, dtype=d.np), d, _cpu)
    r._wrapped_number = True
    return r


class WrappedOperand(Exception):
    """Raised by zero_dim_operand_kind: an entry point's operand is a wrapped number, which
    it takes as the number itself (unwrap_number)."""


def zero_dim_operand_kind(t):
    """(dtype, ZERO_DIM) of a 0-dim tensor given for an operand that may be a Python
    number; a wrapped number (wrapped_number) raises WrappedOperand, and the entry point
    takes its number instead (unwrap_number): it promotes and computes exactly as the
    number (int64 x * wrapped 2.5 is float32, not float64; a narrow int's wrap-around), as
    PyTorch's result_type treats a wrapped number."""
    if t._wrapped_number:
        raise WrappedOperand
    return (t._dtype, _dt.ZERO_DIM)


def unwrap_number(x):
    """x, or the Python number a wrapped-number tensor stands for."""
    if isinstance(x, _Tensor) and x._wrapped_number:
        return x._data.item()
    return x


def wrapped_constant(op, i, c):
    """The Python number a graph's constant c (a prim::Constant's value) stands for as op's
    i-th argument when c is a wrapped number (a trace's `x // 2.5`) given where op takes a
    number (an operand of number_operands, not an in-place op's self), else None. Graph
    code (runtime codegen, fused kernels) takes that number, as the entry point does."""
    if not (isinstance(c, _Tensor) and c._wrapped_number and op.is_pointwise):
        return None
    params = op.schema.arguments
    if i >= len(params) or params[i].name not in op.number_operands or (
            i == 0 and op.inplace_of is not None):
        return None
    return c._data.item()


_NUMBER_TYPES = frozenset({int, float, bool, complex})
NUMPY_NUMBERS = (np.number, np.bool_)


# the types of the values a number parameter takes as they are (entry_codegen's fast test)
PYTHON_NUMBER_TYPES = frozenset({int, float, bool, complex, type(None)})
PYTHON_INT_TYPES = frozenset({int, type(None)})     # (an int parameter's: bool refused)


def number_arg(op, n, v, numpy=False, method=False):
    """The value an entry point passes on for v, given for op's number parameter n, when
    v's type is no Python number's: a Tensor's number (tensor_number), where `numpy` (a
    float / Scalar / complex parameter) a NumPy scalar's (numpy_number); anything else as
    it is (its refusal comes from the op's body: arg_type_error)."""
    if isinstance(v, _Tensor):
        return tensor_number(op, n, v, method)
    if v.__class__ is bool:         # (given for an int parameter: PyTorch's TypeError)
        raise TypeError(f"{_arg_where(op, n, method)} must be int, not bool")
    if v.__class__ is float and op.schema.arguments[n].type.base in ("int", "SymInt") and \
            not op.schema.arguments[n].type.is_list:
        # (PyTorch's parser refuses a float for an int; bodies took it: softmax(x, 1.0),
        # linspace(0, 1, 2.5) made 3 points, topk(1.5) failed inside a numba kernel)
        raise TypeError(f"{_arg_where(op, n, method)} must be int, not float")
    if isinstance(v, (list, tuple)):
        t = op.schema.arguments[n].type
        if t.base in ("int", "SymInt") and not t.is_list:
            # (prod(x, (0, 1)): a body reading dims would take it; PyTorch's parser does
            # not, and an overloaded function's dispatcher reports its invalid combination)
            raise TypeError(f"{_arg_where(op, n, method)} must be int, not "
                            f"{type(v).__name__}")
    if numpy and isinstance(v, NUMPY_NUMBERS):
        return numpy_number(v)
    if numpy and isinstance(v, np.ndarray):
        # (an array is no Number, 0-dim too: F.elu(x, np.ones(3)) computed elementwise)
        raise TypeError(f"{_arg_where(op, n, method)} must be "
                        f"{_TYPE_WORDS[op.schema.arguments[n].type.base]}, not numpy.ndarray")
    if v is None or isinstance(v, (str, bytes, list, tuple, dict, set)):
        # (None for a number that is not Optional, the entry point's test lets through only
        # where it is; a str or a list reached the body: threshold(x, 2, None) computed
        # with NaN, hardshrink(x, "a") leaked NumPy's ValueError)
        a = op.schema.arguments[n]
        t = a.type
        if (v is not None or not t.optional) and not (a.has_default and v == a.default):
            # (the default passes: `int reduction=Mean` is the str "mean")
            raise TypeError(f"{_arg_where(op, n, method)} must be {_TYPE_WORDS[t.base]}, "
                            f"not {type_name(v)}")
    return v


def reduction_refused(op, n, v):
    """PyTorch's TypeError for v, no int, given for op's `int reduction` parameter n in
    its Python binding (torch.kl_div(x, y, "mean"): the parser takes no reduction name;
    F.kl_div does)."""
    raise TypeError(f"{_arg_where(op, n)} must be int, not {type_name(v)}")


def bool_refused(op, n, v, method=False):
    """PyTorch's TypeError for v, no Python bool, given for op's bool parameter n (its
    parser takes no int, NumPy bool, Tensor or None there)."""
    raise TypeError(f"{_arg_where(op, n, method)} must be bool, not {type_name(v)}")


def numpy_number(v):
    """The Python number PyTorch's argument parser reads a NumPy scalar given for a Scalar
    as: its value as a Python int / float / complex, an np.bool_ a float (torch 2.13:
    int_tensor + np.bool_(True) is a float tensor, bool_tensor | np.bool_(True) the
    bitwise op's error for 'Float'). Its own dtype never counts (x0 == np.float64(0.1)
    compares in x0's float32)."""
    return float(v) if isinstance(v, np.bool_) else v.item()


def number_refused(op, n, values, method=False):
    """The value v (values[n], not a Tensor) given for op's Tensor parameter n, when the
    parameter may take it (None where it is Optional, a number where op.number_operands
    says so); else PyTorch's TypeError. A NumPy array or scalar is no Tensor either
    (torch.matmul(x, np.ones(3)): PyTorch's TypeError; x @ np.float64(2) is then
    NotImplemented, as PyTorch's). Called by the generic entry points."""
    v = values[n]
    if isinstance(v, (np.ndarray, np.generic)):
        if isinstance(v, (np.number, np.bool_)) and op.schema.arguments[n].name in \
                op.number_operands:
            return numpy_number(v)
        raise not_tensor_error(op, values, method)
    a = op.schema.arguments[n]
    if (v is None and a.type.optional) or (type(v) in _NUMBER_TYPES and a.name in
                                           op.number_operands) or (
            v is not None and type(v) not in _NUMBER_TYPES and
            not isinstance(v, (str, bytes, list, tuple, dict))):
        return v
    # (None where the Tensor is not Optional, a str or list: slice_scatter(None, x) and
    # diagonal_scatter(x, "a") went on into the body, its IndexError)
    raise not_tensor_error(op, values, method)


def ndarray_operand(fn, x, a):
    """fn(x, torch.from_numpy(a)) for an operator that takes an ndarray operand as its
    Tensor (torch 2.13's Tensor.__eq__: entry_codegen.operator_entry's ndarray_other);
    NotImplemented where from_numpy refuses a's dtype with a TypeError (object, str)."""
    from .creation import from_numpy
    try:
        t = from_numpy(a)
    except TypeError:
        return NotImplemented
    return fn(x, t)


def type_name(v) -> str:
    """The name PyTorch's (and Python's) errors give v's type: the C type's full name,
    'numpy.ndarray', 'numpy.float64'; a Python class's or a builtin's bare name."""
    t = type(v)
    if t.__module__ == "builtins" or t.__flags__ & (1 << 9):     # (Py_TPFLAGS_HEAPTYPE)
        return t.__name__
    return f"{t.__module__}.{t.__name__}"


def _arg_where(op, n, method=False):
    """'name(): argument 'x' (position N)': N counts the arguments of the call as PyTorch
    numbers them, self not counted in a method call (x.add("a"): position 1); no position
    for an argument the call named (torch.flip(x, dims=0)), as PyTorch's parser."""
    a = op.schema.arguments[n]
    return (f"{op.public_name}(): argument '{a.name}'" if a.kwarg_only or
            passed_by_keyword(a.name)
            else f"{op.public_name}(): argument '{a.name}' (position {n + 1 - method})")


def passed_by_keyword(name):
    """Did the user's call of the op entry point now failing name its argument `name`
    (f(x, dims=0))? Read off the calling instruction's keyword names (error paths only:
    an entry point takes its arguments as Python parameters, which do not say how they
    came); a gpujit wrapper between (x.flip's varargs) answers from its **kwargs. False
    when that cannot be told."""
    import sys
    f = sys._getframe(1)
    while f is not None and not (f.f_code.co_filename.startswith("<gpujit op ") and
                                 f.f_code.co_filename.endswith(":public>") and
                                 name in f.f_code.co_varnames):    # (not autograd's eager)
        f = f.f_back
    caller = f.f_back if f is not None else None
    while caller is not None and caller.f_code.co_filename.startswith(_PKG_DIR):
        kw = caller.f_locals.get("kwargs")      # a wrapper passing **kwargs on
        if isinstance(kw, dict):
            return name in kw
        caller = caller.f_back if caller.f_code.co_name in _PASS_ON else None
    if caller is None:
        return False
    import dis
    code, last = caller.f_code, caller.f_lasti
    prev = []
    for ins in dis.get_instructions(code):
        if ins.offset > last:
            break
        prev.append(ins)
    if prev and prev[-1].opname == "CALL_FUNCTION_EX":
        return _ex_keyword(caller, prev, name)
    for ins in reversed(prev[-4:]):
        if ins.opname == "KW_NAMES":            # Python 3.11 / 3.12
            return name in code.co_consts[ins.arg]
        if ins.opname == "LOAD_CONST" and prev[-1].opname == "CALL_KW":     # 3.13
            return isinstance(ins.argval, tuple) and name in ins.argval
    return False


def _ex_keyword(frame, prev, name):
    """passed_by_keyword for a call f(*args, **kwargs): whether the dict the caller spread,
    a variable of its frame (BUILD_MAP 0, LOAD_x kwargs, DICT_MERGE), holds `name`."""
    if len(prev) < 4 or prev[-2].opname != "DICT_MERGE" or prev[-4].opname != "BUILD_MAP" \
            or prev[-4].arg != 0:
        return False
    load = prev[-3]
    if load.opname in ("LOAD_FAST", "LOAD_NAME", "LOAD_DEREF"):
        kw = frame.f_locals.get(load.argval)
    elif load.opname == "LOAD_GLOBAL":
        kw = frame.f_globals.get(load.argval)
    else:
        return False
    return isinstance(kw, dict) and name in kw


_PKG_DIR = __import__("os").path.dirname(__import__("os").path.dirname(__file__))
# gpujit's functions that call an entry point with the caller's own arguments unchanged
_PASS_ON = frozenset()


def _integral_item(v, numel_one):
    """v's Python int where v (a Tensor) may stand for an int: 0-dim (any size-1 shape
    where numel_one) of an integral dtype, bool excluded; else None."""
    d = v._data
    if (d.ndim == 0 or (numel_one and d.size == 1)) and d.dtype.kind in "iu":
        return int(d.reshape(()).item()) if d.ndim else int(d.item())
    return None


def tensor_number(op, n, v, method=False):
    """The Python number a Tensor v given for op's number parameter n (int, SymInt,
    float, Scalar, complex) stands for, as PyTorch's argument parser converts it (.item(),
    a host sync on a GPU): an int parameter takes a 0-dim integral (not bool) Tensor, a
    float / Scalar one any 0-dim Tensor not requiring grad; else PyTorch's TypeError."""
    base = op.schema.arguments[n].type.base
    if base in ("int", "SymInt"):
        # a SymInt takes any one-element integral Tensor; a bool one passes PyTorch's
        # parser and fails its conversion (an internal assert, a RuntimeError)
        sym = base == "SymInt"
        if sym and v._data.size == 1 and v._data.dtype.kind == "b":
            raise RuntimeError(_BOOL_SYMINT)
        r = _integral_item(v, sym)
        if r is None:
            raise TypeError(f"{_arg_where(op, n, method)} must be int, not Tensor")
        return r
    d = v._data
    if d.ndim != 0 or v.requires_grad:
        raise TypeError(f"{_arg_where(op, n, method)} must be Number, not Tensor")
    return d.item()


_BOOL_SYMINT = ('scalar.isIntegral( false) INTERNAL ASSERT FAILED at '
                '"/__w/pytorch/pytorch/torch/csrc/utils/pybind.cpp":27, please report a bug '
                'to PyTorch. ')
_BOOL_SYMINT_LIST = ("Expected scalar.isIntegral( false) to be true, but got false.  (Could "
                     "this error message be improved?  If so, please report an enhancement "
                     "request to PyTorch.)")


# the unsized int[] parameters that take a bare int (or a Tensor standing for one) all the
# same, where gpujit merges PyTorch's overloads into one schema (count_nonzero(x, 0) is
# PyTorch's count_nonzero.dim_IntList(int), all(x, 0) its all.dim ...); every other unsized
# int[] takes a bare int only as PyTorch's varargs (x.flip(0): bind.varargs_overload's methods,
# torch.zeros(3)), so torch.flip(x, 0) is its TypeError
INT_FOR_INT_LIST = {
    "aten::all.dims": ("dim",),
    "aten::any.dims": ("dim",), "aten::count_nonzero.dim_IntList": ("dim",),
    "aten::gradient.array": ("dim",), "aten::gradient.scalararray": ("dim",),
    "aten::gradient.scalarrayarray": ("dim",), "aten::gradient.tensorarray": ("dim",),
    "aten::tensor.int_list": ("t",), "aten::as_tensor.int_list": ("t",),
    "aten::eq.int_list": ("a", "b"), "aten::ne.int_list": ("a", "b"),
}


def int_list_takes_int(op, a):
    """Does op's int[] / SymInt[] parameter a take a bare int (or a Tensor for one) as
    PyTorch's argument parser does: a sized one (int[1] dim: [dim], int[2] stride: (s, s))
    or one of INT_FOR_INT_LIST."""
    return a.type.list_size is not None or a.name in INT_FOR_INT_LIST.get(op.name, ())


def int64_overflow():
    """PyTorch's parser error for a Python int past int64 given for an int parameter."""
    return ValueError("Overflow when unpacking long long")


def tensor_int_list(op, n, v, method=False):
    """op's int[] / SymInt[] parameter n given a Tensor (one element of an integral dtype:
    [its int]) or a sequence holding Tensors (each with one integral element, bool
    included, converted), as PyTorch's parser; else its TypeError. Other values as given.
    A bool one passes the parser of a SymInt[] and fails its conversion (RuntimeError),
    but where it stands alone for a SymInt[N] (roll's shifts)."""
    a = op.schema.arguments[n]
    t = a.type
    sym = t.base == "SymInt"
    if not isinstance(v, (list, tuple)) and not int_list_takes_int(op, a) and (
            isinstance(v, (int, np.integer, _Tensor)) and not isinstance(v, bool)):
        # (an unsized int[]: PyTorch's parser takes a sequence only)
        raise TypeError(f"{_arg_where(op, n, method)} must be tuple of ints, not "
                        f"{'Tensor' if isinstance(v, _Tensor) else type_name(v)}")
    if (v is None and not t.optional) or v.__class__ is bool:
        raise TypeError(f"{_arg_where(op, n, method)} must be tuple of ints, not "
                        f"{type(v).__name__}")
    if isinstance(v, _Tensor):
        d = v._data
        if d.size == 1 and d.dtype.kind in "iub":
            if sym and d.dtype.kind == "b" and t.list_size is None:
                raise RuntimeError(_BOOL_SYMINT_LIST)
            return [int(d.reshape(()).item())]
        raise TypeError(f"{_arg_where(op, n, method)} must be tuple of ints, not Tensor")
    if not isinstance(v, (list, tuple)):
        if v is None or isinstance(v, (int, np.integer)):
            return v
        # (PyTorch's parser takes a tuple or list only: a str, range or NumPy array was
        # read element by element, F.pad(x, '11') padded by (1, 1))
        raise TypeError(f"{_arg_where(op, n, method)} must be tuple of ints, not "
                        f"{type_name(v)}")
    out = None
    for i, e in enumerate(v):
        if isinstance(e, (float, str)) or (isinstance(e, _Tensor) and (
                e._data.size != 1 or e._data.dtype.kind not in "iub")):
            # PyTorch's parser looks at the first element ("but found element of type
            # float at pos 0"), its unpacking at the others (pos counted from 1)
            what = "Tensor" if isinstance(e, _Tensor) else type(e).__name__
            if i == 0:
                raise TypeError(f"{_arg_where(op, n, method)} must be tuple of ints, but found "
                                f"element of type {what} at pos 0")
            raise TypeError(f"{op.public_name}(): argument '{a.name}' failed to unpack the "
                            f"object at pos {i + 1} with error \"type must be tuple of ints,"
                            f"but got {what}\"")
        if e.__class__ is int and not -(1 << 63) <= e < 1 << 63:
            raise TypeError(f"{op.public_name}(): argument '{a.name}' failed to unpack the "
                            f"object at pos {i + 1} with error \"Overflow when unpacking long "
                            f"long\"")
        if isinstance(e, _Tensor):
            d = e._data
            if sym and d.dtype.kind == "b":
                raise RuntimeError(_BOOL_SYMINT_LIST)
            if out is None:
                out = list(v)
            out[i] = int(d.reshape(()).item())
    return v if out is None else type(v)(out)


def _tensor_like_operand(op, values, method=False):
    """TensorLikeOperand for op where one of values (or of a list among them) is a
    tensor-like that is no Tensor, with the protocol on; else None."""
    from ..overrides import tensor_likes
    if tensor_likes(values):
        return TensorLikeOperand(f"{op.public_name}: a tensor-like operand", op, method)
    return None


def no_tensor_error(op, values):
    """PyTorch's TypeError for a call of op without any Tensor (add(2, "a")), or the
    TensorLikeOperand that hands it to a tensor-like's __torch_function__."""
    return _tensor_like_operand(op, values) or TypeError(
        f"{op.public_name}(): expected at least one Tensor argument")


def _scalar_twins_error(op, values, method):
    """PyTorch's "invalid combination" error where its binding of op's name also has
    Scalar overloads gpujit's op merged in (x.pow("2") matches neither `Tensor exponent`
    nor `Number exponent`), or None. The call's values as positional ones, trailing
    defaults left out."""
    from .parser_errors import has_scalar_twins, parser_error
    if not has_scalar_twins(op.public_name, method):
        return None
    params = op.schema.arguments[1:] if method else op.schema.arguments
    args = list(values[1:] if method else values)
    # (the arguments the call named are shown as keywords: x.pow(exponent="2") is
    # "got (exponent=str, )"; those from the first one on all came by keyword)
    kw = next((j for j, p in enumerate(params) if p.kwarg_only or passed_by_keyword(p.name)),
              None)
    kwargs = {}
    if kw is not None:
        kwargs = {p.name: v for p, v in zip(params[kw:], args[kw:])
                  if not p.kwarg_only or passed_by_keyword(p.name)}
        args = args[:kw]
    while args and params[len(args) - 1].has_default and (
            args[-1] is params[len(args) - 1].default or (
                type(args[-1]) is type(params[len(args) - 1].default)
                and args[-1] == params[len(args) - 1].default)):
        args.pop()
    e = parser_error(op.public_name, [op], args, kwargs, method, not method)
    e.twin_values = values      # (method_positions words it again for a method call)
    return e


def not_tensor_error(op, values, method=False, binding=False):
    """PyTorch's TypeError for a non-Tensor (a Python number, None, a str...) where op's
    schema takes a Tensor, given the entry point's argument values in schema order; None
    when every Tensor argument holds Tensors (the AttributeError that led here is then a
    bug of its own, re-raised). method: the call was x.op(...) (positions leave self out).
    A tensor-like among them (its type has a __torch_function__): TensorLikeOperand."""
    e = _tensor_like_operand(op, values, method)
    if e is not None:
        return e
    name = op.public_name
    for i, (a, v) in enumerate(zip(op.schema.arguments, values)):
        if a.type.base != "Tensor" or isinstance(v, _Tensor) or (v is None and a.type.optional):
            continue
        if a.name in op.number_operands and (type(v) in _NUMBER_TYPES
                                             or isinstance(v, (np.number, np.bool_))):
            continue
        if a.type.is_list and isinstance(v, (list, tuple)):
            for j, x in enumerate(v):
                if not isinstance(x, _Tensor) and not (x is None and a.type.elem_optional
                                                       and not binding):
                    return TypeError(f"expected Tensor as element {j} in argument {i - method}, but "
                                     f"got {type_name(x)}")
            continue
        if a.name in op.number_operands:
            e = _scalar_twins_error(op, values, method)
            if e is not None:
                return e
        want = "tuple of Tensors" if a.type.is_list else "Tensor"
        # (PyTorch's Python bindings call self `input`)
        arg = "input" if a.name == "self" else a.name
        # (no position for one the call named: x.add(other="a"), as PyTorch's parser)
        where = "" if a.kwarg_only or passed_by_keyword(a.name) else \
            f" (position {i + 1 - method})"
        e = TypeError(f"{name}(): argument '{arg}'{where} must be {want}, not {type_name(v)}")
        if a.name in op.number_operands and not method:
            e.twin_values = values     # (x.eq_("2") past autograd's hook: a method's twins)
        return e
    return None


def tensor_for_list(op, n, method=False):
    """PyTorch's TypeError for a Tensor given for op's Tensor[] parameter n (a Tensor is
    iterable, but no tuple of Tensors: torch.cat(x))."""
    return TypeError(f"{_arg_where(op, n, method)} must be tuple of Tensors, not Tensor")


def list_refused(op, values, method=False, binding=False):
    """Raise PyTorch's TypeError for an element of a Tensor[] argument that is not a
    Tensor (an ndarray, a number: torch.cat([x, np.ones(3)]) is "expected Tensor as
    element 1 in argument 0, but got numpy.ndarray"). Called by the generic entry points.
    binding: the call came through PyTorch's Python binding, whose parser refuses None
    in a Tensor?[] too (entry_codegen._binding_entry)."""
    e = not_tensor_error(op, values, method, binding)
    if e is None:       # (not reached: the caller found an element that is no Tensor)
        raise TypeError(f"{op.public_name}(): expected a list of Tensors")
    raise e


def method_positions(op, e):
    """TypeError e of op's function numbering (raised past autograd's or the tracer's hook)
    as a method call numbers it: self not counted. Other errors as they are."""
    import re
    values = getattr(e, "twin_values", None)
    if values is not None:
        twins = _scalar_twins_error(op, values, True)
        if twins is not None:
            return twins
    msg = str(e)
    if msg.startswith(f"{op.public_name}(): argument '"):
        msg = re.sub(r"\(position (\d+)\)", lambda m: f"(position {int(m.group(1)) - 1})",
                     msg, count=1)
    elif msg.startswith("expected Tensor as element "):
        msg = re.sub(r"in argument (\d+)", lambda m: f"in argument {int(m.group(1)) - 1}",
                     msg, count=1)
    else:
        return e
    return TypeError(msg)


_TYPE_WORDS = {"int": "int", "SymInt": "int", "float": "float", "Scalar": "Number",
               "complex": "complex", "bool": "bool", "str": "str",
               "ScalarType": "torch.dtype"}


def arg_type_error(op, values, method=False):
    """PyTorch's parser TypeError for the first argument whose Python value is not of
    its schema type (topk(x, "a"): "topk(): argument 'k' (position 2) must be int, not
    str"), given the entry point's values in schema order; None when all fit. Called
    only once the body has failed (a TypeError or ValueError), so a call pays nothing."""
    e = not_tensor_error(op, values, method)
    if e is not None:
        return e
    from .overloads import _value_matches
    for i, (a, v) in enumerate(zip(op.schema.arguments, values)):
        t = a.type
        want = _TYPE_WORDS.get(t.base)
        if want is None or isinstance(v, _Tensor) or _value_matches(t, v) or (
                a.has_default and v is a.default):     # (int reduction=Mean: "Mean")
            continue
        got = type(v).__name__
        if t.is_list:
            want = f"tuple of {want}s"
            if isinstance(v, (list, tuple)):
                j, x = next(((j, x) for j, x in enumerate(v)
                             if not _value_matches(t, [x])), (0, v))
                want, got = f"{want}, but found element of type", \
                    f"{type(x).__name__} at pos {j}"
        where = _arg_where(op, i, method)
        return TypeError(f"{where} must be {want}, not {got}" if "found" not in want
                         else f"{where} must be {want} {got}")
    return None


_NP_BCAST = "operands could not be broadcast together with shapes "
_NP_NEGATIVE = "negative dimensions are not allowed"
_NP_MISMATCH = "shape mismatch: objects cannot be broadcast to a single shape"
# ops whose own size check PyTorch 2.13 words differently from check_size_nonnegative's
_NEGATIVE_SIZE_WORDS = {"aten::zeros": "zeros: Dimension size must be non-negative."}


def negative_size_error(op, values):
    """PyTorch's RuntimeError for a negative size given to op (values: the entry point's,
    in schema order): eye's 'n must be greater or equal to 0, got -1', zeros' own words,
    else check_size_nonnegative's 'Trying to create tensor with negative dimension -1:
    [2, -1]' for the first int list holding a negative number; None where no argument
    does."""
    for a, v in zip(op.schema.arguments, values):
        t = a.type
        if t.base not in ("int", "SymInt"):
            continue
        if not t.is_list:
            if type(v) is int and v < 0 and op.name.startswith("aten::eye"):
                return RuntimeError(f"{a.name} must be greater or equal to 0, got {v}")
            continue
        if isinstance(v, (list, tuple)):
            bad = next((x for x in v if type(x) is int and x < 0), None)
            if bad is not None:
                words = _NEGATIVE_SIZE_WORDS.get(op.name)
                return RuntimeError(words or f"Trying to create tensor with negative "
                                             f"dimension {bad}: {list(v)}")
    return None


class CPUAllocationError(RuntimeError, MemoryError):
    """PyTorch's DefaultCPUAllocator error (a RuntimeError; a MemoryError too, as NumPy's
    that it replaces)."""


def allocation_error(exc):
    """NumPy's MemoryError ('Unable to allocate 4.00 TiB for an array with shape (2**40,)
    and data type float32') in PyTorch's CPU allocator's words. A CUDA allocation's error
    (CuPy's OutOfMemoryError, a MemoryError too; gpujit.cuda's OutOfMemoryError wraps it)
    is returned as it is: torch.cuda.OutOfMemoryError, not the CPU allocator's."""
    if isinstance(exc, RuntimeError) or type(exc).__module__.partition(".")[0] == "cupy":
        return exc
    import re
    m = re.search(r"with shape \(([\d,\s]*)\) and data type (\w+)", str(exc))
    if m is None:
        return CPUAllocationError(f"DefaultCPUAllocator: can't allocate memory: {exc}")
    n = 1
    for s in m.group(1).split(","):
        if s.strip():
            n *= int(s)
    try:
        n *= np.dtype(m.group(2)).itemsize
    except TypeError:
        pass
    return CPUAllocationError(f"[enforce fail at alloc_cpu.cpp:127] err == 0. "
                              f"DefaultCPUAllocator: can't allocate memory: you tried to "
                              f"allocate {n} bytes. Error code 12 (Cannot allocate memory)")


def contiguous_size_check(shape, itemsize):
    """c10's checks of a new contiguous tensor's sizes, PyTorch's RuntimeErrors raised
    before NumPy would try (and fail, or take minutes) to allocate: the sizes multiplied in
    order as uint64s (an overflow before a 0 counts) times the element size past int64,
    then the strides (each size at least 1) past int64."""
    n, over = 1, False
    for s in shape:
        n *= s
        over |= n >= 1 << 64
        n %= 1 << 64
    if over or n * itemsize > (1 << 63) - 1:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    stride = 1
    for s in reversed(shape[1:]):
        stride *= max(s, 1)
        if stride > (1 << 63) - 1:
            raise RuntimeError("Stride calculation overflowed")


def numpy_broadcast_error(exc, op=None, values=None):
    """NumPy's 'operands could not be broadcast together with shapes (2,4) (3,)' ValueError
    raised inside an op's body as PyTorch's RuntimeError ('The size of tensor a (4) must
    match the size of tensor b (3) at non-singleton dimension 1'); NumPy's 'negative
    dimensions are not allowed' as PyTorch's size check (negative_size_error); any other
    exc as is."""
    msg = str(exc)
    if msg == _NP_NEGATIVE and op is not None:
        e = negative_size_error(op, values)
        return exc if e is None else e
    if msg == "iterator is too large":
        # (NumPy's nditer over more elements than an int64 counts: c10's numel check,
        # x.expand(2**40, 2**40))
        return RuntimeError("numel: integer multiplication overflow")
    if msg.startswith(("array is too big", "Maximum allowed dimension exceeded")):
        # (sizes whose product overflows: c10's storage size check, torch.zeros(2**31, 2**31))
        sizes = next((list(v) for v in values or () if isinstance(v, (list, tuple)) and v
                      and all(type(x) is int for x in v)), None)
        view = op is not None and "view" in getattr(op, "tags", ()) and sizes is not None \
            and math.prod(sizes) < 1 << 63
        if sizes is not None and 0 in sizes and "factory" in getattr(op, "tags", ()):
            # (a new empty tensor PyTorch refuses too: its storage or stride check,
            # torch.zeros(0, 2**40, 2**40) is "Stride calculation overflowed")
            try:
                contiguous_size_check(sizes, 1)
            except RuntimeError as e:
                return e
        if sizes is not None and (0 in sizes or view):
            # (an empty tensor or a view PyTorch makes, ones(0).view(2**62, 0),
            # ones(1).expand(2**62): NumPy counts the nonzero sizes times the element
            # size; say so rather than claim an overflow PyTorch does not see)
            what = "it is empty, but" if 0 in sizes else "a view of no new memory, but"
            return RuntimeError(
                f"gpujit cannot make a tensor of sizes={sizes}: {what} NumPy (which "
                f"holds gpujit's tensors) refuses an array whose nonzero sizes multiplied by "
                f"the element size exceed 2**63 - 1 (PyTorch makes this "
                f"{'empty tensor' if 0 in sizes else 'view'})")
        return RuntimeError("Storage size calculation overflowed" +
                            (f" with sizes={sizes}" if sizes is not None else ""))
    import re
    if msg.startswith(_NP_BCAST):
        found = re.findall(r"\(([\d,\s]*)\)", msg[len(_NP_BCAST):])
    elif msg.startswith(_NP_MISMATCH):
        # (np.broadcast_arrays' words: "... Mismatch is between arg 0 with shape (0, 4)
        # and arg 1 with shape (3, 4)."; torch.complex(a, b) of shapes that do not fit)
        found = re.findall(r"with shape \(([\d,\s]*)\)", msg)
    else:
        return exc
    from .meta import broadcast_shapes
    shapes = [tuple(int(n) for n in s.split(",") if n.strip()) for s in found]
    try:
        broadcast_shapes(*shapes)
    except RuntimeError as e:
        return RuntimeError(str(e))
    return RuntimeError(msg)


def broadcast_error(op, operands, exc):
    """numpy's broadcast ValueError in PyTorch's words: both sizes and the dimension.
    `operands`: the op's tensor arguments in schema order (None or a number where there is
    no tensor), taken in the order PyTorch broadcasts them (the op's `broadcast_order`,
    positions in that list, where its kernel differs: masked_fill broadcasts mask, then
    self), then folded as TensorIterator does (meta.broadcast_shapes)."""
    order = getattr(op, "broadcast_order", None)
    if order is not None:
        operands = [operands[i] for i in order if i < len(operands)]
    shapes = [tuple(x._data.shape) for x in operands if isinstance(x, _Tensor)]
    if len(shapes) >= 2:
        from .meta import broadcast_shapes
        try:
            broadcast_shapes(*shapes)
        except RuntimeError as e:   # PyTorch's words first: code matches them
            listed = ", ".join(str(list(s)) for s in shapes)
            return RuntimeError(f"{e} ({op.public_name}: shapes {listed})")
    return exc


class UnsupportedDtypeError(NotImplementedError, TypeError):
    """An op called with a dtype it does not support: PyTorch raises NotImplementedError
    ('"gcd_cpu" not implemented for 'Float''), a RuntimeError."""


def unsupported_dtype(op, dt):
    if dt.category == _dt.COMPLEX:
        return complex_refused(op, dt)
    if dt in _dt.UNSIGNED_TYPES:
        return unsigned_refused(op, dt)
    if dt is _dt.bfloat16:
        return bf16_refused(op)
    ok = ", ".join(d.name for d in _dt.ALL if d in op.dtypes)
    e = UnsupportedDtypeError(f"{op.public_name} does not support dtype {dt.name} "
                              f"(supported: {ok})")
    e.dtype = dt
    return e


def bf16_refused(op, dt=None):
    """The error of an op that has not opted in to bfloat16 (ops/bfloat16_support.py)
    given a bfloat16 tensor or dtype=: '"<op>" not implemented for 'BFloat16'', as
    PyTorch's kernels without a bfloat16 instance say."""
    from .bfloat16_support import refused_error
    return refused_error(op.public_name, UnsupportedDtypeError)


def complex_refused(op, dt):
    """The error of an op that has not opted in to complex tensors (ops/complex_support.py)
    given one (or a complex dtype=): PyTorch's '"<kernel>" not implemented for
    'ComplexFloat'' form, naming the op, with the reason."""
    if not isinstance(dt, _dt.dtype):
        dt = dt._dtype
    e = UnsupportedDtypeError(f"\"{op.public_name}\" not implemented for '{dt.short_name}': "
                              f"gpujit computes complex tensors in some ops only so far "
                              f"(README, complex dtypes)")
    e.dtype = dt
    return e


def unsigned_refused(op, dt, kernel=None):
    """The error of an op that PyTorch does not compute on uint16 / uint32 / uint64 (not
    in ops/unsigned_support.py) given such a tensor or dtype=: its NotImplementedError
    naming its CPU kernel ('"add_stub" not implemented for 'UInt16'')."""
    if not isinstance(dt, _dt.dtype):
        dt = dt._dtype
    if kernel is None:
        from .unsigned_support import kernel_of
        kernel = kernel_of(op)
    e = UnsupportedDtypeError(f"\"{kernel}\" not implemented for '{dt.short_name}'")
    e.dtype = dt
    return e


def dtype_refused(op, e, dev, operands):
    """The error of a pointwise op whose compute dtype it refuses (e: compute_types'
    UnsupportedDtypeError), as PyTorch's: operands that do not broadcast first
    (TensorIterator checks shapes before its dtype dispatch: torch.ones(3) & torch.ones(2)
    is the size RuntimeError), then, where op names its kernel (op.kernel: bitwise_and's
    "bitwise_and_cpu"), the kernel's '"bitwise_and_cpu" not implemented for 'Float''
    (kernel_names); else e. Called by the pointwise entry points."""
    shapes = [tuple(x._data.shape) for x in operands if isinstance(x, _Tensor)]
    if len(shapes) >= 2:
        from .meta import broadcast_shapes
        try:
            broadcast_shapes(*shapes)
        except RuntimeError as b:
            return broadcast_error(op, operands, b)
    if getattr(e, "dtype", None) in _dt.UNSIGNED_TYPES:      # (clamp(min=) / clamp(max=))
        from .unsigned_support import operand_kernel
        k = operand_kernel(op, operands)
        if k is not None:
            return unsigned_refused(op, e.dtype, k)
    kernel = getattr(op, "kernel", None)
    if kernel is None:
        from .kernel_names import CPU_KERNELS
        kernel = CPU_KERNELS.get(op.name)
    if kernel is None or getattr(e, "dtype", None) is None:
        return e
    from .kernel_names import kernel_name
    r = UnsupportedDtypeError(f"\"{kernel_name(kernel, dev)}\" not implemented for "
                              f"'{e.dtype.short_name}'")
    r.dtype = e.dtype
    return r


# (the Scalar clamps' own check prints the C++ type: "... desired output type long int")
_CPP_CAST_ERROR = frozenset({"aten::clamp_", "aten::clip_", "aten::clamp_min_",
                             "aten::clamp_max_"})


def _inplace_cast_error(op, out_dt, self_dt):
    # (PyTorch's words name no op: "result type Float can't be cast to the desired output
    # type Long")
    name = _dt.CPP_NAMES[self_dt.name] if op.name in _CPP_CAST_ERROR else self_dt.short_name
    return RuntimeError(f"result type {out_dt.short_name} can't be cast to the desired "
                        f"output type {name}")


def inplace_dtype_error(op, out_dt, self_dt):
    """The error of an in-place op whose result dtype self cannot hold (or, for an op with
    `inplace_exact_dtype`, is not self's: float_power_ on a float32 tensor)."""
    if op.inplace_exact_dtype:
        return RuntimeError(f"the base given to {op.public_name} has dtype "
                            f"{self_dt.short_name} but the operation's result requires dtype "
                            f"{out_dt.short_name}")
    return _inplace_cast_error(op, out_dt, self_dt)


class _Unchanged:
    __slots__ = ()

    def __repr__(self):
        return "UNCHANGED"


# what an in-place op's impl returns when it leaves self as it was (dropout_ with p == 0 or
# not training, as ATen's early `return input`): self keeps its version, and autograd
# records no node for the call
UNCHANGED = _Unchanged()


def finish_inplace(op, self, r, out_dt, inputs=()):
    """Write the out-of-place result r into self (pointwise in-place variants). `inputs`:
    the other tensor operands' arrays (None for a scalar), refused when they share part of
    self's memory, as PyTorch's TensorIterator refuses them (ops/overlap.py)."""
    a = self._data
    overlap = has_internal_overlap(a)
    if overlap and op.on_expanded != "deprecated":
        raise internal_overlap_error()
    if inputs:
        assert_no_partial_overlap(a, inputs)
    sd = self._dtype
    if out_dt is not sd and (op.inplace_exact_dtype or not _dt.can_cast(out_dt, sd)):
        raise inplace_dtype_error(op, out_dt, sd)
    if sd is _dt.bfloat16 and out_dt is not sd:     # (a float32 result written to bfloat16)
        from .bfloat16_support import round_bf16
        r = round_bf16(np if type(r) is np.ndarray else _xp_for(self._device), r)
    if r.shape != a.shape:
        raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast "
                           f"shape {list(r.shape)}")       # (PyTorch's words name no op)
    if overlap:     # (masked_fill_) PyTorch writes with a deprecation warning: only the
        expanded_warning(op.public_name)    # elements it changes (those of the mask)
        write_changes(a, r.astype(a.dtype, copy=False), op.public_name)
    elif type(a) is np.ndarray:
        try:
            np.copyto(a, r, casting="unsafe")
        except ValueError:          # a read-only view (expand): torch's rules decide
            np.copyto(writable_target(a, op.public_name), r, casting="unsafe")
    else:
        a[...] = r
    self._vc[0] += 1
    return self




_NARROW = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max), 1 << (8 * np.dtype(t).itemsize))
           for t in (np.int8, np.int16, np.int32, np.uint8)}
# (and the unsigned types of limited support: u16 * 70000 and u64 * -1 wrap, as PyTorch's)
_NARROW.update({np.dtype(t): (0, int(np.iinfo(t).max), 1 << (8 * np.dtype(t).itemsize))
                for t in (np.uint16, np.uint32, np.uint64)})


def scalar_overflow(v):
    """PyTorch's parser error for a Python int given for a Scalar that fits neither int64
    nor uint64 (CPython's PyLong_AsUnsignedLongLong words)."""
    return OverflowError("can't convert negative int to unsigned" if v < 0 else
                         "int too big to convert")


def _wrap_int(v, npt):
    """Python int v as a value of the narrow integer dtype npt (two's complement); past
    int64 and uint64 both, PyTorch's parser refuses it (big_int_operand's words)."""
    lo, hi, span = _NARROW[npt]
    if lo <= v <= hi:
        return v
    if not -(1 << 63) <= v < 1 << 64:
        raise scalar_overflow(v)
    return (v - lo) % span + lo


def big_int_operand(op, name, v, npt):
    """A Python int past int64's range given for a number operand of a pointwise op whose
    compute dtype is not a narrow integer one: as PyTorch's argument parser, one below
    2**64 is a uint64 Scalar (to int64: wrapped, -2**63 for 2**63, or refused where the
    op converts it checked (clamp's bounds, masked_fill's value); to a float: its
    value), any other its OverflowError (CPython's PyLong_AsUnsignedLongLong words)."""
    if v < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if v >> 64:
        raise OverflowError("int too big to convert")
    if npt == np.int64:
        if name in op.checked_scalars:
            raise overflow_error(npt)
        return v - (1 << 64)
    return v


# c10's names of the C types in its checked conversions' errors
C_TYPE_NAMES = {np.dtype(np.int8): "int8_t", np.dtype(np.int16): "int16_t",
                np.dtype(np.int32): "int", np.dtype(np.int64): "int64_t",
                np.dtype(np.uint8): "uint8_t", np.dtype(np.float16): "c10::Half",
                np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


def overflow_error(npt):
    """c10::checked_convert's error for dtype npt."""
    return RuntimeError(f"value cannot be converted to type {C_TYPE_NAMES[np.dtype(npt)]} "
                        f"without overflow")


def checked_int(v, npt):
    """Python int v as a value of the narrow integer dtype npt, as c10::checked_convert
    takes it: in range as it is, a negative down to -max wrapped for an unsigned type
    (clamp(u8, min=-1) clamps at 255), else PyTorch's RuntimeError."""
    lo, hi, span = _NARROW[npt]
    if lo <= v <= hi:
        return v
    if lo == 0 and -hi <= v < 0:
        return v + span
    raise overflow_error(npt)


def scalar_to(v, npt):
    """Scalar::to<scalar_t>() of a Python number, a NumPy scalar of dtype `npt`: c10's
    checked conversion (a float or an int out of the dtype's range is PyTorch's
    RuntimeError; an unsigned dtype takes a negative int down to -max, wrapped), a float
    truncated toward zero for an integer dtype."""
    npt = np.dtype(npt)
    if isinstance(v, (bool, np.bool_)):
        v = int(v)
    if npt.kind == "f":
        v = float(v)
        if math.isfinite(v) and abs(v) > float(np.finfo(npt).max):
            raise overflow_error(npt)
        return npt.type(v)
    if npt.kind == "b":
        return np.bool_(v)
    info = np.iinfo(npt)
    if isinstance(v, numbers.Integral):
        v = int(v)
        if npt in _NARROW:
            return npt.type(checked_int(v, npt))
        if not info.min <= v <= info.max:
            raise overflow_error(npt)
        return npt.type(v)
    v = float(v)
    if not (math.isfinite(v) and info.min <= v <= float(info.max)):
        raise overflow_error(npt)
    # (float(int64 max) is 2^63, which passes c10's test: x86's conversion gives the min)
    return npt.type(int(v) if int(v) <= info.max else info.min)


def number_overflows(v, npt) -> bool:
    """c10::overflows<npt>(v) for a Python float v, or an int v and a float npt: a
    finite value past a float dtype's range, any value outside an integer one's (NaN
    and infinities too), compared in double as c10 (2.0**63 passes for int64)."""
    dt = np.dtype(npt)
    if dt.kind == "f":
        if type(v) is float and not math.isfinite(v):
            return False
        return abs(v) > float(np.finfo(dt).max)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if type(v) is float:
            return not float(info.min) <= v <= float(info.max)
        # (an int for a narrow type: checked_int, which wraps an unsigned one's negatives)
        return dt not in _NARROW and not info.min <= v <= info.max
    return False


def checked_number(op, name, v, npt):
    """v (a Python number given for `name`, one of op.checked_floats) as c10's checked
    conversion to the op's scalar type (npt, or its entry in the map) takes it: unchanged,
    or PyTorch's RuntimeError where it overflows (threshold(u8, 0.5, -2.5), clamp of a
    float16 tensor at 1e6, an alpha of 1e39 for float32)."""
    if type(v) is not float and (type(v) is not int or np.dtype(npt).kind == "b"):
        return v
    to = op.checked_floats[name].get(np.dtype(npt), npt)
    if to is not None and number_overflows(v, to):
        raise overflow_error(to)
    return v


def checked_arg(v, npt):
    """checked_int for a Python int (not a bool) and a narrow integer npt; v otherwise."""
    if type(v) is int and npt in _NARROW:
        return checked_int(v, npt)
    return v


# --------------------------------------------------------------------------------------
# promotion modes of pointwise ops: computation dtype -> (compute, out)

def _promote_default(ct):
    return ct, ct


def _promote_float(ct):
    if ct.category < _dt.FLOATING:      # (complex stays complex: exp of complex64)
        ct = _dt._default_float
    return ct, ct


def _promote_compare(ct):
    return ct, _dt.bool


def _promote_real(ct):
    # (abs: a complex number's is real)
    return ct, ct.to_real()


def _promote_float_real(ct):
    # (angle: an integer tensor's is of the default float dtype, a complex one's real)
    ct = _promote_float(ct)[0]
    return ct, ct.to_real()


PROMOTE_MODES = {"default": _promote_default, "float": _promote_float,
                 "compare": _promote_compare, "real": _promote_real,
                 "float_real": _promote_float_real}


# --------------------------------------------------------------------------------------

def _output_positions(schema, outputs):
    """The positions in schema's returns of `outputs` (return names or positions)."""
    names = [r.name for r in schema.returns]
    pos = set()
    for o in outputs:
        if isinstance(o, str):
            if o not in names:
                raise ValueError(f"{schema.qualified_name}: no return named {o!r}")
            o = names.index(o)
        elif not 0 <= o < len(names):
            raise ValueError(f"{schema.qualified_name}: no return at position {o}")
        pos.add(o)
    return frozenset(pos)


class OpDef:
    """One registry entry. Read by every layer; see the module docstring."""

    fortran = ()        # op(fortran=): the returns laid out as LAPACK's (_fortran_impl)
    # refuse_grad(*args): PyTorch's words where a call with gradients recorded passes a
    # tensor that requires grad for an argument its autograd kernel refuses
    # (check_no_requires_grad: nll_loss's weight), None where the call may record;
    # autograd checks it before running the op; refuse_grad.args names the arguments
    refuse_grad = None
    # composite(*args): PyTorch's CompositeImplicitAutograd decomposition of the op, run
    # through registry ops in place of the op when a call records gradients, so that the
    # backward graph has torch's nodes and edges (ravel: contiguous() then view(-1),
    # float_power: pow of float64 conversions); None: the op is one node. The eager call
    # without gradients, a call while tracing (autograd_call skips composites then) and
    # jit's autodiff keep the op itself; a composite
    # returning NotImplemented leaves that call to the op's own node (dropout on CUDA is
    # native_dropout's). (Not for an op on a training loop's hot path: F.linear as t() +
    # addmm cost ~+100 us a layer.)
    composite = None
    # forward_derivative(**named): the op's forward-mode AD formula where the generic one
    # (autograd/forward_ad.py: the double-vjp trick on `derivative`) does not give
    # PyTorch's values (a backward computed in log space, singular at a zero cotangent):
    # set by derivatives.forward_derivative. None: the generic one
    forward_derivative = None
    # traced(*args): where PyTorch's tracer does not record the op but the ATen ops it calls
    # (gen_trace_type's DONT_RECORD_TRACE: the convolutions record aten::_convolution), a
    # call while tracing runs this, whose registry calls the trace records; it returns the
    # op's result, or NotImplemented to record the op itself. None: the op is one node
    traced = None

    def __init__(self, schema: Schema, impl, *, tags=(), meta=None, scalar=None,
                 promote="default", dtypes=None, operands=None, method=True, function=True,
                 inplace=None, functional=False, name=None, doc=None, namedtuple_name=None,
                 cross_device=False, opmath_scalars=False, number_args=None,
                 contiguous=None, nondiff_outputs=(), contiguous_numbers=(), own_dtype=(),
                 parameter_numbers=(), like_self=False):
        self.schema = schema
        # own_dtype: the operands that take part in type promotion but reach the impl (and
        # the fused kernels' expression) in their own dtype, not cast to the computation
        # dtype, for ops whose arithmetic depends on the operands' dtypes, not only on the
        # one they promote to (ldexp: a floating self scales exactly by an integer
        # exponent, through 2.0 ** other in other's dtype otherwise). Their impl reads
        # the computation dtype with compute_types(kinds_of(...)); `scalar_for` gives
        # their fused expression
        self.own_dtype = frozenset(own_dtype)
        # scalar_for(form): the scalar expression for one use of the op (form: an
        # ops/scalar.ScalarForm -- its operands' dtypes, the computation dtype, the
        # constant arguments, which operands read one element), or None for `scalar`,
        # where one expression does not compute what eager computes in every case
        # (own_dtype operands; float16's rounding steps, lerp's fmadd, a constant taken in
        # the tensor's dtype). The fused kernels ask only this: every per-op, per-dtype
        # form lives next to its op
        self.scalar_for = None
        # eager_ops: how many array operations the eager body runs (a composite kernel
        # such as gelu_backward runs a dozen): the fuser counts a node as that many toward
        # its minimum group size, so such a node alone still gets a kernel of its own
        self.eager_ops = 1
        # nondiff_outputs: the returns (by name or position) that carry no gradient even
        # when floating, as derivatives.yaml's output_differentiability marks them
        # (linalg_lu's permutation matrix P, linalg_lstsq's singular_values): autograd
        # leaves them without grad_fn (integer and bool outputs never have one)
        self.nondiff_outputs = _output_positions(schema, nondiff_outputs)
        # the Tensor parameters that take a Python number, as PyTorch's Scalar overloads
        # and its numbers-as-tensors list allow (ops/number_operands.py); a number for
        # any other Tensor parameter is PyTorch's TypeError (not_tensor_error)
        self.number_operands = _number_operands(schema)
        # contiguous: the result is C-contiguous whatever the inputs' layout (PyTorch's
        # reductions; masked_fill, tril, roll, stack, layer_norm ...), not laid out as
        # the inputs (pointwise ops: as TensorIterator; NumPy's order="K" otherwise)
        # (None: a reduction's is; False: a reduction whose result PyTorch lays out
        # otherwise, quantile's with a q dim moved first)
        self.contiguous_result = ("reduction" in tags) if contiguous is None else contiguous
        # contiguous_numbers: the Tensor parameters given a Python number for which the
        # result is C-contiguous whatever the other operands' layout: PyTorch's Scalar
        # overload there allocates its output with no strides (pow.Scalar's
        # set_output_raw_strided(exp.sizes(), {}) before its TensorIterator redispatch:
        # 2.0 ** x.t() is contiguous, torch.tensor(2.0) ** x.t() is laid out as x.t())
        self.contiguous_numbers = tuple(contiguous_numbers)
        # parameter_numbers: the operands that, given a Python number, are a parameter of
        # PyTorch's kernel (a Scalar overload run as a unary TensorIterator) rather than a
        # 0-dim operand, so they take no part in the result's layout: clamp(x, -1, 1) and
        # x ** 2 of a contiguous x with strides (1, 1) in its size-1 dims have C strides
        # (TensorIterator's fast setup: one operand, contiguous), where x * 2 (a wrapped
        # number, an operand of another shape) keeps (1, 1). Read by the eager entry points,
        # the interpreter's generated code and the fuser's eager_perm.
        self.parameter_numbers = tuple(parameter_numbers)
        # like_self: PyTorch computes the result into empty_like(self) (nan_to_num), so it
        # has self's strides where self is dense (memory_format.like_strides), not a
        # TensorIterator's. Read as parameter_numbers is.
        self.like_self = like_self
        # number_args: how a fused kernel takes a Python number given for a parameter, where
        # it differs from converting it to the compute dtype (as eager computes it):
        # "weak" keeps it a number (pow's exponent: sqrt for 0.5), "opmath" makes it
        # float32 for float16 (lerp's weight), "int_in_int" truncates a float to an int
        # when the op computes in an integer type (addcmul's value)
        self.number_args = dict(number_args or {})
        # opmath_scalars: with float16 operands and a Python number or a 0-dim tensor of
        # another dtype as the second operand, compute in float32 (PyTorch's mul, div and
        # floor_divide: the number is not rounded to float16 first; their CPU kernels'
        # iter.is_scalar(2) -- a number as the FIRST operand, torch.mul(2.3001, h) or
        # 1000.3 // h, is rounded to half, as any other operand)
        self.opmath_scalars = opmath_scalars
        # cross_device: the other tensors move to the first one's device (copy_), instead
        # of the same-device check every other op makes; "indices": the tensors of the
        # `indices` list may be on the CPU too (they move), the others share a device;
        # "keep": the other tensors are passed as they are, on their own devices
        self.cross_device = cross_device
        # device_check(xs): where PyTorch's kernel checks its tensors' devices exactly
        # (the matrix products' CUDA wrappers: no 0-dim CPU exception, the argument and
        # the wrapper named), the error for the operands xs the entry point joins, or
        # None where they pass (ops/device_checks.py); called on mixed devices only
        self.device_check = None
        # unchanged_when(*args): an in-place op's test that the call leaves self as it is
        # (its impl then returns UNCHANGED); autograd skips its in-place checks for it
        self.unchanged_when = None
        # a Tensor-level implementation for calls with bfloat16 operands (or dtype=), where
        # the array-level impl cannot tell bfloat16 from float32 (view(dtype)):
        # bfloat16_kernels.TENSOR_IMPLS; NotImplemented from it runs the impl
        self.bf16_impl = None
        # untracked_when(*args): a test that the call's result carries no gradient though
        # its inputs require one (PyTorch's composite returns fresh zeros there:
        # trapezoid of no samples); autograd then runs the op without recording it
        self.untracked_when = None
        # check_kinds(kinds): raises for operand dtypes the op refuses before promotion
        # (PyTorch's sub of a bool tensor), where `dtypes` sees only the computation dtype
        self.check_kinds = None
        # False: the op converts its operands to one dtype before computing (float_power's
        # float64), so a Python int past int64 (a uint64 Scalar) promotes with nothing
        self.promotes_operands = True
        # a check of its out= tensors (out_variants._check; all / any: bool or uint8 only)
        self.out_check = None
        # Python-int arguments PyTorch converts to a narrow integer compute type with
        # c10::checked_convert (clamp's bounds, masked_fill's value ...): out of range they
        # raise, where other ops' (add, comparisons) wrap (checked_int)
        self.checked_scalars = frozenset()
        # {name: {dtype: dtype or None}}: Python floats (and ints, for float16) PyTorch
        # converts with c10::checked_convert to the compute dtype, or to the one the map
        # names (None: not checked), e.g. threshold(u8, -0.5, 1.0) or clamp(h, 1e6)
        # raise: checked_number
        self.checked_floats = {}
        self.name = schema.qualified_name
        self.impl = impl
        unknown = set(tags) - TAGS
        if unknown:
            raise ValueError(f"{self.name}: unknown tags {sorted(unknown)}")
        self.tags = frozenset(tags)
        self.meta = meta
        self.scalar = scalar
        self.derivative = None       # filled by the autograd issue
        self.promote = promote
        self.dtypes = frozenset(dtypes) if dtypes is not None else frozenset(_dt.ALL)
        # complex tensors: only the ops listed in ops/complex_support.py take them (their
        # entry points refuse a complex Tensor or dtype= otherwise)
        from .complex_support import opted_in
        self.takes_complex = opted_in(schema.qualified_name)
        if self.takes_complex:
            self.dtypes |= frozenset(_dt.COMPLEX_TYPES)
        else:
            self.dtypes -= frozenset(_dt.COMPLEX_TYPES)
        # uint16 / uint32 / uint64: only the ops listed in ops/unsigned_support.py
        from .unsigned_support import takes_unsigned
        self.takes_unsigned = takes_unsigned(schema.qualified_name)
        if self.takes_unsigned:
            self.dtypes |= frozenset(_dt.UNSIGNED_TYPES)
        else:
            self.dtypes -= frozenset(_dt.UNSIGNED_TYPES)
        # bfloat16 likewise: ops/bfloat16_support.py
        from .bfloat16_support import opted_in as _bf16_opted_in
        self.takes_bf16 = _bf16_opted_in(schema.qualified_name)
        if self.takes_bf16:
            from .bfloat16_kernels import TENSOR_IMPLS
            self.bf16_impl = TENSOR_IMPLS.get(schema.qualified_name)
        if self.takes_bf16 and _dt.float32 in self.dtypes:
            self.dtypes |= frozenset((_dt.bfloat16,))
        tensor_args = [a.name for a in schema.arguments
                       if a.type.base in ("Tensor",) and not a.type.is_list]
        self.operands = tuple(operands) if operands is not None else tuple(tensor_args)
        self.public_name = name or schema.base_name
        self.bind_method = method
        self.bind_function = function
        self.inplace_name = inplace
        self.bind_functional = functional
        self.doc = doc or impl.__doc__
        self.namedtuple = None
        if any(r.name for r in schema.returns) and len(schema.returns) > 1:
            self.namedtuple = _return_types.make(namedtuple_name or schema.base_name,
                                                 [r.name for r in schema.returns])
        self._cache = {}            # operand kinds -> (compute, out) dtypes
        _dt.DEFAULT_DTYPE_CACHES.append(self._cache)
        self.source = None
        self.eager = None          # no-hook entry point, same signature as the public one
        self.public = None         # the public entry point (hook check first)
        self.method_public = None  # the same, as Tensor.<name> binds it (entry_codegen)
        self.function_public = None  # the same, as torch.<name> binds it (entry_codegen)
        self.inplace_of = None     # for generated in-place variants: the out-of-place op
        self.out_of = None         # for out= variants (out_variants.py): the functional op
        self.inplace_variant = None
        # an in-place variant whose result dtype must be self's exactly (PyTorch's
        # float_power_), not just castable to it
        self.inplace_exact_dtype = False
        # positions, in the schema's tensor arguments, of the order PyTorch's kernel
        # broadcasts them in where it is not the schema's (broadcast_error's words)
        self.broadcast_order = None
        # an in-place op given a self whose elements share memory (expand): None refuses
        # it (PyTorch's internal-overlap error), "write" / "deprecated" (with PyTorch's
        # deprecation warning) write through it, "changes" writes only changed elements
        self.on_expanded = on_expanded_policy(self.name)

    def bind(self, args, kwargs):
        """The call's arguments in schema order, defaults filled in (a TypeError like
        Python's for a bad call). Used by the tracer, the script compiler and meta tests."""
        params = self.schema.arguments
        positional = [p for p in params if not p.kwarg_only]
        if len(args) > len(positional):
            raise TypeError(f"{self.public_name}() takes {len(positional)} positional "
                            f"arguments but {len(args)} were given")
        out = list(args)
        for p in params[len(args):]:
            if p.name in kwargs:
                out.append(kwargs[p.name])
            elif p.has_default:
                out.append(p.default)
            else:
                raise TypeError(f"{self.public_name}() missing required argument {p.name!r}")
        extra = set(kwargs) - {p.name for p in params[len(args):]}
        if extra:
            raise TypeError(f"{self.public_name}() got unexpected keyword arguments "
                            f"{sorted(extra)}")
        return out

    @property
    def is_pointwise(self):
        return "pointwise" in self.tags

    def __repr__(self):
        return f"<op {self.schema}>"

    def __call__(self, *args, **kwargs):
        return self.public(*args, **kwargs)

    def compute_types(self, kinds, *extras):
        """(compute dtype, out dtype) for operand kinds ((dtype, DIM|ZERO_DIM|SCALAR), ...)."""
        # a callable promote rule may read the extras (div's rounding_mode): not cached
        r = None if callable(self.promote) else self._cache.get(kinds)
        if r is not None:
            return r
        if self.check_kinds is not None:        # (kinds that fail are never cached)
            self.check_kinds(kinds)
        if not self.takes_complex:
            # (a complex operand of an op whose promotion maps it to a real type,
            # float_power's float64: refused, not computed as its real part)
            for k in kinds:
                if k[0].cplx:
                    raise complex_refused(self, k[0])
        if not self.takes_bf16 and not self.is_pointwise:
            for k in kinds:
                if k[0] is _dt.bfloat16:
                    raise bf16_refused(self)
        try:
            ct = _dt.result_type_from_kinds(kinds)
        except RuntimeError:
            if self.promotes_operands:
                raise
            ct = _dt.result_type_from_kinds(tuple(
                (_dt.int64, k) if d is _dt.uint64 and k == _dt.SCALAR else (d, k)
                for d, k in kinds))
        if not self.takes_bf16 and ct is _dt.bfloat16:
            # (a pointwise op refuses bfloat16 only as its computation dtype, as
            # TensorIterator: special.chebyshev_polynomial_t(float32, bfloat16) is float32)
            raise bf16_refused(self)
        if callable(self.promote):
            r = self.promote(ct, *extras)
        else:
            r = PROMOTE_MODES[self.promote](ct)
        if (self.opmath_scalars and r[0] is _dt.float16
                and len(kinds) > 1 and (kinds[1][1] == _dt.SCALAR
                                        or (kinds[1][1] == _dt.ZERO_DIM
                                            and kinds[1][0] is not _dt.float16))):
            r = (_dt.float32, r[1])
        if r[0] not in self.dtypes:
            raise unsupported_dtype(self, r[0])
        if not callable(self.promote):
            self._cache[kinds] = r
        return r


# --------------------------------------------------------------------------------------
# declaration

def op(schema: str, *, tags=(), meta=None, scalar=None, promote="default", dtypes=None,
       operands=None, method=True, function=True, inplace=None, functional=False, name=None,
       namedtuple_name=None, cross_device=False, opmath_scalars=False, number_args=None,
       contiguous=None, nondiff_outputs=(), fortran=(), contiguous_numbers=(),
       own_dtype=(), parameter_numbers=(), like_self=False):
    """Declare an op. `inplace=True` (pointwise) also declares `aten::<name>_` and binds
    `Tensor.<name>_`. `method`/`function`/`functional` choose where the public entry point
    is bound (a string renames it). `nondiff_outputs`: the returns (names or positions)
    that carry no gradient though floating. `fortran`: the returns (names or positions)
    PyTorch's LAPACK kernels hand back column-major per matrix (linalg.inv, qr's Q and R
    ...), or a function of the impl's arguments giving them (linalg.solve: only with
    left=True); the impl itself is wrapped, so eager, traced and scripted calls (which
    all run op.impl) lay them out alike. See the module docstring."""
    def deco(impl):
        s = parse_schema(schema)
        if fortran:
            impl = _fortran_impl(impl, s, fortran)
        d = OpDef(s, impl, tags=tags, meta=meta, scalar=scalar, promote=promote,
                  dtypes=dtypes, operands=operands, method=method, function=function,
                  inplace=inplace, functional=functional, name=name,
                  namedtuple_name=namedtuple_name, cross_device=cross_device,
                  opmath_scalars=opmath_scalars, number_args=number_args,
                  contiguous=contiguous, nondiff_outputs=nondiff_outputs,
                  contiguous_numbers=contiguous_numbers, own_dtype=own_dtype,
                  parameter_numbers=parameter_numbers, like_self=like_self)
        d.fortran = fortran
        register(d)
        if inplace and d.is_pointwise:
            _declare_inplace_variant(d)
        impl.op = d
        return impl
    return deco


def _fortran_impl(impl, s, spec):
    """impl with the returns `spec` names laid out as PyTorch's LAPACK results
    (memory_format.fortran_layout)."""
    from .memory_format import fortran_results
    fixed = None if callable(spec) else _output_positions(s, spec)

    def lapack_layout(xp, *args, **kwargs):
        r = impl(xp, *args, **kwargs)
        pos = fixed if fixed is not None else _output_positions(s, spec(*args, **kwargs))
        return fortran_results(xp, r, pos)
    for a in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(lapack_layout, a, getattr(impl, a))
    lapack_layout.unlaid = impl        # (the impl without the layout step)
    return lapack_layout


def _declare_inplace_variant(d):
    s = d.schema
    args = list(s.arguments)
    from dataclasses import replace
    self_t = replace(args[0].type, alias="a", is_write=True)
    args[0] = replace(args[0], type=self_t)
    # (a string inplace= that is a Python operator's name, __iand__, names the schema too:
    # torch's aten::__iand__ is the in-place op of aten::__and__)
    dunder = isinstance(d.inplace_name, str) and d.inplace_name.startswith("__")
    s2 = Schema(s.name.split("::")[0] + "::" + d.inplace_name if dunder else s.name + "_",
                s.overload, tuple(args),
                (replace(s.returns[0], type=replace(s.returns[0].type, alias="a",
                                                    is_write=True)),),
                False, "")
    s2 = replace(s2, text=str(s2))
    name = d.inplace_name if isinstance(d.inplace_name, str) else d.public_name + "_"
    v = OpDef(s2, d.impl, tags=(d.tags - {"pointwise"}) | {"inplace", "pointwise"},
              meta=d.meta, scalar=d.scalar, promote=d.promote, dtypes=d.dtypes,
              operands=d.operands, method=name, function=False, name=name,
              opmath_scalars=d.opmath_scalars, number_args=d.number_args,
              own_dtype=d.own_dtype)
    v.inplace_of = d
    d.inplace_variant = v
    if d.takes_complex and not v.takes_complex and d.promote not in ("real", "float_real"):
        # (x.mul_(y) takes a complex x where x.mul(y) does; abs_ does not: its result
        # would be real)
        v.takes_complex = True
        v.dtypes |= frozenset(_dt.COMPLEX_TYPES)
    if d.takes_unsigned and not v.takes_unsigned:
        v.takes_unsigned = True
        v.dtypes |= frozenset(_dt.UNSIGNED_TYPES)
    if d.takes_bf16 and not v.takes_bf16:       # (x.mul_(y) of a bfloat16 x, likewise)
        v.takes_bf16 = True
    register(v)


def register(d: OpDef):
    if d.name in OPS:
        raise ValueError(f"op {d.name} declared twice")
    if _Tensor is None:
        raise RuntimeError("gpujit.tensor must be imported before ops are declared")
    OPS[d.name] = d
    OVERLOADS.setdefault(d.schema.name, []).append(d)
    build_entry_points(d)
    for target, flag in (("function", d.bind_function), ("method", d.bind_method),
                         ("functional", d.bind_functional)):
        if flag:
            pyname = flag if isinstance(flag, str) else d.public_name
            _PUBLIC.setdefault(target, {}).setdefault(pyname, []).append(d)


EXTRA_METHODS: dict = {}   # Tensor methods that are Python compositions of registry ops


def tensor_method(name):
    """Bind a Python function as Tensor.<name> when a method is not a plain schema binding
    (e.g. x.where(cond, y) calls where(cond, x, y)). It must compute through registry ops."""
    def deco(fn):
        EXTRA_METHODS[name] = fn
        return fn
    return deco


def get(name: str) -> OpDef:
    """OPS lookup by qualified name ('aten::add.Tensor') or unique base name ('aten::add')."""
    if name in OPS:
        return OPS[name]
    ovs = OVERLOADS.get(name)
    if ovs and len(ovs) == 1:
        return ovs[0]
    if ovs:
        raise KeyError(f"{name} has overloads {[o.name for o in ovs]}; name one")
    raise KeyError(f"no op named {name!r} in the registry")


# public name -> a keyword argument its ops' schemas take but PyTorch's binding of that
# name does not (aliases.ALIAS_DROPS: true_divide's rounding_mode)
KWARG_DROPS: dict = {}


def _without_kwarg(fn, name, kw):
    def entry(*args, **kwargs):
        if kw in kwargs:
            raise TypeError(f"{name}() got an unexpected keyword argument '{kw}'")
        return fn(*args, **kwargs)
    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = fn.__doc__
    for a in ("op", "overloads"):
        if hasattr(fn, a):
            setattr(entry, a, getattr(fn, a))
    return entry


def public_bindings(target):
    """{python name: callable} for 'function', 'method' or 'functional'."""
    from .overloads import make_dispatcher
    from .out_variants import python_out
    method = target == "method"
    # (PyTorch's parser's other names for parameters, ops/numpy_aliases.py: its bindings
    # only, not torch.nn.functional's Python functions; out_variants.with_out renames
    # them for a function taking out=)
    aliases = target in ("method", "function")
    out = {n: make_dispatcher(n, ovs, method, aliases, aliases and (
        method or not any(python_out(d) for d in ovs)))
        for n, ovs in _PUBLIC.get(target, {}).items()}
    for n, kw in KWARG_DROPS.items():
        if n in out:
            out[n] = _without_kwarg(out[n], n, kw)
    return out
