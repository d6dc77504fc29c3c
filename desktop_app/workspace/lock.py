"""Writer locks on workspace resources: one writer at a time for a feature store or a run.

Two ``actionlens extract`` processes appending to one feature store interleave their records
(the index ends with two records per clip, most of them pointing at the other process's bytes),
and two ``actionlens train`` with the same run id overwrite each other's files. A writer takes
the resource's lock first; a second writer is refused at once with a one-line message naming
the holder (pid, command, start time), or waits for it.

A lock is an advisory ``fcntl.flock`` on ``WS/locks/<resource>.lock`` (``msvcrt.locking`` on
Windows), held for as long as the writer runs. The operating system drops it when the holder
exits, however it exits (``kill -9`` included), so a lock file left by a dead process is simply
taken over by the next writer; its last holder is recorded so that the taker can say so. Lock
files are never deleted: deleting a file another process may be about to lock would let two
writers hold "the" lock on two different files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import blake2b
from pathlib import Path
from typing import IO, Any

from desktop_app.errors import ActionLensError

#: Directory under the workspace root that holds the lock files.
LOCKS_DIR = "locks"

#: Seconds between two attempts while waiting for a lock.
POLL_SECONDS = 0.25

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class LockHeld(ActionLensError):
    """Another process holds the lock; ``holder`` says who (``None`` when it cannot be read)."""

    def __init__(self, message: str, holder: LockHolder | None) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or last held) a lock, as written into its lock file."""

    pid: int
    command: str
    started: str

    def describe(self) -> str:
        """``pid 123 (actionlens extract …), since 2025-01-01T12:00:00+00:00``."""
        return f"pid {self.pid} ({self.command}), since {self.started}"

    def is_alive(self) -> bool:
        """Whether a process with this pid still runs on this machine."""
        if self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, under another user
            return True
        except OSError:
            return False
        return True


def lock_file_name(resource: str) -> str:
    """The lock file's name for ``resource``: its safe characters, plus a hash when any were dropped."""
    safe = _SAFE_NAME.sub("_", resource).strip("._") or "resource"
    if safe != resource:
        safe = f"{safe[:80]}-{blake2b(resource.encode('utf-8'), digest_size=4).hexdigest()}"
    return f"{safe}.lock"


def _command_line() -> str:
    argv = [Path(sys.argv[0]).name if sys.argv else "python", *sys.argv[1:]]
    text = " ".join(argv)
    return text if len(text) <= 120 else text[:117] + "..."


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_holder(path: Path) -> LockHolder | None:
    """The holder recorded in a lock file, or ``None`` when it is empty or unreadable."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(int(record["pid"]), str(record["command"]), str(record["started"]))
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(stream: IO[Any]) -> bool:
        try:
            stream.seek(0)
            msvcrt.locking(stream.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(stream: IO[Any]) -> None:
        stream.seek(0)
        msvcrt.locking(stream.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(stream: IO[Any]) -> bool:
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(stream: IO[Any]) -> None:
        fcntl.flock(stream.fileno(), fcntl.LOCK_UN)


class WorkspaceLock:
    """An exclusive writer lock on one resource of a workspace (``features/<store>``, ``run/<id>``).

    Parameters
    ----------
    workspace_root
        The workspace directory; the lock file is ``workspace_root/locks/<resource>.lock``.
    resource
        What is being written, in words the message can show (``"feature store handcrafted-fps10"``
        is shown as given; the file name keeps its safe characters).
    fix
        What a refused writer should do, ending the refusal message (default: wait for the
        holder, or pass ``--wait``).
    """

    def __init__(self, workspace_root: Path, resource: str, fix: str | None = None) -> None:
        self.path = Path(workspace_root) / LOCKS_DIR / lock_file_name(resource)
        self.resource = resource
        self.fix = fix or "wait for it to finish, or run the command again with --wait"
        self.previous: LockHolder | None = None
        self._stream: IO[Any] | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._stream is not None

    def _open(self) -> IO[Any]:
        try:
            self.path.parent.mkdir(exist_ok=True)
            # Held open until release(): the lock lives as long as this descriptor.
            return open(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666), "r+", encoding="utf-8")
        except OSError as exc:
            raise ActionLensError(
                f"cannot create the lock file {self.path} ({exc.strerror or exc}); "
                "the workspace must be writable to change it (check its permissions or free space)"
            ) from exc

    def try_acquire(self) -> bool:
        """Take the lock if it is free; return whether this object holds it now."""
        if self._stream is not None:
            return True
        stream = self._open()
        if not _try_lock(stream):
            stream.close()
            return False
        previous = read_holder(self.path)
        self.previous = previous if previous is not None and previous.pid != os.getpid() else None
        stream.seek(0)
        stream.truncate()
        stream.write(json.dumps({"pid": os.getpid(), "command": _command_line(), "started": _now()}))
        stream.flush()
        self._stream = stream
        return True

    def refusal(self) -> LockHeld:
        """The error a second writer gets: who holds the lock and what to do."""
        holder = read_holder(self.path)
        who = holder.describe() if holder is not None else "another process"
        return LockHeld(f"{self.resource} is being written by {who} (lock {self.path}); {self.fix}", holder)

    def acquire(
        self,
        wait: bool = False,
        on_wait: Callable[[str], None] | None = None,
        timeout: float | None = None,
    ) -> WorkspaceLock:
        """Take the lock, refusing at once (default) or waiting for the holder to finish.

        Parameters
        ----------
        wait
            Wait until the holder releases the lock instead of raising.
        on_wait
            Called once with a one-line message when waiting starts.
        timeout
            Give up waiting after this many seconds (``None``: wait as long as it takes).

        Raises
        ------
        LockHeld
            When another process holds the lock and ``wait`` is false (or ``timeout`` passed).
        """
        if self.try_acquire():
            return self
        if not wait:
            raise self.refusal()
        holder = read_holder(self.path)
        if on_wait is not None:
            who = holder.describe() if holder is not None else "another process"
            on_wait(f"waiting for {who} to finish writing {self.resource} …")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.try_acquire():
            if deadline is not None and time.monotonic() > deadline:
                raise self.refusal()
            time.sleep(POLL_SECONDS)
        return self

    def release(self) -> None:
        """Release the lock (the lock file stays, emptied; see the module docstring).

        Emptying it first tells the next writer that this one finished: a holder recorded in a
        free lock file is one that was killed before it could release.
        """
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            with contextlib.suppress(OSError):
                stream.seek(0)
                stream.truncate()
                stream.flush()
            _unlock(stream)
        finally:
            stream.close()

    def __enter__(self) -> WorkspaceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def writer_lock(
    workspace_root: Path,
    resource: str,
    *,
    wait: bool = False,
    on_wait: Callable[[str], None] | None = None,
    on_takeover: Callable[[str], None] | None = None,
) -> Iterator[WorkspaceLock]:
    """Hold the writer lock on ``resource`` of a workspace for the block.

    ``on_takeover`` is called with a one-line note when the lock file names a previous holder
    that is no longer running (a writer killed before it could finish): its lock is taken over.
    See :meth:`WorkspaceLock.acquire` for ``wait`` and ``on_wait``.
    """
    lock = WorkspaceLock(workspace_root, resource).acquire(wait=wait, on_wait=on_wait)
    try:
        if lock.previous is not None and on_takeover is not None and not lock.previous.is_alive():
            on_takeover(
                f"took over the lock on {resource} left by {lock.previous.describe()}, "
                "which is no longer running"
            )
        yield lock
    finally:
        lock.release()
