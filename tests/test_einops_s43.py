"""einops and lucidrains' vit-pytorch under gpujit (session 43): the language features and
ops those libraries exercised, as einops-free tests against NumPy (and PyTorch where it is
installed), and the libraries themselves, run in a subprocess where `import torch` gives
gpujit (skipped when einops / vit_pytorch is not installed)."""
import math
import os
import textwrap
from typing import List, Tuple

import numpy as np
import pytest

import gpujit
from gpujit.frontend.script.errors import FrontendError

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------------------
# a name bound to a module, class or function (TorchScript's sugared value): einops'
# apply_for_scriptable_torch does `backend = TorchJitBackend; backend.reshape(x, s)`

class _Backend:
    @staticmethod
    def twice(x: gpujit.Tensor) -> gpujit.Tensor:
        return x * 2

    @staticmethod
    def shape(x: gpujit.Tensor) -> List[int]:
        return x.shape


def _plus_one(x: gpujit.Tensor) -> gpujit.Tensor:
    return x + 1


def _class_alias(x: gpujit.Tensor):
    backend = _Backend
    other = backend                      # an alias of an alias
    y = x
    for _ in range(2):                   # (used inside a loop: a plain call there)
        y = other.twice(y)
    return y, backend.shape(x)


def _function_aliases(x: gpujit.Tensor):
    g = gpujit.relu                      # a registry op
    h = _plus_one                        # a Python function, compiled
    m = math                             # a module
    a = b = gpujit.nn.functional
    return a.relu(h(g(x))) * m.sqrt(4.0) + b.relu(x)


def test_class_bound_to_a_name_calls_its_static_methods():
    x = np.array([-1.5, 0.5, 2.0], np.float32)
    s = gpujit.jit.script(_class_alias)
    y, shape = s(gpujit.tensor(x))
    np.testing.assert_array_equal(y.numpy(), x * 4)
    assert shape == [3]
    text = str(s.graph)
    # (torch's form: the callee a `Function` constant, the call's first input)
    assert 'Function = prim::Constant[name="twice"]()' in text and \
        'Function = prim::Constant[name="shape"]()' in text and \
        text.count("prim::CallFunction(") == 2


def test_functions_and_modules_bound_to_names():
    x = np.array([-1.5, 0.5, 2.0], np.float32)
    s = gpujit.jit.script(_function_aliases)
    np.testing.assert_allclose(s(gpujit.tensor(x)).numpy(),
                               np.maximum(np.maximum(x, 0) + 1, 0) * 2 + np.maximum(x, 0))
    kinds = [n.kind for n in s.graph.nodes()]
    assert "aten::relu" in kinds and "prim::CallFunction" in kinds


def _reassign_nested(x: gpujit.Tensor, c: bool):
    b = _Backend
    if c:
        b = _Backend
    return b.twice(x)


def _reassign_value_nested(x: gpujit.Tensor, c: bool):
    b = math
    if c:
        b = x
    return b


def _bound_in_both_branches(x: gpujit.Tensor, c: bool):
    if c:
        b = _Backend
    else:
        b = _Backend
    return b.twice(x)


def _alias_as_value(x: gpujit.Tensor):
    b = _Backend
    return b


@pytest.mark.parametrize("fn, words", [
    (_reassign_nested, "Cannot re-assign 'b' to a value of type Python type because b is "
                       "not a first-class value.  Only reassignments to first-class values "
                       "are allowed"),
    (_reassign_value_nested, "Cannot re-assign 'b' because it has type value of type "
                             "'Tensor' and b is not a first-class value."),
    (_bound_in_both_branches, "undefined value b"),
    (_alias_as_value, "'b' is a Python type, which a scripted function cannot use as a "
                      "value"),
])
def test_names_of_python_objects_are_no_values(fn, words):
    with pytest.raises(FrontendError) as e:
        gpujit.jit.script(fn)
    assert words in str(e.value)


@pytest.mark.parametrize("fn", [_class_alias, _function_aliases, _reassign_nested,
                                _reassign_value_nested, _bound_in_both_branches])
def test_torch_agrees_on_names_of_python_objects(fn):
    torch = pytest.importorskip("torch")
    import warnings
    src = textwrap.dedent(__import__("inspect").getsource(fn)).replace(
        "gpujit.Tensor", "torch.Tensor").replace("gpujit.", "torch.")

    class _TBackend:
        @staticmethod
        def twice(x: torch.Tensor) -> torch.Tensor:
            return x * 2

        @staticmethod
        def shape(x: torch.Tensor) -> List[int]:
            return x.shape

    def _plus_one(x: torch.Tensor) -> torch.Tensor:
        return x + 1
    # torch reads the source from a file: write it out
    import tempfile
    import importlib.util
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write("import math\nimport torch\nfrom typing import List\n" + src)
    try:
        spec = importlib.util.spec_from_file_location("_s43_mod", f.name)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mod.__dict__.update(_Backend=_TBackend, _plus_one=_plus_one)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                getattr(torch.jit, "script")(getattr(mod, fn.__name__))
                torch_ok = True
            except RuntimeError:
                torch_ok = False
    finally:
        os.unlink(f.name)
    try:
        gpujit.jit.script(fn)
        ours_ok = True
    except FrontendError:
        ours_ok = False
    assert torch_ok == ours_ok


# --------------------------------------------------------------------------------------
# traced sizes are hashed by identity, as PyTorch's (0-dim tensors): einops caches its
# recipe per input shape (functools.lru_cache); a hit handed one trace's sizes to another
# trace (or to the trace check's second run), where they were constants

@__import__("functools").lru_cache(16)
def _split_heads(shape):
    b, n = shape
    return b, 2, n // 2


def _heads(x):
    return x.reshape(_split_heads(tuple(x.shape)))


def test_a_shape_keyed_cache_does_not_bake_sizes_into_a_trace():
    x = gpujit.tensor(np.arange(24, dtype=np.float32).reshape(3, 8))
    first = gpujit.jit.trace(_heads, (x,))            # (the check's second run: no hit)
    second = gpujit.jit.trace(_heads, (x,))           # a fresh trace, same shape
    for tr in (first, second):
        kinds = [n.kind for n in tr.graph.nodes()]
        # (b43: traced sizes are 0-dim tensors as torch's, n // 2 an aten::floor_divide)
        assert kinds.count("aten::size") == 2 and "aten::floor_divide" in kinds, tr.graph
        y = np.arange(50, dtype=np.float32).reshape(5, 10)
        np.testing.assert_array_equal(tr(gpujit.tensor(y)).numpy(), y.reshape(5, 2, 5))


def test_traced_sizes_are_no_dict_keys_of_their_value():
    # (PyTorch: {3: 'a'}.get(x.size(0)) is None while tracing: a tensor hashes by id)
    seen = []

    def f(x):
        seen.append({3: "a"}.get(x.size(0)))
        return x * 2
    gpujit.jit.trace(f, (gpujit.ones(3),), check_trace=False)
    assert seen == [None]
    torch = pytest.importorskip("torch")
    seen.clear()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(f, (torch.ones(3),), check_trace=False)
    assert seen == [None]


# --------------------------------------------------------------------------------------
# an unused random draw is dead code, as in TorchScript's DCE (Node::hasSideEffects does
# not count a draw): scripted / traced code leaves the generator where torch 2.13 leaves
# it (CaiT's layer-dropout mask, drawn in a trace, advanced gpujit's generator twice as
# far as torch's and the trace check compared other layers)

def _dead_rand(x):
    gpujit.rand(3)
    return x + 1


def _dead_dropout(x):
    gpujit.nn.functional.dropout(x, 0.5, True)
    return x + 1


def _dead_fill(x):
    gpujit.zeros(3).uniform_(0.0, 1.0)
    return x + 1


def _live_fill(x):
    return gpujit.zeros(3).uniform_(0.0, 1.0) + x.sum()


def _next_draw(mod, f, x, how):
    compiled = mod.jit.script(f) if how == "script" else mod.jit.trace(f, (x,))
    out = []
    for _ in range(2):                     # (the profiling run and an optimized one)
        mod.manual_seed(0)
        compiled(x)
        out.append(float(mod.rand(1)))
    return out


@pytest.mark.parametrize("how", ["script", "trace"])
@pytest.mark.parametrize("fn", [_dead_rand, _dead_dropout, _dead_fill])
def test_an_unused_draw_does_not_advance_the_generator(fn, how):
    import warnings
    gpujit.manual_seed(0)
    first = float(gpujit.rand(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _next_draw(gpujit, fn, gpujit.ones(3), how) == [first, first]
    torch = pytest.importorskip("torch")
    src = fn.__code__
    tfn = type(fn)(src, {"gpujit": torch}, fn.__name__)   # the same code over torch
    tfn.__module__ = __name__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _next_draw(torch, tfn, torch.ones(3), how) == [first, first]
    torch.manual_seed(0)
    assert float(torch.rand(1)) == first


def test_a_used_draw_still_draws():
    x = gpujit.ones(3)
    s = gpujit.jit.script(_live_fill)
    gpujit.manual_seed(0)
    expected = gpujit.zeros(3).uniform_(0.0, 1.0).numpy() + 3
    after = float(gpujit.rand(1))
    for _ in range(2):
        gpujit.manual_seed(0)
        np.testing.assert_array_equal(s(x).numpy(), expected)
        assert float(gpujit.rand(1)) == after


# --------------------------------------------------------------------------------------
# a starred tuple in a tuple or list display (vit_pytorch's `b, n, _, h = *x.shape,
# self.heads` was "Starred aren't supported"; torch 2.13 unpacks a tuple there and refuses
# a list, whose length it cannot know)

def _star_displays(x: gpujit.Tensor, t: Tuple[int, int]):
    b, *c = (*t, 3)
    return (b, *t, *t, x), [*t, 3], c, [*(x, x)]


def _star_list(x: gpujit.Tensor, h: int):
    b, n, _, hh = *x.shape, h
    return b + n + hh


def _star_tensor(x: gpujit.Tensor):
    return (*x,)


def test_starred_tuples_in_displays():
    s = gpujit.jit.script(_star_displays)
    x = gpujit.tensor(np.array([1.5, -2.0], np.float32))
    tup, lst, c, xs = s(x, (4, 5))
    assert tup[:5] == (4, 4, 5, 4, 5) and tup[5] is not None
    np.testing.assert_array_equal(tup[5].numpy(), x.numpy())
    assert lst == [4, 5, 3] and c == (5, 3) and len(xs) == 2   # (a starred target of a
    # tuple is a tuple in TorchScript)
    assert "_0, _1, = t" in s.code            # prim::TupleUnpack, as torch prints it
    kinds = [n.kind for n in s.graph.nodes()]
    assert kinds.count("prim::TupleUnpack") == 4      # (three stars, and `b, *c = ...`)


@pytest.mark.parametrize("fn, words", [
    (_star_list, "cannot statically infer the expected size of a list in this context"),
    (_star_tensor, "Tensor cannot be used as a tuple"),
])
def test_starred_values_that_are_no_tuples(fn, words):
    with pytest.raises(FrontendError) as e:
        gpujit.jit.script(fn)
    assert words in str(e.value)


# --------------------------------------------------------------------------------------
# the libraries themselves, in a subprocess where `import torch` gives gpujit

_ALIAS = '''
import importlib, importlib.abc, importlib.util, sys, types
import gpujit

class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.util.spec_from_loader(name, self)
    def create_module(self, spec):
        return importlib.import_module("gpujit" + spec.name[len("torch"):])
    def exec_module(self, module):
        pass

sys.meta_path.insert(0, _Alias())
'''


def _run_aliased(body, *args):
    import subprocess
    import sys
    code = _ALIAS + textwrap.dedent(body)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [HERE, env.get("PYTHONPATH")] if p)
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                       env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    import json
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_einops_functions_and_layers_on_gpujit_tensors():
    pytest.importorskip("einops")
    out = _run_aliased('''
        import io, json, warnings
        import numpy as np
        import torch
        from einops import rearrange, reduce, repeat, pack, unpack, einsum, parse_shape
        from einops.layers.torch import Rearrange, Reduce, EinMix
        a = np.arange(2 * 3 * 4 * 6, dtype=np.float64).reshape(2, 3, 4, 6) % 7 - 3
        res = {}
        for dt in ("float32", "float64", "int64"):
            x = torch.from_numpy(a.astype(dt))
            res[dt] = {
                "rearrange": rearrange(x, "b c (h p) w -> b (h w) (p c)", p=2).tolist(),
                "max": reduce(x, "b c (h 2) w -> b c h", "max").tolist(),
                "sum": reduce(x, "b c h w -> c", "sum").tolist(),
                "prod": reduce(x, "b c h w -> b h", "prod").tolist(),
                "repeat": repeat(x[0, 0], "h w -> h w r", r=2).tolist(),
                "pack": [list(s) for s in pack([x, x[:, 0]], "b * w")[1]],
                "unpack": unpack(pack([x, x[:, 0]], "b * w")[0], [(3, 4), (4,)],
                                 "b * w")[1].tolist(),
                "einsum": einsum(x, x, "b c h w, b d h w -> c d").tolist(),
                "parse_shape": parse_shape(x, "b _ h w"),
            }
        perm = (np.arange(144) * 37 % 144).reshape(2, 3, 4, 6)     # (no ties for max)
        x = torch.from_numpy(perm.astype("float32")).requires_grad_()
        reduce(rearrange(x, "b c (h p) w -> b (c p) h w", p=2), "b c h w -> b", "max").sum(
            ).backward()
        res["grad"] = x.grad.tolist()
        layers = [Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=2, p2=3),
                  Reduce("b c (h 2) (w 3) -> b c h w", "max"), Reduce("b c h w -> b c", "mean")]
        torch.manual_seed(0)
        layers.append(EinMix("b c h w -> b d h w", weight_shape="c d", bias_shape="d", c=3, d=5))
        x = torch.from_numpy(a.astype("float32"))
        res["layers"] = []
        for layer in layers:
            s = torch.jit.script(layer)
            b = io.BytesIO(); torch.jit.save(s, b); b.seek(0)
            loaded = torch.jit.load(b)
            eager = layer(x)
            res["layers"].append([float((s(x) - eager).abs().max()),
                                  float((loaded(x) - eager).abs().max())])

        class Heads(torch.nn.Module):
            def forward(self, t):
                return rearrange(t, "b n (h d) -> b h n d", h=2).softmax(-1) * 2
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            tr = torch.jit.trace(Heads(), (torch.ones(2, 3, 8),))
        res["trace_ops"] = [n.kind for n in tr.graph.nodes()]
        y = torch.from_numpy((np.arange(5 * 4 * 6, dtype=np.float32) / 50).reshape(5, 4, 6))
        res["trace_new_shape"] = float((tr(y) - Heads()(y)).abs().max())
        res["trace_out"] = list(tr(y).shape)
        print(json.dumps(res))
    ''')
    a = np.arange(2 * 3 * 4 * 6, dtype=np.float64).reshape(2, 3, 4, 6) % 7 - 3
    for dt in ("float32", "float64", "int64"):
        r, x = out[dt], a.astype(dt)
        np.testing.assert_array_equal(r["rearrange"], x.reshape(2, 3, 2, 2, 6).transpose(
            0, 2, 4, 3, 1).reshape(2, 12, 6))
        np.testing.assert_array_equal(r["max"], x.reshape(2, 3, 2, 2, 6).max(axis=(3, 4)))
        np.testing.assert_array_equal(r["sum"], x.sum(axis=(0, 2, 3)))
        np.testing.assert_array_equal(r["prod"], x.prod(axis=(1, 3)))
        np.testing.assert_array_equal(r["repeat"], np.repeat(x[0, 0][..., None], 2, -1))
        assert r["pack"] == [[3, 4], [4]]
        np.testing.assert_array_equal(r["unpack"], x[:, 0])
        np.testing.assert_allclose(r["einsum"], np.einsum("bchw,bdhw->cd", x, x), rtol=1e-6)
        assert r["parse_shape"] == {"b": 2, "h": 4, "w": 6}
    perm = (np.arange(144) * 37 % 144).reshape(2, 3, 4, 6)
    g = np.zeros_like(a)
    v = perm.reshape(2, 3, 2, 2, 6).transpose(0, 1, 3, 2, 4).reshape(2, -1)   # (c p) h w
    for b in range(2):
        k = np.argmax(v[b])
        c, p, h, w = np.unravel_index(k, (3, 2, 2, 6))
        g[b, c, h * 2 + p, w] = 1
    np.testing.assert_array_equal(out["grad"], g)
    assert all(d == [0.0, 0.0] for d in out["layers"])
    assert out["trace_ops"].count("aten::size") == 3      # sizes stay symbolic
    assert out["trace_new_shape"] == 0.0 and out["trace_out"] == [5, 2, 4, 3]


_VIT = '''
import importlib.util, sys, types
if "vit_pytorch" not in sys.modules:       # (its __init__ imports dino: torchvision)
    pkg = types.ModuleType("vit_pytorch")
    pkg.__path__ = list(importlib.util.find_spec("vit_pytorch").submodule_search_locations)
    sys.modules["vit_pytorch"] = pkg
from vit_pytorch.vit import ViT
from vit_pytorch.simple_vit import SimpleViT


def build(torch, kind):
    torch.manual_seed(0)
    if kind == "vit":
        return ViT(image_size=16, patch_size=4, num_classes=5, dim=32, depth=2, heads=2,
                   mlp_dim=48, dim_head=8, dropout=0.1, emb_dropout=0.1)
    return SimpleViT(image_size=16, patch_size=4, num_classes=5, dim=32, depth=2, heads=2,
                     mlp_dim=48, dim_head=8)


def run(torch, m, img):
    import numpy as np
    out = {}
    m.eval()
    out["logits"] = m(img).tolist()
    m.train()
    torch.manual_seed(5)
    loss = torch.nn.functional.cross_entropy(m(img), torch.tensor([1, 3]))
    loss.backward()
    out["loss"] = float(loss)
    out["grads"] = {n: p.grad.tolist() for n, p in m.named_parameters()}
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    for i in range(3):
        torch.manual_seed(10 + i)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(img), torch.tensor([1, 3])).backward()
        opt.step()
    out["params"] = {n: p.tolist() for n, p in m.named_parameters()}
    m.eval()
    tr = torch.jit.trace(m, (img,))
    out["traced"] = tr(img * 2).tolist()
    out["eager"] = m(img * 2).tolist()
    return out
'''


@pytest.mark.parametrize("kind", ["vit", "simple_vit"])
def test_vit_pytorch_under_gpujit(kind, tmp_path):
    pytest.importorskip("einops")
    import importlib.util
    import sys
    if "vit_pytorch" not in sys.modules and importlib.util.find_spec("vit_pytorch") is None:
        pytest.skip("vit_pytorch is not installed")
    import json
    img = (np.arange(2 * 3 * 16 * 16, dtype=np.float32).reshape(2, 3, 16, 16) % 11) / 5 - 1
    np.save(tmp_path / "img.npy", img)
    sd = tmp_path / "sd.pt"
    body = _VIT + textwrap.dedent('''
        import json, warnings
        import numpy as np
        import torch
        m = build(torch, sys.argv[1])
        init = {k: v.numpy().tolist() for k, v in m.state_dict().items()}
        if sys.argv[2] != "-":
            m.load_state_dict(torch.load(sys.argv[2]))
        img = torch.from_numpy(np.load(sys.argv[3]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = run(torch, m, img)
        out["init"] = init
        print(json.dumps(out))
    ''')
    try:
        import torch
    except ImportError:
        torch = None
    ref = None
    if torch is not None:
        ns = {}
        exec(compile(_VIT, "<vit>", "exec"), ns)
        m = ns["build"](torch, kind)
        torch.save(m.state_dict(), sd)
        init = {k: v.numpy().copy() for k, v in m.state_dict().items()}
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = ns["run"](torch, m, torch.from_numpy(img))
    out = _run_aliased(body, kind, str(sd) if ref else "-",
                       str(tmp_path / "img.npy"))
    np.testing.assert_allclose(out["traced"], out["eager"], rtol=1e-5, atol=1e-6)
    if ref is None:
        assert np.isfinite(out["loss"]) and set(out["grads"]) == set(out["params"])
        return
    for k, v in init.items():        # gpujit's init draws are torch's, bit for bit
        np.testing.assert_array_equal(np.asarray(out["init"][k], v.dtype), v, err_msg=k)
    np.testing.assert_allclose(out["logits"], ref["logits"], rtol=1e-5, atol=1e-6)
    assert abs(out["loss"] - ref["loss"]) < 1e-6
    for n in ref["grads"]:
        np.testing.assert_allclose(out["grads"][n], ref["grads"][n], rtol=1e-4, atol=1e-7,
                                   err_msg=n)
        np.testing.assert_allclose(out["params"][n], ref["params"][n], rtol=1e-4, atol=1e-5,
                                   err_msg=n)
    np.testing.assert_allclose(out["traced"], ref["traced"], rtol=1e-5, atol=1e-6)
    assert json.dumps(sorted(out["params"])) == json.dumps(sorted(ref["params"]))


# --------------------------------------------------------------------------------------
# a derivative's saved values are computed outside the trace (PyTorch's autograd computes
# them in C++): einsum's read its operands' .shape, which recorded aten::size nodes and
# named the user's locals after them while tracing with grad, so the trace check's
# retrace (under no_grad) differed: "Graphs differed across invocations!" (vit_pytorch's
# RvT)

def _einsum_of_locals(x, y):
    attn = x.reshape(2, 3) * 1
    v = y.reshape(3, 2) * 1
    return gpujit.einsum("ij,jk->ik", attn, v)


def test_tracing_with_grad_records_the_forward_only():
    a = np.arange(6, dtype=np.float32)
    x = gpujit.tensor(a, requires_grad=True)
    y = gpujit.tensor(a[::-1].copy(), requires_grad=True)
    tr = gpujit.jit.trace(_einsum_of_locals, (x, y))          # (the check passes)
    with gpujit.no_grad():
        plain = gpujit.jit.trace(_einsum_of_locals, (x, y), check_trace=False)
    # (the number 1's constant, a 0-dim tensor as torch's wrapped number, needs no grad)
    assert str(tr.graph) == "\n".join(
        ln if "prim::Constant" in ln else ln.replace("requires_grad=0", "requires_grad=1")
        for ln in str(plain.graph).split("\n"))
    assert [n.kind for n in tr.graph.nodes()].count("aten::size") == 0
    out = tr(x, y)
    np.testing.assert_allclose(out.detach().numpy(), a.reshape(2, 3) @ a[::-1].reshape(3, 2))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.tile(a[::-1].reshape(3, 2).sum(1), 2))


# --------------------------------------------------------------------------------------
# freezing leaves an attribute that holds script-class objects (einops' Dict[int,
# TransformRecipe]) a prim::GetAttr, as TorchScript's freezing does (a graph constant
# cannot hold an object); gpujit made a constant of it that torch.jit.save refused

class _Recipe:
    def __init__(self, perm: List[int], scale: float):
        self.perm: List[int] = perm
        self.scale: float = scale


class _ByRank(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.recipes = {2: _Recipe([1, 0], 2.0), 3: _Recipe([2, 0, 1], 3.0)}
        self.w = gpujit.nn.Parameter(gpujit.ones(1))

    def forward(self, x):
        r = self.recipes[x.dim()]
        return x.permute(r.perm) * r.scale * self.w


def test_freezing_keeps_an_attribute_of_objects_and_saves():
    import io
    m = gpujit.jit.freeze(gpujit.jit.script(_ByRank().eval()))
    kinds = [(n.kind, n.attrs.get("name")) for n in m.graph.nodes()]
    assert ("prim::GetAttr", "recipes") in kinds               # kept, as torch keeps it
    assert ("prim::GetAttr", "w") not in kinds                  # a tensor is folded
    b = io.BytesIO()
    gpujit.jit.save(m, b)
    b.seek(0)
    loaded = gpujit.jit.load(b)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    for f in (m, loaded):
        np.testing.assert_array_equal(f(gpujit.tensor(a)).numpy(), a.T * 2)
        np.testing.assert_array_equal(f(gpujit.tensor(a[None])).numpy(),
                                      a[None].transpose(2, 0, 1) * 3)


# --------------------------------------------------------------------------------------
# a list or tuple repeated by a Tensor count: TorchScript converts the count to an int
# (aten::IntImplicit), as for any int argument (vit_pytorch's nest.cast_tuple(val, depth)
# with depth unannotated, a Tensor, compiled in torch 2.13 and was refused)

def _cast_tuple(val, depth):
    return val if isinstance(val, tuple) else ((val,) * depth)


def _count_first(xs: List[int], n):
    return n * xs


def test_repeating_by_a_tensor_count():
    s = gpujit.jit.script(_cast_tuple)
    kinds = [n.kind for n in s.graph.nodes()]
    assert "aten::IntImplicit" in kinds and "aten::mul" in kinds
    x = gpujit.tensor([1.5])
    out = s(x, gpujit.tensor(3))
    assert len(out) == 3 and all(float(t) == 1.5 for t in out)
    assert gpujit.jit.script(_count_first)([1, 2], gpujit.tensor(2)) == [1, 2, 1, 2]
    with pytest.raises(RuntimeError):
        s(x, gpujit.tensor([1, 2]))         # (not a 0-dim tensor: when it runs, as torch)


# --------------------------------------------------------------------------------------
# range()'s argument errors in torch 2.13's words (RangeValue), in loops and
# comprehensions alike (vit_pytorch's cct.sinusoidal_embedding: range(n_channels) of an
# unannotated parameter)

def _range_float(x, n: float):
    return [i for i in range(n)]


def _range_four(x, n: int):
    s = 0
    for i in range(1, 2, 3, 4):
        s += i
    return s


def _range_none(x, n: int):
    return [i for i in range()]


def _range_inferred(x, n: int):
    s = 0
    for i in range(x):
        s += i
    return s


def _range_second(x, n: int):
    return list(range(n, 2.0))


@pytest.mark.parametrize("fn, words", [
    (_range_float, "all inputs of range must be ints, found float in argument 0"),
    (_range_four, "range expected at most 3 arguments, got 4"),
    (_range_none, "range expected at least 1 arguments, got 0"),
    (_range_inferred, "all inputs of range must be ints, found Tensor (inferred) in "
                      "argument 0"),
    (_range_second, "all inputs of range must be ints, found float in argument 1"),
])
def test_range_argument_errors(fn, words):
    with pytest.raises(FrontendError) as e:
        gpujit.jit.script(fn)
    assert words in str(e.value)


def _no_method(d):
    return d.keys()


def _no_attribute(d):
    return d.foo


def _annotated_no_method(d: gpujit.Tensor):
    return d.keys()


@pytest.mark.parametrize("fn, shown", [(_no_method, "'Tensor (inferred)'"),
                                       (_no_attribute, "'Tensor (inferred)'"),
                                       (_annotated_no_method, "'Tensor'")])
def test_an_unannotated_parameter_is_tensor_inferred_in_attribute_errors(fn, shown):
    # (torch 2.13: "'Tensor (inferred)' object has no attribute or method 'keys'.":
    # vit_pytorch's cvt.group_dict_by_key(cond, d))
    with pytest.raises(FrontendError) as e:
        gpujit.jit.script(fn)
    assert str(e.value).startswith(f"{shown} object has no attribute or method")
