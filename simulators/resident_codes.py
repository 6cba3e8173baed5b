"""A simulated provincial platform that issues signed resident codes (居民码), for the demo and tests.

The codes follow the format of ``docs/identity.md`` (JWS compact, ES256 over P-256): the header names
the issuer, the payload carries the holder's ID number and name, the issue and expiry times, and a
nonce. :data:`DEMO_ISSUER_ID` with :data:`DEMO_PRIVATE_KEY_PEM` is the demo hall's issuer: its public
key is the ``[[identity.issuers]]`` entry of the demo ``hall.toml``. The private key lives only here,
on the simulator side; no production module imports this one.

``python -m simulators.resident_codes 0`` prints a fresh code for card 0 of the simulated deck
(``--png FILE`` also draws it as a QR code).
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import time
from collections.abc import Mapping

import qrcode
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from simulators.cards import DECK

DEMO_ISSUER_ID = "demo-province"
DEMO_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0mXLecxqAm0eMI1a
BZ3/fpaSrtctbH0gCGvgwgL+v1OhRANCAAQpzEkRnWKGj69shZpc0rxnejM1MUDB
EyrtTxJamp3c39Cc+18FuSnZTvswxOGcShPbsBKJiPJGxsbaL1ah5SGW
-----END PRIVATE KEY-----
"""
CODE_TYPE = "resident-code"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _part(obj: Mapping[str, object]) -> str:
    return _b64(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def demo_key() -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(DEMO_PRIVATE_KEY_PEM.encode("ascii"), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def public_key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """The PEM public key to put into ``[[identity.issuers]]``."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


class ResidentCodeIssuer:
    """Signs resident codes as a provincial platform would (one issuer id, one P-256 key)."""

    def __init__(self, issuer_id: str = DEMO_ISSUER_ID, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.issuer_id = issuer_id
        self.key = key or demo_key()

    def issue(self, id_number: str, name: str = "", now: float | None = None, ttl_s: float = 300.0) -> str:
        """A signed code for this person, valid ``ttl_s`` seconds from ``now``."""
        iat = int(time.time() if now is None else now)
        header = {"alg": "ES256", "typ": CODE_TYPE, "kid": self.issuer_id}
        payload = {
            "iss": self.issuer_id,
            "sub": id_number,
            "name": name,
            "iat": iat,
            "exp": iat + int(ttl_s),
            "nonce": secrets.token_hex(8),
        }
        signing_input = f"{_part(header)}.{_part(payload)}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def issue_for_card(self, index: int, now: float | None = None, ttl_s: float = 300.0) -> str:
        """A code for the holder of card ``index`` of the simulated deck (simulators.cards.DECK)."""
        card = DECK[index]
        return self.issue(card.id_number, card.name, now=now, ttl_s=ttl_s)

    @staticmethod
    def unsigned(id_number: str, name: str = "", now: float | None = None) -> str:
        """A code in the right shape but with ``alg: none`` and no signature (what a forger makes)."""
        iat = int(time.time() if now is None else now)
        header = {"alg": "none", "typ": CODE_TYPE, "kid": DEMO_ISSUER_ID}
        payload = {"iss": DEMO_ISSUER_ID, "sub": id_number, "name": name, "iat": iat, "exp": iat + 300}
        return f"{_part(header)}.{_part(payload)}."


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="print a signed demo resident code for a card of the simulated deck")
    p.add_argument("card", type=int, help=f"card index 0..{len(DECK) - 1}")
    p.add_argument("--ttl", type=float, default=300.0, help="seconds the code stays valid (default 300)")
    p.add_argument("--png", default="", help="also draw the code as a QR image in this file")
    args = p.parse_args(argv)
    code = ResidentCodeIssuer().issue_for_card(args.card, ttl_s=args.ttl)
    print(code)
    if args.png:
        qrcode.make(code).save(args.png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
