"""Session 54 (c54): modules scripted alike share one type only where their constants
are equal values of one kind, as torch 2.13 decides.

gpujit compared two modules' constants with Python's ==, where 0 == 0.0 == False: while
a scripted nn.Dropout(0.0) was alive, torch.jit.script(nn.Dropout(0)) took its type and
its compiled forward (p a float 0.) instead of refusing the int p as torch does, and
tests/test_script_lang_s40.py failed after tests/test_jit_generated_modules_port.py
(TransformerEncoderLayer(..., 0.0)) when the garbage collector had not yet freed it.
torch 2.13 (checked): Flag(True, (1, 2)) and Flag(1, (1.0, 2)) below script to
`return (True, 1)` -> Tuple[bool, int] and `return (1, 1.)` -> Tuple[int, float]."""
import pytest

import gpujit as torch
from gpujit import nn


class Flag(nn.Module):
    __constants__ = ["flag", "pair"]

    def __init__(self, flag, pair):
        super().__init__()
        self.flag = flag
        self.pair = pair

    def forward(self, x):
        return self.flag, self.pair[0]


def test_constants_of_another_kind_make_another_type():
    x = torch.zeros(1)
    a = torch.jit.script(Flag(True, (1, 2)))
    b = torch.jit.script(Flag(1, (1.0, 2)))
    c = torch.jit.script(Flag(True, (1, 2)))
    assert a(x) == (True, 1) and type(a(x)[0]) is bool and type(a(x)[1]) is int
    assert b(x) == (1, 1.0) and type(b(x)[0]) is int and type(b(x)[1]) is float
    assert "-> Tuple[bool, int]:" in a.code and "return (True, 1)" in a.code
    assert "-> Tuple[int, float]:" in b.code and "return (1, 1.)" in b.code
    assert c.forward.graph is a.forward.graph        # (equal constants: one shared type)
    assert b.forward.graph is not a.forward.graph


def test_int_dropout_refused_while_a_float_one_is_alive():
    keep = torch.jit.script(nn.Dropout(0.0))
    with pytest.raises(RuntimeError, match="Expected a value of type 'float' for argument "
                                           "'p' but instead found type 'int'."):
        torch.jit.script(nn.Dropout(0))
    assert "__torch__.torch.nn.functional.dropout(input, 0., training, False, )" in keep.code
