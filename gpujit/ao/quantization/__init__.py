"""torch.ao.quantization (also torch.quantization): eager-mode quantization. Observers
(observer.py), FakeQuantize (fake_quantize.py), QConfig and PyTorch's defaults
(qconfig.py), QuantStub / DeQuantStub (stubs.py), prepare / convert / quantize /
quantize_dynamic (quantize.py); the quantized modules are torch.ao.nn.quantized."""
from .observer import (
    ObserverBase, UniformQuantizationObserverBase, MinMaxObserver,
    MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver, HistogramObserver, PlaceholderObserver,
    NoopObserver, RecordingObserver, FixedQParamsObserver, default_observer,
    default_weight_observer, default_per_channel_weight_observer,
    default_dynamic_quant_observer, default_placeholder_observer,
    default_float_qparams_observer, default_histogram_observer, default_debug_observer,
    per_channel_weight_observer_range_neg_127_to_127,
    weight_observer_range_neg_127_to_127, check_min_max_valid, calculate_qmin_qmax)
from .fake_quantize import (
    FakeQuantizeBase, FakeQuantize, FusedMovingAvgObsFakeQuantize, default_fake_quant,
    default_fused_act_fake_quant, default_fused_wt_fake_quant,
    default_fused_per_channel_wt_fake_quant, default_weight_fake_quant,
    default_per_channel_weight_fake_quant, disable_fake_quant, enable_fake_quant,
    disable_observer, enable_observer)
from .qconfig import (
    QConfig, QConfigDynamic, default_qconfig, default_debug_qconfig,
    default_per_channel_qconfig, default_dynamic_qconfig, float16_dynamic_qconfig,
    float16_static_qconfig, per_channel_dynamic_qconfig,
    float_qparams_weight_only_qconfig, default_qat_qconfig, default_weight_only_qconfig,
    default_activation_only_qconfig, get_default_qconfig, get_default_qat_qconfig,
    qconfig_equals)
from .stubs import (
    QuantStub, DeQuantStub, QuantWrapper)
from .quantize import (
    propagate_qconfig_, add_quant_dequant, prepare, quantize, fuse_modules, prepare_qat,
    quantize_qat, get_default_qat_module_mappings, quantize_dynamic, convert,
    swap_module, get_default_static_quant_module_mappings,
    get_default_dynamic_quant_module_mappings, get_default_qconfig_propagation_list)
from . import fake_quantize, observer, qconfig, stubs

__all__ = [
    'ObserverBase', 'UniformQuantizationObserverBase', 'MinMaxObserver',
    'MovingAverageMinMaxObserver', 'PerChannelMinMaxObserver',
    'MovingAveragePerChannelMinMaxObserver', 'HistogramObserver', 'PlaceholderObserver',
    'NoopObserver', 'RecordingObserver', 'FixedQParamsObserver', 'default_observer',
    'default_weight_observer', 'default_per_channel_weight_observer',
    'default_dynamic_quant_observer', 'default_placeholder_observer',
    'default_float_qparams_observer', 'default_histogram_observer',
    'default_debug_observer', 'per_channel_weight_observer_range_neg_127_to_127',
    'weight_observer_range_neg_127_to_127', 'check_min_max_valid',
    'calculate_qmin_qmax', 'FakeQuantizeBase', 'FakeQuantize',
    'FusedMovingAvgObsFakeQuantize', 'default_fake_quant',
    'default_fused_act_fake_quant', 'default_fused_wt_fake_quant',
    'default_fused_per_channel_wt_fake_quant', 'default_weight_fake_quant',
    'default_per_channel_weight_fake_quant', 'disable_fake_quant', 'enable_fake_quant',
    'disable_observer', 'enable_observer', 'QConfig', 'QConfigDynamic',
    'default_qconfig', 'default_debug_qconfig', 'default_per_channel_qconfig',
    'default_dynamic_qconfig', 'float16_dynamic_qconfig', 'float16_static_qconfig',
    'per_channel_dynamic_qconfig', 'float_qparams_weight_only_qconfig',
    'default_qat_qconfig', 'default_weight_only_qconfig',
    'default_activation_only_qconfig', 'get_default_qconfig', 'get_default_qat_qconfig',
    'qconfig_equals', 'QuantStub', 'DeQuantStub', 'QuantWrapper', 'propagate_qconfig_',
    'add_quant_dequant', 'prepare', 'quantize', 'fuse_modules', 'prepare_qat',
    'quantize_qat', 'get_default_qat_module_mappings', 'quantize_dynamic', 'convert',
    'swap_module', 'get_default_static_quant_module_mappings',
    'get_default_dynamic_quant_module_mappings', 'get_default_qconfig_propagation_list',
    'observer', 'fake_quantize', 'qconfig', 'stubs']
