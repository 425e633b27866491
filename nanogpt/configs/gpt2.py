# GPT-2 (124M) from scratch on a large corpus, on 8 GPUs (nanoGPT's recipe for OpenWebText).
# First:  python -m nanogpt.shards corpus/*.txt --out_dir=out/data/corpus
# Then:   torchrun --standalone --nproc_per_node=8 train.py configs/gpt2.py
# One GPU works too (the global batch stays the same, so 8x the time): python train.py configs/gpt2.py
out_dir = "out/gpt2"
dataset = "out/data/corpus"  # a shard folder (meta.json + train_*.bin + val_*.bin)
encoding = "gpt2"

n_layer = 12
n_head = 12
n_embd = 768
block_size = 1024
vocab_size = 50304  # GPT-2's 50257 padded to a multiple of 64: faster matmuls, 47 rows that are never targets
dropout = 0.0
bias = False

# 12 sequences x 1024 tokens x 40 micro-steps = 491,520 tokens per optimizer step (about GPT-2's 0.5M);
# gradient_accumulation_steps counts the whole world's micro-steps: 5 per GPU on 8 GPUs
batch_size = 12
gradient_accumulation_steps = 40

learning_rate = 6e-4
min_lr = 6e-5
max_iters = 600000
lr_decay_iters = 600000
warmup_iters = 2000
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0

eval_interval = 1000
eval_iters = 200
log_interval = 10
compile = True
