"""Anomaly detection (torch.autograd.detect_anomaly / set_detect_anomaly): with it on,
every backward node keeps the traceback of the forward call that made it, a backward
node that fails warns with that traceback, and (check_nan) a node whose gradients hold
NaN raises PyTorch's "Function 'XBackward0' returned nan values in its 0th output."."""
from __future__ import annotations

import os
import traceback
import warnings

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]


class _State:
    """Process-wide, as PyTorch's AnomalyMode is (not per thread)."""
    enabled = False
    check_nan = True


state = _State()

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def is_anomaly_enabled() -> bool:
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return state.check_nan


def set_anomaly_enabled(enabled, check_nan=True):
    state.enabled = bool(enabled)
    state.check_nan = bool(check_nan)


class detect_anomaly:
    """Context manager that turns anomaly detection on (warns that it is slow)."""

    def __init__(self, check_nan=True):
        self.prev = state.enabled
        self.check_nan = check_nan
        self.prev_check_nan = state.check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the "
                      "runtime and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


class set_detect_anomaly:
    """Turns anomaly detection on or off at once; as a context manager, restores the
    previous setting when left."""

    def __init__(self, mode, check_nan=True):
        self.prev = state.enabled
        self.prev_check_nan = state.check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        return None

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


def forward_traceback():
    """The user's stack at a recording op call, as PyTorch's node metadata['traceback_']
    holds it (a list of formatted frames; gpujit's own frames at the end left out)."""
    frames = traceback.extract_stack()[:-1]
    while frames and (frames[-1].filename.startswith(_PKG)
                      or frames[-1].filename.startswith(("<gpujit op", "<gpujit recorder"))):
        frames.pop()
    return traceback.format_list(frames)


def run_checked(node, full):
    """node.apply(full) under anomaly mode: NaN gradients raise, and any error warns
    with the traceback of the forward call that made the node."""
    try:
        in_grads = node.apply(full)
        if state.check_nan:
            from . import grad_mode
            for i, g in enumerate(in_grads):
                if g is not None and g._dtype.is_floating_point:
                    with grad_mode.no_grad():
                        bad = bool(g.isnan().any())
                    if bad:
                        raise RuntimeError(f"Function '{node.name()}' returned nan values "
                                           f"in its {i}th output.")
        return in_grads
    except Exception:
        tb = node.metadata.get("traceback_")
        if tb:
            warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that "
                          f"caused the error:\n{''.join(tb)}", stacklevel=2)
        else:
            warnings.warn(f"Error detected in {node.name()}. No forward pass information "
                          f"available. Enable detect anomaly during forward pass for more "
                          f"information.", stacklevel=2)
        raise
