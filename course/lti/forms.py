from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from course.lti.platforms import PlatformDetails

URL_HELP = "Volledige https-URL"


class PlatformForm(FlaskForm):
    name = StringField(
        "Naam (voor jezelf, bijvoorbeeld ‘Moodle Hogeschool’)",
        validators=[DataRequired("Vul een naam in."), Length(max=120)],
    )
    issuer = StringField("Issuer (platform-ID)", validators=[DataRequired("Vul de issuer in."), Length(max=255)])
    client_id = StringField("Client-ID", validators=[DataRequired("Vul de client-ID in."), Length(max=255)])
    deployment_ids = TextAreaField(
        "Deployment-ID's (één per regel)",
        validators=[DataRequired("Vul minstens één deployment-ID in."), Length(max=4000)],
    )
    auth_login_url = StringField(
        "Inlog-URL van het platform (authentication request URL)",
        validators=[DataRequired("Vul de inlog-URL in."), Length(max=500)],
    )
    auth_token_url = StringField(
        "Token-URL (access token URL)", validators=[DataRequired("Vul de token-URL in."), Length(max=500)]
    )
    key_set_url = StringField(
        "Sleutelset-URL (public keyset URL)", validators=[DataRequired("Vul de sleutelset-URL in."), Length(max=500)]
    )

    def details(self) -> PlatformDetails:
        return PlatformDetails(
            name=self.name.data,
            issuer=self.issuer.data,
            client_id=self.client_id.data,
            deployment_ids=self.deployment_ids.data.splitlines(),
            auth_login_url=self.auth_login_url.data,
            auth_token_url=self.auth_token_url.data,
            key_set_url=self.key_set_url.data,
        )


class RemovePlatformForm(FlaskForm):
    confirm = BooleanField("Ik wil dit platform verwijderen: lanceringen ervan worden daarna geweigerd.")

    def validate_confirm(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError("Vink aan om te bevestigen.")
