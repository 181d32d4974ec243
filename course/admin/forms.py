from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from course.auth.forms import display_name_field


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Reden van intrekking",
        validators=[
            DataRequired("Geef een reden op."),
            Length(min=5, max=500, message="De reden moet tussen 5 en 500 tekens lang zijn."),
        ],
    )


class UserForm(FlaskForm):
    role = SelectField(
        "Rol",
        choices=[
            SelectChoice("learner", "Cursist"),
            SelectChoice("trainer", "Trainer"),
            SelectChoice("admin", "Beheerder"),
        ],
        validate_choice=False,
    )
    active = BooleanField("Account actief (uitvinken: alle sessies stoppen direct)")

    def validate_role(self, field: SelectField) -> None:
        if field.data not in {"learner", "trainer", "admin"}:
            raise ValidationError("Kies een rol uit de lijst.")


class ConfirmEraseForm(FlaskForm):
    confirm = BooleanField("Ik wil dit account en de gegevens ervan definitief verwijderen.")

    def validate_confirm(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError("Vink aan om te bevestigen.")


class TemporaryPasswordForm(FlaskForm):
    """No fields: the user comes from the URL; the form carries the CSRF token."""


class ResetTwoFactorForm(FlaskForm):
    confirm = BooleanField("Ik heb gecontroleerd dat deze persoon zelf om het uitzetten vraagt.")

    def validate_confirm(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError("Vink aan dat je hebt gecontroleerd wie erom vraagt.")


class NameCorrectionForm(FlaskForm):
    """An admin corrects a learner's name; their current certificate is reissued with it."""

    name = display_name_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name.label.text = "Juiste naam (zoals hij op het certificaat moet staan)"
