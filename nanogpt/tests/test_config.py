from pathlib import Path

import pytest

from nanogpt.config import KEYS, TrainConfig, load_config
from zero_to_hero import UserError

NANOGPT_KEYS = """out_dir init_from max_iters lr_decay_iters warmup_iters learning_rate min_lr eval_interval eval_iters
always_save_checkpoint batch_size block_size gradient_accumulation_steps n_layer n_head n_embd dropout bias
weight_decay grad_clip device dtype compile dataset""".split()


def test_nanogpt_key_names_exist():
    assert set(NANOGPT_KEYS) <= set(KEYS)


def test_file_then_overrides(tmp_path):
    path = tmp_path / "c.py"
    path.write_text("import math\n_helper = 3\nn_layer = 2 * _helper\nlearning_rate = 3e-4\nbias = True\n")
    cfg = load_config(path, ["--n_layer=8", "--dropout=0.25", "--compile=false", "--min_lr=0"])
    assert (cfg.n_layer, cfg.learning_rate, cfg.bias, cfg.dropout, cfg.compile) == (8, 3e-4, True, 0.25, False)
    assert cfg.min_lr == 0.0 and isinstance(cfg.min_lr, float)  # an integer is a fine float
    assert cfg.n_head == TrainConfig().n_head  # untouched keys keep their defaults


@pytest.mark.parametrize(
    "arg, message",
    [
        ("--n_layers=2", "unknown config key 'n_layers'.*valid keys: out_dir, init_from"),
        ("--n_layer=2.5", "'n_layer' .* needs an integer, got '2.5'"),
        ("--bias=maybe", "'bias' .* needs true or false"),
        ("--dropout=lots", "'dropout' .* needs a number"),
        ("--n_layer=0", "'n_layer' must be positive"),
        ("--init_from=gpt3", "'init_from' must be one of scratch, resume, gpt2, gpt2-medium"),
        ("--total_batch_size=1000", r"total_batch_size \(1,000\) must be a multiple of batch_size \* block_size"),
        ("--n_embd=30", "multiple of n_head"),
        ("--dropout=1.0", "dropout must be in"),
        ("n_layer=2", "expected --key=value"),
        ("--pos_emb=alibi", "'pos_emb' must be one of learned, rope"),
        ("--norm=batchnorm", "'norm' must be one of layernorm, rmsnorm"),
        ("--mlp_act=swiglu", "'mlp_act' must be one of gelu, relu2"),
        ("--optimizer=sgd", "'optimizer' must be one of adamw, muon"),
        ("--logit_softcap=-1", "'logit_softcap' must be >= 0"),
        ("--muon_lr=0", "muon_lr must be > 0"),
        ("--muon_momentum=1", "'muon_momentum' must be in"),
    ],
)
def test_bad_overrides_are_user_errors(arg, message):
    with pytest.raises(UserError, match=message):
        load_config(None, [arg])


def test_bad_config_files(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_config(tmp_path / "missing.py")
    (tmp_path / "typo.py").write_text("n_layers = 3\n")
    with pytest.raises(UserError, match=r"unknown config key 'n_layers' \(from .*typo.py\); valid keys"):
        load_config(tmp_path / "typo.py")
    (tmp_path / "type.py").write_text("batch_size = '12'\n")
    with pytest.raises(UserError, match="'batch_size' .* needs an integer, got '12'"):
        load_config(tmp_path / "type.py")
    (tmp_path / "broken.py").write_text("n_layer = = 3\n")
    with pytest.raises(UserError, match="broken.py failed: SyntaxError"):
        load_config(tmp_path / "broken.py")


def test_shipped_config_files_load_and_the_default_suits_the_device():
    import importlib.util

    configs = sorted((Path(__file__).parents[1] / "configs").glob("*.py"))
    assert len(configs) >= 2
    for path in configs:
        load_config(path)  # every key known, every value of the right type
    spec = importlib.util.spec_from_file_location("train_script", Path(__file__).parents[1] / "train.py")
    train_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_script)
    cpu = load_config(train_script.default_config_file("cpu"))
    assert (cpu.n_layer, cpu.n_embd, cpu.block_size, cpu.device, cpu.compile) == (4, 128, 64, "cpu", False)


def test_model_keys_have_the_gpt_config_defaults():
    """Every GPTConfig field that is a config key has the same default: the model args come from the config."""
    import dataclasses

    from nanogpt.model import GPTConfig

    shared = [f for f in dataclasses.fields(GPTConfig) if f.name in KEYS]
    assert {"pos_emb", "norm", "qk_norm", "mlp_act", "tie_weights", "zero_init", "logit_softcap"} <= {
        f.name for f in shared
    }
    for f in shared:
        if f.name != "vocab_size":  # 0 in the config: the tokenizer's
            assert KEYS[f.name].default == f.default, f.name
    with pytest.raises(UserError, match="even head size"):
        load_config(None, dict(pos_emb="rope", n_embd=30, n_head=2))
