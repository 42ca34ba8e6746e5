# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmf-hostd ends on SIGTERM even when its FUSE mount lives on elsewhere: a mount namespace
made after it mounted dev/ (ip netns exec, a container, unshare -m) holds a copy of the mount,
so unmounting in ours does not end the FUSE connection. hostd must not wait for it forever
(found by the soak: a target restarted with ip netns exec hung hostd's shutdown)."""

import os
import signal
import subprocess
import time

from ctl_helpers import Hostd, short_tempdir


def test_sigterm_with_the_mount_copied_into_another_namespace():
    rundir = short_tempdir("mns")
    h = Hostd(rundir)
    # A process in a new mount namespace, made now: it has its own copy of dev/.
    other = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sleep", "60"])
    try:
        time.sleep(0.3)
        assert os.path.ismount(os.path.join(rundir, "dev"))
        t0 = time.monotonic()
        h.proc.send_signal(signal.SIGTERM)
        rc = h.proc.wait(timeout=15)
        took = time.monotonic() - t0
        assert rc == 0, h.log()
        assert took < 8, "nvmf-hostd took %.1f s to exit" % took
        log = h.log()
        if not os.path.exists("/sys/fs/fuse/connections"):
            # Without fusectl it waits a little, says why, and lets its exit end it.
            assert "lives on in another mount namespace" in log, log
        assert not os.path.ismount(os.path.join(rundir, "dev"))
    finally:
        other.kill()
        other.wait()
        if h.proc.poll() is None:
            h.proc.kill()
            h.proc.wait()
