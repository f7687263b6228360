"""gpujit.jit.load of the archives PyTorch's torch.jit.save writes (scripted and traced
modules, saved script functions), so that a TorchScript model saved by PyTorch runs on
gpujit without its Python source.

Such an archive holds `data.pkl` (the module tree: each module pickled as an object of its
class `__torch__.<qualified name>` whose state is a dict of attributes, tensors as
`torch._utils._rebuild_tensor_v2` over storages in `data/`), `constants.pkl` (the tensors
the code names `CONSTANTS.c<k>`, storages in `constants/`), `code/__torch__/**.py` (every
class and function as TorchScript's serialized Python: `class Linear(Module):` with its
`__parameters__`, `__buffers__`, attribute annotations, `Final` constants and methods) and
`extra/` files.

Nothing in the archive runs as Python: the pickle is read by gpujit's restricted
unpickler (only tensors, storages, containers and the archive's own classes, whose objects
are plain records here), the code is parsed with `ast` and only `class` / `def` statements
are accepted; each function is made from its compiled code object without being called,
its default values are literals, and gpujit's script frontend compiles it. The module tree
is rebuilt as gpujit modules and scripted, so the result is a RecursiveScriptModule as
gpujit.jit.load gives for its own archives. What PyTorch archives can hold and gpujit
refuses, in words: objects with their own __getstate__ / __setstate__, custom C++ classes
(`__torch__.torch.classes`), dtypes gpujit lacks.
"""
from __future__ import annotations

import ast
import copy
import io
import linecache
import re
import struct
import types
import zipfile

from ..ir import types as T
from ..frontend.script.serialized import ArchiveMethod
from .archive import ArchiveError

__all__ = ["is_torch_archive", "load"]


def is_torch_archive(names, prefix) -> bool:
    """Is the zip (its entry names, its one top folder) an archive torch.jit.save wrote?"""
    return f"{prefix}/data.pkl" in names and any(
        n.startswith(f"{prefix}/code/__torch__") for n in names)


# ---------------------------------------------------------------------- pickled records

class _Record:
    """An object of one of the archive's classes as the pickle gives it: its class's
    qualified name and its state (the dict of attributes)."""
    qualified = "?"

    def __init__(self, *args):
        self.state = None

    def __setstate__(self, state):
        self.state = state


def _restore_type_tag(value, type_str):
    """torch.jit._pickle.restore_type_tag: a list / dict with its element types' text
    (the attribute's annotation says the type here)."""
    return value


def _identity_list(data):
    return list(data)


_JIT_PICKLE = {"restore_type_tag": _restore_type_tag, "build_intlist": _identity_list,
               "build_floatlist": _identity_list, "build_boollist": _identity_list,
               "build_doublelist": _identity_list, "build_tensorlist": _identity_list}


class _EnumValue:
    """An enum member as the pickle gives it (its class, then its value)."""

    def __init__(self, qualified, value):
        self.qualified, self.value = qualified, value


def _unpickle(archive, rel, storage_dir):
    """The object pickled in entry rel, its storages read from storage_dir/."""
    import pickle
    from .pickled import UnpicklerMixin, _restore_location

    records = {}

    class Unpickler(UnpicklerMixin, pickle._Unpickler):
        dispatch = dict(pickle._Unpickler.dispatch)

        def load_reduce(self):
            # TorchScript pickles an enum member as its class and its bare value
            args = self.stack.pop()
            func = self.stack[-1]
            if isinstance(func, type) and issubclass(func, _Record) and \
                    not isinstance(args, tuple):
                self.stack[-1] = _EnumValue(func.qualified, args)
                return
            self.stack[-1] = func(*args)
        dispatch[pickle.REDUCE[0]] = load_reduce

        # TorchScript's str is bytes: a str constant or attribute may hold bytes that are
        # no UTF-8 ("é"[0:1], torch 2.13 pickles its one byte b"\xc3"): read as gpujit's
        # scripted str holds them, the surrogate escapes of those bytes (Python's
        # pickle refuses them: UnicodeDecodeError)
        def _push_str(self, n):
            self.append(str(self.read(n), "utf-8", "surrogateescape"))

        def load_binunicode(self):
            self._push_str(struct.unpack("<I", self.read(4))[0])
        dispatch[pickle.BINUNICODE[0]] = load_binunicode

        def load_short_binunicode(self):
            self._push_str(self.read(1)[0])
        dispatch[pickle.SHORT_BINUNICODE[0]] = load_short_binunicode

        def load_binunicode8(self):
            self._push_str(struct.unpack("<Q", self.read(8))[0])
        dispatch[pickle.BINUNICODE8[0]] = load_binunicode8

        def find_class(self, module, name):
            if module == "__torch__" or module.startswith("__torch__."):
                q = f"{module}.{name}"
                if q.startswith("__torch__.torch.classes."):
                    raise ArchiveError(f"{archive.label}: the archive holds an object of the "
                                       f"custom C++ class {q[len('__torch__.'):]}, which "
                                       f"gpujit cannot load")
                cls = records.get(q)
                if cls is None:
                    cls = records[q] = type(name, (_Record,), {"qualified": q})
                return cls
            if module == "torch.jit._pickle" and name in _JIT_PICKLE:
                return _JIT_PICKLE[name]
            return super().find_class(module, name)

    data = archive.read(rel)
    up = Unpickler(io.BytesIO(data), archive.storages(storage_dir),
                   _restore_location(archive.map_location), weights_only=True)
    try:
        return up.load()
    except ArchiveError:
        raise
    except Exception as e:
        raise ArchiveError(f"{archive.label}: {rel} cannot be read ({type(e).__name__}: "
                           f"{e})") from None


class _StorageReader:
    """What pickled._Unpickler reads storages through: `data/<key>` of the archive,
    redirected to the folder the pickle's storages live in."""

    def __init__(self, archive, folder):
        self.archive, self.folder = archive, folder
        self.byteorder = archive.byteorder

    def read(self, rec):
        key = rec.split("/", 1)[1]
        return self.archive.read(f"{self.folder}/{key}")

    def flat(self, key, stype, numel):
        from .pickled import _flat_of
        return _flat_of(self.read(f"data/{key}"), stype, numel, self.byteorder,
                        f"{self.folder}/{key}")


# ---------------------------------------------------------------------- code

_HOOK_LISTS = {"__forward_pre_hooks__": "pre_hooks", "__forward_hooks__": "hooks"}


class _ClassInfo:
    """A class of the archive's code: its kind (module, class, namedtuple, enum,
    interface), parameters and buffers, attribute annotations, Final constants, methods."""

    def __init__(self, qualified, cdef, filename):
        self.qualified, self.cdef, self.filename = qualified, cdef, filename
        self.name = cdef.name
        bases = [ast.unparse(b) for b in cdef.bases]
        self.kind = {"Module": "module", "NamedTuple": "namedtuple", "Enum": "enum",
                     "Interface": "interface", "ModuleInterface": "interface"}.get(
            bases[0] if bases else "", "class" if not bases else None)
        if self.kind is None or len(bases) > 1:
            raise ArchiveError(f"{filename} line {cdef.lineno}: class {cdef.name} has bases "
                               f"{bases}, which a TorchScript archive does not write")
        self.module_interface = bases == ["ModuleInterface"]
        self.parameters, self.buffers = [], []
        self.annotations = {}        # attribute -> annotation AST
        self.finals = {}             # Final attribute -> (annotation AST, value AST)
        self.members = []            # enum members: (name, value AST)
        self.methods = []            # FunctionDef nodes
        self.pre_hooks, self.hooks = [], []     # method names
        for stmt in cdef.body:
            self._statement(stmt)

    def _statement(self, stmt):
        if isinstance(stmt, ast.FunctionDef):
            self.methods.append(stmt)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            ann = stmt.annotation
            if isinstance(ann, ast.Subscript) and ast.unparse(ann.value) == "Final":
                if stmt.value is None:
                    raise self._bad(stmt, "a Final attribute without a value")
                self.finals[stmt.target.id] = (ann.slice, stmt.value)
            else:
                self.annotations[stmt.target.id] = ann
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            tgt = stmt.targets[0]
            if isinstance(tgt, ast.Name) and tgt.id in ("__parameters__", "__buffers__"):
                names = _literal(stmt.value, self.filename)
                getattr(self, tgt.id.strip("_")).extend(names)
            elif isinstance(tgt, ast.Name) and tgt.id in _HOOK_LISTS:
                # (a module's forward pre-hooks / hooks: methods of its class, registered)
                names = _literal(stmt.value, self.filename)
                getattr(self, _HOOK_LISTS[tgt.id]).extend(names)
            elif isinstance(tgt, ast.Name) and tgt.id == "__annotations__" and \
                    isinstance(stmt.value, ast.List) and not stmt.value.elts:
                pass        # (`__annotations__ = []` before a ParameterList's entries)
            elif isinstance(tgt, ast.Subscript) and ast.unparse(tgt.value) == \
                    "__annotations__" and isinstance(tgt.slice, ast.Constant):
                self.annotations[tgt.slice.value] = stmt.value   # `__annotations__["0"] = T`
            elif isinstance(tgt, ast.Name) and self.kind == "enum":
                self.members.append((tgt.id, stmt.value))
            else:
                raise self._bad(stmt, ast.unparse(stmt)[:60])
        elif isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and
                                             isinstance(stmt.value, ast.Constant)):
            pass
        else:
            raise self._bad(stmt, type(stmt).__name__)

    def _bad(self, stmt, what):
        return ArchiveError(f"{self.filename} line {stmt.lineno}: class {self.name}: "
                            f"{what} is not something a TorchScript archive writes")


def _literal(node, filename, constants=None):
    """A default value or a Final constant: a literal (numbers, strings, None, tuples and
    lists of them, inf / nan, a tensor of the archive's constants `CONSTANTS.c<k>`), never
    evaluated code."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    text = ast.unparse(node)
    if constants is not None and text.startswith("CONSTANTS.") and text[10:] in constants:
        return constants[text[10:]]
    special = {"inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}
    if text in special:
        return special[text]
    if isinstance(node, (ast.Tuple, ast.List)):
        vals = [_literal(e, filename) for e in node.elts]
        return tuple(vals) if isinstance(node, ast.Tuple) else vals
    m = node
    if isinstance(m, ast.Call) and ast.unparse(m.func) == "torch.device" and \
            len(m.args) == 1 and not m.keywords:
        import gpujit
        return gpujit.device(_literal(m.args[0], filename))
    raise ArchiveError(f"{filename} line {node.lineno}: the value {text!r} is not a "
                       f"literal gpujit can read")


class _Code:
    """Every code file of the archive, parsed: qualified name -> _ClassInfo or
    (FunctionDef, filename)."""

    def __init__(self, archive):
        self.archive = archive
        self.classes, self.functions = {}, {}
        files = archive.code_files()
        texts = {rel: _grad_mode_regions(archive.read(rel)) for rel in files}
        calls = _hook_calls(texts)
        for rel in files:
            self._file(rel, _with_hook_calls(texts[rel], calls))

    def _file(self, rel, data):
        from .reader import parse_code
        label = self.archive.label
        tree, filename = parse_code(data, label, rel)
        module = rel[len("code/"):-len(".py")].replace("/", ".")
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef) and not stmt.decorator_list:
                q = f"{module}.{stmt.name}"
                if q not in _PROFILER_CLASSES:
                    self.classes[q] = _ClassInfo(q, stmt, filename)
            elif isinstance(stmt, ast.FunctionDef) and not stmt.decorator_list:
                self.functions[f"{module}.{stmt.name}"] = (stmt, filename)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)) and all(
                    a.name.split(".")[0] in ("__torch__", "torch") for a in stmt.names):
                pass                 # `import __torch__.x` in older archives
            elif isinstance(stmt, ast.Assign) and ast.unparse(stmt.targets[0]) == \
                    "op_version_set":
                pass
            else:
                raise ArchiveError(f"{label}: {rel} line {stmt.lineno}: the archive's code "
                                   f"may only define classes and functions (found "
                                   f"{type(stmt).__name__})")


# how TorchScript's code spells `with torch.no_grad():` (and enable_grad, strict_fusion): an
# object of its class made and entered
_PLAIN_REGION = re.compile(
    rb"^([ \t]*)(\w+) = (__torch__\.torch\.(?:autograd\.grad_mode\.(?:no_grad|enable_grad)|"
    rb"jit\.strict_fusion))\.__new__\(\3\)\r?\n"
    rb"\1\w+ = \(\2\)\.__init__\(\)\r?\n"
    rb"\1with \2:", re.M)
_PLAIN_CALL = {b"__torch__.torch.autograd.grad_mode.no_grad": b"torch.no_grad()",
               b"__torch__.torch.autograd.grad_mode.enable_grad": b"torch.enable_grad()",
               b"__torch__.torch.jit.strict_fusion": b"torch.jit.strict_fusion()"}
# and `with torch.autocast("cpu", dtype=torch.bfloat16):`: an object of its autocast
# class, __init__(device, ScalarType int, enabled, cache_enabled), entered
_AUTOCAST_REGION = re.compile(
    rb"^([ \t]*)(\w+) = __torch__\.torch\.amp\.autocast_mode\.autocast\.__new__\("
    rb"__torch__\.torch\.amp\.autocast_mode\.autocast\)\r?\n"
    rb"\1\w+ = \(\2\)\.__init__\(\"(\w+)\", (\d+|None), (True|False), (?:None|True|False), \)\r?\n"
    rb"\1with \2:", re.M)
# torch.cpu.amp / torch.cuda.amp's autocast: __init__(enabled, ScalarType int, cache_enabled)
_AMP_AUTOCAST_REGION = re.compile(
    rb"^([ \t]*)(\w+) = __torch__\.torch\.(cpu|cuda)\.amp\.autocast_mode\.autocast\.__new__\("
    rb"__torch__\.torch\.\3\.amp\.autocast_mode\.autocast\)\r?\n"
    rb"\1\w+ = \(\2\)\.__init__\((True|False), (\d+), (?:True|False), \)\r?\n"
    rb"\1with \2:", re.M)


# and `with torch.autograd.profiler.record_function(name):`: an object of its class,
# __init__(name, None), entered
_RECORD_REGION = re.compile(
    rb"^([ \t]*)(\w+) = __torch__\.torch\.autograd\.profiler\.record_function\.__new__\("
    rb"__torch__\.torch\.autograd\.profiler\.record_function\)\r?\n"
    rb"\1\w+ = \(\2\)\.__init__\((.*), None, \)\r?\n"
    rb"\1with \2:", re.M)


# TorchScript's classes behind record_function (its object holds a C++ _RecordFunction):
# not built, its regions read back as gpujit's record_function regions
_PROFILER_CLASSES = frozenset({"__torch__.torch.autograd.profiler.record_function",
                               "__torch__.torch.classes.profiler._RecordFunction"})


def _grad_mode_regions(data: bytes) -> bytes:
    """The code with TorchScript's grad-mode, autocast and record_function objects as `with
    torch.no_grad():` / `with torch.enable_grad():` / `with torch.autocast(...):` / `with
    torch.autograd.profiler.record_function(name):` regions
    again (gpujit's regions: they fuse, strict_fusion sees them; `.code` prints them as
    TorchScript does, ir/with_objects.py), on the same lines. gpujit's own archives'
    code reads back through it too."""
    from .. import dtypes as _dt

    def region(indent, call, device, code, enabled, m):
        dtype = b""
        if code != b"None":
            name = next((d.name for d in _dt.ALL if _dt.scalar_type_code(d) == int(code)),
                        None)
            if name is None and int(code) == _dt.scalar_type_code(_dt.bfloat16):
                name = "bfloat16"
            if name is None:
                return m.group(0)       # (compiled as the object it is)
            dtype = b"dtype=torch." + name.encode() + b", "
        return (indent + b"\n" + indent + b"\n" + indent + b"with " + call + b"(" + device +
                dtype + b"enabled=" + enabled + b"):")

    def autocast(m):
        return region(m.group(1), b"torch.autocast", b"\"" + m.group(3) + b"\", ",
                      m.group(4), m.group(5), m)

    def amp_autocast(m):
        return region(m.group(1), b"torch." + m.group(3) + b".amp.autocast", b"",
                      m.group(5), m.group(4), m)
    data = _PLAIN_REGION.sub(lambda m: m.group(1) + b"\n" + m.group(1) + b"\n" +
                             m.group(1) + b"with " + _PLAIN_CALL[m.group(3)] + b":", data)
    data = _RECORD_REGION.sub(lambda m: m.group(1) + b"\n" + m.group(1) + b"\n" + m.group(1) +
                              b"with torch.autograd.profiler.record_function(" + m.group(3) +
                              b"):", data)
    data = _AMP_AUTOCAST_REGION.sub(amp_autocast, data)
    return _AUTOCAST_REGION.sub(autocast, data)


_HOOKS_LINE = re.compile(rb"^[ \t]+__forward(?:_pre)?_hooks__ = \[(.*)\]", re.M)
_CLASS_LINE = re.compile(rb"^class (\w+)\(Module\):", re.M)


def _hook_calls(texts):
    """TorchScript's calls of forward hooks in the archive's code, as (pattern,
    replacement) pairs: `__torch__.M.pre(m, (x,), )` (a hook of class M called on m: a
    hook is no method of the class's type) reads `(m).pre((x,), )`, the method call gpujit
    compiles (the loaded module's hooks are registered, as methods of its type)."""
    calls = []
    for rel, data in texts.items():
        module = rel[len("code/"):-len(".py")].replace("/", ".").encode()
        classes = list(_CLASS_LINE.finditer(data))
        for m in _HOOKS_LINE.finditer(data):
            owner = [c for c in classes if c.start() < m.start()]
            if not owner:
                continue
            q = module + b"." + owner[-1].group(1)
            for name in re.findall(rb"[\"'](\w+)[\"']", m.group(1)):
                calls.append((re.compile(rb"(?<![\w.])" + re.escape(q + b"." + name) +
                                         rb"\((\w+), ?"), rb"(\1)." + name + b"("))
    return calls


def _with_hook_calls(data, calls):
    for pattern, repl in calls:
        data = pattern.sub(repl, data)
    return data


def _function(fdef, filename, ns, method):
    """The function of a def, made from its compiled code object (nothing runs); its
    defaults are the def's literals (or tensors of the archive's constants); a method's
    `self` loses its annotation."""
    from .reader import _annotations
    # (copies of only the nodes changed below: a deep copy of the def cost ~0.3 s per
    # archive load of an nn.TransformerEncoderLayer)
    fdef = copy.copy(fdef)
    a = fdef.args = copy.copy(fdef.args)
    a.args = list(a.args)
    consts = {k: c.value for k, c in vars(ns["CONSTANTS"]).items()
              if not k.startswith("__")}
    defaults = tuple(_literal(d, filename, consts) for d in a.defaults)
    kwdefaults = {k.arg: _literal(d, filename, consts)
                  for k, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None}
    a.defaults, a.kw_defaults = [], [None] * len(a.kwonlyargs)
    if method and a.args:
        a.args[0] = copy.copy(a.args[0])
        a.args[0].annotation = None
    code = compile(ast.Module(body=[fdef], type_ignores=[]), filename, "exec",
                   dont_inherit=True)
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    fn = types.FunctionType(fcode, ns, fcode.co_name, defaults or None)
    if kwdefaults:
        fn.__kwdefaults__ = kwdefaults
    fn.__module__ = "__archive__"
    fn.__annotations__ = _annotations(fdef)
    _remember_lines(fn, fdef, filename)
    return fn


def _remember_lines(fn, fdef, filename):
    """The frontend reads fn's lines (inspect.getsourcelines, which tokenizes the file from
    the def to find its end: ~0.07 s of loading 4 zoo models): they are the def's own lines
    in the text parse_code put in linecache, where no comment follows the body (a comment
    inspect would count as the body's)."""
    from ..frontend.script import sources
    lines = linecache.getlines(filename)
    end = fdef.end_lineno
    if not lines or end is None or end > len(lines):
        return
    following = next((ln for ln in lines[end:] if ln.strip()), "")
    if not following.lstrip().startswith("#"):
        sources.remember(fn, lines[fdef.lineno - 1:end], fdef.lineno)


def python_class_of(cls, q, attributes):
    """An object of archive class cls reaching Python is one of the script class of its
    qualified name q this process has compiled with the same attributes, as TorchScript
    converts it (torch 2.13, in the process that defines Vocab: `type(ld.v) is Vocab`, its
    methods the Python class's); without one it stays cls (whose methods run compiled;
    torch's conversion fails there)."""
    from ..runtime.arguments import PYTHON_CLASS
    from ..frontend.script.classes import script_class_of
    live = T.class_type(q)
    if script_class_of(live) is not None and live.py_class is not cls and \
            set(live.attributes) == set(attributes):
        PYTHON_CLASS[cls] = live.py_class


# ---------------------------------------------------------------------- the loader

class _TorchArchive:
    def __init__(self, z, prefix, label, map_location):
        self.z, self.prefix, self.label = z, prefix, label
        self.map_location = map_location
        names = z.namelist()
        self.names = names
        bo = f"{prefix}/byteorder"
        self.byteorder = "<" if bo not in names or z.read(bo).strip() == b"little" else ">"
        from ..frontend.qualified_names import LoadUnit
        self.unit = LoadUnit()        # (this load's compilation unit)

    def read(self, rel) -> bytes:
        try:
            return self.z.read(f"{self.prefix}/{rel}")
        except KeyError:
            raise ArchiveError(f"{self.label}: {rel!r} is missing from the archive") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise ArchiveError(f"{self.label}: {rel!r} cannot be read ({e}); the archive "
                               f"is damaged or truncated") from None

    def storages(self, folder):
        return _StorageReader(self, folder)

    def code_files(self):
        head = f"{self.prefix}/"
        return sorted(n[len(head):] for n in self.names
                      if n.startswith(f"{head}code/") and n.endswith(".py"))

    # ---- namespace
    def namespace(self, constants):
        from .reader import _namespace
        self.constants = constants
        ns = _namespace(self)
        self.root_ns = types.ModuleType("__torch__")
        ns["__torch__"] = self.root_ns
        return ns

    def bind(self, qualified, obj):
        """Make `__torch__.a.b.Name` resolve to obj in the code's namespace."""
        parts = qualified.split(".")
        mod = self.root_ns
        for i, p in enumerate(parts[1:-1], 1):
            sub = getattr(mod, p, None)
            if sub is None:
                sub = types.ModuleType(".".join(parts[:i + 1]))
                setattr(mod, p, sub)
            mod = sub
        setattr(mod, parts[-1], obj)

    # ---- classes and functions
    def build(self, code, ns):
        import collections
        import enum
        self.code, self.ns = code, ns
        self.script_classes, self.module_classes = {}, {}
        for q, (fdef, filename) in code.functions.items():
            fn = _function(fdef, filename, ns, method=False)
            fn._jit_override_qualname = q
            self.bind(q, fn)
        for q, info in code.classes.items():
            if info.kind == "module":
                continue
            if info.kind == "namedtuple":
                live = T.class_type(q)
                if isinstance(live, T.NamedTupleType) and live.py_class is not None and \
                        tuple(live.fields) == tuple(info.annotations):
                    # the NamedTuple of that name this process knows (gpujit's own
                    # PackedSequence, or one an earlier load made): one type, as
                    # TorchScript finds the class by its qualified name
                    self.script_classes[q] = live.py_class
                    self.bind(q, live.py_class)
                    continue
                cls = collections.namedtuple(info.name, list(info.annotations))
                cls.__module__ = "__archive__"
            elif info.kind == "enum":
                members = [(k, _literal(v, info.filename)) for k, v in info.members]
                live = T.class_type(q)
                if isinstance(live, T.EnumType) and live.py_class is not None and \
                        [(m.name, m.value) for m in live.py_class] == members:
                    cls = live.py_class
                else:
                    cls = enum.Enum(info.name, members, module="__archive__")
            elif info.kind == "interface":
                from ..nn.module import Module
                cls = type(info.name, (Module,) if info.module_interface else (),
                           {"__module__": "__archive__", "__qualname__": info.name})
                cls.__gpujit_interface__ = T.InterfaceType(
                    q, py_class=cls, is_module=info.module_interface)
            else:
                body = {"__module__": "__archive__", "__qualname__": info.name}
                for fdef in info.methods:
                    fn = _function(fdef, info.filename, ns, method=True)
                    fn.__qualname__ = f"{info.name}.{fdef.name}"
                    body[fdef.name] = ArchiveMethod(fn)     # (called from Python: compiled)
                cls = type(info.name, (), body)
            if cls.__module__ == "__archive__":
                cls._jit_override_qualname = q
            if info.kind == "class":
                python_class_of(cls, q, info.annotations)
            self.script_classes[q] = cls
            self.bind(q, cls)
        for q, cls in self.script_classes.items():      # typed once all exist
            info = code.classes[q]
            if cls.__module__ != "__archive__":
                continue                    # (a live class of this process: typed)
            if info.kind in ("namedtuple", "class"):
                cls.__annotations__ = {k: self.type_of(a, info, k)
                                       for k, a in info.annotations.items()}
            elif info.kind == "interface":
                t = cls.__gpujit_interface__
                from ..frontend.script.signatures import signature_types
                for fdef in info.methods:
                    fn = _function(fdef, info.filename, ns, method=True)
                    params, ret = signature_types(fn, self_type=t)
                    t.signatures[fdef.name] = ([p for p, _ in params[1:]],
                                               [ty for _, ty in params[1:]], ret)
                T.register_class_type(t)

    def type_of(self, ann, info, what):
        from ..frontend.script.types import annotation_type
        try:
            return annotation_type(ast.unparse(ann), self.ns)
        except Exception as e:
            raise ArchiveError(f"{self.label}: {info.filename}: the type of {info.name}."
                               f"{what} ({ast.unparse(ann)}) cannot be read ({e})") from None

    # ---- values
    def value(self, v, path):
        """An attribute's pickled value as gpujit's: modules and objects of the archive's
        classes built, containers converted element by element."""
        if isinstance(v, _Record):
            info = self.code.classes.get(v.qualified)
            if info is None:
                raise ArchiveError(f"{self.label}: {path} is an object of "
                                   f"{v.qualified}, whose code is not in the archive")
            if info.kind == "module":
                return self.module(v, path)
            return self.object(v, info, path)
        if isinstance(v, _EnumValue):
            cls = self.script_classes.get(v.qualified)
            if cls is None or self.code.classes[v.qualified].kind != "enum":
                raise ArchiveError(f"{self.label}: {path} is a member of {v.qualified}, "
                                   f"which is not an enum of the archive's code")
            return cls(self.value(v.value, path))
        if isinstance(v, list):
            return [self.value(e, f"{path}[{i}]") for i, e in enumerate(v)]
        if isinstance(v, tuple):
            return tuple(self.value(e, f"{path}[{i}]") for i, e in enumerate(v))
        if isinstance(v, dict):
            return {k: self.value(e, f"{path}[{k!r}]") for k, e in v.items()}
        # (a parameter held in an attribute too, as an RNN's _flat_weights: the one
        # tensor object, which the pickle's memo shares)
        return v

    def object(self, rec, info, path):
        cls = self.script_classes[info.qualified]
        state = rec.state
        if info.kind == "namedtuple":
            if not isinstance(state, (tuple, list)):
                raise ArchiveError(f"{self.label}: {path}: a {info.name} without its fields")
            return cls(*[self.value(e, path) for e in state])
        if isinstance(vars(cls).get("__setstate__"), ArchiveMethod):
            # saved through its own __getstate__: the new object's compiled __setstate__
            # takes that state, as TorchScript's unpickler calls it
            obj = object.__new__(cls)
            obj.__setstate__(self.value(state, f"{path}.__getstate__()"))
            return obj
        if not isinstance(state, dict):
            raise ArchiveError(f"{self.label}: {path} is an object of {info.name} saved "
                               f"through its own __getstate__, which gpujit cannot load")
        obj = object.__new__(cls)
        for k, e in state.items():
            object.__setattr__(obj, k, self.value(e, f"{path}.{k}"))
        return obj

    def module(self, rec, path):
        from ..nn.module import Module
        info = self.code.classes[rec.qualified]
        state = rec.state
        if not isinstance(state, dict):
            raise ArchiveError(f"{self.label}: {path} ({info.name}) was saved through its "
                               f"own __getstate__, which gpujit cannot load")
        params, buffers, attrs, subs, annotations = {}, {}, {}, {}, {}
        for k, v in state.items():
            if k in ("training", "_is_full_backward_hook"):
                continue
            if k in info.parameters:
                # a plain Tensor (requires_grad as pickled), as torch's loaded
                # RecursiveScriptModule gives: no Python Parameter object outlives saving
                params[k] = v
            elif k in info.buffers:
                buffers[k] = v
            elif isinstance(v, _Record) and self.code.classes.get(v.qualified) is not None \
                    and self.code.classes[v.qualified].kind == "module":
                subs[k] = self.module(v, f"{path}.{k}")
                declared = self.code.classes.get(ast.unparse(info.annotations[k])) \
                    if k in info.annotations else None
                if declared is not None and declared.kind == "interface":
                    # (`proxy_mod : ModInterface`: any scripted module implementing it)
                    annotations[k] = self.type_of(info.annotations[k], info, k)
            else:
                attrs[k] = self.value(v, f"{path}.{k}")
                if k in info.annotations:
                    annotations[k] = self.type_of(info.annotations[k], info, k)
        consts = {k: _literal(val, info.filename) for k, (_, val) in info.finals.items()}
        cls = self.module_classes.get(info.qualified)
        if cls is None:       # one class per type of the archive (its modules share it)
            body = {"__annotations__": annotations, "__constants__": list(consts),
                    "__module__": "__archive__", "__qualname__": info.name,
                    "original_name": info.name, "_jit_override_qualname": info.qualified,
                    "_jit_unit": self.unit}
            hook_fns = {}
            for fdef in info.methods:
                fn = _function(fdef, info.filename, self.ns, method=True)
                fn.__qualname__ = f"{info.name}.{fdef.name}"
                if fdef.name in info.pre_hooks or fdef.name in info.hooks:
                    hook_fns[fdef.name] = fn        # (registered on each module below)
                    continue
                if fdef.name != "forward":
                    fn._gpujit_export = True
                body[fdef.name] = fn
            cls = self.module_classes[info.qualified] = type(info.name, (Module,), body)
            cls._archive_hooks = hook_fns
        mod = Module.__new__(cls)
        Module.__init__(mod)
        for names, register in ((info.pre_hooks, mod.register_forward_pre_hook),
                                (info.hooks, mod.register_forward_hook)):
            for hname in names:
                if hname not in cls._archive_hooks:
                    raise ArchiveError(f"{self.label}: {info.filename}: class {info.name} "
                                       f"names the hook {hname!r}, which it does not define")
                register(cls._archive_hooks[hname])
        mod.training = bool(state.get("training", True))
        mod._parameters.update(params)
        mod._buffers.update(buffers)
        for k, v in {**consts, **attrs}.items():
            object.__setattr__(mod, k, v)
        mod._modules.update(subs)
        return mod


def load(z, prefix, label, map_location=None, _extra_files=None):
    """The RecursiveScriptModule of a PyTorch TorchScript archive (opened as z, its entries
    under prefix/)."""
    ar = _TorchArchive(z, prefix, label, map_location)
    if _extra_files is not None:
        for k in list(_extra_files):
            rel = f"{prefix}/extra/{k}"
            _extra_files[k] = z.read(rel) if rel in ar.names else b""
    consts = ()
    if f"{prefix}/constants.pkl" in ar.names:
        consts = _unpickle(ar, "constants.pkl", "constants")
    if not isinstance(consts, tuple):
        raise ArchiveError(f"{label}: constants.pkl does not hold a tuple of constants")
    ns = ar.namespace({f"c{i}": c for i, c in enumerate(consts)})
    code = _Code(ar)
    ar.build(code, ns)
    root = _unpickle(ar, "data.pkl", "data")
    if not (isinstance(root, _Record) and root.qualified in code.classes and
            code.classes[root.qualified].kind == "module"):
        raise ArchiveError(f"{label}: data.pkl does not hold a module of the archive's code")
    mod = ar.module(root, "root")
    from ..frontend.script.modules import script_module
    return script_module(mod)
