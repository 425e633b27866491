# The modern recipe on a GPU (README "Beyond GPT-2"): shakespeare_char.py's baby GPT (6 layers, 6 heads,
# 384 wide, block 256) with the CPU recipe's upgrades (Muon, RoPE, QK-norm), on a shorter schedule. Target: val <= 1.47
# within 30 s of launch on an H100/H200 (nanoGPT's config: ~80 s). NOT MEASURED YET: no GPU was lent to the
# session that wrote it; the schedule (max_iters) is a guess to be set from the first GPU run's log.
from pathlib import Path

exec(Path(__file__).with_name("shakespeare_char.py").read_text())  # start from the baby GPT's config

out_dir = "out/shakespeare-char-modern"

pos_emb = "rope"
qk_norm = True

optimizer = "muon"
muon_lr = 0.02
max_iters = 2000
lr_decay_iters = 2000
