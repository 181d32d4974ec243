"""Reminders: deadlines, expiring certificates and the trainers' weekly overview, mailed through the
outbox by `flask course send-reminders`; people switch them off on their account page."""
