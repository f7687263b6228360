"""Mode 6 (session 27): scripted programs that stress the fuser harder than modes 1-5.

Long pointwise chains over mixed dtypes (int32 / int64 / bool / float16 / float32 /
float64 locals made from the inputs, Python int and float numbers, 0-dim tensors), type
promotion, integer division / remainder / fmod by negative numbers and tensors, pow with
int exponents, where / clamp / masked_fill with tensor and number operands, bit ops;
size-1, 0-dim, expanded, transposed and step-sliced operands; in-place ops between fusible
ops (on locals, on views of locals and on the inputs); values read both inside and
outside a group (a reduction in the middle of a chain); outputs that alias an input or
each other; loops and ifs around fusible regions.

`program_f(seed)` gives (source, traceable) with the signature of mode 1
(tests/program_fuzz_gen.py), so tests/test_program_fuzz_s20.py's `check` / `check_grads`
run it; `calls_for_f(seed)` gives its calls (a 0-dim x2, negative n, special values...).
Run by tests/test_fuzz_finds_s27.py (GPUJIT_PROGRAM_FUZZ_F=<n>, GPUJIT_PROGRAM_FUZZ_SEED)."""
from __future__ import annotations

import re

import numpy as np

from program_fuzz_gen import ProgramGen, Var

# (template, result category or None for "the operand's"), by operand category
_F1 = [("torch.tanh({a})", "f"), ("torch.sigmoid({a})", "f"), ("{a}.abs()", "f"),
       ("{a} // {s}", "f"), ("{a} % {s}", "f"), ("torch.fmod({a}, {s})", "f"),
       ("{a} // -2", "f"), ("{a} % -3", "f"), ("torch.remainder({a}, -1.5)", "f"),
       ("{a} ** 2", "f"), ("{a} ** 3", "f"), ("{a} ** -1", "f"), ("{a} ** {n}", "f"),
       ("{a}.pow(0)", "f"), ("torch.pow(2, {a}.clamp(-4, 4))", "f"),
       ("torch.pow({s}, {a}.clamp(-4, 4))", "f"), ("{a}.floor()", "f"), ("{a}.ceil()", "f"),
       ("torch.round({a})", "f"), ("torch.round({a}, decimals=1)", "f"),
       ("torch.sign({a})", "f"), ("torch.copysign({a}, -1.0)", "f"),
       ("{a}.clamp(max={s})", "f"), ("{a}.clamp(-1, 2)", "f"), ("{a}.clamp(min=0)", "f"),
       ("torch.where({a} > 0, {a}, {n})", "f"), ("torch.where({a} < {s}, 1.5, {a})", "f"),
       ("{a}.masked_fill({a} < 0, {n})", "f"), ("{a} * True", "f"), ("{a} - (-{n})", "f"),
       ("({a}.abs() + 1).rsqrt()", "f"), ("torch.erf({a})", "f"), ("{a}.exp2()", "f"),
       ("torch.log1p({a}.abs())", "f"), ("torch.nan_to_num({a}, nan=0.0, posinf={s})", "f"),
       ("{a}.trunc()", "f"), ("torch.frac({a})", "f"), ("-{a}", "f"), ("{a}.square()", "f"),
       ("torch.div({a}, {n}, rounding_mode='floor')", "f"),
       ("torch.div({a}, -2, rounding_mode='trunc')", "f"),
       ("torch.nan_to_num({a}).clamp(-100, 100).to(torch.int32)", "i"),
       ("torch.nan_to_num({a}).clamp(-50, 50).long()", "i"),
       ("{a} > {s}", "b"), ("{a}.isnan()", "b"), ("{a} != {a}", "b"), ("torch.nan_to_num({a}).signbit()", "b"),
       ("{a}.half()", "f"), ("{a}.double()", "f"), ("{a}.float()", "f")]
_I1 = [("{a} // -3", "i"), ("{a} % -3", "i"), ("{a} // {n}", "i"), ("{a} % {n}", "i"),
       ("torch.fmod({a}, -3)", "i"), ("torch.remainder({a}, -2)", "i"),
       ("torch.div({a}, -2, rounding_mode='floor')", "i"),
       ("torch.div({a}, 3, rounding_mode='trunc')", "i"), ("{a} / -2", "f"), ("{a} / {n}", "f"),
       ("{a} ** 2", "i"), ("{a} ** 3", "i"), ("{a}.pow(0)", "i"), ("{a} ** 0.5", "f"),
       ("{a} ** -1.0", "f"), ("{a} << 1", "i"), ("{a} >> 1", "i"), ("{a} & 3", "i"),
       ("{a} | 4", "i"), ("{a} ^ -1", "i"), ("~{a}", "i"), ("torch.bitwise_not({a})", "i"),
       ("{a}.sign()", "i"), ("{a}.abs()", "i"), ("-{a}", "i"), ("torch.clamp({a}, -2, 3)", "i"),
       ("{a}.clamp(min={s})", "f"), ("{a} * {s}", "f"), ("{a} + {n}", "i"), ("{a} * -1", "i"),
       ("{a} + True", "i"), ("torch.where({a} > 0, {a}, -{n})", "i"),
       ("torch.where({a} > 0, {a}, {s})", "f"), ("{a}.masked_fill({a} == 0, -7)", "i"),
       ("{a}.float()", "f"), ("{a}.half()", "f"), ("{a}.double()", "f"),
       ("{a}.to(torch.int32)", "i"), ("{a}.long()", "i"), ("{a}.to(torch.int16)", "i"),
       ("{a}.to(torch.uint8)", "i"), ("{a}.to(torch.int8)", "i"),
       ("{a} > 0", "b"), ("{a} % 2 == 0", "b"), ("{a}.to(torch.bool)", "b"), ("torch.sqrt({a}.abs())", "f"),
       ("torch.exp({a}.clamp(-5, 5))", "f"), ("torch.sigmoid({a})", "f")]
_B1 = [("~{a}", "b"), ("torch.logical_not({a})", "b"), ("{a} & ({a} == {a})", "b"),
       ("{a} ^ True", "b"), ("{a} | False", "b"), ("{a}.int()", "i"), ("{a}.long()", "i"),
       ("{a} * 2", "i"), ("{a} + {s}", "f"), ("{a}.float()", "f"), ("{a}.half()", "f"),
       ("{a} * -1.5", "f"), ("torch.where({a}, {s}, -1)", "f"), ("torch.where({a}, 3, {n})", "i"),
       ("{a} + {a}", "b"), ("{a} / 2", "f"), ("{a} // 1", "i"),
       ("{a}.to(torch.uint8)", "i")]
# binary: a (any), b (any), result category decided by promotion
_BIN = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / {b}", "torch.maximum({a}, {b})",
        "torch.minimum({a}, {b})", "torch.where({a} > {b}, {a}, {b})",
        "torch.add({a}, {b}, alpha=2)", "torch.sub({a}, {b}, alpha=-1)", "{a} * {s} + {b}",
        "torch.where({b} > 0, {a}, {b})", "{a}.clamp(min={b})", "{a}.clamp(max={b})",
        "torch.clamp({a}, {b}, {b} + 1)", "{a}.masked_fill({b} > 0, {s})",
        "{a} // {b}", "{a} % {b}", "torch.fmod({a}, {b})", "{a} ** ({b} % 8 - 3)",
        "torch.atan2({a}.float(), {b}.float())", "{a} == {b}", "{a} < {b}",
        "torch.lerp({a}.float(), {b}.float(), 0.25)", "{a}.type_as({b})",
        "torch.copysign({a}, torch.nan_to_num({b}))", "torch.hypot({a}.float(), {b}.float())"]
# (copysign's sign from nan_to_num: the sign of a nan an op makes is the platform's and the
# summation order's choice (inf + -inf is -nan on x86; PyTorch's 4-way sum of [inf, .., -inf,
# .., nan] met +nan first, NumPy's -nan): GPUJIT_PROGRAM_FUZZ_SEED=36038 k=55, as mode 2's
# signbit reads nan_to_num's result)
# (the exponent stays in [-3, 5): 3 ** pow(2, 4) is 4.3e7 in float32, whose fmod by a
# float32 sum turned the sum's last-ulp summation order into 3.0: seed 35002 k = 5)
_BIN_I = ["{a} & {b}", "{a} | {b}", "{a} ^ {b}", "{a} << ({b} & 3)", "{a} >> ({b} & 3)"]
_INPL = ["{a}.add_({b})", "{a}.mul_({b})", "{a}.sub_({b}, alpha=2)", "{a}.copy_({b})",
         "{a}.clamp_(min={b})", "{a}.masked_fill_({b} > 0, {n})", "{a}.div_({b})",
         "{a}.floor_divide_({b})", "{a}.remainder_({b})", "{a}.pow_(2)", "{a}.add_({s})",
         "{a}.mul_({n})", "{a}.neg_()", "{a}.abs_()", "{a}.clamp_(-1, 1)", "{a}.relu_()",
         "{a}.fill_({s})", "{a}.zero_()", "{a}.sigmoid_()", "{a}.fmod_(-2)",
         "{a}.bitwise_and_({b})", "{a}.logical_not_()", "{a}.lerp_({b}, 0.5)",
         "{a}.addcmul_({b}, {b}, value=-0.5)", "{a}.copy_({a} * 2 + 1)"]


def _cat_of_bin(tpl, ca, cb):
    if "==" in tpl or "<" in tpl and "where" not in tpl and "<<" not in tpl:
        return "b"
    if any(k in tpl for k in ("atan2", "lerp", "hypot")):
        return "f"
    if "type_as" in tpl:
        return cb
    if " / " in tpl or "{s}" in tpl and "masked" not in tpl:
        return "f"
    if "f" in (ca, cb):
        return "f"
    if "masked" in tpl:
        return ca
    if ca == cb == "b" and any(k in tpl for k in ("maximum", "minimum", "where", "clamp")):
        return "b"
    return "i"


# methods whose result may share its operand's memory (ProgramGenF.root)
_VIEWS = ("t|transpose|select|narrow|view|view_as|reshape|reshape_as|unsqueeze|squeeze|"
          "expand|expand_as|flatten|permute|contiguous|type_as|float|half|double|to|"
          "diagonal|unflatten|detach|as_strided|movedim|unbind|split|chunk")


class ProgramGenF(ProgramGen):
    def __init__(self, seed, *, max_stmts=10):
        super().__init__(seed, max_stmts=max_stmts)
        self.grad_safe = True

    def start(self):
        """Locals of other dtypes and layouts made from the inputs."""
        r = self.r
        opts = [("(x0 * 4).to(torch.int64)", ("A", "B"), "i"),
                ("(x1 * 3).to(torch.int32)", ("A", "B"), "i"),
                ("x1 > 0", ("A", "B"), "b"), ("x2 < 0.5", ("B",), "b"),
                ("x0.half()", ("A", "B"), "f"), ("x2.double()", ("B",), "f"),
                ("x0[:, :1]", ("A", "1"), "f"), ("x1[:1]", ("1", "B"), "f"),
                ("x0.t().contiguous().t()", ("A", "B"), "f"), ("x1.sum()", (), "f"),
                ("x2.expand_as(x0)", ("A", "B"), "f"), ("x0[::2]", ("A/2", "B"), "f"),
                ("x1[:, 1:]", ("A", "B-1"), "f"), ("(x2 * 2).long()", ("B",), "i"),
                ("x0.amax()", (), "f"), ("(x0 > x1).sum()", (), "i"),
                ("torch.tensor(3)", (), "i"), ("torch.tensor(-2.5)", (), "f"),
                ("torch.tensor(True)", (), "b"), ("x2.unsqueeze(0)", ("1", "B"), "f"),
                ("x0.transpose(0, 1)", ("B", "A"), "f"), ("x1.select(1, 0)", ("A",), "f"),
                ("(x1 * 2).to(torch.int16)", ("A", "B"), "i"),
                ("torch.full_like(x0, 2.0, dtype=torch.float64)", ("A", "B"), "f")]
        for text, shape, cat in r.sample(opts, r.randint(2, 5)):
            self.assign(text, shape, cat, expanded="expand" in text,
                        input_="[" in text or "transpose" in text or "select" in text)

    def chain(self, a, depth):
        text, cat = a.name, a.cat
        r = self.r
        for _ in range(depth):
            if r.random() < 0.55:
                tpl, c = r.choice({"f": _F1, "i": _I1, "b": _B1}[cat])
                text = tpl.format(a=f"({text})", s="s", n="n")
                cat = c
            else:
                b = self.operand_into(a.shape)
                if b is None:
                    continue
                if cat == "i" and b.cat == "i" and r.random() < 0.3:
                    tpl = r.choice(_BIN_I)
                else:
                    tpl = r.choice(_BIN)
                if r.random() < 0.5:
                    x, y, cx, cy = f"({text})", b.name, cat, b.cat
                else:
                    x, y, cx, cy = b.name, f"({text})", b.cat, cat
                text = tpl.format(a=x, b=y, s="s", n="n")
                cat = _cat_of_bin(tpl, cx, cy)
        return text, cat

    def st_chain(self):
        a = self.pick(lambda v: v.cat != "b" or self.r.random() < 0.3)
        text, cat = self.chain(a, self.r.randint(2, 7))
        self.assign(text, a.shape, cat)

    def st_mid_reduce(self):
        """A value read by a reduction and by the next fusible ops (inside and outside)."""
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1)
        t, cat = self.chain(a, r.randint(1, 3))
        v = self.assign(t, a.shape, cat)
        red = r.choice([f"{v}.sum()", f"{v}.float().mean()", f"{v}.amax()",
                        f"{v}.sum(-1, keepdim=True)", f"{v}.amin(0)"])
        shape = () if red.endswith("()") else \
            (a.shape[:-1] + ("1",) if "keepdim" in red else a.shape[1:])
        w = self.assign(red, shape, cat if "mean" not in red else "f")
        t2, cat2 = self.chain(self.vars[-2], r.randint(1, 3))
        self.assign(f"({t2}) - {w}" if cat2 != "b" and cat != "b" else t2, a.shape,
                    "f" if "f" in (cat, cat2) and cat2 != "b" else cat2)

    def st_inplace_f(self):
        r = self.r
        a = self.pick(lambda v: not v.expanded and (not v.input or r.random() < 0.3))
        if a is None:
            return
        if r.random() < 0.3:                 # a fresh local copy, written, then read on
            self.assign(f"{a.name}.clone()", a.shape, a.cat)
            a = self.vars[-1]
        b = self.operand_into(a.shape) or a
        tpl = r.choice(_INPL)
        bname = b.name
        if b is not a and self.root(b.name) == self.root(a.name):
            # an operand that may be a view of the written tensor (x1.floor_divide_(v4),
            # v4 = x1[:1]): PyTorch's overlap check lets a layout it cannot tell through
            # ("too hard": x1 transposed) and the answer is its CPU loop's order, which
            # read elements it had already written; a snapshot of the operand instead
            # (GPUJIT_PROGRAM_FUZZ_SEED=32007, seed 32007*100003+2700040)
            bname = f"{b.name}.clone()"
        if r.random() < 0.25 and len(a.shape) >= 1:
            idx = r.choice(["0", "-1", "1:", "::2"] +
                           ([":, 0", "..., -1", ":, ::2"] if len(a.shape) == 2 else []))
            view = f"{a.name}[{idx}]"
            tpl = r.choice(["{a}.add_({s})", "{a}.mul_({n})", "{a}.neg_()", "{a}.clamp_(-1, 1)",
                            "{a}.fill_({n})", "{a}.copy_({a} * 2 + 1)"])
            self.emit(tpl.format(a=view, b=bname, s="s", n="n"))
        else:
            self.emit(tpl.format(a=a.name, b=bname, s="s", n="n"))
        self.grad_safe = False if a.input else self.grad_safe
        t, cat = self.chain(a, r.randint(1, 3))
        self.assign(t, a.shape, cat)

    def root(self, name):
        """The value whose memory a local may share: the base of the views (and of the
        ops that may return their input) it was assigned from, as far as the program's
        text tells; else the local itself."""
        for line in reversed("\n".join(self.lines).split("\n")):
            m = re.match(rf"\s*{name} = (\w+)(?:$|\[|\.(?:{_VIEWS})\()", line)
            if m and m.group(1) != name:
                return self.root(m.group(1))
            if m or re.match(rf"\s*{name} = ", line):
                return name
        return name

    def st_alias(self):
        """An output that aliases an input or another value."""
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1)
        text = r.choice([f"{a.name}", f"{a.name}.view(-1)" if len(a.shape) == 2 else a.name,
                         f"{a.name}[0]", f"{a.name}.t()" if len(a.shape) == 2 else a.name,
                         f"{a.name}.type_as({a.name})", f"{a.name}.float()",
                         f"{a.name}.contiguous()", f"{a.name}.expand_as({a.name})"])
        shape = a.shape
        if ".view(-1)" in text:
            shape = (a.shape[0] + "*" + a.shape[1],)
        elif text.endswith("[0]"):
            shape = a.shape[1:]
        elif ".t()" in text:
            shape = a.shape[::-1]
        self.assign(text, shape, a.cat if "float" not in text else "f",
                    expanded=a.expanded, input_=a.input)
        self.rets_extra.append(self.vars[-1].name)

    def st_loop_f(self):
        r = self.r
        a = self.pick(lambda v: v.cat != "b" and len(v.shape) >= 1 and not v.expanded)
        if a is None:
            return
        v = self.fresh()
        t, cat = self.chain(Var(v, a.shape, a.cat), r.randint(1, 4))
        kind = r.randrange(4)
        if kind == 0:
            if cat != a.cat:     # (a loop-carried dtype change: TorchScript refuses)
                t = f"({t}).to({a.name}.dtype)"
            self.emit(f"{v} = {a.name}.clone()\nfor _i in range(n):\n    {v} = {t}")
            self.vars.append(Var(v, a.shape, a.cat))
        elif kind == 1:
            t2 = f"{v} - 1"
            if cat == "b":
                t, t2, cat = f"({t}).long()", f"({t2}).long()", "i"
            elif cat != a.cat:
                t2 = f"({t2}).to(({t}).dtype)"
            self.emit(f"{v} = {a.name} * 1\nif n > 1:\n    {v} = {t}\n    {v} = {v} * 2\n"
                      f"else:\n    {v} = {t2}")
            self.vars.append(Var(v, a.shape, cat))
        elif kind == 2:
            self.data_dependent = True
            self.emit(f"{v} = {a.name} + 0\nif bool(({a.name} > 0).any()):\n"
                      f"    {v}.mul_(-1)\n{v} = {v} + {a.name}")
            self.vars.append(Var(v, a.shape, a.cat))
        else:
            self.emit(f"{v} = {a.name}.float()\nfor _i in range(n + 1):\n"
                      f"    {v}.add_({a.name} * _i)\n    {v} = {v}.clamp(-n, _i + 1)")
            self.vars.append(Var(v, a.shape, "f"))

    def program(self):
        r = self.r
        self.rets_extra = []
        self.start()
        stmts = [self.st_chain] * 5 + [self.st_mid_reduce, self.st_mid_reduce,
                                       self.st_inplace_f, self.st_inplace_f, self.st_inplace_f,
                                       self.st_alias, self.st_loop_f, self.st_loop_f,
                                       self.st_view, self.st_inplace_view, self.st_if]
        for _ in range(r.randint(3, self.max_stmts)):
            r.choice(stmts)()
        self.st_chain()
        outs = [self.vars[-1].name] + self.rets_extra[:2] + \
            [r.choice(self.vars).name for _ in range(r.randint(0, 2))]
        self.emit(f"return {', '.join(outs)}")
        head = ("def f(x0: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, "
                "o: Optional[torch.Tensor], s: float, n: int):\n")
        return head + "\n".join(self.lines) + "\n"


def program_f(seed, **kw):
    """(source text, traceable) for a seed of mode 6."""
    g = ProgramGenF(seed, **kw)
    src = g.program()
    return src, not g.data_dependent


def calls_for_f(seed):
    """Calls as tests/test_program_fuzz_s20.py's calls_for, with a negative n, a 0-dim x2
    ("z"), special values ("v") and another dtype."""
    r = np.random.default_rng(seed)
    a0, b0 = int(r.integers(2, 6)), int(r.integers(2, 6))
    a1, b1 = int(r.integers(1, 7)), int(r.integers(2, 7))
    s = float(r.choice([0.5, -1.5, 2.0, -0.25]))
    n = int(r.choice([1, 2, 3, -2, -1]))
    other = str(r.choice(["float64", "float16", "int64", "int32"]))
    o = bool(r.integers(0, 2))
    return [(a0, b0, "float32", "c", s, n, o, 1), (a0, b0, "float32", "c", s, n, o, 2),
            (a0, b0, "float32", "c", s, n, o, 3), (a1, b1, "float32", "c", s, n, o, 4),
            (a1, b1, "float32", "t", s, abs(n) + 1, o, 5),
            (a0, b0, "float32", "s", -s, n, not o, 6), (a0, b0, other, "c", s, n, o, 7),
            (a0, b0, "float32", "v", s, n, o, 8), (a0, b0, "float32", "e", s, n, o, 9),
            (a0, b0, "float32", "z", s, -n, o, 10), (a0, b0, "float32", "c", s, n, o, 11)]
