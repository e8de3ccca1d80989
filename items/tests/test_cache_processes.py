"""
Two server processes sharing PostgreSQL and Redis, as two instances behind a load balancer:
a write through one shows at once in the other's cached pages, and every account event that
ends a token ends it at once in the other, which had the user in its authentication cache.
"""

import pytest

from testing.servers import Gunicorn, manage, server_env


@pytest.fixture
def two_servers(database_url, redis_url, tmp_path):
    # Sign-ups and sign-ins are how users are made here, a dozen of them.
    env = server_env(
        database_url=database_url,
        redis_url=redis_url,
        THROTTLE_LOGIN_RATE="1000/min",
        THROTTLE_REGISTER_RATE="1000/min",
    )
    manage(env, "migrate", "--no-input")
    servers = []
    try:
        for n in (1, 2):
            servers.append(Gunicorn(env, tmp_path / f"server-{n}.log", workers=1, threads=2))
            servers[-1].start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def call(server, method, path, body=None, token=None):
    response = server.request(method, f"/api/v1/{path}", body=body, token=token)
    return response.status, response.json() if response.body else None


def sign_up(server, email):
    password = "a-long-enough-passphrase-1"
    assert call(server, "POST", "auth/register/", {"email": email, "password": password})[0] == 201
    status, tokens = call(server, "POST", "auth/token/", {"email": email, "password": password})
    assert status == 200
    return tokens["access"]


def titles(server, path, token):
    status, body = call(server, "GET", path, token=token)
    assert status == 200, body
    return [row["title"] for row in body["results"]] if "results" in body else body["title"]


def test_writes_in_one_process_show_at_once_in_the_other(two_servers):
    a, b = two_servers
    alice = sign_up(a, "alice@example.com")
    bob = sign_up(b, "bob@example.com")

    # Both processes cache alice's empty list.
    assert titles(a, "items/", alice) == titles(b, "items/", alice) == []

    status, item = call(a, "POST", "items/", {"title": "first"}, token=alice)
    assert status == 201
    assert titles(b, "items/", alice) == ["first"]
    assert titles(b, f"items/{item['id']}/", alice) == "first"
    assert titles(a, f"items/{item['id']}/", alice) == "first"

    assert call(b, "PATCH", f"items/{item['id']}/", {"title": "renamed"}, token=alice)[0] == 200
    assert titles(a, f"items/{item['id']}/", alice) == "renamed"
    assert titles(a, "items/", alice) == ["renamed"]

    # Same URL, another user, another process: never alice's page.
    assert titles(b, "items/", bob) == []
    assert call(b, "GET", f"items/{item['id']}/", token=bob)[0] == 404

    assert call(a, "DELETE", f"items/{item['id']}/", token=alice)[0] == 204
    assert titles(b, "items/", alice) == []
    assert call(b, "GET", f"items/{item['id']}/", token=alice)[0] == 404


def test_account_changes_show_at_once_in_the_other_process(two_servers):
    a, b = two_servers
    token = sign_up(a, "carol@example.com")

    def full_name(server):
        status, me = call(server, "GET", "users/me/", token=token)
        assert status == 200, me
        return me["full_name"]

    # Both processes store carol's account page.
    assert full_name(a) == full_name(b) == full_name(b) == ""
    assert call(a, "PATCH", "users/me/", {"full_name": "Carol"}, token=token)[0] == 200
    assert full_name(b) == "Carol"
    # A queryset update in a third process, which sends no signal.
    run_shell(
        a,
        "from accounts.models import User; "
        "User.objects.filter(email='carol@example.com').update(full_name='Carol B')",
    )
    assert full_name(b) == full_name(a) == "Carol B"


PASSWORD = "a-long-enough-passphrase-1"


def run_shell(server, code):
    """Run `code` in a third process (as the admin site or a command would)."""
    return manage(server.env, "shell", "-c", code)


def user_id(server, token):
    status, me = call(server, "GET", "users/me/", token=token)
    assert status == 200, me
    return me["id"]


def assert_cached_and_alive(servers, token):
    for server in servers:
        for path in ("users/me/", "items/", "users/me/"):
            assert call(server, "GET", path, token=token)[0] == 200


def assert_ended(server, token):
    for path in ("users/me/", "items/"):
        assert call(server, "GET", path, token=token)[0] == 401, path


def test_account_events_end_tokens_at_once_in_the_other_process(two_servers):
    a, b = two_servers
    admin = sign_up(a, "admin@example.com")
    run_shell(
        a,
        "from accounts.models import User; u = User.objects.get(email='admin@example.com'); "
        "u.is_superuser = True; u.save()",
    )

    # Password change.
    token = sign_up(a, "password@example.com")
    assert_cached_and_alive([a, b], token)
    body = {"current_password": PASSWORD, "new_password": "another-long-passphrase-2"}
    assert call(a, "POST", "users/me/password/", body, token=token)[0] == 204
    assert_ended(b, token)

    # Password reset, from a third process.
    token = sign_up(a, "reset@example.com")
    assert_cached_and_alive([a, b], token)
    run_shell(
        a,
        "from django.contrib.auth.tokens import default_token_generator as tokens; "
        "from django.utils.http import urlsafe_base64_encode; "
        "from accounts import services; from accounts.models import User; "
        "u = User.objects.get(email='reset@example.com'); "
        "services.password_reset_confirm(uid=urlsafe_base64_encode(str(u.pk).encode()), "
        "token=tokens.make_token(u), new_password='another-long-passphrase-2')",
    )
    assert_ended(b, token)

    # Email change: requested through one process, confirmed by its link in a third.
    token = sign_up(a, "old@example.com")
    body = {"new_email": "new@example.com", "current_password": PASSWORD}
    assert call(a, "POST", "users/me/email/", body, token=token)[0] == 202
    assert_cached_and_alive([a, b], token)
    run_shell(
        a,
        "from accounts import links, services; from accounts.models import User; "
        "from accounts.tokens import token_fingerprint; "
        "u = User.objects.get(email='old@example.com'); "
        "services.email_change_confirm(token=links.make(links.CHANGE_EMAIL_SALT, "
        "user=str(u.pk), email='new@example.com', "
        "requested=u.email_change_requested_at.isoformat(), fingerprint=token_fingerprint(u)))",
    )
    assert_ended(b, token)

    # Signing out everywhere, on one device through one process: the other device's access
    # and refresh tokens end at once in the other process.
    token = sign_up(a, "everywhere@example.com")
    body = {"email": "everywhere@example.com", "password": PASSWORD}
    status, other_device = call(b, "POST", "auth/token/", body)
    assert status == 200
    assert_cached_and_alive([a, b], token)
    assert_cached_and_alive([a, b], other_device["access"])
    assert call(a, "POST", "auth/logout/all/", token=token)[0] == 204
    assert_ended(b, token)
    assert_ended(b, other_device["access"])
    assert call(b, "POST", "auth/token/refresh/", {"refresh": other_device["refresh"]})[0] == 401

    # A queryset update in a third process, which sends no signal.
    token = sign_up(a, "bulk@example.com")
    assert_cached_and_alive([a, b], token)
    run_shell(
        a,
        "from accounts.models import User; "
        "User.objects.filter(email='bulk@example.com').update(is_active=False)",
    )
    assert_ended(b, token)

    # Deactivation and deletion by a superuser.
    for method, body in (("PATCH", {"is_active": False}), ("DELETE", None)):
        token = sign_up(a, f"{method.lower()}@example.com")
        assert_cached_and_alive([a, b], token)
        status, _ = call(a, method, f"users/{user_id(a, token)}/", body, token=admin)
        assert status in (200, 204)
        assert_ended(b, token)

    # A superuser flag removed: the trash is refused at once.
    token = sign_up(a, "demoted@example.com")
    run_shell(
        a,
        "from accounts.models import User; u = User.objects.get(email='demoted@example.com'); "
        "u.is_superuser = True; u.save()",
    )
    for server in (a, b):
        assert call(server, "GET", "items/deleted/", token=token)[0] == 200
    body = {"is_superuser": False}
    assert call(a, "PATCH", f"users/{user_id(a, token)}/", body, token=admin)[0] == 200
    assert call(b, "GET", "items/deleted/", token=token)[0] == 403
