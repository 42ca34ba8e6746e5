# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Fixtures for the end-to-end tests: real nvmfd processes on 127.0.0.1.

Every test starts its own nvmfd (foreground, -d) on free ports in its own
temporary directory, with its stderr log captured to a file. On teardown the
daemon is stopped with SIGTERM and the test fails if it died on the way
(a crash: SIGSEGV, SIGABRT, ...), did not stop, or exited with an error.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nvme_tcp  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NVMFD = os.environ.get("NVMFD", os.path.join(REPO, "build", "bin", "nvmfd"))
ADDR = "127.0.0.1"
# Generous: sanitizer builds on a loaded machine start and stop slowly.
START_TIMEOUT = 10
STOP_TIMEOUT = 10
# Memory bounds grow under AddressSanitizer (shadow memory, freed-memory quarantine):
# make sanitize-e2e sets NVMF_SANITIZED=1 and bounds on RSS are scaled by this.
RSS_SCALE = 4 if os.environ.get("NVMF_SANITIZED") == "1" else 1
# ...and the time a daemon has to exit: LeakSanitizer scans its memory at exit,
# on two vCPUs that its own sanitized children may be saturating.
EXIT_SCALE = 3 if os.environ.get("NVMF_SANITIZED") == "1" else 1
# What a sanitizer build writes when it finds something (make sanitize-e2e, tsan-churn).
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "ThreadSanitizer")
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE,
                 signal.SIGILL, signal.SIGTRAP}


def free_port():
    """A TCP port nobody listens on right now (bind to port 0, read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((ADDR, 0))
        return s.getsockname()[1]


def port_accepts(port, host=ADDR, timeout=0.2):
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def cpu_seconds(pid):
    """User and system CPU time a process has used, in seconds (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sleeps(pid):
    """Times the process's threads went to sleep (voluntary context switches)."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        n += int(line.split()[1])
        except FileNotFoundError:
            pass                            # a thread that ended meanwhile
    return n


def new_nqn(tag="sub"):
    return "nqn.2024-01.io.nvmf.e2e:%s-%s" % (tag, uuid.uuid4().hex[:12])


def describe_exit(rc):
    if rc is None:
        return "still running"
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit status %d" % rc


class Target:
    """One running nvmfd."""

    def __init__(self, proc, log_path, args, port, dport, subnqn, workdir):
        self.proc = proc
        self.log_path = log_path
        self.args = args
        self.port = port            # first NVMe/TCP port
        self.dport = dport          # discovery port, or None
        self.subnqn = subnqn        # the (first) subsystem NQN
        self.workdir = workdir
        self.ports = [port] if port else []
        self.address = ADDR         # where to dial it
        self.stopped = False

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def log_lines(self):
        return self.log().splitlines()

    def wait_log(self, pattern, timeout=3.0, since=0):
        """Waits for a log line matching the regex; returns the line."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_lines()[since:]:
                if rx.search(line):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError("nvmfd logged no line matching %r; log:\n%s" %
                                     (pattern, self.log()[-3000:]))
            time.sleep(0.02)

    def controller(self, **kw):
        kw.setdefault("subnqn", self.subnqn)
        return nvme_tcp.Controller(self.address, kw.pop("port", self.port), **kw)

    def queue(self, port=None, **kw):
        return nvme_tcp.Queue(self.address, port or self.port, **kw)

    def stop(self):
        """SIGTERM, then the verdict: a clean exit or a description of the failure."""
        if self.stopped:
            return None
        self.stopped = True
        rc = self.proc.poll()
        if rc is not None:
            return "nvmfd died during the test (%s)" % describe_exit(rc)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)      # a core/backtrace shows where it hung
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            return "nvmfd did not exit within %d s of SIGTERM" % STOP_TIMEOUT
        if rc < 0 and -rc in CRASH_SIGNALS:
            return "nvmfd crashed on shutdown (%s)" % describe_exit(rc)
        if rc != 0:
            return "nvmfd exited with %s on SIGTERM" % describe_exit(rc)
        return None


class Launcher:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.targets = []

    def _spawn(self, args, port, dport, subnqn, wait_ports, host=ADDR, preexec_fn=None):
        n = len(self.targets)
        log_path = str(self.tmp / ("nvmfd-%d.log" % n))
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([NVMFD] + args, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, cwd=str(self.tmp),
                                    preexec_fn=preexec_fn)
        t = Target(proc, log_path, args, port, dport, subnqn, self.tmp)
        self.targets.append(t)
        deadline = time.monotonic() + START_TIMEOUT
        pending = list(wait_ports)
        while pending:
            if not t.alive():
                raise AssertionError("nvmfd %s exited at start-up (%s):\n%s" % (
                    " ".join(args), describe_exit(proc.returncode), t.log()))
            if time.monotonic() > deadline:
                raise AssertionError("nvmfd never listened on ports %s within %d s:\n%s" %
                                     (pending, START_TIMEOUT, t.log()))
            pending = [p for p in pending if not port_accepts(p, host)]
            if pending:
                time.sleep(0.02)
        return t

    def start(self, *devices, opts=(), subnqn=None, discovery=True, address=ADDR,
              preexec_fn=None):
        """nvmfd -d -a ADDRESS -p PORT -P DPORT|0 -n SUBNQN [opts] devices...
        address None: no -a, nvmfd listens on every address. preexec_fn: as Popen's."""
        port = free_port()
        dport = free_port() if discovery else None
        while dport == port:
            dport = free_port()
        subnqn = subnqn or new_nqn()
        devices = devices or ("ramdisk:16M",)
        args = ["-d"] + (["-a", address] if address else [])
        args += ["-p", str(port), "-P", str(dport or 0), "-n", subnqn]
        args += list(opts) + list(devices)
        t = self._spawn(args, port, dport, subnqn, [port] + ([dport] if dport else []),
                        host=address or ADDR, preexec_fn=preexec_fn)
        t.address = address or ADDR
        return t

    def start_config(self, cfg, opts=()):
        """nvmfd -d -c config.json; "listen"/"discovery" ports must be filled in."""
        n = len(self.targets)
        path = self.tmp / ("nvmfd-%d.json" % n)
        path.write_text(json.dumps(cfg, indent=1))
        ports = [entry["port"] for entry in cfg["listen"]]
        dport = cfg.get("discovery", {}).get("port") if isinstance(cfg.get("discovery"),
                                                                    dict) else None
        t = self._spawn(["-d"] + list(opts) + ["-c", str(path)], ports[0], dport,
                        cfg["subsystems"][0]["nqn"], ports + ([dport] if dport else []))
        t.ports = ports
        t.config = cfg
        return t

    def finish(self):
        problems = []
        for t in self.targets:
            verdict = t.stop()
            if verdict:
                problems.append("%s: %s\n--- log (tail) ---\n%s" % (
                    " ".join(t.args), verdict, t.log()[-4000:]))
            else:
                text = t.log()
                for marker in SANITIZER_MARKERS:
                    if marker in text:
                        problems.append("%s: sanitizer report in the log:\n%s" %
                                        (" ".join(t.args), text[-4000:]))
                        break
        return problems


@pytest.fixture
def host_stacks(tmp_path):
    """start(*args): another nvmf-hostd (foreground, its own run directory) started
    with args; all are stopped, and their problems reported, after the test."""
    import host_disk_helpers as hd
    stacks = []

    def start(*args):
        s = hd.HostStack(tmp_path, name="hostd%d" % len(stacks))
        stacks.append(s)
        return s.start(args=args)
    yield start
    problems = []
    for s in stacks:
        problems += s.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def nvmfd(tmp_path):
    """Starts nvmfd processes; stops each on teardown and fails on a crash."""
    if not os.access(NVMFD, os.X_OK):
        pytest.fail("%s is not built (run make all)" % NVMFD)
    launcher = Launcher(tmp_path)
    yield launcher
    problems = launcher.finish()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def wait_closed(queues, timeout):
    """Waits until every queue's connection is closed by the target; returns the times."""
    start = time.monotonic()
    closed = {}
    deadline = start + timeout
    while len(closed) < len(queues) and time.monotonic() < deadline:
        for i, q in enumerate(queues):
            if i not in closed and q.is_closed(timeout=0.01):
                closed[i] = time.monotonic()
    return closed
