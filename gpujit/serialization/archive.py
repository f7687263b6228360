"""The archive format shared by the writer and the reader: its version, ArchiveError,
plain values as tagged JSON (tensors as .npy entries, objects of script classes and
NamedTuples by class name), and types as records (IR text, plus the annotation text when
they name the archive's own classes)."""
from __future__ import annotations

import enum
import math
import re

from ..ir import types as T

__all__ = ["FORMAT", "FORMAT_VERSION", "ArchiveError", "encode", "decode", "expect",
           "class_types", "type_record"]

FORMAT_VERSION = 1
FORMAT = "gpujit-archive"


class ArchiveError(RuntimeError):
    """An archive gpujit cannot load: not a zip, truncated, changed after it was written,
    made by an incompatible version, or holding something other than code and arrays."""


# ====================================================================== values

class UnsaveableValueError(TypeError, RuntimeError):
    """A value jit.save cannot write (a torch.Generator attribute...): TorchScript's
    pickler raises RuntimeError ("Unknown IValue type for pickling: Generator"); it is
    also the TypeError gpujit raised before."""


def encode(v, saver, declared=None):
    """A plain attribute value as tagged JSON (tensors go to .npy files). declared: the
    attribute's type, where the module declares it (an object of a subclass held in an
    attribute annotated with its base class is saved as the base class's object, as
    TorchScript types it: torchvision's SSD `proposal_matcher: Matcher` holding an
    SSDMatcher)."""
    from ..tensor import Tensor
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"int": str(v)} if abs(v) >= 2 ** 53 else v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(v, complex):          # (a complex attribute: self.c = 1 + 1j)
        return {"complex": [encode(v.real, saver), encode(v.imag, saver)]}
    if isinstance(v, Tensor):
        return {"tensor": saver.tensor(v)}
    if isinstance(v, enum.Enum):                     # a member of a TorchScript Enum
        return {"enum": saver.add_class(T.type_of_value(v)), "member": v.name}
    if isinstance(v, tuple) and hasattr(type(v), "_fields"):
        from ..frontend.script.types import namedtuple_type
        name = saver.add_class(namedtuple_type(type(v)))
        return {"namedtuple": name, "values": [encode(x, saver) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [encode(x, saver) for x in v]}
    if isinstance(v, list):
        return {"list": [encode(x, saver) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {"set": [encode(x, saver) for x in sorted(v, key=repr)]}
    if isinstance(v, dict):
        return {"dict": [[encode(k, saver), encode(x, saver)] for k, x in v.items()]}
    from ..device import device
    from .. import dtypes as _dt
    if isinstance(v, device):
        return {"device": str(v)}
    if isinstance(v, (_dt.dtype, _dt._QuantizedDtype)):
        return {"dtype": v.name}
    q = getattr(type(v), "_qualified_name", None)
    if isinstance(q, str) and q.startswith(_CUSTOM_CLASS):
        # a torch.classes object (a packed quantized weight): its class's state
        return {"custom": q, "state": encode(v.__getstate__(), saver)}
    from ..frontend.script.classes import object_value_type
    t = declared if isinstance(declared, T.ClassType) and \
        not isinstance(declared, T.NamedTupleType) and isinstance(v, declared.py_class or ()) \
        else object_value_type(v)
    if isinstance(t, T.ClassType) and not isinstance(t, T.NamedTupleType):
        name = saver.add_class(t)
        if "__getstate__" in t.methods and "__setstate__" in t.methods:
            # the state the class's own (compiled) __getstate__ gives, handed to
            # __setstate__ on loading, as TorchScript's pickler saves such an object
            from ..jit.objects import ScriptMethod
            state = ScriptMethod(v, t.methods["__getstate__"], "__getstate__")()
            return {"object": name, "state": encode(state, saver)}
        return {"object": name, "attrs": {k: encode(getattr(v, k), saver)
                                          for k in t.attributes if hasattr(v, k)}}
    raise UnsaveableValueError(f"Unknown IValue type for pickling: {type(v).__name__} "
                               f"(gpujit cannot save a value of Python type "
                               f"{type(v).__name__}: {v!r})")


def decode(j, loader):
    if j is None or isinstance(j, (bool, int, float, str)):
        return j
    if isinstance(j, dict) and set(j) == {"enum", "member"}:
        cls = loader.classes.get(j["enum"])
        member = getattr(cls, "__members__", {}).get(j["member"])
        if member is None:
            raise ArchiveError(f"the manifest uses an Enum member it does not define: {j!r}")
        return member
    if isinstance(j, dict) and set(j) == {"custom", "state"}:
        cls = getattr(T.class_type(j["custom"]), "py_class", None)
        if cls is None:
            raise ArchiveError(f"the manifest uses a torch.classes class this process does "
                               f"not know: {j['custom']!r}")
        obj = cls.__new__(cls)
        obj.__setstate__(decode(j["state"], loader))
        return obj
    if isinstance(j, dict) and set(j) == {"object", "state"}:
        cls = loader.classes.get(j["object"])
        if cls is None or not callable(getattr(cls, "__setstate__", None)):
            raise ArchiveError(f"the manifest uses a class it does not define (or one "
                               f"without __setstate__): {j['object']!r}")
        obj = cls.__new__(cls)
        obj.__setstate__(decode(j["state"], loader))
        return obj
    if isinstance(j, dict) and set(j) in ({"namedtuple", "values"}, {"object", "attrs"}):
        cls = loader.classes.get(j.get("namedtuple", j.get("object")))
        if cls is None:
            raise ArchiveError(f"the manifest uses a class it does not define: {j!r}")
        if "values" in j:
            return cls(*[decode(x, loader) for x in expect(j["values"], list, "values")])
        obj = cls.__new__(cls)
        for k, x in expect(j["attrs"], dict, "object attributes").items():
            setattr(obj, k, decode(x, loader))
        return obj
    if isinstance(j, dict) and len(j) == 1:
        (tag, x), = j.items()
        if tag == "int":
            return int(x)
        if tag == "float" and x in ("nan", "inf", "-inf"):
            return float(x)
        if tag == "tensor":
            return loader.tensor(x)
        if tag == "complex":
            re, im = (decode(e, loader) for e in expect(x, list, tag))
            return complex(re, im)
        if tag in ("tuple", "list", "set"):
            items = [decode(e, loader) for e in expect(x, list, tag)]
            return tuple(items) if tag == "tuple" else set(items) if tag == "set" else items
        if tag == "dict":
            return {decode(k, loader): decode(e, loader)
                    for k, e in (expect(p, list, "dict item") for p in expect(x, list, tag))}
        if tag == "device":
            from ..device import device
            return device(expect(x, str, tag))
        if tag == "dtype":
            from .. import dtypes as _dt
            dt = getattr(_dt, expect(x, str, tag), None)
            if isinstance(dt, (_dt.dtype, _dt._QuantizedDtype)):
                return dt
    raise ArchiveError(f"the manifest holds a value gpujit does not understand: {j!r}")


def expect(x, typ, what):
    if not isinstance(x, typ):
        raise ArchiveError(f"the manifest's {what} is malformed ({type(x).__name__})")
    return x



_CUSTOM_CLASS = "__torch__.torch.classes."


def class_types(t):
    """The class and NamedTuple types inside a type (List[Optional[Pair]] -> [Pair])."""
    if isinstance(t, T.NamedTupleType):
        yield t
        for e in t.elems:
            yield from class_types(e)
    elif isinstance(t, (T.ClassType, T.EnumType)):
        if not t.name.startswith(_CUSTOM_CLASS):    # (torch.classes: built in, no record)
            yield t
    elif isinstance(t, (T.ListType, T.OptionalType, T.SetType)):
        yield from class_types(t.elem)
    elif isinstance(t, T.TupleType):
        for e in t.elems:
            yield from class_types(e)
    elif isinstance(t, T.DictType):
        yield from class_types(t.key)
        yield from class_types(t.value)
    elif isinstance(t, T.UnionType):
        for e in t.types:
            yield from class_types(e)


def type_record(t) -> dict:
    """A type as IR text and, where it names classes, as the annotation the archive's
    code would write (resolved among the archive's own classes when loading)."""
    rec = {"type": str(t)}
    classes = {c.name for c in class_types(t)}
    if classes:
        rec["annotation"] = t.annotation()
        names = T.ARCHIVE_CLASS_NAMES.get() or {}
        # the IR text names each class as the archive does (`__torch__.<its name there>`),
        # not by where it was defined (a local class's `__torch__.f.Pair`, a mangled
        # name): the archive reads the same saved again after loading (the loader reads
        # the annotation; this text is for people)
        pattern = "|".join(re.escape(n) for n in sorted(classes, key=len, reverse=True))
        rec["type"] = re.sub(
            rf"(?<![\w.])(?:{pattern})(?![\w.])",
            lambda m: "__torch__." + names.get(m.group(0), m.group(0).rsplit(".", 1)[-1]),
            rec["type"])
    return rec
