# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""--tcp-congestion: the TCP congestion control of the queues' connections, on
nvmfd (option and JSON key), nvmf-hostd and nvmf-perf. Each test asks what a
user would: ss(8) shows the algorithm on both ends, data written comes back,
and a name the system does not have is one line that says which it has."""

import json
import os
import re
import subprocess
import time

import pytest

import host_disk_helpers as hd
from conftest import ADDR, NVMFD, free_port, new_nqn
from test_perf import NVMF_PERF, perf, trid

KIB = 1024


def system_default():
    with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
        return f.read().strip()


def other_than_default():
    """reno or cubic, whichever this system does not use by default (both are built in)."""
    return "cubic" if system_default() == "reno" else "reno"


def algorithms(port, side):
    """The congestion control of every established connection of port, as ss shows it:
    side "target" (local port) or "host" (remote port)."""
    sel = "sport" if side == "target" else "dport"
    out = subprocess.run(["ss", "-tinH", "state", "established", "( %s = :%d )" % (sel, port)],
                         capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        if line.startswith(("\t", " ")) and line.strip():
            found.append(line.split()[0])
    return found


def write_and_read_back(path, size=1024 * KIB):
    data = os.urandom(size)
    fd = os.open(path, os.O_RDWR)
    try:
        assert os.pwrite(fd, data, 0) == size
        os.fsync(fd)
        assert os.pread(fd, size, 0) == data
    finally:
        os.close(fd)


def test_target_and_host_use_the_algorithm_asked_for(nvmfd, host_stacks):
    want = other_than_default()
    t = nvmfd.start("ramdisk:16M", opts=("--tcp-congestion", want))
    host = host_stacks("--tcp-congestion", want)
    ctrl = host.connect(ADDR, t.port, t.subnqn, nr_io=2)
    write_and_read_back(host.ns_path(ctrl["namespaces"][0]["name"]))
    # Admin queue and two I/O queues, each end.
    assert algorithms(t.port, "target") == [want] * 3, algorithms(t.port, "target")
    assert algorithms(t.port, "host") == [want] * 3, algorithms(t.port, "host")


def test_without_the_option_the_systems_default_serves(nvmfd, host_stacks):
    t = nvmfd.start("ramdisk:16M")
    host = host_stacks()
    ctrl = host.connect(ADDR, t.port, t.subnqn, nr_io=1)
    write_and_read_back(host.ns_path(ctrl["namespaces"][0]["name"]))
    assert algorithms(t.port, "target") == [system_default()] * 2
    assert algorithms(t.port, "host") == [system_default()] * 2


def test_host_reconnect_keeps_the_algorithm(nvmfd, host_stacks):
    """The queues a reconnect hands over are set as the first ones were."""
    want = other_than_default()
    t = nvmfd.start("ramdisk:16M", opts=("--tcp-congestion", want))
    host = host_stacks("--tcp-congestion", want)
    ctrl = host.connect(ADDR, t.port, t.subnqn, nr_io=1)
    subprocess.run(["ss", "-K", "dst", ADDR, "dport", "=", str(t.port)], capture_output=True)
    if algorithms(t.port, "host"):
        pytest.skip("this kernel cannot destroy sockets (ss -K)")
    rc, err = None, ""
    for _ in range(50):
        rc, _, err = host.ctl("reconnect", ctrl["name"], check=False)
        if rc == 0:
            break
        time.sleep(0.1)
    assert rc == 0, err
    write_and_read_back(host.ns_path(ctrl["namespaces"][0]["name"]))
    assert algorithms(t.port, "host") == [want] * 2, algorithms(t.port, "host")


def test_config_file_key(nvmfd, host_stacks):
    want = other_than_default()
    port = free_port()
    t = nvmfd.start_config({"listen": [{"address": ADDR, "port": port}],
                            "tcp_congestion": want,
                            "subsystems": [{"nqn": new_nqn(),
                                            "namespaces": [{"device": "ramdisk:4M"}]}]})
    host = host_stacks()
    ctrl = host.connect(ADDR, port, t.subnqn, nr_io=1)
    write_and_read_back(host.ns_path(ctrl["namespaces"][0]["name"]))
    assert algorithms(port, "target") == [want] * 2


@pytest.mark.parametrize("value, says", [
    (7, r"tcp_congestion: must be a string, not an integer"),
    ("nosuch", r"TCP congestion control 'nosuch': No such file or directory "
               r"\(this system has: .*\)"),
    ("a" * 16, r"tcp_congestion.*longer than 15 characters"),
])
def test_config_file_bad_value_is_one_line(tmp_path, value, says):
    cfg = tmp_path / "bad.json"
    cfg.write_text('{"listen": [{"address": "%s", "port": %d}], "tcp_congestion": %s, '
                   '"subsystems": [{"nqn": "%s", "namespaces": [{"device": "ramdisk:1M"}]}]}'
                   % (ADDR, free_port(), '"%s"' % value if isinstance(value, str) else value,
                      new_nqn()))
    r = subprocess.run([NVMFD, "-d", "-c", str(cfg)], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(says, lines[0]), r.stderr


@pytest.mark.parametrize("program", ["nvmfd", "nvmf-hostd", "nvmf-perf"])
@pytest.mark.parametrize("name, says", [
    ("nosuch", r"TCP congestion control 'nosuch': No such file or directory "
               r"\(this system has: [a-z0-9 ]+\)"),
    ("Cu bic", r"TCP congestion control 'Cu bic': not a name"),
    ("a" * 16, r"longer than 15 characters"),
])
def test_unknown_or_malformed_name_is_one_line(tmp_path, program, name, says):
    if program == "nvmfd":
        argv = [NVMFD, "-d", "-a", ADDR, "-p", str(free_port()), "-P", "0",
                "-n", new_nqn(), "--tcp-congestion", name, "ramdisk:1M"]
    elif program == "nvmf-hostd":
        argv = [hd.HOSTD, "-d", "--rundir", str(tmp_path / "run"), "--tcp-congestion", name]
    else:
        r = perf("-r", "trtype:tcp traddr:%s trsvcid:%d subnqn:%s" % (ADDR, free_port(),
                                                                     new_nqn()),
                 "-t", 1, "--tcp-congestion", name)
        argv = None
    if argv is not None:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(says, lines[0]), r.stderr
    # Nothing was left behind: no run directory, no listener.
    assert not os.path.exists(tmp_path / "run" / "nvmf.sock")


def test_perf_uses_and_reports_it(nvmfd):
    want = other_than_default()
    t = nvmfd.start("ramdisk:16M")
    p = subprocess.Popen([NVMF_PERF, "-r", trid(t), "-t", "2", "--json", "-q", "8", "-o", "131072",
                          "-w", "read", "--tcp-congestion", want],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline and len(seen) < 2:
        seen = algorithms(t.port, "host")
        time.sleep(0.05)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert seen == [want] * 2, seen
    d = json.loads(out)
    assert d["tcp_congestion"] == want and d["bandwidth_mibs"] > 0 and d["io_errors"] == 0
