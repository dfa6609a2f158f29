"""Reporting by the units (SPEC 2.3, 6.1): progress reports with evidence files, my tasks, the bureau's
review of completion claims (销号/退回), and deadline extensions (延期申请).

Views: ``task_views`` (the task page, report form, evidence downloads, my tasks), ``review_views``,
``extension_views``. Use cases: ``progress``, ``attachments``, ``review``, ``extensions``."""
