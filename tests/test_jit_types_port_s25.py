"""PyTorch's test/jit/test_types.py: test_unimported_type_resolution, which
tests/test_jit_lang_port_b.py skipped (session 25, helper H25): a `# type: (number) ->
number` comment resolves `number` (TorchScript's C++ resolver fallback) to the Scalar type,
which the graph names `Scalar`; the function takes ints and floats alike.
"""
import gpujit as torch
from gpujit.testing import FileCheck


@torch.jit.script
def _number_plus_one(x):
    # type: (number) -> number
    return x + 1


def test_unimported_type_resolution():
    FileCheck().check("Scalar").run(_number_plus_one.graph)
    assert _number_plus_one(2) == 3 and type(_number_plus_one(2)) is int
    assert _number_plus_one(2.5) == 3.5
    assert "def _number_plus_one(x: number) -> number:" in _number_plus_one.code
