"""`gpujit.jit.save` / `gpujit.jit.load`: scripted and traced modules and functions as a
zip archive that a fresh process loads without the user's Python classes.

The archive holds only text and arrays:

    <name>/version                 the format version ("1")
    <name>/manifest.json           the module tree: class names, methods, attribute types
                                   (IR type text), constants and plain attribute values
                                   (tagged JSON), parameters/buffers (which .npy holds each),
                                   the SHA-256 of every other entry
    <name>/code/<path>.py          the `.code` of every method (and called function)
    <name>/data/<k>.npy            tensors, saved with allow_pickle=False
    <name>/extra/<file>            the caller's _extra_files

`load` never unpickles and never runs Python from the archive: each code file is parsed
(only `def` statements are accepted), its functions are made from the compiled code objects
without being called, and gpujit's script frontend compiles them into graphs, with the
module rebuilt from the manifest (a generated nn.Module class per module, named as the
original class). A truncated, tampered or wrong-version archive raises ArchiveError.
"""
from .archive import ArchiveError, FORMAT_VERSION
from .writer import save, unsaveable_reason
from .reader import load
from .pickled import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals, \
    get_default_mmap_options, set_default_mmap_options
# torch.serialization's names (torch.save / torch.load's module): storage locations, the
# load's byte order fallback, skip_data
from .pickled import (location_tag, default_restore_location, register_package,  # noqa: F401
                      normalize_storage_type, validate_cuda_device, LoadEndianness,
                      get_default_load_endianness, set_default_load_endianness, skip_data,
                      DEFAULT_PROTOCOL, SourceChangeWarning, StorageType,
                      check_module_version_greater_or_equal, mkdtemp)

__all__ = ["save", "load", "ArchiveError", "FORMAT_VERSION", "unsaveable_reason",
           "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals",
           "get_default_mmap_options", "set_default_mmap_options", "location_tag",
           "default_restore_location", "register_package", "normalize_storage_type",
           "LoadEndianness", "get_default_load_endianness", "set_default_load_endianness",
           "skip_data", "DEFAULT_PROTOCOL", "SourceChangeWarning", "StorageType",
           "check_module_version_greater_or_equal", "mkdtemp", "validate_cuda_device"]
