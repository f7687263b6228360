"""torch._jit_internal's user-facing annotation helpers: BroadcastingList1 ...
BroadcastingList6.

`def f(kernel: BroadcastingList2[int])` declares a List[int] parameter of two elements
that also takes a single number, repeated to fill it (`f(3)` is `f([3, 3])`), as
TorchScript's BroadcastingList. Subscripted, each is a typing.Annotated list type, so type
checkers read it as List[T]; the script frontend reads the element count from it."""
from __future__ import annotations

import typing

__all__ = [f"BroadcastingList{i}" for i in range(1, 7)] + ["BroadcastingListCls", "Broadcast"]


class Broadcast:
    """The mark of a broadcasting list annotation: `n` elements of type `elem`, a single
    `elem` value standing for all of them."""

    __slots__ = ("n", "elem")

    def __init__(self, n, elem):
        self.n, self.elem = n, elem

    def __repr__(self):
        return f"BroadcastingList{self.n}[{getattr(self.elem, '__name__', self.elem)}]"


class BroadcastingListCls:
    """BroadcastingListN: subscript it with the element type."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, elem):
        return typing.Annotated[typing.List[elem], Broadcast(self.n, elem)]

    def __repr__(self):
        return f"BroadcastingList{self.n}"


BroadcastingList1 = BroadcastingListCls(1)
BroadcastingList2 = BroadcastingListCls(2)
BroadcastingList3 = BroadcastingListCls(3)
BroadcastingList4 = BroadcastingListCls(4)
BroadcastingList5 = BroadcastingListCls(5)
BroadcastingList6 = BroadcastingListCls(6)
