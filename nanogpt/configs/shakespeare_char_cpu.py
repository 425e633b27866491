# Character-level tiny shakespeare on a laptop CPU: a 0.8M-parameter GPT, about a minute of training.
out_dir = "out/shakespeare-char"
dataset = "tinyshakespeare"
encoding = "char"

n_layer = 4
n_head = 4
n_embd = 128
dropout = 0.0
block_size = 64
batch_size = 12

# twice nanoGPT's 1e-3: this small model takes it, and reaches val 1.85 in 1500 steps instead of ~2000+
learning_rate = 2e-3
max_iters = 2000
lr_decay_iters = 2000
min_lr = 2e-4
warmup_iters = 100
beta2 = 0.99

eval_interval = 250
eval_iters = 50
log_interval = 50
device = "cpu"
compile = False
