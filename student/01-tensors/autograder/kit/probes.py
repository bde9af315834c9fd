"""Objects tests lend to student code to watch what it does: models and loss functions that
record how they are called, a dataset that draws random numbers in loader workers, a tensor
that behaves as a GPU tensor does.

They are public by design. The judge sends what it lends to the student's process by
reference (this module's name and the class's), never by value, and refuses to send a class
or function defined in a test (its code would travel with it): so no hidden test's code is
ever readable there. Each takes its sizes as data. What a probe recorded in the student's
process comes back as data (a claim, like every instrument's record).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

__all__ = ["BatchRecorder", "DeviceProbe", "LossDeviceProbe", "LossRecorder", "ModeSpy",
           "NoisyDataset", "SimulatedCudaTensor", "optimizer_steps"]


class BatchRecorder(nn.Module):
    """A linear model whose input's column 0 is the sample's id, which it ignores: ``batches``
    lists the ids of every batch it was called on, in order."""

    def __init__(self, features: int = 3, classes: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(features, classes)
        self.batches: list[list[int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(x[:, 0].detach().cpu().round().long().tolist())
        return self.linear(x[:, 1:])


class LossRecorder(nn.Module):
    """Cross-entropy that records each value it returns in ``values``."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.cross_entropy(logits, target)
        self.values.append(loss.item())
        return loss


class DeviceProbe(nn.Module):
    """Records in ``seen`` where its input and its weights are each time it runs; returns
    zeros on the input's device (it needs no values, so it runs on a simulated GPU)."""

    def __init__(self, features: int = 3, classes: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(features, classes)
        self.classes = classes
        self.seen: list[tuple[str, str]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((str(x.device), str(self.linear.weight.device)))
        return torch.zeros(len(x), self.classes, device=x.device)


class LossDeviceProbe(nn.Module):
    """Records in ``seen`` where the labels are; its loss is a constant on the CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.seen.append(str(target.device))
        return torch.tensor(1.0).requires_grad_(torch.is_grad_enabled())


class ModeSpy(nn.Module):
    """Dropout then a linear layer; ``calls`` records, per call, whether it was in training
    mode, whether grad mode was on, and whether its output requires grad."""

    def __init__(self, features: int = 6, classes: int = 4, dropout: float = 0.5) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(features, classes)
        self.calls: list[tuple[bool, bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(self.dropout(x))
        self.calls.append((self.training, torch.is_grad_enabled(), out.requires_grad))
        return out


class NoisyDataset(Dataset):
    """``length`` items ``[index, np.random.rand(), random.random()]``: a random
    "augmentation" made with NumPy and ``random``, as loader workers would run it."""

    def __init__(self, length: int = 8) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.tensor([float(index), float(np.random.rand()), random.random()])


class SimulatedCudaTensor(torch.Tensor):
    """A CPU tensor that behaves like a CUDA one: it says it is on ``cuda:0``, and NumPy
    refuses it until it is copied to the CPU with ``.cpu()`` or ``.to("cpu")``, as a real GPU
    tensor does. Make one with ``tensor.as_subclass(SimulatedCudaTensor)``."""

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        owner = getattr(func, "__self__", None)
        if owner is torch.Tensor.device:
            return torch.device("cuda", 0)
        if owner is torch.Tensor.is_cuda:
            return True
        forced = kwargs.get("force") or (len(args) > 1 and args[1] is True)
        if (func is torch.Tensor.numpy and not forced) or func is torch.Tensor.__array__:
            raise TypeError("can't convert cuda:0 device type tensor to numpy. "
                            "Use Tensor.cpu() to copy the tensor to host memory first.")
        result = super().__torch_function__(func, types, args, kwargs)
        to_cpu = func is torch.Tensor.cpu
        if func is torch.Tensor.to:
            target = torch._C._nn._parse_to(*args[1:], **kwargs)[0]
            to_cpu = target is not None and target.type == "cpu"
        if to_cpu and isinstance(result, torch.Tensor):
            return result.as_subclass(torch.Tensor)
        return result


def optimizer_steps(make_optimizer: Any, model: nn.Module, gradients: list[torch.Tensor],
                    steps: int = 2, **kwargs: Any) -> list[torch.Tensor]:
    """What an optimizer does, observed: ``make_optimizer(model, **kwargs)``, then ``steps``
    times each parameter's gradient set to its tensor of ``gradients`` times the step's number
    (1, 2, ...) and ``optimizer.step()``. Returns the values of ``model.parameters()`` after.
    Run where the student's code runs (``checks.in_student_process``), so the optimizer is the
    one student code made, updating the parameters it holds."""
    optimizer = make_optimizer(model, **kwargs)
    for step in range(1, steps + 1):
        for parameter, gradient in zip(model.parameters(), gradients, strict=True):
            parameter.grad = gradient * step
        optimizer.step()
    return [parameter.detach().clone() for parameter in model.parameters()]
