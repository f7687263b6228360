"""torch.optim.swap_in_optimizer_params_and_state (torch 2.13, torch/optim/_stateless.py):
for a `with` block, an optimizer steps other parameters with a state_dict()-shaped state,
the live ones restored on exit. torch's in-place state updates reach the given state's
tensors; gpujit's optimizers move state into flat storage at a step (optimizer.py), so
the new values are copied back into those tensors after each step and on exit."""
from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any

from ..tensor import Tensor

__all__ = ["swap_in_optimizer_params_and_state"]

_NAME = "swap_in_optimizer_params_and_state"


def _validate_state_field(state):
    if not isinstance(state, dict):
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['state'] to be a dict mapping packed "
            f"parameter ids to per-param state dicts, got {type(state).__name__}.")
    if any(isinstance(k, Tensor) for k in state):
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style state keyed by "
                           "packed parameter ids.")
    if any(isinstance(k, int) and not isinstance(v, dict) for k, v in state.items()):
        raise RuntimeError(f"{_NAME} requires per-parameter optimizer state entries to be "
                           "dictionaries.")
    return state


def _validate_group_against_live(idx, group, swapin_group):
    if not isinstance(swapin_group, dict):
        raise RuntimeError(f"{_NAME} requires each optimizer param group to be a dictionary.")
    ids = swapin_group.get("params")
    if not isinstance(ids, list) or not all(isinstance(pid, int) for pid in ids):
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style "
                           "param_groups[*]['params'] entries keyed by packed parameter ids.")
    if len(group["params"]) != len(ids):
        raise RuntimeError(f"swapin_optim_state param group {idx} has a different number of "
                           "params than the live optimizer param group.")
    swapin_only = [k for k in swapin_group if k not in group]
    live_only = [k for k in group if k not in swapin_group]
    if swapin_only or live_only:
        raise RuntimeError(
            f"{_NAME} requires optimizer.state_dict()-style param group keys to exactly "
            f"match the live optimizer group keys for group {idx}. Keys only in swap-in: "
            f"{swapin_only}. Keys only in live: {live_only}.")
    return ids


def _prepare_swap_in(optimizer, swapin_parameters, swapin_optim_state):
    """(state keyed by packed id, [(live group, swap-in group, its parameters)])."""
    if not optimizer.state:
        raise RuntimeError(f"{_NAME} requires initialized optimizer state.")
    if not isinstance(swapin_optim_state, dict):
        raise RuntimeError(f"{_NAME} requires a DCP-style optimizer state_dict.")
    state = _validate_state_field(swapin_optim_state.get("state"))
    groups = swapin_optim_state.get("param_groups")
    if not isinstance(groups, list):
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['param_groups'] to be a list of "
            f"param-group dicts, got {type(groups).__name__}.")
    if len(optimizer.param_groups) != len(groups):
        raise RuntimeError("swapin_optim_state has a different number of parameter groups "
                           "than the live optimizer.")
    flat = list(swapin_parameters.values())
    offset, seen, infos = 0, set(), []
    for idx, (group, swapin_group) in enumerate(zip(optimizer.param_groups, groups)):
        ids = _validate_group_against_live(idx, group, swapin_group)
        seen.update(ids)
        if offset + len(ids) > len(flat):
            raise RuntimeError(f"{_NAME} requires the explicit parameter state to match "
                               "optimizer.param_groups ordering.")
        infos.append((group, swapin_group, flat[offset:offset + len(ids)]))
        offset += len(ids)
    extra = [k for k in state if k not in seen]
    if extra:
        raise RuntimeError(
            f"{_NAME} requires swapin_optim_state['state'] to be keyed only by packed "
            f"parameter ids from param_groups[*]['params']; got extra keys {extra!r}.")
    return state, infos


def _write_back(pairs):
    """Copy each swapped-in state value the optimizer replaced (its flat storage's view)
    into the given state's own tensor, in place, as torch's in-place updates leave it."""
    for mine, given in pairs:
        for k, old in given.items():
            new = mine.get(k)
            if (isinstance(old, Tensor) and isinstance(new, Tensor) and new is not old
                    and tuple(new.shape) == tuple(old.shape)):
                old.copy_(new.detach())


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters: dict[str, Tensor],
                                       swapin_optim_state: dict[str, Any]):
    """Temporarily replace an optimizer's parameters and state with the supplied params
    and optim states (an optimizer.state_dict()-shaped dict), then restore them on exit.
    Only in-place tensor edits propagate back to swapin_optim_state."""
    state, infos = _prepare_swap_in(optimizer, swapin_parameters, swapin_optim_state)
    original_state = optimizer.state
    snapshots = [dict(g) for g in optimizer.param_groups]
    pairs = []
    handle = None
    try:
        swapin_state = defaultdict(dict)
        for group, swapin_group, params in infos:
            group["params"] = params
            for key, value in swapin_group.items():
                if key != "params":
                    group[key] = value
            for p, pid in zip(params, swapin_group["params"]):
                given = state.get(pid, {})
                # (a shallow copy: in-place updates reach the caller's tensors, a new
                # entry stays here)
                swapin_state[p] = dict(given)
                pairs.append((swapin_state[p], given))
        optimizer.state = swapin_state
        handle = optimizer.register_step_post_hook(lambda *_: _write_back(pairs))
        yield
    finally:
        if handle is not None:
            handle.remove()
        _write_back(pairs)
        for group, snapshot in zip(optimizer.param_groups, snapshots):
            group.clear()
            group.update(snapshot)
        optimizer.state = original_state


swap_in_optimizer_params_and_state.__module__ = "gpujit.optim"
