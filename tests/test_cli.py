"""The `flask course` commands."""

from __future__ import annotations

import sqlalchemy as sa

from course.extensions import db
from course.models import AuditEvent, Role, User
from tests.conftest import AuthActions
from tests.helpers import signed_out


def test_create_user_makes_a_trainer_without_prompts(app, runner):
    result = runner.invoke(
        args=[
            "course",
            "create-user",
            "--email",
            "Trainer@Example.org",
            "--name",
            "Tess Trainer",
            "--role",
            "trainer",
            "--password-stdin",
        ],
        input="een sterk wachtwoord\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "trainer@example.org"))
        assert user.role is Role.TRAINER
        assert user.check_password("een sterk wachtwoord")


def test_create_user_prints_a_generated_password_when_none_is_given(app, runner):
    result = runner.invoke(args=["course", "create-user", "--email", "a@example.org", "--name", "A", "--role", "admin"])
    assert result.exit_code == 0
    password = result.output.split("Wachtwoord: ")[1].strip()
    with app.app_context():
        assert db.session.scalar(sa.select(User)).check_password(password)


def test_create_user_refuses_duplicates_and_short_passwords(app, runner, create_user):
    create_user(email="dubbel@example.org")
    result = runner.invoke(args=["course", "create-user", "--email", "dubbel@example.org", "--name", "B"])
    assert result.exit_code == 1
    result = runner.invoke(
        args=["course", "create-user", "--email", "c@example.org", "--name", "C", "--password-stdin"], input="kort\n"
    )
    assert result.exit_code == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_seed_demo_creates_three_roles_and_resets_passwords_on_rerun(app, runner):
    first = runner.invoke(args=["course", "seed-demo"])
    second = runner.invoke(args=["course", "seed-demo"])
    assert first.exit_code == second.exit_code == 0
    with app.app_context():
        users = db.session.scalars(sa.select(User).order_by(User.id)).all()
        assert [u.role for u in users] == [Role.LEARNER, Role.TRAINER, Role.ADMIN]
        learner_password = second.output.split("cursist@example.org")[1].split()[0]
        assert users[0].check_password(learner_password)


def test_reset_two_factor_is_the_way_back_for_the_last_admin(app, runner, create_user):
    admin = create_user(role=Role.ADMIN)
    signed_in_elsewhere = app.test_client()
    assert AuthActions(signed_in_elsewhere).login(admin.email).status_code == 302
    result = runner.invoke(args=["course", "reset-two-factor", "--email", admin.email])
    assert result.exit_code == 0, result.output
    assert f"Tweestapsverificatie uitgezet voor account {admin.id}" in result.output
    with app.app_context():
        user = db.session.get(User, admin.id)
        assert user.totp_enabled_at is None and user.totp_secret is None
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.subject_id == admin.id)).one()
        assert (event.action, event.actor_id) == ("2fa.reset_by_operator", None)
    assert signed_out(signed_in_elsewhere), "open sessions ended"
    again = runner.invoke(args=["course", "reset-two-factor", "--email", admin.email])
    assert again.exit_code == 1 and "Geen account met tweestapsverificatie" in again.output
