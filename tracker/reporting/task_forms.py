"""Forms of the task page. Validation of the values lives in the services
(tracker.reporting.progress / review) so the web form and the API share it;
the forms render fields and carry the CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..rules.status import IN_PROGRESS, NOT_STARTED, PENDING_REVIEW, STATUS_LABELS

REPORT_STATUSES = (NOT_STARTED, IN_PROGRESS, PENDING_REVIEW)


class ProgressForm(FlaskForm):
    status = SelectField("状态", choices=[SelectChoice(s, STATUS_LABELS[s]) for s in REPORT_STATUSES], validate_choice=False)
    progress = StringField("完成进度（%）")
    narrative = TextAreaField("进展情况")
    problems = TextAreaField("存在问题")
    next_steps = TextAreaField("下步计划")
    files = MultipleFileField("佐证材料")
    version = HiddenField()
    VISIBLE = ("status", "progress", "narrative", "problems", "next_steps", "files")

    def service_data(self) -> dict:
        return {"status": self.status.data, "progress": self.progress.data, "narrative": self.narrative.data,
                "problems": self.problems.data, "next_steps": self.next_steps.data, "version": self.version.data}


class ReviewForm(FlaskForm):
    decision = StringField()  # set by the clicked button, not rendered by hidden_tag
    comment = TextAreaField("审核意见")
    version = HiddenField()
    back = HiddenField()
    VISIBLE = ("comment",)

    def service_data(self) -> dict:
        return {"decision": self.decision.data, "comment": self.comment.data, "version": self.version.data}
