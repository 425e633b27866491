"""The lecture walkthroughs (lectures/*.py) run in fast mode; their RESULT lines hold the lecture's numbers."""

import math
import re
import textwrap
from pathlib import Path

import pytest

from zero_to_hero.lectures import parse_exercises, parse_results, run_walkthrough

LECTURES = Path(__file__).resolve().parent.parent / "lectures"


# --- lectures 4 and 5: activations/gradients/BatchNorm, backprop ninja (+ exercises_05) ---------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 5_000 and path.read_bytes()[:8] == PNG_MAGIC


@pytest.fixture(scope="module")
def lecture_04(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture04")
    return run_walkthrough(LECTURES / "04_batchnorm.py", out), out / "lectures" / "04"


@pytest.fixture(scope="module")
def lecture_05(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture05")
    return run_walkthrough(LECTURES / "05_backprop_ninja.py", out), out / "lectures" / "05"


def test_lecture_04_reproduces_the_lectures_numbers(lecture_04):
    results = parse_results(lecture_04[0].stdout)
    # deterministic: the lecture's seed and draws, the same in fast mode
    exact = {
        "train_windows": ("182625", "182625"),
        "init_loss": ("27.8817", "27.8817"),
        "expected_loss": ("3.2958", "3.2958"),
        "init_loss_fixed": ("3.3221", "3.3221"),
        "init_loss_tanh_fixed": ("3.3135", "3.3135"),
        "kaiming_std": ("0.3043", "0.3043"),
        "deep_params": ("47024", "47024"),
        "xw_std": ("3.16", "3.16 (sqrt 10)"),
    }
    for key, value in exact.items():
        assert results[key] == value, key
    assert float(results["saturated_before"][0]) > 50 > 2 > float(results["saturated_after"][0])
    assert results["log_kaiming_val"][1] == "2.107" and results["log_batchnorm_train"][1] == "2.0668"


def test_lecture_04_fast_mode_trainings(lecture_04):
    results = parse_results(lecture_04[0].stdout)
    measured = {  # key: (fast-mode value on the 2-core CPU, torch 2.13.0, 2026-11-29; tolerance for other machines)
        "log_original_train": (7.8075, 0.01),
        "log_original_val": (7.8142, 0.01),
        "log_fix_softmax_train": (2.5348, 0.01),
        "log_fix_softmax_val": (2.5324, 0.01),
        "log_fix_tanh_train": (2.5930, 0.01),
        "log_fix_tanh_val": (2.5918, 0.01),
        "log_kaiming_train": (2.5783, 0.01),
        "log_kaiming_val": (2.5766, 0.01),
        "log_batchnorm_train": (2.7203, 0.01),
        "log_batchnorm_val": (2.7197, 0.01),
        "bn_val_calibrated": (2.6876, 0.01),
        "replay_layer2_saturated": (3.12, 0.2),
        "replay_layer2_std": (0.64, 0.011),
        "replay_layer2_grad_std": (1.279e-03, 5e-5),
        "replay_w30x100_grad_data": (3.121e-02, 1e-3),
        "deep_val": (2.7952, 0.01),
        "deep_init_saturated_max": (3.34, 0.2),
        "deep_final_update_ratio": (-3.56, 0.05),
        "sweep_bn_val": (3.1024, 0.01),
        "sweep_linear_val": (2.6923, 0.01),
        "residual_val": (3.1250, 0.01),
        "adam_val": (3.2325, 0.01),
    }
    for key, (value, tolerance) in measured.items():
        assert abs(float(results[key][0]) - value) < tolerance, (key, results[key], value)
    assert len(results) == len(measured) + 10 + len(LECTURE_04_ISSUE_23_KEYS)


def test_lecture_04_figures(lecture_04):
    for name in ("tanh_saturation.png", "diagnostics_init.png", "diagnostics_trained.png"):
        assert _is_png(lecture_04[1] / name), name


LECTURE_04_ISSUE_23_KEYS = (
    *("toy_equal_loss", "toy_equal5_loss", "toy_right_loss", "toy_wrong_loss", "toy_random_loss_max"),
    *("hockey_first_loss", "hockey_wasted_steps", "hockey_last200_original", "hockey_last200_fixed"),
    *("layers_by_hand_maxdiff", "low_lr_update_ratio", "high_lr_update_ratio", "samples"),
)


def test_lecture_04_toy_softmax_matches_the_formula(lecture_04):
    results = parse_results(lecture_04[0].stdout)
    assert set(LECTURE_04_ISSUE_23_KEYS) <= set(results)
    e5 = math.exp(5)
    assert results["toy_equal_loss"] == (f"{math.log(4):.4f}", "1.3863 (ln 4)")
    assert results["toy_equal5_loss"][0] == f"{math.log(4):.4f}"  # equal logits: ln 4 whatever their value
    assert results["toy_right_loss"] == (f"{-math.log(e5 / (3 + e5)):.4f}", "0.02")
    assert results["toy_wrong_loss"][0] == f"{-math.log(1 / (3 + e5)):.4f}" == "5.0200"
    assert float(results["toy_random_loss_max"][0]) > 10  # a confidently wrong random draw


def test_lecture_04_hockey_stick_layers_low_lr_and_samples(lecture_04):
    results, figures = parse_results(lecture_04[0].stdout), lecture_04[1]
    assert results["hockey_first_loss"] == ("27.8817", "27.8817")  # the lecture's first step, from its seed
    # fast mode, 600 steps: lecture 3's init is still on the blade of the stick, far above the fixed start
    assert results["hockey_wasted_steps"][0] == ">600"
    original, fixed = float(results["hockey_last200_original"][0]), float(results["hockey_last200_fixed"][0])
    assert original > 4.5 and fixed < 2.7, (original, fixed)
    assert float(results["layers_by_hand_maxdiff"][0]) <= 1e-6  # the lecture's classes == makemore.layers
    low, high = float(results["low_lr_update_ratio"][0]), float(results["high_lr_update_ratio"][0])
    assert low < -4.5 < -3.2 < high < -2.4 and 1.8 < high - low < 2.6, (low, high)  # lr 100x lower: about 2 lower
    samples = results["samples"][0].split(" ")
    assert len(samples) == 5 and all(re.fullmatch(r"[a-z]+\.", name) for name in samples), samples
    for name in ("hockey_stick.png", "update_ratio_low_lr.png"):
        assert _is_png(figures / name), name


def test_lecture_05_results(lecture_05):
    results = parse_results(lecture_05[0].stdout)
    assert results["params"] == ("4137", "4137") and results["ex4_params"] == ("12297", "12297")
    assert abs(float(results["loss"][0]) - 3.3613) < 1e-3  # the lecture's 3.3377 had unseeded bngain/bnbias
    assert int(results["ex1_exact"][0]) >= 11  # bit-exact down to the tanh (see the walkthrough)
    for key in ("ex1_maxdiff", "ex2_maxdiff", "ex3_maxdiff", "ex2_row_sum"):
        assert float(results[key][0]) < 1e-7, key
    assert float(results["ex4_drift"][0]) < 1e-5
    measured = {"ex4_train": 2.3601, "ex4_val": 2.3596}  # fast mode: 2,000 steps
    for key, value in measured.items():
        assert abs(float(results[key][0]) - value) < 0.01, (key, results[key], value)


def test_lecture_05_figures(lecture_05):
    assert _is_png(lecture_05[1] / "dlogits.png") and _is_png(lecture_05[1] / "manual_training_loss.png")


def test_lecture_05_batchnorm_derivation_and_dlogits_row(lecture_05):
    results = parse_results(lecture_05[0].stdout)
    # the four intermediate gradients of the derivation, and the closed form, against autograd and each other
    assert float(results["bn_steps_maxdiff"][0]) < 1e-7 and float(results["ex3_closed_vs_steps"][0]) < 1e-7
    p, at_target = float(results["dlogits0_p_target"][0]), float(results["dlogits0_at_target"][0])
    assert abs(p - 0.0193) < 1e-3  # the first example's probability of its correct character, at init
    assert abs(at_target - (p - 1)) < 2e-4 and results["dlogits0_at_target"][1] == "-0.9835"
    assert float(results["dlogits0_sum"][0]) < 1e-7
    assert _is_png(lecture_05[1] / "dlogits_row0.png")


EXERCISE_05_SOLUTIONS = {
    "d_logprobs": "g = torch.zeros_like(t.logprobs)\ng[range(t.n), t.Yb] = -1.0 / t.n\nreturn g",
    "d_probs": "return d.logprobs / t.probs",
    "d_counts_sum_inv": "return (t.counts * d.probs).sum(1, keepdim=True)",
    "d_counts_sum": "return -t.counts_sum**-2 * d.counts_sum_inv",
    "d_counts": "return t.counts_sum_inv * d.probs + d.counts_sum",
    "d_norm_logits": "return t.counts * d.counts",
    "d_logit_maxes": "return -d.norm_logits.sum(1, keepdim=True)",
    "d_logits": "return d.norm_logits + F.one_hot(t.logits.max(1).indices, t.logits.shape[1]) * d.logit_maxes",
    "d_h": "return d.logits @ t.W2.T",
    "d_W2": "return t.h.T @ d.logits",
    "d_b2": "return d.logits.sum(0)",
    "d_hpreact": "return (1.0 - t.h**2) * d.h",
    "d_bngain": "return (t.bnraw * d.hpreact).sum(0, keepdim=True)",
    "d_bnbias": "return d.hpreact.sum(0, keepdim=True)",
    "d_bnraw": "return t.bngain * d.hpreact",
    "d_bnvar_inv": "return (t.bndiff * d.bnraw).sum(0, keepdim=True)",
    "d_bnvar": "return -0.5 * (t.bnvar + 1e-5) ** -1.5 * d.bnvar_inv",
    "d_bndiff2": "return torch.ones_like(t.bndiff2) / (t.n - 1 if BESSEL else t.n) * d.bnvar",
    "d_bndiff": "return t.bnvar_inv * d.bnraw + 2 * t.bndiff * d.bndiff2",
    "d_bnmeani": "return -d.bndiff.sum(0, keepdim=True)",
    "d_hprebn": "return d.bndiff + d.bnmeani / t.n",
    "d_embcat": "return d.hprebn @ t.W1.T",
    "d_W1": "return t.embcat.T @ d.hprebn",
    "d_b1": "return d.hprebn.sum(0)",
    "d_emb": "return d.embcat.view(t.emb.shape)",
    "d_C": "return torch.zeros_like(t.C).index_add_(0, t.Xb.view(-1), d.emb.view(-1, t.C.shape[1]))",
    "d_logits_fused": "g = F.softmax(t.logits, 1)\ng[range(t.n), t.Yb] -= 1\nreturn g / t.n",
    "d_hprebn_fused": """
        c = t.n / (t.n - 1) if BESSEL else 1.0
        s = dhpreact.sum(0)
        return t.bngain * t.bnvar_inv / t.n * (t.n * dhpreact - s - c * t.bnraw * (dhpreact * t.bnraw).sum(0))
        """,
    "parameter_grads": """
        t = forward(P, Xb, Yb)
        dlogits = d_logits_fused(t)
        dhpreact = (1.0 - t.h**2) * (dlogits @ P["W2"].T)
        dhprebn = d_hprebn_fused(t, dhpreact)
        demb = (dhprebn @ P["W1"].T).view(t.emb.shape)
        dC = torch.zeros_like(P["C"]).index_add_(0, Xb.view(-1), demb.view(-1, P["C"].shape[1]))
        grads = dict(C=dC, W1=t.embcat.T @ dhprebn, b1=dhprebn.sum(0), W2=t.h.T @ dlogits, b2=dlogits.sum(0),
                     bngain=(t.bnraw * dhpreact).sum(0, keepdim=True), bnbias=dhpreact.sum(0, keepdim=True))
        return t.loss, grads
        """,
}
EXERCISE_05 = LECTURES / "exercises_05.py"


def _fill(text: str, solutions: dict[str, str]) -> str:
    """Replace the `raise NotImplementedError  # YOUR CODE` line of each named function with its solution."""
    for name, body in solutions.items():
        pattern = re.compile(
            rf"(def {name}\(.*\)(?: -> .*)?:\n(?:(?!def ).*\n)*?)    raise NotImplementedError  # YOUR CODE\n"
        )
        solution = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
        text, count = pattern.subn(lambda m, s=solution: m.group(1) + s, text, count=1)
        assert count == 1, name
    return text


def _run_filled(tmp_path, name: str, solutions: dict[str, str]) -> tuple[dict[str, str], str]:
    """Run a copy of lectures/<name> with the solutions filled in; returns the checker's verdicts and its output."""
    copy = tmp_path / "lectures" / name
    copy.parent.mkdir(parents=True)
    copy.write_text(_fill((LECTURES / name).read_text(), solutions))
    stdout = run_walkthrough(copy, tmp_path).stdout
    return parse_exercises(stdout), stdout


def test_exercises_05_blank_are_all_not_done(tmp_path):
    status = parse_exercises(run_walkthrough(EXERCISE_05, tmp_path).stdout)
    assert len(status) == 29 and set(status.values()) == {"not done"}


def test_exercises_05_solved_are_all_right(tmp_path):
    assert len(EXERCISE_05_SOLUTIONS) == 29
    status, _ = _run_filled(tmp_path, "exercises_05.py", EXERCISE_05_SOLUTIONS)
    assert len(status) == 29 and set(status.values()) == {"right"}, status


def test_exercises_05_one_wrong_formula_is_caught(tmp_path):
    wrong = {**EXERCISE_05_SOLUTIONS, "d_hpreact": "return (1.0 - t.h) * d.h"}  # tanh' = 1 - tanh^2, not 1 - tanh
    status, _ = _run_filled(tmp_path, "exercises_05.py", wrong)
    assert status.pop("1 dhpreact") == "wrong"
    assert set(status.values()) == {"right"}, status


EXERCISE_04 = LECTURES / "exercises_04.py"
EXERCISE_04_SOLUTIONS = {
    "moving_parameters": 'return {"b2"}',
    "zero_init_loss": """
        p = torch.bincount(Ytr, minlength=vocab_size).float() / len(Ytr)
        return -(p * p.log()).sum().item()
        """,
    "fold": """
        scale = bn_gamma / torch.sqrt(running_var + eps)
        bias = linear_b if linear_b is not None else torch.zeros_like(running_mean)
        return linear_W * scale, (bias - running_mean) * scale + bn_beta
        """,
}


def test_exercises_04_blank_are_all_not_done(tmp_path):
    status = parse_exercises(run_walkthrough(EXERCISE_04, tmp_path).stdout)
    assert len(status) == 3 and set(status.values()) == {"not done"}, status


def test_exercises_04_solved_are_all_right(tmp_path):
    status, _ = _run_filled(tmp_path, "exercises_04.py", EXERCISE_04_SOLUTIONS)
    assert len(status) == 3 and set(status.values()) == {"right"}, status


def test_exercises_04_wrong_answers_are_caught_and_named(tmp_path):
    wrong = {
        "moving_parameters": 'return {"b2", "W2"}',  # W2 gets h.T @ dlogits = 0: it never moves
        "zero_init_loss": "return 3.2958",  # ln 27, the uniform guess is the start, not where it converges
        # the bias forgotten: right for bn_mlp's bias-free Linear layers, wrong for a Linear with a bias
        "fold": """
            scale = bn_gamma / torch.sqrt(running_var + eps)
            return linear_W * scale, -running_mean * scale + bn_beta
            """,
    }
    status, stdout = _run_filled(tmp_path, "exercises_04.py", {**EXERCISE_04_SOLUTIONS, **wrong})
    assert set(status.values()) == {"wrong"}, status
    assert "W2: you say it changes, but in 100 steps of training it never changes" in stdout
    assert "Linear(30, 100, bias) + BatchNorm1d: first differing value at output[0, " in stdout
    # a fold that is wrong only for the deep net's layers: the bias-free case gets a zero bias of the wrong shape
    shape = {"fold": EXERCISE_04_SOLUTIONS["fold"].replace("torch.zeros_like(running_mean)", "torch.zeros(1, 1)")}
    status, stdout = _run_filled(tmp_path / "shape", "exercises_04.py", {**EXERCISE_04_SOLUTIONS, **shape})
    assert status["2 BatchNorm folded into the Linear before it"] == "wrong", status
    assert "b' should have shape (100,), got (1, 100)" in stdout


# --- lectures 2 and 3: bigram, MLP ------------------------------------------------------------------------------


def _close(results: dict, measured: dict) -> None:
    """Each key's number within its tolerance of the fast-mode value measured on the 2-core CPU, torch 2.13.0."""
    for key, (value, tolerance) in measured.items():
        assert abs(float(results[key][0]) - value) <= tolerance, (key, results[key], value)


@pytest.fixture(scope="module")
def lecture_02(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture02")
    return parse_results(run_walkthrough(LECTURES / "02_bigram.py", out).stdout), out / "lectures" / "02"


@pytest.fixture(scope="module")
def lecture_03(tmp_path_factory):
    out = tmp_path_factory.mktemp("lecture03")
    stdout = run_walkthrough(LECTURES / "03_mlp.py", out).stdout
    return parse_results(stdout), out / "lectures" / "03", stdout


def test_lecture_02_counting_model_gives_the_lectures_numbers(lecture_02):
    results = lecture_02[0]
    exact = {  # deterministic, and equal to what the lecture prints
        "words": ("32033", "32033"),
        "shortest": ("2", "2"),
        "longest": ("15", "15"),
        "top_bigram": ("n<E>=6763", "n<E>=6763"),
        "bigrams": ("228146", "228146"),
        "draws12": ("112002110001", "112002110001"),
        "loglik": ("-559891.75", "-559891.75"),
        "nll_loop": ("2.4541", "2.4541"),
        "andrejq_raw": ("inf", "inf"),
        "emma_loss": ("3.7693", "3.7693"),
        "net_samples_equal": ("True", "True"),
        "logp_dot_e": ("-3.0408", "-3.0408"),  # the first line of the lecture's per-bigram printout
        "loglik_3words": ("-38.7856", "-38.7856"),
        "nll_3words": ("2.4241", "2.4241"),
        "nll_uniform": ("3.2958", "3.2958"),  # the untrained baseline, ln 27
    }
    for key, value in exact.items():
        assert results[key] == value, key
    assert results["nll"][0] == "2.4540" and results["nll_smoothed"][0] == "2.4546"  # the package's figures
    assert results["andrej_raw"][0] == "3.0391"
    # the broadcasting trap: columns sum to 1, rows don't, and the data set's loss can't tell
    assert float(results["trap_colsum_max_err"][0]) < 1e-6 and results["trap_rowsum0"][0] == "6.9246"
    assert results["trap_nll"][0] == results["nll_smoothed"][0]


def test_lecture_02_fast_mode_numbers(lecture_02):
    results = lecture_02[0]
    _close(
        results,
        {
            "andrejq_smoothed": (3.4834, 1e-4),
            "trap_sampled_nll": (2.8554, 1e-4),
            "gd_first_loss": (3.7686, 1e-4),
            "gd_loss": (2.7188, 0.01),  # fast mode: 10 full-batch steps at lr 50
            "l2_0.01": (2.4750, 0.01),  # fast mode: 100 steps per strength
            "l2_10": (3.1314, 0.01),
        },
    )
    # torch 2.x draws single multinomial samples differently from the lecture's torch: these are ours
    assert results["samples"][0] == "cexze. momasurailezitynn. konimittain. llayn. ka."


def test_lecture_02_figures(lecture_02):
    assert _is_png(lecture_02[1] / "counts.png") and _is_png(lecture_02[1] / "smoothing.png")
    assert _is_png(lecture_02[1] / "one_hot.png")


def test_lecture_03_gives_the_lectures_numbers(lecture_03):
    results = lecture_03[0]
    exact = {
        "examples5": ("32", "32"),
        "view_no_copy": ("True", "True"),
        "random_loss": ("17.7697", "17.7697"),
        "manual_shift100": ("nan", "nan"),
        "params_small": ("3481", "3481"),
        "params": ("11897", "11897"),
        "first_loss": ("27.8817", "27.8817 (lecture 4's first step)"),
    }
    for key, value in exact.items():
        assert results[key] == value, key
    assert results["ce_shift100"][0] == "17.7697"  # F.cross_entropy is unmoved by logits + 100
    assert results["train_examples"][0] == "182625"


def test_lecture_03_fast_mode_trainings(lecture_03):
    results = lecture_03[0]
    _close(
        results,
        {
            "overfit_loss": (0.2561, 0.01),  # 1,000 steps on 32 examples, as in the lecture (≈ 0.25)
            "lr_valley": (0.154, 0.02),
            "train": (2.6366, 0.01),  # fast mode: 4,000 steps (the lecture's 200,000 give 2.13 / 2.17)
            "dev": (2.6403, 0.01),
            "tuned_first_loss": (3.3097, 1e-3),
            "tuned_train": (2.2773, 0.01),
            "tuned_dev": (2.2802, 0.01),
            "dev_e2_h100": (2.5936, 0.01),
            "dev_e2_h300": (2.5379, 0.01),
            "dev_e10_h200_short": (3.6549, 0.01),
        },
    )
    assert float(results["tuned_dev"][0]) < float(results["dev"][0])  # lecture 4's init wins at equal steps
    assert results["samples"][0].startswith("carla. fari.")


def test_lecture_03_figures(lecture_03):
    assert _is_png(lecture_03[1] / "lr_finder.png") and _is_png(lecture_03[1] / "embedding.png")
    assert _is_png(lecture_03[1] / "loss.png")


def test_lecture_03_fast_mode_says_it_cannot_show_the_embedding_order(lecture_03):
    """The lecture: the 10-d embedding beats both 2-d ones. Fast mode's 1,500 steps reverse that, and it says so."""
    results, _, stdout = lecture_03
    assert float(results["dev_e10_h200_short"][0]) > float(results["dev_e2_h300"][0])
    assert "fast mode cannot show it: 1500 steps are too few for the 10-d model" in stdout


# --- exercises for lectures 2 and 3 --------------------------------------------------------------------------------

EXERCISE_02_SOLUTIONS = {  # written apart from the checker: Python loops and dicts where it uses tensors
    "trigram_probs": """
        N3 = torch.ones((27, 27, 27))
        for w in words:
            chs = [".", "."] + list(w) + ["."]
            for a, b, c in zip(chs, chs[1:], chs[2:]):
                N3[stoi[a], stoi[b], stoi[c]] += 1
        return N3 / N3.sum(2, keepdim=True)
        """,
    "split_80_10_10": """
        import random
        shuffled = list(words)
        random.Random(1).shuffle(shuffled)
        n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
        return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]
        """,
    "dev_and_test_losses": """
        def windows(ws, n):
            ctx, out = [], []
            for w in ws:
                chs = ["."] * n + list(w) + ["."]
                for i in range(n, len(chs)):
                    ctx.append(tuple(stoi[c] for c in chs[i - n : i]))
                    out.append(stoi[chs[i]])
            return ctx, out

        losses = {}
        for name, n in (("bigram", 1), ("trigram", 2)):
            counts = torch.ones((27,) * (n + 1))
            for c, y in zip(*windows(train, n)):
                counts[c + (y,)] += 1
            P = counts / counts.sum(-1, keepdim=True)
            scores = []
            for part in (dev, test):
                c, y = windows(part, n)
                scores.append(-sum(math.log(P[a + (b,)]) for a, b in zip(c, y)) / len(y))
            losses[name] = tuple(scores)
        return losses
        """,
    "best_smoothing": """
        Xt, Yt = build_windows(train, vocab, 2)
        Xd, Yd = build_windows(dev, vocab, 2)
        N3 = torch.zeros((27, 27, 27))
        N3.index_put_((Xt[:, 0], Xt[:, 1], Yt), torch.ones(len(Yt)), accumulate=True)
        def dev_loss(a):
            P = (N3 + a) / (N3 + a).sum(2, keepdim=True)
            return -P[Xd[:, 0], Xd[:, 1], Yd].log().mean().item()
        return min([10**k for k in torch.linspace(-3, 1, 41).tolist()], key=dev_loss)
        """,
    "trigram_logits": "return W[X[:, 0]] + W[27 + X[:, 1]]",
    "nll_loss": "return F.cross_entropy(logits, targets)",
}
EXERCISE_03_SOLUTIONS = {
    "settings": """
        def init(g, block_size, n_embd, n_hidden):
            fan_in = block_size * n_embd
            return [
                torch.randn((27, n_embd), generator=g),
                torch.randn((fan_in, n_hidden), generator=g) * (5 / 3) / fan_in**0.5,
                torch.randn(n_hidden, generator=g) * 0.01,
                torch.randn((n_hidden, 27), generator=g) * 0.01,
                torch.randn(27, generator=g) * 0.0,
            ]

        return dict(block_size=3, n_embd=10, n_hidden=200, batch_size=64, steps=20_000,
                    lr=lambda i: 0.1 if i < 15_000 else 0.01, init=init)
        """,
    "uniform_loss": "return -math.log(1 / 27)",
    "init_params": """
        params = lecture_init(g, block_size, n_embd, n_hidden)
        return [params[0], params[1] * 0.2, params[2] * 0.01, params[3] * 0.01, params[4] * 0.0]
        """,
}


EXERCISES_02 = [
    "E01 trigram beats the bigram",
    "E02 split 80/10/10",
    "E02 dev and test losses",
    "E03 smoothing chosen on dev",
    "E04 indexing instead of one-hot",
    "E05 F.cross_entropy",
]
EXERCISES_03 = ["E01 dev loss below 2.2", "E02 uniform loss", "E02 init near it"]


@pytest.mark.parametrize(("name", "expected"), [("exercises_02.py", EXERCISES_02), ("exercises_03.py", EXERCISES_03)])
def test_exercises_02_03_blank_are_all_not_done(tmp_path, name, expected):
    status = parse_exercises(run_walkthrough(LECTURES / name, tmp_path).stdout)
    assert status == dict.fromkeys(expected, "not done")


def test_exercises_02_solved_are_all_right(tmp_path):
    status, stdout = _run_filled(tmp_path, "exercises_02.py", EXERCISE_02_SOLUTIONS)
    assert status == dict.fromkeys(EXERCISES_02, "right"), stdout
    # the checker's own reference numbers, as it prints them
    assert "trigram loss on all the words 2.2126; bigram (+1) 2.4546" in stdout
    assert "trigram: dev 2.2365, test 2.2373" in stdout and "bigram: dev 2.4533, test 2.4584" in stdout


def test_exercises_02_wrong_answers_name_the_value(tmp_path):
    wrong = {
        **EXERCISE_02_SOLUTIONS,
        "trigram_probs": "N3 = torch.ones((27, 27, 27))\nreturn N3 / N3.sum(0, keepdim=True) * 2",  # rows sum to 2
        "trigram_logits": "return W[X[:, 0]] + W[X[:, 1]]",  # forgot the offset of the second one-hot
        "nll_loss": """
            probs = logits.exp() / logits.exp().sum(1, keepdim=True)  # the lecture's softmax, by hand
            return -probs[range(len(targets)), targets].log().mean()
            """,
    }
    status, stdout = _run_filled(tmp_path, "exercises_02.py", wrong)
    assert status == {
        **dict.fromkeys(EXERCISES_02, "right"),
        "E01 trigram beats the bigram": "wrong",
        "E04 indexing instead of one-hot": "wrong",
        "E05 F.cross_entropy": "wrong",
    }, stdout
    assert "row P3['..'] sums to 2.000000, not 1" in stdout
    assert re.search(r"logits\[\d+, \d+\] for context '\S\S': yours -?\d+\.\d{4}, expected -?\d+\.\d{4}", stdout)
    assert "hint: the second one-hot starts at input 27" in stdout
    assert re.search(r"logits \+ 100: yours nan, expected \d\.\d{6}", stdout)


def test_exercises_02_one_hot_is_refused_in_e04(tmp_path):
    uses_one_hot = {
        "trigram_logits": "return torch.cat([F.one_hot(X[:, 0], 27), F.one_hot(X[:, 1], 27)], 1).float() @ W"
    }
    status, stdout = _run_filled(tmp_path, "exercises_02.py", uses_one_hot)
    assert status["E04 indexing instead of one-hot"] == "wrong" and "calls F.one_hot" in stdout


def test_exercises_03_solved_are_all_right(tmp_path):
    status, stdout = _run_filled(tmp_path, "exercises_03.py", EXERCISE_03_SOLUTIONS)
    assert status == dict.fromkeys(EXERCISES_03, "right"), stdout
    assert "dev loss 2.3762, target below 2.45" in stdout  # fast mode: every 20th step (full mode: 2.1475 < 2.2)
    assert "loss on the training set at init: 3.3058" in stdout


def test_exercises_03_wrong_answers_name_the_value(tmp_path):
    wrong = {
        "settings": "return dict(block_size=3, n_embd=10, n_hidden=200, batch_size=64, steps=30_000, lr=lambda i: 0.1)",
        "uniform_loss": "return math.log(1 / 27)",  # the sign
        "init_params": "return lecture_init(g, block_size, n_embd, n_hidden)",  # lecture 3's init: loss 27
    }
    status, stdout = _run_filled(tmp_path, "exercises_03.py", wrong)
    assert status == dict.fromkeys(EXERCISES_03, "wrong"), stdout
    assert "30000 steps × batch 64 = 1,920,000 examples: over the budget of 1,280,000" in stdout
    assert "yours -3.2958" in stdout
    match = re.search(r"loss on the training set at init: (\d+\.\d{4})", stdout)
    assert match and float(match.group(1)) > 20 and "hint: the logits should be near 0 at init" in stdout
