"""PyTorch's Python argument parser's other names for parameters (ops/numpy_aliases.py):
NumPy's axis= / keepdims= / x= a= x1= / x2= and a function's input=, accepted where torch
2.13 accepts them, refused with its words where it does not. Expected values are NumPy's;
messages were checked against torch 2.13."""
import numpy as np
import pytest

import gpujit as torch


def _x():
    return torch.tensor([[1., 2.], [3., 4.]])


A = np.array([[1., 2.], [3., 4.]], np.float32)


@pytest.mark.parametrize("call,expected", [
    (lambda x: x.sum(axis=0), A.sum(0)),
    (lambda x: x.mean(axis=1, keepdims=True), A.mean(1, keepdims=True)),
    (lambda x: torch.sum(a=x), A.sum()),
    (lambda x: torch.sum(input=x), A.sum()),
    (lambda x: torch.sum(input=x, dim=0), A.sum(0)),
    (lambda x: torch.sum(a=x, axis=1), A.sum(1)),
    (lambda x: torch.mean(x, axis=(0, 1)), A.mean()),
    (lambda x: torch.add(x1=x, x2=x), A + A),
    (lambda x: torch.add(x, x2=x), A + A),
    (lambda x: torch.add(x=x, other=x), A + A),
    (lambda x: x.add(x2=x, alpha=2), A + 2 * A),
    (lambda x: x.mul(x2=2), A * 2),
    (lambda x: x.amax(axis=0), A.max(0)),
    (lambda x: x.amin(axis=(0, 1), keepdims=True), A.min(keepdims=True)),
    (lambda x: x.cumsum(axis=0), A.cumsum(0)),
    (lambda x: torch.cumsum(a=x, axis=0), A.cumsum(0)),
    (lambda x: x.std(axis=0), A.std(0, ddof=1)),
    (lambda x: x.std(axis=0, keepdims=True), A.std(0, ddof=1, keepdims=True)),
    (lambda x: torch.cat([x, x], axis=0), np.concatenate([A, A], 0)),
    (lambda x: torch.stack([x, x], axis=0), np.stack([A, A], 0)),
    (lambda x: x.squeeze(axis=0), A),
    (lambda x: x.unsqueeze(axis=0), A[None]),
    (lambda x: x.argmax(axis=1), A.argmax(1)),
    (lambda x: torch.argmax(x, axis=None, keepdims=True), np.array([[3]])),
    (lambda x: x.softmax(axis=0), np.exp(A) / np.exp(A).sum(0)),
    (lambda x: x.all(axis=0), np.ones(2, bool)),
    (lambda x: x.prod(axis=0), A.prod(0)),
    (lambda x: x.sum(axis=None), A.sum()),
    (lambda x: torch.neg(input=x), -A),
    (lambda x: torch.exp(a=x), np.exp(A)),
    (lambda x: torch.t(input=x), A.T),
    (lambda x: torch.t(x=x), A.T),
    (lambda x: torch.transpose(x1=x, dim0=0, dim1=1), A.T),
    (lambda x: torch.where(x > 0, x1=x, x2=-x), A),
    (lambda x: torch.matmul(x1=x, x2=x), A @ A),
    (lambda x: torch.trace(a=x), np.trace(A)),
    (lambda x: torch.trace(input=x), np.trace(A)),
    (lambda x: torch.flatten(input=x), A.ravel()),
    (lambda x: torch.numel(input=x), 4),
    (lambda x: x.select(axis=0, index=1), A[1]),
    (lambda x: x.gather(axis=0, index=torch.zeros(2, 2, dtype=torch.long)), A[[0, 0]]),
    (lambda x: torch.cumsum(x, axis=0, out=torch.empty(2, 2)), A.cumsum(0)),
    (lambda x: torch.sum(x, axis=0, out=torch.empty(2)), A.sum(0)),
    (lambda x: torch.add(x, x2=x, out=torch.empty(2, 2)), A + A),
])
def test_numpy_names_taken(call, expected):
    r = call(_x())
    np.testing.assert_allclose(np.asarray(r.tolist() if hasattr(r, "tolist") else r),
                               expected, rtol=1e-6)


def test_numpy_names_multiple_results():
    v, i = torch.max(_x(), axis=0)
    assert v.tolist() == [3.0, 4.0] and i.tolist() == [1, 1]
    v, i = _x().min(axis=1, keepdims=True)
    assert v.tolist() == [[1.0], [3.0]] and i.tolist() == [[0], [0]]
    v, i = _x().sort(axis=0, descending=True)
    assert v.tolist() == [[3.0, 4.0], [1.0, 2.0]]


@pytest.mark.parametrize("call,message", [
    # a keyword no parameter took: PyTorch names the first one that is no parameter's name
    (lambda x: x.sum(dim=0, axis=0), "sum() got an unexpected keyword argument 'axis'"),
    (lambda x: x.sum(0, axis=0), "sum() got an unexpected keyword argument 'axis'"),
    (lambda x: x.sum(axis=0, keepdim=True, keepdims=True),
     "sum() got an unexpected keyword argument 'axis'"),
    (lambda x: x.cumsum(0, axis=0), "cumsum() got an unexpected keyword argument 'axis'"),
    (lambda x: x.cumsum(axis=0, foo=1), "cumsum() got an unexpected keyword argument 'axis'"),
    (lambda x: torch.cumsum(x, axis=0, dim=0),
     "cumsum() got an unexpected keyword argument 'axis'"),
    (lambda x: x.argmax(0, axis=1), "argmax() got an unexpected keyword argument 'axis'"),
    (lambda x: x.softmax(axis=0, dim=0), "softmax() got an unexpected keyword argument 'axis'"),
    (lambda x: torch.neg(x, a=x), "neg() got an unexpected keyword argument 'a'"),
    (lambda x: torch.neg(input=x, a=x), "neg() got an unexpected keyword argument 'a'"),
    (lambda x: torch.t(x, x=x), "t() got an unexpected keyword argument 'x'"),
    (lambda x: torch.trace(x, a=x), "trace() got an unexpected keyword argument 'a'"),
    (lambda x: x.add(x2=x, other=x), "add() got an unexpected keyword argument 'x2'"),
    (lambda x: torch.add(x, other=x, x2=x), "add() got an unexpected keyword argument 'x2'"),
    (lambda x: x.mul(x2=x, foo=2), "mul() got an unexpected keyword argument 'x2'"),
    # missing arguments and too many, in PyTorch's words
    (lambda x: x.cumsum(0, 1), "cumsum() takes 1 positional argument but 2 were given"),
    (lambda x: x.unsqueeze(foo=1), 'unsqueeze() missing 1 required positional arguments: "dim"'),
    (lambda x: torch.transpose(x, 0, axis=1),
     'transpose() missing 1 required positional arguments: "dim1"'),
    # what NumPy's functions pass (np.sum(t) calls t.sum(axis=None, dtype=None, out=None))
    (lambda x: np.sum(x), "sum() got an unexpected keyword argument 'axis'"),
    (lambda x: np.sum(x, axis=0), "sum() got an unexpected keyword argument 'axis'"),
    (lambda x: np.mean(x), "mean() got an unexpected keyword argument 'axis'"),
    (lambda x: np.max(x), "max(): argument 'dim' must be int, not NoneType"),
    (lambda x: np.min(x), "min(): argument 'dim' must be int, not NoneType"),
    (lambda x: np.prod(x), "prod(): argument 'dim' must be int, not NoneType"),
    # Python-level methods of torch's Tensor take no NumPy names
    (lambda x: x.norm(axis=0), "Tensor.norm() got an unexpected keyword argument 'axis'"),
    (lambda x: x.unique(axis=0), "Tensor.unique() got an unexpected keyword argument 'axis'"),
    (lambda x: torch.numel(1), "numel(): argument 'input' (position 1) must be Tensor, not int"),
])
def test_numpy_names_refused(call, message):
    with pytest.raises(TypeError) as e:
        call(_x())
    assert str(e.value) == message


def test_invalid_combination_with_both_names():
    with pytest.raises(TypeError, match=r"^sum\(\) received an invalid combination of "
                       r"arguments - got \(a=Tensor, input=Tensor, \)"):
        torch.sum(input=_x(), a=_x())
    with pytest.raises(TypeError, match="invalid combination"):
        _x().sum(axis="a")


def test_keyword_order_in_messages():
    """torch lists the keywords as its std::unordered_map walks them (libstdc++'s hash of
    each name, 13 buckets): not simply last given first once two share a bucket."""
    with pytest.raises(TypeError) as e:
        np.mean(_x(), axis=1, keepdims=True)      # (NumPy passes axis, dtype, out, keepdims)
    assert "got (keepdims=bool, dtype=NoneType, out=NoneType, axis=int, )" in str(e.value)
    assert "keywords were incorrect: keepdims, dtype, out, axis\n" in str(e.value)
    with pytest.raises(TypeError) as e:
        _x().mean(axis=0, keepdims=True, dtype=None, out=None)
    assert "got (dtype=NoneType, keepdims=bool, out=NoneType, axis=int, )" in str(e.value)
    with pytest.raises(TypeError) as e:
        np.std(_x())
    assert "got (ddof=int, dtype=NoneType, out=NoneType, axis=NoneType, )" in str(e.value)


def test_scripted_input_keyword_only():
    """TorchScript takes input= for an aten schema's self (torch.sum(input=x)), not NumPy's
    names (x.sum(axis=0) does not compile), as torch.jit.script."""
    def f(x):
        return torch.sum(input=x) + torch.neg(input=x).sum()
    g = torch.jit.script(f)
    assert g(torch.ones(2, 2)).item() == 0.0

    def h(x):
        return x.sum(axis=0)
    with pytest.raises(Exception, match="axis"):
        torch.jit.script(h)


def test_plain_calls_unchanged():
    x = _x()
    assert x.cumsum(0).tolist() == A.cumsum(0).tolist()
    assert torch.add(x, x, alpha=2).tolist() == (A + 2 * A).tolist()
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        x.cumsum(0, dim=0)


_TORCH_CASES = [
    "x.sum(axis=0)", "x.mean(axis=1, keepdims=True)", "M.sum(a=x)", "M.add(x1=x, x2=x)",
    "x.amax(axis=0)", "x.cumsum(axis=0)", "M.max(x, axis=0)", "x.std(axis=0)",
    "M.cat([x, x], axis=0)", "x.squeeze(axis=0)", "x.argmax(axis=1)", "x.sum(dim=0, axis=0)",
    "x.sum(0, axis=0)", "M.sum(input=x, a=x)", "x.add(x2=x)", "M.neg(input=x)",
    "x.transpose(0, axis=1)", "np.sum(x)", "np.max(x)", "np.mean(x)", "x.cumsum(0, 1)",
    "x.unsqueeze(foo=1)", "M.trace(a=x)", "x.size(dim=0)", "x.norm(axis=0)",
    "np.std(x)", "np.var(x)", "np.mean(x, axis=1, keepdims=True)", "np.any(x > 0)",
    "x.mean(axis=0, keepdims=True, dtype=None, out=None)",
    "x.std(foo=1, bar=2, baz=3, unbiased=True, keepdim=True)",
]


@pytest.mark.parametrize("expr", _TORCH_CASES)
def test_against_torch(expr):
    real = pytest.importorskip("torch")
    outs = []
    for M in (real, torch):
        x = M.tensor([[1., 2.], [3., 4.]])
        try:
            r = eval(expr, dict(M=M, x=x, np=np))
            if isinstance(r, tuple):
                r = [v.tolist() for v in r]
            outs.append(("ok", str(getattr(r, "tolist", lambda: r)())))
        except TypeError as e:
            outs.append(("TypeError", str(e)))
    if expr == "x.transpose(0, axis=1)":
        # (gpujit's Python message for a method without NumPy-named parameters)
        assert outs[1][0] == outs[0][0]
        return
    assert outs[0] == outs[1]


@pytest.mark.parametrize("call,message", [
    (lambda x: torch.stack(1),
     "stack(): argument 'tensors' (position 1) must be tuple of Tensors, not int"),
    (lambda x: torch.cat(1),
     "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not int"),
    (lambda x: torch.stack(None),
     "stack(): argument 'tensors' (position 1) must be tuple of Tensors, not NoneType"),
    (lambda x: torch.cat(x),
     "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"),
    (lambda x: torch.cat(tensors=x),
     "cat(): argument 'tensors' must be tuple of Tensors, not Tensor"),
    (lambda x: x.index_put(None, x),
     "index_put(): argument 'indices' (position 1) must be tuple of Tensors, not NoneType"),
    (lambda x: x.index_put(x, x),
     "index_put(): argument 'indices' (position 1) must be tuple of Tensors, not Tensor"),
    (lambda x: torch.cat([x, 1]), "expected Tensor as element 1 in argument 0, but got int"),
])
def test_tensor_list_argument_types(call, message):
    with pytest.raises(TypeError) as e:
        call(_x())
    assert str(e.value) == message
