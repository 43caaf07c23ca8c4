"""Several training processes on one job: what each knows about the others.

``torchrun --nproc-per-node N`` starts N copies of the same command with
``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` in their environment. The engine
then joins them in a process group (gloo on the CPU, nccl on CUDA), gives each
its shard of the data, averages gradients with DistributedDataParallel and lets
rank 0 alone write files. A single process needs none of this: every helper
here is a no-op when the world is one process.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["World", "join_world"]


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0  # 0 writes checkpoints and speaks for the job
    size: int = 1  # number of processes
    local_rank: int = 0  # index on this machine: which GPU to use
    owns_group: bool = False  # this process created the group, so it tears it down

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def share(self, n: int, epoch: int, shuffle: bool, seed: int) -> list[int]:
        """This process's share of ``range(n)`` for ``epoch``: the same order on every run.

        One process takes all of it (shuffled by ``seed`` and ``epoch``); several
        take the disjoint shards of torch's ``DistributedSampler``.
        """
        if self.distributed:
            from torch.utils.data import DistributedSampler

            sampler = DistributedSampler(range(n), self.size, self.rank, shuffle=shuffle, seed=seed)
            sampler.set_epoch(epoch)
            return list(sampler)
        if not shuffle:
            return list(range(n))
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        return torch.randperm(n, generator=generator).tolist()

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def device(self, device: torch.device) -> torch.device:
        """Each process on its own GPU; CPU processes share the CPU."""
        if self.distributed and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is True on any: a shared decision to stop."""
        if not self.distributed:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=self._comm_device())
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of ``values`` over all processes."""
        if not self.distributed:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(tensor)
        return tensor.tolist()

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` from every process, in rank order, on every process."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every process."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def average_buffers(self, module: torch.nn.Module) -> None:
        """Average floating-point buffers (BatchNorm running statistics) over processes.

        DistributedDataParallel averages gradients, so parameters stay equal;
        each process's BatchNorm statistics see only its own shard. Averaging
        them at the end of an epoch makes the replicas identical again and
        the statistics an estimate over all the data.
        """
        if not self.distributed:
            return
        for buffer in module.buffers():
            if buffer.is_floating_point():
                dist.all_reduce(buffer)
                buffer.div_(self.size)

    def _comm_device(self) -> torch.device:
        if dist.get_backend() == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")

    def leave(self) -> None:
        """Tear the process group down if this process created it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def join_world(device: torch.device) -> World:
    """Join the process group ``torchrun`` describes in the environment, if any."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
        owns = True
    return World(dist.get_rank(), dist.get_world_size(), local_rank, owns)


def write_digest(module: torch.nn.Module, rank: int) -> None:
    """Write ``module``'s :func:`state_digest` to ``$INCEPTION_GUI_DIGEST_DIR/rank<N>.sha256``.

    Nothing happens unless the variable is set: the multi-process test sets it
    to check that every rank ends with the same weights.
    """
    folder = os.environ.get("INCEPTION_GUI_DIGEST_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"rank{rank}.sha256").write_text(state_digest(module) + "\n")


def state_digest(module: torch.nn.Module) -> str:
    """SHA-256 of every parameter and buffer, by name: equal digests, equal replicas."""
    sha = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        sha.update(name.encode())
        sha.update(tensor.detach().to("cpu").contiguous().view(-1).view(torch.uint8).numpy())
    return sha.hexdigest()
