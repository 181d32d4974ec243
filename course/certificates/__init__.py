"""Completion, certificates (PDF with QR), and public verification."""
