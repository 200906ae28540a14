"""Fail closed: a login configuration or users file that is wrong, ambiguous or missing lets
nobody in, and says which file and what to fix.

The rules are pure functions of rapport.serving.auth (tested on hand-written files) and are applied
by the dashboard on every page load (tested with AppTest on the real app) and by
`rapport serve` / `rapport check-access` before Streamlit starts (tested through the CLI).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from rapport.paths import DASHBOARD_DIR
from rapport.serving import auth

APP = str(DASHBOARD_DIR / "app.py")
TIMEOUT = 60

GOOD_AUTH = {
    "redirect_uri": "https://rapport.example.com/oauth2callback",
    "cookie_secret": "0123456789abcdef0123456789abcdef",
    "client_id": "rapport",
    "client_secret": "s3cret",
    "server_metadata_url": "https://login.example.com/.well-known/openid-configuration",
}


def _toml(section: str, values: dict[str, str]) -> str:
    return f"[{section}]\n" + "".join(f'{k} = "{v}"\n' for k, v in values.items())


# --- the rules --------------------------------------------------------------------------------

def test_a_valid_auth_section_is_oidc_and_local_needs_the_flag_and_loopback():
    assert auth.login_mode({"auth": GOOD_AUTH}, local=False, address="0.0.0.0") == "oidc"
    assert auth.login_mode({}, local=True, address="127.0.0.1") == "local"
    assert auth.login_mode({}, local=True, address="::1") == "local"


@pytest.mark.parametrize(("secrets", "local", "address", "says"), [
    # no login and no --local: nothing is served (was: local mode, full access)
    ({}, False, "127.0.0.1", "no login is configured"),
    # the section spelled [Auth] (was: silently local mode)
    ({"Auth": GOOD_AUTH}, False, "0.0.0.0", "section [Auth]: Streamlit reads only [auth]"),
    ({"AUTH": GOOD_AUTH}, True, "127.0.0.1", "section [AUTH]"),
    # auth keys written without the section header
    (dict(GOOD_AUTH), False, "0.0.0.0", "outside any section; put them under an [auth]"),
    ({"auth": {**GOOD_AUTH, "client_secret": ""}}, False, "0.0.0.0", "[auth] lacks client_secret"),
    ({"auth": {k: v for k, v in GOOD_AUTH.items() if k != "redirect_uri"}}, False, "0.0.0.0",
     "[auth] lacks redirect_uri"),
    ({"auth": {**GOOD_AUTH, "cookie_secret": "short"}}, False, "0.0.0.0",
     "cookie_secret is shorter than 32"),
    ({"auth": {**GOOD_AUTH, "redirect_uri": "https://x.example.com/"}}, False, "0.0.0.0",
     "must be a URL ending in /oauth2callback"),
    ({"auth": {**GOOD_AUTH, "server_metadata_url": "http://idp/x"}}, False, "0.0.0.0",
     "server_metadata_url must be an https:// URL"),
    ({"auth": "yes"}, False, "0.0.0.0", "[auth] must be a table"),
    # both: ambiguous
    ({"auth": GOOD_AUTH}, True, "127.0.0.1", "local mode was asked for too"),
    # local mode on a network address, or on every interface
    ({}, True, "0.0.0.0", "not on 0.0.0.0"),
    ({}, True, "192.168.1.10", "not on 192.168.1.10"),
    ({}, True, None, "not on every interface"),
])
def test_wrong_or_ambiguous_login_configuration_is_refused(secrets, local, address, says):
    with pytest.raises(auth.LoginConfigError) as caught:
        auth.login_mode(secrets, local=local, address=address, source="conf/secrets.toml")
    assert says in str(caught.value)


def test_a_secrets_file_that_does_not_parse_is_an_error_naming_it(tmp_path):
    good, bad = tmp_path / "a.toml", tmp_path / "b.toml"
    good.write_text(_toml("auth", GOOD_AUTH), encoding="utf-8")
    bad.write_text('[auth]\nclient_id = "x\n', encoding="utf-8")
    with pytest.raises(auth.LoginConfigError) as caught:
        auth.read_secrets_files([good, tmp_path / "missing.toml", bad])
    assert str(bad) in str(caught.value) and "not valid TOML" in str(caught.value)
    assert auth.read_secrets_files([good, tmp_path / "missing.toml"]) == {"auth": GOOD_AUTH}


def test_the_local_mode_variable_takes_only_1_or_nothing():
    assert auth.local_mode_requested({}) is False
    assert auth.local_mode_requested({"RAPPORT_LOCAL_MODE": "1"}) is True
    with pytest.raises(auth.LoginConfigError, match="RAPPORT_LOCAL_MODE='yes'"):
        auth.local_mode_requested({"RAPPORT_LOCAL_MODE": "yes"})


# --- the users file ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "says"), [
    ("users:\n  a@x.io: {role: leadership}\n  a@x.io: {role: data_team}\n",
     "line 3: 'a@x.io' is written twice (first on line 2)"),
    ("users:\n  Boss@X.io: {role: leadership}\n  boss@x.io: {role: data_team}\n",
     "users.boss@x.io: the same e-mail as users.Boss@X.io"),
    ("users:\n  a@x.io: {role: leadership, region: [R01]}\n",
     "users.a@x.io: unknown key(s) ['region']"),
    ("users:\n  a@x.io: {role: regional_director, regions: [R01, R01]}\n",
     "a region is listed twice"),
    ("role_pages:\n  regional_director: [overview, data_quality]\nusers: {}\n",
     "role_pages.regional_director: ['data_quality'] show every region's data"),
    ("users: [a@x.io]\n", "users: expected a mapping"),
])
def test_users_file_refuses_duplicates_unknown_keys_and_pages_a_role_may_not_have(
        tmp_path, text, says):
    path = tmp_path / "users.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(auth.AccessConfigError) as caught:
        auth.load_config(path)
    assert str(path) in str(caught.value) and says in str(caught.value), str(caught.value)


def test_users_file_regions_must_exist_in_the_warehouse(tmp_path):
    path = tmp_path / "users.yml"
    path.write_text("users:\n  d@x.io: {role: regional_director, regions: [R01, R9]}\n",
                    encoding="utf-8")
    config = auth.load_config(path)
    config.check_regions(["R01", "R9", "R02"])  # all known: fine
    with pytest.raises(auth.AccessConfigError, match=r"users.d@x.io.regions: \['R9'\] not in"):
        config.check_regions(["R01", "R02"], str(path))


# --- the dashboard: refuses to serve ------------------------------------------------------------

@pytest.fixture()
def app_env(monkeypatch, tmp_path, built_warehouse):
    """The real app on the test warehouse, with a secrets file of the test's own (Streamlit's
    `secrets.files` option pointed at tmp_path) and no local-mode flag."""
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(built_warehouse))
    monkeypatch.setenv("RAPPORT_AUDIT_LOG", str(tmp_path / "audit.log"))
    monkeypatch.delenv("RAPPORT_LOCAL_MODE", raising=False)
    monkeypatch.delenv("RAPPORT_AS_USER", raising=False)
    previous = st_config.get_option("secrets.files")
    st_config.set_option("secrets.files", [str(secrets)])
    st.secrets._reset()
    yield secrets
    st_config.set_option("secrets.files", previous)
    st.secrets._reset()


def _refused(at: AppTest) -> str:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
    assert at.error, "no refusal shown"
    # the message is shown as plain text (markdown escaped): read it back as written
    return re.sub(r"\\(.)", r"\1", at.error[0].value).replace("\u2060", "")


def test_the_app_refuses_a_secrets_file_with_a_syntax_error(app_env):
    app_env.write_text('[auth]\nredirect_uri = "https://x/oauth2callback\n', encoding="utf-8")
    text = _refused(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert "nobody is let in" in text and str(app_env) in text and "not valid TOML" in text


def test_the_app_refuses_an_auth_section_spelled_Auth(app_env):
    app_env.write_text(_toml("Auth", GOOD_AUTH), encoding="utf-8")
    text = _refused(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert "[Auth]" in text and str(app_env) in text


def test_the_app_refuses_without_a_login_or_the_local_flag(app_env):
    text = _refused(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert "no login is configured" in text and "--local" in text


def test_the_app_refuses_local_mode_beside_a_login(app_env, monkeypatch):
    app_env.write_text(_toml("auth", GOOD_AUTH), encoding="utf-8")
    monkeypatch.setenv("RAPPORT_LOCAL_MODE", "1")
    text = _refused(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert "choose one" in text


def test_the_app_refuses_local_mode_on_every_interface(app_env, monkeypatch):
    monkeypatch.setenv("RAPPORT_LOCAL_MODE", "1")
    previous = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        text = _refused(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    finally:
        st_config.set_option("server.address", previous)
    assert "not on 0.0.0.0" in text


def test_local_mode_says_so_on_the_page(app_env, monkeypatch):
    monkeypatch.setenv("RAPPORT_LOCAL_MODE", "1")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    shown = " ".join(str(e.proto) for e in at.main if e.type in ("badge", "markdown", "caption"))
    assert "Local mode: no login" in shown and "all access" in shown


def test_a_director_with_an_unknown_region_lets_nobody_in(app_env, monkeypatch, tmp_path):
    users = tmp_path / "users.yml"
    users.write_text("users:\n  boss@example.com: {role: leadership}\n"
                     "  d@example.com: {role: regional_director, regions: [NO_SUCH_REGION]}\n",
                     encoding="utf-8")
    monkeypatch.setenv("RAPPORT_USERS", str(users))
    monkeypatch.setenv("RAPPORT_LOCAL_MODE", "1")
    monkeypatch.setenv("RAPPORT_AS_USER", "boss@example.com")
    text = _refused(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    assert "users.yml" in text and str(users) not in text and "nobody is let in" in text


# --- rapport serve / check-access -------------------------------------------------------------

def _cli(*args: str, home: Path, env: dict[str, str] | None = None):
    import subprocess

    environ = {k: v for k, v in os.environ.items()
               if k not in ("RAPPORT_LOCAL_MODE", "RAPPORT_AS_USER")}
    environ.update({"HOME": str(home), **(env or {})})  # no ~/.streamlit/secrets.toml
    return subprocess.run([sys.executable, "-m", "rapport.cli", *args], env=environ,
                          check=False, capture_output=True, text=True, timeout=120)


def test_serve_refuses_a_network_address_without_a_login(tmp_path):
    run = _cli("serve", "--address", "0.0.0.0", "--port", "8599", home=tmp_path)
    assert run.returncode == 2 and "no login is configured" in run.stderr
    run = _cli("serve", "--local", "--address", "0.0.0.0", "--port", "8599", home=tmp_path)
    assert run.returncode == 2 and "not on 0.0.0.0" in run.stderr
    run = _cli("serve", "--as", "boss@example.com", "--port", "8599", home=tmp_path)
    assert run.returncode == 2 and "add --local" in run.stderr


def test_check_access_reports_what_serve_would_refuse(tmp_path):
    users = tmp_path / "users.yml"
    users.write_text("users:\n  a@x.io: {role: leadership}\n  A@x.io: {role: data_team}\n",
                     encoding="utf-8")
    ok = _cli("check-access", "--local", home=tmp_path)
    assert ok.returncode == 0 and "configuration is valid" in ok.stdout
    bad = _cli("check-access", "--local", "--as", "a@x.io", home=tmp_path,
               env={"RAPPORT_USERS": str(users)})
    assert bad.returncode == 2 and str(users) in bad.stderr and "the same e-mail" in bad.stderr
