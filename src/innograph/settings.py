"""Named settings: each has a default, an environment variable and help text.

A setting is read once, when ``Settings.from_env`` is called by a composition root (the CLI or
``create_app``); modules receive values, never read the environment themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields


def setting(default: str, env: str, help: str) -> str:
    return field(default=default, metadata={"env": env, "help": help})  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Settings:
    base_iri: str = setting(
        "https://w3id.org/innograph/",
        "INNOGRAPH_BASE_IRI",
        "Base under which data IRIs are minted (/id/…, /graph/…); must end with '/'.",
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: str) -> Settings:
        environ = dict(os.environ) if environ is None else environ
        values = {
            f.name: environ[f.metadata["env"]] for f in fields(cls) if f.metadata["env"] in environ
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        if not self.base_iri.endswith("/"):
            raise ValueError(f"base_iri must end with '/': {self.base_iri!r}")
