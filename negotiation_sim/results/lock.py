"""One writer per results directory: an exclusive advisory lock held for the whole write.

Every command that writes into a results directory (``run``, ``sweep`` with any executor and
``--resume``, ``plot``, ``report``, ``export``, ``compare --out``) holds the directory's lock from
before it checks what the directory holds until its last file is written: a second writer never
waits and never mixes its files with the first's; it stops at once with one line naming the
process that holds the lock (its PID and command line).

The lock is ``fcntl.flock`` on a hidden file beside the directory, ``.NAME.negsim.lock`` (beside,
not inside: a run replaces its directory by a rename, and a lock inside would move with the old
directory). The kernel drops the lock when its process ends, however it ends (``kill -9``
included), so a lock is never stale. The holder writes its PID and command into the file for the
message of the second writer, and removes the file when it is done (while still holding the
lock; a process that opened the file just before checks, once it holds the lock, that the path
still names the file it locked, and starts again otherwise).

Advisory locks bind processes that ask for them: every negsim command does; other programs do
not, which is why publishing a run (``results.files.publish``) also never deletes a file it did
not write. ``flock`` works on local file systems; on NFS it depends on the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from negotiation_sim.results.files import OutDirError

LOCK_SUFFIX = ".negsim.lock"
HOLDER_WAIT = 1.0  # seconds a second writer waits for the holder to have written who it is


class ResultsBusy(OutDirError):
    """Another process is writing the results directory (the message names it).

    Attributes:
        holder: what the lock file says of that process (``pid``, ``command``), possibly empty.
    """

    def __init__(self, message: str, holder: dict) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(directory: str | Path) -> Path:
    """The lock file of a results directory: ``.NAME.negsim.lock`` beside it."""
    directory = Path(os.path.abspath(directory))
    return directory.parent / f".{directory.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def results_lock(directory: str | Path) -> Iterator[Path]:
    """Hold ``directory``'s lock inside the block (the directory need not exist yet).

    Raises:
        ResultsBusy: another process holds it.
        OutDirError: the lock file cannot be made (the directory's parent is missing or not
            writable).
    """
    path = lock_path(directory)
    if str(path) in _HELD:  # this process holds it already (a sweep that saves its figures)
        yield path
        return
    fd = _acquire(path, Path(directory))
    _HELD.add(str(path))
    try:
        _write_holder(fd)
        yield path
    finally:
        _HELD.discard(str(path))
        _release(fd, path)


_HELD: set[str] = set()  # the locks this process holds


@contextlib.contextmanager
def results_locks(*directories: str | Path | None) -> Iterator[None]:
    """Hold the locks of several directories (each once; None is skipped), in a fixed order."""
    unique = {str(lock_path(d)): d for d in directories if d is not None}
    with contextlib.ExitStack() as stack:
        for key in sorted(unique):
            stack.enter_context(results_lock(unique[key]))
        yield


def _acquire(path: Path, directory: Path) -> int:
    import fcntl

    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # a run into results/NEW makes it
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
        except OSError as err:
            raise OutDirError(
                f"cannot lock {directory} for writing: {err.strerror} ({path}); negsim keeps "
                "its lock file beside the results directory, so its parent must be writable"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise ResultsBusy(_busy(directory, holder), holder) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:  # its holder removed it after we opened it
            same = False
        if same:
            return fd
        os.close(fd)


def _release(fd: int, path: Path) -> None:
    import fcntl

    with contextlib.suppress(OSError):
        path.unlink()
    # explicitly: forked worker processes share the open file and would keep the lock
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _write_holder(fd: int) -> None:
    text = json.dumps({"pid": os.getpid(), "command": _command()}).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, text, 0)


def _read_holder(fd: int) -> dict:
    """What the holder wrote (it writes right after taking the lock: wait a moment for it)."""
    deadline = time.monotonic() + HOLDER_WAIT
    while True:
        try:
            data = json.loads(os.pread(fd, 64 * 1024, 0) or b"null")
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) or time.monotonic() > deadline:
            return data if isinstance(data, dict) else {}
        time.sleep(0.02)


def _command() -> str:
    import shlex

    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("negsim", "__main__.py"):
        argv[0] = "negsim"
    return shlex.join(argv)


def _busy(directory: Path, holder: dict) -> str:
    from negotiation_sim.config.names import printable

    pid, command = holder.get("pid"), holder.get("command")
    who = "another negsim process"
    if isinstance(pid, int):
        who += f" (PID {pid}" + (f": {command}" if isinstance(command, str) else "") + ")"
    return printable(f"{directory} is being written by {who}; wait for it to finish or choose "
                     "another --out", newlines=False)
