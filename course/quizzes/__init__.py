"""Quizzes: definitions from quizzes/, pure grading, attempt state, and the views."""
