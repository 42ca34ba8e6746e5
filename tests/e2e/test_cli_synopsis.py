"""The command line cannot drift: for every command, the letters the parser accepts (probed),
the letters `nvmecontrol help CMD` shows and the letters nvmecontrol.8's SYNOPSIS shows are the
same; every command help lists has a SYNOPSIS entry and the other way round."""

import os
import re
import string
import subprocess

import pytest

from ctl_helpers import CTL, REPO

MAN = os.path.join(REPO, "nvmecontrol", "nvmecontrol.8")


def run(*args, env=None):
    e = dict(os.environ, NVMF_RUNDIR="/nonexistent/nvmf-synopsis", LIBNVME_HOSTNQN="nqn.x:y")
    e.update(env or {})
    return subprocess.run([CTL] + list(args), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=10, env=e)


def commands():
    out = run("help").stdout
    return re.findall(r"^  (\S+)\s{2,}", out.split("commands:", 1)[1], re.M)


def letters_in(text):
    """The letters of -X options and [-XYZ] flag clusters in a synopsis (nroff escapes
    removed); --long options and words-with-dashes are not letters."""
    text = text.replace("\\-", "-")
    found = set()
    for m in re.finditer(r"(?<![\w-])-([A-Za-z]+)", text):
        found |= set(m.group(1))
    return found


def man_synopsis():
    with open(MAN) as f:
        text = f.read()
    syn = text.split(".SH SYNOPSIS", 1)[1].split(".SH ", 1)[0]
    entries = {}
    for block in re.split(r"^\.br$|^\.PP$", syn, flags=re.M):
        m = re.search(r"^\.B nvmecontrol (\S+)$", block, re.M)
        if m:
            entries.setdefault(m.group(1), "")
            entries[m.group(1)] += block
    return entries


def parser_letters(cmd, tmp):
    accepted = set()
    for c in string.ascii_letters:
        if c == "h":
            continue
        r = run(cmd, "-" + c, env={"NVMF_NVME_CONFDIR": tmp})
        if "unknown option -%s" % c not in r.stderr:
            accepted.add(c)
    return accepted


def test_help_and_man_list_the_same_commands():
    man = set(man_synopsis())
    helped = set(commands())
    assert helped - man == set(), "in help, not in nvmecontrol.8's SYNOPSIS"
    assert man - helped == set(), "in nvmecontrol.8's SYNOPSIS, not in help"


@pytest.mark.parametrize("cmd", commands())
def test_letters_agree(cmd, tmp_path):
    usage = run("help", cmd).stdout
    assert usage.startswith("usage: nvmecontrol %s" % cmd), usage
    shown = letters_in(usage)
    man = letters_in(man_synopsis()[cmd])
    parsed = parser_letters(cmd, str(tmp_path))
    assert parsed == shown, "parser accepts %s, help shows %s" % (sorted(parsed), sorted(shown))
    assert man == shown, "nvmecontrol.8 shows %s, help shows %s" % (sorted(man), sorted(shown))
