"""Writing files without losing any: every destination checked before work starts, every file written
to a temporary name beside it and renamed over the old one, and a report folder swapped in whole
under a lock.

    check_writable("out/w.pt", "--save")        # before any work: a ValueError naming what is wrong
    with atomic_path("out/w.pt") as tmp:        # ".tmp-<token>-w.pt" beside it; on success os.replace
        torch.save(state, tmp)                  # on any failure (or Ctrl-C) the old w.pt is untouched
    with atomic_paths(["a.npz", "b.pt"]) as tmp:   # several files: all replaced, or none
        ...
    with staged_directory("triptych-report") as staging:   # locked; swapped in whole on success
        ...

A temporary name keeps the destination's suffix (Keras insists on ``.weights.h5``) and starts with a dot.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterator

REPORT_MARKER = ".triptych-report"  # a folder holding this file is a report that a new run may replace


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".tmp-{secrets.token_hex(4)}-{path.name}")


def _probe(folder: Path, what: str, shown: str) -> None:
    """Create and delete a file in ``folder``: os.access is not enough (root, read-only mounts)."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".triptych-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"{what} {shown!r}: cannot write into folder {str(folder)!r} "
                         f"({exc.strerror or exc})") from None


def check_writable(path, what: str = "destination") -> str:
    """``path`` as a string after checking that a file can be written there: not a folder, and its folder
    exists and takes new files.  A ValueError names ``what`` (e.g. "--save") and the problem."""
    shown = str(path)
    target = Path(path)
    if shown == "" or target.name == "":
        raise ValueError(f"{what} {shown!r} names no file")
    if target.is_dir():
        raise ValueError(f"{what} {shown!r} is a folder; expected a file name")
    folder = target.parent
    if not folder.exists():
        raise ValueError(f"{what} {shown!r}: folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{what} {shown!r}: {str(folder)!r} is not a folder")
    _probe(folder, what, shown)
    return shown


@contextlib.contextmanager
def defer_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) for a few renames, so they happen all or none; it arrives right after.
    A no-op off the main thread and where signals cannot be masked."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_paths(paths) -> Iterator[list[str]]:
    """Temporary names beside each of ``paths``; when the block succeeds every one is renamed over its
    destination (with Ctrl-C held back), else all are deleted and no destination changes."""
    targets = [Path(p) for p in paths]
    temps = [_temp_beside(p) for p in targets]
    try:
        yield [str(t) for t in temps]
        for temp in temps:
            if not temp.is_file():
                raise OSError(f"nothing was written to {str(temp)!r}")
            _fsync(temp)
        with defer_interrupts():
            for temp, target in zip(temps, targets):
                os.replace(temp, target)
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


@contextlib.contextmanager
def atomic_path(path) -> Iterator[str]:
    """A temporary name beside ``path``, renamed over it when the block succeeds (see :func:`atomic_paths`)."""
    with atomic_paths([path]) as (temp,):
        yield temp


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", encoding: str | None = "utf-8"):
    """``open`` on a temporary file beside ``path``, renamed over it when the block succeeds."""
    with atomic_path(path) as temp, open(temp, mode, **({} if "b" in mode else {"encoding": encoding})) as fh:
        yield fh


# ---------------------------------------------------------------- a folder swapped in whole


def _is_previous_report(folder: Path) -> bool:
    """A folder a new report may replace: empty, or written by ``triptych report`` (its marker file, or
    index.html beside results.json from before the marker existed)."""
    names = {p.name for p in folder.iterdir()}
    return not names or REPORT_MARKER in names or {"index.html", "results.json"} <= names


@contextlib.contextmanager
def _lock(lock: Path, what: str, shown: str) -> Iterator[None]:
    """An exclusive lock on the file ``lock`` (flock: released by the kernel if the process dies)."""
    try:
        import fcntl
    except ImportError:  # Windows: an exclusive create; a crash leaves the file, and the message says so
        fcntl = None
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | (0 if fcntl else os.O_EXCL), 0o644)
        except FileExistsError:
            fd = None
        except OSError as exc:
            raise ValueError(f"{what} {shown!r}: cannot create the lock file {str(lock)!r} "
                             f"({exc.strerror or exc})") from None
        try:
            if fd is None:
                raise BlockingIOError
            if fcntl:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = lock.read_text(errors="replace").strip() if lock.exists() else "?"
            if fd is not None:
                os.close(fd)
            raise ValueError(f"{what} {shown!r} is being written by another triptych run (process "
                             f"{holder or '?'}, lock {str(lock)!r}); wait for it to finish or choose another "
                             f"folder") from None
        try:  # the previous holder may have deleted the file between our open and our lock: start again
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        os.close(fd)


@contextlib.contextmanager
def file_locks(paths, what: str = "--save") -> Iterator[None]:
    """Exclusive locks on ``paths`` (a ``.NAME.lock`` beside each) for the whole block: a second run writing
    one of the same files fails at once, clearly, instead of both reporting success and one model lost."""
    with contextlib.ExitStack() as stack:
        for path in paths:
            target = Path(path)
            stack.enter_context(_lock(target.with_name(f".{target.name}.lock"), what, str(path)))
        yield


@contextlib.contextmanager
def staged_directory(out, what: str = "--out") -> Iterator[Path]:
    """A fresh, empty folder beside ``out``; when the block succeeds it replaces ``out`` whole (the
    previous contents, stale files included, are removed), else it is deleted and ``out`` is untouched.

    Checked before the block runs: ``out`` is not a file, not a folder of other files (only an empty
    folder or an earlier report is replaced), not the current folder or one above it, and its parent takes
    new files.  A lock beside it makes a concurrent run into the same ``out`` fail at once, clearly.
    """
    shown = str(out)
    try:
        out = Path(out).resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop: RuntimeError before Python 3.13, OSError after
        raise ValueError(f"{what} {shown!r} cannot be resolved ({exc}); is it a symbolic link loop?") from None
    if out.exists() and not out.is_dir():
        raise ValueError(f"{what} {shown!r} is a file; expected a folder for the report")
    if out == Path(out.anchor) or Path.cwd().resolve().is_relative_to(out):
        raise ValueError(f"{what} {shown!r} is the current folder or one above it; choose a folder of its own")
    if out.is_dir() and not _is_previous_report(out):
        raise ValueError(f"{what} {shown!r} holds files that are not a Triptych report; choose a new or "
                         f"empty folder (a report replaces its folder whole)")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{what} {shown!r}: cannot create folder {str(parent)!r} ({exc.strerror or exc})") from None
    _probe(parent, what, shown)
    with _lock(parent / f".{out.name}.lock", what, shown):
        for leftover in parent.glob(f".{out.name}.*-tmp-*"):  # from a run that was killed outright
            shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.new-tmp-"))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0o700 would outlive the swap
        try:
            yield staging
            (staging / REPORT_MARKER).write_text("written by `triptych report`; the next report into this "
                                                 "folder replaces it whole\n", encoding="utf-8")
            old = parent / f".{out.name}.old-tmp-{secrets.token_hex(4)}"
            with defer_interrupts():
                if out.exists():
                    os.rename(out, old)
                try:
                    os.rename(staging, out)
                except OSError:
                    if old.exists():
                        os.rename(old, out)
                    raise
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
