"""What the server does not hand out: repository files, directory listings, cross-origin reads; and
every text response names its character set."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path",
    [
        "/.git/config",
        "/.git/HEAD",
        "/static/../config.py",
        "/static/%2e%2e/config.py",
        "/static/..%2fconfig.py",
        "/instance/secret_key",
        "/static/",
        "/static/css/",
    ],
)
def test_repository_files_and_directory_listings_are_not_served(client, path):
    with client.get(path) as response:
        assert response.status_code == 404, path


def test_no_cross_origin_reads_are_allowed(client):
    with client.get("/", headers={"Origin": "https://elders.example"}) as response:
        assert "Access-Control-Allow-Origin" not in response.headers
    with client.options("/inloggen", headers={"Origin": "https://elders.example"}) as response:
        assert "Access-Control-Allow-Origin" not in response.headers


def test_text_responses_name_their_character_set(client):
    for path, expected in [
        ("/", "text/html; charset=utf-8"),
        ("/bestaat-niet", "text/html; charset=utf-8"),
        ("/livez", "text/plain; charset=utf-8"),
        ("/healthz", "application/json"),
    ]:
        with client.get(path) as response:
            assert response.headers["Content-Type"] == expected, path
