"""Issue 25's figures ("performance at the limit") in one command and one table.

    python -m bench.limit [--quick] [--only per_call,throttle,...] [--json PATH]

Runs the sections one after the other, each with its own server process, by calling the
modules that own them (their ``measure`` and ``figures``; nothing is measured here):

per_call        bench/per_call.py       per_call_<sync/async>_<url/png>, wall and _cpu
throttle        bench/throttle.py       throttle_requests_<path>_<c>, throttle_throughput_*
url_batches     bench/url_batches.py    url_batch_<c>, url_cpu_<c>, url_connections_<c>
cpu_per_image   bench/cpu_per_image.py  cpu_per_image_sync, _async, _run and references
import          bench/import_time.py    import (wall), import_cpu, import_importtime

then prints one markdown table: figure | raw httpx | friendli-images | ratio | range |
goal | met, and the CPU of each server process where its module reports it.

ratio
    friendli-images over raw httpx where both sides exist (medians of each side, as
    ``per_call`` and ``cpu_per_image`` report them; ``url_batches``'s own table shows the
    median of the paired per-repetition ratios instead, kept in the JSON as
    ``paired_ratio_median``). Figures without a raw side (requests per image, throughput
    against concurrency 16) show "—" as raw and their value as the ratio.
range
    What the module reports: the interquartile range of each side (per_call, import wall),
    or the lowest and highest ratio over the repetitions (the others).
goal, met
    The module's goal, compared in its direction (<= or >=) with the ratio, or with
    friendli-images' own value where the goal is one (connections: <= 2 x c).
    Reference rows (no goal) show "—".

``--quick`` is a smoke run (under a minute on 2 cores): 100 calls per side, 64 images at
ceiling 64 only, 100 url jobs at c=64 only and ``cpu_per_image --quick``, one repetition
each, and 6 interpreters per import statement. Quote the full run (the modules' defaults:
a long run), not the quick one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

if not __package__:  # run as `python bench/limit.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu_per_image, per_call, throttle, url_batches
from bench._common import Settings, git_state, log, machine_info, median, versions
from bench.import_time import bench_import

Direction = Literal["<=", ">="]

PER_CALL_GOAL = 1.05
"""``bench/per_call.py``'s goal (its docstring), for the wall and the CPU ratio."""
PER_CALL_QUICK = 100
THROTTLE_QUICK = (64, 1, (64,))
"""``--quick``: images, repetitions, ceilings."""
URL_QUICK = (100, 1, (64,))
"""``--quick``: jobs, repetitions, levels."""
FULL_REPS = 3
"""The repetitions of ``throttle`` and ``url_batches`` by default (their ``--reps``)."""


@dataclass
class Row:
    """One line of the table: friendli-images against raw httpx, or a value against a goal."""

    section: str
    figure: str
    raw: float | None
    """Raw httpx's median (``None``: the figure has no raw side)."""
    ours: float | None
    unit: str
    """The unit of ``raw`` and ``ours``."""
    ratio: float
    """``ours / raw``; the figure's own value where there is no raw side."""
    goal: float | None
    direction: Direction | None
    judged: Literal["ratio", "ours"] = "ratio"
    """What the goal is compared with."""
    range: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Lowest and highest of ``raw``, ``ours`` or ``ratio`` (which ones: the keys)."""
    range_kind: str = ""
    raw_note: str = ""
    ours_note: str = ""
    ratio_unit: str = "x"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.goal is None or self.direction is None:
            return None
        value = self.ratio if self.judged == "ratio" else self.ours
        if value is None:
            return None
        return value <= self.goal if self.direction == "<=" else value >= self.goal

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["range"] = {which: list(bounds) for which, bounds in self.range.items()}
        data["met"] = self.met
        return data


@dataclass
class Section:
    """What one section measured: its rows, its server's CPU, the module's own output."""

    rows: list[Row]
    data: dict[str, Any]
    server_cpu: tuple[float, float] | None = None
    """CPU seconds of the server process, and the section's wall seconds over that run."""
    server_note: str = ""
    """Why no server CPU is shown (``server_cpu`` is ``None``); empty: no server at all."""


def _parse_goal(goal: str) -> tuple[Direction, float]:
    """``"<= 1.2"`` -> ``("<=", 1.2)``: the goal strings of ``throttle`` and ``url_batches``."""
    direction, value = goal.split()
    if direction == "<=":
        return "<=", float(value)
    if direction == ">=":
        return ">=", float(value)
    raise ValueError(f"unknown goal {goal!r}")


def _server_cpu(run: dict[str, Any]) -> tuple[float, float]:
    return run["server_cpu_seconds"], run["wall_seconds"]


def _reps(reps: int) -> str:
    return f"{reps} rep" + ("" if reps == 1 else "s")


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    low, high = values
    return low, high


# -- the sections: each calls its module's measure and figures ----------------------------


def per_call_section(quick: bool) -> Section:
    calls = PER_CALL_QUICK if quick else per_call.CALLS
    log(f"per call: {calls} alternating calls per side and figure")
    measured = per_call.measure(calls)
    rows: list[Row] = []
    for row in measured:
        for kind, suffix in (("wall", ""), ("cpu", "_cpu")):
            sides = row[kind]
            rows.append(
                Row(
                    section="per_call",
                    figure=row["figure"] + suffix,
                    raw=sides["raw_us"],
                    ours=sides["ours_us"],
                    unit="us",
                    ratio=sides["ours_us"] / sides["raw_us"],
                    goal=PER_CALL_GOAL,
                    direction="<=",
                    range={
                        "raw": _bounds(sides["raw_iqr_us"]),
                        "ours": _bounds(sides["ours_iqr_us"]),
                    },
                    range_kind=f"IQR, {row['calls']} calls",
                    raw_note="thread CPU" if kind == "cpu" else "",
                )
            )
    return Section(rows, {"rows": measured}, server_note="not reported by bench/per_call.py")


def throttle_section(quick: bool) -> Section:
    images, reps, ceilings = (
        THROTTLE_QUICK if quick else (throttle.IMAGES, FULL_REPS, throttle.CEILINGS)
    )
    run = throttle.measure(images, reps, ceilings, log)
    rows: list[Row] = []
    for row in throttle.figures(run, ceilings):
        direction, goal = _parse_goal(row["goal"])
        key = row["figure"].split("_", 2)[2]  # "<path>_<ceiling>"
        path = key.rsplit("_", 1)[0]
        if row["figure"].startswith("throttle_requests_"):
            ours, unit = median(run["requests"][key]), "requests"
            note, ratio_unit = f"{images} images", " requests/image"
        else:
            ours, unit = median(run["seconds"][key]), "s"
            reference = median(run["seconds"][f"{path}_{throttle.CAP}"])
            note, ratio_unit = f"c={throttle.CAP}: {reference:.2f} s", f" of c={throttle.CAP}"
        rows.append(
            Row(
                section="throttle",
                figure=row["figure"],
                raw=None,
                ours=ours,
                unit=unit,
                ratio=row["value"],
                goal=goal,
                direction=direction,
                range={"ratio": _bounds(row["range"])},
                range_kind=_reps(reps),
                ours_note=note,
                ratio_unit=ratio_unit,
            )
        )
    return Section(rows, {"run": run}, _server_cpu(run))


def url_batches_section(quick: bool) -> Section:
    jobs, reps, levels = URL_QUICK if quick else (url_batches.JOBS, FULL_REPS, url_batches.LEVELS)
    run = url_batches.measure(jobs, reps, levels, log)
    rows: list[Row] = []
    for row in url_batches.figures(run, levels):
        direction, goal = _parse_goal(row["goal"])
        kind, level = row["figure"].rsplit("_", 1)
        stat = {"url_batch": "seconds", "url_cpu": "cpu_seconds"}.get(kind, "connections")
        raw, ours = median(run[stat][f"raw_{level}"]), median(run[stat][f"library_{level}"])
        connections = stat == "connections"
        rows.append(
            Row(
                section="url_batches",
                figure=row["figure"],
                raw=raw,
                ours=ours,
                unit="connections" if connections else "s",
                ratio=ours / raw,
                goal=goal,
                direction=direction,
                judged="ours" if connections else "ratio",
                range={"ours" if connections else "ratio": _bounds(row["range"])},
                range_kind=_reps(reps),
                raw_note="CPU" if stat == "cpu_seconds" else "",
                details={} if connections else {"paired_ratio_median": row["value"]},
            )
        )
    return Section(rows, {"run": run}, _server_cpu(run))


def cpu_per_image_section(quick: bool) -> Section:
    jobs, concurrency, reps = (
        cpu_per_image.QUICK
        if quick
        else (cpu_per_image.JOBS, cpu_per_image.CONCURRENCY, cpu_per_image.REPS)
    )
    run = cpu_per_image.measure(jobs, concurrency, reps)
    rows = [
        Row(
            section="cpu_per_image",
            figure=figure.key,
            raw=figure.baseline,
            ours=figure.candidate,
            unit=f"{figure.unit}/image",
            ratio=figure.ratio,
            goal=figure.target,
            direction=None if figure.target is None else "<=",
            range={"ratio": _bounds(figure.details["ratio_range"])},
            range_kind=_reps(reps),
            raw_note=figure.baseline_label,
            ours_note=figure.candidate_label,
        )
        for figure in cpu_per_image.figures(run)
    ]
    return Section(rows, {"run": run}, _server_cpu(run))


def import_section(quick: bool) -> Section:
    settings = Settings.quick() if quick else Settings.full()
    figure = bench_import(settings)
    details, reps = figure.details, settings.import_reps
    wall = Row(
        section="import",
        figure="import",
        raw=figure.baseline,
        ours=figure.candidate,
        unit="ms",
        ratio=figure.ratio,
        goal=figure.target,
        direction="<=",
        range={
            "raw": (details["httpx_total_ms"]["p25"], details["httpx_total_ms"]["p75"]),
            "ours": (
                details["friendli_images_total_ms"]["p25"],
                details["friendli_images_total_ms"]["p75"],
            ),
        },
        range_kind=f"IQR of {reps} interpreters, start-up included",
        raw_note="import httpx, wall",
    )
    cpu_ms = details["cpu_median_ms"]
    cpu_raw, cpu_ours = cpu_ms["httpx"] - cpu_ms["pass"], cpu_ms["ours"] - cpu_ms["pass"]
    cpu = Row(
        section="import",
        figure="import_cpu",
        raw=cpu_raw,
        ours=cpu_ours,
        unit="ms",
        ratio=cpu_ours / cpu_raw,
        goal=figure.target,
        direction="<=",
        raw_note="CPU",
    )
    importtime = details["importtime"]
    cumulative = Row(
        section="import",
        figure="import_importtime",
        raw=importtime["httpx_cumulative_ms"]["median"],
        ours=importtime["client_cumulative_ms"]["median"],
        unit="ms",
        ratio=importtime["ratio"],
        goal=figure.target,
        direction="<=",
        range={"ratio": _bounds(importtime["ratio_range"])},
        range_kind=f"{reps} rounds",
        raw_note="-X importtime",
    )
    return Section([wall, cpu, cumulative], {"figure": figure.to_json()})


SECTIONS: dict[str, Callable[[bool], Section]] = {
    "per_call": per_call_section,
    "throttle": throttle_section,
    "url_batches": url_batches_section,
    "cpu_per_image": cpu_per_image_section,
    "import": import_section,
}


# -- the table -----------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _side(value: float | None, unit: str, note: str) -> str:
    if value is None:
        return "—"
    text = f"{_number(value)} {unit}"
    return f"{text}, {note}" if note else text


def _range(row: Row) -> str:
    if not row.range:
        return "—"
    parts = []
    for which, (low, high) in row.range.items():
        if which == "ratio":
            parts.append(f"{low:.3f}-{high:.3f}")
        else:
            parts.append(f"{which} {_number(low)}-{_number(high)}")
    return f"{', '.join(parts)} ({row.range_kind})"


def _goal(row: Row) -> str:
    if row.goal is None or row.direction is None:
        return "—"
    if row.judged == "ours":
        return f"ours {row.direction} {row.goal:g} {row.unit}"
    return f"{row.direction} {row.goal:g}{row.ratio_unit}"


def render(rows: Sequence[Row]) -> str:
    """The markdown table: a header, its rule, then one line per row."""
    lines = [
        "| figure | raw httpx | friendli-images | ratio | range | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        met = {True: "yes", False: "no", None: "—"}[row.met]
        lines.append(
            f"| {row.figure} | {_side(row.raw, row.unit, row.raw_note)} "
            f"| {_side(row.ours, row.unit, row.ours_note)} | {row.ratio:.3f}{row.ratio_unit} "
            f"| {_range(row)} | {_goal(row)} | {met} |"
        )
    return "\n".join(lines)


def rows_json(rows: Sequence[Row]) -> list[dict[str, Any]]:
    return [row.to_json() for row in rows]


def _parse_only(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(unknown) or '(none)'}; choose from "
            + ",".join(SECTIONS)
        )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run (under a minute): few calls and jobs, one repetition",
    )
    parser.add_argument(
        "--only",
        type=_parse_only,
        default=list(SECTIONS),
        help=f"comma-separated sections (default: all): {','.join(SECTIONS)}",
    )
    parser.add_argument("--json", type=Path, default=None, help="write every row as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "schema": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "bench.limit", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "sections": args.only,
        "machine": machine_info(),
        "versions": versions(),
        "git": git_state(),
    }
    rows: list[Row] = []
    servers: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    data: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for name in args.only:
        log(f"section {name}")
        section_start = time.perf_counter()
        section = SECTIONS[name](args.quick)
        seconds[name] = round(time.perf_counter() - section_start, 1)
        rows.extend(section.rows)
        data[name] = section.data
        if section.server_cpu is not None:
            cpu, wall = section.server_cpu
            servers[name] = {"cpu_seconds": cpu, "wall_seconds": wall}
        elif section.server_note:
            notes[name] = section.server_note
    report["duration_s"] = round(time.perf_counter() - started, 1)
    machine, commit = report["machine"], report["git"]
    print(
        f"friendli-images at the limit, issue 25 ({'quick' if args.quick else 'full'} run, "
        f"{report['created']}; {machine['cpu']}, {machine['cores']} cores, "
        f"Python {machine['python']}, commit {str(commit['commit'])[:12]}"
        f"{' dirty' if commit['dirty'] else ''})\n"
    )
    print(render(rows))
    print()
    for name, server in servers.items():
        cpu, wall = server["cpu_seconds"], server["wall_seconds"]
        print(f"server CPU ({name}): {cpu:.2f} s over {wall:.1f} s ({cpu / wall:.2f} of a core)")
    for name, note in notes.items():
        print(f"server CPU ({name}): {note}")
    durations = ", ".join(f"{name} {value} s" for name, value in seconds.items())
    print(f"sections: {durations}; total {report['duration_s']} s")
    if args.json:
        report |= {
            "section_seconds": seconds,
            "servers": servers,
            "rows": rows_json(rows),
            "data": data,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
