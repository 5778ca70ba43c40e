"""Check a printed audit checkpoint of a Gongyi installation (standard library + cryptography).

Usage:
    python verify_checkpoint.py PUBLIC_KEY CHECKPOINT_LINE

PUBLIC_KEY is the 64 hex digits printed beside the checkpoint; CHECKPOINT_LINE is the
line under the QR code: gongyi-checkpoint:SEQ:HASH:UNIX_TIME:SIGNATURE.
Exit 0 when the installation's key signed exactly this head at this time, 1 otherwise.
"""
import sys
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def check(public_key_hex, line):
    """(seq, head hash, signing time); raises ValueError or InvalidSignature."""
    prefix, seq, head, unix_time, signature = line.strip().split(":")
    if prefix != "gongyi-checkpoint":
        raise ValueError("not a checkpoint line")
    message = f"{prefix}:{seq}:{head}:{unix_time}".encode("utf-8")
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    key.verify(bytes.fromhex(signature), message)
    return int(seq), head, datetime.fromtimestamp(int(unix_time), timezone.utc)


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    try:
        seq, head, signed_at = check(argv[1], argv[2])
    except (ValueError, InvalidSignature):
        print("FAILED: the signature does not verify with this public key")
        return 1
    print(f"Signature good: {seq} events, the last with hash {head}, signed {signed_at:%Y-%m-%d %H:%M} UTC.")
    print(f"Ask the installation to run: flask --app wsgi audit verify --checkpoint {seq}:{head}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
