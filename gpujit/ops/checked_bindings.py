"""torch.<name> functions that gpujit writes in Python over nn.functional (torch.pdist,
torch.margin_ranking_loss, torch.conv_tbc, torch.native_layer_norm ...): an argument of a
type torch's parser refuses got a Python error from deep in the body (torch.pdist(x, '2'):
"'<' not supported between instances of 'str' and 'int'"), or a shape error. On the failure
path only, the call is checked against torch 2.13's signature (parser_errors.signature_error)
and its TypeError raised instead: "pdist(): argument 'p' (position 2) must be float, not str".
"""
from __future__ import annotations

from . import parser_errors as _pe

__all__ = ["CHECKED", "checked_binding"]

# torch 2.13's aten schemas of these functions (torch._C._jit_get_all_schemas), in its order
CHECKED = {
    "channel_shuffle": ["channel_shuffle(Tensor self, SymInt groups) -> Tensor"],
    "native_channel_shuffle": ["native_channel_shuffle(Tensor self, SymInt groups) -> Tensor"],
    "conv_tbc": ["conv_tbc(Tensor self, Tensor weight, Tensor bias, int pad=0) -> Tensor"],
    "convolution": ["convolution(Tensor input, Tensor weight, Tensor? bias, SymInt[] stride, "
                    "SymInt[] padding, SymInt[] dilation, bool transposed, "
                    "SymInt[] output_padding, SymInt groups) -> Tensor"],
    "cosine_embedding_loss": ["cosine_embedding_loss(Tensor input1, Tensor input2, Tensor "
                              "target, float margin=0., int reduction=1) -> Tensor"],
    "margin_ranking_loss": ["margin_ranking_loss(Tensor input1, Tensor input2, Tensor target, "
                            "float margin=0., int reduction=1) -> Tensor"],
    "hinge_embedding_loss": ["hinge_embedding_loss(Tensor self, Tensor target, "
                             "float margin=1., int reduction=1) -> Tensor"],
    "triplet_margin_loss": ["triplet_margin_loss(Tensor anchor, Tensor positive, Tensor "
                            "negative, float margin=1., float p=2., float eps=1e-06, "
                            "bool swap=False, int reduction=1) -> Tensor"],
    "poisson_nll_loss": ["poisson_nll_loss(Tensor input, Tensor target, bool log_input, "
                         "bool full, float eps, int reduction) -> Tensor"],
    "ctc_loss": ["ctc_loss.IntList(Tensor log_probs, Tensor targets, int[] input_lengths, "
                 "int[] target_lengths, int blank=0, int reduction=1, "
                 "bool zero_infinity=False) -> Tensor",
                 "ctc_loss.Tensor(Tensor log_probs, Tensor targets, Tensor input_lengths, "
                 "Tensor target_lengths, int blank=0, int reduction=1, "
                 "bool zero_infinity=False) -> Tensor"],
    "native_batch_norm": ["native_batch_norm(Tensor input, Tensor? weight, Tensor? bias, "
                          "Tensor? running_mean, Tensor? running_var, bool training, "
                          "float momentum, float eps) -> (Tensor, Tensor, Tensor)"],
    "native_dropout": ["native_dropout(Tensor input, float p, bool? train) -> "
                       "(Tensor, Tensor)"],
    "native_group_norm": ["native_group_norm(Tensor input, Tensor? weight, Tensor? bias, "
                          "SymInt N, SymInt C, SymInt HxW, int group, float eps) -> "
                          "(Tensor, Tensor, Tensor)"],
    "native_layer_norm": ["native_layer_norm(Tensor input, SymInt[] normalized_shape, "
                          "Tensor? weight, Tensor? bias, float eps) -> (Tensor, Tensor, Tensor)"],
    "pairwise_distance": ["pairwise_distance(Tensor x1, Tensor x2, float p=2., "
                          "float eps=1e-06, bool keepdim=False) -> Tensor"],
    "pdist": ["pdist(Tensor self, float p=2.) -> Tensor"],
    "embedding_bag": ["embedding_bag(Tensor weight, Tensor indices, Tensor offsets, "
                      "bool scale_grad_by_freq=False, int mode=0, bool sparse=False, "
                      "Tensor? per_sample_weights=None, bool include_last_offset=False) -> "
                      "(Tensor, Tensor, Tensor, Tensor)",
                      "embedding_bag.padding_idx(Tensor weight, Tensor indices, Tensor offsets, "
                      "bool scale_grad_by_freq, int mode, bool sparse, Tensor? "
                      "per_sample_weights, bool include_last_offset, int? padding_idx) -> "
                      "(Tensor, Tensor, Tensor, Tensor)"],
    "ormqr": ["ormqr(Tensor self, Tensor input2, Tensor input3, bool left=True, "
              "bool transpose=False) -> Tensor"],
    # (in the order torch's error lists them, not its schema order)
    "gradient": ["gradient.array(Tensor self, *, int[] dim, int edge_order=1) -> Tensor[]",
                 "gradient.scalararray(Tensor self, *, Scalar spacing, int[] dim, "
                 "int edge_order=1) -> Tensor[]",
                 "gradient.scalarint(Tensor self, *, Scalar? spacing=None, int? dim=None, "
                 "int edge_order=1) -> Tensor[]",
                 "gradient.scalarrayint(Tensor self, *, Scalar[] spacing, int? dim=None, "
                 "int edge_order=1) -> Tensor[]",
                 "gradient.scalarrayarray(Tensor self, *, Scalar[] spacing, int[] dim, "
                 "int edge_order=1) -> Tensor[]",
                 "gradient.tensorarrayint(Tensor self, *, Tensor[] spacing, int? dim=None, "
                 "int edge_order=1) -> Tensor[]",
                 "gradient.tensorarray(Tensor self, *, Tensor[] spacing, int[] dim, "
                 "int edge_order=1) -> Tensor[]"],
    "rms_norm": ["rms_norm(Tensor input, SymInt[] normalized_shape, Tensor? weight=None, "
                 "float? eps=None) -> Tensor"],
}
for _n, _texts in CHECKED.items():
    _pe._SIGNATURES.setdefault(_n, [(t, False) for t in _texts])


def checked_binding(name, fn):
    """fn (torch.<name>) raising torch's parser TypeError for a call its signature refuses;
    an ordinary call pays one frame."""
    def binding(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception:
            e = _pe.signature_error(name, args, kwargs)
            if e is None:
                raise
            if single:     # (one signature: its own error, never "invalid combination")
                e = _pe._parse(name, _pe._SIGNATURE_PARAMS[name][0], args, kwargs, True) or e
            raise e from None
    single = len(CHECKED[name]) == 1
    binding.__name__ = binding.__qualname__ = name
    binding.__doc__ = fn.__doc__
    binding.__wrapped__ = fn
    # (scripted code compiles fn's source, as before)
    src = getattr(fn, "__gpujit_script_source__", None)
    if src is not None:
        binding.__gpujit_script_source__ = fn if src is True else src
    if hasattr(fn, "__signature__"):
        binding.__signature__ = fn.__signature__
    return binding
