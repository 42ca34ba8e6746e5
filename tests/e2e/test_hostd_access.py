# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Who may use a namespace file (issue 8): owned and moded like a block device.

DIR/dev/nvme0ns1 is root:disk 0660 by default (--owner, --group, --mode change
that) and the kernel holds everyone to it (FUSE default_permissions); the run
directory is 0755, dev/ opens to exactly the classes the files are open to,
nvmf.sock and devctl are root's. Each test runs nvmfd with a file of known
bytes, so what a refused user did not write can be checked where it would
have landed: in the target's file.
"""

import grp
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

from conftest import nvmfd  # noqa: F401
from ctl_helpers import HOSTD, Hostd, short_tempdir

NOBODY = 65534
TEST_GID = 4242         # a group no account needs to exist for: GIDs are numbers
SIZE = 4 * 1024 * 1024
PATTERN = bytes(range(256)) * (SIZE // 256)

# Runs as another user: opens the file for reading and for writing, reports errno
# (0: it opened), writes 4 KiB at offset 0 when it may, and reads 4 KiB back.
PROBE = r"""
import json, os, sys
path, payload = sys.argv[1], bytes.fromhex(sys.argv[2])
out = {}
for name, flags in (("read", os.O_RDONLY), ("write", os.O_WRONLY)):
    try:
        os.close(os.open(path, flags))
        out[name] = 0
    except OSError as e:
        out[name] = e.errno
try:
    os.listdir(os.path.dirname(path))
    out["list"] = 0
except OSError as e:
    out["list"] = e.errno
if payload and out["write"] == 0:
    fd = os.open(path, os.O_RDWR)
    os.pwrite(fd, payload, 0)
    os.fsync(fd)
    out["back"] = os.pread(fd, len(payload), 0).hex()
    os.close(fd)
print(json.dumps(out))
"""


def probe(path, uid, gid, groups=(), payload=b""):
    """What a process of uid/gid/groups may do with path (see PROBE)."""
    p = subprocess.run([sys.executable, "-c", PROBE, path, payload.hex()], user=uid,
                       group=gid, extra_groups=list(groups), capture_output=True, text=True,
                       timeout=30, cwd="/")
    assert p.returncode == 0, "probe as %d:%d%s failed:\n%s" % (uid, gid, list(groups),
                                                                 p.stderr)
    return json.loads(p.stdout)


@pytest.fixture
def stack(nvmfd):  # noqa: F811
    """stack(*hostd_args) -> (hostd, nvmfd target, image path, namespace path): nvmfd on a
    file of PATTERN, nvmf-hostd in DIR/run where DIR is 0755 (a run directory others can
    reach, as /run/nvmf), one controller connected."""
    made = []

    def make(*args):
        parent = short_tempdir("acc")
        os.chmod(parent, 0o755)
        image = os.path.join(parent, "disk.img")
        with open(image, "wb") as f:
            f.write(PATTERN)
        target = nvmfd.start(image)
        h = Hostd(os.path.join(parent, "run"), args)
        made.append((h, parent))
        r = h.ctl("connect", "127.0.0.1:%d" % target.port, target.subnqn)
        assert r.rc == 0, r
        return h, target, image, os.path.join(h.rundir, "dev", "nvme0ns1")

    yield make
    problems = []
    for h, parent in made:
        verdict = h.stop()
        if verdict:
            problems.append("%s\n--- nvmf-hostd log ---\n%s" % (verdict, h.log()[-3000:]))
        os.unlink(h.log_path)
        shutil.rmtree(parent, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def mode_of(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def disk_gid():
    try:
        return grp.getgrnam("disk").gr_gid
    except KeyError:
        pytest.fail("this machine has no group \"disk\"")


def test_default_is_root_disk_0660_and_a_stranger_gets_eacces(stack):
    h, target, image, path = stack()
    assert stat.S_ISREG(os.stat(path).st_mode)
    assert mode_of(path) == (0, disk_gid(), 0o660), "ls -l shows %r" % (mode_of(path),)
    dev = os.path.dirname(path)
    assert mode_of(dev) == (0, disk_gid(), 0o750)
    assert stat.S_IMODE(os.stat(h.rundir).st_mode) == 0o755
    for name in ("nvmf.sock", "devctl"):
        assert mode_of(os.path.join(h.rundir, name)) == (0, 0, 0o600), name

    # nobody, in no group: neither reads nor writes, nor lists dev/.
    got = probe(path, NOBODY, NOBODY, payload=b"\xee" * 4096)
    assert got == {"read": 13, "write": 13, "list": 13}, got
    # The reproducer, as it was run.
    r = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                        "--clear-groups", "dd", "if=/dev/zero", "of=" + path, "bs=4096",
                        "count=1", "conv=notrunc"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    # Nothing reached the target: its file, and the namespace as root reads it.
    with open(image, "rb") as f:
        assert f.read() == PATTERN, "the target's data changed"
    with open(path, "rb") as f:
        assert f.read(65536) == PATTERN[:65536]


def test_a_member_of_the_group_may_use_it(stack):
    h, target, image, path = stack("--group", str(TEST_GID))
    assert mode_of(path) == (0, TEST_GID, 0o660)
    assert mode_of(os.path.dirname(path)) == (0, TEST_GID, 0o750)
    block = os.urandom(4096)
    got = probe(path, NOBODY, NOBODY, groups=[TEST_GID], payload=block)
    assert got == {"read": 0, "write": 0, "list": 0, "back": block.hex()}, got
    with open(image, "rb") as f:
        assert f.read(4096) == block, "the member's write did not reach the target"
    # Outside the group the same user is still refused.
    assert probe(path, NOBODY, NOBODY) == {"read": 13, "write": 13, "list": 13}


def test_owner_group_and_mode_by_name(stack):
    owner, group = "nobody", grp.getgrgid(NOBODY).gr_name
    h, target, image, path = stack("--owner", owner, "--group", group, "--mode", "0640")
    assert mode_of(path) == (NOBODY, NOBODY, 0o640)
    assert mode_of(os.path.dirname(path)) == (NOBODY, NOBODY, 0o750)
    block = os.urandom(4096)
    assert probe(path, NOBODY, 12345, payload=block)["back"] == block.hex()
    # In the group: reads only. Anyone else: nothing.
    assert probe(path, 12345, NOBODY) == {"read": 0, "write": 13, "list": 0}
    assert probe(path, 12345, 12345) == {"read": 13, "write": 13, "list": 13}
    # The options decide, not chmod through the mount.
    with pytest.raises(PermissionError):
        os.chmod(path, 0o666)


@pytest.mark.parametrize("args,fragment", [
    (["--mode", "999"], "'999'"),
    (["--mode", "0o660"], "'0o660'"),
    (["--mode", "4755"], "'4755'"),
    (["--mode", "10660"], "'10660'"),
    (["--mode", ""], "--mode"),
    (["--owner", "no-such-user-nvmf"], "'no-such-user-nvmf'"),
    (["--owner", "-1"], "'-1'"),
    (["--owner", "4294967295"], "'4294967295'"),
    (["--owner", "12abc"], "'12abc'"),
    (["--group", "no-such-group-nvmf"], "'no-such-group-nvmf'"),
    (["--group", " 6"], "' 6'"),
])
def test_bad_owner_group_or_mode_is_one_line(args, fragment):
    parent = short_tempdir("acc")
    rundir = os.path.join(parent, "run")
    try:
        p = subprocess.run([HOSTD, "-d", "--rundir", rundir] + args, capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL)
        assert p.returncode == 2, p
        lines = p.stderr.splitlines()
        assert len(lines) == 1, p.stderr
        assert lines[0].startswith("nvmf-hostd: " + args[0] + ": "), lines
        assert fragment in lines[0], lines
        assert not os.path.exists(rundir), "a refused start-up created %s" % rundir
    finally:
        shutil.rmtree(parent, ignore_errors=True)
