import numpy as _np
from . import _wrap_func, _SIGS


def __getattr__(name):
    if "fft." + name not in _SIGS["submodule_names"]:
        raise AttributeError(f"fake cupy: module 'cupy.fft' has no attribute {name!r}")
    f = getattr(_np.fft, name)
    return _wrap_func("fft." + name, f) if callable(f) and not isinstance(f, type) else f
