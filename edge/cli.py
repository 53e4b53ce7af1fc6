"""The ``liveguard`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edge import __version__
from edge.errors import ConfigError, LiveGuardError

log = logging.getLogger("liveguard")

DRAIN_S = 30.0  # how long `liveguard run` waits at exit for the broker to acknowledge the last documents


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="liveguard: %(levelname)s: %(message)s")
    try:
        return args.handler(args)
    except LiveGuardError as exc:
        if args.debug:
            raise
        print(f"liveguard: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liveguard", description="Recognise the products shown in livestream video.")
    parser.add_argument("--version", action="version", version=f"liveguard {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="recognise the product in each video file; one result JSON line per input")
    run.add_argument("videos", nargs="+", metavar="VIDEO", help="video files (MP4, MKV, FLV, MPEG-TS, WebM, ...)")
    _config_option(run, "YAML configuration (default: built-in paper defaults); repeat to layer files (site, then device)")
    run.add_argument("--strategy", choices=["baseline", "A", "B"], help="frame scoring strategy (overrides config)")
    run.add_argument("--top-k", type=int, metavar="K", help="keyframes to OCR and fuse (overrides config)")
    run.add_argument("--evidence", metavar="DIR", help="also write each evidence JSON and keyframe JPEG into DIR")
    run.add_argument("--timings", action="store_true", help="add per-stage seconds to each result line")
    run.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    run.set_defaults(handler=_run)

    fuse = commands.add_parser("fuse", help="re-fuse saved evidence JSON (replays, prompt changes, audits); one result JSON line "
                               "per input; with --serve, the centre's fusion worker for boxes in fusion mode central")
    fuse.add_argument("evidence", nargs="*", metavar="EVIDENCE.json", help="liveguard.evidence/1 files (as written by run --evidence)")
    _config_option(fuse, "YAML configuration (its fusion section; with --serve also centre.mqtt and centre.worker); repeat to layer files")
    fuse.add_argument("--mode", choices=["direct", "local"], help="fusion mode (overrides config)")
    fuse.add_argument("--serve", action="store_true", help="fuse the fleet's evidence from the broker (shared subscription) and "
                      "publish each result to its box's result topic, until SIGTERM")
    fuse.add_argument("--client-id", metavar="ID", help="with --serve: MQTT client id, one per worker (its persistent session)")
    fuse.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    fuse.set_defaults(handler=_fuse)

    serve = commands.add_parser("serve", help="the daemon: watch the configured streams, publish each window's evidence and result")
    _config_option(serve, "YAML configuration layers (defaults, site, device), reread on SIGHUP")
    serve.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    serve.set_defaults(handler=_serve)

    collect = commands.add_parser("collect", help="the centre's collector: store the fleet's results, evidence, status and stats "
                                  "from the broker in SQLite or PostgreSQL, until SIGTERM")
    _config_option(collect, "YAML configuration (its centre section); repeat to layer files")
    _store_option(collect)
    collect.add_argument("--client-id", metavar="ID", help="MQTT client id, one per collector (its persistent session)")
    collect.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    collect.set_defaults(handler=_collect)

    results = commands.add_parser("results", help="list or export the stored results, newest first, with their evidence")
    _config_option(results, "YAML configuration (its centre.store); repeat to layer files")
    _store_option(results)
    for name, text in (("site", "site id"), ("device", "device id"), ("stream", "stream (its topic level)"),
                       ("engine", "fusion engine (local-rules, qwen-plus, ...)")):
        results.add_argument(f"--{name}", help=f"only this {text}")
    results.add_argument("--since", metavar="TIME", help="received at or after TIME (ISO 8601, e.g. 2026-12-01T08:00Z)")
    results.add_argument("--until", metavar="TIME", help="received before TIME (ISO 8601)")
    results.add_argument("--text", help="brand or product name contains TEXT (any case)")
    results.add_argument("--limit", type=int, metavar="N", help="at most N results")
    results.add_argument("--flagged", action="store_true", help="only results with claim flags")
    results.add_argument("--low-confidence", type=float, metavar="C", help="only results with a field below confidence C (0-1)")
    results.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="JSON lines with evidence (default) or CSV")
    results.add_argument("--no-evidence", action="store_true", help="jsonl: leave each result's evidence out")
    results.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    results.set_defaults(handler=_results)

    web = commands.add_parser("web", help="the operators' page over the centre's store (results, evidence, keyframes, devices), "
                              "until SIGTERM; `web passwd NAME` prints an operator's users line")
    _config_option(web, "YAML configuration (its centre section); repeat to layer files")
    _store_option(web)
    web.add_argument("--client-id", metavar="ID", help="MQTT client id of the page's keyframe requests")
    web.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    web.set_defaults(handler=_web)
    web_commands = web.add_subparsers(dest="web_command")
    passwd = web_commands.add_parser("passwd", help="read a password (twice on a terminal, once from a pipe) and print NAME's "
                                     "line for centre.web.users_file")
    passwd.add_argument("name", metavar="NAME", help="the operator's user name")
    passwd.set_defaults(handler=_web_passwd)

    config = commands.add_parser("config", help="check configuration files (layered) or print the JSON Schema")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser(
        "check", help="validate FILE, or several layered in order (site, then device); prints the problem, or the "
        "effective configuration (values from ${VAR} masked) and OK"
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="YAML files, merged in this order onto the built-in defaults")
    shown = check.add_mutually_exclusive_group()
    shown.add_argument("--show", action="store_true", default=None, help="print the effective configuration (default with several files)")
    shown.add_argument("--quiet", dest="show", action="store_false", help="print only OK")
    check.set_defaults(handler=_config_check)
    schema = config_commands.add_parser("schema", help="print the configuration's JSON Schema (for editors)")
    schema.set_defaults(handler=_config_schema)

    engines = commands.add_parser("engines", help="list the model pack, or build its TensorRT engines on this box")
    engines_commands = engines.add_subparsers(dest="engines_command", required=True)
    for name, handler, text in (
        ("list", _engines_list, "each model of the pack and whether it can run here (ok, missing, stale, foreign)"),
        ("build", _engines_build, "build the engines that are missing, stale or built for another GPU/TensorRT"),
    ):
        sub = engines_commands.add_parser(name, help=text)
        sub.add_argument("--pack", metavar="FILE", help="model pack manifest (default: models.pack of --config, "
                         "else engines/manifest.yaml)")
        _config_option(sub, "configuration whose models.pack to use; repeat to layer files")
        sub.set_defaults(handler=handler)
        if name == "build":
            sub.add_argument("names", nargs="*", metavar="NAME", help="only these engines")
            sub.add_argument("--force", action="store_true", help="rebuild even engines that are up to date")
            sub.add_argument("--workspace-mb", type=int, default=2048, help="TensorRT builder workspace (MiB)")
    return parser


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL", help="sqlite:///PATH or postgresql://USER@HOST/DB (overrides centre.store.url)")


def _config_option(parser: argparse.ArgumentParser, text: str) -> None:
    """``-c/--config FILE``, repeatable: ``args.config`` lists the files in order; :func:`_load` layers them
    (built-in defaults, then each file: mappings merge key by key, lists and scalars replace)."""
    parser.add_argument("--config", "-c", metavar="FILE", action="append", default=[], help=text)


def _load(args: argparse.Namespace) -> Any:
    """The configuration layered from ``args.config`` (see :func:`_config_option`), with the command's
    ``--strategy``/``--top-k`` on top where it has them."""
    from edge.config import load_config, parse_config

    config = load_config(args.config)
    overrides: dict[str, Any] = {}
    if getattr(args, "strategy", None):
        overrides.setdefault("scoring", {})["strategy"] = args.strategy
    if getattr(args, "top_k", None) is not None:
        overrides.setdefault("selection", {})["top_k"] = args.top_k
    if not overrides:
        return config
    data = config.model_dump(mode="json", exclude_unset=False)
    for section, values in overrides.items():
        data[section].update(values)
    try:
        return parse_config(data, source="command line")
    except ConfigError as exc:
        raise ConfigError(" + ".join(args.config) or "command line", exc.message) from None


def _run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from edge.pipeline import Pipeline

    config = _load(args)
    evidence_dir = Path(args.evidence) if args.evidence else None
    if evidence_dir is not None:
        evidence_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        pipeline = stack.enter_context(Pipeline(config))
        deliver = _transport(config, pipeline, stack) if config.transport.mqtt.enabled else None

        def produce(video: str) -> dict[str, Any]:
            outcome = _run_one(pipeline, video)
            if deliver is not None:
                deliver(outcome.evidence, outcome.result)
            # central fusion: the result comes from the centre; the line names the evidence it will answer
            result = dict(outcome.result) if outcome.result is not None else {
                "evidence_id": outcome.evidence["id"], "fusion": "central"}
            if args.timings:
                result["timings"] = outcome.timings
            if evidence_dir is not None:
                _save_evidence(evidence_dir, outcome)
            return result

        return _each_input(args.videos, produce, args.debug)


def _transport(config: Any, pipeline: Any, stack: Any) -> Callable[[dict[str, Any], dict[str, Any] | None], None]:
    """Commit each window's documents to the outbox and publish them; on exit, report what still waits."""
    from edge.transport import MqttPublisher, Outbox, Topics
    from edge.transport.delivery import birth_document, enqueue_window

    mqtt = config.transport.mqtt
    outbox = stack.enter_context(Outbox.from_config(config.transport.outbox))
    topics = Topics.of(config.device, mqtt)
    birth = birth_document(__version__, pipeline.config_hash, pipeline.models)

    def report() -> None:
        waiting = outbox.stats().depth
        if waiting:
            print(f"liveguard: warning: transport: {waiting} message(s) wait in {outbox.path} for {mqtt.host}:{mqtt.port}; "
                  "they are sent by the next run", file=sys.stderr)

    stack.callback(report)  # runs after the publisher has closed (callbacks run last-in, first-out)
    publisher = stack.enter_context(MqttPublisher(mqtt, outbox, topics, lambda: birth))
    stack.callback(publisher.drain, DRAIN_S)  # a command that ends sends what it made, if the broker is there

    def deliver(evidence: dict[str, Any], result: dict[str, Any] | None) -> None:
        enqueue_window(outbox, topics, evidence, result)
        publisher.wake()

    return deliver


def _each_input(inputs: Sequence[str], produce: Callable[[str], dict[str, Any]], debug: bool) -> int:
    """One result line per input on stdout; a failed input is one error line and does not stop the others.

    Returns the exit status of the last failed input, 0 if none failed.
    """
    status = 0
    for name in inputs:
        try:
            result = produce(name)
        except LiveGuardError as exc:
            if debug:
                raise
            print(f"liveguard: error: {exc}", file=sys.stderr)
            status = exc.exit_code
            continue
        for failure in result.get("failures", []):
            print(f"liveguard: warning: {name}: {failure}", file=sys.stderr)
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return status


def _run_one(pipeline: Any, video: str) -> Any:
    with _progress(Path(video).name) as progress:
        return pipeline.run(video, progress=progress)


class _progress:
    """A tqdm bar on a terminal, nothing when stderr is piped."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return None
        from tqdm import tqdm

        try:
            size = os.get_terminal_size(sys.stderr.fileno())
        except OSError:
            size = os.terminal_size((0, 0))
        # a terminal that reports no size (fresh ptys, serial consoles) would hide tqdm's bar
        columns, rows = size.columns or 80, size.lines or 24

        def update(done: int, expected: int | None) -> None:
            if self.bar is None:
                self.bar = tqdm(
                    total=expected, desc=self.name, unit="frame", leave=False, file=sys.stderr, ncols=columns, nrows=rows
                )
            self.bar.update(done - self.bar.n)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _save_evidence(directory: Path, outcome: Any) -> None:
    evidence_id = outcome.evidence["id"]
    path = directory / f"{evidence_id}.evidence.json"
    path.write_text(json.dumps(outcome.evidence, ensure_ascii=False, indent=2), encoding="utf-8")
    for keyframe, jpeg in zip(outcome.keyframes, outcome.jpegs):
        (directory / f"{evidence_id}-{keyframe.frame.index:06d}.jpg").write_bytes(jpeg)


def _fuse(args: argparse.Namespace) -> int:
    from edge.config import load_config
    from edge.fusion import create_fusion

    config = load_config(args.config)
    fusion_config = config.fusion
    if args.mode:
        fusion_config = fusion_config.model_copy(update={"mode": args.mode})
    if args.serve and args.evidence:
        raise ConfigError("fuse --serve", "takes its evidence from the broker, not from files")
    if not args.serve and not args.evidence:
        raise ConfigError("fuse", "give EVIDENCE.json files, or --serve to fuse the fleet's evidence from the broker")
    if args.serve and fusion_config.mode == "central":
        raise ConfigError("fusion.mode", "central is the boxes' mode; the worker fuses: give it direct (the cloud, with the "
                          "local rules as fallback) or local (--mode)")
    with create_fusion(fusion_config) as fuse:
        if args.serve:
            return _serve_worker(config, fuse, args.client_id, args.debug)
        return _each_input(args.evidence, lambda path: _fuse_one(fuse, path), args.debug)


def _serve_worker(config: Any, fuse: Any, client_id: str | None, debug: bool) -> int:
    from edge.centre.run import run_until_stopped
    from edge.centre.worker import FusionWorker

    if not debug:
        logging.getLogger("liveguard").setLevel(logging.INFO)
    worker = FusionWorker(config, fuse, client_id)
    return run_until_stopped(worker, "fuse", lambda: worker.totals)


def _centre_store(args: argparse.Namespace, create: bool = True) -> Any:
    from edge.centre.store import open_store
    from edge.config import load_config

    store = load_config(args.config).centre.store
    if args.store:
        from pydantic import ValidationError

        from edge.config.models import StoreConfig
        from edge.validation import describe_validation_error

        try:
            store = StoreConfig(**{**store.model_dump(), "url": args.store})
        except ValidationError as exc:
            raise ConfigError("--store", describe_validation_error(exc, show_value=False)) from None
    return open_store(store, create=create)


def _collect(args: argparse.Namespace) -> int:
    from edge.centre.collector import Collector
    from edge.centre.run import run_until_stopped
    from edge.config import load_config

    if not args.debug:
        logging.getLogger("liveguard").setLevel(logging.INFO)
    centre = load_config(args.config).centre
    with _centre_store(args) as store:
        collector = Collector(centre, store, args.client_id)
        return run_until_stopped(collector, "collect", lambda: collector.totals)


def _results(args: argparse.Namespace) -> int:
    from edge.centre.export import write_csv, write_jsonl
    from edge.centre.store import ResultQuery

    query = ResultQuery(site=args.site, device=args.device, stream=args.stream, engine=args.engine, text=args.text,
                        since=_instant(args.since, "--since"), until=_instant(args.until, "--until"), limit=args.limit,
                        flagged=args.flagged, low_confidence=args.low_confidence)
    if args.low_confidence is not None and not 0 < args.low_confidence <= 1:
        raise ConfigError("--low-confidence", f"{args.low_confidence:g}: a confidence in (0, 1]")
    with _centre_store(args, create=False) as store:
        rows = store.results(query)
        if args.format == "csv":
            write_csv(rows, sys.stdout)
        else:
            write_jsonl(rows, sys.stdout, with_evidence=not args.no_evidence)
    return 0


def _web(args: argparse.Namespace) -> int:
    from edge.centre.web import serve_web
    from edge.config import load_config

    if not args.debug:
        logging.getLogger("liveguard").setLevel(logging.INFO)
    config = load_config(args.config)
    with _centre_store(args, create=False) as store:
        return serve_web(config, store, args.client_id)


def _web_passwd(args: argparse.Namespace) -> int:
    import getpass

    from edge.centre.web.auth import user_line

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("web passwd", "the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise ConfigError("web passwd", "a password has at least 8 characters")
    print(user_line(args.name, password))
    return 0


def _instant(text: str | None, option: str) -> float | None:
    """An ISO 8601 time (UTC when it names no zone) as epoch seconds."""
    if text is None:
        return None
    from edge.centre.store import instant

    try:
        return instant(text)
    except ValueError:
        raise ConfigError(option, f"{text!r} is not an ISO 8601 time (e.g. 2026-12-01T08:00:00Z)") from None


def _fuse_one(fuse: Any, path: str) -> dict[str, Any]:
    from edge.errors import SourceError
    from edge.evidence import EVIDENCE_SCHEMA, RESULT_SCHEMA, schema_problem

    try:
        evidence = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(path, "evidence file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"cannot read evidence file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    problem = schema_problem(evidence, EVIDENCE_SCHEMA)
    if problem is not None:
        raise SourceError(path, f"not a {EVIDENCE_SCHEMA} document: {problem}")
    result = fuse(evidence)
    problem = schema_problem(result, RESULT_SCHEMA)
    if problem is not None:  # a bug of ours, not bad input: say exactly where
        raise AssertionError(f"{RESULT_SCHEMA} document does not match its schema: {problem}")
    return result


def _serve(args: argparse.Namespace) -> int:
    from edge.service.daemon import serve

    if not args.debug:  # a daemon's journal shows its state changes and windows, not only warnings
        logging.getLogger("liveguard").setLevel(logging.INFO)
    return serve(args.config)


def _config_check(args: argparse.Namespace) -> int:
    from edge.claims import screening_for
    from edge.config import load_layers

    layered = load_layers(args.files)
    screening_for(layered.config.claims)  # the rule files it names are read and checked too
    if args.show or (args.show is None and len(args.files) > 1):
        print(layered.effective_yaml(), end="")
    print(f"{' + '.join(args.files)}: OK")
    return 0


def _config_schema(args: argparse.Namespace) -> int:
    from edge.config import config_schema

    print(json.dumps(config_schema(), indent=2))
    return 0


def _pack_path(args: argparse.Namespace) -> Path:
    from edge.config import load_config
    from edge.runtime import DEFAULT_PACK

    if args.pack:
        return Path(args.pack)
    if args.config:
        pack = load_config(args.config).models.pack
        if pack is not None:
            return pack
    return DEFAULT_PACK


def _engines_list(args: argparse.Namespace) -> int:
    from edge.errors import ModelError
    from edge.runtime import ModelPack, engine_status, file_status

    pack = ModelPack.load(_pack_path(args))
    if not pack.entries:
        print(f"{pack.path}: no models")
        return 0
    for entry in pack.entries:
        try:
            status = engine_status(pack, entry) if entry.format == "tensorrt" else file_status(pack, entry)
        except ModelError as exc:  # no TensorRT or GPU here: the file checks still hold
            status = file_status(pack, entry)
            if status.usable:
                status = type(status)(entry.name, "foreign", f"cannot run here: {exc.message}")
        built = f" [{entry.tensorrt.describe()}]" if entry.tensorrt else ""
        reason = f": {status.reason}" if status.reason else ""
        print(f"{entry.name:<24} {entry.role:<8} {entry.format:<8} {entry.precision:<5} {entry.file}  "
              f"{status.state}{reason}{built}")
    return 0


def _engines_build(args: argparse.Namespace) -> int:
    from edge.engines import build_pack_engine, engines_to_build
    from edge.runtime import ModelPack

    pack = ModelPack.load(_pack_path(args))
    todo = engines_to_build(pack, args.names or None, args.force)
    if not todo:
        print(f"{pack.path}: every engine is up to date for this box")
        return 0
    for status in todo:
        print(f"building {status.name} ({status.state}{': ' + status.reason if status.reason else ''}) ...", flush=True)
        result = build_pack_engine(pack, pack.get(status.name), workspace_mb=args.workspace_mb)
        pack.save()  # after each engine: a later failure keeps the earlier builds
        print(f"built {result.entry.file} in {result.seconds:.0f} s for {result.entry.tensorrt.describe()}")  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    sys.exit(main())
