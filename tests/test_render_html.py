"""HTML reports: rendered from results shaped like the grader's (and from real grading), parsed
back, and checked for what a learner or instructor looks for, for escaping and self-containment.
`sample_class()` is also what the browser test opens."""
from __future__ import annotations

import json
import types
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from lossgrade.output.html import (
    render_class_report, render_exercise_fragment, render_learner_report, write_reports)
from lossgrade.core.results import (
    CheckResult, ExerciseResult, Feedback, Misconception, Outcome, QuestionResult, QuizResult, Status,
    SubmissionResult, submission_from_dict, to_dict)

XSS = '<script>alert("pwned")</script>'
# Shaped like the runner's own output for ex01 (ids, wording, skipped CUDA twins).
MSE = "Mean squared error, from scratch"
CE = "Cross-entropy from logits"
EXAMPLE = "mse_loss gives 0.2875 on the worked example from the exercise"
REDUCTIONS = "mse_loss matches the reference for reduction='mean', 'sum' and 'none'"
NO_CUDA = Feedback("Skipped: CUDA is not available on this machine (torch.cuda.is_available() is False).")
SUM_NOT_MEAN = Misconception(
    "ex01.sum-not-mean", "Summed the squared errors instead of averaging them",
    "Your 'mean' result equals the sum of the squared errors. A sum grows with the batch size.",
    quiz="loss-scales#sum-vs-mean")
SOFTMAX_TWICE = Misconception(
    "ex03.softmax-twice", "Softmax before cross-entropy",
    "F.cross_entropy takes raw logits and applies log-softmax itself.", quiz="logits#softmax-first")
WRONG_MEAN = Feedback(
    "The result is wrong: the values differ (largest difference 0.863).",
    call="mse_loss(input=float32[4] [2.5, 0, 2.1, 7.8], target=float32[4] [3, -0.5, 2, 7])",
    got="tensor(1.15, dtype=float32)", expected="tensor(0.2875, dtype=float32)",
    hint="Square each error before you average: `(input - target) ** 2`.", output="debug torch.Size([4])\n")


def _mse(status: Status, score: float, *outcomes: Outcome, feedback: Feedback | None = None,
         misconception: Misconception | None = None, error: str | None = None) -> ExerciseResult:
    """ex01 with the worked example, then the reductions check on cpu and (skipped) cuda."""
    example, reductions = outcomes
    checks = [CheckResult("ex01_mse.worked_example", EXAMPLE, example, feedback, misconception),
              CheckResult("ex01_mse.reductions[cpu]", REDUCTIONS, reductions, feedback, misconception),
              CheckResult("ex01_mse.reductions[cuda]", REDUCTIONS, Outcome.SKIPPED, NO_CUDA)]
    for check in checks[:2]:
        if check.outcome is Outcome.PASSED:
            check.feedback = check.misconception = None
    return ExerciseResult("ex01", MSE, status, score, 10.0, checks, error=error)


def _ce(status: Status, score: float, outcome: Outcome | None = None, **extra: object) -> ExerciseResult:
    checks = [CheckResult("ex03_cross_entropy.logits", "cross_entropy takes raw logits", outcome,
                          **extra)] if outcome else []  # type: ignore[arg-type]
    error = "ex03_cross_entropy.py was not submitted" if status is Status.NOT_SUBMITTED else None
    return ExerciseResult("ex03", CE, status, score, 10.0, checks, error=error)


def _quiz(*correct: bool) -> QuizResult:
    return QuizResult("loss-scales", "How losses scale", 5.0 * sum(correct), 10.0, [
        QuestionResult("sum-vs-mean", "Does a mean-reduced MSE grow with the batch size?", correct[0],
                       "no" if correct[0] else "yes", "no",
                       "Bigger batches give bigger losses.", "The mean divides by the number of elements."),
        QuestionResult("scale", "What is mse_loss(2*x, 2*y) compared with mse_loss(x, y)?", correct[1],
                       4 if correct[1] else 2, 4, "Errors scale linearly.", "Squared errors scale by 4."),
    ])


def sample_class() -> list[SubmissionResult]:
    """Five learners covering every outcome and status, one with a hostile id and output."""
    passed, failed = Outcome.PASSED, Outcome.FAILED
    not_started = Feedback("Not started: a function this check calls still raises NotImplementedError.")
    unloadable = "ex01_mse.py could not be imported: SyntaxError (line 12): invalid syntax"
    results = [
        SubmissionResult("alice", [_mse(Status.PASSED, 10.0, passed, passed),
                                   _ce(Status.PASSED, 10.0, passed)], [_quiz(True, True)]),
        SubmissionResult("bob", [
            _mse(Status.FAILED, 0.0, failed, failed, feedback=WRONG_MEAN, misconception=SUM_NOT_MEAN),
            _ce(Status.FAILED, 0.0, failed, misconception=SOFTMAX_TWICE, feedback=Feedback(
                "The loss is too small for confident wrong answers.", got="0.55", expected="2.41")),
        ], [_quiz(False, True)]),
        SubmissionResult("carol", [
            _mse(Status.NOT_STARTED, 0.0, Outcome.NOT_STARTED, Outcome.NOT_STARTED, feedback=not_started),
            _ce(Status.NOT_SUBMITTED, 0.0)], [_quiz(False, False)]),
        SubmissionResult("dave", [
            _mse(Status.ERROR, 0.0, Outcome.ERROR, Outcome.ERROR, feedback=Feedback(unloadable),
                 error=unloadable),
            _ce(Status.FAILED, 5.0, failed, misconception=SOFTMAX_TWICE),
        ], error="the archive held two copies of ex01_mse.py; graded the newest"),
        SubmissionResult(f"../../{XSS}", [ExerciseResult("ex01", MSE, Status.FAILED, 2.5, 10.0, [CheckResult(
            f"ex01.{XSS}", f"description {XSS}", failed,
            Feedback(f"message {XSS}", got=f"got {XSS}", output=f"printed {XSS}", hint=f"hint `{XSS}`"),
            Misconception("xss", f"name {XSS}", f"message {XSS}", quiz=XSS))])],
            [QuizResult("xss", f"quiz {XSS}", 0.0, 5.0, [QuestionResult(
                "q", f"prompt {XSS}", False, XSS, "1", f"myth {XSS}", f"reality {XSS}")])]),
    ]
    # What grading writes and a later `lossgrade report` reads back: the JSON form.
    return [submission_from_dict(json.loads(json.dumps(to_dict(r)))) for r in results]


class Page(HTMLParser):
    """The parts of a page the tests look at: text, tags with attributes, and nesting errors."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "path", "circle", "rect", "line"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.open: list[str] = []
        self.errors: list[str] = []
        self.in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.in_style = tag == "style"
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))  # <path/>: nothing to close

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        self.in_style = False
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.open[-1] if self.open else None}>")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    @property
    def body(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def results() -> list[SubmissionResult]:
    return sample_class()


def assert_well_formed(page: Page) -> None:
    assert page.errors == [] and page.open == [], (page.errors, page.open)
    assert not page.all("script")
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "xlink:href"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "javascript:", "data:text")), (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)


def test_learner_report_shows_progress_checks_feedback_misconceptions_and_quiz(results):
    bob = results[1]
    page = Page(render_learner_report(bob))
    assert_well_formed(page)
    assert [h["id"] for h in page.all("h2")] == ["next", "progress", "exercises", "misconceptions", "quizzes"]
    assert page.all("h1") and page.all("meta", name="viewport") and page.all("html", lang="en")
    text = page.body
    for expected in ("bob", "17%", "5 / 30", "0 of 2", "Skipped", "Failed", EXAMPLE,
                     "Call mse_loss(input=float32[4] [2.5, 0, 2.1, 7.8], target=float32[4] [3, -0.5, 2, 7])",
                     "Got tensor(1.15, dtype=float32)", "Expected tensor(0.2875, dtype=float32)",
                     "Your code printed debug torch.Size([4])", "Hint: Square each error",
                     "Known misconception: Summed the squared errors", "Softmax before cross-entropy",
                     "Myth-buster: lossgrade quiz loss-scales", "1 of 2 questions right",
                     "Bigger batches give bigger losses.", "The mean divides by the number of elements.",
                     "Your answer yes Correct answer no"):
        assert expected in text, expected
    # The second check with the same mistake names it again without repeating the lecture.
    assert text.count("Known misconception: Summed") == 1 and text.count("as above: Summed") == 1
    assert "<code>(input - target) ** 2</code>" in render_learner_report(bob)
    assert page.all("a", href="#ex-ex01") and page.all("article", id="ex-ex01")
    assert page.all("a", href="#quiz-loss-scales") and page.all("article", id="quiz-loss-scales")
    assert len(page.all("th", scope="col")) == 4 and len(page.all("th", scope="row")) == 2


def test_every_state_says_what_it_is_in_words_and_why(results):
    alice, carol, dave = results[0], results[2], results[3]
    page = Page(render_learner_report(alice) + render_learner_report(carol))
    badges = {span.get("class") for span in page.all("span")}
    assert {"badge is-passed", "badge is-idle", "badge is-absent"} <= badges
    assert all(word in page.body for word in ("Passed", "Not started", "Not submitted", "Skipped"))
    assert all(svg.get("aria-hidden") == "true" for svg in page.all("svg"))  # icons only repeat the word
    assert "ex03_cross_entropy.py was not submitted" in page.body
    assert page.body.count("Not started: a function") == 1  # said once, not under every check
    text = Page(render_learner_report(dave)).body
    assert "could not be graded as a whole: the archive held two copies" in text
    assert "Why nothing could be checked: ex01_mse.py could not be imported: SyntaxError (line 12)" in text


def test_class_report_has_chart_rates_misconceptions_questions_and_learner_links(results):
    links = {r.learner: f"learners/{i}.html" for i, r in enumerate(results)}
    html = render_class_report(results, learner_links=links)
    page = Page(html)
    assert_well_formed(page)
    assert [h["id"] for h in page.all("h2")] == [
        "attention", "distribution", "exercises", "checks", "misconceptions", "questions", "learners"]
    text = page.body
    for expected in ("Learners 5", "Mean score 32%", "Median score 17%", "Passed every exercise 1",
                     "20% (1 of 5)", "25% (1 of 4)", "33% (1 of 3)", "log-softmax itself. 2 of 5 ex03",
                     "Summed the squared errors instead of averaging them", "Quiz: How losses scale 2 of 3 who answered",
                     "Does a mean-reduced MSE grow with the batch size?"):
        assert expected in text, expected
    assert [a["href"] for a in page.all("a") if a["href"].startswith("learners/")] == list(links.values())
    svg = html[html.index("<svg viewBox"):html.index("</svg>", html.index("<svg viewBox")) + 6]
    root, ns = ET.fromstring(svg), "{http://www.w3.org/2000/svg}"  # well-formed XML, not tag soup
    assert root.get("role") == "img" and root.find(f"{ns}title") is not None
    assert len(root.findall(f"{ns}rect")) == 4  # 0, 17 (twice), 25 and 100 %
    assert "0–10%: 1; 10–20%: 2; 20–30%: 1; 30–40%: 0;" in root.findtext(f"{ns}desc", "")
    for href in ("https://evil.example/x", "//evil.example/x", "/etc/passwd", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="relative path"):
            render_class_report(results, learner_links={"alice": href})


def test_untrusted_text_is_escaped_everywhere(results):
    mallory = results[4]
    for html in (render_learner_report(mallory),
                 render_class_report(results, learner_links={mallory.learner: "learners/m.html"}),
                 render_exercise_fragment(mallory.exercises[0])):
        assert "<script" not in html and "&lt;script&gt;" in html
        page = Page(html)
        assert_well_formed(page)
        assert XSS in page.body  # shown to the reader as text, exactly as it came
    text = Page(render_learner_report(mallory)).body
    for where in ("description", "message", "got", "printed", "name", "prompt", "myth", "reality", "quiz"):
        assert f"{where} {XSS}" in text, where


def test_fragment_is_a_div_drawn_by_the_same_macros(results):
    html = render_exercise_fragment(results[1].exercises[0])
    assert html.lstrip().startswith('<div class="lg lg-fragment">') and "<html" not in html
    page = Page(html)
    assert_well_formed(page)
    assert page.all("article", id="ex-ex01") and "Known misconception: Summed" in page.body


def test_write_reports_makes_safe_distinct_names_and_links_them(tmp_path, results):
    report = write_reports(tmp_path / "out", results)
    assert report == tmp_path / "out" / "report.html"
    files = sorted(p.name for p in (tmp_path / "out" / "learners").iterdir())
    assert files[:4] == ["alice.html", "bob.html", "carol.html", "dave.html"] and len(files) == 5
    assert files[4].startswith("script-alert--pwned----script-") and not any(f.startswith(".") for f in files)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted([*files, "report.html"])
    hrefs = [a["href"] for a in Page(report.read_text("utf-8")).all("a") if a["href"].startswith("learners/")]
    assert all((report.parent / href).is_file() for href in hrefs) and len(hrefs) == 5
    with pytest.raises(ValueError, match="repeated: 'alice'"):
        write_reports(tmp_path, [results[0], results[0]])


def test_given_next_steps_replace_the_advice_and_show_code(results):
    html = render_learner_report(results[1], next_steps=["Read `chapter <3>` <now>"])
    assert "<li>Read <code>chapter &lt;3&gt;</code> &lt;now&gt;</li>" in html and "Continue with" not in html


def test_an_empty_class_renders():
    page = Page(render_class_report([], learner_links={}))
    assert_well_formed(page)
    assert "No exercises were graded." in page.body and "No quiz question was missed." in page.body


def test_reports_from_real_grading(tmp_path):
    """The runner's own results for ex01, graded in-process (our code only): the reference,
    a catalogued mistake and the untouched stub, written as reports and read back."""
    from lossgrade.course import catalog
    from lossgrade import misconceptions
    from lossgrade.grading import runner
    from lossgrade.sandbox.inprocess import InProcessLearner

    exercise = catalog.resolve("ex01")
    mistake = misconceptions.by_id("ex01_mse", "ex01.sum-not-mean")

    def grade(**functions: object) -> ExerciseResult:
        module = types.ModuleType("ex01_inprocess")
        module.__dict__.update(vars(runner.reference(exercise)), **functions)
        return runner.run_checks(exercise, InProcessLearner(module, exercise.functions))

    def stub(*args: object, **kwargs: object) -> None:
        raise NotImplementedError

    learners = {"ref": grade(), "summed": grade(mse_loss=mistake.wrong), "stub": grade(mse_loss=stub)}
    report = write_reports(tmp_path, [SubmissionResult(k, [v]) for k, v in learners.items()])
    assert [e.status for e in learners.values()] == [Status.PASSED, Status.FAILED, Status.NOT_STARTED]
    page = Page(report.read_text("utf-8"))
    assert_well_formed(page)
    assert f"{mistake.name} {mistake.message} 1 of 3 ex01" in page.body
    summed = Page((tmp_path / "learners" / "summed.html").read_text("utf-8"))
    assert_well_formed(summed)
    assert summed.body.count(f"Known misconception: {mistake.name}") == 1
    assert "Expected tensor(0.2875" in summed.body
    assert "Myth-buster: lossgrade quiz loss-scales" in summed.body


@pytest.mark.parametrize("visibility, due, shown, sentence", [
    ("visible", None, True, None),
    ("after_published", None, True, None),
    ("after_due_date", "2026-12-01T23:59:00+00:00", False, "released after its due date, 2026-12-01 23:59 UTC"),
    ("after_due_date", "2026-11-01T23:59:00+00:00", True, None),
    ("after_due_date", None, False, "which the course has not set yet"),
    ("hidden", "2026-11-01T23:59:00+00:00", False, "go to your instructor only"),
])
def test_learner_reports_show_an_exercise_only_once_its_visibility_allows(tmp_path, monkeypatch, results,
                                                                          visibility, due, shown, sentence):
    import dataclasses
    import datetime

    from lossgrade.course import catalog

    resolve = catalog.resolve
    ex03 = dataclasses.replace(resolve("ex03"), visibility=visibility,
                               due=datetime.datetime.fromisoformat(due) if due else None)
    monkeypatch.setattr(catalog, "resolve", lambda text: ex03 if text == "ex03" else resolve(text))
    now = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.timezone.utc)
    bob = results[1]  # ex01 failed with 5 of 10 points, ex03 failed with 0 of 10
    report = write_reports(tmp_path, [bob], now=now)
    page = Page((tmp_path / "learners" / "bob.html").read_text("utf-8"))
    assert_well_formed(page)
    assert bool(page.all("article", id="ex-ex03")) is shown
    assert ("Softmax before cross-entropy" in page.body) is shown  # its misconception goes with it
    assert ("5 / 30" if shown else "5 / 10") in page.body  # the points count only what is shown
    if sentence:
        assert "Not released yet Graded, but not shown here" in page.body
        assert f"ex03 ({CE}): its results" in page.body and sentence in page.body
    else:
        assert "Not released yet" not in page.body
    assert Page(report.read_text("utf-8")).all("a", href="learners/bob.html")
    assert "Softmax before cross-entropy" in Page(report.read_text("utf-8")).body  # the instructor sees all
