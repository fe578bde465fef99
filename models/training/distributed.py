"""Distributed data-parallel plumbing for `torchrun`; a single process is world size 1.

`torchrun --nproc_per_node=N -m deskmimic.app.cli train ...` sets WORLD_SIZE, RANK and
LOCAL_RANK; each process then trains on its shard (DistributedSampler), gradients are
averaged by DDP (gloo on CPU, nccl on CUDA), and only rank 0 writes files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

from deskmimic.core.errors import ConfigError, DeskmimicError

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class DistContext:
    """This process's place in the job and the device it trains on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        if self.initialized_here and dist.is_initialized():
            dist.destroy_process_group()
            self.initialized_here = False


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` -> this process's GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"--device {name}: CUDA is not available on this machine: use --device cpu"
            )
        return torch.device(name if ":" in name else f"cuda:{local_rank}")
    if name != "cpu":
        raise ConfigError(f"--device {name!r}: expected auto, cpu, cuda or cuda:N")
    return torch.device("cpu")


def init_distributed(device_name: str) -> DistContext:
    """Read torchrun's environment and join the process group when WORLD_SIZE > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    device = pick_device(device_name, local_rank)
    ctx = DistContext(rank, world, local_rank, local_world, device)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        ctx.initialized_here = True
        logger.info("joined process group: rank %d of %d on %s", rank, world, device)
    return ctx


def main_first(ctx: DistContext, fn: Callable[[], T]) -> T:
    """Run ``fn`` on rank 0 first (e.g. to build a cache), then on the other ranks.

    If rank 0 fails with a deskmimic error, every rank raises it instead of waiting forever.
    """
    if not ctx.distributed:
        return fn()
    result, error = None, None
    if ctx.is_main:
        try:
            result = fn()
        except DeskmimicError as exc:
            error = exc
    msg = [f"{type(error).__name__}: {error}" if error else None]
    dist.broadcast_object_list(msg, src=0)
    if error is not None:
        raise error
    if msg[0] is not None:
        raise ConfigError(f"rank 0 failed: {msg[0]}")
    return result if ctx.is_main else fn()
