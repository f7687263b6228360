"""Port of PyTorch's test/test_ops_jit.py (TestJitCPU.test_variant_consistency_jit) over
gpujit's own OpInfos (tests/opinfo/).

For every registry op and one sample per signature (input dtypes and ranks, the kinds of
the other arguments, the keywords): the op called as a function (torch.X, torch.linalg.X,
torch.nn.functional.X ...), as a Tensor method and in place, each written as TorchScript
source text (the sample's tensors are parameters, its other arguments literals, its
keywords keywords) and compiled with torch.jit.CompilationUnit, and the same Python
function traced. Each runs 3 times (profiling, then the optimized plan) and must give
eager's values, dtypes and shapes; for floating samples of a differentiable op, the
gradients of the sum of the outputs must be eager's on every call. A variant whose script
(or trace) is the very graph an earlier variant's of the same sample ran (t0.abs() and
torch.abs(t0)) is compiled but not run again: its eager results must be that variant's.

What makes no sense here (as in PyTorch's test): random ops are compared by dtype and shape
only; ops without a tensor to trace are scripted only.
"""
from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.frontend.script.errors import FrontendError
from gpujit.ops import registry
from gpujit.testing import assert_close

sys.path.insert(0, os.path.dirname(__file__))
from opinfo import all_opinfos, ErrorSample  # noqa: E402

INFOS = all_opinfos()

# ops TorchScript itself cannot call from source by the names the registry binds (or that
# have no public name a script can spell): the reason for each
_NOT_SCRIPTABLE = {
}

# samples where TorchScript itself differs from eager, so scripted code rightly does too:
# op -> (predicate on the sample, why)
def _has_none(v):
    return isinstance(v, (list, tuple)) and None in v


_TORCHSCRIPT_DIFFERS = {
    # TorchScript's schema matching converts a bool for a Scalar to int (aten::Int):
    # scripted torch.full([2], True) is int64 in PyTorch too, eager's is bool
    "aten::full": (lambda s: isinstance(s.args[1], bool), "full(size, True) is int64"),
    # F.adaptive_avg_pool{2,3}d's output_size is BroadcastingList[int] in TorchScript: a
    # None entry does not compile there (nor in gpujit)
    "aten::adaptive_avg_pool2d": (lambda s: _has_none(s.args[1]),
                                  "a None output size"),
    "aten::adaptive_avg_pool3d": (lambda s: _has_none(s.args[1]),
                                  "a None output size"),
    # an empty list literal is a List[Tensor] in TorchScript: scripted torch.tensor([])
    # raises 'Input must be of ints, floats, or bools, got Tensor' (torch 2.13; session 36)
    "aten::tensor.float_list": (lambda s: isinstance(s.args[0], (list, tuple)) and
                                not s.args[0], "torch.tensor([]) does not script"),
}


# ---------------------------------------------------------------- source generation

def _lit(v):
    """A TorchScript literal for a non-tensor sample argument."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, (int, np.integer)):
        return repr(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "float('nan')"
        if math.isinf(v):
            return "float('inf')" if v > 0 else "float('-inf')"
        return repr(v)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, torch.dtype):
        return "torch." + str(v).rsplit(".", 1)[-1]
    if isinstance(v, torch.device):
        return f"torch.device({str(v)!r})"
    if isinstance(v, list):
        return "[" + ", ".join(_lit(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + "".join(_lit(x) + ", " for x in v) + ")"
    raise _Unwritable(f"no TorchScript literal for {v!r}")


class _Unwritable(Exception):
    pass


class _Params:
    """Sample arguments -> source expressions; arrays become parameters t0, t1, ..."""

    def __init__(self):
        self.arrays = []

    def expr(self, v):
        if isinstance(v, np.ndarray):
            self.arrays.append(v)
            return f"t{len(self.arrays) - 1}"
        if isinstance(v, list) and any(isinstance(x, np.ndarray) for x in v):
            return "[" + ", ".join(self.expr(x) for x in v) + "]"
        if isinstance(v, tuple) and any(isinstance(x, np.ndarray) for x in v):
            return "(" + "".join(self.expr(x) + ", " for x in v) + ")"
        return _lit(v)


def _function_path(op):
    """How a script spells the op as a function, or None (method only); and whether that
    is the op's own binding (else a Python function of that name, which may take other
    arguments: F.mse_loss takes size_average where aten::mse_loss takes reduction, so
    the harness uses it only where it gives the op's result eagerly)."""
    return _spelled(op), bool(op.bind_function or op.bind_functional)


def _spelled(op):
    pn = op.public_name
    if op.bind_function:
        name = op.bind_function if isinstance(op.bind_function, str) else pn
        if hasattr(torch, name):
            return f"torch.{name}"
    if op.bind_functional:
        name = op.bind_functional if isinstance(op.bind_functional, str) else pn
        return f"torch.nn.functional.{name}"
    for prefix, ns in (("linalg_", "linalg"), ("special_", "special"), ("fft_", "fft")):
        if pn.startswith(prefix) and hasattr(getattr(torch, ns), pn[len(prefix):]):
            return f"torch.{ns}.{pn[len(prefix):]}"
    if hasattr(torch, pn) and callable(getattr(torch, pn)):
        return f"torch.{pn}"
    if hasattr(torch.nn.functional, pn):
        return f"torch.nn.functional.{pn}"
    return None


def _variants(op, sample):
    """[(variant, source of `def f(t0, ...)`, arrays)] for the sample."""
    out = []

    def gen(kind, head, method=None, clone=False):
        p = _Params()
        args = list(sample.args)
        if method is not None:
            self_e = p.expr(args[0])
            args = args[1:]
        parts = [p.expr(a) for a in args]
        parts += [f"{k}={p.expr(v)}" for k, v in sample.kwargs.items()]
        params = ", ".join(f"t{i}" for i in range(len(p.arrays)))
        body = ""
        if method is not None:
            if clone:
                body = f"    {self_e} = {self_e}.clone()\n"
            call = f"{self_e}.{method}({', '.join(parts)})"
        else:
            call = f"{head}({', '.join(parts)})"
        src = f"def f({params}):\n{body}    return {call}\n"
        out.append((kind, src, p.arrays))

    path, own = _function_path(op)
    try:
        if path is not None:
            gen("function" if own else "function (another API)", path)
        if sample.args and isinstance(sample.args[0], np.ndarray):
            if op.bind_method:
                name = op.bind_method if isinstance(op.bind_method, str) else op.public_name
                gen("method", None, method=name)
            if op.inplace_variant is not None:
                gen("inplace", None, method=op.inplace_variant.public_name, clone=True)
    except _Unwritable:
        return []
    return out


# ---------------------------------------------------------------- running and comparing

def _tensors(arrays, grad):
    ts = []
    for a in arrays:
        t = torch.from_numpy(a.copy())
        if grad and a.dtype.kind == "f":
            t.requires_grad_()
        ts.append(t)
    return ts


def _to_tensor(v):
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v.copy())
    if isinstance(v, (list, tuple)):
        return type(v)(_to_tensor(x) for x in v)
    return v


def _flat(v):
    if isinstance(v, torch.Tensor):
        return [v]
    if isinstance(v, (list, tuple)):
        return [t for x in v for t in _flat(x)]
    return []


def _compare(got, exp, path, rtol, atol, values):
    if isinstance(exp, torch.Tensor):
        assert isinstance(got, torch.Tensor), f"{path}: {type(got).__name__}, eager a Tensor"
        assert got.dtype is exp.dtype, f"{path}: dtype {got.dtype}, eager {exp.dtype}"
        assert tuple(got.shape) == tuple(exp.shape), \
            f"{path}: shape {tuple(got.shape)}, eager {tuple(exp.shape)}"
        if values:
            assert_close(got.detach(), exp.detach(), rtol=rtol, atol=atol, equal_nan=True,
                         msg=f"{path}: values differ")
    elif isinstance(exp, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(exp), \
            f"{path}: {got!r}, eager {exp!r}"
        for i, (g, e) in enumerate(zip(got, exp)):
            _compare(g, e, f"{path}[{i}]", rtol, atol, values)
    elif isinstance(exp, torch.dtype) and type(got) is int:
        # a dtype is TorchScript's int in scripted code, its ScalarType code (torch 2.13:
        # scripted torch.promote_types(torch.int32, torch.float32) is 6)
        from gpujit.dtypes import scalar_type_code
        assert got == scalar_type_code(exp), f"{path}: {got!r}, eager {exp!r}"
    elif isinstance(exp, float):
        assert isinstance(got, float), f"{path}: {got!r}, eager {exp!r}"
        assert (math.isnan(exp) and math.isnan(got)) or math.isclose(
            got, exp, rel_tol=1e-6, abs_tol=1e-7), f"{path}: {got!r}, eager {exp!r}"
    else:
        assert type(got) is type(exp) and got == exp, f"{path}: {got!r}, eager {exp!r}"


def _grads(out, ts):
    """Gradients of the sum of the floating outputs w.r.t. the leaves (None: unused)."""
    leaves = [t for t in ts if t.requires_grad]
    outs = [o for o in _flat(out) if o.requires_grad and o.dtype.is_floating_point]
    if not leaves or not outs:
        return None
    s = sum(o.sum() for o in outs)
    return torch.autograd.grad(s, leaves, allow_unused=True)


def _differentiable(op, info):
    # (not an op recorded without a derivative, whose backward raises: PyTorch's
    # not_implemented, registry.not_implemented)
    return info.grad and isinstance(op.derivative, registry.Derivative) and \
        not op.derivative.not_implemented


def _signature(sample):
    def kind(v):
        if isinstance(v, np.ndarray):
            return (v.dtype.str, v.ndim)
        if isinstance(v, (list, tuple)):
            return tuple(kind(x) for x in v)
        return type(v).__name__
    return (tuple(kind(a) for a in sample.args),
            tuple(sorted((k, kind(v)) for k, v in sample.kwargs.items())))


def _samples(info, limit=3):
    seen, out = set(), []
    for s in info.get_samples():
        if isinstance(s, ErrorSample):
            continue
        key = _signature(s)
        if key in seen:
            continue
        seen.add(key)
        out.append(s)
        if len(out) >= limit:
            break
    return out


def _graph_key(rname, graph):
    """What decides how a graph runs: its text without source comments, and the registry
    op each node calls (a printed kind does not name the overload)."""
    import re
    ops = []

    def walk(nodes):
        for n in nodes:
            ops.append(getattr(n.op, "name", None))
            for b in n.blocks:
                walk(b.nodes())
    walk(graph.nodes())
    return rname, re.sub(r" #[^\n]*", "", str(graph)), tuple(ops)


def _check_variant(op, info, sample, kind, src, arrays, ran=None):
    """`ran`: graph key -> (eager result, eager gradients) of the sample's variants whose
    graph already ran: a method's or an in-place call's script or trace that gives the
    very graph a function's gave (t0.abs() and torch.abs(t0) both compile to aten::abs)
    runs the same code on the same inputs, so it is not run again: its eager result and
    gradients must equal the earlier variant's instead (what the run would have checked)."""
    env = {"torch": torch, "math": math}
    exec(src, env)
    pyf = env["f"]
    values = info.ref is not None or info.check is None      # random ops: metadata only
    rtol = sample.rtol if sample.rtol is not None else info.rtol
    atol = sample.atol if sample.atol is not None else info.atol
    grad = _differentiable(op, info) and getattr(sample, "grad", True)

    ts = _tensors(arrays, grad)
    try:
        exp = pyf(*ts)
    except Exception:
        return "eager refuses"
    if kind.endswith("(another API)"):
        args = [_to_tensor(a) for a in sample.args]
        kwargs = {k: _to_tensor(v) for k, v in sample.kwargs.items()}
        try:
            _compare(exp, op.public(*args, **kwargs), "", rtol, atol, values)
        except Exception:
            return "a Python function of another signature"
    exp_g = _grads(exp, ts) if grad and values else None

    try:
        runners = [("scripted", torch.jit.CompilationUnit(src).f)]
    except FrontendError:
        if kind.endswith("(another API)"):
            # F.nll_loss(x, t, w, 1): size_average is Optional[bool] in TorchScript too
            return "a Python function's arguments that TorchScript refuses too"
        raise
    if arrays and _flat(exp) and all(isinstance(o, torch.Tensor) for o in _flat(exp)) \
            and isinstance(exp, (torch.Tensor, tuple, list)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tr = torch.jit.trace(pyf, tuple(_tensors(arrays, grad)), check_trace=False)
        runners.append(("traced", tr))
    for rname, fn in runners:
        if ran is not None:
            key = _graph_key(rname, fn.graph)
            if key in ran:
                _compare(exp, ran[key][0], f"{rname} {kind}: eager, as the same graph's",
                         rtol, atol, values)
                if exp_g is not None or ran[key][1] is not None:
                    assert exp_g is not None and ran[key][1] is not None, \
                        f"{rname} {kind}: gradients where the same graph's had none"
                    _compare(exp_g, ran[key][1], f"{rname} {kind}: eager grads", rtol, atol,
                             True)
                continue
            ran[key] = (exp, exp_g)
        for call in range(3):
            ts = _tensors(arrays, grad)
            got = fn(*ts)
            where = f"{rname} {kind}, call {call + 1}"
            _compare(got, exp, where, rtol, atol, values)
            if exp_g is not None:
                g = _grads(got, ts)
                assert g is not None, f"{where}: no gradient"
                for i, (a, b) in enumerate(zip(g, exp_g)):
                    if a is None and b is None:
                        continue
                    a = torch.zeros_like(b) if a is None else a
                    b = torch.zeros_like(a) if b is None else b
                    _compare(a, b, f"{where}: grad of input {i}", rtol, atol, True)
    return None


@pytest.mark.parametrize("name", sorted(n for n in registry.OPS
                                        if registry.OPS[n].inplace_of is None))
def test_variant_consistency_jit(name):
    op = registry.OPS[name]
    if name in _NOT_SCRIPTABLE:
        pytest.skip(_NOT_SCRIPTABLE[name])
    info = INFOS[name]
    checked = 0
    differs = _TORCHSCRIPT_DIFFERS.get(name)
    for sample in _samples(info):
        if differs is not None and differs[0](sample):
            continue
        ran = {}
        for kind, src, arrays in _variants(op, sample):
            try:
                r = _check_variant(op, info, sample, kind, src, arrays, ran)
            except Exception as e:
                raise AssertionError(f"{name} {kind} on {sample}:\n{src}\n"
                                     f"{type(e).__name__}: {e}") from None
            checked += r is None
    if not checked:
        pytest.skip(f"{name}: no sample scriptable as a call")


# ---------------------------------------------------------------- test_jit_alias_remapping
# PyTorch's aliases (torch.absolute for abs, x.arctan_() for atan_ ...) called as a
# function, a method and in place, with the target op's samples (keywords as keywords):
# scripted code shows the target op, never the alias (TorchScript's normalize_ops), and
# gives the target's eager values. (special.expit / psi map through their Python names.)

def _alias_cases():
    from gpujit.ops.aliases import ALIASES
    table = dict(ALIASES)
    table.update({"special.expit": "sigmoid", "special.psi": "digamma",
                  "special.exp2": "exp2", "special.expm1": "expm1"})
    out = []
    for alias, target in sorted(table.items()):
        ops = [o for o in registry.OPS.values()
               if o.inplace_of is None and o.public_name == target
               and (o.bind_function or o.bind_method)]
        out.extend((alias, o.name) for o in ops)
    return out


@pytest.mark.parametrize("alias,name", _alias_cases())
def test_jit_alias_remapping(alias, name):
    op = registry.OPS[name]
    info = INFOS[name]
    samples = [s for s in _samples(info, limit=2)
               if s.args and isinstance(s.args[0], np.ndarray)]
    if not samples:
        pytest.skip(f"{name}: no sample with a tensor self")
    target = op.schema.name            # aten::abs
    checked = 0
    for sample in samples:
        forms = []
        if op.bind_function or "." in alias:
            forms.append(("function", f"torch.{alias}", False))
        if op.bind_method and "." not in alias:
            forms.append(("method", alias, False))
        if op.inplace_variant is not None and "." not in alias:
            forms.append(("inplace", alias + "_", True))
        for kind, spelled, clone in forms:
            p = _Params()
            args = list(sample.args)
            if kind == "function":
                head = spelled
            else:
                head = f"{p.expr(args.pop(0))}.{spelled}"
            try:
                parts = [p.expr(a) for a in args]
                parts += [f"{k}={p.expr(v)}" for k, v in sample.kwargs.items()]
            except _Unwritable:
                continue
            params = ", ".join(f"t{i}" for i in range(len(p.arrays)))
            body = "    t0 = t0.clone()\n" if clone else ""
            src = f"def f({params}):\n{body}    return {head}({', '.join(parts)})\n"
            # eager: the same call under the target's own name
            real = f"torch.{op.public_name}" if kind == "function" else \
                op.public_name + ("_" if clone else "")
            env = {"torch": torch, "math": math}
            exec(src.replace(f"{head}(", f"{head[:-len(spelled)]}{real}("), env)
            try:
                exp = env["f"](*_tensors(p.arrays, False))
            except Exception:
                continue                    # eager refuses it (an in-place cast)
            f = torch.jit.CompilationUnit(src).f
            kinds = {n.kind for n in f.graph.nodes()}
            want = target + ("_" if clone else "")
            assert want in kinds, f"{alias} ({kind}): no {want} in\n{f.graph}"
            assert not any(k.split("::")[-1] in (alias, alias + "_") for k in kinds), \
                f"{alias} ({kind}) stays an alias in\n{f.graph}"
            for _ in range(2):
                _compare(f(*_tensors(p.arrays, False)), exp, f"{alias} ({kind})",
                         info.rtol, info.atol, True)
            checked += 1
    if not checked:
        pytest.skip(f"{alias}: no sample eager accepts")

