"""Keep the per-area zh_Hans catalogues in step with the code.

    python tools/i18n.py update [AREA]  # extract strings into the catalogues (AREA: voting, shared, …)
    python tools/i18n.py missing  # list strings without a Chinese translation (exit 1 if any)
    python tools/i18n.py fill FILE.json  # set translations from {"msgid": "msgstr", ...}

An area's catalogue lives in app/<area>/translations; the shared one (base layout,
home, accounts, errors) in app/translations. Flask-Babel merges them at run time.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = "zh_Hans"
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
SHARED_TEMPLATES = ("base.html", "_macros", "main", "accounts", "errors")


def areas() -> dict[Path, list[Path]]:
    """catalogue directory → source directories/files it covers."""
    app = ROOT / "app"
    result: dict[Path, list[Path]] = {
        app / "translations": [p for p in app.glob("*.py")] + [app / "main", app / "accounts"]
        + [ROOT / "templates" / t for t in SHARED_TEMPLATES],
    }
    for area in ("deliberation", "consultation", "voting", "records", "notifications"):
        if (app / area).is_dir():
            result[app / area / "translations"] = [app / area, ROOT / "templates" / area]
    return result


def _extract(sources: list[Path]) -> Catalog:
    catalog = Catalog(locale=LOCALE, project="gongyi")
    for src in sources:
        if not src.exists():
            continue
        if src.is_file():
            method = "python" if src.suffix == ".py" else "jinja2"
            from babel.messages.extract import extract_from_file
            for lineno, msg, comments, ctx in extract_from_file(method, str(src), keywords=KEYWORDS):
                catalog.add(msg, locations=[(str(src.relative_to(ROOT)), lineno)], context=ctx)
            continue
        for filename, lineno, msg, comments, ctx in extract_from_dir(str(src), METHODS, keywords=KEYWORDS):
            catalog.add(msg, locations=[(str((src / filename).relative_to(ROOT)), lineno)], context=ctx)
    return catalog


def _po_path(catalogue_dir: Path) -> Path:
    return catalogue_dir / LOCALE / "LC_MESSAGES" / "messages.po"


def _read(path: Path) -> Catalog:
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale=LOCALE)
    return Catalog(locale=LOCALE, project="gongyi")


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False  # the header is ours, not a machine guess
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, omit_header=False)


def update(only: str | None = None) -> None:
    for cat_dir, sources in areas().items():
        if only and cat_dir.parent.name != only and not (only == "shared" and cat_dir.parent.name == "app"):
            continue
        template = _extract(sources)
        path = _po_path(cat_dir)
        old = _read(path)
        new = Catalog(locale=LOCALE, project="gongyi")
        if path.exists():
            new.creation_date = old.creation_date  # no churn in files whose strings did not change
        for msg in template:
            if not msg.id:
                continue
            previous = old.get(msg.id, msg.context)
            new.add(msg.id, previous.string if previous else ("", "") if isinstance(msg.id, tuple) else "",
                    locations=msg.locations, context=msg.context)
        _write(path, new)
        print(f"{path.relative_to(ROOT)}: {len([m for m in new if m.id])} strings")


def missing() -> int:
    count = 0
    for cat_dir in areas():
        for msg in _read(_po_path(cat_dir)):
            if msg.id and not (all(msg.string) if isinstance(msg.string, tuple) else msg.string):
                print(f"{cat_dir.relative_to(ROOT)}: {msg.id!r}")
                count += 1
    return count


def fill(json_file: str) -> None:
    translations = json.loads(Path(json_file).read_text(encoding="utf-8"))
    for cat_dir in areas():
        path = _po_path(cat_dir)
        catalog = _read(path)
        changed = False
        for msg in catalog:
            if msg.id and not isinstance(msg.id, tuple) and msg.id in translations:
                msg.string = translations[msg.id]
                changed = True
        if changed:
            _write(path, catalog)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "missing"
    if command == "update":
        update(sys.argv[2] if len(sys.argv) > 2 else None)
    elif command == "missing":
        sys.exit(1 if missing() else 0)
    elif command == "fill":
        fill(sys.argv[2])
    else:
        sys.exit(__doc__)
