from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional


class UrgeForm(FlaskForm):
    """催办: one measure (task_id) or all overdue measures of a unit (unit_id)."""

    task_id = HiddenField()
    unit_id = HiddenField()
    note = TextAreaField("督办意见", validators=[Optional(), Length(max=500, message="督办意见不能超过500字")])
