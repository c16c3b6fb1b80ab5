"""One run into its directory, as ``spheres run`` makes it: checked, logged, shown, interruptible.

:func:`run_in` checks the run directory for writing and space before any work, logs the start
(config hash, seed, engine, sizes), shows progress (a bar on a terminal, else a log line every
``output.progress_every`` seconds) and logs the finish, or the step at which Ctrl-C stopped the
run. Writing the results is the caller's next step (:func:`spheres.run.files.write_results`).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from tqdm import tqdm

from spheres.config import SpheresConfig, config_hash
from spheres.run.files import check_run_dir, estimate_output_bytes
from spheres.run.simulate import simulate
from spheres.run.tables import Results

log = logging.getLogger("spheres.run")


class Progress:
    """Shows a run's progress: a bar on a terminal, else a log line every ``every`` seconds."""

    def __init__(self, config: SpheresConfig, console: bool) -> None:
        """Follow a run of ``config``; ``console``: also show progress on stderr."""
        self.steps, self.every = config.steps, config.output.progress_every
        self.tty = console and config.output.progress and sys.stderr.isatty()
        self.lines = console and config.output.progress and not self.tty
        self.start = self.last = time.monotonic()
        self.step = 0
        self.stop = threading.Event()  # set by Ctrl-C when the run is a console's
        self.bar = tqdm(total=self.steps, desc="steps", unit="step", file=sys.stderr,
                        mininterval=0.5, disable=not self.tty)

    def __call__(self, step: int, steps: int) -> None:
        """Record that ``step`` of ``steps`` is done; stop if Ctrl-C was pressed."""
        if self.stop.is_set():  # a KeyboardInterrupt dropped inside a finaliser: raise it now
            raise KeyboardInterrupt
        self.step = step
        self.bar.update(step - self.bar.n)
        now = time.monotonic()
        if now - self.last >= self.every and step < steps:
            self.last = now
            elapsed = now - self.start
            line = (f"step {step} of {steps} ({100 * step / steps:.0f}%), {elapsed:.0f} s "
                    f"elapsed, about {elapsed * (steps - step) / step:.0f} s left")
            log.info(line)
            if self.lines:
                print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()


@contextmanager
def remembered_interrupts() -> Iterator[threading.Event]:
    """Within: Ctrl-C raises ``KeyboardInterrupt`` and also sets the event yielded.

    Python prints and drops a ``KeyboardInterrupt`` raised while a finaliser runs (garbage
    collection); long loops check the event and raise it again, so one Ctrl-C always stops them.
    Outside the main thread (where signals cannot be handled) the event is never set.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        stop.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def run_in(config: SpheresConfig, run_dir: Path, console: bool) -> Results:
    """Run one simulation of a validated ``config`` for ``run_dir``; return its results.

    The run directory is checked for writing and space first (``RunDirError``). On Ctrl-C the
    run stops and ``KeyboardInterrupt`` is raised again with one line saying at which step.
    """
    check_run_dir(run_dir, estimate_output_bytes(config))
    log.info("start: config %s, seed %d, engine %s, %d buyers, %d steps, run directory %s",
             config_hash(config), config.seed, config.engine, config.n_buyers, config.steps,
             run_dir)
    t0 = time.monotonic()
    progress = Progress(config, console)
    try:
        with remembered_interrupts() if console else nullcontext(progress.stop) as stop:
            progress.stop = stop
            results = simulate(config, progress=progress)
    except KeyboardInterrupt:
        line = f"interrupted at step {progress.step} of {config.steps}: no results written"
        log.info("%s (after %.1f s)", line, time.monotonic() - t0)
        raise KeyboardInterrupt(line) from None
    finally:
        progress.close()
    log.info("finish: %d steps, wall time %.2f s", config.steps, time.monotonic() - t0)
    return results
