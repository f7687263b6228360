"""torch.ao.quantization.quantize: eager-mode post-training quantization.

prepare: the qconfig propagated from the root (or a qconfig_dict by type / name) to every
module; each leaf module that PyTorch quantizes (QuantStub, Linear, ReLU6 ...) gets its
qconfig's activation observer as child `activation_post_process`, called on its output by
a forward hook. convert: those modules swapped for their quantized counterparts
(`from_float`), observers and qconfigs removed. quantize_dynamic: Linear modules swapped
for dynamically quantized ones."""
from __future__ import annotations

import copy
import warnings

import gpujit as torch
from gpujit import nn

from .qconfig import default_dynamic_qconfig, float16_dynamic_qconfig
from .stubs import DeQuantStub, QuantStub, QuantWrapper

__all__ = ["propagate_qconfig_", "add_quant_dequant", "prepare", "quantize", "fuse_modules",
           "prepare_qat", "quantize_qat", "get_default_qat_module_mappings",
           "quantize_dynamic", "convert", "swap_module", "get_default_static_quant_module_mappings",
           "get_default_dynamic_quant_module_mappings",
           "get_default_qconfig_propagation_list"]


def get_default_static_quant_module_mappings():
    """float module type -> quantized module type (those gpujit has)."""
    from gpujit.ao.nn import intrinsic as nni, qat as nnqat, quantized as nnq
    nniq = nni.quantized
    return {QuantStub: nnq.Quantize, DeQuantStub: nnq.DeQuantize, nn.Linear: nnq.Linear,
            nnqat.Linear: nnq.Linear, nnqat.Conv1d: nnq.Conv1d, nnqat.Conv2d: nnq.Conv2d,
            nnqat.Conv3d: nnq.Conv3d,
            nn.ReLU6: nnq.ReLU6, nn.LeakyReLU: nnq.LeakyReLU, nn.Dropout: nnq.Dropout,
            nn.Hardswish: nnq.Hardswish, nn.ELU: nnq.ELU,
            nn.Conv1d: nnq.Conv1d, nn.Conv2d: nnq.Conv2d, nn.Conv3d: nnq.Conv3d,
            nn.BatchNorm2d: nnq.BatchNorm2d, nn.BatchNorm3d: nnq.BatchNorm3d,
            nnq.FloatFunctional: nnq.QFunctional, nn.LayerNorm: nnq.LayerNorm,
            nn.GroupNorm: nnq.GroupNorm, nn.InstanceNorm1d: nnq.InstanceNorm1d,
            nn.InstanceNorm2d: nnq.InstanceNorm2d, nn.InstanceNorm3d: nnq.InstanceNorm3d,
            nn.Embedding: nnq.Embedding, nn.EmbeddingBag: nnq.EmbeddingBag,
            nni.LinearReLU: nniq.LinearReLU, nni.ConvReLU1d: nniq.ConvReLU1d,
            nni.ConvReLU2d: nniq.ConvReLU2d, nni.ConvReLU3d: nniq.ConvReLU3d,
            nni.BNReLU2d: nniq.BNReLU2d, nni.BNReLU3d: nniq.BNReLU3d}


def get_default_qat_module_mappings():
    """float module type -> quantization-aware-training module type."""
    from gpujit.ao.nn import qat as nnqat
    return {nn.Linear: nnqat.Linear, nn.Conv1d: nnqat.Conv1d, nn.Conv2d: nnqat.Conv2d,
            nn.Conv3d: nnqat.Conv3d}


def get_default_dynamic_quant_module_mappings():
    from gpujit.ao.nn.quantized import dynamic as nnqd
    from gpujit.ao.nn import quantized as nnq
    return {nn.Linear: nnqd.Linear, nn.Embedding: nnq.Embedding,
            nn.EmbeddingBag: nnq.EmbeddingBag}


# the float modules PyTorch's static mappings quantize that gpujit does not: converting
# one is refused rather than left in float
_UNSUPPORTED_STATIC = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "PReLU")
_UNSUPPORTED_DYNAMIC = ("GRUCell", "LSTM", "GRU", "LSTMCell", "RNNCell")


def get_default_qconfig_propagation_list():
    """The module types that get a qconfig and (leaves) an observer."""
    types = set(get_default_static_quant_module_mappings()) | \
        set(get_default_dynamic_quant_module_mappings()) | \
        set(get_default_qat_module_mappings()) | {nn.Sequential}
    types |= {getattr(nn, n) for n in _UNSUPPORTED_STATIC if hasattr(nn, n)}
    return types


def _propagate_qconfig_helper(module, qconfig_dict, qconfig_parent=None, prefix=""):
    module_qconfig = qconfig_dict.get(type(module), qconfig_parent)
    module_qconfig = qconfig_dict.get(prefix, module_qconfig)
    module_qconfig = getattr(module, "qconfig", module_qconfig)
    module.qconfig = module_qconfig
    for name, child in module.named_children():
        module_prefix = prefix + "." + name if prefix else name
        _propagate_qconfig_helper(child, qconfig_dict, module_qconfig, module_prefix)


def propagate_qconfig_(module, qconfig_dict=None, prepare_custom_config_dict=None):
    """Sets .qconfig on every submodule: its own, else qconfig_dict's for its name or type,
    else its parent's."""
    _propagate_qconfig_helper(module, qconfig_dict or {})


def _observer_forward_hook(self, input, output):
    return self.activation_post_process(output)


def _has_no_children(module):
    return len(module._modules) == 0


def _add_observer_(module, qconfig_propagation_list, device=None, non_leaf=()):
    """The qconfig's activation observer as child `activation_post_process` of each leaf
    module of the propagation list with a qconfig (a fusion, LinearReLU, and the modules
    of non_leaf, QAT ones, count as leaves), called on its output by a forward hook."""
    from gpujit.ao.nn.intrinsic import _FusedModule
    from gpujit.ao.nn import quantized as nnq
    fused = isinstance(module, _FusedModule) or type(module) in non_leaf
    if type(module) in (nnq.FloatFunctional, nnq.QFunctional):
        # (its operations call activation_post_process themselves: an observer, no hook)
        if getattr(module, "qconfig", None) is not None:
            module.activation_post_process = module.qconfig.activation()
        return
    if not fused:
        for child in module.children():
            if type(child) is not nn.Dropout:
                _add_observer_(child, qconfig_propagation_list, device, non_leaf)
    leaf = fused or (_has_no_children(module) and not isinstance(module, nn.Sequential) and
                     type(module) in qconfig_propagation_list)
    if leaf and getattr(module, "qconfig", None) is not None and \
            not isinstance(module, DeQuantStub):
        module.add_module("activation_post_process", module.qconfig.activation())
        module._observer_hook = module.register_forward_hook(_observer_forward_hook)


def prepare(model, inplace=False, allow_list=None, observer_non_leaf_module_list=None,
            prepare_custom_config_dict=None):
    """The model with observers inserted for calibration (a copy unless inplace)."""
    torch._C._log_api_usage_once("quantization_api.quantize.prepare") \
        if hasattr(torch._C, "_log_api_usage_once") else None
    if not inplace:
        model = copy.deepcopy(model)
    qconfig_propagation_list = allow_list or get_default_qconfig_propagation_list()
    propagate_qconfig_(model, qconfig_dict=None)
    if not any(hasattr(m, "qconfig") and m.qconfig for m in model.modules()):
        warnings.warn("None of the submodule got qconfig applied. Make sure you passed "
                      "correct configuration through `qconfig_dict` or by assigning the "
                      "`.qconfig` attribute directly on submodules")
    _add_observer_(model, qconfig_propagation_list,
                   non_leaf=tuple(observer_non_leaf_module_list or ()))
    return model


def _remove_activation_post_process(module):
    from .observer import ObserverBase
    from .fake_quantize import FakeQuantizeBase
    # (an observer only: QFunctional's own Identity stays, as torch's)
    if isinstance(getattr(module, "activation_post_process", None),
                  (ObserverBase, FakeQuantizeBase)):
        del module.activation_post_process
    hook = module.__dict__.pop("_observer_hook", None)
    if hook is not None:
        hook.remove()


def _remove_qconfig(module):
    for child in module.children():
        _remove_qconfig(child)
    if hasattr(module, "qconfig"):
        del module.qconfig
    _remove_activation_post_process(module)


def swap_module(mod, mapping, custom_module_class_mapping=None,
                use_precomputed_fake_quant=False):
    """mod's quantized counterpart (mapping[type(mod)].from_float(mod)) where it has a
    qconfig, else mod."""
    if getattr(mod, "qconfig", None) is None:
        return mod
    if type(mod) in mapping:
        new_mod = mapping[type(mod)].from_float(mod)
        for pre_hook in mod._forward_pre_hooks.values():
            new_mod.register_forward_pre_hook(pre_hook)
        for key, hook in mod._forward_hooks.items():
            if hook is not _observer_forward_hook:
                new_mod.register_forward_hook(hook)
        return new_mod
    return mod


def _convert(module, mapping, inplace, unsupported):
    if not inplace:
        module = copy.deepcopy(module)
    reassign = {}
    for name, child in module.named_children():
        if getattr(child, "qconfig", None) is not None and \
                type(child).__name__ in unsupported and type(child) not in mapping and \
                type(child).__module__.startswith("gpujit.nn"):
            raise NotImplementedError(
                f"gpujit's eager-mode quantization has no quantized {type(child).__name__} "
                f"(torch.ao.nn.quantized has one): quantize it with qconfig=None or keep it "
                f"outside the QuantStub / DeQuantStub region")
        from gpujit.ao.nn.intrinsic import _FusedModule
        if not isinstance(child, _FusedModule):     # (a fusion converts as one)
            _convert(child, mapping, True, unsupported)
        reassign[name] = swap_module(child, mapping)
    for key, value in reassign.items():
        module._modules[key] = value
    return module


def convert(module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False,
            convert_custom_config_dict=None, use_precomputed_fake_quant=False):
    """The calibrated model with its observed modules swapped for quantized ones."""
    if is_reference:
        raise NotImplementedError("gpujit's convert has no reference quantized modules "
                                  "(is_reference=True)")
    if not inplace:
        module = copy.deepcopy(module)
    if mapping is None:
        mapping = get_default_static_quant_module_mappings()
    _convert(module, mapping, True, _UNSUPPORTED_STATIC)
    if remove_qconfig:
        _remove_qconfig(module)
    return module


def quantize(model, run_fn, run_args, mapping=None, inplace=False):
    """prepare, run_fn(model, run_args) to calibrate, convert."""
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    prepare(model, inplace=True)
    run_fn(model, *run_args) if isinstance(run_args, (list, tuple)) else run_fn(model, run_args)
    convert(model, mapping, inplace=True)
    return model


def prepare_qat(model, mapping=None, inplace=False):
    """The model for quantization-aware training: its Linear modules swapped for
    torch.ao.nn.qat.Linear (weights fake-quantized), FakeQuantize observers on their
    outputs (qconfig.activation: default_qat_qconfig / get_default_qat_qconfig)."""
    if not model.training:
        raise AssertionError("prepare_qat only works on models in training mode")
    if mapping is None:
        mapping = get_default_qat_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    propagate_qconfig_(model, qconfig_dict=None)
    from gpujit.ao.nn.intrinsic import _FusedModule
    for m in model.modules():
        if isinstance(m, _FusedModule) and getattr(m, "qconfig", None) is not None:
            raise NotImplementedError(f"gpujit's prepare_qat has no QAT {type(m).__name__} "
                                      f"(torch.ao.nn.intrinsic.qat): prepare it unfused")
    convert(model, mapping=mapping, inplace=True, remove_qconfig=False)
    prepare(model, observer_non_leaf_module_list=set(mapping.values()), inplace=True)
    return model


def quantize_qat(model, run_fn, run_args, inplace=False):
    """prepare_qat, run_fn(model, *run_args) to train, convert (in eval mode)."""
    if not inplace:
        model = copy.deepcopy(model)
    model.train()
    prepare_qat(model, inplace=True)
    run_fn(model, *run_args)
    convert(model, inplace=True)
    return model


def quantize_dynamic(model, qconfig_spec=None, dtype=torch.qint8, mapping=None,
                     inplace=False):
    """The model with its Linear modules (those of qconfig_spec: a set of types or names,
    or a dict to QConfigs) swapped for dynamically quantized ones."""
    if qconfig_spec is None:
        if dtype is torch.qint8:
            qconfig_spec = {nn.Linear: default_dynamic_qconfig}
        elif dtype is torch.float16:
            qconfig_spec = {nn.Linear: float16_dynamic_qconfig}
        else:
            raise ValueError(f"Don't know how to quantize with default settings for {dtype}. "
                             f"Provide full qconfig please")
    elif isinstance(qconfig_spec, set):
        if dtype is torch.qint8:
            default_qconfig = default_dynamic_qconfig
        elif dtype is torch.float16:
            default_qconfig = float16_dynamic_qconfig
        else:
            raise RuntimeError("Unknown dtype specified for quantize_dynamic: ", str(dtype))
        qconfig_spec = dict(zip(qconfig_spec, [default_qconfig] * len(qconfig_spec)))
    if dtype is torch.float16:
        raise NotImplementedError("gpujit's quantize_dynamic has no float16 dynamic linear "
                                  "(quantized::linear_dynamic_fp16)")
    if mapping is None:
        mapping = get_default_dynamic_quant_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    _convert(model, mapping, True, _UNSUPPORTED_DYNAMIC)
    _remove_qconfig(model)
    return model


def add_quant_dequant(module):
    """Wraps every leaf module with a qconfig in a QuantWrapper."""
    if _has_no_children(module) and getattr(module, "qconfig", None):
        return QuantWrapper(module)
    for name, child in module.named_children():
        module._modules[name] = add_quant_dequant(child)
    return module


def _get_module(model, name):
    for part in name.split("."):
        model = getattr(model, part)
    return model


def _set_module(model, name, new):
    *path, last = name.split(".")
    for part in path:
        model = getattr(model, part)
    setattr(model, last, new)


def _fuse_conv_bn(is_qat, conv, bn):
    """conv with bn folded in (eval mode: nn.utils.fuse_conv_bn_eval)."""
    if conv.training != bn.training:
        raise AssertionError("Conv and BN both must be in the same mode (train or eval).")
    if is_qat:
        raise NotImplementedError(f"gpujit has no QAT ConvBn (torch.ao.nn.intrinsic."
                                  f"ConvBn{type(conv).__name__[-2:]}): fuse in eval mode")
    return nn.utils.fusion.fuse_conv_bn_eval(conv, bn)


def _fuse_conv_bn_relu(is_qat, conv, bn, relu):
    """ConvReLU{1,2,3}d of conv with bn folded in, and relu (eval mode)."""
    from gpujit.ao.nn import intrinsic as nni
    if not (conv.training == bn.training == relu.training):
        raise AssertionError("Conv and BN both must be in the same mode (train or eval).")
    fused = _fuse_conv_bn(is_qat, conv, bn)
    return {nn.Conv1d: nni.ConvReLU1d, nn.Conv2d: nni.ConvReLU2d,
            nn.Conv3d: nni.ConvReLU3d}[type(conv)](fused, relu)


def _fuse_linear_bn(is_qat, linear, bn):
    if linear.training != bn.training:
        raise AssertionError("Linear and BN both must be in the same mode (train or eval).")
    if is_qat:
        raise NotImplementedError("gpujit has no QAT LinearBn1d (torch.ao.nn.intrinsic.qat):"
                                  " fuse in eval mode")
    return nn.utils.fusion.fuse_linear_bn_eval(linear, bn)


def _default_fuser_methods():
    """PyTorch's default fuser method mapping (fuser_method_mappings.py), types ->
    fn(is_qat, *modules)."""
    from gpujit.ao.nn import intrinsic as nni

    def seq(cls):
        return lambda is_qat, a, b: cls(a, b)
    out = {(nn.Linear, nn.ReLU): seq(nni.LinearReLU),
           (nn.BatchNorm2d, nn.ReLU): seq(nni.BNReLU2d),
           (nn.BatchNorm3d, nn.ReLU): seq(nni.BNReLU3d),
           (nn.Linear, nn.BatchNorm1d): _fuse_linear_bn}
    for conv, bn, fused in ((nn.Conv1d, nn.BatchNorm1d, nni.ConvReLU1d),
                            (nn.Conv2d, nn.BatchNorm2d, nni.ConvReLU2d),
                            (nn.Conv3d, nn.BatchNorm3d, nni.ConvReLU3d)):
        out[(conv, bn)] = _fuse_conv_bn
        out[(conv, bn, nn.ReLU)] = _fuse_conv_bn_relu
        out[(conv, nn.ReLU)] = seq(fused)
    return out


def fuse_known_modules(mod_list, is_qat=False, additional_fuser_method_mapping=None):
    """The fusion of mod_list (PyTorch's default fuser methods: Linear / Conv + ReLU,
    Conv + BatchNorm (+ ReLU) folded in eval mode, BatchNorm + ReLU, Linear + BatchNorm1d)
    followed by Identity modules for the rest."""
    types = tuple(type(m) for m in mod_list)
    methods = {**_default_fuser_methods(), **(additional_fuser_method_mapping or {})}
    if types not in methods:
        raise AssertionError(f"did not find fuser method for: {types} ")
    fused = methods[types](is_qat, *mod_list)
    for hook in mod_list[0]._forward_pre_hooks.values():
        fused.register_forward_pre_hook(hook)
    mod_list[0]._forward_pre_hooks.clear()
    for hook in mod_list[-1]._forward_hooks.values():
        fused.register_forward_hook(hook)
    mod_list[-1]._forward_hooks.clear()
    out = [fused]
    for _ in mod_list[1:]:
        identity = nn.Identity()
        identity.training = mod_list[0].training
        out.append(identity)
    return out


def fuse_modules(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules,
                 fuse_custom_config_dict=None):
    """The model with each list of submodule names in modules_to_fuse (one list, or a list
    of them) replaced by their fusion (the first) and Identity modules (the rest)."""
    if not inplace:
        model = copy.deepcopy(model)
    groups = modules_to_fuse if all(isinstance(g, (list, tuple)) for g in modules_to_fuse) \
        else [modules_to_fuse]
    extra = (fuse_custom_config_dict or {}).get("additional_fuser_method_mapping", {})
    for names in groups:
        mods = [_get_module(model, n) for n in names]
        for n, new in zip(names, fuser_func(mods, False, extra)):
            _set_module(model, n, new)
    return model
