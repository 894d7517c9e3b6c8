#!/usr/bin/env python3
"""Keeps the documentation true: links resolve, the flag table matches
`sessiond --helpfull`, and the `buf curl` transcripts still give the answers
they show.

Usage:
  docs_test.py links SOURCE_DIR
  docs_test.py flags SOURCE_DIR SESSIOND
  docs_test.py transcripts SOURCE_DIR SESSIOND BUF [--update] [DOC...]

links: every relative link in README.md, docs/*.md and client/*/README.md
  names a file that exists, and every #anchor a heading of its target.
flags: docs/operations.md's table lists every flag of service/server/
  config.cc exactly once, with the default sessiond itself reports.
transcripts: in README.md, docs/api-tour.md and docs/integrations.md (or
  the DOCs given), every fenced block line starting with `$ npx buf curl`
  is run, in order, against a fresh sessiond, and its output compared with
  the one shown. Ids, tokens and page tokens are volatile: the first time
  one appears in a shown answer it is mapped to the real one, which then
  replaces it in later commands.
  Times must be well-formed, and an expiry must lie as far after its
  creation as shown; cookie Max-Age may differ by a few seconds.
  --update rewrites the transcripts with this run's output instead.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

# --------------------------------------------------------------------- links

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def doc_files(root):
    files = ["README.md"]
    for folder in ["docs"] + [os.path.join("client", d)
                              for d in sorted(os.listdir(
                                  os.path.join(root, "client")))]:
        path = os.path.join(root, folder)
        if os.path.isdir(path):
            files += [os.path.join(folder, f) for f in sorted(os.listdir(path))
                      if f.endswith(".md")]
    return [f for f in files if os.path.isfile(os.path.join(root, f))]


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    found = set()
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_fence = not in_fence
            elif not in_fence and line.startswith("#"):
                found.add(slug(line.lstrip("#")))
    return found


def check_links(root):
    problems = []
    checked = 0
    for doc in doc_files(root):
        in_fence = False
        with open(os.path.join(root, doc), encoding="utf-8") as f:
            lines = f.readlines()
        for number, line in enumerate(lines, 1):
            if line.startswith("```"):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue  # http:, https:, mailto:
                checked += 1
                path, _, anchor = target.partition("#")
                full = (os.path.normpath(os.path.join(root, os.path.dirname(doc),
                                                      path))
                        if path else os.path.join(root, doc))
                if not os.path.exists(full):
                    problems.append(f"{doc}:{number}: {target}: no such file")
                elif anchor and full.endswith(".md") and \
                        anchor not in anchors(full):
                    problems.append(f"{doc}:{number}: {target}: no heading "
                                    f"#{anchor}")
    return checked, problems

# --------------------------------------------------------------------- flags

HELP_FLAG = re.compile(r"--(\w+) \(.*?\);\s+default: (.*?);", re.S)
TABLE_FLAG = re.compile(r"^\| `--(\w+)`(?:, `--(\w+)`)? \| ([^|]*) \|")


def help_defaults(sessiond):
    text = subprocess.run([sessiond, "--helpfull"], capture_output=True,
                          text=True, check=False).stdout
    # sessiond's own flags, from every file of service/server/ that has some
    # (config.cc, replica_flags.cc); the libraries' flags are not ours.
    sections = re.split(r"\n\s*Flags from ", "\n" + text)
    ours = "".join(s for s in sections
                   if re.match(r"\S*service/server/[^:\s]+:", s))
    defaults = {}
    for name, default in HELP_FLAG.findall(ours):
        if default.startswith('"') and default.endswith('"'):
            default = default[1:-1]
        defaults[name] = default
    return defaults


def check_flags(root, sessiond):
    defaults = help_defaults(sessiond)
    documented = {}
    problems = []
    with open(os.path.join(root, "docs", "operations.md"),
              encoding="utf-8") as f:
        for line in f:
            match = TABLE_FLAG.match(line)
            if not match:
                continue
            cell = match.group(3).strip()
            shown = re.match(r"`([^`]*)`", cell)
            value = shown.group(1) if shown else ""
            if not shown and not cell.startswith("none"):
                problems.append(f"--{match.group(1)}: default cell \"{cell}\" "
                                "is neither `value` nor none")
            for name in filter(None, match.group(1, 2)):
                if name in documented:
                    problems.append(f"--{name} is listed twice")
                documented[name] = value
    for name, default in sorted(defaults.items()):
        if name not in documented:
            problems.append(f"--{name} (default {default!r}) is missing from "
                            "docs/operations.md")
        elif documented[name] != default:
            problems.append(f"--{name}: docs say {documented[name]!r}, "
                            f"sessiond says {default!r}")
    for name in sorted(set(documented) - set(defaults)):
        problems.append(f"--{name} is documented but sessiond has no such "
                        "flag")
    return len(defaults), problems

# --------------------------------------------------------------- transcripts

DOC_ADDRESS = "127.0.0.1:50051"
VOLATILE = {"id", "token", "value", "nextPageToken", "exceptSessionId"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class Transcript:
    """One `$ command` and the output a doc shows for it."""

    def __init__(self, doc, line, command_lines, output_lines):
        self.doc = doc
        self.line = line
        self.command_lines = command_lines
        self.output_lines = output_lines


def parse_transcripts(path):
    """Returns (lines of the file, transcripts with their line spans)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    found = []
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_fence = not in_fence
            i += 1
            continue
        if in_fence and line.startswith("$ "):
            start = i
            command = [line]
            while command[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                command.append(lines[i])
            output = []
            i += 1
            while i < len(lines) and not lines[i].startswith("$ ") and \
                    not lines[i].startswith("```"):
                output.append(lines[i])
                i += 1
            found.append((start, i, Transcript(path, start + 1, command,
                                               output)))
            continue
        i += 1
    return lines, found


def seconds(timestamp):
    date = timestamp.rstrip("Z").split(".")[0]
    return time.mktime(time.strptime(date, "%Y-%m-%dT%H:%M:%S"))


class Mismatch(Exception):
    pass


def compare(shown, real, names, where="$"):
    """Compares a shown JSON answer with a real one, learning `names`."""
    if isinstance(shown, dict) and isinstance(real, dict):
        if set(shown) != set(real):
            raise Mismatch(f"{where}: fields {sorted(shown)} shown, "
                           f"{sorted(real)} now")
        for key in shown:
            compare_field(key, shown[key], real[key], names, f"{where}.{key}")
        if "createTime" in shown and "expireTime" in shown:
            if abs((seconds(shown["expireTime"]) - seconds(shown["createTime"]))
                   - (seconds(real["expireTime"]) - seconds(real["createTime"]))
                   ) > 1:
                raise Mismatch(f"{where}: lifetime differs from the one shown")
        return
    if isinstance(shown, list) and isinstance(real, list):
        if len(shown) != len(real):
            raise Mismatch(f"{where}: {len(shown)} items shown, {len(real)} "
                           "now")
        for n, (a, b) in enumerate(zip(shown, real)):
            compare(a, b, names, f"{where}[{n}]")
        return
    if shown != real:
        raise Mismatch(f"{where}: {shown!r} shown, {real!r} now")


def learn(shown, real, names, where):
    known = names.get(shown)
    if known is not None and known != real:
        raise Mismatch(f"{where}: {shown!r} stood for {known!r} before, now "
                       f"{real!r}")
    names[shown] = real


def compare_field(key, shown, real, names, where):
    if isinstance(shown, str) and isinstance(real, str):
        if key in VOLATILE and shown:
            learn(shown, real, names, where)
            return
        if key.endswith("Time"):
            if not TIME.match(real):
                raise Mismatch(f"{where}: {real!r} is not an RFC 3339 time")
            return
        if key == "setCookieHeader":
            age = re.compile(r"Max-Age=(\d+)")
            shown_age, real_age = age.search(shown), age.search(real)
            if not shown_age or not real_age or \
                    abs(int(shown_age.group(1)) - int(real_age.group(1))) > 5:
                raise Mismatch(f"{where}: Max-Age {real!r} vs {shown!r}")
            token = re.compile(r"=([^;]*);")
            shown_token = token.search(shown).group(1)
            real_token = token.search(real).group(1)
            if shown_token:
                learn(shown_token, real_token, names, where)
            if age.sub("", token.sub("=;", shown)) != \
                    age.sub("", token.sub("=;", real)):
                raise Mismatch(f"{where}: {real!r} vs {shown!r}")
            return
    compare(shown, real, names, where)


def learn_all(shown, real, names):
    """What an update learns: every volatile value whose place in the shown
    answer the real one still has, ignoring everything that changed."""
    if isinstance(shown, dict) and isinstance(real, dict):
        for key in set(shown) & set(real):
            a, b = shown[key], real[key]
            if isinstance(a, str) and isinstance(b, str):
                if key in VOLATILE and a:
                    names.setdefault(a, b)
                elif key == "setCookieHeader":
                    token = re.compile(r"=([^;]*);")
                    ma, mb = token.search(a), token.search(b)
                    if ma and mb and ma.group(1):
                        names.setdefault(ma.group(1), mb.group(1))
            else:
                learn_all(a, b, names)
    elif isinstance(shown, list) and isinstance(real, list):
        for a, b in zip(shown, real):
            learn_all(a, b, names)


def substitute(text, names):
    # Longest first, so a token is replaced before an id it starts with.
    for shown in sorted(names, key=len, reverse=True):
        text = text.replace(shown, names[shown])
    return text


def unsubstitute(text, names):
    for shown, real in sorted(names.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(real, shown)
    return text


class Sessiond:
    def __init__(self, binary, work):
        self.log = os.path.join(work, "sessiond.log")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [binary, "--listen=127.0.0.1:0", "--http_listen=127.0.0.1:0",
                 "--store=sqlite:" + os.path.join(work, "sessions.db")],
                stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(self.log) as f:
                match = re.search(r"serving on \S+ \(port (\d+)\)", f.read())
            if match:
                self.address = "127.0.0.1:" + match.group(1)
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("sessiond did not start:\n" + open(self.log).read())

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


def run_command(transcript, buf, address, names):
    text = "\n".join(transcript.command_lines)[2:]
    text = substitute(text, names).replace(DOC_ADDRESS, address)
    text = re.sub(r"^npx buf ", buf + " ", text)
    result = subprocess.run(["bash", "-c", text], capture_output=True,
                            text=True, timeout=60, check=False)
    return result.stdout + result.stderr


def check_output(transcript, output, address, names):
    shown = "\n".join(transcript.output_lines).strip()
    real = output.replace(address, DOC_ADDRESS).strip()
    try:
        shown_json = json.loads(shown) if shown else None
        real_json = json.loads(real) if real else None
    except json.JSONDecodeError:
        if shown != unsubstitute(real, names):
            raise Mismatch(f"shown:\n{shown}\nnow:\n{real}")
        return
    compare(shown_json, real_json, names)


def check_transcripts(root, sessiond, buf, docs, update):
    problems = []
    count = 0
    for doc in docs:
        path = os.path.join(root, doc)
        lines, transcripts = parse_transcripts(path)
        runnable = [t for t in transcripts
                    if t[2].command_lines[0].startswith("$ npx buf curl")]
        if not runnable:
            continue
        with tempfile.TemporaryDirectory() as work:
            server = Sessiond(sessiond, work)
            names = {}
            replacements = []
            try:
                for start, end, transcript in runnable:
                    count += 1
                    output = run_command(transcript, buf, server.address, names)
                    if update:
                        try:
                            learn_all(json.loads("\n".join(
                                transcript.output_lines)), json.loads(output),
                                names)
                        except json.JSONDecodeError:
                            pass
                        command = [substitute(line, names)
                                   for line in transcript.command_lines]
                        real = output.replace(server.address, DOC_ADDRESS)
                        replacements.append((start, end, command +
                                             real.rstrip("\n").split("\n")))
                        continue
                    try:
                        check_output(transcript, output, server.address, names)
                    except Mismatch as mismatch:
                        problems.append(f"{doc}:{transcript.line}: {mismatch}")
            finally:
                server.stop()
        if update:
            for start, end, new in reversed(replacements):
                lines[start:end] = new
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines))
    return count, problems


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    what, root = argv[1], argv[2]
    if what == "links":
        count, problems = check_links(root)
        noun = "links"
    elif what == "flags":
        count, problems = check_flags(root, argv[3])
        noun = "flags"
    elif what == "transcripts":
        rest = argv[5:]
        update = "--update" in rest
        docs = [d for d in rest if d != "--update"] or \
            ["README.md", os.path.join("docs", "api-tour.md"),
             os.path.join("docs", "integrations.md")]
        count, problems = check_transcripts(root, argv[3], argv[4], docs,
                                            update)
        noun = "commands"
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    if count == 0:
        print(f"FAIL: no {noun} found", file=sys.stderr)
        return 1
    print(f"docs_test {what}: {count} {noun} checked, {len(problems)} "
          "problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
