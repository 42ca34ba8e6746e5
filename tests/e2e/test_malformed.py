# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Malformed and hostile PDUs: each ends its own connection with a C2HTermReq
carrying the right FES, nvmfd logs it, and nothing else is disturbed."""

import re
import struct

import pytest

import nvme_tcp as nt

SUBNQN_FIELD = 256


def connected_admin(t, **kw):
    """A fresh connection that has done ICReq and an admin Connect."""
    q = t.queue(**kw)
    q.connect(t.subnqn, nt.host_nqn(), nt.new_hostid(), kato=0, check=True)
    return q


def bad_io_queue(t, **kw):
    """A second association with one I/O queue; returns (controller, I/O queue)."""
    c = t.controller(**kw)
    (q,) = c.connect_io(1)
    return c, q


def write_awaiting_r2t(q, length=64 * 1024):
    """Submits a write that needs R2T and returns (cid, ttag, r2to, r2tl) of its R2T
    without answering it."""
    cid = q.submit(q.write_cmd(1, 0, length // 512), bytes(length), in_capsule=False)
    ptype, flags, hlen, pdo, plen, raw = q.recv_pdu()
    assert ptype == nt.PDU_R2T, "expected an R2T, got PDU type 0x%x" % ptype
    cccid, ttag, r2to, r2tl = struct.unpack_from("<HHII", raw, 8)
    assert cccid == cid and r2to == 0 and r2tl == length
    return cid, ttag, r2to, r2tl


# Each case: does something wrong on a connection of its own and returns
# (queue, expected FES, expected FEI or None, keep-alive objects).

def case_bad_hlen(t):
    q = t.queue()
    pdu = q.capsule_bytes(nt.sqe(nt.ADM_KEEP_ALIVE))
    pdu[2] = 70                                         # HLEN of a CapsuleCmd is 72
    q.send_raw(pdu)
    return q, nt.FES_INVALID_HEADER_FIELD, 2, []


def case_unknown_pdu_type(t):
    q = connected_admin(t)
    q.send_raw(struct.pack("<BBBBI", 0x0C, 0, 24, 0, 24) + bytes(16))
    return q, nt.FES_INVALID_HEADER_FIELD, 0, []


def case_capsule_before_icreq(t):
    q = t.queue(handshake=False)
    q.send_raw(q.capsule_bytes(nt.sqe(nt.ADM_KEEP_ALIVE)))
    return q, nt.FES_PDU_SEQUENCE_ERROR, 0, []


def case_second_icreq(t):
    q = connected_admin(t)
    q.send_raw(q.icreq_bytes())
    return q, nt.FES_PDU_SEQUENCE_ERROR, 0, []


def case_bad_header_digest(t):
    q = t.queue(hdgst=True)
    assert q.hdgst, "nvmfd -g did not grant header digests"
    q.send_raw(q.capsule_bytes(nt.sqe(nt.ADM_KEEP_ALIVE), corrupt_hdgst=True))
    return q, nt.FES_HEADER_DIGEST_ERROR, None, []


def case_icd_too_large(t):
    c, q = bad_io_queue(t)
    room = c.idctrl["ioccsz"] * 16 - 64
    n = room + 512
    cmd = q.write_cmd(1, 0, n // 512)
    struct.pack_into("<H", cmd, 2, 1)
    struct.pack_into("<QI3xB", cmd, 24, 0, n, nt.SGL_ICD)
    q.send_raw(q.capsule_bytes(cmd, bytes(n)))
    return q, nt.FES_DATA_LIMIT_EXCEEDED, None, [c]


def case_h2c_unknown_ttag(t):
    c, q = bad_io_queue(t)
    cid, ttag, r2to, r2tl = write_awaiting_r2t(q)
    q.send_raw(q.h2c_bytes(cid, (ttag + 7) & 0xFFFF, 0, bytes(4096), False))
    return q, nt.FES_INVALID_HEADER_FIELD, 10, [c]


def case_h2c_beyond_r2t(t):
    c, q = bad_io_queue(t)
    cid, ttag, r2to, r2tl = write_awaiting_r2t(q, 8 * 4096)
    assert r2tl + 4096 <= q.maxh2cdata
    q.send_raw(q.h2c_bytes(cid, ttag, 0, bytes(r2tl + 4096), True))
    return q, nt.FES_DATA_OUT_OF_RANGE, None, [c]


def case_h2c_beyond_maxh2cdata(t):
    c, q = bad_io_queue(t)
    n = q.maxh2cdata * 2
    cid, ttag, r2to, r2tl = write_awaiting_r2t(q, n)
    q.send_raw(q.h2c_bytes(cid, ttag, 0, bytes(n), True))      # one PDU, twice the limit
    return q, nt.FES_DATA_LIMIT_EXCEEDED, None, [c]


def case_plen_smaller_than_header(t):
    q = connected_admin(t)
    pdu = q.capsule_bytes(nt.sqe(nt.ADM_KEEP_ALIVE))
    struct.pack_into("<I", pdu, 4, 40)                  # PLEN 40 < HLEN 72
    q.send_raw(pdu)
    return q, nt.FES_INVALID_HEADER_FIELD, 4, []


def case_icreq_bad_pfv(t):
    q = t.queue(handshake=False)
    q.send_raw(q.icreq_bytes(pfv=1))
    return q, nt.FES_UNSUPPORTED_PARAMETER, 8, []


def case_icreq_bad_hpda(t):
    q = t.queue(handshake=False)
    q.send_raw(q.icreq_bytes(hpda=32))                 # at most 31
    return q, nt.FES_INVALID_HEADER_FIELD, 10, []


def case_icreq_bad_plen(t):
    q = t.queue(handshake=False)
    pdu = q.icreq_bytes()
    struct.pack_into("<I", pdu, 4, 100)                # an ICReq is 128 bytes
    q.send_raw(pdu[:100])
    return q, nt.FES_INVALID_HEADER_FIELD, 4, []


def case_misaligned_pdo(t):
    q = connected_admin(t)
    cmd = nt.sqe(nt.ADM_SET_FEATURES, cdw10=0x0B)
    struct.pack_into("<QI3xB", cmd, 24, 0, 64, nt.SGL_ICD)
    hdr = struct.pack("<BBBBI", nt.PDU_CAPSULE_CMD, 0, 72, 74, 74 + 64) + bytes(cmd[:64])
    q.send_raw(hdr + bytes(2) + bytes(64))              # PDO 74: not a multiple of 4
    return q, nt.FES_INVALID_HEADER_FIELD, 3, []


CASES = {
    "bad-hlen": case_bad_hlen,
    "unknown-pdu-type": case_unknown_pdu_type,
    "capsule-before-icreq": case_capsule_before_icreq,
    "second-icreq": case_second_icreq,
    "bad-header-digest": case_bad_header_digest,
    "icd-larger-than-queue-takes": case_icd_too_large,
    "h2cdata-unknown-ttag": case_h2c_unknown_ttag,
    "h2cdata-beyond-r2t": case_h2c_beyond_r2t,
    "h2cdata-beyond-maxh2cdata": case_h2c_beyond_maxh2cdata,
    "plen-smaller-than-header": case_plen_smaller_than_header,
    "icreq-bad-pfv": case_icreq_bad_pfv,
    "icreq-bad-hpda": case_icreq_bad_hpda,
    "icreq-bad-plen": case_icreq_bad_plen,
    "misaligned-pdo": case_misaligned_pdo,
}


class Bystander:
    """An established association that must keep working through it all. It works in
    the namespace's last 512 KiB: the malformed writes start at LBA 0, and one whose
    host vanished mid-transfer may still land (RAM namespaces receive in place), as a
    write that never completed may on any disk."""

    def __init__(self, t):
        self.c = t.controller()
        nsze = nt.parse_identify_namespace(self.c.admin.identify(0, nsid=1).data)["nsze"]
        self.base = nsze - 1024
        (self.q,) = self.c.connect_io(1)
        self.n = 0
        self.check()

    def check(self):
        self.n += 1
        lba = self.base + (self.n * 16) % 1024
        data = nt.random_bytes(8192, self.n)
        self.q.write(1, lba, data)
        assert self.q.read(1, lba, 16) == data
        self.c.admin.keep_alive()

    def close(self):
        self.c.close()


def assert_terminated(t, q, fes, fei, name):
    peer = "127.0.0.1:%d" % q.local_port
    tr = q.expect_term_req()
    assert tr.pdu_type == nt.PDU_C2H_TERM_REQ
    assert tr.fes == fes, "%s: FES 0x%02x, expected 0x%02x" % (name, tr.fes, fes)
    if fei is not None:
        assert tr.fei == fei, "%s: FEI %d, expected %d" % (name, tr.fei, fei)
    # The error data, when present, is the start of the offending PDU as sent.
    assert len(tr.data) <= 128, "%s: %d bytes of error data" % (name, len(tr.data))
    if tr.data:
        assert q.sent_pdus_contain(tr.data), \
            "%s: C2HTermReq data %s is not the header we sent" % (name, tr.data[:16].hex())
    assert q.is_closed(timeout=2), "%s: connection still open after C2HTermReq" % name
    t.wait_log(re.escape(peer) + r"\b.*TermReq")
    return tr


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_pdu(nvmfd, name):
    t = nvmfd.start("ramdisk:4M", opts=("-g", "-G"))
    bystander = Bystander(t)
    keep = []
    try:
        q, fes, fei, keep = CASES[name](t)
        assert_terminated(t, q, fes, fei, name)
        q.close()
        assert t.alive(), "nvmfd died"
        bystander.check()
    finally:
        for k in keep:
            k.close()
        bystander.close()


# What a controller may receive once connected, and each type's HLEN.
H2C_TYPES = {nt.PDU_H2C_TERM_REQ, nt.PDU_CAPSULE_CMD, nt.PDU_H2C_DATA}


def first_fault(hdr):
    """The (FES, FEI) the first header checks give for these 8 bytes, or None when
    type and HLEN pass and a later field decides (then FEI lies past HLEN)."""
    ptype, hlen = hdr[0], hdr[2]
    if ptype not in nt.HLEN:
        return nt.FES_INVALID_HEADER_FIELD, 0
    if ptype not in H2C_TYPES:
        return nt.FES_PDU_SEQUENCE_ERROR, 0
    if hlen != nt.HLEN[ptype]:
        return nt.FES_INVALID_HEADER_FIELD, 2
    return None


@pytest.mark.parametrize("seed,pdu_type", [(1, None), (2, None), (3, None), (4, None),
                                            (5, nt.PDU_CAPSULE_CMD), (6, nt.PDU_H2C_DATA),
                                            (7, nt.PDU_H2C_TERM_REQ), (8, nt.PDU_ICREQ)])
def test_random_garbage_after_handshake(nvmfd, seed, pdu_type):
    t = nvmfd.start("ramdisk:4M")
    bystander = Bystander(t)
    try:
        q = connected_admin(t)
        garbage = bytearray(nt.random_bytes(300, 1000 + seed))
        if pdu_type is not None:
            # Random bytes behind a plausible type and HLEN reach the deeper checks.
            garbage[0], garbage[2] = pdu_type, nt.HLEN[pdu_type]
        expected = first_fault(garbage)
        try:
            q.send_raw(garbage)
        except (BrokenPipeError, ConnectionResetError):
            pass                                   # terminated mid-send: fine
        plen = struct.unpack_from("<I", garbage, 4)[0]
        if (garbage[0] == nt.PDU_H2C_TERM_REQ and garbage[1] == 0 and garbage[3] == 0 and
                24 <= plen <= 152 and expected is None):
            # The host ends the connection itself: closed, never answered.
            assert q.is_closed(timeout=2)
            assert not q.rbuf, "answered an H2CTermReq with %s" % bytes(q.rbuf[:8]).hex()
        else:
            tr = q.expect_term_req()
            assert tr.pdu_type == nt.PDU_C2H_TERM_REQ
            if expected is not None:
                assert (tr.fes, tr.fei) == expected, \
                    "FES 0x%x FEI %d, expected %s" % (tr.fes, tr.fei, expected)
            else:
                # A later check: a real FES naming a field past the type and HLEN.
                assert tr.fes in (nt.FES_INVALID_HEADER_FIELD, nt.FES_DATA_OUT_OF_RANGE,
                                  nt.FES_DATA_LIMIT_EXCEEDED), "FES 0x%x" % tr.fes
                assert tr.fei in (1, 3, 4) or 8 <= tr.fei < garbage[2], "FEI %d" % tr.fei
            assert not tr.data or garbage.startswith(tr.data), tr.data.hex()
            assert q.is_closed(timeout=2)
            t.wait_log(re.escape("127.0.0.1:%d" % q.local_port) + r"\b.*TermReq")
        q.close()
        assert t.alive()
        bystander.check()
    finally:
        bystander.close()


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_random_commands_in_valid_capsules_are_answered(nvmfd, seed):
    """Past the framing: 300 capsules with random SQEs (and random in-capsule data)
    each get a response, never a TermReq, and the target keeps serving."""
    t = nvmfd.start("ramdisk:4M")
    bystander = Bystander(t)
    c, q = bad_io_queue(t)
    admin = c.admin
    rnd = nt.random_bytes(300 * 64 + 4096, seed)
    statuses = set()
    try:
        for i in range(300):
            sqe = bytearray(rnd[i * 64:(i + 1) * 64])
            queue = admin if i % 2 else q
            if queue is admin and sqe[0] == nt.OPC_FABRICS:
                sqe[4] = 0x04                      # Property Get: no reset, no Disconnect
            elif queue is admin and sqe[0] == 0x0C:
                sqe[0] = 0x18                      # an AER would rightly wait for an event
            elif queue is admin and sqe[0] == 0x09 and sqe[40] == 0x0F:
                sqe[40] = 0x07                     # nor may a random KATO end the test
            sqe[1] = (sqe[1] & 0x3F) | 0x40        # PSDT: SGL, as fabrics requires
            # Data only as the transport allows it: in-capsule up to 512 bytes.
            n = rnd[i] % 2 * 512
            struct.pack_into("<QI3xB", sqe, 24, 0, n, nt.SGL_ICD if n else 0)
            cid = queue.submit(sqe, rnd[i:i + n] if n else None, in_capsule=bool(n))
            cqe = queue.wait(cid, timeout=5)
            assert cqe.cid == cid
            statuses.add(cqe.status)
        assert t.alive(), "nvmfd died"
        bystander.check()
        assert "TermReq" not in t.log(), t.log()[-2000:]
        # Random commands mostly fail, each with a status of its own kind.
        assert len(statuses) >= 3, sorted(statuses)
    finally:
        c.close()
        bystander.close()


def test_host_termination_request_closes_quietly(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    bystander = Bystander(t)
    try:
        c, q = bad_io_queue(t)
        # H2CTermReq (FES 0x01, FEI 0) with 8 bytes of "offending header".
        q.send_raw(struct.pack("<BBBBIHI10x", nt.PDU_H2C_TERM_REQ, 0, 24, 0, 32, 1, 0) +
                   bytes(8))
        assert q.is_closed(timeout=2), "the target kept a connection the host terminated"
        assert not q.rbuf, "the target answered a termination request with %s" % (
            bytes(q.rbuf[:8]).hex())
        c.close()
        bystander.check()
    finally:
        bystander.close()


def _digest_target(nvmfd):
    t = nvmfd.start("ramdisk:4M", opts=("-g", "-G"))
    c = t.controller(hdgst=True, ddgst=True)
    (q,) = c.connect_io(1)
    assert q.ddgst and q.hdgst
    return t, c, q


def test_data_digest_error_fails_only_the_command(nvmfd):
    t, c, q = _digest_target(nvmfd)
    try:
        old = nt.random_bytes(4096, 9)
        q.write(1, 8, old)

        # In-capsule data with a wrong data digest: the command fails with
        # Transient Transport Error, nothing is written, the queue goes on.
        new = nt.random_bytes(4096, 10)
        cid = q.submit(q.write_cmd(1, 8, 8), new, corrupt_ddgst=True)
        cqe = q.wait(cid)
        assert cqe.status == nt.SC_TRANSIENT_TRANSPORT_ERROR, \
            "in-capsule data digest error: status 0x%04x, expected 0x0022" % cqe.status
        assert q.read(1, 8, 8) == old, "data with a bad digest was written"
        q.write(1, 8, new)
        assert q.read(1, 8, 8) == new

        # The same through R2T: an H2CData PDU with a wrong data digest.
        big = nt.random_bytes(64 * 1024, 11)
        cmd = q.write_cmd(1, 1024, 128)
        struct.pack_into("<H", cmd, 2, 900)
        struct.pack_into("<QI3xB", cmd, 24, 0, len(big), nt.SGL_TRANSPORT)
        q.send_raw(q.capsule_bytes(cmd))
        ptype, flags, hlen, pdo, plen, raw = q.recv_pdu()
        assert ptype == nt.PDU_R2T
        cccid, ttag, r2to, r2tl = struct.unpack_from("<HHII", raw, 8)
        assert (cccid, r2to, r2tl) == (900, 0, len(big))
        q.send_raw(q.h2c_bytes(900, ttag, 0, big, True, corrupt_ddgst=True))
        ptype, flags, hlen, pdo, plen, raw = q.recv_pdu()
        assert ptype == nt.PDU_CAPSULE_RESP, "PDU type 0x%x" % ptype
        cid, status = struct.unpack_from("<HH", raw, 20)
        assert cid == 900
        assert status >> 1 == nt.SC_TRANSIENT_TRANSPORT_ERROR, \
            "H2CData data digest error: status 0x%04x, expected 0x0022" % (status >> 1)
        assert q.read(1, 1024, 128) == bytes(len(big)), "data with a bad digest was written"

        q.write(1, 1024, big)
        assert q.read(1, 1024, 128) == big
        c.admin.keep_alive()
        assert t.alive()
    finally:
        c.close()


def test_hosts_vanishing_mid_transfer(nvmfd):
    """Connections cut at every awkward moment; the target must shrug them all off."""
    t = nvmfd.start("ramdisk:8M", opts=("-g", "-G"))
    bystander = Bystander(t)
    try:
        for round_ in range(3):
            digests = round_ == 1
            # Gone while the target sends 1 MiB of C2HData.
            c, q = bad_io_queue(t, hdgst=digests, ddgst=digests)
            for _ in range(4):
                q.submit(q.read_cmd(1, 0, 2048), read_len=1024 * 1024)
            q.close()
            c.close()
            # Gone halfway through the H2CData of a write.
            c, q = bad_io_queue(t, hdgst=digests, ddgst=digests)
            cid, ttag, r2to, r2tl = write_awaiting_r2t(q, 512 * 1024)
            pdu = q.h2c_bytes(cid, ttag, 0, bytes(min(r2tl, q.maxh2cdata)), False)
            q.send_raw(pdu[:len(pdu) // 2])
            q.close()
            c.close()
            # Gone in the middle of a command capsule's header and its data.
            c, q = bad_io_queue(t, hdgst=digests, ddgst=digests)
            pdu = q.capsule_bytes(q.write_cmd(1, 0, 8), bytes(4096))
            q.send_raw(pdu[:30])
            q.close()
            c.admin.close()
            # An admin queue gone with an I/O queue still sending.
            c, q = bad_io_queue(t, hdgst=digests, ddgst=digests)
            cids = [q.submit(q.write_cmd(1, i * 8, 8), bytes(4096)) for i in range(16)]
            c.admin.close()
            try:
                q.wait_all(cids, timeout=2)
            except (nt.NvmeTcpError, OSError):
                pass                          # the association may end first: fine
            assert q.is_closed(timeout=2), "I/O queue outlived its admin queue"
            q.close()
            assert t.alive(), "nvmfd died in round %d" % round_
            bystander.check()
    finally:
        bystander.close()
