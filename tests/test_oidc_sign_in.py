"""Sign-in with an organisation's OpenID Connect provider, against a provider that is not ours:
Node's oidc-provider (tests/oidc/provider.mjs), driven over HTTP through its own login page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
import sqlalchemy as sa

from course.models import AuditEvent, ExternalIdentity, LoginSession, Role, User
from tests.conftest import PASSWORD, OidcPeer, csrf_token, oidc_provider_process
from tests.helpers import count, fetch, text

CALLBACK = "http://localhost/inloggen/organisatie/zorggroep/terug"
# Everyone but the admin who configured the provider.
ORGANISATION_USERS = sa.select(User).where(User.role != Role.ADMIN).order_by(User.id)


@pytest.fixture(scope="module")
def peer() -> Iterator[OidcPeer]:
    with oidc_provider_process([CALLBACK]) as running:
        yield running


@pytest.fixture
def zorggroep(peer, add_oidc_provider) -> int:
    return add_oidc_provider(peer)


def authorize_url(client) -> str:
    response = client.get("/inloggen/organisatie/zorggroep")
    assert response.status_code == 302
    return response.headers["Location"]


def at_provider(url: str, login: str | None = "anna", cancel: bool = False) -> str:
    """Log in on the provider's own login page (any login name works); returns where it sends the
    browser back to: our callback with code, state and iss, or an error."""
    with requests.Session() as browser:
        return _log_in(browser, url, login, cancel)


def _log_in(browser: requests.Session, url: str, login: str | None, cancel: bool) -> str:
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    if cancel:
        response = browser.get(re.search(r'href="([^"]+/abort)"', page.text).group(1), allow_redirects=False)
    else:
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
        response = browser.post(
            action, data={"prompt": "login", "login": login, "password": "x"}, allow_redirects=False
        )
    while not response.headers["Location"].startswith(CALLBACK):
        response = browser.get(urljoin(response.url, response.headers["Location"]), allow_redirects=False)
    return response.headers["Location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def sign_in_through_provider(client, login: str = "anna"):
    return client.get(callback_path(at_provider(authorize_url(client), login)))


def identities(app) -> list[ExternalIdentity]:
    return fetch(app, sa.select(ExternalIdentity).order_by(ExternalIdentity.id))


def refusals(app) -> list[AuditEvent]:
    return fetch(app, sa.select(AuditEvent).where(AuditEvent.action == "oidc.refused").order_by(AuditEvent.id))


def test_the_login_page_offers_the_organisation(client, zorggroep):
    page = text(client.get("/inloggen"))
    assert "Inloggen met Zorggroep Noord" in page
    assert 'href="/inloggen/organisatie/zorggroep"' in page


def test_the_authorization_request_uses_the_code_flow_with_pkce_state_and_nonce(client, zorggroep, peer):
    url = urlsplit(authorize_url(client))
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == peer.issuer
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert query["redirect_uri"] == [CALLBACK]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}


def test_a_first_sign_in_creates_a_learner_linked_by_issuer_and_subject(app, client, zorggroep, peer):
    response = sign_in_through_provider(client, "anna")

    assert response.status_code == 302 and response.headers["Location"] == "/"
    [user] = fetch(app, ORGANISATION_USERS)
    assert (user.email, user.display_name, user.role) == ("anna@zorg.example", "Anna Bakker", Role.LEARNER)
    assert user.email_verified  # the provider said email_verified
    [identity] = identities(app)
    assert (identity.user_id, identity.source, identity.issuer, identity.subject) == (
        user.id,
        "oidc",
        peer.issuer,
        "anna",
    )
    assert count(app, LoginSession, LoginSession.user_id == user.id) == 1
    assert "Anna Bakker" in text(client.get("/"))


def test_an_address_the_provider_did_not_verify_stays_unverified(app, client, zorggroep):
    assert sign_in_through_provider(client, "tom").status_code == 302
    [user] = fetch(app, ORGANISATION_USERS)
    assert user.email == "tom@zorg.example" and not user.email_verified


def test_a_later_sign_in_finds_the_account_by_its_link_not_by_its_address(app, client, zorggroep):
    sign_in_through_provider(client, "anna")
    [user] = fetch(app, ORGANISATION_USERS)
    with app.app_context():
        from course.extensions import db

        db.session.execute(sa.update(User).where(User.id == user.id).values(email="anna.nieuw@example.org"))
        db.session.commit()
    client.post("/uitloggen", data={"csrf_token": csrf_token(client, "/")})

    assert sign_in_through_provider(client, "anna").status_code == 302

    assert [u.id for u in fetch(app, ORGANISATION_USERS)] == [user.id]
    assert len(identities(app)) == 1


def test_an_existing_account_with_the_address_is_linked_only_after_its_password(app, client, zorggroep, create_user):
    local = create_user(email="anna@zorg.example", name="Anna Lokaal")

    response = sign_in_through_provider(client, "anna")

    assert response.headers["Location"] == "/inloggen/organisatie/koppelen"
    assert identities(app) == []
    assert client.get("/account/profiel").status_code == 302  # not signed in
    page = client.get("/inloggen/organisatie/koppelen")
    assert "Vul het wachtwoord van dat account in" in text(page)
    token = csrf_token(client, "/inloggen/organisatie/koppelen")

    wrong = client.post("/inloggen/organisatie/koppelen", data={"csrf_token": token, "password": "niet goed"})
    assert wrong.status_code == 400 and "Dit wachtwoord klopt niet." in text(wrong)
    assert identities(app) == []

    right = client.post("/inloggen/organisatie/koppelen", data={"csrf_token": token, "password": PASSWORD})
    assert right.status_code == 302
    [identity] = identities(app)
    assert identity.user_id == local.id and identity.subject == "anna"
    assert [u.id for u in fetch(app, ORGANISATION_USERS)] == [local.id]
    assert client.get("/account/profiel").status_code == 200


def test_a_signed_in_person_links_their_organisation_account_from_the_profile(
    app, client, zorggroep, auth, create_user
):
    local = create_user(email="anna.prive@example.org")
    auth.login(local.email)
    assert "Koppel je organisatie-account" in text(client.get("/account/profiel"))

    start = client.get("/account/organisatie/zorggroep/koppelen")
    response = client.get(callback_path(at_provider(start.headers["Location"], "anna")))

    assert response.headers["Location"] == "/account/profiel"
    [identity] = identities(app)
    assert identity.user_id == local.id
    auth.logout()
    assert sign_in_through_provider(client, "anna").status_code == 302
    assert [u.id for u in fetch(app, ORGANISATION_USERS)] == [local.id]  # no second account for anna@zorg.example


def test_an_identity_linked_to_someone_else_is_not_moved(app, client, zorggroep, auth, create_user):
    sign_in_through_provider(client, "anna")
    auth.logout()
    other = create_user(email="iemand@example.org")
    auth.login(other.email)

    start = client.get("/account/organisatie/zorggroep/koppelen")
    response = client.get(callback_path(at_provider(start.headers["Location"], "anna")))

    assert response.status_code == 409
    assert [i.user_id for i in identities(app)] != [other.id]
    assert refusals(app)[-1].details["reason"] == "al_gekoppeld_aan_ander_account"


def test_roles_follow_the_configured_claim(app, client, peer, add_oidc_provider, auth):
    add_oidc_provider(
        peer, role_claim="groups", trainer_values="hechtwijzer-trainers", admin_values="hechtwijzer-admins"
    )
    sign_in_through_provider(client, "trainer")
    sign_in_through_provider(app.test_client(), "anna")

    roles = {u.email: u.role for u in fetch(app, sa.select(User).where(User.email.like("%@zorg.example")))}
    assert roles == {"ria@zorg.example": Role.TRAINER, "anna@zorg.example": Role.LEARNER}


def test_without_a_role_claim_everyone_starts_as_learner(app, client, zorggroep):
    sign_in_through_provider(client, "trainer")  # in the group hechtwijzer-trainers, but nothing is mapped
    [user] = fetch(app, sa.select(User).where(User.email == "ria@zorg.example"))
    assert user.role == Role.LEARNER


def test_an_admin_from_the_claim_must_still_set_up_two_step_sign_in(app, client, peer, add_oidc_provider):
    add_oidc_provider(peer, role_claim="groups", admin_values="hechtwijzer-trainers")

    sign_in_through_provider(client, "trainer")

    [user] = fetch(app, sa.select(User).where(User.email == "ria@zorg.example"))
    assert user.role == Role.ADMIN
    response = client.get("/beheer/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/tweestaps")


def test_a_replayed_callback_is_refused_and_changes_nothing(app, client, zorggroep):
    callback = callback_path(at_provider(authorize_url(client), "anna"))
    assert client.get(callback).status_code == 302
    client.post("/uitloggen", data={"csrf_token": csrf_token(client, "/")})
    users, links = count(app, User), count(app, ExternalIdentity)

    again = client.get(callback)

    assert again.status_code == 400
    assert "verlopen of al gebruikt" in text(again)
    assert (count(app, User), count(app, ExternalIdentity)) == (users, links)
    assert refusals(app)[-1].details["reason"] == "state_onbekend"


def test_a_nonce_that_differs_from_the_one_sent_is_refused(app, client, zorggroep):
    location = at_provider(authorize_url(client), "anna")
    with client.session_transaction() as session:
        key = next(k for k in session if k.startswith("_state_oidc-zorggroep_"))
        state = dict(session[key])
        state["data"] = {**state["data"], "nonce": "een-andere-nonce"}
        session[key] = state

    response = client.get(callback_path(location))

    assert response.status_code == 400
    assert "kon niet worden gecontroleerd" in text(response)
    assert count(app, User, User.email == "anna@zorg.example") == 0 and identities(app) == []
    assert refusals(app)[-1].details["reason"].startswith("id_token:")


def test_a_login_cancelled_at_the_provider_is_refused_clearly(app, client, zorggroep):
    location = at_provider(authorize_url(client), cancel=True)
    assert "error=access_denied" in location

    response = client.get(callback_path(location))

    assert response.status_code == 400
    assert "afgebroken of geweigerd" in text(response)
    assert count(app, User, User.email.like("%@zorg.example")) == 0
    assert refusals(app)[-1].details["reason"] == "provider_fout:access_denied"


def test_a_callback_with_an_unknown_state_is_refused(app, client, zorggroep):
    response = client.get("/inloggen/organisatie/zorggroep/terug?code=abc&state=verzonnen")
    assert response.status_code == 400
    assert count(app, ExternalIdentity) == 0
    assert refusals(app)[-1].details["reason"] == "state_onbekend"


def test_an_account_with_two_step_sign_in_still_needs_its_code_after_the_organisation(
    app, client, peer, add_oidc_provider, auth
):
    add_oidc_provider(peer, role_claim="groups", admin_values="hechtwijzer-trainers")
    sign_in_through_provider(client, "trainer")
    with app.app_context():
        from course.auth import two_factor
        from course.extensions import db
        from course.timeutil import utcnow
        from tests.conftest import TOTP_SECRET

        user = db.session.scalar(sa.select(User).where(User.email == "ria@zorg.example"))
        two_factor.store_secret(user, TOTP_SECRET, utcnow())
        db.session.commit()
    auth.logout()

    response = sign_in_through_provider(client, "trainer")

    assert response.headers["Location"] == "/inloggen/code"
    assert client.get("/beheer/").status_code == 302  # not signed in before the code
    assert auth.second_step("ria@zorg.example").status_code == 302
    assert client.get("/beheer/").status_code == 200


def test_a_deactivated_account_is_not_signed_in_by_its_organisation(app, client, zorggroep, auth):
    sign_in_through_provider(client, "anna")
    auth.logout()
    with app.app_context():
        from course.extensions import db

        db.session.execute(sa.update(User).where(User.email == "anna@zorg.example").values(active=False))
        db.session.commit()

    response = sign_in_through_provider(client, "anna")

    assert response.status_code == 403
    assert "gedeactiveerd" in text(response)
    assert (
        count(app, LoginSession, LoginSession.user_id.in_(sa.select(User.id).where(User.email == "anna@zorg.example")))
        == 0
    )
    assert refusals(app)[-1].details["reason"] == "account_gedeactiveerd"
