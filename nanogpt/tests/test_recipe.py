"""The build-nanogpt recipe: total_batch_size, configs/gpt2_fineweb.py, log.jsonl, samples, HellaSwag, the plot;
and the CPU target: 2 torchrun processes (gloo) on a JSONL corpus log on schedule and resume exactly."""

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nanogpt import plot
from nanogpt.config import accumulation_steps, load_config
from nanogpt.shards import prepare_shards
from zero_to_hero import UserError

HERE = Path(__file__).resolve().parents[1]
TIMING = ("ms_per_iter", "tokens_per_sec", "mfu")


def test_the_recipe_config():
    cfg = load_config(HERE / "configs" / "gpt2_fineweb.py")
    assert cfg.total_batch_size == 524288 == 2**19 and (cfg.batch_size, cfg.block_size) == (64, 1024)
    assert [accumulation_steps(cfg, world) for world in (1, 2, 8)] == [8, 8, 8]  # micro-steps of the world
    assert (cfg.learning_rate, cfg.min_lr, cfg.warmup_iters, cfg.max_iters) == (6e-4, 6e-5, 715, 19073)
    assert (cfg.weight_decay, cfg.beta1, cfg.beta2, cfg.vocab_size) == (0.1, 0.9, 0.95, 50304)
    assert cfg.eval_interval == cfg.hellaswag_interval == cfg.sample_interval == 250 and cfg.sample_count == 4
    assert cfg.checkpoint_interval == 5000
    with pytest.raises(UserError, match=r"must be a multiple of batch_size \* block_size \* processes"):
        accumulation_steps(cfg, 3)  # 8 micro-steps do not split over 3 ranks
    with pytest.raises(UserError, match=r"total_batch_size \(1,000\) must be a multiple of batch_size \* block_size"):
        load_config(HERE / "configs" / "gpt2_fineweb.py", ["--total_batch_size=1000"])


def test_plot_reads_the_log_and_draws_the_curves(tmp_path):
    records = [{"step": 10, "type": "train", "loss": 9.5}, {"step": 20, "type": "train", "loss": 7.0}]
    records += [{"step": 20, "type": "eval", "train_loss": 7.1, "val_loss": 7.2}]
    records += [{"step": 20, "type": "hellaswag", "acc": 0.25, "acc_norm": 0.26, "examples": 8}]
    records += [{"step": 20, "type": "sample", "samples": ["hi"]}]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + '{"step": 3')  # cut line
    series = plot.read_log(tmp_path / "log.jsonl")
    assert series == {"train": [(10, 9.5), (20, 7.0)], "val": [(20, 7.2)], "hellaswag": [(20, 0.26)]}
    plot.main([f"--out_dir={tmp_path}"])
    assert (tmp_path / "log.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the lecture's final figure (build-nanogpt's play.ipynb): GPT-2 124M val 3.2924, HellaSwag 0.2945, GPT-3 0.337
    fig = plot.draw(series)
    left, right = fig.axes
    flat = lambda ax: sorted(line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--")  # noqa: E731
    assert flat(left) == [3.2924] and flat(right) == [0.2945, 0.337]
    assert [len(line.get_xdata()) for line in left.lines if line.get_linestyle() == "-"] == [2, 1]  # train, val
    assert flat(plot.draw(series, baselines=False).axes[1]) == []
    with pytest.raises(UserError, match="no log at"):
        plot.main([f"--out_dir={tmp_path / 'none'}"])


def torchrun(folder, *args):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += [str(HERE / "train.py"), *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def log_records(path):
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in records]


def test_two_processes_run_the_scaled_down_recipe_on_schedule_and_resume_exactly(tmp_path):
    rng = random.Random(0)
    words = ["the", "king", "queen", "shall", "speak", "now", "and", "not", "before", "thee", "Hello"]
    docs = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 60))) for _ in range(400)]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    prepare_shards([tmp_path / "corpus.jsonl"], tmp_path / "shards", shard_tokens=2000, workers=1, log=lambda *a: 0)
    # the recipe config itself, scaled down: a tiny model, 4 x 16 tokens per micro-batch, 256 per step
    # (4 micro-steps of the world: 2 per rank), dropout on so that resuming needs every rank's RNG state
    tiny = [str(HERE / "configs" / "gpt2_fineweb.py"), "--dataset=shards", "--device=cpu", "--compile=false"]
    tiny += ["--n_layer=1", "--n_head=2", "--n_embd=16", "--block_size=16", "--batch_size=4", "--dropout=0.1"]
    tiny += ["--total_batch_size=256", "--warmup_iters=2", "--lr_decay_iters=8", "--log_interval=2"]
    tiny += ["--eval_interval=4", "--eval_iters=3", "--hellaswag_interval=4", "--hellaswag_limit=6"]
    tiny += ["--sample_interval=4", "--sample_tokens=8", "--sample_count=2", "--checkpoint_interval=4"]
    whole = torchrun(tmp_path, *tiny, "--max_iters=8", "--out_dir=whole")
    assert "DDP: 2 processes, 2 micro-steps each per iteration" in whole and "256 tokens per iteration" in whole
    log = log_records(tmp_path / "whole" / "log.jsonl")
    schedule = [(r["step"], r["type"]) for r in log]
    assert schedule == [(2, "train"), (4, "train"), (4, "eval"), (4, "hellaswag"), (4, "sample")] + [
        (6, "train"),
        (8, "train"),
        (8, "eval"),
        (8, "hellaswag"),
        (8, "sample"),
    ]
    assert all(r["grad_norm"] > 0 and r["lr"] > 0 for r in log if r["type"] == "train")
    assert all(r["examples"] == 6 and 0 <= r["acc_norm"] <= 1 for r in log if r["type"] == "hellaswag")
    samples = [r["samples"] for r in log if r["type"] == "sample"]
    assert all(len(s) == 2 and all(t.startswith("Hello, I'm a language model,") for t in s) for s in samples)
    assert whole.count("sample 0 iter 4: ") == 1  # rank 0 alone
    assert {p.name for p in (tmp_path / "whole").iterdir()} >= {"ckpt.pt", "best.pt", "metrics.json", "log.jsonl"}

    # stopped after step 4 (its checkpoint), resumed to 8: the same log, line for line, timings aside
    torchrun(tmp_path, *tiny, "--max_iters=4", "--out_dir=split")
    shutil.copy(tmp_path / "split" / "log.jsonl", tmp_path / "first_half.jsonl")
    resumed = torchrun(tmp_path, *tiny, "--max_iters=8", "--out_dir=split", "--init_from=resume")
    assert "resumed from split/ckpt.pt at iter 4" in resumed
    assert log_records(tmp_path / "split" / "log.jsonl") == log
