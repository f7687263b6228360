"""PyTorch's test/jit/mydecorator.py and myfunction_a.py (test_decorator.py): a decorator
that removes itself when scripted (__prepare_scriptable__), on a function calling one of
another module; names resolve in the module each function is defined in."""
import functools

from decorator_port_helpers_b import my_function_b


def my_decorator(func):
    """Dummy decorator that removes itself when scripting."""
    @functools.wraps(func)
    def wrapped_func(*args, **kwargs):
        return func(*args, **kwargs)

    # torch.jit.script() uses __prepare_scriptable__ to remove the decorator
    wrapped_func.__prepare_scriptable__ = lambda: func
    return wrapped_func


@my_decorator
def my_function_a(x: float) -> float:
    return my_function_b(x) + 1
