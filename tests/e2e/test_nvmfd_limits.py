# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmfd's resources are bounded: a queue holds at most SQSIZE + 1 commands,
command data per queue is capped, connections and associations are limited,
idle connections go, and a storm of hostile connections leaves a legitimate
host's I/O working. Every refusal is one log line."""

import re
import resource
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

import nvme_tcp as nt
from conftest import ADDR, RSS_SCALE, free_port

MIB = 1024 * 1024
BUSY = 0x0181            # SCT 1 SC 0x81: Connect Controller Busy (as nvmet)


def status_of(pid):
    """VmRSS, VmHWM (the peak RSS; bytes) and Threads from /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key[2:].lower()] = int(value.split()[0]) * 1024
            elif key == "Threads":
                out["threads"] = int(value)
    return out


class Sampler:
    """Samples nvmfd's thread count every 20 ms and keeps the peak; the peak
    RSS is the kernel's (VmHWM), no sample can miss it."""

    def __init__(self, pid):
        self.pid = pid
        self.max_rss = self.max_threads = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.sample()
        self.thread.start()

    def sample(self):
        s = status_of(self.pid)
        self.max_rss = max(self.max_rss, s["hwm"])
        self.max_threads = max(self.max_threads, s["threads"])

    def _run(self):
        while not self.stop_event.wait(0.02):
            try:
                self.sample()
            except OSError:
                return

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        self.sample()
        return self


def peer(q):
    return "127.0.0.1:%d" % q.local_port


def send_quietly(q, data):
    """Sends what the target may already have cut off."""
    try:
        q.send_raw(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def settle(t, listeners):
    """Waits until nvmfd serves no connection (main thread and the listeners'
    only): the start-up probe's connection must not hold a slot of a test
    with a tight connection limit."""
    time.sleep(0.2)                                     # the probe accepted by now
    deadline = time.monotonic() + 3
    while status_of(t.pid)["threads"] > 1 + listeners:
        assert time.monotonic() < deadline, "nvmfd kept %d threads" % (
            status_of(t.pid)["threads"])
        time.sleep(0.01)


def raw_capsule(q, cmd, cid):
    """A command capsule the queue does not track (sent with send_quietly)."""
    struct.pack_into("<H", cmd, 2, cid)
    struct.pack_into("<QI3xB", cmd, 24, 0, 512 * ((cmd[48] | cmd[49] << 8) + 1),
                     nt.SGL_TRANSPORT)
    return q.capsule_bytes(cmd)


def verified_io(q, slba, seed, size=8192):
    data = nt.random_bytes(size, seed)
    q.write(1, slba, data)
    assert q.read(1, slba, size // 512) == data, "read back other data than written"


# ------------------------------------------------------------ 1. SQSIZE

@pytest.mark.parametrize("disable_sq_fc", [False, True], ids=["sq-flow-control",
                                                               "no-sq-flow-control"])
def test_commands_beyond_sqsize_end_the_association(nvmfd, disable_sq_fc):
    """SQSIZE 3: four commands outstanding are served, a fifth is a PDU
    Sequence Error that ends the whole association, with one log line."""
    t = nvmfd.start("ramdisk:4M")
    c = t.controller()
    try:
        (q,) = c.connect_io(1, sqsize=3, disable_sq_fc=disable_sq_fc)
        blobs = [nt.random_bytes(8192, 10 + i) for i in range(4)]

        # A full queue: four writes each waiting for its R2T to be answered.
        cids = [q.submit(q.write_cmd(1, i * 16, 16), b, in_capsule=False)
                for i, b in enumerate(blobs)]
        for cqe in q.wait_all(cids):
            assert cqe.status == 0, cqe
        for i, b in enumerate(blobs):
            assert q.read(1, i * 16, 16) == b

        # Four outstanding again (R2Ts left unanswered), then one more.
        for i, b in enumerate(blobs):
            q.submit(q.write_cmd(1, i * 16, 16), b, in_capsule=False)
        for _ in range(4):
            ptype = q.recv_pdu()[0]
            assert ptype == nt.PDU_R2T, "PDU type 0x%x, expected R2T" % ptype
        send_quietly(q, raw_capsule(q, q.read_cmd(1, 0, 1), 999))
        tr = q.expect_term_req()
        assert tr.pdu_type == nt.PDU_C2H_TERM_REQ
        assert tr.fes == nt.FES_PDU_SEQUENCE_ERROR, "FES 0x%x" % tr.fes
        assert q.is_closed(timeout=2), "I/O queue still open after C2HTermReq"
        assert c.admin.is_closed(timeout=2), "the association outlived its fatal error"

        line = t.wait_log(re.escape(peer(q)) + r"\b.*5 commands outstanding")
        assert c.hostnqn in line and "4 entries" in line and "C2HTermReq" in line, line
        assert "association ended" in line, line
        assert len([x for x in t.log_lines() if "commands outstanding" in x]) == 1

        # Nothing else is disturbed.
        c2 = t.controller()
        (q2,) = c2.connect_io(1)
        verified_io(q2, 64, 1)
        c2.close()
    finally:
        c.close()


# ------------------------------------------------ 2. memory for data

def test_1000_reads_never_collected_stay_bounded(nvmfd):
    """The host of issue #8: 1,000 Reads of 1 MiB on a queue of 128, never
    reading the socket. Before: nvmfd grew from 2 MB to about 1 GB. Now the
    129th command ends the association and memory stays within the queue's
    data limit (default 4 MiB) plus slack."""
    bound = 4 * MIB + 12 * MIB
    t = nvmfd.start("ramdisk:64M")
    c = t.controller()
    try:
        (q,) = c.connect_io(1, sqsize=127)
        verified_io(q, 0, 2)
        before = status_of(t.pid)["rss"]
        s = Sampler(t.pid)
        sent = 0
        for i in range(1000):
            if not send_quietly(q, raw_capsule(q, q.read_cmd(1, (i % 32) * 2048, 2048),
                                               i)):
                break
            sent += 1
        line = t.wait_log(re.escape(peer(q)) + r"\b.*commands outstanding", timeout=5)
        assert "129 commands outstanding" in line and "128 entries" in line, line
        assert c.hostnqn in line, line
        time.sleep(0.3)
        s.stop()
        grew = s.max_rss - before
        print("\n1,000 Reads of 1 MiB never read: %d sent before the target cut the "
              "queue; nvmfd RSS %.1f MiB before, %.1f MiB at most (+%.1f MiB, bound "
              "+%d MiB)" % (sent, before / MIB, s.max_rss / MIB, grew / MIB, bound // MIB))
        assert grew <= bound * RSS_SCALE, "RSS grew by %.1f MiB (bound %d MiB)" % (
            grew / MIB, bound * RSS_SCALE // MIB)
        assert c.admin.is_closed(timeout=2), "the association outlived its fatal error"

        c2 = t.controller()
        (q2,) = c2.connect_io(1)
        verified_io(q2, 128, 3)
        c2.close()
    finally:
        c.close()


def test_a_full_queue_of_unread_reads_is_held_then_delivered(nvmfd):
    """128 Reads of 1 MiB within SQSIZE, the socket unread for a while: nvmfd
    holds at most its queue data limit (2 MiB here) of them, then, as the host
    reads, delivers every one with the right data, in the same association."""
    limit = 2 * MIB
    t = nvmfd.start("ramdisk:8M", opts=("--queue-data-limit", str(limit)))
    c = t.controller()
    try:
        (q,) = c.connect_io(1, sqsize=127)
        blobs = [nt.random_bytes(MIB, 20 + i) for i in range(4)]
        for i, b in enumerate(blobs):
            q.write(1, i * 2048, b, in_capsule=False)
        before = status_of(t.pid)["rss"]
        s = Sampler(t.pid)
        cids = {q.submit(q.read_cmd(1, (i % 4) * 2048, 2048), read_len=MIB): i % 4
                for i in range(128)}
        time.sleep(1.0)
        grew = s.max_rss - before
        assert grew <= (limit + 12 * MIB) * RSS_SCALE, "RSS grew by %.1f MiB holding unread data" % (
            grew / MIB)
        for cqe in q.wait_all(list(cids), timeout=30):
            assert cqe.status == 0 and cqe.data == blobs[cids[cqe.cid]], cqe
        s.stop()
        assert "outstanding" not in t.log()
        verified_io(q, 9000, 4)
        c.admin.keep_alive()
    finally:
        c.close()


# ----------------------------------------------------------- 3. limits

def test_connection_limit_refuses_with_one_line(nvmfd):
    t = nvmfd.start("ramdisk:4M", opts=("--max-connections", "3"))
    settle(t, 2)
    c = t.controller()                                  # 2 connections
    try:
        (q,) = c.connect_io(1)
        third = socket.create_connection((ADDR, t.port), timeout=2)
        time.sleep(0.1)
        over = nt.Queue(ADDR, t.port, handshake=False)
        assert over.is_closed(timeout=2), "a 4th connection was kept"
        line = t.wait_log(re.escape(peer(over)) + r"\b.*connection refused")
        assert "3 connections open (max_connections 3)" in line, line
        threads = status_of(t.pid)["threads"]
        assert threads <= 3 + 3, "%d threads for 3 connections" % threads
        verified_io(q, 0, 5)                            # the host is undisturbed
        third.close()
        deadline = time.monotonic() + 3
        while True:                                     # the slot comes back
            try:
                nt.Queue(ADDR, t.port).close()
                break
            except (nt.NvmeTcpError, OSError):
                assert time.monotonic() < deadline, "the freed slot never came back"
                time.sleep(0.05)
        over.close()
    finally:
        c.close()


def test_out_of_descriptors_refuses_and_still_stops(nvmfd):
    """Under a hard RLIMIT_NOFILE of 32, connections that never send an ICReq fill nvmfd's
    descriptors: the next host is let in on a reserved descriptor and closed at once, one
    log line naming the limit; a host already connected keeps doing I/O; and SIGTERM ends
    nvmfd at once. It hung: out of descriptors, accept on the shut-down listener says
    EMFILE, never the error that ends its thread."""
    def hard_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    # The connections without an ICReq stay: only the exit may free their descriptors.
    # One listener: a second one's accept thread would hold its reserve's slot open too.
    t = nvmfd.start("ramdisk:4M", opts=("--icreq-timeout", "60"), discovery=False,
                    preexec_fn=hard_nofile)
    settle(t, 1)
    c = t.controller()
    held = []
    try:
        (q,) = c.connect_io(1)
        for _ in range(40):
            held.append(socket.create_connection((ADDR, t.port), timeout=2))
            if "out of file descriptors" in t.log():
                break
            time.sleep(0.02)
        line = t.wait_log(r"connection refused: out of file descriptors")
        assert "RLIMIT_NOFILE 32" in line, line
        verified_io(q, 0, 5)                            # the host is undisturbed
        t0 = time.monotonic()
        t.proc.send_signal(signal.SIGTERM)
        try:
            rc = t.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("nvmfd did not exit within 10 s of SIGTERM, out of descriptors")
        assert rc == 0 and time.monotonic() - t0 < 5, (rc, time.monotonic() - t0)
        t.stopped = True
    finally:
        for s in held:
            s.close()
        c.close()

def test_host_association_limit_refuses_with_controller_busy(nvmfd):
    t = nvmfd.start("ramdisk:4M", opts=("--max-host-associations", "2"))
    hostid = nt.new_hostid()
    hostnqn = nt.host_nqn(hostid)
    a = t.controller(hostid=hostid)
    b = t.controller(hostid=hostid)
    try:
        q = t.queue()
        cqe = q.connect(t.subnqn, hostnqn, hostid)
        assert cqe.status & 0x7FF == BUSY, "status 0x%x, expected Controller Busy" % cqe.status
        assert nt.dnr(cqe.status)
        line = t.wait_log(re.escape(peer(q)) + r"\b.*Connect refused")
        assert hostnqn in line and "max_host_associations 2" in line, line
        assert "2 associations of this host open" in line, line
        q.close()
        t.controller().close()                          # another host is let in
        a.close()
        deadline = time.monotonic() + 3
        while True:                                     # once a's association is gone
            q = t.queue()
            if q.connect(t.subnqn, hostnqn, hostid).status == 0:
                q.close()
                break
            q.close()
            assert time.monotonic() < deadline, "the host never got its slot back"
            time.sleep(0.05)
    finally:
        a.close()
        b.close()


def test_discovery_limit_and_kato(nvmfd):
    """Discovery associations are limited and, asked for KATO 0, get a KATO
    (here 1 s) so that they end by themselves."""
    t = nvmfd.start("ramdisk:4M", opts=("--max-discovery-associations", "2",
                                         "--discovery-kato", "1"))
    held = [nt.Controller(ADDR, t.dport, nt.DISCOVERY_NQN, kato=0) for _ in range(2)]
    try:
        for d in held:
            assert d.admin.get_features(nt.FEAT_KATO).cdw0 == 1000
        q = nt.Queue(ADDR, t.dport)
        hostnqn = nt.host_nqn()
        cqe = q.connect(nt.DISCOVERY_NQN, hostnqn, nt.new_hostid())
        assert cqe.status & 0x7FF == BUSY, "status 0x%x" % cqe.status
        line = t.wait_log(re.escape(peer(q)) + r"\b.*Connect refused")
        assert "max_discovery_associations 2" in line and hostnqn in line, line
        q.close()
        # Silent for longer than the KATO they were given: both go.
        start = time.monotonic()
        for d in held:
            assert d.admin.is_closed(timeout=4), "a KATO 0 discovery association stayed"
        assert time.monotonic() - start < 3.5
        t.wait_log(r"no keep-alive within KATO \(1000 ms\)")
        log = nt.discover(ADDR, t.dport)                # room again
        assert log["numrec"] >= 1
    finally:
        for d in held:
            d.close()


def test_limits_from_the_config_file(nvmfd):
    port = free_port()
    cfg = {"listen": [{"address": ADDR, "port": port}],
           "subsystems": [{"nqn": "nqn.2024-01.io.nvmf.e2e:limits",
                           "namespaces": [{"device": "ramdisk:4M"}]}],
           "max_connections": 1}
    t = nvmfd.start_config(cfg)
    settle(t, 1)
    c = t.controller()
    try:
        over = nt.Queue(ADDR, port, handshake=False)
        assert over.is_closed(timeout=2)
        line = t.wait_log(r"connection refused: 1 connections open \(max_connections 1\)")
        assert peer(over) in line
        over.close()
    finally:
        c.close()


def test_idle_connections_are_dropped(nvmfd):
    """No ICReq within icreq_timeout, no Connect within connect_timeout: closed,
    with a debug line each."""
    t = nvmfd.start("ramdisk:4M", opts=("-v", "--icreq-timeout", "1",
                                         "--connect-timeout", "2"))
    start = time.monotonic()
    silent = nt.Queue(ADDR, t.port, handshake=False)
    half = nt.Queue(ADDR, t.port)                       # ICReq, then nothing
    assert silent.is_closed(timeout=3), "a connection without ICReq stayed"
    t_silent = time.monotonic() - start
    assert half.is_closed(timeout=3), "a connection without Connect stayed"
    t_half = time.monotonic() - start
    assert 0.8 <= t_silent <= 2.0, "dropped after %.2f s (icreq_timeout 1 s)" % t_silent
    assert 1.8 <= t_half <= 3.0, "dropped after %.2f s (connect_timeout 2 s)" % t_half
    t.wait_log(re.escape(peer(silent)) + r"\b.*no ICReq within icreq_timeout \(1 s\)")
    t.wait_log(re.escape(peer(half)) +
               r"\b.*no Connect command within connect_timeout \(2 s\)")
    silent.close()
    half.close()


# ------------------------------------------------------------ 4. storm

STORM = {"idle": 1500, "garbage": 500, "half-open": 300, "discovery": 300}
MAX_CONNECTIONS = 64


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class LegitHost:
    """A host doing verified I/O the whole time; records each round's latency."""

    def __init__(self, t):
        self.c = t.controller()
        (self.q,) = self.c.connect_io(1)
        self.rounds = 0
        self.max_latency = 0.0
        self.error = None
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.stop_event.is_set():
                n = self.rounds
                start = time.monotonic()
                verified_io(self.q, (n % 256) * 16, 1000 + n)
                if n % 16 == 0:
                    self.c.admin.keep_alive()
                self.max_latency = max(self.max_latency, time.monotonic() - start)
                self.rounds += 1
                time.sleep(0.005)
        except Exception as e:                          # noqa: BLE001 - reported below
            self.error = e

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=10)
        return self


STORM_SECONDS = 6.0


def paced(n):
    """Yields 0..n-1 spread evenly over STORM_SECONDS, in waves of 1/12."""
    start = time.monotonic()
    wave = max(1, n // 12)
    for i in range(n):
        if i % wave == 0:
            delay = start + STORM_SECONDS * i / n - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        yield i


def storm_idle(addr, n, out):
    for _ in paced(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(addr)
        out.append(s)


def storm_garbage(addr, n, out):
    for i in paced(n):
        try:
            s = socket.create_connection(addr, timeout=1)
            out.append(s)
            s.sendall(nt.random_bytes(300, 5000 + i))
        except OSError:
            pass


def storm_half_open(addr, n, out):
    for _ in paced(n):
        try:
            q = nt.Queue(addr[0], addr[1], timeout=1)     # ICReq and ICResp
            out.append(q.sock)
        except (nt.NvmeTcpError, OSError):
            pass


def storm_discovery(addr, n, out, statuses):
    for _ in range(n):
        try:
            q = nt.Queue(addr[0], addr[1], timeout=2)
            cqe = q.connect(nt.DISCOVERY_NQN, nt.host_nqn(), nt.new_hostid(), kato=0)
            statuses.append(cqe.status & 0x7FF)
            if cqe.status == 0:
                out.append(q.sock)                      # held: KATO 0 asked
            else:
                q.close()                               # refused: the host goes
        except (nt.NvmeTcpError, OSError):
            statuses.append(None)                       # refused before Connect


def test_connection_storm(nvmfd):
    """Bounded, loopback only, stops by itself: 2,600 hostile connections
    against --max-connections 64 while a legitimate host keeps doing verified
    I/O. nvmfd's threads and RSS stay within the limits; refusals are logged."""
    total = sum(STORM.values())
    raise_nofile(total + 512)
    t = nvmfd.start("ramdisk:16M", opts=(
        "--max-connections", str(MAX_CONNECTIONS), "--max-discovery-associations", "8",
        "--icreq-timeout", "2", "--connect-timeout", "3"))
    legit = LegitHost(t)
    socks = []
    try:
        time.sleep(0.3)
        base = status_of(t.pid)
        sampler = Sampler(t.pid)
        started = time.monotonic()
        addr, daddr = (ADDR, t.port), (ADDR, t.dport)
        groups = {"idle": [], "garbage": [], "half-open": [], "discovery": []}
        statuses = []
        # Discovery first, alone: past accept, each reaches its Connect.
        storm_discovery(daddr, STORM["discovery"], groups["discovery"], statuses)
        workers = [
            threading.Thread(target=storm_idle, args=(addr, STORM["idle"], groups["idle"])),
            threading.Thread(target=storm_garbage,
                             args=(addr, STORM["garbage"], groups["garbage"])),
            threading.Thread(target=storm_half_open,
                             args=(addr, STORM["half-open"], groups["half-open"])),
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=20)
        assert not any(w.is_alive() for w in workers), "the storm did not finish in 20 s"
        storm_time = time.monotonic() - started
        # Hold everything past the ICReq and Connect timeouts, I/O going on.
        time.sleep(3.5)
        for g in groups.values():
            socks.extend(g)
        for s in socks:
            s.close()
        socks = []
        time.sleep(1.0)
        sampler.stop()
        legit.stop()

        log = t.log()
        refused_conn = log.count("connection refused:")
        refused_connect = log.count("Connect refused:")
        busy = sum(1 for s in statuses if s == BUSY)
        print("\nstorm: %d connections attempted in %.1f s (%s), %d refused at accept "
              "(max_connections %d), %d Connects refused (%d Controller Busy); nvmfd RSS "
              "%.1f -> %.1f MiB at most, threads %d -> %d at most; legitimate host: %d "
              "verified write+read rounds, max latency %.0f ms" % (
                  total, storm_time, ", ".join("%d %s" % (v, k) for k, v in STORM.items()),
                  refused_conn, MAX_CONNECTIONS, refused_connect, busy, base["rss"] / MIB,
                  sampler.max_rss / MIB, base["threads"], sampler.max_threads,
                  legit.rounds, legit.max_latency * 1000))

        assert legit.error is None, "the legitimate host's I/O failed: %r" % legit.error
        assert legit.rounds >= 20, "only %d I/O rounds during the storm" % legit.rounds
        assert legit.max_latency < 3.0, "I/O stalled for %.1f s" % legit.max_latency
        # Connections are threads: at most the limit, plus main and two listeners
        # (and a few on their way out, their slot already given back).
        assert sampler.max_threads <= MAX_CONNECTIONS + 3 + 8, sampler.max_threads
        assert sampler.max_rss - base["rss"] <= 32 * MIB * RSS_SCALE, "RSS grew by %.1f MiB" % (
            (sampler.max_rss - base["rss"]) / MIB)
        assert refused_conn > 0 and "(max_connections %d)" % MAX_CONNECTIONS in log
        assert re.search(r"connection refused: \d+ connections open", log)
        assert busy == STORM["discovery"] - 8, "%d of %d discovery Connects refused" % (
            busy, STORM["discovery"])
        assert "(max_discovery_associations 8)" in log
        assert t.alive()

        # Afterwards: the storm's slots are free again and a new host is served.
        c2 = t.controller()
        (q2,) = c2.connect_io(1)
        verified_io(q2, 8000, 7)
        c2.close()
        legit.q.read(1, 0, 8)
    finally:
        for s in socks:
            s.close()
        legit.stop()
        legit.c.close()
