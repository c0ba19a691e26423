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
- Downloads (``downloads.py``) are served as Workhorse's ``http.ServeContent`` does: Content-Length,
  Content-Disposition, Accept-Ranges and single ``Range`` requests (206/416); no ETag or
  Last-Modified, and multi-range requests get the whole file (200).
- Object storage (``objectstore.py``, fault setting ``direct_download``): every file download
  answers 302 to a pre-signed URL of a second loopback server (HTTPS with a test-made CA when
  started with ``--object-store-cert/--object-store-key``), which records the Authorization
  scheme of each request it gets. Its URLs never expire and it is never faulted.
- Answer faults (``faults.py``): ``truncate_rate`` closes the connection halfway through any
  answer's body (honest Content-Length), ``reset_rate`` resets a file download after
  ``reset_after`` bytes (after a short pause, so the client has read them); GitLab's own code
  has no such behaviour, proxies and networks do.
- ActiveRecord validation messages are approximations except the ones the reference quotes.
- A dropped upload (fault injection) appears in the request log with status 0.
"""
