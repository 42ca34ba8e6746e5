# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmfd's data path: RAM namespaces sent from and received into the ramdisk
itself, file namespaces through io_uring (or pread/pwrite when it is off),
C2H data sent from the buffer. Each test would catch a wrong offset, a short
transfer not finished, a buffer reused too early or a completion sent before
its I/O: the data is checked, on the wire and in the backing file."""

import json
import os
import signal
import socket
import struct
import threading
import time

import pytest

import nvme_tcp as nt

KIB = 1024
MIB = 1024 * 1024
FILE_SIZE = 32 * MIB

# Every backing and both ways of doing file I/O: io_uring (the default) and
# the synchronous fallback nvmfd takes where io_uring is unavailable.
BACKINGS = ["ram", "file-uring", "file-sync"]
URING_LINE = r"file I/O: io_uring, one ring per connection"
SYNC_LINE = r"file I/O: synchronous pread/pwrite \(io_uring disabled by NVMFD_NO_URING\)"

# 512 B to 1 MiB (MDTS), around the in-capsule limit (8 KiB), the receive
# path's direct threshold (16 KiB), MAXH2CDATA (256 KiB) and the 4 KiB pages.
SIZES = [1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 255, 256, 511, 512, 513,
         1023, 1024, 2047, 2048]


def start(nvmfd, tmp_path, backing, monkeypatch, opts=()):
    """A target on the backing; returns (target, image path or None)."""
    if backing == "file-sync":
        monkeypatch.setenv("NVMFD_NO_URING", "1")
    else:
        monkeypatch.delenv("NVMFD_NO_URING", raising=False)
    if backing == "ram":
        return nvmfd.start("ramdisk:%dM" % (FILE_SIZE // MIB), opts=opts), None
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.write(nt.random_bytes(FILE_SIZE, 7))
    return nvmfd.start(str(img), opts=opts), img


def file_bytes(path, off, n):
    with open(path, "rb") as f:
        return os.pread(f.fileno(), n, off)


def expect_path_logged(t, backing):
    if backing == "file-uring":
        t.wait_log(URING_LINE)
    elif backing == "file-sync":
        t.wait_log(SYNC_LINE)
        assert "file I/O: io_uring" not in t.log()


@pytest.mark.parametrize("backing", BACKINGS)
def test_every_size_at_unaligned_offsets(nvmfd, tmp_path, monkeypatch, backing):
    t, img = start(nvmfd, tmp_path, backing, monkeypatch)
    c = t.controller()
    try:
        (q,) = c.connect_io(1)
        slba = 3                          # odd: never 4 KiB aligned
        for i, nlb in enumerate(SIZES):
            # Twice, different data: a RAM write lands through a copy the first
            # time (memory not faulted in yet) and in place the second.
            for gen in (0, 1):
                data = nt.random_bytes(nlb * 512, 1000 * i + gen)
                # Small writes both in the capsule and through R2T.
                q.write(1, slba, data, in_capsule=False if gen else None)
                back = q.read(1, slba, nlb)
                assert back == data, "%d blocks at LBA %d read back differ" % (nlb, slba)
                if img is not None:
                    assert file_bytes(img, slba * 512, len(data)) == data, \
                        "%d blocks at LBA %d: the file holds other data" % (nlb, slba)
            slba += nlb + 5
        # Nothing written later spilled over an earlier range.
        slba = 3
        for i, nlb in enumerate(SIZES):
            assert q.read(1, slba, nlb) == nt.random_bytes(nlb * 512, 1000 * i + 1), \
                "%d blocks at LBA %d changed after later writes" % (nlb, slba)
            slba += nlb + 5
        expect_path_logged(t, backing)
    finally:
        c.close()


def test_ram_never_written_reads_zeroes_beside_written_data(nvmfd):
    """Reads of RAM nobody wrote are sent from one zeroed buffer, the rest from
    the ramdisk (2 MiB chunks, marked when first written): a read across the
    border of a written and an unwritten chunk, and reads after writes by
    every path (in place, through a copy, Write Zeroes), return what a disk
    would."""
    t = nvmfd.start("ramdisk:%dM" % (FILE_SIZE // MIB))
    c = t.controller()
    try:
        (q,) = c.connect_io(1)
        chunk = 2 * MIB // 512                      # blocks per chunk
        # Fresh: 1 MiB reads anywhere, and one at the very end, are zeroes.
        for slba in (0, 5 * chunk - 1024, FILE_SIZE // 512 - 2048):
            assert q.read(1, slba, 2048) == bytes(MIB), "LBA %d: fresh RAM not zero" % slba
        # Chunk 5 written at its start (a copy: not faulted in yet), then in place.
        first = nt.random_bytes(64 * KIB, 51)
        second = nt.random_bytes(64 * KIB, 52)
        q.write(1, 5 * chunk, first)
        assert q.read(1, 5 * chunk, 128) == first
        q.write(1, 5 * chunk + 128, second)
        # 1 MiB across the border: 512 KiB of unwritten chunk 4, then chunk 5.
        back = q.read(1, 5 * chunk - 1024, 2048)
        assert back[:512 * KIB] == bytes(512 * KIB), "unwritten chunk 4 not zero"
        assert back[512 * KIB:576 * KIB] == first and back[576 * KIB:640 * KIB] == second
        assert back[640 * KIB:] == bytes(384 * KIB), "unwritten blocks of chunk 5 not zero"
        # Write Zeroes over written data, and into an unwritten chunk.
        q.write_zeroes(1, 5 * chunk + 128, 128)
        q.write_zeroes(1, 9 * chunk, 8)
        assert q.read(1, 5 * chunk, 256) == first + bytes(64 * KIB)
        assert q.read(1, 9 * chunk, 2048) == bytes(MIB)
        # Unwritten chunks stay zero after all that.
        assert q.read(1, 7 * chunk, 2048) == bytes(MIB)
    finally:
        c.close()


@pytest.mark.parametrize("backing", ["ram", "file-uring"])
def test_data_digests_keep_data_out_of_place(nvmfd, tmp_path, monkeypatch, backing):
    """With data digests a write is not received in place, and one whose digest
    fails leaves the blocks as they were."""
    t, img = start(nvmfd, tmp_path, backing, monkeypatch, opts=("-g", "-G"))
    c = t.controller(hdgst=True, ddgst=True)
    try:
        (q,) = c.connect_io(1)
        for gen in (0, 1):                 # the second time the RAM is faulted in
            good = nt.random_bytes(8 * KIB, 50 + gen)
            q.write(1, 1001, good)
            assert q.read(1, 1001, 16) == good
            big = nt.random_bytes(MIB, 70 + gen)
            q.write(1, 3001, big)
            assert q.read(1, 3001, 2048) == big
        bad = nt.random_bytes(8 * KIB, 60)
        cid = q.submit(q.write_cmd(1, 1001, 16), bad, in_capsule=True, corrupt_ddgst=True)
        cqe = q.wait(cid)
        assert cqe.status != 0, "a write with a bad data digest succeeded"
        assert q.read(1, 1001, 16) == good, "a write whose digest failed changed the blocks"
    finally:
        c.close()


@pytest.mark.parametrize("backing", BACKINGS)
def test_concurrent_queues_deep(nvmfd, tmp_path, monkeypatch, backing):
    """Four queues, each with 32 commands in flight of mixed sizes: every
    write lands where it was sent, every read returns its own range."""
    t, img = start(nvmfd, tmp_path, backing, monkeypatch)
    c = t.controller()
    errors = []
    try:
        queues = c.connect_io(4)

        def run(qi, q):
            try:
                base = 1 + qi * (FILE_SIZE // 512 // 4)
                plan, slba = [], base
                for k in range(32):
                    nlb = (1, 8, 9, 64, 256, 257, 2048)[k % 7]
                    plan.append((slba, nlb, nt.random_bytes(nlb * 512, qi * 100 + k)))
                    slba += nlb + 1
                for rnd in range(2):
                    cids = [q.submit(q.write_cmd(1, s, n), d) for s, n, d in plan]
                    assert all(e.status == 0 for e in q.wait_all(cids, timeout=30))
                    cids = [q.submit(q.read_cmd(1, s, n), read_len=n * 512)
                            for s, n, _ in plan]
                    for (s, n, d), cqe in zip(plan, q.wait_all(cids, timeout=30)):
                        assert cqe.status == 0 and cqe.data == d, \
                            "queue %d: %d blocks at LBA %d differ" % (qi + 1, n, s)
                    if img is not None:
                        for s, n, d in plan:
                            assert file_bytes(img, s * 512, len(d)) == d
            except Exception as e:            # reported by the main thread
                errors.append("queue %d: %r" % (qi + 1, e))

        threads = [threading.Thread(target=run, args=(i, q)) for i, q in enumerate(queues)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert not errors, errors
    finally:
        c.close()


@pytest.mark.parametrize("backing", ["file-uring", "file-sync"])
def test_fua_flush_zeroes_deallocate_reach_the_file(nvmfd, tmp_path, monkeypatch, backing):
    t, img = start(nvmfd, tmp_path, backing, monkeypatch)
    c = t.controller()
    try:
        (q,) = c.connect_io(1)
        # FUA: in the file when the completion arrives, each size.
        slba = 5
        for nlb in (1, 8, 33, 256, 2048):
            data = nt.random_bytes(nlb * 512, nlb)
            q.write(1, slba, data, fua=True)
            assert file_bytes(img, slba * 512, len(data)) == data, "FUA write not in the file"
            slba += nlb + 3
        q.flush(1)
        # FUA Write Zeroes, then a Dataset Management of several ranges.
        cmd = nt.sqe(nt.IO_WRITE_ZEROES, nsid=1, cdw10=20000, cdw12=(300 - 1) | nt.RW_FUA)
        assert q.execute(cmd).status == 0
        assert file_bytes(img, 20000 * 512, 300 * 512) == bytes(300 * 512)
        ranges = [(30000 + 1000 * i, 17 + i) for i in range(8)]
        before = file_bytes(img, 29000 * 512, 10000 * 512)
        q.deallocate(1, ranges)
        after = file_bytes(img, 29000 * 512, 10000 * 512)
        want = bytearray(before)
        for s, n in ranges:
            lo = (s - 29000) * 512
            want[lo:lo + n * 512] = bytes(n * 512)
        assert after == bytes(want), "deallocate changed other blocks, or missed some"
        for s, n in ranges:
            assert q.read(1, s, n) == bytes(n * 512)
        expect_path_logged(t, backing)
    finally:
        c.close()


def block_data(block, gen):
    """A 4 KiB block naming itself: its number and generation in every 16 bytes."""
    return struct.pack("<QQ", block, gen) * 256


@pytest.mark.parametrize("backing", ["file-uring", "file-sync"])
def test_kill_mid_io_leaves_acknowledged_blocks_whole(nvmfd, tmp_path, monkeypatch, backing):
    """nvmfd killed (SIGKILL) with writes in flight: every write it acknowledged
    is whole in the file; none is half old, half new."""
    t, img = start(nvmfd, tmp_path, backing, monkeypatch)
    with open(img, "wb") as f:          # a known state: generation 0 everywhere
        for b in range(FILE_SIZE // 4096):
            f.write(block_data(b, 0))
    c = t.controller(timeout=2.0)
    (q,) = c.connect_io(1)
    acked = {}                          # first block -> (blocks, generation)
    stop = threading.Event()
    failure = []

    def writer():
        gen, k = 1, 0
        inflight = {}
        try:
            while not stop.is_set():
                while len(inflight) < 16:
                    # Never two writes to one block in flight: their order is the target's.
                    first = (k % (FILE_SIZE // 4096 // 64)) * 64
                    n = (1, 4, 32, 64)[k % 4]
                    data = b"".join(block_data(first + i, gen) for i in range(n))
                    cid = q.submit(q.write_cmd(1, first * 8, n * 8, fua=k % 3 == 0), data)
                    inflight[cid] = (first, n, gen)
                    k += 1
                    gen += 1
                q.process_one(2.0)
                for cid in [x for x in inflight if q.cmds[x].done]:
                    first, n, g = inflight.pop(cid)
                    if q.wait(cid).status == 0:
                        acked[(first, n)] = g
        except (nt.NvmeTcpError, OSError):
            pass                        # the target is gone: expected
        except Exception as e:
            failure.append(repr(e))

    th = threading.Thread(target=writer)
    th.start()
    time.sleep(1.0)
    t.proc.send_signal(signal.SIGKILL)
    t.proc.wait(10)
    t.stopped = True                    # killed on purpose: not a crash
    stop.set()
    th.join(10)
    q.close()
    c.admin.close()
    assert not failure, failure
    assert len(acked) > 20, "too few writes before the kill (%d)" % len(acked)

    # The newest acknowledged generation of each block: the file must hold it,
    # or a newer one from a write in flight, whole.
    newest = {}
    for (first, n), g in acked.items():
        for b in range(first, first + n):
            newest[b] = max(newest.get(b, 0), g)
    with open(img, "rb") as f:
        for b, g in newest.items():
            got = os.pread(f.fileno(), 4096, b * 4096)
            blk, ggen = struct.unpack_from("<QQ", got)
            assert got == block_data(blk, ggen), "block %d is torn" % b
            assert blk == b and ggen >= g, \
                "block %d holds generation %d, acknowledged %d" % (b, ggen, g)


def test_reads_of_ram_stay_valid_across_reload(nvmfd):
    """A RAM read is sent from the ramdisk's memory: a reload removing the
    namespace while reads are queued must not unmap what is being sent
    (the ASan build would see it)."""
    port = free_port()
    nqn = "nqn.2024-01.io.nvmf.e2e:reload-ram"
    cfg = {"listen": [{"address": "127.0.0.1", "port": port}],
           "subsystems": [{"nqn": nqn, "namespaces": [{"device": "ramdisk:64M"}]}]}
    t = nvmfd.start_config(cfg)
    c = t.controller()
    try:
        (q,) = c.connect_io(1)
        data = nt.random_bytes(MIB, 3)
        q.write(1, 0, data)
        q.write(1, 0, data)               # now in place
        cids = [q.submit(q.read_cmd(1, 0, 2048), read_len=MIB) for _ in range(24)]
        cfg["subsystems"][0]["namespaces"] = [{"device": "ramdisk:4M", "nsid": 2}]
        with open(t.args[t.args.index("-c") + 1], "w") as f:
            json.dump(cfg, f)
        t.proc.send_signal(signal.SIGHUP)
        for cqe in q.wait_all(cids, timeout=30):
            assert cqe.status != 0 or cqe.data == data
        t.wait_log(r"reload: ", timeout=5)
    finally:
        c.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
