# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""What nvmf-hostd takes in from others, and must survive (issue 8).

1. Control messages on nvmf.sock, from any local root process: every field of
   every request is type-checked; a bad one gets an error reply naming the
   field, and a connected controller goes on serving I/O.
2. Values a target reports (hostile_target.py reports what it is told): a
   namespace with a bad LBA size, size, format index, metadata, block larger
   than MDTS, or NSID beyond NN is skipped with one log line naming it, on the
   first scan and on every rescan; the controller stays.
3. A hand-off that fails during its namespace scan (the target refuses or
   breaks the association) was never a controller: no event on devctl.
"""

import array
import base64
import json
import os
import re
import shutil
import socket
import struct
import time

import pytest

from conftest import Launcher, nvmfd  # noqa: F401
from ctl_helpers import Hostd, hostd, short_tempdir  # noqa: F401
from hostile_target import HostileTarget, Namespace

MIB = 1024 * 1024


def request(sock_path, payload, fds=(), timeout=10):
    """One message on nvmf.sock (bytes as they are, or a dict as JSON); the reply."""
    if isinstance(payload, dict):
        payload = json.dumps(payload).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        s.sendmsg([payload], anc)
        reply = s.recv(1 << 20)
    assert reply, "nvmf-hostd closed the connection without a reply"
    return json.loads(reply)


def pid_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


# ------------------------------------------------------------ 1. messages
def identify_data(subnqn, cntlid):
    d = bytearray(4096)
    struct.pack_into("<H", d, 78, cntlid)
    d[768:768 + len(subnqn)] = subnqn.encode()
    return base64.b64encode(bytes(d)).decode()


def queue(n, **kw):
    """Queue n's description as nvmf_host_qpair_export fills it, with changes."""
    q = {"qid": n, "qsize": 32 if n == 0 else 128, "sq_flow_control": True, "sqhd": 1,
         "sqtail": 1, "icd_size": 0, "hdgst": False, "ddgst": False, "hpda": 0, "cpda": 0,
         "max_h2c_data": 131072, "maxr2t": 0}
    q.update(kw)
    return q


def handoff(op="handoff", ctrl=None, queues=None, **top):
    """A hand-off as nvmecontrol sends it (for a SubNQN nobody serves), with changes."""
    subnqn = "nqn.2024-01.io.nvmf.e2e:nobody"
    c = {"transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "1", "adrfam": "ipv4",
         "subnqn": subnqn, "hostnqn": "nqn.2024-01.io.nvmf.e2e:host", "hostid":
         "0badc0de-0000-4000-8000-00000000feed", "cntlid": 7, "kato_ms": 120000,
         "reconnect_delay": 10, "ctrl_loss_tmo": 600, "fast_io_fail_tmo": -1,
         "nr_io_queues": 1, "queue_size": 128, "hdr_digest": False, "data_digest": False,
         "sq_flow_control": True, "identify": identify_data(subnqn, 7)}
    c.update(ctrl or {})
    m = {"op": op, "controller": c, "queues": [queue(0), queue(1)] if queues is None else
         queues}
    m.update(top)
    return m


def handoff_without(key):
    m = handoff()
    del m["controller"][key]
    return m


ADMIN_SQE = base64.b64encode(bytes([0x06]) + bytes(39) + struct.pack("<I", 1) +
                             bytes(20)).decode()        # Identify Controller
HUGE = b'{"op":"list","pad":"' + b"a" * 100000 + b'"}'
DEEP = b'{"op":"list","x":' + b"[" * 40 + b"]" * 40 + b"}"

# (id, request, what the error names, code)
MALFORMED = [
    ("op-null", {"op": None}, '"op" must be a string, not null', "invalid"),
    ("op-int", {"op": 5}, '"op" must be a string, not an integer', "invalid"),
    ("op-object", {"op": {}}, '"op" must be a string, not an object', "invalid"),
    ("op-missing", {"name": "nvme0"}, '"op" is missing', "invalid"),
    ("op-nul", {"op": "list\u0000"}, '"op" contains a NUL', "invalid"),
    ("op-unknown", {"op": "format"}, 'unknown operation "format"', "invalid"),
    ("array", b'[{"op":"list"}]', "not a JSON object", "invalid"),
    ("string", b'"list"', "not a JSON object", "invalid"),
    ("null", b"null", "not a JSON object", "invalid"),
    ("trailing", b'{"op":"list"} garbage', "not JSON", "invalid"),
    ("two-objects", b'{"op":"list"}{"op":"list"}', "JSON", "invalid"),
    ("truncated", b'{"op":"lis', "not JSON", "invalid"),
    ("single-quotes", b"{'op':'list'}", "not JSON", "invalid"),
    ("bad-utf8", b'{"op":"list","x":"\xff\xfe"}', "not JSON", "invalid"),
    ("too-deep", DEEP, "not JSON", "invalid"),
    ("huge", HUGE, "larger than 65535 bytes", "invalid"),
    ("admin-sqe-null", {"op": "admin", "name": "nvme0", "sqe": None, "data_len": 4096},
     '"sqe" must be a string, not null', "invalid"),
    ("admin-sqe-short", {"op": "admin", "name": "nvme0", "sqe": ADMIN_SQE[:84],
                         "data_len": 4096}, '"sqe"', "invalid"),
    ("admin-sqe-not-base64", {"op": "admin", "name": "nvme0", "sqe": "!" * 88,
                              "data_len": 4096}, '"sqe"', "invalid"),
    ("admin-name-null", {"op": "admin", "name": None, "sqe": ADMIN_SQE, "data_len": 4096},
     '"name" must be a string, not null', "invalid"),
    ("admin-name-missing", {"op": "admin", "sqe": ADMIN_SQE, "data_len": 4096},
     '"name" is missing', "invalid"),
    ("admin-len-string", {"op": "admin", "name": "nvme0", "sqe": ADMIN_SQE,
                          "data_len": "4096"}, '"data_len" must be an integer', "invalid"),
    ("admin-len-negative", {"op": "admin", "name": "nvme0", "sqe": ADMIN_SQE,
                            "data_len": -1}, '"data_len" must be from 0 to 65536', "invalid"),
    ("admin-len-huge", {"op": "admin", "name": "nvme0", "sqe": ADMIN_SQE,
                        "data_len": 2 ** 70}, '"data_len" must be from 0', "invalid"),
    ("admin-len-fraction", {"op": "admin", "name": "nvme0", "sqe": ADMIN_SQE,
                            "data_len": 1.5}, '"data_len" must be an integer', "invalid"),
    ("disconnect-null", {"op": "disconnect", "target": None},
     '"target" must be a string, not null', "invalid"),
    ("disconnect-array", {"op": "disconnect", "target": ["nvme0"]},
     '"target" must be a string, not an array', "invalid"),
    ("disconnect-missing", {"op": "disconnect"}, '"target" is missing', "invalid"),
    ("disconnect-nul", {"op": "disconnect", "target": "nvme0\u0000ns1"},
     '"target" contains a NUL', "invalid"),
    ("begin-null", {"op": "reconnect-begin", "name": None},
     '"name" must be a string, not null', "invalid"),
    ("begin-bool", {"op": "reconnect-begin", "name": True},
     '"name" must be a string, not a boolean', "invalid"),
    ("abort-error-null", {"op": "reconnect-abort", "name": "nvme0", "error": None},
     '"error" must be a string, not null', "invalid"),
    ("reconnect-name-null", handoff("reconnect", name=None),
     '"name" must be a string, not null', "invalid"),
    ("reconnect-controller-null", handoff("reconnect", name="nvme0", controller=None),
     '"controller" must be an object, not null', "invalid"),
    ("handoff-controller-null", handoff(controller=None),
     '"controller" must be an object, not null', "invalid"),
    ("handoff-controller-string", handoff(controller="x"),
     '"controller" must be an object, not a string', "invalid"),
    ("handoff-traddr-null", handoff(ctrl={"traddr": None}),
     '"controller.traddr" must be a string, not null', "invalid"),
    ("handoff-subnqn-missing", handoff_without("subnqn"),
     '"controller.subnqn" is missing', "invalid"),
    ("handoff-subnqn-long", handoff(ctrl={"subnqn": "nqn." + "x" * 300}),
     '"controller.subnqn" is longer than 223', "invalid"),
    ("handoff-kato-string", handoff(ctrl={"kato_ms": "120000"}),
     '"controller.kato_ms" must be an integer, not a string', "invalid"),
    ("handoff-kato-range", handoff(ctrl={"kato_ms": 2 ** 40}),
     '"controller.kato_ms" must be from 0 to 4294967295', "invalid"),
    ("handoff-digest-string", handoff(ctrl={"hdr_digest": "yes"}),
     '"controller.hdr_digest" must be true or false', "invalid"),
    ("handoff-transport", handoff(ctrl={"transport": "rdma"}),
     '"controller.transport" must be "tcp"', "invalid"),
    ("handoff-cntlid-negative", handoff(ctrl={"cntlid": -1}),
     '"controller.cntlid" must be from 0 to 65535', "invalid"),
    ("handoff-identify-null", handoff(ctrl={"identify": None}),
     '"controller.identify" must be a string, not null', "invalid"),
    ("handoff-queues-missing", {"op": "handoff", "controller": handoff()["controller"]},
     '"queues" is missing', "invalid"),
    ("handoff-queues-null", handoff() | {"queues": None},
     '"queues" must be an array, not null', "invalid"),
    ("handoff-queues-one", handoff(queues=[queue(0)]),
     '"queues" must have 2 to 65 entries, not 1', "invalid"),
    ("handoff-queue-null", handoff(queues=[None, None]),
     '"queues[0]" must be an object, not null', "invalid"),
    ("handoff-qid-null", handoff(queues=[queue(0), queue(1, qid=None)]),
     '"queues[1].qid" must be an integer, not null', "invalid"),
    ("handoff-qid-order", handoff(queues=[queue(1), queue(0)]),
     '"queues[0].qid" must be 0', "invalid"),
    ("handoff-qsize-range", handoff(queues=[queue(0), queue(1, qsize=70000)]),
     '"queues[1].qsize" must be from 2 to 65535', "invalid"),
    ("handoff-sqhd-range", handoff(queues=[queue(0, sqhd=32), queue(1)]),
     '"queues[0].sqhd" must be below its qsize 32', "invalid"),
    ("handoff-qsize-unequal", handoff(queues=[queue(0), queue(1), queue(2, qsize=64)]),
     '"queues[2].qsize": I/O queues of unequal sizes', "invalid"),
    ("handoff-no-sockets", handoff(), "carries 0 sockets", "invalid"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """nvmfd (ramdisk) + nvmf-hostd with nvme0 connected, for every malformed message."""
    targets = Launcher(tmp_path_factory.mktemp("input"))
    target = targets.start("ramdisk:16M")
    rundir = short_tempdir("input")
    h = Hostd(rundir)
    try:
        r = h.ctl("connect", "127.0.0.1:%d" % target.port, target.subnqn)
        assert r.rc == 0, r
        yield h
    finally:
        verdict = h.stop()
        log = h.log()
        os.unlink(h.log_path)
        shutil.rmtree(rundir, ignore_errors=True)
        problems = targets.finish()
        if verdict or problems:
            pytest.fail("%s %s\n--- nvmf-hostd log ---\n%s" % (verdict, problems, log[-3000:]),
                        pytrace=False)


def assert_unharmed(h, fds_before):
    """hostd alive, nvme0 listed and connected, its namespace file reads what was written,
    and no descriptor of the request left behind."""
    assert h.proc.poll() is None, "nvmf-hostd died:\n%s" % h.log()[-3000:]
    ctrls = h.controllers()
    assert [(c["name"], c["state"]) for c in ctrls] == [("nvme0", "connected")], ctrls
    block, off = os.urandom(4096), 4096 * (1 + os.getpid() % 1000)
    fd = os.open(os.path.join(h.rundir, "dev", "nvme0ns1"), os.O_RDWR)
    try:
        assert os.pwrite(fd, block, off) == 4096
        assert os.pread(fd, 4096, off) == block
    finally:
        os.close(fd)
    deadline = time.monotonic() + 2
    while pid_fds(h.proc.pid) > fds_before and time.monotonic() < deadline:
        time.sleep(0.02)        # a client's thread closes its socket as it ends
    assert pid_fds(h.proc.pid) <= fds_before, "nvmf-hostd keeps descriptors of the request"


@pytest.mark.parametrize("payload,names,code", [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_request_gets_an_error_naming_the_field(served, payload, names, code):
    before = pid_fds(served.proc.pid)
    reply = request(served.sock, payload)
    assert reply.get("ok") is False, reply
    assert reply.get("code") == code, reply
    assert names in reply.get("error", ""), reply
    assert "\n" not in reply["error"]
    assert_unharmed(served, before)


@pytest.mark.parametrize("payload,names", [
    ({"op": "list"}, "list takes no file descriptors"),
    ({"op": "disconnect", "target": "nvme0"}, "disconnect takes no file descriptors"),
    (handoff(), "queue 0: the descriptor is not a stream socket"),
    # Found by fuzz_hostd_control: Identify's SubNQN quoted raw broke the line.
    (handoff(ctrl={"identify": identify_data("nqn.2024-01.io.nvmf.e2e:x\nforged", 7)}),
     "differs from the controller's own (nqn.2024-01.io.nvmf.e2e:x?forged)"),
])
def test_descriptors_that_do_not_belong_are_refused_and_closed(served, payload, names):
    before = pid_fds(served.proc.pid)
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(2)]
    try:
        reply = request(served.sock, payload, fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
    assert reply.get("ok") is False and names in reply.get("error", ""), reply
    assert "\n" not in reply["error"], reply
    assert_unharmed(served, before)


# -------------------------------------------------------- 2. target values
def connect(h, t, *opts):
    return h.ctl("connect", *opts, "127.0.0.1:%d" % t.port, t.subnqn)


def ns_file(h, name):
    return os.path.join(h.rundir, "dev", name)


def assert_serves(h, t, name, nsid):
    """The namespace's file reads back what it wrote, and the target holds it."""
    block = os.urandom(8192)
    fd = os.open(ns_file(h, name), os.O_RDWR)
    try:
        assert os.pwrite(fd, block, 65536) == len(block)
        os.fsync(fd)
        assert os.pread(fd, len(block), 65536) == block
    finally:
        os.close(fd)
    assert bytes(t.namespaces[nsid].data[65536:65536 + len(block)]) == block


def log_lines(h, pattern):
    return [line for line in h.log().splitlines() if re.search(pattern, line)]


def wait_log(h, pattern, timeout=5):
    deadline = time.monotonic() + timeout
    while not log_lines(h, pattern):
        assert time.monotonic() < deadline, "nvmf-hostd logged no line matching %r:\n%s" % (
            pattern, h.log()[-3000:])
        time.sleep(0.02)
    return log_lines(h, pattern)


def bad_lbads(t):
    t.namespaces[1].report_lbads = 63


def small_lbads(t):
    t.namespaces[1].report_lbads = 8


def huge_nsze(t):
    t.namespaces[1].report_nsze = 2 ** 55 + 1


def bad_format(t):
    t.namespaces[1].report_flbas = 1


def metadata(t):
    t.namespaces[1].report_ms = 8


def block_over_mdts(t):
    t.mdts = 1                                  # 8 KiB per command
    t.namespaces[1] = Namespace(1, 256, lbads=14)   # 16 KiB blocks


def nsid_over_nn(t):
    t.nn = 1


BAD_VALUES = [
    # (id, knob, bad NSID, what the log line says)
    ("lbads-63", bad_lbads, 1, r"LBA data size 2\^63 is outside 512 bytes to 64 KiB"),
    ("lbads-8", small_lbads, 1, r"LBA data size 2\^8 is outside"),
    ("nsze-overflow", huge_nsze, 1, r"36028797018963969 blocks of 512 bytes overflow a "
                                    r"file size"),
    ("format-index", bad_format, 1, r"its LBA format 1 is not among the 1 it lists"),
    ("metadata", metadata, 1, r"8 bytes of metadata"),
    ("mdts", block_over_mdts, 1, r"a block of 16384 bytes exceeds the controller's MDTS "
                                 r"\(8192 bytes per command\)"),
    ("nn", nsid_over_nn, 2, r"beyond the controller's NN \(1\)"),
]


@pytest.fixture
def hostile():
    made = []

    def make(namespaces=None, **kw):
        t = HostileTarget(namespaces or [Namespace(1, 32768), Namespace(2, 32768)], **kw)
        made.append(t.start())
        return t

    yield make
    for t in made:
        t.close()
    errors = [e for t in made for e in t.errors]
    assert not errors, "the hostile target's own errors: %s" % errors


@pytest.mark.parametrize("knob,bad,says", [b[1:] for b in BAD_VALUES],
                         ids=[b[0] for b in BAD_VALUES])
def test_first_scan_skips_a_namespace_with_a_bad_value(hostd, hostile, knob, bad,  # noqa: F811
                                                        says):
    t = hostile()
    knob(t)
    r = connect(hostd, t)
    assert r.rc == 0, r
    good = 3 - bad
    ctrl, = hostd.controllers()
    assert ctrl["state"] == "connected"
    assert [ns["nsid"] for ns in ctrl["namespaces"]] == [good], ctrl["namespaces"]
    assert not os.path.exists(ns_file(hostd, "nvme0ns%d" % bad))
    lines = log_lines(hostd, "nvme0ns%d: " % bad)
    assert len(lines) == 1 and re.search(says + ".*: namespace skipped$", lines[0]), lines
    assert_serves(hostd, t, "nvme0ns%d" % good, good)


@pytest.mark.parametrize("knob,says", [
    (bad_lbads, r"LBA data size 2\^63 is outside"),
    (huge_nsze, r"overflow a file size"),
], ids=["lbads-63", "nsze-overflow"])
def test_rescan_removes_a_namespace_gone_bad_and_brings_it_back(hostd, hostile, knob,  # noqa: F811
                                                                 says):
    t = hostile()
    r = connect(hostd, t)
    assert r.rc == 0, r
    assert_serves(hostd, t, "nvme0ns1", 1)
    knob(t)
    assert t.namespaces_changed([1]) == 1, "hostd had no AER outstanding"
    line, = wait_log(hostd, "nvme0ns1: .*namespace removed")
    assert re.search(says, line), line
    assert not os.path.exists(ns_file(hostd, "nvme0ns1"))
    ctrl, = hostd.controllers()
    assert ctrl["state"] == "connected"
    assert [ns["nsid"] for ns in ctrl["namespaces"]] == [2]
    assert_serves(hostd, t, "nvme0ns2", 2)
    # Sane again: the file is back, with the target's data and size.
    t.namespaces[1] = Namespace(1, 32768)
    t.namespaces[1].data[:4096] = b"\x5a" * 4096
    assert t.namespaces_changed([1]) == 1
    wait_log(hostd, "nvme0ns1: 32768 blocks of 512 bytes", timeout=5)
    deadline = time.monotonic() + 5
    while not os.path.exists(ns_file(hostd, "nvme0ns1")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert os.path.getsize(ns_file(hostd, "nvme0ns1")) == 16 * MIB
    with open(ns_file(hostd, "nvme0ns1"), "rb") as f:
        assert f.read(4096) == b"\x5a" * 4096


# ------------------------------------------------------------ 3. events
class Devctl:
    """The one reader of DIR/devctl: its lines as they come."""

    def __init__(self, rundir):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.path.join(rundir, "devctl"))
        self.buf = b""

    def lines(self, wait):
        """Every line that arrives within wait seconds of quiet."""
        self.sock.settimeout(wait)
        try:
            while True:
                b = self.sock.recv(4096)
                if not b:
                    break
                self.buf += b
        except socket.timeout:
            pass
        return self.buf.decode().splitlines()

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("fault,says", [
    ("break", "the association was lost during the namespace scan"),
    ("refuse", "Identify active namespaces"),
])
def test_handoff_failing_in_the_scan_raises_no_event(hostd, hostile, fault,  # noqa: F811
                                                      says):
    events = Devctl(hostd.rundir)
    try:
        t = hostile()
        t.scan_fault = fault
        r = connect(hostd, t, "-r", "1")
        assert r.rc == 1, r
        assert any(op == 0x06 and cns == 2 for op, cns in t.seen), "no scan reached the target"
        assert events.lines(1.2) == [], "events for a controller that never existed"
        assert hostd.controllers() == []
        assert len(r.err_lines) == 1 and says in r.err, r

        # The stream works: a controller that did exist, lost, is reported, under the
        # name the refused one never kept.
        t.scan_fault = None
        r = connect(hostd, t, "-r", "1")
        assert r.rc == 0 and r.out.startswith("nvme0:"), r
        t.break_connections()
        got = events.lines(1.0)
        assert got[:2] == ['!system=nvme subsystem=controller type=DISCONNECTED name="nvme0"',
                           '!system=nvme subsystem=controller type=RECONNECT name="nvme0"'], got
    finally:
        events.close()
