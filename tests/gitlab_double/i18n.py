"""Validation messages in the token owner's preferred language, as GitLab's API renders them.

GitLab sets ``Gitlab::I18n.locale`` from ``current_user.preferred_language`` for each API
request, so ActiveRecord's full messages come from rails-i18n (``activerecord.errors.messages``:
German ``taken: ist bereits vergeben``, ``too_long: ist zu lang (nicht mehr als %{count}
Zeichen)``, ``invalid: ist nicht gültig``). Attribute names stay as GitLab's models name them.
Database errors (``PG::UniqueViolation``) come from PostgreSQL and are never translated.
"""

from __future__ import annotations

TAKEN = "taken"
NOT_SEMVER = "not_semver"
TOO_LONG = "too_long"
INVALID = "invalid"

_MESSAGES = {
    "en": {
        TAKEN: "has already been taken",
        NOT_SEMVER: "must be semantic version",
        TOO_LONG: "is too long (maximum is {count} characters)",
        INVALID: "is invalid",
    },
    "de": {
        TAKEN: "ist bereits vergeben",
        NOT_SEMVER: "muss eine semantische Version sein",  # GitLab's own string: approximation
        TOO_LONG: "ist zu lang (nicht mehr als {count} Zeichen)",
        INVALID: "ist nicht gültig",
    },
}


def full_message(language: str, attribute: str, key: str, **values: object) -> str:
    """``errors.full_messages`` for one error: ``<Attribute> <message>``."""
    messages = _MESSAGES.get(language, _MESSAGES["en"])
    return f"{attribute} {messages[key].format(**values)}"
