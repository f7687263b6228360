"""`gpujit.jit.save` / `gpujit.jit.load`: scripted and traced modules and functions as a
zip archive that a fresh process loads without the user's Python classes.

The archive holds only text and arrays:

    <name>/version                 the format version ("1")
    <name>/manifest.json           the module tree: class names, methods, attribute types
                                   (IR type text), constants and plain attribute values
                                   (tagged JSON), parameters/buffers (which .npy holds each),
                                   the SHA-256 of every other entry
    <name>/code/<path>.py          the `.code` of every method (and called function)
    <name>/data/<k>.npy            tensors, saved with allow_pickle=False
    <name>/extra/<file>            the caller's _extra_files

`load` never unpickles and never runs Python from the archive: each code file is parsed
(only `def` statements are accepted), its functions are made from the compiled code objects
without being called, and gpujit's script frontend compiles them into graphs, with the
module rebuilt from the manifest (a generated nn.Module class per module, named as the
original class). A truncated, tampered or wrong-version archive raises ArchiveError.
"""
from __future__ import annotations

import ast
import hashlib
import io
import json
import linecache
import math
import os
import types
import typing
import zipfile

import numpy as np

from ..ir import types as T
from ..ir.parser import parse_type
from ..ir.python_printer import python_source

__all__ = ["save", "load", "ArchiveError", "FORMAT_VERSION", "unsaveable_reason"]

FORMAT_VERSION = 1
_FORMAT = "gpujit-archive"


class ArchiveError(RuntimeError):
    """An archive gpujit cannot load: not a zip, truncated, changed after it was written,
    made by an incompatible version, or holding something other than code and arrays."""


# ====================================================================== values

def _encode(v, saver):
    """A plain attribute value as tagged JSON (tensors go to .npy files)."""
    from ..tensor import Tensor
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"int": str(v)} if abs(v) >= 2 ** 53 else v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(v, Tensor):
        return {"tensor": saver.tensor(v)}
    if isinstance(v, tuple) and hasattr(type(v), "_fields"):
        from ..frontend.script.types import namedtuple_type
        name = saver.add_class(namedtuple_type(type(v)))
        return {"namedtuple": name, "values": [_encode(x, saver) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [_encode(x, saver) for x in v]}
    if isinstance(v, list):
        return {"list": [_encode(x, saver) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[_encode(k, saver), _encode(x, saver)] for k, x in v.items()]}
    from ..device import device
    from .. import dtypes as _dt
    if isinstance(v, device):
        return {"device": str(v)}
    if isinstance(v, _dt.dtype):
        return {"dtype": v.name}
    from ..frontend.script.classes import object_value_type
    t = object_value_type(v)
    if isinstance(t, T.ClassType) and not isinstance(t, T.NamedTupleType):
        name = saver.add_class(t)
        return {"object": name, "attrs": {k: _encode(getattr(v, k), saver)
                                          for k in t.attributes if hasattr(v, k)}}
    raise TypeError(f"cannot save a value of Python type {type(v).__name__} ({v!r})")


def _decode(j, loader):
    if j is None or isinstance(j, (bool, int, float, str)):
        return j
    if isinstance(j, dict) and set(j) in ({"namedtuple", "values"}, {"object", "attrs"}):
        cls = loader.classes.get(j.get("namedtuple", j.get("object")))
        if cls is None:
            raise ArchiveError(f"the manifest uses a class it does not define: {j!r}")
        if "values" in j:
            return cls(*[_decode(x, loader) for x in _expect(j["values"], list, "values")])
        obj = cls.__new__(cls)
        for k, x in _expect(j["attrs"], dict, "object attributes").items():
            setattr(obj, k, _decode(x, loader))
        return obj
    if isinstance(j, dict) and len(j) == 1:
        (tag, x), = j.items()
        if tag == "int":
            return int(x)
        if tag == "float" and x in ("nan", "inf", "-inf"):
            return float(x)
        if tag == "tensor":
            return loader.tensor(x)
        if tag in ("tuple", "list"):
            items = [_decode(e, loader) for e in _expect(x, list, tag)]
            return tuple(items) if tag == "tuple" else items
        if tag == "dict":
            return {_decode(k, loader): _decode(e, loader)
                    for k, e in (_expect(p, list, "dict item") for p in _expect(x, list, tag))}
        if tag == "device":
            from ..device import device
            return device(_expect(x, str, tag))
        if tag == "dtype":
            from .. import dtypes as _dt
            dt = getattr(_dt, _expect(x, str, tag), None)
            if isinstance(dt, _dt.dtype):
                return dt
    raise ArchiveError(f"the manifest holds a value gpujit does not understand: {j!r}")


def _expect(x, typ, what):
    if not isinstance(x, typ):
        raise ArchiveError(f"the manifest's {what} is malformed ({type(x).__name__})")
    return x


# ====================================================================== save

class _Saver:
    def __init__(self, prefix):
        self.prefix = prefix
        self.entries = {}          # archive path -> bytes
        self.functions = {}        # name -> (graph, code text)
        self.constants = []        # tensors the code names as CONSTANTS.c<k>
        self.classes = {}          # short name -> record (script classes, NamedTuples)
        self.class_names = {}      # short name -> qualified IR name
        self.n_arrays = 0

    def add(self, rel, data: bytes):
        self.entries[f"{self.prefix}/{rel}"] = data
        return rel

    def tensor(self, t):
        arr = t.detach().cpu().numpy()
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
        self.n_arrays += 1
        return self.add(f"data/{self.n_arrays - 1}.npy", buf.getvalue())

    def defaults(self, f):
        try:
            return {k: _encode(v, self) for k, v in f._defaults.items()}
        except TypeError as e:
            raise ArchiveError(f"cannot save the default arguments of {f.name}: {e}") from None

    def add_class(self, t) -> str:
        """Record a script class or NamedTuple type the saved code or values use; its
        short name (what the code calls it)."""
        from ..frontend.script.classes import script_class_of
        name = t.annotation()
        known = self.class_names.get(name)
        if known is not None:
            if known != t.name:
                raise ArchiveError(f"two classes named '{name}' ({known} and {t.name}) are "
                                   f"used; rename one of them to save this model")
            return name
        self.class_names[name] = t.name
        if isinstance(t, T.NamedTupleType):
            rec = {"kind": "namedtuple", "fields": list(t.fields),
                   "types": [_type_record(e) for e in t.elems]}
            defaults = getattr(t.py_class, "_field_defaults", None) or {}
            rec["defaults"] = {k: _encode(v, self) for k, v in defaults.items()}
            self.classes[name] = rec
            for e in t.elems:
                self.note_type(e)
            return name
        if script_class_of(t) is None:
            raise ArchiveError(f"cannot save a value of class '{name}': it is not a "
                               f"TorchScript class")
        rec = {"kind": "class", "attributes": {k: _type_record(a)
                                               for k, a in t.attributes.items()},
               "methods": list(t.methods)}
        self.classes[name] = rec
        rec["code"] = self.add(f"code/__class__.{name}.py",
                               self.code_of(dict(t.methods), True).encode())
        for a in t.attributes.values():
            self.note_type(a)
        return name

    def note_type(self, t):
        """Record every script class / NamedTuple a type mentions."""
        for c in _class_types(t):
            if isinstance(c, T.NamedTupleType) or _is_script_class(c):
                self.add_class(c)

    def note_graph_types(self, g):
        for v in g.inputs:
            self.note_type(v.type)
        for n in g.walk():
            for v in n.outputs:
                self.note_type(v.type)

    def code_of(self, graphs: dict, is_method: bool) -> str:
        """The source of several graphs (methods of one module, or functions), and of the
        functions they call, collected for the archive's function table."""
        parts = []
        for g in graphs.values():
            self.note_graph_types(g)
        for name, g in graphs.items():
            parts.append(python_source(g, name=name, self_name="self" if is_method else None,
                                       constants=self.constants, is_method=is_method))
            self.collect_callees(g)
        return "\n".join(parts)

    def collect_callees(self, g):
        for n in g.walk():
            if n.kind != "prim::CallFunction":
                continue
            name, callee = n.attrs.get("name"), n.meta.get("callee")
            if name is None or callee is None:
                raise ArchiveError(f"cannot save a call of a function value "
                                   f"({n.kind} without a callee name)")
            prev = self.functions.get(name)
            if prev is not None:
                if prev[0] is not callee and str(prev[0]) != str(callee):
                    raise ArchiveError(f"two different functions named '{name}' are called; "
                                       f"rename one of them to save this model")
                continue
            self.functions[name] = (callee, None)
            self.note_graph_types(callee)
            self.functions[name] = (callee, python_source(callee, name=name, is_method=False,
                                                          constants=self.constants))
            self.collect_callees(callee)

    def module(self, m, path):
        from .objects import ScriptModule
        from ..nn.module import Module
        if not isinstance(m, ScriptModule):
            raise TypeError(f"gpujit.jit.save: submodule '{path}' is a plain "
                            f"{type(m).__name__}, not a scripted or traced module")
        rec = {"name": m.original_name, "training": bool(m.training)}
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
        rec["constants"] = {k: _encode(v, self) for k, v in consts.items()}
        attrs = {}
        ctype = m._type
        for k, t in (ctype.attributes.items() if ctype is not None else ()):
            if k in m._parameters or k in m._buffers or k in m._modules or k in consts:
                continue
            if k not in m.__dict__:
                continue
            self.note_type(t)
            attrs[k] = {**_type_record(t), "value": _encode(m.__dict__[k], self)}
        rec["attributes"] = attrs
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
    from .objects import ScriptModule
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


def _class_types(t):
    """The class and NamedTuple types inside a type (List[Optional[Pair]] -> [Pair])."""
    if isinstance(t, T.NamedTupleType):
        yield t
        for e in t.elems:
            yield from _class_types(e)
    elif isinstance(t, T.ClassType):
        yield t
    elif isinstance(t, (T.ListType, T.OptionalType, T.SetType)):
        yield from _class_types(t.elem)
    elif isinstance(t, T.TupleType):
        for e in t.elems:
            yield from _class_types(e)
    elif isinstance(t, T.DictType):
        yield from _class_types(t.key)
        yield from _class_types(t.value)
    elif isinstance(t, T.UnionType):
        for e in t.types:
            yield from _class_types(e)


def _is_script_class(t) -> bool:
    from ..frontend.script.classes import script_class_of
    return script_class_of(t) is not None


def _type_record(t) -> dict:
    """A type as IR text and, where it names classes, as the annotation the archive's
    code would write (resolved among the archive's own classes when loading)."""
    rec = {"type": str(t)}
    if any(True for _ in _class_types(t)):
        rec["annotation"] = t.annotation()
    return rec


def _refuse_python_ops(m, path):
    reason = unsaveable_reason(m)
    if reason is not None:
        raise ArchiveError(f"cannot save this model: {reason}")


def save(m, f, _extra_files=None):
    """Save a scripted or traced module (or a ScriptFunction) to f (a path or a binary
    file object) as a zip archive that gpujit.jit.load reads back in any process."""
    from .objects import ScriptModule, ScriptFunction
    name = "archive"
    if isinstance(f, (str, os.PathLike)):
        base = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in base) or "archive"
    s = _Saver(name)
    manifest = {"format": _FORMAT, "version": FORMAT_VERSION}
    if isinstance(m, ScriptModule):
        manifest["kind"] = "module"
        manifest["root"] = s.module(m, "root")
    elif isinstance(m, ScriptFunction):
        _refuse_python_ops(m, m.name)
        manifest["kind"] = "function"
        manifest["function"] = m.name
        manifest["defaults"] = s.defaults(m)
        manifest["code"] = s.add("code/__function__.py",
                                 s.code_of({m.name: m.graph}, False).encode())
    else:
        raise TypeError(f"gpujit.jit.save expects a scripted or traced module or function "
                        f"(gpujit.jit.script / gpujit.jit.trace), got {type(m).__name__}")
    manifest["classes"] = s.classes
    if s.functions:
        manifest["functions"] = s.add(
            "code/__functions__.py",
            "\n".join(code for _, code in s.functions.values()).encode())
    consts = {}
    for i, c in enumerate(s.constants):
        from ..tensor import Tensor
        if not isinstance(c, Tensor):
            raise ArchiveError(f"cannot save a graph constant of Python type "
                               f"{type(c).__name__} ({c!r})")
        consts[f"c{i}"] = s.tensor(c)
    manifest["tensor_constants"] = consts
    extra = {}
    for k, v in (_extra_files or {}).items():
        data = v.encode() if isinstance(v, str) else bytes(v)
        extra[k] = s.add(f"extra/{_safe_name(k)}", data)
    manifest["extra_files"] = extra
    manifest["sha256"] = {k[len(name) + 1:]: hashlib.sha256(v).hexdigest()
                          for k, v in s.entries.items()}
    own = isinstance(f, (str, os.PathLike))
    fh = open(f, "wb") if own else f
    try:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr(f"{name}/version", str(FORMAT_VERSION))
            z.writestr(f"{name}/manifest.json", json.dumps(manifest, indent=1))
            for k, v in s.entries.items():
                z.writestr(k, v)
    finally:
        if own:
            fh.close()


def _safe_name(k):
    if not isinstance(k, str) or not k or k.startswith("/") or ".." in k.split("/"):
        raise ValueError(f"_extra_files: {k!r} is not a valid file name")
    return k


# ====================================================================== load

class _Loader:
    def __init__(self, z, prefix, manifest, map_location, label):
        self.z, self.prefix, self.manifest = z, prefix, manifest
        self.map_location = map_location
        self.label = label
        self.digests = _expect(manifest.get("sha256", {}), dict, "sha256 table")
        self.constants = {}
        self.classes = {}          # short name -> the Python class made for it

    def read(self, rel) -> bytes:
        rel = _expect(rel, str, "file reference")
        want = self.digests.get(rel)
        if want is None:
            raise ArchiveError(f"{self.label}: the manifest lists no checksum for {rel!r} "
                               f"(the archive was changed after it was written)")
        try:
            data = self.z.read(f"{self.prefix}/{rel}")
        except KeyError:
            raise ArchiveError(f"{self.label}: {rel!r} is missing from the archive") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise ArchiveError(f"{self.label}: {rel!r} cannot be read ({e}); the archive "
                               f"is damaged or truncated") from None
        if hashlib.sha256(data).hexdigest() != want:
            raise ArchiveError(f"{self.label}: {rel!r} does not match its checksum (the "
                               f"archive was changed after it was written)")
        return data

    def tensor(self, rel):
        try:
            arr = np.load(io.BytesIO(self.read(rel)), allow_pickle=False)
        except ValueError as e:
            raise ArchiveError(f"{self.label}: {rel!r} is not a plain array ({e})") from None
        from ..ops.creation import from_numpy
        return self.place(from_numpy(np.array(arr)))

    def place(self, t):
        loc = self.map_location
        if loc is None:
            return t
        if callable(loc) and not isinstance(loc, (str, dict)):
            return loc(t, "cpu")
        if isinstance(loc, dict):
            loc = loc.get("cpu", "cpu")
        return t.to(loc)

    # ---- code
    def functions_from(self, rel, namespace, what):
        """The functions defined in an archive code file, made from their compiled code
        objects without running anything (only `def` statements are accepted)."""
        text = self.read(rel).decode("utf-8", errors="strict")
        filename = f"<{self.label}:{rel}>"
        try:
            tree = ast.parse(text, filename)
        except SyntaxError as e:
            raise ArchiveError(f"{self.label}: {rel} is not valid code ({e.msg}, line "
                               f"{e.lineno})") from None
        for stmt in tree.body:
            if not isinstance(stmt, ast.FunctionDef) or stmt.decorator_list:
                what = "a decorator" if isinstance(stmt, ast.FunctionDef) else \
                    type(stmt).__name__
                raise ArchiveError(f"{self.label}: {rel} line {stmt.lineno}: the archive's "
                                   f"code may only define functions (found {what}); it "
                                   f"was not written by gpujit")
            a = stmt.args
            if a.defaults or any(d is not None for d in a.kw_defaults):
                raise ArchiveError(f"{self.label}: {rel} line {stmt.lineno}: a default "
                                   f"value in the code (gpujit keeps defaults in the "
                                   f"manifest); it was not written by gpujit")
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        code = compile(tree, filename, "exec", dont_inherit=True)
        defs = {d.name: d for d in tree.body}
        out = {}
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                fn = types.FunctionType(c, namespace, c.co_name)
                fn.__module__ = "__archive__"
                fn.__annotations__ = _annotations(defs[c.co_name])
                out[c.co_name] = fn
        return out

    def set_defaults(self, fn, defaults):
        """fn.__defaults__ from the saved {parameter: value} (trailing parameters)."""
        if not defaults:
            return
        defaults = _expect(defaults, dict, "defaults")
        names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
        if not set(defaults) <= set(names):
            raise ArchiveError(f"{self.label}: defaults for unknown parameters of "
                               f"{fn.__name__}: {sorted(set(defaults) - set(names))}")
        first = min(names.index(k) for k in defaults)
        if set(names[first:]) != set(defaults):
            raise ArchiveError(f"{self.label}: the defaults of {fn.__name__} are not "
                               f"trailing parameters")
        fn.__defaults__ = tuple(_decode(defaults[k], self) for k in names[first:])

    def build_classes(self, records, ns):
        """The archive's script classes and NamedTuples as Python classes in ns: made
        first (so their annotations can name each other), typed second."""
        import collections
        records = _expect(records, dict, "classes")
        for name, rec in records.items():
            rec = _expect(rec, dict, f"class {name}")
            if not (isinstance(name, str) and name.isidentifier()):
                raise ArchiveError(f"{self.label}: bad class name {name!r}")
            if rec.get("kind") == "namedtuple":
                fields = [_expect(f, str, "field") for f in _expect(rec.get("fields"), list,
                                                                     "fields")]
                if not all(f.isidentifier() for f in fields):
                    raise ArchiveError(f"{self.label}: bad fields of {name}: {fields}")
                cls = collections.namedtuple(name, fields)
                cls.__module__ = "__archive__"
            elif rec.get("kind") == "class":
                body = {"__module__": "__archive__", "__qualname__": name}
                fns = self.functions_from(rec.get("code"), ns, f"class {name}")
                for mname in _expect(rec.get("methods", []), list, "methods"):
                    if mname not in fns:
                        raise ArchiveError(f"{self.label}: the code of class {name} has no "
                                           f"method {mname!r}")
                    fns[mname].__qualname__ = f"{name}.{mname}"
                    body[mname] = fns[mname]
                cls = type(name, (), body)
            else:
                raise ArchiveError(f"{self.label}: unknown kind of class {name}: "
                                   f"{rec.get('kind')!r}")
            self.classes[name] = cls
            ns[name] = cls
        for name, rec in records.items():
            cls = self.classes[name]
            if rec["kind"] == "namedtuple":
                types = [self.type_of(t, ns, f"field of {name}")
                         for t in _expect(rec.get("types"), list, "types")]
                cls.__annotations__ = dict(zip(cls._fields, types))
                defaults = {k: _decode(v, self) for k, v in
                            _expect(rec.get("defaults", {}), dict, "defaults").items()}
                if defaults:
                    first = min(cls._fields.index(k) for k in defaults)
                    cls.__new__.__defaults__ = tuple(defaults[k]
                                                     for k in cls._fields[first:])
                    cls._field_defaults = defaults
            else:
                cls.__annotations__ = {
                    k: _type_annotation(_expect(t, dict, "attribute type"))
                    for k, t in _expect(rec.get("attributes", {}), dict, "attributes").items()}

    def type_of(self, rec, ns, what):
        """The IR type of a _type_record: its annotation among the archive's classes, or
        its IR text."""
        rec = _expect(rec, dict, what)
        try:
            if "annotation" in rec:
                from ..frontend.script.types import annotation_type
                return annotation_type(_expect(rec["annotation"], str, what), ns)
            return parse_type(_expect(rec.get("type"), str, what))
        except ArchiveError:
            raise
        except Exception as e:
            raise ArchiveError(f"{self.label}: the {what} has a type gpujit cannot read "
                               f"({e})") from None

    def module(self, rec, namespace, path):
        from ..nn.module import Module
        from ..nn.parameter import Parameter
        rec = _expect(rec, dict, f"record of {path}")
        name = _expect(rec.get("name"), str, f"name of {path}")
        if not name.isidentifier():
            raise ArchiveError(f"{self.label}: module name {name!r} is not an identifier")
        consts = {k: _decode(v, self) for k, v in
                  _expect(rec.get("constants", {}), dict, "constants").items()}
        attrs = {}
        annotations = {}
        for k, a in _expect(rec.get("attributes", {}), dict, "attributes").items():
            a = _expect(a, dict, f"attribute {k}")
            annotations[k] = self.type_of(a, namespace, f"attribute {path}.{k}")
            attrs[k] = _decode(a.get("value"), self)
        body = {"__annotations__": annotations, "__constants__": list(consts),
                "__module__": "__archive__", "__qualname__": name,
                "original_name": name}     # a class attribute: not saved as state
        methods = _expect(rec.get("methods", []), list, "methods")
        if methods:
            fns = self.functions_from(rec.get("code"), namespace, path)
            for mname in methods:
                fn = fns.get(mname)
                if fn is None:
                    raise ArchiveError(f"{self.label}: the code of {path} has no method "
                                       f"{mname!r}")
                if mname != "forward":
                    fn._gpujit_export = True
                self.set_defaults(fn, _expect(rec.get("defaults", {}), dict,
                                              "defaults").get(mname))
                body[mname] = fn
        cls = type(name, (Module,), body)
        mod = Module.__new__(cls)
        Module.__init__(mod)
        mod.training = bool(rec.get("training", True))
        for k, p in _expect(rec.get("parameters", {}), dict, "parameters").items():
            if p is None:
                mod._parameters[k] = None
                continue
            t = self.tensor(p.get("data"))
            mod._parameters[k] = Parameter(t, requires_grad=bool(p.get("requires_grad", True)))
        for k, b in _expect(rec.get("buffers", {}), dict, "buffers").items():
            mod._buffers[k] = None if b is None else self.tensor(b.get("data"))
            if b is not None and not b.get("persistent", True):
                mod._non_persistent_buffers_set.add(k)
        for k, v in {**consts, **attrs}.items():
            object.__setattr__(mod, k, v)
        for k, sub in _expect(rec.get("submodules", {}), dict, "submodules").items():
            mod._modules[k] = None if sub is None else self.module(sub, namespace,
                                                                    f"{path}.{k}")
        return mod


def _type_annotation(rec):
    """A class attribute's annotation for the frontend: the annotation text (resolved in the
    archive's namespace), or the IR type."""
    if "annotation" in rec:
        return _expect(rec["annotation"], str, "annotation")
    try:
        return parse_type(_expect(rec.get("type"), str, "attribute type"))
    except Exception as e:
        raise ArchiveError(f"an attribute has a type gpujit cannot read ({e})") from None


def _annotations(fdef: ast.FunctionDef) -> dict:
    """The def's annotations as text (the frontend resolves them; nothing is evaluated)."""
    out = {a.arg: ast.unparse(a.annotation) for a in fdef.args.args
           if a.annotation is not None}
    if fdef.returns is not None:
        out["return"] = ast.unparse(fdef.returns)
    return out


def _namespace(loader):
    """What the archive's code may name: gpujit as `torch`, the typing names, and the
    constants table. Nothing here runs code from the archive."""
    import gpujit
    from .script import annotate
    ns = {"torch": gpujit, "Tensor": gpujit.Tensor, "annotate": annotate,
          "math": math}
    for k in ("List", "Tuple", "Dict", "Optional", "Union", "Any"):
        ns[k] = getattr(typing, k)
    from ..frontend.script import serialized as _ser
    ns.update(_ser.archive_names())
    ns["CONSTANTS"] = _ser.constants_namespace(loader.constants)
    return ns


def _open(f):
    try:
        if isinstance(f, (str, os.PathLike)):
            label = os.path.basename(os.fspath(f))
            return zipfile.ZipFile(f, "r"), label
        return zipfile.ZipFile(f, "r"), "archive"
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise ArchiveError(f"{getattr(f, 'name', f)!s} is not a gpujit archive: it is not a "
                           f"readable zip file ({e}); it may be truncated") from None


def load(f, map_location=None, _extra_files=None):
    """Load what gpujit.jit.save wrote: a RecursiveScriptModule (or ScriptFunction) compiled
    from the archive's code, with its parameters, buffers and attributes.
    map_location: a device (or 'cpu' / 'cuda:0') to move every tensor to."""
    z, label = _open(f)
    with z:
        names = z.namelist()
        prefixes = {n.split("/", 1)[0] for n in names if "/" in n}
        if len(prefixes) != 1:
            raise ArchiveError(f"{label} is not a gpujit archive (expected one top folder, "
                               f"found {sorted(prefixes)[:4]})")
        prefix = prefixes.pop()
        try:
            version = z.read(f"{prefix}/version").decode().strip()
            raw = z.read(f"{prefix}/manifest.json")
        except KeyError as e:
            raise ArchiveError(f"{label} is not a gpujit archive ({e.args[0]})") from None
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise ArchiveError(f"{label} is damaged or truncated ({e})") from None
        if version != str(FORMAT_VERSION):
            raise ArchiveError(f"{label} was written in archive format version {version!r}; "
                               f"this gpujit reads version {FORMAT_VERSION}")
        try:
            manifest = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise ArchiveError(f"{label}: the manifest is not valid JSON ({e})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT or \
                manifest.get("version") != FORMAT_VERSION:
            raise ArchiveError(f"{label}: the manifest is not a gpujit archive manifest of "
                               f"version {FORMAT_VERSION}")
        ld = _Loader(z, prefix, manifest, map_location, label)
        if _extra_files is not None:
            extra = _expect(manifest.get("extra_files", {}), dict, "extra files")
            for k in list(_extra_files):
                if k in extra:
                    _extra_files[k] = ld.read(extra[k])        # bytes, as torch gives
        for k, rel in _expect(manifest.get("tensor_constants", {}), dict, "constants").items():
            if not (isinstance(k, str) and k.isidentifier()):
                raise ArchiveError(f"{label}: bad constant name {k!r}")
            ld.constants[k] = ld.tensor(rel)
        ns = _namespace(ld)
        ld.build_classes(manifest.get("classes", {}), ns)
        if manifest.get("functions"):
            ns.update(ld.functions_from(manifest["functions"], ns, "functions"))
        kind = manifest.get("kind")
        if kind == "function":
            fname = _expect(manifest.get("function"), str, "function name")
            fns = ld.functions_from(manifest.get("code"), ns, fname)
            if fname not in fns:
                raise ArchiveError(f"{label}: the archive's code has no function {fname!r}")
            ld.set_defaults(fns[fname], manifest.get("defaults"))
            from .script import script
            return script(fns[fname])
        if kind != "module":
            raise ArchiveError(f"{label}: unknown archive kind {kind!r}")
        root = ld.module(manifest.get("root"), ns, "root")
    from ..frontend.script.modules import script_module
    return script_module(root)
