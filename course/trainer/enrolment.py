"""Learners join a group with the code their trainer gave them."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from course.auth.access import role_required
from course.errors import render_error
from course.extensions import db
from course.models import Role
from course.ratelimit import allow
from course.trainer import groups
from course.trainer.forms import JoinForm

bp = Blueprint("enrolment", __name__)


@bp.route("/groep-aansluiten", methods=["GET", "POST"])
@role_required(Role.LEARNER)
def join():
    form = JoinForm()
    if form.validate_on_submit():
        # Codes are short: limit guessing per client like certificate lookups.
        if not allow(
            "join",
            request.remote_addr,
            current_app.config["VERIFY_RATE_LIMIT"],
            current_app.config["VERIFY_RATE_WINDOW_SECONDS"],
        ):
            return render_error(429, "Te veel pogingen. Probeer het over een minuut opnieuw.")
        group = groups.join_by_code(current_user, form.code.data)
        if group is None:
            form.code.errors.append("Deze code kennen we niet. Controleer de code bij je trainer.")
        else:
            db.session.commit()
            flash(f"Je bent aangesloten bij de groep ‘{group.name}’.", "success")
            return redirect(url_for("lessons.index"))
    return render_template("trainer/join.html", form=form)
