"""OpInfos of the complex-view ops on real tensors (gpujit/ops/conj_real.py): each hands
back its input."""
from __future__ import annotations

from . import OpInfo, Sample, rand


def _same(name):
    return OpInfo(name, ref=lambda x: x,
                  samples=[Sample(rand(3, 4)), Sample(rand()), Sample(rand(2, 3).T.copy().T),
                           Sample(rand(5, dtype="int64"))])


OPINFOS = [_same(f"aten::{n}") for n in
           ("conj", "conj_physical", "resolve_conj", "resolve_neg", "real")]
