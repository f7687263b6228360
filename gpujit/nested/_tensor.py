"""NestedTensor: torch.nested's strided layout (see gpujit/nested/__init__.py for the
representation and why).

A NestedTensor holds one dense 1-D buffer Tensor (`_nt_buf`) and, per component, its sizes
and strides (`_nt_sizes`, `_nt_strides`: int64 arrays, components x (dim - 1)) and its
offset into the buffer (`_nt_offsets`), on the host, as PyTorch's NestedTensorImpl keeps
them in CPU int64 tensors. Component i is buf.as_strided(sizes[i], strides[i], offsets[i]):
unbind() hands out views of the buffer, a transpose is a view (strides swapped), and
autograd lives on the buffer (a nested tensor requires grad, has a grad_fn and is a leaf as
its buffer does).

It has no dense array: its `_data` raises registry.NestedOperand naming the registry op
whose entry point reads it, which the entry point catches (the `try` that serves sparse
operands, free when nothing is raised) to run the op's nested kernel (gpujit/nested/
_ops.py) or raise PyTorch's NotImplementedError for the NestedTensorCPU backend. Read
anywhere else it raises PyTorch's "NestedTensorImpl doesn't support sizes" (NestedDataError,
an AttributeError too, so code that probes for a dense array -- the script dispatcher's
guards -- takes its generic path).
"""
from __future__ import annotations

import sys
import warnings

import numpy as np

from .. import dtypes as _dt
from ..ops import registry as _registry
from ..overrides import _disabled_torch_function_impl
from ..tensor import Tensor

__all__ = ["NestedTensor", "make_nested", "from_components", "components",
           "rebuild_nested_tensor", "quiet_nested"]

_NO_SIZES = "Internal error: NestedTensorImpl doesn't support sizes. Please file an issue."
_NO_STRIDES = "Internal error: NestedTensorImpl doesn't support strides. Please file an issue."


_PROTOTYPE = ("The PyTorch API of nested tensors is in prototype stage and will change in the "
              "near future. We recommend specifying layout=torch.jagged when constructing a "
              "nested tensor, as this layout receives active development, has better "
              "operator coverage, and works with torch.compile.")
_warned = []


_constructor = [None]


class constructor_frame:
    """While torch.nested.nested_tensor / as_nested_tensor build: the frame the warning
    points at (their own line, as PyTorch's points at torch/nested/__init__.py)."""

    def __init__(self, frame):
        self.frame = frame

    def __enter__(self):
        self.saved, _constructor[0] = _constructor[0], self.frame

    def __exit__(self, *exc):
        _constructor[0] = self.saved


def _warn_prototype():
    """PyTorch's UserWarning of NestedTensorImpl's constructor (TORCH_WARN_ONCE: once per
    process, or for every nested tensor made while set_warn_always(True)); it points at the
    Python line that called into the constructor: torch.nested.nested_tensor's own, or the
    user's line of the op that made it."""
    from ..runtime_flags import is_warn_always_enabled
    if _warned and not is_warn_always_enabled():
        return
    _warned.append(True)
    frame = _constructor[0]
    if frame is None:
        from .._frames import calling_frame
        frame = calling_frame()
    if frame is None:
        warnings.warn(_PROTOTYPE, UserWarning, stacklevel=3)
        return
    warnings.warn_explicit(_PROTOTYPE, UserWarning, frame.f_code.co_filename, frame.f_lineno,
                           module=frame.f_globals.get("__name__", "<string>"),
                           registry=frame.f_globals.setdefault("__warningregistry__", {}))


class NestedDataError(RuntimeError, AttributeError):
    """PyTorch's RuntimeError for reading a nested tensor's sizes, raised by `_data` (the
    dense array it does not have): an AttributeError as well, so gpujit's probes for a
    dense array (the script dispatcher's guards) see none. A traceback shows it as
    PyTorch's: `RuntimeError: Internal error: NestedTensorImpl doesn't support sizes`.
    (x.shape, x.size(), x.stride() raise a plain RuntimeError, as PyTorch's: hasattr(x,
    "shape") raises too.)"""


NestedDataError.__module__ = "builtins"
NestedDataError.__name__ = NestedDataError.__qualname__ = "RuntimeError"


def _backend(dev):
    return "NestedTensor" + ("CUDA" if dev.type == "cuda" else "CPU")


def not_implemented(name, dev):
    return NotImplementedError(
        f"Could not run '{name}' with arguments from the '{_backend(dev)}' backend. This "
        f"could be because the operator doesn't exist for this backend, or was omitted "
        f"during the selective/custom build process (if using custom build).")


def _refusal(frame, dev):
    """The error for reading a nested tensor's dense array: NestedOperand naming the
    registry op whose entry point reads it (its generated code binds `_op`), else
    PyTorch's "doesn't support sizes"."""
    for _ in range(8):
        if frame is None:
            break
        op = _registry.entry_op_of(frame)
        if op is not None:
            return _registry.NestedOperand(str(not_implemented(op.name, dev)), op)
        frame = frame.f_back
    return NestedDataError(_NO_SIZES)


class NestedTensor(Tensor):
    """A nested tensor (torch.nested.nested_tensor's strided layout).

    PyTorch's strided nested tensor is a torch.Tensor itself (its NestedTensorImpl is
    C++'s): so here x.__class__ is gpujit.Tensor and type(x) prints <class
    'gpujit.Tensor'>, only `type(x) is gpujit.Tensor` tells it apart (gpujit's fast paths
    for dense tensors check just that)."""
    __slots__ = ("_nt_buf", "_nt_sizes", "_nt_strides", "_nt_offsets")
    __module__ = "gpujit"

    @property
    def __class__(self):
        return Tensor
    # (not a __torch_function__ subclass: no dispatch layer for it, gpujit/overrides.py)
    __torch_function__ = _disabled_torch_function_impl
    _nested_layout = True       # (the runtime's mark: a graph holding one runs op by op)
    _nested_layout_name = "strided"     # ("jagged": gpujit/nested/_jagged.py's)

    @property
    def _data(self):
        raise _refusal(sys._getframe(1), self._device)

    @_data.setter
    def _data(self, value):
        raise RuntimeError("set_data: a nested tensor's data cannot be replaced")

    @property
    def data(self):
        return self.detach()

    # ------------------------------------------------------------ sizes and flags
    @property
    def is_nested(self):
        return True

    @property
    def layout(self):
        return _dt.strided

    @property
    def shape(self):
        raise RuntimeError(_NO_SIZES)

    def dim(self):
        return 1 + self._nt_sizes.shape[1]

    ndimension = dim

    @property
    def ndim(self):
        return self.dim()

    def size(self, dim=None):
        if dim is None:
            raise RuntimeError(_NO_SIZES)
        from ..tensor import _wrap_dim
        if dim.__class__ is not int:
            import operator
            try:
                dim = operator.index(dim)
            except TypeError:
                raise TypeError(f"size(): argument 'dim' (position 1) must be int, not "
                                f"{type(dim).__name__}") from None
        d = _wrap_dim(dim, self.dim(), "size")
        if d == 0:
            return self._nt_sizes.shape[0]
        col = self._nt_sizes[:, d - 1]
        if col.size and (col != col[0]).any():
            raise RuntimeError(f"Given dimension {d} is irregular and does not have a size.")
        return int(col[0]) if col.size else 0

    def stride(self, dim=None):
        raise RuntimeError(_NO_STRIDES)

    def numel(self):
        return int(np.prod(self._nt_sizes, axis=1).sum()) if self._nt_sizes.size else 0

    nelement = numel

    def __len__(self):
        raise RuntimeError(_NO_SIZES)

    def is_contiguous(self, memory_format=None):
        """Components packed one after the other in the buffer, each contiguous."""
        sizes, strides, offsets = self._nt_sizes, self._nt_strides, self._nt_offsets
        n = sizes.shape[0]
        if n == 0:
            return True
        if not np.array_equal(strides, _contiguous_strides(sizes)):
            return False
        ends = offsets + np.prod(sizes, axis=1)
        return int(offsets[0]) == 0 and np.array_equal(offsets[1:], ends[:-1])

    def data_ptr(self):
        return self._nt_buf.data_ptr()

    @property
    def nbytes(self):
        return self.numel() * self.element_size()

    def is_pinned(self, device=None):
        return self._nt_buf.is_pinned()

    def is_shared(self):
        return self._nt_buf.is_shared()

    def get_device(self):
        return self._nt_buf.get_device()

    def storage_offset(self):
        return 0

    def untyped_storage(self):
        return self._nt_buf.untyped_storage()

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(components(self)[int(np.argmax(np.prod(self._nt_sizes, axis=1)))].item())

    def item(self):
        raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to "
                           f"Scalar")

    def tolist(self):
        raise RuntimeError(_NO_STRIDES)

    def _nested_tensor_size(self):
        return _host_tensor(self._nt_sizes)

    def _nested_tensor_strides(self):
        return _host_tensor(self._nt_strides)

    def _nested_tensor_storage_offsets(self):
        return _host_tensor(self._nt_offsets)

    def values(self):
        """The buffer (torch's strided nested tensor's values(): every element, flat)."""
        return self._nt_buf

    # ------------------------------------------------------------ components
    # (the methods below call their registry ops, so a trace records aten::unbind,
    # aten::select, aten::to_padded_tensor as PyTorch's does; the kernels are in _ops)
    def unbind(self, dim=0):
        return _registry.OPS["aten::unbind.int"].public(self, dim)

    def __getitem__(self, index):
        import operator
        try:
            i = operator.index(index)
        except TypeError:
            raise not_implemented("aten::slice.Tensor" if isinstance(index, (slice, tuple))
                                  else "aten::index.Tensor", self._device) from None
        return _registry.OPS["aten::select.int"].public(self, 0, i)

    def to_padded_tensor(self, padding, output_size=None):
        return _registry.OPS["aten::to_padded_tensor"].public(self, padding, output_size)

    def __repr__(self):
        return nested_repr(self)

    __str__ = __repr__

    # ------------------------------------------------------------ autograd: the buffer's
    @property
    def requires_grad(self):
        return self._nt_buf.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag.__class__ is not bool:
            raise RuntimeError("requires_grad must be a bool")
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        b = self._nt_buf
        if requires_grad == b.requires_grad:
            return self
        if requires_grad and b._dtype.category < _dt.FLOATING:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and b.grad_fn is not None:
            b = b.detach()
        self._nt_buf = b if not requires_grad else b.requires_grad_(True)
        if not requires_grad:
            b.requires_grad_(False)
        return self

    @property
    def grad_fn(self):
        return self._nt_buf.grad_fn

    @property
    def is_leaf(self):
        return self._nt_buf.grad_fn is None

    @property
    def grad(self):
        b = self._nt_buf
        keeps = b.grad_fn is None or (b._ag is not None and b._ag.retains_grad)
        g = b.grad if keeps else None
        return None if g is None else _like(self, g)

    def retain_grad(self):
        self._nt_buf.retain_grad()

    @property
    def retains_grad(self):
        return self._nt_buf.retains_grad

    @grad.setter
    def grad(self, g):
        self._nt_buf.grad = None if g is None else g._nt_buf

    def detach(self):
        return _like(self, self._nt_buf.detach())

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """The gradient (a nested tensor of self's sizes) flows to self's inputs."""
        from ..autograd import backward
        if gradient is None:
            backward([self._nt_buf], None, retain_graph, create_graph, inputs=inputs)
            return
        if not isinstance(gradient, NestedTensor) or \
                not np.array_equal(gradient._nt_sizes, self._nt_sizes):
            raise RuntimeError("The gradient of a nested tensor must be a nested tensor of "
                               "the same sizes")
        if self.is_contiguous() and gradient.is_contiguous() and \
                self._nt_buf.numel() == gradient._nt_buf.numel() == self.numel():
            backward([self._nt_buf], [gradient._nt_buf], retain_graph, create_graph,
                     inputs=inputs)
        else:
            backward(components(self), components(gradient), retain_graph, create_graph,
                     inputs=inputs)

    def __reduce__(self):
        """pickle / torch.save: torch._utils._rebuild_nested_tensor(buffer, sizes,
        strides, offsets), as PyTorch's (gpujit/serialization writes that name)."""
        return (rebuild_nested_tensor, (self._nt_buf.detach(), self._nested_tensor_size(),
                                        self._nested_tensor_strides(),
                                        self._nested_tensor_storage_offsets()))

    def __reduce_ex__(self, protocol):
        return self.__reduce__()

    def __deepcopy__(self, memo):
        t = self.clone()
        if self.requires_grad:
            t.requires_grad_(True)
        memo[id(self)] = t
        return t


NestedTensor.__name__ = NestedTensor.__qualname__ = "Tensor"    # (see its docstring)


# ---------------------------------------------------------------- construction
def _contiguous_strides(sizes):
    """Row-major strides of each row of sizes (components x dims)."""
    n, d = sizes.shape
    st = np.ones((n, d), np.int64)
    for j in range(d - 2, -1, -1):
        st[:, j] = st[:, j + 1] * sizes[:, j + 1]
    return st


def _host_tensor(a):
    from ..ops.registry import wrap
    from ..device import cpu
    return wrap(np.array(a, np.int64), _dt.int64, cpu)


def make_nested(buf, sizes, strides, offsets):
    """A NestedTensor over 1-D buffer Tensor buf with the components' sizes, strides
    (int64 arrays, components x dims) and offsets."""
    t = object.__new__(NestedTensor)
    t._nt_buf = buf
    t._nt_sizes = np.asarray(sizes, np.int64)
    t._nt_strides = np.asarray(strides, np.int64)
    t._nt_offsets = np.asarray(offsets, np.int64)
    t._dtype, t._device = buf._dtype, buf._device
    t._vc, t._ag, t._base = buf._vc, None, None
    if (not _warned or _warn_always()) and not _quiet:
        _warn_prototype()
    return t


_quiet = []


class quiet_nested:
    """While the strided kernels compute a jagged nested tensor's op (gpujit/nested/
    _jagged.py): their strided intermediates are no strided nested tensors the user made,
    and PyTorch's jagged layout does not warn."""

    def __enter__(self):
        _quiet.append(True)

    def __exit__(self, *exc):
        _quiet.pop()


def _warn_always():
    from ..runtime_flags import is_warn_always_enabled
    return is_warn_always_enabled()


def _like(nt, buf):
    """A nested tensor with nt's components' layout over another buffer."""
    return make_nested(buf, nt._nt_sizes, nt._nt_strides, nt._nt_offsets)


def from_components(tensors, dtype=None, device=None):
    """A contiguous nested tensor of the dense tensors (each flattened into one new
    buffer, in order; gradients flow to them through the buffer's concatenation)."""
    import gpujit
    ts = list(tensors)
    if not ts:
        buf = gpujit.empty(0, dtype=dtype or _dt.get_default_dtype(), device=device)
        return make_nested(buf, np.zeros((0, 0), np.int64), np.zeros((0, 0), np.int64),
                           np.zeros(0, np.int64))
    sizes = np.array([tuple(t.shape) for t in ts], np.int64).reshape(len(ts), ts[0].dim())
    counts = np.prod(sizes, axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    flat = [t.reshape(-1) for t in ts]
    # (a copy always, as PyTorch's constructors from a list)
    buf = gpujit.cat(flat) if len(flat) > 1 else flat[0].clone(
        memory_format=gpujit.contiguous_format)
    if dtype is not None or device is not None:
        buf = buf.to(device=device, dtype=dtype)
    return make_nested(buf, sizes, _contiguous_strides(sizes), offsets)


def rebuild_nested_tensor(buffer, sizes, strides, storage_offsets):
    """torch._utils._rebuild_nested_tensor: the nested tensor over buffer."""
    def host(t):
        return np.asarray(t.numpy() if isinstance(t, Tensor) else t, np.int64)
    return make_nested(buffer, host(sizes), host(strides), host(storage_offsets))


def component(nt, i):
    """Component i of nt (PyTorch's select(0, i) of a nested tensor: its errors)."""
    n = nt._nt_sizes.shape[0]
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of bounds for dimension 0 with size {n}")
    return components(nt)[i]


def unbind(nt, dim=0):
    # (PyTorch checks the dim as given: unbind(-3) of a 3-d one is refused too)
    if dim != 0:
        raise RuntimeError(f"NestedTensor can only be unbound along dimension 0 got "
                           f"dimension {dim} instead.")
    return tuple(components(nt))


def components(nt):
    """The components of nt: views of its buffer."""
    buf = nt._nt_buf
    return [buf.as_strided(tuple(int(x) for x in s), tuple(int(x) for x in st), int(o))
            for s, st, o in zip(nt._nt_sizes, nt._nt_strides, nt._nt_offsets)]


# ---------------------------------------------------------------- repr
def nested_repr(nt):
    """repr of a nested tensor as PyTorch prints it: each component's repr indented by
    two spaces inside `nested_tensor([...])`, then the device, grad_fn / requires_grad."""
    from .._tensor_str import _add_suffixes, _grad_fn_name
    req = nt.requires_grad
    parts = []
    for c in components(nt):
        s = repr(c.detach().requires_grad_(True) if req else c.detach())
        parts.append("\n".join(f"  {ln}" for ln in s.split("\n")))
    body = "[\n" + ",\n".join(parts) + "\n]"
    suffixes = []
    if nt._device.type != "cpu":
        suffixes.append(f"device='{nt._device}'")
    gf = nt.grad_fn
    if gf is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(gf)}>")
    elif req:
        suffixes.append("requires_grad=True")
    return _add_suffixes("nested_tensor(" + body, suffixes, len("nested_tensor("))
