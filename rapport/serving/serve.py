"""`rapport serve`: run the Streamlit dashboard on the served warehouse."""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

from rapport.paths import CODE_ROOT, DASHBOARD_DIR, PROJECT_ROOT, served_warehouse
from rapport.serving import auth

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def streamlit_command(port: int, address: str) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, bound to address.

    Streamlit reads .streamlit/config.toml from the folder it runs in (PROJECT_ROOT). When
    that folder has none (rapport installed from the wheel, run in a deployment folder), the
    settings shipped with the code are passed as flags, so the installed dashboard runs with
    the same settings (error details hidden, XSRF protection, no file watcher) as a checkout.
    """
    given = ["--server.port", str(port), "--server.address", address,
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--global.developmentMode", "false"]
    return [sys.executable, "-c", _STREAMLIT_WITH_LIBRARIES_LOADED, "run",
            str(DASHBOARD_DIR / "app.py"), *_shipped_settings(exclude=set(given[::2])), *given]


# `python -m streamlit`, after importing the libraries every page uses: the server process
# pays for them before it listens, not the first visitor (2-3 s on a 2-core machine).
_STREAMLIT_WITH_LIBRARIES_LOADED = (
    "import duckdb, pandas, plotly.graph_objects, polars, pyarrow, yaml; "
    "import sys; from streamlit.web.cli import main; sys.exit(main())")


def _shipped_settings(exclude: set[str]) -> list[str]:
    if (PROJECT_ROOT / ".streamlit" / "config.toml").exists():
        return []
    shipped = CODE_ROOT / ".streamlit" / "config.toml"
    flags: list[str] = []
    for section, options in tomllib.loads(shipped.read_text(encoding="utf-8")).items():
        for option, value in options.items():
            flag = f"--{section}.{option}"
            if flag not in exclude:
                flags += [flag, str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


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


def secrets_files() -> list[Path]:
    """The secrets files Streamlit reads when `rapport serve` starts it (its defaults: the
    user's, the project's, then the dashboard folder's .streamlit/secrets.toml)."""
    return [Path("~/.streamlit/secrets.toml").expanduser(),
            PROJECT_ROOT / ".streamlit" / "secrets.toml",
            DASHBOARD_DIR / ".streamlit" / "secrets.toml"]


def access_problem(address: str, local: bool, as_user: str | None) -> str | None:
    """Why the dashboard must not be served with these settings, or None.

    The same rules the dashboard applies on every page load (fail closed), checked before
    starting so that the operator reads the reason in the console, not in a browser.
    """
    if as_user and not local:
        return "--as names a user of local mode; add --local (this machine only, no login)"
    files = secrets_files()
    try:
        secrets = auth.read_secrets_files(files)
        mode = auth.login_mode(secrets, local=local, address=address,
                               source=" / ".join(str(f) for f in files if f.exists())
                               or str(files[1]))
        if mode == "oidc" or as_user:
            config = auth.load_config()
            known = _warehouse_regions()
            if known is not None:
                config.check_regions(known, str(auth.users_file()))
            if as_user and config.viewer(as_user) is None:
                return f"--as {as_user}: not a user of {auth.users_file()}; add them there"
    except auth.AccessConfigError as exc:
        return str(exc)
    return None


def _warehouse_regions() -> list[str] | None:
    """The served warehouse's region ids, or None when there is no readable warehouse yet."""
    from rapport.serving import Reader, Scope, WarehouseError
    from rapport.serving import queries as q

    if not served_warehouse().exists():
        return None
    try:
        with Reader(served_warehouse()) as reader:
            return q.regions(reader, Scope.all_access())["region_id"].to_list()
    except WarehouseError:
        return None  # the dashboard says what is wrong with the file


def run_serve(port: int = 8501, address: str = "127.0.0.1", as_user: str | None = None,
              local: bool = False) -> int:
    """Run the dashboard until interrupted; returns the exit code.

    address defaults to 127.0.0.1: the dashboard is reachable from this machine only unless
    told otherwise. Without a login configured ([auth] in .streamlit/secrets.toml) it is
    refused unless `local` (`--local`) asks for local mode, which only a loopback address
    may serve; as_user (`--as`) picks the user of a local session.
    """
    problem = _check(port, address) or access_problem(address, local, as_user)
    if problem:
        print(f"rapport serve: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    warehouse = served_warehouse()
    if not warehouse.exists():
        print(f"rapport serve: no warehouse at {warehouse} yet; the dashboard explains how to "
              "build one (`rapport build`).", file=sys.stderr)
    if local:
        print("rapport serve: LOCAL MODE, no login: whoever opens the page on this machine is "
              f"{as_user or 'the demo user with all access and personal data'}.",
              file=sys.stderr)
    elif address not in auth.LOOPBACK_ADDRESSES:
        print(f"rapport serve: listening on {address}: reachable from other machines, behind "
              "the login of .streamlit/secrets.toml.", file=sys.stderr)
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop("RAPPORT_AS_USER", None)
    env.pop(auth.LOCAL_MODE_ENV, None)
    if local:
        env[auth.LOCAL_MODE_ENV] = "1"
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
