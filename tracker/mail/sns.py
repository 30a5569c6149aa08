"""Amazon SNS messages: proving one came from SNS, and confirming a subscription.

Anyone can post a message that claims to come from SNS. SNS signs each one
with a key whose certificate it serves at the message's SigningCertURL, so a
signature proves the message only when the certificate comes from SNS itself:
an https URL on ``sns.<region>.amazonaws.com`` (or a host the owner adds for
tests), fetched without following redirects, checked by TLS, kept in memory.
Only then is the signature, over the canonical string AWS documents for the
message's type, checked (version 1: SHA1withRSA, version 2: SHA256withRSA).
"""

from __future__ import annotations

import base64
import binascii
import http.client
import re
import ssl
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .. import clock

SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
CONFIRMATION = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
SIGNED = {  # the fields each type signs, in this order; Subject only if present
    "Notification": (
        "Message",
        "MessageId",
        "Subject",
        "Timestamp",
        "TopicArn",
        "Type",
    ),
    "SubscriptionConfirmation": CONFIRMATION,
    "UnsubscribeConfirmation": CONFIRMATION,
}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
MAX_CERTIFICATE = 64 * 1024
TIMEOUT = 10.0
KEEP_CERTIFICATES = 32

_certificates: dict[str, x509.Certificate] = {}
_lock = threading.Lock()


class Refused(Exception):
    """The message is not proven to come from SNS."""


class Unreachable(Exception):
    """SNS could not be reached just now (the certificate, the subscription)."""


def canonical(message: Mapping) -> bytes:
    """The string SNS signed: `name\\nvalue\\n` for each signed field, in order."""
    fields = SIGNED.get(str(message.get("Type")))
    if fields is None:
        raise Refused("The message's Type is not one SNS sends.")
    parts = []
    for name in fields:
        value = message.get(name)
        if name == "Subject" and value is None:
            continue
        if not isinstance(value, str):
            raise Refused(f"The message has no {name}.")
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode()


def trusted_url(url: object, extra_hosts: Iterable[str] = ()) -> tuple[str, int, str]:
    """(host, port, path) of an https URL on an SNS host; Refused otherwise."""
    parts = urlsplit(url if isinstance(url, str) else "")
    try:
        port = parts.port or 443
    except ValueError:
        raise Refused("The URL's port cannot be read.") from None
    host = (parts.hostname or "").lower()
    trusted = {h.strip().lower() for h in extra_hosts if h.strip()}
    if (
        parts.scheme != "https"
        or parts.username is not None
        or not (SNS_HOST.fullmatch(host) or host in trusted)
    ):
        raise Refused("SNS's URLs are https on sns.<region>.amazonaws.com only.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return host, port, path


def get(url: str, extra_hosts: Iterable[str] = (), limit: int = MAX_CERTIFICATE):
    """GET a trusted SNS URL over verified TLS, no redirects; return the body."""
    host, port, path = trusted_url(url, extra_hosts)
    connection = http.client.HTTPSConnection(
        host, port, timeout=TIMEOUT, context=ssl.create_default_context()
    )
    try:
        connection.request("GET", path, headers={"User-Agent": "Polku"})
        response = connection.getresponse()
        body = response.read(limit + 1)
    except ssl.SSLError as e:
        raise Refused(f"SNS's TLS certificate was not trusted: {e}") from None
    except (OSError, http.client.HTTPException) as e:
        raise Unreachable(f"SNS could not be reached: {e}") from None
    finally:
        connection.close()
    if response.status != 200 or len(body) > limit:
        raise Refused(f"SNS answered {response.status} for {host}{path}.")
    return body


def certificate(url: object, extra_hosts: Iterable[str] = ()) -> x509.Certificate:
    """The signing certificate at url (a trusted SNS URL), fetched once."""
    trusted_url(url, extra_hosts)
    url = str(url)
    with _lock:
        known = _certificates.get(url)
    if known is not None:
        return known
    if not urlsplit(url).path.endswith(".pem"):
        raise Refused("SNS's signing certificates are .pem files.")
    try:
        found = x509.load_pem_x509_certificate(get(url, extra_hosts))
    except ValueError:
        raise Refused("The SigningCertURL holds no certificate.") from None
    with _lock:
        if len(_certificates) >= KEEP_CERTIFICATES:
            _certificates.pop(next(iter(_certificates)))
        _certificates[url] = found
    return found


def verify(message: Mapping, extra_hosts: Iterable[str] = ()) -> None:
    """Return if SNS signed this message; raise Refused (or Unreachable)."""
    algorithm = HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise Refused("SignatureVersion must be 1 or 2.")
    signed = canonical(message)
    try:
        signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise Refused("The Signature is not base64.") from None
    found = certificate(message.get("SigningCertURL"), extra_hosts)
    if not found.not_valid_before_utc <= clock.now() <= found.not_valid_after_utc:
        raise Refused("SNS's signing certificate is not valid now.")
    key = found.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused("SNS's signing certificate holds no RSA key.")
    try:
        key.verify(signature, signed, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise Refused("The message's signature does not match.") from None


def confirm(message: Mapping, extra_hosts: Iterable[str] = ()) -> None:
    """Confirm a (verified) subscription: GET its SubscribeURL on SNS's host."""
    get(str(message.get("SubscribeURL") or ""), extra_hosts)
