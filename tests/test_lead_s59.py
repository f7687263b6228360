"""Session 59 (lead): a scripted Generator's seed() / initial_seed() is TorchScript's int
(int64: a uint64 seed past 2**63 is negative), so int ops on it work whatever the seed."""
import os

import gpujit as torch


def test_scripted_seed_past_int64_is_a_negative_int(monkeypatch):
    monkeypatch.setattr(os, "urandom", lambda n: b"\xff" * (n - 1) + b"\xfe")

    def f():
        g = torch.Generator()
        s = g.seed()
        return s, g.initial_seed() != 3, g.initial_seed()
    s, differs, initial = torch.jit.script(f)()
    assert s == initial == 0xfeffffffffffffff - (1 << 64) and differs
    g = torch.Generator()                       # (eager: Python's unsigned int, as torch)
    assert g.seed() == 0xfeffffffffffffff == g.initial_seed()
