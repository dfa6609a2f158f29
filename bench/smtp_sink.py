"""A loopback SMTP server in its own process, for benchmarks and fault tests.

Accepts every message and appends its ``X-Tracker-Dedupe-Key`` header, one a
line, to ``--log`` (flushed at once, so a reader sees each accepted message); a
line ``+`` is written when a message's DATA starts and ``x`` when its client
went away before the answer (not taken), so a reader can wait until every
message the server began is settled (``Sink.settled``) instead of sleeping.
``--data-delay`` seconds are slept before answering DATA (a slow server, so a
kill lands mid-send); ``--kill-after N --kill-pid-file F`` SIGKILLs the process
whose id is in F right after taking the N-th message, before answering it. Prints ``ready <port>`` when listening. ``Sink`` starts it from Python.

    python bench/smtp_sink.py --port 0 --log /tmp/keys.txt [--data-delay 0.5]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller

_KEY = re.compile(rb"^X-Tracker-Dedupe-Key:\s*(.+?)\r?$", re.MULTILINE | re.IGNORECASE)


class Handler:
    def __init__(self, log_path: str, delay: float, kill_after: int = 0, kill_pid_file: str = ""):
        self.log = open(log_path, "a", encoding="utf-8")
        self.delay = delay
        self.kill_after, self.kill_pid_file = kill_after, kill_pid_file
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.log.write("+\n")
        self.log.flush()
        if self.delay:
            try:
                await asyncio.sleep(self.delay)
            except asyncio.CancelledError:  # the client went away before the answer: not taken
                self.log.write("x\n")
                self.log.flush()
                raise
        match = _KEY.search(envelope.original_content or envelope.content)
        self.log.write((match.group(1).decode("utf-8", "replace").strip() if match else "-") + "\n")
        self.log.flush()
        self.count += 1
        if self.kill_after and self.count == self.kill_after:
            # Fault tests: the message is taken, but its sender dies before it hears "250".
            os.kill(int(Path(self.kill_pid_file).read_text()), signal.SIGKILL)
        return "250 OK"


class Sink:
    """bench/smtp_sink.py in its own process (so its parsing does not share our GIL)."""

    def __init__(self, log: Path, data_delay: float = 0.0, kill_after: int = 0, kill_pid_file: str = ""):
        log = Path(log)
        self.log = log
        log.write_text("")
        self.proc = subprocess.Popen([sys.executable, __file__, "--log", str(log), "--data-delay", str(data_delay),
                                      "--kill-after", str(kill_after), "--kill-pid-file", str(kill_pid_file)],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            self.stop()
            raise RuntimeError("smtp_sink did not start")
        self.port = int(line[1])

    def keys(self) -> list[str]:
        return [line for line in self.log.read_text(encoding="utf-8").split() if line not in ("+", "x")]

    def settled(self) -> bool:
        """True when every message whose DATA began has been taken or dropped."""
        lines = self.log.read_text(encoding="utf-8").split()
        return 2 * lines.count("+") == len(lines)

    def received(self) -> int:
        return len(self.keys())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--data-delay", type=float, default=0.0)
    parser.add_argument("--kill-after", type=int, default=0)
    parser.add_argument("--kill-pid-file", default="")
    args = parser.parse_args(argv)
    port = args.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    controller = Controller(Handler(args.log, args.data_delay, args.kill_after, args.kill_pid_file), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
