"""torch.torch_version: `TorchVersion`, the str that `torch.__version__` is, which compares
as a version with strings ("2.1" < "2.10"), tuples ((2, 1)) and packaging's Version objects,
and falls back to string comparison for a string that is not a version ('parrot').

PyTorch parses with its vendored `packaging`; gpujit does not depend on packaging, so the
PEP 440 ordering (epoch, release without trailing zeros, pre-release, post, dev, local
segments) is written out here: `_Version`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .version import __version__ as internal_version

__all__ = ["TorchVersion"]

_PATTERN = re.compile(r"""
    v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>\d+)?)?
    (?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
""", re.VERBOSE | re.IGNORECASE)
_PRE = {"alpha": "a", "a": "a", "beta": "b", "b": "b", "c": "rc", "pre": "rc",
        "preview": "rc", "rc": "rc"}
# segments compare as (0,) < (1, value) < (2,): a missing part sorts before or after
# every present one, as packaging's -Infinity / +Infinity
_LOW, _HIGH = (0,), (2,)


class InvalidVersion(ValueError):
    """A string that is not a PEP 440 version (packaging's InvalidVersion)."""


class _Version:
    """A PEP 440 version, ordered as packaging.version.Version."""
    __slots__ = ("_text", "_key")

    def __init__(self, text: str):
        m = _PATTERN.fullmatch(text.strip())
        if m is None:
            raise InvalidVersion(f"Invalid version: '{text}'")
        g = m.groupdict()
        release = [int(p) for p in g["release"].split(".")]
        while len(release) > 1 and release[-1] == 0:
            release.pop()
        pre = None if g["pre_l"] is None else (_PRE[g["pre_l"].lower()], int(g["pre_n"] or 0))
        post_n = g["post_n1"] or g["post_n2"]
        post = None if g["post_n1"] is None and g["post_l"] is None else int(post_n or 0)
        dev = None if g["dev_l"] is None else int(g["dev_n"] or 0)
        if pre is not None:
            pre_key = (1, pre)
        else:
            pre_key = _LOW if post is None and dev is not None else _HIGH
        local = _LOW if g["local"] is None else (1, tuple(
            (1, int(p), "") if p.isdigit() else (0, 0, p.lower())
            for p in re.split(r"[-_.]", g["local"])))
        self._text = text
        self._key = (int(g["epoch"] or 0), tuple(release), pre_key,
                     _LOW if post is None else (1, post),
                     _HIGH if dev is None else (1, dev), local)

    def __repr__(self):
        return f"<Version('{self._text}')>"

    def __eq__(self, other):
        return self._key == other._key

    def __lt__(self, other):
        return self._key < other._key

    def __le__(self, other):
        return self._key <= other._key

    def __gt__(self, other):
        return self._key > other._key

    def __ge__(self, other):
        return self._key >= other._key

    def __hash__(self):
        return hash(self._key)


Version = _Version


class TorchVersion(str):
    """A string with magic powers to compare to both Version and iterables: `torch.__version__
    >= "2.0"` and `torch.__version__ > (1, 13)` compare versions, not characters."""

    __slots__ = ()

    def _convert_to_version(self, inp: Any) -> _Version:
        if isinstance(inp, _Version):
            return inp
        if isinstance(inp, str):
            return _Version(inp)
        if isinstance(inp, Iterable):
            return _Version(".".join(str(item) for item in inp))
        if type(inp).__name__ == "Version" and hasattr(inp, "release"):   # packaging's
            return _Version(str(inp))
        raise InvalidVersion(inp)

    def _cmp_wrapper(self, cmp: Any, method: str) -> bool:
        try:
            return getattr(_Version(self), method)(self._convert_to_version(cmp))
        except InvalidVersion:
            # not a version ('parrot'): compare as strings
            return getattr(super(), method)(cmp)


for _method in ("__gt__", "__lt__", "__eq__", "__ge__", "__le__"):
    setattr(TorchVersion, _method, lambda x, y, method=_method: x._cmp_wrapper(y, method))
TorchVersion.__hash__ = str.__hash__

# `torch.__version__`: the PyTorch release whose behaviour gpujit follows (its tests compare
# with it), gpujit's own version as the local label: "2.13.0+gpujit.0.1.0". Programs that
# branch on the version (`torch.__version__ >= "2.0"`, `version.parse(torch.__version__)`)
# take their PyTorch 2.13 path; gpujit's own version is gpujit.version.gpujit_version.
TORCH_API_VERSION = "2.13.0"
__version__ = TorchVersion(f"{TORCH_API_VERSION}+gpujit.{internal_version}")
