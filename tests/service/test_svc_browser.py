"""The student page in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

Paste a token, drop the reference's files, submit, watch the queue, read full marks in the per-question
tables; a file name with markup is shown as text, never as HTML.
"""

import shutil
import tempfile
from pathlib import Path

import httpx
import pytest
from conftest import LiveService, wait_for

from service import queue
from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.progress import Progress
from service.roster import issue_tokens

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser():  # noqa: ANN201
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="vitgrade-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_submit_the_reference_and_see_full_marks(
    browser,
    live_service: LiveService,
    reference_submission: list[Path],
    tmp_path: Path,  # noqa: ANN001
) -> None:
    from selenium.webdriver.common.by import By

    database = Database(live_service.settings)
    upgrade(database)
    token = issue_tokens(database, ["alice"], Role.student)["alice"]
    database.dispose()
    live_service.start_api()
    live_service.start_worker()
    # a file whose name is markup: it must show as text
    evil = httpx.post(
        f"{live_service.url}/api/v1/submissions",
        files=[("files", ("<img src=x onerror=alert(1)>.md", b"## Q3\n<script>alert(2)</script>\n", "text/plain"))],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert evil.status_code == 202

    browser.get(live_service.url + "/")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
    wait_for(lambda: "alice" in browser.find_element(By.ID, "whoami").text, timeout=20)
    wait_for(lambda: "<img src=x" in browser.find_element(By.ID, "history").text, timeout=20)
    assert browser.find_elements(By.CSS_SELECTOR, "#history img") == []

    browser.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in reference_submission))
    browser.find_element(By.ID, "submit").click()
    wait_for(lambda: browser.find_element(By.ID, "current-id").text, timeout=20)
    total = wait_for(lambda: browser.find_elements(By.ID, "total-score"), timeout=900, interval=1)[0].text
    scored, maximum = (float(x) for x in total.removeprefix("Score: ").split(" / "))
    assert scored == maximum > 0, total
    tables = browser.find_elements(By.CSS_SELECTOR, "table.checks")
    assert {t.get_attribute("data-question") for t in tables} >= {"Q1", "Q2", "Q3", "Q4", "Q5", "Q6"}
    assert browser.find_elements(By.CSS_SELECTOR, "table.checks tr.failed, table.checks tr.error") == []


def test_a_running_grade_shows_its_progress_as_numbers(browser, live_service: LiveService) -> None:  # noqa: ANN001
    """The page draws the job's stored numbers (checks done of the total) and its label; nothing is parsed."""
    from selenium.webdriver.common.by import By

    database = Database(live_service.settings)
    upgrade(database)
    token = issue_tokens(database, ["alice"], Role.student)["alice"]
    live_service.start_api()
    answer = httpx.post(
        f"{live_service.url}/api/v1/submissions",
        files=[("files", ("answers.md", b"## Q3\nattention\n", "text/markdown"))],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 202
    claim = queue.claim(database, "test-worker", "cpu", lease_s=600)  # a worker grading it, as seen by the API
    assert queue.heartbeat(database, claim, 600, Progress.of(4, 10, "q2.shape passed"))
    database.dispose()

    browser.get(live_service.url + "/")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#history tbody tr button"), timeout=20)[0].click()
    bar = browser.find_element(By.ID, "current-progress")
    wait_for(lambda: bar.get_attribute("value") == "4", timeout=20)
    assert bar.get_attribute("max") == "10" and bar.is_displayed()
    assert browser.find_element(By.ID, "current-detail").text == "check 4 of 10: q2.shape passed"
