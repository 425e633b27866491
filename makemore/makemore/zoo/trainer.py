"""One training loop for every model: AdamW on random batches of words, test loss every eval_interval steps,
the best model (by test loss) kept in best.pt, everything needed to resume in last.pt.

    out_dir/best.pt       model weights + what built them (type, sizes, vocabulary, seed): --sample-only
    out_dir/last.pt       the latest weights + optimizer + batch sampler state + step: --resume
    out_dir/metrics.json  train_loss, test_loss (of best.pt), steps, seconds, params, type
"""

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from makemore.zoo import ModelConfig, build_model, checkpoint, count_params
from makemore.zoo.dataset import IGNORE, SequenceData
from makemore.zoo.interrupt import StopOnCtrlC
from makemore.zoo.sampling import format_samples, sample_groups
from zero_to_hero import UserError
from zero_to_hero.device import seed_everything
from zero_to_hero.files import write_json
from zero_to_hero.progress import format_duration, progress_line

BEST, LAST, METRICS = "best.pt", "last.pt", "metrics.json"


@dataclass(frozen=True)
class TrainConfig:
    max_steps: int = 12_000  # ~7 minutes for the default Transformer on a 2-core CPU (README); -1: until Ctrl-C
    batch_size: int = 64
    learning_rate: float = 3e-3  # with dropout 0.2 and decay 0.1 the Transformer reaches test 1.919 (README)
    lr_schedule: str = "cosine"  # or "constant"
    weight_decay: float = 0.1  # on matrices only (param_groups)
    eval_interval: int = 500
    log_interval: int = 100
    num_samples: int = 10
    top_k: int = -1  # sample from the k most likely characters only; -1: from all
    seed: int = 3407


def loss_fn(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy per predicted character; padding (IGNORE) is not a prediction."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE, reduction=reduction)


@torch.no_grad()
def evaluate_sequences(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, batch_size: int = 1000) -> float:
    """Mean loss per character over all of X, Y (not a mean of batch means: words differ in length)."""
    was_training = model.training
    model.eval()
    total = sum(
        loss_fn(model(X[i : i + batch_size]), Y[i : i + batch_size], "sum").item() for i in range(0, len(X), batch_size)
    )
    model.train(was_training)
    return total / (Y != IGNORE).sum().item()


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on the matrices (linear weights, embeddings, the bigram table) only: biases and LayerNorm
    gains are few, don't make the model fit noise, and pulling a gain towards 0 would only fight the norm."""
    params = list(model.parameters())
    return [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Cosine from the full rate at step 0 to a tenth of it at max_steps: big steps first, then small ones
    that settle into a minimum instead of bouncing around it (README: 1.961 vs 2.000 with a constant rate)."""
    if cfg.lr_schedule == "constant" or cfg.max_steps < 0:  # a run without an end has no schedule to follow
        return cfg.learning_rate
    progress = min(step / cfg.max_steps, 1.0)
    return cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def run_training(
    model_type: str,
    config: ModelConfig,
    data: SequenceData,
    cfg: TrainConfig,
    out_dir: Path,
    device: torch.device,
    resume: bool = False,
    log=print,
    initial_weights: dict | None = None,
) -> dict:
    """Train (or continue training) one model; returns the metrics it also writes to out_dir/metrics.json.

    max_steps -1 trains until Ctrl-C. Ctrl-C (at any time) evaluates, saves best.pt/last.pt, samples and
    writes the metrics, as the end of a run does. `initial_weights`: a state_dict to start from (step 0)."""
    out_dir = Path(out_dir)
    seed_everything(cfg.seed)
    model = build_model(model_type, config).to(device)
    optimizer = torch.optim.AdamW(
        param_groups(model, cfg.weight_decay), lr=cfg.learning_rate, betas=(0.9, 0.99), eps=1e-8
    )
    batches = torch.Generator().manual_seed(cfg.seed)  # which words each step trains on
    header = checkpoint.header(model_type, config, data, cfg.seed)
    step, seconds, best_loss, best_step = 0, 0.0, math.inf, 0
    if resume:
        ckpt = checkpoint.load(out_dir / LAST)
        checkpoint.check_header(ckpt, header, out_dir / LAST)
        if ckpt["step"] >= cfg.max_steps:
            raise UserError(f"{out_dir / LAST} has already trained {ckpt['step']} steps; raise --max-steps to go on")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        batches.set_state(ckpt["batches"])
        step, seconds, best_loss, best_step = ckpt["step"], ckpt["seconds"], ckpt["best_test_loss"], ckpt["best_step"]
        log(f"resumed from {out_dir / LAST} at step {step} (best test loss {best_loss:.4f} at step {best_step})")
    elif initial_weights is not None:
        model.load_state_dict(initial_weights)

    X_train, Y_train = (t.to(device) for t in data.build_sequences(data.train_words))  # (N, block_size) each
    X_test, Y_test = (t.to(device) for t in data.build_sequences(data.test_words))
    n_probe = len(X_test)  # periodic train loss on a fixed slice as big as the test set: cheap, comparable
    params = count_params(model)
    log(
        f"{model_type}: {params:,} parameters | {len(data.vocab)} symbols, block size {data.block_size} | "
        f"{len(data.train_words):,} train / {len(data.test_words):,} test words | device {device}"
    )

    def evaluate_save_and_sample() -> None:
        nonlocal best_loss, best_step, interval_start
        train_loss = evaluate_sequences(model, X_train[:n_probe], Y_train[:n_probe])
        test_loss = evaluate_sequences(model, X_test, Y_test)
        if not math.isfinite(test_loss):
            raise UserError(f"the test loss became {test_loss} at step {step}; lower --learning-rate")
        log(f"step {step:6d} | train loss {train_loss:.4f} | test loss {test_loss:.4f}")
        if test_loss < best_loss:
            best_loss, best_step = test_loss, step
            checkpoint.save(
                {**header, "model": model.state_dict(), "step": step, "test_loss": test_loss}, out_dir / BEST
            )
            log(f"  new best test loss; saved {out_dir / BEST}")
        elapsed = seconds + time.perf_counter() - start
        checkpoint.save(
            {
                **header,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "batches": batches.get_state(),
                "step": step,
                "seconds": elapsed,
                "best_test_loss": best_loss,
                "best_step": best_step,
            },
            out_dir / LAST,
        )
        samples = torch.Generator(device=device).manual_seed(cfg.seed + step)
        log(format_samples(sample_groups(model, data, cfg.num_samples, samples, top_k=cfg.top_k)))
        interval_start = time.perf_counter()  # evaluation time is not training time per step

    endless = cfg.max_steps < 0
    model.train()
    start = time.perf_counter()
    interval_start, interval_steps = start, 0
    evaluated_at = None
    with StopOnCtrlC() as ctrl_c:
        while (endless or step < cfg.max_steps) and not ctrl_c.requested:
            lr = learning_rate(cfg, step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            ix = torch.randint(len(X_train), (cfg.batch_size,), generator=batches).to(device)
            loss = loss_fn(model(X_train[ix]), Y_train[ix])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            interval_steps += 1

            if step % cfg.log_interval == 0 or step == cfg.max_steps:
                seconds_per_step = (time.perf_counter() - interval_start) / interval_steps
                values = {"loss": loss.item(), "lr": lr, **({"until": "Ctrl-C"} if endless else {})}
                total = None if endless else cfg.max_steps
                rate = cfg.batch_size / seconds_per_step
                log(progress_line(step, total, seconds_per_step=seconds_per_step, rate=rate, unit="words", **values))
                interval_start, interval_steps = time.perf_counter(), 0

            if step % cfg.eval_interval == 0 or step == cfg.max_steps:
                evaluate_save_and_sample()
                evaluated_at = step
        if ctrl_c.requested:
            log(f"Ctrl-C at step {step}: the step finished; evaluating, saving and sampling (Ctrl-C again: quit now)")
        if evaluated_at != step:
            evaluate_save_and_sample()

    seconds += time.perf_counter() - start
    # The metrics describe best.pt, the model --sample-only uses, on the whole of each split.
    model.load_state_dict(checkpoint.load(out_dir / BEST)["model"])
    metrics = {
        "type": model_type,
        "train_loss": evaluate_sequences(model, X_train, Y_train),
        "test_loss": evaluate_sequences(model, X_test, Y_test),
        "best_step": best_step,
        "steps": step,
        "seconds": round(seconds, 2),
        "params": params,
        "device": str(device),
        "config": asdict(config),
        "train": asdict(cfg),
    }
    write_json(out_dir / METRICS, metrics)
    log(
        f"best test loss {metrics['test_loss']:.4f} (train {metrics['train_loss']:.4f}) at step {best_step}; "
        f"{step} steps in {format_duration(seconds)}; wrote {out_dir / METRICS}"
    )
    return metrics
