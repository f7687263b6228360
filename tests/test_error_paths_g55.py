"""Session 55 (g55): users' mistakes that PyTorch 2.13 refuses with a clear error and gpujit
accepted (or refused in other words), and the dtypes PyTorch's losses return. Expected
values and messages are torch 2.13's, written out (no torch import)."""
import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F

X = [0.3, 0.8]
Y = [1.0, 0.0]


def _bce_np(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.mean(-(y * np.log(x) + (1 - y) * np.log1p(-x))))


def _bcel_np(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.mean((1 - y) * x + np.log1p(np.exp(-x))))


# ---------------------------------------------------------------- binary_cross_entropy

@pytest.mark.parametrize("tdt,name", [(torch.float64, "Double"), (torch.float16, "Half"),
                                      (torch.int64, "Long"), (torch.bool, "Bool"),
                                      (torch.uint8, "Byte"), (torch.bfloat16, "BFloat16")])
def test_bce_target_of_another_dtype_is_refused(tdt, name):
    """torch: "Found dtype Double but expected Float" (gpujit computed a float loss, or said
    'not implemented for Long' of a float input)."""
    x, y = torch.tensor(X), torch.tensor(Y)
    with pytest.raises(RuntimeError, match=f"^Found dtype {name} but expected Float$"):
        F.binary_cross_entropy(x, y.to(tdt))
    with pytest.raises(RuntimeError, match=f"^Found dtype {name} but expected Float$"):
        torch.nn.BCELoss()(x, y.to(tdt))


def test_bce_input_of_another_dtype_and_weights_of_any_dtype():
    x, y = torch.tensor(X), torch.tensor(Y)
    with pytest.raises(RuntimeError, match="^Found dtype Float but expected Double$"):
        F.binary_cross_entropy(x.double(), y)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.binary_cross_entropy(x.long(), y.long())
    # a weight of an integer or bool dtype is fine (torch: float32 loss)
    w = np.array([2.0, 3.0])
    want = float(np.mean(w * -(np.array(Y) * np.log(X) + (1 - np.array(Y)) * np.log1p(
        -np.array(X)))))
    for wdt in (torch.int64, torch.int32, torch.uint8):
        r = F.binary_cross_entropy(x, y, weight=torch.tensor([2, 3]).to(wdt))
        assert r.dtype == torch.float32
        assert abs(r.item() - want) < 1e-5
    r = F.binary_cross_entropy(x, y, weight=torch.tensor([True, True]))
    assert abs(r.item() - _bce_np(X, Y)) < 1e-5


def _bce_fn(a, b):
    return F.binary_cross_entropy(a, b)


def test_scripted_bce_refuses_a_long_target():
    f = torch.jit.script(_bce_fn)
    with pytest.raises(RuntimeError, match="Found dtype Long but expected Float"):
        f(torch.tensor(X), torch.tensor([1, 0]))


# ---------------------------------------------------------------- with logits

@pytest.mark.parametrize("tdt,name", [(torch.int64, "Long"), (torch.int32, "Int"),
                                      (torch.uint8, "Byte")])
def test_bce_with_logits_integer_target_is_refused(tdt, name):
    """The common mistake: class labels as a long tensor. torch's composite computes
    (1 - target).mul_(input): "result type Float can't be cast to the desired output type
    Long" (gpujit computed the loss)."""
    x, y = torch.tensor(X), torch.tensor([1, 0]).to(tdt)
    msg = f"^result type Float can't be cast to the desired output type {name}$"
    with pytest.raises(RuntimeError, match=msg):
        F.binary_cross_entropy_with_logits(x, y)
    with pytest.raises(RuntimeError, match=msg):
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 3.0]))(x, y)
    with pytest.raises(RuntimeError, match=msg.replace("Float", "Double")):
        F.binary_cross_entropy_with_logits(x.double(), y, reduction="none")


def test_bce_with_logits_bool_target_or_pos_weight_refuse_the_subtraction():
    x = torch.tensor(X)
    with pytest.raises(RuntimeError, match="with two bool tensors is not supported"):
        F.binary_cross_entropy_with_logits(x, torch.tensor([True, False]))
    with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
        F.binary_cross_entropy_with_logits(x, torch.tensor(Y),
                                           pos_weight=torch.tensor([True, False]))
    with pytest.raises(NotImplementedError, match="\"log_sigmoid_cpu\" not implemented for "
                                                  "'Long'"):
        F.binary_cross_entropy_with_logits(torch.tensor([1, 0]), torch.tensor(Y))
    # integer weights / pos_weight are fine
    r = F.binary_cross_entropy_with_logits(x, torch.tensor(Y), weight=torch.tensor([1, 1]))
    assert r.dtype == torch.float32 and abs(r.item() - _bcel_np(X, Y)) < 1e-6


def test_bce_with_logits_loss_has_the_targets_dtype():
    """torch 2.13: float32 logits, float64 target -> a float64 loss; float64 logits, float32
    target -> float32; a float16 target -> float16 (gpujit: the input's dtype)."""
    x, y = torch.tensor(X), torch.tensor(Y)
    want = _bcel_np(X, Y)
    r = F.binary_cross_entropy_with_logits(x, y.double())
    assert r.dtype == torch.float64 and abs(r.item() - want) < 1e-6
    r = F.binary_cross_entropy_with_logits(x, y.double(), reduction="none")
    assert r.dtype == torch.float64 and tuple(r.shape) == (2,)
    r = F.binary_cross_entropy_with_logits(x.double(), y)
    assert r.dtype == torch.float32 and abs(r.item() - want) < 1e-6
    r = F.binary_cross_entropy_with_logits(x, y.half())
    # torch 2.13: tensor(0.8623, dtype=torch.float16) (its steps rounded to half)
    assert r.dtype == torch.float16 and r.item() == np.float16(0.8623)
    r = F.binary_cross_entropy_with_logits(x.half(), y)
    assert r.dtype == torch.float32 and abs(r.item() - 0.86255) < 2e-5
    # the gradients keep their inputs' dtypes
    a = torch.tensor([0.3, -0.8], requires_grad=True)
    b = torch.tensor(Y, dtype=torch.float64, requires_grad=True)
    F.binary_cross_entropy_with_logits(a, b, pos_weight=torch.tensor([2.0, 3.0])).backward()
    assert a.grad.dtype == torch.float32 and b.grad.dtype == torch.float64
    np.testing.assert_allclose(a.grad.numpy(), [-0.4256, 0.1550], atol=1e-4)
    np.testing.assert_allclose(b.grad.numpy(), [0.1272, 1.5711], atol=1e-4)


# ---------------------------------------------------------------- cross_entropy / nll_loss

XX = [[0.3, 0.8, -1.0]]
P = [[0.2, 0.3, 0.5]]


def _ce_prob_np(x, p):
    x, p = np.asarray(x, np.float64), np.asarray(p, np.float64)
    lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    return float(-(lp * p).sum(-1).mean())


@pytest.mark.parametrize("fn", [F.nll_loss, F.cross_entropy])
@pytest.mark.parametrize("wdt,name", [(torch.float64, "Double"), (torch.float16, "Half"),
                                      (torch.int64, "Long")])
def test_class_weights_of_another_dtype_are_refused(fn, wdt, name):
    """torch: "expected scalar type Float but found Double" (gpujit cast the weights)."""
    with pytest.raises(RuntimeError, match=f"^expected scalar type Float but found {name}$"):
        fn(torch.tensor(XX), torch.tensor([1]), weight=torch.ones(3, dtype=wdt))
    with pytest.raises(RuntimeError, match=f"found {name}"):
        torch.nn.CrossEntropyLoss(weight=torch.ones(3, dtype=wdt), label_smoothing=0.1)(
            torch.tensor(XX), torch.tensor([1]))


def test_cross_entropy_with_probabilities_promotes_as_torch():
    """-(log_softmax(x) * p).sum(): a float64 target (or weight) makes a float64 loss, a
    float32 target of float16 logits a float32 one (gpujit: the input's dtype)."""
    want = _ce_prob_np(XX, P)
    x = torch.tensor(XX)
    for kw in ({}, {"reduction": "none"}, {"label_smoothing": 0.1}, {"weight": torch.ones(3)}):
        r = F.cross_entropy(x, torch.tensor(P, dtype=torch.float64), **kw)
        assert r.dtype == torch.float64
    r = F.cross_entropy(x, torch.tensor(P, dtype=torch.float64))
    assert abs(r.item() - want) < 1e-6
    r = F.cross_entropy(x, torch.tensor(P), weight=torch.ones(3, dtype=torch.float64))
    assert r.dtype == torch.float64 and abs(r.item() - want) < 1e-6
    r = F.cross_entropy(x, torch.tensor(P).half())
    assert r.dtype == torch.float32
    r = F.cross_entropy(x.half(), torch.tensor(P))     # torch 2.13: tensor(1.5717)
    assert r.dtype == torch.float32 and abs(r.item() - 1.57168) < 1e-4
    r = F.cross_entropy(x, torch.tensor(P))
    assert r.dtype == torch.float32 and abs(r.item() - want) < 1e-6


def test_unbatched_logits_with_a_one_element_target():
    """F.cross_entropy(logits_1d, torch.tensor([label])): torch 2.13 takes the [1] target as
    the sample's (a 0-d loss); a longer one is its ValueError (gpujit: 'size mismatch')."""
    x = np.array([0.3, -0.8, 1.2])
    lp = x - np.log(np.exp(x).sum())
    for red in ("none", "mean", "sum"):
        r = F.cross_entropy(torch.tensor(x), torch.tensor([1]), reduction=red)
        assert tuple(r.shape) == () and abs(r.item() + lp[1]) < 1e-12
        r = F.nll_loss(torch.tensor(x), torch.tensor([2]), reduction=red)
        assert tuple(r.shape) == () and r.item() == -1.2
    with pytest.raises(ValueError, match="^For 1D input, 1D target must have size 1, but got "
                                         "target size: 2$"):
        F.cross_entropy(torch.tensor(x), torch.tensor([1, 2]))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.nll_loss(torch.tensor(x), torch.tensor([5]))


# ---------------------------------------------------------------- index dtypes

@pytest.mark.parametrize("tdt,name", [(torch.int32, "Int"), (torch.uint8, "Byte"),
                                      (torch.float32, "Float"), (torch.bool, "Bool")])
def test_margin_losses_want_long_targets(tdt, name):
    x = torch.tensor(XX)
    with pytest.raises(RuntimeError, match=f"^expected scalar type Long but found {name}$"):
        F.multi_margin_loss(x, torch.tensor([1]).to(tdt))
    if tdt is not torch.uint8:      # (uint8's -1 is 255: out of range first, as torch)
        with pytest.raises(RuntimeError, match=f"^expected scalar type Long but found "
                                               f"{name}$"):
            F.multilabel_margin_loss(x, torch.tensor([[1, -1, 0]]).to(tdt))
    assert abs(F.multi_margin_loss(x, torch.tensor([1])).item() - 1 / 6) < 1e-6


@pytest.mark.parametrize("idt,name", [(torch.float32, "Float"), (torch.uint8, "Byte"),
                                      (torch.int16, "Short")])
def test_embedding_bag_indices_must_be_long_or_int(idt, name):
    """torch refuses them (gpujit looked float / uint8 indices up as int64)."""
    msg = (f"^Expected tensor for argument #1 'indices' to have one of the following scalar "
           f"types: Long, Int; but got torch.{name}Tensor instead \\(while checking arguments "
           f"for embedding_bag\\)$")
    w = torch.ones(3, 2)
    with pytest.raises(RuntimeError, match=msg):
        F.embedding_bag(torch.tensor([1, 2]).to(idt), w, torch.tensor([0]))
    with pytest.raises(RuntimeError, match=msg):
        torch.nn.EmbeddingBag(3, 2)(torch.tensor([[1, 2]]).to(idt))
    got = F.embedding_bag(torch.tensor([1, 2], dtype=torch.int32), w, torch.tensor([0]))
    np.testing.assert_array_equal(got.numpy(), [[1.0, 1.0]])


def test_index_dtype_messages_in_torchs_words():
    i32 = torch.tensor([1], dtype=torch.int32)
    with pytest.raises(RuntimeError, match=r"^take\(\): Expected a long tensor for index, but "
                                           r"got Int$"):
        torch.zeros(3).take(i32)
    with pytest.raises(RuntimeError, match=r"^scatter\(\): Expected dtype int32/int64 for "
                                           r"index$"):
        torch.zeros(1, 3).scatter_add(1, torch.tensor([[1]], dtype=torch.uint8),
                                      torch.ones(1, 1))
    with pytest.raises(RuntimeError, match=r"^scatter\(\): Expected dtype int32/int64"):
        torch.zeros(3).scatter_reduce(0, torch.tensor([1], dtype=torch.int16), torch.ones(1),
                                      "sum")
    with pytest.raises(IndexError, match=r"^index_fill_\(\): Expected dtype int64 for "
                                         r"index\.$"):
        torch.zeros(3).index_fill(0, i32, 1.0)


def test_torch_trace_of_a_non_tensor_is_the_ops_type_error():
    """torch.trace([1.]) (the matrix trace): "trace(): argument 'input' (position 1) must be
    Tensor, not list" (gpujit took it for the tracer: 'needs example_inputs')."""
    for bad, name in (([1.0], "list"), ("ab", "str"), (None, "NoneType"), (3, "int")):
        with pytest.raises(TypeError, match=rf"^trace\(\): argument 'input' \(position 1\) must "
                                            rf"be Tensor, not {name}$"):
            torch.trace(bad)
    assert torch.trace(torch.eye(3)).item() == 3.0
    traced = torch.trace(torch.nn.Linear(2, 2), torch.ones(1, 2))
    assert tuple(traced(torch.ones(3, 2)).shape) == (3, 2)


# ---------------------------------------------------------------- argument types

def test_a_float_for_an_int_parameter_is_the_parsers_type_error():
    """torch refuses a float where an int goes; gpujit's bodies took it (softmax(x, 1.0),
    one_hot(t, 3.0), linspace(0, 1, 2.5) made 3 points) or failed inside (topk(1.5): a numba
    TypingError; repeat_interleave(2.0): an AttributeError)."""
    x = torch.ones(4, 4)
    cases = [(lambda: x.topk(1.5), r"^topk\(\): argument 'k' \(position 1\) must be int, not "
                                   r"float$"),
             (lambda: x.softmax(1.0), r"^softmax\(\): argument 'dim' \(position 1\) must be "
                                      r"int, not float$"),
             (lambda: F.one_hot(torch.tensor([1]), 3.0), r"^one_hot\(\): argument "
                                                         r"'num_classes' \(position 2\) must be "
                                                         r"int, not float$"),
             (lambda: torch.linspace(0, 1, 2.5), r"^linspace\(\)"),
             (lambda: torch.linspace(0, 1, 3.0), r"^linspace\(\)"),
             (lambda: torch.logspace(0, 1, 2.5), r"^logspace\(\)"),
             (lambda: x.repeat_interleave(2.0), r"^repeat_interleave\(\) received an invalid "
                                                r"combination of arguments - got \(float\)")]
    for call, msg in cases:
        with pytest.raises(TypeError, match=msg):
            call()
    np.testing.assert_array_equal(torch.linspace(0, 1, 3).numpy(), [0.0, 0.5, 1.0])
    assert tuple(x.topk(np.int64(2)).values.shape) == (4, 2)    # (a NumPy int is an int)
    assert x.repeat_interleave(2).shape[0] == 32


def test_to_none_is_no_conversion():
    """x.to(device) with device None (a common default): torch returns x (gpujit: TypeError)."""
    x = torch.ones(2, 3)
    assert x.to(None) is x
    assert x.to(None, None) is x
    assert x.to("cpu", None) is x
    y = x.to(None, torch.float64)
    assert y.dtype == torch.float64 and np.array_equal(y.numpy(), np.ones((2, 3)))


def test_assigning_none_str_or_dict_into_a_tensor_is_a_type_error():
    """torch: "can't assign a NoneType to a torch.FloatTensor" (gpujit: RuntimeError 'Could
    not infer dtype of NoneType')."""
    x = torch.ones(2, 3)
    for v, name in ((None, "NoneType"), ("a", "str"), ({}, "dict")):
        with pytest.raises(TypeError, match=f"^can't assign a {name} to a torch.FloatTensor$"):
            x[0] = v
    y = torch.ones(3, dtype=torch.long)
    with pytest.raises(TypeError, match="^can't assign a NoneType to a torch.LongTensor$"):
        y[torch.tensor([0])] = None
    x[0] = 2.5
    assert x.numpy()[0].tolist() == [2.5, 2.5, 2.5]


def test_linear_module_given_a_list_or_an_ndarray():
    """nn.Linear(2, 2)([1., 2.]): torch's "linear(): argument 'input' (position 1) must be
    Tensor, not list" (gpujit: AttributeError 'list' object has no attribute 'shape'; an
    ndarray: 'expected m1 and m2 to have the same dtype, but got: float != float')."""
    m = torch.nn.Linear(2, 2)
    for v, name in (([1.0, 2.0], "list"), (np.ones(2, np.float32), "numpy.ndarray"),
                    (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^linear\(\): argument 'input' \(position 1\) "
                                            rf"must be Tensor, not {name}$"):
            m(v)
        with pytest.raises(TypeError, match="must be Tensor"):
            torch.nn.Sequential(m)(v)
    with pytest.raises(TypeError, match=r"argument 'weight' \(position 2\) must be Tensor"):
        F.linear(torch.ones(2), [[1.0, 2.0]])


@pytest.mark.parametrize("make,name", [(lambda: torch.nn.ConvTranspose2d(1, 1, 1),
                                        "conv_transpose2d"),
                                       (lambda: torch.nn.PReLU(), "prelu")])
def test_modules_whose_ops_decompose_refuse_a_non_tensor_input(make, name):
    """A composite op recording gradients (its weight requires grad) ran its decomposition
    before the entry point's checks: AttributeError 'list' object has no attribute 'dim'
    (torch: "conv_transpose2d(): argument 'input' (position 1) must be Tensor, not list")."""
    m = make()
    for v, tname in (([[1.0, 2.0]], "list"), (np.ones((1, 1, 2, 2), np.float32),
                                              "numpy.ndarray"), (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^{name}\(\): argument 'input' \(position 1\) "
                                            rf"must be Tensor, not {tname}$"):
            m(v)
