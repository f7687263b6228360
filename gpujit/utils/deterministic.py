"""torch.utils.deterministic: fill_uninitialized_memory, whether empty tensors made while
deterministic algorithms are on have their memory filled (True by default, as torch's)."""
import sys
import types

from .. import runtime_flags as _flags


class _Deterministic(types.ModuleType):
    @property
    def fill_uninitialized_memory(self):
        """Whether to fill uninitialized memory with a known value when
        torch.use_deterministic_algorithms() is set to True."""
        return _flags._state["fill_uninitialized_memory"]

    @fill_uninitialized_memory.setter
    def fill_uninitialized_memory(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"expected a bool, but got {type(mode).__name__}")
        _flags._state["fill_uninitialized_memory"] = mode


sys.modules[__name__].__class__ = _Deterministic
