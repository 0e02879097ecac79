"""OAuth against the emulator's identity provider: the token file, refresh, rotation, authorization."""

import json
import os
import stat
import threading
import time

import pytest
import requests
from qbo_support import FAST_LIMITS

from qbrecon.errors import AuthError, QbreconWarning, SettingsError
from qbrecon.qbo.auth import (
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    TokenManager,
    TokenStore,
    make_auth_client,
    resolve_environment,
    start_authorization,
)
from qbrecon.qbo.client import connect_qbo
from qbrecon.qbo.emulator import QBOEmulator


@pytest.fixture
def emu():
    with QBOEmulator(seed="builtin", limits=FAST_LIMITS) as e:
        yield e


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# ------------------------------------------------------------------ the token file
def test_token_file_is_private_and_replaced_atomically(tmp_path):
    store = TokenStore(tmp_path / "sub" / "tokens.json")
    store.save({"access_token": "a1", "refresh_token": "r1", "client_secret": None})
    assert mode(store.path) == 0o600
    first_inode = os.stat(store.path).st_ino
    store.save({"access_token": "a2", "refresh_token": "r2"})
    assert os.stat(store.path).st_ino != first_inode  # a new file renamed over the old one
    data = store.load()
    assert (data["access_token"], data["refresh_token"]) == ("a2", "r2")
    assert "client_secret" not in data
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["tokens.json"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no token file"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"access_token": "a"}', "no refresh_token"),
        ('{"access_token": "a", "refresh_token": "r", "expires_at": "soon"}', "expires_at"),
    ],
)
def test_unusable_token_files_say_what_to_do(tmp_path, content, expected):
    path = tmp_path / "tokens.json"
    if content is not None:
        path.write_text(content)
        os.chmod(path, 0o600)
    with pytest.raises(AuthError, match=expected) as info:
        TokenStore(path).load()
    assert str(path) in str(info.value)


def test_a_token_file_readable_by_others_is_closed_with_a_warning(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text('{"access_token": "a", "refresh_token": "r"}')
    os.chmod(path, 0o644)
    with pytest.warns(QbreconWarning, match="readable by others"):
        TokenStore(path).load()
    assert mode(path) == 0o600


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("sandbox", "sandbox"),
        ("Sandbox", "sandbox"),
        ("sand", "sandbox"),
        ("PRODUCTION", "production"),
        ("prod", "production"),
        ("http://127.0.0.1:9/x", "custom"),
        ("https://idp.example.com/d", "custom"),
    ],
)
def test_environments(value, name):
    env = resolve_environment(value)
    assert env.name == name
    if name == "sandbox":
        assert env.oauth == "sandbox" and "sandbox-quickbooks" in env.api_base


@pytest.mark.parametrize("value", ["staging", "", "http://10.0.0.5/discovery", "ftp://127.0.0.1/x"])
def test_bad_environments_are_refused(value):
    with pytest.raises(SettingsError):
        resolve_environment(value)


def test_plain_http_api_is_allowed_only_on_loopback(emu, tmp_path):
    emu.write_token_file(tmp_path / "t.json")
    with pytest.raises(SettingsError, match="unencrypted"):
        connect_qbo(
            realm_id=emu.realm_id,
            token_file=tmp_path / "t.json",
            environment=emu.discovery_url,
            base_url="http://192.0.2.10/v3",
        )
    with pytest.raises(SettingsError, match="base_url"):
        connect_qbo(
            realm_id=emu.realm_id, token_file=tmp_path / "t.json", environment=emu.discovery_url
        )
    for loopback in (emu.base_url, emu.base_url.replace("127.0.0.1", "localhost")):
        with connect_qbo(
            realm_id=emu.realm_id,
            token_file=tmp_path / "t.json",
            environment=emu.discovery_url,
            base_url=loopback,
        ) as c:
            assert c.query_rows("Item")
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_credentials_come_from_arguments_then_file_then_environment(emu, tmp_path, monkeypatch):
    path = tmp_path / "t.json"
    emu.write_token_file(path, include_credentials=False)
    kw = dict(
        realm_id=emu.realm_id, token_file=path, environment=emu.discovery_url, base_url=emu.base_url
    )
    monkeypatch.delenv(ENV_CLIENT_ID, raising=False)
    monkeypatch.delenv(ENV_CLIENT_SECRET, raising=False)
    # a valid access token needs no credentials; only the refresh does, and says so
    bare = connect_qbo(**kw)
    assert bare.query_rows("Class") is not None and bare.auth_client is None
    emu.expire_tokens()
    with pytest.raises(AuthError, match="QBRECON_CLIENT_ID"):
        bare.query_rows("Class")
    assert emu.stats["token_refreshes"] == 0
    monkeypatch.setenv(ENV_CLIENT_ID, emu.client_id)
    monkeypatch.setenv(ENV_CLIENT_SECRET, emu.client_secret)
    c = connect_qbo(**kw)
    assert c.query_rows("Class")  # refreshed with the environment's credentials
    assert emu.stats["token_refreshes"] == 1 and c.auth_client is not None
    c2 = connect_qbo(**kw, client_secret="wrong")
    emu.expire_tokens()
    with pytest.raises(AuthError, match="client id/secret"):
        c2.query_rows("Class")


def test_the_identity_provider_is_needed_only_to_refresh(emu, tmp_path):
    # the discovery document lives nowhere: a valid access token still works
    tokens = emu.issue_tokens()
    path = tmp_path / "t.json"
    data = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "expires_at": time.time() + 3600,
    }
    TokenStore(path).save(data)
    kw = dict(
        realm_id=emu.realm_id,
        token_file=path,
        environment="http://127.0.0.1:9/discovery",
        base_url=emu.base_url,
    )
    client = connect_qbo(**kw)
    assert client.query_rows("Item")
    # after a 401 the refresh needs the identity provider: a clear AuthError, every time
    emu.expire_tokens()
    for _ in range(2):
        with pytest.raises(AuthError, match="cannot reach the QuickBooks identity provider"):
            client.query_rows("Item")
    # an access token about to expire is refreshed before use: the same error, no request
    TokenStore(path).save({**data, "expires_at": time.time() + 10})
    requests_before = emu.stats["api_requests"]
    with pytest.raises(AuthError, match="cannot reach"):
        connect_qbo(**kw).query_rows("Item")
    assert emu.stats["api_requests"] == requests_before
    assert emu.stats["token_refreshes"] == 0


def test_an_unusable_token_file_is_refused_at_connect(tmp_path):
    with pytest.raises(AuthError, match="no token file"):
        connect_qbo(
            realm_id="1", token_file=tmp_path / "none.json", base_url="http://127.0.0.1:9/v3"
        )


# ------------------------------------------------------------------ refresh
def test_refresh_rotates_and_saves_before_use_and_a_stale_token_says_run_auth(emu, tmp_path):
    path = tmp_path / "t.json"
    client = emu.connect(path)
    old = json.loads(path.read_text())
    emu.expire_tokens()
    assert client.query_rows("Employee")  # 401, refresh, retry
    new = json.loads(path.read_text())
    assert (
        new["refresh_token"] != old["refresh_token"] and new["access_token"] != old["access_token"]
    )
    assert emu.valid_refresh_tokens() == {new["refresh_token"]}
    assert mode(path) == 0o600

    # somebody restores the old file: its refresh token was replaced, QuickBooks refuses it
    TokenStore(path).save(old)
    stale = emu.connect(tmp_path / "other.json")
    stale.tokens.store = TokenStore(path)
    stale.tokens._data = old
    emu.expire_tokens()
    with pytest.raises(AuthError, match="invalid_grant") as info:
        stale.query_rows("Employee")
    assert "qbrecon auth --token-file" in str(info.value)
    assert old["refresh_token"] not in str(info.value)


def test_a_refresh_made_by_another_process_is_adopted_not_repeated(emu, tmp_path):
    path = tmp_path / "t.json"
    one = emu.connect(path)
    # a second process works from the same file
    ac = make_auth_client(
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        environment=resolve_environment(emu.discovery_url),
    )
    two = TokenManager(TokenStore(path), ac)
    stale_access = two.bearer()
    emu.expire_tokens()
    assert one.query_rows("Item")  # the first process refreshes (and rotates)
    assert emu.stats["token_refreshes"] == 1
    two.refresh(failed_token=stale_access)  # the second sees the new file and adopts it
    assert emu.stats["token_refreshes"] == 1
    assert two.bearer() == json.loads(path.read_text())["access_token"]


def test_concurrent_401s_refresh_once(emu, tmp_path):
    client = emu.connect(tmp_path / "t.json")
    emu.expire_tokens()
    errors = []

    def work():
        try:
            client.query_rows("Customer")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert emu.stats["token_refreshes"] == 1  # one refresh; the others adopted it


# ------------------------------------------------------------------ authorization
def test_authorization_code_flow_stores_the_tokens(emu, tmp_path):
    flow = start_authorization(
        environment=emu.discovery_url,
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        redirect_uri="http://localhost:8000/callback",
    )
    assert flow.url.startswith(emu.root_url) and "com.intuit.quickbooks.accounting" in flow.url
    redirect = requests.get(flow.url, allow_redirects=False, timeout=5).headers["Location"]
    assert redirect.startswith("http://localhost:8000/callback?code=")
    stored = flow.complete(redirect, token_file=tmp_path / "t.json")
    assert stored["realm_id"] == emu.realm_id and "access_token" not in stored
    data = TokenStore(tmp_path / "t.json").load()
    assert data["refresh_token"] in emu.valid_refresh_tokens()
    assert data["client_id"] == emu.client_id and mode(tmp_path / "t.json") == 0o600
    # the tokens work
    with connect_qbo(
        realm_id=data["realm_id"],
        token_file=tmp_path / "t.json",
        environment=emu.discovery_url,
        base_url=emu.base_url,
    ) as c:
        assert c.query_rows("Employee")
    # a code is good once
    with pytest.raises(AuthError, match="invalid_grant"):
        flow.complete(redirect, token_file=tmp_path / "again.json")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("http://localhost:8000/callback?code=x&state=forged&realmId=1", "state differs"),
        ("http://localhost:8000/callback?error=access_denied&state=s", "access_denied"),
        ("", "no authorization code"),
    ],
)
def test_bad_redirects_are_refused(emu, tmp_path, response, expected):
    flow = start_authorization(
        environment=emu.discovery_url, client_id=emu.client_id, client_secret=emu.client_secret
    )
    with pytest.raises(AuthError, match=expected):
        flow.complete(response, token_file=tmp_path / "t.json")
    assert not (tmp_path / "t.json").exists()


def test_authorization_needs_client_credentials(monkeypatch):
    monkeypatch.delenv(ENV_CLIENT_ID, raising=False)
    monkeypatch.delenv(ENV_CLIENT_SECRET, raising=False)
    with pytest.raises(AuthError, match="client id and secret"):
        start_authorization(environment="sandbox")
