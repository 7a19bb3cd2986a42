"""Guarded import of cryptography, shared by every PKI backend module."""

MINIMUM_CRYPTOGRAPHY_VERSION = "38.0"

try:
    import cryptography  # noqa: F401  (imported to detect it)

    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without the library
    CRYPTOGRAPHY_IMPORT_ERROR = exc
