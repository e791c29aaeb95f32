"""Customer and admin journeys in headless Chromium, with three guards on every page:

- axe-core (shipped inside the axe-playwright-python package, so nothing is fetched) finds
  no serious or critical accessibility violation;
- the browser console shows no error and no script fails;
- every page load is checked: a load that no test step checked fails the test.

When a test fails, a screenshot and the HTML of each of its pages are kept under
test-artifacts/<test name>/ for whoever has to find out why.
"""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT as AXE_SOURCE

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
# `make screenshots` refreshes the README's pictures; an ordinary test run keeps its own under
# test-artifacts/, so `make test` leaves the work tree as it found it.
SCREENSHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else ARTIFACTS / "screenshots"
)
BLOCKING_IMPACTS = {"serious", "critical"}


class WatchedPage:
    """What the browser said about one page while the test drove it."""

    def __init__(self, page):
        self.page = page
        self.console_errors = []  # (text, url of the script or document that logged it)
        self.unchecked_loads = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append((f"{error}", "")))
        page.on("load", lambda loaded: self.unchecked_loads.append(loaded.url))

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def errors(self, expected_status):
        # Chromium logs a document answered with an error status (the not-found page, a form
        # sent back with its errors): expected when the step says so, for that document only.
        expected = f"the server responded with a status of {expected_status} "
        return [
            f"{text} ({url})"
            for text, url in self.console_errors
            if not (expected_status and expected in text and url == self.page.url)
        ]


_watched = {}


def watched(page):
    return _watched[id(page)]


def accessibility_problems(page):
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    problems = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        targets = "; ".join(
            f"{', '.join(map(str, node['target']))}: {node['html'][:160]}"
            for node in violation["nodes"]
        )
        problems.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} [{targets}]"
        )
    return problems


def check(page, expected_status=None):
    """The page as it is now passes axe-core and the console holds no error.

    expected_status: the HTTP status of the page when the journey means to reach an error
    status (404 for the not-found page, 400 for a form sent back with its errors).
    """
    watch = watched(page)
    page.wait_for_load_state("load")
    problems = accessibility_problems(page)
    assert not problems, f"axe-core on {page.url}:\n" + "\n".join(problems)
    errors = watch.errors(expected_status)
    assert not errors, f"console on {page.url}:\n" + "\n".join(errors)
    watch.console_errors.clear()
    watch.unchecked_loads.clear()
    return page


@pytest.fixture
def open_page(page_as, request):
    """open_page(user, path=None, width=1280): page_as() with the guards above.

    Call check(page) after every step that loads a page; the fixture fails the test for any
    load left unchecked and for console errors seen after the last check.
    """
    pages = []

    def open_(user, path=None, width=1280):
        page = page_as(user, width=width)
        # Injected into every document before its own scripts, whatever its CSP says.
        page.add_init_script(script=AXE_SOURCE)
        _watched[id(page)] = WatchedPage(page)
        pages.append(page)
        if path:
            page.goto(path)
            check(page)
        return page

    yield open_
    if getattr(request.node, "journey_failed", False):
        return  # the failure itself is the news; its evidence is already kept
    problems = []
    for page in pages:
        watch = _watched.pop(id(page))
        if watch.unchecked_loads:
            problems.append(f"pages loaded but never checked: {watch.unchecked_loads}")
        if watch.console_errors:
            problems.append(f"console errors: {watch.errors(None)}")
    if problems:
        keep_artifacts(request.node, page_as)
        pytest.fail("\n".join(problems))


def artifact_dir(item):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", item.nodeid.split("::", 1)[-1]).strip("-")
    return ARTIFACTS / name


def keep_artifacts(item, page_as):
    folder = artifact_dir(item)
    folder.mkdir(parents=True, exist_ok=True)
    number = 0
    for context in getattr(page_as, "contexts", []):
        for page in context.pages:
            number += 1
            try:
                page.screenshot(path=str(folder / f"page{number}.png"), full_page=True)
                (folder / f"page{number}.html").write_text(
                    f"<!-- {page.url} -->\n{page.content()}", encoding="utf-8"
                )
            except Exception as exc:  # a crashed page must not hide the test's own failure
                (folder / f"page{number}.error.txt").write_text(f"{page.url}: {exc}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.journey_failed = True
        page_as = item.funcargs.get("page_as")
        if page_as is not None:
            keep_artifacts(item, page_as)
            report.sections.append(("artifacts", str(artifact_dir(item))))
    return report


def save_screenshot(page, name):
    """A picture for the README, taken from the page as the journey left it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
