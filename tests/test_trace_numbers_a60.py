"""A traced module's graph numbers its values as torch 2.13's tracer does (a60): after
`self`, a TracedAttr value per attribute of the module tree, the inputs and every op
traced (submodules' included), FixupTraceScopeBlocks numbers each call's block input,
the GetAttr chains, the values lifted out of calls, the tuples of calls returning several
values, and last the top-level prim::CallMethods (the tutorial's MyCell: %31 / %32; gpujit
printed %7 / %8); a compiled submodule's attributes are its type's, its call a traced value
(the tutorial's traced cell with a scripted gate, WrapRNN); the top-level GetAttr chains
take the names torch's createGetAttr history leaves them (`%relu`, not `%relu.1`, where
blocks read a `relu` of their own); F.adaptive_avg_pool2d reads input.size() as torch's
(its traced sizes take numbers), and a user's comparison of a traced size records it (`if
x.size(0) == 1:`). Expected texts are torch 2.13's top-level graphs (source comments,
scopes and ___torch_mangle_N left out)."""
import re
import warnings

import gpujit as torch

nn = torch.nn

class MyDecisionGate(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class MyCell(nn.Module):
    def __init__(self):
        super().__init__()
        self.dg = MyDecisionGate()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) + x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = Block()
        self.b2 = Block()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.b2(self.b1(x)))


class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        y = self.lin(x)
        return y.sin(), y.cos()


class UsesTwo(nn.Module):
    def __init__(self):
        super().__init__()
        self.two = Two()
        self.lin = nn.Linear(4, 4)
        self.scale = nn.Parameter(torch.ones(4))
        self.register_buffer("shift", torch.zeros(4))

    def forward(self, x):
        a, b = self.two(x)
        c = self.lin(a) * self.scale + self.shift
        return c + self.lin(b)


class MyRNNLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = torch.jit.trace(MyCell(), (torch.ones(3, 4), torch.ones(3, 4)))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


class WrapRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.loop = torch.jit.script(MyRNNLoop())

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)


class ResBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out += x
        return self.relu(out)


class ResNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(ResBlock(), ResBlock())
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def _scripted_gate_cell():
    m = MyCell()
    m.dg = torch.jit.script(MyDecisionGate())
    return m


def _cell(w):
    m = MyCell()
    with torch.no_grad():          # (the gate's branch fixed: x.sum() > 0 or not)
        m.linear.weight.fill_(w)
        m.linear.bias.fill_(0.0)
    return m


def models():
    return {
        "sequential": (nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)),
                       (torch.ones(2, 4),)),
        "mycell": (_cell(0.1), (torch.ones(3, 4), torch.ones(3, 4))),
        "mycell_neg": (_cell(-0.1), (torch.ones(3, 4), torch.ones(3, 4))),
        "net": (Net(), (torch.ones(2, 4),)),
        "scripted_gate": (_scripted_gate_cell(), (torch.ones(3, 4), torch.ones(3, 4))),
        "wrap_rnn": (WrapRNN(), (torch.ones(10, 3, 4),)),
        "resnet_like": (ResNetLike().eval(), (torch.ones(1, 3, 6, 6),)),
        "uses_two": (UsesTwo(), (torch.ones(2, 4),)),
        "conv": (nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                               nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 2)).eval(),
                 (torch.ones(1, 3, 4, 4),)),
    }


EXPECTED = {
    'sequential': (
        'graph(%self.1 : __torch__.torch.nn.modules.container.Sequential,\n'
        '      %input.1 : Float(2, 4, strides=[4, 1], requires_grad=0, device=cpu)):\n'
        '  %_2 : __torch__.torch.nn.modules.linear.___torch_mangle_5.Linear = prim::GetAttr[name="2"](%self.1)\n'
        '  %_1 : __torch__.torch.nn.modules.activation.ReLU = prim::GetAttr[name="1"](%self.1)\n'
        '  %_0 : __torch__.torch.nn.modules.linear.___torch_mangle_4.Linear = prim::GetAttr[name="0"](%self.1)\n'
        '  %33 : Tensor = prim::CallMethod[name="forward"](%_0, %input.1)\n'
        '  %34 : Tensor = prim::CallMethod[name="forward"](%_1, %33)\n'
        '  %35 : Tensor = prim::CallMethod[name="forward"](%_2, %34)\n'
        '  return (%35)\n'
    ),
    'mycell': (
        'graph(%self.1 : __torch__.MOD.___torch_mangle_12.MyCell,\n'
        '      %x.1 : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu),\n'
        '      %h : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)):\n'
        '  %dg : __torch__.MOD.___torch_mangle_10.MyDecisionGate = prim::GetAttr[name="dg"](%self.1)\n'
        '  %linear : __torch__.torch.nn.modules.linear.___torch_mangle_11.Linear = prim::GetAttr[name="linear"](%self.1)\n'
        '  %31 : Tensor = prim::CallMethod[name="forward"](%linear, %x.1)\n'
        '  %32 : NoneType = prim::CallMethod[name="forward"](%dg, %31)\n'
        '  %18 : int = prim::Constant[value=1]()\n'
        '  %19 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::add(%31, %h, %18)\n'
        '  %20 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::tanh(%19)\n'
        '  %21 : (Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu), Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu)) = prim::TupleConstruct(%20, %20)\n'
        '  return (%21)\n'
    ),
    'mycell_neg': (
        'graph(%self.1 : __torch__.MOD.___torch_mangle_18.MyCell,\n'
        '      %x.1 : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu),\n'
        '      %h : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)):\n'
        '  %dg : __torch__.MOD.___torch_mangle_16.MyDecisionGate = prim::GetAttr[name="dg"](%self.1)\n'
        '  %linear : __torch__.torch.nn.modules.linear.___torch_mangle_17.Linear = prim::GetAttr[name="linear"](%self.1)\n'
        '  %31 : Tensor = prim::CallMethod[name="forward"](%linear, %x.1)\n'
        '  %32 : Tensor = prim::CallMethod[name="forward"](%dg, %31)\n'
        '  %19 : int = prim::Constant[value=1]()\n'
        '  %20 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::add(%32, %h, %19)\n'
        '  %21 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::tanh(%20)\n'
        '  %22 : (Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu), Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu)) = prim::TupleConstruct(%21, %21)\n'
        '  return (%22)\n'
    ),
    'net': (
        'graph(%self.1 : __torch__.MOD.Net,\n'
        '      %x : Float(2, 4, strides=[4, 1], requires_grad=0, device=cpu)):\n'
        '  %head : __torch__.torch.nn.modules.linear.___torch_mangle_27.Linear = prim::GetAttr[name="head"](%self.1)\n'
        '  %b2 : __torch__.MOD.___torch_mangle_26.Block = prim::GetAttr[name="b2"](%self.1)\n'
        '  %b1 : __torch__.MOD.Block = prim::GetAttr[name="b1"](%self.1)\n'
        '  %67 : Tensor = prim::CallMethod[name="forward"](%b1, %x)\n'
        '  %68 : Tensor = prim::CallMethod[name="forward"](%b2, %67)\n'
        '  %69 : Tensor = prim::CallMethod[name="forward"](%head, %68)\n'
        '  return (%69)\n'
    ),
    'scripted_gate': (
        'graph(%self.1 : __torch__.MOD.___torch_mangle_37.MyCell,\n'
        '      %x : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu),\n'
        '      %h : Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)):\n'
        '  %dg : __torch__.MOD.MyDecisionGate = prim::GetAttr[name="dg"](%self.1)\n'
        '  %linear : __torch__.torch.nn.modules.linear.___torch_mangle_36.Linear = prim::GetAttr[name="linear"](%self.1)\n'
        '  %25 : Tensor = prim::CallMethod[name="forward"](%linear, %x)\n'
        '  %14 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = prim::CallMethod[name="forward"](%dg, %25)\n'
        '  %15 : int = prim::Constant[value=1]()\n'
        '  %16 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::add(%14, %h, %15)\n'
        '  %17 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::tanh(%16)\n'
        '  %18 : (Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu), Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu)) = prim::TupleConstruct(%17, %17)\n'
        '  return (%18)\n'
    ),
    'wrap_rnn': (
        'graph(%self : __torch__.MOD.WrapRNN,\n'
        '      %xs : Float(10, 3, 4, strides=[12, 4, 1], requires_grad=0, device=cpu)):\n'
        '  %loop : __torch__.MOD.MyRNNLoop = prim::GetAttr[name="loop"](%self)\n'
        '  %18 : (Tensor, Tensor) = prim::CallMethod[name="forward"](%loop, %xs)\n'
        '  %19 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu), %y : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = prim::TupleUnpack(%18)\n'
        '  %21 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::relu(%y)\n'
        '  return (%21)\n'
    ),
    'resnet_like': (
        'graph(%self.1 : __torch__.MOD.ResNetLike,\n'
        '      %x : Float(1, 3, 6, 6, strides=[108, 36, 6, 1], requires_grad=0, device=cpu)):\n'
        '  %fc : __torch__.torch.nn.modules.linear.___torch_mangle_50.Linear = prim::GetAttr[name="fc"](%self.1)\n'
        '  %layer1 : __torch__.torch.nn.modules.container.___torch_mangle_49.Sequential = prim::GetAttr[name="layer1"](%self.1)\n'
        '  %relu.1 : __torch__.torch.nn.modules.activation.___torch_mangle_41.ReLU = prim::GetAttr[name="relu"](%self.1)\n'
        '  %bn1.1 : __torch__.torch.nn.modules.batchnorm.BatchNorm2d = prim::GetAttr[name="bn1"](%self.1)\n'
        '  %conv1.1 : __torch__.torch.nn.modules.conv.Conv2d = prim::GetAttr[name="conv1"](%self.1)\n'
        '  %227 : Tensor = prim::CallMethod[name="forward"](%conv1.1, %x)\n'
        '  %228 : Tensor = prim::CallMethod[name="forward"](%bn1.1, %227)\n'
        '  %229 : Tensor = prim::CallMethod[name="forward"](%relu.1, %228)\n'
        '  %230 : Tensor = prim::CallMethod[name="forward"](%layer1, %229)\n'
        '  %159 : int = prim::Constant[value=1]()\n'
        '  %160 : int = prim::Constant[value=1]()\n'
        '  %161 : int[] = prim::ListConstruct(%159, %160)\n'
        '  %162 : Float(1, 4, 1, 1, strides=[4, 1, 1, 1], requires_grad=1, device=cpu) = aten::adaptive_avg_pool2d(%230, %161)\n'
        '  %163 : int = prim::Constant[value=1]()\n'
        '  %164 : int = prim::Constant[value=-1]()\n'
        '  %input : Float(1, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::flatten(%162, %163, %164)\n'
        '  %231 : Tensor = prim::CallMethod[name="forward"](%fc, %input)\n'
        '  return (%231)\n'
    ),
    'uses_two': (
        'graph(%self.1 : __torch__.MOD.UsesTwo,\n'
        '      %x : Float(2, 4, strides=[4, 1], requires_grad=0, device=cpu)):\n'
        '  %shift : Tensor = prim::GetAttr[name="shift"](%self.1)\n'
        '  %scale : Tensor = prim::GetAttr[name="scale"](%self.1)\n'
        '  %lin : __torch__.torch.nn.modules.linear.___torch_mangle_66.Linear = prim::GetAttr[name="lin"](%self.1)\n'
        '  %two : __torch__.MOD.Two = prim::GetAttr[name="two"](%self.1)\n'
        '  %53 : (Tensor, Tensor) = prim::CallMethod[name="forward"](%two, %x)\n'
        '  %51 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu), %52 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = prim::TupleUnpack(%53)\n'
        '  %54 : Tensor = prim::CallMethod[name="forward"](%lin, %51)\n'
        '  %23 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::mul(%54, %scale)\n'
        '  %24 : int = prim::Constant[value=1]()\n'
        '  %c : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::add(%23, %shift, %24)\n'
        '  %55 : Tensor = prim::CallMethod[name="forward1"](%lin, %52)\n'
        '  %27 : int = prim::Constant[value=1]()\n'
        '  %28 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::add(%c, %55, %27)\n'
        '  return (%28)\n'
    ),
    'conv': (
        'graph(%self.1 : __torch__.torch.nn.modules.container.___torch_mangle_75.Sequential,\n'
        '      %input.1 : Float(1, 3, 4, 4, strides=[48, 16, 4, 1], requires_grad=0, device=cpu)):\n'
        '  %_5 : __torch__.torch.nn.modules.linear.___torch_mangle_74.Linear = prim::GetAttr[name="5"](%self.1)\n'
        '  %_4 : __torch__.torch.nn.modules.flatten.Flatten = prim::GetAttr[name="4"](%self.1)\n'
        '  %_3 : __torch__.torch.nn.modules.pooling.MaxPool2d = prim::GetAttr[name="3"](%self.1)\n'
        '  %_2 : __torch__.torch.nn.modules.activation.___torch_mangle_73.ReLU = prim::GetAttr[name="2"](%self.1)\n'
        '  %_1 : __torch__.torch.nn.modules.batchnorm.___torch_mangle_72.BatchNorm2d = prim::GetAttr[name="1"](%self.1)\n'
        '  %_0 : __torch__.torch.nn.modules.conv.___torch_mangle_71.Conv2d = prim::GetAttr[name="0"](%self.1)\n'
        '  %100 : Tensor = prim::CallMethod[name="forward"](%_0, %input.1)\n'
        '  %101 : Tensor = prim::CallMethod[name="forward"](%_1, %100)\n'
        '  %102 : Tensor = prim::CallMethod[name="forward"](%_2, %101)\n'
        '  %103 : Tensor = prim::CallMethod[name="forward"](%_3, %102)\n'
        '  %104 : Tensor = prim::CallMethod[name="forward"](%_4, %103)\n'
        '  %105 : Tensor = prim::CallMethod[name="forward"](%_5, %104)\n'
        '  return (%105)\n'
    ),
}


def _norm(text):
    text = re.sub(r", scope: \S+", "", text)
    text = re.sub(r" # .*", "", text)
    text = re.sub(r"___torch_mangle_\d+\.", "", text)
    return text.replace(f"__torch__.{__name__}.", "__torch__.MOD.")


def test_traced_module_graphs_number_values_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (m, args) in models().items():
            t = torch.jit.trace(m, args)
            assert _norm(str(t.graph)) == _norm(EXPECTED[name]), name


def test_renumbered_traces_still_compute():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (m, args) in models().items():
            t = torch.jit.trace(m, args)
            want = m(*args)
            got = t(*args)
            if isinstance(want, tuple):
                for a, b in zip(got, want):
                    assert torch.allclose(a, b, atol=1e-6), name
            else:
                assert torch.allclose(got, want, atol=1e-6), name
            t.graph.lint()


def size_tests(x):
    if x.size(0) == 1:
        return x * 2
    if x.shape[1] > 2:
        x = x + 1
    return x - 1


# torch 2.13's: a comparison of a traced size records the size tensor's aten::eq / gt
# (dead, numbered) before the bool is baked in
SIZE_TESTS = (
    'graph(%x.1 : Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu)):\n'
    '  %14 : Long(requires_grad=0, device=cpu) = prim::Constant[value={1}]()\n'
    '  %15 : int = prim::Constant[value=1]()\n'
    '  %x : Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu) = aten::add(%x.1, %14, %15)\n'
    '  %17 : Long(requires_grad=0, device=cpu) = prim::Constant[value={1}]()\n'
    '  %18 : int = prim::Constant[value=1]()\n'
    '  %19 : Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu) = aten::sub(%x, %17, %18)\n'
    '  return (%19)\n'
)


def test_size_comparisons_take_numbers_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.jit.trace(size_tests, torch.ones(2, 3))
    assert _norm(str(t.graph)) == SIZE_TESTS
