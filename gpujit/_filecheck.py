"""torch.testing.FileCheck (torch._C.FileCheck): ordered substring checks over a text, a
Graph, or anything with str(), as TorchScript tests write them:

    FileCheck().check("aten::add").check_not("aten::mul").check_count("prim::If", 2,
        exactly=True).run(str(f.graph))
    FileCheck().run("# CHECK: aten::add\\n# CHECK-NEXT: aten::mul", graph)

Semantics and messages follow PyTorch's torch/csrc/jit/testing/file_check.cpp: a CHECK-NOT
(or a run of them) must not match between the checks around it (to the end of the text
when it is last); consecutive CHECK-DAGs match in any order after the previous check and
the next check starts after the last of them; check_count(s, n, exactly=True) is n
matches then a CHECK-NOT of s. A failure raises RuntimeError naming what was expected and
showing where in the text it looked, highlighted as TorchScript highlights source.
One difference: a regex match positions the next check after the text it matched
(PyTorch 2.13 offsets it from the start of the text searched, a bug).
"""
from __future__ import annotations

import bisect
import re

__all__ = ["FileCheck"]

_CONTEXT = 3
CHECK, CHECK_NEXT, CHECK_SAME, CHECK_NOT, CHECK_COUNT, CHECK_DAG, CHECK_SOURCE_HIGHLIGHTED, \
    CHECK_REGEX = range(8)
_NAMES = {CHECK: "CHECK", CHECK_NEXT: "CHECK-NEXT", CHECK_SAME: "CHECK-SAME",
          CHECK_NOT: "CHECK-NOT", CHECK_DAG: "CHECK-DAG",
          CHECK_SOURCE_HIGHLIGHTED: "CHECK-SOURCE-HIGHLIGHTED", CHECK_REGEX: "CHECK-REGEX"}
# directive suffixes after "CHECK", in the order PyTorch tries them
_SUFFIXES = ((CHECK, ": "), (CHECK_NEXT, "-NEXT: "), (CHECK_SAME, "-SAME: "),
             (CHECK_NOT, "-NOT: "), (CHECK_DAG, "-DAG: "), (CHECK_COUNT, "-COUNT-"),
             (CHECK_SOURCE_HIGHLIGHTED, "-SOURCE-HIGHLIGHTED: "), (CHECK_REGEX, "-REGEX: "))


class _Check:
    __slots__ = ("type", "text", "count")

    def __init__(self, type_, text, count=None):
        self.type, self.text, self.count = type_, text, count

    def __str__(self):
        name = f"CHECK-COUNT-{self.count}" if self.type == CHECK_COUNT else _NAMES[self.type]
        return f"{name}: {self.text}"


def _quoted(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append("\\%03o" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _highlight(text, start, end):
    """TorchScript's SourceRange::highlight of text[start:end] (CONTEXT lines around,
    the range underlined with ~ and '<--- HERE')."""
    n = len(text)
    if end - start == n:
        return text
    range_end = min(n, end)
    if start > n:
        return ""
    begin_line, end_line = start, range_end
    while begin_line > 0 and text[begin_line - 1] != "\n":
        begin_line -= 1
    while end_line < n and text[end_line] != "\n":
        end_line += 1
    begin_context, i = begin_line, 0
    while begin_context > 0:
        if text[begin_context - 1] == "\n":
            i += 1
        if i >= _CONTEXT:
            break
        begin_context -= 1
    end_context, i = end_line, 0
    while end_context < n:
        if text[end_context] == "\n":
            i += 1
        if i >= _CONTEXT:
            break
        end_context += 1
    out = [text[begin_context:start]]
    line_start = line_end = start
    while line_start < range_end:
        while line_end < n and text[line_end] != "\n":
            line_end += 1
        line = text[line_start:line_end + 1]
        out.append(line if line.endswith("\n") else line + "\n")
        hb = he = line_start
        while hb > 0 and text[hb - 1] != "\n":
            hb -= 1
        while he < range_end and text[he] != "\n":
            he += 1
        empty = 0
        for k in range(hb, he):
            if text[k] == " " or k < start:
                empty += 1
            else:
                break
        space = he - hb - empty
        if space > 0:
            more = any(text[k] not in "\n " for k in range(line_end, min(range_end + 1, n)))
            out.append(" " * empty + "~" * space
                       + ("\n" if more and line_end != range_end else " <--- HERE\n"))
        line_end += 1
        line_start = line_end
    if line_end <= n:
        # (a context end before line_end reads to the end, as the unsigned length did)
        tail = text[line_end:end_context] if end_context >= line_end else text[line_end:]
        out.append(tail if not tail or tail.endswith("\n") else tail + "\n")
    return "".join(out)


def _find(text, sub, start, end=None):
    if not sub:
        return 0            # as PyTorch's StringCordView::find
    pos = text.find(sub, start) if start <= len(text) else -1
    if pos < 0 or (end is not None and pos + len(sub) > end):
        return -1
    return pos


def _assert_find(text, sub, start, check=None, end=None):
    pos = _find(text, sub, start, end)
    if pos < 0:
        msg = (f"Expected to find {_quoted(sub)} but did not find it\nSearched string:\n"
               + _highlight(text, start, len(sub)))
        if check is not None:
            msg += f"From {check}\n"
        raise RuntimeError(msg)
    return pos


def _assert_not_find(text, sub, start, end, check):
    pos = _find(text, sub, start, end)
    if pos >= 0:
        raise RuntimeError(f"Expected to not find {_quoted(sub)} but found it\n"
                           + _highlight(text, pos, pos + len(sub)) + f"From {check}\n")


class FileCheck:
    """Chained checks over a text; `run` applies them in order (see the module doc)."""

    def __init__(self):
        self._groups = []
        self._checks = []

    # ------------------------------------------------------------ building checks
    def _add(self, type_, text, count=None):
        if not isinstance(text, str):
            raise TypeError(f"FileCheck expects a str to check for, got "
                            f"{type(text).__name__}")
        c = _Check(type_, text, count)
        self._checks.append(c)
        g = self._groups
        if g and type_ in (CHECK_NOT, CHECK_DAG) and g[-1][0].type == type_:
            g[-1].append(c)
        else:
            g.append([c])
        return self

    def check(self, s):
        """s occurs after the previous check."""
        return self._add(CHECK, s)

    def check_not(self, s):
        """s does not occur between the previous and the next check (or the end)."""
        return self._add(CHECK_NOT, s)

    def check_same(self, s):
        """s occurs after the previous check, on the same line."""
        return self._add(CHECK_SAME, s)

    def check_next(self, s):
        """s occurs on the line right after the previous check's."""
        return self._add(CHECK_NEXT, s)

    def check_count(self, s, count, exactly=False):
        """s occurs count times after the previous check (exactly: and no more after)."""
        count = int(count)
        if count < 0:
            raise TypeError("check_count(): count must be a non-negative int")
        if count == 0 and not exactly:
            raise RuntimeError("Count == 0 && !exactly doesn't do anything")
        if count:
            self._add(CHECK_COUNT, s, count)
        if exactly:
            self._add(CHECK_NOT, s)
        return self

    def check_dag(self, s):
        """Consecutive check_dag strings occur after the previous check in any order."""
        return self._add(CHECK_DAG, s)

    def check_source_highlighted(self, s):
        """s occurs with ~ under it on the next line (a highlighted source range)."""
        return self._add(CHECK_SOURCE_HIGHLIGHTED, s)

    def check_regex(self, s):
        """The regular expression s matches after the previous check."""
        try:
            re.compile(s)
        except re.error as e:
            raise RuntimeError(f"Invalid regular expression {s!r}: {e}") from None
        return self._add(CHECK_REGEX, s)

    def __str__(self):
        return "FileCheck checks:\n" + "".join(f"\t{c}\n" for c in self._checks)

    def __repr__(self):
        return f"<gpujit.testing.FileCheck: {len(self._checks)} checks>"

    # ------------------------------------------------------------ running
    def run(self, *args):
        """run(text) applies the checks to text (a str, a Graph, or anything printed with
        str()); run(checks_text, text) first adds the '# CHECK...:' directives found in
        checks_text."""
        if len(args) == 2:
            self._parse(_text(args[0]))
            args = args[1:]
        if len(args) != 1:
            raise TypeError(f"run() takes a text, or a checks text and a text "
                            f"({len(args)} arguments given)")
        if not self._groups:
            raise RuntimeError("No checks have been added to this instance of"
                               "Filecheck! Check for bad input.")
        self._do_checks(_text(args[0]))

    def _parse(self, src):
        start = _next_directive(src, 0)
        while start >= 0:
            for type_, suffix in _SUFFIXES:
                if not src.startswith(suffix, start):
                    continue
                begin = start + len(suffix)
                eol = src.find("\n", begin)
                eol = len(src) if eol < 0 else eol
                count, exactly = None, False
                if type_ == CHECK_COUNT:
                    if src.startswith("EXACTLY-", begin):
                        exactly, begin = True, begin + len("EXACTLY-")
                    colon = _assert_find(src, ":", begin, end=eol)
                    try:
                        count = int(src[begin:colon])
                    except ValueError:
                        raise ValueError(f"Could not parse the count of a CHECK-COUNT "
                                         f"directive: {src[begin:colon]!r}") from None
                    begin = colon + 2
                text = src[begin:eol]
                if type_ == CHECK_COUNT:
                    self.check_count(text, count, exactly)
                elif type_ == CHECK_REGEX:
                    self.check_regex(text)
                else:
                    self._add(type_, text)
                start = eol
                break
            else:
                raise RuntimeError("Could not parse check at:\n"
                                   + _highlight(src, start, start + 1)
                                   + "Check for bad input.")
            start = _next_directive(src, start)

    def _do_checks(self, text):
        prev = (0, 0)
        groups, i = self._groups, 0
        while i < len(groups):
            group = groups[i]
            if group[0].type != CHECK_NOT:
                prev = self._match_group(group, text, prev)
            elif i + 1 < len(groups):
                after = self._match_group(groups[i + 1], text, prev)
                _check_nots(group, text, prev, after)
                prev = after
                i += 1
            else:
                _check_nots(group, text, prev, (len(text) + 1, len(text) + 1))
            i += 1

    def _match_group(self, group, text, prev):
        check = group[0]
        t, s = check.type, check.text
        if t == CHECK_DAG:
            beg, end = None, 0
            for c in group:
                pos = _assert_find(text, c.text, prev[1], c)
                beg = pos if beg is None else min(beg, pos)
                end = max(end, pos + len(c.text))
            return beg, end
        start = prev[1]
        if t == CHECK:
            pos = _assert_find(text, s, start, check)
            return pos, pos + len(s)
        if t == CHECK_SAME:
            pos = _assert_find(text, s, start, check)
            _assert_not_find(text, "\n", start, pos, check)
            return pos, pos + len(s)
        if t == CHECK_NEXT:
            eol = _assert_find(text, "\n", start, check)
            pos = _assert_find(text, s, eol + 1, check)
            _assert_not_find(text, "\n", eol + 1, pos, check)
            return pos, pos + len(s)
        if t == CHECK_COUNT:
            first = None
            for _ in range(check.count):
                pos = _assert_find(text, s, start, check)
                first = pos if first is None else min(first, pos)
                start = pos + len(s)
            return first, start
        if t == CHECK_REGEX:
            m = re.compile(s).search(text, start) if s else None
            if s and m is None:
                raise RuntimeError(f"Expected to find regex {_quoted(s)} but did not find "
                                   f"it\nSearched string:\nFrom {check}\n")
            return (m.start(), m.end()) if m else (0, 0)
        _check_highlighted(check, text, start)       # CHECK_SOURCE_HIGHLIGHTED
        return start, start


def _check_nots(nots, text, prev, nxt):
    start, end = prev[1], nxt[0]
    if end < start:
        return
    for c in nots:
        _assert_not_find(text, c.text, start, end, c)


def _check_highlighted(check, text, start):
    s = check.text

    def fail(at):
        raise RuntimeError(f"Expected to find {_quoted(s)}highlighted but it is not.\n"
                           + _highlight(text, at, len(s)))

    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    search, found_once = start, False
    while True:
        pos = text.find(s, search)
        if pos < 0:
            break
        found_once = True
        line = bisect.bisect_right(line_starts, pos) - 1
        col = pos - line_starts[line]
        if line + 1 >= len(line_starts):
            fail(pos)
        hs = line_starts[line + 1] + col
        he = min(hs + len(s), len(text))
        if he >= len(text):
            fail(pos)
        if all(text[k] == "~" for k in range(hs, he)):
            _assert_not_find(text, "~", hs - 1, hs, check)
            _assert_not_find(text, "~", he, he + 1, check)
            return
        search = pos + 1
    if not found_once:
        _assert_find(text, s, start, check)
    fail(start)


def _next_directive(src, prev_end):
    while True:
        start = src.find("#", prev_end)
        if start < 0:
            return -1
        start += 1
        i = 0
        while start + i < len(src) and i < 6 and src[start + i] in " \t":
            i += 1
        if src.startswith("CHECK", start + i):
            return start + i + len("CHECK")
        prev_end = start + i + 1


def _text(x):
    return x if isinstance(x, str) else str(x)
