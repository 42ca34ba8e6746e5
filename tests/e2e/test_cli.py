# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""The command line: errors a user can read, and daemon mode."""

import ctypes
import json
import os
import signal
import socket
import subprocess
import time

import pytest

import nvme_tcp as nt
from conftest import ADDR, NVMFD, describe_exit, free_port, new_nqn, port_accepts

CRASH = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL}


def run(args, timeout=10):
    return subprocess.run([NVMFD] + args, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def nvmfd_pids(marker):
    """PIDs of nvmfd processes whose command line contains marker."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"nvmfd") and marker.encode() in argv:
            pids.append(int(d))
    return pids


def write_json(tmp_path, name, obj_or_text):
    p = tmp_path / name
    p.write_text(obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text))
    return str(p)


def good_config(port):
    return {"listen": [{"address": ADDR, "port": port}],
            "subsystems": [{"nqn": new_nqn(), "namespaces": [{"device": "ramdisk:1M"}]}]}


# name -> (args builder(tmp_path, port), regex the error line must match, usage expected)
def _cases():
    return {
        "bad-option": (lambda tp, p: ["-d", "-Z", "-p", str(p), "-P", "0", "ramdisk:1M"],
                       r"invalid option.*Z", True),
        "port-out-of-range": (lambda tp, p: ["-d", "-p", "70000", "-P", "0", "ramdisk:1M"],
                              r"port.*70000", False),
        "port-not-a-number": (lambda tp, p: ["-d", "-p", "44x", "-P", "0", "ramdisk:1M"],
                              r"port.*44x", False),
        "bad-discovery-port": (lambda tp, p: ["-d", "-p", str(p), "-P", "-3", "ramdisk:1M"],
                               r"discovery port.*-3", False),
        "missing-device-file": (lambda tp, p: ["-d", "-a", ADDR, "-p", str(p), "-P", "0",
                                               str(tp / "no-such.img")],
                                r"no-such\.img: No such file or directory", False),
        "bad-ramdisk-size": (lambda tp, p: ["-d", "-a", ADDR, "-p", str(p), "-P", "0",
                                            "ramdisk:lots"], r"ramdisk:lots", False),
        "no-device": (lambda tp, p: ["-d", "-a", ADDR, "-p", str(p), "-P", "0"],
                      r"no device", True),
        "bad-maxh2cdata": (lambda tp, p: ["-d", "-H", "1000", "-p", str(p), "ramdisk:1M"],
                           r"MAXH2CDATA.*1000", False),
        "bad-subnqn": (lambda tp, p: ["-d", "-n", "not-an-nqn", "-p", str(p), "ramdisk:1M"],
                       r"SubNQN.*not-an-nqn", False),
        "bad-address": (lambda tp, p: ["-d", "-a", "300.1.2.3", "-p", str(p), "-P", "0",
                                       "ramdisk:1M"], r"300\.1\.2\.3", False),
        "config-not-json": (lambda tp, p: ["-d", "-c", write_json(
            tp, "broken.json", '{"listen": [{"address": "127.0.0.1", "port": %d}' % p)],
            r"broken\.json.*JSON", False),
        "config-not-an-object": (lambda tp, p: ["-d", "-c", write_json(tp, "list.json", "[1]")],
                                 r"list\.json.*object", False),
        "config-no-namespaces": (lambda tp, p: ["-d", "-c", write_json(tp, "nons.json", {
            "listen": [{"address": ADDR, "port": p}],
            "subsystems": [{"nqn": "nqn.2024-01.io.nvmf.e2e:x"}]})],
            r"namespaces", False),
        "config-bad-port-ref": (lambda tp, p: ["-d", "-c", write_json(tp, "ports.json", {
            "listen": [{"address": ADDR, "port": p}],
            "subsystems": [{"nqn": "nqn.2024-01.io.nvmf.e2e:x", "ports": [2],
                            "namespaces": [{"device": "ramdisk:1M"}]}]})],
            r"port 2", False),
        "config-missing-device": (lambda tp, p: ["-d", "-c", write_json(tp, "dev.json", {
            "listen": [{"address": ADDR, "port": p}],
            "subsystems": [{"nqn": "nqn.2024-01.io.nvmf.e2e:x",
                            "namespaces": [{"device": str(tp / "gone.img")}]}]})],
            r"gone\.img: No such file", False),
        "nonexistent-config": (lambda tp, p: ["-d", "-c", str(tp / "nowhere.json")],
                               r"nowhere\.json: No such file or directory", False),
        "config-and-devices": (lambda tp, p: ["-d", "-c", write_json(tp, "ok.json",
                                                                     good_config(p)),
                                              "ramdisk:1M"], r"-c", False),
    }


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_command_line_errors(tmp_path, name):
    import re
    build, pattern, usage = CASES[name]
    port = free_port()
    args = build(tmp_path, port)
    r = run(args)
    assert r.returncode != 0, "nvmfd %s exited 0" % " ".join(args)
    assert r.returncode > 0, "nvmfd %s: %s" % (" ".join(args), describe_exit(r.returncode))
    lines = [l for l in r.stderr.splitlines()]
    errors = [l for l in lines if re.search(pattern, l)]
    assert errors, "no error line matching %r in stderr:\n%s" % (pattern, r.stderr)
    assert "nvmfd" in errors[0], "error line does not say who speaks: %r" % errors[0]
    if not usage:
        assert len(lines) == 1, "expected one line of error, got:\n%s" % r.stderr
    assert r.stdout == "", "output on stdout: %r" % r.stdout
    assert not port_accepts(port), "a listener was left on port %d" % port


def test_port_in_use_in_foreground(tmp_path):
    with socket.socket() as blocker:
        blocker.bind((ADDR, 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        r = run(["-d", "-a", ADDR, "-p", str(port), "-P", "0", "ramdisk:1M"])
        assert r.returncode == 1, describe_exit(r.returncode)
        assert "Address already in use" in r.stderr and str(port) in r.stderr, r.stderr


PR_SET_CHILD_SUBREAPER = 36


class Subreaper:
    """Makes this process the reaper of orphans (the daemon), to learn its exit status."""

    def __enter__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        if self.libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            pytest.skip("prctl(PR_SET_CHILD_SUBREAPER) failed")
        return self

    def __exit__(self, *exc):
        self.libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def wait_pid(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return status
        time.sleep(0.02)
    return None


def test_daemon_mode_detaches_and_serves(tmp_path):
    port = free_port()
    nqn = new_nqn("daemon")
    with Subreaper():
        t0 = time.monotonic()
        r = run(["-a", ADDR, "-p", str(port), "-P", "0", "-n", nqn, "ramdisk:4M"])
        pids = nvmfd_pids(nqn)
        try:
            assert r.returncode == 0, "nvmfd without -d: %s\n%s" % (
                describe_exit(r.returncode), r.stderr)
            assert time.monotonic() - t0 < 5
            assert len(pids) == 1, "expected one detached nvmfd, found %s" % pids
            assert port_accepts(port), "the daemon does not answer on port %d" % port
            c = nt.Controller(ADDR, port, nqn)
            try:
                assert c.identify_controller()["subnqn"] == nqn
                (q,) = c.connect_io(1)
                q.write(1, 1, b"\x11" * 512)
                assert q.read(1, 1, 1) == b"\x11" * 512
            finally:
                c.close()
            # It runs in a session of its own, away from our terminal.
            assert os.getsid(pids[0]) == pids[0]
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGTERM)
            statuses = {pid: wait_pid(pid, 5) for pid in pids}
        for pid, status in statuses.items():
            assert status is not None, "daemon %d did not exit on SIGTERM" % pid
            assert not (os.WIFSIGNALED(status) and os.WTERMSIG(status) in CRASH), \
                "daemon crashed: signal %d" % os.WTERMSIG(status)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, hex(status)
    assert not port_accepts(port)


def test_daemon_mode_reports_an_unusable_port(tmp_path):
    nqn = new_nqn("daemon")
    with socket.socket() as blocker:
        blocker.bind((ADDR, 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        with Subreaper():
            r = run(["-a", ADDR, "-p", str(port), "-P", "0", "-n", nqn, "ramdisk:1M"])
            time.sleep(0.1)
            left = nvmfd_pids(nqn)
            for pid in left:
                os.kill(pid, signal.SIGKILL)
                wait_pid(pid, 5)
            # Reap the detached child that failed, if it was handed to us.
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass
    assert r.returncode != 0, "nvmfd exited 0 although port %d is taken" % port
    assert "Address already in use" in r.stderr and str(port) in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert not left, "a detached nvmfd stayed behind: %s" % left
