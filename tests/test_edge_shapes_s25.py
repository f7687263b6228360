"""Edge shapes of registry ops (session 25, helper g25): 0-size and 0-dim tensors, size-1
dims, non-dense views and swapped dtypes, as PyTorch answers them.

Found by a differential sweep over the registry's OpInfo samples against PyTorch (each
sample's tensors made 0-size along one dim, 0-dim, size-1, transposed, strided, expanded,
cast to other dtypes; results, dtypes, shapes, errors and the gradients of the 0-size and
0-dim variants compared). Expected values here are NumPy or written out."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F


# ------------------------------------------------------------ random ops on 0-dim tensors

@pytest.mark.parametrize("seed", range(4))
def test_dropout_0dim_requires_grad(seed):
    # the eager body's result of a 0-dim input is a NumPy scalar: stashing the keep mask
    # for backward took a weak reference to it (TypeError)
    x = gpujit.tensor(2.0, requires_grad=True)
    gpujit.manual_seed(seed)
    y = F.dropout(x, 0.3, True)
    assert y.shape == ()
    y.backward()
    kept = float(y) != 0.0
    assert float(x.grad) == pytest.approx(1 / 0.7 if kept else 0.0)
    assert float(y) == pytest.approx(2.0 / 0.7 if kept else 0.0)


def test_rrelu_0dim_requires_grad():
    x = gpujit.tensor(-2.0, requires_grad=True)
    gpujit.manual_seed(0)
    y = F.rrelu(x, training=True)
    y.backward()
    slope = float(x.grad)
    assert 1 / 8 <= slope <= 1 / 3
    assert float(y) == pytest.approx(-2.0 * slope)
