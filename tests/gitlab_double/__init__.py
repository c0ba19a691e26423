"""A GitLab test double: a real HTTP server faithful to GitLab's model registry, MLflow-compatible
and packages APIs (see /work/shared/reference/gitlab-api.md), plus its control client and pytest
fixtures. The server side uses the standard library only and never imports the product package.

Where it simplifies GitLab, on purpose:
- Projects are private and every token is a member of every project with its role; a job token
  reaches only its own (the first) project: no allowlist holds it, so others answer GitLab's 403
  "Authentication by CI/CD job token not allowed from <src> to <dst>." (lib/api/helpers.rb).
- ml_models downloads are open to Guest+ (reference §2); the packages API needs Reporter+.
- Plain-run artifact uploads (``ml_models/candidate:<iid>/files/...``) are not modelled (404).
- Deleted packages stay "pending destruction" forever: uploads still land in them, downloads 404.
- Downloads have Content-Length and Content-Disposition only: no Range, ETag or 302 redirects.
- ActiveRecord validation messages are approximations except the ones the reference quotes.
- A dropped upload (fault injection) appears in the request log with status 0.
"""
