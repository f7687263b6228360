"""torch.overrides' listings: get_ignored_functions, get_overridable_functions,
resolve_name."""
from __future__ import annotations

import sys as _sys

from . import _function_entries
from .overrides import _api_name, _static, _tensor_entries, Tensor


# PyTorch's get_ignored_functions(), by namespace (the names gpujit has are returned)
_IGNORED = {
    "gpujit": """arange are_deterministic_algorithms_enabled as_strided as_tensor asarray
        autocast_decrement_nesting autocast_increment_nesting bartlett_window blackman_window
        broadcast_shapes can_cast clear_autocast_cache compile cond default_generator device
        dtype empty empty_permuted empty_strided enable_grad eye fill finfo fork from_file
        from_numpy frombuffer full get_autocast_cpu_dtype get_autocast_dtype
        get_autocast_gpu_dtype get_default_device get_default_dtype get_deterministic_debug_mode
        get_device_module get_float32_matmul_precision get_num_interop_threads get_num_threads
        get_rng_state hamming_window hann_window iinfo import_ir_module
        import_ir_module_from_buffer inference_mode init_num_threads initial_seed
        is_anomaly_check_nan_enabled is_anomaly_enabled is_autocast_cache_enabled
        is_autocast_cpu_enabled is_autocast_enabled is_deterministic_algorithms_warn_only_enabled
        is_grad_enabled is_inference_mode_enabled is_storage is_tensor is_warn_always_enabled
        kaiser_window layout linspace load logspace manual_seed memory_format no_grad normal ones
        parse_ir parse_schema parse_type_comment promote_types qscheme rand rand_like randint
        randint_like randn randn_like randperm range result_type save scalar_tensor seed
        set_anomaly_enabled set_autocast_cache_enabled set_autocast_cpu_dtype
        set_autocast_cpu_enabled set_autocast_dtype set_autocast_enabled set_autocast_gpu_dtype
        set_default_device set_default_tensor_type set_deterministic_debug_mode
        set_float32_matmul_precision set_flush_denormal set_grad_enabled set_num_interop_threads
        set_num_threads set_printoptions set_rng_state set_warn_always sparse_bsc_tensor
        sparse_bsr_tensor sparse_compressed_tensor sparse_coo_tensor sparse_csc_tensor
        sparse_csr_tensor sym_constrain_range sym_constrain_range_for_size tensor tril_indices
        triu_indices typename use_deterministic_algorithms vander vmap wait zeros""",
    "gpujit.nn.functional": """handle_torch_function hardsigmoid hardswish has_torch_function
        has_torch_function_unary has_torch_function_variadic sigmoid tanh upsample
        upsample_bilinear upsample_nearest""",
    "gpujit.fft": "fftfreq rfftfreq",
    "gpujit.Tensor": """as_subclass eig lstsq new new_empty new_empty_strided new_full new_ones
        new_tensor new_zeros reinforce solve stride symeig to_padded_tensor to_sparse_bsc
        to_sparse_bsr to_sparse_coo to_sparse_csc to_sparse_csr unflatten"""}


def _namespace(name):
    return Tensor if name == "gpujit.Tensor" else _sys.modules.get(name)


def get_ignored_functions():
    """PyTorch's list of public functions that are not overridable (factories, settings,
    torch.jit's...): those of them that gpujit has. (As PyTorch's, a list, not a promise:
    torch.fill(x, 1) and x.new_zeros(2) are seen by a handler all the same.)"""
    out = set()
    for ns, names in _IGNORED.items():
        mod = _namespace(ns)
        for n in names.split():
            v = getattr(mod, n, None) if mod is not None else None
            if v is not None and callable(v):
                try:
                    out.add(v)
                except TypeError:       # (unhashable)
                    pass
    return out


def get_overridable_functions():
    """torch.overrides.get_overridable_functions: {namespace: [its functions a handler sees]}
    for gpujit, gpujit.nn.functional, linalg, fft, special, nn.init and Tensor (a property:
    {property: [its __get__]}, as PyTorch's)."""
    import types
    ignored = get_ignored_functions()
    out = {}
    for ns in ("gpujit", "gpujit.nn.functional", "gpujit.linalg", "gpujit.fft",
               "gpujit.special", "gpujit.nn.init"):
        mod = _sys.modules.get(ns)
        only = _function_entries._ONLY.get(ns)
        fns = []
        for n, v in sorted(vars(mod).items()):
            if (n.startswith("_") or not isinstance(v, types.FunctionType) or v in ignored
                    or (only is not None and n not in only)
                    or not (v.__code__.co_filename.startswith("<gpujit") or "op" in v.__dict__
                            or v.__code__.co_filename.startswith(_function_entries._PKG_DIR))
                    or v.__name__ in _function_entries._NOT_ROUTED):
                continue
            fns.append(v)
        out[mod] = fns
    methods = []
    for n, e in _tensor_entries():
        v = _static(Tensor, n)
        if isinstance(v, property):
            out[v] = [v.__get__]
        elif v not in ignored:
            methods.append(getattr(Tensor, n))
    out[Tensor] = methods
    return out


def resolve_name(f):
    """torch.overrides.resolve_name: f's public name ('torch.add', 'torch.Tensor.add',
    'torch.nn.functional.mse_loss', 'torch.Tensor.shape.__get__'), None for a function
    that is not gpujit's."""
    if type(f).__name__ == "method-wrapper" and isinstance(f.__self__, property):
        for n, _ in _tensor_entries():
            if _static(Tensor, n) is f.__self__:
                return f"torch.Tensor.{n}.{f.__name__}"
        return None
    name = _api_name(f)
    return name if name.startswith("torch.") else None


def get_testing_overrides():
    """torch.overrides.get_testing_overrides: {overridable function: a dummy with its
    signature that returns -1} (a property's __get__: `lambda self: -1`), for tests of
    __torch_function__ handlers."""
    import inspect
    out = {}
    for fns in get_overridable_functions().values():
        for f in fns:
            if type(f).__name__ == "method-wrapper":
                out[f] = lambda self: -1
                continue
            try:
                sig = inspect.signature(f)
            except (TypeError, ValueError):
                continue
            out[f] = _dummy(sig)
    return out


def _dummy(sig):
    """A lambda with sig's parameters (defaults included) that returns -1."""
    ns, parts, star = {}, [], False
    for i, p in enumerate(sig.parameters.values()):
        if p.kind is p.VAR_POSITIONAL:
            parts.append("*" + p.name)
            star = True
            continue
        if p.kind is p.VAR_KEYWORD:
            parts.append("**" + p.name)
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        text = p.name
        if p.default is not p.empty:
            ns[f"_d{i}"] = p.default
            text += f"=_d{i}"
        parts.append(text)
        if p.kind is p.POSITIONAL_ONLY and (
                i + 1 == len(sig.parameters)
                or list(sig.parameters.values())[i + 1].kind is not p.POSITIONAL_ONLY):
            parts.append("/")
    return eval(f"lambda {', '.join(parts)}: -1", ns)
