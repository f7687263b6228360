"""gpujit.autograd: reverse-mode differentiation of eager code (and of compiled code, which
records as eager does). Derivatives live with each op in the registry
(`ops.registry.derivative`), written with registry ops so that a backward can itself be
differentiated (create_graph=True) and, later, traced and fused."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,
                        is_grad_enabled, is_inference_mode_enabled)
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .graph import Node
from .anomaly_mode import (detect_anomaly, set_detect_anomaly, is_anomaly_enabled,  # noqa: E402
                           is_anomaly_check_nan_enabled)
from . import recording as _recording
from . import functional  # noqa: E402,F401  (torch.autograd.functional)

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "backward", "grad", "Function", "FunctionCtx",
           "once_differentiable", "gradcheck", "gradgradcheck", "GradcheckError", "Node",
           "detect_anomaly", "set_detect_anomaly", "functional", "graph"]

from . import graph  # noqa: E402,F401  (torch.autograd.graph: Node, saved_tensors_hooks, ...)
