"""gpujit.autograd: reverse-mode differentiation of eager code (and of compiled code, which
records as eager does). Derivatives live with each op in the registry
(`ops.registry.derivative`), written with registry ops so that a backward can itself be
differentiated (create_graph=True) and, later, traced and fused."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,
                        is_grad_enabled, is_inference_mode_enabled,
                        set_multithreading_enabled, is_multithreading_enabled,
                        is_view_replay_enabled, _force_original_view_tracking)
from .engine import backward, grad, is_checkpoint_valid as _is_checkpoint_valid  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .graph import Node
from .anomaly_mode import (detect_anomaly, set_detect_anomaly, is_anomaly_enabled,  # noqa: E402
                           is_anomaly_check_nan_enabled)
from . import recording as _recording
from . import functional  # noqa: E402,F401  (torch.autograd.functional)
from . import forward_ad  # noqa: E402,F401  (torch.autograd.forward_ad)

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "backward", "grad", "Function", "FunctionCtx",
           "once_differentiable", "gradcheck", "gradgradcheck", "GradcheckError", "Node",
           "detect_anomaly", "set_detect_anomaly", "functional", "graph", "forward_ad",
           "set_multithreading_enabled", "is_multithreading_enabled", "is_view_replay_enabled"]

from . import graph  # noqa: E402,F401  (torch.autograd.graph: Node, saved_tensors_hooks, ...)


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        from ..tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable, kept for old code: `Variable(t, requires_grad=False)` is a
    tensor sharing t's data, cut from t's graph (a leaf), and every Tensor is a Variable."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        from ..tensor import Tensor
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out._set_requires_grad(True)
        return out


__all__.append("Variable")
