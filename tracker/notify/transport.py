"""Transports: SMTP (smtplib) or, with no MAIL_SERVER, ``.eml`` files in the instance folder."""
from __future__ import annotations

import re
import smtplib
import socket
import ssl
from email.message import EmailMessage
from pathlib import Path


class DeliveryError(Exception):
    """A delivery attempt failed; the message says why (kept as ``last_error``)."""


class SMTPTransport:
    name = "smtp"

    def __init__(self, host: str, port: int = 25, *, use_tls: bool = False, use_ssl: bool = False,
                 username: str = "", password: str = "", timeout: float = 10):
        self.host, self.port = host, port
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self.username, self.password = username, password
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.use_tls:
            conn.starttls(context=ssl.create_default_context())
        return conn

    def send(self, msg: EmailMessage, recipients: list[str]) -> str:
        """Send one message; returns a note (e.g. partially refused recipients) or raises DeliveryError.

        The connection is kept open for the next message of the same delivery run
        (``close()`` ends it); after any error it is dropped and reopened next time.
        """
        try:
            if self._conn is None:
                self._conn = self._connect()
                if self.username:
                    self._conn.login(self.username, self.password)
            refused = self._conn.send_message(msg, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            raise DeliveryError(f"收件人被拒绝：{_describe_refused(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            raise DeliveryError(f"SMTP 服务器拒绝：{exc.smtp_code} {text}".strip()) from None
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            if "timed out" in str(exc):
                raise DeliveryError(f"SMTP 服务器响应超时（{self.host}:{self.port}）") from None
            raise DeliveryError(f"SMTP 连接中断：{exc or '服务器断开连接'}") from None
        except (socket.timeout, TimeoutError):
            self._drop()
            raise DeliveryError(f"连接 SMTP 服务器超时（{self.host}:{self.port}）") from None
        except ConnectionRefusedError:
            self._drop()
            raise DeliveryError(f"无法连接 SMTP 服务器（{self.host}:{self.port}，连接被拒绝）") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryError(f"SMTP 发送失败：{type(exc).__name__}: {exc}") from None
        return f"部分收件人被拒绝：{_describe_refused(refused)}" if refused else ""

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._drop()


def _describe_refused(recipients: dict) -> str:
    return "；".join(f"{addr}（{code}）" for addr, (code, _msg) in recipients.items())


class FileTransport:
    """Writes each message as ``<id>-<key>.eml`` into a folder (the local default)."""

    name = "file"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def send(self, msg: EmailMessage, recipients: list[str], *, name: str = "") -> str:
        try:
            from ..files import write_private

            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name or msg.get("X-Tracker-Dedupe-Key", "mail"))[:120]
            path = write_private(self.folder / f"{safe}.eml", bytes(msg))  # 0600 in a 0700 folder
        except OSError as exc:
            raise DeliveryError(f"写入邮件文件失败：{exc}") from None
        return str(path)


def transport_from_config(config):
    if config.get("MAIL_SERVER"):
        return SMTPTransport(
            config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25),
            use_tls=bool(config.get("MAIL_USE_TLS")), use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME") or "", password=config.get("MAIL_PASSWORD") or "",
            timeout=float(config.get("MAIL_TIMEOUT") or 10),
        )
    return FileTransport(config["MAIL_FILE_FOLDER"])
