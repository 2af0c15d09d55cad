"""The instructor page's LMS push buttons in headless Chromium: the service as a real process, the stand-in LMS
(``lti_platform``) under uvicorn fetching the service's JWKS. Screenshots go to the test output only."""

from pathlib import Path

import httpx
import pytest
from conftest import LiveService, free_port, wait_for
from lti_platform import LEARNER, PlatformState, platform_app, serve
from sqlalchemy import update
from test_svc_browser import browser  # noqa: F401 - the Chromium fixture
from test_svc_browser_instructor import seed, shots, sign_in

from service.db import Database
from service.lti import keys
from service.models import User

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_instructor_pushes_grades_to_the_lms(browser, tmp_path: Path) -> None:  # noqa: ANN001, F811
    from selenium.webdriver.common.by import By

    key = tmp_path / "tool.pem"
    keys.generate(key)
    port = free_port()
    lms = f"http://127.0.0.1:{port}"
    members = [{"user_id": "u-alice", "name": "Alice A", "email": "alice@example.edu", "roles": [LEARNER]}]
    service = LiveService(
        tmp_path / "var", VITGRADE_LTI_ISSUER="https://lms.test", VITGRADE_LTI_CLIENT_ID="c-1",
        VITGRADE_LTI_AUTH_TOKEN_URL=f"{lms}/token", VITGRADE_LTI_LINEITEMS_URL=f"{lms}/lineitems",
        VITGRADE_LTI_MEMBERSHIPS_URL=f"{lms}/memberships", VITGRADE_LTI_PRIVATE_KEY_PATH=str(key),
    )  # fmt: skip
    state = PlatformState(url=lms, client_id="c-1", members=members, tool_jwks_url=f"{service.url}/lti/jwks.json")
    try:
        with serve(platform_app(state), port):
            service.start_api()
            teacher, _, _ = seed(service)
            database = Database(service.settings)
            with database.session() as session, session.begin():
                session.execute(update(User).where(User.name == "alice").values(email="alice@example.edu"))
            database.dispose()
            sign_in(browser, service.url, teacher)
            wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#grades tbody tr")) == 2, timeout=20)
            browser.find_element(By.ID, "lti-dry-run").click()
            note = browser.find_element(By.ID, "export-note")
            wait_for(lambda: "Dry run: would post 1 score to a new column" in note.text, timeout=30)
            assert "Not in the LMS course: =evil()" in note.text and state.scores == []
            browser.find_element(By.ID, "lti-push").click()
            browser.switch_to.alert.accept()
            wait_for(lambda: note.text.startswith("Posted 1 score to a new column"), timeout=30)
            auth = {"Authorization": f"Bearer {teacher}"}
            grades = httpx.get(f"{service.url}/api/v1/instructor/grades", headers=auth)
            alice = next(g for g in grades.json() if g["student"] == "alice")
            assert [(b["userId"], b["scoreGiven"]) for _, b in state.scores] == [("u-alice", alice["final_score"])]
            browser.save_screenshot(str(shots(tmp_path) / "instructor-lti-push.png"))
    finally:
        service.stop()
