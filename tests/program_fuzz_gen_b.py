"""A second mode of the program generator (tests/program_fuzz_gen.py): the op families
the first does not generate, so the first's seeds keep their programs
(tests/test_program_fuzz_s22.py runs these).

- reductions feeding and fed by fused ops: sum/mean/amax/amin/prod/var/std with dim lists,
  keepdim and dtype=, softmax/log_softmax/logsumexp, cumsum, argmax;
- matmul/mm/bmm/linear between fused regions; chunk/split/unbind outputs feeding fused
  ops; repeat/expand_as/flip/roll/permute/contiguous;
- type promotion corners (0-dim tensors with dimensioned ones, int and bool tensors with
  float numbers, float16 with float32, int32 with int64, true and rounding division,
  remainder/fmod of negatives, bitwise ops and shifts, int and negative powers, where with
  number branches of mixed type);
- special values handled by ops (nan bounds of clamp, nan_to_num, fmax/fmin, signbit,
  isnan/isinf).
"""
from __future__ import annotations

import re

from program_fuzz_gen import ProgramGen, Var, bcast

# (template, result category or None for the operand's); {a} the value, {b} an operand of
# a's shape or broadcasting into it, {z} any non-float tensor (reduced to 0-dim by the
# template), {w} any float tensor
_CORNER_F = [
    ("{a} * {z}.sum()", "f"), ("{a} + {w}.sum() * 0.5", "f"),
    ("torch.div({a}, {b}, rounding_mode='floor')", "f"),
    ("torch.div({a}, {b}, rounding_mode='trunc')", "f"),
    ("torch.floor_divide({a}, -1.5)", "f"),
    ("torch.remainder({a}, -1.5)", "f"), ("torch.fmod({a}, -2.0)", "f"), ("{a} % {b}", "f"),
    ("torch.fmod({a}, {b})", "f"),
    ("torch.clamp({a}, min=float('nan'))", "f"), ("torch.clamp({a}, -0.5, float('nan'))", "f"),
    ("torch.clamp({a}, {b}, {b} + 1.0)", "f"), ("torch.clamp({a}, max={b})", "f"),
    ("torch.fmax({a}, {b})", "f"), ("torch.fmin({a}, {b})", "f"), ("{a}.max({b})", "f"),
    ("torch.nan_to_num({a}, nan=0.5, posinf=2.0, neginf=-3.0)", "f"),
    ("torch.nan_to_num({a}, 1.0)", "f"), ("{a} ** -2", "f"), ("{a} ** 0.5", "f"),
    ("{a}.pow(-1)", "f"), ("torch.pow(2.0, {a})", "f"), ("torch.pow({a}, {b})", "f"),
    ("{a}.half() + {b}", "f"), ("{a}.half() * {a}.half()", "f"), ("{a}.double() - {b}", "f"),
    ("torch.where({a} > 0, {a}, 2)", "f"), ("torch.where({a} > 0, 1.5, {a})", "f"),
    ("torch.where({a} > 0, 1.0, 0)", "f"), ("torch.where({a} < 0, 1, 0)", "i"),
    ("torch.signbit(torch.nan_to_num({a}))", "b"), ("{a}.sign()", "f"), ("torch.isnan({a})", "b"),
    ("torch.isinf({a})", "b"), ("torch.isfinite({a})", "b"), ("torch.round({a})", "f"),
    ("torch.round({a}, decimals=1)", "f"), ("{a}.floor() + {a}.ceil()", "f"),
    ("torch.minimum({a}, torch.tensor(float('nan')))", "f"),
    ("{a} * torch.tensor(3)", "f"), ("{a} + torch.tensor(0.5, dtype=torch.float64)", "f"),
    ("{a} > {z}.sum()", "b"), ("{a}.frac()", "f"), ("torch.trunc({a}) == {a}", "b"),
]
_CORNER_I = [
    ("{a} / {b}", "f"), ("torch.true_divide({a}, 3)", "f"),
    ("torch.div({a}, {b}.abs() + 1, rounding_mode='floor')", "i"),
    ("torch.div({a}, -3, rounding_mode='trunc')", "i"),
    ("torch.div({a}, 2.5, rounding_mode='floor')", "f"), ("{a} // -2", "i"),
    ("{a} % -3", "i"), ("torch.fmod({a}, -3)", "i"), ("torch.remainder({a}, {b}.abs() + 1)", "i"),
    ("torch.fmod({a}, 2.5)", "f"), ("{a} % 1.5", "f"),
    ("{a} & {b}", "i"), ("{a} | 3", "i"), ("{a} ^ {b}", "i"), ("{a} << 2", "i"),
    ("{a} >> 1", "i"), ("torch.bitwise_not({a})", "i"), ("~{a}", "i"),
    ("torch.bitwise_xor({a}, -5)", "i"), ("{a}.abs() >> ({a}.abs() % 3)", "i"),
    ("{a} ** 2", "i"), ("{a} ** ({b}.abs() % 3)", "i"), ("{a} ** -1", "i"),
    ("torch.pow({a}, 0.5)", "f"), ("2 ** ({a}.abs() % 5)", "i"),
    ("{a} > 0.5", "b"), ("{a} == 1.0", "b"), ("{a} <= -0.5", "b"), ("{a} + 0.5", "f"),
    ("{a} * 1.5", "f"), ("{a}.to(torch.int32) + {b}", "i"),
    ("{a}.to(torch.int32) * {a}.to(torch.int32)", "i"), ("{a} * {w}.sum()", "f"),
    ("{a} - {z}.sum()", "i"), ("torch.where({a} > 0, {a}, 0.5)", "f"),
    ("torch.where({a} > 0, -1, {a})", "i"), ("{a}.float() / {a}.abs().sum()", "f"),
    ("{a} + torch.tensor(2.5)", "f"), ("{a} * torch.tensor(2, dtype=torch.int32)", "i"),
    ("torch.clamp({a}, 0.5)", "f"), ("torch.maximum({a}, {b})", "i"), ("{a}.sign()", "i"),
]
_CORNER_B = [
    ("{a} + 1.5", "f"), ("{a} + 1", "i"), ("{a} * {a}", "b"), ("{a} & {b}", "b"),
    ("{a} ^ ({b} > 0)", "b"), ("{a} | {a}", "b"), ("torch.where({a}, 1, 0.5)", "f"),
    ("torch.where({a}, 2, -1)", "i"), ("{a} * 2.5", "f"), ("{a}.float() - {a}.sum()", "f"),
    ("{a}.sum() + {a}", "i"), ("{a} == ({b} > 0)", "b"), ("{a}.to(torch.float16) * 3", "f"),
]

_REDUCE = ["sum", "mean", "amax", "amin", "prod", "var", "std", "logsumexp", "softmax",
           "log_softmax", "cumsum", "argmax", "argmin", "norm"]


class ProgramGenB(ProgramGen):
    """ProgramGen with the corner ops (a pointwise step takes one 40% of the time) and
    the statements below in its mix."""

    def corner(self, text, cat, shape):
        r = self.r
        tpl, c = r.choice({"f": _CORNER_F, "i": _CORNER_I, "b": _CORNER_B}[cat])
        b = self.operand_into(shape, cat if r.random() < 0.7 else None) or Var(text, shape, cat)
        z = self.pick(lambda v: v.cat != "f") or self.vars[0]
        w = self.pick(lambda v: v.cat == "f") or self.vars[0]
        out = tpl.format(a=f"({text})", b=b.name if b.name == text else b.name,
                         z=z.name, w=w.name)
        if c == "f" and cat == "i" and "{b}" in tpl and b.cat == "f" and "/" not in tpl:
            c = "f"
        if c == "i" and b.cat == "f" and ("{b}" in tpl):
            c = "f"
        return out, c

    def pointwise(self, a, depth):
        text, cat = a.name, a.cat
        for _ in range(depth):
            if self.r.random() < 0.4:
                text, cat = self.corner(f"({text})" if text != a.name else text, cat, a.shape)
            else:
                text, cat = ProgramGen.pointwise(self, Var(text, a.shape, cat), 1)
        return text, cat

    # ------------------------------------------------------------------ statements
    def st_reduce_b(self):
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1 and (v.cat != "b" or r.random() < 0.2))
        fn = r.choice(_REDUCE)
        nd = len(a.shape)
        d = r.randrange(nd)
        keep = r.random() < 0.4
        src, cat0 = a.name, a.cat
        if r.random() < 0.3:         # a fused producer
            src, cat0 = self.pointwise(a, 1)
            src = f"({src})"
        if cat0 != "f" and fn in ("mean", "var", "std", "norm", "softmax", "log_softmax",
                                  "logsumexp") and r.random() < 0.9:
            src += ".float()"
        shape = list(a.shape)
        dt = r.choice(["", "", "", ", dtype=torch.float64", ", dtype=torch.float32"])
        cat = "f"
        if fn in ("softmax", "log_softmax", "cumsum"):
            dd = d - nd if r.random() < 0.5 else d
            text = (f"torch.{fn}({src}, {dd}{dt})" if r.random() < 0.5
                    else f"{src}.{fn}({dd}{dt})")
            if fn == "cumsum" and not dt:
                cat = a.cat if a.cat != "b" else "i"
        elif fn in ("argmax", "argmin"):
            cat = "i"
            if r.random() < 0.25:
                text, shape = f"{src}.{fn}()", []
            else:
                text = f"{src}.{fn}({d}{', keepdim=True' if keep else ''})"
                if keep:
                    shape[d] = "1"
                else:
                    del shape[d]
        else:
            dims = d
            if nd >= 2 and r.random() < 0.3:
                dims = r.choice(["[0, 1]", "[-1, 0]", "[1]", "(0, -1)"])
                idx = {"[0, 1]": [0, 1], "[-1, 0]": [0, nd - 1], "[1]": [1],
                       "(0, -1)": [0, nd - 1]}[dims]
                if fn == "prod" or fn == "logsumexp" and "(" in dims:
                    dims, idx = d, [d]
            else:
                idx = [d]
            full = r.random() < 0.15 and fn not in ("logsumexp",)
            if full:
                idx = list(range(nd))
                keep = False
            kw = ", keepdim=True" if keep else ""
            if fn in ("sum", "mean", "prod"):
                dtk = dt if fn != "mean" or dt != ", dtype=torch.float16" else ""
                text = f"{src}.{fn}({'' if full else dims}{kw if not full else ''}" \
                       f"{dtk if not full else dtk.lstrip(', ')})"
                if fn != "mean" and not dtk:
                    cat = "i" if a.cat in "ib" else "f"
            elif fn in ("amax", "amin"):
                text = f"{src}.{fn}({'' if full else dims}{kw})"
                cat = a.cat
            elif fn in ("var", "std"):
                extra = r.choice(["", ", unbiased=False", ", correction=0"])
                if full:
                    text = f"{src}.{fn}({extra.lstrip(', ')})"
                else:
                    text = f"{src}.{fn}({dims}{extra}{kw})"
            elif fn == "norm":
                p = r.choice(["", "1", "float('inf')", "3"])
                text = (f"{src}.norm()" if full or not p
                        else f"{src}.norm({p}, {dims}{kw})")
                if full or not p:
                    idx, keep = list(range(nd)), False
            else:   # logsumexp
                text = f"torch.logsumexp({src}, {dims}{kw})"
            if keep:
                for i in idx:
                    shape[i] = "1"
            else:
                shape = [s for i, s in enumerate(shape) if i not in idx]
        v = self.assign(text, shape, cat)
        if r.random() < 0.6:          # a fused consumer, often with another value
            t, c = self.pointwise(self.vars[-1], r.randint(1, 2))
            b = self.operand_into(tuple(shape)) if shape else self.pick(lambda x: x.cat == "f")
            if b is not None and r.random() < 0.6:
                t = f"({t}) * {b.name}" if shape else f"{b.name} - ({t})"
                sh = shape if shape else list(b.shape)
                c = "f" if "f" in (c, b.cat) else ("i" if "i" in (c, b.cat) else "i")
                self.assign(t, sh, c)
            else:
                self.assign(t, shape, c)
        return v

    def st_matmul(self):
        r = self.r
        a = self.pick(lambda v: len(v.shape) == 2 and v.cat == "f")
        if a is None:
            return
        P, Q = a.shape
        same = [v for v in self.vars if v.shape == a.shape and v.cat == "f"]
        b = r.choice(same)
        kind = r.randrange(7)
        pa, ca = self.pointwise(a, r.randint(0, 1) if kind != 3 else 0)
        pb, cb = self.pointwise(b, r.randint(0, 1))
        # no Bool operands: PyTorch's CPU product of a 0-size result or contraction skips
        # its dtype check (a Bool mm answers), gpujit's raises as for other sizes
        pa = f"({pa}).float()" if ca == "b" else pa
        pb = f"({pb}).float()" if cb == "b" else pb
        if kind == 0:
            text, shape = f"torch.matmul({pa}, ({pb}).t())", (P, P)
        elif kind == 1:
            text, shape = f"({pa}).t() @ ({pb})", (Q, Q)
        elif kind == 2:
            text, shape = f"torch.mm({pa}, ({pb}).transpose(0, 1))", (P, P)
        elif kind == 3:
            # (of one dtype: PyTorch's CPU bmm of a 0-size result skips its dtype check)
            text, shape = (f"torch.bmm(({pa}).unsqueeze(0), ({pb}).type_as({a.name}).t()"
                           f".unsqueeze(0)).squeeze(0)", (P, P))
        elif kind == 4:
            bias = r.choice(["", f", {b.name}[:, 0]", f", {b.name}.sum(1)"])
            text, shape = f"torch.nn.functional.linear({pa}, {pb}{bias})", (P, P)
        elif kind == 5:
            v1 = self.pick(lambda v: v.shape == (Q,) and v.cat == "f")
            if v1 is None:
                return
            text, shape = f"torch.matmul({pa}, {v1.name})", (P,)
        else:
            text, shape = (f"torch.matmul(({pa}).unsqueeze(0).expand(2, -1, -1), ({pb}).t())",
                           ("2", P, P))
        self.assign(text, shape, "f")
        if r.random() < 0.7:
            t, c = self.pointwise(self.vars[-1], r.randint(1, 3))
            self.assign(t, shape, c)

    def st_split(self):
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1 and v.cat != "b")
        if a is None:
            return
        nd = len(a.shape)
        d = r.randrange(nd)
        src, cat = a.name, a.cat
        if r.random() < 0.5:          # the producer fused with the chunk (chunk fusion)
            src, cat = self.pointwise(a, r.randint(1, 2))
            src = f"({src})"
        sh = list(a.shape)
        kind = r.randrange(5)
        p, q = self.fresh(), self.fresh()
        if kind == 0:
            self.emit(f"{p}, {q} = {src}.chunk(2, {d})")
            sp, sq = list(sh), list(sh)
            sp[d], sq[d] = sh[d] + "/c2a", sh[d] + "/c2b"
        elif kind == 1:
            self.emit(f"{p}, {q} = torch.chunk({src}, 2, {d - nd})")
            sp, sq = list(sh), list(sh)
            sp[d], sq[d] = sh[d] + "/c2a", sh[d] + "/c2b"
        elif kind == 2:
            self.emit(f"_s{p} = {src}.split(1, {d})\n{p} = _s{p}[0]\n{q} = _s{p}[-1]")
            sp, sq = list(sh), list(sh)
            sp[d] = sq[d] = "1"
        elif kind == 3:
            self.emit(f"_s{p} = {src}.unbind({d})\n{p} = _s{p}[0]\n{q} = _s{p}[-1]")
            sp = sq = sh[:d] + sh[d + 1:]
        else:
            self.emit(f"{p} = {src}.select({d}, 0) * 0\nfor _t in {src}.unbind({d}):\n"
                      f"    {p} = {p} + _t")
            sp = sq = sh[:d] + sh[d + 1:]
            q = None
        self.vars.append(Var(p, sp, cat))
        if q is not None:
            self.vars.append(Var(q, sq, cat))
        if r.random() < 0.8:
            t, c = self.pointwise(self.vars[-1 if q is None or r.random() < 0.5 else -2], 2)
            self.assign(t, self.vars[-1].shape, c)

    def st_shape_ops(self):
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1)
        sh = list(a.shape)
        nd = len(sh)
        opts = [(f"{a.name}.flip(0)", sh), (f"{a.name}.roll(1, 0)", sh),
                (f"torch.roll({a.name}, -2, {nd - 1})", sh),
                (f"{a.name}.repeat(2{', 1' * (nd - 1)})", ["2*" + sh[0]] + sh[1:]),
                (f"{a.name}.contiguous()", sh)]
        if nd == 2:
            opts += [(f"{a.name}.flip([0, 1])", sh), (f"{a.name}.flip(-1)", sh),
                     (f"{a.name}.roll((1, -1), (0, 1))", sh),
                     (f"{a.name}.repeat(1, 3)", [sh[0], "3*" + sh[1]]),
                     (f"{a.name}.repeat(2, 1, 1)", ["2"] + sh),
                     (f"{a.name}.unsqueeze(2).permute(2, 1, 0)", ["1", sh[1], sh[0]]),
                     (f"{a.name}.permute(1, 0).contiguous()", sh[::-1]),
                     (f"{a.name}.t().flip(0)", sh[::-1]), (f"{a.name}.roll(3)", sh)]
        tgt = self.pick(lambda v: bcast(v.shape, a.shape) == v.shape and v.shape != a.shape)
        if tgt is not None:
            opts.append((f"{a.name}.expand_as({tgt.name})", list(tgt.shape)))
        text, shape = r.choice(opts)
        self.assign(text, shape, a.cat, expanded=a.expanded or "expand" in text)
        if r.random() < 0.6:
            t, c = self.pointwise(self.vars[-1], r.randint(1, 3))
            self.assign(t, shape, c)

    def program(self):
        r = self.r
        self.nret = r.randint(1, 3)
        stmts = [self.st_pointwise] * 3 + [
            self.st_reduce_b, self.st_reduce_b, self.st_reduce_b, self.st_matmul,
            self.st_matmul, self.st_split, self.st_split, self.st_shape_ops,
            self.st_shape_ops, self.st_reduce, self.st_view, self.st_inplace,
            self.st_inplace_view, self.st_if, self.st_for, self.st_list, self.st_optional,
            self.st_early_return, self.st_scalar, self.st_unstable_loop]
        for _ in range(r.randint(3, self.max_stmts)):
            fn = r.choice(stmts)
            if fn == self.st_early_return:
                if len(self.vars) < 4:
                    continue
                self.rets = [r.choice(self.vars).name for _ in range(self.nret)]
            fn()
        self.st_pointwise()
        outs = [self.vars[-1].name] + [r.choice(self.vars).name for _ in range(self.nret - 1)]
        self.emit(f"return {', '.join(outs)}")
        head = ("def f(x0: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, "
                "o: Optional[torch.Tensor], s: float, n: int):\n")
        # (an int % 0 kills TorchScript's interpreter with SIGFPE: A = 0 calls)
        body = re.sub(r"_i % (\w+)\.size\(0\)", r"_i % max(\1.size(0), 1)", "\n".join(self.lines))
        return head + _finite_gelu(body) + "\n"


def _finite_gelu(text):
    """gelu's argument clamped to +-1e4: PyTorch's vectorized CPU gelu gives nan for inf
    (gpujit's inf, as x * Phi(x))."""
    key = "torch.nn.functional.gelu("
    i = text.find(key)
    while i >= 0:
        j, depth = i + len(key), 1
        while depth:
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
        text = text[:i + len(key)] + "(" + text[i + len(key):j - 1] + ").clamp(-1e4, 1e4)" \
            + text[j - 1:]
        i = text.find(key, i + 1)
    return text


def program_b(seed, **kw):
    """(source text, traceable) for a seed, in the second mode."""
    g = ProgramGenB(seed, **kw)
    src = g.program()
    return src, not g.data_dependent
