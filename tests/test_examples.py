"""The examples run as a user runs them."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_eager_mycell_example_runs():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "eager_mycell.py")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "(linear): Linear(in_features=4, out_features=4, bias=True)" in out.stdout
    assert out.stdout.count("tensor([[") == 2
