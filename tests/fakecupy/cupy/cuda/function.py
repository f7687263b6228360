"""Fake cupy.cuda.function: Module.load(ptx) / get_function(entry) -> emulated launch."""


import itertools
import weakref

_BY_PTR = weakref.WeakValueDictionary()     # the fake CUfunction handles
_handles = itertools.count(0x7f0000001000, 0x40)


class Function:
    def __init__(self, module, name):
        self.module, self.name = module, name
        from .._emulate import emulator_for, signature_of
        self._run = emulator_for(name, module._ptx)
        self._signature = signature_of(name)
        self.ptr = next(_handles)
        _BY_PTR[self.ptr] = self

    def __call__(self, grid, block, args, shared_mem=0, stream=None, enable_cooperative_groups=False):
        if not isinstance(grid, tuple) or not isinstance(block, tuple):
            raise TypeError("fake cupy: grid and block must be tuples")
        if not isinstance(args, tuple):
            raise TypeError("fake cupy: args must be a tuple")
        self._check_device()
        self._run(grid, block, args)

    def _check_device(self):
        from .. import _State
        from .._emulate import LaunchError
        if _State.current != self.module._device:
            raise LaunchError(f"CUDA_ERROR_INVALID_HANDLE: a function of cuda:"
                              f"{self.module._device}'s module launched while cuda:"
                              f"{_State.current} is current")


class Module:
    def __init__(self):
        self._ptx = None
        from .. import _State
        self._device = _State.current      # (a module lives in the current device's context)

    def load(self, cubin):
        if not isinstance(cubin, bytes):
            raise TypeError(f"Module.load takes bytes, not {type(cubin)}")
        self._ptx = cubin.decode()

    def load_file(self, fname):
        with open(fname) as f:
            self._ptx = f.read()

    def get_function(self, name):
        if self._ptx is None:
            raise RuntimeError("fake cupy: get_function before load")
        if f".entry {name}(" not in self._ptx and f".entry {name} (" not in self._ptx:
            raise RuntimeError(f"CUDA_ERROR_NOT_FOUND: named symbol not found: {name}")
        return Function(self, name)
