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


def test_both_formats_parse_each_by_its_own_rule(tmp_path):
    """The text form's context line is taken as written (`activity_label: ctx`); a jsonl row's context is the
    bare `ctx`, as build-nanogpt renders it (the activity label is not used)."""
    text = write_text_format(tmp_path / "h.txt", EXPECTED)
    jsonl = write_jsonl_format(tmp_path / "h.jsonl", EXPECTED)
    bare = [Example(e.context.split(": ", 1)[1], e.endings, e.label) for e in EXPECTED]
    assert read_text_file(text) == EXPECTED and read_jsonl(jsonl) == bare
    assert load_examples(str(jsonl), limit=2) == bare[:2] and load_examples(str(text)) == EXPECTED


ROOF = {
    "ind": 24,
    "activity_label": "Roof shingle removal",
    "ctx_a": "A man is sitting on a roof.",
    "ctx_b": "he",
    "ctx": "A man is sitting on a roof. he",
    "split": "val",
    "split_type": "indomain",
    "label": 3,
    "endings": [
        "is using wrap to wrap a pair of skis.",
        "is ripping level tiles off.",
        "is holding a rubik's cube.",
        "starts pulling up roofing on a roof.",
    ],
    "source_id": "activitynet~v_-JhWjGDPHMY",
}


def test_jsonl_rows_are_rendered_as_build_nanogpt_renders_them(tmp_path):
    """build-nanogpt's render_example: tokens(ctx) + tokens(" " + ending) per row, zero-padded to the longest
    row; the mask is 1 on the ending's tokens only. The expected rows are GPT-2 token ids written out by hand
    (from tiktoken), the second example's built with tiktoken piece by piece: no call to our renderer."""
    import tiktoken

    lady = {
        "activity_label": "Clean and jerk",
        "ctx": "A lady walks to a barbell. She bends down and grabs the pole. the lady",
        "endings": [
            "swings and lands in her arms.",
            "pulls the barbell forward.",
            "pulls a rope attached to the barbell.",
            "stands and lifts the weight over her head.",
        ],
        "label": 3,
    }
    path = tmp_path / "hellaswag_val.jsonl"
    path.write_text(json.dumps(ROOF) + "\n" + json.dumps(lady) + "\n")
    roof, lady_example = load_examples(str(path))
    encode = Tokenizer("gpt2").encode
    context = [32, 582, 318, 5586, 319, 257, 9753, 13, 339]  # "A man is sitting on a roof. he" (no label)
    endings = [
        [318, 1262, 14441, 284, 14441, 257, 5166, 286, 1341, 271, 13],  # " is using wrap to wrap a pair of skis."
        [318, 34759, 1241, 19867, 572, 13],  # " is ripping level tiles off."
        [318, 4769, 257, 6437, 1134, 338, 23441, 13],  # " is holding a rubik's cube."
        [4940, 10427, 510, 9753, 278, 319, 257, 9753, 13],  # " starts pulling up roofing on a roof."
    ]
    tokens, mask = hellaswag.render(roof, encode, block_size=1024)
    assert tokens.shape == mask.shape == (4, 9 + 11) and roof.label == 3
    for row, ending in enumerate(endings):
        pad = [0] * (11 - len(ending))
        assert tokens[row].tolist() == context + ending + pad
        assert mask[row].tolist() == [0] * 9 + [1] * len(ending) + pad
    enc = tiktoken.get_encoding("gpt2")
    ctx = enc.encode(lady["ctx"])
    rows = [ctx + enc.encode(" " + ending) for ending in lady["endings"]]
    tokens, mask = hellaswag.render(lady_example, encode, block_size=1024)
    width = max(len(r) for r in rows)
    assert tokens.tolist() == [r + [0] * (width - len(r)) for r in rows]
    assert mask.tolist() == [[0] * len(ctx) + [1] * (len(r) - len(ctx)) + [0] * (width - len(r)) for r in rows]


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


GOOD_ROW = '{"ctx": "a", "endings": ["w", "x", "y", "z"], "label": 0}'


@pytest.mark.parametrize(
    "row, message",
    [
        ('{"ctx": "a", "endings": ["x"], "label": 0}', "'endings' must be a list of 4 strings, got 1"),
        ('{"ctx": "a", "endings": "abcd", "label": 0}', "'endings' must be a list of 4 strings, got \"abcd\""),
        ('{"ctx": "a", "endings": ["w", "x", "y", 4], "label": 0}', "'endings' must be a list of 4 strings"),
        ('{"ctx": "a", "endings": ["w", "x", "y", "z"], "label": 1.7}', "'label' must be an integer 0-3, got 1.7"),
        ('{"ctx": "a", "endings": ["w", "x", "y", "z"], "label": 1.0}', "'label' must be an integer 0-3, got 1.0"),
        ('{"ctx": "a", "endings": ["w", "x", "y", "z"], "label": true}', "'label' must be an integer 0-3, got true"),
        ('{"ctx": "a", "endings": ["w", "x", "y", "z"], "label": 4}', "'label' must be an integer 0-3, got 4"),
        ('{"ctx": "a", "endings": ["w", "x", "y", "z"]}', "not a HellaSwag example \\(no 'label' key\\)"),
        ('{"endings": ["w", "x", "y", "z"]}', "not a HellaSwag example \\(no 'ctx', 'label' key\\)"),
        ('{"ctx": 5, "endings": ["w", "x", "y", "z"], "label": 0}', "'ctx' must be a string, got 5"),
        ('["a", "b"]', "not a HellaSwag example \\(a JSON list, not an object\\)"),
        ("{not json", "not a HellaSwag example \\(not JSON"),
    ],
)
def test_malformed_jsonl_rows_are_refused_with_their_line(tmp_path, row, message):
    """Never coerced: "abcd" is not four endings, 1.7 is not label 1."""
    (tmp_path / "bad.jsonl").write_text(GOOD_ROW + "\n\n" + row + "\n")
    with pytest.raises(UserError, match=f"bad.jsonl, line 3: {message}"):
        load_examples(str(tmp_path / "bad.jsonl"))


def test_a_label_given_as_a_digit_string_is_read_and_an_unreadable_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "h.jsonl").write_text(GOOD_ROW.replace('"label": 0', '"label": "2"') + "\n")
    assert load_examples(str(tmp_path / "h.jsonl")) == [Example("a", ("w", "x", "y", "z"), 2)]

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(hellaswag, "open", denied, raising=False)  # (tests run as root: chmod would not stop us)
    with pytest.raises(UserError, match="cannot read .*h.jsonl \\(permission denied\\)"):
        load_examples(str(tmp_path / "h.jsonl"))


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


def test_progress_lines_count_the_examples_with_the_accuracy_so_far(monkeypatch):
    """A line every PROGRESS_EVERY seconds (0: after every example) and at the end; the accuracies so far."""
    examples = EXPECTED * 2
    tokenizer = Tokenizer("gpt2")
    torch.manual_seed(3)
    model = GPT(GPTConfig(vocab_size=50304, block_size=64, n_layer=1, n_head=2, n_embd=8))
    lines = []
    monkeypatch.setattr(hellaswag, "PROGRESS_EVERY", 0.0)
    result = evaluate(model, tokenizer.encode, examples, progress=lines.append)
    assert [line.split(" | ")[0] for line in lines] == [f"example {i}/6" for i in range(1, 7)]
    for i, line in enumerate(lines, start=1):
        so_far = evaluate(model, tokenizer.encode, examples[:i])
        assert f" | acc {so_far['acc']:.4f} | acc_norm {so_far['acc_norm']:.4f} | " in line and "ETA" in line
    assert evaluate(model, tokenizer.encode, examples) == result  # quiet without `progress`


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
    progress = [line for line in result.stdout.splitlines() if line.startswith("example ")]
    assert progress and progress[-1].startswith(
        f"example 3/3 | acc {expected['acc']:.4f} | acc_norm {expected['acc_norm']:.4f} | "
    ), result.stdout
    assert progress[-1].endswith("ms/example | ETA 0s")
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
