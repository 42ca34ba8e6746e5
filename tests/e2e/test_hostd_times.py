# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Namespace files carry the time they appeared, as a block device node does, and dev/ the
time a file last came or went (issue 11): ls -l shows when, not 1 January 1970."""

import os
import time

from conftest import ADDR, nvmfd  # noqa: F401
from ctl_helpers import hostd  # noqa: F401


def test_files_dated_when_they_appeared(nvmfd, hostd):  # noqa: F811
    dev = os.path.join(hostd.rundir, "dev")
    started = os.stat(dev).st_mtime
    assert abs(started - time.time()) < 60, "dev/ dated %s" % time.ctime(started)
    t1 = nvmfd.start()
    t2 = nvmfd.start()
    time.sleep(1.1)         # a second apart, so the two files' times differ visibly
    before = time.time()
    r = hostd.ctl("connect", "%s:%d" % (ADDR, t1.port), t1.subnqn)
    assert r.rc == 0, r
    first = os.stat(os.path.join(dev, "nvme0ns1"))
    assert before - 0.01 <= first.st_mtime <= time.time() + 0.01
    assert first.st_atime == first.st_mtime == first.st_ctime
    assert os.stat(dev).st_mtime >= first.st_mtime > started

    time.sleep(1.1)
    r = hostd.ctl("connect", "%s:%d" % (ADDR, t2.port), t2.subnqn)
    assert r.rc == 0, r
    second = os.stat(os.path.join(dev, "nvme1ns1"))
    assert second.st_mtime >= first.st_mtime + 1
    # The first file keeps its time, I/O does not change it; dev/ moved with the new file.
    with open(os.path.join(dev, "nvme0ns1"), "r+b", buffering=0) as f:
        f.write(b"\0" * 512)
    assert os.stat(os.path.join(dev, "nvme0ns1")).st_mtime == first.st_mtime
    assert os.stat(dev).st_mtime >= second.st_mtime

    time.sleep(1.1)
    gone = time.time()
    r = hostd.ctl("disconnect", "nvme0")
    assert r.rc == 0, r
    assert os.stat(dev).st_mtime >= gone - 0.01, "dev/ did not change when nvme0ns1 went"
