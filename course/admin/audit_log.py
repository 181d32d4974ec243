"""The audit log as people read it: Dutch event names, names instead of account numbers, no empty details."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from course.extensions import db
from course.models import AuditEvent, Group, Role, User

ACTION_LABELS = {
    "2fa.disable": "Tweestapsverificatie uitgezet",
    "2fa.enable": "Tweestapsverificatie aangezet",
    "2fa.passkey_add": "Passkey toegevoegd",
    "2fa.passkey_remove": "Passkey verwijderd",
    "2fa.recovery_code_used": "Herstelcode gebruikt",
    "2fa.recovery_codes_renewed": "Nieuwe herstelcodes gemaakt",
    "2fa.reset_by_admin": "Tweestapsverificatie uitgezet door beheerder",
    "2fa.reset_by_operator": "Tweestapsverificatie uitgezet via de server",
    "assignment.set": "Deadline vastgelegd",
    "attempt.grant_extra": "Extra poging gegeven",
    "attempt.reset": "Poging ongedaan gemaakt",
    "certificate.reissue": "Certificaat opnieuw uitgegeven",
    "certificate.revoke": "Certificaat ingetrokken",
    "group.create": "Groep aangemaakt",
    "group.renew_code": "Nieuwe groepscode gemaakt",
    "invitation.accept": "Uitnodiging aangenomen",
    "invitation.decline": "Uitnodiging afgeslagen",
    "invitation.send": "Uitnodiging verstuurd",
    "reminders.settings": "Herinneringen ingesteld",
    "user.activate": "Account geactiveerd",
    "user.deactivate": "Account gedeactiveerd",
    "user.email_change_requested": "Wijziging e-mailadres aangevraagd",
    "user.email_changed": "E-mailadres gewijzigd",
    "user.email_verified": "E-mailadres bevestigd",
    "user.erase": "Account verwijderd",
    "user.name_correction": "Naam gecorrigeerd",
    "user.password_reset": "Wachtwoord opnieuw ingesteld",
    "user.role": "Rol gewijzigd",
    "user.temporary_password": "Tijdelijk wachtwoord gemaakt",
}
DETAIL_LABELS = {
    "reason": "reden",
    "quiz_id": "toets",
    "due_on": "datum",
    "old": "was",
    "new": "wordt",
    "replacement_id": "nieuw certificaat",
    "certificate_id": "certificaat",
    "sessions_ended": "sessies beëindigd",
    "remaining": "resterend",
}
SUBJECT_LABELS = {"user": "Account", "certificate": "Certificaat", "group": "Groep", "attempt": "Poging"}
# Details that name a person: shown as that person's name.
PERSON_KEYS = ("user_id", "learner_id")


def action_label(action: str) -> str:
    """The Dutch name of an event; an event without one (a new integration) keeps its code."""
    return ACTION_LABELS.get(action, action)


@dataclass(frozen=True)
class EventLine:
    event: AuditEvent
    action: str
    actor: str
    subject: str
    details: list[tuple[str, str]]


def describe(events: Iterable[AuditEvent]) -> list[EventLine]:
    """Lines for the log pages, with the names of accounts and groups looked up in one query each."""
    events = list(events)
    user_ids = {e.actor_id for e in events if e.actor_id}
    user_ids |= {e.subject_id for e in events if e.subject_type == "user" and e.subject_id}
    user_ids |= {v for e in events for k, v in (e.details or {}).items() if k in PERSON_KEYS and isinstance(v, int)}
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
    group_ids = {e.subject_id for e in events if e.subject_type == "group" and e.subject_id}
    groups = dict(db.session.execute(sa.select(Group.id, Group.name).where(Group.id.in_(group_ids))).all())

    def person(user_id: int | None) -> str:
        if user_id is None:
            return "–"
        return names.get(user_id, f"verwijderd account ({user_id})")

    lines = []
    for e in events:
        if e.subject_type == "user":
            subject = person(e.subject_id)
        elif e.subject_type == "group" and e.subject_id in groups:
            subject = f"Groep ‘{groups[e.subject_id]}’"
        else:
            subject = f"{SUBJECT_LABELS.get(e.subject_type, e.subject_type)} {e.subject_id or ''}".strip()
        details = []
        for key, value in (e.details or {}).items():
            if value is None or value == "":
                continue
            if key in PERSON_KEYS:
                if e.subject_type == "user" and value == e.subject_id:
                    continue  # already named as the subject
                details.append(("cursist", person(value) if isinstance(value, int) else str(value)))
            elif e.action == "user.role" and key in ("old", "new") and value in {r.value for r in Role}:
                details.append((DETAIL_LABELS[key], Role(value).label))
            else:
                details.append((DETAIL_LABELS.get(key, key), str(value)))
        lines.append(EventLine(e, action_label(e.action), person(e.actor_id), subject, details))
    return lines
