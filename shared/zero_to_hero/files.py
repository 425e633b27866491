"""Outputs that are whole or absent: write to a temporary file beside the target, then rename it into place.

    with atomic_path(out_dir / "ckpt.pt") as tmp:
        torch.save(checkpoint, tmp)
    write_json(out_dir / "metrics.json", metrics)

A crash or an exception mid-write leaves the previous file (or none), never half of one: os.replace is
atomic on one file system, and the temporary file sits in the target's own folder. Each writer has its own
temporary name (host, process, random), so two writers to one path never write into the same file: the
last rename wins, whole. A process killed outright (SIGKILL, power loss) leaves its temporary file behind;
the next write to the same path on that host removes those whose process is gone. (`run_main` turns SIGTERM
into an exit that runs the cleanup, so only SIGKILL gets that far.)
"""

import contextlib
import json
import os
import socket
import uuid
from pathlib import Path

from zero_to_hero.errors import UserError

HOST = socket.gethostname().replace(".", "-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove `<path>.<this host>.<pid>.*.tmp` files whose process no longer runs; returns what was removed."""
    removed = []
    for tmp in path.parent.glob(f"{path.name}.{HOST}.*.tmp"):
        pid = tmp.name[len(f"{path.name}.{HOST}.") :].split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` to write; it becomes `path` when the block completes and is
    removed if the block fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = path.with_name(f"{path.name}.{HOST}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def file_lock(path):
    """An exclusive lock on `path` (created if needed) between processes for the duration of the block: DDP ranks
    fetching one file, timed runs on a shared machine taking turns. Where there is no fcntl (Windows), no lock."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


_HELD: dict[str, int] = {}  # folders this process holds, with how many nested `hold_folder` blocks hold each


@contextlib.contextmanager
def hold_folder(path, what: str = "folder"):
    """Hold the output folder `path` for one run: an exclusive, non-blocking lock on `<path>/.lock` for the
    duration of the block, so two runs never write into one folder at once (one's results would be lost, or
    mixed with the other's). A second run — another process — gets a UserError at once, naming the holder's pid:
    "<what> <path> is in use by another run (pid N); wait for it or choose another <what>". The lock goes with
    its process (the kernel drops it on exit, kill -9 included), so there is never a stale lock to remove; the
    `.lock` file itself stays. Nested blocks in one process on one folder are fine. Creates the folder. Where
    there is no fcntl (Windows), no lock."""
    path = Path(path)
    try:
        import fcntl
    except ImportError:
        yield path
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create {what} {path} ({e.strerror}); choose another {what}") from None
    key = str(path.resolve())
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield path
        finally:
            _HELD[key] -= 1
        return
    lock = path / ".lock"
    try:
        f = open(lock, "a+", encoding="utf-8")
    except OSError as e:
        raise UserError(f"cannot write into {what} {path} ({e.strerror}); choose another {what}") from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().split()
            who = ""
            if holder and holder[0].isdigit():
                who = f" (pid {holder[0]})" if holder[1:2] in ([HOST], []) else f" (pid {holder[0]} on {holder[1]})"
            message = f"{what} {path} is in use by another run{who}; wait for it or choose another {what}"
            raise UserError(message) from None
        except OSError as e:  # a file system without locks
            raise UserError(f"cannot lock {what} {path} ({e.strerror}); choose another {what}") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()} {HOST}\n")
        f.flush()
        _HELD[key] = 1
        try:
            yield path
        finally:
            del _HELD[key]
            f.seek(0)
            f.truncate()
            f.flush()
            fcntl.flock(f, fcntl.LOCK_UN)


def write_json(path, data, indent: int = 2) -> None:
    """`data` as JSON in `path`, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=indent) + "\n", encoding="utf-8")


def prepare_out_dir(path, flag: str = "--out-dir") -> Path:
    """Create the output folder and check that it takes files, before any work: a bad folder found after
    training would cost the user the run. A UserError names `flag` and the reason."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {path} is a file, not a folder; choose another {flag}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe.{HOST}.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UserError(f"cannot write into {flag} {path} ({e.strerror}); choose another {flag}") from None
    return path
