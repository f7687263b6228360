"""torch.jit._state: the switch that makes script and trace hand back what they are given
(to debug in Python). Off when GPUJIT_JIT=0 (or PYTORCH_JIT=0, for code ported from
PyTorch) is in the environment, read at each call, or after `disable()` until `enable()`."""
import os


class EnabledProxy:
    """torch.jit._state._enabled: truthy while the JIT is on."""

    def __init__(self):
        self.switched_on = True

    @property
    def enabled(self) -> bool:
        if not self.switched_on:
            return False
        for var in ("GPUJIT_JIT", "PYTORCH_JIT"):
            if os.environ.get(var, "1").strip().lower() in ("0", "false", "off", "no"):
                return False
        return True

    def __bool__(self):
        return self.enabled


_enabled = EnabledProxy()


def disable():
    _enabled.switched_on = False


def enable():
    _enabled.switched_on = True
