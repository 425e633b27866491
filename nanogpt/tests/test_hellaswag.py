"""HellaSwag: both file formats, the batched scoring against a naive one, chance level, ranks, the CLI."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nanogpt import distributed, hellaswag
from nanogpt.checkpoint import save_checkpoint
from nanogpt.data import Tokenizer
from nanogpt.hellaswag import Example, evaluate, load_examples, read_jsonl, read_text_file
from nanogpt.model import GPT, GPTConfig
from zero_to_hero import UserError

HERE = Path(__file__).resolve().parents[1]
EXPECTED = [
    Example("Roof shingle removal: A man is on a roof. he", ("wraps skis.", "rips.", "holds.", "pulls up roofing."), 3),
    Example("Clean and jerk: A lady walks to a barbell. she", ("swings.", "pulls it.", "pulls.", "lifts it."), 3),
    Example("Canoeing: Two women are in a canoe. the child", ("rows.", "sits.", "falls in.", "waves."), 0),
]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one thread is several times faster than two contending ones on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_text_format(path, examples):
    lines = []
    for e in examples:
        lines += [e.context, str(e.label), *e.endings]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_jsonl_format(path, examples):
    rows = []
    for e in examples:
        activity, ctx = e.context.split(": ", 1)
        rows.append({"ind": 0, "activity_label": activity, "ctx": ctx, "endings": list(e.endings), "label": e.label})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_both_formats_parse_to_the_same_examples(tmp_path):
    text = write_text_format(tmp_path / "h.txt", EXPECTED)
    jsonl = write_jsonl_format(tmp_path / "h.jsonl", EXPECTED)
    assert read_text_file(text) == EXPECTED == read_jsonl(jsonl)
    assert load_examples(str(jsonl), limit=2) == EXPECTED[:2] and load_examples(str(text)) == EXPECTED


def test_the_real_file_holds_the_validation_split():
    examples = load_examples("hellaswag")
    assert len(examples) == hellaswag.EXAMPLES == 10042
    assert examples[0].context == "Roof shingle removal: A man is sitting on a roof. he" and examples[0].label == 3
    assert examples[0].endings[3] == "starts pulling up roofing on a roof."
    assert {e.label for e in examples} == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "content, message",
    [
        ("ctx\n3\na\nb\nc\n", "has 5 lines; the HellaSwag text format has 6 per example"),
        ("ctx\nthree\na\nb\nc\nd\n", "line 2: expected the gold label"),
        ("ctx\n7\na\nb\nc\nd\n", "needs 4 endings and a label 0-3"),
    ],
)
def test_bad_text_files_are_user_errors(tmp_path, content, message):
    (tmp_path / "bad.txt").write_text(content)
    with pytest.raises(UserError, match=message):
        load_examples(str(tmp_path / "bad.txt"))


def test_bad_jsonl_is_a_user_error(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"ctx": "a", "endings": ["x"], "label": 0}\n')
    with pytest.raises(UserError, match="bad.jsonl, line 1: a HellaSwag example needs 4 endings"):
        load_examples(str(tmp_path / "bad.jsonl"))
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(UserError, match="line 1: not a HellaSwag example"):
        load_examples(str(tmp_path / "bad.jsonl"))


def naive_losses(model, encode, example: Example, block_size: int):
    """One ending at a time, token by token: the summed and mean loss of the ending given everything before it."""
    context = encode(example.context)
    sums, means = [], []
    for ending in example.endings:
        ending_ids = encode(" " + ending)
        row = (context + ending_ids)[-block_size:]
        first = len(row) - len(ending_ids)  # index of the ending's first token in the row
        logits, _ = model(torch.tensor([row]), torch.tensor([row]))
        log_probs = F.log_softmax(logits[0].float(), dim=-1)
        token_losses = [-log_probs[t - 1, row[t]].item() for t in range(max(first, 1), len(row))]
        sums.append(sum(token_losses))
        means.append(sum(token_losses) / len(token_losses))
    return sums, means


@pytest.mark.parametrize("encoding, block_size", [("gpt2", 1024), ("gpt2", 24)])
def test_batched_scoring_equals_the_naive_one(encoding, block_size):
    examples = load_examples("hellaswag", limit=6)
    tokenizer = Tokenizer(encoding)
    torch.manual_seed(1)
    model = GPT(GPTConfig(vocab_size=50304, block_size=block_size, n_layer=1, n_head=2, n_embd=8)).eval()
    correct = correct_norm = 0
    for example in examples:
        tokens, mask = hellaswag.render(example, tokenizer.encode, block_size)
        summed, mean = hellaswag.ending_losses(model, tokens, mask)
        sums, means = naive_losses(model, tokenizer.encode, example, block_size)
        torch.testing.assert_close(summed, torch.tensor(sums), rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(mean, torch.tensor(means), rtol=1e-5, atol=1e-5)
        assert summed.argmin().item() == min(range(4), key=sums.__getitem__)
        correct += min(range(4), key=sums.__getitem__) == example.label
        correct_norm += min(range(4), key=means.__getitem__) == example.label
    result = evaluate(model, tokenizer.encode, examples)
    assert result == {"acc": correct / 6, "acc_norm": correct_norm / 6, "examples": 6}


def test_an_untrained_model_scores_chance_on_2000_real_examples():
    examples = load_examples("hellaswag", limit=2000)
    chars = sorted(set("".join(e.context + "".join(" " + x for x in e.endings) for e in examples)))
    tokenizer = Tokenizer("char", "".join(chars))  # any tokenizer works; characters keep this test fast
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=128, n_layer=1, n_head=2, n_embd=16))
    result = evaluate(model, tokenizer.encode, examples)
    assert result["examples"] == 2000
    assert 0.22 <= result["acc"] <= 0.28 and 0.22 <= result["acc_norm"] <= 0.28, result


def test_ranks_score_disjoint_shares_that_add_up(monkeypatch):
    examples = load_examples("hellaswag", limit=10)
    tokenizer = Tokenizer("gpt2")
    model = GPT(GPTConfig(vocab_size=50257, block_size=32, n_layer=1, n_head=2, n_embd=8))
    whole = evaluate(model, tokenizer.encode, examples)
    monkeypatch.setattr(distributed, "sum_over_ranks", lambda counts, world: counts)  # each rank's own counts
    shares = [evaluate(model, tokenizer.encode, examples, world=distributed.World(r, r, 3)) for r in range(3)]
    assert [s["examples"] for s in shares] == [4, 3, 3]
    assert sum(s["acc"] * s["examples"] for s in shares) == pytest.approx(whole["acc"] * 10)
    assert sum(s["acc_norm"] * s["examples"] for s in shares) == pytest.approx(whole["acc_norm"] * 10)


def run_cli(*args, cwd):
    command = [sys.executable, "-m", "nanogpt.hellaswag", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=None)


def test_command_line_scores_a_checkpoint(tmp_path):
    torch.manual_seed(2)
    model = GPT(GPTConfig(vocab_size=50304, block_size=64, n_layer=1, n_head=2, n_embd=8))
    tokenizer = Tokenizer("gpt2")
    args = {"vocab_size": 50304, "block_size": 64, "n_layer": 1, "n_head": 2, "n_embd": 8}
    checkpoint = {"model": model.state_dict(), "model_kind": "gpt", "model_args": args}
    save_checkpoint({**checkpoint, "tokenizer": tokenizer.meta(), "config": {}}, tmp_path / "run")
    data = write_text_format(tmp_path / "h.txt", EXPECTED)
    result = run_cli("--out_dir=run", f"--data={data}", "--device=cpu", "--json=r.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = evaluate(model, tokenizer.encode, EXPECTED)
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["acc"] == expected["acc"] and saved["acc_norm"] == expected["acc_norm"] and saved["examples"] == 3
    assert f"HellaSwag: acc {expected['acc']:.4f}, acc_norm {expected['acc_norm']:.4f} over 3 examples" in result.stdout
    result = run_cli("--out_dir=nowhere", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "error: no checkpoint at nowhere/ckpt.pt; train one first " + (
        "(python train.py --out_dir=nowhere)\n"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give one of --out_dir"),
        (["--out_dir=run", "--data=missing.txt"], "unknown data set or missing file 'missing.txt'"),
        (["--out_dir=run", "--limit=-1"], "--limit must be >= 0"),
    ],
)
def test_command_line_mistakes_are_user_errors(args, message):
    with pytest.raises(UserError, match=message):
        hellaswag.main(args)
