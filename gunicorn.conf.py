"""gunicorn settings, all overridable from the environment.

    gunicorn -c gunicorn.conf.py wsgi:app

GUNICORN_BIND       default 127.0.0.1:8000 (nginx proxies to it; a unix socket: unix:/run/tracker/web.sock)
GUNICORN_WORKERS    default 2 x CPU cores
GUNICORN_THREADS    default 2 threads per worker (gthread worker)
GUNICORN_TIMEOUT    default 60 s (a stuck request is killed and its transaction rolled back)
GUNICORN_ACCESSLOG  default "-" (stdout, collected by journald); empty string disables it
GUNICORN_LOGLEVEL   default info

The scheduler is NOT started here: it runs as exactly one separate process
(``flask --app wsgi run-scheduler``, see docs/deploy.md).
"""
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count())
threads = _int("GUNICORN_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then (bounded memory growth); jitter avoids all restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Trust X-Forwarded-* from the local nginx only (the app applies ProxyFix with TRACKER_PROXY_FIX=1).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "tracker-web"
# Each worker imports the app itself (no shared database connections across fork).
preload_app = False
# gunicorn's runtime control socket (~/.gunicorn/gunicorn.ctl) is shared by every instance of a user;
# off unless a path is given (several instances run side by side in tests and benchmarks).
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
