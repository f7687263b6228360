"""Where in the user's scripted source an op failed at run time, as TorchScript's
interpreter shows "Traceback of TorchScript": the frames of the exception's traceback
that run a graph (generated specialization code, whose lines map back to the nodes that
emitted them, and the node-by-node loops) name their nodes, and a frame of the user's own
file and line is put in the traceback after each (an inlined function's call sites
first), so Python's traceback shows

      File "<gpujit-code g_0>", line 5, in g_0
      File "model.py", line 16, in g
        return inner(y, xs) + 1
               ^^^^^^^^^^^^
      File "model.py", line 8, in inner
        z = y.view(xs)
            ^^^^^^^^^^
      File ".../gpujit/ops/views.py", line 47, in view
    RuntimeError: shape '[4]' is invalid for input of size 3

Here the exception itself is left as it is; when it leaves the compiled call for the
caller, jit/objects.py makes its message torch 2.13's interpreter report from the same
nodes (runtime/interpreter.interpreter_error: "The following operation failed in the
TorchScript interpreter.", a frame per scripted call, "RuntimeError: <the op's message>").
A user frame is a real traceback entry
(a one-statement code object compiled under the user's file name and line: what Jinja2
does for templates), so debuggers and IDEs go to the line too. Nothing is done on the
success path: the maps are built when code is generated, read only when an exception
leaves scripted code."""
from __future__ import annotations

import weakref

from ..ir.source_range import _expression_width

__all__ = ["register_source", "register_node_loop", "scripted_nodes", "add_scripted_frames"]


# generated code's filename -> a weak reference to its owner, whose `node_lines` maps a
# line number to the node that emitted that line (weak: the nodes' graph may hold what
# holds the owner, and nothing here may keep a compiled function's constants alive)
_SOURCE_NODES: dict = {}
# code objects of the loops that run a graph's nodes one by one, their current node in
# the local `node` (the interpreter's run_nodes, the executor's recording plan)
_NODE_LOOPS: set = set()


def register_node_loop(code):
    """Frames running `code` hold the node they run in their local `node`."""
    _NODE_LOOPS.add(code)


def register_source(filename, owner):
    """Record the owner of the generated code compiled as filename: its `node_lines`
    ({1-based line: the node that emitted it}) name the nodes of that code's frames;
    forget(filename) when that code goes."""
    _SOURCE_NODES[filename] = weakref.ref(owner)


def forget(filename):
    _SOURCE_NODES.pop(filename, None)


def scripted_nodes(tb):
    """[(traceback entry, node)] for the frames of traceback tb that ran a graph node,
    outermost first: lines of generated code, the node loops' current node; a control-flow
    node (If, Loop) dropped where a node inside it follows, repeats once."""
    out = []
    while tb is not None:
        f = tb.tb_frame
        code = f.f_code
        node = None
        ref = _SOURCE_NODES.get(code.co_filename)
        owner = ref() if ref is not None else None
        if owner is not None:
            node = owner.node_lines.get(tb.tb_lineno)
        elif code in _NODE_LOOPS:
            node = f.f_locals.get("node")
        if node is not None and getattr(node, "source_range", None) is not None:
            if out and out[-1][1].blocks and out[-1][1] is not node:
                out.pop()          # (the If / Loop around the node that failed)
            if out and out[-1][1] is node:
                out[-1] = (tb, node)
            else:
                out.append((tb, node))
        tb = tb.tb_next
    return out


def ran_unranged_node(tb):
    """Whether a frame of traceback tb ran a graph node that has no source range (a
    traced graph's prim::ListUnpack): scripted_nodes leaves those out."""
    while tb is not None:
        code = tb.tb_frame.f_code
        ref = _SOURCE_NODES.get(code.co_filename)
        owner = ref() if ref is not None else None
        node = owner.node_lines.get(tb.tb_lineno) if owner is not None else \
            tb.tb_frame.f_locals.get("node") if code in _NODE_LOOPS else None
        if node is not None and getattr(node, "source_range", None) is None:
            return True
        tb = tb.tb_next
    return False


_MARK = "__gpujit_scripted_frame__"


def _user_frame(sr):
    """A traceback entry whose frame is at sr's file, line and function (its statement's
    columns those of the expression at sr.col, for Python's ^^^ marks)."""
    text = sr.text.rstrip() if sr.text else ""
    col = sr.col if text and sr.col < len(text) and not text[sr.col].isspace() else (
        len(text) - len(text.lstrip()) if text else 0)
    width = len(text) - col if col != sr.col or not text else _expression_width(text, col)
    stmt = "raise __e__" if width < 13 else "raise (__e__" + " " * (width - 13) + ")"
    if sr.line > 1:
        src = "\n" * (sr.line - 2) + "if 1:\n" + " " * max(col, 1) + stmt
    else:
        src = stmt
    code = compile(src, sr.filename, "exec")
    if sr.function and sr.function.isidentifier():
        code = code.replace(co_name=sr.function)
    try:
        exec(code, {"__e__": _Marker(), _MARK: True})
    except _Marker as m:
        return m.__traceback__.tb_next      # (the entry of the frame the code ran in)
    return None


class _Marker(Exception):
    pass


def add_scripted_frames(e):
    """Put the user's scripted lines into e's traceback after the frames that ran them
    (once: an outer compiled call sees them there already); nothing when no frame ran a
    graph. Never raises."""
    try:
        for tb, node in scripted_nodes(e.__traceback__):
            nxt = tb.tb_next
            if nxt is not None and nxt.tb_frame.f_globals.get(_MARK):
                continue
            ranges = []
            for sr in (*reversed(node.meta.get("inlined_at", ())), node.source_range):
                if sr is not None and (not ranges or ranges[-1] != sr):
                    ranges.append(sr)
            entries = [t for t in map(_user_frame, ranges) if t is not None]
            if not entries:
                continue
            for a, b in zip(entries, entries[1:]):
                a.tb_next = b
            entries[-1].tb_next = nxt
            tb.tb_next = entries[0]
    except Exception:       # (never let the report hide the user's error)
        pass
