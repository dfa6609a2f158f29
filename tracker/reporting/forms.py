"""Forms of the extension flow; values are validated by ``reporting.extensions`` (shared with the API)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField


class ExtensionForm(FlaskForm):
    """A lead unit's request, or (``reason`` labelled 调整理由) a supervisor's direct change."""

    new_deadline = StringField("新的完成时限")
    reason = TextAreaField("申请理由")
    version = HiddenField()
    VISIBLE = ("new_deadline", "reason")

    def service_data(self) -> dict:
        return {"new_deadline": self.new_deadline.data, "reason": self.reason.data, "version": self.version.data}


class DecisionForm(FlaskForm):
    decision = StringField()  # set by the clicked button
    comment = TextAreaField("审批意见")
    back = HiddenField()
    VISIBLE = ("comment",)

    def service_data(self) -> dict:
        return {"decision": self.decision.data, "comment": self.comment.data}
