"""``client.preflight.check``: the local server's findings (machine checks included), and
against DataRobot (mocked: it has no such route) the pure rules plus what was skipped and why."""

from __future__ import annotations

import respx

from workloadlab.client import AsyncClient
from workloadlab.models.preflight import Severity

from harness import hello_spec

SECRET = "sk-live-TESTSECRET-0123456789abcdef"
C0 = "spec.containerGroups[0].containers[0]"


def example() -> dict[str, object]:
    """The issue's spec: a readiness probe on the wrong port, a key in a plain variable and
    ``HOST=127.0.0.1``."""
    return hello_spec(
        8080,
        env={"OPENAI_API_KEY": SECRET, "HOST": "127.0.0.1"},
        readinessProbe={"path": "/readyz", "port": 9000},
    )


async def test_the_local_server_runs_the_machine_checks(wl: AsyncClient) -> None:
    report = await wl.preflight.check(hello_spec(8080, entrypoint=["no-such-program-xyz"]))
    assert report.runtime == "process"
    assert [(f.rule, f.severity, f.path) for f in report.findings] == [
        ("entrypoint-executable", Severity.ERROR, f"{C0}.entrypoint[0]")
    ]
    report = await wl.preflight.check(example())
    assert sorted(f.rule for f in report.findings) == [
        "loopback-bind",
        "plain-secret",
        "probe-port",
    ]


async def test_against_datarobot_the_pure_rules_run_and_the_skipped_checks_say_why(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    asked = cloud_mock.get("/localServer").respond(404, json={"message": "Not Found"})
    checked = cloud_mock.post("/local/preflight").respond(404, json={"message": "Not Found"})
    report = await cloud.preflight.check(example())
    assert report.runtime == "datarobot"
    errors = [(f.rule, f.path) for f in report.findings if f.severity is Severity.ERROR]
    assert sorted(errors) == [  # loopback is an error in DataRobot's containers
        ("loopback-bind", f"{C0}.environmentVars[2].value"),
        ("probe-port", f"{C0}.readinessProbe.port"),
    ]
    skipped = [f for f in report.findings if f.severity is Severity.INFO]
    assert len(skipped) == 3
    assert all("DataRobot" in f.message for f in skipped)
    await cloud.preflight.check(example())
    assert asked.call_count == 1  # asked once per client
    assert checked.call_count == 0  # no spec goes to a route DataRobot does not have
