"""gpujit.jit.load: an archive back into a RecursiveScriptModule (or ScriptFunction). The
code is parsed (only `def`s are accepted), its functions are made from the compiled code
objects without being called, and the script frontend compiles them; tensors come from
.npy entries read with allow_pickle=False; every entry is checked against the manifest's
SHA-256. Archives PyTorch's torch.jit.save wrote are read by torch_archive.py."""
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
from .archive import FORMAT, FORMAT_VERSION, ArchiveError, decode, expect
from ..frontend.script.serialized import ArchiveMethod

__all__ = ["load"]



def _entry_key(rel):
    """The memo key of a tensor entry: its path, or a view entry's fields as text (one
    view named twice, a parameter also in a list attribute, is one tensor)."""
    if isinstance(rel, str):
        return rel
    if isinstance(rel, dict):
        import json
        try:
            return json.dumps(rel, sort_keys=True)
        except (TypeError, ValueError):
            return None
    return None

class _Loader:
    def __init__(self, z, prefix, manifest, map_location, label):
        self.z, self.prefix, self.manifest = z, prefix, manifest
        self.map_location = map_location
        self.label = label
        self.digests = expect(manifest.get("sha256", {}), dict, "sha256 table")
        # array entry -> the device its tensor was saved from (cpu when not listed)
        self.devices = expect(manifest.get("devices", {}), dict, "device table")
        self.constants = {}
        self.tensors = {}          # entry -> the tensor loaded from it
        self.classes = {}          # short name -> the Python class made for it
        from ..frontend.qualified_names import LoadUnit
        self.unit = LoadUnit()     # (this load's compilation unit)

    def read(self, rel) -> bytes:
        rel = expect(rel, str, "file reference")
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
        """The tensor of entry rel; an entry named twice (a parameter also held in a list
        attribute) is one object. A view entry
        ({"storage", "offset", "size", "stride"}) is a tensor over the storage's array,
        sharing it with the other tensors over it."""
        key = _entry_key(rel)
        known = self.tensors.get(key) if key is not None else None
        if known is not None:
            return known
        if isinstance(rel, dict) and "quantized" in rel:
            # (a quantized tensor: its integers' entry and its quantizer; writer's
            # _quantized_entry)
            q = rel["quantized"]
            c = self.tensor(q["bits"])
            scale, zp = q["scale"], q["zero_point"]
            if isinstance(scale, list):
                floating = any(isinstance(z, float) for z in zp)
                scale = np.asarray(scale, np.float32 if floating else np.float64)
                zp = np.asarray(zp, np.float32 if floating else np.int64)
            from ..quantized import rebuild
            t = rebuild(c._data.copy(), q["dtype"], str(c._device), q["qscheme"], scale, zp,
                        q["axis"])
            if key is not None:
                self.tensors[key] = t
            return t
        if isinstance(rel, dict) and "bfloat16" in rel:
            # (a bfloat16 tensor: its float32 carrier's entry, relabelled over the same
            # memory; writer._tensor_entry)
            from .. import dtypes as _dt
            from ..ops.registry import wrap
            c = self.tensor(rel["bfloat16"])
            t = wrap(c._data, _dt.bfloat16, c._device)
            if key is not None:
                self.tensors[key] = t
            return t
        if isinstance(rel, dict):
            t = self._view_tensor(rel)
            self.tensors[key] = t
            return t
        t = self._read_tensor(rel)
        if isinstance(rel, str):
            self.tensors[rel] = t
        return t

    def _storage_array(self, rel):
        if not hasattr(self, "_storages"):
            self._storages = {}
        arr = self._storages.get(rel)
        if arr is None:
            try:
                arr = np.ascontiguousarray(np.load(io.BytesIO(self.read(rel)),
                                                   allow_pickle=False))
            except ValueError as e:
                raise ArchiveError(f"{self.label}: {rel!r} is not a plain array "
                                   f"({e})") from None
            if not arr.flags.writeable:
                arr = arr.copy()
            self._storages[rel] = arr
        return arr

    def _view_tensor(self, rec):
        root = self._storage_array(rec.get("storage"))
        try:
            off, size, stride = int(rec["offset"]), [int(n) for n in rec["size"]], \
                [int(n) for n in rec["stride"]]
        except (KeyError, TypeError, ValueError):
            raise ArchiveError(f"{self.label}: a tensor view entry is damaged "
                               f"({rec!r})") from None
        flat = root.reshape(-1)
        last = off + sum((n - 1) * st for n, st in zip(size, stride) if n > 0)
        if off < 0 or any(st < 0 for st in stride) or \
                (all(n > 0 for n in size) and last >= flat.size):
            raise ArchiveError(f"{self.label}: a tensor view entry reaches outside its "
                               f"storage ({rec!r})")
        dev = self._gpu_target(rec.get("storage"))
        if dev is not None:     # a view of the storage moved to the GPU once (shared)
            return self._device_root(rec.get("storage"), dev).as_strided(size, stride, off)
        arr = np.ndarray(size, root.dtype, buffer=root, offset=off * root.itemsize,
                         strides=[st * root.itemsize for st in stride])   # (.base: root)
        from ..ops.creation import from_numpy
        return self.place(from_numpy(arr), rec.get("storage"))

    def _gpu_target(self, rel):
        """The GPU device a storage entry loads onto (without a map_location callable),
        else None."""
        if callable(self.map_location) and not isinstance(self.map_location, (str, dict)):
            return None
        saved = self.devices.get(rel, "cpu") if isinstance(rel, str) else "cpu"
        loc = self.map_location
        if isinstance(loc, dict):
            loc = loc.get(saved, saved)
        elif loc is None:
            loc = saved
        from ..device import device as _device
        dev = _device(loc) if isinstance(loc, str) else loc
        return dev if dev.type == "cuda" else None

    def _device_root(self, rel, dev):
        """Storage entry rel moved to GPU `dev`, once: the tensors over it share it there
        (as PyTorch's archive loads one storage)."""
        if not hasattr(self, "_device_roots"):
            self._device_roots = {}
        t = self._device_roots.get((rel, str(dev)))
        if t is None:
            from ..ops.creation import from_numpy
            t = self.place(from_numpy(self._storage_array(rel)), rel)
            self._device_roots[(rel, str(dev))] = t
        return t

    def _read_tensor(self, rel):
        from ..ops.creation import from_numpy
        if isinstance(rel, str) and self._gpu_target(rel) is not None:
            return self._device_root(rel, self._gpu_target(rel))
        return self.place(from_numpy(self._storage_array(rel)), rel)  # (views share it)

    def place(self, t, rel):
        """t (read into host memory) on the device map_location picks for the device it was
        saved from: that device itself without a map_location, as PyTorch's jit.load."""
        saved = self.devices.get(rel, "cpu") if isinstance(rel, str) else "cpu"
        loc = self.map_location
        if callable(loc) and not isinstance(loc, (str, dict)):
            return loc(t, saved)
        if isinstance(loc, dict):
            loc = loc.get(saved, saved)
        elif loc is None:
            loc = saved
        from ..device import device as _device
        dev = _device(loc) if isinstance(loc, str) else loc
        if dev.type == "cuda":
            from .. import cuda
            if not cuda.is_available():
                raise RuntimeError(
                    "Attempting to deserialize object on a CUDA device but "
                    "torch.cuda.is_available() is False. If you are running on a CPU-only "
                    "machine, please use torch.jit.load with map_location=torch.device('cpu') "
                    "to map your storages to the CPU.")
        return t if dev.type == "cpu" else t.to(dev)

    # ---- code
    def functions_from(self, rel, namespace, what):
        """The functions defined in an archive code file, made from their compiled code
        objects without running anything (only `def` statements are accepted)."""
        from .torch_archive import _grad_mode_regions
        # (`with` regions as TorchScript's code writes them, an object of the context
        # manager's class entered: gpujit's regions again, on the same lines)
        tree, filename = parse_code(_grad_mode_regions(self.read(rel)), self.label, rel)
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
        code = compile(tree, filename, "exec", dont_inherit=True)
        defs = {d.name: d for d in tree.body}
        out = {}
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                fn = types.FunctionType(c, namespace, c.co_name)
                fn.__module__ = "__archive__"
                # (the archive is its own compilation unit: two loads of it, or of two
                # archives with a function of one name, do not mangle each other's)
                fn._jit_override_qualname = f"__torch__.__archive__.{c.co_name}"
                fn.__annotations__ = _annotations(defs[c.co_name])
                out[c.co_name] = fn
        return out

    def set_defaults(self, fn, defaults):
        """fn.__defaults__ from the saved {parameter: value} (trailing parameters)."""
        if not defaults:
            return
        defaults = expect(defaults, dict, "defaults")
        names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
        if not set(defaults) <= set(names):
            raise ArchiveError(f"{self.label}: defaults for unknown parameters of "
                               f"{fn.__name__}: {sorted(set(defaults) - set(names))}")
        first = min(names.index(k) for k in defaults)
        if set(names[first:]) != set(defaults):
            raise ArchiveError(f"{self.label}: the defaults of {fn.__name__} are not "
                               f"trailing parameters")
        fn.__defaults__ = tuple(decode(defaults[k], self) for k in names[first:])

    def build_classes(self, records, ns):
        """The archive's script classes and NamedTuples as Python classes in ns: made
        first (so their annotations can name each other), typed second."""
        import collections
        records = expect(records, dict, "classes")
        for name, rec in records.items():
            rec = expect(rec, dict, f"class {name}")
            if not (isinstance(name, str) and name.isidentifier()):
                raise ArchiveError(f"{self.label}: bad class name {name!r}")
            if rec.get("kind") == "namedtuple":
                fields = [expect(f, str, "field") for f in expect(rec.get("fields"), list,
                                                                     "fields")]
                if not all(f.isidentifier() for f in fields):
                    raise ArchiveError(f"{self.label}: bad fields of {name}: {fields}")
                cls = collections.namedtuple(name, fields)
                cls.__module__ = "__archive__"
            elif rec.get("kind") == "class":
                body = {"__module__": "__archive__", "__qualname__": name}
                fns = self.functions_from(rec.get("code"), ns, f"class {name}")
                for mname in expect(rec.get("methods", []), list, "methods"):
                    if mname not in fns:
                        raise ArchiveError(f"{self.label}: the code of class {name} has no "
                                           f"method {mname!r}")
                    fns[mname].__qualname__ = f"{name}.{mname}"
                    self.set_defaults(fns[mname], expect(rec.get("defaults", {}), dict,
                                                         "defaults").get(mname))
                    body[mname] = ArchiveMethod(fns[mname])   # (from Python: compiled)
                cls = type(name, (), body)
                if isinstance(rec.get("qualified"), str):
                    # (saved again under the name it was saved with: save(load(a)) == a)
                    cls._archive_qualified = rec["qualified"]
                    from .torch_archive import python_class_of
                    python_class_of(cls, rec["qualified"], expect(rec.get("attributes", {}),
                                                                  dict, "attributes"))
            elif rec.get("kind") == "enum":
                cls = _enum_class(name, rec, self)
            elif rec.get("kind") == "interface":      # signatures filled below
                from ..nn.module import Module
                qualified = expect(rec.get("qualified"), str, f"interface {name}")
                cls = type(name, (Module,) if rec.get("module") else (),
                           {"__module__": "__archive__", "__qualname__": name})
                cls.__gpujit_interface__ = T.InterfaceType(
                    qualified, py_class=cls, is_module=bool(rec.get("module")))
            else:
                raise ArchiveError(f"{self.label}: unknown kind of class {name}: "
                                   f"{rec.get('kind')!r}")
            self.classes[name] = cls
            ns[name] = cls
        for name, rec in records.items():
            cls = self.classes[name]
            if rec["kind"] == "enum":
                continue
            if rec["kind"] == "interface":
                t = cls.__gpujit_interface__
                for m, sig in expect(rec.get("methods"), dict, "methods").items():
                    sig = expect(sig, dict, f"method {m} of {name}")
                    t.signatures[m] = (
                        [expect(p, str, "parameter") for p in expect(sig.get("params"), list,
                                                                      "params")],
                        [self.type_of(p, ns, f"parameter of {name}.{m}")
                         for p in expect(sig.get("types"), list, "types")],
                        self.type_of(sig.get("return"), ns, f"return of {name}.{m}"))
                T.register_class_type(t)
                continue
            if rec["kind"] == "namedtuple":
                types = [self.type_of(t, ns, f"field of {name}")
                         for t in expect(rec.get("types"), list, "types")]
                cls.__annotations__ = dict(zip(cls._fields, types))
                defaults = {k: decode(v, self) for k, v in
                            expect(rec.get("defaults", {}), dict, "defaults").items()}
                if defaults:
                    first = min(cls._fields.index(k) for k in defaults)
                    cls.__new__.__defaults__ = tuple(defaults[k]
                                                     for k in cls._fields[first:])
                    cls._field_defaults = defaults
            else:
                cls.__annotations__ = {
                    k: _type_annotation(expect(t, dict, "attribute type"))
                    for k, t in expect(rec.get("attributes", {}), dict, "attributes").items()}

    def type_of(self, rec, ns, what):
        """The IR type of a _type_record: its annotation among the archive's classes, or
        its IR text."""
        rec = expect(rec, dict, what)
        try:
            if "annotation" in rec:
                from ..frontend.script.types import annotation_type
                return annotation_type(expect(rec["annotation"], str, what), ns)
            return parse_type(expect(rec.get("type"), str, what))
        except ArchiveError:
            raise
        except Exception as e:
            raise ArchiveError(f"{self.label}: the {what} has a type gpujit cannot read "
                               f"({e})") from None

    def module(self, rec, namespace, path):
        from ..nn.module import Module
        rec = expect(rec, dict, f"record of {path}")
        name = expect(rec.get("name"), str, f"name of {path}")
        if not name.isidentifier():
            raise ArchiveError(f"{self.label}: module name {name!r} is not an identifier")
        params, buffers = {}, {}
        for k, p in expect(rec.get("parameters", {}), dict, "parameters").items():
            if p is None:
                params[k] = None
                continue
            # a plain Tensor, as torch's loaded RecursiveScriptModule gives (no Python
            # Parameter object outlives saving); tied weights (decoder.weight =
            # encoder.weight) and attributes naming it are the one tensor of its entry
            t = params[k] = self.tensor(p.get("data"))
            t.requires_grad_(bool(p.get("requires_grad", True)))
        for k, b in expect(rec.get("buffers", {}), dict, "buffers").items():
            buffers[k] = None if b is None else self.tensor(b.get("data"))
        consts = {k: decode(v, self) for k, v in
                  expect(rec.get("constants", {}), dict, "constants").items()}
        attrs = {}
        annotations = {}
        for k, a in expect(rec.get("attributes", {}), dict, "attributes").items():
            a = expect(a, dict, f"attribute {k}")
            annotations[k] = self.type_of(a, namespace, f"attribute {path}.{k}")
            attrs[k] = decode(a.get("value"), self)
        for k, cname in expect(rec.get("interfaces", {}), dict, "interfaces").items():
            if cname not in self.classes:
                raise ArchiveError(f"{self.label}: the interface {cname!r} of {path}.{k} is "
                                   f"not in the archive")
            annotations[k] = self.classes[cname]     # `k: Interface`, swappable
        body = {"__annotations__": annotations, "__constants__": list(consts),
                "__module__": "__archive__", "__qualname__": name,
                "original_name": name}     # a class attribute: not saved as state
        qualified = rec.get("qualified")
        if isinstance(qualified, str) and qualified.startswith("__torch__."):
            body["_jit_override_qualname"] = qualified     # its type's name when saved
            body["_jit_unit"] = self.unit                  # (this load's)
        methods = expect(rec.get("methods", []), list, "methods")
        hooks = expect(rec.get("hooks", {}), dict, "hooks")
        pre = expect(hooks.get("pre", []), list, "pre-hooks")
        post = expect(hooks.get("post", []), list, "hooks")
        hook_fns = {}
        if methods:
            fns = self.functions_from(rec.get("code"), namespace, path)
            for mname in methods:
                fn = fns.get(mname)
                if fn is None:
                    raise ArchiveError(f"{self.label}: the code of {path} has no method "
                                       f"{mname!r}")
                if mname != "forward":
                    fn._gpujit_export = True
                self.set_defaults(fn, expect(rec.get("defaults", {}), dict,
                                              "defaults").get(mname))
                if mname in pre or mname in post:    # registered as hooks below
                    hook_fns[mname] = fn
                    continue
                body[mname] = fn
        cls = type(name, (Module,), body)
        mod = Module.__new__(cls)
        Module.__init__(mod)
        mod.training = bool(rec.get("training", True))
        mod._parameters.update(params)
        for k, b in expect(rec.get("buffers", {}), dict, "buffers").items():
            mod._buffers[k] = buffers[k]
            if b is not None and not b.get("persistent", True):
                mod._non_persistent_buffers_set.add(k)
        for k, v in {**consts, **attrs}.items():
            object.__setattr__(mod, k, v)
        for k, sub in expect(rec.get("submodules", {}), dict, "submodules").items():
            mod._modules[k] = None if sub is None else self.module(sub, namespace,
                                                                    f"{path}.{k}")
        for names, register in ((pre, mod.register_forward_pre_hook),
                                (post, mod.register_forward_hook)):
            for hname in names:
                if hname not in hook_fns:
                    raise ArchiveError(f"{self.label}: the code of {path} has no hook "
                                       f"{hname!r}")
                register(hook_fns[hname])
        return mod


def parse_code(data: bytes, label, rel):
    """(AST, file name) of an archive's code entry; its text goes to linecache under that
    name, so compiled functions show their source lines in errors. Nothing is run."""
    text = data.decode("utf-8", errors="strict")
    filename = f"<{label}:{rel}>"
    try:
        tree = ast.parse(text, filename)
    except SyntaxError as e:
        raise ArchiveError(f"{label}: {rel} is not valid code ({e.msg}, line "
                           f"{e.lineno})") from None
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    return tree, filename


def _type_annotation(rec):
    """A class attribute's annotation for the frontend: the annotation text (resolved in the
    archive's namespace), or the IR type."""
    if "annotation" in rec:
        return expect(rec["annotation"], str, "annotation")
    try:
        return parse_type(expect(rec.get("type"), str, "attribute type"))
    except Exception as e:
        raise ArchiveError(f"an attribute has a type gpujit cannot read ({e})") from None


def _annotations(fdef: ast.FunctionDef) -> dict:
    """The def's annotations as text (the frontend resolves them; nothing is evaluated)."""
    out = {a.arg: ast.unparse(a.annotation) for a in fdef.args.args + fdef.args.kwonlyargs
           if a.annotation is not None}
    if fdef.returns is not None:
        out["return"] = ast.unparse(fdef.returns)
    return out


def _namespace(loader):
    """What the archive's code may name: gpujit as `torch`, the typing names, and the
    constants table. Nothing here runs code from the archive."""
    import gpujit
    from ..jit.script import annotate
    ns = {"torch": gpujit, "Tensor": gpujit.Tensor, "annotate": annotate,
          "math": math, "inf": math.inf, "nan": math.nan}     # (`torch.clamp(x, -inf)`)
    for k in ("List", "Tuple", "Dict", "Optional", "Union", "Any"):
        ns[k] = getattr(typing, k)
    from ..frontend.script import serialized as _ser
    ns.update(_ser.archive_names())
    ns["CONSTANTS"] = _ser.constants_namespace(loader.constants)
    return ns


def _open(f):
    if isinstance(f, (str, os.PathLike)):       # torch.jit.load's checks and words
        if not os.path.exists(f):
            raise ValueError(f"The provided filename {os.fspath(f)} does not exist")
        if os.path.isdir(f):
            raise ValueError(f"The provided filename {os.fspath(f)} is a directory")
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
    map_location: a device (or 'cpu' / 'cuda:0') to move every tensor to; without it
    each tensor loads onto the device it was saved from. A file object is left at its
    end, as torch.jit.load (which reads the whole stream) leaves it."""
    from ..device import device as _device
    if not (map_location is None or isinstance(map_location, (str, _device, dict)) or
            callable(map_location)):
        # (torch.jit.load's words; gpujit also takes torch.load's dict and callable)
        raise ValueError(f"map_location should be either None, string or torch.device, "
                         f"but got type: {type(map_location)}")
    if isinstance(map_location, (str, _device)) and _device(map_location).type == "cpu":
        # ("cpu:0", as `--device cpu:0` passes: torch.jit.load maps every tensor to the
        # CPU, whose index means nothing; torch.load's restore knows only "cpu")
        map_location = "cpu"
    from .._gc import gc_paused
    with gc_paused():       # (compiling the code back: see gpujit/_gc.py)
        out = _load(f, map_location, _extra_files)
    if not isinstance(f, (str, os.PathLike)) and hasattr(f, "seek"):
        try:
            f.seek(0, io.SEEK_END)
        except (OSError, ValueError):
            pass
    return out


def _load(f, map_location, _extra_files):
    z, label = _open(f)
    with z:
        names = z.namelist()
        prefixes = {n.split("/", 1)[0] for n in names if "/" in n}
        if len(prefixes) != 1:
            raise ArchiveError(f"{label} is not a gpujit archive (expected one top folder, "
                               f"found {sorted(prefixes)[:4]})")
        prefix = prefixes.pop()
        from . import torch_archive
        if f"{prefix}/manifest.json" not in names and \
                torch_archive.is_torch_archive(names, prefix):     # torch.jit.save's
            return torch_archive.load(z, prefix, label, map_location, _extra_files)
        try:
            version = z.read(f"{prefix}/version").decode().strip()
            raw = z.read(f"{prefix}/manifest.json")
        except KeyError as e:
            if f"{prefix}/data.pkl" in names:
                raise ArchiveError(
                    f"PytorchStreamReader failed locating file constants.pkl: file not "
                    f"found. {label} holds no code: it is a file torch.save / gpujit.save "
                    f"wrote (load it with gpujit.load)") from None
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
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
                manifest.get("version") != FORMAT_VERSION:
            raise ArchiveError(f"{label}: the manifest is not a gpujit archive manifest of "
                               f"version {FORMAT_VERSION}")
        ld = _Loader(z, prefix, manifest, map_location, label)
        if _extra_files is not None:
            extra = expect(manifest.get("extra_files", {}), dict, "extra files")
            for k in list(_extra_files):
                # bytes, as torch gives; a name the archive lacks reads as b"" (torch 2.x)
                _extra_files[k] = ld.read(extra[k]) if k in extra else b""
        for k, rel in expect(manifest.get("tensor_constants", {}), dict, "constants").items():
            if not (isinstance(k, str) and k.isidentifier()):
                raise ArchiveError(f"{label}: bad constant name {k!r}")
            if isinstance(rel, dict) and set(rel) == {"str"} and isinstance(rel["str"], str):
                ld.constants[k] = rel["str"]        # (a str that is not ASCII)
                continue
            ld.constants[k] = ld.tensor(rel)
        ns = _namespace(ld)
        ld.build_classes(manifest.get("classes", {}), ns)
        if manifest.get("functions"):
            ns.update(ld.functions_from(manifest["functions"], ns, "functions"))
        kind = manifest.get("kind")
        if kind == "function":
            fname = expect(manifest.get("function"), str, "function name")
            fns = ld.functions_from(manifest.get("code"), ns, fname)
            if fname not in fns:
                raise ArchiveError(f"{label}: the archive's code has no function {fname!r}")
            ld.set_defaults(fns[fname], manifest.get("defaults"))
            from ..jit.script import script
            return script(fns[fname])
        if kind != "module":
            raise ArchiveError(f"{label}: unknown archive kind {kind!r}")
        root = ld.module(manifest.get("root"), ns, "root")
    from ..frontend.script.modules import script_module
    return script_module(root)


def _enum_class(name, rec, loader):
    """The Enum class of an archive's record: the live class of that qualified name when
    one with the same members exists (as TorchScript finds the Python class by name),
    else a new one."""
    import enum
    qualified = expect(rec.get("qualified"), str, f"enum {name}")
    members = []
    for m in expect(rec.get("members"), list, f"members of enum {name}"):
        mname, value = expect(m, list, f"member of enum {name}")
        if not (isinstance(mname, str) and mname.isidentifier()):
            raise ArchiveError(f"bad member name {mname!r} of enum {name}")
        members.append((mname, decode(value, loader)))
    live = T.class_type(qualified)
    if isinstance(live, T.EnumType) and live.py_class is not None and \
            [(m.name, m.value) for m in live.py_class] == members:
        return live.py_class
    cls = enum.Enum(name, members, module="__archive__")
    return cls
