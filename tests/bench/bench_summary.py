#!/usr/bin/env python3
"""Turns the load results of tests/bench/run_benchmarks.sh into figures:
for each measure, the ratio of measure to reference in each round, their
median, spread (min-max) and the median's 95% confidence interval, and the
absolute figures behind them.

Usage:
  bench_summary.py settled RESULTS NAME [NAME...]
  bench_summary.py one RESULTS NAME MAIN
  bench_summary.py report RESULTS MICRO META OUT_JSON OUT_MD

RESULTS holds one JSON object a line, as run_benchmarks.sh writes them:
a load generator's result tagged with "measure", "role" (reference or
measure; for the curves, the mode) and "round" (for the curves, the
concurrency).

settled: exits 0 when, for a NAME, the 95% confidence interval of the
  median of its per-round ratios lies wholly on one side of its goal (of 1
  when it has none): the rounds say, with that confidence for a single
  look, on which side of the goal the figure lies (a caller that looks
  after every round, as rounds_until_settled does, is wrong more often).
  1 if for none. The interval narrows as rounds are added; min-max only
  widens, so it cannot be the test of "enough rounds".
one: prints the summary of measure NAME alone (a store of MAIN sessions)
  as JSON, for a run of one measure.
report: writes OUT_JSON (bench-results.json: one object per measurement,
  the curves, the micro-benchmarks, how and where it ran) and OUT_MD (the
  same figures as Markdown tables, for docs/performance.md), and prints the
  tables.
"""

import json
import math
import statistics
import sys

# What each measure is: a short name and a title (with {main}, {small},
# {largest}, {subject_size}, {revoke_size} filled in from META), the figure
# compared (rps: calls per
# second; p99_us: 99th percentile latency), the goal, and which rows it is
# made of (another measure's rounds, for figures drawn from the same runs).
MEASURES = [
    ("validate", "Validate", "ValidateSession, {main} sessions, vs baseline",
     "rps", (">=", 0.9), "validate"),
    ("validate_p99", "Validate p99",
     "ValidateSession p99 latency vs baseline's p99",
     "p99_us", ("<=", 1.2), "validate"),
    ("validate_metrics", "Validate, metrics on / off",
     "ValidateSession with metrics on (--http_listen) / off, {main} sessions",
     "rps", None, "validate_metrics"),
    ("validate_h2load", "Validate (h2load)",
     "ValidateSession vs baseline, h2load (one token replayed)",
     "rps", (">=", 0.9), "validate_h2load"),
    ("invalid", "Validate, unknown tokens",
     "ValidateSession of unknown tokens vs baseline", "rps", None,
     "invalid"),
    ("check", "Check / Validate",
     "Envoy ext_authz Check of a request with the session cookie / "
     "ValidateSession of the same tokens, {main} sessions",
     "rps", (">=", 0.8), "check"),
    ("create", "Create",
     "CreateSession, a new subject each, {main} sessions, vs baseline",
     "rps", (">=", 0.5), "create"),
    ("create_memory", "Create, memory store",
     "CreateSession on the memory store (nothing written), a new subject "
     "each, vs baseline: the most any store can give", "rps", None,
     "create_memory"),
    ("committed_ping", "Empty RPC, group commit",
     "The empty RPC answered after a group commit (1,400 bytes a call "
     "written and fdatasync()ed, answered from another thread, as "
     "sessiond's durable writes are) vs baseline: a reference for Create "
     "and Revoke, that shape with no session work", "rps", None,
     "committed_ping"),
    ("revoke", "Revoke",
     "RevokeSession, {revoke_size} sessions, vs baseline",
     "rps", (">=", 0.5), "revoke"),
    ("create_at_cap", "Create at the cap",
     "CreateSession, one subject at the cap (100; each evicts the oldest), "
     "vs baseline", "rps", None, "create_at_cap"),
    ("create_big_subject", "Create, subject of {subject_size}",
     "CreateSession for a subject holding {subject_size} sessions / for "
     "new subjects", "rps", (">=", 0.9), "create_big_subject"),
    ("mixed", "Mix 90/5/5",
     "90% validate, 5% create, 5% revoke vs baseline", "rps", None,
     "mixed"),
    ("validate_largest", "Validate {largest} / {small}",
     "ValidateSession at {largest} sessions / at {small}",
     "rps", (">=", 0.95), "validate_largest"),
    ("validate_largest_cpu", "Validate {largest} / {small}, per CPU second",
     "ValidateSession at {largest} sessions / at {small}, calls per second "
     "of sessiond's CPU (the same rounds)",
     "calls_per_cpu_s", (">=", 0.95), "validate_largest"),
]

# Figures for which the report says whether the rounds settled them.
SETTLING = ("validate_largest", "validate_largest_cpu")

# Bytes sessiond writes per call, from these measures' measure halves.
WRITTEN = [("create", "CreateSession"), ("revoke", "RevokeSession")]

PERCENTILES = ("p50_us", "p90_us", "p99_us", "p999_us")


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def paired_rounds(rows, name):
    """{round: {"reference": row, "measure": row}} of measure `name`."""
    by_round = {}
    for row in rows:
        if row.get("measure") == name and row.get("role") in ("reference",
                                                                "measure"):
            by_round.setdefault(row["round"], {})[row["role"]] = row
    return {r: pair for r, pair in by_round.items() if len(pair) == 2}


def ratios(rows, name, key):
    found = []
    for _, pair in sorted(paired_rounds(rows, name).items()):
        reference, measured = pair["reference"][key], pair["measure"][key]
        if reference:
            found.append(measured / reference)
    return found


def measure_named(name):
    for measure in MEASURES:
        if measure[0] == name:
            return measure
    return None


def median_interval(values, confidence=0.95):
    """A distribution-free confidence interval for the median of what the
    rounds sample: the k-th smallest and the k-th largest ratio, for the
    largest k with P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2 (the
    chance that fewer than k rounds fall below the true median). It assumes
    only that the rounds are independent draws. None when the rounds are too
    few for any interval at that confidence (under 6 at 95%)."""
    n = len(values)
    tail = (1 - confidence) / 2
    k, below = 0, 0.0
    for j in range(n):
        below += math.comb(n, j) / 2**n
        if below > tail:
            break
        k = j + 1
    if k == 0:
        return None
    ordered = sorted(values)
    return ordered[k - 1], ordered[n - k]


def settled(values, goal):
    """The median's confidence interval lies wholly on one side of the
    goal."""
    interval = median_interval(values)
    if interval is None:
        return False
    bound = goal[1] if goal else 1.0
    low, high = interval
    return low > bound or high < bound


def median_of(rows, key):
    values = [row[key] for row in rows if key in row]
    return statistics.median(values) if values else None


def meets(goal, value):
    if goal is None:
        return None
    op, bound = goal
    return value >= bound if op == ">=" else value <= bound


def summarize(rows, meta):
    sizes = {k: f"{meta[k]:,}" for k in ("main", "small", "largest",
                                         "subject_size", "revoke_size")}
    out = []
    for name, short, title, key, goal, source in MEASURES:
        values = ratios(rows, source, key)
        if not values:
            continue
        pairs = paired_rounds(rows, source).values()
        reference = [p["reference"] for p in pairs]
        measured = [p["measure"] for p in pairs]
        median = statistics.median(values)
        interval = median_interval(values)
        entry = {
            "name": name,
            "title": title.format(**sizes),
            "short": short.format(**sizes),
            "compares": key,
            "median_ratio": round(median, 3),
            "spread": [round(min(values), 3), round(max(values), 3)],
            "median_95ci": ([round(v, 3) for v in interval]
                            if interval else None),
            "rounds": len(values),
            "ratios": [round(v, 3) for v in values],
            "settled": settled(values, goal),
            "goal": f"{goal[0]} {goal[1]}x" if goal else None,
            "goal_met": meets(goal, median),
            "errors": sum(r.get("errors", 0) for r in measured),
            "ran_out_of_tokens": any(r.get("ran_out_of_tokens")
                                     for r in measured),
        }
        for role, group in (("reference", reference), ("measure", measured)):
            entry[role] = {
                "what": f"{group[0]['mode']} on {group[0]['label']}, "
                        f"{group[0]['generator']}, "
                        f"{group[0]['concurrency']} in flight",
                "median_rps": median_of(group, "rps"),
                "median_calls_per_cpu_s": median_of(group, "calls_per_cpu_s"),
                **{f"median_{p}": median_of(group, p) for p in PERCENTILES},
            }
        out.append(entry)
    return out


def written(rows):
    out = []
    for name, what in WRITTEN:
        per_call, log_per_call = [], []
        for pair in paired_rounds(rows, name).values():
            row = pair["measure"]
            calls = row["calls"] + row["errors"]
            if "server_wchar_bytes" in row and calls:
                per_call.append((row["server_wchar_bytes"] -
                                 row["server_log_bytes"]) / calls)
                log_per_call.append(row["server_log_bytes"] / calls)
        if per_call:
            out.append({
                "name": f"{name}_bytes_written",
                "title": f"bytes written by sessiond per {what} "
                         "(write(2)), log excluded",
                "median": round(statistics.median(per_call)),
                "spread": [round(min(per_call)), round(max(per_call))],
                "rounds": len(per_call),
                "log_bytes_per_call": round(statistics.median(log_per_call)),
            })
    return out


def curves(rows):
    out = []
    for row in rows:
        if row.get("measure") == "curve":
            out.append({k: row[k] for k in ("mode", "concurrency", "rps",
                                            *PERCENTILES, "errors")
                        if k in row})
    return out


def startup(rows):
    for row in rows:
        if row.get("measure") == "startup":
            return {
                "sessions": row["sessions"],
                "startup_ms": row["startup_ms"],
                "rss_bytes": row["rss_bytes"],
                "empty_rss_bytes": row["empty_rss_bytes"],
                "rss_bytes_per_session": round(
                    (row["rss_bytes"] - row["empty_rss_bytes"]) /
                    row["sessions"]),
            }
    return None


def x(value):
    """A ratio, with two significant digits at least (0.0023x, not 0.00x)."""
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def markdown(report):
    meta = report["run"]
    lines = [
        f"Command: `{meta['command']}`; {meta['date']}; commit "
        f"{meta['commit']}; {meta['machine']}; load average "
        f"{meta['loadavg_start']} at the start, {meta['loadavg_end']} at the "
        f"end; {meta['duration_s'] // 60} min {meta['duration_s'] % 60} s.",
        "",
        "| Measure | Median | Spread (min - max) | Median's 95% CI | Rounds "
        "| Absolute (medians) | Goal |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in report["measurements"]:
        ref, mes = m["reference"], m["measure"]
        if m["compares"] == "rps":
            absolute = (f"{mes['median_rps']:,.0f} vs "
                        f"{ref['median_rps']:,.0f} calls/s")
        elif m["compares"] == "calls_per_cpu_s":
            absolute = (f"{mes['median_calls_per_cpu_s']:,.0f} vs "
                        f"{ref['median_calls_per_cpu_s']:,.0f} calls per "
                        "CPU second")
        else:
            absolute = (f"{mes['median_p99_us']:,.0f} vs "
                        f"{ref['median_p99_us']:,.0f} us")
        if m["errors"]:
            absolute += f"; {m['errors']} calls failed"
        if m["ran_out_of_tokens"]:
            absolute += "; ran out of tokens"
        if m["name"] in SETTLING:
            absolute += ("; settled: the median's 95% CI excludes the goal"
                         if m["settled"] else
                         "; **not settled**: the median's 95% CI includes "
                         "the goal")
        ci = "too few rounds"
        if m["median_95ci"]:
            # Three decimals: whether it clears a goal such as 0.95x can
            # be in the third.
            ci = " - ".join(f"{v:.3f}x" for v in m["median_95ci"])
        goal = ""
        if m["goal"]:
            goal = m["goal"] + ("" if m["goal_met"] else ": **missed**")
        lines.append(f"| {m['title']} | {x(m['median_ratio'])} | "
                     f"{x(m['spread'][0])} - {x(m['spread'][1])} | "
                     f"{ci} | {m['rounds']} | {absolute} | {goal} |")
    for w in report["written"]:
        lines.append(f"| {w['title']} | {w['median']:,} bytes | "
                     f"{w['spread'][0]:,} - {w['spread'][1]:,} | | "
                     f"{w['rounds']} | log lines: {w['log_bytes_per_call']} "
                     f"bytes per call besides | |")
    s = report["startup"]
    if s:
        lines.append(f"| RSS per live session at {s['sessions']:,} | "
                     f"{s['rss_bytes_per_session']} bytes | | | 1 | "
                     f"{s['rss_bytes'] / 2**20:,.0f} MiB in all | <= 512 "
                     f"bytes{'' if s['rss_bytes_per_session'] <= 512 else ': **missed**'} |")
        lines.append(f"| startup with {s['sessions']:,} sessions, until it "
                     f"serves | {s['startup_ms'] / 1000:.1f} s | | | 1 | | "
                     f"<= 3 "
                     f"s{'' if s['startup_ms'] <= 3000 else ': **missed**'} |")
    modes = sorted({c["mode"] for c in report["curves"]})
    levels = sorted({c["concurrency"] for c in report["curves"]})
    if modes:
        lines += ["", "Calls per second by calls in flight (one run each):",
                  "", "| Mode | " + " | ".join(str(c) for c in levels) + " |",
                  "| --- |" + " --- |" * len(levels)]
        for mode in modes:
            cells = {c["concurrency"]: c["rps"] for c in report["curves"]
                     if c["mode"] == mode}
            name = "baseline (ping)" if mode == "ping" else mode
            lines.append(f"| {name} | " + " | ".join(
                f"{cells[c]:,.0f}" if c in cells else "" for c in levels)
                + " |")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) >= 4 and argv[1] == "settled":
        rows = load(argv[2])
        for name in argv[3:]:
            _, _, _, key, goal, source = measure_named(name)
            if settled(ratios(rows, source, key), goal):
                return 0
        return 1
    if len(argv) == 5 and argv[1] == "one":
        meta = {k: 0 for k in ("small", "largest", "subject_size",
                               "revoke_size")}
        meta["main"] = int(argv[4])
        found = [m for m in summarize(load(argv[2]), meta)
                 if m["name"] == argv[3]]
        print(json.dumps(found, indent=1))
        return 0 if found else 1
    if len(argv) == 7 and argv[1] == "report":
        rows = load(argv[2])
        with open(argv[3]) as f:
            micro = json.load(f).get("benchmarks", [])
        with open(argv[4]) as f:
            meta = json.load(f)
        report = {
            "run": meta,
            "measurements": summarize(rows, meta),
            "written": written(rows),
            "startup": startup(rows),
            "curves": curves(rows),
            "micro": micro,
            "raw": rows,
        }
        with open(argv[5], "w") as f:
            json.dump(report, f, indent=1)
        text = markdown(report)
        with open(argv[6], "w") as f:
            f.write(text)
        print(text)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
