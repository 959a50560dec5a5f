"""How step failures are classified: retried (transient) or failed at once (permanent)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster._utils import interrupts as _dagster_interrupts

from taxi_assets.core.interrupts import interruptible
from taxi_assets.core.redaction import redact

# the one retry layer of the network steps: exponential backoff with jitter (1 + 3 attempts)
NETWORK_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def permanent(e: Exception) -> dg.Failure:
    """A failure that no retry can fix (404, a file of the wrong shape): fail the step now."""
    return dg.Failure(description=redact(str(e)), allow_retries=False)


@contextmanager
def cloud_errors() -> Iterator[None]:
    """GCS / BigQuery errors: 4xx (bad request, schema mismatch, forbidden, not found) and bad
    names fail at once; 429, 5xx and connection errors are left to the RetryPolicy."""
    from google.api_core import exceptions as google_exceptions  # with the step, not the definitions

    try:
        yield
    except google_exceptions.TooManyRequests:
        raise
    except (google_exceptions.ClientError, ValueError) as e:
        raise permanent(e) from e


def stop_on_interrupt(fn, *args, **kwargs):
    """Calls a blocking network call (`core.interrupts.interruptible`); a SIGTERM or SIGINT while it
    waits ends the run instead of retrying the step.

    Dagster turns an interrupt inside a step that has a RetryPolicy into a retry of the step (meant
    for a preempted step pod, dagster#5973); in this project's one-process runs that retry would wait
    on the same hung service again, and the run would ignore SIGTERM. So the step fails at once,
    without retries, and the interrupt is handed back to Dagster's run loop (its captured-interrupt
    flag: there is no public call for it), which fails the next step at its start and ends the run.
    """
    try:
        return interruptible(fn, *args, **kwargs)
    except (KeyboardInterrupt, dg.DagsterExecutionInterruptedError) as e:
        _dagster_interrupts._received_interrupt["received"] = True
        raise dg.Failure(
            description="interrupted (SIGTERM or SIGINT) while waiting on the service: the step stops without "
            "retrying and the run ends", allow_retries=False,
        ) from e
