"""torch.jit._recursive: the stubs of the methods torch.jit.script compiles on a module
(infer_methods_to_compile: forward, unless ignored or nn.Module's own, then the @export
methods) and create_script_module, which scripts the module (gpujit's recursive
compiler, frontend/script/modules.py) and checks that each stub's method was compiled."""
from __future__ import annotations

import collections

from .frontend import get_jit_def

__all__ = ["ScriptMethodStub", "PropertyStub", "ignored_attributes", "make_stub",
           "make_stub_from_method", "make_stubs_from_exported_methods",
           "infer_methods_to_compile", "create_script_module", "check_module_initialized",
           "get_jit_def"]

ScriptMethodStub = collections.namedtuple(
    "ScriptMethodStub", ("resolution_callback", "def_", "original_method"))
PropertyStub = collections.namedtuple("PropertyStub", ("resolution_callback", "def_"))

# the nn.Module attributes TorchScript does not turn into module attributes
ignored_attributes = [
    "_version", "_parameters", "_buffers", "_non_persistent_buffers_set", "_backward_hooks",
    "_backward_pre_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
    "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called",
    "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks", "_modules", "_initializing", "dump_patches"]


def _resolution_callback(func):
    """name -> the object it names in func's closure or globals (None if neither)."""
    fn = getattr(func, "__func__", func)
    closure = {}
    if getattr(fn, "__closure__", None):
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                pass
    glb = getattr(fn, "__globals__", {})

    def rcb(name):
        if name in closure:
            return closure[name]
        if name in glb:
            return glb[name]
        import builtins
        return getattr(builtins, name, None)
    return rcb


def make_stub(func, name):
    return ScriptMethodStub(_resolution_callback(func),
                            get_jit_def(func, name, self_name="RecursiveScriptModule"), func)


def make_stub_from_method(nn_module, method_name):
    func = getattr(nn_module, method_name)
    if isinstance(func, ScriptMethodStub):
        return func
    return make_stub(func, method_name)


def _modifier(item):
    from .script import function_modifier
    try:
        return function_modifier(item) if callable(item) else None
    except Exception:
        return None


def make_stubs_from_exported_methods(mod):
    return [make_stub_from_method(mod, name) for name in dir(mod)
            if _modifier(getattr(mod, name, None)) == "export"]


def check_module_initialized(mod):
    if not hasattr(mod, "_parameters"):
        raise RuntimeError(f"'{type(mod).__name__}' has not been initialized, did you "
                           f"forget to call 'super()'?")


def infer_methods_to_compile(nn_module):
    """The stubs of forward (when the class defines one that is not ignored) and of the
    @torch.jit.export methods, in that order, each once."""
    from ..nn import Module
    check_module_initialized(nn_module)
    methods = []
    fwd = getattr(nn_module, "forward", None)
    if fwd is not None and _modifier(fwd) not in ("ignore", "drop") and \
            getattr(fwd, "__func__", None) is not Module.forward:
        methods = ["forward"]
    methods += [name for name in dir(nn_module)
                if _modifier(getattr(nn_module, name, None)) == "export"]
    return [make_stub_from_method(nn_module, m) for m in dict.fromkeys(methods)]


def create_script_module(nn_module, stubs_fn, share_types=True, is_tracing=False):
    """nn_module scripted (a RecursiveScriptModule); each method stubs_fn names must be one
    scripting compiles (RuntimeError "Method '<name>' is not defined." otherwise, as
    torch's)."""
    from .script import script
    check_module_initialized(nn_module)
    stubs = stubs_fn(nn_module)
    sm = script(nn_module)
    for stub in stubs:
        name = stub.def_.name().name
        if name not in getattr(sm, "_script_methods", {}):
            raise RuntimeError(f"Method '{name}' is not defined.")
    return sm
