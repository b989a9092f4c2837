#!/usr/bin/env python3
"""Time from cluster start to the first JetStream meta leader, ours against the reference.

Starts a 3-server cluster (every server lists all three routes) or the 3x3 supercluster of
scripts/run-example-r3.sh on loopback, all servers launched together, then polls every
server's /jsz every 20 ms. Prints, per round, the seconds until the first server reports a
meta leader and until all servers report the same one; interleaves the two binaries and
prints medians with min-max. The machine is shared: figures are noisy.
Usage: scripts/meta-boot-time.py [--topo 3|3x3] [--rounds 5] [--ours build/nats-server]
       [--ref /usr/sbin/nats-server] [--base N]
"""
import argparse, json, os, random, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

CLUSTERS = ["east", "central", "west"]


def configs(topo, work, base):
    route, gw, http = base + 2000, base + 3000, base + 4000
    nclusters = 1 if topo == "3" else 3
    out = []
    for c in range(nclusters):
        for s in range(3):
            n = c * 3 + s
            name = f"{CLUSTERS[c]}-{s + 1}"
            routes = ",".join(f'"nats-route://127.0.0.1:{route + c * 3 + i}"' for i in range(3))
            conf = f"""port: {base + n}
http_port: {http + n}
server_name: {name}
accounts: {{ $SYS: {{ users: [{{user: sys, password: pass}}] }} }}
jetstream: {{ store_dir: "{work}/store/{name}" }}
cluster: {{ name: {CLUSTERS[c]}, port: {route + n}, routes: [{routes}] }}
"""
            if nclusters > 1:
                gws = ",".join(f'{{name: "{CLUSTERS[g]}", urls: ["nats://127.0.0.1:{gw + g * 3}"]}}' for g in range(3))
                conf += f"gateway: {{ name: {CLUSTERS[c]}, port: {gw + n}, gateways: [{gws}] }}\n"
            path = os.path.join(work, name + ".conf")
            with open(path, "w") as f:
                f.write(conf)
            out.append((name, path, http + n))
    return out


def meta_leader(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/jsz", timeout=0.5) as r:
            j = json.loads(r.read())
        return (j.get("meta_cluster") or {}).get("leader", "")
    except Exception:
        return ""


def ports_free(base, n):
    for off in (0, 2000, 3000, 4000):
        for i in range(n):
            with socket.socket() as s:
                try:
                    s.bind(("0.0.0.0", base + off + i))
                except OSError:
                    return False
    return True


def free_base(n):
    # The machine is shared: draw a base whose every port (client, route, gateway, http) is free.
    while True:
        base = random.randrange(20000, 28000)
        if ports_free(base, n):
            return base


def one_round(binary, topo, base, timeout=30.0):
    work = tempfile.mkdtemp(prefix="metaboot-")
    procs = []
    try:
        n = 3 if topo == "3" else 9
        base = base if base and ports_free(base, n) else free_base(n)
        confs = configs(topo, work, base)
        t0 = time.monotonic()
        for name, path, _ in confs:
            log = open(os.path.join(work, name + ".log"), "w")
            procs.append(subprocess.Popen([binary, "-c", path, "-a", "127.0.0.1", "-D"], stdout=log, stderr=log))
        first = None
        while time.monotonic() - t0 < timeout:
            leaders = [meta_leader(p) for _, _, p in confs]
            now = time.monotonic() - t0
            if first is None and any(leaders):
                first = now
            if all(leaders) and len(set(leaders)) == 1:
                return first, now
            dead = [confs[i][0] for i, p in enumerate(procs) if p.poll() is not None]
            if dead:
                print(f"  {binary}: {dead} exited early (port taken?); round not counted", flush=True)
                return None, None
            time.sleep(0.02)
        keep = os.path.join(tempfile.gettempdir(), "metaboot-failed-%d" % os.getpid())
        shutil.copytree(work, keep, dirs_exist_ok=True)
        print(f"  {binary}: no agreed leader in {timeout:.0f} s; logs kept in {keep}", flush=True)
        return first, None
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    return f"median {statistics.median(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f}, n={len(xs)})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--topo", default="3", choices=["3", "3x3"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ours", default="build/nats-server")
    ap.add_argument("--ref", default="/usr/sbin/nats-server")
    ap.add_argument("--base", type=int, default=0, help="client port base (default: a free one, drawn per round)")
    a = ap.parse_args()
    res = {"ours": ([], []), "ref": ([], [])}
    for r in range(a.rounds):
        for side, binary in (("ours", a.ours), ("ref", a.ref)):
            first, all_ = one_round(binary, a.topo, a.base)
            res[side][0].append(first)
            res[side][1].append(all_)
            f = "timeout" if first is None else f"{first:.2f}"
            g = "timeout" if all_ is None else f"{all_:.2f}"
            print(f"round {r + 1} {side}: first leader {f} s, all agree {g} s", flush=True)
    for side in ("ours", "ref"):
        print(f"{side} ({a.topo}): first leader {summary(res[side][0])}; all agree {summary(res[side][1])}")


if __name__ == "__main__":
    sys.exit(main())
