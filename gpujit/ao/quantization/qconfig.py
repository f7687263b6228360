"""torch.ao.quantization.qconfig: QConfig (activation and weight observer factories) and
PyTorch's default configurations."""
from __future__ import annotations

from collections import namedtuple

import gpujit as torch

from .fake_quantize import (FakeQuantize, FusedMovingAvgObsFakeQuantize, default_fake_quant,
                            default_fused_per_channel_wt_fake_quant,
                            default_fused_wt_fake_quant,
                            default_per_channel_weight_fake_quant, default_weight_fake_quant)
from .observer import (HistogramObserver, MovingAverageMinMaxObserver,
                       PlaceholderObserver, _PartialWrapper, default_debug_observer, default_dynamic_quant_observer,
                       default_float_qparams_observer, default_observer,
                       default_per_channel_weight_observer, default_placeholder_observer,
                       default_weight_observer)

__all__ = ["QConfig", "QConfigDynamic", "default_qconfig", "default_debug_qconfig",
           "default_per_channel_qconfig", "default_dynamic_qconfig",
           "float16_dynamic_qconfig", "float16_static_qconfig",
           "per_channel_dynamic_qconfig", "float_qparams_weight_only_qconfig",
           "default_qat_qconfig", "default_weight_only_qconfig",
           "default_activation_only_qconfig", "get_default_qconfig",
           "get_default_qat_qconfig", "qconfig_equals"]


class QConfig(namedtuple("QConfig", ["activation", "weight"])):
    """How to observe a module's output (activation) and weight: two factories of
    observers (Observer.with_args(...) or an observer class), not instances."""
    __slots__ = ()

    def __new__(cls, activation, weight):
        if isinstance(activation, torch.nn.Module) or isinstance(weight, torch.nn.Module):
            raise ValueError("QConfig received observer instance, please pass observer class "
                             "instead. Use MyObserver.with_args(x=1) to override arguments "
                             "to constructor if needed")
        return super().__new__(cls, activation, weight)


class QConfigDynamic(namedtuple("QConfigDynamic", ["activation", "weight"])):
    """Deprecated: QConfig with a dynamic activation observer."""
    __slots__ = ()

    def __new__(cls, activation=torch.nn.Identity, weight=torch.nn.Identity):
        if isinstance(weight, torch.nn.Module):
            raise ValueError("QConfigDynamic received observer instance, please pass "
                             "observer class instead. Use MyObserver.with_args(x=1) to "
                             "override arguments to constructor if needed")
        import warnings
        warnings.warn("QConfigDynamic is going to be deprecated in PyTorch 1.12, please use "
                      "QConfig instead")
        return super().__new__(cls, activation, weight)


default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_debug_qconfig = QConfig(weight=default_weight_observer,
                                activation=default_debug_observer)
default_per_channel_qconfig = QConfig(activation=default_observer,
                                      weight=default_per_channel_weight_observer)
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                  weight=default_weight_observer)
float16_dynamic_qconfig = QConfig(
    activation=PlaceholderObserver.with_args(dtype=torch.float16, is_dynamic=True),
    weight=PlaceholderObserver.with_args(dtype=torch.float16))
float16_static_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=torch.float16),
                                 weight=PlaceholderObserver.with_args(dtype=torch.float16))
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
float_qparams_weight_only_qconfig = QConfig(activation=default_placeholder_observer,
                                            weight=default_float_qparams_observer)
default_qat_qconfig = QConfig(activation=default_fake_quant, weight=default_weight_fake_quant)
default_weight_only_qconfig = QConfig(activation=torch.nn.Identity,
                                      weight=default_weight_fake_quant)
default_activation_only_qconfig = QConfig(activation=default_fake_quant,
                                          weight=torch.nn.Identity)


def get_default_qconfig(backend="x86", version=0):
    """The post-training static quantization QConfig of a backend: x86 / fbgemm a
    HistogramObserver of reduced range and per-channel symmetric weights, qnnpack a
    full-range histogram and per-tensor weights, onednn per-channel weights."""
    supported = ["fbgemm", "x86", "qnnpack", "onednn"]
    if backend not in supported:
        raise AssertionError("backend: " + str(backend) +
                             f" not supported. backend must be one of {supported}")
    if version != 0:
        raise AssertionError("Version number: " + str(version) +
                             " in get_default_qconfig is not supported. Version number must "
                             "be 0")
    if backend in ("fbgemm", "x86"):
        return QConfig(activation=HistogramObserver.with_args(reduce_range=True),
                       weight=default_per_channel_weight_observer)
    if backend == "qnnpack":
        return QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                       weight=default_weight_observer)
    return QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                   weight=default_per_channel_weight_observer)


def get_default_qat_qconfig(backend="x86", version=1):
    """The quantization-aware-training QConfig of a backend: version 1 (the default) the
    fused observer + fake quantization modules, version 0 FakeQuantize."""
    supported = ["fbgemm", "x86", "qnnpack", "onednn"]
    if backend not in supported:
        raise AssertionError("backend: " + str(backend) +
                             f" not supported. backend must be one of {supported}")
    if version == 1:
        fused = FusedMovingAvgObsFakeQuantize
        rr = {"fbgemm": True, "x86": True, "qnnpack": False}
        act = fused.with_args(observer=MovingAverageMinMaxObserver, quant_min=0,
                              quant_max=255, reduce_range=rr[backend]) if backend in rr else \
            fused.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255)
        return QConfig(activation=act, weight=default_fused_wt_fake_quant
                       if backend == "qnnpack" else default_fused_per_channel_wt_fake_quant)
    if version != 0:
        raise AssertionError("Version number: " + str(version) +
                             "in get_default_qat_qconfig is not supported. Version number "
                             "must be 0 or 1")
    if backend in ("fbgemm", "x86"):
        act = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0,
                                     quant_max=255, reduce_range=True)
        return QConfig(activation=act, weight=default_per_channel_weight_fake_quant)
    if backend == "qnnpack":
        act = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0,
                                     quant_max=255, reduce_range=False)
        return QConfig(activation=act, weight=default_weight_fake_quant)
    act = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0,
                                 quant_max=255)
    return QConfig(activation=act, weight=default_per_channel_weight_fake_quant)


def _partial_wrapper_equals(a, b):
    if a is b:
        return True
    if isinstance(a, _PartialWrapper) and isinstance(b, _PartialWrapper):
        return a.p.func == b.p.func and a.p.args == b.p.args and \
            a.p.keywords == b.p.keywords
    return False


def qconfig_equals(q1, q2):
    """Whether two QConfigs (or None) configure the same observers."""
    if q1 is None or q2 is None:
        return q1 == q2
    return _partial_wrapper_equals(q1.activation, q2.activation) and \
        _partial_wrapper_equals(q1.weight, q2.weight)

