"""The names TorchScript gives classes, modules, NamedTuples, enums and interfaces in
graphs, schemas and errors (torch._jit_internal._qualified_name): `__torch__.` then the
defining module then the class's __name__: `__torch__.MyCell` for a class of the script
being run (`__main__`), `__torch__.my_package.models.MyCell` for one imported from a module,
`__torch__.torch.nn.modules.linear.Linear` for gpujit's own nn modules (they print as
PyTorch's do, whichever gpujit file defines them). A second type under one name (another
traced instance, another class of the same name) is mangled as TorchScript mangles it,
`___torch_mangle_<n>` before the last component, n from one counter for all names."""
from __future__ import annotations

import itertools
import re
import types
import weakref

__all__ = ["qualified_name", "function_name", "mangled", "unmangled", "unused_name",
           "archive_name", "LoadUnit"]

# gpujit nn classes PyTorch defines in another module of torch.nn than gpujit's file of the
# same name (gpujit.nn.modules.normalization holds BatchNorm1d, torch's is
# torch.nn.modules.batchnorm): class name -> torch's module
_TORCH_MODULE = {}
for _mod, _names in {
    "torch.nn.modules.batchnorm": ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
                                   "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"),
    "torch.nn.modules.instancenorm": ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
                                      "LazyInstanceNorm1d", "LazyInstanceNorm2d",
                                      "LazyInstanceNorm3d"),
    "torch.nn.modules.loss": ("CTCLoss", "CosineEmbeddingLoss", "GaussianNLLLoss",
                              "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "MarginRankingLoss",
                              "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
                              "MultiMarginLoss", "NLLLoss2d", "PoissonNLLLoss", "SmoothL1Loss",
                              "SoftMarginLoss", "TripletMarginLoss",
                              "TripletMarginWithDistanceLoss"),
    "torch.nn.modules.rnn": ("GRUCell", "LSTMCell", "RNNCell", "RNNCellBase"),
    "torch.nn.modules.conv": ("LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
                              "LazyConvTranspose2d", "LazyConvTranspose3d"),
    "torch.nn.modules.linear": ("LazyLinear",),
    "torch.nn.modules.normalization": ("CrossMapLRN2d", "LocalResponseNorm", "RMSNorm"),
    "torch.nn.modules.activation": ("Softmax2d",),
    "torch.nn.modules.channelshuffle": ("ChannelShuffle",),
    "torch.nn.modules.pixelshuffle": ("PixelShuffle", "PixelUnshuffle"),
    "torch.nn.modules.module": ("Module",),
    "torch.nn.parallel.data_parallel": ("DataParallel",),
}.items():
    for _n in _names:
        _TORCH_MODULE[_n] = _mod

_MANGLE = itertools.count()
# the gpujit files torch.nn.functional's functions (and their helpers) are defined in
_F_MODULE = re.compile(r"gpujit\.nn\.(_?functional(_\w+)?|_torch_functional)")


def qualified_name(cls) -> str:
    """TorchScript's qualified name of a Python class (see the module docstring)."""
    override = getattr(cls, "_jit_override_qualname", None)
    if isinstance(override, str):
        return override
    name = getattr(cls, "__name__", None) or str(cls)
    if name == "<lambda>":
        name = "_lambda"
    module = getattr(cls, "__module__", None) or "__main__"
    if not all(part.isidentifier() for part in module.split(".")):
        module = "__main__"          # (a CompilationUnit's source: `__torch__.f`, as torch)
    if module == "gpujit" or module.startswith("gpujit."):
        if module.startswith("gpujit.nn.") and name in _TORCH_MODULE:
            module = _TORCH_MODULE[name]
        elif _F_MODULE.fullmatch(module):
            module = "torch.nn.functional"     # (F.interpolate, from functional_interpolate)
        else:
            module = "torch" + module[len("gpujit"):]
    return "__torch__." + name if module == "__main__" else f"__torch__.{module}.{name}"


def archive_name(cls):
    """The qualified name a class a loaded archive made (torch.jit.load / gpujit.jit.load)
    was saved under, which its type prints with (ir/types._shown_name: each load is a
    compilation unit of its own, as torch's); None for any other class."""
    if getattr(cls, "__module__", None) != "__archive__":
        return None
    override = vars(cls).get("_jit_override_qualname") if isinstance(cls, type) else None
    return override if isinstance(override, str) else None


class LoadUnit:
    """One archive load's compilation unit (torch.jit.load compiles each archive into a
    CompilationUnit of its own): its types print with the archive's names, and a type
    made from one of them later (torch.jit.freeze's copy of a loaded module) is mangled by
    the unit's own counter, as that unit's Mangler does: `__torch__.M` ->
    `__torch__.___torch_mangle_0.M`; a name mangled already gets a higher number in
    place (`___torch_mangle_1.Sub` -> `___torch_mangle_2.Sub`)."""

    def __init__(self):
        self.index = 0

    def mangled(self, name: str) -> str:
        atoms = name.split(".")
        for i, atom in enumerate(atoms):
            head, sep, num = atom.partition("___torch_mangle_")
            if sep and num.isdigit():
                self.index = max(self.index, int(num) + 1)
                atoms[i] = f"{head}___torch_mangle_{self.index}"
                self.index += 1
                return ".".join(atoms)
        atoms.insert(len(atoms) - 1, f"___torch_mangle_{self.index}")
        self.index += 1
        return ".".join(atoms)


def mangled(name: str) -> str:
    """name with TorchScript's next mangle before its last component:
    `__torch__.torch.nn.modules.linear.___torch_mangle_3.Linear`."""
    head, _, last = name.rpartition(".")
    return f"{head}.___torch_mangle_{next(_MANGLE)}.{last}"


_MANGLE_PART = re.compile(r"\.___torch_mangle_\d+(?=\.)")


def unmangled(name: str) -> str:
    """name without TorchScript's mangle (the name a mangled type was made from)."""
    return _MANGLE_PART.sub("", name)


def unused_name(cls, taken) -> str:
    """cls's qualified name, mangled until `taken(name)` says no other type has it."""
    name = base = qualified_name(cls)
    while taken(name):
        name = mangled(base)
    return name


# the functions scripted code has called, by the name each was given, and back
_FUNCTION_NAMES = weakref.WeakKeyDictionary()
_FUNCTION_OWNERS = {}


def function_name(fn, overload=None) -> str:
    """The qualified name TorchScript gives the Python function fn in graphs, .code and
    archives: qualified_name(fn), mangled when another live function took it first (two
    closures both named `normalize`: `__torch__.m.normalize` and
    `__torch__.m.___torch_mangle_0.normalize`, as PyTorch's compilation unit names them).
    The same function object keeps its name; a function loaded from an archive keeps the
    name the archive gave it (`_jit_override_qualname`: its own compilation unit).
    overload: the @_overload declaration a call compiled fn for; each is a function of its
    own, always mangled (`__torch__.torch.nn.functional.___torch_mangle_3.interpolate`)."""
    override = getattr(fn, "_jit_override_qualname", None)
    if isinstance(override, str):
        return override
    fn = getattr(fn, "_original", None) or fn         # (a ScriptFunction: its function)
    if not isinstance(fn, types.FunctionType):
        return qualified_name(fn)
    key = fn if overload is None else overload
    name = _FUNCTION_NAMES.get(key)
    if name is not None:
        return name
    if overload is not None:
        # TorchScript compiles every declaration where the function is first called, in
        # their order: the first takes the plain name, each other the next mangle
        # (F.interpolate's size=[8] declaration is ___torch_mangle_0, scale_factor=2.0's
        # ___torch_mangle_1, whichever is called first)
        from .._jit_internal import _get_overloads
        decls = _get_overloads(fn) or []
        if any(d is overload for d in decls) and \
                not any(d in _FUNCTION_NAMES for d in decls):
            base = qualified_name(fn)
            for i, d in enumerate(decls):
                nm = base if i == 0 and not _taken(base) else mangled(base)
                _FUNCTION_NAMES[d] = nm
                _FUNCTION_OWNERS[nm] = weakref.ref(d)
            return _FUNCTION_NAMES[overload]
    name = base = qualified_name(fn)
    while overload is not None or _taken(name):
        name = mangled(base)
        overload = None
    _FUNCTION_NAMES[key] = name
    _FUNCTION_OWNERS[name] = weakref.ref(key)
    return name


def _taken(name):
    owner = _FUNCTION_OWNERS.get(name)
    return owner is not None and owner() is not None
