"""notAfter of the certificates in a PEM file, read from their DER with a minimal parser.

Why not ``openssl x509 -enddate``: the check runs every minute on every MTA, for the own certificate and
one trust anchor per partner (a thousand partners, a thousand processes a minute); ``openssl x509`` reads only
the first certificate of a file; its date output would need parsing too. Why not the ``cryptography`` library:
the check runs with the standard library only. The DER walk needs only this much of RFC 5280:
Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, signature
AlgorithmIdentifier, issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, ... }, ... },
Time ::= UTCTime (YYMMDDHHMMSSZ, 1950-2049) | GeneralizedTime (YYYYMMDDHHMMSSZ).
"""

import base64
import binascii
import calendar
import re

_PEM = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----",
                  re.DOTALL)


class CertificateError(ValueError):
    pass


def _element(data, pos):
    """(tag, start of contents, end of contents) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise CertificateError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or pos + count > len(data):
            raise CertificateError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise CertificateError("truncated DER")
    return tag, pos, pos + length


def _time(tag, value):
    text = value.decode("ascii", "replace")
    if tag == 0x17 and re.fullmatch(r"\d{12}Z", text):  # UTCTime
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18 or not re.fullmatch(r"\d{14}Z", text):  # GeneralizedTime
        raise CertificateError(f"not a certificate time: {text!r}")
    fields = [int(text[i:j]) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))]
    return calendar.timegm(tuple(fields))


def not_after(der):
    """Seconds since the epoch at which the DER certificate expires."""
    tag, start, _unused = _element(der, 0)
    if tag != 0x30:
        raise CertificateError("not a certificate (no outer SEQUENCE)")
    tag, pos, tbs_end = _element(der, start)
    if tag != 0x30:
        raise CertificateError("not a certificate (no tbsCertificate)")
    tag, _unused, end = _element(der, pos)
    if tag == 0xA0:  # [0] EXPLICIT version
        pos = end
    for _unused in range(3):  # serialNumber, signature, issuer
        _unused, _unused, pos = _element(der, pos)
    tag, pos, _unused = _element(der, pos)
    if tag != 0x30 or pos > tbs_end:
        raise CertificateError("not a certificate (no validity)")
    _unused, _unused, pos = _element(der, pos)  # notBefore
    tag, value_start, value_end = _element(der, pos)
    return _time(tag, der[value_start:value_end])


def pem_not_after(data):
    """notAfter of each certificate in PEM text (bytes), in file order; CertificateError when there is none."""
    found = []
    for block in _PEM.findall(data):
        try:
            der = base64.b64decode(b"".join(block.split()), validate=True)
        except (binascii.Error, ValueError):
            raise CertificateError("a PEM block is not base64") from None
        found.append(not_after(der))
    if not found:
        raise CertificateError("no PEM certificate in the file")
    return found


def file_expiry(path):
    """The earliest notAfter in a PEM file: the day the first of its certificates stops being valid."""
    with open(path, "rb") as handle:
        return min(pem_not_after(handle.read()))
