"""warnings.warn in scripted code: aten::warn as in TorchScript (a UserWarning that
points at the scripted line, every time it runs: profiling, optimized and loaded calls;
.code writes it as torch.warn(message, stacklevel)); a category is refused with the line."""
import io
import warnings
from warnings import warn

import pytest

import gpujit as torch


def _warned(fn, *args):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn(*args)
    return [(m.category, str(m.message), m.lineno) for m in w]


def checked(x):
    if bool(x.sum() > 1):
        warnings.warn("big input", stacklevel=3)
    warn("rank " + str(x.dim()))
    return torch.relu(x) * 2


def test_scripted_warnings_point_at_their_lines_each_call():
    s = torch.jit.script(checked)
    line = checked.__code__.co_firstlineno
    want = [(UserWarning, "big input", line + 2), (UserWarning, "rank 1", line + 3)]
    for _ in range(3):          # the profiling call, then the optimized graph's
        assert _warned(s, torch.ones(4)) == want
    assert _warned(s, torch.zeros(4)) == want[1:]
    assert str(s.graph).count("= aten::warn[warn_id=") == 2
    assert 'torch.warn("big input", 3)' in s.code
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    for _ in range(2):
        got = _warned(loaded, torch.ones(4))
        assert [(c, m) for c, m, _ in got] == [(c, m) for c, m, _ in want]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (loaded(torch.ones(4)) == 2).all()


def test_a_warning_category_is_refused_with_the_line(tmp_path):
    src = tmp_path / "warn_mod.py"
    src.write_text("import warnings\n\ndef h(x):\n"
                   "    warnings.warn('old', DeprecationWarning)\n    return x\n")
    import importlib.util
    spec = importlib.util.spec_from_file_location("warn_mod", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(torch.jit.FrontendError) as e:
        torch.jit.script(mod.h)
    text = str(e.value)
    assert "category (DeprecationWarning)" in text and "warnings.warn('old'" in text
