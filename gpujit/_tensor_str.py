"""PyTorch-like tensor printing."""
from __future__ import annotations

import numpy as np


def tensor_repr(t):
    a = np.asarray(t._data if t.device.type == "cpu" else t._data.get())
    body = np.array2string(a, separator=", ", prefix="tensor(")
    return f"tensor({body})"
