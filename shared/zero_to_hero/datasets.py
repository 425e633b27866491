"""The course data sets, by name: a verified local copy, downloaded once and cached.

    from zero_to_hero.datasets import fetch, read_text
    path = fetch("names")          # ~/.cache/zero-to-hero/names.txt, sha256 checked
    text = read_text("my_file.txt")  # a user's own file is used as is

Environment:
    ZERO_TO_HERO_CACHE   cache folder (default ~/.cache/zero-to-hero)
    ZERO_TO_HERO_MIRROR  where to download from instead of the canonical URL: a local folder
                         or an http(s):// URL prefix holding files of the same names

Command line:
    python -m zero_to_hero.datasets fetch NAME...   prints each local path, one per line
    python -m zero_to_hero.datasets list            name, size, URL, cached or not
"""

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from zero_to_hero.errors import UserError, run_main
from zero_to_hero.files import file_lock


@dataclass(frozen=True)
class Dataset:
    name: str
    filename: str
    url: str
    sha256: str
    size: int  # bytes
    description: str


REGISTRY = {
    d.name: d
    for d in [
        Dataset(
            "names",
            "names.txt",
            "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt",
            "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
            228145,
            "32,033 US baby names, one per line (makemore, wavenet)",
        ),
        Dataset(
            "tinyshakespeare",
            "tinyshakespeare.txt",
            "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            1115394,
            "tiny shakespeare, 1,115,394 characters (nanogpt)",
        ),
        Dataset(
            "taylorswift",
            "taylorswift.txt",
            "https://raw.githubusercontent.com/karpathy/minbpe/master/tests/taylorswift.txt",
            "c2e39cb822d4ae0caac22152cefc306d466e31217a9c5524e493ad2b76792f57",
            185768,
            "the Wikipedia article on Taylor Swift (minbpe)",
        ),
        Dataset(
            "hellaswag",
            "hellaswag_val_full.txt",
            "https://raw.githubusercontent.com/klosax/hellaswag_text_data/main/hellaswag_val_full.txt",
            "d572539320eb2050e858ca34b495bbe2103e3b3f1391a9c3bcdf215b0bb93bd1",
            7770677,
            "HellaSwag validation, 10,042 examples, 6 lines each: context, gold label, 4 endings (nanogpt)",
        ),
    ]
}

TIMEOUT_S = 30.0  # per network read, not for the whole download
CHUNK = 1 << 16


class DatasetError(UserError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("ZERO_TO_HERO_CACHE") or Path.home() / ".cache" / "zero-to-hero")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _open_source(d: Dataset):
    """A binary stream of the data set's bytes, plus a description of where they come from."""
    mirror = os.environ.get("ZERO_TO_HERO_MIRROR", "").strip()
    if mirror and not mirror.startswith(("http://", "https://")):
        folder = Path(mirror).expanduser().absolute()  # a relative mirror is taken from the current folder
        if not folder.is_dir():
            raise DatasetError(
                f"ZERO_TO_HERO_MIRROR={mirror} is not a folder (looked for {folder}, from {Path.cwd()}) nor an "
                "http(s):// URL; give the folder's absolute path"
            )
        path = folder / d.filename
        if not path.is_file():
            raise DatasetError(f"mirror folder {folder} has no {d.filename}; put it there or unset ZERO_TO_HERO_MIRROR")
        return open(path, "rb"), str(path)
    url = mirror.rstrip("/") + "/" + d.filename if mirror else d.url
    try:
        return urllib.request.urlopen(url, timeout=TIMEOUT_S), url
    except urllib.error.HTTPError as e:
        raise DatasetError(f"HTTP {e.code} {e.reason} for {url}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DatasetError(
            f"cannot download {url} ({reason}); without network, set ZERO_TO_HERO_MIRROR to the absolute path of "
            f"a folder (or an http(s):// URL prefix) holding {d.filename}, e.g. "
            f"ZERO_TO_HERO_MIRROR=/path/to/data (relative paths are taken from the current folder, {Path.cwd()})"
        ) from None


def _readable_by_all(path: Path) -> None:
    """mkstemp creates files only their owner can read: give the download the mode any new file gets."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _download(d: Dataset, target: Path) -> None:
    """Stream the source into a temporary file beside `target`, check sha256, rename into place."""
    source, where = _open_source(d)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{d.filename}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with source, os.fdopen(fd, "wb") as out:
            while True:
                try:
                    chunk = source.read(CHUNK)
                except (TimeoutError, OSError) as e:
                    raise DatasetError(f"download of {where} failed midway ({e}); try again") from None
                if not chunk:
                    break
                h.update(chunk)
                try:
                    out.write(chunk)
                except OSError as e:
                    raise DatasetError(
                        f"cannot write {d.filename} into {target.parent} ({e.strerror}); free some space or set "
                        "ZERO_TO_HERO_CACHE to another folder"
                    ) from None
        if h.hexdigest() != d.sha256:
            raise DatasetError(
                f"{where} is truncated or corrupted: sha256 {h.hexdigest()}, expected {d.sha256} "
                f"({tmp.stat().st_size} bytes, expected {d.size})"
            )
        _readable_by_all(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(name: str) -> Path:
    """A verified local copy of data set `name`, or the path itself if `name` is an existing file."""
    d = REGISTRY.get(name)
    if d is None:
        path = Path(name).expanduser()
        if path.is_file():
            return path
        raise DatasetError(f"unknown data set or missing file {name!r}; valid names: {', '.join(REGISTRY)}")
    folder = cache_dir()
    target = folder / d.filename
    if target.is_file() and target.stat().st_size == d.size and sha256_of(target) == d.sha256:
        return target  # verified: no lock needed, so a read-only cache works
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatasetError(f"cannot create cache folder {folder} ({e}); set ZERO_TO_HERO_CACHE") from None
    try:
        with file_lock(folder / f".{d.filename}.lock"):
            if target.is_file() and sha256_of(target) == d.sha256:
                return target  # another process fetched it while we waited
            for stale in folder.glob(f".{d.filename}.*.part"):  # left by a killed download (we hold the lock)
                stale.unlink(missing_ok=True)
            _download(d, target)  # missing, or its hash no longer matches: fetch again
    except PermissionError as e:
        raise DatasetError(f"cannot write to cache folder {folder} ({e.strerror}); set ZERO_TO_HERO_CACHE") from None
    return target


def read_text(name: str) -> str:
    """The text of a data set or a user's UTF-8 file; undecodable bytes are a clear error."""
    path = fetch(name)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path} is not UTF-8 text (byte {e.start}: {e.reason})") from None
    except OSError as e:
        raise DatasetError(f"cannot read {path} ({e.strerror})") from None


def _is_cached(d: Dataset) -> bool:
    path = cache_dir() / d.filename
    return path.is_file() and path.stat().st_size == d.size


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m zero_to_hero.datasets", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser("fetch", help="download (or find in the cache) and print each local path")
    p_fetch.add_argument("names", nargs="+", metavar="NAME", help=f"one of: {', '.join(REGISTRY)}")
    sub.add_parser("list", help="show the registry and what is cached")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        paths = [fetch(name) for name in args.names]
        for path in paths:
            print(path)
    else:
        print(f"cache: {cache_dir()}")
        for d in REGISTRY.values():
            state = "cached" if _is_cached(d) else "-"
            print(f"{d.name:<16} {d.size:>9,} B  {state:<6}  {d.url}  {d.description}")


if __name__ == "__main__":
    run_main(main)
    sys.exit(0)
