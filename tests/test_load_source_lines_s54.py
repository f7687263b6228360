"""Session 54 (c54): a loaded archive's functions carry their source lines from the parsed
code (serialization/torch_archive._remember_lines), so compiling them back does not
tokenize the code again (inspect.getsourcelines): the lines must be inspect's own."""
import inspect
import io

import gpujit as torch
from gpujit import nn
import gpujit.nn.functional as F
from gpujit.frontend.script import sources


def _helper(x, k: int):
    # a comment inside the body
    y = x * k

    return F.relu(y)   # (a blank line before the return)


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.pool = nn.MaxPool1d(2)

    def forward(self, x):
        return self.pool(_helper(self.lin(x), 2).unsqueeze(0))


def test_loaded_functions_have_inspects_lines():
    sm = torch.jit.script(M())
    b = io.BytesIO()
    torch.jit.save(sm, b)
    b.seek(0)
    before = set(map(id, sources._LINES.keys()))
    loaded = torch.jit.load(b)
    fns = [fn for fn in sources._LINES.keys()
           if fn.__module__ == "__archive__" and id(fn) not in before]
    assert len(fns) >= 3            # (forward of M, Linear and MaxPool1d, _helper ...)
    for fn in fns:
        lines, first = sources.getsourcelines(fn)
        assert (lines, first) == inspect.getsourcelines(fn), fn
        assert lines[0].lstrip().startswith("def ")
    x = torch.randn(4, 3)
    assert torch.allclose(loaded(x), sm(x))
