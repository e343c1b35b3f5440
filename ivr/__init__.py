"""The caller's side: what they hear and which keys they may press (no Flask)."""
