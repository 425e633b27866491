"""DDP: two torchrun processes (gloo on CPU) train exactly like one process with the same global batch."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nanogpt import distributed
from nanogpt.data import Batches
from nanogpt.trainer import set_up
from zero_to_hero import UserError

HERE = Path(__file__).resolve().parents[1]
TINY = ["--device=cpu", "--n_layer=2", "--n_head=2", "--n_embd=16", "--block_size=16", "--batch_size=4"]
TINY += ["--max_iters=6", "--lr_decay_iters=6", "--warmup_iters=2", "--eval_interval=6", "--eval_iters=2"]
TINY += ["--log_interval=1", "--learning_rate=1e-2", "--always_save_checkpoint=true", "--dataset=corpus.txt"]


def train(folder, out_dir, *args, nproc=1):
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    command = [*(launcher if nproc > 1 else [sys.executable]), str(HERE / "train.py"), *TINY, *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    env["OMP_NUM_THREADS"] = "1"  # what torchrun sets for its workers; the same for the single process
    result = subprocess.run([*command, f"--out_dir={out_dir}"], cwd=folder, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_two_processes_equal_one_with_the_same_global_batch(corpus, tmp_path):
    (tmp_path / "corpus.txt").write_text(corpus.read_text())
    # 4 micro-batches of 4 per step: one process does all 4; each of 2 ranks does 2, so the first of
    # them runs under no_sync and only the second all-reduces
    single = train(tmp_path, "one", "--gradient_accumulation_steps=4")
    ddp = train(tmp_path, "two", "--gradient_accumulation_steps=4", nproc=2)
    losses = [re.findall(r"step \d+/6 \| loss (\d\.\d+)", out) for out in (single, ddp)]
    assert len(losses[0]) == 6 and losses[0] == losses[1]
    assert "DDP: 2 processes, 2 micro-steps each per iteration" in ddp
    assert ddp.count("final: train loss") == 1 and ddp.count("step 1/6 |") == 1  # rank 0 alone reports
    metrics = [json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("one", "two")]
    assert [m["world_size"] for m in metrics] == [1, 2]
    assert metrics[1]["val_loss"] == pytest.approx(metrics[0]["val_loss"], abs=1e-5)
    weights = [torch.load(tmp_path / name / "ckpt.pt", weights_only=True)["model"] for name in ("one", "two")]
    for name, tensor in weights[0].items():
        torch.testing.assert_close(weights[1][name], tensor, rtol=1e-4, atol=1e-5)


def test_ranks_split_the_global_micro_batch_of_one_stream(tmp_path):
    np.arange(5000, dtype=np.uint16).tofile(tmp_path / "t.bin")
    np.arange(2000, dtype=np.uint16).tofile(tmp_path / "a.bin")
    np.arange(3000, dtype=np.uint16).tofile(tmp_path / "b.bin")
    for files in (tmp_path / "t.bin", [tmp_path / "a.bin", tmp_path / "b.bin"]):  # a .bin file, a shard folder's
        whole = Batches(files, 8, 6, seed=3)
        ranks = [Batches(files, 8, 3, seed=3, rank=r, world_size=2) for r in range(2)]
        for _ in range(3):
            x = whole.next()[0]
            parts = [batches.next()[0] for batches in ranks]
            assert torch.equal(torch.cat(parts), x) and not torch.equal(parts[0], parts[1])


def test_gradient_accumulation_must_split_over_the_ranks(tiny_config, monkeypatch):
    monkeypatch.setattr(distributed, "setup", lambda device, backend: (distributed.World(0, 0, 2), device))
    with pytest.raises(UserError, match=r"gradient_accumulation_steps \(3\) must be a multiple of the number of"):
        set_up(tiny_config(gradient_accumulation_steps=3), log=lambda *a: None)
