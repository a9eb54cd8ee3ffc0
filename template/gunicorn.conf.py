"""gunicorn settings for long streaming responses (gunicorn reads this file from the cwd)."""

import ctypes
import multiprocessing
import os
import resource
import signal
import socket
from typing import Any

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

# gunicorn 25.1+ opens a control socket for gunicornc at one path per user ($HOME/.gunicorn/
# gunicorn.ctl), which every instance on the machine shares: each new one takes it over from the
# last. Off, unless GUNICORN_CONTROL_SOCKET names a path of this instance's own.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


# Each worker accepts the clients it sees first, so downloads that start together could all land
# on one worker while the other idles (4 opened one after the other went 4 to 0 every time here).
# Workers publish how many clients they hold in memory shared with the master; a worker holding
# more than a sibling leaves a new client to it for up to MAX_DEFERRALS milliseconds.
NO_WORKER = -1
MAX_DEFERRALS = 20
clients_held = multiprocessing.RawArray(ctypes.c_long, [NO_WORKER] * 256)


def pre_fork(server: Any, worker: Any) -> None:
    """Give a new worker a free slot in clients_held (runs in the master)."""
    taken = {other.slot for other in server.WORKERS.values()}
    worker.slot = next(slot for slot in range(len(clients_held)) if slot not in taken)
    clients_held[worker.slot] = 0


def child_exit(server: Any, worker: Any) -> None:
    """Free the slot of a worker that has exited (runs in the master)."""
    clients_held[worker.slot] = NO_WORKER


def post_worker_init(worker: Any) -> None:
    """Tell the app when the worker starts to stop; share new clients between the workers."""
    tell_the_app_of_shutdown(worker)
    quit_once(worker)
    share_clients(worker)


def tell_the_app_of_shutdown(worker: Any) -> None:
    """On SIGTERM, begin the app's shutdown as well as the worker's."""
    from gevent import spawn

    # The worker stops accepting and gives its clients graceful_timeout seconds, then cuts them.
    # Told at once, the app ends its event streams cleanly now (the browsers reconnect to a
    # worker that runs) and refuses new ones; downloads in flight go on to their end.
    stop = worker.handle_exit
    shutdown = getattr(worker.wsgi, "extensions", {}).get("shutdown")

    def handle_exit(signum: int, frame: Any) -> None:
        stop(signum, frame)
        if shutdown is not None:
            # Out of the signal handler, where gevent may not switch.
            spawn(shutdown.begin)

    signal.signal(signal.SIGTERM, handle_exit)


def quit_once(worker: Any) -> None:
    """Act on the first SIGINT or SIGQUIT only: Ctrl-C sends a worker both (twice its exit)."""
    # The terminal signals the whole process group, then the master QUITs its workers. gunicorn's
    # gevent worker exits from a greenlet on each; the second raised SystemExit into the
    # interpreter's shutdown, and printed its traceback.
    quit = worker.handle_quit
    quitting = False

    def handle_quit(signum: int, frame: Any) -> None:
        nonlocal quitting
        if not quitting:
            quitting = True
            quit(signum, frame)

    signal.signal(signal.SIGINT, handle_quit)
    signal.signal(signal.SIGQUIT, handle_quit)


def share_clients(worker: Any) -> None:
    """Count the clients this worker holds; defer an accept while a sibling holds fewer."""
    from gevent import spawn_later
    from gevent.server import StreamServer

    accept = StreamServer.do_read
    handle = worker.handle
    deferred = 0

    def accept_again(server: StreamServer) -> None:
        if server.started:
            server.start_accepting()

    def do_read(server: StreamServer) -> tuple[socket.socket, Any] | None:
        nonlocal deferred
        mine = clients_held[worker.slot]
        if deferred < MAX_DEFERRALS and any(NO_WORKER < held < mine for held in clients_held):
            deferred += 1
            server.stop_accepting()
            spawn_later(0.001, accept_again, server)
            return None
        deferred = 0
        client = accept(server)
        if client:
            clients_held[worker.slot] += 1
        return client

    def counted(*args: Any) -> None:
        try:
            handle(*args)
        finally:
            clients_held[worker.slot] -= 1

    # gevent's accept, replaced in this worker process only (the hook runs after the fork).
    StreamServer.do_read = do_read  # type: ignore[assignment, method-assign]
    worker.handle = counted
