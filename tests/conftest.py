import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.cuda` tests skip on machines without CuPy and an NVIDIA GPU."""
    import gpujit
    if gpujit.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and an NVIDIA GPU (pip install "
                                   "\"gpujit[cuda12]\"); none was found")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)


# ---------------------------------------------------------------------------------------
# Every graph a test makes must print, parse and print the same text (issue 4). Graphs are
# collected as they are created; after each test, each one that still lints is checked.
_graphs = []
_checked = [0]


def pytest_terminal_summary(terminalreporter):
    if _checked[0]:
        terminalreporter.write_line(f"graphs printed, parsed and printed again: {_checked[0]}")


@pytest.fixture(autouse=True)
def _every_graph_round_trips(request):
    import weakref
    from gpujit.ir import graph as _graph_mod
    from gpujit.ir import parse_ir, LintError

    init = _graph_mod.Graph.__init__

    def recording_init(self, *a, **k):
        init(self, *a, **k)
        _graphs.append(weakref.ref(self))

    _graph_mod.Graph.__init__ = recording_init
    try:
        yield
    finally:
        _graph_mod.Graph.__init__ = init
    made = [r() for r in _graphs]
    _graphs.clear()
    if request.node.get_closest_marker("no_graph_roundtrip"):
        return
    for g in made:
        if g is None or not g.outputs:
            continue
        try:
            g.lint()
        except (LintError, AttributeError, ValueError):
            continue           # a test that breaks a graph on purpose
        text = str(g)
        assert str(parse_ir(text)) == text, f"graph does not round-trip:\n{text}"
        _checked[0] += 1
