"""One pipeline at a time per compendium: an advisory lock on ``.landcarbon/run.lock``.

Two concurrent ``landcarbon run``/``report`` commands in one tree would delete each other's staging
folders and promote results over each other. The lock is an ``flock`` on a small file that also holds
who took it (pid, host, start time, command), so the second command fails at once with a message
naming the holder. ``flock`` locks die with their process, so a lock left by a killed run (SIGKILL,
power loss) is stale by construction: the next run takes it over and says so.

Within one process the lock is re-entrant (``landcarbon report`` holds it around ``run`` and the book
build).
"""
from __future__ import annotations

import json
import os
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..errors import PipelineError, located

__all__ = ["RunLock", "LockHeld"]

_HELD: dict[str, tuple[int, int]] = {}  # resolved path -> (fd, depth) of locks held by this process
_GUARD = threading.Lock()


class LockHeld(PipelineError):
    """Another landcarbon process holds the compendium's run lock."""


class RunLock:
    """``with RunLock(path, command="landcarbon run"):`` — fail fast if another process holds it.

    Attributes after entering: ``stale`` (the record of a dead holder that was taken over, or None).
    """

    def __init__(self, path: Path | str, *, command: str | None = None):
        self.path = Path(path)
        self.command = command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
        self.stale: dict | None = None

    # -----------------------------------------------------------------------------------------
    def __enter__(self) -> RunLock:
        key = str(self.path.resolve())
        with _GUARD:
            if key in _HELD:
                fd, depth = _HELD[key]
                _HELD[key] = (fd, depth + 1)
                return self
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                self._lock(fd)
            except BaseException:
                os.close(fd)
                raise
            previous = _read(fd)
            if previous.get("pid"):
                self.stale = previous  # a record without a living lock: its process died
            _write(fd, {"pid": os.getpid(), "host": socket.gethostname(),
                        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                        "command": self.command})
            _HELD[key] = (fd, 1)
        return self

    def __exit__(self, *exc) -> None:
        key = str(self.path.resolve())
        with _GUARD:
            fd, depth = _HELD[key]
            if depth > 1:
                _HELD[key] = (fd, depth - 1)
                return
            del _HELD[key]
            try:
                os.ftruncate(fd, 0)  # no holder recorded: the next taker will not report a stale lock
            finally:
                self._unlock(fd)
                os.close(fd)

    # -----------------------------------------------------------------------------------------
    def _lock(self, fd: int) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: msvcrt byte-range lock
            import msvcrt

            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            except OSError:
                raise self._held_error(_read(fd)) from None
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise self._held_error(_read(fd)) from None

    @staticmethod
    def _unlock(fd: int) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            return
        fcntl.flock(fd, fcntl.LOCK_UN)

    def _held_error(self, holder: dict) -> LockHeld:
        who = (f"pid {holder.get('pid')} on host {holder.get('host')} since {holder.get('started_utc')} "
               f"({holder.get('command')})") if holder else "another process (no holder recorded yet)"
        return LockHeld(located(
            f"another landcarbon run is in progress in this compendium: {who}",
            where=str(self.path),
            fix="wait for it to finish or stop it (Ctrl-C in its terminal, or kill " + str(holder.get("pid", "PID"))
                + "); the lock is released automatically when that process ends"))


def _read(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 65536).decode("utf-8", "replace").strip()
        return json.loads(raw) if raw else {}
    except (OSError, ValueError):
        return {}


def _write(fd: int, doc: dict) -> None:
    data = (json.dumps(doc, sort_keys=True) + "\n").encode()
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.fsync(fd)
