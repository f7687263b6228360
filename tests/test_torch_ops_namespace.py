"""torch.ops.aten.<op>[.<overload>] (gpujit.ops.aten): the operator namespace PyTorch users
call in eager, traced and scripted code, over the one registry; and saving a traced function
whose Python default is an object the archive cannot hold."""
import io

import numpy as np
import pytest

import gpujit as torch
import gpujit.ops

aten = torch.ops.aten


def _x():
    return torch.tensor([[1.0, -2.0], [3.0, -4.0]])


def _close(t, expected):
    np.testing.assert_allclose(t.numpy(), np.asarray(expected), rtol=1e-6)


# ---------------------------------------------------------------- the namespace objects

def test_registry_package_imports_still_work():
    from gpujit.ops import registry, OPS, OVERLOADS, get
    assert registry.OPS is OPS and "aten::add.Tensor" in OPS and OVERLOADS
    assert get("aten::relu").name == "aten::relu"
    assert gpujit.ops.pointwise.__name__ == "gpujit.ops.pointwise"
    assert torch.ops is gpujit.ops


def test_namespace_packet_and_overload_objects():
    assert aten.name == "aten"
    assert repr(aten) == "<module 'gpujit.ops.aten'>"
    p = aten.add
    assert p is aten.add                                   # one packet per op
    assert repr(p) == "<OpOverloadPacket(op='aten.add')>"
    assert str(p) == "aten.add" and p._qualified_op_name == "aten::add"
    assert p.__name__ == "add"
    assert {"Tensor", "Scalar"} <= set(p.overloads())
    o = p.Tensor
    assert repr(o) == "<OpOverload(op='aten.add', overload='Tensor')>"
    assert str(o) == "aten.add.Tensor" and o.name() == "aten::add.Tensor"
    assert str(o._schema) == \
        "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor"
    assert o.overloadpacket is p and o._overloadname == "Tensor"
    assert o.__name__ == "add.Tensor" and o.namespace == "aten"
    assert o == aten.add.Tensor and hash(o) == hash(aten.add.Tensor)


def test_default_overload_is_the_unnamed_one():
    o = aten.relu.default
    assert o.name() == "aten::relu"
    assert str(o._schema) == "aten::relu(Tensor self) -> Tensor"
    assert repr(o) == "<OpOverload(op='aten.relu', overload='default')>"
    assert aten.relu.overloads() == ["default", "out"]     # out=: out_variants.py
    assert aten.sum.overloads()[:2] == ["default", "dim_IntList"]


def test_view_flag():
    assert aten.view.default.is_view
    assert not aten.add.Tensor.is_view


def test_missing_names_raise_attribute_error_as_torch_words_them():
    with pytest.raises(AttributeError, match=r"^'_OpNamespace' 'aten' object has no "
                                             r"attribute 'nope'$"):
        aten.nope
    with pytest.raises(AttributeError, match=r"^The underlying op of 'aten.add' has no "
                                             r"overload name 'nope'$"):
        aten.add.nope
    with pytest.raises(AttributeError, match="'_OpNamespace' 'nope' object has no "
                                             "attribute 'x'"):
        torch.ops.nope.x
    assert not hasattr(aten, "nope") and hasattr(aten, "add")
    assert "relu" in dir(aten) and "Tensor" in dir(aten.add)


# ---------------------------------------------------------------- eager calls

def test_eager_calls_compute_as_the_op():
    x, y = _x(), torch.ones(2, 2)
    _close(aten.add(x, y, alpha=2), x.numpy() + 2)
    _close(aten.add.Tensor(x, y, alpha=2), x.numpy() + 2)
    _close(aten.add(x, 1), x.numpy() + 1)
    _close(aten.relu.default(x), np.maximum(x.numpy(), 0))
    _close(aten.relu(x), np.maximum(x.numpy(), 0))
    _close(aten.sum.dim_IntList(x, [0]), x.numpy().sum(0))
    _close(aten.sum(x), x.numpy().sum())
    _close(aten.sum(x, [1], True), x.numpy().sum(1, keepdims=True))
    _close(aten.mul.Tensor(x, 3), x.numpy() * 3)


def test_packet_picks_the_overload_by_the_arguments():
    x = _x()
    assert aten.add(3, 4) == 7 and isinstance(aten.add(3, 4), int)
    assert aten.add(1.5, 2) == 3.5
    r = aten.add(torch.tensor(1.0), 2)          # a 0-dim tensor stays a tensor
    assert isinstance(r, torch.Tensor) and r.item() == 3.0
    _close(aten.max(x), 3.0)
    values, indices = aten.max(x, 0)
    _close(values, [3.0, -2.0])
    assert indices.tolist() == [1, 0]
    _close(aten.max(x, -x), np.abs(x.numpy()))


def test_scalar_overload_of_a_folded_op():
    x = _x()
    assert str(aten.add.Scalar._schema) == \
        "aten::add.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor"
    _close(aten.add.Scalar(x, 2), x.numpy() + 2)
    _close(aten.add.Scalar(x, 2, 3), x.numpy() + 6)       # alpha positional, as torch
    _close(aten.lt.Scalar(x, 0), x.numpy() < 0)
    y = x.clone()
    aten.add_.Scalar(y, 1)
    _close(y, x.numpy() + 1)


def test_call_that_fits_no_schema_raises_runtime_error():
    with pytest.raises(RuntimeError, match="failed to match any schema") as e:
        aten.relu("a")
    assert "Expected a value of type 'Tensor' for argument 'self' but instead found " \
           "type 'str'" in str(e.value)
    assert "Declaration: aten::relu(Tensor self) -> Tensor" in str(e.value)
    with pytest.raises(RuntimeError, match=r"aten::add\(\) is missing value for argument "
                                           r"'other'"):
        aten.add.Tensor(_x())


def test_inplace_overload_and_autograd():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    y = aten.mul.Tensor(aten.relu.default(x), 3.0)
    aten.sum.default(y).backward()
    _close(x.grad, [3.0, 0.0])
    z = torch.zeros(2)
    aten.add_.Tensor(z, torch.ones(2))
    _close(z, [1.0, 1.0])


@pytest.mark.parametrize("suffix,dtype", [
    ("Byte", torch.uint8), ("Char", torch.int8), ("Short", torch.int16),
    ("Int", torch.int32), ("Long", torch.int64), ("Half", torch.float16),
    ("Float", torch.float32), ("Double", torch.float64)])
def test_legacy_casts(suffix, dtype):
    x = torch.tensor([1.5, -2.0, 3.0])
    r = getattr(aten, "_cast_" + suffix)(x)
    assert r.dtype == dtype
    np.testing.assert_array_equal(r.numpy(), x.numpy().astype(dtype.np))
    r2 = getattr(torch, "_cast_" + suffix)(x, False)
    assert r2.dtype == dtype
    assert str(getattr(aten, "_cast_" + suffix).default._schema) == \
        f"aten::_cast_{suffix}(Tensor self, bool non_blocking=False) -> Tensor"


def test_cast_keeps_the_gradient():
    x = torch.tensor([1.5, -2.0], requires_grad=True)
    aten._cast_Double(x).sum().backward()
    assert x.grad.dtype == torch.float32
    _close(x.grad, [1.0, 1.0])
    assert aten._cast_Float(torch.tensor([1, 2])).tolist() == [1.0, 2.0]


# ---------------------------------------------------------------- traced and scripted

def test_traced_records_the_op():
    def f(x):
        return aten.relu.default(x) + aten.add(x, 2)
    x = _x()
    tf = torch.jit.trace(f, (x,))
    kinds = [n.kind for n in tf.graph.nodes if not n.kind.startswith("prim::")]
    assert kinds == ["aten::relu", "aten::add", "aten::add"]
    _close(tf(-x), np.maximum(-x.numpy(), 0) + (-x.numpy() + 2))


def test_scripted_calls_compile_to_the_op():
    @torch.jit.script
    def f(x, y):
        a = torch.ops.aten.relu(x)
        b = torch.ops.aten.add.Tensor(a, y, alpha=2)
        c = torch.ops.aten.sum.dim_IntList(b, [0])
        d = torch.ops.aten.add(c, 1)
        n = torch.ops.aten.add(3, 4)
        return torch.ops.aten.mul(d, n)
    x, y = _x(), torch.ones(2, 2)
    kinds = [n.kind for n in f.graph.nodes if not n.kind.startswith("prim::")]
    # (add(3, 4) of two constants is folded to 7 by the compiler's cleanup passes, as
    # TorchScript's ConstantPropagationImmutableTypes does)
    assert kinds == ["aten::relu", "aten::add", "aten::sum", "aten::add", "aten::mul"]
    expected = ((np.maximum(x.numpy(), 0) + 2).sum(0) + 1) * 7
    _close(f(x, y), expected)
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    buf.seek(0)
    _close(torch.jit.load(buf)(x, y), expected)


def test_scripted_module_calls_ops_namespace():
    class M(torch.nn.Module):
        def forward(self, x):
            return torch.ops.aten.relu.default(x) * 2
    m = torch.jit.script(M())
    _close(m(_x()), np.maximum(_x().numpy(), 0) * 2)


def test_scripted_unknown_op_is_a_clear_error():
    def h(x):
        return torch.ops.aten.nope(x)
    with pytest.raises(Exception, match=r"Unknown builtin op: aten::nope\."):
        torch.jit.script(h)


def test_scripted_overload_mismatch_is_a_frontend_error():
    def h(x):
        return torch.ops.aten.relu.default(x, x)
    with pytest.raises(Exception, match="relu"):
        torch.jit.script(h)


# ---------------------------------------------------------------- trace + save, defaults

class _Config:
    scale = 2.0


def _scaled(x, cfg=_Config()):
    return x * cfg.scale


def test_traced_function_with_an_object_default_saves_and_loads():
    x = torch.ones(3)
    tf = torch.jit.trace(_scaled, (x,))
    _close(tf(x), [2.0, 2.0, 2.0])
    assert tf.schema == "_scaled(Tensor x) -> Tensor"
    buf = io.BytesIO()
    torch.jit.save(tf, buf)
    buf.seek(0)
    _close(torch.jit.load(buf)(x), [2.0, 2.0, 2.0])


def test_traced_function_takes_every_traced_input():
    def f(x, w=torch.ones(3), k=2):
        return x * w * k
    x = torch.ones(3)
    tf = torch.jit.trace(f, (x, torch.full((3,), 2.0)))
    _close(tf(x, x), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError, match="missing value for argument 'w'"):
        tf(x)                    # as torch: a traced function keeps no defaults


# ---------------------------------------------------------------- every registry op, prim

def test_every_registry_op_is_reachable_with_its_schema():
    from gpujit.ops.registry import OVERLOADS
    for qname, ovs in OVERLOADS.items():
        ns, name = qname.split("::")
        packet = getattr(getattr(torch.ops, ns), name)
        assert packet._qualified_op_name == qname
        for d in ovs:
            o = getattr(packet, d.schema.overload or "default")
            assert o.name() == d.name and o._schema is d.schema
            assert str(o._schema) == str(d.schema)


def test_prim_ops_eager():
    prim = torch.ops.prim
    t = prim.NumToTensor(3)
    assert t.dtype == torch.int64 and t.item() == 3 and t.dim() == 0
    assert prim.NumToTensor(2.5).dtype == torch.float64
    assert prim.NumToTensor(True).dtype == torch.bool
    assert prim.NumToTensor.overloads() == ["Scalar", "bool"]
    assert str(prim.NumToTensor.Scalar._schema) == \
        "prim::NumToTensor.Scalar(Scalar a) -> Tensor"
    x = torch.ones(2, requires_grad=True)
    assert prim.device(x) == torch.device("cpu")
    assert prim.requires_grad(x) is True
    assert prim.itemsize(x) == 4 and prim.nbytes(x) == 8
    assert prim.grad(x) is None
    with pytest.raises(AttributeError, match="'_OpNamespace' 'prim' object has no "
                                             "attribute 'is_leaf'"):
        prim.is_leaf


def test_prim_ops_scripted():
    @torch.jit.script
    def f(n: int, x):
        return torch.ops.prim.NumToTensor(n) + x
    assert any(n.kind == "prim::NumToTensor" for n in f.graph.nodes)
    _close(f(3, torch.ones(2)), [4.0, 4.0])


def test_against_torch_ops_aten():
    real = pytest.importorskip("torch")
    xs = np.array([[1.5, -2.0, 0.25], [3.0, -4.5, 0.0]], np.float32)
    x, rx = torch.tensor(xs), real.tensor(xs)
    calls = [("add", (1,), {}), ("add", ("x",), {"alpha": 2}), ("relu", (), {}),
             ("sum", ([1],), {}), ("sum", (), {}), ("mul", (3,), {}), ("lt", (0,), {}),
             ("_cast_Int", (), {}), ("_cast_Double", (), {}), ("max", (), {}),
             ("sigmoid", (), {}), ("clamp", (-1, 1), {}), ("transpose", (0, 1), {}),
             ("where", (), {})]
    for name, args, kw in calls:
        if name == "where":
            got = getattr(aten, name)(x > 0, x, -x)
            want = getattr(real.ops.aten, name)(rx > 0, rx, -rx)
        else:
            a = [x if v == "x" else v for v in args]
            ra = [rx if v == "x" else v for v in args]
            got = getattr(aten, name)(x, *a, **kw)
            want = getattr(real.ops.aten, name)(rx, *ra, **kw)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], name
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, err_msg=name)
    for name in ("relu", "add", "sum", "_cast_Float", "view"):
        for ov in getattr(aten, name).overloads():
            if ov in getattr(real.ops.aten, name).overloads():
                assert str(getattr(getattr(aten, name), ov)._schema) == \
                    str(getattr(getattr(real.ops.aten, name), ov)._schema), (name, ov)
    for ns, name in (("aten", "nope"), ("prim", "nope")):
        with pytest.raises(AttributeError) as mine:
            getattr(getattr(torch.ops, ns), name)
        with pytest.raises(AttributeError) as theirs:
            getattr(getattr(real.ops, ns), name)
        assert str(mine.value) == str(theirs.value)
