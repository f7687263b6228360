"""TorchScript language against torch.jit.script 2.13 (session 38, helper b38): small
programs run under `import torch` and `import gpujit as torch`; torch's answers are
written out here.

Finds, minimised:

1. hash() in scripted code is c10's IValue::hash, the same in every process: an int is
   itself, a bool 1 / 0, None 0; a float libstdc++'s std::hash<double> (0 for +-0.0, else
   the 64-bit MurmurHash2 std::_Hash_bytes of its 8 bytes with seed 0xc70f6907:
   hash(1.5) == 4982507072649106663, a nan -1255316504868620486); a str the same hash of
   its UTF-8 bytes (hash("abc") == 3663726644998027833); a tuple c10::hash_combine of
   its elements' hashes from seed 0 (hash((1, 2)) == 175247769363, hash(()) == 0); a
   device type << 16 | uint8(index) (cpu 255, cpu:0 0). gpujit gave Python's hash (a
   str's differs between processes, a nan 0). An unhashable value's error names its
   static type: "unhashable type: 'List[int]'", 'Dict[str, int]',
   'Enum<__torch__.Color>' (the Enum's qualified name; an Enum member is unhashable in torch 2.13; gpujit hashed
   it); gpujit said 'list' / 'dict'.

2. torch.atleast_1d / 2d / 3d of a list of Tensors, or of several Tensors (packed into
   the list by schema matching), is aten::atleast_2d.Sequence(Tensor[] tensors) ->
   Tensor[] in torch 2.13: `torch.atleast_2d(x, y)` is [x viewed 2-D, y viewed 2-D];
   gpujit refused both ("no variant of 'atleast_2d' accepts (Tensor, Tensor)").
"""
import re
from enum import Enum
from typing import Tuple

import numpy as np
import pytest

import gpujit as torch


class _Color(Enum):
    RED = 1


def _hash_int(a: int):
    return hash(a)


def _hash_float(a: float):
    return hash(a)


def _hash_str(a: str):
    return hash(a)


def _hash_tuple(a: Tuple[int, int]):
    return hash(a)


def _hash_nested():
    return hash(((1, 2), "a", None, True, 2.5))


def _hash_empty_tuple():
    return hash(())


def _hash_devices():
    return hash(torch.device("cpu")), hash(torch.device("cpu", 0))


def _hash_list():
    return hash([1])


def _hash_dict():
    return hash({"a": 1})


def _hash_tuple_with_list():
    return hash((1, [2]))


def _hash_enum():
    return hash(_Color.RED)


@pytest.mark.parametrize("a,want", [(0, 0), (3, 3), (-1, -1), (2 ** 40, 2 ** 40),
                                    (-2 ** 63, -2 ** 63)])
def test_hash_int_is_itself(a, want):
    assert torch.jit.script(_hash_int)(a) == want


@pytest.mark.parametrize("a,want", [
    (0.0, 0), (-0.0, 0), (1.0, 8386164645967068059), (1.5, 4982507072649106663),
    (2.0, 6369015886390043782), (float("inf"), 3377428025507081056),
    (float("-inf"), 6848127736350075394), (float("nan"), -1255316504868620486),
    (-5.25e300, 4902597186522139449)])
def test_hash_float_is_std_hash_double(a, want):
    assert torch.jit.script(_hash_float)(a) == want


@pytest.mark.parametrize("a,want", [
    ("", 6142509188972423790), ("a", 4993892634952068459), ("abc", 3663726644998027833),
    ("é", -2654802552671189131),
    ("héllo wörld, a longer string", -2011523148644091232)])
def test_hash_str_is_std_hash_string(a, want):
    assert torch.jit.script(_hash_str)(a) == want


@pytest.mark.parametrize("a,want", [((0, 0), 175247769566), ((1, 2), 175247769363),
                                    ((2, 1), 175247769427)])
def test_hash_tuple_combines(a, want):
    assert torch.jit.script(_hash_tuple)(a) == want


def test_hash_nested_empty_device():
    assert torch.jit.script(_hash_nested)() == 6471305147656891779
    assert torch.jit.script(_hash_empty_tuple)() == 0
    assert torch.jit.script(_hash_devices)() == (255, 0)


@pytest.mark.parametrize("fn,name", [(_hash_list, "List[int]"),
                                     (_hash_dict, "Dict[str, int]"),
                                     (_hash_tuple_with_list, "List[int]"),
                                     (_hash_enum, "Enum<__torch__.")])
def test_hash_unhashable_names_static_type(fn, name):
    f = torch.jit.script(fn)
    with pytest.raises(RuntimeError, match=re.escape(f"unhashable type: '{name}")):
        f()


def _atleast_2d_args(x: torch.Tensor, y: torch.Tensor):
    return torch.atleast_2d(x, y)


def _atleast_1d_list(x: torch.Tensor, y: torch.Tensor):
    return torch.atleast_1d([x, y])


def _atleast_3d_shapes(x: torch.Tensor, y: torch.Tensor):
    return [t.shape for t in torch.atleast_3d((x, y))]


def _atleast_2d_grad(x: torch.Tensor, y: torch.Tensor):
    r = torch.atleast_2d(x, y)
    s = (r[0] * 2).sum() + (r[1] * 3).sum()
    return torch.autograd.grad([s], [x, y])


def test_atleast_sequence():
    r = torch.jit.script(_atleast_2d_args)(torch.zeros(1), torch.zeros(2))
    assert isinstance(r, list) and [t.shape for t in r] == [(1, 1), (1, 2)]
    r = torch.jit.script(_atleast_1d_list)(torch.tensor(1.0), torch.zeros(2))
    assert [t.shape for t in r] == [(1,), (2,)]
    assert torch.jit.script(_atleast_3d_shapes)(torch.tensor(1.0), torch.ones(2, 2)) == \
        [[1, 1, 1], [2, 2, 1]]
    x = torch.tensor(1.0, requires_grad=True)
    y = torch.ones(2, requires_grad=True)
    gx, gy = torch.jit.script(_atleast_2d_grad)(x, y)
    assert gx.shape == () and float(gx) == 2.0
    np.testing.assert_array_equal(gy.numpy(), [3.0, 3.0])
