"""A function test_jit_script_port_s26.py's decorated function calls from another module
(PyTorch's test/jit/myfunction_b.py)."""


def my_function_b(x: float) -> float:
    return my_function_c(x) + 2


def my_function_c(x: float) -> float:
    return x + 3
