"""``python -m tests.gitlab_double``: parse the command line, serve until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.gitlab_double.config import (
    DEFAULT_FAULT_STATUSES,
    DEFAULT_MAX_FILE_SIZE,
    Config,
    FaultSettings,
    ProjectSpec,
    parse_feature_off,
    parse_job,
    parse_language,
    parse_project,
    parse_token,
)
from tests.gitlab_double.releases import CURRENT, Release


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.gitlab_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data-dir", type=Path, required=True, help="where package files go")
    parser.add_argument("--project", type=parse_project, action="append", metavar="ID:PATH")
    parser.add_argument("--token", type=parse_token, action="append", metavar="VALUE:SCOPES:ROLE")
    parser.add_argument("--job", type=parse_job, action="append", metavar="ID:TOKEN:ROLE")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-statuses", type=_statuses, default=DEFAULT_FAULT_STATUSES)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-file-size", type=int, default=DEFAULT_MAX_FILE_SIZE)
    parser.add_argument(
        "--fault-path", default="", help="fault only requests whose path ends with this"
    )
    parser.add_argument(
        "--race-window-ms", type=int, default=0, help="gap between a create's check and INSERT"
    )
    parser.add_argument(
        "--language",
        type=parse_language,
        action="append",
        metavar="TOKEN:LANG",
        help="the token owner's preferred language: en or de",
    )
    parser.add_argument(
        "--feature-off",
        type=parse_feature_off,
        action="append",
        metavar="PROJECT_ID:FEATURE",
        help="switch a project feature off: model_registry, model_experiments or packages",
    )
    parser.add_argument(
        "--gitlab-version",
        type=_release,
        default=CURRENT,
        metavar="X.Y",
        help=f"reproduce that release's response shapes (default {CURRENT})",
    )
    parser.add_argument("--truncate-rate", type=float, default=0.0)
    parser.add_argument("--reset-rate", type=float, default=0.0)
    parser.add_argument("--direct-download", action="store_true", help="302 to object storage")
    parser.add_argument("--object-store-cert", type=Path, help="PEM: the object store uses HTTPS")
    parser.add_argument("--object-store-key", type=Path)
    parser.add_argument("--verbose", action="store_true", help="access log (no credentials)")
    return parser


def _release(text: str) -> str:
    Release.parse(text)  # argparse reports the ValueError
    return text


def _statuses(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in text.split(",") if s.strip())


def config_from(args: argparse.Namespace) -> Config:
    faults = FaultSettings(
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        fault_statuses=args.fault_statuses,
        drop_rate=args.drop_rate,
        seed=args.seed,
        max_file_size=args.max_file_size,
        race_window_ms=args.race_window_ms,
        truncate_rate=args.truncate_rate,
        reset_rate=args.reset_rate,
        direct_download=args.direct_download,
        fault_path=args.fault_path,
    )
    tls = (args.object_store_cert, args.object_store_key) if args.object_store_cert else None
    return Config(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        projects=tuple(args.project or (ProjectSpec(1, "group/project"),)),
        tokens=tuple(args.token or ()),
        jobs=tuple(args.job or ()),
        faults=faults,
        languages=tuple(args.language or ()),
        features_off=tuple(args.feature_off or ()),
        gitlab_version=args.gitlab_version,
        object_store_tls=tls,
    )


def main(argv: list[str] | None = None) -> int:
    from tests.gitlab_double.server import DoubleServer

    args = _parser().parse_args(argv)
    server = DoubleServer(config_from(args), verbose=args.verbose)
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server.start()
    print(f"READY {server.base_url}", flush=True)
    while not stopping.wait(timeout=0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
