"""tiktoken's encodings, with a clear error offline.

tiktoken downloads an encoding's files on first use and caches them (TIKTOKEN_CACHE_DIR). Without network
and without a good cache it ends in a long `requests` traceback; `get_encoding` says what to set instead.
tiktoken is needed only where it is called (nanogpt, minbpe), so it is imported here lazily.
"""

import os
import tempfile

from zero_to_hero.errors import UserError


def tiktoken_cache_dir() -> str:
    """Where tiktoken looks for its files (its own rule: TIKTOKEN_CACHE_DIR, DATA_GYM_CACHE_DIR, a temp folder)."""
    return (
        os.environ.get("TIKTOKEN_CACHE_DIR")
        or os.environ.get("DATA_GYM_CACHE_DIR")
        or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    )


def get_encoding(name: str):
    """tiktoken.get_encoding(name); an unknown name or an encoding it cannot load is a UserError."""
    import tiktoken

    if name not in tiktoken.list_encoding_names():
        raise UserError(
            f"unknown tiktoken encoding {name!r}; choose one of {', '.join(tiktoken.list_encoding_names())}"
        )
    try:
        return tiktoken.get_encoding(name)
    except Exception as e:  # requests' ConnectionError, a hash mismatch, OSError...: all mean "no usable files"
        raise UserError(
            f"tiktoken cannot load the {name!r} encoding ({type(e).__name__}): its files are neither in the cache "
            f"({tiktoken_cache_dir()}) nor downloadable. Without network, set TIKTOKEN_CACHE_DIR to the absolute "
            "path of a folder holding tiktoken's cached files"
        ) from None
