"""GPUJIT_DUMP=names (b61): where a replay of torch's value names (a scripted function's)
or numbers (a traced module's graph, a submodule call's graph) does not apply, gpujit says
which construct or node made it give up, instead of printing its own names without a
word; unset, nothing is printed."""
from typing import Dict, List

import gpujit as torch

nn = torch.nn


def _dictcomp(x: List[int]) -> Dict[int, int]:
    y = x
    return {a: a + 1 for a in y}


class Sub(nn.Module):
    def forward(self, x):
        return x + self.saved


class Caller(nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = Sub()

    def forward(self, x):
        self.sub.saved = x * 2          # (the call reads a value its caller made)
        return self.sub(x)


def test_scripted_give_up_named(monkeypatch, capsys):
    monkeypatch.setenv("GPUJIT_DUMP", "names")
    torch.jit.script(_dictcomp)
    out = capsys.readouterr().out
    assert "[gpujit] names: scripted names of _dictcomp (test_names_dump_b61.py:12) gave " \
           "up: DictComp (the statement at line 14)" in out


def test_traced_give_up_named(monkeypatch, capsys):
    monkeypatch.setenv("GPUJIT_DUMP", "names")
    torch.jit.trace(Caller(), torch.rand(2), check_trace=False)
    out = capsys.readouterr().out
    assert "[gpujit] names: traced numbers of Caller's graph gave up: a call stays " \
           "inline: sub" in out


def test_quiet_without_the_flag(monkeypatch, capsys):
    monkeypatch.delenv("GPUJIT_DUMP", raising=False)
    torch.jit.script(_dictcomp)
    torch.jit.trace(Caller(), torch.rand(2), check_trace=False)
    assert "[gpujit] names" not in capsys.readouterr().out


def test_a_graph_that_replays_says_nothing(monkeypatch, capsys):
    monkeypatch.setenv("GPUJIT_DUMP", "names")

    def plain(x: int) -> int:
        return x + 1
    torch.jit.script(plain)
    torch.jit.trace(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), torch.rand(1, 2))
    assert "[gpujit] names" not in capsys.readouterr().out
