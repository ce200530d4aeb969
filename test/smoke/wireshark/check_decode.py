#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks tshark's decode of SRD captures made by dissector.sh.

samples EXPECT.jsonl DECODE.json [--heuristic|--port P]
    DECODE.json is `tshark -T json --no-duplicate-keys` of the pcap that
    srd_samples wrote; EXPECT.jsonl is what srd_samples printed (fields and
    reject reason as lib/wire's decoder sees them). Every frame on the SRD port
    must show exactly those fields and exactly the expert error named by the
    reject reason; the frame on the other port is SRD only when the heuristic
    or the port preference says so.

live FIELDS.tsv GEN.json COUNT
    FIELDS.tsv is `tshark -T fields` of a gen/respond capture with the columns
    in LIVE_COLUMNS. Checks the types seen, contiguous PSNs per connection from
    the handshake's initial PSN, one request per (connection, msg_id), request
    sequence numbers 0..n-1 per conn_key adding up to COUNT, and one reply per
    request of the size the request asked for.

Prints "ok: ..." per passed check, "FAIL: ..." per failed one, and exits 1
if any failed.
"""
import json
import sys

SRD_ERRORS = {"truncated", "bad_version", "unknown_type", "bad_length", "bad_checksum",
              "bad_flags", "bad_segment", "bad_handshake"}
TYPES = {1: "DATA", 2: "ACK", 3: "NACK", 4: "PROBE", 5: "PROBE_ACK", 6: "CONNECT",
         7: "ACCEPT", 8: "CLOSE", 9: "RESET"}
MAGIC_REQUEST = 0x53505251
MAGIC_REPLY = 0x53505250

LIVE_COLUMNS = ["frame.number", "ip.src", "ip.dst", "udp.dstport", "srd.type", "srd.flags", "srd.dst_conn_id",
                "srd.src_conn_id", "srd.psn", "srd.initial_psn", "srd.next_psn", "srd.msg_id",
                "srd.msg_off", "srd.msg_len", "srd.payload_len", "sprayapp.magic",
                "sprayapp.conn_key", "sprayapp.seq", "sprayapp.reply_len"]

failures = 0


def check(ok, what):
    global failures
    if ok:
        print(f"ok: {what}")
    else:
        failures += 1
        print(f"FAIL: {what}")
    return ok


def flatten(node, out):
    """All field names below `node` with their values (tshark's JSON nests
    subtrees as NAME_tree and merges repeated keys into lists)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, (dict, list)) and (k.endswith("_tree") or k in ("_ws.expert",)):
                flatten(v, out)
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, (dict, list)):
                        flatten(x, out)
                    else:
                        out.setdefault(k, []).append(x)
            elif isinstance(v, dict):
                out.setdefault(k, []).append("")
                flatten(v, out)
            else:
                out.setdefault(k, []).append(v)
    elif isinstance(node, list):
        for x in node:
            flatten(x, out)
    return out


def as_int(s):
    return int(s, 0)


def samples(expect_path, decode_path, mode, other_port):
    expect = [json.loads(line) for line in open(expect_path)]
    frames = json.load(open(decode_path))
    check(len(frames) == len(expect), f"{len(frames)} frames decoded, {len(expect)} written")
    for e, fr in zip(expect, frames):
        layers = fr["_source"]["layers"]
        fields = flatten(layers, {})
        n = e["frame"]
        on_srd_port = e["udp_port"] == 4792
        srd_expected = (mode == "default" and on_srd_port) or (mode == "heuristic") or \
                       (mode == "port" and e["udp_port"] == other_port)
        name = f"[{mode}] frame {n} ({e['error']})"
        if not srd_expected:
            check("srd" not in layers, f"{name}: not taken for SRD")
            continue
        if not check("srd" in layers, f"{name}: decoded as SRD"):
            continue
        errors = {k.split(".")[-1] for k in fields if k.startswith("srd.expert.")} & SRD_ERRORS
        want = set() if e["error"] == "ok" else {e["error"]}
        check(errors == want, f"{name}: expert errors {sorted(errors)} == {sorted(want)}")
        check("_ws.malformed" not in layers and "_ws.lua.error" not in fields,
              f"{name}: no dissector exception")
        bad = []
        for k, v in e["fields"].items():
            got = fields.get(k)
            if got is None or len(got) != 1 or as_int(got[0]) != v:
                bad.append(f"{k}: want {v}, got {got}")
        check(not bad, f"{name}: {len(e['fields'])} fields match" + ("" if not bad else " — " + "; ".join(bad)))


def live(tsv_path, gen_json_path, count):
    rows = []
    for line in open(tsv_path):
        cols = line.rstrip("\n").split("\t")
        cols += [""] * (len(LIVE_COLUMNS) - len(cols))
        rows.append(dict(zip(LIVE_COLUMNS, cols)))
    srd = [r for r in rows if r["srd.type"]]
    check(len(srd) == len(rows) and len(rows) > 0,
          f"{len(rows)} UDP/4792 packets captured, all decoded as SRD")

    seen = {TYPES.get(as_int(r["srd.type"]), "?") for r in srd}
    want = {"CONNECT", "ACCEPT", "DATA", "ACK", "CLOSE"}
    check(want <= seen, f"types seen {sorted(seen)} include {sorted(want)}")

    # Handshakes: each side's id, its initial PSN, and who its peer is. Ids
    # are chosen per endpoint, so a connection end is (host address, id).
    initial_psn, peer_of = {}, {}
    for r in srd:
        t = as_int(r["srd.type"])
        if t in (6, 7):
            src = (r["ip.src"], as_int(r["srd.src_conn_id"]))
            initial_psn[src] = as_int(r["srd.initial_psn"])
            if t == 7:
                dst = (r["ip.dst"], as_int(r["srd.dst_conn_id"]))
                peer_of[src], peer_of[dst] = dst, src
    check(len(peer_of) > 0, f"{len(peer_of) // 2} connections accepted")

    # DATA, per receiving connection: PSN offsets from the sender's initial
    # PSN are exactly 0..n-1 (serial arithmetic, retransmissions folded).
    data = [r for r in srd if as_int(r["srd.type"]) == 1]
    by_conn = {}
    for r in data:
        conn = (r["ip.dst"], as_int(r["srd.dst_conn_id"]))
        by_conn.setdefault(conn, set()).add(as_int(r["srd.psn"]))
    for conn, psns in sorted(by_conn.items()):
        name = f"DATA to {conn[0]} 0x{conn[1]:08x}"
        sender = peer_of.get(conn)
        if not check(sender in initial_psn, f"{name}: its sender's handshake was captured"):
            continue
        base = initial_psn[sender]
        offs = sorted((p - base) % 2**32 for p in psns)
        check(offs == list(range(len(offs))),
              f"{name}: {len(offs)} PSNs contiguous from the initial PSN {base}")

    # Messages: the first segment of each carries the application header.
    first = {}
    for r in data:
        if r["sprayapp.magic"]:
            key = (r["ip.dst"], as_int(r["srd.dst_conn_id"]), as_int(r["srd.msg_id"]))
            first[key] = r
    requests = {k: r for k, r in first.items() if as_int(r["sprayapp.magic"]) == MAGIC_REQUEST}
    replies = {k: r for k, r in first.items() if as_int(r["sprayapp.magic"]) == MAGIC_REPLY}
    check(len(requests) == count, f"{len(requests)} distinct (conn, msg_id) requests == --count {count}")

    seqs = {}
    for r in requests.values():
        seqs.setdefault(as_int(r["sprayapp.conn_key"]), []).append(as_int(r["sprayapp.seq"]))
    for key, s in sorted(seqs.items()):
        check(sorted(s) == list(range(len(s))), f"conn_key {key}: request seqs are 0..{len(s) - 1}")
    check(sum(len(s) for s in seqs.values()) == count, f"request seqs add up to {count}")

    asked = {(as_int(r["sprayapp.conn_key"]), as_int(r["sprayapp.seq"])): as_int(r["sprayapp.reply_len"])
             for r in requests.values()}
    got = {}
    for r in replies.values():
        k = (as_int(r["sprayapp.conn_key"]), as_int(r["sprayapp.seq"]))
        got[k] = (as_int(r["srd.msg_len"]), as_int(r["sprayapp.reply_len"]))
    check(set(got) == set(asked), f"{len(got)} replies, one per request")
    wrong = [(k, asked[k], got[k]) for k in asked if k in got and not (got[k][0] == got[k][1] == asked[k])]
    check(not wrong, "every reply's msg_len and header reply_len equal the size its request asked for"
          + ("" if not wrong else f" — e.g. {wrong[:3]}"))
    check(len(set(asked.values())) > 1, f"{len(set(asked.values()))} different reply sizes asked for")
    multi = sum(1 for r in requests.values() if as_int(r["srd.msg_len"]) > as_int(r["srd.payload_len"]))
    check(multi > 0, f"{multi} requests span more than one segment")

    report = json.load(open(gen_json_path))
    m = report["messages"]
    check(m["completed"] == count and m["failed"] == 0,
          f"gen reports {m['completed']} completed, {m['failed']} failed")


def main(argv):
    if len(argv) >= 4 and argv[1] == "samples":
        mode, other = "default", 0
        if len(argv) > 4 and argv[4] == "--heuristic":
            mode = "heuristic"
        elif len(argv) > 5 and argv[4] == "--port":
            mode, other = "port", int(argv[5])
        samples(argv[2], argv[3], mode, other)
    elif len(argv) == 5 and argv[1] == "live":
        live(argv[2], argv[3], int(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
