# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Every manual page in the tree lints clean with mandoc -Tlint (no error, warning or style
note), so what `man` shows is what was written."""

import glob
import os
import subprocess

import pytest

from conftest import REPO

PAGES = sorted(glob.glob(os.path.join(REPO, "*", "*.[1-8]")) +
               glob.glob(os.path.join(REPO, "lib", "*", "*.[1-8]")) +
               glob.glob(os.path.join(REPO, "etc", "*.[1-8]")))


def test_pages_found():
    names = {os.path.basename(p) for p in PAGES}
    assert {"nvmfd.8", "nvmf-hostd.8", "nvmf-devd.8", "nvmecontrol.8", "libnvmf.3"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[os.path.relpath(p, REPO) for p in PAGES])
def test_page_lints_clean(page):
    r = subprocess.run(["mandoc", "-Tlint", page], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr
