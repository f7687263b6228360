"""Eager ops compute inf and nan silently, as PyTorch's: NumPy's floating-point
RuntimeWarnings ("divide by zero encountered in log", "invalid value encountered in
reduce") raised inside gpujit's ops do not reach the user (gpujit's warning filter, and
sums through np.add.reduce so that their warnings are gpujit's lines). A user's own NumPy
code still warns."""
import subprocess
import sys

_SCRIPT = r"""
import warnings
import numpy as np
import gpujit as torch
inf = float("inf")
x = torch.tensor([inf, -inf])
x.sum(); x.mean(); x.sum(0); x.prod()
torch.tensor([0.0]).log(); torch.tensor([-1.0]).sqrt(); torch.tensor([0.0]) / 0
torch.tensor([1e30]) * 1e30; torch.tensor([[inf, -inf]]).mean(1, keepdim=True)
print("user:", flush=True)
np.log(np.zeros(1))
"""


def test_ops_do_not_leak_numpy_floating_point_warnings():
    r = subprocess.run([sys.executable, "-W", "default", "-c", _SCRIPT],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "user:" in r.stdout
    lines = [ln for ln in r.stderr.splitlines() if "Warning" in ln]
    assert len(lines) == 1 and "divide by zero encountered in log" in lines[0], r.stderr
