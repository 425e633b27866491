# The modern recipe on a 2-core CPU (README "Beyond GPT-2"): the main job's model, data, batch and AdamW
# settings with the upgrades that the ablation (python -m nanogpt.ablation, 2026-11-29) shows paying here:
# Muon for the blocks' matrices, rotary positions, QK-norm. The others (rmsnorm, relu2, untied head, zero-init,
# logit softcap) changed val at 60 s by less than the run-to-run noise, so they stay off. 1000 steps: 66 s of
# training on the (loaded) 2-core CPU, val 1.656 (a Muon step costs ~1.4 AdamW steps).
out_dir = "out/shakespeare-char-modern"
dataset = "tinyshakespeare"
encoding = "char"

n_layer = 4
n_head = 4
n_embd = 128
dropout = 0.0
block_size = 64
batch_size = 12

pos_emb = "rope"
qk_norm = True

optimizer = "muon"
muon_lr = 0.02
learning_rate = 2e-3
max_iters = 1000
lr_decay_iters = 1000
min_lr = 2e-4
warmup_iters = 50
beta2 = 0.99

eval_interval = 250
eval_iters = 50
log_interval = 50
device = "cpu"
compile = False
