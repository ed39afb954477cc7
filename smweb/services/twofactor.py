"""The second factor: a time-based code from an authenticator app (TOTP, RFC 6238), or one of
ten one-time recovery codes for when the phone is lost.

A code is accepted for its own 30-second step and the steps either side (clocks drift), and
once only: the last step used is kept, and a code from it or an earlier step is refused.
"""

import hashlib
import hmac
import secrets
from datetime import UTC

import pyotp
import segno
from flask import current_app
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import delete, func, select

from ..clock import utcnow
from ..extensions import db
from ..models import RecoveryCode, User
from . import audit

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to confuse


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _counter_now(totp: pyotp.TOTP) -> int:
    return totp.timecode(utcnow().replace(tzinfo=UTC))


def _digits(code: str) -> str:
    return "".join(code.split())


def _matching_counter(secret: str, code: str, after: int | None) -> int | None:
    """The time step this code belongs to (now, or one either side), if not used yet."""
    code = _digits(code)
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = _totp(secret)
    now = _counter_now(totp)
    for counter in (now - 1, now, now + 1):
        if after is not None and counter <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def _claim_hash(claim: str) -> str:
    return hashlib.sha256(claim.encode()).hexdigest()


def _claimed_secret(user: User, claim: str | None) -> str | None:
    """The key being enrolled, if `claim` is the one it was shown with."""
    if not (claim and user.totp_pending_secret and user.totp_pending_claim):
        return None
    if not hmac.compare_digest(user.totp_pending_claim, _claim_hash(claim)):
        return None
    return user.totp_pending_secret


def begin_enrolment(user: User, claim: str | None) -> tuple[str, str]:
    """The key this browser is setting up, and the claim its session keeps: the same key
    again for the claim it was shown with (a wrong code, a reload); otherwise a new key,
    which voids any key another session was shown. So a key seen once can't be read again
    elsewhere with the password alone."""
    if secret := _claimed_secret(user, claim):
        return secret, claim
    claim = secrets.token_urlsafe(24)
    user.totp_pending_secret, user.totp_pending_claim = pyotp.random_base32(), _claim_hash(claim)
    db.session.commit()
    return user.totp_pending_secret, claim


def setup_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return _totp(secret).provisioning_uri(
        name=user.username, issuer_name=current_app.config["SERVICE_NAME"])


def qr_code_svg(uri: str) -> Markup:
    """The QR code as inline SVG, drawn on the server (no image request, no script)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", omitsize=False,
        title=gettext("QR code for your authenticator app"))
    return Markup(svg)  # noqa: S704 - segno's own markup, from an address we built


def spaced(secret: str) -> str:
    """The key in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def finish_enrolment(user: User, code: str, claim: str | None) -> list[str] | None:
    """Turn the second factor on once a code from the key this browser was shown is right;
    returns the recovery codes (shown once), or None when the code is wrong (or the key was
    replaced by a setup elsewhere). Every other session's pending key is void after this."""
    secret = _claimed_secret(user, claim)
    counter = _matching_counter(secret, code, None) if secret else None
    if counter is None:
        return None
    user.totp_secret, user.totp_pending_secret, user.totp_pending_claim = secret, None, None
    user.totp_last_counter = counter
    codes = _fresh_recovery_codes(user)
    audit.add("two_step_on", user, target_user=user)
    db.session.commit()
    return codes


def enrol_with_secret(user: User, secret: str) -> None:
    """For the demo accounts only: a known secret, documented as demo-only."""
    user.totp_secret, user.totp_pending_secret, user.totp_last_counter = secret, None, None
    user.totp_pending_claim = None


def verify(user: User, code: str) -> str | None:
    """'app' or 'recovery' when the code lets this user in (and is now used up), else None."""
    if not user.totp_secret:
        return None
    counter = _matching_counter(user.totp_secret, code, user.totp_last_counter)
    if counter is not None:
        user.totp_last_counter = counter
        db.session.commit()
        return "app"
    entry = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
        RecoveryCode.code_hash == _recovery_hash(code)))
    if entry is not None:
        entry.used_at = utcnow()
        db.session.commit()
        return "recovery"
    return None


def _recovery_hash(code: str) -> str:
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh one-time codes, asked for by the user (the old ones stop working)."""
    codes = _fresh_recovery_codes(user)
    audit.add("recovery_codes", user, target_user=user)
    db.session.commit()
    return codes


def _fresh_recovery_codes(user: User) -> list[str]:
    """Ten one-time codes in place of the old ones; stored only as hashes."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(c)) for c in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def turn_off(user: User) -> None:
    """No second factor any more (a patient's choice, or an admin's reset for a lost phone:
    staff then enrol again at their next sign-in). Joins the caller's transaction."""
    user.totp_secret = user.totp_pending_secret = user.totp_last_counter = None
    user.totp_pending_claim = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
