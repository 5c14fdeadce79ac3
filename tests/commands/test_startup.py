"""What the `glassbox` commands import: those that only read ML Metadata and write pages
(`lineage`, `history`, `report --history`) never load TensorFlow, Beam, TFX or TFMA, whose imports
take seconds (TensorFlow alone about 8 s here). Each command runs in a fresh interpreter."""

from tests.support.imports import heavy_modules_loaded_by

# What a command that reads ML Metadata and writes files needs not load.
EVALUATION_LIBRARIES = {"tensorflow", "tensorflow_model_analysis", "apache_beam", "tfx", "kfp"}


def _loaded_by_command(argv):
    """The heavy packages a fresh interpreter loaded running `glassbox argv` (which succeeded)."""
    return set(heavy_modules_loaded_by(f"from glassbox import cli\nassert cli.main({argv!r}) == 0"))


def test_the_command_line_loads_nothing_heavy_before_a_command_runs():
    assert heavy_modules_loaded_by("from glassbox import cli\ncli.build_parser()") == []


def test_lineage_and_history_read_ml_metadata_without_tensorflow(demo_runs, tmp_path):
    model_id = demo_runs.runs[-1].decision["candidate"]["id"]
    for argv in (
        ["lineage", "--mlmd", demo_runs.store, "--model-id", str(model_id)],
        ["history", "--mlmd", demo_runs.store, "--metric", "auc", "--html", str(tmp_path)],
        [
            "report",
            "--mlmd",
            demo_runs.store,
            "--history",
            "--metric",
            "auc",
            "--output",
            str(tmp_path / "h.html"),
        ],
    ):
        loaded = _loaded_by_command(argv)
        assert "ml_metadata" in loaded, argv
        assert not loaded & EVALUATION_LIBRARIES, argv
    assert (tmp_path / "report.html").exists() and (tmp_path / "h.html").exists()
