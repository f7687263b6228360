"""A third mode of the program generator (tests/program_fuzz_gen.py): views, in-place
writes through views and bases, and autograd (tests/test_program_fuzz_s23.py runs these).
The first two modes' seeds keep their programs.

- views of inputs and locals, chained: slicing with steps, select, narrow, view/reshape/
  flatten/unsqueeze/squeeze, transpose/permute/t, expand, unfold, diagonal, split/chunk/
  unbind pieces, detach(), view_as;
- in-place writes on views and on bases: add_/mul_/clamp_/copy_/fill_/zero_/masked_fill_,
  `x[idx] = ...`, `x[mask] = v`, index_put_, augmented assignments, detach_();
- reads of a base after a write through its view and of a view after a write to its base;
  clone()/contiguous();
- a requires_grad subset of the inputs (the generator picks it: `need`), in-program leaves
  (`x.detach().clone().requires_grad_(True)`), writes into leaves and views of leaves
  (mostly avoided, sometimes made: PyTorch raises), torch.autograd.grad and backward()
  inside the program.

Every var records its storage root (the input or local whose memory it views) so that the
generator knows which writes reach which tensors."""
from __future__ import annotations

from program_fuzz_gen import ProgramGen, Var, bcast


class VarC(Var):
    def __init__(self, name, shape, cat="f", *, root=None, view=False, expanded=False,
                 input_=False, leaf=False, grad=False):
        super().__init__(name, shape, cat, expanded=expanded, input_=input_)
        self.root = root or name      # the var owning the memory
        self.view = view
        self.leaf = leaf              # a leaf that requires grad (writes refused)
        self.grad = grad              # requires grad for sure


_WRITE_S = ["{a}.add_({s})", "{a}.mul_({s})", "{a}.clamp_(-1.0, 1.0)", "{a}.fill_({s})",
            "{a}.zero_()", "{a}.masked_fill_({a} > 0.5, {s})", "{a}.sub_(1)", "{a}.relu_()",
            "{a}.tanh_()", "{a}.neg_()", "{a}.clamp_(min=0.0)", "{a}.sigmoid_()",
            "{a}.exp_()", "{a}.pow_(2)", "{a}.div_(2.0)"]
_WRITE_B = ["{a}.add_({b})", "{a}.mul_({b})", "{a}.copy_({b})", "{a}.sub_({b}, alpha=0.5)",
            "{a}.addcmul_({b}, {b}, value=0.5)", "{a}.masked_fill_({b} > 0, {s})",
            "{a}.lerp_({b}, 0.25)", "{a}.copy_({b} * {a})", "{a}.div_({b}.abs() + 1)"]
_AUG = ["+=", "-=", "*="]


class ProgramGenC(ProgramGen):
    """Statements over views, in-place writes and autograd; pointwise steps of mode 1."""

    def __init__(self, seed, *, max_stmts=10):
        super().__init__(seed, max_stmts=max_stmts)
        r = self.r
        self.need = [r.random() < 0.5 for _ in range(4)]
        if not any(self.need[:3]):
            self.need[r.randrange(3)] = True
        self.vars = [VarC("x0", ("A", "B"), input_=True, leaf=self.need[0], grad=self.need[0]),
                     VarC("x1", ("A", "B"), input_=True, leaf=self.need[1], grad=self.need[1]),
                     VarC("x2", ("B",), input_=True, leaf=self.need[2], grad=self.need[2])]
        self.autograd = False     # autograd calls in the program: not traced
        self.written = []         # vars sharing memory with a written one
        self.leaf_writes = False  # a write into a leaf that requires grad or its view

    def var(self, name, shape, cat="f", **kw):
        v = VarC(name, shape, cat, **kw)
        self.vars.append(v)
        return v

    def assign(self, text, shape, cat, **kw):
        v = self.fresh()
        self.emit(f"{v} = {text}")
        src = [x for x in self.vars if x.name in text.replace("(", " ").replace(".", " ")
               .replace(",", " ").replace(")", " ").split()]
        self.var(v, shape, cat, grad=any(x.grad for x in src))
        return v

    def writable(self, v):
        """May the program write into v? (Leaves that require grad: rarely, to check
        PyTorch's refusal; overlapping views: never.)"""
        if v.expanded or v.cat != "f":
            return False
        root = self.root_var(v)
        if root is not None and root.leaf:
            return self.r.random() < 0.08
        if v.input or (root is not None and root.input):
            return self.r.random() < 0.4
        return True

    def root_var(self, v):
        for x in self.vars:
            if x.name == v.root:
                return x
        return None

    # ------------------------------------------------------------------ statements
    def st_local(self):
        """A local made from an input (fresh memory or the input itself)."""
        r = self.r
        a = self.pick(lambda v: v.input and v.cat == "f")
        text = r.choice([f"{a.name} * 1", f"{a.name}.clone()", f"{a.name} + 0.5",
                         f"{a.name}.contiguous()", f"{a.name}.detach()",
                         f"{a.name}.t().contiguous()" if len(a.shape) == 2 else f"{a.name} * s",
                         f"torch.sigmoid({a.name})", f"{a.name}.exp()"])
        v = self.fresh()
        self.emit(f"{v} = {text}")
        shape = a.shape[::-1] if ".t()" in text else a.shape
        if text.endswith(".contiguous()") and ".t()" not in text:     # may be a itself
            self.var(v, shape, root=a.root, view=True, input_=a.input, grad=a.grad)
        elif text.endswith(".detach()"):
            self.var(v, shape, root=a.root, view=True, input_=a.input)
            self.vars[-1].detached = True
        else:
            self.var(v, shape, grad=a.grad)

    def view_of(self, a):
        """(text, shape, expanded) of a view of a."""
        sh, r, n = list(a.shape), self.r, a.name
        opts = [(f"{n}.detach()", sh, False), (f"{n}.view_as({n})", sh, False)]
        if len(sh) >= 1:
            opts += [(f"{n}[::2]", [sh[0] + "/2"] + sh[1:], False),
                     (f"{n}[1:]", [sh[0] + "-1"] + sh[1:], False),
                     (f"{n}[1::2]", [sh[0] + "//2"] + sh[1:], False),
                     (f"{n}[:-1]", [sh[0] + "-1"] + sh[1:], False),
                     (f"{n}.select(0, -1)", sh[1:], False), (f"{n}[0]", sh[1:], False),
                     (f"{n}.narrow(0, 1, 1)", ["1"] + sh[1:], False),
                     (f"{n}.unsqueeze(0)", ["1"] + sh, False),
                     (f"{n}.unsqueeze(-1)", sh + ["1"], False),
                     (f"{n}.flatten()", ["*".join(sh) or "1"], False),
                     (f"{n}.reshape(-1)", ["*".join(sh) or "1"], False),
                     (f"{n}.view(-1)", ["*".join(sh) or "1"], False),
                     (f"{n}.unfold(0, 2, 1)", [sh[0] + "u"] + sh[1:] + ["2"], True),
                     (f"{n}.expand(2, {', '.join(['-1'] * len(sh))})", ["2"] + sh, True),
                     (f"{n}.chunk(2, 0)[0]", [sh[0] + "/c2a"] + sh[1:], False),
                     (f"{n}.split(1, 0)[-1]", ["1"] + sh[1:], False),
                     (f"{n}.unbind(0)[0]", sh[1:], False)]
        if len(sh) == 1:
            opts += [(f"{n}.unsqueeze(1).expand(-1, 3)", [sh[0], "3"], True),
                     (f"{n}[None, :]", ["1", sh[0]], False),
                     (f"{n}.view(1, -1)", ["1", sh[0]], False)]
        if len(sh) == 2:
            opts += [(f"{n}.t()", sh[::-1], False), (f"{n}.transpose(0, 1)", sh[::-1], False),
                     (f"{n}.permute(1, 0)", sh[::-1], False),
                     (f"{n}[:, ::2]", [sh[0], sh[1] + "/2"], False),
                     (f"{n}[1:, 1::2]", [sh[0] + "-1", sh[1] + "//2"], False),
                     (f"{n}[:, 0]", [sh[0]], False), (f"{n}.select(1, -1)", [sh[0]], False),
                     (f"{n}[..., 1:]", [sh[0], sh[1] + "-1"], False),
                     (f"{n}.narrow(1, 0, 1)", [sh[0], "1"], False),
                     (f"{n}.diagonal()", [f"d({sh[0]},{sh[1]})"], False),
                     (f"{n}.diagonal(1)", [f"d1({sh[0]},{sh[1]})"], False),
                     (f"{n}.unfold(1, 2, 1)", [sh[0], sh[1] + "u", "2"], True),
                     (f"{n}.view({n}.size(0), -1)", sh, False),
                     (f"{n}.reshape({n}.size(1), {n}.size(0))", [sh[1] + "r", sh[0] + "r"],
                      False),
                     (f"{n}.unsqueeze(1).squeeze(1)", sh, False),
                     (f"{n}.chunk(2, 1)[-1]", [sh[0], sh[1] + "/c2b"], False),
                     (f"{n}.unbind(1)[-1]", [sh[0]], False),
                     (f"{n}[:, None, :]", [sh[0], "1", sh[1]], False)]
        if len(sh) >= 2 and sh[0] == "1":
            opts.append((f"{n}.squeeze(0)", sh[1:], False))
        if len(sh) == 3:
            opts += [(f"{n}.permute(2, 0, 1)", [sh[2], sh[0], sh[1]], False),
                     (f"{n}.transpose(1, 2)", [sh[0], sh[2], sh[1]], False),
                     (f"{n}.flatten(0, 1)", [sh[0] + "*" + sh[1], sh[2]], False)]
        return r.choice(opts)

    def st_view_c(self):
        r = self.r
        a = self.pick(lambda v: v.cat == "f")
        text, shape, expanded = self.view_of(a)
        if r.random() < 0.3:                          # a chain of two
            tmp = VarC(f"({text})", shape)
            t2, shape, e2 = self.view_of(tmp)
            text, expanded = t2, expanded or e2
        v = self.fresh()
        self.emit(f"{v} = {text}")
        detached = "detach()" in text
        self.var(v, shape, root=a.root, view=True, input_=a.input,
                 expanded=a.expanded or expanded or "reshape" in text and a.expanded,
                 grad=a.grad and not detached)

    def st_write_c(self):
        r = self.r
        a = self.pick(lambda v: self.writable(v))
        if a is None:
            return
        root = self.root_var(a)
        self.leaf_writes |= root is not None and root.leaf
        kind = r.random()
        if kind < 0.35:
            b = self.operand_for(a)
            if b is not None:
                self.emit(r.choice(_WRITE_B).format(a=a.name, b=b.name, s="s"))
                a.grad = a.grad or b.grad
                self.mark_written(a, b.grad)
                return
        if kind < 0.55 and len(a.shape) >= 1:       # indexed assignment
            idx = r.choice(["0", "-1", "1:", "::2", "1::2", "...", ":-1"]
                           + ([":, 0", "..., -1", "0, 1:", ":, ::2"] if len(a.shape) == 2 else []))
            val = r.choice(["s", "n", "0.0", "-1.5"])
            b = None
            if r.random() < 0.4:
                b = self.pick(lambda v: v.cat == "f" and (v.shape == () or v.shape == ("1",)
                                                         or v.shape == a.shape[1:]))
                val = b.name if b is not None and (idx in ("0", "-1") or b.shape in ((), ("1",)))\
                    else val
            if r.random() < 0.2:
                idx, val = f"{a.name} > 0", r.choice(["s", "0.0"])          # x[mask] = v
            elif r.random() < 0.15:
                idx = "torch.tensor([0])"                                    # index_put_
            self.emit(f"{a.name}[{idx}] = {val}")
            self.mark_written(a, b is not None and b.grad and val == b.name)
            return
        if kind < 0.65:
            b = self.operand_for(a)
            if b is not None:
                op = r.choice(_AUG)
                self.emit(f"{a.name} {op} {b.name}")
                self.mark_written(a, b.grad)
                return
        if kind < 0.7 and len(a.shape) >= 1:
            self.emit(f"{a.name}.index_put_([torch.tensor([0])], torch.tensor({r.choice(['2.5', 's'])}))")
            self.mark_written(a, False)
            return
        self.emit(r.choice(_WRITE_S).format(a=a.name, s="s"))
        self.mark_written(a, False)

    def operand_for(self, a):
        """An operand of a write into a: a itself or a var of other memory (an operand
        viewing a's memory elsewhere makes PyTorch's answer depend on its kernel's order
        where its overlap check gives up, on a non-dense self: not generated)."""
        return self.pick(lambda v: bcast(a.shape, v.shape) == tuple(a.shape) and v.cat == "f"
                         and (v is a or v.root != a.root))

    def mark_written(self, a, grad):
        self.written += [v for v in self.vars if v.root == a.root and v.cat == "f"]
        if grad:
            for v in self.vars:
                if v.root == a.root and not getattr(v, "detached", False):
                    v.grad = True

    def st_read_c(self):
        """Read a base after a write through its view, or a view after a write to its
        base, through a pointwise chain and maybe a reduction."""
        r = self.r
        a = self.r.choice(self.written) if self.written and r.random() < 0.6 else \
            self.pick(lambda v: v.cat == "f")
        sib = [v for v in self.vars if v.root == a.root and v is not a]
        t, cat = self.pointwise(a, r.randint(1, 2))
        if sib and r.random() < 0.6:
            b = r.choice(sib)
            t = f"({t}) + {b.name}.sum()" if r.random() < 0.5 else f"({t}) * {b.name}.mean()"
        self.assign(t, a.shape, cat)

    def st_clone(self):
        a = self.pick(lambda v: v.cat == "f")
        text = self.r.choice([f"{a.name}.clone()", f"{a.name}.contiguous()",
                              f"{a.name}.clone().detach()", f"{a.name}.detach().clone()"])
        v = self.fresh()
        self.emit(f"{v} = {text}")
        if text.endswith("contiguous()"):           # a itself when contiguous
            self.var(v, a.shape, root=a.root, view=True, input_=a.input,
                     expanded=a.expanded, grad=a.grad)
        else:
            self.var(v, a.shape, grad=a.grad and "detach" not in text)

    def st_detach_(self):
        """detach_() of a local (PyTorch refuses it on a view)."""
        r = self.r
        a = self.pick(lambda v: not v.input and (not v.view or r.random() < 0.2)
                      and v.cat == "f")
        if a is None:
            return
        self.emit(f"{a.name}.detach_()")
        a.grad = False

    def st_leaf(self):
        """An in-program leaf that requires grad, its gradient taken in the program."""
        r = self.r
        a = self.pick(lambda v: v.cat == "f")
        w = self.fresh()
        self.emit(f"{w} = {a.name}.detach().clone().requires_grad_(True)")
        self.var(w, a.shape, leaf=True, grad=True)
        self.autograd = True
        # a few ops on the leaf and views of it
        text, shape, exp = self.view_of(self.vars[-1])
        u = self.fresh()
        self.emit(f"{u} = {text}")
        self.var(u, shape, root=w, view=True, expanded=exp, grad="detach" not in text)
        if r.random() < 0.5:
            t, _ = self.pointwise(self.vars[-1], r.randint(1, 2))
            self.assign(t, shape, "f")
        loss = self.fresh()
        uses = [v for v in self.vars if v.grad and v.cat == "f"]
        parts = [f"({v.name} * {v.name}).sum()" for v in r.sample(uses, min(2, len(uses)))]
        self.emit(f"{loss} = {' + '.join(parts)} + ({w} * 1.25).sum()")
        g = self.fresh()
        if r.random() < 0.6:
            retain = r.choice(["", ", retain_graph=True"])
            self.emit(f"_{g} = torch.autograd.grad([{loss}], [{w}], allow_unused=True{retain})\n"
                      f"{g} = {w}.detach() * 0\n_{g}0 = _{g}[0]\nif _{g}0 is not None:\n"
                      f"    {g} = _{g}0 * 1")
        else:
            self.emit(f"{loss}.backward(retain_graph={r.choice(['True', 'False'])})\n"
                      f"{g} = {w}.detach() * 0\n_{g}0 = {w}.grad\nif _{g}0 is not None:\n"
                      f"    {g} = _{g}0 * 1")
        self.var(g, a.shape)

    def ret_text(self):
        return ", ".join(self.rets)

    def program(self):
        r = self.r
        self.nret = r.randint(1, 3)
        stmts = [self.st_local] * 2 + [self.st_view_c] * 4 + [self.st_write_c] * 5 + [
            self.st_read_c] * 3 + [self.st_clone, self.st_detach_, self.st_pointwise,
                                   self.st_leaf]
        for _ in range(r.randint(4, self.max_stmts)):
            r.choice(stmts)()
        self.st_read_c()
        pool = self.written or self.vars
        outs = [self.vars[-1].name] + [r.choice(pool).name for _ in range(self.nret - 1)]
        self.emit(f"return {', '.join(outs)}")
        head = ("def f(x0: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, "
                "o: Optional[torch.Tensor], s: float, n: int):\n")
        return head + "\n".join(self.lines) + "\n"


def program_c(seed, **kw):
    """(source text, traceable, need, leaf_writes) for a seed in the third mode: need
    marks the inputs (x0, x1, x2, o) that require grad in the gradient checks;
    leaf_writes, whether the program writes into a leaf that requires grad (or a view of
    one)."""
    g = ProgramGenC(seed, **kw)
    src = g.program()
    return src, not (g.data_dependent or g.autograd), g.need, g.leaf_writes
