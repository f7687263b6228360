"""Programs the differential program fuzzers found in session 34 (seeds 34001..), minimised,
with PyTorch 2.13's answers written out.

- (tests/test_program_fuzz_s23.py, GPUJIT_PROGRAM_FUZZ_SEED=34002) a dead in-place write into
  a local: `v7 = v1 * v3.mean(); v7[:, 0] = 0.0` with v7 unused afterwards, v3 =
  v1.unbind(1)[-1]. TorchScript's DCE drops a write whose memory no live value may alias
  and no graph input shares (AliasDb::writesToAlias), and with it the unbind and its
  ListUnpack: torch.jit.trace at [5, 3] then answers for [5, 2]. gpujit's DCE kept every
  in-place op, so the traced graph's ListUnpack raised 'Expected 3 elements in a list but
  found 2', and a scripted `u = v1 * 2; u.copy_(torch.ones(7))` raised copy_'s broadcast
  error where torch.jit.script answers (its f.graph holds aten::add only). gpujit's DCE
  (passes/dce.py) now drops such writes too; writes into an input's memory, into memory a
  later (or next-trip) read or a returned value may alias stay.
- (mode 7, tests/program_fuzz_gen_g.py, GPUJIT_PROGRAM_FUZZ_SEED=34001, a call with A = 0)
  torch.searchsorted(torch.sort(x0, -1)[0], x0) of a [0, 3] x0 raised NumPy's "cannot
  reshape array of size 0 into shape (0,newaxis)"; a [3, 0] sequence with [3, 2] values
  too. PyTorch answers an empty int64 [0, 3], and [[0, 0], [0, 0], [0, 0]]
  (ops/unique_search.py reshaped by -1).
- (mode 7, GPUJIT_PROGRAM_FUZZ_SEED=34003, a float64 call) x0.clone().index_put_((x0 > 0,),
  torch.tensor(-1.0)) raised "Index put requires the source and destination dtypes match,
  got Double for the destination and Float for the source". PyTorch's _index_put_impl_
  hands a write (not accumulate) of one CPU value through exactly one bool / uint8 index
  to self.masked_fill_(mask, value.item()) (canDispatchToMaskedFill), where dtypes need not
  match: [[-1.5, -2.0], [-1.5, -4.0]]; an int64 self truncates -1.5 to -1; a uint8 mask
  raises masked_fill_'s "only supports boolean masks, but got mask with dtype unsigned
  char" (c10's type name, which gpujit's masked_fill_ now prints too: it said "Byte");
  accumulate=True, a long index or two masks keep the dtype error. Before any of it
  _index_put_impl_ refuses more indices than dims: a 0-dim x indexed by (x > 0,) raises
  "too many indices for tensor of dimension 0 (got 1)" whatever the dtypes (gpujit wrote
  the value when the dtypes matched; mode 7 seed 34006).
- (mode 7, GPUJIT_PROGRAM_FUZZ_SEED=34008, gradients) scatter_reduce's backward as
  PyTorch's scatter_reduce_backward: amax / amin share the gradient among the self and src
  entries equal to the result, self's entry counted even with include_self=False (then
  its own gradient is 0 where src was scattered): x = [1., 1., 3., 2.] scattered into by
  src = [1., 1., 2., 4.] at [0, 0, 1, 1] with 'amin', include_self=False gives src 1/3
  each (gpujit gave 1/2); prod masks self's zeros and a position's single src zero by 1
  (the exclusive product: gpujit's result / x gave nan for x = 0).
- (mode 5, tests/test_program_fuzz_s24b.py, GPUJIT_PROGRAM_FUZZ_SEED=34002, k = 57)
  `assert fs.copy() == fs.copy()` of a List[float] holding a nan: TorchScript's list ==
  (c10::List) compares the elements by ==, so the assert fails; gpujit used Python's ==,
  which checks identity per element first. The same for `x in fs`, fs.count(x) and
  fs.remove(x) of a float x (TorchScript: False, 0, "list.remove(x): x not in list");
  `fs == fs` (the same list) stays True in both.
- (mode 5, GPUJIT_PROGRAM_FUZZ_SEED=34004, k = 29) `-2 % a` with a = -2**63: TorchScript's
  aten::remainder.int is ((a % b) + b) % b in C's int64 arithmetic, whose sum wraps for a
  divisor beyond 2**62: 9223372036854775806 (gpujit: Python's -2); 5 % (2**63 - 1) is
  -9223372036854775804 there.
- (mode 5, GPUJIT_PROGRAM_FUZZ_SEED=34006, k = 26) a helper `tr: List[str] = [];
  v1 = int(p0) // int(0.0 * -1); tr.append(str(v1)); return True if len(tr) >= 0 else
  True` called with p0 = " ": TorchScript folds the return to True, its DCE drops the
  append into the dead local list and with it int(" ") and the division by 0, and the
  call answers True; gpujit kept the append (a side effect) and raised int()'s error.
  (Done in session 35: dead mutators of provably local containers go; see
  tests/test_fuzz_finds_s35.py for the lists that must keep theirs.)
"""
from __future__ import annotations

import os
import re
import warnings
from typing import Dict, List

import numpy as np
import pytest

import gpujit as torch


def _writes(graph):
    return sorted(set(re.findall(r"aten::\w+_\(", str(graph))))


def _dead_write_traced(x1, x2):
    v1 = x1 + x2
    v3 = v1.unbind(1)[-1]
    v7 = v1 * v3.mean()
    v7[:, 0] = 0.0
    return v1


def test_trace_drops_a_dead_write_into_a_local_and_the_unbind_it_read():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.jit.trace(_dead_write_traced, (torch.ones(5, 3), torch.ones(3)))
    g = str(t.graph)
    # torch: graph(%x1, %x2): %v1 = aten::add(%x1, %x2, %2); return (%v1)
    assert "unbind" not in g and "ListUnpack" not in g and "fill_" not in g, g
    for _ in range(3):
        out = t(torch.ones(5, 2), torch.full((2,), 2.0))
        np.testing.assert_array_equal(out.numpy(), np.full((5, 2), 3.0, np.float32))


def _dead_writes_scripted(x1: torch.Tensor, x2: torch.Tensor):
    v1 = x1 + x2
    v3 = v1.unbind(1)[-1]
    v7 = v1 * v3.mean()
    v7[:, 0] = 0.0
    w = torch.zeros(3)
    w.add_(x1.sum())
    u = v1 * 2
    u.copy_(torch.ones(7))
    return v1


def test_script_drops_dead_writes_into_locals():
    s = torch.jit.script(_dead_writes_scripted)
    # torch.jit.script's graph: aten::add only, no write, no unbind
    assert _writes(s.graph) == [] and "unbind" not in str(s.graph), str(s.graph)
    for _ in range(3):      # (profiling, then the optimized graph)
        out = s(torch.ones(5, 2), torch.ones(2))
        np.testing.assert_array_equal(out.numpy(), np.full((5, 2), 2.0, np.float32))


def _write_view_then_return_view(x: torch.Tensor):
    v = x * 2
    a = v[0]
    v.fill_(7)
    return a


def _write_input_view(x: torch.Tensor):
    v = x[0]
    v.mul_(3)
    return x.sum()


def _write_read_next_trip(x: torch.Tensor, n: int):
    v = x * 1
    out = x * 0
    for i in range(n):
        out = v.sum() + out
        v.mul_(2)
    return out


def _write_in_if_read_after(x: torch.Tensor, b: bool):
    v = x * 2
    if b:
        v.add_(1)
    return v.sum()


def _local_copied_into_input(x: torch.Tensor):
    v = x * 2
    v.add_(1)
    x.copy_(v)
    return x


def test_writes_that_someone_sees_stay():
    # torch.jit.script's answers (and graphs: each keeps its write)
    s = torch.jit.script(_write_view_then_return_view)
    assert _writes(s.graph) == ["aten::fill_("]
    for _ in range(3):
        np.testing.assert_array_equal(s(torch.ones(3, 2)).numpy(), [7.0, 7.0])
    s = torch.jit.script(_write_input_view)
    assert _writes(s.graph) == ["aten::mul_("]
    x = torch.ones(2, 3)
    for _ in range(3):
        s(x)
    np.testing.assert_array_equal(x.numpy(), [[27.0] * 3, [1.0] * 3])
    s = torch.jit.script(_write_read_next_trip)
    assert _writes(s.graph) == ["aten::mul_("]
    for _ in range(3):      # 3 * (1 + 2 + 4)
        np.testing.assert_array_equal(s(torch.ones(3), 3).numpy(), [21.0] * 3)
    s = torch.jit.script(_write_in_if_read_after)
    for _ in range(3):
        assert s(torch.ones(3), True).item() == 9.0
        assert s(torch.ones(3), False).item() == 6.0
    s = torch.jit.script(_local_copied_into_input)
    assert _writes(s.graph) == ["aten::add_(", "aten::copy_("]
    x = torch.ones(3)
    s(x)
    np.testing.assert_array_equal(x.numpy(), [3.0] * 3)


def test_searchsorted_of_0_rows_and_of_0_length_sequences():
    # PyTorch 2.13's answers
    for ss, vs, want in [((0, 3), (0, 3), np.zeros((0, 3))), ((3, 0), (3, 2), np.zeros((3, 2))),
                         ((2, 0, 3), (2, 0, 4), np.zeros((2, 0, 4))),
                         ((2, 0), (2, 0), np.zeros((2, 0))), ((0, 3), (0, 0), np.zeros((0, 0)))]:
        seq = torch.arange(int(np.prod(ss)), dtype=torch.float32).reshape(ss)
        for kw, dt in (({}, torch.int64), ({"right": True}, torch.int64),
                       ({"out_int32": True}, torch.int32)):
            r = torch.searchsorted(seq, torch.ones(vs), **kw)
            assert r.dtype == dt and tuple(r.shape) == vs, (ss, vs, kw, r.dtype, r.shape)
            np.testing.assert_array_equal(r.numpy(), want)
    s = torch.jit.script(_searchsorted_sorted)
    for _ in range(3):
        r = s(torch.zeros(0, 3))
        assert r.dtype == torch.int64 and tuple(r.shape) == (0, 3)
    r = s(torch.tensor([[2.0, 1.0, 3.0], [0.5, 0.5, -1.0]]))
    np.testing.assert_array_equal(r.numpy(), [[1, 0, 2], [1, 1, 0]])


def _searchsorted_sorted(x0: torch.Tensor):
    return torch.searchsorted(torch.sort(x0, -1)[0], x0)


def _err(fn):
    try:
        fn()
    except Exception as e:      # noqa: BLE001 - the message is compared
        return type(e).__name__, str(e)
    return None


def test_index_put_of_one_value_through_one_mask_is_masked_fill():
    x = torch.tensor([[1.0, -2.0], [3.0, -4.0]], dtype=torch.float64)
    m = x > 0
    # PyTorch 2.13's answers
    for v, want in ((torch.tensor(-1.5), [[-1.5, -2.0], [-1.5, -4.0]]),
                    (torch.tensor(7), [[7.0, -2.0], [7.0, -4.0]]),
                    (torch.tensor(True), [[1.0, -2.0], [1.0, -4.0]]),
                    (torch.tensor([-1.5]), [[-1.5, -2.0], [-1.5, -4.0]]),
                    (torch.tensor(2.0, dtype=torch.float16), [[2.0, -2.0], [2.0, -4.0]])):
        r = x.clone().index_put_((m,), v)
        assert r.dtype == torch.float64 and r.tolist() == want, (v, r)
        assert torch.index_put(x, (m,), v).tolist() == want
        assert x.index_put((m,), v).tolist() == want
    assert x.clone().index_put_((torch.tensor([True, False]),), torch.tensor(-1.5)).tolist() \
        == [[-1.5, -1.5], [3.0, -4.0]]
    xi = torch.tensor([[1, -2], [3, -4]])
    r = xi.clone().index_put_((xi > 0,), torch.tensor(-1.5))
    assert r.dtype == torch.int64 and r.tolist() == [[-1, -2], [-1, -4]]
    dt_err = ("RuntimeError", "Index put requires the source and destination dtypes match, "
              "got Double for the destination and Float for the source.")
    assert _err(lambda: x.clone().index_put_((m,), torch.tensor(-1.5), accumulate=True)) == dt_err
    assert _err(lambda: x.clone().index_put_((torch.tensor([0]),), torch.tensor(-1.5))) == dt_err
    assert _err(lambda: x.clone().index_put_((torch.tensor([True, False]),
                                               torch.tensor([False, True])),
                                              torch.tensor(-1.5))) == dt_err
    assert _err(lambda: x.clone().index_put_((m.to(torch.uint8),), torch.tensor(-1.5))) == \
        ("RuntimeError", "masked_fill_ only supports boolean masks, but got mask with dtype "
                         "unsigned char")
    assert _err(lambda: x.masked_fill(torch.zeros(2, 2, dtype=torch.int64), 1.0)) == \
        ("RuntimeError", "masked_fill_ only supports boolean masks, but got mask with dtype "
                         "long int")


def _index_put_mask(x: torch.Tensor, v: torch.Tensor):
    y = x.clone().index_put_((x > 0,), v)
    z = torch.index_put(x, (x[:, 0] > 2,), torch.tensor(7))
    return y * 2, z


def test_index_put_through_one_mask_scripted_traced_and_differentiated():
    x = torch.tensor([[1.0, -2.0, 3.0], [3.0, -4.0, 0.5]], dtype=torch.float64)
    want_y = [[-3.0, -4.0, -3.0], [-3.0, -8.0, -3.0]]
    want_z = [[1.0, -2.0, 3.0], [7.0, 7.0, 7.0]]
    xg = x.clone().requires_grad_()
    v = torch.tensor(-1.5, requires_grad=True)
    y, z = _index_put_mask(xg, v)
    (y.sum() + z.sum()).backward()
    assert y.tolist() == want_y and z.tolist() == want_z
    # PyTorch: IndexPutBackward gives the value the masked elements' sum, in its dtype
    assert xg.grad.tolist() == [[1.0, 3.0, 1.0], [0.0, 2.0, 0.0]]
    assert v.grad.dtype == torch.float32 and v.grad.item() == 8.0
    s = torch.jit.script(_index_put_mask)
    for _ in range(3):
        y, z = s(x, torch.tensor(-1.5))
        assert y.tolist() == want_y and z.tolist() == want_z
    assert s(torch.tensor([[1, -2], [3, -4]]), torch.tensor(2.7))[0].tolist() == [[4, -4], [4, -8]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.jit.trace(_index_put_mask, (x, torch.tensor(-1.5)))
    assert t(x, torch.tensor(-1.5))[0].tolist() == want_y


def test_index_put_of_a_0_dim_self_has_too_many_indices():
    x = torch.tensor(2.0)
    want = ("IndexError", "too many indices for tensor of dimension 0 (got 1)")
    for v in (torch.tensor(-1.0), torch.tensor(-1.0, dtype=torch.float64)):
        assert _err(lambda: x.clone().index_put_((x > 0,), v)) == want
    y = torch.tensor([1.0, 2.0])      # a 0-dim mask of a 1-D self: all or nothing
    assert y.clone().index_put_((torch.tensor(True),), torch.tensor(-1)).tolist() == [-1.0, -1.0]
    assert y.clone().index_put_((torch.tensor(False),), torch.tensor(-1)).tolist() == [1.0, 2.0]


def _scatter_reduce_grads(red, incl, xs, src=(1.0, 1.0, 2.0, 4.0)):
    x = torch.tensor(xs, requires_grad=True)
    s = torch.tensor(list(src), requires_grad=True)
    v = x.scatter_reduce(0, torch.tensor([0, 0, 1, 1]), s, reduce=red, include_self=incl)
    (v * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    return v.tolist(), x.grad.tolist(), s.grad.tolist()


def test_scatter_reduce_gradients_share_and_exclude_as_pytorch():
    third = np.float32(1 / 3).item()
    # PyTorch 2.13's values and gradients
    assert _scatter_reduce_grads("amin", False, [1.0, 1.0, 3.0, 2.0]) == \
        ([1.0, 2.0, 3.0, 2.0], [0.0, 0.0, 3.0, 4.0], [third, third, 2.0, 0.0])
    assert _scatter_reduce_grads("amin", False, [3.0, 2.0, 1.0, 0.0]) == \
        ([1.0, 2.0, 1.0, 0.0], [0.0, 0.0, 3.0, 4.0], [0.5, 0.5, 1.0, 0.0])
    assert _scatter_reduce_grads("amax", False, [1.0, 1.0, 3.0, 2.0]) == \
        ([1.0, 4.0, 3.0, 2.0], [0.0, 0.0, 3.0, 4.0], [third, third, 0.0, 2.0])
    assert _scatter_reduce_grads("amin", True, [1.0, 1.0, 3.0, 2.0])[2] == [third, third, 0.0, 0.0]
    # prod with zeros: the exclusive product, no nan
    assert _scatter_reduce_grads("prod", True, [0.0, 0.0, 1.0, 2.0]) == \
        ([0.0, 0.0, 1.0, 2.0], [1.0, 16.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0])
    assert _scatter_reduce_grads("prod", True, [3.0, 2.0, 1.0, 0.0]) == \
        ([3.0, 16.0, 1.0, 0.0], [1.0, 16.0, 3.0, 4.0], [3.0, 3.0, 16.0, 8.0])
    x = torch.tensor([0.0, 2.0, 1.0, 2.0], requires_grad=True)
    x.scatter_reduce(0, torch.tensor([0, 0, 1, 1]), x, "prod", include_self=False).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 3.0, 2.0]
    src = torch.tensor([0.0, 0.0, 2.0, 0.0], requires_grad=True)   # two zeros at position 0
    torch.ones(4).scatter_reduce(0, torch.tensor([0, 0, 1, 1]), src, "prod").sum().backward()
    assert src.grad.tolist() == [0.0, 0.0, 0.0, 2.0]


def _float_lists(fs: List[float]) -> List[int]:
    x = fs[0]
    g = fs.copy()
    return [int(fs == g), int(fs != g), int(fs == fs), int(x in fs), fs.count(x)]


def _float_list_remove(fs: List[float]) -> List[float]:
    fs.remove(fs[0])
    return fs


def test_float_lists_compare_by_elements_as_torchscript():
    s = torch.jit.script(_float_lists)
    # torch.jit.script's answers
    assert s([float("nan"), 1.0]) == [0, 1, 1, 0, 0]
    assert s([1.0, 1.0]) == [1, 0, 1, 1, 2]
    r = torch.jit.script(_float_list_remove)
    assert r([1.0, 2.0, 1.0]) == [2.0, 1.0]
    e = _err(lambda: r([float("nan"), 2.0]))
    assert e is not None and "not in list" in e[1], e


def _int_mod(a: int, b: int) -> int:
    return a % b


def _int_mod_constants(a: int) -> int:
    return (a % (-9223372036854775807 - 1)) + (a % 9223372036854775807) * 3 + a % 7


def test_int_remainder_wraps_as_torchscript_past_2_62():
    s = torch.jit.script(_int_mod)
    M = 9223372036854775807
    # torch.jit.script's answers
    for a, b, want in ((-2, -M - 1, 9223372036854775806), (5, M, -9223372036854775804),
                       (-5, M, 9223372036854775802), (M, M - 1, 1), (-M - 1, M, M - 1),
                       (M, -M - 1, -1), (7, -3, -2), (-7, 3, 2), (-1, -M - 1, M),
                       (3, -M - 1, -9223372036854775805), (-M - 1, 3, 1)):
        for _ in range(3):
            assert s(a, b) == want, (a, b, s(a, b), want)
    c = torch.jit.script(_int_mod_constants)
    for _ in range(3):
        assert [c(a) for a in (-2, 5, -5, 100)] == [-6, 22, -21, 399]


def _dead_list_append(p0: str) -> bool:
    tr: List[str] = []
    v1 = (int(p0) // int(0.0 * -1))
    tr.append(str(v1))
    return True if len(tr) >= 0 else True


def _dead_container_writes(p0: str) -> int:
    tr: List[int] = []
    tr.append(int(p0))
    d: Dict[str, int] = {}
    d[p0] = int(p0)
    kept: List[int] = [1]
    kept.append(2)
    return len(kept)


def test_dead_appends_to_local_lists_go_as_in_torchscript():
    s = torch.jit.script(_dead_list_append)
    assert "append" not in str(s.graph) and "Int" not in str(s.graph), str(s.graph)
    for _ in range(3):
        assert s(" ") is True       # torch.jit.script's answer (eager raises ValueError)
    c = torch.jit.script(_dead_container_writes)
    for _ in range(3):
        assert c(" ") == 2


# ------------------------------------------------------------------ mode 7 itself

_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_G", "2"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


def test_random_programs_of_mode_7_match_pytorch_and_torchscript():
    pytest.importorskip("torch")
    from program_fuzz_gen_g import program_g
    from test_program_fuzz_s20 import STRATEGIES, check
    from test_program_fuzz_s22 import calls_for_b
    for k in range(_N):
        seed = _SEED * 100003 + 3400000 + k
        src, traceable = program_g(seed)
        check(src, traceable, calls_for_b(seed), strategy=STRATEGIES[k % len(STRATEGIES)])


def test_random_programs_of_mode_7_gradients_match_pytorch():
    pytest.importorskip("torch")
    from program_fuzz_gen_g import program_g
    from test_program_fuzz_s20 import STRATEGIES, check_grads
    from test_program_fuzz_s22 import calls_for_b
    for k in range(0, _N, 2):
        seed = _SEED * 100003 + 3500000 + k
        src, _ = program_g(seed)
        need = [(k >> j) % 2 == 0 or j == k % 4 for j in range(4)]
        calls = [c for c in calls_for_b(seed)[:8] if c[3] != "v"]
        check_grads(src, calls, strategy=STRATEGIES[k % len(STRATEGIES)], need=need)
