"""Telling people: the night's verdict by mail and into 企业微信, 钉钉 and 飞书 groups.

Runs after the night is stored and its report written, so nothing it does can lose
data; a channel that fails is retried, logged, and never changes the exit code.

``[notify]`` in recon.toml says when (``on``: ``problems`` = exit >= 1, the default;
``always``; ``change`` = the verdict differs from the previous night's) and where
(``[[notify.channel]]``, any number).  Secrets -- the SMTP password, a robot's signing
secret, a webhook URL carrying its key -- are read from an environment variable
(``*_env``) or a file (``*_file``) when the message is sent; a password or secret
written in recon.toml is refused.  Logs name a channel by its type and host only.

Mail goes through apprise's SMTP plugin (STARTTLS or TLS with the system's certificate
checks, attachments).  The webhooks do not: apprise's 企业微信, 钉钉 and 飞书 plugins
post only to the vendors' public hosts (a 政务 private deployment or a proxy cannot be
named, nor a test server), send 企业微信 plain text only, and log the DingTalk URL with
its access token at debug level.  Their bodies are small and documented; they are built
here and posted with urllib, which logs nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from recon.errors import ConfigError
from recon.store import Store, exit_codes_by_night
from reports.common import visible

log = logging.getLogger(__name__)

WHEN = ("problems", "always", "change")
#: channel type -> keys it may carry (secrets only as *_env / *_file)
CHANNELS = {
    "smtp": {"host", "port", "security", "user", "password_env", "password_file", "from", "to",
             "attach"},
    "wecom": {"url", "url_env", "url_file"},
    "dingtalk": {"url", "url_env", "url_file", "secret_env", "secret_file"},
    "feishu": {"url", "url_env", "url_file", "secret_env", "secret_file"},
    "json": {"url", "url_env", "url_file", "token_env", "token_file"},
}
SECURITY = ("starttls", "tls", "none")
#: critical findings a message lists before "and N more"
TOP = 5


@dataclass
class Channel:
    type: str
    options: dict

    @property
    def label(self) -> str:
        """Type and host: what logs may say about a channel (a URL's path can hold its key)."""
        if self.type == "smtp":
            return f"smtp {self.options['host']}:{self.options.get('port', '')}".rstrip(":")
        url = _try_secret(self, "url")
        host = urllib.parse.urlsplit(url).hostname if url else None
        return f"{self.type} {host or 'webhook'}"


@dataclass
class Settings:
    on: str = "problems"
    channels: list[Channel] = field(default_factory=list)
    #: the address where OUT is published (https://…/reports); messages link the report there
    link: str | None = None
    retries: int = 3
    retry_wait: float = 10.0
    timeout: float = 15.0


def load_settings(config) -> Settings:
    """The ``[notify]`` table, checked; a mistake here is a configuration error (exit 3)."""
    raw = (config.extra or {}).get("notify")
    where = f"{config.path} [notify]"
    if raw is None:
        return Settings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    on = raw.get("on", "problems")
    if on not in WHEN:
        raise ConfigError(f"{where}: on = {on!r}; use one of {', '.join(WHEN)}")
    unknown = set(raw) - {"on", "link", "retries", "retry_wait_seconds", "timeout_seconds",
                          "channel"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    link = raw.get("link")
    if link is not None and not str(link).startswith(("https://", "http://")):
        raise ConfigError(f"{where}: link must be an http(s):// address where OUT is published")
    channels = []
    for n, ch in enumerate(raw.get("channel", []), start=1):
        at = f"{config.path} [[notify.channel]] {n}"
        if not isinstance(ch, dict) or ch.get("type") not in CHANNELS:
            raise ConfigError(f"{at}: type must be one of {', '.join(CHANNELS)}")
        kind = ch["type"]
        for key in ("password", "secret", "token"):
            if key in ch:
                raise ConfigError(f"{at}: {key!r} must not be written in recon.toml; give "
                                  f"{key}_env (an environment variable) or {key}_file")
        extra = set(ch) - CHANNELS[kind] - {"type"}
        if extra:
            raise ConfigError(f"{at}: {kind} takes no key(s) {', '.join(sorted(extra))}")
        if kind == "smtp":
            if not ch.get("host") or not ch.get("to") or not ch.get("from"):
                raise ConfigError(f"{at}: smtp needs host, from and to")
            if ch.get("security", "starttls") not in SECURITY:
                raise ConfigError(f"{at}: security must be one of {', '.join(SECURITY)}")
            if ch.get("security") == "none" and ch.get("user"):
                raise ConfigError(f"{at}: security = \"none\" would send the password in clear;"
                                  f" use starttls or tls")
            if ch.get("user") and not ("password_env" in ch or "password_file" in ch):
                raise ConfigError(f"{at}: user needs password_env or password_file")
            if isinstance(ch["to"], str):
                ch = {**ch, "to": [ch["to"]]}
            if not isinstance(ch["to"], list):
                raise ConfigError(f"{at}: to must be an address or a list of addresses")
            if not all(isinstance(a, str) and "@" in a for a in ch["to"] + [ch["from"]]):
                raise ConfigError(f"{at}: from and to must be mail addresses")
            if "port" in ch and (not isinstance(ch["port"], int) or not 0 < ch["port"] < 65536):
                raise ConfigError(f"{at}: port must be a number from 1 to 65535")
        elif sum(k in ch for k in ("url", "url_env", "url_file")) != 1:
            raise ConfigError(f"{at}: {kind} needs exactly one of url, url_env, url_file")
        channels.append(Channel(kind, {k: v for k, v in ch.items() if k != "type"}))
    try:
        return Settings(on, channels, link, int(raw.get("retries", 3)),
                        float(raw.get("retry_wait_seconds", 10)),
                        float(raw.get("timeout_seconds", 15)))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: retries, retry_wait_seconds and timeout_seconds must be "
                          f"numbers") from None


# -- the message -------------------------------------------------------------------------
@dataclass
class Message:
    subject: str
    #: the summary as markdown (robots) and as the mail's text
    markdown: str
    #: the generic JSON body
    data: dict
    #: the HTML report, attached to mail
    report: Path | None = None


def _md(text, limit: int = 100) -> str:
    """A value from the cloud or a file, made inert in markdown (no links, no markup).

    Cut to ``limit`` characters so five findings stay well inside 企业微信's 4,096-byte
    markdown limit.
    """
    # visible(): a bidi override would reorder the message
    text = visible(" ".join(str(text).split()))
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    for ch in "\\`*_[]()<>#|!~":
        text = text.replace(ch, "\\" + ch)
    return text


def build_message(report, html_path: Path | None, link_base: str | None) -> Message:
    """One summary for every channel: date, verdict, counts, the top critical findings, a link."""
    day = report.snapshot_date.isoformat()
    link = (f"{link_base.rstrip('/')}/{day}/nightly.html" if link_base
            else (str(html_path) if html_path else None))
    c = report.counts
    critical = [f for f in report.findings if f.severity == "critical"]
    subject = (f"[recon] {day} 退出码 {report.exit_code}：{report.exit_label}"
               f"（严重 {c['critical']}，警告 {c['warning']}）")
    lines = [f"### 政务云资源核对 {day}",
             f"**结论（退出码 {report.exit_code}）**：{report.exit_label}",
             f"- 严重 {c['critical']} 项，警告 {c['warning']} 项，提示 {c['info']} 项",
             f"- {len(report.items)} 个合同项中 {c['items_unknown']} 项本晚未知"]
    if critical:
        lines.append("")
        lines.append("**主要严重问题**")
        for n, f in enumerate(critical[:TOP], start=1):
            item = f"第{f.item_no}项 {_md(f.item_name)} · " if f.item_no else ""
            lines.append(f"{n}. {f.code_label}（{f.code}）· {item}{_md(f.message)}")
        if len(critical) > TOP:
            lines.append(f"…另有 {len(critical) - TOP} 项严重问题，见报告")
    due = due_notices(report)
    if due:
        lines.append("")
        lines.append("**书面通知到期**")
        for n in due:
            lines.append(f"- {n.notice_id} {n.kind_label}（{_md(n.ref, 40)}）：{_md(n.text)}")
    if link:
        lines.append("")
        lines.append(f"[查看当晚报告]({link})" if link_base else f"报告：{_md(link, 300)}")
    data = {"source": "recon", "contract": report.contract_number, "date": day,
            "exit_code": report.exit_code, "verdict": report.exit_label,
            "counts": {k: c[k] for k in ("critical", "warning", "info", "items_unknown")},
            "top_critical": [{"code": f.code, "item_no": f.item_no, "message": f.message}
                             for f in critical[:TOP]],
            "link": link, "markdown": "\n".join(lines)}
    if due:
        data["notices"] = [{"notice_id": n.notice_id, "kind": n.kind, "ref": n.ref,
                            "deadline": n.deadline.isoformat(), "status": n.status,
                            "text": n.text} for n in due]
    return Message(subject, "\n".join(lines), data, html_path)


def due_notices(report) -> list:
    """The written notices that fall due on the report's night (near their deadline, or past
    it since last night): a message names them, and they are worth sending one for."""
    return [n for n in getattr(report, "notices", []) if n.falls_due]


# -- deciding and sending ----------------------------------------------------------------
def should_send(on: str, exit_code: int, previous: int | None) -> bool:
    if on == "always":
        return True
    if on == "change":
        return previous != exit_code
    return exit_code >= 1


def previous_exit_code(db_path: Path, day) -> int | None:
    """The verdict of the latest night stored before ``day`` (None: no earlier night)."""
    with Store(db_path, read_only=True) as store:
        codes = exit_codes_by_night(store)
    earlier = [d for d in codes if d < day]
    return codes[max(earlier)] if earlier else None


class SendError(Exception):
    """A channel refused or could not be reached; the text carries no secret."""


def _secret(ch: Channel, key: str, required: bool = True) -> str | None:
    opts = ch.options
    if key in opts:  # only url may be written in clear
        return str(opts[key])
    if f"{key}_env" in opts:
        value = os.environ.get(opts[f"{key}_env"])
        if value:
            return value.strip()
        raise SendError(f"environment variable {opts[f'{key}_env']} is not set")
    if f"{key}_file" in opts:
        try:
            return Path(opts[f"{key}_file"]).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SendError(f"cannot read {opts[f'{key}_file']}: {exc.strerror}") from None
    if required:
        raise SendError(f"no {key} configured")
    return None


def _post(url: str, body: dict, timeout: float, headers: dict | None = None) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(),
                                 method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SendError(f"{getattr(exc, 'reason', exc)}") from None
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:
        return {}


def _check(answer: dict, *keys: str) -> None:
    """The robots answer HTTP 200 with an error code in the body."""
    for key in keys:
        if answer.get(key) not in (None, 0):
            raise SendError(f"{key} {answer.get(key)}: {answer.get('errmsg') or answer.get('msg')}")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 robot signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-quoted."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return urllib.parse.quote_plus(base64.b64encode(digest.digest()).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书 robot signature: base64(HMAC-SHA256(key="timestamp\\nsecret", msg=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _send_webhook(ch: Channel, msg: Message, timeout: float) -> None:
    url = _secret(ch, "url")
    if ch.type == "wecom":
        _check(_post(url, {"msgtype": "markdown", "markdown": {"content": msg.markdown}},
                     timeout), "errcode")
    elif ch.type == "dingtalk":
        secret = _secret(ch, "secret", required=False)
        if secret:
            ts = int(time.time() * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
        _check(_post(url, {"msgtype": "markdown",
                           "markdown": {"title": msg.subject, "text": msg.markdown}}, timeout),
               "errcode")
    elif ch.type == "feishu":
        body = {"msg_type": "interactive",
                "card": {"header": {"title": {"tag": "plain_text", "content": msg.subject}},
                         "elements": [{"tag": "markdown", "content": msg.markdown}]}}
        secret = _secret(ch, "secret", required=False)
        if secret:
            ts = int(time.time())
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
        _check(_post(url, body, timeout), "code", "StatusCode")
    else:
        token = _secret(ch, "token", required=False)
        _post(url, msg.data, timeout, {"Authorization": f"Bearer {token}"} if token else None)


def _send_mail(ch: Channel, msg: Message, timeout: float) -> None:
    # heavy (apprise loads its plugins): imported only when a mail channel sends
    from apprise import AppriseAttachment
    from apprise.plugins.email import NotifyEmail

    o = ch.options
    security = o.get("security", "starttls")
    password = _secret(ch, "password") if o.get("user") else None
    mail = NotifyEmail(host=o["host"], port=int(o.get("port", 465 if security == "tls" else 587)),
                       smtp_host=o["host"], user=o.get("user"), password=password,
                       secure=security != "none",
                       secure_mode={"tls": "ssl", "starttls": "starttls"}.get(security, "insecure"),
                       from_addr=o["from"], targets=list(o["to"]))
    mail.socket_connect_timeout = mail.socket_read_timeout = timeout
    attach = None
    if o.get("attach", True) and msg.report and Path(msg.report).exists():
        attach = AppriseAttachment([str(msg.report)])
    if not mail.send(body=msg.markdown, title=msg.subject, attach=attach):
        raise SendError("the SMTP server did not accept the mail (see apprise's log above)")


def send(ch: Channel, msg: Message, settings: Settings) -> bool:
    """Send on one channel, retrying; True when it went through. Never raises."""
    secrets = []
    for attempt in range(1, settings.retries + 2):
        try:
            secrets = [s for s in (_try_secret(ch, k) for k in ("password", "secret", "token",
                                                                 "url")) if s]
            if ch.type == "smtp":
                _send_mail(ch, msg, settings.timeout)
            else:
                _send_webhook(ch, msg, settings.timeout)
            log.info("notify: %s: sent", ch.label)
            return True
        except Exception as exc:  # a notification never ends the night
            text = _scrub(f"{exc.__class__.__name__}: {exc}", secrets)
            last = attempt > settings.retries
            log.warning("notify: %s: attempt %d of %d failed: %s%s", ch.label, attempt,
                        settings.retries + 1, text, "; giving up" if last else "")
            if last:
                return False
            time.sleep(settings.retry_wait * attempt)
    return False


def _try_secret(ch: Channel, key: str) -> str | None:
    try:
        return _secret(ch, key, required=False)
    except SendError:
        return None


def _scrub(text: str, secrets: list[str]) -> str:
    """No secret in a log line, whatever an exception chose to say."""
    for s in secrets:
        text = text.replace(s, "***")
        text = text.replace(urllib.parse.quote(s, safe=""), "***")
    return text


def notify_night(config, db_path: Path, result) -> dict[str, bool]:
    """After a night: decide, send on every channel; {channel label: sent}. Never raises."""
    try:
        settings = load_settings(config)
        if not settings.channels:
            return {}
        report = result.report
        previous = (previous_exit_code(db_path, report.snapshot_date)
                    if settings.on == "change" else None)
        if not should_send(settings.on, report.exit_code, previous) and \
                not due_notices(report):
            log.info("notify: nothing to send (on = %s, exit %d, previous %s)", settings.on,
                     report.exit_code, previous)
            return {}
        msg = build_message(report, result.html, settings.link)
    except Exception as exc:
        log.warning("notify: not sent: %s", exc)
        return {}
    return {ch.label: send(ch, msg, settings) for ch in settings.channels}
