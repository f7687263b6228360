"""gpujit.jit.save in the format PyTorch's torch.jit.save writes, so torch.jit.load (and
libtorch's) reads a module scripted or traced with gpujit.

The archive holds what torch_archive.py reads: `code/__torch__/**.py` (each class of the
module tree as TorchScript's serialized Python: `class Linear(Module):` with
`__parameters__`, `__buffers__`, one annotation per attribute, its `Final` constants and
its methods, whose bodies are gpujit's `.code`; the script classes, NamedTuples, enums and
functions they use, each in the file of its qualified name), `data.pkl` (the module tree:
each module an object of its class whose state is the dict of its attributes, tensors as
`torch._utils._rebuild_tensor_v2` over storages in `data/`, lists and dicts with their type
tag), `constants.pkl` (the tensors the code names `CONSTANTS.c<k>`, storages in
`constants/`), `extra/` files, `version`, `byteorder`.

What cannot be written in this format says so (ArchiveError): a model calling Python
(@ignore), forward hooks, attribute values of types PyTorch's format has no spelling for.
"""
from __future__ import annotations

import copyreg
import io
import os
import pickle
import re
import struct
import sys

from ..ir import types as T
from .archive import ArchiveError, class_types
from .pickled import (_Global, _PLAIN, _Pickler, _SavedStorage, _UNTYPED_SAVED, storage_records,
                      write_records)

__all__ = ["save"]

# The archive's version: 3, or the operator version an op the code calls was changed at
# (torch's calculate_package_version_based_on_upgraders): PyTorch reads an archive of an
# older version through the op's old schema (gelu without `approximate`)
_BASE_VERSION = 3
_OP_VERSIONS = {"aten::div": 4, "aten::div_": 4, "aten::full": 5, "aten::linspace": 8,
                "aten::logspace": 9, "aten::gelu": 10}


class _Object:
    """An object of a TorchScript class in data.pkl: written as its class (a GLOBAL of
    its qualified name), NEWOBJ, then its state dict (BUILD)."""
    _torch_global = ("__torch__", "?")

    def __reduce_ex__(self, protocol):
        return (copyreg.__newobj__, (type(self),), self.state)


_CLASSES: dict = {}


def _object_class(qualified):
    cls = _CLASSES.get(qualified)
    if cls is None:
        module, name = qualified.rsplit(".", 1)
        cls = _CLASSES[qualified] = type(name, (_Object,), {"_torch_global": (module, name)})
    return cls


def _object(qualified, state):
    o = object.__new__(_object_class(qualified))
    o.state = state
    return o


class _EnumValue:
    def __init__(self, qualified, value):
        self.qualified, self.value = qualified, value


class _Tagged:
    """A list or dict with TorchScript's type tag (torch.jit._pickle.restore_type_tag)."""

    def __init__(self, value, type_str):
        self.value, self.type_str = value, type_str


class _ArchivePickler(_Pickler):
    """torch.save's pickler with TorchScript's objects: module and class objects, type
    tags; a Parameter is a tensor with requires_grad (torch.jit.load knows no
    _rebuild_parameter)."""

    dispatch = dict(_Pickler.dispatch)

    def save_str(self, obj):
        # TorchScript's str is bytes: one holding bytes that are no UTF-8 (gpujit's
        # surrogate escapes of them, "é"[0:1]) is pickled as those bytes, as torch 2.13's
        # pickler writes them (Python's pickle would write the escapes' own UTF-8)
        try:
            data = obj.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = obj.encode("utf-8", "surrogatepass")
        self.write(pickle.BINUNICODE + struct.pack("<I", len(data)) + data)
        self.memoize(obj)
    dispatch[str] = save_str

    def persistent_id(self, obj):
        if isinstance(obj, _SavedStorage) and obj.type_name in _UNTYPED_SAVED:
            # (TorchScript's pickler names these storages by type, torch.UInt16Storage /
            # torch.Float8_e4m3fnStorage, where torch.save writes an UntypedStorage)
            return ("storage", _Global("torch", obj.type_name + "Storage"), obj.key,
                    obj.location, int(obj.flat.size))
        return super().persistent_id(obj)

    def reducer_override(self, obj):
        if type(obj) in _PLAIN:
            return NotImplemented
        from ..nn.parameter import Parameter
        from ..tensor import Tensor
        if isinstance(obj, Tensor) and not isinstance(obj, Parameter) and \
                obj.dtype.short_name in _UNTYPED_SAVED:
            storage, offset = self._storage(obj)        # (torch.jit.load has no _v3)
            return (_Global("torch._utils", "_rebuild_tensor_v2"),
                    (storage, offset, tuple(obj.shape), tuple(obj.stride()),
                     obj.requires_grad, self._hooks))
        if isinstance(obj, _Tagged):
            return (_Global("torch.jit._pickle", "restore_type_tag"),
                    (obj.value, obj.type_str))
        if isinstance(obj, Parameter):
            storage, offset = self._storage(obj)
            return (_Global("torch._utils", "_rebuild_tensor_v2"),
                    (storage, offset, tuple(obj.shape), tuple(obj.stride()),
                     obj.requires_grad, self._hooks))
        if isinstance(obj, Tensor) and obj.__dict__:
            storage, offset = self._storage(obj)
            return (_Global("torch._utils", "_rebuild_tensor_v2"),
                    (storage, offset, tuple(obj.shape), tuple(obj.stride()),
                     obj.requires_grad, self._hooks))
        return super().reducer_override(obj)

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Object):
            # TorchScript's order: class, NEWOBJ, state, BUILD, and only then the memo
            # entry (a module shared under two names is a BINGET of the built object; a
            # memo entry made before BUILD hit torch's 'isObject() INTERNAL ASSERT')
            x = self.memo.get(id(obj))
            if x is not None:
                self.write(self.get(x[0]))
                return
            self.save(type(obj))
            self.write(pickle.EMPTY_TUPLE + pickle.NEWOBJ)
            self.save(obj.state)
            self.write(pickle.BUILD)
            self.memoize(obj)
            return
        if isinstance(obj, _EnumValue):
            # TorchScript's spelling of an enum member: its class, its value, REDUCE
            self.save(_object_class(obj.qualified))
            self.save(obj.value)
            self.write(pickle.REDUCE)
            return
        super().save(obj, save_persistent_id)

    def save_global(self, obj, name=None):
        if isinstance(obj, type) and issubclass(obj, _Object):
            module, name = obj._torch_global
            self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("utf-8"))
            self.memoize(obj)
            return
        super().save_global(obj, name)


def _annotation(t) -> str:
    """A type as TorchScript's class bodies and signatures write it (qualified class
    names)."""
    token = T.QUALIFIED_CLASS_NAMES.set("all")
    try:
        if isinstance(t, (T.ClassType, T.EnumType, T.NamedTupleType)) and \
                not isinstance(t, T.InterfaceType):
            return t.name
        if isinstance(t, T.InterfaceType):
            return t.name
        return t.annotation()
    finally:
        T.QUALIFIED_CLASS_NAMES.reset(token)


def _literal(v) -> str:
    """A Final constant's value as TorchScript writes it."""
    if v is None or isinstance(v, (bool, int, str)):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' \
            if isinstance(v, str) else repr(v)
    if isinstance(v, float):
        return repr(v) if v == v and abs(v) != float("inf") else \
            {"inf": "inf", "-inf": "-inf"}.get(repr(v), "nan")
    if isinstance(v, tuple):
        inner = ", ".join(_literal(e) for e in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(_literal(e) for e in v) + "]"
    from ..device import device
    if isinstance(v, device):
        return f'torch.device("{v}")'
    raise ArchiveError(f"cannot write the constant {v!r} in PyTorch's archive format")


def _constant_type(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if v is None:
        return "NoneType"
    if isinstance(v, tuple):
        return "Tuple[" + ", ".join(_constant_type(e) for e in v) + "]" if v else "Tuple[()]"
    if isinstance(v, list):
        return f"List[{_constant_type(v[0]) if v else 'int'}]"
    from ..device import device
    if isinstance(v, device):
        return "Device"
    raise ArchiveError(f"cannot write the constant {v!r} in PyTorch's archive format")


_SELF = re.compile(r"^def (\w+)\(self(?=[,)])")
_GRAD_MODE = "__torch__.torch.autograd.grad_mode"
_AUTOCAST = "__torch__.torch.amp.autocast_mode.autocast"
_STRICT = "__torch__.torch.jit.strict_fusion"
_STRICT_CLASS = """class strict_fusion:
  def __enter__(self: {q}) -> NoneType:
    return None
  def __exit__(self: {q},
    type: Any,
    value: Any,
    tb: Any) -> NoneType:
    return None
  def __init__(self: {q}) -> NoneType:
    return None
"""
# TorchScript's class behind `with torch.autocast(...)` (what torch.jit.save writes: the
# region itself is TorchScript's autocast pass's, keyed on the `with` of this class)
_AUTOCAST_CLASS = """class autocast:
  fast_dtype : int
  _enabled : bool
  device : str
  def __call__(self: {q},
    func: Tensor) -> Tensor:
    return func
  def __enter__(self: {q}) -> {q}:
    return self
  def __exit__(self: {q},
    exc_type: Any,
    exc_val: Any,
    exc_tb: Any) -> NoneType:
    return None
  def __init__(self: {q},
    device_type: str,
    dtype: Optional[int]=None,
    enabled: bool=True,
    cache_enabled: Optional[bool]=None) -> NoneType:
    device_type0 = unchecked_cast(str, device_type)
    if torch.__is__(dtype, None):
      _1 = torch.get_autocast_dtype(device_type0)
      _0 = _1
    else:
      _0 = unchecked_cast(int, dtype)
    self.fast_dtype = _0
    self._enabled = enabled
    self.device = device_type0
    return None
"""
# and behind `with torch.cpu.amp.autocast():` / `with torch.cuda.amp.autocast():`
_AMP_AUTOCAST_CLASS = """class autocast:
  _enabled : bool
  device : str
  fast_dtype : int
  def __call__(self: {q},
    func: Tensor) -> Tensor:
    return func
  def __enter__(self: {q}) -> {q}:
    return self
  def __exit__(self: {q},
    exc_type: Any,
    exc_val: Any,
    exc_tb: Any) -> NoneType:
    return None
  def __init__(self: {q},
    enabled: bool=True,
    dtype: int={code},
    cache_enabled: bool=True) -> NoneType:
    self._enabled = enabled
    self.device = "{dev}"
    self.fast_dtype = dtype
    return None
  def __init_subclass__(cls: {q}) -> NoneType:
    return None
"""
# TorchScript's classes behind `with torch.no_grad():` (what torch.jit.save writes for them)
_GRAD_CLASS = """class {name}:
  prev : bool
  def __enter__(self: {q}) -> NoneType:
    self.prev = torch.is_grad_enabled()
    torch.set_grad_enabled({on})
    return None
  def __exit__(self: {q},
    exc_type: Any,
    exc_value: Any,
    traceback: Any) -> NoneType:
    prev = self.prev
    torch.set_grad_enabled(prev)
    return None
  def __init__(self: {q}) -> NoneType:
    self.prev = False
    return None
"""
# TorchScript's classes of the objects `with` regions make (the code prints `_0 =
# <class>.__new__(<class>)` for them, ir/with_objects.py): what torch.jit.save writes
_REGION_CLASSES = {
    f"{_GRAD_MODE}.{name}": _GRAD_CLASS.format(name=name, q=f"{_GRAD_MODE}.{name}",
                                               on=str(name == "enable_grad"))
    for name in ("no_grad", "enable_grad")}
_REGION_CLASSES[_STRICT] = _STRICT_CLASS.format(q=_STRICT)
_REGION_CLASSES[_AUTOCAST] = _AUTOCAST_CLASS.format(q=_AUTOCAST)
for _dev, _code in (("cpu", 15), ("cuda", 5)):
    _q = f"__torch__.torch.{_dev}.amp.autocast_mode.autocast"
    _REGION_CLASSES[_q] = _AMP_AUTOCAST_CLASS.format(q=_q, dev=_dev, code=_code)
_REGION_NEW = re.compile(r"^[ \t]*\w+ = (__torch__\.torch\.[\w.]+)\.__new__\(\1\)$", re.M)


# `with torch.autograd.profiler.record_function(name):` and TorchScript's class behind it
# (what torch.jit.save writes: its `record` an object of the torch.classes.profiler class)
_RECORD = "__torch__.torch.autograd.profiler.record_function"
_RECORD_FUNCTION = "__torch__.torch.classes.profiler._RecordFunction"
_RECORD_CLASS = """class record_function:
  name : str
  args : Optional[str]
  run_callbacks_on_exit : bool
  record : Optional[{r}]
  _cupti_monitor_external_id : NoneType
  def __enter__(self: {q}) -> {q}:
    name = self.name
    args = self.args
    _0 = ops.profiler._record_function_enter_new(name, args)
    self.record = _0
    return self
  def __exit__(self: {q},
    exc_type: Any,
    exc_value: Any,
    traceback: Any) -> NoneType:
    _1 = "AssertionError: Expected record to be set"
    _2 = uninitialized({r})
    run_callbacks_on_exit = self.run_callbacks_on_exit
    _3 = torch.__not__(run_callbacks_on_exit)
    if _3:
      pass
    else:
      record = self.record
      if torch.__is__(record, None):
        ops.prim.RaiseException(_1)
        record0 = _2
      else:
        record1 = unchecked_cast({r}, record)
        record0 = record1
      ops.profiler._record_function_exit(record0)
    return None
  def __init__(self: {q},
    name: str,
    args: Optional[str]=None) -> NoneType:
    self.name = name
    self.args = args
    self.run_callbacks_on_exit = True
    self.record = None
    self._cupti_monitor_external_id = None
    return None
  def _call_end_callbacks_on_future(self: {q},
    fut: Future[Any]) -> Future[Any]:
    _4 = "_call_end_callbacks_on_future can only be called once."
    _5 = "AssertionError: Expected record to be set"
    _6 = uninitialized({r})
    run_callbacks_on_exit = self.run_callbacks_on_exit
    _7 = torch.__not__(run_callbacks_on_exit)
    if _7:
      ops.prim.RaiseException(_4, "builtins.RuntimeError")
    else:
      pass
    self.run_callbacks_on_exit = False
    record = self.record
    if torch.__is__(record, None):
      ops.prim.RaiseException(_5)
      record2 = _6
    else:
      record3 = unchecked_cast({r}, record)
      record2 = record3
    profiled_future = ops.profiler._call_end_callbacks_on_jit_fut(record2, fut)
    return profiled_future
""".format(q=_RECORD, r=_RECORD_FUNCTION)


def _method_text(code, qualified) -> str:
    """A method's `.code` inside its class: `self` annotated with the class, indented (the
    parameters after the first keep their 4 spaces, as TorchScript's class code has them:
    `  def forward(self: __torch__.M,\n    x: Tensor) -> Tensor:`)."""
    code = _SELF.sub(lambda m: f"def {m.group(1)}(self: {qualified}", code, count=1)
    lines = code.rstrip("\n").splitlines(True)
    sig = next((k for k, line in enumerate(lines) if line.rstrip().endswith(":")), 0)
    return "".join("  " + line if line.strip() and not 0 < k <= sig else line
                   for k, line in enumerate(lines)) + "\n"


_BROADCAST_ANN = re.compile(r"BroadcastingList\d\[(\w+)\]")


class _Writer:
    def __init__(self, prefix):
        self.prefix = prefix
        self.files = {}             # module path ("__torch__.torch.nn") -> [text]
        self.written = set()        # qualified names of classes and functions written
        self.constants = []         # tensors the code names CONSTANTS.c<k>
        self.modules = {}           # id(module) -> its pickled object (shared submodules)
        self.version = _BASE_VERSION

    def put(self, qualified, text):
        module = qualified.rsplit(".", 1)[0]
        self.files.setdefault(module, []).append(text)

    # ---- code
    def graph_code(self, g, name, is_method, qualified=None, defaults=None):
        from ..ir.python_printer import python_source
        self.note_graph(g)
        token = T.QUALIFIED_CLASS_NAMES.set("all")
        try:
            code = python_source(g, name=name, is_method=is_method, constants=self.constants,
                                 defaults=defaults or None)
        finally:
            T.QUALIFIED_CLASS_NAMES.reset(token)
        code = self.grad_regions(code)
        return _method_text(code, qualified) if is_method else code

    def grad_regions(self, code):
        """The code's `with` regions (`_0 = __torch__.torch.autograd.grad_mode.no_grad.
        __new__(...)`, as the printer writes them, ir/with_objects.py): their classes
        written once, as torch.jit.save writes them."""
        for m in _REGION_NEW.finditer(code):
            q = m.group(1)
            if q == _RECORD and q not in self.written:
                self.written.update((_RECORD, _RECORD_FUNCTION))
                self.put(_RECORD, _RECORD_CLASS)
                self.put(_RECORD_FUNCTION, "class _RecordFunction:\n  capsule : Capsule\n")
            elif q in _REGION_CLASSES and q not in self.written:
                self.written.add(q)
                self.put(q, _REGION_CLASSES[q])
        return code

    def note_graph(self, g):
        """Write the classes and functions a graph uses."""
        for v in g.inputs:
            self.note_type(v.type)
        for t in g.output_types():      # (a declared return type wider than the output's)
            self.note_type(t)
        for n in g.walk():
            self.version = max(self.version, _OP_VERSIONS.get(n.kind, _BASE_VERSION))
            for v in n.outputs:
                self.note_type(v.type)
            if n.kind == "prim::CallFunction":
                self.function(n)

    def note_type(self, t):
        from ..frontend.script.classes import script_class_of
        for c in class_types(t):
            if isinstance(c, T.ClassType) and not isinstance(c, T.InterfaceType) and \
                    script_class_of(c) is None:
                continue                       # (modules: written with their objects)
            self.add_class(c)

    def function(self, n):
        q = n.meta.get("qualified_name")
        callee = n.meta.get("callee")
        if q is None or callee is None:
            raise ArchiveError(f"cannot save a call of a function value ({n.kind} without "
                               f"a qualified name)")
        if q in self.written:
            return
        self.written.add(q)
        name = q.rsplit(".", 1)[-1]
        from ..jit.objects import _schema_default
        defaults = {i: _schema_default(v) for i, v in n.meta.get("defaults", {}).items()}
        code = self.graph_code(callee, name, False, defaults=defaults)
        # (torch writes a broadcasting list parameter as List[int]: its importer knows no
        # BroadcastingList2, and the archive's callers pass whole lists)
        head, sep, body = code.partition(":\n")
        self.put(q, _BROADCAST_ANN.sub(r"List[\1]", head) + sep + body)

    def add_class(self, t):
        q = t.name
        if q in self.written:
            return
        self.written.add(q)
        short = q.rsplit(".", 1)[-1]
        if isinstance(t, T.EnumType):
            body = "".join(f"  {m.name} = {_literal(m.value)}\n" for m in t.py_class)
            self.put(q, f"class {short}(Enum):\n{body}")
            return
        if isinstance(t, T.NamedTupleType):
            body = "".join(f"  {f} : {_annotation(e)}\n" for f, e in zip(t.fields, t.elems))
            for e in t.elems:
                self.note_type(e)
            self.put(q, f"class {short}(NamedTuple):\n{body or '  pass'}\n")
            return
        if isinstance(t, T.InterfaceType):
            base = "ModuleInterface" if t.is_module else "Interface"
            lines = [f"class {short}({base}):\n"]
            for m, (names, ps, r) in t.signatures.items():
                params = "".join(f", {p}: {_annotation(ty)}" for p, ty in zip(names, ps))
                lines.append(f"  def {m}(self{params}) -> {_annotation(r)}:\n    pass\n")
                for ty in list(ps) + [r]:
                    self.note_type(ty)
            self.put(q, "".join(lines))
            return
        from ..frontend.script.classes import script_class_of
        if script_class_of(t) is None:
            raise ArchiveError(f"cannot save a value of class '{q}': it is not a "
                               f"TorchScript class")
        sc = script_class_of(t)
        if _has_state_methods(sc):
            # (TorchScript compiles them as any method: its pickler calls them)
            sc.method_graph("__getstate__")
            sc.method_graph("__setstate__")
        lines = [f"class {short}:\n"]
        for k, a in t.attributes.items():
            lines.append(f"  {k} : {_annotation(a)}\n")
            self.note_type(a)
        import types as _pytypes
        from ..jit.objects import python_defaults
        for mname, g in t.methods.items():
            # (the Python function's defaults, as the method's .code prints them: torch
            # reads `b: int=3`; without them a call leaving b out fails after loading)
            fn = _pytypes.SimpleNamespace(graph=g, _defaults=python_defaults(
                sc.python_method(mname)))
            lines.append(self.graph_code(g, mname, True, q,
                                         _defaults_of(fn, self.constants)))
        self.put(q, "".join(lines))

    # ---- modules
    def module(self, m, path):
        from ..jit.objects import ScriptModule
        from ..nn.module import Module
        known = self.modules.get(id(m))
        if known is not None:
            return known
        if not isinstance(m, ScriptModule):
            raise TypeError(f"gpujit.jit.save: submodule '{path}' is a plain "
                            f"{type(m).__name__}, not a scripted or traced module")
        ctype = _class_type(m, path)
        q = ctype.name
        consts = dict(getattr(m, "_script_constants", {}) or {})
        state = {"training": bool(m.training)}
        attr_lines = []
        for k, p in m._parameters.items():
            state[k] = p
        for k, b in m._buffers.items():
            state[k] = b
        types = dict(ctype.attributes)
        for k, t in types.items():
            if k in m._parameters or k in m._buffers or k in m._modules or k in consts or \
                    k == "training" or k not in m.__dict__:
                continue
            self.note_type(t)
            state[k] = self.value(m.__dict__[k], t, f"{path}.{k}")
        subs = {}
        for k, c in m._modules.items():
            if c is None:
                state[k] = None
            elif isinstance(c, Module):
                subs[k] = c
                state[k] = self.module(c, f"{path}.{k}")
        if q not in self.written:
            self.written.add(q)
            params, buffers = list(m._parameters), list(m._buffers)
            lines = [f"class {q.rsplit('.', 1)[-1]}(Module):\n",
                     "  __parameters__ = [" + "".join(f'"{k}", ' for k in params) + "]\n",
                     "  __buffers__ = [" + "".join(f'"{k}", ' for k in buffers) + "]\n"]
            pre, post = m.__dict__.get("_script_hooks") or ((), ())
            for key, names in (("__forward_pre_hooks__", pre), ("__forward_hooks__", post)):
                if names:       # (TorchScript's class body lists a module's hooks)
                    lines.append(f"  {key} = [" + "".join(f'"{k}", ' for k in names) + "]\n")
            for k in params + buffers:
                t = types.get(k, T.OptionalType(T.TENSOR) if state[k] is None else T.TENSOR)
                attr_lines.append((k, _annotation(t)))
            attr_lines.append(("training", "bool"))
            for k, t in types.items():
                if k in state and k not in params and k not in buffers and \
                        k not in m._modules and k != "training":
                    attr_lines.append((k, _annotation(t)))
            for k, c in m._modules.items():
                declared = (m.__dict__.get("_interface_attrs") or {}).get(k)
                if isinstance(declared, T.InterfaceType):
                    # (`proxy_mod: ModInterface`: any module implementing it may be set)
                    self.add_class(declared)
                    attr_lines.append((k, declared.name))
                    continue
                attr_lines.append((k, "NoneType" if c is None else
                                   _class_type(c, f"{path}.{k}").name))
            for k, a in attr_lines:
                lines.append(f"  {k} : {a}\n" if k.isidentifier() else
                             f'  __annotations__["{k}"] = {a}\n')
            for k, v in consts.items():
                lines.append(f"  {k} : Final[{_constant_type(v)}] = {_literal(v)}\n")
            for name, sm in m._script_methods.items():
                lines.append(self.graph_code(sm.graph, name, True, q,
                                             _defaults_of(sm, self.constants)))
            self.put(q, "".join(lines))
        obj = _object(q, state)
        self.modules[id(m)] = obj
        return obj

    def value(self, v, t, path):
        """An attribute's value for data.pkl: script-class objects as objects, lists and
        dicts with their type tag."""
        if isinstance(t, T.OptionalType):
            return None if v is None else self.value(v, t.elem, path)
        if isinstance(t, T.ListType):
            return _Tagged([self.value(e, t.elem, f"{path}[{i}]") for i, e in enumerate(v)],
                           _annotation(t))
        if isinstance(t, T.DictType):
            return _Tagged({k: self.value(e, t.value, f"{path}[{k!r}]") for k, e in v.items()},
                           _annotation(t))
        if isinstance(t, T.EnumType):
            self.add_class(t)
            return _EnumValue(t.name, v.value)
        if isinstance(t, T.NamedTupleType):
            # (an attribute declared `p: Point`: its class in the code, its value a
            # tuple, as TorchScript's pickler writes a NamedTuple's IValue)
            self.add_class(t)
        if isinstance(t, T.TupleType):
            return tuple(self.value(e, et, f"{path}[{i}]")
                         for i, (e, et) in enumerate(zip(v, t.elems)))
        if isinstance(t, T.InterfaceType) or (isinstance(t, T.ClassType) and
                                               _is_script_class(t)):
            # (an attribute typed by a class interface holds an object of its own class)
            ct = T.class_type_of_object(v) if isinstance(t, T.InterfaceType) else t
            if ct is None or not _is_script_class(ct):
                raise ArchiveError(f"cannot save {path} in PyTorch's archive format: its "
                                   f"value {type(v).__name__} is no TorchScript class object")
            self.add_class(ct)
            if "__getstate__" in ct.methods and "__setstate__" in ct.methods:
                # the state its own __getstate__ gives (compiled), which TorchScript's
                # unpickler hands to __setstate__ (torch 2.13)
                from ..jit.objects import ScriptMethod
                g = ct.methods["__getstate__"]
                state = ScriptMethod(v, g, "__getstate__")()
                return _object(ct.name, self.value(state, g.outputs[0].type,
                                                   f"{path}.__getstate__()"))
            return _object(ct.name, {k: self.value(getattr(v, k), a, f"{path}.{k}")
                                     for k, a in ct.attributes.items()})
        from ..device import device
        from ..dtypes import dtype
        from ..tensor import Tensor
        if v is None or isinstance(v, (bool, int, float, str, complex, Tensor, device, dtype)):
            return v
        # (TorchScript's pickler: a torch.Generator attribute; a set, which gpujit's own
        # format keeps)
        raise ArchiveError(f"Unknown IValue type for pickling: {type(v).__name__} (cannot "
                           f"save {path} in PyTorch's archive format: a value of Python type "
                           f"{type(v).__name__}: {v!r})")

    # ---- the archive
    def code_entries(self):
        out = []
        for module, texts in sorted(self.files.items()):
            rel = "code/" + module.replace(".", "/") + ".py"
            out.append((rel, "".join(t if t.endswith("\n") else t + "\n"
                                     for t in texts).encode("utf-8")))
        return out


def _class_type(m, path):
    """The ClassType of a scripted module: its own, or (a ScriptModule subclass with
    @script_method) the type its methods take as `self`."""
    t = m.__dict__.get("_type")
    if isinstance(t, T.ClassType):
        return t
    for sm in m._script_methods.values():
        if sm.graph.inputs and isinstance(sm.graph.inputs[0].type, T.ClassType):
            return sm.graph.inputs[0].type
    from ..frontend.tracer import qualified_class_name
    return T.ClassType(qualified_class_name(m))


def _is_script_class(t) -> bool:
    from ..frontend.script.classes import script_class_of
    return script_class_of(t) is not None


def _has_state_methods(sc) -> bool:
    """Does script class sc define both __getstate__ and __setstate__ (what TorchScript's
    pickler saves and loads its objects through)?"""
    return sc.python_method("__getstate__") is not None and \
        sc.python_method("__setstate__") is not None


def _defaults_of(sm, constants):
    """{input index: default text} of a method, as `.code` prints them; a Tensor default
    is `CONSTANTS.c<k>`, the tensor added to constants (as TorchScript writes it)."""
    from ..jit.objects import _plain, _schema_default
    from ..tensor import Tensor
    out = {}
    for i, v in enumerate(sm.graph.inputs):
        name = _plain(v.debug_name)
        if name in sm._defaults:
            value = sm._defaults[name]
            if isinstance(value, Tensor):
                out[i] = f"CONSTANTS.c{len(constants)}"
                constants.append(value)
                continue
            if i in sm.graph.broadcast and not isinstance(value, (list, tuple)):
                value = [value] * sm.graph.broadcast[i]     # (as `.code`: the whole list)
            out[i] = _schema_default(value)
    return out


def _pickled(obj, folder):
    """(pickle bytes, [(entry, bytes)] of its storages under folder/)."""
    buf = io.BytesIO()
    p = _ArchivePickler(buf, 2, fix_imports=False)  # (`builtins complex`: TorchScript's
    #                                                   reader knows no `__builtin__`)
    p.dump(obj)
    return buf.getvalue(), storage_records(p, folder)


def save(m, f, _extra_files=None):
    """m (a scripted or traced module, or a ScriptFunction) to f in torch.jit.save's
    format."""
    from ..jit.objects import ScriptFunction, ScriptModule
    from .writer import _refuse_python_ops, _safe_name
    name = "archive"
    if isinstance(f, (str, os.PathLike)):
        base = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in base) or "archive"
    w = _Writer(name)
    if isinstance(m, ScriptModule):
        _refuse_python_ops(m, "root")
        root = w.module(m, "root")
    elif isinstance(m, ScriptFunction):
        _refuse_python_ops(m, m.name)
        q = "__torch__.PlaceholderModule"
        code = w.graph_code(m.graph, "forward", False,
                            defaults=_defaults_of(m, w.constants))
        code = code.replace("def forward(", "def forward(self" + (
            ",\n    " if m.graph.inputs else ""), 1)
        w.written.add(q)
        w.put(q, "class PlaceholderModule(Module):\n  __parameters__ = []\n"
                 "  __buffers__ = []\n  training : bool\n" + _method_text(code, q))
        root = _object(q, {"training": True})
    else:
        raise TypeError(f"gpujit.jit.save expects a scripted or traced module or function "
                        f"(gpujit.jit.script / gpujit.jit.trace), got {type(m).__name__}")
    from ..tensor import Tensor
    for c in w.constants:
        if not isinstance(c, (Tensor, str)):        # (a str: not ASCII, as TorchScript's)
            raise ArchiveError(f"cannot save a graph constant of Python type "
                               f"{type(c).__name__} ({c!r})")
    data, data_storages = _pickled(root, "data")
    consts, const_storages = _pickled(tuple(w.constants), "constants")
    records = []
    for k, v in (_extra_files or {}).items():
        records.append((f"extra/{_safe_name(k)}", v.encode() if isinstance(v, str)
                        else bytes(v)))
    records += data_storages + [("data.pkl", data)] + w.code_entries()
    version = ("version" if w.version == _BASE_VERSION else ".data/version",
               f"{w.version}\n".encode())
    records += const_storages + [("constants.pkl", consts), version,
                                 ("byteorder", sys.byteorder.encode())]
    write_records(f, name, records, check_parent=True)
