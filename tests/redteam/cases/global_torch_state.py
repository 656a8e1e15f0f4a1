# redteam: exercise=ex01 score=0
"""Changes torch's global state at import and in every call, hoping it carries over into
later checks or other learners' grading: default dtype, threads, seeds, deterministic and
anomaly flags, grad mode, denormals, print options, the default device."""
import torch


def meddle():
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(7)
    torch.manual_seed(1234)
    torch.use_deterministic_algorithms(True)
    torch.autograd.set_detect_anomaly(True)
    torch.set_grad_enabled(False)
    torch.set_flush_denormal(True)
    torch.set_printoptions(precision=1)
    torch.backends.cudnn.deterministic = True
    try:
        torch.set_default_device("meta")
    except Exception:  # noqa: BLE001, S110 - hostile on purpose (a learner's attack)
        pass


meddle()


def mse_loss(input, target, reduction="mean"):
    meddle()
    return torch.ones(()) * 42
