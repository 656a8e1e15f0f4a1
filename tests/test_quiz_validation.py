"""Quiz validation: every schema error is reported, with file, line and what to fix."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossgrade.cli.quiz import quiz
from lossgrade.quiz.validate import validate

TEXTS = "myth: m, reality: r, why: w"  # what every question must say, for tests that need no more
HEADER = "schema: 1\nid: demo\ntitle: Demo\ntopic: testing\nquestions:\n"


def write_quiz(folder: Path, questions: str, header: str = HEADER, name: str = "demo.yaml") -> Path:
    """A quiz file whose questions are `questions` (YAML, indented as list items)."""
    path = folder / name
    path.write_text(header + textwrap.dedent(questions), encoding="utf-8")
    return path


def messages(path: Path) -> list[str]:
    return [f"{p.line}: {p.message}" for p in validate([path])]


def test_a_valid_file_with_every_kind_has_no_problems(tmp_path: Path) -> None:
    path = write_quiz(tmp_path, f"""\
        - {{id: one, kind: single, prompt: Pick, choices: {{a: "4", b: "5"}}, answer: a, code: print(2 + 2), {TEXTS}}}
        - {{id: many, kind: multiple, prompt: Pick, choices: {{a: x, b: y, c: z}}, answer: [a, c], {TEXTS}}}
        - {{id: yes-or-no, kind: true-false, prompt: 1 < 2, answer: yes, code: print(1 < 2), {TEXTS}}}
        - {{id: a-number, kind: numeric, prompt: 1 / 3, answer: 0.33, tolerance: 0.01, code: print(1 / 3), {TEXTS}}}
        - {{id: printed, kind: output, prompt: Read it, answer: "[1, 2]", code: "print([1,2])", {TEXTS}}}
        """)
    assert messages(path) == []


def test_missing_answer(tmp_path: Path) -> None:
    path = write_quiz(tmp_path, f"- {{id: yes-or-no, kind: true-false, prompt: MSE is a loss, {TEXTS}}}\n")
    assert messages(path) == ["6: question yes-or-no has no answer; add `answer: ...`"]


def test_answer_not_among_the_choices(tmp_path: Path) -> None:
    path = write_quiz(tmp_path, f"- {{id: pick-one, kind: single, prompt: Pick, choices: {{a: x, b: y}}, answer: c, {TEXTS}}}\n")
    assert messages(path) == ["6: question pick-one: answer is not valid: expected one choice key of a, b, got 'c'"]


def test_duplicate_question_id(tmp_path: Path) -> None:
    path = write_quiz(tmp_path, f"""\
        - {{id: yes-or-no, kind: true-false, prompt: MSE is a loss, answer: true, {TEXTS}}}
        - {{id: yes-or-no, kind: true-false, prompt: ReLU is a loss, answer: false, {TEXTS}}}
        """)
    assert messages(path) == ["7: duplicate question id 'yes-or-no' (first at line 6); rename one"]


def test_numeric_answer_without_tolerance(tmp_path: Path) -> None:
    path = write_quiz(tmp_path, f"- {{id: a-number, kind: numeric, prompt: ln(10), answer: 2.3026, code: print(2.3), {TEXTS}}}\n")
    assert messages(path) == ["6: question a-number: a numeric answer needs `tolerance:`, a number >= 0 (e.g. 0.01)"]


def test_code_that_fails_names_the_line_inside_the_code(tmp_path: Path) -> None:
    path = write_quiz(tmp_path, """\
        - id: printed
          kind: output
          prompt: What does it print?
          answer: "6"
          code: |
            total = 1 + 2 + 3
            print(totl)
          myth: m
          reality: r
          why: w
        """)
    assert messages(path) == [
        "12: question printed: the code failed at line 2 of the code: NameError: name 'totl' is not defined"
    ]


def test_code_that_contradicts_the_key(tmp_path: Path) -> None:
    path = write_quiz(tmp_path, f"""\
        - {{id: a-number, kind: numeric, prompt: ln(10), answer: 2.5, tolerance: 0.01, {TEXTS},
           code: "import math; print(round(math.log(10), 4))"}}
        - {{id: yes-or-no, kind: true-false, prompt: 1 < 2, answer: false, code: print(1 < 2), {TEXTS}}}
        - {{id: pick-one, kind: single, prompt: 2 + 2, choices: {{a: "4", b: "5"}}, answer: b, code: print(2 + 2), {TEXTS}}}
        """)
    assert messages(path) == [
        "6: question a-number: the code prints 2.3026, but the answer is 2.5 ± 0.01; fix the answer",
        "8: question yes-or-no: the code prints 'True', but the answer says 'False'; fix the answer or the code",
        "9: question pick-one: the code prints '4', but the answer says '5'; fix the answer or the code",
    ]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    header = "schema: 2\nid: other\ntitle: Demo\ntopic: Not A Slug\ncolour: red\nquestions:\n"
    path = write_quiz(tmp_path, """\
        - id: pick-many
          kind: multiple
          prompt: Which?
          choices: {a: x, b: y}
          answer: [a, d]
          code: print("a")
        - id: typed
          kind: output
          prompt: What?
          answer: "6"
          tolerence: 0.1
        - id: strange
          kind: essay
        - id: pick-one
          kind: single
          prompt: Which?
          choices: {a: x, a: y}
          answer: a
          myth: m
          reality: r
          why: w
        """, header=header)
    assert messages(path) == [
        "1: expected `schema: 1` (this lossgrade reads quiz schema 1)",
        "2: quiz id 'other' must match the file name 'demo.yaml'; rename one",
        "4: the quiz: topic 'Not A Slug' must be a lowercase slug such as softmax-before-ce",
        "5: unknown field 'colour' in the quiz; expected one of schema, id, title, topic, description, claims, questions",
        "7: question pick-many has no 'myth'; add `myth: ...`",
        "7: question pick-many has no 'reality'; add `reality: ...`",
        "7: question pick-many has no 'why'; add `why: ...`",
        "11: question pick-many: answer is not valid: expected a list of choice keys from a, b",
        "12: question pick-many: a multiple-choice question cannot carry code; make it an output question",
        "13: question typed has no 'myth'; add `myth: ...`",
        "13: question typed has no 'reality'; add `reality: ...`",
        "13: question typed has no 'why'; add `why: ...`",
        "13: question typed has no 'code'; add `code: ...`",
        (
            "17: unknown field 'tolerence' in question typed; expected one of id, kind, prompt, choices, "
            "answer, tolerance, code, myth, reality, why, claims"
        ),
        "19: question strange: kind 'essay' is not one of single, multiple, true-false, numeric, output",
        "23: duplicate key 'a' (first at line 23); remove one",
        "23: question pick-one: give at least two choices as a mapping, e.g. `a: ...` and `b: ...`",
    ]


def test_malformed_yaml_is_one_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("schema: 1\nid: broken\nquestions:\n  - id: x\n   kind: single\n", encoding="utf-8")
    assert [str(p) for p in validate([path])] == [
        f"{path}:5: invalid YAML (expected <block end>, but found '<block mapping start>'); check the indentation and quoting"
    ]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_command_lists_problems_and_fails(tmp_path: Path, runner: CliRunner) -> None:
    path = write_quiz(tmp_path, """\
        - id: yes-or-no
          kind: true-false
          prompt: Is MSE a loss?
          myth: m
          reality: r
          why: w
        """)
    result = runner.invoke(quiz, ["--validate", str(path)])
    assert result.exit_code == 2  # a quiz that does not validate is a set-up error, as in `course check`
    assert result.stdout == (
        f"{path}:6: question yes-or-no has no answer; add `answer: ...`\n1 problem(s) in 1 quiz file(s)\n"
    )
    as_json = runner.invoke(quiz, ["--validate", str(tmp_path), "--json"])
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout) == [
        {"file": str(path), "line": 6, "message": "question yes-or-no has no answer; add `answer: ...`"}
    ]


def test_validate_command_on_a_valid_folder(tmp_path: Path, runner: CliRunner) -> None:
    write_quiz(tmp_path, """\
        - id: yes-or-no
          kind: true-false
          prompt: Is MSE a loss?
          answer: yes
          myth: m
          reality: r
          why: w
        """)
    result = runner.invoke(quiz, ["--validate", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (0, "1 quiz file(s): all valid\n")


def test_validate_command_bad_input(tmp_path: Path, runner: CliRunner) -> None:
    missing = runner.invoke(quiz, ["--validate", str(tmp_path / "nope.yaml")])
    assert (missing.exit_code, missing.stderr) == (2, f"Error: {tmp_path / 'nope.yaml'}: no such quiz file or folder\n")
    mixed = runner.invoke(quiz, ["logits", "--validate"])
    assert mixed.exit_code == 2
    assert "--validate checks quiz files; it takes no QUIZ and no --answers" in mixed.stderr
