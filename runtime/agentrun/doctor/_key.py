"""The API key: is it set, does it look like a key, and does the service accept it?

The live check is xAI's REST ``GET /v1/api-key`` (the key's own status: name, ACLs, blocked or
disabled) with the key as a Bearer token, through httpx with a short timeout; ``base`` makes it
point elsewhere (a proxy, or a local test server). :func:`key_findings` reads the answer without
I/O. The key itself never appears in a finding.
"""

from __future__ import annotations

from typing import Any

from agentrun.doctor._findings import Finding

__all__ = ["DEFAULT_API_BASE", "check_api_key", "key_findings", "verify_key"]

DEFAULT_API_BASE = "https://api.x.ai/v1"
_TOPIC = "API key"
_CONSOLE = "the xAI console (https://console.x.ai)"
_REJECTED = 3  # the exit code of a refused key, as for `agentrun run`


def check_api_key(key: str | None, *, env_name: str = "XAI_API_KEY",
                  base: str = DEFAULT_API_BASE, network: bool = True,
                  timeout: float = 10.0) -> list[Finding]:
    """Everything about the key: set, well-formed, accepted.

    Args:
        key: the key's value, or None when the variable is not set.
        env_name: the variable's name, for the messages.
        base: the REST base URL.
        network: ask the service (False: only look at the value).
        timeout: seconds for the request.

    Returns:
        One or two findings.
    """
    if not key:
        return [Finding.warning(_TOPIC, f"{env_name} is not set, so agentrun talks to its "
                                "offline simulator (replies are simulated)",
                                f"to talk to Grok: export {env_name}=<your key>; create a key "
                                f"in {_CONSOLE}")]
    shape = _shape_problem(key, env_name)
    if shape is not None:
        return [shape]
    if not network:
        return [Finding.ok(_TOPIC, f"{env_name} is set (not checked with the service: "
                           "--no-network)")]
    return [verify_key(key, env_name=env_name, base=base, timeout=timeout)]


def _shape_problem(key: str, env_name: str) -> Finding | None:
    """Copy-paste mistakes the service would answer with a bare 400."""
    if key != key.strip():
        return Finding.problem(_TOPIC, f"{env_name} has spaces or a line break around the key",
                               f"set it again without them: export {env_name}=<your key>")
    if key[0] in "'\"" or key[-1] in "'\"":
        return Finding.problem(_TOPIC, f"{env_name} contains quote marks as part of the key",
                               f"set it again without the inner quotes: export {env_name}=xai-…")
    if any(ch.isspace() for ch in key):
        return Finding.problem(_TOPIC, f"{env_name} contains a space: it is not one key",
                               f"copy the key again from {_CONSOLE}")
    return None


def verify_key(key: str, *, env_name: str = "XAI_API_KEY", base: str = DEFAULT_API_BASE,
               timeout: float = 10.0) -> Finding:
    """Ask the service about the key (``GET {base}/api-key`` with ``Authorization: Bearer``).

    Args:
        key: the key.
        env_name: its variable, for the messages.
        base: the REST base URL, e.g. ``https://api.x.ai/v1``.
        timeout: seconds for connecting and for the answer.

    Returns:
        What :func:`key_findings` makes of the answer, or a problem when the service could not
        be reached.
    """
    import httpx

    url = base.rstrip("/") + "/api-key"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout)
    except httpx.TimeoutException:
        return _unreachable(url, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return _unreachable(url, _reason(exc))
    try:
        body = response.json()
    except ValueError:
        body = None
    return key_findings(response.status_code, body if isinstance(body, dict) else None,
                        env_name=env_name, url=url)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Name or service not known" in text or "nodename nor servname" in text \
            or "getaddrinfo failed" in text:
        return "the host name could not be found"
    if "Connection refused" in text or "connect call failed" in text.lower():
        return "the connection was refused"
    return text


def _unreachable(url: str, reason: str) -> Finding:
    return Finding.problem(_TOPIC, f"cannot reach {url} to check the key ({reason})",
                           "check the internet connection and any proxy (HTTPS_PROXY); "
                           "agentrun doctor --no-network skips this check")


def key_findings(status: int, body: dict[str, Any] | None, *, env_name: str = "XAI_API_KEY",
                 url: str = DEFAULT_API_BASE + "/api-key") -> Finding:
    """What the service's answer about the key means, and what to do.

    Args:
        status: the HTTP status.
        body: the JSON object it sent (``name``, ``acls``, ``api_key_blocked``,
            ``api_key_disabled``, ``team_blocked``), if any.
        env_name: the key's variable, for the messages.
        url: the URL asked, for the messages.

    Returns:
        One finding.
    """
    body = body or {}
    if status in (400, 401):
        return Finding.problem(_TOPIC, f"the service rejected {env_name} (HTTP {status}): it "
                               "is not a valid key", f"copy the key again from {_CONSOLE}; it "
                               "may have been deleted or mistyped", exit_code=_REJECTED)
    if status == 403:
        return Finding.problem(_TOPIC, f"the service refused {env_name} (HTTP 403): the key or "
                               "its team lacks permission, or is blocked",
                               f"ask your team's admin, or check the team's credits in {_CONSOLE}",
                               exit_code=_REJECTED)
    if status == 429:
        return Finding.warning(_TOPIC, "the service is limiting requests right now (HTTP 429), "
                               "so the key could not be checked", "wait a minute and run "
                               "agentrun doctor again")
    if status >= 500:
        return Finding.warning(_TOPIC, f"the service had a problem (HTTP {status}), so the key "
                               "could not be checked", "try again later")
    if status != 200:
        return Finding.warning(_TOPIC, f"{url} answered HTTP {status}, so the key could not be "
                               "checked", "check --api-base (it should end in /v1)")
    for flag, what, fix in (
            ("api_key_disabled", "this key is disabled", f"enable it, or make a new key, in "
             f"{_CONSOLE}"),
            ("api_key_blocked", "this key is blocked", f"make a new key in {_CONSOLE}"),
            ("team_blocked", "the key's team is blocked (often: no credits left)",
             f"check the team's billing and credits in {_CONSOLE}")):
        if body.get(flag) is True:
            return Finding.problem(_TOPIC, f"{env_name}: {what}", fix, exit_code=_REJECTED)
    name = body.get("name")
    named = f" (key '{name}')" if isinstance(name, str) and name else ""
    limits = _acl_limits(body.get("acls"))
    if limits:
        return Finding.warning(_TOPIC, f"the service accepts {env_name}{named}, but the key is "
                               f"limited to {limits}: the voice API may refuse it",
                               f"allow the realtime endpoint and voice models for this key in "
                               f"{_CONSOLE}")
    return Finding.ok(_TOPIC, f"the service accepts {env_name}{named}")


def _acl_limits(acls: Any) -> str:
    """The key's endpoint or model restrictions that leave out the voice API, in words."""
    if not isinstance(acls, list):
        return ""
    limits = []
    for kind, needles in (("endpoint", ("realtime", "voice")), ("model", ("voice",))):
        allowed = [str(a).split(":", 2)[2] for a in acls
                   if str(a).startswith(f"api-key:{kind}:") and str(a).count(":") >= 2]
        if allowed and "*" not in allowed and not any(n in a for a in allowed for n in needles):
            limits.append(f"{kind}s {', '.join(allowed)}")
    return " and ".join(limits)
