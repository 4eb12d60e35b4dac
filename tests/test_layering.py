"""Imports run downhill (DESIGN §10) and the order lifecycle's order is pinned.

- No cycle between the shop's packages and top-level modules: every import counts,
  inside functions too (a deferred import is still a dependency).
- Importing a domain's services imports no views and no blueprint.
- Signals are declared in shop/signals.py only.
- The order lifecycle's participants run in the declared order, which follows the lock
  order (shop.orders.lifecycle), and each is joined by the domain that owns it."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.pages  # the imports of the source and the lifecycle's declared order (SQLite pass only)

SHOP = Path(__file__).resolve().parent.parent / "shop"


def _unit(module: str) -> str | None:
    """The package or top-level module of shop that a module belongs to."""
    parts = module.split(".")
    if parts[0] != "shop" or len(parts) < 2:
        return None
    return parts[1]


def _imports() -> dict[str, dict[str, list[str]]]:
    """unit -> {unit it imports: [where]} over every file of shop/."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in SHOP.rglob("*.py"):
        relative = path.relative_to(SHOP.parent).with_suffix("")
        module = ".".join(relative.parts)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        source = _unit(module.removesuffix(".__init__")) or "shop"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                    + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                unit = _unit(target)
                if unit and unit != source and ((SHOP / unit).is_dir() or (SHOP / f"{unit}.py").exists()):
                    graph[source][unit].append(f"{relative}.py:{node.lineno}")
    return graph


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one unit (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_package_imports_one_that_imports_it_back():
    graph = _imports()
    problems = []
    for component in _cycles(graph):
        edges = [f"  {a} -> {b} ({', '.join(graph[a][b][:2])})"
                 for a in component for b in component if b in graph[a]]
        problems.append("cycle " + " / ".join(component) + ":\n" + "\n".join(edges))
    assert not problems, "\n".join(problems)


def test_the_cycle_finder_finds_a_cycle():
    """The test above can fail: a made-up graph with a loop through three units."""
    graph = {"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}, "d": {"a": ["w"]}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_the_base_modules_import_no_domain():
    """The modules every domain builds on stand below all of them."""
    graph = _imports()
    base = ("db", "money", "config", "extensions", "jobs", "live", "web", "signals", "pricing", "text",
            "ratelimit")
    domains = {path.name for path in SHOP.iterdir() if (path / "__init__.py").exists()} - set(base)
    wrong = {unit: sorted(set(graph.get(unit, {})) & domains) for unit in base}
    assert {unit: found for unit, found in wrong.items() if found} == {}


def test_importing_the_services_imports_no_views():
    """Every domain's services, imported in a fresh interpreter, bring in no views, admin
    views or blueprints (views are registered by create_app through the blueprints)."""
    modules = sorted(f"shop.{path.parent.name}.services" for path in SHOP.glob("*/services.py"))
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "print('\\n'.join(m for m in sys.modules if m.startswith('shop.') and "
            "m.rsplit('.', 1)[-1] in ('views', 'admin_views', 'blueprint')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=SHOP.parent, check=True).stdout.split()
    assert len(modules) > 15 and loaded == []


def test_signals_are_declared_in_one_module():
    declared = []
    for path in SHOP.rglob("*.py"):
        if path.name == "signals.py" and path.parent == SHOP:
            continue
        text = path.read_text()
        if "Namespace()" in text or ".signal(" in text:
            declared.append(str(path.relative_to(SHOP.parent)))
    assert declared == []


def test_the_participants_run_in_the_declared_lock_order(app):
    from shop.orders import lifecycle

    assert [(p.name, p.rank) for p in lifecycle.PARTICIPANTS] == [
        ("pickup", None), ("coupons", "shoppers"), ("points", "shoppers"),
        ("growth", "shoppers"), ("commissions", "shoppers"), ("attribution", None),
        ("figures", "shoppers"), ("bargain", "group"), ("group", "group"),
        ("flash", "campaign"), ("mall", "campaign")]
    ranks = [lifecycle.RANKS.index(p.rank) for p in lifecycle.PARTICIPANTS if p.rank]
    assert ranks == sorted(ranks)  # never a row of an earlier kind after a later one
    assert lifecycle.RANKS == ("order", "payments", "shoppers", "group", "campaign", "stock")
    joined = lifecycle.joined()
    assert set(joined) == {p.name for p in lifecycle.PARTICIPANTS}
    for participant in lifecycle.PARTICIPANTS:
        for stage in joined[participant.name]:
            hook = lifecycle._HOOKS[participant.name][stage]
            assert hook.__module__.startswith(f"shop.{participant.owner}."), (participant, stage)


def test_run_calls_the_hooks_in_the_declared_order(app, monkeypatch):
    """run() follows PARTICIPANTS, not the order in which the domains joined."""
    from shop.orders import lifecycle

    called = []
    hooks = {p.name: {"placed": (lambda name: lambda order, **kw: called.append(name))(p.name)}
             for p in reversed(lifecycle.PARTICIPANTS)}
    monkeypatch.setattr(lifecycle, "_HOOKS", hooks)
    lifecycle.run("placed", object())
    assert called == [p.name for p in lifecycle.PARTICIPANTS]
    with pytest.raises(LookupError):
        lifecycle.join("emails", paid=lambda order: None)
