"""Session 36 (c36): eager tensor and nn fidelity against PyTorch 2.13.

Finds, minimised, with torch 2.13's behaviour (expected values written out: no torch here):

1. torch.inference_mode made no inference tensors: `x.is_inference()` was always False and
   inference_mode was only no_grad. torch: ops inside the mode make inference tensors
   (views of normal tensors stay normal; views and detach() of inference tensors are
   inference tensors; torch.tensor / from_numpy / load too); outside it, an in-place op on
   one raises "Inplace update to inference tensor outside InferenceMode is not allowed..."
   (before writing), `requires_grad_()` raises "Setting requires_grad=True on inference
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
    assert a.tolist() == [1.0, 1.0, 1.0]        # nothing written
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
