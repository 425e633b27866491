# Character-level tiny shakespeare on a GPU: the classic 6-layer, 384-wide "baby GPT" (10.7M parameters).
out_dir = "out/shakespeare-char"
dataset = "tinyshakespeare"
encoding = "char"

n_layer = 6
n_head = 6
n_embd = 384
dropout = 0.2
block_size = 256
batch_size = 64

learning_rate = 1e-3
max_iters = 5000
lr_decay_iters = 5000
min_lr = 1e-4
warmup_iters = 100
beta2 = 0.99

eval_interval = 250
eval_iters = 200
log_interval = 10
compile = True
