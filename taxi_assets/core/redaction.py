"""Keep secrets out of anything a run emits that leaves the process (alerts, metadata)."""

import os
import re
import urllib.parse

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<user>[^:/@\s]+):(?P<password>[^@\s/]+)@")
# signed-URL and token query parameters (GCS/S3 signatures, API keys, access tokens)
_QUERY_SECRETS = re.compile(r"(?i)([?&](?:[\w.-]*(?:token|signature|sig|key|secret|password|credential)[\w.-]*)=)[^&#\s'\"]+")
# variables whose values (or URL passwords) must never be echoed
SECRET_VARS = ("TAXI_POSTGRES_URL", "TAXI_DAGSTER_PG_URL", "TAXI_ALERT_WEBHOOK_URL", "TAXI_SOURCE_URL", "TAXI_ZONES_URL")


def _secrets_from_env() -> list[str]:
    found = []
    for name in SECRET_VARS:
        value = os.environ.get(name)
        if not value:
            continue
        password = urllib.parse.urlsplit(value).password
        if password:
            found += [password, urllib.parse.unquote(password)]
        if name == "TAXI_ALERT_WEBHOOK_URL":
            found.append(value)  # a Slack webhook URL is itself a credential
    return [s for s in found if len(s) >= 4]


def redact(text: str) -> str:
    """`postgresql://u:pw@h` -> `postgresql://u:***@h`, and any known secret value -> `***`."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    text = _QUERY_SECRETS.sub(r"\1***", text)
    for secret in _secrets_from_env():
        text = text.replace(secret, "***")
    return text
