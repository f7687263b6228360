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
    assert 'prim::CallFunction[name="twice"]' in text and \
        'prim::CallFunction[name="shape"]' in text


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
        assert kinds.count("aten::size") == 2 and "aten::floordiv" in kinds, tr.graph
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
