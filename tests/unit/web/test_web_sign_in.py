"""Sign-in against the real enrollment API: accounts, lockout, CSRF, sessions, reset links."""

from __future__ import annotations

import datetime as dt
import re
import threading
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from web_support import csrf_from, sign_in_as
from werkzeug.serving import make_server

from services.eventkit import config
from services.eventkit.auth import COORDINATOR, MENTEE, Grant, TokenSigner
from web import accounts as accounts_module
from web import auth, cli, db, identity
from web.accounts import password_problem
from web.app import create_app
from web.identity import safe_next

PASSWORD = "correct horse battery 9"
CORA = "cora@northfield.example"
PAT = "pat@northfield.example"


class Clock:
    """Stands in for web.accounts.utcnow, so tests can move time."""

    def __init__(self) -> None:
        self.now = dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(accounts_module, "utcnow", fake)
    return fake


@pytest.fixture
def people(enrollment) -> dict[str, str]:
    """An institution with a coordinator (Cora) and a person with no role yet (Pat)."""
    institution = enrollment.institution("Northfield University Hospital", "NUH")
    cora = enrollment.person(institution, CORA.upper(), name="Cora Ordinator")
    enrollment.grant(cora, COORDINATOR, institution)
    pat = enrollment.person(institution, PAT, name="Pat Person")
    return {"institution": institution, "cora": cora, "pat": pat}


def invite(email: str, capsys) -> str:
    """`tandem web account --email` and the path of the link it prints."""
    assert cli.account(email) == 0
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:")
    return urlsplit(link).path


def set_password(client, path: str, password: str, confirm: str | None = None):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_from(page.text), "password": password}
    data["confirm"] = password if confirm is None else confirm
    return client.post(path, data=data)


def sign_in(client, email: str, password: str, next_url: str | None = None):
    token = csrf_from(client.get("/sign-in").text)
    path = "/sign-in" + (f"?next={quote(next_url, safe='')}" if next_url is not None else "")
    return client.post(path, data={"csrf_token": token, "email": email, "password": password})


@pytest.fixture
def cora_client(make_client, people, capsys):
    """A client, and Cora's account with PASSWORD set through her invitation link."""
    client = make_client()
    response = set_password(client, invite(CORA, capsys), PASSWORD)
    assert response.status_code == 302
    return client


def stored_hash(person_id: str) -> str:
    engine = sa.create_engine(db.database_url())
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(db.accounts.c.password_hash).where(db.accounts.c.person_id == person_id)
        ).scalar_one()
    engine.dispose()
    return value


class LocalMail:
    """The real notifications API (no SMTP server: mail is kept in its local outbox)."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime

    def links(self, subject: str = "Reset your Tandem password") -> list[str]:
        """The links in the kept mail with this subject, oldest first (after a sender round)."""
        from services.notifications import delivery
        from services.notifications import readmodels as rm

        delivery.Sender(self.runtime, delivery.DeliverySettings(smtp=None)).run_once()
        m = rm.local_mail
        with self.runtime.reading() as conn:
            rows = conn.execute(sa.select(m).where(m.c.subject == subject).order_by(m.c.kept_at))
            return [link for r in rows for link in re.findall(r"http://\S+", r.text_body)]


@pytest.fixture
def notifications(tmp_path, point, web_env) -> LocalMail:
    from services.eventkit.migrations import upgrade
    from services.notifications.app import create_app as create_notifications_app
    from services.notifications.service import SERVICE

    url = f"sqlite:///{tmp_path / 'notifications.db'}"
    upgrade(SERVICE.migrations, url)
    app = create_notifications_app(url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    point("notifications", f"http://127.0.0.1:{server.server_port}")
    try:
        yield LocalMail(app.extensions["tandem"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        app.extensions["tandem"].engine.dispose()


# -- signing in -------------------------------------------------------------------------


def test_sign_in_with_the_set_password_opens_the_home_page(cora_client, people):
    response = sign_in(cora_client, CORA, PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    with cora_client.session_transaction() as session:
        assert session["person_id"] == people["cora"]
        assert session["grants"] == [[COORDINATOR, people["institution"], None]]
    home = cora_client.get("/home")
    assert home.status_code == 200
    assert "Welcome, Cora Ordinator" in home.text
    assert "Coordinator" in home.text
    # The institution's name came from enrollment, asked with a token speaking for Cora.
    assert "Northfield University Hospital" in home.text
    assert cora_client.get("/status").status_code == 200


def test_email_is_matched_whatever_its_case(cora_client):
    assert sign_in(cora_client, "  Cora@NorthField.example ", PASSWORD).status_code == 302


def test_password_is_stored_as_an_argon2id_hash(cora_client, people):
    stored = stored_hash(people["cora"])

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_a_hash_with_old_parameters_is_upgraded_at_sign_in(cora_client, people):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    engine = sa.create_engine(db.database_url())
    with engine.begin() as conn:
        conn.execute(sa.update(db.accounts).values(password_hash=weak))
    engine.dispose()

    assert sign_in(cora_client, CORA, PASSWORD).status_code == 302

    upgraded = stored_hash(people["cora"])
    assert upgraded != weak
    assert upgraded.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(upgraded)


def test_a_wrong_password_is_refused(cora_client):
    response = sign_in(cora_client, CORA, "not the password 1")

    assert response.status_code == 401
    assert auth.WRONG in response.text
    assert 'role="alert"' in response.text
    with cora_client.session_transaction() as session:
        assert "person_id" not in session
    assert cora_client.get("/home").status_code == 302


def _shape(html: str) -> str:
    # The page without the parts that differ between any two requests.
    html = re.sub(r'value="[^"]*"', 'value=""', html)
    return re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": ""', html)


def test_an_unknown_email_gets_exactly_the_same_answer(cora_client):
    known = sign_in(cora_client, CORA, "not the password 1")
    unknown = sign_in(cora_client, "nobody@northfield.example", "not the password 1")

    assert known.status_code == unknown.status_code == 401
    assert _shape(known.text) == _shape(unknown.text)


def test_an_invited_person_without_a_password_gets_the_same_answer(make_client, people, capsys):
    client = make_client()
    invite(PAT, capsys)

    response = sign_in(client, PAT, "")
    assert response.status_code == 400  # the form asks for a password
    response = sign_in(client, PAT, "anything at all 1")
    assert response.status_code == 401
    assert auth.WRONG in response.text


def test_five_failures_lock_the_email_for_fifteen_minutes(cora_client, clock):
    statuses = [sign_in(cora_client, CORA, f"wrong password {i}").status_code for i in range(5)]

    assert statuses == [401, 401, 401, 401, 429]
    locked = sign_in(cora_client, CORA, PASSWORD)
    assert locked.status_code == 429
    assert auth.LOCKED in locked.text
    assert "15 minutes" in locked.text

    clock.advance(minutes=14, seconds=59)
    assert sign_in(cora_client, CORA, PASSWORD).status_code == 429

    clock.advance(seconds=2)
    assert sign_in(cora_client, CORA, PASSWORD).status_code == 302


def test_after_the_lock_the_count_starts_again(cora_client, clock):
    for i in range(5):
        sign_in(cora_client, CORA, f"wrong password {i}")
    clock.advance(minutes=16)

    statuses = [sign_in(cora_client, CORA, f"wrong again {i}").status_code for i in range(5)]

    assert statuses == [401, 401, 401, 401, 429]


def test_a_success_resets_the_count(cora_client, clock):
    for i in range(4):
        sign_in(cora_client, CORA, f"wrong password {i}")
    assert sign_in(cora_client, CORA, PASSWORD).status_code == 302
    cora_client.post("/sign-out", data={"csrf_token": csrf_from(cora_client.get("/home").text)})

    assert sign_in(cora_client, CORA, "wrong password x").status_code == 401


def test_unknown_emails_lock_exactly_like_known_ones(cora_client, clock):
    def attempts(email: str) -> list[tuple[int, str]]:
        answers = []
        for i in range(6):
            response = sign_in(cora_client, email, f"wrong password {i}")
            answers.append((response.status_code, _shape(response.text).replace(email, "EMAIL")))
        return answers

    assert attempts(CORA) == attempts("nobody@northfield.example")


def test_too_many_failures_from_one_address_are_refused(monkeypatch, make_client, people):
    monkeypatch.setattr(auth, "IP_FAILED_SIGN_INS", (3, 900))
    client = make_client()

    statuses = [
        sign_in(client, f"guess{i}@northfield.example", "a wrong password 1").status_code
        for i in range(4)
    ]

    assert statuses == [401, 401, 401, 429]
    assert auth.IP_LIMITED in sign_in(client, CORA, PASSWORD).text
    other = client.post(
        "/sign-in",
        data={"csrf_token": csrf_from(client.get("/sign-in").text), "email": CORA},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 400  # another address is not limited (here: no password)


def test_sign_in_fails_cleanly_when_enrollment_is_down(cora_client, point, dead_url):
    point("enrollment", dead_url)
    # A new app reads the new URL; the account and password are in the web's own database.
    client = create_app().test_client()

    response = sign_in(client, CORA, PASSWORD)

    assert response.status_code == 503
    assert auth.UNAVAILABLE in response.text
    with client.session_transaction() as session:
        assert "person_id" not in session


# -- sessions and CSRF --------------------------------------------------------------------


def test_session_cookie_is_secure_httponly_and_lax(cora_client):
    response = sign_in(cora_client, CORA, PASSWORD)

    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # bounded lifetime


def test_sign_in_starts_a_fresh_session(cora_client):
    old_token = csrf_from(cora_client.get("/sign-in").text)
    with cora_client.session_transaction() as session:
        session["planted"] = "by someone else"

    assert sign_in(cora_client, CORA, PASSWORD).status_code == 302

    with cora_client.session_transaction() as session:
        assert "planted" not in session
    # The CSRF token of before no longer works.
    assert cora_client.post("/sign-out", data={"csrf_token": old_token}).status_code == 400


@pytest.mark.parametrize("path", ["/sign-in", "/sign-out", "/password/forgot"])
def test_a_post_without_csrf_token_is_refused(make_client, path):
    client = make_client()
    client.get("/sign-in")

    response = client.post(path, data={"email": CORA, "password": PASSWORD})

    assert response.status_code == 400
    assert "This form could not be sent" in response.text
    assert "nothing was changed" in response.text


def test_a_post_with_a_forged_csrf_token_is_refused(cora_client):
    sign_in(cora_client, CORA, PASSWORD)

    response = cora_client.post("/sign-out", data={"csrf_token": "forged"})

    assert response.status_code == 400
    assert cora_client.get("/home").status_code == 200  # still signed in


def test_htmx_requests_send_the_token_in_a_header(cora_client):
    sign_in(cora_client, CORA, PASSWORD)
    html = cora_client.get("/home").text
    match = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", html)
    assert match

    assert cora_client.post("/sign-out", headers={"HX-Request": "true"}).status_code == 400
    response = cora_client.post(
        "/sign-out", headers={"HX-Request": "true", "X-CSRFToken": match.group(1)}
    )
    assert response.status_code == 302
    assert cora_client.get("/home").status_code == 302


def test_sign_out_ends_the_session(cora_client):
    sign_in(cora_client, CORA, PASSWORD)
    token = csrf_from(cora_client.get("/home").text)

    response = cora_client.post("/sign-out", data={"csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert "You have signed out." in cora_client.get("/sign-in").text
    assert cora_client.get("/home").headers["Location"] == "/sign-in?next=/home"


def test_a_revoked_role_is_gone_within_minutes(cora_client, enrollment, people, monkeypatch):
    sign_in(cora_client, CORA, PASSWORD)
    assert cora_client.get("/status").status_code == 200

    enrollment.revoke(people["cora"], COORDINATOR, people["institution"])
    monkeypatch.setattr(identity, "GRANTS_MAX_AGE_S", -1)

    assert cora_client.get("/status").status_code == 403


def test_service_token_speaks_for_the_signed_in_user(make_client):
    client = make_client()
    sign_in_as(client, Grant(MENTEE, "inst-1"), person_id="p-9", name="Mo Mentee")

    with client:  # keeps the request's context open after the response
        assert client.get("/home").status_code == 200
        token = identity.service_token()

    principal = TokenSigner(config.token_key()).verify(token)
    assert principal.user_id == "p-9"
    assert principal.name == "Mo Mentee"
    assert principal.grants == (Grant(MENTEE, "inst-1"),)


def test_service_token_needs_a_signed_in_user(make_client):
    client = make_client()

    with client:
        client.get("/")
        with pytest.raises(RuntimeError, match="signed-in user"):
            identity.service_token()


# -- where people may go ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aLocation:%20https://evil.example",
        "/\r\nLocation: https://evil.example",
        "http:/evil.example",
        "",
    ],
)
def test_next_never_leaves_the_site(cora_client, target):
    response = sign_in(cora_client, CORA, PASSWORD, next_url=target)

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/")
    assert not location.startswith("//")
    assert not any(c in location for c in "\\\r\n")
    assert urlsplit(location).netloc == ""
    assert urlsplit(location).scheme == ""


def test_next_returns_to_the_page_asked_for(make_client, cora_client):
    anonymous = make_client()
    redirect = anonymous.get("/status?tab=1")
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == "/sign-in?next=/status?tab%3D1"

    response = sign_in(cora_client, CORA, PASSWORD, next_url="/status?tab=1")
    assert response.headers["Location"] == "/status?tab=1"


def test_safe_next_rules():
    assert safe_next("/status") == "/status"
    assert safe_next("/home?x=1#top") == "/home?x=1#top"
    for bad in ("//x.example", "https://x.example", "/\\x.example", "x", "/a\nb", None):
        assert safe_next(bad) == "/home"


def test_anonymous_visitors_are_sent_to_sign_in(make_client):
    client = make_client()

    for path in ("/home", "/status"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in?next=")
    htmx = client.get("/status", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"] == "/sign-in?next=/status"
    for path in ("/", "/sign-in", "/password/forgot", "/healthz", "/static/tandem.css"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("grants", "status"),
    [
        ((Grant(MENTEE, "inst-1"),), 403),
        ((), 403),
        ((Grant(COORDINATOR, "inst-1"),), 200),
        ((Grant("consortium_admin"),), 200),
    ],
    ids=["mentee", "no-role", "coordinator", "admin"],
)
def test_status_is_for_staff_only(make_client, grants, status):
    client = make_client()
    sign_in_as(client, *grants)

    response = client.get("/status")

    assert response.status_code == status
    if status == 403:
        assert "Not available to you" in response.text
        assert 'href="/status"' not in response.text  # no nav link either


def test_home_lists_the_pages_of_each_role_held(make_client):
    client = make_client()
    sign_in_as(client, Grant(MENTEE, "inst-1"), Grant("mentor", "inst-1"), person_id="p-2")

    html = client.get("/home").text

    assert '<h2 id="role-mentor">Mentor</h2>' in html
    assert '<h2 id="role-mentee">Mentee</h2>' in html
    assert "Coordinator" not in html
    assert 'href="/status"' not in html
    mentee_area = html.split('<h2 id="role-mentee">', 1)[1]
    mentor_area = html.split('<h2 id="role-mentor">', 1)[1].split('<h2 id="role-mentee">')[0]
    assert 'href="/me/ranking"' in mentee_area and 'href="/me/profile"' in mentee_area
    assert 'href="/me/ranking"' not in mentor_area and 'href="/me/profile"' in mentor_area


# -- password links -----------------------------------------------------------------------


def test_the_account_command_needs_an_enrolled_person(make_client, people, capsys):
    make_client()
    assert cli.account("stranger@elsewhere.example") == 1
    assert "no one in enrollment" in capsys.readouterr().err


def test_a_password_link_works_once(make_client, people, capsys):
    client = make_client()
    path = invite(CORA, capsys)

    assert set_password(client, path, PASSWORD).status_code == 302
    again = client.get(path)
    assert again.status_code == 410
    assert "This link no longer works" in again.text
    assert again.headers["Referrer-Policy"] == "no-referrer"
    token = csrf_from(client.get("/sign-in").text)
    data = {"csrf_token": token, "password": "another password 2", "confirm": "another password 2"}
    assert client.post(path, data=data).status_code == 410
    assert sign_in(client, CORA, PASSWORD).status_code == 302


def test_only_a_hash_of_the_token_is_stored(make_client, people, capsys):
    make_client()
    token = invite(CORA, capsys).rsplit("/", 1)[1]
    engine = sa.create_engine(db.database_url())
    with engine.connect() as conn:
        stored = conn.execute(sa.select(db.password_tokens.c.token_hash)).scalars().all()
    engine.dispose()

    assert token not in stored
    assert stored == [accounts_module.hash_token(token)]


def test_forgot_password_sends_a_link_that_expires_after_an_hour(notifications, cora_client, clock):
    token = csrf_from(cora_client.get("/password/forgot").text)
    response = cora_client.post("/password/forgot", data={"csrf_token": token, "email": CORA})

    assert response.status_code == 200
    assert auth.RESET_SENT in response.text
    (link,) = notifications.links()
    path = urlsplit(link).path
    assert cora_client.get(path).status_code == 200
    clock.advance(minutes=59)
    assert cora_client.get(path).status_code == 200
    clock.advance(minutes=1, seconds=1)
    assert cora_client.get(path).status_code == 410


def ask_for_link(client, email: str):
    token = csrf_from(client.get("/password/forgot").text)
    return client.post("/password/forgot", data={"csrf_token": token, "email": email})


def test_forgot_password_answers_the_same_for_unknown_addresses(notifications, cora_client):
    known, unknown = ask_for_link(cora_client, CORA), ask_for_link(cora_client, "nobody@x.example")
    enrolled_without_account = ask_for_link(cora_client, PAT)

    assert known.status_code == unknown.status_code == enrolled_without_account.status_code == 200
    assert _shape(known.text) == _shape(unknown.text) == _shape(enrolled_without_account.text)
    assert len(notifications.links()) == 1
    assert len(notifications.links("Set your Tandem password")) == 2  # Cora's invitation, Pat's


def test_an_enrolled_person_without_an_account_gets_a_set_password_link(
    notifications, make_client, people
):
    """Roster-imported people have no account: asking for a link creates one and sends a
    set-password link, through the notifications service."""
    client = make_client()
    engine = sa.create_engine(db.database_url())
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.accounts).where(db.accounts.c.person_id == people["pat"])).first() is None  # fmt: skip
    engine.dispose()

    response = ask_for_link(client, PAT.upper())
    assert response.status_code == 200 and auth.RESET_SENT in response.text
    (link,) = notifications.links("Set your Tandem password")
    assert urlsplit(link).path.startswith("/password/reset/")
    outbox = client.get("/dev/outbox")  # the development page shows the kept mail
    assert outbox.status_code == 200 and f'href="{link}"' in outbox.text
    assert "Set your Tandem password" in outbox.text and PAT in outbox.text

    assert set_password(client, urlsplit(link).path, PASSWORD).status_code == 302
    assert sign_in(client, PAT, PASSWORD).status_code == 302
    assert client.get("/home").status_code == 200


def test_the_account_command_emails_the_link_it_prints(notifications, make_client, people, capsys):
    make_client()
    path = invite(PAT, capsys)

    (link,) = notifications.links("Set your Tandem password")
    assert urlsplit(link).path == path


def test_a_link_not_handed_to_notifications_still_gets_the_same_answer(cora_client):
    # Notifications does not answer (its URL points nowhere): logged, and the page says the same.
    response = ask_for_link(cora_client, CORA)
    assert response.status_code == 200 and auth.RESET_SENT in response.text


def test_a_reset_sets_the_new_password_and_ends_old_sessions(
    notifications, make_client, cora_client
):
    other_browser = make_client()
    assert sign_in(other_browser, CORA, PASSWORD).status_code == 302
    assert other_browser.get("/home").status_code == 200
    for i in range(5):
        sign_in(cora_client, CORA, f"wrong {i} password")  # locked now
    ask_for_link(cora_client, CORA)
    (link,) = notifications.links()

    new_password = "a brand new passphrase 7"
    response = set_password(cora_client, urlsplit(link).path, new_password)

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert other_browser.get("/home").status_code == 302  # signed out by the change
    assert sign_in(cora_client, CORA, PASSWORD).status_code == 401
    assert sign_in(cora_client, CORA, new_password).status_code == 302  # and unlocked


def test_a_new_link_replaces_the_earlier_one(make_client, people, capsys):
    client = make_client()
    first = invite(CORA, capsys)
    second = invite(CORA, capsys)

    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_password_rules_are_shown_next_to_the_field(make_client, people, capsys):
    client = make_client()
    path = invite(CORA, capsys)

    response = set_password(client, path, "short1")

    assert response.status_code == 400
    html = response.text
    assert "Use at least 12 characters." in html
    assert re.search(r'<p class="field-error" id="password-error">', html)
    field = re.search(r"<input[^>]*id=\"password\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in field
    assert "password-error" in field and "password-hint" in field
    assert '<label class="field-label" for="password">New password</label>' in html

    mismatch = set_password(client, path, PASSWORD, confirm=PASSWORD + "x")
    assert "The two passwords are not the same." in mismatch.text
    # Still unused: a refused attempt does not spend the link.
    assert set_password(client, path, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1A", "at least 12"),
        ("a" * 129 + "B", "at most 128"),
        ("alllowercaseletters", "two kinds"),
        ("123456789012", "two kinds"),
        ("aaaaaaaaaa11", "more different"),
        ("xcora@northfield.example1", "email"),
    ],
)
def test_password_rules(password, problem):
    assert problem in (password_problem(password, CORA) or "")


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Tr0ub4dour&3xyz", "12 monkeys in a row"]
)
def test_good_passwords_pass(password):
    assert password_problem(password, CORA) is None


def test_dev_outbox_is_hidden_in_production(make_client, monkeypatch):
    page = make_client().get("/dev/outbox")
    assert page.status_code == 200
    assert "notifications service is not answering" in page.text  # none runs here

    monkeypatch.setenv("TANDEM_ENV", "production")
    monkeypatch.setenv("TANDEM_SERVICE_TOKEN_KEY", "t" * 48)
    monkeypatch.setenv("WEB_SECRET_KEY", "s" * 48)
    assert make_client().get("/dev/outbox").status_code == 404
