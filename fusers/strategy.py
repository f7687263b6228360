"""The fusion strategy: how many specializations a compiled function may make per fusion
group, and of which kind (TorchScript's `torch.jit.set_fusion_strategy`).

    gpujit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 10)])   # the default

Walking the list, the first STATIC-depth specializations of a group bake exact sizes and
strides into the kernel, the next DYNAMIC-depth ones take sizes and strides at run time
(rank, dtype, device, which dims broadcast and contiguity stay fixed). When all are made,
new input types run unfused (the same answers, eager speed), and a warning says so once.
An empty list, or one whose depths are all 0 (`[("DYNAMIC", 0)]`), means: never fuse.

A function copies the strategy in force when it is compiled (its first optimized call):
changing the strategy later affects functions compiled later, not the ones that exist, as
in TorchScript. The copy lives in the function's `FusionBudget`, which counts for each of
its groups separately (a new input shape makes every group of the function specialize
once, as TorchScript's whole-graph specialization does).
"""
from __future__ import annotations

import operator
import threading

__all__ = ["set_fusion_strategy", "get_fusion_strategy", "FusionBudget", "FusionStrategyError",
           "STATIC", "DYNAMIC", "DEFAULT_STRATEGY", "set_fusion_on", "fusion_on",
           "set_fusion_group_inlining", "fusion_group_inlining"]

STATIC, DYNAMIC = "STATIC", "DYNAMIC"
DEFAULT_STRATEGY = ((STATIC, 2), (DYNAMIC, 10))

_strategy = list(DEFAULT_STRATEGY)
_lock = threading.Lock()
_on_device = {"cpu": True, "cuda": True}     # TorchScript's can_fuse_on_cpu / _gpu
_group_inlining = [True]


def set_fusion_on(device_type: str, enabled: bool) -> bool:
    """Allow or forbid fusion of ops on one device type ("cpu" or "cuda"; TorchScript's
    `torch._C._jit_override_can_fuse_on_cpu/gpu`); returns the previous setting. Read when
    a function builds its optimized code."""
    if device_type not in _on_device:
        raise ValueError(f"device type must be 'cpu' or 'cuda', got {device_type!r}")
    prev, _on_device[device_type] = _on_device[device_type], bool(enabled)
    return prev


def fusion_on(device_type: str) -> bool:
    return _on_device.get(device_type, False)


def set_fusion_group_inlining(enabled: bool) -> bool:
    """Put groups of a single op back into the graph (True, the default: a group needs
    two ops) or keep them (False; TorchScript's `torch._C._debug_set_fusion_group_inlining`,
    which PyTorch's fuser tests turn off). Returns the previous setting; read when a
    function builds its optimized code."""
    prev, _group_inlining[0] = _group_inlining[0], bool(enabled)
    return prev


def fusion_group_inlining() -> bool:
    return _group_inlining[0]


class FusionStrategyError(ValueError, TypeError):
    """A strategy of the wrong shape or a depth that is not a non-negative int. Both a
    ValueError (gpujit's documented error) and a TypeError (what torch raises for these)."""


def _validate(strategy) -> list:
    if isinstance(strategy, (str, bytes)) or not hasattr(strategy, "__iter__"):
        raise FusionStrategyError(f"set_fusion_strategy expects a list of (\"STATIC\" | \"DYNAMIC\", "
                         f"depth) pairs, got {strategy!r}")
    out = []
    for item in strategy:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise FusionStrategyError(f"set_fusion_strategy: each entry must be a "
                                      f"(\"STATIC\" | \"DYNAMIC\", depth) pair, got {item!r}")
        name, depth = item
        if not isinstance(name, str) or name not in (STATIC, DYNAMIC):
            error = ValueError if isinstance(name, str) else FusionStrategyError
            # (torch 2.13's words first: "FusionBehavior only supported 'STATIC' or
            # 'DYNAMIC', got: BAD")
            raise error(f"FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: {name} "
                        f"(set_fusion_strategy: unknown specialization kind {name!r}; "
                        f"expected exactly \"STATIC\" or \"DYNAMIC\")")
        try:
            if isinstance(depth, bool):
                raise TypeError
            d = operator.index(depth)
        except TypeError:
            raise FusionStrategyError(f"set_fusion_strategy: the depth of {name} must be an "
                                      f"int, got {depth!r}") from None
        if d < 0:
            raise FusionStrategyError(f"set_fusion_strategy: the depth of {name} must be >= 0, "
                                      f"got {d}")
        if d >= 1 << 64:        # (torch 2.13 takes it as a uint64: TypeError past that)
            raise FusionStrategyError(f"set_fusion_strategy: the depth of {name} must be "
                                      f"< 2**64, got {d}")
        out.append((name, d))
    return out


def set_fusion_strategy(strategy) -> list:
    """Set the process-wide strategy (a list of ("STATIC" | "DYNAMIC", depth) pairs);
    returns the previous one. Bad names raise ValueError; a wrong shape or a depth that
    is not an int >= 0 raises FusionStrategyError, both a ValueError and a TypeError (torch
    raises TypeError for those)."""
    new = _validate(strategy)
    global _strategy
    with _lock:
        prev, _strategy = _strategy, new
    return list(prev)


def get_fusion_strategy() -> list:
    """The strategy in force, as a list of (kind, depth) tuples."""
    return list(_strategy)


def _key(group):
    k = getattr(group, "budget_key", None)
    return group if k is None else k


class FusionBudget:
    """One compiled function's copy of the strategy and what its groups have spent of it.

    `take(group)` says the kind of the group's next specialization ("STATIC", "DYNAMIC")
    or None when its budget is spent; `made(group)` counts what it made; `warned` is set
    once the function has warned that it runs unfused."""

    def __init__(self, strategy=None, name="function"):
        self.strategy = tuple(_validate(get_fusion_strategy() if strategy is None
                                        else strategy))
        self.name = name
        self.total = sum(d for _, d in self.strategy)
        self.warned = False
        self._made: dict = {}           # group -> number of specializations made
        self._groups = 0
        # what the function's groups share and that goes with the function (the layer
        # above keeps its traced backward graphs here: gpujit/jit/autodiff.py)
        self.shared: dict = {}

    def register(self) -> int:
        """A number for a new group of this function (its default name)."""
        self._groups += 1
        return self._groups - 1

    def kind_of(self, k: int):
        """The kind of a group's k-th specialization (0-based), None past the budget."""
        for name, depth in self.strategy:
            if k < depth:
                return name
            k -= depth
        return None

    # A group is counted under its `budget_key` when it has one: the executor gives the
    # k-th group of every specialization of a function the key k, so the budget bounds the
    # function (as TorchScript's whole-graph specializations do), not each copy of a group.

    def next_kind(self, group):
        return self.kind_of(self._made.get(_key(group), 0))

    def take(self, group):
        kind = self.next_kind(group)
        if kind is not None:
            k = _key(group)
            self._made[k] = self._made.get(k, 0) + 1
        return kind

    def made(self, group, kind=None) -> int:
        """How many specializations `group` made (of `kind`, when given)."""
        n = self._made.get(_key(group), 0)
        if kind is None:
            return n
        return sum(1 for k in range(n) if self.kind_of(k) == kind)

    def remaining(self, group) -> dict:
        """{"STATIC": n, "DYNAMIC": m}: what the group may still make."""
        used = self._made.get(_key(group), 0)
        left = {STATIC: 0, DYNAMIC: 0}
        for name, depth in self.strategy:
            take = min(used, depth)
            used -= take
            left[name] += depth - take
        return left

    def __repr__(self):
        return f"FusionBudget({list(self.strategy)!r}, name={self.name!r})"
