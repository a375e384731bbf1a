"""Jobs files: one image-generation request per line, as a JSON object.

    {"id": "cat-001", "prompt": "a cat in a hat", "seed": 7}
    {"prompt": "a lighthouse at dawn", "num_inference_steps": 20, "model": "other-endpoint"}

A line holds ``prompt`` and any other argument of ``generate()`` for one request, plus an
optional ``id`` naming the job (and its image file). Defaults (the command's ``--model``
and the like) fill in fields a line omits. Without an ``id`` a job is known by its line
number (``line-12``), so edit such a file only by appending to it.

Reading a file never stops at a bad line: a line that is not a JSON object, or whose
``id`` is unusable or repeated, becomes a ``BadLine`` with its number and the reason.
Whether the fields make a valid request is the client's check (``_prepare_request``).
A line longer than ``MAX_LINE_BYTES`` is a ``BadLine`` too, read past without being held
in memory; a UTF-8 byte order mark before the first line is ignored.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from .._exceptions import InvalidRequestError
from .._params import EditParams, GenerateParams, keys_of
from ._keys import SeenKeys

__all__ = [
    "KNOWN_FIELDS",
    "MAX_LINE_BYTES",
    "BadLine",
    "Job",
    "Shard",
    "line_option_problem",
    "read_jobs",
    "split_id",
    "unknown_field_problem",
]

MAX_LINE_BYTES = 72 * 1024 * 1024
"""The longest jobs line read (72 MiB): room for a 50 MiB control image inline as base64
(67 MiB), and a bound on the memory one line can take."""

_BOM = b"\xef\xbb\xbf"

_RUN_OPTIONS = ("retry_ambiguous",)
"""Options a line may not set: they decide what the run may bill twice."""

_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")
"""An ``id`` is a file-name stem: letters, digits, ``_`` and ``-``; no dot (``<id>.1.png``
names a second image of one request), at most 100 characters."""

_LINE_KEY = re.compile(r"line-[0-9]+")

KNOWN_FIELDS = frozenset(
    {"id", "prompt", "model", "image"} | keys_of(GenerateParams) | keys_of(EditParams)
)
"""Every field a line may hold; any other is a misspelling, said with the nearest name.
(The options of a batch, ``n`` and the like, are known here and refused by the client
with their own reason.)"""


def unknown_field_problem(fields: Iterable[str]) -> str | None:
    """Why a line's fields are not all known (``None``: they are): the first unknown one,
    with the known name it is likely a misspelling of (``did you mean 'seed'?``)."""
    for name in fields:
        if name in KNOWN_FIELDS:
            continue
        shown = name if len(name) <= 100 else name[:100] + "..."
        close = difflib.get_close_matches(name, sorted(KNOWN_FIELDS), n=1, cutoff=0.6)
        if close:
            return f"unknown field {shown!r}; did you mean {close[0]!r}?"
        fields_of_a_job = "id, prompt, model, image, num_inference_steps, guidance_scale, seed, "
        fields_of_a_job += "response_format, control_images, controlnet_weights"
        return f"unknown field {shown!r} (a job's fields: {fields_of_a_job})"
    return None


@attrs.frozen
class Shard:
    """Part ``index`` of ``count``: the lines whose 0-based index is ``index`` modulo ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"K/N"`` with 0 <= K < N; ``InvalidRequestError`` otherwise."""
        match = re.fullmatch(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*", text)
        if match is None:
            raise InvalidRequestError(f"shard must be K/N (as 0/4), got {text!r}", param="shard")
        index, count = int(match[1]), int(match[2])
        if not 0 <= index < count:
            raise InvalidRequestError(f"shard K/N needs 0 <= K < N, got {text!r}", param="shard")
        return cls(index, count)

    def takes(self, line_index: int) -> bool:
        """Whether the line of 0-based index ``line_index`` belongs to this shard."""
        return line_index % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@attrs.frozen
class Job:
    """One valid line: its number (from 1), its key, and the request it asks for."""

    line: int
    key: str
    request: dict[str, Any]


@attrs.frozen
class BadLine:
    """A line that is no job: its number, its key and why."""

    line: int
    key: str
    message: str


def line_key(line: int) -> str:
    """The key of a job without ``id``."""
    return f"line-{line}"


def parse_line(raw: bytes, line: int, defaults: Mapping[str, Any]) -> Job | BadLine:
    """Read one line of a jobs file (``raw`` without its newline)."""
    key = line_key(line)
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return BadLine(line, key, "the line is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return BadLine(line, key, f"not valid JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return BadLine(line, key, "not valid JSON (nested too deeply)")
    except ValueError as exc:  # an integer of more than 4300 digits, say
        return BadLine(line, key, f"not usable JSON ({exc})"[:300])
    if not isinstance(value, dict):
        return BadLine(line, key, f"a job must be a JSON object, got {type(value).__name__}")
    problem = line_option_problem(value)
    if problem is not None:
        return BadLine(line, key, problem)
    job_id, problem = split_id(value)
    if problem is not None:
        return BadLine(line, key, problem)
    if job_id is not None:
        key = job_id
    unknown = unknown_field_problem(value)
    if unknown:
        return BadLine(line, key, unknown)
    return Job(line, key, {**defaults, **value})


def line_option_problem(fields: Mapping[str, Any]) -> str | None:
    """Why ``fields`` may not be one job's (it sets an option of the whole run), or ``None``.

    Every source of jobs (a jobs file's line, a Dataset's row) is held to this rule.
    """
    for option in _RUN_OPTIONS:
        if option in fields:
            return (
                f"{option!r} is an option of the run, not of one line (it allows sending a "
                "request again that may have generated, and been billed, already)"
            )
    return None


def split_id(fields: dict[str, Any]) -> tuple[str | None, str | None]:
    """Take a job's ``id`` out of ``fields``: ``(id, None)``, ``(None, None)`` without one,
    or ``(None, why)`` when it is unusable (not a string or integer, not a file-name stem).

    Every source of jobs (a jobs file's line, a Dataset's row) names its jobs by this rule.
    """
    job_id = fields.pop("id", None)
    if job_id is None:
        return None, None
    if isinstance(job_id, bool) or not isinstance(job_id, (str, int)):
        return None, "'id' must be a string or an integer"
    job_id = str(job_id)
    if not _ID.fullmatch(job_id) or _LINE_KEY.fullmatch(job_id):
        return None, (
            f"'id' {job_id[:100]!r} is not usable as a file name: use 1 to 100 letters, "
            "digits, '_' or '-' (no dot, not 'line-<number>')"
        )
    return job_id, None


def read_jobs(
    path: Path, defaults: Mapping[str, Any], shard: Shard | None = None
) -> Iterator[Job | BadLine]:
    """The jobs of ``path`` (of one shard), lazily; blank lines are skipped.

    A repeated key (the same ``id`` on two lines) makes the later line a ``BadLine``.
    Memory stays small whatever the file's length: keys are remembered as digests
    (``SeenKeys``), and a digest seen before is confirmed by reading the file again.
    """
    seen = SeenKeys()
    with path.open("rb") as file:
        for number, raw in enumerate(_lines(file), start=1):
            if shard is not None and not shard.takes(number - 1):
                continue
            if raw is None:
                message = f"the line is longer than {MAX_LINE_BYTES} bytes"
                yield BadLine(number, line_key(number), message)
                continue
            if not raw.strip():
                continue
            item = parse_line(raw.rstrip(b"\r\n"), number, defaults)
            if not seen.add(item.key):
                first = _first_use(path, item.key, number, shard)
                if first is not None:
                    message = f"id {item.key!r} was already used on line {first}"
                    yield BadLine(number, line_key(number), message)
                    continue
            yield item


def _first_use(path: Path, key: str, before: int, shard: Shard | None) -> int | None:
    """The first line before ``before`` whose key is ``key`` (``None``: a digest that
    only looked the same)."""
    with path.open("rb") as file:
        for number, raw in enumerate(_lines(file), start=1):
            if number >= before:
                return None
            if (
                raw is None
                or not raw.strip()
                or (shard is not None and not shard.takes(number - 1))
            ):
                continue
            if parse_line(raw.rstrip(b"\r\n"), number, {}).key == key:
                return number
    return None


def _lines(file: BinaryIO) -> Iterator[bytes | None]:
    """The lines of ``file``, each at most ``MAX_LINE_BYTES`` (``None`` for a longer one,
    which is read past in blocks, never held whole); the first without a UTF-8 BOM."""
    first = True
    while True:
        raw = file.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if first:
            raw = raw.removeprefix(_BOM)
            first = False
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # the rest of the long line
                raw = file.readline(1024 * 1024)
            yield None
            continue
        yield raw


def count_jobs(path: Path, shard: Shard | None = None) -> int:
    """How many non-blank lines ``read_jobs`` will look at (for a progress bar's total)."""
    total = 0
    with path.open("rb") as file:
        for number, raw in enumerate(_lines(file), start=1):
            if (shard is None or shard.takes(number - 1)) and (raw is None or raw.strip()):
                total += 1
    return total
