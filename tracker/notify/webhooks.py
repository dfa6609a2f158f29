"""Group-robot webhooks (SPEC 6.3): which URLs are allowed, masking, signing, and the HTTP transport.

What the vendors document (and what this module does with it):

* 企业微信 (WeCom) 群机器人 — "群机器人配置说明" (developer.work.weixin.qq.com, document/path/91770 · 99110):
  POST JSON to ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY``;
  ``{"msgtype": "markdown", "markdown": {"content": …}}``, content "最长不超过4096个字节，必须是utf8编码";
  "每个机器人发送的消息不能超过20条/分钟"; answer ``{"errcode": 0, "errmsg": "ok"}``; 45009 = 接口调用超过限制.
  No signing: the key in the URL is the credential (the doc: "一定要保护好机器人的webhook地址").
* 钉钉 (DingTalk) 自定义机器人 — "自定义机器人接入" / "自定义机器人安全设置·加签" (open.dingtalk.com):
  ``https://oapi.dingtalk.com/robot/send?access_token=TOKEN&timestamp=T&sign=S`` where T is milliseconds and
  S = urlEncode(Base64(HmacSHA256(key=secret, msg=f"{T}\\n{secret}"))), UTF-8; T within one hour of DingTalk's
  clock. ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; "每个机器人每分钟最多发送20条。如果超过
  20条，会限流10分钟"; answer ``{"errcode": 0, "errmsg": "ok"}``; 130101 = "send too fast, exceed 20 times per minute".
* 飞书 (Feishu) 自定义机器人 — "自定义机器人使用指南" (open.feishu.cn, client-docs/bot-v3/add-custom-bot):
  ``https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN``; the body carries ``timestamp`` (seconds) and
  ``sign`` = Base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=b"")); "频率控制 … 100 次/分钟，5 次/秒"
  (11232 = 限流), "请求体的数据大小不能超过 20 KB"; answer ``{"code": 0, "msg": "success", …}``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from typing import Callable, Optional

from .transport import DeliveryError

WECOM, DINGTALK, FEISHU = "wecom", "dingtalk", "feishu"
KINDS = (WECOM, DINGTALK, FEISHU)
KIND_LABELS = {WECOM: "企业微信", DINGTALK: "钉钉", FEISHU: "飞书"}
CHANNEL_LABELS = {"email": "邮件", **KIND_LABELS}


@dataclass(frozen=True)
class Vendor:
    host: str
    path: str            # exact path, or a prefix when ``path_prefix``
    path_prefix: bool
    token_param: str     # query parameter holding the credential ("" = the last path segment)
    needs_secret: bool
    per_minute: int      # documented per-robot limit
    rate_codes: frozenset  # vendor codes meaning "rate limited"
    penalty_seconds: int   # how long the vendor blocks after the limit


VENDORS = {
    WECOM: Vendor("qyapi.weixin.qq.com", "/cgi-bin/webhook/send", False, "key", False, 20,
                  frozenset({45009}), 60),
    DINGTALK: Vendor("oapi.dingtalk.com", "/robot/send", False, "access_token", True, 20,
                     frozenset({130101}), 600),
    FEISHU: Vendor("open.feishu.cn", "/open-apis/bot/v2/hook/", True, "", True, 100,
                   frozenset({11232}), 60),
}


def parse_allow_hosts(raw) -> set[str]:
    """``WEBHOOK_ALLOW_HOSTS``: comma-separated ``host`` or ``host:port`` (lower-cased)."""
    if isinstance(raw, (list, tuple, set)):
        parts = raw
    else:
        parts = (raw or "").replace("，", ",").split(",")
    return {p.strip().lower() for p in parts if p.strip()}


def validate_url(kind: str, url: str, allow_hosts=frozenset()) -> str:
    """The URL stripped, or ValueError with a Chinese message.

    Only ``https`` to the vendor's own host (default port) and its documented path are accepted;
    a host (or host:port) named in ``WEBHOOK_ALLOW_HOSTS`` is accepted over http or https too, still
    with the vendor's path. No user info, no fragment: the field cannot aim the server elsewhere.
    """
    vendor = VENDORS.get(kind)
    if vendor is None:
        raise ValueError("机器人类型应为 wecom、dingtalk 或 feishu")
    url = (url or "").strip()
    if not url:
        raise ValueError("请填写 Webhook 地址")
    if len(url) > 1000 or any(ch.isspace() for ch in url):
        raise ValueError("Webhook 地址格式不正确")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("Webhook 地址格式不正确") from None
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise ValueError("Webhook 地址不能包含用户名、密码或 # 片段")
    allowed = allow_hosts or set()
    listed = host in allowed or (port is not None and f"{host}:{port}" in allowed)
    if not listed:
        if parts.scheme != "https":
            raise ValueError("Webhook 地址必须以 https:// 开头")
        if host != vendor.host or port not in (None, 443):
            raise ValueError(f"{KIND_LABELS[kind]}机器人的地址必须是 https://{vendor.host}/…")
    elif parts.scheme not in ("http", "https"):
        raise ValueError("Webhook 地址必须以 http:// 或 https:// 开头")
    if vendor.path_prefix:
        token = parts.path[len(vendor.path):] if parts.path.startswith(vendor.path) else ""
        if not token or "/" in token or parts.query:
            raise ValueError(f"{KIND_LABELS[kind]}机器人的地址应为 https://{vendor.host}{vendor.path}…")
    else:
        query = urllib.parse.parse_qs(parts.query)
        if parts.path != vendor.path or not query.get(vendor.token_param, [""])[0]:
            raise ValueError(f"{KIND_LABELS[kind]}机器人的地址应为 https://{vendor.host}{vendor.path}"
                             f"?{vendor.token_param}=…")
    return url


def mask(value: str, keep: int = 4) -> str:
    """``SECabcdef123456`` → ``SECa…56``: never the whole credential."""
    value = value or ""
    if not value:
        return ""
    if len(value) <= keep + 2:
        return "*" * len(value)
    return f"{value[:keep]}…{value[-2:]}"


def mask_url(url: str) -> str:
    """The URL with its credential (key / access_token / hook token) masked."""
    try:
        parts = urllib.parse.urlsplit(url or "")
    except ValueError:
        return "（无效地址）"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    masked_query = "&".join(f"{k}={mask(v) if k in ('key', 'access_token') else v}" for k, v in query)
    path = parts.path
    if "/bot/v2/hook/" in path:
        head, _, token = path.rpartition("/")
        path = f"{head}/{mask(token)}"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, masked_query, ""))


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: urlEncode(Base64(HmacSHA256(secret, f"{timestamp}\\n{secret}"))), UTF-8."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: Base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
        raise DeliveryError(f"机器人地址返回重定向（HTTP {code}），已拒绝跟随")


class RateLimited(DeliveryError):
    """The vendor said "too many messages": retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class VendorAnswer:
    status: int
    body: str

    def short(self) -> str:
        return f"HTTP {self.status} {self.body[:300]}"


class WebhookTransport:
    """POSTs one JSON payload to one robot, signed as its vendor documents; raises DeliveryError.

    ``clock`` (seconds since the epoch) is injectable so tests control the signing timestamp.
    """

    def __init__(self, *, timeout: float = 10, allow_hosts=frozenset(), clock: Callable[[], float] = time.time):
        self.timeout = timeout
        self.allow_hosts = allow_hosts
        self.clock = clock
        self._opener = urllib.request.build_opener(_NoRedirect())

    def prepare(self, kind: str, url: str, secret: str, payload: dict) -> tuple[str, bytes]:
        url = validate_url(kind, url, self.allow_hosts)  # again at send time: the row may be old
        body = dict(payload)
        now = self.clock()
        if kind == DINGTALK and secret:
            ts = int(now * 1000)
            url = f"{url}&timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
        elif kind == FEISHU and secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
        return url, json.dumps(body, ensure_ascii=False).encode("utf-8")

    def send(self, kind: str, url: str, secret: str, payload: dict) -> VendorAnswer:
        try:
            target, data = self.prepare(kind, url, secret, payload)
        except ValueError as exc:
            raise DeliveryError(f"机器人地址不可用：{exc}") from None
        request = urllib.request.Request(target, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        label = KIND_LABELS[kind]
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                answer = VendorAnswer(response.status, response.read(65536).decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            text = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
            if exc.code == 429:
                raise RateLimited(f"{label}限流：HTTP 429 {text[:200]}", VENDORS[kind].penalty_seconds) from None
            raise DeliveryError(f"{label}服务器错误：HTTP {exc.code} {text[:200]}".strip()) from None
        except DeliveryError:
            raise
        except (socket.timeout, TimeoutError):
            raise DeliveryError(f"{label}服务器响应超时（{self.timeout:g} 秒）") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise DeliveryError(f"{label}服务器响应超时（{self.timeout:g} 秒）") from None
            raise DeliveryError(f"无法连接{label}服务器：{reason}") from None
        except (HTTPException, OSError) as exc:
            raise DeliveryError(f"{label}连接中断：{type(exc).__name__}") from None
        check_answer(kind, answer)
        return answer


def check_answer(kind: str, answer: VendorAnswer) -> None:
    """HTTP 200 is not enough: the JSON's ``errcode`` (WeCom, DingTalk) or ``code`` (Feishu) must be 0."""
    label = KIND_LABELS[kind]
    try:
        data = json.loads(answer.body)
    except ValueError:
        raise DeliveryError(f"{label}返回了无法识别的内容：{answer.short()}") from None
    field = "code" if kind == FEISHU else "errcode"
    code = data.get(field) if isinstance(data, dict) else None
    if kind == FEISHU and code is None and isinstance(data, dict):
        code = data.get("StatusCode")  # the older answer shape Feishu still documents
    if code == 0:
        return
    message = (data.get("msg") or data.get("errmsg") or "") if isinstance(data, dict) else ""
    vendor = VENDORS[kind]
    if isinstance(code, int) and code in vendor.rate_codes:
        raise RateLimited(f"{label}限流：{field}={code} {message}".strip(), vendor.penalty_seconds)
    raise DeliveryError(f"{label}拒绝：{field}={code} {message}".strip())


def transport_from_config(config, clock: Optional[Callable[[], float]] = None) -> WebhookTransport:
    return WebhookTransport(timeout=float(config.get("WEBHOOK_TIMEOUT") or 10),
                            allow_hosts=parse_allow_hosts(config.get("WEBHOOK_ALLOW_HOSTS")),
                            clock=clock or time.time)
