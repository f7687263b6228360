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
        # (+ 0 makes a product's -0.0 a 0.0: PyTorch's CPU mm of a contraction of length 1
        # is the products themselves (0 * -1 = -0.0), some BLAS paths start their sums at
        # +0.0 and NumPy's always does; a later pow(-1) made it -inf against inf: seed
        # 35004 k = 33)
        self.assign(f"({text}) + 0", shape, "f")
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


# ------------------------------------------------------------------ the extended sub-mode
# (program_bx: session 25) op families the modes above do not draw. ProgramGenBX adds its
# statements to ProgramGenB's mix and its pointwise steps to the corner ops, so mode 2's
# seeds (program_b) keep their programs. Templates: {a} the value (float), {b} a float
# operand broadcasting into it, {s} the float argument.
_F = "torch.nn.functional."
_EXT_F = [
    ("torch.addcdiv({a}, {b}, {b}.abs() + 1, value=0.5)", "f"),
    ("torch.addcmul({a}, {b}, {a}, value=-2)", "f"), ("torch.lerp({a}, {b}, {b}.sigmoid())", "f"),
    ("torch.clamp({a}, min={b})", "f"), ("{a}.clamp_min({b})", "f"), ("{a}.clamp_max(0.5)", "f"),
    ("torch.clip({a}, -0.5, {s})", "f"), ("{a}.clamp(max={b}.sum())", "f"),
    ("{a}.masked_fill({b} > 0, {s})", "f"), ("{a}.masked_fill({b} < 0, torch.tensor(2.5))", "f"),
    ("torch.where({b} > 0, {a}, torch.tensor(-1.0))", "f"),
    ("torch.where({a} > 0, {a}, {b}.sum())", "f"), ("torch.atan2({a}, {b})", "f"),
    ("torch.hypot({a}, {b})", "f"), ("torch.logaddexp({a}, {b})", "f"),
    ("torch.logaddexp2({a}, {b})", "f"), ("torch.xlogy({a}.abs(), {b}.abs())", "f"),
    ("torch.copysign({a}, {b})", "f"), ("torch.heaviside({a}, {b})", "f"),
    ("torch.float_power({a}, 2)", "f"), ("torch.square({a})", "f"),
    ("torch.rsqrt({a}.abs() + 1)", "f"), ("torch.expm1({a}.clamp(-3.0, 3.0))", "f"),
    ("torch.log1p({a}.abs())", "f"), ("torch.exp2({a}.clamp(-4.0, 4.0))", "f"),
    ("torch.erf({a})", "f"), ("torch.erfc({a})", "f"), ("torch.sinc({a})", "f"),
    ("torch.sgn({a})", "f"), ("torch.deg2rad({a})", "f"),
    ("torch.logit({a}.sigmoid(), eps=1e-6)", "f"), ("torch.log10({a}.abs() + 1)", "f"),
    ("torch.log2({a}.abs() + 0.5)", "f"), ("torch.asin({a}.clamp(-1.0, 1.0))", "f"),
    ("torch.atan({a})", "f"), ("torch.cosh({a}.clamp(-3.0, 3.0))", "f"),
    ("torch.acosh({a}.abs() + 1)", "f"), ("torch.atanh({a}.clamp(-0.9, 0.9))", "f"),
    ("torch.asinh({a})", "f"), ("torch.sinh({a}.clamp(-3.0, 3.0))", "f"),
    (_F + "softplus({a}, beta=2.0, threshold=1.0)", "f"), (_F + "hardswish({a})", "f"),
    (_F + "hardsigmoid({a})", "f"), (_F + "mish({a})", "f"), (_F + "elu({a}, alpha=0.5)", "f"),
    (_F + "selu({a})", "f"), (_F + "celu({a})", "f"), (_F + "leaky_relu({a}, 0.2)", "f"),
    (_F + "relu6({a})", "f"), (_F + "hardtanh({a}, -0.5, 0.5)", "f"),
    (_F + "threshold({a}, 0.5, -1.0)", "f"), (_F + "softshrink({a}, 0.5)", "f"),
    (_F + "hardshrink({a})", "f"), (_F + "logsigmoid({a})", "f"), (_F + "softsign({a})", "f"),
    (_F + "tanhshrink({a})", "f"),
    # type promotion with int / bool tensors, 0-dim tensors and Python numbers
    ("{a}.long() * 1.5", "f"), ("{a}.long() + ({a} > 0)", "i"), ("({a} > 0) + ({b} > 0)", "b"),
    ("{a}.to(torch.int32) / 2", "f"), ("{a}.long() // ({a}.to(torch.int32).abs() + 1)", "i"),
    ("{a}.to(torch.int32) * torch.tensor(2.5, dtype=torch.float64)", "f"),
    ("{a}.long() + torch.tensor(3, dtype=torch.int32)", "i"),
    ("{a}.half() + torch.tensor(1.0)", "f"), ("{a}.to(torch.int16) * 3", "i"),
    ("torch.add({a}.long(), {b}, alpha=2)", "f"), ("({a} > 0) * {s}", "f"),
    ("({a} > 0) - ({b} < 0).long()", "i"), ("{a}.double() * {b}.half()", "f"),
    ("{a}.long() * torch.tensor(True)", "i"), ("({a} > 0).sum() + {a}", "f"),
    ("torch.true_divide({a}.long(), {b}.long().abs() + 1)", "f"),
    ("torch.remainder({a}.long(), 3) * {s}", "f"),
]


class ProgramGenBX(ProgramGenB):
    """Mode 2 with the extended op families: pointwise (_EXT_F), scans / sorts / order
    statistics, gather / scatter / index_* with in-range index tensors, norms and moments
    with dim= / correction= / dtype=, softmax with dtype=, cat / stack / pad / tril and 1-D
    products."""

    def corner(self, text, cat, shape):
        r = self.r
        if cat != "f" or r.random() < 0.4:
            return ProgramGenB.corner(self, text, cat, shape)
        tpl, c = r.choice(_EXT_F)
        b = self.operand_into(shape, "f") or Var(text, shape, cat)
        return tpl.format(a=f"({text})", b=b.name, s="s"), c

    def st_scan(self):
        """Scans, sorts, order statistics and index ops along a dim: same-shape results."""
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1 and v.cat != "b")
        nd = len(a.shape)
        d = r.randrange(nd)
        dd = d - nd if r.random() < 0.4 else d
        n, sh = a.name, list(a.shape)
        b = self.operand_into(a.shape, a.cat)
        bn = b.name if b is not None and b.shape == a.shape else f"({n} * 2)"
        # (a stable sort: the permutation of ties is defined, as scatter's result needs)
        perm = f"torch.argsort({n}, stable=True, dim={dd})"
        opts = [
            (f"{n}.cumprod({dd})", a.cat), (f"torch.cumsum({n}, {dd}, dtype=torch.float64)", "f"),
            (f"torch.cummax({n}, {dd})[0]", a.cat), (f"{n}.cummin({dd}).values", a.cat),
            (f"torch.cummax({n}, {dd}).indices", "i"),
            (f"torch.sort({n}, {dd})[0]", a.cat), (f"{n}.sort({dd}, descending=True).values", a.cat),
            (f"torch.sort({n}, dim={dd}, stable=True)[1]", "i"), (perm, "i"),
            (f"{n}.gather({dd}, {perm})", a.cat), (f"torch.take_along_dim({n}, {perm}, {dd})", a.cat),
            (f"torch.zeros_like({n}).scatter_add({dd}, {perm} // 2, {bn})", a.cat),
            (f"{n}.scatter({dd}, {perm}, {bn})", a.cat),
            (f"{n}.scatter({dd}, {perm} // 2, 1.5)", a.cat),
            (f"{n}.index_add({dd}, torch.arange({n}.size({dd})) // 2, {bn})", a.cat),
            (f"{n}.index_add({dd}, torch.arange({n}.size({dd})).flip(0), {bn}, alpha=2)", a.cat),
            (f"{n}.index_select({dd}, torch.arange({n}.size({dd})).flip(0))", a.cat),
            (f"{n}.index_fill({dd}, torch.arange({n}.size({dd})) // 2, -1)", a.cat),
            (f"{n}.index_copy({dd}, {n}.select({dd}, 0).argsort(0) * 0 + "
             f"torch.arange({n}.size({dd})).flip(0), {bn})" if nd == 1 else
             f"{n}.index_copy({dd}, torch.arange({n}.size({dd})).flip(0), {bn})", a.cat),
            (f"{n}.flip({dd})", a.cat), (f"{n}.roll(-1, {dd})", a.cat),
        ]
        if a.cat == "f":
            opts += [(f"torch.logcumsumexp({n}, {dd})", "f"),
                     (f"torch.softmax({n}, {dd}, dtype=torch.float64)", "f"),
                     (f"{n}.log_softmax({dd}, dtype=torch.float64)", "f"),
                     (f"torch.nn.functional.softmin({n}, {dd})", "f"),
                     (f"torch.nn.functional.normalize({n}, dim={dd})", "f"),
                     (f"torch.nn.functional.normalize({n}, p=1.0, dim={dd})", "f"),
                     (f"{n}.masked_fill({n} > {n}.mean({dd}, keepdim=True), 0.0)", "f"),
                     (f"{n} - {n}.amax({dd}, keepdim=True)", "f"),
                     (f"({n} - {n}.mean({dd}, keepdim=True)) / ({n}.std({dd}, keepdim=True, "
                      f"correction=0) + 1e-5)", "f")]
        text, cat = r.choice(opts)
        self.assign(text, sh, cat)
        if r.random() < 0.5:
            t, c = self.pointwise(self.vars[-1], r.randint(1, 2))
            self.assign(t, sh, c)

    def st_stat(self):
        """Reductions of the families mode 2 does not draw: a dim dropped (or kept)."""
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1 and v.cat != "b")
        nd = len(a.shape)
        d = r.randrange(nd)
        dd = d - nd if r.random() < 0.4 else d
        keep = r.random() < 0.35
        kw = ", keepdim=True" if keep else ""
        n = a.name
        fl = n if a.cat == "f" else f"{n}.float()"
        opts = [
            (f"torch.std_mean({fl}, {dd}{kw})[0]", "f"), (f"torch.var_mean({fl}, {dd}{kw})[1]", "f"),
            (f"torch.var_mean({fl}, {dd}, correction=0{kw})[0]", "f"),
            (f"{fl}.var({dd}, correction=1{kw})", "f"),
            (f"torch.aminmax({n}, dim={dd}{kw}).min", a.cat),
            (f"torch.aminmax({n}, dim={dd}{kw})[1]", a.cat),
            # (no indices of kthvalue / median / topk: which of tied elements is the
            # platform's choice)
            (f"{n}.kthvalue(1, {dd}{kw}).values", a.cat), (f"{n}.kthvalue(2, {dd}{kw})[0]", a.cat),
            (f"{n}.median({dd}{kw}).values", a.cat), (f"torch.median({n}, {dd}{kw})[0]", a.cat),
            (f"{fl}.nanmedian({dd}{kw})[0]", "f"),
            (f"torch.nansum({fl}, {dd}{kw})", "f"), (f"{fl}.nanmean({dd}{kw})", "f"),
            (f"torch.count_nonzero({n}, {dd})", "i"), (f"{n}.all({dd}{kw})", "b"),
            (f"torch.any({n} > 0, {dd}{kw})", "b"),
            (f"{n}.topk(1, {dd}).values", a.cat),
            (f"{n}.topk(1, {dd}, largest=False)[0]", a.cat),
            (f"torch.linalg.vector_norm({fl}, 2, {dd}{kw})", "f"),
            (f"torch.linalg.vector_norm({fl}, float('inf'), [{dd}]{kw})", "f"),
            (f"{fl}.norm(p=2, dim={dd}{kw})", "f"), (f"torch.norm({fl}, 1, {dd}{kw})", "f"),
            (f"{fl}.mean({dd}{kw}, dtype=torch.float64)", "f"),
            (f"{n}.sum({dd}{kw}, dtype=torch.float64)", "f"),
            (f"{n}.prod({dd}{kw}, dtype=torch.float64)", "f"),
            (f"torch.max({n}, {dd}{kw})[0]", a.cat), (f"torch.min({n}, {dd}{kw}).indices", "i"),
            (f"{n}.argmax({dd}{kw})", "i"), (f"torch.logsumexp({fl}, [{dd}]{kw})", "f"),
            (f"{n}.amax([{dd}]{kw})", a.cat),
        ]
        text, cat = r.choice(opts)
        shape = list(a.shape)
        if "topk" in text or keep and "count_nonzero" not in text:
            shape[d] = "1"
        else:
            del shape[d]
        full = r.random() < 0.15
        if full:
            text, cat, shape = r.choice([
                (f"{fl}.median()", "f"), (f"torch.std_mean({fl})[1]", "f"),
                (f"{fl}.norm(p='fro')", "f"), (f"torch.linalg.vector_norm({fl})", "f"),
                (f"{fl}.nansum()", "f"), (f"torch.count_nonzero({n})", "i"),
                (f"{fl}.var(correction=0)", "f"), (f"{n}.amax()", a.cat),
                (f"{n}.all()", "b"), (f"({n} > 0).any()", "b")]) + ([],)
        self.assign(text, shape, cat)
        if r.random() < 0.6:
            t, c = self.pointwise(self.vars[-1], r.randint(1, 2))
            b = self.operand_into(tuple(shape)) if shape else self.pick(lambda x: x.cat == "f")
            if b is not None and r.random() < 0.5:
                t = f"({t}) + {b.name}" if shape else f"{b.name} * ({t})"
                sh = shape if shape else list(b.shape)
                c = "f" if "f" in (c, b.cat) else "i"
                self.assign(t, sh, c)
            else:
                self.assign(t, shape, c)

    def st_combine(self):
        """cat / stack / pad / tril / triu / products of 1-D values / repeat_interleave."""
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1)
        n, sh = a.name, list(a.shape)
        nd = len(sh)
        d = r.randrange(nd)
        same = [v for v in self.vars if v.shape == a.shape and v.cat == a.cat]
        b = r.choice(same)
        opts = [(f"torch.cat([{n}, {b.name}], {d})", sh[:d] + [sh[d] + "*2"] + sh[d + 1:]),
                (f"torch.cat(({n}, {n}[:1]), 0)" if d == 0 else f"torch.cat([{n}, {b.name}], {d})",
                 [sh[0] + "+1"] + sh[1:] if d == 0 else sh[:d] + [sh[d] + "*2"] + sh[d + 1:]),
                (f"torch.stack([{n}, {b.name}], {d})", sh[:d] + ["2"] + sh[d:]),
                (f"torch.stack([{n}, {b.name}], -1)", sh + ["2"]),
                (f"torch.nn.functional.pad({n}, (1, 2))", sh[:-1] + [sh[-1] + "+3"]),
                (f"{n}.repeat_interleave(2, dim={d})", sh[:d] + [sh[d] + "x2"] + sh[d + 1:]),
                (f"{n}.tile((2,))", sh[:-1] + [sh[-1] + "x2"]),
                (f"{n}.movedim(0, -1)", sh[1:] + sh[:1]), (f"torch.diff({n}, dim={d})",
                                                           sh[:d] + [sh[d] + "-1"] + sh[d + 1:]),
                (f"{n}.unflatten({d}, [1, -1])", sh[:d] + ["1", sh[d]] + sh[d + 1:])]
        if a.cat != "b":
            opts.append((f"torch.nn.functional.pad({n}, (0, 1), value=-2.0)" if a.cat == "f"
                         else f"torch.nn.functional.pad({n}, (2, 0), value=3)",
                         sh[:-1] + [sh[-1] + ("+1" if a.cat == "f" else "+2")]))
        if nd == 2:
            opts += [(f"{n}.tril()", sh), (f"torch.triu({n}, 1)", sh), (f"{n}.tril(-1)", sh),
                     (f"{n}.swapaxes(0, 1)", sh[::-1]), (f"{n}.swapdims(1, 0).contiguous()", sh[::-1]),
                     (f"torch.nn.functional.pad({n}, (1, 0, 0, 2), value=0.5)" if a.cat == "f"
                      else f"{n}.tril(1)", [sh[0] + "+2", sh[1] + "+1"] if a.cat == "f" else sh)]
        if nd == 1 and a.cat == "f":
            fb = self.pick(lambda v: v.shape == a.shape and v.cat == "f") or a
            opts += [(f"torch.outer({n}, {fb.name})", sh + sh), (f"torch.dot({n}, {fb.name})", []),
                     (f"torch.einsum('i,j->ij', {n}, {fb.name})", sh + sh),
                     (f"torch.cumulative_trapezoid({n})", [sh[0] + "-1"]),
                     (f"torch.trapezoid({n})", [])]
        if nd == 2 and a.cat == "f":
            v1 = self.pick(lambda v: v.shape == (sh[1],) and v.cat == "f")
            if v1 is not None:
                opts += [(f"torch.mv({n}, {v1.name})", [sh[0]]),
                         (f"torch.einsum('ij,j->i', {n}, {v1.name})", [sh[0]]),
                         (f"torch.addmv({n}[:, 0], {n}, {v1.name}, beta=0.5)", [sh[0]])]
            opts += [(f"torch.addmm({n}.t() @ {n}, {n}.t(), {b.name}, alpha=0.5)" if b.cat == "f"
                      else f"{n}.t() @ {n}", [sh[1], sh[1]]),
                     (f"torch.einsum('ij,kj->ik', {n}, {b.name})" if b.cat == "f"
                      else f"{n} @ {n}.t()", [sh[0], sh[0]]),
                     (f"torch.cdist({n}, {b.name})" if b.cat == "f" else f"{n}.t()",
                      [sh[0], sh[0]] if b.cat == "f" else sh[::-1]),
                     (f"torch.nn.functional.cosine_similarity({n}, {b.name}, dim={d})"
                      if b.cat == "f" else f"{n}.sum({d})", sh[:d] + sh[d + 1:])]
        text, shape = r.choice(opts)
        self.assign(text, shape, a.cat if "einsum" not in text else "f",
                    expanded=a.expanded and ("swap" in text or "move" in text or "unflatten" in text))
        if r.random() < 0.5:
            t, c = self.pointwise(self.vars[-1], r.randint(1, 2))
            self.assign(t, shape, c)

    def program(self):
        r = self.r
        self.nret = r.randint(1, 3)
        stmts = [self.st_pointwise] * 3 + [self.st_scan] * 3 + [self.st_stat] * 3 + [
            self.st_combine] * 2 + [self.st_reduce_b, self.st_matmul, self.st_split,
                                    self.st_shape_ops, self.st_view, self.st_inplace,
                                    self.st_inplace_view, self.st_if, self.st_for,
                                    self.st_list, self.st_optional, self.st_early_return]
        return self._program(stmts)

    def _program(self, stmts):
        """The program of statements drawn from `stmts` (mode 7's generator draws its own)."""
        r = self.r
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
        body = re.sub(r"_i % (\w+)\.size\(0\)", r"_i % max(\1.size(0), 1)", "\n".join(self.lines))
        return head + _finite_gelu(body) + "\n"


def program_bx(seed, **kw):
    """(source text, traceable) for a seed, in the extended sub-mode of mode 2."""
    g = ProgramGenBX(seed, **kw)
    src = g.program()
    return src, not g.data_dependent
