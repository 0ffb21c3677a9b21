#!/usr/bin/env python3
"""Keeps code in the docs identical to the compiled examples.

A Markdown file marks a code block as a copy of a region of a source file:

    <!-- snippet: examples/producer/bulk_enqueue.cpp#bulk -->
    ```cpp
    ...the lines between the two `// [bulk]` markers, dedented...
    ```

usage: snippets.py check DOC...    fails (exit 1) if a block differs from its source
       snippets.py update DOC...   rewrites the blocks from their sources
Paths in markers are relative to the repository root (the parent of tests/).
"""
import os
import re
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARKER = re.compile(r"^<!-- snippet: (?P<path>[^#\s]+)#(?P<name>[\w-]+) -->$")


def region(path, name):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        lines = f.read().splitlines()
    tag = "// [%s]" % name
    idx = [i for i, line in enumerate(lines) if line.strip() == tag]
    if len(idx) != 2:
        raise SystemExit("%s: expected two '%s' lines, found %d" % (path, tag, len(idx)))
    return textwrap.dedent("\n".join(lines[idx[0] + 1:idx[1]])).strip("\n")


def process(doc, update):
    with open(doc, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, problems, i = [], [], 0
    while i < len(lines):
        out.append(lines[i])
        m = MARKER.match(lines[i].strip())
        i += 1
        if not m:
            continue
        if i >= len(lines) or not lines[i].startswith("```"):
            problems.append("%s: no code block after %s" % (doc, lines[i - 1]))
            continue
        fence = lines[i]
        end = i + 1
        while end < len(lines) and lines[end] != "```":
            end += 1
        current = "\n".join(lines[i + 1:end])
        wanted = region(m.group("path"), m.group("name"))
        if current != wanted:
            problems.append("%s: block %s#%s differs from the source"
                            % (doc, m.group("path"), m.group("name")))
        out.extend([fence] + wanted.split("\n") + ["```"])
        i = end + 1
    if update:
        with open(doc, "w", encoding="utf-8") as f:
            f.write("\n".join(out))
        return []
    return problems


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("check", "update"):
        raise SystemExit(__doc__)
    problems = []
    for doc in sys.argv[2:]:
        problems += process(doc, sys.argv[1] == "update")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("run: python3 tests/examples/snippets.py update %s" % " ".join(sys.argv[2:]),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
