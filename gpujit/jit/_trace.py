"""torch.jit._trace: the tracing names under PyTorch's module path
(`from torch.jit._trace import TracedModule`)."""
from . import (trace, trace_module, TracedModule, TopLevelTracedModule,  # noqa: F401
               TracerWarning, TracingCheckError, is_tracing)
from .trace import _get_trace_graph  # noqa: F401

__all__ = ["trace", "trace_module", "TracedModule", "TopLevelTracedModule", "TracerWarning",
           "TracingCheckError", "is_tracing"]
