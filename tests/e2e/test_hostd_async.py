# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Issue 9: the namespace file answers each request from its completion, so no
FUSE thread waits per I/O. What a user sees: more requests in flight than
nvmf-hostd has threads, all held across a target restart and answered with the
right data; deep verified fio; every request answered when nvmf-hostd stops.
Stacks as in test_reconnect.py (reconnect_helpers.Stack: nvmfd over a file,
nvmf-hostd, nvmf-devd with the shipped rules).
"""
import json
import os
import shutil
import subprocess
import time

import pytest

import reconnect_helpers as rh
from reconnect_helpers import stack  # noqa: F401  (the fixture)
from reconnect_helpers import block_pattern, pread_op, pwrite_op, wait_until

BLOCK = rh.BLOCK
DEPTH = 64




def threads_of(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def connected_then_target_killed(s):
    """A controller on a fresh image, then its target killed: (image, salt, target,
    namespace path, kill time), once nvmf-hostd has said DISCONNECTED."""
    img, salt = s.image(size=16 * rh.MIB)
    t = s.target(img)
    s.start()
    s.connect(t, "-r", 1, "-l", 30)
    t_kill = t.kill()
    s.events.wait_for("DISCONNECTED", since=t_kill, timeout=3)
    return img, salt, t, s.ns_path(), t_kill


def wait_held(s, n, what):
    wait_until(lambda: s.controller()["held_io"] == n, 10,
               what="%d held %s (devlist says %s)" % (n, what, s.controller().get("held_io")))


def test_more_reads_held_than_threads_replayed_after_restart(stack):
    """64 reads at once while the target is down: all 64 reach nvmf-hostd and are
    held (devlist's held_io), though it runs far fewer threads; the target comes
    back, the rule reconnects, and every read returns its block."""
    s = stack("aq")
    img, salt, t, path, t_kill = connected_then_target_killed(s)
    reads = [pread_op(path, (100 + i) * BLOCK, BLOCK).start() for i in range(DEPTH)]
    wait_held(s, DEPTH, "reads")
    nthreads = threads_of(s.hostd.pid)
    assert nthreads < DEPTH, "nvmf-hostd runs %d threads" % nthreads
    assert not any(r.done() for r in reads), "a read ended while the target was down"

    t.start()
    s.events.wait_for("RECONNECTED", since=t_kill, timeout=10)
    for i, r in enumerate(reads):
        assert r.join(5), "read %d still blocks after RECONNECTED" % i
        assert r.error is None, "read %d: %r" % (i, r.error)
        assert r.result == block_pattern(salt, 100 + i, 0), "read %d: wrong data" % i
    assert s.controller()["state"] == "connected"


def test_writes_of_many_threads_are_in_flight_together(stack):
    """16 threads each writing its own block while the target is down: all 16 reach
    nvmf-hostd and are held at once (the files are opened for parallel direct
    writes; without that the kernel lets one direct write of a file through at a
    time and devlist would show 1); after the reconnect every block is in the
    target's file."""
    writers = 16
    s = stack("aw")
    img, salt, t, path, t_kill = connected_then_target_killed(s)
    ops = [pwrite_op(path, (200 + i) * BLOCK, block_pattern(salt, 200 + i, 7)).start()
           for i in range(writers)]
    wait_held(s, writers, "writes")
    assert not any(o.done() for o in ops), "a write ended while the target was down"
    t.start()
    s.events.wait_for("RECONNECTED", since=t_kill, timeout=10)
    for i, o in enumerate(ops):
        assert o.join(5), "write %d still blocks after RECONNECTED" % i
        assert o.error is None and o.result == BLOCK, "write %d: %r %r" % (i, o.error, o.result)
        assert rh.file_block(img, 200 + i) == block_pattern(salt, 200 + i, 7), \
            "block %d is not in the target's file" % (200 + i)


def test_deep_queue_verified_with_fio(stack):
    """fio, libaio O_DIRECT at depth 64 in two jobs, sizes 4 KiB to 1 MiB: every
    block written reads back as written (crc32c verify)."""
    if shutil.which("fio") is None:
        pytest.fail("fio is missing (scripts/install-deps.sh installs it)")
    s = stack("afio")
    img, _ = s.image(size=64 * rh.MIB)
    t = s.target(img)
    s.start()
    s.connect(t, "-r", 1, "-l", 30)
    out = os.path.join(s.dir, "fio.json")
    argv = ["fio", "--name=deep", "--filename=" + s.ns_path(), "--ioengine=libaio",
            "--direct=1", "--rw=randwrite", "--bssplit=4k/50:64k/20:128k/20:1m/10",
            "--iodepth=%d" % DEPTH, "--numjobs=2", "--offset_increment=32m", "--size=32m",
            "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--group_reporting",
            "--output-format=json", "--output=" + out]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, "fio failed (%d):\n%s\n%s" % (p.returncode, p.stdout[-3000:],
                                                            p.stderr[-3000:])
    # fio puts its warning about several writers (their ranges do not overlap:
    # offset_increment) before the JSON.
    with open(out) as f:
        text = f.read()
    job = json.loads(text[text.index("{"):])["jobs"][0]
    assert job["error"] == 0, job["error"]
    assert job["write"]["io_bytes"] >= 64 * rh.MIB, job["write"]["io_bytes"]
    # The verify phase read back what was written.
    assert job["read"]["io_bytes"] >= 64 * rh.MIB, job["read"]["io_bytes"]


def test_stop_answers_held_requests(stack):
    """SIGTERM while reads are held for a target that is down: every read ends (an
    error, not a hang), and nvmf-hostd exits cleanly."""
    s = stack("astop")
    img, _ = s.image()
    t = s.target(img)
    s.start()
    s.connect(t, "-r", 1, "-l", 60)
    path = s.ns_path()

    t_kill = t.kill()
    s.events.wait_for("DISCONNECTED", since=t_kill, timeout=3)
    reads = [pread_op(path, (10 + i) * BLOCK, BLOCK).start() for i in range(8)]
    wait_until(lambda: s.controller()["held_io"] == 8, 10, what="8 held reads")
    t0 = time.monotonic()
    rc, secs, hung = s.stop_hostd(15)
    assert not hung, "nvmf-hostd did not exit within 15 s of SIGTERM"
    assert rc == 0, "nvmf-hostd exit status %s" % rc
    for i, r in enumerate(reads):
        assert r.join(5), "read %d still blocks after nvmf-hostd exited" % i
        assert r.error is not None, "read %d returned data from a target that is down" % i
    assert time.monotonic() - t0 < 15
