"""Endpoint redaction and endpoint resolution."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.chain.redact import redact_url
from defirisk.chain.rpc import ENV_VAR, RpcClient, resolve_rpc_url
from defirisk.errors import UsageError


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://eth-mainnet.g.alchemy.com/v2/AbC123xyzAbC123xyz", "https://eth-mainnet.g.alchemy.com/v2/***"),
        ("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef", "https://mainnet.infura.io/v3/***"),
        ("https://rpc.example/eth?apikey=s3cret&chain=1", "https://rpc.example/eth?apikey=***&chain=***"),
        ("https://user:pass@node.example:8545/", "https://***@node.example:8545/"),
        ("https://TOKEN@node.example", "https://***@node.example"),
        ("https://x-y-z.quiknode.pro/abc123def456/", "https://x-y-z.quiknode.pro/***/"),
        ("https://rpc.ankr.com/eth/abcdef0123456789", "https://rpc.ankr.com/eth/***"),
        ("https://rpc.example/sk_live_abc", "https://rpc.example/***"),
        ("https://nd-123-456-789-abcdef.p2pify.com/key", "https://***.p2pify.com/key"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("https://ethereum-rpc.publicnode.com", "https://ethereum-rpc.publicnode.com"),
        ("https://node.example/rpc#Secret", "https://node.example/rpc#***"),
        ("not a url", "***"),
        ("https://[::1", "***"),
    ],
)
def test_redact_examples(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


secrets = st.text(alphabet="abcdefABCDEF0123456789_-", min_size=16, max_size=48).filter(
    lambda s: any(c.isdigit() for c in s) and any(c.isalpha() for c in s)
)


@settings(max_examples=150, deadline=None)
@given(
    secret=secrets,
    where=st.sampled_from(["path", "path_slash", "query", "query_only", "user", "password", "fragment"]),
    host=st.sampled_from(["eth-mainnet.g.alchemy.com", "127.0.0.1:8545", "node.example"]),
)
def test_no_secret_survives(secret: str, where: str, host: str) -> None:
    url = {
        "path": f"https://{host}/v2/{secret}",
        "path_slash": f"https://{host}/{secret}/",
        "query": f"https://{host}/rpc?key={secret}&x=1",
        "query_only": f"https://{host}/?{secret}",
        "user": f"https://{secret}@{host}/",
        "password": f"https://me:{secret}@{host}/",
        "fragment": f"https://{host}/rpc#{secret}",
    }[where]
    out = redact_url(url)
    assert secret not in out
    assert secret.lower() not in out.lower()
    assert "***" in out


def test_resolve_prefers_the_option_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "https://env.example/v2/EnvKey1234567890")
    assert resolve_rpc_url("http://cli.example:8545") == "http://cli.example:8545"
    assert resolve_rpc_url(None) == "https://env.example/v2/EnvKey1234567890"


def test_resolve_without_endpoint_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(UsageError, match="--rpc-url") as info:
        resolve_rpc_url(None)
    assert ENV_VAR in str(info.value)
    with pytest.raises(UsageError):
        resolve_rpc_url("   ")


def test_bad_scheme_is_a_usage_error_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "wss://eth.example/v2/WsKey1234567890abc")
    with pytest.raises(UsageError) as info:
        resolve_rpc_url(None)
    assert "WsKey1234567890abc" not in str(info.value)
    assert "wss://eth.example/v2/***" in str(info.value)


def test_client_repr_hides_the_key() -> None:
    client = RpcClient("https://user:pw@eth.example/v2/Key1234567890abcdef?apikey=k2")
    for text in (repr(client), str(client), client.endpoint, repr(vars(client).get("executor").endpoint)):
        assert "Key1234567890abcdef" not in text and "pw" not in text and "k2" not in text
    assert repr(client) == "RpcClient('https://***@eth.example/v2/***?apikey=***')"
