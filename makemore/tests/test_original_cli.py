"""The original makemore's command lines and work directory work with `python -m makemore`."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from makemore.zoo import original
from makemore.zoo.cli import main, parse_args
from makemore.zoo.models import ModelConfig, build_model
from makemore.zoo.training import BEST, LAST, METRICS, SequenceData, generate
from zero_to_hero import UserError, run_main

WORDS = ["ab", "abc", "abcd", "ba", "bad", "cab", "cad", "dab", "dacb", "bcd", "acd", "db"]
SIZES = ["--n-layer", "2", "--n-embd", "8", "--n-embd2", "12", "--n-head", "2"]


@pytest.fixture
def words_file(tmp_path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return path


def test_the_originals_flags_mean_what_ours_do():
    short = parse_args(["--input-file", "x.txt", "--work-dir", "w", "-n", "4", "-b", "16", "-l", "1e-3", "-w", "0.05"])
    long = parse_args(["--input", "x.txt", "--out-dir", "w", "--batch-size", "16", "--learning-rate", "1e-3"])
    assert (short.input, short.out_dir, short.batch_size, short.learning_rate) == ("x.txt", "w", 16, 1e-3)
    assert (long.input, long.out_dir, long.batch_size, long.learning_rate) == ("x.txt", "w", 16, 1e-3)
    assert short.weight_decay == 0.05 and short.num_workers == 4
    assert parse_args(["--max-steps", "-1", "--top-k", "3"]).max_steps == -1


@pytest.mark.parametrize(
    "flags", [["--max-steps", "0"], ["--max-steps", "-2"], ["--top-k", "0"], ["--top-k", "-5"], ["-n", "-1"]]
)
def test_bad_values_exit_2(flags, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(flags)
    assert exit_info.value.code == 2 and flags[0] in capsys.readouterr().err


def test_top_k_1_is_greedy_whatever_the_generator():
    data = SequenceData.from_words(WORDS, seed=0)
    torch.manual_seed(0)
    model = build_model("transformer", ModelConfig(len(data.vocab), data.block_size, 1, 8, 8, 2))
    rows = [generate(model, 3, data.block_size, torch.Generator().manual_seed(s), top_k=1) for s in range(4)]
    assert all(torch.equal(r, rows[0]) for r in rows) and torch.equal(rows[0][0], rows[0][1])
    sampled = [generate(model, 3, data.block_size, torch.Generator().manual_seed(s)) for s in range(4)]
    assert not all(torch.equal(r, sampled[0]) for r in sampled)  # without top-k, seeds differ


def test_max_steps_minus_1_trains_until_ctrl_c_then_saves_and_samples(words_file, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "makemore", "--input-file", str(words_file), "--work-dir", str(out)]
    command += ["--type", "mlp", "--max-steps", "-1", "--log-interval", "5", "--eval-interval", "100000", *SIZES]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until it is training
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith("step") and "until Ctrl-C" in line:
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    log = "".join(lines) + rest
    assert proc.returncode == 0, err
    assert "constant" in log and "Ctrl-C at step" in log and "samples:" in log and "best test loss" in log
    assert (out / BEST).is_file() and (out / LAST).is_file() and (out / METRICS).is_file()
    step = torch.load(out / LAST, weights_only=True)["step"]
    assert step >= 5 and f"Ctrl-C at step {step}:" in log


# ---- the original's work directory: a bare state_dict in model.pt ---------------------------------------------
# The original's parameter names, built here from one of our models by the original's layout (its makemore.py):
# rnn: one Linear on [x, h]; mlp: context concatenated newest character first; bow, transformer: other names.


def originals_state_dict(model_type: str, model: torch.nn.Module) -> dict:
    ours = {k: v.clone() for k, v in model.state_dict().items()}
    if model_type == "rnn":
        return {
            "start": ours["start"].reshape(1, -1),
            "wte.weight": ours["wte.weight"],
            "cell.xh_to_h.weight": torch.cat([ours["cell.x2h.weight"], ours["cell.h2h.weight"]], dim=1),
            "cell.xh_to_h.bias": ours["cell.x2h.bias"] + ours["cell.h2h.bias"],
            "lm_head.weight": ours["lm_head.weight"],
            "lm_head.bias": ours["lm_head.bias"],
        }
    if model_type == "mlp":
        weight, n_embd = ours["mlp.0.weight"], ours["wte.weight"].shape[1]
        ours["mlp.0.weight"] = weight.view(weight.shape[0], -1, n_embd).flip(1).reshape(weight.shape)
        return ours
    if model_type == "bow":
        renamed = {k.replace("mlp.0.", "context_block.mlp.c_fc.").replace("mlp.2.", "context_block.mlp.c_proj."): v
                   for k, v in ours.items()}  # fmt: skip
        block = ours["wpe.weight"].shape[0]
        return {**renamed, "context_block.cbow.bias": torch.tril(torch.ones(block, block)).view(1, block, block)}
    if model_type == "transformer":
        names = {"qkv": "c_attn", "proj": "c_proj", "mlp.0": "mlp.c_fc", "mlp.2": "mlp.c_proj"}
        renamed = {}
        for key, value in ours.items():
            if key == "lm_head.bias":
                continue  # the original's head has no bias (the test model's is zero)
            if key.startswith("blocks."):
                for a, b in names.items():
                    key = key.replace(f".{a}.", f".{b}.")
                key = "transformer.h." + key[len("blocks.") :]
            elif not key.startswith("lm_head"):
                key = "transformer." + key
            renamed[key] = value
        return renamed
    return ours  # bigram: the same names


def naive_rnn_logits(state: dict, idx: torch.Tensor) -> torch.Tensor:
    """The original's recurrence as written: h_t = tanh(W [x_t, h_{t-1}] + b), logits = head(h_t)."""
    h = state["start"].expand(idx.shape[0], -1)
    outputs = []
    for t in range(idx.shape[1]):
        x = state["wte.weight"][idx[:, t]]
        h = torch.tanh(torch.cat([x, h], dim=1) @ state["cell.xh_to_h.weight"].T + state["cell.xh_to_h.bias"])
        outputs.append(h @ state["lm_head.weight"].T + state["lm_head.bias"])
    return torch.stack(outputs, dim=1)


def naive_mlp_logits(state: dict, idx: torch.Tensor, block_size: int, blank: int) -> torch.Tensor:
    """The original's MLP: at each position, the embeddings of the current character, the one before, ...
    (a blank before the start), concatenated in that order."""
    B, T = idx.shape
    logits = torch.empty(B, T, state["mlp.2.weight"].shape[0])
    for t in range(T):
        context = [idx[:, t - k] if t - k >= 0 else torch.full((B,), blank) for k in range(block_size)]
        x = torch.cat([state["wte.weight"][c] for c in context], dim=1)
        hidden = torch.tanh(x @ state["mlp.0.weight"].T + state["mlp.0.bias"])
        logits[:, t] = hidden @ state["mlp.2.weight"].T + state["mlp.2.bias"]
    return logits


@pytest.mark.parametrize("model_type", ["bigram", "mlp", "rnn", "bow", "transformer"])
def test_an_original_work_dir_is_read_by_sample_only_and_resume(model_type, words_file, tmp_path, capsys):
    data = SequenceData.from_words(WORDS, seed=3407)
    config = ModelConfig(len(data.vocab), data.block_size, 2, 8, 12, 2)
    torch.manual_seed(1)
    source = build_model(model_type, config).eval()
    with torch.no_grad():
        for p in source.parameters():
            p.add_(0.3 * torch.randn_like(p))
        if model_type == "transformer":
            source.lm_head.bias.zero_()
    work = tmp_path / "work"
    work.mkdir()
    state = originals_state_dict(model_type, source)
    torch.save(state, work / "model.pt")

    converted = build_model(model_type, config).eval()
    converted.load_state_dict(original.load_converted(work / "model.pt", model_type, converted.state_dict()))
    idx = torch.randint(len(data.vocab), (4, data.block_size), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(converted(idx), source(idx))
        if model_type == "rnn":
            torch.testing.assert_close(converted(idx), naive_rnn_logits(state, idx))
        if model_type == "mlp":
            torch.testing.assert_close(converted(idx), naive_mlp_logits(state, idx, data.block_size, len(data.vocab)))

    flags = ["--input-file", str(words_file), "--work-dir", str(work), "--type", model_type, *SIZES]
    main([*flags, "--sample-only", "--num-samples", "7", "--top-k", "3"])
    printed = capsys.readouterr().out
    assert "written by the original makemore" in printed and "7 samples:" in printed
    metrics = main([*flags, "--resume", "--max-steps", "4", "--eval-interval", "2"])
    log = capsys.readouterr().out
    assert "restarts at step 0" in log and metrics["steps"] == 4 and (work / BEST).is_file()


@pytest.mark.parametrize(
    "model_type, flags, message",
    [
        ("gru", [], "reset gate"),
        ("rnn", ["--n-embd2", "16"], "does not fit a rnn of these sizes"),
        ("rnn", ["--type", "transformer"], "does not fit a transformer"),
    ],
)
def test_an_original_file_we_cannot_use_is_one_clear_line(model_type, flags, message, words_file, tmp_path, capsys):
    data = SequenceData.from_words(WORDS, seed=3407)
    config = ModelConfig(len(data.vocab), data.block_size, 2, 8, 12, 2)
    model = build_model("rnn" if model_type == "gru" else model_type, config)
    state = originals_state_dict("rnn", model)
    if model_type == "gru":  # the original's GRU names
        state = {k.replace("xh_to_h", "xh_to_z"): v for k, v in state.items()}
    work = tmp_path / "work"
    work.mkdir()
    torch.save(state, work / "model.pt")
    argv = ["-i", str(words_file), "-o", str(work), "--type", model_type, *SIZES, "--sample-only", *flags]
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("error: ") and message in err and "Traceback" not in err


def test_a_corrupt_original_file_is_a_user_error(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="model.pt is corrupt or not a checkpoint"):
        original.load_converted(path, "rnn", {})
    torch.save({"weights": [1, 2]}, path)
    with pytest.raises(UserError, match="a state_dict of tensors"):
        original.load_converted(path, "rnn", {})


def test_our_own_checkpoints_win_over_a_model_pt(words_file, tmp_path, capsys):
    out = tmp_path / "out"
    main(["-i", str(words_file), "-o", str(out), "--type", "bigram", "--max-steps", "4", "--eval-interval", "2"])
    (out / "model.pt").write_bytes(b"an unrelated file")
    main(["-i", str(words_file), "-o", str(out), "--type", "bigram", "--sample-only"])
    assert capsys.readouterr().out.splitlines()[-1].strip()  # samples printed from best.pt, model.pt untouched
    assert os.path.getsize(out / "model.pt") == len(b"an unrelated file")
