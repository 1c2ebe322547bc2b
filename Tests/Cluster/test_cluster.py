#!/usr/bin/env python3
"""End-to-end tests of several replicas behind nginx (scripts/cluster, deploy/nginx).

Starts a real cluster on loopback with the `Cluster` class of scripts/cluster: a throw-away
PostgreSQL 15, three `inctrl serve` replicas sharing it (a tiny demo model, API keys) and
nginx with deploy/nginx/inctrl.conf.template in front. Then, in order:

  0. nginx passes refusals through as the server makes them (401 without a key), and refuses
     a body over max_body_bytes as a replica does (413, JSON with the same code);
  1. registers ten prompt sets through nginx, and every replica serves every set;
  2. scores each set through nginx several times, and each replica's own /metrics (scraped
     directly) shows that all of one set's score requests reached one replica, and that the
     sets are spread over more than one; nginx's access log agrees;
  3. a set registered through one replica scores bit for bit the same on the others;
  4. kill -9 of the replica holding a set: nginx sends that set's requests to another
     replica, which answers them with the same bits, while the other sets stay where they
     were; once the replica is back, the set returns to it;
  5. `scripts/cluster` itself prints the front URL, serves, and on SIGTERM stops nginx, the
     replicas and PostgreSQL and removes its directory.

Usage: test_cluster.py [--bin PATH] [--vocab PATH]
  --bin    the built `inctrl` executable (default: $INCTRL_BIN)
  --vocab  the CLIP vocabulary bpe_simple_vocab_16e6.txt.gz (default: $INCTRL_VOCAB)
Needs nginx and postgresql-15 (scripts/deploy-test installs them when missing).
Exits non-zero on failure; the last line reads `N passed, M failed`.
"""

import argparse
import importlib.machinery
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
CELLS = REPOSITORY / "Tests/Fixtures/imaging/inputs"
NORMAL = [CELLS / f"png_elpv_cell{n}_functional.png" for n in ("0004", "0009", "0011")]
QUERIES = [CELLS / "png_elpv_cell0001_defective.png", CELLS / "png_elpv_cell0002_defective.png"]
SETS = 10
SCORES_PER_SET = 4


def load_cluster_module():
    loader = importlib.machinery.SourceFileLoader("inctrl_cluster", str(REPOSITORY / "scripts/cluster"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


clustering = load_cluster_module()
arguments = None
cluster = None
key = None
keys_dir = None
# What the tests learn, in order: set id → the replica it was registered through, the replica
# nginx sends it to, and its score response (per query) as first seen.
registered_on = {}
home = {}
responses = {}


def multipart(fields, files):
    boundary = secrets.token_hex(12)
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, path in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{path.name}"\r\n'
                     f'Content-Type: image/png\r\n\r\n'.encode() + path.read_bytes() + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def request(method, url, body=None, headers=None, authorized=True):
    headers = dict(headers or {})
    if authorized:
        headers["Authorization"] = f"Bearer {key}"
    return clustering.http(method, url, body, headers)


def score(base, set_id, query):
    status, _, body = request("POST", f"{base}/score?prompt_set={set_id}", query.read_bytes(),
                              {"Content-Type": "image/png"})
    if status != 200:
        raise AssertionError(f"POST {base}/score?prompt_set={set_id} answered {status}: {body[:300]!r}")
    return json.loads(body)


def what_matters(response):
    """The parts of a score response that must be bit-identical wherever it was computed (JSON
    numbers printed from the same floats are the same text)."""
    return {name: response[name] for name in ("score", "components", "residual_map", "decision", "regions")}


METRIC_LINE = re.compile(r'^inctrl_http_requests_total\{route="([^"]*)",method="([^"]*)",status="([^"]*)"\} (\S+)$')


def counts(replica, route, method, status):
    """The replica's own count of answered requests for route, method and status, from its
    /metrics (scraped directly, not through nginx)."""
    code, _, body = request("GET", replica.url + "/metrics")
    if code != 200:
        raise AssertionError(f"GET {replica.url}/metrics answered {code}")
    total = 0
    for line in body.decode().splitlines():
        match = METRIC_LINE.match(line)
        if match and match.groups()[:3] == (route, method, str(status)):
            total += float(match.group(4))
    return int(total)


def score_counts(replicas):
    return {replica.index: counts(replica, "/score", "POST", 200) for replica in replicas}


def head_only_post(base, path, length):
    """(status, error code) of a POST whose head announces `length` body bytes that never come."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                           f"Content-Type: image/png\r\nContent-Length: {length}\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + content_length(answer):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, json.loads(body[:content_length(answer)])["error"]["code"]


def content_length(answer):
    match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", answer)
    return int(match.group(1)) if match else 0


def access_log_upstreams(set_id):
    """The replica addresses nginx's access log names for the score requests of `set_id`."""
    log = (cluster.nginx_dir / "access.log").read_text()
    return [re.search(r"upstream=(\S+)", line).group(1) for line in log.splitlines()
            if f"/score?prompt_set={set_id}" in line]


def setUpModule():
    global cluster, key, keys_dir
    keys_dir = tempfile.TemporaryDirectory(prefix="cluster-test-keys-")
    keys_file = Path(keys_dir.name) / "keys.json"
    key = subprocess.run([arguments.bin, "keys", "create", "--id", "cluster-test", "--scopes", "score,admin",
                          "--file", str(keys_file)], check=True, capture_output=True, text=True).stdout.strip()
    os.chmod(keys_dir.name, 0o755)  # the replicas may run as another user one day; the file stays 0600
    cluster = clustering.Cluster(arguments.bin, arguments.vocab, replicas=3,
                                 environment={"INCTRL_API_KEYS_FILE": str(keys_file)})
    started = time.monotonic()
    cluster.start()
    print(f"cluster started in {time.monotonic() - started:.1f} s", file=sys.stderr)


def tearDownModule():
    global cluster
    if cluster is not None:
        cluster.stop()
        cluster = None
    keys_dir.cleanup()


class ClusterTests(unittest.TestCase):
    """One session, in order (numbered: each test builds on the ones before)."""

    def setUp(self):
        self.started = time.monotonic()

    def tearDown(self):
        print(f"({time.monotonic() - self.started:.1f} s)", file=sys.stderr)

    def test_0_refusals_through_nginx_are_the_server_s(self):
        front, replica = cluster.front, cluster.replicas[0].url
        for base in (front, replica):
            status, _, body = request("GET", base + "/prompts", authorized=False)
            self.assertEqual((status, json.loads(body)["error"]["code"]), (401, "unauthorized"), base)
        # A body over max_body_bytes, announced in the head: nginx refuses it as the server does.
        answers = [head_only_post(base, "/score?prompt_set=" + "0" * 32, 32 * 2**20 + 1) for base in (front, replica)]
        self.assertEqual(answers[0], answers[1])
        self.assertEqual(answers[0][0], 413)

    def test_1_registrations_through_nginx_reach_every_replica(self):
        before = {r.index: counts(r, "/prompts", "POST", 201) for r in cluster.replicas}
        for n in range(SETS):
            # One class name per set: the id is derived from the class name and the images.
            body, content_type = multipart([("class_name", f"cell_line_{n}")], [("images", path) for path in NORMAL])
            status, _, answer = request("POST", cluster.front + "/prompts", body, {"Content-Type": content_type})
            self.assertEqual(status, 201, answer[:300])
            set_id = json.loads(answer)["id"]
            after = {r.index: counts(r, "/prompts", "POST", 201) for r in cluster.replicas}
            moved = [index for index in after if after[index] != before[index]]
            self.assertEqual(len(moved), 1, f"one registration, one replica: {before} → {after}")
            registered_on[set_id] = moved[0]
            before = after
        self.assertEqual(len(registered_on), SETS)
        # Registrations carry no prompt set to hash, so nginx deals them out in turn.
        spread = sorted(registered_on.values())
        print(f"registrations per replica: {[spread.count(r.index) for r in cluster.replicas]}", file=sys.stderr)
        self.assertGreater(len(set(spread)), 1, "registrations went round-robin")

        # Every replica lists every set, without being asked about it and without a restart:
        # the replicas follow each other through PostgreSQL's LISTEN/NOTIFY.
        started = time.monotonic()
        for replica in cluster.replicas:
            while True:
                status, _, answer = request("GET", f"{replica.url}/prompts")
                self.assertEqual(status, 200, answer[:200])
                listed = {entry["id"] for entry in json.loads(answer)["prompt_sets"]}
                if listed >= set(registered_on):
                    break
                self.assertLess(time.monotonic() - started, 5,
                                f"replica {replica.index} lists {len(listed & set(registered_on))} of {SETS} sets")
                time.sleep(0.05)
        print(f"every replica listed every set {time.monotonic() - started:.2f} s after the last registration",
              file=sys.stderr)

    def test_2_each_set_stays_on_one_replica_and_sets_spread(self):
        self.assertEqual(len(registered_on), SETS, "needs test 1")
        for set_id in registered_on:
            before = score_counts(cluster.replicas)
            for round in range(SCORES_PER_SET):
                response = score(cluster.front, set_id, QUERIES[round % 2])
                if round < 2:
                    responses[(set_id, round % 2)] = what_matters(response)
                else:
                    self.assertEqual(what_matters(response), responses[(set_id, round % 2)])
            after = score_counts(cluster.replicas)
            deltas = {index: after[index] - before[index] for index in after}
            self.assertEqual(sorted(deltas.values()), [0] * (len(deltas) - 1) + [SCORES_PER_SET],
                             f"set {set_id}: score requests per replica {deltas}")
            home[set_id] = max(deltas, key=deltas.get)
            upstreams = access_log_upstreams(set_id)
            self.assertEqual(upstreams, [cluster.replicas[home[set_id]].address] * SCORES_PER_SET)
        distribution = [list(home.values()).count(r.index) for r in cluster.replicas]
        print(f"sets per replica (nginx's hash): {distribution}", file=sys.stderr)
        self.assertGreater(len(set(home.values())), 1, f"the sets spread over the replicas: {distribution}")

    def test_3_a_set_scores_the_same_on_every_replica(self):
        self.assertEqual(len(home), SETS, "needs test 2")
        elsewhere = 0
        for set_id, origin in registered_on.items():
            for replica in cluster.replicas:
                for query_index, query in enumerate(QUERIES):
                    self.assertEqual(what_matters(score(replica.url, set_id, query)), responses[(set_id, query_index)],
                                     f"set {set_id} (registered through replica {origin}) on replica {replica.index}")
                elsewhere += replica.index != origin
        self.assertEqual(elsewhere, SETS * (len(cluster.replicas) - 1))

    def test_4_a_killed_replica_s_sets_move_and_come_back(self):
        self.assertEqual(len(home), SETS, "needs test 2")
        # The replica holding the most sets goes down hard.
        victim_index = max(set(home.values()), key=list(home.values()).count)
        victim = cluster.replicas[victim_index]
        moved = [s for s in home if home[s] == victim_index]
        stayed = [s for s in home if home[s] != victim_index]
        survivors = [r for r in cluster.replicas if r.index != victim_index]
        cluster.kill_replica(victim)
        with socket.socket() as probe:
            self.assertNotEqual(probe.connect_ex(("127.0.0.1", victim.port)), 0, "the killed replica's port is closed")

        for set_id in moved:
            before = score_counts(survivors)
            for round in range(SCORES_PER_SET):
                response = score(cluster.front, set_id, QUERIES[round % 2])
                self.assertEqual(what_matters(response), responses[(set_id, round % 2)])
            after = score_counts(survivors)
            deltas = {index: after[index] - before[index] for index in after}
            self.assertEqual(sorted(deltas.values()), [0] * (len(deltas) - 1) + [SCORES_PER_SET],
                             f"set {set_id} after the kill: score requests per surviving replica {deltas}")
        # Consistent hashing moves only the dead replica's sets.
        for set_id in stayed:
            before = score_counts(survivors)
            score(cluster.front, set_id, QUERIES[0])
            after = score_counts(survivors)
            self.assertEqual(after[home[set_id]] - before[home[set_id]], 1, f"set {set_id} stayed on replica {home[set_id]}")
        errors = (cluster.nginx_dir / "error.log").read_text()
        self.assertIn(f"Connection refused) while connecting to upstream", errors)
        self.assertIn(victim.address, errors)

        # Back on its port, the replica gets its sets again once nginx tries it (fail_timeout, 10 s).
        cluster.start_replica(victim)
        target = moved[0]
        deadline = time.monotonic() + 30
        while True:
            before = counts(victim, "/score", "POST", 200)
            self.assertEqual(what_matters(score(cluster.front, target, QUERIES[0])), responses[(target, 0)])
            if counts(victim, "/score", "POST", 200) == before + 1:
                break
            self.assertLess(time.monotonic(), deadline, "the restarted replica got its set back within 30 s")
            time.sleep(0.5)

    def test_5_the_script_serves_and_stops_on_sigterm(self):
        environment = dict(os.environ, INCTRL_BIN=arguments.bin, INCTRL_VOCAB=arguments.vocab)
        process = subprocess.Popen([sys.executable, str(REPOSITORY / "scripts/cluster"), "--replicas", "1"],
                                   env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            front = process.stdout.readline().strip()
            self.assertRegex(front, r"^http://127\.0\.0\.1:\d+$", process.stderr.read() if not front else "")
            status, _, body = clustering.http("GET", front + "/readyz")
            self.assertEqual(status, 200, body)
            process.send_signal(signal.SIGTERM)
            self.assertEqual(process.wait(timeout=60), 0)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        log = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
        directory = re.search(r"wrote a tiny demo model .* to (\S+)/model", log).group(1)
        postgres_port = int(re.search(r"PostgreSQL 15 on 127\.0\.0\.1:(\d+)", log).group(1))
        replica_pid = int(re.search(r"replica 0: \S+ \(pid (\d+)", log).group(1))
        nginx_pid = int(re.search(r"nginx: \S+ \(pid (\d+)", log).group(1))
        self.assertFalse(Path(directory).exists(), f"{directory} removed")
        for pid in (replica_pid, nginx_pid):
            self.assertFalse(Path(f"/proc/{pid}").exists(), f"process {pid} stopped")
        for port in (int(front.rsplit(":", 1)[1]), postgres_port):
            with socket.socket() as probe:
                self.assertNotEqual(probe.connect_ex(("127.0.0.1", port)), 0, f"nothing listens on {port}")


def main():
    global arguments
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("INCTRL_BIN"))
    parser.add_argument("--vocab", default=os.environ.get("INCTRL_VOCAB"))
    arguments, rest = parser.parse_known_args()
    if not arguments.bin or not arguments.vocab:
        parser.error("--bin and --vocab (or INCTRL_BIN and INCTRL_VOCAB) are required")
    started = time.monotonic()
    program = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    result = program.result
    failed = len(result.failures) + len(result.errors)
    print(f"{max(result.testsRun - failed, 0)} passed, {failed} failed in {time.monotonic() - started:.1f} s")
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
