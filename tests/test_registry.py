"""The op registry itself: schemas, bindings, the dispatch hook, generated entry points."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit.ops import registry
from gpujit.ops.schema import parse_schema


SCHEMAS = [
    "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
    "aten::max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)",
    "aten::add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)",
    "aten::view(Tensor(a) self, SymInt[] size) -> Tensor(a)",
    "aten::index.Tensor(Tensor self, Tensor?[] indices) -> Tensor",
    "aten::conv2d(Tensor input, Tensor weight, Tensor? bias=None, SymInt[2] stride=1, "
    "SymInt[2] padding=0, SymInt[2] dilation=1, SymInt groups=1) -> Tensor",
    "aten::split.Tensor(Tensor(a -> *) self, SymInt split_size, int dim=0) -> Tensor(a)[]"
    .replace("(a -> *)", "(a)"),
    "aten::layer_norm(Tensor input, SymInt[] normalized_shape, Tensor? weight=None, "
    "Tensor? bias=None, float eps=1e-05, bool cudnn_enable=True) -> Tensor",
    "aten::sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, "
    "ScalarType? dtype=None) -> Tensor",
    "aten::gelu(Tensor self, *, str approximate='none') -> Tensor",
]


@pytest.mark.parametrize("text", SCHEMAS)
def test_schema_round_trip(text):
    s = parse_schema(text)
    assert parse_schema(str(s)) == s


def test_schema_fields():
    s = parse_schema(SCHEMAS[1])
    assert s.name == "aten::max" and s.overload == "dim"
    assert [a.name for a in s.arguments] == ["self", "dim", "keepdim"]
    assert s.arguments[2].default is False
    assert [r.name for r in s.returns] == ["values", "indices"]
    c = parse_schema(SCHEMAS[5])
    assert c.arguments[3].default == (1, 1)   # SymInt[2] stride=1
    assert c.arguments[2].type.optional and c.arguments[2].type.is_tensor
    assert parse_schema(SCHEMAS[2]).is_inplace
    assert parse_schema(SCHEMAS[9]).arguments[1].kwarg_only


def test_bad_schema_is_a_clear_error():
    with pytest.raises(ValueError, match="expected 'ns::name"):
        parse_schema("add(Tensor self) -> Tensor")
    with pytest.raises(ValueError, match="no '-> returns'"):
        parse_schema("aten::add(Tensor self)")


@pytest.mark.parametrize("name", sorted(registry.OPS))
def test_every_op_is_well_formed(name):
    op = registry.OPS[name]
    assert parse_schema(str(op.schema)) == op.schema
    assert op.tags <= registry.TAGS
    assert op.public is not None and op.eager is not None
    assert op.source and op.source.startswith("def public(")
    if op.is_pointwise and op.operands and "no_fuse" not in op.tags:   # no_fuse: eager only
        assert op.scalar, f"{name} is pointwise but has no scalar expression for the fuser"
    if not op.is_pointwise:
        assert op.meta is not None, f"{name} has no meta rule"
    assert hasattr(op, "derivative")   # the autograd issue fills this slot


def test_public_surfaces_come_from_the_registry():
    assert gpujit.add.op is registry.OPS["aten::add.Tensor"]
    # gpujit.add also takes out= (out_variants.with_out), then calls the same entry point
    # Tensor.add is the method entry point (its errors number arguments without self:
    # entry_codegen._as_method) over the same op; x + y calls the op's operator entry point
    # (entry_codegen.operator_entry: its code returns NotImplemented where it meets a
    # TypeError (x + "a"), as PyTorch's operators, in one frame)
    assert gpujit.Tensor.add.op is gpujit.add.op
    assert gpujit.Tensor.__add__.op is gpujit.add.op
    assert gpujit.Tensor.__add__.__name__ == "__add__"
    assert gpujit.Tensor.sigmoid_.op.name == "aten::sigmoid_"
    assert gpujit.nn.functional.relu.op.name == "aten::relu"


def test_dispatch_hook_sees_every_call_in_schema_order():
    calls = []

    def hook(op, args):
        calls.append((op.name, args))
        return op.eager(*args)

    x = gpujit.ones(2, 3)
    registry.dispatch_state.hook = hook
    try:
        y = (x + 2) * x
        z = y.view(6)
        w = x[0]
    finally:
        registry.dispatch_state.refresh()    # the hook it had (autograd's, once active)
    names = [c[0] for c in calls]
    assert names == ["aten::add.Tensor", "aten::mul.Tensor", "aten::view",
                     "aten::select.int"]
    assert calls[0][1] == (x, 2, 1)            # alpha default filled in
    assert z.shape == (6,) and w.shape == (3,)
    np.testing.assert_allclose(z.numpy(), 3.0)


def test_bind_fills_defaults_and_rejects_bad_calls():
    op = registry.OPS["aten::add.Tensor"]
    x = gpujit.ones(2)
    assert op.bind((x, x), {"alpha": 3}) == [x, x, 3]
    with pytest.raises(TypeError, match="missing required argument 'other'"):
        op.bind((x,), {})
    with pytest.raises(TypeError, match="unexpected keyword"):
        op.bind((x, x), {"beta": 1})


def test_registry_get():
    assert registry.get("aten::sigmoid").name == "aten::sigmoid"
    with pytest.raises(KeyError, match="no op named"):
        registry.get("aten::nope")


def test_unknown_tag_is_rejected():
    with pytest.raises(ValueError, match="unknown tags"):
        registry.op("aten::_gpujit_test_bad_tag(Tensor self) -> Tensor",
                    tags={"pointwiese"}, meta=lambda s: s)(lambda xp, self: self)


def test_generated_source_is_inspectable_and_in_tracebacks():
    import linecache
    op = registry.OPS["aten::mul.Tensor"]
    assert "def public(self, other)" in op.source
    lines = linecache.getlines("<gpujit op aten::mul.Tensor:public>")
    assert lines and lines[0].startswith("def public(")


def test_device_mismatch_names_both_devices():
    # a fake second device: a CPU array labelled cuda:0 is enough to reach the check
    x = gpujit.ones(3)
    y = registry.wrap(np.ones(3, np.float32), gpujit.float32, gpujit.device("cuda", 0))
    with pytest.raises(RuntimeError, match=r"cpu and cuda:0"):
        x + y
