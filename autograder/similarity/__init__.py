"""Which submissions were copied from each other: a similarity report for the instructor.

Each answer cell is compared question by question after removing what the release gave;
shared code counts as much as few classmates wrote it. Evidence for a human, never a verdict.
"""
