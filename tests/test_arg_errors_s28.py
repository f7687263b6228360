"""PyTorch 2.13's argument-parser TypeErrors for calls no overload takes (ops/parser_errors.py):
Python signatures made from the schemas ("tuple of ints dim", "Number", "torch.dtype",
"input" for self, defaults as torch prints them, out= where torch lists it), the codegen's
order of overloads, the "didn't match because ..." lines with torch's !markers!, the one
plausible signature's own error, and the sizes of x.new_zeros / x.resize_. Every expected
text was produced by torch 2.13 (without a terminal); these tests run without torch."""
import pytest

import gpujit as torch


def _msg(fn):
    with pytest.raises(TypeError) as e:
        fn()
    return str(e.value)


_SUM = ("sum() received an invalid combination of arguments - got (Tensor, dim=str), but "
        "expected one of:\n"
        " * (Tensor input, *, torch.dtype dtype = None)\n"
        " * (Tensor input, tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, "
        "Tensor out = None)\n")

_MAX_METHOD = ("max() received an invalid combination of arguments - got (str), but expected "
               "one of:\n"
               " * ()\n"
               "      didn't match because some of the arguments have invalid types: (!str!)\n"
               " * (Tensor other)\n"
               "      didn't match because some of the arguments have invalid types: (!str!)\n"
               " * (int dim, bool keepdim = False)\n")

_MAX_FN = ("min() received an invalid combination of arguments - got (Tensor, float), but "
           "expected one of:\n"
           " * (Tensor input, *, Tensor out = None)\n"
           " * (Tensor input, Tensor other, *, Tensor out = None)\n"
           " * (Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)\n")

_MOVEDIM = ("movedim() received an invalid combination of arguments - got (Tensor, str, int), "
            "but expected one of:\n"
            " * (Tensor input, int source, int destination)\n"
            "      didn't match because some of the arguments have invalid types: "
            "(Tensor, !str!, int)\n"
            " * (Tensor input, tuple of ints source, tuple of ints destination)\n"
            "      didn't match because some of the arguments have invalid types: "
            "(Tensor, !str!, !int!)\n")

_VIEW = ("view() received an invalid combination of arguments - got (str), but expected one "
         "of:\n"
         " * (torch.dtype dtype)\n"
         "      didn't match because some of the arguments have invalid types: (!str!)\n"
         " * (tuple of ints size)\n"
         "      didn't match because some of the arguments have invalid types: (!str!)\n")

_CLAMP = ("clamp() received an invalid combination of arguments - got (Tensor, str), but "
          "expected one of:\n"
          " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
          " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n")

_CLAMP_KW = ("clamp() received an invalid combination of arguments - got (max=str, min=str, ), "
             "but expected one of:\n"
             " * (Tensor min = None, Tensor max = None)\n"
             "      didn't match because some of the keywords were incorrect: max, min\n"
             " * (Number min = None, Number max = None)\n"
             "      didn't match because some of the keywords were incorrect: max, min\n")

_STD = ("std() received an invalid combination of arguments - got (Tensor, str), but expected "
        "one of:\n"
        " * (Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False, *, "
        "Tensor out = None)\n"
        " * (Tensor input, tuple of ints dim = None, *, Number correction = None, bool keepdim "
        "= False, Tensor out = None)\n"
        " * (Tensor input, bool unbiased = True)\n"
        "      didn't match because some of the arguments have invalid types: (Tensor, !str!)\n")

_VAR_KW = ("var() received an invalid combination of arguments - got (correction=str, dim=str, "
           "), but expected one of:\n"
           " * (tuple of ints dim, bool unbiased = True, bool keepdim = False)\n"
           " * (tuple of ints dim = None, *, Number correction = None, bool keepdim = False)\n"
           " * (bool unbiased = True)\n")

_SORT = ("sort() received an invalid combination of arguments - got (str), but expected one "
         "of:\n"
         " * (*, bool stable, int dim = -1, bool descending = False)\n"
         " * (int dim = -1, bool descending = False)\n")

_SCATTER = ("scatter() received an invalid combination of arguments - got (int, str, int), but "
            "expected one of:\n"
            " * (int dim, Tensor index, Tensor src)\n"
            "      didn't match because some of the arguments have invalid types: "
            "(int, !str!, !int!)\n"
            " * (int dim, Tensor index, Tensor src, *, str reduce)\n"
            " * (int dim, Tensor index, Number value)\n"
            "      didn't match because some of the arguments have invalid types: "
            "(int, !str!, !int!)\n"
            " * (int dim, Tensor index, Number value, *, str reduce)\n")

_MATRIX_NORM = ("linalg_matrix_norm() received an invalid combination of arguments - got "
                "(Tensor, str, float), but expected one of:\n"
                " * (Tensor input, Number ord, tuple of ints dim = {-2,-1}, bool keepdim = "
                "False, *, torch.dtype dtype = None, Tensor out = None)\n"
                " * (Tensor input, str ord = \"fro\", tuple of ints dim = {-2,-1}, bool keepdim "
                "= False, *, torch.dtype dtype = None, Tensor out = None)\n")

_MEAN = ("mean() received an invalid combination of arguments - got (float), but expected one "
         "of:\n"
         " * (*, torch.dtype dtype = None)\n"
         " * (tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None)\n")

_COUNT_NONZERO = ("count_nonzero() received an invalid combination of arguments - got (Tensor, "
                  "int, out=Tensor), but expected one of:\n"
                  " * (Tensor input, int dim = None)\n"
                  " * (Tensor input, tuple of ints dim)\n")


@pytest.mark.parametrize("fn, msg", [
    (lambda x: torch.sum(x, dim="a"), _SUM),
    (lambda x: x.sum(dim=0.5), _SUM.replace("(Tensor, dim=str)", "(dim=float, )")
     .replace("Tensor input, *, ", "*, ").replace("Tensor input, ", "")
     .replace(", Tensor out = None", "")),
    (lambda x: x.max("a"), _MAX_METHOD),
    (lambda x: torch.min(x, 0.5), _MAX_FN),
    (lambda x: torch.movedim(x, "a", 1), _MOVEDIM),
    (lambda x: x.view("a"), _VIEW),
    (lambda x: torch.clamp(x, "a"), _CLAMP),
    (lambda x: x.clamp(min="a", max="b"), _CLAMP_KW),
    (lambda x: torch.std(x, "a"), _STD),
    (lambda x: torch.var(x, "a"), _STD.replace("std()", "var()")),
    (lambda x: x.var(dim="a", correction="b"), _VAR_KW),
    (lambda x: x.sort("a"), _SORT),
    (lambda x: x.scatter(0, "a", 1), _SCATTER),
    (lambda x: torch.linalg.matrix_norm(x.reshape(1, 3), "a", 0.5), _MATRIX_NORM),
    (lambda x: x.mean(0.5), _MEAN),
    (lambda x: torch.count_nonzero(x, 0, out=torch.ones(())), _COUNT_NONZERO),
])
def test_invalid_combination(fn, msg):
    assert _msg(lambda: fn(torch.ones(3))) == msg


@pytest.mark.parametrize("fn, msg", [
    # one signature fits the argument count: its own error, in parameter order
    (lambda x: x.sum((0, "a")),
     "sum(): argument 'dim' failed to unpack the object at pos 2 with error \"type must be "
     "tuple of ints,but got str\""),
    (lambda x: torch.sum(x, 0, "a"), "sum(): argument 'keepdim' (position 3) must be bool, not str"),
    (lambda x: x.sort(dim=0, stable=1, descending="a"),
     "sort(): argument 'stable' must be bool, not int"),
    (lambda x: torch.sum(x, dim=0, foo=1), "sum() got an unexpected keyword argument 'foo'"),
    (lambda x: x.mean(0, dim=0), "mean() got multiple values for argument 'dim'"),
    (lambda x: torch.median(x, out=torch.ones(())),
     'median() missing 1 required positional arguments: "dim"'),
])
def test_plausible_signature_error(fn, msg):
    assert _msg(lambda: fn(torch.ones(3))) == msg


def test_out_where_torch_lists_none():
    x, o = torch.ones(3), torch.ones(())
    for f in (torch.sum, torch.prod):
        assert _msg(lambda: f(x, out=o)).startswith(
            f"{f.__name__}() received an invalid combination of arguments - got "
            "(Tensor, out=Tensor), but expected one of:\n * (Tensor input, *, torch.dtype "
            "dtype = None)\n")
    assert "got (Tensor, bool, out=Tensor)" in _msg(lambda: torch.std(x, True, out=o))
    torch.sum(x, 0, out=o)              # the dim overloads keep their out=
    torch.var(x, out=o)
    assert float(o) == 0.0


@pytest.mark.parametrize("fn, msg", [
    (lambda x: x.new_ones(), 'new_ones() missing 1 required positional arguments: "size"'),
    (lambda x: x.new_zeros(2.0, 3), "new_zeros() takes 1 positional argument but 2 were given"),
    (lambda x: x.new_empty(2, 3.5),
     "new_empty(): argument 'size' failed to unpack the object at pos 2 with error \"type must "
     "be tuple of ints,but got float\""),
    (lambda x: x.new_zeros((2, "a")),
     "new_zeros(): argument 'size' failed to unpack the object at pos 2 with error \"type must "
     "be tuple of ints,but got str\""),
    (lambda x: x.new_zeros([2.5]),
     "new_zeros(): argument 'size' (position 1) must be tuple of ints, but found element of "
     "type float at pos 0"),
    (lambda x: x.new_zeros("a"), "new_zeros(): argument 'size' (position 1) must be tuple of "
     "ints, not str"),
    (lambda x: x.resize_(2.0), "resize_(): argument 'size' (position 1) must be tuple of ints, "
     "not float"),
    (lambda x: x.resize_(), 'resize_() missing 1 required positional arguments: "size"'),
    (lambda x: x.resize_((2.0,)), "resize_(): argument 'size' (position 1) must be tuple of "
     "ints, but found element of type float at pos 0"),
    (lambda x: x.reshape(3, 1).split(1, 1, 1),
     "Tensor.split() takes from 2 to 3 positional arguments but 4 were given"),
])
def test_method_sizes(fn, msg):
    assert _msg(lambda: fn(torch.ones(3))) == msg


def test_sizes_still_taken():
    x = torch.ones(3)
    assert x.new_zeros(2, 3).shape == (2, 3)
    assert x.new_ones((2,)).shape == (2,)
    assert x.new_empty([]).shape == ()
    assert x.new_ones(torch.tensor(2), 1).shape == (2, 1)
    assert x.clone().resize_(1, 3).shape == (1, 3)
    assert x.clone().resize_([3]).shape == (3,)


@pytest.mark.parametrize("fn, msg", [
    (lambda: torch.zeros("a"), "zeros(): argument 'size' (position 1) must be tuple of ints, not str"),
    (lambda: torch.zeros(2, "a"), "zeros(): argument 'size' failed to unpack the object at pos 2 "
     "with error \"type must be tuple of ints,but got str\""),
    (lambda: torch.zeros(2.0, 3), "zeros() takes 1 positional argument but 2 were given"),
    (lambda: torch.zeros([2.5]), "zeros(): argument 'size' (position 1) must be tuple of ints, "
     "but found element of type float at pos 0"),
    (lambda: torch.ones((2, "a")), "ones(): argument 'size' failed to unpack the object at pos 2 "
     "with error \"type must be tuple of ints,but got str\""),
    (lambda: torch.empty("a"), "empty(): argument 'size' (position 1) must be tuple of ints, not str"),
    (lambda: torch.full("a", 1), "full(): argument 'size' (position 1) must be tuple of ints, not str"),
])
def test_factory_sizes(fn, msg):
    assert _msg(fn) == msg
