"""The GPU tier's op-by-op device comparison (test_opinfo.py's cuda-marked tests: every
registry op's OpInfo samples on CUDA against the CPU, through gpujit.testing's
assert_consistent) against the NumPy-backed CuPy (see test_fake_gpu.py): its own file so
that pytest-xdist runs it beside the rest. It catches a CuPy path that answers differently
from the CPU one without a GPU (topk's order among ties did, from 2026-12-04 until
session 38, unseen: no GPU was lent)."""
from test_fake_gpu import run_fake_tier


def test_every_op_on_cuda_matches_the_cpu_against_a_numpy_backed_cupy(tmp_path):
    run_fake_tier(tmp_path, ["test_opinfo.py"])
