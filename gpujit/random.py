"""gpujit.random: the global generators' seeding and state, as torch.random."""
from .ops.random import (  # noqa: F401
    manual_seed, seed, initial_seed, get_rng_state, set_rng_state,
)
