"""Every page type is valid HTML by the Nu HTML checker (vnu.jar from npm's vnu-jar,
installed by `make check-html`); skipped where Java or the checker is missing."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture(scope="module")
def vnu():
    if shutil.which("java") is None or not VNU.exists():
        pytest.skip("the Nu HTML checker is not installed (make check-html installs it)")
    return VNU


def test_every_page_type_is_valid_html(vnu, site_pages, person_page, tmp_path):
    files: dict[Path, str] = {}
    for large in (False, True):
        for kind, (phone, path) in sorted(site_pages.items()):
            page = person_page(phone, large=large)
            # The page's source as the server sent it, not the DOM after scripts ran.
            source = page.request.get(path).text()
            f = tmp_path / f"{kind}-{'large' if large else 'normal'}.html"
            f.write_text(source, encoding="utf-8")
            files[f] = path
    result = subprocess.run(["java", "-jar", str(vnu), "--errors-only", "--format", "json", *map(str, files)],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    problems = [f"{files.get(Path(m['url'].removeprefix('file:')), m['url'])}:{m.get('lastLine')}: {m['message']}"
                for m in messages if m.get("type") == "error"]
    assert not problems, "\n".join(problems)
