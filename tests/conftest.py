import gc
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
# the tests lint every graph after every pass of passes.optimize (it names the pass that
# broke one); compiling outside the tests lints once per optimize
os.environ.setdefault("GPUJIT_LINT_PASSES", "1")

import pytest  # noqa: E402

# the cache folder of this session (before any test points GPUJIT_CACHE_DIR elsewhere):
# tests/cache_seed.py seeds the fresh cache folders of the tests' subprocesses from it
if "GPUJIT_TESTS_SEED_CACHE" not in os.environ:
    from gpujit.cachedir import root_dir as _root_dir  # noqa: E402
    os.environ["GPUJIT_TESTS_SEED_CACHE"] = str(_root_dir())


# The slowest test files (minutes each on CI's 2 cores: emulated GPU sweeps, simulator and
# fuser ports that compile hundreds of kernels) run first: with pyproject's
# --no-loadscope-reorder, pytest-xdist's --dist loadfile hands out files in collection
# order, and one of these started last kept a single worker busy for minutes after the
# other had finished.
SLOW_FIRST = ("test_fake_gpu.py", "test_fuser_dynamic_port.py", "test_fuser_te_port_b.py",
              "test_fusion_special_values_s19.py", "test_jit_generated_modules_port.py",
              "test_fuser_te_port_a.py", "test_jit_generated_port.py", "test_jit_model_zoo.py")


def _slow_first(items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    key = {}
    for i, item in enumerate(items):
        key[id(item)] = (rank.get(item.path.name, len(rank)), i)
    items.sort(key=lambda item: key[id(item)])


# Python's cyclic garbage collector: a test process holds ~160k objects once the tests are
# collected (gpujit's registry and generated entry points, the test modules, pytest's items)
# and more as tests run (cached kernels and graphs), which every full collection walked
# again: 4.2 s of the 37 s CPU of test_autograd_registry + test_jit_generated_port. Frozen
# after collection, they are not walked again; the young generation is collected every
# 10000 allocations instead of 700 (1.9 s there).
gc.set_threshold(10000, 10, 10)


def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(config, items):
    """The slowest files first (SLOW_FIRST); `@pytest.mark.cuda` tests skip on machines
    without CuPy and an NVIDIA GPU, `@pytest.mark.two_gpus` ones where fewer than two GPUs
    are visible."""
    _slow_first(items)
    import gpujit
    if gpujit.cuda.is_available():
        if gpujit.cuda.device_count() < 2:
            one = pytest.mark.skip(reason="needs two CUDA devices (cuda:1); one is visible "
                                          "(the fake CuPy has two with FAKECUPY_NDEV=2)")
            for item in items:
                if item.get_closest_marker("two_gpus") is not None:
                    item.add_marker(one)
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
_round_tripped = set()     # digests of the texts already printed, parsed and printed again


def pytest_terminal_summary(terminalreporter):
    if _checked[0]:
        terminalreporter.write_line(f"graphs printed, parsed and printed again: {_checked[0]}")
    _summary_saved(terminalreporter)


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
        # a text already checked is not parsed again (the same text parses to the same
        # graph; a graph's specializations, clones and copies in a test repeat it)
        try:
            text = str(g)
        except Exception:                # noqa: BLE001  (a broken graph: lint says so)
            text = None
        key = text and hashlib.blake2b(text.encode(), digest_size=16).digest()
        if key in _round_tripped:
            continue
        # (lint only where the round trip fails: a graph a test broke on purpose is skipped,
        # a sound one that does not round-trip fails; linting every graph first was ~30% of
        # this check)
        again = None
        if text is not None:
            try:
                again = str(parse_ir(text))
            except Exception:            # noqa: BLE001  (judged below, after lint)
                again = None
        if again != text:
            try:
                g.lint()
            except (LintError, AttributeError, ValueError):
                continue           # a test that breaks a graph on purpose
            if text is None:
                text = str(g)
            assert str(parse_ir(text)) == text, f"graph does not round-trip:\n{text}"
            key = hashlib.blake2b(text.encode(), digest_size=16).digest()
        _round_tripped.add(key)
        _checked[0] += 1


# ---------------------------------------------------------------------------------------
# Every scripted or traced module and function a test makes must save and load back
# (issue 6: `.code` compiles back with the frontend): after each test, each one is saved,
# loaded, and the loaded one must have the same methods, parameters and attributes.
_compiled = []
_saved = [0]


def _summary_saved(terminalreporter):     # called from the summary above
    if _saved[0]:
        terminalreporter.write_line(f"compiled modules/functions saved and loaded back: "
                                    f"{_saved[0]}")


@pytest.fixture(autouse=True)
def _every_compiled_object_saves_and_loads(request):
    import weakref
    from gpujit.jit import objects as _obj

    inits = {cls: cls.__init__ for cls in (_obj.ScriptModule, _obj.ScriptFunction)}

    def recording(cls):
        init = inits[cls]

        def recording_init(self, *a, **k):
            init(self, *a, **k)
            _compiled.append(weakref.ref(self))
        return recording_init
    for cls in inits:
        cls.__init__ = recording(cls)
    try:
        yield
    finally:
        for cls, init in inits.items():
            cls.__init__ = init
    made = [r() for r in _compiled]
    _compiled.clear()
    if request.node.get_closest_marker("no_save_roundtrip") or os.environ.get(
            "GPUJIT_TEST_SAVE_ROUNDTRIP", "1") == "0":
        return
    roots = [m for m in made if m is not None]
    subs = {id(s) for m in roots if isinstance(m, _obj.ScriptModule)
            for s in m.modules() if s is not m}
    for m in roots:
        if id(m) not in subs:
            _check_saves_and_loads(m, request.node.nodeid)


def _check_saves_and_loads(m, nodeid=""):
    import io
    import gpujit
    from gpujit.jit import objects as _obj
    from gpujit.serialization import unsaveable_reason
    if unsaveable_reason(m) is not None:
        return
    buf = io.BytesIO()
    # GPUJIT_TEST_SAVE_FORMAT=pytorch: every compiled object round-trips through PyTorch's
    # archive format instead (gpujit/serialization/torch_writer.py, torch_archive.py)
    fmt = os.environ.get("GPUJIT_TEST_SAVE_FORMAT") or None
    try:
        gpujit.jit.save(m, buf, format=fmt)
    except gpujit.jit.ArchiveError as e:
        if fmt == "pytorch" and "PyTorch's" in str(e):    # (hooks, NamedTuple attributes)
            return
        raise
    buf.seek(0)
    _torch_loads(buf.getvalue(), nodeid)
    key = _archive_digest(buf.getvalue())
    if key in _loaded_archives:
        return
    loaded = gpujit.jit.load(buf)
    if isinstance(m, _obj.ScriptModule):
        # by name: a submodule used twice (nn.Sequential(lin, self.relu)) is one module
        # before saving and two after loading (as in torch), so modules() do not pair up
        loaded_modules = dict(loaded.named_modules(remove_duplicate=False))
        for name, a in m.named_modules(remove_duplicate=False):
            b = loaded_modules[name]
            assert sorted(a._script_methods) == sorted(b._script_methods), (a, b)
            assert list(a._parameters) == list(b._parameters)
            assert list(a._buffers) == list(b._buffers)
    else:
        # (a function loads as torch's PlaceholderModule: its forward takes self first)
        assert type(loaded).__name__ == "RecursiveScriptModule"
        assert len(loaded.graph.inputs) == len(m.graph.inputs) + 1
    _saved[0] += 1
    _loaded_archives.add(key)


# Archives already loaded back by this process, by their contents less the tensors' bytes
# (their sizes kept): loading compiles the code back (~0.36 s an object) and what is
# checked after it (methods, parameters, buffers) depends only on the code and data.pkl;
# tests script the same modules over and over (a zoo model, nn.Linear).
_loaded_archives = set()
_STORAGE = re.compile(r"(^|/)(data|constants)/\d+$")


def _archive_digest(data):
    import io
    import zipfile
    h = hashlib.blake2b(digest_size=16)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in sorted(z.infolist(), key=lambda i: i.filename):
            h.update(info.filename.encode() + b"\0")
            if _STORAGE.search(info.filename):
                h.update(str(info.file_size).encode())
            else:
                h.update(z.read(info))
            h.update(b"\0")
    return h.digest()


def _torch_loads(data, nodeid):
    """GPUJIT_TEST_TORCH_LOAD_LOG=<file>: PyTorch (when installed) loads every archive in
    its format the tests save, and each failure is appended to the file (a survey of what
    torch.jit.load cannot read yet; tests do not fail for it)."""
    log = os.environ.get("GPUJIT_TEST_TORCH_LOAD_LOG")
    if not log:
        return
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        if not any(n.endswith("/data.pkl") for n in z.namelist()):
            return
    try:
        import torch as real
    except ImportError:
        return
    try:
        real.jit.load(io.BytesIO(data))
    except Exception as e:                   # noqa: BLE001  (any failure is the finding)
        said = " ".join(str(e).split())[:300]
        with open(log, "a") as f:
            f.write(f"{nodeid}\t{type(e).__name__}: {said}\n")
