"""Check a printed audit checkpoint of a Gongyi installation (standard library + cryptography).

Usage:
    python verify_checkpoint.py PUBLIC_KEY CHECKPOINT_LINE

PUBLIC_KEY is the 64 hex digits printed beside the checkpoint; CHECKPOINT_LINE is the
line under the QR code: gongyi-checkpoint:CHAIN:SEQ:HASH:UNIX_TIME:SIGNATURE, where CHAIN
is the village's chain (v12) or the township's (t3); a line without CHAIN is the
installation chain's.
Exit 0 when the installation's key signed exactly this head at this time, 1 otherwise.
"""
import sys
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def check(public_key_hex, line):
    """(chain, seq, head hash, signing time); raises ValueError or InvalidSignature."""
    parts = line.strip().split(":")
    if len(parts) == 5:
        parts.insert(1, "")  # the installation chain
    prefix, chain, seq, head, unix_time, signature = parts
    if prefix != "gongyi-checkpoint":
        raise ValueError("not a checkpoint line")
    signed = ":".join(p for p in (prefix, chain, seq, head, unix_time) if p)
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    key.verify(bytes.fromhex(signature), signed.encode("utf-8"))
    return chain or "i", int(seq), head, datetime.fromtimestamp(int(unix_time), timezone.utc)


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    try:
        chain, seq, head, signed_at = check(argv[1], argv[2])
    except (ValueError, InvalidSignature):
        print("FAILED: the signature does not verify with this public key")
        return 1
    print(f"Signature good: chain {chain} held {seq} events, the last with hash {head}, "
          f"signed {signed_at:%Y-%m-%d %H:%M} UTC.")
    print(f"Ask the installation to run: flask --app wsgi audit verify --checkpoint {chain}:{seq}:{head}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
