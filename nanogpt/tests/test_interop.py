"""nanoGPT's users move here: its config keys and data set names, wandb, init_from=gpt2*, its checkpoints both ways."""

import importlib.util
import json
import pickle
import re
import sys
import types
from pathlib import Path

import pytest
import torch

from nanogpt.checkpoint import load_checkpoint, model_from_checkpoint
from nanogpt.config import load_config
from nanogpt.data import Tokenizer
from nanogpt.model import GPT, GPTConfig
from nanogpt.nanogpt_format import export, model_from_nanogpt, read_meta_pkl
from nanogpt.sampling import sample_text
from nanogpt.trainer import close, set_up, train
from zero_to_hero import UserError

HERE = Path(__file__).resolve().parents[1]
lines = []
logs = dict(log=lines.append)
TINY = dict(n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=4, max_iters=4, lr_decay_iters=4)
TINY.update(warmup_iters=1, eval_interval=2, eval_iters=2, log_interval=1, device="cpu", compile=False)

# a config file as nanoGPT's config/ folder has them: keys only, an import, a computed value
NANOGPT_STYLE_CONFIG = """
import time
out_dir = 'out-shakespeare-char'
eval_interval = 250
eval_iters = 200
log_interval = 10
always_save_checkpoint = False
wandb_log = False
wandb_project = 'shakespeare-char'
wandb_run_name = 'mini-gpt-' + str(int(time.time()))
dataset = 'shakespeare_char'
gradient_accumulation_steps = 1
batch_size = 64
block_size = 256
n_layer = 6
n_head = 6
n_embd = 384
dropout = 0.2
learning_rate = 1e-3
max_iters = 5000
lr_decay_iters = 5000
min_lr = 1e-4
beta2 = 0.99
warmup_iters = 100
"""


def nanogpt_config(tmp_path, text=NANOGPT_STYLE_CONFIG, **overrides):
    path = tmp_path / "train_shakespeare_char.py"
    path.write_text(text)
    values = {**TINY, "out_dir": str(tmp_path / "out"), "data_dir": str(tmp_path / "data"), **overrides}
    return load_config(path, values)


def test_a_nanogpt_config_file_runs_unchanged_with_its_data_set_name(tmp_path):
    cfg = nanogpt_config(tmp_path)
    assert cfg.dataset == "shakespeare_char" and cfg.wandb_project == "shakespeare-char"
    trainer = set_up(cfg, log=lambda *a: None)
    assert trainer.tokenizer.encoding == "char" and trainer.tokenizer.vocab_size == 65  # tiny shakespeare's
    assert train(trainer)["iters"] == 4
    bpe = set_up(nanogpt_config(tmp_path, dataset="shakespeare", overwrite=True), log=lambda *a: None)
    assert bpe.tokenizer.encoding == "gpt2"
    with pytest.raises(UserError, match="nanoGPT's data set 'openwebtext' must be prepared first: python -m nano"):
        set_up(nanogpt_config(tmp_path, dataset="openwebtext", overwrite=True), log=lambda *a: None)


def test_wandb_logs_when_installed_and_says_how_to_install_when_not(tmp_path, monkeypatch):
    calls = []

    class Run:
        def log(self, values, step):
            calls.append(("log", step, values))

        def finish(self):
            calls.append(("finish",))

    fake = types.SimpleNamespace(init=lambda **kw: calls.append(("init", kw)) or Run())
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.setenv("WANDB_MODE", "offline")
    trainer = set_up(nanogpt_config(tmp_path, wandb_log=True), log=lambda *a: None)
    train(trainer)
    close(trainer)
    assert calls[0][0] == "init" and calls[0][1]["project"] == "shakespeare-char"
    assert calls[0][1]["name"].startswith("mini-gpt-") and calls[0][1]["config"]["n_layer"] == 1
    steps = [c[1] for c in calls if c[0] == "log" and "loss" in c[2]]
    assert steps == [1, 2, 3, 4] and calls[-1] == ("finish",)
    assert [c[2]["val_loss"] for c in calls if c[0] == "log" and "val_loss" in c[2]] == [
        e["val_loss"] for e in trainer.evals
    ]
    monkeypatch.setitem(sys.modules, "wandb", None)  # not installed
    messages = []
    set_up(nanogpt_config(tmp_path, wandb_log=True, overwrite=True), log=messages.append)
    assert "wandb_log is set but wandb is not installed (pip install wandb): not logging" in messages[0]


def write_hf_cache(cache: Path, name="gpt2"):
    """A (tiny) GPT-2 in Hugging Face's cache layout: models--gpt2/snapshots/<revision>/."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=50257, n_positions=32, n_embd=8, n_layer=1, n_head=2)
    model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(cache / f"models--{name}" / "snapshots" / "0123abc")
    return model


def test_init_from_gpt2_reads_the_hugging_face_cache_and_says_what_to_do_offline(tmp_path, monkeypatch):
    theirs = write_hf_cache(tmp_path / "hub")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    eval_only = "batch_size = 8\neval_iters = 2\neval_only = True\nwandb_log = False\ninit_from = 'gpt2'\n"
    cfg = nanogpt_config(tmp_path, eval_only, dataset="shakespeare", block_size=32, max_iters=0)
    trainer = set_up(cfg, log=lambda *a: None)
    idx = torch.randint(0, 50257, (2, 32))
    with torch.no_grad():
        torch.testing.assert_close(trainer.raw_model(idx, idx)[0], theirs(idx).logits, rtol=0, atol=1e-5)
    metrics = train(trainer)  # eval_only: losses, no training step
    assert metrics["iters"] == 0 and metrics["val_loss"] > 0 and [e["iter"] for e in metrics["evals"]] == [0]
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match=r"gpt2-medium is not in .*empty and could not be downloaded .*pretrained_dir"):
        set_up(nanogpt_config(tmp_path, init_from="gpt2-medium", dataset="shakespeare"), log=lambda *a: None)


def nanogpt_checkpoint(model: GPT, dataset="shakespeare_char", compiled=True) -> dict:
    """What nanoGPT's train.py saves (built here from the format's description, with its field names)."""
    c = model.config
    prefix = "_orig_mod." if compiled else ""
    args = dict(n_layer=c.n_layer, n_head=c.n_head, n_embd=c.n_embd, block_size=c.block_size, bias=c.bias)
    args.update(vocab_size=c.vocab_size, dropout=0.0)
    return {
        "model": {prefix + k: v for k, v in model.state_dict().items()},
        "optimizer": {},
        "model_args": args,
        "iter_num": 100,
        "best_val_loss": torch.tensor(1.5),
        "config": {"dataset": dataset, "batch_size": 64},
    }


def load_sample_script():
    spec = importlib.util.spec_from_file_location("sample_script", HERE / "sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_py_reads_a_nanogpt_checkpoint_and_its_meta_pkl(tmp_path, monkeypatch, capsys):
    chars = "\n !abcdefghijklmnopqrstuvwxyz"
    torch.manual_seed(3)
    model = GPT(GPTConfig(vocab_size=len(chars), block_size=32, n_layer=1, n_head=2, n_embd=16, bias=True))
    (tmp_path / "out-shakespeare-char").mkdir()
    torch.save(nanogpt_checkpoint(model), tmp_path / "out-shakespeare-char" / "ckpt.pt")
    (tmp_path / "data" / "shakespeare_char").mkdir(parents=True)
    meta = {"vocab_size": len(chars), "itos": dict(enumerate(chars)), "stoi": {ch: i for i, ch in enumerate(chars)}}
    (tmp_path / "data" / "shakespeare_char" / "meta.pkl").write_bytes(pickle.dumps(meta))
    monkeypatch.chdir(tmp_path)  # nanoGPT's layout: data/<dataset>/meta.pkl beside out-*/
    args = ["--out_dir=out-shakespeare-char", "--start=ab", "--max_new_tokens=20", "--device=cpu", "--order=batch"]
    load_sample_script().main(args)  # (nanoGPT's own order: test_tools_bad_input.py)
    expected = sample_text(model, Tokenizer("char", chars), "ab", max_new_tokens=20)[0]
    assert capsys.readouterr().out == expected + "\n" and len(expected) == 22
    # without meta.pkl: GPT-2 BPE; a meta.pkl that would run code is refused
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(types.SimpleNamespace(a=1)))
    with pytest.raises(UserError, match="evil.pkl is not nanoGPT's meta.pkl"):
        read_meta_pkl(tmp_path / "evil.pkl")
    gpt2_model = GPT(GPTConfig(vocab_size=50304, block_size=16, n_layer=1, n_head=2, n_embd=8))
    _, tokenizer = model_from_nanogpt(nanogpt_checkpoint(gpt2_model, "openwebtext"), tmp_path)
    assert tokenizer.encoding == "gpt2"


def test_export_for_nanogpt_round_trips(tmp_path):
    trainer = set_up(load_config(None, {**TINY, "dataset": "tinyshakespeare", "out_dir": str(tmp_path / "ours"),
                                        "data_dir": str(tmp_path / "data"), "always_save_checkpoint": True}),
                      log=lambda *a: None)  # fmt: skip
    train(trainer)
    export(tmp_path / "ours", tmp_path / "theirs")
    theirs = torch.load(tmp_path / "theirs" / "ckpt.pt", weights_only=True)  # what nanoGPT's sample.py does
    assert set(theirs["model_args"]) == {"n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size", "dropout"}
    assert theirs["config"]["dataset"] == "tinyshakespeare" and theirs["iter_num"] == 4
    meta = pickle.loads((tmp_path / "theirs" / "meta.pkl").read_bytes())
    assert meta["vocab_size"] == 65 and meta["itos"][0] == "\n" and meta["stoi"][meta["itos"][10]] == 10
    ours, tokenizer = model_from_checkpoint(load_checkpoint(tmp_path / "ours"))
    back, back_tokenizer = model_from_nanogpt(load_checkpoint(tmp_path / "theirs"), tmp_path / "theirs")
    assert back_tokenizer.itos == tokenizer.itos
    idx = torch.randint(0, 65, (2, 16))
    torch.testing.assert_close(back(idx, idx)[0], ours(idx, idx)[0], rtol=0, atol=0)
    with pytest.raises(UserError, match="no checkpoint at"):
        export(tmp_path / "none", tmp_path / "x")
    assert json.dumps(theirs["model_args"])  # plain values only


@pytest.mark.parametrize(
    "upgrade, named",
    [({"pos_emb": "rope"}, "pos_emb='rope'"), ({"qk_norm": True}, "qk_norm=True"),
     ({"logit_softcap": 15.0}, "logit_softcap=15.0")],
)  # fmt: skip
def test_export_refuses_an_architecture_nanogpt_does_not_have(tmp_path, upgrade, named):
    """qk_norm or a softcap would load into nanoGPT's GPT silently as another model; rope has no wpe to load."""
    cfg = {**TINY, "dataset": "tinyshakespeare", "out_dir": str(tmp_path / "ours"), "data_dir": str(tmp_path / "data")}
    train(set_up(load_config(None, {**cfg, **upgrade, "always_save_checkpoint": True}), log=lambda *a: None))
    with pytest.raises(UserError, match=f"has {re.escape(named)}; nanoGPT's GPT is GPT-2's"):
        export(tmp_path / "ours", tmp_path / "theirs")
    assert not (tmp_path / "theirs" / "ckpt.pt").exists()


def test_export_takes_a_muon_trained_gpt2(tmp_path):
    """The optimizer is not part of the exported model: a Muon-trained GPT-2 architecture exports."""
    cfg = {**TINY, "dataset": "tinyshakespeare", "out_dir": str(tmp_path / "ours"), "data_dir": str(tmp_path / "data")}
    train(set_up(load_config(None, {**cfg, "optimizer": "muon", "always_save_checkpoint": True}), log=lambda *a: None))
    assert export(tmp_path / "ours", tmp_path / "theirs").is_file()
