"""Native CPU kernels: numba compiles, llvmlite loads, ctypes calls.

A CPU kernel module defines `kernel` as a numba `cfunc` over raw pointers. At a cold
compile (numba imported) its LLVM IR is taken, numba's wrappers (`cfunc.*`, `cpython.*`:
they report exceptions through numba's helper library) are dropped, a plain C entry point
`gpujit_kernel` that calls numba's function is added, and the module becomes an object file
for this host CPU. That object is what the disk cache keeps: a later process loads it with
llvmlite's MCJIT and calls it through ctypes, without importing numba at all (importing
numba and initialising its CPU target costs ~0.27 s; llvmlite ~20 ms), which is what
makes the first call of a compiled function with a warm cache fast.

The entry point takes tensors as Python objects (ctypes `py_object`): the kernel reads
each ndarray's data pointer from the object (the field after the object header, NumPy's
`PyArrayObject_fields.data`; checked against `ndarray.ctypes.data` once per process), which
costs less per call than ctypes converting pointers or numba's dispatcher unboxing arrays.
ctypes releases the GIL during the call; large launches run in chunks on native threads
(kernels/threads.py).

Every symbol the object needs from outside (libm's `tanhf`...) is listed in the cache entry
(read from the ELF symbol table) and must resolve in this process before the object is
loaded: an unresolved symbol would abort LLVM's linker. Non-ELF platforms call numba's
own cfunc and keep nothing on disk.
"""
from __future__ import annotations

import base64
import ctypes
import re
import struct
import sys
import threading

import numpy as np

__all__ = ["DATA_OFFSET", "abi_key", "build_entry", "load", "NativeLoadError"]

ENTRY = "gpujit_kernel"
# where an ndarray's data pointer sits in its object: right after the object header
DATA_OFFSET = object.__basicsize__
_CTYPES = {"ptr": ctypes.py_object, "i64": ctypes.c_int64, "double": ctypes.c_double,
           "i8": ctypes.c_bool}

_lock = threading.Lock()
_state = {}           # "ll": llvmlite.binding, "tm": the host target machine
_engines = []         # every loaded engine lives as long as the process (kernels may)


class NativeLoadError(RuntimeError):
    """A cached object cannot be loaded in this process (a symbol it needs is missing)."""


def _probe_offset():
    """Whether ndarray objects keep their data pointer at DATA_OFFSET here."""
    for a in (np.zeros(3), np.arange(7, dtype=np.int8)[2:]):
        if ctypes.c_void_p.from_address(id(a) + DATA_OFFSET).value != a.ctypes.data:
            return False
    return True


OFFSET_OK = _probe_offset()


def _llvm():
    """llvmlite.binding, initialised, and the target machine of this host (cached)."""
    if "tm" not in _state:
        with _lock:
            if "tm" not in _state:
                import llvmlite.binding as ll
                ll.initialize_native_target()
                ll.initialize_native_asmprinter()
                target = ll.Target.from_default_triple()
                tm = target.create_target_machine(
                    cpu=ll.get_host_cpu_name(), features=ll.get_host_cpu_features().flatten(),
                    opt=3, reloc="pic", codemodel="default")
                _state["ll"], _state["tm"] = ll, tm
                # before any object (or numba's code: its linker reads the same table)
                # is linked: LLVM's half conversions may call the C runtime's helpers
                _state["helpers_missing"] = resolve_symbols(_HALF_HELPERS)
    return _state["ll"], _state["tm"]


def abi_key() -> str:
    """What an object file depends on besides the kernel's source: llvmlite's LLVM, this
    host's triple, CPU and features, and the object layout the entry point reads."""
    if "key" not in _state:
        import llvmlite
        ll, _ = _llvm()
        _state["key"] = (f"llvmlite {llvmlite.__version__}; {ll.get_default_triple()}; "
                         f"{ll.get_host_cpu_name()}; {ll.get_host_cpu_features().flatten()}; "
                         f"data offset {DATA_OFFSET}; {sys.implementation.cache_tag}")
    return _state["key"]


# ------------------------------------------------------------------ cold: numba -> object

_DEFINE = re.compile(r'^define [^@]*@("?)([^"(\s]+)\1\((.*)\)[^(]*\{$')


def _functions(ir):
    """(name, parameter text, first line, last line) of every function defined in ir."""
    lines = ir.splitlines()
    out, start = [], None
    for k, line in enumerate(lines):
        m = _DEFINE.match(line)
        if m:
            start = (m.group(2), m.group(3), k)
        elif line == "}" and start is not None:
            out.append((*start, k))
            start = None
    return lines, out


def _param_types(params):
    """The LLVM types of a parameter list text (attributes and names dropped)."""
    types, depth, cur = [], 0, ""
    for ch in params + ",":
        if ch == "," and depth == 0:
            types.append(cur.strip().split(" ")[0])
            cur = ""
            continue
        depth += ch in "({[<"
        depth -= ch in ")}]>"
        cur += ch
    return [t for t in types if t]


def _wrapped_ir(ir: str, inner: str):
    """The IR without numba's wrappers, plus `gpujit_kernel` calling `inner`; and the
    C parameter types of the entry point."""
    lines, funcs = _functions(ir)
    drop, params = set(), None
    for name, ptext, a, b in funcs:
        if name.startswith(("cfunc.", "cpython.")):
            drop.update(range(a, b + 1))
        if name == inner:
            params = _param_types(ptext)
    if params is None:
        raise RuntimeError(f"numba's IR has no function {inner}")
    wrapper, c_types = _entry_ir(inner, params)
    kept = [ln for k, ln in enumerate(lines) if k not in drop]
    return "\n".join(kept) + "\n" + wrapper, c_types


def _entry_ir(inner: str, params):
    """The IR text of `gpujit_kernel` calling numba's function `inner` (whose LLVM
    parameter types are `params`), and the entry point's C parameter types."""
    args = params[2:]                 # after numba's (return slot, exception slot)
    c_types = ["i8" if t == "i1" else t for t in args]
    body, call = [], []
    for k, (t, c) in enumerate(zip(args, c_types)):
        if t != c:
            body.append(f"  %b{k} = trunc i8 %a{k} to i1")
            call.append(f"i1 %b{k}")
        else:
            call.append(f"{t} %a{k}")
    wrapper = "\n".join([
        f"define i64 @{ENTRY}({', '.join(f'{c} %a{k}' for k, c in enumerate(c_types))}) {{",
        "  %ret = alloca i64", "  store i64 0, ptr %ret", "  %exc = alloca ptr", *body,
        f'  %st = call i32 @"{inner}"(ptr %ret, ptr %exc{"".join(", " + c for c in call)})',
        "  %v = load i64, ptr %ret", "  ret i64 %v", "}"])
    return wrapper + "\n", c_types


def build_entry(cfunc_obj) -> dict | None:
    """The cache entry (object code, entry point types, undefined symbols) of a compiled
    numba cfunc; None where the object format is not ELF (then call `cfunc_obj.address`)."""
    inner = cfunc_obj.native_name[len("cfunc."):]
    module = getattr(cfunc_obj, "llvm_module", None)
    if module is not None:            # (targets._IRCFunc: optimized, no numba wrapper)
        obj, c_types = _emit_module(module, inner)
    else:
        ir, c_types = _wrapped_ir(cfunc_obj.inspect_llvm(), inner)
        obj = _emit(ir)
    undefined = elf_undefined_symbols(obj)
    if undefined is None:
        return None
    return {"object": base64.b64encode(obj).decode(), "entry": ENTRY, "params": c_types,
            "undefined": undefined}


def elf_undefined_symbols(obj: bytes):
    """Names of the undefined symbols of a 64-bit little-endian ELF object, or None."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + k * shentsize)
                for k in range(shnum)]
    names = []
    for sh in sections:
        if sh[1] != 2:            # SHT_SYMTAB
            continue
        strtab = sections[sh[6]]
        strings = obj[strtab[4]:strtab[4] + strtab[5]]
        for off in range(sh[4], sh[4] + sh[5], sh[9] or 24):
            st_name, _info, _other, shndx = struct.unpack_from("<IBBH", obj, off)
            if shndx == 0 and st_name:
                names.append(strings[st_name:strings.index(b"\0", st_name)].decode())
    return sorted(set(names))


def _whole_elf_undefined(obj: bytes):
    """elf_undefined_symbols(obj) for an ELF relocatable object whose header, section
    table and sections all lie inside obj; None otherwise."""
    if len(obj) < 64 or obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return None
    etype, = struct.unpack_from("<H", obj, 0x10)
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    ehsize, _, _, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHHH", obj, 0x34)
    if etype != 1 or ehsize != 64 or shentsize != 64 or not 0 < shnum <= 65280 \
            or shstrndx >= shnum or shoff + shnum * shentsize > len(obj):
        return None
    for k in range(shnum):
        _, kind, _, _, off, size = struct.unpack_from("<IIQQQQ", obj, shoff + k * 64)
        if kind != 8 and off + size > len(obj):          # (8: SHT_NOBITS, no bytes)
            return None
    return elf_undefined_symbols(obj)


# ------------------------------------------------------------------ warm: object -> call

def _emit(ir: str) -> bytes:
    """LLVM IR text -> an object file for this host."""
    ll, tm = _llvm()
    mod = ll.parse_assembly(ir)
    mod.verify()
    return tm.emit_object(mod)


def _emit_module(module, inner: str):
    """(object file, entry point's C parameter types) of llvmlite module `module` (which
    defines numba's function `inner` and no wrapper of it) with `gpujit_kernel` linked in:
    the object _emit makes of the same IR as text (_wrapped_ir), without printing the
    module and parsing it again."""
    ll, tm = _llvm()
    params = [str(a.type) for a in module.get_function(inner).arguments]
    wrapper, c_types = _entry_ir(inner, params)
    decl = f'declare i32 @"{inner}"({", ".join(params)})\n'
    entry = ll.parse_assembly(decl + wrapper)
    entry.triple, entry.data_layout = module.triple, module.data_layout
    module.link_in(entry)
    module.verify()
    return tm.emit_object(module), c_types


def _link(obj: bytes, *names: str) -> list:
    """The addresses of functions `names` of object `obj`, loaded into an engine of its
    own (kernels' objects may define the same helper names); call with _lock held."""
    ll, tm = _llvm()
    engine = ll.create_mcjit_compiler(ll.parse_assembly(""), tm)
    engine.add_object_file(ll.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    _engines.append(engine)
    # never freed, not even at interpreter exit: native pool threads may still be in it
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(engine))
    return [engine.get_function_address(name) for name in names]


def _libraries():
    """The C libraries whose functions objects may call: this process's global symbols
    (libc, pthreads), the C math library and the compiler's runtime library (libgcc_s:
    the half-precision conversions LLVM calls, _HALF_HELPERS)."""
    if "libs" not in _state:
        libs = [ctypes.CDLL(None)]
        for names in (("libm.so.6", "libm.dylib", "msvcrt"), ("libgcc_s.so.1",)):
            for name in names:
                try:
                    libs.append(ctypes.CDLL(name))
                    break
                except OSError:
                    continue
        _state["libs"] = libs
    return _state["libs"]


# The functions LLVM lowers a conversion between half and float/double to where the CPU
# has no instruction for it (double -> half always on x86, which has none; float <-> half
# without F16C): libgcc's (GCC 12+) and compiler-rt's, not in the process's global symbols
# (libgcc_s is loaded, but not with RTLD_GLOBAL). They are registered with LLVM's symbol
# table when llvmlite is first initialised here (kernels/targets.py initialises it before
# numba compiles a CPU kernel): an unresolved symbol aborts the process in LLVM's linker
# ("LLVM ERROR: Symbol not found: __truncdfhf2"), numba's included.
_HALF_HELPERS = ("__truncdfhf2", "__truncsfhf2", "__extendhfsf2", "__extendhfdf2")


# NumPy's own inner loops (kernels/emit.py's staged loops call them on chunks of elements):
# the symbol `gpujit_np_<ufunc>_<f32|f64>` names the loop the ufunc runs on float32 /
# float64 operands, read from the ufunc object at load time, so that an object calling it
# stays independent of the process (NumPy's extension module exports no such symbol)
NUMPY_LOOP_PREFIX = "gpujit_np_"
_NUMPY_LOOP = re.compile(NUMPY_LOOP_PREFIX + r"([a-z0-9]+)_(f32|f64)$")
# PyUFuncObject (NumPy's ufuncobject.h): after the object header int nin, nout, nargs,
# identity; then PyUFuncGenericFunction *functions, void **data, int ntypes
_UFUNC_INTS, _UFUNC_FUNCTIONS, _UFUNC_DATA, _UFUNC_NTYPES = (
    DATA_OFFSET, DATA_OFFSET + 16, DATA_OFFSET + 24, DATA_OFFSET + 32)


def numpy_loop(symbol: str):
    """The address of the NumPy inner loop `symbol` names (NUMPY_LOOP_PREFIX + ufunc name +
    `_f32` / `_f64`): the loop of the ufunc's first float32 / float64 type signature, the
    one NumPy's type resolution picks for arrays of that dtype, a C function `void(char
    **args, npy_intp const *dims, npy_intp const *steps, void *data)` whose data is NULL.
    None where the ufunc is unknown, has no such loop, or its object is not laid out as
    read here."""
    m = _NUMPY_LOOP.match(symbol)
    uf = getattr(np, m.group(1), None) if m else None
    if not isinstance(uf, np.ufunc) or uf.nout != 1:
        return None
    c = "f" if m.group(2) == "f32" else "d"
    sig = c * uf.nin + "->" + c
    base = id(uf)
    nin, nout, nargs = (ctypes.c_int.from_address(base + _UFUNC_INTS + 4 * k).value
                        for k in range(3))
    ntypes = ctypes.c_int.from_address(base + _UFUNC_NTYPES).value
    if sig not in uf.types or (nin, nout, nargs, ntypes) != (uf.nin, 1, uf.nin + 1,
                                                              len(uf.types)):
        return None
    k = uf.types.index(sig)
    functions = ctypes.c_void_p.from_address(base + _UFUNC_FUNCTIONS).value
    data = ctypes.c_void_p.from_address(base + _UFUNC_DATA).value
    if not functions or (data and ctypes.c_void_p.from_address(data + 8 * k).value):
        return None
    return ctypes.c_void_p.from_address(functions + 8 * k).value


# numba's helper-library functions that only call the C99 function of the same name
_NUMBA_C99 = {"numba_nextafter": "nextafter", "numba_nextafterf": "nextafterf"}


def resolve_symbols(names):
    """Make LLVM's linker find each external function in `names` (libm's `sinf`...);
    the names it still cannot find. numba's code calls a few C99 functions through its
    helper library (`numba_nextafterf` just calls `nextafterf`): those resolve to the C
    library's own, so a warm process never needs numba."""
    ll, _ = _llvm()
    missing = []
    for name in names:
        if ll.address_of_symbol(name):
            continue
        address, c_name = None, _NUMBA_C99.get(name, name)
        if name.startswith(NUMPY_LOOP_PREFIX):
            address = numpy_loop(name)
        for lib in _libraries():
            try:
                address = address or ctypes.cast(getattr(lib, c_name), ctypes.c_void_p).value
            except AttributeError:
                pass
        if address:
            ll.add_symbol(name, address)
        else:
            missing.append(name)
    return missing


def function_type(params):
    return ctypes.CFUNCTYPE(ctypes.c_int64, *(_CTYPES[t] for t in params))


def kernel_function(params, address):
    """The ctypes function of a kernel entry point at `address`; its `params` and
    `address` let kernels/threads.py call it from native worker threads."""
    fn = function_type(params)(address)
    fn.params, fn.address = tuple(params), address
    return fn


def load_ir(ir: str, functions: dict) -> list:
    """Compile LLVM IR of gpujit's own (calling nothing but the C library) and load it;
    per name of `functions`, a ctypes function of (restype, *argtypes), or the bare
    address where the value is None. The object is kept in the disk cache (the thread
    pool's costs ~15 ms to compile, a process's first large launch would pay it)."""
    from . import cache as _cache
    path = (_cache.cache_dir() / "cpu" /
            f"native-{_cache.sha256(chr(10).join([ir, abi_key()]))[:40]}.json")
    entry = _cache.read_verified_json(path)
    try:
        obj = base64.b64decode(entry["object"], validate=True)
        # (what is not a whole ELF object would crash LLVM's loader: see load)
        if _whole_elf_undefined(obj) is None:
            raise ValueError("not a whole ELF object")
    except (TypeError, KeyError, ValueError, IndexError, struct.error):
        obj = None
    with _lock:
        addresses = _link(obj, *functions) if obj is not None else [0]
        if not all(addresses):        # (an object without these functions: built afresh)
            obj = _emit(ir)
            _cache.write_verified_json(path, {"object": base64.b64encode(obj).decode()})
            addresses = _link(obj, *functions)
    return [a if sig is None else ctypes.CFUNCTYPE(*sig)(a)
            for a, sig in zip(addresses, functions.values())]


def load(entry: dict):
    """The ctypes function of a cache entry, loaded with llvmlite's MCJIT."""
    if not OFFSET_OK:
        raise NativeLoadError("ndarray objects do not keep their data pointer where "
                              "gpujit's CPU kernels read it")
    try:
        obj = base64.b64decode(entry["object"], validate=True)
        params = [str(t) for t in entry["params"]]
        function_type(params)
        # LLVM's loader crashes the process on what is not a whole ELF object (an empty
        # or cut object in an entry whose checksum still matches): read its headers and
        # symbols here first (those it names itself are needed too, listed or not)
        undefined = _whole_elf_undefined(obj)
        if undefined is None:
            raise ValueError("the object is not a whole 64-bit little-endian ELF object")
        missing = resolve_symbols(sorted(set(undefined) | {str(n) for n in entry["undefined"]}))
    except (ValueError, KeyError, TypeError, IndexError, struct.error) as e:
        raise NativeLoadError(f"a malformed cache entry: {e!r}") from e
    if missing:
        raise NativeLoadError(f"symbols not found in this process: {missing}")
    with _lock:
        address, = _link(obj, entry["entry"])
    if not address:
        raise NativeLoadError(f"the object has no function {entry['entry']}")
    return kernel_function(params, address)
