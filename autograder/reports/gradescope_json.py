"""A result in Gradescope's ``results.json`` format."""

from __future__ import annotations

from typing import Any

from autograder.results import SubmissionResult


def gradescope_json(result: SubmissionResult, *, hidden_visibility: str = "after_published"
                    ) -> dict[str, Any]:
    """Gradescope's results.json for one submission (see docs: tests, score, visibility)."""
    tests = []
    for question in result.questions:
        for check in question.checks:
            test: dict[str, Any] = {
                "name": f"{question.name}: {check.name}",
                "score": check.points,
                "max_score": check.max_points,
                "visibility": hidden_visibility if check.hidden else "visible",
                "output_format": "text",
            }
            if check.outcome == "skipped":
                test["output"] = f"Skipped: {check.message}. This check counts no points."
                test["name"] += " (skipped)"
            else:
                test["status"] = check.outcome
                test["output"] = check.message or ("Passed" if check.outcome == "passed"
                                                   else "Failed")
            tests.append(test)
    output = f"Status: {result.status}."
    if result.status != "graded":
        output += f" This submission could not be graded and scores 0: {result.message}"
    elif result.message:
        output += f" Notes: {result.message}"
    return {
        "score": result.score,
        "execution_time": round(result.duration),
        "output": output,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
