"""Who may use the app: public by default means protected."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from lora_studio.core.settings import Settings

GENERATED_USER = "lora"


@dataclass(frozen=True)
class Access:
    """The login the server requires (None: open) and what to tell the operator about it."""

    auth: tuple[str, str] | None
    generated: bool
    message: str | None


def resolve_access(settings: Settings) -> Access:
    """Credentials for this launch.

    Explicit ``--auth`` always applies. A public launch (share link or non-loopback bind) with
    none gets a generated password, printed once in the console, unless ``--no-auth`` opts out.
    """
    if settings.auth:
        return Access(settings.auth, generated=False, message=None)
    if not settings.is_public:
        return Access(None, generated=False, message=None)
    if settings.space_mode:
        # A Space's own visibility (public, or private behind a Hugging Face login) governs access;
        # a password only its owner can read in the logs would lock every visitor out of the demo.
        return Access(
            None, generated=False, message="Hugging Face Space mode: access follows the Space's visibility."
        )
    if settings.no_auth:
        return Access(
            None,
            generated=False,
            message="WARNING: LoRA Studio is reachable from outside and --no-auth turned the login off: "
            "anyone with the address can use it, read your datasets and start jobs.",
        )
    password = secrets.token_urlsafe(12)
    return Access(
        (GENERATED_USER, password),
        generated=True,
        message=(
            "LoRA Studio is reachable from outside, so it requires a login.\n"
            f"    user: {GENERATED_USER}\n    password: {password}\n"
            "(set your own with --auth user:password or LORA_STUDIO_AUTH)"
        ),
    )
