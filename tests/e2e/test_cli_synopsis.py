# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""The command line cannot drift: parsing, usage, help and the bash completion are all made from
nvmecontrol's one command table (nvmecontrol/commands.c); `nvmecontrol help --all` prints the
table's synopsis of every command, which must be nvmecontrol.8's SYNOPSIS word for word, and which
`help CMD` must show as its usage and back with its options list."""

import os
import re
import shlex
import subprocess

import pytest

from ctl_helpers import CTL, REPO

MAN = os.path.join(REPO, "nvmecontrol", "nvmecontrol.8")

# Macros whose arguments alternate fonts (joined without spaces), and those that join with spaces.
ALTERNATING = {".BR", ".RB", ".IR", ".RI", ".BI", ".IB"}
JOINED = {".B", ".I"}


def run(*args):
    e = dict(os.environ, NVMF_RUNDIR="/nonexistent/nvmf-synopsis", LIBNVME_HOSTNQN="nqn.x:y")
    return subprocess.run([CTL] + list(args), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=10, env=e)


def words(text):
    return " ".join(text.split())


def commands():
    out = run("help").stdout
    return re.findall(r"^  (\S+)\s{2,}", out.split("commands:", 1)[1], re.M)


def table_synopsis():
    """{command: [synopsis line, ...]} from `help --all`, one line each."""
    r = run("help", "--all")
    assert r.returncode == 0, r.stderr
    syn = {}
    for line in r.stdout.splitlines():
        m = re.match(r"nvmecontrol (\S+)", line)
        assert m, line
        syn.setdefault(m.group(1), []).append(words(line))
    return syn


def roff_text(lines):
    """The text of synopsis roff lines, as the reader sees it (fonts dropped)."""
    out = []
    for line in lines:
        if not line.startswith("."):
            out.append(line)
            continue
        macro, _, rest = line.partition(" ")
        args = shlex.split(rest.replace("\\", "\\\\"), posix=True)
        args = [a.replace("\\\\", "\\") for a in args]
        if macro in ALTERNATING:
            out.append("".join(args))
        elif macro in JOINED:
            out.append(" ".join(args))
        else:
            raise AssertionError("unexpected macro in SYNOPSIS: %s" % line)
    text = " ".join(out).replace("\\-", "-").replace("\\(em", "--")
    return words(text)


def man_synopsis():
    """{command: [synopsis line, ...]} from nvmecontrol.8 (entries split at .br/.PP)."""
    with open(MAN) as f:
        text = f.read()
    syn = text.split(".SH SYNOPSIS\n", 1)[1].split("\n.SH ", 1)[0]
    entries = {}
    for block in re.split(r"^\.br\n|^\.PP\n", syn, flags=re.M):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines or not re.match(r"^\.B nvmecontrol \S+$", lines[0]):
            continue
        cmd = lines[0].split()[2]
        entries.setdefault(cmd, []).append(roff_text(lines))
    return entries


def letters_in(text):
    """The letters of -X options and [-XYZ] flag clusters; --long options are not letters."""
    found = set()
    for m in re.finditer(r"(?<![\w-])-([A-Za-z]+)", text):
        found |= set(m.group(1))
    return found


def test_help_table_and_man_list_the_same_commands():
    man, table, helped = set(man_synopsis()), set(table_synopsis()), set(commands())
    assert helped == table, "help lists %s, help --all %s" % (sorted(helped), sorted(table))
    assert table - man == set(), "in the table, not in nvmecontrol.8's SYNOPSIS"
    assert man - table == set(), "in nvmecontrol.8's SYNOPSIS, not in the table"


@pytest.mark.parametrize("cmd", commands())
def test_man_synopsis_is_the_tables(cmd):
    assert man_synopsis()[cmd] == table_synopsis()[cmd]


@pytest.mark.parametrize("cmd", commands())
def test_usage_and_options_are_the_tables(cmd):
    out = run("help", cmd).stdout
    usage, _, options = out.partition("\noptions:\n")
    assert usage.startswith("usage: nvmecontrol %s" % cmd), out
    assert words(usage) == words("usage: " + " ".join(table_synopsis()[cmd]))
    # Every option with a letter appears in the synopsis (the operand forms included).
    listed = set(re.findall(r"^  -(\w),", options, re.M)) - {"h"}
    assert listed == letters_in(usage), options
    # And the parser takes each one the options list shows.
    for names in re.findall(r"^ {2,6}(-.*?)(?:  |$)", options, re.M):
        for name in re.findall(r"--[\w-]+", names):
            r = run(cmd, name + "=")
            assert "unknown option" not in r.stderr, (name, r.stderr)


def test_man_renders_what_the_test_reads():
    """The roff reader above against mandoc on one entry, so that the comparison is fair."""
    r = subprocess.run(["mandoc", "-Tascii", "-Owidth=400", MAN], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    plain = re.sub(r".\x08", "", r.stdout)
    for lines in man_synopsis().values():
        for line in lines:
            assert line in words(plain), line
