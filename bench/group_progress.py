"""Group-buy progress fragment under load: requests/s, p99 and CPU per request of
GET /groups/<id>/progress on its 200 path (an htmx poll without a cached copy) and its
304 path (If-None-Match with the current ETag: what a polling phone sends while nothing
changes), next to an empty Flask response on the same gunicorn settings. Prints figures;
not a test.

    .venv/bin/python bench/group_progress.py [--workers 2] [--duration 10] [--connections 8]

Makes a throw-away instance (SQLite in a temp dir, or DATABASE_URL if set), migrates it
and loads the demo data, which has an open group (the demo friend's). Target (DESIGN
section 8): the fragment serves at least half of the empty response's requests/s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pages import (count_queries, demo_instance, log, run_wrk, start_gunicorn,  # noqa: E402
                         stop, wait_until_up)

TARGET = 50.0  # % of the empty response's requests/s


def open_group_id() -> int:
    from sqlalchemy import select

    from shop import create_app
    from shop.db import db
    from shop.groups.models import Group

    app = create_app()
    with app.app_context():
        found = db.session.scalar(select(Group.id).where(Group.status == "open").limit(1))
    if found is None:
        raise SystemExit("the demo data has no open group")
    return found


def etag_of(url: str) -> str:
    request = urllib.request.Request(url, headers={"HX-Request": "true"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status
        return response.headers["ETag"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians shown")
    args = parser.parse_args()
    tmp, env = demo_instance("shop-bench-group-")
    servers = []
    try:
        from shop import create_app

        path = f"/groups/{open_group_id()}/progress"
        sql = {"200": count_queries(create_app(), path, headers={"HX-Request": "true"})}
        empty = start_gunicorn("bench.empty_app:app", args.workers, env, tmp / "empty.log")
        servers.append(empty)
        shop = start_gunicorn("wsgi:app", args.workers, env, tmp / "shop.log")
        servers.append(shop)
        wait_until_up(*empty, tmp / "empty.log")
        wait_until_up(*shop, tmp / "shop.log")
        etag = etag_of(shop[1] + path)
        sql["304"] = count_queries(create_app(), path,
                                   headers={"HX-Request": "true", "If-None-Match": etag})
        runs = [("empty /", empty, "/", ()),
                ("progress 200", shop, path, ("HX-Request: true",)),
                ("progress 304", shop, path, ("HX-Request: true", f"If-None-Match: {etag}"))]
        for _label, (_proc, base), url, headers in runs:  # warm-up, not counted
            subprocess.run(["/usr/bin/wrk", "-t1", "-c2", "-d1s",
                            *(a for h in headers for a in ("-H", h)), base + url],
                           capture_output=True, check=True)
        rounds: dict[str, list[dict]] = {label: [] for label, *_rest in runs}
        for n in range(args.rounds):
            for label, (proc, base), url, headers in runs:
                log(f"round {n + 1}/{args.rounds}: wrk {label} for {args.duration}s")
                rounds[label].append(run_wrk(base + url, args.duration, args.connections,
                                             proc.pid, headers))
    finally:
        for proc, _base in servers:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nGroup progress fragment {path}: gunicorn -w {args.workers} -k sync, "
          f"wrk -t{min(2, args.connections)} -c{args.connections} -d{args.duration}s, "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'response':<16}{'req/s':>9}{'% empty':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'CPU ms/req':>12}{'SQL':>6}  target")
    for label, results in rounds.items():
        share = statistics.median(100 * r["rps"] / e["rps"]
                                  for r, e in zip(results, rounds["empty /"]))
        figures = {k: statistics.median(r[k] for r in results) for k in ("rps", "p50", "p99", "cpu_ms")}
        target = "" if label == "empty /" else \
            f">= {TARGET:.0f} %  " + ("ok" if share >= TARGET else "MISSED")
        counted = sql.get(label.split()[-1])
        queries = f"{counted['n']}/{counted['warm']}" if counted else ""
        print(f"{label:<16}{figures['rps']:>9.0f}{share:>8.1f}%{figures['p50']:>9.2f}"
              f"{figures['p99']:>9.2f}{figures['cpu_ms']:>12.2f}{queries:>6}  {target}")
        for problem in sorted({p for r in results for p in r["problems"]}):
            print(f"  WARNING {label}: {problem}")
    print("SQL: statements of one request with the cache empty / filled (test client)")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, temp dir removed")
