"""PyTorch's tutorials run as written (tests/tutorial_programs.py and _b.py) with `torch`
bound to PyTorch and to gpujit: what they print (numbers within float32 rounding, the rest
as text, `gpujit` read as `torch`) and the values they return (dtype, shape, values) must
agree.
Then the tutorials' models scripted and traced through gpujit give their eager results.

Where gpujit differs on purpose or by a documented limit:
- random draws: gpujit's generator is not PyTorch's, so the programs draw their "random"
  data from NumPy (tutorial_programs.rnd) and set their parameters (load_weights);
- grad_fn names of composites whose decomposition gpujit does not follow name the op
  itself: einsum; glu records its parts (MulBackward0). (cross_entropy with probabilities
  or label smoothing and cosine_similarity are named after their last op as PyTorch's
  since session 36: tests/test_eager_fidelity_s36.py.)
"""
from __future__ import annotations

import io
import re

import numpy as np
import pytest

import gpujit
import tutorial_programs as tp
import tutorial_programs_b as tpb

torch = pytest.importorskip("torch")

_NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def run(mod, program, **kw):
    out = []

    def p(*a, **k):
        s = io.StringIO()
        print(*a, file=s, **k)
        out.append(s.getvalue())
    result = program(mod, p, **kw)
    return "".join(out), result


def same_text(want, got, tol=2e-5):
    """Printed output equal up to float32 rounding of the numbers in it (the last printed
    digit may differ), with gpujit's module name read as torch's."""
    got = got.replace("gpujit", "torch")
    wl, gl = want.splitlines(), got.splitlines()
    assert len(wl) == len(gl), f"{len(gl)} lines printed, torch printed {len(wl)}:\n{got}"
    for w, g in zip(wl, gl):
        assert _NUM.sub("#", w) == _NUM.sub("#", g), f"\ntorch:  {w}\ngpujit: {g}"
        for a, b in zip(_NUM.findall(w), _NUM.findall(g)):
            fa, fb = float(a), float(b)
            digits = len(a.split(".")[1].split("e")[0]) if "." in a else 0
            assert abs(fa - fb) <= max(tol * abs(fa), 1.01 * 10.0 ** -digits), \
                f"\ntorch:  {w}\ngpujit: {g}"


def same_values(want, got, path="", tol=1e-4):
    if isinstance(want, torch.Tensor):
        assert isinstance(got, gpujit.Tensor), (path, type(got))
        assert str(got.dtype).replace("gpujit", "torch") == str(want.dtype), path
        assert tuple(got.shape) == tuple(want.shape), path
        np.testing.assert_allclose(got.detach().numpy().astype(np.float64),
                                   want.detach().numpy().astype(np.float64),
                                   rtol=tol, atol=tol, err_msg=path)
    elif isinstance(want, dict):
        assert set(got) == set(want), path
        for k in want:
            same_values(want[k], got[k], f"{path}.{k}", tol)
    elif isinstance(want, (list, tuple)) and not isinstance(want, torch.Size):
        assert len(got) == len(want), path
        for i, (a, b) in enumerate(zip(want, got)):
            same_values(a, b, f"{path}[{i}]", tol)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=tol, abs=tol), path
    else:
        assert str(got).replace("gpujit", "torch") == str(want), path


def check(program, tol=1e-4, **kw):
    want_text, want = run(torch, program, **kw.get("torch_kw", {}))
    got_text, got = run(gpujit, program, **kw.get("gpujit_kw", {}))
    same_text(want_text, got_text)
    same_values(want, got, program.__name__, tol)
    return got_text


PROGRAMS = [tp.tensors_basics, tp.tensors_more, tp.datasets_dataloaders,
            tp.transforms_callables, tp.build_model, tp.autograd_basics,
            tp.optimization_loop, tpb.nn_really, tpb.extending_autograd,
            tpb.examples_polynomial]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__)
def test_tutorial_program(program):
    check(program)


def test_save_load(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "g").mkdir()
    check(tp.save_load, torch_kw=dict(tmpdir=str(tmp_path / "t")),
          gpujit_kw=dict(tmpdir=str(tmp_path / "g")))


# ------------------------------------------------------------ the fixes, one by one

def test_index_and_build_from_range():
    # the tutorial's nll: -input[range(target.shape[0]), target].mean()
    x = gpujit.arange(12.).view(3, 4)
    assert x[range(3), [0, 1, 2]].tolist() == [0., 5., 10.]
    assert x[range(2)].tolist() == x[:2].tolist()
    assert x[range(0)].shape == (0, 4)
    assert gpujit.tensor(range(3)).tolist() == [0, 1, 2]
    assert gpujit.tensor(range(3)).dtype is gpujit.int64
    assert gpujit.tensor(range(0)).dtype is gpujit.float32
    assert gpujit.tensor([range(2), range(2)]).tolist() == [[0, 1], [0, 1]]
    y = gpujit.zeros(3)
    y[range(1, 3)] = 1
    assert y.tolist() == [0., 1., 1.]


def _grad_fn_names(T):
    F = T.nn.functional

    def r(*s):
        return T.tensor(np.linspace(-1, 1, int(np.prod(s))).reshape(s).astype(np.float32),
                        requires_grad=True)
    x, m, img, y = r(3), r(3, 2), r(1, 2, 4, 4), T.tensor([0, 1, 2])
    w, b = r(5, 4), r(5)
    out = {f"linear{d}": F.linear(r(*([2] * (d - 1) + [4])), w, b) for d in (1, 2, 3)}
    out.update({f"linear_nobias{d}": F.linear(r(*([2] * (d - 1) + [4])), w) for d in (1, 2, 3)})
    out.update({f"matmul{a}{c}": r(*([3] * a)) @ r(*([3] * c))
                for a, c in [(1, 1), (2, 1), (1, 2), (2, 2), (3, 2), (3, 3)]})
    out.update(
        ce=F.cross_entropy(r(3, 4), y), ce4=F.cross_entropy(r(3, 4, 2, 2), y[:1].expand(3, 2, 2)),
        nll=F.nll_loss(F.log_softmax(r(3, 4), 1), y), flat=r(2, 3, 4).flatten(1),
        flat_copy=r(2, 3, 4).transpose(0, 1).flatten(), reshape=r(2, 3).reshape(6),
        T=m.T, mT=m.mT, conv=F.conv2d(img, r(3, 2, 3, 3)), maxpool=F.max_pool2d(img, 2),
        avgpool=F.avg_pool2d(img, 2), gap=F.adaptive_avg_pool2d(img, 1),
        aap=F.adaptive_avg_pool2d(img, 2), bn=F.batch_norm(img, None, None, training=True),
        ln=F.layer_norm(img, (4,)), max=x.max(), min=x.min(), sum_dim=m.sum(1),
        mean_dim=m.mean(1), to=x.to(T.float64), half=x.half(), contiguous=m.t().contiguous(),
        clamp=x.clamp(0, 1), clamp_t=x.clamp(x, x), pow_t=x.pow(x), rpow=2 ** x, rsub=1 - x,
        rdiv=2 / x, square=x.square(), chunk=x.chunk(2)[0], narrow=x.narrow(0, 0, 2),
        selu=F.selu(x), relu6=F.relu6(x), l1=F.l1_loss(x, x * 2), pad=F.pad(x, (1, 1)),
        reflect=F.pad(x.view(1, 1, 3), (1, 1), mode="reflect"), up=F.interpolate(img, 2),
        unfold=F.unfold(img, 2), log1p=(x + 2).log1p(), squeeze1=m[:1].squeeze(0),
        squeeze0=m[:1].squeeze(), diag=T.diag(x), outer=T.outer(x, x))
    return out


def test_grad_fn_names_are_pytorchs():
    want = {k: v.grad_fn.name() for k, v in _grad_fn_names(torch).items()}
    got = {k: v.grad_fn.name() for k, v in _grad_fn_names(gpujit).items()}
    assert got == want
    # the node's class carries the name too (torchviz reads type(fn).__name__)
    y = gpujit.ones(2, requires_grad=True) * 2
    assert type(y.grad_fn).__name__ == "MulBackward0" == y.grad_fn.name()
    assert type((y.sum(0)).grad_fn).__name__ == "SumBackward1"
    assert isinstance(y.grad_fn, gpujit.autograd.graph.OpBackward)
    assert "grad_fn=<AddmmBackward0>" in repr(gpujit.nn.Linear(2, 3)(gpujit.ones(1, 2)))


def _setup_context_function(T):
    class MulConstant(T.autograd.Function):
        @staticmethod
        def forward(tensor, constant):
            return tensor * constant

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.constant = inputs[1]

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None
    return MulConstant


def test_function_with_setup_context_and_named_node():
    MulConstant = _setup_context_function(gpujit)
    x = gpujit.tensor([1., 2.], requires_grad=True)
    y = MulConstant.apply(x, 2.5)
    assert y.tolist() == [2.5, 5.0]
    assert type(y.grad_fn).__name__ == "MulConstantBackward" == y.grad_fn.name()
    assert "grad_fn=<MulConstantBackward>" in repr(y)
    y.sum().backward()
    assert x.grad.tolist() == [2.5, 2.5]
    tx = torch.tensor([1., 2.], requires_grad=True)
    assert type(_setup_context_function(torch).apply(tx, 2.5).grad_fn).__name__ == \
        "MulConstantBackward"


def test_function_set_materialize_grads_false_passes_none():
    got = []

    class Two(gpujit.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            got.append((g1 is None, g2 is None))
            return g1 if g1 is not None else g2

    x = gpujit.ones(2, requires_grad=True)
    a, b = Two.apply(x)
    a.sum().backward()
    b.sum().backward()
    assert got == [(False, True), (True, False)]
    assert x.grad.tolist() == [2., 2.]


# ------------------------------------------ the tutorials' models, scripted and traced

def _tutorial_models(T):
    nn = T.nn

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    class Polynomial3(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(T.tensor(0.1))
            self.b = nn.Parameter(T.tensor(-0.2))
            self.c = nn.Parameter(T.tensor(0.05))
            self.d = nn.Parameter(T.tensor(0.01))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    class DynamicNet(Polynomial3):
        def __init__(self):
            super().__init__()
            self.e = nn.Parameter(T.tensor(0.001))

        def forward(self, x, n_extra: int):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, n_extra + 4):
                y = y + self.e * x ** exp
            return y

    cnn = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(4, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return {"network": tp._neural_network_class(T)(), "cnn": cnn,
            "poly": Polynomial3(), "dynamic": DynamicNet(),
            "lambda": nn.Sequential(Lambda(lambda x: x.view(-1, 1, 8, 8)), cnn)}


@pytest.mark.parametrize("name", ["network", "cnn", "poly", "dynamic"])
def test_tutorial_models_scripted_and_traced_match_eager(name):
    m = tp.load_weights(gpujit, _tutorial_models(gpujit)[name])
    x = tp.rnd(gpujit, *{"network": (3, 6, 6), "cnn": (2, 1, 8, 8)}.get(name, (50,)),
               seed=4) * 2 - 1
    args = (x, 2) if name == "dynamic" else (x,)
    want = m(*args)
    s = gpujit.jit.script(m)
    for _ in range(3):                                  # profiling runs, then optimized
        np.testing.assert_allclose(s(*args).detach().numpy(), want.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    if name != "dynamic":
        t = gpujit.jit.trace(m, args)
        for _ in range(3):
            np.testing.assert_allclose(t(*args).detach().numpy(), want.detach().numpy(),
                                       rtol=1e-5, atol=1e-6)
    tm = tp.load_weights(torch, _tutorial_models(torch)[name])
    tx = torch.from_numpy(x.numpy())
    np.testing.assert_allclose(want.detach().numpy(),
                               tm(*((tx, 2) if name == "dynamic" else (tx,))).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    # gradients through the scripted module equal eager's
    s(*args).sum().backward()
    g_script = [p.grad.clone() for p in m.parameters()]
    m.zero_grad()
    m(*args).sum().backward()
    for a, b in zip(g_script, m.parameters()):
        np.testing.assert_allclose(a.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_lambda_module_traces():
    # scripting a Lambda of a Python lambda fails in TorchScript too; tracing records it
    m = tp.load_weights(gpujit, _tutorial_models(gpujit)["lambda"])
    x = tp.rnd(gpujit, 3, 64, seed=2)
    t = gpujit.jit.trace(m, (x,))
    np.testing.assert_allclose(t(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
