# Copyright (c) 2026 partnermail.links developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the certificate files the roles read on the controller, before any host is changed.

Pure Python over what was read: each partner's CA file (tls.ca_file, read by the trust_anchors lookup) must exist,
be readable and hold PEM CA certificates (basicConstraints CA:TRUE) that are valid now, and nothing else that
could leak (no private key); a chain brought for an MTA (pki_mode byo, pki_byo_chain_src) must start with the
MTA's own certificate, valid now, and hold no private key. A bad file stops the validation play, naming the field,
instead of failing a role after main.cf was already replaced.
"""

import datetime
import os
import re

try:
    from cryptography import x509

    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without the library
    CRYPTOGRAPHY_IMPORT_ERROR = exc

_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----\s.+?\s-----END CERTIFICATE-----", re.DOTALL)
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
MISSING_LIBRARY = ("the Python library cryptography (>= 38.0) is needed on the controller to check tls.ca_file: "
                   "pip install -r requirements.txt")


def _not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _not_before(cert):
    value = getattr(cert, "not_valid_before_utc", None)
    return value if value is not None else cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def _is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _subject(cert):
    return cert.subject.rfc4514_string() or "(empty subject)"


def _validity_problem(cert, label, now):
    """Why ``cert`` (named ``label``, e.g. 'certificate 1 (CN=x)') is not valid at ``now``, or None."""
    if _not_after(cert) < now:
        return f"{label} expired on {_not_after(cert):%Y-%m-%d}"
    if _not_before(cert) > now:
        return f"{label} is not valid before {_not_before(cert):%Y-%m-%d}"
    return None


def content_problems(content, now=None):
    """Why PEM text is not a usable trust anchor file ([] when it is)."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        return [MISSING_LIBRARY]
    if _PRIVATE_KEY.search(content):
        return ["holds a private key: give the partner's CA certificate only (and keep that key secret)"]
    blocks = _CERTIFICATE.findall(content)
    if not blocks:
        return ["holds no PEM certificate (-----BEGIN CERTIFICATE-----)"]
    now = now or datetime.datetime.now(datetime.timezone.utc)
    problems = []
    for number, block in enumerate(blocks, 1):
        try:
            cert = x509.load_pem_x509_certificate(block.encode())
        except ValueError as exc:
            problems.append(f"certificate {number} is not a valid certificate ({exc})")
            continue
        label = f"certificate {number} ({_subject(cert)})"
        if not _is_ca(cert):
            problems.append(f"{label} is not a CA certificate (no basicConstraints CA:TRUE): "
                            "to pin the partner's own certificate use tls.level fingerprint")
            continue
        problems.extend(filter(None, [_validity_problem(cert, label, now)]))
    return problems


# Where the pki role puts an MTA's CA certificate: {pki_ca_dir}/ca.pem, pki_ca_dir defaulting to
# {inventory_dir}/pki (roles/pki/defaults/main.yml; a unit test keeps the two in step).
PKI_CA_SUBDIR = "pki"
PKI_CA_FILE = "ca.pem"


def pki_created_cas(host_vars):
    """The CA certificates the pki role of this run creates (or keeps), one per MTA with pki_mode ca.

    ``host_vars``: each MTA's variables (pki_mode, pki_ca_dir, inventory_dir). A partner's ca_file that names
    one of these may be missing before the run: the pki role creates it before the partners role reads it.
    """
    paths = set()
    for variables in host_vars:
        if (variables.get("pki_mode") or "ca") != "ca":
            continue
        directory = variables.get("pki_ca_dir") or f"{variables.get('inventory_dir') or '.'}/{PKI_CA_SUBDIR}"
        paths.add(os.path.normpath(f"{directory}/{PKI_CA_FILE}"))
    return sorted(paths)


def anchor_errors(anchors, created=(), now=None):
    """One message per problem of the trust_anchors lookup's entries, naming partner and field.

    A CA file that is not there yet is no problem when it is one the pki role of this run creates (``created``).
    """
    errors = []
    created = {os.path.normpath(path) for path in created}
    for anchor in anchors:
        where = f"partnermail_partners[{anchor['index']}] ({anchor['partner']}): tls.ca_file: {anchor['path']!r}"
        if anchor.get("error"):
            if not anchor.get("resolved") and os.path.normpath(anchor["path"]) in created:
                continue
            errors.append(f"{where} {anchor['error']}")
            continue
        errors.extend(f"{where} {problem}" for problem in content_problems(anchor["content"], now))
    return errors


def byo_errors(mode, chain_src, key_path, content, now=None):
    """Why the settings of pki_mode byo cannot work ([] when they can, or when the mode is another).

    ``content``: the text of ``chain_src`` as read on the controller, or None when it was not found there.
    """
    if mode != "byo":
        return []
    errors = []
    if not (key_path or "").strip():
        errors.append("pki_byo_key_path: with pki_mode byo, give the path on the MTA of the certificate's private key")
    if not (chain_src or "").strip():
        errors.append("pki_byo_chain_src: with pki_mode byo, give the controller path of the certificate chain")
        return errors
    where = f"pki_byo_chain_src: {chain_src!r}"
    if content is None:
        return [*errors, f"{where} was not found on the controller"]
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        return [*errors, MISSING_LIBRARY.replace("tls.ca_file", "pki_byo_chain_src")]
    if _PRIVATE_KEY.search(content):
        return [*errors, f"{where} holds a private key: the key stays on the MTA (pki_byo_key_path)"]
    blocks = _CERTIFICATE.findall(content)
    if not blocks:
        return [*errors, f"{where} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"]
    try:
        leaf = x509.load_pem_x509_certificate(blocks[0].encode())
    except ValueError as exc:
        return [*errors, f"{where}: certificate 1 is not a valid certificate ({exc})"]
    label = f"{where}: certificate 1 ({_subject(leaf)})"
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if _is_ca(leaf):
        return [*errors, f"{label} is a CA certificate: the MTA's own certificate comes first, then its intermediates"]
    return [*errors, *filter(None, [_validity_problem(leaf, label, now)])]
