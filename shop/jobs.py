"""Background jobs. `enqueue(fn, *args)` runs fn(*args) after the current transaction
commits (never if it rolls back):

- with REDIS_URL set, on RQ: `flask shop worker` processes the queue (run several for
  more throughput), runs jobs scheduled with `enqueue_at` when they fall due, and every
  SWEEP_SECONDS enqueues the sweeper, once per interval across all workers;
- without it, inline: right after the commit, by whoever committed (the request edge,
  a CLI command, another job), before the response is sent.

A job is a plain function of ids. It runs in its own transaction and commits, like a
request; it must be idempotent, because RQ may run it again after a crash, and the
sweeper retries work a failed job left behind (pending refunds, unconfirmed payments).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import current_app

from shop.db import db, on_commit, retryable

_INLINE = "shop_jobs_due"
SWEEP = "shop.sweeper:sweep"


def _name(fn: Callable) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def _resolve(name: str) -> Callable:
    import importlib

    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


def redis_connection():
    """The app's Redis client (its connection pool is reused by every enqueue)."""
    from redis import Redis

    client = current_app.extensions.get("shop_redis")
    if client is None:
        client = current_app.extensions["shop_redis"] = Redis.from_url(current_app.config["REDIS_URL"])
    return client


def queue():
    from rq import Queue

    return Queue(current_app.config["JOBS_QUEUE"], connection=redis_connection())


def enqueue(fn: Callable, *args) -> None:
    """Run fn(*args) once the current transaction has committed."""
    name = _name(fn)
    on_commit(lambda: _put(name, args))  # commit hooks run in the app context that committed


def enqueue_now(fn: Callable, *args) -> None:
    """Run fn(*args) now that what it is about has committed: for reactions to a signal
    sent after the commit (shop.signals), which have no transaction of their own."""
    _put(_name(fn), args)


def _put(name: str, args: tuple) -> None:
    if current_app.config["REDIS_URL"]:
        queue().enqueue(run, name, *args, job_timeout=300, result_ttl=3600)
    else:
        db.session.info.setdefault(_INLINE, []).append((name, args))


def enqueue_at(when, fn: Callable, *args) -> None:
    """Run fn(*args) at `when` (an aware datetime), after the current transaction commits.
    With REDIS_URL, RQ's scheduler (in every `flask shop worker`) enqueues it then.
    Without a queue nothing waits in memory: work that falls due is the sweeper's, which
    finds it in the database (a group past its deadline), so a scheduled job is only
    ever an early run of what the sweeper would do."""
    if current_app.config["REDIS_URL"]:
        name = _name(fn)
        on_commit(lambda: queue().enqueue_at(when, run, name, *args, job_timeout=300,
                                             result_ttl=3600))


def run(name: str, *args) -> None:
    """Execute one job in its own transaction (what the RQ worker calls). A job is an
    edge, like a request or a CLI command: here, and only here, its work commits. A
    deadlock or serialization failure runs it once more (shop.db.retryable), as a
    request does."""
    for attempt in (1, 2):
        try:
            _resolve(name)(*args)
            db.session.commit()
            return
        except Exception as exc:
            db.session.rollback()
            if attempt == 2 or not retryable(exc):
                raise
            current_app.logger.warning("job %s gave way (%s); running it again", name,
                                       exc.__class__.__name__)


def run_inline() -> None:
    """Run the jobs that committed work left due (no Redis). Called after each commit at
    the edges; a job that fails is logged and left to the sweeper's retry."""
    due = db.session.info.get(_INLINE)
    while due:
        name, args = due.pop(0)
        try:
            run(name, *args)
        except Exception:
            current_app.logger.exception("job %s%r failed", name, args)


# --- the worker and its schedule --------------------------------------------------------


def enqueue_sweep_once(slot: int) -> bool:
    """Enqueue the sweeper for this time slot unless another worker already did."""
    config = current_app.config
    key = f"shop:jobs:{config['JOBS_QUEUE']}:sweep:{slot}"
    if not redis_connection().set(key, 1, nx=True, ex=max(config["SWEEP_SECONDS"] * 10, 60)):
        return False
    # by name: the sweeper stands above every domain, and this module below them
    queue().enqueue(run, SWEEP, job_timeout=600, result_ttl=600)
    return True


def work(*, burst: bool = False) -> None:
    """Process the queue in this process (SimpleWorker: no fork, so the app and its
    connection pool are the worker's own). Not in burst mode, a thread enqueues the
    sweeper every SWEEP_SECONDS."""
    from rq import SimpleWorker

    app = current_app._get_current_object()
    every = app.config["SWEEP_SECONDS"]

    def schedule():
        while True:
            with app.app_context():
                try:
                    enqueue_sweep_once(int(time.time() // every))
                except Exception:
                    app.logger.exception("could not schedule the sweeper")
            time.sleep(every - time.time() % every + 0.1)

    class Worker(SimpleWorker):
        """RQ's worker, its command channel read every second rather than every minute:
        redis-py's PubSubWorkerThread.stop() waits for that read to end, so a worker being
        stopped (a deploy, the end of a burst) could otherwise hang for up to a minute."""

        def subscribe(self):
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler)

    enqueue_sweep_once(int(time.time() // every))
    if not burst:
        threading.Thread(target=schedule, daemon=True, name="sweep-schedule").start()
    Worker([queue()], connection=redis_connection()).work(burst=burst, with_scheduler=not burst)
