"""Pre-flight findings in the panel against the real local server (no browser): beside their
fields before Save, errors blocking Save unless "Save despite pre-flight errors" is ticked,
warnings never blocking, the rules judged for the server's runtime, and the machine's findings
(the entrypoint's executable) arriving from the server."""

from __future__ import annotations

import html

import workloadlab
from workloadlab.models.preflight import Target
from workloadlab.notebook.panel import WorkloadPanel
from workloadlab.notebook.session import Session

from paneltools import Example, eventually, frontend_click, frontend_set


def shown(panel: WorkloadPanel, widget: object) -> str:
    return html.unescape(str(getattr(widget, "value", "")))


def test_findings_show_beside_their_fields_and_errors_block_save(
    session: Session, example: Example
) -> None:
    panel = workloadlab.panel(example.id)
    try:
        eventually(lambda: panel.preflight.target is Target.PROCESS)
        form = panel.form.containers[0]
        # A warning inside the closed probes section is listed under the form, not opened.
        assert not form.advanced.open
        assert "readinessProbe.timeoutSeconds: pre-flight warning: the readiness probe's" in (
            shown(panel, panel.preflight.summary)
        )
        readiness = form.probes[0]
        frontend_set(readiness.port, value="9000")  # the container serves another port
        problem = shown(panel, readiness.message)
        assert "pre-flight error: the readiness probe asks port 9000" in problem
        assert "Fix: set readinessProbe.port to" in problem
        assert panel.reading.artifact is None
        assert panel.save.disabled
        assert panel.preflight.force.layout.display == ""
        assert "1 error(s)" in shown(panel, panel.preflight.summary)

        frontend_set(panel.preflight.force, value=True)  # save anyway
        assert panel.reading.artifact is not None
        assert not panel.save.disabled

        frontend_set(readiness.port, value="")  # fixed: the container's port
        assert "pre-flight error" not in shown(panel, readiness.message)
        assert panel.preflight.force.layout.display == "none"
        assert not panel.preflight.force.value  # the tick does not carry over to later errors

        # Loopback on the process runtime's host works: a warning, and Save stays on.
        typed = form.entrypoint.value
        frontend_set(form.entrypoint.input, value=f"{typed} --host 127.0.0.1")
        assert "pre-flight warning: the app is told to listen on loopback" in shown(
            panel, form.entrypoint.message
        )
        assert panel.reading.artifact is not None
        assert not panel.save.disabled
        # What only the server's machine knows arrives too: the executable is not there.
        frontend_set(form.entrypoint.input, value="no-such-program-xyz --serve")
        eventually(lambda: "pre-flight error" in shown(panel, form.entrypoint.message))
        assert "no-such-program-xyz" in shown(panel, form.entrypoint.message)
        eventually(lambda: panel.save.disabled)  # drawn on the portal, just after the message
        frontend_set(form.entrypoint.input, value=f"{typed} --host 127.0.0.1")
        assert "pre-flight error" not in shown(panel, form.entrypoint.message)
        frontend_click(panel.save)
        eventually(lambda: "--host" in example.artifact()["spec"]["containerGroups"][0][
            "containers"][0]["entrypoint"])  # fmt: skip
    finally:
        panel.close()
