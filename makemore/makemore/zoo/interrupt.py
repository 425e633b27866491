"""Ctrl-C during a long run: finish the step, then save and sample, instead of losing the run."""

import signal
import threading


class StopOnCtrlC:
    """The first Ctrl-C sets `requested` (the loop finishes its step, then saves and samples); the second one
    interrupts as usual. Signal handlers belong to the main thread: elsewhere this does nothing."""

    def __enter__(self):
        self.requested = False
        self.previous = signal.getsignal(signal.SIGINT)
        self.active = threading.current_thread() is threading.main_thread()
        if self.active:
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True
        signal.signal(signal.SIGINT, self.previous)

    def __exit__(self, *exc_info):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
