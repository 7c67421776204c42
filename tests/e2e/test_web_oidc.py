"""Single sign-on per institution through OpenID Connect, end to end.

Two real OpenID providers run as processes on loopback (tests/oidc_provider.py: discovery, JWKS,
code flow with required PKCE and nonce), one for each seeded institution. The web runs in this
process (werkzeug on a free port) in front of the running suite, configured for both providers,
so a browser-like client goes web -> provider -> web as a person would.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from live import LiveSuite
from oidc_provider import ProviderProcess
from sso_web import Sso, running_sso

from services.eventkit.db import make_engine
from web.accounts import Accounts

pytestmark = [pytest.mark.kafka]


@pytest.fixture(scope="module")
def sso(live_suite: LiveSuite, tmp_path_factory) -> Iterator[Sso]:
    with running_sso(live_suite, tmp_path_factory.mktemp("oidc")) as running:
        yield running


def at_provider(
    sso: Sso, provider: ProviderProcess, key: str, next_url: str | None = None
) -> tuple[requests.Session, str]:
    """A fresh browser starts sign-in through `key`: (browser, the provider's authorize URL)."""
    browser = requests.Session()
    params = {"next": next_url} if next_url else {}
    started = browser.get(
        f"{sso.url}/sign-in/sso/{key}", params=params, allow_redirects=False, timeout=30
    )
    assert started.status_code == 302, started.text
    authorize = started.headers["Location"]
    assert authorize.startswith(provider.issuer + "/authorize?")
    form = browser.get(authorize, timeout=30)
    assert form.status_code == 200 and 'name="sub"' in form.text, form.text
    return browser, authorize


def through_provider(
    sso: Sso,
    provider: ProviderProcess,
    key: str,
    sub: str,
    next_url: str | None = None,
    action: str = "allow",
) -> tuple[requests.Session, str]:
    """Sign in at the provider as `sub`: (browser, the web's callback URL it sends back to)."""
    browser, authorize = at_provider(sso, provider, key, next_url)
    answered = browser.post(
        authorize, data={"sub": sub, "action": action}, allow_redirects=False, timeout=30
    )
    assert answered.status_code == 302, answered.text
    back = answered.headers["Location"]
    assert back.startswith(f"{sso.url}/sign-in/sso/{key}/callback?")
    return browser, back


def signed_out(sso: Sso, browser: requests.Session) -> bool:
    home = browser.get(f"{sso.url}/home", allow_redirects=False, timeout=30)
    return home.status_code == 302 and "/sign-in" in home.headers["Location"]


def test_the_sign_in_page_offers_each_provider(sso: Sso) -> None:
    page = requests.get(f"{sso.url}/sign-in", params={"next": "/status"}, timeout=30)

    assert page.status_code == 200
    assert "Sign in with Northfield SSO" in page.text
    assert "Sign in with South" in page.text  # the default label
    # A plain link (htmx must not fetch the provider's page), carrying where to go afterwards.
    assert 'hx-boost="false" href="/sign-in/sso/north?next=/status"' in page.text
    assert page.text.index("Northfield SSO") < page.text.index('name="password"')


def test_a_person_signs_in_through_their_institutions_provider(sso: Sso) -> None:
    coordinator = sso.a.coordinator
    # The provider's directory writes the address in its own case.
    sso.north.add_user(
        "north-cora",
        email=coordinator["email"].upper(),
        email_verified=True,
        name="Cora at Northfield",
    )

    browser, authorize = at_provider(sso, sso.north, "north", next_url="/status")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == [f"{sso.url}/sign-in/sso/north/callback"]
    answered = browser.post(
        authorize, data={"sub": "north-cora", "action": "allow"}, allow_redirects=False
    )
    landed = browser.get(answered.headers["Location"], allow_redirects=False, timeout=30)

    assert landed.status_code == 302, landed.text
    assert landed.headers["Location"] == "/status"
    home = browser.get(f"{sso.url}/home", timeout=30)
    assert home.status_code == 200
    assert coordinator["name"] in home.text  # enrollment's name, not the provider's
    assert "Coordinator" in home.text
    assert sso.a.institution["name"] in home.text
    # The callback works once: the state was used up.
    again = browser.get(answered.headers["Location"], allow_redirects=False, timeout=30)
    assert again.status_code == 400


def test_a_person_without_a_password_gets_an_account(sso: Sso) -> None:
    newcomer = sso.person(sso.a, "Nia Newcomer")
    engine = make_engine(sso.live.web_database_url)
    try:
        accounts = Accounts(engine)
        assert accounts.get(newcomer["id"]) is None
        sso.north.add_user("north-nia", email=newcomer["email"], email_verified=True)

        browser, back = through_provider(
            sso, sso.north, "north", "north-nia", next_url="https://evil.example/"
        )
        landed = browser.get(back, allow_redirects=False, timeout=30)

        assert landed.status_code == 302
        assert landed.headers["Location"] == "/home"  # never off the site
        home = browser.get(f"{sso.url}/home", timeout=30)
        assert home.status_code == 200 and "Nia Newcomer" in home.text
        account = accounts.get(newcomer["id"])
        assert account is not None
        assert account.email == newcomer["email"] and not account.has_password
    finally:
        engine.dispose()


def test_an_unknown_email_is_refused(sso: Sso) -> None:
    stranger = f"stranger.{secrets.token_hex(3)}@elsewhere.example"
    sso.north.add_user("north-stranger", email=stranger, email_verified=True)

    browser, back = through_provider(sso, sso.north, "north", "north-stranger")
    refused = browser.get(back, allow_redirects=False, timeout=30)

    assert refused.status_code == 403
    assert "Tandem has no one with that email address" in refused.text
    assert stranger in refused.text
    assert 'role="alert"' in refused.text and 'name="password"' in refused.text
    assert signed_out(sso, browser)


def test_a_person_of_another_institution_is_refused(sso: Sso) -> None:
    other = sso.b.coordinator
    sso.north.add_user("north-intruder", email=other["email"], email_verified=True)

    browser, back = through_provider(sso, sso.north, "north", "north-intruder")
    refused = browser.get(back, allow_redirects=False, timeout=30)

    assert refused.status_code == 403
    assert "belongs to another institution" in refused.text
    assert "Northfield SSO" in refused.text
    assert signed_out(sso, browser)

    # Through their own institution's provider (configured by short code) they are let in.
    sso.south.add_user("south-coordinator", email=other["email"], email_verified=True)
    browser, back = through_provider(sso, sso.south, "south", "south-coordinator")
    landed = browser.get(back, allow_redirects=False, timeout=30)
    assert landed.status_code == 302 and landed.headers["Location"] == "/home"
    home = browser.get(f"{sso.url}/home", timeout=30)
    assert sso.b.institution["name"] in home.text


@pytest.mark.parametrize("verified", [False, None, "yes", 1])
def test_an_unverified_email_is_refused(sso: Sso, verified: object) -> None:
    mentee = sso.a.mentees[0]
    sub = f"north-unverified-{secrets.token_hex(2)}"
    claims: dict[str, object] = {"email": mentee["email"]}
    if verified is not None:
        claims["email_verified"] = verified
    sso.north.add_user(sub, **claims)

    browser, back = through_provider(sso, sso.north, "north", sub)
    refused = browser.get(back, allow_redirects=False, timeout=30)

    assert refused.status_code == 403
    assert "did not confirm your email address" in refused.text
    assert signed_out(sso, browser)


def test_a_tampered_state_is_refused(sso: Sso) -> None:
    mentor = sso.a.mentors[0]
    sso.north.add_user("north-mentor", email=mentor["email"], email_verified=True)

    browser, back = through_provider(sso, sso.north, "north", "north-mentor")
    parts = urlsplit(back)
    query = parse_qs(parts.query)
    query["state"] = [query["state"][0] + "x"]
    tampered = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    refused = browser.get(tampered, allow_redirects=False, timeout=30)

    assert refused.status_code == 400
    assert "not started from this browser" in refused.text
    assert signed_out(sso, browser)
    # The untouched answer, carried to another browser, is refused as well.
    other_browser = requests.Session()
    elsewhere = other_browser.get(back, allow_redirects=False, timeout=30)
    assert elsewhere.status_code == 400
    assert signed_out(sso, other_browser)


def test_an_id_token_not_signed_with_the_published_key_is_refused(sso: Sso) -> None:
    coordinator = sso.a.coordinator
    sso.forger.add_user("forged-cora", email=coordinator["email"], email_verified=True)

    browser, back = through_provider(sso, sso.forger, "forger", "forged-cora")
    refused = browser.get(back, allow_redirects=False, timeout=30)

    assert refused.status_code == 400
    assert "could not be verified" in refused.text
    assert signed_out(sso, browser)


def test_only_the_latest_attempt_of_a_browser_counts(sso: Sso) -> None:
    mentor = sso.a.mentors[0]
    sso.north.add_user("north-twice", email=mentor["email"], email_verified=True)
    browser, first = at_provider(sso, sso.north, "north")
    for _ in range(10):  # started again and again: the session cookie does not grow
        browser.get(f"{sso.url}/sign-in/sso/north", allow_redirects=False, timeout=30)
    assert len(browser.cookies.get("session", "")) < 1000
    answered = browser.post(first, data={"sub": "north-twice"}, allow_redirects=False)

    refused = browser.get(answered.headers["Location"], allow_redirects=False, timeout=30)

    assert refused.status_code == 400
    assert signed_out(sso, browser)


def test_a_cancelled_sign_in_says_so_on_the_sign_in_page(sso: Sso) -> None:
    browser, back = through_provider(sso, sso.north, "north", "", action="deny")
    assert parse_qs(urlsplit(back).query)["error"] == ["access_denied"]

    page = browser.get(back, allow_redirects=False, timeout=30)

    assert page.status_code == 400
    assert "Signing in through Northfield SSO was cancelled" in page.text
    assert "Sign in with Northfield SSO" in page.text  # the way to try again
    assert signed_out(sso, browser)


def test_an_unknown_provider_is_not_found(sso: Sso) -> None:
    response = requests.get(f"{sso.url}/sign-in/sso/nowhere", allow_redirects=False, timeout=30)
    assert response.status_code == 404


def signs_in(sso: Sso, provider: ProviderProcess, key: str, sub: str) -> requests.Session:
    browser, back = through_provider(sso, provider, key, sub)
    landed = browser.get(back, allow_redirects=False, timeout=30)
    assert landed.status_code == 302 and landed.headers["Location"] == "/home", landed.text
    return browser


def test_the_first_sign_in_binds_the_account_to_the_providers_subject(sso: Sso) -> None:
    person = sso.person(sso.a, "Bo Bound")
    sub = f"north-bo-{secrets.token_hex(2)}"
    sso.north.add_user(sub, email=person["email"], email_verified=True)

    signs_in(sso, sso.north, "north", sub)

    engine = make_engine(sso.live.web_database_url)
    try:
        account = Accounts(engine).get(person["id"])
        assert account is not None
        assert (account.sso_issuer, account.sso_subject) == (sso.north.issuer, sub)
        assert Accounts(engine).by_sso(sso.north.issuer, sub) == account
    finally:
        engine.dispose()


def test_a_changed_email_at_the_provider_is_matched_by_the_subject(sso: Sso) -> None:
    person = sso.person(sso.a, "Cy Changed")
    sub = f"north-cy-{secrets.token_hex(2)}"
    sso.north.add_user(sub, email=person["email"], email_verified=True)
    signs_in(sso, sso.north, "north", sub)
    # The provider's directory now has another address, one Tandem does not know.
    sso.north.add_user(sub, email=f"cy.{secrets.token_hex(3)}@renamed.example", email_verified=True)

    browser = signs_in(sso, sso.north, "north", sub)

    home = browser.get(f"{sso.url}/home", timeout=30)
    assert home.status_code == 200 and "Cy Changed" in home.text


def test_another_subject_with_the_same_email_is_refused(sso: Sso) -> None:
    person = sso.person(sso.a, "Di Dup")
    first, second = (f"north-di-{n}-{secrets.token_hex(2)}" for n in (1, 2))
    sso.north.add_user(first, email=person["email"], email_verified=True)
    signs_in(sso, sso.north, "north", first)
    # The provider gave the address to another of its accounts.
    sso.north.add_user(second, email=person["email"], email_verified=True)

    browser, back = through_provider(sso, sso.north, "north", second)
    refused = browser.get(back, allow_redirects=False, timeout=30)

    assert refused.status_code == 403
    assert "linked to another Northfield SSO account" in refused.text
    assert 'role="alert"' in refused.text
    assert signed_out(sso, browser)
    # The bound subject still signs in.
    signs_in(sso, sso.north, "north", first)
