"""Open the built walkthrough pages (`python -m zero_to_hero.notebooks ... --html DIR`) in headless Chromium, as a
reader would, with the network cut off: each page renders (its screenshot is not a single colour), every <img>
loads (figures as PNG, graph drawings as SVG), nothing is fetched from the network and the console shows no error; the
index links every page.

    python -m zero_to_hero.browser_check out/book             # (pip install playwright; apt-get install chromium)

Chromium is the system's (CHROMIUM=/path, else `chromium` on PATH), driven by playwright. Both are tools of
`nox -s notebooks` / `nox -s book` only, never dependencies. Without Chromium the check fails in CI (where CI is
set, or ZERO_TO_HERO_BROWSER_CHECK=required as .ci/run sets it: CI must install Chromium, as .ci/run does) and is
skipped with a note elsewhere.
"""

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

from zero_to_hero.errors import UserError, run_main

# what headless Chromium needs on a machine without display, sandbox or network
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL = "apt-get install chromium (Debian/Ubuntu), or set CHROMIUM=/path/to/chrome; pip install playwright"


def find_chromium() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def single_colour(png: bytes) -> bool:
    """True when a screenshot is blank: every pixel the same colour."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return all(low == high for low, high in image.getextrema())


def check_page(page, path: Path, screenshot_dir: Path | None) -> tuple[list[str], dict]:
    """Problems found on one page (empty: none), and what was on it."""
    problems = []
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    images = page.evaluate(
        "Array.from(document.images).map(i => ({src: i.getAttribute('src').slice(0, 60), complete: i.complete,"
        " width: i.naturalWidth}))"
    )
    for image in images:
        if not image["complete"] or image["width"] == 0:
            problems.append(f"image not loaded: {image['src']}...")
    png = page.screenshot(full_page=False)
    if single_colour(png):
        problems.append("the page renders as a single colour")
    if screenshot_dir is not None:
        (screenshot_dir / (path.stem + ".png")).write_bytes(png)
    links = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
    drawings = sum(image["src"].startswith("data:image/svg") for image in images)  # nbconvert's SVG outputs
    return problems, {"images": len(images), "svgs": drawings, "links": links}


def check_folder(folder: Path, chromium: str, screenshot_dir: Path | None = None) -> list[str]:
    """Every problem on index.html and the pages in `folder` (empty list: all good); prints one line per page."""
    from playwright.sync_api import sync_playwright

    index = folder / "index.html"
    if not index.is_file():
        raise UserError(f"{index} not found: build the pages first (python -m zero_to_hero.notebooks ... --html DIR)")
    pages = [index] + sorted(p for p in folder.glob("*.html") if p != index)
    problems = []
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        # the pages are read offline: any request that is not a local file fails the check
        network = []

        def offline(route):
            if route.request.url.startswith(("file:", "data:")):
                route.continue_()
            else:
                network.append(route.request.url)
                route.abort()

        context.route("**/*", offline)
        page = context.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("requestfailed", lambda request: errors.append(f"failed to load {request.url[:80]}"))
        linked = []
        for path in pages:
            errors.clear()
            network.clear()
            found, seen = check_page(page, path, screenshot_dir)
            found += [f"console error: {text}" for text in errors]
            found += [f"requests the network: {url}" for url in network]
            if path == index:
                linked = seen["links"]
            problems += [f"{path.name}: {problem}" for problem in found]
            status = "ok    " if not found else "FAILED"
            print(f"{status} {path.name}: {seen['images']} images loaded ({seen['svgs']} of them SVG)", flush=True)
            for problem in found:
                print(f"       {problem}", flush=True)
        context.close()
    for path in pages[1:]:
        if path.name not in linked:
            problems.append(f"index.html: no link to {path.name}")
    for href in linked:
        if not href.startswith("#") and not (folder / href).is_file():
            problems.append(f"index.html: link to a missing page {href}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="the built pages: index.html and NN_name.html")
    parser.add_argument("--screenshots", metavar="DIR", help="also save each page's screenshot as DIR/<page>.png")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") or os.environ.get("ZERO_TO_HERO_BROWSER_CHECK") == "required":
            raise UserError(f"Chromium not found, and CI must run the browser check: {INSTALL}")
        print(f"browser check skipped: Chromium not found ({INSTALL})")
        return 0
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise UserError(f"playwright is missing: {INSTALL}") from None
    screenshots = Path(args.screenshots) if args.screenshots else None
    if screenshots:
        screenshots.mkdir(parents=True, exist_ok=True)
    problems = check_folder(Path(args.folder), chromium, screenshots)
    print(f"browser check: {len(problems)} problems" + "".join(f"\n  {p}" for p in problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
