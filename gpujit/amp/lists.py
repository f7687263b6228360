"""PyTorch's autocast op lists (aten/src/ATen/autocast_mode.cpp, torch 2.13), by op name.

Each device type has its own lists, as in PyTorch: CUDA runs softmax, layer_norm, exp, log
and friends in float32; CPU autocast leaves them in the input's dtype and keeps float32
for the losses, linear algebra and a few pooling/upsampling ops. Policies:

  lower       floating inputs (not float64) are cast to the region's dtype
  fp32        floating inputs (not float64) are cast to float32
  fp32_dtype  as fp32, unless the call passes `dtype=` (softmax, sum, cumsum, norm ...)
  promote     floating inputs (not float64) are cast to the widest of them
  banned      raises (CUDA's binary_cross_entropy)

Names of ops gpujit does not have are listed too (they cost nothing): the table is
PyTorch's, so an op added later is covered when it lands.
"""
from __future__ import annotations

_LOWER_CUDA = """
_convolution conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d
conv_transpose3d convolution prelu addmm addmv addr matmul einsum mm mv linalg_vecdot
linear addbmm baddbmm bmm chain_matmul linalg_multi_dot _thnn_fused_lstm_cell
_thnn_fused_gru_cell lstm_cell gru_cell rnn_tanh_cell rnn_relu_cell
_scaled_dot_product_flash_attention scaled_dot_product_attention"""

_FP32_CUDA = """
acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow
softplus layer_norm native_layer_norm group_norm frobenius_norm nuclear_norm
cosine_similarity poisson_nll_loss cosine_embedding_loss nll_loss nll_loss2d nll_loss_nd
hinge_embedding_loss kl_div l1_loss smooth_l1_loss huber_loss mse_loss margin_ranking_loss
multilabel_margin_loss soft_margin_loss triplet_margin_loss multi_margin_loss
binary_cross_entropy_with_logits dist pdist cdist renorm logsumexp upsample_nearest1d
_upsample_nearest_exact1d upsample_nearest2d _upsample_nearest_exact2d upsample_nearest3d
_upsample_nearest_exact3d upsample_linear1d upsample_bilinear2d upsample_trilinear3d
upsample_bicubic2d cross_entropy_loss"""

_FP32_DTYPE_CUDA = """
prod softmax log_softmax cumprod cumsum linalg_vector_norm linalg_matrix_norm sum norm"""

_PROMOTE_CUDA = """
addcdiv addcmul atan2 bilinear cross linalg_cross dot vdot grid_sampler index_put
scatter_add tensordot"""

_BANNED_CUDA = "binary_cross_entropy"

_LOWER_CPU = """
conv1d conv2d conv3d bmm mm linalg_vecdot baddbmm addmm addbmm linear _convolution
matmul conv_tbc mkldnn_rnn_layer conv_transpose1d conv_transpose2d conv_transpose3d prelu
scaled_dot_product_attention _native_multi_head_attention"""

_FP32_CPU = """
avg_pool3d binary_cross_entropy grid_sampler polar prod quantile nanquantile stft cdist
trace view_as_complex cholesky cholesky_inverse cholesky_solve inverse lu_solve orgqr
ormqr pinverse max_pool3d max_unpool2d max_unpool3d adaptive_avg_pool3d reflection_pad1d
reflection_pad2d replication_pad1d replication_pad2d replication_pad3d mse_loss
cosine_embedding_loss nll_loss nll_loss2d nll_loss_nd hinge_embedding_loss
poisson_nll_loss smooth_l1_loss cross_entropy_loss l1_loss huber_loss margin_ranking_loss
soft_margin_loss triplet_margin_loss multi_margin_loss ctc_loss kl_div
multilabel_margin_loss binary_cross_entropy_with_logits fft_fft fft_ifft fft_fft2
fft_ifft2 fft_fftn fft_ifftn fft_rfft fft_irfft fft_rfft2 fft_irfft2 fft_rfftn
fft_irfftn fft_hfft fft_ihfft linalg_cond linalg_matrix_rank linalg_solve
linalg_cholesky linalg_svdvals linalg_eigvals linalg_eigvalsh linalg_inv linalg_householder_product
linalg_tensorinv linalg_tensorsolve fake_quantize_per_tensor_affine geqrf _lu_with_info
qr svd triangular_solve fractional_max_pool2d fractional_max_pool3d adaptive_max_pool3d
multilabel_margin_loss_forward linalg_qr linalg_cholesky_ex linalg_svd linalg_eig
linalg_eigh linalg_lstsq linalg_inv_ex upsample_nearest3d _upsample_nearest_exact3d
upsample_trilinear3d"""

_PROMOTE_CPU = """
stack cat index_copy"""


def _table(**lists):
    t = {}
    for policy, names in lists.items():
        for n in names.split():
            t["aten::" + n] = policy
    return t


# device type -> {"aten::name": policy}
POLICIES = {
    "cuda": _table(lower=_LOWER_CUDA, fp32=_FP32_CUDA, fp32_dtype=_FP32_DTYPE_CUDA,
                   promote=_PROMOTE_CUDA, banned=_BANNED_CUDA),
    "cpu": _table(lower=_LOWER_CPU, fp32=_FP32_CPU, promote=_PROMOTE_CPU),
}

BANNED_MESSAGE = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using "
    "torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")
