"""Inlining a generated function's body into another generated function: a fusion
group's dispatcher runs its launcher's source (fusers/guards.py), one Python call less
per fused call. (Not an executable's dispatcher: a specialization's code must raise from
its own lines, which tracebacks show, test_executor's test_traceback_shows_...)"""
from __future__ import annotations

import io
import tokenize

_NO_INLINE = 0x04 | 0x08 | 0x20 | 0x80 | 0x100 | 0x200   # *args, **kw, generators, async


def inline_body(fn, source, arity, prefix, ns):
    """The body of generated function `fn` (its `source`) as lines to run in place of
    `return fn(a0, a1, ...)`, indented by nothing: its parameters renamed a0, a1, ...,
    its locals `<prefix lowercased>_<name>` (never one of the
    caller's: those do not start so) and each name it reads from its module
    `<prefix><name>`, bound into ns (the same objects: state it keeps in them stays shared
    with fn). The body ends in a return (`return None` is added for a body that falls
    off its end), so the caller's code after it never runs. A body that rebinds a
    parameter rebinds the caller's. None where it cannot be inlined: fn
    takes another number of arguments, *args or **kwargs, is a generator, holds nested
    code (a comprehension, lambda or def: their module names are theirs), or a string
    that spans lines."""
    code = getattr(fn, "__code__", None)
    if not isinstance(source, str) or code is None or code.co_argcount != arity \
            or code.co_kwonlyargcount or code.co_flags & _NO_INLINE \
            or any(hasattr(c, "co_code") for c in code.co_consts):
        return None
    glob = fn.__globals__
    if code.co_cellvars or code.co_freevars:
        return None
    rename = {v: f"a{j}" for j, v in enumerate(code.co_varnames[:arity])}
    low = prefix.lower() + "_"
    rename.update((v, low + v) for v in code.co_varnames[arity:])
    rename.update((g, prefix + g) for g in code.co_names if g in glob)
    lines = source.splitlines()
    edits = {}          # row -> [(col, end col, new name)]
    prev = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.start[0] != tok.end[0] and tok.type == tokenize.STRING:
                return None
            if tok.type == tokenize.NAME and tok.start[0] > 1 and tok.string in rename and \
                    not (prev is not None and prev.type == tokenize.OP and prev.string == "."):
                edits.setdefault(tok.start[0], []).append((tok.start[1], tok.end[1],
                                                           rename[tok.string]))
            if tok.type not in (tokenize.NL, tokenize.COMMENT):
                prev = tok
    except (tokenize.TokenError, SyntaxError):
        return None
    if not lines[0].startswith("def ") or not lines[0].rstrip().endswith(":"):
        return None             # (a one-line def, a decorator...)
    out = []
    for row, line in enumerate(lines[1:], 2):
        for c0, c1, name in sorted(edits.get(row, ()), reverse=True):
            line = line[:c0] + name + line[c1:]
        if line.strip() and not line.startswith("    "):
            return None                 # (not one function's body)
        out.append(line[4:])
    for g in code.co_names:
        if g in glob:
            ns[prefix + g] = glob[g]
    return out + ["return None"]
