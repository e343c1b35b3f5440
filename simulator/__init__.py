"""A local stand-in for Twilio (REST API and phone network)."""
