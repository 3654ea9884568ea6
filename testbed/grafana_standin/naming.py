"""Slugs, uids and URLs as Grafana derives them."""

from __future__ import annotations

import re
import secrets
import string

from .errors import plain

UID_MAX_LENGTH = 40
_VALID_UID = re.compile(r"[a-zA-Z0-9_-]*")
_ALPHABET = string.ascii_lowercase + string.digits


def slugify(title: str) -> str:
    """Lower-case latin letters and digits, every other run of characters a single ``-``."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.strip().lower())
    return slug.strip("-")


def check_uid(uid: str) -> None:
    """Raise Grafana's 400 for a uid with illegal characters or over 40 characters."""
    if not _VALID_UID.fullmatch(uid):
        raise plain(400, "uid contains illegal characters")
    if len(uid) > UID_MAX_LENGTH:
        raise plain(400, f"uid too long, max {UID_MAX_LENGTH} characters")


def new_uid() -> str:
    """A generated short uid: a letter then 13 lower-case letters or digits."""
    return secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(_ALPHABET) for _ in range(13))


def dashboard_url(uid: str, slug: str) -> str:
    return f"/d/{uid}/{slug}"


def folder_url(uid: str, slug: str) -> str:
    return f"/dashboards/f/{uid}/{slug}"
