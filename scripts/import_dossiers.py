"""Import an old one-stop system's dossiers from CSV or NDJSON (docs/import.md).

    python scripts/import_dossiers.py FILE [--source NAME] [--workers 8] [--chunk 50]      (make import FILE=...)

Streams FILE (`.csv`, or `.ndjson`/`.jsonl`), shows a progress bar on stderr (rows, rate, time left), writes the
rejected rows with their line and reasons to FILE.rejects.csv / FILE.rejects.ndjson, and prints the reconciliation
rows read = imported + duplicates + rejected. Exit code 0 when it balances, 1 when it does not, 2 when the file
cannot be imported at all. Against the local stack of `make run` (DynamoDB Local on MOTCUA_DYNAMODB_PORT, default
8001) unless AWS_ENDPOINT_URL_DYNAMODB or MOTCUA_TABLE_PREFIX says otherwise. The imported dossiers' events are not
queued: the import itself writes what they cause (report 06's counters, the portal sync's history lane, the
webhooks of subscriptions that ask for history), so live events never wait behind them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
# A batch job, not a request: a DynamoDB call may wait longer and be retried more than an API call would (the
# API's bounds answer 503 fast); still bounded. The environment wins when it sets them.
BATCH_TIMEOUTS = {"MOTCUA_DB_READ_TIMEOUT": "10", "MOTCUA_DB_MAX_RETRIES": "3"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="import_dossiers.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--source", default=None, help="the old system's name, kept on every dossier "
                                                       "(default: the file's name)")
    parser.add_argument("--workers", type=int, default=8, help="threads writing at once (1-32)")
    parser.add_argument("--chunk", type=int, default=50, help="rows per batch read and write (1-500)")
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 32 or not 1 <= args.chunk <= 500:
        parser.error("--workers is 1-32 and --chunk 1-500")
    if not args.file.is_file():
        print(f"import: no file {args.file}", file=sys.stderr)
        return 2
    if "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ and "MOTCUA_TABLE_PREFIX" not in os.environ:
        from scripts import dynamodb_local

        os.environ.update(dynamodb_local.local_environment(int(os.environ.get("MOTCUA_DYNAMODB_PORT", "8001")),
                                                           "motcua-local"))
    for name, value in BATCH_TIMEOUTS.items():
        os.environ.setdefault(name, value)
    from chalicelib.bootstrap import deps
    from chalicelib.services import importer

    started = time.monotonic()
    try:
        tally, rejects = import_file(deps(), args.file, args.source or args.file.name, args.workers, args.chunk)
    except importer.FatalInput as exc:
        print(f"import: {args.file}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # DynamoDB unreachable past the retries, a disk error...: stop, say how to go on
        print(f"import: stopped by {type(exc).__name__}: {exc}\nrun the same file again to go on: the dossiers "
              "already stored are duplicates, and those this run left between its steps are finished (their "
              "counters applied once)",
              file=sys.stderr)
        return 2
    print_reconciliation(args.file, tally, rejects, time.monotonic() - started)
    return 0 if tally.balanced else 1


def import_file(deps: Any, path: Path, source: str, workers: int = 8, chunk: int = 50,
                progress: bool = True) -> tuple[Any, Path | None]:
    """Import `path`; returns the tally and the rejects file (None when no row was rejected). Raises
    importer.FatalInput for a file that cannot be imported at all (nothing is written then)."""
    from tqdm import tqdm

    from chalicelib.domain.importing import RowRejected
    from chalicelib.services import importer

    ndjson = path.suffix.lower() in (".ndjson", ".jsonl")
    rejects_path = path.with_name(path.name + (".rejects.ndjson" if ndjson else ".rejects.csv"))
    rejects_path.unlink(missing_ok=True)  # a file left by an earlier run would describe other rows
    total = _count_lines(path) - (0 if ndjson else 1)
    try:
        run = importer.Importer(deps, source, workers, chunk)
    except RowRejected as exc:
        raise importer.FatalInput(importer.reasons(exc.problems)) from exc
    with path.open(encoding="utf-8-sig", newline="") as stream, \
            tqdm(total=max(total, 0), unit="rows", file=sys.stderr, disable=not progress,
                 smoothing=0.1, mininterval=0.5) as bar:
        writer = _Rejects(rejects_path, ndjson)
        try:
            rows = importer.read_ndjson(stream) if ndjson else importer.read_csv(stream)
            writer.header = None if ndjson else _csv_header(path)

            def done(result: Any) -> None:
                bar.update(1)
                if result.outcome == importer.REJECTED:
                    writer.write(result)

            tally = run.run(rows, done)
        finally:
            writer.close()
    return tally, (rejects_path if writer.count else None)


class _Rejects:
    """The rejected rows, written as they come: the line, the reasons, and the row as it was read."""

    def __init__(self, path: Path, ndjson: bool) -> None:
        self.path, self.ndjson = path, ndjson
        self.header: list[str] | None = None
        self.count = 0
        self._stream: IO[str] | None = None
        self._csv: Any = None

    def write(self, result: Any) -> None:
        from chalicelib.services.importer import reasons

        if self._stream is None:
            self._stream = self.path.open("w", encoding="utf-8", newline="")
            if not self.ndjson:
                self._csv = csv.writer(self._stream)
                self._csv.writerow(["line", "reasons", *(self.header or [])])
        self.count += 1
        if self.ndjson:
            self._stream.write(json.dumps({"line": result.line, "reasons": [p.as_dict() for p in result.problems],
                                           "row": result.raw}, ensure_ascii=False) + "\n")
        else:
            raw = result.raw if isinstance(result.raw, dict) else {}
            self._csv.writerow([result.line, reasons(result.problems), *(raw.get(h, "") for h in self.header or [])])

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def _csv_header(path: Path) -> list[str]:
    # A file that is not UTF-8 is refused by the reader, with the reason; the header is only the rejects' columns.
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
        return [h.strip() for h in next(csv.reader(stream), [])]


def _count_lines(path: Path) -> int:
    """For the progress bar's time left: newlines counted in 1 MB blocks (a quoted newline makes it a guess)."""
    count = 0
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            count += block.count(b"\n")
    return count


def print_reconciliation(path: Path, tally: Any, rejects: Path | None, seconds: float | None = None) -> None:
    width = len(str(tally.read))
    print(f"import {path}")
    print(f"  rows read   {tally.read:>{width}}")
    print(f"  imported    {tally.imported:>{width}}")
    print(f"  duplicates  {tally.duplicates:>{width}}  (already stored, or twice in the file: nothing written)")
    if tally.completed:
        print(f"  of which {tally.completed} an earlier run had left unfinished: control sheet, sync and counters "
              "written now")
    print(f"  rejected    {tally.rejected:>{width}}" + (f"  -> {rejects}" if rejects else ""))
    verdict = "balanced" if tally.balanced else "NOT BALANCED"
    print(f"  {tally.read} = {tally.imported} + {tally.duplicates} + {tally.rejected}: {verdict}"
          + (f" ({seconds:.1f} s)" if seconds is not None else ""))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
