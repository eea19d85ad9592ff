"""Command line: options -> Config -> run -> report. Nothing else lives here."""
from __future__ import annotations

import sys

import click

from . import __version__


class _DefaultToRun(click.Group):
    """`kmigrate PATH...` means `kmigrate run PATH...`; `rules` and `rule` are subcommands."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToRun, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kmigrate")
def main():
    """Migrate old Keras / TF1 code to today's TensorFlow and lint Keras bugs.

    \b
    kmigrate PATH...          fix files in place (same as `kmigrate run PATH...`)
    kmigrate rules            list every rule
    kmigrate rule KM101       show a rule's documentation
    kmigrate server           language server for editors (stdio; needs kmigrate[server])
    """


@main.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--diff", "diff", is_flag=True, help="Print a unified diff; write nothing.")
@click.option("--check", "check", is_flag=True, help="Write nothing; exit 1 if anything would change or remains.")
@click.option("--select", multiple=True, help="Codes or prefixes to enable (KM1, KM101); repeat or comma-separate.")
@click.option("--extend-select", multiple=True, help="Codes or prefixes to enable on top of the configured ones.")
@click.option("--ignore", multiple=True, help="Codes or prefixes to disable.")
@click.option("--unsafe-fixes", is_flag=True, default=None, help="Also apply fixes marked unsafe.")
@click.option("--target", type=click.Choice(["tensorflow.keras", "keras"]), default=None,
              help="The Keras the code should end up on (default tensorflow.keras).")
@click.option("--to", "to", type=click.Choice(["functional", "sequential"]), default=None,
              help="Convert model definitions to this style (opt-in, KM4xx).")
@click.option("--tf1-layers", type=click.Choice(["keras", "compat"]), default=None,
              help="TF1 tf.layers: to Keras layers (default) or to tf.compat.v1.layers with tf-keras (KM606).")
@click.option("--format", "fmt", default=None, help="Report format: text, json, json-lines, sarif, github, junit.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--exclude", multiple=True, help="Gitignore-style patterns to skip (adds to the config's).")
@click.option("--no-respect-gitignore", is_flag=True, help="Also process files that .gitignore lists.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="pyproject.toml to read [tool.kmigrate] from (default: nearest one).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None, help="Worker processes (0: CPU count).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the results cache.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def run_command(paths, diff, check, select, extend_select, ignore, unsafe_fixes, target, to, tf1_layers, fmt,
                output, exclude, no_respect_gitignore, config_path, jobs, no_cache, quiet):
    """Fix (default), --diff or --check the .py / .ipynb files under PATHS."""
    from . import config as cfg
    from . import progress
    from .report import FORMATS, summary_text
    from .run import run

    if diff and check:
        raise click.UsageError("--diff and --check exclude each other")
    try:
        config = cfg.load(paths[0], config_path)
        config = cfg.merge(
            # As in Ruff, a command-line --select starts a new selection: the file's ignores go too.
            config, select=select or None,
            ignore=(list(ignore) if select else config.ignore + list(ignore)) if (ignore or select) else None,
            extend_select=extend_select or None, unsafe_fixes=unsafe_fixes, target=target, to=to,
            tf1_layers=tf1_layers,
            format=fmt, exclude=(config.exclude + list(exclude)) if exclude else None, jobs=jobs,
            respect_gitignore=False if no_respect_gitignore else None, cache=False if no_cache else None,
        )
    except cfg.ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if config.format not in FORMATS:
        raise click.UsageError(f"unknown --format {config.format!r}; choose from {', '.join(FORMATS)}")
    mode = "diff" if diff else "check" if check else "fix"
    stream = open(output, "w", encoding="utf-8") if output else None
    try:
        report_stream = stream or (sys.stderr if mode == "diff" and config.format == "text" else sys.stdout)
        bar = progress.for_terminal(sys.stderr, quiet=quiet)
        outcome = run(paths, config, mode=mode, report_stream=report_stream, diff_stream=sys.stdout,
                      quiet=quiet, progress=bar)
        if bar is not None and (config.format != "text" or stream is not None):
            # an interactive run whose report went elsewhere still ends with the summary
            click.echo(summary_text(outcome.summary), err=True)
    finally:
        if stream:
            stream.close()
    sys.exit(outcome.exit_code)


@main.command("rules")
def rules_command():
    """List every rule: code, name, fix safety, summary."""
    from .precheck import index  # the rule index: no rule module, no LibCST

    for code, rule in index().items():
        extra = " (opt-in)" if rule.opt_in else ""
        click.echo(f"{code}  {rule.name:<34} {rule.fix_safety:<7} {rule.summary}{extra}")


@main.command("rule")
@click.argument("code")
@click.option("--markdown", is_flag=True, help="Print the rule's documentation page (docs/rules/CODE.md).")
def rule_command(code, markdown):
    """Show the documentation of one rule."""
    from .docs import rule_markdown, rule_url
    from .rule import all_rules

    rule = all_rules().get(code.upper())
    if rule is None:
        raise click.UsageError(f"no rule {code!r}; `kmigrate rules` lists them")
    if markdown:
        click.echo(rule_markdown(rule), nl=False)
    else:
        click.echo(rule.documentation() + f"\nDocumentation: {rule_url(rule.code)}")


@main.command("server")
@click.option("--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the default and only transport).")
def server_command(stdio):
    """Run the language server (LSP over stdio): diagnostics, quick fixes, fix all, conversions."""
    from importlib.util import find_spec

    if find_spec("pygls") is None or find_spec("lsprotocol") is None:  # pygls loads only in serve()
        raise click.ClickException('the language server needs its extra: pip install "kmigrate[server]"')
    from .server import serve

    serve()


if __name__ == "__main__":  # pragma: no cover
    main()
