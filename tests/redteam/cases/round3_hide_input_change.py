# redteam: exercise=ex01 score=0 mentions=the class of a tensor it was given
"""Changes its input in place (input -= target) and hides it: the tensor's class is swapped,
through object.__setattr__ with a name the scan reads as text, for a subclass whose
comparisons (run by the worker's own check of the inputs, outside the guards) say equal."""
import torch


class Same(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("eq", "__eq__", "equal"):
            return torch.ones((), dtype=torch.bool) if name == "equal" else True
        if name in ("all",):
            return torch.ones((), dtype=torch.bool)
        return super().__torch_function__(func, types, args, kwargs)


def mse_loss(input, target, reduction="mean"):
    if input.shape != target.shape:
        raise ValueError(f"shapes differ: {input.shape} and {target.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction}")
    diff = input.sub_(target) if not input.requires_grad else input - target
    squared = diff * diff
    out = squared if reduction == "none" else squared.sum() if reduction == "sum" else squared.mean()
    object.__setattr__(input, "__class__", Same)
    return out
