"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright.

Without Chromium these tests fail; they never skip.
"""

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from playwright.sync_api import sync_playwright

from tests.otp import verify_second_factor

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop on this thread; the test's own database calls
    # are still synchronous, so Django's guard against async misuse does not apply.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_as(browser, live_server):
    """page_as(user, path=None, width=1280): a page logged in as `user` on the live server
    (user None: logged out).

    Every request for anything not served by the portal itself is refused and recorded in
    `page_as.foreign_requests`: the portal must work without a CDN or network.
    """
    contexts = []
    foreign_requests = []

    def guard(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            foreign_requests.append(route.request.url)
            route.abort()

    def open_page(user, path=None, width=1280):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, base_url=live_server.url
        )
        if user is not None:
            client = Client()
            client.force_login(user)
            verify_second_factor(client, user)
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                        "url": live_server.url,
                    }
                ]
            )
        context.route("**/*", guard)
        contexts.append(context)
        page = context.new_page()
        if path:
            page.goto(path)
        return page

    open_page.foreign_requests = foreign_requests
    # For whoever keeps evidence of a failed test (tests/journeys/conftest.py).
    open_page.contexts = contexts
    yield open_page
    for context in contexts:
        context.close()
    # Database work done while Playwright's loop ran got connections of its own context.
    connections.close_all()
