# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Fabrics Connect: who may connect to what, and when."""

import re
import threading
import time

import nvme_tcp as nt
from conftest import ADDR, free_port, new_nqn


def test_host_not_in_allowed_hosts_is_refused(nvmfd):
    port = free_port()
    allowed, stranger = nt.host_nqn(), nt.host_nqn()
    nqn = new_nqn("private")
    t = nvmfd.start_config({
        "listen": [{"address": ADDR, "port": port}],
        "subsystems": [{"nqn": nqn, "allowed_hosts": [allowed],
                        "namespaces": [{"device": "ramdisk:1M"}]}],
    })
    q = t.queue()
    try:
        cqe = q.connect(nqn, stranger, nt.new_hostid())
        assert cqe.status == 0x4184, "Connect from a foreign host: status 0x%04x" % cqe.status
        assert nt.sct(cqe.status) == 1 and nt.sc(cqe.status) == 0x84 and nt.dnr(cqe.status)
    finally:
        q.close()
    t.wait_log(re.escape(stranger))

    c = nt.Controller(ADDR, port, nqn, hostnqn=allowed)
    try:
        (io,) = c.connect_io(1)
        io.write(1, 0, b"\xa5" * 512)
        assert io.read(1, 0, 1) == b"\xa5" * 512
    finally:
        c.close()


def test_unknown_subnqn_is_invalid_parameters(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    q = t.queue()
    try:
        cqe = q.connect("nqn.2024-01.io.nvmf.e2e:no-such-subsystem", nt.host_nqn(),
                        nt.new_hostid())
        assert nt.sct(cqe.status) == 1 and nt.sc(cqe.status) == 0x82, hex(cqe.status)
        assert nt.dnr(cqe.status)
        # Connect Invalid Parameters points at the offending field: IPO (bits 15:0)
        # 256, SUBNQN, IATTR (bits 23:16) 1, in the Connect data.
        assert cqe.cdw0 & 0xFFFF == 256 and (cqe.cdw0 >> 16) & 0xFF == 1, hex(cqe.cdw0)
    finally:
        q.close()
    # The discovery port serves only the discovery subsystem.
    q = t.queue(port=t.dport)
    try:
        cqe = q.connect(t.subnqn, nt.host_nqn(), nt.new_hostid())
        assert nt.sct(cqe.status) == 1 and nt.sc(cqe.status) == 0x82, hex(cqe.status)
    finally:
        q.close()


def _ipo_iattr(cqe):
    return cqe.cdw0 & 0xFFFF, (cqe.cdw0 >> 16) & 0xFF


def test_io_connect_with_wrong_cntlid_or_host(nvmfd):
    # --strict: by default another Host Identifier and a QID beyond the granted
    # count are served as nvmet does (test_interop.py covers both modes).
    t = nvmfd.start("ramdisk:1M", opts=("--strict",))
    c = t.controller()
    try:
        c.identify_controller()
        c.set_num_queues(2)
        q = t.queue()
        cqe = q.connect(t.subnqn, c.hostnqn, c.hostid, qid=1, cntlid=(c.cntlid + 5) & 0xFFEF)
        assert cqe.status == 0x4182, "I/O Connect to a wrong CNTLID: 0x%04x" % cqe.status
        assert _ipo_iattr(cqe) == (16, 1), hex(cqe.cdw0)
        q.close()
        q = t.queue()
        cqe = q.connect(t.subnqn, nt.host_nqn(), c.hostid, qid=1, cntlid=c.cntlid)
        assert cqe.status == 0x4182, "I/O Connect from another host NQN: 0x%04x" % cqe.status
        assert _ipo_iattr(cqe) == (512, 1), hex(cqe.cdw0)
        q.close()
        q = t.queue()
        cqe = q.connect(t.subnqn, c.hostnqn, nt.new_hostid(), qid=1, cntlid=c.cntlid)
        assert cqe.status == 0x4182, "I/O Connect with another host ID: 0x%04x" % cqe.status
        assert _ipo_iattr(cqe) == (0, 1), hex(cqe.cdw0)
        q.close()
        # Beyond the granted queue count.
        q = t.queue()
        cqe = q.connect(t.subnqn, c.hostnqn, c.hostid, qid=3, cntlid=c.cntlid)
        assert nt.sct(cqe.status) == 1 and nt.sc(cqe.status) == 0x82, hex(cqe.status)
        assert _ipo_iattr(cqe) == (42, 0), hex(cqe.cdw0)
        q.close()
        # The right one works, once.
        q = t.queue()
        assert q.connect(t.subnqn, c.hostnqn, c.hostid, qid=1, cntlid=c.cntlid).status == 0
        q2 = t.queue()
        cqe = q2.connect(t.subnqn, c.hostnqn, c.hostid, qid=1, cntlid=c.cntlid)
        assert cqe.status != 0, "a second connection took the same queue ID"
        q2.close()
        q.close()
    finally:
        c.close()


def test_io_connect_before_enable_is_a_sequence_error(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller(enable=False)
    try:
        q = t.queue()
        cqe = q.connect(t.subnqn, c.hostnqn, c.hostid, qid=1, cntlid=c.cntlid)
        assert nt.sct(cqe.status) == 0 and nt.sc(cqe.status) == 0x0C, \
            "I/O Connect before CC.EN: status 0x%04x" % cqe.status
        q.close()
        c.admin.enable()
        (io,) = c.connect_io(1)
        io.write(1, 0, bytes(512))
    finally:
        c.close()


def test_associations_do_not_block_each_other(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    a = t.controller()
    b = t.controller()
    try:
        assert a.cntlid != b.cntlid
        (qa,) = a.connect_io(1)
        (qb,) = b.connect_io(1)

        # A starts a 1 MiB write and sits on the R2T: its command stays open.
        big = nt.random_bytes(1024 * 1024, 1)
        cid = qa.submit(qa.write_cmd(1, 0, 2048), big, in_capsule=False)

        # Meanwhile B, and A's own admin queue, are served promptly.
        t0 = time.monotonic()
        for i in range(20):
            data = nt.random_bytes(16 * 1024, 100 + i)
            qb.write(1, 4096 + i * 32, data)
            assert qb.read(1, 4096 + i * 32, 32) == data
        b.admin.keep_alive()
        a.admin.keep_alive()
        assert time.monotonic() - t0 < 3, "B was held up while A's transfer was pending"

        # A finishes its transfer; both see each other's data.
        assert qa.wait(cid).status == 0
        assert qb.read(1, 0, 2048) == big
        assert qa.read(1, 4096, 32) == nt.random_bytes(16 * 1024, 100)

        # Both at full speed at once.
        errors = []

        def run(q, base, seed):
            try:
                for i in range(10):
                    d = nt.random_bytes(64 * 1024, seed + i)
                    q.write(1, base + i * 128, d)
                    assert q.read(1, base + i * 128, 128) == d
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        ths = [threading.Thread(target=run, args=(qa, 8192, 500)),
               threading.Thread(target=run, args=(qb, 16384, 600))]
        for th in ths:
            th.start()
        for th in ths:
            th.join(20)
        assert not errors, errors
    finally:
        a.close()
        b.close()


def test_disconnect_ends_the_queue(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller()
    try:
        (io,) = c.connect_io(1)
        assert io.disconnect().status == 0
        assert io.is_closed(timeout=2), "target kept the queue open after Disconnect"
        c.admin.keep_alive()
    finally:
        c.close()
