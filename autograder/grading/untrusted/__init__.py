"""Code that runs in the student's process, after student code has run there: untrusted.

It runs the notebook's cells and answers the judge's requests over the wire. Nothing here
computes a verdict or sees a test; it imports the wire format (``autograder.grading.wire``) and the
public check helpers' instruments (``autograder.kit.checks``), and nothing of the judge.
"""
