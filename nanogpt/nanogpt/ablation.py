"""Which of the upgrades after GPT-2 pay, measured: each added alone to the baseline (the main job, GPT-2 as
taught), each removed alone from the full recipe, every variant trained for the same time, with two seeds.

    python -m nanogpt.ablation                    # ~45 min on a 2-core CPU: the README's table
    python -m nanogpt.ablation --variants=baseline,recipe --seeds=1337
    python -m nanogpt.ablation --fast             # seconds: the whole mechanism on a tiny budget

Each variant trains for `budget` seconds of training (evaluations not counted) with its learning-rate schedule
(warmup, cosine) stretched over that time, so a slower step buys fewer but not worse-scheduled steps: what
counts is loss per second, as for a learner at their own machine. Every `eval_every` seconds of training the
val loss is measured on the same fixed batches (trainer.evaluate); the table gives the training seconds to first
reach each target (interpolated between evaluations), the val loss at the end of the budget, and both against
the baseline of the same run. Each single training run holds the CPU lock (--lock), so other timed work waits
for it, and can run in between.
"""

import argparse
import contextlib
import dataclasses
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch

from nanogpt.config import load_config, load_config_file, parse_overrides
from nanogpt.optim import lr_at
from nanogpt.trainer import close, evaluate, set_up, train_step
from zero_to_hero import UserError, run_main
from zero_to_hero.files import file_lock, hold_folder, prepare_out_dir, write_json
from zero_to_hero.progress import format_duration

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
# each upgrade: the config values that switch it on (the first key is the switch); an upgrade in the recipe is
# taken at the recipe's values (its muon_lr, its cap...), one that is not at these
UPGRADES = {
    "muon": {"optimizer": "muon", "muon_lr": 0.02, "muon_momentum": 0.95},
    "rope": {"pos_emb": "rope"},
    "rmsnorm": {"norm": "rmsnorm"},
    "qk_norm": {"qk_norm": True},
    "relu2": {"mlp_act": "relu2"},
    "untied": {"tie_weights": False},
    "zero_init": {"zero_init": True},
    "softcap": {"logit_softcap": 15.0},
}


def variants(baseline: dict, recipe: dict, upgrades=UPGRADES) -> dict[str, dict]:
    """name -> config values: the baseline, the baseline + each upgrade, the recipe, and the recipe - each
    upgrade it has (its keys at the baseline's values) or + each it has not. baseline, recipe: all keys' values."""
    on, in_recipe = {}, {}
    for name, values in upgrades.items():
        switch = next(iter(values))
        in_recipe[name] = recipe[switch] != baseline[switch]
        on[name] = {k: recipe[k] for k in values} if in_recipe[name] else values
    out = {"baseline": baseline, **{f"+ {name}": {**baseline, **values} for name, values in on.items()}}
    out["recipe"] = recipe
    for name, values in on.items():
        if in_recipe[name]:
            out[f"recipe - {name}"] = {**recipe, **{k: baseline[k] for k in values}}
        else:
            out[f"recipe + {name}"] = {**recipe, **values}
    return out


def first_reached(evals: list[dict], target: float) -> float | None:
    """Training seconds at which val first reaches target, linear between the evaluations around it."""
    previous = None
    for e in evals:
        if e["val"] <= target:
            if previous is None or previous["val"] == e["val"]:
                return e["seconds"]
            fraction = (previous["val"] - target) / (previous["val"] - e["val"])
            return previous["seconds"] + fraction * (e["seconds"] - previous["seconds"])
        previous = e
    return None


def run_order(names: list[str]) -> list[str]:
    """baseline and recipe first, then each upgrade's pair (+ it, recipe without it): an ablation cut short
    has compared the most (the upgrades in UPGRADES' order)."""
    upgrade = {name: i for i, name in enumerate(UPGRADES)}
    return sorted(names, key=lambda n: (n not in ("baseline", "recipe"), upgrade.get(n.split()[-1], len(upgrade))))


def train_for(values: dict, budget: float, eval_every: float, targets=(), log=print) -> dict:
    """Train one variant (config values) for `budget` seconds of training; the val curve and what it reached."""
    cfg = load_config(None, values)
    run = set_up(cfg, log=lambda *args: None)
    run.eval_batches = {"val": run.eval_batches["val"]}  # the val split only: half the evaluation time
    try:
        evals = [{"seconds": 0.0, "iters": 0, "val": evaluate(run)["val"]}]
        elapsed, iters, next_eval = 0.0, 0, eval_every
        while elapsed < budget:
            # the schedule as a function of time: the iteration the same fraction into max_iters
            lr = lr_at(min(int(elapsed / budget * cfg.max_iters), cfg.max_iters), cfg)
            start = time.perf_counter()
            loss = train_step(run, lr).item()  # .item() waits for the step (on a GPU too): honest timing
            elapsed += time.perf_counter() - start
            iters += 1
            if not math.isfinite(loss):
                raise UserError(f"the loss became {loss} at iteration {iters}: lower the learning rate")
            if elapsed >= next_eval or elapsed >= budget:
                evals.append({"seconds": round(elapsed, 3), "iters": iters, "val": evaluate(run)["val"]})
                next_eval += eval_every
    finally:
        close(run)
    reached = {str(t): first_reached(evals, t) for t in targets}
    return {"evals": evals, "reached": reached, "final_val": evals[-1]["val"], "iters": iters,
            "ms_per_iter": 1000 * elapsed / iters, "params": run.raw_model.num_params()}  # fmt: skip


def describe(result: dict, budget: float) -> str:
    reached = [f"{t} at {s:.1f}s" if s else f"{t} not reached" for t, s in result["reached"].items()]
    return (
        f"val {result['final_val']:.4f} at {budget:g}s ({result['iters']} iters, "
        + ", ".join([f"{result['ms_per_iter']:.1f} ms/iter", *reached])
        + ")"
    )


def summarize(runs: dict[str, list[dict]], targets, budget: float) -> list[dict]:
    """Per variant: the seeds' mean seconds to each target (None if a seed missed it), final val, ms/iter;
    against the baseline: speed-up to each target (the baseline's seconds / the variant's), val difference, and
    the seconds to the baseline's own final val, whose speed-up is budget / those seconds."""
    rows = []
    for name, seeds in runs.items():
        if not seeds:
            continue
        row = {"variant": name, "final_val": statistics.mean(r["final_val"] for r in seeds)}
        row["final_vals"] = [r["final_val"] for r in seeds]
        row["ms_per_iter"] = statistics.mean(r["ms_per_iter"] for r in seeds)
        for t in map(str, targets):
            row[f"all_seconds_{t}"] = [r["reached"][t] for r in seeds]
        rows.append(row)
    base = next((r for r in rows if r["variant"] == "baseline"), None)
    for row in rows:
        if base is not None:
            row["val_vs_baseline"] = row["final_val"] - base["final_val"]
            row["all_seconds_baseline"] = [first_reached(r["evals"], base["final_val"]) for r in runs[row["variant"]]]
        for t in [*map(str, targets), "baseline"] if base is not None else map(str, targets):
            times = row[f"all_seconds_{t}"]
            row[f"seconds_{t}"] = None if None in times else statistics.mean(times)
        if base is None:
            continue
        for t in map(str, targets):
            mine, theirs = row[f"seconds_{t}"], base[f"seconds_{t}"]
            row[f"speedup_{t}"] = theirs / mine if mine and theirs else None  # None: missed, or there at 0 s
        mine = row["seconds_baseline"]
        row["speedup_baseline"] = budget / mine if mine else None
    return rows


def markdown_table(rows: list[dict], targets, budget: float) -> str:
    def seconds(row, t):
        value, speedup = row.get(f"seconds_{t}"), row.get(f"speedup_{t}")
        each = "/".join("—" if s is None else f"{s:.1f}" for s in row[f"all_seconds_{t}"])
        text = f"> {budget:g} ({each})" if value is None else f"{value:.1f} ({each})"
        return text + (f", **{speedup:.2f}×**" if speedup else "")

    has_base = any("val_vs_baseline" in row for row in rows)
    header = ["variant", *[f"s to val {t} (seeds)" for t in targets]]
    header += [f"s to the baseline's val at {budget:g} s, speed-up"] if has_base else []
    header += [f"val at {budget:g} s (seeds)", "Δ val", "ms/iter"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["variant"], *[seconds(row, t) for t in map(str, targets)]]
        cells += [seconds(row, "baseline")] if has_base else []
        vals = "/".join(f"{v:.3f}" for v in row["final_vals"])
        delta = row.get("val_vs_baseline")
        cells += [f"{row['final_val']:.3f} ({vals})", "—" if delta is None else f"{delta:+.3f}"]
        cells.append(f"{row['ms_per_iter']:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def config_values(config_file, overrides: dict) -> dict:
    """All keys' values: the defaults, the file's, then the overrides (checked by load_config)."""
    return dataclasses.asdict(load_config(config_file, overrides))


def run_ablation(baseline_file, recipe_file, names=None, seeds=(1337, 1338), budget=60.0, eval_every=3.0,
                 targets=(1.88, 1.80), overrides=None, lock="", out=None, log=print) -> dict:  # fmt: skip
    """Every variant (or those in names) for every seed; returns {"runs", "rows", "table", ...}, written to
    out/ablation.json when out is given."""
    with tempfile.TemporaryDirectory() as scratch:
        common = {"out_dir": scratch, "overwrite": True, **(overrides or {})}
        all_variants = variants(config_values(baseline_file, common), config_values(recipe_file, common))
        names = list(all_variants) if not names else names
        unknown = [n for n in names if n not in all_variants]
        if unknown:
            raise UserError(f"unknown variants {', '.join(unknown)}; known: {', '.join(all_variants)}")
        settings = {"budget": budget, "eval_every": eval_every, "targets": list(targets), "seeds": list(seeds)}
        settings.update(baseline=str(baseline_file), recipe=str(recipe_file), overrides=overrides or {})
        settings.update(torch=torch.__version__, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        held = contextlib.nullcontext()
        if out is not None:  # checked before the runs, not after; held: two ablations in one would mix their runs
            held = hold_folder(prepare_out_dir(out, "--out_dir"), "--out_dir")
        with held:
            runs = {name: [] for name in names}  # the table's order
            started, total = time.perf_counter(), len(names) * len(seeds)
            for seed in seeds:  # all variants once, then again: an interrupted run still compares them all
                for name in run_order(names):
                    with file_lock(lock) if lock else contextlib.nullcontext():  # timed runs take turns
                        result = train_for({**all_variants[name], "seed": seed}, budget, eval_every, targets)
                    runs[name].append({"seed": seed, **result})
                    if out is not None:  # after every run: an interrupted ablation keeps what it measured
                        write_results(out, runs, settings)
                    done = sum(map(len, runs.values()))
                    eta = format_duration((time.perf_counter() - started) / done * (total - done))
                    log(f"[{done}/{total}] {name}, seed {seed}: {describe(result, budget)} | ETA {eta}")
            return write_results(out, runs, settings)


def write_results(out, runs: dict, settings: dict) -> dict:
    """The settings, every run, the summary rows and the markdown table; written to out/ablation.json."""
    rows = summarize(runs, settings["targets"], settings["budget"])
    result = {
        **settings,
        "runs": runs,
        "rows": rows,
        "table": markdown_table(rows, settings["targets"], settings["budget"]),
    }
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        write_json(Path(out) / "ablation.json", result)
    return result


def _numbers(flag: str, text: str, kind) -> list:
    """`--seeds=1337,1338` -> [1337, 1338]; anything else one clear line."""
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"{flag} must be comma-separated {kind.__name__}s, got {text!r}") from None
    if not values:
        raise UserError(f"{flag} is empty; give at least one value")
    if kind is float and not all(math.isfinite(v) for v in values):
        raise UserError(f"{flag} must be finite numbers, got {text!r}")
    return values


def read_table(path) -> str:
    """The markdown table of a saved ablation.json; a missing, corrupt or foreign file is one clear line."""
    path = Path(path)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"--table {path} not found; give an ablation.json (written to --out_dir)") from None
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise UserError(f"cannot read --table {path} ({reason.lower()})") from None
    except json.JSONDecodeError as e:
        raise UserError(f"--table {path} is not JSON (line {e.lineno}: {e.msg}); is it cut short?") from None
    needed = ("runs", "targets", "budget")
    if not isinstance(saved, dict) or any(key not in saved for key in needed):
        raise UserError(f"--table {path} is not an ablation.json (no {', '.join(needed)}); nanogpt.ablation writes one")
    try:
        return write_results(None, saved["runs"], saved)["table"]
    except (KeyError, TypeError, ValueError, AttributeError, statistics.StatisticsError) as e:
        raise UserError(f"--table {path} is not a complete ablation.json ({type(e).__name__}: {e})"[:300]) from None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.allow_abbrev = False  # the config's --key=value flags pass through: none may be taken for ours
    parser.add_argument("--baseline", default=str(CONFIGS / "shakespeare_char_cpu.py"), help="the baseline's config")
    parser.add_argument("--recipe", default=str(CONFIGS / "shakespeare_char_modern_cpu.py"), help="the recipe's")
    parser.add_argument("--variants", default="", help="comma-separated names (default: all; see the table)")
    parser.add_argument("--seeds", default="1337,1338", help="comma-separated seeds, each variant runs once per seed")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of training per run")
    parser.add_argument("--eval_every", type=float, default=3.0, help="seconds of training between evaluations")
    parser.add_argument("--targets", default="1.88,1.80", help="val losses whose first time is reported")
    parser.add_argument("--lock", default="/tmp/z2h-cpu.lock", help="file to flock during each run ('' = none)")
    parser.add_argument("--out_dir", default="out/ablation", help="folder for ablation.json")
    parser.add_argument("--table", default="", help="print the table of a saved ablation.json (runs nothing)")
    parser.add_argument("--fast", action="store_true", help="baseline and recipe, 1 seed, 3 s each: a smoke test")
    args, rest = parser.parse_known_args(argv)
    if args.table:
        print(read_table(args.table))
        return
    overrides = parse_overrides(rest)  # --key=value for both configs, e.g. --device=cuda, --threads=2
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    seeds = _numbers("--seeds", args.seeds, int)
    targets = _numbers("--targets", args.targets, float)
    for flag, value in (("--budget", args.budget), ("--eval_every", args.eval_every)):
        if not math.isfinite(value) or value <= 0:
            raise UserError(f"{flag} must be a positive number of seconds, got {value:g}")
    if args.fast:
        names, seeds, args.budget, args.eval_every = names or ["baseline", "recipe"], seeds[:1], 3.0, 1.0
        overrides.setdefault("eval_iters", 5)
    overrides.setdefault("threads", "2")  # the same for every run: threads=auto would depend on the moment
    for path in (args.baseline, args.recipe):
        load_config_file(path)  # a missing or broken file: one clear error before anything runs
    if args.lock:  # the lock file is opened before every run: a bad path must not end the ablation midway
        try:
            with open(args.lock, "a"):
                pass
        except OSError as e:
            reason = (e.strerror or str(e)).lower()
            raise UserError(f"cannot open --lock {args.lock} ({reason}); give another file, or ''") from None
    result = run_ablation(args.baseline, args.recipe, names, seeds, args.budget, args.eval_every, targets,
                          overrides, args.lock, args.out_dir)  # fmt: skip
    print(result["table"])
    print(f"wrote {Path(args.out_dir) / 'ablation.json'}")


if __name__ == "__main__":
    run_main(main)
