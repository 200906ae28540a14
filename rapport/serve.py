"""`rapport serve`: run the Streamlit dashboard on the served warehouse."""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys

from rapport.paths import DASHBOARD_DIR, PROJECT_ROOT, served_warehouse

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def streamlit_command(port: int, address: str) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, bound to address."""
    return [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD_DIR / "app.py"),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
    ]


def _check(port: int, address: str) -> str | None:
    if not 1 <= port <= 65535:
        return f"--port {port} is not a TCP port (1-65535)"
    if address != "localhost":
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return (f"--address {address!r} is not an IP address; use 127.0.0.1 (this machine "
                    "only, the default) or 0.0.0.0 (every interface)")
    return None


def run_serve(port: int = 8501, address: str = "127.0.0.1", as_user: str | None = None) -> int:
    """Run the dashboard until interrupted; returns the exit code.

    address defaults to 127.0.0.1: the dashboard is reachable from this machine only unless
    told otherwise. as_user labels a local session (access control reads it, issue 6).
    """
    problem = _check(port, address)
    if problem:
        print(f"rapport serve: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    warehouse = served_warehouse()
    if not warehouse.exists():
        print(f"rapport serve: no warehouse at {warehouse} yet; the dashboard explains how to "
              "build one (`rapport build`).", file=sys.stderr)
    if address not in ("127.0.0.1", "localhost", "::1"):
        print(f"rapport serve: listening on {address}: reachable from other machines.",
              file=sys.stderr)
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    if as_user:
        env["RAPPORT_AS_USER"] = as_user
    print(f"rapport serve: http://{'localhost' if address == '127.0.0.1' else address}:{port}",
          file=sys.stderr)
    process = subprocess.Popen(streamlit_command(port, address), cwd=PROJECT_ROOT, env=env)
    # Stopping `rapport serve` (SIGTERM) stops Streamlit too instead of orphaning it.
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return EXIT_OK
