"""Traced graphs printed as torch 2.13 prints them (session 28): 0-dim tensor types,
list arguments as prim::ListConstruct of constants, NoneType constants, slice starts.
Expected texts were checked against torch 2.13's `torch.jit.trace(f, x).graph`."""
from typing import List

import pytest

import gpujit as torch
from gpujit.ir import types as T
from gpujit.ir.parser import parse_type


# ---- 1. tensor types -------------------------------------------------------------------

@pytest.mark.parametrize("text, sizes, strides", [
    ("Float(requires_grad=0, device=cpu)", (), ()),           # 0-dim: no strides=[]
    ("Long(requires_grad=1)", (), ()),
    ("Float()", (), None),
    ("FloatTensor", None, None),                              # dtype known, rank unknown
    ("DoubleTensor(requires_grad=0, device=cpu)", None, None),
    ("Tensor(requires_grad=0)", None, None),
    ("Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)", (3, 4), (4, 1)),
])
def test_tensor_type_text_round_trips(text, sizes, strides):
    t = parse_type(text)
    assert (t.sizes, t.strides) == (sizes, strides)
    assert str(t) == text


def test_zero_dim_types_print_without_strides():
    assert str(T.TensorType.of(torch.tensor(3))) == "Long(requires_grad=0, device=cpu)"
    assert str(T.TensorType.of(torch.tensor(1.5, requires_grad=True))) == \
        "Float(requires_grad=1, device=cpu)"
    t = T.TensorType.of(torch.tensor(2.0))
    assert parse_type(str(t)) == t
    assert str(T.TensorType.of(torch.rand(3, 4)).with_(sizes=None)) == \
        "FloatTensor(requires_grad=0, device=cpu)"


def test_traced_reduction_types():
    def f(x):
        return x.sum(), x.max(0)
    g = str(torch.jit.trace(f, torch.rand(4, 3)).graph)
    assert "strides=[]" not in g
    assert "Float(requires_grad=0, device=cpu) = aten::sum" in g
    assert ("Float(3, strides=[1], requires_grad=0, device=cpu), "
            "%8 : Long(3, strides=[1], requires_grad=0, device=cpu) = aten::max") in g or \
        "Long(3, strides=[1], requires_grad=0, device=cpu) = aten::max" in g
    # the graph text parses back to the same types
    g2 = torch._C.parse_ir(g)
    assert [str(o.type()) for n in g2.nodes() for o in n.outputs()
            if "aten::" in n.kind()][:1] == ["Float(requires_grad=0, device=cpu)"]
    assert str(torch._C.parse_ir(str(g2))) == str(g2)


# ---- 2-5. what the tracer records --------------------------------------------------------

def _lines(g):
    """The graph's lines without the `# file:line:0` comments."""
    return [ln.split(" # ")[0] for ln in str(g).splitlines()]


def _f(x):
    y = x.view(2, -1).sum(dim=[0]) + x.permute(1, 0).reshape(-1)[:3].mean()
    return torch.nn.functional.interpolate(x[None, None], size=(5, 4), mode='bilinear'), \
        y.max(0)


def test_brief_example_graph_as_torch():
    t = torch.jit.trace(_f, torch.rand(4, 4))
    lines = _lines(t.graph)
    # torch 2.13's graph, value numbers aside (and %input: torch names F.interpolate's local)
    expected = [
        "int = prim::Constant[value=2]()", "int = prim::Constant[value=-1]()",
        "int[] = prim::ListConstruct(", "Float(2, 8, strides=[8, 1], requires_grad=0, "
        "device=cpu) = aten::view(",
        "int = prim::Constant[value=0]()", "int[] = prim::ListConstruct(",
        "bool = prim::Constant[value=0]()", "NoneType = prim::Constant()",
        "Float(8, strides=[1], requires_grad=0, device=cpu) = aten::sum(",
        "int = prim::Constant[value=1]()", "int = prim::Constant[value=0]()",
        "int[] = prim::ListConstruct(", "= aten::permute(",
        "int = prim::Constant[value=-1]()", "int[] = prim::ListConstruct(", "= aten::reshape(",
        "int = prim::Constant[value=0]()", "int = prim::Constant[value=0]()",
        "int = prim::Constant[value=3]()", "int = prim::Constant[value=1]()",
        "Float(3, strides=[1], requires_grad=0, device=cpu) = aten::slice(",
        "NoneType = prim::Constant()",
        "Float(requires_grad=0, device=cpu) = aten::mean(",
        "int = prim::Constant[value=1]()", "= aten::add(",
        "int = prim::Constant[value=0]()", "= aten::unsqueeze(",
        "int = prim::Constant[value=1]()", "= aten::unsqueeze(",
        "int = prim::Constant[value=5]()", "int = prim::Constant[value=4]()",
        "int[] = prim::ListConstruct(", "bool = prim::Constant[value=0]()",
        "NoneType = prim::Constant()", "= aten::upsample_bilinear2d(",
        "int = prim::Constant[value=0]()", "bool = prim::Constant[value=0]()",
        "Float(requires_grad=0, device=cpu), ", "prim::TupleConstruct(",
        "prim::TupleConstruct("]
    body = lines[1:-1]
    assert len(body) == len(expected), "\n".join(lines)
    for got, want in zip(body, expected):
        assert want in got, (got, want)
    assert "%y : Float(8, strides=[1], requires_grad=0, device=cpu) = aten::add(" in str(t.graph)
    assert ("Float(requires_grad=0, device=cpu), %40 : Long(requires_grad=0, device=cpu) = "
            "aten::max" in str(t.graph)) or "Long(requires_grad=0, device=cpu) = aten::max" \
        in str(t.graph)
    # the code prints the lists as literals, as torch's
    code = t.code
    assert "torch.view(x, [2, -1])" in code and "torch.sum(torch.view(x, [2, -1]), [0])" in code
    assert "torch.slice(_0, 0, 0, 3)" in code or "torch.slice(_1, 0, 0, 3)" in code
    assert "torch.upsample_bilinear2d(" in code and "[5, 4], False, None)" in code
    x = torch.rand(4, 4)
    (a, (m, i)), (a2, (m2, i2)) = t(x), _f(x)
    assert torch.equal(a, a2) and torch.equal(m, m2) and torch.equal(i, i2)


def test_source_comments_column_zero_on_constants_not_on_lists_or_none():
    def g(x):
        return x.view(-1).sum(0)
    text = str(torch.jit.trace(g, torch.rand(2, 3)).graph)
    line = g.__code__.co_firstlineno + 1
    for ln in text.splitlines()[1:-1]:
        if "ListConstruct" in ln or "NoneType" in ln:
            assert " # " not in ln
        else:
            assert ln.endswith(f"test_trace_graphs_s28.py:{line}:0"), ln


def test_one_int_for_an_int_list_is_the_list_torch_records():
    F = torch.nn.functional

    def g(x):
        return F.max_pool2d(x, 2), x.sum(0)
    lines = _lines(torch.jit.trace(g, torch.rand(1, 1, 4, 4)).graph)
    kinds = [ln.split(" = ")[-1].split("(")[0].split("[")[0] for ln in lines[1:-1]]
    assert kinds == (["prim::Constant"] * 2 + ["prim::ListConstruct"] * 2
                     + ["prim::Constant"] * 2 + ["prim::ListConstruct"]
                     + ["prim::Constant"] * 2 + ["prim::ListConstruct"]
                     + ["prim::Constant", "aten::max_pool2d"]
                     + ["prim::Constant", "prim::ListConstruct", "prim::Constant",
                        "prim::Constant", "aten::sum", "prim::TupleConstruct"])


def test_float_lists_and_sizes_read_while_tracing():
    F = torch.nn.functional

    def g(x):
        return F.interpolate(x, scale_factor=2.0), x.view(x.size(0), -1)
    t = torch.jit.trace(g, torch.rand(1, 1, 2, 2))
    lines = _lines(t.graph)
    assert any("float[] = prim::ListConstruct(" in ln for ln in lines)
    assert sum("float = prim::Constant[value=2.]()" in ln for ln in lines) == 2
    assert any("int = aten::size(" in ln for ln in lines)
    x = torch.rand(3, 1, 2, 2)
    assert t(x)[1].shape == (3, 4)       # the traced size follows the input
    assert t(x)[0].shape == (3, 1, 4, 4)


def test_slices_record_torch_bounds():
    def g(x):
        return x[1:], x[::2], x[:, 1], x[..., 1:2], x[:], x[...], x[..., None]
    t = torch.jit.trace(g, torch.rand(4, 4))
    code = t.code
    big = "9223372036854775807"
    assert f"torch.slice(x, 0, 1, {big})" in code
    assert f"torch.slice(x, 0, 0, {big}, 2)" in code
    assert "torch.select(" in code and "torch.slice(x, 1, 1, 2)" in code
    assert "torch.alias(x)" in code and "torch.unsqueeze(x, 2)" in code
    assert code.count(f"0, 0, {big})") == 2     # x[:, 1] and x[:] slice dim 0 whole
    x = torch.rand(4, 4)
    for a, b in zip(t(x), g(x)):
        assert torch.equal(a, b)
    x = torch.rand(6, 5)                        # other shapes: the recorded bounds still fit
    for a, b in zip(t(x), g(x)):
        assert torch.equal(a, b)


def test_eager_indexing_unchanged():
    x = torch.rand(3, 4)
    assert x[:]._base is x or x[:].data_ptr() == x.data_ptr()
    assert (x[:, 1].numpy() == x.numpy()[:, 1]).all()
    assert x[1:].shape == (2, 4) and x[..., :2].shape == (3, 2)


def test_index_list_is_optional_tensor_list():
    idx = torch.tensor([0, 1])

    def g(x, i):
        return x[:, i]
    text = str(torch.jit.trace(g, (torch.rand(3, 4), idx)).graph)
    assert "Tensor?[] = prim::ListConstruct(" in text


def test_expand_with_a_traced_size_does_not_warn():
    import warnings

    def g(x):
        return x.expand(x.size(0), 2, 4, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = torch.jit.trace(g, torch.rand(1, 1, 4, 4))
    assert t(torch.rand(3, 1, 4, 4)).shape == (3, 2, 4, 4)


def test_optimized_graph_folds_the_lists():
    def g(x):
        return (x.view(2, -1) * 2).sum([0])
    t = torch.jit.trace(g, torch.rand(4, 4))
    x = torch.rand(4, 4)
    for _ in range(3):
        out = t(x)
    assert torch.allclose(out, (x.view(2, -1) * 2).sum([0]))
    opt = str(t.graph_for(x))
    assert "int[] = prim::Constant[value=[2, -1]]()" in opt or "prim::TensorExpr" in opt


def test_scripted_slice_bounds_are_the_none_constant():
    @torch.jit.script
    def g(xs: List[int], x):
        return xs[:2], x[1:]
    text = str(g.graph)
    assert "? = prim::Constant()" not in text
    assert "NoneType = prim::Constant()" in text
    a, b = g([1, 2, 3], torch.arange(3))
    assert a == [1, 2] and b.tolist() == [1, 2]
