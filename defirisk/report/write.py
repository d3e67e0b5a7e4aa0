"""``render``: validate an audit document, render it in one format, write it atomically.

Nothing half-written is ever left at the destination: every file is written to a temporary file in
the same folder, flushed to disk, and moved over the destination with ``os.replace`` (atomic on
POSIX and Windows). For the table formats all files are written first and then moved in, so a failure
while rendering leaves every previous file untouched. An invalid document writes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from defirisk.errors import InvalidParameter, OutputError
from defirisk.report.html import render_html
from defirisk.report.markdown import render_markdown
from defirisk.report.schema import validate
from defirisk.report.tables import tables, to_csv, to_parquet

Doc = dict[str, Any]


def _json(document: Doc) -> bytes:
    # ASCII escapes keep lone surrogates (undecodable token bytes) exact and the file valid UTF-8.
    return (json.dumps(document, indent=2, allow_nan=False, ensure_ascii=True) + "\n").encode("ascii")


#: One-file formats: name → (file suffix, renderer to bytes).
FILE_FORMATS: dict[str, tuple[str, Callable[[Doc], bytes]]] = {
    "markdown": (".md", lambda d: render_markdown(d).encode("utf-8")),
    "html": (".html", lambda d: render_html(d).encode("utf-8")),
    "json": (".json", _json),
}
#: Table formats: one file per table in a folder. Name → (file suffix, table encoder).
TABLE_FORMATS: dict[str, tuple[str, Callable[[Any], bytes]]] = {
    "csv": (".csv", lambda t: to_csv(t).encode("utf-8")),
    "parquet": (".parquet", to_parquet),
}
FORMATS = (*FILE_FORMATS, *TABLE_FORMATS)


def render(document: Doc, fmt: str, out_path: str | Path) -> list[Path]:
    """Write ``document`` as ``fmt`` (one of ``FORMATS``) and return the files written.

    One-file formats write ``out_path`` itself; ``csv`` and ``parquet`` treat ``out_path`` as a
    folder (created if missing, its parent must exist) holding ``<table>.csv`` / ``<table>.parquet``
    for each table of ``tables.tables``. Raises ``DataError`` for an invalid document,
    ``InvalidParameter`` for an unknown format or an unusable path, ``OutputError`` when the
    system refuses the write; in every case no destination file was changed.
    """
    if fmt not in FORMATS:
        raise InvalidParameter(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    validate(document)
    out = Path(out_path)
    if fmt in FILE_FORMATS:
        _, draw = FILE_FORMATS[fmt]
        files = {out: draw(document)}
    else:
        suffix, encode = TABLE_FORMATS[fmt]
        _ensure_folder(out)
        files = {out / f"{name}{suffix}": encode(table) for name, table in tables(document).items()}
    write_atomically(files)
    return list(files)


def _ensure_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InvalidParameter(f"{folder} is a file; csv and parquet reports need a folder")
    if not folder.parent.is_dir():
        raise InvalidParameter(f"folder {folder.parent} does not exist")
    with contextlib.suppress(FileExistsError):
        folder.mkdir()


def write_atomically(files: dict[Path, bytes]) -> None:
    """Write every ``path: content`` pair so that each path holds either its old or its new content.

    All contents are written and synced to temporary files beside their destinations before the
    first one is moved into place.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, content in files.items():
            if not path.parent.is_dir():
                raise InvalidParameter(f"folder {path.parent} does not exist")
            if path.is_dir():
                raise InvalidParameter(f"{path} is a folder; give a file name")
            staged.append((_stage(path, content), path))
        for temporary, path in staged:
            os.replace(temporary, path)
        for folder in {path.parent for _, path in staged}:
            _sync_folder(folder)
    except OSError as exc:
        raise OutputError(f"cannot write the report: {exc.strerror or exc} ({exc.filename or ''})") from exc
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def _stage(path: Path, content: bytes) -> str:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    # mkstemp creates 0600; a report is for sharing, and a replaced file keeps its old mode.
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        os.unlink(temporary)
        raise
    return temporary


def _sync_folder(folder: Path) -> None:
    """Make the renames durable (a folder's entries are only on disk once the folder is synced)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
