# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Numbers on nvmecontrol's command lines: decimal, whatever they look like.

A leading zero is not octal: 127.0.0.1:04420 dials port 4420 (not 2320) and
-i 010 asks for 10 I/O queues (not 8). 0x prefixes, signs, blanks, trailing
text, values out of range and values that overflow 64 bits are refused: exit
status 2, the first line "nvmecontrol: invalid ..." naming the option and
the value, then the usage line, and nothing dialed.
"""

import pytest

from conftest import ADDR
from ctl_helpers import assert_usage_error, ctl, fake_hostd, rundir  # noqa: F401


def _fake_accepting(req):
    if req.get("op") == "list":
        return {"ok": True, "controllers": []}
    if req.get("op") == "handoff":
        return {"ok": True, "name": "nvme7", "namespaces": ["nvme7ns1"]}
    return {"ok": False, "code": "invalid", "error": "unexpected"}


def test_leading_zeros_are_decimal(nvmfd, fake_hostd):
    t = nvmfd.start()
    fake = fake_hostd(_fake_accepting)
    r = ctl("connect", "-i", "010", "-Q", "016", "-k", "030", "-r", "04", "-l", "040",
            "--fast-io-fail-tmo", "06", "%s:0%d" % (ADDR, t.port), t.subnqn,
            rundir=fake.rundir)
    assert r.rc == 0, r
    [(req, fds)] = fake.handoffs()
    c = req["controller"]
    assert c["trsvcid"] == str(t.port), c
    assert c["nr_io_queues"] == 10 and c["queue_size"] == 16, c
    assert c["kato_ms"] == 30000 and c["reconnect_delay"] == 4, c
    assert c["ctrl_loss_tmo"] == 40 and c["fast_io_fail_tmo"] == 6, c
    assert len(fds) == 11
    fake.close_fds()
    # nvme-cli's spelling of the port: passed on as the number it is.
    r = ctl("connect", "--traddr", ADDR, "--trsvcid", "00%d" % t.port, "--nqn", t.subnqn,
            rundir=fake.rundir)
    assert r.rc == 0, r
    assert fake.handoffs()[1][0]["controller"]["trsvcid"] == str(t.port)
    fake.close_fds()
    # The discovery port too.
    r = ctl("discover", "-o", "json", "%s:0%d" % (ADDR, t.dport), rundir=fake.rundir)
    assert r.rc == 0, r
    assert any(e["subnqn"] == t.subnqn for e in r.json()["records"]), r.out


NQN = "nqn.2024-01.io.x:y"
BAD = [
    # (argv, what the error line must name)
    (["connect", "-i", "0x2", "127.0.0.1:4420", NQN], "-i/--nr-io-queues"),
    (["connect", "-i", "2x", "127.0.0.1:4420", NQN], "-i/--nr-io-queues"),
    (["connect", "-i", " 2", "127.0.0.1:4420", NQN], "-i/--nr-io-queues"),
    (["connect", "-i", "+2", "127.0.0.1:4420", NQN], "-i/--nr-io-queues"),
    (["connect", "-i", "070", "127.0.0.1:4420", NQN], "-i/--nr-io-queues"),
    (["connect", "--nr-io-queues=18446744073709551618", "127.0.0.1:4420", NQN],
     "-i/--nr-io-queues"),
    (["connect", "-Q", "0x20", "127.0.0.1:4420", NQN], "-Q/--queue-size"),
    (["connect", "-Q", "1e3", "127.0.0.1:4420", NQN], "-Q/--queue-size"),
    (["connect", "-Q", "65536", "127.0.0.1:4420", NQN], "-Q/--queue-size"),
    (["connect", "-Q", "99999999999999999999999", "127.0.0.1:4420", NQN], "-Q/--queue-size"),
    (["connect", "-k", "0x10", "127.0.0.1:4420", NQN], "-k/--keep-alive-tmo"),
    (["connect", "-k", "10x", "127.0.0.1:4420", NQN], "-k/--keep-alive-tmo"),
    (["connect", "-k", "4294968s", "127.0.0.1:4420", NQN], "-k/--keep-alive-tmo"),
    (["connect", "-k", "99999999999999999999999ms", "127.0.0.1:4420", NQN],
     "-k/--keep-alive-tmo"),
    (["connect", "-r", "0x5", "127.0.0.1:4420", NQN], "-r/--reconnect-delay"),
    (["connect", "-r", "5.0", "127.0.0.1:4420", NQN], "-r/--reconnect-delay"),
    (["connect", "-r", "2147483648", "127.0.0.1:4420", NQN], "-r/--reconnect-delay"),
    (["connect", "-l", "0x5", "127.0.0.1:4420", NQN], "-l/--ctrl-loss-tmo"),
    (["connect", "-l", "-01", "127.0.0.1:4420", NQN], "-l/--ctrl-loss-tmo"),
    (["connect", "-l", "99999999999", "127.0.0.1:4420", NQN], "-l/--ctrl-loss-tmo"),
    (["connect", "--fast-io-fail-tmo", "0x1", "127.0.0.1:4420", NQN], "--fast-io-fail-tmo"),
    (["connect", "-c", "0x10", "127.0.0.1:4420", NQN], "-c/--cntlid"),
    (["connect", "-c", "65520", "127.0.0.1:4420", NQN], "-c/--cntlid"),
    (["connect", "-c", "99999999999999999999", "127.0.0.1:4420", NQN], "-c/--cntlid"),
    (["connect", "--trsvcid", "0x1144", "--traddr", "127.0.0.1", "--nqn", NQN], "--trsvcid"),
    (["connect", "--trsvcid", "65536", "--traddr", "127.0.0.1", "--nqn", NQN], "--trsvcid"),
    (["connect", "--trsvcid", "4420abc", "--traddr", "127.0.0.1", "--nqn", NQN], "--trsvcid"),
    (["connect", "127.0.0.1:0x1144", NQN], "port"),
    (["connect", "127.0.0.1:4420abc", NQN], "port"),
    (["connect", "127.0.0.1:+4420", NQN], "port"),
    (["connect", "127.0.0.1:99999999999999999999", NQN], "port"),
    (["connect", "[::1]:0x10", NQN], "port"),
    (["discover", "127.0.0.1:0x1f49"], "port"),
    (["discover", "--timeout", "0x5", "127.0.0.1"], "--timeout"),
    (["discover", "--timeout", "99999999999999999999999", "127.0.0.1"], "--timeout"),
    (["connect-all", "-i", "0x2", "127.0.0.1"], "-i/--nr-io-queues"),
    (["connect-all", "127.0.0.1:010x"], "port"),
    (["reconnect", "-i", "0x2", "nvme0"], "-i/--nr-io-queues"),
    (["reconnect", "-k", "1h0", "nvme0"], "-k/--keep-alive-tmo"),
    (["reconnect", "--trsvcid", "0x10", "nvme0"], "--trsvcid"),
    (["identify", "-n", "0x1", "nvme0"], "-n/--namespace-id"),
    (["identify", "-n", "4294967295", "nvme0"], "-n/--namespace-id"),
    (["identify", "-n", "99999999999999999999", "nvme0"], "-n/--namespace-id"),
]


def _value_of(argv, names):
    """The value as given: an address's port, or the argument of the option."""
    if names == "port":
        addr = next(a for a in argv[1:] if ":" in a and not a.startswith("nqn."))
        return addr.rsplit(":", 1)[1]
    spellings = names.split("/")
    for i, a in enumerate(argv):
        if a.startswith("--") and "=" in a and a.split("=", 1)[0] in spellings:
            return a.split("=", 1)[1]
        if a in spellings:
            return argv[i + 1]
    raise AssertionError("no value for %s in %r" % (names, argv))


@pytest.mark.parametrize("argv,names", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_number_is_one_line_naming_option_and_value(argv, names, rundir):
    r = ctl(*argv, rundir=rundir)
    assert_usage_error(r)
    line = r.err_lines[0]
    assert line.startswith("nvmecontrol: invalid "), line
    assert names in line, "%r does not name %r" % (line, names)
    given = _value_of(argv, names)
    assert "'%s'" % given in line, "%r does not quote %r" % (line, given)
    assert r.elapsed < 2, r
