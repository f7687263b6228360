"""Scripted code with branches the profiling run did not take (session 46): what the
specialization key fixes (an Optional input being None or a Tensor, a tensor input's
rank, `x is x`) is folded into the specialization's graph (runtime/key_facts.py), so the
branches it decides are gone and the code after them stays typed and fused."""
from __future__ import annotations

from typing import Any, List, NamedTuple, Optional

import numpy as np
import pytest

import gpujit
from gpujit import Tensor


def _exe(fn):
    return fn._executable


def _src(fn):
    return _exe(fn).specializations[-1].source


def _boxed(fn):
    return sorted({w.split("(")[0] for w in _src(fn).split("= _op_")[1:]})


def _kinds(fn, *args):
    """The node kinds of fn's optimized graph for args (its fusion groups unguarded)."""
    return [n.kind for n in _exe(fn).optimized_graph_for(*args).walk()]


# ------------------------------------------------------------------ key facts

def _optional_mask(x, m: Optional[Tensor]):
    if m is None:
        y = x * 2.0
    else:
        y = x + m
    return (y.sin() * 3.0).relu()


def test_optional_input_given_none_folds_its_branch():
    s = gpujit.jit.script(_optional_mask)
    x = gpujit.randn(4, 5)
    for _ in range(3):
        got = s(x, None)
    want = np.maximum(np.sin(x.numpy() * 2.0) * 3.0, 0)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)
    kinds = _kinds(s, x, None)
    assert "prim::If" not in kinds and "aten::__is__" not in kinds
    assert "prim::TensorExprGroup" in kinds
    assert _exe(s).stats["stale"] == 0 and _boxed(s) == []
    # the other key (a Tensor mask): its own specialization, the other branch
    m = gpujit.randn(4, 5)
    for _ in range(3):
        got = s(x, m)
    want = np.maximum(np.sin(x.numpy() + m.numpy()) * 3.0, 0)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)
    kinds = _kinds(s, x, m)
    assert "prim::If" not in kinds and "prim::unchecked_cast" not in kinds
    assert _exe(s).stats["stale"] == 0
    # and None again: the first specialization
    np.testing.assert_allclose(s(x, None).numpy(), np.maximum(
        np.sin(x.numpy() * 2.0) * 3.0, 0), rtol=1e-6, atol=1e-6)


def test_optional_folding_keeps_gradients():
    s = gpujit.jit.script(_optional_mask)
    a = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    for m in (None, a[::-1].copy()):
        grads = []
        for fn in (_optional_mask, s, s, s):
            x = gpujit.from_numpy(a).requires_grad_()
            fn(x, None if m is None else gpujit.from_numpy(m)).sum().backward()
            grads.append(x.grad.numpy())
        for g in grads[1:]:
            np.testing.assert_allclose(g, grads[0], rtol=1e-5, atol=1e-6)


def test_optional_folding_matches_torch():
    torch = pytest.importorskip("torch")

    def _optional_mask(x, m: Optional[torch.Tensor]):
        if m is None:
            y = x * 2.0
        else:
            y = x + m
        return (y.sin() * 3.0).relu()
    ts = torch.jit.script(_optional_mask)
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    s = gpujit.jit.script(globals()["_optional_mask"])
    for m in (None, a[::-1].copy(), None):
        tm = None if m is None else torch.from_numpy(m)
        gm = None if m is None else gpujit.from_numpy(m)
        for _ in range(2):
            want = ts(torch.from_numpy(a), tm).numpy()
            got = s(gpujit.from_numpy(a), gm).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def _by_rank(x):
    if x.dim() == 2:
        y = x.relu()
    else:
        y = x.sin()
    return y * 2.0 + 1.0


def test_rank_of_an_input_is_a_constant_of_its_specialization():
    s = gpujit.jit.script(_by_rank)
    x2 = gpujit.randn(3, 4)
    for _ in range(3):
        got = s(x2)
    np.testing.assert_allclose(got.numpy(), np.maximum(x2.numpy(), 0) * 2 + 1, rtol=1e-6)
    kinds = _kinds(s, x2)
    assert "aten::dim" not in kinds and "prim::If" not in kinds
    x3 = gpujit.randn(2, 3, 4)
    for _ in range(3):
        got = s(x3)
    np.testing.assert_allclose(got.numpy(), np.sin(x3.numpy()) * 2 + 1, rtol=1e-6)
    assert _exe(s).stats["stale"] == 0 and _exe(s).stats["compiles"] == 2


def _same_object(x, y):
    if x is y:
        z = x * 3.0
    else:
        z = x - y
    return z.exp()


def test_identity_of_one_tensor_value_is_true():
    s = gpujit.jit.script(_same_object)
    x = gpujit.randn(5)
    # (`x is y` of two inputs stays a run-time test: one object or two, same key)
    for _ in range(3):
        np.testing.assert_allclose(s(x, x).numpy(), np.exp(x.numpy() * 3), rtol=1e-6)
    y = gpujit.randn(5)
    np.testing.assert_allclose(s(x, y).numpy(), np.exp(x.numpy() - y.numpy()), rtol=1e-6)

    @gpujit.jit.script
    def g(x):
        return _same_object(x, x)
    for _ in range(3):
        np.testing.assert_allclose(g(x).numpy(), np.exp(x.numpy() * 3), rtol=1e-6)
    assert "prim::If" not in _kinds(g, x)


# ------------------------------------------------------------------ untaken branches
# An If (outside loops) whose branch the profiling run did not take is typed from the
# branches that ran; the untaken branch's end checks that its outputs fit those types
# and otherwise finishes the call op by op (runtime/resume.py).

def _cast_or_scale(x, flag: bool, k: float):
    if flag:
        y = x.double() * k
    else:
        y = x * k
    return (y + 1.0).sin() * y


def _ref_cast_or_scale(a, flag, k):
    y = a.astype(np.float64) * k if flag else a * np.float32(k)
    return np.sin(y + 1) * y


def test_code_after_an_untaken_branch_is_typed_and_fused():
    s = gpujit.jit.script(_cast_or_scale)
    x = gpujit.randn(4, 5)
    for _ in range(3):
        s(x, False, 2.0)
    src = _src(s)
    # the generic ops are the untaken branch's; the code after the If is one fused group
    assert _boxed(s) == ["mul", "to"], src
    assert src.index("_op_mul(") < src.index("_fits(") < src.index("else:") < \
        src.index("_group.call(")
    assert "prim::TensorExprGroup" in _kinds(s, x, False, 2.0)


@pytest.fixture
def resumes(monkeypatch):
    """The calls finished op by op (Resume.__call__), as a list of If nodes."""
    from gpujit.runtime import resume
    seen = []
    call = resume.Resume.__call__

    def counted(self, values, outs, *entered):
        seen.append(self.node)
        return call(self, values, outs, *entered)
    monkeypatch.setattr(resume.Resume, "__call__", counted)
    return seen


def test_an_untaken_branch_of_another_dtype_finishes_op_by_op(resumes):
    s = gpujit.jit.script(_cast_or_scale)
    x = gpujit.randn(4, 5)
    a = x.numpy()
    for _ in range(3):
        got = s(x, False, 2.0)
    np.testing.assert_allclose(got.numpy(), _ref_cast_or_scale(a, False, 2.0), rtol=1e-5)
    assert got.dtype == gpujit.float32
    stale, runs = _exe(s).stats["stale"], _exe(s).stats["profiling_runs"]
    spec = _exe(s).specializations[-1]
    group, = spec.groups
    kernels = len(group.specializations)
    got = s(x, True, 3.0)           # float64 where the profile saw float32: resumed
    assert got.dtype == gpujit.float64 and len(resumes) == 1
    np.testing.assert_allclose(got.numpy(), _ref_cast_or_scale(a, True, 3.0), rtol=1e-12)
    assert _exe(s).stats["stale"] == stale + 1
    # the rest of the resumed call ran its fusion group as the code does: a float64 kernel
    assert len(group.specializations) == kernels + 1 and group.fallback_calls == 0
    for flag in (True, False, True):        # re-profiled: code for both paths
        got = s(x, flag, 1.5)
        assert got.dtype == (gpujit.float64 if flag else gpujit.float32)
        np.testing.assert_allclose(got.numpy(), _ref_cast_or_scale(a, flag, 1.5),
                                   rtol=1e-5)
    assert "_stale()" not in _src(s) and len(resumes) == 1
    assert _exe(s).stats["profiling_runs"] == runs + 1     # one re-profile, both paths


def test_an_untaken_branch_of_the_profiled_types_stays_in_the_code(resumes):
    s = gpujit.jit.script(_cast_or_scale)
    x = gpujit.randn(4, 5).double()
    for _ in range(3):
        s(x, False, 2.0)
    stale = _exe(s).stats["stale"]
    got = s(x, True, 3.0)      # x.double() of a float64 x: the same types
    np.testing.assert_allclose(got.numpy(), _ref_cast_or_scale(x.numpy(), True, 3.0),
                               rtol=1e-12)
    assert resumes == [] and _exe(s).stats["stale"] == stale + 1


def test_untaken_branch_matches_torch():
    torch = pytest.importorskip("torch")

    def _cast_or_scale(x, flag: bool, k: float):
        if flag:
            y = x.double() * k
        else:
            y = x * k
        return (y + 1.0).sin() * y
    ts = torch.jit.script(_cast_or_scale)
    s = gpujit.jit.script(globals()["_cast_or_scale"])
    a = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    for flag in (False, False, False, True, True, False):
        want = ts(torch.from_numpy(a), flag, 2.0)
        got = s(gpujit.from_numpy(a), flag, 2.0)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def _maybe_mask(x, flag: bool):
    m: Optional[Tensor] = None
    if flag:
        m = x > 0
    if m is None:
        return x.relu() * 2.0
    return x.masked_fill(m, 0.0) * 2.0


def test_untaken_branch_giving_a_tensor_where_none_was_seen(resumes):
    s = gpujit.jit.script(_maybe_mask)
    x = gpujit.randn(6)
    a = x.numpy()
    for _ in range(3):
        np.testing.assert_allclose(s(x, False).numpy(), np.maximum(a, 0) * 2)
    np.testing.assert_allclose(s(x, True).numpy(), np.where(a > 0, 0, a) * 2)
    assert len(resumes) == 1
    for flag in (True, False):
        want = np.where(a > 0, 0, a) * 2 if flag else np.maximum(a, 0) * 2
        np.testing.assert_allclose(s(x, flag).numpy(), want)


def _nested_with_effects(x, xs: List[int], a: int, b: int):
    xs.append(1)
    y = x * 2.0
    if a > 0:
        if b > 0:
            y = y.long()
        z = y + 1
        xs.append(2)
    else:
        z = y - 1
    w = z * 3
    return w, (xs, w.sum())


def test_resumed_call_runs_nothing_twice_and_leaves_nested_ifs(resumes):
    # (a List[int] argument is a copy in TorchScript: the returned list shows the appends)
    s = gpujit.jit.script(_nested_with_effects)
    x = gpujit.tensor([1.5, -2.0, 3.0])
    for _ in range(3):
        w, (ys, t) = s(x, [], 1, 0)
        assert ys == [1, 2]
    np.testing.assert_allclose(w.numpy(), (np.float32([1.5, -2, 3]) * 2 + 1) * 3)
    w, (ys, t) = s(x, [], 1, 1)     # int64 from the untaken inner branch
    assert ys == [1, 2] and len(resumes) == 1
    assert w.dtype == gpujit.int64
    np.testing.assert_array_equal(w.numpy(), (np.int64([3, -4, 6]) + 1) * 3)
    assert t.item() == int(((np.int64([3, -4, 6]) + 1) * 3).sum())
    w, (ys, _) = s(x, [], -1, 1)
    assert ys == [1] and w.dtype == gpujit.float32
    np.testing.assert_allclose(w.numpy(), (np.float32([1.5, -2, 3]) * 2 - 1) * 3)


def _early_tuple(x, flag: bool):
    t = (x.sum(), x.amax())
    y = x * 2.0
    if flag:
        y = y.long()
    return (y + 1) * 3, t


def test_resumed_call_rebuilds_a_tuple_made_for_the_return(resumes):
    s = gpujit.jit.script(_early_tuple)
    x = gpujit.tensor([1.5, -2.0, 3.0])
    a = x.numpy()
    for _ in range(3):
        s(x, False)
    y, (total, top) = s(x, True)
    assert len(resumes) == 1 and y.dtype == gpujit.int64
    np.testing.assert_array_equal(y.numpy(), (np.int64([3, -4, 6]) + 1) * 3)
    np.testing.assert_allclose([total.item(), top.item()], [a.sum(), a.max()])


def _pick(x, other, flag: bool):
    if flag:
        y = other
    else:
        y = x * 2.0
    return y


def test_resumed_call_hands_back_an_input_itself(resumes):
    s = gpujit.jit.script(_pick)
    x = gpujit.randn(3)
    other = gpujit.randn(3).double()
    for _ in range(3):
        s(x, other, False)
    assert s(x, other, True) is other and len(resumes) == 1


def _full_of_branch_dtype(x, flag: bool):
    if flag:
        y = x.double() + 1.0
    else:
        y = x * 2.0
    m = gpujit.full([y.size(0)], 0.5, dtype=y.dtype, device=y.device)
    return (y * m).tanh() + m


def test_dtype_and_device_reads_after_an_untaken_branch_are_known(resumes):
    # (y's prim::dtype / prim::device stay run-time reads in the graph, y depending on
    # the branch taken; the code writes them as the literals its types fix, so full()
    # and the ops after it take the direct path)
    s = gpujit.jit.script(_full_of_branch_dtype)
    x = gpujit.randn(5)
    a = x.numpy()
    for _ in range(3):
        got = s(x, False)
    np.testing.assert_allclose(got.numpy(), np.tanh(a * 2 * 0.5) + 0.5, rtol=1e-6)
    assert "full" not in _boxed(s) and "tanh" not in _boxed(s), _src(s)
    got = s(x, True)
    assert got.dtype == gpujit.float64 and len(resumes) == 1
    np.testing.assert_allclose(got.numpy(), np.tanh((a.astype(np.float64) + 1) * 0.5) + 0.5,
                               rtol=1e-12)


def _loop_branch(x, n: int, k: int):
    y = x
    for i in range(n):
        if i == k:
            y = y.double()
        y = y * 1.5 + 1.0
    return y.sum(), y


def _ref_loop_branch(a, n, k):
    y = a
    for i in range(n):
        if i == k:
            y = y.astype(np.float64)
        y = y * (y.dtype.type(1.5)) + 1
    return y


def test_untaken_branch_in_a_loop_resumes_the_remaining_trips(resumes):
    s = gpujit.jit.script(_loop_branch)
    x = gpujit.tensor([1.0, -2.0, 0.5])
    a = x.numpy()
    for _ in range(3):
        t, y = s(x, 4, -1)
    np.testing.assert_allclose(y.numpy(), _ref_loop_branch(a, 4, -1), rtol=1e-6)
    assert "_fits(" in _src(s) and "_op_mul" not in _src(s).split("_fits(")[1]
    t, y = s(x, 5, 2)           # float64 from the third trip on: resumed there
    assert len(resumes) == 1 and y.dtype == gpujit.float64 and t.dtype == gpujit.float64
    want = _ref_loop_branch(a, 5, 2)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(t.item(), want.sum(), rtol=1e-12)


def _while_branch(x, k: int):
    i = 0
    while bool(x.sum() < 100.0):
        if i == k:
            x = x.double()
        x = x * 2.0
        i += 1
    return x, i


def test_untaken_branch_in_a_while_loop_resumes(resumes):
    s = gpujit.jit.script(_while_branch)
    x = gpujit.tensor([1.0, 2.0])
    for _ in range(3):
        y, i = s(x, -1)
    assert i == 6 and y.dtype == gpujit.float32
    np.testing.assert_allclose(y.numpy(), [64.0, 128.0])
    y, i = s(x, 3)
    assert len(resumes) == 1 and i == 6 and y.dtype == gpujit.float64
    np.testing.assert_allclose(y.numpy(), [64.0, 128.0])


def test_loop_resume_matches_torch():
    torch = pytest.importorskip("torch")

    def _loop_branch(x, n: int, k: int):
        y = x
        for i in range(n):
            if i == k:
                y = y.double()
            y = y * 1.5 + 1.0
        return y.sum(), y
    ts = torch.jit.script(_loop_branch)
    s = gpujit.jit.script(globals()["_loop_branch"])
    a = np.float32([0.25, -1.0, 3.0])
    for n, k in ((3, -1), (3, -1), (3, -1), (6, 4), (2, 0), (3, -1)):
        wt, wy = ts(torch.from_numpy(a), n, k)
        gt, gy = s(gpujit.from_numpy(a), n, k)
        assert str(gy.dtype).split(".")[-1] == str(wy.dtype).split(".")[-1]
        np.testing.assert_allclose(gy.numpy(), wy.numpy(), rtol=1e-6)
        np.testing.assert_allclose(gt.item(), wt.item(), rtol=1e-6)



@gpujit.jit.script
class _Tally(object):
    """A context manager counting its entries (+1) and exits (+10) in a tensor (in place:
    seen outside the call)."""

    def __init__(self, count: Tensor):
        self.count = count

    def __enter__(self):
        self.count.add_(1)

    def __exit__(self, type: Any, value: Any, tb: Any):
        self.count.add_(10)


def _with_branch(x, count, flag: bool, boom: bool):
    with _Tally(count):
        if flag:
            y = x.double() * 2.0
        else:
            y = x * 2.0
        y = y + 1.0
        if boom:
            raise ValueError("boom")
    return y * 3.0


def test_untaken_branch_in_a_with_body_resumes_and_exits_once(resumes):
    s = gpujit.jit.script(_with_branch)
    x = gpujit.tensor([1.0, -0.5])
    count = gpujit.zeros([1], dtype=gpujit.int64)
    for _ in range(3):
        y = s(x, count, False, False)
    assert count.item() == 33 and y.dtype == gpujit.float32
    assert "_fits(" in _src(s)
    y = s(x, count, True, False)
    assert len(resumes) == 1 and count.item() == 44 and y.dtype == gpujit.float64
    np.testing.assert_allclose(y.numpy(), (np.float64([1.0, -0.5]) * 2 + 1) * 3)


def test_resumed_with_body_that_raises_exits_once(resumes):
    s = gpujit.jit.script(_with_branch)
    x = gpujit.tensor([1.0, -0.5])
    count = gpujit.zeros([1], dtype=gpujit.int64)
    for _ in range(3):
        s(x, count, False, False)
    with pytest.raises(ValueError, match="boom"):
        s(x, count, True, True)
    assert len(resumes) == 1 and count.item() == 33 + 11


def _no_grad_branch(x, flag: bool):
    with gpujit.no_grad():
        if flag:
            y = x.double() * 2.0
        else:
            y = x * 2.0
        z = y + 1.0
    return z * 3.0


def test_untaken_branch_in_a_no_grad_body_resumes(resumes):
    s = gpujit.jit.script(_no_grad_branch)
    x = gpujit.tensor([1.0, 2.0])
    for _ in range(3):
        s(x, False)
    z = s(x, True)
    assert len(resumes) == 1 and z.dtype == gpujit.float64 and gpujit.is_grad_enabled()
    np.testing.assert_allclose(z.numpy(), (np.float64([1.0, 2.0]) * 2 + 1) * 3)


# ------------------------------------------------------------------ library modules

def _boxed_outside_untaken(fn):
    """The ops the code calls through their boxed entry points outside the branches the
    profile did not see (those start with a `_stale()` line)."""
    out, stale_indent = [], None
    lines = _src(fn).splitlines()
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if stale_indent is not None and line.strip() and indent < stale_indent:
            stale_indent = None
        if "_stale()" in line:
            stale_indent = indent if stale_indent is None else min(stale_indent, indent)
        elif stale_indent is None and "= _op_" in line and not _raises(lines, i, indent):
            name = line.split("= _op_")[1].split("(")[0]
            out.append(name.rstrip("0123456789").rstrip("_"))
    return out


def _raises(lines, i, indent):
    """Does the block holding line i end in a raise (an error path: TorchScript's
    `"AssertionError: " + msg` there runs only when the program raises)?"""
    for line in lines[i + 1:]:
        if not line.strip():
            continue
        if len(line) - len(line.lstrip()) < indent:
            return False
        if len(line) - len(line.lstrip()) == indent and line.lstrip().startswith("raise "):
            return True
    return False


def test_scripted_encoder_layer_runs_typed_after_its_untaken_branches():
    gpujit.manual_seed(0)
    m = gpujit.nn.TransformerEncoderLayer(16, 2, 32, batch_first=True).eval()
    x = gpujit.randn(2, 5, 16)
    with gpujit.no_grad():
        want = m(x)
        s = gpujit.jit.script(m)
        for _ in range(3):
            got = s(x)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
        fwd = s.forward
        # (aten::ne of two int lists, the shape check, has no direct form; x.dim() of a
        # view in the error messages of the rank checks is not typed)
        assert set(_boxed_outside_untaken(fwd)) <= {"ne", "dim"}, _src(fwd)
        assert _exe(fwd).stats["stale"] == 0
        # a padding mask: another key, its own specialization, the same answers as eager
        pad = gpujit.tensor([[False] * 4 + [True], [False] * 5])
        for _ in range(3):
            got = s(x, src_key_padding_mask=pad)
        np.testing.assert_allclose(got.numpy(), m(x, src_key_padding_mask=pad).numpy(),
                                   rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ NamedTuple results

class _Pair(NamedTuple):
    a: Tensor
    b: Tensor


def _pair(x) -> _Pair:
    return _Pair(x * 2.0, x.sin())


def test_namedtuple_result_of_a_call_recording_gradients_keeps_its_class():
    # (calls that record gradients run a recording plan, and the whole graph as one
    # differentiable region: both built a plain tuple; torch 2.13 returns the NamedTuple)
    s = gpujit.jit.script(_pair)
    a = np.float32([0.5, -1.0, 2.0])
    for _ in range(3):
        x = gpujit.from_numpy(a).requires_grad_()
        out = s(x)
        assert type(out) is _Pair
        (out.a.sum() + out.b.sum()).backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 + np.cos(a), rtol=1e-6)


def test_namedtuple_with_an_optional_field_after_a_folded_branch():
    class _Out(NamedTuple):
        logits: Tensor
        loss: Optional[Tensor]

    class _Classifier(gpujit.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = gpujit.nn.Linear(4, 3)

        def forward(self, x, target: Optional[Tensor] = None) -> _Out:
            logits = self.head(x)
            loss: Optional[Tensor] = None
            if target is not None:
                loss = gpujit.nn.functional.cross_entropy(logits, target)
            return _Out(logits, loss)
    m = _Classifier()
    s = gpujit.jit.script(m)
    x = gpujit.randn(5, 4)
    for _ in range(3):
        got = s(x)
        assert type(got).__name__ == "_Out" and got.loss is None
        np.testing.assert_allclose(got.logits.detach().numpy(), m(x).logits.detach().numpy(),
                                   rtol=1e-6)
