"""Error pages and the one mapping of domain errors to HTTP answers."""
from __future__ import annotations

from flask import Flask, flash, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError, Invalid
from ..extensions import db

MESSAGES = {
    400: "请求无效",
    401: "请先登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持该操作",
    409: "数据冲突",
    413: "上传的文件过大",
    422: "输入有误",
    429: "尝试过于频繁，请稍后再试",
    500: "服务器内部错误",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None, errors: dict | None = None):
    message = message or MESSAGES.get(status, "错误")
    if wants_json():
        body = {"error": message, "status": status}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message, errors=errors or {}), status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        return error_response(exc.status_code, exc.message, exc.errors if isinstance(exc, Invalid) else None)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        if wants_json():
            return error_response(400, "CSRF 校验失败")
        return error_response(400, "表单已过期或缺少安全令牌（CSRF），请刷新页面后重试。")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 413 and not wants_json() and request.referrer:
            flash(MESSAGES[413], "danger")
        return error_response(exc.code or 500, MESSAGES.get(exc.code or 500, exc.description))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)
