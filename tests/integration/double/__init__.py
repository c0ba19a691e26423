"""The GitLab double's own tests: the executable spec of GitLab's behaviour.

They follow /work/shared/reference/gitlab-api.md (§1, §2, §7, §10, §11) and talk real HTTP.
"""
