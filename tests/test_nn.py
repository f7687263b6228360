"""gpujit.nn.Module: registration and traversal, state_dict, conversion, modes, hooks, repr
and containers (layer and loss values are in test_nn_layers.py)."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn


def T(a, dtype=None):
    return torch.tensor(np.asarray(a), dtype=dtype)


def npy(t):
    return t.detach().numpy()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(3))
        self.register_buffer("steps", torch.zeros(1, dtype=torch.int64))
        self.register_buffer("cache", torch.zeros(2), persistent=False)
        self.fc = nn.Linear(3, 2)
        self.head = nn.Sequential(nn.Linear(2, 2), nn.ReLU())

    def forward(self, x):
        return self.head(self.fc(x * self.scale))


class MyCell(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


# ---------------------------------------------------------------------- registration

def test_import_alias_linear_runs():
    y = torch.nn.Linear(4, 4)(torch.rand(3, 4))
    assert tuple(y.shape) == (3, 4) and y.dtype == torch.float32


def test_attribute_assignment_routes_into_dicts():
    m = Net()
    assert list(m._parameters) == ["scale"]
    assert list(m._buffers) == ["steps", "cache"]
    assert list(m._modules) == ["fc", "head"]
    assert "scale" not in m.__dict__ and "fc" not in m.__dict__
    assert m.scale is m._parameters["scale"] and m.fc is m._modules["fc"]
    assert m.steps is m._buffers["steps"]
    m.scale = None
    assert m._parameters["scale"] is None and m.scale is None
    m.fc = None
    assert m._modules["fc"] is None
    m.plain = 3
    assert m.__dict__["plain"] == 3


def test_parameter_semantics():
    p = nn.Parameter(torch.zeros(2, 3))
    assert isinstance(p, torch.Tensor) and p.requires_grad and p.is_leaf
    q = nn.Parameter(torch.zeros(2), requires_grad=False)
    assert not q.requires_grad
    assert repr(q).startswith("Parameter containing:\ntensor(")


def test_named_parameters_buffers_children_modules():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc.weight", "fc.bias", "head.0.weight", "head.0.bias"]
    assert [n for n, _ in m.named_parameters(prefix="model")][0] == "model.scale"
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["scale"]
    assert len(list(m.parameters())) == 5
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in m.named_children()] == ["fc", "head"]
    assert [n for n, _ in m.named_modules()] == ["", "fc", "head", "head.0", "head.1"]
    assert list(m.children())[1] is m.head
    assert m.get_submodule("head.0") is m.head[0]
    assert m.get_parameter("head.0.bias") is m.head[0].bias
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        m.get_submodule("head.nope")


def test_shared_parameters_deduplicated():
    m = nn.Module()
    m.a = nn.Linear(2, 2)
    m.b = m.a
    assert len(list(m.parameters())) == 2
    assert len(list(m.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in m.named_modules()] == ["", "a"]


def test_registration_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", torch.zeros(1))
    with pytest.raises(KeyError, match="empty string"):
        m.register_parameter("", None)
    m.x = 1
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        m.register_buffer("x", torch.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'int' object to buffer 'y'"):
        m.register_buffer("y", 3)
    with pytest.raises(TypeError, match="to parameter 'w'"):
        m.register_parameter("w", torch.zeros(1))
    m.w = nn.Parameter(torch.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'w'"):
        m.w = torch.zeros(1)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("c", 3)

    class Early(nn.Module):
        def __init__(self):
            self.p = nn.Parameter(torch.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_getattr_delattr_and_dir():
    m = Net()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        m.missing
    del m.scale
    del m.steps
    del m.fc
    assert "scale" not in m._parameters and "steps" not in m._buffers
    assert "fc" not in m._modules
    d = dir(m)
    assert "head" in d and "cache" in d and "forward" in d and "fc" not in d
    # assigning a tensor to a buffer name replaces the buffer
    m.cache = torch.ones(2)
    assert npy(m._buffers["cache"]).tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------- state_dict

def test_state_dict_keys_and_values():
    m = Net()
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "steps", "fc.weight", "fc.bias", "head.0.weight",
                        "head.0.bias"]
    assert not sd["fc.weight"].requires_grad
    np.testing.assert_array_equal(npy(sd["fc.weight"]), npy(m.fc.weight))
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert bn.state_dict()["num_batches_tracked"].dtype == torch.int64
    assert m.state_dict(keep_vars=True)["fc.weight"] is m.fc.weight


def test_state_dict_round_trip():
    a, b = Net(), Net()
    b_weight = b.fc.weight
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    assert b.fc.weight is b_weight   # loaded in place
    for (n1, p1), (n2, p2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert n1 == n2
        np.testing.assert_array_equal(npy(p1), npy(p2))


def test_load_state_dict_errors():
    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

    m = Small()
    sd = m.state_dict()
    del sd["fc.bias"]
    sd["fc.extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    assert str(e.value) == ('Error(s) in loading state_dict for Small:\n\tMissing key(s) in '
                            'state_dict: "fc.bias". \n\tUnexpected key(s) in state_dict: '
                            '"fc.extra". ')
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc.bias"] and res.unexpected_keys == ["fc.extra"]
    sd = m.state_dict()
    sd["fc.weight"] = torch.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc.weight: copying a param with "
                       r"shape .*\[3, 4\]\) from checkpoint, the shape in current model is "
                       r".*\[4, 4\]\)"):
        m.load_state_dict(sd)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1])


def test_load_state_dict_assign_and_batchnorm_old_checkpoint():
    m = nn.Linear(2, 2)
    w = torch.ones(2, 2)
    m.load_state_dict({"weight": w, "bias": torch.zeros(2)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    bn = nn.BatchNorm1d(2)
    sd = bn.state_dict()
    del sd["num_batches_tracked"]   # written before the buffer existed: no metadata
    sd = OrderedDict(sd)
    bn.load_state_dict(sd)


# ---------------------------------------------------------------------- conversion, modes

def test_to_double_keeps_parameter_identity():
    m = Net()
    params = list(m.parameters())
    out = m.double()
    assert out is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == torch.float64 and isinstance(p, nn.Parameter) and p.requires_grad
               for p in m.parameters())
    assert m.steps.dtype == torch.int64   # integer buffers keep their dtype
    assert m.cache.dtype == torch.float64
    m.to(torch.float32)
    assert m.fc.weight.dtype == torch.float32 and m.fc.weight is params[1]
    m.half()
    assert m.fc.weight.dtype == torch.float16
    m.float()
    m.to("cpu")
    m.to(device="cpu", dtype=torch.float64)
    assert m.fc.bias.dtype == torch.float64
    m.to(torch.zeros(1, dtype=torch.float32))
    assert m.fc.bias.dtype == torch.float32
    m.cpu()
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(torch.int32)
    y = m(torch.ones(2, 3))
    assert y.dtype == torch.float32


def test_train_eval_apply_requires_grad_zero_grad():
    m = Net()
    assert m.training and m.head[1].training
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError, match="boolean"):
        m.train("yes")
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Linear", "ReLU", "Sequential", "Net"]
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    for p in m.parameters():
        p.grad = torch.ones(p.shape)
    m.zero_grad(set_to_none=False)
    assert all(npy(p.grad).sum() == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_forward_hooks():
    m = nn.Identity()
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
    h3 = m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(kwargs),
                                 with_kwargs=True)
    assert npy(m(T([1.0]))).tolist() == [3.0]
    assert calls == [{}]
    h1.remove()
    h2.remove()
    h3.remove()
    assert npy(m(T([1.0]))).tolist() == [1.0]
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_deepcopy_preserves_type_and_copies_parameters():
    m = Net()
    c = copy.deepcopy(m)
    assert type(c) is Net and type(c.head) is nn.Sequential
    assert isinstance(c.fc.weight, nn.Parameter) and c.fc.weight.requires_grad
    assert c.fc.weight is not m.fc.weight
    np.testing.assert_array_equal(npy(c.fc.weight), npy(m.fc.weight))
    assert list(c.state_dict()) == list(m.state_dict())


# ---------------------------------------------------------------------- repr

def test_repr_exact():
    assert repr(nn.Linear(4, 4)) == "Linear(in_features=4, out_features=4, bias=True)"
    assert repr(nn.Linear(4, 2, bias=False)) == \
        "Linear(in_features=4, out_features=2, bias=False)"
    assert repr(nn.Conv2d(1, 20, 5)) == "Conv2d(1, 20, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Conv2d(4, 8, 3, stride=2, padding=1, dilation=2, groups=2, bias=False,
                          padding_mode="reflect")) == (
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "groups=2, bias=False, padding_mode=reflect)")
    assert repr(nn.Conv1d(2, 4, 3, padding="same")) == \
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same)"
    assert repr(nn.BatchNorm2d(64)) == \
        ("BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, bias=True, "
         "track_running_stats=True)")
    assert repr(MyCell()) == \
        "MyCell(\n  (linear): Linear(in_features=4, out_features=4, bias=True)\n)"
    seq = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.Conv2d(20, 64, 5), nn.ReLU())
    assert repr(seq) == ("Sequential(\n"
                         "  (0): Conv2d(1, 20, kernel_size=(5, 5), stride=(1, 1))\n"
                         "  (1): ReLU()\n"
                         "  (2): Conv2d(20, 64, kernel_size=(5, 5), stride=(1, 1))\n"
                         "  (3): ReLU()\n"
                         ")")
    outer = nn.Sequential(OrderedDict([("cell", MyCell()), ("act", nn.Tanh())]))
    assert repr(outer) == ("Sequential(\n"
                           "  (cell): MyCell(\n"
                           "    (linear): Linear(in_features=4, out_features=4, bias=True)\n"
                           "  )\n"
                           "  (act): Tanh()\n"
                           ")")
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(ml) == ("ModuleList(\n"
                        "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
                        "  (3): ReLU()\n"
                        ")")
    pl = nn.ParameterList([nn.Parameter(torch.zeros(2, 3)), torch.zeros(4, dtype=torch.float64)])
    assert repr(pl) == ("ParameterList(\n"
                        "    (0): Parameter containing: [gpujit.float32 of size 2x3]\n"
                        "    (1): Parameter containing: [gpujit.float64 of size 4]\n)")
    # one line of extra_repr and no children stays on the opening line, as in PyTorch
    assert repr(nn.ParameterList([torch.zeros(2)])) == \
        "ParameterList(  (0): Parameter containing: [gpujit.float32 of size 2])"


@pytest.mark.parametrize("module, text", [
    (lambda: nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                              "ceil_mode=False)"),
    (lambda: nn.AvgPool2d(3, 1), "AvgPool2d(kernel_size=3, stride=1, padding=0)"),
    (lambda: nn.AdaptiveAvgPool2d((1, 1)), "AdaptiveAvgPool2d(output_size=(1, 1))"),
    (lambda: nn.LayerNorm(10), "LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)"),
    (lambda: nn.LayerNorm(3, bias=False),
     "LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=False)"),
    (lambda: nn.LayerNorm(3, elementwise_affine=False),
     "LayerNorm((3,), eps=1e-05, elementwise_affine=False, bias=False)"),
    (lambda: nn.GroupNorm(2, 4), "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"),
    (lambda: nn.BatchNorm1d(3, momentum=None, affine=False),
     "BatchNorm1d(3, eps=1e-05, momentum=None, affine=False, bias=False, "
     "track_running_stats=True)"),
    (lambda: nn.Dropout(), "Dropout(p=0.5, inplace=False)"),
    (lambda: nn.Embedding(10, 3, padding_idx=0), "Embedding(10, 3, padding_idx=0)"),
    (lambda: nn.Embedding(10, 3, max_norm=1.0), "Embedding(10, 3, max_norm=1.0)"),
    (lambda: nn.Bilinear(2, 3, 4),
     "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)"),
    (lambda: nn.ReLU(), "ReLU()"), (lambda: nn.ReLU(inplace=True), "ReLU(inplace=True)"),
    (lambda: nn.ReLU6(), "ReLU6()"), (lambda: nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (lambda: nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (lambda: nn.ELU(), "ELU(alpha=1.0)"), (lambda: nn.CELU(0.5), "CELU(alpha=0.5)"),
    (lambda: nn.SELU(), "SELU()"), (lambda: nn.GELU(), "GELU(approximate='none')"),
    (lambda: nn.GELU("tanh"), "GELU(approximate='tanh')"), (lambda: nn.SiLU(), "SiLU()"),
    (lambda: nn.Mish(), "Mish()"), (lambda: nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"),
    (lambda: nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (lambda: nn.Hardsigmoid(), "Hardsigmoid()"), (lambda: nn.Hardswish(), "Hardswish()"),
    (lambda: nn.Threshold(0.1, 20.0), "Threshold(threshold=0.1, value=20.0)"),
    (lambda: nn.Sigmoid(), "Sigmoid()"), (lambda: nn.Softmax(dim=1), "Softmax(dim=1)"),
    (lambda: nn.LogSoftmax(-1), "LogSoftmax(dim=-1)"), (lambda: nn.Identity(), "Identity()"),
    (lambda: nn.Flatten(), "Flatten(start_dim=1, end_dim=-1)"),
    (lambda: nn.Unflatten(1, (2, 5)), "Unflatten(dim=1, unflattened_size=(2, 5))"),
    (lambda: nn.MSELoss(), "MSELoss()"), (lambda: nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
])
def test_layer_repr(module, text):
    assert repr(module()) == text


# ---------------------------------------------------------------------- containers

def test_sequential_container():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    s = nn.Sequential(a, b)
    assert len(s) == 2 and s[0] is a and s[-1] is b and list(s) == [a, b]
    assert isinstance(s[0:1], nn.Sequential) and list(s[0:1]) == [a]
    s.append(c)
    assert s[2] is c
    s.insert(0, nn.Identity())
    assert [type(x).__name__ for x in s] == ["Identity", "ReLU", "Tanh", "Sigmoid"]
    del s[0]
    assert list(s._modules) == ["0", "1", "2"] and s[0] is a
    s[1] = nn.ReLU6()
    assert type(s[1]) is nn.ReLU6
    assert len(s + nn.Sequential(a)) == 4
    assert s.pop(2) is c and len(s) == 2
    with pytest.raises(IndexError, match="index 5 is out of range"):
        s[5]
    x = T([[-1.0, 0.5, 7.0]], torch.float32)
    np.testing.assert_allclose(npy(nn.Sequential(nn.ReLU(), nn.ReLU6())(x)), [[0, 0.5, 6]])
    named = nn.Sequential(OrderedDict([("first", a), ("second", b)]))
    assert named.first is a and list(named._modules) == ["first", "second"]


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    ml.append(nn.Sigmoid())
    ml.extend([nn.ELU()])
    ml.insert(1, nn.Identity())
    assert [type(x).__name__ for x in ml] == ["ReLU", "Identity", "Tanh", "Sigmoid", "ELU"]
    assert len(ml) == 5 and type(ml[-1]) is nn.ELU
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    ml += [nn.ReLU()]
    assert len(ml) == 6
    del ml[0]
    assert type(ml[0]) is nn.Identity and list(ml._modules)[0] == "0"
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        ml.extend(3)
    holder = nn.Module()
    holder.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    assert [n for n, _ in holder.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]

    md = nn.ModuleDict({"act": nn.ReLU(), "lin": nn.Linear(2, 2)})
    assert list(md.keys()) == ["act", "lin"] and "act" in md and len(md) == 2
    assert type(md["act"]) is nn.ReLU
    md.update([("tanh", nn.Tanh())])
    assert list(md) == ["act", "lin", "tanh"]
    assert [type(v).__name__ for v in md.values()] == ["ReLU", "Linear", "Tanh"]
    assert type(md.pop("act")) is nn.ReLU and list(md) == ["lin", "tanh"]
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        md.update([("a", nn.ReLU(), 1)])


def test_parameter_list_and_dict():
    pl = nn.ParameterList([torch.zeros(2), nn.Parameter(torch.ones(3))])
    assert len(pl) == 2 and isinstance(pl[0], nn.Parameter) and pl[0].requires_grad
    pl.append(torch.zeros(1))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert len(pl[1:]) == 2
    pd = nn.ParameterDict({"b": torch.zeros(1), "a": torch.ones(2)})
    assert list(pd) == ["a", "b"]   # a plain dict is sorted, as in PyTorch
    assert isinstance(pd["a"], nn.Parameter)
    pd["c"] = nn.Parameter(torch.zeros(3))
    assert len(pd) == 3 and [k for k, _ in pd.items()] == ["a", "b", "c"]
    assert pd.pop("b") is not None and "b" not in pd
    with pytest.raises(RuntimeError, match="should not be called"):
        pl()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_module_cuda_round_trip_keeps_parameters():
    m = Net()
    w = m.fc.weight
    ref = npy(m(torch.ones(2, 3)))
    assert m.cuda() is m
    assert m.fc.weight is w and w.is_cuda and m.steps.is_cuda and m.cache.is_cuda
    y = m(torch.ones(2, 3, device="cuda"))
    assert y.is_cuda
    np.testing.assert_allclose(y.detach().cpu().numpy(), ref, rtol=1e-5, atol=1e-6)
    sd = m.state_dict()
    assert sd["fc.weight"].is_cuda
    m.to("cpu", torch.float64)
    assert m.fc.weight is w and not w.is_cuda and w.dtype == torch.float64
    m.load_state_dict(sd)   # copies across devices
    assert not m.fc.weight.is_cuda
