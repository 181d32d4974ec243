from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

EMAIL_MESSAGE = "Vul een geldig e-mailadres in."


def _password_strength(_form: FlaskForm, field: PasswordField) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(f"Kies een wachtwoord van minstens {minimum} tekens.")
    if len(field.data) > 256:
        raise ValidationError("Een wachtwoord mag hoogstens 256 tekens lang zijn.")


class RegisterForm(FlaskForm):
    display_name = StringField(
        "Naam (zoals op je certificaat)",
        validators=[DataRequired("Vul je naam in."), Length(max=120, message="Hoogstens 120 tekens.")],
    )
    email = EmailField(
        "E-mailadres",
        validators=[DataRequired(EMAIL_MESSAGE), Email(EMAIL_MESSAGE, check_deliverability=False), Length(max=254)],
    )
    password = PasswordField("Wachtwoord", validators=[DataRequired("Kies een wachtwoord."), _password_strength])
    password_confirm = PasswordField(
        "Herhaal wachtwoord",
        validators=[DataRequired("Herhaal je wachtwoord."), EqualTo("password", "De wachtwoorden zijn niet gelijk.")],
    )


class LoginForm(FlaskForm):
    email = EmailField("E-mailadres", validators=[DataRequired(EMAIL_MESSAGE), Length(max=254)])
    password = PasswordField("Wachtwoord", validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Huidig wachtwoord", validators=[DataRequired("Vul je huidige wachtwoord in."), Length(max=256)]
    )
    new_password = PasswordField(
        "Nieuw wachtwoord", validators=[DataRequired("Kies een nieuw wachtwoord."), _password_strength]
    )
    new_password_confirm = PasswordField(
        "Herhaal nieuw wachtwoord",
        validators=[
            DataRequired("Herhaal je nieuwe wachtwoord."),
            EqualTo("new_password", "De wachtwoorden zijn niet gelijk."),
        ],
    )


class LogoutForm(FlaskForm):
    """Empty form: logging out is a POST that carries a CSRF token."""


REGISTERS = [
    SelectChoice("", "Geen register"),
    SelectChoice("SKJ", "SKJ – Stichting Kwaliteitsregister Jeugd"),
    SelectChoice("BIG", "BIG-register"),
    SelectChoice("V&VN", "V&VN Kwaliteitsregister"),
]


class ProfileForm(FlaskForm):
    display_name = StringField(
        "Naam (zoals op je certificaat)",
        validators=[DataRequired("Vul je naam in."), Length(max=120, message="Hoogstens 120 tekens.")],
    )
    # Choice checked below, so the message is Dutch.
    register_name = SelectField("Beroepsregister", choices=REGISTERS, validate_choice=False)
    register_number = StringField("Registratienummer", validators=[Length(max=20, message="Hoogstens 20 tekens.")])
    consent = BooleanField(
        "Ik geef toestemming om mijn register en registratienummer op mijn certificaat en in de "
        "accreditatie-export van mijn trainer te zetten."
    )

    def validate_register_name(self, field: SelectField) -> None:
        if field.data not in {choice.value for choice in REGISTERS}:
            raise ValidationError("Kies een register uit de lijst.")

    def validate_register_number(self, field: StringField) -> None:
        number = (field.data or "").replace(" ", "")
        if self.register_name.data and not number:
            raise ValidationError("Vul je registratienummer in, of kies ‘Geen register’.")
        if number and not (number.isascii() and number.isdigit() and 4 <= len(number) <= 12):
            raise ValidationError("Een registratienummer bestaat uit 4 tot 12 cijfers.")
        if number and not self.register_name.data and not self.register_name.errors:
            raise ValidationError("Kies het register waar dit nummer bij hoort.")

    def validate_consent(self, field: BooleanField) -> None:
        if self.register_name.data and not field.data:
            raise ValidationError("Zonder toestemming slaan we je registratienummer niet op.")


class EraseForm(FlaskForm):
    password = PasswordField(
        "Je wachtwoord, ter bevestiging", validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)]
    )
    confirm = BooleanField("Ik begrijp dat mijn account en mijn gegevens definitief worden verwijderd.")

    def validate_confirm(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError("Vink aan dat je dit begrijpt.")


class ConfirmRegistrationForm(FlaskForm):
    """The button on the page the confirmation link opens; the token travels in the form, not the URL."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])


class InvitedRegisterForm(FlaskForm):
    """An account for an invited address: the address comes from the invitation, not from the form."""

    display_name = RegisterForm.display_name
    password = RegisterForm.password
    password_confirm = RegisterForm.password_confirm
