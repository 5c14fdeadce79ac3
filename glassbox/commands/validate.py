"""`glassbox validate`: the Validator's engine on an evaluation directory, outside a pipeline."""

from __future__ import annotations

import argparse

EXIT_NOT_BLESSED = 1


def _run(args: argparse.Namespace) -> int:
    from glassbox import config_files
    from glassbox.evaluation.config import load_eval_config
    from glassbox.protos import validator_config_pb2
    from glassbox.validation.errors import ValidatorConfigError
    from glassbox.validation.validate import validate, write_validation

    config = (
        config_files.load_config(
            args.config,
            validator_config_pb2.ValidatorConfig,
            "validator config",
            ValidatorConfigError,
        )
        if args.config
        else None
    )
    eval_config = load_eval_config(args.eval_config) if args.eval_config else None
    decision = validate(args.evaluation, config, eval_config)
    write_validation(decision, args.output)
    print(decision.to_markdown(), end="")
    print(f"\nWrote validation to {args.output}")
    return 0 if decision.blessed else EXIT_NOT_BLESSED


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "validate",
        help="decide whether an evaluated model is blessed, and explain why",
        description="Checks an evaluation (glassbox's or stock TFMA's) against the thresholds of its "
        "tfma.EvalConfig (or of --eval-config) and the gates of a ValidatorConfig, writes TFMA's "
        "ValidationResult, decision.json and decision.md, and prints the decision. Exit status: "
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
    parser.set_defaults(run=_run)
