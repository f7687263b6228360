"""Session 27 device leftovers (helper h27): the kernel names in linalg's dtype errors
follow the device (on cuda the cuSOLVER / cuBLAS kernel ATen's cuda/linalg sources dispatch
to, by size), and torch.histc of integers on cuda (PyTorch's CUDA kernel takes them).
Expected CPU values checked against torch 2.13; CUDA names read in ATen's sources."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import gpujit
from cache_seed import warm

HERE = os.path.dirname(os.path.abspath(__file__))

CPU_ERRORS = [
    (lambda h: gpujit.linalg.det(h(2, 2)), "\"lu_cpu\" not implemented for 'Half'"),
    (lambda h: gpujit.linalg.cholesky(h(2, 2)), "\"cholesky_cpu\" not implemented for 'Half'"),
    (lambda h: gpujit.linalg.qr(h(2, 2)), "\"geqrf_cpu\" not implemented for 'Half'"),
    (lambda h: gpujit.linalg.lu_solve(h(2, 2), gpujit.ones(2, dtype=gpujit.int32), h(2, 1)),
     "\"linalg.lu_solve_cpu\" not implemented for 'Half'"),
    (lambda h: gpujit.ormqr(h(2, 2), h(2), h(2, 2)), "\"ormqr_cpu\" not implemented for 'Half'"),
    (lambda h: gpujit.geqrf(gpujit.ones(2, 2, dtype=gpujit.int64)),
     "\"geqrf_cpu\" not implemented for 'Long'"),
]


@pytest.mark.parametrize("i", range(len(CPU_ERRORS)))
def test_linalg_kernel_errors_on_the_cpu_are_pytorchs_message_alone(i):
    f, msg = CPU_ERRORS[i]
    with pytest.raises(NotImplementedError) as e:
        f(lambda *s: gpujit.ones(*s, dtype=gpujit.float16))
    assert str(e.value) == msg


def test_lu_solve_of_an_empty_b_is_no_error():
    # PyTorch returns before its kernel when there is nothing to solve
    r = gpujit.linalg.lu_solve(gpujit.ones(0, 0, dtype=gpujit.float16),
                               gpujit.ones(0, dtype=gpujit.int32),
                               gpujit.ones(0, 1, dtype=gpujit.float16))
    assert tuple(r.shape) == (0, 1)


def _under_fake_cupy(src, tmp_path):
    path = os.pathsep.join(p for p in (os.path.join(HERE, "fakecupy"),
                                       os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONPATH=path, FAKECUPY_NDEV="2", FAKECUPY_STRICT_DEVICE="1",
               GPUJIT_CACHE_DIR=warm(tmp_path))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    script = tmp_path / "snippet_s27b.py"
    script.write_text(textwrap.dedent(src))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


CUDA_NAMES = {
    "det": "lu_factor_cusolver", "det_b2": "lu_factor_cublas", "det_b3": "lu_factor_cublas",
    "det_b2_big": "lu_factor_cusolver", "solve": "lu_factor_cusolver",
    "cholesky": "cholesky_cusolver", "qr": "geqrf_cuda", "geqrf_b4": "geqrf_batched_cuda",
    "eigh": "linalg_eigh_cuda", "svd": "svd_cuda_gesvdjBatched", "svd40": "svd_cuda_gesvdj",
    "svd_gesvd": "svd_cuda_gesvd", "hh": "orgqr_cuda", "ormqr": "orgmr_cuda",
    "tri": "triangular_solve_cuda", "lu_solve": "lu_solve_cublas",
    "lu_solve_20x1": "lu_solve_cusolver", "lu_solve_200": "triangular_solve_cuda",
    "chol_solve": "cholesky_cuda_potrs", "chol_solve_b": "triangular_solve_cuda",
    "chol_inv": "cholesky_cuda_potrs", "geqrf_long": "geqrf_cuda",
}


@pytest.mark.cuda
def test_linalg_kernel_names_on_cuda(tmp_path):
    out = _under_fake_cupy("""
        import gpujit as T
        h = lambda *s: T.ones(*s, dtype=T.float16, device="cuda")
        piv = lambda *s: T.ones(*s, dtype=T.int32, device="cuda")
        cases = {
            "det": lambda: T.linalg.det(h(2, 2)), "det_b2": lambda: T.linalg.det(h(2, 2, 2)),
            "det_b3": lambda: T.linalg.det(h(3, 2, 2)),
            "det_b2_big": lambda: T.linalg.det(h(2, 70, 70)),
            "solve": lambda: T.linalg.solve(h(2, 2), h(2, 1)),
            "cholesky": lambda: T.linalg.cholesky(h(3, 2, 2)),
            "qr": lambda: T.linalg.qr(h(2, 2)), "geqrf_b4": lambda: T.geqrf(h(4, 2, 2)),
            "eigh": lambda: T.linalg.eigh(h(2, 2)), "svd": lambda: T.linalg.svd(h(2, 2)),
            "svd40": lambda: T.linalg.svd(h(40, 40)),
            "svd_gesvd": lambda: T.linalg.svd(h(2, 2), driver="gesvd"),
            "hh": lambda: T.linalg.householder_product(h(3, 2), h(2)),
            "ormqr": lambda: T.ormqr(h(2, 2), h(2), h(2, 2)),
            "tri": lambda: T.linalg.solve_triangular(h(2, 2), h(2, 1), upper=True),
            "lu_solve": lambda: T.linalg.lu_solve(h(2, 2), piv(2), h(2, 1)),
            "lu_solve_20x1": lambda: T.linalg.lu_solve(h(20, 20), piv(20), h(20, 1)),
            "lu_solve_200": lambda: T.linalg.lu_solve(h(200, 200), piv(200), h(200, 3)),
            "chol_solve": lambda: T.cholesky_solve(h(2, 1), h(2, 2)),
            "chol_solve_b": lambda: T.cholesky_solve(h(3, 2, 1), h(3, 2, 2)),
            "chol_inv": lambda: T.cholesky_inverse(h(2, 2)),
            "geqrf_long": lambda: T.geqrf(T.ones(2, 2, dtype=T.int64, device="cuda")),
        }
        for k, f in cases.items():
            try:
                f()
                print(k, "OK")
            except NotImplementedError as e:
                print(k, str(e))
    """, tmp_path)
    got = dict(line.split(" ", 1) for line in out.splitlines())
    for k, name in CUDA_NAMES.items():
        dt = "Long" if k == "geqrf_long" else "Half"
        assert got[k] == f"\"{name}\" not implemented for '{dt}'", (k, got[k])


@pytest.mark.cuda
def test_histc_of_integers_on_cuda(tmp_path):
    out = _under_fake_cupy("""
        import gpujit as T
        print(T.histc(T.arange(4, device="cuda"), bins=4).tolist())
        r = T.histc(T.tensor([1, 2, 2, 5, 9], dtype=T.int32, device="cuda"), bins=3, min=0,
                    max=9)
        print(r.tolist(), r.dtype, r.device)
        for f in (lambda: T.histc(T.ones(3, dtype=T.float16, device="cuda")),
                  lambda: T.histc(T.ones(3, dtype=T.bool, device="cuda"))):
            try:
                f()
            except RuntimeError as e:
                print(type(e).__name__, e)
    """, tmp_path)
    assert out.splitlines() == [
        "[1, 1, 1, 1]", "[3, 1, 1] gpujit.int32 cuda:0",
        "RuntimeError HalfTensor is not supported",
        "NotImplementedError \"histc\" not implemented for 'Bool'"]


def test_histc_of_integers_on_the_cpu_is_still_refused():
    with pytest.raises(NotImplementedError, match="\"histogram_cpu\" not implemented for 'Long'"):
        gpujit.histc(gpujit.arange(4), bins=4)
