# The modern recipe on a 2-core CPU (README "Beyond GPT-2"): the main job's model, data, batch and AdamW
# settings with the upgrades that the ablation (python -m nanogpt.ablation, 2026-11-29) shows paying here:
# Muon for the blocks' matrices, rotary positions, QK-norm. The others (rmsnorm, relu2, untied head, zero-init,
# logit softcap) changed val at 60 s by less than the run-to-run noise, so they stay off. 1000 steps: 66 s of
# training on the (loaded) 2-core CPU, val 1.656 (a Muon step costs ~1.4 AdamW steps).
from pathlib import Path

exec(Path(__file__).with_name("shakespeare_char_cpu.py").read_text())  # start from the main job's config

out_dir = "out/shakespeare-char-modern"

pos_emb = "rope"
qk_norm = True

optimizer = "muon"
muon_lr = 0.02
max_iters = 1000
lr_decay_iters = 1000
warmup_iters = 50
