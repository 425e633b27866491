import json
import math
from pathlib import Path

import pytest
import torch

from nanogpt import runlog
from nanogpt.checkpoint import ALWAYS_SAVED, MODEL_DEFAULTS, RESUME_KEEPS, load_checkpoint, model_from_checkpoint
from nanogpt.config import KEYS
from nanogpt.optim import configure_optimizer, lr_at
from nanogpt.trainer import evaluate, set_up, train, train_step
from zero_to_hero import UserError

silent = dict(log=lambda *args: None)


def test_lr_schedule_warmup_cosine_floor(tiny_config):
    cfg = tiny_config(learning_rate=1.0, min_lr=0.1, warmup_iters=10, lr_decay_iters=110)
    assert lr_at(0, cfg) == pytest.approx(0.1) and lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(10, cfg) == pytest.approx(1.0)
    assert lr_at(60, cfg) == pytest.approx(0.55)  # half way down the cosine: the mean of 1.0 and 0.1
    assert lr_at(110, cfg) == pytest.approx(0.1) and lr_at(500, cfg) == pytest.approx(0.1)
    assert lr_at(500, tiny_config(learning_rate=1.0, decay_lr=False)) == 1.0


def test_decay_lr_false_trains_at_the_constant_learning_rate_from_the_first_step(tiny_config):
    """nanoGPT: `lr = get_lr(iter_num) if decay_lr else learning_rate` — no warmup either (finetune_shakespeare)."""
    cfg = tiny_config(learning_rate=3e-5, decay_lr=False, warmup_iters=100)
    assert [lr_at(it, cfg) for it in (0, 1, 50, 99, 5000)] == [3e-5] * 5
    run = set_up(cfg, **silent)
    train_step(run, lr_at(0, cfg))
    assert [group["lr"] for group in run.optimizer.param_groups] == [3e-5, 3e-5]


def test_weight_decay_applies_to_matrices_only(tiny_config):
    trainer = set_up(tiny_config(bias=True), **silent)
    decay, no_decay = configure_optimizer(trainer.raw_model, trainer.cfg, trainer.device).param_groups
    names = {id(p): n for n, p in trainer.raw_model.named_parameters()}
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and "transformer.wpe.weight" not in {
        names[id(p)] for p in decay["params"]
    }
    assert {names[id(p)] for p in no_decay["params"]} >= {"transformer.wpe.weight", "transformer.ln_f.bias"}


def test_training_lowers_the_loss_and_writes_metrics_and_checkpoint(tiny_config, tmp_path):
    cfg = tiny_config(max_iters=60, lr_decay_iters=60, eval_interval=30, eval_iters=4)
    trainer = set_up(cfg, **silent)
    initial = evaluate(trainer)["val"]
    metrics = train(trainer)
    assert metrics["val_loss"] < initial - 0.8  # from ~ln(vocab) to clearly below
    saved = json.loads((tmp_path / "out/metrics.json").read_text())
    for key in ("train_loss", "val_loss", "iters", "tokens_per_sec", "seconds", "params"):
        assert saved[key] == metrics[key]
    assert saved["iters"] == 60 and saved["params"] == trainer.raw_model.num_params() and saved["tokens_per_sec"] > 0
    assert [e["iter"] for e in saved["evals"]] == [30, 60]
    assert saved["best_val_loss"] == min(e["val_loss"] for e in saved["evals"])


def test_checkpoint_round_trip_gives_the_same_model(tiny_config):
    trainer = set_up(tiny_config(always_save_checkpoint=True), **silent)
    train(trainer)
    saved = load_checkpoint(trainer.cfg.out_dir)
    model, tokenizer = model_from_checkpoint(saved)
    assert saved["iter_num"] == 12 and tokenizer.meta() == trainer.tokenizer.meta()
    x, y = trainer.eval_batches["val"].next()
    model.eval(), trainer.raw_model.eval()
    torch.testing.assert_close(model(x, y)[0], trainer.raw_model(x, y)[0], rtol=0, atol=0)


@pytest.mark.parametrize("extra", [{}, {"dropout": 0.1, "gradient_accumulation_steps": 2}, {"optimizer": "muon"}])
def test_resumed_run_reproduces_the_uninterrupted_losses(tiny_config, tmp_path, extra):
    full = set_up(tiny_config(**extra, out_dir=str(tmp_path / "full")), **silent)
    train(full)
    # the same run stopped at iteration 6 (a checkpoint is written there), then resumed to 12
    first = set_up(tiny_config(**extra, max_iters=6, always_save_checkpoint=True), **silent)
    train(first)
    resumed = set_up(tiny_config(**extra, init_from="resume"), **silent)
    assert resumed.iter_num == 6
    train(resumed)
    assert first.history + resumed.history == full.history  # every iteration's loss, exactly
    assert len(full.history) == 12
    for a, b in zip(resumed.raw_model.parameters(), full.raw_model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_checkpoint_older_than_the_later_keys_resumes_as_the_model_it_was(tiny_config, tmp_path):
    """Keys added to the architecture (or the optimizer) after a checkpoint was written are, for it, their
    defaults: it resumes, exactly, and still refuses other values of them."""
    full = set_up(tiny_config(out_dir=str(tmp_path / "full")), **silent)
    train(full)
    first = set_up(tiny_config(max_iters=6, always_save_checkpoint=True), **silent)
    train(first)
    path = Path(first.cfg.out_dir) / "ckpt.pt"
    saved = torch.load(path, weights_only=True)
    later = [k for k in RESUME_KEEPS if k not in ALWAYS_SAVED]
    first_model_args = ("vocab_size", "block_size", "n_layer", "n_head", "n_embd", "dropout", "bias")
    saved["model_args"] = {k: saved["model_args"][k] for k in first_model_args}
    saved["config"] = {k: v for k, v in saved["config"].items() if k not in later}
    torch.save(saved, path)
    resumed = set_up(tiny_config(init_from="resume"), **silent)
    assert resumed.iter_num == 6
    assert all(getattr(resumed.cfg, k) == MODEL_DEFAULTS.get(k, KEYS[k].default) for k in later)
    train(resumed)
    assert first.history + resumed.history == full.history
    changes = {"optimizer": "muon", "qk_norm": True, "pos_emb": "rope"}
    for key, value in [(k, v) for k, v in changes.items() if k in later]:
        with pytest.raises(UserError, match=f"cannot resume with {key}={value!r}"):
            set_up(tiny_config(init_from="resume", **{key: value}), **silent)


def test_a_param_groups_lr_scale_multiplies_the_schedules_lr(tiny_config):
    trainer = set_up(tiny_config(), **silent)
    scaled, plain = trainer.optimizer.param_groups[:2]
    scaled["lr_scale"] = 3.0
    plain.pop("lr_scale", None)
    train_step(trainer, 1e-2)
    assert scaled["lr"] == pytest.approx(3e-2) and plain["lr"] == 1e-2


def test_the_clock_counts_training_time_only(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(runlog.time, "perf_counter", lambda: now[0])
    clock = runlog.TrainingClock(earlier_train_seconds=5.0)  # a resumed run: 5 s in earlier sessions
    now[0] += 2.0
    clock.step(), clock.step()
    with clock.paused():  # an evaluation
        now[0] += 10.0
        assert clock.train_seconds == 7.0  # frozen while paused
    now[0] += 1.0
    clock.step()
    assert clock.lap() == 1.0  # 3 s of training over 3 steps; the evaluation's 10 s not among them
    now[0] += 4.0
    clock.step(), clock.step()
    assert clock.lap() == 2.0
    assert (clock.session_seconds, clock.train_seconds, clock.paused_seconds, clock.wall_seconds) == (7, 12, 10, 17)


def test_gradient_accumulation_matches_one_big_batch(tiny_config):
    # 2 micro-batches of 4 draw the same rows from the sampler as one batch of 8
    big = set_up(tiny_config(batch_size=8, out_dir="unused-a"), **silent)
    small = set_up(tiny_config(batch_size=4, gradient_accumulation_steps=2, out_dir="unused-b"), **silent)
    for _ in range(3):
        torch.testing.assert_close(train_step(big, 1e-2), train_step(small, 1e-2))
    for a, b in zip(big.raw_model.parameters(), small.raw_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)  # Adam magnifies float rounding of ~0 gradients


def test_bigram_baseline_trains_through_the_same_loop(tiny_config):
    trainer = set_up(tiny_config(model="bigram", max_iters=40, lr_decay_iters=40, learning_rate=0.1), **silent)
    metrics = train(trainer)
    vocab = trainer.tokenizer.vocab_size
    assert metrics["params"] == vocab * vocab and metrics["val_loss"] < math.log(vocab)


def test_resume_without_a_checkpoint_or_from_a_corrupt_one(tiny_config, tmp_path):
    with pytest.raises(UserError, match="no checkpoint at"):
        set_up(tiny_config(init_from="resume"), **silent)
    (tmp_path / "out").mkdir()
    (tmp_path / "out/ckpt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="corrupt"):
        set_up(tiny_config(init_from="resume"), **silent)


def test_compiled_cpu_model_trains_like_the_eager_one(tiny_config):
    """torch.compile with inductor's C++ wrapper (trainer.compile_model on a CPU) computes the same steps."""
    silent = dict(log=lambda *a: None)
    eager = set_up(tiny_config(out_dir="unused-a"), **silent)
    compiled = set_up(tiny_config(compile=True, out_dir="unused-b"), **silent)
    assert compiled.model is not compiled.raw_model
    for _ in range(3):
        torch.testing.assert_close(train_step(compiled, 1e-2), train_step(eager, 1e-2), rtol=1e-4, atol=1e-5)
    for p_compiled, p_eager in zip(compiled.raw_model.parameters(), eager.raw_model.parameters(), strict=True):
        torch.testing.assert_close(p_compiled, p_eager, rtol=1e-4, atol=1e-5)


def test_metrics_after_a_resume_list_every_evaluation_of_the_run(tiny_config, tmp_path):
    full = train(set_up(tiny_config(out_dir=str(tmp_path / "full"), eval_interval=3), **silent))
    train(set_up(tiny_config(max_iters=6, eval_interval=3, always_save_checkpoint=True), **silent))
    resumed = train(set_up(tiny_config(init_from="resume", eval_interval=3), **silent))
    saved = json.loads((tmp_path / "out/metrics.json").read_text())
    assert [e["iter"] for e in saved["evals"]] == [3, 6, 9, 12] == [e["iter"] for e in resumed["evals"]]
    assert [e["val_loss"] for e in saved["evals"]] == [e["val_loss"] for e in full["evals"]]  # the same run's
    assert saved["best_val_loss"] == min(e["val_loss"] for e in full["evals"])


def test_eval_only_on_a_trained_run_evaluates_the_saved_model_and_changes_none_of_its_files(tiny_config):
    trained = set_up(tiny_config(always_save_checkpoint=True), **silent)
    metrics = train(trained)
    out_dir = Path(trained.cfg.out_dir)
    before = {name: (out_dir / name).read_bytes() for name in ("log.jsonl", "metrics.json", "ckpt.pt")}
    messages = []
    evaluated = train(set_up(tiny_config(eval_only=True), log=messages.append))
    # the saved model (iter 12) on the same fixed batches: the last evaluation of the run, exactly
    assert evaluated["val_loss"] == metrics["val_loss"] and evaluated["train_loss"] == metrics["train_loss"]
    assert evaluated["iters"] == 12 and messages[0].startswith(f"evaluating {out_dir / 'ckpt.pt'} at iter 12")
    assert {name: (out_dir / name).read_bytes() for name in before} == before
    with pytest.raises(UserError, match="no checkpoint at .*nowhere"):  # never a fresh random model
        set_up(tiny_config(eval_only=True, out_dir="nowhere"), **silent)
