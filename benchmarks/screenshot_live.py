"""Screenshot the `live --serve` page in headless Chromium, to see what a browser shows.

    python -m digitedge.benchmarks.screenshot_live --out live_screenshot.png

Plays a looping video of MNIST TEST digits through the live loop with the web view on a free
loopback port, waits for a stable reading, then runs Chromium once with --screenshot.
Needs a Chromium binary (Debian: apt-get install chromium); nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from digitedge.benchmarks.soak_live import NUMBERS, mnist_test_pools, write_number_video
from digitedge.edge_runtime.live import LiveConfig, run_live
from digitedge.edge_runtime.server import LiveServer

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_command(binary: str, url: str, out: Path, profile: Path,
                     size: tuple[int, int] = (1000, 800), budget_ms: int = 3000) -> list[str]:
    """A headless Chromium run that loads `url` and writes a PNG, with no network chatter."""
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--screenshot={out}", f"--window-size={size[0]},{size[1]}",
            f"--virtual-time-budget={budget_ms}", url]


def _wait_for_reading(base: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(base + "reading", timeout=5) as resp:
            state = json.loads(resp.read())
        if state.get("text"):
            return state
        time.sleep(0.1)
    raise RuntimeError(f"no stable reading within {timeout} s: {state}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("live_screenshot.png"),
                        help="PNG to write")
    parser.add_argument("--browser", type=str, default=None,
                        help="Chromium binary (default: the first of chromium, "
                             "chromium-browser, google-chrome on PATH)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds allowed for Chromium")
    args = parser.parse_args(argv)
    binary = args.browser or next((b for b in BROWSERS if shutil.which(b)), None)
    if binary is None:
        print("screenshot_live: no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 1

    servers: list[LiveServer] = []
    ready = threading.Event()
    stop = threading.Event()

    def on_serve(server: LiveServer) -> None:
        servers.append(server)
        ready.set()

    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "numbers.avi"
        x, pools = mnist_test_pools()
        write_number_video(video, NUMBERS, 40, pools, x, size=(640, 480))
        cfg = LiveConfig(source=str(video), loop=True, realtime=True, display=False,
                         serve="127.0.0.1:0")
        with open(os.devnull, "w") as sink:
            thread = threading.Thread(target=run_live, args=(cfg,),
                                      kwargs={"out": sink, "stop": stop, "on_serve": on_serve})
            thread.start()
            try:
                if not ready.wait(30):
                    raise RuntimeError("the live server did not start")
                base = servers[0].url
                state = _wait_for_reading(base, 30)
                profile = Path(tmp) / "chromium-profile"
                profile.mkdir()
                args.out.parent.mkdir(parents=True, exist_ok=True)
                cmd = chromium_command(binary, base, args.out.resolve(), profile)
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      timeout=args.timeout, check=False)
            finally:
                stop.set()
                thread.join(15)
    if proc.returncode != 0 or not args.out.is_file():
        print(f"screenshot_live: chromium failed ({proc.returncode}): "
              f"{proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return 1
    print(json.dumps({"screenshot": str(args.out), "reading_when_taken": state.get("text"),
                      "frame": state.get("frame"), "fps": state.get("fps")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
