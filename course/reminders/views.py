"""The account page's reminder settings (the rest of that page is course/auth/views.py)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField

from course import audit
from course.extensions import db
from course.models import Role

bp = Blueprint("reminders", __name__)


class ReminderSettingsForm(FlaskForm):
    reminders = BooleanField("Stuur mij herinneringen over deadlines en certificaten die bijna verlopen")
    trainer_digest = BooleanField("Stuur mij wekelijks een overzicht van cursisten die te laat zijn")


@bp.post("/account/herinneringen")
@login_required
def settings():
    form = ReminderSettingsForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    user.reminders_enabled = form.reminders.data
    if user.has_role(Role.TRAINER, Role.ADMIN):
        user.trainer_digest_enabled = form.trainer_digest.data
    audit.record(
        user.id,
        "reminders.settings",
        "user",
        user.id,
        reminders=user.reminders_enabled,
        trainer_digest=user.trainer_digest_enabled,
    )
    db.session.commit()
    flash("Je instellingen voor herinneringen zijn opgeslagen.", "success")
    return redirect(url_for("auth.profile") + "#herinneringen")
