"""Guarded import of cryptography, shared by every PKI backend module."""

MINIMUM_CRYPTOGRAPHY_VERSION = "38.0"

try:
    import cryptography  # noqa: F401  (imported to detect it)

    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without the library
    CRYPTOGRAPHY_IMPORT_ERROR = exc


def require_cryptography(module, missing_required_lib):
    """Fail the module with the install hint when cryptography is missing."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib(f"cryptography >= {MINIMUM_CRYPTOGRAPHY_VERSION}"),
            exception=str(CRYPTOGRAPHY_IMPORT_ERROR),
        )
