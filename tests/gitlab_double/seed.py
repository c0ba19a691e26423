"""Credentials and projects the pytest fixture starts the double with; tests import these."""

from __future__ import annotations

DEVELOPER_TOKEN = "glpat-developer-api"
MAINTAINER_TOKEN = "glpat-maintainer-api"
OWNER_TOKEN = "glpat-owner-api"
REPORTER_TOKEN = "glpat-reporter-api"
GUEST_TOKEN = "glpat-guest-api"
READ_API_TOKEN = "glpat-developer-read"

JOB_ID = "1001"
JOB_TOKEN = "glcbt-64_job-1001"
REPORTER_JOB_ID = "1002"
REPORTER_JOB_TOKEN = "glcbt-64_job-1002"

PROJECT_ID = 1
PROJECT_PATH = "group/project"
PRODUCTION_PROJECT_ID = 2
PRODUCTION_PROJECT_PATH = "group/production"

# (value, scopes, role) as given to --token.
TOKENS: tuple[tuple[str, str, str], ...] = (
    (DEVELOPER_TOKEN, "api", "developer"),
    (MAINTAINER_TOKEN, "api", "maintainer"),
    (OWNER_TOKEN, "api", "owner"),
    (REPORTER_TOKEN, "api", "reporter"),
    (GUEST_TOKEN, "api", "guest"),
    (READ_API_TOKEN, "read_api", "developer"),
)
# (id, token, role) as given to --job.
JOBS: tuple[tuple[str, str, str], ...] = (
    (JOB_ID, JOB_TOKEN, "developer"),
    (REPORTER_JOB_ID, REPORTER_JOB_TOKEN, "reporter"),
)
PROJECTS: tuple[tuple[int, str], ...] = (
    (PROJECT_ID, PROJECT_PATH),
    (PRODUCTION_PROJECT_ID, PRODUCTION_PROJECT_PATH),
)


def command_args() -> list[str]:
    """The standalone command's options that seed the projects, tokens and jobs above."""
    args: list[str] = []
    for project_id, path in PROJECTS:
        args += ["--project", f"{project_id}:{path}"]
    for value, scopes, role in TOKENS:
        args += ["--token", f"{value}:{scopes}:{role}"]
    for job_id, token, role in JOBS:
        args += ["--job", f"{job_id}:{token}:{role}"]
    return args
