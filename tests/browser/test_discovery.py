"""Chromium discovery order and the error that says how to install one."""

from __future__ import annotations

import os
import stat

import pytest

from conformance.browser import discovery


def _exe(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def nothing_installed(monkeypatch, tmp_path):
    monkeypatch.setattr(discovery, "SYSTEM_CANDIDATES", ())
    monkeypatch.setattr(discovery, "HEADLESS_SHELLS", ())
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "pw"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_configured_path_wins(tmp_path):
    configured = _exe(tmp_path / "my-chrome")
    assert discovery.find_chromium(configured) == configured


def test_configured_path_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(discovery.BrowserNotFound, match="not an executable file"):
        discovery.find_chromium(str(tmp_path / "missing"))


def test_system_candidates_are_tried_in_order(monkeypatch, tmp_path):
    second = _exe(tmp_path / "bin" / "chromium-browser")
    monkeypatch.setattr(discovery, "SYSTEM_CANDIDATES", (str(tmp_path / "bin" / "chromium"), second))
    monkeypatch.setattr(discovery, "HEADLESS_SHELLS", ())
    assert discovery.find_chromium() == second


def test_playwright_managed_browser_is_the_last_resort(nothing_installed):
    managed = _exe(nothing_installed / "pw" / "chromium-1200" / "chrome-linux" / "chrome")
    assert discovery.find_chromium() == managed
    assert discovery.is_managed(managed.replace("/pw/", "/ms-playwright/"))


def test_nothing_found_names_the_install_command(nothing_installed):
    assert discovery.find_chromium() is None
    with pytest.raises(discovery.BrowserNotFound) as err:
        discovery.require_chromium()
    assert discovery.install_command() in str(err.value)
    expected = "apt-get install -y chromium chromium-headless-shell" if os.path.exists("/etc/debian_version") \
        else "python -m playwright install chromium"
    assert discovery.install_command() == expected


def test_a_headless_run_prefers_the_headless_shell_and_a_headed_run_skips_it(monkeypatch, tmp_path):
    shell, full = _exe(tmp_path / "bin" / "chromium-headless-shell"), _exe(tmp_path / "bin" / "chromium")
    monkeypatch.setattr(discovery, "HEADLESS_SHELLS", (shell,))
    monkeypatch.setattr(discovery, "SYSTEM_CANDIDATES", (full,))
    assert discovery.find_chromium() == shell
    assert discovery.find_chromium(headless=False) == full


def test_the_managed_headless_shell_comes_first_for_a_headless_run_only(nothing_installed):
    chrome = _exe(nothing_installed / "pw" / "chromium-1200" / "chrome-linux" / "chrome")
    shell = _exe(nothing_installed / "pw" / "chromium_headless_shell-1200" / "chrome-linux" / "headless_shell")
    assert discovery.find_chromium() == shell
    assert discovery.find_chromium(headless=False) == chrome
