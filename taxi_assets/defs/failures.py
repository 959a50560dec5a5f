"""How step failures are classified: retried (transient) or failed at once (permanent)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

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
