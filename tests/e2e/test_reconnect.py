# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Issue 4: the host keeps its controllers across target and network failures.

Every test runs the whole stack in its own run directory (reconnect_helpers.Stack):
its own nvmfd over a file (so data can be checked in the file itself), nvmf-hostd,
nvmf-devd with the shipped etc/nvmf.conf, and a reader on DIR/devd.pipe that stamps
each event line with time.monotonic(). Unless a test says otherwise the controller
is connected with -r 1 -l 5. Each test prints what it measured as one line
"TIMING <test>: ..." (also when it fails), straight to the terminal.
"""

import errno
import json
import os
import random
import re
import shutil
import socket
import threading
import time

import pytest

import reconnect_helpers as rh
from reconnect_helpers import stack  # noqa: F401  (the fixture)
from reconnect_helpers import (EXIT_BUSY, EXIT_CONNECTED, EXIT_ERROR, EXIT_OK, MIB, Op,
                               PatternWriter, block_pattern, event_line, pread_op,
                               wait_until)

BLOCK = rh.BLOCK


def need(*programs):
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.fail("missing programs %s (scripts/install-deps.sh installs them)" % missing)


class Timings:
    def __init__(self, name):
        self.name = name
        self.items = []

    def add(self, key, value):
        if isinstance(value, float):
            value = "%.3fs" % value
        elif isinstance(value, (list, tuple)):
            value = "[" + ",".join("%.3f" % v if isinstance(v, float) else str(v)
                                   for v in value) + "]"
        self.items.append("%s=%s" % (key, value))

    def line(self):
        return "TIMING %s: %s" % (self.name, " ".join(self.items) or "(nothing measured)")


@pytest.fixture
def timing(request, capsys):
    """Collects a test's measurements; prints them as one TIMING line to the terminal
    (bypassing pytest's capture), also when the test fails."""
    t = Timings(request.node.name)
    yield t
    with capsys.disabled():
        print("\n" + t.line(), flush=True)




def sleep_until(t):
    left = t - time.monotonic()
    if left > 0:
        time.sleep(left)


def assert_event_lines(s, name="nvme0"):
    """Every line on devd.pipe is one of the four events, exactly in devd's notation."""
    allowed = {event_line(e, name) for e in ("DISCONNECTED", "RECONNECT", "RECONNECTED",
                                             "DETACHED")}
    bad = [ln for _, ln in s.events.snapshot() if ln not in allowed]
    assert not bad, "lines on devd.pipe not in the events' form: %r" % bad


def types_after(s, t0, name="nvme0"):
    prefix = event_line("X", name).split("type=")[0] + "type="
    out = []
    for t, ln in s.events.snapshot():
        if t >= t0 and ln.startswith(prefix):
            out.append((t - t0, ln[len(prefix):].split(" ")[0]))
    return out


def lose_by_hand(s, t):
    """Starts the stack, connects with reconnect-delay 0 (no RECONNECT events: reconnects
    are by hand) and kills the target: nvme0 is disconnected."""
    s.start()
    s.connect(t, "-r", 0, "-l", 30)
    t_kill = t.kill()
    s.events.wait_for("DISCONNECTED", since=t_kill, timeout=2)
    return t_kill


def state_of(s, name="nvme0"):
    c = s.controller(name)
    return None if c is None else c["state"]


# --------------------------------------------------------------------------- a
def test_a_kill_restart_under_verifying_writes(stack, timing):
    """kill -9 nvmfd under a verifying write workload, restart it 3 s later: DISCONNECTED,
    RECONNECT at 0, 1, 2, 3 s, RECONNECTED; I/O resumes within 1.1 s of the restart;
    everything written reads back; the workload saw no error."""
    need("fio")
    s = stack("a")
    img, salt = s.image(size=32 * MIB, pattern_blocks=1024)
    t = s.target(img)
    s.start()
    s.connect(t, "-r", 1, "-l", 5)
    path = s.ns_path()
    w = PatternWriter(path, salt, nblocks=1024, threads=4).start()
    fio = rh.fio_verify_write(path, s.dir, offset_mb=16, size_mb=4, rate_iops=150)
    s.cleanups.append(w.stop)
    s.cleanups.append(lambda: fio.poll() is None and fio.kill())
    t_start = time.monotonic()
    wait_until(lambda: len(w.writes()) >= 100 and not w.errors, 10, what="100 writes")
    sleep_until(t_start + 1.0)
    assert not w.errors, w.errors
    writes_before = len(w.writes())

    t_kill = t.kill()
    sleep_until(t_kill + 3.0)
    t.start()
    t_restart, t_listen = t.started_at, t.listening_at
    timing.add("restart_after_kill", t_restart - t_kill)
    timing.add("listening_after_restart", t_listen - t_restart)

    t_rced = s.events.wait_for("RECONNECTED", since=t_kill, timeout=5)
    first_after = wait_until(
        lambda: min((e for _, e in w.writes() if e > t_restart), default=None), 3,
        what="a write completed after the restart")
    resume = first_after - t_restart
    timing.add("reconnected_event_after_restart", t_rced - t_restart)
    timing.add("first_write_after_restart", resume)
    timing.add("first_write_after_listening", first_after - t_listen)
    # A little more writing on the new association, then the verdicts.
    n_at = len(w.writes())
    wait_until(lambda: len(w.writes()) >= n_at + 200 or w.errors, 5, what="200 more writes")
    assert w.stop(), "writer threads did not stop"
    timing.add("writes", "%d(before kill %d)" % (len(w.writes()), writes_before))

    seq = types_after(s, t_kill)
    timing.add("events_after_kill", ["%s@%.3f" % (ty, dt) for dt, ty in seq])
    assert_event_lines(s)
    kinds = [ty for _, ty in seq]
    assert kinds[0] == "DISCONNECTED", seq
    assert kinds[-1] == "RECONNECTED", seq
    assert set(kinds[1:-1]) == {"RECONNECT"}, seq
    recs = [dt for dt, ty in seq if ty == "RECONNECT"]
    assert seq[0][0] <= 0.3, "DISCONNECTED %.3f s after the kill" % seq[0][0]
    assert len(recs) >= 4, "RECONNECT events at %s" % recs
    for k in range(4):
        assert abs(recs[k] - k) <= 0.3, "RECONNECT #%d at %.3f s, expected %d s +-0.3: %s" % (
            k + 1, recs[k], k, recs)
    assert resume <= 1.1, "I/O resumed %.3f s after the restart (more than 1.1 s)" % resume

    assert not w.errors, "the writer saw I/O errors: %s" % w.errors[:5]
    rc, text, job = rh.fio_result(fio, 30)
    timing.add("fio_rc", rc)
    assert rc == 0 and job is not None and job.get("error", 0) == 0, \
        "fio failed (rc %s):\n%s" % (rc, text[-3000:])
    bad = w.verify()
    assert not bad, "%d blocks read back wrong through %s: %s" % (len(bad), path, bad[:5])
    bad = w.verify(img)
    assert not bad, "%d blocks wrong in the backing file: %s" % (len(bad), bad[:5])
    c = s.controller()
    assert c["state"] == "connected", c


# --------------------------------------------------------------------------- b
def test_b_target_never_returns_detach(stack, timing):
    """The target never comes back: DETACHED 5 s (+-0.5) after the kill, a read blocked
    since the loss fails with EIO then, the namespace file goes, devlist forgets nvme0."""
    s = stack("b")
    img, salt = s.image()
    t = s.target(img)
    s.start()
    s.connect(t, "-r", 1, "-l", 5)
    path = s.ns_path()
    assert rh.file_block(path, 7) == block_pattern(salt, 7, 0)

    t_kill = t.kill()
    t_disc = s.events.wait_for("DISCONNECTED", since=t_kill, timeout=2)
    timing.add("disconnected_after_kill", t_disc - t_kill)
    rd = pread_op(path, 8 * BLOCK, BLOCK).start()
    assert not rd.join(4.3 - (time.monotonic() - t_kill)), \
        "the read ended %.3f s after the kill (%r, %r), before the controller loss timeout" % (
            rd.ended - t_kill, rd.result, rd.error)
    c = s.controller()
    assert c is not None and c["state"] in ("disconnected", "reconnecting"), c
    timing.add("held_io_at_4.3s", c.get("held_io"))
    timing.add("detach_in_ms_at_4.3s", c.get("detach_in_ms"))

    t_det = s.events.wait_for("DETACHED", since=t_kill, timeout=3)
    assert rd.join(3), "the read blocked since the loss still blocks after DETACHED"
    timing.add("detached_after_kill", t_det - t_kill)
    timing.add("read_failed_after_kill", rd.ended - t_kill)
    timing.add("events_after_kill", ["%s@%.3f" % (ty, dt) for dt, ty in types_after(s, t_kill)])
    assert abs((t_det - t_kill) - 5) <= 0.5, "DETACHED %.3f s after the kill" % (t_det - t_kill)
    assert rd.error is not None and rd.error.errno == errno.EIO, \
        "the held read ended with %r / %r, not EIO" % (rd.result, rd.error)
    assert abs((rd.ended - t_kill) - 5) <= 0.5, "the read failed %.3f s after the kill" % (
        rd.ended - t_kill)
    t_gone = wait_until(lambda: not os.path.exists(path) and time.monotonic(), 2,
                        what="%s to go away" % path)
    timing.add("file_gone_after_kill", t_gone - t_kill)
    assert not os.path.exists(path)
    assert [c["name"] for c in s.devlist()] == [], s.devlist()
    assert_event_lines(s)
    # No more RECONNECT after DETACHED.
    time.sleep(1.2)
    late = [ty for dt, ty in types_after(s, t_det + 0.001)]
    assert late == [], "events after DETACHED: %s" % late


# --------------------------------------------------------------------------- c
def test_c_reconnect_delay_zero_waits_for_a_manual_reconnect(stack, timing):
    """-r 0: DISCONNECTED but no RECONNECT; the controller waits, a held read does not
    fail; nvmfd back and `nvmecontrol reconnect nvme0` by hand heals it: exit 0, the
    held read completes with the right data, RECONNECTED."""
    s = stack("c")
    img, salt = s.image()
    t = s.target(img)
    s.start()
    s.connect(t, "-r", 0, "-l", 5)
    path = s.ns_path()

    t_kill = t.kill()
    t_disc = s.events.wait_for("DISCONNECTED", since=t_kill, timeout=2)
    timing.add("disconnected_after_kill", t_disc - t_kill)
    rd = pread_op(path, 9 * BLOCK, BLOCK).start()
    sleep_until(t_kill + 3.0)
    assert s.events.of_type("RECONNECT") == [], "RECONNECT events with -r 0:\n%s" % (
        s.events.format())
    c = s.controller()
    assert c["state"] == "disconnected", c
    assert "next_event_ms" not in c, c
    assert c["reconnect_events"] == 0 and c["reconnect_attempts"] == 0, c
    assert not rd.done(), "the held read ended (%r, %r)" % (rd.result, rd.error)
    timing.add("held_io_at_3s", c["held_io"])
    assert c["held_io"] >= 1, c

    t.start()
    t_cmd = time.monotonic()
    r = s.ctl("reconnect", "nvme0", timeout=20)
    timing.add("manual_reconnect_took", r.elapsed)
    assert r.rc == EXIT_OK, r
    t_rced = s.events.wait_for("RECONNECTED", since=t_kill, timeout=2)
    timing.add("reconnected_event_after_cmd_start", t_rced - t_cmd)
    assert rd.join(2), "the held read still blocks after the reconnect"
    timing.add("held_read_done_after_cmd_start", rd.ended - t_cmd)
    assert rd.error is None, rd.error
    assert rd.result == block_pattern(salt, 9, 0), "the held read returned the wrong data"
    kinds = [ty for _, ty in types_after(s, t_kill)]
    assert kinds == ["DISCONNECTED", "RECONNECTED"], kinds
    assert_event_lines(s)
    assert state_of(s) == "connected"
    # The kept reconnect delay stays 0.
    assert s.controller()["reconnect_delay"] == 0


# --------------------------------------------------------------------------- d
def test_d_ctrl_loss_zero_never_detaches(stack, timing):
    """-l 0: RECONNECT events go on 7.5 s after the kill (well past 5 s), no DETACHED;
    the target back, it heals and the data is there."""
    s = stack("d")
    img, salt = s.image()
    t = s.target(img)
    s.start()
    s.connect(t, "-r", 1, "-l", 0)
    path = s.ns_path()

    t_kill = t.kill()
    rd = pread_op(path, 10 * BLOCK, BLOCK).start()
    sleep_until(t_kill + 7.5)
    c = s.controller()
    assert c is not None and c["state"] in ("disconnected", "reconnecting"), c
    assert "detach_in_ms" not in c, c
    recs = [dt for dt, ty in types_after(s, t_kill) if ty == "RECONNECT"]
    timing.add("reconnect_events_in_7.5s", len(recs))
    timing.add("last_reconnect_event", recs[-1] if recs else None)
    assert s.events.of_type("DETACHED") == [], s.events.format()
    assert len(recs) >= 8 and recs[-1] >= 7.0 - 0.3, "RECONNECT events at %s" % recs
    assert os.path.exists(path)
    assert not rd.done(), "the held read ended (%r, %r)" % (rd.result, rd.error)
    timing.add("reconnect_attempts_in_7.5s", c["reconnect_attempts"])

    t.start()
    t_rced = s.events.wait_for("RECONNECTED", since=t_kill, timeout=3)
    timing.add("reconnected_after_restart", t_rced - t.started_at)
    assert rd.join(2), "the held read still blocks after RECONNECTED"
    assert rd.error is None and rd.result == block_pattern(salt, 10, 0), (rd.result, rd.error)
    assert state_of(s) == "connected"
    assert rh.file_block(path, 11) == block_pattern(salt, 11, 0)
    assert_event_lines(s)


# --------------------------------------------------------------------------- e
def test_e_silent_partition(stack, timing):
    """nvmfd in its own network namespace behind a veth pair; an nftables rule there drops
    all TCP to and from its port (no RST, nothing): with -k 2 the loss is seen within
    2.2 s; removing the rule heals it, and the data (including a write held across the
    partition) is intact."""
    need("ip", "nft")
    s = stack("e")
    net = rh.NetnsTarget()
    s.late_cleanups.append(net.delete)
    img, salt = s.image()
    t = s.target(img, addr=net.peer_addr, netns=net.ns)
    s.start()
    c = s.connect(t, "-r", 1, "-l", 5, "-k", 2)
    assert c["kato_ms"] == 2000, c
    path = s.ns_path()
    fd = os.open(path, os.O_RDWR)
    s.cleanups.append(lambda: os.close(fd))
    os.pwrite(fd, block_pattern(salt, 20, 1), 20 * BLOCK)
    assert os.pread(fd, BLOCK, 20 * BLOCK) == block_pattern(salt, 20, 1)

    net.drop_port(t.port)
    t_rule = time.monotonic()
    wr = Op(lambda: os.pwrite(fd, block_pattern(salt, 21, 1), 21 * BLOCK), "held write")
    wr.start()
    t_disc = s.events.wait_for("DISCONNECTED", since=t_rule, timeout=5)
    timing.add("disconnected_after_rule", t_disc - t_rule)
    assert t_disc - t_rule <= 2.2, "the loss was seen %.3f s after the partition" % (
        t_disc - t_rule)
    c = s.controller()
    timing.add("reason", repr(c.get("reason")))
    assert c["state"] in ("disconnected", "reconnecting"), c
    # Let the rule's reconnects run into the partition for a second.
    s.events.wait_for("RECONNECT", since=t_disc, timeout=2, n=2)
    assert not wr.done(), "the write during the partition ended: %r %r" % (wr.result, wr.error)
    assert s.events.of_type("RECONNECTED", since=t_rule) == []

    net.undrop()
    t_heal = time.monotonic()
    timing.add("rule_removed_after_loss", t_heal - t_disc)
    t_rced = s.events.wait_for("RECONNECTED", since=t_rule, timeout=12)
    timing.add("reconnected_after_rule_removed", t_rced - t_heal)
    assert wr.join(3), "the held write still blocks after RECONNECTED"
    timing.add("held_write_done_after_rule_removed", wr.ended - t_heal)
    assert wr.error is None and wr.result == BLOCK, (wr.result, wr.error)
    seq = types_after(s, t_rule)
    timing.add("events_after_rule", ["%s@%.3f" % (ty, dt) for dt, ty in seq])
    assert [ty for _, ty in seq][-1] == "RECONNECTED", seq
    assert "DETACHED" not in [ty for _, ty in seq], seq
    assert state_of(s) == "connected"
    assert os.pread(fd, BLOCK, 20 * BLOCK) == block_pattern(salt, 20, 1)
    assert os.pread(fd, BLOCK, 21 * BLOCK) == block_pattern(salt, 21, 1)
    assert os.pread(fd, BLOCK, 22 * BLOCK) == block_pattern(salt, 22, 0)
    assert rh.file_block(img, 21) == block_pattern(salt, 21, 1)
    assert_event_lines(s)


# --------------------------------------------------------------------------- g
HDGSTF, DDGSTF = 0x01, 0x02
PDU_ICREQ, PDU_ICRESP, PDU_CAPSULE_CMD, PDU_CAPSULE_RESP = 0, 1, 4, 5
PDU_H2C_DATA, PDU_C2H_DATA, PDU_R2T = 6, 7, 9


def test_g_reconnect_keeps_digests(stack, timing):
    """Header and data digests (nvmfd -g -G, connect -g -G): a reconnect driven by the
    rule asks for both again. The capture across it shows the new ICReqs with dgst 3,
    and every PDU after them with HDGSTF, data PDUs with DDGSTF; tshark finds both
    digests correct; devlist still shows them."""
    need("dumpcap", "tshark")
    s = stack("g")
    img, salt = s.image()
    t = s.target(img, opts=("-g", "-G"))
    s.start()
    c = s.connect(t, "-r", 1, "-l", 5, "-g", "-G")
    assert c["hdr_digest"] is True and c["data_digest"] is True, c
    path = s.ns_path()

    cap = rh.Capture(s.dir, t.port)
    s.cleanups.append(cap.stop)
    t_kill = t.kill()
    s.events.wait_for("RECONNECT", since=t_kill, timeout=2, n=2)
    t.start()
    t_rced = s.events.wait_for("RECONNECTED", since=t_kill, timeout=3)
    timing.add("reconnected_after_restart", t_rced - t.started_at)
    # Data both ways on the new association: in-capsule, H2CData after R2T, C2HData.
    fd = os.open(path, os.O_RDWR)
    try:
        small = block_pattern(salt, 30, 5)
        big = b"".join(block_pattern(salt, 32 + i, 5) for i in range(32))   # 128 KiB
        os.pwrite(fd, small, 30 * BLOCK)
        os.pwrite(fd, big, 32 * BLOCK)
        assert os.pread(fd, BLOCK, 30 * BLOCK) == small
        assert os.pread(fd, len(big), 32 * BLOCK) == big
    finally:
        os.close(fd)
    time.sleep(0.2)         # the last segments reach the capture
    cap.stop()

    pdus = cap.pdus()
    icreqs = [p for p in pdus if p["type"] == PDU_ICREQ]
    timing.add("pdus_captured", len(pdus))
    timing.add("icreqs", len(icreqs))
    assert icreqs, "no ICReq in the capture across the reconnect"
    streams = {p["stream"] for p in icreqs}
    for p in icreqs:
        assert p["icreq_digest"] == 3, "ICReq in frame %d asks for digests %r, not 3" % (
            p["frame"], p["icreq_digest"])
    icresps = [p for p in pdus if p["type"] == PDU_ICRESP and p["stream"] in streams]
    assert icresps and all(p["icresp_digest"] == 3 for p in icresps), icresps
    after = [p for p in pdus if p["stream"] in streams and p["type"] not in
             (PDU_ICREQ, PDU_ICRESP)]
    assert after, "no PDU after the ICReqs"
    no_hd = [p for p in after if not p["flags"] & HDGSTF]
    assert not no_hd, "PDUs without HDGSTF after the reconnect: %s" % no_hd[:5]
    data = [p for p in after if p["type"] in (PDU_H2C_DATA, PDU_C2H_DATA)]
    kinds = {p["type"] for p in data}
    timing.add("data_pdus", len(data))
    assert PDU_C2H_DATA in kinds and PDU_H2C_DATA in kinds, \
        "no H2CData and C2HData after the reconnect: %s" % sorted(kinds)
    no_dd = [p for p in data if not p["flags"] & DDGSTF]
    assert not no_dd, "data PDUs without DDGSTF: %s" % no_dd[:5]
    with_data_caps = [p for p in after if p["type"] == PDU_CAPSULE_CMD and p["plen"] and
                      p["hlen"] and p["plen"] > p["hlen"] + 4]
    assert all(p["flags"] & DDGSTF for p in with_data_caps), with_data_caps[:5]
    # Wireshark's checksum status: 0 bad, 1 good, 2 unverified; one value per digest.
    hst = [v for p in after for v in p["hdgst_status"].split(",") if v]
    dst = [v for p in after for v in p["ddgst_status"].split(",") if v]
    timing.add("digests_checked_by_tshark", "%d header, %d data" % (len(hst), len(dst)))
    assert hst and set(hst) == {"1"}, "tshark's header digest verdicts: %s" % sorted(set(hst))
    assert dst and set(dst) == {"1"}, "tshark's data digest verdicts: %s" % sorted(set(dst))
    c = s.controller()
    assert c["state"] == "connected" and c["hdr_digest"] is True and \
        c["data_digest"] is True, c


# --------------------------------------------------------------------------- h
def test_h_fast_io_fail(stack, timing):
    """--fast-io-fail-tmo 2 (-r 1 -l 30): I/O held since the loss fails with EIO about
    2 s after it while the controller stays (disconnected, RECONNECT events go on); new
    I/O fails at once; the target back, it heals and new I/O works."""
    s = stack("h")
    img, salt = s.image()
    t = s.target(img)
    s.start()
    c = s.connect(t, "-r", 1, "-l", 30, "--fast-io-fail-tmo", 2)
    assert c["fast_io_fail_tmo"] == 2, c
    path = s.ns_path()

    t_kill = t.kill()
    s.events.wait_for("DISCONNECTED", since=t_kill, timeout=2)
    rd = pread_op(path, 40 * BLOCK, BLOCK).start()
    assert rd.join(3.5 - (time.monotonic() - t_kill)), "the held read still blocks 3.5 s " \
        "after the loss"
    timing.add("held_read_failed_after_kill", rd.ended - t_kill)
    assert rd.error is not None and rd.error.errno == errno.EIO, (rd.result, rd.error)
    assert abs((rd.ended - t_kill) - 2) <= 0.5, "held I/O failed %.3f s after the loss" % (
        rd.ended - t_kill)
    c = s.controller()
    assert c is not None and c["state"] in ("disconnected", "reconnecting"), c
    assert c["io_failing"] is True and c["held_io"] == 0, c
    # New I/O fails at once while the controller is failing I/O.
    fd = os.open(path, os.O_RDWR)
    try:
        t0 = time.monotonic()
        with pytest.raises(OSError) as ei:
            os.pwrite(fd, block_pattern(salt, 41, 7), 41 * BLOCK)
        timing.add("new_write_failed_in", time.monotonic() - t0)
        assert ei.value.errno == errno.EIO, ei.value
        assert time.monotonic() - t0 < 0.5
        n_before = len(s.events.of_type("RECONNECT", since=t_kill))
        s.events.wait_for("RECONNECT", since=t_kill, timeout=2, n=n_before + 1)
        timing.add("reconnect_events_before_restart", n_before + 1)
        assert s.events.of_type("DETACHED") == []

        t.start()
        t_rced = s.events.wait_for("RECONNECTED", since=t_kill, timeout=3)
        timing.add("reconnected_after_restart", t_rced - t.started_at)
        c = s.controller()
        assert c["state"] == "connected" and "io_failing" not in c, c
        t0 = time.monotonic()
        assert os.pwrite(fd, block_pattern(salt, 41, 8), 41 * BLOCK) == BLOCK
        assert os.pread(fd, BLOCK, 41 * BLOCK) == block_pattern(salt, 41, 8)
        timing.add("new_write_read_after_heal", time.monotonic() - t0)
        assert os.pread(fd, BLOCK, 40 * BLOCK) == block_pattern(salt, 40, 0)
    finally:
        os.close(fd)
    assert rh.file_block(img, 41) == block_pattern(salt, 41, 8)
    assert_event_lines(s)


# --------------------------------------------------------------- reconnect by hand
def one_line_error(r):
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nvmecontrol: "), r
    return lines[0]


def test_reconnect_connected_exits_3(stack, timing):
    """`nvmecontrol reconnect nvme0` on a connected controller: exit 3 at once, nothing
    dialed, nothing changed."""
    s = stack("r3")
    img, _ = s.image()
    t = s.target(img)
    s.start()
    before = s.connect(t, "-r", 1, "-l", 5)
    r = s.ctl("reconnect", "nvme0", timeout=10)
    timing.add("exit3_in", r.elapsed)
    assert r.rc == EXIT_CONNECTED, r
    assert r.elapsed < 1.0, r
    one_line_error(r)
    after = s.controller()
    assert after["state"] == "connected" and after["cntlid"] == before["cntlid"], after
    assert s.events.snapshot() == [], s.events.format()


def test_reconnect_while_another_runs_exits_4(stack, timing):
    """Two reconnects at once: the first holds the lease (its dial reaches a listener that
    never answers the ICReq, bounded by --timeout 3), the second exits 4 at once; the
    first fails (exit 1) after about 3 s, the controller is disconnected again with its
    kept address, and a plain reconnect heals it once the target is back."""
    from ctl_helpers import SilentListener
    s = stack("r4")
    img, salt = s.image()
    t = s.target(img)
    silent = SilentListener()
    s.cleanups.append(silent.close)
    lose_by_hand(s, t)

    first = {}
    th = threading.Thread(target=lambda: first.setdefault(
        "r", s.ctl("reconnect", "nvme0", "127.0.0.1:%d" % silent.port, "--timeout", 3,
                   timeout=20)), daemon=True)
    t0 = time.monotonic()
    th.start()
    wait_until(lambda: state_of(s) == "reconnecting", 2, what="the lease taken (reconnecting)")
    c = s.controller()
    assert c["reconnect_attempts"] == 1, c
    r2 = s.ctl("reconnect", "nvme0", timeout=10)
    timing.add("second_exit4_in", r2.elapsed)
    assert r2.rc == EXIT_BUSY, r2
    assert r2.elapsed < 1.0, r2
    one_line_error(r2)
    th.join(10)
    assert not th.is_alive() and "r" in first, \
        "the first reconnect did not end within 10 s of --timeout 3"
    r1 = first["r"]
    timing.add("first_exit1_in", r1.elapsed)
    assert r1.rc == EXIT_ERROR, r1
    assert 2.5 <= r1.elapsed <= 5.0, "the dial was bounded by %.3f s, not about 3" % r1.elapsed
    one_line_error(r1)
    c = s.controller()
    assert c["state"] == "disconnected", c
    assert c["trsvcid"] == str(t.port) and c["reconnect_delay"] == 0, c
    assert s.events.of_type("RECONNECTED") == []

    t.start()
    r = s.ctl("reconnect", "nvme0", timeout=20)
    assert r.rc == EXIT_OK, r
    s.events.wait_for("RECONNECTED", since=t0, timeout=2)
    assert rh.file_block(s.ns_path(), 3) == block_pattern(salt, 3, 0)



def test_lease_of_a_client_that_goes_is_given_back(stack):
    """A control client holds a controller's reconnect lease (reconnect-begin) and goes
    away without finishing: the controller is disconnected again at once, not left
    reconnecting, and the rule's reconnect heals it. A client that ended its own lease
    (reconnect-abort) and then goes leaves the controller as it was."""
    s = stack("lease")
    img, salt = s.image()
    t = s.target(img)
    lose_by_hand(s, t)
    sock_path = os.path.join(s.rundir, "nvmf.sock")

    def client():
        c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        c.settimeout(10)
        c.connect(sock_path)
        return c

    def call(c, req):
        c.send(json.dumps(req).encode())
        return json.loads(c.recv(1 << 16))

    # Begun and aborted by the client itself, then another lease while it is still open.
    c = client()
    assert call(c, {"op": "reconnect-begin", "name": "nvme0"})["ok"] is True
    assert state_of(s) == "reconnecting"
    assert call(c, {"op": "reconnect-abort", "name": "nvme0", "error": "testing"})["ok"]
    assert state_of(s) == "disconnected"
    assert call(c, {"op": "reconnect-begin", "name": "nvme0"})["ok"] is True
    other = client()
    r = call(other, {"op": "reconnect-begin", "name": "nvme0"})
    assert r["ok"] is False and r["code"] == "busy", r
    other.close()
    assert state_of(s) == "reconnecting"       # the other client's going took nothing
    # The holder goes without a word: its lease is given back.
    c.close()
    wait_until(lambda: state_of(s) == "disconnected", 5, what="the lease given back")

    # Ended by itself, then gone: nothing changes, and a real reconnect heals it.
    c = client()
    assert call(c, {"op": "reconnect-begin", "name": "nvme0"})["ok"] is True
    assert call(c, {"op": "reconnect-abort", "name": "nvme0"})["ok"]
    c.close()
    time.sleep(0.2)
    assert state_of(s) == "disconnected"
    t.start()
    r = s.ctl("reconnect", "nvme0", timeout=20)
    assert r.rc == EXIT_OK, r
    assert state_of(s) == "connected"
    assert rh.file_block(s.ns_path(), 3) == block_pattern(salt, 3, 0)


def test_reconnect_to_another_subsystem_fails(stack, timing):
    """`reconnect nvme0 addr:port` where that target serves another SubNQN: exit 1 naming
    the SubNQN; nvme0 stays disconnected with its own parameters."""
    s = stack("rn")
    img, salt = s.image()
    img2, _ = s.image("other.img")
    t = s.target(img)
    other = s.target(img2)
    assert other.subnqn != t.subnqn
    lose_by_hand(s, t)
    r = s.ctl("reconnect", "nvme0", other.address, timeout=20)
    timing.add("mismatch_exit_in", r.elapsed)
    assert r.rc == EXIT_ERROR, r
    line = one_line_error(r)
    assert "subnqn" in line.lower() or t.subnqn in line or other.subnqn in line, \
        "the error does not name the SubNQN: %r" % line
    c = s.controller()
    assert c["state"] == "disconnected", c
    assert c["subnqn"] == t.subnqn and c["trsvcid"] == str(t.port), c
    assert s.events.of_type("RECONNECTED") == []
    assert os.path.exists(s.ns_path())
    # Its own target back: healed, data of its own file.
    t.start()
    r = s.ctl("reconnect", "nvme0", timeout=20)
    assert r.rc == EXIT_OK, r
    assert rh.file_block(s.ns_path(), 5) == block_pattern(salt, 5, 0)


def test_reconnect_options_become_kept(stack, timing):
    """`reconnect nvme0 addr:port -r 2` that succeeds makes 2 s the kept reconnect delay:
    devlist shows it, and the next loss raises RECONNECT every 2 s."""
    s = stack("rk")
    img, salt = s.image()
    t = s.target(img)
    lose_by_hand(s, t)
    t.start()
    r = s.ctl("reconnect", "nvme0", t.address, "-r", 2, timeout=20)
    assert r.rc == EXIT_OK, r
    c = s.controller()
    assert c["state"] == "connected" and c["reconnect_delay"] == 2, c
    assert c["ctrl_loss_tmo"] == 30, c

    t_kill = t.kill()
    s.events.wait_for("RECONNECT", since=t_kill, timeout=4, n=2)
    recs = [dt for dt, ty in types_after(s, t_kill) if ty == "RECONNECT"]
    timing.add("reconnect_events_after_second_kill", recs)
    assert abs(recs[0]) <= 0.3 and abs(recs[1] - 2) <= 0.3, recs
    t.start()
    t_rced = s.events.wait_for("RECONNECTED", since=t_kill, timeout=3)
    timing.add("reconnected_after_restart", t_rced - t.started_at)
    assert s.controller()["reconnect_delay"] == 2
    assert rh.file_block(s.ns_path(), 6) == block_pattern(salt, 6, 0)
    assert_event_lines(s)


# --------------------------------------------------------------------------- churn
CHURN_CYCLES = 200
CHURN_LANES = 8
CHURN_BUDGET = 90.0         # seconds for the cycles themselves
CHURN_WATCHDOG = 120.0      # the whole race phase; a hang past it fails the test


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def socket_kinds(pid):
    """inode -> what the socket is (TCP with its ports and state, or a UNIX path)."""
    kinds = {}
    for name in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, name)) as f:
                next(f)
                for line in f:
                    v = line.split()
                    kinds[v[9]] = "tcp %d->%d st %s" % (int(v[1].rsplit(":", 1)[1], 16),
                                                        int(v[2].rsplit(":", 1)[1], 16), v[3])
        except OSError:
            pass
    try:
        with open("/proc/%d/net/unix" % pid) as f:
            next(f)
            for line in f:
                v = line.split()
                kinds[v[6]] = "unix %s" % (v[7] if len(v) > 7 else "(unnamed)")
    except OSError:
        pass
    return kinds


def fd_targets(pid):
    out = []
    kinds = socket_kinds(pid)
    for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            link += " " + kinds.get(link[8:-1], "?")
        out.append("%s->%s" % (fd, link))
    return out


def thread_count(pid):
    return len(os.listdir("/proc/%d/task" % pid))


class ChurnLane:
    """One target and its subsystem; each cycle connects a controller (-r 1 -l 1), kills
    the target, and races a random mix of a restart, reconnects by hand, a disconnect,
    the rule's RECONNECT events and the controller loss timer (1 s)."""

    def __init__(self, s, idx, seed, counter, deadline):
        self.s = s
        self.idx = idx
        self.rng = random.Random(seed)
        self.counter = counter      # {"lock", "started", "done"}
        self.deadline = deadline
        img, _ = s.image("lane%d.img" % idx, size=4 * MIB, pattern_blocks=0)
        self.t = s.target(img)
        self.problems = []
        self.outcomes = {}
        self.rcs = {}
        self.thread = threading.Thread(target=self.run, name="lane%d" % idx, daemon=True)

    def problem(self, what):
        self.problems.append("lane %d: %s" % (self.idx, what))

    def ctl(self, *args, ok=(0,), timeout=30):
        try:
            r = self.s.ctl(*args, timeout=timeout)
        except Exception as e:  # noqa: BLE001 - TimeoutExpired is a hang
            self.problem("nvmecontrol %s: %r (hang?)" % (" ".join(map(str, args)), e))
            return None
        key = "%s:%d" % (args[0], r.rc)
        self.rcs[key] = self.rcs.get(key, 0) + 1
        if r.rc not in ok:
            self.problem("unexpected %r" % r)
        return r

    def mine(self):
        """(name, state) of this lane's controllers."""
        r = self.ctl("devlist", "-o", "json")
        if r is None or r.rc != 0:
            return None
        return [(c["name"], c["state"]) for c in json.loads(r.out)["controllers"]
                if c["subnqn"] == self.t.subnqn]

    def take_cycle(self):
        with self.counter["lock"]:
            if self.counter["started"] >= CHURN_CYCLES or time.monotonic() > self.deadline:
                return False
            self.counter["started"] += 1
            return True

    def run(self):
        try:
            while not self.problems and self.s.hostd.poll() is None and self.take_cycle():
                self.cycle()
                with self.counter["lock"]:
                    self.counter["done"] += 1
        except Exception as e:  # noqa: BLE001
            self.problem("cycle raised %r" % e)

    def cycle(self):
        rng = self.rng
        if not self.t.alive():
            self.t.start()
        r = self.ctl("connect", "-r", 1, "-l", 1, self.t.address, self.t.subnqn)
        if r is None or r.rc != 0:
            return
        name = r.out.split(":")[0]
        plan = [("kill", 0.0)]
        if rng.random() < 0.3:
            # A reconnect by hand, and a disconnect just as it heals the controller.
            d = rng.uniform(0.05, 0.3)
            plan += [("restart", d), ("reconnect", d + 0.1),
                     ("disconnect", d + 0.1 + rng.uniform(0.0, 0.06))]
        else:
            if rng.random() < 0.7:
                plan.append(("restart", rng.uniform(0.0, 1.0)))
            for _ in range(rng.choice((0, 1, 1, 2))):
                plan.append(("reconnect", rng.uniform(0.0, 1.3)))
            if rng.random() < 0.35:
                plan.append(("disconnect", rng.uniform(0.0, 1.3)))
        t0 = time.monotonic()

        def act(kind, delay):
            sleep_until(t0 + delay)
            if kind == "kill":
                self.t.kill()
            elif kind == "restart":
                while self.t.alive() and time.monotonic() < t0 + 5:
                    time.sleep(0.01)    # the kill first
                self.t.start()
            elif kind == "reconnect":
                # The name may meanwhile be another lane's controller: more churn.
                self.ctl("reconnect", name, ok=(EXIT_OK, EXIT_ERROR, EXIT_CONNECTED,
                                                EXIT_BUSY))
            else:
                self.ctl("disconnect", self.t.subnqn, ok=(0, 1))

        threads = [threading.Thread(target=act, args=p, daemon=True) for p in plan]
        for th in threads:
            th.start()
        for th in threads:
            th.join(40)
            if th.is_alive():
                self.problem("a cycle's action hangs (plan %s)" % plan)
                return
        # Settled within a few seconds: connected again, or gone (detached, disconnected).
        deadline = time.monotonic() + 6
        while True:
            mine = self.mine()
            if mine is None:
                return
            if all(st == "connected" for _, st in mine):
                break
            if time.monotonic() > deadline:
                self.problem("controller stuck: %s (plan %s)" % (mine, plan))
                return
            time.sleep(0.05)
        outcome = "healed" if mine else "gone"
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if mine:
            self.ctl("disconnect", self.t.subnqn, ok=(0, 1))
        left = self.mine()
        if left:
            self.problem("still there after disconnect: %s" % left)


def test_churn_detach_reconnect_disconnect_races(stack, timing):
    """Issue 4 item 6: 200 races of the controller loss timer (-l 1), the rule's
    RECONNECT events (-r 1), reconnects by hand and disconnects, with the target killed
    and restarted at random moments, in 8 lanes at once, under valgrind. Nothing hangs
    (a watchdog bounds it all; devlist answers within 1 s after), nothing leaks
    (valgrind: no errors, no definite leak; no more descriptors than before), and
    SIGTERM ends nvmf-hostd with status 0 within a few seconds."""
    # make tsan-churn runs it on a ThreadSanitizer build instead, which valgrind
    # cannot host: the Stack's teardown then fails on any sanitizer report.
    use_valgrind = os.environ.get("NVMF_CHURN_VALGRIND", "1") == "1"
    if use_valgrind:
        need("valgrind")
    s = stack("churn")
    s.start(valgrind=use_valgrind)
    pid = s.hostd.pid
    fds0, threads0 = fd_count(pid), thread_count(pid)
    fd_list0 = fd_targets(pid)
    seed = random.randrange(1 << 30)
    timing.add("seed", seed)
    counter = {"lock": threading.Lock(), "started": 0, "done": 0}
    t0 = time.monotonic()
    lanes = [ChurnLane(s, i, seed + i, counter, t0 + CHURN_BUDGET) for i in range(CHURN_LANES)]
    for lane in lanes:
        lane.thread.start()
    for lane in lanes:
        lane.thread.join(max(0.0, t0 + CHURN_WATCHDOG - time.monotonic()))
    elapsed = time.monotonic() - t0
    hung = [lane.idx for lane in lanes if lane.thread.is_alive()]
    timing.add("cycles", counter["done"])
    timing.add("churn_seconds", elapsed)
    outcomes, rcs = {}, {}
    for lane in lanes:
        for k, v in lane.outcomes.items():
            outcomes[k] = outcomes.get(k, 0) + v
        for k, v in lane.rcs.items():
            rcs[k] = rcs.get(k, 0) + v
    timing.add("outcomes", ",".join("%s:%d" % kv for kv in sorted(outcomes.items())))
    timing.add("nvmecontrol_exits", ",".join("%s:%d" % kv for kv in sorted(rcs.items())))
    kinds = {}
    for _, ln in s.events.snapshot():
        k = ln.split("type=")[1].split(" ")[0] if "type=" in ln else ln
        kinds[k] = kinds.get(k, 0) + 1
    timing.add("events", ",".join("%s:%d" % kv for kv in sorted(kinds.items())))
    assert not hung, "lanes %s still running %.0f s in: a hang" % (hung, CHURN_WATCHDOG)
    if s.hostd.poll() is not None:
        s.hostd_exit = (s.hostd.returncode, 0.0, False)
        pytest.fail("nvmf-hostd died during the churn (%s):\n%s" % (
            rh.describe_exit(s.hostd.returncode),
            rh.valgrind_report(rh.read_text(s.valgrind_log)) if use_valgrind else
            rh.read_text(s.hostd_log)[-4000:]), pytrace=False)
    problems = [p for lane in lanes for p in lane.problems]
    assert not problems, "\n".join(problems[:20])
    assert counter["done"] == CHURN_CYCLES, "only %d of %d cycles in %.0f s" % (
        counter["done"], CHURN_CYCLES, CHURN_BUDGET)

    # Nothing hangs: nvmf-hostd answers at once and holds nothing any more.
    r = s.ctl("devlist", "-o", "json", timeout=1)
    timing.add("devlist_after", r.elapsed)
    assert r.rc == 0 and r.elapsed <= 1.0, r
    assert json.loads(r.out)["controllers"] == [], r.out
    assert os.listdir(s.dev) == [], os.listdir(s.dev)
    # The rule's last reconnects may still be on their way out.
    wait_until(lambda: not rh.children_of(s.devd.pid), 15, what="nvmf-devd's actions to end")
    # Client threads of the last requests may take a moment to end.
    try:
        wait_until(lambda: fd_count(pid) <= fds0, 2)
    except AssertionError:
        pass
    fds1, threads1 = fd_count(pid), thread_count(pid)
    timing.add("hostd_fds_before_after", "%d/%d" % (fds0, fds1))
    timing.add("hostd_threads_before_after", "%d/%d" % (threads0, threads1))
    assert fds1 <= fds0, "nvmf-hostd holds %d descriptors, %d before the churn:\n%s\n%s" % (
        fds1, fds0, "\n".join(fd_list0), "\n".join(fd_targets(pid)))
    # Threads are not compared: libfuse keeps a pool of up to 16 idle workers.

    # SIGTERM: status 0 (valgrind's 99 on an error or a definite leak) within a few s.
    rh.stop_process(s.devd, 5)
    rc, secs, hung = s.stop_hostd(30)
    timing.add("hostd_sigterm_exit", secs)
    if not use_valgrind:
        assert not hung, "nvmf-hostd did not exit within 30 s of SIGTERM"
        assert rc == 0, "nvmf-hostd exited with %s" % rh.describe_exit(rc)
        return
    vg = rh.read_text(s.valgrind_log)
    m = re.search(r"ERROR SUMMARY: (\d+) errors", vg)
    timing.add("valgrind_errors", m.group(1) if m else "?")
    m = re.search(r"definitely lost: ([\d,]+) bytes", vg)
    timing.add("definitely_lost_bytes", m.group(1) if m else "0")
    assert not hung, "nvmf-hostd did not exit within 30 s of SIGTERM"
    assert rc == 0, "nvmf-hostd (under valgrind) exited with %s:\n%s" % (
        rh.describe_exit(rc), rh.valgrind_report(vg))
    assert secs <= 5.0, "nvmf-hostd took %.1f s to exit on SIGTERM" % secs
    assert "ERROR SUMMARY: 0 errors" in vg, rh.valgrind_report(vg)
