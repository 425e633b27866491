"""Issue 16: every bad input a clear error before any work, and nothing lost (checkpoints, data, runs)."""

import errno
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import nanogpt.checkpoint
from nanogpt import runlog
from nanogpt.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from nanogpt.config import load_config, load_config_file
from nanogpt.data import Tokenizer, prepare
from nanogpt.runlog import format_params
from nanogpt.shards import prepare_shards
from nanogpt.trainer import set_up, train
from zero_to_hero import UserError

HERE = Path(__file__).resolve().parents[1]
silent = dict(log=lambda *args: None)


def script(name: str):
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), HERE / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def trained(tiny_config):
    """A finished tiny run: out_dir holds ckpt.pt (written at every evaluation)."""
    trainer = set_up(tiny_config(always_save_checkpoint=True), **silent)
    train(trainer)
    return Path(trainer.cfg.out_dir)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("learning_rate", "nan", "'learning_rate' must be a finite number"),
        ("min_lr", "inf", "'min_lr' must be a finite number"),
        ("weight_decay", "nan", "'weight_decay' must be a finite number"),
        ("weight_decay", "-0.1", "'weight_decay' must be >= 0"),
        ("grad_clip", "inf", "'grad_clip' must be a finite number"),
        ("grad_clip", "-1", "'grad_clip' must be >= 0"),
        ("beta1", "1.0", r"'beta1' must be in \[0, 1\)"),
        ("beta2", "-0.5", r"'beta2' must be in \[0, 1\)"),
        ("threads", "0", "threads must be 'auto' or a whole number >= 1"),
        ("threads", "many", "threads must be 'auto'"),
    ],
)
def test_out_of_range_values_are_refused_up_front(key, value, message):
    with pytest.raises(UserError, match=message):
        load_config(None, [f"--{key}={value}"])


def test_a_config_file_that_calls_sys_exit(tmp_path):
    (tmp_path / "exits.py").write_text("import sys\nn_layer = 2\nsys.exit(0)\n")
    with pytest.raises(UserError, match=r"exits.py called sys.exit\(0\)"):
        load_config_file(tmp_path / "exits.py")


def test_output_folders_are_checked_before_any_work(tiny_config, tmp_path):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(UserError, match="--out_dir .*a_file is a file"):
        set_up(tiny_config(out_dir=str(tmp_path / "a_file")), **silent)
    assert not (tmp_path / "data").exists()  # no data prepared
    with pytest.raises(UserError, match="--data_dir"):
        set_up(tiny_config(data_dir=str(tmp_path / "a_file")), **silent)


def test_a_trained_out_dir_is_not_overwritten_without_asking(trained, tiny_config):
    before = (trained / "ckpt.pt").read_bytes()
    with pytest.raises(UserError, match="already holds a trained ckpt.pt; continue it with --init_from=resume"):
        set_up(tiny_config(), **silent)
    assert (trained / "ckpt.pt").read_bytes() == before
    set_up(tiny_config(overwrite=True), **silent)  # asked for
    set_up(tiny_config(init_from="resume"), **silent)


def test_resume_refuses_other_shapes_or_data_and_reports_other_changes(trained, tiny_config, tmp_path):
    with pytest.raises(UserError, match=r"cannot resume with n_layer=3 \(checkpoint: 2\)"):
        set_up(tiny_config(init_from="resume", n_layer=3), **silent)
    other = tmp_path / "other.txt"
    other.write_text("something else entirely\n" * 20)
    with pytest.raises(UserError, match="cannot resume with dataset="):
        set_up(tiny_config(init_from="resume", dataset=str(other)), **silent)
    messages = []
    resume = tiny_config(init_from="resume", max_iters=20, lr_decay_iters=20, always_save_checkpoint=True)
    set_up(resume, log=messages.append)
    assert "changed since the checkpoint: lr_decay_iters 12 -> 20, max_iters 12 -> 20" in messages
    moved = set_up(tiny_config(init_from="resume", data_dir=str(tmp_path / "data2")), log=messages.append)
    assert moved.cfg.data_dir == str(tmp_path / "data2") and (tmp_path / "data2").is_dir()  # asked for: used
    # from the command line only the keys the user gave count: the default config's n_layer is not "asked for"
    messages.clear()
    set_up(tiny_config(init_from="resume", n_layer=5), log=messages.append, given={"init_from", "out_dir"})


@pytest.mark.parametrize(
    "overrides, cause",
    [
        ({"learning_rate": 1e6, "grad_clip": 0.0}, "lower learning_rate or set grad_clip"),
        ({"weight_decay": 1e4}, "lower weight_decay"),
    ],
)
def test_a_loss_that_becomes_non_finite_stops_training_naming_the_cause(tiny_config, tmp_path, overrides, cause):
    with pytest.raises(UserError, match=f"the loss became nan at iteration .*{cause}"):
        train(set_up(tiny_config(**overrides), **silent))
    assert not (tmp_path / "out/metrics.json").exists()


def test_a_vocabulary_too_large_for_uint16_is_refused(tmp_path):
    text = tmp_path / "many.txt"
    text.write_text("".join(chr(0x10000 + i) for i in range(70_000)), encoding="utf-8")
    with pytest.raises(UserError, match="70,000 distinct characters; token files hold at most 65,536"):
        prepare(str(text), "char", tmp_path / "data")


@pytest.mark.parametrize("damage", ["truncate train.bin", "flip a byte of val.bin", "corrupt meta.json"])
def test_a_damaged_prepared_folder_is_prepared_again(corpus, tmp_path, capsys, damage):
    folder = tmp_path / "data"
    meta = prepare(str(corpus), "char", folder)
    good = {name: (folder / name).read_bytes() for name in ("train.bin", "val.bin")}
    if damage.startswith("truncate"):
        (folder / "train.bin").write_bytes(good["train.bin"][:100])
    elif damage.startswith("flip"):
        (folder / "val.bin").write_bytes(bytes([good["val.bin"][0] ^ 1]) + good["val.bin"][1:])
    else:
        (folder / "meta.json").write_text('{"sha256": ')
    assert prepare(str(corpus), "char", folder) == meta
    assert {name: (folder / name).read_bytes() for name in good} == good
    assert f"preparing {folder} again" in capsys.readouterr().out


def test_checkpoints_are_validated_beyond_their_top_level_keys(trained, tiny_config):
    path = trained / "ckpt.pt"
    good = torch.load(path, weights_only=True)
    resume = tiny_config(init_from="resume")
    save_checkpoint({k: v for k, v in good.items() if k != "optimizer"}, trained)
    with pytest.raises(UserError, match="lacks optimizer"):
        set_up(resume, **silent)
    save_checkpoint({**good, "config": {k: v for k, v in good["config"].items() if k != "n_layer"}}, trained)
    with pytest.raises(UserError, match="its config lacks n_layer; it cannot be resumed"):
        set_up(resume, **silent)
    save_checkpoint({**good, "model_args": {**good["model_args"], "n_embd": 32}}, trained)
    with pytest.raises(UserError, match="does not match its own config"):
        model_from_checkpoint(load_checkpoint(trained))
    with pytest.raises(UserError, match="does not match its own config"):
        set_up(resume, **silent)


def test_a_checkpoint_write_without_space_is_one_line_and_keeps_the_old_one(trained, monkeypatch):
    before = (trained / "ckpt.pt").read_bytes()

    def no_space(obj, f):
        Path(f).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(nanogpt.checkpoint.torch, "save", no_space)
    with pytest.raises(UserError, match="could not write checkpoint .*No space left on device.*previous one is kept"):
        save_checkpoint({"model": {}}, trained)
    assert (trained / "ckpt.pt").read_bytes() == before
    assert sorted(p.name for p in trained.iterdir() if p.name.endswith(".tmp")) == []


def test_threads_are_set_and_reported(tiny_config):
    threads = torch.get_num_threads()
    try:
        messages = []
        trainer = set_up(tiny_config(threads="1", max_iters=1, eval_interval=1), log=messages.append)
        assert torch.get_num_threads() == 1
        train(trainer)
        assert messages[0] == "gpt: 6,560 parameters on cpu (torch.float32), 1 CPU thread"  # no ", " at the end
    finally:
        torch.set_num_threads(threads)


def test_threads_auto_is_measured_once_from_the_command_line_to_the_first_step(tiny_config, monkeypatch):
    import zero_to_hero.device

    measured = []
    monkeypatch.setattr(zero_to_hero.device, "idle_cores", lambda: measured.append(1) or 1)  # 0.25 s each, really
    threads = torch.get_num_threads()
    try:
        run = set_up(tiny_config(threads="auto"), **silent)  # load_config checks the value, set_up measures it
    finally:
        torch.set_num_threads(threads)
    assert measured == [1] and run.threads == 1


def test_parameter_counts_are_never_0_00M():
    assert format_params(6_560) == "6,560" and format_params(10_650_000) == "10.65M"


def test_help_shows_the_defaults_a_run_here_uses(capsys):
    with pytest.raises(SystemExit):
        script("train.py").main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "peak learning rate (AdamW) (0.002)" in out  # the CPU config's, not the dataclass's 0.001
    assert "on a CPU ~3.5% after ~30 s" in out  # a % in a help text is printed, not formatted
    with pytest.raises(SystemExit):
        script("sample.py").main(["--help"])
    assert "(default: 0.8)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--temperature=nan"], "--temperature must be 0 (greedy) or a finite number"),
        (["--temperature=1e-5"], "--temperature must be 0 (greedy) or a finite number >= 0.001"),
        (["--top_k=0"], "--top_k must be >= 1"),
    ],
)
def test_sample_values_are_checked_before_loading(args, message, tmp_path):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        script("sample.py").main([f"--out_dir={tmp_path / 'nowhere'}", *args])


def test_bench_and_shards_values_are_checked_up_front(tmp_path):
    bench = script("bench.py")
    for flag in ("--iters=0", "--warmup=0", "--rounds=0"):
        with pytest.raises(UserError, match=f"{flag.split('=')[0]} must be >= 1"):
            bench.main([flag, "--device=cpu"])
    (tmp_path / "a_file").write_text("")
    with pytest.raises(UserError, match="--json's folder .*a_file is a file"):
        bench.main([f"--json={tmp_path / 'a_file' / 'bench.json'}", "--device=cpu"])
    with pytest.raises(UserError, match="workers must be >= 1"):
        prepare_shards([str(tmp_path / "a_file")], tmp_path / "shards", workers=-1)


def test_gpt2_tokenizer_comes_through_zero_to_hero(monkeypatch):
    def offline(name):
        raise UserError(f"no {name} tokenizer file; set TIKTOKEN_CACHE_DIR")

    monkeypatch.setattr("nanogpt.data.get_encoding", offline)
    with pytest.raises(UserError, match="TIKTOKEN_CACHE_DIR"):
        Tokenizer("gpt2")
    assert json.dumps(Tokenizer("char", "ab").meta())  # the char tokenizer needs no file


def test_a_second_training_into_a_held_out_dir_gets_one_line_and_exit_2(tmp_path, corpus):
    out_dir = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom zero_to_hero.files import hold_folder\n"
         "with hold_folder(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)", str(out_dir)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"  # another run is training into out_dir
        second = subprocess.run(
            [sys.executable, str(HERE / "train.py"), "--device=cpu", f"--dataset={corpus}", f"--out_dir={out_dir}",
             f"--data_dir={tmp_path / 'data'}", "--max_iters=2"],
            capture_output=True, text=True, cwd=tmp_path,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 2 and second.stdout == ""
    assert second.stderr.count("\n") == 1 and f"--out_dir {out_dir} is in use by another run (pid" in second.stderr
    assert not (tmp_path / "data").exists()  # refused before any work


def test_a_bad_hellaswag_file_is_found_before_the_first_step(tiny_config, tmp_path):
    bad = tmp_path / "hellaswag_val.jsonl"
    bad.write_text("this is not json\n")
    with pytest.raises(UserError, match="hellaswag_val.jsonl"):
        set_up(tiny_config(encoding="gpt2", hellaswag_interval=100, hellaswag_file=str(bad)), **silent)
    assert not (tmp_path / "out/log.jsonl").exists()


def test_a_full_disk_under_log_jsonl_stops_the_run_in_one_line_keeping_the_checkpoint(
    trained, tiny_config, monkeypatch
):
    before = (trained / "ckpt.pt").read_bytes()

    class FullDisk:
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runlog.JsonLog, "_open", lambda self: FullDisk())
    with pytest.raises(UserError, match=r"could not write .*log.jsonl \(No space left on device\); training stopped"):
        train(set_up(tiny_config(init_from="resume", max_iters=20, lr_decay_iters=20), **silent))
    assert (trained / "ckpt.pt").read_bytes() == before


def test_a_full_disk_under_data_dir_is_one_line_and_leaves_no_half_prepared_folder(corpus, tmp_path, monkeypatch):
    def no_space(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", no_space)
    with pytest.raises(UserError, match=r"could not write the token files into .*data \(No space left on device\)"):
        prepare(str(corpus), "char", tmp_path / "data")
    monkeypatch.undo()
    assert not (tmp_path / "data/meta.json").exists()
    assert prepare(str(corpus), "char", tmp_path / "data")["train_tokens"] > 0  # prepared once there is space


@pytest.mark.parametrize("overrides", [{"n_layer": 10**12}, {"n_embd": 2**20, "n_head": 1}])
def test_an_absurd_model_size_is_refused_before_it_is_built(tiny_config, overrides):
    with pytest.raises(UserError, match=r"the model would have ~.* parameters: ~.* GiB .* more than the .* GiB of cpu"):
        set_up(tiny_config(**overrides), **silent)


def test_the_estimate_is_the_models_parameter_count():
    from nanogpt.checkpoint import build_model, estimated_params

    for args in [
        dict(vocab_size=65, block_size=32, n_layer=3, n_head=2, n_embd=24, bias=True),
        dict(vocab_size=70, block_size=16, n_layer=2, n_head=2, n_embd=32, bias=False, tie_weights=False),
        dict(vocab_size=50, block_size=16, n_layer=1, n_head=2, n_embd=16, pos_emb="rope"),
        dict(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=16, norm="rmsnorm", bias=True),
        dict(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=16, qk_norm=True, mlp_act="relu2"),
    ]:
        assert estimated_params("gpt", args) == sum(p.numel() for p in build_model("gpt", args).parameters())
    bigram = {"vocab_size": 65, "block_size": 16}
    assert estimated_params("bigram", bigram) == sum(p.numel() for p in build_model("bigram", bigram).parameters())


@pytest.mark.parametrize(
    "overrides, given, note",
    [
        ({"muon_lr": 0.05}, {"muon_lr"}, "note: --muon_lr without --optimizer=muon: no effect in this run"),
        ({"model": "bigram", "pos_emb": "rope"}, {"model", "pos_emb"}, "note: --pos_emb without --model=gpt"),
        ({"optimizer": "muon", "muon_lr": 0.05}, {"optimizer", "muon_lr"}, None),  # used: no note
    ],
)
def test_keys_that_do_nothing_in_the_combination_get_a_one_line_note(tiny_config, overrides, given, note):
    messages = []
    set_up(tiny_config(**overrides), log=messages.append, given=given)
    notes = [m for m in messages if m.startswith("note:")]
    assert (notes[0].startswith(note) and len(notes) == 1) if note else notes == []
