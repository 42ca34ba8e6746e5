# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""The bash completion make writes from nvmecontrol's command table (build/completion/nvmecontrol):
loaded into a plain bash (no bash-completion package), its function is called as bash would, with
COMP_WORDS and COMP_CWORD set, and must offer the commands and options the table has."""

import os
import re
import subprocess

import pytest

from ctl_helpers import CTL, REPO

COMPLETION = os.path.normpath(os.path.join(os.path.dirname(CTL), "..", "completion", "nvmecontrol"))

CALL = r'''
source "$1" || exit 9
shift
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_nvmecontrol nvmecontrol "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''


def complete(*words):
    """What completing the last of words offers (bash splits --opt=value at '=')."""
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", CALL, "bash", COMPLETION] +
                       ["nvmecontrol"] + list(words),
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and r.stderr == "", r
    return set(r.stdout.split())


def ctl(*args):
    return subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=10,
                          stdin=subprocess.DEVNULL)


def commands():
    out = ctl("help").stdout
    return re.findall(r"^  (\S+)\s{2,}", out.split("commands:", 1)[1], re.M)


def options_of(cmd):
    """Every spelling `help CMD` lists: -x and --name."""
    out = ctl("help", cmd).stdout.partition("\noptions:\n")[2]
    found = set()
    for names in re.findall(r"^ {2,6}(-.*?)(?:  |$)", out, re.M):
        found |= set(re.findall(r"(?<![\w-])-\w\b|--[\w-]+", names))
    return found


def test_built_and_registered():
    assert os.path.isfile(COMPLETION), "make did not write %s" % COMPLETION
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                        'source "$1" && complete -p nvmecontrol', "bash", COMPLETION],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "complete -F _nvmecontrol nvmecontrol"


def test_command_prefix():
    assert complete("con") == {"connect", "connect-all"}


def test_long_option_prefix():
    assert complete("connect", "--tr") == {"--traddr", "--trsvcid", "--transport"}


def test_every_command_is_offered():
    offered = complete("")
    assert set(commands()) <= offered
    assert offered - set(commands()) == {"help", "version"}


def test_after_rundir_still_the_commands():
    assert complete("--rundir", "/tmp", "dis") == {"discover", "disconnect", "disconnect-all"}
    assert complete("--rundir", "=", "/tmp", "dev") == {"devlist"}


@pytest.mark.parametrize("cmd", commands())
def test_each_commands_options_are_the_tables(cmd):
    assert complete(cmd, "-") == options_of(cmd)


def test_values():
    assert complete("connect", "-t", "") == {"tcp"}
    assert complete("connect", "--transport", "=") == {"tcp"}
    assert complete("devlist", "-o", "") == {"normal", "json"}
    assert complete("get-log", "--output-format", "=", "b") == {"binary"}
    assert complete("connect", "-c", "d") == {"dynamic"}
    # A value the table names no choices for: nothing, rather than the options.
    assert complete("connect", "--hostnqn", "") == set()


def test_install_and_uninstall_name_it():
    dest = "share/bash-completion/completions/nvmecontrol"
    for target in ("install", "uninstall"):
        r = subprocess.run(["make", "-C", REPO, "--no-print-directory", "-n", target,
                            "PREFIX=/nonexistent/usr"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "/nonexistent/usr/" + dest in r.stdout, target
