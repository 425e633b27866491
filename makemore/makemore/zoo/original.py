"""Reading the original makemore's work directory: its `model.pt` is a bare state_dict, named its way.

The original saves `torch.save(model.state_dict(), <work-dir>/model.pt)` and rebuilds the model from the
command line (--type and the sizes) and the vocabulary from --input-file. We do the same, renaming its
parameters to ours. The models compute the same function, except:

- transformer: the original's MLP uses GELU's tanh approximation, ours the exact GELU (logits differ by
  about 1e-3); its lm_head has no bias, which becomes a zero bias here;
- mlp: the original concatenates the context newest character first, ours oldest first (reading order):
  the first layer's columns are reordered;
- gru: the original multiplies the reset gate into the state *before* the candidate's matrix product,
  ours (torch's GRU) after it: the weights cannot be converted, so such a file is refused.
"""

import re

import torch

from zero_to_hero import UserError
from zero_to_hero.checkpoints import load_checkpoint

ORIGINAL_CHECKPOINT = "model.pt"

# (pattern in the original's names, replacement in ours), tried in order; a name matching none is kept
RENAMES = {
    "transformer": [
        (r"^transformer\.wte\.", "wte."),
        (r"^transformer\.wpe\.", "wpe."),
        (r"^transformer\.ln_f\.", "ln_f."),
        (r"^transformer\.h\.(\d+)\.attn\.c_attn\.", r"blocks.\1.attn.qkv."),
        (r"^transformer\.h\.(\d+)\.attn\.c_proj\.", r"blocks.\1.attn.proj."),
        (r"^transformer\.h\.(\d+)\.mlp\.c_fc\.", r"blocks.\1.mlp.0."),
        (r"^transformer\.h\.(\d+)\.mlp\.c_proj\.", r"blocks.\1.mlp.2."),
        (r"^transformer\.h\.(\d+)\.(ln_[12])\.", r"blocks.\1.\2."),
    ],
    "bow": [
        (r"^context_block\.mlp\.c_fc\.", "mlp.0."),
        (r"^context_block\.mlp\.c_proj\.", "mlp.2."),
    ],
    "bigram": [],
    "mlp": [],
    "rnn": [],
}
DROPPED = re.compile(r"(^|\.)attn\.bias$|^context_block\.cbow\.bias$")  # causal masks kept as buffers


def convert(state: dict, model_type: str, ours: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The original's state_dict `state` for `model_type`, as a state_dict for our model (whose own state_dict
    is `ours`, for the names and shapes). A file we cannot use is a UserError saying why."""
    if model_type not in RENAMES:
        why = {
            "gru": "its GRU applies the reset gate before the matrix product, ours (torch's) after: the weights "
            "do not convert",
            "lstm": "the original has no LSTM",
        }[model_type]
        raise UserError(f"cannot use the original makemore's {model_type} model.pt: {why}; train one with ours")
    renamed = {}
    for name, tensor in state.items():
        if DROPPED.search(name):
            continue
        for pattern, replacement in RENAMES[model_type]:
            name, n = re.subn(pattern, replacement, name)
            if n:
                break
        renamed[name] = tensor
    if model_type == "rnn" and "cell.xh_to_h.weight" in renamed:
        # h' = tanh(W [x, h] + b) = tanh(W_x x + b + W_h h): split the matrix, the bias goes with x
        weight, bias = renamed.pop("cell.xh_to_h.weight"), renamed.pop("cell.xh_to_h.bias")
        n_embd = ours["cell.x2h.weight"].shape[1]
        renamed["cell.x2h.weight"], renamed["cell.h2h.weight"] = weight[:, :n_embd], weight[:, n_embd:]
        renamed["cell.x2h.bias"], renamed["cell.h2h.bias"] = bias, torch.zeros_like(bias)
    if model_type == "rnn" and "start" in renamed and renamed["start"].numel() == ours["start"].numel():
        renamed["start"] = renamed["start"].reshape(ours["start"].shape)  # (1, n_embd2) there, (1, 1, n_embd2) here
    if model_type == "mlp" and "mlp.0.weight" in renamed and "wte.weight" in renamed:
        weight = renamed["mlp.0.weight"]  # (n_embd2, block_size * n_embd), block k = the character k steps back
        n_embd = renamed["wte.weight"].shape[1]
        if weight.shape[1] % n_embd == 0:
            renamed["mlp.0.weight"] = weight.view(weight.shape[0], -1, n_embd).flip(1).reshape(weight.shape)
    if model_type == "transformer" and "lm_head.bias" not in renamed and "lm_head.weight" in renamed:
        renamed["lm_head.bias"] = torch.zeros(renamed["lm_head.weight"].shape[0])
    missing = sorted(set(ours) - set(renamed))
    unexpected = sorted(set(renamed) - set(ours))
    wrong = sorted(n for n in set(ours) & set(renamed) if tuple(renamed[n].shape) != tuple(ours[n].shape))
    if missing or unexpected or wrong:
        detail = "; ".join(
            f"{what}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
            for what, names in (("missing", missing), ("unexpected", unexpected), ("other shape", wrong))
            if names
        )
        raise UserError(
            f"the original makemore's model.pt does not fit a {model_type} of these sizes ({detail}); "
            "give the --type, --n-layer, --n-embd, --n-embd2, --n-head and --input-file it was trained with"
        )
    return renamed


def load_converted(path, model_type: str, ours: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Read an original `model.pt` (weights only) and convert it; see `convert`."""
    state = load_checkpoint(path, hint="give the --work-dir of an original makemore run, or train one with ours")
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path} is not an original makemore model.pt (a state_dict of tensors)")
    return convert(state, model_type, ours)
