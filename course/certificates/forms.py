from flask_wtf import FlaskForm


class ReissueForm(FlaskForm):
    """No fields: the certificate comes from the URL; the form carries the CSRF token."""
