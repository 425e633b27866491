"""The GPT-2 path end to end on CPU: shard folder as dataset, padded vocabulary, MFU in the metrics."""

from pathlib import Path

import pytest

from nanogpt.config import load_config
from nanogpt.mfu import training_flops_per_token
from nanogpt.shards import prepare_shards
from nanogpt.trainer import evaluate, set_up, train
from zero_to_hero import UserError

silent = dict(log=lambda *a: None)
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_gpt2_config_is_gpt2_124m():
    cfg = load_config(CONFIGS / "gpt2.py")
    assert (cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.block_size, cfg.vocab_size) == (12, 12, 768, 1024, 50304)
    assert cfg.batch_size * cfg.block_size * cfg.gradient_accumulation_steps == 491_520 and cfg.compile


def test_training_on_a_shard_folder_with_a_padded_vocabulary(corpus, tiny_config, tmp_path):
    folder = tmp_path / "shards"
    prepare_shards([corpus], folder, shard_tokens=500, val_tokens=200, workers=1, **silent)
    cfg = tiny_config(dataset=str(folder), vocab_size=50304, peak_flops=1e12, max_iters=30, lr_decay_iters=30)
    trainer = set_up(cfg, **silent)
    assert trainer.tokenizer.vocab_size == 50257 and trainer.raw_model.config.vocab_size == 50304
    initial = evaluate(trainer)["val"]
    metrics = train(trainer)
    assert metrics["val_loss"] < initial - 1.0  # the corpus has ten words: the model finds them quickly
    per_token = training_flops_per_token(metrics["params"], 2, 16, 16)
    assert metrics["mfu"] == pytest.approx(metrics["tokens_per_sec"] * per_token / 1e12)
    assert not (tmp_path / "data").exists()  # nothing prepared: the shards were the data


def test_a_vocab_size_below_the_tokenizer_is_a_user_error(tiny_config):
    with pytest.raises(UserError, match="vocab_size 40 is smaller than the tokenizer's"):
        set_up(tiny_config(encoding="gpt2", vocab_size=40), **silent)


def test_mfu_is_none_on_cpu_without_a_peak(tiny_config):
    assert train(set_up(tiny_config(max_iters=2), **silent))["mfu"] is None
