"""Atomic file output: write to a temporary file beside the target, then rename.

Bad input must never leave a half-written result behind; every writer of the package goes through
these helpers.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "write_text_atomic", "write_json_atomic", "sha256_file", "default_file_mode",
           "default_dir_mode", "exchange_paths"]


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux ``/proc``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)  # elsewhere: the classic read-by-setting (restored at once)
    os.umask(old)
    return old


def default_file_mode() -> int:
    """Mode a normally created file gets (``0o666 & ~umask``: 0644 with the usual umask 022).

    :func:`tempfile.mkstemp` creates 0600 files; results renamed from it would be private to the
    user who ran the pipeline, unlike every other output.
    """
    return 0o666 & ~_umask()


def default_dir_mode() -> int:
    """Mode a normally created folder gets (``0o777 & ~umask``: 0755 with umask 022)."""
    return 0o777 & ~_umask()


def exchange_paths(a: Path | str, b: Path | str) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported.

    With it, a results folder is replaced by its staged successor in one step: at no moment does
    ``results/<analysis>/`` not exist or hold a mixture.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    rc = fn(AT_FDCWD, os.fsencode(str(a)), AT_FDCWD, os.fsencode(str(b)), RENAME_EXCHANGE)
    if rc != 0:
        err = ctypes.get_errno()
        import errno

        if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)):
            return False
        raise OSError(err, os.strerror(err), f"{a} <-> {b}")
    return True


@contextlib.contextmanager
def atomic_path(target: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, default_file_mode())  # mkstemp made it 0600
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: Path | str, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json_atomic(target: Path | str, obj, *, indent: int = 1) -> Path:
    """JSON with sorted keys (stable diffs) and NaN refused (``allow_nan=False``)."""
    return write_text_atomic(target, json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False, default=str) + "\n")


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
