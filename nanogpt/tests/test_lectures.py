"""The lecture 7 walkthrough (lectures/07_gpt.py), run once in fast mode: its numbers and figures.

It reads the real tiny shakespeare (through zero_to_hero's cache or the offline mirror), so it checks the
lecture's own printouts exactly where the lecture's seed makes them reproducible, and our fast-mode losses
to 0.01 of the values measured on the project's 2-core CPU (torch 2.13.0).
"""

from pathlib import Path

import pytest

from zero_to_hero.lectures import parse_results, run_walkthrough

LECTURES = Path(__file__).resolve().parents[1] / "lectures"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture07")
    proc = run_walkthrough(LECTURES / "07_gpt.py", out, timeout=240)
    return proc, parse_results(proc.stdout), out / "lectures" / "07"


def ours(results, key) -> float:
    return float(results[key][0])


def test_the_lectures_own_numbers_exactly(walkthrough):
    """Seeded as in the lecture, our code prints the lecture's numbers (and says so on each RESULT line)."""
    _, results, _ = walkthrough
    exact = {
        "vocab": "65",
        "uniform": "4.17",
        "bigram_init": "4.8786",
        "wei77": "0.2391",
        "var_k": "1.0449",
        "var_q": "1.0700",
        "var_scaled": "1.0918",
        "softmax_max": "0.2872",
        "softmax8_max": "0.8000",
        "params_lecture_config": "10.788929",
    }
    for key, value in exact.items():
        assert results[key][0] == value, key
        assert float(results[key][1]) == pytest.approx(float(value)), key


def test_scaling_and_parameter_counts(walkthrough):
    _, results, _ = walkthrough
    assert 14 < ours(results, "var_unscaled") < 20  # about head_size = 16 without the 1/sqrt(head_size)
    # the package's GPT of the lecture's gpt.py shape: no biases, lm_head tied to the token embedding
    assert results["params_package"] == ("10.745088", "10.788929")
    assert ours(results, "package_logits_diff") < 1e-5


def test_stage_losses_in_fast_mode(walkthrough):
    """150 steps per stage (fast mode): our measured values, and every piece of the build beats the bigram."""
    _, results, _ = walkthrough
    measured = {
        "bigram": 3.3875,
        "head": 3.1520,
        "multihead": 3.1056,
        "ffwd": 3.0413,
        "residual": 2.7210,
        "layernorm": 2.8019,
        "scaled": 3.0495,
    }
    lecture = {"bigram": 2.49, "head": 2.4, "multihead": 2.28, "ffwd": 2.24, "residual": 2.08, "layernorm": 2.06}
    for stage, value in measured.items():
        assert ours(results, f"stage_{stage}") == pytest.approx(value, abs=0.01), stage
    for stage, value in lecture.items():
        assert float(results[f"stage_{stage}"][1]) == value
    assert results["stage_scaled"][1] == "1.4873" and results["scaled_val"] == results["stage_scaled"]
    assert results["bigram_val"] == results["stage_bigram"]
    bigram = ours(results, "stage_bigram")
    assert all(ours(results, f"stage_{stage}") < bigram for stage in measured if stage != "bigram")


def test_progress_and_samples_printed(walkthrough):
    proc, _, _ = walkthrough
    assert "when input is [18] the target: 47" in proc.stdout
    lecture_sample = "\nSKIcLT;AcELMoTbvZv C?nq-QE33:CJqkOKH-q;:la!oiywkHjgChzbQ?u!3bLIgwevmyFJGUGp\n"
    assert lecture_sample in proc.stdout  # the untrained bigram's gibberish, as the lecture printed it
    assert "MultiHeadAttention == nanogpt.model.CausalSelfAttention" in proc.stdout
    assert proc.stdout.count(" steps in ") == 7  # seven trainings: six stages and the scaled model


@pytest.mark.parametrize("name", ["stages.png", "attention.png"])
def test_figures_written(walkthrough, name):
    _, _, figures = walkthrough
    data = (figures / name).read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000
