"""Helpers of the `datagen review` tests: the app run as a real subprocess (so a test can kill -9 it), and
a headless Chromium page that records every dialog, console error and page error.

    with ReviewServer(["toy", "--annotator", "alice"], cwd=tmp) as srv: srv.url, srv.kill9()
    with chromium_page() as (page, problems): page.goto(srv.url)
"""
from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                    reason="Debian's chromium is installed by `make test-setup` (required in CI)")
START_TIMEOUT = 120  # seconds for the subprocess to import datagen and print its URL (a loaded 2-core machine)


class ReviewServer:
    def __init__(self, args: list[str], cwd: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "datagen.cli", "review", *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()
        self.base = self.url.split("/?")[0]
        self.token = self.url.split("token=")[1]

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _wait_for_url(self) -> str:
        while True:
            try:
                line = self.lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                raise AssertionError("the review server printed no URL: " + "".join(self.output)) from None
            if line is None:
                raise AssertionError("the review server exited: " + "".join(self.output))
            if line.startswith("review: http://"):
                return line.split("review: ", 1)[1].strip()

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def __enter__(self) -> "ReviewServer":
        return self

    def __exit__(self, *_) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 900):
    """(page, problems): problems collects dialogs (dismissed), console errors and page errors."""
    pytest.importorskip("playwright", reason="needs playwright (the dev extra)")
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": width, "height": height})

        def on_dialog(d):
            problems.append(f"dialog: {d.type} {d.message}")
            d.dismiss()

        page.on("dialog", on_dialog)
        page.on("console", lambda m: problems.append("console: " + m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
        try:
            yield page, problems
        finally:
            browser.close()


def open_app(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def screenshot_path(default_name: str) -> Path:
    """DATAGEN_SCREENSHOT=docs/review.png saves the docs' screenshot; otherwise it goes to test-artifacts/."""
    wanted = os.environ.get("DATAGEN_SCREENSHOT")
    if wanted:
        return Path(wanted) if Path(wanted).is_absolute() else ROOT / wanted
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    return ROOT / "test-artifacts" / default_name
