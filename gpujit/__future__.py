"""torch.__future__: switches for how nn.Module conversions (module.to(), .double(),
.cuda(), to_empty()) and load_state_dict change a module's existing parameters."""
_overwrite_module_params_on_conversion: bool = False
_swap_module_params_on_conversion: bool = False


def set_overwrite_module_params_on_conversion(value: bool) -> None:
    """Assign new Parameter objects to a module's parameters on conversion (module.to(),
    .double(), .cuda(), to_empty()) instead of changing the existing ones' data."""
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion() -> bool:
    """Whether conversions assign new parameters (default False)."""
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value: bool) -> None:
    """Swap (torch.utils.swap_tensors) the existing parameters and buffers with their
    converted values on conversion, and with `param.module_load(state_dict[key])` in
    load_state_dict, instead of setting .data / copying. Takes precedence over
    set_overwrite_module_params_on_conversion."""
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion() -> bool:
    """Whether conversions and load_state_dict swap tensors (default False)."""
    return _swap_module_params_on_conversion
