"""Stopping a run within seconds on SIGINT/SIGTERM, never in the middle of a promotion: the signal
handler raises :class:`RunInterrupted` unless a critical section is open, in which case it is raised when the
section ends.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import PipelineError

__all__ = ["RunInterrupted"]


class RunInterrupted(PipelineError):
    """The run was stopped by SIGINT (Ctrl-C) or SIGTERM; ``signum`` says which."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)


class _Signals:
    """SIGINT/SIGTERM handler of a run: raise :class:`RunInterrupted` unless inside a critical section."""

    def __init__(self):
        self.signum: int | None = None
        self.critical = 0
        self.on_signal: list = []

    def handler(self, signum, frame):  # noqa: ARG002 - signal API
        if self.signum is None:
            self.signum = signum
        for cb in list(self.on_signal):
            try:
                cb()
            except Exception:  # noqa: BLE001 - a failing callback must not mask the interruption
                pass
        if not self.critical:
            self.critical += 1  # clean-up after this point runs undisturbed by a second Ctrl-C
            raise RunInterrupted(_interrupt_message(signum), signum)

    @contextmanager
    def critical_section(self) -> Iterator[None]:
        self.critical += 1
        try:
            yield
        finally:
            self.critical -= 1
        if self.signum is not None and not self.critical:
            self.critical += 1
            raise RunInterrupted(_interrupt_message(self.signum), self.signum)


def _interrupt_message(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    return f"run interrupted by {name}"


@contextmanager
def _trap_signals() -> Iterator[_Signals]:
    sig = _Signals()
    if threading.current_thread() is not threading.main_thread():
        yield sig  # signals are delivered to the main thread only; nothing to install
        return
    names = [s for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s)]
    previous = {}
    for n in names:
        s = getattr(signal, n)
        previous[s] = signal.signal(s, sig.handler)
    try:
        yield sig
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
