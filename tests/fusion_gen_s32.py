"""Seeded generator for session 32's fusion hunt (tests/test_fusion_finds_s32.py): where the
older fuzzers are thin.

A case is a small scripted function of 1-3 tensors, a float `s` and an int `i`:
  - narrow integer inputs (int8 / uint8 / int16) and float16 next to the usual dtypes,
    mixed with Python int / float / bool scalars and constants (type promotion as torch),
  - where / clamp / masked_fill in runs (one group), with scalar and tensor operands,
  - in-place ops on intermediates (add_, mul_, clamp_, masked_fill_, ...), which may alias an
    input when the op before returned its operand (`x.float()` of a float32 x),
  - maybe a `with torch.jit.strict_fusion():` region around a run of its lines,
  - results that are views of inputs (`x.t()`, `x.unsqueeze(0)`, `x[0]`, `x.view(-1)`, x),
and a sequence of calls under STATIC, DYNAMIC or the default strategy whose inputs change
rank, broadcast pattern (1-dims, dropped leading dims), layout, dtype and requires_grad.

Plain data (str / int / tuples), so a failing case prints as its seed.
"""
from __future__ import annotations

import re

import numpy as np

DTYPES = ("float32", "float32", "float64", "float16", "int8", "uint8", "int16", "int32",
          "int64", "bool")
FLOATS = ("float16", "float32", "float64")
# {a}, {b}: tensors; {s}: the float argument; {i}: the int argument; {c}: a constant
# (no bool literals: TorchScript passes `x + False` as an int, so a bool x gives int64
# there, bool eagerly: PyTorch's scripted code does the same)
UNARY = [
    "{a} + {i}", "{a} * {s}", "{a} - 3", "2 * {a}", "{a} / 2", "{a} // 3", "{a} % 4",
    "{a} + 1.5", "{i} - {a}", "{s} * {a} + {i}", "{a} > {s}",
    "{a} <= {i}", "torch.clamp({a}, -2, 5)", "torch.clamp({a}, min={s})",
    "{a}.clamp(max={i})", "torch.clamp({a}, -1.5, 2.5)", "torch.where({a} > 0, {a}, {i})",
    "torch.where({a} > 0, {s}, {a})", "torch.where({a} != 0, 1, 0)",
    "torch.where({a} < 1, 0.5, 2)", "torch.masked_fill({a}, {a} < 0, {i})",
    "{a}.masked_fill({a} > 1, {s})", "torch.abs({a})", "-{a}", "{a}.to(torch.int8)",
    "{a}.to(torch.uint8)", "{a}.to(torch.int16)", "{a}.half()", "{a}.float()",
    "torch.relu({a})", "torch.sigmoid({a})", "{a} ** 2", "{a}.to(torch.int16) * {i}",
    "({a} * 3).to(torch.int8) + 1", "{a}.to(torch.uint8) - 1", "torch.clamp({a} * {s}, 0, 1)",
    "torch.where({a} > 0, {a} * 2, -{a}).clamp(-3, 3)", "{a}.masked_fill({a} == 0, 7) // 2",
    "torch.sign({a})", "{a}.float() * 0.5", "{a} * 1", "{a} + 0", "{a}.to(torch.bool)",
]
BINARY = [
    "{a} + {b}", "{a} * {b}", "{a} - {b}", "torch.where({a} > {b}, {a}, {b})",
    "torch.where({a} > 0, {b}, {s})", "torch.where({a} > 0, {i}, {b})",
    "torch.masked_fill({a}, {b} > 0, {s})", "{a}.masked_fill({b} < 1, {i})",
    "torch.clamp({a}, {b}, None)", "torch.clamp({a}, None, {b})", "torch.maximum({a}, {b})",
    "torch.minimum({a}, {b})", "{a} / {b}", "{a} * {b} + {i}", "torch.where({b} > {a}, 1.5, {a})",
    "({a} > {b}) & ({a} < 2)", "{a} + {b} * {s}", "torch.where({a} == {b}, {a} * {b}, {b})",
    "torch.masked_fill({a} * {b}, {a} > {b}, -1)",
]
# on an intermediate {v}
INPLACE = ["{v}.add_({b})", "{v}.mul_({s})", "{v}.clamp_(min=0)", "{v}.clamp_(-1, 1)",
           "{v}.masked_fill_({b} > 0, {i})", "{v}.sub_({i})", "{v}.relu_()", "{v}.mul_(2)",
           "{v}.add_(1)", "{v}.copy_({b})", "{v}.masked_fill_({v} < 0, 0)", "{v}.div_(2)"]
# views of an input {x} returned as results
VIEWS = ["{x}", "{x}.t()", "{x}.unsqueeze(0)", "{x}[0]", "{x}.view(-1)", "{x}.transpose(0, -1)",
         "{x}.squeeze()", "{x}.detach()", "{x}.reshape(-1)", "{x}.expand_as({v})",
         "{x}.unsqueeze(-1)"]
STRATEGIES = [None, [("DYNAMIC", 10)], [("STATIC", 10)], [("DYNAMIC", 2)],
              [("STATIC", 1), ("DYNAMIC", 2)]]
LAYOUTS = ("c", "c", "c", "t", "s", "e")


def _pick(r, seq):
    return seq[int(r.integers(len(seq)))]


def _program(r, unary=None, binary=None):
    unary, binary = unary or UNARY, binary or BINARY
    n = int(r.integers(1, 4))
    names = ["x", "y", "z"][:n]
    vals, fresh, lines = list(names), [], []
    for k in range(int(r.integers(2, 8))):
        a = _pick(r, vals[-3:] if r.random() < 0.7 else vals)
        b = _pick(r, vals)
        kind = r.random()
        if kind < 0.2 and fresh:
            lines.append(_pick(r, INPLACE).format(v=_pick(r, fresh), b=b, s="s", i="i"))
            continue
        tpl = _pick(r, binary if (len(vals) > 1 and kind < 0.6) else unary)
        v = f"t{k}"
        lines.append(f"{v} = " + tpl.format(a=a, b=b, s="s", i="i"))
        vals.append(v)
        fresh.append(v)
    if not fresh:
        lines.append("t9 = x * s")
        fresh.append("t9")
    # every value no later line uses is returned (a dead op that raises is dropped by the
    # compiled graph: a documented difference from eager, not what this hunt is after)
    # (an in-place op on a value does not use it), and so is every value an in-place op
    # writes after the last line that reads it (TorchScript drops that write as dead, so
    # eager's "result type Long can't be cast to ... Bool" or its saved-operand "modified
    # by an inplace operation" at backward would not happen compiled: seeds 3500205031,
    # 3500305088, 3500305169, 3500305170, 3500305283)
    def _reads(v):
        return [k for k, ln in enumerate(lines) if re.search(rf"\b{v}\b", ln)
                and not ln.startswith((f"{v} = ", f"{v}."))]

    def _last_write_dead(v):
        writes = [k for k, ln in enumerate(lines) if ln.startswith(f"{v}.")]
        return bool(writes) and max(writes) > max(_reads(v), default=-1)

    outs = [v for v in fresh if not _reads(v) or v == fresh[-1] or _last_write_dead(v)]
    if r.random() < 0.5:
        outs.append(_pick(r, VIEWS).format(x=_pick(r, names), v=fresh[-1]))
    body = [f"    {ln}" for ln in lines]
    strict = r.random() < 0.3
    if strict:
        lo = int(r.integers(len(body)))
        hi = int(r.integers(lo + 1, len(body) + 1))
        body = body[:lo] + ["    with torch.jit.strict_fusion():"] + \
            ["    " + ln for ln in body[lo:hi]] + body[hi:]
    params = ", ".join([f"{p}: torch.Tensor" for p in names] + ["s: float", "i: int"])
    src = f"def f({params}):\n" + "\n".join(body) + f"\n    return {', '.join(outs)}\n"
    return src, n, strict


def _shapes(r, rank, n):
    full = tuple(int(r.integers(1, 5)) for _ in range(rank))
    out = [full]
    for _ in range(1, n):
        s = list(full)
        if s and r.random() < 0.3:
            s = s[int(r.integers(0, len(s) + 1)):]
        s = [1 if r.random() < 0.3 else d for d in s]
        out.append(tuple(s))
    if r.random() < 0.3 and n > 1:      # the first one broadcasts against another
        j = int(r.integers(1, n))
        out[0], out[j] = out[j], out[0]
    if r.random() < 0.1 and full:
        d = int(r.integers(rank))
        out = [tuple(0 if (i == d + len(x) - rank and x[i] != 1) else x[i]
                     for i in range(len(x))) for x in out]
    return tuple(out)


def case(seed, unary=None, binary=None):
    """The case of `seed`; unary / binary: other line templates than UNARY / BINARY
    (session 38's generator adds the registry's ops these do not name)."""
    r = np.random.default_rng(seed)
    src, n, strict = _program(r, unary, binary)
    strategy = _pick(r, STRATEGIES)
    dtypes = tuple(_pick(r, DTYPES) for _ in range(n))
    rank = int(r.integers(0, 4))
    calls = []
    for k in range(int(r.integers(3, 8))):
        if k and r.random() < 0.5:
            rank = int(r.integers(0, 5))
        if k and r.random() < 0.35:
            dtypes = tuple(_pick(r, DTYPES) for _ in range(n))
        grad = tuple(j for j in range(n) if r.random() < 0.3)
        calls.append(dict(data=k, shapes=_shapes(r, rank, n), dtypes=dtypes,
                          layouts=tuple(_pick(r, LAYOUTS) for _ in range(n)), grad=grad,
                          s=float(_pick(r, [0.5, -2.0, 3.0, 1.25])),
                          i=int(_pick(r, [2, -1, 3, 0]))))
    return dict(seed=seed, src=src, n=n, strict=strict, strategy=strategy, calls=calls)


def _data(rng, dtype, shape):
    return np.asarray(_data0(rng, dtype, shape))


def _data0(rng, dtype, shape):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype == "uint8":
        return rng.integers(0, 10, shape).astype(dtype)
    if dtype.startswith("int"):
        return rng.integers(-5, 6, shape).astype(dtype)
    return (rng.standard_normal(shape) * 2).astype(dtype)


def make_args(c, lib, seed):
    """The call's tensors for lib (gpujit or torch), the same values for both."""
    rng = np.random.default_rng([seed, c["data"]])
    out = []
    for j, (shape, dtype, lay) in enumerate(zip(c["shapes"], c["dtypes"], c["layouts"])):
        rank = len(shape)
        if lay == "t" and rank >= 2:
            a = lib.from_numpy(_data(rng, dtype, tuple(reversed(shape)))).permute(
                *reversed(range(rank)))
        elif lay == "s" and rank >= 1:
            a = lib.from_numpy(_data(rng, dtype, tuple(2 * d for d in shape)))[
                tuple(slice(None, None, 2) for _ in shape)]
        elif lay == "e" and rank >= 1 and shape[0] not in (0, 1):
            a = lib.from_numpy(_data(rng, dtype, (1,) + shape[1:])).expand(*shape)
        else:
            a = lib.from_numpy(_data(rng, dtype, shape))
        if j in c["grad"] and dtype in FLOATS:
            a = a.detach().requires_grad_(True)
        out.append(a)
    return out
