"""PyTorch's short dtype names (ScalarType's toString: "Bool", "Byte", "Half"...) as its
kernels name a dtype in their errors ("... not implemented for 'Bool'", "expected scalar
type Float but found Bool"): compiled from source where scripted code calls it."""
import gpujit as _gpujit

__all__ = ["short_dtype_name", "c_type_name"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


@_from_source
def short_dtype_name(dtype: _gpujit.dtype) -> str:
    """PyTorch's short name of a dtype in kernel errors."""
    if dtype == _gpujit.bool:
        return "Bool"
    if dtype == _gpujit.uint8:
        return "Byte"
    if dtype == _gpujit.int8:
        return "Char"
    if dtype == _gpujit.int16:
        return "Short"
    if dtype == _gpujit.int32:
        return "Int"
    if dtype == _gpujit.int64:
        return "Long"
    if dtype == _gpujit.float16:
        return "Half"
    if dtype == _gpujit.float64:
        return "Double"
    if dtype == _gpujit.bfloat16:
        return "BFloat16"
    return "Float"


@_from_source
def c_type_name(dtype: _gpujit.dtype) -> str:
    """The C++ type's name (as gcc's typeid prints it) ATen's warnings give a dtype."""
    if dtype == _gpujit.float16:
        return "c10::Half"
    if dtype == _gpujit.bfloat16:
        return "c10::BFloat16"
    if dtype == _gpujit.float64:
        return "double"
    if dtype == _gpujit.int64:
        return "long int"
    if dtype == _gpujit.int32:
        return "int"
    if dtype == _gpujit.int16:
        return "short int"
    if dtype == _gpujit.int8:
        return "signed char"
    if dtype == _gpujit.uint8:
        return "unsigned char"
    if dtype == _gpujit.bool:
        return "bool"
    return "float"
