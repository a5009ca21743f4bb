"""Benchmark figures for the one table that ``./spin bench`` prints at the end.

Each benchmark calls ``record(name, value, unit, goal)``; the figure is appended (JSON lines) to
the file named by ``$SPIN_BENCH_FIGURES`` (``run.py`` sets it) and printed at once. ``goal`` is a
text like ``"<= 1.2"``, ``">= 0.8"``, ``"= 0"`` or ``None`` (a figure shown for reference); the
table marks whether the measured value meets it. Nothing here asserts: benchmarks report."""
import json
import os
import re

_GOAL = re.compile(r"^\s*(<=|>=|=|<|>)\s*([0-9.]+)")


def meets(value, goal):
    """True/False when ``goal`` says, None without a goal (or without a value)."""
    match = _GOAL.match(goal or "")
    if not match or value is None:
        return None
    op, bound = match.group(1), float(match.group(2))
    return {"<=": value <= bound, ">=": value >= bound, "=": value == bound, "<": value < bound,
            ">": value > bound}[op]


def record(bench, name, value, unit="", goal=None, note=""):
    figure = {"bench": bench, "name": name, "value": value, "unit": unit, "goal": goal, "note": note,
              "meets": meets(value, goal)}
    path = os.environ.get("SPIN_BENCH_FIGURES")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps(figure) + "\n")
    print("  [figure] %s: %s %s%s" % (name, _fmt(value), unit, " (goal %s)" % goal if goal else ""), flush=True)
    return figure


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return "%.3f" % value if abs(value) < 10 else "%.1f" % value
    return str(value)


def table(figures):
    """The figures as one table: benchmark, figure, value, unit, goal, met."""
    rows = [("bench", "figure", "value", "unit", "goal", "met")]
    for f in figures:
        met = {True: "yes", False: "NO", None: ""}[f["meets"]]
        rows.append((f["bench"], f["name"], _fmt(f["value"]), f["unit"], f["goal"] or "", met))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) if i != 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row,
                                                                                                             widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
