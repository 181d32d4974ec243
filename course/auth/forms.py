from __future__ import annotations

from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from course import names
from course.auth import passwords

EMAIL_MESSAGE = "Vul een geldig e-mailadres in."


def _visible_name(_form: FlaskForm, field: StringField) -> None:
    if message := names.problem(field.data or ""):
        raise ValidationError(message)


def display_name_field() -> StringField:
    """The name printed on certificates: normalised (NFC, single spaces) before it is checked."""
    return StringField(
        "Naam (zoals op je certificaat)",
        filters=[names.normalise],
        validators=[
            DataRequired("Vul je naam in."),
            Length(max=120, message="Hoogstens 120 tekens."),
            _visible_name,
        ],
    )


def _check_new_password(field: PasswordField, *user_inputs: str | None) -> None:
    """Strength, breached list, not the person's name or address (course/auth/passwords.py)."""
    if field.data and (message := passwords.problem(field.data, user_inputs)):
        raise ValidationError(message)


class RegisterForm(FlaskForm):
    display_name = display_name_field()
    email = EmailField(
        "E-mailadres",
        validators=[DataRequired(EMAIL_MESSAGE), Email(EMAIL_MESSAGE, check_deliverability=False), Length(max=254)],
    )
    password = PasswordField("Wachtwoord", validators=[DataRequired("Kies een wachtwoord.")])
    password_confirm = PasswordField(
        "Herhaal wachtwoord",
        validators=[DataRequired("Herhaal je wachtwoord."), EqualTo("password", "De wachtwoorden zijn niet gelijk.")],
    )

    def validate_password(self, field: PasswordField) -> None:
        _check_new_password(field, self.display_name.data, self.email.data)


class LoginForm(FlaskForm):
    email = EmailField("E-mailadres", validators=[DataRequired(EMAIL_MESSAGE), Length(max=254)])
    password = PasswordField("Wachtwoord", validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Huidig wachtwoord", validators=[DataRequired("Vul je huidige wachtwoord in."), Length(max=256)]
    )
    new_password = PasswordField("Nieuw wachtwoord", validators=[DataRequired("Kies een nieuw wachtwoord.")])
    new_password_confirm = PasswordField(
        "Herhaal nieuw wachtwoord",
        validators=[
            DataRequired("Herhaal je nieuwe wachtwoord."),
            EqualTo("new_password", "De wachtwoorden zijn niet gelijk."),
        ],
    )

    def validate_new_password(self, field: PasswordField) -> None:
        user = current_user if current_user.is_authenticated else None
        _check_new_password(field, user and user.display_name, user and user.email)


class LogoutForm(FlaskForm):
    """Empty form: logging out is a POST that carries a CSRF token."""


REGISTERS = [
    SelectChoice("", "Geen register"),
    SelectChoice("SKJ", "SKJ – Stichting Kwaliteitsregister Jeugd"),
    SelectChoice("BIG", "BIG-register"),
    SelectChoice("V&VN", "V&VN Kwaliteitsregister"),
]


class ProfileForm(FlaskForm):
    display_name = display_name_field()
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


_CODE_MESSAGE = "Vul de code uit je app of een herstelcode in."


class SecondStepForm(FlaskForm):
    code = StringField(
        "Code uit je authenticator-app, of een herstelcode",
        validators=[DataRequired(_CODE_MESSAGE), Length(max=20, message=_CODE_MESSAGE)],
    )


class TwoFactorEnableForm(FlaskForm):
    password = PasswordField(
        "Je wachtwoord, ter bevestiging", validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)]
    )
    code = StringField(
        "Code van 6 cijfers uit je app",
        validators=[DataRequired("Vul de code uit je app in."), Length(max=20, message="Vul de code uit je app in.")],
    )


class TwoFactorConfirmForm(FlaskForm):
    """Switching it off or making new recovery codes: password and a current code (or a recovery code)."""

    password = PasswordField(
        "Je wachtwoord, ter bevestiging", validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)]
    )
    code = StringField(
        "Code uit je app, of een herstelcode",
        validators=[DataRequired(_CODE_MESSAGE), Length(max=20, message=_CODE_MESSAGE)],
    )


class EndSessionsForm(FlaskForm):
    """Ending sessions asks for the password again (a stolen session cannot shut out its owner).
    The button that was pressed sends `session_id`; "end all others" sends none."""

    password = PasswordField(
        "Je wachtwoord, om sessies te beëindigen",
        validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)],
    )
    session_id = StringField(validators=[Length(max=10)])


class PasskeyAddForm(FlaskForm):
    # Field names of their own: the same page holds the confirm form with its own password field.
    passkey_name = StringField(
        "Naam van deze passkey (bijvoorbeeld ‘Telefoon’ of ‘USB-sleutel’)",
        validators=[DataRequired("Geef de passkey een naam."), Length(max=60, message="Hoogstens 60 tekens.")],
    )
    passkey_password = PasswordField(
        "Je wachtwoord, om de passkey toe te voegen",
        validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)],
    )
    credential = HiddenField()


class PasskeyRemoveForm(FlaskForm):
    """The pressed button sends `passkey_id`; removing a passkey asks for the password again."""

    passkey_password_remove = PasswordField(
        "Je wachtwoord, om een passkey te verwijderen",
        validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)],
    )
    passkey_id = StringField(validators=[DataRequired(), Length(max=10)])


class PasskeySignInForm(FlaskForm):
    credential = HiddenField()


class ConfirmRegistrationForm(FlaskForm):
    """The button on the page the confirmation link opens; the token travels in the form, not the URL."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])


class InvitedRegisterForm(FlaskForm):
    """An account for an invited address: the address comes from the invitation, not from the form."""

    display_name = RegisterForm.display_name
    password = RegisterForm.password
    password_confirm = RegisterForm.password_confirm

    def __init__(self, *args, invited_email: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = invited_email

    def validate_password(self, field: PasswordField) -> None:
        # RegisterForm checks its password in a method, which copying the field does not bring along.
        _check_new_password(field, self.display_name.data, self.invited_email)


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "E-mailadres",
        validators=[DataRequired(EMAIL_MESSAGE), Email(EMAIL_MESSAGE, check_deliverability=False), Length(max=254)],
    )


class ResetPasswordForm(FlaskForm):
    """The token travels in the form; the password rules need the account, so the view checks them."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])
    new_password = PasswordField("Nieuw wachtwoord", validators=[DataRequired("Kies een nieuw wachtwoord.")])
    new_password_confirm = PasswordField(
        "Herhaal nieuw wachtwoord",
        validators=[
            DataRequired("Herhaal je nieuwe wachtwoord."),
            EqualTo("new_password", "De wachtwoorden zijn niet gelijk."),
        ],
    )


class VerifyEmailForm(FlaskForm):
    """The button on the page a verification link opens (a mail scanner opening the link changes nothing)."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])


class ResendVerificationForm(FlaskForm):
    """Empty form: sending a new verification link is a POST that carries a CSRF token."""


class EmailChangeForm(FlaskForm):
    new_email = EmailField(
        "Nieuw e-mailadres",
        validators=[DataRequired(EMAIL_MESSAGE), Email(EMAIL_MESSAGE, check_deliverability=False), Length(max=254)],
    )
    password = PasswordField(
        "Je wachtwoord, ter bevestiging", validators=[DataRequired("Vul je wachtwoord in."), Length(max=256)]
    )
