"""The exceptions the library raises; each carries its exit code and a hint saying what to do.

The CLI is the only place that turns them into output (see ``cli.main``). Messages never
contain secrets: callers pass token *kinds* ("API token", "CI job token"), never values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager


class GmrError(Exception):
    """Base class: an error the user can act on. ``exit_code`` follows the design's table."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(GmrError):
    """Bad flag, bad semver, missing token or configuration, nothing to upload (exit 2)."""

    exit_code = 2


class LocalProblems(UsageError):
    """Several things wrong before anything remote happened; ``problems`` lists each (exit 2).

    The message is the first problem and how many more there are; the CLI prints them all.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        more = len(problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{problems[0]}{suffix}")
        self.problems = tuple(problems)


class Problems:
    """Runs local checks one after another and reports every problem they find at once."""

    def __init__(self) -> None:
        self.found: list[str] = []

    @contextmanager
    def check(self) -> Iterator[None]:
        try:
            yield
        except LocalProblems as error:
            self.found += error.problems
        except UsageError as error:
            self.found.append(f"{error.message} — {error.hint}" if error.hint else error.message)

    def raise_any(self) -> None:
        if self.found:
            raise LocalProblems(self.found)


class RegistryError(GmrError):
    """The registry or the network failed, after retries where retrying made sense (exit 3)."""

    exit_code = 3


class NotFoundError(RegistryError):
    """A model, version or file the command needs does not exist in the registry (exit 3)."""


class IntegrityError(RegistryError):
    """Bytes stored or received do not match their sha256 (exit 3)."""


class AuthError(GmrError):
    """A credential is missing, invalid, lacks a scope, or its role is too low (exit 4)."""

    exit_code = 4


class ConflictError(GmrError):
    """A conflict retrying cannot resolve, e.g. a version that exists with other files (exit 5)."""

    exit_code = 5


class SignatureError(ConflictError):
    """A signature is missing, invalid, or does not cover the version's files (exit 5)."""


class GateError(ConflictError):
    """A promotion gate (``--require``) refused the version (exit 5)."""


class VersionTakenError(ConflictError):
    """The version was created meanwhile by someone else; publish recomputes and retries."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: transfers are cancelled and the command stops (exit 128+N).

    A ``BaseException``, like ``KeyboardInterrupt``, so no ``except Exception`` swallows it;
    ``detail`` says what is left unfinished (set by the use case that was interrupted).
    """

    def __init__(self, signum: int, detail: str = "") -> None:
        super().__init__(signum, detail)
        self.signum = signum
        self.detail = detail
        self.exit_code = 128 + signum

    def explained(self, detail: str) -> Interrupted:
        return Interrupted(self.signum, detail)
