# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmecontrol: the fabrics commands against real nvmfd targets and nvmf-hostd.

Every test runs its own nvmfd (conftest's nvmfd fixture) and, where the host
side is needed, its own nvmf-hostd in a private run directory (ctl_helpers).
Errors must be one line naming the cause with a non-zero status; usage errors
exit 2; a failed connect leaves nothing connected, neither in nvmf-hostd nor
on the target.
"""

import base64
import json
import os
import re
import socket
import struct
import threading
import time

import pytest

from conftest import ADDR, free_port, new_nqn
from ctl_helpers import (BlackholeListener, SilentListener, assert_one_line_error,  # noqa: F401
                         assert_usage_error, ctl, established_to, fake_hostd, hostd,
                         rundir, wait_until)

HOSTNQN_RE = r"host (\S+) connected to"


def hostd_subnqn_target(nvmfd, *devices, opts=()):
    return nvmfd.start(*(devices or ("ramdisk:16M",)), opts=opts)


def target_forgets_us(t, timeout=5):
    """True once no connection to the target's I/O port is established, on our
    side or on the target's (it saw the association end)."""
    return wait_until(lambda: established_to(t.port, "both") == 0, timeout)


# =================================================================== discover
def test_discover_prints_the_log_like_freebsd(nvmfd):
    t = nvmfd.start("ramdisk:4M")
    r = ctl("discover", "%s:%d" % (ADDR, t.dport))
    assert r.rc == 0, r
    assert r.err == "", r
    lines = r.out.splitlines()
    assert lines[0:2] == ["Discovery", "========="], r
    assert "Entry 01" in lines and "Entry 02" not in lines, r
    fields = dict(re.findall(r"^ ([A-Za-z ]+):\s+(.*)$", r.out, re.M))
    assert fields["Transport type"] == "TCP"
    assert fields["Address family"] == "AF_INET"
    assert fields["Subsystem type"] == "NVMe"
    assert fields["Sub NQN"] == t.subnqn
    assert fields["Transport address"] == ADDR
    assert fields["Service identifier"] == str(t.port)
    assert fields["Controller ID"] == "Dynamic"
    assert fields["Security Type"] == "None"


def test_discover_verbose_identifies_the_discovery_controller(nvmfd):
    t = nvmfd.start()
    r = ctl("discover", "-v", "%s:%d" % (ADDR, t.dport))
    assert r.rc == 0, r
    assert "Discovery Controller" in r.out
    assert re.search(r"NVM Subsystem Name:\s+nqn.2014-08.org.nvmexpress.discovery", r.out), r


def test_discover_empty_log(nvmfd):
    # A host the only subsystem does not admit sees an empty log.
    port, dp = free_port(), free_port()
    nvmfd.start_config({
        "listen": [{"address": ADDR, "port": port}],
        "discovery": {"address": ADDR, "port": dp},
        "subsystems": [{"nqn": new_nqn(), "allowed_hosts": ["nqn.2024-01.io.nvmf:other"],
                        "namespaces": [{"device": "ramdisk:1M"}]}],
    })
    r = ctl("discover", "%s:%d" % (ADDR, dp))
    assert r.rc == 0, r
    assert "No entries found" in r.out
    r = ctl("discover", "-o", "json", "%s:%d" % (ADDR, dp))
    assert r.rc == 0 and r.json()["records"] == [], r


def test_discover_closed_port_is_one_line_and_quick():
    port = free_port()
    r = ctl("discover", "%s:%d" % (ADDR, port))
    assert_one_line_error(r, ADDR, str(port), "refused")
    assert r.elapsed < 2, r


def test_discover_defaults_to_port_8009():
    if established_to(8009) or _listening(8009):
        pytest.skip("something listens on port 8009 here")
    r = ctl("discover", ADDR)
    assert_one_line_error(r, "%s port 8009" % ADDR)


def _listening(port):
    try:
        with socket.create_connection((ADDR, port), timeout=0.2):
            return True
    except OSError:
        return False


def test_discover_target_that_never_answers_icreq_is_bounded():
    silent = SilentListener()
    try:
        r = ctl("discover", "--timeout", "1", "%s:%d" % (ADDR, silent.port))
        assert_one_line_error(r, "ICResp", str(silent.port))
        assert 0.8 < r.elapsed < 3, r
        r = ctl("discover", "--timeout", "300ms", "%s:%d" % (ADDR, silent.port))
        assert_one_line_error(r, "ICResp")
        assert r.elapsed < 2, r
    finally:
        silent.close()


def test_dial_that_gets_no_answer_is_bounded():
    hole = BlackholeListener()
    try:
        r = ctl("discover", "--timeout", "1", "%s:%d" % (ADDR, hole.port))
        assert_one_line_error(r, ADDR, str(hole.port), "no answer")
        assert 0.8 < r.elapsed < 3, r
    finally:
        hole.close()


# ================================================================ host identity
def _host_nqn_seen(t, since=0):
    line = t.wait_log(HOSTNQN_RE, since=since)
    return re.search(HOSTNQN_RE, line).group(1)


def test_hostnqn_from_option_and_environment(nvmfd):
    t = nvmfd.start()
    mine = "nqn.2024-01.io.nvmf.e2e:host-%d" % os.getpid()
    r = ctl("discover", "-q", mine, "%s:%d" % (ADDR, t.dport))
    assert r.rc == 0, r
    assert _host_nqn_seen(t) == mine
    n = len(t.log_lines())
    other = mine + "-env"
    r = ctl("discover", "%s:%d" % (ADDR, t.dport), env={"LIBNVME_HOSTNQN": other})
    assert r.rc == 0, r
    assert _host_nqn_seen(t, since=n) == other
    n = len(t.log_lines())
    r = ctl("discover", "--hostnqn", mine + "-long", "%s:%d" % (ADDR, t.dport))
    assert r.rc == 0, r
    assert _host_nqn_seen(t, since=n) == mine + "-long"


def test_hostnqn_derived_like_nvme_cli(nvmfd, tmp_path):
    t = nvmfd.start()
    # No host NQN anywhere: nqn.2014-08.org.nvmexpress:uuid:<host ID>, the host ID
    # from /etc/nvme/hostid if there is one.
    if os.path.exists("/etc/nvme/hostid"):
        with open("/etc/nvme/hostid") as f:
            hid = f.read().split()[0]
        r = ctl("discover", "%s:%d" % (ADDR, t.dport), env={"LIBNVME_HOSTNQN": ""})
        assert r.rc == 0, r
        assert _host_nqn_seen(t) == "nqn.2014-08.org.nvmexpress:uuid:" + hid

    # Neither: libnvme makes one (nvmf_hostnqn_generate), no longer from the machine ID.
    (tmp_path / "hostid").write_text("0badc0de-0000-4000-8000-00000000beef\n")
    n = len(t.log_lines())
    r = ctl("discover", "%s:%d" % (ADDR, t.dport),
            env={"LIBNVME_HOSTNQN": None, "NVMF_NVME_CONFDIR": str(tmp_path)})
    assert r.rc == 0, r
    assert _host_nqn_seen(t, since=n) == \
        "nqn.2014-08.org.nvmexpress:uuid:0badc0de-0000-4000-8000-00000000beef"
    os.unlink(tmp_path / "hostid")
    n = len(t.log_lines())
    r = ctl("discover", "%s:%d" % (ADDR, t.dport),
            env={"LIBNVME_HOSTNQN": None, "LIBNVME_HOSTID": None,
                 "NVMF_NVME_CONFDIR": str(tmp_path)})
    assert r.rc == 0, r
    assert re.fullmatch(r"nqn\.2014-08\.org\.nvmexpress:uuid:[0-9a-f]{8}-[0-9a-f]{4}-"
                        r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", _host_nqn_seen(t, since=n))


def test_hostnqn_file_is_the_default(nvmfd):
    if not os.path.exists("/etc/nvme/hostnqn"):
        pytest.skip("no /etc/nvme/hostnqn here")
    with open("/etc/nvme/hostnqn") as f:
        want = f.read().strip()
    t = nvmfd.start()
    r = ctl("discover", "%s:%d" % (ADDR, t.dport), env={"LIBNVME_HOSTNQN": None})
    assert r.rc == 0, r
    assert _host_nqn_seen(t) == want


# ================================================================ usage errors
BAD_COMMAND_LINES = [
    [],
    ["frobnicate"],
    ["--bogus", "devlist"],
    ["connect"],
    ["connect", "127.0.0.1:4420"],
    ["connect", "127.0.0.1", "nqn.2024-01.io.x:y"],          # no port
    ["connect", "127.0.0.1:", "nqn.2024-01.io.x:y"],
    ["connect", ":4420", "nqn.2024-01.io.x:y"],
    ["connect", "127.0.0.1:0", "nqn.2024-01.io.x:y"],
    ["connect", "127.0.0.1:70000", "nqn.2024-01.io.x:y"],
    ["connect", "127.0.0.1:http", "nqn.2024-01.io.x:y"],
    ["connect", "[::1", "nqn.2024-01.io.x:y"],
    ["connect", "[::1]:", "nqn.2024-01.io.x:y"],
    ["connect", "[]:4420", "nqn.2024-01.io.x:y"],
    ["connect", "[::1]x4420", "nqn.2024-01.io.x:y"],
    ["connect", "127.0.0.1:4420", "not-an-nqn"],
    ["connect", "127.0.0.1:4420", "nqn.2014-08.org.nvmexpress.discovery"],
    ["connect", "127.0.0.1:4420", "nqn.2024-01.io.x:y", "extra"],
    ["connect", "-i", "0", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-i", "65", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "--nr-io-queues=x", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-Q", "1", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-k", "soon", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-r", "1500ms", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-l", "-5", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-t", "rdma", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-c", "bogus", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-c", "0xfff0", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-q", "nohost", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-I", "not-a-uuid", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "-Z", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "--frobnicate", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect", "127.0.0.1:4420", "nqn.2024-01.io.x:y", "-k"],
    ["connect", "-o", "json", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
    ["connect-all"],
    ["connect-all", "-c", "5", "127.0.0.1"],
    ["connect-all", "127.0.0.1", "nqn.2024-01.io.x:y"],
    ["discover"],
    ["discover", "127.0.0.1:8009", "extra"],
    ["discover", "-o", "xml", "127.0.0.1"],
    ["discover", "--timeout", "0", "127.0.0.1"],
    ["discover", "--traddr", "127.0.0.1", "127.0.0.1"],
    ["disconnect"],
    ["disconnect", "sda"],
    ["disconnect", "nvme0", "nvme1"],
    ["disconnect-all", "nvme0"],
    ["devlist", "extra"],
    ["devlist", "-o", "yaml"],
    ["identify"],
    ["identify", "nvme"],
    ["identify", "nvme0ns0"],
    ["identify", "/dev/nvme0"],
    ["identify", "-v", "nvme0"],
    ["identify", "-x", "-o", "json", "nvme0"],
    ["identify", "-n", "2", "nvme0ns1"],
]


@pytest.mark.parametrize("argv", BAD_COMMAND_LINES, ids=lambda a: " ".join(a) or "(none)")
def test_bad_command_lines_exit_2_with_usage(argv, rundir):
    r = ctl(*argv, rundir=rundir)
    assert_usage_error(r)
    assert r.elapsed < 2, r


def test_help_exits_0():
    for argv in (["-h"], ["--help"], ["help"], ["connect", "-h"], ["discover", "--help"],
                 ["help", "identify"], ["devlist", "-h"], ["disconnect", "-h"]):
        r = ctl(*argv)
        assert r.rc == 0, r
        assert "usage: nvmecontrol" in r.out, r


# ======================================================== no nvmf-hostd running
def test_connect_without_hostd_fails_before_dialing(rundir):
    # The "target" records whether anyone dialed it.
    lst = SilentListener()
    try:
        r = ctl("connect", "%s:%d" % (ADDR, lst.port), "nqn.2024-01.io.x:y", rundir=rundir)
        assert_one_line_error(r, "nvmf-hostd is not running", rundir)
        assert r.elapsed < 1, r
        lst.sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            lst.sock.accept()
    finally:
        lst.close()


def test_connect_with_stale_socket_is_not_running(rundir):
    # A socket file nobody listens on (nvmf-hostd was killed).
    path = os.path.join(rundir, "nvmf.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(path)
    s.close()
    for argv in (["connect", "127.0.0.1:4420", "nqn.2024-01.io.x:y"],
                 ["connect-all", "127.0.0.1"], ["devlist"], ["disconnect", "nvme0"],
                 ["disconnect-all"], ["identify", "nvme0"]):
        r = ctl(*argv, rundir=rundir)
        assert_one_line_error(r, "nvmf-hostd is not running")


def test_refusal_reply_is_read_though_the_request_was_not(rundir):
    """nvmf-hostd turns a client away (out of descriptors, too many clients) with a
    reply and closes. Closed with the request unread, the socket says ECONNRESET before
    the reply can be read: nvmecontrol prints the reply's reason, not "Connection reset
    by peer" (which it did)."""
    path = os.path.join(rundir, "nvmf.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(4)
    reply = json.dumps({"ok": False, "code": "failed",
                        "error": "nvmf-hostd is out of file descriptors (test)"}).encode()

    def serve():
        c, _ = srv.accept()
        time.sleep(0.3)             # the request arrives and is never read
        c.send(reply)
        c.close()
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        r = ctl("devlist", rundir=rundir)
        assert_one_line_error(r, "nvmf-hostd is out of file descriptors (test)")
    finally:
        th.join(5)
        srv.close()

def test_rundir_from_environment(rundir):
    r = ctl("devlist", env={"NVMF_RUNDIR": rundir})
    assert_one_line_error(r, rundir)
    r = ctl("devlist", "--rundir", rundir)
    assert_one_line_error(r, rundir)


# =================================================== what goes to nvmf-hostd
def _fake_accepting(captured):
    def reply(req):
        if req.get("op") == "list":
            return {"ok": True, "controllers": []}
        if req.get("op") == "handoff":
            captured.append(req)
            return {"ok": True, "name": "nvme7", "namespaces": ["nvme7ns1"]}
        return {"ok": False, "code": "invalid", "error": "unexpected"}
    return reply


def test_handoff_message_and_sockets(nvmfd, fake_hostd):
    t = nvmfd.start("ramdisk:8M")
    captured = []
    fake = fake_hostd(_fake_accepting(captured))
    r = ctl("connect", "-i", "3", "-Q", "32", "-k", "30", "-r", "4", "-l", "40",
            "--fast-io-fail-tmo", "6", "-q", "nqn.2024-01.io.nvmf.e2e:hostA",
            "-I", "0badc0de-0000-4000-8000-00000000feed",
            "%s:%d" % (ADDR, t.port), t.subnqn, rundir=fake.rundir)
    assert r.rc == 0, r
    assert r.out.startswith("nvme7: connected to %s" % t.subnqn), r
    [(req, fds)] = fake.handoffs()
    c = req["controller"]
    assert c["transport"] == "tcp" and c["traddr"] == ADDR and c["trsvcid"] == str(t.port)
    assert c["adrfam"] == "ipv4"
    assert c["subnqn"] == t.subnqn
    assert c["hostnqn"] == "nqn.2024-01.io.nvmf.e2e:hostA"
    assert c["hostid"] == "0badc0de-0000-4000-8000-00000000feed"
    assert c["kato_ms"] == 30000 and c["reconnect_delay"] == 4 and c["ctrl_loss_tmo"] == 40
    assert c["fast_io_fail_tmo"] == 6
    assert c["nr_io_queues"] == 3 and c["queue_size"] == 32
    assert c["hdr_digest"] is False and c["data_digest"] is False
    # FreeBSD's default: no -F, so the host asks to disable SQ flow control.
    assert c["sq_flow_control"] is False
    ident = base64.b64decode(c["identify"])
    assert len(ident) == 4096
    assert ident[768:1024].rstrip(b"\0").decode() == t.subnqn
    assert struct.unpack_from("<H", ident, 78)[0] == c["cntlid"]

    qs = req["queues"]
    assert [q["qid"] for q in qs] == [0, 1, 2, 3]
    assert len(fds) == 4, "one socket per queue, admin first"
    assert qs[0]["qsize"] == 32 and all(q["qsize"] == 32 for q in qs[1:])
    for q in qs:
        assert q["hdgst"] is False and q["ddgst"] is False
        assert q["max_h2c_data"] >= 4096
        assert 0 <= q["sqhd"] < q["qsize"] and 0 <= q["sqtail"] < q["qsize"]
    # The I/O queues carry in-capsule data as IOCCSZ says.
    ioccsz = struct.unpack_from("<I", ident, 1792)[0]
    assert all(q["icd_size"] == ioccsz * 16 - 64 for q in qs[1:])
    # Each descriptor is a socket connected to the target's port.
    for fd in fds:
        s = socket.socket(fileno=os.dup(fd))
        try:
            assert s.getpeername()[1] == t.port
        finally:
            s.close()
    # nvmecontrol closed its own copies: only the fake's keep the queues up.
    assert established_to(t.port) == 4
    fake.close_fds()
    assert target_forgets_us(t), "the target still has connections after hostd let go"


def test_handoff_refused_leaves_nothing_connected(nvmfd, fake_hostd):
    t = nvmfd.start()

    def reply(req):
        if req.get("op") == "list":
            return {"ok": True, "controllers": []}
        return {"ok": False, "code": "invalid", "error": "queue sizes differ"}
    fake = fake_hostd(reply)
    r = ctl("connect", "-i", "2", "%s:%d" % (ADDR, t.port), t.subnqn, rundir=fake.rundir)
    assert_one_line_error(r, "queue sizes differ", t.subnqn)
    fake.close_fds()           # as nvmf-hostd does with a refused hand-off
    assert target_forgets_us(t)


def test_digests_and_flow_control_are_negotiated(nvmfd, fake_hostd):
    t = nvmfd.start(opts=["-g", "-G", "-F"])
    captured = []
    fake = fake_hostd(_fake_accepting(captured))
    # FreeBSD's -F requests SQ flow control.
    r = ctl("connect", "-g", "--data-digest", "-F", "%s:%d" % (ADDR, t.port), t.subnqn,
            rundir=fake.rundir)
    assert r.rc == 0, r
    [(req, fds)] = fake.handoffs()
    assert req["controller"]["hdr_digest"] and req["controller"]["data_digest"]
    assert req["controller"]["sq_flow_control"] is True
    for q in req["queues"]:
        assert q["hdgst"] and q["ddgst"] and q["sq_flow_control"] is True
    t.wait_log(r"header digest, data digest")
    # nvme-cli's other spellings; --disable-sqflow asks to disable it.
    r = ctl("connect", "--hdr_digests", "--data_digests", "--disable-sqflow",
            "%s:%d" % (ADDR, t.port), t.subnqn, rundir=fake.rundir)
    assert r.rc == 0, r
    (req2, _) = fake.handoffs()[1]
    assert req2["controller"]["hdr_digest"] and req2["controller"]["data_digest"], req2
    assert req2["controller"]["sq_flow_control"] is False, req2
    for q in req2["queues"]:
        assert q["hdgst"] and q["ddgst"] and q["sq_flow_control"] is False, q
    # FreeBSD's long name, and its default: ask to disable it.
    r = ctl("connect", "--flow_control", "%s:%d" % (ADDR, t.port), t.subnqn,
            rundir=fake.rundir)
    assert r.rc == 0, r
    r = ctl("connect", "%s:%d" % (ADDR, t.port), t.subnqn, rundir=fake.rundir)
    assert r.rc == 0, r
    (req3, _), (req4, _) = fake.handoffs()[2:4]
    assert req3["controller"]["sq_flow_control"] is True, req3
    assert req4["controller"]["sq_flow_control"] is False, req4
    fake.close_fds()


def test_options_nvme_cli_long_names(nvmfd, fake_hostd):
    t = nvmfd.start()
    captured = []
    fake = fake_hostd(_fake_accepting(captured))
    r = ctl("connect", "--traddr", ADDR, "--trsvcid", t.port, "--nqn", t.subnqn,
            "--nr-io-queues=2", "--queue-size", "16", "--keep-alive-tmo", "2m",
            "--reconnect-delay", "5", "--ctrl-loss-tmo", "-1", "--hostnqn",
            "nqn.2024-01.io.nvmf.e2e:long", "--transport", "TCP", rundir=fake.rundir)
    assert r.rc == 0, r
    c = fake.handoffs()[0][0]["controller"]
    assert c["nr_io_queues"] == 2 and c["queue_size"] == 16 and c["kato_ms"] == 120000
    assert c["reconnect_delay"] == 5 and c["ctrl_loss_tmo"] == 0
    assert c["hostnqn"] == "nqn.2024-01.io.nvmf.e2e:long"
    fake.close_fds()


def test_defaults(nvmfd, fake_hostd):
    t = nvmfd.start()
    captured = []
    fake = fake_hostd(_fake_accepting(captured))
    r = ctl("connect", "%s:%d" % (ADDR, t.port), t.subnqn, rundir=fake.rundir)
    assert r.rc == 0, r
    c = fake.handoffs()[0][0]["controller"]
    # 1 I/O queue, MQES+1 (nvmfd: 128), KATO 120 s, 10 s, 600 s, fast I/O fail off.
    assert c["nr_io_queues"] == 1 and c["queue_size"] == 128
    assert c["kato_ms"] == 120000 and c["reconnect_delay"] == 10
    assert c["ctrl_loss_tmo"] == 600 and c["fast_io_fail_tmo"] == -1
    t.wait_log(r"queue 0 \(size 32, KATO 120000 ms")
    fake.close_fds()


# ============================================================ connect errors
def test_wrong_subnqn(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("connect", "%s:%d" % (ADDR, t.port), t.subnqn + "-nope")
    assert_one_line_error(r, t.subnqn + "-nope", "no such subsystem")
    assert hostd.controllers() == []
    assert target_forgets_us(t)


def test_refused_host_nqn(nvmfd, hostd):
    port = free_port()
    nqn = new_nqn("private")
    t = nvmfd.start_config({
        "listen": [{"address": ADDR, "port": port}],
        "subsystems": [{"nqn": nqn, "allowed_hosts": ["nqn.2024-01.io.nvmf.e2e:allowed"],
                        "namespaces": [{"device": "ramdisk:1M"}]}],
    })
    r = hostd.ctl("connect", "-q", "nqn.2024-01.io.nvmf.e2e:stranger",
                  "%s:%d" % (ADDR, port), nqn)
    assert_one_line_error(r, "Connect Invalid Host", nqn)
    assert hostd.controllers() == []
    assert target_forgets_us(t)
    # The allowed one gets in.
    r = hostd.ctl("connect", "-q", "nqn.2024-01.io.nvmf.e2e:allowed",
                  "%s:%d" % (ADDR, port), nqn)
    assert r.rc == 0, r
    [c] = hostd.controllers()
    assert c["hostnqn"] == "nqn.2024-01.io.nvmf.e2e:allowed"


def test_unreachable_address(nvmfd, hostd):
    port = free_port()
    r = hostd.ctl("connect", "%s:%d" % (ADDR, port), "nqn.2024-01.io.x:y")
    assert_one_line_error(r, ADDR, str(port), "refused")
    assert hostd.controllers() == []


def test_silent_target_is_bounded(hostd):
    silent = SilentListener()
    try:
        r = hostd.ctl("connect", "--timeout", "1", "%s:%d" % (ADDR, silent.port),
                      "nqn.2024-01.io.x:y")
        assert_one_line_error(r, "ICResp")
        assert r.elapsed < 3, r
    finally:
        silent.close()
    hole = BlackholeListener()
    try:
        r = hostd.ctl("connect", "--timeout", "1", "%s:%d" % (ADDR, hole.port),
                      "nqn.2024-01.io.x:y")
        assert_one_line_error(r, "no answer")
        assert r.elapsed < 3, r
    finally:
        hole.close()
    assert hostd.controllers() == []


def test_queue_size_beyond_mqes(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("connect", "-Q", "4096", "%s:%d" % (ADDR, t.port), t.subnqn)
    assert_one_line_error(r, "4096", "maximum (128)")
    assert hostd.controllers() == []
    assert target_forgets_us(t)


def test_digests_refused_by_target(nvmfd, hostd):
    t = nvmfd.start(opts=("--strict",))   # strict without -g: digests not granted
    r = hostd.ctl("connect", "-g", "%s:%d" % (ADDR, t.port), t.subnqn)
    assert_one_line_error(r, "header digest")
    # Without -F the host asks to disable SQ flow control (FreeBSD's default);
    # a strict nvmfd without -F refuses that, and the error says -F requests it.
    r = hostd.ctl("connect", "%s:%d" % (ADDR, t.port), t.subnqn)
    assert_one_line_error(r, "flow control", "-F")
    assert hostd.controllers() == []
    assert target_forgets_us(t)
    r = hostd.ctl("connect", "-F", "%s:%d" % (ADDR, t.port), t.subnqn)
    assert r.rc == 0, r


def test_connect_to_discovery_port_is_refused(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("connect", "%s:%d" % (ADDR, t.dport), t.subnqn)
    assert r.rc == 1, r
    assert len(r.err_lines) == 1
    assert hostd.controllers() == []


# ================================================== connect through nvmf-hostd
def test_connect_devlist_identify_disconnect(nvmfd, hostd):
    t = nvmfd.start("ramdisk:64M", "ramdisk:8M")
    r = hostd.ctl("connect", "-i", "2", "%s:%d" % (ADDR, t.port), t.subnqn)
    assert r.rc == 0, r
    assert r.out.strip() == "nvme0: connected to %s at %s:%d (nvme0ns1, nvme0ns2)" % (
        t.subnqn, ADDR, t.port), r

    r = hostd.ctl("devlist")
    assert r.rc == 0, r
    assert r.out.splitlines() == [
        " nvme0: nvmf nvmfd (Controller 1 via TCP %s:%d)" % (ADDR, t.port),
        "    nvme0ns1 (64MB)",
        "    nvme0ns2 (8MB)",
    ], r
    [c] = hostd.controllers()
    assert c["name"] == "nvme0" and c["state"] == "connected" and c["subnqn"] == t.subnqn
    assert c["io_queues"] == 2
    assert [n["name"] for n in c["namespaces"]] == ["nvme0ns1", "nvme0ns2"]
    assert os.path.getsize(os.path.join(hostd.rundir, "dev", "nvme0ns1")) == 64 << 20

    r = hostd.ctl("identify", "nvme0")
    assert r.rc == 0, r
    f = dict(re.findall(r"^([A-Za-z/ ]+):\s+(.*)$", r.out, re.M))
    assert f["Model Number"] == "nvmf nvmfd"
    assert f["Controller ID"] == "0x0001"
    assert f["Number of Namespaces"] == "2"
    assert f["NVM Subsystem Name"] == t.subnqn
    assert f["Max Data Transfer Size"].endswith("bytes")
    assert f["Keep Alive Timer"].endswith("ms granularity")
    for key in ("I/O Command Capsule Size", "I/O Response Capsule Size",
                "In Capsule Data Offset", "Max SGL Descriptors", "Version", "Serial Number",
                "Firmware Version", "Vendor ID"):
        assert key in f, key

    r = hostd.ctl("identify", "-o", "json", "nvme0")
    assert r.rc == 0, r
    j = r.json()
    assert j["subnqn"] == t.subnqn and j["cntlid"] == 1 and j["nn"] == 2
    assert j["mn"] == "nvmf nvmfd" and j["ioccsz"] >= 4 and j["cntrltype"] == 1

    r = hostd.ctl("identify", "-x", "nvme0")
    assert r.rc == 0, r
    rows = r.out.strip().splitlines()
    assert rows[0].startswith("000: ") and len(rows) == 3072 // 32
    r = hostd.ctl("identify", "-x", "-v", "nvme0")
    assert len(r.out.strip().splitlines()) == 4096 // 32

    r = hostd.ctl("identify", "nvme0ns2")
    assert r.rc == 0, r
    f = dict(re.findall(r"^([A-Za-z0-9 ]+):\s+(.*)$", r.out, re.M))
    assert f["Size"] == "16384 blocks" and f["Capacity"] == "16384 blocks"
    assert "Globally Unique Identifier" in f and "IEEE EUI64" in f
    assert re.search(r"^LBA Format #00: Data Size:\s+512\b", r.out, re.M), r
    r = hostd.ctl("identify", "-o", "json", "-n", "1", "nvme0")
    assert r.rc == 0, r
    j = r.json()
    assert j["nsze"] == 131072 and j["lbafs"][0]["ds"] == 9
    assert len(j["nguid"]) == 32

    r = hostd.ctl("identify", "nvme0ns3")
    assert_one_line_error(r, "nvme0ns3")
    r = hostd.ctl("identify", "nvme4")
    assert_one_line_error(r, "nvme4")

    r = hostd.ctl("disconnect", "nvme0")
    assert r.rc == 0, r
    assert hostd.controllers() == []
    r = hostd.ctl("devlist")
    assert r.rc == 1 and r.out.strip() == "No NVMe controllers found.", r
    assert target_forgets_us(t)
    r = hostd.ctl("disconnect", "nvme0")
    assert_one_line_error(r, "nvme0")


def test_connect_parameters_reach_hostd(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("connect", "-i", "4", "-Q", "16", "-k", "5", "-r", "3", "-l", "30",
                  "--fast-io-fail-tmo", "7", "%s:%d" % (ADDR, t.port), t.subnqn)
    assert r.rc == 0, r
    [c] = hostd.controllers()
    assert (c["io_queues"], c["queue_size"], c["kato_ms"]) == (4, 16, 5000)
    assert (c["reconnect_delay"], c["ctrl_loss_tmo"], c["fast_io_fail_tmo"]) == (3, 30, 7)


def test_digests_through_hostd(nvmfd, hostd):
    t = nvmfd.start(opts=["-g", "-G", "-F"])
    r = hostd.ctl("connect", "-g", "-G", "-F", "-i", "2", "%s:%d" % (ADDR, t.port),
                  t.subnqn)
    assert r.rc == 0, r
    [c] = hostd.controllers()
    assert c["hdr_digest"] and c["data_digest"]
    r = hostd.ctl("identify", "nvme0ns1")     # a command through the digested queue
    assert r.rc == 0, r


def test_disconnect_by_subnqn_namespace_and_all(nvmfd, hostd):
    t1 = nvmfd.start()
    t2 = nvmfd.start()
    for t in (t1, t1, t2):
        r = hostd.ctl("connect", "-D", "%s:%d" % (ADDR, t.port), t.subnqn)
        assert r.rc == 0, r
    assert [c["name"] for c in hostd.controllers()] == ["nvme0", "nvme1", "nvme2"]
    r = hostd.ctl("disconnect", "-v", t1.subnqn)
    assert r.rc == 0, r
    assert sorted(r.out.split()) == sorted(["nvme0:", "disconnected", "nvme1:",
                                            "disconnected"]), r
    assert [c["name"] for c in hostd.controllers()] == ["nvme2"]
    r = hostd.ctl("connect", "%s:%d" % (ADDR, t1.port), t1.subnqn)
    assert r.rc == 0 and r.out.startswith("nvme0:"), r       # lowest free number
    r = hostd.ctl("disconnect", "nvme2ns1")
    assert r.rc == 0, r
    assert [c["name"] for c in hostd.controllers()] == ["nvme0"]
    r = hostd.ctl("disconnect", "--nqn", "nqn.2024-01.io.nvmf.e2e:unknown")
    assert_one_line_error(r, "unknown")
    r = hostd.ctl("disconnect-all")
    assert r.rc == 0, r
    assert hostd.controllers() == []
    r = hostd.ctl("disconnect-all")
    assert r.rc == 0, r
    assert target_forgets_us(t1) and target_forgets_us(t2)


# ================================================================ connect-all
def _two_subsystem_target(nvmfd, allowed=None, opts=()):
    p1, p2, dp = free_port(), free_port(), free_port()
    a, b = new_nqn("a"), new_nqn("b")
    sb = {"nqn": b, "ports": [1, 2], "namespaces": [{"device": "ramdisk:2M"}]}
    if allowed:
        sb["allowed_hosts"] = allowed
    t = nvmfd.start_config({
        "listen": [{"address": ADDR, "port": p1}, {"address": ADDR, "port": p2}],
        "discovery": {"address": ADDR, "port": dp},
        "subsystems": [{"nqn": a, "ports": [1], "namespaces": [{"device": "ramdisk:1M"}]},
                       sb],
    }, opts=opts)
    return t, a, b, p1, p2, dp


def test_connect_all_connects_every_entry_once(nvmfd, hostd):
    t, a, b, p1, p2, dp = _two_subsystem_target(nvmfd)
    r = hostd.ctl("connect-all", "-i", "2", "%s:%d" % (ADDR, dp))
    assert r.rc == 0, r
    got = sorted((c["subnqn"], c["trsvcid"], c["io_queues"]) for c in hostd.controllers())
    assert got == sorted([(a, str(p1), 2), (b, str(p1), 2), (b, str(p2), 2)]), got
    assert len(r.out.splitlines()) == 3 and "connected to" in r.out, r

    # Again: everything is a duplicate of an existing controller.
    r = hostd.ctl("connect-all", "-v", "%s:%d" % (ADDR, dp))
    assert r.rc == 0, r
    assert r.out.count("already connected") == 3, r
    assert len(hostd.controllers()) == 3

    # One gone: only that one comes back.
    victim = [c for c in hostd.controllers() if c["trsvcid"] == str(p2)][0]["name"]
    assert hostd.ctl("disconnect", victim).rc == 0
    r = hostd.ctl("connect-all", "%s:%d" % (ADDR, dp))
    assert r.rc == 0, r
    assert len(r.out.splitlines()) == 1 and str(p2) in r.out, r
    assert len(hostd.controllers()) == 3


def test_connect_all_default_port_and_errors(nvmfd, hostd):
    # Discovery address that does not answer: one line, nothing connected.
    port = free_port()
    r = hostd.ctl("connect-all", "%s:%d" % (ADDR, port))
    assert_one_line_error(r, str(port))
    if not _listening(8009):
        r = hostd.ctl("connect-all", ADDR)
        assert_one_line_error(r, "port 8009")
    assert hostd.controllers() == []


def test_connect_all_with_a_host_the_target_filters(nvmfd, hostd):
    t, a, b, p1, p2, dp = _two_subsystem_target(nvmfd,
                                                allowed=["nqn.2024-01.io.nvmf.e2e:vip"])
    r = hostd.ctl("connect-all", "-q", "nqn.2024-01.io.nvmf.e2e:plain", "%s:%d" % (ADDR, dp))
    assert r.rc == 0, r
    assert [c["subnqn"] for c in hostd.controllers()] == [a]
    r = hostd.ctl("connect-all", "-q", "nqn.2024-01.io.nvmf.e2e:vip", "%s:%d" % (ADDR, dp))
    assert r.rc == 0, r
    got = sorted((c["subnqn"], c["hostnqn"]) for c in hostd.controllers())
    assert len(got) == 4, got      # the other host's connection to a is not a duplicate


def test_connect_all_reports_failures_and_goes_on(nvmfd, hostd):
    # Every entry refuses header digests (nvmfd --strict without -g): each failure
    # is one line, every entry is still tried, and the status is non-zero.
    t, a, b, p1, p2, dp = _two_subsystem_target(nvmfd, opts=("--strict",))
    r = hostd.ctl("connect-all", "-g", "%s:%d" % (ADDR, dp))
    assert r.rc == 1, r
    assert len(r.err_lines) == 3 and all("digest" in x for x in r.err_lines), r
    assert hostd.controllers() == []
    assert target_forgets_us(t)


def test_connect_all_without_hostd_fails_first(nvmfd, rundir):
    t = nvmfd.start()
    r = ctl("connect-all", "%s:%d" % (ADDR, t.dport), rundir=rundir)
    assert_one_line_error(r, "nvmf-hostd is not running")
    time.sleep(0.1)
    assert "connected to" not in t.log(), "discovery was dialed without nvmf-hostd"


def test_json_outputs_parse(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("devlist", "-o", "json")
    assert r.rc == 0 and json.loads(r.out) == {"controllers": []}, r
    assert hostd.ctl("connect", "%s:%d" % (ADDR, t.port), t.subnqn).rc == 0
    for argv in (["devlist", "-o", "json"], ["identify", "-o", "json", "nvme0"],
                 ["identify", "-o", "json", "nvme0ns1"],
                 ["discover", "-o", "json", "%s:%d" % (ADDR, t.dport)]):
        r = hostd.ctl(*argv)
        assert r.rc == 0, r
        json.loads(r.out)


def test_cntlid_option(nvmfd, fake_hostd):
    t = nvmfd.start()
    captured = []
    fake = fake_hostd(_fake_accepting(captured))
    # static: the admin Connect asks for any static controller (0xFFFE); nvmfd,
    # a dynamic-model target, hands out one of its own.
    r = ctl("connect", "-c", "static", "%s:%d" % (ADDR, t.port), t.subnqn, rundir=fake.rundir)
    assert r.rc == 0, r
    cntlid = fake.handoffs()[0][0]["controller"]["cntlid"]
    # The controller handed over is the one nvmfd made for this Connect.
    t.wait_log(r"connected to %s, controller %d queue 0" % (re.escape(t.subnqn), cntlid))
    fake.close_fds()
    # A specific controller ID the target does not have.
    r = ctl("connect", "--cntlid", "5", "%s:%d" % (ADDR, t.port), t.subnqn,
            rundir=fake.rundir)
    assert_one_line_error(r, "no such controller")
    assert len(fake.handoffs()) == 1
    assert target_forgets_us(t)
