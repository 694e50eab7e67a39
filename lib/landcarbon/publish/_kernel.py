"""Run one notebook with papermill so that the pipeline stays in charge of its kernel.

* The kernel talks to us over **IPC sockets** (Unix domain sockets in a private temporary folder) on
  POSIX, so ipykernel does not warn "Kernel is running over TCP without encryption"; its own stdout and
  stderr (log lines such as "KeyboardInterrupt caught in kernel" that jupyter_client provokes by
  interrupting a kernel before shutting it down) go to the analysis' log file, not to the terminal.
* papermill runs in a **worker thread** with its own event loop; the main thread keeps its signal
  handlers (nbclient cannot install its own outside the main thread), waits, and on Ctrl-C or SIGTERM
  stops the kernel's whole process group itself (:meth:`NotebookExecution.stop`).
* The kernel gets an explicit environment and working directory (no ``os.chdir`` of this process,
  no change of ``os.environ``).
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["NotebookExecution"]


def _kernel_manager_class(env: Mapping[str, str], cwd: str, log: IO, registry: list):
    from jupyter_client.manager import AsyncKernelManager

    class PipelineKernelManager(AsyncKernelManager):
        """AsyncKernelManager with IPC transport, a given environment/cwd and output to the log."""

        def __init__(self, **kw: Any):
            super().__init__(**kw)
            self._ipc_dir = None
            if os.name == "posix":
                # short path: Unix socket names are limited to ~100 bytes
                self._ipc_dir = tempfile.mkdtemp(prefix="lck-")
                self.transport = "ipc"
                self.ip = os.path.join(self._ipc_dir, "k")
            registry.append(self)

        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw["env"] = dict(env)
            kw["cwd"] = cwd
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            return await super().start_kernel(**kw)

        def remove_ipc_dir(self) -> None:
            if self._ipc_dir:
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

    return PipelineKernelManager


class NotebookExecution:
    """papermill.execute_notebook in a worker thread, with a kernel the caller can stop.

    Usage::

        ex = NotebookExecution(src, out, parameters, kernel="python3", env=env, cwd=stage, log=fh)
        ex.start()
        ex.wait()           # returns when done; re-raises papermill's exception; interruptible
    """

    def __init__(self, src: Path, out: Path, parameters: Mapping[str, Any], *, kernel: str,
                 env: Mapping[str, str], cwd: Path, log: IO, timeout: int | None):
        self.src, self.out, self.parameters = Path(src), Path(out), dict(parameters)
        self.kernel, self.env, self.cwd, self.log, self.timeout = kernel, dict(env), str(cwd), log, timeout
        self._managers: list = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._target, name=f"landcarbon:{self.src.name}", daemon=True)

    def _target(self) -> None:
        import papermill as pm

        km_class = _kernel_manager_class(self.env, self.cwd, self.log, self._managers)
        try:
            pm.execute_notebook(str(self.src), str(self.out), parameters=self.parameters, kernel_name=self.kernel,
                                progress_bar=False, log_output=False, stdout_file=self.log, stderr_file=self.log,
                                execution_timeout=self.timeout, request_save_on_cell_execute=False,
                                kernel_manager_class=km_class)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self._error = exc
        finally:
            for km in self._managers:
                km.remove_ipc_dir()

    def start(self) -> None:
        self._thread.start()

    def wait(self, poll: float = 0.2) -> None:
        """Block until the notebook finished (a signal handler may raise out of this wait)."""
        while self._thread.is_alive():
            self._thread.join(poll)
        if self._error is not None:
            raise self._error

    def alive(self) -> bool:
        return self._thread.is_alive()

    def kernel_pids(self) -> list[int]:
        pids = []
        for km in self._managers:
            prov = getattr(km, "provisioner", None)
            pid = getattr(prov, "pid", None)
            if pid:
                pids.append(int(pid))
        return pids

    def stop(self, grace: float = 1.5, wait_thread: float = 2.5) -> bool:
        """Stop the kernel (SIGTERM to its process group, SIGKILL after ``grace`` s); wait for the thread.

        Returns True when the worker thread ended within ``wait_thread`` seconds.
        """
        groups = []
        for km in self._managers:
            prov = getattr(km, "provisioner", None)
            pgid = getattr(prov, "pgid", None) or getattr(prov, "pid", None)
            if pgid:
                groups.append(int(pgid))
        for g in groups:
            _signal_group(g, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_group_alive(g) for g in groups):
            time.sleep(0.05)
        for g in groups:  # whatever is left of the group (the kernel's own children included)
            _signal_group(g, getattr(signal, "SIGKILL", signal.SIGTERM))
        self._thread.join(wait_thread)
        for km in self._managers:
            km.remove_ipc_dir()
        return not self._thread.is_alive()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(pgid, sig)
        else:  # pragma: no cover - Windows
            os.kill(pgid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        if hasattr(os, "killpg"):
            os.killpg(pgid, 0)
        else:  # pragma: no cover
            os.kill(pgid, 0)
        # a zombie (exited, not yet reaped by jupyter_client) still "exists": check its state
        stat = Path(f"/proc/{pgid}/stat")
        if stat.exists():
            return stat.read_text().split(") ", 1)[-1][:1] != "Z"
        return True
    except (ProcessLookupError, PermissionError, OSError):
        return False
