"""The ablation's mechanics: the variants it builds, the interpolated time to a target, one tiny run end to end."""

import json

import pytest

from nanogpt.ablation import UPGRADES, first_reached, main, run_ablation, run_order, variants
from nanogpt.config import KEYS
from zero_to_hero import UserError


def test_variants_add_to_the_baseline_and_remove_from_the_recipe():
    baseline = {"pos_emb": "learned", "optimizer": "adamw", "muon_lr": 0.02, "mlp_act": "gelu", "lr": 1}
    recipe = {"pos_emb": "rope", "optimizer": "muon", "muon_lr": 0.05, "mlp_act": "gelu", "lr": 2}
    upgrades = {
        "rope": {"pos_emb": "rope"},
        "muon": {"optimizer": "muon", "muon_lr": 0.02},
        "relu2": {"mlp_act": "relu2"},
    }
    got = variants(baseline, recipe, upgrades)
    assert list(got) == [
        "baseline",
        "+ rope",
        "+ muon",
        "+ relu2",
        "recipe",
        "recipe - rope",
        "recipe - muon",
        "recipe + relu2",
    ]
    assert got["+ rope"] == {**baseline, "pos_emb": "rope"}
    assert got["+ muon"] == {**baseline, "optimizer": "muon", "muon_lr": 0.05}  # as the recipe has it
    assert got["+ relu2"] == {**baseline, "mlp_act": "relu2"}
    assert got["recipe - muon"] == {**recipe, "optimizer": "adamw", "muon_lr": 0.02}
    assert got["recipe + relu2"] == {**recipe, "mlp_act": "relu2"}  # not in the recipe: shown added to it
    assert all(key in KEYS for values in UPGRADES.values() for key in values)
    # the runs' order: the two ends first, then each upgrade's pair (a run cut short has compared the most)
    order = run_order(list(variants({k: 0 for k in KEYS}, {k: 1 for k in KEYS})))
    assert order[:4] == ["baseline", "recipe", f"+ {next(iter(UPGRADES))}", f"recipe - {next(iter(UPGRADES))}"]


def test_first_reached_interpolates_between_evaluations():
    evals = [{"seconds": 0.0, "val": 4.0}, {"seconds": 3.0, "val": 2.0}, {"seconds": 6.0, "val": 1.8}]
    assert first_reached(evals, 1.9) == pytest.approx(4.5)  # half way from 2.0 down to 1.8
    assert first_reached(evals, 2.0) == pytest.approx(3.0)
    assert first_reached(evals, 5.0) == 0.0
    assert first_reached(evals, 1.7) is None


def test_a_tiny_ablation_end_to_end(tmp_path, corpus):
    tiny = f"dataset = {str(corpus)!r}\ndata_dir = {str(tmp_path / 'data')!r}\ndevice = 'cpu'\n"
    tiny += "n_layer = 1\nn_head = 2\nn_embd = 16\nblock_size = 16\nbatch_size = 4\neval_iters = 2\n"
    tiny += "learning_rate = 1e-2\nwarmup_iters = 2\nmax_iters = 100\nlr_decay_iters = 100\n"
    (tmp_path / "base.py").write_text(tiny)
    (tmp_path / "recipe.py").write_text(tiny + "pos_emb = 'rope'\nmlp_act = 'relu2'\noptimizer = 'muon'\n")
    names = ["baseline", "+ rope", "recipe", "recipe - muon"]
    result = run_ablation(
        tmp_path / "base.py", tmp_path / "recipe.py", names, seeds=(1, 2), budget=0.6, eval_every=0.2,
        targets=(9.0, 0.1), lock=str(tmp_path / "lock"), out=tmp_path / "out", log=lambda *a: None,
    )  # fmt: skip
    saved = json.loads((tmp_path / "out" / "ablation.json").read_text())
    assert saved["table"] == result["table"] and list(saved["runs"]) == names
    rows = {row["variant"]: row for row in result["rows"]}
    for name in names:
        assert [r["seed"] for r in result["runs"][name]] == [1, 2]  # runs: every variant with seed 1, then 2
        for run in result["runs"][name]:
            assert run["evals"][-1]["seconds"] >= 0.6 and run["evals"][-1]["val"] < run["evals"][0]["val"]
            assert run["reached"]["0.1"] is None  # out of reach in 0.6 s
    assert rows["baseline"]["val_vs_baseline"] == 0.0 and rows["recipe"]["val_vs_baseline"] != 0.0
    assert rows["recipe"]["seconds_9.0"] == 0.0 and rows["recipe"]["speedup_9.0"] is None  # below 9 from the start
    lines = result["table"].splitlines()
    assert len(lines) == 2 + len(names) and lines[2].startswith("| baseline |") and "> 0.6" in lines[2]
    with pytest.raises(UserError, match="unknown variants \\+ gelu; known: baseline"):  # before any training
        main([f"--baseline={tmp_path / 'base.py'}", f"--recipe={tmp_path / 'recipe.py'}", "--variants=+ gelu"])
