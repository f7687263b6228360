"""Writes vocab_s48.pt, bytes_s48.pt and state_s48.pt, the TorchScript archives
tests/test_torch_load_s48.py loads: a scripted module holding an object of a script class
(Dict / List attributes, dunder methods, a default argument, int arithmetic that wraps),
an exported method and a submodule calling a free function; a module whose str attributes
and constants hold bytes that are no UTF-8 ("é"[0:1], pickled as the one byte b"\xc3");
a module holding an object saved through its class's __getstate__ / __setstate__. Run with PyTorch
(`python tests/data/torch_archives/make_vocab_s48.py`; torch 2.13 made the committed file).
The test also calls build() with the installed torch (importorskip)."""
import os
import zipfile
from typing import Any, Dict, List, Tuple

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


@torch.jit.script
class Vocab(object):
    def __init__(self, words: List[str]):
        self.stoi: Dict[str, int] = {}
        self.itos: List[str] = []
        self.log: List[str] = []
        for w in words:
            self.add(w)

    def add(self, w: str) -> int:
        if w not in self.stoi:
            self.stoi[w] = len(self.itos)
            self.itos.append(w)
        return self.stoi[w]

    def encode(self, s: str) -> List[int]:
        return [self.stoi.get(t, -1) for t in s.split(" ")]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, w: str) -> bool:
        return w in self.stoi

    def __getitem__(self, i: int) -> str:
        return self.itos[i]

    def __enter__(self) -> int:
        self.log.append("in")
        return len(self.itos)

    def __exit__(self, a: Any, b: Any, c: Any):
        self.log.append("out")

    def scaled(self, k: int, m: int = 3) -> int:
        return len(self.itos) * k * m

    def wrapped(self) -> int:
        return len(self.itos) * 4611686018427387904


def shift(x: int) -> int:
    return x + 100


class Ids(torch.nn.Module):
    def forward(self, x: int) -> int:
        return shift(x)

    @torch.jit.export
    def twice(self, x: int) -> int:
        return 2 * x


class Tok(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.v = Vocab(["x", "y"])
        self.ids = Ids()

    def forward(self, s: str) -> List[int]:
        with self.v as n:
            out = self.v.encode(s)
        out.append(self.ids(n))
        return out

    @torch.jit.export
    def size(self) -> int:
        return len(self.v)


class Pieces(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.s = "é"
        self.xs: List[str] = ["ü"]

    def forward(self) -> int:
        self.s = self.s[0:1]
        self.xs.append(self.xs[0][1:])
        return len(self.s)

    @torch.jit.export
    def sizes(self, a: str = "é") -> List[int]:
        return [len(self.s), len(self.xs[1]), len(a + "é"[0:1])]

    @torch.jit.export
    def whole(self) -> str:
        return self.s + self.xs[1]


@torch.jit.script
class Kept(object):
    def __init__(self, a: int):
        self.a = a
        self.cache: List[int] = [a] * 3

    def __getstate__(self) -> Tuple[int, int]:
        return (self.a, 7)

    def __setstate__(self, s: Tuple[int, int]) -> None:
        self.a = s[0] + s[1]
        self.cache = [0]


class State(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = Kept(2)

    def forward(self) -> List[int]:
        return [self.k.a] + self.k.cache


def build_state(path):
    _save(torch.jit.script(State()), path)


def build_bytes(path):
    m = torch.jit.script(Pieces())
    m()                             # (its attributes now hold the pieces)
    _save(m, path)


def build(path):
    _save(torch.jit.script(Tok()), path)


def _save(m, path):
    torch.jit.save(m, path)
    with zipfile.ZipFile(path) as z:       # (no .debug_pkl entries: as make_archives.py)
        entries = [(i, z.read(i.filename)) for i in z.infolist()
                   if not i.filename.endswith(".debug_pkl")]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for info, data in entries:
            z.writestr(info, data)


if __name__ == "__main__":
    build(os.path.join(HERE, "vocab_s48.pt"))
    build_bytes(os.path.join(HERE, "bytes_s48.pt"))
    build_state(os.path.join(HERE, "state_s48.pt"))
