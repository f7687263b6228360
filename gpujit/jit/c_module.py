"""`scripted_module._c`: the C++ module object torch 2.13's RecursiveScriptModule wraps
(torch._C.ScriptModule), as users and jit utilities reach for it: `_has_method`,
`_get_method(name).graph`, `_method_names`, `hasattr` / `getattr` / `setattr` of the
module's attributes (a submodule's is its own `_c`), `_type()`, `qualified_name`, its
methods as attributes (`m._c.forward(x)`), `save`. A view of the gpujit ScriptModule:
reads and writes go to it."""
from __future__ import annotations

__all__ = ["CScriptModule", "c_module"]

# (Module state gpujit keeps in a ScriptModule's __dict__ that is no attribute of
# TorchScript's module type)
_INTERNAL = frozenset({"original_name"})
_ALWAYS = ("training", "_is_full_backward_hook")


class ModuleClassType:
    """`m._c._type()`: the module's class type (name() the class's, str() qualified)."""
    __slots__ = ("_qualified", "_short")

    def __init__(self, qualified, short):
        self._qualified, self._short = qualified, short

    def name(self):
        return self._short

    def qualified_name(self):
        return self._qualified

    def annotation_str(self):
        return self._qualified

    def __str__(self):
        return self._qualified

    def __repr__(self):
        return self._qualified

    def __eq__(self, other):
        return isinstance(other, ModuleClassType) and other._qualified == self._qualified

    def __hash__(self):
        return hash(self._qualified)


class CScriptModule:
    """torch._C.ScriptModule over a gpujit ScriptModule (see the module docstring)."""
    __slots__ = ("_module",)

    def __init__(self, module):
        object.__setattr__(self, "_module", module)

    # ---- methods
    def _method_names(self):
        return list(self._module._script_methods)

    def _has_method(self, name):
        return name in self._module._script_methods

    def _get_method(self, name):
        m = self._module._script_methods.get(name)
        if m is None:
            raise RuntimeError(f"Method '{name}' is not defined.")
        return m

    # ---- attributes
    def _is_attribute(self, name):
        m = self._module
        if name in m._parameters or name in m._buffers or name in m._modules or \
                name in _ALWAYS:
            return True
        # (a constant too: Linear's in_features, as torch's hasattr answers)
        d = m.__dict__
        return name in d and not name.startswith("_") and name not in _INTERNAL

    def hasattr(self, name):
        return self._is_attribute(name)

    def getattr(self, name):
        if not self._is_attribute(name):
            raise AttributeError(f"{self.qualified_name} (of Python compilation unit at: "
                                 f"0x{id(_unit):x}) does not have a field with name "
                                 f"'{name}'")
        v = getattr(self._module, name)
        from .script_module import ScriptModule
        return c_module(v) if isinstance(v, ScriptModule) else v

    def setattr(self, name, value):
        if isinstance(value, CScriptModule):
            value = value._module
        setattr(self._module, name, value)

    def __getattr__(self, name):
        # (ScriptObject's: a method, else an attribute)
        if name.startswith("__"):
            raise AttributeError(name)
        m = self._module.__dict__.get("_script_methods") or {}
        if name in m:
            return m[name]
        if self._is_attribute(name):
            return self.getattr(name)
        raise AttributeError(f"'torch._C.ScriptModule' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        self.setattr(name, value)

    # ---- the module
    def _type(self):
        t = self._module._type
        return ModuleClassType(str(t), self._module.original_name)

    @property
    def qualified_name(self):
        return str(self._module._type)

    def save(self, f, _extra_files=None):
        self._module.save(f, _extra_files=_extra_files)

    def __eq__(self, other):
        return isinstance(other, CScriptModule) and other._module is self._module

    def __hash__(self):
        return id(self._module)

    def __repr__(self):
        return f"<torch._C.ScriptModule object of {self.qualified_name}>"


CScriptModule.__name__ = CScriptModule.__qualname__ = "ScriptModule"
_unit = object()            # (the "Python compilation unit" torch's message names)


def c_module(m) -> CScriptModule:
    """m's `_c` (a new view each time; equal views for one module)."""
    return CScriptModule(m)
