"""``friendli-images run JOBS.jsonl --out DIR``: a jobs file to an image dataset, resumable.

    friendli-images run prompts.jsonl --out data/ --model ENDPOINT [--concurrency 16]
    friendli-images run prompts.jsonl --out data/ --check          # validate, send nothing
    friendli-images run prompts.jsonl --out data/ --retry-failed   # also redo failed jobs
    friendli-images run prompts.jsonl --out data-0/ --shard 0/4    # lines 0, 4, 8, ...
    friendli-images run prompts.jsonl --out data/ --wait-for-endpoint 600 --wake --sleep-after

Exit status: 0 when every job of the file is done (now or before); 1 when a job failed or
an invalid line was found (see DIR/failures.jsonl; the run goes on regardless); 2 for
a usage error; 130 after Ctrl-C, 143 after SIGTERM (rerun the command to resume).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import _config
from .._base_client import DEFAULT_CONCURRENCY
from .._client import FriendliImages
from .._exceptions import InvalidRequestError
from .._jobs._lines import Shard
from .._jobs._runner import JobsSummary, check_jobs, run_jobs
from ._endpoint import add_wait_options, sleep_after
from ._gallery import add_gallery_option, gallery_after, gallery_before
from ._options import (
    API_ENVIRONMENT,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    RUN_EXIT_STATUS,
    _add_api_connection_options,
    _describe,
    _positive_int,
    _print_endpoint_events,
    _resolve_api_connection,
    _usage_message,
    add_quiet_option,
    epilog,
    note,
    plural,
)
from ._recipe_options import add_embed_option
from ._signals import Terminated, sigterm_stops_the_batch

__all__ = ["add_run_parser", "run_command"]

_DEFAULT_OPTIONS = {
    "model": "model",
    "num_inference_steps": "steps",
    "guidance_scale": "guidance",
    "response_format": "format",
}
"""Request fields a command-line option gives a default for (field -> argparse dest)."""


def _shard(text: str) -> Shard:
    try:
        return Shard.parse(text)
    except InvalidRequestError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_run_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """Add the ``run`` subcommand to ``commands``."""
    run = commands.add_parser(
        "run",
        parents=[common],
        help="run a jobs file (JSON lines) into an image dataset, resumably",
        description=(
            "Run every job of JOBS (one JSON object per line: prompt, any generate option,\n"
            "an optional id) and save the images under DIR as a Hugging Face imagefolder\n"
            "dataset: DIR/images/, DIR/metadata.jsonl, DIR/failures.jsonl. Rerun the same\n"
            "command to resume: jobs already done are skipped."
        ),
        epilog=epilog(environment=API_ENVIRONMENT, exit_status=RUN_EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("jobs", type=Path, metavar="JOBS", help="the jobs file (.jsonl)")
    run.add_argument("--out", type=Path, required=True, metavar="DIR", help="the dataset directory")
    defaults = run.add_argument_group("defaults for fields a line omits")
    defaults.add_argument("--model", metavar="ENDPOINT", help="the endpoint ID")
    defaults.add_argument("--steps", type=int, metavar="N", help="inference steps, 1 to 50")
    defaults.add_argument("--guidance", type=float, metavar="X", help="guidance scale")
    defaults.add_argument(
        "--format", choices=_config.RESPONSE_FORMATS, help="response format (default: url)"
    )
    batch = run.add_argument_group("run")
    batch.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="C",
        help="most requests in flight; fewer while the endpoint answers 429 "
        f"(default: {DEFAULT_CONCURRENCY})",
    )
    batch.add_argument(
        "--throttle-on-503",
        action="store_true",
        help="also send fewer requests at once while the endpoint answers 503",
    )
    batch.add_argument(
        "--check", action="store_true", help="validate every line, send nothing, write nothing"
    )
    batch.add_argument(
        "--retry-failed", action="store_true", help="run the jobs that failed before again"
    )
    batch.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="take only the lines whose 0-based index is K modulo N (N machines, N dirs)",
    )
    batch.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    add_embed_option(batch)
    add_quiet_option(batch)
    add_gallery_option(batch)
    add_wait_options(run.add_argument_group("endpoint"))
    _add_api_connection_options(run.add_argument_group("connection"))
    return run


def _defaults(args: argparse.Namespace) -> dict[str, Any]:
    values = {field: getattr(args, dest) for field, dest in _DEFAULT_OPTIONS.items()}
    return {field: value for field, value in values.items() if value is not None}


class _Bar:
    """A tqdm bar of jobs on a terminal (with the ``cli`` extra); nothing otherwise."""

    def __init__(self, stream: Any, *, quiet: bool = False) -> None:
        self._bar: Any = None
        if quiet:
            return
        try:
            interactive = stream.isatty()
        except (AttributeError, ValueError):
            interactive = False
        if not interactive:
            return
        try:
            tqdm = importlib.import_module("tqdm")
        except ImportError:
            return
        self._bar = tqdm.tqdm(file=stream, desc="run", unit="job", dynamic_ncols=True)

    def update(self, summary: JobsSummary) -> None:
        if self._bar is None:
            return
        if self._bar.total != summary.total:
            self._bar.total = summary.total
        self._bar.n = summary.done + summary.failed + summary.skipped + summary.failed_before
        self._bar.set_postfix(
            done=summary.done, failed=summary.failed, skipped=summary.skipped, refresh=False
        )
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _summary_line(summary: JobsSummary, state: str = "") -> str:
    before = f" (+{summary.failed_before} failed before)" if summary.failed_before else ""
    return (
        f"{state}{summary.done} done, {summary.failed} failed{before}, {summary.skipped} "
        f"skipped (done before) of {plural(summary.total, 'job')}; "
        f"{plural(summary.images, 'image')} saved in {summary.out} ({summary.seconds:.1f} s)"
    )


def _check(args: argparse.Namespace) -> int:
    # Validation sends nothing, so it needs no token, and no address.
    # Problems stream out as they are found (a million bad lines hold no memory): on
    # stderr, and with --json as one document {"problems": [...], "valid": N} on stdout.
    count = 0

    def show(problem: dict[str, Any]) -> None:
        nonlocal count
        if args.json:
            text = json.dumps(problem, ensure_ascii=False)
            sys.stdout.write(("  " if count == 0 else ",\n  ") + text)
        print(
            f"error: line {problem['line']} ({problem['id']}): {problem['message']}",
            file=sys.stderr,
        )
        count += 1

    if args.json:
        sys.stdout.write('{"problems": [\n')
    with FriendliImages(token="check-only") as client:  # noqa: S106 - never sent
        valid, _ = check_jobs(
            args.jobs, client=client, defaults=_defaults(args), shard=args.shard, on_problem=show
        )
    if args.json:
        sys.stdout.write(f'\n], "valid": {valid}}}\n' if count else f'], "valid": {valid}}}\n')
        sys.stdout.flush()
    print(f"check: {plural(valid, 'valid job')}, {plural(count, 'problem')}", file=sys.stderr)
    return EXIT_FAILURE if count else EXIT_OK


def _run(
    args: argparse.Namespace,
    connection: tuple[str, str | None, str | None],
    bar: _Bar,
    last: list[JobsSummary],
) -> None:
    """The run, on the sync engine: threads cost less CPU per image than asyncio here
    (``bench/cpu_per_image.py``), and a run has nothing else to do while it waits."""

    def progress(summary: JobsSummary) -> None:
        last[:] = [summary]
        bar.update(summary)

    token, base_url, team = connection
    with FriendliImages(token=token, base_url=base_url, team_id=team) as client:
        run_jobs(
            args.jobs,
            args.out,
            client=client,
            defaults=_defaults(args),
            concurrency=args.concurrency,
            retry_failed=args.retry_failed,
            shard=args.shard,
            throttle_on_503=args.throttle_on_503,
            on_progress=progress,
            wait_for_endpoint=args.wait_for_endpoint,
            wake=args.wake,
            metadata=args.embed_params,
        )


def _sleep_after(
    endpoints: tuple[str, ...], connection: tuple[str, str | None, str | None]
) -> list[str]:
    """``--sleep-after``: one sleep request per endpoint the run sent requests to, each
    said on stderr; the endpoints that accepted it."""
    token, base_url, team = connection
    if not endpoints:
        print("--sleep-after: no request was sent, so no endpoint to put to sleep", file=sys.stderr)
    return [
        endpoint_id
        for endpoint_id in endpoints
        if sleep_after(
            endpoint_id,
            token=token,
            base_url=base_url,
            team=team,
            describe=lambda error: _describe(error, token),
        )
    ]


def run_command(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    *,
    verbose: bool,
    after: Callable[[JobsSummary], None] | None = None,
) -> int:
    """``friendli-images run``: see the module docstring.

    ``after`` (``sweep``: its grid) runs once the run ended without interruption, before
    ``--gallery`` writes the page.
    """
    if not args.jobs.is_file():
        parser.error(f"argument JOBS: {str(args.jobs)!r} is not a file")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {str(args.out)!r} exists and is not a directory")
    try:
        if args.check:
            return _check(args)
        gallery_before(args, parser)
        connection = _resolve_api_connection(args, parser)
        bar = _Bar(sys.stderr, quiet=args.quiet)
        last: list[JobsSummary] = []
        slept: list[str] | None = None
        status = EXIT_OK
        try:
            with sigterm_stops_the_batch():
                _run(args, connection, bar, last)
        except KeyboardInterrupt:
            status = EXIT_INTERRUPTED
        except Terminated:
            status = EXIT_TERMINATED
        finally:
            bar.close()
            if last:
                _print_endpoint_events(list(last[0].endpoint_events), quiet=args.quiet)
                if args.sleep_after:  # also after failures, Ctrl-C and SIGTERM
                    slept = _sleep_after(last[0].endpoints, connection)
    except InvalidRequestError as error:
        parser.error(_usage_message(error))
    if not last:  # pragma: no cover - the run reports once it has opened the directory
        return status if status != EXIT_OK else EXIT_FAILURE
    summary = last[0]
    if status != EXIT_OK:
        state = "interrupted: " if status == EXIT_INTERRUPTED else "terminated: "
        print(_summary_line(summary, state), file=sys.stderr, flush=True)
        return status
    if after is not None:
        after(summary)
    gallery_after(args)
    if args.json:
        document = summary.to_json()
        if slept is not None:
            document["slept_endpoints"] = slept
        print(json.dumps(document, indent=2), flush=True)
    note(args, _summary_line(summary))
    if summary.failed or summary.failed_before:
        print(
            f"see {Path(summary.out) / 'failures.jsonl'}; rerun with --retry-failed to retry",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return EXIT_OK
