"""out= tuples of ops returning several tensors (`torch.max(x, 0, out=(v, i))`, sort,
topk, aminmax, frexp, torch.linalg.*: gpujit/ops/out_variants.py), and out= on
torch.linalg functions. Values against NumPy; errors against PyTorch's words."""
import io
import warnings

import numpy as np
import pytest

import gpujit as torch

_rng = np.random.default_rng(7)
XN = _rng.standard_normal((3, 5)).astype(np.float32)
AN = _rng.standard_normal((4, 4)).astype(np.float32)
SN = (AN @ AN.T + 4 * np.eye(4)).astype(np.float32)


def _e(*dtypes):
    return tuple(torch.empty(0, dtype=d) for d in dtypes)


F, L, I32 = torch.float32, torch.int64, torch.int32


@pytest.mark.parametrize("call,dtypes,ref", [
    (lambda x, o: torch.max(x, 0, out=o), (F, L), lambda x: (x.max(0), x.argmax(0))),
    (lambda x, o: torch.min(x, 1, keepdim=True, out=o), (F, L),
     lambda x: (x.min(1, keepdims=True), x.argmin(1)[:, None])),
    (lambda x, o: torch.sort(x, 1, descending=True, out=o), (F, L),
     lambda x: (-np.sort(-x, 1), np.argsort(-x, 1, kind="stable"))),
    (lambda x, o: torch.sort(x, stable=True, dim=0, out=o), (F, L),
     lambda x: (np.sort(x, 0), np.argsort(x, 0, kind="stable"))),
    (lambda x, o: torch.topk(x, 2, out=o), (F, L),
     lambda x: (-np.sort(-x, 1)[:, :2], np.argsort(-x, 1, kind="stable")[:, :2])),
    (lambda x, o: torch.kthvalue(x, 2, 1, out=o), (F, L),
     lambda x: (np.sort(x, 1)[:, 1], np.argsort(x, 1)[:, 1])),
    (lambda x, o: torch.cummax(x, 1, out=o), (F, L),
     lambda x: (np.maximum.accumulate(x, 1), None)),
    (lambda x, o: torch.aminmax(x, out=o), (F, F), lambda x: (x.min(), x.max())),
    (lambda x, o: torch.aminmax(x, dim=0, out=o), (F, F), lambda x: (x.min(0), x.max(0))),
    (lambda x, o: torch.frexp(x, out=o), (F, I32), lambda x: np.frexp(x)),
])
def test_tuple_out_writes_each_result_and_returns_them(call, dtypes, ref):
    out = _e(*dtypes)
    r = call(torch.from_numpy(XN), out)
    assert isinstance(r, tuple) and len(r) == len(out)
    assert all(a is b for a, b in zip(r, out))       # the out tensors themselves
    for got, want in zip(out, ref(XN)):
        if want is not None:
            np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-6)
    assert [o.dtype for o in out] == list(dtypes)


def test_named_fields_of_the_returned_tuple():
    v, i = _e(F, L)
    r = torch.max(torch.from_numpy(XN), 1, out=(v, i))
    assert r.values is v and r.indices is i
    m, e = _e(F, I32)
    r = torch.frexp(torch.from_numpy(XN), out=(m, e))
    assert r.mantissa is m and r.exponent is e


def test_wrong_dtypes_are_refused_in_pytorchs_words():
    x = torch.from_numpy(XN)
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float, but "
                                           "got double instead"):
        torch.max(x, 0, out=_e(torch.float64, L))
    with pytest.raises(RuntimeError, match="dtype long int, but got int instead"):
        torch.sort(x, out=_e(F, I32))
    with pytest.raises(RuntimeError, match="dtype long int, but got float instead"):
        torch.topk(x, 2, out=_e(F, F))


def test_out_must_be_a_tuple_of_as_many_tensors():
    x = torch.from_numpy(XN)
    with pytest.raises(TypeError, match="must be tuple of 2 Tensors, not Tensor"):
        torch.max(x, 0, out=torch.empty(0))
    with pytest.raises(TypeError, match="must be tuple of 2 Tensors, not tuple of length 1"):
        torch.sort(x, out=(torch.empty(0),))
    with pytest.raises(TypeError, match="tuple of Tensors, not int"):
        torch.sort(x, out=(torch.empty(0), 3))
    v = torch.empty(0)
    with pytest.raises(RuntimeError, match="distinct"):
        torch.aminmax(x, out=(v, v))


def test_functions_pytorch_gives_no_out_refuse_it():
    x = torch.from_numpy(XN)
    with pytest.raises(TypeError):
        torch.var_mean(x, 0, out=_e(F, F))
    with pytest.raises(TypeError):
        torch.max_pool1d_with_indices(x[None], 2, out=_e(F, L))


def test_resize_warning_and_no_autograd():
    x = torch.from_numpy(XN)
    v, i = torch.empty(2), torch.empty(2, dtype=L)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.max(x, 1, out=(v, i))
    assert v.shape == (3,) and i.shape == (3,)
    assert any("was resized" in str(m.message) for m in w)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.max(x.requires_grad_(), 0, out=_e(F, L))


def test_ops_namespace_names_as_pytorch():
    assert str(torch.ops.aten.sort.values._schema) == (
        "aten::sort.values(Tensor self, int dim=-1, bool descending=False, *, "
        "Tensor(a!) values, Tensor(b!) indices) -> (Tensor(a!) values, Tensor(b!) indices)")
    assert "dim_max" in torch.ops.aten.max.overloads()
    assert "dim_min" in torch.ops.aten.min.overloads()
    v, i = _e(F, L)
    # (PyTorch names max.dim_max's out tensors max / max_values, not values / indices)
    torch.ops.aten.max.dim_max(torch.from_numpy(XN), 0, max=v, max_values=i)
    np.testing.assert_allclose(v.numpy(), XN.max(0))


@pytest.mark.parametrize("call,dtypes,check", [
    (lambda o: torch.linalg.qr(torch.from_numpy(AN), out=o), (F, F),
     lambda o: np.testing.assert_allclose((o[0] @ o[1]).numpy(), AN, atol=1e-5)),
    (lambda o: torch.linalg.eigh(torch.from_numpy(SN), out=o), (F, F),
     lambda o: np.testing.assert_allclose(o[0].numpy(), np.linalg.eigvalsh(SN), rtol=1e-5)),
    (lambda o: torch.linalg.slogdet(torch.from_numpy(SN), out=o), (F, F),
     lambda o: np.testing.assert_allclose(o[1].numpy(), np.linalg.slogdet(SN)[1], rtol=1e-5)),
    (lambda o: torch.linalg.cholesky_ex(torch.from_numpy(SN), out=o), (F, I32),
     lambda o: np.testing.assert_allclose(o[0].numpy(), np.linalg.cholesky(SN), rtol=1e-5)),
    (lambda o: torch.linalg.lu_factor(torch.from_numpy(AN), out=o), (F, I32),
     lambda o: None),
    (lambda o: torch.svd(torch.from_numpy(AN), out=o), (F, F, F),
     lambda o: np.testing.assert_allclose(o[1].numpy(), np.linalg.svd(AN)[1], rtol=1e-5)),
])
def test_linalg_tuple_outs(call, dtypes, check):
    out = _e(*dtypes)
    r = call(out)
    assert all(a is b for a, b in zip(r, out))
    check(out)


def test_linalg_single_out():
    A = torch.from_numpy(SN)
    o = torch.empty(0)
    assert torch.linalg.inv(A, out=o) is o
    np.testing.assert_allclose(o.numpy(), np.linalg.inv(SN), rtol=1e-4, atol=1e-5)
    o = torch.empty(0)
    assert torch.linalg.vector_norm(A, out=o) is o
    np.testing.assert_allclose(o.numpy(), np.linalg.norm(SN), rtol=1e-5)


def _roundtrip(m):
    b = io.BytesIO()
    torch.jit.save(m, b)
    b.seek(0)
    return torch.jit.load(b)


def test_scripted_tuple_out():
    @torch.jit.script
    def f(x, v, i):
        a, b = torch.sort(x, 1, out=(v, i))
        return a + 1, i

    @torch.jit.script
    def g(x, outs: tuple[torch.Tensor, torch.Tensor]):
        return torch.max(x, 0, out=outs)

    x = torch.from_numpy(XN)
    for fn in (f, _roundtrip(f)):
        for _ in range(3):               # profiling, then the optimized plan
            v, i = torch.empty(3, 5), torch.empty(3, 5, dtype=L)
            a, b = fn(x, v, i)
            assert b is i
            np.testing.assert_allclose(v.numpy(), np.sort(XN, 1))
            np.testing.assert_allclose(a.numpy(), np.sort(XN, 1) + 1)
            np.testing.assert_array_equal(i.numpy(), np.argsort(XN, 1))
    # (TorchScript's .code names each out tensor by its schema name; it takes no tuple)
    assert "torch.sort(x, 1, values=v, indices=i)" in f.code
    for _ in range(3):
        v, i = _e(F, L)
        r = g(x, (v, i))
        assert r[0] is v and r[1] is i
        np.testing.assert_allclose(v.numpy(), XN.max(0))


def test_scripted_tuple_out_errors():
    def wrong_count(x, v):
        return torch.max(x, 0, out=(v,))

    def not_tensors(x):
        return torch.max(x, 0, out=(1, 2))

    with pytest.raises(Exception, match=r"Tuple\[Tensor, Tensor\]"):
        torch.jit.script(wrong_count)
    with pytest.raises(Exception, match="Expected a value of type 'Tensor' for argument "
                                        "'out'"):
        torch.jit.script(not_tensors)


def test_traced_tuple_out_records_one_node_and_round_trips():
    def f(x, v, i):
        r = torch.max(x, 0, out=(v, i))
        return r.values * 2, i + 1

    x = torch.from_numpy(XN)
    t = torch.jit.trace(f, (x, torch.empty(5), torch.empty(5, dtype=L)))
    nodes = [n for n in t.graph.nodes() if n.kind() == "aten::max"]
    assert len(nodes) == 1 and len(list(nodes[0].inputs())) == 5
    assert "max=v, max_values=i)" in t.code      # (aten::max.dim_max's names)
    for fn in (t, _roundtrip(t)):
        v, i = torch.empty(5), torch.empty(5, dtype=L)
        a, b = fn(x, v, i)
        np.testing.assert_allclose(v.numpy(), XN.max(0))
        np.testing.assert_allclose(a.numpy(), 2 * XN.max(0))
        np.testing.assert_array_equal(b.numpy(), XN.argmax(0) + 1)


# ---------------------------------------------------------------- the optimized code
# (calls 2 and 3 run the generated array code, which must follow a write that gave a
# tensor a new array: out= resizing its out, an in-place view restriding)

def test_optimized_code_reads_a_local_out_after_it_was_resized():
    @torch.jit.script
    def f(x):
        o = torch.empty(0)
        torch.add(x, 1, out=o)
        return o * 2

    @torch.jit.script
    def g(x, o):
        torch.add(x, 1, out=o)
        return o * 2

    for _ in range(3):
        np.testing.assert_allclose(f(torch.ones(3)).numpy(), [4, 4, 4])
        o = torch.empty(0)
        np.testing.assert_allclose(g(torch.ones(3), o).numpy(), [4, 4, 4])
        np.testing.assert_allclose(o.numpy(), [2, 2, 2])


def test_writes_into_tensors_inside_container_arguments_reach_the_callers_tensors():
    from typing import List, Tuple

    @torch.jit.script
    def into_list(x, outs: List[torch.Tensor]):
        return torch.add(x, 1, out=outs[0])

    @torch.jit.script
    def into_tuple(x, outs: Tuple[torch.Tensor, torch.Tensor]):
        return torch.max(x, 0, out=outs)

    @torch.jit.script
    def restride(xs: Tuple[torch.Tensor, torch.Tensor]):
        a, b = xs
        a.t_()
        return a + 1

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # (these run op by op: a FusionWarning says so)
        for _ in range(3):
            o = torch.empty(0)
            assert into_list(torch.ones(3), [o]) is o
            np.testing.assert_allclose(o.numpy(), [2, 2, 2])
            v, i = _e(F, L)
            r = into_tuple(torch.from_numpy(XN), (v, i))
            assert r[0] is v and r[1] is i
            np.testing.assert_allclose(v.numpy(), XN.max(0))
            x = torch.ones(2, 3)
            assert restride((x, x)).shape == (3, 2)
            assert x.shape == (3, 2)
