"""__torch_function__ for gpujit's Python-level functions (session 44): F.mse_loss,
F.normalize, torch.split, torch.einsum ... are entry points of the protocol, as PyTorch's
(`if has_torch_function(...): return handle_torch_function(<function>, ...)`): a handler
sees one call with the public function as func, not the ops inside. Compared with torch
2.13 when it is installed, and with hand-written expectations."""
import gc
import re
import warnings

import pytest

import gpujit


def _desc(torch, v):
    if isinstance(v, torch.Tensor):
        return "T"
    if isinstance(v, (list, tuple)):
        return type(v)(_desc(torch, a) for a in v)
    if isinstance(v, torch.dtype):
        return str(v).split(".")[-1]
    return v


def _logging_class(torch, log):
    class LoggingTensor(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append((func.__name__, _desc(torch, args),
                        {k: _desc(torch, v) for k, v in sorted((kwargs or {}).items())}))
            return super().__torch_function__(func, types, args, kwargs)
    return LoggingTensor


def _function_calls(torch):
    F = torch.nn.functional
    log = []
    L = _logging_class(torch, log)
    torch.manual_seed(0)
    x = torch.randn(4, 3).as_subclass(L)
    y = torch.randn(4, 3)
    calls = [
        lambda: F.mse_loss(x, y), lambda: F.mse_loss(x, target=y, reduction="sum"),
        lambda: F.cross_entropy(x, torch.tensor([0, 1, 2, 0]), label_smoothing=0.1),
        lambda: F.nll_loss(x, torch.tensor([0, 1, 2, 0])), lambda: F.normalize(x, dim=0),
        lambda: F.interpolate(x.unsqueeze(0), scale_factor=2.0, mode="linear"),
        lambda: F.pad(x, (1, 1), value=2.0), lambda: F.softmax(x, 1, dtype=torch.float64),
        lambda: F.log_softmax(x, -1), lambda: F.dropout(x, 0.5, training=False),
        lambda: F.relu(x), lambda: F.gumbel_softmax(x, tau=0.5),
        lambda: F.embedding(torch.tensor([0, 1]), x),
        lambda: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
        lambda: F.smooth_l1_loss(x, y, beta=0.5), lambda: F.kl_div(x, y, reduction="batchmean"),
        lambda: torch.split(x, [1, 3]), lambda: torch.einsum("ij,ij->i", x, y),
        lambda: torch.einsum("ij,ij->i", [x, y]), lambda: torch.einsum(x, [0, 1], y, [0, 1], [0]),
        lambda: torch.broadcast_tensors(x, y), lambda: torch.meshgrid(y[0], x[0], indexing="xy"),
        lambda: torch.norm(x, p=1, dim=1), lambda: torch.tensordot(x, y.t(), dims=1),
        lambda: torch.unique(x, sorted=True, return_counts=True),
        lambda: torch.stft(x.reshape(-1), 4, window=torch.hann_window(4), return_complex=False),
        lambda: torch.block_diag(x, y), lambda: torch.cartesian_prod(x[0], y[0]),
        lambda: torch.atleast_2d(y[0], x[0])]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for c in calls:
            del log[:]
            r = c()
            kinds = ([type(t).__name__ for t in r] if isinstance(r, (tuple, list))
                     else type(r).__name__)
            out.append((list(log), kinds))
    return out


T = ("T",)
_EXPECTED = [
    ([("mse_loss", ("T", "T"), {"reduce": None, "reduction": "mean", "size_average": None,
                                "weight": None})], "LoggingTensor"),
    ([("mse_loss", ("T", "T"), {"reduce": None, "reduction": "sum", "size_average": None,
                                "weight": None})], "LoggingTensor"),
    ([("cross_entropy", ("T", "T"), {"ignore_index": -100, "label_smoothing": 0.1,
                                     "reduce": None, "reduction": "mean",
                                     "size_average": None, "weight": None})], "LoggingTensor"),
    ([("nll_loss", ("T", "T"), {"ignore_index": -100, "reduce": None, "reduction": "mean",
                                "size_average": None, "weight": None})], "LoggingTensor"),
    ([("normalize", T, {"dim": 0, "eps": 1e-12, "out": None, "p": 2.0})], "LoggingTensor"),
    ([("unsqueeze", ("T", 0), {}),
      ("interpolate", T, {"align_corners": None, "antialias": False, "mode": "linear",
                          "recompute_scale_factor": None, "scale_factor": 2.0,
                          "size": None})], "LoggingTensor"),
    ([("pad", ("T", (1, 1)), {"mode": "constant", "value": 2.0})], "LoggingTensor"),
    ([("softmax", T, {"_stacklevel": 3, "dim": 1, "dtype": "float64"})], "LoggingTensor"),
    ([("log_softmax", T, {"_stacklevel": 3, "dim": -1, "dtype": None})], "LoggingTensor"),
    ([("dropout", T, {"inplace": False, "p": 0.5, "training": False})], "LoggingTensor"),
    ([("relu", T, {"inplace": False})], "LoggingTensor"),
    ([("gumbel_softmax", T, {"dim": -1, "eps": 1e-10, "hard": False, "tau": 0.5})],
     "LoggingTensor"),
    ([("embedding", ("T", "T"), {"max_norm": None, "norm_type": 2.0, "padding_idx": None,
                                 "scale_grad_by_freq": False, "sparse": False})],
     "LoggingTensor"),
    ([("binary_cross_entropy_with_logits", ("T", "T"),
       {"pos_weight": None, "reduce": None, "reduction": "mean", "size_average": None,
        "weight": None})], "LoggingTensor"),
    ([("smooth_l1_loss", ("T", "T"), {"beta": 0.5, "reduce": None, "reduction": "mean",
                                      "size_average": None})], "LoggingTensor"),
    ([("kl_div", ("T", "T"), {"log_target": False, "reduce": None,
                              "reduction": "batchmean", "size_average": None})],
     "LoggingTensor"),
    ([("split", ("T", [1, 3]), {"dim": 0})], ["LoggingTensor", "LoggingTensor"]),
    ([("einsum", ("ij,ij->i", "T", "T"), {})], "LoggingTensor"),
    ([("einsum", ("ij,ij->i", "T", "T"), {})], "LoggingTensor"),
    ([("einsum", ("AB,AB->A", "T", "T"), {})], "LoggingTensor"),
    ([("broadcast_tensors", ("T", "T"), {})], ["LoggingTensor", "LoggingTensor"]),
    ([("__getitem__", ("T", 0), {}),
      ("meshgrid", ("T", "T"), {"indexing": "xy"})], ["LoggingTensor", "LoggingTensor"]),
    ([("norm", T, {"dim": 1, "dtype": None, "keepdim": False, "out": None, "p": 1})],
     "LoggingTensor"),
    ([("tensordot", ("T", "T"), {"dims": 1, "out": None})],
     "LoggingTensor"),
    ([("unique", T, {"dim": None, "return_counts": True, "return_inverse": False,
                     "sorted": True})], ["LoggingTensor", "LoggingTensor"]),
    ([("reshape", ("T", -1), {}),
      ("stft", ("T", 4), {"center": True, "hop_length": None, "normalized": False,
                          "onesided": None, "pad_mode": "reflect", "return_complex": False,
                          "win_length": None, "window": "T"})], "LoggingTensor"),
    ([("block_diag", ("T", "T"), {})], "LoggingTensor"),
    ([("__getitem__", ("T", 0), {}), ("cartesian_prod", ("T", "T"), {})], "LoggingTensor"),
    ([("__getitem__", ("T", 0), {}), ("atleast_2d", ("T", "T"), {})],
     ["LoggingTensor", "LoggingTensor"]),
]


def test_python_level_functions_are_seen_once():
    got = _function_calls(gpujit)
    assert len(got) == len(_EXPECTED)
    for g, e in zip(got, _EXPECTED):
        assert g == e


# torch's own spelling of the handler's args differs from gpujit's (required parameters
# positionally, the others by keyword) where torch's function is C++ (the call as the user
# spelled it: none of those above) or passes its own selection (stft's align_to_window,
# which gpujit has not)
def test_python_level_functions_match_torch():
    torch = pytest.importorskip("torch")
    want, got = _function_calls(torch), _function_calls(gpujit)
    for w, g in zip(want, got):
        if w[0] and w[0][-1][0] == "stft":
            w[0][-1][2].pop("align_to_window")
        assert g == w


def test_handler_gets_the_public_function_and_can_replace_it():
    F = gpujit.nn.functional
    seen = []

    class Intercept(gpujit.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func)
            if func is F.mse_loss:
                return "replaced"
            return super().__torch_function__(func, types, args, kwargs)

    x = gpujit.ones(3).as_subclass(Intercept)
    assert F.mse_loss(x, gpujit.zeros(3)) == "replaced"
    assert F.mse_loss(gpujit.zeros(3), target=x) == "replaced"
    r = gpujit.split(x, 2)
    assert seen[-1] is gpujit.split and [type(t) for t in r] == [Intercept, Intercept]
    r = F.l1_loss(x, gpujit.zeros(3))
    assert seen[-1] is F.l1_loss and r.item() == 1.0


def test_the_check_is_swapped_in_only_while_a_subclass_exists():
    from gpujit.ops.registry import dispatch_state
    F = gpujit.nn.functional
    gc.collect()
    assert dispatch_state.torch_function is None        # (no such subclass left)
    code = F.mse_loss.__code__

    def make():
        class Temp(gpujit.Tensor):
            pass
        assert F.mse_loss.__code__ is not code          # the same function, with the check
        assert F.mse_loss.__code__.co_firstlineno == code.co_firstlineno
        return type(F.mse_loss(gpujit.ones(2).as_subclass(Temp), gpujit.ones(2))).__name__

    assert make() == "Temp"
    gc.collect()
    assert F.mse_loss.__code__ is code


def test_warnings_keep_pointing_at_the_callers_line():
    # the check adds no frame: a stacklevel-based warning of a routed function called on
    # plain tensors still names the user's line while a subclass exists
    F = gpujit.nn.functional

    class Keep(gpujit.Tensor):
        pass

    x = gpujit.ones(2, 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        F.softmax(x); line = __import__("sys")._getframe().f_lineno  # noqa: E702
    assert Keep is not None
    assert [(a.filename, a.lineno) for a in w] == [(__file__, line)]
    assert "Implicit dimension choice for softmax" in str(w[0].message)


def test_a_handler_error_and_disabled_protocol():
    F = gpujit.nn.functional

    class Never(gpujit.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    x = gpujit.ones(3).as_subclass(Never)
    # (a Python-level function's words, as torch's handle_torch_function)
    with pytest.raises(TypeError, match=r"^no implementation found for 'torch.nn.functional"
                       r".normalize' on types that implement __torch_function__: \[<class "
                       r"'.*Never'>\]$"):
        F.normalize(x, dim=0)
    with pytest.raises(TypeError, match=r"Multiple dispatch failed for '.*neg'; all "
                       r"__torch_function__ handlers returned NotImplemented:\n\n  - tensor "
                       r"subclass <class '.*Never'>\n\nFor more information, try re-running "
                       r"with TORCH_LOGS=not_implemented$"):
        gpujit.neg(x)
    with gpujit._C.DisableTorchFunctionSubclass():
        r = F.normalize(x, dim=0)
    assert type(r) is gpujit.Tensor and abs(r.sum().item() - 3 ** 0.5) < 1e-6


def _training_step(torch):
    nn, F = torch.nn, torch.nn.functional
    log = []

    class LoggingTensor(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.1), nn.Linear(4, 2),
                          nn.LayerNorm(2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(5, 3).as_subclass(LoggingTensor)
    y = torch.tensor([0, 1, 0, 1, 1])
    out = []
    opt.zero_grad()
    r = model(x)
    loss = F.cross_entropy(r, y)
    out.append(list(log))
    del log[:]
    loss.backward()
    opt.step()
    out.append(list(log))
    del log[:]
    out.append((type(r).__name__, type(loss).__name__,
                [type(p.grad).__name__ for p in model.parameters()][:2]))
    # module code is seen (BatchNorm1d's input.dim(), nn.Flatten's input.flatten)
    m2 = nn.Sequential(nn.Conv1d(2, 3, 2), nn.BatchNorm1d(3), nn.GELU(), nn.Flatten(),
                       nn.Linear(6, 2))
    r2 = m2(torch.randn(4, 2, 3).as_subclass(LoggingTensor))
    r2.sum().backward()
    nn.MSELoss()(r2, torch.zeros(4, 2))
    out.append(list(log))
    return out


def test_training_step_logs_as_torch():
    assert _training_step(gpujit) == [
        ["linear", "relu", "dropout", "linear", "layer_norm", "cross_entropy"],
        ["backward"], ("LoggingTensor", "LoggingTensor", ["Tensor", "Tensor"]),
        ["conv1d", "dim", "dim", "batch_norm", "gelu", "flatten", "linear", "sum", "backward",
         "mse_loss"]]


def test_training_step_logs_match_torch():
    torch = pytest.importorskip("torch")
    assert _training_step(gpujit) == _training_step(torch)


def test_tensor_method_names_are_their_public_names():
    # x.split / x.flatten / x.unique ... were _split_method, flatten_method, _unique_method:
    # a handler logging func.__name__ saw those
    T = gpujit.Tensor
    for name in ("split", "flatten", "unique", "unique_consecutive", "where", "nonzero",
                 "sum_to_size", "polygamma", "is_inference", "storage", "to_dense"):
        f = getattr(T, name)
        assert (f.__name__, f.__qualname__) == (name, "Tensor." + name)
    assert T.absolute is T.abs and T.abs.__name__ == "abs"      # (an alias keeps its name)


def _mode_program(torch):
    F = torch.nn.functional
    TorchFunctionMode = torch.overrides.TorchFunctionMode
    log = []

    class M(TorchFunctionMode):
        def __init__(self, tag="M"):
            super().__init__()
            self.tag = tag

        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append((self.tag, func.__name__, [t.__name__ for t in types]))
            return func(*args, **(kwargs or {}))

    class NI(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return NotImplemented

    x, y = torch.ones(2, 3), torch.zeros(2, 3)

    class S(torch.Tensor):
        pass

    s = torch.ones(3).as_subclass(S)
    out = []
    calls = [lambda: x.add(1), lambda: x + y, lambda: torch.add(x, y), lambda: x.shape,
             lambda: F.mse_loss(x, y), lambda: F.normalize(x), lambda: torch.split(x, 1),
             lambda: x.sum().item(), lambda: len(x), lambda: x[0], lambda: F.relu(x),
             lambda: torch.einsum("ij,ij->i", x, y),
             lambda: (s + 1, F.relu(s), torch.add(s, x[0]))]
    for c in calls:
        del log[:]
        with M():
            r = c()
        out.append((list(log), [type(t).__name__ for t in r] if isinstance(r, tuple)
                    and isinstance(r[0], torch.Tensor) else None))
    del log[:]
    with M("outer"), M("inner"):
        F.mse_loss(x, y)
        x.add(1)
    m = M("same")
    with m:
        with m:
            x.mul(2)
    with M("off"):
        with torch._C.DisableTorchFunctionSubclass():
            x.add(1)
        with torch._C.DisableTorchFunction():
            x.add(2)
    out.append(list(log))
    for c in (lambda: torch.add(x, 1), lambda: F.mse_loss(x, y)):
        try:
            with NI():
                c()
        except TypeError as e:
            out.append(re.sub(r"<\S+ object at 0x[0-9a-f]+>", "<NI>", str(e)))
    with torch.overrides.BaseTorchFunctionMode():
        out.append(type(x.add(1)).__name__)
    try:
        with TorchFunctionMode():
            x.add(1)
    except NotImplementedError:
        out.append("NotImplementedError")
    with M() as mm:
        out.append((torch.overrides._get_current_function_mode() is mm,
                    len(torch.overrides._get_current_function_mode_stack()),
                    torch.overrides.has_torch_function((1,)),
                    torch.overrides.has_torch_function_unary(x)))
    out.append((torch.overrides._get_current_function_mode(),
                torch.overrides.has_torch_function((x,))))
    try:
        with torch.overrides.enable_reentrant_dispatch():
            pass
    except RuntimeError as e:
        out.append(str(e))
    return out


_MODE_EXPECTED = [
    ([("M", "add", [])], None), ([("M", "add", [])], None), ([("M", "add", [])], None),
    ([("M", "__get__", [])], None), ([("M", "mse_loss", ["Tensor"])], None),
    ([("M", "normalize", ["Tensor"])], None), ([("M", "split", ["Tensor"])], ["Tensor", "Tensor"]),
    ([("M", "sum", []), ("M", "item", [])], None), ([("M", "__len__", [])], None),
    ([("M", "__getitem__", [])], None), ([("M", "relu", ["Tensor"])], None),
    ([("M", "einsum", ["Tensor"])], None),
    ([("M", "add", ["S"]), ("M", "relu", ["S"]), ("M", "__getitem__", []),
      ("M", "add", ["S"])], ["S", "S", "S"]),
    [("inner", "mse_loss", ["Tensor"]), ("outer", "mse_loss", ["Tensor"]), ("inner", "add", []),
     ("outer", "add", []), ("same", "mul", []), ("same", "mul", []), ("off", "add", [])],
    "Multiple dispatch failed for 'torch.add'; all __torch_function__ handlers returned "
    "NotImplemented:\n\n  - mode object <NI>\n\nFor more information, try re-running "
    "with TORCH_LOGS=not_implemented",
    "no implementation found for 'torch.nn.functional.mse_loss' on types that implement "
    "__torch_function__: [] nor in mode <NI>",
    "Tensor", "NotImplementedError", (True, 1, True, True), (None, False),
    "Accessing torch dispatch state outside of '__torch_dispatch__' is not allowed."]


def test_torch_function_modes():
    got = _mode_program(gpujit)
    for i, (g, e) in enumerate(zip(got, _MODE_EXPECTED)):
        assert (i, g) == (i, e)
    assert len(got) == len(_MODE_EXPECTED)


def _no_plain_types(out):
    # (a Python-level function's types hold plain Tensors, in both; torch's Tensor
    # methods that take no argument (x.item(), len(x)) and properties (x.shape) too,
    # gpujit's not: compared without them)
    def clean(calls):
        return [(a, b, [t for t in c if t != "Tensor"]) for a, b, c in calls]
    return [(clean(o[0]), o[1]) if isinstance(o, tuple) and len(o) == 2
            and isinstance(o[0], list) else clean(o) if isinstance(o, list) else o
            for o in out]


def test_torch_function_modes_match_torch():
    torch = pytest.importorskip("torch")
    assert _no_plain_types(_mode_program(gpujit)) == _no_plain_types(_mode_program(torch))
    got, want = _mode_program(gpujit), _mode_program(torch)
    assert [got[i] for i in (4, 5, 6, 10, 11)] == [want[i] for i in (4, 5, 6, 10, 11)]


def test_a_mode_leaves_tensor_as_it_was():
    from gpujit.ops.registry import dispatch_state
    T = gpujit.Tensor
    gc.collect()
    before = {n: T.__dict__.get(n) for n in ("add", "tolist", "shape", "__getitem__", "sum")}
    seen = []

    class M(gpujit.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    x = gpujit.ones(2)
    with M():
        assert T.add is not before["add"]       # (entry points on Tensor itself)
        x.add(1)
        x.shape
        r = x.tolist()
    # (func stands for the method: equal, same hash, after the mode too)
    assert seen[0] == gpujit.Tensor.add and seen[2] == gpujit.Tensor.tolist and r == [1.0, 1.0]
    assert {gpujit.Tensor.add: 1}.get(seen[0]) == 1 and seen[0].__name__ == "add"
    assert {n: T.__dict__.get(n) for n in before} == before
    gc.collect()
    assert dispatch_state.torch_function is None

    # another thread's calls are not seen
    import threading
    del seen[:]
    with M():
        t = threading.Thread(target=lambda: x.add(1))
        t.start()
        t.join()
    assert seen == []


def _init_and_grad_mode_program(torch):
    log = []

    class M(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append(func.__name__)
            return func(*args, **(kwargs or {}))

    init = torch.nn.init
    w = torch.empty(4, 4)
    out = []
    for f, a in ((init.uniform_, ()), (init.normal_, ()), (init.constant_, (0.5,)),
                 (init.kaiming_uniform_, ())):
        del log[:]
        with M():
            r = f(w, *a)
        out.append((list(log), r is w))
    del log[:]
    with M():
        with torch.no_grad():
            out.append(torch.is_grad_enabled())
        with torch.enable_grad():
            pass
        torch.set_grad_enabled(False)
        out.append(torch.is_grad_enabled())
        torch.set_grad_enabled(True)
        with torch.inference_mode():
            pass
    out.append((list(log), torch.is_grad_enabled()))
    return out


def test_nn_init_and_grad_mode_switches_under_a_mode():
    # torch.nn.init's uniform_ / normal_ / constant_ / kaiming_uniform_ are entry points
    # (its other functions are library code); no_grad / enable_grad / set_grad_enabled
    # go through torch._C._set_grad_enabled, which a mode sees
    assert _init_and_grad_mode_program(gpujit) == [
        (["uniform_"], True), (["normal_"], True), (["constant_"], True),
        (["kaiming_uniform_"], True), False, False, (["_set_grad_enabled"] * 6, True)]


def test_nn_init_and_grad_mode_switches_match_torch():
    torch = pytest.importorskip("torch")
    assert _init_and_grad_mode_program(gpujit) == _init_and_grad_mode_program(torch)


def _overrides_api(torch):
    O, F = torch.overrides, torch.nn.functional
    d = O.get_overridable_functions()
    ign = O.get_ignored_functions()
    return [O.resolve_name(torch.add), O.resolve_name(torch.Tensor.add),
            O.resolve_name(torch.Tensor.__add__), O.resolve_name(F.mse_loss),
            O.resolve_name(torch.Tensor.shape.__get__), O.resolve_name(torch.linalg.norm),
            O.resolve_name(print),
            torch.add in d[torch], F.mse_loss in d[F], torch.linalg.norm in d[torch.linalg],
            torch.Tensor.add in d[torch.Tensor], torch.Tensor.__add__ in d[torch.Tensor],
            d[torch.Tensor.shape] == [torch.Tensor.shape.__get__], torch.zeros in d[torch],
            O.is_tensor_method_or_property(torch.Tensor.add),
            O.is_tensor_method_or_property(torch.Tensor.shape.__get__),
            O.is_tensor_method_or_property(torch.add),
            torch.zeros in ign, torch.Tensor.new_zeros in ign, F.sigmoid in ign,
            torch.add in ign, F.mse_loss in ign]


def test_overrides_listing_functions():
    assert _overrides_api(gpujit) == [
        "torch.add", "torch.Tensor.add", "torch.Tensor.__add__", "torch.nn.functional.mse_loss",
        "torch.Tensor.shape.__get__", "torch.linalg.norm", None,
        True, True, True, True, True, True, False, True, True, False,
        True, True, True, False, False]


def test_overrides_listing_functions_match_torch():
    torch = pytest.importorskip("torch")
    assert _overrides_api(gpujit) == _overrides_api(torch)


def _types_program(torch):
    F = torch.nn.functional
    log = []

    class S(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append((func.__name__, [t.__name__ for t in types]))
            return super().__torch_function__(func, types, args, kwargs)

    class Never(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    s, p = torch.ones(3).as_subclass(S), torch.ones(3)
    F.mse_loss(s, p)
    F.mse_loss(p, s)
    torch.add(s, p)
    torch.split(s, 1)
    len(s)
    torch.stack([s, p])
    torch.einsum("i,i->", s, p)
    torch.broadcast_tensors(s, p)
    out = [log]
    try:
        F.mse_loss(torch.ones(3).as_subclass(Never), p)
    except TypeError as e:
        out.append(re.sub(r"<class '[^']*\.(\w+)'>", r"\1", str(e)))
    return out


def test_python_level_functions_list_plain_tensors_in_types():
    # torch's handle_torch_function lists a plain Tensor argument's type after the
    # subclasses (and asks Tensor's default handler too); its C++ functions do not
    assert _types_program(gpujit) == [
        [("mse_loss", ["S", "Tensor"]), ("mse_loss", ["S", "Tensor"]), ("add", ["S"]),
         ("split", ["S"]), ("__len__", ["S"]), ("stack", ["S"]), ("einsum", ["S", "Tensor"]),
         ("broadcast_tensors", ["S", "Tensor"])],
        "no implementation found for 'torch.nn.functional.mse_loss' on types that implement "
        "__torch_function__: [Never, Tensor]"]


def test_python_level_functions_list_plain_tensors_in_types_match_torch():
    torch = pytest.importorskip("torch")
    assert _types_program(gpujit) == _types_program(torch)


def _scalar_tensor_program(torch):
    # the torch.overrides docs' "Extending torch with a Tensor-like type"
    import functools
    HANDLED_FUNCTIONS = {}

    class ScalarTensor(object):
        def __init__(self, N, value):
            self._N, self._value = N, value

        def __repr__(self):
            return "ScalarTensor(N={}, value={})".format(self._N, self._value)

        def tensor(self):
            return self._value * torch.eye(self._N)

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if kwargs is None:
                kwargs = {}
            if func not in HANDLED_FUNCTIONS or not all(
                    issubclass(t, (torch.Tensor, ScalarTensor)) for t in types):
                return NotImplemented
            return HANDLED_FUNCTIONS[func](*args, **kwargs)

    def implements(torch_function):
        def decorator(func):
            functools.update_wrapper(func, torch_function)
            HANDLED_FUNCTIONS[torch_function] = func
            return func
        return decorator

    @implements(torch.mean)
    def mean(input):
        return float(input._value) / input._N

    @implements(torch.add)
    def add(input, other):
        if isinstance(input, ScalarTensor) and isinstance(other, ScalarTensor):
            return ScalarTensor(input._N, input._value + other._value)
        return input.tensor() + other

    d = ScalarTensor(5, 2)
    out = [torch.mean(d), repr(torch.add(d, d)), torch.add(d, torch.ones(5, 5)).sum().item(),
           torch.overrides.is_tensor_like(d)]
    for f in (lambda: torch.sum(d), lambda: torch.nn.functional.mse_loss(d, d),
              lambda: torch.cat([d, d])):
        try:
            f()
        except TypeError as e:
            out.append(str(e).split(";")[0].split(" on types")[0])
    return out


def test_a_tensor_like_type():
    # a type that is no Tensor but has __torch_function__ gets gpujit's op calls (they
    # were refused: "mean(): argument 'input' (position 1) must be Tensor, not ScalarTensor")
    assert _scalar_tensor_program(gpujit) == [
        0.4, "ScalarTensor(N=5, value=4)", 35.0, True,
        "Multiple dispatch failed for 'torch.sum'",
        "no implementation found for 'torch.nn.functional.mse_loss'",
        "Multiple dispatch failed for 'torch.cat'"]


def test_a_tensor_like_type_matches_torch():
    torch = pytest.importorskip("torch")
    assert _scalar_tensor_program(gpujit) == _scalar_tensor_program(torch)


def test_testing_overrides():
    import inspect
    F = gpujit.nn.functional
    t = gpujit.overrides.get_testing_overrides()
    assert len(t) > 1000
    assert t[F.mse_loss](1, 2) == -1 and t[gpujit.add](1, 2) == -1
    assert t[gpujit.Tensor.shape.__get__](1) == -1 and t[gpujit.Tensor.add](1, 2) == -1
    assert str(inspect.signature(t[F.mse_loss])) == \
        "(input, target, size_average=None, reduce=None, reduction='mean', weight=None)"
    assert str(inspect.signature(t[gpujit.split])) == "(tensor, split_size_or_sections, dim=0)"
    with pytest.raises(TypeError):
        t[F.mse_loss](1)                    # (a real signature: a missing argument fails)
    torch = pytest.importorskip("torch")
    want = torch.overrides.get_testing_overrides()
    for g, w in ((F.mse_loss, torch.nn.functional.mse_loss), (gpujit.split, torch.split),
                 (F.normalize, torch.nn.functional.normalize)):
        assert inspect.signature(t[g]) == inspect.signature(want[w])


def _data_program(torch):
    log = []

    class M(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append(func.__name__)
            return func(*args, **(kwargs or {}))

    class L(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append("L." + func.__name__)
            return super().__torch_function__(func, types, args, kwargs)

    x, out = torch.ones(2), []
    calls = (lambda v: torch.tensor(v), lambda v: torch.as_tensor(v),
             lambda v: torch.asarray(v), lambda v: torch.is_tensor(v),
             lambda v: torch.from_numpy(v.numpy()), lambda v: torch.nn.functional.tanh(v))
    for c in calls:
        del log[:]
        with M():
            c(x)
        r = c(x.as_subclass(L))
        out.append((list(log), type(r).__name__))
    return out


def test_data_functions_are_seen_by_modes_only():
    # torch.tensor(x) / as_tensor / asarray: a mode sees the call, a subclass argument's
    # handler does not (it saw x.clone() inside torch.tensor); from_numpy: neither
    assert _data_program(gpujit) == [
        (["tensor"], "Tensor"), (["as_tensor"], "L"), (["asarray"], "L"), ([], "bool"),
        (["numpy", "L.numpy"], "Tensor"), (["tanh", "L.tanh"], "L")]


def test_data_functions_match_torch():
    torch = pytest.importorskip("torch")
    assert _data_program(gpujit) == _data_program(torch)


def _settings_program(torch):
    log = []

    class M(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            log.append(func.__name__)
            return func(*args, **(kwargs or {}))

    with M():
        torch.manual_seed(0)
        torch.set_warn_always(False)
        torch.use_deterministic_algorithms(False)
        torch.set_default_dtype(torch.float32)
        torch.get_rng_state()
        torch.set_float32_matmul_precision("highest")
        torch.zeros(2)
        torch.promote_types(torch.float32, torch.int64)
    return log


def test_settings_functions_are_not_seen_by_modes():
    assert _settings_program(gpujit) == ["zeros", "promote_types"]


def test_settings_functions_match_torch():
    torch = pytest.importorskip("torch")
    assert _settings_program(gpujit) == _settings_program(torch)


def _private_api(torch):
    O = torch.overrides

    class S(torch.Tensor):
        pass

    s, p = torch.ones(1).as_subclass(S), torch.ones(1)
    w = torch.nn.Parameter(torch.ones(1))
    return [[type(a).__name__ for a in O._get_overloaded_args([p, s, 1, p, w])],
            [type(a).__name__ for a in O._get_overloaded_args([s], lambda a: torch.Tensor)],
            O._has_torch_function((p,)), O._has_torch_function_unary(s),
            O._has_torch_function_variadic(p, s),
            torch.Tensor.add in O._get_tensor_methods(),
            torch.Tensor.shape.__get__ in O._get_tensor_methods()]


def test_private_overrides_helpers():
    assert _private_api(gpujit) == [["S", "Tensor"], ["S"], False, True, True, True, False]


def test_private_overrides_helpers_match_torch():
    torch = pytest.importorskip("torch")
    assert _private_api(gpujit) == _private_api(torch)


def test_the_check_is_not_made_from_a_changed_file(tmp_path, monkeypatch):
    # the check's code is compiled from the function's text: where the file no longer holds
    # the code that runs, the function is left as it is
    import importlib
    import linecache
    from gpujit import _function_entries as E
    src = tmp_path / "s44_changed_mod.py"
    src.write_text("def f(x, y=1):\n    return helper(x) + y\n\n\ndef helper(x):\n"
                   "    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("s44_changed_mod")
    assert E._with_check(mod.f, E._def_node(mod.f)) is not None
    src.write_text("def f(x, y=1):\n    return other(x) + y\n")
    linecache.checkcache(str(src))
    node = E._def_node(mod.f)
    assert node is None or E._with_check(mod.f, node) is None


def test_torch_functional_module():
    # torch.functional (split, einsum, norm ...: the same objects as torch.<name>) was an
    # AttributeError; handlers' errors and resolve_name name them there, as torch's
    TF = gpujit.functional
    assert TF.split is gpujit.split and TF.einsum is gpujit.einsum and TF.norm is gpujit.norm
    assert gpujit.overrides.resolve_name(gpujit.split) == "torch.functional.split"

    class Never(gpujit.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    with pytest.raises(TypeError, match="no implementation found for 'torch.functional.split'"):
        gpujit.split(gpujit.ones(2).as_subclass(Never), 1)
    torch = pytest.importorskip("torch")
    assert sorted(torch.functional.__all__) == sorted(TF.__all__)   # (istft too: complex)
