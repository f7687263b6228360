"""Seeded generator of CALL SEQUENCES for the guard / fusion-strategy fuzz
(tests/test_guard_fuzz_s25.py).

A case is a small random elementwise function (2-6 pointwise ops with Python-number
constants, maybe a Python-number argument, maybe a non-fusible op in the middle), how it
is compiled (scripted or traced), the fusion strategy in force when it is compiled (and
maybe other strategies set between later calls: a function keeps the one it compiled
with), and 10-30 calls whose inputs vary as a TorchScript user's do: new sizes, the same
sizes with other strides (transposed, sliced with steps, expanded, overlapping
as_strided, channels-last-like permutations), 0-size and 0-dim tensors, size-1 dims that
broadcast, other dtypes (mixed between arguments), requires_grad on or off, an input
passed twice or an overlapping view of another, and calls under no_grad.

Everything is plain data (tuples of str / int / float), so a failing case prints as its
seed and can be replayed; `arrays(call, lib)` turns one call into the arguments for
gpujit (or for torch, in a differential run) from NumPy data.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["case", "make_args", "FLOAT_DTYPES", "source_of"]

FLOAT_DTYPES = ("float16", "float32", "float64")
ALL_DTYPES = ("float32", "float32", "float64", "float16", "int32", "int64", "bool")

# unary ops: {a} an operand, {c} a Python number constant (a remainder of a clamped
# value: of exp(x * x), an ulp between the kernels' exp and eager's is larger than c)
UNARY = [
    "torch.sigmoid({a})", "torch.tanh({a})", "{a}.relu()", "torch.abs({a})", "-{a}",
    "{a} * {c}", "{a} + {c}", "{a} - {c}", "{c} - {a}", "torch.clamp({a}, -1.5, 2.0)",
    "{a} / {c}", "{a}.float()", "{a}.double()", "torch.exp({a})", "{a} * {a}",
    "torch.where({a} > 0, {a}, {c})", "({a} > {c})", "{a}.to(torch.float16)",
    "torch.neg({a}).abs()", "{a}.type_as({b})", "{a}.int()", "{a}.long() * 3",
    "{a} // 2", "torch.clamp({a}, -50.0, 50.0) % {c}", "torch.pow({a}, 2)", "{a}.to(torch.bool)", "~({a} > 0)",
    "{a}.contiguous()", "torch.sqrt(torch.abs({a}))", "torch.erf({a})",
]
BINARY = [
    "{a} + {b}", "{a} * {b}", "{a} - {b}", "torch.maximum({a}, {b})",
    "torch.minimum({a}, {b})", "torch.where({a} > {b}, {a}, {b})", "{a} + {b} * {c}",
    "torch.add({a}, {b}, alpha=2)", "{a} / ({b}.abs() + 1)", "{a} & {b}",
    "({a} > 0) | ({b} < 0)", "torch.lerp({a}.float(), {b}.float(), 0.25)",
]
WITH_S = ["{a} * s", "{a} + s", "{a} - s * {b}"]
# not fusible: the group is cut in two around it
BREAKS = ["{a}.cumsum(-1)", "{a}.sum(-1, keepdim=True)", "torch.flip({a}, [-1])"]
CONSTS = [0.5, 2.0, -1.5, 3.0, 1.25]

STRATEGIES = [
    None,                                      # the default ((STATIC, 2), (DYNAMIC, 10))
    [("STATIC", 1), ("DYNAMIC", 1)], [("DYNAMIC", 2)], [("STATIC", 2)], [("STATIC", 1)],
    [("DYNAMIC", 1)], [], [("STATIC", 0)], [("DYNAMIC", 0), ("STATIC", 1)],
    [("STATIC", 1), ("DYNAMIC", 2), ("STATIC", 1)], [("DYNAMIC", 1), ("STATIC", 1)],
]

VARIATIONS = ["same", "same", "newsize", "newsize", "newrank", "transpose", "slice", "large",
              "expand", "overlap", "perm", "zero", "zerodim", "bcast", "dtype", "dtype",
              "alias", "aliasview", "grad", "nograd", "strategy", "scalar"]


def _pick(r, seq):
    return seq[int(r.integers(len(seq)))]


def source_of(ops, n_tensor, with_s, outputs):
    """The function's source (torch is the library: gpujit or torch)."""
    params = ["x", "y", "z"][:n_tensor]
    head = ", ".join(params + (["s: float"] if with_s else []))
    lines = [f"def f({head}):"]
    for k, expr in enumerate(ops):
        lines.append(f"    t{k} = {expr}")
    lines.append(f"    return {', '.join(outputs)}")
    return "\n".join(lines) + "\n"


def _program(r, traced):
    n_tensor = int(r.integers(1, 4))
    with_s = not traced and r.random() < 0.4
    vals = ["x", "y", "z"][:n_tensor]
    n_ops = int(r.integers(2, 7))
    brk = int(r.integers(1, n_ops)) if r.random() < 0.3 else -1
    ops = []
    for k in range(n_ops):
        a = _pick(r, vals[-3:] if r.random() < 0.7 else vals)
        b = _pick(r, vals)
        c = _pick(r, CONSTS)
        if k == brk:
            t = _pick(r, BREAKS)
        elif with_s and r.random() < 0.25:
            t = _pick(r, WITH_S)
        elif len(vals) > 1 and r.random() < 0.5:
            t = _pick(r, BINARY)
        else:
            t = _pick(r, UNARY)
        ops.append(t.format(a=a, b=b, c=c))
        vals.append(f"t{k}")
    # every value no op uses is returned (a dead op that raises is dropped by the
    # compiled graph: a documented difference from eager, not what this fuzz is after)
    used = set(re.findall(r"\bt\d+\b", " ".join(ops)))
    outputs = [f"t{k}" for k in range(n_ops) if f"t{k}" not in used]
    return source_of(ops, n_tensor, with_s, outputs), n_tensor, with_s


def _shape(r, rank):
    return tuple(int(r.integers(1, 6)) for _ in range(rank))


def _arg_shapes(r, full, n):
    """A shape per argument broadcasting to `full`: the first keeps it, the others may
    drop leading dims or have 1s (broadcast)."""
    out = [full]
    for _ in range(1, n):
        s = list(full)
        if s and r.random() < 0.3:
            s = s[int(r.integers(0, len(s) + 1)):]
        s = [1 if (d > 1 and r.random() < 0.25) else d for d in s]
        out.append(tuple(s))
    return out


def case(seed):
    """One case: a dict (plain data) of the program and its calls."""
    r = np.random.default_rng(seed)
    traced = r.random() < 0.3
    src, n_tensor, with_s = _program(r, traced)
    strategy = _pick(r, STRATEGIES)
    rank = int(r.integers(0, 4))
    full = _shape(r, rank)
    shapes = _arg_shapes(r, full, n_tensor)
    dtypes = ["float32"] * n_tensor
    layouts = ["c"] * n_tensor
    s = float(_pick(r, CONSTS))
    calls = []
    # the first calls repeat (profiling, then optimized); traced: the first is the trace
    base = dict(shapes=tuple(shapes), dtypes=tuple(dtypes), layouts=tuple(layouts), s=s,
                grad=(), nograd=False, alias=None, strategy=None)
    calls.append(dict(base, data=0))
    calls.append(dict(base, data=1))
    for k in range(int(r.integers(10, 31)) - 2):
        c = dict(calls[-1] if r.random() < 0.5 else base)
        c.update(data=k + 2, grad=(), nograd=False, alias=None, strategy=None)
        c["layouts"] = ("c",) * n_tensor
        for _ in range(int(r.integers(1, 3))):
            v = _pick(r, VARIATIONS)
            sh, dt, lay = list(c["shapes"]), list(c["dtypes"]), list(c["layouts"])
            j = int(r.integers(n_tensor))
            if v == "newsize":
                sh = _arg_shapes(r, _shape(r, len(sh[0])), n_tensor)
            elif v == "newrank":
                sh = _arg_shapes(r, _shape(r, int(r.integers(0, 5))), n_tensor)
            elif v == "large" and sh[0] and max(sh[0]) < 1000:   # the CPU kernels' chunks
                d = int(r.integers(len(sh[0])))
                big = int(_pick(r, [1031, 4099]))
                sh = [tuple(big if (i == d + len(x) - len(sh[0]) and x[i] != 1) else x[i]
                            for i in range(len(x))) for x in sh]
                sh[0] = tuple(big if i == d else n for i, n in enumerate(sh[0]))
            elif v in ("transpose", "slice", "expand", "overlap", "perm"):
                lay[j] = v
            elif v == "zero" and sh[0]:
                d = int(r.integers(len(sh[0])))
                sh = [tuple(0 if (i == d + len(x) - len(sh[0]) and x[i] != 1) else x[i]
                            for i in range(len(x))) for x in sh]
                sh[0] = tuple(0 if i == d else n for i, n in enumerate(sh[0]))
            elif v == "zerodim" and j > 0:
                sh[j] = ()
            elif v == "bcast" and sh[j]:
                x = list(sh[j])
                x[int(r.integers(len(x)))] = 1
                sh[j] = tuple(x)
            elif v == "dtype":
                dt[j] = _pick(r, ALL_DTYPES)
                if r.random() < 0.5:
                    dt = [dt[j]] * n_tensor
            elif v == "alias" and n_tensor > 1:
                c["alias"] = ("same", j if j else 1)
            elif v == "aliasview" and n_tensor > 1:
                c["alias"] = ("view", j if j else 1)
            elif v == "grad":
                c["grad"] = tuple(i for i in range(n_tensor) if r.random() < 0.7) or (0,)
            elif v == "nograd":
                c["grad"] = (0,)
                c["nograd"] = True
            elif v == "strategy":
                c["strategy"] = _pick(r, STRATEGIES[1:])
            elif v == "scalar":
                c["s"] = _pick(r, [2, -1.5, 0.0, 3])     # an int where a float is declared
            c["shapes"], c["dtypes"], c["layouts"] = tuple(sh), tuple(dt), tuple(lay)
        calls.append(c)
    return dict(seed=seed, src=src, traced=traced, n_tensor=n_tensor, with_s=with_s,
                strategy=strategy, calls=calls)


def _data(rng, dtype, shape):
    a = np.asarray(rng.standard_normal(shape) * 2)
    if dtype == "bool":
        return np.asarray(a > 0)
    if dtype.startswith("int"):
        return np.asarray(np.round(a * 2).astype(dtype))
    return np.asarray(a.astype(dtype))


def make_args(c, j, lib, seed, n_tensor):
    """The tensor arguments of call c for lib (gpujit or torch), the same values for both;
    each built from NumPy data through the layout c names. Returns (the tensors,
    the leaves that require grad: where c asks, floating ones)."""
    rng = np.random.default_rng([seed, c["data"]])
    out = []
    for i in range(n_tensor):
        shape, dtype, lay = c["shapes"][i], c["dtypes"][i], c["layouts"][i]
        rank = len(shape)
        if lay == "transpose" and rank >= 2:
            a = lib.from_numpy(_data(rng, dtype, tuple(reversed(shape)))).permute(
                *reversed(range(rank)))
        elif lay == "perm" and rank >= 3:       # channels-last-like: dim 1 innermost
            order = (0,) + tuple(range(2, rank)) + (1,)
            stored = tuple(shape[d] for d in order)
            inv = tuple(order.index(d) for d in range(rank))
            a = lib.from_numpy(_data(rng, dtype, stored)).permute(*inv)
        elif lay == "slice" and rank >= 1:
            big = tuple(2 * n for n in shape)
            a = lib.from_numpy(_data(rng, dtype, big))[tuple(slice(None, None, 2)
                                                             for _ in shape)]
        elif lay == "expand" and rank >= 1 and shape[0] != 0:
            a = lib.from_numpy(_data(rng, dtype, (1,) + shape[1:])).expand(*shape)
        elif lay == "overlap" and rank >= 1 and 0 not in shape:
            # overlapping windows: stride 1 in every dim (elements shared between rows)
            n = sum(shape) + 1
            base = lib.from_numpy(_data(rng, dtype, (n,)))
            a = base.as_strided(shape, (1,) * rank)
        else:
            a = lib.from_numpy(_data(rng, dtype, shape))
        out.append(a)
    for i in c["grad"]:
        if i < len(out) and str(out[i].dtype).split(".")[-1] in FLOAT_DTYPES:
            if not out[i].requires_grad:
                out[i] = out[i].detach().requires_grad_(True)
    leaves = [a for a in out if a.requires_grad]
    if c["alias"] is not None and n_tensor > 1:
        how, j2 = c["alias"]
        src = out[0]
        if how == "same" and c["dtypes"][j2] == c["dtypes"][0]:
            out[j2] = src
        elif how == "view" and src.numel() >= 1:
            # two overlapping views of one buffer, one element apart, shaped as the first
            n = src.numel()
            base = lib.from_numpy(_data(rng, c["dtypes"][0], (n + 1,)))
            if src.requires_grad:
                base.requires_grad_(True)
                leaves.append(base)
            out[0] = base[:n].view(tuple(src.shape))
            out[j2] = base[1:].view(tuple(src.shape))
    return out, leaves
