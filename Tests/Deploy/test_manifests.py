#!/usr/bin/env python3
"""Offline checks of the deployment files against the server they deploy.

deploy/kubernetes/*.yaml must parse as YAML and agree with the server and the image: probes
name routes of openapi.yaml that need no key, every INCTRL_* name is a configuration key
(`inctrl config keys`) or one scripts/start-server reads, the container port is the
Dockerfile's EXPOSE and INCTRL_PORT, the user id is the Dockerfile's `useradd --uid`, the
grace period outlasts the preStop pause plus shutdown_grace_s, selectors select the pods, the
resources cover the measured memory, and the ConfigMap and Secret are a configuration
`inctrl serve` starts with. deploy/nginx/inctrl.conf.template must hold the server's own
limits and timeouts (`inctrl config defaults`).

No cluster is needed: nothing is applied. The last check starts `inctrl serve` once, on a tiny
demo model, with the ConfigMap's settings.

Usage: test_manifests.py [--bin PATH] [--vocab PATH]
  --bin    the built `inctrl` executable (default: $INCTRL_BIN)
  --vocab  the CLIP vocabulary (default: $INCTRL_VOCAB)
Needs python3-yaml (Debian). Exits non-zero on failure; the last line reads `N passed, M failed`.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
KUBERNETES = REPOSITORY / "deploy/kubernetes"
NGINX_TEMPLATE = REPOSITORY / "deploy/nginx/inctrl.conf.template"
# Environment names the manifests may set that are not the server's: oneDNN's thread count,
# and the model job's download settings (read by its own shell, not by inctrl).
FOREIGN_ENVIRONMENT = {"OMP_NUM_THREADS", "CHECKPOINT_URL", "CHECKPOINT_SHA256"}
# Peak RSS of the full-size model in fp32, measured (README "Speed"): 888-896 MiB.
MODEL_PEAK_RSS = 896 * 2**20

arguments = None


def documents():
    """Every YAML document under deploy/kubernetes, as (file name, document)."""
    found = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                found.append((path.name, document))
    return found


def one(kind, name=None):
    matches = [d for _, d in documents() if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]
    if len(matches) != 1:
        raise AssertionError(f"expected one {kind} {name or ''}, found {len(matches)}")
    return matches[0]


def quantity(text):
    """Bytes of a Kubernetes memory quantity (512Mi, 4Gi, 1G, 1000)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(text))
    if not match:
        raise AssertionError(f"not a memory quantity: {text}")
    factor = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    return float(match.group(1)) * factor[match.group(2)]


def cpus(text):
    text = str(text)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def configuration_keys():
    """{environment variable: key} from `inctrl config keys` (a Markdown table)."""
    table = subprocess.run([arguments.bin, "config", "keys"], check=True, capture_output=True, text=True).stdout
    keys = {}
    for line in table.splitlines():
        match = re.match(r"^\| `([a-z_0-9]+)` \| `(INCTRL_[A-Z_0-9]+)` \|", line)
        if match:
            keys[match.group(2)] = match.group(1)
    if len(keys) < 10:
        raise AssertionError(f"`inctrl config keys` listed only {len(keys)} keys:\n{table}")
    return keys


def defaults():
    return json.loads(subprocess.run([arguments.bin, "config", "defaults"], check=True, capture_output=True,
                                     text=True).stdout)


def start_server_variables():
    """The INCTRL_* variables scripts/start-server reads itself."""
    return set(re.findall(r"\$\{?(INCTRL_[A-Z_0-9]+)", (REPOSITORY / "scripts/start-server").read_text()))


def dockerfile():
    return (REPOSITORY / "Dockerfile").read_text()


def openapi_routes():
    """{path: {method: operation}} of openapi.yaml."""
    document = yaml.safe_load((REPOSITORY / "openapi.yaml").read_text())
    return {path: {m: op for m, op in item.items() if m in ("get", "put", "post", "delete", "head")}
            for path, item in document["paths"].items()}


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def containers(workload):
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def server_container():
    [container] = pod_spec(one("Deployment", "inctrl-serve"))["containers"]
    return container


def environment_names(container):
    return [entry["name"] for entry in container.get("env", [])]


def container_environment(container):
    """The environment `container` gets: its ConfigMaps (envFrom) then its own env."""
    environment = {}
    for source in container.get("envFrom", []):
        environment.update(one("ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        if "value" in entry:
            environment[entry["name"]] = entry["value"]
        else:
            reference = entry["valueFrom"]["secretKeyRef"]
            environment[entry["name"]] = one("Secret", reference["name"])["stringData"][reference["key"]]
    return environment


def mounts(container):
    """{mount path: (volume, read only)} of a container."""
    return {m["mountPath"]: (m["name"], m.get("readOnly", False)) for m in container.get("volumeMounts", [])}


def mounted_at(container, path):
    """The mount `path` lies under (the longest such mount path), or None."""
    candidates = [m for m in mounts(container) if path == m or path.startswith(m.rstrip("/") + "/")]
    return max(candidates, key=len) if candidates else None


def image_file(argument):
    """A path in the image that the Dockerfile copies from the repository, as the repository's
    file (an argument that is no such path, as it is)."""
    for source, target in re.findall(r"^COPY (?!--from)(\S+) (/\S+)$", dockerfile(), re.M):
        if argument == target:
            return str(REPOSITORY / source)
    if argument.startswith("/"):
        raise AssertionError(f"{argument} is not a file the Dockerfile copies into the image")
    return argument


def seconds(value):
    match = re.fullmatch(r"(\d+)s?", value)
    if not match:
        raise AssertionError(f"not a number of seconds: {value}")
    return int(match.group(1))


class KubernetesManifestTests(unittest.TestCase):

    def test_every_file_parses_and_kustomization_lists_every_file(self):
        found = documents()
        self.assertGreaterEqual(len(found), 9)
        for name, document in found:
            self.assertIn("apiVersion", document, name)
            self.assertIn("kind", document, name)
            if document["kind"] != "Kustomization":
                self.assertTrue(document["metadata"]["name"], name)
        listed = set(one("Kustomization")["resources"])
        files = {path.name for path in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
        self.assertEqual(listed, files)
        kinds = {document["kind"] for _, document in found}
        for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Secret"):
            self.assertIn(kind, kinds)

    def test_probes_name_real_routes_that_need_no_key(self):
        routes = openapi_routes()
        container = server_container()
        probes = {name: container[name] for name in ("startupProbe", "readinessProbe", "livenessProbe")}
        port_names = {port["name"] for port in container["ports"]}
        for name, probe in probes.items():
            path = probe["httpGet"]["path"]
            self.assertIn(path, routes, f"{name} probes {path}, which openapi.yaml does not have")
            self.assertIn("get", routes[path], f"{name}: {path} has no GET")
            # A probe sends no Authorization header.
            self.assertEqual(routes[path]["get"].get("security"), [], f"{name}: GET {path} must need no key")
            self.assertIn(probe["httpGet"]["port"], port_names | {p["containerPort"] for p in container["ports"]})
        self.assertEqual(probes["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(probes["livenessProbe"]["httpGet"]["path"], "/healthz")
        # The startup probe gives the model load and the store's first read minutes, not seconds.
        startup = probes["startupProbe"]
        self.assertGreaterEqual(startup["periodSeconds"] * startup["failureThreshold"], 300)

    def test_every_environment_name_is_a_configuration_key(self):
        keys = configuration_keys()
        own = start_server_variables()
        self.assertIn("INCTRL_CHECKPOINT", own)
        for kind in ("Deployment", "Job"):
            for workload in [d for _, d in documents() if d["kind"] == kind]:
                for container in containers(workload):
                    for name in environment_names(container):
                        if name.startswith("INCTRL_"):
                            self.assertTrue(name in keys or name in own,
                                            f"{kind} {workload['metadata']['name']}: {name} is no configuration key")
                        else:
                            self.assertIn(name, FOREIGN_ENVIRONMENT, f"{name}: an unknown environment name")
        for name in one("ConfigMap", "inctrl-config")["data"]:
            self.assertIn(name, keys, f"ConfigMap: {name} is no configuration key")

    def test_port_matches_the_image(self):
        image = dockerfile()
        exposed = int(re.search(r"^EXPOSE (\d+)$", image, re.M).group(1))
        image_port = int(re.search(r"INCTRL_PORT=(\d+)", image).group(1))
        self.assertEqual(exposed, image_port)
        container = server_container()
        [port] = container["ports"]
        self.assertEqual(port["containerPort"], exposed)
        self.assertEqual(int(container_environment(container)["INCTRL_PORT"]), exposed)
        service = one("Service", "inctrl-serve")
        for service_port in service["spec"]["ports"]:
            self.assertIn(service_port["targetPort"], (port["name"], port["containerPort"]))
        template = one("Deployment", "inctrl-serve")["spec"]["template"]
        self.assertEqual(int(template["metadata"]["annotations"]["prometheus.io/port"]), exposed)

    def test_user_and_file_system_match_the_image(self):
        uid = int(re.search(r"useradd [^\n]*--uid (\d+)", dockerfile()).group(1))
        binary = re.search(r"^COPY --from=build \S+ (/\S+/inctrl)$", dockerfile(), re.M).group(1)
        for workload in [d for _, d in documents() if d["kind"] in ("Deployment", "Job")]:
            security = pod_spec(workload)["securityContext"]
            self.assertTrue(security["runAsNonRoot"])
            self.assertEqual(security["runAsUser"], uid)
            for container in containers(workload):
                self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"], container["name"])
                self.assertFalse(container["securityContext"]["allowPrivilegeEscalation"], container["name"])
        container = server_container()
        self.assertEqual(container["command"][0], binary, "the command is the image's executable")
        self.assertEqual(container["command"][1], "serve")
        environment = container_environment(container)
        volumes = {v["name"]: v for v in pod_spec(one("Deployment", "inctrl-serve"))["volumes"]}
        # Where the server writes is a writable volume; what it only reads may be read-only.
        for path in (environment["INCTRL_DATA_DIR"], "/tmp"):
            mount = mounted_at(container, path)
            self.assertIsNotNone(mount, f"{path} is on the read-only root file system")
            self.assertFalse(mounts(container)[mount][1], f"{path} must be writable")
        self.assertIsNotNone(mounted_at(container, environment["INCTRL_MODEL"]))
        keys_file = environment["INCTRL_API_KEYS_FILE"]
        mount = mounted_at(container, keys_file)
        secret = volumes[mounts(container)[mount][0]]["secret"]
        relative = keys_file[len(mount):].lstrip("/")
        self.assertIn(relative, [item["path"] for item in secret["items"]])
        secret_key = next(item["key"] for item in secret["items"] if item["path"] == relative)
        self.assertIn(secret_key, one("Secret", secret["secretName"])["stringData"])
        # The job writes the bundle where the replicas read it.
        job = one("Job", "inctrl-model")
        [prepare] = pod_spec(job)["containers"]
        self.assertEqual(container_environment(prepare)["INCTRL_MODEL"], environment["INCTRL_MODEL"])
        self.assertIn("--prepare-only", " ".join(prepare["command"]))

    def test_grace_period_outlasts_the_pre_stop_pause_and_shutdown_grace(self):
        deployment = one("Deployment", "inctrl-serve")
        container = server_container()
        environment = container_environment(container)
        grace = float(environment.get("INCTRL_SHUTDOWN_GRACE_S", defaults()["shutdown_grace_s"]))
        command = container["lifecycle"]["preStop"]["exec"]["command"]
        self.assertEqual(Path(command[0]).name, "sleep")
        pause = float(command[1])
        self.assertGreater(pod_spec(deployment)["terminationGracePeriodSeconds"], pause + grace)

    def test_selectors_select_the_pods_and_scaling_fits_the_budget(self):
        deployment = one("Deployment", "inctrl-serve")
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(deployment["spec"]["selector"]["matchLabels"].items() - labels.items(), set())
        service = one("Service", "inctrl-serve")
        self.assertEqual(service["spec"]["selector"].items() - labels.items(), set())
        budget = one("PodDisruptionBudget")
        self.assertEqual(budget["spec"]["selector"]["matchLabels"].items() - labels.items(), set())
        autoscaler = one("HorizontalPodAutoscaler")
        self.assertEqual(autoscaler["spec"]["scaleTargetRef"]["kind"], "Deployment")
        self.assertEqual(autoscaler["spec"]["scaleTargetRef"]["name"], deployment["metadata"]["name"])
        # A drain leaves at least two replicas serving.
        self.assertGreaterEqual(autoscaler["spec"]["minReplicas"] - budget["spec"]["maxUnavailable"], 2)
        claim = pod_spec(deployment)["volumes"]
        claims = {v["persistentVolumeClaim"]["claimName"] for v in claim if "persistentVolumeClaim" in v}
        self.assertEqual(claims, {one("PersistentVolumeClaim")["metadata"]["name"]})
        ingress = one("Ingress")
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        self.assertEqual(backend["name"], service["metadata"]["name"])
        self.assertIn(backend["port"]["name"], [p["name"] for p in service["spec"]["ports"]])

    def test_resources_cover_the_measured_memory(self):
        container = server_container()
        environment = container_environment(container)
        requests, limits = container["resources"]["requests"], container["resources"]["limits"]
        body_budget = int(environment.get("INCTRL_MAX_INFLIGHT_BODY_BYTES", defaults()["max_inflight_body_bytes"]))
        self.assertGreaterEqual(quantity(requests["memory"]), MODEL_PEAK_RSS + body_budget)
        # max_prompt_sets sets of 8 images at about 2.4 MB of features each, on top.
        sets = int(environment.get("INCTRL_MAX_PROMPT_SETS", defaults()["max_prompt_sets"]))
        self.assertGreaterEqual(quantity(limits["memory"]), MODEL_PEAK_RSS + body_budget + sets * 8 * 2.4e6)
        self.assertLessEqual(quantity(requests["memory"]), quantity(limits["memory"]))
        self.assertLessEqual(cpus(requests["cpu"]), cpus(limits["cpu"]))
        # oneDNN's threads match the CPUs the pod may use.
        self.assertEqual(float(environment["OMP_NUM_THREADS"]), cpus(limits["cpu"]))

    def test_ingress_limits_are_the_server_s(self):
        annotations = one("Ingress")["metadata"]["annotations"]
        configuration = defaults()
        self.assertEqual(annotations["nginx.ingress.kubernetes.io/upstream-hash-by"], "$arg_prompt_set")
        self.assertEqual(quantity(annotations["nginx.ingress.kubernetes.io/proxy-body-size"].replace("m", "Mi")),
                         configuration["max_body_bytes"])
        self.assertNotIn("non_idempotent", annotations["nginx.ingress.kubernetes.io/proxy-next-upstream"])

    def test_the_configuration_is_one_the_server_starts_with(self):
        """`inctrl serve` with the ConfigMap's settings and the Secret's keys file (only the
        model, data directory, port and database made local) becomes ready."""
        container = server_container()
        environment = container_environment(container)
        with tempfile.TemporaryDirectory(prefix="manifest-test-") as directory:
            directory = Path(directory)
            model = directory / "model"
            subprocess.run([arguments.bin, "model", "demo", "--size", "tiny", "--out", str(model),
                            "--vocab", arguments.vocab], check=True, stdout=subprocess.DEVNULL)
            keys_file = directory / "keys.json"
            secret = one("Secret", "inctrl-secrets")["stringData"]
            keys_file.write_text(secret["keys.json"])
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            environment.update(INCTRL_PORT=str(port), INCTRL_MODEL=str(model), INCTRL_DATA_DIR=str(directory / "data"),
                               INCTRL_API_KEYS_FILE=str(keys_file), INCTRL_STORE="file")
            environment = dict({k: v for k, v in os.environ.items() if not k.startswith("INCTRL_")}, **environment)
            log_path = directory / "server.log"
            with open(log_path, "wb") as log:
                server = subprocess.Popen([arguments.bin] + [image_file(a) for a in container["command"][1:]],
                                          cwd=directory, env=environment, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while True:
                    self.assertIsNone(server.poll(), log_path.read_text(errors="replace")[-2000:])
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                            if response.status == 200:
                                break
                    except (urllib.error.URLError, OSError):
                        pass
                    self.assertLess(time.monotonic(), deadline, "ready within 60 s")
                    time.sleep(0.2)
                # The placeholder keys file holds no key: every keyed route is refused.
                with self.assertRaises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/prompts", timeout=5)
                self.assertEqual(refused.exception.code, 401)
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                    self.assertEqual(response.status, 200, "metrics_public")
            finally:
                server.send_signal(signal.SIGTERM)
                self.assertEqual(server.wait(timeout=30), 0)

    def test_start_server_prepare_only_stops_once_the_bundle_is_ready(self):
        with tempfile.TemporaryDirectory(prefix="manifest-test-") as directory:
            model = Path(directory) / "model"
            subprocess.run([arguments.bin, "model", "demo", "--size", "tiny", "--out", str(model),
                            "--vocab", arguments.vocab], check=True, stdout=subprocess.DEVNULL)
            environment = dict(os.environ, INCTRL_BIN=arguments.bin, INCTRL_VOCAB=arguments.vocab,
                               INCTRL_MODEL=str(model))
            environment.pop("INCTRL_CHECKPOINT", None)
            result = subprocess.run([str(REPOSITORY / "scripts/start-server"), "--prepare-only"], env=environment,
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("is ready", result.stderr)
            self.assertIn("DEMO MODEL", result.stderr)


class NginxTemplateTests(unittest.TestCase):
    """deploy/nginx/inctrl.conf.template against the server's defaults."""

    def directive(self, name):
        values = re.findall(rf"^\s*{name}\s+([^;]+);", NGINX_TEMPLATE.read_text(), re.M)
        self.assertEqual(len(values), 1, f"{name}: {values}")
        return values[0].strip()

    def test_limits_and_timeouts_are_the_server_s(self):
        configuration = defaults()
        self.assertEqual(quantity(self.directive("client_max_body_size").replace("m", "Mi")), configuration["max_body_bytes"])
        count, size = self.directive("large_client_header_buffers").split()
        self.assertEqual(int(count) * quantity(size.replace("k", "Ki")), configuration["max_header_bytes"])
        self.assertEqual(seconds(self.directive("client_header_timeout")), configuration["header_timeout_s"])
        self.assertEqual(seconds(self.directive("client_body_timeout")), configuration["body_timeout_s"])
        self.assertEqual(seconds(self.directive("send_timeout")), configuration["write_timeout_s"])
        self.assertEqual(seconds(self.directive("proxy_send_timeout")), configuration["body_timeout_s"])
        # Two keepalive_timeout: the client side (the server's idle_timeout_s) and the upstream
        # side, shorter, so nginx never reuses a connection the replica is closing.
        text = NGINX_TEMPLATE.read_text()
        upstream = re.search(r"^upstream \S+ \{(.*?)^\}", text, re.M | re.S).group(1)
        server = re.search(r"^server \{(.*)^\}", text, re.M | re.S).group(1)
        upstream_idle = seconds(re.search(r"keepalive_timeout\s+(\S+);", upstream).group(1))
        client_idle = seconds(re.search(r"^\s*keepalive_timeout\s+(\S+);", server, re.M).group(1))
        self.assertEqual(client_idle, configuration["idle_timeout_s"])
        self.assertLess(upstream_idle, configuration["idle_timeout_s"])
        # nginx's own 413 says the server's limit.
        refusal = re.search(r"return 413 '(.*)\\n';", text).group(1)
        self.assertEqual(json.loads(refusal)["error"]["code"], "body_too_large")
        self.assertIn(f"larger than {configuration['max_body_bytes']} bytes", refusal)

    def test_the_filled_template_is_valid_nginx(self):
        filled = subprocess.run([sys.executable, str(REPOSITORY / "scripts/cluster"), "nginx-config", "--listen",
                                 "127.0.0.1:8088", "--replica", "10.0.0.11:8080", "--replica", "10.0.0.12:8080",
                                 "--access-log", "access.log"], check=True, capture_output=True, text=True).stdout
        self.assertEqual(len(re.findall(r"^\s*server 10\.0\.0\.1[12]:8080 max_fails", filled, re.M)), 2)
        self.assertNotIn("{{", "".join(l for l in filled.splitlines() if not l.lstrip().startswith("#")))
        with tempfile.TemporaryDirectory(prefix="nginx-test-") as directory:
            Path(directory, "inctrl.conf").write_text(filled)
            Path(directory, "nginx.conf").write_text(
                f"pid {directory}/nginx.pid;\nevents {{}}\nhttp {{\n    include {directory}/inctrl.conf;\n}}\n")
            result = subprocess.run(["nginx", "-t", "-p", directory, "-c", f"{directory}/nginx.conf", "-e",
                                     f"{directory}/error.log"], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)

    def test_affinity_and_retries(self):
        self.assertEqual(self.directive("hash"), "$inctrl_prompt_set consistent")
        retries = self.directive("proxy_next_upstream").split()
        self.assertEqual(sorted(retries), ["error", "timeout"], "connection errors and timeouts only, never non_idempotent")
        self.assertEqual(self.directive("proxy_set_header Authorization"), "$http_authorization")
        self.assertEqual(self.directive("proxy_set_header X-Forwarded-For"), "$proxy_add_x_forwarded_for")
        self.assertRegex(NGINX_TEMPLATE.read_text(), r"server \{\{replica\}\} max_fails=\d+ fail_timeout=\d+s;")


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
