"""A small closed-loop HTTP load generator (stdlib only, loopback).

    python bench/http_load.py http://127.0.0.1:8000 /ledger --connections 8 --duration 10 \
        [--user dubanke --password demo1234] [--token TOKEN] [--warmup 2]

Logs in once through the /login form (CSRF token from the page) and shares the session
cookie among N keep-alive connections (one thread each); each connection sends the
next request as soon as the previous answer is read. Reports requests/s, median and
p95 latency and error counts (non-2xx or connection errors). Bounded: --duration at
most 300 s.
"""
from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import threading
import time
import urllib.parse
from dataclasses import dataclass, field


def split(base: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(base)
    if u.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback only")
    return u.hostname, u.port or 80


def login(base: str, username: str, password: str) -> str:
    """Return the Cookie header of a logged-in session."""
    host, port = split(base)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    page = resp.read().decode()
    cookies = _cookies(resp)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": password}
    if token:
        form["csrf_token"] = token.group(1)
    conn.request("POST", "/login", body=urllib.parse.urlencode(form),
                 headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": _header(cookies)})
    resp = conn.getresponse()
    resp.read()
    cookies.update(_cookies(resp))
    conn.close()
    if resp.status != 302 or "/login" in (resp.getheader("Location") or ""):
        raise SystemExit(f"login as {username} failed (HTTP {resp.status})")
    return _header(cookies)


def _cookies(resp) -> dict:
    out = {}
    for name, value in resp.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            k, _, v = pair.partition("=")
            out[k.strip()] = v.strip()
    return out


def _header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


@dataclass
class Result:
    path: str
    connections: int
    duration: float
    latencies: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    errors: int = 0
    bytes: int = 0

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        ok = sum(n for s, n in self.statuses.items() if 200 <= int(s) < 300)
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] if lat else None
        return {
            "path": self.path, "connections": self.connections, "duration_s": round(self.duration, 2),
            "requests": len(lat), "rps": round(len(lat) / self.duration, 1) if self.duration else 0,
            "median_ms": round(statistics.median(lat) * 1000, 2) if lat else None,
            "p95_ms": round(p95 * 1000, 2) if p95 is not None else None,
            "ok": ok, "non_2xx": len(lat) - ok, "conn_errors": self.errors,
            "statuses": dict(sorted(self.statuses.items())),
            "kb_per_response": round(self.bytes / len(lat) / 1024, 1) if lat else 0,
        }


def run(base: str, path: str, connections: int = 8, duration: float = 10.0, headers: dict | None = None,
        warmup: float = 1.0) -> dict:
    duration = min(duration, 300)
    host, port = split(base)
    headers = dict(headers or {})
    lock = threading.Lock()
    result = Result(path=path, connections=connections, duration=duration)
    measuring = threading.Event()
    stop = threading.Event()

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=30)
        local_lat, local_status, local_err, local_bytes = [], {}, 0, 0
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                if measuring.is_set():
                    local_err += 1
                continue
            elapsed = time.perf_counter() - t0
            if measuring.is_set() and not stop.is_set():
                local_lat.append(elapsed)
                local_status[str(status)] = local_status.get(str(status), 0) + 1
                local_bytes += len(body)
        conn.close()
        with lock:
            result.latencies.extend(local_lat)
            for k, v in local_status.items():
                result.statuses[k] = result.statuses.get(k, 0) + v
            result.errors += local_err
            result.bytes += local_bytes

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    measuring.set()
    t0 = time.perf_counter()
    time.sleep(duration)
    stop.set()
    result.duration = time.perf_counter() - t0
    for t in threads:
        t.join(35)
    return result.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("path")
    parser.add_argument("--connections", "-c", type=int, default=8)
    parser.add_argument("--duration", "-d", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--user", default="dubanke")
    parser.add_argument("--password", default="demo1234")
    parser.add_argument("--token", help="use Authorization: Bearer instead of a session")
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {"Cookie": login(args.base, args.user, args.password)}
    print(json.dumps(run(args.base, args.path, args.connections, args.duration, headers, args.warmup),
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
