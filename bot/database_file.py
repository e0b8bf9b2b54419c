"""The SQLite file under a running bot: notice when it is deleted or replaced, or stops
keeping what is written, so that the bot stops instead of writing into a file that is gone.

SQLite does not notice by itself: a process that holds the file open goes on writing into
it after `rm yogabot.db`, and a new connection creates an empty file at the same path, so
the next start finds no history at all. The watch records which files (device and inode)
the database, its `-wal` and its `-shm` are once the bot has started, and compares:

- before every transaction and every new connection: one `os.stat` of the database file,
  about 4 µs, where a unit of work through aiosqlite takes 1.3-2.4 ms of CPU (BENCHMARKS.md;
  a loop of 2000 write units measured the same with and without it, within the noise);
- every CHECK_SECONDS, all three files (the lifecycle's task, handlers/app.py);
- and SQLite's own errors that mean the file keeps nothing more (read-only, disk I/O
  error, corrupt: FATAL_CODES) count as the same loss.

Once lost, every transaction is refused with DatabaseLost, the bot logs one CRITICAL line
and stops. When the file was deleted or replaced, what the process still holds open is
first copied out with SQLite's backup into `<file>.rescued-<UTC time>` beside it (RESCUED),
through a connection opened at start-up for this alone: even with no `yogabot backup`
made, nothing the bot had stored is lost.

A database on PostgreSQL has no file here: the server reports its own trouble, which the
store rides out as StoreUnavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import glob
import os
import shlex
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

# How often the lifecycle looks at the three files between transactions: a bot with no
# traffic notices within this long too.
CHECK_SECONDS = 2.0
# The exit code of a bot that stopped for its database: sysexits' EX_IOERR.
EXIT_DATABASE_LOST = 74
# A copy of what the process still held is saved beside the file as `<name>.rescued-<time>`.
RESCUED = ".rescued-"
# SQLite's primary result codes (the low byte of the extended code) that mean the file can
# keep nothing more of what the bot is told: it turned read-only (a disk remounted
# read-only, a -wal or -shm left owned by another user), the disk fails, or the file is not
# (or no longer) a sound database. Waiting does not mend these. "database is locked" and
# "database or disk is full" do pass: the store rides them out as StoreUnavailable.
FATAL_CODES = frozenset(
    {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
)


class DatabaseLost(Exception):
    """The database keeps no more changes (its file was deleted or replaced, or SQLite says
    it is read-only or failing): nothing of this change was stored, and the bot is stopping.
    The watch has logged why, once; whoever catches this need not say it again."""


class LossKind(enum.Enum):
    DELETED = "deleted"
    REPLACED = "replaced"
    FAILING = "failing"


@dataclass(frozen=True)
class Loss:
    kind: LossKind
    what: str  # the file, and what happened to it, as one clause for the operator


@dataclass(frozen=True)
class Rescue:
    """Where what the process still held was copied, or why it could not be."""

    path: Path | None
    error: str | None = None


def database_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL, or None (PostgreSQL, or SQLite in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).absolute()


def fatal_sqlite_error(error: BaseException) -> str | None:
    """The driver's words and SQLite's code name, when `error` says the file keeps nothing
    more; None for any other error."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    code = getattr(error, "sqlite_errorcode", None)
    if not isinstance(code, int) or code & 0xFF not in FATAL_CODES:
        return None
    name = getattr(error, "sqlite_errorname", None) or f"code {code}"
    return f"{error} ({name})"


def rescued_instead(url: str) -> str | None:
    """Why the bot must not start on `url`, in one line: its file is missing while a copy
    rescued from it lies beside it. A start would make an empty database there, and every
    user's history would seem gone; the restore is the operator's choice. None: start."""
    path = database_path(url)
    if path is None or path.exists():
        return None
    # The UTC stamps sort in time order: the last is the newest.
    copies = sorted(path.parent.glob(f"{glob.escape(path.name)}{RESCUED}*"))
    if not copies:
        return None
    here, newest = shlex.quote(str(path)), shlex.quote(str(copies[-1]))
    return (
        f"the database file {path} is missing, and {copies[-1]} holds what the bot last "
        f"saved: restore it (rm -f {here}-wal {here}-shm && cp {newest} {here}), or move "
        "the rescued copies elsewhere to start with an empty database"
    )


def cannot_start(url: str, error: BaseException) -> str | None:
    """The one line for a SQLite error that stops the bot before it started (the watch
    only begins once the schema is checked), or None for any other error."""
    words = fatal_sqlite_error(error)
    path = database_path(url)
    if words is None or path is None:
        return None
    return (
        f"the database {path} cannot be used: {words}. Make the disk and the files "
        f"{path.name}, {path.name}-wal and {path.name}-shm writable by the bot's user, or put "
        "a sound copy in its place (one made by `yogabot backup PATH`)"
    )


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`; None when there is none this process can see
    (deleted, or its folder gone or closed to it: the bot could not open it again either)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _files_of(path: Path) -> tuple[Path, Path, Path]:
    """The database file, its write-ahead log and its shared-memory index."""
    return path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")


class DatabaseWatch:
    """The files of one SQLite database, as they were when the bot started."""

    def __init__(self, engine: AsyncEngine, path: Path) -> None:
        self.path = path
        self.loss: Loss | None = None
        self._loop = asyncio.get_running_loop()
        self._noticed = asyncio.Event()
        # Kept open (and idle: no transaction) until the bot stops, for the rescue: it reads
        # the deleted file and its deleted -wal through what it opened before. Opened before
        # the files are recorded, so that its first read has opened the -wal and -shm.
        self._holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._holder.execute("SELECT count(*) FROM sqlite_schema").fetchall()
        self._files = {file: _identity(file) for file in _files_of(path)}
        self._database = self._files[path]
        if self._database is None:
            self._holder.close()
            raise FileNotFoundError(f"no database file at {path}")
        self._engine = engine
        sync_engine = engine.sync_engine
        # First among the begin listeners: before bot.database's own emits BEGIN.
        event.listen(sync_engine, "begin", self._before_transaction, insert=True)
        event.listen(sync_engine, "do_connect", self._before_connect)
        event.listen(sync_engine, "handle_error", self._on_error)

    @classmethod
    def start(cls, engine: AsyncEngine) -> DatabaseWatch | None:
        """Watch the engine's SQLite file; None for a database that is no file here."""
        path = database_path(engine.url)
        return None if path is None else cls(engine, path)

    def check(self) -> Loss | None:
        """Look at all three files now (the periodic check); the loss, if any."""
        if self.loss is None:
            for file, recorded in self._files.items():
                if recorded is not None and _identity(file) != recorded:
                    self._lose(self._changed(file))
                    break
        return self.loss

    async def lost(self) -> Loss:
        """Wait until the database is lost: noticed by a transaction, or by a look at the
        files every CHECK_SECONDS."""
        while self.check() is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._noticed.wait(), CHECK_SECONDS)
        assert self.loss is not None
        return self.loss

    def rescue(self) -> Rescue:
        """Copy what the process still holds into a new file beside the lost one (blocking:
        run it in a thread). Only for a file deleted or replaced: a failing one stays where
        it is, with everything it kept."""
        assert self.loss is not None and self.loss.kind is not LossKind.FAILING
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = self.path.with_name(f"{self.path.name}{RESCUED}{stamp}")
        try:
            # Readable by the bot's user alone, as the rows in it are users' data; and
            # never over an existing file.
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            return Rescue(None, f"{target}: {exc.strerror or exc}")
        try:
            copy = sqlite3.connect(target)
            try:
                self._holder.backup(copy)
            finally:
                copy.close()
        except sqlite3.Error as exc:
            target.unlink(missing_ok=True)
            return Rescue(None, str(exc))
        return Rescue(target)

    def explain(self, rescue: Rescue | None) -> str:
        """The one line the operator reads: what happened, and how to get the data back."""
        assert self.loss is not None
        name = self.path.name
        stop = (
            f"{self.loss.what}; the bot stops (exit code {EXIT_DATABASE_LOST}) and saves "
            "nothing more"
        )
        if self.loss.kind is LossKind.FAILING:
            return (
                f"{stop}. What it stored before stays in {self.path}: make the disk and the "
                f"files {name}, {name}-wal and {name}-shm writable by the bot's user again, "
                "then start it (`yogabot backup PATH` copies the database while it runs)"
            )
        if rescue is not None and rescue.path is not None:
            saved = f"Everything it held is saved in {rescue.path}"
            copy = shlex.quote(str(rescue.path))
            instead = " (or, in its place, a copy made by `yogabot backup PATH`)"
        else:
            reason = f" ({rescue.error})" if rescue is not None and rescue.error else ""
            saved = f"It could not save what it held{reason}"
            copy = "PATH"
            instead = ", PATH being the newest copy made by `yogabot backup PATH`"
        # A -wal left beside the restored file would be replayed into it: removed first.
        here = shlex.quote(str(self.path))
        return (
            f"{stop}. {saved}. To restore, with every bot process stopped: "
            f"rm -f {here}-wal {here}-shm && cp {copy} {here}{instead}; then start the bot"
        )

    async def close(self) -> None:
        """Stop listening and close the rescue connection, after the engine's own: then it
        is the last one, whose close checkpoints the -wal into the file and removes it.

        SQLite does neither for a file that was deleted or replaced, and leaves that -wal
        and -shm at the path: beside a file put there since, the next start would replay
        that -wal into it. So once the rescue has copied them, they are removed here, each
        only if it is still the very file recorded at start-up."""
        sync_engine = self._engine.sync_engine
        event.remove(sync_engine, "begin", self._before_transaction)
        event.remove(sync_engine, "do_connect", self._before_connect)
        event.remove(sync_engine, "handle_error", self._on_error)
        await asyncio.to_thread(self._holder.close)
        if self.loss is None or self.loss.kind is LossKind.FAILING:
            return
        for file, recorded in self._files.items():
            if file != self.path and recorded is not None and _identity(file) == recorded:
                file.unlink(missing_ok=True)

    def _changed(self, file: Path) -> Loss:
        kind = LossKind.DELETED if _identity(file) is None else LossKind.REPLACED
        if file == self.path:
            how = "was deleted" if kind is LossKind.DELETED else "was replaced by another file"
            return Loss(kind, f"the database file {file} {how} while the bot was running")
        how = "was deleted" if kind is LossKind.DELETED else "was replaced"
        return Loss(
            kind,
            f"{file}, the database's {file.name.rpartition('-')[2]} file, {how} while the bot "
            f"was running (so {self.path} cannot be trusted to keep what follows)",
        )

    def _lose(self, loss: Loss) -> None:
        if self.loss is None:
            self.loss = loss
            self._loop.call_soon_threadsafe(self._noticed.set)

    def _guard(self) -> None:
        if self.loss is None and _identity(self.path) != self._database:
            self._lose(self._changed(self.path))
        if self.loss is not None:
            raise DatabaseLost(self.loss.what)

    def _before_transaction(self, _connection: Any) -> None:
        self._guard()

    def _before_connect(self, *_args: Any) -> None:
        # A new connection to a path whose file is gone would create an empty one there.
        self._guard()

    def _on_error(self, context: ExceptionContext) -> BaseException | None:
        error = context.original_exception
        if isinstance(error, DatabaseLost):
            return None
        if self.loss is None:
            words = fatal_sqlite_error(error)
            if words is None:
                return None
            self._lose(
                Loss(LossKind.FAILING, f"the database {self.path} stopped keeping writes: {words}")
            )
        assert self.loss is not None
        # In place of the driver's error: the caller does not take it for trouble that
        # passes (StoreUnavailable), and nobody logs it again.
        return DatabaseLost(self.loss.what)
