"""Session 36 (c36): eager tensor and nn fidelity against PyTorch 2.13.

Finds, minimised, with torch 2.13's behaviour (expected values written out: no torch here):

1. torch.inference_mode made no inference tensors: `x.is_inference()` was always False and
   inference_mode was only no_grad. torch: ops inside the mode make inference tensors
   (views of normal tensors stay normal; views and detach() of inference tensors are
   inference tensors; torch.tensor / from_numpy / load too); outside it, an in-place op on
   one raises "Inplace update to inference tensor outside InferenceMode is not allowed..."
   (after its kernel wrote: session 37), `requires_grad_()` raises "Setting requires_grad=True on inference
   tensor outside InferenceMode is not allowed.", `_version` raises "Inference tensors do
   not track version counter.", and an op that saves one for backward raises "Inference
   tensors cannot be saved for backward. ..." (w * a, F.linear; not w + a, cat, index).
   Inside the mode nothing is recorded even under enable_grad; inference_mode(False) turns
   grad mode on; `@torch.inference_mode` decorates bare; scripted and traced functions
   called in the mode return inference tensors. A view taken in inference mode of a tensor
   that requires grad refuses an in-place write in grad mode ("A view was created in
   inference mode and is being modified inplace in normal mode. ...").
3. Views without elements one past the end lost their storage offset (NumPy resets it):
   torch: x[5:] of a length-3 x has storage_offset() 3, X[:, 10:] of a (3, 4) X 4,
   X[1:, 4:] 8, X[10:] 12, x.narrow(0, 3, 0) 3. torch.from_numpy of an array without
   elements keeps NumPy's strides (all 0 for np.zeros((0, 3)): (0, 0)) where gpujit gave
   (3, 1); a read-only array warns "The given NumPy array is not writable, ..." once.
4. Python ints past int64 as operands: torch's parser makes [2**63, 2**64) a uint64
   Scalar, so int64 + 2**63 wraps (tensor([1, 2]) + 2**63 is [-2**63 + 1, -2**63 + 2];
   gpujit gave -2**63 twice), clamp(max=2**63) and where(c, i, 2**63) raise "value cannot
   be converted to type int64_t without overflow", and 2**64 / -2**63 - 1 raise
   OverflowError ("int too big to convert" / "can't convert negative int to unsigned",
   also for float tensors: x + 2**70). torch.range(2**62, 2**62 + 2, dtype=int64)
   computes in int64 (gpujit: in double, three equal values). arange(1e20) and
   arange(0, 2**63 - 1, 2**62) raise "invalid size, possible overflow?" (gpujit: NumPy's
   ValueError; two values), arange(2**63) "value cannot be converted to type int64_t
   without overflow".
5. float16 log_softmax along the last dim (CPU) and logsumexp rounded once where torch's
   kernels round the sum and its log to float16 first (log_softmax) or each composite step
   (logsumexp): one-ulp differences in ~20% of values.
6. add / sub / rsub with alpha: torch computes a + alpha * b as one fused multiply-add
   (float32 / float64; float16 in float32 with alpha rounded to float16 first, on the
   CPU); gpujit rounded alpha * b first (a few values in 64 off by one ulp). SGD's
   single-tensor update is such adds (weight decay, momentum buffer, Nesterov, the
   parameter step), so its parameters drifted from torch's in the last bit after a step.
7. F.linear's edge cases against torch's composite (addmm for a 2-D input; addmm and a
   view for another contiguous input with a 1-D bias; else matmul then add_): a 1-D
   weight gave MmBackward0 / SqueezeBackward4 (torch: MvBackward0 / DotBackward0), a 1-D
   weight with a bias on the addmm path computed (torch: "mat2 must be a matrix, got 1-D
   tensor"), a 0-dim or 2-D bias with a 3-D input was named ViewBackward0 (torch:
   AddBackward0), a 0-D argument raised matmul's words (torch: "both arguments to linear
   need to be at least 1D, but they are 0D and 2D"), a bias that does not fit the addmm
   path raised broadcasting's words (torch: addmm's "The expanded size of the tensor (4)
   must match the existing size (5) at non-singleton dimension 1.  Target sizes: [2, 4].
   Tensor sizes: [5]").
8. nn.functional sweep against torch (368 calls: conv, pooling, norms, dropout, embedding,
   interpolate, pad, losses, distances, fold/unfold, activations): cross_entropy /
   nll_loss with every target ignored and 'mean' gave NaN gradients (0 * inf; torch: 0,
   its backward writes only the rows not ignored); cosine_similarity's gradient where a
   norm is clamped to eps was missing the norm's term (torch clamps under no_grad, so
   the norm's own derivative flows: grad 441.68... not ~0); max_pool2d/avg_pool2d with a
   padding past half the dilated kernel raised the old words (torch 2.13: "pad should be
   at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1");
   conv2d's groups error printed the weight's sizes in one bracket (torch: two);
   max_pool3d's indices of a batch of one had stride 0 on that dim (torch: contiguous);
   autograd.grad(y, []) returned () (torch: "`inputs` argument to `grad()` cannot be
   empty."). grad_fn names of torch's composites: an unbatched conv is SqueezeBackward1,
   cosine_similarity SumBackward1 (gpujit named a node torch lacks,
   CosineSimilarityBackward0; so KlDivBackward0 and CrossEntropyLossBackward0), kl_div
   SubBackward0 / MulBackward0 (log_target) / MeanBackward0 / SumBackward0, cross_entropy
   with label smoothing AddBackward0, with class probabilities DivBackward1 ('mean') /
   NegBackward0, with a 3-D input and 'none' ViewBackward0, circular pad CopySlices,
   max_pool1d(return_indices=True) and adaptive_max_pool1d SqueezeBackward1.
9. float16 losses computed in float32 and rounded once where torch's Half kernels round
   each operation (mse_loss: (a - b) then its square, 8 of 24 values off by an ulp;
   smooth_l1_loss with a float16 beta; kl_div's composite, whose xlogy rounds log(t)
   first; binary_cross_entropy, whose kernel is (t - 1) * max(log1p(-x), -100) -
   t * max(log(x), -100): log1p, not log(1 - x), for float32 too); binary_cross_entropy
   took targets outside [0, 1] (torch: "all elements of target should be between 0 and
   1").
10. dtype refusals worded as gpujit's ("gelu does not support dtype int64 (supported:
   ...)") where torch names its CPU kernel ('"GeluKernelImpl" not implemented for
   'Long'', elu_cpu for elu/selu/celu, silu_cpu, mish_cpu, hardswish_cpu, hardsigmoid_cpu,
   leaky_relu_cpu, softplus_cpu, softshrink_check, hardshrink_cpu, log_sigmoid_cpu,
   threshold_cpu and abs_cpu for a bool, LayerNormKernelImpl, GroupNormKernelImpl,
   mse_cpu, smooth_l1_cpu, huber_cpu; relu of a bool: "Boolean inputs not supported for
   relu", hardtanh / relu6: "Bool inputs not supported for hardtanh"); kl_div of integer
   or bool operands: "kl_div: Integral inputs not supported." (gpujit named a kernel);
   max_pool1d of an integer tensor computed (torch's CPU max_pool1d_impl: '"max_pool1d_impl"
   not implemented for 'Long''). l1_loss of integers refused them (torch's composite
   (x - t).abs() computes: [2, 4, 0], its 'sum' int64, uint8 wrapping to 254; 'mean' is
   mean()'s "could not infer output dtype ... Got: Int"; bool operands sub's words).
2. torch.no_grad / enable_grad / inference_mode decorating a generator function held the
   mode only while the generator object was made: torch holds it while the body runs
   (list(g()) of `yield torch.is_grad_enabled()` under @no_grad() is [False, False]);
   `@torch.no_grad` bare raised TypeError (torch: a decorator).
"""
import io
import pickle

import numpy as np
import pytest

import gpujit as torch
from gpujit.ops import registry as _reg

F = torch.nn.functional

INPLACE = "Inplace update to inference tensor outside InferenceMode is not allowed"
SAVED = "Inference tensors cannot be saved for backward"


# ------------------------------------------------------------------ 1. inference tensors

def test_inference_mode_makes_inference_tensors_views_of_normal_stay_normal():
    x = torch.ones(3)
    w = torch.ones(3, requires_grad=True)
    with torch.inference_mode():
        assert torch.is_inference_mode_enabled() and not torch.is_grad_enabled()
        a = torch.ones(3)
        b = x * 2
        c = w * 2
        v = x.view(3)
        v2 = x[1:]
        x.add_(1)                   # a normal tensor written inside stays normal
        d = a.view(3)
        e = x.detach()
        assert x._version == 1
    assert not torch.is_inference_mode_enabled() and torch.is_grad_enabled()
    assert a.is_inference() and b.is_inference() and c.is_inference()
    assert not c.requires_grad and c.grad_fn is None
    assert not v.is_inference() and not v2.is_inference() and not x.is_inference()
    assert d.is_inference() and not e.is_inference()
    assert torch.is_inference(a) and not torch.is_inference(x)
    # functional ops outside the mode make normal tensors; views and detach() of an
    # inference tensor are inference tensors, so is .data
    assert not (a + 1).is_inference() and not a.clone().is_inference()
    assert a.view(3).is_inference() and a.detach().is_inference() and a.data.is_inference()
    assert not a.to(torch.float64).is_inference() and a.float() is a


def test_inference_tensor_outside_the_mode_refuses_inplace_grad_and_version():
    with torch.inference_mode():
        a = torch.ones(3)
    for f in (lambda: a.add_(1), lambda: a.mul_(2), lambda: a.zero_(), lambda: a.fill_(1),
              lambda: a.copy_(torch.zeros(3)), lambda: a.view(3).add_(1)):
        with pytest.raises(RuntimeError, match=INPLACE):
            f()
    # (torch 2.13 runs the kernel, then refuses at the version bump: add_ 2, mul_ 4,
    # zero_ 0, fill_ 1, copy_ 0, view add_ 1: tests/test_eager_fidelity_s37.py)
    assert a.tolist() == [1.0, 1.0, 1.0]
    # (torch refuses these too, some after its kernel ran: what they leave is not checked)
    for f in (lambda: a.__setitem__(0, 5.0), lambda: a.__setitem__(a > 0, 5.0),
              lambda: a.t_(), lambda: torch.add(torch.ones(3), 1, out=a)):
        with pytest.raises(RuntimeError, match=INPLACE):
            f()
    with pytest.raises(RuntimeError, match="Inference tensors do not track version counter"):
        a._version
    msg = "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed"
    with pytest.raises(RuntimeError, match=msg):
        a.requires_grad_()
    with pytest.raises(RuntimeError, match=msg):
        a.requires_grad = True
    assert a.requires_grad_(False) is a
    with torch.inference_mode():            # inside the mode: allowed
        a.add_(1)
        a.requires_grad_()
    assert a.requires_grad and a.is_inference()


def test_inference_tensor_saved_for_backward_refused_as_torch():
    w = torch.ones(3, requires_grad=True)
    W = torch.ones(2, 3, requires_grad=True)
    with torch.inference_mode():
        a = torch.ones(3)
        A = torch.ones(2, 3)
    # ops whose backward needs the inference tensor: refused
    for f in (lambda: w * a, lambda: w / a, lambda: a / w, lambda: F.linear(a, W),
              lambda: F.linear(w, A), lambda: A @ w, lambda: torch.maximum(w, a),
              lambda: F.mse_loss(w, a)):
        with pytest.raises(RuntimeError, match=SAVED):
            f()
    # ops whose backward does not: recorded as usual (torch's grad_fn names)
    assert type((w + a).grad_fn).__name__ == "AddBackward0"
    assert type((w - a).grad_fn).__name__ == "SubBackward0"
    assert type(torch.cat([w, a]).grad_fn).__name__ == "CatBackward0"
    assert type(torch.where(a > 0, w, a).grad_fn).__name__ == "WhereBackward0"
    assert type(w[a.long()].grad_fn).__name__ == "IndexBackward0"
    assert not torch.exp(a).requires_grad and not (a * 2).requires_grad
    # a module made in inference mode: its weight is an inference tensor that requires
    # grad; a forward with an input that needs no grad saves only the input
    with torch.inference_mode():
        lin = torch.nn.Linear(3, 2)
    assert lin.weight.is_inference() and lin.weight.requires_grad
    y = lin(torch.ones(3))
    assert y.requires_grad and not y.is_inference()


def test_inference_mode_records_nothing_even_with_enable_grad_and_false_enables_grad():
    w = torch.ones(3, requires_grad=True)
    with torch.inference_mode():
        e = torch.ones(3, requires_grad=True)
        assert e.requires_grad and e.is_inference()
        assert not (e * 2).requires_grad
        with torch.enable_grad():
            assert torch.is_grad_enabled() and torch.is_inference_mode_enabled()
            h = w * 2
            assert not h.requires_grad and h.is_inference()
        with torch.inference_mode(False):
            assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
            assert not torch.ones(3).is_inference()
            assert (w * 2).requires_grad
    with torch.no_grad():
        with torch.inference_mode(False):      # c10::InferenceMode(false): grad mode on
            assert torch.is_grad_enabled()
        assert not torch.is_grad_enabled()


def test_inference_mode_decorators_and_clone():
    x = torch.ones(2)

    @torch.inference_mode
    def bare(t):
        return t * 2

    @torch.inference_mode()
    def called(t):
        return t * 2, torch.is_inference_mode_enabled()

    @torch.inference_mode(False)
    def off(t):
        return t * 2
    assert bare(x).is_inference()
    r, on = called(x)
    assert r.is_inference() and on
    assert not off(x).is_inference()
    assert torch.inference_mode(False).clone().mode is False


def test_tensors_made_outside_ops_in_inference_mode_are_inference_tensors():
    x = torch.ones(3)
    buf = io.BytesIO()
    torch.save(x, buf)
    with torch.inference_mode():
        made = [torch.tensor([1.0]), torch.as_tensor([1.0]), torch.from_numpy(np.ones(2)),
                torch.Tensor([1.0]), torch.FloatTensor([1.0]), torch.asarray([1.0]),
                torch.frombuffer(bytearray(8), dtype=torch.float32),
                torch.from_dlpack(np.ones(2)), x.new_tensor([1.0]), x.new_zeros(2),
                pickle.loads(pickle.dumps(x)), torch.load(io.BytesIO(buf.getvalue())),
                torch.zeros(2, 3).t().contiguous(), x.clone(), x.to(torch.float64),
                torch.nn.BatchNorm1d(2).running_mean, torch.randperm(3), x.max(0)[1]]
        kept = [x.float(), x.detach(), x.data, x.reshape(3), x.unbind()[0]]
    assert all(t.is_inference() for t in made), [t.is_inference() for t in made]
    assert not any(t.is_inference() for t in kept)


def test_scripted_and_traced_calls_in_inference_mode_return_inference_tensors():
    @torch.jit.script
    def f(x):
        return x * 2 + 1

    def g(x):
        y = x.relu()
        return y.sin() * y
    tg = torch.jit.trace(g, torch.ones(3))
    x = torch.ones(3)
    m = torch.jit.script(torch.nn.Linear(3, 2))
    for _ in range(3):
        f(x), tg(x), m(x)
    with torch.inference_mode():
        a, b, c = f(x), tg(x), m(x)
    assert a.is_inference() and b.is_inference() and c.is_inference()
    assert not m.weight.is_inference() and not x.is_inference()
    with pytest.raises(RuntimeError, match=INPLACE):
        a.add_(1)


def test_view_made_in_inference_mode_of_a_tensor_requiring_grad_refuses_inplace():
    w = torch.ones(3, requires_grad=True)
    with torch.inference_mode():
        vw = w[1:]
    assert not vw.is_inference() and vw.requires_grad
    with pytest.raises(RuntimeError, match="A view was created in inference mode and is "
                                           "being modified inplace in normal mode"):
        vw.add_(1)


def test_inference_layer_leaves_the_hook_path_when_no_inference_tensor_lives():
    # (eager calls pay nothing for inference mode once its tensors are gone)
    with torch.inference_mode():
        a = torch.ones(2)
        assert _reg.dispatch_state.inference is not None
    assert _reg.dispatch_state.inference is not None        # a lives
    b = a.view(2)
    del a
    assert _reg.dispatch_state.inference is not None        # its view lives
    del b
    assert _reg.dispatch_state.inference is None
    with torch.inference_mode():
        torch.ones(2) * 2
    assert _reg.dispatch_state.inference is None


# ------------------------------------------------------------------ 2. grad-mode decorators

def test_grad_mode_decorators_on_generators_and_bare():
    @torch.no_grad()
    def g():
        yield torch.is_grad_enabled()
        yield torch.is_grad_enabled()

    @torch.inference_mode()
    def g2():
        yield torch.is_inference_mode_enabled()
        return 5

    @torch.no_grad
    def h():
        return torch.is_grad_enabled()

    @torch.enable_grad
    def k():
        return torch.is_grad_enabled()
    assert list(g()) == [False, False]
    assert list(g2()) == [True]
    it = g2()
    next(it)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
    with pytest.raises(StopIteration) as e:
        next(it)
    assert e.value.value == 5
    assert h() is False
    with torch.no_grad():
        assert k() is True


# ------------------------------------------------------------------ 3. empty views' offsets

def test_empty_slices_past_the_end_keep_torchs_storage_offset():
    x = torch.arange(3.)
    X = torch.arange(12.).reshape(3, 4)
    cases = [(x[5:], 3, (1,)), (x[3:], 3, (1,)), (x[2:1], 2, (1,)), (X[:, 10:], 4, (4, 1)),
             (X[10:], 12, (4, 1)), (X[1:, 4:], 8, (4, 1)), (X.t()[4:], 4, (1, 4)),
             (x.narrow(0, 3, 0), 3, (1,)), (X[::2, 5:], 4, (8, 1)), (x[1:][5:], 3, (1,)),
             (X[1][7:], 8, (1,)), (X[1:2][:, 9:], 8, (4, 1))]
    for t, off, st in cases:
        assert t.numel() == 0
        assert (t.storage_offset(), t.stride()) == (off, st)
    # (a write through it writes nothing; a copy of it is a new empty tensor)
    X[:, 10:].fill_(1)
    assert X.sum().item() == 66.0 and X[:, 10:].clone().storage_offset() == 0


def test_from_numpy_of_empty_arrays_keeps_numpys_strides_and_warns_for_read_only():
    for shape in [(0,), (0, 3), (3, 0), (2, 0, 4)]:
        t = torch.from_numpy(np.zeros(shape, np.float32))
        assert t.stride() == (0,) * len(shape) and t.storage_offset() == 0
        assert t.shape == shape
    assert torch.from_numpy(np.zeros((3, 4), np.float32)[:, 5:]).stride() == (4, 1)
    from gpujit.ops import creation
    creation._READONLY_WARNED.clear()
    a = np.ones(3, np.float32)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):
        torch.from_numpy(a)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.from_numpy(a)             # (once a process)


# ------------------------------------------------------------------ 4. ints past int64

def test_python_ints_past_int64_as_torchs_uint64_scalars():
    i = torch.tensor([1, 2])
    big = -2 ** 63
    assert (i + 2 ** 63).tolist() == [big + 1, big + 2]
    assert (i - 2 ** 63).tolist() == [big + 1, big + 2]
    assert i.clone().add_(2 ** 63).tolist() == [big + 1, big + 2]
    assert (i // 2 ** 63).tolist() == [-1, -1]
    assert (i % 2 ** 63).tolist() == [big + 1, big + 2]
    assert (i.int() + 2 ** 63).tolist() == [1, 2]       # (narrow types wrap, as before)
    assert (i.float() + 2 ** 63).tolist() == [2.0 ** 63] * 2
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        i + (-2 ** 63 - 1)
    for f in (lambda: i * 2 ** 64, lambda: i.float() + 2 ** 70, lambda: i < 2 ** 64):
        with pytest.raises(OverflowError, match="int too big to convert"):
            f()
    for f in (lambda: i.clamp(max=2 ** 63), lambda: torch.where(i > 1, i, 2 ** 63)):
        with pytest.raises(RuntimeError, match="value cannot be converted to type int64_t "
                                               "without overflow"):
            f()


def test_range_and_arange_near_int64s_limits():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = torch.range(2 ** 62, 2 ** 62 + 2, dtype=torch.int64)
    assert r.tolist() == [2 ** 62, 2 ** 62 + 1, 2 ** 62 + 2]
    assert torch.arange(2 ** 63 - 3, 2 ** 63 - 1).tolist() == [2 ** 63 - 3, 2 ** 63 - 2]
    assert torch.arange(-2 ** 63, -2 ** 63 + 2).tolist() == [-2 ** 63, -2 ** 63 + 1]
    assert torch.arange(2 ** 62, 0, -2 ** 61).tolist() == [2 ** 62, 2 ** 61]
    for f in (lambda: torch.arange(1e20), lambda: torch.arange(0, 2 ** 63 - 1, 2 ** 62)):
        with pytest.raises(RuntimeError, match="invalid size, possible overflow"):
            f()
    with pytest.raises(RuntimeError, match="value cannot be converted to type int64_t "
                                           "without overflow"):
        torch.arange(2 ** 63)


# ------------------------------------------------------------------ 5. float16 softmaxes

_X16 = [[2.974609375, -0.7666015625, -2.77734375, 1.482421875, 2.39453125, -2.099609375,
         -1.8544921875, 2.578125, 1.1904296875, -2.884765625, -0.447021484375],
        [3.0, -0.325927734375, -2.916015625, 1.0771484375, 2.638671875, -1.7568359375,
         -2.185546875, 2.3203125, 1.5869140625, -2.728515625, -0.8837890625],
        [2.95703125, 0.1220703125, -2.98828125, 0.64794921875, 2.8203125, -1.375,
         -2.466796875, 2.009765625, 1.94921875, -2.513671875, -1.3017578125]]
# torch 2.13's F.log_softmax(x, 1) of _X16 in float16 (its bits: CPU, last dim)
_LOG_SOFTMAX_BITS = [
    [48115, 50364, 50879, 49401, 48716, 50705, 50643, 48528, 49550, 50906, 50282],
    [48091, 50255, 50918, 49615, 48480, 50621, 50731, 48806, 49354, 50870, 50398],
    [48166, 50110, 50940, 49841, 48306, 50526, 50806, 49136, 49175, 50818, 50508]]


def test_float16_log_softmax_last_dim_rounds_as_torchs_cpu_kernel():
    """torch's CPU kernel along the last dim of a float16 tensor keeps the sum of exps and
    its log in float16 (each rounded), then computes x - max - log_sum in float32: 3 of
    these 33 values differ by one ulp from rounding the float32 result once."""
    x = torch.tensor(_X16, dtype=torch.float16)
    r = torch.nn.functional.log_softmax(x, 1)
    assert r.dtype is torch.float16
    assert r.numpy().view(np.uint16).tolist() == _LOG_SOFTMAX_BITS
    assert x.log_softmax(-1).numpy().view(np.uint16).tolist() == _LOG_SOFTMAX_BITS


def test_float16_logsumexp_rounds_each_step_as_torchs_composite():
    """torch's logsumexp is amax, sub, exp_, sum, log_, add_: float16 results each."""
    b = (np.cos(np.arange(1, 41) * 0.9) * 6).astype(np.float16).reshape(8, 5)
    r = torch.logsumexp(torch.from_numpy(b), 0)
    assert r.numpy().view(np.uint16).tolist() == [17983, 17971, 17968, 17972, 17967]
    r1 = torch.logsumexp(torch.tensor(_X16, dtype=torch.float16), 1)
    assert r1.numpy().view(np.uint16).tolist() == [17392, 17399, 17405]


# ------------------------------------------------------------------ 6. add with alpha: FMA

_A = (np.sin(np.arange(64) * 0.37) * 3).astype(np.float32)
_B = (np.cos(np.arange(64) * 0.91) * 2).astype(np.float32)
# torch 2.13's results, as bits (CPU)
_ADD_F32_BITS = [
    1045220557, 1067094653, 1073519838, 1075854911, 1077147488, 1077313233, 1075946661,
    1071824019, 1059487646, 3206592890, 3219372032, 3223610850, 3225019192, 3224738358,
    3223242723, 3220504846, 3214076951, 3190954013, 1064470238, 1073910276, 1077329610,
    1078702352, 1077751885, 1074915002, 1068347654, 1052822081, 3205494710, 3216508145,
    3222173933, 3224719917, 3225822436, 3224867184, 3221750300, 3212919592, 1046472849,
    1067906017, 1074152139, 1076169318, 1077060034, 1076900642, 1075496834, 1071411580,
    1059900611, 3205691527, 3219239697, 3223847247, 3225440402, 3225047673, 3223189804,
    3219656466, 3212978029, 3182951430, 1064441054, 1073558124, 1077097070, 1078724463,
    1078019989, 1075190445, 1068353172, 1049894938, 3207733199, 3217364319, 3222231659,
    3224426955]

_SUB_F32_BITS = [
    3235066675, 3225276648, 1080665097, 1091290683, 1091341878, 1081924444, 3221634710,
    3231717547, 3225595427, 1070506664, 1083525990, 1078354257, 3222865769, 3237742078,
    3239238652, 3231915368, 1070743068, 1087235858, 1086888338, 1073437560, 3223573451,
    3227047135, 1050449085, 1085480049, 1090602335, 1084879390, 3214750139, 3236302028,
    3238653050, 3231565344, 1060717495, 1081785160, 1075356023, 3222315270, 3233442736,
    3231428224, 1058127026, 1088153153, 1092185652, 1088012643, 1058535231, 3230808328,
    3232179248, 3217218902, 1077814034, 1082412176, 1057938561, 3232334493, 3239009308,
    3236734960, 3216005193, 1084331905, 1089712240, 1084280995, 3187945307, 3227327282,
    3222084765, 1076152034, 1088136473, 1088042220, 1072173271, 3231689888, 3239034154,
    3237145224]

_ADD_F64_BITS = [
    4583892375012758557, 4600501797347243739, 4604185194328080540, 4606007100222282449,
    4606919275909502917, 4606792009492758216, 4605525011710177943, 4603151770842317893,
    4596233627078257478, 13819627481426094607, 13826563490848015897,
    13828973544918520393, 13830241799207844016, 13830320907354032109,
    13829334032649684192, 13827454761868447549, 13823654539997815954,
    13805068159939630109, 4599897427935901092, 4604296744786882599, 4606475002667043577,
    4607290881214642976, 4606916799490160191, 4605187216126826126, 4602498360548474099,
    4594686092952112489, 13819428304938183962, 13826153877940504712,
    13828553640691592631, 13830159307455741796, 13830602201625106842,
    13829816473650777293, 13827700166449438018, 13823233822866518523,
    4585784946262090899, 4600881166613634214, 4604396602809989139, 4606134319076099141,
    4606898331097552526, 4606645641840427008, 4605344223337334452, 4603028511084241598,
    4596083994753536585, 13819626226467329053, 13826602430765073632,
    13829087711182654512, 13830389430837093834, 13830408487890760811,
    13829285751843454976, 13827272184421863853, 13823185924916358426,
    13786328538971218793, 4600023052456953056, 4604268041964240740, 4606433996781237979,
    4607296976839308239, 4606978799692527323, 4605228550934904676, 4602379570680463047,
    4593960444504010167, 13820389926842887607, 13826344189741186292,
    13828612607918438264, 13830087381745014882]

_ADD_F16_BITS = [
    49869, 48130, 16825, 17870, 17914, 17118, 11541, 48962, 48440, 14458, 16008, 14057,
    49476, 50561, 50695, 49971, 13640, 17062, 17288, 16383, 41602, 46267, 15927, 17417,
    17643, 16890, 47954, 50299, 50589, 50147, 48205, 14798, 13363, 48816, 49654, 49113,
    15655, 17626, 18020, 17638, 15824, 48752, 49381, 48206, 14835, 15267, 48250, 50221,
    50664, 50373, 48341, 16707, 17530, 17199, 15614, 46408, 13328, 16623, 17478, 17279,
    14607, 49852, 50639, 50514]

_SGD_BITS = [
    3225035149, 3207951773, 1076778039, 1084921565, 1085314172, 1079323841, 1053380178,
    3215670908, 3213186768, 1053662380, 1066859140, 1026195487, 3223937480, 3231955589,
    3232803837, 3226900500, 1040939683, 1077292813, 1079491860, 1073648286, 1052214329,
    1042213341, 1071405684, 1081195313, 1083005641, 1076375073, 3210521503, 3229726750,
    3231982800, 3228643346, 3215571861, 1048745741, 3175281026, 3217641984, 3223509422,
    3217238697, 1068562961, 1083219715, 1086061757, 1083351186, 1070095299, 3214230038,
    3221330741, 3212859736, 1054071298, 1056433334, 3215797807, 3229521526, 3232580120,
    3230345707, 3214292501, 1074828092, 1082068248, 1079422784, 1069038127, 1040354814,
    1058787673, 1075550719, 1081553078, 1079069265, 1055487692, 3225854225, 3232346472,
    3231599591]

_SGD_DAMP_BITS = [
    3219262537, 981377068, 1075664561, 1082771339, 1083260377, 1078646415, 1066938769,
    3191846299, 3201667051, 1017596140, 1034707008, 3211660469, 3224396599, 3230230995,
    3230489410, 3224725312, 3199116132, 1071532921, 1075779728, 1073817590, 1067783948,
    1067727058, 1074538065, 1078937977, 1079196726, 1072090319, 3208723779, 3225841242,
    3229770902, 3227263195, 3221155524, 3211265161, 3209837313, 3215951127, 3217273221,
    3203755553, 1070855290, 1081375331, 1083717192, 1081813968, 1072826140, 3183888935,
    3213090743, 3210291219, 3200909794, 3207313978, 3221014079, 3227940940, 3230337986,
    3227210621, 3213853235, 1068676004, 1077407421, 1077345355, 1073348531, 1067596503,
    1069626317, 1075468458, 1077724674, 1074484825, 1022494224, 3223478659, 3230011789,
    3229947749]


def test_add_sub_with_alpha_is_one_fused_multiply_add_as_torch():
    a, b = torch.from_numpy(_A), torch.from_numpy(_B)
    assert torch.add(a, b, alpha=0.1).numpy().view(np.uint32).tolist() == _ADD_F32_BITS
    assert a.clone().add_(b, alpha=0.1).numpy().view(np.uint32).tolist() == _ADD_F32_BITS
    assert torch.sub(a, b, alpha=3.3).numpy().view(np.uint32).tolist() == _SUB_F32_BITS
    assert torch.rsub(b, a, alpha=3.3).numpy().view(np.uint32).tolist() == _SUB_F32_BITS
    ad = torch.from_numpy(_A.astype(np.float64) / 3)
    bd = torch.from_numpy(_B.astype(np.float64) / 7)
    assert torch.add(ad, bd, alpha=0.1).numpy().view(np.uint64).tolist() == _ADD_F64_BITS
    ah, bh = a.half(), b.half()
    assert torch.add(ah, bh, alpha=-1.7).numpy().view(np.uint16).tolist() == _ADD_F16_BITS
    # integers: exact, as before
    assert torch.add(torch.tensor([1, 2]), torch.tensor([3, 4]), alpha=3).tolist() == [10, 14]


def test_fma_numba_ufunc_and_numpy_paths_agree():
    from gpujit.ops import fma
    rng = np.random.default_rng(0)
    n = 1 << 15             # (past the threshold: the numba ufunc)
    a32, b32, c32 = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    big = fma.fma32(a32, b32, c32)
    assert fma._ufuncs          # loaded
    small = np.concatenate([fma._fma_numpy32(a32[i:i + 4096], b32[i:i + 4096],
                                             c32[i:i + 4096], np) for i in range(0, n, 4096)])
    assert big.dtype == np.float32 and np.array_equal(big.view(np.uint32),
                                                      small.view(np.uint32))
    a64, b64, c64 = (v.astype(np.float64) * 1.3 for v in (a32, b32, c32))
    big = fma.fma64(a64, b64, c64)
    small = fma._fma_numpy64(a64, b64, c64, np)
    assert np.array_equal(big.view(np.uint64), small.view(np.uint64))


def test_sgd_updates_as_torchs_fused_multiply_adds():
    p = torch.nn.Parameter(torch.from_numpy(_A.copy()))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    for k in range(3):
        p.grad = torch.from_numpy(_B * (k + 1))
        opt.step()
    assert p.detach().numpy().view(np.uint32).tolist() == _SGD_BITS
    p = torch.nn.Parameter(torch.from_numpy(_A.copy()))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1)
    for k in range(3):
        p.grad = torch.from_numpy(_B * (k + 1))
        opt.step()
    assert p.detach().numpy().view(np.uint32).tolist() == _SGD_DAMP_BITS


# ------------------------------------------------------------------ 7. F.linear's composite

@pytest.mark.parametrize("xs, ws, bs, name", [
    ((3,), (3,), None, "DotBackward0"), ((2, 3), (3,), None, "MvBackward0"),
    ((5, 2, 3), (3,), None, "UnsafeViewBackward0"), ((3,), (3,), (), "AddBackward0"),
    ((5, 2, 3), (3,), (), "AddBackward0"), ((3,), (4, 3), None, "SqueezeBackward4"),
    ((3,), (4, 3), (), "AddBackward0"), ((3,), (4, 3), (4,), "ViewBackward0"),
    ((2, 3), (4, 3), (), "AddmmBackward0"), ((2, 3), (4, 3), (2, 4), "AddmmBackward0"),
    ((5, 2, 3), (4, 3), (), "AddBackward0"), ((5, 2, 3), (4, 3), (2, 4), "AddBackward0"),
    ((5, 2, 3), (4, 3), (1,), "ViewBackward0"), ((4, 5, 2, 3), (4, 3), (4,), "ViewBackward0"),
    ((4, 5, 2, 3), (4, 3), None, "UnsafeViewBackward0"),
])
def test_linear_grad_fn_names_follow_torchs_composite(xs, ws, bs, name):
    x = torch.randn(xs, requires_grad=True)
    w = torch.randn(ws, requires_grad=True)
    b = None if bs is None else torch.randn(bs, requires_grad=True)
    y = F.linear(x, w, b)
    assert type(y.grad_fn).__name__ == name
    ref = x.detach().numpy() @ w.detach().numpy().T
    if b is not None:
        ref = ref + b.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-5, atol=1e-6)
    if len(xs) == 3 and bs is not None:     # (non-contiguous: matmul then add_)
        xt = x.detach().transpose(0, 1).contiguous().transpose(0, 1).requires_grad_()
        assert type(F.linear(xt, w, b).grad_fn).__name__ == "AddBackward0" or len(ws) == 1


@pytest.mark.parametrize("xs, ws, bs, words", [
    ((2, 3), (3,), (), "mat2 must be a matrix, got 1-D tensor"),
    ((3,), (3,), (1,), "mat2 must be a matrix, got 1-D tensor"),
    ((5, 2, 3), (3,), (2,), "mat2 must be a matrix, got 1-D tensor"),
    ((), (4, 3), None, "both arguments to linear need to be at least 1D, but they are 0D and 2D"),
    ((3,), (), None, "both arguments to linear need to be at least 1D, but they are 1D and 0D"),
    ((2, 3), (4, 3), (5,), r"The expanded size of the tensor \(4\) must match the existing "
                           r"size \(5\) at non-singleton dimension 1.  Target sizes: \[2, 4\]. "
                           r" Tensor sizes: \[5\]"),
    ((2, 3), (4, 3), (3, 4), r"The expanded size of the tensor \(2\) must match the existing "
                             r"size \(3\) at non-singleton dimension 0.  Target sizes: "
                             r"\[2, 4\].  Tensor sizes: \[3, 4\]"),
])
def test_linear_errors_as_torch(xs, ws, bs, words):
    x, w = torch.ones(xs), torch.ones(ws)
    b = None if bs is None else torch.ones(bs)
    with pytest.raises(RuntimeError, match=words):
        F.linear(x, w, b)
    # (a non-contiguous 3-D input with a 1-D weight and bias: matmul then add_, no error)
    assert F.linear(torch.ones(2, 5, 3).transpose(0, 1), torch.ones(3), torch.ones(2)).shape \
        == (5, 2)


# ------------------------------------------------------------------ 8. nn.functional sweep

@pytest.mark.parametrize("f", [
    lambda x: F.cross_entropy(x, torch.tensor([-100, -100])),
    lambda x: F.cross_entropy(x, torch.tensor([-100, -100]), label_smoothing=0.1),
    lambda x: F.cross_entropy(x, torch.tensor([-100, -100]), weight=torch.ones(3)),
    lambda x: F.nll_loss(x, torch.tensor([-100, -100])),
    lambda x: F.cross_entropy(x.reshape(2, 3, 1), torch.tensor([[-100], [-100]])),
    lambda x: F.nll_loss(x.reshape(2, 3, 1), torch.tensor([[-100], [-100]])),
])
def test_all_targets_ignored_mean_loss_is_nan_with_zero_gradient(f):
    x = torch.ones(2, 3, requires_grad=True)
    loss = f(x)
    loss.backward()
    assert np.isnan(loss.item()) and x.grad.tolist() == [[0.0] * 3] * 2
    # (a zero total weight with a row not ignored: torch's NaN there, 0 elsewhere)
    x = torch.ones(2, 3, requires_grad=True)
    F.cross_entropy(x, torch.tensor([1, -100]), weight=torch.tensor([1., 0, 1])).backward()
    assert np.isnan(x.grad[0]).all() and x.grad[1].tolist() == [0.0] * 3


def test_cosine_similarity_gradient_where_the_norm_is_clamped():
    a = torch.tensor([[1e-5, -2e-5, 3e-5], [0.5, -1.0, 2.0]], requires_grad=True)
    b = torch.tensor([[1.0, 2.0, -0.5], [0.0, 0.0, 0.0]], requires_grad=True)
    c = F.cosine_similarity(a, b, dim=1, eps=1e-3)
    c.backward(torch.tensor([1.0, 0.7]))
    # torch 2.13's values
    np.testing.assert_allclose(c.tolist(), [-0.01963960751891136, 0.0], rtol=1e-5)
    np.testing.assert_allclose(a.grad.tolist(), [[441.68463134765625, 862.3736572265625,
                                                  -202.4711456298828], [0.0, 0.0, 0.0]],
                               rtol=1e-4)
    np.testing.assert_allclose(b.grad.tolist(), [
        [0.008105235174298286, -0.0012469599023461342, 0.01122263353317976],
        [152.7525177001953, -305.5050354003906, 611.0100708007812]], rtol=1e-4)


@pytest.mark.parametrize("f, words", [
    (lambda: F.max_pool2d(torch.ones(1, 2, 9, 9), 2, 2, 2), "pad should be at most half of "
     "effective kernel size, but got pad=2, kernel_size=2 and dilation=1"),
    (lambda: F.max_pool2d(torch.ones(1, 2, 9, 9), 2, 2, 2, return_indices=True),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 "
     "and dilation=1"),
    (lambda: F.avg_pool2d(torch.ones(1, 2, 9, 9), 2, 2, 2), "pad should be at most half of "
     "effective kernel size, but got pad=2, kernel_size=2 and dilation=1"),
    # (within the dilated kernel's half, past the kernel's: the older check's words)
    (lambda: F.max_pool2d(torch.ones(1, 2, 9, 9), 3, 2, 2, dilation=2), "pad should be "
     "smaller than or equal to half of kernel size, but got padW = 2, padH = 2, kW = 3, "
     "kH = 3"),
    (lambda: F.conv2d(torch.ones(1, 4, 6, 6), torch.ones(3, 2, 3, 3), groups=2),
     r"Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight "
     r"of size \[\[3, 2, 3, 3\]\] instead"),
])
def test_pool_and_conv_errors_in_torchs_words(f, words):
    with pytest.raises(RuntimeError, match=words):
        f()


def test_max_pool3d_indices_of_a_batch_of_one_are_contiguous():
    v, i = F.max_pool3d(torch.randn(1, 2, 6, 7, 5), 2, return_indices=True)
    assert i.stride() == (36, 18, 6, 2, 1) and v.stride() == (36, 18, 6, 2, 1)


def test_autograd_grad_refuses_empty_inputs():
    y = (torch.ones(2, requires_grad=True) * 2).sum()
    with pytest.raises(RuntimeError, match="`inputs` argument to `grad\\(\\)` cannot be empty."):
        torch.autograd.grad(y, [])


@pytest.mark.parametrize("f, name", [
    (lambda: F.conv2d(torch.randn(2, 6, 6, requires_grad=True), torch.randn(3, 2, 3, 3)),
     "SqueezeBackward1"),
    (lambda: F.conv1d(torch.randn(2, 6, requires_grad=True), torch.randn(3, 2, 3)),
     "SqueezeBackward1"),
    (lambda: F.conv_transpose2d(torch.randn(2, 4, 4, requires_grad=True),
                                torch.randn(2, 3, 3, 3)), "SqueezeBackward1"),
    (lambda: F.conv2d(torch.randn(1, 2, 6, 6, requires_grad=True), torch.randn(3, 2, 3, 3)),
     "ConvolutionBackward0"),
    (lambda: F.cosine_similarity(torch.randn(3, 4, requires_grad=True), torch.randn(3, 4)),
     "SumBackward1"),
    (lambda: F.kl_div(torch.randn(3, 4, requires_grad=True), torch.rand(3, 4),
                      reduction="none"), "SubBackward0"),
    (lambda: F.kl_div(torch.randn(3, 4, requires_grad=True), torch.randn(3, 4),
                      reduction="none", log_target=True), "MulBackward0"),
    (lambda: F.kl_div(torch.randn(3, 4, requires_grad=True), torch.rand(3, 4)),
     "MeanBackward0"),
    (lambda: F.kl_div(torch.randn(3, 4, requires_grad=True), torch.rand(3, 4),
                      reduction="sum"), "SumBackward0"),
    (lambda: F.cross_entropy(torch.randn(4, 5, requires_grad=True), torch.tensor([1, 2, 3, 0]),
                             label_smoothing=0.2, reduction="none"), "AddBackward0"),
    (lambda: F.cross_entropy(torch.randn(3, 4, requires_grad=True), torch.rand(3, 4)),
     "DivBackward1"),
    (lambda: F.cross_entropy(torch.randn(3, 4, requires_grad=True), torch.rand(3, 4),
                             reduction="sum"), "NegBackward0"),
    (lambda: F.cross_entropy(torch.randn(2, 5, 3, requires_grad=True),
                             torch.tensor([[1, 2, 0], [4, 1, 0]]), reduction="none"),
     "ViewBackward0"),
    (lambda: F.cross_entropy(torch.randn(2, 5, 3, 2, requires_grad=True),
                             torch.zeros(2, 3, 2, dtype=torch.int64), reduction="none"),
     "NllLoss2DBackward0"),
    (lambda: F.pad(torch.randn(2, 3, 6, requires_grad=True), (2, 3), mode="circular"),
     "CopySlices"),
    (lambda: F.max_pool1d(torch.randn(2, 3, 10, requires_grad=True), 3, 2, 1,
                          return_indices=True)[0], "SqueezeBackward1"),
    (lambda: F.adaptive_max_pool1d(torch.randn(2, 3, 10, requires_grad=True), 4,
                                   return_indices=True)[0], "SqueezeBackward1"),
])
def test_grad_fn_names_of_torchs_composites(f, name):
    assert type(f().grad_fn).__name__ == name


# ------------------------------------------------------------------ 9. float16 losses

_H_A = (np.sin(np.arange(24) * 1.3) * 3).astype(np.float16)
_H_B = (np.cos(np.arange(24) * 0.7) * 3).astype(np.float16)
_H_P = ((np.sin(np.arange(24) * 2.1) + 1.05) / 2.2).astype(np.float16)
_H_Q = ((np.cos(np.arange(24) * 0.4) + 1) / 2).astype(np.float16)
# torch 2.13's float16 results, as bits (CPU)
_MSE_BITS = [18560, 13742, 15437, 13517, 10217, 18934, 19710, 12561, 19914, 20220, 15362,
             17984, 17171, 6802, 15265, 18754, 17598, 18228, 20593, 18964, 17164, 19498,
             17207, 10869]
_MSE_MEAN_BITS = 18473
_SL1_BITS = [16717, 13326, 14719, 13019, 9638, 16949, 17438, 12092, 17526, 17647, 14645,
             16461, 15904, 6321, 14595, 16841, 16208, 16555, 17820, 16966, 15900, 17271,
             15922, 10396]
_KL_BITS = [46502, 49477, 46404, 14641, 16471, 46063, 48973, 48032, 41104, 14942, 48346,
            46674, 47121, 16509, 43936, 48413, 49411, 45300, 15575, 15196, 46321, 48797,
            14663, 8256]
_BCE_BITS = [14827, 13023, 16458, 14755, 15466, 14959, 14710, 16309, 11532, 14732, 16012,
             15293, 14729, 14595, 16593, 14672, 12652, 16679, 14677, 14956, 15599, 14802,
             16051, 11789]


def test_float16_losses_round_as_torchs_half_kernels():
    a, b, p, q = (torch.from_numpy(v) for v in (_H_A, _H_B, _H_P, _H_Q))

    def bits(t):
        assert t.dtype is torch.float16
        return t.numpy().view(np.uint16).tolist()
    assert bits(F.mse_loss(a, b, reduction="none")) == _MSE_BITS
    assert bits(F.mse_loss(a, b)) == _MSE_MEAN_BITS
    assert bits(F.smooth_l1_loss(a, b, reduction="none", beta=0.7)) == _SL1_BITS
    assert bits(F.kl_div(a, p, reduction="none")) == _KL_BITS
    assert bits(F.binary_cross_entropy(p, q, reduction="none")) == _BCE_BITS


def test_binary_cross_entropy_refuses_targets_outside_0_1():
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([1.5]))


# ------------------------------------------------------------------ 10. dtype refusals

@pytest.mark.parametrize("f, words", [
    (lambda x: F.gelu(x), "\"GeluKernelImpl\" not implemented for 'Long'"),
    (lambda x: F.elu(x), "\"elu_cpu\" not implemented for 'Long'"),
    (lambda x: F.selu(x), "\"elu_cpu\" not implemented for 'Long'"),
    (lambda x: F.celu(x), "\"elu_cpu\" not implemented for 'Long'"),
    (lambda x: F.silu(x), "\"silu_cpu\" not implemented for 'Long'"),
    (lambda x: F.mish(x), "\"mish_cpu\" not implemented for 'Long'"),
    (lambda x: F.hardswish(x), "\"hardswish_cpu\" not implemented for 'Long'"),
    (lambda x: F.hardsigmoid(x), "\"hardsigmoid_cpu\" not implemented for 'Long'"),
    (lambda x: F.leaky_relu(x), "\"leaky_relu_cpu\" not implemented for 'Long'"),
    (lambda x: F.softplus(x), "\"softplus_cpu\" not implemented for 'Long'"),
    (lambda x: F.layer_norm(x, (4,)), "\"LayerNormKernelImpl\" not implemented for 'Long'"),
    (lambda x: F.group_norm(x, 1), "\"GroupNormKernelImpl\" not implemented for 'Long'"),
    (lambda x: F.mse_loss(x, x), "\"mse_cpu\" not implemented for 'Long'"),
    (lambda x: F.smooth_l1_loss(x, x), "\"smooth_l1_cpu\" not implemented for 'Long'"),
    (lambda x: F.huber_loss(x, x), "\"huber_cpu\" not implemented for 'Long'"),
    (lambda x: F.binary_cross_entropy_with_logits(x, x),
     "\"log_sigmoid_cpu\" not implemented for 'Long'"),
    (lambda x: F.threshold(x.bool(), 0.5, 0.0), "\"threshold_cpu\" not implemented for 'Bool'"),
    (lambda x: F.softsign(x.bool()), "\"abs_cpu\" not implemented for 'Bool'"),
])
def test_dtype_refusals_name_torchs_kernels(f, words):
    with pytest.raises(NotImplementedError) as e:
        f(torch.ones(1, 2, 4, dtype=torch.int64))
    assert str(e.value) == words


def test_relu_and_hardtanh_refuse_bool_in_torchs_words():
    b = torch.ones(3, dtype=torch.bool)
    for f, words in ((F.relu, "Boolean inputs not supported for relu"),
                     (F.hardtanh, "Bool inputs not supported for hardtanh"),
                     (F.relu6, "Bool inputs not supported for hardtanh"),
                     (torch.relu_, "Boolean inputs not supported for relu")):
        with pytest.raises(RuntimeError) as e:
            f(b)
        assert str(e.value) == words


def test_kl_div_and_max_pool1d_refuse_integers_as_torch():
    i = torch.ones(1, 2, 4, dtype=torch.int64)
    with pytest.raises(RuntimeError, match="kl_div: Integral inputs not supported."):
        F.kl_div(i, i)
    with pytest.raises(RuntimeError, match="kl_div: Integral inputs not supported."):
        F.kl_div(torch.ones(3), torch.ones(3, dtype=torch.bool))
    with pytest.raises(NotImplementedError, match="\"max_pool1d_impl\" not implemented for 'Int'"):
        F.max_pool1d(i.int(), 2)
    # (its indices path takes integers, as torch's)
    v, idx = F.max_pool1d(torch.arange(6).reshape(1, 1, 6), 2, return_indices=True)
    assert v.tolist() == [[[1, 3, 5]]] and idx.tolist() == [[[1, 3, 5]]]


def test_l1_loss_of_integers_as_torchs_composite():
    a, b = torch.tensor([1, 5, -2]), torch.tensor([3, 1, -2])
    r = F.l1_loss(a.int(), b.int(), reduction="none")
    assert r.tolist() == [2, 4, 0] and r.dtype is torch.int32
    r = F.l1_loss(a.int(), b.int(), reduction="sum")
    assert r.tolist() == 6 and r.dtype is torch.int64
    r = F.l1_loss(a.to(torch.uint8), b.to(torch.uint8), reduction="none")
    assert r.tolist() == [254, 4, 0] and r.dtype is torch.uint8
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype. Input "
                                           r"dtype must be either a floating point or "
                                           r"complex dtype. Got: Int"):
        F.l1_loss(a.int(), b.int())
    with pytest.raises(RuntimeError, match="with two bool tensors is not supported"):
        F.l1_loss(a.bool(), b.bool(), reduction="sum")
    with pytest.raises(RuntimeError, match="with a bool tensor is not supported. If you are "
                                           "trying to invert a mask"):
        F.l1_loss(a.bool(), b, reduction="none")
