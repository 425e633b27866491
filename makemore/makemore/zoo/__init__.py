"""The model zoo behind `python -m makemore`: seven autoregressive character models, one training loop.

Every model maps token ids (B, T) to next-token logits (B, T, V), and the output at position t
depends on the inputs 0..t only — that is all the training loop and the sampler need to know.

    type         what predicts the next character                          sizes it uses
    bigram       the current character alone (a table)                     -
    mlp          the last block_size characters, concatenated              n_embd, n_embd2
    rnn/gru/lstm a state carried left to right                             n_embd, n_embd2
    bow          the average of everything so far                          n_embd, n_embd2
    transformer  causal self-attention over everything so far              n_layer, n_embd, n_head
"""

from functools import partial

from torch import nn

from makemore.zoo.bigram import Bigram
from makemore.zoo.bow import BoW
from makemore.zoo.config import ModelConfig
from makemore.zoo.mlp import SequenceMLP
from makemore.zoo.recurrent import GRUCell, LSTMCell, Recurrent, RNNCell
from makemore.zoo.transformer import Transformer
from zero_to_hero import UserError

MODELS = {
    "bigram": Bigram,
    "mlp": SequenceMLP,
    "rnn": partial(Recurrent, cell=RNNCell),
    "gru": partial(Recurrent, cell=GRUCell),
    "lstm": partial(Recurrent, cell=LSTMCell),
    "bow": BoW,
    "transformer": Transformer,
}


def build_model(model_type: str, config: ModelConfig) -> nn.Module:
    """A fresh model; an unknown type or a size that cannot work is a UserError."""
    if model_type not in MODELS:
        raise UserError(f"unknown model type {model_type!r}; choose one of {', '.join(MODELS)}")
    for name in ("n_layer", "n_embd", "n_embd2", "n_head"):
        if getattr(config, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(config, name)}")
    if model_type == "transformer" and config.n_embd % config.n_head:
        raise UserError(f"--n-embd ({config.n_embd}) must be divisible by --n-head ({config.n_head})")
    return MODELS[model_type](config)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["MODELS", "ModelConfig", "build_model", "count_params"]
