"""The errors the core raises. Each message names the taxi type and month (or the variable) and the
problem, so that it can be shown to a user as it is."""


class TaxiFileError(ValueError):
    """A source file that cannot be loaded; the message names taxi type, month and problem."""


class SourceFileMissing(TaxiFileError):
    """The source has no file for that month (HTTP 404/410): retrying does not help."""


class DownloadFailed(RuntimeError):
    """A transient failure (5xx, timeout, reset): worth retrying later."""


class ConfigError(ValueError):
    """A configuration variable with a value that cannot work; the message names the variable."""


class StoreUnavailable(RuntimeError):
    """A store (GCS, BigQuery) that did not answer within its bounds: transient, worth retrying later."""


class SchemaChangeRefused(RuntimeError):
    """A store's table differs from the schema in a way that is not additive (a column renamed, removed
    or of another type): loading would lose or misplace data. The message names the table, the
    column and the way out."""
