# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmf-perf against nvmfd on RAM: that it works, never how fast.

Each run lasts a second (-t 1): reads and writes with --json parsed and its
figures checked for sense (positive IOPS, p50 <= p99 <= p99.9 <= max), a
sequential write of the whole namespace then a verified random read of it,
several threads and queues, the one-line error and exit status 2 of a bad
option, and exit status 1 with one line when the target is not there.
"""

import json
import os
import subprocess
import time

from conftest import REPO, free_port, sleeps

NVMF_PERF = os.environ.get("NVMF_PERF", os.path.join(REPO, "build", "bin", "nvmf-perf"))
KEYS = ("iops", "bandwidth_mibs", "avg_latency_us", "p50_latency_us", "p99_latency_us",
        "p999_latency_us", "max_latency_us")


def trid(target, **extra):
    s = "trtype:tcp traddr:%s trsvcid:%d subnqn:%s" % (target.address, target.port,
                                                       target.subnqn)
    for k, v in extra.items():
        s += " %s:%s" % (k, v)
    return s


def perf(*args, timeout=30):
    return subprocess.run([NVMF_PERF] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout)


def perf_json(target, *args):
    r = perf("-r", trid(target), "-t", 1, "--json", *args)
    assert r.returncode == 0, "nvmf-perf %s failed (%d): %s" % (args, r.returncode, r.stderr)
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1, r.stdout
    d = json.loads(lines[0])
    for k in KEYS:
        assert isinstance(d[k], (int, float)), (k, d)
    assert d["iops"] > 0, d
    assert d["bandwidth_mibs"] > 0, d
    assert 0 < d["p50_latency_us"] <= d["p99_latency_us"] <= d["p999_latency_us"] \
        <= d["max_latency_us"], d
    assert d["min_latency_us"] <= d["avg_latency_us"] <= d["max_latency_us"], d
    assert d["io_errors"] == 0 and d["verify_errors"] == 0, d
    return d


def test_randread_json(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    d = perf_json(t, "-q", 8, "-o", 4096, "-w", "randread")
    assert d["workload"] == "randread" and d["queue_depth"] == 8 and d["io_size"] == 4096
    assert d["reads"] > 0 and d["writes"] == 0


def test_write_and_mixed(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    d = perf_json(t, "-q", 4, "-o", "16k", "-w", "write")
    assert d["writes"] > 0 and d["reads"] == 0
    d = perf_json(t, "-q", 16, "-w", "randrw", "-M", 70)
    assert d["reads"] > 0 and d["writes"] > 0
    # In-capsule data and R2T both: a write larger than nvmfd's in-capsule size.
    d = perf_json(t, "-q", 2, "-o", "128k", "-w", "randwrite")
    assert d["writes"] > 0


def test_write_then_verified_read(nvmfd):
    """Sequential writes cover the 1 MiB namespace many times in a second; every
    random read afterwards must find the pattern of its own offset."""
    t = nvmfd.start("ramdisk:1M")
    perf_json(t, "-q", 4, "-o", "64k", "-w", "write", "--verify")
    d = perf_json(t, "-q", 8, "-o", 4096, "-w", "randread", "--verify")
    assert d["reads"] > 0
    # A fresh namespace is zeros, not the pattern: verify says so and fails.
    t2 = nvmfd.start("ramdisk:1M")
    r = perf("-r", trid(t2), "-t", 1, "-q", 1, "-w", "randread", "--verify")
    assert r.returncode == 1, r
    assert "verify errors" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_threads_queues_digests_busy_poll(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    d = perf_json(t, "-q", 4, "-c", 2, "-P", 2, "-w", "randrw", "-M", 50)
    assert d["threads"] == 2 and d["queues_per_thread"] == 2
    d = perf_json(t, "-q", 2, "-H", "-I", "-w", "randrw", "-M", 50, "-o", "8k")
    assert d["header_digest"] and d["data_digest"]
    d = perf_json(t, "-q", 1, "--busy-poll", "-w", "read")
    assert d["busy_poll"]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_target_busy_poll_polls_while_busy_sleeps_when_idle(nvmfd):
    """nvmfd --busy-poll-us: verified data as ever; while QD1 traffic flows its
    queue polls instead of sleeping (a target that sleeps does so about once
    per command, a polling one hardly at all); an idle connected queue costs
    no CPU."""
    plain = nvmfd.start("ramdisk:1M")
    polling = nvmfd.start("ramdisk:1M", opts=("--busy-poll-us", "500"))
    slept, reads = {}, {}
    for name, t in (("plain", plain), ("polling", polling)):
        perf_json(t, "-q", 1, "-o", "64k", "-w", "write", "--verify")
        # Counted mid-run: a connection's thread, and its count, end with it.
        p = subprocess.Popen([NVMF_PERF, "-r", trid(t), "-t", "3", "--json", "-q", "1",
                              "-w", "randread", "--verify"], stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)
        before = sleeps(t.proc.pid)
        time.sleep(1.0)
        slept[name] = sleeps(t.proc.pid) - before
        out, _ = p.communicate(timeout=30)
        assert p.returncode == 0, out
        reads[name] = json.loads(out)["reads"] / 3      # about one second's worth
    assert slept["plain"] > reads["plain"] / 2, (slept, reads)
    assert slept["polling"] < reads["polling"] / 20, (slept, reads)
    c = polling.controller()
    try:
        (q,) = c.connect_io(1)
        assert q.read(1, 0, 8) == q.read(1, 0, 8)
        time.sleep(0.2)                    # past the 500 us window
        before = cpu_seconds(polling.proc.pid)
        time.sleep(1.0)
        idle = cpu_seconds(polling.proc.pid) - before
    finally:
        c.close()
    assert idle < 0.05, "an idle queue of a polling nvmfd used %.2f s of CPU in 1 s" % idle


def test_digests_with_reads_and_writes_of_the_same_blocks(nvmfd):
    """Reads and writes of the same few blocks at once, on two queues, with header and
    data digests: every read's digest covers what was sent, so none fails with a
    Transient Transport Error. (RAM reads used to be sent from the ramdisk in place;
    a write landing under the send changed the bytes after their digest: hundreds
    of errors in two seconds on a fresh 1 MiB namespace.)"""
    t = nvmfd.start("ramdisk:1M", opts=("-g", "-G"))
    d = perf_json(t, "-q", 32, "-P", 2, "-H", "-I", "-w", "randrw", "-M", 50, "-o", 4096)
    assert d["reads"] > 0 and d["writes"] > 0, d


def test_text_output(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    r = perf("-r", trid(t), "-t", 1, "-q", 2)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("nvmf-perf: randread, 4096-byte I/O, queue depth 2"), r.stdout
    assert lines[1].split() == ["IOPS", "MiB/s", "avg(us)", "p50(us)", "p99(us)",
                                "p99.9(us)", "max(us)"], r.stdout
    assert float(lines[2].split()[0]) > 0, r.stdout


def test_bad_options_one_line_exit_2():
    for args, named in ((["-q", "0"], "-q:"), (["-w", "trim"], "-w:"),
                        (["-o", "100"], "-o:"), (["--nope"], "--nope"),
                        (["-c", "0xg"], "-c:")):
        r = perf("-r", "trtype:tcp traddr:127.0.0.1 subnqn:nqn.x:y", *args)
        assert r.returncode == 2, (args, r)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("nvmf-perf: ") and named in lines[0], \
            (args, r.stderr)
        assert r.stdout == ""
    r = perf("-r", "trtype:rdma traddr:1.2.3.4 subnqn:nqn.x:y")
    assert r.returncode == 2 and "trtype" in r.stderr, r
    r = perf("-h")
    assert r.returncode == 0 and r.stdout.startswith("usage: nvmf-perf"), r


def test_unreachable_target_exit_1():
    port = free_port()      # nobody listens there
    r = perf("-r", "trtype:tcp traddr:127.0.0.1 trsvcid:%d subnqn:nqn.x:y" % port, "-t", 1)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect" in lines[0], r.stderr
    assert r.stdout == ""


def test_wrong_subnqn_and_too_deep(nvmfd):
    t = nvmfd.start("ramdisk:16M")
    r = perf("-r", "trtype:tcp traddr:%s trsvcid:%d subnqn:nqn.2024-01.io.nvmf.e2e:nobody"
             % (t.address, t.port), "-t", 1)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r
    # nvmfd's queues hold 127 commands (MQES+1 = 128).
    r = perf("-r", trid(t), "-t", 1, "-q", 1000)
    assert r.returncode == 1 and "-q 1000" in r.stderr, r
