# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""systemd: the installed units pass systemd-analyze verify, and each daemon tells systemd
(sd_notify, Type=notify) that it is ready only once it really is, and that it is stopping."""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import REPO, free_port, new_nqn, port_accepts
from ctl_helpers import HOSTD, short_tempdir

BIN = os.path.join(REPO, "build", "bin")
NVMFD = os.environ.get("NVMFD", os.path.join(BIN, "nvmfd"))
DEVD = os.environ.get("NVMF_DEVD", os.path.join(BIN, "nvmf-devd"))
UNITS = ["nvmf-hostd.service", "nvmf-devd.service", "nvmf-autoconnect.service",
         "nvmfd@example.service"]


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    r = subprocess.run(["make", "-C", REPO, "--no-print-directory", "install",
                        "PREFIX=%s/usr" % root, "SYSCONFDIR=%s/etc" % root],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return root


def verify(staged, unit, unitdir=None):
    unitdir = unitdir or staged / "usr" / "lib" / "systemd" / "system"
    # The pages the units name are the staged ones.
    env = dict(os.environ, MANPATH=str(staged / "usr" / "share" / "man"))
    return subprocess.run(["systemd-analyze", "verify", "./" + unit], cwd=unitdir,
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("unit", UNITS)
def test_unit_verifies(staged, unit):
    r = verify(staged, unit)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = (staged / "usr/lib/systemd/system" / unit.replace("@example", "@")).read_text()
    # Installed paths substituted; daemons are notify services in sbin.
    assert "@SBINDIR@" not in text and "@SYSCONFDIR@" not in text
    assert "ExecStart=%s/usr/sbin/" % staged in text
    if unit != "nvmf-autoconnect.service":
        assert "Type=notify" in text


def test_verify_catches_a_broken_unit(staged, tmp_path):
    """The check above can fail: a misspelt directive and a missing program are reported."""
    src = (staged / "usr/lib/systemd/system/nvmf-hostd.service").read_text()
    (tmp_path / "broken.service").write_text(
        src.replace("Restart=", "Restrat=").replace("nvmf-hostd -d", "nvmf-hostdx -d"))
    r = verify(staged, "broken.service", unitdir=tmp_path)
    assert "Restrat" in r.stderr and "nvmf-hostdx" in r.stderr, r.stderr


def test_example_configuration_is_valid(staged, tmp_path):
    """The shipped example starts a target (on free ports: a copy with them changed)."""
    import json
    cfg = json.loads((staged / "etc/nvmf/nvmfd/example.json").read_text())
    port, dport = free_port(), free_port()
    cfg["listen"][0].update(address="127.0.0.1", port=port)
    cfg["discovery"].update(address="127.0.0.1", port=dport)
    path = tmp_path / "example.json"
    path.write_text(json.dumps(cfg))
    with Notify(tmp_path) as n:
        p = subprocess.Popen([NVMFD, "-d", "-c", str(path)], env=n.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert n.wait_for("READY=1") and port_accepts(port) and port_accepts(dport)
        finally:
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=15) == 0, p.stderr.read()


class Notify:
    """A NOTIFY_SOCKET as systemd gives a Type=notify service."""

    def __init__(self, tmp):
        self.dir = short_tempdir("sd")
        self.path = os.path.join(self.dir, "notify")

    def __enter__(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.env = dict(os.environ, NOTIFY_SOCKET=self.path)
        return self

    def wait_for(self, what, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            if what in msg.split("\n"):
                return True
        return False

    def __exit__(self, *exc):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def hostd_answers(sock):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.settimeout(2)
            s.connect(sock)
            s.send(b'{"op":"list"}')
            return b'"ok"' in s.recv(1 << 20)
    except OSError:
        return False


def stop(p, n):
    p.send_signal(signal.SIGTERM)
    assert n.wait_for("STOPPING=1"), "no STOPPING=1 on SIGTERM"
    assert p.wait(timeout=15) == 0


def test_nvmfd_ready_when_listening(tmp_path):
    port = free_port()
    with Notify(tmp_path) as n:
        argv = [NVMFD, "-d", "-p", str(port), "-P", str(free_port()), "-n", new_nqn(),
                "ramdisk:1M"]
        p = subprocess.Popen(argv, env=n.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            assert n.wait_for("READY=1"), "nvmfd never said READY=1"
            assert port_accepts(port), "READY=1 before the port accepts"
        finally:
            stop(p, n)


def test_nvmfd_never_ready_when_it_cannot_start(tmp_path):
    with Notify(tmp_path) as n:
        r = subprocess.run([NVMFD, "-d", "-n", new_nqn(), str(tmp_path / "missing.img")],
                           env=n.env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
        assert not n.wait_for("READY=1", timeout=0.5)


def test_hostd_ready_when_its_socket_answers(tmp_path):
    rundir = short_tempdir("sdh")
    with Notify(tmp_path) as n:
        p = subprocess.Popen([HOSTD, "-d", "--rundir", rundir], env=n.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert n.wait_for("READY=1"), "nvmf-hostd never said READY=1"
            assert hostd_answers(os.path.join(rundir, "nvmf.sock"))
            assert os.path.ismount(os.path.join(rundir, "dev")), "dev/ not mounted yet"
        finally:
            stop(p, n)
            shutil.rmtree(rundir, ignore_errors=True)


def test_devd_ready_when_its_pipe_is_open(tmp_path):
    rundir = short_tempdir("sdd")
    rules = tmp_path / "rules.conf"
    rules.write_text('notify 1 { match "system" "nvme"; action "true"; };\n')
    with Notify(tmp_path) as n:
        p = subprocess.Popen([DEVD, "-d", "--rundir", rundir, "-f", str(rules)], env=n.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert n.wait_for("READY=1"), "nvmf-devd never said READY=1"
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(os.path.join(rundir, "devd.pipe"))
        finally:
            stop(p, n)
            shutil.rmtree(rundir, ignore_errors=True)
