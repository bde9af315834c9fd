"""A result as the Markdown feedback the student may see (never test source)."""

from __future__ import annotations

from autograder.results import SubmissionResult, points_text


def feedback_markdown(result: SubmissionResult, *, show_hidden_scores: bool = False) -> str:
    """What the student may see, never test source: the score they may see, public checks with
    their messages, hidden checks by the policy (``--feedback-hidden-scores``): by default only
    how many there are and what they are worth; with it, their scores (never their messages).
    """
    lines = [f"# Feedback: {result.assignment}", ""]
    if result.status != "graded":
        # Said once: no check ran, so none has anything of its own to say.
        worth = ", ".join(f"{q.name} ({points_text(q.possible)})" for q in result.questions)
        lines += [f"**This submission could not be graded ({result.status}).** "
                  f"{result.message}", "",
                  f"**Score: 0 / {points_text(result.possible)}.** No check ran"
                  + (f"; the questions and their points: {worth}." if worth else "."), ""]
        return "\n".join(lines)
    if result.message:
        lines += [f"Notes: {result.message}", ""]
    checks = [c for q in result.questions for c in q.checks]
    public = [c for c in checks if not c.hidden]
    hidden = [c for c in checks if c.hidden]
    public_score = (f"{points_text(sum(c.points for c in public))} / "
                    f"{points_text(sum(c.max_points for c in public))}")
    hidden_top = points_text(sum(c.max_points for c in hidden))
    if show_hidden_scores:
        total = f"{points_text(result.score)} / {points_text(result.possible)}"
        lines += [f"**Score: {total}** (public checks {public_score}, hidden checks "
                  f"{points_text(sum(c.points for c in hidden))} / {hidden_top})", ""]
    else:
        lines += [f"**Score on the public checks: {public_score}.** The {len(hidden)} hidden "
                  f"check(s), worth {hidden_top} points, are not shown here; your course "
                  "publishes the final score.", ""]
    for question in result.questions:
        question_public = [c for c in question.checks if not c.hidden]
        question_hidden = [c for c in question.checks if c.hidden]
        lines.append(f"## {question.name}")
        for check in question_public:
            mark = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[check.outcome]
            line = f"- `{check.name}`: {mark} ({points_text(check.points)}/"
            line += f"{points_text(check.max_points)})"
            if check.message and check.outcome != "passed":
                line += f": {check.message}"
            lines.append(line)
        if question_hidden and show_hidden_scores:
            earned = sum(c.points for c in question_hidden)
            top = sum(c.max_points for c in question_hidden)
            skipped = sum(1 for c in question_hidden if c.outcome == "skipped")
            note = f", {skipped} skipped (needs a GPU)" if skipped else ""
            lines.append(f"- hidden checks: {points_text(earned)}/{points_text(top)}{note}")
        elif question_hidden:
            worth = points_text(sum(c.max_points for c in question_hidden))
            lines.append(f"- {len(question_hidden)} hidden check(s) worth {worth} points: "
                         "scores not shown")
        lines.append("")
    return "\n".join(lines)
