"""The MLflow backend's fixtures live in ``fixtures.py``, registered for every suite by
``tests/conftest.py`` (so one ``mlflow server`` serves the whole session)."""
