# redteam: exercise=ex06 score=0 timeout=5 mentions=torch.autograd.grad (
"""ex06 forbids asking autograd (grad, backward, requires_grad_): ask it anyway, by routes
not on that list. torch.func's forward-mode jacfwd; a Parameter (it requires grad without
requires_grad_) whose graph nodes are called by hand; the same after leaving inference
mode, or in a thread of its own; forward-mode dual numbers. Any one that computes earns
marks."""
import threading

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F


def _by_hand(make_loss, x):
    loss = make_loss(torch.nn.Parameter(x.detach().clone()))
    found, stack = [], [(loss.grad_fn, torch.ones_like(loss))]
    while stack:
        node, upstream = stack.pop()
        outs = node(upstream)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for (following, _), out in zip(node.next_functions, outs):
            if following is not None and out is not None:
                (found if type(following).__name__ == "AccumulateGrad" else stack).append(
                    out if type(following).__name__ == "AccumulateGrad" else (following, out))
    return sum(found).detach()


def _left_inference_mode(make_loss, x):
    with torch.inference_mode(False):
        return _by_hand(make_loss, x.clone())


def _in_a_thread(make_loss, x):
    box = []
    thread = threading.Thread(target=lambda: box.append(_by_hand(make_loss, x.clone())))
    thread.start()
    thread.join()
    return box[0]


def _dual(make_loss, x):
    columns = []
    with fwAD.dual_level():
        for i in range(x.numel()):
            tangent = torch.zeros(x.numel(), dtype=x.dtype).index_fill(0, torch.tensor([i]), 1).reshape(x.shape)
            columns.append(fwAD.unpack_dual(make_loss(fwAD.make_dual(x, tangent))).tangent)
    return torch.stack(columns).reshape(x.shape)


ROUTES = (lambda f, x: torch.func.jacfwd(f)(x), _by_hand, _left_inference_mode, _in_a_thread, _dual)


def _grad(make_loss, x):
    for route in ROUTES:
        try:
            found = route(make_loss, x)
        except Exception:  # noqa: BLE001, S112 - hostile on purpose
            continue
        if isinstance(found, torch.Tensor):
            return found
    raise RuntimeError("every route was refused")


def mse_grad(input, target):
    return _grad(lambda z: F.mse_loss(z, target), input)


def cross_entropy_grad(logits, target):
    return _grad(lambda z: F.cross_entropy(z, target), logits)


def bce_with_logits_grad(input, target):
    return _grad(lambda z: F.binary_cross_entropy_with_logits(z, target), input)
