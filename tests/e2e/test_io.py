# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""I/O: data written reads back identical, by every path the transport has."""

import os
import struct
import threading

import pytest

import nvme_tcp as nt

KIB = 1024
MIB = 1024 * 1024


def pattern(n, seed):
    """Deterministic, position-dependent data (a shifted block would not match)."""
    return nt.random_bytes(n, seed)


def roundtrip(q, slba, data, **kw):
    q.write(1, slba, data, **kw)
    back = q.read(1, slba, len(data) // 512)
    assert back == data, "read back differs at LBA %d (%d bytes)" % (slba, len(data))


CASES = {
    "default": dict(opts=(), digests=False, maxh2c=256 * KIB),
    "maxh2cdata-4096": dict(opts=("-H", "4096"), digests=False, maxh2c=4096),
    "digests": dict(opts=("-g", "-G"), digests=True, maxh2c=256 * KIB),
}


@pytest.mark.parametrize("case", list(CASES))
def test_write_read_back_every_path(nvmfd, case):
    cfg = CASES[case]
    t = nvmfd.start("ramdisk:8M", opts=cfg["opts"])
    c = t.controller(hdgst=cfg["digests"], ddgst=cfg["digests"])
    try:
        (q,) = c.connect_io(1)
        assert q.maxh2cdata == cfg["maxh2c"], "ICResp MAXH2CDATA %d" % q.maxh2cdata
        assert q.hdgst == cfg["digests"] and q.ddgst == cfg["digests"]
        assert c.admin.hdgst == cfg["digests"]

        # 512 bytes in the command capsule.
        roundtrip(q, 3, pattern(512, 1))
        assert q.stats["in_capsule"] == 1 and q.stats["r2t"] == 0

        # 64 KiB through R2T + H2CData.
        roundtrip(q, 100, pattern(64 * KIB, 2), in_capsule=False)
        assert q.stats["r2t"] == 1
        assert q.stats["h2c"] == -(-64 * KIB // cfg["maxh2c"])

        # 1 MiB (MDTS) through R2T, split by MAXH2CDATA.
        h2c_before = q.stats["h2c"]
        roundtrip(q, 4096, pattern(MIB, 3))
        assert q.stats["r2t"] == 2
        assert q.stats["h2c"] - h2c_before == MIB // cfg["maxh2c"]

        # Earlier data is untouched by later writes.
        assert q.read(1, 3, 1) == pattern(512, 1)
        assert q.read(1, 100, 128) == pattern(64 * KIB, 2)
    finally:
        c.close()


def test_digests_granted_as_nvmet_does_withheld_in_strict_mode(nvmfd):
    # Without -g/-G: granted when asked, as Linux nvmet and SPDK do.
    t = nvmfd.start("ramdisk:1M")
    c = t.controller(hdgst=True, ddgst=True)
    try:
        assert c.admin.hdgst and c.admin.ddgst, "digests asked for were not granted"
        (q,) = c.connect_io(1)
        assert q.hdgst and q.ddgst
        roundtrip(q, 0, pattern(8192, 4))
    finally:
        c.close()
    # --strict without -g/-G: FreeBSD's rule, not granted, and the log says so.
    t = nvmfd.start("ramdisk:1M", opts=("--strict",))
    c = t.controller(hdgst=True, ddgst=True)
    try:
        assert not c.admin.hdgst and not c.admin.ddgst, "digests granted without -g/-G"
        (q,) = c.connect_io(1)
        roundtrip(q, 0, pattern(8192, 4))
        t.wait_log(r"DGST 0x03 asks for header and data digests: not granted")
    finally:
        c.close()


def _worker(q, base, seed, errors):
    try:
        for i, size in enumerate((512, 4 * KIB, 16 * KIB, 128 * KIB)):
            roundtrip(q, base + i * 512, pattern(size, seed * 10 + i))
    except Exception as e:  # noqa: BLE001 - reported by the main thread
        errors.append("queue %d: %r" % (q.qid, e))


@pytest.mark.parametrize("nqueues", [2, 4])
def test_io_queues_concurrently(nvmfd, nqueues):
    t = nvmfd.start("ramdisk:16M")
    c = t.controller()
    try:
        qs = c.connect_io(nqueues)
        assert [q.qid for q in qs] == list(range(1, nqueues + 1))
        errors = []
        threads = [threading.Thread(target=_worker, args=(q, 4096 * i, i + 1, errors))
                   for i, q in enumerate(qs)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert not any(th.is_alive() for th in threads), "an I/O queue hung"
        assert not errors, errors
        # Every queue's data is visible through every other queue.
        for i in range(nqueues):
            assert qs[(i + 1) % nqueues].read(1, 4096 * i, 1) == pattern(512, (i + 1) * 10)
    finally:
        c.close()


def test_32_commands_in_flight_on_one_queue(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    c = t.controller()
    try:
        (q,) = c.connect_io(1, sqsize=127)
        # 32 writes at once: in-capsule and R2T mixed, answered in any order.
        blobs = {}
        cids = []
        for i in range(32):
            size = (4 * KIB) if i % 2 else (32 * KIB)
            data = pattern(size, 100 + i)
            slba = i * 128
            blobs[slba] = data
            cids.append(q.submit(q.write_cmd(1, slba, size // 512), data))
        assert len(q.cmds) == 32
        for cqe in q.wait_all(cids, timeout=15):
            assert cqe.status == 0, cqe
        assert q.stats["r2t"] == 16 and q.stats["in_capsule"] == 16
        # 32 reads at once.
        cids = {q.submit(q.read_cmd(1, slba, len(d) // 512), read_len=len(d)): slba
                for slba, d in blobs.items()}
        done = q.wait_all(list(cids), timeout=15)
        for cqe in done:
            assert cqe.status == 0, cqe
            assert cqe.data == blobs[cids[cqe.cid]], "read of LBA %d differs" % cids[cqe.cid]
    finally:
        c.close()


def test_out_of_range_and_invalid_namespace(nvmfd):
    t = nvmfd.start("ramdisk:1M")        # 2048 blocks
    c = t.controller()
    try:
        (q,) = c.connect_io(1)
        nblocks = nt.parse_identify_namespace(c.admin.identify(0, nsid=1).data)["nsze"]
        assert nblocks == 2048
        cqe = q.write(1, nblocks, pattern(512, 5), check=False)
        assert nt.sct(cqe.status) == 0 and nt.sc(cqe.status) == 0x80, hex(cqe.status)
        cqe = q.write(1, nblocks - 1, pattern(1024, 5), check=False)
        assert nt.sc(cqe.status) == 0x80, "write across the end: 0x%04x" % cqe.status
        cqe = q.read(1, nblocks + 10, 1, check=False)
        assert nt.sct(cqe.status) == 0 and nt.sc(cqe.status) == 0x80, hex(cqe.status)
        cqe = q.read(1, 1 << 40, 8, check=False)
        assert nt.sc(cqe.status) == 0x80, hex(cqe.status)

        for nsid in (0, 2, 0xFFFFFFF0):
            cqe = q.execute(q.read_cmd(nsid, 0, 1), read_len=512)
            assert nt.sct(cqe.status) == 0 and nt.sc(cqe.status) == 0x0B, \
                "nsid %#x: status 0x%04x" % (nsid, cqe.status)
            cqe = q.execute(q.write_cmd(nsid, 0, 1), pattern(512, 6))
            assert nt.sc(cqe.status) == 0x0B, "nsid %#x: 0x%04x" % (nsid, cqe.status)

        # The last block is in range, and the queue still works.
        roundtrip(q, nblocks - 1, pattern(512, 7))
    finally:
        c.close()


def test_completions_report_queue_and_head(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller()
    try:
        (q,) = c.connect_io(1, sqsize=15)          # 16 entries: SQHD wraps
        heads = []
        for i in range(40):
            cqe = q.write(1, i, pattern(512, 300 + i))
            assert cqe.sqid == 1, "SQID %d on I/O queue 1" % cqe.sqid
            heads.append(cqe.sqhd)
        assert all(h < 16 for h in heads), heads
        # One command at a time: the head moves one entry per command, modulo 16.
        steps = {(b - a) % 16 for a, b in zip(heads, heads[1:])}
        assert steps == {1}, heads
        assert c.admin.keep_alive().sqid == 0
    finally:
        c.close()


def test_sq_flow_control_disabled_with_permission(nvmfd):
    t = nvmfd.start("ramdisk:4M", opts=("-F",))
    c = t.controller()
    try:
        (q,) = c.connect_io(1, disable_sq_fc=True)
        data = pattern(128 * KIB, 8)
        cqe = q.write(1, 0, data)
        assert cqe.sqhd == 0xFFFF, "SQHD 0x%x with SQ flow control disabled" % cqe.sqhd
        # Reads may finish with the C2HData SUCCESS flag instead of a response.
        cids = [q.submit(q.read_cmd(1, 0, 256), read_len=len(data)) for _ in range(8)]
        for cqe in q.wait_all(cids):
            assert cqe.status == 0 and cqe.data == data
        c.admin.keep_alive()
    finally:
        c.close()

    t2 = nvmfd.start("ramdisk:4M", opts=("--strict",))     # strict without -F: refused
    c2 = t2.controller()
    try:
        c2.identify_controller()
        c2.set_num_queues(1)
        q = t2.queue()
        cqe = q.connect(t2.subnqn, c2.hostnqn, c2.hostid, qid=1, cntlid=c2.cntlid, cattr=4)
        assert nt.sct(cqe.status) == 1 and nt.sc(cqe.status) == 0x82, hex(cqe.status)
        q.close()
    finally:
        c2.close()


@pytest.mark.parametrize("hpda", [1, 3])
def test_host_pdu_data_alignment(nvmfd, hpda):
    t = nvmfd.start("ramdisk:1M", opts=("-g",))
    c = t.controller(hpda=hpda, hdgst=(hpda == 3))
    try:
        (q,) = c.connect_io(1)
        data = pattern(64 * KIB, 9)
        q.write(1, 0, data)
        # The client checks every C2HData PDO against HPDA.
        assert q.read(1, 0, 128) == data
        assert q.stats["c2h"] >= 1
        assert nt.parse_identify_controller(c.admin.identify(1).data)["cntlid"] == c.cntlid
    finally:
        c.close()


def test_4k_blocks_and_sparse_namespace_ids(nvmfd, tmp_path):
    from conftest import ADDR, free_port, new_nqn
    img = tmp_path / "4k.img"
    with open(img, "wb") as f:
        f.truncate(2 * MIB + 4096 + 1000)          # not a whole number of 4 KiB blocks
    port = free_port()
    nqn = new_nqn()
    nvmfd.start_config({
        "listen": [{"address": ADDR, "port": port}],
        "subsystems": [{"nqn": nqn, "namespaces": [
            {"nsid": 1, "device": "ramdisk:1M"},
            {"nsid": 5, "device": str(img), "block_size": 4096}]}],
    })
    c = nt.Controller(ADDR, port, nqn)
    try:
        idc = c.identify_controller()
        assert idc["nn"] >= 5
        lst = struct.unpack("<1024I", c.admin.identify(2).data)
        assert lst[:3] == (1, 5, 0), lst[:3]
        ns5 = nt.parse_identify_namespace(c.admin.identify(0, nsid=5).data)
        assert ns5["lbads"] == 12
        assert ns5["nsze"] == (2 * MIB + 4096) // 4096
        assert not any(c.admin.identify(0, nsid=3).data)

        (q,) = c.connect_io(1)
        data = pattern(3 * 4096, 10)
        q.execute(q.write_cmd(5, 2, 3), data, check="Write")
        assert q.read(5, 2, 3, block_size=4096) == data
        with open(img, "rb") as f:
            f.seek(2 * 4096)
            assert f.read(len(data)) == data, "4 KiB LBA 2 is not at byte 8192 of the file"
        last = ns5["nsze"] - 1
        q.execute(q.write_cmd(5, last, 1), pattern(4096, 11), check="Write")
        cqe = q.execute(q.write_cmd(5, last + 1, 1), pattern(4096, 11))
        assert nt.sc(cqe.status) == 0x80, hex(cqe.status)
        # A transfer that is not NLB blocks long is refused.
        cqe = q.execute(q.write_cmd(5, 0, 2), pattern(4096, 12))
        assert cqe.status != 0, "a 4 KiB transfer for 2 blocks of 4 KiB succeeded"
        cqe = q.execute(q.read_cmd(3, 0, 1), read_len=512)
        assert nt.sc(cqe.status) == 0x0B, hex(cqe.status)
        roundtrip(q, 7, pattern(1024, 13))           # namespace 1 is 512-byte
    finally:
        c.close()


def test_transfers_the_transport_refuses(nvmfd):
    """Errors, not hangs: beyond MDTS, PRPs instead of an SGL, a bad SGL type."""
    t = nvmfd.start("ramdisk:8M")
    c = t.controller()
    try:
        mdts = c.identify_controller()["mdts"]
        cap = c.admin.property_get(nt.REG_CAP, eight=True)
        mps_min = 4096 << ((cap >> 48) & 0xF)
        max_bytes = mps_min << mdts
        (q,) = c.connect_io(1)
        nlb = max_bytes // 512 + 1
        if nlb <= 0x10000:
            cqe = q.execute(q.read_cmd(1, 0, nlb), read_len=nlb * 512, timeout=3)
            assert cqe.status != 0, "a read of %d bytes (MDTS %d) succeeded" % (nlb * 512,
                                                                                mdts)
            cqe = q.execute(q.write_cmd(1, 0, nlb), bytes(nlb * 512), in_capsule=False,
                            timeout=3)
            assert cqe.status != 0 and q.stats["r2t"] == 0, \
                "a write beyond MDTS was accepted (status 0x%04x)" % cqe.status
        # PSDT 00b (PRPs) is not for fabrics: Invalid Field.
        cmd = q.read_cmd(1, 0, 1)
        cmd[1] = 0
        cqe = q.execute(cmd, read_len=512, timeout=3)
        assert nt.sct(cqe.status) == 0 and nt.sc(cqe.status) == 0x02, hex(cqe.status)
        # A second Connect on a connected queue: Command Sequence Error.
        cqe = c.admin.connect(t.subnqn, c.hostnqn, c.hostid)
        assert nt.sc(cqe.status) == 0x0C and nt.sct(cqe.status) == 0, hex(cqe.status)
        # Everything still works.
        data = pattern(4096, 77)
        q.write(1, 0, data)
        assert q.read(1, 0, 8) == data
    finally:
        c.close()
