"""Per-call cost of eager ops (session 29): the generated entry points take the fast types
first (a Python number's class in one set, an int list of Python ints in one loop, a
tensor on the op's device as its array) and leave every other value to a slow path that
keeps PyTorch's conversions and errors. The gate counts the Python frames a call enters
(sys.setprofile: deterministic, no timing); the rest checks that the slow paths still
do what session 28 made them do (values checked against torch 2.13)."""
import sys

import numpy as np
import pytest

import gpujit as torch
from gpujit.ops import registry


def frames(f):
    """The Python functions a call of f enters (f itself excluded), with no autograd hook
    (installed for good once a tensor of the process required grad: an earlier test's)."""
    # (an earlier test's Tensor subclass with a __torch_function__ keeps the overrides
    # layer on until collected: a class sits in a reference cycle, so only gc frees it)
    import gc
    gc.collect()
    st = registry.dispatch_state
    saved = st.autograd
    st.autograd = None
    st.refresh()
    try:
        assert st.hook is None
        f()
        f()
        names = []

        def prof(frame, event, arg):
            if event == "call":
                names.append(frame.f_code.co_name)
        sys.setprofile(prof)
        try:
            f()
        finally:
            sys.setprofile(None)
    finally:
        st.autograd = saved
        st.refresh()
    return names[1:]


X = torch.randn(100)
Y = torch.randn(100)
M = torch.randn(10, 10)


def _sum_kernel_loaded():
    """float sums run ATen's order in numba once it is loaded (reduction_cascade; NumPy
    blocks before): the gate measures that steady state."""
    from gpujit.ops import reduction_cascade as rc
    rc._kernel(0)
    rc._KERNEL[0].load()


@pytest.mark.parametrize("expr, most", [
    ("X + 1", 2), ("X.add(Y)", 2), ("X * Y", 2), ("X.mul(2.0)", 2), ("torch.add(X, Y)", 3),
    ("~(X > 0)", 4), ("X.unsqueeze(0)", 5), ("M.permute(1, 0)", 5), ("X.view(10, 10)", 5),
    # sum / mean: + cascade_sum (PyTorch's order, one cached lookup) and the numba call
    # of its loops, which numba reports to a profiler as a frame of its own
    ("X.sum(0)", 10), ("M.mean(1)", 12), ("torch.cat([X, Y])", 12),
])
def test_python_frames_per_call(expr, most):
    if "sum" in expr or "mean" in expr:
        _sum_kernel_loaded()
    f = eval("lambda: " + expr)
    names = frames(f)
    assert len(names) <= most, names
    # no generator / comprehension frames and no helper that only wraps another
    assert not {"<genexpr>", "<listcomp>", "wrap", "shares_memory", "unwrap_for",
                "_join_device", "scalar_kind", "tensor_int_list"} & set(names), names


def test_numbers_for_number_parameters_still_convert():
    x = torch.tensor([1.0, 2.0])
    y = torch.tensor([10.0, 20.0])
    # a NumPy scalar for a Scalar: its Python number (x0 == np.float64(0.1) in float32)
    assert x.add(y, alpha=np.float64(2)).tolist() == [21.0, 42.0]
    assert (x + np.float32(0.5)).dtype == torch.float32
    assert (torch.tensor([0.1], dtype=torch.float32) == np.float64(0.1)).tolist() == [True]
    # a 0-dim Tensor for a Scalar / an int
    assert x.add(y, alpha=torch.tensor(3)).tolist() == [31.0, 62.0]
    assert torch.ones(2, 3).sum(torch.tensor(1)).tolist() == [3.0, 3.0]
    assert x.add(y, alpha=np.int64(2)).tolist() == [21.0, 42.0]
    with pytest.raises(TypeError, match=r"must be Number, not Tensor"):
        x.add(y, alpha=torch.ones(2))
    with pytest.raises(TypeError, match=r"must be int, not Tensor"):
        torch.ones(2, 3).unsqueeze(torch.tensor(0.5))


def test_python_number_kinds_follow_the_default_dtype():
    i = torch.tensor([1, 2])
    assert (i + 1).dtype == torch.int64
    assert (i + 1.5).dtype == torch.float32
    assert (i + True).dtype == torch.int64
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert (i + 1.5).dtype == torch.float64
        assert (torch.ones(2, dtype=torch.float32) + 1.5).dtype == torch.float32
    finally:
        torch.set_default_dtype(old)
    assert (torch.tensor([200], dtype=torch.uint8) + 100).tolist() == [44]     # (wraps)


def test_int_lists_with_other_values_take_the_slow_path():
    x = torch.arange(12.0)
    assert x.view(3, 4).shape == (3, 4)
    assert x.view([3, torch.tensor(4)]).shape == (3, 4)
    assert x.view(np.int64(3), 4).shape == (3, 4)
    assert x.view((2, -1)).shape == (2, 6)
    assert x.view(torch.Size([4, 3])).shape == (4, 3)
    assert x.reshape(-1, 6).shape == (2, 6)
    m = torch.ones(2, 3)
    assert m.sum((0,)).tolist() == [2.0, 2.0, 2.0]
    assert m.sum([torch.tensor(1)]).tolist() == [3.0, 3.0]
    assert m.sum(-1).tolist() == [3.0, 3.0]
    assert torch.ones(2, 3, 4).permute(-1, 0, 1).shape == (4, 2, 3)
    with pytest.raises(TypeError, match=r"failed to unpack the object at pos 2 with error "
                                        r"\"type must be tuple of ints,but got float\""):
        x.view(2, 3.0)


def test_view_size_errors_keep_their_order():
    x = torch.arange(12.0)
    # (ATen's infer_size: the first bad dim in order raises)
    with pytest.raises(RuntimeError, match=r"^invalid shape dimension -2 at index 0 of shape "
                                           r"\[-2, -1, -1\]$"):
        x.view(-2, -1, -1)
    with pytest.raises(RuntimeError, match=r"^only one dimension can be inferred$"):
        x.reshape(3, -1, -1)
    with pytest.raises(RuntimeError, match=r"^invalid shape dimension -3 at index 1 of shape "
                                           r"\[4, -3\]$"):
        x.reshape(4, -3)
    with pytest.raises(RuntimeError, match=r"shape '\[5, -1\]' is invalid for input of "
                                           r"size 12"):
        x.view(5, -1)
    with pytest.raises(RuntimeError, match=r"shape '\[5, 2\]' is invalid for input of "
                                           r"size 12"):
        x.view(5, 2)


def test_dims_out_of_range_and_duplicates():
    m = torch.ones(2, 3)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-2, 1\], but got 2\)"):
        m.sum(2)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        m.sum((0, -2))
    with pytest.raises(RuntimeError, match="duplicate dims are not allowed"):
        m.permute(0, -2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        m.permute(0, 2)
    assert torch.tensor(5.0).sum(0).item() == 5.0
    assert torch.tensor(5.0).sum(-1).item() == 5.0


def test_expand_and_transpose():
    x = torch.tensor([[1.0], [2.0]])
    e = x.expand(3, 2, 4)
    assert e.shape == (3, 2, 4) and e.stride() == (0, 1, 0)
    assert x.expand(-1, 3).tolist() == [[1.0] * 3, [2.0] * 3]
    with pytest.raises(RuntimeError, match=r"^expand\(torch.FloatTensor\{\[2, 1\]\}, "
                                           r"size=\[2\]\): the number of sizes provided \(1\) "
                                           r"must be greater or equal to the number of "
                                           r"dimensions in the tensor \(2\)$"):
        x.expand(2)
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(3\) must "
                                           r"match the existing size \(2\) at non-singleton "
                                           r"dimension 0"):
        x.expand(3, 1)
    m = torch.arange(6.0).view(2, 3)
    t = m.transpose(0, 1)
    assert t.shape == (3, 2) and t.stride() == (1, 3)
    assert t._version == m._version
    m.add_(1)
    assert t._version == m._version and t[0, 1].item() == 4.0


def test_views_share_the_version_counter_and_copies_do_not():
    x = torch.arange(6.0)
    v = x.view(2, 3)
    u = x.unsqueeze(0)
    r = x.view(2, 3).t().reshape(6)          # (a copy: no view fits)
    x.add_(1)
    assert v._version == u._version == x._version == 1
    assert r._version == 0
    e = torch.ones(0).view(0, 1)              # (empty: still a view)
    assert e._version == 0


def test_invert():
    assert (~torch.tensor([True, False])).tolist() == [False, True]
    assert (~torch.tensor([1, -2])).tolist() == [-2, 1]
    with pytest.raises(TypeError, match=r"^~ \(operator.invert\) is only implemented on "
                                        r"integer and Boolean-type tensors$"):
        ~torch.ones(2)
    with pytest.raises(NotImplementedError, match="\"bitwise_not_cpu\" not implemented for "
                                                  "'Float'"):
        torch.ones(2).bitwise_not()


def test_cat_arguments():
    x = torch.ones(2)
    assert torch.cat([x, torch.zeros(1)]).tolist() == [1.0, 1.0, 0.0]
    assert torch.cat((x, torch.zeros(2, dtype=torch.int64))).dtype == torch.float32
    with pytest.raises(TypeError, match=r"cat\(\): argument 'tensors' \(position 1\) must be "
                                        r"tuple of Tensors, not int"):
        torch.cat(1)
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but "
                                        "got int"):
        torch.cat([x, 1])
    with pytest.raises(TypeError, match="expected Tensor as element 0 in argument 0, but "
                                        "got NoneType"):
        x.index_put((None, torch.tensor([0])), torch.tensor(1.0))
    t = x.t().unsqueeze(1).expand(2, 3).t()   # (a transposed input: C-contiguous result)
    c = torch.cat([t, t])
    assert c.is_contiguous() and c.shape == (6, 2)


def test_numpy_keyword_names_and_operator_extras_still_work():
    x = torch.ones(2, 3)
    assert x.sum(axis=0).tolist() == [2.0, 2.0, 2.0]
    assert x.unsqueeze(axis=0).shape == (1, 2, 3)
    assert x.add(x2=x).tolist() == [[2.0] * 3] * 2
    with pytest.raises(TypeError, match=r"^unsqueeze\(\) takes 1 positional argument but 2 "
                                        r"were given$"):
        x.unsqueeze(0, 1)
    with pytest.raises(TypeError, match=r"^unsqueeze\(\) missing 1 required positional "
                                        r"arguments: \"dim\"$"):
        x.unsqueeze()
    assert x.__add__(foo=1) is NotImplemented
    assert x.__mul__(2, foo=3) is NotImplemented


def test_int_list_elements_past_the_first_fail_to_unpack():
    x = torch.ones(2, 3)
    unpack = ("{}(): argument '{}' failed to unpack the object at pos 2 with error \"type "
              "must be tuple of ints,but got {}\"")
    for fn, name, arg, what in [
            (lambda: x.view([3, torch.tensor(2.0)]), "view", "size", "Tensor"),
            (lambda: x.view([3, 2.0]), "view", "size", "float"),
            (lambda: x.permute([0, torch.tensor(1.0)]), "permute", "dims", "Tensor"),
            (lambda: torch.zeros([2, torch.tensor(1.0)]), "zeros", "size", "Tensor")]:
        with pytest.raises(TypeError) as e:
            fn()
        assert str(e.value) == unpack.format(name, arg, what)
    with pytest.raises(TypeError, match=r"^zeros\(\): argument 'size' \(position 1\) must be "
                                        r"tuple of ints, but found element of type float at "
                                        r"pos 0$"):
        torch.zeros([2.5, 3])
