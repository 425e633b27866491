# GPT-2 (124M) as the course's last lecture ("Let's reproduce GPT-2 (124M)") trains it: FineWeb-Edu
# sample-10BT, 0.5M tokens per step through gradient accumulation, 19,073 steps = one epoch of 10B tokens.
# 1. python -m nanogpt.shards --hf=HuggingFaceFW/fineweb-edu --hf_name=sample-10BT --out_dir=out/data/edu_fineweb10B
# 2. torchrun --standalone --nproc_per_node=8 train.py configs/gpt2_fineweb.py
# 3. python -m nanogpt.plot --out_dir=out/gpt2-fineweb    # loss and HellaSwag against GPT-2 124M
out_dir = "out/gpt2-fineweb"
dataset = "out/data/edu_fineweb10B"  # a shard folder; its first shard is val
encoding = "gpt2"

n_layer = 12
n_head = 12
n_embd = 768
block_size = 1024
vocab_size = 50304  # 50257 padded to a multiple of 64 (the lecture's "nice number")
dropout = 0.0
bias = True  # the lecture's GPT keeps GPT-2's biases

# 2**19 = 524,288 tokens per optimizer step: 64 x 1024 per micro-batch, 8 micro-steps on 1 GPU, 1 each on 8
total_batch_size = 524288
batch_size = 64

learning_rate = 6e-4
min_lr = 6e-5
warmup_iters = 715  # 375M tokens, as GPT-3's paper
max_iters = 19073  # 10B tokens / 524,288
lr_decay_iters = 19073
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0

log_interval = 10
eval_interval = 250  # val loss over eval_iters batches of 64 x 1024
eval_iters = 20
hellaswag_interval = 250  # all 10,042 examples, split across the ranks
sample_interval = 250
sample_count = 4
sample_tokens = 32
sample_prompt = "Hello, I'm a language model,"
checkpoint_interval = 5000  # ckpt.pt (the last, to resume) every 5,000 steps and at the end; best.pt at val's best
compile = True
