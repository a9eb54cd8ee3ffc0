"""gunicorn settings for long streaming responses (gunicorn reads this file from the cwd)."""

import os
import resource

bind = os.environ.get("BIND", "127.0.0.1:8000")

# Processes give throughput (one per core). Inside each, gevent serves every client on one
# thread, switching whenever one would wait: an idle open stream (an event listener, a slow
# download) costs a few kilobytes instead of a thread, so thousands fit in one process.
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
worker_class = "gevent"
# Clients per worker at once. The app turns streams away past STREAM_MAX_OPEN (10,000), below
# this, so that /healthz and short requests always find a place.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "10100"))

# Every client is an open file: lift the soft limit (often 1024) to what the system allows.
soft_limit, hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)
wanted = 65_536 if hard_limit == resource.RLIM_INFINITY else min(hard_limit, 65_536)
if soft_limit != resource.RLIM_INFINITY and soft_limit < wanted:
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard_limit))

# A worker that stops reporting in for this long is restarted; gevent's loop reports in between
# clients, so a long download does not trigger it (the sync worker would be killed mid-stream).
timeout = 60
graceful_timeout = 30
keepalive = 5

accesslog = "-"
