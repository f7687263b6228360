"""The object TorchScript makes for a `with` region (what `.graph` and `.code` show).

gpujit compiles `with torch.no_grad():` (enable_grad, strict_fusion, autocast,
record_function) to prim::Enter / prim::Exit nodes named after the region (the executor,
the autocast pass and the fuser read the name). TorchScript compiles the `with` as an
object of the context manager's class, made, __init__-ed and entered:

    %1 : __torch__.torch.autograd.grad_mode.no_grad = prim::CreateObject() # f.py:7:9
    %2 : NoneType = prim::CallMethod[name="__init__"](%1) # f.py:7:9
    %3 : NoneType = prim::Enter(%1)
    ...
    %7 : Tensor = prim::Exit(%1)

and its code reads

    _0 = __torch__.torch.autograd.grad_mode.no_grad.__new__(__torch__.torch.autograd.grad_mode.no_grad)
    _1 = (_0).__init__()
    with _0:

Both printers write a region that way: region_object gives the class and the __init__
arguments. The frontend keeps them in the prim::Enter's meta under OBJECT_META (an
autocast's arguments as the program wrote them: `torch.autocast("cpu")` passes dtype
None); a node without them (made by a pass) gets the defaults of its region."""
from __future__ import annotations

import json

__all__ = ["OBJECT_META", "REGION_CLASSES", "region_object", "arg_text"]

OBJECT_META = "with_object"

# region name -> TorchScript's class of its object (autocast: torch.amp's, unless the
# program named torch.cpu.amp / torch.cuda.amp's)
REGION_CLASSES = {
    "no_grad": "__torch__.torch.autograd.grad_mode.no_grad",
    "enable_grad": "__torch__.torch.autograd.grad_mode.enable_grad",
    "strict_fusion": "__torch__.torch.jit.strict_fusion",
    "record_function": "__torch__.torch.autograd.profiler.record_function",
    "autocast": "__torch__.torch.amp.autocast_mode.autocast",
}

# classes whose __enter__ returns the object itself (the others return None)
_ENTER_SELF = ("autocast", "record_function")


class RegionObject:
    """cls: the qualified class; args: __init__'s arguments after self (Python constants,
    or the Enter node's input Values); enter_self: __enter__ returns the object."""
    __slots__ = ("cls", "args", "enter_self")

    def __init__(self, cls, args, enter_self):
        self.cls, self.args, self.enter_self = cls, args, enter_self


def region_object(n):
    """The RegionObject of a prim::Enter of a named region, else None."""
    name = n.attrs.get("name")
    if n.kind != "prim::Enter" or name not in REGION_CLASSES:
        return None
    kept = n.meta.get(OBJECT_META)
    if kept is not None:
        cls, args = kept
    elif name == "autocast":
        from .. import dtypes as _dt
        cls = REGION_CLASSES[name]
        args = (n.attrs["device_type"],
                _dt.scalar_type_code(getattr(_dt, n.attrs["dtype"])),
                bool(n.attrs["enabled"]), None)
    elif name == "record_function":
        cls, args = REGION_CLASSES[name], (None,)
    else:
        cls, args = REGION_CLASSES[name], ()
    if name == "record_function":           # its name: the Enter's input
        args = tuple(n.inputs[:1]) + tuple(args[-1:])
    return RegionObject(cls, tuple(args), name in _ENTER_SELF)


def arg_text(a) -> str:
    """A constant __init__ argument as TorchScript's code writes it."""
    if isinstance(a, str):
        return json.dumps(a)
    return str(a)          # None, True / False, an int (a dtype's ScalarType code)
