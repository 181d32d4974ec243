from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Reden van intrekking",
        validators=[
            DataRequired("Geef een reden op."),
            Length(min=5, max=500, message="De reden moet tussen 5 en 500 tekens lang zijn."),
        ],
    )
