"""A GitLab test double: a real HTTP server faithful to GitLab's model registry, MLflow-compatible
and packages APIs (see /work/shared/reference/gitlab-api.md), plus its control client and pytest
fixtures.

The server side uses the standard library only and never imports the product package.
"""
