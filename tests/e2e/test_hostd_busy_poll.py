# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmf-hostd --busy-poll-us: the loop polls instead of sleeping for so long after
its last request or reply. What a user checks: data still reads back, the loop
spends its core while I/O comes (that is the point), and gives it back once the
I/O stops; a bad value is one line and exit status 2."""

import mmap
import os
import re
import subprocess
import time

import pytest

import host_disk_helpers as hd
from conftest import ADDR, cpu_seconds, sleeps

KIB = 1024


def reads_for(path, seconds):
    """4 KiB O_DIRECT reads one after the other (QD1) for seconds; returns their count."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 4 * KIB)
    n = 0
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            assert os.preadv(fd, [buf], (n % 256) * 4 * KIB) == 4 * KIB
            n += 1
    finally:
        os.close(fd)
    return n


def cpu_while(pid, fn, *args):
    c0 = cpu_seconds(pid)
    t0 = time.monotonic()
    fn(*args)
    return (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def sleeps_per_read(pid, path, seconds):
    s0 = sleeps(pid)
    n = reads_for(path, seconds)
    return (sleeps(pid) - s0) / n


def test_polls_while_io_comes_and_sleeps_after(nvmfd, host_stacks):
    t = nvmfd.start("ramdisk:16M")
    sleeper = host_stacks()
    poller = host_stacks("--busy-poll-us", "200")
    paths = {}
    for name, host in (("sleeper", sleeper), ("poller", poller)):
        ctrl = host.connect(ADDR, t.port, t.subnqn, nr_io=1)
        paths[name] = host.ns_path(ctrl["namespaces"][0]["name"])
    data = os.urandom(256 * KIB)
    fd = os.open(paths["poller"], os.O_RDWR)
    try:
        assert os.pwrite(fd, data, 0) == len(data)
        os.fsync(fd)
    finally:
        os.close(fd)
    fd = os.open(paths["sleeper"], os.O_RDONLY)
    try:
        assert os.pread(fd, len(data), 0) == data
    finally:
        os.close(fd)
    per_read = {name: sleeps_per_read(h.proc.pid, paths[name], 1.5)
                for name, h in (("sleeper", sleeper), ("poller", poller))}
    # The loop that sleeps waits twice a read (for the request, for the reply;
    # a little less on a loaded machine, where requests queue while it is
    # preempted); the polling one hardly ever.
    assert per_read["poller"] < 0.3 and per_read["sleeper"] > 3 * per_read["poller"], \
        per_read
    # With no I/O it sleeps like the other.
    idle = cpu_while(poller.proc.pid, time.sleep, 1.0)
    assert idle < 0.1, "polling loop used %.2f s of CPU a second with no I/O" % idle


@pytest.mark.parametrize("value", ["x", "-1", "1000001", "", "1e3"])
def test_bad_value_is_one_line(tmp_path, value):
    r = subprocess.run([hd.HOSTD, "-d", "--rundir", str(tmp_path / "run"),
                        "--busy-poll-us", value], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(r"--busy-poll-us '.*': microseconds, 0 to 1000000",
                                         lines[0]), r.stderr
    assert not os.path.exists(tmp_path / "run" / "nvmf.sock")
