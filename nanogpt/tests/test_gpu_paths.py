"""The CUDA/DDP code paths whose logic a CPU can reach: checkpoint mapping, RNG states, process-group options,
TF32, split evaluation, unique temp names, padded-vocabulary sampling, the generation bench."""

import importlib.util
import inspect
import threading
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from nanogpt import distributed
from nanogpt.checkpoint import load_checkpoint, rank_rng_state, run_state, save_checkpoint
from nanogpt.data import Tokenizer, prepare
from nanogpt.distributed import enable_tf32
from nanogpt.model import GPT, GPTConfig
from nanogpt.sampling import sample_text
from nanogpt.trainer import evaluate, set_up, train, train_step
from zero_to_hero.files import atomic_path

silent = dict(log=lambda *a: None)
HERE = Path(__file__).resolve().parents[1]


def test_a_checkpoint_loads_on_the_cpu_whatever_the_device(tiny_config, monkeypatch):
    train(set_up(tiny_config(max_iters=2, always_save_checkpoint=True), **silent))
    out_dir = tiny_config().out_dir
    # map_location=device would put the RNG byte tensors on the GPU, where set_rng_state rejects them
    saved = load_checkpoint(out_dir)
    assert saved["rng"]["torch"].device.type == "cpu" and saved["rng"]["sampler"].device.type == "cpu"
    assert all(t.device.type == "cpu" for t in saved["model"].values())
    torch.set_rng_state(saved["rng"]["torch"])
    seen = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: seen.append(k["map_location"]) or real_load(*a, **k))
    set_up(tiny_config(init_from="resume", max_iters=4), **silent)
    assert seen == ["cpu"]


def test_a_checkpoint_holds_each_ranks_rng_and_a_resume_restores_this_ranks(tiny_config, monkeypatch):
    run = set_up(tiny_config(dropout=0.1), **silent)
    states = [{"torch": torch.Generator().manual_seed(s).get_state()} for s in (5, 6)]
    saved = run_state(run, states)
    assert torch.equal(saved["rng"]["torch"], states[0]["torch"]) and len(saved["rng"]["ranks"]) == 2
    assert rank_rng_state(saved["rng"], distributed.World(1, 1, 2)) is states[1]  # rank 1 continues rank 1's stream
    messages = []
    assert rank_rng_state(saved["rng"], distributed.World(0, 0, 3), messages.append) is None  # reseeded instead
    assert messages == ["the checkpoint's dropout streams are not for 3 processes: they restart from seeds"]
    assert torch.equal(rank_rng_state(saved["rng"], distributed.World())["torch"], states[0]["torch"])
    # a resumed run draws the dropout masks the saved generator would draw next
    save_checkpoint({**saved, "rng": {**saved["rng"], "ranks": [states[1]]}}, run.out_dir)
    resumed = set_up(tiny_config(dropout=0.1, init_from="resume"), **silent)
    expected = torch.rand(8, generator=torch.Generator().manual_seed(6))
    assert resumed.iter_num == 0 and torch.equal(torch.rand(8), expected)


def test_process_group_options_are_what_init_process_group_takes(tmp_path):
    """Checked against torch itself: the CUDA options bind to init_process_group's signature (a misspelt or
    removed argument fails) and name a backend torch knows; the CPU ones start a real (one-process) gloo group."""
    cuda = torch.device("cuda", 3)
    options = distributed.process_group_options(cuda)
    inspect.signature(dist.init_process_group).bind(**options, world_size=1, rank=0)
    assert dist.Backend(options["backend"]) == "nccl" and options["device_id"] == cuda  # this rank's GPU
    assert "device_id" not in distributed.process_group_options(cuda, "gloo")  # gloo is not bound to a GPU
    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group(**distributed.process_group_options(torch.device("cpu")), store=store, world_size=1, rank=0)
    try:
        assert dist.get_backend() == "gloo"
        total = torch.tensor([2.0])
        dist.all_reduce(total)
        assert total.item() == 2.0
    finally:
        dist.destroy_process_group()


def test_tf32_through_the_current_api_that_every_reader_accepts():
    try:
        enable_tf32()
        assert torch.backends.cuda.matmul.fp32_precision == "tf32"
        # what inductor and older code read must not raise "mix of the legacy and new APIs"
        assert torch.get_float32_matmul_precision() == "high" and torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.set_float32_matmul_precision("highest")  # torch's default


def test_ranks_evaluate_disjoint_batches_whose_sums_make_the_whole(tiny_config, monkeypatch):
    trainer = set_up(tiny_config(eval_iters=5), **silent)
    whole = evaluate(trainer)
    monkeypatch.setattr(distributed, "sum_over_ranks", lambda sums, world: sums)  # each rank's own part
    parts = []
    for rank in range(2):
        trainer.world = distributed.World(rank, rank, 2)
        parts.append(evaluate(trainer))
    for split in ("train", "val"):
        assert parts[0][split] + parts[1][split] == pytest.approx(whole[split], rel=1e-6)
        assert parts[0][split] > parts[1][split] > 0  # rank 0 took batches 0, 2, 4; rank 1 took 1, 3


def test_grad_norm_is_taken_before_clipping(tiny_config):
    clipped = set_up(tiny_config(grad_clip=1e-3), **silent)
    unclipped = set_up(tiny_config(grad_clip=0.0, out_dir="unused"), **silent)
    model = GPT(GPTConfig(**clipped.model_args))
    model.load_state_dict(clipped.raw_model.state_dict())
    x, y = set_up(tiny_config(out_dir="unused"), **silent).train_batches.next()
    model(x, y)[1].backward()
    expected = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))
    train_step(clipped, 1e-2), train_step(unclipped, 1e-2)
    assert clipped.grad_norm.item() == pytest.approx(expected.item(), rel=1e-5) and expected > 1e-2
    assert unclipped.grad_norm.item() == pytest.approx(expected.item(), rel=1e-5)


def test_temp_names_are_unique_per_writer(tmp_path):
    target = tmp_path / "train.bin"
    names = []
    with atomic_path(target) as a, atomic_path(target) as b:
        names += [a, b]
        a.write_bytes(b"node 0")
        b.write_bytes(b"node 1")
    assert names[0] != names[1] and list(tmp_path.iterdir()) == [target]
    assert target.read_bytes() == b"node 0"  # the last to finish (the outer one) wins, whole
    # two "nodes" preparing the same data set into one folder at once: both finish, nothing left over
    text = tmp_path / "t.txt"
    text.write_text("hello world, " * 200)
    errors = []

    def node():
        try:
            prepare(str(text), "char", tmp_path / "shared")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=node) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(p.name for p in (tmp_path / "shared").iterdir()) == [
        "meta.json",
        "train.bin",
        "val.bin",
    ]


def test_sampling_never_emits_padded_vocabulary_ids():
    tokenizer = Tokenizer("char", "abcdefgh")
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=16, block_size=16, n_layer=1, n_head=2, n_embd=8))
    with torch.no_grad():
        model.lm_head.weight[8:] *= 50  # the padding rows (never trained) dominate the logits
    idx = torch.zeros((4, 1), dtype=torch.long)
    unmasked = model.generate(idx, 30, temperature=1.0, generator=torch.Generator().manual_seed(1))
    assert (unmasked >= 8).any()  # the failure the mask prevents
    for temperature in (0, 1.0):
        out = model.generate(idx, 30, temperature=temperature, vocab_limit=8, generator=torch.Generator())
        assert (out < 8).all()
    texts = sample_text(model, tokenizer, "ab", max_new_tokens=30, num_samples=3)  # decodes: ids < 8 only
    assert all(len(t) == 32 and set(t) <= set("abcdefgh") for t in texts)


def test_generation_bench_compares_tokens_in_fp32(tiny_config):
    spec = importlib.util.spec_from_file_location("bench", HERE / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.first_divergence(torch.tensor([[1, 2, 3]]), torch.tensor([[1, 2, 4]])) == 2
    assert bench.first_divergence(torch.tensor([[1, 2]]), torch.tensor([[1, 2]])) is None
    trainer = set_up(tiny_config(dtype="bfloat16"), **silent)
    result = bench.time_generation(trainer, rounds=1)
    assert result["new_tokens"] == 15 and result["first_divergence_fp32"] is None
    assert result["tokens_per_sec"]["kv_cache"] > 0 and result["tokens_per_sec"]["no_cache"] > 0


def test_gpu_check_plan_parsing_and_refusals(capsys, monkeypatch):
    from nanogpt import gpu_check
    from zero_to_hero import UserError

    gpu_check.main(["--dry_run"])
    plan = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].strip() for line in plan] == gpu_check.CHECKS
    assert len(gpu_check.CHECKS) == 7 and all(callable(getattr(gpu_check.Check, c, None)) for c in gpu_check.CHECKS)
    gpu_check.main(["--dry_run", "--only=memory,char"])  # a subset, in the order asked for
    assert [line.split(":")[0].strip() for line in capsys.readouterr().out.splitlines()] == ["memory", "char"]
    output = "iter 50/5000: loss 2.1\neval iter 250: train loss 1.40, val loss 1.52\n"
    output += "eval iter 500: train loss 1.2, val loss 1.46"
    assert gpu_check.first_val_below(output, 1.47, [1.0, 20.5, 38.2]) == (38.2, 500)
    assert gpu_check.first_val_below(output, 1.40, [1.0, 20.5, 38.2]) == (None, None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="no CUDA GPU here; run it on a GPU machine"):
        gpu_check.main([])
    with pytest.raises(UserError, match="unknown checks warp; choose from tests, char"):
        gpu_check.main(["--only=warp"])
