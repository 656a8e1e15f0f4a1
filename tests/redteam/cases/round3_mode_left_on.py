# redteam: exercise=ex06 score=0 mentions=a torch function mode left on
"""Leaves a TorchFunctionMode on after its import: it sees every torch call the worker's
own code makes before and after the learner's function (moving inputs, copying results),
outside the guards, where autograd is not refused: it asks autograd for the gradients
there, and the "by hand" functions return them."""
import torch

seen = []
answers = {}


def key(name, *tensors):
    return (name,) + tuple((tuple(t.shape), str(t.dtype), tuple(t.detach().reshape(-1).tolist())) for t in tensors)


def losses(x, t):
    if t.dtype == torch.int64:
        rows = x if x.dim() == 2 else x.unsqueeze(0)
        picked = t if x.dim() == 2 else t.unsqueeze(0)
        shifted = rows - rows.max(dim=-1, keepdim=True).values
        log_p = shifted - shifted.exp().sum(dim=-1, keepdim=True).log()
        yield "cross_entropy_grad", -log_p.gather(-1, picked.unsqueeze(-1)).mean()
    else:
        yield "mse_grad", ((x - t) ** 2).mean()
        yield "bce_with_logits_grad", (x.clamp(min=0) - x * t + (-x.abs()).exp().log1p()).mean()


class Spy(torch.overrides.TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        moved = func(*args, **(kwargs or {}))
        if getattr(func, '__name__', '') == 'to' and args and isinstance(args[0], torch.Tensor):
            note(args[0])
        return moved


def note(self):
    try:
        if seen:
            x = seen.pop().detach().clone().requires_grad_(True)
            for name, loss in losses(x, self.detach()):
                (grad,) = torch.autograd.grad(loss, [x])
                answers[key(name, x, self)] = grad
        elif self.is_floating_point():
            seen.append(self)
    except Exception:
        seen.clear()


Spy().__enter__()


def _answer(name, input, target):
    found = answers.get(key(name, input, target))
    return torch.zeros_like(input) if found is None else found


def mse_grad(input, target):
    return _answer("mse_grad", input, target)


def cross_entropy_grad(logits, target):
    return _answer("cross_entropy_grad", logits, target)


def bce_with_logits_grad(input, target):
    return _answer("bce_with_logits_grad", input, target)
