"""HellaSwag: which of four endings does the model find likeliest? Scored as the GPT-2 reproduction does.

    python -m nanogpt.hellaswag --out_dir=out/gpt2-fineweb              # a checkpoint of ours, all 10,042 examples
    python -m nanogpt.hellaswag --pretrained=path/to/gpt2 --limit=1000  # OpenAI's GPT-2 (a Hugging Face folder)
    torchrun --standalone --nproc_per_node=8 -m nanogpt.hellaswag --out_dir=...   # split across ranks

Completion style, for models too small to answer a multiple-choice question: the context followed by
each ending is one row of a (4, T) batch; the loss of the ending's tokens alone (cross-entropy, each
predicted from everything before it) ranks the endings. `acc` picks the lowest summed loss, `acc_norm`
the lowest mean loss per token (length-normalized: long endings are not penalized for being long).
Random guessing scores 0.25; GPT-2 124M scores acc_norm 0.2955 this way (with the raw jsonl).

Data: the `hellaswag` data set (the validation split as text: 6 lines per example — `activity_label:
ctx`, the gold label 0-3, four endings), or the original `hellaswag_val.jsonl` (rowanz/hellaswag) given
by path. The two render the context differently, each by its own rule: a jsonl row is rendered exactly as
build-nanogpt's hellaswag.py does — the bare `ctx` (no activity label), each ending encoded on its own with
a leading space (" " + ending) and appended to the context's tokens, the mask covering the ending's tokens
— so scores on the jsonl are build-nanogpt's (GPT-2 124M: acc 0.2859, acc_norm 0.2955); the text form's
first line is the context as written there (`activity_label: ctx`), and it is scored with the same rule.
Rows longer than the model's block_size keep their last block_size tokens (the ending, and the end of the
context; build-nanogpt's rows never exceed GPT-2's 1024).
"""

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from zero_to_hero import UserError, run_main
from zero_to_hero.datasets import fetch
from zero_to_hero.device import autocast
from zero_to_hero.files import prepare_out_dir, write_json
from zero_to_hero.progress import progress_line

EXAMPLES = 10042  # the validation split
PROGRESS_EVERY = 10.0  # seconds between progress lines of the command line


@dataclass(frozen=True)
class Example:
    context: str
    endings: tuple[str, str, str, str]
    label: int


def _example(context, endings, label, where: str) -> Example:
    if len(endings) != 4 or label not in (0, 1, 2, 3):
        raise UserError(f"{where}: a HellaSwag example needs 4 endings and a label 0-3")
    return Example(context, tuple(endings), label)


def read_text_file(path) -> list[Example]:
    """The text format: 6 lines per example (context, label, 4 endings)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if len(lines) % 6:
        raise UserError(f"{path} has {len(lines)} lines; the HellaSwag text format has 6 per example")
    examples = []
    for i in range(0, len(lines), 6):
        label = lines[i + 1].strip()
        if not label.isdigit():
            raise UserError(f"{path}, line {i + 2}: expected the gold label (0-3), got {label[:40]!r}")
        examples.append(_example(lines[i], lines[i + 2 : i + 6], int(label), f"{path}, line {i + 1}"))
    return examples


def read_jsonl(path) -> list[Example]:
    """The original format: one JSON object per line with ctx, endings, label (and activity_label, not used).
    The context is the bare `ctx`, as build-nanogpt renders it. A malformed row is refused with its line
    number, never coerced: `endings` must be a list of 4 strings, `label` an integer 0-3 (or its digit as a
    string, as some copies store it)."""
    examples = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {n}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{where}: not a HellaSwag example (not JSON: {e.msg})") from None
            examples.append(_jsonl_example(row, where))
    return examples


def _jsonl_example(row, where: str) -> Example:
    if not isinstance(row, dict):
        raise UserError(f"{where}: not a HellaSwag example (a JSON {type(row).__name__}, not an object)")
    missing = [key for key in ("ctx", "endings", "label") if key not in row]
    if missing:
        raise UserError(f"{where}: not a HellaSwag example (no {', '.join(map(repr, missing))} key)")
    context, endings, label = row["ctx"], row["endings"], row["label"]
    if not isinstance(context, str):
        raise UserError(f"{where}: 'ctx' must be a string, got {json.dumps(context)[:40]}")
    if not isinstance(endings, list) or not all(isinstance(e, str) for e in endings):
        raise UserError(f"{where}: 'endings' must be a list of 4 strings, got {json.dumps(endings)[:60]}")
    if len(endings) != 4:
        raise UserError(f"{where}: 'endings' must be a list of 4 strings, got {len(endings)}")
    if isinstance(label, str) and label in ("0", "1", "2", "3"):
        label = int(label)
    if isinstance(label, bool) or label not in (0, 1, 2, 3) or not isinstance(label, int):
        raise UserError(f"{where}: 'label' must be an integer 0-3, got {json.dumps(label)[:40]}")
    return Example(context, tuple(endings), label)


def load_examples(source: str = "hellaswag", limit: int = 0) -> list[Example]:
    """The first `limit` examples (0 = all) of the data set `source` or of a .jsonl / text file."""
    path = fetch(source)  # the registry name, or an existing file as is
    try:
        examples = read_jsonl(path) if path.name.endswith(".jsonl") else read_text_file(path)
    except UnicodeDecodeError as e:
        raise UserError(f"{path} is not UTF-8 text ({e.reason})") from None
    except OSError as e:  # permission denied, a folder...
        raise UserError(f"cannot read {path} ({e.strerror.lower() if e.strerror else e})") from None
    if not examples:
        raise UserError(f"{path} holds no HellaSwag examples")
    return examples[:limit] if limit else examples


def render(example: Example, encode, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens, mask), both (4, T): context + ending per row, zero-padded; mask is 1 on the ending's tokens."""
    context = encode(example.context)
    rows, masks = [], []
    for ending in example.endings:
        ending_ids = encode(" " + ending)
        row, mask = context + ending_ids, [0] * len(context) + [1] * len(ending_ids)
        rows.append(row[-block_size:])  # too long: the ending and the end of the context
        masks.append(mask[-block_size:])
    T = max(len(r) for r in rows)
    tokens = torch.zeros((4, T), dtype=torch.long)
    mask = torch.zeros((4, T), dtype=torch.long)
    for i, (row, m) in enumerate(zip(rows, masks, strict=True)):
        tokens[i, : len(row)] = torch.tensor(row)
        mask[i, : len(m)] = torch.tensor(m)
    return tokens, mask


@torch.no_grad()
def ending_losses(model, tokens: torch.Tensor, mask: torch.Tensor, dtype=torch.float32):
    """(summed, mean) loss of each row's ending tokens, each (4,). One forward for the four rows."""
    device = next(model.parameters()).device
    tokens, mask = tokens.to(device), mask.to(device)
    with autocast(device, dtype):
        logits, _ = model(tokens, tokens)  # with targets, the model returns every position's logits
    # position t predicts token t + 1
    losses = F.cross_entropy(logits[:, :-1].float().flatten(0, 1), tokens[:, 1:].flatten(), reduction="none")
    losses = losses.view(tokens.size(0), -1) * mask[:, 1:]
    summed = losses.sum(dim=1)
    return summed, summed / mask[:, 1:].sum(dim=1).clamp(min=1)


def evaluate(model, encode, examples: list[Example], dtype=torch.float32, world=None, progress=None) -> dict:
    """{'acc', 'acc_norm', 'examples'} over `examples`; under DDP each rank scores every world.size-th
    example and the counts are summed over the ranks (every rank gets the result).

    progress: None (quiet, as in training), or a function that gets a progress line — examples scored, the
    accuracies so far, the pace and an ETA — every few seconds and once at the end (rank 0's share)."""
    from nanogpt import distributed  # imports torch.distributed: only when asked for

    world = world or distributed.World()
    was_training = model.training
    model.eval()
    block_size = model.config.block_size
    device = next(model.parameters()).device
    counts = torch.zeros(3, dtype=torch.long, device=device)  # examples, correct (acc), correct (acc_norm)
    share = examples[world.rank :: world.size]
    start = last = time.perf_counter()
    for i, example in enumerate(share, start=1):
        tokens, mask = render(example, encode, block_size)
        summed, mean = ending_losses(model, tokens, mask, dtype)
        label = example.label
        counts += torch.stack([torch.ones_like(counts[0]), summed.argmin() == label, mean.argmin() == label])
        now = time.perf_counter()
        if progress is not None and (now - last >= PROGRESS_EVERY or i == len(share)):
            last = now
            n, correct, correct_norm = counts.tolist()  # a host sync, only when a line is due
            line = progress_line(
                i, len(share), seconds_per_step=(now - start) / i, acc=correct / n, acc_norm=correct_norm / n
            )  # "step i/N | acc .. | acc_norm .. | .. ms/step | ETA ..", said in examples
            progress("example " + line.removeprefix("step ").replace("ms/step", "ms/example"))
    model.train(was_training)
    n, correct, correct_norm = distributed.sum_over_ranks(counts, world).tolist()  # the one host sync
    return {"acc": correct / max(n, 1), "acc_norm": correct_norm / max(n, 1), "examples": n}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", help="folder holding ckpt.pt (from train.py)")
    parser.add_argument("--pretrained", help="a local Hugging Face GPT-2 folder instead of a checkpoint")
    parser.add_argument("--data", default="hellaswag", help="'hellaswag' (the data set) or a .jsonl / text file")
    parser.add_argument("--limit", type=int, default=0, help="score the first N examples only (0 = all 10,042)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16 or float16")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    if bool(args.out_dir) == bool(args.pretrained):
        raise UserError("give one of --out_dir (a checkpoint of ours) or --pretrained (a Hugging Face GPT-2 folder)")
    if args.limit < 0:
        raise UserError(f"--limit must be >= 0, got {args.limit}")
    if args.json:  # checked before minutes of scoring, not after
        if Path(args.json).is_dir():
            raise UserError(f"--json {args.json} is a folder; give a file name")
        prepare_out_dir(Path(args.json).parent, "--json's folder")
    from nanogpt import distributed
    from nanogpt.checkpoint import load_checkpoint, model_from_checkpoint
    from nanogpt.data import Tokenizer
    from nanogpt.model import GPT
    from zero_to_hero.device import parse_dtype, pick_device

    world, device = distributed.setup(pick_device(args.device))
    dtype = parse_dtype(args.dtype, device)
    examples = load_examples(args.data, args.limit)
    if args.pretrained:
        model, tokenizer = GPT.from_pretrained(args.pretrained), Tokenizer("gpt2")
    else:
        model, tokenizer = model_from_checkpoint(load_checkpoint(args.out_dir))
    if not isinstance(model, GPT):
        raise UserError("HellaSwag scores GPT models; this checkpoint holds a bigram model")
    start = time.perf_counter()
    try:
        log = print if world.is_master else None
        result = evaluate(model.to(device), tokenizer.encode, examples, dtype, world, progress=log)
    finally:
        distributed.close(world)
    result["seconds"] = round(time.perf_counter() - start, 2)
    if world.is_master:
        print(
            f"HellaSwag: acc {result['acc']:.4f}, acc_norm {result['acc_norm']:.4f} over {result['examples']:,} "
            f"examples ({result['seconds']} s, {device}, {str(dtype).removeprefix('torch.')})"
        )
        if args.json:
            write_json(args.json, result)


if __name__ == "__main__":
    run_main(main)
