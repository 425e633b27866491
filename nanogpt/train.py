"""Train a GPT (or the bigram baseline) — the project's main job.

    python train.py                                    # a config suited to this machine's best device
    python train.py configs/shakespeare_char.py        # a config file ...
    python train.py --max_iters=500 --dropout=0.1      # ... and/or --key=value overrides

Ends with out_dir/ckpt.pt, out_dir/metrics.json and a printed sample. The run itself, top to bottom (setup,
the step, the loop), is nanogpt/trainer.py: `set_up`, then `train`.
"""

import argparse
import contextlib
import os
import sys
from pathlib import Path

from nanogpt.config import add_config_arguments, config_from_args, given_keys
from nanogpt.sampling import sample_text
from nanogpt.trainer import close, set_up, train
from zero_to_hero import run_main
from zero_to_hero.device import pick_device
from zero_to_hero.files import hold_folder, prepare_out_dir

CONFIGS = Path(__file__).parent / "configs"


def default_config_file(device: str) -> Path:
    """The classic 6-layer char model (compiled, bf16) on a CUDA GPU; a small, quick one elsewhere."""
    return CONFIGS / ("shakespeare_char.py" if pick_device(device).type == "cuda" else "shakespeare_char_cpu.py")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_arguments(parser, default_config_file("auto"))  # --help shows what a run here would use
    cfg, config_file, args = config_from_args(parser, argv, default_config_file)
    held = contextlib.nullcontext()
    if int(os.environ.get("RANK", "0")) == 0:  # the rank that writes holds out_dir: a second run gets one line
        held = hold_folder(prepare_out_dir(cfg.out_dir, "--out_dir"), "--out_dir")
    with held:
        run = set_up(cfg, given=given_keys(args))  # processes, device, data, model, optimizer (and resume)
        run.log(f"config: {config_file}")  # rank 0 only under torchrun
        try:
            metrics = train(run)  # the loop
        finally:
            close(run)  # under torchrun: leave the process group
    if not run.world.is_master:
        return  # rank 0 alone reports
    wrote = f"wrote {cfg.out_dir}/metrics.json" if run.writes else f"{cfg.out_dir}'s files left as they were"
    print(
        f"final: train loss {metrics['train_loss']:.4f}, val loss {metrics['val_loss']:.4f}, "
        f"{metrics['tokens_per_sec']:,.0f} tokens/s; {wrote}"
    )
    print("-" * 40)
    print(sample_text(run.raw_model, run.tokenizer, max_new_tokens=300, device=run.device)[0])


if __name__ == "__main__":
    run_main(main)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # Under torchrun, everything is written and the process group is gone by now. Skipping the interpreter's
        # teardown avoids a known gloo abort there ("terminate called without an active exception": a worker
        # thread still alive when C++ destructors run), which turned finished runs into failed ones.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
