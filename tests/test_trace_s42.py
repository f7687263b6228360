"""Tracing against torch.jit.trace 2.13 (session 42, d42).

Finds, minimised, with torch 2.13's behaviour:

1. Convolutions: torch's tracer does not record conv1d/2d/3d, conv_transpose1d/2d/3d nor
   convolution (gen_trace_type's DONT_RECORD_TRACE) but what they call: an unbatched
   input's aten::unsqueeze, then `aten::_convolution(input, weight, bias, stride,
   padding, dilation, transposed, output_padding, groups, benchmark, deterministic,
   cudnn_enabled, allow_tf32)` (the last four: the backend flags at trace time), or
   `aten::_convolution_mode` for padding 'same' / 'valid', then aten::squeeze. Every
   traced conv net's `.code` shows `torch._convolution(input, weight, bias, [1, 1], [1, 1],
   [1, 1], False, [0, 0], 1, False, False, True, True)`; gpujit recorded
   `torch.conv2d(input, weight, bias, [1, 1], [1, 1], [1, 1])` and had no _convolution
   op. Eager `torch._convolution`'s grad_fn is ConvolutionBackward1; a frozen trace
   folds batch norm into a non-transposed _convolution.
"""
import io

import numpy as np
import pytest

import gpujit as torch
from trace_util import quiet_trace as _quiet_trace, real_torch as _torch

F = torch.nn.functional


def _body(code):
    """The statements of a .code text (without the def line)."""
    return [ln.strip() for ln in code.strip().splitlines()[1:]
            if not ln.strip().endswith(") -> Tensor:")]


# ------------------------------------------------------------------ 1. convolutions
_CONV_MODULES = [
    ("Conv2d", (3, 4, 3), dict(padding=1), (1, 3, 8, 8),
     "_0 = torch._convolution(input, weight, bias, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, "
     "False, False, True, True)"),
    ("Conv1d", (3, 4, 3), dict(stride=2, bias=False), (2, 3, 9),
     "_0 = torch._convolution(input, weight, None, [2], [0], [1], False, [0], 1, "
     "False, False, True, True)"),
    ("Conv3d", (2, 2, 3), dict(dilation=2, padding=(1, 2, 0)), (1, 2, 7, 7, 7),
     "_0 = torch._convolution(input, weight, bias, [1, 1, 1], [1, 2, 0], [2, 2, 2], False, "
     "[0, 0, 0], 1, False, False, True, True)"),
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2, output_padding=1), (1, 3, 5, 5),
     "_0 = torch._convolution(input, weight, bias, [2, 2], [0, 0], [1, 1], True, [1, 1], 1, "
     "False, False, True, True)"),
    ("ConvTranspose1d", (4, 2, 3), dict(groups=2), (1, 4, 5),
     "_0 = torch._convolution(input, weight, bias, [1], [0], [1], True, [0], 2, "
     "False, False, True, True)"),
    ("Conv2d", (4, 4, 3), dict(padding="same", groups=2), (1, 4, 6, 6),
     "_0 = torch._convolution_mode(input, weight, bias, [1, 1], \"same\", [1, 1], 2)"),
]


@pytest.mark.parametrize("i", range(len(_CONV_MODULES)))
def test_traced_conv_module_records_convolution(i):
    cls, args, kw, shape, line = _CONV_MODULES[i]
    m = getattr(torch.nn, cls)(*args, **kw)
    x = torch.randn(*shape)
    t = _quiet_trace(torch, m, (x,))
    body = _body(t.code)
    assert line in body and body[-1] == "return _0"
    kinds = [n.kind() for n in t.graph.nodes()]
    assert ("aten::_convolution_mode" if "mode" in line else "aten::_convolution") in kinds
    assert not any(k.startswith("aten::conv") for k in kinds)
    x2 = torch.randn(*((2,) + shape[1:]))
    np.testing.assert_allclose(t(x2).detach().numpy(), m(x2).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    buf = io.BytesIO()
    torch.jit.save(t, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    assert line in _body(loaded.code)
    np.testing.assert_allclose(loaded(x2).detach().numpy(), m(x2).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("i", range(len(_CONV_MODULES)))
def test_traced_conv_module_code_as_torchs(i):
    tt = _torch()
    cls, args, kw, shape, _ = _CONV_MODULES[i]
    got = _quiet_trace(torch, getattr(torch.nn, cls)(*args, **kw), (torch.randn(*shape),))
    want = _quiet_trace(tt, getattr(tt.nn, cls)(*args, **kw), (tt.randn(*shape),))
    assert got.code == want.code


_W = np.linspace(-1, 1, 4 * 3 * 3 * 3).reshape(4, 3, 3, 3)
_CONV_FUNCTIONS = [
    # an unbatched input: unsqueeze, the convolution, squeeze
    ("F.conv2d(x[0], w, padding=1)",
     ["_0 = torch.unsqueeze(torch.select(x, 0, 0), 0)",
      "_1 = torch._convolution(_0, CONSTANTS.c0, None, [1, 1], [1, 1], [1, 1], False, "
      "[0, 0], 1, False, False, True, True)",
      "return torch.squeeze(_1, 0)"]),
    ("F.conv2d(x, w, stride=(2, 1), dilation=2)",
     ["_0 = torch._convolution(x, CONSTANTS.c0, None, [2, 1], [0, 0], [2, 2], False, "
      "[0, 0], 1, False, False, True, True)", "return _0"]),
    ("F.conv2d(x, w, padding='valid')",
     ["_0 = torch._convolution_mode(x, CONSTANTS.c0, None, [1, 1], \"valid\", [1, 1], 1)",
      "return _0"]),
    ("F.conv2d(x[0], w, padding='same')",
     ["_0 = torch.unsqueeze(torch.select(x, 0, 0), 0)",
      "_1 = torch._convolution_mode(_0, CONSTANTS.c0, None, [1, 1], \"same\", [1, 1], 1)",
      "return torch.squeeze(_1, 0)"]),
    ("F.conv_transpose2d(x, w.transpose(0, 1), stride=2, padding=1, output_padding=1)",
     ["_0 = torch._convolution(x, CONSTANTS.c0, None, [2, 2], [1, 1], [1, 1], True, "
      "[1, 1], 1, False, False, True, True)", "return _0"]),
]


@pytest.mark.parametrize("i", range(len(_CONV_FUNCTIONS)))
def test_traced_conv_function_records_convolution(i):
    text, body = _CONV_FUNCTIONS[i]
    w = torch.tensor(_W, dtype=torch.float32)
    if "transpose" in text:
        w = w.transpose(0, 1).contiguous()
    fn = eval("lambda x: " + text.replace("w.transpose(0, 1)", "w"), {"F": F, "w": w, "__name__": __name__})
    x = torch.randn(1, 3, 6, 6)
    t = _quiet_trace(torch, fn, (x,))
    assert _body(t.code) == body
    x2 = torch.randn(1, 3, 6, 6)
    np.testing.assert_allclose(t(x2).numpy(), fn(x2).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("i", range(len(_CONV_FUNCTIONS)))
def test_traced_conv_function_code_as_torchs(i):
    tt = _torch()
    text, _ = _CONV_FUNCTIONS[i]
    got = _quiet_trace(torch, eval("lambda x: " + text, {
        "F": F, "w": torch.tensor(_W, dtype=torch.float32), "__name__": __name__}), (torch.randn(1, 3, 6, 6),))
    want = _quiet_trace(tt, eval("lambda x: " + text, {
        "F": tt.nn.functional, "w": tt.tensor(_W, dtype=tt.float32), "__name__": __name__}),
        (tt.randn(1, 3, 6, 6),))
    assert got.code == want.code


class _Convs:
    """conv2d's three recorded forms, with a weight that requires grad."""
    def __init__(self, tr):
        class M(tr.nn.Module):
            def __init__(s):
                super().__init__()
                s.w = tr.nn.Parameter(tr.tensor(_W[:3], dtype=tr.float32))

            def forward(s, x):
                f = tr.nn.functional
                return f.conv2d(x[0], s.w, padding="same") + f.conv2d(x, s.w, padding=1)[0] \
                    + f.conv2d(x[0], s.w, padding=1)
        self.module = M()


def _typed_nodes(graph):
    """(kind, [output type text]) of each aten node, read from the graph's text."""
    out = []
    for line in str(graph).splitlines():
        if " = aten::" in line:
            lhs, rhs = line.split(" = aten::", 1)
            out.append(("aten::" + rhs.split("(")[0],
                        [p.split(" : ", 1)[1] for p in lhs.strip().split(", %")]))
    return out


def test_traced_convolution_types_below_autograd():
    # torch's tracer records _convolution below convolution's autograd kernel: its output's
    # type says requires_grad=0 though the weight requires grad; _convolution_mode (a
    # composite, above autograd) and the squeeze after it say 1
    t = _quiet_trace(torch, _Convs(torch).module, (torch.randn(1, 3, 5, 5),))
    grads = [(k, ts[0].split("requires_grad=")[1][0]) for k, ts in _typed_nodes(t.graph)]
    assert grads == [("aten::select", "0"), ("aten::unsqueeze", "0"),
                     ("aten::_convolution_mode", "1"), ("aten::squeeze", "1"),
                     ("aten::_convolution", "0"), ("aten::select", "1"), ("aten::add", "1"),
                     ("aten::select", "0"), ("aten::unsqueeze", "0"),
                     ("aten::_convolution", "0"), ("aten::squeeze", "1"), ("aten::add", "1")]
    x = torch.randn(2, 3, 5, 5)
    out = t(x)
    assert out.requires_grad and tuple(out.shape) == (3, 5, 5)


def test_traced_convolution_types_as_torchs():
    tt = _torch()
    got = _quiet_trace(torch, _Convs(torch).module, (torch.randn(1, 3, 5, 5),))
    want = _quiet_trace(tt, _Convs(tt).module, (tt.randn(1, 3, 5, 5),))
    assert _typed_nodes(got.graph) == _typed_nodes(want.graph)
    assert got.code == want.code


def test_traced_conv_records_backend_flags():
    c = torch.backends.cudnn
    old = (c.benchmark, c.allow_tf32)
    w = torch.ones(1, 1, 1, 1)
    try:
        c.benchmark, c.allow_tf32 = True, False
        t = _quiet_trace(torch, lambda x: F.conv2d(x, w), (torch.ones(1, 1, 2, 2),))
    finally:
        c.benchmark, c.allow_tf32 = old
    assert "False, [0, 0], 1, True, False, True, False)" in t.code


def test_wrong_input_rank_keeps_the_conv_error():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) "
                                           r"input to conv2d, but got input of size: \[8\]"):
        _quiet_trace(torch, lambda x: F.conv2d(x, torch.ones(1, 1, 1, 1)), (torch.ones(8),))


def _np_conv2d(x, w, b, stride, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + b.reshape(1, -1, 1, 1)


def test_convolution_op_eager_values_and_grad_fn():
    rng = np.random.default_rng(0)
    xn, wn, bn = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), \
        rng.standard_normal(4)
    x = torch.tensor(xn, requires_grad=True)
    w, b = torch.tensor(wn, requires_grad=True), torch.tensor(bn)
    r = torch._convolution(x, w, b, [2, 2], [1, 1], [1, 1], False, [0, 0], 1, False, False,
                           True, True)
    np.testing.assert_allclose(r.detach().numpy(), _np_conv2d(xn, wn, bn, 2, 1), rtol=1e-12)
    assert r.grad_fn.name() == "ConvolutionBackward1"
    r.sum().backward()
    gx, gw = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    F.conv2d(x, w, b, 2, 1).sum().backward()
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), w.grad.numpy(), rtol=1e-12)
    r2 = torch._convolution(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, False,
                            False, True)        # (the .deprecated overload)
    assert r2.grad_fn.name() == "ConvolutionBackward1" and tuple(r2.shape) == (2, 4, 3, 3)
    m = torch._convolution_mode(x, w, None, [1, 1], "same", [1, 1], 1)
    assert m.grad_fn.name() == "ConvolutionBackward0" and tuple(m.shape) == (2, 4, 5, 5)
    np.testing.assert_allclose(m.detach().numpy(), _np_conv2d(xn, wn, np.zeros(4), 1, 1),
                               rtol=1e-12)


def test_convolution_op_transposed_matches_conv_transpose():
    x = torch.randn(1, 2, 4, 4, requires_grad=True)
    w = torch.randn(2, 3, 3, 3, requires_grad=True)
    r = torch._convolution(x, w, None, [2, 2], [1, 1], [1, 1], True, [1, 1], 1, False, False,
                           True, True)
    want = F.conv_transpose2d(x, w, None, 2, 1, 1)
    np.testing.assert_allclose(r.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    g = torch.autograd.grad(r.sum(), (x, w))
    g2 = torch.autograd.grad(want.sum(), (x, w))
    for a, b in zip(g, g2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_convolution_op_refuses_an_unbatched_input():
    with pytest.raises(RuntimeError, match=r"Expected 4-dimensional input for 4-dimensional "
                                           r"weight \[4, 3, 3, 3\], but got 3-dimensional "
                                           r"input of size \[3, 8, 8\] instead"):
        torch._convolution(torch.ones(3, 8, 8), torch.ones(4, 3, 3, 3), None, [1, 1], [0, 0],
                           [1, 1], False, [0, 0], 1, False, False, True, True)


def test_frozen_trace_folds_batch_norm_into_convolution():
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                            torch.nn.ReLU())
    m(torch.randn(4, 3, 6, 6))          # running statistics that are not the identity
    m.eval()
    f = torch.jit.freeze(_quiet_trace(torch, m, (torch.randn(1, 3, 6, 6),)))
    kinds = [n.kind() for n in f.graph.nodes()]
    assert "aten::batch_norm" not in kinds and "aten::_convolution" in kinds
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        np.testing.assert_allclose(f(x).numpy(), m(x).numpy(), rtol=1e-5, atol=1e-6)
    # a transposed convolution is not folded (PyTorch's supportedConvNode)
    mt = torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    mt.eval()
    ft = torch.jit.freeze(_quiet_trace(torch, mt, (torch.randn(1, 3, 6, 6),)))
    assert "aten::batch_norm" in [n.kind() for n in ft.graph.nodes()]


def test_traced_conv_trains():
    m = torch.nn.Conv2d(2, 3, 3, padding=1)
    t = _quiet_trace(torch, m, (torch.randn(1, 2, 4, 4),))
    x = torch.randn(2, 2, 4, 4)
    out = t(x)
    assert out.grad_fn.name() == "ConvolutionBackward1"
    out.square().sum().backward()
    gw = m.weight.grad.clone()
    m.weight.grad = None
    m(x).square().sum().backward()
    np.testing.assert_allclose(gw.numpy(), m.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ 2. random factories
# torch 2.13 declares each random factory twice: without a generator (what a call without
# one records, `aten::rand_like(%x, %dtype, %layout, %device, %pin_memory, %format)`) and
# `.generator` with one it must be given; randint_like(x, high) is its own overload. gpujit
# had one op with `Generator? generator=None`, so traces and scripts recorded
# `generator=None` and randint_like(x, 5) as randint_like.low_dtype(x, 0, 5).
_RANDOM = [
    ("torch.randn(3)",
     '_0 = torch.randn([3], dtype=None, layout=None, device=torch.device("cpu"), '
     'pin_memory=False)', "aten::randn", 5),
    ("torch.rand_like(x)",
     "_0 = torch.rand_like(x, dtype=None, layout=None, device=None, pin_memory=False)",
     "aten::rand_like", 6),
    ("torch.randn_like(x, generator=g)",
     '_0 = torch.randn_like(x, generator=torch.Generator(device="cpu", seed=1), dtype=None, '
     'layout=None, device=None, pin_memory=False)', "aten::randn_like", 7),
    ("torch.randint_like(x, 5)",
     "_0 = torch.randint_like(x, 5, dtype=None, layout=None, device=None, pin_memory=False)",
     "aten::randint_like", 7),
    ("torch.randint_like(x, 1, 5)",
     "_0 = torch.randint_like(x, 1, 5, dtype=None, layout=None, device=None, "
     "pin_memory=False)", "aten::randint_like", 8),
    ("torch.rand(3, generator=g)",
     '_0 = torch.rand([3], generator=torch.Generator(device="cpu", seed=1), dtype=None, '
     'layout=None, device=torch.device("cpu"), pin_memory=False)', "aten::rand", 6),
    ("torch.randint(0, 5, (3,))",
     '_0 = torch.randint(0, 5, [3], dtype=4, layout=None, device=torch.device("cpu"), '
     'pin_memory=False)', "aten::randint", 7),
    ("torch.randint(5, (3,), generator=g)",
     '_0 = torch.randint(5, [3], generator=torch.Generator(device="cpu", seed=1), dtype=4, '
     'layout=None, device=torch.device("cpu"), pin_memory=False)', "aten::randint", 7),
    ("torch.randperm(3)",
     '_0 = torch.randperm(3, dtype=4, layout=None, device=torch.device("cpu"), '
     'pin_memory=False)', "aten::randperm", 5),
]


def _random_fn(tr, text):
    g = tr.Generator().manual_seed(1)
    return eval("lambda x: x + " + text, {"torch": tr, "g": g, "__name__": __name__})


@pytest.mark.parametrize("i", range(len(_RANDOM)))
def test_traced_random_factory_records_torchs_overload(i):
    text, line, kind, n_inputs = _RANDOM[i]
    t = _quiet_trace(torch, _random_fn(torch, text), (torch.rand(3),), check_trace=False)
    assert _body(t.code)[0] == line
    (node,) = [n for n in t.graph.nodes() if n.kind() == kind]
    assert len(list(node.inputs())) == n_inputs
    assert tuple(t(torch.rand(3)).shape) == (3,)


@pytest.mark.parametrize("i", range(len(_RANDOM)))
def test_traced_random_factory_code_as_torchs(i):
    tt = _torch()
    text = _RANDOM[i][0]
    got = _quiet_trace(torch, _random_fn(torch, text), (torch.rand(3),), check_trace=False)
    want = _quiet_trace(tt, _random_fn(tt, text), (tt.rand(3),), check_trace=False)
    assert got.code == want.code


def test_scripted_random_factories_and_defaults():
    @torch.jit.script
    def f(x):
        return torch.randn([3]) + torch.rand_like(x) + torch.randint_like(x, 5) + \
            torch.randperm(3) + torch.normal(x, 1.0)

    code = f.code
    for text in ("torch.randn([3])", "torch.rand_like(x)", "torch.randint_like(x, 5)",
                 "torch.randperm(3)", "torch.normal(x)"):
        assert text in code, code
    kinds = {n.kind(): len(list(n.inputs())) for n in f.graph.nodes()}
    assert kinds["aten::randn"] == 5 and kinds["aten::rand_like"] == 6
    assert kinds["aten::randint_like"] == 7 and kinds["aten::randperm"] == 5
    assert tuple(f(torch.zeros(3)).shape) == (3,)
    t = _quiet_trace(torch, lambda x: x.uniform_(), (torch.rand(3),), check_trace=False)
    assert _body(t.code) == ["return torch.uniform_(x)"]


def test_random_factories_with_a_generator_reproduce():
    x = torch.zeros(4)
    for fn in (lambda g: torch.rand_like(x, generator=g),
               lambda g: torch.randint_like(x, 3, 9, generator=g),
               lambda g: torch.randint_like(x, 9, generator=g),
               lambda g: torch.randperm(6, generator=g),
               lambda g: torch.randint(0, 9, (4,), generator=g),
               lambda g: torch.randint(9, (4,), generator=g)):
        a = fn(torch.Generator().manual_seed(7))
        b = fn(torch.Generator().manual_seed(7))
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    r = torch.randint_like(torch.zeros(1000), 4)
    assert r.dtype == torch.float32 and set(np.unique(r.numpy())) == {0.0, 1.0, 2.0, 3.0}

    @torch.jit.script
    def s(x, g: torch.Generator):
        return torch.rand_like(x, generator=g)

    assert "torch.rand_like(x, generator=g)" in s.code
    np.testing.assert_array_equal(s(x, torch.Generator().manual_seed(2)).numpy(),
                                  torch.rand_like(x, generator=torch.Generator().manual_seed(
                                      2)).numpy())


# ------------------------------------------------------------------ 3. bilinear
# torch.bilinear is one ATen op: a trace of nn.Bilinear / F.bilinear records
# `aten::bilinear(%input1, %input2, %weight, %bias)` and a script `torch.bilinear(...)`;
# gpujit's F.bilinear was a composite, recorded as reshapes, einsum, add and reshape.
_BIL_CODE = ["bias = self.bias", "weight = self.weight",
             "_0 = torch.bilinear(input1, input2, weight, bias)", "return _0"]


def test_traced_bilinear_is_one_node():
    m = torch.nn.Bilinear(3, 4, 5)
    x1, x2 = torch.randn(2, 3), torch.randn(2, 4)
    t = _quiet_trace(torch, m, (x1, x2))
    body = [ln for ln in _body(t.code) if not ln.startswith("input")]
    assert body == _BIL_CODE
    kinds = [n.kind() for n in t.graph.nodes() if n.kind() != "prim::GetAttr"]
    assert kinds == ["aten::bilinear"]
    y1, y2 = torch.randn(4, 3), torch.randn(4, 4)
    want = np.einsum("bi,oij,bj->bo", y1.numpy(), m.weight.detach().numpy(), y2.numpy()) + \
        m.bias.detach().numpy()
    np.testing.assert_allclose(t(y1, y2).detach().numpy(), want, rtol=1e-5, atol=1e-6)

    @torch.jit.script
    def f(a, b, w):
        return torch.nn.functional.bilinear(a, b, w)

    assert "torch.bilinear(a, b, w)" in f.code
    assert [n.kind() for n in f.graph.nodes() if n.kind() != "prim::Constant"] == \
        ["aten::bilinear"]


def test_traced_bilinear_code_as_torchs():
    tt = _torch()
    got = _quiet_trace(torch, torch.nn.Bilinear(3, 4, 5), (torch.randn(2, 3), torch.randn(2, 4)))
    want = _quiet_trace(tt, tt.nn.Bilinear(3, 4, 5), (tt.randn(2, 3), tt.randn(2, 4)))
    assert got.code == want.code


def test_bilinear_gradients_and_nodes():
    rng = np.random.default_rng(1)
    a1, a2, aw, ab = (rng.standard_normal(s) for s in ((2, 6, 3), (2, 6, 4), (5, 3, 4), (5,)))
    x1, x2, w, b = (torch.tensor(a, requires_grad=True) for a in (a1, a2, aw, ab))
    y = torch.bilinear(x1, x2, w, b)
    assert y.grad_fn.name() == "AddBackward0" and tuple(y.shape) == (2, 6, 5)
    assert torch.bilinear(x1, x2, w).grad_fn.name() == "ViewBackward0"
    g = rng.standard_normal((2, 6, 5))
    y.backward(torch.tensor(g))
    np.testing.assert_allclose(x1.grad.numpy(), np.einsum("...o,oij,...j->...i", g, aw, a2),
                               rtol=1e-10)
    np.testing.assert_allclose(x2.grad.numpy(), np.einsum("...o,oij,...i->...j", g, aw, a1),
                               rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), np.einsum(
        "bo,bi,bj->oij", g.reshape(-1, 5), a1.reshape(-1, 3), a2.reshape(-1, 4)), rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), g.sum((0, 1)), rtol=1e-10)
    with pytest.raises(RuntimeError, match=r"bilinear\(\): input1 size does not match weight "
                                           r"size: got 4 but expected 3"):
        torch.nn.functional.bilinear(x2, x2, w)


# ------------------------------------------------------------------ 4. graph text
# A traced function's values are numbered from %0 (its first input), so its first node's
# output is %1 (gpujit started at %1: `%2 = aten::relu(%x)`); a tensor constant of 2 to 10
# elements prints its values as ATen's C++ printer writes them on one line (torch's
# printAttribute), gpujit printed `<Tensor>`.
def test_traced_function_numbering_from_zero():
    t = _quiet_trace(torch, lambda x, y: x.relu() + y, (torch.rand(2), torch.rand(2)))
    lines = str(t.graph).splitlines()
    assert lines[2].startswith("  %2 : Float(2, strides=[1], requires_grad=0, device=cpu) = "
                               "aten::relu(%x)")
    assert lines[3].startswith("  %3 : int = prim::Constant[value=1]()")
    assert lines[4].startswith("  %4 : ") and "aten::add(%2, %y, %3)" in lines[4]
    assert lines[5] == "  return (%4)"


_CONSTS = [
    ("np.arange(3, dtype=np.float32)", "value= 0  1  2 [ CPUFloatType{3} ]"),
    ("np.array([1.5, -2.25, 1e-3], dtype=np.float32)",
     "value= 1.5000 -2.2500  0.0010 [ CPUFloatType{3} ]"),
    ("np.array([[True, False]])", "value= 1  0 [ CPUBoolType{1,2} ]"),
    ("np.array([1e6, 2.0], dtype=np.float32)", "value=   1e+06        2 [ CPUFloatType{2} ]"),
    ("np.arange(12.0, dtype=np.float32).reshape(2, 2, 3)", "value=<Tensor>"),
]


def _const_graph(tr, text):
    c = tr.from_numpy(eval(text, {"np": np}))
    n = c.shape[-1]
    g = _quiet_trace(tr, lambda x: x + c, (tr.zeros(n),), check_trace=False).graph
    return str(g).splitlines()[1]


@pytest.mark.parametrize("i", range(len(_CONSTS)))
def test_small_tensor_constant_prints_its_values(i):
    text, want = _CONSTS[i]
    line = _const_graph(torch, text)
    assert line.startswith("  %1 : ") and f"prim::Constant[{want}]()" in line
    from gpujit.ir.parser import parse_ir
    t = _quiet_trace(torch, lambda x: x + torch.from_numpy(eval(text, {"np": np})),
                     (torch.zeros(eval(text, {"np": np}).shape[-1]),), check_trace=False)
    assert str(parse_ir(str(t.graph))) == str(t.graph)


@pytest.mark.parametrize("i", range(len(_CONSTS)))
def test_small_tensor_constant_as_torchs(i):
    tt = _torch()
    text, _ = _CONSTS[i]
    assert _const_graph(torch, text).split(" # ")[0] == _const_graph(tt, text).split(" # ")[0]


# ------------------------------------------------------------------ 5. Tensor.to(memory_format=)
# torch's binding fills dtype, layout and device in from the tensor: a trace records
# `torch.to(x, dtype=6, layout=0, device=torch.device("cpu"), ...)`; gpujit had layout=None.
def test_traced_to_memory_format_records_the_layout():
    t = _quiet_trace(torch, lambda x: x.to(memory_format=torch.channels_last) * 1,
                     (torch.rand(1, 2, 3, 4),), check_trace=False)
    (line,) = [ln for ln in _body(t.code) if "torch.to(" in ln]
    assert line.startswith('_0 = torch.to(x, dtype=6, layout=0, device=torch.device("cpu"), '
                           'pin_memory=None, non_blocking=False, copy=False, memory_format=')
    y = t(torch.rand(2, 3, 4, 5))
    assert y.stride() == (60, 1, 15, 3)


# A traced module's graph: torch numbers its inputs from %0 (self first), takes two
# numbers for itself, then numbers every value in order, GetAttrs included (Linear:
# `%6 = aten::linear(%input, %weight, %bias)`); gpujit numbered the parameters' GetAttrs
# at their first use (`%5 = aten::linear`, and gaps after each GetAttr).
class _ThreeParams:
    def __init__(self, tr):
        class Q(tr.nn.Module):
            def __init__(s):
                super().__init__()
                s.w = tr.nn.Parameter(tr.ones(2))
                s.b = tr.nn.Parameter(tr.ones(2))
                s.register_buffer("r", tr.ones(2))

            def forward(s, x, y):
                return (x * s.w + s.b) * s.r + y
        self.module = Q()


def _graph_text(t):
    return [ln.split(" # ")[0] for ln in str(t.graph).splitlines()]


def test_traced_module_numbering():
    lin = _graph_text(_quiet_trace(torch, torch.nn.Linear(2, 3), (torch.ones(2),)))
    assert lin[-2].startswith("  %6 : Float(3, strides=[1], requires_grad=1, device=cpu) = "
                              "aten::linear(%input, %weight, %bias)")
    q = _graph_text(_quiet_trace(torch, _ThreeParams(torch).module,
                                 (torch.ones(2), torch.ones(2))))
    body = [ln.split(" : ")[0].strip() + " " + ln.split(" = ", 1)[1].split("[")[0]
            for ln in q[3:-1]]
    assert body == ["%r prim::GetAttr", "%b prim::GetAttr", "%w prim::GetAttr",
                    "%8 aten::mul(%x, %w)", "%9 prim::Constant", "%10 aten::add(%8, %b, %9)",
                    "%11 aten::mul(%10, %r)", "%12 prim::Constant",
                    "%13 aten::add(%11, %y, %12)"]
    assert q[-1] == "  return (%13)"


def test_traced_module_numbering_as_torchs():
    tt = _torch()
    for make, inputs in ((lambda tr: tr.nn.Linear(2, 3), lambda tr: (tr.ones(2),)),
                         (lambda tr: _ThreeParams(tr).module,
                          lambda tr: (tr.ones(2), tr.ones(2))),
                         (lambda tr: tr.nn.Conv2d(1, 2, 3), lambda tr: (tr.ones(1, 1, 4, 4),))):
        got = _graph_text(_quiet_trace(torch, make(torch), inputs(torch)))
        want = _graph_text(_quiet_trace(tt, make(tt), inputs(tt)))
        assert got[1:] == want[1:]      # (the first line names the class: __torch__.test_...)


# .inlined_graph: torch copies the graph (Graph::copy numbers the copy's values afresh,
# in order, from %0) and inlines the calls into it; gpujit's copy kept the numbers.
def test_inlined_graph_numbered_afresh():
    q = _quiet_trace(torch, _ThreeParams(torch).module, (torch.ones(2), torch.ones(2)))
    lines = [ln.split(" # ")[0] for ln in str(q.inlined_graph).splitlines()]
    assert lines[-2].startswith("  %11 : ") and "aten::add(%9, %y, %10)" in lines[-2]
    assert lines[-1] == "  return (%11)"
    assert "%6 : " in lines[6] and "aten::mul(%x, %w)" in lines[6]


def test_inlined_graph_numbering_as_torchs():
    tt = _torch()
    got = _quiet_trace(torch, _ThreeParams(torch).module, (torch.ones(2), torch.ones(2)))
    want = _quiet_trace(tt, _ThreeParams(tt).module, (tt.ones(2), tt.ones(2)))
    strip = lambda g: [ln.split(" # ")[0] for ln in str(g).splitlines()][1:]  # noqa: E731
    assert strip(got.inlined_graph) == strip(want.inlined_graph)


# torch._C's Type.annotation_str (what torch's str() of a graph value's type gives):
# 'Tensor', 'List[int]', 'Tuple[Tensor, Tensor, List[Tensor]]'; gpujit's types had none.
def _annotations(tr):
    t = _quiet_trace(tr, lambda x: (x.sum(0), x.size(0), [x, x]), (tr.ones(2, 3),),
                     strict=False)
    vals = list(t.graph.inputs()) + [o for n in t.graph.nodes() for o in n.outputs()]
    return [v.type().annotation_str for v in vals]


def test_type_annotation_str():
    got = _annotations(torch)
    assert got[0] == "Tensor" and "List[int]" in got and \
        got[-1] == "Tuple[Tensor, Tensor, List[Tensor]]"


def test_type_annotation_str_as_torchs():
    tt = _torch()
    assert _annotations(torch) == _annotations(tt)


# ------------------------------------------------------------------ 6. MultiheadAttention
# torch's multi_head_attention_forward splits a packed self-attention projection with
# unflatten / unsqueeze / transpose / squeeze / contiguous and selects q, k, v from it,
# then views the heads (aten::view): gpujit chunked the projection and reshaped.
def _mha_kinds(tr):
    class W(tr.nn.Module):
        def __init__(s):
            super().__init__()
            s.m = tr.nn.MultiheadAttention(8, 2).eval()

        def forward(s, x):
            return s.m(x, x, x)
    w = W()
    t = _quiet_trace(tr, w, (tr.randn(3, 2, 8),))
    return [n.kind() for n in t.inlined_graph.nodes()
            if n.kind().startswith("aten::") and n.kind() not in (
                "aten::size", "aten::Int", "aten::div", "aten::floordiv", "aten::mul")], t, w


def test_traced_mha_projection_and_views():
    kinds, t, mod = _mha_kinds(torch)
    assert kinds[:9] == ["aten::linear", "aten::unflatten", "aten::unsqueeze",
                         "aten::transpose", "aten::squeeze", "aten::contiguous",
                         "aten::select", "aten::select", "aten::select"]
    assert "aten::reshape" not in kinds[:12] and kinds.count("aten::view") == 5
    assert "aten::chunk" not in kinds
    x = torch.randn(4, 2, 8)
    out, w = t(x)
    want, want_w = mod(x)
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), want_w.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_traced_mha_as_torchs():
    tt = _torch()
    assert _mha_kinds(torch)[0] == _mha_kinds(tt)[0]


def test_mha_encoder_decoder_and_scripted():
    m = torch.nn.MultiheadAttention(8, 2, kdim=None, vdim=None).eval()
    q, kv = torch.randn(3, 2, 8), torch.randn(5, 2, 8)
    out, w = m(q, kv, kv)
    # the reference: the packed weights applied one by one
    wq, wk, wv = m.in_proj_weight.detach().numpy().reshape(3, 8, 8)
    bq, bk, bv = m.in_proj_bias.detach().numpy().reshape(3, 8)
    qa, ka, va = (q.numpy() @ wq.T + bq, kv.numpy() @ wk.T + bk, kv.numpy() @ wv.T + bv)
    heads = lambda a, n: a.reshape(n, 2, 2, 4).transpose(1, 2, 0, 3)  # noqa: E731
    s = heads(qa, 3) @ heads(ka, 5).transpose(0, 1, 3, 2) / 2.0
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o = (p @ heads(va, 5)).transpose(2, 0, 1, 3).reshape(3, 2, 8)
    o = o @ m.out_proj.weight.detach().numpy().T + m.out_proj.bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), o, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w.detach().numpy(), p.mean(1), rtol=1e-4, atol=1e-5)
    s_m = torch.jit.script(m)
    np.testing.assert_allclose(s_m(q, kv, kv)[0].detach().numpy(), o, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ 7. value names
# torch's tracer names a value after the local variable that holds it in the innermost
# Python frame, torch's own Python library's too (F.normalize's `denom`, the `input` of
# F.interpolate or of a submodule's forward); gpujit named values only from the user's
# frames, so `.code` inlined them.
_NAMED = [
    ("F.normalize(x, dim=-1)", ["_0 = torch.linalg_vector_norm(x, 2., [-1], True)",
                                "_1 = torch.clamp_min(_0, 9.9999999999999998e-13)",
                                "denom = torch.expand_as(_1, x)",
                                "return torch.div(x, denom)"]),
    ("F.interpolate(x[None], scale_factor=2.0, mode='nearest')",
     ["input = torch.unsqueeze(x, 0)", "_0 = torch.upsample_nearest1d(input, None, [2.])",
      "return _0"]),
]


@pytest.mark.parametrize("i", range(len(_NAMED)))
def test_values_named_after_library_locals(i):
    text, body = _NAMED[i]
    fn = eval("lambda x: " + text, {"F": F, "__name__": __name__})
    t = _quiet_trace(torch, fn, (torch.rand(4, 6),), check_trace=False)
    assert _body(t.code) == body


def test_encoder_layer_code_as_torchs():
    tt = _torch()

    def code(tr):
        tr.manual_seed(0)
        m = tr.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0).eval()
        return _quiet_trace(tr, m, (tr.randn(3, 2, 8),), check_trace=False).code

    got, want = code(torch), code(tt)
    for line in ("input = torch.add(src, _0)", "_1 = (norm1).forward(input, )",
                 "input0 = torch.relu((linear1).forward(_1, ))",
                 "input1 = torch.add(_1, (dropout2).forward(_2, ))",
                 "return (norm2).forward(input1, )"):
        assert line in got and line in want
    assert got == want
