# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""libnvmf as a library users link: installed with its header and pkg-config file, shared
(soname, versioned symbols: exactly the header's functions) and static, the example built
against the installed .pc reading a block nvmfd serves, and make uninstall taking it all away."""

import os
import re
import subprocess

import pytest

from conftest import REPO

HEADER = os.path.join(REPO, "include", "nvmf", "libnvmf.h")
EXAMPLE = os.path.join(REPO, "examples", "read_block.c")


MAP = os.path.join(REPO, "lib", "libnvmf", "libnvmf.map")


def map_versions():
    """Each function of libnvmf.map with the version node that lists it."""
    text = re.sub(r"/\*.*?\*/", "", open(MAP).read(), flags=re.S)
    versions = {}
    for node, body in re.findall(r"(LIBNVMF_[\d.]+)\s*\{(.*?)\}", text, flags=re.S):
        names = body.split("local:")[0].replace("global:", "")
        for name in re.findall(r"\b(nvmf_\w+);", names):
            versions[name] = node
    return versions


def header_functions():
    """The functions libnvmf.h declares (typedef'd callbacks are not functions)."""
    names = set()
    for line in open(HEADER):
        if line.startswith(("typedef", " ", "\t", "#", "/", "}")):
            continue
        m = re.search(r"\b(nvmf_\w+)\(", line)
        if m:
            names.add(m.group(1))
    return names


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """make install into a scratch root's /usr, whose libnvmf.pc then names it."""
    root = tmp_path_factory.mktemp("root")
    r = subprocess.run(["make", "-C", REPO, "--no-print-directory", "install"] + install_vars(root),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return root


def install_vars(root):
    return ["PREFIX=%s/usr" % root, "SYSCONFDIR=%s/etc" % root]


def pkg_config(root, *args):
    # The staged module first; what it requires (libisal) from the system.
    env = dict(os.environ, PKG_CONFIG_PATH=str(root / "usr" / "lib" / "pkgconfig"))
    r = subprocess.run(["pkg-config", *args, "libnvmf"], capture_output=True, text=True,
                       env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_installed_layout(staged):
    usr = staged / "usr"
    for daemon in ("nvmfd", "nvmf-hostd", "nvmf-devd", "nvmecontrol"):
        assert os.access(usr / "sbin" / daemon, os.X_OK), "%s not in sbin" % daemon
        assert not (usr / "bin" / daemon).exists(), "%s also in bin" % daemon
    lib = usr / "lib"
    assert os.readlink(lib / "libnvmf.so") == "libnvmf.so.1"
    assert os.readlink(lib / "libnvmf.so.1") == "libnvmf.so.1.5.0"
    assert (lib / "libnvmf.a").is_file()
    assert (usr / "include" / "nvmf" / "libnvmf.h").is_file()
    assert (usr / "share" / "man" / "man3" / "libnvmf.3").is_file()
    dyn = subprocess.run(["readelf", "-d", str(lib / "libnvmf.so.1.5.0")],
                         capture_output=True, text=True, check=True).stdout
    assert "Library soname: [libnvmf.so.1]" in dyn


def test_exports_exactly_the_header(staged):
    out = subprocess.run(["nm", "-D", "--defined-only", str(staged / "usr/lib/libnvmf.so.1.5.0")],
                         capture_output=True, text=True, check=True).stdout
    exported = {}
    for line in out.splitlines():
        name = line.split()[-1]
        if name.startswith("LIBNVMF_"):
            continue
        sym, _, version = name.partition("@")
        exported[sym] = version.lstrip("@")
    declared = header_functions()
    assert len(declared) > 40
    assert set(exported) == declared, (
        "exported but not declared: %s; declared but not exported: %s"
        % (sorted(set(exported) - declared), sorted(declared - set(exported))))
    # The 1.0 ABI stays LIBNVMF_1; what came later carries its own node.
    assert exported == map_versions(), sorted(
        (n, v, map_versions().get(n)) for n, v in exported.items() if map_versions().get(n) != v)
    assert "LIBNVMF_1" in exported.values()


def test_pkg_config_private_dependencies(staged):
    assert "-lnvmf" in pkg_config(staged, "--libs")
    static = pkg_config(staged, "--static", "--libs")
    assert "-lisal" in static and "-pthread" in static, static
    cflags = pkg_config(staged, "--cflags")
    assert "-I%s/usr/include" % staged in cflags, cflags


def build_example(staged, tmp_path, static):
    exe = tmp_path / ("read_block_static" if static else "read_block")
    cflags = pkg_config(staged, "--cflags")
    if static:
        # libnvmf itself from the archive, what it needs as the .pc says.
        libs = [("-l:libnvmf.a" if f == "-lnvmf" else f)
                for f in pkg_config(staged, "--static", "--libs")]
    else:
        libs = pkg_config(staged, "--libs")
    r = subprocess.run(["cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", EXAMPLE, *cflags,
                        "-o", str(exe), *libs], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return exe


@pytest.mark.parametrize("static", [False, True], ids=["shared", "static"])
def test_example_reads_a_block(staged, tmp_path, nvmfd, static):
    img = tmp_path / "disk.img"
    block = bytes((i * 7 + 3) & 0xff for i in range(512))
    with open(img, "wb") as f:
        f.write(bytes(512) * 5 + block + bytes(512) * 2042)
    t = nvmfd.start(str(img))
    exe = build_example(staged, tmp_path, static)
    env = dict(os.environ, LD_LIBRARY_PATH=str(staged / "usr" / "lib"))
    ldd = subprocess.run(["ldd", str(exe)], capture_output=True, text=True, env=env).stdout
    if static:
        assert "libnvmf" not in ldd, ldd
    else:
        assert str(staged / "usr/lib/libnvmf.so.1") in ldd, ldd
    r = subprocess.run([str(exe), "127.0.0.1", str(t.port), t.subnqn, "1", "5"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    assert bytes.fromhex(r.stdout.replace("\n", "")) == block
    # A namespace that does not exist: one line, exit 1.
    r = subprocess.run([str(exe), "127.0.0.1", str(t.port), t.subnqn, "9"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("read_block: "), r.stderr


def test_uninstall_leaves_nothing(staged, tmp_path):
    # A copy of the staged root, so the other tests keep theirs.
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(staged), str(root)], check=True)
    r = subprocess.run(["make", "-C", REPO, "--no-print-directory", "uninstall"] +
                       install_vars(root),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    left = [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]
    left += [os.path.join(d, f) for d, dirs, _ in os.walk(root) for f in dirs
             if os.path.islink(os.path.join(d, f))]
    assert left == [], left
