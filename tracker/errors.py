"""Domain errors raised by services; the web and API layers map them once."""
from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    message = "请求无效"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message


class Forbidden(DomainError):
    status_code = 403
    message = "无权访问该内容"


class NotFound(DomainError):
    status_code = 404
    message = "未找到"


class Conflict(DomainError):
    status_code = 409
    message = "该任务已被他人修改，请刷新后再提交"

    def __init__(self, message: str | None = None, current=None, changes: dict | None = None):
        super().__init__(message)
        self.current = current
        self.changes = changes or {}


class Invalid(DomainError):
    """Bad input: ``errors`` maps a field name to a list of messages."""

    status_code = 422
    message = "输入有误"

    def __init__(self, errors: dict[str, list[str]] | str, message: str | None = None):
        if isinstance(errors, str):
            errors = {"_": [errors]}
        self.errors = errors
        super().__init__(message or "；".join(m for msgs in errors.values() for m in msgs))
