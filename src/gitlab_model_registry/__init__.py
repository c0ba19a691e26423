"""Publish, promote and download ML models in GitLab's Model registry from CI/CD."""

__version__ = "0.1.0"
