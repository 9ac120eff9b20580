"""A tiny headless-Chromium driver for tests, stdlib only: the DevTools protocol over
``--remote-debugging-pipe`` (JSON messages separated by NUL bytes on fds 3 and 4), so no
WebDriver, Playwright or websocket package is needed.

It opens one page, records every console error, uncaught exception and failed load the
browser logs, evaluates JavaScript, and takes screenshots. Every host name resolves to
nothing (``--host-resolver-rules``), so a page that tried to fetch anything from the
network would log an error: what loads, loads offline.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """$JSON2DB_TEST_CHROMIUM, else the first Chromium on PATH (None when there is none)."""
    given = os.environ.get("JSON2DB_TEST_CHROMIUM")
    if given and os.access(given, os.X_OK):
        return given
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    pass


class Chromium:
    """``with Chromium(binary, profile_dir) as browser: browser.open(url) ...``"""

    def __init__(self, binary: str, profile_dir: Path, *, width: int = 1280, height: int = 900) -> None:
        self.binary = binary
        self.profile_dir = profile_dir
        self.width, self.height = width, height
        self.errors: list[str] = []
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._session: str | None = None

    # --- process and pipe ------------------------------------------------------------------

    def __enter__(self) -> Chromium:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def plumb() -> None:  # in the child: its fd 3 reads our commands, fd 4 writes replies
            import fcntl

            # Out of the way first (a pipe end may itself be fd 3 or 4), then into place;
            # dup2 leaves the copies inheritable.
            reader = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            writer = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(reader, 3)
            os.dup2(writer, 4)

        args = [
            self.binary,
            "--headless=new",
            "--remote-debugging-pipe",
            "--no-sandbox",  # CI containers run as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={self.profile_dir}",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        # The browser's own log goes to a file (a pipe nobody reads could fill and stall it).
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.profile_dir / "chromium.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=plumb, close_fds=False,
            )
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            self._attach()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.process.poll() is None:
                self._send("Browser.close", session=False, wait=False)
                self.process.wait(timeout=10)
        except Exception:
            pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _write(self, message: dict[str, Any]) -> None:
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")

    def _read(self, timeout: float) -> dict[str, Any]:
        import select

        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium exited (status {self.process.poll()}); see {self.log_path}")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def _send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True,
              wait: bool = True, timeout: float = 30) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self._session:
            message["sessionId"] = self._session
        self._write(message)
        if not wait:
            return {}
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._note(reply)

    def _note(self, event: dict[str, Any]) -> None:
        """Keep events; collect the ones that are errors."""
        self._events.append(event)
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            self.errors.append("console.error: " + " ".join(texts))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append("exception: " + str(details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())

    def _attach(self) -> None:
        targets = self._send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t.get("type") == "page")
        self._session = self._send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                                   session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self._send(f"{domain}.enable")
        self._send("Emulation.setDeviceMetricsOverride",
                   {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})

    # --- what tests use ----------------------------------------------------------------------

    def open(self, url: str, *, timeout: float = 30) -> None:
        """Navigate and wait for the load event."""
        self._events.clear()
        self._send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._note(self._read(max(0.1, deadline - time.monotonic())))

    def evaluate(self, expression: str) -> Any:
        result = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float = 20) -> Any:
        """Evaluate until the value is truthy; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def screenshot(self, target: Path, *, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self._send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": size["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self._send("Page.captureScreenshot", params)["data"]
        target.write_bytes(base64.b64decode(data))
        return target


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG, from its IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
