"""gpujit.testing: `assert_close` (torch.testing.assert_close's checks and reports) and
`assert_consistent` (the same computation on CPU and on CUDA must agree), `FileCheck`
(gpujit/_filecheck.py) and `make_tensor` (gpujit/_make_tensor.py).

Both accept gpujit Tensors on any device, NumPy and CuPy arrays, PyTorch tensors, Python
scalars, and lists/tuples/dicts nesting those. Values are compared on the host.
"""
from __future__ import annotations

import collections.abc
import copy
import math
import os
import sys
import unittest

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, device as _device, cupy_or_none, CUDA_INSTALL_HINT

from .._filecheck import FileCheck
from .._make_tensor import make_tensor

__all__ = ["assert_close", "assert_allclose", "assert_consistent", "default_tolerances",
           "FileCheck", "make_tensor"]

# PyTorch's defaults (torch/testing/_comparison.py); integers and bool compare exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
               "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
               "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


class _Leaf:
    """One tensor-like value on the host, with the dtype and device it came with."""
    __slots__ = ("array", "dtype", "device", "scalar", "tensor", "stride")

    def __init__(self, array, dtype, device, scalar=False, tensor=False, stride=None):
        self.array, self.dtype, self.device, self.scalar = array, dtype, device, scalar
        self.tensor = tensor        # a gpujit or torch Tensor (not an array, not a number)
        self.stride = stride        # a tensor's stride() (check_stride)

    @property
    def dtype_name(self):
        return self.dtype.name if isinstance(self.dtype, _dt.dtype) else str(self.dtype)


def _gp_dtype(np_dtype):
    try:
        return _dt.from_numpy_dtype(np_dtype)
    except TypeError:
        return np.dtype(np_dtype)


def _leaf(x):
    """A _Leaf for a tensor-like or a number, None for anything else."""
    from ..tensor import Tensor
    if isinstance(x, Tensor):
        a = x._data
        return _Leaf(a if x._device is _cpu else a.get(), x._dtype, x._device, tensor=True,
                     stride=x.stride)
    if isinstance(x, (np.ndarray, np.generic)):
        a = np.asarray(x)
        return _Leaf(a, _gp_dtype(a.dtype), _cpu)
    if hasattr(x, "__cuda_array_interface__") and hasattr(x, "get"):   # a CuPy array
        return _Leaf(x.get(), _gp_dtype(x.dtype), _device("cuda", x.device.id))
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):   # a torch.Tensor
        t = x.detach()
        dev = _device(str(t.device)) if t.device.type in ("cpu", "cuda") else _cpu
        name = str(t.dtype).rpartition(".")[2]
        if name == "bfloat16":
            return _Leaf(t.float().cpu().numpy(), name, dev, tensor=True, stride=t.stride)
        return _Leaf(t.cpu().numpy(), _gp_dtype(name), dev, tensor=True, stride=t.stride)
    if isinstance(x, bool):
        return _Leaf(np.asarray(x), _dt.bool, _cpu, scalar=True)
    if isinstance(x, int):
        return _Leaf(np.asarray(x, dtype=np.int64), _dt.int64, _cpu, scalar=True)
    if isinstance(x, float):
        return _Leaf(np.asarray(x, dtype=np.float64), _dt.float64, _cpu, scalar=True)
    return None


def default_tolerances(*inputs, dtype_precisions=None):
    """(rtol, atol): the loosest of the defaults of the inputs' dtypes (dtypes or
    tensors; the less precise dtype wins). `dtype_precisions` ({dtype: (rtol, atol)})
    replaces PyTorch's table for the dtypes it names."""
    rtols, atols = [0.0], [0.0]
    table = dict(_TOLERANCES)
    for k, v in (dtype_precisions or {}).items():
        table[k.name if isinstance(k, _dt.dtype) else str(k).rpartition(".")[2]] = v
    for d in inputs:
        if not isinstance(d, (_dt.dtype, str, np.dtype)):
            d = getattr(d, "dtype", None)
            if d is None:
                raise TypeError(f"Expected a torch.Tensor or a torch.dtype, but got "
                                f"{type(d)}.")
        name = d.name if isinstance(d, _dt.dtype) else str(d).rpartition(".")[2]
        r, a = table.get(name, (0.0, 0.0))
        rtols.append(r)
        atols.append(a)
    return max(rtols), max(atols)


class _Mismatch(AssertionError):
    pass


def _fmt_path(path):
    return "".join(f"[{p!r}]" for p in path)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that `actual` and `expected` are close: |actual - expected| <= atol +
    rtol * |expected| elementwise, with PyTorch's per-dtype default tolerances taken from
    the less precise of the two dtypes. As PyTorch's, two tensors must also have one dtype
    and device (check_dtype / check_device), two numbers one type; a tensor may also be
    compared with a NumPy array, a (nested) list or a number (values only), which
    PyTorch's refuses. Raises AssertionError with a report of how many
    elements differ, the greatest absolute and relative differences and where they are.

    `msg` replaces the report (a str) or rewrites it (a callable taking the report).
    check_stride compares two tensors' stride(); check_layout=False compares a sparse
    tensor with a strided one by value; allow_subclasses=False refuses two tensors of
    different classes (an nn.Parameter against a Tensor) as PyTorch does."""
    errors = _error_metas(actual, expected, allow_subclasses, rtol, atol, equal_nan,
                          check_device, check_dtype, check_layout, check_stride)
    if errors:
        raise errors[0].to_error(msg) from None


class ErrorMeta(Exception):
    """A comparison's failure: the exception type to raise, its message and the path of
    the failing item (torch.testing._comparison.ErrorMeta)."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(
            "If you are a user and see this message during normal operation please file an "
            "issue at https://github.com/pytorch/pytorch/issues. If you are a developer and "
            "working on the comparison functions, please `raise ErrorMeta.to_error()` for "
            "user facing errors.")
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += ("\n\nThe failure occurred for item "
                              + "".join(str([item]) for item in self.id))
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


def _error_metas(actual, expected, allow_subclasses, rtol, atol, equal_nan, check_device,
                 check_dtype, check_layout, check_stride):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    try:
        _compare(actual, expected, (), rtol, atol, equal_nan, check_dtype, check_device,
                 _Options(allow_subclasses, check_layout, check_stride))
    except _Mismatch as e:
        return [ErrorMeta(AssertionError, e.args[0], id=e.args[1])]
    return []


class _Options:
    __slots__ = ("allow_subclasses", "check_layout", "check_stride")

    def __init__(self, allow_subclasses=True, check_layout=True, check_stride=False):
        self.allow_subclasses, self.check_layout = allow_subclasses, check_layout
        self.check_stride = check_stride


_DEFAULT_OPTIONS = _Options()


def _compare(actual, expected, path, rtol, atol, equal_nan, check_dtype, check_device,
             opts=_DEFAULT_OPTIONS):
    def fail(text):
        raise _Mismatch(text, path)

    if not opts.allow_subclasses and type(actual) is not type(expected):
        raise TypeError(f"No comparison pair was able to handle inputs of type "
                        f"{type(actual)} and {type(expected)}.")
    if not opts.check_layout and (_sparse_layout(actual) or _sparse_layout(expected)):
        actual = actual.to_dense() if _sparse_layout(actual) else actual
        expected = expected.to_dense() if _sparse_layout(expected) else expected

    if _sparse_layout(actual) or _sparse_layout(expected):
        return _compare_sparse(actual, expected, fail, rtol, atol, equal_nan, check_dtype,
                               check_device)
    if getattr(actual, "is_meta", False) is True or getattr(expected, "is_meta", False) is True:
        return _compare_meta(actual, expected, fail, check_dtype, check_device, opts)
    la, le = _leaf(actual), _leaf(expected)
    if la is None and le is None:
        if actual is None or expected is None:
            if actual is not expected:
                fail(f"None mismatch: {actual!r} is not {expected!r}")
            return
        if isinstance(actual, collections.abc.Mapping) and isinstance(
                expected, collections.abc.Mapping):
            ka, ke = set(actual), set(expected)
            if ka != ke:
                fail("The keys of the mappings do not match:\n"
                     + (f"Missing keys in the actual mapping: {sorted(ke - ka, key=repr)}\n"
                        if ke - ka else "")
                     + (f"Additional keys in the actual mapping: {sorted(ka - ke, key=repr)}"
                        if ka - ke else "").rstrip())
            for k in expected:
                _compare(actual[k], expected[k], path + (k,), rtol, atol, equal_nan,
                         check_dtype, check_device, opts)
            return
        if _is_seq(actual) and _is_seq(expected):
            if len(actual) != len(expected):
                fail(f"The length of the sequences mismatch: {len(actual)} != "
                     f"{len(expected)}")
            for i, (a, e) in enumerate(zip(actual, expected)):
                _compare(a, e, path + (i,), rtol, atol, equal_nan, check_dtype, check_device,
                         opts)
            return
        if actual != expected:
            fail(f"Objects are not equal: {actual!r} != {expected!r}")
        return
    if la is None and _is_seq(actual) and le is not None and not le.scalar:
        la = _leaf(np.asarray(actual))      # a nested list against an array
    if le is None and _is_seq(expected) and la is not None and not la.scalar:
        le = _leaf(np.asarray(expected))
    if la is None or le is None:
        fail(f"No comparison between {type(actual).__name__} and {type(expected).__name__}: "
             f"expected tensor-likes, numbers, or sequences/mappings of them")
    _compare_leaves(la, le, fail, rtol, atol, equal_nan, check_dtype, check_device,
                    check_stride=opts.check_stride)


def _compare_meta(actual, expected, fail, check_dtype, check_device, opts):
    """PyTorch's comparison where a tensor is on the meta device: its attributes (shape,
    device, dtype, strides when asked), never values (it has none)."""
    from ..tensor import Tensor
    if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
        fail(f"No comparison between {type(actual).__name__} and {type(expected).__name__}: "
             f"a meta tensor compares with tensors only")
    if tuple(actual.shape) != tuple(expected.shape):
        fail(f"The values for attribute 'shape' do not match: {_size(actual.shape)} != "
             f"{_size(expected.shape)}.")
    if check_device and actual.device is not expected.device:
        fail(f"The values for attribute 'device' do not match: {actual.device} != "
             f"{expected.device}.")
    if check_dtype and actual.dtype is not expected.dtype:
        fail(f"The values for attribute 'dtype' do not match: {_dtype_str(actual.dtype)} != "
             f"{_dtype_str(expected.dtype)}.")
    if opts.check_stride and actual.numel() > 0 and actual.stride() != expected.stride():
        fail(f"The values for attribute 'stride()' do not match: {actual.stride()} != "
             f"{expected.stride()}.")


def _number_type(leaf):
    return {"bool": "<class 'bool'>", "int64": "<class 'int'>"}.get(leaf.dtype_name,
                                                                   "<class 'float'>")


def _sparse_layout(x):
    from ..tensor import Tensor
    from ..dtypes import strided
    return isinstance(x, Tensor) and x.layout is not strided


def _compare_sparse(actual, expected, fail, rtol, atol, equal_nan, check_dtype, check_device):
    """PyTorch's comparison of sparse tensors: the layouts, sizes and numbers of stored
    entries, then the stored indices equal and values close as they are stored (COO:
    indices and values; compressed: the compressed and plain indices and values)."""
    from ..tensor import Tensor
    if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)) or \
            actual.layout is not expected.layout:
        la = getattr(actual, "layout", type(actual).__name__)
        le = getattr(expected, "layout", type(expected).__name__)
        fail(f"The values for attribute 'layout' do not match: {la} != {le}.")
    if tuple(actual.shape) != tuple(expected.shape):
        fail(f"The values for attribute 'shape' do not match: {_size(actual.shape)} != "
             f"{_size(expected.shape)}.")
    lay = str(actual.layout)
    if actual.is_sparse:
        name, parts = "COO", (("indices", actual._indices(), expected._indices()),)
    else:
        name = lay[-3:].upper()
        comp, plain = (("crow_indices", "col_indices") if name in ("CSR", "BSR")
                       else ("ccol_indices", "row_indices"))
        parts = ((comp, actual._csr_crow, expected._csr_crow),
                 (plain, actual._csr_col, expected._csr_col))
    if actual._nnz() != expected._nnz():
        fail(f"The number of specified values in sparse {name} tensors does not match: "
             f"{actual._nnz()} != {expected._nnz()}")
    for part, a, e in parts:
        _compare_leaves(_leaf(a), _leaf(e), fail, 0, 0, False, False, False,
                        f"Sparse {name} {part}")
    va, ve = ((actual._values(), expected._values()) if actual.is_sparse
              else (actual.values(), expected.values()))
    _compare_leaves(_leaf(va), _leaf(ve), fail, rtol, atol, equal_nan, check_dtype,
                    check_device, f"Sparse {name} values")


def _is_seq(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes))


def _compare_leaves(la, le, fail, rtol, atol, equal_nan, check_dtype, check_device,
                    what="Tensor-likes", check_stride=False):
    a, e = la.array, le.array
    if a.shape != e.shape:
        fail(f"The values for attribute 'shape' do not match: {_size(a.shape)} != "
             f"{_size(e.shape)}.")
    # (devices and dtypes are compared between two tensors, and dtypes between two numbers,
    # as PyTorch's pairs do; a tensor against a NumPy array, a list or a number — which
    # PyTorch refuses to compare — is gpujit's extension and compares values only)
    tensors = la.tensor and le.tensor
    if check_device and tensors and la.device != le.device:
        fail(f"The values for attribute 'device' do not match: {la.device} != {le.device}.")
    if check_dtype and la.dtype_name != le.dtype_name:
        if tensors:
            fail(f"The values for attribute 'dtype' do not match: {_dtype_str(la.dtype)} != "
                 f"{_dtype_str(le.dtype)}.")
        if la.scalar and le.scalar:
            fail(f"The (d)types do not match: {_number_type(la)} != {_number_type(le)}.")
    if check_stride and tensors and a.size > 0:
        sa, se = tuple(la.stride()), tuple(le.stride())
        if sa != se:
            fail(f"The values for attribute 'stride()' do not match: {sa} != {se}.")
    if rtol is None:
        rtol, atol = default_tolerances(la.dtype, le.dtype)
    ct = np.result_type(a.dtype, e.dtype)
    floating = ct.kind in "fc"
    if not floating:   # as PyTorch: integer differences in int64, so they cannot wrap
        a, e = a.astype(np.int64), e.astype(np.int64)
    else:
        a, e = a.astype(ct, copy=False), e.astype(ct, copy=False)
    with np.errstate(all="ignore"):
        matches = a == e
        if floating:
            if equal_nan:
                matches |= np.isnan(a) & np.isnan(e)
            err = np.abs(a - e)
            matches |= np.isfinite(err) & (err <= atol + rtol * np.abs(e))
        elif rtol or atol:
            err = np.abs(a - e).astype(np.float64)
            matches |= err <= atol + rtol * np.abs(e).astype(np.float64)
        if matches.all():
            return
        equality = rtol == 0 and atol == 0
        if a.ndim == 0:
            av, ev = a.item(), e.item()
            abs_diff = abs(av - ev)
            rel_diff = math.inf if ev == 0 else abs_diff / abs(ev)
            fail(_mismatch_msg("Scalars", equality, f"Expected {ev} but got {av}.",
                               abs_diff, None, atol, rel_diff, None, rtol))
        n = matches.size
        bad = n - int(matches.sum())
        extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
        flat_m = matches.reshape(-1)
        abs_diff = np.abs(a.reshape(-1) - e.reshape(-1))
        abs_diff[flat_m] = 0
        i_abs = int(np.argmax(abs_diff))
        if floating:
            rel_diff = abs_diff / np.abs(e.reshape(-1))
        else:   # (as torch: an integer difference divided in the default float dtype)
            fdt = np.dtype(_dt.get_default_dtype().name)
            rel_diff = abs_diff.astype(fdt) / np.abs(e.reshape(-1)).astype(fdt)
        rel_diff[flat_m] = 0
        i_rel = int(np.argmax(rel_diff))
    fail(_mismatch_msg(what, equality, extra,
                       abs_diff[i_abs].item(), np.unravel_index(i_abs, a.shape), atol,
                       rel_diff[i_rel].item(), np.unravel_index(i_rel, a.shape), rtol))


def _mismatch_msg(identifier, equality, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx,
                  rtol):
    def diff_line(kind, diff, idx, tol):
        if idx is None:
            line = f"{kind.title()} difference: {diff}"
        else:
            line = f"Greatest {kind} difference: {diff} at index {tuple(int(i) for i in idx)}"
        if tol > 0:
            line += f" (up to {tol} allowed)"
        return line + "\n"

    text = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra}\n"
    text += diff_line("absolute", abs_diff, abs_idx, atol)
    text += diff_line("relative", rel_diff, rel_idx, rtol)
    return text.strip()


def _size(shape):
    return f"gpujit.Size([{', '.join(str(s) for s in shape)}])"


def _dtype_str(d):
    return repr(d) if isinstance(d, _dt.dtype) else str(d)


# ------------------------------------------------------------------ CPU vs CUDA

def _skip(reason):
    if "pytest" in sys.modules and os.environ.get("PYTEST_CURRENT_TEST"):
        import pytest
        pytest.skip(reason)
    raise unittest.SkipTest(reason)


def _copy_to(x, dev):
    """x with every Tensor in it copied to dev (lists, tuples, dicts are rebuilt)."""
    from ..tensor import Tensor
    from ..ops.registry import wrap_any as wrap       # (a float8 tensor's bits: one again)
    from ..ops.conversion import transfer
    if isinstance(x, Tensor):
        a = x._data
        # a copy in the same layout, as PyTorch's .to(device) makes (preserve_format)
        if (x._device is _cpu) != (dev is _cpu):
            a = transfer(None, a, dev)
        elif dev is _cpu:
            a = a.copy(order="K")
        else:
            cp = cupy_or_none()
            with cp.cuda.Device(dev.index):
                a = cp.array(a, copy=True)
        t = wrap(a, x._dtype, dev)
        if x.requires_grad:
            t.requires_grad_(True)
        return t
    if isinstance(x, tuple) and hasattr(x, "_fields"):   # namedtuple
        return type(x)(*(_copy_to(v, dev) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_copy_to(v, dev) for v in x)
    if isinstance(x, dict):
        return type(x)((k, _copy_to(v, dev)) for k, v in x.items())
    return x


def _tensors_not_on_cuda(x, path=()):
    from ..tensor import Tensor
    if isinstance(x, Tensor):
        if x.device.type != "cuda":
            yield path, x.device
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from _tensors_not_on_cuda(v, path + (i,))
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from _tensors_not_on_cuda(v, path + (k,))


def assert_consistent(fn, *inputs, rtol=None, atol=None):
    """Run fn on CPU copies and on CUDA copies of the inputs (Tensors nested in lists,
    tuples and dicts are moved; an nn.Module — anything with `.to` and `.parameters` — is
    deep-copied and moved) and assert that the outputs agree with dtype-aware tolerances
    and that the CUDA run returned CUDA tensors. A compiled function or module (scripted,
    traced, or a module holding one) runs its profiling runs and then its optimized
    (fused) code on each device, and each run is compared. Skips when no CUDA GPU is
    present."""
    cp = cupy_or_none()
    if cp is None:
        _skip("assert_consistent compares a CPU run with a CUDA run and needs CuPy and an "
              "NVIDIA GPU; none was found (" + CUDA_INSTALL_HINT + ")")
    from ..device import current_index
    gpu = _device("cuda", current_index(cp))
    runs = 1
    if _compiled(fn):       # the optimized code runs after the profiling runs
        from ..runtime.fusion import profiling_runs
        runs = profiling_runs() + 1
    results = {}
    for dev in (_cpu, gpu):
        f = fn
        if hasattr(fn, "to") and hasattr(fn, "parameters"):
            f = copy.deepcopy(fn)
            f.to(dev)
        results[dev] = [f(*_copy_to(list(inputs), dev)) for _ in range(runs)]
    for k in range(runs):
        which = "" if runs == 1 else (f" (run {k + 1} of {runs}: "
                                      f"{'optimized' if k == runs - 1 else 'profiling'})")
        wrong = list(_tensors_not_on_cuda(results[gpu][k]))
        if wrong:
            where = ", ".join(f"output{_fmt_path(p)} on {d}" for p, d in wrong)
            raise AssertionError(f"the CUDA run{which} returned tensors that are not on "
                                 f"CUDA: {where}")
        assert_close(results[gpu][k], results[_cpu][k], rtol=rtol, atol=atol,
                     check_dtype=True, check_device=False, equal_nan=True,
                     msg=lambda m: f"CUDA result{which} (actual) differs from CPU result "
                     f"(expected):\n\n" + m)


def _compiled(fn):
    """Whether fn is a scripted/traced function or module, or a module holding one."""
    if hasattr(fn, "graph_for"):
        return True
    modules = getattr(fn, "modules", None)
    return callable(modules) and hasattr(fn, "parameters") and any(
        hasattr(m, "graph_for") for m in modules())


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """torch.testing.assert_allclose, PyTorch's deprecated spelling of assert_close (kept
    so ported tests run as written): non-tensors become tensors (expected in actual's
    dtype), the dtypes need not match, and the default tolerances are its own older
    table (float16 (1e-3, 1e-3), float32 (1e-4, 1e-5), float64 (1e-5, 1e-8))."""
    import warnings
    from ..tensor import Tensor
    from ..ops.creation import tensor as _tensor_fn
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be "
                  "removed in a future release. Please use `torch.testing.assert_close()` "
                  "instead. You can find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning,
                  stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = _tensor_fn(actual)
    if not isinstance(expected, Tensor):
        expected = _tensor_fn(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual, expected, dtype_precisions={
            _dt.float16: (1e-3, 1e-3), _dt.float32: (1e-4, 1e-5), _dt.float64: (1e-5, 1e-8)})
    return assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                        check_device=True, check_dtype=False, check_stride=False,
                        msg=msg or None)
