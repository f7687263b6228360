"""Session 41 (d41): constructs found by running torchvision's detection / segmentation /
video models (torchvision 0.28, pure Python, under `import gpujit as torch`) against
torch 2.13. Each test is a minimal repro that needs no torchvision; those that compare
with torch skip without it.

- torch._C._log_api_usage_once(event): every torchvision model's __init__ calls it
  (AttributeError in gpujit).
- torch.library (Library.define / impl, custom_op, register_autograd, infer_schema):
  torchvision's detection models call torch.ops.torchvision.nms / roi_align from eager and
  scripted code; gpujit had no user-defined ops. A defined op is a registry op: called
  eagerly, recorded by the tracer and compiled by the script frontend as one `ns::name`
  node, saved and loaded by name.
- A tuple passed for a List[int] parameter of a scripted module's method (torchvision's
  GeneralizedRCNNTransform: `self.torch_choice(self.min_size)` with min_size a tuple
  attribute) becomes a list, as TorchScript's schema matching converts it (gpujit did so
  for functions but refused it for methods).
"""
import io
import itertools
from typing import List, Optional

import numpy as np
import pytest

import gpujit as torch

Tensor = torch.Tensor
_ns = (f"s41lib{i}" for i in itertools.count())


@pytest.fixture
def ns():
    """A fresh namespace; its definitions leave the registry after the test."""
    name = next(_ns)
    libs = []
    yield name, libs
    from gpujit import library
    for lib in libs:
        lib._destroy()
    for qn in [k for k in library._CUSTOM if k.startswith(name + "::")]:
        library._CUSTOM[qn]._lib._destroy()
    assert not [k for k in torch.ops.registry.OPS if k.startswith(name + "::")]


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- _log_api_usage_once

def test_log_api_usage_once():
    assert torch._C._log_api_usage_once("torchvision.models.resnet.ResNet") is None
    with pytest.raises(TypeError, match="bad argument type for built-in operation"):
        torch._C._log_api_usage_once(3)
    with pytest.raises(TypeError, match=r"takes exactly one argument \(0 given\)"):
        torch._C._log_api_usage_once()


def test_log_api_usage_once_matches_torch():
    rt = _torch()
    assert rt._C._log_api_usage_once("x") is torch._C._log_api_usage_once("x") is None
    for args in ((3,), ()):
        with pytest.raises(TypeError) as a:
            rt._C._log_api_usage_once(*args)
        with pytest.raises(TypeError) as b:
            torch._C._log_api_usage_once(*args)
        assert str(a.value) == str(b.value)


# ---------------------------------------------------------------- torch.library

def _nms_like(dets: Tensor, scores: Tensor, thr: float) -> Tensor:
    # (a data-dependent result size, as torchvision::nms)
    return torch.nonzero(scores > thr).flatten()


def _define_two(name, libs):
    lib = torch.library.Library(name, "DEF")
    libs.append(lib)
    assert lib.define("pick(Tensor dets, Tensor scores, float thr) -> Tensor") == "pick"
    lib.define("scale(Tensor x, float a) -> Tensor")
    lib.impl("pick", _nms_like, "CompositeExplicitAutograd")
    lib.impl("scale", lambda x, a: x * a, "CPU")
    return lib


def test_library_define_impl_eager(ns):
    name, libs = ns
    _define_two(name, libs)
    ops = getattr(torch.ops, name)
    s = torch.tensor([0.1, 0.9, 0.5, 0.7])
    r = ops.pick(torch.zeros(4, 4), s, 0.6)
    assert r.dtype == torch.int64 and r.tolist() == [1, 3]
    assert ops.scale(torch.ones(2), 3.0).tolist() == [3.0, 3.0]
    assert ops.scale.default(torch.ones(1), 2.0).tolist() == [2.0]
    assert str(ops.pick.default._schema) == \
        f"{name}::pick(Tensor dets, Tensor scores, float thr) -> Tensor"


def test_library_errors(ns):
    name, libs = ns
    lib = _define_two(name, libs)
    with pytest.raises(RuntimeError, match="Tried to register an operator .* with the same "
                       "name and overload name multiple times"):
        lib.define("pick(Tensor x) -> Tensor")
    with pytest.raises(RuntimeError, match=f"Only a single TORCH_LIBRARY can be used to "
                       f"register the namespace {name}"):
        torch.library.Library(name, "DEF")
    frag = torch.library.Library(name, "FRAGMENT")
    frag.define("nokernel(Tensor x) -> Tensor")
    with pytest.raises(NotImplementedError, match=f"Could not run '{name}::nokernel' with "
                       f"arguments from the 'CPU' backend"):
        getattr(torch.ops, name).nokernel(torch.ones(1))
    with pytest.raises(ValueError, match="Unsupported kind"):
        torch.library.Library(name, "BAD")
    with pytest.raises(ValueError, match="reserved namespace"):
        torch.library.Library("aten", "DEF")


# (saved and loaded inside the test, while its library lives: conftest's round trip runs
# after the ns fixture has deleted the library, whose ops a load can no longer find)
@pytest.mark.no_save_roundtrip
def test_library_op_is_one_node_scripted_traced_saved(ns, tmp_path):
    name, libs = ns
    _define_two(name, libs)
    src = (f"def f(x: Tensor, s: Tensor):\n"
           f"    return torch.ops.{name}.scale(x, 2.0)[torch.ops.{name}.pick(x, s, 0.6)]\n")
    g = {"torch": torch, "Tensor": Tensor}
    path = tmp_path / "mod_f.py"
    path.write_text(src)
    code = compile(src, str(path), "exec")
    exec(code, g)
    f = g["f"]
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    s = torch.tensor([0.1, 0.9, 0.5, 0.7])
    want = [4.0, 8.0]
    assert f(x, s).tolist() == want
    import linecache
    linecache.cache[str(path)] = (len(src), None, src.splitlines(True), str(path))
    sf = torch.jit.script(f)
    kinds = [n.kind() for n in sf.graph.nodes()]
    assert f"{name}::scale" in kinds and f"{name}::pick" in kinds
    assert sf(x, s).tolist() == want
    tf = torch.jit.trace(f, (x, s))
    kinds = [n.kind() for n in tf.graph.nodes()]
    # one node each: the kernels' own ops (mul, gt, nonzero) are not recorded
    assert f"{name}::pick" in kinds and "aten::nonzero" not in kinds and "aten::gt" not in kinds
    s2 = torch.tensor([0.9, 0.9, 0.1, 0.1])
    assert tf(x, s2).tolist() == [2.0, 4.0]
    buf = io.BytesIO()
    torch.jit.save(sf, buf)
    buf.seek(0)
    assert torch.jit.load(buf)(x, s2).tolist() == [2.0, 4.0]


def test_library_deleted_deregisters(ns):
    name, _ = ns
    lib = torch.library.Library(name, "DEF")
    lib.define("gone(Tensor x) -> Tensor")
    lib.impl("gone", lambda x: x + 1, "CompositeExplicitAutograd")
    assert getattr(torch.ops, name).gone(torch.zeros(1)).tolist() == [1.0]
    del lib
    import gc
    gc.collect()
    with pytest.raises(AttributeError):
        getattr(torch.ops, name).gone
    torch.library.Library(name, "DEF")._destroy()      # (the namespace is free again)


def _foo(x: Tensor, y: Optional[Tensor], n: int, f: float, b: bool, l: List[int],
         s: str) -> Tensor:
    return x * f + n


def test_infer_schema():
    got = torch.library.infer_schema(_foo, mutates_args=())
    want = ("(Tensor x, Tensor? y, SymInt n, float f, bool b, SymInt[] l, str s) -> Tensor")
    assert got == want

    def two(x: Tensor, *, k: float = 2.0) -> tuple[Tensor, Tensor]:
        return x, x

    def mut(x: Tensor, out: Tensor) -> None:
        out.copy_(x)
    assert torch.library.infer_schema(two, mutates_args=()) == \
        "(Tensor x, *, float k=2.0) -> (Tensor, Tensor)"
    assert torch.library.infer_schema(mut, mutates_args=("out",)) == \
        "(Tensor x, Tensor(a0!) out) -> ()"
    with pytest.raises(ValueError, match="must have a type annotation"):
        torch.library.infer_schema(lambda x: x, mutates_args=())


def test_infer_schema_matches_torch():
    rt = _torch()

    def foo(x: rt.Tensor, y: Optional[rt.Tensor], n: int, f: float, b: bool, l: List[int],
            s: str) -> rt.Tensor:
        return x

    def two(x: rt.Tensor, *, k: float = 2.0) -> tuple[rt.Tensor, rt.Tensor]:
        return x, x
    assert rt.library.infer_schema(foo, mutates_args=()) == \
        torch.library.infer_schema(_foo, mutates_args=())
    assert rt.library.infer_schema(two, mutates_args=()) == \
        "(Tensor x, *, float k=2.0) -> (Tensor, Tensor)"


def test_custom_op_eager_autograd(ns):
    name, _ = ns
    op = torch.library.custom_op(f"{name}::foo", mutates_args=())(_foo)
    assert op(torch.ones(2), None, 1, 3.0, True, [1], "s").tolist() == [4.0, 4.0]
    assert getattr(torch.ops, name).foo(torch.ones(1), None, 0, 2.0, True, [], "").tolist() \
        == [2.0]
    x = torch.ones(2, requires_grad=True)
    y = op(x, None, 1, 5.0, True, [1], "s")
    assert type(y.grad_fn).__name__ == f"GeneratedBackwardFor_{name}_foo_defaultBackward"
    with pytest.raises(RuntimeError, match=f"Trying to backward through {name}.foo.default "
                       f"but no autograd formula was registered. Please use "
                       f"register_autograd to add one."):
        y.sum().backward()

    def setup_context(ctx, inputs, output):
        ctx.f = inputs[3]

    def backward(ctx, g):
        return g * ctx.f, None, None, None, None, None, None
    op.register_autograd(backward, setup_context=setup_context)
    y = op(x, None, 1, 5.0, True, [1], "s")
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_custom_op_matches_torch_autograd():
    rt = _torch()
    import uuid
    qn = f"s41t{uuid.uuid4().hex[:8]}::foo"

    def foo(x: rt.Tensor, f: float) -> rt.Tensor:
        return x * f
    op = rt.library.custom_op(qn, mutates_args=())(foo)
    x = rt.ones(2, requires_grad=True)
    y = op(x, 5.0)
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    assert "no autograd formula was registered" in str(e.value)
    assert type(y.grad_fn).__name__.startswith("GeneratedBackwardFor_s41t")


def test_custom_op_kernel_runs_unrecorded(ns):
    name, _ = ns
    calls = []

    def k(x: Tensor) -> Tensor:
        calls.append(torch.is_grad_enabled())
        return x.sin() * 2

    op = torch.library.custom_op(f"{name}::k", mutates_args=())(k)
    x = torch.ones(3)
    t = torch.jit.trace(lambda v: op(v) + 1, (x,))
    kinds = [n.kind() for n in t.graph.nodes()]
    assert f"{name}::k" in kinds and "aten::sin" not in kinds
    np.testing.assert_allclose(t(torch.zeros(3)).numpy(), [1.0, 1.0, 1.0])
    assert calls and not any(calls)


# ---------------------------------------------------------------- tuple -> List param

class _Choice(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.sizes = (320, 5)

    def choice(self, k: List[int]) -> int:
        return k[1] + len(k)

    def forward(self, x):
        return x + self.choice(self.sizes) + self.choice((1, 2, 3))


def test_tuple_for_list_param_of_method():
    m = torch.jit.script(_Choice())
    assert m(torch.zeros(1)).tolist() == [12.0]
    # TorchScript 2.13's code: the tuple unpacked into a list
    assert "(self).choice([_0, _1], )" in m.code


def test_tuple_for_list_param_of_method_matches_torch():
    rt = _torch()

    class C(rt.nn.Module):
        def __init__(self):
            super().__init__()
            self.sizes = (320, 5)

        def choice(self, k: List[int]) -> int:
            return k[1] + len(k)

        def forward(self, x):
            return x + self.choice(self.sizes) + self.choice((1, 2, 3))
    m = rt.jit.script(C())
    assert m(rt.zeros(1)).tolist() == torch.jit.script(_Choice())(torch.zeros(1)).tolist()
    assert m.code == torch.jit.script(_Choice()).code


# ---------------------------------------------------------------- dtype / device defaults

class _Boxes(torch.nn.Module):
    def boxes(self, n: int, dtype: torch.dtype = torch.float32,
              device: torch.device = torch.device("cpu")):
        return torch.zeros(n, dtype=dtype, device=device)

    def forward(self, x):
        return self.boxes(2).to(x.dtype) + x + self.boxes(2, torch.float64)


def test_dtype_default_of_scripted_method(tmp_path):
    # torchvision's DefaultBoxGenerator._grid_default_boxes(..., dtype: torch.dtype =
    # torch.float32): TorchScript's ScalarType is an int, its default prints as 6
    m = torch.jit.script(_Boxes())
    r = m(torch.ones(2))
    assert r.dtype == torch.float64 and r.tolist() == [1.0, 1.0]
    assert "dtype: int=6,\n    device: Device=torch.device(\"cpu\")) -> Tensor:" in m.boxes.code
    assert "(self).boxes(2, 7, torch.device(\"cpu\"), )" in m.code
    p = tmp_path / "m.pt"
    torch.jit.save(m, str(p))
    m2 = torch.jit.load(str(p))
    assert m2(torch.ones(2)).tolist() == [1.0, 1.0]
    assert m2.boxes.code == m.boxes.code


def test_dtype_default_matches_torch():
    rt = _torch()

    class B(rt.nn.Module):
        def boxes(self, n: int, dtype: rt.dtype = rt.float32,
                  device: rt.device = rt.device("cpu")):
            return rt.zeros(n, dtype=dtype, device=device)

        def forward(self, x):
            return self.boxes(2).to(x.dtype) + x + self.boxes(2, rt.float64)
    a, b = rt.jit.script(B()), torch.jit.script(_Boxes())
    assert a.boxes.code == b.boxes.code and a.code == b.code


# ---------------------------------------------------------------- _get_tracing_state

def _is_tracing():
    return torch._C._get_tracing_state()


def _uses_is_tracing(x):
    if _is_tracing():
        return x + 1
    return x * 2


def test_get_tracing_state_in_scripted_code():
    # torchvision._is_tracing() in scripted detection code: aten::_get_tracing_state,
    # False in TorchScript
    f = torch.jit.script(_uses_is_tracing)
    assert f(torch.ones(1) * 3).tolist() == [6.0]
    g = torch.jit.script(_is_tracing)
    assert g() is False
    # traced, the scripted function still takes its scripted branch
    t = torch.jit.trace(lambda x: f(x), (torch.ones(1),))
    assert t(torch.ones(1) * 4).tolist() == [8.0]


# ---------------------------------------------------------------- _shape_as_tensor

def _image_size(x):
    # torchvision's detection transform under tracing (torch.onnx.operators.shape_as_tensor)
    return torch._shape_as_tensor(x)[-2:]


def test_shape_as_tensor():
    x = torch.ones(2, 3, 4, requires_grad=True)
    r = torch._shape_as_tensor(x)
    assert r.dtype == torch.int64 and r.tolist() == [2, 3, 4] and not r.requires_grad
    assert r.device.type == "cpu"
    assert torch._shape_as_tensor(torch.tensor(1.0)).tolist() == []
    assert torch.ops.aten._shape_as_tensor(torch.ones(0, 5)).tolist() == [0, 5]
    t = torch.jit.trace(_image_size, (torch.ones(1, 3, 4, 5),))
    assert "aten::_shape_as_tensor" in [n.kind() for n in t.graph.nodes()]
    assert t(torch.ones(2, 7, 9)).tolist() == [7, 9]       # (not the traced sizes)
    assert torch.jit.script(_image_size)(torch.ones(6, 8)).tolist() == [6, 8]


def test_shape_as_tensor_matches_torch():
    rt = _torch()
    for shape in ((2, 3, 4), (), (0, 5)):
        a = rt._shape_as_tensor(rt.ones(shape))
        b = torch._shape_as_tensor(torch.ones(shape))
        assert a.tolist() == b.tolist() and str(a.dtype)[6:] == str(b.dtype)[7:]
    assert str(rt.ops.aten._shape_as_tensor.default._schema) == \
        str(torch.ops.aten._shape_as_tensor.default._schema)


# ---------------------------------------------------------------- __constants__ when tracing

class _Seg(torch.nn.Module):
    # torchvision's _SimpleSegmentationModel: __constants__ = ["aux_classifier"], a submodule
    __constants__ = ["aux"]

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(2, 2)
        self.aux = torch.nn.Linear(2, 2)

    def forward(self, x):
        r = self.body(x)
        if self.aux is not None:
            r = r + self.aux(x)
        return r


def test_constants_naming_a_submodule_warn_when_scripted_not_traced():
    import warnings
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.jit.trace(_Seg(), (torch.ones(1, 2),))
    assert not [x for x in w if "ScriptModule constants" in str(x.message)]
    assert t(torch.ones(1, 2)).shape == (1, 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.jit.script(_Seg())
    assert [str(x.message) for x in w if "ScriptModule constants" in str(x.message)] == [
        "'aux' was found in ScriptModule constants,  but it is a non-constant submodule. "
        "Consider removing it."]


# ---------------------------------------------------------------- traced sizes as tensors

def _batch_sizes(images: List[Tensor]):
    # torchvision's GeneralizedRCNNTransform._onnx_batch_images (run while tracing)
    max_size = []
    for i in range(images[0].dim()):
        m = torch.max(torch.stack([img.shape[i] for img in images]).to(torch.float32))
        max_size.append(m.to(torch.int64))
    return torch.stack(max_size) * 2 + images[0].size(0)


def test_traced_sizes_are_tensors_for_tensor_arguments():
    # PyTorch's tracer hands out sizes as 0-dim tensors: torch.stack of them works while
    # tracing (eagerly, ints are refused: TypeError)
    ims = [torch.ones(3, 4, 5), torch.ones(3, 6, 2)]
    t = torch.jit.trace(_batch_sizes, (ims,), check_trace=False)
    assert t(ims).tolist() == [9, 15, 13]
    # the trace follows the sizes
    assert t([torch.ones(1, 9, 5), torch.ones(1, 6, 7)]).tolist() == [3, 19, 15]
    with pytest.raises(TypeError, match="expected Tensor as element 0 in argument 0, but "
                       "got int"):
        _batch_sizes(ims)


def test_traced_sizes_are_tensors_matches_torch():
    rt = _torch()

    def f(images: List[rt.Tensor]):
        return rt.stack([img.shape[1] for img in images]) * 2

    t = rt.jit.trace(f, ([rt.ones(3, 4), rt.ones(2, 6)],), check_trace=False)
    g = torch.jit.trace(lambda ims: torch.stack([im.shape[1] for im in ims]) * 2,
                        ([torch.ones(3, 4), torch.ones(2, 6)],), check_trace=False)
    for shapes in (((3, 4), (2, 6)), ((1, 7), (5, 1))):
        assert t([rt.ones(s) for s in shapes]).tolist() == \
            g([torch.ones(s) for s in shapes]).tolist()


# ---------------------------------------------------------------- self.obj(x): __call__

class _Matcher:
    # torchvision's det_utils.Matcher: a plain class whose object a module holds
    BELOW = -1
    __annotations__ = {"BELOW": int}

    def __init__(self, thr: float) -> None:
        self.BELOW = -1
        self.thr = thr

    def __call__(self, m: Tensor) -> Tensor:
        v, idx = m.max(dim=0)
        idx[v < self.thr] = self.BELOW
        return idx


class _Head(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.matcher = _Matcher(0.5)

    def forward(self, x):
        return self.matcher(x)


def test_call_of_script_class_attribute(tmp_path):
    m = torch.jit.script(_Head())
    x = torch.tensor([[0.1, 0.9], [0.7, 0.2]])
    assert m(x).tolist() == [1, 0]
    assert m(torch.tensor([[0.1, 0.2], [0.3, 0.4]])).tolist() == [-1, -1]
    # TorchScript 2.13's code
    assert m.code == ("def forward(self,\n    x: Tensor) -> Tensor:\n"
                      "  matcher = self.matcher\n  return (matcher).__call__(x, )\n")
    p = tmp_path / "h.pt"
    torch.jit.save(m, str(p))
    assert torch.jit.load(str(p))(x).tolist() == [1, 0]


# ---------------------------------------------------------------- layout= while tracing

def _roi_format(b):
    # torchvision's poolers._convert_to_roi_format
    return torch.full_like(b[:, :1], 3, dtype=b.dtype, layout=torch.strided, device=b.device)


def test_layout_argument_traced_as_int_constant():
    t = torch.jit.trace(_roi_format, (torch.ones(2, 2),))
    assert t(torch.ones(3, 2)).tolist() == [[3.0], [3.0], [3.0]]
    full = [n for n in t.graph.nodes() if n.kind() == "aten::full_like"][0]
    layout = list(full.inputs())[3].node()
    # TorchScript's Layout is an int: torch.strided is 0 (as torch 2.13's trace records it)
    assert layout.kind() == "prim::Constant" and str(layout.output().type()) == "int"
    assert layout["value"] == 0
    z = torch.jit.trace(lambda b: torch.zeros(2, layout=torch.strided) + b, (torch.ones(2),))
    assert z(torch.ones(2)).tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- as_tensor of a nested list

def _as_tensor_nested(v: List[List[float]]):
    return torch.as_tensor(v, dtype=torch.float64)


def test_as_tensor_of_nested_list_scripted():
    f = torch.jit.script(_as_tensor_nested)
    r = f([[0.5, 1.5], [2.0, 3.0]])
    assert r.dtype == torch.float64 and r.tolist() == [[0.5, 1.5], [2.0, 3.0]]
    assert [n.kind() for n in f.graph.nodes()][-1] == "aten::as_tensor"
    with pytest.raises(RuntimeError, match="Expected sequence of length 2 at dim 1"):
        f([[1.0, 2.0], [3.0]])


# ---------------------------------------------------------------- attribute of a base class type

class _BaseMatcher:
    def __init__(self, thr: float) -> None:
        self.thr = thr

    def __call__(self, m: Tensor) -> Tensor:
        return (m > self.thr).sum(0)


class _SubMatcher(_BaseMatcher):
    def __init__(self, thr: float) -> None:
        super().__init__(thr)

    def __call__(self, m: Tensor) -> Tensor:
        return super().__call__(m) + 100


class _SSDHead(torch.nn.Module):
    # torchvision's SSD: __annotations__ = {"proposal_matcher": det_utils.Matcher}, holding
    # a det_utils.SSDMatcher (a subclass)
    __annotations__ = {"matcher": _BaseMatcher}

    def __init__(self):
        super().__init__()
        self.matcher = _SubMatcher(0.5)

    def forward(self, x):
        return self.matcher(x)


def test_subclass_object_in_base_class_attribute_saves(tmp_path):
    m = torch.jit.script(_SSDHead())
    x = torch.tensor([[0.1, 0.9], [0.7, 0.2]])
    # TorchScript types the attribute as the declared class: its __call__ runs (torch 2.13
    # gives [1, 1] scripted, [101, 101] eager)
    assert m(x).tolist() == [1, 1]
    assert _SSDHead()(x).tolist() == [101, 101]
    p = tmp_path / "ssd.pt"
    torch.jit.save(m, str(p))          # (was: 'SSDMatcher' inherits from 'Matcher' ...)
    loaded = torch.jit.load(str(p))
    assert loaded(x).tolist() == [1, 1]
    assert type(loaded.matcher).__name__ == "_BaseMatcher"
