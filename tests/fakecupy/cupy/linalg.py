import numpy as _np
from . import _wrap_func


def __getattr__(name):
    f = getattr(_np.linalg, name)
    return _wrap_func("linalg." + name, f) if callable(f) and not isinstance(f, type) else f
