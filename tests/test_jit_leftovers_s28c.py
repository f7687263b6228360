"""TorchScript leftovers, part 3 (session 28): aten::to.other, devices vs strings, ...
Expectations checked against torch 2.13 (CPU)."""
from __future__ import annotations

from typing import Dict, List, Union

import pytest

import gpujit
import gpujit as torch


# ------------------------------------------------------------------ aten::to.other

def _to_other(x: torch.Tensor, y: torch.Tensor):
    return x.to(y)


def _to_other_copy(x: torch.Tensor, y: torch.Tensor):
    return x.to(y, True, True)


def _to_other_mul(x: torch.Tensor, y: torch.Tensor):
    return x.to(y) * 2


def test_scripted_to_other_is_aten_to_other():
    s = torch.jit.script(_to_other)
    assert [n.kind() for n in s.graph.nodes()] == ["prim::Constant", "prim::Constant",
                                                   "aten::to"]
    assert "torch.to(x, y)" in s.code
    x, y = torch.ones(2), torch.zeros(1, dtype=torch.float64)
    r = s(x, y)
    assert r.dtype is torch.float64 and r.tolist() == [1.0, 1.0]
    assert s(y, y) is y                      # nothing changes: y itself
    c = torch.jit.script(_to_other_copy)
    assert "torch.to(x, y, True, True)" in c.code
    assert c(y, y) is not y and c(y, y).tolist() == [0.0]
    m = torch.jit.script(_to_other_mul)
    for _ in range(3):
        assert m(x, y).tolist() == [2.0, 2.0] and m(x, y).dtype is torch.float64


def test_to_other_op_eager_and_grad():
    op = gpujit.ops.registry.OPS["aten::to.other"]
    x = torch.ones(2, requires_grad=True)
    y = torch.zeros(3, dtype=torch.float64)
    z = op.public(x, y)
    assert z.dtype is torch.float64 and type(z.grad_fn).__name__ == "ToCopyBackward0"
    z.sum().backward()
    assert x.grad.dtype is torch.float32 and x.grad.tolist() == [1.0, 1.0]
    assert op.public(y, y) is y and op.public(y, y, copy=True) is not y


def test_to_other_save_load_roundtrip(tmp_path):
    s = torch.jit.script(_to_other)
    p = tmp_path / "m.pt"
    torch.jit.save(s, str(p))
    s2 = torch.jit.load(str(p))
    assert "torch.to(x, y)" in s2.code
    assert s2(torch.ones(2), torch.zeros(1, dtype=torch.int32)).dtype is torch.int32


# ------------------------------------------------------------------ devices vs strings

def test_device_never_equals_a_str():
    # torch 2.13: any device compared with a str is False (also 'cpu' == x.device)
    x = torch.ones(2)
    d = torch.device("cpu")
    assert not d == "cpu" and d != "cpu" and not x.device == "cpu" and not "cpu" == x.device
    assert "cpu" not in [d] and d not in ["cpu"] and d not in {"cpu"} and d not in {"cpu": 1}
    assert d == torch.device("cpu") and x.device == d and d in [torch.device("cpu")]
    assert d != torch.device("cpu", 0)


def test_to_cpu_0_copies_as_torch():
    # 'cpu:0' is not a CPU tensor's device ('cpu'): torch's to() copies
    x = torch.ones(2)
    assert x.to("cpu") is x and x.to(torch.device("cpu")) is x
    y = x.to("cpu:0")
    assert y is not x and y.device == torch.device("cpu") and y.tolist() == [1.0, 1.0]
    assert x.to(torch.device("cpu", 0)) is not x
    assert x.to(device="cpu:0", dtype=torch.float32) is not x


def _dev_eq_str(x: torch.Tensor):
    return x.device == "cpu"


def _dev_type(d: torch.device):
    return d.type


def test_scripted_device_compares_with_a_device_constant():
    # scripted, the str is TorchScript's Device constant: True (eager: False)
    assert torch.jit.script(_dev_eq_str)(torch.ones(1)) is True


def test_scripted_device_type_is_prim_type():
    s = torch.jit.script(_dev_type)
    assert [n.kind() for n in s.graph.nodes()] == ["prim::type"]
    assert "ops.prim.type(d)" in s.code
    assert s(torch.device("cpu")) == "cpu" and s(torch.device("cuda", 1)) == "cuda"


# ------------------------------------------------------------------ min / max refusals

def _max_mixed(a: float, b: int, c: int):
    return max(a, b, c)


def _max_strs(xs: List[str]):
    return max(xs)


def _min_strs(xs: List[str]):
    return min(xs)


def _max_same(a: int, b: int, c: int):
    return max(a, b, c)


@pytest.mark.parametrize("fn, name", [(_max_strs, "max"), (_min_strs, "min")])
def test_min_max_without_a_torchscript_overload_is_refused(fn, name):
    # torch 2.13: "Arguments for call are not valid", listing prim::max's overloads
    with pytest.raises(RuntimeError, match="Arguments for call are not valid") as e:
        torch.jit.script(fn)
    assert f"{name}.self_int(int[] self) -> int" in str(e.value)


def test_max_of_one_kind_still_works():
    assert torch.jit.script(_max_same)(1, 3, 2) == 3
    # max(float, int, int): TorchScript refuses it; gpujit keeps it on purpose (pairwise,
    # tests/test_script_numbers_s20.py)
    assert torch.jit.script(_max_mixed)(1.0, 3, 2) == 3.0


# ------------------------------------------------------------------ Union arguments

def _union_list(b: Union[List[float], int]):
    return b


def test_union_argument_is_taken_only_as_what_it_is():
    # torch 2.13 infers the value's type, which must be a member: [1, 2] is a List[int]
    s = torch.jit.script(_union_list)
    assert s([1.0, 2.0]) == [1.0, 2.0] and s(3) == 3
    with pytest.raises(RuntimeError, match=r"(?s)Expected a value of type "
                       r"'Union\[List\[float\], int\]' for argument 'b' but instead found "
                       r"type 'list'.*Expected a member of Union\[List\[float\], int\] but "
                       r"instead found type List\[int\]"):
        s([1, 2])
    with pytest.raises(RuntimeError, match=r"Tracer cannot infer type of \[1.0, 2\]\n:List "
                       r"inputs to traced functions must have consistent element type. "
                       r"Found float and int"):
        s([1.0, 2])
    with pytest.raises(RuntimeError, match=r"Tracer cannot infer type of \[\]\n:List trace "
                       r"inputs must have elements"):
        s([])
    with pytest.raises(RuntimeError, match="found type 'tuple'"):
        s((1.0, 2.0))


# ------------------------------------------------------------------ `in`

def _str_in_str(x: str):
    return x in "abc"


def _str_not_in_str(x: str, y: str):
    return x not in y


def _str_in_list(x: str, xs: List[str]):
    return x in xs


def _int_in_list(x: int, xs: List[int]):
    return x in xs


def _key_in_dict(x: str, d: Dict[str, int]):
    return x in d


def _tensor_in_list(x: torch.Tensor, xs: List[torch.Tensor]):
    return x in xs


def test_str_in_str_is_find_as_torchscript():
    # TorchScript inlines str.__contains__: c.find(x, 0, len(c)) != -1
    s = torch.jit.script(_str_in_str)
    assert [n.kind() for n in s.graph.nodes()][-2:] == ["aten::find", "aten::ne"]
    assert "torch.ne(torch.find(\"abc\", x, 0, 3), -1)" in s.code
    assert s("bc") is True and s("ca") is False and s("") is True
    t = torch.jit.script(_str_not_in_str)
    kinds = [n.kind() for n in t.graph.nodes()]
    assert kinds[-4:] == ["aten::len", "aten::find", "aten::ne", "aten::__not__"]
    assert t("a", "xyz") is True and t("yz", "xyz") is False


@pytest.mark.parametrize("fn, args, want", [
    (_str_in_list, ("a", ["b", "a"]), True), (_int_in_list, (3, [1, 2]), False),
    (_key_in_dict, ("k", {"k": 1}), True)])
def test_in_prints_torch_contains_and_loads_back(fn, args, want, tmp_path):
    s = torch.jit.script(fn)
    assert [n.kind() for n in s.graph.nodes()] == ["aten::__contains__"]
    arg = fn.__code__.co_varnames[:2]
    assert f"torch.__contains__({arg[1]}, {arg[0]})" in s.code
    assert s(*args) is want
    p = tmp_path / "m.pt"
    torch.jit.save(s, str(p))
    s2 = torch.jit.load(str(p))
    assert f"torch.__contains__({arg[1]}, {arg[0]})" in s2.code and s2(*args) is want


def test_tensor_in_tensor_list_is_refused():
    with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
        torch.jit.script(_tensor_in_list)


# ------------------------------------------------------------------ isinstance refinement

def _union_isinstance(x: Union[int, str]) -> int:
    if isinstance(x, int):
        return x
    return 0


def test_isinstance_types_print_as_types_and_parse_back():
    s = torch.jit.script(_union_isinstance)
    text = str(s.graph)
    assert "prim::isinstance[types=[int]]" in text
    assert [n.kind() for n in s.graph.nodes()] == ["prim::Constant", "prim::isinstance",
                                                   "prim::If"]
    from gpujit.ir.parser import parse_ir
    g = parse_ir(text)
    assert "prim::isinstance[types=[int]]" in str(g)
    assert s(3) == 3 and s("a") == 0
