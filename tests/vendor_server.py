"""A loopback HTTP server (a thread in the test process) that plays WeCom, DingTalk and Feishu robots.

It checks each request as the vendor documents it — path and credential, DingTalk's ``timestamp`` +
``sign`` query parameters, Feishu's ``timestamp`` + ``sign`` body fields (HMAC-SHA256, Base64), the
timestamp within one hour — and answers from a script per vendor: ``ok``, ``error`` (errcode/code ≠ 0),
``ratelimit`` (45009 / 130101 / 11232), ``500``, ``hang`` (no answer until the test ends: the client
times out), ``drop`` (connection closed without an answer), ``redirect`` (302 elsewhere).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WECOM_KEY = "693a91f6-7f9c-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "ding0123456789abcdef"
DING_SECRET = "SEC0123456789abcdefDINGTALKsecret"
FEISHU_HOOK = "2b5c9e0a-feed-4bcd-9abc-0123456789ab"
FEISHU_SECRET = "feishuSECRETabc123"

RATE = {"wecom": (45009, "api freq out of limit"), "dingtalk": (130101, "send too fast, exceed 20 times per minute"),
        "feishu": (11232, "frequency limited")}
ERROR = {"wecom": (93000, "invalid webhook url"), "dingtalk": (310000, "sign not match"),
         "feishu": (19021, "sign match fail or timestamp is not within one hour from current time")}


def _answer(vendor: str, code: int, msg: str) -> dict:
    if vendor == "feishu":
        return {"code": code, "msg": msg, "data": {}}
    return {"errcode": code, "errmsg": msg}


class VendorServer:
    def __init__(self, port: int = 0):
        self.script: dict[str, list[str]] = {"wecom": [], "dingtalk": [], "feishu": []}
        self.default = "ok"
        self.received: dict[str, list[dict]] = {"wecom": [], "dingtalk": [], "feishu": []}  # accepted payloads
        self.requests: dict[str, int] = {"wecom": 0, "dingtalk": 0, "feishu": 0}
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # URLs as the vendors issue them, on this server (allowed with WEBHOOK_ALLOW_HOSTS=127.0.0.1)
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, vendor: str) -> str:
        return {"wecom": f"{self.base}/cgi-bin/webhook/send?key={WECOM_KEY}",
                "dingtalk": f"{self.base}/robot/send?access_token={DING_TOKEN}",
                "feishu": f"{self.base}/open-apis/bot/v2/hook/{FEISHU_HOOK}"}[vendor]

    def start(self) -> "VendorServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def plan(self, vendor: str, *modes: str) -> None:
        with self.lock:
            self.script[vendor].extend(modes)

    # ------------------------------------------------------------------ request handling

    def _mode(self, vendor: str) -> str:
        with self.lock:
            self.requests[vendor] += 1
            return self.script[vendor].pop(0) if self.script[vendor] else self.default

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(req.path)
        query = urllib.parse.parse_qs(parts.query)
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length)
        if parts.path == "/cgi-bin/webhook/send":
            vendor, problem = "wecom", None if query.get("key") == [WECOM_KEY] else (93000, "invalid webhook url")
        elif parts.path == "/robot/send":
            vendor, problem = "dingtalk", self._check_dingtalk(query)
        elif parts.path == f"/open-apis/bot/v2/hook/{FEISHU_HOOK}":
            vendor, problem = "feishu", None
        else:
            return self._send(req, 404, {"error": "not found"})
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return self._send(req, 400, _answer(vendor, 40000, "invalid json"))
        if vendor == "feishu":
            problem = self._check_feishu(body)
            body = {k: v for k, v in body.items() if k not in ("timestamp", "sign")}
        mode = self._mode(vendor)
        if mode == "hang":
            self.release.wait(30)
            return
        if mode == "drop":
            req.close_connection = True
            req.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "500":
            return self._send(req, 500, {"error": "internal"})
        if mode == "redirect":
            req.send_response(302)
            req.send_header("Location", "http://127.0.0.1:9/elsewhere")
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        if problem is not None:
            return self._send(req, 200, _answer(vendor, *problem))
        if mode == "ratelimit":
            return self._send(req, 200, _answer(vendor, *RATE[vendor]))
        if mode == "error":
            return self._send(req, 200, _answer(vendor, *ERROR[vendor]))
        if not self._well_formed(vendor, body):
            return self._send(req, 200, _answer(vendor, 40008, "invalid message type or content"))
        with self.lock:
            self.received[vendor].append(body)
        return self._send(req, 200, _answer(vendor, 0, "success" if vendor == "feishu" else "ok"))

    @staticmethod
    def _check_dingtalk(query) -> tuple[int, str] | None:
        """DingTalk 加签: sign == Base64(HmacSHA256(secret, f"{timestamp}\\n{secret}")), timestamp in ms ±1 h."""
        if query.get("access_token") != [DING_TOKEN]:
            return (300001, "token is not exist")
        try:
            ts = int(query["timestamp"][0])
            sign = query["sign"][0]  # parse_qs undid the urlEncode
        except (KeyError, ValueError):
            return (310000, "sign not match")
        expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
        if sign != expected or abs(ts / 1000 - time.time()) > 3600:
            return (310000, "sign not match")
        return None

    @staticmethod
    def _check_feishu(body: dict) -> tuple[int, str] | None:
        """Feishu 签名校验: sign == Base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg="")), seconds ±1 h."""
        try:
            ts = int(body["timestamp"])
        except (KeyError, ValueError):
            return ERROR["feishu"]
        expected = base64.b64encode(hmac.new(f"{ts}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
        if body.get("sign") != expected or abs(ts - time.time()) > 3600:
            return ERROR["feishu"]
        return None

    @staticmethod
    def _well_formed(vendor: str, body: dict) -> bool:
        """The documented shapes and size limits."""
        size = len(json.dumps(body, ensure_ascii=False).encode())
        if vendor == "wecom":
            content = body.get("markdown", {}).get("content", "")
            return body.get("msgtype") == "markdown" and 0 < len(content.encode()) <= 4096
        if vendor == "dingtalk":
            md = body.get("markdown", {})
            return body.get("msgtype") == "markdown" and bool(md.get("title")) and bool(md.get("text"))
        post = body.get("content", {}).get("post", {}).get("zh_cn", {})
        return body.get("msg_type") == "post" and bool(post.get("title")) and size <= 20 * 1024

    @staticmethod
    def _send(req, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)
