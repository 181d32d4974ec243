"""A password is checked exactly as typed: long ones work in full, nothing is trimmed, cut or folded."""

from __future__ import annotations

LONG = "  Een Zin Van Ruim Vierenzestig Tekens, Met Spaties Voor En Achter, Werkt Helemaal  "


def test_a_long_password_is_checked_in_full_and_exactly_as_typed(auth, create_user):
    assert len(LONG) > 64
    user = create_user(password=LONG)
    for near_miss in [LONG.strip(), LONG[:72], LONG.lower(), LONG[:-1]]:
        assert auth.login(user.email, near_miss).status_code == 200, repr(near_miss)
    assert auth.login(user.email, LONG).status_code == 302
