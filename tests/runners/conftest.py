"""Prints the wall times the distributed-runner tests record, after the run's summary."""


def pytest_terminal_summary(terminalreporter):
    rows = [
        value
        for report in terminalreporter.stats.get("passed", [])
        for name, value in report.user_properties
        if name == "runner_wall_times"
    ]
    if rows:
        terminalreporter.section("wall times of the distributed runners (seconds)")
        for row in rows:
            terminalreporter.line(
                f"{row['runner']:<15} services ready {row['services_ready_s']:>6.1f}   "
                f"glassbox evaluate {row['evaluate_s']:>6.1f}   "
                f"(default runner {row['default_runner_evaluate_s']:.1f})"
            )
