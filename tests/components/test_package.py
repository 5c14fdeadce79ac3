"""glassbox.components imports its components when first used."""

from tests.support.imports import heavy_modules_loaded_by


def test_importing_the_package_loads_nothing_heavy():
    assert heavy_modules_loaded_by("import glassbox.components") == []


def test_each_component_is_there_when_first_used():
    loaded = heavy_modules_loaded_by(
        "from glassbox.components import BaselineResolver, Evaluator, Trainer, Validator\n"
        "import glassbox.components as c\n"
        "assert {'Evaluator', 'Validator'} <= set(dir(c))\n"
        "try:\n    c.Pusher\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit(1)"
    )
    assert {"tensorflow", "tfx"} <= set(loaded)
