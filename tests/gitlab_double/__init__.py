"""A GitLab test double: a real HTTP server faithful to GitLab's model registry, MLflow-compatible
and packages APIs (see /work/shared/reference/gitlab-api.md), plus its control client and pytest
fixtures. The server side uses the standard library only and never imports the product package.

GitLab's disorder, each a start-up flag (``python -m tests.gitlab_double --help``) and a control
call (``control.DoubleClient``); the defaults are current GitLab, in order:
- Overlapping creates (``--race-window-ms``, ``set_faults(race_window_ms=...)``): model and
  model-version creation validate, then INSERT, without a lock between the two
  (app/services/ml/create_model_version_service.rb, create_model_service.rb); the loser of a true
  overlap hits the unique index and gets the entrypoint's ``rescue_from
  ActiveRecord::ActiveRecordError`` answer, 400 INVALID_PARAMETER_VALUE with PostgreSQL's
  ``PG::UniqueViolation`` text (lib/api/ml/mlflow/entrypoint.rb, commit 24fb09b2eb3f). The window
  widens the gap so tests hit it every time. Other JSON handlers each run as one transaction.
- Preferred language per token (``--language TOKEN:de``, ``set_language``): validation messages
  as rails-i18n renders them (``i18n.py``; German "Version ist bereits vergeben").
- Switched-off features (``--feature-off ID:FEATURE``, ``set_features``): with the project's
  Model experiments off every MLflow and ml_models route answers 404 ``{"message":"404 Not
  Found"}``; with Model registry off (or the pre-17.6 ``model_registry`` flag) the registry,
  artifact and ml_models routes do (app/policies/project_policy.rb ``read_model_experiments``,
  ``read_model_registry``); with the Package registry off the packages API answers 403 and
  ``GET /projects/:id`` says ``packages_enabled: false`` (lib/api/entities/project.rb).
- Older releases' shapes (``--gitlab-version X.Y``, ``set_release``) and ``GET /api/v4/version``:
  see ``releases.py`` for the commits each shape follows.
- Environments and deployments (``deployments_api.py``, which names the GitLab files it follows):
  list/get/create/update deployments with DeploymentsFinder's ordering and validation, list
  and update environments; ``POST /-/double/deployments`` ``{project_id, environment, job_id,
  status, sha, ref}`` plays GitLab's part of a job with ``environment:`` (the job's deployment,
  created on the first call, then running -> success/failed), which CI-created deployments
  need: the API refuses to update them (403).
- GraphQL (``graphql.py``, ``POST /api/graphql``): only ``mlModelVersionDelete``, with
  GitLab's auth answers (401 "Invalid token", ``ResourceNotAvailable`` top-level errors),
  payload errors (unknown id; a Developer may not destroy the package) and graphql-ruby's
  validation messages for the cases modelled; see that module for the files it follows.
- A deleted package whose version stays: ``DELETE /projects/:id/packages/:package_id`` (as on
  GitLab) marks it pending destruction; the version stays in ``registered-models/get``.

Merge requests and their notes (``merge_requests.py``, which names the GitLab files they follow,
and ``mr_notes.py``):
MRs are made with the control route ``POST /-/double/merge_requests`` (``{project_id, iid,
source_branch, target_branch, state}``; re-posting an iid updates it) and read with GitLab's
``GET /projects/:id/merge_requests[/:iid]``; notes are listed, created and edited as GitLab
does (authorship, author-only edits, the 1,000,000-character limit, no job token on writes).

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
- Deployments: any ``ref`` is accepted (GitLab checks the commit exists); no protected
  environments, approvals or ``blocked`` status; the job token is accepted on every release
  (GitLab sets ``job_token_allowed`` on these routes only in newer ones).
- ActiveRecord validation messages are approximations except the ones the reference quotes.
- A dropped upload (fault injection) appears in the request log with status 0.
"""
