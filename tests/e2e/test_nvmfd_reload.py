# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmfd -c FILE reloads FILE on SIGHUP: subsystems, namespaces and allow-lists
change under running associations, only those the change shuts out end, hosts
that asked are told (Namespace Attribute Changed with the Changed Namespace List,
Discovery Log Page Change), and a file that does not load changes nothing. The
discovery generation counter only grows, across a restart too."""

import json
import signal
import struct
import threading
import time

import pytest

import nvme_tcp as nt
from conftest import ADDR, free_port, new_nqn, wait_closed

ADM_AER = 0x0C
FEAT_AEC = 0x0B
AEC_NS_ATTR = 1 << 8
AEC_DISC_CHANGE = 1 << 31
LOG_CHANGED_NS = 0x04
# AER completion cdw0: type Notice (2), info, log page.
AEN_NS_CHANGED = 0x02 | (0x00 << 8) | (0x04 << 16)
AEN_DISC_CHANGED = 0x02 | (0xF0 << 8) | (0x70 << 16)
SC_CONNECT_INVALID_HOST = 0x84


def two_ports():
    p, d = free_port(), free_port()
    while d == p:
        d = free_port()
    return p, d


def config(port, dport, subsystems, **top):
    cfg = {"listen": [{"address": ADDR, "port": port}],
           "discovery": {"address": ADDR, "port": dport},
           "subsystems": subsystems}
    cfg.update(top)
    return cfg


def subsystem(nqn, *devices, hosts=None):
    ss = {"nqn": nqn, "namespaces": [d if isinstance(d, dict) else {"device": d}
                                     for d in devices or ("ramdisk:4M",)]}
    if hosts:
        ss["allowed_hosts"] = hosts
    return ss


def config_path(t):
    return t.args[t.args.index("-c") + 1]


def reload(t, cfg=None, text=None, expect=r"reload: "):
    """Rewrites t's file (cfg as JSON, or text as is), sends SIGHUP and waits for the
    reload's line; returns the lines the reload logged."""
    with open(config_path(t), "w") as f:
        f.write(text if text is not None else json.dumps(cfg, indent=1))
    since = len(t.log_lines())
    t.proc.send_signal(signal.SIGHUP)
    t.wait_log(expect, timeout=5, since=since)
    time.sleep(0.2)     # the lines that follow the summary, if any
    return t.log_lines()[since:]


def aer(q):
    return q.submit(nt.sqe(ADM_AER))


def await_aen(q, cid, timeout=3.0):
    cqe = q.wait(cid, timeout=timeout)
    assert cqe.status == 0, "AER failed: status 0x%x" % cqe.status
    return cqe.cdw0


def aer_pending(q, cid, wait=0.4):
    """True when the AER is still outstanding after wait seconds."""
    try:
        q.process_one(timeout=wait)
    except OSError:
        pass
    return not q.cmds[cid].done


def discovery_log(q):
    head = q.get_log_page(nt.LOG_DISCOVERY, 1024, nsid=0, check=True).data
    numrec, = struct.unpack_from("<Q", head, 8)
    data = q.get_log_page(nt.LOG_DISCOVERY, 1024 * (1 + numrec), nsid=0, check=True).data
    return nt.parse_discovery_log(data)


def changed_ns(q):
    data = q.get_log_page(LOG_CHANGED_NS, 4096, nsid=0xFFFFFFFF, check=True).data
    ids = struct.unpack_from("<1024I", data)
    return [i for i in ids if i]


def active_ns(c):
    data = c.admin.identify(2).data
    return [i for i in struct.unpack_from("<1024I", data) if i]


def connect_status(t, nqn, hostnqn=None):
    q = t.queue()
    try:
        hostid = nt.new_hostid()
        return q.connect(nqn, hostnqn or nt.host_nqn(hostid), hostid).status
    finally:
        q.close()


def io_ok(c, nsid=1, seed=1):
    data = nt.random_bytes(4096, seed)
    c.io[0].write(nsid, 8, data)
    assert c.io[0].read(nsid, 8, 8) == data


def test_reload_adds_a_subsystem(nvmfd):
    port, dport = two_ports()
    a, b = new_nqn("a"), new_nqn("b")
    t = nvmfd.start_config(config(port, dport, [subsystem(a)]))
    keep = t.controller(subnqn=a)
    keep.connect_io(1)
    io_ok(keep)
    d = nt.Controller(ADDR, dport, nt.DISCOVERY_NQN)
    try:
        assert d.identify_controller() and struct.unpack_from(
            "<I", d.admin.identify(1).data, 92)[0] & AEC_DISC_CHANGE, "OAES lacks bit 31"
        d.admin.set_features(FEAT_AEC, AEC_DISC_CHANGE, check=True)
        before = discovery_log(d.admin)
        assert [e["subnqn"] for e in before["entries"]] == [a]
        cid = aer(d.admin)
        assert nt.sc(connect_status(t, b)) == nt.sc(nt.SC_CONNECT_INVALID_PARAMETERS)

        lines = reload(t, config(port, dport, [subsystem(a), subsystem(b)]))
        assert any("1 added" in l for l in lines), lines
        assert await_aen(d.admin, cid) == AEN_DISC_CHANGED
        after = discovery_log(d.admin)
        assert sorted(e["subnqn"] for e in after["entries"]) == sorted([a, b])
        assert after["genctr"] > before["genctr"]
        assert connect_status(t, b) == 0
        new = t.controller(subnqn=b)
        new.connect_io(1)
        io_ok(new)
        new.close()
        # The association that was there goes on as if nothing happened.
        io_ok(keep, seed=2)
        # Unmasked by the read: the next change is notified again.
        cid = aer(d.admin)
        reload(t, config(port, dport, [subsystem(a)]))
        assert await_aen(d.admin, cid) == AEN_DISC_CHANGED
    finally:
        d.close()
        keep.close()


def test_reload_removes_a_subsystem(nvmfd):
    port, dport = two_ports()
    a, b = new_nqn("a"), new_nqn("b")
    t = nvmfd.start_config(config(port, dport, [subsystem(a), subsystem(b)]))
    keep, gone = t.controller(subnqn=a), t.controller(subnqn=b)
    keep.connect_io(1)
    gone.connect_io(1)
    io_ok(gone)
    lines = reload(t, config(port, dport, [subsystem(a)]))
    assert any("1 removed" in l and "1 associations ended" in l for l in lines), lines
    assert any("subsystem removed by a reload" in l and b in l for l in lines), lines
    closed = wait_closed([gone.admin, gone.io[0]], timeout=3)
    assert len(closed) == 2, "the removed subsystem's queues stay open"
    assert nt.sc(connect_status(t, b)) == nt.sc(nt.SC_CONNECT_INVALID_PARAMETERS)
    assert t.wait_log(r"Connect refused: SUBNQN %s: no such subsystem" % b)
    io_ok(keep)
    assert [e["subnqn"] for e in nt.discover(ADDR, dport)["entries"]] == [a]
    keep.close()
    gone.close()


def test_reload_allow_list_ends_only_the_disallowed_host(nvmfd):
    port, dport = two_ports()
    nqn = new_nqn("acl")
    h1, h2 = nt.new_hostid(), nt.new_hostid()
    n1, n2 = nt.host_nqn(h1), nt.host_nqn(h2)
    t = nvmfd.start_config(config(port, dport, [subsystem(nqn, hosts=[n1, n2])]))
    c1 = t.controller(subnqn=nqn, hostnqn=n1, hostid=h1)
    c2 = t.controller(subnqn=nqn, hostnqn=n2, hostid=h2)
    c1.connect_io(1)
    c2.connect_io(1)
    errors, done, count = [], threading.Event(), [0]

    def writer():
        # Host 1 writes and reads back all through the reload.
        try:
            while not done.is_set():
                io_ok(c1, seed=count[0])
                count[0] += 1
        except Exception as e:      # reported below
            errors.append(repr(e))

    w = threading.Thread(target=writer)
    w.start()
    try:
        time.sleep(0.3)
        lines = reload(t, config(port, dport, [subsystem(nqn, hosts=[n1])]))
        closed = wait_closed([c2.admin, c2.io[0]], timeout=3)
        time.sleep(0.3)
    finally:
        done.set()
        w.join()
    assert not errors, errors
    assert count[0] > 5, "host 1 did hardly any I/O (%d)" % count[0]
    assert len(closed) == 2, "the host no longer allowed keeps its association"
    assert any("no longer in allowed_hosts" in l and n2 in l for l in lines), lines
    assert not any("no longer in allowed_hosts" in l and n1 in l for l in lines), lines
    assert not c1.admin.is_closed(timeout=0.05)
    assert connect_status(t, nqn, n2) & 0xFF == SC_CONNECT_INVALID_HOST
    # And back: host 2 may connect again.
    reload(t, config(port, dport, [subsystem(nqn, hosts=[n1, n2])]))
    t.controller(subnqn=nqn, hostnqn=n2, hostid=h2).close()
    c1.close()
    c2.close()


def test_reload_namespace_changes_raise_the_aen(nvmfd, tmp_path):
    port, dport = two_ports()
    nqn = new_nqn("ns")
    img = tmp_path / "ns3.img"
    img.write_bytes(b"\0" * (1 << 20))
    ns1 = {"device": "ramdisk:4M", "nsid": 1}
    ns2 = {"device": "ramdisk:8M", "nsid": 2}
    ns3 = {"device": str(img), "nsid": 3}
    t = nvmfd.start_config(config(port, dport, [subsystem(nqn, ns1, ns3)]))
    c = t.controller(subnqn=nqn)
    c.connect_io(1)
    try:
        c.admin.set_features(FEAT_AEC, AEC_NS_ATTR, check=True)
        assert active_ns(c) == [1, 3]
        data = nt.random_bytes(4096, 7)
        c.io[0].write(1, 0, data)
        cid = aer(c.admin)
        assert aer_pending(c.admin, cid)

        # Added: notified at once (an AER is outstanding).
        lines = reload(t, config(port, dport, [subsystem(nqn, ns1, ns2, ns3)]))
        assert any("namespaces 1 added, 0 removed, 0 changed" in l for l in lines), lines
        assert await_aen(c.admin, cid) == AEN_NS_CHANGED
        assert changed_ns(c.admin) == [2]
        assert changed_ns(c.admin) == [], "the Changed Namespace List was not cleared"
        assert active_ns(c) == [1, 2, 3]
        io_ok(c, nsid=2)
        assert c.io[0].read(1, 0, 8) == data, "namespace 1 lost its data"

        # Removed with no AER outstanding: pended, delivered by the next AER.
        reload(t, config(port, dport, [subsystem(nqn, ns2, ns3)]))
        time.sleep(0.2)
        cid = aer(c.admin)
        assert await_aen(c.admin, cid) == AEN_NS_CHANGED
        assert changed_ns(c.admin) == [1]
        assert active_ns(c) == [2, 3]
        cqe = c.io[0].read(1, 0, 8, check=False)
        assert nt.sc(cqe.status) == nt.SC_INVALID_NAMESPACE

        # Changed block size: the same NSID, new format, notified.
        cid = aer(c.admin)
        reload(t, config(port, dport, [subsystem(nqn, ns2, dict(ns3, block_size=4096))]))
        assert await_aen(c.admin, cid) == AEN_NS_CHANGED
        assert changed_ns(c.admin) == [3]
        idns = nt.parse_identify_namespace(c.admin.identify(0, nsid=3).data)
        assert idns["lbads"] == 12 and idns["nsze"] == 256

        # Not enabled: listed, not notified.
        c.admin.set_features(FEAT_AEC, 0, check=True)
        cid = aer(c.admin)
        reload(t, config(port, dport, [subsystem(nqn, ns3 | {"block_size": 4096})]))
        assert aer_pending(c.admin, cid, wait=0.5)
        assert changed_ns(c.admin) == [2]
    finally:
        c.close()


def test_reload_io_racing_namespace_removal(nvmfd):
    """I/O to a namespace while reloads add and remove it: every command completes
    (success or Invalid Namespace), nothing crashes (the sanitizer builds check the
    memory)."""
    port, dport = two_ports()
    nqn = new_nqn("race")
    ns1, ns2 = {"device": "ramdisk:4M", "nsid": 1}, {"device": "ramdisk:4M", "nsid": 2}
    with_ns, without = (config(port, dport, [subsystem(nqn, ns1, ns2)]),
                        config(port, dport, [subsystem(nqn, ns1)]))
    t = nvmfd.start_config(with_ns)
    c = t.controller(subnqn=nqn)
    c.connect_io(1)
    statuses, done, errors = set(), threading.Event(), []

    def hammer():
        try:
            q = c.io[0]
            data = b"\xa5" * 4096
            while not done.is_set():
                cids = [q.submit(q.write_cmd(2, i * 8, 8), data) for i in range(8)]
                cids += [q.submit(q.read_cmd(2, i * 8, 8), read_len=4096) for i in range(8)]
                for cqe in q.wait_all(cids):
                    statuses.add(nt.sc(cqe.status))
        except Exception as e:
            errors.append(repr(e))

    w = threading.Thread(target=hammer)
    w.start()
    try:
        for i in range(6):
            reload(t, without if i % 2 == 0 else with_ns)
    finally:
        done.set()
        w.join()
    assert not errors, errors
    assert statuses <= {0, nt.SC_INVALID_NAMESPACE}, statuses
    c.close()


def test_reload_broken_file_keeps_the_configuration(nvmfd):
    port, dport = two_ports()
    a = new_nqn("a")
    good = config(port, dport, [subsystem(a)])
    t = nvmfd.start_config(good)
    c = t.controller(subnqn=a)
    c.connect_io(1)
    path = config_path(t)
    text = json.dumps(good, indent=1)
    broken = text.replace('"subsystems"', '"subsystems" "oops"', 1)
    lines = reload(t, text=broken, expect="keeping the running configuration")
    assert len(lines) == 1, lines
    line_no = broken[:broken.index('"oops"')].count("\n") + 1
    assert "%s:%d:" % (path, line_no) in lines[0], lines

    bad_key = dict(good, subsystems=[dict(subsystem(a), colour="blue")])
    lines = reload(t, bad_key, expect="keeping the running configuration")
    assert len(lines) == 1 and "subsystems[0].colour: unknown key" in lines[0], lines

    missing = config(port, dport, [subsystem(a, "/nonexistent/disk.img")])
    lines = reload(t, missing, expect="keeping the running configuration")
    assert len(lines) == 1 and "/nonexistent/disk.img" in lines[0], lines
    io_ok(c)
    assert connect_status(t, a) == 0

    # A key that cannot change live: one line naming it, the rest applied.
    lines = reload(t, dict(good, max_connections=64), expect="no change")
    restart = [l for l in lines if "takes effect at restart" in l]
    assert len(restart) == 1 and '"max_connections" changed (128 to 64)' in restart[0], lines
    io_ok(c)
    # A congestion control this system lacks would stop the next start: refused now.
    lines = reload(t, dict(good, tcp_congestion="nosuch"),
                   expect="keeping the running configuration")
    assert len(lines) == 1 and "tcp_congestion: TCP congestion control 'nosuch'" in lines[0] \
        and "this system has: " in lines[0], lines
    # The connections' congestion control is set as they are made: likewise.
    lines = reload(t, dict(good, tcp_congestion="reno"), expect="no change")
    restart = [l for l in lines if "takes effect at restart" in l]
    assert len(restart) == 1 and \
        "\"tcp_congestion\" changed (the system's to reno)" in restart[0], lines
    io_ok(c)
    c.close()


def test_sighup_without_a_file(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    t.proc.send_signal(signal.SIGHUP)
    t.wait_log("SIGHUP: .*nothing to reload")
    c = t.controller()
    c.close()


def identity(t, nqn, dport):
    c = t.controller(subnqn=nqn)
    try:
        out = {"sn": c.identify_controller()["sn"], "ns": {}}
        for nsid in active_ns(c):
            idns = nt.parse_identify_namespace(c.admin.identify(0, nsid=nsid).data)
            desc = nt.parse_ns_descriptors(c.admin.identify(3, nsid=nsid).data)
            out["ns"][nsid] = (idns["nguid"], idns["eui64"], desc)
    finally:
        c.close()
    out["genctr"] = nt.discover(ADDR, dport)["genctr"]
    return out


def test_restart_keeps_identifiers_and_genctr_grows(nvmfd):
    """What the Linux host matches on after a reconnect (serial, NSIDs, NGUID, EUI-64,
    UUID) comes from the configuration; the discovery generation counter never goes
    back."""
    port, dport = two_ports()
    nqn = new_nqn("id")
    cfg = config(port, dport, [subsystem(nqn, {"device": "ramdisk:1M", "nsid": 3},
                                         {"device": "ramdisk:1M", "nsid": 5})])
    t = nvmfd.start_config(cfg)
    first = identity(t, nqn, dport)
    assert first["genctr"] > 1_600_000_000 * 10**6, "genctr does not start from the clock"
    lines = reload(t, cfg)
    assert any("no change" in l for l in lines), lines
    assert identity(t, nqn, dport) == first, "an empty reload changed what hosts see"
    assert t.stop() is None
    second = identity(nvmfd.start_config(cfg), nqn, dport)
    assert second["genctr"] > first["genctr"]
    assert second["sn"] == first["sn"] and second["ns"] == first["ns"]
    assert sorted(second["ns"]) == [3, 5]
