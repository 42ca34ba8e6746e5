# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""The discovery service: what a host sees in the discovery log page, read raw and
through nvmecontrol discover (one target, both views)."""

import nvme_tcp as nt
from conftest import ADDR, free_port, new_nqn
from ctl_helpers import ctl


def test_discovery_log_lists_the_subsystem(nvmfd):
    t = nvmfd.start("ramdisk:4M")
    d = nt.Controller(ADDR, t.dport, nt.DISCOVERY_NQN)
    try:
        idc = d.identify_controller()
        assert idc["cntrltype"] == 2, "the discovery port answers with a non-discovery controller"
        assert idc["subnqn"] == nt.DISCOVERY_NQN
    finally:
        d.close()

    log = nt.discover(ADDR, t.dport)
    assert log["numrec"] == 1 and len(log["entries"]) == 1
    e = log["entries"][0]
    assert e["subnqn"] == t.subnqn
    assert e["trtype"] == 3, "trtype %d is not TCP" % e["trtype"]
    assert e["subtype"] == 2, "subtype %d is not an NVM subsystem" % e["subtype"]
    assert e["adrfam"] == 1
    assert e["traddr"] == ADDR
    assert e["trsvcid"] == str(t.port)

    # What the log says is dialable: connect to it.
    c = nt.Controller(e["traddr"], int(e["trsvcid"]), e["subnqn"])
    c.close()


def test_discovery_with_two_subsystems_on_two_ports(nvmfd):
    p1, p2, dp = free_port(), free_port(), free_port()
    assert len({p1, p2, dp}) == 3
    only_first, both = new_nqn("one"), new_nqn("both")
    t = nvmfd.start_config({
        "listen": [{"address": ADDR, "port": p1}, {"address": ADDR, "port": p2}],
        "discovery": {"address": ADDR, "port": dp},
        "subsystems": [
            {"nqn": only_first, "ports": [1], "namespaces": [{"device": "ramdisk:1M"}]},
            {"nqn": both, "ports": [1, 2], "namespaces": [{"device": "ramdisk:2M"}]},
        ],
    })
    log = nt.discover(ADDR, dp)
    seen = sorted((e["subnqn"], e["trsvcid"]) for e in log["entries"])
    assert seen == sorted([(only_first, str(p1)), (both, str(p1)), (both, str(p2))]), seen
    assert log["numrec"] == 3
    for e in log["entries"]:
        assert e["trtype"] == 3 and e["subtype"] == 2 and e["traddr"] == ADDR
    # nvmecontrol's JSON says the same, under either spelling of the option.
    for argv in (["-o", "json", "%s:%d" % (ADDR, dp)],
                 ["--output-format=json", "--traddr", ADDR, "--trsvcid", str(dp)]):
        r = ctl("discover", *argv)
        assert r.rc == 0, r
        js = r.json()
        assert js["numrec"] == 3 and len(js["records"]) == 3, js
        assert sorted((e["subnqn"], e["trsvcid"]) for e in js["records"]) == seen
        for e in js["records"]:
            assert e["trtype"] == "tcp" and e["adrfam"] == "ipv4", e
            assert e["subtype"] == "nvme subsystem" and e["traddr"] == ADDR, e
            assert e["sectype"] == "none", e
    # Each subsystem is reachable exactly where the log says.
    for nqn, port in seen:
        nt.Controller(ADDR, int(port), nqn).close()
    q = t.queue(port=p2)
    try:
        cqe = q.connect(only_first, nt.host_nqn(), nt.new_hostid())
        assert cqe.status == nt.SC_CONNECT_INVALID_PARAMETERS | nt.DNR, hex(cqe.status)
    finally:
        q.close()


def test_discovery_hides_subsystems_a_host_may_not_use(nvmfd):
    port, dp = free_port(), free_port()
    allowed = nt.host_nqn()
    stranger = nt.host_nqn()
    private, public = new_nqn("private"), new_nqn("public")
    nvmfd.start_config({
        "listen": [{"address": ADDR, "port": port}],
        "discovery": {"address": ADDR, "port": dp},
        "subsystems": [
            {"nqn": private, "allowed_hosts": [allowed],
             "namespaces": [{"device": "ramdisk:1M"}]},
            {"nqn": public, "namespaces": [{"device": "ramdisk:1M"}]},
        ],
    })
    mine = {e["subnqn"] for e in nt.discover(ADDR, dp, hostnqn=allowed)["entries"]}
    assert mine == {private, public}
    theirs = {e["subnqn"] for e in nt.discover(ADDR, dp, hostnqn=stranger)["entries"]}
    assert theirs == {public}, "a host outside allowed_hosts sees %s" % theirs


def test_discovery_address_when_listening_everywhere(nvmfd):
    """Without -a the log gives the address the host reached the target on."""
    t = nvmfd.start("ramdisk:1M", address=None)
    (e,) = nt.discover(ADDR, t.dport)["entries"]
    assert e["traddr"] == ADDR and e["adrfam"] == 1, e
    assert e["trsvcid"] == str(t.port)
    nt.Controller(e["traddr"], int(e["trsvcid"]), e["subnqn"]).close()
    (e6,) = nt.discover("::1", t.dport)["entries"]
    assert e6["traddr"] == "::1" and e6["adrfam"] == 2, e6
    nt.Controller("::1", int(e6["trsvcid"]), e6["subnqn"]).close()


def test_discovery_on_ipv6_loopback(nvmfd):
    t = nvmfd.start("ramdisk:1M", address="::1")
    (e,) = nt.discover("::1", t.dport)["entries"]
    assert e["traddr"] == "::1" and e["adrfam"] == 2 and e["trsvcid"] == str(t.port), e
    r = ctl("discover", "-o", "json", "[::1]:%d" % t.dport)
    assert r.rc == 0, r
    (rec,) = r.json()["records"]
    assert rec["adrfam"] == "ipv6" and rec["traddr"] == "::1", rec
    assert rec["subnqn"] == t.subnqn and rec["trsvcid"] == str(t.port), rec
    c = nt.Controller("::1", t.port, t.subnqn)
    try:
        (q,) = c.connect_io(1)
        q.write(1, 0, b"\x66" * 512)
        assert q.read(1, 0, 1) == b"\x66" * 512
    finally:
        c.close()


def test_discovery_log_read_in_pieces(nvmfd):
    """Hosts read the header first, then the entries, possibly at an offset."""
    port, dp = free_port(), free_port()
    nqns = [new_nqn("s%d" % i) for i in range(3)]
    nvmfd.start_config({
        "listen": [{"address": ADDR, "port": port}],
        "discovery": {"address": ADDR, "port": dp},
        "subsystems": [{"nqn": n, "namespaces": [{"device": "ramdisk:1M"}]} for n in nqns],
    })
    d = nt.Controller(ADDR, dp, nt.DISCOVERY_NQN)
    try:
        whole = d.admin.get_log_page(nt.LOG_DISCOVERY, 4 * 1024, nsid=0, check=True).data
        log = nt.parse_discovery_log(whole)
        assert log["numrec"] == 3
        assert sorted(e["subnqn"] for e in log["entries"]) == sorted(nqns)
        second = d.admin.get_log_page(nt.LOG_DISCOVERY, 1024, offset=2048, nsid=0,
                                      check=True).data
        assert second == whole[2048:3072]
        tail = d.admin.get_log_page(nt.LOG_DISCOVERY, 16, offset=4096 - 16, nsid=0,
                                    check=True).data
        assert tail == whole[-16:]
        # Asking beyond the end of the log page: zeroes or an error, never garbage.
        cqe = d.admin.get_log_page(nt.LOG_DISCOVERY, 1024, offset=4096, nsid=0)
        assert cqe.status != 0 or not any(cqe.data)
    finally:
        d.close()
