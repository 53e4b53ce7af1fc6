"""`liveguard web` in a real headless browser (Debian's chromium through chromedriver), over a real store
filled by `liveguard serve` -> mosquitto -> `liveguard collect`: the list shows the results and a filter
narrows it, a result's page shows its fields and evidence and the keyframe the running box sends over
MQTT v5 request/response (sha256 checked), a box that went offline is said to be, device text such as
an OCR line holding `<script>` stays text, and no page or API path answers without a login.

Set LIVEGUARD_SCREENSHOTS=DIR to keep the browser's screenshots of each page (the README's come from here).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from broker import Mosquitto, free_port, needs_mosquitto
from daemon import ThreadedDaemon, serve_config, wait_until, write_config
from fleet import Box, CentreProcess, Fleet, centre_config
from workspace import DEMO, REPO

from edge.centre.store import open_store
from edge.centre.web.auth import hash_password
from edge.config.models import StoreConfig

CHROMIUM, DRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = [
    needs_mosquitto,
    pytest.mark.skipif(not (Path(CHROMIUM).is_file() and Path(DRIVER).is_file()),
                       reason="needs chromium and chromium-driver (tools/install.sh --test installs them)"),
]

PASSWORD = "correct horse battery"
XSS = '<script>window.__injected = 1</script><b id="bold">AURORA</b> <img src=x onerror="window.__injected=2">'


class WebProcess:
    """``liveguard web -c FILE`` as a child process on a free port, its log in a file."""

    def __init__(self, folder: Path, config: Path, port: int, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = folder / "web.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "edge.cli", "web", "-c", str(config), "--client-id", "web-test"],
                                        cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1", **env})
        assert wait_until(lambda: "listening on" in self.log() or self.process.poll() is not None, 60), self.log()
        assert wait_until(lambda: _answers(self.url), 30), self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)
        self._log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    """A box serving the demo clip (bundled detector, 5 s windows), a simulated box whose evidence carries HTML
    in an OCR line and a claim and that then goes offline, the collector and the page."""
    folder = tmp_path_factory.mktemp("web")
    broker = Mosquitto(folder / "broker").start()
    store_url = f"sqlite:///{folder / 'centre.sqlite'}"
    stack = []
    try:
        collector = CentreProcess(folder, centre_config(folder, broker.port, store_url), "collector-web")
        stack.append(collector)
        clips = folder / "clips"
        clips.mkdir()
        shutil.copy(DEMO, clips / "demo.mp4")
        config = serve_config(folder, [{"id": "studio", "url": str(clips / "demo.mp4")}], broker.port,
                              detector={"model": "bundled:detector.onnx"}, windows={"window_s": 5.0, "overlap_s": 0.0, "files": "windows"})
        daemon = ThreadedDaemon(write_config(folder / "serve.yaml", config)).__enter__()
        stack.append(daemon)

        fleet = Fleet(folder / "fleet")
        evidence = fleet.evidence("box-x", "night", 0)
        evidence["ocr"]["lines"][0]["text"] = XSS
        evidence["keyframes"][0]["jpeg_sha256"] = hashlib.sha256(b"a frame only box-x ever had").hexdigest()  # never cached here
        flag = {"rule": "absolute-terms", "rule_set": "cn-mainland", "family": "absolute", "reference": "《广告法》第九条 <i>art. 9</i>",
                "severity": "high", "matched": "全网最低", "text": "全网最低价 <script>window.__injected = 3</script>",
                "modality": "asr", "segment": [1.0, 2.5]}
        evidence["claims"] = {"rule_sets": ["cn-mainland"], "flags": [flag]}
        other = Box(folder / "box-x", broker.port, "box-x")
        other.send(evidence, fleet.fuse(evidence))
        assert other.drained(30)
        other.close()  # its status goes offline: the page cannot fetch its keyframe

        def stored() -> int:
            with open_store(StoreConfig(url=store_url)) as store:
                return store.count("results") if store.count("evidence") >= 3 else 0

        assert wait_until(lambda: stored() >= 3, 240), collector.log()
        web_config = centre_config(folder, broker.port, store_url,
                                   web={"port": free_port(), "users_env": "LIVEGUARD_WEB_USERS", "cache_dir": str(folder / "cache"),
                                        "keyframe_timeout_s": 10.0})
        port = yaml.safe_load(web_config.read_text())["centre"]["web"]["port"]
        web = WebProcess(folder, web_config, port, {"LIVEGUARD_WEB_USERS": f"alice:{hash_password(PASSWORD)}"})
        stack.append(web)
        yield {"url": web.url, "store": store_url, "web": web, "daemon": daemon, "xss_id": evidence["id"], "folder": folder,
               "broker_port": broker.port}
    finally:
        for part in reversed(stack):
            part.stop() if not isinstance(part, ThreadedDaemon) else part.__exit__(None, None, None)
        broker.stop()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    """The whole page as the browser drew it, when LIVEGUARD_SCREENSHOTS names a folder."""
    folder = os.environ.get("LIVEGUARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        height = min(int(driver.execute_script("return document.documentElement.scrollHeight")), 3000)
        driver.set_window_size(1280, max(height, 600))
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
        driver.set_window_size(1280, 1000)


def log_in(driver, url: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/results")
    assert "/login" in driver.current_url
    driver.find_element(By.ID, "user").send_keys("alice")
    driver.find_element(By.ID, "password").send_keys("wrong password")
    driver.find_element(By.ID, "login-button").click()
    assert wait_until(lambda: driver.find_elements(By.ID, "login-error"), 10)
    assert "Wrong user name or password" in driver.find_element(By.ID, "login-error").text
    shot(driver, "login")
    driver.find_element(By.ID, "user").clear()
    driver.find_element(By.ID, "user").send_keys("alice")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    assert wait_until(lambda: driver.current_url.endswith("/results") and rows_ready(driver), 10), driver.current_url


def rows_ready(driver) -> bool:
    """The results page has been drawn (its table is there)."""
    from selenium.webdriver.common.by import By

    return bool(driver.find_elements(By.ID, "results"))


def rows(driver) -> list:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#results tr.result-row")


def test_without_a_login_every_page_and_api_path_answers_401_or_redirects_to_login(centre):
    from edge.centre.web.app import create_app

    some = centre["xss_id"]
    paths = {"/": "page", "/results": "page", f"/results/{some}": "page", "/devices": "page", "/api/results": "api",
             f"/api/results/{some}": "api", "/api/devices": "api", f"/api/keyframes/{some}/0": "api",
             f"/keyframes/{some}/0.jpg": "api", "/static/app.js": "api"}
    app = create_app(None, None, None, None)  # only its routes are read
    declared = {route.path for route in app.routes} - {"/login", "/logout", "/static"}
    walked = {path.replace(some, "{evidence_id}").replace("/0.jpg", "/{index:int}.jpg").replace("/0", "/{index:int}") for path in paths}
    assert declared <= walked | {"/static"}, declared - walked
    for path, kind in paths.items():
        answer = httpx.get(centre["url"] + path, follow_redirects=False, timeout=10)
        if kind == "page":
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), (path, answer.status_code)
        else:
            assert answer.status_code == 401 and answer.json() == {"error": "login required"}, (path, answer.status_code)
    assert httpx.post(centre["url"] + "/logout", timeout=10).status_code == 401
    forged = httpx.get(centre["url"] + "/api/results", cookies={"liveguard_session": "forged"}, timeout=10)
    assert forged.status_code == 401


def test_the_list_shows_the_results_and_a_filter_narrows_it(centre, browser):
    from selenium.webdriver.common.by import By

    log_in(browser, centre["url"])
    listed = rows(browser)
    with open_store(StoreConfig(url=centre["store"])) as store:
        assert len(listed) == store.count("results") >= 3
    assert {row.find_element(By.CSS_SELECTOR, "td.brand").text for row in listed} >= {"AURORA"}
    shot(browser, "results")
    browser.find_element(By.NAME, "device").send_keys("box-1")
    browser.find_element(By.ID, "filter-button").click()
    assert wait_until(lambda: "device=box-1" in browser.current_url and rows_ready(browser), 10)
    narrowed = rows(browser)
    assert 2 <= len(narrowed) < len(listed) and "device=box-1" in browser.current_url
    assert all("/ box-1 /" in row.text for row in narrowed)
    browser.get(centre["url"] + "/results?low=abc")
    assert "low" in browser.find_element(By.TAG_NAME, "body").text  # a bad parameter is named, not ignored


def test_a_result_page_shows_fields_evidence_and_the_keyframe_from_the_running_box(centre, browser):
    from selenium.webdriver.common.by import By

    browser.get(centre["url"] + "/results?device=box-1")
    row = rows(browser)[-1]
    evidence_id = row.get_attribute("data-id")
    row.find_element(By.TAG_NAME, "a").click()
    assert wait_until(lambda: browser.find_elements(By.ID, "fields"), 10)
    fields = {tr.get_attribute("data-field"): tr.find_element(By.CSS_SELECTOR, "td.value").text
              for tr in browser.find_elements(By.CSS_SELECTOR, "#fields tr.field")}
    assert fields["brand"] == "AURORA" and "Face Cream" in fields["product_name"] and fields["category"].startswith("Health & Beauty")
    ocr = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#ocr td.ocr-text")]
    assert "AURORA" in ocr
    assert browser.find_elements(By.CSS_SELECTOR, "#ocr tr.overlay")  # the live room's lines are marked as such
    figure = browser.find_element(By.CSS_SELECTOR, "figure.keyframe")
    status = figure.find_element(By.CSS_SELECTOR, ".keyframe-status")
    assert wait_until(lambda: status.text != "asking the box…", 20)
    assert status.text == "sha256 checked", status.text
    width = browser.execute_script("return arguments[0].naturalWidth", figure.find_element(By.TAG_NAME, "img"))
    assert width == 540  # the demo's keyframe, as the box stored it
    assert figure.find_elements(By.CSS_SELECTOR, "svg.boxes rect.product")  # the detector's product box drawn over it
    with open_store(StoreConfig(url=centre["store"])) as store:
        sha256 = store.result(evidence_id)["evidence"]["keyframes"][0]["jpeg_sha256"]
    assert sha256 in figure.text
    assert (centre["folder"] / "cache" / f"{sha256}.jpg").is_file()  # checked and cached at the centre
    assert browser.find_elements(By.CSS_SELECTOR, "#curve circle.chosen")  # the score curve with its keyframe marked
    shot(browser, "result")


def test_a_result_whose_box_is_offline_says_so_and_device_html_stays_text(centre, browser):
    from selenium.webdriver.common.by import By

    browser.get(centre["url"] + f"/results/{centre['xss_id']}")
    status = browser.find_element(By.CSS_SELECTOR, "figure.keyframe .keyframe-status")
    assert wait_until(lambda: status.text != "asking the box…", 20)
    assert status.text.startswith("The box is offline"), status.text
    cells = browser.find_elements(By.CSS_SELECTOR, "#ocr td.ocr-text")
    assert cells[0].text == XSS  # shown as the characters it is
    assert not cells[0].find_elements(By.XPATH, ".//*")  # no element was made of it
    claim = browser.find_element(By.CSS_SELECTOR, "#claims td.claim-text")
    assert "<script>" in claim.text and not claim.find_elements(By.XPATH, ".//*")
    assert browser.execute_script("return window.__injected === undefined")
    scripts = [s.get_attribute("src") for s in browser.find_elements(By.TAG_NAME, "script")]
    assert scripts == [centre["url"] + "/static/app.js"]
    shot(browser, "result-offline")


def test_the_devices_page_shows_online_and_offline_boxes_and_the_list_updates_live(centre, browser):
    from selenium.webdriver.common.by import By

    browser.get(centre["url"] + "/devices")
    states = {row.get_attribute("data-device"): row.find_element(By.CSS_SELECTOR, "td.state").text
              for row in browser.find_elements(By.CSS_SELECTOR, "#devices tr.device-row")}
    assert states == {"box-1": "online", "box-x": "offline"}
    assert "studio" in browser.find_element(By.CSS_SELECTOR, 'tr[data-device="box-1"]').text
    shot(browser, "devices")
    browser.get(centre["url"] + "/results")
    before = len(rows(browser))
    fleet = Fleet(centre["folder"] / "fleet")
    late = fleet.evidence("box-y", "late", 7)
    box = Box(centre["folder"] / "box-y", centre["broker_port"], "box-y")
    box.send(late, fleet.fuse(late))
    assert box.drained(30)
    box.close()
    assert wait_until(lambda: len(rows(browser)) == before + 1, 30)  # arrived without a reload
    assert rows(browser)[0].get_attribute("data-id") == late["id"]


def test_operators_lines_come_from_web_passwd_and_hold_no_password(tmp_path):
    done = subprocess.run([sys.executable, "-m", "edge.cli", "web", "passwd", "alice"], input=PASSWORD + "\n", capture_output=True,
                          text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("alice:scrypt$") and PASSWORD not in line
    from edge.centre.web.auth import Sessions, parse_users

    sessions = Sessions(parse_users(line, "test"), lifetime_s=60, clock=lambda: now[0])
    now = [0.0]
    token = sessions.login("alice", PASSWORD, "127.0.0.1")
    assert token and sessions.user(token) == "alice"
    now[0] = 61.0
    assert sessions.user(token) is None  # expired when unused
    for _ in range(5):
        assert sessions.login("alice", "nope", "10.0.0.9") is None
    assert sessions.login("alice", PASSWORD, "10.0.0.9") is None and sessions.paused("alice", "10.0.0.9")
    now[0] += 61
    assert sessions.login("alice", PASSWORD, "10.0.0.9")
    short = subprocess.run([sys.executable, "-m", "edge.cli", "web", "passwd", "bob"], input="short\n", capture_output=True,
                           text=True, cwd=REPO, timeout=60)
    assert short.returncode == 2 and "at least 8 characters" in short.stderr


def test_a_keyframe_the_box_no_longer_keeps_is_said_to_be_rotated_out(centre, browser):
    """A stored result of the running box whose keyframe its store does not hold (rotated out): the box answers
    not-found, and the page says so."""
    import copy
    import time

    from selenium.webdriver.common.by import By

    from edge.centre.store import Record

    with open_store(StoreConfig(url=centre["store"])) as store:
        row = next(r for r in store.results() if r["device"] == "box-1")
        evidence, result = copy.deepcopy(row["evidence"]), copy.deepcopy(row["result"])
        evidence["id"] = result["evidence_id"] = "f" * 32
        evidence["keyframes"][0]["jpeg_sha256"] = hashlib.sha256(b"a frame box-1 rotated out long ago").hexdigest()
        now = time.time()
        store.write([Record("evidence", evidence["id"], "lab", "box-1", "studio", "test", now, evidence),
                     Record("result", evidence["id"], "lab", "box-1", "studio", "test", now, result)])
    browser.get(centre["url"] + f"/results/{'f' * 32}")
    status = browser.find_element(By.CSS_SELECTOR, "figure.keyframe .keyframe-status")
    assert wait_until(lambda: status.text != "asking the box…", 20)
    assert status.text.startswith("The box has rotated this keyframe out of its store"), status.text
