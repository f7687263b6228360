"""Session 39 (e39): torch.jit.script applied to torch.nn.functional's functions directly.

Find: `torch.jit.script(F.relu)` raised FrontendError "gpujit has no function '_act'"
(and alike for ~40 F functions: gpujit compiled its own Python adapter's source, whose
helpers scripted code cannot see). torch 2.13 compiles F's Python-level functions into a
ScriptFunction (F.relu's graph branches on `inplace`: aten::relu_ / aten::relu) and
refuses F's C++ builtins with TypeError "<class 'builtin_function_or_method'> is a
built-in class" (F.linear, F.gelu, F.relu_, F.conv2d, ...) and F's @_overload'ed functions
with RuntimeError "Function __torch__.torch.nn.functional.interpolate cannot be directly
compiled because it is overloaded...". gpujit now decides by torch's name
(frontend/script/library_functions.py): builtins refused in torch's words, other functions
compiled as a same-signature function calling them as scripted code does.
"""
import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional

# torch 2.13: torch.jit.script(F.<name>) gives a ScriptFunction
COMPILES = """adaptive_avg_pool2d adaptive_avg_pool3d affine_grid alpha_dropout batch_norm
celu cosine_embedding_loss ctc_loss dropout dropout1d dropout2d dropout3d elu embedding
embedding_bag feature_alpha_dropout fold glu grid_sample group_norm gumbel_softmax
hardsigmoid hardswish hardtanh hinge_embedding_loss instance_norm kl_div layer_norm
leaky_relu local_response_norm log_softmax lp_pool1d lp_pool2d lp_pool3d
margin_ranking_loss max_unpool1d max_unpool2d max_unpool3d mish multi_head_attention_forward
multi_margin_loss multilabel_margin_loss multilabel_soft_margin_loss pad poisson_nll_loss
relu relu6 rms_norm rrelu selu sigmoid silu soft_margin_loss softmax softmin softsign tanh
tanhshrink threshold triplet_margin_loss unfold""".split()

# torch 2.13: TypeError "<class 'builtin_function_or_method'> is a built-in class"
BUILTINS = """adaptive_avg_pool1d avg_pool1d avg_pool2d avg_pool3d bilinear celu_
channel_shuffle conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d
conv_transpose3d cosine_similarity elu_ gelu hardshrink hardtanh_ leaky_relu_ linear
logsigmoid native_channel_shuffle one_hot pairwise_distance pdist pixel_shuffle
pixel_unshuffle prelu relu_ rrelu_ scaled_dot_product_attention selu_ softplus softshrink
threshold_""".split()


def test_python_level_functions_compile():
    bad = []
    for name in COMPILES:
        try:
            s = torch.jit.script(getattr(F, name))
        except Exception as e:          # noqa: BLE001 - collected for the message
            bad.append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0]}")
            continue
        assert type(s).__name__ == "ScriptFunction", name
    assert not bad, "\n".join(bad)


def test_builtins_refused_as_torch():
    for name in BUILTINS:
        with pytest.raises(TypeError, match="is a built-in class"):
            torch.jit.script(getattr(F, name))


def test_overloaded_refused_as_torch():
    for name in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
        with pytest.raises(Exception, match="cannot be directly compiled because it is "
                                            "overloaded"):
            torch.jit.script(getattr(F, name))


def test_torch_namespace_as_torch():
    # torch 2.13: torch.add / torch.relu are C++ builtins (TypeError), torch.norm and
    # torch.tensordot are @_overload'ed (RuntimeError "...torch.functional.norm cannot be
    # directly compiled because it is overloaded..."), torch.unique /
    # unique_consecutive are boolean_dispatch (*args) wrappers (NotSupportedError
    # "Compiled functions can't take variable number of arguments..."), torch.cdist
    # compiles
    for name in ("add", "relu", "sigmoid_"):
        with pytest.raises(TypeError, match="is a built-in class"):
            torch.jit.script(getattr(torch, name))
    for name in ("norm", "tensordot"):
        with pytest.raises(Exception, match=f"torch.functional.{name} cannot be directly "
                                            f"compiled because it is overloaded"):
            torch.jit.script(getattr(torch, name))
    for name in ("unique", "unique_consecutive"):
        with pytest.raises(Exception, match="Compiled functions can't take variable number "
                                            "of arguments") as e:
            torch.jit.script(getattr(torch, name))
        assert type(e.value).__name__ == "NotSupportedError"
    a = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(torch.jit.script(torch.cdist)(a, a).numpy(),
                               [[0.0, 5.0], [5.0, 0.0]], atol=1e-6)


X = [[-1.0, 2.0, -3.0, 0.5]]


def test_relu_inplace_branch():
    s = torch.jit.script(F.relu)
    kinds = [n.kind() for n in s.graph.nodes()]
    assert "prim::If" in kinds
    text = str(s.graph)
    assert "aten::relu_" in text and "aten::relu(" in text
    x = torch.tensor(X)
    y = s(x)
    np.testing.assert_array_equal(y.numpy(), np.maximum(np.array(X), 0))
    np.testing.assert_array_equal(x.numpy(), np.array(X))        # not in place
    s(x, True)
    np.testing.assert_array_equal(x.numpy(), np.maximum(np.array(X), 0))   # in place


def test_values():
    a = np.array(X)
    x = torch.tensor(X)
    np.testing.assert_allclose(torch.jit.script(F.leaky_relu)(x, 0.2).numpy(),
                               np.where(a > 0, a, 0.2 * a), rtol=1e-6)
    e = np.exp(a - a.max())
    np.testing.assert_allclose(torch.jit.script(F.softmax)(x, 1).numpy(),
                               e / e.sum(), rtol=1e-5)
    np.testing.assert_array_equal(torch.jit.script(F.dropout)(x, 0.5, False).numpy(), a)
    np.testing.assert_array_equal(torch.jit.script(F.hardtanh)(x, -0.5, 0.5).numpy(),
                                  np.clip(a, -0.5, 0.5))
    np.testing.assert_array_equal(torch.jit.script(F.threshold)(x, 0.1, 20.0).numpy(),
                                  np.where(a > 0.1, a, 20.0))
    np.testing.assert_allclose(torch.jit.script(F.elu)(x).numpy(),
                               np.where(a > 0, a, np.expm1(a)), rtol=1e-6)


def test_losses_reduction_and_legacy_arguments():
    # torch 2.13 compiles F's losses: reduction a str, size_average / reduce Optional[bool]
    # folded into it with the deprecation warning; values from torch 2.13
    import warnings
    COMPILES_TOO = ["binary_cross_entropy", "binary_cross_entropy_with_logits",
                    "cross_entropy", "huber_loss", "l1_loss", "mse_loss", "nll_loss",
                    "smooth_l1_loss"]
    for name in COMPILES_TOO:
        torch.jit.script(getattr(F, name))
    a = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    b = torch.tensor([[0.0, 2.0], [1.0, 1.0]])
    s = torch.jit.script(F.mse_loss)
    assert float(s(a, b)) == 5.25
    assert float(s(a, b, None, None, "sum")) == 21.0
    np.testing.assert_array_equal(s(a, b, reduction="none").numpy(), [[1.0, 0.0], [4.0, 16.0]])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert float(s(a, b, False)) == 21.0
    assert [str(x.message) for x in w] == [
        "size_average and reduce args will be deprecated, please use reduction='sum' instead."]
    with pytest.raises(Exception, match="bad is not a valid value for reduction"):
        s(a, b, None, None, "bad")
    t = torch.tensor([1, 0])
    n = torch.jit.script(F.nll_loss)
    lp = torch.log_softmax(a, 1)
    np.testing.assert_allclose([float(n(lp, t)), float(n(lp, t, reduction="sum"))],
                               [1.2201, 2.4402], atol=1e-4)
    c = torch.jit.script(F.cross_entropy)
    np.testing.assert_allclose([float(c(a, t)), float(c(a, t, label_smoothing=0.1))],
                               [1.2201, 1.1951], atol=1e-4)
    np.testing.assert_allclose(
        [float(torch.jit.script(F.smooth_l1_loss)(a, b, beta=0.5)),
         float(torch.jit.script(F.huber_loss)(a, b, delta=2.0)),
         float(torch.jit.script(F.binary_cross_entropy)(torch.sigmoid(a), torch.sigmoid(b))),
         float(torch.jit.script(F.binary_cross_entropy_with_logits)(
             a, torch.sigmoid(b), pos_weight=torch.tensor([1.0, 2.0]))),
         float(torch.jit.script(F.l1_loss)(a, b, reduction="sum"))],
        [1.5625, 2.1250, 0.8464, 0.8755, 7.0], atol=1e-4)


def test_max_pool_with_indices():
    # torch 2.13 compiles F.max_pool{1,2,3}d_with_indices (return_indices ignored, stride
    # None the op's default, padding a BroadcastingList); values from torch 2.13
    for name in ("max_pool1d_with_indices", "max_pool2d_with_indices",
                 "max_pool3d_with_indices"):
        torch.jit.script(getattr(F, name))
    x = torch.tensor([[[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 0.0], [1.0, 2.0, 3.0, 4.0],
                        [5.0, 6.0, 0.0, 1.0]]]])
    s = torch.jit.script(F.max_pool2d_with_indices)
    v, i = s(x, [2, 2], None, [0, 0], [1, 1])
    np.testing.assert_array_equal(v.numpy(), [[[[5.0, 6.0], [6.0, 4.0]]]])
    np.testing.assert_array_equal(i.numpy(), [[[[5, 6], [13, 11]]]])
    v, i = s(x, [2, 2], [1, 1], [0, 0], [1, 1], False, True)
    np.testing.assert_array_equal(i.numpy(), [[[[5, 6, 6], [5, 6, 6], [13, 13, 11]]]])


# ---------------------------------------------------------------------------------------
# Find 2 (trace): a submodule called with list/dict/tuple arguments stayed inline in a
# trace, and a call's method took every tensor argument by position (unused ones, a tensor
# passed twice). torch 2.13's tracer keeps the call as prim::CallMethod whose parameters are
# the tensors the call's ops read, each once, in the order first read, unread ones dropped:
#   self.s([x, y], {"a": z}) with forward `d["a"] * xs[1] - xs[0]` -> (s).forward(z, y, x, )
#   self.s3([x, y], {"a": z}) reading xs[0] only                  -> (s3).forward(x, )
#   self.s4([x, y], z) reading z only                              -> (s4).forward(z, )
#   self.t(x, x, y) with forward(a, b, c) `c * b`                  -> (t).forward1(y, x, )


class _S(torch.nn.Module):
    def forward(self, xs, d):
        return d["a"] * xs[1] - xs[0]


class _S3(torch.nn.Module):
    def forward(self, xs, d):
        return xs[0] + 1


class _S4(torch.nn.Module):
    def forward(self, xs, z):
        return z * 2


class _T(torch.nn.Module):
    def forward(self, a, b, c):
        return c * b


class _TupleArg(torch.nn.Module):
    def forward(self, t):
        a, b = t
        return a - b


class _M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.s = _S()
        self.s3 = _S3()
        self.s4 = _S4()
        self.t = _T()
        self.u = _TupleArg()

    def forward(self, x, y, z):
        return self.s([x, y], {"a": z}) + self.s3([x, y], {"a": z}) + \
            self.s4([x, y], z) + self.t(x, y, z) + self.t(x, x, y) + self.u((y, x))


def _trace():
    import warnings
    x = torch.ones(2, 3)
    y = torch.full((2, 3), 2.0)
    z = torch.full((2, 3), 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.trace(_M(), (x, y, z)), (x, y, z)


def test_trace_container_arguments_call_method():
    tm, (x, y, z) = _trace()
    code = tm.code
    for call in ("(s).forward(z, y, x, )", "(s3).forward(x, )", "(s4).forward(z, )",
                 "(t).forward(z, y, )", "(t).forward1(y, x, )", "(u).forward(y, x, )"):
        assert call in code, code
    assert "def forward(self,\n    z: Tensor,\n    y: Tensor,\n    x: Tensor) -> Tensor:\n" \
           "  return torch.sub(torch.mul(z, y), x)" in tm.s.code, tm.s.code
    assert "def forward1(self,\n    y: Tensor,\n    x: Tensor) -> Tensor:\n" \
           "  return torch.mul(y, x)" in tm.t.forward1.code, tm.t.forward1.code
    assert "prim::ListUnpack" not in str(tm.s.graph) and \
        "__getitem__" not in str(tm.s.graph)
    # 3*2-1 + (1+1) + 3*2 + 3*2 + 2*1 + (2-1) = 22
    np.testing.assert_array_equal(tm(x, y, z).numpy(), np.full((2, 3), 22.0))
    np.testing.assert_array_equal(tm(x, z, y).numpy(), np.full((2, 3), 2*3 - 1 + 2 + 4 + 6
                                                               + 3 + 2))


# nested: a submodule given a tuple and a dict calls its own submodule with tensors taken
# out of them; a submodule given a dict passes the dict on. torch 2.13:
#   (c).forward(x, y, ) -> torch.cat([x, y]);  (o).forward(y, x, ) -> its (i).forward(y, x, )
#   self.o({"a": y, "b": x}, x) -> (o).forward(y, x, ), whose (i).forward(y, )


class _Cat(torch.nn.Module):
    def forward(self, xs):
        return torch.cat(xs, 0)


class _Mul(torch.nn.Module):
    def forward(self, a, b):
        return a * b


class _Outer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.i = _Mul()

    def forward(self, xs, d):
        return self.i(d[1], xs[0]) + xs[0]


class _DictInner(torch.nn.Module):
    def forward(self, d):
        return d["a"] * 2


class _DictOuter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.i = _DictInner()

    def forward(self, d, x):
        return self.i(d) + x


class _Nested(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = _Cat()
        self.o = _Outer()
        self.q = _DictOuter()

    def forward(self, x, y):
        return self.c([x, y]).sum() + self.o((x, y), {1: y}) + self.q({"a": y, "b": x}, x)


def test_trace_nested_container_calls():
    import warnings
    x = torch.ones(2, 3)
    y = torch.full((2, 3), 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.jit.trace(_Nested(), (x, y))
    for call in ("(c).forward(x, y, )", "(o).forward(y, x, )", "(q).forward(y, x, )"):
        assert call in tm.code, tm.code
    assert "torch.cat([x, y])" in tm.c.code, tm.c.code
    assert "torch.add((i).forward(y, x, ), x)" in tm.o.code, tm.o.code
    assert "def forward(self,\n    y: Tensor,\n    x: Tensor) -> Tensor:\n" \
           "  return torch.mul(y, x)" in tm.o.i.code, tm.o.i.code
    assert "torch.add((i).forward(y, ), x)" in tm.q.code, tm.q.code
    # sum(cat) = 6*1 + 6*2 = 18; 2*1 + 1 = 3; 2*2 + 1 = 5
    np.testing.assert_array_equal(tm(x, y).numpy(), np.full((2, 3), 26.0))
