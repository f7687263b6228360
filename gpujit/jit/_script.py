"""torch.jit._script: the scripting names under PyTorch's module path
(`from torch.jit._script import RecursiveScriptModule` for isinstance checks)."""
from . import (script, ScriptModule, ScriptFunction, RecursiveScriptModule,  # noqa: F401
               Attribute, interface, script_method, CompilationUnit)

__all__ = ["script", "ScriptModule", "ScriptFunction", "RecursiveScriptModule", "Attribute",
           "interface", "script_method", "CompilationUnit"]
