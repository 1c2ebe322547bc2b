#!/usr/bin/env python3
"""End-to-end tests of the web console (GET /) in headless Chromium driven by Selenium.

Starts the real server on a tiny demo model with a fresh data directory, then works the page
as an operator would: registers a prompt set by uploading images, reads its calibration,
scores an image and looks at the heat-map, moves the threshold, saves it, deletes the set.
After every test the browser's console must hold no error and every request the page made
must have gone to the server's own origin (or be a data: or blob: URL).

Usage: test_console.py [--bin PATH] [--vocab PATH]
  --bin    the built `inctrl` executable (default: $INCTRL_BIN)
  --vocab  the CLIP vocabulary bpe_simple_vocab_16e6.txt.gz (default: $INCTRL_VOCAB)
Screenshots go to $CONSOLE_SCREENSHOTS (default: a new temporary directory).
Needs Debian's chromium, chromium-driver and python3-selenium (scripts/console-test).
Exits non-zero on failure; the last line reads `N passed, M failed`.
"""

import argparse
import base64
import hashlib
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

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

REPOSITORY = Path(__file__).resolve().parents[2]
CELLS = REPOSITORY / "Tests/Fixtures/imaging/inputs"
NORMAL = [CELLS / f"png_elpv_cell{n}_functional.png" for n in ("0004", "0009", "0011")]
DEFECTIVE = CELLS / "png_elpv_cell0001_defective.png"
TIMEOUT = 60


class Server:
    """`inctrl serve` on a free loopback port with a tiny demo model and an empty data directory."""

    def __init__(self, binary, vocabulary, workdir):
        self.workdir = Path(workdir)
        model = self.workdir / "model"
        subprocess.run(
            [binary, "model", "demo", "--size", "tiny", "--out", str(model), "--vocab", vocabulary],
            check=True, stdout=subprocess.DEVNULL)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "server.log"
        environment = dict(
            os.environ, INCTRL_HOST="127.0.0.1", INCTRL_PORT=str(self.port), INCTRL_MODEL=str(model),
            INCTRL_DATA_DIR=str(self.workdir / "data"))
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([binary, "serve"], env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def wait_until_ready(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.origin + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server was not ready within {TIMEOUT} s:\n{self.log_tail()}")

    def log_tail(self, lines=30):
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        """Stops the server (SIGTERM, then SIGKILL after 15 s) and returns its log's last lines."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        tail = self.log_tail()
        self.log.close()
        return tail


def start_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


server = None
driver = None
workdir = None
screenshots = None
arguments = None
server_log = ""


def setUpModule():
    global server, driver, workdir, screenshots
    workdir = tempfile.TemporaryDirectory(prefix="console-test-")
    screenshots = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tempfile.mkdtemp(prefix="console-screenshots-"))
    screenshots.mkdir(parents=True, exist_ok=True)
    server = Server(arguments.bin, arguments.vocab, workdir.name)
    try:
        driver = start_browser()
        driver.get(server.origin + "/")
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    global driver, server, server_log
    try:
        if driver is not None:
            driver.quit()
            driver = None
    finally:
        if server is not None:
            server_log = server.stop()
            server = None
        workdir.cleanup()
    print(f"screenshots: {screenshots}", file=sys.stderr)


def wait(condition, message, timeout=TIMEOUT):
    """Waits until `condition()` is truthy, and returns it; fails with `message` otherwise."""
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda _: condition(), message)


def element(id):
    return driver.find_element(By.ID, id)


def text(id):
    return element(id).text.strip()


def drop_files(zone_id, paths):
    """Drops the files at `paths` on an element, as dragging them from the desktop does."""
    files = [{"name": path.name, "data": base64.b64encode(path.read_bytes()).decode()} for path in paths]
    driver.execute_script("""
        const [zone, files] = arguments;
        const transfer = new DataTransfer();
        for (const file of files) {
            const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], file.name, {type: 'image/png'}));
        }
        for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        }
    """, element(zone_id), files)


def shot(name):
    path = screenshots / name
    driver.save_screenshot(str(path))
    return path


class ConsoleTests(unittest.TestCase):
    """One operator's session, in order (the tests are numbered because each builds on the last)."""

    #: Messages of the browser's console this test expects (as regular expressions).
    allowed_console_errors = ()

    def drain(self):
        """The console entries and the URLs requested since the last call; fails on a console
        error or a request to another origin."""
        console = driver.get_log("browser")
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requests.append(message["params"]["request"])
        errors = [
            entry["message"] for entry in console
            if entry["level"] == "SEVERE" and not any(re.search(allowed, entry["message"]) for allowed in self.allowed_console_errors)]
        self.assertEqual(errors, [], "the browser's console shows errors")
        foreign = [r["url"] for r in requests if not (r["url"].startswith(server.origin + "/") or r["url"].startswith(("data:", "blob:")))]
        self.assertEqual(foreign, [], "the page made requests to another origin")
        return console, requests

    def tearDown(self):
        self.drain()

    def set_rows(self):
        return driver.find_elements(By.CSS_SELECTOR, "#sets .set")

    def set_texts(self):
        """The listed prompt sets' texts, read at once (the list is redrawn as it changes)."""
        return driver.execute_script("return [...document.querySelectorAll('#sets .set')].map((row) => row.innerText)")

    def test_01_page_headers(self):
        with urllib.request.urlopen(server.origin + "/") as response:
            body = response.read()
            headers = response.headers
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertEqual(headers["ETag"], '"' + hashlib.sha256(body).hexdigest() + '"')
        self.assertEqual(headers["Cache-Control"], "no-cache")
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["Referrer-Policy"], "no-referrer")
        policy = headers["Content-Security-Policy"]
        self.assertIsNotNone(policy)
        for directive in ("default-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'",
                          "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"):
            self.assertIn(directive, policy)
        self.assertNotIn("unsafe-inline", policy)
        script = re.search(rb"<script>(.*?)</script>", body, re.S).group(1)
        digest = hashlib.sha256(script).digest()
        self.assertIn(f"'sha256-{base64.b64encode(digest).decode()}'", policy)
        self.assertNotRegex(body, rb"(src|href)=[\"']?(https?:)?//", "the page links to another origin")

        request = urllib.request.Request(server.origin + "/", headers={"If-None-Match": headers["ETag"]})
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request)
        self.assertEqual(raised.exception.code, 304)
        self.assertEqual(raised.exception.read(), b"")
        self.assertEqual(raised.exception.headers["ETag"], headers["ETag"])
        stale = urllib.request.Request(server.origin + "/", headers={"If-None-Match": '"0000"'})
        with urllib.request.urlopen(stale) as response:
            self.assertEqual(response.status, 200)

    def test_02_readiness_model_and_demo_banner(self):
        wait(lambda: text("ready") == "Ready", "the readiness pill never said Ready")
        self.assertIn("fp32", text("model"))
        self.assertIn("demo", text("model"))
        banner = element("demo-banner")
        self.assertTrue(banner.is_displayed(), "the demo banner is not shown")
        self.assertIn("mean nothing", banner.text)
        self.assertTrue(element("sets-empty").is_displayed())

    def test_03_register_a_prompt_set(self):
        element("class-name").send_keys("solar_cell")
        element("reg-files").send_keys("\n".join(str(path) for path in NORMAL))
        wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#reg-thumbs img")) == 3, "the three thumbnails never showed")
        element("register-button").click()
        wait(lambda: element("calibration").is_displayed() and text("calib-scores").count(",") == 2,
             "the calibration never appeared")
        self.assertRegex(text("calib-threshold"), r"^0\.\d{4}$")
        self.assertRegex(text("calib-pixel"), r"^\d+\.\d{4}$")
        rows = self.set_rows()
        self.assertEqual(len(rows), 1)
        self.assertIn("solar_cell", rows[0].text)
        self.assertIn("3 shots", rows[0].text)
        self.assertIn("calibrated", rows[0].text)
        self.assertEqual(rows[0].get_attribute("aria-current"), "true")
        self.assertIn("Registered", text("live"))
        shot("01-registered.png")

    def test_04_score_an_image(self):
        element("score-files").send_keys(str(DEFECTIVE))
        wait(lambda: element("result").is_displayed() and text("verdict-word") in ("PASS", "REJECT"), "no decision was shown")
        natural = lambda id: driver.execute_script("return document.getElementById(arguments[0]).naturalWidth", id)
        wait(lambda: natural("img-heatmap") > 0 and natural("img-original") > 0, "the heat-map or the image never loaded")
        self.assertTrue(element("img-heatmap").get_attribute("src").startswith("data:image/png;base64,"))
        self.assertTrue(element("img-original").get_attribute("src").startswith("blob:"))
        self.assertRegex(text("f-score"), r"^0\.\d{4}$")
        self.assertIn("calibrated", text("f-threshold"))
        self.assertRegex(text("f-regions"), r"^\d+ \(")
        chip = driver.find_element(By.CSS_SELECTOR, "#results .chip")
        self.assertIn(text("verdict-word"), chip.text)
        self.assertIn("png_elpv_cell0001_defective.png", text("live"))
        # Regions are boxes in the original image's pixels, drawn over the image as displayed.
        # The demo model's heat-map rises above no pixel threshold, so one region is put in
        # the shown result by hand.
        placed = driver.execute_script("""
            const result = state.results[state.current];
            result.data.regions = [{x: 30, y: 60, width: 90, height: 45, area_fraction: 0.05, peak: 0.5}];
            drawRegions();
            const image = document.getElementById('img-original');
            const shown = image.getBoundingClientRect();
            const box = document.querySelector('#regions rect.box').getBoundingClientRect();
            const scale = shown.width / image.naturalWidth;
            return [box.left - shown.left - 30 * scale, box.top - shown.top - 60 * scale,
                    box.width - 90 * scale, box.height - 45 * scale, scale];
        """)
        self.assertNotAlmostEqual(placed[4], 1.0, places=2, msg="the image is shown at its own size: nothing was scaled")
        for offset in placed[:4]:
            self.assertLess(abs(offset), 1.5, f"the region's box is off by {offset:.1f} px on screen: {placed}")
        element("show-regions").click()
        self.assertFalse(element("regions").is_displayed())
        element("show-regions").send_keys(Keys.SPACE)
        self.assertTrue(element("regions").is_displayed())
        driver.execute_script("state.results[state.current].data.regions = []; drawRegions()")
        # The opacity slider fades the heat-map.
        element("opacity").send_keys(Keys.HOME)
        self.assertEqual(element("img-heatmap").value_of_css_property("opacity"), "0")
        element("opacity").send_keys(Keys.END)
        self.assertEqual(element("img-heatmap").value_of_css_property("opacity"), "1")
        shot("02-scored.png")

    def test_05_score_several_images_dropped_at_once(self):
        others = [CELLS / f"png_elpv_cell{n}_defective.png" for n in ("0002", "0003")]
        drop_files("score-drop", others)
        wait(lambda: "Scored 2 of 2 images" in text("live"), "the two images were not both scored")
        chips = [chip.text for chip in driver.find_elements(By.CSS_SELECTOR, "#results .chip")]
        self.assertEqual(len(chips), 3)
        self.assertTrue(all(re.match(r"^(PASS|REJECT) 0\.\d{3}$", chip) for chip in chips), chips)
        self.assertEqual(text("caption"), "png_elpv_cell0002_defective.png")
        self.assertNotIn("over", element("score-drop").get_attribute("class"))
        driver.find_elements(By.CSS_SELECTOR, "#results button")[2].click()
        wait(lambda: text("caption") == "png_elpv_cell0003_defective.png", "choosing a result did not show it")
        driver.find_elements(By.CSS_SELECTOR, "#results button")[0].click()
        wait(lambda: text("caption") == "png_elpv_cell0001_defective.png", "choosing a result did not show it")
        # The whole page, for the documentation.
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, max(1000, height + 140))
        try:
            shot("03-several-scored.png")
        finally:
            driver.set_window_size(1400, 1000)

    def test_06_keyboard_reaches_every_control(self):
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        reached = []
        for _ in range(80):
            # Key events, not send_keys on the element: that would upload to a focused file input.
            ActionChains(driver).send_keys(Keys.TAB).perform()
            focused = driver.switch_to.active_element
            reached.append(focused.get_attribute("id") or focused.get_attribute("class"))
        for id in ("key-toggle", "refresh", "class-name", "reg-files", "register-button", "score-files",
                   "opacity", "show-regions", "thr", "thr-num", "thr-save"):
            self.assertIn(id, reached, f"Tab never reaches #{id}")
        self.assertIn("pick", reached, "Tab never reaches a prompt set")

    def test_07_threshold_slider_redecides(self):
        before = text("verdict-word")
        slider = element("thr")
        slider.send_keys(Keys.HOME if before == "PASS" else Keys.END)
        expected = "REJECT" if before == "PASS" else "PASS"
        wait(lambda: text("verdict-word") == expected, f"moving the slider did not turn {before} into {expected}")
        self.assertIn(expected, driver.find_element(By.CSS_SELECTOR, "#results .chip").text)
        self.assertIn("not saved", text("f-threshold"))

    def test_08_save_manual_threshold_and_reset(self):
        value = float(element("thr").get_attribute("value"))
        element("thr-save").click()
        wait(lambda: "manual" in self.set_texts()[0], "the set list never showed a manual threshold")
        self.assertIn(f"{value:.4f}", self.set_texts()[0])
        self.assertIn("manual", text("f-threshold"))
        self.assertIn("Saved", text("live"))
        element("thr-reset").click()
        wait(lambda: "calibrated" in self.set_texts()[0], "the set never went back to its calibrated threshold")
        self.assertIn("calibrated", text("f-threshold"))

    def test_09_api_errors_are_shown(self):
        self.allowed_console_errors = (r"status of 422",)
        bad = Path(workdir.name) / "not-an-image.png"
        bad.write_bytes(b"this is text, not a PNG")
        element("class-name").clear()
        element("class-name").send_keys("broken")
        element("reg-files").send_keys(str(bad))
        element("register-button").click()
        wait(lambda: "undecodable_image" in text("errors"), "the API's error code was not shown")
        message = driver.find_element(By.CSS_SELECTOR, "#errors .error")
        self.assertIn("Registering the prompt set failed", message.text)
        message.find_element(By.TAG_NAME, "button").click()
        self.assertEqual(text("errors"), "")
        element("reg-clear").click()
        self.assertEqual(len(self.set_rows()), 1)

    def test_10_api_key_is_sent_as_bearer_token(self):
        self.drain()
        element("key-toggle").click()
        self.assertTrue(element("key").is_displayed())
        element("key").send_keys("test-key-123", Keys.ENTER)
        wait(lambda: "\u2713" in text("key-toggle"), "the key was not taken")
        self.assertEqual(driver.execute_script("return sessionStorage.getItem('inctrl.apiKey')"), "test-key-123")
        time.sleep(0.5)
        _, requests = self.drain()
        authorised = [r for r in requests if r["url"].endswith("/prompts") and r["headers"].get("Authorization") == "Bearer test-key-123"]
        self.assertTrue(authorised, "GET /prompts went without the key")
        element("key-clear").click()
        self.assertIsNone(driver.execute_script("return sessionStorage.getItem('inctrl.apiKey')"))
        element("key-toggle").click()
        self.assertFalse(element("key-panel").is_displayed())

    def test_11_delete_the_set(self):
        self.set_rows()[0].find_element(By.CSS_SELECTOR, "button.danger").click()
        alert = wait(lambda: driver.switch_to.alert, "no confirmation was asked")
        self.assertIn("solar_cell", alert.text)
        alert.accept()
        wait(lambda: not self.set_texts() and element("sets-empty").is_displayed(), "the set is still listed")
        self.assertFalse(element("result").is_displayed())
        self.assertIn("Deleted", text("live"))
        with urllib.request.urlopen(server.origin + "/prompts") as response:
            self.assertEqual(json.load(response)["prompt_sets"], [])
        self.assertTrue(element("demo-banner").is_displayed())


def main():
    global arguments
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.environ.get("INCTRL_BIN"))
    parser.add_argument("--vocab", default=os.environ.get("INCTRL_VOCAB"))
    arguments = parser.parse_args()
    if not arguments.bin or not arguments.vocab:
        parser.error("give the inctrl executable and the vocabulary (--bin/--vocab or INCTRL_BIN/INCTRL_VOCAB)")
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(ConsoleTests)
    try:
        result = unittest.TextTestRunner(verbosity=2).run(suite)
    finally:
        if server is not None:  # interrupted before the module's tear-down
            tearDownModule()
    if not result.wasSuccessful() and server_log:
        print("the server's last log lines:\n" + server_log, file=sys.stderr)
    failed = len(result.failures) + len(result.errors)
    passed = max(0, result.testsRun - len(result.failures) - len([e for e in result.errors if isinstance(e[0], unittest.TestCase)]) - len(result.skipped))
    if result.testsRun == 0:
        failed = max(failed, 1)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
