#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The side-by-side benchmark suite (issue 6). Starts nginx on loopback (one worker,
keep-alive, a tiny body, a 16 KiB body, and a 100 ms endpoint from the echo module), then
runs each scenario for concurio-fetch and every installed peer, `--runs` times in
alternating order, and writes tools/bench/results/latest.md and bench.png.

  S1  20,000 tiny responses, C=64          S2  5,000 x 100 ms, C=500 (ideal 1.0 s)
  S3  200,000 tiny responses, C=256        mem peak RSS vs input length at C=256
  rate  100/s for 120 s: achieved rate and the busiest 1 s window (--rate-run)

Needs a build (tools/test.sh or tools/demo.sh) and Debian's nginx, curl; uses wrk, hey,
python3-aiohttp, gnuplot when installed (tools/bench/deps.sh installs them).
  threads  S1 with --threads 0, 1, 2 and the default, idle, beside a `yes` hog, and with
        the server pinned to its own CPU (--only threads; it is not in the default set)
  s2    where S2's time goes: start-up, first wave, later waves, exit (--only s2)
  rated  --threads 2 against 0 under -r 1000/s to 10000/s (--only rated)

Usage: tools/bench/run.py [--runs 3] [--only S1,S2,S3,mem,threads,s2,rated] [--rate-run] [--quick]
"""
import argparse
import datetime
import json
import os
import re
import socket
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build", "default")
FETCH = os.path.join(BUILD, "tools", "concurio-fetch")
RAW = os.path.join(BUILD, "tools", "bench-rawmulti")
SERVER = os.path.join(BUILD, "tests", "concurio-testserver")
AIOHTTP = os.path.join(ROOT, "tools", "bench", "aiohttp_fetch.py")
RESULTS = os.path.join(ROOT, "tools", "bench", "results")
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"


def have(cmd):
    return subprocess.run(["sh", "-c", "command -v " + cmd], capture_output=True).returncode == 0


def has_aiohttp():
    return subprocess.run(["/usr/bin/python3", "-c", "import aiohttp"], capture_output=True).returncode == 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    sys.exit("bench: %s does not answer" % url)


def start_nginx(tmp):
    port = free_port()
    with open(os.path.join(tmp, "16k"), "w") as f:
        f.write("x" * 16384)
    echo = os.path.exists(ECHO_MODULE)
    conf = """%s
worker_processes 1; daemon off; pid %s/nginx.pid; error_log %s/error.log warn;
events { worker_connections 8192; }
http {
  access_log off; keepalive_requests 10000000; keepalive_timeout 120s;
  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;
  uwsgi_temp_path %s; scgi_temp_path %s;
  server {
    listen 127.0.0.1:%d backlog=4096;
    location = /tiny { default_type text/plain; return 200 "ok"; }
    location = /16k { root %s; try_files /16k =404; }
    %s
  }
}
""" % ("load_module %s;" % ECHO_MODULE if echo else "", tmp, tmp, tmp, tmp, tmp, tmp, tmp, port,
       tmp, "location = /delay { echo_sleep 0.1; echo ok; }" if echo else "")
    path = os.path.join(tmp, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    proc = subprocess.Popen(["nginx", "-c", path, "-p", tmp], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    wait_http(base + "/tiny")
    return proc, base, echo


def start_testserver(tmp):
    out = open(os.path.join(tmp, "testserver.out"), "w+")
    proc = subprocess.Popen([SERVER, "--port", "0", "--quiet"], stdout=out)
    for _ in range(200):
        out.seek(0)
        m = re.search(r"listening on (\S+)", out.read())
        if m:
            return proc, m.group(1)
        time.sleep(0.05)
    sys.exit("bench: the test server did not start")


def url_file(tmp, url, n):
    path = os.path.join(tmp, "urls-%d-%d.txt" % (abs(hash(url)), n))
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write((url + "\n") * n)
    return path


def timed(cmd, stdin=None, shell=False, timeout=900):
    """Runs cmd under GNU time: wall seconds, peak RSS (KiB), CPU seconds, stdout."""
    tf = tempfile.NamedTemporaryFile(delete=False)
    tf.close()
    full = ["/usr/bin/time", "-f", "%e %M %U %S", "-o", tf.name]
    full += ["sh", "-c", cmd] if shell else cmd
    t0 = time.monotonic()
    p = subprocess.run(full, stdin=stdin, capture_output=True, text=True, timeout=timeout)
    wall = time.monotonic() - t0
    with open(tf.name) as f:
        fields = f.read().split()[-4:]
    os.unlink(tf.name)
    return {"wall": wall, "rss": int(fields[1]), "cpu": float(fields[2]) + float(fields[3]),
            "out": p.stdout + p.stderr}


# ---- the clients: each returns (measurement, requests that got a 200) -----------------

def run_fetch(tmp, url, n, c, extra=()):
    out = os.path.join(tmp, "records.jsonl")
    with open(url_file(tmp, url, n)) as f:
        m = timed([FETCH, "-q", "-c", str(c), "-o", out] + list(extra), stdin=f)
    with open(out) as f:
        ok = sum(1 for line in f if '"http_status":200' in line)
    return m, ok


def run_raw(tmp, url, n, c, extra=()):
    with open(url_file(tmp, url, n)) as f:
        m = timed([RAW] + list(extra) + [str(c)], stdin=f)
    return m, int(re.search(r"done=(\d+)", m["out"]).group(1))


def run_curl(tmp, url, n, c, extra=""):
    cfg = os.path.join(tmp, "curl-%d.cfg" % n)
    if not os.path.exists(cfg):
        with open(cfg, "w") as f:
            f.write(('url = "%s"\noutput = "/dev/null"\n' % url) * n)
    m = timed("curl -s --parallel --parallel-max %d %s -w '%%{http_code}\\n' -K %s" % (c, extra, cfg),
              shell=True)
    return m, m["out"].count("200\n")


def run_hey(tmp, url, n, c):
    m = timed(["hey", "-n", str(n), "-c", str(c), url])
    found = re.search(r"\[200\]\s+(\d+) responses", m["out"])
    return m, int(found.group(1)) if found else 0


def run_aiohttp(tmp, url, n, c, rate=None):
    cmd = ["/usr/bin/python3", AIOHTTP, str(c), url_file(tmp, url, n)] + ([str(rate)] if rate else [])
    m = timed(cmd)
    return m, int(re.search(r"done=(\d+)", m["out"]).group(1))


def run_xargs(tmp, url, n, c):
    m = timed("xargs -P %d -n 1 curl -s -o /dev/null -w '%%{http_code}\\n' < %s"
              % (c, url_file(tmp, url, n)), shell=True)
    return m, m["out"].count("200\n")


SKIP = set()  # --skip: clients left out of every scenario


def clients(skip=()):
    one = lambda tmp, url, n, c: run_fetch(tmp, url, n, c, ["--threads", "0"])
    table = [("concurio-fetch", run_fetch, True), ("concurio-fetch, 1 thread", one, True),
             ("raw multi, handles reused", run_raw, True),
             ("raw multi, new handle each", lambda tmp, url, n, c: run_raw(tmp, url, n, c, ["--new-handles"]),
              True),
             ("floor: raw, sockets kept", lambda tmp, url, n, c: run_raw(tmp, url, n, c, ["--floor"]), True),
             ("curl --parallel", run_curl, have("curl")), ("hey", run_hey, have("hey")),
             ("aiohttp + Semaphore", run_aiohttp, has_aiohttp()),
             ("xargs -P curl", run_xargs, have("curl"))]
    return [(name, fn) for name, fn, ok in table if ok and name not in skip and name not in SKIP]


def wrk_ceiling(url, c):
    if not have("wrk"):
        return None
    p = subprocess.run(["wrk", "-t", "1", "-c", str(c), "-d", "5s", url], capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    return float(m.group(1)) if m else None


def med(values):
    return statistics.median(values)


def scenario(tmp, name, url, n, c, runs, skip=(), ideal=None):
    cs = clients(skip)
    got = {cname: [] for cname, _ in cs}
    for r in range(runs):
        order = cs if r % 2 == 0 else list(reversed(cs))
        for cname, fn in order:
            m, ok = fn(tmp, url, n, c)
            m["ok"] = ok
            got[cname].append(m)
            print("  %s %-22s %6.2f s %7.1f MiB ok=%d" % (name, cname, m["wall"], m["rss"] / 1024, ok),
                  flush=True)
    rows = []
    for cname, ms in got.items():
        rates = [n / m["wall"] for m in ms]
        rows.append({"client": cname, "rate": med(rates), "rmin": min(rates), "rmax": max(rates),
                     "wall": med([m["wall"] for m in ms]), "rss": med([m["rss"] for m in ms]) / 1024,
                     "cpu": med([m["cpu"] for m in ms]), "ok": min(m["ok"] for m in ms)})
    best = max(r["rate"] for r in rows)
    raw = next((r["rate"] for r in rows if r["client"] == "raw multi, handles reused"), None)
    lines = ["### %s: %d requests, C=%d%s" % (name, n, c, "" if ideal is None else
                                                ", ideal makespan %.2f s" % ideal), "",
             "| client | req/s (median) | min–max | wall s | %s | peak RSS MiB | CPU s | CPU µs/req | x raw | x best | 200s |"
             % ("x ideal" if ideal else "–"), "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: -r["rate"]):
        lines.append("| %s | %.0f | %.0f–%.0f | %.2f | %s | %.1f | %.2f | %.1f | %s | %.2f | %d |" % (
            r["client"], r["rate"], r["rmin"], r["rmax"], r["wall"],
            "%.2f" % (r["wall"] / ideal) if ideal else "–", r["rss"], r["cpu"], 1e6 * r["cpu"] / n,
            "%.2f" % (r["rate"] / raw) if raw else "–", r["rate"] / best, r["ok"]))
    ceiling = wrk_ceiling(url, c)
    if ceiling:
        lines += ["", "wrk (the server's ceiling, 5 s, C=%d): %.0f req/s." % (c, ceiling)]
    return lines + [""], rows


def memory_sweep(tmp, base, sizes, c):
    url = base + "/tiny"
    rows = []
    for n in sizes:
        gen = "awk -v n=%d -v u=%s 'BEGIN { for (i = 0; i < n; i++) print u }'" % (n, url)
        row = {"n": n}
        m = timed("%s | /usr/bin/time -f '%%M' -o %s/rss %s -q -c %d -o /dev/null" % (gen, tmp, FETCH, c),
                  shell=True)
        with open(os.path.join(tmp, "rss")) as f:
            row["concurio-fetch"] = int(f.read().split()[-1]) / 1024
        if have("curl") and n <= 1000000:
            row["curl --parallel"] = run_curl(tmp, url, n, c)[0]["rss"] / 1024
        if have("hey"):
            row["hey"] = run_hey(tmp, url, n, c)[0]["rss"] / 1024
        rows.append(row)
        print("  mem %d: %s" % (n, {k: v for k, v in row.items() if k != "n"}), flush=True)
    names = [k for k in rows[0] if k != "n"]
    lines = ["### Peak RSS (MiB) versus input length, C=%d" % c, "",
             "| lines | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for r in rows:
        lines.append("| %d | " % r["n"] + " | ".join("%.1f" % r.get(k, float("nan")) for k in names) + " |")
    return lines + [""], rows


def rate_run(tmp, seconds, per_sec):
    proc, base = start_testserver(tmp)
    n = seconds * per_sec
    url = base + "/ok"
    lines = ["### Rate accuracy: %d/s for %d s (%d requests), C=64" % (per_sec, seconds, n), "",
             "| client | achieved req/s | vs limit | busiest 1 s window | 200s |", "|---|---|---|---|---|"]
    runs = [("concurio-fetch -r %d/s" % per_sec, lambda: run_fetch(tmp, url, n, 64, ["-r", "%d/s" % per_sec]))]
    if have("curl"):
        runs.append(("curl --parallel --rate %d/m" % (per_sec * 60),
                     lambda: run_curl(tmp, url, n, 64, "--rate %d/m" % (per_sec * 60))))
    if has_aiohttp():
        runs.append(("aiohttp + leaky bucket", lambda: run_aiohttp(tmp, url, n, 64, per_sec)))
    for name, fn in runs:
        urllib.request.urlopen(base + "/stats/reset").read()
        _, ok = fn()
        st = json.loads(urllib.request.urlopen(base + "/stats").read())
        starts = sorted(st["starts_ms"])
        span = (starts[-1] - starts[0]) / 1000.0 if len(starts) > 1 else 0
        achieved = (len(starts) - 1) / span if span > 0 else float("inf")
        busiest, j = 0, 0
        for i in range(len(starts)):
            while starts[i] - starts[j] >= 1000:
                j += 1
            busiest = max(busiest, i - j + 1)
        lines.append("| %s | %.2f | %+.2f%% | %d | %d |" % (name, achieved, 100 * (achieved / per_sec - 1),
                                                         busiest, ok))
        print("  rate %s: %.2f/s, busiest %d" % (name, achieved, busiest), flush=True)
    proc.terminate()
    return lines + [""]


def pin(pid, cpus):
    """Pins nginx (the master and its worker) to cpus, a taskset list such as "1"."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in [str(pid)] + kids:
        subprocess.run(["taskset", "-apc", cpus, p], capture_output=True, check=True)


def threads_study(tmp, nginx, base, runs):
    """--threads 0, 1, 2 side by side on S1 under four loads: what the default should be."""
    url, n, c = base + "/tiny", 20000, 64
    ncpu = os.cpu_count()
    everything = "0-%d" % (ncpu - 1)
    conds = [("nothing else running", None, None), ("one `yes` hog", "hog", None),
             ("server on CPU 1 (taskset), client on CPU 0", "pin", "0"),
             ("server on CPU 1 (taskset), client free", "pin", None)]
    lines = ["### --threads: S1 (%d requests, C=%d) under four loads" % (n, c), "",
             "| load | client | req/s (median) | CPU µs/req | x 1 thread req/s | x 1 thread CPU |",
             "|---|---|---|---|---|---|"]
    for cname, kind, client_cpus in conds:
        hog = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) if kind == "hog" else None
        if kind == "pin":
            pin(nginx.pid, str(ncpu - 1))
        pre = ["taskset", "-c", client_cpus] if client_cpus else []
        cs = [("--threads 0", pre + [FETCH, "--threads", "0"]), ("--threads 1", pre + [FETCH, "--threads", "1"]),
              ("--threads 2", pre + [FETCH, "--threads", "2"]), ("default", pre + [FETCH]),
              ("raw multi, handles reused", pre + [RAW])]
        got = {k: [] for k, _ in cs}
        try:
            for r in range(runs):
                for k, cmd in (cs if r % 2 == 0 else list(reversed(cs))):
                    with open(url_file(tmp, url, n)) as f:
                        if cmd[-1] == RAW:
                            m = timed(cmd + [str(c)], stdin=f)
                        else:
                            m = timed(cmd + ["-q", "-c", str(c), "-o", "/dev/null"], stdin=f)
                    got[k].append(m)
                    print("  threads [%s] %-26s %6.2f s cpu %.2f" % (cname, k, m["wall"], m["cpu"]), flush=True)
        finally:
            if hog:
                hog.terminate()
                hog.wait()
            if kind == "pin":
                pin(nginx.pid, everything)
        one_rate = med([n / m["wall"] for m in got["--threads 0"]])
        one_cpu = med([m["cpu"] for m in got["--threads 0"]])
        for k, ms in got.items():
            rate, cpu = med([n / m["wall"] for m in ms]), med([m["cpu"] for m in ms])
            lines.append("| %s | %s | %.0f | %.1f | %.2f | %.2f |" % (cname, k, rate, 1e6 * cpu / n,
                                                                     rate / one_rate, cpu / one_cpu))
    return lines + [""]


def waves(path, launched):
    """From one S2 run's records: seconds from launch to the first start, the first wave's
    end, the later waves' mean length, and the last end (all from the first start)."""
    def at(r):
        t = datetime.datetime.strptime(r["started_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        return t.replace(tzinfo=datetime.timezone.utc).timestamp()
    with open(path) as f:
        rs = [json.loads(line) for line in f]
    first = min(at(r) for r in rs)
    size = max(1, len(rs) // 10)
    ends = {}
    for r in rs:
        k = min(9, (r["line"] - 1) // size)
        ends[k] = max(ends.get(k, 0.0), at(r) - first + r["elapsed_ms"] / 1000)
    return first - launched, ends[0], (ends[9] - ends[1]) / 8, ends[9]


def s2_study(tmp, base, runs):
    """Where S2's time goes beyond its ideal 1.0 s: start-up, the first wave (500 new
    connections), each later wave, and the exit; the raw loop and --threads 0 beside the
    default, and 500 connections alone (/tiny) for what the first wave's connects cost."""
    n, c = 5000, 500
    ideal = 0.1 * n / c
    cs = [("raw multi, handles reused", None), ("concurio-fetch", []),
          ("concurio-fetch, 1 thread", ["--threads", "0"])]
    got = {k: [] for k, _ in cs}
    alone = {k: [] for k, _ in cs}
    for r in range(runs):
        for k, extra in (cs if r % 2 == 0 else list(reversed(cs))):
            for url, count, into in ((base + "/delay", n, got), (base + "/tiny", c, alone)):
                with open(url_file(tmp, url, count)) as f:
                    launched = time.time()
                    if extra is None:
                        m = timed([RAW, str(c)], stdin=f)
                    else:
                        out = os.path.join(tmp, "s2.jsonl")
                        m = timed([FETCH, "-q", "-c", str(c), "-o", out] + extra, stdin=f)
                        if count == n:
                            m["waves"] = waves(out, launched)
                into[k].append(m)
            print("  s2 %-26s %6.3f s" % (k, got[k][-1]["wall"]), flush=True)
    lines = ["### S2 (%d x 100 ms, C=%d): where the time beyond the ideal %.2f s goes" % (n, c, ideal), "",
             "| client | wall s | x ideal | launch to first start ms | first wave ends ms "
             "| each later wave ms | last end to exit ms | 500 connects alone: wall ms, CPU ms |",
             "|---|---|---|---|---|---|---|---|"]
    for k, ms in got.items():
        wall = med([m["wall"] for m in ms])
        if "waves" in ms[0]:
            w = [m["waves"] for m in ms]
            cols = ["%.0f" % (1000 * med([x[0] for x in w])), "%.0f" % (1000 * med([x[1] for x in w])),
                    "%.2f" % (1000 * med([x[2] for x in w])),
                    "%.0f" % (1000 * med([m["wall"] - m["waves"][0] - m["waves"][3] for m in ms]))]
        else:
            cols = ["–"] * 4
        a = alone[k]
        lines.append("| %s | %.3f | %.2f | %s | %.0f, %.0f |" % (
            k, wall, wall / ideal, " | ".join(cols), 1000 * med([m["wall"] for m in a]),
            1000 * med([m["cpu"] for m in a])))
    return lines + [""]


def rated_study(tmp, base, runs):
    """Under -r: transfer threads against the main thread alone (the default under a rate
    of 10,000/s or less starts none), 3 s of /tiny at each rate, C=64."""
    url, c = base + "/tiny", 64
    lines = ["### Under -r: --threads 2 against --threads 0 (C=%d, about 3 s at each rate)" % c, "",
             "| -r | client | wall s | CPU s | x --threads 0 CPU | peak RSS MiB |", "|---|---|---|---|---|---|"]
    for per_sec in (1000, 2000, 5000, 10000, 20000):
        n = per_sec * 3
        cs = [("--threads 0", ["--threads", "0"]), ("--threads 2", ["--threads", "2"])]
        got = {k: [] for k, _ in cs}
        for r in range(runs):
            for k, extra in (cs if r % 2 == 0 else list(reversed(cs))):
                m, ok = run_fetch(tmp, url, n, c, ["-r", "%d/s" % per_sec] + extra)
                got[k].append(m)
                print("  rated %d/s %-12s %6.2f s cpu %.2f" % (per_sec, k, m["wall"], m["cpu"]), flush=True)
        one = med([m["cpu"] for m in got["--threads 0"]])
        for k, ms in got.items():
            cpu = med([m["cpu"] for m in ms])
            lines.append("| %d/s | %s | %.2f | %.2f | %.2f | %.1f |" % (
                per_sec, k, med([m["wall"] for m in ms]), cpu, cpu / one, med([m["rss"] for m in ms]) / 1024))
    return lines + [""]


def chart(s1, s3, mem):
    if not have("gnuplot") or not s1:
        return False
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "rates.dat"), "w") as f:
        for r in s1:
            s3r = next((x["rate"] for x in (s3 or []) if x["client"] == r["client"]), 0)
            f.write('"%s" %.0f %.0f\n' % (r["client"], r["rate"], s3r))
    names = [k for k in (mem or [{}])[0] if k != "n"]
    with open(os.path.join(tmp, "mem.dat"), "w") as f:
        for r in mem or []:
            f.write("%d %s\n" % (r["n"], " ".join("%.2f" % r.get(k, float("nan")) for k in names)))
    plots = ", ".join("'%s/mem.dat' using 1:%d with linespoints title '%s'" % (tmp, i + 2, k)
                      for i, k in enumerate(names))
    script = """set terminal png size 1200,500
set output '%s/bench.png'
set multiplot layout 1,2
set title 'requests/s on loopback nginx (median)'
set style data histograms
set style fill solid 0.8
set xtics rotate by -30
set key top right
plot '%s/rates.dat' using 2:xtic(1) title 'S1 20k C=64', '' using 3 title 'S3 200k C=256'
set title 'peak RSS (MiB) vs input lines, C=256'
set logscale x
set xtics norotate
set key top left
%s
unset multiplot
""" % (RESULTS, tmp, ("plot " + plots) if names else "")
    subprocess.run(["gnuplot"], input=script, text=True, check=False)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="S1,S2,S3,mem")
    ap.add_argument("--rate-run", action="store_true", help="also the 2-minute rate accuracy run")
    ap.add_argument("--quick", action="store_true", help="smaller inputs, one run (a smoke test)")
    ap.add_argument("--skip", default="", help="clients to leave out, comma-separated names "
                    "as in the tables (\"xargs -P curl\" takes minutes on a loaded machine)")
    ap.add_argument("--out", default="latest.md", help="the results file in tools/bench/results")
    a = ap.parse_args()
    SKIP.update(x for x in re.split(r",(?! )", a.skip) if x)  # "raw multi, new handle each" is one name
    for exe in (FETCH, RAW):
        if not os.access(exe, os.X_OK):
            sys.exit("bench: build first (tools/test.sh): %s is missing" % exe)
    only = set(a.only.split(","))
    scale = 10 if a.quick else 1
    runs = 1 if a.quick else a.runs
    os.makedirs(RESULTS, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="concurio-bench-")
    nginx, base, echo = start_nginx(tmp)
    cpu = subprocess.run(["sh", "-c", "nproc; uname -r"], capture_output=True, text=True).stdout.split()
    out = ["# Benchmark results", "",
           "%s, %s cores, kernel %s; nginx 1 worker on loopback; medians of %d runs in alternating order."
           % (time.strftime("%Y-%m-%d"), cpu[0], cpu[1], runs),
           "Reproduce: `%s`. Only ratios from one run mean anything."
           % " ".join(["tools/bench/bench.sh"] + [shlex.quote(x) for x in sys.argv[1:]]), ""]
    if SKIP:
        out.insert(-1, "Left out with --skip: %s." % ", ".join(sorted(SKIP)))
    s1 = s3 = mem = None
    try:
        if "S1" in only:
            lines, s1 = scenario(tmp, "S1", base + "/tiny", 20000 // scale, 64, runs)
            out += lines
        if "S2" in only:
            if echo:
                lines, _ = scenario(tmp, "S2", base + "/delay", 5000 // scale, 500, runs,
                                    skip=("aiohttp + Semaphore",) if a.quick else (), ideal=0.1 * 5000 / 500 / scale)
                out += lines + ["curl --parallel caps --parallel-max at 300, below C=500.", ""]
            else:
                out += ["S2 skipped: nginx's echo module (libnginx-mod-http-echo) is not installed.", ""]
        if "S3" in only:
            lines, s3 = scenario(tmp, "S3", base + "/tiny", 200000 // scale, 256, runs,
                                 skip=("aiohttp + Semaphore", "xargs -P curl"))
            out += lines + ["aiohttp (every URL a coroutine up front) and xargs (a curl process per URL: "
                            "see S1 for its rate) are left out of S3.", ""]
        if "mem" in only:
            sizes = [1000, 10000] if a.quick else [10000, 100000, 1000000]
            lines, mem = memory_sweep(tmp, base, sizes, 256)
            out += lines
        if "threads" in only:
            out += threads_study(tmp, nginx, base, runs)
        if "rated" in only:
            out += rated_study(tmp, base, runs)
        if "s2" in only:
            out += s2_study(tmp, base, runs) if echo else ["s2 needs nginx's echo module.", ""]
        if a.rate_run:
            out += rate_run(tmp, 12 if a.quick else 120, 100)
    finally:
        nginx.terminate()
    if chart(s1, s3, mem):
        out += ["![requests/s and memory](bench.png)", ""]
    with open(os.path.join(RESULTS, a.out), "w") as f:
        f.write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
