"""Generate a class of submissions from the reference solutions: a realistic, seeded mix of
correct work, the mistakes learners really make, untouched stubs, missing files, code that
does not import and calls the exercise forbids, with quiz answers for most learners.

    python bench/classgen.py OUT --count 200 [--seed 0]      # a class for benchmarks
    python bench/classgen.py examples/sample-class --sample  # the sample class that ships

Each mistake is a textual edit of the solution that must apply: when a solution changes so
that one no longer does, generation stops and names it (the sample class is then stale).
"""
from __future__ import annotations

import argparse
import io
import random
import shutil
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS, STUBS = REPO / "solutions", REPO / "exercises"
FILES = ("ex01_mse.py", "ex02_l1_huber.py", "ex03_cross_entropy.py", "ex04_bce.py", "ex05_targets.py",
         "ex06_gradients.py", "ex07_train_step.py", "ex08_fit.py", "ex09_custom.py",
         "ex10_kl_divergence.py", "ex11_sequence_ce.py", "ex12_infonce.py", "ex13_margins.py", "ex14_gaussian_nll.py",
         "ex15_train_at_scale.py")
FIRST_TRACK = FILES[:9]

# file -> (mistake, text in the solution, what the learner wrote instead)
MISTAKES: dict[str, list[tuple[str, str, str]]] = {
    "ex01_mse.py": [
        ("sum-not-mean", "return squared.mean()", "return squared.sum()"),
        ("half-squared", "squared = (input - target) ** 2", "squared = 0.5 * (input - target) ** 2"),
        ("no-shape-check", "if input.shape != target.shape:", "if input.dim() != target.dim():"),
    ],
    "ex02_l1_huber.py": [
        ("l1-without-abs", "_reduce((input - target).abs(), reduction)", "_reduce(input - target, reduction)"),
        ("mean-error-abs", "return (input - target).mean()", "return (input - target).abs().mean()"),
        ("huber-squared-only", "delta * (distance - 0.5 * delta)", "0.5 * distance**2"),
    ],
    "ex03_cross_entropy.py": [
        ("naive-softmax", "shifted = work - work.amax(dim=dim, keepdim=True).detach()", "shifted = work"),
        ("sum-not-mean", "return losses.mean()", "return losses.sum()"),
    ],
    "ex04_bce.py": [
        ("no-log-clamp", "log_p = torch.clamp(torch.log(input), min=-100)", "log_p = torch.log(input)"),
        ("log-of-sigmoid", "log_sig = torch.minimum(input, input.new_zeros(())) - torch.log1p(torch.exp(-input.abs()))",
         "log_sig = torch.log(torch.sigmoid(input))"),
    ],
    "ex05_targets.py": [
        ("one-hot-int64", "return (labels.unsqueeze(-1) == classes).to(torch.float32)",
         "return (labels.unsqueeze(-1) == classes).long()"),
        ("weights-not-normalised", 'denominator = target_weight.sum() if reduction == "mean" else 1',
         'denominator = target.numel() if reduction == "mean" else 1'),
    ],
    "ex06_gradients.py": [
        ("mse-grad-without-2", "return 2 * (input - target) / input.numel()", "return (input - target) / input.numel()"),
        ("ce-grad-not-averaged", "return grad / num_samples", "return grad"),
        ("bce-grad-sign", "return (torch.sigmoid(input) - target) / input.numel()",
         "return (target - torch.sigmoid(input)) / input.numel()"),
    ],
    "ex07_train_step.py": [
        ("step-before-backward", "    loss.backward()  # diagnose: d loss / d every parameter\n    optimizer.step()  # update\n",
         "    optimizer.step()\n    loss.backward()\n"),
        ("gradients-never-zeroed", "optimizer.zero_grad()  # forget the previous step's gradients", "pass"),
        ("evaluate-in-train-mode", "    model.eval()\n", ""),
    ],
    "ex08_fit.py": [
        ("classifier-returns-probabilities", "nn.Linear(64, num_classes)\n", "nn.Linear(64, num_classes), nn.Softmax(dim=1)\n"),
        ("too-few-steps", "steps=300, lr=0.03", "steps=5, lr=0.03"),
    ],
    "ex09_custom.py": [
        ("focal-without-gamma", "loss = -((1 - log_p.exp()) ** gamma) * log_p", "loss = -(1 - log_p.exp()) * log_p"),
        ("backward-not-averaged", "grad = grad * (grad_output / num_samples)", "grad = grad * grad_output"),
    ],
    "ex10_kl_divergence.py": [
        ("batchmean-as-mean", "return total / input.shape[0] if input.dim() > 0 else total", "return pointwise.mean()"),
        ("no-temperature-squared", 'reduction="batchmean") * temperature ** 2', 'reduction="batchmean")'),
    ],
    "ex11_sequence_ce.py": [
        ("padding-counted", "return losses.sum() / counts.sum()", "return losses.sum() / targets.numel()"),
        ("no-shift", "return torch.cat([tokens[:, 1:], last], dim=1)", "return tokens.clone()"),
    ],
    "ex12_infonce.py": [
        ("one-direction", "return (_cross_entropy_of_the_diagonal(logits) + _cross_entropy_of_the_diagonal(logits.T)) / 2",
         "return _cross_entropy_of_the_diagonal(logits)"),
        ("not-normalised", "    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)\n"
                           "    b = b / b.norm(dim=1, keepdim=True).clamp_min(1e-12)\n", ""),
    ],
    "ex13_margins.py": [
        ("ranking-sign", "return _reduce((-y * (x1 - x2) + margin).clamp_min(0), reduction)",
         "return _reduce((y * (x1 - x2) + margin).clamp_min(0), reduction)"),
        ("swap-ignored", "        d_neg = torch.minimum(d_neg, _distance(positive, negative, p, eps))\n", "        pass\n"),
    ],
    "ex14_gaussian_nll.py": [
        ("no-half", "loss = 0.5 * (torch.log(var) + (input - target) ** 2 / var)",
         "loss = torch.log(var) + (input - target) ** 2 / var"),
        ("std-not-variance", "loss = 0.5 * (torch.log(var) + (input - target) ** 2 / var)",
         "loss = 0.5 * (torch.log(var) + (input - target) ** 2 / var ** 2)"),
    ],
    "ex15_train_at_scale.py": [
        ("not-divided", "(loss / count).backward()", "loss.backward()"),
        ("clip-before-unscale", "        scaler.unscale_(optimizer)\n", ""),
    ],
}

# file -> a definition appended to the solution, replacing one function with the call it must not make
FORBIDDEN = {
    "ex01_mse.py": "def mse_loss(input, target, reduction='mean'):\n"
                   "    return torch.nn.functional.mse_loss(input, target, reduction=reduction)\n",
    "ex02_l1_huber.py": "def l1_loss(input, target, reduction='mean'):\n"
                        "    return torch.nn.functional.l1_loss(input, target, reduction=reduction)\n",
    "ex03_cross_entropy.py": "def log_softmax(logits, dim=-1):\n    return torch.log_softmax(logits, dim=dim)\n",
    "ex04_bce.py": "def binary_cross_entropy(input, target, reduction='mean'):\n"
                   "    return torch.nn.functional.binary_cross_entropy(input, target, reduction=reduction)\n",
    "ex10_kl_divergence.py": "def kl_div(input, target, reduction='mean', log_target=False):\n"
                             "    return torch.nn.functional.kl_div(input, target, reduction=reduction, log_target=log_target)\n",
    "ex14_gaussian_nll.py": "def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):\n"
                            "    return torch.nn.functional.gaussian_nll_loss(input, target, var, full, eps, reduction)\n",
}

BROKEN = {
    "syntax": lambda source: source + "\n\ndef unfinished(input, target:\n    return input\n",
    "import": lambda source: "import numpy_helpers  # a module that only exists on the learner's laptop\n" + source,
}


def mistake(file: str, name: str) -> str:
    source = (SOLUTIONS / file).read_text(encoding="utf-8")
    for known, old, new in MISTAKES[file]:
        if known == name:
            if old not in source:
                raise SystemExit(f"classgen: the mistake {file}:{name} no longer applies to the solution; update MISTAKES")
            return source.replace(old, new, 1)
    raise KeyError(f"{file}: no mistake {name!r}")


def exercise_file(file: str, kind: str, rng: random.Random) -> str | None:
    """The learner's version of `file` for one kind of work; None: not submitted."""
    solution = (SOLUTIONS / file).read_text(encoding="utf-8")
    if kind == "missing":
        return None
    if kind == "stub":
        return (STUBS / file).read_text(encoding="utf-8")
    if kind == "mistake":
        return mistake(file, rng.choice(MISTAKES[file])[0])
    if kind == "forbidden" and file in FORBIDDEN:
        return solution + "\n\n" + FORBIDDEN[file]
    if kind in BROKEN:
        return BROKEN[kind](solution)
    return solution


def pick_kind(rng: random.Random, skill: float, index: int) -> str:
    """What a learner of this skill hands in for the index-th exercise: later exercises are
    more often missing, weaker learners make more mistakes."""
    weights = {
        "missing": 0.03 + 0.035 * index * (1 - skill),
        "stub": 0.04,
        "syntax": 0.02,
        "import": 0.015,
        "forbidden": 0.03,
        "mistake": 0.5 * (1 - skill),
        "correct": 0.2 + 0.6 * skill,
    }
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def quiz_answers(rng: random.Random, skill: float) -> str:
    """A quiz-answers.yaml: most questions answered, right more often for stronger learners."""
    from lossgrade.quiz import library
    from lossgrade.quiz.model import answer_text

    answers: dict[str, dict[str, object]] = {}
    for quiz in library.quizzes().values():
        if rng.random() < 0.15:
            continue  # this quiz was never taken
        section: dict[str, object] = {}
        for question in quiz.questions:
            roll = rng.random()
            if roll < 0.08:
                continue
            right = roll < 0.35 + 0.6 * skill
            section[question.id] = answer_text(question, question.answer) if right else _wrong(question, rng)
        answers[quiz.id] = section
    return yaml.safe_dump(answers, sort_keys=False, allow_unicode=True)


def _wrong(question: object, rng: random.Random) -> object:
    kind = question.kind.value  # type: ignore[attr-defined]
    answer = question.answer  # type: ignore[attr-defined]
    if kind == "numeric":
        return round(float(answer) * rng.choice([0.5, 2.0, -1.0]) + 1.0, 4)
    if kind == "true-false":
        return "false" if answer else "true"
    if kind == "output":
        return "tensor(nan)"
    choices = [key for key in question.choices if key not in answer]  # type: ignore[attr-defined]
    return rng.choice(choices) if kind == "single" else sorted(rng.sample(choices, 1))


def learner(rng: random.Random, skill: float, files: tuple[str, ...] = FILES, kinds: dict[str, str] | None = None,
            answers: bool | None = None) -> dict[str, str]:
    """One learner's files (relative path -> text)."""
    out: dict[str, str] = {}
    for index, file in enumerate(files):
        kind = (kinds or {}).get(file) or pick_kind(rng, skill, index)
        text = exercise_file(file, kind, rng)
        if text is not None:  # no two learners hand in the same bytes
            out[file] = f"# my work on {file}, version {rng.randint(1, 9)}\n{text}"
    if answers if answers is not None else rng.random() < 0.75:
        out["quiz-answers.yaml"] = quiz_answers(rng, skill)
    return out


def write(folder: Path, learner_id: str, files: dict[str, str], as_zip: bool = False, layout: str = "top") -> None:
    """Write one submission: a folder, or a zip (optionally wrapped in a folder of its name)."""
    def place(name: str) -> str:
        nested = layout == "exercises" and name.endswith(".py")
        return f"exercises/{name}" if nested else name

    if as_zip:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in sorted(files.items()):
                info = zipfile.ZipInfo(f"{learner_id}/{place(name)}", date_time=(2026, 1, 1, 0, 0, 0))
                archive.writestr(info, text)
        (folder / f"{learner_id}.zip").write_bytes(buffer.getvalue())
        return
    for name, text in files.items():
        path = folder / learner_id / place(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / learner_id).mkdir(parents=True, exist_ok=True)


def generate(folder: Path, count: int, seed: int = 0, files: tuple[str, ...] = FILES) -> list[str]:
    """A class of `count` learners in `folder` (emptied first); every tenth is a zip."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    ids = []
    for number in range(1, count + 1):
        learner_id = f"learner{number:04d}"
        skill = rng.betavariate(2.5, 1.5)
        write(folder, learner_id, learner(rng, skill, files), as_zip=number % 10 == 0,
              layout="exercises" if number % 3 == 0 else "top")
        ids.append(learner_id)
    return ids


# The sample class that ships in examples/sample-class: a dozen learners, each showing
# something an instructor meets in a real class.
SAMPLE: list[tuple[str, float, dict[str, str], str]] = [
    ("ada", 0.95, dict.fromkeys(FILES, "correct"), "top"),
    ("ben", 0.7, {"ex01_mse.py": "mistake", "ex03_cross_entropy.py": "mistake", "ex07_train_step.py": "mistake"}, "top"),
    ("chloe", 0.6, {"ex04_bce.py": "mistake", "ex06_gradients.py": "mistake", "ex09_custom.py": "missing"}, "exercises"),
    ("dev", 0.3, {f: "missing" for f in FILES[4:]} | {"ex02_l1_huber.py": "syntax"}, "top"),
    ("elif", 0.5, {"ex01_mse.py": "forbidden", "ex03_cross_entropy.py": "forbidden", "ex05_targets.py": "mistake"}, "top"),
    ("femi", 0.8, {"ex08_fit.py": "mistake", "ex07_train_step.py": "correct"}, "zip"),
    ("gus", 0.1, dict.fromkeys(FILES, "stub") | {"ex01_mse.py": "mistake"}, "top"),
    ("hana", 0.85, {"ex05_targets.py": "import", "ex06_gradients.py": "mistake"}, "exercises"),
    ("ivo", 0.4, dict.fromkeys(FILES, "missing") | {"ex01_mse.py": "correct", "ex02_l1_huber.py": "mistake"}, "top"),
    ("june", 0.9, {"ex02_l1_huber.py": "mistake", "ex09_custom.py": "mistake"}, "top"),
    ("kofi", 0.65, {"ex04_bce.py": "forbidden", "ex03_cross_entropy.py": "correct"}, "top"),
    ("lea", 0.75, {}, "exercises"),
]


def sample(folder: Path) -> None:
    """Rewrite the generated learners of the sample class; the hand-made ones (files named as
    learners really name them, notebooks) stay as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    for learner_id, *_ in SAMPLE:
        shutil.rmtree(folder / learner_id, ignore_errors=True)
        (folder / f"{learner_id}.zip").unlink(missing_ok=True)
    rng = random.Random(7)
    for learner_id, skill, kinds, layout in SAMPLE:
        files = learner(rng, skill, FILES, kinds, answers=learner_id not in ("dev", "gus"))
        write(folder, learner_id, files, as_zip=layout == "zip", layout=layout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", action="store_true", help="write the sample class instead")
    args = parser.parse_args()
    if args.sample:
        sample(args.out)
    else:
        generate(args.out, args.count, args.seed)
    print(f"classgen: wrote {args.out}")


if __name__ == "__main__":
    main()
