"""`torch._C`'s switches that TorchScript fusion code and tests call, mapped onto gpujit's
settings, so such code runs under `import gpujit as torch` (private in PyTorch; here only
these names exist):

    torch._C._jit_set_num_profiled_runs(1)          # gpujit.jit.set_profiling_runs
    torch._C._jit_override_can_fuse_on_cpu(True)    # fusion of CPU ops on/off
    torch._C._jit_set_texpr_fuser_enabled(True)     # the fuser on/off (jit.fuser("none"))
    torch._C._get_graph_executor_optimize()         # jit.optimized_execution

gpujit always runs the profiling executor: `_jit_set_profiling_executor` and
`_jit_set_profiling_mode` record the flag and return the previous one, as PyTorch's, so
scripts that switch to the legacy executor (or save and restore the flag) run; with False
gpujit still profiles and fuses (same results; graphs keep their TensorExprGroups where
PyTorch's legacy executor would leave CPU ops unfused).
`_debug_set_fusion_group_inlining(False)` keeps single-op fusion groups (the default puts
them back: a group needs two ops), as PyTorch's fuser tests set it.
`_jit_set_fusion_strategy` is torch.jit.set_fusion_strategy; `_jit_set_bailout_depth(n)`
(deprecated in PyTorch) sets [("STATIC", n)]. The NNC switches PyTorch's fuser tests flip
in setUp (`_jit_set_te_must_use_llvm_cpu`, `_jit_set_texpr_reductions_enabled`,
`_jit_set_texpr_dynamic_shape_enabled`, `_jit_texpr_set_fallback_allowed`) are recorded
and read back; they change nothing (gpujit's kernels are numba's, reductions run
unfused, and dynamic shapes follow the fusion strategy); so are the legacy CPU fuser's,
the TE CUDA launch sizes, `_debug_set_autodiff_subgraph_inlining` and
`_jit_set_logging_option`. nvfuser's switches (`_jit_set_nvfuser_enabled`...) are
deprecated no-ops that warn, as in torch 2.13. `_jit_set_tracer_state_warn(False)` quiets
the tracer's warnings about tensors turned into Python values.
Settings are read when a function builds its optimized code.

`parse_ir` and the `_jit_pass_*` names (dce, constant_propagation, cse, peephole, inline,
loop_unrolling, lint) run gpujit's parser and passes on a Graph in place, as TorchScript's
tests call them with FileCheck.
"""
from __future__ import annotations

from .fusers import strategy as _strategy
from .ir.graph import Graph, Block, Node, Value     # (isinstance(g, torch._C.Graph))
from ._filecheck import FileCheck                   # torch._C.FileCheck
from .runtime import fusion as _fusion
from .ops.linalg_decomp import LinAlgError as _LinAlgError   # (torch.linalg.LinAlgError)
from .overrides import (DisableTorchFunction, DisableTorchFunctionSubclass,
                        _disabled_torch_function_impl, _is_torch_function_mode_enabled,
                        _len_torch_function_stack, _get_function_stack_at,
                        _push_on_torch_function_stack, _pop_torch_function_stack)
from .autograd.grad_mode import _set_grad_enabled
from .ops import packed_params as _packed_params
ScriptObject = _packed_params.ScriptObject        # (torch._C.ScriptObject: torch.classes)
from .runtime.interpreter import Error as JITException      # (torch.jit.Error is it)


def _is_torch_function_enabled() -> bool:
    """False inside DisableTorchFunction(Subclass)."""
    from .overrides import _is_disabled
    return not _is_disabled()


# nvfuser's switches (name -> how many arguments): see _nvfuser_stub
_NVFUSER = {"_jit_set_nvfuser_enabled": 1, "_jit_nvfuser_enabled": 0,
            "_jit_nvfuser_can_be_enabled": 0, "_jit_set_nvfuser_single_node_mode": 1,
            "_jit_nvfuser_single_node_mode": 0, "_jit_set_nvfuser_horizontal_mode": 1,
            "_jit_nvfuser_horizontal_mode": 0, "_jit_set_nvfuser_guard_mode": 1,
            "_jit_set_nvfuser_skip_node_kind": 2, "_jit_nvfuser_set_comparison_callback": 2,
            "_jit_nvfuser_clear_comparison_callback": 0}
__all__ = ["Graph", "Block", "Node", "Value", "FileCheck", "_LinAlgError", "JITException",
           "DisableTorchFunction", "DisableTorchFunctionSubclass",
           "_disabled_torch_function_impl", "_is_torch_function_enabled",
           "_is_torch_function_mode_enabled", "_len_torch_function_stack",
           "_get_function_stack_at", "_push_on_torch_function_stack",
           "_pop_torch_function_stack", "_set_grad_enabled",
           "_jit_set_num_profiled_runs", "_jit_get_num_profiled_runs",
           "_jit_override_can_fuse_on_cpu", "_jit_override_can_fuse_on_gpu",
           "_jit_can_fuse_on_cpu", "_jit_can_fuse_on_gpu", "_jit_set_texpr_fuser_enabled",
           "_jit_texpr_fuser_enabled", "_get_graph_executor_optimize",
           "_set_graph_executor_optimize", "_jit_set_profiling_executor",
           "_jit_set_profiling_mode", "_debug_set_fusion_group_inlining",
           "_debug_get_fusion_group_inlining", "_last_executed_optimized_graph",
           "_jit_set_fusion_strategy", "_jit_set_bailout_depth", "_jit_set_te_must_use_llvm_cpu",
           "_jit_get_te_must_use_llvm_cpu", "_jit_set_texpr_reductions_enabled",
           "_jit_texpr_reductions_enabled", "_jit_set_texpr_dynamic_shape_enabled",
           "_jit_texpr_dynamic_shape_enabled", "_jit_texpr_set_fallback_allowed",
           "_jit_texpr_fallback_allowed", "parse_ir", "_jit_pass_dce",
           "_jit_pass_constant_propagation", "_create_function_from_graph", "_jit_pass_cse", "_jit_pass_peephole",
           "_jit_pass_inline", "_jit_pass_loop_unrolling", "_jit_pass_lint",
           "_get_tracing_state", "_jit_set_inline_everything_mode",
           "_jit_get_inline_everything_mode", "_jit_set_autocast_mode", "_jit_set_llga_enabled",
           "_jit_llga_enabled", "_log_api_usage_once", *_NVFUSER,
           "_jit_override_can_fuse_on_cpu_legacy", "_jit_can_fuse_on_cpu_legacy",
           "_jit_set_te_generate_block_code", "_jit_get_te_generate_block_code",
           "_jit_set_te_cuda_pointwise_loop_levels", "_jit_get_te_cuda_pointwise_loop_levels",
           "_jit_set_te_cuda_pointwise_block_count", "_jit_get_te_cuda_pointwise_block_count",
           "_jit_set_te_cuda_pointwise_block_size", "_jit_get_te_cuda_pointwise_block_size",
           "_jit_cat_wo_conditionals", "_jit_opt_conditionals",
           "_debug_set_autodiff_subgraph_inlining", "_jit_set_logging_option",
           "_jit_get_logging_option", "_jit_set_tracer_state_warn", "_jit_get_tracer_state_warn"]


def _jit_set_num_profiled_runs(n: int) -> int:
    return _fusion.set_profiling_runs(n)


def _jit_get_num_profiled_runs() -> int:
    return _fusion.profiling_runs()


def _jit_override_can_fuse_on_cpu(enabled: bool) -> None:
    _strategy.set_fusion_on("cpu", enabled)


def _jit_override_can_fuse_on_gpu(enabled: bool) -> None:
    _strategy.set_fusion_on("cuda", enabled)


def _jit_can_fuse_on_cpu() -> bool:
    return _strategy.fusion_on("cpu")


def _jit_can_fuse_on_gpu() -> bool:
    return _strategy.fusion_on("cuda")


def _jit_set_texpr_fuser_enabled(enabled: bool) -> None:
    _fusion.set_fuser("fuser1" if enabled else "none")


def _jit_texpr_fuser_enabled() -> bool:
    return _fusion.current_fuser() != "none"


def _get_graph_executor_optimize(should_optimize=None) -> bool:
    prev = _fusion.optimizing()
    if should_optimize is not None:
        _fusion.set_optimizing(should_optimize)
    return prev


def _set_graph_executor_optimize(should_optimize: bool) -> None:
    _fusion.set_optimizing(should_optimize)


def _jit_set_profiling_executor(enabled: bool) -> bool:
    prev, _NNC["profiling_executor"] = _NNC["profiling_executor"], bool(enabled)
    return prev


def _jit_set_profiling_mode(enabled: bool) -> bool:
    prev, _NNC["profiling_mode"] = _NNC["profiling_mode"], bool(enabled)
    return prev


def _debug_set_fusion_group_inlining(enabled: bool) -> None:
    _strategy.set_fusion_group_inlining(enabled)


def _debug_get_fusion_group_inlining() -> bool:
    return _strategy.fusion_group_inlining()


def _last_executed_optimized_graph():
    """torch.jit.last_executed_optimized_graph's name in torch._C."""
    from .jit.objects import last_executed_optimized_graph
    return last_executed_optimized_graph()


def _jit_set_fusion_strategy(strategy) -> list:
    """torch.jit.set_fusion_strategy's name in torch._C: returns the previous strategy."""
    return _strategy.set_fusion_strategy(strategy)


def _jit_set_bailout_depth(depth: int) -> int:
    """PyTorch's deprecated spelling of [("STATIC", depth)]; returns the previous total
    depth (the sum of the strategy's depths)."""
    prev = _strategy.set_fusion_strategy([("STATIC", depth)])
    return sum(d for _, d in prev)


# NNC switches with no effect in gpujit: recorded so code that saves and restores them works
_NNC = {"must_use_llvm_cpu": True, "reductions": False, "dynamic_shape": False,
        "fallback_allowed": False, "inline_everything": False, "autocast": True,
        "llga": False, "profiling_executor": True, "profiling_mode": True}


def _jit_set_te_must_use_llvm_cpu(use_llvm: bool) -> None:
    _NNC["must_use_llvm_cpu"] = bool(use_llvm)


def _jit_get_te_must_use_llvm_cpu() -> bool:
    return _NNC["must_use_llvm_cpu"]


def _jit_set_texpr_reductions_enabled(enabled: bool) -> bool:
    prev, _NNC["reductions"] = _NNC["reductions"], bool(enabled)
    return prev


def _jit_texpr_reductions_enabled() -> bool:
    return _NNC["reductions"]


def _jit_set_texpr_dynamic_shape_enabled(enabled: bool) -> None:
    _NNC["dynamic_shape"] = bool(enabled)


def _jit_texpr_dynamic_shape_enabled() -> bool:
    return _NNC["dynamic_shape"]


def _jit_texpr_set_fallback_allowed(allowed: bool) -> bool:
    prev, _NNC["fallback_allowed"] = _NNC["fallback_allowed"], bool(allowed)
    return prev


def _jit_texpr_fallback_allowed() -> bool:
    return _NNC["fallback_allowed"]


# switches model code and TorchScript's tests flip: recorded and read back (gpujit always
# inlines calls, runs scripted autocast regions, and has no oneDNN graph fuser)

def _jit_set_inline_everything_mode(enabled: bool) -> None:
    _NNC["inline_everything"] = bool(enabled)


def _jit_get_inline_everything_mode() -> bool:
    return _NNC["inline_everything"]


def _jit_set_autocast_mode(enabled: bool) -> bool:
    prev, _NNC["autocast"] = _NNC["autocast"], bool(enabled)
    return prev


def _jit_set_llga_enabled(enabled: bool) -> bool:
    """Returns the previous setting, as torch's."""
    prev, _NNC["llga"] = _NNC["llga"], bool(enabled)
    return prev


def _jit_llga_enabled() -> bool:
    return _NNC["llga"]


# nvfuser's switches: deprecated no-ops in torch 2.13 (which warns), kept so TorchScript
# code bases that turn nvfuser off (`torch._C._jit_set_nvfuser_enabled(False)`) still run
def _nvfuser_stub(name, nargs):
    def stub(*args):
        if len(args) != nargs:
            raise TypeError(f"{name}(): takes {nargs} argument{'s' if nargs != 1 else ''} "
                            f"({len(args)} given)")
        import warnings
        warnings.warn(f"nvfuser is no longer supported in torch script, use {name} is "
                      f"deprecated and a no-op", UserWarning, stacklevel=2)
    stub.__name__ = stub.__qualname__ = name
    return stub


globals().update({n: _nvfuser_stub(n, k) for n, k in _NVFUSER.items()})

# more NNC / executor switches PyTorch's fuser tests and benchmarks flip (the legacy CPU
# fuser, CUDA launch sizes, block codegen, conditionals in cat, autodiff subgraph
# inlining): recorded and read back; gpujit's fuser and kernels do not read them
_NNC.update({"legacy_cpu": False, "block_code": False, "loop_levels": -1,
             "block_count": -1, "block_size": -1, "cat_wo_conditionals": True,
             "opt_conditionals": False, "autodiff_inlining": True, "logging": ""})


def _jit_override_can_fuse_on_cpu_legacy(enabled: bool) -> None:
    _NNC["legacy_cpu"] = bool(enabled)


def _jit_can_fuse_on_cpu_legacy() -> bool:
    return _NNC["legacy_cpu"]


def _setter(key, kind, returns):
    def set_(value):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        _NNC[key] = kind(value)
        return _NNC[key] if returns else None
    return set_


_jit_set_te_generate_block_code = _setter("block_code", bool, True)
_jit_set_te_cuda_pointwise_loop_levels = _setter("loop_levels", int, True)
_jit_set_te_cuda_pointwise_block_count = _setter("block_count", int, True)
_jit_set_te_cuda_pointwise_block_size = _setter("block_size", int, True)
_jit_cat_wo_conditionals = _setter("cat_wo_conditionals", bool, False)
_jit_opt_conditionals = _setter("opt_conditionals", bool, False)
_debug_set_autodiff_subgraph_inlining = _setter("autodiff_inlining", bool, False)
_jit_set_logging_option = _setter("logging", str, False)


def _jit_get_te_generate_block_code() -> bool:
    return _NNC["block_code"]


def _jit_get_te_cuda_pointwise_loop_levels() -> int:
    return _NNC["loop_levels"]


def _jit_get_te_cuda_pointwise_block_count() -> int:
    return _NNC["block_count"]


def _jit_get_te_cuda_pointwise_block_size() -> int:
    return _NNC["block_size"]


def _jit_get_logging_option() -> str:
    return _NNC["logging"]


def _jit_set_tracer_state_warn(enabled: bool) -> None:
    """False quiets the tracer's warnings about tensors turned into Python values or made
    from data (PyTorch's C++ tracer warnings), as torch's."""
    from .frontend import tracer
    tracer.STATE_WARN[0] = bool(enabled)


def _jit_get_tracer_state_warn() -> bool:
    from .frontend import tracer
    return tracer.STATE_WARN[0]


def _get_tracing_state():
    """The trace being recorded (truthy) or None, as model code tests
    `torch._C._get_tracing_state()` to take a trace-friendly path."""
    from .frontend import tracer
    s = tracer.current_session()
    return None if s is None or s.paused else s


def _log_api_usage_once(*event):
    """torch._C._log_api_usage_once(event): PyTorch's API-usage logging hook, which
    libraries call once per feature (torchvision: every model's __init__); it logs nothing
    unless a logger is installed, and gpujit has none. Exactly one str, as torch's binding."""
    if len(event) != 1:
        raise TypeError(f"torch._C._log_api_usage_once() takes exactly one argument "
                        f"({len(event)} given)")
    if not isinstance(event[0], str):
        raise TypeError("bad argument type for built-in operation")


# ---------------------------------------------------------------- graphs and passes
# torch._C.parse_ir and the passes TorchScript's tests run on a parsed or scripted graph:
# each changes the graph in place and returns None, as torch._C's do

def parse_ir(text: str, parse_tensor_constants: bool = False) -> Graph:
    """A Graph from TorchScript's printed IR (torch._C.parse_ir). Names are kept as
    torch's parser keeps them: a graph or block input keeps a name that is not a number,
    every other value is renumbered (`%y : Tensor = aten::relu(%x)` prints as `%1`), each
    value taking the next number in the order of the text (a node's outputs before its
    blocks), named or not; the `# file:line:col` comments are not read back."""
    from .ir.parser import IRParseError, parse_ir as _parse
    try:
        g = _parse(text)
    except IRParseError as e:
        # torch._C's error: a RuntimeError in TorchScript's words and layout
        raise RuntimeError(e.torch_message()) from None
    _renumber_parsed(g)
    return g


def _renumber_parsed(g) -> None:
    order = []

    def block(b):
        order.extend((v, True) for v in b.inputs)
        for n in b.nodes:
            n.source_range = None
            order.extend((v, False) for v in n.outputs)
            for sub in n.blocks:
                block(sub)
    block(g.block)
    kept = {v: v.debug_name for v, is_input in order
            if is_input and not v.debug_name.isdigit()}
    for v, _ in order:                  # forget every name, then give the kept ones back
        v.set_debug_name(None)
    for k, (v, _) in enumerate(order):
        v.unique = k
    g._unique = len(order) - 1
    for v, name in kept.items():
        v.set_debug_name(name)


def _create_function_from_graph(name: str, graph):
    """A callable function `name` running `graph` (torch._C._create_function_from_graph;
    the graph is checked first, and is the function's own from then on)."""
    from .jit.objects import ScriptFunction
    if not isinstance(graph, Graph):
        raise TypeError(f"_create_function_from_graph(): expected a Graph, got "
                        f"{type(graph).__name__}")
    graph.lint()
    return ScriptFunction(graph, name)


def _jit_pass_dce(graph) -> None:
    from .passes.dce import eliminate_dead_code
    eliminate_dead_code(graph)


def _jit_pass_constant_propagation(graph) -> None:
    from .passes.constant_propagation import propagate_constants
    propagate_constants(graph, returned_tensors=True)


def _jit_pass_cse(graph) -> bool:
    """(torch's returns whether it changed the graph)"""
    from .passes.cse import eliminate_common_subexpressions
    before = str(graph)
    eliminate_common_subexpressions(graph)
    return str(graph) != before


def _jit_pass_peephole(graph, disable_shape_peepholes: bool = False) -> None:
    from .passes.peephole import peephole_optimize
    peephole_optimize(graph)


def _jit_pass_inline(graph) -> None:
    from .passes.inline import inline_calls
    inline_calls(graph)


def _jit_pass_loop_unrolling(graph) -> None:
    from .passes.loop_unroll import unroll_loops
    unroll_loops(graph)


def _jit_pass_lint(graph) -> None:
    """Checks the graph's invariants (each use after its definition, ...): raises if one
    does not hold."""
    graph.lint()


# torch._C._nn: the nn.functional functions PyTorch binds from there (F.linear is
# torch._C._nn.linear; torch.fx's generated code names them so); torch._C._linalg,
# _special and _fft: torch.linalg.norm is torch._C._linalg.linalg_norm ...
_NN_NAMES = {"avg_pool2d": "avg_pool2d", "avg_pool3d": "avg_pool3d", "elu_": "elu_",
             "gelu": "gelu", "hardtanh_": "hardtanh_", "leaky_relu_": "leaky_relu_",
             "linear": "linear", "log_sigmoid": "logsigmoid", "one_hot": "one_hot",
             "scaled_dot_product_attention": "scaled_dot_product_attention",
             "softplus": "softplus", "softshrink": "softshrink"}


_NN_ATEN = ("adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool2d",
            "adaptive_max_pool3d", "binary_cross_entropy", "col2im", "cross_entropy_loss", "elu",
            "gelu_", "glu", "hardsigmoid", "hardsigmoid_", "hardswish", "hardswish_", "hardtanh",
            "huber_loss", "im2col", "l1_loss", "leaky_relu", "max_pool2d_with_indices",
            "max_pool3d_with_indices", "max_unpool2d", "max_unpool3d", "mish", "mish_", "mse_loss",
            "multi_margin_loss", "multilabel_margin_loss", "nll_loss", "nll_loss_nd", "pad",
            "relu6", "relu6_", "silu", "silu_", "smooth_l1_loss", "soft_margin_loss",
            "upsample_bicubic2d", "upsample_bilinear2d", "upsample_linear1d",
            "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
            "upsample_trilinear3d")


def _nn_binding(name, packet):
    """torch._C._nn.<name>: the op's schema, but a `reduction` left out is 0 (unreduced),
    as torch 2.13's Python parser reads the schema's default at::Reduction::Mean."""
    from .ops import registry
    args = registry.get("aten::" + name).schema.arguments
    at = next((i for i, a in enumerate(args) if a.name == "reduction" and a.has_default
               and a.default == "mean"), None)
    if at is None:
        return packet

    def binding(*a, **kw):
        if len(a) <= at and "reduction" not in kw:
            kw["reduction"] = 0
        return packet(*a, **kw)
    binding.__name__ = binding.__qualname__ = name
    return binding


def __getattr__(name):
    import types
    if name in ("_LinalgBackend", "_BlasBackend"):     # (torch.backends.cuda's enums)
        from .backends import cuda as _cuda_backend
        return getattr(_cuda_backend, name)
    if name == "ScriptModule":          # (the type of a scripted module's `_c`)
        from .jit.c_module import CScriptModule
        return CScriptModule
    if name == "_nn":
        from .nn import functional as F
        from .ops import aten
        entries = {n: getattr(F, f) for n, f in _NN_NAMES.items()}
        # the rest take ATen's arguments (mse_loss(x, y, 1): an int reduction) as the
        # registry's ops do
        for n in _NN_ATEN:
            entries[n] = _nn_binding(n, getattr(aten, n))
    elif name in ("_linalg", "_special", "_fft"):
        import importlib
        ns = importlib.import_module("gpujit." + name[1:])
        entries = {f"{name[1:]}_{n}": v for n, v in vars(ns).items()
                   if not n.startswith("_") and callable(v) and not isinstance(v, type)
                   and (getattr(v, "__module__", None) or "").startswith("gpujit")}
    else:
        raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
    mod = types.ModuleType(__name__ + "." + name)
    for n, v in entries.items():
        setattr(mod, n, v)
    globals()[name] = mod
    return mod
