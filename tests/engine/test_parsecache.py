"""The parse cache (conformance/scenarios/parsecache.py): a file parsed in one process is read back in another
with the same data and the same lines, and the cache never changes what a file means or how an error reads."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.scenarios import loader, parsecache
from conformance.scenarios.loader import ScenarioFileError, find_files, load_file
from conformance.scenarios.yamlsource import LocatedDict, LocatedList, load_yaml
from .malformed import MALFORMED, scenario_file

ROOT = Path(__file__).resolve().parents[2]
GOOD = scenario_file()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DANA_UAT_CACHE_DIR", str(folder))
    monkeypatch.setattr(loader, "_LOADED", {})          # this process's memo would hide the disk cache
    return folder


def located(value):
    """Data with every mark spelled out, so two parses compare by content and by position."""
    if isinstance(value, LocatedDict):
        return {"start": value.start, "items": [(k, value.marks[k], located(v)) for k, v in value.items()]}
    if isinstance(value, LocatedList):
        return {"start": value.start, "items": [(m, located(v)) for v, m in zip(value, value.marks)]}
    return (type(value).__name__, value)


@pytest.mark.parametrize("path", find_files(ROOT / "scenarios"), ids=lambda p: p.name)
def test_every_catalogue_file_reads_back_from_the_cache_as_parsed(cache, path):
    text = path.read_text(encoding="utf-8")
    parsed = load_yaml(path, text).data
    parsecache.write(path, text, parsed)
    assert located(parsecache.read(path, text)) == located(parsed)


def test_a_second_process_loads_from_the_cache_what_the_first_parsed(cache, tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(GOOD, encoding="utf-8")
    probe = ("import sys; from conformance.scenarios import yamlsource, loader; "
             "calls = []; real = yamlsource.yaml.load; "
             "yamlsource.yaml.load = lambda *a, **k: calls.append(1) or real(*a, **k); "
             "f = loader.load_file(sys.argv[1]); print(len(calls), f.scenarios[0].id, f.scenarios[0].line)")
    runs = [subprocess.run([sys.executable, "-c", probe, str(path)], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "DANA_UAT_CACHE_DIR": str(cache)}) for _ in range(2)]
    assert [r.stdout.split() for r in runs] == [["1", "s1", "3"], ["0", "s1", "3"]], runs
    assert len(list((cache / "scenarios").glob("*.json"))) == 1


def test_an_edited_file_is_parsed_afresh(cache, tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(GOOD, encoding="utf-8")
    load_file(path)
    path.write_text(GOOD.replace('"2005400"', '"4005400"'), encoding="utf-8")
    loader._LOADED.clear()
    (scenario,) = load_file(path).scenarios
    assert scenario.scenario.steps[0].expect.responseCode == "4005400"
    assert len(list((cache / "scenarios").glob("*.json"))) == 1       # one entry per file, not per edit


def test_a_corrupt_or_unwritable_cache_only_means_parsing_again(cache, tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(GOOD, encoding="utf-8")
    expected = located(load_yaml(path).data)
    load_file(path)
    (entry,) = (cache / "scenarios").glob("*.json")
    stamp = json.loads(entry.read_text())["stamp"]
    for damage in ("{not json", json.dumps({"stamp": stamp, "data": {"m": [["api"]], "at": [1, 1]}}),
                   json.dumps({"stamp": stamp, "data": {"x": 1}}), json.dumps({"x": 1})):
        entry.write_text(damage, encoding="utf-8")
        loader._LOADED.clear()
        assert located(load_file(path).source.data) == expected
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("")
    os.environ["DANA_UAT_CACHE_DIR"] = str(blocked)     # monkeypatch restores it
    loader._LOADED.clear()
    assert located(load_file(path).source.data) == expected


def test_off_turns_the_cache_off(cache, tmp_path, monkeypatch):
    monkeypatch.setenv("DANA_UAT_CACHE_DIR", parsecache.OFF)
    path = tmp_path / "case.yaml"
    path.write_text(GOOD, encoding="utf-8")
    load_file(path)
    assert parsecache.cache_dir() is None and not cache.exists()


def test_a_value_json_cannot_hold_is_not_cached_and_still_loads(cache, tmp_path):
    text = "api: widget_payment\nnote: !!binary aGVsbG8=\n"
    data = load_yaml(tmp_path / "x.yaml", text).data
    parsecache.write(tmp_path / "x.yaml", text, data)
    assert parsecache.read(tmp_path / "x.yaml", text) is None and not list(cache.rglob("*.json"))


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_errors_read_the_same_on_every_load(cache, tmp_path, name):
    text = MALFORMED[name][0]
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    messages = []
    for _ in range(2):
        loader._LOADED.clear()
        with pytest.raises(ScenarioFileError) as info:
            load_file(path, "scenarios/case.yaml")
        messages.append(str(info.value))
    assert messages[0] == messages[1]
