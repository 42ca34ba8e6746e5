# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmf-hostd as a daemon: its run directory, control socket, devctl and mount.

What an operator meets when something is off: a second hostd on the same run
directory, a name that is no controller, a user who is not allowed, a hostd
killed with its FUSE mount still there.
"""

import errno
import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from ctl_helpers import HOSTD, Hostd, assert_one_line_error, ctl, hostd, short_tempdir  # noqa: F401
from conftest import nvmfd  # noqa: F401


def mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def test_second_hostd_on_the_same_rundir_is_refused(hostd):
    p = subprocess.run([HOSTD, "-d", "--rundir", hostd.rundir], capture_output=True,
                       text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert "another nvmf-hostd (pid %d)" % hostd.proc.pid in lines[0], lines[0]
    assert hostd.rundir in lines[0]
    # The first one is untouched: it still answers and its mount is there.
    assert hostd.controllers() == []
    assert mounted(os.path.join(hostd.rundir, "dev"))


def test_second_hostd_detached_reports_the_refusal_too(hostd):
    p = subprocess.run([HOSTD, "--rundir", hostd.rundir], capture_output=True, text=True,
                       timeout=10, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p
    assert "another nvmf-hostd" in p.stderr


@pytest.mark.parametrize("args", [
    ("identify", "nvme7"),
    ("identify", "nvme7ns1"),
    ("disconnect", "nvme7"),
    ("reconnect", "nvme7"),
])
def test_unknown_device_is_one_line_error(hostd, args):
    r = hostd.ctl(*args)
    assert_one_line_error(r, "nvme7")
    assert hostd.controllers() == []


def test_control_socket_is_private(hostd):
    st = os.stat(hostd.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    # Another user cannot even reach it (mode 0600): one line, non-zero exit.
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        os.path.join(os.path.dirname(HOSTD), "nvmecontrol"), "--rundir",
                        hostd.rundir, "devlist"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert "Permission denied" in r.stderr or "permission" in r.stderr.lower(), r.stderr


def test_devctl_has_one_reader(hostd):
    path = os.path.join(hostd.rundir, "devctl")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    first.connect(path)
    time.sleep(0.2)
    second = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    second.connect(path)
    second.settimeout(3)
    # The second reader is turned away: its connection ends.
    assert second.recv(100) == b""
    second.close()
    first.close()


def test_sigterm_cleans_up_the_rundir():
    rundir = short_tempdir("hostd")
    h = Hostd(rundir)
    dev = os.path.join(rundir, "dev")
    try:
        assert mounted(dev)
    finally:
        assert h.stop() is None
    assert not mounted(dev)
    for name in ("nvmf.sock", "devctl", "nvmf-hostd.pid", "dev"):
        assert not os.path.exists(os.path.join(rundir, name)), name
    os.rmdir(rundir)


def test_restart_after_kill_clears_the_dead_mount(nvmfd):  # noqa: F811
    target = nvmfd.start()
    rundir = short_tempdir("hostd")
    dev = os.path.join(rundir, "dev")
    h = Hostd(rundir)
    try:
        r = h.ctl("connect", "127.0.0.1:%d" % target.port, target.subnqn)
        assert r.rc == 0, r
        assert os.path.exists(os.path.join(dev, "nvme0ns1"))
    finally:
        h.proc.send_signal(signal.SIGKILL)
        h.proc.wait()
    # What a killed FUSE daemon leaves: a mount nobody serves (ENOTCONN, not a
    # missing directory).
    with pytest.raises(OSError) as ei:
        os.listdir(dev)
    assert ei.value.errno == errno.ENOTCONN, ei.value
    h2 = Hostd(rundir)
    try:
        assert os.listdir(dev) == []
        # The controller is kept across the restart (issue 10), disconnected until
        # reconnected (here by hand: no rule runs).
        ctrls = h2.controllers()
        assert [(c["name"], c["state"]) for c in ctrls] == [("nvme0", "disconnected")], ctrls
        # And it works: the same target connects again.
        r = h2.ctl("reconnect", "nvme0")
        assert r.rc == 0, r
        with open(os.path.join(dev, "nvme0ns1"), "rb") as f:
            assert len(f.read(4096)) == 4096
        r = h2.ctl("disconnect", "nvme0")
        assert r.rc == 0, r
    finally:
        assert h2.stop() is None
    os.rmdir(rundir)


def test_bad_option_and_argument():
    p = subprocess.run([HOSTD, "--bogus"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    p = subprocess.run([HOSTD, "extra"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    assert "unexpected argument 'extra'" in p.stderr


def test_unusable_rundir_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    p = subprocess.run([HOSTD, "-d", "--rundir", str(blocker / "run")], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 1, p
    assert len(p.stderr.splitlines()) == 1, p.stderr
    assert str(blocker) in p.stderr
