"""A disk cache of the code objects of the registry's generated entry points.

Every op's public and eager entry points are Python source generated at import time
(entry_codegen.build_entry_points); compiling those ~1000 small sources took ~0.15 s of every
`import gpujit`. The compiled code objects are kept in one marshal file per Python
version and gpujit version, keyed by a hash of (filename, source), under
$GPUJIT_CACHE_DIR/entrypoints or ~/.cache/gpujit/entrypoints. A missing, unreadable or
stale file only means compiling again; the file is rewritten (atomically) when an import
compiled something new. The file starts with a magic line and a blake2b digest of the marshal
payload: a truncated or corrupted file (a flipped bit inside a code object's bytecode would load
and could crash the interpreter) is detected and ignored, never executed. GPUJIT_CODE_CACHE=0 turns it off. (Like __pycache__, the file
holds code that runs: it lives in the user's own cache directory.)
"""
from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile

__all__ = ["compile_cached", "flush"]

_MAGIC = b"gpujit-entrypoints-1\n"
_DIGEST = 32

_state = {"codes": None, "dirty": False, "used": set(), "compiled": 0}


def _path():
    from .. import __version__
    from ..cachedir import folder
    tag = f"{sys.implementation.cache_tag}-gpujit{__version__}"
    # (a folder that cannot be made: a private one, warned; every import compiled ~1000
    # sources again, 0.15 s, where GPUJIT_CACHE_DIR named a file)
    return os.path.join(folder("entrypoints"), f"{tag}.marshal")


def _enabled() -> bool:
    return os.environ.get("GPUJIT_CODE_CACHE", "1") != "0"


def _codes() -> dict:
    codes = _state["codes"]
    if codes is None:
        codes = {}
        if _enabled():
            try:
                with open(_path(), "rb") as f:
                    loaded = _unpack(f.read())
                if isinstance(loaded, dict):
                    codes = loaded
            except (OSError, EOFError, ValueError, TypeError):
                codes = {}              # absent or damaged: compile again
        _state["codes"] = codes
    return codes


def _pack(codes: dict) -> bytes:
    payload = marshal.dumps(codes)
    return _MAGIC + hashlib.blake2b(payload, digest_size=_DIGEST).digest() + payload


def _unpack(data: bytes):
    """The dict of a file written by _pack; None when the file is not one, or is damaged."""
    head = len(_MAGIC) + _DIGEST
    if len(data) < head or not data.startswith(_MAGIC):
        return None
    digest, payload = data[len(_MAGIC):head], data[head:]
    if hashlib.blake2b(payload, digest_size=_DIGEST).digest() != digest:
        return None
    return marshal.loads(payload)


def compile_cached(src: str, filename: str):
    """compile(src, filename, "exec"), from the cache when this source was seen before."""
    key = hashlib.blake2b(f"{filename}\0{src}".encode(), digest_size=16).digest()
    codes = _codes()
    _state["used"].add(key)
    code = codes.get(key)
    if code is None or getattr(code, "co_filename", None) != filename:
        code = compile(src, filename, "exec")
        _state["compiled"] += 1
        codes[key] = code
        _state["dirty"] = True
    return code


def flush():
    """Write the cache if this import compiled something new or left entries unused (best
    effort): the file holds exactly the entry points of the current gpujit."""
    codes, used = _state["codes"] or {}, _state["used"]
    stale = len(codes) > len(used)
    if not ((_state["dirty"] or stale) and _enabled()):
        return
    _state["codes"] = {k: v for k, v in codes.items() if k in used}
    path = _path()
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(_pack(_state["codes"]))
        os.replace(tmp, path)
        _state["dirty"] = False
    except OSError:
        # a read-only home or a full disk: compile at every import, and leave no
        # half-written temporary file behind (one per import, ~2 MB each)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
