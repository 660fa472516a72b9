#!/usr/bin/env python3
"""Generate ESDK interop fixtures with the official Python AWS Encryption SDK.

Writes tests/fixtures/esdk/python-esdk.json: messages encrypted under the raw AES
keyring that RDS Database Activity Streams uses (provider id "BC", key name "DataKey",
AES-256-GCM, 12-byte IV, 16-byte tag) with a fixed wrapping key, for suites
0x0178, 0x0378, 0x0478 and 0x0578.

Plaintexts are deterministic; ciphertexts are random (fresh data keys and IVs), so
re-running produces a different but equally valid file. Every ciphertext is decrypted
again with the Python SDK before the file is written.

Usage (from the repository root):
    .venv/bin/python tests/support/gen_esdk_fixtures.py [--out PATH]
"""

import argparse
import base64
import hashlib
import io
import json
import struct
import sys
from pathlib import Path

import aws_encryption_sdk
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.identifiers import (
    Algorithm,
    ContentType,
)
from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header
from bc_keyring import bc_provider

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "esdk" / "python-esdk.json"
SCRIPT_REL = "tests/support/gen_esdk_fixtures.py"

# Fixed wrapping key: the bytes 00 01 02 ... 1f.
WRAPPING_KEY = bytes(range(32))

SUITES = {
    "0178": (Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA256, CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT),
    "0378": (Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384, CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT),
    "0478": (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT),
    "0578": (Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT),
}


def det_bytes(label, n):
    """Deterministic pseudo-random bytes (SHAKE-256 of a label)."""
    return hashlib.shake_256(label.encode("utf-8")).digest(n)


def det_text(label, n):
    """Deterministic ASCII text of exactly n bytes."""
    words = ("audit", "select", "from", "where", "insert", "update", "cluster", "stream",
             "record", "activity", "kinesis", "frame", "value", "table", "commit", "session")
    rnd = det_bytes(label, max(n, 1))
    out = []
    size = 0
    i = 0
    while size < n:
        w = words[rnd[i % len(rnd)] % len(words)] + " "
        out.append(w)
        size += len(w)
        i += 1
    return "".join(out).encode("ascii")[:n]


def describe_message(ciphertext):
    """Parse the header and walk the body: returns structural facts for the fixture."""
    stream = io.BytesIO(ciphertext)
    header, raw_header = deserialize_header(stream)
    version = header.version.value
    # Header auth: v1 = IV (12) + tag (16); v2 = tag (16).
    auth_len = 12 + 16 if version == 1 else 16
    pos = len(raw_header) + auth_len
    info = {
        "message_version": version,
        "content_type": "framed" if header.content_type == ContentType.FRAMED_DATA else "non-framed",
        "header_length": len(raw_header) + auth_len,
        "header_encryption_context": dict(header.encryption_context),
    }
    if header.content_type == ContentType.FRAMED_DATA:
        regular = 0
        while True:
            (seq,) = struct.unpack(">I", ciphertext[pos:pos + 4])
            if seq == 0xFFFFFFFF:
                (final_seq,) = struct.unpack(">I", ciphertext[pos + 4:pos + 8])
                (final_len,) = struct.unpack(">I", ciphertext[pos + 20:pos + 24])
                pos += 4 + 4 + 12 + 4 + final_len + 16
                break
            regular += 1
            pos += 4 + 12 + header.frame_length + 16
        info["regular_frames"] = regular
        info["final_frame_sequence"] = final_seq
        info["final_frame_content_length"] = final_len
    else:
        (content_len,) = struct.unpack(">Q", ciphertext[pos + 12:pos + 20])
        pos += 12 + 8 + content_len + 16
        info["content_length"] = content_len
    footer = len(ciphertext) - pos
    if header.algorithm.signing_algorithm_info is None and footer != 0:
        raise AssertionError("unexpected trailing bytes after body")
    info["footer_length"] = footer
    info["ciphertext_length"] = len(ciphertext)
    return header, info


def build_cases():
    """(name, suite, frame_length, encryption_context, plaintext) tuples."""
    cases = []
    ec2 = {"purpose": "das-forwarder fixture", "aws:rds:dbc-id": "cluster-FIXTURE0000000000000000"}
    for suite in SUITES:
        cases.append((f"{suite}-empty", suite, 4096, {}, b""))
        cases.append((f"{suite}-small", suite, 4096, {}, det_text(f"{suite}-small", 100)))
        cases.append((f"{suite}-one-frame", suite, 4096, {}, det_bytes(f"{suite}-one-frame", 4096)))
        cases.append((f"{suite}-multi-frame-ec", suite, 4096, dict(ec2), det_bytes(f"{suite}-multi-frame", 10000)))
        cases.append((f"{suite}-non-framed", suite, 0, {}, det_text(f"{suite}-non-framed", 1000)))
    cases.append(("0178-frame512-x3", "0178", 512, {}, det_bytes("0178-frame512-x3", 3 * 512)))
    cases.append(("0578-frame512-x3", "0578", 512, {}, det_bytes("0578-frame512-x3", 3 * 512)))
    return cases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    provider = bc_provider(WRAPPING_KEY)
    clients = {}
    out_cases = []
    for name, suite, frame_length, ec, plaintext in build_cases():
        algorithm, policy = SUITES[suite]
        client = clients.setdefault(policy, aws_encryption_sdk.EncryptionSDKClient(commitment_policy=policy))
        ciphertext, enc_header = client.encrypt(
            source=plaintext,
            key_provider=provider,
            algorithm=algorithm,
            frame_length=frame_length,
            encryption_context=ec,
        )
        # Round trip with a fresh provider (nothing cached from encryption).
        decrypted, dec_header = client.decrypt(source=ciphertext, key_provider=bc_provider(WRAPPING_KEY))
        if decrypted != plaintext:
            raise AssertionError(f"{name}: round trip mismatch")
        header, info = describe_message(ciphertext)
        if header.algorithm.algorithm_id != int(suite, 16):
            raise AssertionError(f"{name}: suite {header.algorithm.algorithm_id:04x} != {suite}")
        if header.frame_length != frame_length:
            raise AssertionError(f"{name}: frame length {header.frame_length} != {frame_length}")
        if len(header.encrypted_data_keys) != 1:
            raise AssertionError(f"{name}: expected one EDK")
        edk = next(iter(header.encrypted_data_keys))
        if edk.key_provider.provider_id != "BC" or not edk.key_provider.key_info.startswith(b"DataKey"):
            raise AssertionError(f"{name}: unexpected EDK provider {edk.key_provider}")
        for k, v in ec.items():
            if dec_header.encryption_context.get(k) != v:
                raise AssertionError(f"{name}: encryption context lost {k}")
        case = {
            "name": name,
            "suite": suite,
            "frame_length": frame_length,
            "encryption_context": ec,
            "plaintext_b64": base64.b64encode(plaintext).decode("ascii"),
            "ciphertext_b64": base64.b64encode(ciphertext).decode("ascii"),
        }
        case.update(info)
        out_cases.append(case)

    doc = {
        "generator": {
            "aws-encryption-sdk": aws_encryption_sdk.__version__,
            "python": sys.version.split()[0],
            "script": SCRIPT_REL,
        },
        "wrapping_key_b64": base64.b64encode(WRAPPING_KEY).decode("ascii"),
        "provider_id": "BC",
        "key_name": "DataKey",
        "cases": out_cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # noqa: BLE001 - report and fail
        print(f"gen_esdk_fixtures: {exc!r}", file=sys.stderr)
        sys.exit(1)
