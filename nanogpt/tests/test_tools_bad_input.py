"""Issue 25: the tools added last (shards, plot, ablation, gpu_check) answer every bad input with one clear line,
never lose work, and never hang; a test for each case."""

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from nanogpt import shards
from nanogpt.shards import prepare_shards
from zero_to_hero import UserError
from zero_to_hero.files import hold_folder

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")])}
quiet = dict(log=lambda *a: None, workers=1)
TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 40


def cli(module, *args, cwd, timeout=120):
    command = [sys.executable, "-m", module, *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV, timeout=timeout)


def one_line_error(result, message: str):
    """Exit 2, nothing on stdout but what ran before, `error: <one line>` on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr, result.stderr


# ---- nanogpt.shards: one folder, one run; another input's shards are not deleted ------------------------------


def test_a_second_shards_run_on_a_held_folder_gets_one_line(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT)
    with hold_folder(tmp_path / "s", "--out_dir"):  # a run in progress (this process)
        result = cli("nanogpt.shards", "a.txt", "--out_dir=s", "--val_tokens=10", "--workers=1", cwd=tmp_path)
    one_line_error(result, f"--out_dir s is in use by another run (pid {os.getpid()}); wait for it")
    assert not list((tmp_path / "s").glob("*.bin")) and not (tmp_path / "s" / "meta.json").exists()
    result = cli("nanogpt.shards", "a.txt", "--out_dir=s", "--val_tokens=10", "--workers=1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # free again


def test_a_finished_folder_of_another_input_is_kept_unless_overwrite(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT)
    (tmp_path / "b.txt").write_text(TEXT.upper())
    first = prepare_shards([tmp_path / "a.txt"], tmp_path / "s", shard_tokens=200, val_tokens=50, **quiet)
    before = {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir()}
    with pytest.raises(UserError, match=r"--out_dir .*s holds the finished shards of another input \(.*a\.txt, "):
        prepare_shards([tmp_path / "b.txt"], tmp_path / "s", shard_tokens=200, val_tokens=50, **quiet)
    assert {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir()} == before  # nothing touched
    result = cli("nanogpt.shards", "b.txt", "--out_dir=s", "--workers=1", cwd=tmp_path)
    one_line_error(result, "pass --overwrite to replace them, or choose another --out_dir")
    # the same input again (even changed, even other sizes) is a re-run: allowed, as before
    assert prepare_shards([tmp_path / "a.txt"], tmp_path / "s", shard_tokens=200, val_tokens=50, **quiet) == first
    result = cli(
        "nanogpt.shards", "b.txt", "--out_dir=s", "--workers=1", "--val_tokens=50", "--overwrite", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "s" / "meta.json").read_text())["inputs"] == ["b.txt"]


def test_shards_that_no_run_recorded_are_kept_unless_overwrite(tmp_path):
    shards.write_synthetic_shards(tmp_path / "s", 50257, tokens=1000)  # a folder of shards without progress.json
    (tmp_path / "a.txt").write_text(TEXT)
    with pytest.raises(UserError, match="holds finished token shards that no run of nanogpt.shards on this input"):
        prepare_shards([tmp_path / "a.txt"], tmp_path / "s", **quiet)
    assert (tmp_path / "s" / "train_000000.bin").stat().st_size == 2000
    meta = prepare_shards([tmp_path / "a.txt"], tmp_path / "s", val_tokens=50, overwrite=True, **quiet)
    assert meta["train"] == ["train_000000.bin"] and "synthetic" not in meta


# ---- nanogpt.shards: bad input ----------------------------------------------------------------------------


def denied(path, *args, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied", str(path))


@pytest.mark.parametrize("name", ["a.txt", "a.jsonl"])
def test_an_unreadable_input_says_permission_denied(tmp_path, monkeypatch, name):
    (tmp_path / name).write_text(TEXT if name.endswith(".txt") else json.dumps({"text": TEXT}) + "\n")
    monkeypatch.setattr(shards, "open", denied, raising=False)  # (tests run as root: chmod would not stop us)
    with pytest.raises(UserError, match=rf"^cannot read .*{name} \(permission denied\)$"):
        prepare_shards([tmp_path / name], tmp_path / "s", **quiet)


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"text": "ok"}\n{"text": "caf\xe9"}\n', r"a.jsonl, line 2: not UTF-8 text"),
        (b'{"text": "ok"}\n{"text": 5}\n', r"a.jsonl, line 2: 'text' is not a string \(int\)"),
        (b'{"text": "ok"}\n{"body": "x"}\n', r"a.jsonl, line 2: no 'text' field \(KeyError\); set --text_key"),
    ],
)
def test_bad_jsonl_lines_are_named(tmp_path, content, message):
    (tmp_path / "a.jsonl").write_bytes(content)
    with pytest.raises(UserError, match=message):
        prepare_shards([tmp_path / "a.jsonl"], tmp_path / "s", **quiet)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shard_tokens=1000000000000"], "shard_tokens 1,000,000,000,000 is too large: at most 2,147,483,648"),
        (["--shard_tokens=0"], "shard_tokens must be a positive whole number, got 0"),
        (["--val_tokens=-5"], "val_tokens must be a positive whole number, got -5"),
        (["--overwrite=maybe"], "--overwrite must be True or False, got 'maybe'"),
    ],
)
def test_absurd_shard_values_are_refused_up_front(tmp_path, args, message):
    (tmp_path / "a.txt").write_text(TEXT)
    result = cli("nanogpt.shards", "a.txt", "--out_dir=s", *args, cwd=tmp_path, timeout=60)
    one_line_error(result, message)
    assert not (tmp_path / "s").exists()


def test_an_empty_input_is_called_empty(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    for name in ("empty.txt", "empty.jsonl"):
        with pytest.raises(UserError, match=rf"^the input is empty: no text in .*{name}; give files"):
            prepare_shards([tmp_path / name], tmp_path / "s", **quiet)
    (tmp_path / "small.txt").write_text("a few tokens\n")
    with pytest.raises(UserError, match="the corpus has only 5 tokens, all taken by val; lower val_tokens"):
        prepare_shards([tmp_path / "small.txt"], tmp_path / "s", val_tokens=1000, **quiet)


@pytest.mark.parametrize("what", ["shard", "progress.json"])
def test_a_full_disk_is_one_line_and_keeps_the_finished_shards(tmp_path, monkeypatch, what):
    (tmp_path / "a.txt").write_text(TEXT * 3)
    real_atomic_path, real_write_json = shards.atomic_path, shards.write_json
    written = []

    def atomic_path(path):  # the third shard finds the disk full
        written.append(path)
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_atomic_path(path)

    def write_json(path, data, indent=2):
        raise OSError(errno.ENOSPC, "No space left on device")

    if what == "shard":
        monkeypatch.setattr(shards, "atomic_path", atomic_path)
        match = r"cannot write .*train_000001.bin \(no space left on device\); the shards finished so far are kept"
    else:
        monkeypatch.setattr(shards, "write_json", write_json)
        match = r"cannot write .*progress.json \(no space left on device\)"
    with pytest.raises(UserError, match=match):
        prepare_shards([tmp_path / "a.txt"], tmp_path / "s", shard_tokens=200, val_tokens=100, piece_chars=100, **quiet)
    assert not (tmp_path / "s" / "meta.json").exists()
    monkeypatch.setattr(shards, "atomic_path", real_atomic_path)
    monkeypatch.setattr(shards, "write_json", real_write_json)
    meta = prepare_shards([tmp_path / "a.txt"], tmp_path / "s", shard_tokens=200, val_tokens=100, **quiet)
    tokens = np.concatenate([np.fromfile(tmp_path / "s" / f, dtype=np.uint16) for f in meta["val"] + meta["train"]])
    assert len(tokens) == meta["train_tokens"] + 100 and tokens[0] == shards.EOT


INTERRUPTED_RUN = """
import sys
from nanogpt.shards import prepare_shards
from zero_to_hero import run_main

run_main(prepare_shards, [sys.argv[1]], sys.argv[2], shard_tokens=100_000, workers=2, piece_chars=200)
"""


@pytest.mark.parametrize("signum, status, stderr", [(signal.SIGINT, 130, "interrupted\n"), (signal.SIGTERM, 143, "")])
def test_ctrl_c_or_sigterm_with_workers_stops_at_once_and_leaves_no_worker(tmp_path, signum, status, stderr):
    """Ctrl-C (or kill -TERM) goes to the whole process group: one line at most, the status of the signal, no
    traceback, no hang (a worker killed mid-send used to hang the pool's shutdown), no worker left behind; a
    re-run continues after the finished shards."""
    line = "the quick brown fox jumps over the lazy dog, again and again\n"
    (tmp_path / "big.txt").write_text(line * 200_000)  # ~12 MB: seconds of encoding on 2 workers
    command = [sys.executable, "-c", INTERRUPTED_RUN, str(tmp_path / "big.txt"), str(tmp_path / "s")]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            start_new_session=True)  # a process group of its own, as a terminal's job  # fmt: skip
    try:
        for _ in range(600):  # the pool is at work once the first shard is written
            if (tmp_path / "s" / "val_000000.bin").exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == status and err == stderr, err
    assert "Traceback" not in out + err
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", str(tmp_path / "big.txt")], capture_output=True, text=True).stdout.split()
    assert left == []
    meta = prepare_shards([tmp_path / "big.txt"], tmp_path / "s", shard_tokens=100_000, workers=2, log=lambda *a: None)
    assert meta["val_tokens"] + meta["train_tokens"] == 200_000 * len(tiktoken_gpt2().encode_ordinary(line)) + 1


def tiktoken_gpt2():
    import tiktoken

    return tiktoken.get_encoding("gpt2")


# ---- sample.py: nanoGPT's order for nanoGPT's checkpoints --------------------------------------------------


def nanogpt_order_samples(state, model_args, start_ids, num_samples, max_new_tokens, temperature, top_k, seed):
    """nanoGPT's sample.py, re-implemented step by step: seed the global generator, then build the model (its
    init draws from it; our GPT draws exactly as nanoGPT's, checked by hand against nanoGPT's model.py), load
    the weights, and draw the samples one at a time: crop to block_size, last logits / temperature, keep the
    top_k, softmax, one multinomial draw from the global generator."""
    from nanogpt.model import GPT, GPTConfig

    torch.manual_seed(seed)
    model = GPT(GPTConfig(**{k: v for k, v in model_args.items() if k != "dropout"}))
    model.load_state_dict(state)
    model.eval()
    samples = []
    with torch.no_grad():
        for _ in range(num_samples):
            idx = torch.tensor([start_ids])
            for _ in range(max_new_tokens):
                logits, _ = model(idx[:, -model_args["block_size"] :])
                logits = logits[:, -1, :] / temperature
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
                idx = torch.cat((idx, torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1)), dim=1)
            samples.append(idx[0].tolist())
    return samples


@pytest.fixture
def nanogpt_run(tmp_path, monkeypatch):
    """nanoGPT's layout: out-shakespeare-char/ckpt.pt (its keys) and data/shakespeare_char/meta.pkl."""
    import pickle

    from nanogpt.model import GPT, GPTConfig

    chars = "\n !',.:;?abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    args = dict(n_layer=2, n_head=2, n_embd=32, block_size=24, bias=False, vocab_size=len(chars), dropout=0.0)
    torch.manual_seed(5)
    model = GPT(GPTConfig(**{k: v for k, v in args.items() if k != "dropout"}))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)  # a spread-out distribution: samples that differ by order
    state = {f"_orig_mod.{k}": v for k, v in model.state_dict().items()}  # as nanoGPT saves a compiled model
    checkpoint = dict(model=state, model_args=args, config={"dataset": "shakespeare_char"}, iter_num=5)
    (tmp_path / "out-shakespeare-char").mkdir()
    torch.save(checkpoint, tmp_path / "out-shakespeare-char" / "ckpt.pt")
    meta = {"vocab_size": len(chars), "itos": dict(enumerate(chars)), "stoi": {c: i for i, c in enumerate(chars)}}
    (tmp_path / "data" / "shakespeare_char").mkdir(parents=True)
    (tmp_path / "data" / "shakespeare_char" / "meta.pkl").write_bytes(pickle.dumps(meta))
    monkeypatch.chdir(tmp_path)
    return model.state_dict(), args, chars


def sample_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("sample_script", PACKAGE_ROOT / "sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_samples_from_a_nanogpt_checkpoint_follow_nanogpt_order(nanogpt_run, capsys):
    state, args, chars = nanogpt_run
    main = sample_script().main
    common = ["--out_dir=out-shakespeare-char", "--start=AB", "--num_samples=3", "--max_new_tokens=60", "--device=cpu"]
    main([*common, "--seed=7"])  # --order=auto: a nanoGPT checkpoint gets nanoGPT's order
    expected = nanogpt_order_samples(state, args, [chars.index(c) for c in "AB"], 3, 60, 0.8, 200, seed=7)
    texts = ["".join(chars[i] for i in ids) for ids in expected]
    assert capsys.readouterr().out == ("\n" + "-" * 40 + "\n").join(texts) + "\n"
    assert len(set(texts)) == 3 and all(len(t) == 62 for t in texts)
    main([*common, "--seed=7", "--order=batch"])  # the other order: other text from the same seed
    assert capsys.readouterr().out != ("\n" + "-" * 40 + "\n").join(texts) + "\n"
    main([*common, "--seed=7", "--order=nanogpt"])
    assert capsys.readouterr().out == ("\n" + "-" * 40 + "\n").join(texts) + "\n"


def test_a_char_model_without_meta_pkl_says_meta_pkl_was_not_found(nanogpt_run):
    Path("data/shakespeare_char/meta.pkl").unlink()
    with pytest.raises(UserError) as error:
        sample_script().main(["--out_dir=out-shakespeare-char", "--device=cpu"])
    assert str(error.value) == (
        "no meta.pkl found (looked for out-shakespeare-char/meta.pkl and data/shakespeare_char/meta.pkl): without "
        "one the model would speak GPT-2 BPE (50,257 tokens), but it has 61, a character vocabulary; give "
        "--meta=path/to/meta.pkl (nanoGPT writes it to data/<dataset>/meta.pkl)"
    )


# ---- nanogpt.plot: partial or foreign logs, output paths ---------------------------------------------------

GOOD_LOG = [
    {"type": "train", "step": 0, "loss": 4.2, "lr": 0.001},
    {"type": "eval", "step": 0, "train_loss": 4.1, "val_loss": 4.3},
    {"type": "sample", "step": 0, "text": "hello"},  # another type: not plotted, not an error
    {"type": "train", "step": 1, "loss": 3.9},
    {"type": "hellaswag", "step": 1, "acc": 0.25, "acc_norm": 0.26},
]


def write_log(folder, records, tail=""):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    (folder / "log.jsonl").write_text("\n".join(lines) + "\n" + tail)
    return folder / "log.jsonl"


def test_a_log_cut_by_a_crash_plots_and_its_cut_line_is_skipped(tmp_path):
    from nanogpt import plot

    path = write_log(tmp_path / "run", GOOD_LOG, tail='{"type": "train", "st')
    assert plot.read_log(path) == {"train": [(0, 4.2), (1, 3.9)], "val": [(0, 4.3)], "hellaswag": [(1, 0.26)]}


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"type": "train", "st', r"line 2: not JSON \('{\"type\": \"train\", \"st'\); is this a log.jsonl"),
        ("step,loss", r"line 2: not JSON \('step,loss'\)"),
        ("[1, 2]", r"line 2: a JSON list, not a log record of train.py"),
        ('{"type": "train", "step": 1}', r"line 2: a 'train' record needs a numeric 'step' and 'loss', got step=1"),
        ('{"type": "eval", "step": "5", "val_loss": 2.0}', r"a 'eval' record needs .*got step='5', val_loss=2.0"),
        ('{"type": "train", "step": 2, "loss": NaN}', r"'loss', got step=2, loss=nan"),
    ],
)
def test_partial_or_foreign_log_lines_are_named(tmp_path, line, message):
    from nanogpt import plot

    path = write_log(tmp_path / "run", [GOOD_LOG[0], line, GOOD_LOG[3]])
    with pytest.raises(UserError, match=message):
        plot.read_log(path)


def test_plot_output_paths_are_checked_before_drawing(tmp_path, monkeypatch):
    from nanogpt import plot

    write_log(tmp_path / "run", GOOD_LOG)
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("")
    cases = [
        (tmp_path / "a_folder", "--output .*a_folder is a folder; give a file name such as"),
        (tmp_path / "plot.txt", "unknown image type 'txt'; use .png, .pdf or .svg"),
        (tmp_path / "a_file" / "plot.png", "--output's folder .*a_file is a file, not a folder"),
    ]
    for output, message in cases:
        with pytest.raises(UserError, match=message):
            plot.main([f"--out_dir={tmp_path / 'run'}", f"--output={output}"])
    plot.main([f"--out_dir={tmp_path / 'run'}", f"--output={tmp_path / 'new' / 'deep' / 'curves.png'}"])
    assert (tmp_path / "new" / "deep" / "curves.png").read_bytes()[:4] == b"\x89PNG"  # a missing folder is made

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    import matplotlib.figure

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    with pytest.raises(UserError, match=r"cannot write .*curves.png \(no space left on device\)"):
        plot.main([f"--out_dir={tmp_path / 'run'}", f"--output={tmp_path / 'new' / 'deep' / 'curves.png'}"])
    assert (tmp_path / "new" / "deep" / "curves.png").read_bytes()[:4] == b"\x89PNG"  # the old figure kept
    assert sorted(p.name for p in (tmp_path / "new" / "deep").iterdir()) == ["curves.png"]


# ---- nanogpt.ablation: flag values and --table files ------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seeds=1337,abc"], "--seeds must be comma-separated ints, got '1337,abc'"),
        (["--seeds=,"], "--seeds is empty; give at least one value"),
        (["--targets=1.8,low"], "--targets must be comma-separated floats"),
        (["--targets=nan"], "--targets must be finite numbers"),
        (["--budget=0"], "--budget must be a positive number of seconds, got 0"),
        (["--budget=nan"], "--budget must be a positive number of seconds, got nan"),
        (["--eval_every=-1"], "--eval_every must be a positive number of seconds, got -1"),
    ],
)
def test_ablation_flag_values_are_refused_up_front(args, message, tmp_path):
    from nanogpt import ablation

    with pytest.raises(UserError, match=message):
        ablation.main([*args, f"--out_dir={tmp_path / 'out'}"])
    assert not (tmp_path / "out").exists()


HOLD = """
import sys, time
from zero_to_hero.files import hold_folder

with hold_folder(sys.argv[1], "--out_dir"):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_ablation_out_dir_and_lock_are_checked_before_any_run(tmp_path):
    from nanogpt import ablation

    (tmp_path / "a_file").write_text("")
    # the checkout's configs (an installed package has no configs/ beside it: the defaults are for a checkout)
    configs = (
        PACKAGE_ROOT / "configs" / "shakespeare_char_cpu.py",
        PACKAGE_ROOT / "configs" / "shakespeare_char_modern_cpu.py",
    )
    given = [f"--baseline={configs[0]}", f"--recipe={configs[1]}"]
    with pytest.raises(UserError, match="cannot open --lock .*a_file/lock \\(not a directory\\)"):
        ablation.main(["--fast", *given, f"--lock={tmp_path / 'a_file' / 'lock'}", f"--out_dir={tmp_path / 'out'}"])
    with pytest.raises(UserError, match="--out_dir .*a_file is a file, not a folder"):
        ablation.run_ablation(*configs, ["baseline"], out=tmp_path / "a_file", log=lambda *a: None)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "held")], stdout=subprocess.PIPE, text=True)
    try:  # another process holds the folder: refused before any run
        assert holder.stdout.readline() == "holding\n"
        with pytest.raises(UserError, match=rf"--out_dir .*held is in use by another run \(pid {holder.pid}\)"):
            ablation.run_ablation(*configs, ["baseline"], out=tmp_path / "held", log=lambda *a: None)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "--table .*ablation.json not found; give an ablation.json"),
        ('{"runs": {"baseline": [', r"is not JSON \(line 1: Expecting value\); is it cut short"),
        ('{"loss": 1.5}', "is not an ablation.json \\(no runs, targets, budget\\)"),
        ("[1, 2, 3]", "is not an ablation.json"),
        ('{"runs": {"baseline": [{"seed": 1}]}, "targets": [1.8], "budget": 3}', "is not a complete ablation.json"),
    ],
)
def test_ablation_table_files_missing_corrupt_or_foreign(tmp_path, content, message):
    path = tmp_path / "ablation.json"
    if content is not None:
        path.write_text(content)
    result = cli("nanogpt.ablation", f"--table={path}", cwd=tmp_path, timeout=60)
    one_line_error(result, "")
    assert re.search(message, result.stderr), result.stderr


# ---- nanogpt.gpu_check: --only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "only, message",
    [
        ("", "--only names no check; choose from tests, char"),
        (",, ,", "--only names no check"),
        ("char,gpu", "unknown checks gpu; choose from tests"),
        ("char,bench,char", "--only names char more than once"),
    ],
)
def test_gpu_check_only_must_name_checks(only, message, tmp_path):
    from nanogpt import gpu_check

    with pytest.raises(UserError, match=message):
        gpu_check.main([f"--only={only}", "--dry_run", f"--out_dir={tmp_path / 'out'}"])
    assert not (tmp_path / "out").exists()
