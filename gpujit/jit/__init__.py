"""`gpujit.jit`: the TorchScript-style API (`import gpujit as torch; torch.jit.trace(...)`).
The same names are exported from `gpujit` itself."""
from ..frontend.tracer import TracerWarning
from .objects import (ScriptFunction, ScriptMethod, ScriptModule, TracedModule,
                      RecursiveScriptModule)
from .trace import trace, trace_module, TracingCheckError, is_tracing

__all__ = ["trace", "trace_module", "TracerWarning", "TracingCheckError", "is_tracing",
           "ScriptFunction", "ScriptMethod", "ScriptModule", "TracedModule",
           "RecursiveScriptModule"]
