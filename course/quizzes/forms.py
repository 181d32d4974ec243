from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """Carries the CSRF token for start/practice buttons; the attempt form is parsed by responses.py."""
