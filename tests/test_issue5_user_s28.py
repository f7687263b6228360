"""Issue 5 audited as a PyTorch/TorchScript user (session 28, helper c28): what a user who
knows TorchScript does around the fuser that the earlier audits (test_issue5_audit_s22*,
test_issue5_outside_s26, test_graph_for_guards, test_fusers_strategy) did not try.
Expectations were checked against torch 2.13 (CPU); the tests themselves need no torch."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import gpujit as torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ------------------------------------------------------------------ NumPy scalar arguments
def test_numpy_scalars_for_number_parameters_convert_as_torchscript():
    # torch 2.13: a NumPy bool/number passes for a `bool` parameter, np.True_ and NumPy
    # float32 pass for an `int` one (float64, a Python float, does not), and a float
    # parameter gets a Python float (np.float64 included), fused or not
    @torch.jit.script
    def fb(b: bool) -> bool:
        return b

    @torch.jit.script
    def fi(k: int) -> int:
        return k

    @torch.jit.script
    def fl(s: float) -> float:
        return s

    for _ in range(3):
        for v, want in [(np.bool_(True), True), (np.bool_(False), False),
                        (np.int64(0), False), (np.int64(3), True),
                        (np.float32(2.5), True), (np.uint8(200), True)]:
            r = fb(v)
            assert type(r) is bool and r is want, (v, r)
        for v, want in [(np.bool_(True), 1), (np.bool_(False), 0), (np.int64(7), 7),
                        (np.float32(2.5), 2), (np.uint8(200), 200)]:
            r = fi(v)
            assert type(r) is int and r == want, (v, r)
        for v in [np.float64(0.5), np.float64(3.0)]:
            with pytest.raises(RuntimeError, match="Expected a value of type 'int' for "
                               "argument 'k' but instead found type 'float64'"):
                fi(v)
        for v, want in [(np.float64(0.25), 0.25), (np.float32(2.5), 2.5),
                        (np.bool_(True), 1.0), (np.int64(2), 2.0)]:
            r = fl(v)
            assert type(r) is float and r == want, (v, r)

    @torch.jit.script
    def fused(x, s: float, k: int, b: bool):
        return (x * s + k) * float(b) - x.sigmoid()

    x = torch.arange(4, dtype=torch.float32)
    xn = np.arange(4, dtype=np.float32)
    want = (xn * 1.5 + 2) - 1 / (1 + np.exp(-xn))
    for _ in range(4):
        out = fused(x, np.float64(1.5), np.int64(2), np.bool_(True))
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
        out = fused(x, 1.5, 2, True)
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)



def test_union_parameters_take_a_value_only_as_what_it_is():
    # torch 2.13: no conversion into a Union: an int is not taken for Union[float, str],
    # a bool not for Union[int, float], a Tensor not for a number member; a NumPy
    # integer in a Union[int, float] stays an int (gpujit; torch cannot infer its type)
    from typing import Union

    @torch.jit.script
    def num(b: Union[int, float]):
        return b

    @torch.jit.script
    def fs(b: Union[float, str]):
        return b

    for _ in range(2):
        assert type(num(3)) is int and type(num(2.5)) is float
        assert num(np.int64(3)) == 3 and type(num(np.int64(3))) is int
        assert type(num(np.float32(2.5))) is float
        assert fs(2.5) == 2.5 and fs("a") == "a"
        for f, v, found in [(num, True, "bool"), (num, torch.tensor(2.0), "Tensor"),
                            (fs, 3, "int"), (fs, False, "bool")]:
            with pytest.raises(RuntimeError, match=r"Expected a value of type 'Union\[.*\]' "
                               rf"for argument 'b' but instead found type '{found}'"):
                f(v)


# ------------------------------------------------------------------ python -m gpujit
def _run_main(*argv, timeout=600):
    env = dict(os.environ, GPUJIT_FUSION_TARGET="cpu")
    return subprocess.run([sys.executable, "-m", "gpujit", *argv], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=timeout)


def test_python_m_gpujit_help_lists_its_options_and_runs_nothing():
    r = _run_main("--help", timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: python -m gpujit")
    for opt in ("--device", "--only", "--version", "GPUJIT_DUMP"):
        assert opt in r.stdout
    assert "MyCell" not in r.stdout.split("options:")[1]      # the demo did not run


def _parse_main(capsys, *argv):
    """(exit status, stdout, stderr) of `python -m gpujit <argv>`'s argument parsing, in
    this process (what the command line does before the demo: one process of it above)."""
    from gpujit.__main__ import parse_args
    capsys.readouterr()
    try:
        parse_args(list(argv))
    except SystemExit as e:
        code = e.code
    else:
        code = None
    out, err = capsys.readouterr()
    return code, out, err


def test_python_m_gpujit_version_and_bad_options(capsys):
    code, out, err = _parse_main(capsys, "--version")
    assert code == 0 and out.startswith("gpujit ") and "numpy" in out
    assert out.count("\n") == 1
    code, out, err = _parse_main(capsys, "--bogus")
    assert code == 2 and "unrecognized arguments: --bogus" in err
    assert err.startswith("usage: python -m gpujit")
    code, out, err = _parse_main(capsys, "--device", "tpu")
    assert code == 2 and "--device tpu" in err
    if not torch.cuda.is_available():
        code, out, err = _parse_main(capsys, "--device", "cuda")
        assert code == 2 and "no CUDA GPU found" in err
    assert _parse_main(capsys, "--device", "cpu", "--only", "fusion")[0] is None


def test_python_m_gpujit_only_fusion_on_the_cpu(monkeypatch, capsys):
    # main() in this process (the command line's own process: test_issue5_audit_s22_b's
    # `python -m gpujit`), its eager-vs-fused timings a tenth of their budget: the test
    # reads what is shown, not the times
    import gpujit.__main__ as demo
    monkeypatch.setenv("GPUJIT_FUSION_TARGET", "cpu")
    timed = demo._time_us
    monkeypatch.setattr(demo, "_time_us", lambda fn, budget_s, sync, **kw:
                        timed(fn, budget_s / 10, sync, **kw))
    capsys.readouterr()
    demo.main(["--device", "cpu", "--only", "fusion"])
    out = capsys.readouterr().out
    assert "device: cpu" in out
    assert "prim::TensorExprGroup_0" in out and "speed-up" in out
    assert "an MLP, eager" not in out and "eager op cost" not in out
