"""The instructor page's similarity section in headless Chromium: compare the class, review a pair, see fragments."""

from pathlib import Path

import httpx
import pytest
from conftest import LiveService, wait_for
from similarity_fixtures import independent_solution, reference_solution, renamed
from test_svc_browser import browser  # noqa: F401 - the Chromium fixture
from test_svc_browser_instructor import shots, sign_in

from service.db import Database
from service.migrate import upgrade
from service.models import Role
from service.roster import issue_tokens

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_compare_review_and_fragments(browser, tmp_path: Path) -> None:  # noqa: ANN001, F811
    from selenium.webdriver.common.by import By

    service = LiveService(tmp_path / "var")
    try:
        service.start_api()
        database = Database(service.settings)
        upgrade(database)
        students = issue_tokens(database, ["alice", "bob", "carol"], Role.student)
        teacher = issue_tokens(database, ["prof"], Role.instructor)["prof"]
        database.dispose()
        for name, code in (
            ("alice", reference_solution()),
            ("bob", renamed(reference_solution())),
            ("carol", independent_solution()),
        ):
            files = [("files", ("vit.py", code.encode(), "text/x-python"))]
            headers = {"Authorization": f"Bearer {students[name]}"}
            assert httpx.post(f"{service.url}/api/v1/submissions", files=files, headers=headers).status_code == 202
        sign_in(browser, service.url, teacher)
        wait_for(lambda: "No run yet" in browser.find_element(By.ID, "similarity-note").text, timeout=20)
        browser.find_element(By.ID, "similarity-run").click()
        rows = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#similarity-pairs tbody tr"), timeout=60)
        assert rows[0].text.startswith("alice ~ bob 1"), rows[0].text
        assert "carol" not in rows[0].text
        rows[0].find_element(By.TAG_NAME, "select").send_keys("to_discuss")
        rows[0].find_element(By.TAG_NAME, "input").send_keys("same helper names")
        rows[0].find_elements(By.TAG_NAME, "button")[0].click()
        wait_for(lambda: rows[0].find_elements(By.TAG_NAME, "button")[0].text == "Saved", timeout=20)
        rows[0].find_elements(By.TAG_NAME, "button")[1].click()
        fragments = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#similarity-fragments pre"), timeout=20)
        assert "class" in fragments[0].text
        browser.save_screenshot(str(shots(tmp_path) / "similarity.png"))
        auth = {"Authorization": f"Bearer {teacher}"}
        run_id = httpx.get(f"{service.url}/api/v1/instructor/similarity/runs", headers=auth).json()[0]["id"]
        pairs = httpx.get(f"{service.url}/api/v1/instructor/similarity/runs/{run_id}", headers=auth).json()["pairs"]
        assert pairs[0]["review"]["status"] == "to_discuss" and pairs[0]["review"]["note"] == "same helper names"
    finally:
        service.stop()
