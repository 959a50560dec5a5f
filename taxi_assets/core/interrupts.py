"""Blocking service calls that a SIGTERM can interrupt at once.

A run ends on SIGTERM because Dagster maps it to SIGINT's handler, which raises in the main thread.
CPython runs that handler only when the main thread executes bytecode; the kernel may hand the
signal to another thread of the process (the run has several), and then a main thread blocked in a
socket read to a hung GCS or BigQuery notices it only when the read times out (30 s), with the
client's retries and a cleanup in `finally` after it. Measured here: a run waiting on a silent
BigQuery ignored SIGTERM for more than a minute.

`interruptible(fn, ...)` runs the call in a daemon thread while the main thread waits in slices of
0.2 s, so the handler runs within that time; the abandoned call ends with the process (whatever it
held is bounded anyway: staging tables expire, the month swap is one transaction). Called from any
other thread, it simply calls `fn`. No library does this (a signal-aware wait around a blocking call).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
SLICE_SECONDS = 0.2


def interruptible(fn: Callable[..., T], *args, **kwargs) -> T:
    if threading.current_thread() is not threading.main_thread():
        return fn(*args, **kwargs)
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as e:  # handed to the caller, raised there
            outcome["error"] = e

    worker = threading.Thread(target=work, name=f"interruptible-{getattr(fn, '__name__', 'call')}", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(SLICE_SECONDS)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
