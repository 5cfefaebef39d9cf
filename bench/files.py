"""The files gilbench writes: whole or not at all, and one run per folder.

- ``write_text``, ``write_with`` and ``writing``: every file a run, ``report``,
  ``compare`` or ``export`` writes goes to a temporary file in the same folder first and
  is then renamed over its name, so a reader — or a crash, or a full disk — sees the old
  file or the new one, never half of one. An ``OSError`` on the way (no space left, over
  quota, past the file-size limit, a read-only file system, no permission) becomes a
  ``WriteFailed`` that names the file and the system's reason, and the temporary file is
  removed: no partial file is left behind.
- ``FolderLock``: a run holds its output folder for its whole life (``flock`` on a lock
  file: the kernel drops it when the process dies, so a run killed with SIGKILL leaves no
  stale lock), and a second run, or a ``--resume``, into a folder in use is refused,
  naming the other run's pid.
- ``new_folder``: a default folder (``reports/<UTC time>-<host>/``) is made
  atomically, so two runs started in the same second get two folders.

The data floor: nothing here imports the rest of gilbench but its error type.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from gilbench.bench.errors import UserError

LOCK_NAME = ".gilbench-lock"  # in the folder a run writes into, while it runs
# A temporary file is made private (0600); the file it becomes gets the usual mode.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class WriteFailed(Exception):
    """A file could not be written: which, the system's reason, and (added by the
    command that knows) what is already saved and how to finish. Caught in
    ``cli.main``, printed as one line; its own exit code (not "a cell failed")."""

    def __init__(self, path: Path, exc: OSError, saved: str = "", finish: str = "") -> None:
        self.path, self.exc, self.saved, self.finish = Path(path), exc, saved, finish
        super().__init__(self.line())

    @property
    def reason(self) -> str:
        name = errno.errorcode.get(self.exc.errno or 0)
        text = self.exc.strerror or str(self.exc)
        return f"{text} ({name})" if name else text

    def saying(self, saved: str, finish: str) -> WriteFailed:
        """The same failure, with what is saved and how to finish."""
        return WriteFailed(self.path, self.exc, saved, finish)

    def line(self) -> str:
        out = f"cannot write {self.path}: {self.reason}"
        if self.saved:
            out += f"; {self.saved}"
        if self.finish:
            out += f"; {self.finish}"
        return out


@contextlib.contextmanager
def writing(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file object to write ``path`` through: a temporary file beside it, renamed over
    it when the block ends; on any error the temporary file is removed (an ``OSError``
    raised as ``WriteFailed``). ``mode``: "w" (text, UTF-8) or "wb"."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteFailed(path, exc) from None
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise WriteFailed(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, whole or not at all."""
    with writing(path) as f:
        f.write(text)
    return Path(path)


def write_with(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Let ``write`` fill a binary file object (a chart's ``savefig``), whole or not at
    all."""
    with writing(path, "wb") as f:
        write(f)
    return Path(path)


# ------------------------------------------------------------ one run per folder


class FolderLock:
    """An exclusive hold on an output folder for as long as this process runs in it.

    ``flock`` on ``DIR/.gilbench-lock``, which holds the holder's pid and command
    (``run``, ``report``, ``compare``) for the refusal message. The file is removed on
    release; a run that was waiting for the old file notices (it is no longer the one
    at that name) and takes the new one.
    """

    def __init__(self, folder: Path, what: str = "run") -> None:
        self.folder, self.what = Path(folder), what
        self.path = self.folder / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> FolderLock:
        import fcntl

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot write to output folder {self.folder}: "
                            f"{exc.strerror or exc}; choose another with --out") from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise UserError(f"cannot write to output folder {self.folder}: "
                                f"{exc.strerror or exc}; choose another with --out") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid, what = _holder(fd)
                os.close(fd)
                raise UserError(
                    f"{self.folder} is in use by another gilbench {what} (pid {pid}); wait "
                    "for it to finish, or choose another --out") from None
            if _same_file(fd, self.path):
                break
            os.close(fd)  # the holder removed it as it let go: take the new one
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {self.what}\n".encode())
        except OSError:
            pass  # the hold is what matters; the pid is only for the message
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still held: a waiter then sees it is stale
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


HOLDER_WAIT_S = 1.0  # how long a refused run waits for the holder to write who it is


def _holder(fd: int) -> tuple[str, str]:
    """The pid and command of the process holding the lock, as it wrote them. The holder
    writes them just after it takes the lock: a run refused in between waits for them (at
    most ``HOLDER_WAIT_S``; two runs started together met that gap, 1 in about 20)."""
    end = time.monotonic() + HOLDER_WAIT_S
    while True:
        try:
            words = os.pread(fd, 64, 0).decode("ascii", "replace").split()
        except OSError:
            words = []
        if (words and words[0].isdigit()) or time.monotonic() >= end:
            break
        time.sleep(0.005)
    pid = words[0] if words and words[0].isdigit() else "unknown"
    return pid, " ".join(words[1:2]) or "run"


def _same_file(fd: int, path: Path) -> bool:
    try:
        mine, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def new_folder(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3`` ... : the first that did not exist, made now
    (``mkdir`` is atomic: two runs started in the same second get two folders)."""
    base = Path(base)
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot make {base.parent}: {exc.strerror or exc}; choose a "
                        "folder with --out") from None
    for n in range(1, 1000):
        candidate = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserError(f"cannot make {candidate}: {exc.strerror or exc}; choose a "
                            "folder with --out") from None
    raise UserError(f"{base}: a thousand folders of that name already; choose one with --out")
