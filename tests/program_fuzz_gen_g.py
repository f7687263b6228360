"""Mode 7 (session 34): the extended sub-mode of mode 2 (program_fuzz_gen_b.program_bx)
with op families no other mode draws:

- index_put / index_put_ with accumulate=True over repeated indices, with a permutation
  (accumulate=False, each element written once), with a bool mask and a 0-dim value;
- scatter_reduce (sum / prod / mean / amax / amin, include_self True and False) over
  repeated indices from a stable argsort;
- masked_scatter (a source of the value's shape, a mask of the value's or a broadcast one);
- searchsorted (right=, side=, out_int32=, over a sorted copy and over a 1-D boundary
  tensor) and bucketize;
- cummax / cummin indices and stable sorts / argsorts over values with ties (rounded
  floats, halved ints), ascending and descending;
- torch.where with 0-dim tensors of other dtypes on either side (and both);
- addcmul / addcdiv / lerp with Python number and 0-dim tensor weights;
- int8 / int16 / uint8 / int32 / bool / float16 tensors and 0-dim tensors mixed in
  arithmetic (promotion by category, 0-dim operands of a higher category).

`program_g(seed)` gives (source, traceable) with mode 1's signature, so
tests/test_program_fuzz_s20.py's `check` / `check_grads` run it with mode 2's calls
(test_program_fuzz_s22.calls_for_b). Run by tests/test_fuzz_finds_s34.py
(GPUJIT_PROGRAM_FUZZ_G=<n> programs, GPUJIT_PROGRAM_FUZZ_SEED=<int>)."""
from __future__ import annotations

import re

from program_fuzz_gen_b import ProgramGenBX

# pointwise steps (template, category): {a} the value (float), {b} a float operand
# broadcasting into it, {s} the float argument
_G_F = [
    ("torch.lerp({a}, {b}, 0.3)", "f"), ("{a}.lerp({b}, torch.tensor(0.75))", "f"),
    ("torch.lerp({a}, {b}, {s})", "f"), ("torch.addcmul({a}, {b}, {a}, value=2)", "f"),
    ("torch.addcmul({a}, {b}, {b}, value={s})", "f"),
    ("torch.addcdiv({a}, {b}, {b}.abs() + 1, value=-0.5)", "f"),
    ("torch.addcdiv({a}, {a}, {b}.abs() + 2)", "f"),
    ("torch.where({a} > 0, torch.tensor(2), {a})", "f"),
    ("torch.where({a} > {b}, {a}, torch.tensor(-1.5, dtype=torch.float64))", "f"),
    ("torch.where({a} > 0, torch.tensor(1.5, dtype=torch.float64), torch.tensor(2))", "f"),
    ("torch.where({a} < 0, torch.tensor(3), torch.tensor(4, dtype=torch.int8))", "i"),
    ("torch.where({b} > 0, {a}.half(), torch.tensor(0.25))", "f"),
    ("torch.where(torch.tensor(True), {a}, {b})", "f"),
    ("torch.where({a}.sum() > 0, {a}, {b})", "f"),
    ("({a} > 0) + {a}.half()", "f"), ("{a}.to(torch.int8) * {a}.half()", "f"),
    ("{a}.half() + torch.tensor(3)", "f"), ("{a}.half() * torch.tensor(2.0, dtype=torch.float64)", "f"),
    ("torch.tensor(2.5, dtype=torch.float16) * {a}.long()", "f"),
    ("{a}.to(torch.int16) + torch.tensor(1000)", "i"), ("{a}.to(torch.int16) * 3000", "i"),
    ("{a}.abs().to(torch.uint8) + True", "i"), ("{a}.to(torch.int8) - ({a} > 0)", "i"),
    ("{a}.to(torch.int32) + {a}.to(torch.int8)", "i"),
    ("({a} > 0) * torch.tensor(7, dtype=torch.int16)", "i"),
    ("{a}.to(torch.uint8) + {a}.to(torch.int8)", "i"),
    ("{a}.half() / ({a}.to(torch.int32).abs() + 1)", "f"),
    ("({a} > 0).half() - {b}.to(torch.float16)", "f"),
    ("{a}.to(torch.int16) // torch.tensor(-3)", "i"),
    ("torch.tensor(5, dtype=torch.uint8) - {a}.to(torch.int8)", "i"),
]


class ProgramGenG(ProgramGenBX):
    """Mode 2's extended sub-mode plus the families of _G_F and st_index_g."""

    def corner(self, text, cat, shape):
        r = self.r
        if cat != "f" or r.random() < 0.5:
            return ProgramGenBX.corner(self, text, cat, shape)
        tpl, c = r.choice(_G_F)
        b = self.operand_into(shape, "f")
        bn = b.name if b is not None else f"({text} * 0.5)"
        return tpl.format(a=f"({text})", b=bn, s="s"), c

    def st_combine(self):
        # cdist of float32 operands: this mode's float16 values reach it, and PyTorch's CPU
        # cdist of a 0-size float16 operand skips its dtype check (answers an empty
        # result) where gpujit raises as for other sizes ("cdist" not implemented for
        # 'Half'; GPUJIT_PROGRAM_FUZZ_SEED=34034, a call with A = 0)
        n = len(self.lines)
        ProgramGenBX.st_combine(self)
        for i in range(n, len(self.lines)):
            self.lines[i] = re.sub(r"torch\.cdist\((\w+), (\w+)\)",
                                   r"torch.cdist(\1.float(), \2.float())", self.lines[i])

    def st_index_g(self):
        """index_put(_) / scatter_reduce / masked_scatter / searchsorted / bucketize / ties
        in cummax, cummin and stable sorts: same-shape results."""
        r = self.r
        a = self.pick(lambda v: len(v.shape) >= 1 and v.cat != "b")
        nd = len(a.shape)
        d = r.randrange(nd)
        dd = d - nd if r.random() < 0.4 else d
        n, sh = a.name, list(a.shape)
        b = self.operand_into(a.shape, a.cat)
        bn = b.name if b is not None and b.shape == a.shape else f"({n} * 2)"
        # ties: rounded floats, halved ints
        tied = f"{n}.round()" if a.cat == "f" else f"({n} // 2)"
        perm = f"torch.argsort({n}, dim={dd}, stable=True)"
        rows = f"torch.arange({n}.size(0))"
        one = "torch.tensor(-1.0)" if a.cat == "f" else "torch.tensor(-1)"
        red = r.choice(["sum", "prod", "mean", "amax", "amin"])
        incl = r.choice(["True", "False"])
        opts = [
            (f"{n}.clone().index_put_(({rows} // 2,), {bn}, accumulate=True)", a.cat),
            (f"torch.index_put({n}, ({rows}.flip(0),), {bn})", a.cat),
            (f"{n}.index_put(({rows} % 2,), {bn}, True)", a.cat),
            (f"{n}.clone().index_put_(({n} > 0,), {one})", a.cat),
            (f"{n}.index_put(({n} < 1,), {one}, accumulate=True)", a.cat),
            (f"{n}.scatter_reduce({dd}, {perm} // 2, {bn}, reduce='{red}', include_self={incl})",
             a.cat),
            (f"torch.scatter_reduce({n}, {dd}, {perm}, {bn}, '{red}')", a.cat),
            (f"{n}.clone().scatter_reduce_({dd}, {perm} // 2, {bn}, '{red}', include_self={incl})",
             a.cat),
            (f"{n}.masked_scatter({n} > 0, {bn})", a.cat),
            (f"{n}.masked_scatter({n} < {bn}, {n} * 3)", a.cat),
            (f"torch.cummax({tied}, {dd}).indices", "i"), (f"{tied}.cummin({dd})[1]", "i"),
            (f"torch.cummin({tied}, {dd}).values", a.cat),
            (f"torch.sort({tied}, dim={dd}, stable=True)[1]", "i"),
            (f"torch.sort({tied}, dim={dd}, descending=True, stable=True).indices", "i"),
            (f"torch.argsort({tied}, dim={dd}, descending=True, stable=True)", "i"),
            (f"{tied}.sort(stable=True, dim={dd})[0]", a.cat),
        ]
        if a.cat == "f":
            sd = "torch.sort({n}, -1)[0]".format(n=n)
            opts += [
                (f"torch.searchsorted({sd}, {bn})", "i"),
                (f"torch.searchsorted({sd}, {bn}, right=True)", "i"),
                (f"torch.searchsorted({sd}, {n}.round(), side='right', out_int32=True)", "i"),
                (f"torch.searchsorted(torch.tensor([-1.0, 0.0, 0.5, 2.0]), {n})", "i"),
                (f"torch.bucketize({n}, torch.tensor([-1.0, 0.0, 0.5, 2.0]))", "i"),
                (f"torch.bucketize({n}.round(), torch.tensor([-1.0, 0.0, 1.0]), right=True)", "i"),
                (f"torch.bucketize({n}, torch.tensor([0.0, 1.0]), out_int32=True)", "i"),
            ]
        else:
            opts += [(f"torch.bucketize({n}, torch.tensor([-2, 0, 3]))", "i"),
                     (f"torch.searchsorted(torch.tensor([-1, 0, 0, 5]), {n}, right=True)", "i")]
        if nd >= 2:
            m = self.pick(lambda v: v.shape == tuple(sh[1:]) and v.cat == "f")
            if m is not None:     # a mask broadcasting over the value's first dim
                opts.append((f"{n}.masked_scatter({m.name} > 0, {bn})", a.cat))
        text, cat = r.choice(opts)
        self.assign(text, sh, cat)
        if r.random() < 0.5:
            t, c = self.pointwise(self.vars[-1], r.randint(1, 2))
            self.assign(t, sh, c)

    def program(self):
        r = self.r
        self.nret = r.randint(1, 3)
        stmts = [self.st_pointwise] * 3 + [self.st_index_g] * 4 + [self.st_scan] * 2 + [
            self.st_stat, self.st_combine, self.st_reduce_b, self.st_matmul, self.st_split,
            self.st_shape_ops, self.st_view, self.st_inplace, self.st_inplace_view,
            self.st_if, self.st_for, self.st_list, self.st_optional, self.st_early_return]
        return self._program(stmts)


def program_g(seed, **kw):
    """(source text, traceable) for a seed, in mode 7."""
    g = ProgramGenG(seed, **kw)
    src = g.program()
    return src, not g.data_dependent
