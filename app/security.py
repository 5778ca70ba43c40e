"""Response headers every page carries (CSP without unsafe-inline, no framing, nosniff),
and the signed session cookie's serializer, built once."""
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner

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


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        if response.mimetype in PRIVATE_TYPES or "attachment" in response.headers.get("Content-Disposition", ""):
            # Exports and JSON carry personal data: no browser or proxy keeps a copy.
            response.headers["Cache-Control"] = "no-store"
        return response


class _KeyDerivedOnce(TimestampSigner):
    """itsdangerous' signer, deriving its signing key from a secret key once per process
    rather than once for every cookie it reads or writes."""

    _derived: dict = {}

    def derive_key(self, secret_key=None) -> bytes:
        whose = (self.secret_keys[-1] if secret_key is None else secret_key, self.salt, self.key_derivation,
                 self.digest_method)
        key = self._derived.get(whose)
        if key is None:
            key = self._derived[whose] = super().derive_key(secret_key)
        return key


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session (the same cookie, the same keys and fallbacks), whose
    serializer is built once per set of secret keys: Flask builds a new one twice a
    request, to read the cookie and to write it."""

    def __init__(self) -> None:
        self._serializers: dict = {}

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is None:
                return None
            serializer.signer = _KeyDerivedOnce
            self._serializers[keys] = serializer
        return serializer
