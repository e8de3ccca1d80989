"""
Cookie mode (`JWT_REFRESH_COOKIE=true`) in a real browser: Debian's Chromium, driven by
Playwright, runs the SPA of `browser_spa/index.html` from an origin of its own (another port
on 127.0.0.1) against the production server (gunicorn, `DJANGO_DEBUG=false`, so the cookie is
`Secure`) with that origin in `CORS_ALLOWED_ORIGINS`.

http://127.0.0.1 is a secure context to browsers, so a `Secure` cookie works there without TLS.
Two ports of 127.0.0.1 are two origins but one site, like app.example.com and api.example.com,
so a `SameSite=Lax` cookie goes with the SPA's requests. A second static server on another port
plays a page of that site whose origin is not allowed.
"""

import shutil
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testing.servers import issue_tokens, server_env
from testing.services import HOST, require_service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Root in a container needs --no-sandbox; the rest keeps Chromium from calling home.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SPA_DIRECTORY = Path(__file__).parent / "browser_spa"
PASSWORD = "Reliability-passw0rd!"  # the accounts' (issue_tokens --password)
COOKIE = "refresh_token"
COOKIE_PATH = "/api/v1/auth/"
TIMEOUT_MS = 15_000


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve_spa():
    """A static file server for the SPA on a free port; returns (origin, server)."""
    handler = partial(QuietHandler, directory=str(SPA_DIRECTORY))
    httpd = ThreadingHTTPServer((HOST, 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://{HOST}:{httpd.server_address[1]}", httpd


@pytest.fixture(scope="module")
def spa_origins():
    """(the SPA's allowed origin, another origin of the same site that is not allowed)."""
    (allowed, first), (stranger, second) = serve_spa(), serve_spa()
    yield allowed, stranger
    for httpd in (first, second):
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server(module_database_url, module_redis, start_server, spa_origins):
    allowed, _ = spa_origins
    env = server_env(
        database_url=module_database_url,
        redis_url=module_redis.url,
        JWT_REFRESH_COOKIE="true",
        CORS_ALLOWED_ORIGINS=allowed,
        THROTTLE_LOGIN_RATE="1000/min",  # every test signs in from 127.0.0.1
    )
    server = start_server(env)
    server.env = env
    server.origin = f"http://{HOST}:{server.port}"
    return server


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        require_service("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        require_service("Playwright for Python", exc)
    with sync_playwright() as playwright:
        try:
            # A fresh temporary profile, removed on close.
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
        except Error as exc:
            require_service("Chromium", exc)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh cookie jar and storage for each test."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(scope="module")
def accounts(server):
    """Fresh accounts, one per test, made together: each `manage.py` run costs seconds."""
    emails = [f"spa-{n}@example.com" for n in range(8)]
    return iter(issue_tokens(server.env, emails, password=PASSWORD))


@pytest.fixture
def account(accounts):
    return next(accounts)


def open_spa(context, server, origin):
    """The SPA at `origin`, loaded; its start-up refresh has settled."""
    page = context.new_page()
    page.goto(f"{origin}/index.html?api={server.origin}")
    page.evaluate("app.ready")
    return page


def refresh_cookie(context):
    cookies = [cookie for cookie in context.cookies() if cookie["name"] == COOKIE]
    assert len(cookies) <= 1, cookies
    return cookies[0] if cookies else None


def sign_in(page, account):
    result = page.evaluate(
        "([email, password]) => app.signIn(email, password)", [account["email"], PASSWORD]
    )
    assert result["status"] == 200, result
    return result


def test_sign_in_hides_the_refresh_token_from_scripts(context, server, spa_origins, account):
    page = open_spa(context, server, spa_origins[0])
    assert page.text_content("#status") == "Signed out"
    page.fill("input[name=email]", account["email"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('Signed in')")
    assert page.text_content("#status") == f"Signed in as {account['email']}"

    cookie = refresh_cookie(context)
    assert cookie is not None
    assert (cookie["domain"], cookie["path"]) == (HOST, COOKIE_PATH)
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Lax")
    assert 6.9 * 86400 < cookie["expires"] - time.time() <= 7 * 86400  # the refresh lifetime
    # Nothing about the session is readable by the page's scripts or stored by it.
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert set(sign_in(page, account)["body"]) == {"access"}

    # On a page of the API where the cookie applies, scripts see their own cookies but not it.
    api_page = context.new_page()
    api_page.goto(f"{server.origin}{COOKIE_PATH}token/refresh/")  # a JSON 405 page
    api_page.evaluate(f"document.cookie = 'visible=1; path={COOKIE_PATH}'")
    assert api_page.evaluate("document.cookie") == "visible=1"


def test_a_reload_signs_in_again_from_the_cookie_alone(context, server, spa_origins, account):
    for title in ("first", "second"):
        server.request("POST", "/api/v1/items/", body={"title": title}, token=account["access"])
    page = open_spa(context, server, spa_origins[0])
    sign_in(page, account)
    issued = refresh_cookie(context)["value"]

    page.reload()
    assert page.evaluate("app.ready")["email"] == account["email"]
    assert page.evaluate("app.hasAccessToken()")
    rotated = refresh_cookie(context)["value"]
    assert rotated != issued
    assert sorted(page.locator("#items li").all_text_contents()) == ["first", "second"]

    items = page.evaluate("app.listItems()")
    renamed = page.evaluate(
        "([id]) => app.renameItem(id, 'renamed in the browser')", [items[0]["id"]]
    )
    assert renamed["status"] == 200, renamed
    stored = server.request("GET", f"/api/v1/items/{items[0]['id']}/", token=account["access"])
    assert stored.json()["title"] == "renamed in the browser"

    # An access token that expired meanwhile: the SPA refreshes on the 401 and carries on.
    page.evaluate("app.spoilAccessToken()")
    assert len(page.evaluate("app.listItems()")) == 2
    assert refresh_cookie(context)["value"] != rotated
    # The old cookie values were blacklisted as they rotated.
    refused = server.request("POST", "/api/v1/auth/token/refresh/", body={"refresh": issued})
    assert refused.status == 401, refused


def test_signing_out_ends_the_cookie(context, server, spa_origins, account):
    page = open_spa(context, server, spa_origins[0])
    sign_in(page, account)
    token = refresh_cookie(context)["value"]

    assert page.evaluate("app.signOut()") == 204
    assert refresh_cookie(context) is None
    assert page.evaluate("app.refresh()") is False
    page.reload()
    assert page.evaluate("app.ready") is None
    assert page.text_content("#status") == "Signed out"
    refused = server.request("POST", "/api/v1/auth/token/refresh/", body={"refresh": token})
    assert refused.status == 401, refused


def test_a_page_from_an_origin_not_allowed_cannot_use_the_cookie(
    context, server, spa_origins, account
):
    allowed, stranger = spa_origins
    sign_in(open_spa(context, server, allowed), account)
    token = refresh_cookie(context)["value"]

    page = open_spa(context, server, stranger)
    assert page.text_content("#status") == "Signed out"
    # The CORS preflight fails, so the browser never sends the refresh request itself.
    failure = page.evaluate("app.refresh().then(() => 'refreshed', (error) => error.name)")
    assert failure == "TypeError"
    # A request that needs no preflight reaches the API with the cookie and is refused there:
    # no JSON body (a script's text/plain body, a plain form post).
    page.evaluate(
        """([url]) => fetch(url, {method: "POST", mode: "no-cors", credentials: "include",
                                 headers: {"Content-Type": "text/plain"}, body: "{}"})""",
        [f"{server.origin}{COOKIE_PATH}token/refresh/"],
    )
    with page.expect_navigation():
        page.evaluate(
            """([url]) => {
                const form = document.createElement("form");
                form.method = "POST";
                form.action = url;
                document.body.append(form);
                form.submit();
            }""",
            [f"{server.origin}{COOKIE_PATH}token/refresh/"],
        )
    assert "allowed origin" in page.text_content("body")
    assert refresh_cookie(context)["value"] == token  # neither rotated nor blacklisted

    back = open_spa(context, server, allowed)
    assert back.evaluate("app.hasAccessToken()")
    assert refresh_cookie(context)["value"] != token
