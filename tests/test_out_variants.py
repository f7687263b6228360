"""out= arguments (PyTorch's `.out` overloads, gpujit/ops/out_variants.py): eager
functions, torch.ops.aten.<op>.out, scripted and traced code, save/load. Values are checked
against NumPy; errors and warnings against PyTorch's words."""
import io
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.ops import registry
from gpujit.ops.out_variants import eligible, out_variant


def _np(t):
    return t.numpy()


@pytest.mark.parametrize("fn,ref", [
    (lambda a, b, o: torch.add(a, b, out=o), lambda a, b: a + b),
    (lambda a, b, o: torch.add(a, b, alpha=3, out=o), lambda a, b: a + 3 * b),
    (lambda a, b, o: torch.div(a, b, out=o), lambda a, b: a / b),
    (lambda a, b, o: torch.mul(a, 2.5, out=o), lambda a, b: a * 2.5),
    (lambda a, b, o: torch.sigmoid(a, out=o), lambda a, b: 1 / (1 + np.exp(-a))),
    (lambda a, b, o: torch.maximum(a, b, out=o), np.maximum),
    (lambda a, b, o: torch.where(a > b, a, b, out=o), lambda a, b: np.where(a > b, a, b)),
    (lambda a, b, o: torch.matmul(a, b.T, out=o), lambda a, b: a @ b.T),
    (lambda a, b, o: torch.sum(a, 1, out=o), lambda a, b: a.sum(1)),
    (lambda a, b, o: torch.cat([a, b], out=o), lambda a, b: np.concatenate([a, b])),
])
def test_eager_out_writes_and_returns_out(fn, ref):
    rng = np.random.default_rng(0)
    an, bn = rng.standard_normal((3, 4), np.float32), rng.standard_normal((3, 4), np.float32)
    want = ref(an, bn)
    out = torch.empty(want.shape)
    keep = out
    r = fn(torch.from_numpy(an), torch.from_numpy(bn), out)
    assert r is keep
    np.testing.assert_allclose(_np(out), want, rtol=1e-5, atol=1e-6)


def test_out_of_a_wider_dtype_and_of_a_narrower_category():
    a = torch.tensor([1, 2, 3])
    o = torch.empty(3, dtype=torch.float64)
    torch.add(a, 2, out=o)
    assert o.dtype == torch.float64 and _np(o).tolist() == [3.0, 4.0, 5.0]
    h = torch.empty(3, dtype=torch.float16)
    torch.mul(a, 2, out=h)
    assert h.dtype == torch.float16 and _np(h).tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        torch.div(a, a, out=torch.empty(3, dtype=torch.long))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Int"):
        torch.add(a, 2.5, out=torch.empty(3, dtype=torch.int32))
    # a comparison writes its bools into a float out
    f = torch.empty(3)
    torch.gt(a, 1, out=f)
    assert _np(f).tolist() == [0.0, 1.0, 1.0]


def test_out_of_another_shape_is_resized_with_pytorchs_warning():
    a = torch.ones(2, 3)
    o = torch.empty(5)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.add(a, 1, out=o)
    assert tuple(o.shape) == (2, 3) and np.all(_np(o) == 2)
    assert len(w) == 1 and "An output with one or more elements was resized since it had " \
        "shape [5], which does not match the required output shape [2, 3]" in str(w[0].message)
    assert w[0].filename == __file__
    e = torch.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # an empty out resizes silently
        torch.add(a, 1, out=e)
    assert tuple(e.shape) == (2, 3)


def test_out_aliasing_an_input():
    x = torch.arange(4.0)
    assert torch.add(x, 1, out=x) is x and _np(x).tolist() == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(RuntimeError, match="some elements of the input tensor and the "
                                           "written-to tensor refer to a single memory"):
        torch.add(x[:3], 1, out=x[1:])
    # a non-contiguous out is written through
    base = torch.zeros(2, 4)
    torch.add(torch.ones(2, 2), 1, out=base[:, ::2])
    assert _np(base).tolist() == [[2, 0, 2, 0], [2, 0, 2, 0]]


def test_out_and_autograd():
    b = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add\(\): functions with out=\.\.\. arguments "
                                           r"don't support automatic differentiation"):
        torch.add(b, 1, out=torch.empty(2))
    with torch.no_grad():
        o = torch.add(b, 1, out=torch.empty(2))
    assert not o.requires_grad and _np(o).tolist() == [2.0, 2.0]


def test_bad_out_arguments():
    a = torch.ones(2)
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not int"):
        torch.add(a, 1, out=5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'out'"):
        torch.transpose(torch.ones(2, 2), 0, 1, out=torch.empty(2, 2))   # a view
    assert torch.add(a, 1, out=None).tolist() == [2.0, 2.0]     # out=None: no out


def test_torch_ops_aten_out_overloads():
    x = torch.ones(2)
    o = torch.empty(2)
    assert torch.ops.aten.add.out(x, x, out=o) is o and _np(o).tolist() == [2.0, 2.0]
    assert torch.ops.aten.add(x, 3, out=o) is o and _np(o).tolist() == [4.0, 4.0]
    assert "out" in torch.ops.aten.add.overloads()
    assert "Tensor_out" in torch.ops.aten.clamp.overloads()   # clamp.out is the unnamed's
    assert str(torch.ops.aten.add.out._schema) == (
        "aten::add.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out) "
        "-> Tensor(a!)")


def test_variants_are_views_of_registry_ops():
    d = registry.OPS["aten::sigmoid"]
    assert eligible(d) and out_variant(d) is out_variant(d)
    v = out_variant(d)
    assert v.out_of is d and v.name not in registry.OPS and "out" in v.tags
    assert not eligible(registry.OPS["aten::transpose.int"])    # a view
    assert not eligible(registry.OPS["aten::add_.Tensor"])      # in place


def test_scripted_out_call():
    @torch.jit.script
    def f(a, b, o):
        y = o * 2 + 1                 # reads o before the write
        torch.add(a, b, alpha=2, out=o)
        z = o * 3 + 1                 # and after
        return y + z

    g = str(f.graph)
    assert "aten::add(%a.1, %b.1, %" in g and ", %o.1)" in g
    assert "torch.add(a, b, alpha=2, out=o)" in f.code
    for _ in range(3):                # profiling, then the optimized (fused) graph
        o = torch.ones(4)
        r = f(torch.ones(4), torch.full((4,), 2.0), o)
        assert _np(o).tolist() == [5.0] * 4
        assert _np(r).tolist() == [3.0 + 16.0] * 4


def test_scripted_out_call_errors():
    with pytest.raises(Exception, match="Expected a value of type 'Tensor' for argument "
                                        "'out' but instead found type 'int'"):
        @torch.jit.script
        def f(a, o: int):
            return torch.add(a, a, out=o)

    with pytest.raises(Exception, match="does not take an out= argument"):
        @torch.jit.script
        def g(a, o):
            return torch.transpose(a, 0, 1, out=o)


def test_scripted_out_errors_at_run_time():
    @torch.jit.script
    def f(a, b, o):
        return torch.div(a, b, out=o)

    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        f(torch.ones(2), torch.ones(2), torch.empty(2, dtype=torch.long))
    o = torch.empty(0)
    assert f(torch.ones(3), torch.full((3,), 4.0), o) is o
    assert _np(o).tolist() == [0.25] * 3


def test_traced_out_call_replays_into_the_new_out():
    def fn(a, o):
        torch.mul(a, 2, out=o)
        return o + 1

    t = torch.jit.trace(fn, (torch.ones(2), torch.zeros(2)))
    assert "aten::mul(%a, %" in str(t.graph) and "aten::copy_" not in str(t.graph)
    o = torch.zeros(3)
    r = t(torch.tensor([1.0, 2.0, 3.0]), o)
    assert _np(o).tolist() == [2.0, 4.0, 6.0] and _np(r).tolist() == [3.0, 5.0, 7.0]


class _OutModule(torch.nn.Module):
    def forward(self, a, o):
        torch.sub(a, 1, out=o)
        return torch.sigmoid(o, out=torch.empty(0)) * 2


def test_out_module_saved_and_loaded():
    m = torch.jit.script(_OutModule())
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    buf.seek(0)
    m2 = torch.jit.load(buf)
    a = np.array([0.5, 1.0, 3.0], np.float32)
    o = torch.empty(3)
    r = m2(torch.from_numpy(a), o)
    np.testing.assert_allclose(_np(o), a - 1)
    np.testing.assert_allclose(_np(r), 2 / (1 + np.exp(-(a - 1))), rtol=1e-6)
