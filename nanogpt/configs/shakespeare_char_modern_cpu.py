# The modern recipe on a 2-core CPU (README "Beyond GPT-2"): the main job's model and data with the upgrades
# after GPT-2 that the ablation shows paying.
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
norm = "rmsnorm"
qk_norm = True
mlp_act = "relu2"
tie_weights = False
zero_init = True
logit_softcap = 15.0

optimizer = "muon"
muon_lr = 0.02
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
