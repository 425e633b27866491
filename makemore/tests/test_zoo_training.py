"""The zoo's data, training loop, checkpoints and CLI, on tiny synthetic word lists."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from makemore.data import Vocab
from makemore.zoo.cli import main
from makemore.zoo.models import MODELS, ModelConfig, build_model
from makemore.zoo.training import (
    BEST,
    IGNORE,
    LAST,
    SequenceData,
    TrainConfig,
    evaluate_sequences,
    generate,
    load_checkpoint,
    run_training,
    sample_groups,
)
from zero_to_hero import UserError, run_main

WORDS = ["ab", "abc", "abcd", "ba", "bad", "cab", "cad", "dab", "dacb", "bcd", "acd", "db"]
SMALL = ["--n-layer", "1", "--n-embd", "8", "--n-embd2", "16", "--n-head", "2", "--log-interval", "10"]


def setup(words=WORDS, seed=0):
    data = SequenceData.from_words(words, seed=seed)
    return data, ModelConfig(len(data.vocab), data.block_size, n_layer=1, n_embd=8, n_embd2=16, n_head=2)


def quiet(*args):
    pass


def test_build_sequences_pads_and_shifts():
    data = SequenceData(Vocab.from_words(["emma", "bo"]), 5, ["emma"], ["bo"])  # itos . a b e m o
    X, Y = data.build_sequences(["emma", "bo"])
    assert X.tolist() == [[0, 3, 4, 4, 1], [0, 2, 5, 0, 0]]
    assert Y.tolist() == [[3, 4, 4, 1, 0], [2, 5, 0, IGNORE, IGNORE]]
    assert data.decode(torch.tensor([2, 5, 0, 3])) == "bo" and data.decode(torch.tensor([4, 1])) == "ma"


@pytest.mark.parametrize("n, n_test", [(2, 1), (9, 1), (25, 2), (20_000, 1000)])
def test_split_is_min_1000_or_10_percent_seeded(n, n_test):
    words = [f"w{i}" for i in range(n)]
    data = SequenceData.from_words(words, seed=3)
    assert len(data.test_words) == n_test and sorted(data.train_words + data.test_words) == sorted(words)
    assert data.block_size == len(f"w{n - 1}") + 1
    assert SequenceData.from_words(words, seed=3) == data
    if n >= 25:
        assert SequenceData.from_words(words, seed=4).test_words != data.test_words


def test_a_single_word_is_refused():
    with pytest.raises(UserError, match="at least 2 items"):
        SequenceData.from_words(["anna"], seed=0)


def test_generate_gives_rows_of_block_size_and_samples_are_grouped():
    data, config = setup()
    torch.manual_seed(0)
    model = build_model("transformer", config)
    rows = generate(model, 7, data.block_size, torch.Generator().manual_seed(0))
    assert rows.shape == (7, data.block_size) and rows.max() < len(data.vocab)
    groups = sample_groups(model, data, 30, torch.Generator().manual_seed(0))
    assert list(groups) == ["in train", "in test", "new"] and sum(map(len, groups.values())) == 30
    assert set(groups["in train"]) <= set(data.train_words) and not set(groups["new"]) & set(WORDS)


@pytest.mark.parametrize("model_type", [m for m in MODELS if m != "bigram"])
def test_loss_falls_on_a_tiny_data_set(model_type, tmp_path):
    data, config = setup()
    torch.manual_seed(7)
    X, Y = data.build_sequences(data.train_words)
    before = evaluate_sequences(build_model(model_type, config), X, Y)
    cfg = TrainConfig(max_steps=150, batch_size=8, learning_rate=2e-2, eval_interval=150, log_interval=150, seed=7)
    metrics = run_training(model_type, config, data, cfg, tmp_path, torch.device("cpu"), log=quiet)
    assert metrics["train_loss"] < 0.75 * before, (before, metrics)
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert {"train_loss", "test_loss", "steps", "seconds", "params", "type"} <= metrics.keys()
    assert metrics["steps"] == 150 and metrics["type"] == model_type


def test_trained_bigram_reaches_the_counting_solution(tmp_path):
    # The best a bigram can do is the table of normalized counts: training must get there.
    data, config = setup()
    X, Y = data.build_sequences(data.train_words)
    counts = torch.zeros(len(data.vocab), len(data.vocab))
    counts.index_put_((X[Y != IGNORE], Y[Y != IGNORE]), torch.tensor(1.0), accumulate=True)
    probs = counts / counts.sum(1, keepdim=True).clamp(min=1)
    optimum = -probs[X[Y != IGNORE], Y[Y != IGNORE]].log().mean().item()
    cfg = TrainConfig(max_steps=300, batch_size=11, learning_rate=0.2, weight_decay=0, eval_interval=300, seed=2)
    metrics = run_training("bigram", config, data, cfg, tmp_path, torch.device("cpu"), log=quiet)
    assert optimum < metrics["train_loss"] < optimum + 0.02, (optimum, metrics["train_loss"])


def test_checkpoint_round_trip_rebuilds_the_best_model(tmp_path):
    data, config = setup()
    cfg = TrainConfig(max_steps=30, batch_size=8, learning_rate=1e-2, eval_interval=10, seed=1)
    metrics = run_training("gru", config, data, cfg, tmp_path, torch.device("cpu"), log=quiet)
    ckpt = torch.load(tmp_path / BEST, weights_only=True)
    assert ckpt["type"] == "gru" and ckpt["step"] == metrics["best_step"] and ckpt["itos"] == list(data.vocab.itos)
    model = build_model(ckpt["type"], ModelConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    assert evaluate_sequences(model, *data.build_sequences(data.test_words)) == pytest.approx(
        metrics["test_loss"], abs=1e-6
    )
    assert ckpt["test_loss"] == pytest.approx(metrics["test_loss"], abs=1e-6)
    assert not list(tmp_path.glob("*.tmp"))  # written to a temporary file, then renamed


def test_resume_continues_exactly_where_training_stopped(tmp_path):
    data, config = setup()
    cfg = TrainConfig(max_steps=20, batch_size=4, learning_rate=1e-2, eval_interval=10, seed=5)
    straight = run_training("lstm", config, data, cfg, tmp_path / "a", torch.device("cpu"), log=quiet)

    def ctrl_c_after_first_checkpoint(line):
        if "samples:" in line:  # the samples follow the step-10 checkpoint
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_training("lstm", config, data, cfg, tmp_path / "b", torch.device("cpu"), log=ctrl_c_after_first_checkpoint)
    assert torch.load(tmp_path / "b" / LAST, weights_only=True)["step"] == 10
    lines = []
    resumed = run_training(
        "lstm", config, data, cfg, tmp_path / "b", torch.device("cpu"), resume=True, log=lines.append
    )
    assert lines[0].startswith("resumed from") and "at step 10" in lines[0]
    a, b = (torch.load(tmp_path / d / LAST, weights_only=True) for d in "ab")
    assert a["step"] == b["step"] == 20
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert resumed["test_loss"] == straight["test_loss"] and resumed["steps"] == 20


def test_resume_refuses_a_different_model_or_a_finished_run(tmp_path):
    data, config = setup()
    cfg = TrainConfig(max_steps=10, batch_size=4, eval_interval=10)
    run_training("rnn", config, data, cfg, tmp_path, torch.device("cpu"), log=quiet)
    with pytest.raises(UserError, match="trained with type = 'rnn'"):
        run_training("gru", config, data, cfg, tmp_path, torch.device("cpu"), resume=True, log=quiet)
    with pytest.raises(UserError, match="already trained 10 steps"):
        run_training("rnn", config, data, cfg, tmp_path, torch.device("cpu"), resume=True, log=quiet)
    with pytest.raises(UserError, match="no checkpoint"):
        run_training("rnn", config, data, cfg, tmp_path / "nothing", torch.device("cpu"), resume=True, log=quiet)


def test_a_corrupt_checkpoint_is_a_user_error(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="bad.pt is corrupt or not a checkpoint .*; train one first"):
        load_checkpoint(tmp_path / "bad.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(UserError, match="other.pt is not a makemore checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(UserError, match="list.pt holds a list, not a dict"):
        load_checkpoint(tmp_path / "list.pt")
    with pytest.raises(UserError, match="is a folder, not a file"):
        load_checkpoint(tmp_path)


@pytest.fixture
def words_file(tmp_path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return path


def test_cli_trains_then_samples_from_the_best_checkpoint(words_file, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["-i", str(words_file), "-o", str(out), "--type", "bow", "--max-steps", "20", "--eval-interval", "10"]
    metrics = main(args + SMALL)
    log = capsys.readouterr().out
    assert (
        "step 10/20 | loss " in log
        and "words/s" in log
        and "ms/step" in log
        and "ETA" in log
        and "test loss" in log
        and "samples:" in log
    )
    assert json.loads((out / "metrics.json").read_text())["test_loss"] == metrics["test_loss"]
    main(["-i", str(words_file), "-o", str(out), "--sample-only", "--num-samples", "25"])
    printed = capsys.readouterr().out
    assert printed.startswith(f"bow from {out / BEST}") and "25 samples:" in printed
    assert "10 samples:" in log and "50 samples:" not in log  # training samples 10 words at each evaluation
    again = main(args + SMALL + ["--overwrite"])  # seeded: the same run gives the same numbers
    assert (again["train_loss"], again["test_loss"]) == (metrics["train_loss"], metrics["test_loss"])


def test_sample_only_prints_50_words_like_the_original(words_file, tmp_path, capsys):
    """The original makemore's --sample-only calls print_samples(num=50); --num-samples still chooses."""
    out = tmp_path / "out"
    main(["-i", str(words_file), "-o", str(out), "--type", "bigram", "--max-steps", "3"] + SMALL)
    capsys.readouterr()
    main(["-i", str(words_file), "-o", str(out), "--sample-only"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("50 samples: ")
    words = [w for line in lines[2:] for w in line.split(":", 1)[1].split()]  # "  new: w1 w2 ...", one per group
    assert len(words) == 50
    main(["-i", str(words_file), "-o", str(out), "--sample-only", "--num-samples", "7"])
    assert capsys.readouterr().out.splitlines()[1].startswith("7 samples: ")


def test_cli_samples_10_per_evaluation_and_50_with_sample_only_by_default():
    from makemore.zoo.cli import parse_args

    assert parse_args([]).num_samples == 10 and parse_args(["--sample-only"]).num_samples == 50
    assert (
        parse_args(["--num-samples", "3"]).num_samples
        == parse_args(["--sample-only", "--num-samples", "3"]).num_samples
        == 3
    )


@pytest.mark.parametrize(
    "content, extra, message",
    [
        ("", [], "is empty"),
        ("  \n\t\n", [], "no usable lines"),
        ("anna\n", [], "at least 2 items"),
        (b"\xff\xfe\x00bad", [], "UTF-8"),
        ("\n".join(WORDS), ["--resume"], "no checkpoint"),
        ("\n".join(WORDS), ["--sample-only"], "no checkpoint"),
        ("\n".join(WORDS), ["--device", "cuda:7"], "cuda"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys, content, extra, message):
    path = tmp_path / "in.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, ["-i", str(path), "-o", str(tmp_path / "out"), "--max-steps", "2", *extra])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_sample_only_refuses_a_different_vocabulary(words_file, tmp_path):
    out = tmp_path / "out"
    main(["-i", str(words_file), "-o", str(out), "--type", "bigram", "--max-steps", "5", *SMALL])
    other = tmp_path / "other.txt"
    other.write_text("xyz\nzyx\n")
    with pytest.raises(UserError, match="trained with itos"):
        main(["-i", str(other), "-o", str(out), "--sample-only"])


def test_python_dash_m_makemore_runs_and_reports_errors(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "makemore", "-i", str(tmp_path / "missing.txt")], capture_output=True, text=True
    )
    assert run.returncode == 2 and run.stderr.startswith("error: ") and "Traceback" not in run.stderr
    assert "missing.txt" in run.stderr


def test_learning_rate_schedules():
    from makemore.zoo.training import lr_at

    cosine = TrainConfig(max_steps=100, learning_rate=1.0)
    assert [round(lr_at(cosine, s), 6) for s in (0, 50, 100)] == [1.0, 0.55, 0.1]
    assert all(lr_at(cosine, s) > lr_at(cosine, s + 1) for s in range(100))
    constant = TrainConfig(max_steps=100, learning_rate=0.3, lr_schedule="constant")
    assert {lr_at(constant, s) for s in range(101)} == {0.3}


def test_weight_decay_shrinks_matrices_only():
    from makemore.zoo.training import param_groups

    _, config = setup()
    model = build_model("transformer", config)
    groups = param_groups(model, 0.5)
    decayed, kept = ({id(p) for p in g["params"]} for g in groups)
    assert [g["weight_decay"] for g in groups] == [0.5, 0.0]
    assert decayed | kept == {id(p) for p in model.parameters()} and not decayed & kept
    # One AdamW step on a zero gradient: only the decay moves anything, so matrices shrink and the rest stays.
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.AdamW(groups, lr=0.1)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    for name, p in model.named_parameters():
        expected = before[name] * (1 - 0.1 * 0.5) if p.dim() >= 2 else before[name]
        torch.testing.assert_close(p.detach(), expected, msg=name)
    assert {n for n, p in model.named_parameters() if p.dim() < 2} >= {"ln_f.weight", "ln_f.bias", "lm_head.bias"}


def test_a_trained_out_dir_is_not_overwritten_without_asking(words_file, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["-i", str(words_file), "-o", str(out), "--type", "bigram", "--max-steps", "4", "--eval-interval", "2"]
    main(args)
    best = (out / BEST).read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "already holds a trained model" in err and "--overwrite" in err
    assert (out / BEST).read_bytes() == best
    main(args + ["--overwrite"])
    assert (out / LAST).is_file()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--learning-rate", "nan"], "--learning-rate must be a number > 0"),
        (["-l", "inf"], "--learning-rate must be a number > 0"),
        (["--weight-decay", "nan"], "--weight-decay must be a number >= 0"),
        (["--dropout", "nan"], "--dropout must be in [0, 1)"),
        (["--overwrite", "--resume"], "--overwrite starts afresh"),
    ],
)
def test_non_finite_values_are_refused_up_front(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--max-steps", "2", *flags])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_an_unusable_out_dir_is_found_before_training(words_file, tmp_path, capsys):
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, ["-i", str(words_file), "-o", str(tmp_path / "taken"), "--max-steps", "2"])
    err = capsys.readouterr()
    assert exit_info.value.code == 2 and "is a file, not a folder" in err.err and "step" not in err.out


def test_a_very_long_line_is_a_clear_error_not_a_huge_allocation():
    words = ["anna", "bob", "x" * 20_000] + [f"name{i}" for i in range(20_000)]
    with pytest.raises(UserError, match=r"is 20,000 characters.*GiB.*split or drop the long lines"):
        SequenceData.from_words(words, seed=0)


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_threads_must_be_auto_or_a_positive_number(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--threads", value, "--max-steps", "2"])
    assert exit_info.value.code == 2 and "--threads must be 'auto' or a whole number >= 1" in capsys.readouterr().err


def test_threads_auto_and_a_number_set_torchs_threads(words_file, tmp_path):
    before = torch.get_num_threads()
    try:
        main(
            ["-i", str(words_file), "-o", str(tmp_path / "a"), "--type", "bigram", "--max-steps", "2", "--threads", "1"]
        )
        assert torch.get_num_threads() == 1
        main(["-i", str(words_file), "-o", str(tmp_path / "b"), "--type", "bigram", "--max-steps", "2"])  # auto
        assert 1 <= torch.get_num_threads() <= (os.cpu_count() or 1)
    finally:
        torch.set_num_threads(before)
