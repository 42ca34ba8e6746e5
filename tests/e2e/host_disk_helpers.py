# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Helpers for test_host_disk.py: nvmf-hostd + nvmecontrol as a disk for ordinary programs.

A HostStack is one nvmf-hostd in the foreground (-d) with its own run directory,
its log captured to a file, and the nvmecontrol command line pointed at that
run directory. Loop devices and mounts a test makes are registered with the
stack and undone (in reverse order) before nvmf-hostd is stopped, also when
the test fails half-way.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "build", "bin")
HOSTD = os.environ.get("NVMF_HOSTD", os.path.join(BIN, "nvmf-hostd"))
NVMECONTROL = os.environ.get("NVMECONTROL", os.path.join(BIN, "nvmecontrol"))
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE,
                 signal.SIGILL, signal.SIGTRAP}
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer",
                     "ThreadSanitizer")

MIB = 1024 * 1024


def run(cmd, timeout=60, check=True, **kw):
    """Runs cmd; on failure raises AssertionError with its output."""
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, **kw)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d\n--- stdout ---\n%s\n--- stderr ---\n%s" %
                             (" ".join(map(str, cmd)), p.returncode, out[-4000:], err[-4000:]))
    return p.returncode, out, err


def mounted(path):
    """True when path is a mount point (per /proc/self/mountinfo)."""
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path:
                return True
    return False


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def pread_exact(fd, n, off):
    out = bytearray()
    while len(out) < n:
        b = os.pread(fd, n - len(out), off + len(out))
        if not b:
            raise AssertionError("short read at %d: %d of %d bytes" % (off, len(out), n))
        out += b
    return bytes(out)


def pwrite_all(fd, data, off):
    done = 0
    view = memoryview(data)
    while done < len(data):
        n = os.pwrite(fd, view[done:], off + done)
        assert n > 0, "pwrite wrote nothing at %d" % (off + done)
        done += n


def file_bytes(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


class HostStack:
    """One nvmf-hostd (foreground) in a private run directory."""

    def __init__(self, workdir, name="hostd"):
        self.workdir = str(workdir)
        self.rundir = os.path.join(self.workdir, name + "-run")
        self.dev = os.path.join(self.rundir, "dev")
        self.log_path = os.path.join(self.workdir, name + ".log")
        self.proc = None
        self.cleanups = []          # (what, callable), undone in reverse order
        self.stopped = False

    # ------------------------------------------------------------ the daemon
    def start(self, timeout=10, args=()):
        os.makedirs(self.rundir, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([HOSTD, "-d", "-v", "--rundir", self.rundir, *args],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        sock = os.path.join(self.rundir, "nvmf.sock")
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("nvmf-hostd exited at start-up (status %s):\n%s" %
                                     (self.proc.returncode, self.log()))
            if os.path.exists(sock) and mounted(self.dev):
                return self
            if time.monotonic() > deadline:
                raise AssertionError("nvmf-hostd not ready in %d s (socket %s, FUSE mount %s):"
                                     "\n%s" % (timeout, os.path.exists(sock),
                                               mounted(self.dev), self.log()))
            time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def add_cleanup(self, what, fn):
        self.cleanups.append((what, fn))

    def undo(self):
        """Runs the registered clean-ups; returns a list of problems."""
        problems = []
        while self.cleanups:
            what, fn = self.cleanups.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - every clean-up must get its turn
                problems.append("clean-up %s: %s" % (what, e))
        return problems

    def stop(self):
        """Clean-ups, then SIGTERM; returns a list of problems (crash, hang, sanitizer)."""
        if self.stopped:
            return []
        self.stopped = True
        problems = self.undo()
        if self.proc is None:
            return problems
        rc = self.proc.poll()
        if rc is not None:
            problems.append("nvmf-hostd died during the test (status %d)" % rc)
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append("nvmf-hostd did not exit within 15 s of SIGTERM")
                rc = None
            if rc is not None and rc < 0 and -rc in CRASH_SIGNALS:
                problems.append("nvmf-hostd crashed on shutdown (signal %d)" % -rc)
            elif rc is not None and rc != 0:
                problems.append("nvmf-hostd exited with status %d on SIGTERM" % rc)
        # A dead daemon leaves its FUSE mount behind: never leave it in the tree.
        if mounted(self.dev):
            subprocess.run(["umount", "-l", self.dev], stderr=subprocess.DEVNULL)
            if not problems:
                problems.append("nvmf-hostd left its FUSE mount %s behind" % self.dev)
        text = self.log()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                problems.append("sanitizer report in the nvmf-hostd log")
                break
        if problems:
            problems.append("--- nvmf-hostd log (tail) ---\n" + text[-4000:])
        return problems

    # ------------------------------------------------------------ nvmecontrol
    def ctl(self, *args, timeout=60, check=True):
        """nvmecontrol --rundir RUNDIR ARGS...; returns (rc, stdout, stderr)."""
        return run([NVMECONTROL, "--rundir", self.rundir] + [str(a) for a in args],
                   timeout=timeout, check=check)

    def devlist(self):
        _, out, _ = self.ctl("devlist", "-o", "json")
        return json.loads(out)["controllers"]

    def controller(self, name):
        for c in self.devlist():
            if c.get("name") == name:
                return c
        return None

    def connect(self, addr, port, subnqn, nr_io=2, extra=()):
        """nvmecontrol connect -i NR addr:port SubNQN; returns the new controller's devlist entry."""
        before = {c["name"] for c in self.devlist()}
        self.ctl("connect", "-i", nr_io, *extra, "%s:%s" % (addr, port), subnqn, timeout=90)
        new = [c for c in self.devlist() if c["name"] not in before]
        assert len(new) == 1, "connect added %d controllers: %s" % (len(new), new)
        ctrl = new[0]
        for ns in ctrl.get("namespaces", []):
            self.wait_file(ns["name"])
        return ctrl

    def disconnect(self, name):
        return self.ctl("disconnect", name)

    def ns_path(self, name):
        return os.path.join(self.dev, name)

    def wait_file(self, name, present=True, timeout=5.0):
        path = self.ns_path(name)
        deadline = time.monotonic() + timeout
        while os.path.exists(path) != present:
            if time.monotonic() > deadline:
                raise AssertionError("%s %s after %.0f s; dev/ holds %s" % (
                    path, "never appeared" if present else "still there", timeout,
                    sorted(os.listdir(self.dev)) if os.path.isdir(self.dev) else "nothing"))
            time.sleep(0.02)
        return path

    # ------------------------------------------------------------ loop devices, mounts
    def losetup(self, path):
        """A loop device over path (removed on clean-up); returns /dev/loopN."""
        _, out, _ = run(["losetup", "-f", "--show", path], timeout=30)
        dev = out.strip()
        assert dev.startswith("/dev/loop"), "losetup printed %r" % out
        self.add_cleanup("losetup -d %s" % dev, lambda: loop_detach(dev, quiet=True))
        return dev

    def mount(self, dev, mountpoint, opts=()):
        os.makedirs(mountpoint, exist_ok=True)
        run(["mount"] + list(opts) + [dev, mountpoint], timeout=60)
        self.add_cleanup("umount %s" % mountpoint, lambda: umount(mountpoint, quiet=True))
        return mountpoint


def loop_backing(dev):
    """The file behind a loop device, or None when it is detached."""
    rc, out, _ = run(["losetup", "-n", "-O", "BACK-FILE", dev], check=False)
    if rc != 0:
        return None
    return out.strip() or None


def loop_detach(dev, quiet=False, timeout=10.0):
    """losetup -d, then waits until the device really let go of its file."""
    if loop_backing(dev) is None:
        return
    rc, _, err = run(["losetup", "-d", dev], check=False)
    if rc != 0 and not quiet:
        raise AssertionError("losetup -d %s: %s" % (dev, err.strip()))
    deadline = time.monotonic() + timeout
    while loop_backing(dev) is not None:
        if time.monotonic() > deadline:
            raise AssertionError("%s still attached %.0f s after losetup -d" % (dev, timeout))
        time.sleep(0.05)


def umount(mountpoint, quiet=False):
    if not mounted(mountpoint):
        return
    rc, _, err = run(["umount", mountpoint], check=False, timeout=60)
    if rc != 0:
        # Last resort so that nothing stays mounted; still an error when asked for.
        subprocess.run(["umount", "-l", mountpoint], stderr=subprocess.DEVNULL)
        if not quiet:
            raise AssertionError("umount %s: %s" % (mountpoint, err.strip()))


# ---------------------------------------------------------------- fio
FIO = shutil.which("fio") or "/usr/bin/fio"


def fio_verify_job(path, out_json, runtime=10, numjobs=4, size_mb=16, iodepth=16,
                   ioengine="libaio", extra=()):
    """The random read/write job with crc32c verification, numjobs disjoint regions of
    size_mb each. Returns (rc, stdout+stderr, parsed JSON or None)."""
    cmd = [FIO, "--name=nvmf-verify", "--filename=%s" % path, "--direct=1",
           "--rw=randrw", "--bs=4k", "--iodepth=%d" % iodepth, "--ioengine=%s" % ioengine,
           "--numjobs=%d" % numjobs, "--size=%dM" % size_mb,
           "--offset_increment=%dM" % size_mb, "--verify=crc32c", "--do_verify=1",
           "--verify_fatal=1", "--verify_state_save=0", "--runtime=%d" % runtime,
           "--group_reporting",
           "--output-format=json", "--output=%s" % out_json] + list(extra)
    # In the output's directory: nothing of fio's lands in the tree.
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=runtime * 4 + 60,
                       cwd=os.path.dirname(os.path.abspath(out_json)))
    text = p.stdout.decode(errors="replace")
    data = None
    try:
        raw = open(out_json, errors="replace").read()
    except FileNotFoundError:
        raw = ""
    # fio writes warnings ("multiple writers may overwrite ...") ahead of the JSON.
    m = re.search(r"^\{", raw, re.M)
    if m:
        try:
            data = json.loads(raw[m.start():])
        except ValueError:
            data = None
        text += raw[:m.start()]
    else:
        text += raw
    return p.returncode, text, data


def fio_summary(data):
    """IOPS and MB/s (10^6 bytes) of the first (group-reported) job."""
    j = data["jobs"][0]
    r, w = j["read"], j["write"]
    return {
        "error": j.get("error", 0),
        "read_iops": r["iops"], "write_iops": w["iops"],
        "read_MBps": r["bw_bytes"] / 1e6, "write_MBps": w["bw_bytes"] / 1e6,
        "read_ios": r["total_ios"], "write_ios": w["total_ios"],
        "runtime_ms": j.get("job_runtime", 0),
    }


def fio_verify_problems(text):
    """Lines of fio's output that tell of a verification failure or an I/O error."""
    rx = re.compile(r"verify|bad magic|crc32c|io_u error|Input/output error|No such device",
                    re.I)
    return [ln for ln in text.splitlines()
            if rx.search(ln) and "multiple writers may overwrite" not in ln]
