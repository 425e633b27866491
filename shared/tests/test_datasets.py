"""zero_to_hero.datasets against a real loopback HTTP server, a mirror folder and the cache."""

import hashlib
import http.server
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from zero_to_hero import datasets, mirrors
from zero_to_hero.datasets import Dataset, DatasetError, fetch, read_text

CONTENT = "".join(f"name{i}\n" for i in range(20000)).encode()  # ~200 kB, several chunks
SHA = hashlib.sha256(CONTENT).hexdigest()


class Handler(http.server.SimpleHTTPRequestHandler):
    delay_s = 0.0  # per chunk, to make concurrent downloads overlap
    requests = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests += 1
        path = Path(self.directory) / self.path.lstrip("/")
        if self.path.startswith("/hang"):
            time.sleep(20)
            return
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for i in range(0, len(data), 1 << 15):
            self.wfile.write(data[i : i + (1 << 15)])
            time.sleep(self.delay_s)


@pytest.fixture
def server(tmp_path):
    """Serves tmp_path/www over HTTP on 127.0.0.1; yields (url prefix, folder)."""
    www = tmp_path / "www"
    www.mkdir()
    Handler.requests = 0
    Handler.delay_s = 0.0
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Handler(*a, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def dead_url():
    """A loopback URL that refuses connections, whatever else runs on the machine: a port this test holds bound
    but never listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def env(tmp_path, monkeypatch, dead_url):
    """An empty cache, no mirror, and a registry holding one small data set 'toy' on a dead URL."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ZERO_TO_HERO_CACHE", str(cache))
    monkeypatch.delenv("ZERO_TO_HERO_MIRROR", raising=False)
    toy = Dataset("toy", "toy.txt", f"{dead_url}/toy.txt", SHA, len(CONTENT), "test data")
    monkeypatch.setattr(datasets, "REGISTRY", {"toy": toy})
    return cache


def leftovers(cache: Path):
    return sorted(p.name for p in cache.iterdir() if p.name.endswith(".part"))


def test_http_download_is_verified_and_cached(env, server, monkeypatch, dead_url):
    url, www = server
    (www / "toy.txt").write_bytes(CONTENT)
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", url + "/")
    path = fetch("toy")
    assert path == env / "toy.txt"
    assert path.read_bytes() == CONTENT
    assert Handler.requests == 1
    # a cache hit needs no network: the server is gone
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", dead_url)
    assert fetch("toy") == path
    assert Handler.requests == 1


def test_canonical_url_is_used_without_mirror(env, server, monkeypatch):
    url, www = server
    (www / "toy.txt").write_bytes(CONTENT)
    d = datasets.REGISTRY["toy"]
    monkeypatch.setitem(datasets.REGISTRY, "toy", Dataset(d.name, d.filename, url + "/toy.txt", SHA, d.size, ""))
    assert fetch("toy").read_bytes() == CONTENT


@pytest.mark.parametrize(
    "served, expected",
    [(CONTENT[: len(CONTENT) // 2], "truncated or corrupted"), (CONTENT.replace(b"7", b"8"), "truncated or corrupted")],
    ids=["truncated", "corrupted"],
)
def test_bad_download_is_rejected_and_nothing_is_left(env, server, monkeypatch, served, expected):
    url, www = server
    (www / "toy.txt").write_bytes(served)
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", url)
    with pytest.raises(DatasetError, match=expected) as e:
        fetch("toy")
    assert SHA in str(e.value) and hashlib.sha256(served).hexdigest() in str(e.value)
    assert not (env / "toy.txt").exists()
    assert leftovers(env) == []


def test_http_404(env, server, monkeypatch):
    url, _ = server
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", url)
    with pytest.raises(DatasetError, match=r"HTTP 404 .* for http://127\.0\.0\.1:\d+/toy\.txt"):
        fetch("toy")
    assert leftovers(env) == [] and not (env / "toy.txt").exists()


def test_no_network_and_no_mirror_says_what_to_set(env, dead_url):
    with pytest.raises(DatasetError, match=rf"cannot download {dead_url}/toy\.txt.*ZERO_TO_HERO_MIRROR="):
        fetch("toy")


def test_network_read_times_out(env, server, monkeypatch):
    url, _ = server
    monkeypatch.setattr(datasets, "TIMEOUT_S", 0.5)
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", url + "/hang")
    start = time.perf_counter()
    with pytest.raises(DatasetError, match="timed out"):
        fetch("toy")
    assert time.perf_counter() - start < 15  # the server answers after 20 s; the 0.5 s read timeout fires first


def test_mirror_folder(env, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(mirror))
    with pytest.raises(DatasetError, match=r"mirror folder .* has no toy\.txt"):
        fetch("toy")
    (mirror / "toy.txt").write_bytes(CONTENT)
    assert fetch("toy").read_bytes() == CONTENT
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(tmp_path / "nowhere"))
    (env / "toy.txt").unlink()
    with pytest.raises(DatasetError, match="is not a folder"):
        fetch("toy")


def test_cached_file_with_wrong_hash_is_fetched_again(env, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "toy.txt").write_bytes(CONTENT)
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(mirror))
    path = fetch("toy")
    path.write_bytes(b"damaged")
    assert fetch("toy").read_bytes() == CONTENT


def _fetch_in_child(url, cache, queue):
    os.environ["ZERO_TO_HERO_MIRROR"] = url
    os.environ["ZERO_TO_HERO_CACHE"] = cache
    queue.put(str(fetch("toy")))


def test_concurrent_fetches_do_not_corrupt_the_cache(env, server):
    url, www = server
    (www / "toy.txt").write_bytes(CONTENT)
    Handler.delay_s = 0.02  # ~7 chunks: the two downloads would overlap without the lock
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_fetch_in_child, args=(url, str(env), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert {queue.get(), queue.get()} == {str(env / "toy.txt")}
    assert (env / "toy.txt").read_bytes() == CONTENT
    assert leftovers(env) == []
    assert Handler.requests == 1  # the second process found the first one's verified copy


def test_user_file_is_used_as_is(env, tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("anna\nbob\n")
    assert fetch(str(mine)) == mine
    assert read_text(str(mine)) == "anna\nbob\n"


def test_user_file_not_utf8(env, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\xfe\n")
    with pytest.raises(DatasetError, match=r"bad\.txt is not UTF-8 text \(byte 3"):
        read_text(str(bad))


def test_unknown_name_lists_valid_ones(env):
    with pytest.raises(DatasetError, match=r"unknown data set or missing file 'nope'; valid names: toy"):
        fetch("nope")


# --- command line: in-process for the registry above, as a subprocess for the real one ---


def cli(*argv):
    return datasets.run_main(datasets.main, list(argv))


def test_cli_fetch_prints_only_paths(env, tmp_path, monkeypatch, capsys):
    mine = tmp_path / "mine.txt"
    mine.write_text("x\n")
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "toy.txt").write_bytes(CONTENT)
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(tmp_path / "mirror"))
    cli("fetch", "toy", str(mine))
    out = capsys.readouterr()
    assert out.out.splitlines() == [str(env / "toy.txt"), str(mine)]
    assert out.err == ""


def test_cli_list_shows_cached_state(env, tmp_path, monkeypatch, capsys, dead_url):
    cli("list")
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("toy")][0]
    assert f"{len(CONTENT):,} B" in row and " - " in row and dead_url in row
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "toy.txt").write_bytes(CONTENT)
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(tmp_path / "mirror"))
    fetch("toy")
    cli("list")
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("toy")][0]
    assert "cached" in row


@pytest.mark.parametrize(
    "setup, message",
    [
        ("none", "cannot download http://127.0.0.1:"),
        ("404", "HTTP 404"),
        ("truncated", "truncated or corrupted"),
        ("mirror-missing", "has no toy.txt"),
        ("unknown", "valid names: toy"),
    ],
)
def test_cli_errors_exit_2_with_one_line(env, server, tmp_path, monkeypatch, capsys, setup, message):
    url, www = server
    name = "toy"
    if setup == "404":
        monkeypatch.setenv("ZERO_TO_HERO_MIRROR", url)
    elif setup == "truncated":
        (www / "toy.txt").write_bytes(CONTENT[:100])
        monkeypatch.setenv("ZERO_TO_HERO_MIRROR", url)
    elif setup == "mirror-missing":
        monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(tmp_path))
    elif setup == "unknown":
        name = "nope"
    with pytest.raises(SystemExit) as e:
        cli("fetch", name)
    assert e.value.code == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith("error: ") and message in out.err and out.err.count("\n") == 1
    assert not (env / "toy.txt").exists()
    if env.exists():
        assert leftovers(env) == []


def test_cli_subprocess_real_registry(tmp_path):
    environ = {**os.environ, "ZERO_TO_HERO_CACHE": str(tmp_path), "ZERO_TO_HERO_MIRROR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "zero_to_hero.datasets", "fetch", "names"], capture_output=True, text=True, env=environ
    )
    assert run.returncode == 2
    assert run.stdout == ""
    expected = f"error: mirror folder {tmp_path} has no names.txt; put it there or unset ZERO_TO_HERO_MIRROR"
    assert run.stderr.strip() == expected
    run = subprocess.run(
        [sys.executable, "-m", "zero_to_hero.datasets", "list"], capture_output=True, text=True, env=environ
    )
    assert run.returncode == 0 and run.stdout.splitlines()[0] == f"cache: {tmp_path}"
    rows = run.stdout.splitlines()[1:]
    assert [row.split()[0] for row in rows] == list(datasets.REGISTRY)  # every data set, none cached yet
    for row, d in zip(rows, datasets.REGISTRY.values(), strict=True):
        assert f"{d.size:,} B  -" in row and d.url in row


# ---- the real registry against the course mirror: the files' own bytes are the reference ------------------------


def course_mirror() -> Path:
    """The folder mirroring the course data (ZERO_TO_HERO_MIRROR, or ../shared/data beside the checkout)."""
    checkout = Path(__file__).resolve().parents[2]
    mirror = os.environ.get("ZERO_TO_HERO_MIRROR") or mirrors.sibling_mirrors(checkout).get("ZERO_TO_HERO_MIRROR")
    if not mirror or not (Path(mirror) / "SHA256SUMS").is_file():
        pytest.skip("no course mirror (a folder with the data sets and their SHA256SUMS): see ../shared/README.md")
    return Path(mirror)


@pytest.mark.parametrize("name", list(datasets.REGISTRY))
def test_every_data_set_fetches_from_the_mirror_and_verifies(name, tmp_path, monkeypatch):
    """Each registry entry names a file of the mirror whose bytes hash (hashlib, here) to the entry's sha256 and
    size, and to the mirror's own SHA256SUMS; fetch copies exactly those bytes, then reuses its cached copy."""
    mirror, d = course_mirror(), datasets.REGISTRY[name]
    sums = dict(reversed(line.split()) for line in (mirror / "SHA256SUMS").read_text().splitlines() if line.strip())
    data = (mirror / d.filename).read_bytes()
    assert hashlib.sha256(data).hexdigest() == d.sha256 == sums[d.filename]
    assert len(data) == d.size
    monkeypatch.setenv("ZERO_TO_HERO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(mirror))
    path = fetch(name)
    assert path == tmp_path / "cache" / d.filename and path.read_bytes() == data
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(tmp_path / "empty"))  # nothing to fetch from now: the cache serves
    (tmp_path / "empty").mkdir()
    assert fetch(name) == path and path.read_bytes() == data


def test_the_course_data_reads_as_the_lectures_count_it(tmp_path, monkeypatch):
    """The two data sets whose line counts the lectures quote: 32,033 names; HellaSwag's 10,042 examples."""
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(course_mirror()))
    monkeypatch.setenv("ZERO_TO_HERO_CACHE", str(tmp_path))
    assert len(read_text("names").splitlines()) == 32033
    assert len(read_text("hellaswag").splitlines()) == 6 * 10042  # context, gold label, 4 endings


def test_a_mirror_copy_with_one_byte_changed_is_refused_and_nothing_is_left(tmp_path, monkeypatch):
    data = bytearray((course_mirror() / "names.txt").read_bytes())
    data[len(data) // 2] ^= 1  # one bit, mid-file: same size, different hash
    bad_mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    bad_mirror.mkdir()
    (bad_mirror / "names.txt").write_bytes(bytes(data))
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(bad_mirror))
    monkeypatch.setenv("ZERO_TO_HERO_CACHE", str(cache))
    with pytest.raises(DatasetError, match="truncated or corrupted") as e:
        fetch("names")
    assert hashlib.sha256(bytes(data)).hexdigest() in str(e.value) and datasets.REGISTRY["names"].sha256 in str(e.value)
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == []


# ---- faults: permissions, read-only and full caches, killed downloads ------------------------------------------


def test_a_download_is_readable_by_the_group_like_any_new_file(env, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "toy.txt").write_bytes(CONTENT)
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", str(mirror))
    old = os.umask(0o022)
    try:
        mode = fetch("toy").stat().st_mode & 0o777
    finally:
        os.umask(old)
    assert mode == 0o644  # mkstemp alone would leave 0600


def test_a_verified_cached_file_is_used_without_taking_the_lock(env, tmp_path, monkeypatch):
    env.mkdir()
    (env / "toy.txt").write_bytes(CONTENT)

    def no_lock(path):
        raise PermissionError(13, "Read-only file system")  # what opening the lock file gives on a read-only cache

    monkeypatch.setattr(datasets, "file_lock", no_lock)
    assert fetch("toy").read_bytes() == CONTENT
    (env / "toy.txt").write_bytes(b"damaged")  # now it needs the lock, and says what to do
    with pytest.raises(DatasetError, match="cannot write to cache folder .*ZERO_TO_HERO_CACHE"):
        fetch("toy")


FULL_DISK = """
import resource, signal, sys
from zero_to_hero import run_main
from zero_to_hero.datasets import fetch
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with an OSError instead
resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))
run_main(fetch, "toy")
"""


def test_a_disk_that_fills_up_mid_download_is_one_line_and_leaves_nothing(env, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "toy.txt").write_bytes(CONTENT)  # ~200 kB, over the 50 kB file size limit
    script = tmp_path / "fetch_toy.py"
    script.write_text(FULL_DISK.replace('run_main(fetch, "toy")', REGISTER_TOY + 'run_main(fetch, "toy")'))
    environment = {**os.environ, "ZERO_TO_HERO_MIRROR": str(mirror), "ZERO_TO_HERO_CACHE": str(env)}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=environment)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: cannot write toy.txt") and "free some space" in run.stderr
    assert leftovers(env) == [] and not (env / "toy.txt").exists()


REGISTER_TOY = f"""
from zero_to_hero import datasets
toy = datasets.Dataset("toy", "toy.txt", "http://127.0.0.1:9/toy.txt", {SHA!r}, {len(CONTENT)}, "")
datasets.REGISTRY = {{"toy": toy}}
"""


def test_sigterm_during_a_download_leaves_no_part_file_and_stale_ones_are_cleared(env, server, tmp_path):
    url, www = server
    (www / "toy.txt").write_bytes(CONTENT)
    Handler.delay_s = 0.5  # a slow server: the download is under way when the signal comes
    script = tmp_path / "fetch_toy.py"
    script.write_text(REGISTER_TOY + "from zero_to_hero import run_main\nrun_main(datasets.fetch, 'toy')\n")
    environment = {**os.environ, "ZERO_TO_HERO_MIRROR": url, "ZERO_TO_HERO_CACHE": str(env)}
    proc = subprocess.Popen([sys.executable, str(script)], env=environment)
    deadline = time.monotonic() + 30
    while not (env.exists() and leftovers(env)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers(env), "the download never started"
    proc.terminate()  # SIGTERM
    assert proc.wait(timeout=30) == 143
    assert leftovers(env) == []
    # a .part left by a process killed outright (SIGKILL) is removed by the next fetch
    (env / ".toy.txt.abc123.part").write_bytes(b"half")
    Handler.delay_s = 0.0
    with pytest.MonkeyPatch.context() as m:
        m.setenv("ZERO_TO_HERO_MIRROR", url)
        assert fetch("toy").read_bytes() == CONTENT
    assert leftovers(env) == []


def test_the_no_network_message_gives_a_path_that_works_from_here(env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", "data")  # relative: looked up from the current folder
    with pytest.raises(DatasetError, match=rf"looked for {tmp_path / 'data'}.*absolute path"):
        fetch("toy")
    monkeypatch.delenv("ZERO_TO_HERO_MIRROR")
    with pytest.raises(DatasetError, match=r"absolute path .* current folder"):
        fetch("toy")
