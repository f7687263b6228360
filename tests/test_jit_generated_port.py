"""Behaviour ported from PyTorch's test/test_jit.py generated classes
TestJitGeneratedFunctional (nn_functional_tests of jit_metaprogramming_utils: a script
function calling F.<name>(input, args...) with the constant arguments inlined in its
source) and TestJitGeneratedModule (the module configs of common_nn: the nn module is
scripted, tests/test_jit_generated_modules_port.py). Each case is run three times
scripted (profiling run, then the optimized plan) against eager: values (dtype
tolerances) and the gradients of the sum of the outputs w.r.t. the differentiable
inputs (float64, as PyTorch's generated tests use).

PyTorch's fractional_max_pool2d config draws its random samples inside the call: here they
are passed (_random_samples) so that eager and scripted runs pool the same windows.
Not ported: the autodiff-node checks ((True, 'aten::...') fusible/nonfusible node lists):
they name TorchScript's differentiable-graph internals.
"""
import pytest

import gpujit as torch
from jit_generated_helpers import M, S, T, check_against_eager, literal, nd

F = torch.nn.functional


def _lsm(*shape, dim):
    return lambda: F.log_softmax(torch.randn(*shape, dtype=torch.float64), dim)


def _sm(*shape, dim):
    return lambda: F.softmax(torch.randn(*shape, dtype=torch.float64), dim)


def _long(fn):
    return T(make=fn, grad=False)


def _rand(*shape):
    return nd(lambda: torch.rand(*shape, dtype=torch.float64))


def _ones(*shape):
    return nd(lambda: torch.ones(*shape, dtype=torch.float64))


def _randn(*shape):
    return nd(lambda: torch.randn(*shape, dtype=torch.float64))


# (name, input, args, variant[, kwargs]); a tuple input is a random float64 shape; T
# arguments are passed as tensors, the others are inlined in the script source.
FUNCTIONAL = [
    ('conv1d', (S, S, S), (T((S, S, S)),)),
    ('conv2d', (S, S, S, S), (T((S, S, S, S)),)),
    ('conv3d', (S, S, S, S, S), (T((S, S, S, S, S)),)),
    ('conv_transpose1d', (S, S, S), (T((S, S, S)),)),
    ('conv_transpose2d', (S, S, S, S), (T((S, S, S, S)),)),
    ('conv_transpose3d', (S, S, S, S, S), (T((S, S, S, S, S)),)),
    ('avg_pool1d', (S, S, S), (3,)),
    ('avg_pool2d', (S, S, S, S), (3,)),
    ('avg_pool3d', (S, S, S, S, S), (3,)),
    ('max_pool1d', (S, S, S), (2, 1)),
    ('max_pool1d', (S, S, S), (2, 1, 1, 1, False, True), 'with_indices'),
    ('max_pool2d', (S, S, S, S), (2, 1)),
    ('max_pool2d', (S, S, S, S), (2, 1, 1, 1, False, True), 'with_indices'),
    ('max_pool3d', (S, S, S, S, S), (2, 1)),
    ('max_unpool1d', T(make=lambda: torch.tensor([[[2., 4]]], dtype=torch.float64)),
     (_long(lambda: torch.tensor([[[1, 3]]])), 2, 2, 0)),
    ('max_unpool2d', T(make=lambda: torch.tensor([[[[2., 4]]]], dtype=torch.float64)),
     (_long(lambda: torch.tensor([[[[1, 3]]]])), 2, 2, 0)),
    ('max_unpool3d', T(make=lambda: torch.tensor([[[[[2., 4]]]]], dtype=torch.float64)),
     (_long(lambda: torch.tensor([[[[[1, 3]]]]])), 2, 2, 0)),
    ('lp_pool1d', (S, S, S), (2., 3, 2)),
    ('lp_pool2d', (S, S, S, S), (2., 3, 2)),
    ('lp_pool3d', (S, S, S, S, S), (2., 3, 2)),
    ('adaptive_max_pool1d', (S, S, S), (5,)),
    ('adaptive_max_pool2d', (S, S, S, S), ([5, 7],)),
    ('adaptive_max_pool3d', (S, S, S, S, S), ([3, 2, 2],)),
    ('adaptive_avg_pool1d', (S, S, S), (5,)),
    ('adaptive_avg_pool2d', (S, S, S, S), ([5, 7],)),
    ('adaptive_avg_pool3d', (S, S, S, S, S), ([3, 2, 2],)),
    ('dropout', (S, S, S), (0.5,)),
    ('alpha_dropout', (S, S, S), (0.5,)),
    ('dropout2d', (S, S, S), (0.5,)),
    ('dropout2d', (S, S, S, S), (0.5,), 'batched'),
    ('dropout3d', (S, S, S, S), (0.5,)),
    ('dropout3d', (S, S, S, S, S), (0.5,), 'batched'),
    ('feature_alpha_dropout', (S, S, S), (0.5,)),
    ('threshold', (S, S, S), (0.1, 2.)),
    ('threshold', (S, S, S), (0.1, 2., True), 'inplace'),
    ('relu', (S, S, S), ()),
    ('relu', (S, S, S), (True,), 'inplace'),
    ('glu', (S - 1, S - 1, S - 1), ()),
    ('hardtanh', (S, S, S), (-0.5, 0.5)),
    ('hardtanh', (S, S, S), (-0.5, 0.5, True), 'inplace'),
    ('relu6', (S, S, S), ()),
    ('relu6', (S, S, S), (True,), 'inplace'),
    ('elu', (S, S, S), (0.9,)),
    ('elu', (S, S, S), (0.9, True), 'inplace'),
    ('selu', (S, S, S), ()),
    ('selu', (S, S, S), (True,), 'inplace'),
    ('celu', (S, S, S), (0.9,)),
    ('celu', (S, S, S), (0.9, True), 'inplace'),
    ('leaky_relu', (S, S, S), (0.02,)),
    ('leaky_relu', (S, S, S), (0.02, True), 'inplace'),
    ('rrelu', (S, S), (0.1, 0.3, False)),
    ('rrelu', (S, S), (0.1, 0.3, False, True), 'inplace'),
    ('hardshrink', (S, S, S), (0.4,)),
    ('tanhshrink', (S, S, S), ()),
    ('softsign', (S, S, S), ()),
    ('softplus', (S, S, S), ()),
    ('softmin', (S, S, S), (0,)),
    ('softmax', (S, S, S), (0,)),
    ('softmax', (S, S, S), (0, 3, torch.double), 'with_all_args'),
    ('tanh', (S, S, S), ()),
    ('sigmoid', (S, S, S), ()),
    ('silu', (S, S, S), ()),
    ('log_softmax', (S, S, S), (0,)),
    ('linear', (S, S), (T((M, S)),)),
    ('linear', (S, S), (T((M, S)), T((M,))), 'addmm'),
    ('embedding', _long(lambda: torch.tensor([[1, 2, 4, 5], [4, 3, 2, 5]])),
     (T(make=lambda: torch.rand(6, 3, dtype=torch.float64)),)),
    ('batch_norm', (S, S), (_randn(S), _ones(S), None, None, True), 'training'),
    ('batch_norm', (0, S, S, S), (_randn(S), _ones(S), _randn(S), _ones(S), True),
     'size_zero'),
    ('batch_norm', (0, S, S, S), (_randn(S), _ones(S), _randn(S), _ones(S), False),
     'size_zero_inference'),
    ('batch_norm', (S, S), (_randn(S), _ones(S), _randn(S), _ones(S), True),
     'with_weight_and_bias_training'),
    ('batch_norm', (S, S), (_randn(S), _ones(S), None, _ones(S), True),
     'with_only_bias_training'),
    ('batch_norm', (S, S), (_randn(S), _ones(S), _randn(S), None, True),
     'with_only_weight_training'),
    ('batch_norm', (S, S), (_randn(S), _ones(S), None, None, False), 'inference'),
    ('batch_norm', (S, S), (_randn(S), _ones(S), _randn(S), _ones(S), False),
     'with_weight_and_bias_inference'),
    ('instance_norm', (S, S, S), (nd(lambda: torch.zeros(S, dtype=torch.float64)), _ones(S))),
    ('layer_norm', (S, S, S, S), ([5],)),
    ('layer_norm', (S, S, S, S), ([5], _rand(S)), 'with_only_weight'),
    ('layer_norm', (S, S, S, S), ([5], None, _rand(S)), 'with_only_bias'),
    ('layer_norm', (S, S, S, S), ([5], _rand(S), _rand(S)), 'with_weight_and_bias'),
    ('group_norm', (S, S, S), (1, T(make=lambda: torch.rand(5, dtype=torch.float64)))),
    ('local_response_norm', (S, S, S), (2,)),
    ('nll_loss', T(make=_lsm(3, 5, dim=0)), (_long(lambda: torch.tensor([1, 0, 4])),)),
    ('poisson_nll_loss', T(make=lambda: torch.rand(S, 2, dtype=torch.float64)),
     (T(make=lambda: torch.rand(S, 2, dtype=torch.float64)),)),
    ('poisson_nll_loss', T(make=lambda: torch.rand(S, 2, dtype=torch.float64)),
     (T(make=lambda: torch.rand(S, 2, dtype=torch.float64)), True, True), 'full'),
    ('kl_div', T(make=_lsm(S, 10, dim=1)), (T(make=_sm(S, 10, dim=1)),)),
    ('cross_entropy', (3, S), (_long(lambda: torch.randint(S, (3,), dtype=torch.int64)),)),
    ('binary_cross_entropy_with_logits', (3,),
     (nd(lambda: torch.empty(3, dtype=torch.float64).random_(2)),)),
    ('smooth_l1_loss', (3, S), (_rand(3, S),)),
    ('huber_loss', (3, S), (_rand(3, S),)),
    ('l1_loss', (3, S), (_rand(3, S),)),
    ('mse_loss', (3, S), (_rand(3, S),)),
    ('smooth_l1_loss', (3, S), (T(make=lambda: torch.rand(3, S, dtype=torch.float64)),),
     'with_grad'),
    ('huber_loss', (3, S), (T(make=lambda: torch.rand(3, S, dtype=torch.float64)),),
     'with_grad'),
    ('l1_loss', (3, S), (T(make=lambda: torch.rand(3, S, dtype=torch.float64)),), 'with_grad'),
    ('mse_loss', (3, S), (T(make=lambda: torch.rand(3, S, dtype=torch.float64)),), 'with_grad'),
    ('margin_ranking_loss', (S,), (T((S,)), T((S,)))),
    ('hinge_embedding_loss', (3, S), (_rand(3, S),)),
    ('soft_margin_loss', (3, S), (_rand(3, S),)),
    ('multilabel_soft_margin_loss', (3, S), (_rand(3, S),)),
    ('cosine_embedding_loss', (S, S), (T((S, S)), _rand(S))),
    ('pixel_shuffle', (1, 9, 4, 4), (3,)),
    ('pixel_unshuffle', (1, 1, 12, 12), (3,)),
    ('pad', (3, 3, 4, 2), ([1, 1],)),
    ('pairwise_distance', (S, S), (T((S, S)),)),
    ('cosine_similarity', (S, S), (T((S, S)),)),
    ('triplet_margin_loss', (S, S), (T((S, S)), T((S, S)))),
    ('normalize', (S, S, S), ()),
    ('unfold', (S, S, S, S), ([2, 3],)),
    ('fold', (1, 3 * 2 * 2, 12), ([4, 5], [2, 2])),
    ('multilabel_margin_loss', T(make=lambda: torch.tensor([[0.2, -0.2, 0.07]],
                                                           dtype=torch.float64)),
     (_long(lambda: torch.tensor([[0, 0, 1]])),)),
    ('multi_margin_loss', (S, S),
     (_long(lambda: torch.randint(S, (S,), dtype=torch.int64)), 1, 1., _randn(S))),
    ('binary_cross_entropy', T(make=lambda: torch.randn(3, 2, dtype=torch.float64).sigmoid()),
     (_rand(3, 2), _randn(3, 2))),
    ('binary_cross_entropy', T(make=lambda: torch.randn(3, 2, dtype=torch.float64).sigmoid()),
     (_rand(3, 2), _randn(3, 2), None, None, 'mean'), 'size_average'),
    ('ctc_loss', T(make=lambda: torch.rand(S, S, S, dtype=torch.float64).log_softmax(2)),
     (_long(lambda: torch.randint(1, S, (S, S), dtype=torch.long)),
      _long(lambda: torch.full((S,), S, dtype=torch.long)),
      _long(lambda: torch.randint(1, S, (S,), dtype=torch.long)))),
    ('upsample', (S, S, M, M), (None, 2.), 'with_scale'),
    ('upsample', (S, S, M, M), (4,), 'with_size'),
    ('bilinear', (S, S, S), (T((S, S, M)), T(make=lambda: torch.zeros(M, S, M,
                                                                      dtype=torch.float64)))),
    ('embedding_bag', _long(lambda: torch.tensor([1, 2, 4, 2])),
     (T(make=lambda: torch.rand(5, 3, dtype=torch.float64)),
      _long(lambda: torch.tensor([0, 4])))),
    ('affine_grid', (S, 2, 3), ([S, 1, 7, 7],)),
    ('pdist', (S, S), ()),
    ('grid_sample', (S, S, S, S), (_rand(S, S, S, 2),)),
    ('gumbel_softmax', (S, S), (2.,)),
    ('gumbel_softmax', (S, S), (2., True), 'hard'),
    ('conv_tbc', (S, S, S), (T((S, S, S)), T((S,)), 2)),
    ('fractional_max_pool2d', (S, S, S, S), (3, [2, 3]), 'samples',
     {'_random_samples': _rand(S, S, 2)}),
]

# keyword calls (not in PyTorch's table, which passes all arguments positionally): the
# scripted call binds them by torch.nn.functional's own signature
FUNCTIONAL += [
    ('interpolate', (1, 2, 4, 4), (), 'kw_bilinear_align',
     {'scale_factor': 2., 'mode': 'bilinear', 'align_corners': True}),
    ('interpolate', (1, 2, 4), (), 'kw_linear_size', {'size': 7, 'mode': 'linear'}),
    ('softmax', (S, S), (), 'kw_dim_dtype', {'dim': 1, 'dtype': torch.float32}),
    ('log_softmax', (S, S), (), 'kw_dim', {'dim': -1}),
    ('cross_entropy', (3, S), (_long(lambda: torch.tensor([0, 4, 2])),), 'kw_smoothing_sum',
     {'label_smoothing': 0.1, 'reduction': 'sum'}),
    ('nll_loss', T(make=_lsm(2, 3, 4, dim=1)), (_long(lambda: torch.tensor([[0, 2, 1, 1],
                                                                            [2, 2, 0, 1]])),),
     'kw_ignore_index_3d', {'ignore_index': 1, 'reduction': 'none'}),
    ('embedding', _long(lambda: torch.tensor([[1, 2], [3, 0]])),
     (T(make=lambda: torch.rand(4, 3, dtype=torch.float64)),), 'kw_padding_idx',
     {'padding_idx': -1}),
    ('pad', (2, 3, 5), ([1, 2],), 'kw_reflect', {'mode': 'reflect'}),
    ('pad', (2, 3, 4, 4), ([1, 2, 0, 1],), 'kw_value', {'value': 1.5}),
    ('normalize', (S, S), (), 'kw_p_dim', {'p': 1., 'dim': 0}),
    ('max_pool2d', (1, 2, 6, 6), (2,), 'kw_return_indices',
     {'return_indices': True, 'ceil_mode': True}),
    ('gelu', (S, S), (), 'kw_tanh', {'approximate': 'tanh'}),
    ('layer_norm', (S, S), ([S],), 'kw_eps', {'eps': 1e-3}),
    ('conv2d', (1, 2, 6, 6), (T((4, 2, 3, 3)),), 'kw_same_dilated',
     {'padding': 'same', 'dilation': 2}),
    ('conv1d', (1, 4, 7), (T((4, 2, 3)), T((4,))), 'kw_stride_groups',
     {'stride': 2, 'groups': 2}),
    ('dropout', (S, S), (), 'kw_eval', {'p': 0.2, 'training': False}),
    ('batch_norm', (S, S), (_randn(S), _ones(S)), 'kw_training_momentum',
     {'training': True, 'momentum': 0.2}),
    ('hardtanh', (S, S), (), 'kw_bounds', {'min_val': -2., 'max_val': 2.}),
    ('leaky_relu', (S, S), (), 'kw_inplace', {'negative_slope': 0.2, 'inplace': True}),
    ('avg_pool2d', (1, 2, 5, 5), (3,), 'kw_pad_divisor',
     {'stride': 2, 'padding': 1, 'count_include_pad': False, 'divisor_override': 2}),
    ('adaptive_max_pool2d', (1, 2, 5, 5), (3,), 'kw_return_indices', {'return_indices': True}),
    ('binary_cross_entropy_with_logits', (3, 4), (_rand(3, 4),), 'kw_pos_weight',
     {'pos_weight': _rand(4), 'reduction': 'sum'}),
    ('smooth_l1_loss', (3, S), (_rand(3, S),), 'kw_beta', {'beta': 0.5}),
    ('ctc_loss', T(make=_lsm(4, 2, 3, dim=2)),
     (_long(lambda: torch.tensor([1, 1, 2, 1, 2])), _long(lambda: torch.tensor([4, 2])),
      _long(lambda: torch.tensor([2, 3]))), 'kw_concatenated_zero_infinity',
     {'blank': 0, 'reduction': 'sum', 'zero_infinity': True}),
    ('ctc_loss', T(make=_lsm(4, 3, dim=1)),
     (_long(lambda: torch.tensor([2, 0])), _long(lambda: torch.tensor(4)),
      _long(lambda: torch.tensor(2))), 'kw_unbatched_blank', {'blank': 1, 'reduction': 'none'}),
    ('kl_div', T(make=_lsm(S, 4, dim=1)), (T(make=_lsm(S, 4, dim=1)),), 'kw_log_target',
     {'reduction': 'batchmean', 'log_target': True}),
    ('embedding_bag', _long(lambda: torch.tensor([1, 2, 4, 2, 3])),
     (T(make=lambda: torch.rand(5, 3, dtype=torch.float64)),
      _long(lambda: torch.tensor([0, 2, 3]))), 'kw_max_padding_last_offset',
     {'mode': 'max', 'padding_idx': 2, 'include_last_offset': True}),
    ('embedding_bag', _long(lambda: torch.tensor([[1, 2], [4, 0]])),
     (T(make=lambda: torch.rand(5, 3, dtype=torch.float64)),), 'kw_2d_psw_sum',
     {'mode': 'sum', 'per_sample_weights': _rand(2, 2)}),
    ('affine_grid', (2, 3, 4), ([2, 1, 3, 4, 5],), 'kw_3d_align', {'align_corners': True}),
    ('pdist', (4, 3), (), 'kw_p', {'p': 3.}),
    ('grid_sample', (1, 2, 4, 5), (T((1, 3, 3, 2)),), 'kw_nearest_reflection',
     {'mode': 'nearest', 'padding_mode': 'reflection', 'align_corners': True}),
    ('grid_sample', (1, 2, 4, 5), (T((1, 3, 3, 2)),), 'kw_border_align',
     {'padding_mode': 'border', 'align_corners': False}),
    ('grid_sample', (1, 2, 3, 4, 5), (T((1, 2, 3, 3, 3)),), 'kw_5d_reflection',
     {'padding_mode': 'reflection', 'align_corners': False}),
    ('gumbel_softmax', (S, S), (), 'kw_tau_hard_dim', {'tau': 0.5, 'hard': True, 'dim': 0}),
]

for _mode, _dims in (('nearest', (3, 4, 5)), ('area', (3, 4, 5)), ('bilinear', (4,)),
                     ('bicubic', (4,)), ('linear', (3,)), ('trilinear', (5,))):
    for _d in _dims:
        _small = (1,) * (_d - 2) + (3,) * 2 if _d < 5 else (1, 1, 3, 3, 3)
        _big = (S,) * (_d - 2) + (M,) * 2 if _d < 5 else (S, 2, M, M, M)
        if _d == 3:
            _small, _big = (1, 3, 3), (S, M, M)
        _m = "%s_%dd" % (_mode, _d)
        if _d != 5:
            FUNCTIONAL.append(('interpolate', _small, (2, None, _mode), _m))
        FUNCTIONAL.append(('interpolate', _big, (None, 2., _mode), _m + '_with_scale'))
        FUNCTIONAL.append(('interpolate', _big, (4, None, _mode), _m + '_with_size'))
        if _mode != 'area':
            FUNCTIONAL.append(('interpolate', _big, (None, 2., _mode, None, False),
                               _m + '_with_scale_not_recompute_scale_factor'))


def _case_id(case):
    case = case.values[0] if hasattr(case, "values") else case
    return case[0] + ('_' + case[3] if len(case) > 3 and case[3] else '')


def _script_for(name, args, kwargs):
    formals, actuals, tensors = ['i0'], ['i0'], []
    for k, a in [(None, a) for a in args] + list(kwargs.items()):
        prefix = '' if k is None else k + '='
        if isinstance(a, T):
            formals.append('i%d' % len(formals))
            actuals.append(prefix + formals[-1])
            tensors.append(a)
        else:
            actuals.append(prefix + literal(a))
    src = "def the_method(%s):\n    return torch.nn.functional.%s(%s)\n" % (
        ", ".join(formals), name, ", ".join(actuals))
    return src, tensors


@pytest.mark.parametrize("case", FUNCTIONAL, ids=[_case_id(c) for c in FUNCTIONAL])
def test_nn_functional(case):
    name, inp, args = case[:3]
    torch.manual_seed(0)
    inp = T(inp) if isinstance(inp, tuple) else inp
    kwargs = case[4] if len(case) > 4 else {}
    src, tensor_args = _script_for(name, args, kwargs)
    inputs = [inp.make()] + [t.make() for t in tensor_args]
    inplace = len(case) > 3 and 'inplace' in case[3]
    cu = torch.jit.CompilationUnit(src)
    fn = getattr(F, name)
    it = iter(inputs[1:])
    call_args = [next(it) if isinstance(a, T) else a for a in args]
    call_kwargs = {k: next(it) if isinstance(a, T) else a for k, a in kwargs.items()}

    def eager(*xs):
        x = xs[0]
        return fn(x.clone() if inplace else x, *call_args, **call_kwargs)

    def scripted(*xs):
        x = xs[0]
        return cu.the_method(x.clone() if inplace else x, *xs[1:])

    check_against_eager(scripted, eager, inputs)
