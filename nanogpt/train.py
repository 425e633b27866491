"""Train a GPT (or the bigram baseline) — the project's main job.

    python train.py                                    # a config suited to this machine's best device
    python train.py configs/shakespeare_char.py        # a config file ...
    python train.py --max_iters=500 --dropout=0.1      # ... and/or --key=value overrides

Ends with out_dir/ckpt.pt, out_dir/metrics.json and a printed sample.
"""

import argparse
import os
import sys
from pathlib import Path

from nanogpt.config import add_config_arguments, config_from_args, given_keys
from nanogpt.sampling import sample_text
from nanogpt.trainer import Trainer
from zero_to_hero import run_main
from zero_to_hero.device import pick_device

CONFIGS = Path(__file__).parent / "configs"


def default_config_file(device: str) -> Path:
    """The classic 6-layer char model (compiled, bf16) on a CUDA GPU; a small, quick one elsewhere."""
    return CONFIGS / ("shakespeare_char.py" if pick_device(device).type == "cuda" else "shakespeare_char_cpu.py")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_arguments(parser, default_config_file("auto"))  # --help shows what a run here would use
    cfg, config_file, args = config_from_args(parser, argv, default_config_file)
    trainer = Trainer(cfg, given=given_keys(args))
    trainer.log(f"config: {config_file}")  # rank 0 only under torchrun
    try:
        metrics = trainer.run()
    finally:
        trainer.close()  # under torchrun: leave the process group
    if not trainer.world.is_master:
        return  # rank 0 alone reports
    print(
        f"final: train loss {metrics['train_loss']:.4f}, val loss {metrics['val_loss']:.4f}, "
        f"{metrics['tokens_per_sec']:,.0f} tokens/s; wrote {cfg.out_dir}/metrics.json"
    )
    print("-" * 40)
    print(sample_text(trainer.raw_model, trainer.tokenizer, max_new_tokens=300, device=trainer.device)[0])


if __name__ == "__main__":
    run_main(main)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # Under torchrun, everything is written and the process group is gone by now. Skipping the interpreter's
        # teardown avoids a known gloo abort there ("terminate called without an active exception": a worker
        # thread still alive when C++ destructors run), which turned finished runs into failed ones.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
