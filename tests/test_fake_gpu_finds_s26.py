"""Session 26's finds of the GPU tier run against the NumPy-backed CuPy (tests/fakecupy):
`@pytest.mark.cuda` tests, compared with the CPU (and NumPy), that run on a GPU and, through
tests/test_fake_gpu_s26.py, against the fake CuPy on machines without one."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_multinomial_without_replacement_checks_the_probabilities_on_every_device(device):
    # PyTorch checks the distribution before sampling without replacement (or one sample)
    # on every device (.item(): a host sync), and samples zero-probability categories
    # once the others run out instead of refusing
    t = lambda v: gpujit.tensor(v, device=device)    # noqa: E731
    for bad in ([-0.5, 1.5], [np.nan, 1.0], [np.inf, 1.0]):
        with pytest.raises(RuntimeError, match="contains either `inf`, `nan` or element < 0"):
            gpujit.multinomial(t(bad), 1)
        with pytest.raises(RuntimeError, match="contains either `inf`, `nan` or element < 0"):
            gpujit.multinomial(t([bad, [1.0, 1.0]]), 2)
    with pytest.raises(RuntimeError, match=r"sum of probabilities <= 0"):
        gpujit.multinomial(t([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), 1)
    r = gpujit.multinomial(t([0.0, 0.0, 1.0]), 3)
    assert r.device.type == device and r[0].item() == 2
    assert sorted(r.tolist()) == [0, 1, 2]
    assert gpujit.multinomial(t(np.zeros((0, 3))), 1).shape == (0, 1)


def test_multinomial_with_replacement_checks_each_entry_on_the_cpu():
    for bad, msg in (([-0.5, 1.5], "entry < 0"), ([np.nan, 1.0], "entry < 0"),
                     ([np.inf, 1.0], "entry = infinity or NaN"), ([0.0, 0.0], "<= 0")):
        with pytest.raises(RuntimeError, match=msg):
            gpujit.multinomial(gpujit.tensor(bad), 2, replacement=True)
