"""The registry's entry-point code cache: written by an import, used by the next, and a
damaged or disabled cache only means compiling again (gpujit/ops/codecache.py)."""
import os
import subprocess
import sys

import pytest

CHECK = ("import gpujit as torch; from gpujit.ops import codecache as c; "
         "x = torch.ones(3) * 2 + 1; assert x.tolist() == [3.0, 3.0, 3.0]; "
         "print(c._state['compiled'], len(c._state['used']))")


def _run(env_extra):
    env = dict(os.environ, **env_extra)
    r = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def _file(root):
    folder = os.path.join(root, "entrypoints")
    names = os.listdir(folder) if os.path.isdir(folder) else []
    return [os.path.join(folder, n) for n in names if n.endswith(".marshal")]


def test_an_import_writes_the_cache_and_the_next_import_uses_it(tmp_path):
    """The whole path in fresh processes: `import gpujit` compiles every entry point and
    writes one file; the next import compiles nothing."""
    env = {"GPUJIT_CACHE_DIR": str(tmp_path)}
    compiled, used = map(int, _run(env))
    assert compiled == used > 500                      # all compiled, then written
    assert len(_file(str(tmp_path))) == 1
    assert _run(env)[0] == "0"                          # all from the cache


# The cache's handling of a damaged, disabled or unwritable file, in this process: each
# "import" below is what `import gpujit` does with the cache (compile_cached for every
# entry point's source, then flush), on fresh state and a file under tmp_path (a fresh
# process per case took ~5 s of CI time each).
_SOURCES = [(f"def f{i}(x):\n    return x + {i}\n", f"<entry {i}>") for i in range(40)]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    from gpujit.ops import codecache
    path = str(tmp_path / "entrypoints" / "test.marshal")
    monkeypatch.setattr(codecache, "_path", lambda: path)
    monkeypatch.setattr(codecache, "_state", None)

    def an_import():
        """The number of sources compiled (not taken from the file)."""
        codecache._state = {"codes": None, "dirty": False, "used": set(), "compiled": 0}
        for src, name in _SOURCES:
            code = codecache.compile_cached(src, name)
            ns = {}
            exec(code, ns)
            assert ns[name[1:-1].replace("entry ", "f")](1) == 1 + int(name[7:-1])
        codecache.flush()
        return codecache._state["compiled"]
    return path, an_import


def test_cache_is_written_then_used_and_survives_damage(cache):
    path, an_import = cache
    assert an_import() == len(_SOURCES)
    assert os.path.isfile(path)
    assert an_import() == 0                             # all from the file
    with open(path, "wb") as f:
        f.write(b"\x00garbage")
    assert an_import() == len(_SOURCES)                 # compiled again and rewritten
    assert an_import() == 0


def test_cache_can_be_turned_off(cache, monkeypatch):
    path, an_import = cache
    monkeypatch.setenv("GPUJIT_CODE_CACHE", "0")
    assert an_import() == len(_SOURCES) and an_import() == len(_SOURCES)
    assert not os.path.exists(os.path.dirname(path))


def test_a_cache_file_that_cannot_be_written_leaves_no_temporary_files(cache):
    """When the file cannot be replaced (here a folder in its place; a full disk alike)
    every import compiles, as before, but no longer leaves its ~2 MB temporary file in
    the cache folder."""
    path, an_import = cache
    an_import()
    os.unlink(path)
    os.mkdir(path)
    for _ in range(2):
        assert an_import() == len(_SOURCES)
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]


def test_truncated_or_corrupted_cache_is_detected_and_recompiled(cache):
    """Each damaged file is refused before marshal reads it (a flipped bit inside bytecode
    would load and could crash the interpreter), then rewritten whole."""
    path, an_import = cache
    an_import()
    good = open(path, "rb").read()
    import marshal
    from gpujit.ops import codecache
    bare = good[len(codecache._MAGIC) + codecache._DIGEST:]
    assert isinstance(marshal.loads(bare), dict)        # the payload after the header
    damaged = {
        "truncated": good[: len(good) // 2],
        "header only": good[: len(codecache._MAGIC) + codecache._DIGEST],
        "flipped byte": good[:-100] + bytes([good[-100] ^ 0x40]) + good[-99:],
        "bare marshal (older format)": bare,
        "empty": b"",
    }
    for what, data in damaged.items():
        with open(path, "wb") as f:
            f.write(data)
        assert an_import() == len(_SOURCES), what       # nothing taken from the damaged file
        # rewritten whole (the same entries; not the same bytes: marshal's back references
        # follow the code objects' reference counts, which differ in this process)
        again = codecache._unpack(open(path, "rb").read())
        assert isinstance(again, dict) and sorted(again) == sorted(marshal.loads(bare)), what
        assert an_import() == 0, what


def test_unpack_refuses_every_single_byte_change():
    from gpujit.ops import codecache
    data = codecache._pack({b"k": compile("x = 1", "<f>", "exec")})
    assert codecache._unpack(data)[b"k"].co_filename == "<f>"
    for i in range(len(data)):
        changed = data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
        assert codecache._unpack(changed) is None, i
