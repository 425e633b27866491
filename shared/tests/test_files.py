import json
import os
import signal
import subprocess
import sys

import pytest

from zero_to_hero.files import HOST, atomic_path, write_json


def test_write_json_replaces_the_file_whole(tmp_path):
    path = tmp_path / "deep" / "metrics.json"
    write_json(path, {"loss": 1.5})
    write_json(path, {"loss": 1.25, "steps": [1, 2]})
    assert json.loads(path.read_text()) == {"loss": 1.25, "steps": [1, 2]}
    assert sorted(p.name for p in path.parent.iterdir()) == ["metrics.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_two_writers_to_one_path_never_share_a_temporary_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    with atomic_path(path) as first, atomic_path(path) as second:
        assert first != second
        first.write_bytes(b"A" * 1000)
        second.write_bytes(b"B" * 10)
    assert path.read_bytes() == b"A" * 1000  # the last rename wins, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    path = tmp_path / "ckpt.pt"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = tmp_path / f"ckpt.pt.{HOST}.{dead.pid}.deadbeef.tmp"
        live = tmp_path / f"ckpt.pt.{HOST}.{alive.pid}.cafecafe.tmp"
        other_host = tmp_path / f"ckpt.pt.elsewhere.{dead.pid}.00000000.tmp"  # not ours to judge
        for p in (stale, live, other_host):
            p.write_bytes(b"half")
        write_json(path, {"ok": True})
        assert not stale.exists() and live.exists() and other_host.exists()
    finally:
        alive.kill()
        alive.wait()


SLOW_WRITE = """
import sys, time
from zero_to_hero import run_main
from zero_to_hero.files import atomic_path

def main(path):
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"half of a checkpoint")
        print("writing", flush=True)
        time.sleep(60)

run_main(main, sys.argv[1])
"""


def test_sigterm_mid_write_removes_the_temporary_file_and_keeps_the_old_one(tmp_path):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"old")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_prepare_out_dir_creates_the_folder_and_refuses_a_file_or_an_unwritable_one(tmp_path, monkeypatch):
    from zero_to_hero import UserError
    from zero_to_hero.files import prepare_out_dir

    assert prepare_out_dir(tmp_path / "a" / "b").is_dir() and list((tmp_path / "a" / "b").iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="--out_dir .*file is a file, not a folder"):
        prepare_out_dir(tmp_path / "file", flag="--out_dir")
    with pytest.raises(UserError, match="cannot write into --out-dir"):
        prepare_out_dir(tmp_path / "file" / "sub")  # a folder below a file cannot be made

    def read_only(self, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(tmp_path), "write_bytes", read_only)  # (tests run as root: chmod would not stop us)
    with pytest.raises(UserError, match=r"cannot write into --out-dir .*\(Permission denied\)"):
        prepare_out_dir(tmp_path / "ro")


def test_file_lock_excludes_another_process_while_held(tmp_path):
    """While one process holds the lock, another's non-blocking attempt fails; after the block it succeeds."""
    import subprocess
    import sys

    from zero_to_hero.files import file_lock

    lock = tmp_path / "cpu.lock"
    probe = (
        "import fcntl, sys\n"
        "f = open(sys.argv[1], 'a')\n"
        "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(1)\n"
    )

    def other_process_gets_it() -> bool:
        return subprocess.run([sys.executable, "-c", probe, str(lock)]).returncode == 0

    with file_lock(lock):
        assert not other_process_gets_it()
    assert other_process_gets_it()


HOLD = """
import sys, time
from zero_to_hero import run_main
from zero_to_hero.files import hold_folder

def main(path):
    with hold_folder(path, "--out_dir"):
        print("holding", flush=True)
        time.sleep(60)

run_main(main, sys.argv[1])
"""


def test_hold_folder_refuses_a_second_run_with_the_holders_pid_and_frees_on_exit(tmp_path):
    """One run holds the folder; another process gets one line (exit 2) naming the holder; when the holder is
    killed outright (kill -9), the folder is free again: no stale lock."""
    from zero_to_hero.files import hold_folder

    folder = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        second = subprocess.run([sys.executable, "-c", HOLD, str(folder)], capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and second.stdout == ""
        assert second.stderr == (
            f"error: --out_dir {folder} is in use by another run (pid {holder.pid}); "
            "wait for it or choose another --out_dir\n"
        )
        from zero_to_hero import UserError

        with pytest.raises(UserError, match=rf"in use by another run \(pid {holder.pid}\)"):
            with hold_folder(folder):
                pass
    finally:
        holder.kill()
        holder.wait()
    with hold_folder(folder, "--out_dir") as held:  # the kernel dropped the dead holder's lock
        assert held == folder
        with hold_folder(folder):  # nested in one process: fine
            pass
        probe = subprocess.run([sys.executable, "-c", HOLD, str(folder)], capture_output=True, text=True, timeout=60)
        assert probe.returncode == 2 and f"(pid {os.getpid()})" in probe.stderr
    sequential = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert sequential.stdout.readline() == "holding\n"  # released after the block
    finally:
        sequential.kill()
        sequential.wait()
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]
