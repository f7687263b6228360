"""A module of numba helpers written to its own folder, with gpujit's disk cache under
tmp_path/cache: what the helper-cache tests load afresh, as a new process would."""
import importlib.util


def helper_module_loader(tmp_path, monkeypatch, name, source):
    """Write `source` as <tmp_path>/src/<name>.py; returns load(), which imports it anew."""
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "src"
    src.mkdir()
    (src / f"{name}.py").write_text(source)

    def load():
        spec = importlib.util.spec_from_file_location(name, src / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    return load
