"""torch.jit.frontend's exception classes, for code that catches them: a construct
TorchScript does not support raises NotSupportedError, a node kind it has no rule for
(`try`, a lambda, a nested `def`) UnsupportedNodeError; both are FrontendErrors.

get_jit_def(fn, name) gives the function's definition as a Def: its name() (an Ident) and
range() (a SourceRange that prints as torch's: the file, the line, the source underlined
up to `<--- HERE`). gpujit's frontend compiles from Python's ast, not from torch's tree
views: a Def has no decl() / dump() (the parameters' S-expression)."""
import ast as _ast
import inspect as _inspect
import textwrap as _textwrap

from ..frontend.script.errors import (FrontendError, NotSupportedError,  # noqa: F401
                                      UnsupportedNodeError)

__all__ = ["FrontendError", "NotSupportedError", "UnsupportedNodeError", "get_jit_def",
           "SourceRange", "Ident", "Def", "get_default_args"]


def get_default_args(fn):
    """{parameter name: default value} of fn's parameters that have one ({} for None)."""
    if fn is None:
        return {}
    signature = _inspect.signature(fn)
    return {k: v.default for k, v in signature.parameters.items()
            if v.default is not _inspect.Parameter.empty}


class SourceRange:
    """Characters start..end of a function's (dedented) source in its file."""

    def __init__(self, source, filename, lineno, start, end):
        self.source, self.filename, self.lineno = source, filename, lineno
        self.start, self.end = start, end

    def highlight(self):
        text = self.source
        first = text.count("\n", 0, self.start)
        last = text.count("\n", 0, max(self.end - 1, self.start))
        lines = text.split("\n")
        out = []
        offset = sum(len(line) + 1 for line in lines[:first])
        for i in range(first, last + 1):
            line = lines[i]
            lo = self.start - offset if i == first else len(line) - len(line.lstrip())
            hi = min(self.end - offset, len(line)) if i == last else len(line)
            out.append(line)
            out.append(" " * lo + "~" * max(hi - lo, 1) + (" <--- HERE" if i == last else ""))
            offset += len(line) + 1
        return "\n".join(out) + "\n"

    def __str__(self):
        return (f'SourceRange at:\n  File "{self.filename}", line '
                f'{self.lineno + self.source.count(chr(10), 0, self.start)}\n'
                + self.highlight())

    def __repr__(self):
        return self.__str__()


class Ident:
    """A name in the source, with its range."""

    def __init__(self, name, source_range):
        self.name, self._range = name, source_range

    def range(self):
        return self._range


class Def:
    """A function definition: name() and range()."""

    def __init__(self, name, source_range):
        self._name, self._range = name, source_range

    def name(self):
        return self._name

    def range(self):
        return self._range


def get_jit_def(fn, def_name, self_name=None, is_classmethod=False):
    """The Def of fn's source, named def_name (self_name and is_classmethod: the
    signature's self, for methods; accepted as torch's)."""
    try:
        lines, lineno = _inspect.getsourcelines(fn)
        filename = _inspect.getsourcefile(fn) or "<unknown>"
    except (OSError, TypeError) as e:
        raise OSError(f"Can't get source for {fn}. TorchScript requires source access in "
                      f"order to carry out compilation, make sure original .py files are "
                      f"available.") from e
    source = _textwrap.dedent("".join(lines))
    tree = _ast.parse(source)
    fdef = tree.body[0] if tree.body else None
    if not isinstance(fdef, (_ast.FunctionDef, _ast.AsyncFunctionDef)):
        raise RuntimeError(f"Expected a single top-level function: {filename}:{lineno}")
    offsets = [0]
    for line in source.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    start = offsets[fdef.lineno - 1] + fdef.col_offset
    end = offsets[fdef.end_lineno - 1] + fdef.end_col_offset
    name_start = source.index(fdef.name, start)
    whole = SourceRange(source, filename, lineno, start, end)
    ident = Ident(def_name, SourceRange(source, filename, lineno, name_start,
                                        name_start + len(fdef.name)))
    return Def(ident, whole)
