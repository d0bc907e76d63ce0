"""Figures, the table they print as, the JSON a run writes, and two runs side by side. Pure but for write()."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".run" / "bench"


@dataclass
class Figure:
    """One measured number beside the baseline it is judged against (measured in the same run)."""

    section: str
    name: str
    value: float
    unit: str  # req/s, ms, events/s, MiB, s, messages, events
    p50: float | None = None  # latency figures: milliseconds
    p99: float | None = None
    n: int = 0  # samples or requests behind the figure
    baseline: str = ""  # what the value is compared with
    baseline_value: float | None = None
    ratio: float | None = None  # value / baseline_value
    goal: str = ""  # the goal in words, e.g. "≥ 1.5× obvious"
    met: bool | None = None  # whether the goal was met (None: no goal)
    note: str = ""

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline_value:
            self.ratio = self.value / self.baseline_value


FIELDS = tuple(f.name for f in fields(Figure))


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = (f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}" if abs(value) >= 10
            else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}")
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    """One line per figure: section, name, value, p50/p99, baseline, ratio, goal."""
    rows = [("section", "figure", "value", "p50 / p99 ms", "baseline", "ratio", "goal")]
    for f in figures:
        latency = f"{_num(f.p50)} / {_num(f.p99)}" if f.p50 is not None else ""
        base = f"{f.baseline} {_num(f.baseline_value, f.unit if f.baseline_value is not None else '')}".strip() \
            if f.baseline else ""
        ratio = f"×{f.ratio:.2f}" if f.ratio is not None else ""
        goal = f"{f.goal} {'✔' if f.met else '✖'}" if f.goal and f.met is not None else f.goal
        rows.append((f.section, f.name, _num(f.value, f.unit), latency, base, ratio, goal))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict:
    """What the figures were measured on: cores, CPU model, memory, kernel, Python."""
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    memory = 0
    try:
        kib = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory = round(int(kib) / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "cpu": model or platform.processor(), "memory_gib": memory,
            "kernel": platform.release(), "python": platform.python_version()}


def commit() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def document(figures: list[Figure], sections: list[str], notes: list[str], started: float) -> dict:
    return {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "seconds": round(time.time() - started),
            "machine": machine(), **commit(), "sections": sections, "notes": notes,
            "figures": [asdict(f) for f in figures]}


def write(doc: dict, out: Path = OUT) -> Path:
    """.run/bench/<UTC timestamp>.json and latest.json; returns the timestamped path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{doc['when'].replace(':', '').replace('-', '')}.json"
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    path.write_text(text)
    (out / "latest.json").write_text(text)
    return path


def compare(a: dict, b: dict) -> str:
    """Two runs' figures side by side (matched by section and name), with B / A."""
    rows = [("section", "figure", f"A {a['when']}", f"B {b['when']}", "B / A")]
    older = {(f["section"], f["name"]): f for f in a["figures"]}
    newer = {(f["section"], f["name"]): f for f in b["figures"]}
    for key in list(older) + [k for k in newer if k not in older]:
        fa, fb = older.get(key), newer.get(key)
        change = f"×{fb['value'] / fa['value']:.2f}" if fa and fb and fa["value"] else ""
        rows.append((*key, _num(fa["value"], fa["unit"]) if fa else "–", _num(fb["value"], fb["unit"]) if fb else "–",
                     change))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    head = [f"A: {a.get('commit', '')[:10]} on {a['machine'].get('nproc')} cores, "
            f"B: {b.get('commit', '')[:10]} on {b['machine'].get('nproc')} cores"]
    return "\n".join(head + ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows])
