"""torch.hub's checkpoint downloads: `load_state_dict_from_url` (also
`torch.utils.model_zoo.load_url`), `download_url_to_file`, `get_dir` / `set_dir`.

The cache is PyTorch's (`$TORCH_HOME/hub/checkpoints`, by default
`~/.cache/torch/hub/checkpoints`), so a checkpoint PyTorch downloaded is found here too, and
`gpujit.load` reads it. `torch.hub.load` / `list` / `help` run a GitHub repository's
hubconf.py, written against PyTorch itself: gpujit does not offer them.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import uuid
import warnings
import zipfile
from urllib.parse import urlparse

__all__ = ["get_dir", "set_dir", "download_url_to_file", "load_state_dict_from_url",
           "load", "list", "help"]

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_READ_CHUNK = 128 * 1024
_hub_dir = None


def _get_torch_home():
    return os.path.expanduser(os.getenv(
        "TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))


def get_dir() -> str:
    """The hub cache folder: set_dir's, else $TORCH_HOME/hub."""
    if os.getenv("TORCH_HUB"):
        warnings.warn("TORCH_HUB is deprecated, please use env TORCH_HOME instead",
                      stacklevel=2)
    return _hub_dir if _hub_dir is not None else os.path.join(_get_torch_home(), "hub")


def set_dir(d) -> None:
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def download_url_to_file(url, dst, hash_prefix=None, progress=True) -> None:
    """Download url to the file dst (through a temporary file moved into place at the end;
    with hash_prefix, the SHA-256 digest must start with it)."""
    # (urllib.request imports ssl: ~75 ms of `import gpujit` when imported at the top)
    from urllib.request import Request, urlopen
    dst = os.path.expanduser(dst)
    tmp = f"{dst}.{uuid.uuid4().hex}.partial"
    try:
        with urlopen(Request(url, headers={"User-Agent": "torch.hub"})) as u, \
                open(tmp, "w+b") as f:
            sha256 = hashlib.sha256() if hash_prefix is not None else None
            while True:
                buffer = u.read(_READ_CHUNK)
                if not buffer:
                    break
                f.write(buffer)
                if sha256 is not None:
                    sha256.update(buffer)
        if sha256 is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got '
                                   f'"{digest}")')
        shutil.move(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _is_legacy_zip_format(filename) -> bool:
    """A zip holding one file: the format before torch.save's own zip (PyTorch < 1.6)."""
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as zf:
            infolist = zf.infolist()
        return len(infolist) == 1 and not infolist[0].is_dir()
    return False


def _legacy_zip_load(filename, model_dir, map_location, weights_only):
    warnings.warn("Falling back to the old format < 1.6. This support will be deprecated in "
                  "favor of default zipfile format introduced in 1.6. Please redo "
                  "torch.save() to save it in the new zipfile format.", FutureWarning,
                  stacklevel=3)
    with zipfile.ZipFile(filename) as f:
        member = f.infolist()[0]
        target = os.path.realpath(os.path.join(model_dir, member.filename))
        if not target.startswith(os.path.realpath(model_dir) + os.sep):
            raise ValueError(f"{member.filename} would be extracted outside {model_dir}")
        f.extract(member, model_dir)
    from . import load as _load
    return _load(target, map_location=map_location, weights_only=weights_only)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=False):
    """The object saved at url (a checkpoint): downloaded once into model_dir (default
    get_dir()/checkpoints) and loaded with gpujit.load. check_hash: the file name's
    `-<hex>.` part must prefix the file's SHA-256."""
    if os.getenv("TORCH_MODEL_ZOO"):
        warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead",
                      stacklevel=2)
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            r = HASH_REGEX.search(filename)
            hash_prefix = r.group(1) if r else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    if _is_legacy_zip_format(cached_file):
        return _legacy_zip_load(cached_file, model_dir, map_location, weights_only)
    from . import load as _load
    return _load(cached_file, map_location=map_location, weights_only=weights_only)


def _repository_entry(name):
    def fn(*args, **kwargs):
        raise NotImplementedError(
            f"torch.hub.{name} runs a GitHub repository's hubconf.py, which is written "
            f"against PyTorch itself; gpujit does not offer it. Build the model in gpujit and "
            f"load its weights with torch.hub.load_state_dict_from_url(url)")
    fn.__name__ = fn.__qualname__ = name
    return fn


load = _repository_entry("load")
list = _repository_entry("list")        # noqa: A001  (torch.hub.list)
help = _repository_entry("help")        # noqa: A001
