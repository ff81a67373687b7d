#!/usr/bin/env python3
"""Turns bench/run's raw outputs into docs/BENCHMARKS.md and two PNG plots, and prints the tables.

    python3 bench/report.py RAW_DIR DOCS_DIR

RAW_DIR holds wrk's outputs (one file per variant and round), callgrind counts, RSS readings and machine.txt.
Medians over the rounds are reported. bench/analysis.md, written by hand from a run, is appended as it is.
"""
import re
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

raw, docs = Path(sys.argv[1]), Path(sys.argv[2])
here = Path(__file__).resolve().parent

FASTCGI = [
    ("nginx", "nginx `return 307` alone"),
    ("ours-keep", "oauth-forward-cgi, keep-alive"),
    ("c-keep", "C on libfcgi, keep-alive"),
    ("ours-close", "oauth-forward-cgi, no keep-alive"),
    ("c-close", "C on libfcgi, no keep-alive"),
    ("ours-auto-keep", "oauth-forward-cgi auto mode, keep-alive"),
]
CGI = [("ours", "oauth-forward-cgi (static)"), ("c", "C on libfcgi (dynamic)")]


def key_values(path):
    """'key rest of line' lines as a dict (a repeated key keeps the last)."""
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            values[key] = value
    return values


def milliseconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(path):
    text = path.read_text()
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "errors": 0,
    }
    for percent in ("50", "90", "99"):
        match = re.search(rf"\s{percent}%\s+(\S+)", text)  # only with --latency
        if match:
            result["p" + percent] = milliseconds(match.group(1))
    for match in re.finditer(r"(connect|read|write|timeout) (\d+)", text):
        result["errors"] += int(match.group(2))
    non3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    result["errors"] += int(non3xx.group(1)) if non3xx else 0
    extra = key_values(path)
    if "backend_cpu_ticks" in extra:
        ticks_to_us = 1e6 / float(extra["clk_tck"]) / result["requests"]
        result["backend_us"] = float(extra["backend_cpu_ticks"]) * ticks_to_us
        result["nginx_us"] = float(extra["nginx_cpu_ticks"]) * ticks_to_us
        switches = extra.get("backend_context_switches", "")
        result["switches"] = float(switches) / result["requests"] if switches.isdigit() else float("nan")
    return result


def medians(prefix, variants):
    """Per variant, the median of each figure over its rounds, and the rounds themselves."""
    results = {}
    for name, _ in variants:
        runs = [parse_wrk(p) for p in sorted(raw.glob(f"{prefix}-{name}-r*.txt"))]
        if not runs:
            continue
        merged = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "errors"}
        merged["errors"] = sum(r["errors"] for r in runs)
        merged["rounds"] = [r["rps"] for r in runs]
        merged["cpu_rounds"] = [r.get("backend_us", float("nan")) for r in runs]
        results[name] = merged
    return results


machine = key_values(raw / "machine.txt")
fastcgi = medians("fastcgi", FASTCGI)
cgi = medians("cgi", CGI)
counts = {k: int(v) for k, v in key_values(raw / "callgrind.txt").items() if v}
exec_cost = key_values(raw / "cgi-exec.txt")
memory_lines = (raw / "memory.txt").read_text().splitlines()


def rss(stage):
    return {line.split()[1]: int(line.split()[2]) for line in memory_lines if line.startswith(f"rss_{stage} ")}


served = {line.split()[0]: int(line.split()[1]) for line in memory_lines if len(line.split()) == 2}
rss_1k, rss_half, rss_1m = rss("1k"), rss("half"), rss("1m")


def ratio(a, b):
    return a / b if b else float("nan")


def verdict(met, amount):
    return ("met" if met else "**missed**") + f" ({amount})"


# ---- Ratios round by round, and verdicts that call a limit inside their spread a tie ----
def round_ratios(ours, c, key):
    """The ratio ours / C round by round (the rounds are interleaved: round i of each ran side by side)."""
    return [ratio(a, b) for a, b in zip(ours[key], c[key]) if b == b and a == a and b]


def spread_verdict(value, rounds, limit, below):
    """met, missed or a tie: a tie when the limit lies within the spread of the per-round ratios."""
    if not rounds:
        met = value <= limit if below else value >= limit
        return f"{value:.2f}x", verdict(met, f"{(value / limit - 1) * 100:+.0f}% from {limit:.2f}x")
    low, high = min(rounds), max(rounds)
    text = f"{value:.2f}x (rounds {low:.2f} to {high:.2f}x)"
    if low <= limit <= high:
        return text, f"tie (the limit {limit:.2f}x is inside the spread)"
    met = value <= limit if below else value >= limit
    return text, verdict(met, f"{(value / limit - 1) * 100:+.0f}% from {limit:.2f}x")


# ---- Targets ----
targets = []
for mode in ("keep", "close"):
    ours, c = fastcgi.get(f"ours-{mode}"), fastcgi.get(f"c-{mode}")
    label = "with keep-alive" if mode == "keep" else "without keep-alive"
    if ours and c:
        # The same rule as issue 22's table: a limit inside the rounds' spread is a tie.
        text, result = spread_verdict(ratio(ours["rps"], c["rps"]), round_ratios(ours, c, "rounds"), 1.0, False)
        targets.append((f"FastCGI throughput {label} >= C", text, result))
        p = ratio(ours["p99"], c["p99"])
        targets.append((f"FastCGI p99 {label} <= C", f"{ours['p99']:.2f} vs {c['p99']:.2f} ms ({p:.2f}x)",
                        verdict(p <= 1.0, f"{(p - 1) * 100:+.0f}%")))
if "ours" in counts and "c" in counts:
    r = ratio(counts["ours"], counts["c"])
    targets.append(("CGI instructions per request <= C", f"{counts['ours']:,} vs {counts['c']:,} ({r:.2f}x)",
                    verdict(r <= 1.0, f"{(r - 1) * 100:+.1f}%")))
if "ours" in cgi and "c" in cgi:
    text, result = spread_verdict(
        ratio(cgi["ours"]["rps"], cgi["c"]["rps"]), round_ratios(cgi["ours"], cgi["c"], "rounds"), 1.0, False)
    targets.append(("CGI throughput under Apache >= C", text, result))
if rss_1k and rss_1m:
    growth = max(rss_1m[pid] - rss_1k[pid] for pid in rss_1k if pid in rss_1m)
    enough = served.get("after_1m", 0) - served.get("after_1k", 0)
    if enough >= 999_000:
        result = verdict(growth < 1024, f"{growth / 1024:.2f} MiB")
    else:
        result = f"not measured: only {enough:,} requests in the time allowed"
    targets.append(("Worker RSS growth, 1k to 1M requests, < 1 MiB", f"{growth:+,} KiB (largest of the workers)",
                    result))

# ---- Targets of issue 22: CPU per request against C's, with the spread of the rounds ----
targets_22 = []
for mode in ("keep", "close"):
    ours, c = fastcgi.get(f"ours-{mode}"), fastcgi.get(f"c-{mode}")
    label = "with keep-alive" if mode == "keep" else "without keep-alive"
    if ours and c:
        rounds = round_ratios(ours, c, "cpu_rounds")
        if rounds:
            text, result = spread_verdict(ratio(ours["backend_us"], c["backend_us"]), rounds, 0.9, True)
            targets_22.append((f"Program CPU per request {label} <= 0.9x C",
                               f"{ours['backend_us']:.1f} vs {c['backend_us']:.1f} us: {text}", result))
        rounds = round_ratios(ours, c, "rounds")
        if rounds:
            text, result = spread_verdict(ratio(ours["rps"], c["rps"]), rounds, 1.0, False)
            targets_22.append((f"Requests/s {label} >= 1.0x C", text, result))
if "ours" in counts:
    targets_22.append(("CGI instructions, preset request, static binary <= 150,000", f"{counts['ours']:,}",
                       verdict(counts["ours"] <= 150_000, f"{(counts['ours'] / 150_000 - 1) * 100:+.1f}%")))

# ---- Tables ----
def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


fastcgi_rows = []
for name, label in FASTCGI:
    if name not in fastcgi:
        continue
    r = fastcgi[name]
    mode = "keep" if name.endswith("keep") else "close"
    c = fastcgi.get(f"c-{mode}")
    vs_c = f"{ratio(r['rps'], c['rps']):.2f}x" if c and name != "nginx" else "-"
    vs_nginx = f"{ratio(r['rps'], fastcgi['nginx']['rps']):.2f}x" if "nginx" in fastcgi else "-"
    cpu = f"{r['backend_us']:.1f}" if name != "nginx" else "-"
    switches = f"{r['switches']:.1f}" if name != "nginx" and r["switches"] == r["switches"] else "-"
    fastcgi_rows.append([label, f"{r['rps']:,.0f}", vs_c, vs_nginx, f"{r['p50']:.2f}", f"{r['p99']:.2f}", cpu, switches,
                         f"{r['nginx_us']:.1f}", r["errors"], " / ".join(f"{x:,.0f}" for x in r["rounds"])])
cgi_rows = []
for name, label in CGI:
    if name in cgi:
        r = cgi[name]
        cgi_rows.append([label, f"{r['rps']:,.0f}", f"{ratio(r['rps'], cgi['c']['rps']):.2f}x", f"{r['p50']:.2f}",
                         f"{r['p99']:.2f}", r["errors"], " / ".join(f"{x:,.0f}" for x in r["rounds"])])
callgrind_rows = [
    ["oauth-forward-cgi, static, preset", "code=abc123&state=<JWT>", counts.get("ours"), "ours"],
    ["C on libfcgi, dynamic", "code=abc123&state=<JWT>", counts.get("c"), "c"],
    ["C on libfcgi, static (reference only)", "code=abc123&state=<JWT>", counts.get("c-static"), "c-static"],
    ["oauth-forward-cgi, static, auto mode", "code=abc123&state=<JWT>", counts.get("ours-auto"), "ours-auto"],
    ["oauth-forward-cgi, static, preset, no oauth-forward-cgi.conf beside the script", "code=abc123&state=<JWT>",
     counts.get("ours-no-file"), "ours-no-file"],
    ["oauth-forward-cgi, static, target from oauth-forward-cgi.conf (suEXEC)", "code=abc123&state=<JWT>",
     counts.get("ours-file"), "ours-file"],
    ["oauth-forward-cgi, static, preset", "code=1&state=x", counts.get("ours-short"), "ours-short"],
    ["C on libfcgi, dynamic", "code=1&state=x", counts.get("c-short"), "c-short"],
]
callgrind_table = table(
    ["Program", "Query", "Instructions", "vs C (dynamic)", "task-clock per exec", "page faults per exec"],
    [[label, f"`{q}`", f"{n:,}" if n else "-",
      f"{ratio(n, counts['c' if 'short' not in key else 'c-short']):.2f}x" if n else "-",
      exec_cost.get(f"{key}_ms", "-") + (" ms" if f"{key}_ms" in exec_cost else ""),
      exec_cost.get(f"{key}_faults", "-")]
     for label, q, n, key in callgrind_rows])
MEMORY_HEADER = ["Worker pid", "start KiB", f"after {served.get('after_1k', 0):,} KiB",
                 f"after {served.get('after_half', 0):,} KiB", f"after {served.get('after_1m', 0):,} KiB",
                 "growth from 1k KiB", "growth from half-way KiB"]
memory_rows = []
for pid in rss_1k:
    start = rss("start").get(pid, 0)
    memory_rows.append([pid, f"{start:,}", f"{rss_1k[pid]:,}", f"{rss_half.get(pid, 0):,}",
                        f"{rss_1m.get(pid, 0):,}", f"{rss_1m.get(pid, 0) - rss_1k[pid]:+,}",
                        f"{rss_1m.get(pid, 0) - rss_half.get(pid, 0):+,}"])
c_rss = [line.split() for line in (raw / "c-rss.txt").read_text().splitlines()]
ours_rss = [line.split() for line in (raw / "ours-rss-after-throughput.txt").read_text().splitlines()]

routing_rows = []
if "ours" in counts and "ours-auto" in counts:
    routing_rows.append(["CGI, instructions per request", f"{counts['ours']:,}", f"{counts['ours-auto']:,}",
                         f"{ratio(counts['ours-auto'], counts['ours']):.2f}x"])
if "ours-keep" in fastcgi and "ours-auto-keep" in fastcgi:
    a, b = fastcgi["ours-keep"], fastcgi["ours-auto-keep"]
    routing_rows.append(["FastCGI, requests/s (keep-alive)", f"{a['rps']:,.0f}", f"{b['rps']:,.0f}",
                         f"{ratio(b['rps'], a['rps']):.2f}x"])
    routing_rows.append(["FastCGI, daemon CPU per request (us)", f"{a['backend_us']:.1f}", f"{b['backend_us']:.1f}",
                         f"{ratio(b['backend_us'], a['backend_us']):.2f}x"])
    routing_rows.append(["FastCGI, p99 (ms)", f"{a['p99']:.2f}", f"{b['p99']:.2f}", f"{ratio(b['p99'], a['p99']):.2f}x"])

# System calls per request, without and with keep-alive (strace -c over a short, slowed-down load).
def strace_counts(variant):
    path, wrk_out = raw / f"strace-{variant}.txt", raw / f"strace-{variant}-wrk.txt"
    if not path.exists() or not wrk_out.exists():
        return {}, 0
    requests = parse_wrk(wrk_out)["requests"]
    calls = {}
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[0][0].isdigit() and fields[-1] != "total":
            errors = int(fields[4]) if len(fields) == 6 else 0
            calls[fields[-1]] = (int(fields[3]), errors)
    return calls, requests


strace_ours, strace_ours_requests = strace_counts("ours-close")
strace_c, strace_c_requests = strace_counts("c-close")
strace_rows = []


def per_request(calls, requests, name):
    if name not in calls or not requests:
        return "-"
    count, errors = calls[name]
    return f"{count / requests:.2f}" + (f" ({errors / requests:.2f} failed)" if errors else "")


for name in sorted(set(strace_ours) | set(strace_c),
                   key=lambda n: -(strace_ours.get(n, (0, 0))[0] + strace_c.get(n, (0, 0))[0])):
    strace_rows.append([f"`{name}`", per_request(strace_ours, strace_ours_requests, name),
                        per_request(strace_c, strace_c_requests, name)])
strace_total = ["**all**",
                f"{sum(c for c, _ in strace_ours.values()) / max(strace_ours_requests, 1):.2f}",
                f"{sum(c for c, _ in strace_c.values()) / max(strace_c_requests, 1):.2f}"]
strace_keep_ours, strace_keep_ours_requests = strace_counts("ours-keep")
strace_keep_c, strace_keep_c_requests = strace_counts("c-keep")
strace_keep_rows = [
    [f"`{name}`", per_request(strace_keep_ours, strace_keep_ours_requests, name),
     per_request(strace_keep_c, strace_keep_c_requests, name)]
    for name in sorted(set(strace_keep_ours) | set(strace_keep_c),
                       key=lambda n: -(strace_keep_ours.get(n, (0, 0))[0] + strace_keep_c.get(n, (0, 0))[0]))
]
strace_keep_rows.append(["**all**",
                         f"{sum(c for c, _ in strace_keep_ours.values()) / max(strace_keep_ours_requests, 1):.2f}",
                         f"{sum(c for c, _ in strace_keep_c.values()) / max(strace_keep_c_requests, 1):.2f}"])
strace_keep_table = strace_keep_rows[:-1][:14] + strace_keep_rows[-1:]

# ---- Plots ----
docs.mkdir(parents=True, exist_ok=True)
colours = {"nginx": "#999999", "ours": "#f05138", "c": "#3b6ea8"}


def colour(name):
    return colours["nginx"] if name == "nginx" else colours["ours"] if name.startswith("ours") else colours["c"]


short = {"nginx": "nginx alone", "ours-keep": "ours\nkeep-alive", "c-keep": "C\nkeep-alive",
         "ours-close": "ours\nno keep-alive", "c-close": "C\nno keep-alive", "ours-auto-keep": "ours auto\nkeep-alive",
         "ours": "ours (static)", "c": "C (dynamic)"}
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 1]})
for axis, results, title in ((left, fastcgi, "FastCGI: wrk -> nginx -> program"),
                             (right, cgi, "CGI: wrk -> Apache mod_cgid")):
    names = list(results)
    bars = axis.bar([short[n] for n in names], [results[n]["rps"] for n in names], color=[colour(n) for n in names])
    axis.bar_label(bars, labels=[f"{results[n]['rps']:,.0f}" for n in names], fontsize=8)
    axis.set_title(title)
    axis.set_ylabel("requests per second (median of rounds)")
    axis.tick_params(axis="x", labelsize=8)
fig.suptitle(f"Throughput, {machine.get('nproc')} cores, {machine.get('date')}")
fig.tight_layout()
fig.savefig(docs / "bench-throughput.png", dpi=110)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 1]})
for axis, results, title in ((left, fastcgi, "FastCGI latency"), (right, cgi, "CGI latency")):
    names = list(results)
    positions = range(len(names))
    width = 0.38
    p50 = axis.bar([p - width / 2 for p in positions], [results[n]["p50"] for n in names], width, label="p50",
                   color=[colour(n) for n in names], alpha=0.55)
    p99 = axis.bar([p + width / 2 for p in positions], [results[n]["p99"] for n in names], width, label="p99",
                   color=[colour(n) for n in names])
    axis.bar_label(p50, labels=[f"{results[n]['p50']:.2f}" for n in names], fontsize=7)
    axis.bar_label(p99, labels=[f"{results[n]['p99']:.1f}" for n in names], fontsize=7)
    axis.set_xticks(list(positions), [short[n] for n in names], fontsize=8)
    axis.set_ylabel("milliseconds (pale: p50, solid: p99)")
    axis.set_title(title)
fig.suptitle("Latency as wrk measures it (median of rounds)")
fig.tight_layout()
fig.savefig(docs / "bench-latency.png", dpi=110)

# ---- The document ----
def code_block(name):
    path = raw / name
    return "```\n" + (path.read_text().rstrip() if path.exists() else "(not measured)") + "\n```"


uncommitted = (f", built with uncommitted changes to {machine['uncommitted']}" if machine.get("uncommitted")
               else "")
analysis = (here / "analysis.md").read_text().strip() if (here / "analysis.md").exists() else ""


def kept_block(name):
    """A part of the old BENCHMARKS.md that another script writes between <!-- NAME:begin --> and
    <!-- NAME:end --> (bench/day-two's table), put back as it was, so that the two scripts keep each other's work."""
    old = docs / "BENCHMARKS.md"
    found = re.search(rf"<!-- {name}:begin -->.*?<!-- {name}:end -->", old.read_text(), re.S) if old.exists() else None
    return found.group(0) + "\n\n" if found else ""


day_two = kept_block("day-two")
targets_table = table(["Target", "Measured", "Verdict"], targets)
doc = f"""# Benchmarks

Generated by `bench/run` ({machine.get('date')}, commit `{machine.get('commit')}`{uncommitted}). Every figure below comes from
one run, everything side by side on one machine, on loopback. Re-run with `bench/run`; the numbers will move
with the machine, the ratios much less.

## Machine

| | |
|---|---|
| CPU | {machine.get('cpu')}, {machine.get('nproc')} cores (`nproc`) |
| Memory | {machine.get('memory')} |
| Kernel | {machine.get('kernel')} |
| nginx | {machine.get('nginx')} |
| Apache | {machine.get('apache')} |
| Swift | {machine.get('swift')} |
| C compiler | {machine.get('gcc')} |
| libfcgi | {machine.get('libfcgi')} (Debian) |
| wrk | {machine.get('wrk')} |
| valgrind | {machine.get('valgrind')} |

Everything shares the {machine.get('nproc')} cores: wrk, nginx or Apache, and the program. The absolute numbers
say as much about wrk and nginx as about the program; the ratios are what the targets are about.

## Targets (issue 22)

A ratio is the median over the rounds; next to it, the lowest and the highest of the round-by-round ratios (round i
of each program ran side by side). When the limit lies within that spread, the run cannot tell: a tie.

{table(["Target", "Measured", "Verdict"], targets_22)}

## Targets (issue 6)

{targets_table}

## FastCGI: wrk -> nginx -> program

`wrk -t2 -c{machine.get('connections')} -d{machine.get('duration')}s --latency`, {machine.get('rounds')} rounds,
each round running every variant once in turn; medians shown, the per-round figures in the last column. nginx:
`worker_processes 2`, the same `server {{}}` for every variant, in `nginx.conf.example`'s style
(`fastcgi_split_path_info`, 32k FastCGI buffers, an access log without the query); with keep-alive that is
`keepalive 8; keepalive_timeout 4s;` in the `upstream` and `fastcgi_keep_conn on`, without it neither. Both
programs are started by `spawn-fcgi` on a unix socket with 32 threads in all: `oauth-forward-cgi serve --workers 2
--threads 16`, and `spawn-fcgi -F 2` of `bench/forward.c` with 16 threads per process. The query is a code and a
Junction Link Token as `state` (204 bytes). "CPU" is the CPU time (user + system) of the program's processes, or
of nginx's, per request, from `/proc/PID/stat`; context switches of the program's threads per request from
`perf stat -e context-switches -p PIDS` over the same run.

{table(["Variant", "Requests/s", "vs C", "vs nginx alone", "p50 ms", "p99 ms", "program CPU us/req",
        "program context switches/req", "nginx CPU us/req", "errors", "rounds (req/s)"], fastcgi_rows)}

![Throughput](bench-throughput.png)

![Latency](bench-latency.png)

System calls per request without keep-alive, all threads of the program's processes, counted by `strace -c -f`
over 3 s of the same load after the measured rounds ({strace_ours_requests:,} and {strace_c_requests:,} requests;
strace slows everything down, so only the counts mean anything):

{table(["System call", "oauth-forward-cgi per request", "C per request"], strace_rows[:14] + [strace_total])}

The same with upstream keep-alive ({strace_keep_ours_requests:,} and {strace_keep_c_requests:,} requests):

{table(["System call", "oauth-forward-cgi per request", "C per request"], strace_keep_table)}

## CGI: wrk -> Apache mod_cgid -> program

`wrk -t2 -c{machine.get('cgi_connections')} -d{machine.get('duration')}s --latency`, {machine.get('rounds')} rounds,
interleaved. Apache as `scripts/render-apache` writes it from `apache.conf.example` (event MPM, `-D
OAUTH_FORWARD_CGID`); the C program gets the same `ScriptAlias` and `<Location>` lines at `/c/oauth_callback`.
The release binary is `dist/oauth-forward-cgi` ({int(machine.get('binary_bytes', '0')):,} bytes, static). The C
program is built `{(raw / 'c-build.txt').read_text().strip()}` (dynamic: libc and libfcgi from Debian).
wrk's "errors" here are read errors: Apache closing a keep-alive connection that wrk had reused.

{table(["Program", "Requests/s", "vs C", "p50 ms", "p99 ms", "errors", "rounds (req/s)"], cgi_rows)}

### Instructions per CGI request (callgrind)

`env -i GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET PATH_INFO=/oura QUERY_STRING=... OAUTH_FORWARD_TARGET=...
valgrind --tool=callgrind PROGRAM </dev/null`; callgrind counts every instruction from the first one of the process
(the dynamic loader's included), deterministically. "task-clock" and "page faults" are `perf stat -r 200` of the
same command without valgrind: what the kernel's `execve` and page faults add, which callgrind does not see.

{callgrind_table}

The two shared-hosting rows (issue 14): a CGI request whose environment lacks a variable looks for
`oauth-forward-cgi.conf` beside `SCRIPT_FILENAME`. Without the file that is one failed `open`; with it, an `open`,
an `fstat` for the owner and mode checks, one `read` and the parse.

Where oauth-forward-cgi's instructions go (preset, `callgrind_annotate --inclusive=yes` on the unstripped twin of
the release binary, `.build-static/release/oauth-forward-cgi`, whose count differs by a few thousand):

{code_block('callgrind-ours-inclusive.txt')}

## Memory: a daemon worker's RSS

A fresh `serve --workers 2 --threads 16` behind the same nginx (keep-alive). VmRSS of each worker from
`/proc/PID/status` at start, after {served.get('after_1k', 0):,} requests (`ab -n 1000 -c 8 -k`, plus the start-up
check), and after {served.get('after_1m', 0):,} (wrk, {served.get('seconds', '?')} s), counted by the daemon's
own log lines.

{table(MEMORY_HEADER, memory_rows)}

For context, after the throughput runs above: oauth-forward-cgi's workers
{", ".join(f"{int(r[2]):,}" for r in ours_rss)} KiB; the C program's processes
{", ".join(f"{int(r[2]):,}" for r in c_rss)} KiB.

## State routing: `OAUTH_FORWARD_TARGET=auto` against a preset

The same query (a sandbox-us Link Token), the same binary; auto mode with
`OAUTH_FORWARD_ENVIRONMENTS=sandbox-us,production-us`.

{table(["Measure", "preset", "auto", "auto / preset"], routing_rows)}

Where auto mode's instructions go (`callgrind_annotate --inclusive=yes`):

{code_block('callgrind-auto-inclusive.txt')}

{day_two}## How to run it

```sh
bench/run                                   # this document and docs/bench-*.png, 5 rounds, about 11 minutes
BENCH_DURATION=30 bench/run                 # longer runs, about 30 minutes
BENCH_KEEP=1 bench/run                      # keep the raw wrk, callgrind and RSS outputs in /tmp/oafc-bench-*
bench/day-two                               # only the "Day two" table: reloads, restarts, crash records
```

It installs what it needs from Debian (wrk, valgrind, python3-matplotlib, apache2-utils, and the project's own
server packages), reuses `dist/oauth-forward-cgi` when it is newer than the sources (else runs
`scripts/build-release`), checks that the C program answers byte for byte what oauth-forward-cgi answers (20
requests, through `cgi-fcgi` and as CGI), then runs everything above on 127.0.0.1 and writes this file.
It keeps the "Day two" part as it finds it: `bench/day-two` writes that part alone, between its marker comments,
after building the code before issue 12 (`23d74fe`, in a temporary git worktree) and the working tree the same
way; about 2 minutes, plus the builds on a first run. Its header says what it runs.

{analysis}
"""
(docs / "BENCHMARKS.md").write_text(doc)

# ---- On the terminal ----
print(targets_table)
print()
print(table(["Variant", "Requests/s", "vs C", "vs nginx alone", "p50 ms", "p99 ms", "program CPU us/req",
             "program context switches/req", "nginx CPU us/req", "errors", "rounds (req/s)"], fastcgi_rows))
print()
print(table(["Program", "Requests/s", "vs C", "p50 ms", "p99 ms", "errors", "rounds (req/s)"], cgi_rows))
print()
print(callgrind_table)
print()
print(table(MEMORY_HEADER, memory_rows))
print()
print(table(["Measure", "preset", "auto", "auto / preset"], routing_rows))
print(f"\nwrote {docs / 'BENCHMARKS.md'}, {docs / 'bench-throughput.png'}, {docs / 'bench-latency.png'}")
