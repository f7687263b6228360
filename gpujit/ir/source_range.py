"""Where a node came from in the user's code (SourceRange) and how an error message
underlines it (`File "f.py", line 3` + the line + `~~~~ <--- HERE`)."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SourceRange"]


@dataclass(frozen=True)
class SourceRange:
    """Where a node came from in the user's code: file, line (1-based), column (0-based)
    and the text of that line (empty when parsed back from graph text)."""
    filename: str
    line: int
    col: int = 0
    text: str = ""
    function: str = ""     # the enclosing function's name, for `File "f.py", line 3, in fn`
    # where TorchScript's range of the node ends, and its function's lines: (end line, end
    # column, first line, last line) in the file, for the interpreter's traceback (a call's
    # range is its callee's name, `torch.mm`, `x.view`); None when not known
    span: tuple = field(default=None, compare=False, repr=False)

    def __str__(self):
        return f"{self.filename}:{self.line}:{self.col}"

    def highlight(self) -> str:
        """`File "f.py", line 3` + the line + a caret under the column, for errors."""
        out = f'  File "{self.filename}", line {self.line}'
        if self.text:
            width = _expression_width(self.text, self.col)
            out += f"\n    {self.text.rstrip()}\n    {' ' * self.col}{'~' * width} <--- HERE"
        return out


def _expression_width(text, col):
    """How many characters the expression starting at text[col] spans: a dotted name and
    the calls/subscripts after it (`gpujit.strict_fusion()`), brackets balanced."""
    i, n = col, len(text)
    while i < n:
        j = i
        while j < n and (text[j].isalnum() or text[j] in "_."):
            j += 1
        if j < n and text[j] in "([":
            depth, quote = 0, None
            while j < n:
                c = text[j]
                if quote:
                    quote = None if c == quote else quote
                elif c in "'\"":
                    quote = c
                elif c in "([{":
                    depth += 1
                elif c in ")]}":
                    depth -= 1
                    if depth == 0:
                        j += 1
                        break
                j += 1
        if j == i:
            break
        i = j
    return max(i - col, 1)
