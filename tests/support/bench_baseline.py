#!/usr/bin/env python3
"""The baseline of `make bench`: the AWS documentation's Python consumer, on the same corpus.

For each Kinesis record it does what the documented sample does: json.loads the record data,
base64-decode `databaseActivityEvents` and `key`, KMS Decrypt the key with the RDS encryption
context, decrypt the payload with the official aws-encryption-sdk through the raw AES "BC" /
"DataKey" provider, gunzip with zlib and json.loads the event list, then writes each activity event as one JSON line
(`--out`; the sample prints the record). `--cache` keeps the KMS plaintext per key blob (the sample
has no cache; this is the fairest variant of it).

Prints one JSON object: records, events, seconds (the loop only: imports and reading the corpus
are not timed), kms_calls.
"""

import argparse
import base64
import json
import sys
import time
import zlib

import aws_encryption_sdk
import boto3
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.materials_managers.default import DefaultCryptoMaterialsManager
from bc_keyring import bc_provider
from botocore.config import Config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True, help="a Lambda Kinesis event (JSON)")
    parser.add_argument("--endpoint", required=True, help="KMS endpoint (the local moto server)")
    parser.add_argument("--resource-id", required=True)
    parser.add_argument("--cache", action="store_true", help="one KMS call per distinct key blob")
    parser.add_argument("--out", default="/dev/null", help="where the event lines go")
    args = parser.parse_args()

    with open(args.corpus, encoding="utf-8") as f:
        records = [base64.b64decode(r["kinesis"]["data"]) for r in json.load(f)["Records"]]
    kms = boto3.client(
        "kms", endpoint_url=args.endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )
    context_key = "aws:rds:dbc-id" if args.resource_id.startswith("cluster-") else "aws:rds:db-id"
    client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
    cache = {}
    kms_calls = 0
    events = 0

    out = open(args.out, "w", encoding="utf-8", buffering=1 << 20)
    start = time.perf_counter()
    for data in records:
        record = json.loads(data)
        payload = base64.b64decode(record["databaseActivityEvents"])
        blob = base64.b64decode(record["key"])
        key = cache.get(blob) if args.cache else None
        if key is None:
            key = kms.decrypt(CiphertextBlob=blob, EncryptionContext={context_key: args.resource_id})["Plaintext"]
            kms_calls += 1
            if args.cache:
                cache[blob] = key
        plaintext, _header = client.decrypt(
            source=payload, materials_manager=DefaultCryptoMaterialsManager(master_key_provider=bc_provider(key))
        )
        activity = json.loads(zlib.decompress(plaintext, zlib.MAX_WBITS + 16))
        for e in activity["databaseActivityEventList"]:
            if e.get("type") != "heartbeat":
                out.write(json.dumps(e))
                out.write("\n")
                events += 1
    out.flush()
    seconds = time.perf_counter() - start
    out.close()

    json.dump({"records": len(records), "events": events, "seconds": seconds, "kms_calls": kms_calls}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
