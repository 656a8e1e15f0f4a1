"""`lossgrade quiz` through CliRunner, on a small course of our own: listing, answers files,
the interactive loop with scripted input (resume included) and every bad-input message."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lossgrade import course as lossgrade_course
from lossgrade.quiz import grade_answers_file
from lossgrade.cli.quiz import quiz

DEMO = """\
schema: 1
id: demo
title: A demo quiz
topic: testing
questions:
  - id: pick-one
    kind: single
    prompt: Which of these is a loss function?
    choices: {a: MSE, b: ReLU, c: Adam}
    answer: a
    myth: Everything in torch.nn is a loss.
    reality: ReLU is an activation and Adam an optimizer.
    why: Names tell you what a line of code does.
  - id: pick-many
    kind: multiple
    prompt: Which of these are losses?
    choices: {a: MSE, b: ReLU, c: Huber}
    answer: [a, c]
    myth: There is one loss per task.
    reality: MSE and Huber both measure regression errors.
    why: Outliers call for Huber.
  - id: yes-or-no
    kind: true-false
    prompt: Cross-entropy with class indices can be negative.
    answer: false
    myth: Losses can be negative.
    reality: -log p is never negative when p <= 1.
    why: A negative loss points at a bug.
  - id: a-number
    kind: numeric
    prompt: What is ln(10)?
    answer: 2.3026
    tolerance: 0.01
    code: "import math; print(round(math.log(10), 4))"
    myth: A first loss of 2.3 is a bug.
    reality: It is a uniform guess over ten classes.
    why: It is a free sanity check.
  - id: printed
    kind: output
    prompt: Read the code.
    answer: "6"
    code: print(1 + 2 + 3)
    myth: Code cannot be read without running it.
    reality: It adds three numbers.
    why: Reading code is a skill.
"""
EXTRA = """\
schema: 1
id: extra
title: Extra
topic: testing
questions:
  - id: only
    kind: true-false
    prompt: MSE is in squared units.
    answer: true
    myth: MSE is in the target's units.
    reality: It squares the errors.
    why: Take the square root to compare.
"""
ANSWERS = """\
demo:
  pick-one: a
  pick-many: [a, b]
  yes-or-no: no
  a-number: 2.30
  printed:
"""
GRADED = """\
demo: A demo quiz
  ✓ pick-one
  ✗ pick-many: you answered "MSE", "ReLU"; the answer is "MSE", "Huber"
  ✓ yes-or-no
  ✓ a-number
  ✗ printed: not answered; the answer is "6"
Score: 3/5
"""


@pytest.fixture(autouse=True)
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "course" / "quizzes"
    folder.mkdir(parents=True)
    (folder / "demo.yaml").write_text(DEMO, encoding="utf-8")
    (folder / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    # These tests want a course of exactly these two quizzes: the built-in ones set aside.
    monkeypatch.setattr("lossgrade.course._chosen", lossgrade_course.Course((folder.parent,), ()))
    monkeypatch.delenv("LOSSGRADE_WORKSPACE", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    (root / ".lossgrade").mkdir(parents=True)
    return root


def run(*args: str, input: str | None = None, **kwargs: object) -> Result:
    return CliRunner().invoke(quiz, list(args), input=input, **kwargs)  # type: ignore[arg-type]


def answers_file(tmp_path: Path, text: str = ANSWERS) -> Path:
    path = tmp_path / "quiz-answers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def saved(workspace: Path) -> dict[str, dict[str, object]]:
    return json.loads((workspace / ".lossgrade" / "state.json").read_text(encoding="utf-8"))["quizzes"]


def state(workspace: Path) -> dict[str, object]:
    """The saved scores, without the last run's full result (see last_result)."""
    return {quiz: {k: v for k, v in record.items() if k not in ("last_result", "last_answers")}
            for quiz, record in saved(workspace).items()}


# --- answers files ---------------------------------------------------------------------
def test_answers_file_is_graded_without_prompting(tmp_path: Path) -> None:
    result = run("demo", "--answers", str(answers_file(tmp_path)))
    assert (result.exit_code, result.stdout, result.stderr) == (1, GRADED, "")  # 3/5: failing work, as `check`


def test_answers_as_json(tmp_path: Path) -> None:
    result = run("--answers", str(answers_file(tmp_path)), "--json")
    assert result.exit_code == 1
    [graded] = json.loads(result.stdout)
    assert (graded["quiz"], graded["score"], graded["max_score"]) == ("demo", 3.0, 5.0)
    assert graded["questions"][1] == {
        "id": "pick-many", "prompt": "Which of these are losses?", "correct": False,
        "given": ["MSE", "ReLU"], "expected": ["MSE", "Huber"],
        "myth": "There is one loss per task.", "reality": "MSE and Huber both measure regression errors.",
    }


def test_one_file_answers_several_quizzes_in_course_order(tmp_path: Path) -> None:
    path = answers_file(tmp_path, "extra:\n  only: true\n" + ANSWERS)
    assert [(r.quiz, r.score) for r in grade_answers_file(path)] == [("demo", 3.0), ("extra", 1.0)]
    only_extra = run("extra", "--answers", str(path))
    assert only_extra.stdout == "extra: Extra\n  ✓ only\nScore: 1/1\n" and only_extra.exit_code == 0


def test_colour_only_when_asked_and_never_with_no_color(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(answers_file(tmp_path))
    assert "\x1b[32m" in run("--answers", path, color=True).stdout
    monkeypatch.setenv("NO_COLOR", "1")
    assert run("--answers", path, color=True).stdout == GRADED


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("demo: [unclosed\n", "2: invalid YAML (expected ',' or ']', but got '<stream end>'); check the indentation and quoting"),
        ("demo:\n  pick-one: a\ndemos:\n  only: true\n", "3: unknown quiz 'demos'; did you mean demo?"),
        ("demo:\n  pick-one: a\n  pick-ones: b\n", "3: quiz demo has no question 'pick-ones'; did you mean pick-one?"),
        ("demo:\n  pick-one: [a, b]\n", "2: demo#pick-one (single question): expected one value, not a list or mapping"),
        ("demo:\n  pick-one: d\n", "2: demo#pick-one (single question): expected one choice key of a, b, c, got 'd'"),
        ("demo:\n  pick-many: [a, z]\n", "2: demo#pick-many (multiple question): expected a list of choice keys from a, b, c"),
        ("demo:\n  yes-or-no: maybe\n", "2: demo#yes-or-no (true-false question): expected true or false, got 'maybe'"),
        ("demo:\n  a-number: lots\n", "2: demo#a-number (numeric question): expected a number such as 2.30, got 'lots'"),
        ("demo:\n  printed: {x: 1}\n", "2: demo#printed (output question): expected one value, not a list or mapping"),
        ("demo: b\n", "1: under demo: give question ids and answers, e.g. `softmax-before-ce: b`"),
        ("- demo\n", "1: expected quiz ids with their answers, e.g. `logits: {softmax-before-ce: b}`"),
        ("demo:\n  pick-one: a\n  pick-one: b\n", "3: duplicate key 'pick-one' (first at line 2); remove one"),
        ("extra:\n  only: true\n", "1: no answers for quiz demo; add a `demo:` section"),
        ("demo:\n  pick-one: &x a\n  printed: *x\n", "2: the value anchored here is reused with an alias (*name); write it out each time"),
        ("demo: " + "[" * 1500 + "]" * 1500 + "\n", "1: the YAML nests too deeply to be a quiz or answers file"),
        ("# padding\n" * 100_001, "1: the file is larger than 1 MB"),
    ],
    ids=["malformed-yaml", "unknown-quiz", "unknown-question", "list-for-single", "unknown-choice",
         "unknown-choices", "not-true-false", "not-a-number", "mapping-for-output", "text-for-quiz",
         "list-at-top", "duplicate-question", "quiz-not-answered", "alias", "too-deep", "too-large"],
)
def test_bad_answers_file_is_one_line_exit_2_nothing_written(tmp_path: Path, workspace: Path, text: str, error: str) -> None:
    path = answers_file(tmp_path, text)
    result = run("demo", "--answers", str(path), "--workspace", str(workspace))
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {path}:{error}\n")
    assert list((workspace / ".lossgrade").iterdir()) == []


def test_unknown_quiz_and_missing_file(tmp_path: Path, workspace: Path) -> None:
    unknown = run("dmeo", "--workspace", str(workspace))
    assert (unknown.exit_code, unknown.stderr) == (2, "Error: unknown quiz 'dmeo'; did you mean demo? (`lossgrade quiz` lists them all)\n")
    missing = run("--answers", str(tmp_path / "nope.yaml"))
    assert (missing.exit_code, missing.stderr) == (2, f"Error: {tmp_path / 'nope.yaml'}:1: cannot read the file (No such file or directory)\n")
    empty = run("--answers", str(answers_file(tmp_path, "")))
    assert (empty.exit_code, empty.stderr) == (2, f"Error: {tmp_path / 'quiz-answers.yaml'}:1: no answers for any quiz; start it with a quiz id, e.g. `logits:`\n")
    assert list((workspace / ".lossgrade").iterdir()) == []


def test_json_needs_answers_and_a_quiz_needs_a_workspace() -> None:
    as_json = run("demo", "--json")
    assert (as_json.exit_code, as_json.stderr.splitlines()[-1]) == (2, "Error: --json needs --answers: an interactive quiz talks to a person")
    no_workspace = run("demo")
    assert no_workspace.exit_code == 2
    assert no_workspace.stderr.startswith("Error: ") and no_workspace.stderr.count("\n") == 1


# --- the interactive quiz -------------------------------------------------------------
TRANSCRIPT = """\
demo: A demo quiz (5 questions)

Question 1 of 5  [pick-one]
Which of these is a loss function?
  1) Adam
  2) MSE
  3) ReLU
Your answer (one number): x
Your answer (one number): 2
✓ Right.
Myth: Everything in torch.nn is a loss.
Reality: ReLU is an activation and Adam an optimizer.
Why it matters: Names tell you what a line of code does.

Question 2 of 5  [pick-many]
Which of these are losses?
  1) ReLU
  2) MSE
  3) Huber
Your answers (every right number, e.g. 1,3): 2,3
✓ Right.
Myth: There is one loss per task.
Reality: MSE and Huber both measure regression errors.
Why it matters: Outliers call for Huber.

Question 3 of 5  [yes-or-no]
Cross-entropy with class indices can be negative.
True or false? [t/f]: maybe
True or false? [t/f]: f
✓ Right.
Myth: Losses can be negative.
Reality: -log p is never negative when p <= 1.
Why it matters: A negative loss points at a bug.

Question 4 of 5  [a-number]
What is ln(10)?
Your answer (a number): 2.4
✗ Not quite: the answer is 2.3026 (within 0.01).
Myth: A first loss of 2.3 is a bug.
Reality: It is a uniform guess over ten classes.
Why it matters: It is a free sanity check.
See for yourself:
    import math; print(round(math.log(10), 4))

Question 5 of 5  [printed]
Read the code.
    print(1 + 2 + 3)
What does it print? 6
✓ Right.
Myth: Code cannot be read without running it.
Reality: It adds three numbers.
Why it matters: Reading code is a skill.

demo: A demo quiz
  ✓ pick-one
  ✓ pick-many
  ✓ yes-or-no
  ✗ a-number: you answered 2.4; the answer is 2.3026
  ✓ printed
Score: 4/5
"""


def test_interactive_quiz_one_question_at_a_time(workspace: Path) -> None:
    result = run("demo", "--workspace", str(workspace), "--seed", "4", input="x\n2\n2,3\nmaybe\nf\n2.4\n6\n")
    assert result.exit_code == 0
    assert result.stdout == TRANSCRIPT
    assert result.stderr == (
        "Ctrl-C stops at any time; your answers are kept and a rerun resumes.\n"
        "Please answer with a number from 1 to 3.\n"
        "Please try again: expected true or false, got 'maybe'.\n"
        f"Best so far: 4/5 (saved in {workspace / '.lossgrade' / 'state.json'}; "
        "these answers in quiz-answers.yaml, which `lossgrade submit` hands in)\n"
    )
    assert state(workspace) == {"demo": {"best": 4.0, "last": 4.0, "max_score": 5.0, "runs": 1}}
    # the answers, written as `grade` and `quiz --answers` read them: choice keys, not the shuffled numbers
    again = run("demo", "--answers", str(workspace / "quiz-answers.yaml"))
    assert again.exit_code == 1 and again.stdout.endswith("Score: 4/5\n")
    assert "a-number: you answered 2.4" in again.stdout
    last = saved(workspace)["demo"]["last_result"]  # kept for `lossgrade report`: the myths missed
    assert last["score"] == 4.0 and sum(not q["correct"] for q in last["questions"]) == 1


def test_same_seed_same_order_and_best_score_is_kept(workspace: Path) -> None:
    first = run("demo", "--workspace", str(workspace), "--seed", "4", input="2\n2,3\nf\n2.3\n6\n")
    worse = run("demo", "--workspace", str(workspace), "--seed", "4", input="1\n1\nt\n0\n7\n")
    assert first.stdout.split("Your answer")[0] == worse.stdout.split("Your answer")[0]
    assert worse.stdout.endswith("Score: 0/5\n")
    assert state(workspace)["demo"] == {"best": 5.0, "last": 0.0, "max_score": 5.0, "runs": 2}
    listing = run("--workspace", str(workspace))
    assert listing.stdout == (
        "QUIZ   QUESTIONS  BEST    TITLE\n"
        "demo           5  5/5     A demo quiz\n"
        "extra          1  -       Extra\n"
    )


def test_end_of_input_saves_progress_and_a_rerun_resumes(workspace: Path) -> None:
    stopped = run("demo", "--workspace", str(workspace), "--seed", "4", input="2\n")
    assert stopped.exit_code == 130
    assert stopped.stderr.endswith("Stopped: 1 of 5 answers saved; run `lossgrade quiz demo` to resume.\n")
    assert state(workspace) == {"demo": {"progress": {"seed": 4, "answers": {"pick-one": "a"}}}}
    listing = run("--workspace", str(workspace), "--json")
    assert [(q["id"], q["best"], q["in_progress"]) for q in json.loads(listing.stdout)] == [
        ("demo", None, True), ("extra", None, False)
    ]
    resumed = run("demo", "--workspace", str(workspace), input="\n2,3\nf\n2.3\n6\n")
    assert resumed.exit_code == 0
    assert resumed.stdout.startswith("You answered 1 of 5 questions of demo last time. Resume? [Y/n]: \n")
    assert "Question 1 of 5" not in resumed.stdout and "Question 2 of 5" in resumed.stdout
    assert "  2) MSE\n" in resumed.stdout  # the saved seed keeps the choices in their order
    assert resumed.stdout.endswith("Score: 5/5\n")
    assert state(workspace) == {"demo": {"best": 5.0, "last": 5.0, "max_score": 5.0, "runs": 1}}


def test_stopping_before_any_answer_writes_nothing(workspace: Path) -> None:
    stopped = run("demo", "--workspace", str(workspace), input="")
    assert (stopped.exit_code, stopped.stderr.splitlines()[-1]) == (130, "Stopped; there were no answers to save.")
    assert list((workspace / ".lossgrade").iterdir()) == []


def test_declining_to_resume_starts_over(workspace: Path) -> None:
    run("demo", "--workspace", str(workspace), "--seed", "4", input="2\n")
    fresh = run("demo", "--workspace", str(workspace), "--seed", "4", input="n\n1\n")
    assert "Question 1 of 5" in fresh.stdout
    assert state(workspace) == {"demo": {"progress": {"seed": 4, "answers": {"pick-one": "c"}}}}


def test_stale_or_hand_edited_progress_is_dropped(workspace: Path) -> None:
    saved = {"quizzes": {"demo": {"progress": {"seed": 4, "answers": {"pick-one": "zzz", "gone": "a"}}}}}
    (workspace / ".lossgrade" / "state.json").write_text(json.dumps(saved), encoding="utf-8")
    result = run("demo", "--workspace", str(workspace), input="2\n")
    assert "Resume?" not in result.stdout and "Question 1 of 5" in result.stdout
