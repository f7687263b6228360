"""Where in the user's scripted source an op failed at run time: the frames of the
exception's traceback that run a graph (generated specialization code, whose lines map
back to the nodes that emitted them, and the interpreter's node loop) name their nodes,
and the nodes' source ranges become a note on the exception, as TorchScript's
interpreter shows "Traceback of TorchScript (most recent call last)":

    RuntimeError: shape '[4]' is invalid for input of size 3
    Traceback of the scripted code (most recent call last):
      File "model.py", line 6, in g
        return y.view(xs)
               ~~~~~~ <--- HERE

The message itself (str(e)) stays the op's, as eager code raises it; only the traceback
Python prints shows the note. Nothing is done on the success path: the maps are built
when code is generated, read only when an exception leaves scripted code."""
from __future__ import annotations

__all__ = ["register_source", "register_node_loop", "scripted_nodes", "add_scripted_traceback",
           "HEADER"]

HEADER = "Traceback of the scripted code (most recent call last):"

# generated code's filename -> {line number: the node that emitted that line}
_SOURCE_NODES: dict = {}
# code objects of the loops that run a graph's nodes one by one, their current node in
# the local `node` (the interpreter's run_nodes, the executor's recording plan)
_NODE_LOOPS: set = set()


def register_node_loop(code):
    """Frames running `code` hold the node they run in their local `node`."""
    _NODE_LOOPS.add(code)


def register_source(filename, node_lines):
    """Record which node emitted each line of the generated code compiled as filename
    (node_lines: 1-based line -> node); forget(filename) when that code goes."""
    _SOURCE_NODES[filename] = node_lines


def forget(filename):
    _SOURCE_NODES.pop(filename, None)


def scripted_nodes(tb):
    """The graph nodes the frames of traceback tb were running, outermost first: lines
    of generated code, the interpreter's current node; control-flow nodes (If, Loop)
    dropped where a node inside them follows, repeats once."""
    out = []
    while tb is not None:
        f = tb.tb_frame
        code = f.f_code
        node = None
        lines = _SOURCE_NODES.get(code.co_filename)
        if lines is not None:
            node = lines.get(tb.tb_lineno)
        elif code in _NODE_LOOPS:
            node = f.f_locals.get("node")
        if node is not None and getattr(node, "source_range", None) is not None:
            if out and out[-1].blocks and out[-1] is not node:
                out.pop()          # (the If / Loop around the node that failed)
            if not out or out[-1] is not node:
                out.append(node)
        tb = tb.tb_next
    return out


def _frame_text(sr):
    where = f'  File "{sr.filename}", line {sr.line}'
    if sr.function:
        where += f", in {sr.function}"
    if not sr.text:
        return where
    text = sr.text.rstrip()
    if sr.col >= len(text) or text[sr.col].isspace():
        # (a traced node's range is the line, column 0: the statement underlined)
        start = len(text) - len(text.lstrip())
        return (f"{where}\n    {text}\n    {' ' * start}{'~' * (len(text) - start)}"
                f" <--- HERE")
    return where + "\n" + "\n".join(sr.highlight().split("\n")[1:])


def add_scripted_traceback(e):
    """Add (or replace, when an outer scripted call sees more frames) the note naming the
    scripted source lines e was raised under; nothing when no frame ran a graph."""
    try:
        nodes = scripted_nodes(e.__traceback__)
    except Exception:       # (never let the report hide the user's error)
        return
    if not nodes:
        return
    try:
        if "\n  in scripted code at " in str(e):
            return      # (raise / assert / a dict's KeyError: the message names the line)
    except Exception:
        return
    ranges = []
    for n in nodes:     # (an inlined function's node: its call sites first, outermost first)
        for sr in (*reversed(n.meta.get("inlined_at", ())), n.source_range):
            if sr is not None and (not ranges or ranges[-1] != sr):
                ranges.append(sr)
    note = HEADER + "\n" + "\n".join(_frame_text(sr) for sr in ranges)
    notes = getattr(e, "__notes__", None)
    if notes is not None:
        for i, n in enumerate(notes):
            if isinstance(n, str) and n.startswith(HEADER):
                if len(n) < len(note):
                    notes[i] = note
                return
    try:
        e.add_note(note)
    except Exception:
        pass
