"""Names that end up in SQL (schemas, tables, datasets, projects): checked before any use."""

import re

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PROJECT_ID = re.compile(r"^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")


def check_identifier(name: str, what: str = "identifier") -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"invalid {what} {name!r}: use lower-case letters, digits and _ (at most 63)")
    return name


def check_project(name: str) -> str:
    if not PROJECT_ID.match(name):
        raise ValueError(f"invalid project {name!r}: expected a Google Cloud project id")
    return name
