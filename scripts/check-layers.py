#!/usr/bin/env python3
"""Checks that the crate's modules depend on each other only as the layer table allows.

The table is the first ```text block of the `//!` docs at the top of src/lib.rs, one module
per line, top to bottom:

    config    settings from flags, env and TOML
    time      the injectable clock
    ...

A module may use the modules on the lines above it, never one on its own line's level
(sideways) or below. A name written `usecases/*` also seals its groups: a file of one group
(`src/usecases/carts.rs` or `src/usecases/carts/…`) may not use another group of the same
module (items of the module's own `mod.rs`, such as its error type, stay usable). A
description that starts with `[not a, b]` also forbids those modules above it (the adapters'
`[not store]`: they reach the database only through use cases).

Every `crate::…` path in every file of every top-level module counts, in `use` items
(including `use crate::{a, b::{c, d}}` groups and uses spread over several lines) and inline
(`crate::store::Store::connect(…)`); `super::` and `self::` paths are resolved against the
file's module (and its inline `mod … {}` blocks). Comments and string literals are ignored.
Every `mod` of lib.rs must be in the table, and every module of the table must exist.

Exit status 0 when everything is allowed; 1, with one line per forbidden edge naming the
file, the line and the edge, otherwise.

    python3 scripts/check-layers.py            # checks ./src
    python3 scripts/check-layers.py path/src   # another tree
"""

import os
import re
import sys

TOKEN = re.compile(r"::|[A-Za-z_][A-Za-z0-9_]*|\S", re.S)


def strip(text):
    """Blanks out comments and string/char literals, keeping line numbers (newlines) intact."""
    out = []
    i, n = 0, len(text)

    def blank(s):
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and not re.match(r"[A-Za-z0-9_]", text[i - 1] if i else " "):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + len(hashes) + 2)
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(blank(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i : j + 1]))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", text[i:]):
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            out.append(blank(m.group(0)))
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokens(text):
    """(token, line) pairs of code text."""
    line = 1
    pos = 0
    for m in TOKEN.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        yield m.group(0), line


def parse_tree(toks, i, prefix, out, line):
    """Parses a use tree after `prefix::`; appends full paths to `out`. Returns the next index."""
    if i >= len(toks):
        out.append((prefix, line))
        return i
    tok = toks[i][0]
    if tok == "{":
        i += 1
        while i < len(toks) and toks[i][0] != "}":
            if toks[i][0] == ",":
                i += 1
                continue
            if toks[i][0] == "self":
                out.append((prefix, toks[i][1]))
                i += 1
                continue
            i = parse_tree(toks, i, prefix, out, toks[i][1])
        return i + 1
    if tok == "*":
        out.append((prefix + ["*"], line))
        return i + 1
    if re.match(r"[A-Za-z_]", tok):
        path = prefix + [tok]
        if i + 1 < len(toks) and toks[i + 1][0] == "::" and i + 2 < len(toks):
            nxt = toks[i + 2][0]
            if nxt == "{" or nxt == "*" or re.match(r"[A-Za-z_]", nxt):
                return parse_tree(toks, i + 2, path, out, line)
        out.append((path, line))
        return i + 1
    out.append((prefix, line))
    return i


def crate_paths(text, file_module):
    """Every path into the crate named in `text`, resolved to absolute module paths, with lines.

    `file_module` is the file's module path (`["http", "user", "cart"]`)."""
    toks = list(tokens(strip(text)))
    paths = []
    mods = []  # stack of (name, brace depth at which its block opened)
    depth = 0
    i = 0
    while i < len(toks):
        tok, line = toks[i]
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            while mods and mods[-1][1] > depth:
                mods.pop()
        elif (
            tok == "mod"
            and i + 2 < len(toks)
            and re.match(r"[A-Za-z_]", toks[i + 1][0])
            and toks[i + 2][0] == "{"
        ):
            mods.append((toks[i + 1][0], depth + 1))
        elif tok in ("crate", "super", "self") and i + 1 < len(toks) and toks[i + 1][0] == "::":
            # Not part of a longer path (`a::crate` does not occur; `$crate` is a macro's).
            prev = toks[i - 1][0] if i else ""
            if prev == "::" or prev == "$":
                i += 1
                continue
            here = file_module + [m for m, _ in mods]
            if tok == "crate":
                base = []
            elif tok == "self":
                base = here
            else:
                base = here[:-1]
                j = i + 2
                # super::super::…
                while j + 1 < len(toks) and toks[j][0] == "super" and toks[j + 1][0] == "::":
                    base = base[:-1]
                    j += 2
                found = []
                nxt = parse_tree(toks, j, base, found, line)
                paths.extend(found)
                i = nxt
                continue
            found = []
            i = parse_tree(toks, i + 2, base, found, line)
            paths.extend(found)
            continue
        i += 1
    return paths


def read_table(lib_rs):
    """(ordered module names, sealed module names, {module: forbidden modules}) from the table
    in lib.rs's docs."""
    docs = []
    for raw in open(lib_rs, encoding="utf-8"):
        s = raw.strip()
        if not s.startswith("//!"):
            if s and docs:
                break
            continue
        docs.append(s[3:][1:] if s[3:].startswith(" ") else s[3:])
    order, sealed, forbidden, inside = [], set(), {}, False
    for d in docs:
        if d.strip().startswith("```"):
            if inside:
                break
            inside = d.strip() == "```text"
            continue
        if inside and d.strip():
            name = d.split()[0]
            if name.endswith("/*"):
                name = name[:-2]
                sealed.add(name)
            order.append(name)
            rest = d.split(None, 1)[1] if len(d.split(None, 1)) > 1 else ""
            m = re.match(r"\[not ([^\]]*)\]", rest)
            if m:
                forbidden[name] = {x.strip() for x in m.group(1).split(",") if x.strip()}
    if not order:
        sys.exit(f"{lib_rs}: no layer table (a ```text block in the //! docs at the top)")
    return order, sealed, forbidden


def lib_mods(lib_rs):
    text = strip(open(lib_rs, encoding="utf-8").read())
    return re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", text, re.M)


def module_files(src, name):
    """The files of a top-level module, with the module path of each."""
    files = []
    single = os.path.join(src, name + ".rs")
    if os.path.isfile(single):
        files.append((single, [name]))
    folder = os.path.join(src, name)
    for root, _, names in os.walk(folder):
        for f in sorted(names):
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            files.append((path, rel))
    return files


def groups_of(src, name):
    folder = os.path.join(src, name)
    if not os.path.isdir(folder):
        return set()
    out = set()
    for f in os.listdir(folder):
        if f.endswith(".rs") and f != "mod.rs":
            out.add(f[:-3])
        elif os.path.isdir(os.path.join(folder, f)):
            out.add(f)
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    lib_rs = os.path.join(src, "lib.rs")
    order, sealed, forbidden = read_table(lib_rs)
    rank = {m: i for i, m in enumerate(order)}
    errors = []
    declared = lib_mods(lib_rs)
    for m in declared:
        if m not in rank:
            errors.append(f"{lib_rs}: module `{m}` is not in the layer table")
    for m in order:
        if m not in declared:
            errors.append(f"{lib_rs}: the layer table names `{m}`, which lib.rs does not declare")
    edges = 0
    for m in declared:
        groups = groups_of(src, m) if m in sealed else set()
        for path, module in module_files(src, m):
            text = open(path, encoding="utf-8").read()
            for target, line in crate_paths(text, module):
                if not target or target[0] == "*":
                    continue
                to = target[0]
                where = f"{os.path.relpath(path)}:{line}"
                edges += 1
                if to == m:
                    if groups and len(module) > 1 and len(target) > 1:
                        mine, theirs = module[1], target[1]
                        if theirs in groups and theirs != mine and mine in groups:
                            errors.append(
                                f"{where}: `{m}::{mine}` uses `{m}::{theirs}` "
                                f"(groups of `{m}` never use one another)"
                            )
                    continue
                if to in forbidden.get(m, ()):
                    errors.append(
                        f"{where}: `{m}` uses `{'::'.join(target[:2])}`, which the layer table forbids "
                        f"`{m}` (`[not {to}]`)"
                    )
                elif to not in rank:
                    errors.append(f"{where}: `{m}` uses `crate::{to}`, which is not a module in the layer table")
                elif m in rank and rank[to] > rank[m]:
                    errors.append(
                        f"{where}: `{m}` uses `{'::'.join(target[:2])}`, but `{to}` is below `{m}` in the layer table"
                    )
    errors = list(dict.fromkeys(errors))  # one line per edge, even for `use a::{b, c}`
    for e in errors:
        print(e)
    if errors:
        print(f"check-layers: {len(errors)} forbidden edge(s) or table error(s) ({edges} paths read)")
        return 1
    print(f"check-layers: {len(declared)} modules, {edges} crate paths, all follow the layer table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
