"""Results folders that are never lost, overwritten or left half-written.

A run claims its results folder before it simulates anything (:func:`claim_output`):

* it takes an exclusive lock beside the folder (``.<name>.bt-sim-lock``, an ``flock`` that the
  kernel releases when the process dies, however it dies), so two runs never write the same
  folder: a default folder that is taken moves on to ``<name>-2``, ``<name>-3``, ...;
* it checks that an existing folder may be replaced: only with ``force``, and only when it is a
  results folder that bt-sim wrote (a ``manifest.json`` of bt-sim, and no other files);
* it creates the staging folder ``.<name>.bt-sim-tmp-<pid>`` beside the destination, which
  also proves that the destination can be written.

The results are written into the staging folder and :meth:`OutputClaim.commit` moves them into
place: an existing folder is first renamed aside (``.<name>.bt-sim-old-<pid>``), the new one is
renamed in, and only then is the old one removed. Ctrl-C and SIGTERM are held back during the
two renames. Hidden folders whose process is gone (killed with SIGKILL, or a power cut) are
removed, or an old folder put back, by the next run that writes beside them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from bt_sim.errors import OutputError

#: Environment variable of the test suite: ``write:SECONDS`` pauses once the staging folder is
#: complete (before the commit), ``swap:SECONDS`` between the two renames of a replace.
PAUSE_ENV = "BT_SIM_TEST_PAUSE"
_HIDDEN = re.compile(r"^\.(?P<name>.+)\.bt-sim-(?P<kind>tmp|old)-(?P<pid>\d+)$")
_LOCK_SUFFIX = ".bt-sim-lock"
MAX_DEFAULT_FOLDERS = 10_000


def _pause(stage: str) -> None:
    spec = os.environ.get(PAUSE_ENV, "")
    want, _, seconds = spec.partition(":")
    if want == stage and seconds:
        time.sleep(float(seconds))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM while the block runs; they are raised again afterwards.

    The handlers are swapped rather than the signal mask changed, because the mask is per
    thread and a signal may arrive on any thread (numba, tqdm) and still interrupt this one.
    """
    pending: list[int] = []

    def defer(signum, frame) -> None:
        pending.append(signum)

    sigs = (signal.SIGINT, signal.SIGTERM)
    try:
        old = {s: signal.signal(s, defer) for s in sigs}
    except ValueError:  # not the main thread: signals are handled there anyway
        old = {}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(pending):
            signal.raise_signal(s)


def _try_lock(path: Path) -> int | None:
    """An exclusive ``flock`` on ``path`` (created if needed): the fd, or None if held."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a lock file that its holder removed meanwhile
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _unlock(path: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
    os.close(fd)


def clean_stale(folder: Path) -> list[Path]:
    """Remove hidden staging folders and locks in ``folder`` left by runs that are gone.

    A folder set aside during a replace (``.<name>.bt-sim-old-<pid>``) is put back when its
    replacement never arrived, and removed otherwise. Returns the paths removed or restored.
    """
    done: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return done
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(_LOCK_SUFFIX):
            lock = Path(entry.path)
            fd = _try_lock(lock)
            if fd is not None:  # nobody holds it: its run is gone
                _unlock(lock, fd)
                done.append(lock)
            continue
        m = _HIDDEN.match(entry.name)
        if not m or _pid_alive(int(m["pid"])):
            continue
        path, final = Path(entry.path), folder / m["name"]
        if m["kind"] == "old" and not final.exists():
            with contextlib.suppress(OSError):
                os.rename(path, final)
                done.append(path)
                continue
        shutil.rmtree(path, ignore_errors=True)
        done.append(path)
    return done


def results_files(folder: Path) -> set[str] | None:
    """The files of a results folder bt-sim wrote (from its manifest), or None if it is not one."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or "bt_sim_manifest" not in manifest:
        return None
    files = manifest.get("files", {})
    if not isinstance(files, dict):
        return None
    return {"manifest.json", *(str(f) for f in files.values())}


def _check_replaceable(out: Path, shown: Path) -> None:
    ours = results_files(out)
    if ours is None:
        raise OutputError(
            f"{shown}: --force replaces only a results folder that bt-sim wrote (one with its "
            "manifest.json), and this is not one; choose another --out"
        )
    others = sorted(p.name for p in out.iterdir() if p.name not in ours)
    if others:
        names = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise OutputError(
            f"{shown}: holds files bt-sim did not write ({names}); --force will not delete them. "
            "Move them away or choose another --out"
        )


class OutputClaim:
    """A results folder claimed by this run: its lock is held and its staging folder exists.

    Attributes
    ----------
    final : Path
        Where the results will be.
    staging : Path
        The hidden folder to write them into.
    committed : bool
        Whether the results have been moved into place.
    """

    def __init__(
        self, final: Path, lock: Path, fd: int, replace: bool, created: tuple[Path, ...] = ()
    ):
        self.final = final
        self.staging = final.parent / f".{final.name}.bt-sim-tmp-{os.getpid()}"
        self.committed = False
        self._lock, self._fd, self._replace = lock, fd, replace
        self._created = created  # parent folders this claim made (removed again if empty)
        try:
            self.staging.mkdir(mode=0o755)
        except OSError as exc:
            self.release()
            raise OutputError(f"{final}: cannot write the results folder: {exc.strerror}") from None

    def commit(self, release: bool = True) -> Path:
        """Move the staged results into place; an old folder is removed only afterwards.

        With ``release=False`` the lock stays held after the move (a sweep keeps writing into
        the folder) until :meth:`release`.

        Raises
        ------
        OutputError
            If the move fails (the old folder, if any, is then left as it was).
        """
        _pause("write")
        old = None
        try:
            with _signals_held():
                if self.final.is_dir() and not any(self.final.iterdir()):
                    self.final.rmdir()
                elif self._replace and self.final.exists():
                    old = self.final.parent / f".{self.final.name}.bt-sim-old-{os.getpid()}"
                    os.rename(self.final, old)
                    _pause("swap")
                try:
                    os.rename(self.staging, self.final)
                except OSError:
                    if old is not None:
                        os.rename(old, self.final)
                    raise
                self.committed = True
                if old is not None:  # still held back: a signal now would leave it behind
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            self.release()
            raise OutputError(f"{self.final}: cannot write results: {exc.strerror}") from None
        finally:
            if release or not self.committed:
                self.release()
        return self.final

    def release(self) -> None:
        """Remove the staging folder (if still there) and give the lock up; idempotent."""
        if not self.committed:
            shutil.rmtree(self.staging, ignore_errors=True)
        if self._fd >= 0:
            _unlock(self._lock, self._fd)
            self._fd = -1
        if not self.committed:  # an interrupted run leaves no empty results/ behind
            for folder in self._created:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if empty


def _is_cwd_or_above(path: Path) -> bool:
    cwd = Path.cwd().resolve()
    return path == cwd or path in cwd.parents


def claim_output(out: Path | None, name: str, force: bool = False) -> OutputClaim:
    """Claim the results folder of a run, before the run starts.

    Parameters
    ----------
    out : Path or None
        The folder asked for (``--out``); None means ``results/<name>``, or ``results/<name>-2``
        and so on when that exists or another run is writing it (with ``force``: always
        ``results/<name>``, replaced if bt-sim wrote it).
    name : str
        The scenario name (already validated as a plain name).
    force : bool
        Allow replacing an existing results folder that bt-sim wrote.

    Raises
    ------
    OutputError
        If the folder exists (without ``force``), is not bt-sim's, holds other files, is being
        written by another run, or cannot be created or written.
    """
    explicit = out is not None or force
    base = Path(out) if out is not None else Path("results") / name
    for i in range(1, MAX_DEFAULT_FOLDERS + 1):
        cand = base if i == 1 else base.with_name(f"{base.name}-{i}")
        claim = _claim_one(cand, explicit, force)
        if claim is not None:
            return claim
    raise OutputError(f"{base}: {MAX_DEFAULT_FOLDERS} results folders already; use --out")


def _own_folder(shown: Path) -> Path:
    """The absolute path of a results folder, refused where it is the current folder or one
    above it."""
    full = Path(os.path.abspath(shown))
    if _is_cwd_or_above(full.resolve()) or not full.resolve().name:
        raise OutputError(
            f"{shown}: is the current folder or one above it; results need a folder of their "
            "own, e.g. --out results/mine"
        )
    return full


def _claim_one(cand: Path, explicit: bool, force: bool) -> OutputClaim | None:
    shown = cand
    full = _own_folder(cand)
    parent = full.parent
    created = []  # the parent folders this claim makes, deepest first
    up = parent
    while not up.exists() and up != up.parent:
        created.append(up)
        up = up.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{shown}: cannot create its parent folder {cand.parent}: {exc.strerror}"
        ) from None
    if not parent.is_dir():
        raise OutputError(f"{shown}: its parent {cand.parent} is not a folder")
    clean_stale(parent)
    lock = parent / f".{full.name}{_LOCK_SUFFIX}"
    try:
        fd = _try_lock(lock)
    except OSError as exc:
        raise OutputError(f"{shown}: cannot write in {cand.parent}: {exc.strerror}") from None
    if fd is None:
        if not explicit:
            return None
        raise OutputError(
            f"{shown}: another bt-sim run is writing this folder; choose another --out"
        )
    try:
        exists = full.exists() or full.is_symlink()
        if exists and not explicit:
            _unlock(lock, fd)
            return None
        replace = exists and _check_existing(full, shown, force)
    except BaseException:
        _unlock(lock, fd)
        raise
    return OutputClaim(full if cand.is_absolute() else cand, lock, fd, replace, tuple(created))


def _check_existing(full: Path, shown: Path, force: bool) -> bool:
    """Whether claiming the existing ``full`` replaces it (a non-empty results folder bt-sim
    wrote, with ``force``); raises OutputError where it may not be claimed."""
    if full.is_symlink() or not full.is_dir():
        raise OutputError(f"{shown}: exists and is not a folder; choose another --out")
    if not any(full.iterdir()):
        return False
    if not force:
        raise OutputError(
            f"{shown}: already exists and is not empty; choose another --out, or "
            "pass --force to replace a results folder bt-sim wrote"
        )
    _check_replaceable(full, shown)
    return True


def check_destination(out: Path, force: bool = False) -> None:
    """Refuse what :func:`claim_output` (with this ``out`` given) would refuse, without
    claiming, locking or creating anything: for ``--check``.

    Raises
    ------
    OutputError
        If ``out`` is the current folder or above it, its nearest existing parent is not a
        writable folder, or it exists and may not be replaced.
    """
    full = _own_folder(out)
    up = full.parent
    while not (up.exists() or up.is_symlink()) and up != up.parent:
        up = up.parent
    if not up.is_dir():
        raise OutputError(f"{out}: its parent {up} is not a folder")
    if not os.access(up, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: cannot write in {up}: permission denied")
    if full.exists() or full.is_symlink():
        _check_existing(full, Path(out), force)


class FolderLock:
    """The lock of an existing results folder, held while a sweep adds to it (``--resume``).

    Uses the same lock file as :func:`claim_output`, so a resumed sweep and a new run never
    write the same folder at once.

    Raises
    ------
    OutputError
        If another bt-sim process holds the folder.
    """

    def __init__(self, folder: Path):
        full = Path(os.path.abspath(folder))
        self.final = Path(folder)
        self._lock = full.parent / f".{full.name}{_LOCK_SUFFIX}"
        try:
            fd = _try_lock(self._lock)
        except OSError as exc:
            raise OutputError(f"{folder}: cannot lock it: {exc.strerror}") from None
        if fd is None:
            raise OutputError(f"{folder}: another bt-sim process is writing this folder")
        self._fd = fd

    def release(self) -> None:
        """Give the lock up; idempotent."""
        if self._fd >= 0:
            _unlock(self._lock, self._fd)
            self._fd = -1
