"""The current API generation's routes (``workload-api-current.md``): thin HTTP over the
operations both generations share, with this generation's paths, words and shapes."""

from __future__ import annotations

from fastapi import APIRouter

from workloadlab.server.routes.current import (
    artifacts,
    protons,
    replacements,
    unsupported,
    workloads,
)
from workloadlab.server.routes.current.params import unknown_parameters_refused

__all__ = ["ROUTERS", "unknown_parameters_refused"]

ROUTERS: tuple[APIRouter, ...] = (
    unsupported.router,  # first: /workloads/stats is not a workload id
    workloads.router,
    replacements.router,
    protons.router,
    artifacts.router,
    artifacts.repositories,
)
"""This generation's own routers, in the order they are mounted."""
