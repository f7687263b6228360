"""Every op in the registry, run on its OpInfo samples (tests/opinfo/), against NumPy."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit import dtypes as dt
from gpujit.ops import registry
from gpujit.ops.meta import TensorMeta, meta_of, run_meta
from gpujit.testing import assert_close, assert_consistent

from opinfo import all_opinfos, make_noncontiguous, ErrorSample

INFOS = all_opinfos()
OP_NAMES = sorted(registry.OPS)


def _to_tensors(v, device="cpu", transform=None):
    if isinstance(v, np.ndarray):
        v = v.copy(order="K")   # fresh (same layout): in-place ops must not change the sample
        if transform is not None:
            v = transform(v)
        t = gpujit.from_numpy(v)
        return t if device == "cpu" else t.to(device)
    if isinstance(v, list):
        return [_to_tensors(x, device, transform) for x in v]
    if isinstance(v, tuple):
        return tuple(_to_tensors(x, device, transform) for x in v)
    return v


def _to_ref(v):
    if isinstance(v, np.ndarray):
        return v.astype(np.float64) if v.dtype.kind == "f" else v.copy()
    if isinstance(v, list):
        return [_to_ref(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_to_ref(x) for x in v)
    return v


def _metas(v):
    if isinstance(v, gpujit.Tensor):
        return meta_of(v)
    if isinstance(v, list):
        return [_metas(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_metas(x) for x in v)
    return v


def _compare(info, sample, actual, expected):
    if isinstance(actual, gpujit.Tensor):
        exp = np.asarray(expected)
        if sample.dtype is not None:
            assert actual.dtype is sample.dtype, (actual.dtype, sample.dtype)
        if tuple(actual.shape) != exp.shape:
            raise AssertionError(f"shape {tuple(actual.shape)} != reference {exp.shape}")
        rtol = sample.rtol if sample.rtol is not None else info.rtol
        atol = sample.atol if sample.atol is not None else info.atol
        if actual.dtype is dt.bool or actual.dtype.category == dt.INTEGRAL:
            exp = exp.astype(actual.dtype.np)
        else:
            with np.errstate(all="ignore"):
                exp = exp.astype(actual.dtype.np)
        assert_close(actual, exp, rtol=rtol, atol=atol, equal_nan=True)
    elif isinstance(actual, (tuple, list)):
        assert isinstance(expected, (tuple, list)), f"expected {type(expected)}, got tuple"
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _compare(info, sample, a, e)
    else:
        if isinstance(expected, np.ndarray):
            expected = expected.item()
        if isinstance(expected, float) or isinstance(actual, float):
            assert np.isclose(actual, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
        else:
            assert actual == expected


def _check_meta(op, args, kwargs, out):
    bound = op.bind(args, kwargs)
    m = run_meta(op, *[_metas(a) for a in bound])
    got = _metas(out)

    def same(m, g):
        if isinstance(g, TensorMeta):
            assert isinstance(m, TensorMeta), f"meta gave {m!r} for a Tensor output"
            assert m.dtype is g.dtype, f"meta dtype {m.dtype} != eager {g.dtype}"
            assert m.device == g.device, f"meta device {m.device} != eager {g.device}"
            assert len(m.shape) == len(g.shape) and all(
                a is None or a == b for a, b in zip(m.shape, g.shape)), \
                f"meta shape {m.shape} != eager {g.shape}"
        elif isinstance(m, type):       # (a meta that gives only the kind: list, int ...)
            assert isinstance(g, m), f"meta type {m} != eager value {g!r}"
        elif isinstance(g, (tuple, list)):
            assert len(m) == len(g)
            for a, b in zip(m, g):
                same(a, b)
    same(m, got)


def _base_info(op):
    if op.inplace_of is not None:
        return INFOS.get(op.inplace_of.name)
    return INFOS.get(op.name)


@pytest.mark.parametrize("name", OP_NAMES)
def test_op_has_samples(name):
    op = registry.OPS[name]
    info = _base_info(op)
    assert info is not None, f"{name} has no OpInfo in tests/opinfo/"
    assert info.get_samples() or op.inplace_of is not None, f"{name}: OpInfo has no samples"


def _run_sample(op, info, sample, transform=None, device="cpu"):
    args = _to_tensors(sample.args, device, transform)
    kwargs = {k: _to_tensors(v, device, transform) for k, v in sample.kwargs.items()}
    return args, kwargs, op.public(*args, **kwargs)


@pytest.mark.parametrize("name", [n for n in OP_NAMES
                                  if registry.OPS[n].inplace_of is None])
def test_op_against_reference(name):
    op = registry.OPS[name]
    info = INFOS.get(name)
    if info is None:
        pytest.fail(f"{name} has no OpInfo")
    for sample in info.get_samples():
        if isinstance(sample, ErrorSample):
            if getattr(sample, "refused_number", False):    # (opinfo._refused_number)
                with pytest.raises(TypeError, match=sample.match):
                    _run_sample(op, info, sample, None)
            continue
        transforms = [None] + ([make_noncontiguous] if info.noncontiguous else [])
        for tr in transforms:
            args, kwargs, out = _run_sample(op, info, sample, tr)
            try:
                if info.ref is not None:
                    ref_args = _to_ref(sample.args)
                    ref_kwargs = {k: _to_ref(v) for k, v in sample.kwargs.items()}
                    with np.errstate(all="ignore"):
                        expected = info.ref(*ref_args, **ref_kwargs)
                    _compare(info, sample, out, expected)
                if info.check is not None:
                    info.check(sample, out)
                if info.meta:
                    _check_meta(op, args, kwargs, out)
            except AssertionError as e:
                layout = "non-contiguous" if tr else "contiguous"
                raise AssertionError(f"{name} on {sample} ({layout}): {e}") from None


_SCAN_INPLACE = {"aten::cumsum_", "aten::cumprod_"}


@pytest.mark.parametrize("name", [n for n in OP_NAMES if registry.OPS[n].inplace_of is not None])
def test_inplace_variant(name):
    """x.add_(y) agrees with add(x, y) written back, or raises as PyTorch does."""
    op = registry.OPS[name]
    base = op.inplace_of
    info = INFOS[base.name]
    for sample in info.get_samples():
        if isinstance(sample, ErrorSample) or not isinstance(sample.args[0], np.ndarray):
            continue
        args = _to_tensors(sample.args)
        kwargs = {k: _to_tensors(v) for k, v in sample.kwargs.items()}
        if name in _SCAN_INPLACE:
            # cumsum_ / cumprod_ scan in self's dtype (PyTorch's cumsum_out into self) and
            # refuse a dtype= other than self's
            want = kwargs.get("dtype")
            if want is not None and dt.to_dtype(want) is not args[0].dtype:
                with pytest.raises(RuntimeError, match="Bad in-place call"):
                    op.public(args[0].clone(), *args[1:], **kwargs)
                continue
            kwargs = dict(kwargs, dtype=args[0].dtype)
        try:
            expected = base.public(*args, **kwargs)
        except Exception:
            continue
        self_t = args[0].clone()
        ok_cast = dt.can_cast(expected.dtype, self_t.dtype) and (
            expected.dtype is self_t.dtype or not op.inplace_exact_dtype)  # float_power_
        ok_shape = tuple(expected.shape) == tuple(self_t.shape)
        if ok_cast and ok_shape:
            out = op.public(self_t, *args[1:], **kwargs)
            assert out is self_t, f"{name} must return self"
            assert self_t._version == 1
            assert_close(self_t, expected.to(self_t.dtype), equal_nan=True)
        else:
            with pytest.raises(RuntimeError):
                op.public(self_t, *args[1:], **kwargs)


@pytest.mark.parametrize("name", sorted(n for n, i in INFOS.items() if i.errors))
def test_op_errors(name):
    op = registry.OPS[name]
    for sample in INFOS[name].errors:
        args = _to_tensors(sample.args)
        kwargs = {k: _to_tensors(v) for k, v in sample.kwargs.items()}
        with pytest.raises(sample.exc, match=sample.match):
            op.public(*args, **kwargs)


def test_every_opinfo_names_a_registry_op():
    unknown = sorted(set(INFOS) - set(registry.OPS))
    assert not unknown, f"OpInfos for ops not in the registry: {unknown}"


# ops whose results depend on the device by definition, or read uninitialized memory
_DEVICE_DEPENDENT = {"aten::is_cuda", "aten::is_cpu", "aten::str.Tensor", "aten::to.device",
                     "aten::to.prim_Device", "aten::empty_like", "aten::empty.memory_format", "aten::new_empty"}


def _has_tensor(x):
    if isinstance(x, gpujit.Tensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(_has_tensor(v) for v in x)
    if isinstance(x, dict):
        return any(_has_tensor(v) for v in x.values())
    return False


def _topk_picked(a, kw, r):
    """topk's values and the elements its indices pick: which of equal values' indices it
    returns is each device's algorithm (torch 2.13's CPU topk keeps std::partial_sort's
    order, its CUDA one a radix select's; gpujit's follow them), so the devices agree on
    what the indices pick, not on the indices; with sorted=False the order of the k values
    is the algorithm's too (compared sorted)."""
    self = a[0]
    if self.dim() == 0:
        return r
    dim = a[2] if len(a) > 2 else kw.get("dim", -1)
    values, picked = r[0], self.gather(dim, r[1])
    if not (a[4] if len(a) > 4 else kw.get("sorted", True)):
        values, picked = values.sort(dim)[0], picked.sort(dim)[0]
    return values, picked


# ops whose results are compared across devices through a function of them
_COMPARED_AS = {"aten::topk": _topk_picked}


def _looser(a, b):
    return b if a is None else a if b is None else max(a, b)


@pytest.mark.cuda
@pytest.mark.parametrize("name", [n for n in OP_NAMES
                                  if registry.OPS[n].inplace_of is None])
def test_op_cuda_matches_cpu(name):
    if not gpujit.cuda.is_available():
        pytest.skip("no CUDA GPU (install gpujit[cuda12] or [cuda13] on a GPU machine)")
    op = registry.OPS[name]
    info = INFOS[name]
    if not info.gpu or name in _DEVICE_DEPENDENT:
        pytest.skip(f"{name}: not comparable across devices (random, uninitialized memory "
                    f"or the device itself)")
    compared = 0
    for sample in info.get_samples():
        if isinstance(sample, ErrorSample):
            continue
        args = _to_tensors(sample.args)
        kwargs = {k: _to_tensors(v) for k, v in sample.kwargs.items()}
        if "device" in kwargs or not _has_tensor((args, kwargs)):
            continue                # it makes its tensors where it says: nothing to move
        compared += 1
        # inputs nested in a list and a dict: assert_consistent moves them all
        # a sample's own tolerance (float32 samples of float64-exact ops) where it has one:
        # CUDA's float32 libm and FMA contraction differ from the CPU's by some ulps
        seen = _COMPARED_AS.get(name)
        call = (lambda a, kw: op.public(*a, **kw)) if seen is None else \
            (lambda a, kw: seen(a, kw, op.public(*a, **kw)))
        assert_consistent(call, list(args), kwargs,
                          rtol=_looser(info.rtol, sample.rtol),
                          atol=_looser(info.atol, sample.atol))
    if not compared:
        pytest.skip(f"{name}: no sample with a tensor to move (a factory)")
