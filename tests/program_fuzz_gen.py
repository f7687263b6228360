"""A seeded generator of small TorchScript-valid programs (source text) that mix fusible
pointwise ops with reductions, views, in-place ops on locals and on views of locals,
control flow on tensor data, loops with loop-carried shapes, lists of tensors, Optional
arguments, early returns and tuple returns (tests/test_program_fuzz_s20.py runs them).

Shapes are tracked symbolically: the inputs x0, x1 are [A, B], x2 is [B] and o (an
Optional[Tensor]) is [A, B] or None; a dim is a token ("A", "B", "1", "N" for the loop
count n, "A/2" for x[::2]...), and two values only meet in a binary op when their tokens
broadcast. Dtypes are tracked by category (f float, i int, b bool) to keep most programs
valid; a program the reference (PyTorch) rejects for some call is compared by its error.
"""
from __future__ import annotations

import random

_UNARY_F = ["torch.tanh({a})", "torch.sigmoid({a})", "torch.relu({a})", "torch.exp({a}.clamp(-3.0, 3.0))",
            "{a}.abs()", "torch.neg({a})", "torch.sin({a})", "{a} * {a}", "torch.trunc({a} * 0.5)",
            "torch.nn.functional.gelu({a}.clamp(min=-2.0))", "torch.clamp({a}, -1.0, {s})",
            "torch.nn.functional.silu({a})", "({a}.abs() + 1).sqrt()", "({a}.abs() + 1).log()",
            "torch.where({a} > 0, {a}, {s})", "torch.nan_to_num({a})",
            "({a} + {a}.sign() * 0.25).reciprocal()"]
# (the reciprocal keeps 0.25 away from 0: of a float32 sum that cancels to ~0.003, an ulp
# of difference in the summation order became 1e-4 relative: seed 35002 k = 8)
_UNARY_I = ["{a} * 2", "{a} + {i}", "{a}.abs()", "{a} // 2", "{a} % 3", "-{a}",
            "torch.clamp({a}, min=-2)", "torch.where({a} > 0, {a}, {i})"]
_UNARY_B = ["~{a}", "torch.logical_not({a})", "{a} & ({a} == {a})"]
_SCALAR = ["{a} * {s}", "{a} + {s}", "{s} - {a}", "{a} / 2", "{a} * {i}", "{a} - {i}",
           "{a} ** 2", "{i} * {a} + {s}"]
_BINARY = ["{a} + {b}", "{a} - {b}", "{a} * {b}", "torch.maximum({a}, {b})",
           "torch.minimum({a}, {b})", "torch.where({a} > {b}, {a}, {b})", "{a} * {s} + {b}",
           "torch.add({a}, {b}, alpha=2)", "torch.lerp({a}.float(), {b}.float(), 0.25)",
           "torch.where({b} > 0, {a}, {s})"]
_CMP = ["{a} > {b}", "{a} <= {s}", "{a} == {b}", "{a} != 0"]
_CAST = [("{a}.float()", "f"), ("{a}.to(torch.int32)", "i"), ("{a}.half()", "f"),
         ("{a}.double()", "f"), ("{a}.long()", "i"), ("{a}.to(torch.float32)", "f"),
         ("{a}.to(torch.bool)", "b"), ("{a}.type_as({b})", None)]
_INPLACE_S = ["{a}.add_({s})", "{a}.mul_({s})", "{a}.clamp_(-1.0, 1.0)", "{a}.sub_({i})",
              "{a}.relu_()", "{a}.masked_fill_({a} > 0.5, {s})", "{a}.fill_({s})",
              "{a}.tanh_()", "{a}.neg_()"]
_INPLACE_B = ["{a}.add_({b})", "{a}.mul_({b})", "{a}.copy_({b})", "{a}.sub_({b}, alpha=2)",
              "{a}.masked_fill_({b} > 0, {s})", "{a}.addcmul_({b}, {b}, value=0.5)"]


def bcast(sa, sb):
    """The broadcast of two symbolic shapes, or None when they need not broadcast."""
    out = []
    for k in range(1, max(len(sa), len(sb)) + 1):
        da = sa[-k] if k <= len(sa) else "1"
        db = sb[-k] if k <= len(sb) else "1"
        if da == db or db == "1":
            out.append(da)
        elif da == "1":
            out.append(db)
        else:
            return None
    return tuple(reversed(out))


class Var:
    def __init__(self, name, shape, cat, *, expanded=False, input_=False):
        self.name, self.shape, self.cat = name, tuple(shape), cat
        self.expanded, self.input = expanded, input_


class ProgramGen:
    def __init__(self, seed, *, max_stmts=9):
        self.r = random.Random(seed)
        self.vars = [Var("x0", ("A", "B"), "f", input_=True),
                     Var("x1", ("A", "B"), "f", input_=True), Var("x2", ("B",), "f", input_=True)]
        self.lines = []
        self.k = 0
        self.max_stmts = max_stmts
        self.data_dependent = False      # control flow on tensor data: not traceable
        self.uses_list = False
        self.early = False

    # ------------------------------------------------------------------ helpers
    def fresh(self):
        self.k += 1
        return f"v{self.k}"

    def pick(self, pred=lambda v: True):
        c = [v for v in self.vars if pred(v)]
        return self.r.choice(c) if c else None

    def emit(self, line, indent=1):
        self.lines.extend("    " * indent + ln for ln in line.split("\n"))

    def operand_into(self, shape, cat=None):
        """A variable whose shape broadcasts into shape (so shape is the result's)."""
        return self.pick(lambda v: bcast(shape, v.shape) == tuple(shape)
                         and (cat is None or v.cat == cat))

    def pointwise(self, a, depth):
        """A pointwise expression over a (text, category) keeping a's shape."""
        text, cat = a.name, a.cat
        for _ in range(depth):
            kind = self.r.choice("uusbbcx")
            if kind == "u":
                tpl = self.r.choice({"f": _UNARY_F, "i": _UNARY_I, "b": _UNARY_B}[cat])
                text = tpl.format(a=f"({text})", s="s", i="n")
            elif kind == "s" and cat != "b":
                text = self.r.choice(_SCALAR).format(a=f"({text})", s="s", i="n")
                if "/" in text or ("s" in text and cat == "i" and "* n" not in text):
                    cat = "f" if ("/" in text or " s" in text or "s " in text) else cat
            elif kind == "b":
                b = self.operand_into(a.shape, None if self.r.random() < 0.3 else cat)
                if b is None:
                    continue
                tpl = self.r.choice(_BINARY)
                text = tpl.format(a=f"({text})", b=b.name, s="s")
                if cat == "b" or b.cat == "f" or "lerp" in tpl or "{s}" in tpl:
                    cat = "f" if (cat == "f" or b.cat == "f" or "lerp" in tpl
                                  or "{s}" in tpl) else "i"
            elif kind == "c":
                tpl, c = self.r.choice(_CAST)
                b = self.pick()
                text = tpl.format(a=f"({text})", b=b.name)
                cat = c or b.cat
            else:
                b = self.operand_into(a.shape, cat)
                if b is None or cat == "b":
                    continue
                text = self.r.choice(_CMP).format(a=f"({text})", b=b.name, s="s")
                cat = "b"
        return text, cat

    def assign(self, text, shape, cat, **kw):
        v = self.fresh()
        self.emit(f"{v} = {text}")
        self.vars.append(Var(v, shape, cat, **kw))
        return v

    # ------------------------------------------------------------------ statements
    def st_pointwise(self):
        a = self.pick(lambda v: v.cat != "b" or self.r.random() < 0.3)
        text, cat = self.pointwise(a, self.r.randint(1, 4))
        self.assign(text, a.shape, cat)

    def st_reduce(self):
        a = self.pick(lambda v: len(v.shape) >= 1 and v.cat != "b")
        d = self.r.randrange(len(a.shape))
        keep = self.r.random() < 0.5
        fn = self.r.choice(["sum", "mean", "amax", "amin"])
        src = a.name + (".float()" if fn == "mean" and a.cat != "f" else "")
        shape = list(a.shape)
        if keep:
            shape[d] = "1"
        else:
            del shape[d]
        if self.r.random() < 0.2:
            fn, d, keep, shape = "sum", None, False, []
        if fn != "mean" and d is not None and self.r.random() < 0.3:     # (values, indices)
            fn = self.r.choice(["max", "min"])
            sel = self.r.choice(["[0]", ".values"])
            self.assign(f"{src}.{fn}({d - len(a.shape)}{', True' if keep else ''}){sel}",
                        shape, a.cat)
            return
        if len(a.shape) == 2 and self.r.random() < 0.2:
            fn, d, keep, shape = "sum", "[0, 1]", True, ["1", "1"]
        args = "" if d is None else f"{d}" + (", keepdim=True" if keep else "")
        cat = "f" if fn == "mean" else a.cat
        if fn == "sum" and a.cat == "i":
            cat = "i"
        self.assign(f"{src}.{fn}({args})", shape, cat)

    def st_view(self):
        a = self.pick(lambda v: len(v.shape) >= 1)
        sh, r = list(a.shape), self.r
        opts = []
        if len(sh) == 2:
            opts += [(f"{a.name}.t()", sh[::-1]), (f"{a.name}.transpose(0, 1)", sh[::-1]),
                     (f"{a.name}[:, ::2]", [sh[0], sh[1] + "/2"]),
                     (f"{a.name}[1:, :]", [sh[0] + "-1", sh[1]]),
                     (f"{a.name}.select(1, 0)", [sh[0]]),
                     (f"{a.name}.narrow(1, 0, 1)", [sh[0], "1"]),
                     (f"{a.name}.reshape(-1)", [sh[0] + "*" + sh[1]]),
                     (f"{a.name}.view(-1)", [sh[0] + "*" + sh[1]]),
                     (f"{a.name}.unsqueeze(1)", [sh[0], "1", sh[1]]),
                     (f"{a.name}.view({a.name}.size(0), -1)", sh),
                     (f"{a.name}.permute(1, 0).contiguous()", sh[::-1]),
                     (f"{a.name}.flatten()", [sh[0] + "*" + sh[1]]),
                     (f"{a.name}[:, -1:].expand({a.name}.size(0), 2)", [sh[0], "2"]),
                     (f"{a.name}.reshape({a.name}.shape[1], {a.name}.shape[0])",
                      [sh[1] + "r", sh[0] + "r"])]
            if sh[1] == "1":
                opts.append((f"{a.name}.expand(-1, {a.name}.size(0))", [sh[0], sh[0]]))
            if sh[0] == "1":
                opts.append((f"{a.name}.squeeze(0)", [sh[1]]))
        opts += [(f"{a.name}[::2]", [sh[0] + "/2"] + sh[1:]),
                 (f"{a.name}.unsqueeze(0)", ["1"] + sh),
                 (f"{a.name}.select(0, -1)", sh[1:]),
                 (f"{a.name}.narrow(0, 1, 1)", ["1"] + sh[1:]),
                 (f"{a.name}[-1:]", ["1"] + sh[1:])]
        if len(sh) == 1:
            opts.append((f"{a.name}.unsqueeze(1).expand(-1, 3)", [sh[0], "3"]))
            opts.append((f"{a.name}.expand(2, -1)", ["2", sh[0]]))
        if len(sh) == 3 and sh[1] == "1":
            opts.append((f"{a.name}.squeeze(1)", [sh[0], sh[2]]))
        text, shape = r.choice(opts)
        v = self.assign(text, shape, a.cat, expanded=a.expanded or "expand" in text,
                        input_=a.input)
        if r.random() < 0.5:      # a fusible op fed by the view
            b = self.vars[-1]
            t, cat = self.pointwise(b, r.randint(1, 3))
            self.assign(t, b.shape, cat)
        return v

    def st_inplace(self):
        r = self.r
        a = self.pick(lambda v: not v.expanded and (not v.input or r.random() < 0.3))
        if a is None:
            return
        # (masked_fill_ on an expanded input: PyTorch writes with a deprecation warning,
        # gpujit refuses it as every other in-place op)
        ok = [t for t in (_INPLACE_B if a.cat != "b" else []) if not a.input or "mask" not in t]
        if ok and r.random() < 0.6:
            b = self.operand_into(a.shape)
            if b is not None:
                self.emit(r.choice(ok).format(a=a.name, b=b.name, s="s"))
                return
        if r.random() < 0.3 and len(a.shape) >= 1:       # indexed assignment
            idx = r.choice(["0", "-1", "1:", "::2"] + ([":, 0", "..., -1"] if len(a.shape) == 2
                                                     else []))
            val = r.choice(["s", "n", "0.0"]) if r.random() < 0.6 else None
            if val is None:
                b = self.pick(lambda v: v.shape == () or (len(v.shape) == 1 and v.shape[0] == "1"))
                val = b.name if b is not None else "s"
            self.emit(f"{a.name}[{idx}] = {val}")
            return
        if a.cat == "b":
            return
        if r.random() < 0.3:       # augmented assignment on a tensor is in place
            b = self.operand_into(a.shape, a.cat)
            if b is not None:
                alias = self.fresh()
                self.emit(f"{alias} = {a.name}\n{alias} {r.choice(['+=', '*=', '-='])} {b.name}")
                self.vars.append(Var(alias, a.shape, a.cat, input_=a.input))
                return
        self.emit(r.choice([t for t in _INPLACE_S if not a.input or "mask" not in t])
                  .format(a=a.name, s="s", i="n"))

    def st_inplace_view(self):
        """In-place through a view of a local: the base must see the write."""
        r = self.r
        a = self.pick(lambda v: len(v.shape) == 2 and not v.expanded and v.cat == "f")
        if a is None:
            return
        view, shape = r.choice([(f"{a.name}.t()", a.shape[::-1]), (f"{a.name}[0]", a.shape[1:]),
                                (f"{a.name}[:, 1:]", (a.shape[0], a.shape[1] + "-1")),
                                (f"{a.name}.select(1, -1)", a.shape[:1]),
                                (f"{a.name}[::2]", (a.shape[0] + "/2", a.shape[1]))])
        used = self.assign(f"{a.name} * 2", a.shape, "f") if r.random() < 0.5 else None
        w = self.fresh()
        self.emit(f"{w} = {view}")
        self.vars.append(Var(w, shape, "f"))
        op = r.choice(_INPLACE_S[:4] + ["{a}.copy_({a} * 0.5 + 1)"])
        self.emit(op.format(a=w, s="s", i="n"))
        t, cat = self.pointwise(a, 2)
        self.assign(t + (f" + {used}" if used else ""), a.shape, cat)

    def st_scalar(self):
        """A Python number read from tensor data or sizes, used by a fusible op."""
        r = self.r
        a = self.pick(lambda v: v.cat == "f")
        b = self.pick(lambda v: v.cat != "b" and len(v.shape) >= 1)
        val = r.choice([f"float({b.name}.amax())", f"{b.name}.size(0)", f"{b.name}.shape[-1]",
                        f"{b.name}.numel()", f"{b.name}.sum().item()", f"{b.name}.dim()"])
        self.data_dependent |= "float(" in val or "item" in val
        t, cat = self.pointwise(a, r.randint(0, 2))
        self.assign(f"({t}) * {val} - {r.choice(['1', 's', 'n'])}", a.shape,
                    "f" if cat == "f" or "float" in val or "item" in val else cat)

    def st_break(self):
        """A loop left early on tensor data, carrying a tensor and its dtype."""
        r = self.r
        a = self.pick(lambda v: v.cat == "f" and not v.expanded)
        v = self.fresh()
        self.data_dependent = True
        cast = r.choice(["", ".half().float()", ".double()"])
        self.emit(f"{v} = {a.name}{cast} + 0\nfor _i in range(n + 2):\n"
                  f"    if bool(({v} > {r.choice(['3.1', '1.3', '0.1'])}).all()):\n"
                  f"        break\n    {v} = {v} + _i * s")
        self.vars.append(Var(v, a.shape, "f"))

    def st_unstable_loop(self):
        """A loop-carried value whose dtype, strides or writes change between iterations:
        the profile of the body's first pass does not hold for the next ones."""
        r = self.r
        a = self.pick(lambda v: v.cat == "f" and not v.expanded and len(v.shape) == 2)
        if a is None:
            return
        b = self.operand_into(a.shape, "f") or a
        v = self.fresh()
        body = r.choice([
            f"{v} = {v} * 2 + {b.name}",                                      # int -> float
            f"{v} = ({v}.t().contiguous().t() * s).sigmoid() + {b.name}",   # new strides
            f"if _i % 2 == 0:\n        {v} = {v} * s + {b.name}\n    else:\n"
            f"        {v} = torch.tanh({v}) - {b.name}.to(torch.float16)",
            f"{v}[_i % {v}.size(0)] = _i * s\n    {v} = {v} + {b.name}",
            # (bounded: squared four times the values reach 1e10, where an ulp of a later
            # product flips a sin / trunc: GPUJIT_PROGRAM_FUZZ_SEED=34001, test_program_fuzz_s22)
            # (b's column cloned: v may alias a (a.half() of a half a) and b be a view of
            # a; an in-place add from memory it overlaps is left to the kernel's loop order
            # (PyTorch's reads the elements it already wrote, NumPy's the old ones):
            # GPUJIT_PROGRAM_FUZZ_SEED=36015, test_program_fuzz_s22 k=3)
            f"{v}[:, 0].add_({b.name}[:, 0].clone())\n    {v} = ({v}.relu() * {v}).clamp(max=8.0)",
            f"{v} = torch.where({v} > 1, {v}.double(), {v} * 0.5) + {b.name}"])
        start = r.choice([f"{a.name}.to(torch.int32)", f"{a.name} * 1.0", f"{a.name}.half()",
                          f"{a.name}.t().contiguous().t()", f"{a.name}.clone()"])
        if "[" in body and "int32" in start:
            start = f"{a.name} * 1.0"
        self.emit(f"{v} = {start}\nfor _i in range(n + 1):\n    {body}")
        self.vars.append(Var(v, a.shape, "f"))

    def st_if(self):
        r = self.r
        a = self.pick(lambda v: v.cat != "b")
        cond = r.choice([f"bool({a.name}.sum() > 0.37)", f"bool(({a.name} > 1).any())",
                         f"float({a.name}.float().mean()) < s", "n > 2", f"{a.name}.dim() == 2"])
        self.data_dependent |= "bool(" in cond or "float(" in cond
        v = self.fresh()
        t1, c1 = self.pointwise(a, r.randint(1, 3))
        t2, _ = self.pointwise(a, r.randint(1, 3))
        inner = ""
        if r.random() < 0.3:      # an in-place op inside one branch
            b = self.pick(lambda x: not x.expanded and not x.input and x.cat == "f")
            if b is not None:
                inner = f"\n    {b.name}.mul_(s)"
        self.emit(f"if {cond}:\n    {v} = {t1}{inner}\nelse:\n    {v} = {t2}")
        self.vars.append(Var(v, a.shape, c1))

    def st_for(self):
        r = self.r
        a = self.pick(lambda v: v.cat == "f" and not v.expanded and len(v.shape) >= 1)
        if a is None:
            return
        v = self.fresh()
        kind = r.randrange(4)
        if kind == 0:           # a tensor accumulator
            b = self.operand_into(a.shape) or a
            t, _ = self.pointwise(Var(v, a.shape, "f"), r.randint(1, 2))
            self.emit(f"{v} = {a.name} * 1.0\nfor _i in range(n):\n"
                      f"    {v} = ({t}) + {b.name} * _i")
            self.vars.append(Var(v, a.shape, "f"))
        elif kind == 1:         # a loop-carried shape
            self.emit(f"{v} = {a.name}.clone()\nfor _i in range(n):\n"
                      f"    {v} = torch.cat([{v}, {a.name} * _i], 0)")
            self.vars.append(Var(v, (a.shape[0] + "*(n+1)",) + a.shape[1:], "f"))
        elif kind == 2:         # in-place in the loop body
            self.emit(f"{v} = torch.zeros_like({a.name})\nfor _i in range(n):\n"
                      f"    {v}.add_({a.name} * s)\n    {v}.clamp_(max=5.0)")
            self.vars.append(Var(v, a.shape, "f"))
        else:                   # while, on a tensor condition (bounded)
            self.data_dependent = True
            self.emit(f"{v} = {a.name}.abs() + 1\n_c = 0\n"
                      f"while bool({v}.amax() < 20.0) and _c < 6:\n"
                      f"    {v} = {v} * 2 + 0.5\n    _c += 1")
            self.vars.append(Var(v, a.shape, "f"))

    def st_list(self):
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1 and not v.expanded)
        same = [v for v in self.vars if v.shape == a.shape and v.cat == a.cat]
        v = self.fresh()
        self.uses_list = True
        if r.random() < 0.5:
            parts = [r.choice(same).name for _ in range(r.randint(1, 3))]
            fn = r.choice(["cat", "stack"])
            d = r.randrange(len(a.shape) + (1 if fn == "stack" else 0))
            self.emit(f"{v} = torch.{fn}([{', '.join(p + ' * 1' for p in parts)}], {d})")
            shape = list(a.shape)
            if fn == "cat":
                shape[d] = f"{len(parts)}*{shape[d]}"
            else:
                shape.insert(d, str(len(parts)))
        else:
            self.emit(f"_l{v}: List[torch.Tensor] = []\nfor _i in range(n):\n"
                      f"    _l{v}.append({a.name} + _i)\n{v} = torch.stack(_l{v})")
            shape = ["N"] + list(a.shape)
        self.vars.append(Var(v, shape, a.cat))
        if r.random() < 0.5:
            t, cat = self.pointwise(self.vars[-1], 2)
            self.assign(t, shape, cat)

    def st_optional(self):
        r = self.r
        a = self.pick(lambda v: bcast(v.shape, ("A", "B")) == ("A", "B") and v.cat == "f")
        if a is None:
            return
        v = self.fresh()
        if r.random() < 0.5:
            self.emit(f"{v} = {a.name} * 1.0\nif o is not None:\n    {v} = {v} + o * s")
        else:
            self.emit(f"if o is None:\n    {v} = {a.name} + 1\nelse:\n    {v} = torch.where("
                      f"o > 0, o, {a.name})")
        self.vars.append(Var(v, ("A", "B") if len(a.shape) == 2 or r.random() < 2 else a.shape,
                             "f"))

    def st_early_return(self):
        if self.early:
            return
        self.early = True
        self.data_dependent = True
        a = self.pick(lambda v: v.cat == "f")
        self.emit(f"if bool({a.name}.sum() > {self.r.choice(['0.37', '3.1', '-1.3'])}):\n"
                  f"    return {self.ret_text()}")

    def ret_text(self):
        return ", ".join(self.rets)

    # ------------------------------------------------------------------ program
    def program(self):
        r = self.r
        self.nret = r.randint(1, 3)
        stmts = [self.st_pointwise] * 4 + [self.st_reduce, self.st_view, self.st_view,
                                           self.st_inplace, self.st_inplace,
                                           self.st_inplace_view, self.st_if, self.st_for,
                                           self.st_list, self.st_optional, self.st_early_return,
                                           self.st_scalar, self.st_break,
                                           self.st_unstable_loop, self.st_unstable_loop]
        for _ in range(r.randint(3, self.max_stmts)):
            fn = r.choice(stmts)
            if fn == self.st_early_return:
                if len(self.vars) < 4:
                    continue
                self.rets = [r.choice(self.vars).name for _ in range(self.nret)]
            fn()
        self.st_pointwise()
        last = self.vars[-1].name
        if self.early:
            # the early return's names fix the tuple's arity (all tensors)
            outs = [last] + [r.choice(self.vars).name for _ in range(self.nret - 1)]
        else:
            outs = [last] + [r.choice(self.vars).name for _ in range(self.nret - 1)]
        self.emit(f"return {', '.join(outs)}")
        head = ("def f(x0: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, "
                "o: Optional[torch.Tensor], s: float, n: int):\n")
        return head + "\n".join(self.lines) + "\n"


def program(seed, **kw):
    """(source text, traceable) for a seed."""
    g = ProgramGen(seed, **kw)
    src = g.program()
    return src, not g.data_dependent
