"""Eager edges found against PyTorch 2.13 (session 27, part 3): bare ints for unsized int[]
parameters, operators with a str, true_divide's rounding_mode, tril's diagonal type,
linalg.matrix_rank's dtype message, clamp of bool with two tensor bounds, and
torch.linalg.ldl_factor / ldl_factor_ex / ldl_solve (LAPACK sytrf / sytrs). Expected
values were checked against torch 2.13; torch itself is only used where a test says so."""
import numpy as np
import pytest

import gpujit as torch


# ------------------------------------------------------------------ int[] takes no bare int

@pytest.mark.parametrize("call, msg", [
    (lambda x: torch.flip(x, 0), "flip(): argument 'dims' (position 2) must be tuple of ints, not int"),
    (lambda x: torch.flip(x, torch.tensor([0])),
     "flip(): argument 'dims' (position 2) must be tuple of ints, not Tensor"),
    (lambda x: torch.flip(x, torch.tensor(0)),
     "flip(): argument 'dims' (position 2) must be tuple of ints, not Tensor"),
    (lambda x: torch.permute(x, 0), "permute(): argument 'dims' (position 2) must be tuple of ints, not int"),
    (lambda x: torch.tile(x, 2), "tile(): argument 'dims' (position 2) must be tuple of ints, not int"),
    (lambda x: torch.reshape(x, 6), "reshape(): argument 'shape' (position 2) must be tuple of ints, not int"),
    (lambda x: torch.rot90(x, 1, 0), "rot90(): argument 'dims' (position 3) must be tuple of ints, not int"),
    (lambda x: torch.broadcast_to(x, 3),
     "broadcast_to(): argument 'size' (position 2) must be tuple of ints, not int"),
    (lambda x: torch.as_strided(x, 2, 1), "as_strided(): argument 'size' (position 2) must be tuple of ints, not int"),
    (lambda x: x.unflatten(1, 3), "unflatten(): argument 'sizes' (position 2) must be tuple of ints, not int"),
    (lambda x: x.split_with_sizes(3, 1),
     "split_with_sizes(): argument 'split_sizes' (position 1) must be tuple of ints, not int"),
    (lambda x: torch.nn.functional.layer_norm(x, 3), "must be tuple of ints, not int"),
    (lambda x: torch.full(3, 1.0), "full(): argument 'size' (position 1) must be tuple of ints, not int"),
    (lambda x: x.new_full(3, 1.0), "new_full(): argument 'size' (position 1) must be tuple of ints, not int"),
    (lambda x: torch.empty_strided(3, 1),
     "empty_strided(): argument 'size' (position 1) must be tuple of ints, not int"),
])
def test_unsized_int_list_refuses_a_bare_int(call, msg):
    x = torch.arange(6.0).reshape(2, 3)
    with pytest.raises(TypeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        call(x)


def test_movedim_mixed_list_and_int_refused():
    x = torch.arange(6.0).reshape(2, 3)
    with pytest.raises(TypeError):
        torch.movedim(x, [0], 1)
    assert torch.movedim(x, 0, 1).shape == (3, 2)
    assert torch.movedim(x, [0], [1]).shape == (3, 2)


def test_bare_int_still_taken_where_pytorch_takes_it():
    x = torch.arange(6.0).reshape(2, 3)
    e = torch.ones(1, 3)
    # varargs methods and factories
    np.testing.assert_array_equal(x.flip(0).numpy(), x.numpy()[::-1])
    np.testing.assert_array_equal(x.flip(torch.tensor(0)).numpy(), x.numpy()[::-1])
    assert x.permute(1, 0).shape == (3, 2)
    assert x.view(6).shape == (6,) and x.reshape(6).shape == (6,)
    assert x.tile(2).shape == (2, 6) and x.repeat(torch.tensor(2), 1).shape == (4, 3)
    assert torch.ones(3).broadcast_to(2, 3).shape == (2, 3)
    assert torch.zeros(3).shape == (3,) and x.new_zeros(3).shape == (3,)
    # int[1] parameters and PyTorch's int overloads gpujit merges into an int[] schema
    np.testing.assert_array_equal(torch.sum(x, 0).numpy(), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(torch.sum(x, torch.tensor(0)).numpy(), [3.0, 5.0, 7.0])
    assert e.squeeze(0).shape == (3,) and torch.squeeze(e, 0).shape == (3,)
    assert torch.squeeze(e, dim=0).shape == (3,)
    assert torch.all(x, 0).shape == (3,) and torch.count_nonzero(x, 0).shape == (3,)
    assert torch.movedim(x, 0, 1).shape == (3, 2)
    assert torch.tensor_split(x.reshape(6), 2)[0].shape == (3,)


# ------------------------------------------------------------------ operators with a str

def test_binary_operators_return_not_implemented_for_str():
    x = torch.ones(3)
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'Tensor' and 'str'"):
        x + "a"
    with pytest.raises(TypeError, match=r'can only concatenate str \(not "Tensor"\) to str'):
        "a" + x
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'Tensor' and 'list'"):
        x + [1, 2, 3]
    with pytest.raises(TypeError, match="'<' not supported between instances of 'Tensor' and 'str'"):
        x < "a"
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+=: 'Tensor' and 'str'"):
        y = torch.ones(3)
        y += "a"
    assert (x == "a") is False
    assert (x != "a") is True
    assert (x == None) is False  # noqa: E711
    # a dtype the op refuses still raises (PyTorch's NotImplementedError)
    with pytest.raises(NotImplementedError):
        x & 1
    np.testing.assert_array_equal((x + 1).numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal((2 - x).numpy(), [1.0, 1.0, 1.0])


# ------------------------------------------------------------------ true_divide, tril

def test_true_divide_has_no_rounding_mode():
    x = torch.tensor([3.0, 4.0])
    with pytest.raises(TypeError, match="true_divide\\(\\) got an unexpected keyword argument "
                                        "'rounding_mode'"):
        torch.true_divide(x, x, rounding_mode=None)
    with pytest.raises(TypeError):
        x.true_divide(x, rounding_mode="trunc")
    np.testing.assert_allclose(torch.true_divide(x, 2).numpy(), [1.5, 2.0])
    np.testing.assert_allclose(torch.div(x, 2, rounding_mode="floor").numpy(), [1.0, 2.0])


def test_tril_diagonal_type_checked_before_rank():
    with pytest.raises(TypeError, match=r"tril\(\): argument 'diagonal' \(position 2\) must be int, "
                                        r"not str"):
        torch.tril(torch.ones(3), "a")
    with pytest.raises(TypeError, match=r"triu\(\): argument 'diagonal' \(position 2\) must be int, "
                                        r"not float"):
        torch.triu(torch.ones(3, 3), 1.5)
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        torch.tril(torch.ones(3), 1)


# ------------------------------------------------------------------ matrix_rank, clamp

@pytest.mark.parametrize("dt", ["float16", "int64", "bool"])
def test_matrix_rank_dtype_message(dt):
    with pytest.raises(RuntimeError, match="This function doesn't handle types other than float "
                                           "and double"):
        torch.linalg.matrix_rank(torch.ones(2, 2, dtype=getattr(torch, dt)))


def test_matrix_rank_rank_checked_first():
    with pytest.raises(RuntimeError, match="torch.linalg.matrix_rank: The input tensor input must "
                                           "have at least 2 dimensions."):
        torch.linalg.matrix_rank(torch.ones(2, dtype=torch.float16))
    assert torch.linalg.matrix_rank(torch.ones(2, 2)).item() == 1


def test_clamp_bool_with_two_tensor_bounds():
    b = torch.tensor([True, False])
    with pytest.raises(NotImplementedError, match="\"clamp_cpu\" not implemented for 'Bool'"):
        torch.clamp(b, b, b)
    with pytest.raises(NotImplementedError, match="\"clamp_cpu\" not implemented for 'Bool'"):
        torch.clip(b, b, b)
    assert torch.clamp(b, min=b).tolist() == [True, False]


# ------------------------------------------------------------------ ldl_factor / ldl_solve

def _reconstruct(LD, piv):
    """A from LAPACK's compact lower LDL^T with Bunch-Kaufman pivots (1-based)."""
    n = LD.shape[0]
    D = np.zeros((n, n))
    k = 0
    steps = []
    while k < n:
        if piv[k] > 0:
            D[k, k] = LD[k, k]
            steps.append((k, piv[k] - 1, 1))
            k += 1
        else:
            D[k:k + 2, k:k + 2] = [[LD[k, k], LD[k + 1, k]], [LD[k + 1, k], LD[k + 1, k + 1]]]
            steps.append((k, -piv[k] - 1, 2))
            k += 2
    # A = U D U^T with U = P1 L1 P2 L2 ... (LAPACK's representation)
    U = np.eye(n)
    for k, kp, s in steps:
        P = np.eye(n)
        kk = k + s - 1
        P[[kk, kp]] = P[[kp, kk]]
        Lk = np.eye(n)
        Lk[k + s:, k:k + s] = LD[k + s:, k:k + s]
        U = U @ P @ Lk
    return U @ D @ U.T


def test_ldl_factor_matches_lapack_2x2_block():
    A = torch.tensor([[1.0, 2.0], [2.0, 1.0]])
    LD, piv = torch.linalg.ldl_factor(A)
    np.testing.assert_array_equal(LD.numpy(), [[1.0, 0.0], [2.0, 1.0]])
    assert piv.dtype == torch.int32 and piv.tolist() == [-2, -2]


def test_ldl_factor_known_values():
    # values and pivots from torch 2.13 (LAPACK dsytrf)
    A = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    LD, piv, info = torch.linalg.ldl_factor_ex(A)
    assert piv.tolist() == [-3, -3, 3] and info.item() == 3
    A = torch.tensor([[4.0, 1.0, 2.0], [1.0, -3.0, 0.5], [2.0, 0.5, 0.1]], dtype=torch.float64)
    LD, piv = torch.linalg.ldl_factor(A)
    assert piv.tolist() == [1, 2, 3]
    np.testing.assert_allclose(_reconstruct(LD.numpy(), piv.numpy()), A.numpy(), atol=1e-12)
    assert np.all(np.triu(LD.numpy(), 1) == 0)


@pytest.mark.parametrize("seed", range(6))
def test_ldl_factor_reconstructs_and_solves(seed):
    rng = np.random.default_rng(seed)
    n = 2 + seed * 3
    M = rng.standard_normal((n, n))
    A = M + M.T
    A[np.diag_indices(n)] *= 0.05          # indefinite, 2x2 pivots likely
    LD, piv, info = torch.linalg.ldl_factor_ex(torch.from_numpy(A))
    assert info.item() == 0
    p = piv.numpy()
    assert p.dtype == np.int32 and np.all((np.abs(p) >= 1) & (np.abs(p) <= n))
    np.testing.assert_allclose(_reconstruct(LD.numpy(), p), A, atol=1e-10)
    B = rng.standard_normal((n, 3))
    X = torch.linalg.ldl_solve(LD, piv, torch.from_numpy(B)).numpy()
    np.testing.assert_allclose(A @ X, B, atol=1e-8)


def test_ldl_batched_and_broadcast_solve():
    rng = np.random.default_rng(7)
    M = rng.standard_normal((3, 4, 4)).astype(np.float32)
    A = M + M.transpose(0, 2, 1)
    LD, piv = torch.linalg.ldl_factor(torch.from_numpy(A))
    assert LD.shape == (3, 4, 4) and piv.shape == (3, 4)
    B = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    X = torch.linalg.ldl_solve(LD, piv, torch.from_numpy(B))
    assert X.shape == (2, 3, 4, 2) and X.dtype == torch.float32
    np.testing.assert_allclose(A @ X.numpy(), B, atol=2e-3)
    assert torch.linalg.ldl_factor(torch.ones(3, 0, 0)).pivots.shape == (3, 0)


def test_ldl_errors():
    A = torch.tensor([[1.0, 2.0], [2.0, 1.0]])
    LD, piv = torch.linalg.ldl_factor(A)
    with pytest.raises(RuntimeError, match="torch.linalg.ldl_factor: Unknown error code: 1."):
        torch.linalg.ldl_factor(torch.zeros(2, 2))
    assert torch.linalg.ldl_factor_ex(torch.zeros(2, 2)).info.item() == 1
    with pytest.raises(RuntimeError, match="ldl_factor_ex: A must be batches of square matrices, "
                                           "but they are 2 by 3 matrices"):
        torch.linalg.ldl_factor(torch.ones(2, 3))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. "
                                           "Got Long"):
        torch.linalg.ldl_factor(torch.ones(2, 2, dtype=torch.int64))
    with pytest.raises(NotImplementedError, match="\"ldl_factor_kernel_cpu\" not implemented for 'Half'"):
        torch.linalg.ldl_factor(torch.ones(2, 2, dtype=torch.float16))
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for torch.linalg.ldl_solve: "
                                           "each A matrix is 2 by 2 but each b matrix is 3 by 1"):
        torch.linalg.ldl_solve(LD, piv, torch.ones(3, 1))
    with pytest.raises(RuntimeError, match=r"Expected LD.shape\[:-1\] and pivots.shape to be the "
                                           r"same, but got pivots with shape \[1\] instead"):
        torch.linalg.ldl_solve(LD, piv[:1], torch.ones(2, 1))
    with pytest.raises(RuntimeError, match="Expected pivots to be integers. Got Float"):
        torch.linalg.ldl_solve(LD, piv.float(), torch.ones(2, 1))
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype, but found b "
                                           "of type Double and A of type Float instead."):
        torch.linalg.ldl_solve(LD, piv, torch.ones(2, 1, dtype=torch.float64))
    Ar = A.clone().requires_grad_()
    r = torch.linalg.ldl_factor(Ar)
    assert r.LD.requires_grad and not r.pivots.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not "
                                           "implemented"):
        r.LD.sum().backward()


def _ldl_script(A, B):
    LD, p = torch.linalg.ldl_factor(A)
    return torch.linalg.ldl_solve(LD, p, B)


def test_ldl_scripted():
    f = torch.jit.script(_ldl_script)
    A = torch.tensor([[4.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(f(A, torch.ones(2, 1)).numpy(), [[1 / 5.5], [3 / 11]], rtol=1e-6)


def test_ldl_matches_torch():
    real = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for trial in range(60):
        n = int(rng.integers(1, 40))
        M = rng.standard_normal((n, n))
        A = M + M.T
        if trial % 3 == 1:
            A = np.round(A)
        elif trial % 3 == 2:
            A[np.diag_indices(n)] *= 0.01
        t = real.linalg.ldl_factor_ex(real.from_numpy(A))
        g = torch.linalg.ldl_factor_ex(torch.from_numpy(A))
        np.testing.assert_array_equal(g.pivots.numpy(), t.pivots.numpy())
        np.testing.assert_array_equal(g.info.numpy(), t.info.numpy())
        np.testing.assert_allclose(g.LD.numpy(), t.LD.numpy(), rtol=1e-9, atol=1e-9)
    nan, inf = float("nan"), float("inf")
    for A in ([[nan, 1.0], [1.0, 2.0]], [[1.0, 2.0, nan], [2.0, 1.0, 3.0], [nan, 3.0, 1.0]],
              [[1.0, inf], [inf, inf]], [[0.0, 0.0], [0.0, 0.0]]):
        A = np.array(A)
        t = real.linalg.ldl_factor_ex(real.from_numpy(A))
        g = torch.linalg.ldl_factor_ex(torch.from_numpy(A))
        np.testing.assert_array_equal(g.pivots.numpy(), t.pivots.numpy())
        np.testing.assert_array_equal(g.info.numpy(), t.info.numpy())
        np.testing.assert_allclose(g.LD.numpy(), t.LD.numpy(), equal_nan=True)


# ------------------------------------------------------------------ strides of empties

def test_empty_strided_keeps_all_zero_strides():
    t = torch.empty_strided((0, 3), (0, 0))
    assert t.stride() == (0, 0) and t.is_contiguous()
    assert t.contiguous().stride() == (0, 0)
    assert torch.empty_strided((0, 3), (1, 0)).stride() == (1, 0)
    assert torch.empty_strided((0, 3), (3, 1)).stride() == (3, 1)
    assert torch.zeros(0, 3).stride() == (3, 1)
    assert (torch.empty_strided((0, 3), (0, 0)) + 1).stride() == (3, 1)
    t.resize_(2, 3)
    assert t.stride() == (3, 1)
