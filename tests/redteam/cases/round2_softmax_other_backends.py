# redteam: exercise=ex03 score=0 timeout=5 mentions=reached through the operator aten.
"""torch's softmax and log-softmax through kernels other than the dense CPU/CUDA ones that
the grader replaced: mkldnn and nested tensors, the masked and "safe" softmax operators,
and the sparse log-softmax. Any one of them that computes earns marks."""
import torch


def _sparse(logits, dim):
    index = torch.ones(logits.shape, dtype=torch.bool, device=logits.device).nonzero().T
    every_entry = torch.sparse_coo_tensor(index, logits.reshape(-1), logits.shape)
    return torch.sparse.log_softmax(every_entry, dim).to_dense()


ROUTES = (
    _sparse,
    lambda x, d: torch.ops.aten._softmax(x.float().to_mkldnn(), d, False).to_dense().to(x.dtype).log(),
    lambda x, d: torch.ops.aten._softmax(torch.nested.nested_tensor([x]), d % x.dim() + 1, False).unbind()[0].log(),
    lambda x, d: torch.ops.aten._masked_softmax(x, torch.zeros_like(x, dtype=torch.bool), d % x.dim()).log(),
    lambda x, d: torch.ops.aten._safe_softmax(torch.nested.nested_tensor([x]), d % x.dim() + 1).unbind()[0].log(),
)


def log_softmax(logits, dim=-1):
    for route in ROUTES:
        try:
            return route(logits, dim)
        except RuntimeError:
            continue
    raise RuntimeError("every route was refused")


def cross_entropy(logits, target, reduction="mean"):
    batch = logits if logits.dim() > 1 else logits.unsqueeze(0)
    picked = -log_softmax(batch, 1).gather(1, target.reshape(-1, 1)).squeeze(1)
    if reduction == "none":
        return picked if logits.dim() > 1 else picked[0]
    return picked.sum() if reduction == "sum" else picked.mean()
