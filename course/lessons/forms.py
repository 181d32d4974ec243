from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import ValidationError

from course.lessons import reflections


class MarkReadForm(FlaskForm):
    """No fields: the lesson comes from the URL; the form carries the CSRF token."""


class ReflectionForm(FlaskForm):
    """The learner's answer to the lesson's reflection question (the label is the question)."""

    text = TextAreaField(
        "Je reflectie", filters=[reflections.normalise], render_kw={"rows": 8, "maxlength": reflections.MAX_CHARS}
    )

    def validate_text(self, field: TextAreaField) -> None:
        if message := reflections.problem(field.data):
            raise ValidationError(message)


class ShareReflectionForm(FlaskForm):
    share = StringField()

    def validate_share(self, field: StringField) -> None:
        if field.data not in ("ja", "nee"):
            raise ValidationError("Kies of je je reflectie wilt delen (ja of nee).")


class DeleteReflectionForm(FlaskForm):
    """No fields: the lesson comes from the URL; the form carries the CSRF token."""
