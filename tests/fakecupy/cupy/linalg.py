import numpy as _np
from . import _wrap_func, _SIGS


def __getattr__(name):
    if "linalg." + name not in _SIGS["submodule_names"]:
        raise AttributeError(f"fake cupy: module 'cupy.linalg' has no attribute {name!r}")
    f = getattr(_np.linalg, name)
    return _wrap_func("linalg." + name, f) if callable(f) and not isinstance(f, type) else f
