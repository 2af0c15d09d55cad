"""The instructor page and the student's deadline line in headless Chromium, with screenshots in the test output.

Seeded over the real API and the real queue (no worker: grades are recorded as a worker records them).
Screenshots go to ``$VITGRADE_SCREENSHOTS`` (default: the test's tmp_path), never into the repository.
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import LiveService, wait_for
from test_svc_browser import browser  # noqa: F401 - the Chromium fixture
from test_svc_overrides import report

from service import queue
from service.db import Database
from service.migrate import upgrade
from service.models import Role, Submission
from service.roster import issue_tokens

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def seed(service: LiveService) -> tuple[str, str, str]:
    database = Database(service.settings)
    upgrade(database)
    students = issue_tokens(database, ["alice", "=evil()"], Role.student)
    teacher = issue_tokens(database, ["prof"], Role.instructor)["prof"]
    auth = {"Authorization": f"Bearer {teacher}"}
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert httpx.put(f"{service.url}/api/v1/instructor/policy", json={"due_at": due}, headers=auth).status_code == 200
    for token, q1 in ((students["alice"], 4), (students["=evil()"], 1)):
        answer = httpx.post(
            f"{service.url}/api/v1/submissions",
            files=[("files", ("<img src=x onerror=alert(1)>.py", b"import torch\n", "text/plain"))],
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 202
        claim = queue.claim(database, "test", "cpu", 30)
        with database.session() as session:
            user_id = session.get(Submission, claim.submission_id).user_id
        assert queue.complete(database, claim, report(q1, 5), user_id)
    database.dispose()
    return teacher, students["alice"], answer.json()["id"]


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("VITGRADE_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(driver, url: str, token: str) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    driver.get(url + "/")
    driver.execute_script("localStorage.clear()")
    driver.get(url + "/")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()


def test_instructor_page_grades_histograms_override_and_student_deadline(
    browser,  # noqa: ANN001, F811
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    service = LiveService(tmp_path / "var")
    try:
        service.start_api()
        teacher, alice, evil_submission = seed(service)
        sign_in(browser, service.url, teacher)
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#grades tbody tr")) == 2, timeout=20)
        assert not browser.find_element(By.ID, "instructor").get_attribute("hidden")
        assert browser.find_element(By.ID, "submit-section").get_attribute("hidden")
        grades = browser.find_element(By.ID, "grades").text
        assert "=evil()" in grades and "alice" in grades and "9" in grades
        figures = browser.find_elements(By.CSS_SELECTOR, "#histograms figure")
        assert {f.get_attribute("data-question") for f in figures} == {"Q1", "Q2"}
        rows = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#submissions tbody tr"), timeout=20)
        target = next(r for r in rows if r.get_attribute("data-id") == evil_submission)
        target.find_element(By.TAG_NAME, "button").click()
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#detail-checks tbody tr"), timeout=20)
        assert "<img src=x" in browser.find_element(By.ID, "detail-files").text  # text, not markup
        assert browser.find_elements(By.CSS_SELECTOR, "#instructor img") == []
        browser.find_element(By.ID, "override-check").send_keys("q1.shape")
        browser.find_element(By.ID, "override-score").send_keys("5")
        browser.find_element(By.ID, "override-reason").send_keys("reshape order is fine")
        browser.find_element(By.CSS_SELECTOR, "#override-form button").click()
        wait_for(lambda: "effective score 10" in browser.find_element(By.ID, "override-note").text, timeout=20)
        wait_for(lambda: "10" in browser.find_element(By.ID, "grades").text, timeout=20)
        browser.save_screenshot(str(shots(tmp_path) / "instructor-page.png"))
        browser.find_element(By.CSS_SELECTOR, "#review-form button").click()
        wait_for(lambda: "groups for written.q3" in browser.find_element(By.ID, "review-note").text, timeout=20)
        assert browser.find_elements(By.CSS_SELECTOR, "#review-groups .review-group form")
        assert "due_at" in browser.find_element(By.ID, "policy-json").get_attribute("value")
        assert "prof" in browser.find_element(By.ID, "roster").text
        assert browser.find_element(By.ID, "requests-note").text == "None open."

        sign_in(browser, service.url, alice)
        wait_for(lambda: "Due " in browser.find_element(By.ID, "deadline").text, timeout=20)
        wait_for(lambda: "on time" in browser.find_element(By.ID, "history").text, timeout=20)
        assert browser.find_element(By.ID, "instructor").get_attribute("hidden")
        browser.save_screenshot(str(shots(tmp_path) / "student-page.png"))
    finally:
        service.stop()


def test_the_submissions_table_pages_through_the_class(browser, tmp_path: Path) -> None:  # noqa: ANN001, F811
    """Twelve submissions at ten a page: two pages, newest first, none shown twice or left out."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    service = LiveService(tmp_path / "var")
    try:
        service.start_api()
        database = Database(service.settings)
        upgrade(database)
        students = issue_tokens(database, ["ann", "bob", "cem"], Role.student)
        teacher = issue_tokens(database, ["prof"], Role.instructor)["prof"]
        database.dispose()
        made = set()
        for token in list(students.values()) * 4:
            answer = httpx.post(
                f"{service.url}/api/v1/submissions",
                files=[("files", ("vit.py", b"import torch\n", "text/plain"))],
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 202, answer.text
            made.add(answer.json()["id"])
        sign_in(browser, service.url, teacher)

        def shown() -> list[str]:
            script = "return [...document.querySelectorAll('#submissions tbody tr')].map((r) => r.dataset.id)"
            return browser.execute_script(script)  # read at once: the table is replaced as pages load

        wait_for(lambda: len(shown()) == 12, timeout=20)  # the default page (50) holds them all
        assert browser.find_element(By.ID, "page-next").get_attribute("disabled") is not None
        Select(browser.find_element(By.ID, "page-size")).select_by_visible_text("10")
        wait_for(lambda: len(shown()) == 10, timeout=20)
        first = shown()
        assert browser.find_element(By.ID, "page-range").text == "rows 1-10"
        assert browser.find_element(By.ID, "page-prev").get_attribute("disabled") is not None
        browser.find_element(By.ID, "page-next").click()
        wait_for(lambda: len(shown()) == 2, timeout=20)
        second = shown()
        assert browser.find_element(By.ID, "page-range").text == "rows 11-12"
        assert browser.find_element(By.ID, "page-next").get_attribute("disabled") is not None
        assert set(first) | set(second) == made and not set(first) & set(second)
        browser.find_element(By.ID, "page-prev").click()
        wait_for(lambda: shown() == first, timeout=20)
    finally:
        service.stop()
