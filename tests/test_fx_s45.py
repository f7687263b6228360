"""torch.fx for gpujit (session 45): symbolic_trace, Graph / Node, GraphModule's generated
code, Interpreter / Transformer, ShapeProp, replace_pattern. The same programs traced by
torch 2.13's torch.fx print the same graph and code text (when torch is installed), and
pinned texts let the tests run without torch."""
import copy
import math
import operator
import pickle

import numpy as np
import pytest

import gpujit
import gpujit.fx


def _my_leaf(x, y):             # kept as one node (fx.wrap below)
    return x * 2 + y


gpujit.fx.wrap("_my_leaf")
try:                            # (torch.fx's own registration, for the comparisons)
    import torch as _torch
    _torch.fx.wrap("_my_leaf")
except ImportError:
    pass


def _models(torch):
    """name -> (root, inputs) written once for torch and gpujit."""
    nn, F = torch.nn, torch.nn.functional

    class Sub(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 5)
            self.p = nn.Parameter(torch.ones(5))

        def forward(self, x):
            return self.lin(x) + self.p

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = Sub()
            self.register_buffer("b", torch.zeros(5))

        def forward(self, x, y=2):
            z = self.sub(x).relu() + 1
            z = torch.relu(z) * y
            w = F.linear(x, torch.ones(3, 4))
            a = z.sum(dim=-1, keepdim=True)
            t = x.shape[0]
            return {"z": z + self.b, "w": w, "a": (a, t), "s": z.size(1), "i": z[:, 1:3],
                    "c": torch.cat([z, z], 1)}

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.seq = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 6))

        def forward(self, x):
            x = F.max_pool2d(self.bn(self.conv(x)), 1)
            x = self.seq(x)
            return F.softmax(x, dim=-1), -x, abs(x), x @ x.t(), x.view(-1).neg()

    def fn(a, b):
        c = a * b - 1.5 / a
        d = torch.sigmoid(c) ** 2
        return torch.where(d > 0.5, d, -d).mean(0), c.max(dim=1).values, F.gelu(c)

    def fn_wrapped(x, y):
        return _my_leaf(x, y) + math.sqrt(x.size(0))

    def fn_names(x, w):
        y = F.conv2d(x, w).flatten(1).to(torch.float64)
        a, b = torch.split(y, [8, 8], dim=1)
        return torch.einsum("ij,ij->i", a, b) + torch.arange(x.size(0)), \
            torch.zeros_like(x, dtype=torch.int32)

    g = torch.Generator().manual_seed(0)
    return {
        "names": (fn_names, (torch.randn(2, 1, 2, 2, generator=g),
                             torch.randn(4, 1, 1, 1, generator=g))),
        "module": (M(), (torch.randn(2, 4, generator=g),)),
        "net": (Net().eval(), (torch.randn(2, 3, 5, 5, generator=g),)),
        "fn": (fn, (torch.rand(3, 4, generator=g) + 0.5, torch.randn(3, 4, generator=g))),
        "wrapped": (fn_wrapped, (torch.randn(3, generator=g), torch.randn(3, generator=g))),
    }


def _trace_all(torch):
    out = {}
    for name, (root, inputs) in _models(torch).items():
        gm = torch.fx.symbolic_trace(root)
        nodes = [(n.op, n.name, n.target if isinstance(n.target, str) else n.target.__name__,
                  [u.name for u in n.users]) for n in gm.graph.nodes]
        out[name] = (str(gm.graph), gm.code, nodes, str(gm), gm.print_readable(False))
    return out


_MODULE_GRAPH = """graph():
    %x : [num_users=3] = placeholder[target=x]
    %y : [num_users=1] = placeholder[target=y](default=2)
    %sub_lin : [num_users=1] = call_module[target=sub.lin](args = (%x,), kwargs = {})
    %sub_p : [num_users=1] = get_attr[target=sub.p]
    %add : [num_users=1] = call_function[target=operator.add](args = (%sub_lin, %sub_p), kwargs = {})
    %relu : [num_users=1] = call_method[target=relu](args = (%add,), kwargs = {})
    %add_1 : [num_users=1] = call_function[target=operator.add](args = (%relu, 1), kwargs = {})
    %relu_1 : [num_users=1] = call_function[target=torch.relu](args = (%add_1,), kwargs = {})
    %mul : [num_users=5] = call_function[target=operator.mul](args = (%relu_1, %y), kwargs = {})
    %_tensor_constant0 : [num_users=1] = get_attr[target=_tensor_constant0]
    %linear : [num_users=1] = call_function[target=torch._C._nn.linear](args = (%x, %_tensor_constant0), kwargs = {})
    %sum_1 : [num_users=1] = call_method[target=sum](args = (%mul,), kwargs = {dim: -1, keepdim: True})
    %getattr_1 : [num_users=1] = call_function[target=builtins.getattr](args = (%x, shape), kwargs = {})
    %getitem : [num_users=1] = call_function[target=operator.getitem](args = (%getattr_1, 0), kwargs = {})
    %b : [num_users=1] = get_attr[target=b]
    %add_2 : [num_users=1] = call_function[target=operator.add](args = (%mul, %b), kwargs = {})
    %size : [num_users=1] = call_method[target=size](args = (%mul, 1), kwargs = {})
    %getitem_1 : [num_users=1] = call_function[target=operator.getitem](args = (%mul, (slice(None, None, None), slice(1, 3, None))), kwargs = {})
    %cat : [num_users=1] = call_function[target=torch.cat](args = ([%mul, %mul], 1), kwargs = {})
    return {'z': add_2, 'w': linear, 'a': (sum_1, getitem), 's': size, 'i': getitem_1, 'c': cat}"""

_MODULE_CODE = """


def forward(self, x, y = 2):
    sub_lin = self.sub.lin(x)
    sub_p = self.sub.p
    add = sub_lin + sub_p;  sub_lin = sub_p = None
    relu = add.relu();  add = None
    add_1 = relu + 1;  relu = None
    relu_1 = torch.relu(add_1);  add_1 = None
    mul = relu_1 * y;  relu_1 = y = None
    _tensor_constant0 = self._tensor_constant0
    linear = torch._C._nn.linear(x, _tensor_constant0);  _tensor_constant0 = None
    sum_1 = mul.sum(dim = -1, keepdim = True)
    getattr_1 = x.shape;  x = None
    getitem = getattr_1[0];  getattr_1 = None
    b = self.b
    add_2 = mul + b;  b = None
    size = mul.size(1)
    getitem_1 = mul[(slice(None, None, None), slice(1, 3, None))]
    cat = torch.cat([mul, mul], 1);  mul = None
    return {'z': add_2, 'w': linear, 'a': (sum_1, getitem), 's': size, 'i': getitem_1, 'c': cat}
    """


def test_graph_and_code_text():
    gm = gpujit.fx.symbolic_trace(_models(gpujit)["module"][0])
    assert str(gm.graph) == _MODULE_GRAPH
    assert gm.code == _MODULE_CODE
    assert str(gm) == ("M(\n  (sub): Module(\n    (lin): Linear(in_features=4, "
                       "out_features=5, bias=True)\n  )\n)\n" + _MODULE_CODE +
                       "\n# To see more debug info, please use "
                       "`graph_module.print_readable()`")
    assert type(gm).__name__ == "M" and isinstance(gm, gpujit.fx.GraphModule)
    assert list(gm.state_dict()) == ["_tensor_constant0", "b", "sub.p", "sub.lin.weight",
                                     "sub.lin.bias"]
    x = [n for n in gm.graph.nodes][0]
    assert [u.name for u in x.users] == ["sub_lin", "linear", "getattr_1"]


def test_graph_and_code_text_match_torch():
    torch = pytest.importorskip("torch")
    assert _trace_all(gpujit) == _trace_all(torch)


def test_traced_module_gives_the_modules_results():
    for name, (root, inputs) in _models(gpujit).items():
        gm = gpujit.fx.symbolic_trace(root)
        expected, got = root(*inputs), gm(*inputs)
        flat_e, flat_g = gpujit.utils._pytree.tree_leaves(expected), \
            gpujit.utils._pytree.tree_leaves(got)
        assert len(flat_e) == len(flat_g), name
        for e, g in zip(flat_e, flat_g):
            if isinstance(e, gpujit.Tensor):
                np.testing.assert_array_equal(g.detach().numpy(), e.detach().numpy())
            else:
                assert g == e


def test_wrapped_and_autowrapped_functions_are_one_node():
    gm = gpujit.fx.symbolic_trace(_models(gpujit)["wrapped"][0])
    assert [(n.op, str(n.target) if isinstance(n.target, str) else n.target.__name__)
            for n in gm.graph.nodes] == [
        ("placeholder", "x"), ("placeholder", "y"), ("call_function", "_my_leaf"),
        ("call_method", "size"), ("call_function", "sqrt"), ("call_function", "add"),
        ("output", "output")]
    assert gm.code.startswith('\ntorch.fx._symbolic_trace.wrap("test_fx_s45__my_leaf")\n'
                              'torch.fx._symbolic_trace.wrap("math_sqrt")\n\n'
                              'def forward(self, x, y):\n'
                              '    _my_leaf = test_fx_s45__my_leaf(x, y);  y = None\n')


def _control_flow_errors(torch):
    def branch(x):
        if x.sum() > 0:
            return x
        return -x

    def loop(x):
        return [t for t in x]

    def length(x):
        return len(x)
    out = []
    for f in (branch, loop, length):
        with pytest.raises(Exception) as e:
            torch.fx.symbolic_trace(f)
        out.append((type(e.value).__name__, str(e.value)))
    return out


def test_control_flow_on_proxies_raises():
    errs = _control_flow_errors(gpujit)
    assert errs[0] == ("TraceError", "symbolically traced variables cannot be used as "
                       "inputs to control flow")
    assert issubclass(gpujit.fx.proxy.TraceError, ValueError)
    assert errs[1][0] == "TraceError" and errs[1][1].startswith("Proxy object cannot be iterated")
    assert errs[2] == ("RuntimeError", "'len' is not supported in symbolic tracing by "
                       "default. If you want this call to be recorded, please call "
                       "torch.fx.wrap('len') at module scope")


def test_control_flow_on_proxies_raises_match_torch():
    torch = pytest.importorskip("torch")
    assert _control_flow_errors(gpujit) == _control_flow_errors(torch)


def _concrete_and_leaves(torch):
    nn = torch.nn

    def f(x, flag, scale=None):
        if flag:
            x = x + 1
        if scale is not None:
            x = x * scale
        return x

    out = [torch.fx.symbolic_trace(f, concrete_args={"flag": True, "scale": None}).code]

    class Inner(nn.Module):
        def forward(self, x):
            return x.tanh()

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(self.inner(x)).unsqueeze(0)

    class LeafInner(torch.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return isinstance(m, Inner) or super().is_leaf_module(m, qualname)

    class NoLeaf(torch.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return False

    out.append(str(torch.fx.symbolic_trace(Outer()).graph))
    out.append(str(LeafInner().trace(Outer())))
    out.append(str(NoLeaf().trace(Outer())))
    return out


def test_concrete_args_and_leaf_modules():
    code, default, leaf, noleaf = _concrete_and_leaves(gpujit)
    assert "torch._assert(eq, 'flag has been specialized to have value True but got " \
           "another value')" in code and "_assert_is_none" in code
    assert "call_method[target=tanh]" in default and "call_module[target=lin]" in default
    assert "call_module[target=inner]" in leaf
    assert "call_function[target=torch._C._nn.linear](args = (%tanh, %lin_weight, " \
           "%lin_bias)" in noleaf


def test_concrete_args_and_leaf_modules_match_torch():
    torch = pytest.importorskip("torch")
    assert _concrete_and_leaves(gpujit) == _concrete_and_leaves(torch)


def _graph_editing(torch):
    """Graph built by hand and changed: names, users, insertion, erasure, DCE, lint."""
    fx = torch.fx
    g = fx.Graph()
    x = g.placeholder("x")
    s = g.call_function(torch.sin, (x,))
    a1 = g.call_function(operator.add, (s, 1))
    a2 = g.call_function(operator.add, (a1, x))
    dead = g.call_method("sum", (a2,))
    g.output(a2)
    out = [str(g), dead.name, sorted(u.name for u in x.users)]
    with g.inserting_after(s):
        c = g.call_function(torch.cos, (s,))
    s.replace_all_uses_with(c, delete_user_cb=lambda u: u is not c)
    out.append(str(g))
    out.append(g.eliminate_dead_code())
    out.append(str(g))
    with pytest.raises(RuntimeError) as e:
        g.erase_node(c)
    out.append(str(e.value))
    with g.inserting_before(a1):
        bad = g.call_function(torch.neg, (a2,))
    with pytest.raises(RuntimeError) as e:
        g.lint()
    out.append(str(e.value).split("\n")[0])
    g.erase_node(bad)
    g.lint()
    g2 = copy.deepcopy(g)
    out.append(str(g2))
    out.append(str(fx.GraphModule(torch.nn.Module(), g2).code))
    return out


def test_graph_editing():
    out = _graph_editing(gpujit)
    assert out[0] == """graph():
    %x : [num_users=2] = placeholder[target=x]
    %sin : [num_users=1] = call_function[target=torch.sin](args = (%x,), kwargs = {})
    %add : [num_users=1] = call_function[target=operator.add](args = (%sin, 1), kwargs = {})
    %add_1 : [num_users=2] = call_function[target=operator.add](args = (%add, %x), kwargs = {})
    %sum_1 : [num_users=0] = call_method[target=sum](args = (%add_1,), kwargs = {})
    return add_1"""
    assert out[1:3] == ["sum_1", ["add_1", "sin"]]
    assert out[4] is True and "sum_1" not in out[5] and "%cos" in out[5]
    assert out[6].startswith("Tried to erase Node cos but it still had 1 users in the graph")
    assert out[7] == ("Argument 'add_1' of Node 'neg' was used before it has been defined! "
                      "Please check that Nodes in the graph are topologically ordered")
    assert out[9] == """


def forward(self, x):
    sin = torch.sin(x)
    cos = torch.cos(sin);  sin = None
    add = cos + 1;  cos = None
    add_1 = add + x;  add = x = None
    return add_1
    """


def test_graph_editing_match_torch():
    torch = pytest.importorskip("torch")
    assert _graph_editing(gpujit) == _graph_editing(torch)


def test_replace_add_with_mul_and_recompile():
    """The docs' first transform: every torch.add / operator.add becomes torch.mul."""
    def f(x, y):
        return torch_add(x, y) + x
    torch_add = gpujit.add
    gm = gpujit.fx.symbolic_trace(f)
    for n in gm.graph.nodes:
        if n.op == "call_function" and n.target in (gpujit.add, operator.add):
            n.target = gpujit.mul
    gm.recompile()
    x, y = gpujit.tensor([1.0, 2.0]), gpujit.tensor([3.0, 4.0])
    np.testing.assert_array_equal(gm(x, y).detach().numpy(), [3.0, 16.0])
    assert "add = torch.mul(x, y)" in gm.code and "add_1 = torch.mul(add, x)" in gm.code


def test_pickle_and_deepcopy_round_trip():
    root, inputs = _models(gpujit)["module"]
    gm = gpujit.fx.symbolic_trace(root)
    for g2 in (copy.deepcopy(gm), pickle.loads(pickle.dumps(gm))):
        assert g2.code == gm.code and str(g2.graph) == str(gm.graph)
        np.testing.assert_array_equal(g2(*inputs)["z"].detach().numpy(),
                                      root(*inputs)["z"].detach().numpy())
    assert type(copy.deepcopy(gm)).__name__ == "GraphModule"     # (as torch's)
    assert type(pickle.loads(pickle.dumps(gm))).__name__ == "GraphModule"
    assert copy.deepcopy(gm).sub.lin.weight is not gm.sub.lin.weight


def test_fx_is_an_attribute_of_the_package():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", "import gpujit as torch; "
                        "print(torch.fx.symbolic_trace(lambda x: x + 1).code.strip())"],
                       capture_output=True, text=True)
    assert r.stdout.strip() == "def forward(self, x):\n    add = x + 1;  x = None\n    return add"


def _passes(torch):
    """The docs' replace_pattern, Transformer and Interpreter examples."""
    import importlib
    fx = importlib.import_module(torch.__name__ + ".fx")
    out = []

    class M(torch.nn.Module):
        def forward(self, x, w1, w2):
            m1 = torch.cat([w1, w2]).sum()
            m2 = torch.cat([w1, w2]).sum()
            return x + torch.max(m1) + torch.max(m2)

    def pattern(w1, w2):
        return torch.cat([w1, w2]).sum()

    def replacement(w1, w2):
        return torch.stack([w1, w2])

    tm = fx.symbolic_trace(M())
    ms = fx.replace_pattern(tm, pattern, replacement)
    out.append(tm.code)
    out.append([(m.anchor.name, sorted((k.name, v.name) for k, v in m.nodes_map.items()))
                for m in ms])
    w = torch.tensor([[1.0, 2.0]])
    out.append(tm(torch.tensor(0.5), w, w * 3).tolist())

    class NegSigmSwap(fx.Transformer):
        def call_function(self, target, args, kwargs):
            if target == torch.sigmoid:
                return torch.neg(*args, **kwargs)
            return super().call_function(target, args, kwargs)

        def call_method(self, target, args, kwargs):
            if target == "neg":
                call_self, *args_tail = args
                return call_self.sigmoid(*args_tail, **kwargs)
            return super().call_method(target, args, kwargs)

    class NegSigmInterp(fx.Interpreter):
        def call_function(self, target, args, kwargs):
            if target == torch.sigmoid:
                return torch.neg(*args, **kwargs)
            return super().call_function(target, args, kwargs)

    def fn(x):
        return torch.sigmoid(x).neg()

    g2 = NegSigmSwap(fx.symbolic_trace(fn)).transform()
    x = torch.tensor([0.5, -1.0])
    out += [g2.code, g2(x).tolist(), fx.Interpreter(fx.symbolic_trace(fn)).run(x).tolist(),
            NegSigmInterp(fx.symbolic_trace(fn)).run(x).tolist()]
    with pytest.raises(RuntimeError) as e:
        fx.Interpreter(fx.symbolic_trace(lambda a, b: a @ b)).run(torch.ones(2, 3),
                                                                   torch.ones(2, 3))
    out.append(str(e.value).split("\n\n", 1)[1])
    return out


def test_replace_pattern_transformer_interpreter():
    out = _passes(gpujit)
    assert out[0] == """


def forward(self, x, w1, w2):
    stack = torch.stack([w1, w2])
    max_1 = torch.max(stack);  stack = None
    add = x + max_1;  x = max_1 = None
    stack_1 = torch.stack([w1, w2]);  w1 = w2 = None
    max_2 = torch.max(stack_1);  stack_1 = None
    add_1 = add + max_2;  add = max_2 = None
    return add_1
    """
    assert out[1] == [("sum_1", [("cat", "cat"), ("sum_1", "sum_1"), ("w1", "w1"), ("w2", "w2")]),
                      ("sum_1", [("cat", "cat_1"), ("sum_1", "sum_2"), ("w1", "w1"),
                                 ("w2", "w2")])]
    assert out[2] == 12.5
    assert "neg = torch.neg(x)" in out[3] and "sigmoid = neg.sigmoid()" in out[3]
    s = 1 / (1 + np.exp(-np.array([-0.5, 1.0])))
    np.testing.assert_allclose(out[4], s, rtol=1e-6)
    np.testing.assert_allclose(out[5], -1 / (1 + np.exp(-np.array([0.5, -1.0]))), rtol=1e-6)
    assert out[6] == [0.5, -1.0]
    assert out[7] == ("While executing %matmul : [num_users=1] = call_function[target="
                      "operator.matmul](args = (%a, %b), kwargs = {})\nOriginal traceback:\n"
                      "None\nUse tlparse to see full graph. (https://github.com/pytorch/"
                      "tlparse?tab=readme-ov-file#tlparse-parse-structured-pt2-logs)")


def test_replace_pattern_transformer_interpreter_match_torch():
    torch = pytest.importorskip("torch")
    a, b = _passes(gpujit), _passes(torch)
    assert a[:4] + a[6:] == b[:4] + b[6:]
    np.testing.assert_allclose(a[4:6], b[4:6], rtol=1e-6)


def test_shape_prop_records_tensor_metadata():
    from gpujit.fx.passes.shape_prop import ShapeProp, TensorMetadata
    nn = gpujit.nn

    class TwoLayerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(6, 4)
            self.linear2 = nn.Linear(4, 3)

        def forward(self, x):
            return self.linear2(self.linear1(x).clamp(min=0)), x.t(), x.size(0)

    gm = gpujit.fx.symbolic_trace(TwoLayerNet())
    r = ShapeProp(gm).propagate(gpujit.randn(5, 6))
    assert r[2] == 5
    metas = {n.name: n.meta.get("tensor_meta") for n in gm.graph.nodes}
    assert metas["x"] == TensorMetadata(gpujit.Size([5, 6]), gpujit.float32, False, (6, 1),
                                        gpujit.contiguous_format, False, {})
    assert metas["linear1"].shape == (5, 4) and metas["linear1"].requires_grad
    assert metas["linear2"].stride == (3, 1)
    assert metas["t"].stride == (1, 6) and metas["t"].memory_format is None
    assert metas["size"] is None and [n.meta["type"] for n in gm.graph.nodes][-2] is int
    out = metas["output"]
    assert isinstance(out, tuple) and out[0].shape == (5, 3) and out[2] == 5


def _fuse_conv_bn(torch, model):
    """The conv/bn fusion example of the torch.fx documentation."""
    import importlib
    fx = importlib.import_module(torch.__name__ + ".fx")
    fusion = importlib.import_module(torch.__name__ + ".nn.utils.fusion")
    model = copy.deepcopy(model)
    fx_model = fx.symbolic_trace(model)
    modules = dict(fx_model.named_modules())
    for node in fx_model.graph.nodes:
        if node.op != "call_module":
            continue
        if type(modules[node.target]) is torch.nn.BatchNorm2d and \
                type(modules[node.args[0].target]) is torch.nn.Conv2d:
            if len(node.args[0].users) > 1:
                continue
            conv, bn = modules[node.args[0].target], modules[node.target]
            parent, _, name = node.args[0].target.rpartition(".")
            setattr(modules[parent], name, fusion.fuse_conv_bn_eval(conv, bn))
            node.replace_all_uses_with(node.args[0])
            fx_model.graph.erase_node(node)
    fx_model.graph.lint()
    fx_model.recompile()
    return fx_model


def _conv_bn_model(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x):
            return torch.relu(self.bn(self.conv(x)))

    m = nn.Sequential(Block(), nn.Conv2d(4, 2, 1), nn.BatchNorm2d(2))
    with torch.no_grad():
        for bn in (m[0].bn, m[2]):
            bn.running_mean.copy_(torch.arange(bn.num_features) * 0.1)
            bn.running_var.copy_(torch.arange(bn.num_features) * 0.2 + 0.5)
    return m.eval()


def test_conv_bn_fusion():
    m = _conv_bn_model(gpujit)
    fused = _fuse_conv_bn(gpujit, m)
    assert fused.code == """


def forward(self, input):
    input_1 = input
    _0_conv = getattr(self, "0").conv(input_1);  input_1 = None
    relu = torch.relu(_0_conv);  _0_conv = None
    _1 = getattr(self, "1")(relu);  relu = None
    return _1
    """
    x = gpujit.randn(2, 3, 5, 5)
    with gpujit.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), m(x).numpy(), rtol=1e-4, atol=1e-5)


def test_conv_bn_fusion_matches_torch():
    torch = pytest.importorskip("torch")
    assert _fuse_conv_bn(gpujit, _conv_bn_model(gpujit)).code == \
        _fuse_conv_bn(torch, _conv_bn_model(torch)).code


def _cpp_function_calls(torch):
    """torch's C++ functions (torch.flatten, F.avg_pool2d, F.scaled_dot_product_attention)
    hand __torch_function__ the call's own arguments; its Python-level ones (F.dropout)
    their parameters."""
    F = torch.nn.functional
    log = []

    class M(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append((func.__name__, len(args), sorted(kwargs or {})))
            return func(*args, **(kwargs or {}))

    x = torch.ones(1, 2, 4, 4)
    calls = [lambda: torch.flatten(x, 1), lambda: torch.flatten(x, 0, -1),
             lambda: torch.flatten(x, 1, 2), lambda: F.avg_pool2d(x, 2),
             lambda: F.avg_pool2d(x, 2, ceil_mode=True),
             lambda: F.scaled_dot_product_attention(x, x, x),
             lambda: F.dropout(x, 0.5, training=False)]
    out = []
    for c in calls:
        del log[:]
        with M():
            c()
        out.append(log[0])
    gm = torch.fx.symbolic_trace(lambda x: F.avg_pool2d(torch.flatten(x, 2)[:, None], 1))
    return out, gm.code


def test_cpp_functions_get_the_calls_arguments():
    out, code = _cpp_function_calls(gpujit)
    assert out == [("flatten", 2, []), ("flatten", 1, []), ("flatten", 3, []),
                   ("avg_pool2d", 2, []), ("avg_pool2d", 5, []),
                   ("scaled_dot_product_attention", 3, []),
                   ("dropout", 1, ["inplace", "p", "training"])]
    assert "flatten = torch.flatten(x, 2);  x = None" in code
    assert "avg_pool2d = torch._C._nn.avg_pool2d(getitem, 1);  getitem = None" in code


def test_cpp_functions_get_the_calls_arguments_match_torch():
    torch = pytest.importorskip("torch")
    a, b = _cpp_function_calls(gpujit), _cpp_function_calls(torch)
    # (not as torch: gpujit cannot tell how the caller passed an argument; it passes them
    # positionally up to the last one that is not its default: torch.flatten(x, 0, -1)
    # gives 1 argument where torch's gives 3, F.avg_pool2d(x, 2, ceil_mode=True) 5
    # positional where torch's gives ceil_mode by keyword)
    same = [0, 2, 3, 5, 6]
    assert [a[0][i] for i in same] == [b[0][i] for i in same] and a[1] == b[1]
    assert b[0][1] == ("flatten", 3, []) and b[0][4] == ("avg_pool2d", 2, ["ceil_mode"])


def test_dtypes_and_torch_names_in_generated_code():
    """dtypes print as torch.float64 (gpujit's own print is gpujit.float64: the generated
    code failed with NameError), F.conv2d is torch.conv2d, torch.split and torch.einsum
    are torch.functional's, torch.arange(proxy) traces (a sentinel default reached the
    graph)."""
    gm = gpujit.fx.symbolic_trace(_models(gpujit)["names"][0])
    assert gm.code == """


def forward(self, x, w):
    conv2d = torch.conv2d(x, w);  w = None
    flatten = conv2d.flatten(1);  conv2d = None
    to = flatten.to(torch.float64);  flatten = None
    split = torch.functional.split(to, [8, 8], dim = 1);  to = None
    getitem = split[0]
    getitem_1 = split[1];  split = None
    einsum = torch.functional.einsum('ij,ij->i', getitem, getitem_1);  getitem = getitem_1 = None
    size = x.size(0)
    arange = torch.arange(size);  size = None
    add = einsum + arange;  einsum = arange = None
    zeros_like = torch.zeros_like(x, dtype = torch.int32);  x = None
    return (add, zeros_like)
    """
    assert "call_method[target=to](args = (%flatten, torch.float64), kwargs = {})" in \
        str(gm.graph)


def _module_and_graph_api(torch):
    """A ResNet-like block with ModuleList, Sequential, MultiheadAttention, a buffer;
    Tracer options; the Graph / Node API; GraphModule from a dict."""
    import importlib
    nn, F = torch.nn, torch.nn.functional
    fx = importlib.import_module(torch.__name__ + ".fx")
    class Block(nn.Module):
        def __init__(s):
            super().__init__()
            s.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False); s.bn1 = nn.BatchNorm2d(4)
            s.relu = nn.ReLU(inplace=True)
            s.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
            s.seq = nn.Sequential(nn.Linear(4, 4), nn.GELU())
            s.ln = nn.LayerNorm(4)
            s.mha = nn.MultiheadAttention(4, 2, batch_first=True)
            s.register_buffer("scale", torch.tensor(2.0))
        def forward(s, x):
            idt = x
            out = s.relu(s.bn1(s.conv1(x)))
            out = out + idt
            out = torch.flatten(F.adaptive_avg_pool2d(out, (1, 1)), 1)
            for l in s.layers:
                out = l(out)
            out = s.seq(out) * s.scale
            out = s.layers[0](out)
            q = s.ln(out).unsqueeze(1)
            a, w = s.mha(q, q, q)
            return a.squeeze(1), w, out.shape, out.dtype
    out = {}
    m = Block().eval()
    gm = fx.symbolic_trace(m)
    out["block"] = str(gm.graph) + gm.code
    out["block_mod"] = str(gm)
    class T2(fx.Tracer):
        pass
    t = T2(param_shapes_constant=True)
    class P(nn.Module):
        def __init__(s):
            super().__init__(); s.w = nn.Parameter(torch.ones(3, 2))
        def forward(s, x):
            return x @ s.w.t() if s.w.shape[0] == 3 else x, s.w.size(), s.w.dim()
    out["param_const"] = str(t.trace(P()))
    class BufT(fx.Tracer):
        proxy_buffer_attributes = True
    class B(nn.Module):
        def __init__(s):
            super().__init__(); s.register_buffer("b", torch.ones(2))
        def forward(s, x):
            return x + s.b + s.b
    out["buf"] = str(BufT().trace(B()))
    out["buf_default"] = str(fx.symbolic_trace(B()).graph)
    # graph api
    g = gm.graph
    nodes = list(g.nodes)
    n = nodes[3]
    out["api"] = [repr(n), n.prev.name, n.next.name, [a.name for a in n.all_input_nodes],
                  n.format_node(), len(g.nodes),
                  [x.name for x in g.find_nodes(op="call_module")][:4],
                  str(fx.map_arg((n, [n, 1]), lambda a: a.name))]
    # dict root
    g2 = fx.Graph()
    x = g2.placeholder("x")
    l = g2.call_module("foo.lin", (x,))
    g2.output(l)
    gm2 = fx.GraphModule({"foo.lin": nn.Linear(2, 2)}, g2, "Dicty")
    out["dict_root"] = str(gm2) 
    try:
        fx.GraphModule({}, g2)
    except Exception as e:
        out["dict_root_err"] = (type(e).__name__, str(e))
    gm3 = fx.GraphModule(nn.Module(), fx.Graph())
    out["empty"] = gm3.code
    g4 = fx.Graph()
    a = g4.placeholder("a"); 
    try:
        g4.create_node("call_function", "notcallable", (a,))
    except Exception as e:
        out["bad_target"] = (type(e).__name__, str(e).split("] ")[-1])
    y = g4.call_function(operator.add, (a, a), name="y")
    y2 = g4.call_function(operator.add, (a, a), name="y")
    z = g4.call_method("view", (y, -1))
    g4.output((y2, z))
    out["names"] = str(g4)
    gm4 = fx.GraphModule(nn.Module(), g4)
    out["names_code"] = gm4.code
    with g4.inserting_before(z):
        nn_ = g4.call_function(torch.relu, (y,))
    z.replace_input_with(y, nn_)
    gm4.recompile()
    out["replace_input"] = gm4.code
    try:
        gm4.graph.erase_node(z)
    except Exception as e:
        out["erase_used"] = (type(e).__name__, str(e))
    try:
        gm4.graph.lint()
    except Exception as e:
        out["lint_erased"] = (type(e).__name__, str(e).split("\n")[0])
    return out


def test_module_and_graph_api():
    out = _module_and_graph_api(gpujit)
    assert "%layers_0 : [num_users=1] = call_module[target=layers.0](args = (%flatten,)" \
        in out["block"] and "%seq_0 : " in out["block"] and "%mha : [num_users=2]" in \
        out["block"]
    assert out["param_const"].endswith("return (matmul, (3, 2), 2)")
    assert "%b : [num_users=2] = get_attr[target=b]" in out["buf"]
    assert out["api"] == ["relu", "bn1", "add", ["bn1"], "%relu : [num_users=1] = "
                          "call_module[target=relu](args = (%bn1,), kwargs = {})", 23,
                          ["conv1", "bn1", "relu", "layers_0"], "('relu', ['relu', 1])"]
    assert out["dict_root_err"] == ("RuntimeError", "Node foo_lin referenced target foo.lin "
                                    "but that target was not provided in ``root``!")
    assert out["empty"] == "\n\n\ndef forward(self):\n    pass\n    "
    assert out["bad_target"] == ("ValueError", "target notcallable has type str but a "
                                 "Callable is expected")
    assert out["names_code"] == ("\n\n\ndef forward(self, a):\n    y = a + a\n    y_1 = a + a;"
                                 "  a = None\n    view = y.view(-1);  y = None\n    return "
                                 "(y_1, view)\n    ")
    assert "relu = torch.relu(y);  y = None\n    view = relu.view(-1)" in out["replace_input"]
    assert out["erase_used"] == ("RuntimeError", "Tried to erase Node view but it still had "
                                 "1 users in the graph: {output: None}!")


def test_module_and_graph_api_match_torch():
    torch = pytest.importorskip("torch")
    assert _module_and_graph_api(gpujit) == _module_and_graph_api(torch)


def _signatures_and_operators(torch):
    """Annotations, *args / keyword-only parameters, operators, in-place calls, asserts."""
    import importlib
    import typing
    nn, F = torch.nn, torch.nn.functional
    fx = importlib.import_module(torch.__name__ + ".fx")
    out = {}
    def ann(x: torch.Tensor, n: int = 2, s: typing.List[int] = None) -> torch.Tensor:
        return x * n
    gm = fx.symbolic_trace(ann)
    out["ann"] = str(gm.graph) + gm.code
    def var(x, *args, **kwargs):
        return x + args[0] + kwargs["k"]
    try:
        gm = fx.symbolic_trace(var)
        out["var"] = str(gm.graph) + gm.code
    except Exception as e:
        out["var"] = (type(e).__name__, str(e))
    def kwonly(x, *, y=3):
        return x + y
    gm = fx.symbolic_trace(kwonly)
    out["kwonly"] = str(gm.graph) + gm.code
    class M(nn.Module):
        def __init__(s):
            super().__init__(); s.mha = nn.MultiheadAttention(4, 2)
            s.c = torch.nn.Parameter(torch.ones(2))
        def forward(s, x, mask=None):
            a, _ = s.mha(x, x, x, need_weights=False)
            y = a[0].T @ a[1]
            return y.shape, y.size(), x.ndim, len(s.c), [x, y], {"a": x}, x.new_ones(2), x.T.mT
    try:
        gm = fx.symbolic_trace(M())
        out["mha"] = str(gm.graph) + gm.code
    except Exception as e:
        out["mha"] = (type(e).__name__, str(e))
    def lst(x):
        return torch.cat([x, torch.ones(1, 3)], 0), torch.stack([torch.zeros(3)] * 2) + x
    gm = fx.symbolic_trace(lst)
    out["lst"] = str(gm.graph) + gm.code
    def inplace(x):
        y = x.clone()
        y += 1
        pass
        y.add_(x)
        return y
    gm = fx.symbolic_trace(inplace)
    out["inplace"] = str(gm.graph) + gm.code
    out["inplace_run"] = gm(torch.ones(2, 2)).tolist()
    def cmp(x):
        return ((x > 0) & (x < 1) | ~(x == 0), x.float() % 2, -x, +x, abs(x), x ** 2, 2 - x,
                x // 3)
    gm = fx.symbolic_trace(cmp)
    out["cmp"] = str(gm.graph) + gm.code
    def tensor_default(x, y=torch.ones(2)):
        return x + y
    try:
        gm = fx.symbolic_trace(tensor_default)
        out["tdef"] = str(gm.graph) + gm.code
    except Exception as e:
        out["tdef"] = (type(e).__name__, str(e))
    def nested(x):
        return getattr(x, "shape"), x.__class__ if False else x.dtype == torch.float32
    try:
        gm = fx.symbolic_trace(nested)
        out["nested"] = str(gm.graph) + gm.code
    except Exception as e:
        out["nested"] = (type(e).__name__, str(e))
    def setattr_f(x):
        return x.relu_()
    out["relu_"] = fx.symbolic_trace(setattr_f).code
    def mp(x):
        return F.max_pool2d(x, 2, return_indices=True)
    out["mp"] = fx.symbolic_trace(mp).code
    ns = {}                 # (exec: pytest rewrites the asserts of a test module)
    exec("def bool_proxy(x):\n    assert x.sum() > 0, 'msg'\n    return x\n", ns)
    bool_proxy = ns["bool_proxy"]
    try:
        fx.symbolic_trace(bool_proxy)
    except Exception as e:
        out["assert"] = (type(e).__name__, str(e))
    class AT(fx.Tracer):
        trace_asserts = True
    try:
        out["assert_traced"] = str(AT().trace(bool_proxy))
    except Exception as e:
        out["assert_traced"] = (type(e).__name__, str(e))
    return out


def test_signatures_and_operators():
    out = _signatures_and_operators(gpujit)
    assert out["ann"].endswith("def forward(self, x : torch.Tensor, n : int = 2, "
                               "s : typing_List[int] = None) -> torch.Tensor:\n"
                               "    mul = x * n;  x = n = None\n    return mul\n    ")
    assert "%s : typing.List[int] [num_users=0] = placeholder[target=s](default=None)" \
        in out["ann"]
    assert out["inplace_run"] == [[3.0, 3.0], [3.0, 3.0]]
    # (F.max_pool2d(return_indices=True) is torch's max_pool2d_with_indices)
    assert "max_pool2d_with_indices = torch.nn.functional.max_pool2d_with_indices(x, 2, " \
        "stride = None, padding = 0, dilation = 1, ceil_mode = False, return_indices = True)" \
        in out["mp"]
    assert "def forward(self, x, *args, **kwargs):" in out["var"]
    # (trace_asserts: an assert on a proxy becomes torch.fx.proxy.assert_fn; torch 2.13 on
    # Python 3.11 misses the jump instruction and raises TraceError instead)
    assert "%assert_fn : [num_users=0] = call_function[target=torch.fx.proxy.assert_fn]" \
        "(args = (%gt,), kwargs = {})" in out["assert_traced"]


def test_signatures_and_operators_match_torch():
    torch = pytest.importorskip("torch")
    a, b = _signatures_and_operators(gpujit), _signatures_and_operators(torch)
    # not as torch: a plain Tensor on the left of an operator with a Proxy records
    # torch.add (call_function) where torch records Tensor.add (call_method)
    for k in ("lst", "assert_traced"):
        a.pop(k), b.pop(k)
    assert a == b


def test_the_dispatch_layer_is_off_once_the_proxies_are_gone():
    """Proxies keep __torch_function__'s dispatch layer on while they live; a traced
    GraphModule runs plain gpujit ops (no cost left behind)."""
    from gpujit import overrides
    before = overrides._live[0]
    gm = gpujit.fx.symbolic_trace(_models(gpujit)["fn"][0])
    assert overrides._live[0] == before
    p = gpujit.fx.Proxy(next(iter(gm.graph.nodes)))
    assert overrides._live[0] > before
    r = gpujit.nn.functional.mse_loss(p, p)        # (a Python-level function: seen at once)
    assert r.node.target is gpujit.nn.functional.mse_loss
    del p, r
    import gc
    gc.collect()
    assert overrides._live[0] == before


def _builtin_names(torch):
    F = torch.nn.functional

    def f(x, y):
        return (torch.linalg.norm(x), torch.linalg.vector_norm(x, 1), torch.fft.rfft(x),
                torch.special.ndtr(x), F.logsigmoid(x), torch.hinge_embedding_loss(x, y, 0.5, 2),
                torch.rms_norm(x, [3]), torch.svd_lowrank(x, 1), F.softplus(x))
    gm = torch.fx.symbolic_trace(f)
    x, y = torch.tensor([[1.0, -2.0, 0.5]]), torch.tensor([[1.0, -1.0, 1.0]])
    r = gm(x, y)
    return gm.code, [v.shape for v in r[:7]]


def test_builtin_names():
    """torch's C++ builtins' names: torch._C._linalg.linalg_norm, torch._C._fft.fft_rfft,
    torch._C._special.special_ndtr, torch._C._nn.log_sigmoid, torch._lowrank.svd_lowrank;
    node names as torch's (hinge_embedding_loss, not gpujit's aten_hinge_embedding_loss)."""
    code, shapes = _builtin_names(gpujit)
    assert code == """


def forward(self, x, y):
    linalg_norm = torch._C._linalg.linalg_norm(x)
    linalg_vector_norm = torch._C._linalg.linalg_vector_norm(x, 1)
    fft_rfft = torch._C._fft.fft_rfft(x)
    special_ndtr = torch._C._special.special_ndtr(x)
    log_sigmoid = torch._C._nn.log_sigmoid(x)
    hinge_embedding_loss = torch.hinge_embedding_loss(x, y, 0.5, 2);  y = None
    rms_norm = torch.rms_norm(x, [3])
    svd_lowrank = torch._lowrank.svd_lowrank(x, q = 1, niter = 2, M = None)
    softplus = torch._C._nn.softplus(x);  x = None
    return (linalg_norm, linalg_vector_norm, fft_rfft, special_ndtr, log_sigmoid, hinge_embedding_loss, rms_norm, svd_lowrank, softplus)
    """
    assert shapes == [(), (), (1, 2), (1, 3), (1, 3), (), (1, 3)]


def test_builtin_names_match_torch():
    torch = pytest.importorskip("torch")
    a, b = _builtin_names(gpujit), _builtin_names(torch)
    assert a[0] == b[0] and [tuple(s) for s in a[1]] == [tuple(s) for s in b[1]]


def _einsum_entry(torch):
    x = torch.ones(2, 2)
    out = [torch.fx.symbolic_trace(lambda a, b: torch.einsum(a, b)).code]
    for args in [(3, x), ([0, 1], x), (None,), (), (x,), ("ij,jk", [x, x]),
                 ("ij", x, x), (x, [0, 1], x, [1, 2])]:
        try:
            out.append(tuple(torch.einsum(*args).shape))
        except Exception as e:
            out.append((type(e).__name__, str(e)))
    return out


def test_einsum_entry_point():
    """torch.einsum reads the sublist form only when the first argument is a Tensor
    (einsum(proxy, proxy) failed: gpujit iterated the proxy as a sublist); fewer than two
    arguments is a ValueError and a non-str equation torch's TypeError."""
    out = _einsum_entry(gpujit)
    assert "einsum = torch.functional.einsum(a, b);  a = b = None" in out[0]
    assert out[1:] == [
        ("TypeError", "einsum(): argument 'equation' (position 1) must be str, not int"),
        ("TypeError", "einsum(): argument 'equation' (position 1) must be str, not list"),
        ("ValueError", "einsum(): must specify the equation string and at least one operand, "
                       "or at least one operand and its subscripts list")] + [
        ("ValueError", "einsum(): must specify the equation string and at least one operand, "
                       "or at least one operand and its subscripts list")] * 2 + [
        (2, 2), ("RuntimeError", "einsum(): more operands were provided than specified in "
                                 "the equation"), (2, 2)]


def test_einsum_entry_point_match_torch():
    torch = pytest.importorskip("torch")
    assert _einsum_entry(gpujit) == _einsum_entry(torch)


def _module_stacks(torch):
    nn = torch.nn

    class Inner(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(2, 2)

        def forward(self, x):
            return self.l(x).relu()

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Inner()
            self.b = nn.Sequential(nn.ReLU(), Inner())

        def forward(self, x):
            return self.b(self.a(x) + self.a(x))

    t = torch.fx.Tracer()
    g = t.trace(Outer())
    return ([(n.name, {k: (v[0], v[1].__name__) for k, v in
                       n.meta.get("nn_module_stack", {}).items()}) for n in g.nodes],
            {k: (v[0], getattr(v[1], "__name__", v[1])) for k, v in t.node_name_to_scope.items()})


def test_nn_module_stack_and_scopes():
    """node.meta['nn_module_stack'] (module call key -> (qualified name, type)) and
    Tracer.node_name_to_scope, as torch's tracer records them."""
    stacks, scopes = _module_stacks(gpujit)
    assert stacks[1] == ("a_l", {"a": ("a", "Inner"), "a.l": ("a.l", "Linear")})
    assert stacks[4] == ("relu_1", {"a@1": ("a", "Inner")})
    assert stacks[7] == ("b_1_l", {"b": ("b", "Sequential"), "b.1": ("b.1", "Inner"),
                                   "b.1.l": ("b.1.l", "Linear")})
    assert stacks[5] == ("add", {}) and scopes["add"] == ("", None)
    assert scopes["relu_2"] == ("b.1", "Inner")


def test_nn_module_stack_and_scopes_match_torch():
    torch = pytest.importorskip("torch")
    assert _module_stacks(gpujit) == _module_stacks(torch)


def test_error_in_generated_code_shows_its_lines(capsys):
    """An error raised in a GraphModule's generated forward is shown with the generated
    lines around it on stderr, and the file name says where the traced function came
    from, as torch's."""
    def f(x, y):
        a = x.relu()
        b = a + y
        return b * 2
    gm = gpujit.fx.symbolic_trace(f)
    for n in gm.graph.nodes:
        if n.target is operator.add:
            n.target = operator.truediv
    gm.recompile()
    with pytest.raises(TypeError, match="unsupported operand type"):
        gm(gpujit.ones(2), "s")
    err = capsys.readouterr().err
    assert "Call using an FX-traced Module, line 6 of the traced Module's generated forward " \
           "function:\n    relu = x.relu();  x = None\n    add = relu / y;  relu = y = None\n" \
           "\n~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ <--- HERE\n    mul = add * 2;  add = None\n" in err
    assert f" from {__file__}:{f.__code__.co_firstlineno} in f\", line 6, in forward" in err
    np.testing.assert_array_equal(gm(gpujit.ones(2), gpujit.full((2,), 2.0)).numpy(), [1.0, 1.0])


def _optimization(torch):
    import importlib
    opt = importlib.import_module(torch.__name__ + ".fx.experimental.optimization")
    nn = torch.nn
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                      nn.Flatten(), nn.Linear(4 * 9, 5), nn.BatchNorm1d(5)).eval()
    with torch.no_grad():
        m[1].running_mean.fill_(0.3)
        m[1].running_var.fill_(2.0)
        m[6].running_mean.fill_(-0.1)
    f = opt.fuse(m)
    r = opt.remove_dropout(m)
    x = torch.ones(2, 3, 5, 5)
    with torch.no_grad():
        err = (f(x) - m(x)).abs().max().item()
    nodes = list(r.graph.nodes)
    sub = opt.extract_subgraph(r, nodes[1:3], [nodes[0]], [nodes[2]])
    return f.code, r.code, err < 1e-4, sub.code, str(f)


def test_experimental_optimization():
    """torch.fx.experimental.optimization.fuse folds BatchNorms into the Conv / Linear
    before them (same values), remove_dropout drops nn.Dropout, extract_subgraph."""
    fcode, rcode, close, subcode, text = _optimization(gpujit)
    assert close
    assert fcode == """


def forward(self, input):
    input_1 = input
    _0 = getattr(self, "0")(input_1);  input_1 = None
    _2 = getattr(self, "2")(_0);  _0 = None
    _3 = getattr(self, "3")(_2);  _2 = None
    _4 = getattr(self, "4")(_3);  _3 = None
    _5 = getattr(self, "5")(_4);  _4 = None
    return _5
    """
    assert '_3 = getattr(self, "3")' not in rcode and '_4 = getattr(self, "4")(_2)' in rcode
    assert subcode.startswith("\n\n\ndef forward(self, input_1):\n")
    assert "(0): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))" in text


def test_experimental_optimization_match_torch():
    torch = pytest.importorskip("torch")
    assert _optimization(gpujit) == _optimization(torch)


def _gpt_block(torch):
    """A GPT-style block: x.size() unpacked, split, view/transpose, @, masked_fill with a
    buffer, F.softmax, ModuleDict, a TransformerEncoderLayer leaf."""
    nn, F = torch.nn, torch.nn.functional
    class Attn(nn.Module):
        def __init__(s, c=8, h=2):
            super().__init__(); s.qkv = nn.Linear(c, 3 * c); s.proj = nn.Linear(c, c); s.h = h
            s.register_buffer("mask", torch.tril(torch.ones(4, 4)).view(1, 1, 4, 4))
        def forward(s, x):
            B, T, C = x.size()
            q, k, v = s.qkv(x).split(C, dim=2)
            q = q.view(B, T, s.h, C // s.h).transpose(1, 2)
            k = k.view(B, T, s.h, C // s.h).transpose(1, 2)
            v = v.view(B, T, s.h, C // s.h).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(s.mask == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return s.proj(y)
    class Block(nn.Module):
        def __init__(s):
            super().__init__(); s.ln1 = nn.LayerNorm(8); s.attn = Attn(); s.ln2 = nn.LayerNorm(8)
            s.mlp = nn.ModuleDict(dict(fc=nn.Linear(8, 32), act=nn.GELU(), proj=nn.Linear(32, 8)))
            s.enc = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
        def forward(s, x):
            x = x + s.attn(s.ln1(x))
            m = s.mlp
            x = x + m.proj(m.act(m.fc(s.ln2(x))))
            return s.enc(x)
    torch.manual_seed(0)
    b = Block().eval()
    gm = torch.fx.symbolic_trace(b)
    x = torch.randn(2, 4, 8)
    with torch.no_grad():
        ok = (gm(x) - b(x)).abs().max().item() < 1e-5
    return str(gm.graph), gm.code, ok


def test_gpt_block():
    graph, code, close = _gpt_block(gpujit)
    assert close
    assert "getattr_1 = x.size()" not in code and "size = ln1.size()" in code
    assert "getitem = size[0]\n    getitem_1 = size[1]\n    getitem_2 = size[2];  size = None" \
        in code
    assert "split = attn_qkv.split(getitem_2, dim = 2);  attn_qkv = None" in code
    assert "softmax = torch.nn.functional.softmax(masked_fill, dim = -1, _stacklevel = 3, " \
        "dtype = None);  masked_fill = None" in code
    assert "enc = self.enc(add_1);  add_1 = None" in code


def test_gpt_block_match_torch():
    torch = pytest.importorskip("torch")
    assert _gpt_block(gpujit) == _gpt_block(torch)


def _decomposition(torch):
    """The docs' Proxy/retracing example: F.relu decomposed through Proxies of a
    GraphAppendingTracer."""
    import importlib
    fx = importlib.import_module(torch.__name__ + ".fx")
    F = torch.nn.functional
    def relu_decomposition(x):
        return (x > 0) * x
    rules = {F.relu: relu_decomposition}
    def decompose(model, tracer_class=fx.Tracer):
        graph = tracer_class().trace(model)
        new_graph = fx.Graph()
        env = {}
        tracer = fx.proxy.GraphAppendingTracer(new_graph)
        for node in graph.nodes:
            if node.op == "call_function" and node.target in rules:
                proxy_args = [fx.Proxy(env[x.name], tracer) if isinstance(x, fx.Node) else x
                              for x in node.args]
                output_proxy = rules[node.target](*proxy_args)
                env[node.name] = output_proxy.node
            else:
                env[node.name] = new_graph.node_copy(node, lambda x: env[x.name])
        return fx.GraphModule(model, new_graph)
    class M(torch.nn.Module):
        def forward(self, x):
            return F.relu(x) + 1
    gm = decompose(M())
    x = torch.tensor([-1.0, 2.0])
    return gm.code, gm(x).tolist()


def test_proxy_retracing_decomposition():
    code, values = _decomposition(gpujit)
    assert code == ("\n\n\ndef forward(self, x):\n    gt = x > 0\n    mul = gt * x;  gt = x = None"
                    "\n    add = mul + 1;  mul = None\n    return add\n    ")
    assert values == [1.0, 3.0]


def test_proxy_retracing_decomposition_match_torch():
    torch = pytest.importorskip("torch")
    assert _decomposition(gpujit) == _decomposition(torch)


def test_proxies_of_one_tracer_do_not_switch_the_layer_each(monkeypatch):
    """A rewrite loop making Proxies one by one on a GraphAppendingTracer puts the
    dispatch layer in place once (the tracer holds it), not once per Proxy."""
    from gpujit import _function_entries
    calls = []
    orig = _function_entries.install
    monkeypatch.setattr(_function_entries, "install", lambda: (calls.append(1), orig())[1])
    g = gpujit.fx.Graph()
    x = g.placeholder("x")
    tracer = gpujit.fx.proxy.GraphAppendingTracer(g)
    for _ in range(5):
        p = gpujit.fx.Proxy(x, tracer)
        q = gpujit.relu(p)
        del p, q
    assert len(calls) <= 1 and len(g.nodes) == 6


def _python_level_keyword_only(torch):
    F = torch.nn.functional
    log = []

    class M(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append((func.__name__, len(args), sorted(kwargs or {})))
            return func(*args, **(kwargs or {}))

    x = torch.ones(3)
    with M():
        torch.meshgrid(x, x)
        F.triplet_margin_with_distance_loss(x[None], x[None], x[None])
    return [entry for entry in log if entry[0] in ("meshgrid",
                                                  "triplet_margin_with_distance_loss")]


def test_python_level_functions_pass_their_keyword_only_parameters():
    """torch's Python-level functions hand the handler their keyword-only parameters
    (meshgrid(*tensors, indexing=indexing)), defaults included."""
    assert _python_level_keyword_only(gpujit) == [
        ("meshgrid", 2, ["indexing"]),
        ("triplet_margin_with_distance_loss", 3, ["distance_function", "margin",
                                                  "reduction", "swap"])]


def test_python_level_functions_pass_their_keyword_only_parameters_match_torch():
    torch = pytest.importorskip("torch")
    assert _python_level_keyword_only(gpujit) == _python_level_keyword_only(torch)


def _norm_functions(torch):
    F = torch.nn.functional
    gm = torch.fx.symbolic_trace(lambda x: F.layer_norm(x, [4]) + F.group_norm(x, 2, eps=1e-3))
    x = torch.arange(12.0).reshape(3, 4)
    with pytest.raises(TypeError):
        F.layer_norm(x, [4], cudnn_enable=False)
    return gm.code, [round(v, 4) for v in gm(x).reshape(-1).tolist()]


def test_layer_norm_and_group_norm_are_python_level():
    """F.layer_norm / F.group_norm are torch's Python-level functions (the handler and the
    fx graph see F.layer_norm(x, shape, weight=None, bias=None, eps=1e-05)); they were the
    registry's bindings, seen as torch.layer_norm(x, shape), and took cudnn_enable."""
    code, values = _norm_functions(gpujit)
    assert "layer_norm = torch.nn.functional.layer_norm(x, [4], weight = None, bias = None, " \
           "eps = 1e-05)" in code
    assert "group_norm = torch.nn.functional.group_norm(x, 2, weight = None, bias = None, " \
           "eps = 0.001);  x = None" in code
    x = np.arange(12.0).reshape(3, 4)
    ln = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    g = x.reshape(3, 2, 2)
    gn = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 1e-3)).reshape(3, 4)
    np.testing.assert_allclose(values, (ln + gn).reshape(-1), atol=1e-4)


def test_layer_norm_and_group_norm_are_python_level_match_torch():
    torch = pytest.importorskip("torch")
    assert _norm_functions(gpujit) == _norm_functions(torch)
