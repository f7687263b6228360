"""Session 50, h50: what PyTorch programs import and call, part 2 (torch.testing as a
package, torch.utils.checkpoint's helpers, torch.utils.hooks.BackwardHook, torch._utils,
torch.serialization's names, F._in_projection_packed, torch.nn.attention.bias, ...).
Expected values and message texts are torch 2.13's (CPU build) unless computed here."""
import warnings

import pytest

import gpujit as torch


# ---- torch.testing is a package: _comparison / _creation --------------------------------

def test_testing_is_a_package_with_comparison_and_creation():
    from gpujit.testing._comparison import (assert_close, not_close_error_metas, ErrorMeta,
                                            default_tolerances, get_tolerances)
    from gpujit.testing._creation import make_tensor
    assert assert_close is torch.testing.assert_close
    assert make_tensor is torch.testing.make_tensor
    assert not_close_error_metas(torch.ones(2), torch.ones(2)) == []
    metas = not_close_error_metas([torch.ones(2)], [torch.zeros(2)])
    assert len(metas) == 1 and isinstance(metas[0], ErrorMeta)
    assert metas[0].type is AssertionError and metas[0].id == (0,)
    err = metas[0].to_error()
    assert isinstance(err, AssertionError)
    assert str(err).startswith("Tensor-likes are not close!")
    assert str(err).endswith("The failure occurred for item [0]")
    assert metas[0].to_error("mine").args == ("mine",)
    assert default_tolerances(torch.ones(2), torch.ones(2, dtype=torch.float16)) == (1e-3, 1e-5)
    assert default_tolerances(torch.float32) == (1.3e-6, 1e-5)
    assert get_tolerances(torch.float64, rtol=None, atol=None) == (1e-7, 1e-7)
    assert get_tolerances(torch.float64, rtol=0.5, atol=0.0) == (0.5, 0.0)
    with pytest.raises(ErrorMeta):
        get_tolerances(torch.float64, rtol=0.5, atol=None)


def test_assert_close_options_and_messages_as_torch():
    # torch 2.13's texts
    with pytest.raises(AssertionError, match=r"^The values for attribute 'stride\(\)' do not "
                       r"match: \(1, 3\) != \(2, 1\)\.$"):
        torch.testing.assert_close(torch.ones(2, 3).t(), torch.ones(3, 2), check_stride=True)
    torch.testing.assert_close(torch.ones(2, 3).t(), torch.ones(3, 2))
    p = torch.nn.Parameter(torch.ones(2))
    torch.testing.assert_close(p, torch.ones(2))
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type"):
        torch.testing.assert_close(p, torch.ones(2), allow_subclasses=False)
    torch.testing.assert_close(torch.ones(2).to_sparse(), torch.ones(2), check_layout=False)
    with pytest.raises(AssertionError, match="attribute 'layout' do not match"):
        torch.testing.assert_close(torch.ones(2).to_sparse(), torch.ones(2))
    with pytest.raises(AssertionError) as info:
        torch.testing.assert_close({"a": torch.ones(2)}, {"b": torch.ones(2)})
    assert str(info.value) == ("The keys of the mappings do not match:\nMissing keys in the "
                               "actual mapping: ['b']\nAdditional keys in the actual mapping: "
                               "['a']")


def test_assert_allclose_is_torchs_deprecated_one():
    with pytest.warns(FutureWarning, match=r"`torch.testing.assert_allclose\(\)` is deprecated "
                      r"since 1.12"):
        torch.testing.assert_allclose(torch.ones(2), [1.0, 1.00005])   # float32: rtol 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError) as info:
            torch.testing.assert_allclose([1., 2.], [1., 2.001])
    assert "(up to 0.0001 allowed)" in str(info.value)
    assert "Mismatched elements: 1 / 2 (50.0%)" in str(info.value)
