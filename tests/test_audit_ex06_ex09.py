"""The independent audit of ex06-ex09 (issue 17): each false verdict it found, graded through
the real sandbox, now right. The audit's files themselves are in tests/corpus/ex06..ex09/
(`audit_*.py`) and graded by tests/test_corpus.py."""
from __future__ import annotations

import textwrap

from lossgrade.core.results import ExerciseResult, Outcome

HEAD = "import torch\nfrom torch import nn\n\n\n"


def outcomes(result: ExerciseResult) -> dict[str, Outcome]:
    return {c.id.split(".")[1].split("[")[0]: c.outcome for c in result.checks if c.outcome is not Outcome.SKIPPED}


def failures(result: ExerciseResult) -> dict[str, tuple[str, str | None]]:
    """check name -> (message, the named mistake's id) for every check that did not pass."""
    assert not [c.id for c in result.checks if c.outcome is Outcome.ERROR], result.checks
    return {c.id.split(".")[1].split("[")[0]: (c.feedback.message if c.feedback else "",
                                               c.misconception.id if c.misconception else None)
            for c in result.checks if c.outcome not in (Outcome.PASSED, Outcome.SKIPPED)}


def test_torchs_own_not_implemented_error_is_a_failure_not_not_started(grade_source):
    """A loss on int64 tensors raises NotImplementedError inside torch ("mse_cpu" not
    implemented for 'Long'): the code ran, so the check fails with torch's message; only a
    `raise NotImplementedError` of the learner's own (the stub's) reads as not started."""
    result = grade_source("ex06", HEAD + textwrap.dedent("""
        def mse_grad(input, target):
            return torch.nn.functional.mse_loss(input.long(), target.long())


        def cross_entropy_grad(logits, target):
            return torch.log_softmax(logits.long(), dim=-1)


        def bce_with_logits_grad(input, target):
            raise NotImplementedError("ex06: bce_with_logits_grad is not written yet")
        """))
    by_check = outcomes(result)
    assert by_check["mse_grad_shapes"] is Outcome.FAILED
    assert by_check["cross_entropy_grad_shapes"] is Outcome.FAILED
    assert "not implemented for 'Long'" in failures(result)["mse_grad_shapes"][0]
    assert by_check["bce_grad_shapes"] is Outcome.NOT_STARTED


EX07_TRAIN_STEP = """
def train_step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
"""


def test_an_evaluate_that_zeroes_the_gradients_fails_and_is_named(grade_source):
    """.grad held what a training loop had accumulated (micro-batches before one step):
    model.zero_grad() in evaluate wipes it, set to None or to zeros."""
    for zero in ("model.zero_grad()", "model.zero_grad(set_to_none=False)"):
        result = grade_source("ex07", HEAD + EX07_TRAIN_STEP + textwrap.dedent(f"""
            def evaluate(model, loss_fn, x, y):
                was = model.training
                model.eval()
                {zero}
                try:
                    with torch.no_grad():
                        return loss_fn(model(x), y).item()
                finally:
                    model.train(was)
            """))
        failed = failures(result)
        assert failed.keys() == {"evaluate_changes_nothing"}, failed
        message, named = failed["evaluate_changes_nothing"]
        assert named == "ex07.evaluate-zeroed-grads"
        assert "accumulated" in message


def test_an_evaluate_that_switches_only_the_top_module_to_eval_is_named(grade_source):
    """`model.training = False` changes the container only: its dropout and batch norm layers
    still run in training mode."""
    result = grade_source("ex07", HEAD + EX07_TRAIN_STEP + textwrap.dedent("""
        def evaluate(model, loss_fn, x, y):
            was = model.training
            model.training = False
            try:
                with torch.no_grad():
                    return loss_fn(model(x), y).item()
            finally:
                model.training = was
        """))
    failed = failures(result)
    assert "evaluate_value" in failed
    assert {named for _, named in failed.values()} == {"ex07.evaluate-in-train-mode"}


EX08_CLASSIFIER = """
def fit_classifier(x, y, num_classes):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, num_classes))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(200):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model
"""


def test_a_model_that_standardises_each_batch_with_its_own_statistics_fails_and_is_named(grade_source):
    """The held-out set arrives as one batch drawn like the training data, so per-batch
    statistics look right there; the same distances in four batches (shortest first) do not."""
    result = grade_source("ex08", HEAD + EX08_CLASSIFIER + textwrap.dedent("""
        class Net(nn.Module):
            def __init__(self, y_mean, y_std):
                super().__init__()
                self.f = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
                self.y_mean, self.y_std = y_mean, y_std

            def forward(self, d):
                return self.f((d - d.mean()) / d.std()) * self.y_std + self.y_mean


        def fit_regression(x, y):
            torch.manual_seed(0)
            model = Net(y.mean(), y.std())
            opt = torch.optim.Adam(model.parameters(), lr=0.01)
            for _ in range(400):
                opt.zero_grad()
                nn.functional.mse_loss(model(x), y).backward()
                opt.step()
            return model
        """))
    failed = failures(result)
    assert failed.keys() == {"regression"}, failed
    message, named = failed["regression"]
    assert named == "ex08.batch-statistics" and "4 batches" in message


def test_a_classifier_with_ten_outputs_whatever_num_classes_says_fails_and_is_named(grade_source):
    source = EX08_CLASSIFIER.replace("nn.Linear(64, num_classes)", "nn.Linear(64, 10)")
    failed = failures(grade_source("ex08", HEAD + source))
    message, named = failed["classifier"]
    assert named == "ex08.fixed-class-count"
    assert "num_classes=4" in message and "(20, 4)" in message
