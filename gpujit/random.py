"""gpujit.random: the global generators' seeding and state, as torch.random."""
import contextlib

from .ops.random import (  # noqa: F401
    manual_seed, seed, initial_seed, get_rng_state, set_rng_state,
)

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
           "fork_rng"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """As torch.random.fork_rng: the CPU generator's state (and that of each CUDA device in
    `devices`, every visible one when None) is restored when the block exits, so random
    ops inside it do not advance the generators seen outside."""
    if not enabled:
        yield
        return
    if device_type != "cuda":
        raise RuntimeError(f"fork_rng: device type {device_type!r} is not supported "
                           f"(gpujit has CPU and CUDA generators)")
    from . import cuda
    from .ops import random as _random
    if devices is None:
        devices = list(range(cuda.device_count())) if cuda.is_available() else []
    devices = [d if isinstance(d, int) else cuda._index(d) for d in devices]
    cpu_state = get_rng_state()
    gpu_states = [(d, _random.cuda_get_rng_state(d)) for d in devices]
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        for d, st in gpu_states:
            _random.cuda_set_rng_state(st, d)
