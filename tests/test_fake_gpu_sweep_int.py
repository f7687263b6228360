"""The GPU tier's sweeps against the NumPy-backed CuPy (see test_fake_gpu.py and
test_fake_gpu_sweep.py): every fusible op in int32, and every op in vector loops (the
kernels that load and store several elements per thread) in float32."""
from test_fake_gpu import VECTOR_SWEEP, run_fake_tier, sweep_ids


def test_every_fusible_op_int32_and_vector_loops_against_a_numpy_backed_cupy(tmp_path):
    run_fake_tier(tmp_path, sweep_ids("int32") + [f"{VECTOR_SWEEP}[float32]"])
