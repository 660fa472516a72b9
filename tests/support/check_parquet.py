"""Reads Parquet files written by das-forwarder with pyarrow and compares them with the NDJSON
events of the same run. Prints one JSON object (the Rust test asserts on it):

  schema       the files' schema, canonical (the same for every file, else "differ")
  compression  the set of column-chunk codecs
  rows         total rows;  sorted: every file's rows ascend by (time, metadata.uid)
  missing      NDJSON events (metadata.uid) with no equal row;  extra: rows with no equal event
  mismatches   the first few (uid, field) where a row and its event differ

A row equals an event when, with nulls dropped (outside `unmapped`), it is the event with
`unmapped` flattened: nested keys joined by ".", strings and nulls kept, anything else as
compact JSON text. Usage: check_parquet.py --ndjson-dir DIR FILE.parquet...
"""

import argparse
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def canon(t):
    if pa.types.is_struct(t):
        return {"struct": [[f.name, canon(f.type), f.nullable] for f in t]}
    if pa.types.is_map(t):
        return {"map": [canon(t.key_type), canon(t.item_type), t.item_field.nullable]}
    if pa.types.is_list(t):
        return {"list": [t.value_field.name, canon(t.value_type), t.value_field.nullable]}
    return str(t)


def schema_canon(schema):
    return [[f.name, canon(f.type), f.nullable] for f in schema]


def flatten(prefix, obj, out):
    for k, v in obj.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v:
            flatten(key, v, out)
        elif v is None or isinstance(v, str):
            out[key] = v
        else:
            out[key] = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return out


def drop_nulls(v):
    if isinstance(v, dict):
        return {k: drop_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [drop_nulls(x) for x in v]
    return v


def as_row(event):
    event = dict(event)
    event["unmapped"] = flatten("", event.get("unmapped") or {}, {})
    return event


def from_parquet(row):
    unmapped = dict(row.pop("unmapped") or [])
    row = drop_nulls(row)
    row["unmapped"] = unmapped
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ndjson-dir", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    events = {}
    for root, _, names in os.walk(args.ndjson_dir):
        for name in names:
            if name.endswith(".ndjson"):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    for line in f:
                        if line.strip():
                            e = json.loads(line)
                            events.setdefault(e["metadata"]["uid"], []).append(as_row(e))

    schemas, codecs, rows, is_sorted = set(), set(), [], True
    for path in args.files:
        pf = pq.ParquetFile(path)
        schemas.add(json.dumps(schema_canon(pf.schema_arrow)))
        for g in range(pf.metadata.num_row_groups):
            group = pf.metadata.row_group(g)
            for c in range(group.num_columns):
                codecs.add(group.column(c).compression)
        file_rows = [from_parquet(r) for r in pf.read().to_pylist()]
        keys = [(r["time"], r["metadata"]["uid"]) for r in file_rows]
        is_sorted = is_sorted and keys == sorted(keys)
        rows.extend(file_rows)

    mismatches, extra = [], []
    for row in rows:
        uid = row["metadata"]["uid"]
        candidates = events.get(uid, [])
        if row in candidates:
            candidates.remove(row)
            continue
        extra.append(uid)
        if candidates and len(mismatches) < 5:
            want = candidates[0]
            for field in sorted(set(row) | set(want)):
                if row.get(field) != want.get(field):
                    mismatches.append([uid, field, repr(row.get(field))[:300], repr(want.get(field))[:300]])
    missing = [uid for uid, left in events.items() for _ in left]
    out = {
        "schema": json.loads(schemas.pop()) if len(schemas) == 1 else "differ",
        "compression": sorted(codecs),
        "rows": len(rows),
        "sorted": is_sorted,
        "missing": missing[:20],
        "extra": extra[:20],
        "mismatches": mismatches,
    }
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
