from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from course.sso.providers import DOMAIN_PATTERN, SLUG_PATTERN, normalize_domain


class ProviderForm(FlaskForm):
    name = StringField(
        "Naam op de inlogknop",
        validators=[DataRequired("Vul een naam in."), Length(max=80, message="Hoogstens 80 tekens.")],
    )
    slug = StringField(
        "Korte naam in het adres",
        validators=[DataRequired("Vul een korte naam in."), Length(max=40, message="Hoogstens 40 tekens.")],
    )
    discovery_url = StringField(
        "Discovery-URL (of issuer)",
        validators=[DataRequired("Vul de discovery-URL in."), Length(max=500, message="Hoogstens 500 tekens.")],
    )
    client_id = StringField(
        "Client-ID", validators=[DataRequired("Vul de client-ID in."), Length(max=255, message="Hoogstens 255 tekens.")]
    )
    client_secret = PasswordField(
        "Client-secret", validators=[Optional(), Length(max=500, message="Hoogstens 500 tekens.")]
    )
    role_claim = StringField("Claim met rollen of groepen", validators=[Optional(), Length(max=64)])
    trainer_values = StringField("Waarden voor de rol trainer", validators=[Optional(), Length(max=500)])
    admin_values = StringField("Waarden voor de rol beheerder", validators=[Optional(), Length(max=500)])
    enabled = BooleanField("Inlogknop tonen (uitvinken: niemand kan via deze organisatie inloggen)", default=True)

    def validate_slug(self, field: StringField) -> None:
        field.data = (field.data or "").strip().lower()
        if not SLUG_PATTERN.match(field.data):
            raise ValidationError("Gebruik kleine letters, cijfers en streepjes, zoals ‘zorggroep-noord’.")

    def validate_discovery_url(self, field: StringField) -> None:
        url = (field.data or "").strip()
        parts = urlsplit(url)
        local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ValidationError(
                "Gebruik een https-adres, zoals https://login.example.nl/.well-known/openid-configuration."
            )
        if not parts.netloc or parts.query or parts.fragment:
            raise ValidationError("Dit is geen geldig adres van een inlogdienst.")
        if not url.endswith("/.well-known/openid-configuration"):
            url = url.rstrip("/") + "/.well-known/openid-configuration"
        field.data = url


class DomainForm(FlaskForm):
    domain = StringField(
        "E-maildomein zonder wachtwoorden", validators=[DataRequired("Vul een domein in."), Length(max=253)]
    )

    def validate_domain(self, field: StringField) -> None:
        field.data = normalize_domain(field.data or "")
        if not DOMAIN_PATTERN.match(field.data):
            raise ValidationError("Vul een domein in zoals ‘zorggroep.nl’ (zonder @ en zonder naam ervoor).")


class ConfirmForm(FlaskForm):
    """A button with only the CSRF token (delete a provider or a domain)."""


class LinkPasswordForm(FlaskForm):
    password = PasswordField(
        "Wachtwoord van je bestaande account",
        validators=[DataRequired("Vul het wachtwoord van je account in."), Length(max=256)],
    )
