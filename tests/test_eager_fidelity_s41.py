"""Session 41 (e41): eager / autograd fidelity against torch 2.13 -- grad_fn names and
chains of composites, argument binding, version counters of written statistics, splits
by tensor indices.

Each test checks gpujit against a NumPy / hand-written expectation (CI has no torch) and,
where torch is importable, against torch itself."""
import numpy as np
import pytest

import gpujit

try:
    import torch as _torch
except ImportError:     # pragma: no cover - CI
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="torch is not installed")


def _chain(t, depth=4):
    """grad_fn's name and its next_functions' names, `depth` levels down."""
    def rec(g, d):
        if g is None:
            return None
        if d == 0:
            return g.name()
        return (g.name(), [rec(n, d - 1) for n, _ in g.next_functions])
    return rec(t.grad_fn, depth)


# ------------------------------------------------------------------ native_batch_norm

def _native_bn(m, x, training):
    rm = m.zeros(3, dtype=m.float64)
    rv = m.ones(3, dtype=m.float64)
    xx = m.tensor(x, requires_grad=True)
    out, sm, si = m.native_batch_norm(xx, m.ones(3, dtype=m.float64) * 2, None, rm, rv,
                                      training, 0.1, 1e-5)
    return xx, out, sm, si, rm, rv


def test_native_batch_norm_is_batch_norms_node_and_bumps_no_version():
    x = np.random.RandomState(0).randn(4, 3, 5)
    xx, out, sm, si, rm, rv = _native_bn(gpujit, x, True)
    # (ATen's kernel writes the running statistics without a version bump; the output is
    # the op's own node, not the decomposition's MulBackward0)
    assert (rm._version, rv._version) == (0, 0)
    assert out.grad_fn.name() == "NativeBatchNormBackward0"
    assert not sm.requires_grad and not si.requires_grad
    mean, var = x.mean((0, 2)), x.var((0, 2))
    np.testing.assert_allclose(sm.numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(si.numpy(), 1 / np.sqrt(var + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(rm.numpy(), 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-12)
    np.testing.assert_allclose(out.detach().numpy(),
                               2 * (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5),
                               rtol=1e-10, atol=1e-12)
    xx, out, sm, si, rm, rv = _native_bn(gpujit, x, False)
    assert (rm._version, rv._version) == (0, 0) and tuple(sm.shape) == (0,)
    assert out.grad_fn.name() == "NativeBatchNormBackward0"


@needs_torch
def test_native_batch_norm_matches_torch():
    x = np.random.RandomState(1).randn(4, 3, 5)
    for training in (True, False):
        g = _native_bn(gpujit, x, training)
        t = _native_bn(_torch, x, training)
        g[1].sum().backward()
        t[1].sum().backward()
        for a, b in zip(g, t):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10,
                                       atol=1e-12)
            assert a._version == b._version
        assert g[1].grad_fn.name() == t[1].grad_fn.name()


# ------------------------------------------------------------------ varargs int lists

def _shapes(r):
    return [tuple(t.shape) for t in r] if isinstance(r, (list, tuple)) else tuple(r.shape)


_VARARG_CASES = [
    # (method call, expected shapes): PyTorch's parser takes the positional values of a
    # method whose one positional parameter is an unsized int list as that list, a
    # one-element integral Tensor (bool too) as one int of it
    (lambda m, y: y.vsplit(m.tensor([1])), [(1, 2), (2, 2)]),
    (lambda m, y: y.vsplit(m.tensor([[1]])), [(1, 2), (2, 2)]),
    (lambda m, y: y.vsplit(m.tensor([True])), [(1, 2), (2, 2)]),
    (lambda m, y: y.vsplit(m.tensor([1]), 2), [(1, 2), (1, 2), (1, 2)]),
    (lambda m, y: y.vsplit(1, 2), [(1, 2), (1, 2), (1, 2)]),
    (lambda m, y: y.vsplit(m.tensor(3)), [(1, 2), (1, 2), (1, 2)]),   # (sections)
    (lambda m, y: y.vsplit(3), [(1, 2), (1, 2), (1, 2)]),
    (lambda m, y: y.hsplit(m.tensor([1])), [(3, 1), (3, 1)]),
    (lambda m, y: y.hsplit(2), [(3, 1), (3, 1)]),
    (lambda m, y: y.reshape(3, 1, 2).dsplit(m.tensor([1])), [(3, 1, 1), (3, 1, 1)]),
    (lambda m, y: y.reshape(3, 1, 2).dsplit(0, 1), [(3, 1, 0), (3, 1, 1), (3, 1, 1)]),
    (lambda m, y: y.reshape(1, 3, 1, 2).squeeze(0, 2), (3, 2)),
    (lambda m, y: y.reshape(1, 3, 1, 2).squeeze(m.tensor([0]), 2), (3, 2)),
    (lambda m, y: y.reshape(1, 3, 1, 2).squeeze(0), (3, 1, 2)),
    (lambda m, y: y.reshape(1, 3, 1, 2).squeeze(), (3, 2)),
    (lambda m, y: y.reshape(1, 3, 1, 2).clone().squeeze_(0, 2), (3, 2)),
    (lambda m, y: y.count_nonzero(0, 1), ()),
    (lambda m, y: y.count_nonzero(0), (2,)),
]


@pytest.mark.parametrize("i", range(len(_VARARG_CASES)))
def test_method_int_list_varargs(i):
    f, want = _VARARG_CASES[i]
    assert _shapes(f(gpujit, gpujit.ones(3, 2))) == want
    if _torch is not None:
        assert _shapes(f(_torch, _torch.ones(3, 2))) == want


def test_varargs_keep_the_int_overloads_nodes():
    x = gpujit.ones(1, 3, requires_grad=True)
    assert x.squeeze(0).grad_fn.name() == "SqueezeBackward1"
    # (dims (0, 1): torch 2.13 refuses a dim named twice, x.squeeze(0, 0))
    assert x.squeeze(0, 1).grad_fn.name() == "SqueezeBackward2"
    assert x.squeeze().grad_fn.name() == "SqueezeBackward0"
    a, b = x.hsplit(gpujit.tensor([1]))
    np.testing.assert_array_equal(b.detach().numpy(), np.ones((1, 2)))


@pytest.mark.parametrize("call", [
    lambda m, y: y.vsplit(m.tensor([1, 2])),     # (two elements: no int)
    lambda m, y: y.vsplit(m.tensor([1.0])),      # (a float: no int)
    lambda m, y: m.vsplit(y, m.tensor([1])),     # (a function: no varargs)
])
def test_method_int_list_varargs_refusals(call):
    with pytest.raises(TypeError):
        call(gpujit, gpujit.ones(3, 2))
    if _torch is not None:
        with pytest.raises(TypeError):
            call(_torch, _torch.ones(3, 2))


# ------------------------------------------------------------------ bool parameters

_BOOL_REFUSALS = [
    # (call, PyTorch's words): its parser takes a Python bool only for a bool parameter
    (lambda m, x: x.sum(0, 1), "sum(): argument 'keepdim' (position 2) must be bool, not int"),
    (lambda m, x: m.sum(x, 0, 1), "sum(): argument 'keepdim' (position 3) must be bool, "
                                  "not int"),
    (lambda m, x: x.sum(0, keepdim=np.bool_(True)),
     "sum(): argument 'keepdim' must be bool, not numpy.bool"),
    (lambda m, x: x.amax(0, None), "amax(): argument 'keepdim' (position 2) must be bool, "
                                   "not NoneType"),
    (lambda m, x: x.mean(0, 1.0), "mean(): argument 'keepdim' (position 2) must be bool, "
                                  "not float"),
    (lambda m, x: x.logsumexp(0, m.tensor(True)),
     "logsumexp(): argument 'keepdim' (position 2) must be bool, not Tensor"),
    (lambda m, x: x.topk(1, 0, True, 1), "topk(): argument 'sorted' (position 4) must be "
                                         "bool, not int"),
    (lambda m, x: m.layer_norm(x, [3], None, None, 1e-5, None),
     "layer_norm(): argument 'cudnn_enable' (position 6) must be bool, not NoneType"),
    (lambda m, x: x.std(0, 1), "std() received an invalid combination of arguments"),
]


@pytest.mark.parametrize("i", range(len(_BOOL_REFUSALS)))
def test_bool_parameters_take_a_python_bool_only(i):
    f, words = _BOOL_REFUSALS[i]
    with pytest.raises(TypeError) as e:
        f(gpujit, gpujit.ones(2, 3))
    assert str(e.value).startswith(words)
    if _torch is not None:
        with pytest.raises(TypeError) as e:
            f(_torch, _torch.ones(2, 3))
        assert str(e.value).startswith(words)


def test_bool_parameters_still_take_bools_and_optional_none():
    x = gpujit.ones(2, 3)
    assert tuple(x.sum(0, True).shape) == (1, 3)
    assert tuple(x.sum(0, keepdim=False).shape) == (3,)
    assert tuple(x.std(0, True).shape) == (3,)
    # (a bool? takes None: a factory's pin_memory)
    assert tuple(gpujit.zeros_like(x, pin_memory=None).shape) == (2, 3)
    with pytest.raises(TypeError, match=r"^sort\(\) received an invalid combination"):
        x.sort(0, stable=None)      # (PyTorch's binding: a required keyword bool)


# ------------------------------------------------------------------ self= keyword

_SELF_KEYWORD = [
    # (call, PyTorch's words): a function's Tensor self is `input` to PyTorch's parser,
    # whose missing-argument words list every required parameter from the first missing
    # one on (and its own plural: "1 ... arguments", "2 ... argument")
    (lambda m, x: m.sigmoid(self=x), 'sigmoid() missing 1 required positional arguments: '
                                     '"input"'),
    (lambda m, x: m.relu(self=x), 'relu() missing 1 required positional arguments: '
                                  '"input"'),
    (lambda m, x: m.add(self=x, other=x), 'add() missing 2 required positional argument: '
                                          '"input", "other"'),
    (lambda m, x: m.mm(self=x, mat2=x), 'mm() missing 2 required positional argument: '
                                        '"input", "mat2"'),
    (lambda m, x: m.clamp(self=x, min=0), "clamp() received an invalid combination of "
                                          "arguments - got (min=int, self=Tensor, )"),
    (lambda m, x: m.isnan(self=x), 'isnan() missing 1 required positional arguments: '
                                   '"input"'),
    (lambda m, x: m.flip(self=x, dims=[0]), 'flip() missing 2 required positional argument: '
                                            '"input", "dims"'),
    (lambda m, x: m.trace(self=x), 'trace() missing 1 required positional arguments: '
                                   '"input"'),
]


@pytest.mark.parametrize("i", range(len(_SELF_KEYWORD)))
def test_functions_take_no_self_keyword(i):
    f, words = _SELF_KEYWORD[i]
    with pytest.raises(TypeError) as e:
        f(gpujit, gpujit.ones(2, 2))
    assert str(e.value).startswith(words)
    if _torch is not None:
        with pytest.raises(TypeError) as e:
            f(_torch, _torch.ones(2, 2))
        assert str(e.value).startswith(words)


def test_functions_take_input_keyword():
    x = gpujit.tensor([0.0, 1.0])
    np.testing.assert_allclose(gpujit.sigmoid(input=x).numpy(), 1 / (1 + np.exp(-x.numpy())))
    np.testing.assert_allclose(gpujit.add(input=x, other=x).numpy(), [0.0, 2.0])
    np.testing.assert_allclose(gpujit.mm(input=x.reshape(1, 2), mat2=x.reshape(2, 1)).numpy(),
                               [[1.0]])
    np.testing.assert_allclose(gpujit.clamp(input=x, min=0.5).numpy(), [0.5, 1.0])
    # (the Tensor methods bind self themselves; a function over a Tensor[] keeps its name)
    np.testing.assert_allclose(x.add(other=x).numpy(), [0.0, 2.0])
    assert tuple(gpujit.cat(tensors=[x, x]).shape) == (4,)
    assert gpujit.isnan(input=x).tolist() == [False, False]
    assert gpujit.isnan(x=x).tolist() == [False, False]      # (NumPy's name)
    assert gpujit.flip(input=x, dims=[0]).tolist() == [1.0, 0.0]


# ------------------------------------------------------------------ factories' requires_grad

_LIKE_FACTORIES = [
    lambda m, x, **k: m.zeros_like(x, **k),
    lambda m, x, **k: m.ones_like(x, **k),
    lambda m, x, **k: m.empty_like(x, **k),
    lambda m, x, **k: m.full_like(x, 2.5, **k),
    lambda m, x, **k: m.zeros_like(x.long(), dtype=m.float64, **k),
    lambda m, x, **k: m.scalar_tensor(1.5, **k),
    lambda m, x, **k: m.empty_permuted((2, 3), (1, 0), **k),
]


@pytest.mark.parametrize("i", range(len(_LIKE_FACTORIES)))
def test_factories_take_requires_grad(i):
    f = _LIKE_FACTORIES[i]
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        x = m.ones(2, 3)
        r = f(m, x, requires_grad=True)
        assert r.requires_grad and r.is_leaf and r.grad_fn is None
        assert not f(m, x, requires_grad=False).requires_grad
        r.sum().backward()
        np.testing.assert_array_equal(r.grad.numpy(), np.ones(tuple(r.shape)))


def test_factories_requires_grad_refusals():
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex "
                                               "dtype can require gradients"):
            m.zeros_like(m.ones(2, dtype=m.int64), requires_grad=True)
        with pytest.raises(TypeError, match=r"^ones_like\(\): argument 'requires_grad' must "
                                            "be bool, not int"):
            m.ones_like(m.ones(2), requires_grad=1)


# ------------------------------------------------------------------ autograd odds and ends

def _wrong_shape_function(m):
    class WrongShape(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g[:2]
    return WrongShape


def test_custom_function_gradient_of_a_wrong_shape():
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        x = m.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as e:
            _wrong_shape_function(m).apply(x).sum().backward()
        # (PyTorch's validate_outputs words)
        assert str(e.value) == ("Function WrongShapeBackward returned an invalid gradient at "
                                "index 0 - got [2] but expected shape compatible with [3]")


def test_calling_a_node_gives_a_tuple():
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        r = (x * 3).grad_fn(m.ones(2))
        assert type(r) is tuple and len(r) == 2 and r[1] is None
        np.testing.assert_array_equal(r[0].numpy(), [3.0, 3.0])


def test_setting_data():
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        x = m.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="^data set to a tensor that requires gradients "
                                               "must be floating point or complex dtype$"):
            x.data = m.zeros(2, dtype=m.int64)
        with pytest.raises(TypeError, match="^Variable data has to be a tensor, but got int$"):
            x.data = 1
        x.data = m.zeros(3, dtype=m.float64)     # (another shape and floating dtype: fine)
        assert x.dtype == m.float64 and x.requires_grad
        y = m.ones(2, dtype=m.int64)             # (no grad: any dtype)
        y.data = m.zeros(2)
        assert y.dtype == m.float32


# ------------------------------------------------------------------ index_add / index_copy words

_INDEX_ERRORS = [
    # (call, exception, PyTorch's words: index_add's meta names index_add_() always)
    (lambda m, x: x.index_add(0, m.tensor([0.0]), m.ones(1, 2, 4)), RuntimeError,
     "index_add_(): Expected dtype int32/int64 for index but got: Float"),
    (lambda m, x: x.index_add(0, m.tensor([[0]]), m.ones(1, 2, 4)), IndexError,
     "index_add_(): Index is supposed to be a vector, but got dim: 2 with type: Long and "
     "size: [1, 1]"),
    (lambda m, x: x.index_add(0, m.tensor([0, 1]), m.ones(1, 2, 4)), RuntimeError,
     "index_add_(): Number of indices (2) should be equal to source.size(dim): (1), for "
     "dim: 0"),
    (lambda m, x: x.index_add(0, m.tensor([0]), m.ones(1, 3, 4)), RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. "
     "Got self.shape = [3, 2, 4] source.shape = [1, 3, 4]"),
    (lambda m, x: x.index_add(2, m.tensor([0]), m.ones(3, 1)), RuntimeError,
     "index_add_(): Indexing dim 2 is out of bounds of the source tensor with dim 2"),
    (lambda m, x: x.index_add(0, m.tensor([0]), m.ones(1, 2, 4, dtype=m.float64)),
     RuntimeError, "index_add_(): self (Float) and source (Double) must have the same "
                   "scalar type"),
    (lambda m, x: x.index_add(0, m.tensor([7]), m.ones(1, 2, 4)), RuntimeError,
     "index 7 is out of bounds for dimension 0 with size 3"),
    (lambda m, x: x.index_copy(0, m.tensor([0]), m.ones(1, 3, 5)), RuntimeError,
     "index_copy_(): Source/destination tensor must have same slice shapes. Destination "
     "slice shape: 2 4 at dimension 0 and source slice shape: 3 5 at dimension 0."),
    (lambda m, x: x.index_copy(0, m.tensor([0]), m.ones(3, 5)), IndexError,
     "index_copy_(): When source and destination are not scalars, their dimensionality must "
     "match. Source dimensionality (2), destination dimensionality (3)"),
    (lambda m, x: x.index_copy(0, m.tensor([0, 1]), m.tensor(1.0)), IndexError,
     "index_copy_(): When source is scalar, index should have one element (got 2)"),
    (lambda m, x: x.index_copy(0, m.tensor([[0]]), m.ones(1, 2, 4)), IndexError,
     "index_copy_(): Index should have dimension 1 or 0 (got 2)"),
    (lambda m, x: x.index_copy(0, m.tensor([0, 1]), m.ones(1, 2, 4)), IndexError,
     "index_copy_(): Number of indices (2) should be equal to source.size(dim) (1)"),
]


@pytest.mark.parametrize("i", range(len(_INDEX_ERRORS)))
def test_index_add_and_index_copy_errors(i):
    f, exc, words = _INDEX_ERRORS[i]
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        with pytest.raises(exc) as e:
            f(m, m.ones(3, 2, 4))
        assert type(e.value) is exc and str(e.value).split("\n")[0] == words


def test_index_add_and_index_copy_values():
    x = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    got = gpujit.tensor(x).index_add(1, gpujit.tensor([1, 1]), gpujit.ones(4, 2), alpha=2)
    want = x.copy()
    want[:, 1] += 4
    np.testing.assert_array_equal(got.numpy(), want)
    got = gpujit.tensor(x).index_copy(-1, gpujit.tensor([0, 2]), gpujit.zeros(4, 2))
    want = x.copy()
    want[:, [0, 2]] = 0
    np.testing.assert_array_equal(got.numpy(), want)
    # (0-dim self and source: one element)
    assert gpujit.tensor(1.0).index_add(0, gpujit.tensor([0]), gpujit.tensor(2.0)).item() == 3


# ------------------------------------------------------------------ tensor hooks' results

def _hooked(m, leaf, hook):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x if leaf else x * 2
    y.register_hook(hook)
    (y * 3).sum().backward()
    return x.grad


def _to_double(g):
    return g.double()


@pytest.mark.parametrize("leaf", [False, True])
@pytest.mark.parametrize("hook, exc, words", [
    (_to_double, RuntimeError, "hook '_to_double' has changed the type of value (was "
                               "torch.FloatTensor got torch.DoubleTensor)"),
    (lambda g: g[:1], RuntimeError, "hook '<lambda>' has changed the size of value"),
    (lambda g: 3, TypeError, "expected Variable, but hook returned 'int'"),
])
def test_tensor_hook_results_are_checked(leaf, hook, exc, words):
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        with pytest.raises(exc) as e:
            _hooked(m, leaf, hook)
        assert str(e.value) == words


def test_tensor_hook_results_that_fit():
    g = _hooked(gpujit, False, lambda g: g * 10)
    np.testing.assert_array_equal(g.numpy(), [60.0, 60.0])
    g = _hooked(gpujit, True, lambda g: None)
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0])


def test_grad_and_backward_argument_words():
    import warnings
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        x = m.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"^`inputs` argument to `backward\(\)` cannot "
                                               r"be empty\.$"):
            (x * 2).sum().backward(inputs=[])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            (g,) = m.autograd.grad((x * 2).sum(), x, only_inputs=False)
        assert [str(r.message) for r in w if r.category is FutureWarning] == [
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use "
            "torch.autograd.backward."]
        np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])


def _node_hooked(m, pre, hook):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (y.grad_fn.register_prehook if pre else y.grad_fn.register_hook)(hook)
    y.sum().backward()
    return x.grad


@pytest.mark.parametrize("pre, hook, exc, words", [
    (True, lambda go: (go[0][:1],), RuntimeError,
     "hook '<lambda>' has changed the size of value"),
    (True, lambda go: (go[0], go[0]), RuntimeError,
     "hook '<lambda>' has returned an incorrect number of values (got 2, but expected 1)"),
    (False, lambda gi, go: (gi[0],), RuntimeError,
     "hook '<lambda>' has returned an incorrect number of values (got 1, but expected 2)"),
    (False, lambda gi, go: 5, TypeError, "expected tuple, but hook returned 'int'"),
    (False, lambda gi, go: [gi[0], None], TypeError,
     "expected tuple, but hook returned 'list'"),
    (False, lambda gi, go: (gi[0], gi[0]), RuntimeError,
     "can't replace a None gradient with a non-None value"),
    (False, lambda gi, go: (gi[0].double(), None), RuntimeError,
     "hook '<lambda>' has changed the type of value (was torch.FloatTensor got "
     "torch.DoubleTensor)"),
])
def test_node_hook_results_are_checked(pre, hook, exc, words):
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        with pytest.raises(exc) as e:
            _node_hooked(m, pre, hook)
        assert str(e.value) == words


def test_node_hook_results_that_fit():
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        g = _node_hooked(m, False, lambda gi, go: (gi[0] * 10, None))
        np.testing.assert_array_equal(g.numpy(), [20.0, 20.0])
        assert _node_hooked(m, False, lambda gi, go: (None, None)) is None
        assert _node_hooked(m, True, lambda go: (None,)) is None


# ------------------------------------------------------------------ requires_grad values

_REQUIRES_GRAD_REFUSALS = [
    (lambda m: m.ones(2).requires_grad_(1), TypeError,
     "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not int"),
    (lambda m: m.ones(2).requires_grad_(requires_grad=None), TypeError,
     "requires_grad_(): argument 'requires_grad' must be bool, not NoneType"),
    (lambda m: setattr(m.ones(2), "requires_grad", 1), RuntimeError,
     "requires_grad must be a bool"),
    (lambda m: m.zeros(2, requires_grad=1), TypeError,
     "zeros(): argument 'requires_grad' must be bool, not int"),
    (lambda m: m.empty(2, requires_grad=1), TypeError,
     "empty(): argument 'requires_grad' must be bool, not int"),
    (lambda m: m.tensor([1.0], requires_grad=1), TypeError,
     "tensor(): argument 'requires_grad' must be bool, not int"),
    (lambda m: m.nn.Parameter(m.ones(2), requires_grad=None), TypeError,
     "_make_subclass(): argument 'require_grad' (position 3) must be bool, not NoneType"),
]


@pytest.mark.parametrize("i", range(len(_REQUIRES_GRAD_REFUSALS)))
def test_requires_grad_takes_a_bool_only(i):
    f, exc, words = _REQUIRES_GRAD_REFUSALS[i]
    for m in (gpujit,) if _torch is None else (gpujit, _torch):
        with pytest.raises(exc) as e:
            f(m)
        assert str(e.value) == words


def test_requires_grad_bools():
    x = gpujit.ones(2)
    assert x.requires_grad_().requires_grad and not x.requires_grad_(False).requires_grad
    assert x.requires_grad_(requires_grad=True).requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    assert gpujit.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="takes from 0 to 1 positional arguments but 2"):
        x.requires_grad_(True, True)


def test_backward_with_create_graph_warns():
    import warnings
    from gpujit.autograd.engine import CREATE_GRAPH_BACKWARD
    was = gpujit.is_warn_always_enabled()
    gpujit.set_warn_always(True)     # (ATen's TORCH_WARN_ONCE: shown again only so)
    try:
        for m in (gpujit,) if _torch is None else (gpujit, _torch):
            x = m.tensor([1.0, 2.0], requires_grad=True)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                (x * x).sum().backward(create_graph=True)
                m.autograd.grad((x * x).sum(), x, create_graph=True)    # (no warning)
            msgs = [str(r.message) for r in w]
            assert len(msgs) == 1 and msgs[0].startswith(CREATE_GRAPH_BACKWARD)
            assert x.grad.grad_fn is not None
            np.testing.assert_array_equal(x.grad.detach().numpy(), [2.0, 4.0])
    finally:
        gpujit.set_warn_always(was)
