#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""tests/deps/check-deps.py - `make check`'s suite "deps": scripts/install-deps.sh cannot drift.

Everything the build, the programs and the tests take from Debian is found in the tree and traced
to the Debian package that owns it here (dpkg -S); that package must be covered:

  * named in install-deps' PACKAGES list, or
  * in the Depends/Pre-Depends closure (over what is installed) of a listed TOOLCHAIN package:
    build-essential (gcc, libc6-dev, linux-libc-dev, libgcc-12-dev, binutils, make, ...),
    clang (its resource headers and runtimes), python3 (its standard library) and pkg-config
    (pkgconf): what a compiler or interpreter brings is not listed package by package, or
  * Essential: yes or Priority: required: every Debian 12 debootstrap --variant=minbase has it.

What is checked, one PASS/FAIL line each:
  include   every #include <...> of every .c/.h in the tree (build* dirs excepted), resolved along
            the compiler's own search path (cc -E -v, with the Makefile's -I and pkg-config
            --cflags); the files run-fuzz.sh compiles with clang also along clang's
  pkg-config  each module the Makefile asks pkg-config for: its .pc file
  library   each -lX of the Makefile, of pkg-config --libs and of run-fuzz.sh's clang line
            (cc -print-file-name), the sanitizer/libFuzzer runtimes -fsanitize= links, and
            each shared object a program dlopen()s, named by a #define X_SONAME "..." in a
            .c/.h (found in ldconfig's cache): no link line names those
  program   each external program in command position in the Makefile's recipes and $(shell),
            scripts/*.sh and tests/**/*.sh (heredoc bodies and the two scripts that run inside
            the qemu guest under busybox excepted), the argv[0] of subprocess calls and the
            names given to shutil.which()/need() in tests/e2e/*.py, absolute program paths in
            C string literals; programs a linked library runs itself (libfuse3: fusermount3).
            Resolved with PATH=/usr/sbin:/usr/bin:/sbin:/bin, the /usr-merged twin path tried too
  module    each module tests/e2e/*.py imports that is not one of its own (Debian's python3)
  declared  program:package pairs the scripts install on demand, and apt-get install's arguments
  listed    every package of the list is installed (install-deps ran and is not stale)
A header, library or program that resolves to nothing is a failure naming it.  The last line is
"deps: N passed, M failed"; the exit status is non-zero when something failed.  Root, no network.
"""
import ast
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
INSTALL_DEPS = "scripts/install-deps.sh"
DEBIAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
TOOLCHAINS = ("build-essential", "clang", "python3", "pkg-config")
CC = "cc"          # the Makefile's CC ?= cc
CLANG = "clang"    # run-fuzz.sh's CLANG=${CLANG:-clang}
# What run-fuzz.sh compiles with clang: the fuzz targets and the library with its headers.
CLANG_DIRS = ("tests/fuzz/", "lib/libnvmf/", "include/")
# Run inside the qemu guest by busybox (guest-init.sh is its /init, run.sh pastes host-scenario.sh
# into the guest's scenario): their commands are busybox applets and the nvme binary guest.sh
# copies from /usr/sbin/nvme, both of which guest.sh's own checks cover.
GUEST_SIDE = {"tests/linux/guest-init.sh", "tests/linux/host-scenario.sh"}
# Programs a library we link runs by itself (libfuse3 mounts and unmounts through fusermount3).
LIBRARY_HELPERS = {"fuse3": ["fusermount3"]}
# -fsanitize= names and the runtime each compiler links for them.
SANITIZER_RUNTIMES = {
    CC: {"address": "libasan.so", "undefined": "libubsan.so"},
    CLANG: {"address": "libclang_rt.asan-x86_64.a", "undefined": "libclang_rt.ubsan_standalone-x86_64.a",
            "fuzzer": "libclang_rt.fuzzer-x86_64.a"},
}

passed = 0
failed = 0


def out(ok, text):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print("%s %s" % ("PASS" if ok else "FAIL", text), flush=True)


def read(rel):
    with open(os.path.join(ROOT, rel), errors="replace") as f:
        return f.read()


def sh(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, **kw)


# ------------------------------------------------------------------ the list and the dpkg database
def listed_packages():
    m = re.search(r"^PACKAGES=\((.*?)^\)", read(INSTALL_DEPS), re.S | re.M)
    if not m:
        return []
    words = []
    for line in m.group(1).splitlines():
        words += line.split("#", 1)[0].split()
    return words


class Dpkg:
    def __init__(self):
        fmt = "${binary:Package}\t${db:Status-Abbrev}\t${Essential}\t${Priority}\t" \
              "${Pre-Depends}\t${Depends}\t${Provides}\n"
        self.pkgs = {}
        self.providers = {}
        for line in sh(["dpkg-query", "-W", "-f=" + fmt]).stdout.splitlines():
            f = line.split("\t")
            if len(f) < 7 or len(f[1]) < 2 or f[1][1] != "i":
                continue
            name = f[0].split(":")[0]
            self.pkgs[name] = {"essential": f[2] == "yes", "priority": f[3],
                               "depends": f[4] + "," + f[5]}
            for p in f[6].split(","):
                if p.strip():
                    self.providers.setdefault(p.split()[0].split(":")[0], set()).add(name)

    def installed(self, name):
        return name in self.pkgs

    def closure(self, start):
        seen, todo = set(), [start]
        while todo:
            p = todo.pop()
            if p in seen or p not in self.pkgs:
                continue
            seen.add(p)
            for group in self.pkgs[p]["depends"].split(","):
                for alt in group.split("|"):
                    if not alt.strip():
                        continue
                    name = alt.split()[0].split(":")[0]
                    todo += [name] if name in self.pkgs else []
                    todo += sorted(self.providers.get(name, ()))
        return seen


def usr_twin(p):
    for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"), ("/usr/lib/", "/lib/"),
                 ("/usr/lib64/", "/lib64/"), ("/usr/lib32/", "/lib32/")):
        if p.startswith(a):
            return b + p[len(a):]
        if p.startswith(b):
            return a + p[len(b):]
    return None


def candidates(path):
    """The path as used, its /usr-merged twin, then where its symlinks lead, and that's twin."""
    n, r = os.path.normpath(path), os.path.realpath(path)
    res = []
    for x in (n, usr_twin(n), r, usr_twin(r)):
        if x and x not in res:
            res.append(x)
    return res


def dpkg_owners(paths):
    """{path: [package, ...]} for every path dpkg knows, with one dpkg -S."""
    paths = sorted(set(paths))
    if not paths:
        return {}
    res = {}
    for line in sh(["dpkg", "-S"] + paths).stdout.splitlines():
        i = line.find(": /")
        if i < 0 or line.startswith("diversion "):
            continue
        res[line[i + 2:]] = [p.strip().split(":")[0] for p in line[:i].split(",")]
    return res


# ------------------------------------------------------------------ items
class Item:
    """One thing to check: a label, and a file path to trace or a reason it has none."""

    def __init__(self, kind, label, path=None, problem=None):
        self.kind, self.label, self.path, self.problem = kind, label, path, problem


ITEMS = []


def add(*a, **kw):
    ITEMS.append(Item(*a, **kw))


def source_files(exts):
    for dirpath, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(dirpath, ROOT)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and
                         not (rel == "." and d.startswith("build")))
        for f in sorted(files):
            if f.endswith(exts):
                yield os.path.relpath(os.path.join(dirpath, f), ROOT)


def makefile_text():
    text = read("Makefile").replace("\\\n", " ")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def pkgconfig_modules(mk):
    return sorted(set(re.findall(r"pkg-config\s+--(?:cflags|libs)\s+([A-Za-z0-9_.+-]+)", mk)))


def search_dirs(compiler, flags):
    p = sh([compiler, "-E", "-v", "-xc", "/dev/null"] + flags)
    dirs, on = [], False
    for line in p.stderr.splitlines():
        if line.startswith("#include <...> search starts here:"):
            on = True
        elif line.startswith("End of search list."):
            break
        elif on:
            dirs.append(os.path.join(ROOT, line.strip()))
    return dirs


def check_includes(mk):
    flags = sorted(set(re.findall(r"(?<!\S)-I\S+", mk)))
    for mod in pkgconfig_modules(mk):
        flags += sh(["pkg-config", "--cflags", mod]).stdout.split()
    headers = {}   # header -> (first file, needs clang)
    inc = re.compile(r"^[ \t]*#[ \t]*include[ \t]*<([^>\s]+)>", re.M)
    for rel in source_files((".c", ".h")):
        text = re.sub(r"/\*.*?\*/", " ", read(rel), flags=re.S)
        for h in inc.findall(text):
            first, clang = headers.get(h, (rel, False))
            headers[h] = (first, clang or rel.startswith(CLANG_DIRS))
    compilers = [(CC, "")] + [(CLANG, " [clang]")]
    dirs = {c: search_dirs(c, flags) for c, _ in compilers}
    for h in sorted(headers):
        first, clang = headers[h]
        for c, tag in compilers:
            if tag and not clang:
                continue
            label = "include <%s>%s" % (h, tag)
            if not dirs[c]:
                add("include", label, problem="%s gives no include search path (is %s installed?)" % (c, c))
                continue
            found = next((os.path.join(d, h) for d in dirs[c] if os.path.isfile(os.path.join(d, h))), None)
            if found is None:
                add("include", label, problem="resolves to no file (%s; %s search path: %s)" %
                    (first, c, " ".join(dirs[c])))
            else:
                add("include", label, path=found)


def lib_file(compiler, name, ldirs=()):
    for d in ldirs:
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    p = sh([compiler, "-print-file-name=" + name])
    f = p.stdout.strip()
    return f if p.returncode == 0 and f.startswith("/") and os.path.exists(f) else None


def check_dlopened():
    """Libraries loaded at run time (dlopen): each #define X_SONAME "libfoo.so.N"."""
    cache = {}
    for line in sh(["ldconfig", "-p"]).stdout.splitlines():
        m = re.match(r"\s*(\S+) \([^)]*\) => (\S+)", line)
        if m:
            cache.setdefault(m.group(1), m.group(2))
    for rel in source_files((".c", ".h")):
        for soname in re.findall(r'^#define\s+\w+_SONAME\s+"([^"]+)"', read(rel), re.M):
            label = "library %s (dlopen, %s)" % (soname, rel)
            if soname in cache:
                add("library", label, path=os.path.realpath(cache[soname]))
            else:
                add("library", label, problem="ldconfig -p does not list it")


def check_libraries(mk):
    libs = {}      # -lX -> (compiler, -L dirs)
    mods = pkgconfig_modules(mk)
    for mod in mods:
        pc = sh(["pkg-config", "--variable=pcfiledir", mod]).stdout.strip()
        if pc and os.path.isfile(os.path.join(pc, mod + ".pc")):
            add("pkg-config", "pkg-config %s" % mod, path=os.path.join(pc, mod + ".pc"))
        else:
            add("pkg-config", "pkg-config %s" % mod, problem="no %s.pc (pkg-config --variable=pcfiledir %s)" % (mod, mod))
        p = sh(["pkg-config", "--libs", mod])
        ldirs = [w[2:] for w in p.stdout.split() if w.startswith("-L")]
        for w in p.stdout.split():
            if w.startswith("-l"):
                libs.setdefault(w[2:], (CC, ldirs))
    for name in re.findall(r"(?<![\w-])-l([A-Za-z0-9_+.-]+)", mk):
        libs.setdefault(name, (CC, []))
    sanitizers = {CC: set(), CLANG: set()}
    for s in re.findall(r"-fsanitize=([a-z,-]+)", mk):
        sanitizers[CC].update(s.split(","))
    for rel in sorted(f for f in source_files((".sh",)) if f.startswith("scripts/")):
        for line in read(rel).splitlines():
            if re.search(r"\$\{?(CLANG|CC)\b|\b(clang|cc|gcc)\s", line.split("#", 1)[0]):
                for name in re.findall(r"(?<![\w-])-l([A-Za-z0-9_+.-]+)", line):
                    libs.setdefault(name, (CLANG if "CLANG" in line or "clang" in line else CC, []))
        for s in re.findall(r"-fsanitize=([a-z,-]+)", read(rel)):
            sanitizers[CLANG if "CLANG" in read(rel) else CC].update(s.split(","))
    for name in sorted(libs):
        compiler, ldirs = libs[name]
        f = lib_file(compiler, "lib%s.so" % name, ldirs) or lib_file(compiler, "lib%s.a" % name, ldirs)
        if f:
            add("library", "library -l%s" % name, path=f)
        else:
            add("library", "library -l%s" % name, problem="%s finds neither lib%s.so nor lib%s.a" % (compiler, name, name))
    for compiler in (CC, CLANG):
        for s in sorted(sanitizers[compiler]):
            rt = SANITIZER_RUNTIMES[compiler].get(s)
            if rt is None:
                continue
            label = "runtime %s (%s -fsanitize=%s)" % (rt, compiler, s)
            f = lib_file(compiler, rt)
            if f:
                add("library", label, path=f)
            else:
                add("library", label, problem="%s -print-file-name finds no %s" % (compiler, rt))
    check_dlopened()
    for mod, helpers in LIBRARY_HELPERS.items():
        if mod in mods or mod in libs:
            for prog in helpers:
                PROGRAMS.setdefault(prog, "run by lib%s" % mod)


# ------------------------------------------------------------------ programs: a small shell lexer
PROGRAMS = {}      # program name or absolute path -> where it is used (first place)
DECLARED = []      # (package, where): packages scripts install or declare on demand

BASH_WORDS = set(sh(["bash", "-c", "compgen -b; compgen -k"]).stdout.split()) | {"[[", "]]", "{", "}"}
ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
SEPARATORS = {";", "&&", "||", "|", "&", "\n", "(", ")", ";;", ";&", ";;&"}


class ShellLexer:
    """Words, operators and redirections of shell text; the text of each $(...), `...`, <(...)
    lexed on its own into self.streams; heredoc bodies skipped; comments dropped."""

    def __init__(self, text, first_line=1):
        self.s, self.n, self.line = text, len(text), first_line
        self.streams = []
        self.heredocs = []
        toks, _ = self.lex(0, None)
        self.streams.insert(0, toks)

    def balanced(self, i, open_, close):
        depth = 0
        while i < self.n:
            c = self.s[i]
            if c == "\\":
                i += 2
                continue
            if c == "'" and open_ != "{":
                j = self.s.find("'", i + 1)
                i = self.n if j < 0 else j + 1
                continue
            if c == "\n":
                self.line += 1
            if c == open_:
                depth += 1
            elif c == close:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return i

    def nested(self, i, stop):
        toks, i = self.lex(i, stop)
        self.streams.append(toks)
        return i

    def dollar(self, i, word):
        s = self.s
        if s.startswith("$((", i):
            j = self.balanced(i + 1, "(", ")")
            word.append(s[i:j])
            return j
        if s.startswith("$(", i):
            word.append("$(...)")
            return self.nested(i + 2, ")")
        if s.startswith("${", i):
            j = self.balanced(i + 1, "{", "}")
            word.append(s[i:j])
            return j
        word.append("$")
        return i + 1

    def skip_heredocs(self, i):
        for delim, strip in self.heredocs:
            while i < self.n:
                j = self.s.find("\n", i)
                j = self.n if j < 0 else j
                line = self.s[i:j]
                self.line += 1
                i = j + 1
                if (line.lstrip("\t") if strip else line) == delim:
                    break
        self.heredocs = []
        return i

    def lex(self, i, stop):
        s, toks, word, depth = self.s, [], None, 0

        def flush():
            nonlocal word
            if word is not None:
                toks.append(("W", "".join(word), self.line))
                word = None

        while i < self.n:
            c = s[i]
            if stop == "`" and c == "`":
                flush()
                return toks, i + 1
            if c == "\\":
                if s.startswith("\\\n", i):
                    self.line += 1
                else:
                    word = (word or []) + [s[i:i + 2]]
                i += 2
            elif c == "'":
                j = s.find("'", i + 1)
                j = self.n if j < 0 else j
                self.line += s.count("\n", i, j)
                word = (word or []) + [s[i:j + 1]]
                i = j + 1
            elif c == '"':
                word = (word or []) + ['"']
                i += 1
                while i < self.n and s[i] != '"':
                    if s[i] == "\\":
                        word.append(s[i:i + 2])
                        i += 2
                    elif s[i] == "$":
                        i = self.dollar(i, word)
                    elif s[i] == "`":
                        word.append("`...`")
                        i = self.nested(i + 1, "`")
                    else:
                        self.line += s[i] == "\n"
                        word.append(s[i])
                        i += 1
                word.append('"')
                i += 1
            elif c == "$":
                word = word or []
                i = self.dollar(i, word)
            elif c == "`":
                word = (word or []) + ["`...`"]
                i = self.nested(i + 1, "`")
            elif c == "#" and word is None:
                j = s.find("\n", i)
                i = self.n if j < 0 else j
            elif c == "\n":
                flush()
                toks.append(("O", "\n", self.line))
                self.line += 1
                i = self.skip_heredocs(i + 1) if self.heredocs else i + 1
            elif c in " \t":
                flush()
                i += 1
            elif c in ";&|":
                flush()
                for op in (";;&", ";;", ";&", "&&", "||", "|&", "&>>", "&>"):
                    if s.startswith(op, i):
                        break
                else:
                    op = c
                toks.append(("R" if op.startswith("&>") else "O", op, self.line))
                i += len(op)
            elif c == "(":
                if word is None and s.startswith("((", i):      # (( arithmetic )), for ((...))
                    j = self.balanced(i, "(", ")")
                    toks.append(("W", s[i:j], self.line))
                    i = j
                elif word is not None and "".join(word).endswith("="):
                    j = self.balanced(i, "(", ")")
                    word.append(s[i:j])
                    i = j
                else:
                    flush()
                    toks.append(("O", "(", self.line))
                    depth += 1
                    i += 1
            elif c == ")":
                flush()
                if depth == 0 and stop == ")":
                    return toks, i + 1
                depth -= 1
                toks.append(("O", ")", self.line))
                i += 1
            elif c in "<>":
                if s.startswith(("<(", ">("), i):
                    word = (word or []) + ["<(...)"]
                    i = self.nested(i + 2, ")")
                    continue
                if word is not None and "".join(word).isdigit():
                    word = None        # a file descriptor number: part of the redirection
                flush()
                if s.startswith("<<<", i):
                    toks.append(("R", "<<<", self.line))
                    i += 3
                elif s.startswith("<<", i):
                    strip = s.startswith("<<-", i)
                    i += 3 if strip else 2
                    m = re.compile(r"[ \t]*(['\"]?)([A-Za-z0-9_.-]+)\1").match(s, i)
                    if m:
                        self.heredocs.append((m.group(2), strip))
                        i = m.end()
                else:
                    j = i + 1
                    while j < self.n and s[j] in "<>|":
                        j += 1
                    if j < self.n and s[j] == "&":       # >&2, <&3, >&-: the target is here
                        j += 1
                        while j < self.n and (s[j].isdigit() or s[j] == "-"):
                            j += 1
                        toks.append(("R&", s[i:j], self.line))
                    else:
                        toks.append(("R", s[i:j], self.line))
                    i = j
            else:
                word = (word or []) + [c]
                i += 1
        flush()
        return toks, i


def unquote(w):
    if len(w) >= 2 and w[0] == w[-1] and w[0] in "'\"":
        return w[1:-1]
    return w


def word_values(w, variables):
    """The literal programs a command word can be: itself, or a variable's known values."""
    u = unquote(w)
    m = re.match(r"^\$\{?([A-Za-z_]\w*)(\[[@*]\])?\}?$", u)
    if m:
        return sorted(variables.get(m.group(1), ()))
    if any(ch in u for ch in "$`'\"*?[]{}\\=") or u.startswith("-"):
        return []
    return [u]


def shell_commands(words, variables, runners):
    """(kind, value) for one command's words: ("cmd", program), ("mention", program) for
    command -v, ("apt", package) for apt-get install, ("script", text) for sh -c."""
    while words:
        vals = word_values(words[0], variables)
        for v in vals:
            yield "cmd", v
        rest = words[1:]
        name = vals[0] if vals else ""
        if name in runners:                 # a function of the script that runs its arguments
            rest = rest[runners[name]:]
        elif name in ("exec", "nohup", "setsid", "builtin", "sudo", "nice", "stdbuf", "xargs"):
            while rest and rest[0].startswith("-"):
                rest = rest[1:]
        elif name == "command":
            if rest and rest[0] in ("-v", "-V"):
                for w in rest[1:]:
                    for v in word_values(w, variables):
                        yield "mention", v
                rest = []
        elif name == "timeout":
            while rest and rest[0].startswith("-"):
                rest = rest[2:] if rest[0] in ("-k", "-s", "--kill-after", "--signal") else rest[1:]
            rest = rest[1:]
        elif name == "env":
            while rest and (rest[0].startswith("-") or ASSIGN.match(rest[0])):
                rest = rest[1:]
        elif name == "ip" and rest[:2] == ["netns", "exec"]:
            rest = rest[3:]
        elif name in ("sh", "bash", "dash") and "-c" in rest[:-1]:
            script = rest[rest.index("-c") + 1]
            if script[:1] in "'\"" and script[-1:] == script[:1]:
                yield "script", script[1:-1]
            rest = []
        elif name == "apt-get" or re.match(r"^apt[_-]install$", name):
            sub = [w for w in rest if not w.startswith("-")]
            if name != "apt-get":
                sub = ["install"] + sub
            if sub and sub[0] == "install":
                for w in sub[1:]:
                    for v in word_values(w, variables):
                        yield "apt", v
            rest = []
        else:
            rest = []
        words = rest


def command_lists(toks):
    """[(words, line)] of the simple commands of one token stream, words[0] in command position;
    shell keywords, assignments, redirections, for-lists and case patterns left out."""
    commands, words, line = [], None, 0
    expect, skip_target, mode, cases = True, False, None, 0
    for kind, val, ln in toks:
        if skip_target:
            skip_target = False
            if kind == "W":
                continue
        if kind in ("R", "R&"):
            skip_target = kind == "R"
            continue
        if kind == "O":
            if mode == "pattern":
                if val == ")":
                    mode, expect = None, True
                continue
            if val in (";;", ";&", ";;&") and cases:
                mode = "pattern"
            if mode == "for" and val in (";", "\n"):
                mode = None
            if words:
                commands.append((words, line))
            words, expect = None, True
            continue
        if mode == "pattern":
            if val == "esac":
                cases, mode, expect = cases - 1, None, False
            continue
        if mode == "for":
            continue
        if mode == "case":
            if val == "in":
                mode, cases = "pattern", cases + 1
            continue
        if mode == "[[":
            if val == "]]":
                mode = None
            continue
        if words is not None:
            words.append(val)
            continue
        if not expect:
            continue
        if val in ("for", "select"):
            mode = "for"
        elif val == "case":
            mode = "case"
        elif val == "[[":
            mode = "[["
        elif val in ("then", "do", "else", "elif", "if", "while", "until", "!", "{", "}", "time",
                     "fi", "done") or ASSIGN.match(val):
            continue
        elif val == "esac":
            cases = max(cases - 1, 0)
        elif val in BASH_WORDS and val not in ("command", "exec", "builtin"):
            commands.append(([val], ln))     # a builtin: its arguments are no command
            expect = False
        else:
            words, line = [val], ln
    if words:
        commands.append((words, line))
    return commands


FUNC_HEAD = re.compile(r"^([ \t]*)(?:function[ \t]+)?([A-Za-z_][\w.:-]*)[ \t]*\(\)[ \t]*\{?", re.M)


def runner_functions(text):
    """{function: how many of its arguments it shifts away} for the script's functions that run
    their arguments as a command ("$@" in command position), e.g. run.sh's item NAME CMD..."""
    runners = {}
    for m in FUNC_HEAD.finditer(text):
        end = re.compile(r"^" + re.escape(m.group(1)) + r"\}", re.M).search(text, m.end())
        rest_of_line = text[m.end():text.find("\n", m.end())]
        body = rest_of_line if rest_of_line.rstrip().endswith("}") else \
            text[m.end():end.start() if end else len(text)]
        shifted = 0
        for toks in ShellLexer(body).streams[:1]:
            for words, _ in command_lists(toks):
                if words[0] == "shift":
                    shifted += int(words[1]) if len(words) > 1 and words[1].isdigit() else 1
                elif words[0] in ('"$@"', "$@"):
                    runners[m.group(2)] = shifted
                    break
    return runners


def shell_programs(text, rel, first_line=1):
    lexer = ShellLexer(text, first_line)
    functions = {m.group(2) for m in FUNC_HEAD.finditer(text)}
    runners = runner_functions(text)
    variables = {}
    for toks in lexer.streams:
        for kind, val, _ in toks:
            m = re.match(r"^([A-Za-z_]\w*)=(.*)$", val) if kind == "W" else None
            if not m:
                continue
            v = m.group(2)
            d = re.match(r"^\"?\$\{[A-Za-z_]\w*:-([^}$]+)\}\"?$", v)
            a = re.match(r"^\(\s*([^\s)]+)", v)
            lit = d.group(1) if d else a.group(1) if a else unquote(v)
            if NAME.match(lit) or lit.startswith("/"):
                variables.setdefault(m.group(1), set()).add(lit)
    for toks in lexer.streams:
        for words, ln in command_lists(toks):
            for kind, v in shell_commands(words, variables, runners):
                if kind == "apt":
                    DECLARED.append((v, "%s:%d, apt-get install" % (rel, ln)))
                elif kind == "script":
                    shell_programs(v + "\n", rel, ln)
                elif v in functions or v in BASH_WORDS or v.isdigit():
                    continue
                elif v.startswith("/"):
                    if re.match(r"^/(usr/)?s?bin/", v):
                        PROGRAMS.setdefault(v, "%s:%d" % (rel, ln))
                elif NAME.match(v):
                    PROGRAMS.setdefault(v, "%s:%d" % (rel, ln))
    # program:package pairs a script installs on demand (guest.sh's ensure_tools).
    for ln, line in enumerate(text.splitlines(), first_line):
        code = line.split("#", 1)[0]
        if "ensure_tools" in code or re.search(r"\bfor pair in\b", code):
            for prog, pkg in re.findall(r"(?<![\w$])([A-Za-z0-9_.+-]+):([a-z0-9][a-z0-9.+-]+)\b", code):
                PROGRAMS.setdefault(prog, "%s:%d" % (rel, ln))
                DECLARED.append((pkg, "%s:%d, for %s" % (rel, ln, prog)))


def makefile_programs():
    """The shell of every recipe line and of every $(shell ...), make's own functions removed."""
    raw = read("Makefile")
    defaults = {"CC": CC, "AR": "ar", "MAKE": "make", "RM": "rm -f"}
    for name, val in re.findall(r"^([A-Z_]+)\s*[?:]?=\s*(\S+)\s*$", raw, re.M):
        if NAME.match(val):
            defaults[name] = val

    def subst(text):
        text = text.replace("$$", "\x01").replace("$(shell ", "\x00(")
        text = re.sub(r"\$\(([A-Z_]+)\)", lambda m: defaults.get(m.group(1), "x"), text)
        prev = None
        while prev != text:
            prev, text = text, re.sub(r"\$\([^()]*\)|\$[@<^*?]", "x", text)
        return text.replace("\x00(", "$(").replace("\x01", "$")

    lines = raw.split("\n")
    i = 0
    while i < len(lines):
        first, line = i + 1, lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i]
        i += 1
        if line.startswith("\t"):
            shell_programs(subst(line.lstrip("\t").lstrip("@-+")) + "\n", "Makefile", first)
        elif not line.lstrip().startswith("#"):
            for m in re.finditer(r"\$\(shell\s+((?:[^()]|\([^()]*\))*)\)", line):
                shell_programs(subst(m.group(1)) + "\n", "Makefile", first)


SUBPROCESS_CALLS = {"run", "Popen", "check_output", "check_call", "call"}
ARGV_NAMES = {"argv", "cmd", "command", "args"}


def first_list(node):
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        node = node.left
    return node if isinstance(node, ast.List) else None


def python_programs(rel):
    tree = ast.parse(read(rel), rel)

    def lit(n):
        return n.value if isinstance(n, ast.Constant) and isinstance(n.value, str) else None

    def from_list(lst, ln):
        if lst is None or not lst.elts:
            return
        v = lit(lst.elts[0])
        if v and (NAME.match(v) or v.startswith("/")):
            PROGRAMS.setdefault(v, "%s:%d" % (rel, ln))
            if v == "ip" and len(lst.elts) > 4 and [lit(e) for e in lst.elts[1:3]] == ["netns", "exec"]:
                inner = lit(lst.elts[4])
                if inner:
                    PROGRAMS.setdefault(inner, "%s:%d" % (rel, ln))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if fname in SUBPROCESS_CALLS and node.args:
                from_list(first_list(node.args[0]), node.lineno)
            elif fname in ("which", "need"):
                for a in node.args:
                    if lit(a):
                        PROGRAMS.setdefault(lit(a), "%s:%d" % (rel, node.lineno))
            elif fname == "exec" and node.args and lit(node.args[0]) and NAME.match(lit(node.args[0])):
                PROGRAMS.setdefault(lit(node.args[0]), "%s:%d" % (rel, node.lineno))
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id in ARGV_NAMES for t in node.targets):
                from_list(first_list(node.value), node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.match(r"^/(usr/)?s?bin/[A-Za-z0-9_.+-]+$", node.value):
                PROGRAMS.setdefault(node.value, "%s:%d" % (rel, node.lineno))
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods.add(node.module.split(".")[0])
    return mods


def check_programs():
    makefile_programs()
    for rel in source_files((".sh",)):
        if (rel.startswith("scripts/") or rel.startswith("tests/")) and rel not in GUEST_SIDE:
            shell_programs(read(rel), rel)
    modules = set()
    py = sorted(f for f in source_files((".py",)) if f.startswith("tests/e2e/"))
    own = {os.path.basename(f)[:-3] for f in py}
    for rel in py:
        modules |= python_programs(rel)
    for rel in source_files((".c", ".h")):
        text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), read(rel), flags=re.S)
        for m in re.finditer(r"\"(/(?:usr/)?s?bin/[A-Za-z0-9_.+-]+)\"", text):
            PROGRAMS.setdefault(m.group(1), "%s:%d" % (rel, text.count("\n", 0, m.start()) + 1))
    for prog in sorted(PROGRAMS):
        where = PROGRAMS[prog]
        label = "program %s (%s)" % (prog, where)
        if prog.startswith("/"):
            path = prog if os.path.exists(prog) else None
        else:
            path = next((os.path.join(d, prog) for d in DEBIAN_PATH.split(":")
                         if os.access(os.path.join(d, prog), os.X_OK)
                         and os.path.isfile(os.path.join(d, prog))), None)
        if path:
            add("program", label, path=path)
        else:
            add("program", label, problem="not found in %s" % DEBIAN_PATH)
    # Debian's python3 (run-e2e.sh runs /usr/bin/python3), asked where each module comes from.
    modules = sorted(m for m in modules - own if m != "__future__")
    code = ("import importlib.util, sys\n"
            "for m in sys.argv[1:]:\n"
            "    try:\n"
            "        s = importlib.util.find_spec(m)\n"
            "    except Exception:\n"
            "        s = None\n"
            "    print(m, s.origin if s and s.origin else ('-' if s is None else 'built-in'))\n")
    p = sh(["/usr/bin/python3", "-I", "-c", code] + modules) if os.path.exists("/usr/bin/python3") else None
    origins = dict(line.split(" ", 1) for line in p.stdout.splitlines()) if p else {}
    for m in modules:
        o = origins.get(m, "-")
        if o in ("built-in", "frozen"):
            add("module", "module %s" % m, path="/usr/bin/python3")
        elif o.startswith("/"):
            add("module", "module %s" % m, path=o)
        else:
            add("module", "module %s" % m, problem="/usr/bin/python3 cannot import it")


# ------------------------------------------------------------------ verdicts
def main():
    os.chdir(ROOT)
    listed = listed_packages()
    out(bool(listed), "%s parsed: %d packages" % (INSTALL_DEPS, len(listed)))
    dpkg = Dpkg()
    toolchains = {t: dpkg.closure(t) for t in TOOLCHAINS if t in listed}

    def cover(pkgs):
        for p in pkgs:
            if p in listed:
                return p, "listed"
        for p in pkgs:
            for t, members in toolchains.items():
                if p in members:
                    return p, "via " + t
            info = dpkg.pkgs.get(p, {})
            if info.get("essential"):
                return p, "Essential"
            if info.get("priority") == "required":
                return p, "Priority: required"
        return (pkgs[0] if pkgs else None), None

    mk = makefile_text()
    with ThreadPoolExecutor(3) as ex:
        # Each check only appends to ITEMS/PROGRAMS; the programs wait for the libraries'
        # LIBRARY_HELPERS, so they run after them.
        a = ex.submit(check_includes, mk)
        b = ex.submit(check_libraries, mk)
        a.result()
        b.result()
    check_programs()

    owners = dpkg_owners(c for it in ITEMS if it.path and not it.path.startswith(ROOT + "/")
                         for c in candidates(it.path))
    used = set()
    for it in ITEMS:
        if it.problem:
            out(False, "%s: %s" % (it.label, it.problem))
            continue
        if it.path.startswith(ROOT + "/"):
            out(True, "%s -> this tree (%s)" % (it.label, os.path.relpath(it.path, ROOT)))
            continue
        pkgs = next((owners[c] for c in candidates(it.path) if c in owners), [])
        if not pkgs:
            out(False, "%s -> %s: no Debian package owns it (dpkg -S)" % (it.label, it.path))
            continue
        pkg, why = cover(pkgs)
        used.add(pkg)
        if why:
            out(True, "%s -> %s (%s)" % (it.label, pkg, why))
        else:
            out(False, "%s -> %s (not in %s)" % (it.label, pkg, INSTALL_DEPS))
    declared = {}
    for pkg, where in DECLARED:
        declared.setdefault(pkg, where)
    for pkg, where in sorted(declared.items()):
        used.add(pkg)
        _, why = cover([pkg])
        label = "declared %s (%s)" % (pkg, where)
        if why:
            out(True, "%s (%s)" % (label, why))
        else:
            out(False, "%s (not in %s)" % (label, INSTALL_DEPS))
    for pkg in listed:
        out(dpkg.installed(pkg), "listed %s %s" % (pkg, "installed" if dpkg.installed(pkg) else
                                                   "is not installed (run %s as root)" % INSTALL_DEPS))
    for pkg in listed:
        if pkg not in used and pkg not in toolchains:
            print("note: listed %s: no checked item traced to it" % pkg)
    print("deps: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
