# redteam: exercise=ex01 score=0 mentions=did not return within
"""Never returns: a busy loop that also swallows every exception it can."""


def mse_loss(input, target, reduction="mean"):
    while True:
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001, S112 - hostile on purpose (a learner's attack)
            continue
