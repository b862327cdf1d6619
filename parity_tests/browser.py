"""A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands on
fd 3, replies and events on fd 4, each a JSON message ended by a NUL byte), with nothing but the standard
library.  Used by the report's browser test to render pages as a reader's browser would.

    with Browser.launch() as browser:            # None from find_chromium() → the caller skips
        view = browser.open(Path("index.html"), width=1280)
        view.errors, view.widths, view.images, view.links, view.screenshot   # see PageView
        link_problems(view, folder)             # links that leave ``folder`` or lead nowhere
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MEASURE = """JSON.stringify((() => {
  const widths = () => ({page: document.documentElement.scrollWidth, body: document.body.scrollWidth,
                         visible: document.documentElement.clientWidth});
  const folded = widths();
  const height = document.documentElement.scrollHeight;
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const unfolded = widths();
  const images = Array.from(document.images).map(i => ({
    alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}));
  const links = Array.from(document.querySelectorAll('[href], [src]')).map(e => {
    const attr = e.hasAttribute('href') ? 'href' : 'src';
    return {tag: e.tagName.toLowerCase(), attr, raw: e.getAttribute(attr), url: new URL(e.getAttribute(attr),
            document.baseURI).href};
  });
  const ids = Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.getAttribute('name'));
  return {folded, unfolded, viewport: window.innerWidth, images, height, links, ids};
})())"""


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    """The path of a Chromium or Chrome binary on PATH (``TRIPTYCH_CHROMIUM`` first), or None."""
    for name in (os.environ.get("TRIPTYCH_CHROMIUM"), *CANDIDATES):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@dataclass
class PageView:
    """What one page did in the browser: console and network errors, its widths (with every <details> folded
    and then opened), the images and whether each decoded, and a full-page PNG screenshot."""

    url: str
    errors: list[str] = field(default_factory=list)
    viewport: int = 0  # window.innerWidth, scroll bar included
    widths: dict = field(default_factory=dict)  # {"folded"|"unfolded": {"page", "body", "visible"}} in CSS px
    images: list[dict] = field(default_factory=list)  # {"alt", "complete", "width", "height"}
    links: list[dict] = field(default_factory=list)  # {"tag", "attr", "raw", "url"}: every href and src, resolved
    ids: list[str] = field(default_factory=list)  # the page's element ids (link targets)
    height: int = 0
    screenshot: bytes = b""


class Browser:
    def __init__(self, process: subprocess.Popen, to_browser: int, from_browser: int, profile: str):
        self.process, self.to_browser, self.from_browser, self.profile = process, to_browser, from_browser, profile
        self.buffer, self.next_id, self.events = b"", 0, []

    @classmethod
    def launch(cls, binary: str | None = None, timeout: float = 60.0) -> "Browser":
        binary = binary or find_chromium()
        if binary is None:
            raise BrowserError("no chromium on PATH")
        profile = tempfile.mkdtemp(prefix="triptych-chromium-")
        commands_r, commands_w = os.pipe()
        replies_r, replies_w = os.pipe()
        # the child's ends, numbered above 4, which a small Python trampoline moves to 3 and 4 before exec
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands_r, replies_w))
        for fd in (commands_r, replies_w):
            os.close(fd)
        flags = ["--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--no-default-browser-check", "--mute-audio", "--disable-extensions",
                 "--disable-background-networking", f"--user-data-dir={profile}", "about:blank"]
        trampoline = (f"import os, sys; os.dup2({child_in}, 3); os.dup2({child_out}, 4); "
                      f"os.close({child_in}); os.close({child_out}); os.execv(sys.argv[1], sys.argv[1:])")
        process = subprocess.Popen([sys.executable, "-c", trampoline, binary, *flags], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(child_in, child_out))
        for fd in (child_in, child_out):
            os.close(fd)
        browser = cls(process, commands_w, replies_r, profile)
        try:
            browser.call("Browser.getVersion", timeout=timeout)
        except Exception:
            browser.close()
            raise
        return browser

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for fd in (self.to_browser, self.from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    # ------------------------------------------------------------ the protocol

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        """Send one command and wait for its reply; events that arrive meanwhile are kept in ``events``."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline, method)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 30.0) -> dict:
        """The first event ``method`` of ``session`` (already received or still to come)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            self.events.append(self._receive(deadline, method))

    def _receive(self, deadline: float, waiting_for: str) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise BrowserError(f"chromium did not answer {waiting_for} in time")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium closed the pipe while answering {waiting_for}")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    # ------------------------------------------------------------ pages

    def open(self, path: Path, width: int = 1280, height: int = 900, max_height: int = 16000) -> PageView:
        """Load ``path`` in a fresh tab ``width`` pixels wide, wait for its load event, take a full-page
        screenshot as a reader first sees it (every <details> folded; at most ``max_height`` pixels tall),
        then measure it folded and unfolded."""
        url = Path(path).resolve().as_uri()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable", session=session)
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
            start = len(self.events)
            self.call("Page.navigate", {"url": url}, session)
            self.wait_for("Page.loadEventFired", session, timeout=60)
            view = PageView(url)
            full = self.call("Runtime.evaluate", {"expression": "document.documentElement.scrollHeight",
                                                  "returnByValue": True}, session)["result"]["value"]
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": min(full, max_height), "deviceScaleFactor": 1, "mobile": False},
                      session)
            shot = self.call("Page.captureScreenshot", {"format": "png"}, session, timeout=60)
            view.screenshot = base64.b64decode(shot["data"])
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
            measured = json.loads(self.call("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True},
                                            session)["result"]["value"])
            view.viewport, view.images, view.height = measured["viewport"], measured["images"], measured["height"]
            view.links, view.ids = measured["links"], measured["ids"]
            view.widths = {"folded": measured["folded"], "unfolded": measured["unfolded"]}
            view.errors = _errors([e for e in self.events[start:] if e.get("sessionId") == session])
            return view
        finally:
            self.call("Target.closeTarget", {"targetId": target})


def link_problems(view: PageView, folder: Path) -> list[str]:
    """Every link or source of the page that does not resolve inside ``folder``: another scheme than a file
    (http:, mailto:, …; an image's data: URI is content, not a link), a path outside the folder, a file that
    does not exist, or an anchor that names no element of its page.  Empty when the page is self-contained."""
    folder = Path(folder).resolve()
    problems = []
    for link in view.links:
        url = urlsplit(link["url"])
        where = f"<{link['tag']} {link['attr']}=\"{link['raw']}\">"
        if url.scheme == "data" and link["attr"] == "src":
            continue
        if url.scheme != "file":
            problems.append(f"{where} leaves the report ({url.scheme}:)")
            continue
        target = Path(unquote(url.path)).resolve()
        if not target.is_relative_to(folder):
            problems.append(f"{where} leaves the report's folder ({target})")
        elif not target.is_file():
            problems.append(f"{where} leads to no file ({target})")
        elif url.fragment:
            anchor = unquote(url.fragment)
            ids = view.ids if target == Path(unquote(urlsplit(view.url).path)).resolve() else _ids(target)
            if anchor not in ids:
                problems.append(f"{where}: no element has the id {anchor!r} in {target.name}")
    return problems


def _ids(page: Path) -> set[str]:
    """The ids (and <a name>s) of an HTML file, read from its text."""
    return set(re.findall(r"""\s(?:id|name)=["']([^"']+)["']""", page.read_text(encoding="utf-8", errors="replace")))


def _errors(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions and error log entries (failed loads, blocked resources)."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append(f"exception: {details.get('exception', {}).get('description', details.get('text'))}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            found.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
    return found
