#!/usr/bin/env python3
"""Build a Lambda Kinesis event that looks like RDS Database Activity Streams output.

KMS is a moto server (or anything speaking the KMS API) at --endpoint. The script
creates a symmetric KMS key, asks KMS for --data-keys data keys with the RDS
encryption context, and for every Kinesis record:

  plaintext  = gzip(JSON DatabaseActivityMonitoringRecord)
  message    = ESDK encrypt(plaintext), suite 0x0178, frame length 4096, empty
               encryption context, raw AES keyring "BC"/"DataKey" whose wrapping
               key is the KMS data key's Plaintext
  record     = {"type":"DatabaseActivityMonitoringRecords","version":"1.1"|"1.2",
                "databaseActivityEvents":b64(message),"key":b64(CiphertextBlob)}
  kinesis    = base64(record JSON) in a Lambda KinesisEvent record

EXPECTED.json lists, per record, every non-heartbeat activity event exactly as it
was put in the plaintext, so a test can match the forwarder's output one by one.
(statementId, substatementId) is unique across the whole batch; every event with a
SQL commandText also carries a unique "das-fixture" tag in it.

Record layout (index i, 0-based): i == 1 is a bulk record (many events, several
4096-byte frames), i == 7 carries very long commandText (several frames),
i == 4 and i == 9 hold only a heartbeat, every third other record also carries a
heartbeat next to its activity events, the rest hold 1-6 ordinary events.

Prints nothing but errors; exits non-zero on failure.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import logging
import random
import struct
import sys
from datetime import datetime, timedelta, timezone

import aws_encryption_sdk
import boto3
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.identifiers import Algorithm
from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header
from bc_keyring import bc_provider
from botocore.config import Config

FRAME_LENGTH = 4096
SUITE = Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA256  # 0x0178, what RDS sends
BASE_ARRIVAL = 1700000000.123
BASE_SEQUENCE = 49590338271490256608559692538361571095921575989136588898  # 56 digits
SEQUENCE_STEP = 10**24 + 7919
BULK_INDEX = 1
LONG_TEXT_INDEX = 7
HEARTBEAT_ONLY = (4, 9)


# --------------------------------------------------------------------------- ESDK
# The SDK logs a traceback ("Error on closing") when decrypting the deliberately corrupted
# record; this script must print nothing but its own errors.
logging.getLogger("aws_encryption_sdk").addHandler(logging.NullHandler())

ESDK = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT)


def frame_layout(message):
    """Return (header_length, [(content_offset, content_length), ...]) of a framed v1 message."""
    stream = io.BytesIO(message)
    header, raw_header = deserialize_header(stream)
    pos = len(raw_header) + 12 + 16  # v1 header auth: IV + tag
    frames = []
    while True:
        (seq,) = struct.unpack(">I", message[pos:pos + 4])
        if seq == 0xFFFFFFFF:
            (length,) = struct.unpack(">I", message[pos + 20:pos + 24])
            frames.append((pos + 24, length))
            pos += 24 + length + 16
            break
        frames.append((pos + 16, header.frame_length))
        pos += 16 + header.frame_length + 16
    if pos != len(message):
        raise RuntimeError("ESDK message has trailing bytes")
    return len(raw_header) + 28, frames


# --------------------------------------------------------------------------- events
PG_SERVER = {
    "serverVersion": "2.3.1",
    "serverType": "PostgreSQL",
    "serviceName": "Amazon Aurora PostgreSQL-Compatible edition",
    "netProtocol": "TCP",
    "dbProtocol": "Postgres 3.0",
}
MY_SERVER = {
    "serverType": "MySQL",
    "serviceName": "Amazon Aurora MySQL",
    "serverVersion": "MySQL 5.7.12",
    "dbProtocol": "MySQL",
    "netProtocol": "TCP",
}


def ts(dt):
    """DAS timestamp format: '2019-10-30 00:39:49.940668+00'."""
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00"


class Batch:
    """Deterministic generator of DAS activity events."""

    def __init__(self, seed, resource_id):
        self.rnd = random.Random(seed)
        self.statement_id = 1000
        self.clock = datetime.fromtimestamp(1700000000, tz=timezone.utc) - timedelta(seconds=30)
        self.resource_id = resource_id
        # Two DbiResourceId-like instance ids ("db-" + 26 base32 chars) derived from the resource id.
        self.instances = [
            "db-" + base64.b32encode(hashlib.sha256(f"{resource_id}/{j}".encode()).digest()).decode()[:26]
            for j in range(2)
        ]
        if resource_id.startswith("db-"):
            self.cluster_id = ""
            self.instances = [resource_id]
        else:
            self.cluster_id = resource_id

    def tick(self, micros=None):
        self.clock += timedelta(microseconds=micros if micros is not None else self.rnd.randint(150, 90000))
        return self.clock

    def next_statement(self):
        self.statement_id += 1
        return self.statement_id

    def session(self, engine, instance_idx):
        if engine == "postgres":
            pid = self.rnd.randint(2000, 32000)
            return {
                "pid": pid,
                "sessionId": "%08x.%x" % (1699990000 + self.rnd.randint(0, 9000), pid),
                "remoteHost": "172.31.%d.%d" % (self.rnd.randint(0, 15), self.rnd.randint(2, 250)),
                "remotePort": str(self.rnd.randint(32768, 60999)),
                "serverHost": "172.31.3.%d" % (190 + instance_idx),
                "dbUserName": self.rnd.choice(["app_writer", "report_ro", "rdsadmin", "etl"]),
                "databaseName": self.rnd.choice(["postgres", "orders", "billing"]),
                "clientApplication": self.rnd.choice(["psql", "PostgreSQL JDBC Driver", None, "pgAdmin 4"]),
            }
        return {
            "pid": self.rnd.randint(2000, 9000),
            "sessionId": str(self.rnd.randint(700000, 799999)),
            "remoteHost": self.rnd.choice(["localhost", "10.0.%d.%d" % (self.rnd.randint(0, 9), self.rnd.randint(2, 250))]),
            "remotePort": str(self.rnd.randint(11000, 60999)),
            "serverHost": "master" if instance_idx == 0 else "replica-1",
            "dbUserName": self.rnd.choice(["master", "app", "rdsadmin"]),
            "databaseName": self.rnd.choice(["test", "shop", "inventory"]),
            "clientApplication": None,
        }

    # -- Aurora PostgreSQL, record version 1.1 --------------------------------
    def pg_event(self, sess, command, tag, *, obj=None, objtype=None, rows=None, text=None, params=None,
                 cls="READ", exit_code=None, error=None):
        start = self.tick()
        log = self.tick(self.rnd.randint(40, 50000))
        return {
            "startTime": ts(start),
            "logTime": ts(log),
            "statementId": self.next_statement(),
            "substatementId": 1,
            "objectType": objtype,
            "command": command,
            "objectName": obj,
            "databaseName": sess["databaseName"],
            "dbUserName": sess["dbUserName"],
            "remoteHost": sess["remoteHost"],
            "remotePort": sess["remotePort"],
            "sessionId": sess["sessionId"],
            "rowCount": rows,
            "commandText": None if text is None else f"/* das-fixture {tag} */ {text}",
            "paramList": params if params is not None else [],
            "pid": sess["pid"],
            "clientApplication": sess["clientApplication"],
            "exitCode": exit_code,
            "class": cls,
            "serverVersion": PG_SERVER["serverVersion"],
            "serverType": PG_SERVER["serverType"],
            "serviceName": PG_SERVER["serviceName"],
            "serverHost": sess["serverHost"],
            "netProtocol": PG_SERVER["netProtocol"],
            "dbProtocol": PG_SERVER["dbProtocol"],
            "type": "record",
            "errorMessage": error,
        }

    def pg_statement(self, sess, tag, kind=None):
        r = self.rnd
        kind = kind or r.choice(["select", "select", "insert", "update", "delete", "ddl", "role", "func", "error"])
        table = r.choice(["orders", "customers", "invoices", "line_items"])
        if kind == "select":
            n = r.randint(0, 500)
            return [self.pg_event(sess, "SELECT", tag, obj=f"public.{table}", objtype="TABLE", rows=n,
                                  text=f"select * from {table} where id > {r.randint(1, 10**6)} limit {n};")]
        if kind == "insert":
            a, b = str(r.randint(1, 99999)), r.choice(["alice", "bob", "carol", "o'brien"])
            return [self.pg_event(sess, "INSERT", tag, obj=f"public.{table}", objtype="TABLE", rows=0,
                                  text=f"insert into {table} (id, name) values ($1, $2);", params=[a, b], cls="WRITE")]
        if kind == "update":
            return [self.pg_event(sess, "UPDATE", tag, obj=f"public.{table}", objtype="TABLE", rows=0,
                                  text=f"update {table} set status = 'shipped' where id = {r.randint(1, 10**6)};",
                                  cls="WRITE")]
        if kind == "delete":
            return [self.pg_event(sess, "DELETE", tag, obj=f"public.{table}", objtype="TABLE", rows=0,
                                  text=f"delete from {table} where created_at < now() - interval '{r.randint(2, 90)} days';",
                                  cls="WRITE")]
        if kind == "ddl":
            name = f"tmp_{r.randint(100, 999)}"
            return [self.pg_event(sess, "CREATE TABLE", tag,
                                  text=f"create table {name} (id serial primary key, name varchar(32));", cls="DDL")]
        if kind == "role":
            return [self.pg_event(sess, "ALTER ROLE", tag, text="ALTER ROLE report_ro WITH password", cls="ROLE")]
        if kind == "func":
            return [self.pg_event(sess, "SELECT", tag, obj="public.refresh_totals", objtype="FUNCTION", rows=1,
                                  text=f"select public.refresh_totals({r.randint(1, 99)});", cls="FUNCTION")]
        # error: SQLSTATE in exitCode (a string), message in errorMessage
        missing = f"public.missing_{r.randint(1, 999)}"
        return [self.pg_event(sess, "SELECT", tag, obj=missing, objtype="TABLE",
                              text=f"select count(*) from {missing};", cls="READ", exit_code="42P01",
                              error=f'relation "{missing}" does not exist')]

    def pg_connect(self, sess, tag):
        return self.pg_event(sess, "CONNECT", tag, cls="MISC")

    def pg_disconnect(self, sess, tag):
        return self.pg_event(sess, "DISCONNECT", tag, cls="MISC", exit_code=0)

    # -- Aurora MySQL, record version 1.2 ----------------------------------------
    def my_event(self, sess, statement_id, sub, cls, command, text, *, obj="", objtype="TABLE", rows=0,
                 exit_code="0", error="", start=None, end=None, txid="0"):
        return {
            "logTime": ts(end),
            "type": "record",
            "clientApplication": sess["clientApplication"],
            "pid": sess["pid"],
            "dbUserName": sess["dbUserName"],
            "databaseName": sess["databaseName"],
            "remoteHost": sess["remoteHost"],
            "remotePort": sess["remotePort"],
            "command": command,
            "commandText": text,
            "paramList": None,
            "objectType": objtype,
            "objectName": obj,
            "statementId": statement_id,
            "substatementId": sub,
            "exitCode": exit_code,
            "sessionId": sess["sessionId"],
            "rowCount": rows,
            "serverHost": sess["serverHost"],
            "serverType": MY_SERVER["serverType"],
            "serviceName": MY_SERVER["serviceName"],
            "serverVersion": MY_SERVER["serverVersion"],
            "startTime": ts(start),
            "endTime": ts(end),
            "transactionId": txid,
            "dbProtocol": MY_SERVER["dbProtocol"],
            "netProtocol": MY_SERVER["netProtocol"],
            "errorMessage": error,
            "class": cls,
        }

    def my_statement(self, sess, tag, kind=None):
        """A MAIN event plus its AUX events (order varies, as the docs warn)."""
        r = self.rnd
        kind = kind or r.choice(["select", "select", "insert", "update", "create", "escaped", "error"])
        table = r.choice(["test1", "orders", "stock", "carts"])
        sid = self.next_statement()
        start = self.tick()
        aux_end = self.tick(r.randint(20, 3000))
        main_end = self.tick(r.randint(2, 40))
        txid = "0" if kind in ("select", "create", "error", "escaped") else str(r.randint(10**6, 10**8))
        if kind == "select":
            n = r.randint(0, 300)
            sql, aux_cmd, rows = f"SELECT * FROM {table} WHERE id < {r.randint(1, 10**5)}", "READ", n
        elif kind == "insert":
            sql, aux_cmd, rows = f"INSERT INTO {table} (id, qty) VALUES ({r.randint(1, 10**5)}, {r.randint(1, 50)})", "WRITE", 1
        elif kind == "update":
            sql, aux_cmd, rows = f"UPDATE {table} SET qty = qty - 1 WHERE id = {r.randint(1, 10**5)}", "WRITE", r.randint(0, 3)
        elif kind == "create":
            table = f"t{r.randint(100, 999)}"
            sql, aux_cmd, rows = f"CREATE TABLE {table} (id INT)", "CREATE", 0
        elif kind == "escaped":
            # Aurora MySQL escapes quotes in commandText with a backslash.
            sql, aux_cmd, rows = f"SELECT * FROM {table} WHERE name = \\'o\\'\\'brien\\' AND tag = \\\"vip\\\"", "READ", 0
        else:
            missing = f"nope_{r.randint(1, 999)}"
            sql = f"SELECT * FROM {missing}"
            main = self.my_event(sess, sid, 1, "MAIN", "QUERY", f"{sql} /* das-fixture {tag} */", obj=missing,
                                 rows=0, exit_code="1146", error=f"Table '{sess['databaseName']}.{missing}' doesn't exist",
                                 start=start, end=main_end, txid=txid)
            return [main]
        main = self.my_event(sess, sid, 1, "MAIN", "QUERY", f"{sql} /* das-fixture {tag} */", obj=table, rows=rows,
                             start=start, end=main_end, txid=txid)
        aux = self.my_event(sess, sid, 2, "AUX", aux_cmd, table, obj=table, rows=0, exit_code="",
                            start=start, end=aux_end, txid=txid)
        return [main, aux] if r.random() < 0.5 else [aux, main]

    def my_connect(self, sess, tag, command="CONNECT"):
        start = self.tick()
        end = self.tick(self.rnd.randint(2, 40))
        return self.my_event(sess, self.next_statement(), 1, "MAIN", command, "", start=start, end=end)

    # -- records ---------------------------------------------------------------
    def events_for(self, idx, engine):
        """Return the databaseActivityEventList of record idx."""
        r = self.rnd
        inst = idx % len(self.instances)
        sess = self.session(engine, inst)
        events = []
        if idx in HEARTBEAT_ONLY:
            return inst, [{"type": "heartbeat"}]
        if idx == BULK_INDEX:
            count = 0
            for s in range(20):
                sess = self.session(engine, inst)
                if engine == "postgres":
                    events.append(self.pg_connect(sess, f"r{idx}e{count}"))
                else:
                    events.append(self.my_connect(sess, f"r{idx}e{count}"))
                count += 1
                for _ in range(14):
                    tag = f"r{idx}e{count}"
                    events.extend(self.pg_statement(sess, tag) if engine == "postgres" else self.my_statement(sess, tag))
                    count += 1
            events.insert(len(events) // 2, {"type": "heartbeat"})
            return inst, events
        if idx == LONG_TEXT_INDEX:
            for n in range(3):
                tag = f"r{idx}e{n}"
                blob = "".join("%02x" % r.getrandbits(8) for _ in range(3000 + 1500 * n))
                rows = ", ".join(f"({r.randint(1, 10**9)}, '{r.getrandbits(64):016x}')" for _ in range(120))
                if engine == "postgres":
                    events.append(self.pg_event(
                        sess, "INSERT", tag, obj="public.attachments", objtype="TABLE", rows=0, cls="WRITE",
                        text=f"insert into attachments (id, body) values ({r.randint(1, 10**6)}, decode('{blob}', 'hex'));"))
                    events.append(self.pg_event(
                        sess, "INSERT", tag + "b", obj="public.tokens", objtype="TABLE", rows=0, cls="WRITE",
                        text=f"insert into tokens (id, token) values {rows};"))
                else:
                    sid = self.next_statement()
                    start = self.tick()
                    end = self.tick(self.rnd.randint(500, 9000))
                    events.append(self.my_event(
                        sess, sid, 1, "MAIN", "QUERY",
                        f"INSERT INTO attachments (id, body) VALUES ({r.randint(1, 10**6)}, x\\'{blob}\\') "
                        f"/* das-fixture {tag} */", obj="attachments", rows=1, start=start, end=end,
                        txid=str(r.randint(10**6, 10**8))))
                    sid = self.next_statement()
                    start = self.tick()
                    end = self.tick(self.rnd.randint(500, 9000))
                    events.append(self.my_event(
                        sess, sid, 1, "MAIN", "QUERY",
                        f"INSERT INTO tokens (id, token) VALUES {rows} /* das-fixture {tag}b */", obj="tokens",
                        rows=120, start=start, end=end, txid=str(r.randint(10**6, 10**8))))
            return inst, events
        n = 1 + (idx * 5 + 3) % 6
        if idx % 4 == 0 or n == 1:
            events.append(self.pg_connect(sess, f"r{idx}c") if engine == "postgres" else self.my_connect(sess, f"r{idx}c"))
        for k in range(n):
            tag = f"r{idx}e{k}"
            events.extend(self.pg_statement(sess, tag) if engine == "postgres" else self.my_statement(sess, tag))
        if idx % 5 == 2:
            events.append(self.pg_disconnect(sess, f"r{idx}d") if engine == "postgres"
                          else self.my_connect(sess, f"r{idx}d", command="DISCONNECT"))
        if idx % 3 == 0:
            events.insert(r.randint(0, len(events)), {"type": "heartbeat"})
        return inst, events


# --------------------------------------------------------------------------- main
def parse_args(argv):
    p = argparse.ArgumentParser(description="Build an RDS DAS-like Kinesis event against a KMS endpoint.")
    p.add_argument("--endpoint", required=True, help="KMS endpoint, e.g. http://127.0.0.1:5000")
    p.add_argument("--out", required=True, help="where to write the Kinesis event JSON")
    p.add_argument("--expected", required=True, help="where to write the expected-events JSON")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--resource-id", default="cluster-ABCDEFGHIJKLMNOPQRSTUVWXY")
    p.add_argument("--records", type=int, default=12)
    p.add_argument("--data-keys", type=int, default=3)
    p.add_argument("--corrupt-index", type=int, default=None)
    p.add_argument("--engine", choices=["postgres", "mysql", "mixed"], default="postgres")
    p.add_argument("--seed", type=int, default=20231114, help="seed for the (deterministic) event content")
    a = p.parse_args(argv)
    if a.records < 1:
        p.error("--records must be >= 1")
    if not 1 <= a.data_keys <= a.records:
        p.error("--data-keys must be between 1 and --records")
    if a.corrupt_index is not None and not 0 <= a.corrupt_index < a.records:
        p.error("--corrupt-index out of range")
    if a.resource_id.startswith("cluster-"):
        a.context = {"aws:rds:dbc-id": a.resource_id}
    elif a.resource_id.startswith("db-"):
        a.context = {"aws:rds:db-id": a.resource_id}
    else:
        p.error("--resource-id must start with 'cluster-' or 'db-'")
    return a


def main(argv=None):
    args = parse_args(argv)
    kms = boto3.client(
        "kms",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30),
    )
    meta = kms.create_key(
        Description=f"das-forwarder test key for {args.resource_id}",
        KeySpec="SYMMETRIC_DEFAULT",
        KeyUsage="ENCRYPT_DECRYPT",
    )["KeyMetadata"]
    key_id = meta["KeyId"]

    data_keys = []
    for _ in range(args.data_keys):
        dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=args.context)
        if len(dk["Plaintext"]) != 32:
            raise RuntimeError("KMS returned a data key that is not 32 bytes")
        # Self-check: the blob must decrypt under the same context.
        if kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=args.context)["Plaintext"] != dk["Plaintext"]:
            raise RuntimeError("KMS Decrypt did not return the data key")
        data_keys.append(dk)

    gen = Batch(args.seed, args.resource_id)
    kinesis_records = []
    expected_records = []
    stream_name = f"aws-rds-das-{args.resource_id}"
    for i in range(args.records):
        engine = args.engine if args.engine != "mixed" else ("postgres" if i % 2 == 0 else "mysql")
        version = "1.1" if engine == "postgres" else "1.2"
        key_index = i * args.data_keys // args.records  # contiguous runs share a key, like a real stream
        dk = data_keys[key_index]
        inst, events = gen.events_for(i, engine)
        inner = {
            "type": "DatabaseActivityMonitoringRecord",
            "clusterId": gen.cluster_id,
            "instanceId": gen.instances[inst],
            "databaseActivityEventList": events,
        }
        inner_json = json.dumps(inner, separators=(",", ":")).encode("utf-8")
        compressed = gzip.compress(inner_json, compresslevel=6, mtime=0)
        message, _ = ESDK.encrypt(
            source=compressed,
            key_provider=bc_provider(dk["Plaintext"]),
            algorithm=SUITE,
            frame_length=FRAME_LENGTH,
            encryption_context={},
        )
        header_len, frames = frame_layout(message)
        corrupt = args.corrupt_index == i
        if corrupt:
            # Flip the first ciphertext byte of the first frame with content: the GCM tag then fails.
            offset = next(off for off, length in frames if length > 0)
            tampered = bytearray(message)
            tampered[offset] ^= 0x01
            message = bytes(tampered)
        # Self-check with the official SDK.
        try:
            plain, _ = ESDK.decrypt(source=message, key_provider=bc_provider(dk["Plaintext"]))
            ok = plain == compressed
        except Exception:  # noqa: BLE001 - any failure means "does not decrypt"
            ok = False
        if ok == corrupt:
            raise RuntimeError(f"record {i}: self-check failed (corrupt={corrupt}, decrypts={ok})")

        record = {
            "type": "DatabaseActivityMonitoringRecords",
            "version": version,
            "databaseActivityEvents": base64.b64encode(message).decode("ascii"),
            "key": base64.b64encode(dk["CiphertextBlob"]).decode("ascii"),
        }
        record_json = json.dumps(record, separators=(",", ":")).encode("utf-8")
        seq = str(BASE_SEQUENCE + i * SEQUENCE_STEP)
        partition_key = hashlib.md5(f"{args.resource_id}/{i}".encode()).hexdigest()
        kinesis_records.append({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": partition_key,
                "sequenceNumber": seq,
                "data": base64.b64encode(record_json).decode("ascii"),
                "approximateArrivalTimestamp": round(BASE_ARRIVAL + i * 0.217, 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"shardId-000000000000:{seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{args.account}:role/das-forwarder",
            "awsRegion": args.region,
            "eventSourceARN": f"arn:aws:kinesis:{args.region}:{args.account}:stream/{stream_name}",
        })
        activity = [e for e in events if e.get("type") != "heartbeat"]
        expected_records.append({
            "sequenceNumber": seq,
            "corrupt": corrupt,
            "events": activity,
            "heartbeats": len(events) - len(activity),
            "engine": engine,
            "version": version,
            "clusterId": inner["clusterId"],
            "instanceId": inner["instanceId"],
            "data_key_index": key_index,
            "plaintext_json_bytes": len(inner_json),
            "gzip_bytes": len(compressed),
            "esdk_message_bytes": len(message),
            "esdk_header_bytes": header_len,
            "esdk_frames": len(frames),
            "kinesis_data_bytes": len(record_json),
        })

    event = {"Records": kinesis_records}
    expected = {
        "key_id": key_id,
        "key_arn": meta.get("Arn"),
        "resource_id": args.resource_id,
        "encryption_context": args.context,
        "region": args.region,
        "account": args.account,
        "stream_name": stream_name,
        "data_keys": [
            {
                "ciphertext_blob_b64": base64.b64encode(dk["CiphertextBlob"]).decode("ascii"),
                "plaintext_b64": base64.b64encode(dk["Plaintext"]).decode("ascii"),
            }
            for dk in data_keys
        ],
        "records": expected_records,
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(event, fh, indent=1)
        fh.write("\n")
    with open(args.expected, "w", encoding="utf-8") as fh:
        json.dump(expected, fh, indent=1)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - one line on stderr, non-zero exit
        print(f"make_rds_batch: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
