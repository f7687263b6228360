"""gpujit.jit.save: a scripted or traced module (or function) as an archive — the `.code`
of every method, class and called function, the manifest (module tree, attribute types and
values, constants, defaults, checksums) and arrays as .npy (no pickles)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import types
import zipfile

import numpy as np

from ..ir import types as T
from ..ir.python_exprs import isinstance_types
from ..ir.python_printer import python_source
from .archive import (FORMAT, FORMAT_VERSION, ArchiveError, encode, class_types,
                      type_record)

__all__ = ["save", "unsaveable_reason"]


def _elem_strides(a):
    return [st // a.itemsize for st in a.strides]


def _view_of(arr, root):
    """(offset, size, stride) in elements of arr within its owning C-contiguous array
    root, when arr's memory lies in root with root's dtype; else None (saved alone)."""
    if not root.flags.c_contiguous or arr.dtype != root.dtype or root.size == 0 or \
            any(st % arr.itemsize for st in arr.strides):
        return None
    off = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if off % arr.itemsize or not np.may_share_memory(arr, root) and arr is not root:
        return None
    return off // arr.itemsize, list(arr.shape), _elem_strides(arr)


class _Saver:
    def __init__(self, prefix):
        self.prefix = prefix
        self.entries = {}          # archive path -> bytes
        self.functions = {}        # name in the archive -> (order first seen, code text)
        self.callee_names = {}     # id(callee graph) -> its name in the archive
        self.by_bare = {}          # name compiled with -> the archive names given for it
        self.bare_code = {}        # archive name -> its code after the `def` line
        self.naming = set()        # ids of the callees being named (recursion guard)
        self.alive = []            # the callees named (their ids stay theirs)
        self.constants = []        # tensors the code names as CONSTANTS.c<k>
        self.classes = {}          # archive name -> record (script classes, NamedTuples)
        self.class_names = {}      # qualified IR name -> archive name (the code prints it:
                                   # T.ARCHIVE_CLASS_NAMES is this dict while saving)
        self.n_arrays = 0
        self.tensor_memo = {}      # id(tensor) -> (tensor, its entry)
        self.storage_memo = {}     # id(owning array) -> (array, its entry)
        self.devices = {}          # array entry -> the device its tensor was on (not cpu)

    def add(self, rel, data: bytes):
        self.entries[f"{self.prefix}/{rel}"] = data
        return rel

    def tensor(self, t):
        # one entry per tensor object: a list attribute holding a module's parameters
        # (nn.LSTM's _flat_weights) loads back holding those same parameters
        known = self.tensor_memo.get(id(t))
        if known is not None:
            return known[1]
        rel = self._tensor_entry(t)
        self.tensor_memo[id(t)] = (t, rel)
        return rel

    def _tensor_entry(self, t):
        from .. import dtypes as _dt
        if t._dtype is _dt.bfloat16:
            # (NumPy has no bfloat16: its float32 carrier's entry, marked; ops/
            # bfloat16_support.py)
            from ..ops.registry import wrap
            return {"bfloat16": self._tensor_entry(wrap(t.detach()._data, _dt.float32,
                                                        t.device))}
        if getattr(t, "is_quantized", False) is True:
            return {"quantized": self._quantized_entry(t)}
        rel = self._host_entry(t)
        dev = t.device
        if dev.type != "cpu":       # (loaded back there, as PyTorch's archive does)
            self.devices[rel if isinstance(rel, str) else rel["storage"]] = str(dev)
        return rel

    def _quantized_entry(self, t):
        """A quantized tensor (gpujit/quantized.py): its integer representation's entry and
        its quantizer (per-channel scales and zero points as lists)."""
        from ..ops.registry import wrap
        from ..quantized import _INT_DTYPE

        def host(v):
            return v.tolist() if hasattr(v, "tolist") else v
        return {"bits": self._tensor_entry(wrap(t._qbits, _INT_DTYPE[t._dtype], t.device)),
                "dtype": t._dtype.name, "qscheme": t._qscheme.name,
                "scale": host(t._qscale), "zero_point": host(t._qzp), "axis": t._qaxis}

    def _host_entry(self, t):
        if t.device.type != "cpu":
            known = self._device_view(t)
            if known is not None:
                return known
        arr = t.detach().cpu().numpy()
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        view = _view_of(arr, root)
        if view is not None:
            # a tensor over (part of) an array: the array once, the tensor as a view of
            # it, so tensors sharing memory (param2 = Parameter(param1[3])) load back
            # sharing it, as PyTorch's archive keeps one storage
            known = self.storage_memo.get(id(root))
            if known is None:
                known = (root, self._array_entry(root))
                self.storage_memo[id(root)] = known
            if view == (0, list(root.shape), _elem_strides(root)) and arr is root:
                return known[1]
            return {"storage": known[1], "offset": view[0], "size": view[1],
                    "stride": view[2]}
        return self._array_entry(arr)

    def _device_view(self, t):
        """A tensor on a GPU over (part of) a CuPy array that owns its memory: that array
        saved once (copied to the host), the tensor as a view of it, as on the CPU
        (_host_entry): CUDA tensors sharing memory load back sharing it. None when its
        memory is not such a view (saved alone, as a copy)."""
        a = t.detach()._data
        root = a
        while type(getattr(root, "base", None)) is type(a):
            root = root.base
        if not root.flags.c_contiguous or root.dtype != a.dtype or root.size == 0 or \
                any(st % a.itemsize or st < 0 for st in a.strides):
            return None
        off = a.data.ptr - root.data.ptr
        if off % a.itemsize or not 0 <= off < root.nbytes:
            return None
        key = ("device", root.data.ptr, root.nbytes, str(t.device))
        known = self.storage_memo.get(key)
        if known is None:
            known = (root, self._array_entry(root.get()))
            self.storage_memo[key] = known
        view = (off // a.itemsize, list(a.shape), _elem_strides(a))
        if a is root or view == (0, list(root.shape), _elem_strides(root)):
            return known[1]
        return {"storage": known[1], "offset": view[0], "size": view[1], "stride": view[2]}

    def _array_entry(self, arr):
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
        self.n_arrays += 1
        return self.add(f"data/{self.n_arrays - 1}.npy", buf.getvalue())

    def defaults(self, f):
        out = {}
        for k, v in f._defaults.items():
            try:
                out[k] = encode(v, self)
            except TypeError as e:
                raise ArchiveError(f"cannot save the default value of argument '{k}' of "
                                   f"{f.name}: {e}") from None
        return out

    def add_class(self, t) -> str:
        """Record a script class, NamedTuple, enum or interface type the saved code or
        values use; its name in the archive (what the code calls it). Each distinct class
        gets a name of its own, as functions do: its short name when no other class has
        taken it, else `<short>_<k>`, the lowest k free (two classes `Pair` from different
        modules)."""
        from ..frontend.script.classes import script_class_of
        known = self.class_names.get(t.name)
        if known is not None:
            return known
        short = t.name.rsplit(".", 1)[-1]
        name, k = short, 0
        while name in self.classes:
            k += 1
            name = f"{short}_{k}"
        self.class_names[t.name] = name
        self.classes[name] = None               # (taken while its record is made)
        if isinstance(t, T.EnumType):           # its members, by name, in order
            self.classes[name] = {"kind": "enum", "qualified": t.name,
                                  "members": [[m.name, encode(m.value, self)]
                                              for m in t.py_class]}
            return name
        if isinstance(t, T.NamedTupleType):
            rec = {"kind": "namedtuple", "fields": list(t.fields),
                   "types": [type_record(e) for e in t.elems]}
            defaults = getattr(t.py_class, "_field_defaults", None) or {}
            rec["defaults"] = {k: encode(v, self) for k, v in defaults.items()}
            self.classes[name] = rec
            for e in t.elems:
                self.note_type(e)
            return name
        if isinstance(t, T.InterfaceType):      # gpujit.jit.interface: its signatures
            self.classes[name] = {
                "kind": "interface", "module": bool(t.is_module), "qualified": t.name,
                "methods": {m: {"params": list(names), "types": [type_record(p) for p in ps],
                                "return": type_record(r)}
                            for m, (names, ps, r) in t.signatures.items()}}
            for _, ps, r in t.signatures.values():
                for p in list(ps) + [r]:
                    self.note_type(p)
            return name
        if script_class_of(t) is None:
            raise ArchiveError(f"cannot save a value of class '{name}': it is not a "
                               f"TorchScript class")
        from .torch_writer import _has_state_methods
        if _has_state_methods(script_class_of(t)):
            # (compiled as TorchScript compiles them: objects are saved through them)
            script_class_of(t).method_graph("__getstate__")
            script_class_of(t).method_graph("__setstate__")
        qualified = getattr(getattr(t, "py_class", None), "_archive_qualified", t.name)
        rec = {"kind": "class", "qualified": qualified, "attributes": {k: type_record(a)
                                               for k, a in t.attributes.items()},
               "methods": list(t.methods)}
        # (the methods' Python defaults: a call from Python or scripted code may leave
        # them out after loading, as before saving)
        from ..jit.objects import python_defaults
        sc = script_class_of(t)
        for mname in t.methods:
            fn = sc.python_method(mname)
            d = python_defaults(fn)
            if d:
                rec.setdefault("defaults", {})[mname] = self.defaults(
                    types.SimpleNamespace(_defaults=d, name=f"{name}.{mname}"))
        self.classes[name] = rec
        rec["code"] = self.add(f"code/__class__.{name}.py",
                               self.code_of(dict(t.methods), True).encode())
        for a in t.attributes.values():
            self.note_type(a)
        return name

    def note_type(self, t):
        """Record every script class / NamedTuple a type mentions."""
        for c in class_types(t):
            if isinstance(c, (T.NamedTupleType, T.InterfaceType, T.EnumType)) or \
                    _is_script_class(c):
                self.add_class(c)

    def note_graph_types(self, g):
        for v in g.inputs:
            self.note_type(v.type)
        for t in g.output_types():      # (a declared return type wider than the output's)
            self.note_type(t)
        for n in g.walk():
            for v in n.outputs:
                self.note_type(v.type)
            if n.kind == "prim::isinstance":       # isinstance(x, Color) names the class
                for t in isinstance_types(n):
                    if not isinstance(t, str):
                        self.note_type(t)

    def code_of(self, graphs: dict, is_method: bool) -> str:
        """The source of several graphs (methods of one module, or functions), and of the
        functions they call, collected for the archive's function table. The callees are
        named first, so that each call site prints the callee's name in the archive."""
        parts = []
        for g in graphs.values():
            self.note_graph_types(g)
            self.name_callees(g)
        for name, g in graphs.items():
            parts.append(python_source(g, name=name, self_name="self" if is_method else None,
                                       constants=self.constants, is_method=is_method,
                                       callee_names=self.callee_names))
        return "\n".join(parts)

    def name_callees(self, g):
        for n in g.walk():
            if n.kind != "prim::CallFunction":
                continue
            name, callee = n.attrs.get("name"), n.meta.get("callee")
            if name is None or callee is None:
                raise ArchiveError(f"cannot save a call of a function value "
                                   f"({n.kind} without a callee name)")
            self.function_name(name, callee)

    def function_name(self, bare, callee) -> str:
        """The name of the called function (graph callee, compiled as `bare`) in the
        archive, its code added to the function table on first sight. Each distinct
        function gets a name of its own: its bare name when no other function has taken
        it (archives of programs without a clash are as before), else `<bare>_<k>`, the
        lowest k free. Two graphs that print the same code under the same bare name
        (one function compiled twice) share one entry."""
        known = self.callee_names.get(id(callee))
        if known is not None:
            return known
        if id(callee) in self.naming:
            raise ArchiveError(f"cannot save a recursive call of '{bare}'")
        self.naming.add(id(callee))
        first_seen = len(self.alive)
        self.alive.append(callee)                      # (keeps id(callee) unique)
        self.note_graph_types(callee)
        self.name_callees(callee)                      # its own callees first
        code = python_source(callee, name=bare, is_method=False, constants=self.constants,
                             callee_names=self.callee_names)
        self.naming.discard(id(callee))
        head = f"def {bare}("
        assert code.startswith(head), code[:80]
        body = code[len(head):]                # the code but for the name it is given
        for other in self.by_bare.get(bare, ()):
            if self.bare_code[other] == body:
                self.callee_names[id(callee)] = other
                return other
        unique, k = bare, 0
        while unique in self.functions:
            k += 1
            unique = f"{bare}_{k}"
        self.callee_names[id(callee)] = unique
        self.by_bare.setdefault(bare, []).append(unique)
        self.bare_code[unique] = body
        # (written in the order first seen)
        self.functions[unique] = (first_seen, f"def {unique}(" + body)
        return unique

    def placeholder_module(self, fn):
        """A function saved as TorchScript saves one (ScriptFunction.save's
        addFunctionToModule): the method `forward` of a `__torch__.PlaceholderModule`, its
        graph the function's with a `self` input first; torch.jit.load gives back a
        RecursiveScriptModule (`.code` `def forward(self,\n    x: Tensor, ...`)."""
        code = self.code_of({"forward": fn.graph}, False)
        code = code.replace("def forward(", "def forward(self" + (
            ",\n    " if fn.graph.inputs else ""), 1)
        return {"name": "PlaceholderModule", "training": True,
                "qualified": "__torch__.PlaceholderModule", "methods": ["forward"],
                "defaults": {"forward": self.defaults(fn)} if fn._defaults else {},
                "code": self.add("code/root.py", code.encode()), "parameters": {},
                "buffers": {}, "constants": {}, "attributes": {}, "interfaces": {},
                "submodules": {}}

    def module(self, m, path):
        from ..jit.objects import ScriptModule
        from ..nn.module import Module
        if not isinstance(m, ScriptModule):
            raise TypeError(f"gpujit.jit.save: submodule '{path}' is a plain "
                            f"{type(m).__name__}, not a scripted or traced module")
        rec = {"name": m.original_name, "training": bool(m.training)}
        if m._type is not None:
            # its type's TorchScript name (mangled where this process mangled it, as
            # torch's archive names it; a loaded module's: the name its archive gave it),
            # kept on load as torch does
            rec["qualified"] = m._type.shown or m._type.name
        _refuse_python_ops(m, path)
        methods = {name: sm.graph for name, sm in m._script_methods.items()}
        rec["methods"] = list(methods)
        rec["defaults"] = {name: self.defaults(sm) for name, sm in m._script_methods.items()
                           if sm._defaults}
        if methods:
            rec["code"] = self.add(f"code/{path}.py",
                                   self.code_of(methods, True).encode())
        rec["parameters"] = {k: (None if p is None else
                                 {"data": self.tensor(p), "requires_grad": p.requires_grad})
                             for k, p in m._parameters.items()}
        nonpersistent = getattr(m, "_non_persistent_buffers_set", set())
        rec["buffers"] = {k: (None if b is None else
                              {"data": self.tensor(b), "persistent": k not in nonpersistent})
                          for k, b in m._buffers.items()}
        consts = dict(getattr(m, "_script_constants", {}) or {})
        rec["constants"] = {k: encode(v, self) for k, v in consts.items()}
        attrs = {}
        ctype = m._type
        for k, t in (ctype.attributes.items() if ctype is not None else ()):
            if k in m._parameters or k in m._buffers or k in m._modules or k in consts:
                continue
            if k not in m.__dict__:
                continue
            self.note_type(t)
            attrs[k] = {**type_record(t), "value": encode(m.__dict__[k], self, t)}
        rec["attributes"] = attrs
        rec["interfaces"] = {k: self.add_class(t) for k, t in
                             (m.__dict__.get("_interface_attrs") or {}).items()}
        hooks = m.__dict__.get("_script_hooks")
        if hooks:       # compiled forward pre-hooks / hooks: methods, named in order
            rec["hooks"] = {"pre": list(hooks[0]), "post": list(hooks[1])}
        subs = {}
        for k, c in m._modules.items():
            if c is None:
                subs[k] = None
            elif isinstance(c, Module):
                subs[k] = self.module(c, f"{path}.{k}")
        rec["submodules"] = subs
        return rec


_PYTHON_KINDS = ("prim::PythonOp",)


def _python_call_in(graph, seen=None):
    """The first node of graph (or of a function it calls) that calls back into Python."""
    seen = set() if seen is None else seen
    if id(graph) in seen:
        return None
    seen.add(id(graph))
    for n in graph.walk():
        if n.kind in _PYTHON_KINDS:
            return n
        callee = n.meta.get("callee") if n.kind == "prim::CallFunction" else None
        if callee is not None:
            found = _python_call_in(callee, seen)
            if found is not None:
                return found
    return None


def unsaveable_reason(obj):
    """Why obj cannot be saved (it calls Python functions marked @ignore: an archive holds
    no Python), or None."""
    from ..jit.objects import ScriptModule
    if isinstance(obj, ScriptModule):
        methods = [(f"{type(m).__name__ if not hasattr(m, 'original_name') else m.original_name}"
                    f".{name}", sm.graph) for m in obj.modules()
                   if isinstance(m, ScriptModule) for name, sm in m._script_methods.items()]
    else:
        methods = [(getattr(obj, "name", "function"), obj.graph)]
    for where, g in methods:
        n = _python_call_in(g)
        if n is not None:
            name = str(n.attrs.get("name", n.kind)).rsplit(".", 1)[-1]
            return (f"{where} calls the Python function {name!r} (@ignore), which an "
                    f"archive cannot hold; mark it @unused or make it scriptable")
    return None


def _is_script_class(t) -> bool:
    from ..frontend.script.classes import script_class_of
    return script_class_of(t) is not None


def _refuse_python_ops(m, path):
    reason = unsaveable_reason(m)
    if reason is not None:
        raise ArchiveError(f"cannot save this model: {reason}")


def save(m, f, _extra_files=None, *, format=None):
    """Save a scripted or traced module (or a ScriptFunction) to f (a path or a binary
    file object) as a zip archive that gpujit.jit.load reads back in any process.

    By default the archive is in torch.jit.save's format (torch_writer.py), so PyTorch's
    torch.jit.load (and libtorch) reads it too; a model that format cannot hold (forward
    hooks, a set attribute) is written in gpujit's own format instead, which
    only gpujit reads. format="pytorch" insists on PyTorch's format (ArchiveError when
    the model cannot be written in it); format="gpujit" writes gpujit's own."""
    if format is None:
        from .torch_writer import save as save_pytorch
        try:
            return save_pytorch(m, f, _extra_files)
        except ArchiveError:
            # (nothing was written: torch_writer builds the whole archive first) gpujit's
            # format holds hooks and sets; what neither format holds raises
            # gpujit's error below
            pass
        return _save_gpujit(m, f, _extra_files)
    if format == "pytorch":
        from .torch_writer import save as save_pytorch
        return save_pytorch(m, f, _extra_files)
    if format != "gpujit":
        raise ValueError(f"gpujit.jit.save: format must be 'gpujit' or 'pytorch', not "
                         f"{format!r}")
    return _save_gpujit(m, f, _extra_files)


def _save_gpujit(m, f, _extra_files):
    name = "archive"
    if isinstance(f, (str, os.PathLike)):
        base = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in base) or "archive"
    s = _Saver(name)
    names = T.ARCHIVE_CLASS_NAMES.set(s.class_names)
    try:
        data = _archive(s, m, _extra_files)
    finally:
        T.ARCHIVE_CLASS_NAMES.reset(names)
    own = isinstance(f, (str, os.PathLike))
    if own:
        parent = os.path.dirname(os.fspath(f))
        if parent and not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
    fh = open(f, "wb") if own else f
    try:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr(f"{name}/version", str(FORMAT_VERSION))
            z.writestr(f"{name}/manifest.json", data)
            for k, v in s.entries.items():
                z.writestr(k, v)
    finally:
        if own:
            fh.close()


def _archive(s, m, _extra_files):
    """The manifest's text, s holding the archive's other entries; class types print by
    their archive names meanwhile."""
    from ..jit.objects import ScriptModule, ScriptFunction
    name = s.prefix
    manifest = {"format": FORMAT, "version": FORMAT_VERSION}
    if isinstance(m, ScriptModule):
        manifest["kind"] = "module"
        manifest["root"] = s.module(m, "root")
    elif isinstance(m, ScriptFunction):
        _refuse_python_ops(m, m.name)
        manifest["kind"] = "module"
        manifest["root"] = s.placeholder_module(m)
    else:
        raise TypeError(f"gpujit.jit.save expects a scripted or traced module or function "
                        f"(gpujit.jit.script / gpujit.jit.trace), got {type(m).__name__}")
    manifest["classes"] = s.classes
    if s.functions:
        manifest["functions"] = s.add(
            "code/__functions__.py",
            "\n".join(code for _, code in sorted(s.functions.values())).encode())
    consts = {}
    for i, c in enumerate(s.constants):
        from ..tensor import Tensor
        if isinstance(c, str):          # (a str that is not ASCII, as TorchScript keeps it)
            consts[f"c{i}"] = {"str": c}
            continue
        if not isinstance(c, Tensor):
            raise ArchiveError(f"cannot save a graph constant of Python type "
                               f"{type(c).__name__} ({c!r})")
        consts[f"c{i}"] = s.tensor(c)
    manifest["tensor_constants"] = consts
    if s.devices:
        manifest["devices"] = s.devices
    extra = {}
    for k, v in (_extra_files or {}).items():
        data = v.encode() if isinstance(v, str) else bytes(v)
        extra[k] = s.add(f"extra/{_safe_name(k)}", data)
    manifest["extra_files"] = extra
    manifest["sha256"] = {k[len(name) + 1:]: hashlib.sha256(v).hexdigest()
                          for k, v in s.entries.items()}
    return json.dumps(manifest, indent=1)


def _safe_name(k):
    if not isinstance(k, str) or not k or k.startswith("/") or ".." in k.split("/"):
        raise ValueError(f"_extra_files: {k!r} is not a valid file name")
    return k
