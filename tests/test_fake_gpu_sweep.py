"""The GPU tier's sweep of every fusible op against the NumPy-backed CuPy (see
test_fake_gpu.py), float32: its own file so that pytest-xdist runs it beside the rest.
Each op's kernel is emulated thread by thread from its text, so one float and one integer
dtype run here (test_fake_gpu_sweep_int.py); every dtype's kernels run for real on the GPU
tier and under numba's simulator in test_kernels_sim."""
from test_fake_gpu import run_fake_tier, sweep_ids


def test_every_fusible_op_float32_against_a_numpy_backed_cupy(tmp_path):
    run_fake_tier(tmp_path, sweep_ids("float32"))
