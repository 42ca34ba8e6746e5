# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Connect, enable, Identify, logs and features against an I/O controller."""

import struct
import time

import nvme_tcp as nt
from conftest import ADDR

RAMDISK_BYTES = 16 * 1024 * 1024


def test_connect_and_identify_controller(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    c = t.controller()
    try:
        cap = c.admin.property_get(nt.REG_CAP, eight=True)
        assert (cap & 0xFFFF) + 1 >= 32, "CAP.MQES 0x%x" % cap
        assert cap & (1 << 37), "CAP.CSS does not include the NVM command set"
        vs = c.admin.property_get(nt.REG_VS)
        assert vs >= 0x10200, "VS 0x%x" % vs
        cc = c.admin.property_get(nt.REG_CC)
        assert cc & nt.CC_EN and (cc >> 16) & 0xF == 6 and (cc >> 20) & 0xF == 4
        assert c.admin.property_get(nt.REG_CSTS) & nt.CSTS_RDY

        idc = c.identify_controller()
        assert idc["subnqn"] == t.subnqn
        assert idc["cntlid"] == c.cntlid, "Identify CNTLID differs from Connect's"
        assert idc["cntrltype"] == 1, "not an I/O controller"
        assert idc["ioccsz"] >= 4, "IOCCSZ %d is less than an SQE" % idc["ioccsz"]
        assert idc["iorcsz"] >= 1
        assert idc["sgls"] & 0x3, "SGLS says SGLs are unsupported"
        assert idc["sgls"] & (1 << 20), "SGLS lacks offset support (in-capsule data)"
        assert idc["kas"] != 0, "KAS 0: keep-alive unsupported"
        assert 0 < idc["mdts"] <= 16
        assert idc["nn"] == 1
        assert idc["sqes"] & 0xF == 6 and idc["cqes"] & 0xF == 4
        assert idc["sn"] and idc["mn"]
        assert idc["maxcmd"] >= 32
    finally:
        c.close()


def test_identify_namespace_of_ramdisk_and_file(nvmfd, tmp_path):
    img = tmp_path / "ns2.img"
    img.write_bytes(b"")
    with open(img, "r+b") as f:
        f.truncate(3 * 1024 * 1024 + 4096 + 100)    # a partial block at the end
    t = nvmfd.start("ramdisk:16M", str(img))
    c = t.controller()
    try:
        idc = c.identify_controller()
        assert idc["nn"] == 2
        ns1 = nt.parse_identify_namespace(c.admin.identify(0, nsid=1).data)
        assert ns1["nsze"] == RAMDISK_BYTES // 512
        assert ns1["ncap"] == ns1["nsze"]
        assert ns1["lbads"] == 9
        ns2 = nt.parse_identify_namespace(c.admin.identify(0, nsid=2).data)
        assert ns2["nsze"] == img.stat().st_size // 512
        assert ns1["nguid"] != ns2["nguid"]

        # Active namespace list: both, ascending, zero-terminated.
        lst = struct.unpack("<1024I", c.admin.identify(2, nsid=0).data)
        assert lst[:3] == (1, 2, 0)
        lst = struct.unpack("<1024I", c.admin.identify(2, nsid=1).data)
        assert lst[:2] == (2, 0), "list must start after the given NSID"

        # Namespace identification descriptors: NGUID, UUID and CSI present.
        descs = nt.parse_ns_descriptors(c.admin.identify(3, nsid=1).data)
        assert 2 in descs and len(descs[2]) == 16 and descs[2] == ns1["nguid"]
        assert 3 in descs and len(descs[3]) == 16 and any(descs[3])
        assert 4 in descs and descs[4] == b"\x00", "CSI must be NVM (0)"
        descs2 = nt.parse_ns_descriptors(c.admin.identify(3, nsid=2).data)
        assert descs2[3] != descs[3], "two namespaces share a UUID"

        # An inactive NSID reads as zeroes; the descriptor list refuses it.
        assert not any(c.admin.identify(0, nsid=7).data)
        cqe = c.admin.identify(3, nsid=7, check=False)
        assert nt.sc(cqe.status) == 0x0B and nt.sct(cqe.status) == 0
    finally:
        c.close()


def test_log_pages_features_and_bad_opcodes(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    c = t.controller()
    try:
        smart = c.admin.get_log_page(nt.LOG_SMART, 512, check=True).data
        assert len(smart) == 512
        temp = struct.unpack_from("<H", smart, 1)[0]
        assert 200 < temp < 400, "composite temperature %d K" % temp
        err = c.admin.get_log_page(nt.LOG_ERROR, 64, check=True)
        assert err.status == 0

        cqe = c.admin.get_log_page(0xC7, 512)
        assert cqe.status == (nt.SC_INVALID_LOG_PAGE | nt.DNR), "status 0x%04x" % cqe.status

        # Number of Queues: ask for 4, the grant is reported zero-based in CDW0.
        cqe = c.admin.set_features(nt.FEAT_NUM_QUEUES, 3 | (3 << 16), check=True)
        nsq, ncq = (cqe.cdw0 & 0xFFFF) + 1, (cqe.cdw0 >> 16) + 1
        assert nsq == 4 and ncq == 4, "granted %d/%d" % (nsq, ncq)
        cqe = c.admin.get_features(nt.FEAT_NUM_QUEUES, check=True)
        assert (cqe.cdw0 & 0xFFFF) + 1 == 4

        # Keep Alive Timer through Set/Get Features.
        c.admin.set_features(nt.FEAT_KATO, 30000, check=True)
        assert c.admin.get_features(nt.FEAT_KATO, check=True).cdw0 == 30000
        c.admin.keep_alive()

        # An opcode the controller does not implement: an error, not a hang.
        cqe = c.admin.execute(nt.sqe(0xC3), timeout=2)
        assert cqe.status in (nt.SC_INVALID_OPCODE | nt.DNR, nt.SC_INVALID_OPCODE), \
            "status 0x%04x" % cqe.status
        cqe = c.admin.execute(nt.sqe(0x81), timeout=2)
        assert nt.sc(cqe.status) == 0x01 and nt.sct(cqe.status) == 0

        # The queue still works afterwards.
        assert c.admin.identify(1).status == 0
    finally:
        c.close()


def test_admin_commands_before_enable_are_refused(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller(enable=False)
    try:
        cqe = c.admin.identify(1, check=False)
        assert nt.sc(cqe.status) == 0x0C, "Identify before CC.EN: status 0x%04x" % cqe.status
        c.admin.enable()
        assert c.admin.identify(1).status == 0
    finally:
        c.close()


def test_controller_reset_deletes_io_queues_and_shutdown(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller()
    try:
        (io,) = c.connect_io(1)
        io.write(1, 0, b"\x77" * 512)
        # CC.EN 1 -> 0 is a controller reset: I/O queues go, the admin queue stays.
        # The reset is complete once CSTS.RDY reads 0: the host may enable the
        # controller and create I/O queues again straight away.
        c.admin.property_set(nt.REG_CC, (6 << 16) | (4 << 20))
        assert not c.admin.property_get(nt.REG_CSTS) & nt.CSTS_RDY
        old_io, c.io = io, []
        c.admin.enable()
        (io,) = c.connect_io(1)
        assert io.read(1, 0, 1) == b"\x77" * 512
        assert old_io.is_closed(timeout=2), "an I/O queue survived a controller reset"
        # Shutdown notification: CSTS.SHST reports shutdown complete.
        c.admin.property_set(nt.REG_CC, nt.CC_EN | (6 << 16) | (4 << 20) | (1 << 14))
        deadline = time.monotonic() + 2
        while (c.admin.property_get(nt.REG_CSTS) >> 2) & 3 != 2:
            assert time.monotonic() < deadline, "CSTS.SHST never reported completion"
            time.sleep(0.01)
    finally:
        c.close()


def test_async_event_requests_are_held_and_limited(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller()
    try:
        n = c.admin.identify(1).data[259] + 1           # AERL is zero-based
        held = [c.admin.submit(nt.sqe(0x0C)) for _ in range(n)]
        cqe = c.admin.execute(nt.sqe(0x0C), timeout=2)
        assert nt.sct(cqe.status) == 1 and nt.sc(cqe.status) == 0x05, \
            "AER beyond AERL: status 0x%04x" % cqe.status
        assert c.admin.keep_alive().status == 0
        assert not any(c.admin.cmds[cid].done for cid in held), "an AER completed without an event"
        # Leaving with AERs outstanding must not hurt the target (teardown checks it).
    finally:
        c.close()


def test_admin_disconnect_ends_the_association(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller()
    try:
        (io,) = c.connect_io(1)
        assert c.admin.disconnect().status == 0
        assert c.admin.is_closed(timeout=2)
        assert io.is_closed(timeout=2), "I/O queue outlived its admin queue's Disconnect"
        # The controller is gone: a new I/O queue for it is refused.
        q = t.queue()
        cqe = q.connect(t.subnqn, c.hostnqn, c.hostid, qid=1, cntlid=c.cntlid)
        assert cqe.status == 0x4182, hex(cqe.status)
        q.close()
    finally:
        c.close()
