# gmr image: the CLI for GitLab CI jobs (`image:`) and the Docker action (action/action.yml).
#
#   docker build -t gmr .                                  # GitLab path + signing (default)
#   docker build --build-arg EXTRAS= -t gmr:slim .         # GitLab path only, no signing
#   docker build --build-arg EXTRAS=signing,mlflow -t gmr:mlflow . # adds the mlflow backend
#   docker build --target action -t gmr:action .           # the Docker action's image (root)
#
# A build context that already holds wheelhouse/ (our wheel and every dependency's, e.g. from
# `pip wheel -w wheelhouse .` on the host) builds without any network access.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS builder
# Signing (model-signing, sigstore) is in by default, so the components can sign and verify.
ARG EXTRAS="signing"
WORKDIR /build
COPY . .
# The venv is created here and copied whole, so the final stage needs neither pip nor the wheels,
# and bases whose system pip is "externally managed" (Debian's python3) work as well.
RUN set -eu; \
    python3 -m venv /opt/build-env; \
    if ! ls wheelhouse/gitlab_model_registry-*.whl >/dev/null 2>&1; then \
        /opt/build-env/bin/pip wheel --no-cache-dir --wheel-dir wheelhouse ".${EXTRAS:+[$EXTRAS]}"; \
    fi; \
    python3 -m venv --without-pip /opt/gmr; \
    /opt/build-env/bin/pip --python /opt/gmr/bin/python install --no-cache-dir --no-index \
        --find-links wheelhouse "gitlab-model-registry${EXTRAS:+[$EXTRAS]}"; \
    install -m 0755 action/entrypoint.sh /opt/gmr/bin/gmr-action; \
    /opt/gmr/bin/gmr --version

FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="gitlab-model-registry" \
      org.opencontainers.image.description="Publish ML models to GitLab's Model registry from CI/CD" \
      org.opencontainers.image.source="https://gitlab.com/gitlab-model-registry/gitlab-model-registry" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/gmr/bin:${PATH}"
COPY --from=builder /opt/gmr /opt/gmr
# No ENTRYPOINT: GitLab runs a job's `script:` with the image's shell as is.
CMD ["gmr", "--help"]

# The Docker action's image (`--target action`, tag suffix `-action`): GitHub requires Docker
# actions to run as the default user, root, or they may not be able to write GITHUB_WORKSPACE
# and the file commands, which belong to the runner's user (uid 1001 only on GitHub's hosts).
FROM runtime AS action

# The default target, for GitLab jobs: a non-root user. GitLab's Docker executor makes the
# build directory writable for any uid.
FROM runtime
RUN useradd --no-log-init --create-home --uid 1001 --user-group gmr
USER 1001:1001
