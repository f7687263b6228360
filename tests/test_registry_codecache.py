"""The registry's entry-point code cache: written by an import, used by the next, and a
damaged or disabled cache only means compiling again (gpujit/ops/codecache.py)."""
import os
import subprocess
import sys

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


def test_cache_is_written_then_used_and_survives_damage(tmp_path):
    env = {"GPUJIT_CACHE_DIR": str(tmp_path)}
    compiled, used = map(int, _run(env))
    assert compiled == used > 500                      # all compiled, then written
    files = _file(str(tmp_path))
    assert len(files) == 1
    assert _run(env)[0] == "0"                          # all from the cache
    with open(files[0], "wb") as f:
        f.write(b"\x00garbage")
    assert int(_run(env)[0]) == used                    # recompiled and rewritten
    assert _run(env)[0] == "0"


def test_cache_can_be_turned_off(tmp_path):
    env = {"GPUJIT_CACHE_DIR": str(tmp_path), "GPUJIT_CODE_CACHE": "0"}
    assert int(_run(env)[0]) > 500 and int(_run(env)[0]) > 500
    assert _file(str(tmp_path)) == []


def test_a_cache_file_that_cannot_be_written_leaves_no_temporary_files(tmp_path):
    """When the file cannot be replaced (here a folder in its place; a full disk alike)
    every import compiles, as before, but no longer leaves its ~2 MB temporary file in
    the cache folder."""
    env = {"GPUJIT_CACHE_DIR": str(tmp_path)}
    _run(env)
    path, = _file(str(tmp_path))
    os.unlink(path)
    os.mkdir(path)
    for _ in range(2):
        assert int(_run(env)[0]) > 500
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]


def test_truncated_or_corrupted_cache_is_detected_and_recompiled(tmp_path):
    """Each damaged file is refused before marshal reads it (a flipped bit inside bytecode
    would load and could crash the interpreter), then rewritten whole."""
    env = {"GPUJIT_CACHE_DIR": str(tmp_path)}
    compiled, used = map(int, _run(env))
    path, = _file(str(tmp_path))
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
        assert int(_run(env)[0]) == used, what          # nothing taken from the damaged file
        assert open(path, "rb").read() == good, what    # rewritten as before
        assert _run(env)[0] == "0", what


def test_unpack_refuses_every_single_byte_change():
    from gpujit.ops import codecache
    data = codecache._pack({b"k": compile("x = 1", "<f>", "exec")})
    assert codecache._unpack(data)[b"k"].co_filename == "<f>"
    for i in range(len(data)):
        changed = data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
        assert codecache._unpack(changed) is None, i
