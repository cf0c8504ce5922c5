"""Every source id cited in the repository ([sdk-header], [uat-fixtures], ...) is listed in docs/references.md."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
CITED = re.compile(r"\[((?:sdk|uat|doc|snap)-[a-z-]+)\]")
LISTED = re.compile(r"^\| `((?:sdk|uat|doc|snap)-[a-z-]+)` \|", re.M)


def test_every_cited_source_id_is_listed():
    listed = set(LISTED.findall((ROOT / "docs" / "references.md").read_text(encoding="utf-8")))
    files = [p for d in ("conformance", "docs", "scenarios", "tests") for p in (ROOT / d).rglob("*")
             if p.suffix in (".py", ".md", ".yaml", ".html") and p.is_file()]
    cited = {(p.relative_to(ROOT).as_posix(), i) for p in files for i in CITED.findall(p.read_text(encoding="utf-8"))}
    assert listed and {(f, i) for f, i in cited if i not in listed} == set()
