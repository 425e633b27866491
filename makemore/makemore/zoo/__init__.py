"""The model zoo behind `python -m makemore`: seven autoregressive character models, one training loop.

The original makemore is one file; this is three, read in this order:

    models.py    bigram, MLP, RNN/GRU/LSTM, BoW, Transformer (the original's --type order), build_model
    training.py  the data as whole words, the loss, sampling, checkpoints, Ctrl-C, and run_training: the loop
    cli.py       the command line (the original's flags, and ours)

original.py reads the original makemore's own work directory (a bare model.pt) into our models.
"""

from makemore.zoo.models import MODELS, ModelConfig, build_model, count_params

__all__ = ["MODELS", "ModelConfig", "build_model", "count_params"]
