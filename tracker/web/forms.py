"""Forms every page may use: the CSRF-protected button form."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """CSRF-protected button forms."""
