from flask_wtf import FlaskForm


class MarkReadForm(FlaskForm):
    """No fields: the lesson comes from the URL; the form carries the CSRF token."""
