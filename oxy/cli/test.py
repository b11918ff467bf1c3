"""`oxy test [FILES...]`: run test cases against their agents and report pass rates (exit 1 below the
threshold)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import click

from oxy.cli._errors import fail
from oxy.cli._options import cassette_options, project_option
from oxy.cli._progress import Progress


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tag", "tags", multiple=True, help="Only cases with this tag (repeatable).")
@click.option("--case", "names", multiple=True, help="Only the case with this name or prompt (repeatable).")
@click.option(
    "--runs", type=click.IntRange(min=1), help="Times each case runs (default: the file's settings)."
)
@click.option(
    "--concurrency", type=click.IntRange(min=1), help="Runs at once (default: the file's settings)."
)
@click.option(
    "--min-accuracy",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="The score (or, with --threshold-mode all, each case's pass rate) needed to pass.",
)
@click.option(
    "--threshold-mode",
    type=click.Choice(["average", "all"]),
    default="average",
    show_default=True,
    help="average: the mean pass rate; all: every case on its own.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["pretty", "json", "junit"]),
    default="pretty",
    show_default=True,
    help="pretty for people, json for programs, junit (XML) for CI systems.",
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here, not stdout."
)
@click.option(
    "--output-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON report to this file (Oxy's option).",
)
@click.option("--variant", help="Agents with `variants:`: test this one, not one picked by weight.")
@click.option(
    "--compare",
    type=click.Choice(["variants"]),
    help="variants: run the cases once per variant of the agent under test, and report them side by side.",
)
@cassette_options
@project_option
def test(
    files: tuple[Path, ...],
    tags: tuple[str, ...],
    names: tuple[str, ...],
    runs: int | None,
    concurrency: int | None,
    min_accuracy: float,
    threshold_mode: str,
    output_format: str,
    output: Path | None,
    output_json: Path | None,
    variant: str | None,
    compare: str | None,
    cassette_mode: str | None,
    cassette: Path | None,
    project_dir: Path | None,
) -> None:
    """Run the test cases of FILES (*.agent.test.yml, or agent files with `tests:`), or of every such
    file in the project; exit 1 when the score is below --min-accuracy."""
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help
    from oxy.evals import load_suites, run_suite  # lazy: loaded when the command runs, not for --help
    from oxy.evals.report import compare_lines, json_report, junit_report, pretty_lines  # lazy: as above

    # lazy: loaded when the command runs, not for --help
    from oxy.evals.runner import check_variant, total_runs, variant_names, variants_of
    from oxy.models import aclose_clients  # lazy: loaded when the command runs, not for --help
    from oxy.workflows.files import atomic_write_text  # lazy: loaded when the command runs, not for --help

    runtime = load_runtime(file=files[0].resolve() if files else None, project_dir=project_dir)
    tape = None
    if cassette_mode is not None:
        from oxy.application.cassettes import use_cassette  # lazy: --record / --replay only

        tape = use_cassette(runtime, cassette, "record" if cassette_mode == "record" else "replay")
    suites = load_suites(runtime.project, files)
    if compare is not None and variant is not None:
        raise click.UsageError("--compare variants runs every variant; leave out --variant")
    arms: list[str | None] = [variant]
    if variant is not None:
        check_variant(runtime, suites, variant)
    if compare is not None:
        arms = list(variant_names(runtime, suites))
        suites = [s for s in suites if variants_of(runtime, s)]  # only the agent being compared
    planned = total_runs(suites, runs=runs, tags=tags, names=names) * len(arms)
    if planned == 0:
        fail(
            "no test cases to run"
            + (" with those --tag/--case filters" if tags or names else " in this project")
        )

    async def main() -> dict[str | None, Any]:
        progress = Progress("Running test cases", planned)
        try:
            async with runtime:
                return {
                    arm: await run_suite(
                        runtime,
                        suites,
                        runs=runs,
                        concurrency=concurrency,
                        min_accuracy=min_accuracy,
                        tags=tags,
                        names=names,
                        on_run=progress.advance,
                        variant=arm,
                    )
                    for arm in arms
                }
        finally:
            progress.stop()
            if tape is not None:
                tape.save()  # what was recorded, even when a run failed
            await aclose_clients()

    results = anyio.run(main)
    if compare is None:
        result = results[variant]
        report = json_report(result, min_accuracy=min_accuracy, mode=threshold_mode)
        lines = pretty_lines(result, min_accuracy=min_accuracy, mode=threshold_mode)
    else:
        by_variant = {str(arm): r for arm, r in results.items()}
        reports = {
            arm: json_report(r, min_accuracy=min_accuracy, mode=threshold_mode)
            for arm, r in by_variant.items()
        }
        report = {"passed": all(r["passed"] for r in reports.values()), "variants": reports}
        lines = compare_lines(by_variant, min_accuracy=min_accuracy, mode=threshold_mode)
    if output_json is not None:
        atomic_write_text(output_json, json.dumps(report, indent=2) + "\n")
    if output_format == "pretty":
        from rich.console import Console  # lazy: loaded when the command runs, not for --help
        from rich.text import Text  # lazy: loaded when the command runs, not for --help

        if output is None:
            console = Console(highlight=False)
            for line in lines:
                console.print(line, soft_wrap=True)
        else:
            atomic_write_text(output, "".join(Text.from_markup(line).plain + "\n" for line in lines))
    else:
        junit = {"" if arm is None else arm: r for arm, r in results.items()}
        text = json.dumps(report, indent=2) + "\n" if output_format == "json" else junit_report(junit)
        if output is None:
            sys.stdout.write(text)
        else:
            atomic_write_text(output, text)
    if not report["passed"]:
        sys.exit(1)
