"""Who may use the page when it is served beyond this machine: login, read-only, limits.

The page is safe on loopback (the default). Bound to another address it is open to the
network, so `qa serve` can require a login (Gradio's own auth, `--auth` / QA_AUTH), switch
uploads and deletes off (`--read-only`), and bounds what one upload may bring in. Passwords
are never echoed in errors or logs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from qa.errors import InputError
from qa.settings import settings

DEFAULT_MAX_UPLOAD_MB = 50.0
DEFAULT_MAX_FILES = 20  # files in one upload


@dataclass(frozen=True)
class Access:
    """How the page may be used. `auth` is a list of (user, password) or None (no login)."""

    auth: tuple[tuple[str, str], ...] | None = None
    read_only: bool = False
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    max_files: int = DEFAULT_MAX_FILES

    def __post_init__(self) -> None:
        if not self.max_upload_mb > 0:
            raise InputError(f"upload size limit must be above 0 MB, got {self.max_upload_mb}")
        if self.max_files < 1:
            raise InputError(f"files per upload must be at least 1, got {self.max_files}")

    def __repr__(self) -> str:  # never the passwords
        users = ",".join(u for u, _ in self.auth) if self.auth else "none"
        return (f"Access(login users={users}, read_only={self.read_only}, "
                f"max_upload_mb={self.max_upload_mb:g}, max_files={self.max_files})")


def parse_auth(value: str | None) -> tuple[tuple[str, str], ...] | None:
    """'user:password[,user2:password2]' (from --auth or QA_AUTH) as pairs; None when empty.
    A password may contain ':' (split at the first one); it may not contain ','."""
    if value is None or not value.strip():
        return None
    pairs = []
    for n, item in enumerate(value.split(","), 1):
        user, sep, password = item.strip().partition(":")
        if not sep or not user.strip() or not password:
            # without a ':' the entry may be a password: never echo it
            shown = f"user {user.strip()!r}" if sep and user.strip() else "no user name"
            raise InputError(f"login entry {n} ({shown}) is not USER:PASSWORD; "
                             "expected --auth / QA_AUTH like 'alice:secret,bob:other'")
        pairs.append((user.strip(), password))
    return tuple(pairs)


def auth_from(flag: str | None, env: dict[str, str] | None = None) -> tuple | None:
    """--auth when given, else QA_AUTH."""
    env = settings().env if env is None else env
    return parse_auth(flag if flag is not None else env.get("QA_AUTH"))


def is_loopback(host: str) -> bool:
    """Only this machine can reach `host` (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it resolves to a reachable address


def exposure_warning(host: str, access: Access) -> str | None:
    """What to tell the operator at start when the page is reachable from the network
    without a login; None on loopback or with a login."""
    if is_loopback(host) or access.auth:
        return None
    what = "ask questions" if access.read_only else "ask, upload and delete documents"
    return (f"WARNING: serving on {host or '0.0.0.0'} without a login: anyone who can reach "
            f"this port can {what}. Set --auth USER:PASSWORD (or QA_AUTH), add --read-only "
            "for a public lookup page, and put HTTPS in front (README: reverse proxy).")
