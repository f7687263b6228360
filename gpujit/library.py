"""torch.library: user-defined operators (custom ops) in the one op registry.

`Library(ns, "DEF" | "FRAGMENT" | "IMPL").define(schema)` declares `ns::name(...)`;
`.impl(name, fn, dispatch_key)` gives it a kernel written in Python over Tensors;
`custom_op("ns::name", mutates_args=())` does both from a type-annotated function (its
schema inferred as PyTorch's infer_schema does). A declared op is a registry OpDef like
aten's: `torch.ops.ns.name` calls it eagerly, the tracer records it as one `ns::name`
node, scripted code that calls `torch.ops.ns.name(...)` compiles to that node, and a saved
model names it (its loader must define the op again first, as TorchScript's must load the
library). Its impl wraps the registry's arrays as Tensors, picks the kernel by the
arguments' device (CPU / CUDA, else CompositeExplicitAutograd / CompositeImplicitAutograd)
and runs it unrecorded (no tracing, no gradients), so the op is one node everywhere.
Gradients: `register_autograd(backward, setup_context=)` (custom_op's, or
torch.library.register_autograd); without one, a custom_op's result that requires grad
refuses backward in PyTorch's words, and a CompositeImplicitAutograd kernel records its own
ops (PyTorch's decomposition). `register_fake` / Meta kernels are kept (gpujit has no fake
tensors: its shape rules are the ops' own runs).
"""
from __future__ import annotations

import inspect
import weakref
import traceback
import typing

from . import dtypes as _dt
from .device import device_of_array as _device_of
from .ops import registry as _reg
from .ops.schema import parse_schema as _parse_schema

__all__ = ["Library", "custom_op", "CustomOpDef", "infer_schema", "register_fake",
           "register_autograd", "register_kernel", "impl", "define"]

_DEF_NAMESPACES: dict = {}      # ns -> where its "DEF" Library was made
_KERNELS: dict = {}             # qualified op name -> {dispatch key: fn}
_AUTOGRAD: dict = {}            # qualified op name -> (backward, setup_context)
_FAKE: dict = {}                # qualified op name -> fake (meta) kernel
_CUSTOM: dict = {}              # qualified op name -> CustomOpDef (custom_op's)

_COMPOSITE = ("CompositeExplicitAutograd", "CompositeImplicitAutograd")
_KEYS = frozenset({"CPU", "CUDA", "Meta", "Autograd", "AutogradCPU", "AutogradCUDA", "",
                   *_COMPOSITE})


def _where():
    f = traceback.extract_stack(limit=4)[0]
    return f"{f.filename}:{f.lineno}"


class Library:
    """torch.library.Library(ns, kind, dispatch_key=""): kind "DEF" (the namespace's one
    defining library), "FRAGMENT" (more definitions in it) or "IMPL" (kernels only)."""

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if ns in ("prim", "aten", "prims") and kind == "DEF":
            raise ValueError(f"{ns} is a reserved namespace. Please try creating a library "
                             f"with another name.")
        where = _where()
        if kind == "DEF":
            if ns in _DEF_NAMESPACES:
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace "
                    f"{ns}; please put all of your definitions in a single TORCH_LIBRARY "
                    f"block.  If you were trying to specify implementations, consider using "
                    f"TORCH_LIBRARY_IMPL (which can be duplicated).  If you really intended "
                    f"to define operators for a single namespace in a distributed way, you "
                    f"can use TORCH_LIBRARY_FRAGMENT to explicitly indicate this.  Previous "
                    f"registration of TORCH_LIBRARY was registered at "
                    f"{_DEF_NAMESPACES[ns]}; latest registration was registered at {where}")
            _DEF_NAMESPACES[ns] = where
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._op_defs = set()
        # (deleting the Library deregisters what it defined, as PyTorch's)
        self._finalizer = weakref.finalize(self, _del_library, ns, kind, self._op_defs)

    def __repr__(self):
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema, alias_analysis="", *, tags=()):
        """Declare `name(args) -> returns` in this library's namespace; returns the name."""
        if alias_analysis not in ("", "FROM_SCHEMA", "CONSERVATIVE"):
            raise RuntimeError(f"Invalid alias_analysis type {alias_analysis}")
        if self.kind == "IMPL":
            raise RuntimeError("define() cannot be called on an IMPL library")
        text = schema if "::" in schema.split("(", 1)[0] else f"{self.ns}::{schema}"
        d = _define(text, _where())
        self._op_defs.add(d.name)
        return d.schema.name.split("::", 1)[1] + (
            "." + d.schema.overload if d.schema.overload else "")

    def impl(self, op_name, fn, dispatch_key="", *, with_keyset=False):
        """Give the op `op_name` (a name in this namespace, or an OpOverload) the Python
        kernel `fn` for `dispatch_key` (this library's own key when empty)."""
        if not callable(fn):
            raise TypeError(f"Input function is required to be a callable but found "
                            f"type {type(fn)}")
        key = dispatch_key or self.dispatch_key or "CompositeImplicitAutograd"
        if key not in _KEYS:
            raise ValueError(f"Unsupported dispatch key {key!r} for a Python kernel: gpujit "
                             f"takes {sorted(k for k in _KEYS if k)}")
        name = _qualified(op_name, self.ns)
        d = _opdef(name)
        if with_keyset:
            raise ValueError("with_keyset=True: gpujit has no dispatch key sets to pass")
        _set_kernel(d, key, fn)

    def _destroy(self):
        """Take this library's definitions out of the registry (PyTorch deregisters them
        when the Library is deleted)."""
        self._finalizer()


def _del_library(ns, kind, op_defs):
    from .ops.namespace import _NAMESPACES
    if kind == "DEF":
        _DEF_NAMESPACES.pop(ns, None)
    for name in op_defs:
        d = _reg.OPS.pop(name, None)
        if d is None:
            continue
        ovs = _reg.OVERLOADS.get(d.schema.name, [])
        if d in ovs:
            ovs.remove(d)
        if not ovs:
            _reg.OVERLOADS.pop(d.schema.name, None)
        caches = _dt.DEFAULT_DTYPE_CACHES
        for i, c in enumerate(caches):
            if c is d._cache:
                del caches[i]
                break
        for table in (_KERNELS, _AUTOGRAD, _FAKE, _CUSTOM):
            table.pop(name, None)
        ns_mod = _NAMESPACES.get(d.schema.name.split("::", 1)[0])
        base = d.schema.name.split("::", 1)[1]
        if ns_mod is not None and base in ns_mod.__dict__:
            delattr(ns_mod, base)


def _qualified(op_name, ns):
    """'ns::name[.overload]' for a name, a 'ns::name' string, an OpOverload / packet."""
    from .ops.namespace import OpOverload, OpOverloadPacket
    if isinstance(op_name, OpOverload):
        return op_name.op.name
    if isinstance(op_name, OpOverloadPacket):
        return op_name._qualified_op_name
    if isinstance(op_name, CustomOpDef):
        return op_name._qualname
    if not isinstance(op_name, str):
        raise TypeError(f"op_name: expected a str or an OpOverload, got "
                        f"{type(op_name).__name__}")
    return op_name if "::" in op_name else f"{ns}::{op_name}"


def _opdef(name):
    d = _reg.OPS.get(name)
    if d is None:
        ovs = _reg.OVERLOADS.get(name, ())
        d = ovs[0] if len(ovs) == 1 else None
    if d is None or name.startswith("aten::"):
        raise RuntimeError(f"operator {name} does not exist" if d is None else
                           f"{name}: gpujit's aten ops take no Python kernels")
    if name not in _KERNELS and d.name not in _KERNELS:
        raise RuntimeError(f"{name} was not defined with torch.library")
    return d


def _define(text, where):
    s = _parse_schema(text)
    if s.qualified_name in _reg.OPS:
        raise RuntimeError(
            f"Tried to register an operator ({s}) with the same name and overload name "
            f"multiple times. Each overload's schema should only be registered with a "
            f"single call to def(). Duplicate registration: registered at {where}. "
            f"Original registration: registered at {_reg.OPS[s.qualified_name]._lib_where}")
    kernels = _KERNELS[s.qualified_name] = {}
    d = _reg.OpDef(s, _make_impl(s, kernels), method=False, function=False,
                   doc=f"{s} (torch.library)")
    d._lib_where = where
    d.lib_kernels = kernels
    _reg.register(d)
    return d


def _set_kernel(d, key, fn):
    d.lib_kernels[key] = fn
    if key == "Meta":
        _FAKE[d.name] = fn
    if key == "CompositeImplicitAutograd":
        # (PyTorch's decomposition: with gradients, the kernel's own ops record)
        d.composite = _implicit_composite(d, fn) if d.name not in _AUTOGRAD else d.composite
    if key in ("Autograd", "AutogradCPU", "AutogradCUDA"):
        d.composite = _implicit_composite(d, fn)


def _implicit_composite(d, fn):
    def composite(*args):
        return fn(*args)
    composite.__name__ = f"{d.name}_composite"
    return composite


# ------------------------------------------------------------------ the op's impl

def _make_impl(s, kernels):
    """The registry impl of a library op: the arrays the entry point unwrapped as Tensors
    again, the kernel for their device run unrecorded, its Tensors' arrays handed back."""
    args_spec = s.arguments
    name = s.qualified_name

    def impl(xp, *args):
        dev, targs = None, []
        for a, v in zip(args_spec, args):
            if a.type.base == "Tensor" and v is not None:
                if a.type.is_list:
                    v = [None if e is None else _as_tensor(e) for e in v]
                    if dev is None and v and v[0] is not None:
                        dev = v[0]._device
                else:
                    v = _as_tensor(v)
                    dev = v._device if dev is None else dev
            targs.append(v)
        fn = _kernel_for(kernels, dev, name)
        with _unrecorded():
            r = fn(*targs)
        return _arrays(r, s, name)
    impl.__name__ = name.replace("::", "_").replace(".", "_")
    return impl


def _as_tensor(a):
    return _reg.wrap_array(a, _device_of(a))


def _kernel_for(kernels, dev, name):
    key = "CPU" if dev is None or dev.type == "cpu" else "CUDA"
    fn = kernels.get(key)
    if fn is None:
        for k in _COMPOSITE:
            fn = kernels.get(k)
            if fn is not None:
                break
    if fn is None:
        raise NotImplementedError(
            f"Could not run '{name}' with arguments from the '{key}' backend. This could "
            f"be because the operator doesn't exist for this backend, or was omitted during "
            f"the selective/custom build process (if using custom build).")
    return fn


class _unrecorded:
    """The kernel's own ops are not the trace's nor autograd's (the op is one node)."""

    def __enter__(self):
        from .frontend import tracer
        from .autograd import grad_mode
        self.session = tracer.current_session()
        if self.session is not None:
            self.paused, self.session.paused = self.session.paused, True
        self.grad = grad_mode.no_grad()
        self.grad.__enter__()

    def __exit__(self, *exc):
        self.grad.__exit__(*exc)
        if self.session is not None:
            self.session.paused = self.paused


def _arrays(r, s, name):
    rets = s.returns

    def one(v, rt):
        if rt.type.base == "Tensor":
            if rt.type.is_list:
                return [one(e, _ElemRet) for e in v]
            if not isinstance(v, _reg._Tensor):
                raise RuntimeError(f"{name}: the kernel returned {type(v).__name__} where "
                                   f"the schema returns {rt.type}")
            return v._data
        return v
    if len(rets) == 0:
        return None
    if len(rets) == 1:
        return one(r, rets[0])
    if not isinstance(r, (tuple, list)) or len(r) != len(rets):
        raise RuntimeError(f"{name}: the kernel returned {type(r).__name__} where the "
                           f"schema returns {len(rets)} values")
    return tuple(one(v, rt) for v, rt in zip(r, rets))


class _ElemRet:
    class type:
        base = "Tensor"
        is_list = False


# ------------------------------------------------------------------ custom_op

def _annotation_type(t, name, what):
    """The schema type of a Python annotation, as PyTorch's infer_schema writes it."""
    from .tensor import Tensor
    from .dtypes import dtype as _dtype
    from .device import device as _device
    simple = {Tensor: "Tensor", int: "SymInt", float: "float", bool: "bool", str: "str",
              _dtype: "ScalarType", _device: "Device"}
    if t in simple:
        return simple[t]
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is typing.Union and len(args) == 2 and type(None) in args:
        inner = _annotation_type(args[0] if args[1] is type(None) else args[1], name, what)
        return inner + "?"
    if origin is typing.Union and set(args) == {int, float, bool}:
        return "Scalar"
    import collections.abc as cabc
    if origin in (list, cabc.Sequence) and len(args) == 1:
        return _annotation_type(args[0], name, what) + "[]"
    raise ValueError(f"infer_schema(func): {what} {name} has unsupported type {t}.")


def _return_type(t):
    if t is None or t is type(None):
        return "()"
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is tuple and args and Ellipsis not in args:
        return "(" + ", ".join(_annotation_type(a, "return", "Return") for a in args) + ")"
    return _annotation_type(t, "return", "Return")


def infer_schema(prototype_function, /, *, mutates_args, op_name=None):
    """The schema of a type-annotated function, as torch.library.infer_schema writes it:
    int -> SymInt, a list -> T[], Optional -> T?, the mutated tensors Tensor(aN!)."""
    sig = inspect.signature(prototype_function)
    try:
        hints = typing.get_type_hints(prototype_function)
    except Exception:
        hints = dict(prototype_function.__annotations__)
    if mutates_args != "unknown":
        if isinstance(mutates_args, str) or not hasattr(mutates_args, "__iter__"):
            raise ValueError("mutates_args must be either a sequence of the names of the "
                             "arguments that are mutated or the string 'unknown'. ")
        mutates = set(mutates_args)
        unknown = mutates - set(sig.parameters)
        if unknown:
            raise ValueError(f"{sorted(unknown)} in mutates_args were not found in the "
                             f"custom op's signature. mutates_args should contain the names "
                             f"of the arguments that are mutated by the custom op.")
    parts, seen_kw, alias = [], False, 0
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValueError("infer_schema(func): Parameter has unsupported kind "
                             f"{p.kind}.")
        if p.name not in hints:
            raise ValueError(f"infer_schema(func): Parameter {p.name} must have a type "
                             f"annotation.")
        ty = _annotation_type(hints[p.name], p.name, "Parameter")
        if p.kind == p.KEYWORD_ONLY and not seen_kw:
            parts.append("*")
            seen_kw = True
        if ty.startswith("Tensor") and (mutates_args == "unknown" or p.name in mutates):
            ty = ty.replace("Tensor", f"Tensor(a{alias}!)", 1)
            alias += 1
        text = f"{ty} {p.name}"
        if p.default is not inspect.Parameter.empty:
            text += "=" + _default_text(p.default)
        parts.append(text)
    if "return" not in hints:
        raise ValueError("infer_schema(func): No return type annotation was provided. "
                         "Please add one.")
    out = f"({', '.join(parts)}) -> {_return_type(hints['return'])}"
    return out if op_name is None else op_name + out


def _default_text(v):
    if v is None:
        return "None"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float, str)):
        return repr(v) if not isinstance(v, str) else f'"{v}"'
    from .dtypes import dtype as _dtype
    if isinstance(v, _dtype):
        return str(v).split(".")[-1]
    raise ValueError(f"infer_schema(func): default value {v!r} is not supported")


class CustomOpDef:
    """What torch.library.custom_op returns: calls the op (torch.ops.ns.name), and
    registers more of it (register_kernel, register_autograd, register_fake)."""

    def __init__(self, namespace, name, schema, fn):
        self._namespace, self._name = namespace, name
        self._qualname = f"{namespace}::{name}"
        self._init_fn = fn
        self._lib = Library(namespace, "FRAGMENT")
        self._lib.define(f"{name}{schema}")
        self._opdef = _reg.OPS[self._qualname]
        self._opdef.composite = _autograd_composite(self._opdef)
        self.__name__ = name
        self.__qualname__ = name
        self.__doc__ = getattr(fn, "__doc__", None)
        _CUSTOM[self._qualname] = self

    def __repr__(self):
        return f"<CustomOpDef({self._qualname})>"

    @property
    def _opoverload(self):
        from .ops.namespace import namespace
        return getattr(namespace(self._namespace), self._name).default

    def __call__(self, *args, **kwargs):
        return self._opdef.public(*args, **kwargs)

    def register_kernel(self, device_types, fn=None, /):
        def inner(f):
            for dt in ([device_types] if isinstance(device_types, str) or device_types is None
                       else device_types):
                key = "CompositeExplicitAutograd" if dt is None else {
                    "cpu": "CPU", "cuda": "CUDA"}.get(dt)
                if key is None:
                    raise ValueError(f"register_kernel: unknown device type {dt!r}")
                _set_kernel(self._opdef, key, f)
            return f
        return inner if fn is None else inner(fn)

    def register_fake(self, fn, /):
        _FAKE[self._qualname] = fn
        return fn

    def register_autograd(self, backward, /, *, setup_context=None):
        _AUTOGRAD[self._qualname] = (backward, setup_context)


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None):
    """torch.library.custom_op: a Python function (type-annotated) as the op `ns::name`."""
    def inner(f):
        if "::" not in name:
            raise ValueError(f"Expected there to be a namespace in {name}, i.e. The "
                             f"operator name should look something like ns::foo")
        ns, opname = name.split("::", 1)
        s = schema if schema is not None else infer_schema(f, mutates_args=mutates_args)
        d = CustomOpDef(ns, opname, s, f)
        d.register_kernel(device_types, f)
        return d
    return inner if fn is None else inner(fn)


def _autograd_composite(d):
    """A custom_op's autograd: with an input that requires grad, the op runs as one
    autograd Function (grad_fn GeneratedBackwardFor_<ns>_<name>_defaultBackward, as
    PyTorch's) whose backward is the registered formula, or PyTorch's error without one."""
    from .autograd.function import Function
    label = f"{d.schema.name.replace('::', '.')}.{d.schema.overload or 'default'}"

    def setup_context(ctx, inputs, output):
        found = _AUTOGRAD.get(d.name)
        if found is not None and found[1] is not None:
            found[1](ctx=ctx, inputs=inputs, output=output)

    def backward(ctx, *grads):
        found = _AUTOGRAD.get(d.name)
        if found is None:
            raise RuntimeError(f"Trying to backward through {label} but no autograd "
                               f"formula was registered. Please use register_autograd "
                               f"to add one.")
        r = found[0](ctx, *grads)
        return r if isinstance(r, tuple) else (r,)
    cls = type(f"GeneratedBackwardFor_{label.replace('.', '_')}", (Function,), {
        "forward": staticmethod(lambda *a: d.eager(*a)),
        "setup_context": staticmethod(setup_context),
        "backward": staticmethod(backward)})

    def composite(*args):
        return cls.apply(*args)
    return composite


def _lookup(op):
    name = _qualified(op, "")
    if name.startswith("::"):
        raise ValueError(f"expected a qualified op name 'ns::name', got {op!r}")
    return _opdef(name)


def register_fake(op, fn=None, /, *, lib=None, _stacklevel=1):
    """torch.library.register_fake: kept with the op (gpujit has no fake tensors)."""
    def inner(f):
        c = _CUSTOM.get(_qualified(op, ""))
        if c is not None:
            return c.register_fake(f)
        _FAKE[_lookup(op).name] = f
        return f
    return inner if fn is None else inner(fn)


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    """torch.library.register_autograd of an op made by custom_op or Library.define."""
    name = _qualified(op, "")
    c = _CUSTOM.get(name)
    if c is not None:
        return c.register_autograd(backward, setup_context=setup_context)
    d = _lookup(op)
    _AUTOGRAD[d.name] = (backward, setup_context)
    d.composite = _autograd_composite(d)


def register_kernel(op, device_types, fn=None, /, *, lib=None):
    """torch.library.register_kernel: a kernel of the op for these device types."""
    name = _qualified(op, "")
    c = _CUSTOM.get(name)
    if c is None:
        raise ValueError(f"register_kernel({name}): only for ops made by custom_op in gpujit")
    return c.register_kernel(device_types, fn)


def impl(qualname, types, func=None, *, lib=None):
    """torch.library.impl(qualname, types, func): a kernel of a defined op for the
    device type(s) / dispatch key(s) `types` ("cpu", "cuda", "CompositeExplicitAutograd" ...)."""
    def inner(f):
        d = _lookup(qualname)
        for t in ([types] if isinstance(types, str) else types):
            key = {"cpu": "CPU", "cuda": "CUDA", "default": "CompositeExplicitAutograd"}.get(t, t)
            if key not in _KEYS or not key:
                raise ValueError(f"Unsupported dispatch key {t!r}")
            _set_kernel(d, key, f)
        return f
    return inner if func is None else inner(func)


def define(qualname, schema, *, lib=None, tags=()):
    """torch.library.define("ns::name", "(Tensor x) -> Tensor")."""
    if "::" not in qualname:
        raise ValueError(f"define(): expected a qualified name ns::name, got {qualname!r}")
    ns, name = qualname.split("::", 1)
    (lib or Library(ns, "FRAGMENT")).define(name + schema, tags=tags)

