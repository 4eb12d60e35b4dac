"""Lighthouse (mobile) on the default run: home, product, article and group pages.

    .venv/bin/python bench/lighthouse.py [--runs 3]

Makes a throw-away instance with the demo data (as bench/pages.py), serves it the way
`make run` does (`flask run`, the development server, with the default configuration),
and runs Lighthouse's mobile preset (a mid-range phone, simulated slow 4G and a 4x slower
CPU) with Debian's /usr/bin/chromium on each page, as a visitor who is not signed in (a
friend opening a shared link), in Chinese and in English (Accept-Language). Prints the
four category scores per page and language, the median over --runs runs, and every audit
that did not pass in any run. Lighthouse itself comes
from npm (bench/package.json), installed into bench/node_modules on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import BIN, ROOT, demo_instance, free_port, log, stop, wait_until_up  # noqa: E402

BENCH = ROOT / "bench"
LIGHTHOUSE = BENCH / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET = 95
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-sync " \
               "--disable-background-networking --disable-component-update"


def install_lighthouse() -> None:
    if not LIGHTHOUSE.exists():
        log("installing Lighthouse into bench/node_modules (npm)")
        subprocess.run(["npm", "install", "--prefix", str(BENCH), "--no-audit", "--no-fund"],
                       check=True, capture_output=True)


def pages_to_measure(create_app) -> dict[str, str]:
    """The home page's first product, the oldest article (the demo's first, whose body
    has a heading and two product cards) and the demo's open group."""
    from sqlalchemy import select

    from pages import ids_in
    from shop.db import db
    from shop.groups.models import Group

    app = create_app()
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    products = ids_in(home, "/p/")
    articles = ids_in(client.get("/articles").get_data(as_text=True), "/a/")
    with app.app_context():
        group = db.session.scalar(select(Group.id).where(Group.status == "open").order_by(Group.id))
    if not (products and articles and group):
        sys.exit(f"the demo data has no product ({products}), article ({articles}) or open "
                 f"group ({group}) to measure")
    return {"home": "/", "product": f"/p/{products[0]}", "article": f"/a/{min(articles)}",
            "group": f"/groups/{group}"}


LANGUAGES = {"zh": "zh-CN,zh;q=0.9", "en": "en-US,en;q=0.9"}


def lighthouse(url: str, language: str, out: Path) -> dict:
    subprocess.run([
        str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
        "--extra-headers=" + json.dumps({"Accept-Language": LANGUAGES[language]}),
        f"--only-categories={','.join(CATEGORIES)}", f"--chrome-path={CHROMIUM}",
        f"--chrome-flags={CHROME_FLAGS}", "--locale=en",
    ], check=True, env={**os.environ, "CHROME_PATH": CHROMIUM})
    return json.loads(out.read_text())


def not_passed(report: dict) -> dict[str, str]:
    """Audits of the four categories that scored below 1 (informative ones aside), with
    what Lighthouse showed for them; those that do not count towards the score (weight
    0: the performance "opportunities", such as text compression) are marked."""
    found = {}
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if audit["score"] is not None and audit["score"] < 1:
                weight = "" if ref["weight"] > 0 else " (weight 0)"
                found[f"{category}: {audit['id']}{weight}"] = audit.get("displayValue") or ""
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page")
    parser.add_argument("--only", nargs="*", choices=("home", "product", "article", "group"),
                        help="measure only these pages")
    args = parser.parse_args()
    install_lighthouse()
    tmp, env = demo_instance("shop-lighthouse-")
    server = None
    try:
        from shop import create_app

        pages = pages_to_measure(create_app)
        if args.only:
            pages = {name: path for name, path in pages.items() if name in args.only}
        log(f"pages: {pages}")
        port = free_port()
        logfile = tmp / "server.log"
        server = subprocess.Popen(
            [str(BIN / "flask"), "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=logfile.open("w"), stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(server, base, logfile)
        scores: dict[str, dict[str, list[int]]] = {}
        problems: dict[str, dict[str, list[str]]] = {}  # audit -> page and language -> values
        rows = [(name, language) for name in pages for language in LANGUAGES]
        for n in range(args.runs):
            for row in rows:
                name, language = row
                log(f"run {n + 1}/{args.runs}: lighthouse {name} {pages[name]} ({language})")
                report = lighthouse(base + pages[name], language, tmp / f"{name}-{language}-{n}.json")
                for category in CATEGORIES:
                    score = round(100 * report["categories"][category]["score"])
                    scores.setdefault(row, {}).setdefault(category, []).append(score)
                for audit, value in not_passed(report).items():
                    problems.setdefault(audit, {}).setdefault(f"{name} {language}", []).append(value)
    finally:
        if server is not None:
            stop(server)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nLighthouse {lighthouse_version()} mobile, default run (flask run), median of "
          f"{args.runs}; target >= {TARGET} in every category")
    print("each cell: median (every run)")
    print(f"{'page':<10}{'path':<12}{'lang':<5}" + "".join(f"{c:>16}" for c in CATEGORIES)
          + "  target")
    for row in rows:
        name, language = row
        medians = [statistics.median(scores[row][c]) for c in CATEGORIES]
        runs = ["/".join(str(s) for s in scores[row][c]) for c in CATEGORIES]
        verdict = "ok" if min(medians) >= TARGET else "MISSED"
        print(f"{name:<10}{pages[name]:<12}{language:<5}"
              + "".join(f"{m:>5.0f} ({r:>8})" for m, r in zip(medians, runs)) + f"  {verdict}")
    print("\nAudits not passed in some run (page and language: what Lighthouse showed)")
    for audit, where in sorted(problems.items()):
        print(f"  {audit}")
        print("    " + "; ".join(f"{row}: {', '.join(v or '-' for v in values)}"
                                 for row, values in where.items()))


def lighthouse_version() -> str:
    package = BENCH / "node_modules" / "lighthouse" / "package.json"
    return json.loads(package.read_text())["version"]


if __name__ == "__main__":
    main()
