#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""bench/scale.py - issue 9's many-controllers run: one nvmf-hostd holding N controllers.

  bench/scale.py [-n 1000] [--jitter MS] [--delay S] [--restarts K] [--json]

One nvmfd on RAM (one subsystem, connected N times with connect -D, one I/O queue each),
one nvmf-hostd and nvmf-devd with the shipped rules, in a private run directory. Measures:

  connect      time for the N sequential `nvmecontrol connect -D`
  idle         nvmf-hostd's CPU over 10 s with every controller idle (and nvmfd's), RSS
  devlist      `devlist` and `devlist -o json`, the median of 5 runs each
  reconnect    nvmfd killed, restarted 2 s later: from listening again to every controller
               reconnected (the stamp of its "reconnected to" line in nvmf-hostd's log;
               devlist then confirms all connected), and how spread the reconnects were (the most
               new associations nvmfd took in any 100 ms, from its log). --restarts times (5)
               on the same controllers: the median, the fastest and the slowest

and prints them against the goals: idle CPU < 1 %, RSS < 256 MiB, devlist < 100 ms,
all reconnected within reconnect-delay + 5 s.  bench.py runs it (BENCH_SCALE=0 leaves it
out); alone it prints the same table, or one JSON object with --json.
"""

import argparse
import collections
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from common import free_port, port_accepts, say, wait_for  # noqa: E402

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BIN = os.path.join(ROOT, os.environ.get("BUILD", "build"), "bin")
ADDR = "127.0.0.1"
NQN = "nqn.2026-11.org.nvmf:scale"
CLK_TCK = os.sysconf("SC_CLK_TCK")
IDLE_SECONDS = 10
# One restart's figure swings by a second or more on a 2-vCPU VM: the median of these.
RESTARTS = 5

GOALS = (
    # key, label, figure, comparison, goal
    ("scale_idle_cpu", "1,000 controllers: nvmf-hostd idle CPU (%)", "scale_hostd_idle_cpu_pct",
     "<", 1.0),
    ("scale_rss", "1,000 controllers: nvmf-hostd RSS (MiB)", "scale_hostd_rss_mib", "<", 256.0),
    ("scale_devlist", "1,000 controllers: devlist (ms)", "scale_devlist_ms", "<", 100.0),
    ("scale_devlist_json", "1,000 controllers: devlist -o json (ms)", "scale_devlist_json_ms",
     "<", 100.0),
    ("scale_reconnect", "1,000 controllers: all reconnected after restart (s)",
     "scale_reconnect_all_s", "<=", "scale_reconnect_budget_s"),
)


def log(msg):
    say("scale", msg)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])      # utime + stime


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def log_time(day_start, line):
    """A daemon log line's HH:MM:SS.mmm stamp as a time.time() value (None without one)."""
    m = re.match(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) ", line)
    if m is None:
        return None
    h, mi, sec, ms = (int(x) for x in m.groups())
    return day_start + h * 3600 + mi * 60 + sec + ms / 1000.0


class LogWatch:
    """Follows a daemon's log file: when each name first matched rx (the line's own stamp)."""

    def __init__(self, path, rx):
        self.f = open(path, errors="replace")
        self.f.seek(0, os.SEEK_END)
        self.rx = re.compile(rx)
        self.partial = ""
        self.names = {}

    def poll(self, day_start):
        self.partial += self.f.read()
        *lines, self.partial = self.partial.split("\n")
        for ln in lines:
            m = self.rx.search(ln)
            if m:
                self.names.setdefault(m.group(1), log_time(day_start, ln))

    def close(self):
        self.f.close()


class ScaleRun:
    def __init__(self, n, delay, jitter):
        self.n = n
        self.delay = delay
        self.jitter = jitter
        self.tmp = tempfile.mkdtemp(prefix="nvmf-scale.")
        self.run = os.path.join(self.tmp, "host")
        self.port = free_port()
        self.procs = {}

    def spawn(self, name, argv, env=None):
        logf = open(os.path.join(self.tmp, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env)
        self.procs[name] = p
        return p

    def start_nvmfd(self):
        # Two connections a controller; one host NQN holds all the associations.
        self.spawn("nvmfd", [os.path.join(BIN, "nvmfd"), "-d", "-a", ADDR, "-p", str(self.port),
                             "-P", "0", "-n", NQN, "--max-connections", str(2 * self.n + 64),
                             "--max-host-associations", str(self.n + 16), "ramdisk:16M"])
        wait_for(lambda: port_accepts(self.port), 10, "nvmfd listening")

    def ctl(self, *args, timeout=60):
        return subprocess.run([os.path.join(BIN, "nvmecontrol"), "--rundir", self.run] +
                              [str(a) for a in args], capture_output=True, text=True,
                              timeout=timeout)

    def devlist_json(self):
        r = self.ctl("devlist", "-o", "json")
        if r.returncode != 0:
            raise RuntimeError("devlist -o json: %s" % r.stderr.strip())
        return json.loads(r.stdout)["controllers"]

    def start_host(self):
        env = dict(os.environ, NVMF_RUNDIR=self.run)
        argv = [os.path.join(BIN, "nvmf-hostd"), "-d", "--rundir", self.run]
        if self.jitter is not None:
            argv += ["--reconnect-jitter", str(self.jitter)]
        self.spawn("hostd", argv, env=env)
        wait_for(lambda: os.path.exists(os.path.join(self.run, "nvmf.sock")), 10,
                 "nvmf-hostd's control socket")
        self.spawn("devd", [os.path.join(BIN, "nvmf-devd"), "-d", "--rundir", self.run, "-f",
                            os.path.join(ROOT, "etc", "nvmf.conf")], env=env)
        wait_for(lambda: os.path.exists(os.path.join(self.run, "devd.pipe")), 10,
                 "nvmf-devd's devd.pipe")

    def connect_all(self):
        t0 = time.monotonic()
        each = []
        for i in range(self.n):
            t = time.monotonic()
            r = self.ctl("connect", "-D", "-r", self.delay, "-l", 600, "%s:%d" % (ADDR, self.port),
                         NQN)
            if r.returncode != 0:
                raise RuntimeError("connect %d of %d: %s" % (i + 1, self.n, r.stderr.strip()))
            each.append(time.monotonic() - t)
        total = time.monotonic() - t0
        return {"scale_connect_s": total, "scale_connect_each_ms": statistics.median(each) * 1e3}

    def idle(self):
        hostd, nvmfd = self.procs["hostd"].pid, self.procs["nvmfd"].pid
        time.sleep(2)                     # namespace scans and first keep-alives settle
        h0, n0, t0 = cpu_ticks(hostd), cpu_ticks(nvmfd), time.monotonic()
        time.sleep(IDLE_SECONDS)
        h1, n1, t1 = cpu_ticks(hostd), cpu_ticks(nvmfd), time.monotonic()
        secs = t1 - t0
        return {"scale_hostd_idle_cpu_pct": 100.0 * (h1 - h0) / CLK_TCK / secs,
                "scale_nvmfd_idle_cpu_pct": 100.0 * (n1 - n0) / CLK_TCK / secs,
                "scale_hostd_rss_mib": status_kib(hostd, "VmRSS") / 1024.0,
                "scale_hostd_threads": status_kib(hostd, "Threads"),
                "scale_nvmfd_rss_mib": status_kib(nvmfd, "VmRSS") / 1024.0}

    def devlist_times(self, runs=5):
        out = {}
        for key, args in (("scale_devlist_ms", ()), ("scale_devlist_json_ms", ("-o", "json"))):
            times = []
            for _ in range(runs):
                t = time.monotonic()
                r = self.ctl("devlist", *args)
                times.append((time.monotonic() - t) * 1e3)
                if r.returncode != 0:
                    raise RuntimeError("devlist %s: %s" % (" ".join(args), r.stderr.strip()))
            out[key] = statistics.median(times)
        ctrls = self.devlist_json()
        connected = sum(c["state"] == "connected" for c in ctrls)
        if len(ctrls) != self.n or connected != self.n:
            raise RuntimeError("devlist lists %d controllers, %d connected, not %d" % (
                len(ctrls), connected, self.n))
        return out

    def reconnect_restarts(self, restarts):
        took, peaks = [], []
        for i in range(restarts):
            log("killing and restarting nvmfd (%d of %d)" % (i + 1, restarts))
            if i > 0:
                time.sleep(2)             # the last cycle's stragglers (devd's queue) settle
            one = self.reconnect_all()
            log("all %d reconnected %.2f s after nvmfd was back" % (
                self.n, one["scale_reconnect_all_s"]))
            took.append(one["scale_reconnect_all_s"])
            peaks.append(one["scale_reconnect_peak_per_100ms"])
        return {"scale_reconnect_all_s": statistics.median(took),
                "scale_reconnect_fastest_s": min(took),
                "scale_reconnect_slowest_s": max(took),
                "scale_reconnect_budget_s": self.delay + 5.0,
                "scale_reconnect_peak_per_100ms": max(peaks)}

    def reconnect_all(self):
        # Watched in nvmf-hostd's log ("nvmeN: reconnected to ..."), which loses nothing and
        # costs nothing. Polling devlist every 100 ms instead (1,000 controllers' JSON each
        # time) took a third of a CPU from the reconnects it measured.
        watch = LogWatch(os.path.join(self.tmp, "hostd.log"), r"nvmf-hostd: (\S+): reconnected to ")
        try:
            self.procs["nvmfd"].send_signal(signal.SIGKILL)
            self.procs["nvmfd"].wait()

            def all_lost():
                return all(c["state"] != "connected" for c in self.devlist_json())
            wait_for(all_lost, 30, "every controller seeing the loss")
            time.sleep(2)
            self.start_nvmfd()
            back = time.monotonic()
            back_wall = time.time()
            day = time.mktime(time.strptime(time.strftime("%Y-%m-%d", time.localtime(back_wall)),
                                            "%Y-%m-%d"))
            while len(watch.names) < self.n and time.monotonic() - back < self.delay + 60:
                time.sleep(0.05)
                watch.poll(day)
        finally:
            watch.close()
        if len(watch.names) < self.n:
            raise RuntimeError("%d of %d reconnected %.1f s after nvmfd came back" % (
                len(watch.names), self.n, time.monotonic() - back))
        ctrls = self.devlist_json()
        connected = sum(c["state"] == "connected" for c in ctrls)
        if connected != self.n:
            raise RuntimeError("nvmf-hostd logged %d reconnects, but devlist shows %d of %d "
                               "connected" % (len(watch.names), connected, self.n))
        done_wall = max(watch.names.values())
        return {"scale_reconnect_all_s": done_wall - back_wall,
                "scale_reconnect_peak_per_100ms": self.peak_rate(back_wall, done_wall)}

    def peak_rate(self, since_wall, until_wall):
        """The most associations the restarted nvmfd took in any 100 ms (its log)."""
        rx = re.compile(r" nvmfd: .* connected to .* queue 0 ")
        day = time.strftime("%Y-%m-%d", time.localtime(since_wall))
        start = time.mktime(time.strptime(day, "%Y-%m-%d"))
        buckets = collections.Counter()
        with open(os.path.join(self.tmp, "nvmfd.log"), errors="replace") as f:
            for line in f:
                t = log_time(start, line) if rx.search(line) else None
                if t is not None and since_wall - 1 <= t <= until_wall + 1:
                    buckets[int(t * 10)] += 1
        return max(buckets.values()) if buckets else 0

    def stop(self):
        for name in ("devd", "hostd", "nvmfd"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        subprocess.run(["umount", "-l", os.path.join(self.run, "dev")], capture_output=True)
        subprocess.run(["rm", "-rf", self.tmp], capture_output=True)


def measure(n=1000, delay=1, jitter=None, restarts=RESTARTS):
    """The figures of one run (keys scale_*); raises on a failure."""
    run = ScaleRun(n, delay, jitter)
    figures = {"scale_controllers": n}
    try:
        run.start_nvmfd()
        run.start_host()
        log("connecting %d controllers" % n)
        figures.update(run.connect_all())
        log("idle for %d s" % IDLE_SECONDS)
        figures.update(run.idle())
        figures.update(run.devlist_times())
        figures.update(run.reconnect_restarts(restarts))
    finally:
        run.stop()
    return figures


def evaluate(fig):
    goals = []
    for key, label, num, cmp, goal in GOALS:
        entry = {"key": key, "label": label}
        goal_v = fig.get(goal) if isinstance(goal, str) else goal
        entry["goal"] = "%s %g" % (cmp, goal_v) if goal_v is not None else cmp
        if num in fig and goal_v is not None:
            v = fig[num]
            ok = v < goal_v if cmp == "<" else v <= goal_v
            # ratio: measured / goal, as bench.py's "<=" goals
            entry.update(ratio=round(v / goal_v, 3), status="holds" if ok else "missed",
                         margin=round(goal_v / v, 3) if v > 0 else None, value=round(v, 3))
        else:
            entry.update(ratio=None, status="not measured")
        goals.append(entry)
    return goals


FIGURES = (
    ("scale_connect_s", "connect -D x N, sequential", "s"),
    ("scale_connect_each_ms", "  one connect (median)", "ms"),
    ("scale_hostd_idle_cpu_pct", "nvmf-hostd idle CPU", "%"),
    ("scale_nvmfd_idle_cpu_pct", "nvmfd idle CPU (2 connections each)", "%"),
    ("scale_hostd_rss_mib", "nvmf-hostd RSS", "MiB"),
    ("scale_nvmfd_rss_mib", "nvmfd RSS", "MiB"),
    ("scale_devlist_ms", "devlist", "ms"),
    ("scale_devlist_json_ms", "devlist -o json", "ms"),
    ("scale_reconnect_all_s", "nvmfd back -> all connected (median)", "s"),
    ("scale_reconnect_fastest_s", "  fastest restart", "s"),
    ("scale_reconnect_slowest_s", "  slowest restart", "s"),
    ("scale_reconnect_peak_per_100ms", "  most new associations in 100 ms", ""),
)


def report(fig, goals):
    lines = ["", "many controllers: %d" % fig.get("scale_controllers", 0)]
    for key, label, unit in FIGURES:
        if key in fig:
            lines.append("  %-40s %10.2f %s" % (label, fig[key], unit))
    for g in goals:
        lines.append("  %-56s %10s  %s" % (g["label"], g["goal"], g["status"]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="nvmf-hostd with many controllers")
    ap.add_argument("-n", type=int, default=1000, help="controllers (1000)")
    ap.add_argument("--delay", type=int, default=1, help="reconnect-delay, s (1)")
    ap.add_argument("--jitter", type=int, default=None,
                    help="nvmf-hostd --reconnect-jitter, ms (its default)")
    ap.add_argument("--restarts", type=int, default=RESTARTS,
                    help="nvmfd restarts, the median reported (%d)" % RESTARTS)
    ap.add_argument("--json", action="store_true", help="one JSON object")
    a = ap.parse_args()
    if a.restarts < 1:
        ap.error("--restarts must be at least 1")
    fig = measure(a.n, a.delay, a.jitter, a.restarts)
    goals = evaluate(fig)
    if a.json:
        print(json.dumps({"figures": fig, "goals": goals}, indent=1))
    else:
        print(report(fig, goals))
    return 0 if all(g["status"] == "holds" for g in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
