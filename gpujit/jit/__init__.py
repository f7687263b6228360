"""`gpujit.jit`: the TorchScript-style API (`import gpujit as torch; torch.jit.trace(...)`).
The same names are exported from `gpujit` itself."""
from ..frontend.tracer import TracerWarning
from .objects import (ScriptFunction, ScriptMethod, ScriptModule, TracedModule,
                      TopLevelTracedModule, RecursiveScriptModule, last_executed_optimized_graph)
from .trace import trace, trace_module, TracingCheckError, is_tracing
from .script import (script, ignore, unused, export, script_method, is_scripting, annotate,
                     Final, Attribute, script_if_tracing, jit_isinstance as isinstance)
from .script_containers import ScriptList, ScriptDict
from .script import _IgnoreContextManager as _IgnoreCM
_IgnoreContextManager = _IgnoreCM     # torch.jit._IgnoreContextManager (scripted: ignore_blocks)
from ..frontend.script.errors import FrontendError
from . import frontend  # noqa: F401,E402  (torch.jit.frontend.NotSupportedError & co.)
from ..runtime.interpreter import Error
from ..serialization import save, load, ArchiveError
from .futures import Future, fork, wait
from . import _state    # noqa: F401  (torch.jit._state.disable() / enable())
from . import _logging  # noqa: F401  (torch.jit._logging: statistics counters)
_fork, _wait = fork, wait      # torch.jit._fork / _wait: the names TorchScript code also uses
from .._jit_internal import _overload, _overload_method     # (torchvision's DenseNet uses them)
_isinstance, _script_if_tracing = isinstance, script_if_tracing     # torch.jit's old names
from .script import _unwrap_optional  # noqa: E402,F401
from . import awaits as _awaits     # torch.jit._awaitable & co. (TorchScript's names)
_Await, _awaitable = _awaits._Await, _awaits._awaitable
_awaitable_wait, _awaitable_nowait = _awaits._awaitable_wait, _awaits._awaitable_nowait
from .freeze import freeze, optimize_for_inference, run_frozen_optimizations
from .trace import _get_trace_graph  # noqa: E402,F401  (ONNX export's, add_graph's)
from . import _trace  # noqa: E402,F401  (torch.jit._trace.TracerWarning & co.)
from .interface import interface
from .opnames import export_opnames
from .compilation_unit import CompilationUnit
from ..fusers import (set_fusion_strategy, get_fusion_strategy, strict_fusion,
                      StrictFusionError)
from ..runtime.fusion import (set_profiling_runs, profiling_runs, fuser, optimized_execution,
                              enable_onednn_fusion, onednn_fusion_enabled)

__all__ = ["trace", "trace_module", "TracerWarning", "TracingCheckError", "is_tracing",
           "ScriptFunction", "ScriptMethod", "ScriptModule", "TracedModule",
           "TopLevelTracedModule", "RecursiveScriptModule", "set_fusion_strategy", "get_fusion_strategy",
           "strict_fusion", "StrictFusionError", "set_profiling_runs", "profiling_runs",
           "script", "ignore", "unused", "export", "script_method", "is_scripting",
           "annotate", "Final", "interface",
           "Attribute", "script_if_tracing", "FrontendError", "Error", "save", "load", "ArchiveError",
           "Future", "fork", "wait", "freeze", "optimize_for_inference", "run_frozen_optimizations",
           "fuser",
           "optimized_execution", "enable_onednn_fusion", "onednn_fusion_enabled",
           "last_executed_optimized_graph", "CompilationUnit", "ScriptList", "ScriptDict",
           "export_opnames"]
