"""Under gunicorn, TRUSTED_PROXIES=0 means no forwarded header counts, whoever sends it.

gunicorn on its own believes X-Forwarded-Proto from 127.0.0.1 (its default forwarded_allow_ips): a client
on the same host, or a local proxy that passes the client's header on, could make the app treat a plain
http request as https. gunicorn.conf.py switches that off; the app's TRUSTED_PROXIES (ProxyFix) decides
alone (tests/test_trusted_proxy.py covers the app's side)."""

from __future__ import annotations

import pytest
import requests

from tests.system.harness import csrf, fresh_database, gunicorn

pytestmark = pytest.mark.system


def test_a_forged_forwarded_scheme_is_ignored_by_gunicorn_too(tmp_path):
    _url, env, (email,) = fresh_database(tmp_path, "hechtwijzer_forwarded", 1, TRUSTED_PROXIES="0")
    with gunicorn(env, workers=1) as server, requests.Session() as browser:
        token, _ = csrf(browser, f"{server.base}/inloggen")
        # Taken for https, the post would meet Flask-WTF's https-only Referer check and be refused (400).
        answer = browser.post(
            f"{server.base}/inloggen",
            data={"email": email, "password": "geen wachtwoord hier", "csrf_token": token},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"},
            timeout=30,
        )
        assert answer.status_code == 200
        assert "E-mailadres of wachtwoord klopt niet." in answer.text
