"""Myth-buster quizzes: YAML files under `quizzes/` (schema in quizzes/SCHEMA.md), taken in
the terminal or graded from a learner's answers file.

What other parts of lossgrade call:
- `grade_answers_file(path) -> list[QuizResult]`: batch grading of a `quiz-answers.yaml`;
- `question_ids() -> dict[str, list[str]]`: what "quiz-id#question-id" may name;
- `validate(paths=None) -> list[Problem]`: the course self-check (runs the questions' code);
- `lossgrade.cli.quiz.quiz`: the click command.
"""
from lossgrade.quiz.grading import grade_answers_file
from lossgrade.quiz.library import question_ids
from lossgrade.quiz.validate import validate

__all__ = ["grade_answers_file", "question_ids", "validate"]
