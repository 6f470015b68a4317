"""The `samg` command line: one typer app, one sub-app per concern."""

import typer

from samg import __version__
from samg.cli import assets, collect, distill, envs, expert, il, io, prompt, rl, segment, weights

app = typer.Typer(
    name="samg",
    help="Visuomotor policies that survive visual shift, with Segment-Anything masks (SAM-G).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(envs.app, name="envs")
app.add_typer(assets.app, name="assets")
app.add_typer(expert.app, name="expert")
app.add_typer(weights.app, name="weights")
app.add_typer(il.bc_app, name="bc")
app.add_typer(rl.app, name="rl")
app.add_typer(io.import_app, name="import")
app.command("collect")(collect.collect_command)
app.command("info")(collect.info_command)
app.command("prompt")(prompt.prompt_command)
app.command("segment")(segment.segment_command)
app.command("report")(segment.report_command)
app.command("distill")(distill.distill_command)
app.command("eval")(il.eval_command)
app.command("run")(il.run_command)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"samg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """samg: collect, segment, train, evaluate."""
