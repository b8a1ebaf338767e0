#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen_corpus.py VQBENCH - write the small seed corpus of every harness into
fuzz/corpus/<harness>/ (a handful of tiny files each: valid inputs the
fuzzer mutates from). VQBENCH (a built vqbench) supplies one real CSV row
for the CSV and thresholds seeds. Rerun it when an input format changes.
"""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def put(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def split_ring(n, chains, region_iova=0x100000):
    """A split ring image of size n with the given chains: each chain is a
    list of (offset, len, write, indirect_entries or None)."""
    desc = bytearray(16 * n)
    avail = bytearray(6 + 2 * n)
    dev_off = (16 * n + 6 + 2 * n + 3) & ~3
    total = dev_off + 6 + 8 * n
    slot = 0
    heads = []
    for ch in chains:
        head = slot
        for k, (off, ln, wr) in enumerate(ch):
            more = k + 1 < len(ch)
            flags = (2 if wr else 0) | (1 if more else 0)
            struct.pack_into("<QIHH", desc, 16 * slot, region_iova + off, ln, flags, slot + 1 if more else 0)
            slot += 1
        heads.append(head)
    for i, h in enumerate(heads):
        struct.pack_into("<H", avail, 4 + 2 * i, h)
    struct.pack_into("<H", avail, 2, len(heads))
    img = bytearray(total)
    img[0:len(desc)] = desc
    img[16 * n:16 * n + len(avail)] = avail
    return bytes(img)


def packed_ring(n, chains, region_iova=0x100000):
    img = bytearray(16 * n + 8)
    pos = 0
    for cid, ch in enumerate(chains):
        for k, (off, ln, wr) in enumerate(ch):
            more = k + 1 < len(ch)
            flags = (2 if wr else 0) | (1 if more else 0) | (1 << 7)  # AVAIL, wrap 1
            struct.pack_into("<QIHH", img, 16 * pos, region_iova + off, ln, cid, flags)
            pos += 1
    return bytes(img)


def ring_dev():
    chains = [[(0, 12, 0), (64, 100, 0)], [(256, 64, 1)], [(512, 12, 0), (600, 200, 1)]]
    region = bytes(range(256)) * 4
    ops = bytes([0 | (7 << 2), 1 | (7 << 2), 0, 0, 0, 0, 0, 0, 0, 0, 0])
    # split, size 8 (1 << 3)
    put("fuzz_ring_dev", "split-3chains", bytes([0x04, 3]) + split_ring(8, chains) +
        struct.pack("<H", len(region)) + region + ops)
    # split with an indirect descriptor pointing into the region
    ind = bytearray(32)
    struct.pack_into("<QIHH", ind, 0, 0x100000 + 0x300, 12, 1, 1)
    struct.pack_into("<QIHH", ind, 16, 0x100000 + 0x320, 64, 2, 0)
    img = bytearray(split_ring(4, [[(0x200, 32, 0)]]))
    struct.pack_into("<QIHH", img, 0, 0x100000 + 0x200, 32, 4, 0)  # INDIRECT
    reg = bytearray(1024)
    reg[0x200:0x220] = ind
    put("fuzz_ring_dev", "split-indirect", bytes([0x02, 2]) + bytes(img) + struct.pack("<H", 1024) + bytes(reg) +
        bytes([0, 1 | 4, 0, 0, 0, 0]))
    # split with a loop (desc 0 -> 1 -> 0)
    img = bytearray(split_ring(4, [[(0, 8, 0), (8, 8, 0)]]))
    struct.pack_into("<H", img, 16 + 14, 0)
    struct.pack_into("<H", img, 16 + 12, 1)
    put("fuzz_ring_dev", "split-loop", bytes([0x00, 2]) + bytes(img) + struct.pack("<H", 64) + bytes(64) + bytes([0]))
    # packed, size 8
    put("fuzz_ring_dev", "packed-3chains", bytes([0x05, 7]) + packed_ring(8, chains) +
        struct.pack("<H", len(region)) + region + ops)
    put("fuzz_ring_dev", "packed-inorder-batch", bytes([0x1d, 15]) + packed_ring(16, chains * 2) +
        struct.pack("<H", len(region)) + region + ops + bytes([2, 5, 0, 2, 0xff, 0xff]) + ops)


def ring_drv():
    # flags, size, policy, fail_at, fail_n, then ops:
    #   add (op 0: n in bits 3..5, indirect bit 2): nw, then (buf, off, len) per buffer
    add2 = bytes([0 | (1 << 3), 1, 3, 0, 12, 5, 16, 64])
    add1i = bytes([0 | 4, 0, 7, 32, 100])
    legit = add2 + add1i + add2 + bytes([1, 2 | (7 << 3), 5, 5, 5, 4])
    for pol in range(8):
        put("fuzz_ring_drv", "split-pol%d" % pol, bytes([0x06, 3, pol, 0, 0]) + legit * 2)
        put("fuzz_ring_drv", "packed-pol%d" % pol, bytes([0x07, 8, pol, 0, 0]) + legit * 2)
    # forged used entry: split used ring idx += 1 with id 5
    forge = bytes([3, 0, 0, 8]) + struct.pack("<HHII", 0, 1, 5, 0)
    put("fuzz_ring_drv", "split-forged", bytes([0x02, 3, 0, 0, 0]) + add2 + bytes([1]) + forge + bytes([4]))
    put("fuzz_ring_drv", "split-fault3", bytes([0x02, 3, 1, 3, 1]) + legit * 3)
    put("fuzz_ring_drv", "packed-inorder", bytes([0x1d, 16, 0, 0, 0]) + legit * 3)


def opts():
    for i, argv in enumerate([
            ["--layout", "split,packed", "--descs", "1,4", "--policy", "full,compact"],
            ["--descs=mix", "--dma", "iommu", "--iommu", "lazy", "--packets", "1000"],
            ["--queue-size", "3", "--layout", "packed", "--cores", "0,1", "-q"],
            ["--check", "t.txt", "a.csv"],
            ["--device", "vhost-user:vu.sock", "--dir", "both", "--seconds", "0.5"]]):
        put("fuzz_opts", "argv%d" % i, b"\0".join(a.encode() for a in argv))


def csvs(vqbench):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.csv")
        subprocess.run([vqbench, "--layout", "split", "--descs", "1", "--policy", "full", "--device", "inline",
                        "--packets", "1000", "--reps", "1", "--warmup", "0", "-q", "--csv", path],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        row = open(path, "rb").read()
    put("fuzz_csv", "one-row", row)
    hdr, line = row.split(b"\n")[0], row.split(b"\n")[1]
    put("fuzz_csv", "quoted", hdr + b"\n" + line.replace(b",split,", b',"sp""l,it",') + b"\r\n\n")
    put("fuzz_csv", "short-row", hdr + b"\n1,2,3\n")
    t = (b"exact errors == 0\nexact footprint_bytes where layout=split,policy=full == 48614\n"
         b"count maps_per_pkt where policy=full <= 2 tol 5%\n"
         b"ratio mpps policy=full / policy=full where layout=split >= 0.5\n")
    put("fuzz_check", "bounds-and-row", t + b"\0" + row)
    put("fuzz_check", "bounds-only", t)
    put("fuzz_check", "bad-line", b"exact nosuch == 1\n")
    # an optional bound that matches nothing (skipped) and XML specials for the JUnit writer
    put("fuzz_check", "optional-xml", b"optional exact errors where error=<&\"'> == 0\n"
        b"exact footprint_bytes where layout=packed == 1\n")


def vu():
    def msg(req, flags, payload):
        return struct.pack("<III", req, flags, len(payload)) + payload
    put("fuzz_vu_msg", "replies", msg(1, 5, struct.pack("<Q", 0x130000000)) + msg(15, 5, struct.pack("<Q", 8)) +
        msg(11, 5, struct.pack("<II", 0, 7)))
    put("fuzz_vu_msg", "mem-table", msg(5, 1, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0x7f00, 4096, 0x7f00, 0)))
    put("fuzz_vu_msg", "vring", msg(8, 9, struct.pack("<II", 1, 256)) +
        msg(9, 1, struct.pack("<IIQQQQ", 1, 0, 0x1000, 0x2000, 0x3000, 0)) + msg(12, 1, struct.pack("<Q", 1)))


def vu_backend():
    def reply(req, payload):
        return struct.pack("<III", req, 5, len(payload)) + payload
    feats = (1 << 32) | (1 << 34) | (1 << 35) | (1 << 29) | (1 << 28) | (1 << 15) | (1 << 30)
    ack = lambda req: reply(req, struct.pack("<Q", 0))
    stream = reply(1, struct.pack("<Q", feats)) + reply(15, struct.pack("<Q", 1 << 3))
    stream += ack(2) + ack(5)
    for _ in range(2):
        stream += ack(8) + ack(10) + ack(9) + ack(12) + ack(13)
    stream += ack(18) + ack(18)
    put("fuzz_vu_backend", "reply-ack-full", bytes([0x07]) + stream)
    put("fuzz_vu_backend", "reply-ack-cut", bytes([0x00]) + stream[:70])
    put("fuzz_vu_backend", "no-protocol-features", bytes([0x01]) + reply(1, struct.pack("<Q", feats & ~(1 << 30))))
    put("fuzz_vu_backend", "refused-mem-table", bytes([0x00]) + stream[:stream.index(ack(5))] +
        reply(5, struct.pack("<Q", 1)))


def pci():
    cfg = bytearray(256)
    struct.pack_into("<HH", cfg, 0, 0x1af4, 0x1041)
    cfg[0] = 0xf5  # odd: the harness sets the capability-list bit
    cfg[6] = 0x10
    cfg[0x34] = 0x40
    caps = [(1, 4, 0x000, 0x38), (3, 4, 0x100, 4), (4, 4, 0x200, 0x40), (2, 4, 0x300, 0x100)]
    p = 0x40
    for i, (typ, bar, off, ln) in enumerate(caps):
        nxt = p + 20 if i + 1 < len(caps) else 0
        clen = 20 if typ == 2 else 16
        struct.pack_into("<BBBBBBBBII", cfg, p, 0x09, nxt, clen, typ, bar, 0, 0, 0, off, ln)
        if typ == 2:
            struct.pack_into("<I", cfg, p + 16, 4)
        p = nxt
    bars = [0, 0, 0, 0, 4096, 0]
    data = bytes([1]) + struct.pack("<H", 256) + b"".join(struct.pack("<H", b) for b in bars) + bytes(cfg)
    common = bytearray(4096)
    struct.pack_into("<H", common, 0x12, 3)  # num_queues
    struct.pack_into("<H", common, 0x18, 256)  # queue_size
    put("fuzz_virtio_pci", "modern-net", data + bytes(common) + bytes([0]) + struct.pack("<Q", 1 << 32))
    bars[4] = 0x200  # notify and device config outside the BAR
    put("fuzz_virtio_pci", "small-bar", bytes([1]) + struct.pack("<H", 256) +
        b"".join(struct.pack("<H", b) for b in bars) + bytes(cfg) + bytes(0x200))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ring_dev()
    ring_drv()
    opts()
    csvs(sys.argv[1])
    vu()
    vu_backend()
    pci()
    return 0


if __name__ == "__main__":
    sys.exit(main())
