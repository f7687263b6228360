"""Mode 8 of the program fuzzer: mode 5's scalar programs (tests/program_fuzz_gen_e.py) as
the forward of a scripted nn.Module whose attributes hold the arguments. forward reads
them into locals (the list and dict attributes by alias, so the program's in-place writes
change the module), runs the program body, and writes the locals back (`self.a = a`,
`self.xs = xs`: prim::SetAttr of numbers, strs, Optionals, lists, dicts) before each
return. The runner (tests/test_fuzz_finds_s37.py) calls forward a few times on one module
and reads the attributes from Python after each call (TorchScript's copies).

`program_m(seed)` gives (source, constructor argument tuples, uses_math); the source's
module class is `M`."""
from __future__ import annotations

from program_fuzz_gen_e import program_e

_ATTRS = [("a", "int"), ("b", "int"), ("x", "float"), ("s", "str"), ("xs", "List[int]"),
          ("fs", "List[float]"), ("ss", "List[str]"), ("d", "Dict[str, int]"),
          ("o", "Optional[int]")]


def program_m(seed):
    src, calls, uses_math = program_e(seed)
    lines = src.split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("def f("))
    head, sig, body = lines[:at], lines[at], lines[at + 1:]
    ret = sig.split(") -> ", 1)[1].rstrip(":")
    out = list(head)
    out.append("class M(torch.nn.Module):")
    for n, t in _ATTRS:
        out.append(f"    {n}: {t}")
    out.append("")
    params = ", ".join(f"{n}: {t}" for n, t in _ATTRS)
    out.append(f"    def __init__(self, {params}):")
    out.append("        super().__init__()")
    for n, _ in _ATTRS:
        out.append(f"        self.{n} = {n}")
    out.append("")
    out.append(f"    def forward(self) -> {ret}:")
    for n, _ in _ATTRS:
        out.append(f"        {n} = self.{n}")
    for ln in body:
        if not ln.strip():
            out.append("")
            continue
        ind = ln[:len(ln) - len(ln.lstrip())]
        if ln.lstrip().startswith("return "):
            for n, _ in _ATTRS:
                out.append(f"    {ind}self.{n} = {n}")
        out.append("    " + ln)
    return "\n".join(out) + "\n", calls, uses_math
