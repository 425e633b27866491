"""Several processes, one model: torchrun + DistributedDataParallel (DDP).

    torchrun --standalone --nproc_per_node=8 train.py configs/gpt2.py            # one node, 8 GPUs
    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 --master_addr=HOST --master_port=29500 train.py ...

torchrun starts one process per GPU and gives each its RANK (0..WORLD_SIZE-1 over all nodes) and
LOCAL_RANK (its GPU on this node). Every rank holds the whole model and works on its share of each
global batch; DDP averages the gradients across ranks (an all-reduce overlapped with the backward
pass), so every rank takes the same optimizer step. Without torchrun's variables: one process, world 1.
"""

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from zero_to_hero import UserError
from zero_to_hero.device import resolve_threads


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1

    @property
    def is_master(self) -> bool:
        """Rank 0 alone logs, writes checkpoints and metrics."""
        return self.rank == 0


def process_group_options(device: torch.device, backend: str = "auto") -> dict:
    """init_process_group's arguments: NCCL on CUDA (bound to this rank's GPU: `device_id` makes the
    communicator eager and lets barrier() know the device), gloo elsewhere; `backend` overrides."""
    if backend == "auto":
        backend = "nccl" if device.type == "cuda" else "gloo"
    options = {"backend": backend}
    if backend == "nccl":
        options["device_id"] = device
    return options


def setup(device: torch.device, backend: str = "auto") -> tuple[World, torch.device]:
    """(World, this rank's device): joins torchrun's process group (NCCL on CUDA, gloo on CPU) if launched by it."""
    if "RANK" not in os.environ:
        return World(), device
    world = World(int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"]), int(os.environ["WORLD_SIZE"]))
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)  # one GPU per process
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(**process_group_options(device, backend))
    return world, device


def barrier(world: World) -> None:
    if world.size > 1:
        dist.barrier()


def mean_over_ranks(value: torch.Tensor, world: World) -> torch.Tensor:
    """The mean of a scalar tensor over all ranks (every rank must call this at the same point)."""
    if world.size == 1:
        return value
    return sum_over_ranks(value, world) / world.size  # SUM, then divide: gloo has no AVG


def sum_over_ranks(values: torch.Tensor, world: World) -> torch.Tensor:
    """The element-wise sum of a tensor over all ranks (a collective, like mean_over_ranks)."""
    if world.size == 1:
        return values
    total = values.detach().clone()
    dist.all_reduce(total)
    return total


def gather_objects(value, world: World) -> list:
    """[rank 0's value, rank 1's, ...] on every rank (picklable values; a collective)."""
    if world.size == 1:
        return [value]
    values = [None] * world.size
    dist.all_gather_object(values, value)
    return values


def close(world: World) -> None:
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()


def enable_tf32() -> None:
    """On CUDA, fp32 matmuls that remain under autocast run on tensor cores (TF32). set_float32_matmul_precision
    ("high") is the API that keeps every reader consistent: it sets torch.backends.cuda.matmul.fp32_precision to
    "tf32", while setting that leaf alone makes torch.get_float32_matmul_precision() (which inductor calls) raise
    for "mixing" APIs, and the allow_tf32 flags are deprecated. cuDNN convolutions use TF32 by default."""
    torch.set_float32_matmul_precision("high")


def threads_per_process(value: str) -> int:
    """CPU threads for this process: a number as given; 'auto' measures the idle cores once and shares them among
    this node's processes (torchrun's LOCAL_WORLD_SIZE)."""
    threads = resolve_threads(value)  # 'auto': the idle cores, measured here, once
    if value.strip().lower() == "auto":
        threads = max(1, threads // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return threads


def split_batch(micro_steps_in_all: int, tokens_per_micro_step: int, world: World) -> tuple[int, int]:
    """(micro-steps per optimizer step for this rank, tokens per optimizer step for all ranks)."""
    if micro_steps_in_all % world.size:
        raise UserError(
            f"gradient_accumulation_steps ({micro_steps_in_all}) must be a multiple of the "
            f"number of processes ({world.size}): it counts micro-batches of the whole global batch"
        )
    return micro_steps_in_all // world.size, tokens_per_micro_step * micro_steps_in_all


def compile_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """torch.compile; on a CPU also with inductor's C++ wrapper, which calls the generated kernels from C++:
    a small model's step is dozens of tiny kernels, and launching each from Python costs more than it computes
    (measured with bench.py: 27.6 -> 26.5 ms/iter on the CPU config)."""
    options = {"cpp_wrapper": True} if device.type == "cpu" else None
    return torch.compile(model, options=options)


def wrap_model(model: torch.nn.Module, compile: bool, device: torch.device, world: World):
    """(what training calls, what evaluation calls): the model compiled if asked, for training also DDP-wrapped
    under torchrun; evaluation's is never DDP-wrapped (ranks evaluate different batches: nothing to sync)."""
    eval_model = compile_model(model, device) if compile else model
    if world.size == 1:
        return eval_model, eval_model
    return DDP(eval_model, device_ids=[device.index] if device.type == "cuda" else None), eval_model
