"""`glassbox validate`: the Validator's engine on an evaluation directory, outside a pipeline."""

from __future__ import annotations

import argparse

from glassbox.commands.output import read_properties, write_properties

EXIT_NOT_BLESSED = 1


def _run(args: argparse.Namespace) -> int:
    from glassbox.engine.outcome import ModelArtifact, Models
    from glassbox.engine.validate import validate, write_blessing
    from glassbox.errors import GlassboxError
    from glassbox.evaluation.config import load_eval_config
    from glassbox.validation.config_file import load_validator_config

    if args.baseline and not args.model:
        raise GlassboxError("--baseline names the baseline of a candidate: give --model too")
    config = load_validator_config(args.config) if args.config else None
    outcome = validate(
        args.evaluation,
        args.output,
        config,
        load_eval_config(args.eval_config) if args.eval_config else None,
        models=Models(
            ModelArtifact(args.model), ModelArtifact(args.baseline) if args.baseline else None
        )
        if args.model
        else None,
        evaluation_properties=read_properties(args.evaluation_properties)
        if args.evaluation_properties
        else None,
    )
    print(outcome.decision.to_markdown(), end="")
    print(f"\nWrote validation to {args.output}, its report to {outcome.report}")
    if args.properties:
        write_properties(args.properties, outcome.blessing.properties)
        print(f"Wrote the blessing's properties to {args.properties}")
    if args.blessing:
        print(f"Wrote {write_blessing(outcome.blessing, args.blessing)}")
    return 0 if outcome.blessing.blessed else EXIT_NOT_BLESSED


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "validate",
        help="decide whether an evaluated model is blessed, and explain why",
        description="Checks an evaluation (glassbox's or stock TFMA's) against the thresholds of its "
        "tfma.EvalConfig (or of --eval-config) and the gates of a ValidatorConfig, writes TFMA's "
        "ValidationResult, decision.json, decision.md and report.html, and prints the decision; "
        "optionally the ModelBlessing too, as the TFX Validator writes it. Exit status: "
        "0 blessed, 1 not blessed, 2 bad input.",
    )
    parser.add_argument(
        "--evaluation",
        required=True,
        help="evaluation directory (a ModelEvaluation artifact's URI)",
    )
    parser.add_argument("--config", help="ValidatorConfig (gates) as text proto or JSON")
    parser.add_argument(
        "--eval-config",
        help="tfma.EvalConfig (text proto or JSON) whose thresholds replace the evaluation's own",
    )
    parser.add_argument(
        "--output", required=True, help="output dir (must not hold a validation yet)"
    )
    parser.add_argument(
        "--model",
        help="the candidate's model dir, as given to `glassbox evaluate`: the evaluation must be "
        "of it (checked first, with --evaluation-properties), and the blessing names it",
    )
    parser.add_argument(
        "--baseline", help="the baseline's model dir, as given to `glassbox evaluate`"
    )
    parser.add_argument(
        "--evaluation-properties",
        help="the evaluation's properties file from `glassbox evaluate --properties`: which "
        "models it evaluated",
    )
    parser.add_argument(
        "--blessing",
        help="also write a ModelBlessing into this dir: an empty BLESSED or NOT_BLESSED file",
    )
    parser.add_argument(
        "--properties",
        help="also write the ModelBlessing's custom properties, as the TFX Validator sets them, "
        "to this JSON file",
    )
    parser.set_defaults(run=_run)
