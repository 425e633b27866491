# The modern recipe on a GPU (README "Beyond GPT-2"): shakespeare_char.py's baby GPT (6 layers, 6 heads,
# 384 wide, block 256) with the CPU recipe's upgrades (Muon, RoPE, QK-norm), on a shorter schedule. Target: val <= 1.47
# within 30 s of launch on an H100/H200 (nanoGPT's config: ~80 s). NOT MEASURED YET: no GPU was lent to the
# session that wrote it; the schedule (max_iters) is a guess to be set from the first GPU run's log.
out_dir = "out/shakespeare-char-modern"
dataset = "tinyshakespeare"
encoding = "char"

n_layer = 6
n_head = 6
n_embd = 384
dropout = 0.2
block_size = 256
batch_size = 64

pos_emb = "rope"
qk_norm = True

optimizer = "muon"
muon_lr = 0.02
learning_rate = 1e-3
max_iters = 2000
lr_decay_iters = 2000
min_lr = 1e-4
warmup_iters = 100
beta2 = 0.99

eval_interval = 250
eval_iters = 200
log_interval = 10
compile = True
