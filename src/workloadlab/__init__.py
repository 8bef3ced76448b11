"""workloadlab: iterate on containerized AI workloads from JupyterLab, then lock and deploy them."""

__version__ = "0.1.0"
