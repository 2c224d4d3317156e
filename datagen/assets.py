"""Where the bundled prompts/, seeds/ and recipes are found.

In a wheel they are mapped to datagen/_assets/ (hatch force-include); in a checkout or an
editable install they are the repository's top-level folders. A user's own folder always wins
(--templates DIR, --seeds FILE), so these are only the fallbacks.

    asset_dir("prompts") -> PosixPath('/repo/prompts')
"""
from __future__ import annotations

from pathlib import Path

from datagen.errors import DatagenError

_PKG = Path(__file__).resolve().parent


def asset_dir(kind: str) -> Path:
    """kind is "prompts", "seeds" or "recipes"."""
    for candidate in (_PKG / "_assets" / kind, _PKG.parent / kind):
        if candidate.is_dir():
            return candidate
    raise DatagenError(f"bundled {kind}/ folder not found (looked in {_PKG / '_assets'} and {_PKG.parent})")
