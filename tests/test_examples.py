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


def _train_mlp():
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        import train_mlp
    finally:
        sys.path.pop(0)
    return train_mlp


def test_train_mlp_reaches_95_percent_eager_scripted_and_traced_alike():
    """The example, with a small budget: every run reaches 95% held-out accuracy, and the
    scripted and traced models train to the same weights as the eager one (same seed, same
    steps)."""
    tm = _train_mlp()
    lines = []
    acc_e, m_e = tm.train(points=2000, epochs=12, batch=64, lr=2e-2, log=lines.append)
    assert acc_e >= 0.95, (acc_e, lines)
    assert "held-out accuracy" in lines[-1] and len(lines) == 12
    import numpy as np
    for mode in ("script", "trace"):
        acc, m = tm.train(points=2000, epochs=12, batch=64, lr=2e-2, log=lambda s: None,
                          **{mode: True})
        assert acc >= 0.95, (mode, acc)
        for (n, a), (_, b) in zip(m_e.state_dict().items(), m.state_dict().items()):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5,
                                       err_msg=f"{mode}: {n}")


def test_train_mlp_command_line():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_mlp.py"),
                          "--points", "1000", "--epochs", "2", "--target", "0"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("epoch ") == 2 and "held-out accuracy" in out.stdout


import pytest  # noqa: E402


@pytest.mark.cuda
def test_train_mlp_on_cuda():
    tm = _train_mlp()
    acc, model = tm.train(points=2000, epochs=12, batch=64, lr=2e-2, device="cuda",
                          log=lambda s: None)
    # (the epochs' shuffles come from the CUDA generator, not the CPU's PyTorch stream the
    # CPU test's 95% was measured with: a fixed small budget lands near it, 0.94-0.96)
    assert acc >= 0.9
    assert next(model.parameters()).device.type == "cuda"
