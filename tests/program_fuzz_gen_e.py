"""A generator of small scripted functions over non-tensor values (run by
tests/test_program_fuzz_s24b.py against torch.jit): int / float / bool / str arithmetic and
comparisons (//, %, ** with negatives, int64 wrap-around, inf / nan, division by zero,
chained comparisons, short-circuit bool ops), builtins (abs, min, max, len, int(), float(),
str(), bool(), round, divmod, sum, sorted, range with steps, enumerate, zip), math.*,
List[int] / List[float] / List[str] methods (append, insert, pop, remove, index, count,
extend, sort, reverse, clear, copy, del, slicing with steps, comprehensions, +, *, in),
Dict[str, int] methods (get, setdefault, pop, keys / values / items, update, in, del,
clear, comprehensions), tuples, Optional refinement, str methods, while loops with
break / continue, helper functions calling each other, early returns, raise / assert;
tensors only as carriers (torch.tensor(list).tolist() / .sum().item()).

`program_e(seed)` gives (source, argument tuples). The source is a module body (it needs
`import math`, `import torch` and typing's names) whose entry point is `f`; the same text
is handed to gpujit and to torch. Programs keep to what torch.jit.script accepts (no
f-strings, no comprehension `if` clauses or tuple targets, no sets)."""
from __future__ import annotations

import ast
import random

INT, FLT, BOOL, STR = "int", "float", "bool", "str"
LI, LF, LS, DSI, OI = "List[int]", "List[float]", "List[str]", "Dict[str, int]", "Optional[int]"
TUP = "Tuple[int, str]"
SCALARS = [INT, FLT, BOOL, STR]
LISTS = {LI: INT, LF: FLT, LS: STR}

_INT_LITS = ["0", "1", "2", "3", "-1", "-2", "5", "7", "-7", "10", "100", "-3",
             "9223372036854775807", "4611686018427387904", "-9223372036854775807",
             "3037000500", "65536"]
_FLT_LITS = ["0.0", "-0.0", "0.5", "1.5", "-2.5", "2.0", "0.1", "1e300", "-1e-300", "3.0",
             "float('inf')", "float('-inf')", "float('nan')", "1e16", "0.25", "-1.0"]
_STR_LITS = ['""', '"a"', '"ab"', '"abc"', '" x "', '"12"', '"-3"', '"A b"', '"a,b"',
             '","', '" "', '"Hello World"', '"0"', '"xyz"', '"1.5"', '"inf"', '"aba"']
_KEYS = ['"a"', '"b"', '"c"', '"ab"', '""']


class _FoldIfExp(ast.NodeTransformer):
    """`(a if True else b)` is a, `(a if False else b)` b, `(a if c else a)` a: what
    TorchScript's constant propagation and CSE leave of them."""

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant) and node.test.value in (True, False):
            return node.body if node.test.value else node.orelse
        if ast.dump(node.body) == ast.dump(node.orelse):
            return node.body
        return node


def _folded(expr: str) -> str:
    """expr as TorchScript's folding sees it (for the `a == a` check: seed 37011*100003+
    22, `(x if True else x) == x` with x = nan is True in torch.jit.script 2.13)."""
    try:
        return ast.unparse(_FoldIfExp().visit(ast.parse(expr, mode="eval")))
    except SyntaxError:
        return expr


class Scope:
    def __init__(self, parent=None):
        self.vars = {}          # name -> type
        self.parent = parent

    def all(self):
        out = dict(self.parent.all()) if self.parent else {}
        out.update(self.vars)
        return out


class GenE:
    def __init__(self, seed, *, max_stmts=14):
        self.r = random.Random(seed)
        self.seed = seed
        self.max_stmts = max_stmts
        self.lines = []
        self.ind = 1
        self.n = 0
        self.scope = Scope()
        self.loop_depth = 0
        self.helpers = []       # (name, arg types, return type)
        self.in_helper = False
        self.ret_types = None
        self.uses_math = False
        self.uses_torch = False
        self.readonly = set()   # loop variables / iterated containers: not reassigned
        # the session-25 sub-mode (GPUJIT_PROGRAM_FUZZ_SEED runs only, from its own random
        # stream: the fixed seeds' programs are unchanged): a script class, a NamedTuple,
        # an Enum, Union refinement by isinstance, Optional[List[int]], nested lists and
        # dicts of lists, str.format, enumerate(..., start)
        self.x = random.Random(seed * 104729 + 26)
        self.ext = seed > 100000 and self.x.random() < 0.7
        self.uses_classes = False

    # ------------------------------------------------------------------ basics
    def fresh(self):
        self.n += 1
        return f"v{self.n}"

    def emit(self, text):
        self.lines.append("    " * self.ind + text)

    def vars_of(self, t, writable=False):
        return [n for n, tt in self.scope.all().items() if tt == t and
                (not writable or n not in self.readonly)]

    def pick(self, xs):
        return self.r.choice(xs)

    def chance(self, p):
        return self.r.random() < p

    def declare(self, name, t, use=True):
        self.scope.vars[name] = t
        if use:
            self.use(name)

    def use(self, name):
        """Every value reaches the trace (tr, returned): TorchScript's dead code
        elimination would drop an unused op that raises."""
        self.emit(f"tr.append(str({name}))")

    # ------------------------------------------------------------------ expressions
    def expr(self, t, d=2):
        """A random expression of type t (depth d)."""
        vs = self.vars_of(t)
        if d <= 0 or self.chance(0.3):
            if vs and self.chance(0.75):
                return self.pick(vs)
            return self.leaf(t)
        return getattr(self, "e_" + {INT: "int", FLT: "float", BOOL: "bool", STR: "str",
                                     LI: "li", LF: "lf", LS: "ls", DSI: "dict",
                                     OI: "oi", TUP: "tup"}[t])(d - 1)

    def leaf(self, t):
        r = self.r
        if t == INT:
            return r.choice(_INT_LITS)
        if t == FLT:
            return r.choice(_FLT_LITS)
        if t == BOOL:
            return r.choice(["True", "False"])
        if t == STR:
            return r.choice(_STR_LITS)
        if t in LISTS:
            el = LISTS[t]
            k = r.randrange(0, 4)
            items = ", ".join(self.leaf(el) for _ in range(k))
            return f"[{items}]" if k else f"torch.jit.annotate({t}, [])"
        if t == DSI:
            k = r.randrange(0, 3)
            items = ", ".join(f"{r.choice(_KEYS)}: {r.choice(_INT_LITS[:12])}"
                              for _ in range(k))
            return "{" + items + "}" if k else "torch.jit.annotate(Dict[str, int], {})"
        if t == OI:
            return r.choice(["None", self.leaf(INT)])
        if t == TUP:
            return f"({self.leaf(INT)}, {self.leaf(STR)})"
        raise AssertionError(t)

    def m(self, name):
        self.uses_math = True
        return f"math.{name}"

    def e_int(self, d):
        E = self.expr
        r = self.r
        k = r.randrange(38)
        if k < 8:
            op = r.choice(["+", "-", "*", "//", "%", "*", "+", "-"])
            return f"({E(INT, d)} {op} {E(INT, d)})"
        if k == 8:
            return f"(-{E(INT, d)})"
        if k == 9:
            return f"abs({E(INT, d)})"
        if k == 10:
            return f"{r.choice(['min', 'max'])}({E(INT, d)}, {E(INT, d)})"
        if k == 11:
            return f"len({E(r.choice([LI, LF, LS, STR, DSI]), d)})"
        if k == 12:
            return f"int({E(FLT, d)})"
        if k == 13:
            return f"int({E(BOOL, d)})"
        if k == 14:
            return f"int({E(STR, d)})"
        if k == 15:
            return f"{E(LI, d)}[{E(INT, d)}]"
        if k == 16:
            return f"{E(LI, d)}.index({E(INT, d)})"
        if k == 17:
            lt = r.choice([LI, LS, LF])
            return f"{E(lt, d)}.count({E(LISTS[lt], d)})"
        if k == 18:
            return f"{E(STR, d)}.{r.choice(['find', 'rfind', 'count'])}({E(STR, d)})"
        if k == 19:
            # (an int64 sum that overflows: TorchScript's C++ answers undefined values)
            v = self.fresh()
            return f"sum([{v} % 100000 for {v} in {E(LI, d)}])"
        if k == 20:
            return f"divmod({E(INT, d)}, {E(INT, d)})[{r.randrange(2)}]"
        if k == 21:
            op = r.choice(["<<", ">>", "&", "|", "^"])
            # (shift counts in [0, 63]: outside, TorchScript's C++ shift is undefined
            # behaviour; gpujit takes the count modulo 64 as torch's x86-64 build does)
            rhs = r.choice(["1", "3", "62", "63", "0", f"({E(INT, d)} & 63)"]) \
                if op in ("<<", ">>") else E(INT, d)
            return f"({E(INT, d)} {op} {rhs})"
        if k == 22:
            return f"{E(DSI, d)}.get({E(STR, d)}, {E(INT, d)})"
        if k == 23:
            return f"{E(DSI, d)}[{E(STR, d)}]"
        if k == 24:
            return f"({E(INT, d)} if {E(BOOL, d)} else {E(INT, d)})"
        if k == 25:
            return f"{self.m(r.choice(['floor', 'ceil', 'trunc']))}({E(FLT, d)})"
        if k == 26:
            return f"{self.m('gcd')}({E(INT, d)}, {E(INT, d)})"
        if k == 27:
            return f"{self.m('factorial')}({r.choice(['0', '3', '-1', '20', '21'])})"
        if k == 28:
            v = self.vars_of(OI)
            if v:
                o = self.pick(v)
                return f"({o} if {o} is not None else {E(INT, d)})"
            return self.leaf(INT)
        if k == 29:
            return f"{E(TUP, d)}[0]"
        if k == 30:
            return f"{self.call_helper(INT, d)}"
        if k == 31:
            return f"{E(LI, d)}[{r.choice(['-1', '0', '1', E(INT, d)])}]"
        if k == 32:
            self.uses_torch = True
            return f"int(torch.tensor({E(LI, d)}).sum().item())"
        if k == 33:
            return f"int(round({E(FLT, d)}))"
        if k == 34:
            return f"len({E(STR, d)}.split({E(STR, d)}))"
        if k == 35:
            return f"{r.choice(['max', 'min'])}({E(LI, d)})"
        if k == 36:
            return f"{E(LS, d)}.index({E(STR, d)})"
        return f"int({E(FLT, d)} * {E(INT, d)})"

    def e_float(self, d):
        E = self.expr
        r = self.r
        k = r.randrange(32)
        if k < 7:
            op = r.choice(["+", "-", "*", "/", "//", "%", "**"])
            a, b = r.choice([(FLT, FLT), (FLT, INT), (INT, FLT), (FLT, FLT)])
            return f"({E(a, d)} {op} {E(b, d)})"
        if k == 7:
            return f"({E(INT, d)} / {E(INT, d)})"
        if k == 8:
            return f"({E(INT, d)} ** {E(INT, d)})"
        if k == 9:
            return f"float({E(INT, d)})"
        if k == 10:
            return f"float({E(STR, d)})"
        if k in (11, 12, 13):
            fn = r.choice(["sqrt", "exp", "log", "log10", "log1p", "sin", "cos", "tan",
                           "atan", "tanh", "fabs", "expm1", "erf", "erfc", "lgamma",
                           "degrees", "radians", "asin", "acos", "gamma", "log2",
                           "sinh", "cosh", "asinh", "acosh", "atanh"])
            return f"{self.m(fn)}({E(FLT, d)})"
        if k == 14:
            fn = r.choice(["fmod", "copysign", "pow", "atan2", "remainder", "hypot"])
            return f"{self.m(fn)}({E(FLT, d)}, {E(FLT, d)})"
        if k == 15:
            return f"abs({E(FLT, d)})"
        if k == 16:
            return f"{r.choice(['min', 'max'])}({E(FLT, d)}, {E(FLT, d)})"
        if k == 17:
            return f"round({E(FLT, d)})"
        if k == 18:
            return f"{E(LF, d)}[{E(INT, d)}]"
        if k == 19:
            return f"sum({E(LF, d)})"
        if k == 20:
            return f"(-{E(FLT, d)})"
        if k == 21:
            return f"({E(FLT, d)} if {E(BOOL, d)} else {E(FLT, d)})"
        if k == 22:
            return self.m(r.choice(["pi", "e", "inf", "nan"]))
        if k == 23:
            self.uses_torch = True
            # (float32 data, then doubled: TorchScript's torch.tensor(fs, dtype=float64)
            # rounds fs through float32 where gpujit keeps eager's values, a documented
            # difference that every list holding 0.1 or 1e300 met)
            return f"float(torch.tensor({E(LF, d)}).double().sum().item())"
        if k == 24:
            return f"{self.call_helper(FLT, d)}"
        if k == 25:
            return f"{r.choice(['min', 'max'])}({E(INT, d)}, {E(FLT, d)})"
        if k == 26:
            return f"{r.choice(['max', 'min'])}({E(LF, d)})"
        if k == 27:
            return f"{E(LF, d)}[{r.choice(['-1', '0', '1'])}]"
        if k == 28:
            return f"float({E(BOOL, d)})"
        if k == 29:
            return f"divmod({E(FLT, d)}, {E(FLT, d)})[{r.randrange(2)}]"
        if k == 30:
            return f"{E(INT, d)} * {E(FLT, d)}"
        return f"({E(FLT, d)} + {E(INT, d)})"

    def e_bool(self, d):
        E = self.expr
        r = self.r
        k = r.randrange(24)
        if k < 5:
            t = r.choice([INT, FLT, INT, STR, FLT])
            op = r.choice(["<", "<=", ">", ">=", "==", "!="])
            if t == STR and op in ("<", "<=", ">", ">=") and self.chance(0.5):
                op = "=="
            lhs, rhs = E(t, d), E(t, d)
            if t == FLT and op in ("==", "!=") and _folded(lhs) == _folded(rhs):
                # (TorchScript's peephole folds `a == a` to True and `a != a` to False
                # on floats, nan too (a defect: gpujit answers IEEE's); `+ 0.0` keeps
                # the two sides apart: GPUJIT_PROGRAM_FUZZ_SEED=36051 k=142, abs(x) ==
                # abs(x) with x = nan)
                rhs = f"({rhs} + 0.0)"
            return f"({lhs} {op} {rhs})"
        if k == 5:
            t = r.choice([INT, FLT])
            return f"({E(t, d)} < {E(t, d)} <= {E(t, d)})"
        if k == 6:
            return f"({E(BOOL, d)} {r.choice(['and', 'or'])} {E(BOOL, d)})"
        if k == 7:
            return f"(not {E(BOOL, d)})"
        if k == 8:
            lt = r.choice([LI, LS, LF])
            return f"({E(LISTS[lt], d)} {r.choice(['in', 'not in'])} {E(lt, d)})"
        if k == 9:
            return f"({E(STR, d)} in {E(STR, d)})"
        if k == 10:
            return f"({E(STR, d)} in {E(DSI, d)})"
        if k == 11:
            fn = r.choice(["startswith", "endswith"])
            return f"{E(STR, d)}.{fn}({E(STR, d)})"
        if k == 12:
            fn = r.choice(["isdigit", "isalpha", "isspace", "islower", "isupper",
                           "isalnum", "isidentifier", "istitle"])
            return f"{E(STR, d)}.{fn}()"
        if k == 13:
            return f"{self.m(r.choice(['isnan', 'isinf', 'isfinite']))}({E(FLT, d)})"
        if k == 14:
            lt = r.choice([LI, LS, LF])
            return f"({E(lt, d)} {r.choice(['==', '!='])} {E(lt, d)})"
        if k == 15:
            return f"bool({E(r.choice([INT, FLT]), d)})"
        if k == 16:
            v = self.vars_of(OI)
            if v:
                return f"({self.pick(v)} {r.choice(['is', 'is not'])} None)"
            return self.leaf(BOOL)
        if k == 17:
            return f"({E(BOOL, d)} == {E(BOOL, d)})"
        if k == 18:
            # short circuit guarding an error
            return f"(len({E(LI, d)}) > 0 and {E(LI, d)}[0] > {E(INT, d)})"
        if k == 19:
            return f"({E(INT, d)} != 0 and {E(INT, d)} // {E(INT, d)} > 0)"
        if k == 20:
            return f"({E(STR, d)} < {E(STR, d)})"
        if k == 21:
            t = r.choice([INT, FLT, STR])
            a, op1, b = E(t, d), r.choice(['<', '==', '>=']), E(t, d)
            op2, c = r.choice(['<', '!=', '>']), E(t, d)
            if t == FLT and op1 == "==" and _folded(a) == _folded(b):
                b = f"({b} + 0.0)"          # (as above: seed 37011*100003+22)
            if t == FLT and op2 == "!=" and _folded(b) == _folded(c):
                c = f"({c} + 0.0)"
            return f"({a} {op1} {b} {op2} {c})"
        if k == 22:
            return f"({E(TUP, d)}[0] == {E(INT, d)})"
        return f"{self.call_helper(BOOL, d)}"

    def e_str(self, d):
        E = self.expr
        r = self.r
        k = r.randrange(26)
        if k < 3:
            return f"({E(STR, d)} + {E(STR, d)})"
        if k == 3:
            return f"({E(STR, d)} + {E(STR, d)}[::-1])"
        if k == 4:
            a, b, c = [r.choice(["", "1", "-1", "2", "-2", "0", "None", "5"])
                       for _ in range(3)]
            step = f":{c}" if self.chance(0.5) and c not in ("0",) else ""
            return f"{E(STR, d)}[{a}:{b}{step}]"
        if k == 5:
            return f"{E(STR, d)}[{r.choice(['0', '-1', '1', E(INT, d)])}]"
        if k in (6, 7):
            fn = r.choice(["upper", "lower", "strip", "lstrip", "rstrip", "title",
                           "capitalize", "swapcase"])
            return f"{E(STR, d)}.{fn}()"
        if k == 8:
            return f"{E(STR, d)}.replace({E(STR, d)}, {E(STR, d)})"
        if k in (9, 10):
            return f"str({E(r.choice([INT, FLT, BOOL, FLT]), d)})"
        if k == 11:
            return f"{E(STR, d)}.join({E(LS, d)})"
        if k == 12:
            return f"{E(LS, d)}[{E(INT, d)}]"
        if k == 13:
            fn = r.choice(["zfill", "center", "ljust", "rjust"])
            return f"{E(STR, d)}.{fn}({r.choice(['0', '3', '6', '-1'])})"
        if k == 14:
            n = r.randrange(1, 4)
            fmt = r.choice(["{}", "{}-{}", "<{}|{}|{}>", "x"])
            args = ", ".join(E(r.choice([INT, FLT, STR, BOOL]), d) for _ in range(n))
            return f"{fmt!r}.format({args})".replace("'", '"')
        if k == 15:
            return f"({E(STR, d)} if {E(BOOL, d)} else {E(STR, d)})"
        if k == 16:
            return f"{E(TUP, d)}[1]"
        if k == 17:
            return f"{self.call_helper(STR, d)}"
        if k == 18:
            return f"{E(STR, d)}.strip({E(STR, d)})"
        if k == 19:
            return f"str({E(r.choice([LI, LF, LS]), d)})"
        if k == 20:
            return f"{E(LS, d)}[-1]"
        if k == 21:
            return f"str({E(OI, d)})"
        if k == 22:
            # (in parentheses: `"%d-%s" % (a, b).replace(...)` would apply the method to
            # the tuple, which TorchScript refuses: GPUJIT_PROGRAM_FUZZ_SEED=37015 k=30)
            return f"('%d-%s' % ({E(INT, d)}, {E(STR, d)}))".replace("'", '"')
        if k == 23:
            return f"{E(STR, d)}.split({E(STR, d)})[0]"
        return f"{E(STR, d)}.rstrip({E(STR, d)})" if self.chance(0.5) else f"str({E(DSI, d)})"

    def e_li(self, d):
        E = self.expr
        r = self.r
        k = r.randrange(16)
        if k < 2:
            return f"({E(LI, d)} + {E(LI, d)})"
        if k == 2:
            return f"({E(LI, d)} * {r.choice(['0', '2', '-1', E(INT, d)])})"
        if k == 3:
            a, b, c = [r.choice(["", "1", "-1", "2", "-3", "0", "5"]) for _ in range(3)]
            step = f":{c}" if self.chance(0.5) and c != "0" else ""
            return f"{E(LI, d)}[{a}:{b}{step}]"
        if k == 4:
            v = self.fresh()
            return f"[{v} * {E(INT, 0)} for {v} in {E(LI, d)}]"
        if k == 5:
            return f"sorted({E(LI, d)})"
        if k == 6:
            return f"list(range({E(INT, 0)}, {E(INT, 0)}, {r.choice(['1', '2', '-1', '-3'])}))"
        if k == 7:
            return f"{E(LI, d)}.copy()"
        if k == 8:
            return f"list({E(DSI, d)}.values())"
        if k == 9:
            v = self.fresh()
            return f"[len({v}) for {v} in {E(LS, d)}]"
        if k == 10:
            self.uses_torch = True
            v = self.fresh()
            return f"[int({v}) for {v} in torch.tensor({E(LI, d)}, dtype=torch.int64)]"
        if k == 11:
            v = self.fresh()
            return f"[int({v}) for {v} in {E(LF, d)}]"
        if k == 12:
            return f"list({E(LI, d)})"
        if k == 13:
            v = self.fresh()
            return f"[{v} % 3 for {v} in range({r.choice(['3', '0', '-2', E(INT, 0)])})]"
        if k == 14:
            return f"[{E(INT, d)}, {E(INT, d)}]"
        return f"[{E(INT, d)}] * {r.choice(['0', '2', '-1', '3'])}"

    def e_lf(self, d):
        E = self.expr
        r = self.r
        k = r.randrange(9)
        if k < 2:
            return f"({E(LF, d)} + {E(LF, d)})"
        if k == 2:
            a, b = [r.choice(["", "1", "-1", "2", "0"]) for _ in range(2)]
            return f"{E(LF, d)}[{a}:{b}]"
        if k == 3:
            v = self.fresh()
            return f"[{v} * {E(FLT, 0)} for {v} in {E(LF, d)}]"
        if k == 4:
            v = self.fresh()
            return f"[float({v}) for {v} in {E(LI, d)}]"
        if k == 5:
            return f"sorted({E(LF, d)})"
        if k == 6:
            return f"({E(LF, d)} * {r.choice(['0', '2', E(INT, d)])})"
        if k == 7:
            return f"[{E(FLT, d)}, {E(FLT, d)}]"
        return f"{E(LF, d)}.copy()"

    def e_ls(self, d):
        E = self.expr
        r = self.r
        k = r.randrange(10)
        if k < 2:
            sep = r.choice(["", E(STR, d)])
            return f"{E(STR, d)}.split({sep})"
        if k == 2:
            return f"({E(LS, d)} + {E(LS, d)})"
        if k == 3:
            return f"list({E(DSI, d)}.keys())"
        if k == 4:
            v = self.fresh()
            return f"[str({v}) for {v} in {E(LI, d)}]"
        if k == 5:
            return f"sorted({E(LS, d)})"
        if k == 6:
            return f"{E(LS, d)}[{r.choice(['1:', ':-1', '::2', '::-1'])}]"
        if k == 7:
            v = self.fresh()
            return f"[{v}.upper() for {v} in {E(LS, d)}]"
        if k == 8:
            return f"list({E(STR, d)})"
        return f"[{E(STR, d)}, {E(STR, d)}]"

    def e_dict(self, d):
        E = self.expr
        r = self.r
        k = r.randrange(5)
        if k == 0:
            v = self.fresh()
            return f"{{{v}: len({v}) for {v} in {E(LS, d)}}}"
        if k == 1:
            return f"{E(DSI, d)}.copy()"
        if k == 2:
            v = self.fresh()
            return f"{{{v}: {E(INT, 0)} for {v} in {E(STR, d)}}}"
        if k == 3:
            return f"{{{E(STR, d)}: {E(INT, d)}, {E(STR, d)}: {E(INT, d)}}}"
        return f"dict({E(DSI, d)})"

    def e_oi(self, d):
        r = self.r
        k = r.randrange(4)
        if k == 0:
            return f"{self.expr(DSI, d)}.get({self.expr(STR, d)})"
        if k == 1:
            return "None"
        return self.expr(INT, d)

    def e_tup(self, d):
        return f"({self.expr(INT, d)}, {self.expr(STR, d)})"

    def call_helper(self, t, d):
        hs = [h for h in self.helpers if h[2] == t]
        if not hs or self.in_helper:
            return self.leaf(t)
        name, args, _ = self.pick(hs)
        return f"{name}({', '.join(self.expr(a, d) for a in args)})"

    # ------------------------------------------------------------------ statements
    def stmt(self, budget):
        r = self.r
        if self.ext and not self.in_helper and self.x.random() < 0.3:
            return self.s_ext()
        k = r.randrange(100)
        if k < 26:
            return self.s_assign()
        if k < 34:
            return self.s_reassign()
        if k < 50:
            return self.s_list_method()
        if k < 58:
            return self.s_dict_method()
        if k < 66 and budget > 2:
            return self.s_if(budget)
        if k < 72 and budget > 2:
            return self.s_for(budget)
        if k < 76 and budget > 2:
            return self.s_while(budget)
        if k < 79:
            return self.s_raise()
        if k < 82:
            return self.s_optional()
        if k < 85:
            return self.s_tuple()
        if k < 88 and not self.in_helper:
            return self.s_early_return()
        if k < 92:
            return self.s_aug()
        if k < 95 and self.loop_depth:
            self.emit(f"if {self.expr(BOOL, 1)}:")
            self.ind += 1
            self.emit(r.choice(["break", "continue"]))
            self.ind -= 1
            return 1
        return self.s_assign()

    def s_assign(self):
        t = self.r.choice(SCALARS * 3 + [LI, LF, LS, DSI, LI, LS])
        v = self.fresh()
        e = self.expr(t, self.r.choice([1, 2, 2, 3]))
        ann = f": {t}" if t in LISTS or t == DSI or self.chance(0.2) else ""
        self.emit(f"{v}{ann} = {e}")
        self.declare(v, t)
        return 1

    def s_reassign(self):
        t = self.r.choice(SCALARS + [LI, LS])
        vs = self.vars_of(t, writable=True)
        if not vs:
            return self.s_assign()
        v = self.pick(vs)
        if t in LISTS and self.chance(0.4):
            # alias: the list itself, mutations seen through both names
            ws = [w for w in self.vars_of(t) if w != v]
            if ws:
                self.emit(f"{v} = {self.pick(ws)}")
                return 1
        self.emit(f"{v} = {self.expr(t, 2)}")
        self.use(v)
        return 1

    def s_aug(self):
        t = self.r.choice([INT, FLT, STR, LI])
        vs = self.vars_of(t, writable=True)
        if not vs:
            return self.s_assign()
        v = self.pick(vs)
        if t == INT:
            op = self.r.choice(["+=", "-=", "*=", "<<=", ">>=", "&=", "|=", "^="])
            rhs = self.r.choice(["1", "2", "-3", "3", self.expr(INT, 1)])
            if op in ("<<=", ">>="):
                rhs = self.r.choice(["1", "3", "63", f"({self.expr(INT, 1)} & 63)"])
        elif t == FLT:
            op = self.r.choice(["+=", "-=", "*=", "/=", "**=", "%="])
            rhs = self.expr(self.r.choice([FLT, INT]), 1)
        elif t == STR:
            op, rhs = "+=", self.expr(STR, 1)
        else:
            op, rhs = "+=", self.self_free(v, self.expr(LI, 1))
        self.emit(f"{v} {op} {rhs}")
        self.use(v)
        return 1

    @staticmethod
    def self_free(v, rhs):
        """`v += v` in TorchScript moves the elements out of the list it appends (it gives
        [1, 2, None, None]; extend(v) copies them): a copy on the right keeps to what
        both answer alike. Also for another name of the same list (`w: List[int] = v;
        v += w`: seed 35002 k = 2), so any rhs that is not a new list is copied."""
        if rhs == v:
            return f"{v}[:]"
        return rhs if rhs.startswith("[") and rhs.endswith("]") else f"list({rhs})"

    def s_list_method(self):
        r = self.r
        t = r.choice([LI, LI, LF, LS])
        vs = self.vars_of(t)
        if not vs:
            return self.s_assign()
        v = self.pick(vs)
        el = LISTS[t]
        k = r.randrange(15)
        if v in self.readonly:
            k = 14
        if k == 0:
            self.emit(f"{v}.append({self.expr(el, 1)})")
        elif k == 1:
            self.emit(f"{v}.insert({r.choice(['0', '-1', '1', '100', '-100', self.expr(INT, 1)])}"
                      f", {self.expr(el, 1)})")
        elif k == 2:
            self.emit(f"{v}.pop()" if self.chance(0.5) else
                      f"{v}.pop({r.choice(['0', '-1', '1', self.expr(INT, 1)])})")
        elif k == 3:
            self.emit(f"{v}.remove({self.expr(el, 1)})")
        elif k == 4:
            self.emit(f"{v}.extend({self.expr(t, 1)})")
        elif k == 5:
            self.emit(f"{v}.sort()" if self.chance(0.6) else f"{v}.sort(reverse=True)")
        elif k == 6:
            self.emit(f"{v}.reverse()")
        elif k == 7:
            self.emit(f"{v}.clear()")
        elif k == 8:
            self.emit(f"del {v}[{r.choice(['0', '-1', self.expr(INT, 1)])}]")
        elif k == 9:
            self.emit(f"{v}[{r.choice(['0', '-1', '1', self.expr(INT, 1)])}] = "
                      f"{self.expr(el, 1)}")
        elif k == 10:
            w = self.fresh()
            self.emit(f"{w} = {v}.pop({r.choice(['0', '-1'])}) if len({v}) > 0 else "
                      f"{self.expr(el, 1)}")
            self.declare(w, el)
        elif k == 11:
            self.emit(f"{v} += {self.self_free(v, self.expr(t, 1))}"
                      if v not in self.readonly else "pass")
        elif k == 12:
            w = self.fresh()
            self.emit(f"{w} = {v}.copy()")
            self.declare(w, t)
        elif k == 13:
            self.emit(f"{v}.extend({v})")
        else:
            w = self.fresh()
            self.emit(f"{w} = {v}[{r.choice(['1:', ':-1', '::2', '::-1', '1::2', '-2:'])}]")
            self.declare(w, t)
        if k <= 9 or k in (11, 13):
            # the mutated list reaches the trace: TorchScript's dead code elimination
            # drops a mutation (and the index that raises in it) of a list not used later
            self.use(v)
        return 1

    def s_dict_method(self):
        r = self.r
        vs = self.vars_of(DSI)
        if not vs:
            return self.s_assign()
        v = self.pick(vs)
        k = r.randrange(12)
        if v in self.readonly:
            k = 11
        key = self.expr(STR, 1) if self.chance(0.4) else r.choice(_KEYS)
        if k in (0, 1):
            self.emit(f"{v}[{key}] = {self.expr(INT, 1)}")
        elif k == 2:
            w = self.fresh()
            self.emit(f"{w} = {v}.setdefault({key}, {self.expr(INT, 1)})")
            self.declare(w, INT)
        elif k == 3:
            w = self.fresh()
            self.emit(f"{w} = {v}.pop({key})" if self.chance(0.4) else
                      f"{w} = {v}.pop({key}, {self.expr(INT, 1)})")
            self.declare(w, INT)
        elif k == 4:
            self.emit(f"{v}.update({self.expr(DSI, 1)})")
        elif k == 5:
            self.emit(f"del {v}[{key}]")
        elif k == 6:
            self.emit(f"{v}.clear()")
        elif k == 7:
            w = self.fresh()
            self.emit(f"{w} = {v}.popitem()")
            self.declare(w, "Tuple[str, int]", use=False)
            a = self.fresh()
            self.emit(f"{a} = {w}[0] + str({w}[1])")
            self.declare(a, STR)
        elif k == 8:
            w = self.fresh()
            self.emit(f"{w} = {v}.get({key})")
            self.declare(w, OI)
        elif k == 9:
            acc = self.fresh()
            kk, vv = self.fresh(), self.fresh()
            self.emit(f"{acc} = \"\"")
            self.emit(f"for {kk}, {vv} in {v}.items():")
            self.ind += 1
            self.emit(f"{acc} = {acc} + {kk} + str({vv})")
            self.ind -= 1
            self.declare(acc, STR)
        elif k == 10:
            acc = self.fresh()
            kk = self.fresh()
            self.emit(f"{acc} = 0")
            self.emit(f"for {kk} in {v}{r.choice(['', '.keys()'])}:")
            self.ind += 1
            self.emit(f"{acc} = {acc} * 3 + {v}[{kk}] + len({kk})")
            self.ind -= 1
            self.declare(acc, INT)
        else:
            w = self.fresh()
            self.emit(f"{w} = len({v})")
            self.declare(w, INT)
        if k in (0, 1, 4, 5, 6):
            self.use(v)     # (the mutated dict reaches the trace, as a list's above)
        return 1

    def block(self, budget, setup=None):
        outer = self.scope
        self.scope = Scope(outer)
        self.ind += 1
        if setup:
            setup()
        n = 0
        used = 0
        limit = self.r.randrange(1, max(2, min(4, budget)))
        while n < limit:
            used += self.stmt(budget - 1 - used)
            n += 1
        self.ind -= 1
        self.scope = outer
        return used

    def s_if(self, budget):
        self.emit(f"if {self.expr(BOOL, 2)}:")
        used = self.block(budget)
        if self.chance(0.5):
            if self.chance(0.3):
                self.emit(f"elif {self.expr(BOOL, 2)}:")
                used += self.block(budget - used)
            self.emit("else:")
            used += self.block(budget - used)
        return used + 1

    def s_for(self, budget):
        r = self.r
        k = r.randrange(6)
        v = self.fresh()
        ro = []
        if k == 0:
            step = r.choice(["1", "2", "-1", "-2", "3", self.expr(INT, 0)])
            a = r.choice(["0", "5", "-3", self.expr(INT, 0)])
            b = r.choice(["4", "0", "-5", "10", self.expr(INT, 0)])
            self.emit(f"for {v} in range({a}, {b}, {step}):")
            types = {v: INT}
        elif k == 1:
            n = r.choice(["3", "0", self.expr(INT, 0)])
            self.emit(f"for {v} in range({n}):")
            types = {v: INT}
        elif k == 2:
            t = r.choice([LI, LF, LS])
            src = self.pick(self.vars_of(t) or [self.leaf(t)])
            ro = [src]
            self.emit(f"for {v} in {src}:")
            types = {v: LISTS[t]}
        elif k == 3:
            t = r.choice([LI, LF, LS])
            src = self.pick(self.vars_of(t) or [self.leaf(t)])
            ro = [src]
            i = self.fresh()
            self.emit(f"for {i}, {v} in enumerate({src}):")
            types = {v: LISTS[t], i: INT}
        elif k == 4:
            t1, t2 = r.choice([LI, LF, LS]), r.choice([LI, LF, LS])
            s1 = self.pick(self.vars_of(t1) or [self.leaf(t1)])
            s2 = self.pick(self.vars_of(t2) or [self.leaf(t2)])
            ro = [s1, s2]
            w = self.fresh()
            self.emit(f"for {v}, {w} in zip({s1}, {s2}):")
            types = {v: LISTS[t1], w: LISTS[t2]}
        else:
            src = self.expr(STR, 1)
            self.emit(f"for {v} in {src}:")
            types = {v: STR}
        saved = set(self.readonly)
        self.readonly |= set(types) | set(ro)
        self.loop_depth += 1
        used = self.block(budget, lambda: [self.declare(n, t) for n, t in types.items()])
        self.loop_depth -= 1
        self.readonly = saved
        return used + 1

    def s_while(self, budget):
        c = self.fresh()
        self.emit(f"{c} = 0")
        self.declare(c, INT, use=False)
        self.emit(f"while {c} < {self.r.choice(['3', '5', '0'])}"
                  f"{' and ' + self.expr(BOOL, 1) if self.chance(0.4) else ''}:")
        saved = set(self.readonly)
        self.readonly.add(c)
        self.loop_depth += 1
        self.ind += 1
        self.emit(f"{c} += 1")
        self.ind -= 1
        used = self.block(budget)
        self.loop_depth -= 1
        self.readonly = saved
        return used + 2

    def runtime_cond(self, cond, raises_if):
        """A raise's condition that does not read a variable is a constant to TorchScript:
        a raise that is certain makes the function's result dead, and its dead code
        elimination then drops the ops before it (an `s[0]` that would raise first). The
        condition gets a term that keeps its truth but only the run knows (len(tr))."""
        names = {n.id for n in ast.walk(ast.parse(cond, mode="eval"))
                 if isinstance(n, ast.Name)}
        if names & set(self.scope.all()):
            return cond
        return f"({cond}) and len(tr) >= 0" if raises_if else f"({cond}) or len(tr) < 0"

    def s_raise(self):
        r = self.r
        if self.chance(0.5):
            msg = r.choice(['"bad value"', f'"got " + str({self.expr(INT, 1)})', ""])
            cond = self.runtime_cond(self.expr(BOOL, 2), False)
            self.emit(f"assert {cond}" + (f", {msg}" if msg else ""))
        else:
            exc = r.choice(["ValueError", "RuntimeError", "AssertionError", "IndexError",
                            "KeyError", "TypeError", "Exception"])
            msg = r.choice(['"oops"', f'"n=" + str({self.expr(INT, 1)})',
                            f"{self.expr(STR, 1)}", ""])
            self.emit(f"if {self.runtime_cond(self.expr(BOOL, 2), True)}:")
            self.ind += 1
            self.emit(f"raise {exc}({msg})")
            self.ind -= 1
        return 1

    def s_optional(self):
        vs = self.vars_of(OI)
        if not vs or self.chance(0.3):
            v = self.fresh()
            self.emit(f"{v}: Optional[int] = {self.e_oi(1)}")
            self.declare(v, OI)
            return 1
        o = self.pick(vs)
        w = self.fresh()
        self.emit(f"{w} = {self.expr(INT, 1)}")
        self.declare(w, INT, use=False)
        self.emit(f"if {o} is not None:" if self.chance(0.6) else f"if {o} is None:\n"
                  + "    " * (self.ind + 1) + f"{w} = {w} - 1\n" + "    " * self.ind + "else:")
        self.ind += 1
        self.emit(f"{w} = {w} + {o}")
        self.ind -= 1
        self.use(w)
        return 1

    def s_tuple(self):
        a, b = self.fresh(), self.fresh()
        if self.chance(0.5):
            self.emit(f"{a}, {b} = {self.e_tup(1)}")
            self.declare(a, INT)
            self.declare(b, STR)
            return 1
        else:
            self.emit(f"{a}, {b} = divmod({self.expr(INT, 1)}, {self.expr(INT, 1)})"
                      if self.chance(0.5) else
                      f"{a}, {b} = {self.expr(INT, 1)}, {self.expr(INT, 1)}")
            self.declare(a, INT)
            self.declare(b, INT)
            return 1

    _CLASSES = (
        "class Acc:\n"
        "    def __init__(self, n: int):\n"
        "        self.n = n\n"
        "        self.items: List[str] = []\n"
        "\n"
        "    def add(self, s: str) -> int:\n"
        "        self.items.append(s)\n"
        "        self.n += len(s)\n"
        "        return self.n\n"
        "\n"
        "    def last(self) -> Optional[str]:\n"
        "        return self.items[-1] if len(self.items) > 0 else None\n"
        "\n"
        "\n"
        "class Pt(NamedTuple):\n"
        "    x: int\n"
        "    y: str\n"
        "\n"
        "\n"
        "class Color(Enum):\n"
        "    RED = 1\n"
        "    GREEN = 2\n"
        "    BLUE = 3\n"
        "\n"
        "\n")

    def s_ext(self):
        x = self.x
        E = self.expr
        k = x.choice(["acc", "pt", "enum", "union", "optlist", "nested", "dictlist",
                      "format", "enumerate"])
        v = self.fresh()
        if k == "acc":
            self.uses_classes = True
            self.emit(f"{v} = Acc({E(INT, 1)})")
            w = self.fresh()
            self.emit(f"{w} = {v}.add({E(STR, 1)}) + {v}.add({E(STR, 1)})")
            self.declare(w, INT)
            self.emit(f"tr.append(str({v}.n) + str({v}.items))")
            u = self.fresh()
            self.emit(f"{u} = {v}.last()")
            self.declare(u, "Optional[str]")
        elif k == "pt":
            self.uses_classes = True
            self.emit(f"{v} = Pt({E(INT, 1)}, {E(STR, 1)})")
            w = self.fresh()
            self.emit(f"{w} = {v}.x + len({v}.y) + {v}[0]")
            self.declare(w, INT)
            self.emit(f"tr.append({v}[1] + str({v}.x))")
        elif k == "enum":
            self.uses_classes = True
            self.emit(f"{v} = Color.RED if {E(BOOL, 1)} else "
                      f"{x.choice(['Color.GREEN', 'Color.BLUE'])}")
            self.emit(f"tr.append(str({v}.value) + {v}.name + str({v} == Color.RED))")
            w = self.fresh()
            self.emit(f"{w} = {v}.value * {E(INT, 1)}")
            self.declare(w, INT)
        elif k == "union":
            self.uses_classes = True
            self.emit(f"{v}: Union[int, str] = {E(INT, 1)} if {E(BOOL, 1)} else {E(STR, 1)}")
            w = self.fresh()
            self.emit(f"if isinstance({v}, int):")
            self.emit(f"    {w} = str({v} + 1)")
            self.emit("else:")
            self.emit(f"    {w} = {v}.upper() + str(len({v}))")
            self.declare(w, STR)
        elif k == "optlist":
            self.emit(f"{v}: Optional[List[int]] = None if {E(BOOL, 1)} else "
                      f"{E(LI, 1)}")
            w = self.fresh()
            self.emit(f"{w} = 0")
            self.emit(f"if {v} is not None:")
            self.emit(f"    {v}.append({E(INT, 1)})")
            self.emit(f"    {w} = len({v}) + sum([e % 100000 for e in {v}])")
            self.emit(f"tr.append(str({v}))")
            self.declare(w, INT)
        elif k == "nested":
            self.emit(f"{v}: List[List[int]] = [{E(LI, 1)}, [{E(INT, 1)}], "
                      f"torch.jit.annotate(List[int], [])]")
            self.emit(f"{v}[{x.choice(['0', '1', '-1'])}].append({E(INT, 1)})")
            self.emit(f"{v}.append({v}[1] + {v}[0])")
            self.emit(f"tr.append(str({v}))")
            w = self.fresh()
            self.emit(f"{w} = [len(r) for r in {v}]")
            self.declare(w, LI)
        elif k == "dictlist":
            self.emit(f"{v}: Dict[str, List[int]] = {{\"a\": {E(LI, 1)}, \"b\": []}}")
            self.emit(f"{v}[\"b\"].append({E(INT, 1)})")
            self.emit(f"{v}.setdefault({E(STR, 1)}, [7]).append({E(INT, 1)})")
            self.emit(f"tr.append(str({v}))")
            w = self.fresh()
            self.emit(f"{w} = 0")
            self.emit(f"for kk, vv in {v}.items():")
            self.emit(f"    {w} = {w} * 3 + len(kk) + len(vv)")
            self.declare(w, INT)
        elif k == "format":
            fmt = x.choice(['"{} and {}"', '"<{}|{}>"', '"{}{}!"'])
            self.emit(f"{v} = {fmt}.format({E(x.choice([INT, FLT, BOOL]), 1)}, "
                      f"{E(x.choice([STR, LI]), 1)})")
            self.declare(v, STR)
        else:
            t = x.choice([LI, LS, LF])
            src = self.pick(self.vars_of(t) or [self.leaf(t)])
            i, e = self.fresh(), self.fresh()
            acc = self.fresh()
            self.emit(f"{acc} = \"\"")
            self.emit(f"for {i}, {e} in enumerate({src}, {x.choice(['1', '0', '5'])}):")
            self.emit(f"    {acc} = {acc} + str({i}) + \":\" + str({e})")
            self.declare(acc, STR)
        return 1

    def s_early_return(self):
        self.emit(f"if {self.expr(BOOL, 2)}:")
        self.ind += 1
        self.emit(f"return {self.ret_expr()}, tr")
        self.ind -= 1
        return 1

    def ret_expr(self):
        return ", ".join(self.expr(t, 1) if not self.vars_of(t) or self.chance(0.2)
                         else self.pick(self.vars_of(t)) for t in self.ret_types)

    # ------------------------------------------------------------------ functions
    def helper(self, k):
        r = self.r
        name = f"h{k}"
        args = [r.choice([INT, FLT, STR, LI, INT]) for _ in range(r.randrange(1, 3))]
        ret = r.choice([INT, FLT, BOOL, STR])
        self.scope = Scope()
        names = [f"p{i}" for i in range(len(args))]
        for n, t in zip(names, args):
            self.declare(n, t, use=False)
        self.readonly = set(names)
        head = f"def {name}({', '.join(f'{n}: {t}' for n, t in zip(names, args))}) -> {ret}:"
        self.lines.append(head)
        self.ind = 1
        self.in_helper = True
        self.emit("tr: List[str] = []")
        for _ in range(r.randrange(0, 3)):
            self.stmt(2)
        if self.helpers and self.chance(0.4):
            # a helper calling an earlier one
            self.in_helper = False
            e = self.call_helper(ret, 1)
            self.in_helper = True
        else:
            e = self.expr(ret, 2)
        self.emit(f"return {e} if len(tr) >= 0 else {self.leaf(ret)}")
        self.in_helper = False
        self.lines.append("")
        self.lines.append("")
        self.helpers.append((name, args, ret))

    def program(self):
        r = self.r
        for k in range(r.choice([0, 0, 1, 1, 2])):
            self.helper(k)
        sig = [("a", INT), ("b", INT), ("x", FLT), ("s", STR), ("xs", LI), ("fs", LF),
               ("ss", LS), ("d", DSI), ("o", OI)]
        self.scope = Scope()
        self.readonly = set()
        for n, t in sig:
            self.declare(n, t, use=False)
        self.ret_types = [r.choice([INT, FLT, STR, BOOL]) for _ in range(r.randrange(2, 4))] \
            + [r.choice([LI, LS, LF, DSI])]
        rt = f"Tuple[{', '.join(self.ret_types)}, List[str]]"
        self.lines.append(f"def f({', '.join(f'{n}: {t}' for n, t in sig)}) -> {rt}:")
        self.ind = 1
        self.emit("tr: List[str] = []")
        used = 0
        while used < self.max_stmts:
            used += self.stmt(self.max_stmts - used)
        self.emit(f"return {self.ret_expr()}, tr")
        self.lines.append("")
        text = "\n".join(self.lines)
        return (self._CLASSES + text) if self.uses_classes else text


_A_INTS = [0, 1, -1, 2, 3, -7, 10, 100, 2 ** 62, -(2 ** 63), 9223372036854775807, 5]
_A_FLTS = [0.0, -0.0, 0.5, -1.5, 2.0, 1e300, float("inf"), float("-inf"), float("nan"),
           0.1, 3.0, -2.5]
_A_STRS = ["", "a", "ab c", "  x1 ", "123", "-4", "Hello", "a,b,,c", "abcabc", "1.5", " "]


def calls_e(seed, n=4):
    """Argument tuples for f."""
    r = random.Random(seed * 7919 + 1)
    out = []
    for _ in range(n):
        a, b = r.choice(_A_INTS), r.choice(_A_INTS[:8] + [3, 4])
        x = r.choice(_A_FLTS)
        s = r.choice(_A_STRS)
        xs = [r.choice(_A_INTS[:8]) for _ in range(r.randrange(0, 5))]
        fs = [r.choice(_A_FLTS) for _ in range(r.randrange(0, 4))]
        ss = [r.choice(_A_STRS) for _ in range(r.randrange(0, 4))]
        d = {r.choice(["a", "b", "c", "ab", ""]): r.choice(_A_INTS[:8])
             for _ in range(r.randrange(0, 4))}
        o = r.choice([None, None, r.choice(_A_INTS[:8])])
        out.append((a, b, x, s, xs, fs, ss, d, o))
    return out


def program_e(seed, max_stmts=14):
    g = GenE(seed, max_stmts=max_stmts)
    src = g.program()
    # (programs with classes run through gpujit.jit.script only, as those with math)
    return src, calls_e(seed), g.uses_math or g.uses_classes
