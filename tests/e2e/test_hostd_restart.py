# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Issue 10: nvmf-hostd keeps its controllers across its own restart.

Each controller's kept parameters live in $rundir/state/nvmeN.json. Killed (SIGKILL) or
stopped (SIGTERM) and started again, nvmf-hostd restores every controller as disconnected
under its old name; the shipped rule reconnects it (nvmecontrol reconnect) and its namespace
files come back with what was written. A disconnect removes the file; a bad file is skipped
with one log line and moved aside as .bad.
"""

import errno
import json
import os
import signal
import subprocess

import pytest

import reconnect_helpers as rh
from reconnect_helpers import stack  # noqa: F401  (the fixture)
from reconnect_helpers import BLOCK, block_pattern, file_block, wait_until




def state_path(s, name):
    return os.path.join(s.rundir, "state", name + ".json")


def hostd_log(s):
    return rh.read_text(s.hostd_log)


def restart_hostd(s, sig=signal.SIGKILL):
    """Ends nvmf-hostd with sig and starts it again on the same run directory; returns
    once the new one is ready (its log says so)."""
    if sig == signal.SIGKILL:
        s.hostd.send_signal(signal.SIGKILL)
        s.hostd.wait(10)
    else:
        rc, _, hung = s.stop_hostd(15)
        assert not hung and rc == 0, "nvmf-hostd on SIGTERM: rc %s, hung %s" % (rc, hung)
    # What a crash leaves: a dead mount (ENOTCONN) and the old sockets' names.
    subprocess.run(["umount", "-l", s.dev], stderr=subprocess.DEVNULL)
    s.start_hostd()
    s.hostd_exit = None     # close() stops the new one
    wait_until(lambda: "ready:" in hostd_log(s), 10, what="nvmf-hostd ready")


def stop_devd(s):
    rc, _, hung = rh.stop_process(s.devd, 5)
    assert not hung and rc == 0
    s.events.close()
    s.events = None
    s.devd = None


def connect_two(s):
    out = []
    for i in range(2):
        path, salt = s.image("disk%d.img" % i)
        t = s.target(path)
        t.image, t.salt = path, salt
        c = s.connect(t, "-r", 1, "-l", 60, expect_name="nvme%d" % i)
        out.append((t, c["namespaces"][0]["name"]))
    return out


def write_block(path, block, data):
    fd = os.open(path, os.O_WRONLY)
    try:
        assert os.pwrite(fd, data, block * BLOCK) == BLOCK
        os.fsync(fd)
    finally:
        os.close(fd)


def read_block(path, block):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, BLOCK, block * BLOCK)
    finally:
        os.close(fd)


def all_connected(s, names):
    states = {c["name"]: c["state"] for c in s.devlist()}
    return all(states.get(n) == "connected" for n in names)


def test_kill_restores_controllers_by_name(stack):
    s = stack("hrkill")
    s.start()
    ctrls = connect_two(s)
    for i, (t, ns) in enumerate(ctrls):
        write_block(s.ns_path(ns), 7, block_pattern(t.salt, 7, 100 + i))
        st = json.load(open(state_path(s, "nvme%d" % i)))
        assert st["version"] == 1 and st["name"] == "nvme%d" % i, st
        assert st["controller"]["subnqn"] == t.subnqn and st["controller"]["reconnect_delay"] == 1
    fd = os.open(s.ns_path(ctrls[0][1]), os.O_RDWR)
    # devd away: the restored controllers stay disconnected until the rule runs again.
    stop_devd(s)
    restart_hostd(s)
    # I/O on a file of the dead mount fails as FUSE must; it was never acknowledged.
    with pytest.raises(OSError) as e:
        os.pwrite(fd, block_pattern(ctrls[0][0].salt, 8, 1), 8 * BLOCK)
    assert e.value.errno == errno.ENOTCONN, e.value
    try:
        os.close(fd)        # its flush meets the dead mount too
    except OSError as e2:
        assert e2.errno == errno.ENOTCONN, e2
    listed = {c["name"]: c for c in s.devlist()}
    assert set(listed) == {"nvme0", "nvme1"}, listed
    for i, (t, _) in enumerate(ctrls):
        c = listed["nvme%d" % i]
        assert c["state"] in ("disconnected", "reconnecting"), c
        assert c["reason"] == "nvmf-hostd restarted" and c["subnqn"] == t.subnqn, c
    log = hostd_log(s)
    for n in ("nvme0", "nvme1"):
        assert "%s: restored from" % n in log and "%s: event DISCONNECTED" % n in log, log
    # The rule reconnects them as after any loss.
    s.start_devd()
    wait_until(lambda: all_connected(s, ["nvme0", "nvme1"]), 20, interval=0.1,
               what="both controllers connected through the rule")
    log = hostd_log(s)
    for n in ("nvme0", "nvme1"):
        assert "%s: event RECONNECT" % n in log and "%s: event RECONNECTED" % n in log, log
    for i, (t, ns) in enumerate(ctrls):
        path = s.ns_path(ns)
        wait_until(lambda: os.path.exists(path), 10, what="%s back" % ns)
        assert read_block(path, 7) == block_pattern(t.salt, 7, 100 + i)
        write_block(path, 9, block_pattern(t.salt, 9, 5))
        assert file_block(t.image, 9) == block_pattern(t.salt, 9, 5)
    # A new controller takes the next free name.
    path, _ = s.image("disk2.img")
    s.connect(s.target(path), "-r", 1, "-l", 60, expect_name="nvme2")


def test_bad_state_files_are_skipped(stack):
    s = stack("hrbad")
    s.start()
    ctrls = connect_two(s)
    write_block(s.ns_path(ctrls[0][1]), 3, block_pattern(ctrls[0][0].salt, 3, 9))
    s.hostd.send_signal(signal.SIGKILL)
    s.hostd.wait(10)
    sdir = os.path.join(s.rundir, "state")
    good = open(state_path(s, "nvme0")).read()
    with open(state_path(s, "nvme1"), "w") as f:
        f.write('{"version": 1, "name": "nvme1", "controller": {')    # cut short
    with open(os.path.join(sdir, "copy.json"), "w") as f:
        f.write(good)                                                   # nvme0 twice
    st = json.loads(good)
    st["version"], st["name"] = 99, "nvme5"
    with open(state_path(s, "nvme5"), "w") as f:
        json.dump(st, f)
    subprocess.run(["umount", "-l", s.dev], stderr=subprocess.DEVNULL)
    s.start_hostd()
    wait_until(lambda: "ready:" in hostd_log(s), 10, what="nvmf-hostd ready")
    log = hostd_log(s).splitlines()
    for name, why in (("nvme1.json", "not JSON"), ("copy.json", "names nvme0, as another"),
                      ("nvme5.json", "unknown version 99")):
        lines = [ln for ln in log if os.path.join(sdir, name) in ln and "skipped" in ln]
        assert len(lines) == 1 and why in lines[0], (name, log)
        assert os.path.exists(os.path.join(sdir, name + ".bad"))
        assert not os.path.exists(os.path.join(sdir, name))
    wait_until(lambda: all_connected(s, ["nvme0"]), 20, interval=0.1, what="nvme0 connected")
    assert [c["name"] for c in s.devlist()] == ["nvme0"]
    path = s.ns_path(ctrls[0][1])
    wait_until(lambda: os.path.exists(path), 10, what="nvme0ns1 back")
    assert read_block(path, 3) == block_pattern(ctrls[0][0].salt, 3, 9)
    # nvme1's name is free again: the next connect takes it.
    s.connect(ctrls[1][0], "-r", 1, "-l", 60, expect_name="nvme1")
    assert os.path.exists(state_path(s, "nvme1"))


def test_disconnect_removes_state(stack):
    s = stack("hrdisc")
    s.start()
    connect_two(s)
    assert os.path.exists(state_path(s, "nvme0"))
    r = s.ctl("disconnect", "nvme0")
    assert r.rc == 0, r
    assert not os.path.exists(state_path(s, "nvme0"))
    assert os.path.exists(state_path(s, "nvme1"))
    r = s.ctl("disconnect-all")
    assert r.rc == 0, r
    assert os.listdir(os.path.join(s.rundir, "state")) == []
    restart_hostd(s)
    assert s.devlist() == []


def test_sigterm_keeps_controllers(stack):
    s = stack("hrterm")
    s.start()
    ctrls = connect_two(s)
    t, ns = ctrls[1]
    write_block(s.ns_path(ns), 11, block_pattern(t.salt, 11, 3))
    restart_hostd(s, sig=signal.SIGTERM)
    assert "nvme1: restored from" in hostd_log(s)
    wait_until(lambda: all_connected(s, ["nvme0", "nvme1"]), 20, interval=0.1,
               what="both controllers connected again through the rule")
    path = s.ns_path(ns)
    wait_until(lambda: os.path.exists(path), 10, what="%s back" % ns)
    assert read_block(path, 11) == block_pattern(t.salt, 11, 3)
    s.events.wait_for("RECONNECTED", "nvme1", timeout=5)
