"""Report page sizes at 11 and 1,000 slices, without and with explanations.

    uv run python -m benchmarks.report_sizes --workdir /tmp/report_sizes

Evaluates as benchmarks.report_size does (a trained model against itself as the baseline; 11
slices: Overall and `segment`, 1,000: also `region` and `shop`; 100,000 examples), with and
without explanations (Shapley values and permutation importance per slice), reusing evaluations
already in the workdir; then renders each report and prints the page's size and what it is made
of: the plotting library, the data, the rest (script, style, markup), and the page gzipped. A
model card's page is measured too (the card of the 11-slice evaluation).
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import tempfile
import time

from benchmarks import report_size
from glassbox import keys

CASES = ((11, False), (11, True), (1000, False), (1000, True))
NUM_EXAMPLES = 100_000
# The page's packed parts: <script type="application/octet-stream" id="...">...</script>.
PACKED = re.compile(r'<script type="application/octet-stream" id="([^"]+)">([^<]*)</script>')


def parts(page: str) -> dict:
    """KB of the page, of its packed plotly.js and data, and of the page gzipped."""
    packed = {name: len(body) for name, body in PACKED.findall(page)}
    plotly = sum(size for name, size in packed.items() if "plotly" in name)
    data = sum(size for name, size in packed.items() if "plotly" not in name)
    total = len(page.encode("utf-8"))
    return {
        "page KB": total / 1e3,
        "plotly KB": plotly / 1e3,
        "data KB": data / 1e3,
        "rest KB": (total - plotly - data) / 1e3,
        "gzipped KB": len(gzip.compress(page.encode("utf-8"))) / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", help="where evaluations go (default: a new temp dir)")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="report_sizes_")
    from glassbox.model_card.card import model_card
    from glassbox.model_card.files import card_page
    from glassbox.model_card.inputs import load_inputs
    from glassbox.report import build_report, render_html

    rows = []
    for slices, explain in CASES:
        case = os.path.join(workdir, f"{slices}-{'explained' if explain else 'plain'}")
        evaluation = os.path.join(case, "evaluation")
        if not os.path.exists(os.path.join(evaluation, keys.EVAL_CONFIG_FILE)):
            start = time.perf_counter()
            report_size.evaluate(case, slices, NUM_EXAMPLES, explain=explain)
            print(f"evaluated {case} in {time.perf_counter() - start:.0f} s", flush=True)
        report = build_report(evaluation)
        name = f"report, {len(report.evaluation.slices)} slices, " + (
            "explanations" if explain else "no explanations"
        )
        rows.append((name, parts(render_html(report))))
        if (slices, explain) == CASES[0]:
            card = model_card(load_inputs(evaluation))
            rows.append(("model card, 11 slices", parts(card_page(card))))
    columns = list(rows[0][1])
    print(f"{'page':<42}" + "".join(f"{c:>12}" for c in columns))
    for name, sizes in rows:
        print(f"{name:<42}" + "".join(f"{sizes[c]:>12.0f}" for c in columns))


if __name__ == "__main__":
    main()
