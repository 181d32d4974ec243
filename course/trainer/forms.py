from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from course import names
from course.timeutil import local_date, utcnow


class GroupForm(FlaskForm):
    name = StringField(
        "Naam van de groep",
        filters=[names.normalise],
        validators=[
            DataRequired("Geef de groep een naam."),
            Length(max=120, message="Geef de groep een naam van hoogstens 120 tekens."),
        ],
    )

    def validate_name(self, field: StringField) -> None:
        # Learners see the group's name: nothing invisible or direction-changing in it either.
        if message := names.problem(field.data or "", "De naam van de groep"):
            raise ValidationError(message)


class InviteForm(FlaskForm):
    email = EmailField(
        "E-mailadres van de cursist", validators=[DataRequired("Vul een e-mailadres in."), Length(max=254)]
    )


class CsvForm(FlaskForm):
    file = FileField("CSV-bestand met een kolom ‘email’", validators=[FileRequired("Kies een bestand.")])


class AssignForm(FlaskForm):
    due_on = DateField("Afronden uiterlijk op", validators=[DataRequired("Kies een datum.")])
    learner_id = HiddenField()

    def validate_due_on(self, field: DateField) -> None:
        # The Dutch date: just after midnight in the Netherlands it is still yesterday in UTC.
        if field.data and field.data < local_date(utcnow()):
            raise ValidationError("Kies een datum vandaag of later.")


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reden",
        validators=[DataRequired("Geef een reden op."), Length(min=5, max=500, message="Tussen 5 en 500 tekens.")],
    )
    quiz_id = HiddenField()


class EmptyForm(FlaskForm):
    """Only a CSRF token."""


class JoinForm(FlaskForm):
    code = StringField(
        "Groepscode", validators=[DataRequired("Vul de code in die je van je trainer kreeg."), Length(max=20)]
    )


class AnswerInvitationForm(FlaskForm):
    """Accept or decline an invitation: the button pressed names the answer."""

    answer = HiddenField()
