"""`GPUJIT_DUMP`: what gpujit prints as it generates code (README, "Seeing what gpujit
generates"). One parser for every layer that prints: entries are comma-separated, spaces
and case do not matter (`GPUJIT_DUMP="Fusion, kernels"`), and an entry gpujit does not
know is named in a warning once (rather than printing nothing without a word)."""
from __future__ import annotations

import os
import warnings

__all__ = ["DUMP_FLAGS", "dump_flags", "dumping", "names_gave_up"]

DUMP_FLAGS = ("ops", "graph", "code", "fusion", "kernels", "recompile", "names")
_warned: set = set()


def dump_flags() -> set:
    """The GPUJIT_DUMP entries (read at each call: a program may set it as it runs)."""
    flags = {f.strip().lower() for f in os.environ.get("GPUJIT_DUMP", "").split(",")}
    flags.discard("")
    unknown = flags.difference(DUMP_FLAGS, _warned)
    if unknown:
        _warned.update(unknown)
        warnings.warn(f"GPUJIT_DUMP: unknown entr{'ies' if len(unknown) > 1 else 'y'} "
                      f"{', '.join(map(repr, sorted(unknown)))} (known: "
                      f"{', '.join(DUMP_FLAGS)})", UserWarning, stacklevel=2)
    return flags


def dumping(flag: str) -> bool:
    """Does GPUJIT_DUMP ask for `flag`?"""
    return flag in dump_flags()


def names_gave_up(replay: str, where: str, why: str) -> None:
    """GPUJIT_DUMP=names: a replay of torch's value names or numbers (a scripted
    function's, a traced graph's) that did not apply, and the node it stopped at: the
    graph keeps gpujit's own names there, which prints otherwise without a word."""
    if dumping("names"):
        print(f"[gpujit] names: {replay} of {where} gave up: {why}")
