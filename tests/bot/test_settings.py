import pytest

from bot.settings import ConfigError, load_settings

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-secretbot", "SLACK_SIGNING_SECRET": "sign-secret-123456"}


def test_defaults():
    s = load_settings()
    assert s.vtex_environment == "vtexcommercestable"
    assert s.unstuck_db == "./unstuck.db"
    assert s.unstuck_answer_visibility == "in_channel"


def test_vtex_url_from_account_or_override(monkeypatch):
    monkeypatch.setenv("VTEX_ACCOUNT", "acme")
    assert load_settings().vtex_url == "https://acme.vtexcommercestable.com.br"
    monkeypatch.setenv("VTEX_BASE_URL", "http://127.0.0.1:9999/")
    assert load_settings().vtex_url == "http://127.0.0.1:9999"


def test_secrets_stay_out_of_repr_and_errors(monkeypatch):
    monkeypatch.setenv("VTEX_APP_TOKEN", "super-secret-token")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    s = load_settings()
    assert "super-secret-token" not in repr(s) and "xoxb-very-secret" not in repr(s)
    with pytest.raises(ConfigError) as info:
        s.check_slack(socket_mode=False)
    assert "SLACK_SIGNING_SECRET" in str(info.value) and "secret" not in str(info.value).split(" ", 1)[1][:0]
    assert "xoxb-very-secret" not in str(info.value)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({**GOOD, "SLACK_SIGNING_SECRET": "bad secret\n"}, "SLACK_SIGNING_SECRET"),
        ({**GOOD, "UNSTUCK_OPERATORS": "U123ABC, alice"}, "UNSTUCK_OPERATORS"),
        ({**GOOD, "SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
    ],
)
def test_bad_slack_settings_name_the_variable(monkeypatch, env, named):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=named) as info:
        load_settings().check_slack(socket_mode=False)
    for value in env.values():
        if "secret" in value or value.startswith("xox"):
            assert value not in str(info.value)


def test_socket_mode_needs_an_app_token(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind")
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        load_settings().check_slack(socket_mode=True)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "VTEX_ACCOUNT"),
        ({"VTEX_ACCOUNT": "Acme Store"}, "VTEX_ACCOUNT"),
        ({"VTEX_BASE_URL": "not a url"}, "VTEX_BASE_URL"),
        ({"VTEX_ACCOUNT": "acme", "VTEX_APP_KEY": "key\nInjected: 1"}, "VTEX_APP_KEY"),
    ],
)
def test_bad_vtex_settings_name_the_variable(monkeypatch, env, named):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=named):
        load_settings().check_vtex()


def test_malformed_typed_setting_is_one_line(monkeypatch):
    monkeypatch.setenv("UNSTUCK_ORDER_ACTION_LIMIT", "many")
    with pytest.raises(ConfigError, match="UNSTUCK_ORDER_ACTION_LIMIT") as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_slack_api_url_gets_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:8000/api")
    assert load_settings().slack_api_base == "http://127.0.0.1:8000/api/"


def test_operators_parse_from_a_comma_list(monkeypatch):
    monkeypatch.setenv("UNSTUCK_OPERATORS", " U111, W222 ,S333,, ")
    assert load_settings().operators == {"U111", "W222", "S333"}


@pytest.mark.parametrize("name", ["VTEX_BASE_URL", "SLACK_API_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9999",
        "http://127.8.9.10/",
        "http://localhost:8000/api/",
        "http://[::1]:8000/api/",
        "https://vtex-proxy.example.com",
        "https://10.0.0.5:8443/api/",
    ],
)
def test_https_anywhere_and_plain_http_only_to_this_machine(monkeypatch, name, url):
    monkeypatch.setenv(name, url)
    assert getattr(load_settings(), name.lower()) == url


@pytest.mark.parametrize("name", ["VTEX_BASE_URL", "SLACK_API_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "http://vtex-proxy.example.com",
        "http://10.0.0.5:8080/api/",
        "http://[2001:db8::1]/api/",
        "http://127.0.0.1.evil.example/",
        "http://127.0.0.1@evil.example/",
        "http://0.0.0.0:8080",
        "ftp://127.0.0.1/",
        "not a url",
    ],
)
def test_plain_http_to_another_host_stops_at_once_naming_the_variable(monkeypatch, name, url):
    monkeypatch.setenv(name, url)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{name} must ") and "\n" not in message
    if url.startswith("http://"):
        assert "https://" in message and "127.0.0.1, localhost or [::1]" in message


def test_the_vtex_check_refuses_plain_http_to_another_host_too():
    settings = load_settings(vtex_account="acme")
    settings.vtex_base_url = "http://vtex-proxy.example.com"  # e.g. set after loading
    with pytest.raises(ConfigError, match="VTEX_BASE_URL must use https://"):
        settings.check_vtex()
