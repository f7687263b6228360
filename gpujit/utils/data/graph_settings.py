"""torch.utils.data.graph_settings: settings applied to every DataPipe of a pipeline (the
DataPipes reachable through a DataPipe's attributes): shuffling on or off, the shard of a
ShardingFilter, and the Shufflers' seeds (drawn from one generator, as DataLoader does
when an iterator starts)."""
from __future__ import annotations

import warnings

from .datapipes.datapipe import IterDataPipe, MapDataPipe

__all__ = ["apply_random_seed", "apply_sharding", "apply_shuffle_seed",
           "apply_shuffle_settings", "get_all_graph_pipes"]


def _children(dp):
    for v in vars(dp).values():
        items = v if isinstance(v, (list, tuple)) else (v,)
        for item in items:
            if isinstance(item, (IterDataPipe, MapDataPipe)):
                yield item


def get_all_graph_pipes(datapipe):
    """Every DataPipe of the pipeline ending at datapipe, each once."""
    seen, out, stack = set(), [], [datapipe]
    while stack:
        dp = stack.pop()
        if id(dp) in seen:
            continue
        seen.add(id(dp))
        out.append(dp)
        stack.extend(reversed(list(_children(dp))))
    return out


def _is_shuffle_datapipe(dp):
    return hasattr(dp, "set_shuffle") and hasattr(dp, "set_seed") and \
        callable(dp.set_shuffle) and callable(dp.set_seed)


def apply_sharding(datapipe, num_of_instances, instance_id, sharding_group=None):
    """Give each shardable DataPipe its shard (one per pipeline branch)."""
    for dp in get_all_graph_pipes(datapipe):
        if hasattr(dp, "apply_sharding") and callable(dp.apply_sharding) and \
                getattr(dp, "is_shardable", lambda: True)():
            dp.apply_sharding(num_of_instances, instance_id)
    return datapipe


def apply_shuffle_settings(datapipe, shuffle=None):
    """Turn the Shufflers on or off (adding one at the end, with PyTorch's warning, when
    shuffle=True and there is none)."""
    if shuffle is None:
        return datapipe
    shufflers = [dp for dp in get_all_graph_pipes(datapipe) if _is_shuffle_datapipe(dp)]
    if not shufflers and shuffle:
        warnings.warn("`shuffle=True` was set, but the datapipe does not contain a `Shuffler`. "
                      "Adding one at the end. Be aware that the default buffer size might not "
                      "be sufficient for your task.", stacklevel=2)
        datapipe = datapipe.shuffle()
        shufflers = [datapipe]
    for s in shufflers:
        s.set_shuffle(shuffle)
    return datapipe


def apply_shuffle_seed(datapipe, rng):
    warnings.warn("`apply_shuffle_seed` is deprecated since 1.12 and will be removed in the "
                  "future releases.\nPlease use `apply_random_seed` instead.", stacklevel=2)
    return apply_random_seed(datapipe, rng)


def apply_random_seed(datapipe, rng):
    """Give each Shuffler a seed drawn from the generator rng."""
    import gpujit
    for dp in get_all_graph_pipes(datapipe):
        if _is_shuffle_datapipe(dp):
            seed = int(gpujit.empty((), dtype=gpujit.int64).random_(generator=rng).item())
            dp.set_seed(seed)
    return datapipe
