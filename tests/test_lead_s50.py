"""Session 50 (lead): numba helpers' disk cache invalidated by a change in a sibling
helper file (a kernel that inlines another file's function)."""
import os
import subprocess
import sys
import textwrap

from cache_seed import warm
from gpujit.ops import numba_helpers


def _write(path, text):
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))


def test_helper_digest_covers_sibling_helper_files_only(tmp_path):
    _write(tmp_path / "k1.py", "from gpujit.ops.numba_helpers import njit\n")
    _write(tmp_path / "k2.py", "from gpujit.ops.numba_helpers import njit\nC = 1\n")
    _write(tmp_path / "plain.py", "X = 1\n")
    d0 = numba_helpers._helper_files_digest(str(tmp_path / "k1.py"))
    numba_helpers._digests.clear()
    _write(tmp_path / "plain.py", "X = 2\n")
    assert numba_helpers._helper_files_digest(str(tmp_path / "k1.py")) == d0
    numba_helpers._digests.clear()
    _write(tmp_path / "k2.py", "from gpujit.ops.numba_helpers import njit\nC = 2\n")
    assert numba_helpers._helper_files_digest(str(tmp_path / "k1.py")) != d0
    numba_helpers._digests.clear()


def test_cached_kernel_recompiles_when_an_inlined_sibling_changes(tmp_path):
    """A kernel of k_main.py inlines k_lib.py's function (as the softmax rows inline
    _aten_erf_kernel's Sleef expf): after k_lib.py changes (an upgrade), a new process
    must not load k_main's cached object with the old body."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    _write(pkg / "__init__.py", "")
    _write(pkg / "k_lib.py", """\
        from gpujit.ops.numba_helpers import njit
        def _scale_py(x):
            return x * 2.0
        scale = njit(_scale_py, inline="always")
        """)
    _write(pkg / "k_main.py", """\
        from gpujit.ops.numba_helpers import njit
        from .k_lib import scale
        def _run_py(x):
            return scale(x) + 1.0
        run = njit(_run_py)
        """)
    env = dict(os.environ, GPUJIT_CACHE_DIR=warm(tmp_path / "cache", numba_helpers=False),
               PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    prog = "from pkg.k_main import run; print(run(3.0))"

    def run():
        out = subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()
    assert run() == "7.0"
    assert run() == "7.0"                       # (loaded from the cache)
    assert any(n.endswith(".nbi") for _, _, fs in os.walk(tmp_path / "cache") for n in fs)
    _write(pkg / "k_lib.py", """\
        from gpujit.ops.numba_helpers import njit
        def _scale_py(x):
            return x * 3.0
        scale = njit(_scale_py, inline="always")
        """)
    assert run() == "10.0"


def test_linear_recorder_leaves_bfloat16_and_float16_to_their_own_path():
    """b50's hand-written F.linear recorder took a bfloat16 tensor (its array is float32)
    as float32: products not rounded to bfloat16, gradients unlike the scripted module's.
    With grad, the output equals the no-grad output bit for bit and holds bfloat16 values."""
    import numpy as np

    import gpujit
    F = gpujit.nn.functional
    for _ in range(2):      # (float32 calls first: the recorder is installed by one)
        F.linear(gpujit.randn(3, 8), gpujit.randn(4, 8, requires_grad=True),
                 gpujit.randn(4, requires_grad=True)).sum().backward()
    for dt in (gpujit.bfloat16, gpujit.float16):
        gpujit.manual_seed(0)
        x = gpujit.randn(5, 8).to(dt)
        w = gpujit.randn(16, 8).to(dt).requires_grad_()
        b = gpujit.randn(16).to(dt).requires_grad_()
        y = F.linear(x, w, b)
        with gpujit.no_grad():
            want = F.linear(x, w, b)
        assert y.dtype is dt and y.grad_fn is not None
        got_f, want_f = y.detach().float().numpy(), want.float().numpy()
        np.testing.assert_array_equal(got_f, want_f)
        np.testing.assert_array_equal(got_f, y.detach().float().to(dt).float().numpy())
        y.sum().backward()
        assert w.grad.dtype is dt and b.grad.dtype is dt
