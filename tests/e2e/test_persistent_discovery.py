# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Issue 10, deliverable 3: persistent discovery and autoconnect.

`nvmecontrol connect-all --persistent` hands the discovery controller to nvmf-hostd, which
keeps it (keep-alive, an AER for Discovery Log Page Change notices, reconnected and restored
like any controller). When nvmfd reloads its configuration (SIGHUP) it raises the notice;
nvmf-hostd reads the log's header and raises DISCOVERY_CHANGE; the shipped rule runs
`nvmecontrol connect-all --device nvmeX`, which connects what is new. Subsystems that leave
the log are left to their loss timers. No test here runs nvmecontrol for the autoconnect.
"""

import json
import os
import signal
import subprocess

import pytest

import reconnect_helpers as rh
from hostile_target import HostileTarget
from reconnect_helpers import stack  # noqa: F401  (the fixture)
from reconnect_helpers import ADDR, BLOCK, wait_until

DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery"



class ConfigTarget(rh.Target):
    """nvmfd -d -c FILE: its subsystems rewritten and reloaded with SIGHUP; killable and
    restartable as reconnect_helpers' targets are."""

    def __init__(self, stack, nqns):
        super().__init__(stack, len(stack.targets), [], rh.free_port(), nqns[0], [], ADDR,
                         None)
        self.dport = rh.free_port()
        while self.dport == self.port:
            self.dport = rh.free_port()
        self.path = os.path.join(stack.dir, "nvmfd-%d.json" % self.idx)
        self.write(nqns)
        stack.targets.append(self)

    def argv(self):
        return [rh.NVMFD, "-d", "-c", self.path]

    def write(self, nqns):
        cfg = {"listen": [{"address": ADDR, "port": self.port}],
               "discovery": {"address": ADDR, "port": self.dport},
               "subsystems": [{"nqn": n, "namespaces": [{"device": "ramdisk:4M"}]}
                              for n in nqns]}
        with open(self.path, "w") as f:
            json.dump(cfg, f)

    def reload(self, nqns):
        log = self.log_paths[-1]
        before = rh.read_text(log).count("reload: ")
        self.write(nqns)
        self.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: rh.read_text(log).count("reload: ") > before, 5,
                   what="nvmfd's reload")

    @property
    def discovery_address(self):
        return "%s:%d" % (ADDR, self.dport)


def by_subnqn(s, nqn):
    return [c for c in s.devlist() if c["subnqn"] == nqn]


def discovery_ctrl(s):
    found = [c for c in s.devlist() if c.get("kind") == "discovery"]
    assert len(found) == 1, s.devlist()
    return found[0]


def connected_with_file(s, nqn):
    for c in by_subnqn(s, nqn):
        if c["state"] == "connected" and c["namespaces"] and \
                os.path.exists(s.ns_path(c["namespaces"][0]["name"])):
            return c
    return None


def write_read(path, salt):
    data = rh.block_pattern(salt, 3, 1)
    fd = os.open(path, os.O_RDWR)
    try:
        assert os.pwrite(fd, data, 3 * BLOCK) == BLOCK
        assert os.pread(fd, BLOCK, 3 * BLOCK) == data
    finally:
        os.close(fd)


def persistent_connect_all(s, t, *opts):
    r = s.ctl("connect-all", "--persistent", "-r", 1, "-l", 30, *opts, t.discovery_address,
              timeout=60)
    assert r.rc == 0, r
    return r


def test_persistent_connect_all_follows_the_log(stack):
    s = stack("pdisc", start=True)
    a, b = rh.new_nqn("pa"), rh.new_nqn("pb")
    t = ConfigTarget(s, [a]).start()
    r = persistent_connect_all(s, t)
    assert "(persistent discovery controller)" in r.out and a in r.out, r
    d = discovery_ctrl(s)
    assert d["subnqn"] == DISCOVERY_NQN and d["state"] == "connected", d
    assert d["namespaces"] == [] and d["kato_ms"] > 0, d
    assert d["trsvcid"] == str(t.dport), d
    assert connected_with_file(s, a), s.devlist()
    text = s.ctl("devlist")
    assert "%s: " % d["name"] in text.out and ", discovery)" in text.out, text

    # A second run finds the kept discovery controller and connects nothing new.
    r = persistent_connect_all(s, t, "-v")
    assert "already the discovery controller" in r.out, r
    assert len(s.devlist()) == 2, s.devlist()

    # A subsystem added and reloaded: connected by the rule alone.
    t.reload([a, b])
    s.events.wait_for("DISCOVERY_CHANGE", d["name"], timeout=10)
    c = wait_until(lambda: connected_with_file(s, b), 15, what="%s connected" % b)
    write_read(s.ns_path(c["namespaces"][0]["name"]), 0x5eed)
    assert discovery_ctrl(s)["state"] == "connected"
    assert len(by_subnqn(s, a)) == 1, s.devlist()

    # A subsystem removed: its controller is lost, not removed at once.
    gone = by_subnqn(s, a)[0]["name"]
    t.reload([b])
    wait_until(lambda: (s.controller(gone) or {}).get("state") in
               ("disconnected", "reconnecting"), 10, what="%s lost" % gone)
    assert s.controller(gone) is not None and "detach_in_ms" in s.controller(gone)
    assert connected_with_file(s, b)


def test_discovery_controller_reconnects_after_target_restart(stack):
    s = stack("pdisc-rs", start=True)
    a = rh.new_nqn("ra")
    t = ConfigTarget(s, [a]).start()
    persistent_connect_all(s, t)
    d = discovery_ctrl(s)["name"]
    since = t.kill()
    s.events.wait_for("DISCONNECTED", d, since=since, timeout=10)
    t.start()
    s.events.wait_for("RECONNECTED", d, since=since, timeout=20)
    wait_until(lambda: discovery_ctrl(s)["state"] == "connected", 10, what="reconnected")
    wait_until(lambda: connected_with_file(s, a), 20, what="%s reconnected" % a)
    # Its reconnect re-reads the log: nothing to add, no duplicate.
    s.events.wait_for("DISCOVERY_CHANGE", d, since=since, timeout=10)
    assert len(by_subnqn(s, a)) == 1, s.devlist()
    # Notices still come on the new association.
    b = rh.new_nqn("rb")
    t.reload([a, b])
    wait_until(lambda: connected_with_file(s, b), 15, what="%s connected" % b)


def test_hostd_restart_keeps_the_discovery_controller(stack):
    s = stack("pdisc-hr", start=True)
    a = rh.new_nqn("ha")
    t = ConfigTarget(s, [a]).start()
    persistent_connect_all(s, t)
    d = discovery_ctrl(s)["name"]
    with open(os.path.join(s.rundir, "state", d + ".json")) as f:
        assert json.load(f)["controller"]["kind"] == "discovery"
    rc, _, hung = s.stop_hostd(15)
    assert rc == 0 and not hung
    subprocess.run(["umount", "-l", s.dev], stderr=subprocess.DEVNULL)
    s.start_hostd()
    s.hostd_exit = None
    wait_until(lambda: any(c["name"] == d and c.get("kind") == "discovery" and
                           c["state"] == "connected" for c in s.devlist()), 20,
               what="%s restored and reconnected" % d)
    wait_until(lambda: connected_with_file(s, a), 20, what="%s reconnected" % a)
    b = rh.new_nqn("hb")
    t.reload([a, b])
    wait_until(lambda: connected_with_file(s, b), 15, what="%s connected" % b)


def test_disconnect_the_discovery_controller(stack):
    s = stack("pdisc-dc", start=True)
    a, b = rh.new_nqn("da"), rh.new_nqn("db")
    t = ConfigTarget(s, [a]).start()
    persistent_connect_all(s, t)
    d = discovery_ctrl(s)["name"]
    r = s.ctl("disconnect", d)
    assert r.rc == 0, r
    assert [c.get("kind") for c in s.devlist()] == ["nvm"], s.devlist()
    assert not os.path.exists(os.path.join(s.rundir, "state", d + ".json"))
    # No discovery controller: a change connects nothing.
    t.reload([a, b])
    assert not by_subnqn(s, b), s.devlist()
    r = s.ctl("connect-all", "--device", d)
    assert r.rc == 1 and "no such controller" in r.err, r
    a_name = by_subnqn(s, a)[0]["name"]
    r = s.ctl("connect-all", "--device", a_name)
    assert r.rc == 1 and "not a discovery controller" in r.err, r


class NoNoticeTarget(HostileTarget):
    """A discovery controller (the well-known NQN, CNTRLTYPE reserved as before NVMe 1.4)
    without Discovery Log Page Change notices; its log reads as zeroes: no records."""

    def __init__(self, notices=False):
        super().__init__(subnqn=DISCOVERY_NQN)
        self.notices = notices

    def identify_controller(self, ctrl):
        d = bytearray(super().identify_controller(ctrl))
        d[111] = 0
        d[92:96] = ((1 << 31) if self.notices else 0).to_bytes(4, "little")
        return bytes(d)


@pytest.mark.parametrize("notices", [False, True])
def test_target_without_change_notices(stack, notices):
    s = stack("pdisc-nn", start=True)
    h = NoNoticeTarget(notices).start()
    s.late_cleanups.append(h.close)
    r = s.ctl("connect-all", "-p", "%s:%d" % (ADDR, h.port), timeout=60)
    assert r.rc == 0, r
    d = discovery_ctrl(s)
    assert d["state"] == "connected" and d["namespaces"] == [], d
    set_aec = [x for x in h.seen if x == (0x09, 0x0B)]
    assert bool(set_aec) == notices, h.seen
    wait_until(lambda: (0x0C, None) in h.seen, 5, what="an AER")
    assert discovery_ctrl(s)["state"] == "connected"


def test_discovery_conf_line_with_persistent(stack):
    s = stack("pdisc-conf", start=True)
    a = rh.new_nqn("ca")
    t = ConfigTarget(s, [a]).start()
    conf = os.path.join(s.dir, "conf")
    os.makedirs(conf)
    with open(os.path.join(conf, "discovery.conf"), "w") as f:
        f.write("# kept\n--transport=tcp --traddr=%s --trsvcid=%d --persistent\n" % (
            ADDR, t.dport))
    argv = [rh.CTL, "--rundir", s.rundir, "connect-all"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, NVMF_NVME_CONFDIR=conf))
    assert p.returncode == 0, p
    d = discovery_ctrl(s)
    assert connected_with_file(s, a), s.devlist()
    b = rh.new_nqn("cb")
    t.reload([a, b])
    s.events.wait_for("DISCOVERY_CHANGE", d["name"], timeout=10)
    wait_until(lambda: connected_with_file(s, b), 15, what="%s connected" % b)


def test_racing_connect_alls_connect_once(stack):
    """The rule's connect-all and others at the same moment: one controller per subsystem."""
    s = stack("pdisc-race", start=True)
    a, b = rh.new_nqn("xa"), rh.new_nqn("xb")
    t = ConfigTarget(s, [a]).start()
    persistent_connect_all(s, t)
    d = discovery_ctrl(s)["name"]
    t.reload([a, b])
    argv = [rh.CTL, "--rundir", s.rundir, "connect-all", "--device", d]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, (out, err)
    wait_until(lambda: connected_with_file(s, b), 15, what="%s connected" % b)
    s.events.wait_for("DISCOVERY_CHANGE", d, timeout=10)
    wait_until(lambda: "action exited" in rh.read_text(s.devd_log), 15, what="the rule's end")
    assert len(by_subnqn(s, b)) == 1 and len(by_subnqn(s, a)) == 1, s.devlist()
