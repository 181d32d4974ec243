"""Learners join a group themselves: with the code their trainer gave them, or by accepting an
invitation (the mailed link, or the list on their dashboard). Nobody joins without doing so."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from course.auth import registration, verification
from course.auth.access import role_required
from course.auth.accounts import EmailInUse, find_user_by_email
from course.auth.forms import InvitedRegisterForm
from course.auth.views import _start_session
from course.errors import render_error
from course.extensions import db
from course.models import Group, Role, User
from course.ratelimit import allow
from course.timeutil import utcnow
from course.tokens import TokenExpired, TokenInvalid, token_hash
from course.trainer import groups
from course.trainer.forms import AnswerInvitationForm, JoinForm

bp = Blueprint("enrolment", __name__)

SESSION_KEY = "invitation_token"
INVALID_INVITATION = (
    "Deze uitnodigingslink is ongeldig of al gebruikt. Staat de uitnodiging nog open, dan vind je hem na het "
    "inloggen op je overzichtspagina. Anders kan je trainer je opnieuw uitnodigen."
)
EXPIRED_INVITATION = (
    "Deze uitnodigingslink is verlopen. Na het inloggen vind je de uitnodiging op je overzichtspagina, "
    "of vraag je trainer om je opnieuw uit te nodigen."
)


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


@bp.get("/uitnodiging/<token>")
def invitation_link(token: str):
    """The link from the invitation mail: keep the token in the session and continue on an address without it."""
    try:
        groups.invitation_for_token(token, utcnow())
    except TokenExpired:
        return render_error(410, EXPIRED_INVITATION)
    except TokenInvalid:
        return render_error(404, INVALID_INVITATION)
    session[SESSION_KEY] = token
    return redirect(url_for("enrolment.invitation"))


@bp.route("/uitnodiging", methods=["GET", "POST"])
def invitation():
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return render_error(404, INVALID_INVITATION)
    try:
        invitation = groups.invitation_for_token(token, utcnow())
    except (TokenExpired, TokenInvalid) as error:
        session.pop(SESSION_KEY, None)
        return (
            render_error(410, EXPIRED_INVITATION)
            if isinstance(error, TokenExpired)
            else render_error(404, INVALID_INVITATION)
        )
    group = db.session.get(Group, invitation.group_id)
    trainer = db.session.get(User, group.trainer_id)
    if current_user.is_authenticated:
        if current_user.email != invitation.email:
            # Neutral: says nothing about whom the invitation is for.
            return render_error(
                403,
                "Deze uitnodiging hoort niet bij het account waarmee je bent ingelogd. "
                "Log uit en open de link uit de uitnodigingsmail opnieuw.",
            )
        return render_template(
            "trainer/invitation.html",
            invitation=invitation,
            group=group,
            trainer=trainer,
            answer_form=AnswerInvitationForm(),
        )
    # Not signed in. Whoever holds the link can read the mailbox, so may learn whether it has an account.
    has_account = find_user_by_email(invitation.email) is not None
    form = InvitedRegisterForm(invited_email=invitation.email)
    if not has_account and form.validate_on_submit():
        try:
            user = registration.register_invited(invitation.email, form.display_name.data, form.password.data, utcnow())
        except EmailInUse:
            db.session.rollback()
            has_account = True
        else:
            db.session.commit()
            _start_session(user)  # the one way a session starts (clears the old one)
            session[SESSION_KEY] = token
            flash("Welkom! Je account is aangemaakt. Geef hieronder antwoord op de uitnodiging.", "success")
            return redirect(url_for("enrolment.invitation"))
    return render_template(
        "trainer/invitation_anonymous.html",
        invitation=invitation,
        group=group,
        trainer=trainer,
        has_account=has_account,
        form=form,
    )


@bp.post("/uitnodigingen/<int:invitation_id>")
@login_required
def answer_invitation(invitation_id: int):
    user = current_user._get_current_object()
    invitation = groups.own_pending_invitation(user, invitation_id)
    if invitation is None:
        abort(404)
    form = AnswerInvitationForm()
    if not form.validate_on_submit() or form.answer.data not in ("accepteren", "afwijzen"):
        abort(400)
    accept = form.answer.data == "accepteren"
    # Accepting the invitation that this browser opened by its mailed link proves the address.
    link_token = session.get(SESSION_KEY)
    by_mailed_link = isinstance(link_token, str) and invitation.token_hash == token_hash(link_token)
    try:
        group = groups.answer_invitation(invitation, user, accept, utcnow())
        if accept and by_mailed_link:
            verification.mark_verified(user, utcnow())
    except groups.StaffCannotJoin:
        db.session.rollback()
        flash(
            "Een trainer- of beheerdersaccount kan niet als cursist aan een groep deelnemen. "
            "Vraag de trainer om je uit te nodigen op het adres waarmee je als cursist werkt.",
            "warning",
        )
        return redirect(url_for("lessons.index"))
    db.session.commit()
    session.pop(SESSION_KEY, None)
    if accept:
        flash(f"Je bent lid van de groep ‘{group.name}’. Je trainer ziet nu je voortgang.", "success")
    else:
        flash(f"Je hebt de uitnodiging voor de groep ‘{group.name}’ afgewezen.", "info")
    return redirect(url_for("lessons.index"))
