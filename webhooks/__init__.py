"""The Flask edge: app factory, Twilio signature check, voice/status webhooks, JSON API."""
