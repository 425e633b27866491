"""Lecture 1's walkthrough (lectures/01_micrograd.py) runs in fast mode and prints the lecture's numbers;
its exercise file reports blanks as not done, the package's formulas as right and a wrong formula as wrong."""

import re
import shutil
from pathlib import Path

import pytest

from zero_to_hero.lectures import parse_exercises, parse_results, run_walkthrough

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture01")
    proc = run_walkthrough(LECTURES / "01_micrograd.py", out)
    return parse_results(proc.stdout), out / "lectures" / "01"


# The first part of the lecture is exact arithmetic: these are printed exactly as the lecture shows them
# (to the printed digits), in fast and full mode alike.
EXACT = {
    "slope": ("14.0000", "14"),  # (f(3 + h) - f(3)) / h with h = 1e-6: 14.000003
    "slope_a": ("-3.0000", "-3"),
    "slope_b": ("2.0000", "2"),
    "slope_c": ("1.0000", "1"),
    "L": ("-8.0000", "-8.0"),
    "dL_da": ("6.0000", "6.0"),
    "dL_db": ("-4.0000", "-4.0"),
    "L_nudged": ("-7.286496", "-7.286496"),
    "o": ("0.7071", "0.7071"),
    "x1_grad": ("-1.5000", "-1.5"),
    "w1_grad": ("1.0000", "1.0"),
    "x2_grad": ("0.5000", "0.5"),
    "w2_grad": ("0.0000", "0.0"),
    "a_plus_a_grad": ("2.0000", "2.0"),
    "a_plus_a_overwrite": ("1.0000", "1.0"),
    "o_from_exp": ("0.7071", "0.7071"),
    "torch_o": ("0.7071067812", "0.7071066904050358"),  # ours in float64; the lecture's bias went through float32
    "torch_o_float32_bias": ("0.7071066904", "0.7071066904050358"),  # the lecture's number, reproduced
    "parameters": ("41", "41"),
}


def test_exact_results_match_the_lecture(walkthrough):
    results, _ = walkthrough
    for key, expected in EXACT.items():
        assert results[key] == expected, key


def test_mlp_training_with_and_without_zero_grad(walkthrough):
    results, _ = walkthrough
    # random.seed(1337), MLP(3, [4, 4, 1]) of tanh neurons, 20 steps at learning rate 0.1 (measured 2026-11-29)
    assert float(results["initial_loss"][0]) == pytest.approx(6.0054, abs=1e-4)
    assert float(results["loss_zero_grad"][0]) == pytest.approx(0.017782, abs=1e-6)
    # never resetting the gradients: ever larger steps saturate every tanh, the loss ends at 0 (to the float)
    assert float(results["loss_no_zero_grad"][0]) < 1e-20


def test_moons_demo_in_fast_mode(walkthrough):
    results, _ = walkthrough
    # 20 SGD steps in fast mode (100 in full mode reach 100%); measured: loss 0.1704, accuracy 94%
    assert float(results["moons_loss"][0]) == pytest.approx(0.1704, abs=0.002)
    assert float(results["moons_accuracy"][0]) == pytest.approx(94.0, abs=2.0)
    assert results["moons_accuracy"][1] == "100.0"


def test_figures_are_written(walkthrough):
    _, figures = walkthrough
    names = ["f.png", "tanh.png", "zero_grad.png", "moons.png"]
    if shutil.which("dot"):  # the graph drawings need graphviz's `dot`; without it the walkthrough skips them
        names += ["L_graph.png", "neuron_graph.png", "mlp_loss_graph.png"]
    for name in names:
        data = (figures / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000, name


# ---- exercises ---------------------------------------------------------------------------------------------------

OPS = ["add", "mul", "div", "pow", "exp", "log", "tanh", "relu"]
SOLUTIONS = {  # the package's formulas (micrograd/engine.py), written into the blanks
    "add": ["a.grad += out.grad", "b.grad += out.grad"],
    "mul": ["a.grad += b.data * out.grad", "b.grad += a.data * out.grad"],
    "div": ["a.grad += out.grad / b.data", "b.grad -= a.data / b.data**2 * out.grad"],
    "pow": ["n = out._exponent", "a.grad += n * a.data ** (n - 1) * out.grad"],
    "exp": ["a.grad += out.data * out.grad"],
    "log": ["a.grad += out.grad / a.data"],
    "tanh": ["a.grad += (1 - out.data**2) * out.grad"],
    "relu": ["a.grad += (a.data > 0) * out.grad"],
}
BLANK = "    raise NotImplementedError  # YOUR CODE\n"


def fill_in(solutions):
    """The exercise file's text with the blanks of the ops in `solutions` replaced by those lines."""
    text = (LECTURES / "exercises_01.py").read_text()
    for op, lines in solutions.items():
        match = re.search(rf"^def {op}_backward\(out\):\n(?:    .*\n)*?{re.escape(BLANK)}", text, re.M)
        assert match, op
        start = match.end() - len(BLANK)
        text = text[:start] + "".join(f"    {line}\n" for line in lines) + text[match.end() :]
    return text


def run_exercises(tmp_path, text):
    path = tmp_path / "lectures" / "exercises_01.py"
    path.parent.mkdir()
    path.write_text(text)
    return run_walkthrough(path, tmp_path / "out")  # raises if it exits non-zero


def test_blank_exercises_are_all_not_done(tmp_path):
    proc = run_walkthrough(LECTURES / "exercises_01.py", tmp_path)
    assert parse_exercises(proc.stdout) == {f"{op} backward": "not done" for op in OPS}
    assert "0 of 8 exercises done" in proc.stdout


def test_package_formulas_are_all_right(tmp_path):
    proc = run_exercises(tmp_path, fill_in(SOLUTIONS))
    assert parse_exercises(proc.stdout) == {f"{op} backward": "right" for op in OPS}
    assert "8 of 8 exercises done" in proc.stdout


def test_one_wrong_formula_is_the_only_one_reported_wrong(tmp_path):
    solutions = {**SOLUTIONS, "tanh": ["a.grad += (1 - out.data) * out.grad"]}  # forgot to square
    status = parse_exercises(run_exercises(tmp_path, fill_in(solutions)).stdout)
    assert status == {f"{op} backward": "wrong" if op == "tanh" else "right" for op in OPS}


def test_each_op_is_checked_on_its_own(tmp_path):
    solutions = {**SOLUTIONS, "tanh": ["a.grad += (1 - out.data) * out.grad"]}
    solutions["mul"] = ["a.grad = b.data * out.grad", "b.grad = a.data * out.grad"]  # `=`: a used twice is lost
    del solutions["log"]  # left blank
    status = parse_exercises(run_exercises(tmp_path, fill_in(solutions)).stdout)
    expected = {"tanh": "wrong", "mul": "wrong", "log": "not done"}
    assert status == {f"{op} backward": expected.get(op, "right") for op in OPS}
