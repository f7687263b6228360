"""torch.cuda's random-number state: the default generator of each CUDA device (see
gpujit/ops/random.py). As torch's, seeding works without a GPU (it takes effect when a
device's generator is made) and so does set_rng_state (a no-op then); reading a state or
the initial seed needs a GPU."""
from __future__ import annotations

from ..device import cupy_or_none

__all__ = ["get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed"]


def _rng():
    from ..ops import random as _random
    return _random


def _dev(device):
    return None if isinstance(device, str) and device == "cuda" else device


def get_rng_state(device="cuda"):
    """The device's generator state as a uint8 CPU tensor."""
    return _rng().cuda_get_rng_state(_dev(device))


def get_rng_state_all() -> list:
    from . import device_count
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state(new_state, device="cuda") -> None:
    """Restore a state from get_rng_state (a no-op without a GPU, as torch's lazy call)."""
    if cupy_or_none() is None:
        return
    _rng().cuda_set_rng_state(new_state, _dev(device))


def set_rng_state_all(new_states) -> None:
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def manual_seed(seed) -> None:
    """Seed the generator of the current CUDA device (takes effect lazily without a GPU)."""
    _rng().cuda_manual_seed(int(seed))


def manual_seed_all(seed) -> None:
    """Seed the generators of all CUDA devices."""
    _rng().cuda_manual_seed_all(int(seed))


def seed() -> None:
    """Seed the current device's generator with a random number."""
    _rng().cuda_seed()


def seed_all() -> None:
    """Seed every device's generator with one random number."""
    _rng().cuda_seed_all()


def initial_seed() -> int:
    """The current device's seed."""
    return _rng().cuda_initial_seed()
