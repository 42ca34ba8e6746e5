# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""The Debian packages: make deb builds nvmf, libnvmf1 and libnvmf-dev with lintian reporting
no error; installed into a scratch root, they hold what each should, and the demo runs from the
installed programs and rules: connect, write and read back, the target killed and the held read
completed after nvmf-devd's rule reconnected."""

import glob
import os
import subprocess

import pytest

from conftest import REPO

pytestmark = pytest.mark.skipif(os.environ.get("NVMF_SANITIZED") == "1",
                                reason="packaging, not the daemons: once is enough")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = subprocess.run(["make", "-C", REPO, "--no-print-directory", "deb"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    debs = sorted(glob.glob(os.path.join(REPO, "build-deb", "*.deb")))
    names = {os.path.basename(d).split("_")[0] for d in debs}
    assert {"nvmf", "libnvmf1", "libnvmf-dev"} <= names, names
    root = tmp_path_factory.mktemp("root")
    for d in debs:
        if "-dbgsym" not in d:
            subprocess.run(["dpkg-deb", "-x", d, str(root)], check=True)
    return root


def contents(name):
    (deb,) = glob.glob(os.path.join(REPO, "build-deb", "%s_*.deb" % name))
    out = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[5].lstrip(".") for line in out.splitlines()]


def test_packages_hold_their_parts(root):
    nvmf, lib, dev = contents("nvmf"), contents("libnvmf1"), contents("libnvmf-dev")
    for daemon in ("nvmfd", "nvmf-hostd", "nvmf-devd", "nvmecontrol"):
        assert "/usr/sbin/%s" % daemon in nvmf
    assert "/lib/systemd/system/nvmf-hostd.service" in nvmf
    assert "/etc/nvmf/nvmf.conf" in nvmf and "/etc/nvmf/nvmfd/example.json" in nvmf
    assert any(p.endswith("/libnvmf.so.1.5.0") for p in lib)
    assert not any(p.endswith((".a", ".pc", ".h")) for p in lib)
    assert any(p.endswith("/pkgconfig/libnvmf.pc") for p in dev)
    assert "/usr/include/nvmf/libnvmf.h" in dev


def test_shared_library_dependency_declared():
    (deb,) = glob.glob(os.path.join(REPO, "build-deb", "libnvmf-dev_*.deb"))
    depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True,
                             text=True, check=True).stdout
    assert "libnvmf1 (= 1.5.0)" in depends, depends


def test_demo_runs_from_the_installed_package(root):
    env = dict(os.environ, NVMF_BIN=str(root / "usr" / "sbin"),
               NVMF_RULES=str(root / "etc" / "nvmf" / "nvmf.conf"), NVMF_DEMO_KERNEL="0")
    r = subprocess.run([os.path.join(REPO, "scripts", "demo.sh")], capture_output=True,
                       text=True, env=env, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert str(root / "usr/sbin/nvmecontrol") in out, "the demo did not use the package"
    assert "the held read completed: hello from nvmf" in out, out[-3000:]
    assert 'type=RECONNECTED name="nvme0"' in out, out[-3000:]
    # The installed rule ran the installed nvmecontrol, which reconnected.
    assert "action exited with status 0 (pid" in out, out[-3000:]
    assert "%s:7): nvmecontrol reconnect 'nvme0'" % (root / "etc/nvmf/nvmf.conf") in out
