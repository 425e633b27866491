"""User mistakes end in one clear line on stderr and exit status 2, never a traceback."""

import sys


class UserError(Exception):
    """A mistake the user can fix (bad flag, missing file, no network...). The message says how."""


def run_main(main, *args, **kwargs):
    """Call `main`; turn a UserError into `error: <message>` on stderr and exit status 2."""
    try:
        return main(*args, **kwargs)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
