# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""One queue pair of a busy controller torn down while the others live: the
association is lost, the commands that queue held come back before the loss is
known, and they must be held and replayed like every other, never failed.

The socket is closed under nvmf-hostd with `ss -K` (the kernel's sock_destroy),
which is what a middlebox resetting one flow does; the target stays up, so the
shipped rule reconnects at once. The writers must see no error and every block
must read back as last written."""

import mmap
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

import reconnect_helpers as rh
from reconnect_helpers import stack  # noqa: F401  (the fixture)
from reconnect_helpers import PatternWriter, read_text, wait_until


def io_sockets(port):
    """Local ports of nvmf-hostd's connections to the target, in the order made."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "dport", "= :%d" % port],
                         capture_output=True, text=True, timeout=10).stdout
    return sorted(int(re.split(r"\s+", ln.strip())[2].rsplit(":", 1)[1])
                  for ln in out.splitlines() if ln.strip())


class Readers:
    """Threads reading random 4 KiB blocks with O_DIRECT, many at once (writes to one
    FUSE file are serialised by the kernel; reads are not): what they see of errors."""

    def __init__(self, path, nblocks, threads=8):
        self.path, self.nblocks = path, nblocks
        self.reads, self.errors = 0, []
        self.stopping = False
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(threads)]
        for th in self.threads:
            th.start()

    def _run(self, i):
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECT)
        buf = mmap.mmap(-1, rh.BLOCK)
        try:
            k = i
            while not self.stopping:
                k = (k * 7 + 13) % self.nblocks
                try:
                    n = os.preadv(fd, [buf], k * rh.BLOCK)
                except OSError as e:
                    with self.lock:
                        self.errors.append((k, e))
                    return
                with self.lock:
                    self.reads += 1
                    if n != rh.BLOCK:
                        self.errors.append((k, "short read %d" % n))
                        return
        finally:
            os.close(fd)

    def stop(self):
        self.stopping = True
        for th in self.threads:
            th.join(10)
        return not any(th.is_alive() for th in self.threads)


def test_one_io_queue_reset_under_io_loses_nothing(stack):
    if shutil.which("ss") is None:
        pytest.fail("ss is missing (scripts/install-deps.sh installs iproute2)")
    s = stack("ql")
    img, salt = s.image(size=16 * rh.MIB, pattern_blocks=1024)
    t = s.target(img)
    s.start()
    s.connect(t, "-i", 2, "-r", 1, "-l", 30)
    path = s.ns_path()
    w = PatternWriter(path, salt, nblocks=1024, threads=4).start()
    s.cleanups.append(w.stop)
    rd = Readers(path, 4096, threads=16)
    s.cleanups.append(rd.stop)
    wait_until(lambda: len(w.writes()) >= 300 or w.errors, 10, what="300 writes")
    ports = io_sockets(t.port)
    assert len(ports) == 3, "expected admin + 2 I/O connections, found %s" % ports
    t_reset = time.monotonic()
    # The last connection made is an I/O queue's: sixteen readers keep commands on it.
    r = subprocess.run(["ss", "-K", "-tn", "state", "established", "dport", "= :%d" % t.port,
                        "sport", "= :%d" % ports[-1]], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r
    # The socket itself, not the count: a reconnect may already have made three new ones
    # (a CI run once skipped here for that).
    if ports[-1] in io_sockets(t.port):
        pytest.skip("this kernel cannot destroy sockets (CONFIG_INET_DIAG_DESTROY)")
    s.events.wait_for("RECONNECTED", since=t_reset, timeout=10)
    n_at = len(w.writes())
    wait_until(lambda: len(w.writes()) >= n_at + 300 or w.errors, 10,
               what="300 writes after the reconnect")
    assert w.stop() and rd.stop(), "reader or writer threads did not stop"
    assert not w.errors, "the writers saw I/O errors: %s\n%s" % (w.errors[:5], s.logs())
    assert not rd.errors, "the readers saw I/O errors: %s\n%s" % (rd.errors[:5], s.logs())
    log = read_text(s.hostd_log)
    assert re.search(r"nvme0: association .* lost", log), log[-3000:]
    # What the reset queue held came back and was sent again, not failed.
    held = [int(n) for n in re.findall(r"nvme0: (\d+) held commands? resubmitted", log)]
    assert held and sum(held) > 1, log[-3000:]
    print("reset local port %d of %s; held and resubmitted %s; writes %d, reads %d" % (
        ports[-1], ports, held, len(w.writes()), rd.reads))
    bad = w.verify()
    assert not bad, "%d blocks read back wrong: %s" % (len(bad), bad[:5])
    assert os.path.getsize(img) == 16 * rh.MIB
