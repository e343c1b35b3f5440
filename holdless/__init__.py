"""Holdless: the spine shared by every part (settings, clock, CLI, Twilio gateway)."""
