"""The lecture walkthrough (lectures/06_wavenet.py) runs in fast mode; its RESULT lines hold the lecture's numbers.

The fast mode trains every row of the performance log for 300 steps, seeded and on one thread, so its losses
are deterministic; the tolerances below only allow for another torch build's summation order.
"""

from pathlib import Path

import pytest

from zero_to_hero.lectures import parse_results, run_walkthrough

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
PNG = b"\x89PNG\r\n\x1a\n"

# measured with `python lectures/06_wavenet.py --fast` (2026-11-29, torch 2.13.0): (train, val) after 300 steps
FAST_LOSSES = {
    "original": (2.5769, 2.5729),
    "context8": (2.5232, 2.5174),
    "hierarchical": (2.5253, 2.5188),
    "bnfix": (2.5007, 2.4945),
    "scaled": (2.4028, 2.4011),
}


@pytest.fixture(scope="module")
def wavenet_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture06")
    proc = run_walkthrough(LECTURES / "06_wavenet.py", out)
    return proc, parse_results(proc.stdout), out / "lectures" / "06"


def number(results, key):
    return float(results[key][0])


def test_data_and_model_sizes_are_the_lectures(wavenet_run):
    _, results, _ = wavenet_run
    for key, count in [("train_examples", 182625), ("val_examples", 22655), ("test_examples", 22866)]:
        assert results[key] == (str(count), str(count))
    assert results["original_params"] == ("12097", "12K")
    assert results["hierarchical_params"] == ("22397", "22K")
    assert results["scaled_params"] == ("76579", "76579")


def test_performance_log(wavenet_run):
    proc, results, _ = wavenet_run
    lecture_log = {"original": (2.058, 2.105), "context8": (1.918, 2.027), "hierarchical": (1.941, 2.029)}
    lecture_log |= {"bnfix": (1.912, 2.022), "scaled": (1.769, 1.993)}
    for key, (train, val) in FAST_LOSSES.items():
        assert number(results, f"{key}_train") == pytest.approx(train, abs=0.01), key
        assert number(results, f"{key}_val") == pytest.approx(val, abs=0.01), key
        assert results[f"{key}_val"][1] == str(lecture_log[key][1])  # the lecture notebook's figures, verbatim
        assert results[f"{key}_train"][1] == str(lecture_log[key][0])
    # the lecture's story even after 300 steps: the fixed tree beats the buggy one and the flat MLP
    assert number(results, "bnfix_val") < number(results, "hierarchical_val")
    assert number(results, "bnfix_val") < number(results, "context8_val") < number(results, "original_val")
    assert number(results, "scaled_val") < number(results, "bnfix_val")
    assert "python train.py --model flat --block-size 3 --n-embd 10 --n-hidden 200" in proc.stdout


def test_shapes_batchnorm_bug_and_dilated_view(wavenet_run):
    proc, results, _ = wavenet_run
    for line in ["Embedding: (4, 8, 10)", "FlattenConsecutive: (4, 4, 20)", "FlattenConsecutive: (4, 2, 136)"]:
        assert line in proc.stdout
    assert "FlattenConsecutive: (4, 136)" in proc.stdout and "Linear: (4, 27)" in proc.stdout
    assert results["buggy_running_mean"] == ("(1, 4, 68)", "(1, 4, 68)")
    assert results["fixed_running_mean"] == ("(1, 1, 68)", "(1, 1, 68)")
    assert number(results, "dilated_max_diff") < 1e-5
    assert results["positions_per_pass"][0] == "8" and results["linear_rows"][0] == "34 vs 56"
    assert number(results, "dilated_val") == pytest.approx(number(results, "scaled_val"), abs=1e-4)
    assert number(results, "calibrated_val") <= number(results, "scaled_val") + 0.005


def test_figures(wavenet_run):
    _, _, figures = wavenet_run
    for name in ("loss_smoothing.png", "performance_log.png"):
        data = (figures / name).read_bytes()
        assert data[:8] == PNG and len(data) > 5_000, name
