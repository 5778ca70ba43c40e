"""Response headers every page carries (CSP without unsafe-inline, no framing, nosniff),
and the signed session cookie's serializer, built once."""
import hmac
import json
import zlib

from flask import Flask
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import Serializer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import HMACAlgorithm

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)


PRIVATE_TYPES = {"application/json", "text/csv", "application/pdf"}


# Set on every response, replacing what a view set; and set unless a view set its own.
_ALWAYS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"))
_UNLESS_SET = (("Content-Security-Policy", CSP), ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))
_HSTS = ("Strict-Transport-Security", "max-age=31536000")


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        # One look at the headers there are, then appends: each set() or setdefault()
        # would walk the whole list again.
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        wanted = [*_ALWAYS, *(pair for pair in _UNLESS_SET if pair[0].lower() not in present)]
        if app.config.get("SESSION_COOKIE_SECURE"):
            wanted.append(_HSTS)
        mimetype = response.mimetype
        private = mimetype in PRIVATE_TYPES or (
            "content-disposition" in present and "attachment" in headers.get("Content-Disposition", ""))
        if private:
            # Exports and JSON carry personal data: no browser or proxy keeps a copy.
            wanted.append(("Cache-Control", "no-store"))
        elif mimetype == "text/html" and "cache-control" not in present:
            wanted.append(("Cache-Control", "no-store"))
        for name, value in wanted:
            if name.lower() in present:
                headers[name] = value
            else:
                headers.add(name, value)
        return response


_PLAIN_LEAVES = (str, int, float, bool, type(None))


def _plain(value) -> bool:
    """JSON holds this value as it is: only text, numbers, booleans, None, lists and
    dicts of them, and no dict key Flask's tags could mistake for one of theirs."""
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return True
    if kind is dict:
        return all(type(k) is str and not k.startswith(" ") and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return False


class _TaggedJSON(TaggedJSONSerializer):
    """Flask's session serializer, writing and reading exactly its text, without its
    per-value tag walk when the session holds only plain JSON values (what ours holds:
    the signed-in person, the CSRF token, receipts, messages as lists). Anything else
    (a tuple, bytes, Markup, a time) still goes through Flask's tags, both ways."""

    def dumps(self, value) -> str:
        if _plain(value):
            return json.dumps(value, separators=(",", ":"), sort_keys=True)
        return super().dumps(value)

    def loads(self, value: str):
        if '{" ' not in value:  # a tagged value is always a dict whose one key starts with a space
            return json.loads(value)
        return super().loads(value)


class _HMAC(HMACAlgorithm):
    """The same HMAC, computed by the hash library in one call."""

    def __init__(self, digest_method) -> None:
        super().__init__(digest_method)
        self._name = digest_method().name

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, self._name)


class _KeyDerivedOnce(TimestampSigner):
    """itsdangerous' signer, deriving its signing key from a secret key once per process
    rather than once for every cookie it reads or writes."""

    _derived: dict = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if type(self.algorithm) is HMACAlgorithm:
            self.algorithm = _HMAC(self.digest_method)

    def derive_key(self, secret_key=None) -> bytes:
        whose = (self.secret_keys[-1] if secret_key is None else secret_key, self.salt, self.key_derivation,
                 self.digest_method)
        key = self._derived.get(whose)
        if key is None:
            key = self._derived[whose] = super().derive_key(secret_key)
        return key


class _CookieSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer with one signer for every cookie (it holds
    nothing between cookies), which compresses only a payload long enough to gain from it:
    zlib's set-up for each small cookie cost more than the rest of its signing. A reader
    knows a compressed payload by its leading dot, so both kinds read back everywhere."""

    COMPRESS_FROM = 512  # bytes of JSON

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._signer = super().make_signer()

    def make_signer(self, salt=None):
        return self._signer if salt is None else super().make_signer(salt)

    def dump_payload(self, obj) -> bytes:
        text = Serializer.dump_payload(self, obj)
        if len(text) >= self.COMPRESS_FROM:
            compressed = zlib.compress(text)
            if len(compressed) < len(text) - 1:  # itsdangerous' own rule, and its leading dot
                return b"." + base64_encode(compressed)
        return base64_encode(text)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session (the same cookie, the same keys and fallbacks), whose
    serializer is built once per set of secret keys: Flask builds a new one twice a
    request, to read the cookie and to write it."""

    serializer = _TaggedJSON()

    def __init__(self) -> None:
        self._serializers: dict = {}

    def get_signing_serializer(self, app: Flask):
        if not app.secret_key:
            return None
        fallbacks = tuple(app.config.get("SECRET_KEY_FALLBACKS") or ())
        keys = (app.secret_key, fallbacks)
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = _CookieSerializer(
                [*fallbacks, app.secret_key], salt=self.salt, serializer=self.serializer, signer=_KeyDerivedOnce,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method})
        return serializer
