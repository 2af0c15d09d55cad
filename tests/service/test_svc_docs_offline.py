"""/docs and /redoc work without the internet: every script, style and icon they load is served by us."""

import re

from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


def loaded_urls(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


def test_docs_pages_load_only_local_assets(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        answer = client.get(page)
        assert answer.status_code == 200, page
        urls = loaded_urls(answer.text)
        assert urls, f"{page} loads nothing?"
        external = [u for u in urls if re.match(r"^(https?:)?//", u)]
        assert external == [], f"{page} loads external URLs: {external}"
        for url in urls:
            assert client.get(url).status_code == 200, f"{page}: {url} is not served"
    assert "validatorUrl" in client.get("/docs").text  # no badge fetched from validator.swagger.io
