"""Every user-visible string has a Chinese translation (the default language)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_string_in_the_code_is_in_a_catalogue_and_translated(tmp_path):
    # Re-extract into a copy and compare, so a string added without a catalogue update fails.
    import tools.i18n as i18n

    missing_from_catalogue = []
    for cat_dir, sources in i18n.areas().items():
        extracted = {m.id for m in i18n._extract(sources) if m.id}
        in_catalogue = {m.id for m in i18n._read(i18n._po_path(cat_dir)) if m.id}
        missing_from_catalogue += sorted(str(x) for x in extracted - in_catalogue)
    assert missing_from_catalogue == [], "run: python tools/i18n.py update, then translate"
    result = subprocess.run([sys.executable, "tools/i18n.py", "missing"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "untranslated:\n" + result.stdout
