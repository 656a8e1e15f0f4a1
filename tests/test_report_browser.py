"""The reports in a real browser: headless chromium opens the class report and learner
reports, the test finds the key elements, and sees no console error, no network request and
no script running (not even a hostile learner id's), on a desktop and a phone screen.
Screenshots and a printed PDF go to $LOSSGRADE_ARTIFACTS (a temporary folder by default).

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages ending in NUL on the child's fds 3 and 4), which needs no port, no websocket and
no client library. A first test proves the harness sees a network request and a console
error when there is one, so the "none" that the other tests assert means something.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lossgrade.output.html import write_reports
from test_render_html import XSS, sample_class

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (`apt-get install -y chromium`; .ci/run does)"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--mute-audio"]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False}
Message = dict[str, Any]


class Browser:
    """One chromium process and its DevTools pipe; every event is kept for the asserts."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        theirs_in, self._out = os.pipe()
        self._in, theirs_out = os.pipe()
        # Lift the child's ends above fd 4 so that placing them on 3 and 4 cannot clobber one.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (theirs_in, theirs_out)]
        self.log = profile / "chromium.log"
        actions = [(os.POSIX_SPAWN_DUP2, high[0], 3), (os.POSIX_SPAWN_DUP2, high[1], 4),
                   (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 2, str(self.log), os.O_WRONLY | os.O_CREAT, 0o644)]
        argv = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self.pid = os.posix_spawn(CHROMIUM, argv, os.environ, file_actions=actions)
        for fd in (theirs_in, theirs_out, *high):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[Message] = []

    def send(self, method: str, session: str | None = None, **params: Any) -> Message:
        self._next_id += 1
        message: Message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._out, data):]
        reply = self.wait(lambda m: m.get("id") == message["id"])
        assert "error" not in reply, (method, reply)
        return reply["result"]  # type: ignore[no-any-return]

    def wait(self, matches: Callable[[Message], bool], timeout: float = 15.0) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if matches(message):
                    return message  # type: ignore[no-any-return]
            if not select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError(f"chromium did not answer; its log: {self.log}")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited; its log: {self.log}")
            self._buffer += chunk

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        for _ in range(50):
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self._in)
        os.close(self._out)


class Tab:
    """A page opened in its own target, with what it logged and fetched."""

    def __init__(self, browser: Browser, url: str, screen: dict[str, Any]) -> None:
        self.browser, self.url = browser, url
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", self.session)
        browser.send("Emulation.setDeviceMetricsOverride", self.session, **screen)
        browser.send("Page.navigate", self.session, url=url)
        browser.wait(lambda m: m.get("method") == "Page.loadEventFired"
                     and m.get("sessionId") == self.session)

    def js(self, expression: str) -> Any:
        reply = self.browser.send("Runtime.evaluate", self.session, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in reply, reply
        return reply["result"].get("value")

    def _events(self, *methods: str) -> list[dict[str, Any]]:
        return [e["params"] for e in self.browser.events
                if e.get("sessionId") == self.session and e["method"] in methods]

    @property
    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and dialogs a script opened."""
        found = [f"console.{p['type']}: {p['args']}" for p in self._events("Runtime.consoleAPICalled")
                 if p["type"] in ("error", "warning", "assert")]
        found += [f"exception: {p['exceptionDetails']}" for p in self._events("Runtime.exceptionThrown")]
        found += [f"log {p['entry']['level']}: {p['entry']['text']}" for p in self._events("Log.entryAdded")
                  if p["entry"]["level"] in ("error", "warning")]
        return found + [f"dialog: {p['message']}" for p in self._events("Page.javascriptDialogOpening")]

    @property
    def requests(self) -> list[str]:
        """Every URL the page asked for, except the page itself."""
        return [p["request"]["url"] for p in self._events("Network.requestWillBeSent")
                if p["request"]["url"] != self.url]

    def screenshot(self, path: Path, screen: dict[str, Any]) -> None:
        """The whole page: the viewport grows to the page's height, since chromium leaves
        scrolling boxes (our tables) blank beyond the viewport in a capture."""
        height = self.browser.send("Page.getLayoutMetrics", self.session)["cssContentSize"]["height"]
        tall = {**screen, "height": int(height)}
        self.browser.send("Emulation.setDeviceMetricsOverride", self.session, **tall)
        shot = self.browser.send("Page.captureScreenshot", self.session, format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        self.browser.send("Emulation.setDeviceMetricsOverride", self.session, **screen)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("LOSSGRADE_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="lossgrade-chromium-") as profile:
        running = Browser(Path(profile))
        try:
            yield running
        finally:
            running.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_reports(tmp_path_factory.mktemp("reports"), sample_class())


def test_the_harness_sees_requests_and_console_errors(browser, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script>')
    tab = Tab(browser, bad.as_uri(), DESKTOP)
    assert tab.requests == ["http://127.0.0.1:9/x.png"]
    assert any("boom" in problem for problem in tab.problems)


def test_class_report_in_a_browser(browser, reports, artifacts):
    for name, screen in (("desktop", DESKTOP), ("phone", PHONE)):
        tab = Tab(browser, reports.as_uri(), screen)
        assert tab.js("document.querySelector('h1').textContent") == "Class report"
        assert tab.js("document.querySelectorAll('main section h2').length") == 7  # Needs a look, then the six sections
        assert tab.js("document.querySelector('#distribution ~ figure svg[role=img] rect.bar') !== null")
        assert tab.js("document.querySelectorAll('table th[scope=col]').length") >= 15
        hrefs = tab.js("[...document.querySelectorAll('a[href^=\"learners/\"]')].map(a => a.href)")
        assert len(hrefs) == 5 and all(Path(href.removeprefix("file://")).is_file() for href in hrefs)
        # The page never scrolls sideways; wide tables scroll inside their own frame.
        assert tab.js("document.documentElement.scrollWidth <= window.innerWidth")
        assert tab.js("document.scripts.length") == 0
        tab.screenshot(artifacts / f"class-report-{name}.png", screen)
        assert tab.problems == [] and tab.requests == []


def test_learner_report_in_a_browser(browser, reports, artifacts):
    bob = reports.parent / "learners" / "bob.html"
    for name, screen in (("desktop", DESKTOP), ("phone", PHONE)):
        tab = Tab(browser, bob.as_uri(), screen)
        assert tab.js("document.querySelector('h1').textContent") == "bob"
        headings = tab.js("[...document.querySelectorAll('h2')].map(h => h.id)")
        assert headings == ["next", "progress", "exercises", "misconceptions", "quizzes"]
        assert "Known misconception: Summed the squared errors" in tab.js("document.body.innerText")
        assert tab.js("document.documentElement.scrollWidth <= window.innerWidth")
        tab.screenshot(artifacts / f"learner-report-{name}.png", screen)
        assert tab.problems == [] and tab.requests == []
    tab.browser.send("Emulation.setEmulatedMedia", tab.session, media="print")
    assert tab.js("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
    pdf = tab.browser.send("Page.printToPDF", tab.session, printBackground=True)["data"]
    (artifacts / "learner-report.pdf").write_bytes(base64.b64decode(pdf))


def test_hostile_learner_id_is_shown_not_run(browser, reports, artifacts):
    [hostile] = [p for p in (reports.parent / "learners").iterdir() if p.name.startswith("script-")]
    tab = Tab(browser, hostile.as_uri(), DESKTOP)
    assert tab.js("document.querySelector('h1').textContent") == f"../../{XSS}"
    assert tab.js("document.title").startswith(f"../../{XSS}")
    assert tab.js("document.scripts.length") == 0
    tab.screenshot(artifacts / "learner-report-hostile.png", DESKTOP)
    assert tab.problems == [] and tab.requests == []
