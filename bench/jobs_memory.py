"""Memory of reading and checking a long jobs file: what the runner remembers per line.

    python -m bench.jobs_memory [--lines 1000000]

Each figure runs in its own process and reports its peak resident memory (``ru_maxrss``)
above the process's baseline after imports, so figures of one run compare:

* ``read_jobs`` as shipped (``SeenKeys``: 8-byte digests) against the same walk keeping
  every key in a ``dict`` of strings (what it did before);
* ``check_jobs`` streaming its problems (``on_problem``) against collecting them, on a
  file whose every line is a problem.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from friendli_images import FriendliImages, check_jobs
from friendli_images._jobs._lines import read_jobs, parse_line

path, figure = Path(sys.argv[1]), sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if figure == "read_jobs":
    count = sum(1 for _ in read_jobs(path, {}))
elif figure == "dict_of_keys":
    seen = {}
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            seen.setdefault(parse_line(raw.rstrip(b"\r\n"), number, {}).key, number)
    count = len(seen)
else:
    with FriendliImages(token="check-only") as client:
        if figure == "check_streamed":
            count = 0
            def take(row):
                global count
                count += 1
            check_jobs(path, client=client, on_problem=take)
        else:
            count = len(check_jobs(path, client=client)[1])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seconds = time.perf_counter() - start
print(json.dumps({"count": count, "mib": (peak - base) / 1024, "seconds": seconds}))
"""


def _measure(path: Path, figure: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), figure],
        capture_output=True,
        text=True,
        check=True,
    )
    value: dict[str, float] = json.loads(result.stdout)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        jobs = Path(directory) / "jobs.jsonl"
        with jobs.open("w") as file:
            for i in range(args.lines):
                file.write(json.dumps({"id": f"job-{i:08d}", "prompt": "a lighthouse"}) + "\n")
        bad = Path(directory) / "bad.jsonl"
        with bad.open("w") as file:
            for _ in range(args.lines):
                file.write('{"prompt": ""}\n')
        rows = [
            ("read_jobs, repeated-id check", jobs, "dict_of_keys", "read_jobs"),
            ("check_jobs, every line a problem", bad, "check_collected", "check_streamed"),
        ]
        print(f"{args.lines} lines; peak MiB above baseline (seconds)")
        print(f"{'figure':36} {'before':>16} {'now':>16} {'ratio':>7}")
        for name, path, before, now in rows:
            old, new = _measure(path, before), _measure(path, now)
            ratio = new["mib"] / old["mib"] if old["mib"] else float("nan")
            print(
                f"{name:36} {old['mib']:8.1f} ({old['seconds']:4.1f} s) "
                f"{new['mib']:8.1f} ({new['seconds']:4.1f} s) {ratio:7.2f}"
            )


if __name__ == "__main__":
    main()
