"""User mistakes end in one clear line on stderr and exit status 2, never a traceback."""

import signal
import sys
import threading


class UserError(Exception):
    """A mistake the user can fix (bad flag, missing file, no network...). The message says how."""


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def run_main(main, *args, **kwargs):
    """Call `main`; turn a UserError into `error: <message>` on stderr and exit status 2.

    SIGTERM (what `kill`, schedulers and torchrun send) becomes an exit with status 143 that unwinds the stack,
    so `finally` blocks run: a checkpoint or download being written is removed, not left half-written."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        return main(*args, **kwargs)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
