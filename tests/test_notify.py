"""Notifications after `recon run`: real SMTP and HTTP servers on 127.0.0.1 receive them."""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import logging
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from recon.cli import main
from tests.conftest import ROOT, clean_workdir, write_config
from tests.faultproxy import self_signed

HEADER = "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n"
PASSWORD = "s3cret-smtp-pw"
DING_SECRET = "SECdingtalk-signing-secret"
FEISHU_SECRET = "feishu-signing-secret"
WECOM_KEY = "wecom-robot-key-693axxx6"


def run(folder: Path, day: str = "2026-11-10") -> int:
    return main(["--config", str(folder / "recon.toml"), "run", "--date", day, "-q"])


def configure(folder: Path, notify: str, **kw) -> None:
    write_config(folder, extra="[notify]\nretry_wait_seconds = 0\ntimeout_seconds = 3\n" + notify,
                 **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- a real SMTP server with STARTTLS / TLS and a login -----------------------------------
@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A certificate for 127.0.0.1 that the client trusts through SSL_CERT_FILE."""
    return self_signed(tmp_path_factory.mktemp("tls"))


class SMTPServer:
    def __init__(self, ctx: ssl.SSLContext, implicit_tls: bool):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.received = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.received.append(envelope)
                return "250 OK"

        def login(server, session, envelope, mechanism, auth):
            return AuthResult(success=auth.login == b"recon" and auth.password == PASSWORD.encode())

        self.port = free_port()
        # implicit TLS: the session is encrypted from the first byte, aiosmtpd just cannot tell
        kw = ({"ssl_context": ctx, "auth_require_tls": False} if implicit_tls
              else {"tls_context": ctx, "require_starttls": True})
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     authenticator=login, auth_required=True, **kw)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def smtp_channel(port: int, security: str, folder: Path) -> str:
    (folder / "smtp-password").write_text(PASSWORD + "\n", encoding="utf-8")
    return f"""
[[notify.channel]]
type = "smtp"
host = "127.0.0.1"
port = {port}
security = "{security}"
user = "recon"
password_file = "{folder / 'smtp-password'}"
from = "recon@example.gov.cn"
to = ["duty@example.gov.cn", "officer@example.gov.cn"]
"""


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_reaches_every_recipient_with_the_report_attached(workdir, tls, monkeypatch,
                                                               security, caplog):
    cert, ctx = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client verifies the server's cert
    with SMTPServer(ctx, implicit_tls=security == "tls") as smtp:
        configure(workdir, smtp_channel(smtp.port, security, workdir))
        with caplog.at_level(logging.DEBUG):
            assert run(workdir) == 1
    assert sorted(r for e in smtp.received for r in e.rcpt_tos) == \
        ["duty@example.gov.cn", "officer@example.gov.cn"]
    mail = email.message_from_bytes(smtp.received[0].content, policy=email.policy.default)
    assert "2026-11-10" in mail["Subject"] and "退出码 1" in mail["Subject"]
    assert "有需要处理的问题" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "严重 " in text and "32 个合同项中 17 项本晚未知" in text
    assert "主要严重问题" in text and "分配不足" in text
    attached = [p for p in mail.iter_attachments() if p.get_filename() == "nightly.html"]
    # the page declares <meta charset="utf-8">: what a mail client's browser reads
    assert attached and "政务云资源核对日报" in attached[0].get_payload(decode=True).decode()
    assert PASSWORD not in caplog.text


def test_mail_to_an_untrusted_server_is_not_sent(workdir, tls, caplog):
    # no SSL_CERT_FILE: the self-signed certificate is not trusted, the password never leaves
    cert, ctx = tls
    with SMTPServer(ctx, implicit_tls=False) as smtp:
        configure(workdir, "retries = 1\n" + smtp_channel(smtp.port, "starttls", workdir))
        with caplog.at_level(logging.DEBUG):
            assert run(workdir) == 1
    assert smtp.received == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert "attempt 2 of 2 failed" in caplog.text and "giving up" in caplog.text
    assert PASSWORD not in caplog.text


# -- a real HTTP server for the webhooks ----------------------------------------------------
class Hooks:
    """Records every POST; answers what the robots answer (or fails on /broken)."""

    def __init__(self):
        self.posts: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                url = urllib.parse.urlsplit(self.path)
                outer.posts.append({"path": url.path, "query": urllib.parse.parse_qs(url.query),
                                    "headers": dict(self.headers),
                                    "body": json.loads(body.decode("utf-8"))})
                if url.path.startswith("/broken"):
                    self.send_response(500)
                    self.end_headers()
                    return
                answer = {"code": 0, "msg": "success"} if "feishu" in url.path else \
                    {"errcode": 0, "errmsg": "ok"}
                if url.path.startswith("/refuse"):  # what 钉钉 says when a keyword is missing
                    answer = {"errcode": 310000, "errmsg": "keywords not in content"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def at(self, path: str) -> list[dict]:
        return [p for p in self.posts if p["path"] == path]


def test_each_webhook_format_and_the_signatures(workdir, monkeypatch, caplog):
    with Hooks() as hooks:
        monkeypatch.setenv("RECON_WECOM_URL", f"{hooks.url}/cgi-bin/webhook/send?key={WECOM_KEY}")
        monkeypatch.setenv("RECON_DING_SECRET", DING_SECRET)
        monkeypatch.setenv("RECON_FEISHU_SECRET", FEISHU_SECRET)
        monkeypatch.setenv("RECON_HOOK_TOKEN", "bearer-token-xyz")
        configure(workdir, f"""
on = "always"
link = "https://recon.example.gov.cn/reports/"
[[notify.channel]]
type = "wecom"
url_env = "RECON_WECOM_URL"
[[notify.channel]]
type = "dingtalk"
url = "{hooks.url}/robot/send?access_token=ding-token"
secret_env = "RECON_DING_SECRET"
[[notify.channel]]
type = "feishu"
url = "{hooks.url}/open-apis/bot/v2/hook/feishu-token"
secret_env = "RECON_FEISHU_SECRET"
[[notify.channel]]
type = "json"
url = "{hooks.url}/recon"
token_env = "RECON_HOOK_TOKEN"
""")
        before = time.time()
        with caplog.at_level(logging.DEBUG):
            assert run(workdir) == 1
    link = "https://recon.example.gov.cn/reports/2026-11-10/nightly.html"

    (wecom,) = hooks.at("/cgi-bin/webhook/send")
    assert wecom["query"]["key"] == [WECOM_KEY]
    assert wecom["body"]["msgtype"] == "markdown"
    content = wecom["body"]["markdown"]["content"]
    assert "2026-11-10" in content and "退出码 1" in content and f"]({link})" in content

    (ding,) = hooks.at("/robot/send")
    assert ding["query"]["access_token"] == ["ding-token"]
    ts = ding["query"]["timestamp"][0]
    assert abs(int(ts) / 1000 - before) < 60
    expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert ding["query"]["sign"] == [expected]
    assert ding["body"]["msgtype"] == "markdown"
    assert "2026-11-10" in ding["body"]["markdown"]["title"]
    assert "主要严重问题" in ding["body"]["markdown"]["text"]

    (feishu,) = hooks.at("/open-apis/bot/v2/hook/feishu-token")
    fts = feishu["body"]["timestamp"]
    assert feishu["body"]["sign"] == base64.b64encode(hmac.new(
        f"{fts}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    assert feishu["body"]["msg_type"] == "interactive"
    assert "2026-11-10" in feishu["body"]["card"]["header"]["title"]["content"]
    assert "退出码 1" in feishu["body"]["card"]["elements"][0]["content"]

    (generic,) = hooks.at("/recon")
    assert generic["headers"]["Authorization"] == "Bearer bearer-token-xyz"
    body = generic["body"]
    rep = json.loads((workdir / "out" / "2026-11-10" / "nightly.json").read_text("utf-8"))
    assert body["date"] == "2026-11-10" and body["exit_code"] == 1 and body["link"] == link
    assert body["counts"]["critical"] == rep["counts"]["critical"]
    assert body["counts"]["items_unknown"] == 17
    assert [f["code"] for f in body["top_critical"]] == \
        [f["code"] for f in rep["findings"] if f["severity"] == "critical"][:5]

    for secret in (WECOM_KEY, DING_SECRET, FEISHU_SECRET, "bearer-token-xyz", "ding-token"):
        assert secret not in caplog.text


def test_values_from_files_cannot_inject_markdown(workdir):
    (workdir / "exports" / "evil.csv").write_text(
        HEADER + "17,主机杀毒服务,av,x,-1,0,台\n", encoding="utf-8")
    (workdir / "exports" / "[点我](javascript:alert(1)).csv").write_text(
        HEADER + "17,主机杀毒服务,av,x,-1,0,台\n", encoding="utf-8")
    with Hooks() as hooks:
        configure(workdir, f'[[notify.channel]]\ntype = "wecom"\nurl = "{hooks.url}/w"\n')
        assert run(workdir) == 2  # the files are rejected
    content = hooks.at("/w")[0]["body"]["markdown"]["content"]
    assert "点我" in content and "](javascript" not in content


def test_a_dead_endpoint_is_retried_logged_and_does_not_fail_the_night(workdir, caplog):
    dead = free_port()  # nothing listens here
    with Hooks() as hooks:
        configure(workdir, f"""
retries = 2
[[notify.channel]]
type = "dingtalk"
url = "http://127.0.0.1:{dead}/robot/send?access_token=dead-token"
[[notify.channel]]
type = "wecom"
url = "{hooks.url}/broken?key=broken-key"
[[notify.channel]]
type = "dingtalk"
url = "{hooks.url}/refuse?access_token=refused-token"
[[notify.channel]]
type = "json"
url = "{hooks.url}/ok"
""")
        assert run(workdir) == 1
    assert len(hooks.at("/broken")) == 3  # the first try and 2 retries
    # HTTP 200 with an error code in the body is a failure too
    assert len(hooks.at("/refuse")) == 3
    assert "errcode 310000: keywords not in content" in caplog.text
    assert len(hooks.at("/ok")) == 1  # the other channels still get the news
    assert "attempt 3 of 3 failed: SendError: HTTP 500; giving up" in caplog.text
    assert "dingtalk 127.0.0.1: attempt 3 of 3 failed" in caplog.text
    for secret in ("dead-token", "broken-key", "refused-token"):
        assert secret not in caplog.text
    # the night is stored and reported whatever the channels did
    assert (workdir / "out" / "2026-11-10" / "nightly.json").exists()
    assert (workdir / "out" / "index.html").exists()


def test_missing_secret_is_logged_and_the_night_keeps_its_exit_code(workdir, caplog):
    configure(workdir, 'retries = 0\n[[notify.channel]]\ntype = "wecom"\n'
              'url_env = "RECON_NO_SUCH_VAR"\n')
    assert run(workdir) == 1
    assert "environment variable RECON_NO_SUCH_VAR is not set" in caplog.text


def test_on_problems_stays_quiet_on_a_clean_night(workdir):
    clean_workdir(workdir)
    with Hooks() as hooks:
        configure(workdir, f'[[notify.channel]]\ntype = "json"\nurl = "{hooks.url}/j"\n',
                  items=workdir / "items.csv")
        assert run(workdir, "2026-11-10") == 0
        assert hooks.posts == []


def test_on_change_sends_only_when_the_verdict_changes(workdir):
    clean_workdir(workdir)
    with Hooks() as hooks:
        configure(workdir, f'on = "change"\n[[notify.channel]]\ntype = "json"\n'
                  f'url = "{hooks.url}/j"\n', items=workdir / "items.csv")
        assert run(workdir, "2026-11-10") == 0  # the first night: a change from nothing
        assert run(workdir, "2026-11-11") == 0  # same verdict: quiet
        (workdir / "exports" / "2026-11-12" / "bad.csv").write_text(HEADER + "99,x,y,z,1,1,个\n",
                                                     encoding="utf-8")
        assert run(workdir, "2026-11-12") == 2  # a rejected file: the verdict changed
    assert [(p["body"]["date"], p["body"]["exit_code"]) for p in hooks.posts] == \
        [("2026-11-10", 0), ("2026-11-12", 2)]


@pytest.mark.parametrize("table, says", [
    ('[[notify.channel]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = "c@d"\n'
     'user = "u"\npassword = "hunter2"\n', "'password' must not be written in recon.toml"),
    ('[[notify.channel]]\ntype = "dingtalk"\nurl = "http://x"\nsecret = "s"\n',
     "'secret' must not be written in recon.toml"),
    ('[[notify.channel]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = "c@d"\n'
     'security = "none"\nuser = "u"\npassword_env = "P"\n', "would send the password in clear"),
    ('on = "sometimes"\n', "use one of problems, always, change"),
    ('link = "reports.example.gov.cn"\n', "link must be an http(s):// address"),
    ('[[notify.channel]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = "c@d"\nuser = "u"\n',
     "user needs password_env or password_file"),
    ('[[notify.channel]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = ["duty"]\n',
     "from and to must be mail addresses"),
    ('[[notify.channel]]\ntype = "slack"\n', "type must be one of"),
    ('[[notify.channel]]\ntype = "wecom"\n', "needs exactly one of url, url_env, url_file"),
])
def test_bad_notify_settings_exit_3_before_anything_is_written(workdir, capsys, table, says):
    configure(workdir, table)
    assert run(workdir) == 3
    err = capsys.readouterr().err
    assert says in err and "hunter2" not in err
    assert not (workdir / "recon.duckdb").exists() and not (workdir / "out").exists()


def test_the_documented_example_is_valid_configuration():
    import tomllib
    from types import SimpleNamespace

    from recon.notify import load_settings

    page = (ROOT / "docs" / "notifications.md").read_text(encoding="utf-8")
    start = page.index("```toml") + len("```toml")
    example = page[start:page.index("```", start)]
    settings = load_settings(SimpleNamespace(path=Path("docs/notifications.md"),
                                             extra=tomllib.loads(example)))
    assert [c.type for c in settings.channels] == ["smtp", "wecom", "dingtalk", "feishu", "json"]
