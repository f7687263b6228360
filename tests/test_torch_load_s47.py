"""Session 47 (a47): archives gpujit.jit.save writes in PyTorch's format that torch.jit.load
still refused (the survey of tests/conftest.py GPUJIT_TEST_TORCH_LOAD_LOG), each read by
torch.jit.load and run with torch's results when torch is installed, and read back by
gpujit.jit.load (checked against NumPy / hand-computed values, so that CI without torch runs
them too).

1. `for i, v in enumerate(xs)` / `zip(xs, ys)` / enumerate(zip(...)) and comprehensions over
   them: TorchScript's IterableTree, one prim::Loop over prim::min of the lengths of the base
   iterables (enumerate's counter: a range up to 2**63 - 1) reading xs[i]; gpujit's graphs
   held aten::enumerate / aten::zip list nodes that torch.jit.load does not know.
"""
import io
import re
import zipfile
from typing import Dict, List, Tuple, Union

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn


def _save(m):
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    return buf.getvalue()


def _load(data):
    return torch.jit.load(io.BytesIO(data))


def _real():
    return pytest.importorskip("torch")


def _real_load(data):
    return _real().jit.load(io.BytesIO(data))


def _kinds(g):
    return [n.kind for n in g.walk()]


def _plain_code(code):
    """.code without the file names of comments (none) and trailing spaces."""
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


# ---------------------------------------------------------------------- 1. enumerate / zip
def _enum_zip(xs: List[int], ys: List[float], n: int) -> float:
    s = 0.0
    for i, v in enumerate(xs):
        s += i * v
    for a, b in zip(xs, ys):
        s += a * b
    for i, (a, b) in enumerate(zip(xs, ys)):
        s += i + a + b
    for i, v in enumerate(xs, 3):
        s += i * v * 10
    for i, v in enumerate(xs, n):
        s += i - v
    for p in enumerate(ys):
        s += p[0] * p[1]
    return s


def _enum_zip_expected(xs, ys, n):
    s = 0.0
    for i, v in enumerate(xs):
        s += i * v
    for a, b in zip(xs, ys):
        s += a * b
    for i, (a, b) in enumerate(zip(xs, ys)):
        s += i + a + b
    for i, v in enumerate(xs, 3):
        s += i * v * 10
    for i, v in enumerate(xs, n):
        s += i - v
    for p in enumerate(ys):
        s += p[0] * p[1]
    return s


def _enum_containers(d: Dict[str, int], s: str, x: torch.Tensor, ys: List[int]) -> int:
    r = 0
    for i, k in enumerate(d):
        r += i * len(k)
    for i, (k, v) in enumerate(d.items()):
        r += i * v
    for i, c in enumerate(s):
        r += i * len(c)
    for k, v in zip(d.keys(), d.values()):
        r += v
    for row, y in zip(x, ys):
        r += int(row.sum()) * y
    for i, row in enumerate(x, 1):
        r += i * int(row[0])
    return r


def _enum_strings(d: Dict[str, int], s: str) -> int:
    r = 0
    for i, k in enumerate(d):
        r += i * len(k)
    for i, (k, v) in enumerate(d.items()):
        r += i * v
    for i, c in enumerate(s):
        r += i * len(c)
    for k, v in zip(d.keys(), d.values()):
        r += v
    return r


def _comprehensions(xs: List[int], names: List[str]) -> Tuple[List[Tuple[int, int]],
                                                              List[str],
                                                              List[Tuple[int, str]]]:
    a = [(i, v) for i, v in enumerate(xs)]
    b = [f"{k}:{n}:{x}" for k, (n, x) in enumerate(zip(names, xs), 1)]
    c = list(zip(xs, names))
    return a, b, c


@pytest.mark.parametrize("args", [([4, 5, 6], [0.5, 2.0], 7), ([], [1.0], -2),
                                  ([1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0, 5.0], 0)])
def test_enumerate_and_zip_loops_round_trip(args):
    s = torch.jit.script(_enum_zip)
    want = _enum_zip_expected(*args)
    assert s(*args) == want
    assert _load(_save(s))(*args) == want
    assert "aten::enumerate" not in _kinds(s.graph) and "aten::zip" not in _kinds(s.graph)


def test_enumerate_and_zip_loops_load_in_pytorch():
    s = torch.jit.script(_enum_zip)
    t = _real_load(_save(s))
    for args in (([4, 5, 6], [0.5, 2.0], 7), ([], [1.0], -2)):
        assert t(*args) == _enum_zip_expected(*args)


def _enum_zip_code(xs: List[int], ys: List[float]) -> float:
    s = 0.0
    for i, v in enumerate(xs):
        s += i * v
    for a, b in zip(xs, ys):
        s += a * b
    for i, (a, b) in enumerate(zip(xs, ys)):
        s += i + a + b
    for i, v in enumerate(xs, 3):
        s += i * v * 10
    return s


def test_enumerate_and_zip_loops_code_is_torchscripts():
    real = _real()
    for fn in (_enum_zip_code, _enum_strings, _comprehensions):
        assert _plain_code(torch.jit.script(fn).code) == _plain_code(real.jit.script(fn).code)


def test_enumerate_zip_graph_is_one_loop_over_the_least_length():
    g = torch.jit.script(_enum_zip).graph
    text = str(g)
    # the first loop: len(xs) beside enumerate's 2**63 - 1, the counter named i
    assert "prim::Constant[value=9223372036854775807]()" in text
    assert re.search(r"%\d+ : int\[\] = prim::ListConstruct\(%\d+, %\d+\)\n", text)
    assert "block0(%i : int" in text
    assert _kinds(g).count("prim::min") == 6
    # enumerate(xs, 3): range(3, 2**63 - 1)'s length folded, as TorchScript's; the counter
    # aten::__derive_index(i, 3, 1)
    assert "prim::Constant[value=9223372036854775804]()\n" in text
    assert "aten::__derive_index" in _kinds(g)
    # enumerate(xs, n) of an unknown start: no aten::__range_length(n, 2**63 - 1, 1), which
    # wraps around int64 for a negative n in TorchScript (no iteration, a defect); gpujit
    # counts from n as Python
    assert "aten::__range_length" not in _kinds(g)
    s = torch.jit.script(_enum_zip)
    assert s([1, 2], [], -5) == _enum_zip_expected([1, 2], [], -5)


def test_enumerate_over_dicts_strings_and_tensors():
    s = torch.jit.script(_enum_containers)
    d = {"ab": 2, "c": 5}
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    # hand-computed: keys 0*2 + 1*1; items 0*2 + 1*5; chars 0+1+2; values 2+5;
    # rows 3*1 + 7*10; enumerate(x, 1): 1*1 + 2*3 + 3*5
    want = 1 + 5 + 3 + 7 + (3 + 70) + (1 + 6 + 15)
    assert s(d, "xyz", x, [1, 10]) == want
    assert _load(_save(s))(d, "xyz", x, [1, 10]) == want
    real = _real()
    t = _real_load(_save(s))
    assert t(d, "xyz", real.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), [1, 10]) == want


def test_comprehensions_and_list_of_zip():
    s = torch.jit.script(_comprehensions)
    want = ([(0, 4), (1, 5), (2, 6)], ["1:a:4", "2:b:5"], [(4, "a"), (5, "b")])
    assert s([4, 5, 6], ["a", "b"]) == want
    assert _load(_save(s))([4, 5, 6], ["a", "b"]) == want
    assert "aten::enumerate" not in _kinds(s.graph) and "aten::zip" not in _kinds(s.graph)
    assert "aten::list" not in _kinds(s.graph)      # (list(zip(...)) is the list made)
    t = _real_load(_save(s))
    assert t([4, 5, 6], ["a", "b"]) == want


def _zip_value(xs: List[int], ys: List[int]) -> List[Tuple[int, int]]:
    z = zip(xs, ys)
    e = enumerate(ys, 2)
    return z + [(a, b) for a, b in e]


def test_zip_and_enumerate_as_values():
    s = torch.jit.script(_zip_value)
    want = [(1, 3), (2, 4), (2, 3), (3, 4)]
    assert s([1, 2], [3, 4]) == want
    assert _load(_save(s))([1, 2], [3, 4]) == want
    t = _real_load(_save(s))
    assert t([1, 2], [3, 4]) == want


class _Layers(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        self.b = nn.ModuleList([nn.ReLU(), nn.Sigmoid()])

    def forward(self, x, t: Tuple[int, float]):
        for i, m in enumerate(self.a):
            x = m(x) + i
        for m, n in zip(self.a, self.b):
            x = n(m(x))
        for i, (m, n) in enumerate(zip(self.a, self.b), 2):
            x = n(m(x)) * i
        for i, e in enumerate(t):
            x = x + e + i
        return x


def _layers_expected(x, t):
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))     # noqa: E731
    x = np.maximum(x, 0.0) + 0
    x = np.tanh(x) + 1
    x = np.maximum(np.maximum(x, 0.0), 0.0)
    x = sig(np.tanh(x))
    x = np.maximum(np.maximum(x, 0.0), 0.0) * 2
    x = sig(np.tanh(x)) * 3
    x = x + t[0] + 0
    return x + t[1] + 1


def test_module_containers_and_tuples_unroll_as_torchscript():
    m = torch.jit.script(_Layers())
    x = np.array([-1.0, 0.5, 2.0], dtype=np.float32)
    want = _layers_expected(x.astype(np.float64), (3, 0.25))
    got = m(torch.from_numpy(x), (3, 0.25))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    text = str(m.graph)
    assert "prim::Loop" not in text
    # every element read before the body's first copy (a tuple: one prim::TupleUnpack), as
    # torch.jit.script's graph of this module
    lines = [line.split(" = ", 1)[-1] for line in text.splitlines()]
    k = lines.index('prim::GetAttr[name="0"](%b)')
    assert lines[k + 1] == 'prim::GetAttr[name="1"](%b)'
    assert text.count("prim::GetAttr") == 15 and "prim::TupleUnpack(%t)" in text
    np.testing.assert_allclose(_load(_save(m))(torch.from_numpy(x), (3, 0.25)).numpy(), want,
                               rtol=1e-6)
    real = _real()
    t = _real_load(_save(m))
    np.testing.assert_allclose(t(real.from_numpy(x), (3, 0.25)).numpy(), want, rtol=1e-6)


class _Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.ModuleList([nn.ReLU(), nn.Tanh()])

    def forward(self, x, ws: List[float]):
        for m, w in zip(self.a, ws):
            x = m(x) * w
        return x


def test_a_module_container_zipped_with_a_list_is_torchscripts_error():
    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(_Mixed())
    assert "Can not iterate over a module list or tuple with a value that does not have a " \
           "statically determinable length" in str(ei.value)


# ---------------------------------------------------------------------- 2. record_function
def _with_rf(x: torch.Tensor, y: torch.Tensor, name: str) -> torch.Tensor:
    with torch.autograd.profiler.record_function("foo"):
        with torch.autograd.profiler.record_function(name + "_inner"):
            a = x + y
        b = a * 2.0
    return b


def _events(prof_module, fn, *args):
    with prof_module.autograd.profiler.profile() as p:
        out = fn(*args)
    return out, p.function_events


def test_record_function_regions_in_pytorchs_format():
    s = torch.jit.script(_with_rf)
    data = _save(s)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        src = z.read("archive/code/__torch__.py").decode()
    assert "archive/code/__torch__/torch/autograd/profiler.py" in names
    assert "archive/code/__torch__/torch/classes/profiler.py" in names
    # TorchScript's spelling: an object of its record_function class, __init__(name, None)
    assert "_1 = (_0).__init__(\"foo\", None, )\n    with _0:" in src
    assert "record_function(" not in src.replace(".record_function.", ".")
    loaded = _load(data)
    assert [n.attrs.get("name") for n in loaded.graph.walk() if n.kind == "prim::Enter"] \
        == ["record_function"] * 2
    assert '_1 = (_0).__init__("foo", None, )\n  with _0:' in loaded.code
    x = torch.ones(2)
    out, events = _events(torch, loaded, x, x, "n")
    np.testing.assert_array_equal(out.numpy(), [4.0, 4.0])
    (foo,) = [e for e in events if e.name == "foo"]
    assert [e for e in events if e.name == "n_inner"][0] in foo.cpu_children
    real = _real()
    t = _real_load(data)
    out, events = _events(real, t, real.ones(2), real.ones(2), "n")
    np.testing.assert_array_equal(out.numpy(), [4.0, 4.0])
    assert {"foo", "n_inner"} <= {e.name for e in events}


_TORCH_RF_SOURCE = '''
import torch
def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.autograd.profiler.record_function("foo"):
        with torch.autograd.profiler.record_function("nested"):
            a = x + y
        b = a * 2
    return b
'''


def test_torchs_own_record_function_archive_loads_as_regions(tmp_path, monkeypatch):
    real = _real()
    import importlib
    (tmp_path / "_rf_s47_src.py").write_text(_TORCH_RF_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    src = importlib.import_module("_rf_s47_src")
    buf = io.BytesIO()
    real.jit.save(real.jit.script(src.f), buf)
    loaded = _load(buf.getvalue())
    assert '_3 = (_2).__init__("nested", None, )\n    with _2:' in loaded.code
    assert [n.attrs.get("name") for n in loaded.graph.walk() if n.kind == "prim::Enter"] \
        == ["record_function"] * 2
    out, events = _events(torch, loaded, torch.ones(2), torch.ones(2))
    np.testing.assert_array_equal(out.numpy(), [4.0, 4.0])
    assert {"foo", "nested"} <= {e.name for e in events}


# ---------------------------------------------------------------------- 3. awaits / fork
def _delayed(z: int) -> torch.Tensor:
    return torch.eye(2) + z


def _multi(x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    return x + 1, [x * 2]


def _takes(aw: torch.jit._Await[torch.Tensor]) -> torch.Tensor:
    return torch.jit._awaitable_wait(aw) * 3


def _awaits(x: torch.Tensor) -> torch.Tensor:
    aw = torch.jit._awaitable(_delayed, 99)
    aw2 = torch.jit._awaitable_nowait(x + 2)
    aw3 = torch.jit._awaitable(_multi, x)
    a, lst = torch.jit._awaitable_wait(aw3)
    b = torch.jit._awaitable_wait(aw)
    fut = torch.jit.fork(_delayed, 3)
    c = torch.jit.wait(fut)
    return b + c + torch.jit._awaitable_wait(aw2) + a + lst[0] + _takes(aw2)


def _awaits_expected(x):
    eye = np.eye(2, dtype=np.float32)
    return (eye + 99) + (eye + 3) + (x + 2) + (x + 1) + x * 2 + (x + 2) * 3


# (torch.jit.script's .code of the same function in a module of this name, torch 2.13)
_AWAITS_CODE = """def _awaits(x: Tensor) -> Tensor:
  def __awaitable_function():
    _0 = __torch__.test_torch_load_s47._delayed
    return _0(99, )
  aw = awaitable(__awaitable_function)
  aw2 = ops.prim.awaitable_nowait(torch.add(x, 2))
  def __awaitable_function0():
    _1 = __torch__.test_torch_load_s47._multi
    return _1(x, )
  aw3 = awaitable(__awaitable_function0)
  a, lst, = ops.prim.awaitable_wait(aw3)
  b = ops.prim.awaitable_wait(aw)
  def __forked_function():
    _2 = __torch__.test_torch_load_s47._delayed
    return _2(3, )
  fut = fork(__forked_function)
  c = torch.wait(fut)
  _3 = torch.add(torch.add(b, c), ops.prim.awaitable_wait(aw2))
  _4 = torch.add(torch.add(_3, a), lst[0])
  _5 = __torch__.test_torch_load_s47._takes(aw2, )
  return torch.add(_4, _5)
"""


def test_awaits_print_as_torchscripts_closures():
    s = torch.jit.script(_awaits)
    assert s.code == _AWAITS_CODE
    assert "torch.jit._awaitable" not in s.code


def test_awaits_round_trip_and_load_in_pytorch():
    s = torch.jit.script(_awaits)
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    want = _awaits_expected(x)
    np.testing.assert_array_equal(s(torch.from_numpy(x)).numpy(), want)
    data = _save(s)
    loaded = _load(data)
    np.testing.assert_array_equal(loaded(torch.from_numpy(x)).numpy(), want)
    assert "awaitable(__awaitable_function)" in loaded.code
    real = _real()
    t = _real_load(data)
    np.testing.assert_array_equal(t(real.from_numpy(x)).numpy(), want)


# ---------------------------------------------------------------------- 4. Union constants
def _union_none(flag: bool) -> Tuple[str, Union[int, None, str]]:
    x: Union[int, str, None] = None
    if flag:
        y = "foo"
        assert y == "foo"
    if isinstance(x, str):
        r = x
    else:
        r = "bar"
    z: Union[int, None, str] = None
    return r, z


def test_a_none_of_a_union_type_is_torchscripts_plain_none():
    s = torch.jit.script(_union_none)
    assert "annotate(Union" not in s.code
    assert s(True) == ("bar", None)
    data = _save(s)
    loaded = _load(data)
    assert loaded(True) == ("bar", None) and loaded(False) == ("bar", None)
    t = _real_load(data)
    assert t(True) == ("bar", None)


# ---------------------------------------------------------------------- 5. sorted()
def _sorts(xs: List[float], ns: List[int]) -> Tuple[List[float], List[int], List[float]]:
    ys = sorted(xs)
    ms = sorted(ns)
    ms.sort(reverse=True)
    zs = xs.copy()
    zs.sort(reverse=False)
    return ys, ms, zs


def test_sorted_is_torchscripts_one_argument_call():
    s = torch.jit.script(_sorts)
    # (aten::sorted.float(float[](a) input): the list only, `sorted(xs)` in .code)
    assert "ys = sorted(xs)" in s.code and "ms = sorted(ns)" in s.code
    want = ([-1.5, 0.5, 2.0], [3, 2, 1], [-1.5, 0.5, 2.0])
    args = ([2.0, -1.5, 0.5], [1, 3, 2])
    assert s(*args) == want
    data = _save(s)
    assert _load(data)(*args) == want
    real = _real()
    assert _real_load(data)(*args) == want
    assert s.code == real.jit.script(_sorts).code


# ---------------------------------------------------------------------- 6. non-ASCII strs
def _unicode(x: float, s: str) -> Tuple[str, str, bool]:
    a = "{} é {}".format(x, s)
    b = f"ü{int(x)}ß"
    return a, b, s == "é"


@pytest.mark.parametrize("fmt", [None, "gpujit"])
def test_a_str_that_is_not_ascii_is_a_constant_of_the_table(fmt):
    s = torch.jit.script(_unicode)
    # (TorchScript's containsNonASCIIString: its code reader knows no \u escape)
    assert "CONSTANTS.c0" in s.code and "CONSTANTS.c2" in s.code and "\\u" not in s.code
    want = ("1.5 é ö", "ü1ß", False)
    assert s(1.5, "ö") == want
    buf = io.BytesIO()
    torch.jit.save(s, buf, format=fmt)
    loaded = _load(buf.getvalue())
    assert loaded(1.5, "ö") == want and loaded(0.0, "é")[2] is True
    if fmt is None:
        real = _real()
        assert _real_load(buf.getvalue())(1.5, "ö") == want
        assert s.code == real.jit.script(_unicode).code


# ---------------------------------------------------------------------- 7. bools and `in`
def _any_all(bs: List[bool], ns: List[int], b: bool) -> Tuple[bool, bool, bool, bool]:
    return any(bs), all(bs), any(ns) or all(ns), b in []


def test_any_all_of_bools_and_a_bool_in_an_empty_list_are_torchscripts():
    s = torch.jit.script(_any_all)
    # (aten::any.bool / all.bool, `torch.any(xs)` in .code; `b in []`: int_list's
    # __contains__ of aten::Int(b))
    kinds = _kinds(s.graph)
    assert kinds.count("aten::__contains__") == 1 and "aten::Int" in kinds
    assert "torch.any(bs)" in s.code and "torch.all(bs)" in s.code
    cases = [(([True, False], [0, 2], True), (True, False, True, False)),
             (([], [], False), (False, True, True, False)),
             (([True], [0], True), (True, True, False, False))]
    data = _save(s)
    loaded = _load(data)
    for args, want in cases:
        assert s(*args) == want and loaded(*args) == want
    real = _real()
    t = _real_load(data)
    for args, want in cases:
        assert t(*args) == want
    assert s.code == real.jit.script(_any_all).code


def _bool_in(b: bool, bs: List[bool]) -> bool:
    return b in bs


def test_a_bool_in_a_list_of_bools_is_torchscripts_error():
    # (aten::__contains__ has no List[bool] overload: torch.jit.script refuses it)
    with pytest.raises(RuntimeError) as ei:
        torch.jit.script(_bool_in)
    msg = str(ei.value)
    assert msg.startswith("Arguments for call are not valid.\nThe following variants are "
                          "available:\n  \n  aten::__contains__.int_list(int[] l, int item) "
                          "-> bool:\n  Expected a value of type 'List[int]' for argument 'l' "
                          "but instead found type 'List[bool]'.")
    assert "Cannot match a dict to List[bool]." in msg and "return b in bs" in msg


# ---------------------------------------------------------------------- 8. named out tensors
def _outs(x: torch.Tensor, v: torch.Tensor, i: torch.Tensor, v2: torch.Tensor,
          i2: torch.Tensor, v3: torch.Tensor, i3: torch.Tensor) -> torch.Tensor:
    a, b = torch.sort(x, 1, out=(v, i))
    c, d = torch.max(x, 0, max=v2, max_values=i2)       # (PyTorch's names for max.dim_max)
    e, f = torch.topk(x, 2, values=v3, indices=i3)
    return a.sum() + c.sum() + e.sum() + b.sum() + d.sum() + f.sum()


def test_several_out_tensors_are_named_as_torchscript_names_them():
    s = torch.jit.script(_outs)
    assert "torch.sort(x, 1, values=v, indices=i)" in s.code
    assert "torch.max(x, 0, max=v2, max_values=i2)" in s.code
    assert "torch.topk(x, 2, values=v3, indices=i3)" in s.code
    xn = np.array([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]], dtype=np.float32)
    want = (np.sort(xn, 1).sum() + xn.max(0).sum() + -np.sort(-xn, 1)[:, :2].sum()
            + np.argsort(xn, 1).sum() + xn.argmax(0).sum() + np.argsort(-xn, 1)[:, :2].sum())

    def run(mod, fn):
        x = mod.from_numpy(xn)
        outs = [t for _ in range(3) for t in (mod.empty(0), mod.empty(0, dtype=mod.int64))]
        r = fn(x, *outs)
        np.testing.assert_array_equal(outs[0].numpy(), np.sort(xn, 1))
        np.testing.assert_array_equal(outs[3].numpy(), xn.argmax(0))
        np.testing.assert_array_equal(outs[4].numpy(), -np.sort(-xn, 1)[:, :2])
        assert float(r) == float(want)
    run(torch, s)
    data = _save(s)
    run(torch, _load(data))
    real = _real()
    run(real, _real_load(data))


# ---------------------------------------------------------------------- 9. class code layout
class _Two(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


def test_method_parameters_keep_torchscripts_four_spaces_in_class_code():
    data = _save(torch.jit.script(_Two()))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        src = z.read("archive/code/__torch__/test_torch_load_s47.py").decode()
    # (torch.jit.save's layout: the def at 2 spaces, further parameters at 4)
    assert ("  def forward(self: __torch__.test_torch_load_s47._Two,\n    x: Tensor,\n"
            "    y: Tensor) -> Tensor:\n    return torch.add(x, y)\n") in src
    x = np.array([1.0, 2.0], dtype=np.float32)
    np.testing.assert_array_equal(_load(data)(torch.from_numpy(x), torch.from_numpy(x))
                                  .numpy(), 2 * x)
    real = _real()
    np.testing.assert_array_equal(
        _real_load(data)(real.from_numpy(x), real.from_numpy(x)).numpy(), 2 * x)


def _str_tuple_loops(s: str, t: Tuple[int, float]) -> float:
    r = 0.0
    for c in s:
        r += len(c)
    for x in t:
        r += x
    return r


def test_loops_over_a_str_and_a_tuple_are_torchscripts():
    g = torch.jit.script(_str_tuple_loops)
    # a str read by index (no list of its chars), a tuple's elements read first
    assert "aten::list" not in _kinds(g.graph) and "prim::TupleIndex" not in _kinds(g.graph)
    assert "prim::TupleUnpack" in _kinds(g.graph)
    # (TorchScript's str is its UTF-8 bytes: "héllo" has 6, each read as a 1-byte str)
    assert g("héllo", (2, 0.5)) == 8.5
    data = _save(g)
    assert _load(data)("ab", (1, 1.5)) == 4.5
    real = _real()
    assert _real_load(data)("ab", (1, 1.5)) == 4.5
    assert g.code == real.jit.script(_str_tuple_loops).code


def _comp_str_tuple(s: str, t: Tuple[int, float]) -> Tuple[List[str], List[float]]:
    return [c + "x" for c in s], [float(x) * 2.0 for x in t]


def test_comprehensions_over_a_str_and_a_tuple_are_torchscripts():
    g = torch.jit.script(_comp_str_tuple)
    assert "aten::list" not in _kinds(g.graph)
    want = (["ax", "bx"], [2.0, 5.0])           # (a mixed tuple: unrolled, as TorchScript)
    assert g("ab", (1, 2.5)) == want
    data = _save(g)
    assert _load(data)("ab", (1, 2.5)) == want
    real = _real()
    assert _real_load(data)("ab", (1, 2.5)) == want
    assert g.code == real.jit.script(_comp_str_tuple).code


# ---------------------------------------------------------------------- 10. void mutators
def _mutated(xs: List[int], b: int) -> Tuple[str, List[int]]:
    xs += [b] * 2
    r = str(xs)
    xs.clear()
    xs.insert(0, b)
    r = r + str(xs)
    return r, xs


def test_a_mutator_without_a_result_is_a_call_statement_when_its_container_is_read():
    s = torch.jit.script(_mutated)
    # (TorchScript's clear / insert return nothing: `_0 = torch.clear(...)` then read as
    # the list was a () in torch.jit.load; `xs += ...` is its aten::add_.t, which returns
    # the list: `xs0 = torch.add_(xs, ...)`, i48)
    assert "  torch.clear(xs0)\n" in s.code and "= torch.clear" not in s.code
    assert "xs0 = torch.add_(xs, " in s.code
    want = ("[1, 5, 5][5]", [5])
    assert s([1], 5) == want
    data = _save(s)
    assert _load(data)([1], 5) == want
    assert _real_load(data)([1], 5) == want
