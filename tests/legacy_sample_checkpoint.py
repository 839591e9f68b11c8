#!/usr/bin/env python3
"""Rewrites a sampler checkpoint directory in the layout scorematch wrote before draw files
(up to commit 0b39ace): one state file whose rows are [x | aux | the whole draw buffer of
DRAWS_PER_CHAIN slots, zeros past the kept ones], no "draws"/"kept_draws" fields. sample_cli.sh
uses it to check that such checkpoints still resume. Standard library only (CI has no numpy).

usage: legacy_sample_checkpoint.py SRC_DIR DST_DIR DRAWS_PER_CHAIN
"""
import ast
import json
import os
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY"
    major = data[6]
    hlen, off = (struct.unpack("<H", data[8:10])[0], 10) if major == 1 else (
        struct.unpack("<I", data[8:12])[0], 12)
    header = ast.literal_eval(data[off:off + hlen].decode("latin1"))
    assert header["descr"] == "<f8" and not header["fortran_order"]
    n, w = header["shape"]
    body = data[off + hlen:]
    return [list(struct.unpack_from(f"<{w}d", body, 8 * w * r)) for r in range(n)]


def write_npy(path, rows):
    n, w = len(rows), len(rows[0])
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (n, w)
    pad = 64 - (10 + len(header) + 1) % 64
    header = (header + " " * pad + "\n").encode("latin1")
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
        for row in rows:
            f.write(struct.pack(f"<{w}d", *row))


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def row_checksum(rows):
    return float(sum(fnv1a64(struct.pack(f"<{len(r)}d", *r)) & 0xFFFFFFFF for r in rows))


def main(src, dst, per_chain):
    meta = json.load(open(os.path.join(src, "checkpoint.json")))
    state = read_npy(os.path.join(src, meta["state"]))
    draws = [[] for _ in state]
    for seg in meta.pop("draws"):
        seg_rows = read_npy(os.path.join(src, "draws-%d-%d.npy" % (seg["from"], seg["to"])))
        for c, r in enumerate(seg_rows):
            draws[c].extend(r)
    kept = meta.pop("kept_draws")
    assert kept > 0, "the test converts a checkpoint with kept draws"
    d = len(draws[0]) // kept
    rows = [s + k + [0.0] * ((per_chain - kept) * d) for s, k in zip(state, draws)]
    os.makedirs(dst)
    write_npy(os.path.join(dst, meta["state"]), rows)
    meta["row_width"] = len(rows[0])
    meta["checksum"] = row_checksum(rows)
    meta.pop("header_checksum")
    dump = json.dumps(meta, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    meta["header_checksum"] = "%016x" % fnv1a64(dump.encode("utf-8"))
    with open(os.path.join(dst, "checkpoint.json"), "w") as f:
        json.dump(meta, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
