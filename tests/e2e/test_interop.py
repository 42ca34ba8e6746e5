# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Interoperability (issue #7): what Linux nvmet serves, nvmfd serves by default,
logging each deviation once per association (a `deviation` line naming the peer,
the host NQN and the field); with --strict it refuses each with the status the
specification gives and a `refused` line naming the field, its value and the status.

Connect Invalid Parameters (SCT 1 SC 0x82, DNR) names the field in CQE DW0:
IPO in bits 15:0, IATTR in bits 23:16 (1: Connect data, 0: the SQE), as nvmet.
"""

import re
import time
import uuid

import pytest

import nvme_tcp as nt
from conftest import ADDR, free_port, new_nqn

STRICT = ("--strict",)
INVALID_PARAMETERS = 0x4182         # SCT 1, SC 0x82, DNR
INVALID_HOST = 0x4184               # SCT 1, SC 0x84, DNR

# Connect fields as (IATTR, IPO).
HOSTID, CNTLID, HOSTNQN = (1, 0), (1, 16), (1, 512)
QID, CATTR = (0, 42), (0, 46)
FIELD_NAMES = {HOSTID: "HOSTID", CNTLID: "CNTLID", HOSTNQN: "HOSTNQN", QID: "QID",
               CATTR: "CATTR"}
STATUS_0X82 = re.compile(r"(?i)0x82|invalid param")


@pytest.fixture
def opened():
    """Queues and controllers a test opens; closed before nvmfd stops."""
    objs = []
    yield objs
    for o in objs:
        o.close()


def peer(q):
    return "%s:%d" % (ADDR, q.local_port)


def field(name, value):
    """A field token followed by its value (a number in decimal or hex)."""
    if isinstance(value, int):
        v = r"(?:%d|0x0*%x)" % (value, value)
    else:
        v = re.escape(value)
    return re.compile(r"\b%s\W{0,3}%s\b" % (name, v), re.I)


def lines(t, *what):
    """Log lines containing every string or matching every regex in what."""
    return [ln for ln in t.log_lines()
            if all((w in ln) if isinstance(w, str) else w.search(ln) for w in what)]


def wait_lines(t, n, *what, timeout=3.0):
    """Waits until at least n lines match, then returns all matching lines."""
    deadline = time.monotonic() + timeout
    while len(lines(t, *what)) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    got = lines(t, *what)
    assert len(got) >= n, "expected %d log line(s) with %s; log:\n%s" % (
        n, [getattr(w, "pattern", w) for w in what], t.log()[-3000:])
    return got


def assert_invalid_parameters(cqe, fld, what):
    iattr, ipo = (cqe.cdw0 >> 16) & 0xFF, cqe.cdw0 & 0xFFFF
    assert cqe.status == INVALID_PARAMETERS, \
        "%s: status 0x%04x, expected 0x4182 (Connect Invalid Parameters, DNR)" % (
            what, cqe.status)
    assert (iattr, ipo) == fld, \
        "%s: DW0 0x%08x is IATTR %d IPO %d, expected IATTR %d IPO %d (%s)" % (
            what, cqe.cdw0, iattr, ipo, fld[0], fld[1], FIELD_NAMES[fld])


def assert_refused_logged(t, q, fld, value):
    """The refusal's log line: peer, `refused`, the field and its value, the status."""
    got = wait_lines(t, 1, peer(q), "refused", field(FIELD_NAMES[fld], value))
    assert STATUS_0X82.search(got[-1]), "refusal line without the status: %s" % got[-1]


def io_queue(t, c, qid, hostid=None, hostnqn=None, cntlid=None, cattr=0, opened=None):
    """Connects an I/O queue of controller c by hand; returns (queue, Connect CQE)."""
    if c.idctrl is None:
        c.identify_controller()
    q = nt.Queue(c.host, c.port, c.hdgst, c.ddgst, c.timeout)
    if opened is not None:
        opened.append(q)
    cqe = q.connect(c.subnqn, c.hostnqn if hostnqn is None else hostnqn,
                    c.hostid if hostid is None else hostid, qid=qid, sqsize=127,
                    cntlid=c.cntlid if cntlid is None else cntlid, cattr=cattr)
    q.icd_size = max(0, c.idctrl["ioccsz"] * 16 - 64)
    return q, cqe


def check_io(q, slba, seed, size=8192):
    data = nt.random_bytes(size, seed)
    q.write(1, slba, data)
    assert q.read(1, slba, size // 512) == data, "read back other data than written"


def assert_term_req(q, fei=3):
    tr = q.expect_term_req()
    assert tr.pdu_type == nt.PDU_C2H_TERM_REQ
    assert (tr.fes, tr.fei) == (nt.FES_INVALID_HEADER_FIELD, fei), \
        "C2HTermReq FES 0x%02x FEI %d, expected FES 0x01 FEI %d" % (tr.fes, tr.fei, fei)
    assert q.is_closed(timeout=2), "connection still open after C2HTermReq"


# ------------------------------------------------- 1. PDO without data

@pytest.mark.parametrize("hdgst", [False, True], ids=["plain", "hdgst"])
def test_pdo_without_data_is_served(nvmfd, opened, hdgst):
    t = nvmfd.start(opts=("-g",) if hdgst else ())
    pdo = 76 if hdgst else 72                       # PDO = HLEN (+ HDGST) = PLEN
    c = t.controller(hdgst=hdgst)
    opened.append(c)
    (io,) = c.connect_io(1)
    assert io.hdgst == hdgst
    data = nt.random_bytes(4096, 1)
    io.write(1, 0, data)
    for _ in range(5):
        assert c.admin.execute(nt.sqe(nt.ADM_KEEP_ALIVE), pdo=pdo).status == 0
        cqe = c.admin.execute(nt.sqe(nt.ADM_IDENTIFY, cdw10=1), read_len=4096, pdo=pdo)
        assert cqe.status == 0, "Identify with PDO %d: status 0x%04x" % (pdo, cqe.status)
        assert nt.parse_identify_controller(cqe.data)["subnqn"] == t.subnqn
        cqe = io.execute(io.read_cmd(1, 0, 8), read_len=4096, pdo=pdo)
        assert cqe.status == 0 and cqe.data == data
    check_io(io, 64, 2)

    got = wait_lines(t, 1, "deviation", field("PDO", pdo))
    assert len(got) == 1, "one deviation per association, got:\n%s" % "\n".join(got)
    assert peer(c.admin) in got[0] and c.hostnqn in got[0], got[0]

    c2 = t.controller(hdgst=hdgst)                  # a second association logs again
    opened.append(c2)
    assert c2.admin.execute(nt.sqe(nt.ADM_KEEP_ALIVE), pdo=pdo).status == 0
    got = wait_lines(t, 2, "deviation", field("PDO", pdo))
    assert len(got) == 2 and peer(c2.admin) in got[1] and c2.hostnqn in got[1], got
    assert not lines(t, "refused")


@pytest.mark.parametrize("hdgst", [False, True], ids=["plain", "hdgst"])
def test_pdo_without_data_strict(nvmfd, opened, hdgst):
    t = nvmfd.start(opts=STRICT + (("-g",) if hdgst else ()))
    pdo = 76 if hdgst else 72
    a = t.controller(hdgst=hdgst)                   # on the admin queue: Keep Alive
    opened.append(a)
    a.admin.submit(nt.sqe(nt.ADM_KEEP_ALIVE), pdo=pdo)
    assert_term_req(a.admin)
    wait_lines(t, 1, peer(a.admin), "refused", field("PDO", pdo))

    b = t.controller(hdgst=hdgst)                   # on an I/O queue: Read
    opened.append(b)
    (io,) = b.connect_io(1)
    io.submit(io.read_cmd(1, 0, 8), read_len=4096, pdo=pdo)
    assert_term_req(io)
    wait_lines(t, 1, peer(io), "refused", field("PDO", pdo))
    assert not lines(t, "deviation")


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_pdo_beyond_plen_is_malformed(nvmfd, opened, strict):
    t = nvmfd.start(opts=STRICT if strict else ())
    c = t.controller()
    opened.append(c)
    c.admin.submit(nt.sqe(nt.ADM_KEEP_ALIVE), pdo=76)    # PLEN 72
    assert_term_req(c.admin)
    t.wait_log(re.escape(peer(c.admin)) + r"\b.*TermReq")
    assert not lines(t, "deviation")


# ------------------------------------------------- 2. host NQN

@pytest.mark.parametrize("hostnqn", ["", "host1"], ids=["empty", "not-an-nqn"])
def test_nonconforming_hostnqn_is_served(nvmfd, opened, hostnqn):
    t = nvmfd.start()
    for n in (1, 2):                                # one line per association
        c = t.controller(hostnqn=hostnqn)
        opened.append(c)
        for i, q in enumerate(c.connect_io(2)):
            check_io(q, n * 256 + i * 64, n * 10 + i)
        c.admin.keep_alive()
        got = wait_lines(t, n, "deviation", "HOSTNQN")
        assert len(got) == n, "\n".join(got)
        assert peer(c.admin) in got[-1], got[-1]
        if hostnqn:
            assert field("HOSTNQN", hostnqn).search(got[-1]), got[-1]
    assert not lines(t, "refused")


@pytest.mark.parametrize("hostnqn", ["", "host1"], ids=["empty", "not-an-nqn"])
def test_nonconforming_hostnqn_strict(nvmfd, opened, hostnqn):
    t = nvmfd.start(opts=STRICT)
    q = t.queue()
    opened.append(q)
    cqe = q.connect(t.subnqn, hostnqn, nt.new_hostid())
    assert_invalid_parameters(cqe, HOSTNQN, "Connect with host NQN %r" % hostnqn)
    got = wait_lines(t, 1, peer(q), "refused", "HOSTNQN")
    assert STATUS_0X82.search(got[-1]), got[-1]
    if hostnqn:
        assert field("HOSTNQN", hostnqn).search(got[-1]), got[-1]


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_empty_hostnqn_with_allow_list_is_invalid_host(nvmfd, opened, strict):
    port, nqn, allowed = free_port(), new_nqn("acl"), nt.host_nqn()
    cfg = {"listen": [{"address": ADDR, "port": port}],
           "subsystems": [{"nqn": nqn, "allowed_hosts": [allowed],
                           "namespaces": [{"device": "ramdisk:1M"}]}]}
    if strict:
        cfg["strict"] = True
    t = nvmfd.start_config(cfg)
    q = t.queue()
    opened.append(q)
    cqe = q.connect(nqn, "", nt.new_hostid())
    assert cqe.status == INVALID_HOST, \
        "empty host NQN against an allow-list: 0x%04x, expected 0x4184" % cqe.status
    wait_lines(t, 1, peer(q), re.compile("refused|not allowed"))
    c = nt.Controller(ADDR, port, nqn, hostnqn=allowed)
    opened.append(c)
    (io,) = c.connect_io(1)
    check_io(io, 0, 3)


def test_strict_config_keys(nvmfd, opened):
    """Top-level "strict": true, overridden per subsystem; and the other way round."""
    ns = [{"device": "ramdisk:1M"}]
    for top in (True, False):
        port, strict_nqn, lenient_nqn = free_port(), new_nqn("strict"), new_nqn("lenient")
        subs = [{"nqn": strict_nqn, "namespaces": ns}, {"nqn": lenient_nqn, "namespaces": ns}]
        subs[1 if top else 0]["strict"] = not top
        cfg = {"listen": [{"address": ADDR, "port": port}], "subsystems": subs}
        if top:
            cfg["strict"] = True
        t = nvmfd.start_config(cfg)
        q = t.queue()
        opened.append(q)
        cqe = q.connect(strict_nqn, "host1", nt.new_hostid())
        assert_invalid_parameters(cqe, HOSTNQN, "strict subsystem (top-level %s)" % top)
        assert_refused_logged(t, q, HOSTNQN, "host1")
        c = nt.Controller(ADDR, port, lenient_nqn, hostnqn="host1")
        opened.append(c)
        (io,) = c.connect_io(1)
        check_io(io, 0, 4)
        wait_lines(t, 1, peer(c.admin), "deviation", field("HOSTNQN", "host1"))


# ------------------------------------------------- 3. I/O queues and Number of Queues

def test_io_queues_without_number_of_queues_are_served(nvmfd, opened):
    t = nvmfd.start()
    c = t.controller()
    opened.append(c)
    first = None
    for qid in (1, 4):
        q, cqe = io_queue(t, c, qid, opened=opened)
        assert cqe.status == 0, "QID %d without Set Features NQ: 0x%04x" % (qid, cqe.status)
        check_io(q, qid * 64, qid)
        first = first or q
    got = wait_lines(t, 1, "deviation", field("QID", 1))
    assert len(lines(t, "deviation", "QID")) == 1, "\n".join(lines(t, "deviation"))
    assert peer(first) in got[0] and c.hostnqn in got[0], got[0]

    q, cqe = io_queue(t, c, 65, opened=opened)     # above nvmfd's 64: both modes
    assert_invalid_parameters(cqe, QID, "QID 65")
    assert_refused_logged(t, q, QID, 65)

    c2 = t.controller()                            # NQ grants 1, the host takes QID 2
    opened.append(c2)
    c2.identify_controller()
    assert c2.set_num_queues(1) == (1, 1)
    q, cqe = io_queue(t, c2, 2, opened=opened)
    assert cqe.status == 0, "QID 2 after NQ granted 1: 0x%04x" % cqe.status
    check_io(q, 512, 5)
    got = wait_lines(t, 2, "deviation", "QID")
    assert peer(q) in got[1] and field("QID", 2).search(got[1]), got[1]


def test_io_queues_without_number_of_queues_strict(nvmfd, opened):
    t = nvmfd.start(opts=STRICT)
    c = t.controller()
    opened.append(c)
    for qid in (1, 4):
        q, cqe = io_queue(t, c, qid, opened=opened)
        assert_invalid_parameters(cqe, QID, "QID %d without Set Features NQ" % qid)
        assert_refused_logged(t, q, QID, qid)
    assert c.set_num_queues(1) == (1, 1)
    q, cqe = io_queue(t, c, 2, opened=opened)
    assert_invalid_parameters(cqe, QID, "QID 2 after NQ granted 1")
    assert_refused_logged(t, q, QID, 2)
    q, cqe = io_queue(t, c, 65, opened=opened)
    assert_invalid_parameters(cqe, QID, "QID 65")
    q, cqe = io_queue(t, c, 1, opened=opened)
    assert cqe.status == 0
    check_io(q, 0, 6)
    assert not lines(t, "deviation")


# ------------------------------------------------- 4. Host Identifier, CNTLID, host NQN

@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_io_queue_identity(nvmfd, opened, strict):
    t = nvmfd.start(opts=STRICT if strict else ())
    c = t.controller()
    opened.append(c)
    c.identify_controller()
    c.set_num_queues(2)
    # Refused in both modes: another CNTLID, another host NQN.
    q, cqe = io_queue(t, c, 1, cntlid=(c.cntlid + 5) & 0xFFEF, opened=opened)
    assert_invalid_parameters(cqe, CNTLID, "I/O Connect to a wrong CNTLID")
    wait_lines(t, 1, peer(q), "refused", "CNTLID")
    q, cqe = io_queue(t, c, 1, hostnqn=nt.host_nqn(), opened=opened)
    assert_invalid_parameters(cqe, HOSTNQN, "I/O Connect from another host NQN")
    wait_lines(t, 1, peer(q), "refused", "HOSTNQN")

    other = nt.new_hostid()
    shown = re.compile("%s|%s" % (other.hex(), uuid.UUID(bytes=other)), re.I)
    q, cqe = io_queue(t, c, 1, hostid=other, opened=opened)
    if strict:
        assert_invalid_parameters(cqe, HOSTID, "I/O Connect with another Host Identifier")
        got = wait_lines(t, 1, peer(q), "refused", "HOSTID")
        assert shown.search(got[-1]) and STATUS_0X82.search(got[-1]), got[-1]
        q, cqe = io_queue(t, c, 1, opened=opened)
        assert cqe.status == 0
        check_io(q, 0, 7)
        assert not lines(t, "deviation")
        return
    assert cqe.status == 0, "another Host Identifier: 0x%04x" % cqe.status
    check_io(q, 0, 7)
    q2, cqe = io_queue(t, c, 2, hostid=nt.new_hostid(), opened=opened)
    assert cqe.status == 0
    check_io(q2, 64, 8)
    got = wait_lines(t, 1, "deviation", "HOSTID")
    assert len(got) == 1, "\n".join(got)
    assert peer(q) in got[0] and c.hostnqn in got[0] and shown.search(got[0]), got[0]


# ------------------------------------------------- 5. digests

@pytest.mark.parametrize("hd,dd", [(True, False), (False, True), (True, True)],
                         ids=["hdgst", "ddgst", "both"])
def test_digests_granted_as_asked(nvmfd, opened, hd, dd):
    t = nvmfd.start()                               # no -g/-G
    c = t.controller(hdgst=hd, ddgst=dd)
    opened.append(c)
    (io,) = c.connect_io(1)
    for q in (c.admin, io):
        assert (q.hdgst, q.ddgst) == (hd, dd), "ICResp granted hdgst %s ddgst %s" % (
            q.hdgst, q.ddgst)
    check_io(io, 0, 9)                              # in-capsule
    check_io(io, 1024, 10, size=128 * 1024)         # R2T/H2CData, C2HData


@pytest.mark.parametrize("opts,granted", [((), False), (("-g", "-G"), True)],
                         ids=["without-gG", "with-gG"])
def test_digests_strict(nvmfd, opened, opts, granted):
    t = nvmfd.start(opts=STRICT + opts)
    c = t.controller(hdgst=True, ddgst=True)
    opened.append(c)
    (io,) = c.connect_io(1)
    for q in (c.admin, io):
        assert (q.hdgst, q.ddgst) == (granted, granted)
    check_io(io, 1024, 11, size=128 * 1024)
    if granted:
        assert not lines(t, "DGST")
    else:
        wait_lines(t, 1, peer(c.admin), "DGST")


@pytest.mark.parametrize("key", ["header_digests", "data_digests"])
def test_config_forbids_a_digest(nvmfd, opened, key):
    port, nqn = free_port(), new_nqn("dgst")
    t = nvmfd.start_config({key: False, "listen": [{"address": ADDR, "port": port}],
                            "subsystems": [{"nqn": nqn,
                                            "namespaces": [{"device": "ramdisk:1M"}]}]})
    c = t.controller(hdgst=True, ddgst=True)
    opened.append(c)
    (io,) = c.connect_io(1)
    want = (False, True) if key == "header_digests" else (True, False)
    for q in (c.admin, io):
        assert (q.hdgst, q.ddgst) == want, "%s false: ICResp hdgst %s ddgst %s" % (
            key, q.hdgst, q.ddgst)
    check_io(io, 0, 12, size=64 * 1024)


# ------------------------------------------------- 6. SQ flow control

def test_disable_sq_flow_control_is_granted(nvmfd, opened):
    t = nvmfd.start()                               # no -F
    c = t.controller()
    opened.append(c)
    c.set_num_queues(1)
    q, cqe = io_queue(t, c, 1, cattr=4, opened=opened)
    assert cqe.status == 0, "CATTR 4 without -F: 0x%04x" % cqe.status
    for i in range(4):
        check_io(q, i * 64, 20 + i)
    assert not lines(t, "refused")


@pytest.mark.parametrize("opts,granted", [((), False), (("-F",), True)],
                         ids=["without-F", "with-F"])
def test_disable_sq_flow_control_strict(nvmfd, opened, opts, granted):
    t = nvmfd.start(opts=STRICT + opts)
    c = t.controller()
    opened.append(c)
    c.set_num_queues(1)
    q, cqe = io_queue(t, c, 1, cattr=4, opened=opened)
    if granted:
        assert cqe.status == 0, "CATTR 4 with -F: 0x%04x" % cqe.status
        check_io(q, 0, 30)
        assert not lines(t, "refused")
        return
    assert_invalid_parameters(cqe, CATTR, "CATTR 4 (disable SQ flow control)")
    assert_refused_logged(t, q, CATTR, 4)


# ------------------------------------------------- a conforming host in strict mode

def test_strict_conforming_host_is_quiet(nvmfd, opened):
    t = nvmfd.start(opts=STRICT + ("-g", "-G"))
    c = t.controller(hdgst=True, ddgst=True, kato=5000)
    opened.append(c)
    assert c.identify_controller()["subnqn"] == t.subnqn
    ios = c.connect_io(2)
    for i, q in enumerate(ios):
        assert q.hdgst and q.ddgst
        check_io(q, i * 512, 40 + i, size=64 * 1024)
        check_io(q, i * 512 + 256, 50 + i)
    c.admin.keep_alive()
    assert ios[1].disconnect().status == 0
    bad = lines(t, re.compile("deviation|refused"))
    assert not bad, "a conforming host in strict mode:\n%s" % "\n".join(bad)
