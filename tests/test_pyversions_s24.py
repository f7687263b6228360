"""Python-version differences gpujit must absorb (3.10 - 3.13): each test runs on every
Python; the ones named for a version fail without their fix only on that version."""
import copy
import dataclasses
import sys

import gpujit as torch


@dataclasses.dataclass
class _Pt:
    x: float
    y: float

    def norm2(self) -> float:
        return self.x * self.x + self.y * self.y


def test_py313_scripted_dataclass_skips_dataclasses_replace():
    # Python 3.13's @dataclass adds __replace__ (dataclasses._replace, `**changes`):
    # TorchScript never compiles it; scripting the class must not fail on it
    P = torch.jit.script(_Pt)

    @torch.jit.script
    def f(a: float, b: float) -> float:
        return P(a, b).norm2()
    assert f(3.0, 4.0) == 25.0
    if sys.version_info >= (3, 13):
        assert copy.replace(_Pt(1.0, 2.0), y=5.0) == _Pt(1.0, 5.0)


@dataclasses.dataclass
class _WithReplace:
    x: int

    def __replace__(self, x: int) -> int:      # the class's own: compiled as any method
        return self.x + x


def test_own_replace_method_is_compiled():
    C = torch.jit.script(_WithReplace)

    @torch.jit.script
    def f(a: int) -> int:
        return C(a).__replace__(2)
    assert f(3) == 5
