"""The tables of the local server's database (created when missing)."""

from __future__ import annotations

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS artifacts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER,
    collection_id TEXT,
    spec TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workloads (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    runtime TEXT,
    desired TEXT NOT NULL,
    generation INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    running_since TEXT,
    restart_count INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    runtime_state TEXT,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workloads_artifact ON workloads (artifact_id);
CREATE TABLE IF NOT EXISTS deployments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    importance TEXT NOT NULL,
    workload_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deployments_workload ON deployments (workload_id);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    timestamp TEXT NOT NULL,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    workload_id TEXT,
    artifact_id TEXT,
    deployment_id TEXT,
    details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_workload ON events (workload_id, seq);
CREATE INDEX IF NOT EXISTS events_artifact ON events (artifact_id, seq);
CREATE INDEX IF NOT EXISTS events_deployment ON events (deployment_id, seq);
CREATE INDEX IF NOT EXISTS events_entity ON events (entity_id, seq);
CREATE TABLE IF NOT EXISTS running_artifacts (
    workload_id TEXT PRIMARY KEY,
    artifact_id TEXT NOT NULL,
    version INTEGER,
    spec_digest TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workload_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    container_name TEXT NOT NULL,
    stream TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_workload ON logs (workload_id, seq);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    credential_type TEXT NOT NULL,
    description TEXT NOT NULL,
    keys TEXT NOT NULL,
    secret_values TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rollouts (
    id TEXT PRIMARY KEY,
    workload_id TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    from_artifact_id TEXT NOT NULL,
    to_artifact_id TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    runtime_state TEXT,
    actor_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS rollouts_deployment ON rollouts (deployment_id, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS rollouts_under_way ON rollouts (workload_id)
    WHERE status = 'inProgress';
CREATE TABLE IF NOT EXISTS replicas (
    workload_id TEXT NOT NULL,
    role TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    runtime_state TEXT NOT NULL,
    PRIMARY KEY (workload_id, role, ordinal)
);
CREATE TABLE IF NOT EXISTS artifact_repositories (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS artifact_wire_specs (
    artifact_id TEXT PRIMARY KEY,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS replacements (
    rollout_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    strategy TEXT NOT NULL,
    config TEXT NOT NULL,
    runtime TEXT,
    previous_proton_id TEXT
);
CREATE TABLE IF NOT EXISTS workload_settings (
    workload_id TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    importance TEXT NOT NULL,
    runtime TEXT
);
"""
