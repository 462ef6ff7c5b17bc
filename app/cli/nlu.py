"""`memberbot nlu ...`: train, try and measure the natural-language understanding."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from app.cli import BadInput, Failed, cli, pass_app
from nlu.evaluation import Report, evaluate
from nlu.parser import EmbeddedParser
from nlu.service import Parser, build_parser, data_path, model_file, train_and_save
from nlu.training import train_model
from nlu.training_data import load_training_data

PROGRESS_FROM = 500  # examples: smaller files are evaluated without a progress bar


@cli.group()
def nlu() -> None:
    """Natural-language understanding: train, parse, evaluate."""


@contextmanager
def _reported_errors():
    """A model file that cannot be read or written, said in one line (exit 1)."""
    try:
        yield
    except OSError as exc:
        raise Failed(f"{exc.filename or 'NLU model'}: {exc.strerror or exc}") from None


@nlu.command()
@pass_app
def train(app) -> None:
    """Train the embedded model from nlu.data_path and save it to nlu.model_path (default:
    the user's cache directory)."""
    settings = app.config.nlu
    with _reported_errors():
        started = time.perf_counter()
        target = model_file(settings.data_path, settings.model_path)
        model = train_and_save(settings.data_path, target)
    seconds = time.perf_counter() - started
    info = model.info
    click.echo(
        f"Trained on {info['examples']} examples of {info['intents']} intents "
        f"from {data_path(settings.data_path)} in {seconds:.1f} s; saved to {target}"
    )
    for surface in info.get("unresolved_lookups", []):
        click.echo(f"warning: lookup entry without a synonym value, ignored: {surface}", err=True)


@nlu.command()
@click.argument("text")
@pass_app
def parse(app, text: str) -> None:
    """Print what the NLU makes of TEXT, as Rasa's /model/parse JSON."""
    with _reported_errors():
        result = build_parser(app.config).parse(text)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


@nlu.command("evaluate")
@click.option("--test", "test_file", required=True, help="Rasa nlu.yml or JSON lines to score.")
@click.option("--train", "train_file", help="Train a fresh model on this file first.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@pass_app
def evaluate_command(app, test_file: str, train_file: str | None, as_json: bool) -> None:
    """Score intents on a labelled test file: accuracy, macro-F1, out of scope, latency."""
    settings = app.config.nlu
    err = Console(stderr=True)
    with _reported_errors():
        test = load_training_data(test_file)
        if not test.examples:
            raise BadInput(f"{test_file}: holds no labelled examples")
        parser: Parser
        if train_file:
            data = load_training_data(train_file)
            with err.status(f"Training on {len(data.examples)} examples ..."):
                model = train_model(data)
            parser = EmbeddedParser(model, settings.fallback_threshold, settings.ambiguity_margin)
        else:
            parser = build_parser(app.config)
        report = _run(parser, test.examples, err)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        _print_report(report, Console())


def _run(parser, examples, err: Console) -> Report:
    if len(examples) < PROGRESS_FROM or not sys.stderr.isatty():
        return evaluate(parser.parse, examples)
    columns = (
        TextColumn("Evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("evaluate", total=len(examples))
        return evaluate(parser.parse, examples, on_each=lambda: progress.advance(task))


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _print_report(report: Report, out: Console) -> None:
    table = Table(title=f"Intents ({report.examples} examples)")
    for column in ("intent", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "intent" else "right")
    for name, score in sorted(report.per_intent.items(), key=lambda item: item[1].f1):
        table.add_row(
            name, f"{score.precision:.3f}", f"{score.recall:.3f}", f"{score.f1:.3f}",
            str(score.support),
        )  # fmt: skip
    out.print(table)
    if report.confused:
        confused = Table(title="Most confused (intent -> predicted)")
        for column in ("intent", "predicted", "count"):
            confused.add_column(column, justify="right" if column == "count" else "left")
        for gold, predicted, count in report.confused:
            confused.add_row(gold, predicted, str(count))
        out.print(confused)
    out.print(
        f"accuracy {_rate(report.accuracy)}   macro-F1 {report.macro_f1:.3f}   "
        f"in scope {_rate(report.in_scope_accuracy)}   out-of-scope recall "
        f"{_rate(report.oos_recall)}   latency p50 {report.latency_p50_ms:.2f} ms, "
        f"p99 {report.latency_p99_ms:.2f} ms"
    )
