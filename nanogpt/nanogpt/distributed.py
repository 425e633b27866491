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


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1

    @property
    def is_master(self) -> bool:
        """Rank 0 alone logs, writes checkpoints and metrics."""
        return self.rank == 0


def setup(device: torch.device) -> tuple[World, torch.device]:
    """(World, this rank's device): joins torchrun's process group (NCCL on CUDA, gloo on CPU) if launched by it."""
    if "RANK" not in os.environ:
        return World(), device
    world = World(int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"]), int(os.environ["WORLD_SIZE"]))
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)  # one GPU per process
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return world, device


def barrier(world: World) -> None:
    if world.size > 1:
        dist.barrier()


def mean_over_ranks(value: torch.Tensor, world: World) -> torch.Tensor:
    """The mean of a scalar tensor over all ranks (every rank must call this at the same point)."""
    if world.size == 1:
        return value
    total = value.detach().clone()
    dist.all_reduce(total)  # SUM: gloo has no AVG
    return total / world.size


def close(world: World) -> None:
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()
