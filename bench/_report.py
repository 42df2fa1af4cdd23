"""The one table `compare.py` prints: each figure per client, the ratios, and the targets."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Figures", "render"]

_NA = "—"


@dataclass
class Figures:
    """Raw samples per client and figure, filled by the bench, turned into a table by render.

    Attributes:
        names: client names in column order.
        missing: client name → why it has no figures (``not installed``).
        samples: (client, figure) → raw samples.
        deltas: audio figure → deltas per run.
        idle_calls: the simultaneous-call counts of the memory figure.
    """

    names: list[str]
    missing: dict[str, str]
    samples: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    deltas: dict[str, int] = field(default_factory=dict)
    idle_calls: tuple[int, ...] = ()

    def add(self, client: str, figure: str, values: list[float] | list[int]) -> None:
        """Append samples of one figure for one client."""
        self.samples.setdefault((client, figure), []).extend(float(v) for v in values)

    def get(self, client: str, figure: str) -> list[float] | None:
        """The samples, or None when that figure was not run for that client."""
        return self.samples.get((client, figure)) or None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _median(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


class _Rows:
    """Computes one number per (row, client); None when it cannot."""

    def __init__(self, fig: Figures) -> None:
        self.fig = fig

    def tool(self, figure: str, q: float) -> Callable[[str], float | None]:
        def value(name: str) -> float | None:
            samples = self.fig.get(name, figure)
            return _pct(samples, q) / 1e3 if samples else None
        return value

    def audio(self, figure: str) -> Callable[[str], float | None]:
        def value(name: str) -> float | None:
            cpu = _median(self.fig.get(name, figure))
            base = _median(self.fig.get(name, "baseline_cpu"))
            if cpu is None or base is None or figure not in self.fig.deltas:
                return None
            return (cpu - base) / self.fig.deltas[figure] * 1e6
        return value

    def tool_cpu(self, name: str) -> float | None:
        value = _median(self.fig.get(name, "tool_cpu"))
        return None if value is None else value * 1e6

    def cold(self, name: str) -> float | None:
        value = _median(self.fig.get(name, "cold_ns"))
        return None if value is None else value / 1e6

    def imports(self, name: str) -> float | None:
        value = _median(self.fig.get(name, "import_ns"))
        bare = _median(self.fig.get("python", "import_ns"))
        return None if value is None or bare is None else (value - bare) / 1e6

    def import_cpu(self, name: str) -> float | None:
        value = _median(self.fig.get(name, "import_cpu"))
        bare = _median(self.fig.get("python", "import_cpu"))
        return None if value is None or bare is None else (value - bare) * 1e3

    def cold_cpu(self, name: str) -> float | None:
        value = _median(self.fig.get(name, "cold_cpu"))
        return None if value is None else value * 1e3

    def rss(self, calls: int) -> Callable[[str], float | None]:
        def value(name: str) -> float | None:
            rss = _median(self.fig.get(name, f"rss_{calls}"))
            return None if rss is None else rss / 1024
        return value

    def extra(self, calls: int) -> Callable[[str], float | None]:
        first = self.fig.idle_calls[0] if self.fig.idle_calls else 1

        def value(name: str) -> float | None:
            many = _median(self.fig.get(name, f"rss_{calls}"))
            one = _median(self.fig.get(name, f"rss_{first}"))
            return None if many is None or one is None else (many - one) / (calls - first)
        return value


def _fmt(value: float | None) -> str:
    if value is None:
        return _NA
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0 or a < 0:
        return _NA
    return f"{a / b:.2f}×"


def render(fig: Figures, *, plan_note: str) -> str:
    """Format the figures as one Markdown table followed by the targets, met or missed.

    Args:
        fig: the collected samples.
        plan_note: one line saying how many runs/calls/deltas were used.

    Returns:
        The table text.
    """
    r = _Rows(fig)
    rows: list[tuple[str, Callable[[str], float | None]]] = []
    for figure, label in (("tool_output", "→ function_call_output"),
                          ("tool_create", "→ next response.create")):
        for q, qn in ((0.5, "median"), (0.9, "p90"), (0.99, "p99")):
            rows.append((f"tool round trip {label}, {qn} (µs)", r.tool(figure, q)))
    rows.append(("tool round trip → next response.create, median of calls 1–100 (µs)",
                 r.tool("tool_create_first", 0.5)))
    rows.append(("tool call: client CPU per call (µs)", r.tool_cpu))
    rows.append(("audio CPU per delta, unpaced (µs)", r.audio("audio_fast")))
    rows.append(("audio CPU per delta, paced real time (µs)", r.audio("audio_paced")))
    rows.append(("cold start: spawn → first session.update (ms)", r.cold))
    rows.append(("  same, CPU used by the client (ms)", r.cold_cpu))
    rows.append(("bare import (ms, minus `python -c pass`)", r.imports))
    rows.append(("  same, CPU (ms)", r.import_cpu))
    calls = fig.idle_calls
    if calls:
        rows.append((f"RSS with {calls[0]} call (MiB)", r.rss(calls[0])))
        for n in calls[1:]:
            rows.append((f"RSS per extra idle call at {n} calls (KiB)", r.extra(n)))

    names = fig.names
    head = ["figure", *names]
    if "floor" in names and "agentrun" in names:
        head.append("agentrun/floor")
    if "pipecat" in names and "agentrun" in names:
        head.append("pipecat/agentrun")
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, value in rows:
        values = {n: (None if n in fig.missing else value(n)) for n in names}
        cells = [label] + [f"pipecat: {fig.missing[n]}" if n in fig.missing else _fmt(values[n])
                           for n in names]
        if "agentrun/floor" in head:
            cells.append(_ratio(values.get("agentrun"), values.get("floor")))
        if "pipecat/agentrun" in head:
            cells.append(_ratio(values.get("pipecat"), values.get("agentrun")))
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append(plan_note)
    out.append("")
    out.extend(_targets(fig, r))
    return "\n".join(out)


def _targets(fig: Figures, r: _Rows) -> list[str]:
    """The issue's targets, each with the numbers it was judged on."""
    lines = ["targets (issue 5):"]

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("MET" if ok else "MISSED")

    def v(func: Callable[[str], float | None], name: str) -> float | None:
        return None if name in fig.missing or name not in fig.names else func(name)

    for key, label in (("audio_fast", "unpaced"), ("audio_paced", "paced")):
        a, f, p = (v(r.audio(key), n) for n in ("agentrun", "floor", "pipecat"))
        ok = None if a is None or f is None else a <= 2 * max(f, 0.0) + 1e-9
        lines.append(f"- audio {label}: agentrun ≤ 2× floor per delta: {verdict(ok)} "
                     f"({_fmt(a)} vs {_fmt(f)} µs)")
        ok = None if a is None or p is None else p >= 5 * a
        lines.append(f"- audio {label}: pipecat ≥ 5× agentrun: {verdict(ok)} "
                     f"({_fmt(p)} vs {_fmt(a)} µs)")
    for key, label in (("tool_output", "function_call_output"),
                       ("tool_create", "response.create"),
                       ("tool_create_first", "response.create, calls 1–100 only")):
        a, f, p = (v(r.tool(key, 0.5), n) for n in ("agentrun", "floor", "pipecat"))
        ok = None if None in (a, f, p) else (a - f) <= (p - f) / 10  # type: ignore[operator]
        lines.append(f"- tool round trip to {label} (median): agentrun overhead above floor ≤ "
                     f"1/10 of pipecat's: {verdict(ok)} (agentrun +{_fmt(_sub(a, f))} µs, "
                     f"pipecat +{_fmt(_sub(p, f))} µs)")
    a, p = v(r.cold, "agentrun"), v(r.imports, "pipecat")
    ok = None if a is None or p is None else a <= p / 3
    lines.append(f"- cold start to first session.update ≤ 1/3 of pipecat's import: "
                 f"{verdict(ok)} ({_fmt(a)} ms vs {_fmt(p)} ms / 3)")
    if fig.idle_calls:
        first, last = fig.idle_calls[0], fig.idle_calls[-1]
        a, p = v(r.rss(first), "agentrun"), v(r.rss(first), "pipecat")
        ok = None if a is None or p is None else a <= p / 2
        lines.append(f"- RSS ≤ 1/2 of pipecat's: {verdict(ok)} ({_fmt(a)} vs {_fmt(p)} MiB)")
        if last != first:
            e = v(r.extra(last), "agentrun")
            ok = None if e is None else e <= 1024
            lines.append(f"- ≤ 1 MiB per extra idle call (at {last}): {verdict(ok)} "
                         f"({_fmt(e)} KiB)")
    return lines


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b
