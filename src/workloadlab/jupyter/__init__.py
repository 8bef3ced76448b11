"""The Jupyter server extension: JupyterLab starts the local Workload API server with it.

Enabled by ``jupyter-config/jupyter_server_config.d/workloadlab.json`` (installed with the
package). With ``--WorkloadLab.local_server=auto`` (the default) it starts the local server
unless DataRobot is configured (``DATAROBOT_ENDPOINT``, or a drconfig.yaml with an endpoint);
``always`` starts it regardless, ``never`` leaves it alone. A local server that is already
running for the data dir is reused and left running; one this extension started is stopped
(gracefully, so its workloads come back next time) when JupyterLab stops. Kernels find it
through its connection file, as ``AsyncClient()`` does.
"""

from __future__ import annotations

from typing import Any

from workloadlab.jupyter.app import WorkloadLab


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "workloadlab.jupyter", "app": WorkloadLab}]


__all__ = ["WorkloadLab"]
