# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmecontrol beside nvme-cli: FreeBSD's letters with their FreeBSD meaning, nvme-cli's
spellings and commands alongside, as a user sees them (exit status, output, what nvmf-hostd
then holds)."""

import base64
import json
import os
import re
import subprocess

import pytest

from conftest import ADDR
from ctl_helpers import (CTL, Result, assert_one_line_error, assert_usage_error,  # noqa: F401
                         ctl, fake_hostd, hostd, wait_until)

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NQN = "nqn.2024-01.io.nvmf.e2e:x"


def addr(t):
    return "%s:%d" % (ADDR, t.port)


# ------------------------------------------------------------- SQ flow control
def test_flow_control_requested_with_F_and_not_without(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("connect", "-F", addr(t), t.subnqn)
    assert r.rc == 0, r
    r = hostd.ctl("connect", "-D", addr(t), t.subnqn)
    assert r.rc == 0, r
    r = hostd.ctl("connect", "-D", "--flow_control", addr(t), t.subnqn)
    assert r.rc == 0, r
    r = hostd.ctl("connect", "-D", "--disable-sqflow", addr(t), t.subnqn)
    assert r.rc == 0, r
    got = json.loads(hostd.ctl("devlist", "-o", "json").out)["controllers"]
    assert [c["sq_flow_control"] for c in got] == [True, False, True, False], got
    # nvmfd saw the host ask to disable it only on the second and fourth.
    assert len(re.findall(r"SQ flow control off", t.log())) >= 2, t.log()


@pytest.mark.parametrize("args,flag", [
    (["-F", "5"], "-F"),
    (["-gF", "5"], "-F"),
    (["--flow_control", "5"], "--flow_control"),
    (["--flow_control=5"], "--flow_control"),
    (["-D", "5"], "-D"),
    (["--disable-sqflow=1"], "--disable-sqflow"),
])
def test_flag_given_a_value_is_named(args, flag):
    r = ctl("connect", *args, "127.0.0.1:4420", NQN)
    assert_usage_error(r)
    assert flag in r.err_lines[0] and "takes no value" in r.err_lines[0], r


def test_nvme_cli_short_forms(nvmfd, fake_hostd):
    t = nvmfd.start()
    handed = []

    def reply(req):
        if req.get("op") == "list":
            return {"ok": True, "controllers": []}
        handed.append(req)
        return {"ok": True, "name": "nvme0", "namespaces": ["nvme0ns1"]}
    fake = fake_hostd(reply)
    r = ctl("connect", "-t", "tcp", "-a", ADDR, "-s", str(t.port), "-n", t.subnqn,
            "-q", "nqn.2024-01.io.nvmf.e2e:short", "--fast_io_fail_tmo", "9",
            rundir=fake.rundir)
    assert r.rc == 0, r
    c = handed[0]["controller"]
    assert (c["traddr"], c["trsvcid"], c["subnqn"]) == (ADDR, str(t.port), t.subnqn)
    assert c["hostnqn"] == "nqn.2024-01.io.nvmf.e2e:short" and c["fast_io_fail_tmo"] == 9
    fake.close_fds()


# ------------------------------------------------------------ duplicate connect
def test_duplicate_connect_refused_unless_D(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("connect", addr(t), t.subnqn)
    assert r.rc == 0, r
    r = hostd.ctl("connect", addr(t), t.subnqn)
    assert_one_line_error(r, "nvme0", "already connected", t.subnqn, "--duplicate-connect")
    assert len(hostd.controllers()) == 1
    # Another host NQN is another association.
    r = hostd.ctl("connect", "-q", "nqn.2024-01.io.nvmf.e2e:other", addr(t), t.subnqn)
    assert r.rc == 0, r
    r = hostd.ctl("connect", "--duplicate-connect", addr(t), t.subnqn)
    assert r.rc == 0 and r.out.startswith("nvme2:"), r
    assert len(hostd.controllers()) == 3


# ------------------------------------------------------------------- host NQN
def test_version():
    r = ctl("--version")
    assert r.rc == 0, r
    assert re.match(r"nvmecontrol version \S+ \(nvmf\)\nlibnvme version \S+", r.out), r


def test_gen_hostnqn_format():
    a, b = ctl("gen-hostnqn"), ctl("gen-hostnqn")
    for r in (a, b):
        assert r.rc == 0, r
        assert re.fullmatch(r"nqn\.2014-08\.org\.nvmexpress:uuid:%s\n" % UUID, r.out), r


def test_show_hostnqn_reads_the_hostnqn_file(tmp_path):
    mine = "nqn.2014-08.org.nvmexpress:uuid:0badc0de-0000-4000-8000-00000000cafe"
    (tmp_path / "hostnqn").write_text(mine + "\n")
    env = {"NVMF_NVME_CONFDIR": str(tmp_path), "LIBNVME_HOSTNQN": None}
    r = ctl("show-hostnqn", env=env)
    assert r.rc == 0 and r.out == mine + "\n", r
    (tmp_path / "hostnqn").write_text("not-an-nqn\n")
    assert_one_line_error(ctl("show-hostnqn", env=env), "not-an-nqn", str(tmp_path))
    os.unlink(tmp_path / "hostnqn")
    r = ctl("show-hostnqn", env=env)     # none configured: one made now
    assert r.rc == 0 and re.fullmatch(r"nqn\.2014-08\.org\.nvmexpress:uuid:%s\n" % UUID,
                                      r.out), r


# -------------------------------------------------------- reset and ns-rescan
def test_reset_reconnects_and_io_goes_on(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("connect", "-r", "0", addr(t), t.subnqn)
    assert r.rc == 0, r
    path = os.path.join(hostd.rundir, "dev", "nvme0ns1")
    with open(path, "r+b", buffering=0) as f:
        f.write(b"x" * 4096)
    n = len(re.findall(r"connected to", t.log()))
    r = hostd.ctl("reset", "/dev/nvme0")
    assert r.rc == 0, r
    assert r.out.startswith("nvme0: reset, reconnected to %s" % t.subnqn), r
    [c] = hostd.controllers()
    assert c["state"] == "connected"
    assert len(re.findall(r"connected to", t.log())) > n     # a new association
    with open(path, "rb", buffering=0) as f:
        assert f.read(4096) == b"x" * 4096


def test_reset_and_rescan_errors(hostd):
    assert_one_line_error(hostd.ctl("reset", "nvme5"), "nvme5")
    assert_one_line_error(hostd.ctl("ns-rescan", "nvme5"), "nvme5")
    assert_usage_error(hostd.ctl("reset", "nvme0ns1"))
    assert_usage_error(hostd.ctl("reset"))


def test_ns_rescan(nvmfd, hostd):
    t = nvmfd.start("ramdisk:1M", "ramdisk:2M")
    r = hostd.ctl("connect", addr(t), t.subnqn)
    assert r.rc == 0, r
    r = hostd.ctl("ns-rescan", "nvme0")
    assert r.rc == 0 and r.out == "nvme0: namespaces rescanned (nvme0ns1, nvme0ns2)\n", r


# --------------------------------------------------------------------- get-log
def test_get_log_pages(nvmfd, hostd):
    t = nvmfd.start()
    r = hostd.ctl("connect", addr(t), t.subnqn)
    assert r.rc == 0, r
    r = hostd.ctl("get-log", "nvme0", "--log-id", "2", "-o", "json")
    assert r.rc == 0, r
    j = r.json()
    assert (j["device"], j["log_id"], j["log_len"]) == ("nvme0", 2, 512)
    assert len(base64.b64decode(j["data"])) == 512
    assert {"critical_warning", "temperature", "power_on_hours",
            "data_units_read"} <= set(j["smart"]), j
    r = hostd.ctl("get-log", "nvme0", "-i", "1", "-l", "128", "-o", "json")
    assert r.rc == 0, r
    assert len(r.json()["errors"]) == 2 and "error_count" in r.json()["errors"][0], r
    r = hostd.ctl("get-log", "nvme0", "--log-id=3", "-o", "json")
    assert r.rc == 0, r
    assert "afi" in r.json()["firmware_slots"], r
    r = hostd.ctl("get-log", "nvme0", "-i", "3", "-o", "binary")
    assert r.rc == 0 and len(r.out.encode("latin-1")) == 512, r
    r = hostd.ctl("get-log", "nvme0", "-i", "2")
    assert r.rc == 0 and r.out.startswith("Device:nvme0 log_id:2"), r
    assert_usage_error(hostd.ctl("get-log", "nvme0"))                      # no log id
    assert_usage_error(hostd.ctl("get-log", "nvme0", "-i", "200"))         # no length
    assert_usage_error(hostd.ctl("get-log", "nvme0", "-i", "2", "-l", "6"))


# ----------------------------------------------------------------- list-subsys
def test_list_subsys_json_in_nvme_cli_schema(nvmfd, hostd):
    t1, t2 = nvmfd.start(), nvmfd.start()
    for t in (t1, t2):
        r = hostd.ctl("connect", "-I", "0badc0de-0000-4000-8000-00000000f00d",
                      "-q", "nqn.2024-01.io.nvmf.e2e:h", addr(t), t.subnqn)
        assert r.rc == 0, r
    r = hostd.ctl("list-subsys", "-o", "json")
    assert r.rc == 0, r
    [host] = r.json()
    assert host["HostNQN"] == "nqn.2024-01.io.nvmf.e2e:h"
    assert host["HostID"] == "0badc0de-0000-4000-8000-00000000f00d"
    subs = host["Subsystems"]
    assert [s["NQN"] for s in subs] == [t1.subnqn, t2.subnqn]
    assert [s["Name"] for s in subs] == ["nvme-subsys0", "nvme-subsys1"]
    for s, t, name in zip(subs, (t1, t2), ("nvme0", "nvme1")):
        assert s["Paths"] == [{"Name": name, "Transport": "tcp",
                               "Address": "traddr=%s,trsvcid=%d" % (ADDR, t.port),
                               "State": "live"}], s
    r = hostd.ctl("list-subsys")
    assert r.rc == 0 and "nvme-subsys0 - NQN=%s" % t1.subnqn in r.out, r


# ----------------------------------------------------------------- connect-all
def test_connect_all_reads_discovery_conf(nvmfd, hostd, tmp_path):
    t = nvmfd.start()
    (tmp_path / "discovery.conf").write_text(
        "# Machine default discovery\n\n"
        "--transport=tcp --traddr=%s --trsvcid=%d\n" % (ADDR, t.dport))
    r = hostd.ctl("connect-all", env={"NVMF_NVME_CONFDIR": str(tmp_path)})
    assert r.rc == 0, r
    assert r.out.startswith("nvme0: connected to %s" % t.subnqn), r
    assert [c["subnqn"] for c in hostd.controllers()] == [t.subnqn]
    # Without the file, one line that names it.
    os.unlink(tmp_path / "discovery.conf")
    r = hostd.ctl("connect-all", env={"NVMF_NVME_CONFDIR": str(tmp_path)})
    assert_usage_error(r)
    assert "discovery.conf" in r.err_lines[0], r


def config_json(tmp_path, hostnqn, hostid, subsystems):
    """libnvme's config.json: one host, its subsystems, each with its ports."""
    (tmp_path / "config.json").write_text(json.dumps([{
        "hostnqn": hostnqn, "hostid": hostid,
        "subsystems": [{"nqn": nqn, "ports": ports} for nqn, ports in subsystems]}]))


def test_connect_all_reads_config_json(nvmfd, hostd, tmp_path):
    """An NVM subsystem named in config.json is connected with the host NQN and ID given there;
    a second run skips it; a discovery controller named there has its log connected."""
    t1, t2 = nvmfd.start(), nvmfd.start()
    hostnqn = "nqn.2014-08.org.nvmexpress:uuid:6f1d3a4e-0b8a-4f0e-9a51-2b3c4d5e6f70"
    hostid = "6f1d3a4e-0b8a-4f0e-9a51-2b3c4d5e6f70"
    config_json(tmp_path, hostnqn, hostid, [
        (t1.subnqn, [{"transport": "tcp", "traddr": ADDR, "trsvcid": str(t1.port)}]),
        ("nqn.2014-08.org.nvmexpress.discovery",
         [{"transport": "tcp", "traddr": ADDR, "trsvcid": str(t2.dport)}]),
        ("nqn.2024-01.io.nvmf.e2e:rdma-only",
         [{"transport": "rdma", "traddr": ADDR, "trsvcid": "4420"}]),
    ])
    env = {"NVMF_NVME_CONFDIR": str(tmp_path), "LIBNVME_HOSTNQN": None}
    r = hostd.ctl("connect-all", env=env)
    assert r.rc == 0, r
    assert "connected to %s" % t1.subnqn in r.out and "connected to %s" % t2.subnqn in r.out, r
    assert "unsupported transport rdma" in r.err, r
    ctrls = hostd.controllers()
    assert sorted(c["subnqn"] for c in ctrls) == sorted([t1.subnqn, t2.subnqn]), ctrls
    for c in ctrls:
        assert c["hostnqn"] == hostnqn and c["hostid"] == hostid, c
    # Again: both are held already, nothing new and no error.
    r = hostd.ctl("connect-all", env=env)
    assert r.rc == 0 and len(hostd.controllers()) == 2, r


def test_connect_all_config_json_beside_discovery_conf(nvmfd, hostd, tmp_path):
    t1, t2 = nvmfd.start(), nvmfd.start()
    config_json(tmp_path, "nqn.2014-08.org.nvmexpress:uuid:0c6b9d3e-1f2a-4b5c-8d7e-9f0a1b2c3d4e",
                "0c6b9d3e-1f2a-4b5c-8d7e-9f0a1b2c3d4e",
                [(t1.subnqn, [{"transport": "tcp", "traddr": ADDR, "trsvcid": str(t1.port)}])])
    (tmp_path / "discovery.conf").write_text(
        "--transport=tcp --traddr=%s --trsvcid=%d\n" % (ADDR, t2.dport))
    r = hostd.ctl("connect-all", env={"NVMF_NVME_CONFDIR": str(tmp_path)})
    assert r.rc == 0, r
    assert sorted(c["subnqn"] for c in hostd.controllers()) == sorted([t1.subnqn, t2.subnqn])


def test_connect_all_config_json_errors(hostd, tmp_path):
    env = {"NVMF_NVME_CONFDIR": str(tmp_path)}
    # Neither file: one line naming both.
    r = hostd.ctl("connect-all", env=env)
    assert_usage_error(r)
    assert "discovery.conf" in r.err_lines[0] and "config.json" in r.err_lines[0], r
    # Not JSON libnvme reads: one line naming the file, exit 1.
    (tmp_path / "config.json").write_text("{ not json")
    r = hostd.ctl("connect-all", env=env)
    assert r.rc == 1 and "config.json" in r.err, r
    # A host without subsystems: nothing to connect, said so.
    (tmp_path / "config.json").write_text(json.dumps([{"hostnqn": "nqn.2014-08.a:b"}]))
    r = hostd.ctl("connect-all", env=env)
    assert_usage_error(r)
    assert "lists none" in r.err_lines[0], r


# ------------------------------------------------------- libnvme, on demand
def without_libnvme(*args, rundir=None):
    """nvmecontrol ARGS in a private mount namespace where libnvme.so.1 is an empty file:
    a machine without libnvme1, as far as the dynamic loader can tell."""
    lib = os.path.realpath(subprocess.run(
        ["sh", "-c", "ldconfig -p | sed -n 's/^\\s*libnvme\\.so\\.1 (.*) => //p' | head -n 1"],
        capture_output=True, text=True, check=True).stdout.strip())
    assert lib, "ldconfig -p lists no libnvme.so.1"
    argv = [CTL] + (["--rundir", rundir] if rundir else []) + [str(a) for a in args]
    p = subprocess.run(["unshare", "-m", "sh", "-c", 'mount --bind /dev/null "$0" && exec "$@"',
                        lib] + argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, NVMF_RUNDIR="/nonexistent"))
    return Result(argv, p, 0.0)


def test_reconnect_and_devlist_need_no_libnvme(nvmfd, hostd):
    """The commands nvmf-devd runs by the thousand never load libnvme; those that read the
    host's identity load it and, when it cannot be loaded, say so on one line."""
    t = nvmfd.start()
    r = hostd.ctl("connect", "-D", addr(t), t.subnqn)
    assert r.rc == 0, r
    r = without_libnvme("reconnect", "nvme0", rundir=hostd.rundir)
    assert_one_line_error(r, "nvme0 is connected", rc=3)
    r = without_libnvme("devlist", "-o", "json", rundir=hostd.rundir)
    assert r.rc == 0 and [c["name"] for c in r.json()["controllers"]] == ["nvme0"], r
    r = without_libnvme("disconnect", "nvme0", rundir=hostd.rundir)
    assert r.rc == 0, r
    assert hostd.controllers() == []
    r = without_libnvme("gen-hostnqn")
    assert_one_line_error(r, "cannot load libnvme", "libnvme.so.1")
    # With libnvme there, the same command works: the failure above was the library's.
    assert ctl("gen-hostnqn").rc == 0
