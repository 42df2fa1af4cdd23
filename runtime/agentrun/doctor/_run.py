"""Run every doctor check, in the order a person would fix things."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from agentrun.doctor._audio import check_audio
from agentrun.doctor._findings import Finding
from agentrun.doctor._install import check_installation, check_python
from agentrun.doctor._key import DEFAULT_API_BASE, check_api_key
from agentrun.doctor._plugins import check_plugins

__all__ = ["DoctorOptions", "run_checks"]


@dataclass(frozen=True)
class DoctorOptions:
    """What the checks may do and where they look.

    Attributes:
        network: ask the service whether it accepts the API key (one HTTPS request).
        api_key_env: the environment variable holding the key.
        api_base: the REST base URL the key is checked against (``https://api.x.ai/v1``).
        environ: the environment to read (default: the process's).
        timeout: seconds for the key check and the audio probe each.
        devices_command: ``agentrun devices`` exists (the audio fixes point to it).
    """

    network: bool = True
    api_key_env: str = "XAI_API_KEY"
    api_base: str = DEFAULT_API_BASE
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    timeout: float = 10.0
    devices_command: bool = False


def run_checks(options: DoctorOptions | None = None) -> list[Finding]:
    """Run every check and return what each found.

    Args:
        options: see :class:`DoctorOptions`.

    Returns:
        The findings: Python, installation, plugins, audio, API key. Never raises for what it
        finds; a check that cannot run says so as a finding.
    """
    options = options or DoctorOptions()
    findings = [check_python(), *check_installation(options.environ)]
    findings.extend(check_plugins())
    findings.extend(check_audio(timeout=options.timeout,
                                devices_command=options.devices_command))
    findings.extend(check_api_key(options.environ.get(options.api_key_env),
                                  env_name=options.api_key_env, base=options.api_base,
                                  network=options.network, timeout=options.timeout))
    return findings
