"""torch.jit.script of a bound method (b61): torch 2.13 compiles the method's function,
its `self` a parameter like another (an unannotated one: an inferred Tensor), so a module's
forward reading `self.l` is an error naming the attribute, and a method that reads no
attribute is a ScriptFunction of all its parameters (gpujit refused both: "scripting a
method of an nn.Module ... is not supported yet in this build")."""
import pytest

import gpujit as torch

nn = torch.nn


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.Linear(2, 2)

    def forward(self, x):
        return self.l(x) * 2

    def other(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1


class Plain:
    def twice(self, y: int) -> int:
        return y * 2


def test_forward_reading_an_attribute_is_torchs_error():
    with pytest.raises(RuntimeError, match=r"'Tensor \(inferred\)' object has no attribute "
                                           r"or method 'l'"):
        torch.jit.script(M().forward)


def test_method_compiles_with_self_a_parameter():
    f = torch.jit.script(M().other)
    assert type(f).__name__ == "ScriptFunction"
    assert str(f.graph).startswith("graph(%self : Tensor,\n      %x.1 : Tensor):")
    x = torch.ones(2)
    assert f(x, x).tolist() == [2.0, 2.0]       # (self is x: unused)
    with pytest.raises(RuntimeError, match=r"other\(\) is missing value for argument 'x'. "
                                           r"Declaration: other\(Tensor self, Tensor x\) "
                                           r"-> Tensor"):
        f(x)


def test_plain_class_method():
    # (`self` unannotated: a Tensor; an int given for it is torch's argument error)
    f = torch.jit.script(Plain().twice)
    assert f(torch.ones(1), 3) == 6
    with pytest.raises(RuntimeError, match=r"twice\(\) Expected a value of type 'Tensor "
                                           r"\(inferred\)' for argument 'self'"):
        f(Plain(), 3)
